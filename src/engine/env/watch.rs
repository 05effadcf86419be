//! [`Fs`] for tests of readers that share files with a writer: it wraps another file system and
//! counts every operation that would change a file or directory, makes chosen opens and reads
//! find their file gone (as if the writer had just deleted it), and can split each append in two
//! so that a concurrent reader may find a record half-written, as on a real disk.

use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use super::{FileLock, Fs, RandomAccessFile, WritableFile};
use crate::engine::error::{Error, Result};
use crate::engine::filename::{self, FileKind};

#[derive(Default)]
struct Counters {
    mutations: AtomicU64,
    tables_removed: AtomicU64,
    vanish_opens: AtomicU64,
    vanish_log_reads: AtomicU64,
    tear_appends: AtomicBool,
}

/// A watching wrapper around another [`Fs`]. Clones share counters.
#[derive(Clone)]
pub struct WatchFs {
    inner: Arc<dyn Fs>,
    counters: Arc<Counters>,
}

fn kind_of(path: &Path) -> Option<FileKind> {
    filename::parse_file_name(path.file_name()?.to_str()?).map(|(kind, _)| kind)
}

/// Takes one from `counter` if it is not zero.
fn take(counter: &AtomicU64) -> bool {
    counter.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1)).is_ok()
}

fn gone(op: &'static str, path: &Path) -> Error {
    Error::io(op, path, io::Error::new(io::ErrorKind::NotFound, "deleted (injected)"))
}

impl WatchFs {
    /// Wraps `inner`, changing nothing until told to.
    pub fn new(inner: Arc<dyn Fs>) -> WatchFs {
        WatchFs { inner, counters: Arc::default() }
    }

    /// Operations so far that create, write, sync, rename, delete or lock anything.
    pub fn mutations(&self) -> u64 {
        self.counters.mutations.load(Ordering::Acquire)
    }

    /// Tables deleted so far.
    pub fn tables_removed(&self) -> u64 {
        self.counters.tables_removed.load(Ordering::Acquire)
    }

    /// The next `n` opens of a table fail as if it had been deleted.
    pub fn vanish_opens(&self, n: u64) {
        self.counters.vanish_opens.store(n, Ordering::Release);
    }

    /// The next `n` whole-file reads of a log fail as if it had been deleted.
    pub fn vanish_log_reads(&self, n: u64) {
        self.counters.vanish_log_reads.store(n, Ordering::Release);
    }

    /// Splits every later append in two, yielding the thread in between.
    pub fn tear_appends(&self, tear: bool) {
        self.counters.tear_appends.store(tear, Ordering::Release);
    }

    fn mutate(&self) {
        self.counters.mutations.fetch_add(1, Ordering::AcqRel);
    }
}

struct WatchWritable {
    fs: WatchFs,
    inner: Arc<dyn WritableFile>,
}

impl WritableFile for WatchWritable {
    fn append(&self, data: &[u8]) -> Result<()> {
        self.fs.mutate();
        if self.fs.counters.tear_appends.load(Ordering::Acquire) && data.len() > 1 {
            let (head, tail) = data.split_at(data.len() / 2);
            self.inner.append(head)?;
            std::thread::yield_now();
            return self.inner.append(tail);
        }
        self.inner.append(data)
    }

    fn sync(&self) -> Result<()> {
        self.fs.mutate();
        self.inner.sync()
    }

    fn preallocate(&self, offset: u64, len: u64) -> Result<()> {
        self.fs.mutate();
        self.inner.preallocate(offset, len)
    }

    fn start_writeback(&self, offset: u64, len: u64) {
        self.fs.mutate();
        self.inner.start_writeback(offset, len);
    }
}

impl Fs for WatchFs {
    fn create_dir_all(&self, dir: &Path) -> Result<()> {
        self.mutate();
        self.inner.create_dir_all(dir)
    }

    fn exists(&self, path: &Path) -> bool {
        self.inner.exists(path)
    }

    fn children(&self, dir: &Path) -> Result<Vec<String>> {
        self.inner.children(dir)
    }

    fn create(&self, path: &Path) -> Result<Arc<dyn WritableFile>> {
        self.mutate();
        Ok(Arc::new(WatchWritable { fs: self.clone(), inner: self.inner.create(path)? }))
    }

    fn open_random(&self, path: &Path) -> Result<Arc<dyn RandomAccessFile>> {
        if kind_of(path) == Some(FileKind::Table) && take(&self.counters.vanish_opens) {
            return Err(gone("open", path));
        }
        self.inner.open_random(path)
    }

    fn read_to_end(&self, path: &Path) -> Result<Vec<u8>> {
        if kind_of(path) == Some(FileKind::Log) && take(&self.counters.vanish_log_reads) {
            return Err(gone("read", path));
        }
        self.inner.read_to_end(path)
    }

    fn file_size(&self, path: &Path) -> Result<u64> {
        self.inner.file_size(path)
    }

    fn truncate(&self, path: &Path, len: u64) -> Result<()> {
        self.mutate();
        self.inner.truncate(path, len)
    }

    fn remove_file(&self, path: &Path) -> Result<()> {
        self.mutate();
        self.inner.remove_file(path)?;
        if kind_of(path) == Some(FileKind::Table) {
            self.counters.tables_removed.fetch_add(1, Ordering::AcqRel);
        }
        Ok(())
    }

    fn remove_dir(&self, dir: &Path) -> Result<()> {
        self.mutate();
        self.inner.remove_dir(dir)
    }

    fn rename(&self, from: &Path, to: &Path) -> Result<()> {
        self.mutate();
        self.inner.rename(from, to)
    }

    fn sync_dir(&self, dir: &Path) -> Result<()> {
        self.mutate();
        self.inner.sync_dir(dir)
    }

    fn lock(&self, path: &Path) -> Result<Box<dyn FileLock>> {
        self.mutate();
        self.inner.lock(path)
    }
}
