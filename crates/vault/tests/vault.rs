//! The vault on SQLite and PostgreSQL: every category round-trips while no plaintext reaches the
//! database, ciphertexts are bound to their row, deletion shreds, and a citizen sees only their own.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)] // tests use the real clock

use chrono::Utc;
use infobank_accounts::{NewAccount, Role, create_account, data_key};
use infobank_crypto::KeyRing;
use infobank_db::diesel::prelude::*;
use infobank_db::diesel::sql_types::Text;
use infobank_db::schema::vault_records;
use infobank_db::{Backend, DatabaseUrl, DbConnection};
use infobank_testkit::{TestDb, db_tests};
use infobank_vault::categories::CATEGORIES;
use infobank_vault::records::{self, record_aad};
use infobank_vault::{VaultError, account};
use serde_json::{Value, json};

fn keys() -> (tempfile::TempDir, KeyRing) {
    let dir = tempfile::tempdir().unwrap();
    let keys = KeyRing::load_or_create(dir.path()).unwrap();
    (dir, keys)
}

fn citizen(conn: &mut DbConnection, keys: &KeyRing, email: &str) -> String {
    let new = NewAccount {
        role: Role::Citizen,
        email,
        password: "correct horse battery staple",
        display_name: "Citizen",
    };
    create_account(conn, keys, &new, Utc::now()).unwrap()
}

/// A valid record for every category, carrying `marker` wherever the category takes text.
fn example(category: &str, marker: &str) -> Value {
    match category {
        "birth_date" => json!({"date": "1937-08-23"}),
        "residence" => {
            json!({"prefecture": format!("Pref{marker}"), "city": format!("City{marker}"), "postal_code": "987-6543"})
        }
        "family_structure" => {
            json!({"household_size": 27, "members": [{"relation": "grandchild", "birth_year": 1931}]})
        }
        "hobbies" | "preferences" => json!({"items": [format!("item{marker}"), "go"]}),
        "daily_mood" => json!({"date": "2026-11-20", "score": 4, "note": format!("note{marker}")}),
        "physical_condition" => {
            json!({"date": "2026-11-19", "sleep_hours": 7.25, "steps": 193_847, "weight_kg": 61.75, "body_temp_c": 36.45})
        }
        "payment_history" => {
            json!({"date": "2026-11-18", "merchant": format!("Shop{marker}"), "amount": 98_765, "currency": "JPY", "method": "qr", "merchant_category": "grocery"})
        }
        "education" => json!({"level": "master", "institution": format!("Univ{marker}"), "graduation_year": 1999}),
        "employment" => {
            json!({"employer": format!("Corp{marker}"), "title": "Engineer", "work_address": format!("Addr{marker}"), "years": 13})
        }
        "drivers_license" => json!({"class": "ordinary", "expires_on": "2031-07-17", "verified": true}),
        "vehicle" => json!({"make": format!("Make{marker}"), "model": "Z", "year": 2017}),
        "real_estate" => json!({"kind": "apartment", "ownership": "mortgaged", "prefecture": format!("Pref{marker}")}),
        "insurance" => json!({"kind": "medical", "insurer": format!("Ins{marker}"), "monthly_premium": 12_345}),
        "credit_card" => json!({"issuer": format!("Bank{marker}"), "brand": "jcb", "last4": "4242"}),
        "identity_document" => {
            json!({"type": "passport", "masked_number": format!("TK****{marker}"), "verified": false})
        }
        other => panic!("no example for category {other}: add one"),
    }
}

