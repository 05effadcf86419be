//! [`Fs`] that injects I/O errors, for tests: it wraps another file system, counts the
//! operations that can fail, and makes the Nth one (and, in persistent mode, every later one)
//! fail with an OS-style error. This is SQLite's I/O-error sweep: run a workload with the fault
//! at every operation index in turn and check that each failure surfaces as an error, never a
//! panic, and that what was acknowledged survives.

use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex};

use super::{FileLock, Fs, IoGate, RandomAccessFile, WritableFile};
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

/// What a simulated power loss takes away (LevelDB's `fault_injection_test` modes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrashMode {
    /// Every file written through this `Fs` loses what was appended after its last sync.
    DropUnsyncedData,
    /// As `DropUnsyncedData`, and files created (or renamed into place) since their directory
    /// was last synced disappear.
    DropUnsyncedFiles,
}

#[derive(Default)]
struct Durability {
    /// Bytes of each written file known durable (as of its last sync).
    synced: std::collections::HashMap<std::path::PathBuf, u64>,
    /// Files whose directory entry is not yet durable.
    new_entries: std::collections::HashSet<std::path::PathBuf>,
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
    /// The fault is a panic, as a bug in the code doing the operation would be.
    panics: bool,
}

/// A fault-injecting wrapper around another [`Fs`]. Clones share one plan.
#[derive(Clone)]
pub struct FaultFs {
    inner: Arc<dyn Fs>,
    plan: Arc<Mutex<Plan>>,
    durability: Arc<Mutex<Durability>>,
    cold: Arc<std::sync::atomic::AtomicBool>,
}

impl FaultFs {
    /// Wraps `inner`, injecting nothing until told to.
    pub fn new(inner: Arc<dyn Fs>) -> FaultFs {
        FaultFs { inner, plan: Arc::new(Mutex::new(Plan::default())), durability: Arc::default(), cold: Arc::default() }
    }

    /// While `cold`, every file says none of its pages are in memory, so memory-only reads of
    /// tables fail with `Error::Incomplete` (to test the path that retries them off-thread).
    pub fn set_cold(&self, cold: bool) {
        self.cold.store(cold, std::sync::atomic::Ordering::Relaxed);
    }

    fn durability(&self) -> std::sync::MutexGuard<'_, Durability> {
        self.durability.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Simulates a power loss: what was not made durable is lost, as `mode` says. Call it with
    /// nothing writing (after `close`, or with the database dropped).
    pub fn crash(&self, mode: CrashMode) -> Result<()> {
        let state = std::mem::take(&mut *self.durability());
        if mode == CrashMode::DropUnsyncedFiles {
            for path in &state.new_entries {
                if self.inner.exists(path) {
                    self.inner.remove_file(path)?;
                }
            }
        }
        for (path, len) in &state.synced {
            if self.inner.exists(path) && self.inner.file_size(path)? > *len {
                self.inner.truncate(path, *len)?;
            }
        }
        Ok(())
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

    /// Makes the `n`th (1-based) operation of `kinds` from now on panic instead of failing: for
    /// tests that a bug on a background thread is reported, not a hang.
    pub fn panic_at(&self, n: u64, kinds: &[FaultKind]) {
        let mut plan = self.plan();
        *plan = Plan { fail_at: Some(n), kinds: kinds.to_vec(), panics: true, ..Plan::default() };
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
        if plan.panics {
            drop(plan);
            panic!("injected panic at {op} of {}", path.display());
        }
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

    fn preallocate(&self, offset: u64, len: u64) -> Result<()> {
        self.inner.preallocate(offset, len)
    }

    fn sync(&self) -> Result<()> {
        self.fs.check(FaultKind::Sync, "sync", &self.path)?;
        self.inner.sync()?;
        // Syncing a file already deleted (through a handle still open) is allowed, as on POSIX.
        if let Ok(len) = self.fs.inner.file_size(&self.path) {
            self.fs.durability().synced.insert(self.path.clone(), len);
        }
        Ok(())
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

    fn read_at_nowait(&self, offset: u64, len: usize) -> Result<Option<Vec<u8>>> {
        if self.fs.cold.load(std::sync::atomic::Ordering::Relaxed) {
            return Ok(None);
        }
        self.fs.check(FaultKind::Read, "read", &self.path)?;
        self.inner.read_at_nowait(offset, len)
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
        {
            let mut durability = self.durability();
            durability.synced.insert(path.to_owned(), 0);
            durability.new_entries.insert(path.to_owned());
        }
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
        self.inner.rename(from, to)?;
        let mut durability = self.durability();
        durability.new_entries.remove(from);
        durability.new_entries.insert(to.to_owned());
        if let Some(len) = durability.synced.remove(from) {
            durability.synced.insert(to.to_owned(), len);
        }
        Ok(())
    }

    fn sync_dir(&self, dir: &Path) -> Result<()> {
        self.check(FaultKind::Sync, "sync directory", dir)?;
        self.inner.sync_dir(dir)?;
        self.durability().new_entries.retain(|p| p.parent() != Some(dir));
        Ok(())
    }

    fn lock(&self, path: &Path) -> Result<Box<dyn FileLock>> {
        self.inner.lock(path)
    }

    fn io_gate(&self) -> Option<&'static IoGate> {
        self.inner.io_gate()
    }
}
