//! An open database of either kind, as the binding holds one: the writer ([`Db`]) or a read-only
//! open ([`ReadOnlyDb`]). Reads go to whichever it is. Every write to a read-only open fails with
//! `Error::ReadOnly` here, before anything is touched; a read-only open has nothing to write with.

use std::path::Path;
use std::sync::Arc;

use super::{Db, PointReader, ReadOnlyDb};
use crate::engine::env::Fs;
use crate::engine::error::{Error, Result};
use crate::engine::iter::{DbIterator, IterBounds};
use crate::engine::options::{Options, ReadOptions, WriteOptions};
use crate::engine::snapshot::Snapshot;
use crate::engine::write_batch::WriteBatch;

/// Either kind of open database. Cheap to clone.
#[derive(Clone)]
pub enum DbHandle {
    /// The database, opened for reads and writes (it holds the `LOCK`).
    Writer(Db),
    /// The database, opened read-only beside whoever holds the `LOCK`.
    ReadOnly(ReadOnlyDb),
}

impl From<Db> for DbHandle {
    fn from(db: Db) -> DbHandle {
        DbHandle::Writer(db)
    }
}

impl DbHandle {
    /// Opens the database in `dir`, read-only if `read_only` (see [`ReadOnlyDb::open`]).
    pub fn open(fs: Arc<dyn Fs>, dir: &Path, options: Options, read_only: bool) -> Result<DbHandle> {
        Ok(match read_only {
            true => DbHandle::ReadOnly(ReadOnlyDb::open(fs, dir, options)?),
            false => DbHandle::Writer(Db::open(fs, dir, options)?),
        })
    }

    /// The writer, or `Error::ReadOnly` naming `op`.
    pub fn writer(&self, op: &'static str) -> Result<&Db> {
        match self {
            DbHandle::Writer(db) => Ok(db),
            DbHandle::ReadOnly(_) => Err(Error::ReadOnly(op)),
        }
    }

    /// See [`Db::write_would_stall`]; a read-only open never stalls (its writes fail at once).
    pub fn write_would_stall(&self) -> bool {
        self.writer("write").is_ok_and(Db::write_would_stall)
    }

    /// See [`Db::write`].
    pub fn write(&self, batch: WriteBatch, options: WriteOptions) -> Result<()> {
        self.writer("write")?.write(batch, options)
    }

    /// See [`Db::put`].
    pub fn put(&self, key: &[u8], value: &[u8], options: WriteOptions) -> Result<()> {
        self.writer("write")?.put(key, value, options)
    }

    /// See [`Db::clear_range`].
    pub fn clear_range(
        &self,
        options: &ReadOptions,
        reverse: bool,
        bounds: IterBounds,
        limit: Option<u64>,
    ) -> Result<()> {
        self.writer("clear")?.clear_range(options, reverse, bounds, limit)
    }

    /// See [`Db::compact_range`].
    pub fn compact_range(&self, start: Option<&[u8]>, end: Option<&[u8]>) -> Result<()> {
        self.writer("compact")?.compact_range(start, end)
    }

    /// Catches a read-only open up with its writer ([`ReadOnlyDb::refresh`]). A writer always
    /// reads its own latest state, so for it this only checks that it is open.
    pub fn refresh(&self) -> Result<()> {
        match self {
            DbHandle::Writer(db) => db.check_open(),
            DbHandle::ReadOnly(db) => db.refresh().map(|_| ()),
        }
    }

    /// See [`Db::point_reader`].
    pub fn point_reader(&self, options: &ReadOptions) -> Result<PointReader<'_>> {
        match self {
            DbHandle::Writer(db) => db.point_reader(options),
            DbHandle::ReadOnly(db) => db.point_reader(options),
        }
    }

    /// See [`Db::get`].
    pub fn get(&self, key: &[u8], options: &ReadOptions) -> Result<Option<Vec<u8>>> {
        self.point_reader(options)?.get(key)
    }

    /// See [`Db::snapshot`].
    pub fn snapshot(&self) -> Result<Snapshot> {
        match self {
            DbHandle::Writer(db) => db.snapshot(),
            DbHandle::ReadOnly(db) => db.snapshot(),
        }
    }

    /// See [`Db::iter`].
    pub fn iter(&self, options: &ReadOptions, reverse: bool, bounds: IterBounds) -> Result<DbIterator> {
        match self {
            DbHandle::Writer(db) => db.iter(options, reverse, bounds),
            DbHandle::ReadOnly(db) => db.iter(options, reverse, bounds),
        }
    }

    /// See [`Db::approximate_size`].
    pub fn approximate_size(&self, start: &[u8], end: &[u8]) -> Result<u64> {
        match self {
            DbHandle::Writer(db) => db.approximate_size(start, end),
            DbHandle::ReadOnly(db) => db.approximate_size(start, end),
        }
    }

    /// See [`Db::property`].
    pub fn property(&self, name: &str) -> Result<Option<String>> {
        match self {
            DbHandle::Writer(db) => db.property(name),
            DbHandle::ReadOnly(db) => db.property(name),
        }
    }

    /// See [`Db::close`].
    pub fn close(&self) -> Result<()> {
        match self {
            DbHandle::Writer(db) => db.close(),
            DbHandle::ReadOnly(db) => db.close(),
        }
    }
}
