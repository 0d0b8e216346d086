//! Fills a database's audit log with synthetic events, for measuring `infobank audit export`
//! and `infobank audit verify` on a large log (docs/performance.md):
//!
//!     cargo run --release -p infobank-audit --example fill_log -- sqlite://PATH/infobank.db 1000000
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods,
    clippy::print_stdout
)]

use chrono::Utc;
use infobank_audit::{Action, Actor, AuditEvent, append, log};
use infobank_db::{DatabaseUrl, Pool, PoolOptions, run_migrations, write_transaction};

fn main() {
    let mut args = std::env::args().skip(1);
    let url = DatabaseUrl::parse(&args.next().expect("database URL")).expect("sqlite:// or postgres:// URL");
    let count: u64 = args.next().expect("how many events").parse().expect("a number");
    let pool = Pool::open(url, &PoolOptions::default()).unwrap();
    let conn = &mut *pool.get().unwrap();
    run_migrations(conn).unwrap();
    let start = log::tree_size(conn).unwrap();
    let started = std::time::Instant::now();
    let mut done = 0;
    while done < count {
        let batch = (count - done).min(10_000);
        write_transaction(conn, |conn| {
            for i in 0..batch {
                let id = format!("acct-{:09}", start + done + i);
                let event = AuditEvent::new(Action::AccountCreated, Actor::new("citizen", &id)).object("account", &id);
                append(conn, &event, Utc::now())?;
            }
            Ok::<_, infobank_audit::AuditError>(())
        })
        .unwrap();
        infobank_audit::sequencer::integrate_all(conn).unwrap();
        done += batch;
    }
    println!(
        "appended {count} events in {:.1} s; tree size {}",
        started.elapsed().as_secs_f64(),
        log::tree_size(conn).unwrap()
    );
}
