//! `infobank company …` as the operator uses it in an incident: approve an application, suspend
//! the company, reset its leaked credentials (only the new secret works, after reinstatement).

use base64::Engine as _;
use serde_json::{Value, json};

use super::{Server, infobank};

fn company_cli(cwd: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = infobank(cwd).arg("company").args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn token_status(server: &Server, client_id: &str, secret: &str) -> u16 {
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:{secret}"));
    match ureq::post(&format!("{}/api/v1/oauth/token", server.base))
        .set("Authorization", &format!("Basic {basic}"))
        .set("Content-Type", "application/x-www-form-urlencoded")
        .send_string("grant_type=client_credentials")
    {
        Ok(r) => r.status(),
        Err(ureq::Error::Status(code, _)) => code,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn the_operator_suspends_a_company_and_resets_its_credentials() {
    let cwd = tempfile::tempdir().unwrap();
    let server = Server::start(infobank(cwd.path()));
    let (status, body) = server.call(
        "POST",
        "/api/v1/companies",
        Some(json!({
            "legal_name": "Leaky K.K.", "corporate_number": "7000012050002",
            "contact_email": "dpo@leaky.example.jp", "privacy_policy_url": "https://leaky.example.jp/p",
            "security_certification": {"kind": "ISMS", "id": "IS 1", "expires_on": "2099-03-31"},
        })),
    );
    assert_eq!(status, 201, "{body}");
    let applied: Value = serde_json::from_str(&body).unwrap();
    let (id, client_id, leaked) = (
        applied["id"].as_str().unwrap(),
        applied["client_id"].as_str().unwrap(),
        applied["client_secret"].as_str().unwrap(),
    );

    let (code, out, err) = company_cli(cwd.path(), &["approve", id]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("is now approved"), "{out}");
    assert_eq!(token_status(&server, client_id, leaked), 200);
    let (code, _, err) = company_cli(cwd.path(), &["suspend", id, "--reason", "secret posted online"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(token_status(&server, client_id, leaked), 403);

    let (code, out, err) = company_cli(cwd.path(), &["reset-secret", id]);
    assert_eq!(code, 0, "{err}");
    let fresh: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(fresh["client_id"], client_id);
    let fresh_secret = fresh["client_secret"].as_str().unwrap();
    assert!(fresh_secret.starts_with("ibs_") && fresh_secret != leaked);
    let (code, _, err) = company_cli(cwd.path(), &["approve", id, "--reason", "new credentials issued"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        token_status(&server, client_id, leaked),
        401,
        "the leaked secret is dead"
    );
    assert_eq!(token_status(&server, client_id, fresh_secret), 200);

    let (code, _, err) = company_cli(cwd.path(), &["reset-secret", "0190a3c2-0000-7000-8000-000000000000"]);
    assert_eq!(code, 1);
    assert!(err.contains("not found"), "{err}");
    let logs = server.stop();
    assert!(
        !logs.contains(fresh_secret) && !logs.contains(leaked),
        "no secret in the logs"
    );
}
