//! Merges several internal iterators into one ordered stream: the memtables, then every table
//! that may hold a key. Children are few (memtables, level-0 tables, one per deeper level), so
//! the smallest (or largest) child is found by a linear scan, as LevelDB does.

use super::InternalIterator;
use crate::engine::error::Result;
use crate::engine::key::compare_internal;

/// An iterator over the union of its children. Internal keys are unique across children.
pub struct MergingIterator {
    children: Vec<Box<dyn InternalIterator>>,
    current: Option<usize>,
}

impl MergingIterator {
    /// Merges `children`.
    pub fn new(children: Vec<Box<dyn InternalIterator>>) -> MergingIterator {
        MergingIterator { children, current: None }
    }

    fn pick(&mut self, want_largest: bool) {
        let mut best: Option<usize> = None;
        for (i, child) in self.children.iter().enumerate() {
            if !child.valid() {
                continue;
            }
            best = match best {
                None => Some(i),
                Some(b) => {
                    let ord = compare_internal(child.key(), self.children[b].key());
                    let better = if want_largest { ord.is_gt() } else { ord.is_lt() };
                    Some(if better { i } else { b })
                }
            };
        }
        self.current = best;
    }
}

impl InternalIterator for MergingIterator {
    fn valid(&self) -> bool {
        self.current.is_some()
    }

    fn seek_to_first(&mut self) {
        self.children.iter_mut().for_each(|c| c.seek_to_first());
        self.pick(false);
    }

    fn seek_to_last(&mut self) {
        self.children.iter_mut().for_each(|c| c.seek_to_last());
        self.pick(true);
    }

    fn seek(&mut self, target: &[u8]) {
        self.children.iter_mut().for_each(|c| c.seek(target));
        self.pick(false);
    }

    fn seek_for_prev(&mut self, target: &[u8]) {
        self.children.iter_mut().for_each(|c| c.seek_for_prev(target));
        self.pick(true);
    }

    fn next(&mut self) {
        if let Some(i) = self.current {
            self.children[i].next();
            self.pick(false);
        }
    }

    fn prev(&mut self) {
        if let Some(i) = self.current {
            self.children[i].prev();
            self.pick(true);
        }
    }

    fn key(&self) -> &[u8] {
        self.current.map_or(&[], |i| self.children[i].key())
    }

    fn value(&self) -> &[u8] {
        self.current.map_or(&[], |i| self.children[i].value())
    }

    fn status(&self) -> Result<()> {
        self.children.iter().try_for_each(|c| c.status())
    }
}
