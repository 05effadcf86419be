//! Scenario tests of the whole engine over the in-memory file system: the write path, reads at a
//! sequence, iteration in both directions within bounds, reopen, and what recovery does with a
//! torn or damaged log.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::*;
use crate::engine::env::MemFs;
use crate::engine::iter::IterBounds;
use crate::engine::key;

fn open(fs: &MemFs) -> Db {
    Db::open(Arc::new(fs.clone()), Path::new("/db"), Options::default()).expect("open")
}

fn scan(db: &Db, reverse: bool, bounds: IterBounds) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut it = db.iter(&ReadOptions::default(), reverse, bounds).unwrap();
    it.seek_to_start();
    let mut out = Vec::new();
    while it.valid() {
        out.push((it.key().to_vec(), it.value().to_vec()));
        it.advance();
    }
    it.status().unwrap();
    out
}

fn rng(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

#[test]
fn random_ops_match_a_model_through_reopen() {
    let fs = MemFs::new();
    let mut model = BTreeMap::new();
    let mut seed = 0x2545_f491_4f6c_dd1d;
    for round in 0..3 {
        let db = open(&fs);
        for _ in 0..2000 {
            let k = format!("k{:03}", rng(&mut seed) % 300).into_bytes();
            match rng(&mut seed) % 4 {
                0 => {
                    db.delete(&k, WriteOptions::default()).unwrap();
                    model.remove(&k);
                }
                1 => {
                    let mut batch = WriteBatch::new();
                    for j in 0..3u8 {
                        let mut k2 = k.clone();
                        k2.push(b'0' + j);
                        batch.put(&k2, &[j; 3]);
                        model.insert(k2, vec![j; 3]);
                    }
                    db.write(batch, WriteOptions { sync: round == 1 }).unwrap();
                }
                _ => {
                    let v = format!("v{}", rng(&mut seed)).into_bytes();
                    db.put(&k, &v, WriteOptions::default()).unwrap();
                    model.insert(k, v);
                }
            }
        }
        let all: Vec<_> = model.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        assert_eq!(scan(&db, false, IterBounds::default()), all, "round {round}");
        let mut rev = all.clone();
        rev.reverse();
        assert_eq!(scan(&db, true, IterBounds::default()), rev);
        for (k, v) in &model {
            assert_eq!(db.get(k, &ReadOptions::default()).unwrap().as_ref(), Some(v));
        }
        db.close().unwrap();
        assert!(matches!(db.get(b"x", &ReadOptions::default()), Err(Error::Closed)));
    }
}

#[test]
fn bounds_and_seek_in_both_directions() {
    let fs = MemFs::new();
    let db = open(&fs);
    for k in ["a", "b", "c", "d", "e"] {
        db.put(k.as_bytes(), k.as_bytes(), WriteOptions::default()).unwrap();
    }
    db.delete(b"c", WriteOptions::default()).unwrap();
    let keys = |reverse, lower, upper| -> Vec<String> {
        scan(&db, reverse, IterBounds { lower, upper })
            .into_iter()
            .map(|(k, _)| String::from_utf8(k).unwrap())
            .collect()
    };
    let inc = |s: &str| Bound::Included(s.as_bytes().to_vec());
    let exc = |s: &str| Bound::Excluded(s.as_bytes().to_vec());
    assert_eq!(keys(false, inc("b"), exc("e")), ["b", "d"]);
    assert_eq!(keys(false, exc("b"), inc("e")), ["d", "e"]);
    assert_eq!(keys(true, inc("b"), exc("e")), ["d", "b"]);
    assert_eq!(keys(true, exc("a"), inc("d")), ["d", "b"]);
    assert_eq!(keys(true, exc("a"), inc("c")), ["b"]);
    assert_eq!(keys(false, inc("x"), Bound::Unbounded), Vec::<String>::new());

    let mut it = db.iter(&ReadOptions::default(), false, IterBounds::default()).unwrap();
    it.seek(b"bb");
    assert_eq!(it.key(), b"d");
    let mut rit = db.iter(&ReadOptions::default(), true, IterBounds::default()).unwrap();
    rit.seek(b"cc");
    assert_eq!(rit.key(), b"b");
    let mut bounded =
        db.iter(&ReadOptions::default(), false, IterBounds { lower: inc("b"), upper: Bound::Unbounded }).unwrap();
    bounded.seek(b"a");
    assert!(!bounded.valid(), "a target outside the range exhausts the iterator");
}

#[test]
fn snapshots_and_iterators_see_a_fixed_point() {
    let fs = MemFs::new();
    let db = open(&fs);
    db.put(b"k", b"1", WriteOptions::default()).unwrap();
    let snap = db.snapshot().unwrap();
    let mut it = db.iter(&ReadOptions::default(), false, IterBounds::default()).unwrap();
    db.put(b"k", b"2", WriteOptions::default()).unwrap();
    db.put(b"later", b"x", WriteOptions::default()).unwrap();
    let at = ReadOptions { snapshot: Some(snap.seq()), ..ReadOptions::default() };
    assert_eq!(db.get(b"k", &at).unwrap(), Some(b"1".to_vec()));
    assert_eq!(db.get(b"later", &at).unwrap(), None);
    assert_eq!(db.get(b"k", &ReadOptions::default()).unwrap(), Some(b"2".to_vec()));
    it.seek_to_start();
    assert_eq!((it.key(), it.value()), (&b"k"[..], &b"1"[..]));
    it.advance();
    assert!(!it.valid());
}

fn write_ten(fs: &MemFs) -> PathBuf {
    let db = open(fs);
    for i in 0..10u8 {
        db.put(&[i], &[i; 100], WriteOptions::default()).unwrap();
    }
    let log = filename::log_file(Path::new("/db"), db.current_log_number());
    db.close().unwrap();
    log
}

#[test]
fn torn_log_tail_is_dropped_and_the_rest_recovered_into_a_table() {
    let fs = MemFs::new();
    let log = write_ten(&fs);
    let size = fs.file_size(&log).unwrap();
    // Cut the last record in half: the first nine writes survive.
    fs.truncate(&log, size - 50).unwrap();
    let (db, report) = Db::open_with_report(Arc::new(fs.clone()), Path::new("/db"), Options::default()).unwrap();
    assert_eq!(report.torn_logs.len(), 1);
    assert!(report.recovered_table.is_some());
    assert!(!fs.exists(&log), "the replayed log is retired once its data is in a table");
    assert_eq!(db.get(&[8], &ReadOptions::default()).unwrap(), Some(vec![8; 100]));
    assert_eq!(db.get(&[9], &ReadOptions::default()).unwrap(), None);
    db.put(&[9], b"again", WriteOptions::default()).unwrap();
    db.close().unwrap();
    let db = open(&fs);
    assert_eq!(db.get(&[9], &ReadOptions::default()).unwrap(), Some(b"again".to_vec()));
    assert_eq!(db.get(&[0], &ReadOptions::default()).unwrap(), Some(vec![0; 100]));
}

#[test]
fn damage_before_the_log_tail_fails_open_and_repair_recovers_the_rest() {
    let fs = MemFs::new();
    // Older data already in a table: repair must keep it.
    let db = open(&fs);
    db.put(b"table-key", b"kept", WriteOptions::default()).unwrap();
    db.close().unwrap();
    let log = write_ten(&fs);
    let mut data = fs.read_to_end(&log).unwrap();
    data[10] ^= 0x80; // inside the first record
    fs.create(&log).unwrap().append(&data).unwrap();
    let err = Db::open(Arc::new(fs.clone()), Path::new("/db"), Options::default()).err().expect("open fails");
    assert!(err.is_corruption(), "{err}");

    let fs_arc: Arc<dyn Fs> = Arc::new(fs.clone());
    repair(&fs_arc, Path::new("/db")).unwrap();
    let db = open(&fs);
    assert_eq!(db.get(b"table-key", &ReadOptions::default()).unwrap(), Some(b"kept".to_vec()));
    // The damaged block held all ten small records; LevelDB's repair loses them too.
    assert_eq!(db.get(&[9], &ReadOptions::default()).unwrap(), None);
    db.put(b"after", b"repair", WriteOptions::default()).unwrap();
    db.close().unwrap();
    let db = open(&fs);
    assert_eq!(db.get(b"after", &ReadOptions::default()).unwrap(), Some(b"repair".to_vec()));
    assert_eq!(db.get(b"table-key", &ReadOptions::default()).unwrap(), Some(b"kept".to_vec()));
}

#[test]
fn lock_excludes_a_second_open_and_destroy() {
    let fs = MemFs::new();
    let db = open(&fs);
    let fs_arc: Arc<dyn Fs> = Arc::new(fs.clone());
    assert!(matches!(Db::open(fs_arc.clone(), Path::new("/db"), Options::default()), Err(Error::Locked(_))));
    assert!(matches!(destroy(&fs_arc, Path::new("/db")), Err(Error::Locked(_))));
    db.close().unwrap();
    destroy(&fs_arc, Path::new("/db")).unwrap();
    assert!(!fs.exists(Path::new("/db/CURRENT")));
    let opts = Options { create_if_missing: false, ..Options::default() };
    assert!(matches!(Db::open(fs_arc, Path::new("/db"), opts), Err(Error::InvalidArgument(_))));
}

#[test]
fn clear_range_respects_bounds_and_limit() {
    let fs = MemFs::new();
    let db = open(&fs);
    for i in 0..2500u32 {
        db.put(format!("{i:05}").as_bytes(), b"v", WriteOptions::default()).unwrap();
    }
    let bounds = IterBounds { lower: Bound::Included(b"00100".to_vec()), upper: Bound::Excluded(b"02200".to_vec()) };
    db.clear_range(&ReadOptions::default(), true, bounds, Some(1500)).unwrap();
    let left = scan(&db, false, IterBounds::default());
    assert_eq!(left.len(), 1000);
    assert_eq!(left[99].0, b"00099");
    assert_eq!(left[100].0, b"00100");
    assert_eq!(left[700].0, b"02200");
}

fn small(fs: &MemFs) -> Db {
    let options =
        Options { write_buffer_size: 16 << 10, max_file_size: 32 << 10, block_size: 1024, ..Options::default() };
    Db::open(Arc::new(fs.clone()), Path::new("/db"), options).expect("open")
}

#[test]
fn flushes_and_compactions_keep_every_write_and_no_deleted_key() {
    let fs = MemFs::new();
    let mut model = BTreeMap::new();
    let mut seed = 0x1234_5678_9abc_def1;
    let db = small(&fs);
    let snap = db.snapshot().unwrap();
    let mut snap_model = model.clone();
    for i in 0..20_000u64 {
        let k = format!("key{:05}", rng(&mut seed) % 3000).into_bytes();
        if rng(&mut seed).is_multiple_of(5) {
            db.delete(&k, WriteOptions::default()).unwrap();
            model.remove(&k);
        } else {
            let v = format!("value-{i}-{}", "x".repeat((i % 50) as usize)).into_bytes();
            db.put(&k, &v, WriteOptions::default()).unwrap();
            model.insert(k, v);
        }
        if i == 5000 {
            snap_model = model.clone();
        }
    }
    let levels = db.files_per_level();
    assert!(levels.iter().sum::<usize>() > 1, "expected tables, got {levels:?}");
    let all: Vec<_> = model.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    assert_eq!(scan(&db, false, IterBounds::default()), all);
    let mut rev = all.clone();
    rev.reverse();
    assert_eq!(scan(&db, true, IterBounds::default()), rev);
    for i in 0..3000 {
        let k = format!("key{i:05}").into_bytes();
        assert_eq!(db.get(&k, &ReadOptions::default()).unwrap(), model.get(&k).cloned(), "key {i}");
    }
    // The snapshot taken at the start still sees the empty database through compactions.
    let at = ReadOptions { snapshot: Some(snap.seq()), ..ReadOptions::default() };
    assert_eq!(db.get(b"key00001", &at).unwrap(), None);
    drop(snap);
    let _ = snap_model;

    db.compact_range(None, None).unwrap();
    let after = db.files_per_level();
    assert_eq!(after[0], 0, "compactRange empties level 0: {after:?}");
    // The tables it replaced are deleted once no reader holds them, not at the next open.
    let tables = fs.children(Path::new("/db")).unwrap().iter().filter(|n| n.ends_with(".ldb")).count();
    assert_eq!(tables, after.iter().sum::<usize>(), "no obsolete tables left on disk");
    assert_eq!(scan(&db, false, IterBounds::default()), all);
    db.close().unwrap();

    let db = small(&fs);
    assert_eq!(scan(&db, false, IterBounds::default()), all, "after reopen");
    // Old logs are gone: besides the live one there may only be the empty spare the worker
    // creates ahead of the next memtable switch.
    let names = fs.children(Path::new("/db")).unwrap();
    let live = format!("{:06}.log", db.current_log_number());
    for name in names.iter().filter(|n| n.ends_with(".log") && **n != live) {
        assert_eq!(fs.file_size(&Path::new("/db").join(name)).unwrap(), 0, "{name} in {names:?}");
    }
}

#[test]
fn deletes_survive_compaction_into_deeper_levels() {
    let fs = MemFs::new();
    let db = small(&fs);
    for i in 0..3000u32 {
        db.put(format!("{i:05}").as_bytes(), &[1u8; 100], WriteOptions::default()).unwrap();
    }
    db.compact_range(None, None).unwrap();
    for i in (0..3000u32).step_by(2) {
        db.delete(format!("{i:05}").as_bytes(), WriteOptions::default()).unwrap();
    }
    db.compact_range(None, None).unwrap();
    db.close().unwrap();
    let db = small(&fs);
    for i in 0..3000u32 {
        let got = db.get(format!("{i:05}").as_bytes(), &ReadOptions::default()).unwrap();
        assert_eq!(got.is_some(), i % 2 == 1, "key {i}");
    }
    assert_eq!(scan(&db, false, IterBounds::default()).len(), 1500);
    assert!(db.approximate_size(b"00000", b"99999").unwrap() > 0);
}

/// A small database holding `key00000`, `key00002`, ... `key01998` (values `[7; 20]`) in tables
/// below level 0.
fn even_keys_below_level_0(fs: &MemFs) -> Db {
    let db = small(fs);
    for i in (0..2000u32).step_by(2) {
        db.put(format!("key{i:05}").as_bytes(), &[7u8; 20], WriteOptions::default()).unwrap();
    }
    db.compact_range(None, None).unwrap();
    db
}

#[test]
fn reads_that_keep_missing_a_table_get_it_compacted() {
    let fs = MemFs::new();
    let db = even_keys_below_level_0(&fs);
    assert_eq!(db.files_per_level()[0], 0);
    // Newer versions of the same keys land in a few level-0 tables (fewer than the trigger).
    // Reads at a snapshot taken before them pass those tables' bloom filters, read a block in
    // vain, and find the old version deeper: the reads LevelDB charges to a table's seek budget.
    // (A table whose filter rules the key out costs no read and is not charged.)
    let snapshot = db.snapshot().unwrap();
    for i in (0..600u32).step_by(2) {
        db.put(format!("key{i:05}").as_bytes(), &[9u8; 60], WriteOptions::default()).unwrap();
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while db.inner.view().imm.is_some() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let before = db.files_per_level()[0];
    assert!((1..compaction::L0_COMPACTION_TRIGGER).contains(&before), "level 0 holds {before}");
    let at_snapshot = ReadOptions { snapshot: Some(snapshot.seq()), ..ReadOptions::default() };
    for round in 0..3 {
        for i in (0..600u32).step_by(2) {
            let got = db.get(format!("key{i:05}").as_bytes(), &at_snapshot).unwrap();
            assert_eq!(got, Some(vec![7u8; 20]), "round {round} key {i}");
        }
    }
    while db.files_per_level()[0] >= before && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert!(db.files_per_level()[0] < before, "a seek compaction ran: {:?}", db.files_per_level());
    for i in (0..600u32).step_by(2) {
        let key = format!("key{i:05}");
        assert_eq!(db.get(key.as_bytes(), &ReadOptions::default()).unwrap(), Some(vec![9u8; 60]), "{key}");
        assert_eq!(db.get(key.as_bytes(), &at_snapshot).unwrap(), Some(vec![7u8; 20]), "{key} at the snapshot");
    }
}

#[test]
fn memory_only_reads_report_incomplete_instead_of_touching_the_disk() {
    let fault = crate::engine::env::FaultFs::new(Arc::new(MemFs::new()));
    let fs: Arc<dyn Fs> = Arc::new(fault.clone());
    let db = Db::open(fs.clone(), Path::new("/db"), Options::default()).unwrap();
    for i in 0..500u32 {
        db.put(format!("{i:05}").as_bytes(), b"in a table", WriteOptions::default()).unwrap();
    }
    db.compact_range(None, None).unwrap();
    db.put(b"memtable", b"in memory", WriteOptions::default()).unwrap();
    db.close().unwrap();
    let db = Db::open(fs, Path::new("/db"), Options::default()).unwrap();
    fault.set_cold(true);
    let memory_only = ReadOptions { fill_cache: true, memory_only: true, ..ReadOptions::default() };
    // The table is not even open yet: opening it reads the disk.
    assert!(matches!(db.get(b"00007", &memory_only), Err(Error::Incomplete)));
    // Reads that may wait succeed, and open the table and cache the block they read.
    let may_wait = ReadOptions { fill_cache: true, ..ReadOptions::default() };
    assert_eq!(db.get(b"00007", &may_wait).unwrap(), Some(b"in a table".to_vec()));
    // Now memory answers from the cached block, and from the memtable for a fresh write. (The
    // write made before the reopen went to a table with the recovered log.)
    assert_eq!(db.get(b"00007", &memory_only).unwrap(), Some(b"in a table".to_vec()));
    assert_eq!(db.get(b"memtable", &may_wait).unwrap(), Some(b"in memory".to_vec()));
    db.put(b"fresh", b"v", WriteOptions::default()).unwrap();
    assert_eq!(db.get(b"fresh", &memory_only).unwrap(), Some(b"v".to_vec()));
    // A block not cached, in pages the OS does not hold, would wait on the disk.
    assert!(matches!(db.get(b"00480", &memory_only), Err(Error::Incomplete)));
    fault.set_cold(false);
    assert_eq!(db.get(b"00480", &memory_only).unwrap(), Some(b"in a table".to_vec()));
}

#[test]
fn reads_that_a_bloom_filter_answers_cost_no_seek_budget() {
    let fs = MemFs::new();
    let db = even_keys_below_level_0(&fs);
    // Odd keys across the same range land in level 0; their filters rule out every even key.
    for i in (1..600u32).step_by(2) {
        db.put(format!("key{i:05}").as_bytes(), &[9u8; 60], WriteOptions::default()).unwrap();
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while db.inner.view().imm.is_some() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert!(db.files_per_level()[0] > 0, "level 0 holds the odd keys");
    for _ in 0..3 {
        for i in (0..600u32).step_by(2) {
            assert!(db.get(format!("key{i:05}").as_bytes(), &ReadOptions::default()).unwrap().is_some());
        }
    }
    // Every one of the 900 reads consulted a level-0 table in vain; only the filters' rare false
    // positives (about 1%) read a block there, and only those are charged (each budget starts at
    // 100 for tables this small).
    let charged: i64 = lock(&db.inner.seek_budgets).values().map(|left| 100 - left).sum();
    assert!(charged < 45, "reads charged: {charged} of 900");
}

#[test]
fn a_compaction_split_across_threads_keeps_every_write_and_a_sorted_level() {
    let fs = MemFs::new();
    let db = small(&fs);
    let key = |i: u32| format!("key{i:05}").into_bytes();
    let mut seed = 0x9e37_79b9_7f4a_7c15;
    // Values that do not compress, so that the tables have the sizes their options say.
    let mut value = |tag: &str| {
        let mut v = tag.as_bytes().to_vec();
        v.extend((0..12).flat_map(|_| rng(&mut seed).to_le_bytes()));
        v
    };
    for i in 0..4000u32 {
        db.put(&key(i), &value("first"), WriteOptions::default()).unwrap();
    }
    db.compact_range(None, None).unwrap();
    // Every key again, in a scattered order, with every third deleted: level 0 then spans all of
    // level 1, and the compaction that merges them is large enough to split.
    let mut model = BTreeMap::new();
    for n in 0..4000u32 {
        let i = (n * 2477) % 4000;
        if i % 3 == 0 {
            db.delete(&key(i), WriteOptions::default()).unwrap();
        } else {
            let v = value("second");
            db.put(&key(i), &v, WriteOptions::default()).unwrap();
            model.insert(key(i), v);
        }
    }
    db.compact_range(None, None).unwrap();
    if std::thread::available_parallelism().map_or(1, |n| n.get()) > 1 {
        let stats = db.property("leveldb.stats").unwrap().unwrap_or_default();
        assert!(
            stats.contains("split across threads: ") && !stats.contains("split across threads: 0\n"),
            "no compaction was split:\n{stats}"
        );
    }
    let version = db.inner.view().version.clone();
    for (level, files) in version.files.iter().enumerate().skip(1) {
        for pair in files.windows(2) {
            assert!(
                key::user_key(&pair[0].largest) < key::user_key(&pair[1].smallest),
                "level {level} overlaps between tables {} and {}",
                pair[0].number,
                pair[1].number
            );
        }
    }
    let all: Vec<_> = model.into_iter().collect();
    assert_eq!(scan(&db, false, IterBounds::default()), all);
    db.close().unwrap();
    let db = small(&fs);
    assert_eq!(scan(&db, false, IterBounds::default()), all, "after reopen");
}

#[test]
fn close_flushes_a_memtable_waiting_for_its_flush() {
    // With small memtables and tables, compactions run most of the time, so a close made just
    // after a memtable switch usually finds the worker inside one, the full memtable unflushed.
    for round in 0..10u32 {
        let fs = MemFs::new();
        let db = small(&fs);
        let mut switches = 0;
        let mut i = 0u32;
        while switches < 6 {
            let before = db.current_log_number();
            let k = format!("key{:06}", (i.wrapping_mul(7919) ^ round) % 50_000).into_bytes();
            db.put(&k, &[(i % 251) as u8; 200], WriteOptions::default()).unwrap();
            i += 1;
            if db.current_log_number() != before {
                switches += 1;
            }
        }
        let live = format!("{:06}.log", db.current_log_number());
        db.close().unwrap();
        let names = fs.children(Path::new("/db")).unwrap();
        for name in names.iter().filter(|n| n.ends_with(".log") && **n != live) {
            let size = fs.file_size(&Path::new("/db").join(name)).unwrap();
            assert_eq!(size, 0, "round {round}: {name} still holds writes after close: {names:?}");
        }
    }
}
