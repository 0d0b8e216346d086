//! The audit API: the public signed tree head, regulator-only entries and proofs, bad ranges,
//! reads appended to the log, checkpoints, nothing personal in leaves, and fail-closed appends.

use base64::Engine as _;
use infobank_accounts::Role;
use infobank_audit::merkle;
use infobank_audit::sth::signed_bytes;
use infobank_db::Backend;
use infobank_db::diesel::RunQueryDsl as _;
use infobank_db::diesel::connection::SimpleConnection as _;
use infobank_testkit::{TestApp, app_tests};
use serde_json::{Value, json};

use super::{PASSWORD, create_staff, unique_email};

fn b64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

pub(crate) fn regulator_token(app: &TestApp) -> String {
    let email = unique_email("regulator");
    create_staff(app, Role::Regulator, &email);
    app.token(&email, PASSWORD)
}

fn entries(app: &TestApp, token: &str, query: &str) -> Value {
    let r = app.get_with_token(&format!("/api/v1/audit/entries{query}"), token);
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

fn the_signed_tree_head_is_public_and_verifies_with_the_published_key(app: &TestApp) {
    app.sign_up(&unique_email("sth"), PASSWORD);
    let head = app.get("/api/v1/audit/sth");
    assert_eq!(head.status, 200);
    let head = head.json();
    assert!(head["tree_size"].as_u64().unwrap() >= 1);
    let jwks = app.get("/.well-known/jwks.json").json();
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == head["key_id"])
        .expect("log key in the JWKS");
    let public = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(key["x"].as_str().unwrap())
        .unwrap();
    let ts = chrono::DateTime::parse_from_rfc3339(head["timestamp"].as_str().unwrap())
        .unwrap()
        .timestamp_millis() as u64;
    let root: [u8; 32] = b64(head["root_hash"].as_str().unwrap()).try_into().unwrap();
    let message = signed_bytes(head["tree_size"].as_u64().unwrap(), ts, &root);
    assert!(infobank_crypto::verify_ed25519(
        &public,
        &message,
        &b64(head["signature"].as_str().unwrap())
    ));
    assert_ne!(
        jwks["keys"][0]["kid"], jwks["keys"][1]["kid"],
        "tokens and the log have separate keys"
    );
}

fn entries_and_proofs_are_for_regulators_only(app: &TestApp) {
    let citizen_email = unique_email("nosy");
    app.sign_up(&citizen_email, PASSWORD);
    let citizen = app.token(&citizen_email, PASSWORD);
    for path in [
        "/api/v1/audit/entries",
        "/api/v1/audit/proof/inclusion?index=0&tree_size=1",
        "/api/v1/audit/proof/consistency?first=1&second=1",
        "/api/v1/audit/checkpoint",
    ] {
        app.get(path).assert_problem(401, "unauthenticated");
        app.get_with_token(path, &citizen).assert_problem(403, "wrong_role");
    }
    let operator_email = unique_email("operator");
    create_staff(app, Role::Operator, &operator_email);
    let operator = app.token(&operator_email, PASSWORD);
    app.get_with_token("/api/v1/audit/entries", &operator)
        .assert_problem(403, "wrong_role");
}

