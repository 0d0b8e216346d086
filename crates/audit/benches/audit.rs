//! Audit log benchmarks (numbers and commands in docs/performance.md):
//!
//! - `append/…`: one audit append (a queued leaf) in its own committed transaction, next to one
//!   committed single-row insert, on the same SQLite file with the production pragmas;
//! - `sequencer/…`: one batch of 4,096 queued leaves integrated in one committed transaction,
//!   on a tree that already holds 100,000 leaves, on SQLite and (with INFOBANK_BENCH_PG_URL) on
//!   PostgreSQL;
//! - `proof/…`: inclusion and consistency proofs on a stored log of 1,000,000 leaves;
//! - `verify/…`: proof verification for a tree of 2^20 leaves (pure, one core).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods,
    clippy::print_stderr
)]

use std::hint::black_box;
use std::path::PathBuf;

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use infobank_audit::merkle::{self, Hash, MemoryTree};
use infobank_audit::{Action, Actor, AuditEvent, append, log};
use infobank_db::diesel::RunQueryDsl as _;
use infobank_db::diesel::connection::SimpleConnection as _;
use infobank_db::diesel::prelude::*;
use infobank_db::schema::{audit_head, audit_leaves, audit_nodes};
use infobank_db::{DatabaseUrl, Pool, PoolOptions, run_migrations, write_transaction};

fn bench_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-data");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn open(path: PathBuf) -> Pool {
    let pool = Pool::open(DatabaseUrl::sqlite_file(path), &PoolOptions::default()).unwrap();
    run_migrations(&mut pool.get().unwrap()).unwrap();
    pool
}

fn append_vs_raw_insert(c: &mut Criterion) {
    let dir = tempfile::tempdir_in(bench_dir()).unwrap();
    let pool = open(dir.path().join("append.db"));
    let conn = &mut *pool.get().unwrap();
    conn.batch_execute("CREATE TABLE bench_raw (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)")
        .unwrap();
    let payload = r#"{"action":"account.created","actor":{"id":"0193","role":"citizen"},"objects":{"account":"0193"}}"#;
    let mut group = c.benchmark_group("append");
    group.bench_function("raw_single_row_insert_committed", |b| {
        b.iter(|| {
            diesel::sql_query("INSERT INTO bench_raw (payload) VALUES (?)")
                .bind::<diesel::sql_types::Text, _>(payload)
                .execute(conn)
                .unwrap()
        })
    });
    let event = AuditEvent::new(Action::AccountCreated, Actor::new("citizen", "0193")).object("account", "0193");
    group.bench_function("audit_append_committed", |b| {
        b.iter(|| write_transaction(conn, |conn| append(conn, &event, Utc::now())).unwrap())
    });
    // The CPU part of an append alone: build the leaf, canonicalise it, hash it.
    group.bench_function("leaf_encoding_only", |b| {
        b.iter(|| {
            let leaf = infobank_audit::canonical::to_canonical_json(
                &event.to_leaf(black_box("0123456789abcdef0123456789abcdef"), Utc::now()),
            )
            .unwrap();
            merkle::leaf_hash(leaf.as_bytes())
        })
    });
    group.finish();
}

/// The sequencer alone: leaves are queued outside the timing, the timed part is one batch. On a
/// SQLite file, and on PostgreSQL from INFOBANK_BENCH_PG_URL (an admin URL; a database
/// `infobank_audit_bench` is created anew), skipped with a message when unset.
fn sequencer_batches(c: &mut Criterion) {
    let dir = tempfile::tempdir_in(bench_dir()).unwrap();
    sequencer_on(c, "sqlite", open(dir.path().join("sequencer.db")));
    match std::env::var("INFOBANK_BENCH_PG_URL") {
        Ok(admin) => {
            use infobank_db::diesel::Connection as _;
            let mut conn = infobank_db::diesel::pg::PgConnection::establish(&admin).unwrap();
            conn.batch_execute("DROP DATABASE IF EXISTS infobank_audit_bench WITH (FORCE)")
                .unwrap();
            conn.batch_execute("CREATE DATABASE infobank_audit_bench").unwrap();
            let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
            let url = DatabaseUrl::parse(&format!("{base}/infobank_audit_bench")).unwrap();
            let pool = Pool::open(url, &PoolOptions::default()).unwrap();
            run_migrations(&mut pool.get().unwrap()).unwrap();
            sequencer_on(c, "postgres", pool);
        }
        Err(_) => eprintln!("INFOBANK_BENCH_PG_URL unset: skipping the postgres sequencer bench"),
    }
}

fn sequencer_on(c: &mut Criterion, label: &str, pool: Pool) {
    const BATCH: u64 = infobank_audit::sequencer::DEFAULT_MAX_BATCH as u64;
    let conn = &mut *pool.get().unwrap();
    let queue = |conn: &mut infobank_db::DbConnection, n: u64| {
        write_transaction(conn, |conn| {
            for i in 0..n {
                let id = format!("acct-{i:09}");
                let event = AuditEvent::new(Action::AccountCreated, Actor::new("citizen", &id)).object("account", &id);
                append(conn, &event, Utc::now())?;
            }
            Ok::<_, infobank_audit::AuditError>(())
        })
        .unwrap()
    };
    queue(conn, 100_000);
    let mut sequencer = infobank_audit::sequencer::Sequencer::default();
    sequencer.drain(conn).unwrap();
    let mut group = c.benchmark_group("sequencer");
    group.throughput(criterion::Throughput::Elements(BATCH));
    group.sample_size(20);
    group.bench_function(format!("integrate_4096_committed/{label}"), |b| {
        b.iter_custom(|iters| {
            let mut total = std::time::Duration::ZERO;
            for _ in 0..iters {
                queue(conn, BATCH);
                let started = std::time::Instant::now();
                let batch = sequencer.integrate(conn).unwrap();
                total += started.elapsed();
                assert_eq!(batch.len(), BATCH);
            }
            total
        })
    });
    group.finish();
}

