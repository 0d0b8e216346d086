//! The regulator's evidence bundle: one tar file to keep and check without the bank.
//!
//! - `log.jsonl`: every entry of the log up to the signed head (`infobank audit export`'s format);
//! - `sth.json`: that signed tree head, with the log key;
//! - `jwks.json`: the bank's published keys (token, receipt and log keys);
//! - `statistics.json`: the dashboard's counts over the same entries;
//! - `README.txt`: how to verify it offline.
//!
//! The bundle is built in memory: it is meant for logs of up to a few million entries; beyond
//! that `infobank audit export` streams to a file.

use chrono::{DateTime, Utc};
use infobank_audit::verifier::HeadDoc;
use infobank_crypto::TokenSigner;
use infobank_crypto::signing::Ed25519Signer;
use infobank_db::DbConnection;

use crate::error::ApiError;

/// How many months the dashboards chart.
pub const DASHBOARD_MONTHS: u32 = 6;

const README: &str = "infobank evidence bundle
========================

log.jsonl        every entry of the audit log, one JSON object per line (index, leaf, leaf_hash)
sth.json         the signed tree head this bundle stops at (tree size, root hash, Ed25519 signature)
jwks.json        the bank's published keys at the time (the log key is the one named in sth.json)
statistics.json  the oversight dashboard's counts at the time (consents, disclosures, refusals)

To verify offline, without trusting the bank's servers:

    infobank audit verify --log log.jsonl --sth sth.json --jwks jwks.json

It recomputes every leaf hash and the RFC 6962 Merkle root, and checks the head's signature
with the key from jwks.json. Keep jwks.json from an earlier, independent download of
/.well-known/jwks.json if you can: a key taken from the same bundle proves only that the bundle is
consistent with itself. Keep sth.json too: a later bundle must be consistent with it, which is
how a rewritten history shows: fetch the proof between the two sizes from
/api/v1/audit/proof/consistency?first=OLD&second=NEW and check it with
`infobank audit verify-consistency` (docs/audit.md).
";

/// The bundle's bytes and the tree size it covers.
pub fn bundle(
    conn: &mut DbConnection,
    log_signer: &Ed25519Signer,
    tokens: &TokenSigner,
    regulator_id: &str,
    now: DateTime<Utc>,
) -> Result<(Vec<u8>, u64), ApiError> {
    // Logged like every regulator read (its leaf is covered by the next head, not this one).
    infobank_audit::record_read(conn, regulator_id, "evidence bundle", now)?;
    let head = infobank_audit::sth::sign_current(conn, log_signer, now)?;
    let mut log = Vec::new();
    infobank_audit::export::write_entries(conn, head.tree_size, &mut log, |_| {}).map_err(ApiError::internal)?;
    let sth =
        serde_json::to_vec_pretty(&HeadDoc::new(&head, Some(log_signer.public_key()))).map_err(ApiError::internal)?;
    let mut keys = tokens.jwks_keys();
    keys.push(log_signer.jwk());
    let jwks = serde_json::to_vec_pretty(&serde_json::json!({ "keys": keys })).map_err(ApiError::internal)?;
    // Counted over the same entries as the export.
    let statistics = infobank_consent::oversight::report(conn, now, DASHBOARD_MONTHS, Some(head.tree_size))?;
    let statistics = serde_json::to_vec_pretty(&statistics).map_err(ApiError::internal)?;

    let mut tar = tar::Builder::new(Vec::new());
    let mtime = u64::try_from(now.timestamp()).unwrap_or(0);
    for (name, bytes) in [
        ("README.txt", README.as_bytes()),
        ("log.jsonl", &log),
        ("sth.json", &sth),
        ("jwks.json", &jwks),
        ("statistics.json", &statistics),
    ] {
        let mut header = tar::Header::new_ustar();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(mtime);
        header.set_cksum();
        tar.append_data(&mut header, name, bytes).map_err(ApiError::internal)?;
    }
    let bytes = tar.into_inner().map_err(ApiError::internal)?;
    Ok((bytes, head.tree_size))
}
