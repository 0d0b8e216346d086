//! RFC 6962 / RFC 9162 Merkle trees, pure: no I/O, no database, no clock.
//!
//! - leaf hash `SHA-256(0x00 || leaf)`, node hash `SHA-256(0x01 || left || right)`;
//! - the tree of `n` leaves splits at `k`, the largest power of two smaller than `n`;
//! - proofs are produced as lists of leaf *ranges* (`[start, end)`), so that a store holding the
//!   hashes of complete (perfect) subtrees can answer any root or proof with O(log n) lookups:
//!   every range a proof needs decomposes into at most ⌈log₂ n⌉ aligned perfect subtrees;
//! - verification follows RFC 9162 §2.1.3.2 and §2.1.4.2 and checks every length, returning a
//!   reason instead of panicking on malformed input.

use ring::digest::{Context, SHA256};

pub type Hash = [u8; 32];

/// A hash as 64 lowercase hex digits: how the bank names a leaf (in receipts, disclosures, coin
/// entries and `?leaf_hash=`).
pub fn to_hex(hash: &Hash) -> String {
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// The inverse of [`to_hex`] (either case); `None` unless exactly 64 hex digits.
pub fn from_hex(text: &str) -> Option<Hash> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}
pub const HASH_LEN: usize = 32;

pub fn leaf_hash(leaf: &[u8]) -> Hash {
    let mut ctx = Context::new(&SHA256);
    ctx.update(&[0x00]);
    ctx.update(leaf);
    finish(ctx)
}

pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut ctx = Context::new(&SHA256);
    ctx.update(&[0x01]);
    ctx.update(left);
    ctx.update(right);
    finish(ctx)
}

/// The root of the empty tree: SHA-256 of the empty string.
pub fn empty_root() -> Hash {
    finish(Context::new(&SHA256))
}

fn finish(ctx: Context) -> Hash {
    let mut out = [0u8; HASH_LEN];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// The largest power of two strictly smaller than `n` (for `n >= 2`).
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// The root of a list of leaf hashes, by the definition (reference implementation, O(n)).
pub fn root_of(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split_point(n as u64) as usize;
            node_hash(&root_of(&leaves[..k]), &root_of(&leaves[k..]))
        }
    }
}

/// A complete subtree: `2^level` leaves starting at leaf `index << level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    pub level: u8,
    pub index: u64,
}

/// The complete subtrees that make up the leaf range `[start, end)`, left to right. For every
/// range that appears in a tree (and so in any proof), their right fold is the range's hash.
pub fn range_nodes(start: u64, end: u64) -> Vec<NodeId> {
    let mut out = Vec::new();
    let mut pos = start;
    while pos < end {
        let remaining = end - pos;
        let mut level = 63 - remaining.leading_zeros();
        // Aligned: a subtree of 2^level leaves must start at a multiple of 2^level.
        while level > 0 && !pos.is_multiple_of(1u64 << level) {
            level -= 1;
        }
        out.push(NodeId {
            level: level as u8,
            index: pos >> level,
        });
        pos += 1u64 << level;
    }
    out
}

/// Folds the hashes of [`range_nodes`] (in the same order) into the range's hash.
pub fn fold_range(hashes: &[Hash]) -> Option<Hash> {
    let (last, rest) = hashes.split_last()?;
    Some(rest.iter().rev().fold(*last, |acc, left| node_hash(left, &acc)))
}

/// The ranges whose hashes form the inclusion proof of leaf `index` in a tree of `size` leaves
/// (RFC 6962 §2.1.1 PATH), deepest first. Caller ensures `index < size`.
pub fn inclusion_ranges(index: u64, size: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    inclusion_into(index, 0, size, &mut out);
    out
}

fn inclusion_into(m: u64, start: u64, end: u64, out: &mut Vec<(u64, u64)>) {
    let n = end - start;
    if n <= 1 {
        return;
    }
    let k = split_point(n);
    if m < start + k {
        inclusion_into(m, start, start + k, out);
        out.push((start + k, end));
    } else {
        inclusion_into(m, start + k, end, out);
        out.push((start, start + k));
    }
}

/// The ranges whose hashes form the consistency proof between sizes `first` and `second`
/// (RFC 6962 §2.1.2 PROOF). Caller ensures `0 < first < second`.
pub fn consistency_ranges(first: u64, second: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    consistency_into(first, 0, second, true, &mut out);
    out
}

