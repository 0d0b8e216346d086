//! What an independent verifier does with the documents the bank hands out: signed tree heads,
//! the JWKS, pages of entries, consistency proofs and proof files in the RFC 6962 vector format.
//! Pure parsing and checking, no I/O: `infobank audit verify` fetches or reads the documents and
//! calls these; the fuzz targets (fuzz/) call the same functions with arbitrary bytes.

use base64::Engine as _;
use infobank_crypto::signing::key_id_of;
use infobank_crypto::verify_ed25519;
use serde::{Deserialize, Serialize};

use crate::merkle::{self, Hash, MemoryTree};
use crate::sth::signed_bytes;

/// A failed check, with the reason a regulator reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn unb64(what: &str, s: &str) -> Result<Vec<u8>, Invalid> {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_err(|e| Invalid(format!("{what} is not standard base64: {e}")))
}

// ---- proof files (the RFC 6962 vector format; the API's snake_case names are accepted too) ----

#[derive(Debug, Deserialize)]
pub struct InclusionFile {
    #[serde(rename = "leafIdx", alias = "leaf_index")]
    pub leaf_idx: u64,
    #[serde(rename = "treeSize", alias = "tree_size")]
    pub tree_size: u64,
    #[serde(alias = "root_hash")]
    pub root: String,
    #[serde(rename = "leafHash", alias = "leaf_hash")]
    pub leaf_hash: String,
    #[serde(default)]
    pub proof: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
pub struct ConsistencyFile {
    #[serde(alias = "first")]
    pub size1: u64,
    #[serde(alias = "second")]
    pub size2: u64,
    #[serde(alias = "first_root")]
    pub root1: String,
    #[serde(alias = "second_root")]
    pub root2: String,
    #[serde(default)]
    pub proof: Option<Vec<String>>,
}

pub fn decode_proof(proof: &[String]) -> Result<Vec<Vec<u8>>, Invalid> {
    proof
        .iter()
        .enumerate()
        .map(|(i, p)| unb64(&format!("proof[{i}]"), p))
        .collect()
}

impl InclusionFile {
    pub fn check(&self) -> Result<(), Invalid> {
        merkle::verify_inclusion(
            self.leaf_idx,
            self.tree_size,
            &unb64("leafHash", &self.leaf_hash)?,
            &decode_proof(self.proof.as_deref().unwrap_or_default())?,
            &unb64("root", &self.root)?,
        )
        .map_err(|e| Invalid(e.to_string()))
    }
}

impl ConsistencyFile {
    pub fn check(&self) -> Result<(), Invalid> {
        merkle::verify_consistency(
            self.size1,
            self.size2,
            &unb64("root1", &self.root1)?,
            &unb64("root2", &self.root2)?,
            &decode_proof(self.proof.as_deref().unwrap_or_default())?,
        )
        .map_err(|e| Invalid(e.to_string()))
    }
}

// ---- signed tree heads ----

/// A signed tree head as the API serves it; `public_key` is only in exports.
#[derive(Debug, Serialize, Deserialize)]
pub struct HeadDoc {
    pub tree_size: u64,
    pub root_hash: String,
    pub timestamp: String,
    pub signature: String,
    pub key_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
}

impl HeadDoc {
    pub fn new(head: &crate::SignedTreeHead, public_key: Option<&[u8]>) -> Self {
        Self {
            tree_size: head.tree_size,
            root_hash: b64(&head.root_hash),
            timestamp: head
                .timestamp()
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
                .unwrap_or_default(),
            signature: b64(&head.signature),
            key_id: head.key_id.clone(),
            public_key: public_key.map(b64),
        }
    }

    /// Checks the head's signature with `public_key` and returns its decoded root.
    pub fn check(&self, public_key: &[u8]) -> Result<Hash, Invalid> {
        if key_id_of(public_key) != self.key_id {
            return Err(Invalid(format!(
                "the head was signed with key {}, not the published key {}",
                self.key_id,
                key_id_of(public_key)
            )));
        }
        let root: Hash = unb64("root_hash", &self.root_hash)?
            .try_into()
            .map_err(|_| Invalid("root_hash is not 32 bytes".into()))?;
        let timestamp = chrono::DateTime::parse_from_rfc3339(&self.timestamp)
            .map_err(|e| Invalid(format!("timestamp: {e}")))?
            .timestamp_millis();
        let timestamp = u64::try_from(timestamp).map_err(|_| Invalid("timestamp before 1970".into()))?;
        let signature = unb64("signature", &self.signature)?;
        if !verify_ed25519(public_key, &signed_bytes(self.tree_size, timestamp, &root), &signature) {
            return Err(Invalid("the tree head's signature does not verify".into()));
        }
        Ok(root)
    }
}

/// Finds the key with `kid` in a JWKS document.
pub fn key_from_jwks(jwks: &serde_json::Value, kid: &str) -> Result<Vec<u8>, Invalid> {
    let key = jwks["keys"]
        .as_array()
        .and_then(|keys| keys.iter().find(|k| k["kid"] == kid))
        .ok_or_else(|| Invalid(format!("the JWKS has no key {kid}")))?;
    let x = key["x"].as_str().ok_or_else(|| Invalid("JWK without x".into()))?;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(x)
        .map_err(|e| Invalid(format!("JWK x: {e}")))
}

// ---- whole-log verification ----

/// One exported or served leaf.
#[derive(Debug, Serialize, Deserialize)]
pub struct EntryDoc {
    pub index: u64,
    pub leaf: String,
    pub leaf_hash: String,
}

/// A page of `GET /api/v1/audit/entries`.
#[derive(Debug, Deserialize)]
pub struct EntriesPage {
    pub entries: Vec<EntryDoc>,
}

/// `GET /api/v1/audit/proof/consistency`.
#[derive(Debug, Deserialize)]
pub struct ConsistencyDoc {
    pub proof: Vec<String>,
}

/// The tree rebuilt from the leaves themselves: each leaf hash is recomputed and compared with
/// the one the log recorded.
#[derive(Default)]
pub struct Recomputed {
    tree: MemoryTree,
}

impl Recomputed {
    pub fn push(&mut self, expected_index: u64, entry: &EntryDoc) -> Result<(), Invalid> {
        if entry.index != expected_index {
            return Err(Invalid(format!(
                "entry {expected_index}: the log skipped to index {}",
                entry.index
            )));
        }
        let hash = merkle::leaf_hash(entry.leaf.as_bytes());
        if b64(&hash) != entry.leaf_hash {
            return Err(Invalid(format!(
                "entry {expected_index}: its leaf does not hash to the recorded leaf hash"
            )));
        }
        self.tree.push(hash);
        Ok(())
    }

    pub fn size(&self) -> u64 {
        self.tree.size()
    }

    /// The root of the first `size` leaves.
    pub fn root(&self, size: u64) -> Option<Hash> {
        self.tree.root(size)
    }

    /// Every leaf the head commits to, and the root it signed.
    pub fn matches(&self, head: &HeadDoc, root: Hash) -> Result<(), Invalid> {
        if self.tree.size() != head.tree_size {
            return Err(Invalid(format!(
                "the log has {} entries, the signed head says {}",
                self.tree.size(),
                head.tree_size
            )));
        }
        if self.tree.root(head.tree_size) != Some(root) {
            return Err(Invalid("the recomputed root does not match the signed root".into()));
        }
        Ok(())
    }
}
