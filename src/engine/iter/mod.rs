//! The internal iterator contract shared by memtables, table blocks, whole tables, levels and the
//! merge of them all, and the user-facing [`DbIterator`] built on top.
//!
//! Internal iterators walk encoded internal keys (see `key.rs`) in internal-key order. A caller
//! positions one with a seek, then moves it in one direction: `next` only after `seek` or
//! `seek_to_first`, `prev` only after `seek_for_prev` or `seek_to_last`. No caller switches
//! direction without re-seeking, which keeps every implementation simple. Errors (a bad block, an
//! I/O failure) make the iterator invalid and are reported by `status`.

mod db_iter;
mod level;
mod merging;

pub use db_iter::{DbIterator, IterBounds};
pub use level::LevelIterator;
pub use merging::MergingIterator;

use crate::engine::error::Result;

/// A cursor over internal-key-ordered entries.
pub trait InternalIterator: Send {
    /// True when positioned at an entry.
    fn valid(&self) -> bool;
    /// Positions at the first entry.
    fn seek_to_first(&mut self);
    /// Positions at the last entry.
    fn seek_to_last(&mut self);
    /// Positions at the first entry whose key is `>= target` (internal-key order).
    fn seek(&mut self, target: &[u8]);
    /// Positions at the last entry whose key is `<= target` (internal-key order).
    fn seek_for_prev(&mut self, target: &[u8]);
    /// Moves forward. Requires: `valid()`, and the last positioning was forward.
    fn next(&mut self);
    /// Moves backward. Requires: `valid()`, and the last positioning was backward.
    fn prev(&mut self);
    /// The current entry's internal key. Requires: `valid()`.
    fn key(&self) -> &[u8];
    /// The current entry's value. Requires: `valid()`.
    fn value(&self) -> &[u8];
    /// The first error met, if any. An iterator that met an error is not valid.
    fn status(&self) -> Result<()>;
}

/// An iterator over nothing, or over an error.
pub struct EmptyIterator(Option<crate::engine::error::Error>);

impl EmptyIterator {
    /// An iterator with no entries and no error.
    pub fn new() -> EmptyIterator {
        EmptyIterator(None)
    }

    /// An iterator with no entries that reports `err`.
    pub fn with_error(err: crate::engine::error::Error) -> EmptyIterator {
        EmptyIterator(Some(err))
    }
}

impl Default for EmptyIterator {
    fn default() -> Self {
        EmptyIterator::new()
    }
}

impl InternalIterator for EmptyIterator {
    fn valid(&self) -> bool {
        false
    }
    fn seek_to_first(&mut self) {}
    fn seek_to_last(&mut self) {}
    fn seek(&mut self, _target: &[u8]) {}
    fn seek_for_prev(&mut self, _target: &[u8]) {}
    fn next(&mut self) {}
    fn prev(&mut self) {}
    fn key(&self) -> &[u8] {
        &[]
    }
    fn value(&self) -> &[u8] {
        &[]
    }
    fn status(&self) -> Result<()> {
        match &self.0 {
            None => Ok(()),
            Some(e) => Err(e.duplicate()),
        }
    }
}
