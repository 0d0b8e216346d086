//! Test databases on both backends, each one fresh and dropped afterwards.

use diesel::connection::SimpleConnection as _;
use diesel::pg::PgConnection;
use diesel::{Connection as _, RunQueryDsl as _};
use infobank_db::{DatabaseUrl, Pool, PoolOptions, run_migrations};

use crate::pg_cluster;

pub struct TestDb {
    pub url: DatabaseUrl,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = DatabaseUrl::sqlite_file(dir.path().join("infobank.db"));
        Self {
            url,
            cleanup: Cleanup::Sqlite(dir),
        }
    }

    /// A fresh, empty PostgreSQL database; `None` (after a loud message) when no PostgreSQL can
    /// be had outside CI. Panics under `CI=true` instead of skipping.
    pub fn postgres() -> Option<Self> {
        let admin_url = pg_cluster::admin_url()?;
        let name = format!("infobank_test_{}", uuid::Uuid::now_v7().simple());
        let mut admin = PgConnection::establish(&admin_url).expect("connect to the PostgreSQL admin database");
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .expect("create test database");
        let url = DatabaseUrl::parse(&with_database(&admin_url, &name)).expect("test database URL");
        Some(Self {
            url,
            cleanup: Cleanup::Postgres { admin_url, name },
        })
    }

    pub fn backend(&self) -> infobank_db::Backend {
        self.url.backend()
    }

    /// A pool on this database with every migration applied.
    pub fn pool(&self) -> Pool {
        self.pool_with(&PoolOptions::default())
    }

    /// A migrated pool with other sizes or timeouts (the pool-exhaustion tests).
    pub fn pool_with(&self, options: &PoolOptions) -> Pool {
        let pool = Pool::open(self.url.clone(), options).unwrap();
        run_migrations(&mut pool.get().unwrap()).unwrap();
        pool
    }

    pub fn pool_unmigrated(&self) -> Pool {
        Pool::open(self.url.clone(), &PoolOptions::default()).unwrap()
    }
}

/// Replaces the database name in a libpq URL, keeping host, credentials and parameters.
pub(crate) fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[scheme_end..].find('/').map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{database}", &base[..authority_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup
            && let Ok(mut admin) = PgConnection::establish(admin_url)
        {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_name_is_replaced_and_the_rest_kept() {
        assert_eq!(
            with_database("postgres://u@127.0.0.1:5432/postgres", "t1"),
            "postgres://u@127.0.0.1:5432/t1"
        );
        assert_eq!(with_database("postgres://u@h", "t1"), "postgres://u@h/t1");
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=disable", "t1"),
            "postgres://u:p@h/t1?sslmode=disable"
        );
        assert_eq!(
            with_database("postgresql:///postgres?host=/tmp/sock&port=5433", "t1"),
            "postgresql:///t1?host=/tmp/sock&port=5433"
        );
    }
}
