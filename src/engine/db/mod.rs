//! The database: the write path (log, then memtable, then publish), point reads, iterators and
//! snapshots over a consistent [`ReadView`], and the lifecycle (open, close, destroy, repair).
//!
//! Threads: any thread may call any method. Writes are serialised by the write lock; readers never
//! take it. A write becomes visible when `last_sequence` is raised past it, after its log record has
//! been appended and its entries inserted, so a reader sees whole batches or nothing. A background
//! worker (`background.rs`) flushes full memtables to level-0 tables and compacts levels; the
//! files it makes obsolete are deleted on a thread of their own (`deleter.rs`).
//!
//! Lock order: write lock, then versions, then the view. The worker never takes the write lock, so
//! a writer may wait for the worker while holding it.
//!
//! A read-only open (`secondary.rs`) reads the same files beside a writer in another process,
//! with no write path at all; `handle.rs` holds either kind for the binding.
//!
//! Durability (docs/format.md; the reliability notes' I1-I6): a write returns only after its log
//! record reached the OS; with `sync` it also waits for an fsync of the log, which concurrent sync
//! writers share (group commit). A failed log append or sync poisons the database: every later
//! write fails, reads of acknowledged data keep working, and reopening recovers.

mod atomic;
mod background;
mod catch_up;
mod changes;
mod compaction;
mod deleter;
mod destroy;
#[cfg(test)]
mod fault_tests;
mod handle;
mod manifest_follower;
#[cfg(test)]
mod power_loss_tests;
mod properties;
mod reader;
mod recovery;
mod secondary;
#[cfg(test)]
mod secondary_race_tests;
#[cfg(test)]
mod secondary_tests;
mod subcompaction;
mod table_writer;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::engine::env::{FileLock, Fs, WritableFile};
use crate::engine::error::{Error, Result};
use crate::engine::filename::{self, FileKind};
use crate::engine::iter::{DbIterator, InternalIterator, IterBounds, MergingIterator};
use crate::engine::key::SequenceNumber;
use crate::engine::memtable::MemTable;
use crate::engine::options::{Options, ReadOptions, WriteOptions};
use crate::engine::snapshot::{Snapshot, SnapshotList};
use crate::engine::table_cache::TableCache;
use crate::engine::version::{self, Version, VersionEdit, VersionSet};
use crate::engine::wal::LogWriter;
use crate::engine::write_batch::WriteBatch;

pub use atomic::LockedReader;
pub use catch_up::CatchUp;
pub use changes::ChangeListener;
pub use destroy::{destroy, repair};
pub use handle::DbHandle;
pub use reader::PointReader;
pub use secondary::ReadOnlyDb;

/// Level-0 table counts at which writes are slowed, then stopped until compaction catches up
/// (LevelDB's `kL0_SlowdownWritesTrigger` and `kL0_StopWritesTrigger`, which are 8 and 12).
/// Higher than LevelDB's, as RocksDB's are: a burst of batched writes outruns the one level-0
/// compaction at a time, and at 8 and 12 it spent much of its time slowed (1M puts in batches of
/// 1,000: 0.82-0.91M/s, against 1.0M/s at 16 and 24). The cost is read amplification while a
/// burst lasts: a point read checks up to this many more bloom filters, a seek merges up to this
/// many more tables. Compaction still starts at four tables.
pub const L0_SLOWDOWN_TRIGGER: usize = 16;
/// See [`L0_SLOWDOWN_TRIGGER`].
pub const L0_STOP_TRIGGER: usize = 24;

/// What readers read: the memtables and the tables, as of one moment. Replaced (never mutated)
/// when any of them changes, so a reader holding one sees a consistent set for as long as it likes.
pub struct ReadView {
    /// The memtable receiving writes.
    pub mem: Arc<MemTable>,
    /// A full memtable being flushed, if any.
    pub imm: Option<Arc<MemTable>>,
    /// The live tables.
    pub version: Arc<Version>,
}

/// A log being written, shared with sync waiters that fsync it outside the write lock.
struct LiveLog {
    number: u64,
    file: Arc<dyn WritableFile>,
    appended: AtomicU64,
    synced: Mutex<u64>,
}

