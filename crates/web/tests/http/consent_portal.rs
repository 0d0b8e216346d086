//! The consent pages over HTTP, as a browser without JavaScript uses them: a company applies
//! and signs in, the operator vets it and its offer, a citizen previews, accepts, pauses and
//! reads the receipt and the disclosure history.

use infobank_accounts::Role;
use infobank_testkit::{TestApp, app_tests};

use super::{PASSWORD, cookie_value, create_staff, unique_email};

pub(crate) fn session(app: &TestApp, email: &str) -> (String, String) {
    let form = app.get("/signin");
    let csrf = cookie_value(&form, "infobank_csrf");
    let ok = app.post_form(
        "/signin",
        &format!("infobank_csrf={csrf}"),
        &[("csrf_token", &csrf), ("email", email), ("password", PASSWORD)],
    );
    assert_eq!(ok.status, 303, "{}", ok.body);
    let session = cookie_value(&ok, "infobank_session");
    (format!("infobank_csrf={csrf}; infobank_session={session}"), csrf)
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    text.split(start).nth(1).unwrap().split(end).next().unwrap()
}

fn the_consent_pages_work_end_to_end(app: &TestApp) {
    // A company applies in its portal and signs in with the credentials shown once.
    let form = app.get("/company/apply");
    let csrf = cookie_value(&form, "infobank_csrf");
    let anon = format!("infobank_csrf={csrf}");
    let bad = app.post_form(
        "/company/apply",
        &anon,
        &[
            ("csrf_token", &csrf),
            ("legal_name", "Kome K.K."),
            ("corporate_number", "1234567890123"),
            ("contact_email", "dpo@kome.example.jp"),
            ("privacy_policy_url", "https://kome.example.jp/p"),
            ("cert_kind", "PMARK"),
            ("cert_id", "P-1"),
            ("cert_expires_on", "2099-01-01"),
        ],
    );
    assert_eq!(bad.status, 422);
    assert!(
        bad.body.contains(r#"data-field="corporate_number""#) && bad.body.contains("Kome K.K."),
        "the form keeps what was typed"
    );
    let applied = app.post_form(
        "/company/apply",
        &anon,
        &[
            ("csrf_token", &csrf),
            ("legal_name", "Kome K.K."),
            ("corporate_number", "7000012050002"),
            ("contact_email", "dpo@kome.example.jp"),
            ("privacy_policy_url", "https://kome.example.jp/p"),
            ("cert_kind", "PMARK"),
            ("cert_id", "P-1"),
            ("cert_expires_on", "2099-01-01"),
        ],
    );
    assert_eq!(applied.status, 201, "{}", applied.body);
    let company_id = between(&applied.body, r#"<code id="company-id">"#, "<").to_owned();
    let client_id = between(&applied.body, r#"<code id="client-id">"#, "<").to_owned();
    let secret = between(&applied.body, r#"<code id="client-secret">"#, "<").to_owned();
    let wrong = app.post_form(
        "/company/signin",
        &anon,
        &[
            ("csrf_token", &csrf),
            ("client_id", &client_id),
            ("client_secret", "nope"),
        ],
    );
    assert_eq!(wrong.status, 401);
    let signed_in = app.post_form(
        "/company/signin",
        &anon,
        &[
            ("csrf_token", &csrf),
            ("client_id", &client_id),
            ("client_secret", &secret),
        ],
    );
    assert_eq!(signed_in.status, 303);
    let company_cookie = format!(
        "{anon}; infobank_company={}",
        cookie_value(&signed_in, "infobank_company")
    );
    let dashboard = app.get_with_cookie("/company", &company_cookie);
    assert!(
        dashboard.body.contains(r#"data-status="applied""#),
        "{}",
        dashboard.body
    );
    let offer_fields = |csrf: &str| {
        vec![
            ("csrf_token".to_owned(), csrf.to_owned()),
            ("title".into(), "Rice for families".into()),
            ("description".into(), "Coupons sized to your household.".into()),
            ("purpose".into(), "personalised_offers".into()),
            ("categories".into(), "residence".into()),
            ("categories".into(), "family_structure".into()),
            ("data_range_days".into(), "30".into()),
            ("access".into(), "periodic".into()),
            ("max_fetches_per_day".into(), "3".into()),
            ("retention_days".into(), "60".into()),
            ("consent_days".into(), "90".into()),
            ("reward_coins".into(), "0".into()),
        ]
    };
    let as_refs = |v: &Vec<(String, String)>| v.iter().map(|(a, b)| (a.clone(), b.clone())).collect::<Vec<_>>();
    let fields = as_refs(&offer_fields(&csrf));
    let refs: Vec<(&str, &str)> = fields.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let too_early = app.post_form("/company/offers", &company_cookie, &refs);
    assert_eq!(too_early.status, 422, "an applicant cannot make offers yet");

    // The operator approves the company in the portal; a rejection needs a reason.
    let operator = unique_email("op-portal");
    create_staff(app, Role::Operator, &operator);
    let (op_cookies, op_csrf) = session(app, &operator);
    let queue = app.get_with_cookie("/operator/companies", &op_cookies);
    assert!(
        queue
            .body
            .contains(&format!(r#"data-company="{company_id}" data-status="applied""#))
    );
    let no_reason = app.post_form(
        &format!("/operator/companies/{company_id}/reject"),
        &op_cookies,
        &[("csrf_token", &op_csrf), ("reason", "")],
    );
    assert_eq!(no_reason.status, 422);
    let approved = app.post_form(
        &format!("/operator/companies/{company_id}/approve"),
        &op_cookies,
        &[("csrf_token", &op_csrf), ("reason", "")],
    );
    assert_eq!(approved.status, 303);
    assert!(
        app.get_with_cookie("/company", &company_cookie)
            .body
            .contains(r#"data-status="approved""#)
    );
    let created = app.post_form("/company/offers", &company_cookie, &refs);
    assert_eq!(
        (created.status, created.header("location")),
        (303, Some("/company?notice=offer_created"))
    );
    let review = app.get_with_cookie("/operator/offers", &op_cookies);
    let offer_id = between(&review.body, r#"data-offer=""#, "\"").to_owned();
    assert!(review.body.contains("Rice for families"));
    let ok = app.post_form(
        &format!("/operator/offers/{offer_id}/approve"),
        &op_cookies,
        &[("csrf_token", &op_csrf), ("reason", "fair")],
    );
    assert_eq!(ok.status, 303);

    // A citizen previews, accepts, pauses, reads the receipt.
    let email = unique_email("citizen-portal");
    app.sign_up(&email, PASSWORD);
    let token = app.token(&email, PASSWORD);
    let req = app
        .request("POST", "/api/v1/me/records")
        .set("Authorization", &format!("Bearer {token}"))
        .set("Content-Type", "application/json");
    app.send_bytes(
        req,
        br#"{"category":"residence","data":{"prefecture":"Niigata","city":"Uonuma","postal_code":"949-7302"}}"#,
    );
    let (cookies, csrf) = session(app, &email);
    let inbox = app.get_with_cookie("/offers", &cookies);
    assert!(inbox.body.contains("Rice for families") && inbox.body.contains("Prohibited"));
    let preview = app.get_with_cookie(&format!("/offers/{offer_id}"), &cookies);
    assert!(
        preview.body.contains("Uonuma"),
        "the preview shows the citizen's own record"
    );
    assert!(
        preview.body.contains(r#"data-preview-category="family_structure""#)
            && preview.body.contains("You hold nothing of this category")
    );
    let accepted = app.post_form(
        &format!("/offers/{offer_id}/accept"),
        &cookies,
        &[("csrf_token", &csrf)],
    );
    assert_eq!(accepted.header("location"), Some("/consents?notice=granted"));
    let again = app.post_form(
        &format!("/offers/{offer_id}/accept"),
        &cookies,
        &[("csrf_token", &csrf)],
    );
    assert_eq!(again.status, 409);
    let dashboard = app.get_with_cookie("/consents", &cookies);
    let consent_id = between(&dashboard.body, r#"data-consent=""#, "\"").to_owned();
    assert!(dashboard.body.contains(r#"data-status="active""#));
    let paused = app.post_form(
        &format!("/consents/{consent_id}/pause"),
        &cookies,
        &[("csrf_token", &csrf)],
    );
    assert_eq!(paused.header("location"), Some("/consents?notice=paused"));
    assert!(
        app.get_with_cookie("/consents", &cookies)
            .body
            .contains(r#"data-status="paused""#)
    );
    let receipt = app.get_with_cookie(&format!("/consents/{consent_id}/receipt"), &cookies);
    // The record is HTML-escaped inside <pre>.
    assert!(receipt.body.contains("consent.paused"), "{}", receipt.body);
    assert!(
        receipt.body.contains("&#34;onward_transfer&#34;: &#34;prohibited&#34;"),
        "{}",
        receipt.body
    );
    // Another citizen sees none of it.
    let other = unique_email("other-portal");
    app.sign_up(&other, PASSWORD);
    let (other_cookies, other_csrf) = session(app, &other);
    assert_eq!(
        app.get_with_cookie(&format!("/consents/{consent_id}/receipt"), &other_cookies)
            .status,
        404
    );
    assert_eq!(
        app.post_form(
            &format!("/consents/{consent_id}/revoke"),
            &other_cookies,
            &[("csrf_token", &other_csrf)]
        )
        .status,
        404
    );
    // Citizens cannot open operator pages, and the company pages need the company's sign-in.
    assert_eq!(app.get_with_cookie("/operator/companies", &cookies).status, 403);
    assert_eq!(app.get("/company").status, 303);
    assert_eq!(app.get_with_cookie("/disclosures", &cookies).status, 200);
}

/// Every form of the portal, posted by a signed-in user of the right role with the wrong CSRF
/// token, is refused with the expired-form page before anything happens (the fields each form
/// needs are all there, so it is the token alone that is refused).
fn every_portal_form_refuses_a_wrong_csrf_token(app: &TestApp) {
    let citizen_email = unique_email("csrf-citizen");
    app.sign_up(&citizen_email, PASSWORD);
    let (citizen, _) = session(app, &citizen_email);
    let staff = |role: Role| {
        let email = unique_email("csrf-staff");
        create_staff(app, role, &email);
        session(app, &email).0
    };
    let (operator, regulator) = (staff(Role::Operator), staff(Role::Regulator));
    let company_token = infobank_crypto::TokenSigner::new(&app.keys())
        .issue(
            "0190a3c2-0000-7000-8000-0000000000c0",
            "company",
            "infobank:company-portal",
            chrono::Duration::minutes(60),
            chrono::Utc::now(),
        )
        .unwrap()
        .token;
    let company = format!("{citizen}; infobank_company={company_token}");
    let id = "0190a3c2-0000-7000-8000-000000000000";
    let forms: Vec<(String, &str)> = [
        ("/signup", &citizen),
        ("/signin", &citizen),
        ("/signout", &citizen),
        ("/data/hobbies", &citizen),
        (&format!("/data/hobbies/{id}"), &citizen),
        (&format!("/data/hobbies/{id}/delete"), &citizen),
        ("/account/delete", &citizen),
        (&format!("/offers/{id}/accept"), &citizen),
        (&format!("/offers/{id}/decline"), &citizen),
        (&format!("/consents/{id}/pause"), &citizen),
        ("/coins/redeem", &citizen),
        (&format!("/operator/companies/{id}/approve"), &operator),
        (&format!("/operator/companies/{id}/secret"), &operator),
        ("/inbox/read", &citizen),
        (&format!("/operator/offers/{id}/approve"), &operator),
        ("/regulator/checkpoint", &regulator),
        ("/company/apply", &citizen),
        ("/company/signin", &citizen),
        ("/company/signout", &company),
        ("/company/secret", &company),
        ("/company/offers", &company),
    ]
    .into_iter()
    .map(|(path, cookie)| (path.to_owned(), cookie.as_str()))
    .collect();
    let fields = [
        ("csrf_token", "not-the-token-of-this-browser-not-the-token"),
        ("email", "csrf@example.jp"),
        ("password", PASSWORD),
        ("display_name", "C"),
        ("confirm", "DELETE"),
        ("reason", "because"),
        ("amount", "1"),
        ("idempotency_key", "csrf-1"),
        ("client_id", "ibc_x"),
        ("client_secret", "ibs_x"),
        ("items", "go"),
    ];
    for (path, cookie) in &forms {
        let r = app.post_form(path, cookie, &fields);
        assert_eq!(r.status, 403, "{path}: {}", r.body);
        assert!(r.body.contains("This form has expired"), "{path}: {}", r.body);
    }
    let boundary = "----infobankCsrfBoundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\nwrong\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\ndate\n\r\n--{boundary}--\r\n"
    );
    let upload = app.send_bytes(
        app.request("POST", "/data/import")
            .set("Cookie", &citizen)
            .set("Content-Type", &format!("multipart/form-data; boundary={boundary}")),
        body.as_bytes(),
    );
    assert_eq!(upload.status, 403, "{}", upload.body);
    assert!(upload.body.contains("This form has expired"));
    // Nothing happened: the refused sign-out left the citizen signed in.
    assert_eq!(app.get_with_cookie("/data", &citizen).status, 200, "still signed in");
}

app_tests!(
    every_portal_form_refuses_a_wrong_csrf_token,
    the_consent_pages_work_end_to_end
);
