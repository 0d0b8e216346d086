//! The persistent log. Leaves and the hashes of all complete subtrees live in the database, so
//! the root of any size and any proof need O(log n) stored hashes, fetched in one query. Writers
//! only queue leaves ([`append`]); [`crate::sequencer`] integrates them.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, SubsecRound as _, Utc};
use infobank_db::DbConnection;
use infobank_db::diesel::prelude::*;
use infobank_db::schema::{audit_head, audit_leaves, audit_nodes, audit_queue};

use crate::canonical::to_canonical_json;
use crate::merkle::{self, Hash, NodeId};
use crate::{AuditError, AuditEvent};

pub(crate) fn to_i64(v: u64) -> Result<i64, AuditError> {
    i64::try_from(v).map_err(|_| AuditError::BadRange(format!("{v} is too large")))
}

pub(crate) fn to_u64(v: i64) -> Result<u64, AuditError> {
    u64::try_from(v).map_err(|_| AuditError::Corrupt(format!("negative index {v}")))
}

fn to_hash(bytes: &[u8]) -> Result<Hash, AuditError> {
    bytes
        .try_into()
        .map_err(|_| AuditError::Corrupt(format!("stored hash of {} bytes", bytes.len())))
}

/// Queues `event` as a leaf and returns its leaf hash, the name by which every row that refers
/// to the event keeps it. Runs inside the caller's transaction (and refuses to run outside one):
/// the leaf commits with the caller's change or not at all. It takes no lock that another write
/// waits for; the [`crate::sequencer`] gives the leaf its index later, in a batch.
pub fn append(conn: &mut DbConnection, event: &AuditEvent, now: DateTime<Utc>) -> Result<Hash, AuditError> {
    queue(conn, &PreparedLeaf::new(event, now)?)
}

/// A leaf built and hashed ahead of its transaction: the CPU part of [`append`], for writers
/// that keep their write transaction to the writes (a disclosure prepares its leaf while it
/// decrypts, before it joins SQLite's group commit or takes its row locks).
#[derive(Debug, Clone)]
pub struct PreparedLeaf {
    at: DateTime<Utc>,
    action: &'static str,
    actor_role: String,
    company_id: Option<String>,
    leaf: String,
    hash: Hash,
}

impl PreparedLeaf {
    pub fn new(event: &AuditEvent, now: DateTime<Utc>) -> Result<Self, AuditError> {
        // Millisecond precision: the leaf's time and the stored column say the same thing.
        let at = now.trunc_subsecs(3);
        let leaf = to_canonical_json(&event.to_leaf(&nonce()?, at))?;
        Ok(Self {
            at,
            action: event.action.as_str(),
            actor_role: event.actor.role.clone(),
            company_id: event.company_id.clone(),
            hash: merkle::leaf_hash(leaf.as_bytes()),
            leaf,
        })
    }

    /// The leaf hash, known before the leaf is queued.
    pub fn hash(&self) -> Hash {
        self.hash
    }
}

/// Queues a prepared leaf, inside the caller's transaction (see [`append`]).
pub fn queue(conn: &mut DbConnection, prepared: &PreparedLeaf) -> Result<Hash, AuditError> {
    if !infobank_db::in_transaction(conn) {
        return Err(AuditError::NotInTransaction);
    }
    diesel::insert_into(audit_queue::table)
        .values((
            audit_queue::recorded_at.eq(prepared.at.naive_utc()),
            audit_queue::action.eq(prepared.action),
            audit_queue::actor_role.eq(&prepared.actor_role),
            audit_queue::company_id.eq(prepared.company_id.as_deref()),
            audit_queue::leaf.eq(&prepared.leaf),
            audit_queue::leaf_hash.eq(prepared.hash.as_slice()),
        ))
        .execute(conn)?;
    Ok(prepared.hash)
}