impl LiveLog {
    fn new(number: u64, file: Arc<dyn WritableFile>) -> Arc<LiveLog> {
        Arc::new(LiveLog { number, file, appended: AtomicU64::new(0), synced: Mutex::new(0) })
    }
}

struct WriteState {
    log: LogWriter,
    live: Arc<LiveLog>,
    log_number: u64,
}

/// A key range; `None` for an open end.
type KeyRange = (Option<Vec<u8>>, Option<Vec<u8>>);

/// What the background worker is asked to do, guarded by `Inner::bg`.
#[derive(Default)]
struct BgState {
    /// The log that holds writes newer than the memtable being flushed.
    imm_log_number: u64,
    /// Work may be waiting (a flush or a compaction).
    scheduled: bool,
    /// A compaction of everything up to this level was asked for by `compact_range`.
    manual: Option<KeyRange>,
    /// Set by `close`: the worker finishes its current job and exits.
    shutting_down: bool,
    /// Counts finished jobs, so waiters can tell progress from a spurious wake-up.
    completed: u64,
}

pub(crate) struct Inner {
    fs: Arc<dyn Fs>,
    dir: PathBuf,
    options: Options,
    lock: Mutex<Option<Box<dyn FileLock>>>,
    write: Mutex<WriteState>,
    versions: Mutex<VersionSet>,
    view: RwLock<Arc<ReadView>>,
    last_sequence: AtomicU64,
    snapshots: Arc<SnapshotList>,
    poison: Mutex<Option<Arc<Error>>>,
    closed: AtomicBool,
    tables: Arc<TableCache>,
    file_numbers: Arc<AtomicU64>,
    /// A log file created ahead of time by the worker, so that switching memtables on a writer's
    /// thread never waits on file creation (which can queue behind the worker's syncs).
    spare_log: Mutex<Option<(u64, Arc<dyn WritableFile>)>>,
    /// Logs switched away from whose data is not yet in a synced table: a sync write must sync
    /// them too, or a power loss could keep it and lose older writes (I3). The worker releases
    /// them, off the writers' thread, once the flush that covers them is installed.
    retired_logs: Mutex<Vec<Arc<LiveLog>>>,
    bg: Mutex<BgState>,
    bg_cv: Condvar,
    live_versions: Mutex<Vec<Weak<Version>>>,
    pending_outputs: Mutex<Vec<u64>>,
    /// Reads each table may still cost in vain before it is compacted, by file number.
    seek_budgets: Mutex<std::collections::HashMap<u64, i64>>,
    /// A table whose seek budget ran out: `(level, file number)`.
    seek_candidate: Mutex<Option<(usize, u64)>>,
    /// Compactions merged in more than one key range at once, for `leveldb.stats`.
    split_compactions: AtomicU64,
    worker: Mutex<Option<JoinHandle<()>>>,
    /// Deletes obsolete files off the worker's thread.
    deleter: Arc<deleter::Deleter>,
    /// Told of every batch written, in sequence order.
    listeners: changes::Listeners,
}

/// An open database. Cheap to clone; all clones share one handle.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Facts about recovery, for tests and `getProperty`.
#[derive(Clone, Debug, Default)]
pub struct OpenReport {
    /// Logs replayed at open.
    pub replayed_logs: Vec<u64>,
    /// Logs whose torn tail was dropped.
    pub torn_logs: Vec<u64>,
    /// The level-0 table the replayed logs were written to, if any.
    pub recovered_table: Option<u64>,
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
        let mut report = OpenReport {
            replayed_logs: recovered.replayed_logs,
            torn_logs: recovered.torn_logs,
            recovered_table: None,
        };

        // What the logs held goes into a level-0 table, so that every open starts with one fresh
        // log and the old ones can go.
        let mut edit = VersionEdit::default();
        if !recovered.mem.is_empty() {
            let number = versions.new_file_number();
            let mem = Arc::new(recovered.mem);
            if let Some(meta) = table_writer::write_table(fs.as_ref(), dir, number, &options, &mut mem.iter())? {
                report.recovered_table = Some(meta.number);
                edit.new_files.push((0, meta));
            }
        }
        let log_number = versions.new_file_number();
        let file = fs.create(&filename::log_file(dir, log_number))?;
        versions.last_sequence = recovered.last_sequence;
        edit.log_number = Some(log_number);
        edit.prev_log_number = Some(0);
        versions.log_and_apply(edit)?;

