//! The memtable: recent writes held in memory in internal-key order until they are written out as
//! a table. One writer at a time inserts (the database serialises writes); any number of readers
//! and iterators on other threads read concurrently.
//!
//! The entries live in a `BTreeMap` behind a `RwLock`. Iterators never hold the lock between calls:
//! each refills a small buffer of entries under a brief read lock and re-seeks past the last key it
//! saw. Internal keys are unique (every write has its own sequence number) and an iterator reads at
//! a fixed sequence, so re-seeking shows it exactly the entries it would have seen holding a lock.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::engine::error::Result;
use crate::engine::iter::InternalIterator;
use crate::engine::key::{self, SequenceNumber, ValueKind};
use crate::engine::write_batch::WriteBatch;

/// An internal key ordered by [`key::compare_internal`]. Shared, so iterators copy it cheaply.
#[derive(Clone, Debug)]
struct IKey(Arc<[u8]>);

impl PartialEq for IKey {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl Eq for IKey {}
impl PartialOrd for IKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for IKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        key::compare_internal(&self.0, &other.0)
    }
}

type Map = BTreeMap<IKey, Arc<[u8]>>;

/// What a memtable knows about a key at a sequence number.
#[derive(Debug, PartialEq, Eq)]
pub enum Lookup {
    /// The newest visible version is a value.
    Found(Vec<u8>),
    /// The newest visible version is a deletion: older tables must not be consulted.
    Deleted,
    /// The memtable holds no visible version.
    Missing,
}

// Per-entry bookkeeping charged on top of key and value bytes (map node share, two Arcs).
const ENTRY_OVERHEAD: usize = 64;

/// An in-memory, sorted table of recent writes.
#[derive(Default)]
pub struct MemTable {
    map: RwLock<Map>,
    usage: AtomicUsize,
}

impl MemTable {
    /// An empty memtable.
    pub fn new() -> MemTable {
        MemTable::default()
    }

    fn read(&self) -> RwLockReadGuard<'_, Map> {
        self.map.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Map> {
        self.map.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Inserts every operation of `batch`, entry `i` at sequence `batch.sequence() + i`.
    ///
    /// # Requires
    /// The caller holds the database's write lock, and readers do not yet read at these sequences.
    pub fn insert_batch(&self, batch: &WriteBatch) -> Result<()> {
        let mut seq = batch.sequence();
        let mut map = self.write();
        let mut added = 0;
        for op in batch.iter() {
            let op = op?;
            let ikey = key::internal_key(op.key, seq, op.kind);
            added += ikey.len() + op.value.len() + ENTRY_OVERHEAD;
            map.insert(IKey(ikey.into()), op.value.into());
            seq += 1;
        }
        drop(map);
        self.usage.fetch_add(added, Ordering::Relaxed);
        Ok(())
    }

    /// The newest version of `user_key` with sequence `<= seq`.
    pub fn get(&self, user_key: &[u8], seq: SequenceNumber) -> Lookup {
        let target = IKey(key::lookup_key(user_key, seq).into());
        let map = self.read();
        let Some((found, value)) = map.range(target..).next() else {
            return Lookup::Missing;
        };
        match key::parse_internal_key(&found.0) {
            Some(parsed) if parsed.user_key == user_key => match parsed.kind {
                ValueKind::Value => Lookup::Found(value.to_vec()),
                ValueKind::Deletion => Lookup::Deleted,
            },
            _ => Lookup::Missing,
        }
    }

    /// Bytes of memory the entries are charged for; compared with `write_buffer_size`.
    pub fn approximate_memory_usage(&self) -> usize {
        self.usage.load(Ordering::Relaxed)
    }

    /// Number of entries (every version counts).
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// True when nothing was inserted.
    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    /// An iterator over every entry; it keeps the memtable alive.
    pub fn iter(self: &Arc<Self>) -> MemTableIterator {
        MemTableIterator { mem: Arc::clone(self), buf: Vec::new(), pos: 0, more: false, chunk: MIN_CHUNK }
    }
}

const MIN_CHUNK: usize = 16;
const MAX_CHUNK: usize = 512;

/// Iterates over a memtable in chunks copied under a brief read lock (see the module docs).
pub struct MemTableIterator {
    mem: Arc<MemTable>,
    buf: Vec<(IKey, Arc<[u8]>)>,
    pos: usize,
    // Whether entries may remain beyond the buffer in the current direction.
    more: bool,
    chunk: usize,
}

impl MemTableIterator {
    fn fill_forward(&mut self, from: Bound<IKey>) {
        let map = self.mem.read();
        self.buf.clear();
        self.buf.extend(map.range((from, Bound::Unbounded)).take(self.chunk).map(|(k, v)| (k.clone(), v.clone())));
        drop(map);
        self.finish_fill();
    }

