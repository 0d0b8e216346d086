//! Accounts on both backends: sign-up, sign-in, throttling, sessions, and nothing personal in
//! plaintext at rest.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)] // tests use the real clock

use chrono::{Duration, Utc};
use infobank_accounts::{
    AccountError, FAILURE_LIMIT, NewAccount, Role, SESSION_LIFETIME, authenticate, create_account, end_session,
    find_session, profile, start_session,
};
use infobank_crypto::KeyRing;
use infobank_db::diesel::{QueryableByName, RunQueryDsl as _, sql_types::BigInt};
use infobank_db::{Backend, DbConnection};
use infobank_testkit::{TestDb, db_tests};

const PASSWORD: &str = "correct horse battery staple";

fn keys() -> (tempfile::TempDir, KeyRing) {
    let dir = tempfile::tempdir().unwrap();
    let keys = KeyRing::load_or_create(dir.path()).unwrap();
    (dir, keys)
}

fn citizen<'a>(email: &'a str, name: &'a str) -> NewAccount<'a> {
    NewAccount {
        role: Role::Citizen,
        email,
        password: PASSWORD,
        display_name: name,
    }
}

fn sign_up_then_sign_in_and_read_profile(db: &TestDb) {
    let (_d, keys) = keys();
    let pool = db.pool();
    let conn = &mut *pool.get().unwrap();
    let now = Utc::now();
    let id = create_account(conn, &keys, &citizen("  Hanako@Example.JP ", "Hanako"), now).unwrap();
    let account = authenticate(conn, &keys, "hanako@example.jp", PASSWORD, now).unwrap();
    assert_eq!(account.id, id);
    assert_eq!(account.role, Role::Citizen);
    let p = profile(conn, &keys, &id).unwrap();
    assert_eq!(
        (p.email.as_str(), p.display_name.as_str()),
        ("hanako@example.jp", "Hanako")
    );
}

fn duplicate_email_is_refused_whatever_its_case(db: &TestDb) {
    let (_d, keys) = keys();
    let pool = db.pool();
    let conn = &mut *pool.get().unwrap();
    create_account(conn, &keys, &citizen("taro@example.jp", "Taro"), Utc::now()).unwrap();
    let again = create_account(conn, &keys, &citizen("TARO@example.jp", "Other"), Utc::now());
    assert!(matches!(again, Err(AccountError::DuplicateEmail)), "{again:?}");
    let staff = NewAccount {
        role: Role::Operator,
        ..citizen("taro@example.jp", "Op")
    };
    assert!(matches!(
        create_account(conn, &keys, &staff, Utc::now()),
        Err(AccountError::DuplicateEmail)
    ));
}

fn bad_email_and_weak_password_are_refused(db: &TestDb) {
    let (_d, keys) = keys();
    let pool = db.pool();
    let conn = &mut *pool.get().unwrap();
    assert!(matches!(
        create_account(conn, &keys, &citizen("not-an-email", "X"), Utc::now()),
        Err(AccountError::InvalidEmail)
    ));
    let weak = NewAccount {
        password: "short",
        ..citizen("a@example.jp", "A")
    };
    assert!(matches!(
        create_account(conn, &keys, &weak, Utc::now()),
        Err(AccountError::WeakPassword(_))
    ));
}

fn wrong_password_and_unknown_email_look_the_same(db: &TestDb) {
    let (_d, keys) = keys();
    let pool = db.pool();
    let conn = &mut *pool.get().unwrap();
    create_account(conn, &keys, &citizen("jiro@example.jp", "Jiro"), Utc::now()).unwrap();
    let wrong = authenticate(conn, &keys, "jiro@example.jp", "wrong password!!", Utc::now()).unwrap_err();
    let unknown = authenticate(conn, &keys, "nobody@example.jp", PASSWORD, Utc::now()).unwrap_err();
    assert!(matches!(wrong, AccountError::InvalidCredentials));
    assert!(matches!(unknown, AccountError::InvalidCredentials));
}

fn sixth_attempt_within_the_window_is_throttled_until_it_passes(db: &TestDb) {
    let (_d, keys) = keys();
    let pool = db.pool();
    let conn = &mut *pool.get().unwrap();
    create_account(conn, &keys, &citizen("saburo@example.jp", "Saburo"), Utc::now()).unwrap();
    let t0 = Utc::now();
    for i in 0..FAILURE_LIMIT {
        let at = t0 + Duration::seconds(i as i64);
        assert!(matches!(
            authenticate(conn, &keys, "saburo@example.jp", "wrong password!!", at),
            Err(AccountError::InvalidCredentials)
        ));
    }
    // Even the right password is refused while throttled.
    let at = t0 + Duration::seconds(10);
    match authenticate(conn, &keys, "saburo@example.jp", PASSWORD, at) {
        Err(AccountError::Throttled { retry_after_secs }) => {
            assert_eq!(retry_after_secs, 15 * 60 - 10)
        }
        other => panic!("expected throttling, got {other:?}"),
    }
    // Once the first failure leaves the 15-minute window, four remain and sign-in works again.
    let later = t0 + Duration::minutes(15) + Duration::milliseconds(500);
    assert!(authenticate(conn, &keys, "saburo@example.jp", PASSWORD, later).is_ok());
}

