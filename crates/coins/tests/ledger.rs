//! The coin ledger on SQLite and PostgreSQL: the books balance after any sequence of payouts,
//! fundings, reservations, settlements, redemptions and replays; concurrent redemptions never
//! overdraw; every coin can be recomputed from the published policy and the recorded inputs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use infobank_audit::{Action, Actor, AuditEvent, Hash, append, log};
use infobank_coins::funding::{company_coins, fund_company};
use infobank_coins::ledger::{NewEntry, balance, check_books, post};
use infobank_coins::redemption::{Target, redeem};
use infobank_coins::rewards::{
    PaidFor, breadth_due, pay_breadth, pay_entrust, pay_offer_reward, release_offer_reward, reservation,
    reserve_offer_reward,
};
use infobank_coins::statement::{all_lines, earned_per_month, history};
use infobank_coins::{Account, CoinsError, Posted, Reason, RewardPolicy, policy};
use infobank_db::{DbConnection, Pool, write_transaction};
use infobank_testkit::{TestDb, db_tests};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn t0() -> DateTime<Utc> {
    // 2027-01-15: months in these tests are 2027-01, 2027-02, …
    DateTime::parse_from_rfc3339("2027-01-15T10:00:00Z").unwrap().to_utc()
}

fn id(prefix: u128, n: u128) -> String {
    uuid::Uuid::from_u128((prefix << 64) | n).to_string()
}

/// Appends the leaf of the event a payout pays for (as the vault or a disclosure does) and runs
/// `pay` in the same transaction.
fn with_event<T>(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    pay: impl FnOnce(&mut DbConnection, Hash) -> Result<T, CoinsError>,
) -> Result<T, CoinsError> {
    write_transaction(conn, |conn| {
        let leaf = append(conn, &AuditEvent::new(Action::RecordCreated, Actor::system()), now)?;
        pay(conn, leaf)
    })
}

fn paid_for(leaf: Hash) -> PaidFor<'static> {
    PaidFor {
        event_leaf: leaf,
        ref_kind: "record",
        ref_id: "r",
    }
}

fn entrust(conn: &mut DbConnection, citizen: &str, category: &str, held: i64, now: DateTime<Utc>) -> Option<Posted> {
    with_event(conn, now, |c, leaf| {
        pay_entrust(c, citizen, category, held, paid_for(leaf), now)
    })
    .unwrap()
}

fn entries_count(conn: &mut DbConnection) -> usize {
    check_books(conn).unwrap().entries
}

fn a_journal_entry_must_balance_and_run_inside_a_transaction(db: &TestDb) {
    let pool = db.pool();
    let conn = &mut *pool.get().unwrap();
    let citizen = id(1, 1);
    let entry = |postings: Vec<(Account<'static>, i64)>| NewEntry {
        idempotency_key: "k".into(),
        reason: Reason::EntrustReward,
        ref_kind: "record",
        ref_id: "r",
        policy_version: None,
        inputs: serde_json::json!({}),
        event_leaf: None,
        actor: Actor::system(),
        company_id: None,
        postings,
    };
    let leaked: &'static str = Box::leak(citizen.into_boxed_str());
    let bad = [
        vec![(Account::Citizen(leaked), 5)],
        vec![(Account::Issuance, -5), (Account::Citizen(leaked), 4)],
        vec![(Account::Issuance, 0), (Account::Citizen(leaked), 0)],
        vec![(Account::Citizen(leaked), -5), (Account::Citizen(leaked), 5)],
    ];
    for postings in bad {
        let result = write_transaction(conn, |c| post(c, entry(postings.clone()), t0()));
        assert!(
            matches!(result, Err(CoinsError::Unbalanced(_) | CoinsError::InvalidAmount(_))),
            "{postings:?}: {result:?}"
        );
    }
    // Outside a transaction nothing is written (the audit leaf could not commit with it).
    let outside = post(
        conn,
        entry(vec![(Account::Issuance, -5), (Account::Citizen(leaked), 5)]),
        t0(),
    );
    assert!(matches!(outside, Err(CoinsError::Audit(_))), "{outside:?}");
    // A wallet cannot go below zero, and the refused entry leaves no trace.
    let queued_before = log::queue_state(conn).unwrap().depth;
    let overdraw = write_transaction(conn, |c| {
        post(
            c,
            entry(vec![(Account::Citizen(leaked), -1), (Account::Redemption, 1)]),
            t0(),
        )
    });
    assert!(
        matches!(
            overdraw,
            Err(CoinsError::InsufficientBalance {
                balance: 0,
                needed: 1,
                ..
            })
        ),
        "{overdraw:?}"
    );
    assert_eq!(log::queue_state(conn).unwrap().depth, queued_before, "no leaf queued");
    assert_eq!(entries_count(conn), 0);
}

