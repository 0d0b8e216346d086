//! `infobank backup --out FILE`: an online, consistent copy of the SQLite database (SQLite's
//! `VACUUM INTO`, safe while the server runs). The key directory is not in it, on purpose: keys
//! and database are backed up and stored apart (docs/operations.md). On PostgreSQL, use
//! `pg_dump`; this command says so. It changes nothing: no migration, no key, no new database.

use std::path::PathBuf;

use infobank_db::Backend;
use infobank_db::diesel::RunQueryDsl as _;
use infobank_web::Config;

use crate::setup::{CliError, open_existing};

pub fn run(out: PathBuf) -> Result<(), CliError> {
    let ready = open_existing(Config::from_env()?)?;
    if ready.pool.url().backend() == Backend::Postgres {
        return Err(CliError::Other(
            "the database is PostgreSQL: back it up with pg_dump (docs/operations.md)".into(),
        ));
    }
    if out.exists() {
        return Err(CliError::Other(format!("{} exists; choose a new file", out.display())));
    }
    let path = out
        .to_str()
        .ok_or_else(|| CliError::Other("the path is not UTF-8".into()))?;
    let mut conn = ready.pool.get().map_err(|e| CliError::Other(e.to_string()))?;
    // SQL string literal: single quotes doubled.
    infobank_db::diesel::sql_query(format!("VACUUM INTO '{}'", path.replace('\'', "''")))
        .execute(&mut *conn)
        .map_err(|e| CliError::Other(format!("backup failed: {e}")))?;
    println!(
        "database copied to {} (keys are not in it: back up {} separately)",
        out.display(),
        ready.config.key_dir.display()
    );
    Ok(())
}
