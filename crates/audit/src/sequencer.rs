//! The sequencer: moves queued leaves into the tree, in batches, as Certificate Transparency
//! logs, Trillian and Tessera do. A domain write only queues its leaf ([`crate::log::append`]);
//! here a batch of queued leaves gets consecutive indices, the leaves and the subtrees they
//! complete are stored, the queue rows are deleted and the head moves once, all in one
//! transaction. Nothing is lost across a crash: a queued leaf stays queued until the transaction
//! that integrates it commits.
//!
//! Concurrency. A batch first takes the head row (`UPDATE audit_head`: a row lock on PostgreSQL,
//! the write lock on SQLite), so two sequencers that race integrate one after the other and no
//! index is repeated or skipped. Queue rows are claimed `FOR UPDATE SKIP LOCKED` on PostgreSQL;
//! a row whose writer commits after a batch read the queue is simply in the next batch. Which
//! node sequences is decided by the caller (infobank-web holds a PostgreSQL advisory lock); this
//! module is correct without it, only slower when two run at once.

use chrono::{DateTime, NaiveDateTime, Utc};
use infobank_db::diesel::prelude::*;
use infobank_db::diesel::sql_types::{BigInt, Binary, Nullable, Text, Timestamp};
use infobank_db::schema::{audit_head, audit_leaves, audit_nodes, audit_queue};
use infobank_db::{Backend, DbConnection, write_transaction};

use crate::AuditError;
use crate::frontier::Frontier;
use crate::log::{self, HeadRow, node_key, to_i64};
use crate::merkle::Hash;

/// Runs a statement on the backend's own connection: diesel's multi-row `INSERT` is not
/// available through `MultiConnection`, only on each backend.
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            DbConnection::Sqlite($c) => $body,
            DbConnection::Postgres($c) => $body,
        }
    };
}

/// A batch takes at most this many leaves by default.
pub const DEFAULT_MAX_BATCH: usize = 4096;

/// Rows per multi-row `INSERT`, well under SQLite's limit of bound parameters (32,766).
const INSERT_CHUNK: usize = 1000;

/// What one batch did: leaves `first..size` were integrated (none when equal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batch {
    pub first: u64,
    pub size: u64,
    /// When the oldest leaf of the batch was queued.
    pub oldest: Option<DateTime<Utc>>,
}

impl Batch {
    pub fn len(&self) -> u64 {
        self.size - self.first
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Integrates batches, keeping the tree's right border in memory between them.
#[derive(Debug)]
pub struct Sequencer {
    frontier: Option<Frontier>,
    max_batch: usize,
}

impl Default for Sequencer {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_BATCH)
    }
}

#[derive(QueryableByName)]
struct QueuedRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Timestamp)]
    recorded_at: NaiveDateTime,
    #[diesel(sql_type = Text)]
    action: String,
    #[diesel(sql_type = Text)]
    actor_role: String,
    #[diesel(sql_type = Nullable<Text>)]
    company_id: Option<String>,
    #[diesel(sql_type = Text)]
    leaf: String,
    #[diesel(sql_type = Binary)]
    leaf_hash: Vec<u8>,
}

impl Sequencer {
    pub fn new(max_batch: usize) -> Self {
        Self {
            frontier: None,
            max_batch: max_batch.max(1),
        }
    }

    /// Integrates up to `max_batch` queued leaves in one transaction.
    pub fn integrate(&mut self, conn: &mut DbConnection) -> Result<Batch, AuditError> {
        // An idle log costs one indexed read per poll, not a write transaction and its fsync.
        let waiting: Option<i64> = audit_queue::table.select(audit_queue::id).first(conn).optional()?;
        if waiting.is_none() {
            let size = log::tree_size(conn)?;
            return Ok(Batch {
                first: size,
                size,
                oldest: None,
            });
        }
        let result = write_transaction(conn, |conn| self.integrate_in(conn));
        if result.is_err() {
            // The border may have moved past what was rolled back: read it again next time.
            self.frontier = None;
        }
        result
    }

    /// Integrates until the queue is empty (as the server does at start, after a crash).
    pub fn drain(&mut self, conn: &mut DbConnection) -> Result<u64, AuditError> {
        loop {
            let batch = self.integrate(conn)?;
            if batch.len() < self.max_batch as u64 {
                return Ok(batch.size);
            }
        }
    }

