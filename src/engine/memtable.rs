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
/// with the tag also kept decoded and the key's first bytes kept inline (see [`key_prefix`]), so
/// that most comparisons while searching the tree read neither the allocation nor call memcmp,
/// and an iterator copies an entry with one reference-count increment.
#[derive(Clone, Debug)]
struct Entry {
    prefix: u128,
    data: Arc<[u8]>,
    user_key_len: usize,
    tag: u64,
}

/// The first 16 bytes of `user_key` as a big-endian integer, zero-padded. When two keys' prefixes
/// differ, they order as their keys do (a zero pad sorts below any byte, as a shorter key sorts
/// below a longer one it begins); only equal prefixes need the keys compared.
fn key_prefix(user_key: &[u8]) -> u128 {
    let mut head = [0u8; 16];
    let n = user_key.len().min(16);
    head[..n].copy_from_slice(&user_key[..n]);
    u128::from_be_bytes(head)
}

impl Entry {
    fn new(user_key: &[u8], seq: SequenceNumber, kind: ValueKind, value: &[u8]) -> Entry {
        let tag = key::pack_tag(seq, kind);
        // Built in place: a Vec turned into an Arc would be allocated and copied twice.
        let k = user_key.len();
        let mut data = Arc::<[u8]>::new_uninit_slice(k + key::TAG_SIZE + value.len());
        let slots = Arc::get_mut(&mut data).expect("a new Arc has no other owner");
        slots[..k].write_copy_of_slice(user_key);
        slots[k..k + key::TAG_SIZE].write_copy_of_slice(&tag.to_le_bytes());
        slots[k + key::TAG_SIZE..].write_copy_of_slice(value);
        // SAFETY: the three writes above cover every byte.
        let data = unsafe { data.assume_init() };
        Entry { prefix: key_prefix(user_key), data, user_key_len: k, tag }
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
    fn prefix(&self) -> u128;
    fn user_key(&self) -> &[u8];
    fn tag(&self) -> u64;
}

impl OrderKey for Entry {
    fn prefix(&self) -> u128 {
        self.prefix
    }
    fn user_key(&self) -> &[u8] {
        Entry::user_key(self)
    }
    fn tag(&self) -> u64 {
        self.tag
    }
}

/// A seek target borrowed from an encoded internal key.
struct Probe<'a> {
    prefix: u128,
    user_key: &'a [u8],
    tag: u64,
}

impl<'a> Probe<'a> {
    fn new(ikey: &'a [u8]) -> Probe<'a> {
        let user_key = key::user_key(ikey);
        let tag = ikey.get(user_key.len()..).and_then(crate::engine::coding::decode_fixed64).unwrap_or(0);
        Probe::for_user_key(user_key, tag)
    }

    fn for_user_key(user_key: &'a [u8], tag: u64) -> Probe<'a> {
        Probe { prefix: key_prefix(user_key), user_key, tag }
    }
}

impl OrderKey for Probe<'_> {
    fn prefix(&self) -> u128 {
        self.prefix
    }
    fn user_key(&self) -> &[u8] {
        self.user_key
    }
    fn tag(&self) -> u64 {
        self.tag
    }
}

/// The internal-key order: user key ascending, then tag descending.
fn order(a: &dyn OrderKey, b: &dyn OrderKey) -> std::cmp::Ordering {
    a.prefix().cmp(&b.prefix()).then_with(|| a.user_key().cmp(b.user_key())).then_with(|| b.tag().cmp(&a.tag()))
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
        let probe = Probe::for_user_key(user_key, key::pack_tag(seq, key::KIND_FOR_SEEK));
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

    #[test]
    fn order_matches_byte_order_for_keys_that_share_or_pad_their_first_sixteen_bytes() {
        // Keys built to defeat the inline prefix: equal 16-byte heads, zero bytes where padding
        // goes, keys that are prefixes of others, lengths on both sides of 16.
        let mut keys: Vec<Vec<u8>> = vec![vec![], vec![0], vec![0, 0], vec![1], vec![0xff; 20]];
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..400 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 24) as usize;
            let mut k = vec![b'0'; 16.min(len)];
            k.extend((16..len).map(|i| [0u8, 1, 0xff][(x >> (i % 60)) as usize % 3]));
            if x.is_multiple_of(5) && !k.is_empty() {
                let last = k.len() - 1;
                k[last] = 0;
            }
            keys.push(k);
        }
        let mem = Arc::new(MemTable::new());
        for (i, k) in keys.iter().enumerate() {
            mem.insert_batch(&batch(i as u64 + 1, &[(k, Some(b"v"))])).unwrap();
        }
        let mut expected: Vec<(Vec<u8>, u64)> =
            keys.iter().enumerate().map(|(i, k)| (k.clone(), i as u64 + 1)).collect();
        expected.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        let mut it = mem.iter();
        it.seek_to_first();
        let mut seen = Vec::new();
        while it.valid() {
            let parsed = key::parse_internal_key(it.key()).unwrap();
            seen.push((parsed.user_key.to_vec(), parsed.seq));
            it.next();
        }
        assert_eq!(seen, expected);
        for (k, seq) in &expected {
            assert!(matches!(mem.get(k, *seq), Lookup::Found(_)), "get {k:?}");
        }
    }
}
