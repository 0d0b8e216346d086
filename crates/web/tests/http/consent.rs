//! Companies, offers, consents and disclosures over HTTP, as partners, citizens and operators
//! use them: the whole walk, the token endpoint's refusals, and the authorisation matrix.

use base64::Engine as _;
use infobank_accounts::Role;
use infobank_testkit::{Response, TestApp, app_tests};
use serde_json::{Value, json};

use super::{PASSWORD, cookie_value, create_staff, unique_email};

pub(crate) fn send(app: &TestApp, method: &str, path: &str, token: &str, body: Option<Value>) -> Response {
    let req = app
        .request(method, path)
        .set("Authorization", &format!("Bearer {token}"));
    match body {
        Some(b) => app.send_bytes(req.set("Content-Type", "application/json"), b.to_string().as_bytes()),
        None => app.send(req),
    }
}

fn application(n: u64) -> Value {
    json!({
        "legal_name": format!("Partner {n} K.K."),
        "corporate_number": infobank_consent::corporate_number::with_check_digit(n),
        "contact_email": format!("privacy@partner{n}.example.jp"),
        "privacy_policy_url": format!("https://partner{n}.example.jp/privacy"),
        "security_certification": {"kind": "ISMS", "id": format!("IS {n}"), "expires_on": "2099-03-31"},
    })
}

pub(crate) fn company_token(app: &TestApp, client_id: &str, secret: &str) -> Response {
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:{secret}"));
    let req = app
        .request("POST", "/api/v1/oauth/token")
        .set("Authorization", &format!("Basic {basic}"))
        .set("Content-Type", "application/x-www-form-urlencoded");
    app.send_bytes(req, b"grant_type=client_credentials")
}

pub(crate) fn operator_token(app: &TestApp) -> String {
    let email = unique_email("operator");
    create_staff(app, Role::Operator, &email);
    app.token(&email, PASSWORD)
}

pub(crate) struct Partner {
    pub(crate) id: String,
    pub(crate) token: String,
}