/// 128 random bits, hex.
fn nonce() -> Result<String, AuditError> {
    let mut bytes = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| AuditError::Signing("no randomness for a leaf nonce".into()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Where a leaf stands, by its hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeafStatus {
    /// Sequenced at this index.
    Integrated(u64),
    /// Committed, waiting for the sequencer.
    Queued,
    /// No such leaf.
    Unknown,
}

pub fn leaf_status(conn: &mut DbConnection, leaf_hash: &Hash) -> Result<LeafStatus, AuditError> {
    let index: Option<i64> = audit_leaves::table
        .filter(audit_leaves::leaf_hash.eq(leaf_hash.as_slice()))
        .select(audit_leaves::idx)
        .first(conn)
        .optional()?;
    if let Some(index) = index {
        return Ok(LeafStatus::Integrated(to_u64(index)?));
    }
    let queued: Option<i64> = audit_queue::table
        .filter(audit_queue::leaf_hash.eq(leaf_hash.as_slice()))
        .select(audit_queue::id)
        .first(conn)
        .optional()?;
    Ok(if queued.is_some() {
        LeafStatus::Queued
    } else {
        LeafStatus::Unknown
    })
}

/// How many leaves wait for the sequencer, and since when the oldest has waited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueState {
    pub depth: u64,
    pub oldest: Option<DateTime<Utc>>,
}

pub fn queue_state(conn: &mut DbConnection) -> Result<QueueState, AuditError> {
    use infobank_db::diesel::dsl::{count_star, min};
    let (depth, oldest): (i64, Option<NaiveDateTime>) = audit_queue::table
        .select((count_star(), min(audit_queue::recorded_at)))
        .first(conn)?;
    Ok(QueueState {
        depth: to_u64(depth)?,
        oldest: oldest.map(|t| t.and_utc()),
    })
}

#[derive(QueryableByName)]
pub(crate) struct HeadRow {
    #[diesel(sql_type = infobank_db::diesel::sql_types::BigInt)]
    pub(crate) tree_size: i64,
}

/// The storage key of a complete subtree: the index of its last leaf, and its level.
pub(crate) fn node_key(id: NodeId) -> Result<(i64, i32), AuditError> {
    let last_leaf = ((id.index + 1) << id.level) - 1;
    Ok((to_i64(last_leaf)?, i32::from(id.level)))
}

fn node_id(last_leaf: i64, level: i32) -> Result<NodeId, AuditError> {
    let level = u8::try_from(level).map_err(|_| AuditError::Corrupt(format!("level {level}")))?;
    let last_leaf = to_u64(last_leaf)?;
    Ok(NodeId {
        level,
        index: ((last_leaf + 1) >> level) - 1,
    })
}

/// The hashes of the tree's right border at `size` (what a [`crate::frontier::Frontier`] starts
/// from), in one query.
pub(crate) fn border(conn: &mut DbConnection, size: u64) -> Result<Vec<Hash>, AuditError> {
    let ids = merkle::range_nodes(0, size);
    let found = fetch_nodes(conn, &ids)?;
    ids.iter()
        .map(|id| {
            found
                .get(id)
                .copied()
                .ok_or_else(|| AuditError::Corrupt(format!("missing node {}/{}", id.level, id.index)))
        })
        .collect()
}

/// Looks up complete subtrees in one query (a small superset is read and filtered here).
fn fetch_nodes(conn: &mut DbConnection, ids: &[NodeId]) -> Result<HashMap<NodeId, Hash>, AuditError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let keys: Vec<(i64, i32)> = ids.iter().map(|id| node_key(*id)).collect::<Result<_, _>>()?;
    let mut last_leaves: Vec<i64> = keys.iter().map(|k| k.0).collect();
    last_leaves.sort_unstable();
    last_leaves.dedup();
    let rows: Vec<(i64, i32, Vec<u8>)> = audit_nodes::table
        .filter(audit_nodes::last_leaf.eq_any(last_leaves))
        .select((audit_nodes::last_leaf, audit_nodes::level, audit_nodes::hash))
        .load(conn)?;
    let mut out = HashMap::with_capacity(ids.len());
    for (last_leaf, level, hash) in rows {
        let id = node_id(last_leaf, level)?;
        if ids.contains(&id) {
            out.insert(id, to_hash(&hash)?);
        }
    }
    Ok(out)
}

/// The hashes of several leaf ranges, with one database query for all of them.
fn range_hashes(conn: &mut DbConnection, ranges: &[(u64, u64)]) -> Result<Vec<Hash>, AuditError> {
    let per_range: Vec<Vec<NodeId>> = ranges.iter().map(|&(s, e)| merkle::range_nodes(s, e)).collect();
    let all: Vec<NodeId> = per_range.iter().flatten().copied().collect();
    let found = fetch_nodes(conn, &all)?;
    per_range
        .iter()
        .map(|ids| {
            let hashes: Vec<Hash> = ids
                .iter()
                .map(|id| {
                    found
                        .get(id)
                        .copied()
                        .ok_or_else(|| AuditError::Corrupt(format!("missing node {}/{}", id.level, id.index)))
                })
                .collect::<Result<_, _>>()?;
            merkle::fold_range(&hashes).ok_or_else(|| AuditError::Corrupt("empty range".into()))
        })
        .collect()
}

