//! A read-only open (RocksDB's secondary instance; Level/classic-level#64): reads a database that
//! another process may be writing, without taking its `LOCK`. It sees the state as of open, and
//! [`ReadOnlyDb::refresh`] catches it up with the writer's latest.
//!
//! There is no write path to guard: this type holds no log, no MANIFEST writer, no background
//! worker and no deleter, and reads files only through `catch_up.rs`, which never creates,
//! writes, renames or deletes one. What it reads it keeps readable: every table of a view is open
//! and pinned in the table cache for as long as the view lives, and the logs are in memory.
//!
//! Views: each catch-up builds a new [`View`] and swaps it in at once, under the view lock, so a
//! read sees one whole view. A get or an iterator holds the view it started on; an explicit
//! snapshot holds its view too (the writer's compactions keep no older versions for a reader it
//! does not know), and a read through it finds that view by its sequence: two views with the
//! same last sequence hold the same batches.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};

use super::catch_up::{catch_up, CatchUp, View};
use super::manifest_follower::ManifestFollower;
use super::{lock, properties, PointReader};
use crate::engine::env::Fs;
use crate::engine::error::{Error, Result};
use crate::engine::filename;
use crate::engine::iter::{DbIterator, InternalIterator, IterBounds, MergingIterator};
use crate::engine::key::SequenceNumber;
use crate::engine::options::{Options, ReadOptions};
use crate::engine::snapshot::{Snapshot, SnapshotList};
use crate::engine::table_cache::TableCache;

struct Secondary {
    fs: Arc<dyn Fs>,
    dir: PathBuf,
    options: Options,
    tables: Arc<TableCache>,
    view: RwLock<Arc<View>>,
    /// The view of each sequence an explicit snapshot holds.
    snapshot_views: Mutex<HashMap<SequenceNumber, Weak<View>>>,
    snapshots: Arc<SnapshotList>,
    /// One catch-up at a time, going on from the MANIFEST the last one read; readers never take it.
    refreshing: Mutex<ManifestFollower>,
    closed: AtomicBool,
}

/// A database opened read-only. Cheap to clone; all clones share one handle. Any thread may call
/// any method.
#[derive(Clone)]
pub struct ReadOnlyDb {
    inner: Arc<Secondary>,
}

