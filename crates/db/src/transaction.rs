//! Write transactions. On SQLite a transaction that reads before it writes can fail with
//! `SQLITE_BUSY_SNAPSHOT` when another writer committed in between (WAL mode; the busy timeout
//! does not help), so every write transaction starts with `BEGIN IMMEDIATE`, taking the write lock
//! up front. On PostgreSQL it is an ordinary `BEGIN`; row locks do the serialising.
//!
//! `MultiConnection` forwards transaction management to the inner connection verbatim, so
//! beginning on the inner SQLite connection and committing through the enum stays consistent.

use diesel::connection::{AnsiTransactionManager, Connection, TransactionManager};

use crate::DbConnection;

type Manager = <DbConnection as Connection>::TransactionManager;

/// Whether `conn` is inside a transaction (functions that must run in their caller's check it).
pub fn in_transaction(conn: &mut DbConnection) -> bool {
    Manager::transaction_manager_status_mut(conn)
        .transaction_depth()
        .is_ok_and(|depth| depth.is_some())
}

/// Runs `work` in a write transaction: committed if it returns `Ok`, rolled back otherwise.
/// On SQLite, while this thread has entered a [`crate::group::GroupWriter`], the transaction
/// is a job of the writer's group commit instead, run on the writer's connection.
pub fn write_transaction<T, E, F>(conn: &mut DbConnection, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    if matches!(conn, DbConnection::Sqlite(_))
        && let Some(entered) = crate::group::take_current()
        && let Some(writer) = entered.writer().cloned()
    {
        let result = writer.run(work);
        drop(entered);
        return result;
    }
    match conn {
        DbConnection::Sqlite(inner) => AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?,
        DbConnection::Postgres(_) => Manager::begin_transaction(conn)?,
    }
    match work(conn) {
        Ok(value) => match Manager::commit_transaction(conn) {
            Ok(()) => Ok(value),
            Err(commit_error) => {
                // A failed COMMIT leaves the transaction open on some backends; end it.
                let _ = Manager::rollback_transaction(conn);
                Err(commit_error.into())
            }
        },
        Err(e) => {
            let _ = Manager::rollback_transaction(conn);
            Err(e)
        }
    }
}

/// Runs `work` in a read-only transaction that sees one snapshot of the database throughout
/// (PostgreSQL `REPEATABLE READ, READ ONLY`; on SQLite a deferred `BEGIN`, whose first read fixes
/// the snapshot in WAL mode): for checks that compare several tables and must not see a write
/// that committed half-way through. Always rolled back: it writes nothing.
pub fn read_snapshot<T, E, F>(conn: &mut DbConnection, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    use diesel::RunQueryDsl as _;
    match conn {
        DbConnection::Sqlite(inner) => AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN")?,
        DbConnection::Postgres(_) => {
            Manager::begin_transaction(conn)?;
            if let Err(e) =
                diesel::sql_query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(conn)
            {
                let _ = Manager::rollback_transaction(conn);
                return Err(e.into());
            }
        }
    }
    let result = work(conn);
    let _ = Manager::rollback_transaction(conn);
    result
}
