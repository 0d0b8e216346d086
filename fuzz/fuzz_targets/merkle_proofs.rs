//! The proof verifiers and tree math of `infobank_audit::merkle`: what `audit verify-inclusion`,
//! `audit verify-consistency`, `audit verify --url` and the regulator's checkpoint check run on
//! proofs that come from elsewhere.
//!
//! - `verify_inclusion` / `verify_consistency` on arbitrary sizes, hashes of any length and proofs
//!   of any shape return an error, never panic;
//! - on a real tree (up to 300 leaves): every genuine proof verifies, the stored-subtree roots
//!   equal the definition (`root_of`), and a mutated proof (a flipped bit, a hash dropped or
//!   added, another size or index) is rejected;
//! - `range_nodes`, `inclusion_ranges` and `consistency_ranges` on any u64 sizes are aligned,
//!   disjoint and cover what they should, without overflow.
#![no_main]

use arbitrary::Arbitrary;
use infobank_audit::merkle::{
    Hash, MemoryTree, consistency_ranges, inclusion_ranges, leaf_hash, range_nodes, root_of, verify_consistency,
    verify_inclusion,
};
use libfuzzer_sys::fuzz_target;

/// Bytes that are a hash's length more often than chance would make them.
#[derive(Arbitrary, Debug)]
enum Bytes {
    Hash([u8; 32]),
    Any(Vec<u8>),
}

