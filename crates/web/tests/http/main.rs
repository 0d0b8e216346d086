//! The HTTP contract, black-box, on a real server over SQLite and PostgreSQL: service endpoints,
//! sign-up and sign-in, every bad input of the foundation issue, brute-force throttling, tokens
//! per role, security headers, and the portal's session and CSRF handling.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)] // tests use the real clock

use chrono::{Duration, Utc};
use infobank_accounts::{NewAccount, Role, create_account};
use infobank_crypto::TokenSigner;
use infobank_testkit::{Response, TestApp, app_tests};
use serde_json::json;

mod audit;
mod coins;
mod consent;
mod consent_portal;
mod declines;
mod disclose_less;
mod limits;
mod mydata;
mod oversight;
mod vault;

const PASSWORD: &str = "correct horse battery staple";

fn unique_email(tag: &str) -> String {
    format!("{tag}-{}@example.jp", Utc::now().timestamp_nanos_opt().unwrap())
}

pub(crate) fn create_staff(app: &TestApp, role: Role, email: &str) -> String {
    let keys = app.keys();
    let conn = &mut *app.pool.get().unwrap();
    let new = NewAccount {
        role,
        email,
        password: PASSWORD,
        display_name: "Staff",
    };
    create_account(conn, &keys, &new, Utc::now()).unwrap()
}

// ---- service endpoints -------------------------------------------------------------------

fn service_endpoints_answer(app: &TestApp) {
    assert_eq!(app.get("/healthz").status, 200);
    let ready = app.get("/readyz");
    assert_eq!((ready.status, ready.json()["status"].as_str()), (200, Some("ready")));

    let jwks = app.get("/.well-known/jwks.json").json();
    assert_eq!(jwks["keys"][0]["kty"], "OKP");
    assert_eq!(jwks["keys"][0]["alg"], "EdDSA");

    let spec = app.get("/api/openapi.json");
    assert_eq!(spec.status, 200);
    let spec = spec.json();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    for path in ["/api/v1/citizens", "/api/v1/auth/login", "/api/v1/me", "/readyz"] {
        assert!(spec["paths"][path].is_object(), "OpenAPI lacks {path}");
    }
    let docs = app.get("/api/docs/");
    assert_eq!(docs.status, 200);
    assert!(docs.body.contains("swagger"), "Swagger UI not served");
    assert_eq!(app.get("/api/docs").status, 308);
}

fn metrics_count_requests_by_route_and_status(app: &TestApp) {
    app.get("/healthz");
    app.get("/no/such/page");
    app.sign_up(&unique_email("metrics"), PASSWORD);
    let metrics = app.get("/metrics");
    assert_eq!(metrics.status, 200);
    assert!(metrics.header("content-type").unwrap().starts_with("text/plain"));
    let text = metrics.body;
    assert!(
        text.contains(r#"infobank_http_requests_total{method="GET",route="/healthz",status="200"}"#),
        "{text}"
    );
    assert!(
        text.contains(r#"route="unmatched",status="404""#),
        "unknown paths must not become labels: {text}"
    );
    assert!(text.contains("infobank_http_request_duration_seconds_bucket"));
    assert!(!text.contains("/no/such/page"));
    // SQLite's writes go through the group commit, which counts its commits and their jobs (the
    // sign-up above is one job at least); PostgreSQL has no group commit: they stay at zero.
    let gauge = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .map(|v| v.parse::<u64>().unwrap())
    };
    match app.db.backend() {
        infobank_db::Backend::Sqlite => {
            let (commits, jobs) = (
                gauge("infobank_sqlite_group_commits").unwrap(),
                gauge("infobank_sqlite_group_jobs").unwrap(),
            );
            assert!(commits >= 1 && jobs >= commits, "{commits} commits, {jobs} jobs");
        }
        infobank_db::Backend::Postgres => assert_eq!(gauge("infobank_sqlite_group_jobs"), Some(0)),
    }
}

fn every_response_carries_security_headers_and_a_request_id(app: &TestApp) {
    for r in [app.get("/healthz"), app.get("/signin"), app.get("/nope")] {
        let csp = r.header("content-security-policy").unwrap();
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"));
        assert!(!csp.contains("unsafe-inline"));
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
        assert!(r.header("x-request-id").is_some_and(|id| id.len() >= 16));
        // Plain HTTP (the test server): HSTS is the TLS proxy's, or `serve --tls-cert`'s, to send.
        assert_eq!(r.header("strict-transport-security"), None);
    }
    let echoed = app.send(app.request("GET", "/healthz").set("X-Request-Id", "trace-abc_123"));
    assert_eq!(echoed.header("x-request-id"), Some("trace-abc_123"));
    let replaced = app.send(app.request("GET", "/healthz").set("X-Request-Id", "bad id\twith junk"));
    assert_ne!(replaced.header("x-request-id"), Some("bad id\twith junk"));
}

// ---- sign-up and sign-in -------------------------------------------------------------------

fn citizen_signs_up_signs_in_and_reads_own_profile(app: &TestApp) {
    let email = unique_email("Hanako");
    let id = app.sign_up(&email, PASSWORD);
    let login = app.login(&email.to_uppercase(), PASSWORD);
    assert_eq!(login.status, 200, "{}", login.body);
    let body = login.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["role"], "citizen");
    let me = app.get_with_token("/api/v1/me", body["access_token"].as_str().unwrap());
    assert_eq!(me.status, 200, "{}", me.body);
    let me = me.json();
    assert_eq!(me["id"], id.as_str());
    assert_eq!(me["email"], email.to_lowercase());
    assert_eq!(me["display_name"], "Test Citizen");
}

