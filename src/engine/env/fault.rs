//! [`Fs`] that injects I/O errors, for tests: it wraps another file system, counts the
//! operations that can fail, and makes the Nth one (and, in persistent mode, every later one)
//! fail with an OS-style error. This is SQLite's I/O-error sweep: run a workload with the fault
//! at every operation index in turn and check that each failure surfaces as an error, never a
//! panic, and that what was acknowledged survives.

use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex};

use super::{FileLock, Fs, RandomAccessFile, WritableFile};
use crate::engine::error::{Error, Result};

/// The operations a fault can be aimed at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// Appending to a file (ENOSPC, after writing half of the data).
    Append,
    /// Syncing a file or directory (EIO).
    Sync,
    /// Reading a file (EIO).
    Read,
    /// Creating, renaming or removing a file (ENOSPC).
    Metadata,
}

#[derive(Default)]
struct Plan {
    /// Operations of the aimed kinds seen so far.
    seen: u64,
    /// Fail the operation with this 1-based index.
    fail_at: Option<u64>,
    /// After the first failure, fail every later aimed operation too.
    persistent: bool,
    /// The kinds aimed at; empty means every kind.
    kinds: Vec<FaultKind>,
    /// Faults injected so far.
    injected: u64,
}

/// A fault-injecting wrapper around another [`Fs`]. Clones share one plan.
#[derive(Clone)]
pub struct FaultFs {
    inner: Arc<dyn Fs>,
    plan: Arc<Mutex<Plan>>,
}

impl FaultFs {
    /// Wraps `inner`, injecting nothing until told to.
    pub fn new(inner: Arc<dyn Fs>) -> FaultFs {
        FaultFs { inner, plan: Arc::new(Mutex::new(Plan::default())) }
    }

    fn plan(&self) -> std::sync::MutexGuard<'_, Plan> {
        self.plan.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Fails the `n`th (1-based) operation of `kinds` (all kinds if empty) from now on; with
    /// `persistent`, every later one as well.
    pub fn fail_at(&self, n: u64, kinds: &[FaultKind], persistent: bool) {
        let mut plan = self.plan();
        *plan = Plan { fail_at: Some(n), persistent, kinds: kinds.to_vec(), ..Plan::default() };
    }

    /// Stops injecting; operations succeed from now on.
    pub fn heal(&self) {
        let mut plan = self.plan();
        plan.fail_at = None;
        plan.persistent = false;
    }

    /// Operations of the aimed kinds seen since the last `fail_at` (all kinds by default).
    pub fn operations(&self) -> u64 {
        self.plan().seen
    }

    /// Faults injected since the last `fail_at`.
    pub fn injected(&self) -> u64 {
        self.plan().injected
    }

    fn check(&self, kind: FaultKind, op: &'static str, path: &Path) -> Result<()> {
        let mut plan = self.plan();
        if !plan.kinds.is_empty() && !plan.kinds.contains(&kind) {
            return Ok(());
        }
        plan.seen += 1;
        let fail = match plan.fail_at {
            Some(n) => plan.seen == n || (plan.persistent && plan.seen > n),
            None => false,
        };
        if !fail {
            return Ok(());
        }
        plan.injected += 1;
        let errno = match kind {
            FaultKind::Append | FaultKind::Metadata => libc::ENOSPC,
            FaultKind::Sync | FaultKind::Read => libc::EIO,
        };
        Err(Error::io(op, path, io::Error::from_raw_os_error(errno)))
    }
}

struct FaultWritable {
    fs: FaultFs,
    inner: Arc<dyn WritableFile>,
    path: std::path::PathBuf,
}

impl WritableFile for FaultWritable {
    fn append(&self, data: &[u8]) -> Result<()> {
        if let Err(e) = self.fs.check(FaultKind::Append, "append", &self.path) {
            // A full disk may take part of a write before refusing the rest.
            let _ = self.inner.append(data.get(..data.len() / 2).unwrap_or(&[]));
            return Err(e);
        }
        self.inner.append(data)
    }

    fn sync(&self) -> Result<()> {
        self.fs.check(FaultKind::Sync, "sync", &self.path)?;
        self.inner.sync()
    }
}

struct FaultRandom {
    fs: FaultFs,
    inner: Arc<dyn RandomAccessFile>,
    path: std::path::PathBuf,
}

impl RandomAccessFile for FaultRandom {
    fn read_at(&self, offset: u64, len: usize) -> Result<Vec<u8>> {
        self.fs.check(FaultKind::Read, "read", &self.path)?;
        self.inner.read_at(offset, len)
    }

    fn size(&self) -> u64 {
        self.inner.size()
    }
}

impl Fs for FaultFs {
    fn create_dir_all(&self, dir: &Path) -> Result<()> {
        self.inner.create_dir_all(dir)
    }

    fn exists(&self, path: &Path) -> bool {
        self.inner.exists(path)
    }

    fn children(&self, dir: &Path) -> Result<Vec<String>> {
        self.inner.children(dir)
    }

    fn create(&self, path: &Path) -> Result<Arc<dyn WritableFile>> {
        self.check(FaultKind::Metadata, "create", path)?;
        let inner = self.inner.create(path)?;
        Ok(Arc::new(FaultWritable { fs: self.clone(), inner, path: path.to_owned() }))
    }

    fn open_random(&self, path: &Path) -> Result<Arc<dyn RandomAccessFile>> {
        self.check(FaultKind::Read, "open", path)?;
        let inner = self.inner.open_random(path)?;
        Ok(Arc::new(FaultRandom { fs: self.clone(), inner, path: path.to_owned() }))
    }

    fn read_to_end(&self, path: &Path) -> Result<Vec<u8>> {
        self.check(FaultKind::Read, "read", path)?;
        self.inner.read_to_end(path)
    }

    fn file_size(&self, path: &Path) -> Result<u64> {
        self.inner.file_size(path)
    }

    fn truncate(&self, path: &Path, len: u64) -> Result<()> {
        self.check(FaultKind::Metadata, "truncate", path)?;
        self.inner.truncate(path, len)
    }

    fn remove_file(&self, path: &Path) -> Result<()> {
        self.check(FaultKind::Metadata, "remove", path)?;
        self.inner.remove_file(path)
    }

    fn remove_dir(&self, dir: &Path) -> Result<()> {
        self.inner.remove_dir(dir)
    }

    fn rename(&self, from: &Path, to: &Path) -> Result<()> {
        self.check(FaultKind::Metadata, "rename", from)?;
        self.inner.rename(from, to)
    }

    fn sync_dir(&self, dir: &Path) -> Result<()> {
        self.check(FaultKind::Sync, "sync directory", dir)?;
        self.inner.sync_dir(dir)
    }

    fn lock(&self, path: &Path) -> Result<Box<dyn FileLock>> {
        self.inner.lock(path)
    }
}
