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
    // Within every limit, the same request is stored; updating it has the record's limit too.
    let stored = post_with_token(app, "/api/v1/me/records", &token, &mood("fine"));
    assert_eq!(stored.status, 201);
    let path = format!("/api/v1/me/records/{}", stored.json()["id"].as_str().unwrap());
    let put = |body: &serde_json::Value| {
        let req = app
            .request("PUT", &path)
            .set("Authorization", &format!("Bearer {token}"))
            .set("Content-Type", "application/json");
        app.send_bytes(req, body.to_string().as_bytes())
    };
    put(&json!({"data": {"date": "2026-11-01", "score": 3, "note": big}})).assert_problem(422, "validation_failed");
    put(&json!({"data": {"date": "2026-11-01", "score": 3, "note": huge}})).assert_problem(413, "payload_too_large");
}

/// A decision's body may be left out (approving needs no reason), but a body that is there must
/// be JSON: a malformed one is 400 before anything is decided, not taken as "no reason".
fn an_optional_body_that_is_sent_must_be_json(app: &TestApp) {
    let email = unique_email("operator");
    crate::create_staff(app, infobank_accounts::Role::Operator, &email);
    let operator = app.token(&email, PASSWORD);
    let path = "/api/v1/operator/offers/0190a3c2-0000-7000-8000-000000000000/approve";
    let decide = |content_type: Option<&str>, body: &[u8]| {
        let mut req = app
            .request("POST", path)
            .set("Authorization", &format!("Bearer {operator}"));
        if let Some(ct) = content_type {
            req = req.set("Content-Type", ct);
        }
        app.send_bytes(req, body)
    };
    decide(Some("application/json"), b"{\"reason\": ").assert_problem(400, "malformed_json");
    decide(Some("text/plain"), b"ok").assert_problem(415, "unsupported_media_type");
    // No body, or an empty object: the decision goes ahead (and finds no such offer).
    decide(None, b"").assert_problem(404, "not_found");
    decide(Some("application/json"), b"{}").assert_problem(404, "not_found");
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
    // SQLite can hold the NUL and finds no such offer; PostgreSQL refuses the text itself.
    match app.db.backend() {
        infobank_db::Backend::Postgres => accepted.assert_problem(400, "invalid_request"),
        infobank_db::Backend::Sqlite => accepted.assert_problem(409, "offer_not_open"),
    };

    use base64::Engine as _;
    let basic = base64::engine::general_purpose::STANDARD.encode(b"a\0b:secret");
    let token_request = app
        .request("POST", "/api/v1/oauth/token")
        .set("Authorization", &format!("Basic {basic}"))
        .set("Content-Type", "application/x-www-form-urlencoded");
    app.send_bytes(token_request, b"grant_type=client_credentials")
        .assert_problem(401, "invalid_client");
}

/// A browser percent-encodes each byte of a Japanese character (9 bytes a character): an offer's
/// 2,000-character description must still reach the handler (here, the sign-in redirect of a
/// visitor without a company session), and only a body past the portal's limit is 413.
fn portal_forms_fit_a_japanese_offer(app: &TestApp) {
    let form = app.get("/company/signin");
    let csrf = crate::cookie_value(&form, "infobank_csrf");
    let cookie = format!("infobank_csrf={csrf}");
    let description = "米".repeat(2_000);
    let offer = |description: &str| {
        app.post_form(
            "/company/offers",
            &cookie,
            &[
                ("csrf_token", &csrf),
                ("title", "お米のクーポン"),
                ("description", description),
            ],
        )
    };
    let fits = offer(&description);
    assert_eq!((fits.status, fits.header("location")), (303, Some("/company/signin")));
    offer(&"米".repeat(8_000)).assert_problem(413, "payload_too_large");
}

app_tests!(
    portal_forms_fit_a_japanese_offer,
    json_body_limits_differ_per_endpoint,
    nul_characters_are_bad_input_not_server_errors,
    an_optional_body_that_is_sent_must_be_json
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

/// Every way to guess a password or a client secret shares one per-address bucket: the portal's
/// sign-in form and the API's sign-in for people, the company portal's sign-in and the token
/// endpoint for client credentials. Over the limit the form answers its error page with 429 and
/// Retry-After, before any credential is checked.
fn portal_sign_in_forms_share_the_api_rate_limits(db: TestDb) {
    let limits = infobank_web::limits::RateLimits {
        login: Some(infobank_web::limits::Limiter::new(0.001, 3)),
        token: Some(infobank_web::limits::Limiter::new(0.001, 3)),
        ..Default::default()
    };
    let app = TestApp::spawn_limited(db, limits);
    let form = app.get("/signin");
    let csrf = crate::cookie_value(&form, "infobank_csrf");
    let cookie = format!("infobank_csrf={csrf}");
    let refused_page = |r: &infobank_testkit::Response| {
        assert_eq!(r.status, 429, "{}", r.body);
        assert!(r.header("content-type").is_some_and(|c| c.starts_with("text/html")));
        assert!(r.header("retry-after").is_some_and(|s| s.parse::<u64>().unwrap() >= 1));
        assert!(r.body.contains("Too many sign-in attempts"), "{}", r.body);
    };

    let email = unique_email("guessed");
    app.sign_up(&email, PASSWORD);
    // Cross-site posts (no CSRF token) are refused before they count: another site cannot
    // spend its visitors' sign-in attempts.
    for _ in 0..5 {
        let forged = app.post_form("/signin", &cookie, &[("email", &email), ("password", "x")]);
        assert_eq!(forged.status, 403, "{}", forged.body);
    }
    let guess = |password: &str| {
        app.post_form(
            "/signin",
            &cookie,
            &[("csrf_token", &csrf), ("email", &email), ("password", password)],
        )
    };
    assert_eq!(guess("wrong password one").status, 401);
    assert_eq!(guess("wrong password two").status, 401);
    app.post_json(
        "/api/v1/auth/login",
        &json!({"email": email, "password": "wrong password three"}),
    )
    .assert_problem(401, "invalid_credentials");
    // The fourth attempt is refused even with the right password: the address is over its limit.
    refused_page(&guess(PASSWORD));
    app.post_json("/api/v1/auth/login", &json!({"email": email, "password": PASSWORD}))
        .assert_problem(429, "rate_limited");

    let company_guess = |secret: &str| {
        app.post_form(
            "/company/signin",
            &cookie,
            &[
                ("csrf_token", &csrf),
                ("client_id", "ibc_nobody"),
                ("client_secret", secret),
            ],
        )
    };
    assert_eq!(company_guess("ibs_one").status, 401);
    assert_eq!(company_guess("ibs_two").status, 401);
    let token_request = |secret: &str| crate::consent::company_token(&app, "ibc_nobody", secret);
    token_request("ibs_three").assert_problem(401, "invalid_client");
    refused_page(&company_guess("ibs_four"));
    token_request("ibs_five").assert_problem(429, "rate_limited");
}

mod portal_sign_in_limits {
    #[test]
    fn sqlite() {
        super::portal_sign_in_forms_share_the_api_rate_limits(infobank_testkit::TestDb::sqlite());
    }

    #[test]
    fn postgres() {
        if let Some(db) = infobank_testkit::TestDb::postgres() {
            super::portal_sign_in_forms_share_the_api_rate_limits(db);
        }
    }
}
