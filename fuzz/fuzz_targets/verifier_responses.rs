//! What `infobank audit verify --url` (and `verify --log/--sth`, `verify-inclusion`,
//! `verify-consistency`) does with the documents it is given: a signed tree head, the JWKS, pages
//! of entries, consistency proofs, proof files. The CLI parses and checks them with
//! `infobank_audit::verifier`, the code fuzzed here.
//!
//! The first byte picks the document kind; documents are separated by a NUL byte. Never panics;
//! and a head that checks out against a JWKS was signed by that key (its signature verifies over
//! the documented bytes, rebuilt from the parsed fields).
#![no_main]

use infobank_audit::merkle::{self, Hash};
use infobank_audit::sth::signed_bytes;
use infobank_audit::verifier::{
    ConsistencyDoc, ConsistencyFile, EntriesPage, HeadDoc, InclusionFile, Invalid, Recomputed, decode_proof,
    key_from_jwks, unb64,
};
use infobank_crypto::signing::key_id_of;
use infobank_crypto::verify_ed25519;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&kind, rest)) = data.split_first() else {
        return;
    };
    let mut docs = rest.split(|b| *b == 0);
    let mut next = || docs.next().unwrap_or_default();
    match kind % 5 {
        0 => head_and_jwks(next(), next()),
        1 => entries(next(), next()),
        2 => consistency_doc(next(), next()),
        3 => inclusion_file(next()),
        _ => consistency_file(next()),
    }
});

/// `verify_online`'s first step: GET /api/v1/audit/sth and /.well-known/jwks.json, check_head.
fn head_and_jwks(head: &[u8], jwks: &[u8]) {
    let (Ok(head), Ok(jwks)) = (
        serde_json::from_slice::<HeadDoc>(head),
        serde_json::from_slice::<serde_json::Value>(jwks),
    ) else {
        return;
    };
    let Ok(key) = key_from_jwks(&jwks, &head.key_id) else {
        return;
    };
    if let Ok(root) = head.check(&key) {
        let ms = chrono::DateTime::parse_from_rfc3339(&head.timestamp)
            .expect("checked")
            .timestamp_millis();
        let bytes = signed_bytes(head.tree_size, u64::try_from(ms).expect("checked"), &root);
        let signature = unb64("signature", &head.signature).expect("checked");
        assert!(verify_ed25519(&key, &bytes, &signature));
        assert_eq!(key_id_of(&key), head.key_id);
    }
}

/// The download loop: a head (its size and root taken as given) and one page of entries.
fn entries(head: &[u8], page: &[u8]) {
    let (Ok(head), Ok(page)) = (
        serde_json::from_slice::<HeadDoc>(head),
        serde_json::from_slice::<EntriesPage>(page),
    ) else {
        return;
    };
    let Ok(root) = unb64("root_hash", &head.root_hash)
        .and_then(|r| Hash::try_from(r.as_slice()).map_err(|_| Invalid("root_hash is not 32 bytes".into())))
    else {
        return;
    };
    let mut recomputed = Recomputed::default();
    for (offset, entry) in page.entries.iter().enumerate() {
        if recomputed.push(offset as u64, entry).is_err() {
            return;
        }
    }
    if recomputed.matches(&head, root).is_ok() {
        assert_eq!(recomputed.size(), head.tree_size);
        assert_eq!(recomputed.root(head.tree_size), Some(root));
    }
}

/// `first_bad_leaf`: a consistency proof from the server against the signed head.
fn consistency_doc(sizes_and_roots: &[u8], doc: &[u8]) {
    let Ok(doc) = serde_json::from_slice::<ConsistencyDoc>(doc) else {
        return;
    };
    let Ok(proof) = doc
        .proof
        .iter()
        .map(|p| unb64("proof", p))
        .collect::<Result<Vec<_>, _>>()
    else {
        return;
    };
    let mut bytes = sizes_and_roots.iter().copied().chain(std::iter::repeat(0));
    let mut u64_from = |n: usize| bytes.by_ref().take(n).fold(0u64, |acc, b| acc << 8 | u64::from(b));
    let (size, tree_size) = (u64_from(8), u64_from(8));
    let prefix_root: Vec<u8> = sizes_and_roots.iter().skip(16).take(32).copied().collect();
    let root: Vec<u8> = sizes_and_roots.iter().skip(48).take(32).copied().collect();
    let _ = merkle::verify_consistency(size, tree_size, &prefix_root, &root, &proof);
}

/// `verify-inclusion FILE`: the file's proof, with the CLI's own check; whatever it accepts,
/// the Merkle library accepts on the decoded values too.
fn inclusion_file(text: &[u8]) {
    let Ok(f) = serde_json::from_slice::<InclusionFile>(text) else {
        return;
    };
    if f.check().is_ok() {
        let proof = decode_proof(f.proof.as_deref().unwrap_or_default()).expect("checked");
        let leaf = unb64("leafHash", &f.leaf_hash).expect("checked");
        let root = unb64("root", &f.root).expect("checked");
        assert!(merkle::verify_inclusion(f.leaf_idx, f.tree_size, &leaf, &proof, &root).is_ok());
    }
}

/// `verify-consistency FILE`, likewise.
fn consistency_file(text: &[u8]) {
    let Ok(f) = serde_json::from_slice::<ConsistencyFile>(text) else {
        return;
    };
    if f.check().is_ok() {
        let proof = decode_proof(f.proof.as_deref().unwrap_or_default()).expect("checked");
        let root1 = unb64("root1", &f.root1).expect("checked");
        let root2 = unb64("root2", &f.root2).expect("checked");
        assert!(merkle::verify_consistency(f.size1, f.size2, &root1, &root2, &proof).is_ok());
    }
}