const MILLION: u64 = 1_000_000;

fn synthetic_leaves(n: u64) -> Vec<Hash> {
    (0..n)
        .map(|i| merkle::leaf_hash(format!("leaf {i}").as_bytes()))
        .collect()
}

/// A stored log of 1M leaves' subtree hashes, built once and kept in target/bench-data.
fn million_leaf_log() -> Pool {
    let path = bench_dir().join("audit-1m-v4.db");
    let pool = open(path);
    let conn = &mut *pool.get().unwrap();
    if log::tree_size(conn).unwrap() == MILLION {
        return pool;
    }
    eprintln!("building a 1,000,000-leaf log in target/bench-data (once)…");
    let leaves = synthetic_leaves(MILLION);
    let tree = MemoryTree::from_leaves(&leaves);
    write_transaction(conn, |conn| {
        diesel::delete(audit_nodes::table).execute(conn)?;
        diesel::delete(audit_leaves::table).execute(conn)?;
        let at = Utc::now().naive_utc();
        for (i, hash) in leaves.iter().enumerate() {
            diesel::insert_into(audit_leaves::table)
                .values((
                    audit_leaves::idx.eq(i as i64),
                    audit_leaves::recorded_at.eq(at),
                    audit_leaves::action.eq("bench"),
                    audit_leaves::actor_role.eq("system"),
                    audit_leaves::leaf.eq(format!("leaf {i}")),
                    audit_leaves::leaf_hash.eq(hash.as_slice()),
                ))
                .execute(conn)?;
        }
        let mut level = 0u8;
        while tree.node(merkle::NodeId { level, index: 0 }).is_some() {
            let mut index = 0u64;
            while let Some(hash) = tree.node(merkle::NodeId { level, index }) {
                let last_leaf = (((index + 1) << level) - 1) as i64;
                diesel::insert_into(audit_nodes::table)
                    .values((
                        audit_nodes::last_leaf.eq(last_leaf),
                        audit_nodes::level.eq(i32::from(level)),
                        audit_nodes::hash.eq(hash.as_slice()),
                    ))
                    .execute(conn)?;
                index += 1;
            }
            level += 1;
        }
        diesel::update(audit_head::table.find(1))
            .set(audit_head::tree_size.eq(MILLION as i64))
            .execute(conn)?;
        Ok::<_, diesel::result::Error>(())
    })
    .unwrap();
    pool
}

fn proofs_on_a_million_leaves(c: &mut Criterion) {
    let pool = million_leaf_log();
    let conn = &mut *pool.get().unwrap();
    let mut group = c.benchmark_group("proof");
    let mut i = 0u64;
    group.bench_function("inclusion_1m", |b| {
        b.iter(|| {
            i = (i + 7_919) % MILLION;
            black_box(log::inclusion_proof(conn, i, MILLION).unwrap())
        })
    });
    let mut f = 1u64;
    group.bench_function("consistency_1m", |b| {
        b.iter(|| {
            f = (f + 7_919) % (MILLION - 1) + 1;
            black_box(log::consistency_proof(conn, f, MILLION).unwrap())
        })
    });
    group.bench_function("root_1m", |b| {
        b.iter(|| black_box(log::root_at(conn, MILLION).unwrap()))
    });
    group.finish();
}

fn verification(c: &mut Criterion) {
    const SIZE: u64 = 1 << 20;
    let leaves = synthetic_leaves(SIZE);
    let tree = MemoryTree::from_leaves(&leaves);
    let root = tree.root(SIZE).unwrap();
    let index = 123_456u64;
    let proof: Vec<Vec<u8>> = tree
        .inclusion_proof(index, SIZE)
        .unwrap()
        .iter()
        .map(|h| h.to_vec())
        .collect();
    let first = 700_001u64;
    let first_root = tree.root(first).unwrap();
    let consistency: Vec<Vec<u8>> = tree
        .consistency_proof(first, SIZE)
        .unwrap()
        .iter()
        .map(|h| h.to_vec())
        .collect();
    let mut group = c.benchmark_group("verify");
    group.bench_function("inclusion_2^20", |b| {
        b.iter(|| merkle::verify_inclusion(index, SIZE, &leaves[index as usize], black_box(&proof), &root).unwrap())
    });
    group.bench_function("consistency_2^20", |b| {
        b.iter(|| merkle::verify_consistency(first, SIZE, &first_root, &root, black_box(&consistency)).unwrap())
    });
    group.finish();
}

criterion_group!(
    benches,
    append_vs_raw_insert,
    sequencer_batches,
    proofs_on_a_million_leaves,
    verification
);
criterion_main!(benches);
