//! The last tree head each regulator acknowledged. The portal proves that today's head extends
//! it (a consistency proof, verified here exactly as a regulator's own tool would).

use chrono::{DateTime, NaiveDateTime, Utc};
use infobank_db::diesel::prelude::*;
use infobank_db::schema::regulator_checkpoints;
use infobank_db::{DbConnection, write_transaction};

use crate::merkle::{self, Hash};
use crate::sth::SignedTreeHead;
use crate::{AuditError, log};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub tree_size: u64,
    pub root_hash: Hash,
    pub acknowledged_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckpointStatus {
    /// This regulator never acknowledged a head.
    NoCheckpoint,
    /// The current head extends the acknowledged one; `proof_len` hashes were checked.
    Consistent { checkpoint: Checkpoint, proof_len: usize },
    /// The log was rewritten since the acknowledged head.
    Inconsistent { checkpoint: Checkpoint, reason: String },
}

pub fn checkpoint(conn: &mut DbConnection, regulator_id: &str) -> Result<Option<Checkpoint>, AuditError> {
    let row: Option<(i64, Vec<u8>, NaiveDateTime)> = regulator_checkpoints::table
        .find(regulator_id)
        .select((
            regulator_checkpoints::tree_size,
            regulator_checkpoints::root_hash,
            regulator_checkpoints::acknowledged_at,
        ))
        .first(conn)
        .optional()?;
    row.map(|(size, root, at)| {
        Ok(Checkpoint {
            tree_size: u64::try_from(size).map_err(|_| AuditError::Corrupt("negative checkpoint".into()))?,
            root_hash: root
                .as_slice()
                .try_into()
                .map_err(|_| AuditError::Corrupt("checkpoint root length".into()))?,
            acknowledged_at: at.and_utc(),
        })
    })
    .transpose()
}

/// Records `head` as the one this regulator has now seen, and returns how `head` stands against
/// the checkpoint afterwards. A checkpoint never moves past a rewrite: when `head` is inconsistent
/// with the current checkpoint, nothing is recorded and the inconsistency is returned, so the
/// regulator keeps seeing it.
pub fn acknowledge(
    conn: &mut DbConnection,
    regulator_id: &str,
    head: &SignedTreeHead,
    now: DateTime<Utc>,
) -> Result<CheckpointStatus, AuditError> {
    let before = check(conn, regulator_id, head)?;
    if matches!(before, CheckpointStatus::Inconsistent { .. }) {
        return Ok(before);
    }
    let size = i64::try_from(head.tree_size).map_err(|_| AuditError::BadRange("tree size".into()))?;
    write_transaction(conn, |conn| {
        diesel::delete(regulator_checkpoints::table.find(regulator_id)).execute(conn)?;
        diesel::insert_into(regulator_checkpoints::table)
            .values((
                regulator_checkpoints::account_id.eq(regulator_id),
                regulator_checkpoints::tree_size.eq(size),
                regulator_checkpoints::root_hash.eq(head.root_hash.as_slice()),
                regulator_checkpoints::acknowledged_at.eq(now.naive_utc()),
            ))
            .execute(conn)?;
        Ok::<_, AuditError>(())
    })?;
    check(conn, regulator_id, head)
}

/// Whether `head` is consistent with this regulator's checkpoint.
pub fn check(
    conn: &mut DbConnection,
    regulator_id: &str,
    head: &SignedTreeHead,
) -> Result<CheckpointStatus, AuditError> {
    let Some(checkpoint) = checkpoint(conn, regulator_id)? else {
        return Ok(CheckpointStatus::NoCheckpoint);
    };
    if checkpoint.tree_size > head.tree_size {
        let reason = format!(
            "the log shrank from {} to {} leaves",
            checkpoint.tree_size, head.tree_size
        );
        return Ok(CheckpointStatus::Inconsistent { checkpoint, reason });
    }
    // The empty tree is a prefix of every tree; RFC 9162 has no proof for it.
    if checkpoint.tree_size == 0 {
        return Ok(if checkpoint.root_hash == merkle::empty_root() {
            CheckpointStatus::Consistent {
                checkpoint,
                proof_len: 0,
            }
        } else {
            CheckpointStatus::Inconsistent {
                checkpoint,
                reason: "the empty tree's root is wrong".into(),
            }
        });
    }
    let proof: Vec<Vec<u8>> = log::consistency_proof(conn, checkpoint.tree_size, head.tree_size)?
        .iter()
        .map(|h| h.to_vec())
        .collect();
    Ok(
        match merkle::verify_consistency(
            checkpoint.tree_size,
            head.tree_size,
            &checkpoint.root_hash,
            &head.root_hash,
            &proof,
        ) {
            Ok(()) => CheckpointStatus::Consistent {
                checkpoint,
                proof_len: proof.len(),
            },
            Err(e) => CheckpointStatus::Inconsistent {
                checkpoint,
                reason: e.to_string(),
            },
        },
    )
}
