//! Scenario tests of a read-only open beside a live writer, both on one in-memory file system (as
//! two processes share a disk): what it sees at open and after refreshes, views that outlive the
//! tables their writer deleted, torn tails, writes refused, files never touched, and attempts that
//! race the writer's deletions.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use super::*;
use crate::engine::crc;
use crate::engine::env::{FaultFs, FaultKind, MemFs, WatchFs};
use crate::engine::iter::IterBounds;

const DIR: &str = "/db";

/// Small buffers and tables, so a few thousand writes flush and compact.
fn small() -> Options {
    Options { write_buffer_size: 8 << 10, max_file_size: 8 << 10, ..Options::default() }
}

fn writer(fs: &MemFs) -> Db {
    Db::open(Arc::new(fs.clone()), Path::new(DIR), small()).expect("writer open")
}

fn reader(fs: Arc<dyn Fs>) -> ReadOnlyDb {
    ReadOnlyDb::open(fs, Path::new(DIR), Options { max_open_files: 10, ..small() }).expect("read-only open")
}

type Entries = Vec<(Vec<u8>, Vec<u8>)>;

fn drain(mut it: DbIterator) -> Entries {
    it.seek_to_start();
    let mut out = Vec::new();
    while it.valid() {
        out.push((it.key().to_vec(), it.value().to_vec()));
        it.advance();
    }
    it.status().expect("iterator status");
    out
}

fn scan(db: &ReadOnlyDb, snapshot: Option<&Snapshot>) -> Entries {
    let options = ReadOptions { snapshot: snapshot.map(Snapshot::seq), ..ReadOptions::default() };
    drain(db.iter(&options, false, IterBounds::default()).unwrap())
}

