//! The database: the write path (log, then memtable, then publish), point reads, iterators and
//! snapshots over a consistent [`ReadView`], and the lifecycle (open, close, destroy, repair).
//!
//! Threads: any thread may call any method. Writes are serialised by one mutex; readers never take
//! it. A write becomes visible when `last_sequence` is raised past it, after its log record has
//! been appended and its entries inserted, so a reader sees whole batches or nothing.
//!
//! Durability (docs/format.md and shared reliability notes, I1-I6): a write returns only after its
//! log record reached the OS; with `sync` it also waits for an fsync of the log, which concurrent
//! sync writers share (group commit). A failed log append or sync poisons the database: every later
//! write fails, reads of acknowledged data keep working, and reopening recovers.

mod destroy;
mod recovery;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use crate::engine::env::{FileLock, Fs, WritableFile};
use crate::engine::error::{Error, Result};
use crate::engine::filename::{self, FileKind};
use crate::engine::iter::{DbIterator, InternalIterator, IterBounds, MergingIterator};
use crate::engine::key::SequenceNumber;
use crate::engine::memtable::{Lookup, MemTable};
use crate::engine::options::{Options, ReadOptions, WriteOptions};
use crate::engine::snapshot::{Snapshot, SnapshotList};
use crate::engine::version::{VersionEdit, VersionSet};
use crate::engine::wal::LogWriter;
use crate::engine::write_batch::WriteBatch;

pub use destroy::{destroy, repair};

/// What readers read: the memtables, newest first. Replaced (never mutated) when the set changes,
/// so a reader holding one sees a consistent set for as long as it likes.
pub struct ReadView {
    /// The memtable receiving writes.
    pub mem: Arc<MemTable>,
}

/// A log being written, shared with sync waiters that fsync it outside the write lock.
struct LiveLog {
    number: u64,
    file: Arc<dyn WritableFile>,
    appended: AtomicU64,
    synced: Mutex<u64>,
}

struct WriteState {
    log: LogWriter,
    live: Arc<LiveLog>,
    versions: VersionSet,
}

struct Inner {
    dir: PathBuf,
    options: Options,
    lock: Mutex<Option<Box<dyn FileLock>>>,
    write: Mutex<WriteState>,
    view: RwLock<Arc<ReadView>>,
    last_sequence: AtomicU64,
    snapshots: Arc<SnapshotList>,
    poison: Mutex<Option<Arc<Error>>>,
    closed: AtomicBool,
}

/// An open database. Cheap to clone; all clones share one handle.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Facts about recovery, for tests and `getProperty`.
#[derive(Clone, Debug, Default)]
pub struct OpenReport {
    /// Logs replayed at open.
    pub replayed_logs: Vec<u64>,
    /// Logs whose torn tail was dropped.
    pub torn_logs: Vec<u64>,
}

impl Db {
    /// Opens (or creates) the database in `dir`.
    pub fn open(fs: Arc<dyn Fs>, dir: &Path, options: Options) -> Result<Db> {
        Db::open_with_report(fs, dir, options).map(|(db, _)| db)
    }

    /// Opens the database and says what recovery did.
    pub fn open_with_report(fs: Arc<dyn Fs>, dir: &Path, options: Options) -> Result<(Db, OpenReport)> {
        let recovered = recovery::recover(&fs, dir, &options)?;
        let mut versions = recovered.versions;
        let mem = Arc::new(recovered.mem);

        // Every open starts a fresh log; recovered data stays in the logs it came from until it
        // is written to a table.
        let log_number = versions.new_file_number();
        let file = fs.create(&filename::log_file(dir, log_number))?;
        // TODO(#3): flush the recovered memtable to a level-0 table and drop the old logs.
        let oldest_needed = if mem.is_empty() {
            log_number
        } else {
            recovered.replayed_logs.first().copied().unwrap_or(log_number)
        };
        versions.last_sequence = recovered.last_sequence;
        versions.log_and_apply(VersionEdit {
            log_number: Some(oldest_needed),
            prev_log_number: Some(0),
            ..VersionEdit::default()
        })?;
        remove_obsolete_files(fs.as_ref(), dir, &versions, log_number);

        let live = Arc::new(LiveLog { number: log_number, file: file.clone(), appended: AtomicU64::new(0), synced: Mutex::new(0) });
        let inner = Inner {
            dir: dir.to_owned(),
            options,
            lock: Mutex::new(Some(recovered.lock)),
            write: Mutex::new(WriteState { log: LogWriter::new(file), live, versions }),
            view: RwLock::new(Arc::new(ReadView { mem })),
            last_sequence: AtomicU64::new(recovered.last_sequence),
            snapshots: SnapshotList::new(),
            poison: Mutex::new(None),
            closed: AtomicBool::new(false),
        };
        let report = OpenReport { replayed_logs: recovered.replayed_logs, torn_logs: recovered.torn_logs };
        Ok((Db { inner: Arc::new(inner) }, report))
    }