        let version = versions.current();
        let file_numbers = versions.file_numbers();
        let tables = Arc::new(TableCache::new(
            fs.clone(),
            dir.to_owned(),
            options.max_open_files.saturating_sub(10).max(16),
            options.cache_size,
        ));
        let deleter = deleter::Deleter::start(fs.clone());
        let inner = Arc::new(Inner {
            fs,
            dir: dir.to_owned(),
            lock: Mutex::new(Some(recovered.lock)),
            write: Mutex::new(WriteState {
                log: LogWriter::new(file.clone()),
                live: LiveLog::new(log_number, file),
                log_number,
            }),
            versions: Mutex::new(versions),
            view: RwLock::new(Arc::new(ReadView {
                mem: Arc::new(MemTable::new()),
                imm: None,
                version: version.clone(),
            })),
            last_sequence: AtomicU64::new(recovered.last_sequence),
            snapshots: SnapshotList::new(),
            poison: Mutex::new(None),
            closed: AtomicBool::new(false),
            tables,
            file_numbers,
            spare_log: Mutex::new(None),
            retired_logs: Mutex::new(Vec::new()),
            bg: Mutex::new(BgState::default()),
            bg_cv: Condvar::new(),
            live_versions: Mutex::new(vec![Arc::downgrade(&version)]),
            pending_outputs: Mutex::new(Vec::new()),
            seek_budgets: Mutex::new(std::collections::HashMap::new()),
            seek_candidate: Mutex::new(None),
            split_compactions: AtomicU64::new(0),
            worker: Mutex::new(None),
            deleter,
            listeners: changes::Listeners::default(),
            options,
        });
        // An open returns with the logs it replayed gone, as it always has.
        inner.remove_obsolete_files();
        inner.deleter.wait_idle();
        let worker = background::spawn(&inner)?;
        *lock(&inner.worker) = Some(worker);
        inner.schedule();
        Ok((Db { inner }, report))
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

    /// The last sequence number visible to readers.
    pub fn last_sequence(&self) -> SequenceNumber {
        self.inner.last_sequence.load(Ordering::Acquire)
    }

    /// True when a write now would have to wait for the background worker (a memtable flush or
    /// a level-0 compaction). Callers on a thread that must not block send such writes elsewhere.
    pub fn write_would_stall(&self) -> bool {
        let view = self.inner.view();
        let full = view.mem.approximate_memory_usage() >= self.inner.options.write_buffer_size;
        (full && view.imm.is_some()) || view.version.files[0].len() >= L0_SLOWDOWN_TRIGGER
    }

    /// Applies `batch` atomically. Returns once the batch's log record reached the OS (and, with
    /// `options.sync`, stable storage); the batch is visible to readers by then. May wait for the
    /// background worker when the memtable is full or level 0 has too many tables.
    pub fn write(&self, batch: WriteBatch, options: WriteOptions) -> Result<()> {
        self.check_open()?;
        if batch.is_empty() {
            return Ok(());
        }
        let (live, end) = {
            let mut state = lock(&self.inner.write);
            self.check_open()?;
            self.write_locked(&mut state, batch, options)?
        };
        if options.sync {
            self.sync_through(&live, end)?;
        }
        Ok(())
    }

    /// Logs, inserts and publishes `batch`, then tells the change listeners; returns the log and
    /// the offset a sync must reach. # Requires: the write lock is held (`state`), the batch is
    /// not empty and the database is open.
    fn write_locked(
        &self,
        state: &mut WriteState,
        mut batch: WriteBatch,
        options: WriteOptions,
    ) -> Result<(Arc<LiveLog>, u64)> {
        self.inner.make_room(state, false)?;
        let first = self.last_sequence() + 1;
        batch.set_sequence(first);
        if options.sync {
            state.log.prepare_for_sync(batch.data().len());
        }
        if let Err(e) = state.log.add_record(batch.data()) {
            // The log's tail is now indeterminate: whether the record survives a restart is
            // unknown, so no later write may be acknowledged on top of it.
            return Err(self.inner.poison(e));
        }
        let end = state.log.size();
        state.live.appended.store(end, Ordering::Release);
        self.inner.view().mem.insert_batch(&batch)?;
        self.inner.last_sequence.store(first + u64::from(batch.count()) - 1, Ordering::Release);
        // NOTE: still under the write lock, so listeners see batches in sequence order.
        self.inner.listeners.notify(&batch);
        Ok((state.live.clone(), end))
    }