fn events_are_logged_with_ids_only_and_reads_are_logged_too(app: &TestApp) {
    let marker = format!("marker{}", chrono::Utc::now().timestamp_nanos_opt().unwrap());
    let email = format!("{marker}@example.jp");
    let r = app.post_json(
        "/api/v1/citizens",
        &json!({"email": email, "password": PASSWORD, "display_name": marker}),
    );
    let citizen_id = r.json()["id"].as_str().unwrap().to_owned();
    let token = regulator_token(app);
    app.integrate();

    let page = entries(app, &token, "");
    let size = page["tree_size"].as_u64().unwrap();
    let all = page["entries"].as_array().unwrap();
    assert_eq!(all.len() as u64, size);
    let leaves: Vec<Value> = all
        .iter()
        .map(|e| serde_json::from_str(e["leaf"].as_str().unwrap()).unwrap())
        .collect();
    assert!(
        leaves
            .iter()
            .any(|l| l["action"] == "account.created" && l["objects"]["account"] == citizen_id.as_str())
    );
    assert!(
        leaves
            .iter()
            .any(|l| l["action"] == "staff.signed_in" && l["actor"]["role"] == "regulator")
    );
    for (i, e) in all.iter().enumerate() {
        assert_eq!(e["index"], i as u64);
        let leaf = e["leaf"].as_str().unwrap();
        assert!(!leaf.contains(&marker), "a personal value reached the log: {leaf}");
        assert_eq!(
            b64(e["leaf_hash"].as_str().unwrap()),
            merkle::leaf_hash(leaf.as_bytes())
        );
    }

    // The read itself became the next leaf.
    app.integrate();
    let again = entries(app, &token, &format!("?start={size}&end={}", size + 1));
    let read: Value = serde_json::from_str(again["entries"][0]["leaf"].as_str().unwrap()).unwrap();
    assert_eq!(read["action"], "audit.read");
    assert_eq!(read["actor"]["role"], "regulator");
    assert_eq!(read["objects"]["read"], format!("entries 0..{size}"));
}

fn served_proofs_verify(app: &TestApp) {
    for i in 0..6 {
        app.sign_up(&unique_email(&format!("proof{i}")), PASSWORD);
    }
    let token = regulator_token(app);
    let page = entries(app, &token, "");
    let size = page["tree_size"].as_u64().unwrap();
    let leaves: Vec<[u8; 32]> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| merkle::leaf_hash(e["leaf"].as_str().unwrap().as_bytes()))
        .collect();
    let root = merkle::root_of(&leaves);
    for index in 0..size {
        let r = app
            .get_with_token(
                &format!("/api/v1/audit/proof/inclusion?index={index}&tree_size={size}"),
                &token,
            )
            .json();
        assert_eq!(b64(r["root_hash"].as_str().unwrap()), root);
        let proof: Vec<Vec<u8>> = r["proof"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| b64(p.as_str().unwrap()))
            .collect();
        merkle::verify_inclusion(index, size, &leaves[index as usize], &proof, &root).unwrap();
    }
    for first in 1..size {
        let r = app
            .get_with_token(
                &format!("/api/v1/audit/proof/consistency?first={first}&second={size}"),
                &token,
            )
            .json();
        let proof: Vec<Vec<u8>> = r["proof"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| b64(p.as_str().unwrap()))
            .collect();
        merkle::verify_consistency(first, size, &merkle::root_of(&leaves[..first as usize]), &root, &proof).unwrap();
    }
}

fn bad_ranges_get_400_with_a_code(app: &TestApp) {
    let token = regulator_token(app);
    let size = entries(app, &token, "?start=0&end=1")["tree_size"].as_u64().unwrap();
    let cases = [
        ("/api/v1/audit/entries?start=5&end=2", "invalid_range"),
        (
            &*format!("/api/v1/audit/entries?start=0&end={}", size + 100),
            "beyond_tree_size",
        ),
        ("/api/v1/audit/entries?start=0&end=1001", "invalid_range"),
        ("/api/v1/audit/entries?start=-1", "invalid_query"),
        ("/api/v1/audit/entries?start=abc", "invalid_query"),
        ("/api/v1/audit/proof/inclusion?index=0", "invalid_query"),
        (
            &*format!(
                "/api/v1/audit/proof/inclusion?index={}&tree_size={}",
                size + 50,
                size + 50
            ),
            "beyond_tree_size",
        ),
        ("/api/v1/audit/proof/inclusion?index=1&tree_size=1", "beyond_tree_size"),
        ("/api/v1/audit/proof/consistency?first=2&second=1", "invalid_range"),
        ("/api/v1/audit/proof/consistency?first=0&second=1", "invalid_range"),
        (
            "/api/v1/audit/proof/consistency?first=1&second=99999",
            "beyond_tree_size",
        ),
    ];
    for (path, code) in cases {
        let r = app.get_with_token(path, &token);
        assert_eq!(
            (r.status, r.json()["code"].as_str().unwrap()),
            (400, code),
            "{path}: {}",
            r.body
        );
    }
}

