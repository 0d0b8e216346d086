//! `infobank keys …` while a server is serving: rotate, keep reading, retire, restart.

use serde_json::{Value, json};

use super::{PASSWORD, Server, infobank};

fn keys_cli(cwd: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = infobank(cwd).arg("keys").args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn records(server: &Server, token: &str) -> Value {
    let r = ureq::get(&format!("{}/api/v1/me/records", server.base))
        .set("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap();
    r.into_json().unwrap()
}

#[test]
fn keys_rotate_while_serving_then_retire_the_old_key() {
    let cwd = tempfile::tempdir().unwrap();
    let server = Server::start(infobank(cwd.path()));
    let (status, _) = server.call(
        "POST",
        "/api/v1/citizens",
        Some(json!({"email": "keys@example.jp", "password": PASSWORD, "display_name": "K"})),
    );
    assert_eq!(status, 201);
    let (_, body) = server.call(
        "POST",
        "/api/v1/auth/login",
        Some(json!({"email": "keys@example.jp", "password": PASSWORD})),
    );
    let token = serde_json::from_str::<Value>(&body).unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let record = ureq::post(&format!("{}/api/v1/me/records", server.base))
        .set("Authorization", &format!("Bearer {token}"))
        .send_json(json!({"category": "hobbies", "data": {"items": ["shogi"]}}))
        .unwrap();
    assert_eq!(record.status(), 201);
    let before = records(&server, &token);

    let (code, out, err) = keys_cli(cwd.path(), &["retire", "1"]);
    assert_eq!(code, 1, "{out}");
    assert!(err.contains("current key"), "{err}");

    let (code, out, err) = keys_cli(cwd.path(), &["rotate", "--batch-size", "1"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("created kek v2") && out.contains("re-wrapped 1 data keys"),
        "{out}"
    );
    let (_, status, _) = keys_cli(cwd.path(), &["status"]);
    assert_eq!(status, "kek v1: 0 data keys\nkek v2: 1 data keys\n");

    // The running server follows: the record still opens, and a new sign-up gets the new key.
    assert_eq!(records(&server, &token), before);
    let (status, _) = server.call(
        "POST",
        "/api/v1/citizens",
        Some(json!({"email": "late@example.jp", "password": PASSWORD, "display_name": "L"})),
    );
    assert_eq!(status, 201);
    let (_, status, _) = keys_cli(cwd.path(), &["status"]);
    assert_eq!(status, "kek v1: 0 data keys\nkek v2: 2 data keys\n");

    let (code, out, err) = keys_cli(cwd.path(), &["retire", "1"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("retired kek v1"));
    assert!(!cwd.path().join("data/keys/kek.v1.key").exists());
    assert_eq!(records(&server, &token), before);
    server.stop();

    // After a restart, with v1 gone for good, everything still opens.
    let server = Server::start(infobank(cwd.path()));
    let (_, body) = server.call(
        "POST",
        "/api/v1/auth/login",
        Some(json!({"email": "keys@example.jp", "password": PASSWORD})),
    );
    let token = serde_json::from_str::<Value>(&body).unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(records(&server, &token), before);
    server.stop();

    let (code, _, err) = keys_cli(cwd.path(), &["retire", "7"]);
    assert_eq!(code, 1);
    assert!(err.contains("current key") || err.contains("no kek v7"), "{err}");
}

/// A rotation killed after creating the new KEK (or part-way through re-wrapping), or staged with
/// `--stage`, leaves keys on the old version: the next `keys rotate` (or `--finish`) finishes
/// that rotation instead of starting another.
#[test]
fn an_interrupted_rotation_is_finished_by_the_next_run() {
    let cwd = tempfile::tempdir().unwrap();
    let server = Server::start(infobank(cwd.path()));
    for i in 0..3 {
        let (status, _) = server.call(
            "POST",
            "/api/v1/citizens",
            Some(json!({"email": format!("r{i}@example.jp"), "password": PASSWORD, "display_name": "R"})),
        );
        assert_eq!(status, 201);
    }
    server.stop();
    // What `keys rotate` leaves when killed right after writing kek v2, and what `--stage` leaves
    // on purpose (a second stage is refused until that rotation is done).
    let (code, out, err) = keys_cli(cwd.path(), &["rotate", "--stage"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("created kek v2"), "{out}");
    let (code, _, err) = keys_cli(cwd.path(), &["rotate", "--stage"]);
    assert_eq!(code, 1);
    assert!(err.contains("kek v2 is staged or half-way"), "{err}");
    let (_, status, _) = keys_cli(cwd.path(), &["status"]);
    assert_eq!(status, "kek v1: 3 data keys\nkek v2: 0 data keys\n");

    let (code, out, err) = keys_cli(cwd.path(), &["rotate"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("finishing the rotation to kek v2") && out.contains("re-wrapped 3 data keys"),
        "{out}"
    );
    // Finishing again re-wraps nothing and never creates a version the nodes were not given.
    let (code, out, err) = keys_cli(cwd.path(), &["rotate", "--finish"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("re-wrapped 0 data keys"), "{out}");
    assert!(
        !cwd.path().join("data/keys/kek.v3.key").exists(),
        "no new version while one is unfinished"
    );
    let (_, status, _) = keys_cli(cwd.path(), &["status"]);
    assert_eq!(status, "kek v1: 0 data keys\nkek v2: 3 data keys\n");
}

fn jwks_kids(server: &Server) -> Vec<String> {
    let (_, body) = server.call("GET", "/.well-known/jwks.json", None);
    let jwks: Value = serde_json::from_str(&body).unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

fn kid_of(token: &str) -> String {
    use base64::Engine as _;
    let header = token.split('.').next().unwrap();
    let header: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

fn me(server: &Server, token: &str) -> u16 {
    match ureq::get(&format!("{}/api/v1/me", server.base))
        .set("Authorization", &format!("Bearer {token}"))
        .call()
    {
        Ok(r) => r.status(),
        Err(ureq::Error::Status(code, _)) => code,
        Err(e) => panic!("{e}"),
    }
}

/// `keys rotate-signing`: after a restart the new key signs, a token the old key signed still
/// works, and the JWKS carries both (then the log's key). `keys retire-signing` drops the old one.
#[test]
fn signing_key_rotation_keeps_old_tokens_until_the_old_key_is_retired() {
    let cwd = tempfile::tempdir().unwrap();
    let server = Server::start(infobank(cwd.path()));
    let old_token = super::sign_up_and_in(&server, "rotate@example.jp");
    let old_kid = kid_of(&old_token);
    let before = jwks_kids(&server);
    assert_eq!(before.len(), 2, "token key and log key");
    assert_eq!(before[0], old_kid);
    server.stop();

    let (code, out, err) = keys_cli(cwd.path(), &["rotate-signing"]);
    assert_eq!(code, 0, "{err}");
    let server = Server::start(infobank(cwd.path()));
    let kids = jwks_kids(&server);
    assert_eq!(kids.len(), 3, "{kids:?}");
    assert!(out.contains(&kids[0]), "the new key id is printed: {out}");
    assert_eq!(kids[1], old_kid);
    assert_eq!(kids[2], before[1], "the log's key is untouched");
    assert_eq!(me(&server, &old_token), 200);
    let (_, body) = server.call(
        "POST",
        "/api/v1/auth/login",
        Some(json!({"email": "rotate@example.jp", "password": PASSWORD})),
    );
    let new_token = serde_json::from_str::<Value>(&body).unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(kid_of(&new_token), kids[0]);
    server.stop();

    let (code, _, err) = keys_cli(cwd.path(), &["retire-signing", &kids[0]]);
    assert_eq!(code, 1, "the current key cannot be retired");
    assert!(err.contains("not an earlier token-signing key"), "{err}");
    let (code, _, err) = keys_cli(cwd.path(), &["retire-signing", &old_kid]);
    assert_eq!(code, 0, "{err}");
    let server = Server::start(infobank(cwd.path()));
    assert_eq!(jwks_kids(&server), [kids[0].clone(), kids[2].clone()]);
    assert_eq!(me(&server, &old_token), 401);
    assert_eq!(me(&server, &new_token), 200);
    server.stop();
}