fn bad_inputs_get_their_status_and_code(app: &TestApp) {
    let send_raw = |body: &str| {
        app.send_bytes(
            app.request("POST", "/api/v1/citizens")
                .set("Content-Type", "application/json"),
            body.as_bytes(),
        )
    };
    send_raw(r#"{"email": "a@b.jp", "password": "#).assert_problem(400, "malformed_json");
    send_raw("not json at all").assert_problem(400, "malformed_json");

    let invalid = app
        .post_json(
            "/api/v1/citizens",
            &json!({"email": "not-an-email", "password": "short", "display_name": "  "}),
        )
        .assert_problem(422, "validation_failed");
    let fields: Vec<&str> = invalid["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["display_name", "email", "password"]);

    for (password, ok) in [
        ("a".repeat(11), false),
        ("a".repeat(12), true),
        ("a".repeat(128), true),
        ("a".repeat(129), false),
    ] {
        let r = app.post_json(
            "/api/v1/citizens",
            &json!({"email": unique_email("len"), "password": password, "display_name": "X"}),
        );
        if ok {
            assert_eq!(r.status, 201, "{} chars: {}", password.len(), r.body);
        } else {
            let p = r.assert_problem(422, "validation_failed");
            assert_eq!(p["errors"][0]["field"], "password");
        }
    }

    let missing = app
        .post_json("/api/v1/citizens", &json!({"email": "x@example.jp"}))
        .assert_problem(422, "validation_failed");
    assert_eq!(missing["errors"][0]["field"], "password");
    let typo = app
        .post_json(
            "/api/v1/citizens",
            &json!({"email": "x@example.jp", "pasword": PASSWORD, "display_name": "X"}),
        )
        .assert_problem(422, "validation_failed");
    assert_eq!(typo["errors"][0]["field"], "pasword");

    let huge = format!(
        r#"{{"email": "{}@example.jp", "password": "x", "display_name": "x"}}"#,
        "a".repeat(70 * 1024)
    );
    send_raw(&huge).assert_problem(413, "payload_too_large");

    app.send_bytes(
        app.request("POST", "/api/v1/citizens")
            .set("Content-Type", "text/plain"),
        b"{}",
    )
    .assert_problem(415, "unsupported_media_type");

    app.get("/api/v1/no-such-thing").assert_problem(404, "not_found");
    let wrong_method = app.send(app.request("DELETE", "/api/v1/auth/login"));
    wrong_method.assert_problem(405, "method_not_allowed");
    assert_eq!(wrong_method.header("allow"), Some("POST"));
    let wrong_method = app.send(app.request("PATCH", "/api/v1/me/records/x"));
    wrong_method.assert_problem(405, "method_not_allowed");
    assert_eq!(wrong_method.header("allow"), Some("GET, PUT, DELETE"));
    app.get("/api/v1/citizens").assert_problem(405, "method_not_allowed");
    let portal = app.send(app.request("PUT", "/signin"));
    assert_eq!((portal.status, portal.header("allow")), (405, Some("GET, POST")));

    let email = unique_email("dup");
    app.sign_up(&email, PASSWORD);
    app.post_json(
        "/api/v1/citizens",
        &json!({"email": email.to_uppercase(), "password": PASSWORD, "display_name": "Again"}),
    )
    .assert_problem(409, "email_taken");
}

fn unknown_email_and_wrong_password_get_the_same_401(app: &TestApp) {
    let email = unique_email("known");
    app.sign_up(&email, PASSWORD);
    let wrong = app.login(&email, "not the password");
    let unknown = app.login(&unique_email("unknown"), PASSWORD);
    wrong.assert_problem(401, "invalid_credentials");
    unknown.assert_problem(401, "invalid_credentials");
    assert_eq!(wrong.body, unknown.body);
}

fn sixth_wrong_password_in_a_row_gets_429(app: &TestApp) {
    let email = unique_email("guess");
    app.sign_up(&email, PASSWORD);
    for attempt in 1..=5 {
        let r = app.login(&email, &format!("wrong guess {attempt:02}"));
        r.assert_problem(401, "invalid_credentials");
    }
    let sixth = app.login(&email, "wrong guess 06");
    sixth.assert_problem(429, "too_many_attempts");
    let retry: i64 = sixth.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry), "Retry-After {retry}");
    // The right password does not get through while throttled either.
    app.login(&email, PASSWORD).assert_problem(429, "too_many_attempts");
    // Other accounts are unaffected.
    let other = unique_email("other");
    app.sign_up(&other, PASSWORD);
    assert_eq!(app.login(&other, PASSWORD).status, 200);
}

