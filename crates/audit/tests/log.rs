//! The persistent log on SQLite and PostgreSQL: stored roots equal the pure roots, every served
//! proof verifies, indices stay gap-free under rollbacks, concurrent appenders and racing or
//! failing sequencers, tree heads are signed and checked, and a regulator's checkpoint catches a
//! rewrite.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)] // tests use the real clock

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use infobank_audit::checkpoint::{self, CheckpointStatus};
use infobank_audit::merkle::{self, Hash, MemoryTree};
use infobank_audit::sequencer::{self, Sequencer};
use infobank_audit::{Action, Actor, AuditError, AuditEvent, LeafStatus, append, log, sth};
use infobank_crypto::KeyRing;
use infobank_db::diesel::RunQueryDsl as _;
use infobank_db::{Backend, DbConnection, Pool, write_transaction};
use infobank_testkit::{TestDb, db_tests};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).unwrap()
}

fn event(n: u64) -> AuditEvent {
    AuditEvent::new(Action::AccountCreated, Actor::new("citizen", &format!("acct-{n}")))
        .object("account", &format!("acct-{n}"))
}

fn queue_one(conn: &mut DbConnection, n: u64) -> Hash {
    write_transaction(conn, |conn| {
        append(conn, &event(n), t0() + Duration::milliseconds(n as i64))
    })
    .unwrap()
}

fn index_of(conn: &mut DbConnection, hash: &Hash) -> u64 {
    match log::leaf_status(conn, hash).unwrap() {
        LeafStatus::Integrated(index) => index,
        other => panic!("leaf not integrated: {other:?}"),
    }
}

/// Queues one leaf, integrates everything queued and returns the leaf's index.
fn append_one(conn: &mut DbConnection, n: u64) -> u64 {
    let hash = queue_one(conn, n);
    sequencer::integrate_all(conn).unwrap();
    index_of(conn, &hash)
}

/// The leaf hashes recomputed from the stored canonical JSON (not read from the hash column).
fn recomputed_leaves(conn: &mut DbConnection) -> Vec<Hash> {
    let size = log::tree_size(conn).unwrap();
    let mut out = Vec::new();
    let mut start = 0;
    while start < size {
        let end = (start + log::MAX_PAGE).min(size);
        for e in log::entries(conn, start, end).unwrap() {
            let h = merkle::leaf_hash(e.leaf.as_bytes());
            assert_eq!(h, e.leaf_hash, "stored leaf hash of {}", e.index);
            out.push(h);
        }
        start = end;
    }
    out
}

fn to_vecs(hashes: &[Hash]) -> Vec<Vec<u8>> {
    hashes.iter().map(|h| h.to_vec()).collect()
}

