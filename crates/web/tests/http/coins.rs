//! Coins over HTTP: the published policy, the wallet, redemption (also twenty at once), a
//! recomputation of every coin from what the API publishes, and the portal's Coins pages.

use infobank_accounts::Role;
use infobank_testkit::{TestApp, app_tests};
use serde_json::{Value, json};

use super::{PASSWORD, cookie_value, create_staff, unique_email};

fn citizen_token(app: &TestApp) -> String {
    let email = unique_email("coins");
    app.sign_up(&email, PASSWORD);
    app.token(&email, PASSWORD)
}

fn send(app: &TestApp, method: &str, path: &str, token: &str, body: Option<Value>) -> infobank_testkit::Response {
    let req = app
        .request(method, path)
        .set("Authorization", &format!("Bearer {token}"));
    match body {
        Some(b) => app.send_bytes(req.set("Content-Type", "application/json"), b.to_string().as_bytes()),
        None => app.send(req),
    }
}

pub(crate) fn entrust(app: &TestApp, token: &str, category: &str, data: Value) {
    let r = send(
        app,
        "POST",
        "/api/v1/me/records",
        token,
        Some(json!({"category": category, "data": data})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
}

fn import_payments(app: &TestApp, token: &str, count: usize) {
    let mut csv = String::from("date,merchant,amount,currency,method,merchant_category\n");
    for i in 0..count {
        csv.push_str(&format!(
            "2026-10-{:02},Shop {i},{},JPY,qr,grocery\n",
            i % 28 + 1,
            100 + i
        ));
    }
    let req = app
        .request("POST", "/api/v1/me/records/import?category=payment_history")
        .set("Authorization", &format!("Bearer {token}"))
        .set("Content-Type", "text/csv");
    let r = app.send_bytes(req, csv.as_bytes());
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["imported"], count);
}

fn the_reward_policy_is_published_and_versioned(app: &TestApp) {
    let r = app.get("/api/v1/reward-policy");
    assert_eq!(r.status, 200);
    let p = r.json();
    assert_eq!(p["version"], 1);
    assert_eq!(p["categories"].as_object().unwrap().len(), 16);
    assert_eq!(p["categories"]["residence"]["weight"], 20);
    assert!(p["formulas"]["entrust"].as_str().unwrap().contains("monthly_cap_units"));
    assert_eq!(p["versions"][0]["version"], 1);
    assert_eq!(app.get("/api/v1/reward-policy?version=1").json()["version"], 1);
    app.get("/api/v1/reward-policy?version=99")
        .assert_problem(404, "not_found");
    app.get("/api/v1/reward-policy?version=first")
        .assert_problem(400, "invalid_query");
    // The categories list prices each category under the same policy.
    let cats = app.get("/api/v1/categories").json();
    assert_eq!(cats["reward_policy_version"], 1);
    let residence = cats["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "residence")
        .unwrap();
    assert_eq!(residence["coin_weight"], p["categories"]["residence"]["weight"]);
    // The policy page says the same in words, without signing in.
    let page = app.get("/coins/policy");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("v1") && page.body.contains(r#"id="policy-rules""#));
}

/// Every coin of the wallet recomputed from `GET /api/v1/reward-policy?version=N` and the inputs
/// `GET /api/v1/me/coins` records, with arithmetic written here.
fn every_coin_recomputes_from_what_the_api_publishes(app: &TestApp) {
    let token = citizen_token(app);
    entrust(
        app,
        &token,
        "residence",
        json!({"prefecture": "Tokyo", "city": "Chiyoda", "postal_code": "100-0001"}),
    );
    entrust(
        app,
        &token,
        "daily_mood",
        json!({"date": "2026-11-20", "score": 4, "note": "fine"}),
    );
    entrust(
        app,
        &token,
        "daily_mood",
        json!({"date": "2026-11-21", "score": 3, "note": "ok"}),
    ); // same month: nothing more
    import_payments(app, &token, 23);
    let wallet = send(app, "GET", "/api/v1/me/coins", &token, None).json();
    let entries = wallet["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3, "{wallet}");
    let mut total = 0;
    for e in entries {
        assert_eq!(e["reason"], "entrust_reward");
        let version = e["policy_version"].as_i64().unwrap();
        let policy = app.get(&format!("/api/v1/reward-policy?version={version}")).json();
        let inputs = &e["inputs"];
        let rule = &policy["categories"][inputs["category"].as_str().unwrap()];
        let (weight, per_unit, cap) = (
            rule["weight"].as_i64().unwrap(),
            rule["records_per_unit"].as_i64().unwrap(),
            rule["monthly_cap_units"].as_i64().unwrap(),
        );
        let held = inputs["records_held"].as_i64().unwrap();
        let units = ((held + per_unit - 1) / per_unit).min(cap);
        assert_eq!(e["amount"].as_i64().unwrap(), weight * units, "{e}");
        total += weight * units;
    }
    assert_eq!(wallet["balance"].as_i64().unwrap(), total);
    // 23 payments are 3 units of weight 5; residence 20; one mood 2.
    assert_eq!(total, 20 + 2 + 15);
    // The export carries the same entries.
    let export = send(app, "GET", "/api/v1/me/export", &token, None).json();
    assert_eq!(export["coin_entries"].as_array().unwrap().len(), 3);
}

fn redemption_validates_refuses_and_replays(app: &TestApp) {
    let token = citizen_token(app);
    entrust(
        app,
        &token,
        "residence",
        json!({"prefecture": "Osaka", "city": "Kita", "postal_code": "530-0001"}),
    );
    let redeem = |body: Value| send(app, "POST", "/api/v1/me/coins/redeem", &token, Some(body));
    let first = redeem(json!({"amount": 5, "idempotency_key": "gift-1", "target": "donation"}));
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.json()["balance"], 15);
    assert_eq!(first.json()["entry"]["amount"], -5);
    let retry = redeem(json!({"amount": 5, "idempotency_key": "gift-1", "target": "donation"}));
    assert_eq!(retry.status, 200);
    assert_eq!(retry.json()["entry"]["id"], first.json()["entry"]["id"]);
    assert_eq!(retry.json()["balance"], 15, "a retry spends nothing");
    redeem(json!({"amount": 6, "idempotency_key": "gift-1", "target": "donation"}))
        .assert_problem(409, "idempotency_key_reused");
    redeem(json!({"amount": 16, "idempotency_key": "gift-2"})).assert_problem(409, "insufficient_coins");
    let zero = redeem(json!({"amount": 0, "idempotency_key": "gift-3"})).assert_problem(422, "validation_failed");
    assert_eq!(zero["errors"][0]["field"], "amount");
    let key = redeem(json!({"amount": 1, "idempotency_key": ""})).assert_problem(422, "validation_failed");
    assert_eq!(key["errors"][0]["field"], "idempotency_key");
    let target =
        redeem(json!({"amount": 1, "idempotency_key": "t", "target": "cash"})).assert_problem(422, "validation_failed");
    assert_eq!(target["errors"][0]["field"], "target");
    redeem(json!({"amount": 1.5, "idempotency_key": "t"})).assert_problem(422, "validation_failed");
    redeem(json!({"amount": 1})).assert_problem(422, "validation_failed");
    let wallet = send(app, "GET", "/api/v1/me/coins?limit=1", &token, None).json();
    assert_eq!(wallet["balance"], 15);
    assert_eq!(wallet["entries"].as_array().unwrap().len(), 1);
    let older = wallet["next_before"].as_str().unwrap();
    let page2 = send(
        app,
        "GET",
        &format!("/api/v1/me/coins?limit=1&before={older}"),
        &token,
        None,
    )
    .json();
    assert_eq!(page2["entries"][0]["reason"], "entrust_reward");
    send(app, "GET", "/api/v1/me/coins?limit=0", &token, None).assert_problem(400, "invalid_query");

    // Only the citizen's own wallet, only with a citizen token.
    app.get("/api/v1/me/coins").assert_problem(401, "unauthenticated");
    let operator = unique_email("op");
    create_staff(app, Role::Operator, &operator);
    let op_token = app.token(&operator, PASSWORD);
    send(app, "GET", "/api/v1/me/coins", &op_token, None).assert_problem(403, "wrong_role");
    let other = citizen_token(app);
    assert_eq!(send(app, "GET", "/api/v1/me/coins", &other, None).json()["balance"], 0);
}

/// Twenty redemptions at once that together ask for more than the balance.
fn twenty_concurrent_redemptions_leave_the_balance_at_zero_or_above(app: &TestApp) {
    let token = citizen_token(app);
    entrust(
        app,
        &token,
        "residence",
        json!({"prefecture": "Kyoto", "city": "Sakyo", "postal_code": "606-0001"}),
    );
    entrust(
        app,
        &token,
        "family_structure",
        json!({"household_size": 2, "members": []}),
    );
    let start = send(app, "GET", "/api/v1/me/coins", &token, None).json()["balance"]
        .as_i64()
        .unwrap();
    assert_eq!(start, 35);
    let statuses: Vec<(u16, Value)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..20)
            .map(|n| {
                let token = token.clone();
                s.spawn(move || {
                    let r = send(
                        app,
                        "POST",
                        "/api/v1/me/coins/redeem",
                        &token,
                        Some(json!({"amount": 4, "idempotency_key": format!("c-{n}")})),
                    );
                    let body = if r.status == 201 { Value::Null } else { r.json() };
                    (r.status, body)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let ok = statuses.iter().filter(|(s, _)| *s == 201).count() as i64;
    for (status, body) in &statuses {
        assert!(
            *status == 201 || (*status == 409 && body["code"] == "insufficient_coins"),
            "{status} {body}"
        );
    }
    assert_eq!(ok, 8, "35 coins pay for eight redemptions of 4");
    let end = send(app, "GET", "/api/v1/me/coins", &token, None).json()["balance"]
        .as_i64()
        .unwrap();
    assert_eq!(end, start - 4 * ok);
    assert!(end >= 0);
}

fn portal_session(app: &TestApp, email: &str) -> (String, String) {
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

fn the_coins_page_explains_charts_and_redeems(app: &TestApp) {
    let email = unique_email("coinspage");
    app.sign_up(&email, PASSWORD);
    let token = app.token(&email, PASSWORD);
    assert_eq!(app.get("/coins").status, 303, "signed-out visitors are sent to sign in");
    entrust(
        app,
        &token,
        "residence",
        json!({"prefecture": "Tokyo", "city": "Minato", "postal_code": "105-0001"}),
    );
    let (cookies, csrf) = portal_session(app, &email);
    let page = app.get_with_cookie("/coins", &cookies);
    assert_eq!(page.status, 200);
    assert!(page.body.contains(r#"data-balance="20""#), "{}", page.body);
    assert!(
        page.body
            .contains("entrusted Residence: 1 unit(s) x weight 20, policy v1"),
        "{}",
        page.body
    );
    assert!(page.body.contains("<svg id=\"coins-chart\""));
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    assert!(
        page.body.contains(&format!(r#"data-month="{month}" data-total="20""#)),
        "the current month's bar"
    );

    let key = page
        .body
        .split(r#"name="idempotency_key" value=""#)
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("amount", "7"),
        ("target", "donation"),
        ("idempotency_key", key.as_str()),
    ];
    let done = app.post_form("/coins/redeem", &cookies, &fields);
    assert_eq!(
        (done.status, done.header("location")),
        (303, Some("/coins?notice=redeemed"))
    );
    // The same form submitted twice redeems once.
    assert_eq!(app.post_form("/coins/redeem", &cookies, &fields).status, 303);
    let after = app.get_with_cookie("/coins?notice=redeemed", &cookies);
    assert!(after.body.contains(r#"data-balance="13""#), "{}", after.body);
    assert!(after.body.contains("redeemed for Donation"));

    let too_much = app.post_form(
        "/coins/redeem",
        &cookies,
        &[
            ("csrf_token", &csrf),
            ("amount", "14"),
            ("target", "donation"),
            ("idempotency_key", "k2"),
        ],
    );
    assert_eq!(too_much.status, 422);
    assert!(
        too_much.body.contains(r#"id="redeem-error""#) && too_much.body.contains("You do not have that many coins.")
    );
    let nonsense = app.post_form(
        "/coins/redeem",
        &cookies,
        &[("csrf_token", &csrf), ("amount", "lots"), ("idempotency_key", "k3")],
    );
    assert_eq!(nonsense.status, 422);
    let forged = app.post_form(
        "/coins/redeem",
        &cookies,
        &[("csrf_token", "forged"), ("amount", "1"), ("idempotency_key", "k4")],
    );
    assert_eq!(forged.status, 403);
    // Japanese.
    let ja = app.send(
        app.request("GET", "/coins")
            .set("Cookie", &format!("{cookies}; lang=ja")),
    );
    assert!(ja.body.contains("居住地を預託：1単位 × 重み20、方針 v1"), "{}", ja.body);
    assert!(ja.body.contains("寄付に交換"));
}

fn operators_see_company_coins_and_citizens_do_not(app: &TestApp) {
    let company = uuid::Uuid::now_v7().to_string();
    {
        let conn = &mut *app.pool.get().unwrap();
        infobank_coins::funding::fund_company(conn, &company, 300, &company, "test", chrono::Utc::now()).unwrap();
    }
    let operator = unique_email("opcoins");
    create_staff(app, Role::Operator, &operator);
    let (cookies, _) = portal_session(app, &operator);
    let list = app.get_with_cookie("/operator/coins", &cookies);
    assert_eq!(list.status, 200);
    assert!(list.body.contains(&format!(r#"data-company="{company}""#)));
    let one = app.get_with_cookie(&format!("/operator/coins/{company}"), &cookies);
    assert!(
        one.body.contains(r#"<dd id="company-balance">300</dd>"#),
        "{}",
        one.body
    );

    let citizen = unique_email("notop");
    app.sign_up(&citizen, PASSWORD);
    let (citizen_cookies, _) = portal_session(app, &citizen);
    assert_eq!(app.get_with_cookie("/operator/coins", &citizen_cookies).status, 403);
    assert_eq!(app.get("/operator/coins").status, 303);
}

app_tests!(
    the_reward_policy_is_published_and_versioned,
    every_coin_recomputes_from_what_the_api_publishes,
    redemption_validates_refuses_and_replays,
    twenty_concurrent_redemptions_leave_the_balance_at_zero_or_above,
    the_coins_page_explains_charts_and_redeems,
    operators_see_company_coins_and_citizens_do_not,
);