impl ReadOnlyDb {
    /// Opens the database in `dir` read-only, alongside a writer or not. Fails with
    /// `Error::InvalidArgument` when there is no database there (a read-only open never creates
    /// one, whatever `create_if_missing` says), or when one exists and `error_if_exists` is set.
    pub fn open(fs: Arc<dyn Fs>, dir: &Path, options: Options) -> Result<ReadOnlyDb> {
        if !fs.exists(&filename::current_file(dir)) {
            return Err(Error::InvalidArgument(format!(
                "{}: does not exist (a read-only open never creates a database)",
                dir.display()
            )));
        }
        if options.error_if_exists {
            return Err(Error::InvalidArgument(format!("{}: exists (error_if_exists is true)", dir.display())));
        }
        let tables = Arc::new(TableCache::new(
            fs.clone(),
            dir.to_owned(),
            options.max_open_files.saturating_sub(10).max(16),
            options.cache_size,
        ));
        let mut manifest = ManifestFollower::default();
        let (view, _) = catch_up(&fs, dir, &tables, &mut manifest)?;
        Ok(ReadOnlyDb {
            inner: Arc::new(Secondary {
                fs,
                dir: dir.to_owned(),
                options,
                tables,
                view: RwLock::new(Arc::new(view)),
                snapshot_views: Mutex::new(HashMap::new()),
                snapshots: SnapshotList::new(),
                refreshing: Mutex::new(manifest),
                closed: AtomicBool::new(false),
            }),
        })
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

    fn view(&self) -> Arc<View> {
        self.inner.view.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The view a read at `snapshot` (or now) must use.
    fn view_at(&self, snapshot: Option<SequenceNumber>) -> Result<Arc<View>> {
        let view = self.view();
        match snapshot {
            Some(seq) if seq != view.seq => lock(&self.inner.snapshot_views)
                .get(&seq)
                .and_then(Weak::upgrade)
                .ok_or_else(|| Error::InvalidArgument(format!("no snapshot of this database holds sequence {seq}"))),
            _ => Ok(view),
        }
    }

    /// Catches up with the writer: reads `CURRENT`, the MANIFEST, the new tables and the logs
    /// again and swaps the result in, atomically for readers. Gets, iterators and snapshots made
    /// before keep the view they had. On failure (the writer kept replacing files for every
    /// attempt, or the files are damaged) the current view stays as it was, and usable.
    pub fn refresh(&self) -> Result<CatchUp> {
        self.check_open()?;
        let mut manifest = lock(&self.inner.refreshing);
        let (view, report) = catch_up(&self.inner.fs, &self.inner.dir, &self.inner.tables, &mut manifest)?;
        let view = Arc::new(view);
        let old = {
            let mut slot = self.inner.view.write().unwrap_or_else(|e| e.into_inner());
            if self.inner.closed.load(Ordering::Acquire) {
                return Err(Error::Closed);
            }
            std::mem::replace(&mut *slot, view.clone())
        };
        // Tables the new view dropped leave the cache, so their files close once the older
        // views that pin them are gone (and the writer's deletions free their space).
        let kept: std::collections::HashSet<u64> = view.tables.iter().map(|t| t.file_number()).collect();
        for table in old.tables.iter().filter(|t| !kept.contains(&t.file_number())) {
            self.inner.tables.evict(table.file_number());
        }
        Ok(report)
    }

    /// The last sequence number visible to readers.
    pub fn last_sequence(&self) -> SequenceNumber {
        self.view().seq
    }

    /// A reader of the state as of `options.snapshot`, or of now.
    pub fn point_reader(&self, options: &ReadOptions) -> Result<PointReader<'_>> {
        self.check_open()?;
        let view = self.view_at(options.snapshot)?;
        let seq = options.snapshot.unwrap_or(view.seq);
        Ok(PointReader::over(&self.inner.tables, view.read.clone(), view, seq, options))
    }

    /// The value of `key` as of `options.snapshot` (or now), or `None`.
    pub fn get(&self, key: &[u8], options: &ReadOptions) -> Result<Option<Vec<u8>>> {
        self.point_reader(options)?.get(key)
    }

    /// Holds the current view for later reads.
    pub fn snapshot(&self) -> Result<Snapshot> {
        self.check_open()?;
        let view = self.view();
        {
            let mut held = lock(&self.inner.snapshot_views);
            held.retain(|_, v| v.strong_count() > 0);
            held.entry(view.seq).or_insert_with(|| Arc::downgrade(&view));
        }
        Ok(self.inner.snapshots.acquire(view.seq).pinning(view))
    }

    /// An unpositioned iterator over user entries within `bounds`, as of `options.snapshot` or
    /// now. It holds its view, tables included, until dropped.
    pub fn iter(&self, options: &ReadOptions, reverse: bool, bounds: IterBounds) -> Result<DbIterator> {
        self.check_open()?;
        let view = self.view_at(options.snapshot)?;
        let seq = options.snapshot.unwrap_or(view.seq);
        let mut children: Vec<Box<dyn InternalIterator>> = vec![Box::new(view.read.mem.iter())];
        view.read.version.add_iterators(&self.inner.tables, options.fill_cache, &mut children);
        let merged = Box::new(MergingIterator::new(children));
        Ok(DbIterator::new(merged, seq, reverse, bounds, Box::new(view)))
    }

    /// Approximate bytes of table data for keys in `[start, end)`.
    pub fn approximate_size(&self, start: &[u8], end: &[u8]) -> Result<u64> {
        self.check_open()?;
        self.view().read.version.approximate_size(&self.inner.tables, start, end)
    }

    /// A LevelDB-style property of the current view, or `None` for an unknown name.
    pub fn property(&self, name: &str) -> Result<Option<String>> {
        self.check_open()?;
        Ok(properties::property(&self.view().read.version, name, None))
    }

    /// Tables per level in the current view.
    pub fn files_per_level(&self) -> Vec<usize> {
        self.view().read.version.files.iter().map(Vec::len).collect()
    }

    /// Closes the database: later calls fail with `Error::Closed`, and the current view is let
    /// go. Iterators and snapshots still open keep reading the views they hold.
    pub fn close(&self) -> Result<()> {
        let _one = lock(&self.inner.refreshing);
        if self.inner.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let old = std::mem::replace(
            &mut *self.inner.view.write().unwrap_or_else(|e| e.into_inner()),
            Arc::new(View::empty()),
        );
        for table in &old.tables {
            self.inner.tables.evict(table.file_number());
        }
        lock(&self.inner.snapshot_views).clear();
        Ok(())
    }
}
