//! Point reads at one moment: a [`PointReader`] holds one [`ReadView`] and one sequence number
//! for any number of gets.
//!
//! A lone get takes the view for itself, but a batch of gets answered together (by the read crew,
//! on several threads at once) would otherwise take it once per key: a read lock and a reference
//! count on memory every reading thread writes, whose cache line then moves between cores on each
//! get. The batch's gets were all made before anything that follows them, so reading them at one
//! moment is what the caller asked for.

use std::sync::Arc;

use super::{Db, Inner, ReadView};
use crate::engine::error::Result;
use crate::engine::key::SequenceNumber;
use crate::engine::memtable::Lookup;
use crate::engine::options::ReadOptions;
use crate::engine::table_cache::TableCache;

/// Gets as of one sequence number, over the memtables and tables of one view.
pub struct PointReader<'a> {
    tables: &'a TableCache,
    /// The writer whose seek budgets a wasted table read is charged to; none for a read-only open.
    seeks: Option<&'a Inner>,
    view: Arc<ReadView>,
    /// Whatever else must stay alive while the view is read (a read-only open's pinned tables).
    _hold: Option<Arc<dyn Send + Sync>>,
    seq: SequenceNumber,
    fill_cache: bool,
    memory_only: bool,
}

impl<'a> PointReader<'a> {
    /// A reader of `view` at `seq` through `tables`, charging no seeks, holding `hold`.
    pub(super) fn over(
        tables: &'a TableCache,
        view: Arc<ReadView>,
        hold: Arc<dyn Send + Sync>,
        seq: SequenceNumber,
        options: &ReadOptions,
    ) -> PointReader<'a> {
        PointReader {
            tables,
            seeks: None,
            view,
            _hold: Some(hold),
            seq,
            fill_cache: options.fill_cache,
            memory_only: options.memory_only,
        }
    }
}

impl Db {
    /// A reader of the state as of `options.snapshot`, or of now. Fails only when the database
    /// is closed; a reader made before `close` keeps reading what it holds.
    pub fn point_reader(&self, options: &ReadOptions) -> Result<PointReader<'_>> {
        self.check_open()?;
        // NOTE: the sequence before the view: every write up to it is in this view or older
        // ones' tables, which this view also lists.
        let seq = options.snapshot.unwrap_or_else(|| self.last_sequence());
        Ok(PointReader {
            tables: &self.inner.tables,
            seeks: Some(&self.inner),
            view: self.inner.view(),
            _hold: None,
            seq,
            fill_cache: options.fill_cache,
            memory_only: options.memory_only,
        })
    }
}

impl PointReader<'_> {
    /// The value of `key`, or `None`. With `memory_only`, a read that would wait on the disk fails
    /// with `Error::Incomplete`.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let view = &self.view;
        let mut lookup = view.mem.get(key, self.seq);
        if lookup == Lookup::Missing {
            if let Some(imm) = &view.imm {
                lookup = imm.get(key, self.seq);
            }
        }
        if lookup == Lookup::Missing {
            let (found, wasted) = view.version.get(self.tables, key, self.seq, self.fill_cache, self.memory_only)?;
            lookup = found;
            if let (Some(inner), Some((level, file))) = (self.seeks, wasted) {
                inner.charge_seek(level, &file);
            }
        }
        Ok(match lookup {
            Lookup::Found(v) => Some(v),
            Lookup::Deleted | Lookup::Missing => None,
        })
    }
}
