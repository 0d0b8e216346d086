//! Signed tree heads (STH). The signature is Ed25519 over a fixed 64-byte encoding, documented in
//! docs/audit.md so that anyone can verify a head without our code:
//!
//! ```text
//! "INFOBANK-STH-V1\n"          16 bytes, ASCII
//! tree_size                     8 bytes, unsigned big-endian
//! timestamp (ms since epoch)    8 bytes, unsigned big-endian
//! root_hash                    32 bytes
//! ```

use chrono::{DateTime, Duration, Utc};
use infobank_crypto::{Ed25519Signer, verify_ed25519};
use infobank_db::DbConnection;
use infobank_db::diesel::prelude::*;
use infobank_db::diesel::result::{DatabaseErrorKind, Error as DieselError};
use infobank_db::schema::audit_tree_heads;

use crate::merkle::Hash;
use crate::{AuditError, log};

pub const STH_PREFIX: &[u8; 16] = b"INFOBANK-STH-V1\n";

/// A new head is signed at most this often under load (and on request when the tree grew).
pub const MIN_SIGNING_INTERVAL: Duration = Duration::seconds(1);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTreeHead {
    pub tree_size: u64,
    pub root_hash: Hash,
    pub timestamp_ms: u64,
    pub signature: Vec<u8>,
    pub key_id: String,
}

/// The exact bytes that are signed.
pub fn signed_bytes(tree_size: u64, timestamp_ms: u64, root_hash: &Hash) -> [u8; 64] {
    let mut out = [0u8; 64];
    out[..16].copy_from_slice(STH_PREFIX);
    out[16..24].copy_from_slice(&tree_size.to_be_bytes());
    out[24..32].copy_from_slice(&timestamp_ms.to_be_bytes());
    out[32..].copy_from_slice(root_hash);
    out
}

impl SignedTreeHead {
    pub fn verify(&self, public_key: &[u8]) -> bool {
        verify_ed25519(
            public_key,
            &signed_bytes(self.tree_size, self.timestamp_ms, &self.root_hash),
            &self.signature,
        )
    }

    pub fn timestamp(&self) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp_millis(i64::try_from(self.timestamp_ms).ok()?)
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = audit_tree_heads)]
struct HeadRow {
    tree_size: i64,
    root_hash: Vec<u8>,
    timestamp_ms: i64,
    signature: Vec<u8>,
    key_id: String,
}

fn from_row(row: HeadRow) -> Result<SignedTreeHead, AuditError> {
    Ok(SignedTreeHead {
        tree_size: u64::try_from(row.tree_size).map_err(|_| AuditError::Corrupt("negative tree size".into()))?,
        root_hash: row
            .root_hash
            .as_slice()
            .try_into()
            .map_err(|_| AuditError::Corrupt("stored root is not 32 bytes".into()))?,
        timestamp_ms: u64::try_from(row.timestamp_ms).map_err(|_| AuditError::Corrupt("negative timestamp".into()))?,
        signature: row.signature,
        key_id: row.key_id,
    })
}

/// The most recently signed head, if any.
pub fn latest(conn: &mut DbConnection) -> Result<Option<SignedTreeHead>, AuditError> {
    let row: Option<HeadRow> = audit_tree_heads::table
        .order(audit_tree_heads::tree_size.desc())
        .select(HeadRow::as_select())
        .first(conn)
        .optional()?;
    row.map(from_row).transpose()
}

/// The head signed for exactly `tree_size`, if one was.
pub fn at_size(conn: &mut DbConnection, tree_size: u64) -> Result<Option<SignedTreeHead>, AuditError> {
    let size = i64::try_from(tree_size).map_err(|_| AuditError::BadRange("tree size too large".into()))?;
    let row: Option<HeadRow> = audit_tree_heads::table
        .find(size)
        .select(HeadRow::as_select())
        .first(conn)
        .optional()?;
    row.map(from_row).transpose()
}

/// Signs a head for the current tree and stores it. Two signers racing on the same size both end
/// up returning the one stored first.
pub fn sign_current(
    conn: &mut DbConnection,
    signer: &Ed25519Signer,
    now: DateTime<Utc>,
) -> Result<SignedTreeHead, AuditError> {
    let tree_size = log::tree_size(conn)?;
    if let Some(existing) = at_size(conn, tree_size)? {
        return Ok(existing);
    }
    let root_hash = log::root_at(conn, tree_size)?;
    let timestamp_ms =
        u64::try_from(now.timestamp_millis()).map_err(|_| AuditError::Signing("time before 1970".into()))?;
    let signature = signer.sign(&signed_bytes(tree_size, timestamp_ms, &root_hash));
    let head = SignedTreeHead {
        tree_size,
        root_hash,
        timestamp_ms,
        signature,
        key_id: signer.key_id().to_owned(),
    };
    let size = i64::try_from(tree_size).map_err(|_| AuditError::Signing("size".into()))?;
    let insert = |conn: &mut DbConnection| {
        diesel::insert_into(audit_tree_heads::table)
            .values((
                audit_tree_heads::tree_size.eq(size),
                audit_tree_heads::root_hash.eq(head.root_hash.as_slice()),
                audit_tree_heads::timestamp_ms.eq(now.timestamp_millis()),
                audit_tree_heads::signature.eq(&head.signature),
                audit_tree_heads::key_id.eq(&head.key_id),
            ))
            .execute(conn)
    };
    // As a write transaction of its own when it is not part of one, so that on SQLite it joins
    // the server's group commit instead of waiting for the write lock in the busy handler.
    let inserted = if infobank_db::in_transaction(conn) {
        insert(conn)
    } else {
        infobank_db::write_transaction(conn, insert)
    };
    match inserted {
        Ok(_) => Ok(head),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            at_size(conn, tree_size)?.ok_or_else(|| AuditError::Corrupt("tree head vanished".into()))
        }
        Err(e) => Err(e.into()),
    }
}

/// The head to publish now: the latest one, unless the tree has grown and the latest is older
/// than [`MIN_SIGNING_INTERVAL`], in which case a new one is signed.
pub fn current(
    conn: &mut DbConnection,
    signer: &Ed25519Signer,
    now: DateTime<Utc>,
) -> Result<SignedTreeHead, AuditError> {
    current_within(conn, signer, now, MIN_SIGNING_INTERVAL)
}

/// [`current`] with another signing interval (the sequencer signs at half the merge delay, so
/// that an integrated leaf is under a signed head within the merge delay).
pub fn current_within(
    conn: &mut DbConnection,
    signer: &Ed25519Signer,
    now: DateTime<Utc>,
    interval: Duration,
) -> Result<SignedTreeHead, AuditError> {
    let size = log::tree_size(conn)?;
    match latest(conn)? {
        Some(head) if head.tree_size == size => Ok(head),
        Some(head) if head.timestamp().is_some_and(|t| now - t < interval) => Ok(head),
        _ => sign_current(conn, signer, now),
    }
}