    fn fill_backward(&mut self, to: Bound<IKey>) {
        let map = self.mem.read();
        self.buf.clear();
        self.buf.extend(map.range((Bound::Unbounded, to)).rev().take(self.chunk).map(|(k, v)| (k.clone(), v.clone())));
        drop(map);
        self.finish_fill();
    }

    fn finish_fill(&mut self) {
        self.more = self.buf.len() == self.chunk;
        self.pos = 0;
        // Scans grow their chunk so that long scans take the lock rarely; point seeks stay cheap.
        self.chunk = (self.chunk * 2).min(MAX_CHUNK);
    }

    fn restart(&mut self) {
        self.chunk = MIN_CHUNK;
    }

    fn advance(&mut self, forward: bool) {
        self.pos += 1;
        if self.pos < self.buf.len() || !self.more {
            return;
        }
        let Some((last, _)) = self.buf.last() else { return };
        let last = last.clone();
        if forward {
            self.fill_forward(Bound::Excluded(last));
        } else {
            self.fill_backward(Bound::Excluded(last));
        }
    }
}

impl InternalIterator for MemTableIterator {
    fn valid(&self) -> bool {
        self.pos < self.buf.len()
    }

    fn seek_to_first(&mut self) {
        self.restart();
        self.fill_forward(Bound::Unbounded);
    }

    fn seek_to_last(&mut self) {
        self.restart();
        self.fill_backward(Bound::Unbounded);
    }

    fn seek(&mut self, target: &[u8]) {
        self.restart();
        self.fill_forward(Bound::Included(IKey(target.into())));
    }

    fn seek_for_prev(&mut self, target: &[u8]) {
        self.restart();
        self.fill_backward(Bound::Included(IKey(target.into())));
    }

    fn next(&mut self) {
        self.advance(true);
    }

    fn prev(&mut self) {
        self.advance(false);
    }

    fn key(&self) -> &[u8] {
        self.buf.get(self.pos).map_or(&[], |(k, _)| &k.0)
    }

    fn value(&self) -> &[u8] {
        self.buf.get(self.pos).map_or(&[], |(_, v)| v)
    }

    fn status(&self) -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(seq: u64, ops: &[(&[u8], Option<&[u8]>)]) -> WriteBatch {
        let mut b = WriteBatch::new();
        for (k, v) in ops {
            match v {
                Some(v) => b.put(k, v),
                None => b.delete(k),
            }
        }
        b.set_sequence(seq);
        b
    }

    #[test]
    fn get_sees_the_newest_version_at_a_sequence() {
        let mem = MemTable::new();
        mem.insert_batch(&batch(1, &[(b"a", Some(b"1")), (b"b", Some(b"x"))])).unwrap();
        mem.insert_batch(&batch(3, &[(b"a", Some(b"2"))])).unwrap();
        mem.insert_batch(&batch(4, &[(b"a", None)])).unwrap();
        assert_eq!(mem.get(b"a", 1), Lookup::Found(b"1".to_vec()));
        assert_eq!(mem.get(b"a", 2), Lookup::Found(b"1".to_vec()));
        assert_eq!(mem.get(b"a", 3), Lookup::Found(b"2".to_vec()));
        assert_eq!(mem.get(b"a", 4), Lookup::Deleted);
        assert_eq!(mem.get(b"a", 0), Lookup::Missing);
        assert_eq!(mem.get(b"b", 9), Lookup::Found(b"x".to_vec()));
        assert_eq!(mem.get(b"", 9), Lookup::Missing);
        assert_eq!(mem.get(b"c", 9), Lookup::Missing);
        assert!(mem.approximate_memory_usage() > 0);
    }

    #[test]
    fn iterator_walks_both_ways_across_chunks_while_writes_continue() {
        let mem = Arc::new(MemTable::new());
        let n = 2000u64;
        for i in 0..n {
            let k = format!("{i:05}");
            mem.insert_batch(&batch(i + 1, &[(k.as_bytes(), Some(b"v"))])).unwrap();
        }
        let mut it = mem.iter();
        it.seek_to_first();
        let mut count = 0u64;
        while it.valid() {
            assert_eq!(key::user_key(it.key()), format!("{count:05}").as_bytes());
            // Writes landing mid-scan (at newer sequences, after the cursor) must not disturb it.
            if count == 100 {
                mem.insert_batch(&batch(n + 10, &[(b"00050", Some(b"late"))])).unwrap();
            }
            count += 1;
            it.next();
        }
        assert_eq!(count, n);
        it.seek_to_last();
        let mut back = 0u64;
        while it.valid() {
            back += 1;
            it.prev();
        }
        assert_eq!(back, n + 1, "the late version is one more entry");
        it.seek(&key::lookup_key(b"01000", u64::MAX >> 8));
        assert_eq!(key::user_key(it.key()), b"01000");
        it.seek_for_prev(&key::lookup_key(b"00999x", 0));
        assert_eq!(key::user_key(it.key()), b"00999");
    }
}
