//! Companies, offers, consents and disclosure on SQLite and PostgreSQL: the authorisation matrix
//! of the consent issue, receipts checked with an Ed25519 implementation other than ours, and the
//! money that moves with consents and disclosures.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use base64::Engine as _;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use infobank_accounts::{NewAccount, Role, create_account};
use infobank_coins::ledger::{balance, check_books};
use infobank_coins::{Account, CoinsError};
use infobank_consent::companies::{self, Application, CompanyStatus, Credentials};
use infobank_consent::consents::{self, Change};
use infobank_consent::disclosure::{self, Attesting, Disclosed, Disclosure};
use infobank_consent::offers::{self, Ask, Proposal};
use infobank_consent::{ConsentError, NotLive};
use infobank_crypto::{KeyRing, TokenSigner};
use infobank_db::DbConnection;
use infobank_testkit::{TestDb, db_tests};
use infobank_vault::records;
use serde_json::{Value, json};

/// A fixed instant in the middle of a month, so "later this month" stays in the month.
fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-10T09:00:00Z").unwrap().to_utc()
}

struct World {
    _dir: tempfile::TempDir,
    keys: KeyRing,
    signer: TokenSigner,
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let keys = KeyRing::load_or_create(dir.path()).unwrap();
    let signer = TokenSigner::new(&keys);
    World {
        _dir: dir,
        keys,
        signer,
    }
}

fn citizen(conn: &mut DbConnection, w: &World, tag: &str) -> String {
    let email = format!("{tag}-{}@example.jp", uuid::Uuid::now_v7().simple());
    let new = NewAccount {
        role: Role::Citizen,
        email: &email,
        password: "correct horse battery staple",
        display_name: tag,
    };
    create_account(conn, &w.keys, &new, t0()).unwrap()
}

fn application(n: u64) -> Application {
    Application {
        legal_name: format!("Partner {n} K.K."),
        corporate_number: infobank_consent::corporate_number::with_check_digit(n),
        contact_email: format!("privacy{n}@partner.example.jp"),
        privacy_policy_url: format!("https://partner{n}.example.jp/privacy"),
        certification_kind: "PMARK".into(),
        certification_id: format!("P-{n}"),
        certification_expires_on: NaiveDate::from_ymd_opt(2099, 3, 31).unwrap(),
    }
}

fn approved_company(conn: &mut DbConnection, n: u64) -> (String, Credentials) {
    let (company, creds) = companies::apply(conn, &application(n), t0()).unwrap();
    companies::decide(conn, &company.id, CompanyStatus::Approved, None, "op", t0()).unwrap();
    (company.id, creds)
}

fn proposal(categories: &[&str], reward: i64) -> Proposal {
    Proposal {
        title: "Better groceries".into(),
        description: "We tailor coupons to your household.".into(),
        purpose: "personalised_offers".into(),
        categories: categories.iter().map(|c| (*c).to_owned()).collect(),
        ask: Ask::Records,
        data_range_days: 30,
        access: "periodic".into(),
        max_fetches_per_day: 2,
        retention_days: 90,
        consent_days: 180,
        reward_coins: reward,
    }
}

fn approved_offer(conn: &mut DbConnection, company: &str, categories: &[&str], reward: i64) -> String {
    let offer = offers::propose(conn, company, &proposal(categories, reward), t0()).unwrap();
    offers::review(conn, &offer.id, true, None, "op", t0()).unwrap().id
}

/// A records disclosure (every offer in these tests asks for records).
fn disclose(
    conn: &mut DbConnection,
    keys: &KeyRing,
    company: &str,
    consent: &str,
    now: DateTime<Utc>,
) -> Result<Disclosure, ConsentError> {
    let signer = TokenSigner::new(keys);
    let attesting = Attesting {
        signer: &signer,
        ttl: Duration::minutes(5),
    };
    match disclosure::disclose(conn, keys, attesting, company, consent, now)? {
        Disclosed::Records(d) => Ok(d),
        Disclosed::Predicates(p) => panic!("a records offer answered predicates: {p:?}"),
    }
}

fn entrust(conn: &mut DbConnection, w: &World, citizen: &str, category: &str, data: Value) {
    records::create(conn, &w.keys, citizen, category, &data, t0()).unwrap();
}

