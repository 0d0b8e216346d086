//! infobank-audit: the tamper-evident log of every consent, disclosure, vault write and account
//! change, in the style of Certificate Transparency (RFC 6962 / RFC 9162).
//!
//! - [`merkle`]: the pure tree math and proof verification (no I/O);
//! - [`log`]: the persistent log: `append` queues a leaf inside the caller's transaction; roots
//!   and proofs from stored subtree hashes;
//! - [`sequencer`]: integrates queued leaves into the tree in batches, with consecutive indices;
//! - [`frontier`]: the tree's right border, to integrate batches of leaves without reading nodes;
//! - [`sth`]: signed tree heads; [`checkpoint`]: what each regulator last acknowledged;
//! - [`reconcile`]: the log against the tables it speaks for, both ways;
//! - [`verifier`]: checking the documents the bank serves (heads, entries, proofs), no I/O.

pub mod canonical;
pub mod checkpoint;
mod error;
mod event;
pub mod export;
pub mod frontier;
pub mod log;
pub mod merkle;
pub mod reconcile;
pub mod sequencer;
pub mod sth;
pub mod verifier;

use chrono::{DateTime, Utc};
use infobank_db::{DbConnection, write_transaction};

pub use error::AuditError;
pub use event::{Action, Actor, AuditEvent};
pub use log::{Entry, Filter, LeafStatus, PreparedLeaf, append};
pub use merkle::Hash;
pub use sth::SignedTreeHead;

/// Records a regulator's read of the log, in a transaction of its own (reads change nothing else).
pub fn record_read(
    conn: &mut DbConnection,
    regulator_id: &str,
    what: &str,
    now: DateTime<Utc>,
) -> Result<Hash, AuditError> {
    let event = AuditEvent::new(Action::AuditRead, Actor::new("regulator", regulator_id)).object("read", what);
    write_transaction(conn, |conn| append(conn, &event, now))
}
