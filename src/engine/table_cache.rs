//! Open tables, keyed by file number and bounded by `max_open_files`, sharing one block cache.
//! A table is opened (footer, index and filter read and checked) on first use and stays open until
//! evicted or its file is deleted; readers hold an `Arc<Table>`, so eviction never pulls a table
//! from under an iterator.
//!
//! Every point read looks up one or two tables here, on whichever threads read at once, so the
//! tables are split over shards by file number, each with its own lock and its own part of the
//! capacity: one shared lock moved its cache line between cores on every lookup.
//!
//! Pins: a reader that cannot reopen a table later (a read-only open, whose writer may delete
//! any table once a compaction replaces it) holds the `Arc<Table>` of each table it needs, from
//! [`TableCache::pin`]. A pinned table is found here for as long as anyone holds it, even after
//! eviction: the open descriptor is what keeps an unlinked file's data readable.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};

use crate::engine::env::Fs;
use crate::engine::error::Result;
use crate::engine::filename;
use crate::engine::sstable::{BlockCache, Table, TableIterator};

struct Slot {
    table: Arc<Table>,
    last_use: u64,
}

/// The cache of open tables.
pub struct TableCache {
    fs: Arc<dyn Fs>,
    dir: PathBuf,
    capacity: usize,
    blocks: Arc<BlockCache>,
    /// Each shard: its open tables and the clock that orders their last uses.
    shards: [Mutex<(HashMap<u64, Slot>, u64)>; SHARDS],
    /// Tables pinned by a holder, consulted only when a shard misses.
    pinned: Mutex<HashMap<u64, Weak<Table>>>,
}

const SHARDS: usize = 16;

impl TableCache {
    /// A cache holding at most `capacity` open tables (rounded up to a multiple of the shard
    /// count, and each shard full at its share) and `block_cache_bytes` of blocks.
    pub fn new(fs: Arc<dyn Fs>, dir: PathBuf, capacity: usize, block_cache_bytes: usize) -> TableCache {
        TableCache {
            fs,
            dir,
            capacity: capacity.div_ceil(SHARDS).max(1),
            blocks: Arc::new(BlockCache::new(block_cache_bytes)),
            shards: std::array::from_fn(|_| Mutex::new((HashMap::new(), 0))),
            pinned: Mutex::new(HashMap::new()),
        }
    }

    /// The pinned table `number`, if someone still holds it.
    fn pinned(&self, number: u64) -> Option<Arc<Table>> {
        self.pinned.lock().unwrap_or_else(|e| e.into_inner()).get(&number).and_then(Weak::upgrade)
    }

    /// Opens (or finds) each of `numbers` and pins it: until the caller drops the returned
    /// tables, every lookup of them is served without reopening the file. Fails with the first
    /// table that cannot be opened (a deleted one gives an `Io` error of kind `NotFound`).
    pub fn pin(&self, numbers: impl IntoIterator<Item = u64>) -> Result<Vec<Arc<Table>>> {
        let tables = numbers.into_iter().map(|n| self.table(n)).collect::<Result<Vec<_>>>()?;
        let mut pinned = self.pinned.lock().unwrap_or_else(|e| e.into_inner());
        pinned.retain(|_, held| held.strong_count() > 0);
        for table in &tables {
            pinned.insert(table.file_number(), Arc::downgrade(table));
        }
        Ok(tables)
    }

    fn shard(&self, number: u64) -> std::sync::MutexGuard<'_, (HashMap<u64, Slot>, u64)> {
        // Consecutive file numbers land in consecutive shards.
        let shard = &self.shards[(number % SHARDS as u64) as usize];
        shard.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The table numbered `number`, opening it if needed. Tries `.ldb`, then LevelDB's older `.sst`.
    pub fn table(&self, number: u64) -> Result<Arc<Table>> {
        {
            let mut guard = self.shard(number);
            let (map, clock) = &mut *guard;
            *clock += 1;
            if let Some(slot) = map.get_mut(&number) {
                slot.last_use = *clock;
                return Ok(slot.table.clone());
            }
        }
        if let Some(table) = self.pinned(number) {
            return Ok(table);
        }
        let mut path = filename::table_file(&self.dir, number);
        if !self.fs.exists(&path) {
            let sst = filename::sst_table_file(&self.dir, number);
            if self.fs.exists(&sst) {
                path = sst;
            }
        }
        let file = self.fs.open_random(&path)?;
        let table = Table::open(file, number, Some(self.blocks.clone()), true)?;
        let mut guard = self.shard(number);
        let (map, clock) = &mut *guard;
        if map.len() >= self.capacity {
            // NOTE: a linear scan, but only on a miss with a full shard of at most a few hundred.
            if let Some(oldest) = map.iter().min_by_key(|(_, s)| s.last_use).map(|(n, _)| *n) {
                map.remove(&oldest);
            }
        }
        map.insert(number, Slot { table: table.clone(), last_use: *clock });
        Ok(table)
    }

    /// Table `number` if it is already open; opening one reads the disk.
    pub fn open_table(&self, number: u64) -> Option<Arc<Table>> {
        let mut guard = self.shard(number);
        let (map, clock) = &mut *guard;
        *clock += 1;
        match map.get_mut(&number) {
            Some(slot) => {
                slot.last_use = *clock;
                Some(slot.table.clone())
            }
            None => {
                drop(guard);
                self.pinned(number)
            }
        }
    }

    /// An iterator over table `number`.
    pub fn iter(&self, number: u64, fill_cache: bool) -> Result<TableIterator> {
        Ok(self.table(number)?.iter(fill_cache))
    }

    /// Forgets table `number` (its file is being deleted, or it is no longer needed); a pinned
    /// table stays reachable through its pin.
    pub fn evict(&self, number: u64) {
        self.shard(number).0.remove(&number);
    }

    /// Bytes of blocks held in the block cache.
    pub fn block_cache_usage(&self) -> usize {
        self.blocks.usage()
    }
}
