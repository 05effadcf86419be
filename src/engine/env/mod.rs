//! The file-system boundary. Every byte the engine reads or writes goes through [`Fs`], so that
//! the same engine runs on real files ([`PosixFs`]), wholly in memory ([`MemFs`], for tests and the
//! in-memory mode), or over a wrapper that injects faults and simulates power loss (tests).
//!
//! Contracts shared by all implementations: `append` hands the bytes to the OS (or the memory
//! image) before it returns and keeps no user-space buffer, so a process kill after `append` loses
//! nothing; `sync` makes everything appended so far durable; a lock is released when its guard drops.

mod fault;
mod io_gate;
mod mem;
mod posix;
#[cfg(test)]
mod watch;

use std::path::Path;
use std::sync::Arc;

use crate::engine::error::Result;

pub use fault::{CrashMode, FaultFs, FaultKind};
pub use io_gate::{DeferringFile, IoGate, DISK_GATE};
pub use mem::MemFs;
pub use posix::PosixFs;
#[cfg(test)]
pub use watch::WatchFs;

/// A file the engine appends to: a log, a table being built, a MANIFEST.
///
/// Appends are serialised by the caller; `sync` may run on another thread concurrently with
/// appends and covers at least every append that returned before it was called.
pub trait WritableFile: Send + Sync {
    /// Appends `data` at the end of the file.
    fn append(&self, data: &[u8]) -> Result<()>;
    /// Makes every completed append durable.
    fn sync(&self) -> Result<()>;
    /// Makes `[offset, offset + len)` exist as zero bytes without moving where `append` writes.
    ///
    /// A hint for files that are synced often: an append that overwrites space the file already
    /// has lets the next data sync skip the file-size update (a journal commit on ext4, about a
    /// quarter of a small fdatasync). Readers of such files must treat a zero-filled tail as the
    /// end. The range is beyond every completed append; the caller serialises this with appends.
    fn preallocate(&self, _offset: u64, _len: u64) -> Result<()> {
        Ok(())
    }
    /// Asks the OS to start writing `[offset, offset + len)` to the device now, without waiting.
    ///
    /// A hint for files written in one long run and synced at the end (tables): the final sync
    /// then finds most pages already written instead of writing them all while the caller waits.
    /// It promises nothing about durability, so failures are ignored: `sync` reports them.
    fn start_writeback(&self, _offset: u64, _len: u64) {}
}

/// A file read at arbitrary offsets, shared between threads: a table.
pub trait RandomAccessFile: Send + Sync {
    /// Reads `len` bytes at `offset`. Reading past the end is an error, never a short result.
    fn read_at(&self, offset: u64, len: usize) -> Result<Vec<u8>>;
    /// The file's size in bytes.
    fn size(&self) -> u64;
    /// `read_at` if the OS can serve it from memory now; `None` if it would wait on the disk.
    /// Files that cannot tell read as usual.
    fn read_at_nowait(&self, offset: u64, len: usize) -> Result<Option<Vec<u8>>> {
        self.read_at(offset, len).map(Some)
    }
    /// `read_at` into `buf`, which ends up exactly `len` long. Files that can read in place
    /// reuse its memory (a block read per point get made allocation a visible cost).
    fn read_into(&self, offset: u64, len: usize, buf: &mut Vec<u8>) -> Result<()> {
        *buf = self.read_at(offset, len)?;
        Ok(())
    }
    /// `read_at_nowait` into `buf`; false, with `buf` unspecified, if the read would wait.
    fn read_into_nowait(&self, offset: u64, len: usize, buf: &mut Vec<u8>) -> Result<bool> {
        match self.read_at_nowait(offset, len)? {
            Some(data) => {
                *buf = data;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

/// Makes `buf` exactly `len` long, writing zeros only where it grows: a reused buffer is then
/// overwritten in place instead of cleared first.
pub fn set_len_reusing(buf: &mut Vec<u8>, len: usize) {
    if buf.len() < len {
        buf.resize(len, 0);
    } else {
        buf.truncate(len);
    }
}

/// Holds a directory's `LOCK`; dropping it releases the lock.
pub trait FileLock: Send + Sync {}

/// The operations the engine needs from a file system.
pub trait Fs: Send + Sync + 'static {
    /// Creates `dir` and its parents if missing.
    fn create_dir_all(&self, dir: &Path) -> Result<()>;
    /// True if a file or directory exists at `path`.
    fn exists(&self, path: &Path) -> bool;
    /// The names (not paths) of the entries in `dir`.
    fn children(&self, dir: &Path) -> Result<Vec<String>>;
    /// Creates `path`, truncating any existing file, for appending.
    fn create(&self, path: &Path) -> Result<Arc<dyn WritableFile>>;
    /// Opens `path` for reads at arbitrary offsets.
    fn open_random(&self, path: &Path) -> Result<Arc<dyn RandomAccessFile>>;
    /// Reads a whole file.
    fn read_to_end(&self, path: &Path) -> Result<Vec<u8>>;
    /// The size of a file in bytes.
    fn file_size(&self, path: &Path) -> Result<u64>;
    /// Shortens a file to `len` bytes.
    fn truncate(&self, path: &Path, len: u64) -> Result<()>;
    /// Deletes a file.
    fn remove_file(&self, path: &Path) -> Result<()>;
    /// Deletes an empty directory.
    fn remove_dir(&self, dir: &Path) -> Result<()>;
    /// Renames `from` to `to`, replacing `to` atomically.
    fn rename(&self, from: &Path, to: &Path) -> Result<()>;
    /// Makes the directory's entries (creations, renames, deletions) durable.
    fn sync_dir(&self, dir: &Path) -> Result<()>;
    /// Takes the advisory lock on `path`, creating the file if needed. Fails with
    /// `Error::Locked` when any handle, in this process or another, holds it.
    fn lock(&self, path: &Path) -> Result<Box<dyn FileLock>>;
    /// The gate through which background I/O on this file system's device defers to foreground
    /// syncs; `None` where syncs cost nothing (in memory).
    fn io_gate(&self) -> Option<&'static IoGate> {
        None
    }
}

/// Writes `data` to `path` and syncs it: the whole file is durable when this returns.
pub fn write_file_synced(fs: &dyn Fs, path: &Path, data: &[u8]) -> Result<()> {
    let file = fs.create(path)?;
    file.append(data)?;
    file.sync()
}