/// The number of committed leaves.
pub fn tree_size(conn: &mut DbConnection) -> Result<u64, AuditError> {
    let size: i64 = audit_head::table.find(1).select(audit_head::tree_size).first(conn)?;
    to_u64(size)
}

fn check_size(conn: &mut DbConnection, what: &'static str, size: u64) -> Result<(), AuditError> {
    let current = tree_size(conn)?;
    if size > current {
        Err(AuditError::OutOfRange {
            what,
            value: size,
            size: current,
        })
    } else {
        Ok(())
    }
}

/// The root hash of the first `size` leaves.
pub fn root_at(conn: &mut DbConnection, size: u64) -> Result<Hash, AuditError> {
    check_size(conn, "tree size", size)?;
    if size == 0 {
        return Ok(merkle::empty_root());
    }
    Ok(range_hashes(conn, &[(0, size)])?.remove(0))
}

pub fn inclusion_proof(conn: &mut DbConnection, index: u64, size: u64) -> Result<Vec<Hash>, AuditError> {
    check_size(conn, "tree size", size)?;
    if index >= size {
        return Err(AuditError::OutOfRange {
            what: "leaf index",
            value: index,
            size,
        });
    }
    range_hashes(conn, &merkle::inclusion_ranges(index, size))
}

pub fn consistency_proof(conn: &mut DbConnection, first: u64, second: u64) -> Result<Vec<Hash>, AuditError> {
    if first > second {
        return Err(AuditError::BadRange(format!(
            "first ({first}) is larger than second ({second})"
        )));
    }
    check_size(conn, "tree size", second)?;
    if first == 0 || first == second {
        return Ok(Vec::new());
    }
    range_hashes(conn, &merkle::consistency_ranges(first, second))
}

/// One leaf as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub index: u64,
    pub recorded_at: DateTime<Utc>,
    pub action: String,
    pub actor_role: String,
    pub company_id: Option<String>,
    /// The canonical JSON that was hashed.
    pub leaf: String,
    pub leaf_hash: Hash,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = audit_leaves)]
struct EntryRow {
    idx: i64,
    recorded_at: NaiveDateTime,
    action: String,
    actor_role: String,
    company_id: Option<String>,
    leaf: String,
    leaf_hash: Vec<u8>,
}

fn to_entry(row: EntryRow) -> Result<Entry, AuditError> {
    Ok(Entry {
        index: to_u64(row.idx)?,
        recorded_at: row.recorded_at.and_utc(),
        action: row.action,
        actor_role: row.actor_role,
        company_id: row.company_id,
        leaf: row.leaf,
        leaf_hash: to_hash(&row.leaf_hash)?,
    })
}

/// At most this many entries per page.
pub const MAX_PAGE: u64 = 1000;

/// Leaves `start..end` (end exclusive), at most [`MAX_PAGE`] of them.
pub fn entries(conn: &mut DbConnection, start: u64, end: u64) -> Result<Vec<Entry>, AuditError> {
    if start > end {
        return Err(AuditError::BadRange(format!("start ({start}) is after end ({end})")));
    }
    if end - start > MAX_PAGE {
        return Err(AuditError::BadRange(format!("at most {MAX_PAGE} entries per request")));
    }
    check_size(conn, "end", end)?;
    let rows: Vec<EntryRow> = audit_leaves::table
        .filter(audit_leaves::idx.ge(to_i64(start)?))
        .filter(audit_leaves::idx.lt(to_i64(end)?))
        .order(audit_leaves::idx.asc())
        .select(EntryRow::as_select())
        .load(conn)?;
    rows.into_iter().map(to_entry).collect()
}

/// What the regulator's log browser filters by.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub action: Option<String>,
    pub company_id: Option<String>,
}

/// Newest first: the entries below index `before` (all when `None`) matching `filter`.
pub fn browse(
    conn: &mut DbConnection,
    filter: &Filter,
    before: Option<u64>,
    limit: u64,
) -> Result<Vec<Entry>, AuditError> {
    let mut query = audit_leaves::table
        .select(EntryRow::as_select())
        .order(audit_leaves::idx.desc())
        .limit(to_i64(limit.min(MAX_PAGE))?)
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(audit_leaves::idx.lt(to_i64(before)?));
    }
    if let Some(action) = &filter.action {
        query = query.filter(audit_leaves::action.eq(action.clone()));
    }
    if let Some(company) = &filter.company_id {
        query = query.filter(audit_leaves::company_id.eq(company.clone()));
    }
    let rows: Vec<EntryRow> = query.load(conn)?;
    rows.into_iter().map(to_entry).collect()
}