    /// Waits until the log is synced through `end` (and every older log still holding writes
    /// that are not yet in a synced table).
    fn sync_through(&self, live: &Arc<LiveLog>, end: u64) -> Result<()> {
        let retired: Vec<Arc<LiveLog>> = lock(&self.inner.retired_logs).clone();
        for log in retired.iter().filter(|log| log.number < live.number) {
            self.inner.sync_log(log, log.appended.load(Ordering::Acquire))?;
        }
        self.inner.sync_log(live, end)
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
        self.point_reader(options)?.get(key)
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
        let view = self.inner.view();
        let mut children: Vec<Box<dyn InternalIterator>> = vec![Box::new(view.mem.iter())];
        if let Some(imm) = &view.imm {
            children.push(Box::new(imm.iter()));
        }
        view.version.add_iterators(&self.inner.tables, options.fill_cache, &mut children);
        let merged = Box::new(MergingIterator::new(children));
        Ok(DbIterator::new(merged, snapshot.seq(), reverse, bounds, Box::new((snapshot, view))))
    }

    /// Deletes the keys within `bounds`, at most `limit` of them (in iteration order), as a
    /// series of batches: not atomic, as abstract-level allows for `clear()`.
    pub fn clear_range(
        &self,
        options: &ReadOptions,
        reverse: bool,
        bounds: IterBounds,
        limit: Option<u64>,
    ) -> Result<()> {
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

    /// Closes the database: the background worker finishes its current job and stops, later calls
    /// fail with `Error::Closed`, and the directory's lock is released. Iterators still open keep
    /// reading what they hold.
    pub fn close(&self) -> Result<()> {
        {
            let _state = lock(&self.inner.write);
            if self.inner.closed.swap(true, Ordering::AcqRel) {
                return Ok(());
            }
        }
        lock(&self.inner.bg).shutting_down = true;
        self.inner.bg_cv.notify_all();
        if let Some(worker) = lock(&self.inner.worker).take() {
            let _ = worker.join();
        }
        self.inner.deleter.close();
        lock(&self.inner.lock).take();
        Ok(())
    }

    /// Approximate bytes of table data for keys in `[start, end)`. Memtable data is not counted,
    /// as in LevelDB.
    pub fn approximate_size(&self, start: &[u8], end: &[u8]) -> Result<u64> {
        self.check_open()?;
        self.inner.view().version.approximate_size(&self.inner.tables, start, end)
    }

    /// Flushes the memtable and compacts the tables overlapping `[start, end]` (either end open)
    /// down the levels, waiting until done.
    pub fn compact_range(&self, start: Option<&[u8]>, end: Option<&[u8]>) -> Result<()> {
        self.check_open()?;
        {
            let mut state = lock(&self.inner.write);
            self.inner.make_room(&mut state, true)?;
        }
        self.inner.wait_for(|bg, view| bg.manual.is_none() && view.imm.is_none())?;
        lock(&self.inner.bg).manual = Some((start.map(<[u8]>::to_vec), end.map(<[u8]>::to_vec)));
        self.inner.schedule();
        self.inner.wait_for(|bg, view| bg.manual.is_none() && view.imm.is_none())?;
        // The worker queued the replaced tables for deletion before it let us go.
        self.inner.deleter.wait_idle();
        Ok(())
    }

    /// A LevelDB-style property (`leveldb.num-files-at-levelN`, `leveldb.stats`,
    /// `leveldb.sstables`), or `None` for an unknown name.
    pub fn property(&self, name: &str) -> Result<Option<String>> {
        self.check_open()?;
        let split = self.inner.split_compactions.load(Ordering::Relaxed);
        Ok(properties::property(&self.inner.view().version, name, Some(split)))
    }

    /// The number of the log receiving writes (tests use it to find the file).
    pub fn current_log_number(&self) -> u64 {
        lock(&self.inner.write).log_number
    }

    /// Tables per level, for tests and statistics.
    pub fn files_per_level(&self) -> Vec<usize> {
        self.inner.view().version.files.iter().map(Vec::len).collect()
    }
}

impl Inner {
    fn view(&self) -> Arc<ReadView> {
        self.view.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Replaces the view with `change(current)`.
    fn update_view(&self, change: impl FnOnce(&ReadView) -> ReadView) {
        let mut slot = self.view.write().unwrap_or_else(|e| e.into_inner());
        let next = change(&slot);
        lock(&self.live_versions).push(Arc::downgrade(&next.version));
        *slot = Arc::new(next);
    }

    fn poisoned(&self) -> Option<Error> {
        lock(&self.poison).as_ref().map(|e| Error::Poisoned(e.clone()))
    }

    fn poison(&self, err: Error) -> Error {
        let cause = lock(&self.poison).get_or_insert_with(|| Arc::new(err)).clone();
        self.bg_cv.notify_all();
        Error::Poisoned(cause)
    }

    fn schedule(&self) {
        lock(&self.bg).scheduled = true;
        self.bg_cv.notify_all();
    }

    /// Waits until `done(bg, view)` holds, or the database fails or closes.
    fn wait_for(&self, done: impl Fn(&BgState, &ReadView) -> bool) -> Result<()> {
        let mut bg = lock(&self.bg);
        loop {
            if let Some(err) = self.poisoned() {
                return Err(err);
            }
            if done(&bg, &self.view()) {
                return Ok(());
            }
            if bg.shutting_down {
                return Err(Error::Closed);
            }
            bg = self.bg_cv.wait_timeout(bg, Duration::from_millis(100)).unwrap_or_else(|e| e.into_inner()).0;
        }
    }

    /// Makes sure the memtable has room, switching to a new one (and a new log) when it is full,
    /// or when `force` asks for a flush of whatever it holds.
    ///
    /// # Requires
    /// The write lock is held (`state`).
    fn make_room(&self, state: &mut WriteState, mut force: bool) -> Result<()> {
        let mut slowed = false;
        loop {
            if let Some(err) = self.poisoned() {
                return Err(err);
            }
            let view = self.view();
            let l0 = view.version.files[0].len();
            if l0 >= L0_SLOWDOWN_TRIGGER && !slowed && !force {
                // Give compaction a little room, once per write, rather than stopping abruptly
                // at the stop trigger.
                slowed = true;
                std::thread::sleep(Duration::from_millis(1));
                continue;
            }
            let full = view.mem.approximate_memory_usage() >= self.options.write_buffer_size;
            if !force && !full && l0 < L0_STOP_TRIGGER {
                return Ok(());
            }
            if force && view.mem.is_empty() {
                return Ok(());
            }
            if view.imm.is_some() || l0 >= L0_STOP_TRIGGER {
                let completed = lock(&self.bg).completed;
                // IMPORTANT: the wait looks at the view again. `view` was read before
                // `completed`: the worker may have flushed, finished its last job and gone idle
                // in between, and then no later job would ever end this wait.
                self.wait_for(|bg, now| {
                    bg.completed != completed
                        || (now.imm.is_none() && now.version.files[0].len() < L0_STOP_TRIGGER)
                })?;
                continue;
            }
            // Switch to a fresh memtable and log; the worker flushes the full one.
            let (number, file) = self.take_spare_log()?;
            state.log = LogWriter::new(file.clone());
            let old = std::mem::replace(&mut state.live, LiveLog::new(number, file));
            lock(&self.retired_logs).push(old);
            state.log_number = number;
            lock(&self.bg).imm_log_number = number;
            self.update_view(|v| ReadView {
                mem: Arc::new(MemTable::new()),
                imm: Some(v.mem.clone()),
                version: v.version.clone(),
            });
            self.schedule();
            force = false;
        }
    }

    /// Charges a read that `file` cost in vain. LevelDB's reasoning: one seek costs about as much
    /// as compacting 16 KiB, so a table that has wasted `size / 16 KiB` seeks (at least 100) is
    /// cheaper to compact into the next level than to keep reading.
    fn charge_seek(&self, level: usize, file: &version::FileMeta) {
        if level + 1 >= version::NUM_LEVELS {
            return;
        }
        let mut budgets = lock(&self.seek_budgets);
        let left = budgets.entry(file.number).or_insert_with(|| ((file.size / 16384) as i64).max(100));
        *left -= 1;
        if *left == 0 {
            drop(budgets);
            *lock(&self.seek_candidate) = Some((level, file.number));
            self.schedule();
        }
    }

    /// Creates a new, empty log file.
    ///
    /// # Requires
    /// The `spare_log` lock is held: log numbers must grow in the order logs come into use, or a
    /// flush's log number could retire a log that is yet to be written.
    fn create_log(&self) -> Result<(u64, Arc<dyn WritableFile>)> {
        // NOTE: not `self.versions`: the worker may hold it across a MANIFEST sync.
        let number = self.file_numbers.fetch_add(1, Ordering::AcqRel);
        let file = self.fs.create(&filename::log_file(&self.dir, number))?;
        // A sync write into this log is durable only if the log's directory entry is.
        self.fs.sync_dir(&self.dir)?;
        Ok((number, file))
    }

    /// The log for a memtable switch: the spare if the worker made one, else a new one.
    fn take_spare_log(&self) -> Result<(u64, Arc<dyn WritableFile>)> {
        let mut spare = lock(&self.spare_log);
        match spare.take() {
            Some(log) => Ok(log),
            None => self.create_log(),
        }
    }

    /// The spare log's number, if there is one (cleanup must leave it alone).
    fn spare_log_number(&self) -> Option<u64> {
        lock(&self.spare_log).as_ref().map(|(n, _)| *n)
    }

    /// Releases retired logs older than `log_number`: their data is now in a synced table.
    fn release_retired_logs(&self, log_number: u64) {
        let released: Vec<Arc<LiveLog>> = {
            let mut retired = lock(&self.retired_logs);
            let (done, keep) = std::mem::take(&mut *retired).into_iter().partition(|log| log.number < log_number);
            *retired = keep;
            done
        };
        drop(released);
    }

    /// Makes sure a spare log is ready for the next memtable switch. Run by the worker.
    fn prepare_spare_log(&self) -> Result<()> {
        let mut spare = lock(&self.spare_log);
        if spare.is_none() {
            *spare = Some(self.create_log()?);
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
        let result = match self.fs.io_gate() {
            Some(gate) => gate.foreground(|| live.file.sync()),
            None => live.file.sync(),
        };
        if let Err(e) = result {
            // Never retry a failed fsync: the kernel may have dropped the dirty pages.
            return Err(self.poison(e));
        }
        *synced = target;
        Ok(())
    }

    /// Deletes files nothing refers to: tables in no live version, logs older than the current
    /// log number, superseded MANIFESTs and leftover temporary files. The deletions happen on the
    /// deleter's thread, soon after (`deleter.wait_idle()` waits for them). Failures are ignored;
    /// the files are retried on the next call.
    fn remove_obsolete_files(&self) {
        if self.poisoned().is_some() {
            // After a failed MANIFEST write, which files the durable MANIFEST names is unknown.
            return;
        }
        let (log_number, prev_log, manifest) = {
            let vs = lock(&self.versions);
            (vs.log_number, vs.prev_log_number, vs.manifest_number())
        };
        let mut live_tables = std::collections::HashSet::new();
        {
            let mut versions = lock(&self.live_versions);
            versions.retain(|w| w.strong_count() > 0);
            for v in versions.iter().filter_map(Weak::upgrade) {
                live_tables.extend(v.files.iter().flatten().map(|f| f.number));
            }
        }
        let pending = lock(&self.pending_outputs).clone();
        let spare = self.spare_log_number();
        let Ok(names) = self.fs.children(&self.dir) else { return };
        for name in names {
            let keep = match filename::parse_file_name(&name) {
                Some((FileKind::Log, n)) => n >= log_number || n == prev_log || Some(n) == spare,
                Some((FileKind::Descriptor, n)) => n >= manifest,
                Some((FileKind::Table, n)) => live_tables.contains(&n) || pending.contains(&n),
                Some((FileKind::Temp, n)) => pending.contains(&n),
                _ => true,
            };
            if !keep {
                if let Some((FileKind::Table, n)) = filename::parse_file_name(&name) {
                    self.tables.evict(n);
                }
                self.deleter.delete(self.dir.join(&name));
            }
        }
    }
}
