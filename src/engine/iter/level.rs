//! Iterates over one level of non-overlapping tables, sorted by key, as if they were one table.
//! Tables are opened lazily through the table cache, one at a time, as the cursor reaches them.

use std::sync::Arc;

use super::InternalIterator;
use crate::engine::error::{Error, Result};
use crate::engine::key::compare_internal;
use crate::engine::sstable::TableIterator;
use crate::engine::table_cache::TableCache;
use crate::engine::version::FileMeta;

/// A cursor over the concatenation of a level's tables.
pub struct LevelIterator {
    tables: Arc<TableCache>,
    files: Vec<Arc<FileMeta>>,
    fill_cache: bool,
    /// One pass over every table (a compaction): read ahead, bypassing the cache.
    sequential: bool,
    index: usize,
    current: Option<TableIterator>,
    error: Option<Error>,
}

impl LevelIterator {
    /// A cursor over `files`, which are sorted and do not overlap.
    pub fn new(tables: Arc<TableCache>, files: Vec<Arc<FileMeta>>, fill_cache: bool) -> LevelIterator {
        LevelIterator { tables, files, fill_cache, sequential: false, index: 0, current: None, error: None }
    }

    /// A cursor over `files` for a compaction, which reads each table once from start to end:
    /// tables are read ahead in large runs (`Table::iter_sequential`) and the cache is not filled.
    pub fn sequential(tables: Arc<TableCache>, files: Vec<Arc<FileMeta>>) -> LevelIterator {
        LevelIterator { sequential: true, ..LevelIterator::new(tables, files, false) }
    }

    fn open(&mut self, index: usize) -> bool {
        self.index = index;
        // A seek to a random key lands in another table almost every time; the block memory the
        // last table's cursor held serves the next one's reads.
        let spare = self.current.take().map(TableIterator::into_spare).unwrap_or_default();
        let Some(file) = self.files.get(index) else { return false };
        let opened = match self.sequential {
            true => self.tables.table(file.number).map(|t| t.iter_sequential()),
            false => self.tables.iter(file.number, self.fill_cache),
        };
        match opened {
            Ok(it) => {
                self.current = Some(it.with_spare(spare));
                true
            }
            Err(e) => {
                self.error.get_or_insert(e);
                false
            }
        }
    }

    fn current_valid(&self) -> bool {
        self.current.as_ref().is_some_and(|c| c.valid())
    }

    fn current_failed(&self) -> bool {
        self.current.as_ref().is_some_and(|c| c.status().is_err())
    }

    fn skip_forward(&mut self) {
        while !self.current_valid() && self.error.is_none() && !self.current_failed() {
            if !self.open(self.index + 1) {
                return;
            }
            if let Some(c) = self.current.as_mut() {
                c.seek_to_first();
            }
        }
    }

    fn skip_backward(&mut self) {
        while !self.current_valid() && self.error.is_none() && !self.current_failed() {
            if self.index == 0 || !self.open(self.index - 1) {
                self.current = None;
                return;
            }
            if let Some(c) = self.current.as_mut() {
                c.seek_to_last();
            }
        }
    }
}

impl InternalIterator for LevelIterator {
    fn valid(&self) -> bool {
        self.error.is_none() && self.current_valid()
    }

    fn seek_to_first(&mut self) {
        if self.open(0) {
            if let Some(c) = self.current.as_mut() {
                c.seek_to_first();
            }
        }
        self.skip_forward();
    }

    fn seek_to_last(&mut self) {
        if !self.files.is_empty() && self.open(self.files.len() - 1) {
            if let Some(c) = self.current.as_mut() {
                c.seek_to_last();
            }
        }
        self.skip_backward();
    }

    fn seek(&mut self, target: &[u8]) {
        let index = self.files.partition_point(|f| compare_internal(&f.largest, target).is_lt());
        // A seek into the table already open keeps its cursor, and with it the data block the
        // cursor holds when the target lands there again.
        let reuse = index == self.index && self.error.is_none() && self.current.is_some() && !self.current_failed();
        if reuse || self.open(index) {
            if let Some(c) = self.current.as_mut() {
                c.seek(target);
            }
        }
        self.skip_forward();
    }

    fn seek_for_prev(&mut self, target: &[u8]) {
        let after = self.files.partition_point(|f| compare_internal(&f.smallest, target).is_le());
        if after == 0 {
            self.current = None;
            self.index = 0;
            return;
        }
        if self.open(after - 1) {
            if let Some(c) = self.current.as_mut() {
                c.seek_for_prev(target);
            }
        }
        self.skip_backward();
    }

    fn next(&mut self) {
        if let Some(c) = self.current.as_mut() {
            c.next();
        }
        self.skip_forward();
    }

    fn prev(&mut self) {
        if let Some(c) = self.current.as_mut() {
            c.prev();
        }
        self.skip_backward();
    }

    fn key(&self) -> &[u8] {
        self.current.as_ref().map_or(&[], |c| c.key())
    }

    fn value(&self) -> &[u8] {
        self.current.as_ref().map_or(&[], |c| c.value())
    }

    fn status(&self) -> Result<()> {
        if let Some(e) = &self.error {
            return Err(e.duplicate());
        }
        self.current.as_ref().map_or(Ok(()), |c| c.status())
    }
}