fn success_clears_earlier_failures(db: &TestDb) {
    let (_d, keys) = keys();
    let pool = db.pool();
    let conn = &mut *pool.get().unwrap();
    create_account(conn, &keys, &citizen("shiro@example.jp", "Shiro"), Utc::now()).unwrap();
    let now = Utc::now();
    for _ in 0..FAILURE_LIMIT - 1 {
        let _ = authenticate(conn, &keys, "shiro@example.jp", "wrong password!!", now);
    }
    authenticate(conn, &keys, "shiro@example.jp", PASSWORD, now).unwrap();
    for _ in 0..FAILURE_LIMIT - 1 {
        let _ = authenticate(conn, &keys, "shiro@example.jp", "wrong password!!", now);
    }
    assert!(authenticate(conn, &keys, "shiro@example.jp", PASSWORD, now).is_ok());
}

fn unknown_emails_are_throttled_too(db: &TestDb) {
    let (_d, keys) = keys();
    let pool = db.pool();
    let conn = &mut *pool.get().unwrap();
    let now = Utc::now();
    for _ in 0..FAILURE_LIMIT {
        let _ = authenticate(conn, &keys, "ghost@example.jp", PASSWORD, now);
    }
    assert!(matches!(
        authenticate(conn, &keys, "ghost@example.jp", PASSWORD, now),
        Err(AccountError::Throttled { .. })
    ));
}

fn sessions_live_until_they_expire_or_end(db: &TestDb) {
    let (_d, keys) = keys();
    let pool = db.pool();
    let conn = &mut *pool.get().unwrap();
    let now = Utc::now();
    let id = create_account(conn, &keys, &citizen("goro@example.jp", "Goro"), now).unwrap();
    let session = start_session(conn, &id, now).unwrap();
    assert_eq!(find_session(conn, &session.token, now).unwrap().unwrap().id, id);
    assert!(
        find_session(conn, &session.token, now + SESSION_LIFETIME)
            .unwrap()
            .is_none(),
        "expired"
    );
    assert!(find_session(conn, "forged-token", now).unwrap().is_none());
    end_session(conn, &session.token).unwrap();
    assert!(find_session(conn, &session.token, now).unwrap().is_none(), "ended");
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn count(conn: &mut DbConnection, sql: &str) -> i64 {
    diesel::sql_query(sql).get_result::<Count>(conn).unwrap().n
}

fn nothing_personal_is_stored_in_plaintext(db: &TestDb) {
    let (_d, keys) = keys();
    let pool = db.pool();
    let conn = &mut *pool.get().unwrap();
    let marker = format!("zq{}x", uuid_like());
    let email = format!("{marker}@example.jp");
    let name = format!("Name {marker}");
    let id = create_account(conn, &keys, &citizen(&email, &name), Utc::now()).unwrap();
    let session = start_session(conn, &id, Utc::now()).unwrap();
    match db.backend() {
        Backend::Sqlite => {
            let infobank_db::DatabaseUrl::Sqlite(path) = &db.url else {
                unreachable!()
            };
            let mut bytes = std::fs::read(path).unwrap();
            bytes.extend(std::fs::read(path.with_extension("db-wal")).unwrap_or_default());
            assert!(!bytes.is_empty());
            for needle in [marker.as_bytes(), session.token.as_bytes()] {
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle),
                    "plaintext found in the SQLite files"
                );
            }
        }
        Backend::Postgres => {
            let text_hits = count(
                conn,
                &format!(
                    "SELECT COUNT(*) AS n FROM (SELECT row_to_json(a)::text AS t FROM accounts a \
                     UNION ALL SELECT row_to_json(s)::text FROM sessions s) rows \
                     WHERE t LIKE '%{marker}%' OR t LIKE '%{}%'",
                    session.token
                ),
            );
            let byte_hits = count(
                conn,
                &format!(
                    "SELECT COUNT(*) AS n FROM accounts WHERE position(convert_to('{marker}', 'UTF8') in email_sealed) > 0 \
                     OR position(convert_to('{marker}', 'UTF8') in display_name_sealed) > 0"
                ),
            );
            assert_eq!((text_hits, byte_hits), (0, 0), "plaintext found in PostgreSQL");
        }
    }
    // ...and yet the owner gets the values back.
    let p = profile(conn, &keys, &id).unwrap();
    assert_eq!((p.email, p.display_name), (email, name));
}

fn uuid_like() -> String {
    format!("{:x}", Utc::now().timestamp_nanos_opt().unwrap())
}

fn concurrent_sign_ups_with_one_email_create_one_account(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let pool = db.pool();
    let outcomes: Vec<Result<String, AccountError>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let pool = pool.clone();
                let dir = dir.path().to_path_buf();
                s.spawn(move || {
                    let keys = KeyRing::load_or_create(&dir).unwrap();
                    let conn = &mut *pool.get().unwrap();
                    create_account(conn, &keys, &citizen("race@example.jp", "Racer"), Utc::now())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let created = outcomes.iter().filter(|o| o.is_ok()).count();
    let duplicates = outcomes
        .iter()
        .filter(|o| matches!(o, Err(AccountError::DuplicateEmail)))
        .count();
    assert_eq!((created, duplicates), (1, 7), "{outcomes:?}");
}

db_tests!(
    sign_up_then_sign_in_and_read_profile,
    duplicate_email_is_refused_whatever_its_case,
    bad_email_and_weak_password_are_refused,
    wrong_password_and_unknown_email_look_the_same,
    sixth_attempt_within_the_window_is_throttled_until_it_passes,
    success_clears_earlier_failures,
    unknown_emails_are_throttled_too,
    sessions_live_until_they_expire_or_end,
    nothing_personal_is_stored_in_plaintext,
    concurrent_sign_ups_with_one_email_create_one_account,
);
