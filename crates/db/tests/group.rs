//! SQLite group commit (`infobank_db::group`): concurrent write transactions share commits, a
//! failing job rolls back alone, a failing commit fails every job of its group and no other, and
//! what a job returned `Ok` for is in the database.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::sync::Barrier;

use diesel::QueryableByName;
use diesel::RunQueryDsl as _;
use diesel::connection::SimpleConnection as _;
use diesel::sql_types::BigInt;
use infobank_db::{DbConnection, group, write_transaction};
use infobank_testkit::TestDb;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn count(conn: &mut DbConnection, sql: &str) -> i64 {
    diesel::sql_query(sql).get_result::<Count>(conn).unwrap().n
}

fn insert(conn: &mut DbConnection, table: &str, value: i64) -> Result<usize, diesel::result::Error> {
    diesel::sql_query(format!("INSERT INTO {table} (v) VALUES ({value})")).execute(conn)
}

fn setup() -> (TestDb, infobank_db::Pool, std::sync::Arc<group::GroupWriter>) {
    let db = TestDb::sqlite();
    // A connection for every thread: each holds its pooled one while its job waits.
    let pool = db.pool_with(&infobank_db::PoolOptions {
        max_size: 20,
        ..infobank_db::PoolOptions::default()
    });
    pool.get()
        .unwrap()
        .batch_execute(
            "CREATE TABLE g_parent (id INTEGER PRIMARY KEY);
             CREATE TABLE g_rows (v INTEGER NOT NULL UNIQUE);
             CREATE TABLE g_child (v INTEGER NOT NULL REFERENCES g_parent (id) DEFERRABLE INITIALLY DEFERRED);",
        )
        .unwrap();
    let writer = pool.group_writer().unwrap().expect("SQLite has a group writer");
    (db, pool, writer)
}

#[test]
fn concurrent_jobs_share_commits_and_each_gets_its_own_answer() {
    const THREADS: i64 = 16;
    const JOBS: i64 = 25;
    let (_db, pool, writer) = setup();
    let start = Barrier::new(THREADS as usize);
    let answers: Vec<(i64, bool)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let (pool, writer, start) = (pool.clone(), writer.clone(), &start);
                s.spawn(move || {
                    let _entered = group::enter(writer);
                    let conn = &mut *pool.get().unwrap();
                    start.wait();
                    (0..JOBS)
                        .map(|j| {
                            let v = t * 1000 + j;
                            // Every seventh job fails after writing: a duplicate of its own row.
                            let result = write_transaction(conn, |c| {
                                insert(c, "g_rows", v)?;
                                if v % 7 == 0 { insert(c, "g_rows", v) } else { Ok(1) }
                            });
                            (v, result.is_ok())
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let conn = &mut *pool.get().unwrap();
    for (v, ok) in &answers {
        assert_eq!(*ok, v % 7 != 0, "job {v}");
        let present = count(conn, &format!("SELECT COUNT(*) AS n FROM g_rows WHERE v = {v}"));
        assert_eq!(present, i64::from(*ok), "job {v}: answered ok = {ok}, rows {present}");
    }
    let (groups, jobs) = writer.counts();
    assert_eq!(jobs, (THREADS * JOBS) as u64);
    assert!(groups < jobs, "{jobs} jobs in {groups} commits: nothing was grouped");
}

/// A deferred foreign key is checked at COMMIT: the job that breaks it succeeds on its own, and
/// the commit of its group fails. Every job of that group then fails, and nothing of it is
/// stored; jobs answered `Ok` are stored, in that group or any other.
#[test]
fn a_failed_commit_fails_its_whole_group_and_only_it() {
    const THREADS: i64 = 8;
    const JOBS: i64 = 20;
    let (_db, pool, writer) = setup();
    let start = Barrier::new(THREADS as usize);
    let answers: Vec<(i64, bool)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let (pool, writer, start) = (pool.clone(), writer.clone(), &start);
                s.spawn(move || {
                    let _entered = group::enter(writer);
                    let conn = &mut *pool.get().unwrap();
                    start.wait();
                    (0..JOBS)
                        .map(|j| {
                            let v = t * 1000 + j;
                            let result = write_transaction(conn, |c| {
                                insert(c, "g_rows", v)?;
                                // One job in ten leaves an orphan child: its group cannot commit.
                                if j % 10 == 3 {
                                    insert(c, "g_child", -v - 1)
                                } else {
                                    Ok(1)
                                }
                            });
                            (v, result.is_ok())
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let conn = &mut *pool.get().unwrap();
    for (v, ok) in &answers {
        if v % 1000 % 10 == 3 {
            assert!(!ok, "job {v} broke a foreign key and was answered ok");
        }
        let present = count(conn, &format!("SELECT COUNT(*) AS n FROM g_rows WHERE v = {v}"));
        assert_eq!(present, i64::from(*ok), "job {v}: answered ok = {ok}, rows {present}");
    }
    assert_eq!(count(conn, "SELECT COUNT(*) AS n FROM g_child"), 0);
    assert!(answers.iter().any(|(_, ok)| *ok), "the good groups committed");
}

/// Without an entered writer, write transactions keep their own connection (the CLI's path),
/// and the two coexist on one database.
#[test]
fn plain_and_grouped_writers_coexist() {
    let (_db, pool, writer) = setup();
    let conn = &mut *pool.get().unwrap();
    write_transaction(conn, |c| insert(c, "g_rows", 1)).unwrap();
    {
        let _entered = group::enter(writer.clone());
        write_transaction(conn, |c| insert(c, "g_rows", 2)).unwrap();
    }
    write_transaction(conn, |c| insert(c, "g_rows", 3)).unwrap();
    assert_eq!(writer.counts(), (1, 1), "only the entered one ran on the writer");
    assert_eq!(count(conn, "SELECT COUNT(*) AS n FROM g_rows"), 3);
}
