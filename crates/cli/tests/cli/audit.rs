//! `infobank audit …` as a regulator uses it: proof files in the RFC 6962 vector format, a whole
//! log verified online and offline, and a flipped byte reported at its index.

use std::path::{Path, PathBuf};

use chrono::{Duration, Utc};
use infobank_audit::{Action, Actor, AuditEvent, append, merkle};
use infobank_db::diesel::RunQueryDsl as _;
use infobank_db::{DatabaseUrl, Pool, PoolOptions, write_transaction};
use serde_json::{Value, json};

use super::{PASSWORD, Server, infobank, run_with_stdin};

fn vector_files(kind: &str) -> Vec<(PathBuf, bool)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out)
            } else if path.extension().is_some_and(|e| e == "json") {
                out.push(path)
            }
        }
    }
    let mut files = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../audit/testdata/rfc6962")
            .join(kind),
        &mut files,
    );
    files
        .into_iter()
        .map(|p| {
            let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            let want_err = v["wantErr"].as_bool().unwrap();
            (p, want_err)
        })
        .collect()
}

#[test]
fn proof_files_get_the_right_exit_code_for_every_vector() {
    let cwd = tempfile::tempdir().unwrap();
    for (kind, command) in [("inclusion", "verify-inclusion"), ("consistency", "verify-consistency")] {
        let files = vector_files(kind);
        assert!(files.len() > 50);
        for (file, want_err) in files {
            let out = infobank(cwd.path())
                .args(["audit", command])
                .arg(&file)
                .output()
                .unwrap();
            let expected = if want_err { 1 } else { 0 };
            assert_eq!(
                out.status.code(),
                Some(expected),
                "{}: {}",
                file.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            if want_err {
                assert!(
                    String::from_utf8_lossy(&out.stderr).starts_with("invalid: "),
                    "a reason on stderr"
                );
            }
        }
    }
    let missing = infobank(cwd.path())
        .args(["audit", "verify-inclusion", "/no/such/file.json"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
}

/// Appends `n` events straight into the server's database, as a busy bank would have.
fn append_events(data_dir: &Path, n: u64) {
    let pool = Pool::open(
        DatabaseUrl::sqlite_file(data_dir.join("infobank.db")),
        &PoolOptions::default(),
    )
    .unwrap();
    let conn = &mut *pool.get().unwrap();
    let now = Utc::now();
    for batch in 0..n.div_ceil(500) {
        write_transaction(conn, |conn| {
            for i in batch * 500..((batch + 1) * 500).min(n) {
                let id = format!("acct-{i:06}");
                let event = AuditEvent::new(Action::AccountCreated, Actor::new("citizen", &id)).object("account", &id);
                append(conn, &event, now + Duration::milliseconds(i as i64))?;
            }
            Ok::<_, infobank_audit::AuditError>(())
        })
        .unwrap();
    }
}

/// The log's size: where the next appended events start (start-up itself writes leaves, e.g.
/// the reward policy's publication).
fn tree_size(data_dir: &Path) -> u64 {
    let pool = Pool::open(
        DatabaseUrl::sqlite_file(data_dir.join("infobank.db")),
        &PoolOptions::default(),
    )
    .unwrap();
    infobank_audit::log::tree_size(&mut pool.get().unwrap()).unwrap()
}

fn sql(data_dir: &Path, statement: &str) {
    let pool = Pool::open(
        DatabaseUrl::sqlite_file(data_dir.join("infobank.db")),
        &PoolOptions::default(),
    )
    .unwrap();
    let conn = &mut *pool.get().unwrap();
    infobank_db::diesel::sql_query(statement).execute(conn).unwrap();
}

fn verify_url(cwd: &Path, base: &str, token: &str) -> (i32, String, String) {
    // The token through the environment, as the docs suggest (it stays out of `ps`).
    let out = infobank(cwd)
        .args(["audit", "verify", "--url", base])
        .env("INFOBANK_TOKEN", token)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn verify_url_checks_thousands_of_entries_and_names_a_flipped_byte() {
    let cwd = tempfile::tempdir().unwrap();
    let (code, _, err) = run_with_stdin(
        cwd.path(),
        &["admin", "create-regulator", "--email", "fsa@gov.example.jp"],
        PASSWORD,
    );
    assert_eq!(code, 0, "{err}");
    let data = cwd.path().join("data");
    let offset = tree_size(&data);
    append_events(&data, 3000);
    let flipped = offset + 1234;
    let server = Server::start(infobank(cwd.path()));
    let (status, body) = server.call(
        "POST",
        "/api/v1/auth/login",
        Some(json!({"email": "fsa@gov.example.jp", "password": PASSWORD})),
    );
    assert_eq!(status, 200, "{body}");
    let token = serde_json::from_str::<Value>(&body).unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let (code, out, err) = verify_url(cwd.path(), &server.base, &token);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("valid: 300"), "{out}");

    // One byte of one stored leaf changes: that leaf no longer hashes to its recorded hash.
    sql(
        &data,
        &format!("UPDATE audit_leaves SET leaf = replace(leaf, 'acct-001234', 'acct-001235') WHERE idx = {flipped}"),
    );
    let (code, _, err) = verify_url(cwd.path(), &server.base, &token);
    assert_eq!(code, 1);
    assert!(err.contains(&format!("entry {flipped}")), "{err}");

    // A careful forger also rewrites the recorded hash; the signed root still gives it away.
    let forged: String = {
        let pool = Pool::open(
            DatabaseUrl::sqlite_file(data.join("infobank.db")),
            &PoolOptions::default(),
        )
        .unwrap();
        let conn = &mut *pool.get().unwrap();
        infobank_audit::log::entries(conn, flipped, flipped + 1)
            .unwrap()
            .remove(0)
            .leaf
    };
    let hex: String = merkle::leaf_hash(forged.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    sql(
        &data,
        &format!("UPDATE audit_leaves SET leaf_hash = X'{hex}' WHERE idx = {flipped}"),
    );
    let (code, _, err) = verify_url(cwd.path(), &server.base, &token);
    assert_eq!(code, 1);
    assert!(err.contains(&format!("entry {flipped}")), "{err}");

    let (code, _, err) = verify_url(cwd.path(), &server.base, "not-a-token");
    assert_eq!(code, 1);
    assert!(err.contains("401"), "{err}");
    server.stop();
}

#[test]
fn an_export_verifies_offline_and_a_changed_line_is_named() {
    let cwd = tempfile::tempdir().unwrap();
    let data = cwd.path().join("data");
    let server = Server::start(infobank(cwd.path()));
    let jwks = server.call("GET", "/.well-known/jwks.json", None).1;
    server.stop();
    let offset = tree_size(&data);
    append_events(&data, 1500);
    let total = offset + 1500;

    let sth = infobank(cwd.path()).args(["audit", "sth"]).output().unwrap();
    assert!(sth.status.success(), "{}", String::from_utf8_lossy(&sth.stderr));
    let head: Value = serde_json::from_slice(&sth.stdout).unwrap();
    assert_eq!(head["tree_size"], total);

    let export = cwd.path().join("log.jsonl");
    let out = infobank(cwd.path())
        .args(["audit", "export", "--out"])
        .arg(&export)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let sth_file = cwd.path().join("log.jsonl.sth.json");
    let jwks_file = cwd.path().join("jwks.json");
    std::fs::write(&jwks_file, jwks).unwrap();

    let verify = |extra: &[&str]| {
        let out = infobank(cwd.path())
            .args(["audit", "verify", "--log"])
            .arg(&export)
            .arg("--sth")
            .arg(&sth_file)
            .args(extra)
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, err) = verify(&["--jwks", jwks_file.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with(&format!("valid: {total} entries")), "{out}");
    // Without the bank's key, the key inside the export proves nothing about who signed it:
    // refused, unless asked for, and then said loudly.
    let (code, _, err) = verify(&[]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("--jwks") && err.contains("--trust-embedded-key"), "{err}");
    let (code, out, err) = verify(&["--trust-embedded-key"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with(&format!("valid: {total} entries")), "{out}");
    assert!(
        err.contains("WARNING") && err.contains("consistent with itself"),
        "says what the result proves: {err}"
    );

    let text = std::fs::read_to_string(&export).unwrap();
    let tampered: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i as u64 == offset + 777 {
                l.replace("acct-000777", "acct-000778")
            } else {
                l.to_owned()
            }
        })
        .collect();
    std::fs::write(&export, tampered.join("\n") + "\n").unwrap();
    let (code, _, err) = verify(&["--jwks", jwks_file.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains(&format!("entry {}", offset + 777)), "{err}");

    std::fs::write(&export, text).unwrap();
    let mut head: Value = serde_json::from_str(&std::fs::read_to_string(&sth_file).unwrap()).unwrap();
    head["tree_size"] = json!(total - 1);
    std::fs::write(&sth_file, head.to_string()).unwrap();
    let (code, _, err) = verify(&["--jwks", jwks_file.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("signature"), "{err}");
}

#[test]
fn reconcile_names_an_account_row_deleted_beside_the_log() {
    let cwd = tempfile::tempdir().unwrap();
    let data = cwd.path().join("data");
    let server = Server::start(infobank(cwd.path()));
    let email = "reconcile@example.jp";
    let token = super::sign_up_and_in(&server, email);
    let me: Value = ureq::get(&format!("{}/api/v1/me", server.base))
        .set("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap()
        .into_json()
        .unwrap();
    server.stop();
    let id = me["id"].as_str().unwrap().to_owned();
    let reconcile = || {
        let out = infobank(cwd.path()).args(["audit", "reconcile"]).output().unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, err) = reconcile();
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("consistent: ") && out.contains("1 accounts"), "{out}");

    sql(&data, &format!("DELETE FROM accounts WHERE id = '{id}'"));
    let (code, _, err) = reconcile();
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!("accounts {id}: the log records its creation")),
        "{err}"
    );
    assert!(err.contains("invalid: 1 mismatches"), "{err}");
}