fn entrust_pays_once_per_citizen_category_and_month_up_to_the_cap(db: &TestDb) {
    let pool = db.pool();
    let conn = &mut *pool.get().unwrap();
    let alice = id(1, 1);
    let defaults = RewardPolicy::default();
    let residence = defaults.categories["residence"];
    let payments = defaults.categories["payment_history"];

    let first = entrust(conn, &alice, "residence", 1, t0()).unwrap();
    assert!(!first.is_replay());
    assert_eq!(first.entry().amount_for(Account::Citizen(&alice)), residence.weight);
    assert_eq!(first.entry().policy_version, Some(1));
    // Deleted and entered again in the same month: nothing more.
    let again = entrust(conn, &alice, "residence", 1, t0() + Duration::days(3)).unwrap();
    assert!(again.is_replay());
    assert_eq!(again.entry().id, first.entry().id);
    // The next month pays again.
    let february = entrust(conn, &alice, "residence", 1, t0() + Duration::days(20)).unwrap();
    assert!(!february.is_replay());

    // Amount: 25 payments are 3 units; 1,000 are capped.
    let paid = entrust(conn, &alice, "payment_history", 25, t0()).unwrap();
    assert_eq!(paid.entry().amount_for(Account::Citizen(&alice)), payments.weight * 3);
    assert_eq!(paid.entry().inputs["units"], 3);
    let bob = id(1, 2);
    let capped = entrust(conn, &bob, "payment_history", 1_000, t0()).unwrap();
    assert_eq!(
        capped.entry().amount_for(Account::Citizen(&bob)),
        payments.weight * payments.monthly_cap_units
    );
    // An unknown category pays nothing (and writes nothing).
    assert!(entrust(conn, &bob, "horoscope", 3, t0()).is_none());

    let expected = residence.weight * 2 + payments.weight * 3;
    assert_eq!(balance(conn, Account::Citizen(&alice)).unwrap(), expected);
    assert_eq!(
        balance(conn, Account::Issuance).unwrap(),
        -(expected + capped.entry().amount_for(Account::Citizen(&bob)))
    );
    check_books(conn).unwrap();

    // The statement explains each line and groups earnings per month.
    let lines = history(conn, Account::Citizen(&alice), None, 50).unwrap();
    assert_eq!(lines.len(), 3);
    assert_eq!(
        lines[0].balance_after, expected,
        "newest first, with the running balance"
    );
    let months = earned_per_month(conn, Account::Citizen(&alice), t0() - Duration::days(60)).unwrap();
    assert_eq!(
        months["2027-01"][&Reason::EntrustReward],
        residence.weight + payments.weight * 3
    );
    assert_eq!(months["2027-02"][&Reason::EntrustReward], residence.weight);
    // Paging: the second page starts after the first page's last line.
    let page1 = history(conn, Account::Citizen(&alice), None, 2).unwrap();
    let page2 = history(conn, Account::Citizen(&alice), Some(&page1[1].entry.id), 2).unwrap();
    assert_eq!(page2.len(), 1);
    assert_eq!(page2[0].entry.id, lines[2].entry.id);
}