impl Bytes {
    fn to_vec(&self) -> Vec<u8> {
        match self {
            Bytes::Hash(h) => h.to_vec(),
            Bytes::Any(v) => v.clone(),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Mutation {
    FlipProofBit { hash: usize, bit: u8 },
    FlipLeafOrFirstRootBit { bit: u8 },
    FlipRootBit { bit: u8 },
    DropHash { hash: usize },
    AddHash { at: usize, hash: [u8; 32] },
    OtherSize { size: u16 },
    OtherIndexOrFirst { value: u16 },
}

#[derive(Arbitrary, Debug)]
enum Input {
    Inclusion {
        index: u64,
        size: u64,
        leaf: Bytes,
        proof: Vec<Bytes>,
        root: Bytes,
    },
    Consistency {
        first: u64,
        second: u64,
        first_root: Bytes,
        second_root: Bytes,
        proof: Vec<Bytes>,
    },
    RealInclusion {
        leaves: u16,
        index: u16,
        size: u16,
        mutation: Option<Mutation>,
    },
    RealConsistency {
        leaves: u16,
        first: u16,
        second: u16,
        mutation: Option<Mutation>,
    },
    Ranges {
        a: u64,
        b: u64,
    },
}

fuzz_target!(|input: Input| {
    match input {
        Input::Inclusion {
            index,
            size,
            leaf,
            proof,
            root,
        } => {
            let proof: Vec<Vec<u8>> = proof.iter().map(Bytes::to_vec).collect();
            // Anything is allowed to verify only if it really is a proof; unguessable here.
            let _ = verify_inclusion(index, size, &leaf.to_vec(), &proof, &root.to_vec());
        }
        Input::Consistency {
            first,
            second,
            first_root,
            second_root,
            proof,
        } => {
            let proof: Vec<Vec<u8>> = proof.iter().map(Bytes::to_vec).collect();
            let result = verify_consistency(first, second, &first_root.to_vec(), &second_root.to_vec(), &proof);
            if result.is_ok() && first != second {
                panic!("a made-up consistency proof verified: {first} {second}");
            }
        }
        Input::RealInclusion {
            leaves,
            index,
            size,
            mutation,
        } => real_inclusion(leaves, index, size, mutation),
        Input::RealConsistency {
            leaves,
            first,
            second,
            mutation,
        } => real_consistency(leaves, first, second, mutation),
        Input::Ranges { a, b } => ranges(a, b),
    }
});

fn tree(leaves: u16) -> (Vec<Hash>, MemoryTree) {
    let n = u64::from(leaves) % 300 + 1;
    let hashes: Vec<Hash> = (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect();
    let tree = MemoryTree::from_leaves(&hashes);
    assert_eq!(tree.size(), n);
    (hashes, tree)
}

fn flip(bytes: &mut [u8], bit: u8) {
    if !bytes.is_empty() {
        let i = usize::from(bit / 8) % bytes.len();
        bytes[i] ^= 1 << (bit % 8);
    }
}

/// Applies `mutation`; false when it changed nothing (e.g. a bit flip in an empty proof).
fn mutate(
    mutation: &Mutation,
    proof: &mut Vec<Vec<u8>>,
    first: &mut [u8],
    root: &mut [u8],
    size: &mut u64,
    index: &mut u64,
) -> bool {
    match *mutation {
        Mutation::FlipProofBit { hash, bit } => {
            if proof.is_empty() {
                return false;
            }
            let i = hash % proof.len();
            flip(&mut proof[i], bit);
        }
        Mutation::FlipLeafOrFirstRootBit { bit } => flip(first, bit),
        Mutation::FlipRootBit { bit } => flip(root, bit),
        Mutation::DropHash { hash } => {
            if proof.is_empty() {
                return false;
            }
            let i = hash % proof.len();
            proof.remove(i);
        }
        Mutation::AddHash { at, hash } => {
            let i = at % (proof.len() + 1);
            proof.insert(i, hash.to_vec());
        }
        Mutation::OtherSize { size: s } => {
            if u64::from(s) == *size {
                return false;
            }
            *size = u64::from(s);
        }
        Mutation::OtherIndexOrFirst { value } => {
            if u64::from(value) == *index {
                return false;
            }
            *index = u64::from(value);
        }
    }
    true
}

fn real_inclusion(leaves: u16, index: u16, size: u16, mutation: Option<Mutation>) {
    let (hashes, tree) = tree(leaves);
    let mut size = u64::from(size) % tree.size() + 1;
    let mut index = u64::from(index) % size;
    let root = tree.root(size).expect("a root for every size up to the tree's");
    assert_eq!(
        root,
        root_of(&hashes[..size as usize]),
        "stored-subtree root differs from the definition"
    );
    let proof = tree.inclusion_proof(index, size).expect("a proof");
    let mut proof: Vec<Vec<u8>> = proof.iter().map(|h| h.to_vec()).collect();
    let mut leaf = hashes[index as usize].to_vec();
    let mut root = root.to_vec();
    verify_inclusion(index, size, &leaf, &proof, &root).expect("a genuine inclusion proof verifies");
    if let Some(m) = mutation {
        let (old_size, old_index) = (size, index);
        if mutate(&m, &mut proof, &mut leaf, &mut root, &mut size, &mut index) {
            let result = verify_inclusion(index, size, &leaf, &proof, &root);
            // A proof does not commit to the tree size (the signed head does): the proof for leaf
            // 0 of 4 leaves, [h1, h(2,3)], also folds to that root read as leaf 0 of 3. So another
            // size may verify; anything else must not.
            if !matches!(m, Mutation::OtherSize { .. }) {
                assert!(
                    result.is_err(),
                    "mutated inclusion proof verified: {m:?} (index {old_index}, size {old_size})"
                );
            }
        }
    }
}

fn real_consistency(leaves: u16, first: u16, second: u16, mutation: Option<Mutation>) {
    let (hashes, tree) = tree(leaves);
    let mut second = u64::from(second) % tree.size() + 1;
    let mut first = u64::from(first) % second + 1;
    let mut first_root = tree.root(first).expect("root").to_vec();
    let mut second_root = tree.root(second).expect("root").to_vec();
    assert_eq!(first_root, root_of(&hashes[..first as usize]));
    let proof = if first == second {
        Vec::new()
    } else {
        tree.consistency_proof(first, second).expect("a proof")
    };
    let mut proof: Vec<Vec<u8>> = proof.iter().map(|h| h.to_vec()).collect();
    verify_consistency(first, second, &first_root, &second_root, &proof).expect("a genuine consistency proof verifies");
    if let Some(m) = mutation {
        let (old_first, old_second) = (first, second);
        if mutate(
            &m,
            &mut proof,
            &mut first_root,
            &mut second_root,
            &mut second,
            &mut first,
        ) {
            let result = verify_consistency(first, second, &first_root, &second_root, &proof);
            // As with inclusion, the sizes are committed to by the signed heads, not the proof
            // ([h(2,3)] proves 2 -> 4 and also 2 -> 3 against the same roots): only hash changes
            // must fail.
            if !matches!(m, Mutation::OtherSize { .. } | Mutation::OtherIndexOrFirst { .. }) {
                assert!(
                    result.is_err(),
                    "mutated consistency proof verified: {m:?} (first {old_first}, second {old_second})"
                );
            }
        }
    }
}

fn ranges(a: u64, b: u64) {
    // range_nodes: aligned perfect subtrees, left to right, exactly covering [start, end).
    let (start, end) = (a.min(b), a.max(b));
    let nodes = range_nodes(start, end);
    assert!(nodes.len() <= 128);
    let mut pos = u128::from(start);
    for node in &nodes {
        assert!(node.level < 64);
        let width = 1u128 << node.level;
        assert_eq!(u128::from(node.index) * width, pos, "not contiguous or not aligned");
        pos += width;
    }
    assert_eq!(pos, u128::from(end));

    // inclusion_ranges: disjoint, none holding the leaf, together all other leaves.
    if end > 0 {
        let (index, size) = if start < end { (start, end) } else { (0, end) };
        let r = inclusion_ranges(index, size);
        assert!(r.len() <= 64);
        let mut total = 0u128;
        for &(s, e) in &r {
            assert!(s < e && e <= size && !(s..e).contains(&index));
            total += u128::from(e - s);
        }
        assert_eq!(total, u128::from(size) - 1);
        assert_disjoint(&r);
    }

    // consistency_ranges: non-empty ranges inside the second tree, at most two per level.
    if start > 0 && start < end {
        let r = consistency_ranges(start, end);
        assert!(!r.is_empty() && r.len() <= 128);
        for &(s, e) in &r {
            assert!(s < e && e <= end);
        }
    }
}

fn assert_disjoint(ranges: &[(u64, u64)]) {
    let mut sorted = ranges.to_vec();
    sorted.sort_unstable();
    for pair in sorted.windows(2) {
        assert!(pair[0].1 <= pair[1].0, "overlapping ranges {pair:?}");
    }
}