    /// The directory this database lives in.
    pub fn path(&self) -> &Path {
        &self.inner.dir
    }

    /// The options the database was opened with.
    pub fn options(&self) -> &Options {
        &self.inner.options
    }

    fn check_open(&self) -> Result<()> {
        if self.inner.closed.load(Ordering::Acquire) {
            Err(Error::Closed)
        } else {
            Ok(())
        }
    }

    fn poisoned(&self) -> Option<Error> {
        lock(&self.inner.poison).as_ref().map(|e| Error::Poisoned(e.clone()))
    }

    fn poison(&self, err: Error) -> Error {
        let mut slot = lock(&self.inner.poison);
        let cause = slot.get_or_insert_with(|| Arc::new(err)).clone();
        Error::Poisoned(cause)
    }

    /// The last sequence number visible to readers.
    pub fn last_sequence(&self) -> SequenceNumber {
        self.inner.last_sequence.load(Ordering::Acquire)
    }

    fn view(&self) -> Arc<ReadView> {
        self.inner.view.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Applies `batch` atomically. Returns once the batch's log record reached the OS (and, with
    /// `options.sync`, stable storage); the batch is visible to readers by then.
    pub fn write(&self, mut batch: WriteBatch, options: WriteOptions) -> Result<()> {
        self.check_open()?;
        if batch.is_empty() {
            return Ok(());
        }
        let (live, end) = {
            let mut state = lock(&self.inner.write);
            self.check_open()?;
            if let Some(err) = self.poisoned() {
                return Err(err);
            }
            let first = self.last_sequence() + 1;
            batch.set_sequence(first);
            if let Err(e) = state.log.add_record(batch.data()) {
                // The log's tail is now indeterminate: whether the record survives a restart is
                // unknown, so no later write may be acknowledged on top of it.
                return Err(self.poison(e));
            }
            let end = state.log.size();
            state.live.appended.store(end, Ordering::Release);
            let view = self.view();
            view.mem.insert_batch(&batch)?;
            self.inner.last_sequence.store(first + u64::from(batch.count()) - 1, Ordering::Release);
            (state.live.clone(), end)
        };
        if options.sync {
            self.sync_log(&live, end)?;
        }
        Ok(())
    }

    /// Waits until `live` is durable up to `end`. Whoever takes the sync lock first syncs every
    /// append so far, so writers queued behind it usually find their record already covered.
    fn sync_log(&self, live: &LiveLog, end: u64) -> Result<()> {
        let mut synced = lock(&live.synced);
        if *synced >= end {
            return Ok(());
        }
        if let Some(err) = self.poisoned() {
            return Err(err);
        }
        let target = live.appended.load(Ordering::Acquire);
        if let Err(e) = live.file.sync() {
            // Never retry a failed fsync: the kernel may have dropped the dirty pages.
            return Err(self.poison(e));
        }
        *synced = target;
        Ok(())
    }

    /// Convenience for a single put.
    pub fn put(&self, key: &[u8], value: &[u8], options: WriteOptions) -> Result<()> {
        let mut batch = WriteBatch::new();
        batch.put(key, value);
        self.write(batch, options)
    }

    /// Convenience for a single delete.
    pub fn delete(&self, key: &[u8], options: WriteOptions) -> Result<()> {
        let mut batch = WriteBatch::new();
        batch.delete(key);
        self.write(batch, options)
    }

    /// The value of `key` as of `options.snapshot` (or now), or `None`.
    pub fn get(&self, key: &[u8], options: &ReadOptions) -> Result<Option<Vec<u8>>> {
        self.check_open()?;
        let seq = options.snapshot.unwrap_or_else(|| self.last_sequence());
        let view = self.view();
        match view.mem.get(key, seq) {
            Lookup::Found(v) => Ok(Some(v)),
            Lookup::Deleted | Lookup::Missing => Ok(None),
        }
    }

    /// Holds the current state for later reads.
    pub fn snapshot(&self) -> Result<Snapshot> {
        self.check_open()?;
        Ok(self.inner.snapshots.acquire(self.last_sequence()))
    }

    /// An unpositioned iterator over user entries within `bounds`, as of `options.snapshot` or
    /// now. It holds an implicit snapshot and the memtables and tables it reads.
    pub fn iter(&self, options: &ReadOptions, reverse: bool, bounds: IterBounds) -> Result<DbIterator> {
        self.check_open()?;
        let snapshot = self.inner.snapshots.acquire(options.snapshot.unwrap_or_else(|| self.last_sequence()));
        let view = self.view();
        let children: Vec<Box<dyn InternalIterator>> = vec![Box::new(view.mem.iter())];
        let merged = Box::new(MergingIterator::new(children));
        Ok(DbIterator::new(merged, snapshot.seq(), reverse, bounds, Box::new(snapshot)))
    }

    /// Deletes the keys within `bounds`, at most `limit` of them (in iteration order), as a
    /// series of batches: not atomic, as abstract-level allows for `clear()`.
    pub fn clear_range(&self, options: &ReadOptions, reverse: bool, bounds: IterBounds, limit: Option<u64>) -> Result<()> {
        const BATCH_KEYS: usize = 1000;
        let mut it = self.iter(options, reverse, bounds)?;
        it.seek_to_start();
        let mut remaining = limit.unwrap_or(u64::MAX);
        let mut batch = WriteBatch::new();
        while it.valid() && remaining > 0 {
            batch.delete(it.key());
            remaining -= 1;
            if batch.count() as usize >= BATCH_KEYS {
                self.write(std::mem::take(&mut batch), WriteOptions::default())?;
            }
            it.advance();
        }
        it.status()?;
        self.write(batch, WriteOptions::default())
    }

    /// Closes the database: later calls fail with `Error::Closed`, and the directory's lock is
    /// released. Iterators still open keep reading what they hold in memory.
    pub fn close(&self) -> Result<()> {
        let state = lock(&self.inner.write);
        self.inner.closed.store(true, Ordering::Release);
        drop(state);
        lock(&self.inner.lock).take();
        Ok(())
    }

    /// Byte size of the tables overlapping `[start, end)`. Memtable data is not counted, as in
    /// LevelDB.
    pub fn approximate_size(&self, _start: &[u8], _end: &[u8]) -> Result<u64> {
        self.check_open()?;
        Ok(0)
    }

    /// Compacts the key range `[start, end]` (either end open) down the levels.
    pub fn compact_range(&self, _start: Option<&[u8]>, _end: Option<&[u8]>) -> Result<()> {
        self.check_open()?;
        Ok(())
    }

    /// A LevelDB-style property (`leveldb.num-files-at-levelN`, `leveldb.stats`,
    /// `leveldb.sstables`), or `None` for an unknown name.
    pub fn property(&self, name: &str) -> Result<Option<String>> {
        self.check_open()?;
        let state = lock(&self.inner.write);
        let levels = &state.versions.levels;
        if let Some(n) = name.strip_prefix("leveldb.num-files-at-level") {
            return Ok(n.parse::<usize>().ok().and_then(|l| levels.get(l)).map(|f| f.len().to_string()));
        }
        match name {
            "leveldb.stats" => {
                let mut out = String::from(
                    "                               Compactions\nLevel  Files Size(MB) Time(sec) Read(MB) Write(MB)\n--------------------------------------------------\n",
                );
                for (level, files) in levels.iter().enumerate() {
                    let size: u64 = files.iter().map(|f| f.size).sum();
                    if !files.is_empty() {
                        out.push_str(&format!("{level:3} {:8} {:8.0} {:9.0} {:8.0} {:9.0}\n", files.len(), size as f64 / 1048576.0, 0.0, 0.0, 0.0));
                    }
                }
                Ok(Some(out))
            }
            "leveldb.sstables" => {
                let mut out = String::new();
                for (level, files) in levels.iter().enumerate() {
                    out.push_str(&format!("--- level {level} ---\n"));
                    for f in files {
                        out.push_str(&format!(" {}:{}\n", f.number, f.size));
                    }
                }
                Ok(Some(out))
            }
            _ => Ok(None),
        }
    }

    /// The number of the log receiving writes (tests use it to find the file).
    pub fn current_log_number(&self) -> u64 {
        lock(&self.inner.write).live.number
    }
}

/// Deletes files nothing refers to: superseded MANIFESTs, leftover temporary files and logs
/// older than the versions' log number. Failures are ignored; the files are retried next open.
fn remove_obsolete_files(fs: &dyn Fs, dir: &Path, versions: &VersionSet, live_log: u64) {
    let Ok(names) = fs.children(dir) else { return };
    for name in names {
        let keep = match filename::parse_file_name(&name) {
            Some((FileKind::Log, n)) => n >= versions.log_number || n == live_log,
            Some((FileKind::Descriptor, n)) => n >= versions.manifest_number(),
            Some((FileKind::Temp, _)) => false,
            _ => true,
        };
        if !keep {
            let _ = fs.remove_file(&dir.join(&name));
        }
    }
}