    fn integrate_in(&mut self, conn: &mut DbConnection) -> Result<Batch, AuditError> {
        let size = lock_head(conn)?;
        let queued = claim(conn, self.max_batch)?;
        if queued.is_empty() {
            return Ok(Batch {
                first: size,
                size,
                oldest: None,
            });
        }
        let frontier = match self.frontier.take() {
            Some(f) if f.size() == size => f,
            // First batch, or another sequencer moved the tree: start from the stored nodes.
            _ => Frontier::from_border(size, &log::border(conn, size)?)
                .map_err(|e| AuditError::Corrupt(e.to_string()))?,
        };
        let mut frontier = frontier;

        let mut leaves = Vec::with_capacity(queued.len());
        let mut nodes = Vec::with_capacity(queued.len() * 2);
        let mut ids = Vec::with_capacity(queued.len());
        for row in &queued {
            let hash: Hash = row.leaf_hash.as_slice().try_into().map_err(|_| {
                AuditError::Corrupt(format!(
                    "queued leaf {} has a hash of {} bytes",
                    row.id,
                    row.leaf_hash.len()
                ))
            })?;
            let index = to_i64(frontier.size())?;
            for (id, node) in frontier.push(hash) {
                let (last_leaf, level) = node_key(id)?;
                nodes.push((
                    audit_nodes::last_leaf.eq(last_leaf),
                    audit_nodes::level.eq(level),
                    audit_nodes::hash.eq(node.to_vec()),
                ));
            }
            leaves.push((
                audit_leaves::idx.eq(index),
                audit_leaves::recorded_at.eq(row.recorded_at),
                audit_leaves::action.eq(row.action.as_str()),
                audit_leaves::actor_role.eq(row.actor_role.as_str()),
                audit_leaves::company_id.eq(row.company_id.as_deref()),
                audit_leaves::leaf.eq(row.leaf.as_str()),
                audit_leaves::leaf_hash.eq(row.leaf_hash.as_slice()),
            ));
            ids.push(row.id);
        }
        for chunk in leaves.chunks(INSERT_CHUNK) {
            on_backend!(conn, |c| diesel::insert_into(audit_leaves::table)
                .values(chunk)
                .execute(c))?;
        }
        for chunk in nodes.chunks(INSERT_CHUNK) {
            on_backend!(conn, |c| diesel::insert_into(audit_nodes::table)
                .values(chunk)
                .execute(c))?;
        }
        let deleted = diesel::delete(audit_queue::table.filter(audit_queue::id.eq_any(&ids))).execute(conn)?;
        if deleted != ids.len() {
            return Err(AuditError::Corrupt(format!(
                "claimed {} queued leaves but deleted {deleted}",
                ids.len()
            )));
        }
        let new_size = frontier.size();
        diesel::update(audit_head::table.find(1))
            .set(audit_head::tree_size.eq(to_i64(new_size)?))
            .execute(conn)?;
        let oldest = queued.iter().map(|r| r.recorded_at).min().map(|t| t.and_utc());
        self.frontier = Some(frontier);
        Ok(Batch {
            first: size,
            size: new_size,
            oldest,
        })
    }
}

/// Takes the head row until the transaction ends and returns the tree size.
fn lock_head(conn: &mut DbConnection) -> Result<u64, AuditError> {
    let size = diesel::sql_query("UPDATE audit_head SET tree_size = tree_size WHERE id = 1 RETURNING tree_size")
        .get_result::<HeadRow>(conn)?
        .tree_size;
    log::to_u64(size)
}

/// The oldest queued leaves, locked for this transaction (PostgreSQL skips rows another
/// sequencer holds; SQLite has one writer at a time anyway).
fn claim(conn: &mut DbConnection, max_batch: usize) -> Result<Vec<QueuedRow>, AuditError> {
    let lock = match conn.backend() {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        "SELECT id, recorded_at, action, actor_role, company_id, leaf, leaf_hash FROM audit_queue \
         ORDER BY id LIMIT {max_batch}{lock}"
    );
    Ok(diesel::sql_query(sql).load::<QueuedRow>(conn)?)
}

/// Integrates everything queued, with a sequencer of its own: for the CLI, tests and start-up.
pub fn integrate_all(conn: &mut DbConnection) -> Result<u64, AuditError> {
    Sequencer::default().drain(conn)
}
