//! A backup taken while the server runs, restored into a fresh data directory with the key
//! directory restored apart: every record reads back, and without the keys nothing does.

use serde_json::{Value, json};

use super::{Server, infobank, sign_up_and_in};

fn records(server: &Server, token: &str) -> (u16, Value) {
    match ureq::get(&format!("{}/api/v1/me/records", server.base))
        .set("Authorization", &format!("Bearer {token}"))
        .call()
    {
        Ok(r) => (r.status(), r.into_json().unwrap()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_json().unwrap_or(Value::Null)),
        Err(e) => panic!("{e}"),
    }
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[test]
fn a_backup_restores_into_a_fresh_data_directory_with_every_record_readable() {
    let live = tempfile::tempdir().unwrap();
    let server = Server::start(infobank(live.path()));
    let token = sign_up_and_in(&server, "backup@example.jp");
    for data in [
        json!({"category": "residence", "data": {"prefecture": "Kyoto", "city": "Sakyo", "postal_code": "606-8501"}}),
        json!({"category": "hobbies", "data": {"items": ["shogi", "tea"]}}),
        json!({"category": "daily_mood", "data": {"date": "2026-11-20", "score": 5, "note": "backup day"}}),
    ] {
        let r = ureq::post(&format!("{}/api/v1/me/records", server.base))
            .set("Authorization", &format!("Bearer {token}"))
            .send_json(data)
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    let (_, before) = records(&server, &token);

    // Online backup while the server keeps serving; the keys are copied apart.
    let vault = tempfile::tempdir().unwrap();
    let backup = vault.path().join("infobank-backup.db");
    let out = infobank(live.path())
        .args(["backup", "--out"])
        .arg(&backup)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let again = infobank(live.path())
        .args(["backup", "--out"])
        .arg(&backup)
        .output()
        .unwrap();
    assert!(!again.status.success(), "an existing file is never overwritten");
    let keys_backup = vault.path().join("keys");
    copy_dir(&live.path().join("data").join("keys"), &keys_backup);
    server.stop();

    // Restore into a fresh directory: the database file, and the keys from their own backup.
    let fresh = tempfile::tempdir().unwrap();
    let data = fresh.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::copy(&backup, data.join("infobank.db")).unwrap();
    let restored_keys = fresh.path().join("restored-keys");
    copy_dir(&keys_backup, &restored_keys);
    let mut cmd = infobank(fresh.path());
    cmd.env("INFOBANK_KEY_DIR", &restored_keys);
    let restored = Server::start(cmd);
    let (status, body) = restored.call(
        "POST",
        "/api/v1/auth/login",
        Some(json!({"email": "backup@example.jp", "password": super::PASSWORD})),
    );
    assert_eq!(status, 200, "{body}");
    let token = serde_json::from_str::<Value>(&body).unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, after) = records(&restored, &token);
    assert_eq!(status, 200);
    assert_eq!(after, before, "every record reads back, unchanged");
    restored.stop();

    // The database alone, with other keys, opens nothing: not even the sign-in finds the account
    // (emails are looked up by a keyed hash). Keys and database are kept apart for this reason.
    let keyless = tempfile::tempdir().unwrap();
    let data = keyless.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::copy(&backup, data.join("infobank.db")).unwrap();
    let stranger = Server::start(infobank(keyless.path()));
    let (status, _) = stranger.call(
        "POST",
        "/api/v1/auth/login",
        Some(json!({"email": "backup@example.jp", "password": super::PASSWORD})),
    );
    stranger.stop();
    assert_eq!(status, 401);
}

/// Pointed at the wrong directory, the commands that work on an installation's database and keys
/// fail and create nothing: no new empty database copied as a "backup", no new key set rotated.
#[test]
fn backup_and_key_commands_in_a_wrong_directory_fail_and_create_nothing() {
    let empty = tempfile::tempdir().unwrap();
    let out_file = empty.path().join("backup.db");
    for args in [
        vec!["backup", "--out", out_file.to_str().unwrap()],
        vec!["keys", "status"],
        vec!["keys", "rotate"],
    ] {
        let out = infobank(empty.path()).args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains("no database there"), "{args:?}: {stderr}");
        assert_eq!(
            std::fs::read_dir(empty.path()).unwrap().count(),
            0,
            "{args:?} created something"
        );
    }

    // A database without its key set is refused too (the keys are kept apart, and may be missing).
    let live = tempfile::tempdir().unwrap();
    Server::start(infobank(live.path())).stop();
    let mut cmd = infobank(live.path());
    let elsewhere = empty.path().join("keys");
    let out = cmd
        .env("INFOBANK_KEY_DIR", &elsewhere)
        .args(["keys", "rotate"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("holds no key set"), "{stderr}");
    assert!(!elsewhere.exists());
}
