//! Whole-table tests: round trips through `TableBuilder` and `Table` against a sorted model, the
//! filter and the cache at work; `corruption` holds the damage sweeps and `compat` the tests
//! against a table written by real LevelDB. Also home to the helpers the per-module tests share:
//! a deterministic PRNG, test-data generators and an iterator-versus-model checker.

use std::cmp::Ordering;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};
use std::sync::Arc;

use crate::engine::env::{Fs, MemFs, RandomAccessFile};
use crate::engine::error::Result;
use crate::engine::iter::InternalIterator;
use crate::engine::key::{
    compare_internal, internal_key, lookup_key, parse_internal_key, user_key, ValueKind, MAX_SEQUENCE,
};
use crate::engine::sstable::block::Comparator;
use crate::engine::sstable::cache::BlockCache;
use crate::engine::sstable::table::Table;
use crate::engine::sstable::table_builder::{TableBuilder, TableOptions};

mod compat;
mod corruption;

type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// xorshift64*: tiny, deterministic, good enough to shuffle test data.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform-ish in `0..n` (n > 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// A string of `min..=max` bytes drawn from `alphabet`; small alphabets force shared prefixes.
    pub(crate) fn bytes_from(&mut self, alphabet: &[u8], min: usize, max: usize) -> Vec<u8> {
        let len = min + self.below(max - min + 1);
        (0..len).map(|_| alphabet[self.below(alphabet.len())]).collect()
    }
}

pub(crate) fn drain_forward(it: &mut dyn InternalIterator) -> Entries {
    let mut out = Vec::new();
    it.seek_to_first();
    while it.valid() {
        out.push((it.key().to_vec(), it.value().to_vec()));
        it.next();
    }
    out
}

pub(crate) fn drain_backward(it: &mut dyn InternalIterator) -> Entries {
    let mut out = Vec::new();
    it.seek_to_last();
    while it.valid() {
        out.push((it.key().to_vec(), it.value().to_vec()));
        it.prev();
    }
    out.reverse();
    out
}

/// Checks full scans both ways and, for each probe, `seek` then a few `next`s and `seek_for_prev`
/// then a few `prev`s, against `sorted` (which is in `cmp` order).
pub(crate) fn check_against_model(
    it: &mut dyn InternalIterator,
    sorted: &[(Vec<u8>, Vec<u8>)],
    probes: &[Vec<u8>],
    cmp: Comparator,
) {
    assert_eq!(drain_forward(it), sorted);
    assert_eq!(drain_backward(it), sorted);
    let at = |it: &dyn InternalIterator| it.valid().then(|| (it.key().to_vec(), it.value().to_vec()));
    for probe in probes {
        let first_ge = sorted.partition_point(|(k, _)| cmp(k, probe) == Ordering::Less);
        it.seek(probe);
        for i in first_ge..first_ge + 3 {
            assert_eq!(at(it), sorted.get(i).cloned(), "seek {probe:?} +{}", i - first_ge);
            it.next();
        }
        let after_le = sorted.partition_point(|(k, _)| cmp(k, probe) != Ordering::Greater);
        it.seek_for_prev(probe);
        for back in 0..3 {
            let expected = after_le.checked_sub(1 + back).and_then(|i| sorted.get(i).cloned());
            assert_eq!(at(it), expected, "seek_for_prev {probe:?} -{back}");
            if expected.is_none() {
                break;
            }
            it.prev();
        }
    }
    assert!(it.status().is_ok());
}

/// Random internal entries: binary user keys with shared prefixes, one to three versions each,
/// some tombstones, values from empty to a few over 4 KiB. Sorted in internal-key order.
fn random_entries(rng: &mut Rng, n: usize) -> Entries {
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    while out.len() < n {
        let uk = rng.bytes_from(b"ab\x00\xffz", 0, 12);
        if !seen.insert(uk.clone()) {
            continue;
        }
        for v in 0..1 + rng.below(3) {
            let kind = if rng.below(5) == 0 { ValueKind::Deletion } else { ValueKind::Value };
            let len = match rng.below(50) {
                0 => 4097 + rng.below(2000),
                1..=5 => 0,
                _ => rng.below(120),
            };
            let value = if kind == ValueKind::Deletion { Vec::new() } else { rng.bytes_from(b"0123456789", len, len) };
            out.push((internal_key(&uk, 1000 - v as u64 * 10 - rng.below(5) as u64, kind), value));
        }
    }
    out.sort_by(|a, b| compare_internal(&a.0, &b.0));
    out
}

