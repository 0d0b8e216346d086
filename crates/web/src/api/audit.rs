//! The audit log for regulators (and the signed tree head for everyone). Every read of entries
//! or proofs by a regulator is itself appended to the log before the answer goes out.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::{Data, Json, Query};
use base64::Engine as _;
use chrono::SecondsFormat;
use infobank_audit::checkpoint::{self, CheckpointStatus};
use infobank_audit::merkle::{self, Hash};
use infobank_audit::{AuditError, LeafStatus, SignedTreeHead, log, record_read, sth};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Authenticated, Regulator};
use crate::error::ApiError;
use crate::state::AppState;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A signed tree head; the signature covers the bytes described in docs/audit.md.
#[derive(Serialize, ToSchema)]
pub struct TreeHead {
    pub tree_size: u64,
    /// Standard base64 of the 32-byte root hash.
    pub root_hash: String,
    /// RFC 3339, millisecond precision (the signed value is milliseconds since the epoch).
    pub timestamp: String,
    pub signature: String,
    pub key_id: String,
}

impl From<&SignedTreeHead> for TreeHead {
    fn from(h: &SignedTreeHead) -> Self {
        Self {
            tree_size: h.tree_size,
            root_hash: b64(&h.root_hash),
            timestamp: h
                .timestamp()
                .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
                .unwrap_or_default(),
            signature: b64(&h.signature),
            key_id: h.key_id.clone(),
        }
    }
}

/// The current signed tree head (public).
#[utoipa::path(get, path = "/api/v1/audit/sth", tag = "audit", responses((status = 200, body = TreeHead)))]
pub async fn signed_tree_head(state: Data<AppState>) -> Result<Json<TreeHead>, ApiError> {
    let now = crate::clock::now();
    let signer = state.log_signer.clone();
    let head = state.db(move |conn, _| sth::current(conn, &signer, now)).await?;
    Ok(Json(TreeHead::from(&head)))
}

#[derive(Deserialize, IntoParams)]
pub struct EntriesQuery {
    /// First index (default 0).
    pub start: Option<u64>,
    /// End index, exclusive (default: start + 1000, capped at the tree size).
    pub end: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct EntryView {
    pub index: u64,
    /// The canonical JSON that was hashed: SHA-256(0x00 || leaf) is the leaf hash.
    pub leaf: String,
    pub leaf_hash: String,
    pub action: String,
    pub recorded_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct Entries {
    /// The tree size when the page was read.
    pub tree_size: u64,
    pub entries: Vec<EntryView>,
}

/// Leaves `start..end`, at most 1,000 per request.
#[utoipa::path(get, path = "/api/v1/audit/entries", tag = "audit", params(EntriesQuery), security(("regulator" = [])), responses(
    (status = 200, body = Entries),
    (status = 400, description = "invalid_range or beyond_tree_size", body = crate::error::Problem),
    (status = 401, body = crate::error::Problem),
    (status = 403, description = "wrong_role", body = crate::error::Problem),
))]
pub async fn entries(
    state: Data<AppState>,
    who: Authenticated<Regulator>,
    query: Query<EntriesQuery>,
) -> Result<Json<Entries>, ApiError> {
    let now = crate::clock::now();
    let (start, end) = (query.start.unwrap_or(0), query.end);
    let page = state
        .db(move |conn, _| {
            let size = log::tree_size(conn)?;
            let end = end.unwrap_or_else(|| start.saturating_add(log::MAX_PAGE).min(size));
            let entries = log::entries(conn, start, end)?;
            record_read(conn, &who.account_id, &format!("entries {start}..{end}"), now)?;
            Ok::<_, AuditError>(Entries {
                tree_size: size,
                entries: entries.into_iter().map(view).collect(),
            })
        })
        .await?;
    Ok(Json(page))
}

