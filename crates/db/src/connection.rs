//! The connection enum every query runs on.

use diesel::pg::PgConnection;
use diesel::sqlite::SqliteConnection;

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

impl DbConnection {
    pub fn backend(&self) -> crate::Backend {
        match self {
            Self::Sqlite(_) => crate::Backend::Sqlite,
            Self::Postgres(_) => crate::Backend::Postgres,
        }
    }
}