#[derive(QueryableByName)]
struct RowText {
    #[diesel(sql_type = Text)]
    t: String,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every byte the database holds, as the backend stores it (SQLite: the files themselves;
/// PostgreSQL: every row of every table as text, bytea shown as hex).
fn everything_stored(db: &TestDb, conn: &mut DbConnection) -> Vec<u8> {
    match db.backend() {
        Backend::Sqlite => {
            let DatabaseUrl::Sqlite(path) = &db.url else {
                unreachable!()
            };
            let mut bytes = std::fs::read(path).unwrap();
            bytes.extend(std::fs::read(path.with_extension("db-wal")).unwrap_or_default());
            bytes
        }
        Backend::Postgres => {
            let tables: Vec<RowText> = diesel::sql_query(
                "SELECT table_name::text AS t FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
            )
            .load(conn)
            .unwrap();
            assert!(tables.len() >= 8);
            let mut out = Vec::new();
            for table in tables {
                let rows: Vec<RowText> =
                    diesel::sql_query(format!("SELECT row_to_json(x)::text AS t FROM \"{}\" x", table.t))
                        .load(conn)
                        .unwrap();
                for row in rows {
                    out.extend_from_slice(row.t.as_bytes());
                }
            }
            out
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn no_entrusted_value_is_stored_in_plaintext(db: &TestDb) {
    let (_d, keys) = keys();
    let pool = db.pool();
    let conn = &mut *pool.get().unwrap();
    let id = citizen(conn, &keys, "marker@example.jp");
    let marker = format!("Zq{:08x}", Utc::now().timestamp_micros() as u32);
    let mut created = Vec::new();
    for cat in CATEGORIES {
        let record = records::create(conn, &keys, &id, cat.name, &example(cat.name, &marker), Utc::now()).unwrap();
        created.push(record);
    }
    let stored = everything_stored(db, conn);
    assert!(
        !find(&stored, marker.as_bytes()),
        "the marker reached the database in plaintext"
    );
    for record in &created {
        // The whole plaintext as it would be serialised, and its hex, appear nowhere.
        let plain = serde_json::to_string(&record.data).unwrap();
        assert!(
            !find(&stored, plain.as_bytes()),
            "{} stored in plaintext",
            record.category
        );
        assert!(
            !find(&stored, hex(plain.as_bytes()).as_bytes()),
            "{} stored as plaintext bytes",
            record.category
        );
        // ...and the owner gets every value back intact.
        assert_eq!(records::get(conn, &keys, &id, &record.id).unwrap().data, record.data);
    }
    assert_eq!(created.len(), CATEGORIES.len());
}

fn a_ciphertext_moved_to_another_row_does_not_open(db: &TestDb) {
    let (_d, keys) = keys();
    let pool = db.pool();
    let conn = &mut *pool.get().unwrap();
    let alice = citizen(conn, &keys, "alice@example.jp");
    let bob = citizen(conn, &keys, "bob@example.jp");
    let a1 = records::create(
        conn,
        &keys,
        &alice,
        "daily_mood",
        &example("daily_mood", "a1"),
        Utc::now(),
    )
    .unwrap();
    let a2 = records::create(
        conn,
        &keys,
        &alice,
        "daily_mood",
        &json!({"date": "2026-11-21", "score": 1}),
        Utc::now(),
    )
    .unwrap();
    let b1 = records::create(
        conn,
        &keys,
        &bob,
        "daily_mood",
        &example("daily_mood", "b1"),
        Utc::now(),
    )
    .unwrap();
    let sealed_of = |conn: &mut DbConnection, id: &str| -> Vec<u8> {
        vault_records::table
            .find(id)
            .select(vault_records::sealed)
            .first(conn)
            .unwrap()
    };
    let a1_sealed = sealed_of(conn, &a1.id);
    // Same citizen, same category, another record: refused, not garbage.
    diesel::update(vault_records::table.find(&a2.id))
        .set(vault_records::sealed.eq(&a1_sealed))
        .execute(conn)
        .unwrap();
    assert!(matches!(
        records::get(conn, &keys, &alice, &a2.id),
        Err(VaultError::Crypto(_))
    ));
    // Another citizen's row.
    diesel::update(vault_records::table.find(&b1.id))
        .set(vault_records::sealed.eq(&a1_sealed))
        .execute(conn)
        .unwrap();
    assert!(matches!(
        records::get(conn, &keys, &bob, &b1.id),
        Err(VaultError::Crypto(_))
    ));
    // The original still opens.
    assert_eq!(records::get(conn, &keys, &alice, &a1.id).unwrap().data, a1.data);
    // An older version of the same record does not open as the current one either.
    let updated = records::update(
        conn,
        &keys,
        &alice,
        &a1.id,
        &json!({"date": "2026-11-20", "score": 2}),
        Utc::now(),
    )
    .unwrap();
    assert_eq!(updated.version, 2);
    diesel::update(vault_records::table.find(&a1.id))
        .set(vault_records::sealed.eq(&a1_sealed))
        .execute(conn)
        .unwrap();
    assert!(matches!(
        records::get(conn, &keys, &alice, &a1.id),
        Err(VaultError::Crypto(_))
    ));
}

fn a_deleted_account_cannot_be_opened_with_any_key_the_server_holds(db: &TestDb) {
    let (_d, keys) = keys();
    let pool = db.pool();
    let conn = &mut *pool.get().unwrap();
    let leaving = citizen(conn, &keys, "leaving@example.jp");
    let staying = citizen(conn, &keys, "staying@example.jp");
    let record = records::create(
        conn,
        &keys,
        &leaving,
        "residence",
        &example("residence", "gone"),
        Utc::now(),
    )
    .unwrap();
    // What a backup of the row would keep.
    let sealed: Vec<u8> = vault_records::table
        .find(&record.id)
        .select(vault_records::sealed)
        .first(conn)
        .unwrap();
    let aad = record_aad(&leaving, &record.id, "residence", 1);
    assert!(
        data_key(conn, &keys, &leaving).unwrap().open(&aad, &sealed).is_ok(),
        "opens before deletion"
    );

    account::delete_account(conn, &leaving, Utc::now()).unwrap();

    assert!(data_key(conn, &keys, &leaving).is_err(), "the data key is gone");
    let left: i64 = vault_records::table
        .filter(vault_records::citizen_id.eq(&leaving))
        .count()
        .get_result(conn)
        .unwrap();
    assert_eq!(left, 0);
    // No data key the server still holds opens it.
    let remaining: Vec<String> = infobank_db::schema::accounts::table
        .select(infobank_db::schema::accounts::id)
        .load(conn)
        .unwrap();
    assert!(remaining.contains(&staying));
    for other in remaining {
        assert!(data_key(conn, &keys, &other).unwrap().open(&aad, &sealed).is_err());
    }
    // The email is free again, for a new account with a new key.
    let again = citizen(conn, &keys, "leaving@example.jp");
    assert_ne!(again, leaving);
    assert!(data_key(conn, &keys, &again).unwrap().open(&aad, &sealed).is_err());
    assert!(matches!(
        account::delete_account(conn, &leaving, Utc::now()),
        Err(VaultError::NotFound)
    ));
}

fn a_citizen_sees_only_their_own_records(db: &TestDb) {
    let (_d, keys) = keys();
    let pool = db.pool();
    let conn = &mut *pool.get().unwrap();
    let alice = citizen(conn, &keys, "own-alice@example.jp");
    let mallory = citizen(conn, &keys, "own-mallory@example.jp");
    let r = records::create(conn, &keys, &alice, "hobbies", &example("hobbies", "x"), Utc::now()).unwrap();
    assert!(matches!(
        records::get(conn, &keys, &mallory, &r.id),
        Err(VaultError::NotFound)
    ));
    assert!(matches!(
        records::update(conn, &keys, &mallory, &r.id, &json!({"items": ["x"]}), Utc::now()),
        Err(VaultError::NotFound)
    ));
    assert!(matches!(
        records::delete(conn, &mallory, &r.id, Utc::now()),
        Err(VaultError::NotFound)
    ));
    assert!(records::list(conn, &keys, &mallory, None, None, 50).unwrap().is_empty());
    assert_eq!(
        records::get(conn, &keys, &alice, &r.id).unwrap().version,
        1,
        "untouched"
    );
}

fn single_categories_hold_one_record_and_series_many(db: &TestDb) {
    let (_d, keys) = keys();
    let pool = db.pool();
    let conn = &mut *pool.get().unwrap();
    let id = citizen(conn, &keys, "single@example.jp");
    records::create(conn, &keys, &id, "birth_date", &example("birth_date", ""), Utc::now()).unwrap();
    assert!(matches!(
        records::create(
            conn,
            &keys,
            &id,
            "birth_date",
            &json!({"date": "1990-01-01"}),
            Utc::now()
        ),
        Err(VaultError::SingleRecordExists(_))
    ));
    for day in 1..=7 {
        let data = json!({"date": format!("2026-11-0{day}"), "score": 3});
        records::create(conn, &keys, &id, "daily_mood", &data, Utc::now()).unwrap();
    }
    let first = records::list(conn, &keys, &id, Some("daily_mood"), None, 3).unwrap();
    let second = records::list(conn, &keys, &id, Some("daily_mood"), Some(&first[2].id), 3).unwrap();
    let third = records::list(conn, &keys, &id, Some("daily_mood"), Some(&second[2].id), 3).unwrap();
    assert_eq!((first.len(), second.len(), third.len()), (3, 3, 1));
    let dates: Vec<&str> = first
        .iter()
        .chain(&second)
        .chain(&third)
        .map(|r| r.data["date"].as_str().unwrap())
        .collect();
    assert_eq!(
        dates,
        [
            "2026-11-01",
            "2026-11-02",
            "2026-11-03",
            "2026-11-04",
            "2026-11-05",
            "2026-11-06",
            "2026-11-07"
        ]
    );
    assert_eq!(records::list(conn, &keys, &id, None, None, 50).unwrap().len(), 8);
    let mut counts = records::count_by_category(conn, &id).unwrap();
    counts.sort();
    assert_eq!(counts, [("birth_date".to_owned(), 1), ("daily_mood".to_owned(), 7)]);
    assert!(matches!(
        records::list(conn, &keys, &id, Some("nope"), None, 50),
        Err(VaultError::UnknownCategory(_))
    ));
}

fn writes_are_audited_with_ids_and_category_only(db: &TestDb) {
    let (_d, keys) = keys();
    let pool = db.pool();
    let conn = &mut *pool.get().unwrap();
    let id = citizen(conn, &keys, "audited@example.jp");
    let marker = "AuditMarker7731";
    let r = records::create(
        conn,
        &keys,
        &id,
        "employment",
        &example("employment", marker),
        Utc::now(),
    )
    .unwrap();
    records::update(conn, &keys, &id, &r.id, &example("employment", "changed"), Utc::now()).unwrap();
    records::delete(conn, &id, &r.id, Utc::now()).unwrap();
    let export = account::export(conn, &keys, &id, Utc::now()).unwrap();
    assert_eq!(export["account"]["email"], "audited@example.jp");
    account::delete_account(conn, &id, Utc::now()).unwrap();
    let size = infobank_audit::sequencer::integrate_all(conn).unwrap();
    let leaves = infobank_audit::log::entries(conn, 0, size).unwrap();
    let actions: Vec<&str> = leaves.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "account.created",
            "record.created",
            // The first payout publishes the default reward policy; the entrust is paid for.
            "reward_policy.published",
            "coins.paid",
            "record.updated",
            "record.deleted",
            "data.exported",
            "account.deleted"
        ]
    );
    for leaf in &leaves {
        assert!(
            !leaf.leaf.contains(marker) && !leaf.leaf.contains("audited@"),
            "{}",
            leaf.leaf
        );
    }
    let created: Value = serde_json::from_str(&leaves[1].leaf).unwrap();
    assert_eq!(created["objects"], json!({"record": r.id, "category": "employment"}));
    let paid: Value = serde_json::from_str(&leaves[3].leaf).unwrap();
    assert_eq!(paid["objects"]["record"], r.id.as_str());
    assert_eq!(paid["objects"]["reason"], "entrust_reward");
}

fn export_holds_every_record(db: &TestDb) {
    let (_d, keys) = keys();
    let pool = db.pool();
    let conn = &mut *pool.get().unwrap();
    let id = citizen(conn, &keys, "export@example.jp");
    for i in 0..205 {
        let data = json!({"date": "2026-11-18", "merchant": format!("Shop {i}"), "amount": i, "currency": "JPY", "method": "card", "merchant_category": "other"});
        records::create(conn, &keys, &id, "payment_history", &data, Utc::now()).unwrap();
    }
    let export = account::export(conn, &keys, &id, Utc::now()).unwrap();
    assert_eq!(export["format"], "infobank-export-v1");
    assert_eq!(
        export["records"].as_array().unwrap().len(),
        205,
        "more than one page of records"
    );
    assert_eq!(export["records"][204]["data"]["merchant"], "Shop 204");
}

fn import_keeps_good_rows_reports_bad_ones_and_refuses_duplicates(db: &TestDb) {
    use infobank_vault::import::{ImportBody, import};
    let (_d, keys) = keys();
    let pool = db.pool();
    let conn = &mut *pool.get().unwrap();
    let id = citizen(conn, &keys, "importer@example.jp");
    // Columns in another order than documented, a UTF-8 BOM, a bad amount, a bad method, a
    // duplicate of row 1, and a short row.
    let csv = "\u{feff}merchant,date,amount,currency,method,merchant_category\n\
               Lawson,2026-11-01,480,JPY,qr,grocery\n\
               FamilyMart,2026-11-02,1200,JPY,card,grocery\n\
               Yoshinoya,2026-11-02,lots,JPY,cash,restaurant\n\
               JR East,2026-11-03,210,JPY,barter,transport\n\
               Lawson,2026-11-01,480,JPY,qr,grocery\n\
               Doutor,2026-11-04,350\n\
               Uniqlo,2026-11-05,3990,JPY,card,clothing\n\
               \"Tully's,2026-11-06,420,JPY,card,restaurant\n\
               \r\n\
               \"Mos \"\"Burger\"\"\",2026-11-07,650,JPY,card,restaurant\r\n\
               Starbucks,2026-11-08,520,JPY,card,restaurant\n";
    let outcome = import(
        conn,
        &keys,
        &id,
        "payment_history",
        ImportBody::Csv(csv.as_bytes()),
        Utc::now(),
    )
    .unwrap();
    // An unclosed quote (row 8) spoils its own row only: the rows after it, one with quoted
    // quotes and CRLF endings after a blank line, are imported.
    assert_eq!(outcome.imported, 5);
    let rejected: Vec<(usize, &str)> = outcome.rejected.iter().map(|r| (r.row, r.code.as_str())).collect();
    assert_eq!(
        rejected,
        [
            (3, "not_an_integer"),
            (4, "not_an_option"),
            (5, "duplicate"),
            (6, "malformed_row"),
            (8, "malformed_row")
        ]
    );
    assert_eq!(
        outcome.rejected[4].message,
        "unreadable CSV row: a quoted field is not closed"
    );
    assert!(
        outcome
            .rejected
            .iter()
            .all(|r| !r.message.contains("Yoshinoya") && !r.message.contains("lots")),
        "no values in messages"
    );

    // Importing the same file again stores nothing new and says why.
    let again = import(
        conn,
        &keys,
        &id,
        "payment_history",
        ImportBody::Csv(csv.as_bytes()),
        Utc::now(),
    )
    .unwrap();
    assert_eq!(again.imported, 0);
    assert_eq!(again.rejected.iter().filter(|r| r.code == "duplicate").count(), 6);

    // JSON arrays too, and a single entrust of a held payment is refused.
    let json = serde_json::to_vec(&json!([
        {"date": "2026-11-06", "merchant": "Seven", "amount": 150, "currency": "JPY", "method": "e_money", "merchant_category": "grocery"},
        {"date": "2026-11-06", "merchant": "Seven", "amount": 150, "currency": "JPY", "method": "e_money"},
        "not an object",
    ]))
    .unwrap();
    let outcome = import(conn, &keys, &id, "payment_history", ImportBody::Json(&json), Utc::now()).unwrap();
    assert_eq!(outcome.imported, 1);
    assert_eq!(
        outcome
            .rejected
            .iter()
            .map(|r| (r.row, r.code.as_str()))
            .collect::<Vec<_>>(),
        [(2, "required"), (3, "not_an_object")]
    );
    let held = json!({"date": "2026-11-06", "merchant": "Seven", "amount": 150, "currency": "JPY", "method": "card", "merchant_category": "other"});
    assert!(matches!(
        records::create(conn, &keys, &id, "payment_history", &held, Utc::now()),
        Err(VaultError::DuplicateTransaction)
    ));

    let all = records::list(conn, &keys, &id, Some("payment_history"), None, 200).unwrap();
    let merchants: Vec<&str> = all.iter().map(|r| r.data["merchant"].as_str().unwrap()).collect();
    assert_eq!(
        merchants,
        ["Lawson", "FamilyMart", "Uniqlo", "Mos \"Burger\"", "Starbucks", "Seven"]
    );

    assert!(matches!(
        import(
            conn,
            &keys,
            &id,
            "payment_history",
            ImportBody::Csv(b"date,shop,amount\n"),
            Utc::now()
        ),
        Err(VaultError::MalformedImport(_))
    ));
    assert!(matches!(
        import(conn, &keys, &id, "payment_history", ImportBody::Json(b"{}"), Utc::now()),
        Err(VaultError::MalformedImport(_))
    ));
    assert!(matches!(
        import(conn, &keys, &id, "residence", ImportBody::Json(b"[]"), Utc::now()),
        Err(VaultError::NotImportable(_))
    ));

    let size = infobank_audit::sequencer::integrate_all(conn).unwrap();
    let leaves = infobank_audit::log::entries(conn, 0, size).unwrap();
    let counts: Vec<String> = leaves
        .iter()
        .filter(|e| e.action == "records.imported")
        .map(|e| {
            serde_json::from_str::<Value>(&e.leaf).unwrap()["objects"]["count"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(counts, ["5", "0", "1"]);
}

/// 10,000 records across 20 citizens; the rotation is interrupted half-way, resumed, and the old
/// KEK retired: every record still opens.
fn rotation_over_ten_thousand_records_interrupted_and_resumed(db: &TestDb) {
    use infobank_accounts::rotation::{keys_per_version, keys_to_rewrap, rewrap_batch};
    use infobank_vault::import::{ImportBody, import};
    let (_d, keys) = keys();
    let pool = db.pool();
    let conn = &mut *pool.get().unwrap();
    let mut citizens = Vec::new();
    for c in 0..20 {
        let id = citizen(conn, &keys, &format!("rotate{c}@example.jp"));
        let mut csv = String::from("date,merchant,amount,currency,method,merchant_category\n");
        for i in 0..500 {
            csv.push_str(&format!("2026-10-{:02},Shop {c}-{i},{i},JPY,card,other\n", i % 28 + 1));
        }
        assert_eq!(
            import(
                conn,
                &keys,
                &id,
                "payment_history",
                ImportBody::Csv(csv.as_bytes()),
                Utc::now()
            )
            .unwrap()
            .imported,
            500
        );
        citizens.push(id);
    }
    let before: Vec<Vec<Value>> = citizens.iter().map(|id| all_records(conn, &keys, id)).collect();
    assert_eq!(before.iter().map(Vec::len).sum::<usize>(), 10_000);

    let target = keys.create_next_kek().unwrap();
    assert_eq!(target, 2);
    // Interrupted after two batches of 3: some keys on v2, the rest on v1, everything readable.
    assert_eq!(rewrap_batch(conn, &keys, target, 3).unwrap(), 3);
    assert_eq!(rewrap_batch(conn, &keys, target, 3).unwrap(), 3);
    assert_eq!(keys_to_rewrap(conn, target).unwrap(), 14);
    for (id, records) in citizens.iter().zip(&before) {
        assert_eq!(&all_records(conn, &keys, id), records);
    }
    // A new sign-up during the rotation is wrapped with the new KEK straight away.
    let newcomer = citizen(conn, &keys, "newcomer@example.jp");
    // Resumed: it finishes.
    while rewrap_batch(conn, &keys, target, 7).unwrap() > 0 {}
    assert_eq!(keys_to_rewrap(conn, target).unwrap(), 0);
    assert_eq!(keys_per_version(conn).unwrap(), vec![(2, 21)]);
    let _ = newcomer;

    keys.retire_kek(1).unwrap();
    assert!(keys.kek(1).is_none());
    for (id, records) in citizens.iter().zip(&before) {
        assert_eq!(
            &all_records(conn, &keys, id),
            records,
            "records of {id} after retiring v1"
        );
    }
}

fn all_records(conn: &mut DbConnection, keys: &KeyRing, citizen_id: &str) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    loop {
        let after = out.last().map(|r| r["id"].as_str().unwrap().to_owned());
        let page = records::list(conn, keys, citizen_id, None, after.as_deref(), 200).unwrap();
        let done = page.len() < 200;
        out.extend(page.into_iter().map(|r| json!({"id": r.id, "data": r.data})));
        if done {
            return out;
        }
    }
}

db_tests!(
    rotation_over_ten_thousand_records_interrupted_and_resumed,
    import_keeps_good_rows_reports_bad_ones_and_refuses_duplicates,
    no_entrusted_value_is_stored_in_plaintext,
    a_ciphertext_moved_to_another_row_does_not_open,
    a_deleted_account_cannot_be_opened_with_any_key_the_server_holds,
    a_citizen_sees_only_their_own_records,
    single_categories_hold_one_record_and_series_many,
    writes_are_audited_with_ids_and_category_only,
    export_holds_every_record,
    entrusting_pays_the_content_reward_once_a_month,
);

/// The reward policy prices every category the vault accepts, and nothing else.
#[test]
fn the_default_reward_policy_has_a_rule_for_exactly_the_vault_categories() {
    let policy = infobank_coins::RewardPolicy::default();
    let priced: Vec<&str> = policy.categories.keys().map(String::as_str).collect();
    let mut names: Vec<&str> = CATEGORIES.iter().map(|c| c.name).collect();
    names.sort_unstable();
    assert_eq!(priced, names);
}

/// Entrusting pays in the same transaction, once per category and month: a second record, an
/// import, or deleting and entering again in the same month pays nothing more.
fn entrusting_pays_the_content_reward_once_a_month(db: &TestDb) {
    use infobank_coins::{Account, Reason, ledger::balance, statement::history};
    let (_d, keys) = keys();
    let pool = db.pool();
    let conn = &mut *pool.get().unwrap();
    let id = citizen(conn, &keys, "coins@example.test");
    let policy = infobank_coins::RewardPolicy::default();
    let residence = records::create(conn, &keys, &id, "residence", &example("residence", ""), Utc::now()).unwrap();
    let weight = policy.categories["residence"].weight;
    assert_eq!(balance(conn, Account::Citizen(&id)).unwrap(), weight);
    records::delete(conn, &id, &residence.id, Utc::now()).unwrap();
    records::create(conn, &keys, &id, "residence", &example("residence", ""), Utc::now()).unwrap();
    assert_eq!(
        balance(conn, Account::Citizen(&id)).unwrap(),
        weight,
        "deleting and re-entering pays nothing"
    );

    let csv = "date,merchant,amount,currency,method,merchant_category\n\
               2026-11-01,Shop A,100,JPY,qr,grocery\n2026-11-02,Shop B,200,JPY,card,grocery\n";
    let outcome = infobank_vault::import::import(
        conn,
        &keys,
        &id,
        "payment_history",
        infobank_vault::import::ImportBody::Csv(csv.as_bytes()),
        Utc::now(),
    )
    .unwrap();
    assert_eq!(outcome.imported, 2);
    let payments = policy.categories["payment_history"].weight; // 2 payments are one unit
    assert_eq!(balance(conn, Account::Citizen(&id)).unwrap(), weight + payments);
    let lines = history(conn, Account::Citizen(&id), None, 10).unwrap();
    assert!(lines.iter().all(|l| l.entry.reason == Reason::EntrustReward));
    assert_eq!(lines[0].entry.inputs["records_held"], 2);
    assert_eq!(lines[0].entry.ref_kind, "import");

    let export = account::export(conn, &keys, &id, Utc::now()).unwrap();
    let entries = export["coin_entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["reason"], "entrust_reward");
    assert_eq!(entries[0]["inputs"]["category"], "residence");
    infobank_coins::ledger::check_books(conn).unwrap();
}
