//! Embedded migrations, one set per backend with identical folder names.

use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::DbConnection;

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

#[derive(Debug, thiserror::Error)]
#[error("migration failed: {0}")]
pub struct MigrationError(String);

/// Applies every pending migration; returns the names of those it applied.
pub fn run_migrations(conn: &mut DbConnection) -> Result<Vec<String>, MigrationError> {
    let applied = match conn {
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
        DbConnection::Postgres(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS),
    }
    .map_err(|e| MigrationError(e.to_string()))?;
    Ok(applied.iter().map(ToString::to_string).collect())
}

/// The versions already applied, used by `/readyz` to tell a migrated database from a fresh one.
pub fn applied_migrations(conn: &mut DbConnection) -> Result<Vec<String>, MigrationError> {
    let versions = match conn {
        DbConnection::Sqlite(c) => c.applied_migrations(),
        DbConnection::Postgres(c) => c.applied_migrations(),
    }
    .map_err(|e| MigrationError(e.to_string()))?;
    Ok(versions.iter().map(ToString::to_string).collect())
}

/// True when every embedded migration for this backend has been applied.
pub fn is_fully_migrated(conn: &mut DbConnection) -> Result<bool, MigrationError> {
    let pending = match conn {
        DbConnection::Sqlite(c) => c.has_pending_migration(SQLITE_MIGRATIONS),
        DbConnection::Postgres(c) => c.has_pending_migration(POSTGRES_MIGRATIONS),
    }
    .map_err(|e| MigrationError(e.to_string()))?;
    Ok(!pending)
}
