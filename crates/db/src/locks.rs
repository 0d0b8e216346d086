//! Per-object locks for the decisions a write makes (quota, first-use payout, idempotency,
//! balances), so that writes about different objects never wait for each other.
//!
//! PostgreSQL: `SELECT … FOR UPDATE` / `FOR SHARE` on the rows the decision concerns, in key
//! order so that two transactions locking overlapping sets cannot deadlock, and transaction-level
//! advisory locks for keys that have no row yet (an idempotency key before its entry exists).
//! SQLite: every write transaction already holds the database's one write lock from its
//! `BEGIN IMMEDIATE`, so these are no-ops there.
//!
//! Lock order, followed by every caller: consent row, then account, offer and company rows,
//! then advisory keys, then coin accounts (sorted by id; the issuance account last).

use diesel::RunQueryDsl as _;
use diesel::sql_types::{Array, Text};

use crate::DbConnection;

/// A table whose rows are locked by their text primary key. Only these: the SQL is built from
/// the names, never from input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lockable {
    Accounts,
    Companies,
    Offers,
    Consents,
    CoinAccounts,
}

impl Lockable {
    fn table(self) -> &'static str {
        match self {
            Self::Accounts => "accounts",
            Self::Companies => "companies",
            Self::Offers => "offers",
            Self::Consents => "consents",
            Self::CoinAccounts => "coin_accounts",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    /// The rows will change: nobody else may lock or change them until commit.
    Update,
    /// The rows must not change until commit; other readers may hold the same lock.
    Share,
}

/// Locks the rows of `table` with these ids until the transaction ends; returns how many exist.
pub fn lock_rows(
    conn: &mut DbConnection,
    table: Lockable,
    ids: &[&str],
    mode: LockMode,
) -> Result<usize, diesel::result::Error> {
    let DbConnection::Postgres(pg) = conn else {
        return Ok(ids.len());
    };
    if ids.is_empty() {
        return Ok(0);
    }
    let mut sorted: Vec<&str> = ids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let clause = match mode {
        LockMode::Update => "FOR UPDATE",
        LockMode::Share => "FOR SHARE",
    };
    let sql = format!(
        "SELECT id FROM {table} WHERE id = ANY($1) ORDER BY id {clause}",
        table = table.table()
    );
    #[derive(diesel::QueryableByName)]
    struct Locked {
        #[diesel(sql_type = Text)]
        #[allow(dead_code)]
        id: String,
    }
    let rows: Vec<Locked> = diesel::sql_query(sql).bind::<Array<Text>, _>(sorted).load(pg)?;
    Ok(rows.len())
}

/// Locks `key` (any text: an idempotency key, `reward_policy`) until the transaction ends, for
/// decisions about something that may not have a row yet. Two different keys can share a
/// 64-bit hash; that costs some waiting, never correctness.
pub fn lock_key(conn: &mut DbConnection, key: &str) -> Result<(), diesel::result::Error> {
    let DbConnection::Postgres(pg) = conn else {
        return Ok(());
    };
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind::<Text, _>(key)
        .execute(pg)?;
    Ok(())
}

/// Takes a session-level lock on `key` if nobody holds it, and keeps it until the connection
/// closes (PostgreSQL `pg_try_advisory_lock`): leadership among nodes. On SQLite, with one
/// process per database, the caller is always the leader.
pub fn try_session_lock(conn: &mut DbConnection, key: i64) -> Result<bool, diesel::result::Error> {
    let DbConnection::Postgres(pg) = conn else {
        return Ok(true);
    };
    #[derive(diesel::QueryableByName)]
    struct Locked {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        locked: bool,
    }
    let row: Locked = diesel::sql_query("SELECT pg_try_advisory_lock($1) AS locked")
        .bind::<diesel::sql_types::BigInt, _>(key)
        .get_result(pg)?;
    Ok(row.locked)
}
