//! KEK rotation: data keys are re-wrapped under a new key-encryption key in small batches, each
//! its own transaction, so a rotation can run while the server serves and can be interrupted and
//! resumed at any point. Records are never re-encrypted: their data keys do not change.

use infobank_crypto::KeyRing;
use infobank_db::diesel::dsl::count_star;
use infobank_db::diesel::prelude::*;
use infobank_db::schema::accounts;
use infobank_db::{DbConnection, write_transaction};

use crate::AccountError;

fn version(v: u32) -> Result<i32, AccountError> {
    i32::try_from(v).map_err(|_| AccountError::NoKek)
}

/// How many data keys are wrapped with each KEK version, lowest version first.
pub fn keys_per_version(conn: &mut DbConnection) -> Result<Vec<(u32, i64)>, AccountError> {
    let rows: Vec<(i32, i64)> = accounts::table
        .group_by(accounts::kek_version)
        .select((accounts::kek_version, count_star()))
        .order(accounts::kek_version.asc())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(v, n)| u32::try_from(v).ok().map(|v| (v, n)))
        .collect())
}

/// How many data keys are still wrapped with a KEK older than `target`.
pub fn keys_to_rewrap(conn: &mut DbConnection, target: u32) -> Result<i64, AccountError> {
    Ok(accounts::table
        .filter(accounts::kek_version.lt(version(target)?))
        .count()
        .get_result(conn)?)
}

/// Re-wraps up to `batch` data keys under KEK `target`; returns how many it did (0 when done).
pub fn rewrap_batch(conn: &mut DbConnection, keys: &KeyRing, target: u32, batch: i64) -> Result<usize, AccountError> {
    let new_kek = keys.kek(target).ok_or(AccountError::NoKek)?;
    let target = version(target)?;
    write_transaction(conn, |conn| {
        let rows: Vec<(String, Vec<u8>, i32)> = accounts::table
            .filter(accounts::kek_version.lt(target))
            .select((accounts::id, accounts::dek_wrapped, accounts::kek_version))
            .order(accounts::id.asc())
            .limit(batch)
            .load(conn)?;
        for (id, wrapped, old) in &rows {
            let old_kek = u32::try_from(*old)
                .ok()
                .and_then(|v| keys.kek(v))
                .ok_or(AccountError::NoKek)?;
            let dek = old_kek.unwrap_key(id, wrapped)?;
            let rewrapped = new_kek.wrap(id, &dek)?;
            // Only if nobody re-wrapped it meanwhile (two rotations at once stay correct).
            diesel::update(
                accounts::table
                    .filter(accounts::id.eq(id))
                    .filter(accounts::kek_version.eq(old)),
            )
            .set((accounts::dek_wrapped.eq(&rewrapped), accounts::kek_version.eq(target)))
            .execute(conn)?;
        }
        Ok(rows.len())
    })
}