fn write_table(fs: &MemFs, path: &str, entries: &[(Vec<u8>, Vec<u8>)], opts: TableOptions) -> u64 {
    let dir = Path::new(path).parent().unwrap();
    fs.create_dir_all(dir).unwrap();
    let mut b = TableBuilder::new(fs.create(Path::new(path)).unwrap(), opts);
    for (k, v) in entries {
        b.add(k, v).unwrap();
    }
    assert_eq!(b.num_entries(), entries.len() as u64);
    b.finish().unwrap()
}

/// Counts reads, to tell whether the filter or the cache spared a block read.
struct CountingFile {
    inner: Arc<dyn RandomAccessFile>,
    reads: AtomicUsize,
}

impl RandomAccessFile for CountingFile {
    fn read_at(&self, offset: u64, len: usize) -> Result<Vec<u8>> {
        self.reads.fetch_add(1, AtomicOrdering::Relaxed);
        self.inner.read_at(offset, len)
    }
    fn size(&self) -> u64 {
        self.inner.size()
    }
}

fn counting(inner: Arc<dyn RandomAccessFile>) -> Arc<CountingFile> {
    Arc::new(CountingFile { inner, reads: AtomicUsize::new(0) })
}

fn probes_for(rng: &mut Rng, entries: &[(Vec<u8>, Vec<u8>)], n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| match i % 3 {
            0 => entries[rng.below(entries.len())].0.clone(),
            1 => lookup_key(&rng.bytes_from(b"ab\x00\xffz", 0, 12), rng.below(1100) as u64),
            _ => {
                let uk = parse_internal_key(&entries[rng.below(entries.len())].0).unwrap().user_key.to_vec();
                lookup_key(&uk, rng.below(1100) as u64)
            }
        })
        .collect()
}

/// Gets every stored key exactly, gets the newest version through a lookup key, and checks that
/// absent user keys never come back as themselves.
fn check_gets(table: &Table, entries: &[(Vec<u8>, Vec<u8>)], rng: &mut Rng) {
    for (k, v) in entries {
        assert_eq!(table.get(k, true).unwrap(), Some((k.clone(), v.clone())));
    }
    for (i, (k, v)) in entries.iter().enumerate() {
        let uk = parse_internal_key(k).unwrap().user_key;
        let newest = i == 0 || parse_internal_key(&entries[i - 1].0).unwrap().user_key != uk;
        if newest {
            assert_eq!(table.get(&lookup_key(uk, MAX_SEQUENCE), false).unwrap(), Some((k.clone(), v.clone())));
        }
    }
    for _ in 0..300 {
        let uk = rng.bytes_from(b"cdefg", 1, 8);
        if let Some((found, _)) = table.get(&lookup_key(&uk, MAX_SEQUENCE), false).unwrap() {
            assert_ne!(parse_internal_key(&found).unwrap().user_key, &uk[..]);
        }
    }
}