fn expected(model: &BTreeMap<Vec<u8>, Vec<u8>>) -> Entries {
    model.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// Writes keys `from..to` with values tagged `tag`, in batches of ten.
fn fill(db: &Db, model: &mut BTreeMap<Vec<u8>, Vec<u8>>, from: u32, to: u32, tag: &str) {
    for start in (from..to).step_by(10) {
        let mut batch = WriteBatch::new();
        for i in start..(start + 10).min(to) {
            let (k, v) = (format!("key{i:05}").into_bytes(), format!("{tag}-{i:05}-{}", "v".repeat(40)).into_bytes());
            batch.put(&k, &v);
            model.insert(k, v);
        }
        db.write(batch, WriteOptions::default()).unwrap();
    }
}

fn table_files(fs: &MemFs) -> Vec<String> {
    fs.children(Path::new(DIR)).unwrap().into_iter().filter(|n| n.ends_with(".ldb")).collect()
}

#[test]
fn open_sees_every_write_the_writer_acknowledged() {
    let fs = MemFs::new();
    let db = writer(&fs);
    let mut model = BTreeMap::new();
    fill(&db, &mut model, 0, 3000, "a");
    db.delete(b"key00007", WriteOptions::default()).unwrap();
    model.remove(&b"key00007"[..]);
    assert!(db.files_per_level().iter().sum::<usize>() > 0, "some writes are in tables");

    let ro = reader(Arc::new(fs.clone()));
    assert_eq!(scan(&ro, None), expected(&model), "tables and the unflushed logs");
    assert_eq!(ro.last_sequence(), db.last_sequence());
    assert_eq!(ro.get(b"key02999", &ReadOptions::default()).unwrap(), model.get(&b"key02999"[..]).cloned());
    assert_eq!(ro.get(b"key00007", &ReadOptions::default()).unwrap(), None);
    assert!(ro.files_per_level().iter().sum::<usize>() > 0);
    assert!(ro.property("leveldb.stats").unwrap().is_some());
    assert!(ro.approximate_size(b"key00000", b"key99999").unwrap() > 0);
}

#[test]
fn refresh_follows_later_writes_flushes_and_compactions() {
    let fs = MemFs::new();
    let db = writer(&fs);
    let mut model = BTreeMap::new();
    fill(&db, &mut model, 0, 500, "a");
    let ro = reader(Arc::new(fs.clone()));
    let at_open = expected(&model);

    fill(&db, &mut model, 250, 2500, "b");
    for i in (0..500).step_by(7) {
        let k = format!("key{i:05}").into_bytes();
        db.delete(&k, WriteOptions::default()).unwrap();
        model.remove(&k);
    }
    assert_eq!(scan(&ro, None), at_open, "nothing changes until a refresh");
    let report = ro.refresh().unwrap();
    assert_eq!(report.attempts, 1);
    assert_eq!(report.sequence, db.last_sequence());
    assert_eq!(scan(&ro, None), expected(&model));

    let before = table_files(&fs);
    db.compact_range(None, None).unwrap();
    assert!(before.iter().any(|t| !table_files(&fs).contains(t)), "the compaction deleted tables");
    ro.refresh().unwrap();
    assert_eq!(scan(&ro, None), expected(&model));
}

#[test]
fn views_held_before_a_refresh_outlive_the_tables_the_writer_deletes() {
    let fs = MemFs::new();
    let db = writer(&fs);
    let mut model = BTreeMap::new();
    fill(&db, &mut model, 0, 2000, "old");
    db.compact_range(None, None).unwrap();
    let old = expected(&model);

    let ro = reader(Arc::new(fs.clone()));
    let held = ro.iter(&ReadOptions::default(), false, IterBounds::default()).unwrap();
    let snapshot = ro.snapshot().unwrap();
    let old_tables = table_files(&fs);

    fill(&db, &mut model, 0, 2000, "new");
    db.compact_range(None, None).unwrap();
    assert!(old_tables.iter().all(|t| !table_files(&fs).contains(t)), "every table it holds is deleted");
    ro.refresh().unwrap();

    // With room for one open table per cache shard, the old tables were evicted long ago: the
    // held views read them through their pins, never by reopening the deleted files.
    assert_eq!(scan(&ro, None), expected(&model));
    assert_eq!(drain(held), old, "an iterator keeps its view");
    assert_eq!(scan(&ro, Some(&snapshot)), old, "so does a snapshot");
    let at = ReadOptions { snapshot: Some(snapshot.seq()), ..ReadOptions::default() };
    assert_eq!(ro.get(b"key01234", &at).unwrap(), old.iter().find(|(k, _)| k == b"key01234").map(|(_, v)| v.clone()));
    drop(snapshot);

    // A writer reopening starts a new MANIFEST and folds its logs into a table.
    db.close().unwrap();
    let db = writer(&fs);
    fill(&db, &mut model, 1990, 2010, "again");
    let report = ro.refresh().unwrap();
    assert_eq!(scan(&ro, None), expected(&model));
    assert_eq!(report.logs.first(), Some(&db.current_log_number()), "only the new writer's logs");
}

/// The first half of a full log record of `payload`, as an append in progress leaves it, for a
/// file now `at` bytes long.
fn torn_record(payload: &[u8], at: u64) -> Vec<u8> {
    let block_left = crate::engine::wal::format::BLOCK_SIZE - at as usize % crate::engine::wal::format::BLOCK_SIZE;
    assert!(payload.len() + 7 <= block_left, "the record fits the block");
    let mut record = crc::mask(crc::extend(crc::value(&[1]), payload)).to_le_bytes().to_vec();
    record.extend_from_slice(&(payload.len() as u16).to_le_bytes());
    record.push(1);
    record.extend_from_slice(payload);
    record.truncate(record.len() / 2);
    record
}

#[test]
fn torn_tails_of_the_manifest_and_the_log_are_dropped() {
    let fs = MemFs::new();
    let db = writer(&fs);
    let mut model = BTreeMap::new();
    fill(&db, &mut model, 0, 1000, "a");
    db.compact_range(None, None).unwrap();
    fill(&db, &mut model, 1000, 1010, "b");
    let dir = Path::new(DIR);

    // Batches whose append will be cut: a small one halfway, a large one after its first
    // fragment and just before its end.
    let log_number = db.current_log_number();
    let log = filename::log_file(dir, log_number);
    let start = fs.file_size(&log).unwrap();
    let mut batch = WriteBatch::new();
    batch.put(b"torn-small", b"x");
    db.write(batch, WriteOptions::default()).unwrap();
    let small_end = fs.file_size(&log).unwrap();
    let mut batch = WriteBatch::new();
    batch.put(b"torn-large-1", &[7u8; 70_000]);
    batch.put(b"torn-large-2", b"y");
    db.write(batch, WriteOptions::default()).unwrap();
    let full = fs.read_to_end(&log).unwrap();
    let manifest = lock(&db.inner.versions).manifest_number();
    let version = db.inner.view().version.clone();
    db.close().unwrap();

    // An edit that would delete every table, cut off halfway through its append.
    let mut edit = VersionEdit::default();
    for (level, files) in version.files.iter().enumerate() {
        edit.deleted_files.extend(files.iter().map(|f| (level, f.number)));
    }
    let path = filename::descriptor_file(dir, manifest);
    let size = fs.file_size(&path).unwrap();
    append(&fs, &path, &torn_record(&edit.encode(), size));

    let block = crate::engine::wal::format::BLOCK_SIZE as u64;
    let first_fragment_end = (small_end / block + 1) * block;
    for cut in [start + (small_end - start) / 2, first_fragment_end, full.len() as u64 - 3] {
        let file = fs.create(&log).unwrap();
        file.append(&full[..cut as usize]).unwrap();
        let ro = reader(Arc::new(fs.clone()));
        let mut got = scan(&ro, None);
        if cut > small_end {
            let whole = got.iter().position(|(k, _)| k == b"torn-small").expect("the small batch is whole");
            got.remove(whole);
        }
        assert_eq!(got, expected(&model), "cut at {cut}: every whole batch, no part of the torn one");
        let report = ro.refresh().unwrap();
        assert_eq!(report.torn_logs, vec![log_number], "cut at {cut}");
        assert_eq!((report.manifest, report.tables), (manifest, version.files.iter().map(Vec::len).sum()));
    }
}

/// Appends `data` to the file at `path` (which nothing is writing).
fn append(fs: &MemFs, path: &Path, data: &[u8]) {
    let old = fs.read_to_end(path).unwrap();
    let file = fs.create(path).unwrap();
    file.append(&old).unwrap();
    file.append(data).unwrap();
}

#[test]
fn a_read_only_open_never_changes_a_file() {
    let fs = MemFs::new();
    let db = writer(&fs);
    let mut model = BTreeMap::new();
    fill(&db, &mut model, 0, 1500, "a");

    // Every mutating operation would fail, and is counted.
    let faulty = FaultFs::new(Arc::new(fs.clone()));
    faulty.fail_at(1, &[FaultKind::Append, FaultKind::Sync, FaultKind::Metadata], true);
    let watch = WatchFs::new(Arc::new(faulty.clone()));
    let ro = reader(Arc::new(watch.clone()));
    let snapshot = ro.snapshot().unwrap();
    let held = ro.iter(&ReadOptions::default(), true, IterBounds::default()).unwrap();
    assert_eq!(ro.get(b"key00001", &ReadOptions::default()).unwrap(), model.get(&b"key00001"[..]).cloned());
    fill(&db, &mut model, 1000, 2500, "b");
    db.compact_range(None, None).unwrap();
    ro.refresh().unwrap();
    assert_eq!(scan(&ro, None), expected(&model));
    assert_eq!(drain(held).len(), 1500);
    assert_eq!(scan(&ro, Some(&snapshot)).len(), 1500);
    ro.approximate_size(b"a", b"z").unwrap();
    ro.property("leveldb.sstables").unwrap();
    ro.close().unwrap();
    assert!(matches!(ro.refresh(), Err(Error::Closed)));

    assert_eq!(watch.mutations(), 0, "no file or directory created, written, renamed, deleted or locked");
    assert_eq!(faulty.injected(), 0);
    assert!(fs.lock(&filename::lock_file(Path::new(DIR))).is_err(), "the writer still holds its LOCK");
}

#[test]
fn writes_to_a_read_only_open_fail_before_touching_anything() {
    let fs = MemFs::new();
    writer(&fs).put(b"k", b"v", WriteOptions::default()).unwrap();
    let handle = DbHandle::open(Arc::new(fs.clone()), Path::new(DIR), small(), true).unwrap();
    assert!(!handle.write_would_stall());
    assert!(matches!(handle.write(WriteBatch::new(), WriteOptions::default()), Err(Error::ReadOnly("write"))));
    assert!(matches!(handle.put(b"k", b"w", WriteOptions::default()), Err(Error::ReadOnly("write"))));
    let cleared = handle.clear_range(&ReadOptions::default(), false, IterBounds::default(), None);
    assert!(matches!(cleared, Err(Error::ReadOnly("clear"))));
    assert!(matches!(handle.compact_range(None, None), Err(Error::ReadOnly("compact"))));
    assert!(matches!(handle.writer("serve"), Err(Error::ReadOnly("serve"))));
    assert_eq!(handle.get(b"k", &ReadOptions::default()).unwrap(), Some(b"v".to_vec()));
    handle.refresh().unwrap();
    let message = Error::ReadOnly("write").to_string();
    assert!(message.contains("read-only") && message.contains("write"), "{message}");
}

#[test]
fn a_missing_database_is_never_created() {
    let fs = MemFs::new();
    let watch = WatchFs::new(Arc::new(fs.clone()));
    let options = Options { create_if_missing: true, ..Options::default() };
    for _ in 0..2 {
        let err =
            ReadOnlyDb::open(Arc::new(watch.clone()), Path::new(DIR), options.clone()).err().expect("no database");
        assert!(matches!(&err, Error::InvalidArgument(m) if m.contains("does not exist")), "{err}");
        fs.create_dir_all(Path::new(DIR)).unwrap(); // an empty directory is no database either
    }
    assert_eq!(watch.mutations(), 0);
    writer(&fs).close().unwrap();
    let exists = Options { error_if_exists: true, ..Options::default() };
    assert!(ReadOnlyDb::open(Arc::new(fs), Path::new(DIR), exists).is_err());
}

#[test]
fn an_attempt_that_races_a_deletion_starts_over_and_one_that_always_does_gives_up() {
    let fs = MemFs::new();
    let db = writer(&fs);
    let mut model = BTreeMap::new();
    fill(&db, &mut model, 0, 1000, "a");
    let watch = WatchFs::new(Arc::new(fs.clone()));
    let ro = reader(Arc::new(watch.clone()));

    fill(&db, &mut model, 1000, 2000, "b");
    watch.vanish_opens(1);
    assert_eq!(ro.refresh().unwrap().attempts, 2, "a table deleted before it was opened");
    fill(&db, &mut model, 2000, 2100, "c");
    watch.vanish_log_reads(1);
    assert_eq!(ro.refresh().unwrap().attempts, 2, "a log deleted between listing and reading");
    assert_eq!(scan(&ro, None), expected(&model));

    let seen = expected(&model);
    fill(&db, &mut model, 2100, 3000, "d");
    watch.vanish_log_reads(u64::MAX);
    let err = ro.refresh().expect_err("gives up");
    assert!(matches!(&err, Error::Io { .. }) && err.to_string().contains("gave up after"), "{err}");
    assert_eq!(scan(&ro, None), seen, "the old view is still there");
    watch.vanish_log_reads(0);
    ro.refresh().unwrap();
    assert_eq!(scan(&ro, None), expected(&model));
}
