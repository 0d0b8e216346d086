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

/// Runs `work` in a write transaction: committed if it returns `Ok`, rolled back otherwise.
pub fn write_transaction<T, E, F>(conn: &mut DbConnection, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
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
