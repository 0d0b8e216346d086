//! The right border of a Merkle tree: the roots of the perfect subtrees that make up leaves
//! `[0, size)`, left to right (one per set bit of `size`). It is all a sequencer needs in memory
//! to integrate a batch of leaves: each new leaf completes the subtrees it closes, which are
//! exactly the rows the persistent log stores, and the root of the new size folds from the
//! border alone. So a batch costs no reads of stored nodes, where appending one leaf at a time
//! would look up one sibling per completed level.
//!
//! Pure: no I/O. [`crate::sequencer`] loads it from the stored nodes (`range_nodes(0, size)`)
//! and keeps it while the stored tree size stays the one it last wrote.

use crate::merkle::{self, Hash, NodeId};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// The subtrees of `range_nodes(0, size)`, in the same order, with their hashes.
    border: Vec<(NodeId, Hash)>,
}

/// Why stored hashes do not form the border of a tree of the claimed size.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{given} hashes given for a tree of {size} leaves, whose border has {expected}")]
pub struct BorderMismatch {
    pub size: u64,
    pub given: usize,
    pub expected: usize,
}

impl Frontier {
    /// The border of a tree of `size` leaves, from the hashes of `merkle::range_nodes(0, size)`
    /// in that order (as the persistent log stores them).
    pub fn from_border(size: u64, hashes: &[Hash]) -> Result<Self, BorderMismatch> {
        let ids = merkle::range_nodes(0, size);
        if ids.len() != hashes.len() {
            return Err(BorderMismatch {
                size,
                given: hashes.len(),
                expected: ids.len(),
            });
        }
        Ok(Self {
            size,
            border: ids.into_iter().zip(hashes.iter().copied()).collect(),
        })
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends one leaf hash as leaf number `size()` and returns the subtrees it completes:
    /// the leaf itself (level 0), then each parent it closes, lowest first.
    pub fn push(&mut self, leaf: Hash) -> Vec<(NodeId, Hash)> {
        let index = self.size;
        let mut completed = vec![(NodeId { level: 0, index }, leaf)];
        let mut node = (NodeId { level: 0, index }, leaf);
        // Two neighbours of equal level are siblings: a leaf closes one parent per trailing one
        // bit of its index, and those siblings are the last entries of the border.
        while let Some(&(left_id, left)) = self.border.last() {
            if left_id.level != node.0.level {
                break;
            }
            self.border.pop();
            node = (
                NodeId {
                    level: left_id.level + 1,
                    index: left_id.index >> 1,
                },
                merkle::node_hash(&left, &node.1),
            );
            completed.push(node);
        }
        self.border.push(node);
        self.size += 1;
        completed
    }

    /// The tree's root (RFC 6962 MTH of all its leaves).
    pub fn root(&self) -> Hash {
        let hashes: Vec<Hash> = self.border.iter().map(|(_, h)| *h).collect();
        merkle::fold_range(&hashes).unwrap_or_else(merkle::empty_root)
    }

    /// The border's subtrees and hashes, left to right.
    pub fn border(&self) -> &[(NodeId, Hash)] {
        &self.border
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::merkle::{MemoryTree, leaf_hash};

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(format!("leaf {i}").as_bytes())).collect()
    }

    #[test]
    fn the_empty_border_has_the_empty_root() {
        assert_eq!(Frontier::default().root(), merkle::empty_root());
        assert_eq!(
            Frontier::from_border(0, &[]).map(|f| f.root()),
            Ok(merkle::empty_root())
        );
    }

    #[test]
    fn a_border_of_the_wrong_length_is_refused() {
        // 6 = 4 + 2: two subtrees, not one or three.
        let err = Frontier::from_border(6, &[[0; 32]]).unwrap_err();
        assert_eq!((err.given, err.expected), (1, 2));
        assert!(Frontier::from_border(6, &[[0; 32]; 3]).is_err());
    }

    #[test]
    fn leaf_seven_closes_three_parents() {
        let mut frontier = Frontier::default();
        let all = leaves(8);
        for leaf in &all[..7] {
            frontier.push(*leaf);
        }
        let completed = frontier.push(all[7]);
        let ids: Vec<(u8, u64)> = completed.iter().map(|(id, _)| (id.level, id.index)).collect();
        assert_eq!(ids, vec![(0, 7), (1, 3), (2, 1), (3, 0)]);
        assert_eq!(frontier.border().len(), 1);
        assert_eq!(frontier.root(), merkle::root_of(&all));
    }

    proptest! {
        /// At every size the root is RFC 6962's, and the subtrees a push reports are exactly the
        /// ones the reference tree stores for that leaf.
        #[test]
        fn matches_the_reference_tree(n in 1u64..300) {
            let all = leaves(n);
            let reference = MemoryTree::from_leaves(&all);
            let mut frontier = Frontier::default();
            for (i, leaf) in all.iter().enumerate() {
                for (id, hash) in frontier.push(*leaf) {
                    prop_assert_eq!(reference.node(id), Some(hash));
                }
                prop_assert_eq!(frontier.root(), merkle::root_of(&all[..=i]));
            }
        }

        /// A sequencer that restarts loads the border from stored nodes and goes on exactly as one
        /// that never stopped.
        #[test]
        fn resumes_from_stored_nodes(split in 0u64..200, more in 0u64..100) {
            let all = leaves(split + more);
            let reference = MemoryTree::from_leaves(&all);
            let stored: Vec<Hash> = merkle::range_nodes(0, split)
                .into_iter()
                .map(|id| reference.node(id).unwrap())
                .collect();
            let mut resumed = Frontier::from_border(split, &stored).unwrap();
            for leaf in &all[split as usize..] {
                resumed.push(*leaf);
            }
            prop_assert_eq!(resumed.size(), split + more);
            prop_assert_eq!(resumed.root(), merkle::root_of(&all));
        }
    }
}