fn random_batches_keep_stored_and_pure_roots_equal(db: &TestDb) {
    let pool = db.pool();
    let mut pooled = pool.get().unwrap();
    // TestRunner wants a `Fn`; the connection and the count live in a RefCell it can borrow.
    let shared = std::cell::RefCell::new((&mut *pooled, 0u64));
    // Small batches, kept across cases: a request's leaves are split over several batches, and
    // the cached border is reused from one case to the next.
    let sequencer = std::cell::RefCell::new(Sequencer::new(7));
    let mut runner = TestRunner::new(Config {
        cases: 16,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (1u64..40, any::<u64>(), any::<u64>());
    runner
        .run(&strategy, |(batch, pick_a, pick_b)| {
            let mut guard = shared.borrow_mut();
            let (conn, appended) = &mut *guard;
            let conn: &mut DbConnection = conn;
            // A batch commits together, like the writes of one request.
            let hashes = write_transaction(conn, |conn| {
                (0..batch)
                    .map(|i| append(conn, &event(*appended + i), t0()))
                    .collect::<Result<Vec<_>, AuditError>>()
            })
            .unwrap();
            prop_assert_eq!(log::tree_size(conn).unwrap(), *appended, "queued, not yet in the tree");
            prop_assert_eq!(log::leaf_status(conn, &hashes[0]).unwrap(), LeafStatus::Queued);
            sequencer.borrow_mut().drain(conn).unwrap();
            // One writer: the queue's order is the order of the appends.
            for (i, hash) in hashes.iter().enumerate() {
                prop_assert_eq!(index_of(conn, hash), *appended + i as u64);
            }
            *appended += batch;
            let leaves = recomputed_leaves(conn);
            let size = leaves.len() as u64;
            prop_assert_eq!(size, *appended);
            let pure = MemoryTree::from_leaves(&leaves);
            for s in [1, size / 2 + 1, pick_a % size + 1, size] {
                prop_assert_eq!(log::root_at(conn, s).unwrap(), merkle::root_of(&leaves[..s as usize]));
            }
            prop_assert_eq!(log::root_at(conn, size).unwrap(), pure.root(size).unwrap());
            // Every leaf of the batch, and a random one, against the current root.
            let root = log::root_at(conn, size).unwrap();
            for index in (size - batch..size).chain([pick_a % size]) {
                let proof = log::inclusion_proof(conn, index, size).unwrap();
                prop_assert!(
                    merkle::verify_inclusion(index, size, &leaves[index as usize], &to_vecs(&proof), &root).is_ok()
                );
            }
            let first = pick_b % size + 1;
            if first < size {
                let proof = log::consistency_proof(conn, first, size).unwrap();
                let first_root = log::root_at(conn, first).unwrap();
                prop_assert!(merkle::verify_consistency(first, size, &first_root, &root, &to_vecs(&proof)).is_ok());
            }
            Ok(())
        })
        .unwrap();
    assert!(shared.borrow().1 >= 16);
}

fn append_outside_a_transaction_is_refused(db: &TestDb) {
    let pool = db.pool();
    let conn = &mut *pool.get().unwrap();
    assert!(matches!(
        append(conn, &event(0), t0()),
        Err(AuditError::NotInTransaction)
    ));
    assert_eq!(log::tree_size(conn).unwrap(), 0);
}

fn a_rolled_back_append_leaves_no_gap(db: &TestDb) {
    let pool = db.pool();
    let conn = &mut *pool.get().unwrap();
    append_one(conn, 0);
    let failed: Result<Hash, AuditError> = write_transaction(conn, |conn| {
        append(conn, &event(1), t0())?;
        Err(AuditError::Corrupt("the caller's own step failed".into()))
    });
    assert!(failed.is_err());
    assert_eq!(
        log::queue_state(conn).unwrap().depth,
        0,
        "the rolled-back leaf was never queued"
    );
    sequencer::integrate_all(conn).unwrap();
    assert_eq!(log::tree_size(conn).unwrap(), 1);
    assert_eq!(append_one(conn, 2), 1, "no gap after a rollback");
    let leaves = recomputed_leaves(conn);
    assert!(
        !log::entries(conn, 0, 2)
            .unwrap()
            .iter()
            .any(|e| e.leaf.contains("acct-1\"")),
        "the rolled-back leaf is gone"
    );
    assert_eq!(log::root_at(conn, 2).unwrap(), merkle::root_of(&leaves));
}

fn bad_ranges_are_refused(db: &TestDb) {
    let pool = db.pool();
    let conn = &mut *pool.get().unwrap();
    for n in 0..5 {
        append_one(conn, n);
    }
    assert!(matches!(log::entries(conn, 3, 2), Err(AuditError::BadRange(_))));
    assert!(matches!(log::entries(conn, 0, 6), Err(AuditError::OutOfRange { .. })));
    assert!(matches!(log::entries(conn, 0, 1001), Err(AuditError::BadRange(_))));
    assert!(matches!(log::root_at(conn, 6), Err(AuditError::OutOfRange { .. })));
    assert!(matches!(
        log::inclusion_proof(conn, 5, 5),
        Err(AuditError::OutOfRange { .. })
    ));
    assert!(matches!(
        log::consistency_proof(conn, 4, 3),
        Err(AuditError::BadRange(_))
    ));
    assert_eq!(log::root_at(conn, 0).unwrap(), merkle::empty_root());
}

/// Two pools (as two server processes would have), eight appending threads each, and one
/// sequencer per pool integrating while they append: every leaf ends up in the tree exactly
/// once, at consecutive indices, and the stored root is RFC 6962's root of the leaves.
fn concurrent_appenders_and_racing_sequencers_leave_no_gap_and_no_duplicate(db: &TestDb) {
    const THREADS_PER_POOL: u64 = 8;
    const APPENDS_PER_THREAD: u64 = 25;
    let pools: Vec<Pool> = (0..2).map(|_| db.pool()).collect();
    let appending = std::sync::atomic::AtomicUsize::new(pools.len() * THREADS_PER_POOL as usize);
    let (queued, batches): (Vec<Hash>, Vec<sequencer::Batch>) = std::thread::scope(|s| {
        let sequencers: Vec<_> = pools
            .iter()
            .map(|pool| {
                let appending = &appending;
                s.spawn(move || {
                    let conn = &mut *pool.get().unwrap();
                    let mut sequencer = Sequencer::new(16);
                    let mut batches = Vec::new();
                    while appending.load(std::sync::atomic::Ordering::SeqCst) > 0 {
                        batches.push(sequencer.integrate(conn).unwrap());
                    }
                    batches
                })
            })
            .collect();
        let appenders: Vec<_> = pools
            .iter()
            .flat_map(|pool| (0..THREADS_PER_POOL).map(move |t| (pool.clone(), t)))
            .map(|(pool, t)| {
                let appending = &appending;
                s.spawn(move || {
                    let conn = &mut *pool.get().unwrap();
                    let hashes: Vec<Hash> = (0..APPENDS_PER_THREAD).map(|i| queue_one(conn, t * 1000 + i)).collect();
                    appending.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                    hashes
                })
            })
            .collect();
        let queued = appenders.into_iter().flat_map(|h| h.join().unwrap()).collect();
        let batches = sequencers.into_iter().flat_map(|h| h.join().unwrap()).collect();
        (queued, batches)
    });
    let total = 2 * THREADS_PER_POOL * APPENDS_PER_THREAD;
    let conn = &mut *pools[0].get().unwrap();
    sequencer::integrate_all(conn).unwrap();
    assert_eq!(log::queue_state(conn).unwrap().depth, 0);
    let indices: BTreeSet<u64> = queued.iter().map(|h| index_of(conn, h)).collect();
    assert_eq!(indices, (0..total).collect(), "indices are not 0..N-1, each once");
    // The batches the two sequencers committed never overlap.
    let mut ranges: Vec<(u64, u64)> = batches
        .iter()
        .filter(|b| !b.is_empty())
        .map(|b| (b.first, b.size))
        .collect();
    ranges.sort_unstable();
    assert!(
        ranges.windows(2).all(|w| w[0].1 <= w[1].0),
        "two batches overlap: {ranges:?}"
    );
    let leaves = recomputed_leaves(conn);
    assert_eq!(leaves.len() as u64, total);
    let root = log::root_at(conn, total).unwrap();
    assert_eq!(root, merkle::root_of(&leaves));
    for index in [0, total / 3, total - 1] {
        let proof = log::inclusion_proof(conn, index, total).unwrap();
        merkle::verify_inclusion(index, total, &leaves[index as usize], &to_vecs(&proof), &root).unwrap();
    }
}

/// A batch that fails half-way (here: a node row is already there) rolls back whole: the tree,
/// the head and the queue are as before, and the same sequencer, its cached border dropped,
/// integrates correctly once the obstacle is gone.
fn a_failed_batch_rolls_back_whole_and_the_next_one_is_right(db: &TestDb) {
    use infobank_db::diesel::prelude::*;
    use infobank_db::schema::audit_nodes;
    let pool = db.pool();
    let conn = &mut *pool.get().unwrap();
    let mut sequencer = Sequencer::new(100);
    for n in 0..5 {
        queue_one(conn, n);
    }
    sequencer.drain(conn).unwrap();
    let hashes: Vec<Hash> = (5..12).map(|n| queue_one(conn, n)).collect();
    // Leaf 9 completes node (last_leaf 9, level 1): put a wrong one there first.
    diesel::insert_into(audit_nodes::table)
        .values((
            audit_nodes::last_leaf.eq(9i64),
            audit_nodes::level.eq(1),
            audit_nodes::hash.eq(vec![0u8; 32]),
        ))
        .execute(conn)
        .unwrap();
    assert!(sequencer.integrate(conn).is_err());
    assert_eq!(log::tree_size(conn).unwrap(), 5);
    assert_eq!(log::queue_state(conn).unwrap().depth, 7);
    assert_eq!(log::leaf_status(conn, &hashes[0]).unwrap(), LeafStatus::Queued);
    assert!(log::entries(conn, 0, 5).is_ok() && log::entries(conn, 0, 6).is_err());

    diesel::delete(audit_nodes::table.find((9i64, 1)))
        .execute(conn)
        .unwrap();
    let batch = sequencer.integrate(conn).unwrap();
    assert_eq!((batch.first, batch.size), (5, 12));
    let leaves = recomputed_leaves(conn);
    assert_eq!(log::root_at(conn, 12).unwrap(), merkle::root_of(&leaves));
    assert_eq!(index_of(conn, &hashes[6]), 11);
}

/// Two equal events (same actor, action, objects and millisecond) are two leaves, each named by
/// its own hash.
fn equal_events_get_distinct_leaves(db: &TestDb) {
    let pool = db.pool();
    let conn = &mut *pool.get().unwrap();
    let a = write_transaction(conn, |conn| append(conn, &event(1), t0())).unwrap();
    let b = write_transaction(conn, |conn| append(conn, &event(1), t0())).unwrap();
    assert_ne!(a, b);
    sequencer::integrate_all(conn).unwrap();
    assert_eq!((index_of(conn, &a), index_of(conn, &b)), (0, 1));
    assert_eq!(log::leaf_status(conn, &[9u8; 32]).unwrap(), LeafStatus::Unknown);
}

fn fresh_keys() -> (tempfile::TempDir, KeyRing) {
    let dir = tempfile::tempdir().unwrap();
    let keys = KeyRing::load_or_create(dir.path()).unwrap();
    (dir, keys)
}

fn tree_heads_are_signed_checked_and_rate_limited(db: &TestDb) {
    let (_d, keys) = fresh_keys();
    let signer = keys.log_signer().unwrap();
    let pool = db.pool();
    let conn = &mut *pool.get().unwrap();
    let empty = sth::current(conn, &signer, t0()).unwrap();
    assert_eq!((empty.tree_size, empty.root_hash), (0, merkle::empty_root()));
    assert!(empty.verify(signer.public_key()));

    for n in 0..3 {
        append_one(conn, n);
    }
    // Within a second of the last head, the last head is served even though the tree grew.
    let soon = sth::current(conn, &signer, t0() + Duration::milliseconds(500)).unwrap();
    assert_eq!(soon, empty);
    let later = sth::current(conn, &signer, t0() + Duration::seconds(2)).unwrap();
    assert_eq!(later.tree_size, 3);
    assert_eq!(later.root_hash, log::root_at(conn, 3).unwrap());
    assert!(later.verify(signer.public_key()));
    assert_eq!(
        later.timestamp_ms,
        (t0() + Duration::seconds(2)).timestamp_millis() as u64
    );
    // Asking again at the same size returns the stored head, not a new signature.
    assert_eq!(sth::current(conn, &signer, t0() + Duration::seconds(9)).unwrap(), later);

    let mut forged = later.clone();
    forged.tree_size = 2;
    assert!(!forged.verify(signer.public_key()));
    let mut forged = later.clone();
    forged.root_hash[0] ^= 1;
    assert!(!forged.verify(signer.public_key()));
    let (_d2, other) = fresh_keys();
    assert!(!later.verify(other.log_signer().unwrap().public_key()));
}

fn a_checkpoint_detects_a_rewritten_log(db: &TestDb) {
    let (_d, keys) = fresh_keys();
    let signer = keys.log_signer().unwrap();
    let pool = db.pool();
    let conn = &mut *pool.get().unwrap();
    // A regulator account to hang the checkpoint on.
    let regulator = insert_bare_regulator(conn);
    for n in 0..10 {
        append_one(conn, n);
    }
    let head = sth::sign_current(conn, &signer, t0() + Duration::seconds(1)).unwrap();
    assert_eq!(
        checkpoint::check(conn, &regulator, &head).unwrap(),
        CheckpointStatus::NoCheckpoint
    );
    assert!(matches!(
        checkpoint::acknowledge(conn, &regulator, &head, t0()).unwrap(),
        CheckpointStatus::Consistent { .. }
    ));

    for n in 10..17 {
        append_one(conn, n);
    }
    let grown = sth::sign_current(conn, &signer, t0() + Duration::seconds(3)).unwrap();
    assert!(
        matches!(checkpoint::check(conn, &regulator, &grown).unwrap(), CheckpointStatus::Consistent { proof_len, .. } if proof_len > 0)
    );

    // Someone rewrites leaf 4 inside the acknowledged prefix, with every stored subtree above it
    // made to match, then the log grows and the bank signs a head over the rewritten tree.
    {
        use infobank_db::diesel::prelude::*;
        use infobank_db::schema::audit_leaves;
        diesel::update(audit_leaves::table.find(4i64))
            .set(audit_leaves::leaf_hash.eq(vec![7u8; 32]))
            .execute(conn)
            .unwrap();
    }
    for (level, idx) in [(0, 4), (1, 2), (2, 1), (3, 0), (4, 0)] {
        diesel_update_node(conn, level, idx, &[7u8; 32]);
    }
    append_one(conn, 17);
    let rewritten = sth::sign_current(conn, &signer, t0() + Duration::seconds(5)).unwrap();
    assert!(
        rewritten.verify(signer.public_key()),
        "the bank signs whatever its storage says"
    );
    assert!(matches!(
        checkpoint::check(conn, &regulator, &rewritten).unwrap(),
        CheckpointStatus::Inconsistent { .. }
    ));
    // Acknowledging the rewritten head records nothing: the checkpoint stays where it was.
    assert!(matches!(
        checkpoint::acknowledge(conn, &regulator, &rewritten, t0()).unwrap(),
        CheckpointStatus::Inconsistent { .. }
    ));
    assert_eq!(
        checkpoint::checkpoint(conn, &regulator).unwrap().unwrap().tree_size,
        head.tree_size
    );
}

fn diesel_update_node(conn: &mut DbConnection, level: i32, idx: i64, hash: &[u8]) {
    use infobank_db::diesel::prelude::*;
    use infobank_db::schema::audit_nodes;
    let last_leaf = ((idx + 1) << level) - 1;
    let updated = diesel::update(audit_nodes::table.find((last_leaf, level)))
        .set(audit_nodes::hash.eq(hash))
        .execute(conn)
        .unwrap();
    assert_eq!(updated, 1, "node {level}/{idx} exists");
}

/// A bare regulator row (the checkpoint table references accounts).
fn insert_bare_regulator(conn: &mut DbConnection) -> String {
    let id = "01930000-0000-7000-8000-00000000reg1".to_owned();
    let ts = match conn.backend() {
        Backend::Sqlite => "'2026-01-01 00:00:00'",
        Backend::Postgres => "TIMESTAMP '2026-01-01 00:00:00'",
    };
    let blob = match conn.backend() {
        Backend::Sqlite => "X'00'",
        Backend::Postgres => "'\\x00'::bytea",
    };
    diesel::sql_query(format!(
        "INSERT INTO accounts (id, role, email_index, email_sealed, display_name_sealed, password_hash, dek_wrapped, kek_version, created_at) \
         VALUES ('{id}', 'regulator', 'idx-reg1', {blob}, {blob}, 'x', {blob}, 1, {ts})"
    ))
    .execute(conn)
    .unwrap();
    id
}

db_tests!(
    random_batches_keep_stored_and_pure_roots_equal,
    append_outside_a_transaction_is_refused,
    a_rolled_back_append_leaves_no_gap,
    bad_ranges_are_refused,
    concurrent_appenders_and_racing_sequencers_leave_no_gap_and_no_duplicate,
    a_failed_batch_rolls_back_whole_and_the_next_one_is_right,
    equal_events_get_distinct_leaves,
    tree_heads_are_signed_checked_and_rate_limited,
    a_checkpoint_detects_a_rewritten_log,
);