fn a_regulator_checkpoint_is_kept_and_checked(app: &TestApp) {
    let token = regulator_token(app);
    let first = app.get_with_token("/api/v1/audit/checkpoint", &token).json();
    assert_eq!(first["status"], "none");
    let acked = app.send(
        app.request("POST", "/api/v1/audit/checkpoint")
            .set("Authorization", &format!("Bearer {token}")),
    );
    assert_eq!(acked.status, 200, "{}", acked.body);
    let acked = acked.json();
    assert_eq!(acked["status"], "consistent");
    let acked_size = acked["checkpoint_tree_size"].as_u64().unwrap();
    app.sign_up(&unique_email("later"), PASSWORD);
    std::thread::sleep(std::time::Duration::from_millis(1100)); // a new head is signed at most once a second
    let later = app.get_with_token("/api/v1/audit/checkpoint", &token).json();
    assert_eq!(later["status"], "consistent", "{later}");
    assert_eq!(later["checkpoint_tree_size"], acked_size);
    assert!(later["current"]["tree_size"].as_u64().unwrap() > acked_size);
}

/// A trigger that makes every insert into `table` fail, and the statement that removes it.
fn failing_inserts(backend: Backend, table: &str) -> (String, String) {
    match backend {
        Backend::Sqlite => (
            format!("CREATE TRIGGER audit_down BEFORE INSERT ON {table} BEGIN SELECT RAISE(ABORT, 'audit storage down'); END;"),
            "DROP TRIGGER audit_down;".to_owned(),
        ),
        Backend::Postgres => (
            format!("CREATE FUNCTION audit_down() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'audit storage down'; END $$ LANGUAGE plpgsql;
             CREATE TRIGGER audit_down BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION audit_down();"),
            format!("DROP TRIGGER audit_down ON {table}; DROP FUNCTION audit_down();"),
        ),
    }
}

/// When queueing the audit leaf fails, the whole operation fails and nothing is committed.
fn a_failing_audit_append_fails_the_operation_and_commits_nothing(app: &TestApp) {
    let conn = &mut *app.pool.get().unwrap();
    let (install, remove) = failing_inserts(app.db.backend(), "audit_queue");
    let count = |conn: &mut infobank_db::DbConnection, table: &str| -> i64 {
        #[derive(infobank_db::diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = infobank_db::diesel::sql_types::BigInt)]
            n: i64,
        }
        infobank_db::diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
            .get_result::<N>(conn)
            .unwrap()
            .n
    };
    // Queued or integrated: the sequencer may move leaves from one table to the other meanwhile.
    let leaves = |conn: &mut infobank_db::DbConnection| count(conn, "audit_leaves") + count(conn, "audit_queue");
    let (accounts_before, leaves_before) = (count(conn, "accounts"), leaves(conn));
    conn.batch_execute(&install).unwrap();

    let email = unique_email("failclosed");
    let r = app.post_json(
        "/api/v1/citizens",
        &json!({"email": email, "password": PASSWORD, "display_name": "F"}),
    );
    r.assert_problem(503, "audit_unavailable");
    assert_eq!(
        count(conn, "accounts"),
        accounts_before,
        "the account must not exist without its leaf"
    );
    assert_eq!(leaves(conn), leaves_before);

    conn.batch_execute(&remove).unwrap();
    app.login(&email, PASSWORD).assert_problem(401, "invalid_credentials");
    assert_eq!(
        app.post_json(
            "/api/v1/citizens",
            &json!({"email": email, "password": PASSWORD, "display_name": "F"})
        )
        .status,
        201
    );
}

