//! What a network command reads and writes through: [`Store`], over the latest state.
//!
//! A command that writes runs inside `Db::write_atomic` on a [`Txn`]: its reads see the latest
//! state plus its own earlier writes, and all of its writes become one batch, so INCR, SET NX and
//! a whole MULTI/EXEC are atomic against every other writer, JavaScript included. A command that
//! only reads runs on [`Direct`], with no lock at all, at one snapshot when its reads must agree.

use std::collections::BTreeMap;
use std::ops::Bound;

use crate::engine::db::LockedReader;
use crate::engine::iter::IterBounds;
use crate::engine::snapshot::Snapshot;
use crate::engine::write_batch::WriteBatch;
use crate::engine::{Db, Error, ReadOptions, Result};

/// Keys the server keeps for itself (memcache flags), hidden from KEYS, SCAN, RANGE and DBSIZE.
pub const RESERVED_PREFIX: &[u8] = b"\xff\xfetodb:";

/// True for keys the server keeps for itself.
pub fn reserved(key: &[u8]) -> bool {
    key.starts_with(RESERVED_PREFIX)
}

/// Reads and writes of one command or transaction.
pub trait Store {
    /// The value of `key`.
    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>>;
    /// Writes `key`; an error if this store is read-only.
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()>;
    /// Deletes `key`; an error if this store is read-only.
    fn del(&mut self, key: &[u8]) -> Result<()>;
    /// Calls `each` with the entries in `[lower, upper]` in order (reversed with `reverse`),
    /// reserved keys skipped, until it returns false.
    fn scan(
        &mut self,
        lower: Bound<Vec<u8>>,
        upper: Bound<Vec<u8>>,
        reverse: bool,
        each: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<()>;
    /// Deletes every key, reserved ones too; an error if this store is read-only.
    fn clear(&mut self) -> Result<()>;
}

/// Reads outside any lock, of the latest state or of one snapshot. Gets try memory first; a read
/// that needs the disk runs with the runtime told that this thread blocks.
pub struct Direct<'a> {
    /// The database.
    pub db: &'a Db,
    /// When set, every read is as of this snapshot, so that they all agree (a memcache item's
    /// value and flags); when not, each read sees the latest state.
    pub snapshot: Option<Snapshot>,
}

impl Direct<'_> {
    fn options(&self, memory_only: bool) -> ReadOptions {
        ReadOptions { fill_cache: true, memory_only, snapshot: self.snapshot.as_ref().map(Snapshot::seq) }
    }
}

fn read_only() -> Error {
    Error::InvalidArgument("a read-only command tried to write".into())
}

impl Store for Direct<'_> {
    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        match self.db.get(key, &self.options(true)) {
            Err(Error::Incomplete) => {
                let slow = self.options(false);
                super::blocking(|| self.db.get(key, &slow))
            }
            other => other,
        }
    }

    fn put(&mut self, _: &[u8], _: &[u8]) -> Result<()> {
        Err(read_only())
    }

    fn del(&mut self, _: &[u8]) -> Result<()> {
        Err(read_only())
    }

    fn clear(&mut self) -> Result<()> {
        Err(read_only())
    }

    fn scan(
        &mut self,
        lower: Bound<Vec<u8>>,
        upper: Bound<Vec<u8>>,
        reverse: bool,
        each: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<()> {
        let (db, options) = (self.db, ReadOptions { fill_cache: false, ..self.options(false) });
        super::blocking(|| {
            let mut it = db.iter(&options, reverse, IterBounds { lower, upper })?;
            it.seek_to_start();
            while it.valid() {
                if !reserved(it.key()) && !each(it.key(), it.value()) {
                    break;
                }
                it.advance();
            }
            it.status()
        })
    }
}

/// A write of a transaction: the value, or `None` for a delete.
type OverlayEntry<'a> = (&'a Vec<u8>, &'a Option<Vec<u8>>);

/// The writes of a command or transaction not yet written, over a locked reader.
pub struct Txn<'r, 'a> {
    reader: &'r LockedReader<'a>,
    overlay: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    batch: WriteBatch,
}

impl<'r, 'a> Txn<'r, 'a> {
    /// An empty transaction over `reader`.
    pub fn new(reader: &'r LockedReader<'a>) -> Self {
        Txn { reader, overlay: BTreeMap::new(), batch: WriteBatch::new() }
    }

    /// The batch of everything written, in order.
    pub fn into_batch(self) -> WriteBatch {
        self.batch
    }
}

impl Store for Txn<'_, '_> {
    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        match self.overlay.get(key) {
            Some(v) => Ok(v.clone()),
            None => self.reader.get(key),
        }
    }

    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        self.batch.put(key, value);
        self.overlay.insert(key.to_vec(), Some(value.to_vec()));
        Ok(())
    }

    fn del(&mut self, key: &[u8]) -> Result<()> {
        self.batch.delete(key);
        self.overlay.insert(key.to_vec(), None);
        Ok(())
    }

    fn clear(&mut self) -> Result<()> {
        let mut keys = Vec::new();
        let mut it = self.reader.iter(false, Bound::Unbounded, Bound::Unbounded)?;
        it.seek_to_start();
        while it.valid() {
            keys.push(it.key().to_vec());
            it.advance();
        }
        it.status()?;
        keys.extend(self.overlay.iter().filter(|(_, v)| v.is_some()).map(|(k, _)| k.clone()));
        for k in keys {
            self.del(&k)?;
        }
        Ok(())
    }

    fn scan(
        &mut self,
        lower: Bound<Vec<u8>>,
        upper: Bound<Vec<u8>>,
        reverse: bool,
        each: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<()> {
        // Merge the database's entries with this transaction's writes, the writes winning.
        let range = (lower.as_ref().map(|v| v.as_slice()), upper.as_ref().map(|v| v.as_slice()));
        let mut mine: Box<dyn Iterator<Item = OverlayEntry<'_>>> = if reverse {
            Box::new(self.overlay.range::<[u8], _>(range).rev())
        } else {
            Box::new(self.overlay.range::<[u8], _>(range))
        };
        let mut it = self.reader.iter(reverse, lower.clone(), upper.clone())?;
        it.seek_to_start();
        let mut next_mine = mine.next();
        loop {
            let theirs = if it.valid() { Some(it.key()) } else { None };
            let take_mine = match (theirs, next_mine) {
                (None, None) => break,
                (Some(_), None) => false,
                (None, Some(_)) => true,
                (Some(t), Some((m, _))) => {
                    if reverse {
                        m.as_slice() >= t
                    } else {
                        m.as_slice() <= t
                    }
                }
            };
            if take_mine {
                let Some((k, v)) = next_mine else { break };
                if theirs == Some(k.as_slice()) {
                    it.advance();
                }
                if let Some(v) = v {
                    if !reserved(k) && !each(k, v) {
                        break;
                    }
                }
                next_mine = mine.next();
            } else {
                if !reserved(it.key()) && !each(it.key(), it.value()) {
                    break;
                }
                it.advance();
            }
        }
        it.status()
    }
}
