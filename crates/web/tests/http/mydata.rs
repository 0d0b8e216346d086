//! The portal's "My data" pages over HTTP, as a browser without JavaScript uses them.

use infobank_accounts::Role;
use infobank_testkit::{TestApp, app_tests};

use super::{PASSWORD, cookie_value, create_staff, hidden_csrf_token, unique_email};

/// Signs up and in through the portal; returns the Cookie header and the CSRF token.
fn portal_session(app: &TestApp, email: &str) -> (String, String) {
    app.sign_up(email, PASSWORD);
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

fn multipart(csrf: &str, csv: &str) -> (String, Vec<u8>) {
    let boundary = "----infobankTestBoundary7MA4YWxk";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{csrf}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"payments.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n\
         --{boundary}--\r\n"
    );
    (format!("multipart/form-data; boundary={boundary}"), body.into_bytes())
}

fn a_citizen_adds_edits_and_deletes_records_in_the_portal(app: &TestApp) {
    let (cookies, csrf) = portal_session(app, &unique_email("mydata"));
    let index = app.get_with_cookie("/data", &cookies);
    assert_eq!(index.status, 200);
    assert!(index.body.contains(r#"data-category="physical_condition""#) && index.body.contains("badge-special"));

    let page = app.get_with_cookie("/data/daily_mood", &cookies);
    assert!(
        page.body.contains(r#"id="f-date" name="date" type="date""#),
        "date picker"
    );
    assert!(
        page.body.contains(r#"type="number""#) && page.body.contains(r#"min="1""#) && page.body.contains(r#"max="5""#)
    );
    assert_eq!(hidden_csrf_token(&page), csrf);

    let bad = app.post_form(
        "/data/daily_mood",
        &cookies,
        &[
            ("csrf_token", &csrf),
            ("date", "2026-11-20"),
            ("score", "9"),
            ("note", "kept"),
        ],
    );
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains(r#"id="f-score-error""#) && bad.body.contains("The value is outside the allowed range."));
    assert!(bad.body.contains(r#"value="kept""#), "what was typed is kept");

    let ok = app.post_form(
        "/data/daily_mood",
        &cookies,
        &[
            ("csrf_token", &csrf),
            ("date", "2026-11-20"),
            ("score", "4"),
            ("note", "sunny"),
        ],
    );
    assert_eq!(
        (ok.status, ok.header("location")),
        (303, Some("/data/daily_mood?notice=saved"))
    );
    let list = app.get_with_cookie("/data/daily_mood?notice=saved", &cookies);
    assert!(list.body.contains("sunny") && list.body.contains(r#"id="notice""#));
    let marker = r#"class="record card" data-id=""#;
    let start = list.body.find(marker).unwrap() + marker.len();
    let id = list.body[start..].split('"').next().unwrap().to_owned();

    let edit = app.get_with_cookie(&format!("/data/daily_mood/{id}/edit"), &cookies);
    assert!(
        edit.body.contains(r#"value="sunny""#) && edit.body.contains(&format!(r#"action="/data/daily_mood/{id}""#))
    );
    let saved = app.post_form(
        &format!("/data/daily_mood/{id}"),
        &cookies,
        &[
            ("csrf_token", &csrf),
            ("date", "2026-11-20"),
            ("score", "2"),
            ("note", "rain"),
        ],
    );
    assert_eq!(saved.status, 303);
    let list = app.get_with_cookie("/data/daily_mood", &cookies);
    assert!(list.body.contains("rain") && list.body.contains(r#"data-version="2""#));

    assert_eq!(
        app.post_form(&format!("/data/daily_mood/{id}/delete"), &cookies, &[])
            .status,
        403,
        "no CSRF token"
    );
    let gone = app.post_form(
        &format!("/data/daily_mood/{id}/delete"),
        &cookies,
        &[("csrf_token", &csrf)],
    );
    assert_eq!(
        (gone.status, gone.header("location")),
        (303, Some("/data/daily_mood?notice=deleted"))
    );
    assert!(
        app.get_with_cookie("/data/daily_mood", &cookies)
            .body
            .contains(r#"id="no-records""#)
    );

    // Japanese messages for the same mistakes.
    let ja = format!("{cookies}; lang=ja");
    let bad = app.post_form(
        "/data/residence",
        &ja,
        &[
            ("csrf_token", &csrf),
            ("prefecture", "東京都"),
            ("city", "千代田区"),
            ("postal_code", "12345"),
        ],
    );
    assert_eq!(bad.status, 422);
    assert!(
        bad.body.contains("100-0001 のような郵便番号を入力してください。"),
        "{}",
        bad.body
    );
    let card = app.post_form(
        "/data/credit_card",
        &cookies,
        &[
            ("csrf_token", &csrf),
            ("issuer", "Bank"),
            ("brand", "visa"),
            ("last4", "4111111111111111"),
        ],
    );
    assert_eq!(card.status, 422);
    assert!(card.body.contains("Never enter a full card number") && !card.body.contains("4111111111111111"));
}

fn upload_export_and_delete_the_account_in_the_portal(app: &TestApp) {
    let email = unique_email("portal-leaver");
    let (cookies, csrf) = portal_session(app, &email);
    let csv = "date,merchant,amount,currency,method,merchant_category\n2026-11-01,Lawson,480,JPY,qr,grocery\n2026-11-02,Bad,lots,JPY,qr,grocery\n2026-11-03,Aeon,2980,JPY,card,grocery\n";
    let (content_type, body) = multipart(&csrf, csv);
    let r = app.send_bytes(
        app.request("POST", "/data/import")
            .set("Cookie", &cookies)
            .set("Content-Type", &content_type),
        &body,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains(r#"<strong id="imported-count">2</strong>"#),
        "{}",
        r.body
    );
    assert!(r.body.contains(r#"data-row="2""#) && r.body.contains("Enter a whole number."));
    let (content_type, body) = multipart("wrong-token-wrong-token-wrong-token-xx", csv);
    let r = app.send_bytes(
        app.request("POST", "/data/import")
            .set("Cookie", &cookies)
            .set("Content-Type", &content_type),
        &body,
    );
    assert_eq!(r.status, 403);

    let export = app.get_with_cookie("/data/export", &cookies);
    assert_eq!(export.status, 200);
    assert!(
        export
            .header("content-disposition")
            .unwrap()
            .contains("infobank-export.json")
    );
    assert_eq!(export.json()["records"].as_array().unwrap().len(), 2);

    let refused = app.post_form(
        "/account/delete",
        &cookies,
        &[("csrf_token", &csrf), ("confirm", "delete")],
    );
    assert_eq!(refused.status, 422);
    let deleted = app.post_form(
        "/account/delete",
        &cookies,
        &[("csrf_token", &csrf), ("confirm", "DELETE")],
    );
    assert_eq!(
        (deleted.status, deleted.header("location")),
        (303, Some("/signin?notice=account_deleted"))
    );
    assert_eq!(
        app.get_with_cookie("/data", &cookies).status,
        303,
        "the session ended with the account"
    );
    app.login(&email, PASSWORD).assert_problem(401, "invalid_credentials");
}

fn my_data_is_for_signed_in_citizens_only(app: &TestApp) {
    assert_eq!(app.get("/data").header("location"), Some("/signin"));
    assert_eq!(
        app.get("/data/horoscope").header("location"),
        Some("/signin"),
        "signed out: sign in first, whatever the URL"
    );
    let email = unique_email("mydata-regulator");
    create_staff(app, Role::Regulator, &email);
    let form = app.get("/signin");
    let csrf = cookie_value(&form, "infobank_csrf");
    let ok = app.post_form(
        "/signin",
        &format!("infobank_csrf={csrf}"),
        &[("csrf_token", &csrf), ("email", &email), ("password", PASSWORD)],
    );
    let cookies = format!(
        "infobank_csrf={csrf}; infobank_session={}",
        cookie_value(&ok, "infobank_session")
    );
    assert_eq!(app.get_with_cookie("/data", &cookies).status, 403);
    assert_eq!(app.get_with_cookie("/data/export", &cookies).status, 403);
    let (cookies, csrf) = portal_session(app, &unique_email("mydata-404"));
    assert_eq!(app.get_with_cookie("/data/horoscope", &cookies).status, 404);
    // The upload result's URL, fetched with GET (the language switch does), leads back to My data.
    assert_eq!(
        app.get_with_cookie("/data/import", &cookies).header("location"),
        Some("/data")
    );
    // A second record of a single-record category: refused, with the reason on the page.
    let residence = [
        ("csrf_token", csrf.as_str()),
        ("prefecture", "Tokyo"),
        ("city", "Chiyoda"),
        ("postal_code", "100-0001"),
    ];
    assert_eq!(app.post_form("/data/residence", &cookies, &residence).status, 303);
    let again = app.post_form("/data/residence", &cookies, &residence);
    assert_eq!(again.status, 409);
    assert!(
        again.body.contains(r#"id="form-error""#)
            && again.body.contains("You already have this record; edit it instead."),
        "{}",
        again.body
    );
    assert_eq!(
        app.get_with_cookie("/data/hobbies/not-an-id/edit", &cookies).status,
        404
    );
}

/// The upload is bounded as a whole and by field: no session is refused before the body is read
/// (the sign-in redirect), a field beside the token and the file is refused (a second 6 MiB
/// field cannot slip past the per-field limit), two files together are past the body's limit,
/// and an oversized token field is 413.
fn portal_uploads_are_bounded_before_anything_is_buffered(app: &TestApp) {
    let upload = |cookies: &str, parts: &[(&str, &[u8])]| {
        let boundary = "----infobankBoundsBoundary";
        let mut body = Vec::new();
        for (name, value) in parts {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            );
            body.extend_from_slice(value);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        app.send_bytes(
            app.request("POST", "/data/import")
                .set("Cookie", cookies)
                .set("Content-Type", &format!("multipart/form-data; boundary={boundary}")),
            &body,
        )
    };
    let big = vec![b'x'; 6 * 1024 * 1024];
    let anonymous = upload("", &[("file", &big)]);
    assert_eq!((anonymous.status, anonymous.header("location")), (303, Some("/signin")));

    let (cookies, csrf) = portal_session(app, &unique_email("uploader"));
    upload(
        &cookies,
        &[("csrf_token", csrf.as_bytes()), ("file", &big), ("extra", &big)],
    )
    .assert_problem(400, "malformed_body");
    upload(&cookies, &[("csrf_token", &big), ("file", b"date\n")]).assert_problem(413, "payload_too_large");
    // Two files of 6 MiB: each within the per-field limit, together past the body's.
    upload(
        &cookies,
        &[("csrf_token", csrf.as_bytes()), ("file", &big), ("file", &big)],
    )
    .assert_problem(413, "payload_too_large");
    let fine = upload(
        &cookies,
        &[
            ("csrf_token", csrf.as_bytes()),
            (
                "file",
                b"date,merchant,amount,currency,method,merchant_category\n2026-11-01,Lawson,480,JPY,qr,grocery\n",
            ),
        ],
    );
    assert!(
        fine.body.contains(r#"<strong id="imported-count">1</strong>"#),
        "{}",
        fine.body
    );
}

app_tests!(
    portal_uploads_are_bounded_before_anything_is_buffered,
    a_citizen_adds_edits_and_deletes_records_in_the_portal,
    upload_export_and_delete_the_account_in_the_portal,
    my_data_is_for_signed_in_citizens_only,
);