#[test]
fn multi_block_tables_match_a_model_under_every_option_set() {
    let option_sets = [
        TableOptions::default(),
        TableOptions { block_size: 512, restart_interval: 4, whole_filter: true, ..Default::default() },
        TableOptions { block_size: 1, restart_interval: 1, compression: false, bloom_bits_per_key: None, whole_filter: true },
        TableOptions { block_size: 2048, compression: false, bloom_bits_per_key: Some(3), whole_filter: true, ..Default::default() },
    ];
    let mut rng = Rng::new(42);
    let entries = random_entries(&mut rng, 700);
    for (n, opts) in option_sets.into_iter().enumerate() {
        let fs = MemFs::new();
        let path = format!("/db/{n}.ldb");
        let size = write_table(&fs, &path, &entries, opts);
        assert_eq!(fs.file_size(Path::new(&path)).unwrap(), size);
        let cache = Arc::new(BlockCache::new(64 << 10));
        let table = Table::open(fs.open_random(Path::new(&path)).unwrap(), 7, Some(cache), true).unwrap();
        assert_eq!(table.has_filter(), opts.bloom_bits_per_key.is_some());
        check_gets(&table, &entries, &mut rng);
        let probes = probes_for(&mut rng, &entries, 300);
        check_against_model(&mut table.iter(false), &entries, &probes, compare_internal);
        let mut last = 0;
        for (k, _) in entries.iter().step_by(50) {
            let off = table.approximate_offset_of(k);
            assert!(off >= last && off < size, "{off} {last} {size}");
            last = off;
        }
        assert!(
            table.approximate_offset_of(&lookup_key(b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 0)) < size
        );
    }
}

#[test]
fn empty_and_single_entry_tables() {
    let fs = MemFs::new();
    write_table(&fs, "/db/empty.ldb", &[], TableOptions::default());
    let table = Table::open(fs.open_random(Path::new("/db/empty.ldb")).unwrap(), 1, None, true).unwrap();
    assert_eq!(table.get(&lookup_key(b"a", 5), true).unwrap(), None);
    let mut it = table.iter(true);
    assert!(drain_forward(&mut it).is_empty() && drain_backward(&mut it).is_empty());
    it.seek(b"anything");
    assert!(!it.valid());
    it.seek_for_prev(&lookup_key(b"zzz", 0));
    assert!(!it.valid() && it.status().is_ok());

    let one = vec![(internal_key(b"", 3, ValueKind::Value), Vec::new())];
    write_table(&fs, "/db/one.ldb", &one, TableOptions::default());
    let table = Table::open(fs.open_random(Path::new("/db/one.ldb")).unwrap(), 2, None, false).unwrap();
    let probes = vec![lookup_key(b"", 9), lookup_key(b"", 1), lookup_key(b"a", 9)];
    check_against_model(&mut table.iter(true), &one, &probes, compare_internal);
}

#[test]
fn the_filter_spares_reads_and_the_cache_serves_repeats() {
    let fs = MemFs::new();
    let entries: Entries = (0..2000u32)
        .map(|i| (internal_key(format!("key{i:05}").as_bytes(), 5, ValueKind::Value), vec![b'v'; 100]))
        .collect();
    write_table(&fs, "/db/t.ldb", &entries, TableOptions { compression: false, ..Default::default() });
    let file = counting(fs.open_random(Path::new("/db/t.ldb")).unwrap());
    let cache = Arc::new(BlockCache::new(1 << 20));
    let table = Table::open(file.clone(), 3, Some(cache.clone()), true).unwrap();
    let after_open = file.reads.load(AtomicOrdering::Relaxed);
    let misses = 1000;
    for i in 0..misses {
        // Interleaved with real keys so the index sends each probe to a real block.
        let uk = format!("key{:05}x", i * 2);
        let found = table.get(&lookup_key(uk.as_bytes(), MAX_SEQUENCE), false).unwrap();
        assert!(found.is_none_or(|(k, _)| user_key(&k) != uk.as_bytes()));
    }
    let filtered_reads = file.reads.load(AtomicOrdering::Relaxed) - after_open;
    assert!(filtered_reads < misses / 20, "bloom filter let {filtered_reads} of {misses} probes read a block");

    let before = file.reads.load(AtomicOrdering::Relaxed);
    table.get(&entries[10].0, true).unwrap();
    table.get(&entries[10].0, true).unwrap();
    table.get(&entries[11].0, true).unwrap();
    assert_eq!(file.reads.load(AtomicOrdering::Relaxed) - before, 1);
    assert!(cache.usage() > 0);
    // Without fill_cache the block is read but not kept.
    let before = file.reads.load(AtomicOrdering::Relaxed);
    table.get(&entries[1500].0, false).unwrap();
    table.get(&entries[1500].0, false).unwrap();
    assert_eq!(file.reads.load(AtomicOrdering::Relaxed) - before, 2);
}
