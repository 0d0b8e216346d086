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

app_tests!(json_body_limits_differ_per_endpoint);

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