/// The log against the tables it speaks for (`infobank audit reconcile`): every disclosure, coin
/// entry, consent, company, account and vault record row has its leaf, and every such leaf its
/// row; the first mismatches are named. Reads everything in one snapshot: for a regulator's
/// check, not for polling.
#[utoipa::path(get, path = "/api/v1/audit/reconciliation", tag = "audit", security(("regulator" = [])), responses(
    (status = 200, description = "`{leaves, rows: {table: count}, mismatch_count, mismatches: [{table, id, problem}]}`", body = Object),
    (status = 401, body = crate::error::Problem),
    (status = 403, description = "wrong_role", body = crate::error::Problem),
))]
pub async fn reconciliation(state: Data<AppState>, who: Authenticated<Regulator>) -> Result<HttpResponse, ApiError> {
    let now = crate::clock::now();
    let outcome = state
        .db(move |conn, _| {
            let outcome = infobank_audit::reconcile::reconcile(conn)?;
            record_read(conn, &who.account_id, "reconciliation", now)?;
            Ok::<_, AuditError>(outcome)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(outcome))
}

/// The oversight dashboard in numbers, read from the log (integrated leaves) and the refusal
/// counters, never from personal data: totals and the last six months of consents granted,
/// paused, resumed, revoked and expired, disclosures and statistics runs; the same per company;
/// disclosures per purpose; refused disclosure attempts per reason (`quota_hits`: refusals for a
/// used-up daily quota). The read is itself logged.
#[utoipa::path(get, path = "/api/v1/audit/statistics", tag = "audit", security(("regulator" = [])), responses(
    (status = 200, description = "`{tree_size, totals: {action: n}, months: [{month, counts}], companies: [{company_id, legal_name, status, counts, refusals}], disclosures_by_purpose, refusals_by_reason, quota_hits}`", body = Object),
    (status = 401, body = crate::error::Problem),
    (status = 403, description = "wrong_role", body = crate::error::Problem),
))]
pub async fn statistics(state: Data<AppState>, who: Authenticated<Regulator>) -> Result<HttpResponse, ApiError> {
    let now = crate::clock::now();
    let report = state
        .db(move |conn, _| {
            let report = infobank_consent::oversight::report(conn, now, crate::evidence::DASHBOARD_MONTHS, None)?;
            record_read(conn, &who.account_id, "statistics", now)?;
            Ok::<_, ApiError>(report)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(report))
}

/// The evidence bundle (a tar: the log export, its signed head, the JWKS, the statistics and how
/// to verify them offline), as the regulator's portal offers it. The read is logged.
#[utoipa::path(get, path = "/api/v1/audit/evidence", tag = "audit", security(("regulator" = [])), responses(
    (status = 200, description = "application/x-tar: README.txt, log.jsonl, sth.json, jwks.json, statistics.json", content_type = "application/x-tar", body = Vec<u8>),
    (status = 401, body = crate::error::Problem),
    (status = 403, description = "wrong_role", body = crate::error::Problem),
))]
pub async fn evidence(state: Data<AppState>, who: Authenticated<Regulator>) -> Result<HttpResponse, ApiError> {
    evidence_response(&state, who.account_id).await
}

/// The bundle as a download (shared with the portal).
pub async fn evidence_response(state: &AppState, regulator_id: String) -> Result<HttpResponse, ApiError> {
    let now = crate::clock::now();
    let (log_signer, tokens) = (state.log_signer.clone(), state.tokens.clone());
    let (bytes, size) = state
        .db(move |conn, _| crate::evidence::bundle(conn, &log_signer, &tokens, &regulator_id, now))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Content-Type", "application/x-tar"))
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"infobank-evidence-{size}.tar\""),
        ))
        .body(bytes))
}

fn view(e: log::Entry) -> EntryView {
    EntryView {
        index: e.index,
        leaf: e.leaf,
        leaf_hash: b64(&e.leaf_hash),
        action: e.action,
        recorded_at: e.recorded_at.to_rfc3339_opts(SecondsFormat::Millis, true),
    }
}

