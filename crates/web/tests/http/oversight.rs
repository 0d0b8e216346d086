//! The regulator's statistics and evidence bundle over HTTP: they count what the log holds (and
//! the refusals), per company and purpose, refuse citizens and companies, and log their reads.

use std::collections::BTreeMap;
use std::io::Read as _;

use infobank_testkit::{TestApp, app_tests};
use serde_json::Value;

use super::audit::regulator_token;
use super::consent::{
    approved_offer, approved_partner, citizen, company_token, consent_to, fetch_data, operator_token, send,
};
use super::consent_portal::session;
use super::{PASSWORD, create_staff, unique_email};

/// Every leaf of the log, as JSON (the test's logs stay under one page).
fn leaves(app: &TestApp, regulator: &str) -> Vec<Value> {
    let size = app.integrate();
    assert!(size <= 1000, "the test expects a log of one page, it has {size}");
    let page = app.get_with_token(&format!("/api/v1/audit/entries?start=0&end={size}"), regulator);
    assert_eq!(page.status, 200, "{}", page.body);
    page.json()["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| serde_json::from_str(e["leaf"].as_str().unwrap()).unwrap())
        .collect()
}

fn count(leaves: &[Value], action: &str, company: Option<&str>) -> i64 {
    leaves
        .iter()
        .filter(|l| l["action"] == action && company.is_none_or(|c| l["company"] == c))
        .count() as i64
}

fn the_regulator_statistics_count_what_the_log_holds(app: &TestApp) {
    let operator = operator_token(app);
    let partner = approved_partner(app, &operator, 501, 1000);
    let other = approved_partner(app, &operator, 502, 1000);
    let offer = approved_offer(app, &operator, &partner, &["residence"], 5);
    let (alice, bob) = (citizen(app), citizen(app));
    let kept = consent_to(app, &alice, &offer);
    let ended = consent_to(app, &bob, &offer);
    assert_eq!(fetch_data(app, &kept, &partner.token).status, 200);
    assert_eq!(fetch_data(app, &ended, &partner.token).status, 200);
    let revoked = send(app, "POST", &format!("/api/v1/me/consents/{ended}/revoke"), &bob, None);
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    // Refused: a revoked consent (twice), and another company's consent.
    fetch_data(app, &ended, &partner.token).assert_problem(403, "consent_revoked");
    fetch_data(app, &ended, &partner.token).assert_problem(403, "consent_revoked");
    fetch_data(app, &kept, &other.token).assert_problem(404, "not_found");

    let regulator = regulator_token(app);
    let log = leaves(app, &regulator);
    let r = app.get_with_token("/api/v1/audit/statistics", &regulator);
    assert_eq!(r.status, 200, "{}", r.body);
    let report = r.json();

    // The totals are the log's, action by action, and the scenario's.
    for action in [
        "consent.granted",
        "consent.paused",
        "consent.resumed",
        "consent.revoked",
        "consent.expired",
        "data.disclosed",
        "statistics.run",
    ] {
        assert_eq!(report["totals"][action], count(&log, action, None), "{action}");
    }
    assert_eq!(report["totals"]["consent.granted"], 2);
    assert_eq!(report["totals"]["consent.revoked"], 1);
    assert_eq!(report["totals"]["data.disclosed"], 2);
    assert!(report["tree_size"].as_i64().unwrap() >= log.len() as i64);
    // All of it happened this month: the last month of the trend holds it, the earlier ones
    // nothing.
    let months = report["months"].as_array().unwrap();
    assert_eq!(months.len(), 6);
    let this_month = chrono::Utc::now().format("%Y-%m").to_string();
    assert_eq!(months[5]["month"], this_month.as_str());
    assert_eq!(months[5]["counts"]["data.disclosed"], 2);
    assert!(months[..5].iter().all(|m| m["counts"]["consent.granted"] == 0));

    // Per company: the partner's events and refusals, the other's single refusal.
    let companies: BTreeMap<String, Value> = report["companies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["company_id"].as_str().unwrap().to_owned(), c.clone()))
        .collect();
    let mine = &companies[&partner.id];
    assert_eq!(mine["legal_name"], "Partner 501 K.K.");
    assert_eq!(
        mine["counts"]["data.disclosed"],
        count(&log, "data.disclosed", Some(&partner.id))
    );
    assert_eq!(mine["counts"]["consent.granted"], 2);
    assert_eq!(mine["refusals"], 2);
    assert_eq!(companies[&other.id]["refusals"], 1);
    assert_eq!(companies[&other.id]["counts"]["data.disclosed"], 0);
    assert_eq!(report["disclosures_by_purpose"]["personalised_offers"], 2);
    assert_eq!(report["refusals_by_reason"]["consent_revoked"], 2);
    assert_eq!(report["refusals_by_reason"]["not_found"], 1);
    assert_eq!(report["quota_hits"], 0);

    // The read itself is in the log.
    let after = leaves(app, &regulator);
    assert!(
        after
            .iter()
            .any(|l| l["action"] == "audit.read" && l["objects"]["read"] == "statistics"),
        "the statistics read was not logged"
    );

    // Only regulators: not a citizen, a company, an operator, nor no one.
    app.get("/api/v1/audit/statistics")
        .assert_problem(401, "unauthenticated");
    for token in [&alice, &partner.token, &operator] {
        let refused = app.get_with_token("/api/v1/audit/statistics", token);
        assert!(
            matches!(refused.status, 401 | 403),
            "{} {}",
            refused.status,
            refused.body
        );
        assert!(!refused.body.contains("consent.granted"), "{}", refused.body);
        app.get_with_token("/api/v1/audit/evidence", token)
            .assert_problem(refused.status, refused.json()["code"].as_str().unwrap());
    }
    app.get_with_token("/api/v1/audit/statistics", &alice)
        .assert_problem(403, "wrong_role");
}

fn the_evidence_bundle_holds_the_log_its_head_and_the_keys(app: &TestApp) {
    let operator = operator_token(app);
    approved_partner(app, &operator, 503, 0);
    let regulator = regulator_token(app);
    app.integrate();
    let r = app.send(
        app.request("GET", "/api/v1/audit/evidence")
            .set("Authorization", &format!("Bearer {regulator}")),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/x-tar"));
    assert!(r.header("content-disposition").unwrap().contains("infobank-evidence-"));
    let mut files: BTreeMap<String, String> = BTreeMap::new();
    let mut archive = tar::Archive::new(r.body.as_bytes());
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().display().to_string();
        let mut text = String::new();
        entry.read_to_string(&mut text).unwrap();
        files.insert(name, text);
    }
    assert_eq!(
        files.keys().collect::<Vec<_>>(),
        ["README.txt", "jwks.json", "log.jsonl", "statistics.json", "sth.json"]
    );
    let head: Value = serde_json::from_str(&files["sth.json"]).unwrap();
    let size = head["tree_size"].as_u64().unwrap();
    let lines: Vec<Value> = files["log.jsonl"]
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len() as u64, size, "the export stops at the signed head");
    assert!(lines.iter().enumerate().all(|(i, l)| l["index"] == i as u64));
    // The head's key is the log key the bank publishes.
    let jwks: Value = serde_json::from_str(&files["jwks.json"]).unwrap();
    let published = app.get("/.well-known/jwks.json").json();
    assert_eq!(jwks, published);
    assert!(
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kid"] == head["key_id"])
    );
    assert!(files["README.txt"].contains("infobank audit verify --log log.jsonl --sth sth.json --jwks jwks.json"));
    let statistics: Value = serde_json::from_str(&files["statistics.json"]).unwrap();
    assert!(statistics["totals"].is_object());
    // Taking the bundle is a logged read.
    let later = leaves(app, &regulator);
    assert!(
        later
            .iter()
            .any(|l| l["action"] == "audit.read" && l["objects"]["read"] == "evidence bundle")
    );
}

/// The operator issues new credentials in the portal (what `infobank company reset-secret` does):
/// shown once, the old secret refused at once, the new one working; not for a citizen.
fn the_operator_issues_new_credentials_in_the_portal(app: &TestApp) {
    let operator = operator_token(app);
    let applied = app.post_json(
        "/api/v1/companies",
        &serde_json::json!({
            "legal_name": "Leaky K.K.", "corporate_number": "5010401067252",
            "contact_email": "privacy@leaky.example.jp", "privacy_policy_url": "https://leaky.example.jp/privacy",
            "security_certification": {"kind": "PMARK", "id": "P-1", "expires_on": "2099-03-31"},
        }),
    );
    assert_eq!(applied.status, 201, "{}", applied.body);
    let applied = applied.json();
    let (id, client_id, old) = (
        applied["id"].as_str().unwrap(),
        applied["client_id"].as_str().unwrap(),
        applied["client_secret"].as_str().unwrap(),
    );
    let approved = send(
        app,
        "POST",
        &format!("/api/v1/operator/companies/{id}/approve"),
        &operator,
        None,
    );
    assert_eq!(approved.status, 200, "{}", approved.body);
    assert_eq!(company_token(app, client_id, old).status, 200);

    let email = unique_email("operator-portal");
    create_staff(app, infobank_accounts::Role::Operator, &email);
    let (cookie, csrf) = session(app, &email);
    let page = app.get_with_cookie("/operator/companies", &cookie);
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains(&format!("/operator/companies/{id}/secret")),
        "a reset form per company"
    );
    let reset = app.post_form(
        &format!("/operator/companies/{id}/secret"),
        &cookie,
        &[("csrf_token", &csrf)],
    );
    assert_eq!(reset.status, 200, "{}", reset.body);
    let new = reset
        .body
        .split("id=\"new-client-secret\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the new secret is shown");
    assert!(new.starts_with("ibs_") && new != old, "{new}");
    company_token(app, client_id, old).assert_problem(401, "invalid_client");
    assert_eq!(company_token(app, client_id, new).status, 200);
    // Shown once: the page without the reset does not hold it.
    assert!(!app.get_with_cookie("/operator/companies", &cookie).body.contains(new));

    // A citizen's session cannot reset anyone's secret.
    let citizen_email = unique_email("not-operator");
    app.sign_up(&citizen_email, PASSWORD);
    let (citizen_cookie, citizen_csrf) = session(app, &citizen_email);
    let refused = app.post_form(
        &format!("/operator/companies/{id}/secret"),
        &citizen_cookie,
        &[("csrf_token", &citizen_csrf)],
    );
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert_eq!(
        company_token(app, client_id, new).status,
        200,
        "the refused reset changed nothing"
    );
}

