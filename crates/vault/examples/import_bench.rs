//! Times an import of N payment transactions (default 100,000) into a fresh SQLite file with the
//! production pragmas (docs/performance.md):
//!
//!     cargo run --release -p infobank-vault --example import_bench -- 100000
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods,
    clippy::print_stdout
)]

use std::fmt::Write as _;
use std::time::Instant;

use chrono::Utc;
use infobank_accounts::{NewAccount, Role, create_account};
use infobank_crypto::KeyRing;
use infobank_db::{DatabaseUrl, Pool, PoolOptions, run_migrations};
use infobank_vault::import::{ImportBody, import};

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map_or(100_000, |a| a.parse().expect("a number"));
    let dir = tempfile::tempdir().unwrap();
    let keys = KeyRing::load_or_create(&dir.path().join("keys")).unwrap();
    let pool = Pool::open(
        DatabaseUrl::sqlite_file(dir.path().join("bench.db")),
        &PoolOptions::default(),
    )
    .unwrap();
    let conn = &mut *pool.get().unwrap();
    run_migrations(conn).unwrap();
    let new = NewAccount {
        role: Role::Citizen,
        email: "import@example.jp",
        password: "bench passphrase!",
        display_name: "I",
    };
    let citizen = create_account(conn, &keys, &new, Utc::now()).unwrap();
    let mut csv = String::from("date,merchant,amount,currency,method,merchant_category\n");
    for i in 0..n {
        let _ = writeln!(
            csv,
            "2026-{:02}-{:02},Merchant {},{},JPY,card,grocery",
            i % 12 + 1,
            i % 28 + 1,
            i,
            i % 100_000
        );
    }
    println!("CSV of {n} transactions: {:.1} MiB", csv.len() as f64 / 1_048_576.0);
    let started = Instant::now();
    let outcome = import(
        conn,
        &keys,
        &citizen,
        "payment_history",
        ImportBody::Csv(csv.as_bytes()),
        Utc::now(),
    )
    .unwrap();
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "imported {} (rejected {}) in {elapsed:.2} s: {:.0} transactions/s",
        outcome.imported,
        outcome.rejected.len(),
        outcome.imported as f64 / elapsed
    );
}
