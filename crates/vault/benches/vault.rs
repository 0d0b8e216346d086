//! Entrusting one record end to end (validate, encrypt, insert, audit append, commit), on a
//! SQLite file with the production pragmas and on PostgreSQL (docs/performance.md). PostgreSQL
//! comes from INFOBANK_BENCH_PG_URL (an admin URL; a database `infobank_bench` is created anew),
//! and is skipped with a message when unset.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods,
    clippy::print_stderr
)]

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use infobank_accounts::{NewAccount, Role, create_account};
use infobank_crypto::KeyRing;
use infobank_db::diesel::connection::SimpleConnection as _;
use infobank_db::diesel::{Connection as _, pg::PgConnection};
use infobank_db::{DatabaseUrl, Pool, PoolOptions, run_migrations};
use infobank_vault::records;
use serde_json::json;

fn entrust_on(c: &mut Criterion, label: &str, url: DatabaseUrl) {
    let keys_dir = tempfile::tempdir().unwrap();
    let keys = KeyRing::load_or_create(keys_dir.path()).unwrap();
    let pool = Pool::open(url, &PoolOptions::default()).unwrap();
    let conn = &mut *pool.get().unwrap();
    run_migrations(conn).unwrap();
    let new = NewAccount {
        role: Role::Citizen,
        email: &format!("bench{}@example.jp", Utc::now().timestamp_micros()),
        password: "bench passphrase!",
        display_name: "B",
    };
    let citizen = create_account(conn, &keys, &new, Utc::now()).unwrap();
    let data = json!({"date": "2026-11-20", "score": 4, "note": "a quiet day"});
    c.bench_function(&format!("entrust/{label}"), |b| {
        b.iter(|| records::create(conn, &keys, &citizen, "daily_mood", &data, Utc::now()).unwrap())
    });
}

fn entrust(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    entrust_on(c, "sqlite", DatabaseUrl::sqlite_file(dir.path().join("bench.db")));
    match std::env::var("INFOBANK_BENCH_PG_URL") {
        Ok(admin) => {
            let mut conn = PgConnection::establish(&admin).unwrap();
            // Two statements: a multi-statement string runs as one transaction, which DROP refuses.
            conn.batch_execute("DROP DATABASE IF EXISTS infobank_bench WITH (FORCE)")
                .unwrap();
            conn.batch_execute("CREATE DATABASE infobank_bench").unwrap();
            let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
            entrust_on(
                c,
                "postgres",
                DatabaseUrl::parse(&format!("{base}/infobank_bench")).unwrap(),
            );
        }
        Err(_) => eprintln!("INFOBANK_BENCH_PG_URL unset: skipping entrust/postgres"),
    }
}

criterion_group!(benches, entrust);
criterion_main!(benches);