fn breadth_bonus_grows_with_each_distinct_company_in_the_month(db: &TestDb) {
    let pool = db.pool();
    let conn = &mut *pool.get().unwrap();
    let alice = id(1, 1);
    let per_company = RewardPolicy::default().breadth_bonus_per_company;
    let mut amounts = Vec::new();
    for company in 1..=3 {
        let c = id(2, company);
        let paid = with_event(conn, t0(), |conn, leaf| {
            pay_breadth(conn, &alice, &c, paid_for(leaf), t0())
        })
        .unwrap();
        amounts.push(paid.unwrap().entry().amount_for(Account::Citizen(&alice)));
    }
    assert_eq!(amounts, vec![per_company, 2 * per_company, 3 * per_company]);
    // The same company again this month: nothing more; next month it counts as the first.
    let c1 = id(2, 1);
    let next = t0() + Duration::days(31);
    assert!(!breadth_due(conn, &alice, &c1, t0()).unwrap());
    assert!(breadth_due(conn, &alice, &id(2, 4), t0()).unwrap());
    assert!(breadth_due(conn, &alice, &c1, next).unwrap());
    let again = with_event(conn, t0(), |conn, leaf| {
        pay_breadth(conn, &alice, &c1, paid_for(leaf), t0())
    })
    .unwrap();
    assert!(again.unwrap().is_replay());
    let march = with_event(conn, next, |conn, leaf| {
        pay_breadth(conn, &alice, &c1, paid_for(leaf), next)
    })
    .unwrap();
    assert_eq!(march.unwrap().entry().inputs["nth_company"], 1);
    assert_eq!(balance(conn, Account::Citizen(&alice)).unwrap(), 7 * per_company);
    check_books(conn).unwrap();
}

fn offer_rewards_are_reserved_at_consent_and_paid_or_released_once(db: &TestDb) {
    let pool = db.pool();
    let conn = &mut *pool.get().unwrap();
    let company = id(2, 1);
    let (alice, consent_a, consent_b, consent_c) = (id(1, 1), id(3, 1), id(3, 2), id(3, 3));
    fund_company(conn, &company, 100, "fund-1", "operator", t0()).unwrap();
    let reserve = |conn: &mut DbConnection, consent: &str, amount: i64| {
        with_event(conn, t0(), |c, leaf| {
            reserve_offer_reward(c, &company, consent, amount, paid_for(leaf), t0())
        })
    };
    reserve(conn, &consent_a, 60).unwrap();
    assert_eq!(company_coins(conn, &company, 10).unwrap().balance, 40);
    assert_eq!(company_coins(conn, &company, 10).unwrap().reserved, 60);
    // Cannot fund another consent of 60: the consent must be refused, nothing is reserved.
    let refused = reserve(conn, &consent_b, 60);
    assert!(
        matches!(
            refused,
            Err(CoinsError::OfferNotFunded {
                balance: 40,
                needed: 60
            })
        ),
        "{refused:?}"
    );
    assert!(reservation(conn, &consent_b).unwrap().is_none());
    reserve(conn, &consent_b, 40).unwrap();
    // An offer without a reward reserves nothing.
    assert!(reserve(conn, &consent_c, 0).unwrap().is_none());

    // First disclosure under A pays Alice from escrow; a second pays nothing; releasing after
    // a payout does nothing.
    let pay = |conn: &mut DbConnection, consent: &str| {
        with_event(conn, t0(), |c, leaf| {
            pay_offer_reward(c, consent, &alice, paid_for(leaf), t0())
        })
    };
    let paid = pay(conn, &consent_a).unwrap().unwrap();
    assert_eq!(paid.entry().amount_for(Account::Citizen(&alice)), 60);
    assert_eq!(paid.entry().amount_for(Account::Escrow(&company)), -60);
    assert!(pay(conn, &consent_a).unwrap().unwrap().is_replay());
    let release = |conn: &mut DbConnection, consent: &str| {
        with_event(conn, t0(), |c, leaf| {
            release_offer_reward(c, consent, paid_for(leaf), t0())
        })
    };
    assert!(release(conn, &consent_a).unwrap().is_none());
    assert_eq!(reservation(conn, &consent_a).unwrap().unwrap().status, "paid");

    // B ends without a disclosure: its reservation goes back; a later disclosure pays nothing.
    release(conn, &consent_b).unwrap().unwrap();
    assert!(pay(conn, &consent_b).unwrap().is_none());
    assert_eq!(reservation(conn, &consent_b).unwrap().unwrap().status, "released");
    let coins = company_coins(conn, &company, 10).unwrap();
    assert_eq!((coins.balance, coins.reserved), (40, 0));
    assert_eq!(coins.reservations.len(), 2);
    assert_eq!(balance(conn, Account::Citizen(&alice)).unwrap(), 60);
    check_books(conn).unwrap();
}

