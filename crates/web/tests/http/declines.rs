//! Declining an offer (issue 16): out of the citizen's inbox until she undoes it, in the API and
//! the portal, logged once per change, nobody else's inbox touched.

use infobank_testkit::{TestApp, app_tests};
use serde_json::{Value, json};

use super::audit::regulator_token;
use super::consent::{approved_offer, approved_partner, citizen, operator_token, send};
use super::consent_portal::session;
use super::{PASSWORD, unique_email};

fn inbox_ids(app: &TestApp, token: &str) -> Vec<String> {
    let r = app.get_with_token("/api/v1/offers", token);
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The leaves of `action` about `offer`.
fn leaves_about(app: &TestApp, regulator: &str, action: &str, offer: &str) -> usize {
    let size = app.integrate();
    let page = app.get_with_token(&format!("/api/v1/audit/entries?start=0&end={size}"), regulator);
    assert_eq!(page.status, 200, "{}", page.body);
    page.json()["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| serde_json::from_str::<Value>(e["leaf"].as_str().unwrap()).unwrap())
        .filter(|l| l["action"] == action && l["objects"]["offer"] == offer)
        .count()
}

fn a_declined_offer_leaves_the_inbox_until_undone(app: &TestApp) {
    let operator = operator_token(app);
    let partner = approved_partner(app, &operator, 601, 1000);
    let offer = approved_offer(app, &operator, &partner, &["residence"], 5);
    let regulator = regulator_token(app);
    let (alice, bob) = (citizen(app), citizen(app));
    assert!(inbox_ids(app, &alice).contains(&offer));

    let path = format!("/api/v1/me/offers/{offer}/decline");
    for _ in 0..2 {
        let r = send(app, "POST", &path, &alice, None);
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.json(), json!({"offer_id": offer, "declined": true}));
    }
    assert!(!inbox_ids(app, &alice).contains(&offer), "out of her inbox");
    assert!(inbox_ids(app, &bob).contains(&offer), "not out of anyone else's");
    assert_eq!(
        leaves_about(app, &regulator, "offer.declined", &offer),
        1,
        "declining twice logs once"
    );

    let r = send(app, "DELETE", &path, &alice, None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["declined"], false);
    assert!(inbox_ids(app, &alice).contains(&offer), "back after the undo");
    assert_eq!(send(app, "DELETE", &path, &alice, None).status, 200);
    assert_eq!(
        leaves_about(app, &regulator, "offer.decline_undone", &offer),
        1,
        "undoing twice logs once"
    );

    // Unknown offers, other roles, no one.
    send(
        app,
        "POST",
        "/api/v1/me/offers/0190a3c2-0000-7000-8000-000000000000/decline",
        &alice,
        None,
    )
    .assert_problem(404, "not_found");
    let refused = send(app, "POST", &path, &partner.token, None);
    assert!(matches!(refused.status, 401 | 403), "{}", refused.body);
    app.post_json(&path, &json!({})).assert_problem(401, "unauthenticated");

    // A declined offer can still be accepted (she changed her mind).
    assert_eq!(send(app, "POST", &path, &alice, None).status, 200);
    let accepted = send(
        app,
        "POST",
        "/api/v1/me/consents",
        &alice,
        Some(json!({"offer_id": offer})),
    );
    assert_eq!(accepted.status, 201, "{}", accepted.body);
}

fn the_portal_declines_and_undoes(app: &TestApp) {
    let operator = operator_token(app);
    let partner = approved_partner(app, &operator, 602, 1000);
    let offer = approved_offer(app, &operator, &partner, &["residence"], 5);
    let email = unique_email("decliner");
    app.sign_up(&email, PASSWORD);
    let (cookie, csrf) = session(app, &email);
    assert!(
        app.get_with_cookie("/offers", &cookie)
            .body
            .contains(&format!("data-open-offer=\"{offer}\""))
    );

    let declined = app.post_form(&format!("/offers/{offer}/decline"), &cookie, &[("csrf_token", &csrf)]);
    assert_eq!(declined.status, 303, "{}", declined.body);
    assert_eq!(declined.header("location"), Some("/offers?notice=declined"));
    let inbox = app.get_with_cookie("/offers?notice=declined", &cookie).body;
    assert!(
        !inbox.contains(&format!("data-open-offer=\"{offer}\"")),
        "out of the list"
    );
    assert!(
        inbox.contains(&format!("data-declined-offer=\"{offer}\"")),
        "listed among the declined"
    );
    assert!(inbox.contains("id=\"declined-notice\""));
    let page = app.get_with_cookie(&format!("/offers/{offer}"), &cookie).body;
    assert!(page.contains("id=\"undecline-offer\"") && !page.contains("id=\"decline-offer\""));
    assert!(
        app.get_with_cookie("/home", &cookie)
            .body
            .contains("<p class=\"figure\" id=\"dash-waiting\">0</p>")
    );

    let undone = app.post_form(&format!("/offers/{offer}/undecline"), &cookie, &[("csrf_token", &csrf)]);
    assert_eq!(undone.status, 303, "{}", undone.body);
    assert_eq!(undone.header("location"), Some(format!("/offers/{offer}").as_str()));
    assert!(
        app.get_with_cookie("/offers", &cookie)
            .body
            .contains(&format!("data-open-offer=\"{offer}\""))
    );
    assert!(
        app.get_with_cookie("/home", &cookie)
            .body
            .contains("<p class=\"figure\" id=\"dash-waiting\">1</p>")
    );

    // Another action on an offer is not a page; an unknown offer is not found.
    let odd = app.post_form(&format!("/offers/{offer}/ignore"), &cookie, &[("csrf_token", &csrf)]);
    assert_eq!(odd.status, 404);
    let unknown = app.post_form(
        "/offers/0190a3c2-0000-7000-8000-000000000000/decline",
        &cookie,
        &[("csrf_token", &csrf)],
    );
    assert_eq!(unknown.status, 404);
}

app_tests!(
    a_declined_offer_leaves_the_inbox_until_undone,
    the_portal_declines_and_undoes
);