#[derive(Deserialize, IntoParams)]
pub struct InclusionQuery {
    /// The leaf by index (with `tree_size`)...
    pub index: Option<u64>,
    /// ...or by its hash, as receipts, disclosures and coin entries name it (64 hex digits, or
    /// the standard base64 that `/entries` shows).
    pub leaf_hash: Option<String>,
    /// The tree the proof is for; with `leaf_hash`, the current signed head when left out.
    pub tree_size: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct InclusionProof {
    pub leaf_index: u64,
    pub tree_size: u64,
    pub leaf_hash: String,
    pub root_hash: String,
    pub proof: Vec<String>,
}

fn parse_leaf_hash(text: &str) -> Option<Hash> {
    merkle::from_hex(text).or_else(|| {
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
    })
}

/// Queued leaves are integrated within the merge delay: ask again in a second.
fn not_yet_integrated(detail: &str) -> ApiError {
    let mut e = ApiError::new(StatusCode::CONFLICT, "not_yet_integrated", "Not yet integrated").detail(detail);
    e.retry_after_secs = Some(1);
    e
}

/// Proof that a leaf (by `index`, or by `leaf_hash`) is in the tree of `tree_size` leaves.
#[utoipa::path(get, path = "/api/v1/audit/proof/inclusion", tag = "audit", params(InclusionQuery), security(("regulator" = [])), responses(
    (status = 200, body = InclusionProof),
    (status = 400, description = "beyond_tree_size or invalid_query", body = crate::error::Problem),
    (status = 404, description = "unknown_leaf: no leaf has this hash", body = crate::error::Problem),
    (status = 409, description = "not_yet_integrated: the leaf is queued, or not yet under a signed head; retry after Retry-After", body = crate::error::Problem),
))]
pub async fn inclusion(
    state: Data<AppState>,
    who: Authenticated<Regulator>,
    query: Query<InclusionQuery>,
) -> Result<Json<InclusionProof>, ApiError> {
    let now = crate::clock::now();
    let InclusionQuery {
        index,
        leaf_hash,
        tree_size,
    } = query.into_inner();
    let wanted = match (index, leaf_hash) {
        (Some(index), None) => Wanted::Index(index),
        (None, Some(text)) => Wanted::Hash(parse_leaf_hash(&text).ok_or_else(|| {
            ApiError::bad_request("invalid_query", "leaf_hash must be 64 hex digits or base64 of 32 bytes")
        })?),
        _ => {
            return Err(ApiError::bad_request(
                "invalid_query",
                "give exactly one of index and leaf_hash",
            ));
        }
    };
    let signer = state.log_signer.clone();
    let proof = state
        .db(move |conn, _| {
            let (index, tree_size) = match wanted {
                Wanted::Index(index) => (
                    index,
                    tree_size
                        .ok_or_else(|| ApiError::bad_request("invalid_query", "tree_size is required with index"))?,
                ),
                Wanted::Hash(hash) => {
                    let index = match log::leaf_status(conn, &hash)? {
                        LeafStatus::Integrated(index) => index,
                        LeafStatus::Queued => return Err(not_yet_integrated("the leaf is queued for the sequencer")),
                        LeafStatus::Unknown => {
                            return Err(ApiError::new(StatusCode::NOT_FOUND, "unknown_leaf", "Unknown leaf")
                                .detail("no leaf of the log has this hash"));
                        }
                    };
                    let size = match tree_size {
                        Some(size) => size,
                        None => sth::current(conn, &signer, now)?.tree_size,
                    };
                    if index >= size {
                        return Err(not_yet_integrated(&format!(
                            "the leaf is at index {index}, beyond the signed head of {size} leaves"
                        )));
                    }
                    (index, size)
                }
            };
            let proof = log::inclusion_proof(conn, index, tree_size)?;
            let root = log::root_at(conn, tree_size)?;
            let leaf = log::entries(conn, index, index + 1)?;
            let leaf_hash = leaf
                .first()
                .map(|e| e.leaf_hash)
                .ok_or_else(|| AuditError::Corrupt("leaf missing".into()))?;
            record_read(conn, &who.account_id, &format!("inclusion {index}@{tree_size}"), now)?;
            Ok::<_, ApiError>(InclusionProof {
                leaf_index: index,
                tree_size,
                leaf_hash: b64(&leaf_hash),
                root_hash: b64(&root),
                proof: proof.iter().map(|h| b64(h)).collect(),
            })
        })
        .await?;
    Ok(Json(proof))
}

enum Wanted {
    Index(u64),
    Hash(Hash),
}

#[derive(Deserialize, IntoParams)]
pub struct ConsistencyQuery {
    pub first: u64,
    pub second: u64,
}

#[derive(Serialize, ToSchema)]
pub struct ConsistencyProof {
    pub first: u64,
    pub second: u64,
    pub first_root: String,
    pub second_root: String,
    pub proof: Vec<String>,
}