fn consistency_into(m: u64, start: u64, end: u64, whole_first_tree: bool, out: &mut Vec<(u64, u64)>) {
    let n = end - start;
    if m == n {
        if !whole_first_tree {
            out.push((start, end));
        }
        return;
    }
    let k = split_point(n);
    if m <= k {
        consistency_into(m, start, start + k, whole_first_tree, out);
        out.push((start + k, end));
    } else {
        consistency_into(m - k, start + k, end, false, out);
        out.push((start, start + k));
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("{what} is {len} bytes, a SHA-256 hash is 32")]
    HashLength { what: &'static str, len: usize },
    #[error("leaf index {index} is not below tree size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("first size {first} is larger than second size {second}")]
    SizesOutOfOrder { first: u64, second: u64 },
    #[error("a consistency proof from the empty tree proves nothing")]
    EmptyFirstTree,
    #[error("proof has {found} hashes, expected {expected}")]
    WrongProofLength { found: usize, expected: usize },
    #[error("equal tree sizes need an empty proof and equal roots")]
    EqualSizesMismatch,
    #[error("computed root does not match the given root")]
    RootMismatch,
}

fn to_hash(what: &'static str, bytes: &[u8]) -> Result<Hash, ProofError> {
    bytes
        .try_into()
        .map_err(|_| ProofError::HashLength { what, len: bytes.len() })
}

fn to_hashes(proof: &[Vec<u8>]) -> Result<Vec<Hash>, ProofError> {
    proof.iter().map(|p| to_hash("a proof hash", p)).collect()
}

/// The number of hashes in an inclusion proof, used to reject extra or missing components
/// before hashing anything.
fn inclusion_proof_len(index: u64, size: u64) -> usize {
    inclusion_ranges(index, size).len()
}

/// Verifies that `leaf_hash` is leaf `index` of the tree of `size` leaves with root `root`.
pub fn verify_inclusion(index: u64, size: u64, leaf: &[u8], proof: &[Vec<u8>], root: &[u8]) -> Result<(), ProofError> {
    let leaf = to_hash("the leaf hash", leaf)?;
    let root = to_hash("the root hash", root)?;
    let proof = to_hashes(proof)?;
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let expected = inclusion_proof_len(index, size);
    if proof.len() != expected {
        return Err(ProofError::WrongProofLength {
            found: proof.len(),
            expected,
        });
    }
    // RFC 9162 §2.1.3.2.
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = leaf;
    for p in &proof {
        if sn == 0 {
            return Err(ProofError::WrongProofLength {
                found: proof.len(),
                expected,
            });
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn == 0 && r == root {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}

/// Verifies that the tree of `first` leaves with root `first_root` is a prefix of the tree of
/// `second` leaves with root `second_root`.
pub fn verify_consistency(
    first: u64,
    second: u64,
    first_root: &[u8],
    second_root: &[u8],
    proof: &[Vec<u8>],
) -> Result<(), ProofError> {
    if first > second {
        return Err(ProofError::SizesOutOfOrder { first, second });
    }
    if first == 0 {
        return Err(ProofError::EmptyFirstTree);
    }
    // Equal sizes: consistent exactly when the roots are the same bytes (as transparency-dev's
    // verifier and its vectors have it); there is nothing to hash.
    if first == second {
        return if proof.is_empty() && first_root == second_root {
            Ok(())
        } else {
            Err(ProofError::EqualSizesMismatch)
        };
    }
    let first_root = to_hash("the first root", first_root)?;
    let second_root = to_hash("the second root", second_root)?;
    let proof = to_hashes(proof)?;
    let expected = consistency_ranges(first, second).len();
    if proof.len() != expected {
        return Err(ProofError::WrongProofLength {
            found: proof.len(),
            expected,
        });
    }
    // RFC 9162 §2.1.4.2.
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if first.is_power_of_two() {
        path.push(first_root);
    }
    path.extend_from_slice(&proof);
    let (mut fn_, mut sn) = (first - 1, second - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if sn == 0 {
            return Err(ProofError::WrongProofLength {
                found: proof.len(),
                expected,
            });
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn == 0 && fr == first_root && sr == second_root {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}

/// An in-memory log with the same structure the database keeps (every complete subtree stored),
/// used by tests and benches as the reference for the persistent log.
#[derive(Debug, Default, Clone)]
pub struct MemoryTree {
    /// `levels[l][i]` is the hash of complete subtree (l, i).
    levels: Vec<Vec<Hash>>,
}

impl MemoryTree {
    pub fn from_leaves(leaves: &[Hash]) -> Self {
        let mut tree = Self::default();
        for leaf in leaves {
            tree.push(*leaf);
        }
        tree
    }

    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    pub fn push(&mut self, leaf: Hash) {
        let mut level = 0;
        let mut hash = leaf;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            self.levels[level].push(hash);
            let index = self.levels[level].len() - 1;
            if index.is_multiple_of(2) {
                break;
            }
            hash = node_hash(&self.levels[level][index - 1], &hash);
            level += 1;
        }
    }

    pub fn node(&self, id: NodeId) -> Option<Hash> {
        let index = usize::try_from(id.index).ok()?;
        self.levels.get(id.level as usize)?.get(index).copied()
    }

    fn range_hash(&self, (start, end): (u64, u64)) -> Option<Hash> {
        let hashes: Option<Vec<Hash>> = range_nodes(start, end).into_iter().map(|id| self.node(id)).collect();
        fold_range(&hashes?)
    }

    pub fn root(&self, size: u64) -> Option<Hash> {
        if size == 0 {
            return Some(empty_root());
        }
        (size <= self.size()).then(|| self.range_hash((0, size))).flatten()
    }

    pub fn inclusion_proof(&self, index: u64, size: u64) -> Option<Vec<Hash>> {
        if index >= size || size > self.size() {
            return None;
        }
        inclusion_ranges(index, size)
            .into_iter()
            .map(|r| self.range_hash(r))
            .collect()
    }

    pub fn consistency_proof(&self, first: u64, second: u64) -> Option<Vec<Hash>> {
        if first == 0 || first >= second || second > self.size() {
            return None;
        }
        consistency_ranges(first, second)
            .into_iter()
            .map(|r| self.range_hash(r))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(h: &Hash) -> String {
        h.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// RFC 6962's example leaves as used by the CT and transparency-dev test suites.
    fn rfc_leaves() -> Vec<Hash> {
        [
            "",
            "00",
            "10",
            "2021",
            "3031",
            "40414243",
            "5051525354555657",
            "606162636465666768696a6b6c6d6e6f",
        ]
        .iter()
        .map(|h| leaf_hash(&unhex(h)))
        .collect()
    }

    #[test]
    fn known_roots() {
        assert_eq!(
            hex(&empty_root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let leaves = rfc_leaves();
        let expected = [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        ];
        for (n, want) in expected.iter().enumerate() {
            assert_eq!(hex(&root_of(&leaves[..=n])), *want, "root of size {}", n + 1);
        }
    }

    #[test]
    fn memory_tree_matches_the_definition_for_every_size_and_proof() {
        let leaves: Vec<Hash> = (0u32..70).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mut tree = MemoryTree::default();
        for (i, leaf) in leaves.iter().enumerate() {
            tree.push(*leaf);
            let size = i as u64 + 1;
            assert_eq!(tree.root(size).unwrap(), root_of(&leaves[..=i]));
        }
        for size in 1..=70u64 {
            let root = tree.root(size).unwrap();
            for index in 0..size {
                let proof: Vec<Vec<u8>> = tree
                    .inclusion_proof(index, size)
                    .unwrap()
                    .iter()
                    .map(|h| h.to_vec())
                    .collect();
                verify_inclusion(index, size, &leaves[index as usize], &proof, &root).unwrap();
            }
            for first in 1..size {
                let proof: Vec<Vec<u8>> = tree
                    .consistency_proof(first, size)
                    .unwrap()
                    .iter()
                    .map(|h| h.to_vec())
                    .collect();
                verify_consistency(first, size, &tree.root(first).unwrap(), &root, &proof).unwrap();
            }
        }
    }

    #[test]
    fn range_nodes_are_aligned_and_cover_the_range() {
        assert_eq!(
            range_nodes(0, 7),
            vec![
                NodeId { level: 2, index: 0 },
                NodeId { level: 1, index: 2 },
                NodeId { level: 0, index: 6 }
            ]
        );
        assert_eq!(range_nodes(8, 12), vec![NodeId { level: 2, index: 2 }]);
        assert!(range_nodes(5, 5).is_empty());
        assert!(range_nodes(0, 1_000_000).len() <= 20);
    }

    #[test]
    fn malformed_input_is_a_reason_not_a_panic() {
        let h = leaf_hash(b"x").to_vec();
        assert!(matches!(
            verify_inclusion(0, 1, &h[..31], &[], &h),
            Err(ProofError::HashLength { .. })
        ));
        assert!(matches!(
            verify_inclusion(5, 5, &h, &[], &h),
            Err(ProofError::IndexOutOfRange { .. })
        ));
        assert!(matches!(
            verify_inclusion(0, 2, &h, &[], &h),
            Err(ProofError::WrongProofLength { .. })
        ));
        assert!(matches!(
            verify_inclusion(u64::MAX - 1, u64::MAX, &h, std::slice::from_ref(&h), &h),
            Err(ProofError::WrongProofLength { .. })
        ));
        assert!(matches!(
            verify_consistency(3, 2, &h, &h, &[]),
            Err(ProofError::SizesOutOfOrder { .. })
        ));
        assert!(matches!(
            verify_consistency(0, 2, &h, &h, &[]),
            Err(ProofError::EmptyFirstTree)
        ));
        assert!(matches!(
            verify_consistency(2, 2, &h, &h, std::slice::from_ref(&h)),
            Err(ProofError::EqualSizesMismatch)
        ));
        assert!(matches!(
            verify_consistency(1, u64::MAX, &h, &h, &[]),
            Err(ProofError::WrongProofLength { .. })
        ));
    }
}