/// When the sequencer cannot store leaves, writes still succeed with their leaves queued, the
/// proof endpoint says they are not integrated yet, and nothing is lost: once storage works
/// again, every queued leaf is integrated and provable.
fn a_failing_sequencer_loses_no_leaf(app: &TestApp) {
    let conn = &mut *app.pool.get().unwrap();
    app.integrate();
    let (install, remove) = failing_inserts(app.db.backend(), "audit_leaves");
    conn.batch_execute(&install).unwrap();
    let email = unique_email("queued");
    app.sign_up(&email, PASSWORD);
    let token = app.token(&email, PASSWORD);
    let req = app
        .request("POST", "/api/v1/me/records")
        .set("Authorization", &format!("Bearer {token}"))
        .set("Content-Type", "application/json");
    let created = app.send_bytes(
        req,
        json!({"category": "hobbies", "data": {"items": ["go"]}})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    assert!(
        infobank_audit::sequencer::integrate_all(conn).is_err(),
        "the sequencer fails"
    );
    assert!(
        infobank_audit::log::queue_state(conn).unwrap().depth >= 2,
        "the leaves wait in the queue"
    );

    let regulator = regulator_token(app);
    let coins = app.get_with_token("/api/v1/me/coins", &token).json();
    let leaf_hash = coins["entries"][0]["event_leaf_hash"].as_str().unwrap().to_owned();
    let r = app.get_with_token(
        &format!("/api/v1/audit/proof/inclusion?leaf_hash={leaf_hash}"),
        &regulator,
    );
    r.assert_problem(409, "not_yet_integrated");
    assert_eq!(r.header("retry-after"), Some("1"));

    conn.batch_execute(&remove).unwrap();
    app.integrate();
    std::thread::sleep(std::time::Duration::from_millis(1100)); // the head is signed at most once a second
    let proof = app.get_with_token(
        &format!("/api/v1/audit/proof/inclusion?leaf_hash={leaf_hash}"),
        &regulator,
    );
    assert_eq!(proof.status, 200, "{}", proof.body);
    let proof = proof.json();
    let head = app.get("/api/v1/audit/sth").json();
    assert_eq!(proof["tree_size"], head["tree_size"]);
    assert_eq!(proof["root_hash"], head["root_hash"]);
    let index = proof["leaf_index"].as_u64().unwrap();
    let size = proof["tree_size"].as_u64().unwrap();
    let leaf_hash_bytes = infobank_audit::merkle::from_hex(&leaf_hash).unwrap();
    let path: Vec<Vec<u8>> = proof["proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            base64::engine::general_purpose::STANDARD
                .decode(h.as_str().unwrap())
                .unwrap()
        })
        .collect();
    let root: infobank_audit::merkle::Hash = base64::engine::general_purpose::STANDARD
        .decode(proof["root_hash"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    infobank_audit::merkle::verify_inclusion(index, size, &leaf_hash_bytes, &path, &root).unwrap();

    // A hash no leaf has, and a malformed one.
    app.get_with_token(
        &format!("/api/v1/audit/proof/inclusion?leaf_hash={}", "0".repeat(64)),
        &regulator,
    )
    .assert_problem(404, "unknown_leaf");
    app.get_with_token("/api/v1/audit/proof/inclusion?leaf_hash=zz", &regulator)
        .assert_problem(400, "invalid_query");
    app.get_with_token("/api/v1/audit/proof/inclusion?index=0", &regulator)
        .assert_problem(400, "invalid_query");
}

app_tests!(
    a_failing_sequencer_loses_no_leaf,
    the_signed_tree_head_is_public_and_verifies_with_the_published_key,
    entries_and_proofs_are_for_regulators_only,
    events_are_logged_with_ids_only_and_reads_are_logged_too,
    served_proofs_verify,
    bad_ranges_get_400_with_a_code,
    a_regulator_checkpoint_is_kept_and_checked,
    a_failing_audit_append_fails_the_operation_and_commits_nothing,
);