/// The portal's oversight pages: a regulator sees the dashboard and takes the bundle; a citizen,
/// an operator and no one at all do not.
fn the_oversight_pages_are_for_regulators_only(app: &TestApp) {
    let session_of = |role: Option<infobank_accounts::Role>| {
        let email = unique_email("oversight-portal");
        match role {
            Some(role) => {
                create_staff(app, role, &email);
            }
            None => {
                app.sign_up(&email, PASSWORD);
            }
        }
        session(app, &email).0
    };
    let regulator = session_of(Some(infobank_accounts::Role::Regulator));
    let page = app.get_with_cookie("/regulator", &regulator);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("data-total=\"consent.granted\""),
        "the totals are shown"
    );
    assert!(page.body.contains("id=\"chart-consents\""), "the trend is drawn");
    let bundle = app.get_with_cookie("/regulator/evidence", &regulator);
    assert_eq!(bundle.status, 200);
    assert_eq!(bundle.header("content-type"), Some("application/x-tar"));
    for cookie in [
        session_of(None),
        session_of(Some(infobank_accounts::Role::Operator)),
        String::new(),
    ] {
        for path in ["/regulator", "/regulator/evidence"] {
            let refused = app.get_with_cookie(path, &cookie);
            assert!(
                matches!(refused.status, 303 | 403),
                "{path} with {cookie:?}: {} {}",
                refused.status,
                refused.body
            );
            assert!(!refused.body.contains("data-total"), "{path}");
            assert_ne!(refused.header("content-type"), Some("application/x-tar"), "{path}");
        }
    }
}

app_tests!(
    the_regulator_statistics_count_what_the_log_holds,
    the_evidence_bundle_holds_the_log_its_head_and_the_keys,
    the_operator_issues_new_credentials_in_the_portal,
    the_oversight_pages_are_for_regulators_only,
);
