//! Open tables, keyed by file number and bounded by `max_open_files`, sharing one block cache.
//! A table is opened (footer, index and filter read and checked) on first use and stays open until
//! evicted or its file is deleted; readers hold an `Arc<Table>`, so eviction never pulls a table
//! from under an iterator.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

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
    open: Mutex<(HashMap<u64, Slot>, u64)>,
}

impl TableCache {
    /// A cache holding at most `capacity` open tables and `block_cache_bytes` of blocks.
    pub fn new(fs: Arc<dyn Fs>, dir: PathBuf, capacity: usize, block_cache_bytes: usize) -> TableCache {
        TableCache {
            fs,
            dir,
            capacity: capacity.max(1),
            blocks: Arc::new(BlockCache::new(block_cache_bytes)),
            open: Mutex::new((HashMap::new(), 0)),
        }
    }

    /// The table numbered `number`, opening it if needed. Tries `.ldb`, then LevelDB's older `.sst`.
    pub fn table(&self, number: u64) -> Result<Arc<Table>> {
        {
            let mut guard = self.open.lock().unwrap_or_else(|e| e.into_inner());
            let (map, clock) = &mut *guard;
            *clock += 1;
            if let Some(slot) = map.get_mut(&number) {
                slot.last_use = *clock;
                return Ok(slot.table.clone());
            }
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
        let mut guard = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let (map, clock) = &mut *guard;
        if map.len() >= self.capacity {
            // NOTE: a linear scan, but only on a miss with a full cache of at most a few thousand.
            if let Some(oldest) = map.iter().min_by_key(|(_, s)| s.last_use).map(|(n, _)| *n) {
                map.remove(&oldest);
            }
        }
        map.insert(number, Slot { table: table.clone(), last_use: *clock });
        Ok(table)
    }

    /// Table `number` if it is already open; opening one reads the disk.
    pub fn open_table(&self, number: u64) -> Option<Arc<Table>> {
        let mut guard = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let (map, clock) = &mut *guard;
        *clock += 1;
        let slot = map.get_mut(&number)?;
        slot.last_use = *clock;
        Some(slot.table.clone())
    }

    /// An iterator over table `number`.
    pub fn iter(&self, number: u64, fill_cache: bool) -> Result<TableIterator> {
        Ok(self.table(number)?.iter(fill_cache))
    }

    /// Forgets table `number` (its file is being deleted).
    pub fn evict(&self, number: u64) {
        self.open.lock().unwrap_or_else(|e| e.into_inner()).0.remove(&number);
    }

    /// Bytes of blocks held in the block cache.
    pub fn block_cache_usage(&self) -> usize {
        self.blocks.usage()
    }
}
