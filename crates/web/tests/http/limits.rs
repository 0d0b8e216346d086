//! Request limits: body sizes per endpoint, and a database pool that runs dry answering 503
//! `database_busy` (with Retry-After) instead of holding the request until a connection frees.

use std::time::Duration;

use infobank_db::PoolOptions;
use infobank_testkit::{TestApp, TestDb, app_tests};
use serde_json::json;

use crate::{PASSWORD, unique_email};

fn citizen_token(app: &TestApp) -> String {
    let email = unique_email("limits");
    app.sign_up(&email, PASSWORD);
    app.token(&email, PASSWORD)
}

fn post_with_token(app: &TestApp, path: &str, token: &str, body: &serde_json::Value) -> infobank_testkit::Response {
    let req = app
        .request("POST", path)
        .set("Authorization", &format!("Bearer {token}"));
    app.send_bytes(req.set("Content-Type", "application/json"), body.to_string().as_bytes())
}

/// Sign-in takes at most 32 KiB; a record may be as large as the configured JSON limit (64 KiB
/// in the test server), so 40 KiB reaches the record's validation and 70 KiB does not.
fn json_body_limits_differ_per_endpoint(app: &TestApp) {
    let big = "x".repeat(40 * 1024);
    app.post_json("/api/v1/auth/login", &json!({"email": "a@example.jp", "password": big}))
        .assert_problem(413, "payload_too_large");
    app.post_json(
        "/api/v1/citizens",
        &json!({"email": "a@example.jp", "password": big, "display_name": "A"}),
    )
    .assert_problem(413, "payload_too_large");

    let token = citizen_token(app);
    let mood = |note: &str| json!({"category": "daily_mood", "data": {"date": "2026-11-01", "score": 3, "note": note}});
    // Read, parsed and refused by the category's rule (a note is at most 500 characters).
    post_with_token(app, "/api/v1/me/records", &token, &mood(&big)).assert_problem(422, "validation_failed");
    let huge = "x".repeat(70 * 1024);
    post_with_token(app, "/api/v1/me/records", &token, &mood(&huge)).assert_problem(413, "payload_too_large");
    // Within every limit, the same request is stored.
    assert_eq!(
        post_with_token(app, "/api/v1/me/records", &token, &mood("fine")).status,
        201
    );
}

/// PostgreSQL text cannot hold U+0000: a NUL in an id, a cursor, a body field or a client id is
/// the client's bad input (4xx with a problem code), never a 500, on either database.
fn nul_characters_are_bad_input_not_server_errors(app: &TestApp) {
    let token = citizen_token(app);
    for path in [
        "/api/v1/me/records/%00",
        "/api/v1/me/coins?before=%00",
        "/api/v1/me/records?after=a%00b",
        "/api/v1/me/consents/%00",
    ] {
        app.get_with_token(path, &token).assert_problem(400, "invalid_request");
    }
    app.get("/api/v1/companies?after=%00")
        .assert_problem(400, "invalid_request");

    let accepted = post_with_token(app, "/api/v1/me/consents", &token, &json!({"offer_id": "\u{0}"}));
    // SQLite stores the NUL and finds no such offer (409 offer_not_open); PostgreSQL refuses it (400).
    assert!(
        matches!(accepted.status, 400 | 409),
        "{} {}",
        accepted.status,
        accepted.body
    );
    accepted.assert_problem(accepted.status, accepted.json()["code"].as_str().unwrap());

    use base64::Engine as _;
    let basic = base64::engine::general_purpose::STANDARD.encode(b"a\0b:secret");
    let token_request = app
        .request("POST", "/api/v1/oauth/token")
        .set("Authorization", &format!("Basic {basic}"))
        .set("Content-Type", "application/x-www-form-urlencoded");
    let refused = app.send_bytes(token_request, b"grant_type=client_credentials");
    assert!(
        matches!(refused.status, 400 | 401),
        "{} {}",
        refused.status,
        refused.body
    );
}

app_tests!(
    json_body_limits_differ_per_endpoint,
    nul_characters_are_bad_input_not_server_errors
);

/// Every connection of a two-connection pool is held by someone else: the request waits the
/// pool's timeout, then gets 503 with Retry-After; once a connection frees, the same request works.
fn exhausted_pool_answers_503_then_recovers(db: TestDb) {
    let pool = db.pool_with(&PoolOptions {
        max_size: 2,
        connection_timeout: Duration::from_millis(300),
    });
    let app = TestApp::spawn_on(db, pool);
    let token = citizen_token(&app);

    let held = [app.pool.get().unwrap(), app.pool.get().unwrap()];
    let busy = app.get_with_token("/api/v1/me/records", &token);
    busy.assert_problem(503, "database_busy");
    assert_eq!(busy.header("retry-after"), Some("1"));
    assert_eq!(app.get("/readyz").status, 503);

    drop(held);
    assert_eq!(app.get_with_token("/api/v1/me/records", &token).status, 200);
}

mod pool_exhaustion {
    #[test]
    fn sqlite() {
        super::exhausted_pool_answers_503_then_recovers(infobank_testkit::TestDb::sqlite());
    }

    #[test]
    fn postgres() {
        if let Some(db) = infobank_testkit::TestDb::postgres() {
            super::exhausted_pool_answers_503_then_recovers(db);
        }
    }
}
