//! Portal sessions: the cookie holds a random token; the database holds only its SHA-256, so a
//! leaked database cannot be replayed as sessions. Signing out deletes the row.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use infobank_crypto::hashing::hex;
use infobank_crypto::{random, sha256};
use infobank_db::DbConnection;
use infobank_db::diesel::prelude::*;
use infobank_db::schema::{accounts, sessions};

use crate::{Account, AccountError, Role};

pub const SESSION_LIFETIME: Duration = Duration::hours(8);

pub struct Session {
    /// The cookie value. Shown to the browser once, never stored.
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

fn token_hash(token: &str) -> String {
    hex(&sha256(token.as_bytes()))
}

pub fn start_session(conn: &mut DbConnection, account_id: &str, now: DateTime<Utc>) -> Result<Session, AccountError> {
    diesel::delete(sessions::table.filter(sessions::expires_at.le(now.naive_utc()))).execute(conn)?;
    let token = random::token_string()?;
    let expires_at = now + SESSION_LIFETIME;
    diesel::insert_into(sessions::table)
        .values((
            sessions::token_hash.eq(token_hash(&token)),
            sessions::account_id.eq(account_id),
            sessions::created_at.eq(now.naive_utc()),
            sessions::expires_at.eq(expires_at.naive_utc()),
        ))
        .execute(conn)?;
    Ok(Session { token, expires_at })
}

/// The account behind a live session token, or `None` for an unknown or expired one.
pub fn find_session(conn: &mut DbConnection, token: &str, now: DateTime<Utc>) -> Result<Option<Account>, AccountError> {
    let row: Option<(String, String, NaiveDateTime)> = sessions::table
        .inner_join(accounts::table)
        .filter(sessions::token_hash.eq(token_hash(token)))
        .select((accounts::id, accounts::role, sessions::expires_at))
        .first(conn)
        .optional()?;
    Ok(row.and_then(|(id, role, expires_at)| {
        let live = expires_at.and_utc() > now;
        Role::parse(&role).filter(|_| live).map(|role| Account { id, role })
    }))
}

pub fn end_session(conn: &mut DbConnection, token: &str) -> Result<(), AccountError> {
    diesel::delete(sessions::table.filter(sessions::token_hash.eq(token_hash(token)))).execute(conn)?;
    Ok(())
}
