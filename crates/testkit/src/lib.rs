//! infobank-testkit: test against real parts.
//!
//! - [`TestDb::sqlite`]: a fresh SQLite file in a temporary directory.
//! - [`TestDb::postgres`]: a fresh database on `INFOBANK_TEST_PG_URL`, or on a throwaway cluster
//!   started from the machine's `initdb`/`postgres`. Under `CI=true` an unreachable PostgreSQL
//!   fails the test; elsewhere the test is skipped with a loud message.
//! - [`TestApp::spawn`]: the real server on 127.0.0.1 port 0, with a blocking HTTP client.
//! - [`app_tests!`] and [`db_tests!`]: run each scenario once per backend.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)] // test support: failing loudly is the point

mod app;
mod db;
mod http;
mod pg_cluster;

pub use app::TestApp;
pub use db::TestDb;
pub use http::Response;

/// Generates `sqlite::name` and `postgres::name` tests calling `name(&TestApp)` for each name.
#[macro_export]
macro_rules! app_tests {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $( #[::core::prelude::v1::test] fn $name() { super::$name(&$crate::TestApp::spawn($crate::TestDb::sqlite())); } )+
        }
        mod postgres {
            $( #[::core::prelude::v1::test] fn $name() {
                if let Some(db) = $crate::TestDb::postgres() { super::$name(&$crate::TestApp::spawn(db)); }
            } )+
        }
    };
}

/// Generates `sqlite::name` and `postgres::name` tests calling `name(&TestDb)` for each name.
#[macro_export]
macro_rules! db_tests {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $( #[::core::prelude::v1::test] fn $name() { super::$name(&$crate::TestDb::sqlite()); } )+
        }
        mod postgres {
            $( #[::core::prelude::v1::test] fn $name() {
                if let Some(db) = $crate::TestDb::postgres() { super::$name(&db); }
            } )+
        }
    };
}

#[cfg(test)]
mod tests {
    use diesel::Connection as _;

    /// The fallback path must work on a machine without INFOBANK_TEST_PG_URL: start a real
    /// throwaway cluster and connect to it. Under CI this must succeed.
    #[test]
    fn throwaway_cluster_starts_and_accepts_connections() {
        match crate::pg_cluster::start_throwaway_cluster() {
            Ok(url) => {
                diesel::pg::PgConnection::establish(&url).unwrap();
            }
            Err(reason) if std::env::var("CI").is_ok_and(|v| v == "true") => panic!("{reason}"),
            Err(reason) => eprintln!("SKIPPING throwaway cluster test: {reason}"),
        }
    }
}
