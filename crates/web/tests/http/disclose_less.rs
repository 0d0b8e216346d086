//! Disclosing less over HTTP, on SQLite and PostgreSQL: predicate offers answer yes / no / null
//! with a signed attestation and never the record; statistics offers release only cells of `k`
//! people, refuse a run one person away from an earlier one, drop a revoked consent from the
//! next run, and pay and log each answer and each run. (The attestation is verified with PyJWT,
//! a JOSE library that is not ours, by .ci/partner-guide.sh.)

use base64::Engine as _;
use chrono::Utc;
use infobank_audit::merkle::{from_hex, leaf_hash, verify_inclusion};
use infobank_testkit::{TestApp, app_tests};
use serde_json::{Value, json};

use super::coins::entrust;
use super::consent::{Partner, approved_partner, citizen, consent_to, fetch_data, operator_token, send};

/// Proposes an offer with these terms on top of the common ones, and has the operator approve it.
fn approved(app: &TestApp, operator: &str, partner: &Partner, terms: Value) -> String {
    let mut body = json!({
        "title": "Only what we need", "description": "We ask for less than your records.",
        "purpose": "service_improvement", "access": "periodic", "max_fetches_per_day": 5,
        "retention_days": 30, "consent_days": 90, "reward_coins": 10,
    });
    for (k, v) in terms.as_object().unwrap() {
        body[k] = v.clone();
    }
    let offer = send(app, "POST", "/api/v1/offers", &partner.token, Some(body));
    assert_eq!(offer.status, 201, "{}", offer.body);
    let id = offer.json()["id"].as_str().unwrap().to_owned();
    let ok = send(
        app,
        "POST",
        &format!("/api/v1/operator/offers/{id}/approve"),
        operator,
        Some(json!({})),
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    id
}

fn wallet_reasons(app: &TestApp, token: &str) -> Vec<String> {
    let wallet = send(app, "GET", "/api/v1/me/coins", token, None).json();
    wallet["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["reason"].as_str().unwrap().to_owned())
        .collect()
}

/// How many entries of each of `reasons` the citizen's wallet holds.
fn paid_count(app: &TestApp, token: &str, reasons: &[&str]) -> Vec<usize> {
    let held = wallet_reasons(app, token);
    reasons.iter().map(|r| held.iter().filter(|h| h == r).count()).collect()
}

/// The audit leaf (queued or sequenced) with this hash, as JSON.
fn leaf(app: &TestApp, hash_hex: &str) -> Value {
    use infobank_db::diesel::prelude::*;
    use infobank_db::schema::{audit_leaves, audit_queue};
    let hash = from_hex(hash_hex).unwrap().to_vec();
    let conn = &mut *app.pool.get().unwrap();
    // The queue first: the sequencer moves a leaf out of it and into audit_leaves in one
    // transaction, so a leaf not queued any more is sequenced (the other order could miss it).
    let queued: Option<String> = audit_queue::table
        .filter(audit_queue::leaf_hash.eq(&hash))
        .select(audit_queue::leaf)
        .first(conn)
        .optional()
        .unwrap();
    let text = queued.unwrap_or_else(|| {
        audit_leaves::table
            .filter(audit_leaves::leaf_hash.eq(&hash))
            .select(audit_leaves::leaf)
            .first(conn)
            .unwrap()
    });
    serde_json::from_str(&text).unwrap()
}

fn claims_of(jws: &str) -> Value {
    let payload = jws.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

fn a_predicate_offer_answers_yes_no_or_null_and_never_the_record(app: &TestApp) {
    let operator = operator_token(app);
    let partner = approved_partner(app, &operator, 7101, 1_000);

    let catalogue = app.get_with_token("/api/v1/predicates", "").json();
    let names: Vec<&str> = catalogue
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "age_at_least",
            "resides_in",
            "household_size_at_least",
            "holds_valid",
            "spend_at_least"
        ]
    );
    assert_eq!(catalogue[0]["ja"], "{years}歳以上かどうか");

    // Refused shapes: categories on a predicate offer, an unknown predicate, a kind without its list.
    let refuse = |terms: Value, field: &str| {
        let mut body = json!({"title": "t", "description": "d", "purpose": "service_improvement",
            "access": "periodic", "max_fetches_per_day": 1, "retention_days": 1, "consent_days": 1, "reward_coins": 0});
        for (k, v) in terms.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = send(app, "POST", "/api/v1/offers", &partner.token, Some(body));
        assert_eq!(
            (r.status, r.json()["errors"][0]["field"].as_str()),
            (422, Some(field)),
            "{}",
            r.body
        );
    };
    refuse(
        json!({"kind": "predicates", "categories": ["birth_date"],
        "predicates": [{"name": "age_at_least", "params": {"years": 20}}]}),
        "categories",
    );
    refuse(
        json!({"kind": "predicates", "predicates": [{"name": "is_rich"}]}),
        "predicates",
    );
    refuse(json!({"kind": "predicates"}), "predicates");
    refuse(
        json!({"kind": "records", "categories": ["residence"], "data_range_days": 1,
        "predicates": [{"name": "age_at_least", "params": {"years": 20}}]}),
        "predicates",
    );
    refuse(json!({"kind": "everything", "categories": ["residence"]}), "kind");

    let offer = approved(
        app,
        &operator,
        &partner,
        json!({"kind": "predicates", "predicates": [
            {"name": "age_at_least", "params": {"years": 20}},
            {"name": "holds_valid", "params": {"category": "drivers_license"}},
            {"name": "resides_in", "params": {"prefecture": "Tokyo"}},
            {"name": "spend_at_least", "params": {"merchant_category": "grocery", "amount": 5000, "days": 30}},
            {"name": "holds_valid", "params": {"category": "identity_document"}},
        ]}),
    );
    let listed = send(app, "GET", "/api/v1/offers", &partner.token, None).json();
    let listed = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == offer.as_str())
        .unwrap()
        .clone();
    assert_eq!(listed["kind"], "predicates");
    assert_eq!(
        listed["categories"],
        json!([
            "birth_date",
            "drivers_license",
            "residence",
            "payment_history",
            "identity_document"
        ])
    );

    // Taro: 36, an expired licence, lives in Tokyo, no payments on file.
    let taro = citizen(app);
    entrust(app, &taro, "birth_date", json!({"date": "1990-04-01"}));
    entrust(
        app,
        &taro,
        "drivers_license",
        json!({"class": "ordinary", "expires_on": "2020-01-01", "verified": true}),
    );
    entrust(
        app,
        &taro,
        "residence",
        json!({"prefecture": "Tokyo", "city": "Chiyoda", "postal_code": "100-0001"}),
    );
    // A passport entrusted 400 days ago (a series category with no expiry date): still held
    // today, whatever the offer's data range.
    {
        let me = send(app, "GET", "/api/v1/me", &taro, None).json();
        let taro_id = me["id"].as_str().unwrap();
        let conn = &mut *app.pool.get().unwrap();
        infobank_vault::records::create(
            conn,
            &app.keys(),
            taro_id,
            "identity_document",
            &json!({"type": "passport", "masked_number": "TK****21", "verified": true}),
            Utc::now() - chrono::Duration::days(400),
        )
        .unwrap();
    }
    // Hanako: nothing on file at all.
    let hanako = citizen(app);

    let taro_consent = consent_to(app, &taro, &offer);
    let answer = fetch_data(app, &taro_consent, &partner.token);
    assert_eq!(answer.status, 200, "{}", answer.body);
    let body = answer.json();
    let values: Vec<Value> = body["predicates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].clone())
        .collect();
    assert_eq!(
        values,
        [json!(true), json!(false), json!(true), Value::Null, json!(true)]
    );
    assert_eq!(body["predicates"][0]["params"], json!({"years": 20}));
    assert!(body.get("data").is_none(), "{body}");
    assert!(!answer.body.contains("1990") && !answer.body.contains("Chiyoda") && !answer.body.contains("2020-01-01"));

    // The attestation: EdDSA under a key of the JWKS, naming the pseudonym, the consent, the
    // offer, the answers and the audit leaf, for a short while.
    let jws = body["attestation"].as_str().unwrap();
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(jws.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "EdDSA");
    let jwks = app.get_with_token("/.well-known/jwks.json", "").json();
    assert!(
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kid"] == header["kid"])
    );
    let claims = claims_of(jws);
    assert_eq!(claims["sub"], body["subject"]);
    assert_eq!(claims["aud"], partner.id.as_str());
    assert_eq!(claims["consent_id"], taro_consent.as_str());
    assert_eq!(claims["offer_id"], offer.as_str());
    assert_eq!(claims["predicates"], body["predicates"]);
    assert_eq!(claims["audit_leaf_hash"], body["audit_leaf_hash"]);
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 300);
    // The attestation is not an access token.
    let as_token = send(app, "GET", "/api/v1/consents", jws, None);
    assert_eq!(as_token.status, 401, "{}", as_token.body);

    // The answer's leaf names the predicates and no value.
    let leaf_hash_hex = body["audit_leaf_hash"].as_str().unwrap();
    let logged = leaf(app, leaf_hash_hex);
    assert_eq!(logged["action"], "data.disclosed");
    assert_eq!(
        logged["objects"]["predicates"],
        "age_at_least,holds_valid,resides_in,spend_at_least,holds_valid"
    );
    assert!(!logged.to_string().contains("true"));

    // The citizen's history shows exactly what the company was told; the database holds it sealed.
    let history = send(app, "GET", "/api/v1/me/disclosures", &taro, None).json();
    assert_eq!(history[0]["kind"], "predicates");
    assert_eq!(history[0]["answers"], body["predicates"]);
    assert_eq!(history[0]["audit_leaf_hash"], leaf_hash_hex);
    {
        use infobank_db::diesel::prelude::*;
        use infobank_db::schema::disclosures;
        let conn = &mut *app.pool.get().unwrap();
        let sealed: Option<Vec<u8>> = disclosures::table
            .find(body["disclosure_id"].as_str().unwrap())
            .select(disclosures::answer_sealed)
            .first(conn)
            .unwrap();
        let sealed = sealed.unwrap();
        assert!(!sealed.windows(12).any(|w| w == b"age_at_least"));
    }

    // Coins: the offer's reward, the breadth bonus, and 4 decided answers x the policy's price.
    let reasons = wallet_reasons(app, &taro);
    assert!(reasons.contains(&"offer_reward".to_owned()), "{reasons:?}");
    assert!(reasons.contains(&"predicate_reward".to_owned()), "{reasons:?}");
    let policy = app.get_with_token("/api/v1/reward-policy", "").json();
    let per = policy["predicate_answer"].as_i64().unwrap();
    let wallet = send(app, "GET", "/api/v1/me/coins", &taro, None).json();
    let paid = wallet["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["reason"] == "predicate_reward")
        .unwrap()
        .clone();
    assert_eq!(paid["amount"].as_i64().unwrap(), 4 * per, "{paid}");

    // Nothing on file: every answer is null, and no predicate reward (nothing was answered).
    let hanako_consent = consent_to(app, &hanako, &offer);
    let unknown = fetch_data(app, &hanako_consent, &partner.token).json();
    assert!(
        unknown["predicates"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["value"].is_null()),
        "{unknown}"
    );
    assert!(!wallet_reasons(app, &hanako).contains(&"predicate_reward".to_owned()));

    // Revoked: no answer either.
    let revoked = send(
        app,
        "POST",
        &format!("/api/v1/me/consents/{taro_consent}/revoke"),
        &taro,
        None,
    );
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    let refused = fetch_data(app, &taro_consent, &partner.token);
    assert_eq!(
        (refused.status, refused.json()["code"].clone()),
        (403, json!("consent_revoked"))
    );
}

fn run(app: &TestApp, partner: &Partner, offer: &str) -> infobank_testkit::Response {
    send(
        app,
        "POST",
        &format!("/api/v1/offers/{offer}/statistics"),
        &partner.token,
        None,
    )
}

/// A citizen in Tokyo who paid 1,000 yen at a grocer today, consenting to `offers`.
fn tokyo_shopper(app: &TestApp) -> String {
    let token = citizen(app);
    entrust(
        app,
        &token,
        "residence",
        json!({"prefecture": "Tokyo", "city": "Minato", "postal_code": "105-0001"}),
    );
    let today = Utc::now().date_naive().to_string();
    entrust(
        app,
        &token,
        "payment_history",
        json!({"date": today, "merchant": "Fresh Mart", "amount": 1000, "currency": "JPY",
            "method": "card", "merchant_category": "grocery"}),
    );
    token
}

fn statistics_release_cells_of_k_and_refuse_a_run_one_person_away(app: &TestApp) {
    let operator = operator_token(app);
    let first = approved_partner(app, &operator, 7201, 1_000);
    let second = approved_partner(app, &operator, 7202, 1_000);
    let statistics = json!({"kind": "statistics", "data_range_days": 30,
        "statistics": {"dimensions": ["prefecture"], "measures": ["spend_sum", "spend_mean"]}});
    let mut once = statistics.clone();
    once["access"] = json!("one_time");
    once["max_fetches_per_day"] = json!(1);
    let nine_offer = approved(app, &operator, &first, once);
    let offer = approved(app, &operator, &second, statistics);

    let catalogue = app.get_with_token("/api/v1/statistics/catalogue", "").json();
    assert_eq!(catalogue["k"], 10);

    let people: Vec<String> = (0..20).map(|_| tokyo_shopper(app)).collect();
    let consents: Vec<String> = people.iter().take(10).map(|p| consent_to(app, p, &offer)).collect();
    for p in people.iter().take(9) {
        consent_to(app, p, &nine_offer);
    }

    // Nine people in Tokyo: the cell is withheld.
    let nine = run(app, &first, &nine_offer);
    assert_eq!(nine.status, 200, "{}", nine.body);
    let nine = nine.json();
    assert_eq!(
        (
            nine["participants"].clone(),
            nine["cells"].clone(),
            nine["suppressed_cells"].clone(),
            nine["k"].clone()
        ),
        (json!(9), json!([]), json!(1), json!(10))
    );
    // A one-time statistics offer runs once.
    let again = run(app, &first, &nine_offer);
    assert_eq!(
        (again.status, again.json()["code"].clone()),
        (403, json!("quota_exceeded"))
    );

    // The same nine people counted again by other dimensions: the two answers together would be
    // linked tables (margins minus cells), so the run is refused.
    let mut by_month = json!({"kind": "statistics", "data_range_days": 30,
        "statistics": {"dimensions": ["prefecture", "month"], "measures": ["spend_sum"]}});
    by_month["title"] = json!("By month as well");
    let month_offer = approved(app, &operator, &first, by_month);
    for p in people.iter().take(9) {
        consent_to(app, p, &month_offer);
    }
    let linked = run(app, &first, &month_offer);
    assert_eq!(
        (linked.status, linked.json()["code"].clone()),
        (409, json!("statistics_too_close")),
        "{}",
        linked.body
    );

    // Ten: released, with the true sum.
    let ten = run(app, &second, &offer);
    assert_eq!(ten.status, 200, "{}", ten.body);
    let ten = ten.json();
    assert_eq!(ten["participants"], 10);
    assert_eq!(
        ten["cells"],
        json!([{"dimensions": {"prefecture": "Tokyo"}, "citizens": 10, "spend_sum": 10000, "spend_mean": 1000.0}])
    );
    assert_eq!(ten["suppressed_cells"], 0);

    // Only the offer's company may run it; a records fetch of a statistics consent is refused.
    let foreign = run(app, &first, &offer);
    assert_eq!(foreign.status, 404, "{}", foreign.body);
    let fetch = fetch_data(app, &consents[0], &second.token);
    assert_eq!(
        (fetch.status, fetch.json()["code"].clone()),
        (409, json!("statistics_only"))
    );
    let by_citizen = send(
        app,
        "POST",
        &format!("/api/v1/offers/{offer}/statistics"),
        &people[0],
        None,
    );
    assert_eq!(by_citizen.status, 403, "{}", by_citizen.body);

    // The differencing attack: one more person, then one less, would give away one person's spend.
    consent_to(app, &people[10], &offer);
    let one_more = run(app, &second, &offer);
    assert_eq!(
        (one_more.status, one_more.json()["code"].clone()),
        (409, json!("statistics_too_close")),
        "{}",
        one_more.body
    );
    let revoked = send(
        app,
        "POST",
        &format!("/api/v1/me/consents/{}/revoke", consents[0]),
        &people[0],
        None,
    );
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    let one_less = run(app, &second, &offer);
    assert_eq!(one_less.json()["code"], "statistics_too_close", "{}", one_less.body);

    // Once k people have joined or left, the next run goes ahead, without the revoked citizen.
    for p in &people[11..] {
        consent_to(app, p, &offer);
    }
    let later = run(app, &second, &offer);
    assert_eq!(later.status, 200, "{}", later.body);
    let later = later.json();
    assert_eq!(later["participants"], 19);
    assert_eq!(later["cells"][0]["citizens"], 19);
    assert_eq!(later["cells"][0]["spend_sum"], 19000);

    // An account deleted after being counted leaves its pseudonym in the runs (unlinked): the
    // others' proofs below still verify against the logged roots.
    assert_eq!(send(app, "DELETE", "/api/v1/me", &people[19], None).status, 204);

    // Her history lists only the run of this offer she was in; the others', both, with a proof
    // each (and everyone of the first nine, the other company's run too).
    let runs_of = |token: &str| -> Vec<Value> {
        let all = send(app, "GET", "/api/v1/me/statistics-runs", token, None).json();
        all.as_array()
            .unwrap()
            .iter()
            .filter(|r| r["offer_id"] == offer.as_str())
            .cloned()
            .collect()
    };
    let hers = runs_of(&people[0]);
    assert_eq!(hers.len(), 1, "{hers:?}");
    assert_eq!(hers[0]["run_id"], ten["run_id"]);
    let theirs = send(app, "GET", "/api/v1/me/statistics-runs", &people[1], None).json();
    assert_eq!(theirs.as_array().unwrap().len(), 3, "{theirs}");
    assert_eq!(runs_of(&people[1]).len(), 2);
    let export = send(app, "GET", "/api/v1/me/export", &people[1], None).json();
    assert_eq!(
        export["statistics_runs"], theirs,
        "the export carries every run with its proof"
    );
    for counted in theirs.as_array().unwrap() {
        let proof: Vec<Vec<u8>> = counted["inclusion_proof"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| from_hex(h.as_str().unwrap()).unwrap().to_vec())
            .collect();
        let root = from_hex(counted["participants_root"].as_str().unwrap()).unwrap();
        let size = counted["participants"].as_u64().unwrap();
        let subject = counted["subject"].as_str().unwrap();
        verify_inclusion(
            counted["leaf_index"].as_u64().unwrap(),
            size,
            &leaf_hash(subject.as_bytes()),
            &proof,
            &root,
        )
        .unwrap();
        // The run's leaf names the same root and count.
        let logged = leaf(app, counted["audit_leaf_hash"].as_str().unwrap());
        assert_eq!(logged["action"], "statistics.run");
        assert_eq!(logged["objects"]["participants_root"], counted["participants_root"]);
        assert_eq!(logged["objects"]["participants"], size.to_string());
        assert_eq!(logged["objects"]["offer"], counted["offer_id"]);
        // Someone else's pseudonym is not at her place in the tree.
        assert!(
            verify_inclusion(
                counted["leaf_index"].as_u64().unwrap(),
                size,
                &leaf_hash(b"psn_someone_else"),
                &proof,
                &root
            )
            .is_err()
        );
    }

    // Coins: each offer's reward at her first run of it, participation once per offer this month
    // (people[1] was counted by both companies; people[15] by the second company only).
    let kinds = ["offer_reward", "statistics_reward"];
    assert_eq!(paid_count(app, &people[1], &kinds), [2, 2]);
    assert_eq!(paid_count(app, &people[15], &kinds), [1, 1]);

    // The company and the regulator see the runs, counts only.
    let listed = send(app, "GET", "/api/v1/statistics/runs", &second.token, None).json();
    assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");
    assert!(listed.to_string().find("spend").is_none());
    let regulator_email = super::unique_email("regulator");
    super::create_staff(app, infobank_accounts::Role::Regulator, &regulator_email);
    let regulator = app.token(&regulator_email, super::PASSWORD);
    let all = send(app, "GET", "/api/v1/statistics/runs", &regulator, None).json();
    assert_eq!(all.as_array().unwrap().len(), 3, "{all}");
    let by_citizen = send(app, "GET", "/api/v1/statistics/runs", &people[1], None);
    assert_eq!(by_citizen.status, 403, "{}", by_citizen.body);

    // Every run has its leaf, and reconciliation names a run whose stored leaf hash was changed.
    use infobank_db::diesel::prelude::*;
    use infobank_db::schema::statistics_runs;
    let conn = &mut *app.pool.get().unwrap();
    let consistent = infobank_audit::reconcile::reconcile(conn).unwrap();
    assert_eq!(consistent.mismatch_count, 0, "{:?}", consistent.mismatches);
    assert_eq!(consistent.rows["statistics_runs"], 3);
    let run_id = later["run_id"].as_str().unwrap();
    infobank_db::diesel::update(statistics_runs::table.find(run_id))
        .set(statistics_runs::audit_leaf_hash.eq(vec![0u8; 32]))
        .execute(conn)
        .unwrap();
    let found = infobank_audit::reconcile::reconcile(conn).unwrap();
    assert!(
        found
            .mismatches
            .iter()
            .any(|m| m.table == "statistics_runs" && m.id == run_id),
        "{:?}",
        found.mismatches
    );
}

/// Runs pay every participant while her own entrusts pay her too: on PostgreSQL the two take the
/// same coin accounts, and must neither deadlock nor fail (no 5xx), and the books balance.
fn statistics_runs_and_entrusts_at_once_neither_deadlock_nor_fail(app: &TestApp) {
    let operator = operator_token(app);
    let partner = approved_partner(app, &operator, 7301, 1_000);
    let offer = approved(
        app,
        &operator,
        &partner,
        json!({"kind": "statistics", "data_range_days": 30,
            "statistics": {"dimensions": ["prefecture"], "measures": ["spend_sum"]}}),
    );
    let people: Vec<String> = (0..12).map(|_| tokyo_shopper(app)).collect();
    for p in &people {
        consent_to(app, p, &offer);
    }
    std::thread::scope(|s| {
        let runs = s.spawn(|| (0..4).map(|_| run(app, &partner, &offer).status).collect::<Vec<_>>());
        let entrusts: Vec<_> = people
            .iter()
            .enumerate()
            .map(|(i, token)| {
                s.spawn(move || {
                    // The month's first entrust of each category pays: the citizen's coin
                    // account, then issuance.
                    let today = Utc::now().date_naive().to_string();
                    [
                        json!({"category": "daily_mood", "data": {"date": today, "score": 1 + i % 5}}),
                        json!({"category": "hobbies", "data": {"items": ["go"]}}),
                        json!({"category": "preferences", "data": {"items": ["tea"]}}),
                    ]
                    .into_iter()
                    .map(|data| send(app, "POST", "/api/v1/me/records", token, Some(data)).status)
                    .collect::<Vec<_>>()
                })
            })
            .collect();
        for e in entrusts {
            assert!(e.join().unwrap().iter().all(|s| *s == 201));
        }
        let runs = runs.join().unwrap();
        assert!(runs.iter().all(|s| *s == 200), "{runs:?}");
    });
    let conn = &mut *app.pool.get().unwrap();
    infobank_coins::ledger::check_books(conn).unwrap();
}

app_tests!(
    statistics_runs_and_entrusts_at_once_neither_deadlock_nor_fail,
    a_predicate_offer_answers_yes_no_or_null_and_never_the_record,
    statistics_release_cells_of_k_and_refuse_a_run_one_person_away,
);