/// Applies, is approved by the operator, funded, and signs in with client credentials.
pub(crate) fn approved_partner(app: &TestApp, operator: &str, n: u64, coins: i64) -> Partner {
    let applied = app.post_json("/api/v1/companies", &application(n));
    assert_eq!(applied.status, 201, "{}", applied.body);
    let applied = applied.json();
    let id = applied["id"].as_str().unwrap().to_owned();
    let ok = send(
        app,
        "POST",
        &format!("/api/v1/operator/companies/{id}/approve"),
        operator,
        Some(json!({})),
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    if coins > 0 {
        let conn = &mut *app.pool.get().unwrap();
        infobank_coins::funding::fund_company(conn, &id, coins, &format!("fund-{id}"), "test", chrono::Utc::now())
            .unwrap();
    }
    let token = company_token(
        app,
        applied["client_id"].as_str().unwrap(),
        applied["client_secret"].as_str().unwrap(),
    );
    assert_eq!(token.status, 200, "{}", token.body);
    Partner {
        id,
        token: token.json()["access_token"].as_str().unwrap().to_owned(),
    }
}

pub(crate) fn approved_offer(
    app: &TestApp,
    operator: &str,
    partner: &Partner,
    categories: &[&str],
    reward: i64,
) -> String {
    let offer = send(
        app,
        "POST",
        "/api/v1/offers",
        &partner.token,
        Some(json!({
            "title": "Coupons that fit", "description": "Weekly coupons for your household.",
            "purpose": "personalised_offers", "categories": categories, "data_range_days": 30,
            "access": "periodic", "max_fetches_per_day": 5, "retention_days": 30, "consent_days": 90,
            "reward_coins": reward,
        })),
    );
    assert_eq!(offer.status, 201, "{}", offer.body);
    let id = offer.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(offer.json()["status"], "pending_review");
    let ok = send(
        app,
        "POST",
        &format!("/api/v1/operator/offers/{id}/approve"),
        operator,
        Some(json!({"reason": "proportionate"})),
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    id
}

pub(crate) fn citizen(app: &TestApp) -> String {
    let email = unique_email("consent");
    app.sign_up(&email, PASSWORD);
    app.token(&email, PASSWORD)
}

/// Entrusts a residence record; its id.
fn entrust_residence(app: &TestApp, token: &str) -> String {
    let entrusted = send(
        app,
        "POST",
        "/api/v1/me/records",
        token,
        Some(
            json!({"category": "residence", "data": {"prefecture": "Nara", "city": "Nara", "postal_code": "630-8501"}}),
        ),
    );
    assert_eq!(entrusted.status, 201, "{}", entrusted.body);
    entrusted.json()["id"].as_str().unwrap().to_owned()
}

/// A company's fetch of the data under a consent.
pub(crate) fn fetch_data(app: &TestApp, consent: &str, token: &str) -> Response {
    send(app, "GET", &format!("/api/v1/consents/{consent}/data"), token, None)
}

/// Consents to the offer; the consent's id.
pub(crate) fn consent_to(app: &TestApp, token: &str, offer: &str) -> String {
    let consent = send(
        app,
        "POST",
        "/api/v1/me/consents",
        token,
        Some(json!({"offer_id": offer})),
    );
    assert_eq!(consent.status, 201, "{}", consent.body);
    consent.json()["consent"]["id"].as_str().unwrap().to_owned()
}

fn a_partner_walks_from_application_to_disclosure(app: &TestApp) {
    let operator = operator_token(app);
    let partner = approved_partner(app, &operator, 101, 500);
    let offer = approved_offer(app, &operator, &partner, &["residence", "hobbies"], 50);
    // Onward transfer is prohibited for every offer: there is no field to ask for it.
    let asking = send(
        app,
        "POST",
        "/api/v1/offers",
        &partner.token,
        Some(json!({
            "title": "Resell", "description": "We pass it on.", "purpose": "personalised_offers",
            "categories": ["hobbies"], "data_range_days": 30, "access": "periodic", "max_fetches_per_day": 1,
            "retention_days": 30, "consent_days": 90, "reward_coins": 0, "onward_transfer": "allowed",
        })),
    );
    let problem = asking.assert_problem(422, "validation_failed");
    assert!(problem.to_string().contains("onward_transfer"), "{problem}");
    let me = send(app, "GET", "/api/v1/companies/me", &partner.token, None).json();
    assert_eq!(me["status"], "approved");
    let public: Vec<Value> = app.get("/api/v1/companies").json().as_array().unwrap().clone();
    let listed = public.iter().find(|c| c["id"] == partner.id.as_str()).unwrap();
    assert!(
        listed.get("status").is_none() && listed.get("contact_email").is_none(),
        "public list is public facts only"
    );

    let alice = citizen(app);
    for (category, data) in [
        (
            "residence",
            json!({"prefecture": "Tokyo", "city": "Chiyoda", "postal_code": "100-0001"}),
        ),
        ("hobbies", json!({"items": ["go", "cycling"]})),
        ("birth_date", json!({"date": "1990-04-01"})),
    ] {
        assert_eq!(
            send(
                app,
                "POST",
                "/api/v1/me/records",
                &alice,
                Some(json!({"category": category, "data": data}))
            )
            .status,
            201
        );
    }
    let inbox = send(app, "GET", "/api/v1/offers", &alice, None).json();
    let shown = inbox
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == offer.as_str())
        .unwrap();
    assert_eq!(shown["onward_transfer"], "prohibited");
    assert_eq!(shown["purpose_label"]["ja"], "あなたに合わせた特典や広告");
    // Before consenting, the citizen is told who asks, what for, for which data and for how long.
    assert_eq!(
        (
            &shown["company_id"],
            &shown["purpose"],
            &shown["categories"],
            &shown["data_range_days"],
            &shown["retention_days"],
            &shown["consent_days"]
        ),
        (
            &json!(partner.id),
            &json!("personalised_offers"),
            &json!(["residence", "hobbies"]),
            &json!(30),
            &json!(30),
            &json!(90)
        )
    );
    let preview = send(app, "GET", &format!("/api/v1/offers/{offer}/preview"), &alice, None).json();
    assert_eq!(
        preview["would_share"]["hobbies"][0]["data"]["items"],
        json!(["go", "cycling"])
    );
    assert!(preview["would_share"].get("birth_date").is_none());

    let granted = send(
        app,
        "POST",
        "/api/v1/me/consents",
        &alice,
        Some(json!({"offer_id": offer})),
    );
    assert_eq!(granted.status, 201, "{}", granted.body);
    let consent_id = granted.json()["consent"]["id"].as_str().unwrap().to_owned();
    assert_eq!(granted.json()["receipt"].as_str().unwrap().split('.').count(), 3);
    send(
        app,
        "POST",
        "/api/v1/me/consents",
        &alice,
        Some(json!({"offer_id": offer})),
    )
    .assert_problem(409, "already_consented");

    let held = send(app, "GET", "/api/v1/consents", &partner.token, None).json();
    assert_eq!(held[0]["id"], consent_id.as_str());
    assert!(held[0]["subject"].as_str().unwrap().starts_with("psn_"));
    let data = send(
        app,
        "GET",
        &format!("/api/v1/consents/{consent_id}/data"),
        &partner.token,
        None,
    );
    assert_eq!(data.status, 200, "{}", data.body);
    assert_eq!(data.header("cache-control"), Some("no-store"));
    let data = data.json();
    assert_eq!(data["data"]["residence"][0]["data"]["city"], "Chiyoda");
    assert!(data["data"].get("birth_date").is_none() && !data.to_string().contains("1990-04-01"));
    assert_eq!(data["subject"], held[0]["subject"]);

    let mine = send(app, "GET", "/api/v1/me/consents", &alice, None).json();
    assert_eq!(
        (&mine[0]["id"], &mine[0]["status"], &mine[0]["offer_id"]),
        (&json!(consent_id), &json!("active"), &json!(offer))
    );
    let disclosures = send(app, "GET", "/api/v1/me/disclosures", &alice, None).json();
    assert_eq!(disclosures.as_array().unwrap().len(), 1);
    assert_eq!(disclosures[0]["company_name"], "Partner 101 K.K.");
    assert_eq!(disclosures[0]["consent_id"], consent_id.as_str());
    assert_eq!(disclosures[0]["categories"], json!(["residence", "hobbies"]));
    let when = chrono::DateTime::parse_from_rfc3339(disclosures[0]["disclosed_at"].as_str().unwrap()).unwrap();
    assert!((chrono::Utc::now() - when.to_utc()).num_seconds().abs() < 60, "{when}");
    let coins = send(app, "GET", "/api/v1/me/coins", &alice, None).json();
    let reasons: Vec<&str> = coins["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["reason"].as_str().unwrap())
        .collect();
    assert!(
        reasons.contains(&"offer_reward") && reasons.contains(&"breadth_bonus"),
        "{reasons:?}"
    );

    let revoked = send(
        app,
        "POST",
        &format!("/api/v1/me/consents/{consent_id}/revoke"),
        &alice,
        None,
    );
    assert_eq!(revoked.status, 200);
    assert_ne!(revoked.json()["receipt"], granted.json()["receipt"]);
    send(
        app,
        "GET",
        &format!("/api/v1/consents/{consent_id}/data"),
        &partner.token,
        None,
    )
    .assert_problem(403, "consent_revoked");
    let export = send(app, "GET", "/api/v1/me/export", &alice, None).json();
    assert_eq!(export["consents"][0]["status"], "revoked");
    assert_eq!(
        export["consents"][0]["receipt"],
        revoked.json()["receipt"],
        "the latest receipt travels with the export"
    );
    assert_eq!(export["disclosures"], disclosures);
    assert_eq!(export["records"].as_array().unwrap().len(), 3);
    let coins_now = send(app, "GET", "/api/v1/me/coins", &alice, None).json();
    assert_eq!(
        export["coin_entries"].as_array().unwrap().len(),
        coins_now["entries"].as_array().unwrap().len()
    );
}

fn the_token_endpoint_and_roles_refuse_cleanly(app: &TestApp) {
    let operator = operator_token(app);
    let applied = app.post_json("/api/v1/companies", &application(202)).json();
    let (client_id, secret) = (
        applied["client_id"].as_str().unwrap(),
        applied["client_secret"].as_str().unwrap(),
    );
    company_token(app, client_id, secret).assert_problem(403, "company_not_approved");
    company_token(app, client_id, "ibs_wrong").assert_problem(401, "invalid_client");
    let no_basic = app.send_bytes(
        app.request("POST", "/api/v1/oauth/token")
            .set("Content-Type", "application/x-www-form-urlencoded"),
        b"grant_type=client_credentials",
    );
    no_basic.assert_problem(401, "invalid_client");
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:{secret}"));
    let password_grant = app.send_bytes(
        app.request("POST", "/api/v1/oauth/token")
            .set("Authorization", &format!("Basic {basic}"))
            .set("Content-Type", "application/x-www-form-urlencoded"),
        b"grant_type=password",
    );
    password_grant.assert_problem(400, "unsupported_grant_type");

    // Bad applications.
    let mut bad = application(203);
    bad["corporate_number"] = json!("1234567890123");
    let problem = app
        .post_json("/api/v1/companies", &bad)
        .assert_problem(422, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "corporate_number");
    app.post_json("/api/v1/companies", &application(202))
        .assert_problem(409, "corporate_number_taken");

    // Operator decisions: reasons and transitions.
    let id = applied["id"].as_str().unwrap();
    send(
        app,
        "POST",
        &format!("/api/v1/operator/companies/{id}/suspend"),
        &operator,
        Some(json!({"reason": "x"})),
    )
    .assert_problem(409, "invalid_transition");
    let missing = send(
        app,
        "POST",
        &format!("/api/v1/operator/companies/{id}/reject"),
        &operator,
        Some(json!({})),
    )
    .assert_problem(422, "validation_failed");
    assert_eq!(missing["errors"][0]["field"], "reason");
    send(
        app,
        "POST",
        &format!("/api/v1/operator/companies/{id}/promote"),
        &operator,
        None,
    )
    .assert_problem(404, "not_found");
    let alice = citizen(app);
    send(
        app,
        "POST",
        &format!("/api/v1/operator/companies/{id}/approve"),
        &alice,
        None,
    )
    .assert_problem(403, "wrong_role");
    // The offer list takes a company's or a citizen's token: a staff token is the wrong role
    // there too, no token at all is 401.
    send(app, "GET", "/api/v1/offers", &operator, None).assert_problem(403, "wrong_role");
    app.get("/api/v1/offers").assert_problem(401, "unauthenticated");
    send(
        app,
        "POST",
        &format!("/api/v1/operator/companies/{id}/approve"),
        &operator,
        None,
    );
    let partner = company_token(app, client_id, secret).json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // A company token is not a citizen's, and the reverse.
    send(app, "GET", "/api/v1/me/consents", &partner, None).assert_problem(403, "wrong_role");
    send(app, "GET", "/api/v1/consents", &alice, None).assert_problem(403, "wrong_role");
    app.get("/api/v1/offers").assert_problem(401, "unauthenticated");
    // The operator's view of companies has their status.
    let all = send(app, "GET", "/api/v1/companies?status=approved", &operator, None).json();
    assert!(
        all.as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == id && c["status"] == "approved")
    );
    // Rotating the secret: the old one stops working.
    let rotated = send(app, "POST", "/api/v1/companies/me/secret", &partner, None).json();
    company_token(app, client_id, secret).assert_problem(401, "invalid_client");
    assert_eq!(
        company_token(app, client_id, rotated["client_secret"].as_str().unwrap()).status,
        200
    );
}

fn the_authorisation_matrix_holds_over_http(app: &TestApp) {
    let operator = operator_token(app);
    let acme = approved_partner(app, &operator, 301, 100);
    let bravo = approved_partner(app, &operator, 302, 100);
    let offer = approved_offer(app, &operator, &acme, &["residence"], 10);
    let unreviewed = send(
        app,
        "POST",
        "/api/v1/offers",
        &acme.token,
        Some(json!({"title": "t", "description": "d", "purpose": "research_statistics", "categories": ["hobbies"],
            "data_range_days": 1, "access": "one_time", "max_fetches_per_day": 1, "retention_days": 1, "consent_days": 1, "reward_coins": 0})),
    )
    .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let alice = citizen(app);
    let bob = citizen(app);
    send(
        app,
        "POST",
        "/api/v1/me/records",
        &alice,
        Some(
            json!({"category": "residence", "data": {"prefecture": "Osaka", "city": "Kita", "postal_code": "530-0001"}}),
        ),
    );
    send(
        app,
        "POST",
        "/api/v1/me/consents",
        &alice,
        Some(json!({"offer_id": unreviewed})),
    )
    .assert_problem(409, "offer_not_open");
    send(
        app,
        "GET",
        &format!("/api/v1/offers/{unreviewed}/preview"),
        &alice,
        None,
    )
    .assert_problem(404, "not_found");
    let consent = send(
        app,
        "POST",
        "/api/v1/me/consents",
        &alice,
        Some(json!({"offer_id": offer})),
    )
    .json()["consent"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let fetch = |token: &str| send(app, "GET", &format!("/api/v1/consents/{consent}/data"), token, None);

    fetch(&bravo.token).assert_problem(404, "not_found");
    send(app, "GET", &format!("/api/v1/me/consents/{consent}"), &bob, None).assert_problem(404, "not_found");
    send(
        app,
        "POST",
        &format!("/api/v1/me/consents/{consent}/revoke"),
        &bob,
        None,
    )
    .assert_problem(404, "not_found");
    assert!(
        send(app, "GET", "/api/v1/me/disclosures", &bob, None)
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );

    assert_eq!(fetch(&acme.token).status, 200);
    send(
        app,
        "POST",
        &format!("/api/v1/me/consents/{consent}/pause"),
        &alice,
        None,
    );
    fetch(&acme.token).assert_problem(403, "consent_paused");
    send(
        app,
        "POST",
        &format!("/api/v1/me/consents/{consent}/resume"),
        &alice,
        None,
    );
    assert_eq!(fetch(&acme.token).status, 200);
    send(
        app,
        "POST",
        &format!("/api/v1/operator/companies/{}/suspend", acme.id),
        &operator,
        Some(json!({"reason": "breach report"})),
    );
    fetch(&acme.token).assert_problem(403, "company_suspended");
    // Nor may it list whom it holds consents from (pseudonyms, statuses).
    send(app, "GET", "/api/v1/consents", &acme.token, None).assert_problem(403, "company_suspended");
    send(
        app,
        "POST",
        &format!("/api/v1/operator/companies/{}/approve", acme.id),
        &operator,
        Some(json!({"reason": "fixed"})),
    );
    assert_eq!(fetch(&acme.token).status, 200);
    for _ in 0..2 {
        assert_eq!(fetch(&acme.token).status, 200);
    }
    fetch(&acme.token).assert_problem(403, "quota_exceeded");
    send(
        app,
        "POST",
        &format!("/api/v1/me/consents/{consent}/revoke"),
        &alice,
        None,
    );
    fetch(&acme.token).assert_problem(403, "consent_revoked");
    send(
        app,
        "POST",
        &format!("/api/v1/me/consents/{consent}/resume"),
        &alice,
        None,
    )
    .assert_problem(409, "invalid_transition");

    // A company without coins for the reward cannot take the consent.
    let poor = approved_partner(app, &operator, 303, 0);
    let costly = approved_offer(app, &operator, &poor, &["residence"], 5);
    send(
        app,
        "POST",
        "/api/v1/me/consents",
        &alice,
        Some(json!({"offer_id": costly})),
    )
    .assert_problem(409, "offer_not_funded");

    // Deleting the account revokes its live consents in the same transaction and gives the
    // company its reserved reward back; the deleted account's token can no longer consent.
    let carol = citizen(app);
    let held_before = {
        let conn = &mut *app.pool.get().unwrap();
        infobank_coins::ledger::balance(conn, infobank_coins::Account::Company(&acme.id)).unwrap()
    };
    let second = approved_offer(app, &operator, &acme, &["residence"], 7);
    let granted = send(
        app,
        "POST",
        "/api/v1/me/consents",
        &carol,
        Some(json!({"offer_id": second})),
    )
    .json();
    let carol_consent = granted["consent"]["id"].as_str().unwrap().to_owned();
    assert_eq!(send(app, "DELETE", "/api/v1/me", &carol, None).status, 204);
    send(
        app,
        "POST",
        "/api/v1/me/consents",
        &carol,
        Some(json!({"offer_id": offer})),
    )
    .assert_problem(401, "token_revoked");
    send(
        app,
        "GET",
        &format!("/api/v1/consents/{carol_consent}/data"),
        &acme.token,
        None,
    )
    .assert_problem(404, "not_found");
    let conn = &mut *app.pool.get().unwrap();
    assert_eq!(
        infobank_coins::ledger::balance(conn, infobank_coins::Account::Company(&acme.id)).unwrap(),
        held_before,
        "the reservation went back to the company"
    );
    infobank_coins::ledger::check_books(conn).unwrap();
}

/// Replacing a client secret ends the old secret and every company-portal session signed in
/// before it; the company that rotates in its portal stays signed in. A suspended company cannot
/// replace its own secret (not with a still-valid access token, not in its portal): leaked
/// credentials must not lock it out. The operator's reset ends every session, whatever the status.
fn a_replaced_secret_ends_earlier_sessions_and_a_suspended_company_cannot_replace_it(app: &TestApp) {
    let operator = operator_token(app);
    let applied = app.post_json("/api/v1/companies", &application(401)).json();
    let id = applied["id"].as_str().unwrap().to_owned();
    let client_id = applied["client_id"].as_str().unwrap().to_owned();
    let first_secret = applied["client_secret"].as_str().unwrap().to_owned();
    let approve = send(
        app,
        "POST",
        &format!("/api/v1/operator/companies/{id}/approve"),
        &operator,
        None,
    );
    assert_eq!(approve.status, 200, "{}", approve.body);

    let form = app.get("/company/signin");
    let csrf = super::cookie_value(&form, "infobank_csrf");
    let anon = format!("infobank_csrf={csrf}");
    let with_session = |token: &str| format!("{anon}; infobank_company={token}");
    let dashboard = |cookie: &str| app.get_with_cookie("/company", cookie);
    let signed_out = |r: &Response| r.status == 303 && r.header("location") == Some("/company/signin");
    // A session signed in half a minute ago, before any rotation.
    let earlier = infobank_crypto::TokenSigner::new(&app.keys())
        .issue(
            &id,
            "company",
            "infobank:company-portal",
            chrono::Duration::minutes(60),
            chrono::Utc::now() - chrono::Duration::seconds(30),
        )
        .unwrap()
        .token;
    let earlier = with_session(&earlier);
    assert_eq!(dashboard(&earlier).status, 200);

    let rotated = app.post_form("/company/secret", &earlier, &[("csrf_token", &csrf)]);
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let new_secret = rotated
        .body
        .split(r#"<code id="new-secret">"#)
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap()
        .to_owned();
    let current = with_session(&super::cookie_value(&rotated, "infobank_company"));
    assert!(
        signed_out(&dashboard(&earlier)),
        "the session from before the rotation has ended"
    );
    assert_eq!(dashboard(&current).status, 200, "the rotating session goes on");
    company_token(app, &client_id, &first_secret).assert_problem(401, "invalid_client");
    let access = company_token(app, &client_id, &new_secret).json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let suspend = send(
        app,
        "POST",
        &format!("/api/v1/operator/companies/{id}/suspend"),
        &operator,
        Some(json!({"reason": "credentials posted online"})),
    );
    assert_eq!(suspend.status, 200, "{}", suspend.body);
    send(app, "POST", "/api/v1/companies/me/secret", &access, None).assert_problem(403, "company_not_approved");
    let page = dashboard(&current);
    assert!(
        page.body.contains(r#"id="secret-by-operator""#) && !page.body.contains(r#"id="rotate-secret""#),
        "{}",
        page.body
    );
    assert_eq!(
        app.post_form("/company/secret", &current, &[("csrf_token", &csrf)])
            .status,
        403
    );
    company_token(app, &client_id, &new_secret).assert_problem(403, "company_not_approved");

    // The operator's reset (a few minutes on: time is a parameter) ends the current session too.
    let reset = infobank_consent::companies::reset_secret(
        &mut app.pool.get().unwrap(),
        &id,
        "operator",
        chrono::Utc::now() + chrono::Duration::minutes(2),
    )
    .unwrap();
    assert!(signed_out(&dashboard(&current)));
    let reinstate = send(
        app,
        "POST",
        &format!("/api/v1/operator/companies/{id}/approve"),
        &operator,
        None,
    );
    assert_eq!(reinstate.status, 200, "{}", reinstate.body);
    company_token(app, &client_id, &new_secret).assert_problem(401, "invalid_client");
    // A token issued before the reset is void too, even now that the company is approved again:
    // whoever holds the leaked secret cannot rotate it back, nor read anything.
    send(app, "POST", "/api/v1/companies/me/secret", &access, None).assert_problem(401, "token_revoked");
    send(app, "GET", "/api/v1/consents", &access, None).assert_problem(401, "token_revoked");
    // (The reset is dated two minutes ahead, so the new secret's tokens are dated from then.)
    let fresh = company_token(app, &reset.client_id, &reset.client_secret);
    assert_eq!(fresh.status, 200, "{}", fresh.body);
}

/// Disclosures are rate-limited per company: with a burst of two and (practically) no refill, a
/// company's third fetch is 429 with Retry-After, while another company's fetch still passes.
fn disclosures_are_rate_limited_per_company(db: infobank_testkit::TestDb) {
    let limits = infobank_web::limits::RateLimits {
        disclosure: Some(infobank_web::limits::Limiter::new(0.001, 2)),
        ..Default::default()
    };
    let app = &TestApp::spawn_limited(db, limits);
    let operator = operator_token(app);
    let consent_to = |partner: &Partner| {
        let offer = approved_offer(app, &operator, partner, &["hobbies"], 0);
        send(
            app,
            "POST",
            "/api/v1/me/consents",
            &citizen(app),
            Some(json!({"offer_id": offer})),
        )
        .json()["consent"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (alpha, bravo) = (
        approved_partner(app, &operator, 301, 0),
        approved_partner(app, &operator, 302, 0),
    );
    let (for_alpha, for_bravo) = (consent_to(&alpha), consent_to(&bravo));
    let fetch = |partner: &Partner, consent: &str| {
        send(
            app,
            "GET",
            &format!("/api/v1/consents/{consent}/data"),
            &partner.token,
            None,
        )
    };
    assert_eq!(fetch(&alpha, &for_alpha).status, 200);
    assert_eq!(fetch(&alpha, &for_alpha).status, 200);
    let refused = fetch(&alpha, &for_alpha);
    refused.assert_problem(429, "rate_limited");
    assert!(
        refused
            .header("retry-after")
            .is_some_and(|s| s.parse::<u64>().unwrap() >= 1)
    );
    assert_eq!(fetch(&bravo, &for_bravo).status, 200);
}

mod disclosure_rate_limit {
    #[test]
    fn sqlite() {
        super::disclosures_are_rate_limited_per_company(infobank_testkit::TestDb::sqlite());
    }

    #[test]
    fn postgres() {
        if let Some(db) = infobank_testkit::TestDb::postgres() {
            super::disclosures_are_rate_limited_per_company(db);
        }
    }
}

/// Twelve fetches of one consent at once, with a quota of five a day: the reads run in
/// parallel and every one of them finds quota left, so only the re-check inside the write
/// transaction (SQLite: the group commit's job; PostgreSQL: the consent's row lock) keeps the
/// count. Exactly five answer 200, the offer's reward and the breadth bonus are paid once, and
/// the consent counts five uses.
fn concurrent_fetches_stay_within_the_quota_and_pay_once(app: &TestApp) {
    let operator = operator_token(app);
    let acme = approved_partner(app, &operator, 401, 100);
    let offer = approved_offer(app, &operator, &acme, &["residence"], 10);
    let alice = citizen(app);
    entrust_residence(app, &alice);
    let consent = consent_to(app, &alice, &offer);

    let answers: Vec<(u16, Value)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..12)
            .map(|_| {
                s.spawn(|| {
                    let r = fetch_data(app, &consent, &acme.token);
                    (r.status, r.json())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (status, body) in &answers {
        assert!(
            *status == 200 || (*status == 403 && body["code"] == "quota_exceeded"),
            "{status} {body}"
        );
    }
    assert_eq!(answers.iter().filter(|(s, _)| *s == 200).count(), 5, "{answers:?}");
    let leaves: std::collections::HashSet<&str> = answers
        .iter()
        .filter_map(|(_, body)| body["audit_leaf_hash"].as_str())
        .collect();
    assert_eq!(leaves.len(), 5, "each disclosure has a leaf of its own");

    let held = send(app, "GET", "/api/v1/consents", &acme.token, None).json();
    let held = held
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == consent.as_str())
        .unwrap()
        .clone();
    assert_eq!(held["uses"], 5, "{held}");
    assert_eq!(
        send(app, "GET", "/api/v1/me/disclosures", &alice, None)
            .json()
            .as_array()
            .unwrap()
            .len(),
        5
    );
    let coins = send(app, "GET", "/api/v1/me/coins", &alice, None).json();
    let paid = |reason: &str| {
        coins["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["reason"] == reason)
            .count()
    };
    assert_eq!(paid("offer_reward"), 1, "{coins}");
    assert_eq!(paid("breadth_bonus"), 1, "{coins}");
}

/// `GET /api/v1/audit/reconciliation`: a bank whose tables and log agree reconciles; then rows
/// changed beside the log are named: a deleted disclosure (hidden from its citizen), a deleted
/// record, an imported row deleted, a disclosure row added without a leaf, and a consent whose
/// status was changed without one.
fn reconciliation_names_rows_changed_beside_the_log(app: &TestApp) {
    use infobank_db::diesel::prelude::*;
    use infobank_db::schema::{consents, disclosures};

    let operator = operator_token(app);
    let acme = approved_partner(app, &operator, 501, 100);
    let offer = approved_offer(app, &operator, &acme, &["residence", "payment_history"], 10);
    let alice = citizen(app);
    let alice_id = send(app, "GET", "/api/v1/me", &alice, None).json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let residence = entrust_residence(app, &alice);
    let csv = "date,merchant,amount,currency,method,merchant_category\n2026-11-01,Lawson,480,JPY,qr,grocery\n2026-11-02,Aeon,2980,JPY,card,grocery\n";
    let imported = app.send_bytes(
        app.request("POST", "/api/v1/me/records/import?category=payment_history")
            .set("Authorization", &format!("Bearer {alice}"))
            .set("Content-Type", "text/csv"),
        csv.as_bytes(),
    );
    assert_eq!(imported.json()["imported"], 2, "{}", imported.body);
    let consent = consent_to(app, &alice, &offer);
    let mut disclosed = Vec::new();
    for _ in 0..2 {
        let r = fetch_data(app, &consent, &acme.token);
        assert_eq!(r.status, 200, "{}", r.body);
        disclosed.push(r.json()["disclosure_id"].as_str().unwrap().to_owned());
    }
    let pause = send(
        app,
        "POST",
        &format!("/api/v1/me/consents/{consent}/pause"),
        &alice,
        None,
    );
    assert_eq!(pause.status, 200, "{}", pause.body);
    // A deleted account's rows and leaves reconcile too: its consents and disclosures go with
    // it, their leaves stay.
    let bob = citizen(app);
    entrust_residence(app, &bob);
    let bobs = consent_to(app, &bob, &offer);
    assert_eq!(fetch_data(app, &bobs, &acme.token).status, 200);
    assert_eq!(send(app, "DELETE", "/api/v1/me", &bob, None).status, 204);

    let regulator_email = unique_email("regulator");
    create_staff(app, Role::Regulator, &regulator_email);
    let regulator = app.token(&regulator_email, PASSWORD);
    // The regulator's portal runs the same check.
    let portal = {
        let form = app.get("/signin");
        let csrf = cookie_value(&form, "infobank_csrf");
        let ok = app.post_form(
            "/signin",
            &format!("infobank_csrf={csrf}"),
            &[
                ("csrf_token", &csrf),
                ("email", &regulator_email),
                ("password", PASSWORD),
            ],
        );
        assert_eq!(ok.status, 303, "{}", ok.body);
        format!(
            "infobank_csrf={csrf}; infobank_session={}",
            cookie_value(&ok, "infobank_session")
        )
    };
    let page = app.get_with_cookie("/regulator/reconciliation", &portal);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(r#"data-mismatches="0""#), "{}", page.body);
    send(app, "GET", "/api/v1/audit/reconciliation", &alice, None).assert_problem(403, "wrong_role");
    let clean = send(app, "GET", "/api/v1/audit/reconciliation", &regulator, None);
    assert_eq!(clean.status, 200, "{}", clean.body);
    let clean = clean.json();
    assert_eq!(clean["mismatch_count"], 0, "{clean}");
    assert_eq!(clean["rows"]["disclosures"], 2, "{clean}");
    assert_eq!(clean["rows"]["vault_records"], 3, "{clean}");

    {
        let conn = &mut *app.pool.get().unwrap();
        let first = &disclosed[0];
        infobank_db::diesel::delete(disclosures::table.find(first))
            .execute(conn)
            .unwrap();
        infobank_db::diesel::sql_query(format!("DELETE FROM vault_records WHERE id = '{residence}'"))
            .execute(conn)
            .unwrap();
        infobank_db::diesel::sql_query(format!(
            "DELETE FROM vault_records WHERE id IN (SELECT id FROM vault_records WHERE citizen_id = '{alice_id}' \
             AND category = 'payment_history' ORDER BY id LIMIT 1)"
        ))
        .execute(conn)
        .unwrap();
        // A disclosure row that no leaf speaks for, copied from a real one but for its id and hash.
        let (consent_id, citizen_id, company_id, categories, record_count, at): (
            String,
            String,
            String,
            String,
            i32,
            chrono::NaiveDateTime,
        ) = disclosures::table
            .find(&disclosed[1])
            .select((
                disclosures::consent_id,
                disclosures::citizen_id,
                disclosures::company_id,
                disclosures::categories,
                disclosures::record_count,
                disclosures::disclosed_at,
            ))
            .first(conn)
            .unwrap();
        infobank_db::diesel::insert_into(disclosures::table)
            .values((
                disclosures::id.eq("forged-disclosure"),
                disclosures::consent_id.eq(consent_id),
                disclosures::citizen_id.eq(citizen_id),
                disclosures::company_id.eq(company_id),
                disclosures::categories.eq(categories),
                disclosures::record_count.eq(record_count),
                disclosures::disclosed_at.eq(at),
                disclosures::audit_leaf_hash.eq(vec![7u8; 32]),
            ))
            .execute(conn)
            .unwrap();
        infobank_db::diesel::update(consents::table.find(&consent))
            .set(consents::status.eq("active"))
            .execute(conn)
            .unwrap();
    }
    let found = send(app, "GET", "/api/v1/audit/reconciliation", &regulator, None).json();
    let named: Vec<(String, String, String)> = found["mismatches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["table"].as_str().unwrap().to_owned(),
                m["id"].as_str().unwrap().to_owned(),
                m["problem"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let has = |table: &str, id: &str, problem: &str| {
        named
            .iter()
            .any(|(t, i, p)| t == table && i == id && p.contains(problem))
    };
    assert!(has("disclosures", &disclosed[0], "the row is missing"), "{named:?}");
    assert!(
        has("disclosures", "forged-disclosure", "no disclosure leaf"),
        "{named:?}"
    );
    assert!(has("vault_records", &residence, "the row is missing"), "{named:?}");
    assert!(
        has(
            "vault_records",
            &format!("citizen {alice_id}, payment_history"),
            "deleted without its leaf"
        ),
        "{named:?}"
    );
    assert!(
        has(
            "consents",
            &consent,
            "its status is active; its last leaf left it paused"
        ),
        "{named:?}"
    );
    assert_eq!(found["mismatch_count"], 5, "nothing else: {named:?}");
    let page = app.get_with_cookie("/regulator/reconciliation", &portal);
    assert!(
        page.body.contains(r#"data-mismatches="5""#) && page.body.contains("forged-disclosure"),
        "{}",
        page.body
    );
    assert_ne!(
        app.get("/regulator/reconciliation").status,
        200,
        "not without a regulator's session"
    );
}

app_tests!(
    reconciliation_names_rows_changed_beside_the_log,
    concurrent_fetches_stay_within_the_quota_and_pay_once,
    a_partner_walks_from_application_to_disclosure,
    a_replaced_secret_ends_earlier_sessions_and_a_suspended_company_cannot_replace_it,
    the_token_endpoint_and_roles_refuse_cleanly,
    the_authorisation_matrix_holds_over_http,
);
