//! The ledger's hot paths (docs/performance.md):
//! - `payout/*`: one content reward end to end: a transaction with the event's audit leaf, the
//!   policy lookup, the idempotency check, the entry's own leaf, two postings and two balances;
//! - `balance/*`: a citizen's balance read with 10 and with 100,000 ledger entries (it must not
//!   grow with history), and the first page of the statement at 100,000 entries.
//!
//! On a SQLite file with the production pragmas, and on PostgreSQL from INFOBANK_BENCH_PG_URL (an
//! admin URL; a database `infobank_coins_bench` is created anew), skipped with a message when unset.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods,
    clippy::print_stderr
)]

use std::time::Duration;

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use infobank_audit::{Action, Actor, AuditEvent, append};
use infobank_coins::ledger::{NewEntry, balance, post};
use infobank_coins::rewards::{PaidFor, pay_entrust};
use infobank_coins::statement::history;
use infobank_coins::{Account, Reason};
use infobank_db::diesel::connection::SimpleConnection as _;
use infobank_db::diesel::{Connection as _, pg::PgConnection};
use infobank_db::{DatabaseUrl, DbConnection, Pool, PoolOptions, run_migrations, write_transaction};

const LONG_HISTORY: usize = 100_000;

/// Gives `citizen` `n` small credits, 1,000 per transaction (set-up, not measured).
fn fill(conn: &mut DbConnection, citizen: &str, n: usize) {
    let now = Utc::now();
    for batch in 0..n.div_ceil(1000) {
        write_transaction(conn, |conn| {
            for i in batch * 1000..((batch + 1) * 1000).min(n) {
                let entry = NewEntry {
                    idempotency_key: format!("fill/{citizen}/{i}"),
                    reason: Reason::BreadthBonus,
                    ref_kind: "bench",
                    ref_id: "fill",
                    policy_version: None,
                    inputs: serde_json::json!({}),
                    event_leaf: None,
                    actor: Actor::system(),
                    company_id: None,
                    postings: vec![(Account::Issuance, -1), (Account::Citizen(citizen), 1)],
                };
                post(conn, entry, now)?;
            }
            Ok::<_, infobank_coins::CoinsError>(())
        })
        .unwrap();
    }
}

fn bench_on(c: &mut Criterion, label: &str, url: DatabaseUrl) {
    let pool = Pool::open(url, &PoolOptions::default()).unwrap();
    let conn = &mut *pool.get().unwrap();
    run_migrations(conn).unwrap();

    let mut n = 0u64;
    c.bench_function(&format!("payout/{label}"), |b| {
        b.iter(|| {
            n += 1;
            // A new citizen each time: every iteration is a real payout, not a replay.
            let citizen = uuid::Uuid::now_v7().to_string();
            let now = Utc::now();
            write_transaction(conn, |conn| {
                let leaf = append(conn, &AuditEvent::new(Action::RecordCreated, Actor::system()), now)?;
                let paid_for = PaidFor {
                    event_leaf: leaf,
                    ref_kind: "record",
                    ref_id: "bench",
                };
                pay_entrust(conn, &citizen, "residence", 1, paid_for, now)
            })
            .unwrap()
            .unwrap()
        })
    });

    let short = uuid::Uuid::now_v7().to_string();
    fill(conn, &short, 10);
    let long = uuid::Uuid::now_v7().to_string();
    eprintln!("{label}: writing {LONG_HISTORY} ledger entries for one citizen…");
    fill(conn, &long, LONG_HISTORY);
    assert_eq!(balance(conn, Account::Citizen(&long)).unwrap(), LONG_HISTORY as i64);
    c.bench_function(&format!("balance/{label}/10-entries"), |b| {
        b.iter(|| balance(conn, Account::Citizen(&short)).unwrap())
    });
    c.bench_function(&format!("balance/{label}/100k-entries"), |b| {
        b.iter(|| balance(conn, Account::Citizen(&long)).unwrap())
    });
    c.bench_function(&format!("history-first-page/{label}/100k-entries"), |b| {
        b.iter(|| history(conn, Account::Citizen(&long), None, 25).unwrap())
    });
}

fn coins(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    bench_on(c, "sqlite", DatabaseUrl::sqlite_file(dir.path().join("bench.db")));
    match std::env::var("INFOBANK_BENCH_PG_URL") {
        Ok(admin) => {
            let mut conn = PgConnection::establish(&admin).unwrap();
            conn.batch_execute("DROP DATABASE IF EXISTS infobank_coins_bench WITH (FORCE)")
                .unwrap();
            conn.batch_execute("CREATE DATABASE infobank_coins_bench").unwrap();
            let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
            bench_on(
                c,
                "postgres",
                DatabaseUrl::parse(&format!("{base}/infobank_coins_bench")).unwrap(),
            );
        }
        Err(_) => eprintln!("INFOBANK_BENCH_PG_URL unset: skipping the postgres benches"),
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5));
    targets = coins
}
criterion_main!(benches);
