//! Merges several internal iterators into one ordered stream: the memtables, then every table
//! that may hold a key. The valid children are kept in a binary heap ordered by their current
//! key (smallest on top going forward, largest going backward), so a step costs about
//! `2 log2(n)` key comparisons instead of the `n - 1` of a linear scan; a compaction of a full
//! level 0 merges a dozen children per entry.

use super::InternalIterator;
use crate::engine::error::Result;
use crate::engine::key::compare_internal;

/// An iterator over the union of its children. Internal keys are unique across children; were
/// two equal, the earlier child would come first in either direction.
pub struct MergingIterator {
    children: Vec<Box<dyn InternalIterator>>,
    /// Indices of the valid children, a heap whose top (`heap[0]`) is the current entry.
    heap: Vec<usize>,
    /// Whether the last positioning was backward (the heap then puts the largest key on top).
    reverse: bool,
}

impl MergingIterator {
    /// Merges `children`.
    pub fn new(children: Vec<Box<dyn InternalIterator>>) -> MergingIterator {
        let heap = Vec::with_capacity(children.len());
        MergingIterator { children, heap, reverse: false }
    }

    /// True when child `a` should be above child `b` in the heap.
    fn before(&self, a: usize, b: usize) -> bool {
        let (ka, kb) = match (self.children.get(a), self.children.get(b)) {
            (Some(ca), Some(cb)) => (ca.key(), cb.key()),
            _ => return false,
        };
        let ord = compare_internal(ka, kb);
        let ord = if self.reverse { ord.reverse() } else { ord };
        ord.then(a.cmp(&b)).is_lt()
    }

    /// Restores the heap order below `pos`, whose child may have moved past its children's.
    fn sift_down(&mut self, mut pos: usize) {
        loop {
            let left = 2 * pos + 1;
            let Some(&l) = self.heap.get(left) else { return };
            let mut best = left;
            if let Some(&r) = self.heap.get(left + 1) {
                if self.before(r, l) {
                    best = left + 1;
                }
            }
            let (Some(&child), Some(&here)) = (self.heap.get(best), self.heap.get(pos)) else { return };
            if !self.before(child, here) {
                return;
            }
            self.heap.swap(pos, best);
            pos = best;
        }
    }

    /// Rebuilds the heap from every valid child, in the direction `reverse` names.
    fn rebuild(&mut self, reverse: bool) {
        self.reverse = reverse;
        self.heap.clear();
        self.heap.extend(self.children.iter().enumerate().filter(|(_, c)| c.valid()).map(|(i, _)| i));
        for pos in (0..self.heap.len() / 2).rev() {
            self.sift_down(pos);
        }
    }

    /// Moves the current child one step (`step`) and puts it back in its place in the heap.
    fn advance(&mut self, step: impl FnOnce(&mut dyn InternalIterator)) {
        let Some(&top) = self.heap.first() else { return };
        let Some(child) = self.children.get_mut(top) else { return };
        step(child.as_mut());
        if !child.valid() {
            self.heap.swap_remove(0);
        }
        self.sift_down(0);
    }

    fn current(&self) -> Option<&dyn InternalIterator> {
        self.heap.first().and_then(|&i| self.children.get(i)).map(|c| c.as_ref())
    }
}

impl InternalIterator for MergingIterator {
    fn valid(&self) -> bool {
        !self.heap.is_empty()
    }

    fn seek_to_first(&mut self) {
        self.children.iter_mut().for_each(|c| c.seek_to_first());
        self.rebuild(false);
    }

    fn seek_to_last(&mut self) {
        self.children.iter_mut().for_each(|c| c.seek_to_last());
        self.rebuild(true);
    }

    fn seek(&mut self, target: &[u8]) {
        self.children.iter_mut().for_each(|c| c.seek(target));
        self.rebuild(false);
    }

    fn seek_for_prev(&mut self, target: &[u8]) {
        self.children.iter_mut().for_each(|c| c.seek_for_prev(target));
        self.rebuild(true);
    }

    fn next(&mut self) {
        self.advance(|c| c.next());
    }

    fn prev(&mut self) {
        self.advance(|c| c.prev());
    }

    fn key(&self) -> &[u8] {
        self.current().map_or(&[], |c| c.key())
    }

    fn value(&self) -> &[u8] {
        self.current().map_or(&[], |c| c.value())
    }

    fn status(&self) -> Result<()> {
        self.children.iter().try_for_each(|c| c.status())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::iter::EmptyIterator;
    use crate::engine::key::{internal_key, ValueKind};
    use crate::engine::sstable::tests::{drain_backward, drain_forward};
    use crate::engine::sstable::{Block, BlockBuilder};
    use std::sync::Arc;

    /// A child holding `keys` (user key, sequence), each valued by its own user key.
    fn child(keys: &[(u32, u64)]) -> Box<dyn InternalIterator> {
        let mut sorted: Vec<Vec<u8>> =
            keys.iter().map(|&(k, seq)| internal_key(format!("{k:06}").as_bytes(), seq, ValueKind::Value)).collect();
        sorted.sort_by(|a, b| compare_internal(a, b));
        let mut b = BlockBuilder::new(16);
        for k in &sorted {
            b.add(k, &k[..6]);
        }
        let block = Arc::new(Block::new(b.finish().to_vec(), 0).unwrap());
        Box::new(block.iter(compare_internal))
    }

    /// Children with interleaved keys, several versions of some keys spread over children, an
    /// empty child and one with a single key; merged in both directions and by seeks, against a
    /// sort of everything.
    #[test]
    fn merges_in_internal_key_order_both_ways() {
        let mut x = 7u64;
        let mut rand = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for n in [1usize, 2, 3, 5, 12] {
            let mut all = Vec::new();
            let mut children: Vec<Box<dyn InternalIterator>> = vec![Box::new(EmptyIterator::new())];
            for c in 0..n {
                // Sequence numbers are unique across children, as in a database.
                let keys: Vec<(u32, u64)> = (0..(if c == 1 { 1 } else { 200 }))
                    .map(|i| ((rand() % 300) as u32, (c * 1000 + i) as u64))
                    .collect();
                all.extend(keys.iter().map(|&(k, s)| internal_key(format!("{k:06}").as_bytes(), s, ValueKind::Value)));
                children.push(child(&keys));
            }
            all.sort_by(|a, b| compare_internal(a, b));
            let mut merged = MergingIterator::new(children);
            let forward: Vec<Vec<u8>> = drain_forward(&mut merged).into_iter().map(|(k, _)| k).collect();
            assert_eq!(forward, all, "{n} children forward");
            let backward: Vec<Vec<u8>> = drain_backward(&mut merged).into_iter().map(|(k, _)| k).collect();
            assert_eq!(backward, all, "{n} children backward");
            merged.seek(&all[all.len() / 2]);
            assert_eq!(merged.key(), all[all.len() / 2].as_slice());
            merged.next();
            assert_eq!(merged.key(), all[all.len() / 2 + 1].as_slice());
            merged.seek_for_prev(&all[all.len() / 3]);
            assert_eq!(merged.key(), all[all.len() / 3].as_slice());
            merged.prev();
            assert_eq!(merged.key(), all[all.len() / 3 - 1].as_slice());
            assert_eq!(merged.value(), &all[all.len() / 3 - 1][..6]);
        }
    }
}
