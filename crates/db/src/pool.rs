//! The r2d2 pool. The manager picks the backend from the URL (the derived `MultiConnection::
//! establish` would try each backend in turn, and every string is a valid SQLite path), and sets
//! the SQLite pragmas on every new connection: a busy timeout instead of instant `SQLITE_BUSY`,
//! WAL so readers do not block the writer, enforced foreign keys, and full fsync on commit so an
//! answered request survives power loss.

use std::time::Duration;

use diesel::connection::{Connection as _, SimpleConnection as _};
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection, R2D2Connection as _};
use diesel::sqlite::SqliteConnection;

use crate::{DatabaseUrl, DbConnection};

const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
     PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;";

/// Switching a database file to WAL needs an exclusive lock, and the pool opens its connections
/// in parallel; so the switch is made once, on one connection, before the pool exists. (The mode
/// is stored in the file; on every pooled connection the same pragma is then a no-op.)
fn enable_wal(path: &std::path::Path) -> Result<(), DbError> {
    let mut conn = SqliteConnection::establish(&path.to_string_lossy()).map_err(|e| DbError::Connect(e.to_string()))?;
    conn.batch_execute("PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL;")
        .map_err(|e| DbError::Connect(e.to_string()))
}

/// How long `Pool::open` waits for the pool's connections.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database connection failed: {0}")]
    Connect(String),
    #[error("no database connection available within the pool timeout")]
    PoolTimeout,
    #[error("could not create the SQLite directory {path}: {source}")]
    Directory {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

#[derive(Debug)]
pub struct Manager {
    url: DatabaseUrl,
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConnection, Self::Error> {
        match &self.url {
            DatabaseUrl::Sqlite(path) => {
                let mut conn =
                    SqliteConnection::establish(&path.to_string_lossy()).map_err(r2d2::Error::ConnectionError)?;
                conn.batch_execute(SQLITE_PRAGMAS).map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
            DatabaseUrl::Postgres(url) => PgConnection::establish(url)
                .map(DbConnection::Postgres)
                .map_err(r2d2::Error::ConnectionError),
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), Self::Error> {
        conn.ping().map(|_| ()).map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        conn.is_broken()
    }
}

pub type PooledConn = r2d2::PooledConnection<Manager>;

#[derive(Debug, Clone)]
pub struct PoolOptions {
    pub max_size: u32,
    /// How long a request waits for a free connection before it is answered 503.
    pub connection_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_size: 8,
            connection_timeout: Duration::from_secs(5),
        }
    }
}

/// A cheaply clonable handle to the pool.
#[derive(Clone)]
pub struct Pool {
    inner: r2d2::Pool<Manager>,
    url: DatabaseUrl,
    /// How long `get` waits for a free connection.
    request_timeout: Duration,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool").field("url", &self.url).finish_non_exhaustive()
    }
}

impl Pool {
    /// Opens the pool and checks that one connection can be made, so a bad URL fails at start.
    pub fn open(url: DatabaseUrl, options: &PoolOptions) -> Result<Self, DbError> {
        if let DatabaseUrl::Sqlite(path) = &url
            && let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent).map_err(|source| DbError::Directory {
                path: parent.display().to_string(),
                source,
            })?;
        }
        if let DatabaseUrl::Sqlite(path) = &url {
            enable_wal(path)?;
        }
        // `build` opens every connection before it returns, within the pool's own timeout: give
        // it time for a remote server. (Opening them in the background instead, `build_unchecked`,
        // let a short CLI command exit while a thread was still opening SQLite: a crash at exit.)
        // Requests wait only `connection_timeout`, through `get`.
        let inner = r2d2::Pool::builder()
            .max_size(options.max_size)
            .connection_timeout(options.connection_timeout.max(STARTUP_TIMEOUT))
            .build(Manager { url: url.clone() })
            .map_err(|e| DbError::Connect(e.to_string()))?;
        Ok(Self {
            inner,
            url,
            request_timeout: options.connection_timeout,
        })
    }

    pub fn get(&self) -> Result<PooledConn, DbError> {
        self.inner
            .get_timeout(self.request_timeout)
            .map_err(|_| DbError::PoolTimeout)
    }

    /// A connection of its own, outside the pool, with the same settings: for work that holds a
    /// session-level lock for as long as it runs (the audit sequencer's leadership).
    pub fn connect_dedicated(&self) -> Result<DbConnection, DbError> {
        Manager { url: self.url.clone() }
            .connect()
            .map_err(|e| DbError::Connect(e.to_string()))
    }

    /// For SQLite, a group-commit writer on connections of its own (see [`crate::group`]);
    /// `None` for PostgreSQL, whose concurrent transactions need none.
    pub fn group_writer(&self) -> Result<Option<std::sync::Arc<crate::group::GroupWriter>>, DbError> {
        if !matches!(self.url, DatabaseUrl::Sqlite(_)) {
            return Ok(None);
        }
        let writer = self.connect_dedicated()?;
        let checkpointer = self.connect_dedicated()?;
        crate::group::GroupWriter::new(writer, checkpointer)
            .map(Some)
            .map_err(|e| DbError::Connect(e.to_string()))
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }
}