fn not_live(result: Result<impl std::fmt::Debug, ConsentError>) -> NotLive {
    match result {
        Err(ConsentError::NotLive(why)) => why,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn companies_are_vetted_and_their_credentials_work_only_when_approved(db: &TestDb) {
    let pool = db.pool();
    let conn = &mut *pool.get().unwrap();
    let bad = |conn: &mut DbConnection, f: &dyn Fn(&mut Application)| {
        let mut app = application(1);
        f(&mut app);
        match companies::apply(conn, &app, t0()) {
            Err(ConsentError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(
        bad(conn, &|a| a.corporate_number = "1234567890123".into()),
        "corporate_number"
    );
    assert_eq!(
        bad(conn, &|a| a.privacy_policy_url = "http://partner.example.jp/p".into()),
        "privacy_policy_url"
    );
    assert_eq!(bad(conn, &|a| a.contact_email = "nobody".into()), "contact_email");
    assert_eq!(
        bad(conn, &|a| a.certification_kind = "ISO9001".into()),
        "security_certification.kind"
    );
    assert_eq!(
        bad(conn, &|a| a.certification_expires_on =
            NaiveDate::from_ymd_opt(2020, 1, 1).unwrap()),
        "security_certification.expires_on"
    );
    assert_eq!(bad(conn, &|a| a.legal_name = " ".into()), "legal_name");

    let (company, creds) = companies::apply(conn, &application(7), t0()).unwrap();
    assert_eq!(company.status, CompanyStatus::Applied);
    assert!(
        !format!("{creds:?}").contains(&creds.client_secret),
        "the secret never prints"
    );
    // Stored as its SHA-256 only: the row cannot give the secret back, nor can the API (once shown).
    use infobank_db::diesel::prelude::*;
    let stored: String = infobank_db::schema::companies::table
        .find(&company.id)
        .select(infobank_db::schema::companies::secret_hash)
        .first(conn)
        .unwrap();
    assert_eq!(
        stored,
        infobank_crypto::hashing::hex(&infobank_crypto::hashing::sha256(
            creds.client_secret.strip_prefix("ibs_").unwrap().as_bytes()
        ))
    );
    assert!(
        !serde_json::to_string(&companies::get(conn, &company.id).unwrap())
            .unwrap()
            .contains(&creds.client_secret)
    );
    assert!(matches!(
        companies::apply(conn, &application(7), t0()),
        Err(ConsentError::DuplicateCorporateNumber)
    ));
    // Not approved yet: the right secret is still refused.
    assert!(matches!(
        companies::authenticate_client(conn, &creds.client_id, &creds.client_secret),
        Err(ConsentError::CompanyNotApproved)
    ));
    assert!(matches!(
        companies::decide(conn, &company.id, CompanyStatus::Suspended, Some("x"), "op", t0()),
        Err(ConsentError::InvalidTransition { .. })
    ));
    assert!(matches!(
        companies::decide(conn, &company.id, CompanyStatus::Rejected, None, "op", t0()),
        Err(ConsentError::ReasonRequired)
    ));
    companies::decide(conn, &company.id, CompanyStatus::Approved, None, "op", t0()).unwrap();
    assert_eq!(
        companies::authenticate_client(conn, &creds.client_id, &creds.client_secret)
            .unwrap()
            .id,
        company.id
    );
    for (id, secret) in [
        (creds.client_id.as_str(), "ibs_wrong"),
        (creds.client_id.as_str(), ""),
        ("ibc_unknown", creds.client_secret.as_str()),
    ] {
        assert!(matches!(
            companies::authenticate_client(conn, id, secret),
            Err(ConsentError::InvalidCredentials)
        ));
    }
    let rotated = companies::rotate_secret(conn, &company.id, t0()).unwrap();
    assert!(matches!(
        companies::authenticate_client(conn, &creds.client_id, &creds.client_secret),
        Err(ConsentError::InvalidCredentials)
    ));
    companies::authenticate_client(conn, &rotated.client_id, &rotated.client_secret).unwrap();
    companies::decide(
        conn,
        &company.id,
        CompanyStatus::Suspended,
        Some("late audit report"),
        "op",
        t0(),
    )
    .unwrap();
    assert!(matches!(
        companies::authenticate_client(conn, &rotated.client_id, &rotated.client_secret),
        Err(ConsentError::CompanyNotApproved)
    ));
    // Suspended, the company cannot replace its own secret (leaked credentials must not lock it
    // out); the operator can, and that ends the old secret and every earlier portal session.
    assert!(matches!(
        companies::rotate_secret(conn, &company.id, t0()),
        Err(ConsentError::CompanyNotApproved)
    ));
    let signed_in = t0().timestamp() + 60;
    assert!(companies::session_is_current(conn, &company.id, signed_in).unwrap());
    let reset = companies::reset_secret(conn, &company.id, "op", t0() + chrono::Duration::minutes(5)).unwrap();
    assert!(!companies::session_is_current(conn, &company.id, signed_in).unwrap());
    assert!(companies::session_is_current(conn, &company.id, signed_in + 240).unwrap());
    assert!(!companies::session_is_current(conn, "no-such-company", signed_in + 240).unwrap());
    companies::decide(conn, &company.id, CompanyStatus::Approved, None, "op", t0()).unwrap();
    assert!(matches!(
        companies::authenticate_client(conn, &rotated.client_id, &rotated.client_secret),
        Err(ConsentError::InvalidCredentials)
    ));
    assert_eq!(
        companies::authenticate_client(conn, &reset.client_id, &reset.client_secret)
            .unwrap()
            .id,
        company.id
    );
    companies::decide(conn, &company.id, CompanyStatus::Revoked, Some("breach"), "op", t0()).unwrap();
    assert!(matches!(
        companies::authenticate_client(conn, &reset.client_id, &reset.client_secret),
        Err(ConsentError::CompanyNotApproved)
    ));
    let decisions = companies::decisions(conn, &company.id).unwrap();
    assert_eq!(decisions.len(), 4);
    assert_eq!(
        (decisions[1].to.as_str(), decisions[1].reason.as_str()),
        ("suspended", "late audit report")
    );
}

fn offers_are_reviewed_before_citizens_see_them(db: &TestDb) {
    let pool = db.pool();
    let conn = &mut *pool.get().unwrap();
    let (applied, _) = companies::apply(conn, &application(11), t0()).unwrap();
    assert!(matches!(
        offers::propose(conn, &applied.id, &proposal(&["residence"], 0), t0()),
        Err(ConsentError::CompanyNotApproved)
    ));
    let (company, _) = approved_company(conn, 12);
    let invalid = |conn: &mut DbConnection, p: Proposal| match offers::propose(conn, &company, &p, t0()) {
        Err(ConsentError::Invalid { field, .. }) => field,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        invalid(
            conn,
            Proposal {
                purpose: "selling_data".into(),
                ..proposal(&["residence"], 0)
            }
        ),
        "purpose"
    );
    assert_eq!(invalid(conn, proposal(&["horoscope"], 0)), "categories");
    assert_eq!(invalid(conn, proposal(&[], 0)), "categories");
    assert_eq!(invalid(conn, proposal(&["residence", "residence"], 0)), "categories");
    assert_eq!(
        invalid(
            conn,
            Proposal {
                consent_days: 366,
                ..proposal(&["residence"], 0)
            }
        ),
        "consent_days"
    );
    assert_eq!(
        invalid(
            conn,
            Proposal {
                access: "forever".into(),
                ..proposal(&["residence"], 0)
            }
        ),
        "access"
    );
    assert_eq!(
        invalid(
            conn,
            Proposal {
                access: "one_time".into(),
                max_fetches_per_day: 3,
                ..proposal(&["residence"], 0)
            }
        ),
        "max_fetches_per_day"
    );
    assert_eq!(
        invalid(
            conn,
            Proposal {
                reward_coins: -1,
                ..proposal(&["residence"], 0)
            }
        ),
        "reward_coins"
    );

    let pending = offers::propose(conn, &company, &proposal(&["residence", "physical_condition"], 5), t0()).unwrap();
    assert_eq!(pending.status, "pending_review");
    assert_eq!(
        pending.special_categories,
        vec!["physical_condition"],
        "special data is flagged"
    );
    assert_eq!(pending.onward_transfer, "prohibited");
    assert!(offers::open(conn, 50).unwrap().iter().all(|o| o.id != pending.id));
    assert!(matches!(
        offers::review(conn, &pending.id, false, None, "op", t0()),
        Err(ConsentError::ReasonRequired)
    ));
    let rejected = offers::review(
        conn,
        &pending.id,
        false,
        Some("health data is not needed for coupons"),
        "op",
        t0(),
    )
    .unwrap();
    assert_eq!(rejected.status, "rejected");
    assert!(matches!(
        offers::review(conn, &pending.id, true, None, "op", t0()),
        Err(ConsentError::InvalidTransition { .. })
    ));
    let good = approved_offer(conn, &company, &["residence"], 0);
    assert!(offers::open(conn, 50).unwrap().iter().any(|o| o.id == good));
    companies::decide(conn, &company, CompanyStatus::Suspended, Some("audit"), "op", t0()).unwrap();
    assert!(
        offers::open(conn, 50).unwrap().iter().all(|o| o.id != good),
        "a suspended company's offers are not open"
    );
}

/// The authorisation matrix: every way a disclosure must be refused, and what it returns when
/// it is not.
fn disclosure_only_through_a_live_consent(db: &TestDb) {
    let w = world();
    let pool = db.pool();
    let conn = &mut *pool.get().unwrap();
    let (acme, _) = approved_company(conn, 21);
    let (bravo, _) = approved_company(conn, 22);
    infobank_coins::funding::fund_company(conn, &acme, 100, "f-acme", "op", t0()).unwrap();
    let offer = approved_offer(conn, &acme, &["residence", "daily_mood"], 40);

    let alice = citizen(conn, &w, "alice");
    let bob = citizen(conn, &w, "bob");
    entrust(
        conn,
        &w,
        &alice,
        "residence",
        json!({"prefecture": "Tokyo", "city": "Chiyoda", "postal_code": "100-0001"}),
    );
    let today = t0().date_naive();
    entrust(
        conn,
        &w,
        &alice,
        "daily_mood",
        json!({"date": today.to_string(), "score": 4, "note": "recent"}),
    );
    let old = today - Duration::days(45);
    entrust(
        conn,
        &w,
        &alice,
        "daily_mood",
        json!({"date": old.to_string(), "score": 2, "note": "old"}),
    );
    entrust(conn, &w, &alice, "hobbies", json!({"items": ["go"]}));
    let alice_before = balance(conn, Account::Citizen(&alice)).unwrap();

    // An offer not (yet) approved cannot be accepted.
    let pending = offers::propose(conn, &acme, &proposal(&["residence"], 0), t0()).unwrap();
    assert!(matches!(
        consents::accept(conn, &w.keys, &w.signer, &alice, &pending.id, t0()),
        Err(ConsentError::OfferNotOpen)
    ));
    assert!(matches!(
        consents::accept(conn, &w.keys, &w.signer, &alice, "no-such-offer", t0()),
        Err(ConsentError::OfferNotOpen)
    ));

    let consent = consents::accept(conn, &w.keys, &w.signer, &alice, &offer, t0()).unwrap();
    assert_eq!(consent.status, "active");
    assert!(matches!(
        consents::accept(conn, &w.keys, &w.signer, &alice, &offer, t0()),
        Err(ConsentError::AlreadyConsented)
    ));
    assert_eq!(
        balance(conn, Account::Escrow(&acme)).unwrap(),
        40,
        "the reward is reserved at consent"
    );

    // Another company, another citizen: as if the consent did not exist.
    assert!(matches!(
        disclose(conn, &w.keys, &bravo, &consent.id, t0()),
        Err(ConsentError::NotFound)
    ));
    assert!(matches!(
        consents::get_for_citizen(conn, &bob, &consent.id),
        Err(ConsentError::NotFound)
    ));
    assert!(matches!(
        consents::change(conn, &w.signer, &bob, &consent.id, Change::Revoke, t0()),
        Err(ConsentError::NotFound)
    ));
    assert!(
        disclosure::for_citizen(conn, &w.keys, &bob, None, 50)
            .unwrap()
            .is_empty()
    );

    // The disclosure: only the offer's categories, only the data range.
    let d = disclose(conn, &w.keys, &acme, &consent.id, t0()).unwrap();
    assert_eq!(d.data.keys().collect::<Vec<_>>(), ["daily_mood", "residence"]);
    assert_eq!(
        d.data["daily_mood"].len(),
        1,
        "the 45-day-old mood is outside the 30-day range"
    );
    assert_eq!(d.data["daily_mood"][0].data["note"], "recent");
    assert_eq!(d.data["residence"][0].data["city"], "Chiyoda");
    assert!(
        !serde_json::to_string(&d).unwrap().contains("\"go\""),
        "hobbies are not in the offer"
    );
    assert_eq!(d.terms.subject, consent.subject);
    assert_eq!(d.terms.onward_transfer, "prohibited");
    // The first disclosure pays the offer reward from escrow and the breadth bonus.
    let bonus = infobank_coins::RewardPolicy::default().breadth_bonus(1);
    assert_eq!(
        balance(conn, Account::Citizen(&alice)).unwrap(),
        alice_before + 40 + bonus
    );
    assert_eq!(balance(conn, Account::Escrow(&acme)).unwrap(), 0);
    // Quota: two a day.
    disclose(conn, &w.keys, &acme, &consent.id, t0()).unwrap();
    assert_eq!(
        not_live(disclose(conn, &w.keys, &acme, &consent.id, t0())),
        NotLive::QuotaExceeded
    );
    disclose(conn, &w.keys, &acme, &consent.id, t0() + Duration::days(1)).unwrap();
    assert_eq!(
        balance(conn, Account::Citizen(&alice)).unwrap(),
        alice_before + 40 + bonus,
        "later disclosures pay nothing more this month"
    );

    // Pause, resume, suspend, reinstate, revoke: each effective on the very next request.
    let tomorrow = t0() + Duration::days(2);
    consents::change(conn, &w.signer, &alice, &consent.id, Change::Pause, t0()).unwrap();
    assert_eq!(
        not_live(disclose(conn, &w.keys, &acme, &consent.id, tomorrow)),
        NotLive::Paused
    );
    consents::change(conn, &w.signer, &alice, &consent.id, Change::Resume, t0()).unwrap();
    disclose(conn, &w.keys, &acme, &consent.id, tomorrow).unwrap();
    companies::decide(conn, &acme, CompanyStatus::Suspended, Some("incident"), "op", t0()).unwrap();
    assert_eq!(
        not_live(disclose(conn, &w.keys, &acme, &consent.id, tomorrow)),
        NotLive::CompanySuspended
    );
    companies::decide(conn, &acme, CompanyStatus::Approved, Some("resolved"), "op", t0()).unwrap();
    disclose(conn, &w.keys, &acme, &consent.id, tomorrow).unwrap();
    let revoked = consents::change(conn, &w.signer, &alice, &consent.id, Change::Revoke, t0()).unwrap();
    assert_eq!(revoked.status, "revoked");
    assert_eq!(
        not_live(disclose(conn, &w.keys, &acme, &consent.id, tomorrow)),
        NotLive::Revoked
    );
    assert!(matches!(
        consents::change(conn, &w.signer, &alice, &consent.id, Change::Resume, t0()),
        Err(ConsentError::InvalidTransition { .. })
    ));
    // A revoked consent can be given again.
    infobank_coins::funding::fund_company(conn, &acme, 40, "f-acme-2", "op", t0()).unwrap();
    consents::accept(conn, &w.keys, &w.signer, &alice, &offer, t0()).unwrap();

    // The citizen sees every disclosure with the company and the categories.
    let history = disclosure::for_citizen(conn, &w.keys, &alice, None, 50).unwrap();
    assert_eq!(history.len(), 5);
    assert!(
        history
            .iter()
            .all(|h| h.company_name == "Partner 21 K.K." && h.categories == ["residence", "daily_mood"])
    );
    check_books(conn).unwrap();
}

fn consents_expire_and_release_their_reservation(db: &TestDb) {
    let w = world();
    let pool = db.pool();
    let conn = &mut *pool.get().unwrap();
    let (company, _) = approved_company(conn, 31);
    infobank_coins::funding::fund_company(conn, &company, 30, "f", "op", t0()).unwrap();
    let offer = approved_offer(conn, &company, &["residence"], 30);
    let alice = citizen(conn, &w, "carol");
    let consent = consents::accept(conn, &w.keys, &w.signer, &alice, &offer, t0()).unwrap();
    assert_eq!(consent.expires_at, consent.granted_at + Duration::days(180));
    let later = consent.expires_at + Duration::seconds(1);
    assert_eq!(
        not_live(disclose(conn, &w.keys, &company, &consent.id, later)),
        NotLive::Expired
    );
    assert_eq!(consents::expire_due(conn, &w.signer, later, 100).unwrap(), 1);
    assert_eq!(
        consents::get_for_citizen(conn, &alice, &consent.id).unwrap().status,
        "expired"
    );
    assert_eq!(
        balance(conn, Account::Company(&company)).unwrap(),
        30,
        "released: never disclosed"
    );
    assert_eq!(consents::expire_due(conn, &w.signer, later, 100).unwrap(), 0);

    // A company that cannot fund the reward cannot take the consent; nothing is written.
    let bob = citizen(conn, &w, "dave");
    let costly = approved_offer(conn, &company, &["residence"], 31);
    let refused = consents::accept(conn, &w.keys, &w.signer, &bob, &costly, t0());
    assert!(
        matches!(refused, Err(ConsentError::Coins(CoinsError::OfferNotFunded { .. }))),
        "{refused:?}"
    );
    assert!(consents::for_citizen(conn, &bob, None, 10).unwrap().is_empty());
    check_books(conn).unwrap();
}

fn pseudonyms_differ_across_companies_and_stay_stable_within_one(db: &TestDb) {
    let w = world();
    let pool = db.pool();
    let conn = &mut *pool.get().unwrap();
    let (a, _) = approved_company(conn, 41);
    let (b, _) = approved_company(conn, 42);
    let offer_a1 = approved_offer(conn, &a, &["residence"], 0);
    let offer_a2 = approved_offer(conn, &a, &["hobbies"], 0);
    let offer_b = approved_offer(conn, &b, &["residence"], 0);
    let alice = citizen(conn, &w, "erin");
    let frank = citizen(conn, &w, "frank");
    let s_a1 = consents::accept(conn, &w.keys, &w.signer, &alice, &offer_a1, t0())
        .unwrap()
        .subject;
    let s_a2 = consents::accept(conn, &w.keys, &w.signer, &alice, &offer_a2, t0())
        .unwrap()
        .subject;
    let s_b = consents::accept(conn, &w.keys, &w.signer, &alice, &offer_b, t0())
        .unwrap()
        .subject;
    let s_frank = consents::accept(conn, &w.keys, &w.signer, &frank, &offer_a1, t0())
        .unwrap()
        .subject;
    assert_eq!(s_a1, s_a2, "stable within one company");
    assert_ne!(s_a1, s_b, "different for another company");
    assert_ne!(s_a1, s_frank);
    assert!(
        !s_a1.contains(&alice) && !s_b.contains(&alice),
        "the account id does not show through"
    );
    let held = consents::for_company(conn, &a, None, 50).unwrap();
    assert_eq!(held.len(), 3);
    assert!(
        consents::for_company(conn, &b, None, 50)
            .unwrap()
            .iter()
            .all(|c| c.subject == s_b)
    );
}

/// The receipt is a compact JWS that verifies with ed25519-dalek (not our signing code) against
/// the published JWK, and carries the consent record's fields.
fn receipts_verify_with_another_ed25519_implementation(db: &TestDb) {
    use ed25519_dalek::{Signature, Verifier, VerifyingKey};
    let w = world();
    let pool = db.pool();
    let conn = &mut *pool.get().unwrap();
    let (company, _) = approved_company(conn, 51);
    let offer = approved_offer(conn, &company, &["residence", "hobbies"], 0);
    let alice = citizen(conn, &w, "gina");
    let consent = consents::accept(conn, &w.keys, &w.signer, &alice, &offer, t0()).unwrap();
    let paused = consents::change(conn, &w.signer, &alice, &consent.id, Change::Pause, t0()).unwrap();
    assert_ne!(paused.receipt, consent.receipt, "every change issues a new receipt");

    let jwk = w.signer.jwks_keys().remove(0);
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let x: [u8; 32] = b64.decode(jwk["x"].as_str().unwrap()).unwrap().try_into().unwrap();
    let key = VerifyingKey::from_bytes(&x).unwrap();
    for (jws, status, event) in [
        (&consent.receipt, "active", "consent.granted"),
        (&paused.receipt, "paused", "consent.paused"),
    ] {
        let parts: Vec<&str> = jws.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: Value = serde_json::from_slice(&b64.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(
            (header["alg"].as_str(), header["kid"].as_str()),
            (Some("EdDSA"), jwk["kid"].as_str())
        );
        let signature = Signature::from_slice(&b64.decode(parts[2]).unwrap()).unwrap();
        key.verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
            .unwrap();
        let mut forged = parts[1].to_owned();
        forged.replace_range(5..6, if &forged[5..6] == "A" { "B" } else { "A" });
        assert!(
            key.verify(format!("{}.{forged}", parts[0]).as_bytes(), &signature)
                .is_err()
        );

        let record: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(record["consent_id"], consent.id.as_str());
        assert_eq!(record["status"], status);
        assert_eq!(record["event"], event);
        assert_eq!(record["subject"], consent.subject.as_str(), "the citizen by pseudonym");
        assert!(
            !b64.decode(parts[1])
                .map(|p| String::from_utf8_lossy(&p).contains(&alice))
                .unwrap(),
            "never the account id"
        );
        assert_eq!(record["recipient"]["id"], company.as_str());
        assert_eq!(record["recipient_subject_pseudonym"], consent.subject.as_str());
        assert_eq!(record["purpose"]["code"], "personalised_offers");
        assert_eq!(record["categories"], json!(["residence", "hobbies"]));
        assert_eq!(record["onward_transfer"], "prohibited");
        assert_eq!(record["retention_days"], 90);
        // The receipt names its leaf by hash; once integrated, the leaf is in the log at the
        // index the hash resolves to, and says what the receipt says.
        let hash = infobank_audit::merkle::from_hex(record["audit_leaf_hash"].as_str().unwrap()).unwrap();
        infobank_audit::sequencer::integrate_all(conn).unwrap();
        let infobank_audit::LeafStatus::Integrated(index) = infobank_audit::log::leaf_status(conn, &hash).unwrap()
        else {
            panic!("the receipt's leaf is not in the log");
        };
        let leaf = &infobank_audit::log::entries(conn, index, index + 1).unwrap()[0];
        assert_eq!(leaf.leaf_hash, hash);
        assert_eq!(leaf.action, event);
        assert!(leaf.leaf.contains(&consent.id));
    }
}

/// A disclosure reads and decrypts before it writes. A pause that commits after those reads,
/// while the disclosure waits for the write lock (SQLite) or the consent's row lock
/// (PostgreSQL), must still refuse it: the write transaction checks the consent again.
fn a_pause_committed_while_a_disclosure_waits_to_write_is_honoured(db: &TestDb) {
    use infobank_db::diesel::RunQueryDsl as _;
    let w = world();
    let pool = db.pool();
    let conn = &mut *pool.get().unwrap();
    let (acme, _) = approved_company(conn, 31);
    infobank_coins::funding::fund_company(conn, &acme, 100, "f-race", "op", t0()).unwrap();
    let offer = approved_offer(conn, &acme, &["residence"], 10);
    let alice = citizen(conn, &w, "alice");
    entrust(
        conn,
        &w,
        &alice,
        "residence",
        json!({"prefecture": "Tokyo", "city": "Chiyoda", "postal_code": "100-0001"}),
    );
    let consent = consents::accept(conn, &w.keys, &w.signer, &alice, &offer, t0()).unwrap();

    let blocker = &mut *pool.get().unwrap();
    let refused = std::thread::scope(|s| {
        let waiting = infobank_db::write_transaction(blocker, |blocker| {
            infobank_db::diesel::sql_query("UPDATE consents SET status = 'paused' WHERE id = $1")
                .bind::<infobank_db::diesel::sql_types::Text, _>(&consent.id)
                .execute(blocker)?;
            let (pool, keys, acme, id) = (&pool, &w.keys, &acme, &consent.id);
            let waiting = s.spawn(move || disclose(&mut pool.get().unwrap(), keys, acme, id, t0()));
            // Long enough for the disclosure's reads (they see the consent still active) to end
            // and its write to start waiting; a shorter wait only makes the test pass vacuously.
            std::thread::sleep(std::time::Duration::from_millis(500));
            Ok::<_, infobank_db::diesel::result::Error>(waiting)
        })
        .unwrap();
        waiting.join().unwrap()
    });
    assert_eq!(not_live(refused), NotLive::Paused);
    assert!(
        disclosure::for_citizen(conn, &w.keys, &alice, None, 10)
            .unwrap()
            .is_empty()
    );
}

/// On PostgreSQL two disclosures wait for each other only when they concern the same consent:
/// one under another consent of the same offer and company goes through while the first is
/// still open and holding every lock it takes (the consent row, the offer and company rows in
/// share mode, its breadth-bonus key). (On SQLite writes are one writer's, by design.)
#[test]
fn on_postgres_disclosures_under_different_consents_do_not_wait_for_each_other() {
    use infobank_db::diesel::{Connection as _, RunQueryDsl as _};
    let Some(db) = TestDb::postgres() else { return };
    let w = world();
    let pool = db.pool();
    let conn = &mut *pool.get().unwrap();
    let (acme, _) = approved_company(conn, 41);
    infobank_coins::funding::fund_company(conn, &acme, 100, "f-parallel", "op", t0()).unwrap();
    let offer = approved_offer(conn, &acme, &["residence"], 10);
    let [alice, bob] = ["alice", "bob"].map(|tag| {
        let citizen = citizen(conn, &w, tag);
        entrust(
            conn,
            &w,
            &citizen,
            "residence",
            json!({"prefecture": "Tokyo", "city": "Chiyoda", "postal_code": "100-0001"}),
        );
        let consent = consents::accept(conn, &w.keys, &w.signer, &citizen, &offer, t0()).unwrap();
        // The first disclosure pays from the company's escrow; these are past it.
        disclose(conn, &w.keys, &acme, &consent.id, t0()).unwrap();
        consent.id
    });

    let open = &mut *pool.get().unwrap();
    let bobs = &mut pool.connect_dedicated().unwrap();
    // A wait for any lock (row or advisory) fails Bob's statement instead of hanging the test.
    infobank_db::diesel::sql_query("SET lock_timeout = '5s'")
        .execute(bobs)
        .unwrap();
    open.transaction(|open| {
        // Alice's disclosure, in a transaction left open (its own is a savepoint of this one).
        disclose(open, &w.keys, &acme, &alice, t0()).unwrap();
        let disclosed = disclose(bobs, &w.keys, &acme, &bob, t0());
        assert_eq!(
            disclosed.map(|d| d.terms.consent_id).unwrap(),
            bob,
            "Bob's disclosure waited for Alice's"
        );
        Ok::<_, infobank_db::diesel::result::Error>(())
    })
    .unwrap();
}

/// The inbox's reminders, with `now` passed in: each comes once per occasion, for live consents
/// only, to their own citizen.
fn reminders_come_once_per_occasion(db: &TestDb) {
    use infobank_consent::notices::{self, NoticeKind};
    let w = world();
    let pool = db.pool();
    let conn = &mut *pool.get().unwrap();
    let (company, _) = approved_company(conn, 41);
    infobank_coins::funding::fund_company(conn, &company, 100, "f", "op", t0()).unwrap();
    let offer = approved_offer(conn, &company, &["residence"], 10);
    let alice = citizen(conn, &w, "alice");
    let bob = citizen(conn, &w, "bob");
    let kept = consents::accept(conn, &w.keys, &w.signer, &alice, &offer, t0()).unwrap();
    let ended = consents::accept(conn, &w.keys, &w.signer, &bob, &offer, t0()).unwrap();
    consents::change(conn, &w.signer, &bob, &ended.id, Change::Revoke, t0()).unwrap();
    let kinds = |conn: &mut DbConnection, who: &str| -> Vec<NoticeKind> {
        let mut kinds: Vec<NoticeKind> = notices::for_citizen(conn, who, 50)
            .unwrap()
            .iter()
            .map(|n| n.kind)
            .collect();
        kinds.sort_by_key(|k| k.as_str());
        kinds
    };
    let day = |n: i64| t0() + Duration::days(n);

    // Nothing is due on the day of the grant, nor on day 89.
    assert_eq!(notices::remind_due(conn, t0()).unwrap(), 0);
    assert_eq!(notices::remind_due(conn, day(89)).unwrap(), 0);
    // Day 90: the review reminder, once however often the task runs.
    assert_eq!(notices::remind_due(conn, day(90)).unwrap(), 1);
    assert_eq!(notices::remind_due(conn, day(90)).unwrap(), 0);
    assert_eq!(notices::remind_due(conn, day(120)).unwrap(), 0);
    // A paused consent is still running: the company's suspension is told, once.
    consents::change(conn, &w.signer, &alice, &kept.id, Change::Pause, day(120)).unwrap();
    companies::decide(conn, &company, CompanyStatus::Suspended, Some("audit"), "op", day(121)).unwrap();
    assert_eq!(notices::remind_due(conn, day(121)).unwrap(), 1);
    assert_eq!(notices::remind_due(conn, day(122)).unwrap(), 0);
    // New credentials for the suspended company are no new suspension.
    companies::reset_secret(conn, &company, "op", day(122)).unwrap();
    assert_eq!(notices::remind_due(conn, day(123)).unwrap(), 0);
    // 14 days before the end (180 days after the grant), the expiry warning; not a day earlier.
    assert_eq!(notices::remind_due(conn, day(165)).unwrap(), 0);
    assert_eq!(notices::remind_due(conn, day(166)).unwrap(), 1);
    assert_eq!(notices::remind_due(conn, day(170)).unwrap(), 0);
    // Past the end nothing more is said, not even the next review period.
    assert_eq!(notices::remind_due(conn, day(181)).unwrap(), 0);

    assert_eq!(
        kinds(conn, &alice),
        [
            NoticeKind::CompanySuspended,
            NoticeKind::ConsentExpiring,
            NoticeKind::ConsentReview
        ]
    );
    assert!(kinds(conn, &bob).is_empty(), "a revoked consent reminds no one");
    let listed = notices::for_citizen(conn, &alice, 50).unwrap();
    assert!(listed.iter().all(|n| n.consent_id == kept.id && !n.read));
    assert_eq!(listed[0].kind, NoticeKind::ConsentExpiring, "newest first");
    assert_eq!(listed[0].expires_at, kept.expires_at);
    assert_eq!(notices::unread(conn, &alice).unwrap(), 3);
    assert_eq!(
        notices::mark_read(conn, &bob, day(181)).unwrap(),
        0,
        "bob has none to mark"
    );
    assert_eq!(notices::unread(conn, &alice).unwrap(), 3);
    assert_eq!(notices::mark_read(conn, &alice, day(181)).unwrap(), 3);
    assert_eq!(notices::unread(conn, &alice).unwrap(), 0);
}

db_tests!(
    reminders_come_once_per_occasion,
    a_pause_committed_while_a_disclosure_waits_to_write_is_honoured,
    companies_are_vetted_and_their_credentials_work_only_when_approved,
    offers_are_reviewed_before_citizens_see_them,
    disclosure_only_through_a_live_consent,
    consents_expire_and_release_their_reservation,
    pseudonyms_differ_across_companies_and_stay_stable_within_one,
    receipts_verify_with_another_ed25519_implementation,
);
