//! The memtable: recent writes held in memory in internal-key order until they are written out as
//! a table. One writer at a time inserts (the database serialises writes); any number of readers
//! and iterators on other threads read concurrently.
//!
//! The entries live in a `BTreeMap` behind a `RwLock`. Iterators never hold the lock between calls:
//! each refills a small buffer of entries under a brief read lock and re-seeks past the last key it
//! saw. Internal keys are unique (every write has its own sequence number) and an iterator reads at
//! a fixed sequence, so re-seeking shows it exactly the entries it would have seen holding a lock.

use std::collections::BTreeSet;
use std::ops::Bound;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::engine::error::Result;
use crate::engine::iter::InternalIterator;
use crate::engine::key::{self, SequenceNumber, ValueKind};
use crate::engine::write_batch::WriteBatch;

/// One entry: its internal key and value in a single shared allocation (`user key | tag | value`),
/// with the tag also kept decoded, so that ordering compares user keys and integers and an
/// iterator copies an entry with one reference-count increment.
#[derive(Clone, Debug)]
struct Entry {
    data: Arc<[u8]>,
    user_key_len: usize,
    tag: u64,
}

impl Entry {
    fn new(user_key: &[u8], seq: SequenceNumber, kind: ValueKind, value: &[u8]) -> Entry {
        let tag = key::pack_tag(seq, kind);
        let mut data = Vec::with_capacity(user_key.len() + key::TAG_SIZE + value.len());
        data.extend_from_slice(user_key);
        data.extend_from_slice(&tag.to_le_bytes());
        data.extend_from_slice(value);
        Entry { data: data.into(), user_key_len: user_key.len(), tag }
    }

    fn user_key(&self) -> &[u8] {
        self.data.get(..self.user_key_len).unwrap_or(&[])
    }

    fn internal_key(&self) -> &[u8] {
        self.data.get(..self.user_key_len + key::TAG_SIZE).unwrap_or(&[])
    }

    fn value(&self) -> &[u8] {
        self.data.get(self.user_key_len + key::TAG_SIZE..).unwrap_or(&[])
    }
}

/// What the entry order compares. Stored entries and borrowed probes both provide it, so a
/// lookup searches the set without building an entry.
trait OrderKey {
    fn user_key(&self) -> &[u8];
    fn tag(&self) -> u64;
}

impl OrderKey for Entry {
    fn user_key(&self) -> &[u8] {
        Entry::user_key(self)
    }
    fn tag(&self) -> u64 {
        self.tag
    }
}

/// A seek target borrowed from an encoded internal key.
struct Probe<'a> {
    user_key: &'a [u8],
    tag: u64,
}

impl<'a> Probe<'a> {
    fn new(ikey: &'a [u8]) -> Probe<'a> {
        let user_key = key::user_key(ikey);
        let tag = ikey.get(user_key.len()..).and_then(crate::engine::coding::decode_fixed64).unwrap_or(0);
        Probe { user_key, tag }
    }
}

impl OrderKey for Probe<'_> {
    fn user_key(&self) -> &[u8] {
        self.user_key
    }
    fn tag(&self) -> u64 {
        self.tag
    }
}

/// The internal-key order: user key ascending, then tag descending.
fn order(a: &dyn OrderKey, b: &dyn OrderKey) -> std::cmp::Ordering {
    a.user_key().cmp(b.user_key()).then_with(|| b.tag().cmp(&a.tag()))
}

impl<'a> std::borrow::Borrow<dyn OrderKey + 'a> for Entry {
    fn borrow(&self) -> &(dyn OrderKey + 'a) {
        self
    }
}

impl PartialEq for dyn OrderKey + '_ {
    fn eq(&self, other: &Self) -> bool {
        order(self, other).is_eq()
    }
}
impl Eq for dyn OrderKey + '_ {}
impl PartialOrd for dyn OrderKey + '_ {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for dyn OrderKey + '_ {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        order(self, other)
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        order(self, other).is_eq()
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        order(self, other)
    }
}

type Map = BTreeSet<Entry>;

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

// Per-entry bookkeeping charged on top of key and value bytes (its share of a tree node, the
// allocation's header).
const ENTRY_OVERHEAD: usize = 48;

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
        let mut map = self.write();
        let mut added = 0;
        for (seq, op) in (batch.sequence()..).zip(batch.iter()) {
            let op = op?;
            added += op.key.len() + key::TAG_SIZE + op.value.len() + ENTRY_OVERHEAD;
            map.insert(Entry::new(op.key, seq, op.kind, op.value));
        }
        drop(map);
        self.usage.fetch_add(added, Ordering::Relaxed);
        Ok(())
    }

    /// The newest version of `user_key` with sequence `<= seq`.
    pub fn get(&self, user_key: &[u8], seq: SequenceNumber) -> Lookup {
        let probe = Probe { user_key, tag: key::pack_tag(seq, key::KIND_FOR_SEEK) };
        let map = self.read();
        let from: &dyn OrderKey = &probe;
        let Some(found) = map.range::<dyn OrderKey, _>((Bound::Included(from), Bound::Unbounded)).next() else {
            return Lookup::Missing;
        };
        if found.user_key() != user_key {
            return Lookup::Missing;
        }
        match ValueKind::from_byte((found.tag & 0xff) as u8) {
            Some(ValueKind::Value) => Lookup::Found(found.value().to_vec()),
            _ => Lookup::Deleted,
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
    buf: Vec<Entry>,
    pos: usize,
    // Whether entries may remain beyond the buffer in the current direction.
    more: bool,
    chunk: usize,
}

impl MemTableIterator {
    fn fill_forward(&mut self, from: Bound<&dyn OrderKey>) {
        let map = self.mem.read();
        self.buf.clear();
        self.buf.extend(map.range::<dyn OrderKey, _>((from, Bound::Unbounded)).take(self.chunk).cloned());
        drop(map);
        self.finish_fill();
    }

    fn fill_backward(&mut self, to: Bound<&dyn OrderKey>) {
        let map = self.mem.read();
        self.buf.clear();
        self.buf.extend(map.range::<dyn OrderKey, _>((Bound::Unbounded, to)).rev().take(self.chunk).cloned());
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
        let Some(last) = self.buf.last().cloned() else { return };
        if forward {
            self.fill_forward(Bound::Excluded(&last));
        } else {
            self.fill_backward(Bound::Excluded(&last));
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
        self.fill_forward(Bound::Included(&Probe::new(target)));
    }

    fn seek_for_prev(&mut self, target: &[u8]) {
        self.restart();
        self.fill_backward(Bound::Included(&Probe::new(target)));
    }

    fn next(&mut self) {
        self.advance(true);
    }

    fn prev(&mut self) {
        self.advance(false);
    }

    fn key(&self) -> &[u8] {
        self.buf.get(self.pos).map_or(&[], Entry::internal_key)
    }

    fn value(&self) -> &[u8] {
        self.buf.get(self.pos).map_or(&[], Entry::value)
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
