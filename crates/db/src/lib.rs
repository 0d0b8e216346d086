//! infobank-db: one diesel schema over two backends.
//!
//! `DbConnection` is a `MultiConnection` over SQLite and PostgreSQL; the backend is chosen from
//! the database URL's scheme (`sqlite://…` or `postgres://…`). Only portable SQL types are used
//! (`Text` ids and JSON, `BigInt`, `Integer`, `Bool`, `Binary`, `Timestamp` as UTC).

mod connection;
pub mod group;
pub mod locks;
mod migrate;
mod pool;
pub mod schema;
mod transaction;
mod url;

pub use connection::DbConnection;
pub use locks::{LockMode, Lockable, lock_key, lock_rows, try_session_lock};
pub use migrate::{
    MigrationError, POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS, applied_migrations, is_fully_migrated, run_migrations,
};
pub use pool::{DbError, Pool, PoolOptions, PooledConn};
pub use transaction::{in_transaction, read_snapshot, write_transaction};
pub use url::{Backend, DatabaseUrl, UrlError};

/// Re-exported so that domain crates and the test kit use the very same diesel.
pub use diesel;