fn funding_and_redemption_validate_and_replay(db: &TestDb) {
    let pool = db.pool();
    let conn = &mut *pool.get().unwrap();
    let company = id(2, 1);
    let first = fund_company(conn, &company, 500, "invoice-17", "op", t0()).unwrap();
    let replay = fund_company(conn, &company, 500, "invoice-17", "op", t0()).unwrap();
    assert!(replay.is_replay());
    assert_eq!(replay.entry().id, first.entry().id);
    assert!(matches!(
        fund_company(conn, &company, 501, "invoice-17", "op", t0()),
        Err(CoinsError::IdempotencyConflict)
    ));
    assert!(matches!(
        fund_company(conn, &company, 0, "k0", "op", t0()),
        Err(CoinsError::InvalidAmount(_))
    ));
    assert!(matches!(
        fund_company(conn, &company, -5, "k1", "op", t0()),
        Err(CoinsError::InvalidAmount(_))
    ));
    assert!(matches!(
        fund_company(conn, "not-a-uuid", 5, "k2", "op", t0()),
        Err(CoinsError::Invalid(_))
    ));
    assert!(matches!(
        fund_company(conn, &company, 5, "", "op", t0()),
        Err(CoinsError::Invalid(_))
    ));
    assert!(matches!(
        fund_company(conn, &company, 5, "has space", "op", t0()),
        Err(CoinsError::Invalid(_))
    ));
    assert_eq!(balance(conn, Account::Company(&company)).unwrap(), 500);

    let alice = id(1, 1);
    entrust(conn, &alice, "residence", 1, t0()).unwrap();
    let weight = RewardPolicy::default().categories["residence"].weight;
    let spent = redeem(conn, &alice, 5, Target::Donation, "r-1", t0()).unwrap();
    assert_eq!(spent.entry().inputs["target"], "donation");
    assert!(
        redeem(conn, &alice, 5, Target::Donation, "r-1", t0())
            .unwrap()
            .is_replay()
    );
    assert!(matches!(
        redeem(conn, &alice, 6, Target::Donation, "r-1", t0()),
        Err(CoinsError::IdempotencyConflict)
    ));
    assert!(matches!(
        redeem(conn, &alice, 5, Target::PartnerPoints, "r-1", t0()),
        Err(CoinsError::IdempotencyConflict)
    ));
    let too_much = redeem(conn, &alice, weight, Target::PartnerPoints, "r-2", t0());
    assert!(
        matches!(too_much, Err(CoinsError::InsufficientBalance { .. })),
        "{too_much:?}"
    );
    // Another citizen's identical key is their own.
    let bob = id(1, 2);
    assert!(matches!(
        redeem(conn, &bob, 5, Target::Donation, "r-1", t0()),
        Err(CoinsError::InsufficientBalance { .. })
    ));
    assert_eq!(balance(conn, Account::Citizen(&alice)).unwrap(), weight - 5);
    assert_eq!(balance(conn, Account::Redemption).unwrap(), 5);
    check_books(conn).unwrap();
}