/// Proof that the tree of `first` leaves is a prefix of the tree of `second` leaves.
#[utoipa::path(get, path = "/api/v1/audit/proof/consistency", tag = "audit", params(ConsistencyQuery), security(("regulator" = [])), responses(
    (status = 200, body = ConsistencyProof),
    (status = 400, description = "invalid_range (first > second, or first = 0) or beyond_tree_size", body = crate::error::Problem),
))]
pub async fn consistency(
    state: Data<AppState>,
    who: Authenticated<Regulator>,
    query: Query<ConsistencyQuery>,
) -> Result<Json<ConsistencyProof>, ApiError> {
    let now = crate::clock::now();
    let ConsistencyQuery { first, second } = query.into_inner();
    if first == 0 {
        return Err(ApiError::bad_request(
            "invalid_range",
            "first must be at least 1: the empty tree needs no proof",
        ));
    }
    let proof = state
        .db(move |conn, _| {
            let proof = log::consistency_proof(conn, first, second)?;
            let first_root = log::root_at(conn, first)?;
            let second_root = log::root_at(conn, second)?;
            record_read(conn, &who.account_id, &format!("consistency {first}..{second}"), now)?;
            Ok::<_, AuditError>(ConsistencyProof {
                first,
                second,
                first_root: b64(&first_root),
                second_root: b64(&second_root),
                proof: proof.iter().map(|h| b64(h)).collect(),
            })
        })
        .await?;
    Ok(Json(proof))
}

#[derive(Serialize, ToSchema)]
pub struct CheckpointView {
    /// `none`, `consistent` or `inconsistent`.
    pub status: &'static str,
    pub checkpoint_tree_size: Option<u64>,
    pub checkpoint_root_hash: Option<String>,
    pub acknowledged_at: Option<String>,
    pub current: TreeHead,
    pub reason: Option<String>,
}

pub fn checkpoint_view(status: &CheckpointStatus, current: &SignedTreeHead) -> CheckpointView {
    let (name, cp, reason) = match status {
        CheckpointStatus::NoCheckpoint => ("none", None, None),
        CheckpointStatus::Consistent { checkpoint, .. } => ("consistent", Some(checkpoint), None),
        CheckpointStatus::Inconsistent { checkpoint, reason } => {
            ("inconsistent", Some(checkpoint), Some(reason.clone()))
        }
    };
    CheckpointView {
        status: name,
        checkpoint_tree_size: cp.map(|c| c.tree_size),
        checkpoint_root_hash: cp.map(|c| b64(&c.root_hash)),
        acknowledged_at: cp.map(|c| c.acknowledged_at.to_rfc3339_opts(SecondsFormat::Millis, true)),
        current: TreeHead::from(current),
        reason,
    }
}

/// Whether today's signed head extends the one this regulator last acknowledged.
#[utoipa::path(get, path = "/api/v1/audit/checkpoint", tag = "audit", security(("regulator" = [])), responses((status = 200, body = CheckpointView)))]
pub async fn get_checkpoint(
    state: Data<AppState>,
    who: Authenticated<Regulator>,
) -> Result<Json<CheckpointView>, ApiError> {
    let now = crate::clock::now();
    let signer = state.log_signer.clone();
    let view = state
        .db(move |conn, _| {
            let head = sth::current(conn, &signer, now)?;
            let status = checkpoint::check(conn, &who.account_id, &head)?;
            Ok::<_, AuditError>(checkpoint_view(&status, &head))
        })
        .await?;
    Ok(Json(view))
}

/// Acknowledge the current signed head as seen (after checking it against the previous one).
#[utoipa::path(post, path = "/api/v1/audit/checkpoint", tag = "audit", security(("regulator" = [])), responses((status = 200, body = CheckpointView)))]
pub async fn acknowledge(
    state: Data<AppState>,
    who: Authenticated<Regulator>,
) -> Result<Json<CheckpointView>, ApiError> {
    let now = crate::clock::now();
    let signer = state.log_signer.clone();
    let view = state
        .db(move |conn, _| {
            let head = sth::current(conn, &signer, now)?;
            let after = checkpoint::acknowledge(conn, &who.account_id, &head, now)?;
            Ok::<_, AuditError>(checkpoint_view(&after, &head))
        })
        .await?;
    Ok(Json(view))
}
