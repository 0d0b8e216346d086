//! Every RFC 6962 vector from transparency-dev/merkle (testdata/rfc6962, Apache-2.0): the valid
//! proofs verify and every mutated one is rejected.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use base64::Engine as _;
use infobank_audit::merkle::{verify_consistency, verify_inclusion};
use serde::Deserialize;

fn b64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

fn files(kind: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "json") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata/rfc6962")
            .join(kind),
        &mut out,
    );
    out.sort();
    out
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Inclusion {
    leaf_idx: u64,
    tree_size: u64,
    root: String,
    leaf_hash: String,
    proof: Option<Vec<String>>,
    desc: String,
    want_err: bool,
}

#[derive(Deserialize)]
struct Consistency {
    size1: u64,
    size2: u64,
    root1: String,
    root2: String,
    proof: Option<Vec<String>>,
    desc: String,
    #[serde(rename = "wantErr")]
    want_err: bool,
}

#[test]
fn inclusion_vectors() {
    let all = files("inclusion");
    assert!(all.len() > 50, "vectors missing: {}", all.len());
    let (mut accepted, mut rejected) = (0, 0);
    for path in all {
        let v: Inclusion = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let proof: Vec<Vec<u8>> = v.proof.unwrap_or_default().iter().map(|p| b64(p)).collect();
        let result = verify_inclusion(v.leaf_idx, v.tree_size, &b64(&v.leaf_hash), &proof, &b64(&v.root));
        assert_eq!(
            result.is_err(),
            v.want_err,
            "{} ({}): {result:?}",
            path.display(),
            v.desc
        );
        if v.want_err { rejected += 1 } else { accepted += 1 }
    }
    assert!(accepted > 0 && rejected > 0);
}

#[test]
fn consistency_vectors() {
    let all = files("consistency");
    assert!(all.len() > 50, "vectors missing: {}", all.len());
    let (mut accepted, mut rejected) = (0, 0);
    for path in all {
        let v: Consistency = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let proof: Vec<Vec<u8>> = v.proof.unwrap_or_default().iter().map(|p| b64(p)).collect();
        let result = verify_consistency(v.size1, v.size2, &b64(&v.root1), &b64(&v.root2), &proof);
        assert_eq!(
            result.is_err(),
            v.want_err,
            "{} ({}): {result:?}",
            path.display(),
            v.desc
        );
        if v.want_err { rejected += 1 } else { accepted += 1 }
    }
    assert!(accepted > 0 && rejected > 0);
}