/// Twenty redemptions at once (2 pools x 10 threads, as two servers would send them) that
/// together ask for more than the wallet holds.
fn concurrent_redemptions_never_overdraw(db: &TestDb) {
    let pools: Vec<Pool> = (0..2).map(|_| db.pool()).collect();
    let alice = id(1, 1);
    let start = {
        let conn = &mut *pools[0].get().unwrap();
        entrust(conn, &alice, "residence", 1, t0()).unwrap();
        entrust(conn, &alice, "employment", 3, t0()).unwrap();
        balance(conn, Account::Citizen(&alice)).unwrap()
    };
    let amount = start / 7 + 1; // at most 7 of 20 can succeed
    let results: Vec<Result<Posted, CoinsError>> = std::thread::scope(|s| {
        let handles: Vec<_> = pools
            .iter()
            .flat_map(|pool| (0..10).map(move |t| (pool.clone(), t)))
            .enumerate()
            .map(|(n, (pool, _))| {
                let alice = alice.clone();
                s.spawn(move || {
                    let conn = &mut *pool.get().unwrap();
                    redeem(
                        conn,
                        &alice,
                        amount,
                        Target::PartnerPoints,
                        &format!("concurrent-{n}"),
                        t0(),
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let ok = results.iter().filter(|r| r.is_ok()).count() as i64;
    for r in &results {
        assert!(
            matches!(r, Ok(_) | Err(CoinsError::InsufficientBalance { .. })),
            "a refused redemption is refused cleanly: {r:?}"
        );
    }
    let conn = &mut *pools[0].get().unwrap();
    let end = balance(conn, Account::Citizen(&alice)).unwrap();
    assert!(end >= 0);
    assert_eq!(ok, start / amount, "as many as the balance allows succeed");
    assert_eq!(end, start - ok * amount);
    check_books(conn).unwrap();
}

/// The same request retried at once from twenty threads is paid once.
fn concurrent_replays_of_one_key_pay_once(db: &TestDb) {
    let pools: Vec<Pool> = (0..2).map(|_| db.pool()).collect();
    let company = id(2, 9);
    let ids: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = pools
            .iter()
            .flat_map(|pool| (0..10).map(move |_| pool.clone()))
            .map(|pool| {
                let company = company.clone();
                s.spawn(move || {
                    let conn = &mut *pool.get().unwrap();
                    fund_company(conn, &company, 250, "same-invoice", "op", t0())
                        .unwrap()
                        .into_entry()
                        .id
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(ids.iter().all(|i| *i == ids[0]), "every retry returns the first entry");
    let conn = &mut *pools[0].get().unwrap();
    assert_eq!(balance(conn, Account::Company(&company)).unwrap(), 250);
    assert_eq!(entries_count(conn), 1);
}

/// Everything a citizen holds is recomputed from the published policy versions and the inputs
/// each entry recorded, with arithmetic written here rather than the crate's formulas.
fn every_coin_recomputes_from_the_published_policy_and_recorded_inputs(db: &TestDb) {
    let pool = db.pool();
    let conn = &mut *pool.get().unwrap();
    let alice = id(1, 1);
    let company = id(2, 1);
    entrust(conn, &alice, "residence", 1, t0());
    entrust(conn, &alice, "payment_history", 37, t0());
    with_event(conn, t0(), |c, leaf| {
        pay_breadth(c, &alice, &company, paid_for(leaf), t0())
    })
    .unwrap();
    // The operator changes the policy: version 2. Past payouts keep version 1.
    let mut changed = RewardPolicy::default();
    changed.categories.get_mut("payment_history").unwrap().weight = 9;
    changed.breadth_bonus_per_company = 4;
    let v2 = policy::publish(conn, &changed, t0()).unwrap();
    assert_eq!(v2.version, 2);
    assert_eq!(
        policy::publish(conn, &changed, t0()).unwrap().version,
        2,
        "the same parameters are not a new version"
    );
    let next = t0() + Duration::days(31);
    entrust(conn, &alice, "payment_history", 52, next);
    with_event(conn, next, |c, leaf| {
        pay_breadth(c, &alice, &company, paid_for(leaf), next)
    })
    .unwrap();
    fund_company(conn, &company, 30, "f", "op", t0()).unwrap();
    let consent = id(3, 1);
    with_event(conn, t0(), |c, leaf| {
        reserve_offer_reward(c, &company, &consent, 30, paid_for(leaf), t0())
    })
    .unwrap();
    with_event(conn, t0(), |c, leaf| {
        pay_offer_reward(c, &consent, &alice, paid_for(leaf), t0())
    })
    .unwrap();
    redeem(conn, &alice, 7, Target::Donation, "x", next).unwrap();

    let mut recomputed = 0i64;
    let lines = all_lines(conn, Account::Citizen(&alice)).unwrap();
    assert_eq!(lines.len(), 7);
    for line in &lines {
        let e = &line.entry;
        let amount = match e.reason {
            Reason::EntrustReward => {
                let published = policy::version(conn, e.policy_version.unwrap()).unwrap().unwrap();
                let rule = &published.policy.categories[e.inputs["category"].as_str().unwrap()];
                let held = e.inputs["records_held"].as_i64().unwrap();
                let units = ((held + rule.records_per_unit - 1) / rule.records_per_unit).min(rule.monthly_cap_units);
                assert_eq!(
                    e.inputs["weight"], rule.weight,
                    "the recorded weight is the published one"
                );
                rule.weight * units
            }
            Reason::BreadthBonus => {
                let published = policy::version(conn, e.policy_version.unwrap()).unwrap().unwrap();
                let nth = e.inputs["nth_company"].as_i64().unwrap();
                published.policy.breadth_bonus_per_company * nth.min(published.policy.breadth_max_companies)
            }
            Reason::OfferReward => e.inputs["offer_reward"].as_i64().unwrap(),
            Reason::Redemption => -e.inputs["amount"].as_i64().unwrap(),
            other => panic!("unexpected {other:?} on a wallet"),
        };
        assert_eq!(amount, line.amount, "{e:?}");
        recomputed += amount;
    }
    assert_eq!(lines.iter().filter(|l| l.entry.policy_version == Some(2)).count(), 2);
    assert_eq!(recomputed, balance(conn, Account::Citizen(&alice)).unwrap());
    // 20 + 4x5 + 10 | 6x9 + 4 | 30 | -7
    assert_eq!(recomputed, 20 + 20 + 10 + 54 + 4 + 30 - 7);
}

/// One step of a random sequence.
#[derive(Debug, Clone)]
enum Op {
    Entrust {
        citizen: u8,
        category: u8,
        held: i64,
        month: u8,
    },
    Breadth {
        citizen: u8,
        company: u8,
        month: u8,
    },
    Fund {
        company: u8,
        amount: i64,
        key: u8,
    },
    Reserve {
        company: u8,
        consent: u8,
        amount: i64,
    },
    PayOffer {
        consent: u8,
        citizen: u8,
    },
    Release {
        consent: u8,
    },
    Redeem {
        citizen: u8,
        amount: i64,
        key: u8,
    },
    /// Repeat an earlier step exactly (by its position modulo the steps so far).
    Replay(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..3u8, 0..4u8, 1..40i64, 0..2u8).prop_map(|(citizen, category, held, month)| Op::Entrust {
            citizen,
            category,
            held,
            month
        }),
        (0..3u8, 0..3u8, 0..2u8).prop_map(|(citizen, company, month)| Op::Breadth {
            citizen,
            company,
            month
        }),
        (0..3u8, 1..200i64, 0..6u8).prop_map(|(company, amount, key)| Op::Fund { company, amount, key }),
        (0..3u8, 0..8u8, 1..120i64).prop_map(|(company, consent, amount)| Op::Reserve {
            company,
            consent,
            amount
        }),
        (0..8u8, 0..3u8).prop_map(|(consent, citizen)| Op::PayOffer { consent, citizen }),
        (0..8u8).prop_map(|consent| Op::Release { consent }),
        (0..3u8, 1..60i64, 0..6u8).prop_map(|(citizen, amount, key)| Op::Redeem { citizen, amount, key }),
        (0..1000usize).prop_map(Op::Replay),
    ]
}

const CATEGORIES: [&str; 4] = ["residence", "payment_history", "daily_mood", "employment"];

fn run(conn: &mut DbConnection, op: &Op) -> Result<Option<Posted>, CoinsError> {
    let citizen = |n: u8| id(1, u128::from(n));
    let company = |n: u8| id(2, u128::from(n));
    let consent = |n: u8| id(3, u128::from(n));
    let at = |month: u8| t0() + Duration::days(31 * i64::from(month));
    match op {
        Op::Entrust {
            citizen: c,
            category,
            held,
            month,
        } => with_event(conn, at(*month), |conn, leaf| {
            pay_entrust(
                conn,
                &citizen(*c),
                CATEGORIES[usize::from(*category)],
                *held,
                paid_for(leaf),
                at(*month),
            )
        }),
        Op::Breadth {
            citizen: c,
            company: k,
            month,
        } => with_event(conn, at(*month), |conn, leaf| {
            pay_breadth(conn, &citizen(*c), &company(*k), paid_for(leaf), at(*month))
        }),
        Op::Fund {
            company: k,
            amount,
            key,
        } => fund_company(conn, &company(*k), *amount, &format!("fund-{key}"), "op", t0()).map(Some),
        Op::Reserve {
            company: k,
            consent: n,
            amount,
        } => with_event(conn, t0(), |conn, leaf| {
            reserve_offer_reward(conn, &company(*k), &consent(*n), *amount, paid_for(leaf), t0())
        }),
        Op::PayOffer { consent: n, citizen: c } => with_event(conn, t0(), |conn, leaf| {
            pay_offer_reward(conn, &consent(*n), &citizen(*c), paid_for(leaf), t0())
        }),
        Op::Release { consent: n } => with_event(conn, t0(), |conn, leaf| {
            release_offer_reward(conn, &consent(*n), paid_for(leaf), t0())
        }),
        Op::Redeem {
            citizen: c,
            amount,
            key,
        } => redeem(
            conn,
            &citizen(*c),
            *amount,
            Target::PartnerPoints,
            &format!("redeem-{key}"),
            t0(),
        )
        .map(Some),
        Op::Replay(_) => unreachable!("resolved by the caller"),
    }
}

fn random_sequences_keep_the_books_balanced(db: &TestDb) {
    let pool = db.pool();
    let mut pooled = pool.get().unwrap();
    let shared = std::cell::RefCell::new(&mut *pooled);
    let cases = if db.backend() == infobank_db::Backend::Postgres {
        12
    } else {
        24
    };
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&proptest::collection::vec(op(), 1..40), |ops| {
            let conn = &mut **shared.borrow_mut();
            // The ledger is shared between cases, so later cases also meet earlier cases' keys
            // and balances: more replays and more refusals, which is the point.
            let books_before = check_books(conn).unwrap();
            let mut done: Vec<Op> = Vec::new();
            let mut new_entries = 0usize;
            let mut paid_keys: BTreeMap<String, String> = BTreeMap::new();
            for step in &ops {
                let step = match step {
                    Op::Replay(_) if done.is_empty() => continue,
                    Op::Replay(n) => done[n % done.len()].clone(),
                    other => other.clone(),
                };
                let before = check_books(conn).unwrap().balances;
                let result = run(conn, &step);
                let books = check_books(conn).map_err(|e| TestCaseError::fail(format!("{step:?}: {e}")))?;
                match &result {
                    Ok(Some(Posted::New(entry))) => {
                        new_entries += 1;
                        let earlier = paid_keys.insert(entry.idempotency_key.clone(), entry.id.clone());
                        prop_assert!(earlier.is_none(), "key {} paid twice", entry.idempotency_key);
                    }
                    Ok(Some(Posted::Replayed(entry))) => {
                        prop_assert_eq!(&books.balances, &before, "a replay moved coins: {:?}", step);
                        if let Some(first) = paid_keys.get(&entry.idempotency_key) {
                            prop_assert_eq!(first, &entry.id);
                        }
                    }
                    Ok(None) | Err(CoinsError::InsufficientBalance { .. } | CoinsError::OfferNotFunded { .. }) => {
                        prop_assert_eq!(
                            &books.balances,
                            &before,
                            "a refused or empty step moved coins: {:?}",
                            step
                        );
                    }
                    Err(CoinsError::IdempotencyConflict) => {
                        prop_assert_eq!(&books.balances, &before);
                    }
                    Err(other) => return Err(TestCaseError::fail(format!("{step:?}: {other}"))),
                }
                prop_assert_eq!(books.entries, check_books(conn).unwrap().entries);
                done.push(step);
            }
            prop_assert!(check_books(conn).unwrap().entries <= books_before.entries + new_entries);
            Ok(())
        })
        .unwrap();
}

db_tests!(
    a_journal_entry_must_balance_and_run_inside_a_transaction,
    entrust_pays_once_per_citizen_category_and_month_up_to_the_cap,
    breadth_bonus_grows_with_each_distinct_company_in_the_month,
    offer_rewards_are_reserved_at_consent_and_paid_or_released_once,
    funding_and_redemption_validate_and_replay,
    concurrent_redemptions_never_overdraw,
    concurrent_replays_of_one_key_pay_once,
    every_coin_recomputes_from_the_published_policy_and_recorded_inputs,
    random_sequences_keep_the_books_balanced,
);
