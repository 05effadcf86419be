//! Writes a stream of internal entries out as tables: one table for a memtable flush, or a run of
//! tables split at a target size for a compaction. A finished table is synced before it is
//! reported, so a MANIFEST edit never names a table whose bytes could still be lost.

use std::path::Path;
use std::sync::Arc;

use crate::engine::env::{DeferringFile, Fs, WritableFile};
use crate::engine::error::Result;
use crate::engine::filename;
use crate::engine::iter::InternalIterator;
use crate::engine::options::Options;
use crate::engine::sstable::{TableBuilder, TableOptions};
use crate::engine::version::FileMeta;

/// The table-format options that follow from the database options.
pub fn table_options(options: &Options) -> TableOptions {
    TableOptions {
        block_size: options.block_size,
        restart_interval: options.block_restart_interval,
        compression: options.compression,
        whole_filter: true,
        ..TableOptions::default()
    }
}

/// A table being written.
pub struct OpenTable {
    builder: TableBuilder,
    file: Arc<dyn WritableFile>,
    meta: FileMeta,
}

impl OpenTable {
    /// Creates table `number` in `dir`.
    pub fn create(fs: &dyn Fs, dir: &Path, number: u64, options: &Options) -> Result<OpenTable> {
        let file = fs.create(&filename::table_file(dir, number))?;
        Ok(OpenTable::over(file, number, options))
    }

    /// Creates table `number` in `dir` as a compaction output: its writeback and its sync defer
    /// to foreground syncs (see [`crate::engine::env::IoGate`]). Flushes are not deferred, since
    /// writers may be waiting for them.
    pub fn create_deferring(fs: &dyn Fs, dir: &Path, number: u64, options: &Options) -> Result<OpenTable> {
        let mut file = fs.create(&filename::table_file(dir, number))?;
        if let Some(gate) = fs.io_gate() {
            file = Arc::new(DeferringFile::new(file, gate));
        }
        Ok(OpenTable::over(file, number, options))
    }

    fn over(file: Arc<dyn WritableFile>, number: u64, options: &Options) -> OpenTable {
        OpenTable {
            builder: TableBuilder::new(file.clone(), table_options(options)),
            file,
            meta: FileMeta { number, size: 0, smallest: Vec::new(), largest: Vec::new() },
        }
    }

    /// Adds an entry; keys arrive in strictly increasing internal-key order.
    pub fn add(&mut self, ikey: &[u8], value: &[u8]) -> Result<()> {
        if self.meta.smallest.is_empty() {
            self.meta.smallest = ikey.to_vec();
        }
        self.meta.largest.clear();
        self.meta.largest.extend_from_slice(ikey);
        self.builder.add(ikey, value)
    }

    /// Bytes written so far (an estimate until `finish`).
    pub fn file_size(&self) -> u64 {
        self.builder.file_size()
    }

    /// Finishes and syncs the table.
    pub fn finish(mut self) -> Result<FileMeta> {
        self.meta.size = self.builder.finish()?;
        self.file.sync()?;
        Ok(self.meta)
    }
}

/// Writes every entry of `iter` into table `number`; `None` when there was nothing to write.
pub fn write_table(
    fs: &dyn Fs,
    dir: &Path,
    number: u64,
    options: &Options,
    iter: &mut dyn InternalIterator,
) -> Result<Option<FileMeta>> {
    iter.seek_to_first();
    if !iter.valid() {
        iter.status()?;
        return Ok(None);
    }
    let mut table = OpenTable::create(fs, dir, number, options)?;
    while iter.valid() {
        table.add(iter.key(), iter.value())?;
        iter.next();
    }
    iter.status()?;
    table.finish().map(Some)
}
