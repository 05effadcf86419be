//! Compatibility with real LevelDB (classic-level 3.0.0, LevelDB 1.20): `testdata/fixture.ldb` was
//! written by `testdata/make_fixture.js`, and `testdata/fixture.manifest` lists every entry it holds.

use std::path::Path;
use std::sync::atomic::Ordering as AtomicOrdering;
use std::sync::Arc;

use super::{check_against_model, check_gets, counting, write_table, Entries, Rng};
use crate::engine::env::{Fs, MemFs, PosixFs};
use crate::engine::key::{
    compare_internal, internal_key, lookup_key, parse_internal_key, user_key, ValueKind, MAX_SEQUENCE,
};
use crate::engine::sstable::cache::BlockCache;
use crate::engine::sstable::table::Table;
use crate::engine::sstable::table_builder::TableOptions;

const FIXTURE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/engine/sstable/testdata");

/// Decodes the manifest's byte-string escape: printable ASCII as is, `\xHH` otherwise, `""` for
/// the empty string.
fn unescape(field: &str) -> Vec<u8> {
    if field == "\"\"" {
        return Vec::new();
    }
    let bytes = field.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            out.push(u8::from_str_radix(&field[i + 2..i + 4], 16).unwrap());
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// The entries the fixture table must hold: one line per write, `seq kind key value`.
fn fixture_entries() -> Entries {
    let text = std::fs::read_to_string(format!("{FIXTURE_DIR}/fixture.manifest")).unwrap();
    let mut entries: Entries = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split(' ').collect();
            let kind = if f[1] == "1" { ValueKind::Value } else { ValueKind::Deletion };
            (internal_key(&unescape(f[2]), f[0].parse().unwrap(), kind), unescape(f[3]))
        })
        .collect();
    entries.sort_by(|a, b| compare_internal(&a.0, &b.0));
    entries
}

#[test]
fn reads_a_table_written_by_leveldb() {
    let entries = fixture_entries();
    assert!(entries.len() >= 3000);
    assert!(entries.iter().any(|(k, _)| parse_internal_key(k).unwrap().kind == ValueKind::Deletion));
    assert!(entries.iter().any(|(_, v)| v.len() > 4096));
    let path = format!("{FIXTURE_DIR}/fixture.ldb");
    let file = counting(PosixFs.open_random(Path::new(&path)).unwrap());
    let table = Table::open(file.clone(), 5, Some(Arc::new(BlockCache::new(1 << 20))), true).unwrap();
    assert!(table.has_filter(), "LevelDB's filter block was not found through the metaindex");
    let mut rng = Rng::new(11);
    check_gets(&table, &entries, &mut rng);
    let probes: Vec<Vec<u8>> = (0..300).map(|i| entries[(i * 37) % entries.len()].0.clone()).collect();
    check_against_model(&mut table.iter(false), &entries, &probes, compare_internal);

    // LevelDB's own filters, probed with our hash, must rule out nearly every absent key. No
    // cache here, so every block the filters let through is a read.
    let table = Table::open(file.clone(), 5, None, true).unwrap();
    let before = file.reads.load(AtomicOrdering::Relaxed);
    for i in 0..1000 {
        // Just after real keys, so the probes spread over every data block and its filter.
        let probe = lookup_key(format!("key-{:05}~", i * 3).as_bytes(), MAX_SEQUENCE);
        if let Some((k, _)) = table.get(&probe, false).unwrap() {
            assert!(!user_key(&k).ends_with(b"~"));
        }
    }
    let reads = file.reads.load(AtomicOrdering::Relaxed) - before;
    assert!(reads < 50, "{reads} of 1000 absent keys passed LevelDB's bloom filter");
}

#[test]
fn rebuilding_the_fixture_reproduces_leveldb_bytes() {
    // Same entries, LevelDB's default options: block cuts, prefix compression, restarts, index
    // separators, snappy output, the filter block, metaindex and footer all come out as LevelDB
    // wrote them, byte for byte.
    let entries = fixture_entries();
    let fs = MemFs::new();
    write_table(&fs, "/r/t.ldb", &entries, TableOptions::default());
    let ours = fs.read_to_end(Path::new("/r/t.ldb")).unwrap();
    let theirs = std::fs::read(format!("{FIXTURE_DIR}/fixture.ldb")).unwrap();
    assert_eq!(ours.len(), theirs.len());
    let first_diff = ours.iter().zip(&theirs).position(|(a, b)| a != b);
    assert_eq!(first_diff, None, "first differing byte");
}