fn concurrent_sign_ups_for_one_email_make_one_account(app: &TestApp) {
    let email = unique_email("race");
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..6)
            .map(|_| {
                s.spawn(|| {
                    app.post_json(
                        "/api/v1/citizens",
                        &json!({"email": email, "password": PASSWORD, "display_name": "R"}),
                    )
                    .status
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 5, "{statuses:?}");
}

// ---- tokens and roles ----------------------------------------------------------------------

fn tokens_are_checked_for_presence_validity_expiry_and_role(app: &TestApp) {
    app.get("/api/v1/me").assert_problem(401, "unauthenticated");
    let missing = app.get("/api/v1/me");
    assert!(missing.header("www-authenticate").unwrap().starts_with("Bearer"));
    app.get_with_token("/api/v1/me", "garbage")
        .assert_problem(401, "invalid_token");
    app.send(
        app.request("GET", "/api/v1/me")
            .set("Authorization", "Basic dXNlcjpwYXNz"),
    )
    .assert_problem(401, "unauthenticated");

    let email = unique_email("expiry");
    let id = app.sign_up(&email, PASSWORD);
    let signer = TokenSigner::new(&app.keys());
    let stale = signer
        .issue(
            &id,
            "citizen",
            "infobank:citizen",
            Duration::minutes(15),
            Utc::now() - Duration::minutes(16),
        )
        .unwrap();
    app.get_with_token("/api/v1/me", &stale.token)
        .assert_problem(401, "token_expired");

    // Signed with our key, but dated ahead of the clock, not valid before a future time, or
    // living longer than any token the server issues: refused.
    let future = signer
        .issue(
            &id,
            "citizen",
            "infobank:citizen",
            Duration::minutes(15),
            Utc::now() + Duration::minutes(10),
        )
        .unwrap();
    app.get_with_token("/api/v1/me", &future.token)
        .assert_problem(401, "invalid_token");
    let forever = signer
        .issue(&id, "citizen", "infobank:citizen", Duration::days(365), Utc::now())
        .unwrap();
    app.get_with_token("/api/v1/me", &forever.token)
        .assert_problem(401, "invalid_token");
    let not_yet = signer
        .sign(&json!({
            "iss": "infobank", "aud": "infobank:citizen", "sub": id, "role": "citizen", "jti": "nbf",
            "iat": Utc::now().timestamp(), "exp": (Utc::now() + Duration::minutes(15)).timestamp(),
            "nbf": (Utc::now() + Duration::minutes(10)).timestamp(),
        }))
        .unwrap();
    app.get_with_token("/api/v1/me", &not_yet)
        .assert_problem(401, "invalid_token");

    // A token signed by some other installation's key is not ours.
    let other_dir = tempfile::tempdir().unwrap();
    let foreign = TokenSigner::new(&infobank_crypto::KeyRing::load_or_create(other_dir.path()).unwrap())
        .issue(&id, "citizen", "infobank:citizen", Duration::minutes(15), Utc::now())
        .unwrap();
    app.get_with_token("/api/v1/me", &foreign.token)
        .assert_problem(401, "invalid_token");

    for role in [Role::Operator, Role::Regulator] {
        let staff_email = unique_email(role.as_str());
        create_staff(app, role, &staff_email);
        let login = app.login(&staff_email, PASSWORD);
        assert_eq!(login.json()["role"], role.as_str());
        let token = login.json()["access_token"].as_str().unwrap().to_owned();
        app.get_with_token("/api/v1/me", &token)
            .assert_problem(403, "wrong_role");
    }
}

// ---- portal ----------------------------------------------------------------------------------

fn hidden_csrf_token(page: &Response) -> String {
    let marker = r#"name="csrf_token" value=""#;
    let start = page.body.find(marker).expect("form has a csrf_token field") + marker.len();
    page.body[start..].split('"').next().unwrap().to_owned()
}

fn cookie_value(r: &Response, name: &str) -> String {
    r.cookies()
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no {name} cookie"))
}

fn portal_sign_in_and_out_with_session_and_csrf(app: &TestApp) {
    let email = unique_email("portal");
    app.sign_up(&email, PASSWORD);

    let form = app.get("/signin");
    assert_eq!(form.status, 200);
    assert_eq!(form.header("cache-control"), Some("no-store"));
    let csrf_header = form.set_cookie_header("infobank_csrf").unwrap();
    assert!(
        csrf_header.contains("HttpOnly") && csrf_header.contains("SameSite=Strict"),
        "{csrf_header}"
    );
    let csrf = cookie_value(&form, "infobank_csrf");
    assert_eq!(hidden_csrf_token(&form), csrf);
    let cookie = format!("infobank_csrf={csrf}");

    // Without the token, with a wrong one, or without the cookie: refused.
    let fields = [("email", email.as_str()), ("password", PASSWORD)];
    assert_eq!(app.post_form("/signin", &cookie, &fields).status, 403);
    let wrong = [
        ("csrf_token", "x".repeat(43)),
        ("email", email.clone()),
        ("password", PASSWORD.into()),
    ];
    let wrong: Vec<(&str, &str)> = wrong.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(app.post_form("/signin", &cookie, &wrong).status, 403);
    let with_token = [
        ("csrf_token", csrf.as_str()),
        ("email", email.as_str()),
        ("password", PASSWORD),
    ];
    assert_eq!(
        app.post_form("/signin", "", &with_token).status,
        403,
        "token without its cookie"
    );

    // Wrong password: the form again with a generic message.
    let bad = [
        ("csrf_token", csrf.as_str()),
        ("email", email.as_str()),
        ("password", "not the password"),
    ];
    let bad = app.post_form("/signin", &cookie, &bad);
    assert_eq!(bad.status, 401);
    assert!(bad.body.contains("Email or password is wrong."));

    let ok = app.post_form("/signin", &cookie, &with_token);
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(ok.header("location"), Some("/home"));
    let session_header = ok.set_cookie_header("infobank_session").unwrap();
    assert!(
        session_header.contains("HttpOnly") && session_header.contains("SameSite=Strict"),
        "{session_header}"
    );
    assert!(!session_header.contains("Secure"), "plain HTTP must not set Secure");
    let session = cookie_value(&ok, "infobank_session");
    let cookies = format!("infobank_csrf={csrf}; infobank_session={session}");

    let home = app.get_with_cookie("/home", &cookies);
    assert_eq!(home.status, 200);
    assert!(home.body.contains("Test Citizen") && home.body.contains(&email.to_lowercase()));

    // Signing out needs the token too, then the session is gone for good.
    assert_eq!(app.post_form("/signout", &cookies, &[]).status, 403);
    let out = app.post_form("/signout", &cookies, &[("csrf_token", csrf.as_str())]);
    assert_eq!(out.status, 303);
    let home_again = app.get_with_cookie("/home", &cookies);
    assert_eq!(
        (home_again.status, home_again.header("location")),
        (303, Some("/signin"))
    );
}

fn portal_sign_up_shows_inline_errors_and_then_succeeds(app: &TestApp) {
    let form = app.get("/signup");
    let csrf = cookie_value(&form, "infobank_csrf");
    let cookie = format!("infobank_csrf={csrf}");
    let email = unique_email("portal-signup");
    let bad = app.post_form(
        "/signup",
        &cookie,
        &[
            ("csrf_token", &csrf),
            ("email", &email),
            ("display_name", "Yui"),
            ("password", "short"),
        ],
    );
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains(r#"id="password-error""#) && bad.body.contains("Use between 12 and 128 characters."));
    assert!(bad.body.contains(&format!(r#"value="{email}""#)), "email is kept");
    assert!(!bad.body.contains("short"), "a password is never echoed back");

    let ok = app.post_form(
        "/signup",
        &cookie,
        &[
            ("csrf_token", &csrf),
            ("email", &email),
            ("display_name", "Yui"),
            ("password", PASSWORD),
        ],
    );
    assert_eq!(
        (ok.status, ok.header("location")),
        (303, Some("/signin?notice=registered"))
    );
    assert_eq!(app.login(&email, PASSWORD).status, 200);

    let dup = app.post_form(
        "/signup",
        &cookie,
        &[
            ("csrf_token", &csrf),
            ("email", &email),
            ("display_name", "Yui"),
            ("password", PASSWORD),
        ],
    );
    assert_eq!(dup.status, 409);
    assert!(dup.body.contains("An account with this email already exists."));
}

fn portal_language_follows_cookie_then_accept_language(app: &TestApp) {
    let en = app.get("/signin");
    assert!(en.body.contains(r#"<html lang="en">"#) && en.body.contains("Sign in"));
    let ja = app.send(
        app.request("GET", "/signin")
            .set("Accept-Language", "ja-JP,ja;q=0.9,en;q=0.5"),
    );
    assert!(ja.body.contains(r#"<html lang="ja">"#) && ja.body.contains("ログイン"));

    let switch = app.get("/lang/ja?next=/signup");
    assert_eq!((switch.status, switch.header("location")), (303, Some("/signup")));
    let lang = cookie_value(&switch, "lang");
    let page = app.send(
        app.request("GET", "/signup")
            .set("Cookie", &format!("lang={lang}"))
            .set("Accept-Language", "en"),
    );
    assert!(page.body.contains("アカウント作成"), "cookie wins over Accept-Language");

    // The switch returns to the very page, query included.
    let with_query = app.get("/signin?notice=registered");
    assert!(
        with_query.body.contains("next=/signin%3Fnotice%3Dregistered")
            || with_query.body.contains("next=%2Fsignin%3Fnotice%3Dregistered"),
        "{}",
        with_query.body
    );

    let offsite = app.get("/lang/en?next=//evil.example/");
    assert_eq!(offsite.header("location"), Some("/"));
    // Browsers drop a tab or line break inside a URL and read a backslash as a slash: each of
    // these would leave the site (or, as a header value, fail with a 500). All go home instead.
    for next in [
        "/%09/evil.example",
        "/%09%5Cevil.example",
        "/%5C%5Cevil.example",
        "/%0a/evil.example",
        "/%0d%0aSet-Cookie:%20x=1",
        "/%7f",
    ] {
        let switch = app.get(&format!("/lang/ja?next={next}"));
        assert_eq!(
            (switch.status, switch.header("location")),
            (303, Some("/")),
            "next={next}"
        );
    }
    app.get("/lang/fr").assert_problem(404, "not_found");
}

/// Per client address, 60 sign-in attempts a minute (the default), whatever the email (the
/// per-email throttle is separate): after the burst the next attempt is refused with Retry-After.
fn sign_in_is_rate_limited_per_client_address(app: &TestApp) {
    let attempt = |n: usize| {
        app.post_json(
            "/api/v1/auth/login",
            &json!({"email": format!("nobody{n}@example.jp"), "password": "wrong password here"}),
        )
    };
    let mut allowed = 0;
    let refused = loop {
        let r = attempt(allowed);
        if r.status != 401 {
            break r;
        }
        allowed += 1;
        assert!(allowed < 120, "no limit after {allowed} attempts");
    };
    // 60 at once, plus the few the bucket refilled while the attempts ran.
    assert!((60..70).contains(&allowed), "{allowed} attempts passed");
    refused.assert_problem(429, "rate_limited");
    let retry: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
}

app_tests!(
    service_endpoints_answer,
    metrics_count_requests_by_route_and_status,
    every_response_carries_security_headers_and_a_request_id,
    citizen_signs_up_signs_in_and_reads_own_profile,
    bad_inputs_get_their_status_and_code,
    unknown_email_and_wrong_password_get_the_same_401,
    sixth_wrong_password_in_a_row_gets_429,
    concurrent_sign_ups_for_one_email_make_one_account,
    tokens_are_checked_for_presence_validity_expiry_and_role,
    portal_sign_in_and_out_with_session_and_csrf,
    portal_sign_up_shows_inline_errors_and_then_succeeds,
    portal_language_follows_cookie_then_accept_language,
    sign_in_is_rate_limited_per_client_address,
);
