//! The vault API: categories, the record lifecycle, every category's validation with the field
//! named, the card-number refusal, other citizens' ids, export and account deletion.

use infobank_accounts::Role;
use infobank_testkit::{TestApp, app_tests};
use serde_json::{Value, json};

use super::{PASSWORD, create_staff, unique_email};

fn citizen_token(app: &TestApp) -> String {
    let email = unique_email("vault");
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

fn categories_are_public_and_complete(app: &TestApp) {
    let r = app.get("/api/v1/categories");
    assert_eq!(r.status, 200);
    let cats = r.json()["categories"].as_array().unwrap().clone();
    let names: Vec<&str> = cats.iter().map(|c| c["name"].as_str().unwrap()).collect();
    for expected in [
        "birth_date",
        "residence",
        "family_structure",
        "hobbies",
        "preferences",
        "daily_mood",
        "physical_condition",
        "payment_history",
        "education",
        "employment",
        "drivers_license",
        "vehicle",
        "real_estate",
        "insurance",
        "credit_card",
        "identity_document",
    ] {
        assert!(names.contains(&expected), "missing {expected}");
    }
    let health = cats.iter().find(|c| c["name"] == "physical_condition").unwrap();
    assert_eq!(health["sensitivity"], "special");
    assert_eq!(health["cardinality"], "series");
    assert!(health["dpv"].as_str().unwrap().starts_with("pd:"));
    assert!(health["coin_weight"].as_u64().unwrap() > 0);
    let weight = health["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "weight_kg")
        .unwrap();
    assert_eq!(
        (weight["type"].as_str(), weight["unit"].as_str()),
        (Some("decimal"), Some("kg"))
    );
}

fn a_record_is_created_read_updated_listed_and_deleted(app: &TestApp) {
    let token = citizen_token(app);
    let data = json!({"prefecture": "Tokyo", "city": "Chiyoda", "postal_code": "1000001"});
    let created = send(
        app,
        "POST",
        "/api/v1/me/records",
        &token,
        Some(json!({"category": "residence", "data": data})),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let record = created.json();
    assert_eq!(record["data"]["postal_code"], "100-0001", "normalised");
    assert_eq!(record["version"], 1);
    let id = record["id"].as_str().unwrap();
    let path = format!("/api/v1/me/records/{id}");

    assert_eq!(send(app, "GET", &path, &token, None).json(), record);
    let updated = send(
        app,
        "PUT",
        &path,
        &token,
        Some(json!({"data": {"prefecture": "Osaka", "city": "Kita", "postal_code": "530-0001"}})),
    );
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(
        (
            updated.json()["version"].as_i64(),
            updated.json()["data"]["city"].as_str()
        ),
        (Some(2), Some("Kita"))
    );
    let list = send(app, "GET", "/api/v1/me/records?category=residence", &token, None).json();
    assert_eq!(list["records"].as_array().unwrap().len(), 1);
    assert!(list["next_after"].is_null());
    send(
        app,
        "POST",
        "/api/v1/me/records",
        &token,
        Some(json!({"category": "residence", "data": data})),
    )
    .assert_problem(409, "single_record_exists");

    assert_eq!(send(app, "DELETE", &path, &token, None).status, 204);
    send(app, "GET", &path, &token, None).assert_problem(404, "not_found");
    send(app, "DELETE", &path, &token, None).assert_problem(404, "not_found");
}

fn every_category_names_the_field_it_refuses(app: &TestApp) {
    let token = citizen_token(app);
    let cats = app.get("/api/v1/categories").json()["categories"]
        .as_array()
        .unwrap()
        .clone();
    for cat in cats {
        let name = cat["name"].as_str().unwrap();
        let required = cat["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["required"] == true)
            .unwrap()["name"]
            .as_str()
            .unwrap()
            .to_owned();
        let r = send(
            app,
            "POST",
            "/api/v1/me/records",
            &token,
            Some(json!({"category": name, "data": {}})),
        );
        let problem = r.assert_problem(422, "validation_failed");
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert!(fields.contains(&required.as_str()), "{name}: {fields:?}");
        let r = send(
            app,
            "POST",
            "/api/v1/me/records",
            &token,
            Some(json!({"category": name, "data": {"bogus": 1}})),
        );
        let problem = r.assert_problem(422, "validation_failed");
        assert!(
            problem["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["field"] == "bogus" && e["code"] == "unknown_field"),
            "{name}"
        );
    }
    let bad_value = send(
        app,
        "POST",
        "/api/v1/me/records",
        &token,
        Some(json!({"category": "daily_mood", "data": {"date": "2026-13-01", "score": 9}})),
    );
    let problem = bad_value.assert_problem(422, "validation_failed");
    assert_eq!(problem["errors"].as_array().unwrap().len(), 2);
    send(
        app,
        "POST",
        "/api/v1/me/records",
        &token,
        Some(json!({"category": "horoscope", "data": {}})),
    )
    .assert_problem(422, "unknown_category");
    send(
        app,
        "POST",
        "/api/v1/me/records",
        &token,
        Some(json!({"category": "hobbies"})),
    )
    .assert_problem(422, "validation_failed");
}

fn a_full_card_number_gets_its_own_code_and_is_never_echoed(app: &TestApp) {
    let token = citizen_token(app);
    let number = "4111 1111 1111 1111";
    let r = send(
        app,
        "POST",
        "/api/v1/me/records",
        &token,
        Some(json!({"category": "credit_card", "data": {"issuer": "Bank", "brand": "visa", "last4": number}})),
    );
    let problem = r.assert_problem(422, "full_card_number_forbidden");
    assert_eq!(problem["errors"][0]["field"], "last4");
    assert!(!r.body.contains("4111"), "{}", r.body);
    let r = send(
        app,
        "POST",
        "/api/v1/me/records",
        &token,
        Some(json!({"category": "credit_card", "data": {"issuer": number, "brand": "visa", "last4": "1111"}})),
    );
    r.assert_problem(422, "full_card_number_forbidden");
    let ok = send(
        app,
        "POST",
        "/api/v1/me/records",
        &token,
        Some(json!({"category": "credit_card", "data": {"issuer": "Bank", "brand": "visa", "last4": "1111"}})),
    );
    assert_eq!(ok.status, 201, "{}", ok.body);
}

fn another_citizens_record_is_404_and_staff_are_refused(app: &TestApp) {
    let alice = citizen_token(app);
    let mallory = citizen_token(app);
    let r = send(
        app,
        "POST",
        "/api/v1/me/records",
        &alice,
        Some(json!({"category": "hobbies", "data": {"items": ["go"]}})),
    );
    let path = format!("/api/v1/me/records/{}", r.json()["id"].as_str().unwrap());
    send(app, "GET", &path, &mallory, None).assert_problem(404, "not_found");
    send(app, "PUT", &path, &mallory, Some(json!({"data": {"items": ["chess"]}}))).assert_problem(404, "not_found");
    send(app, "DELETE", &path, &mallory, None).assert_problem(404, "not_found");
    assert_eq!(
        send(app, "GET", &path, &alice, None).json()["data"]["items"],
        json!(["go"])
    );
    app.get(&path).assert_problem(401, "unauthenticated");
    let email = unique_email("vault-regulator");
    create_staff(app, Role::Regulator, &email);
    let regulator = app.token(&email, PASSWORD);
    send(app, "GET", "/api/v1/me/records", &regulator, None).assert_problem(403, "wrong_role");
    send(app, "GET", "/api/v1/me/records?limit=0", &alice, None).assert_problem(400, "invalid_query");
}

fn export_then_delete_the_account(app: &TestApp) {
    let email = unique_email("leaving");
    app.sign_up(&email, PASSWORD);
    let token = app.token(&email, PASSWORD);
    for day in 1..=3 {
        let data = json!({"date": format!("2026-11-0{day}"), "score": day});
        assert_eq!(
            send(
                app,
                "POST",
                "/api/v1/me/records",
                &token,
                Some(json!({"category": "daily_mood", "data": data}))
            )
            .status,
            201
        );
    }
    let export = send(app, "GET", "/api/v1/me/export", &token, None);
    assert_eq!(export.status, 200);
    assert!(export.header("content-disposition").unwrap().contains("attachment"));
    let doc = export.json();
    assert_eq!(doc["account"]["email"], email.to_lowercase());
    assert_eq!(doc["records"].as_array().unwrap().len(), 3);

    assert_eq!(send(app, "DELETE", "/api/v1/me", &token, None).status, 204);
    // The token is unexpired, but its holder is gone: nothing answers it any more.
    for (method, path) in [
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/me/records"),
        ("GET", "/api/v1/me/consents"),
        ("DELETE", "/api/v1/me"),
    ] {
        send(app, method, path, &token, None).assert_problem(401, "token_revoked");
    }
    app.login(&email, PASSWORD).assert_problem(401, "invalid_credentials");
    app.sign_up(&email, PASSWORD);
    let fresh = app.token(&email, PASSWORD);
    assert!(
        send(app, "GET", "/api/v1/me/records", &fresh, None).json()["records"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

fn payment_history_imports_from_csv_with_one_bad_row(app: &TestApp) {
    let token = citizen_token(app);
    let post = |content_type: &str, body: &[u8], category: &str| {
        let req = app
            .request("POST", &format!("/api/v1/me/records/import?category={category}"))
            .set("Authorization", &format!("Bearer {token}"))
            .set("Content-Type", content_type);
        app.send_bytes(req, body)
    };
    let csv = "date,merchant,amount,currency,method,merchant_category\n2026-11-01,Lawson,480,JPY,qr,grocery\n2026-11-01,Bad,-5,JPY,qr,grocery\n2026-11-02,Aeon,2980,JPY,card,grocery\n";
    let r = post("text/csv; charset=utf-8", csv.as_bytes(), "payment_history");
    assert_eq!(r.status, 200, "{}", r.body);
    let body = r.json();
    assert_eq!(body["imported"], 2);
    assert_eq!(
        body["rejected"],
        json!([{"row": 2, "code": "out_of_range", "message": "amount: must be between 0 and 100000000"}])
    );
    let listed = send(app, "GET", "/api/v1/me/records?category=payment_history", &token, None).json();
    assert_eq!(listed["records"].as_array().unwrap().len(), 2);

    // An unclosed quote spoils its own row, not the good rows after it.
    let unclosed = "date,merchant,amount,currency,method,merchant_category\n2026-11-03,\"Seijo Ishii,900,JPY,card,grocery\n2026-11-03,Seven,150,JPY,qr,grocery\n2026-11-04,Aeon,700,JPY,card,grocery\n";
    let r = post("text/csv", unclosed.as_bytes(), "payment_history");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.json(),
        json!({"imported": 2, "rejected": [{"row": 1, "code": "malformed_row", "message": "unreadable CSV row: a quoted field is not closed"}]})
    );

    post("text/plain", csv.as_bytes(), "payment_history").assert_problem(415, "unsupported_media_type");
    post("text/csv", b"when,where\n", "payment_history").assert_problem(400, "malformed_import");
    post("application/json", b"[]", "residence").assert_problem(422, "not_importable");
    post("application/json", b"[]", "nope").assert_problem(422, "unknown_category");
    let huge = vec![b'x'; 10 * 1024 * 1024 + 1];
    post("text/csv", &huge, "payment_history").assert_problem(413, "payload_too_large");
    app.send_bytes(
        app.request("POST", "/api/v1/me/records/import?category=payment_history")
            .set("Content-Type", "text/csv"),
        csv.as_bytes(),
    )
    .assert_problem(401, "unauthenticated");
}

app_tests!(
    payment_history_imports_from_csv_with_one_bad_row,
    categories_are_public_and_complete,
    a_record_is_created_read_updated_listed_and_deleted,
    every_category_names_the_field_it_refuses,
    a_full_card_number_gets_its_own_code_and_is_never_echoed,
    another_citizens_record_is_404_and_staff_are_refused,
    export_then_delete_the_account,
);
