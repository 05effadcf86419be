//! [`Fs`] over real files. The directory lock is a POSIX `fcntl` write lock on `LOCK`, the kind
//! LevelDB takes, so todb and classic-level exclude each other on the same directory. Because
//! `fcntl` locks belong to the process (a second lock from the same process succeeds, and closing
//! *any* descriptor of the file drops the lock), an in-process table of held paths guards them too,
//! as LevelDB's `PosixLockTable` does.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::FileExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use super::{set_len_reusing, FileLock, Fs, IoGate, RandomAccessFile, WritableFile, DISK_GATE};
use crate::engine::error::{Error, Result};

/// Real files through `std::fs`.
#[derive(Debug, Default, Clone, Copy)]
pub struct PosixFs;

struct PosixWritable {
    file: File,
    path: PathBuf,
}

impl WritableFile for PosixWritable {
    fn append(&self, data: &[u8]) -> Result<()> {
        (&self.file).write_all(data).map_err(|e| Error::io("append", &self.path, e))
    }

    fn sync(&self) -> Result<()> {
        self.file.sync_data().map_err(|e| Error::io("sync", &self.path, e))
    }

    /// Writes real zeros: `fallocate` would leave unwritten extents, and converting those on the
    /// first write costs the same journal commit that preallocating is meant to save.
    fn preallocate(&self, offset: u64, len: u64) -> Result<()> {
        static ZEROS: [u8; 64 * 1024] = [0; 64 * 1024];
        let end = offset.saturating_add(len);
        let mut at = offset;
        while at < end {
            let n = usize::try_from(end - at).map_or(ZEROS.len(), |left| left.min(ZEROS.len()));
            // NOTE: `write_at` is pwrite(2): the descriptor is not O_APPEND, so the offset that
            // `append` writes at does not move.
            self.file.write_all_at(&ZEROS[..n], at).map_err(|e| Error::io("preallocate", &self.path, e))?;
            at += n as u64;
        }
        Ok(())
    }

    /// `sync_file_range(SYNC_FILE_RANGE_WRITE)`: queues the range's dirty pages for writing and
    /// returns. Linux only; elsewhere the pages wait for the sync.
    #[cfg(target_os = "linux")]
    fn start_writeback(&self, offset: u64, len: u64) {
        let (Ok(at), Ok(n)) = (libc::off64_t::try_from(offset), libc::off64_t::try_from(len)) else { return };
        // SAFETY: the descriptor is open for the duration of the call, which touches no memory of ours.
        unsafe { libc::sync_file_range(self.file.as_raw_fd(), at, n, libc::SYNC_FILE_RANGE_WRITE) };
    }
}

struct PosixRandom {
    file: File,
    path: PathBuf,
    size: u64,
}

impl RandomAccessFile for PosixRandom {
    fn read_at(&self, offset: u64, len: usize) -> Result<Vec<u8>> {
        let mut buf = Vec::new();
        self.read_into(offset, len, &mut buf)?;
        Ok(buf)
    }

    fn read_into(&self, offset: u64, len: usize, buf: &mut Vec<u8>) -> Result<()> {
        set_len_reusing(buf, len);
        self.file.read_exact_at(buf, offset).map_err(|e| Error::io("read", &self.path, e))
    }

    fn size(&self) -> u64 {
        self.size
    }

    /// `preadv2` with `RWF_NOWAIT`: the kernel serves the read from the page cache or refuses
    /// with EAGAIN, in one system call. Where it is not available, the read waits.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn read_at_nowait(&self, offset: u64, len: usize) -> Result<Option<Vec<u8>>> {
        let mut buf = Vec::new();
        Ok(self.read_into_nowait(offset, len, &mut buf)?.then_some(buf))
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn read_into_nowait(&self, offset: u64, len: usize, buf: &mut Vec<u8>) -> Result<bool> {
        let Ok(at) = libc::off_t::try_from(offset) else { return self.read_into(offset, len, buf).map(|()| true) };
        set_len_reusing(buf, len);
        let iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: len };
        // SAFETY: `iov` describes `buf`'s `len` initialised bytes, which outlive the call; the
        // descriptor is open.
        let n = unsafe { libc::preadv2(self.file.as_raw_fd(), &iov, 1, at, libc::RWF_NOWAIT) };
        if n < 0 {
            let err = std::io::Error::last_os_error();
            return match err.raw_os_error() {
                Some(libc::EAGAIN) => Ok(false),
                // Kernels or file systems without RWF_NOWAIT: read as usual.
                Some(libc::EOPNOTSUPP | libc::EINVAL | libc::ENOSYS) => self.read_into(offset, len, buf).map(|()| true),
                _ => Err(Error::io("read", &self.path, err)),
            };
        }
        // A short read means the rest is not in memory (or past the end: the retry reports it).
        Ok(usize::try_from(n).ok() == Some(len))
    }
}

fn held_locks() -> &'static Mutex<HashSet<PathBuf>> {
    static HELD: OnceLock<Mutex<HashSet<PathBuf>>> = OnceLock::new();
    HELD.get_or_init(|| Mutex::new(HashSet::new()))
}

struct PosixLock {
    // NOTE: the file stays open for the lock's lifetime; closing it releases the fcntl lock.
    _file: File,
    key: PathBuf,
}

impl FileLock for PosixLock {}

impl Drop for PosixLock {
    fn drop(&mut self) {
        held_locks().lock().unwrap_or_else(|e| e.into_inner()).remove(&self.key);
    }
}

fn fcntl_lock(file: &File) -> std::io::Result<()> {
    // SAFETY: `flock` is a plain C struct for which all-zero bytes are a valid value.
    let mut lock: libc::flock = unsafe { std::mem::zeroed() };
    lock.l_type = libc::F_WRLCK as libc::c_short;
    lock.l_whence = libc::SEEK_SET as libc::c_short;
    // SAFETY: the descriptor is open for the duration of the call and `lock` outlives it.
    let rc = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETLK, &lock) };
    if rc == -1 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(())
    }
}

impl Fs for PosixFs {
    fn create_dir_all(&self, dir: &Path) -> Result<()> {
        fs::create_dir_all(dir).map_err(|e| Error::io("create directory", dir, e))
    }

    fn exists(&self, path: &Path) -> bool {
        path.exists()
    }

    fn children(&self, dir: &Path) -> Result<Vec<String>> {
        let entries = fs::read_dir(dir).map_err(|e| Error::io("list", dir, e))?;
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("list", dir, e))?;
            if let Some(name) = entry.file_name().to_str() {
                names.push(name.to_owned());
            }
        }
        Ok(names)
    }

    fn create(&self, path: &Path) -> Result<Arc<dyn WritableFile>> {
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .map_err(|e| Error::io("create", path, e))?;
        Ok(Arc::new(PosixWritable { file, path: path.to_owned() }))
    }

    fn open_random(&self, path: &Path) -> Result<Arc<dyn RandomAccessFile>> {
        let file = File::open(path).map_err(|e| Error::io("open", path, e))?;
        let size = file.metadata().map_err(|e| Error::io("stat", path, e))?.len();
        Ok(Arc::new(PosixRandom { file, path: path.to_owned(), size }))
    }

    fn read_to_end(&self, path: &Path) -> Result<Vec<u8>> {
        let mut data = Vec::new();
        File::open(path).and_then(|mut f| f.read_to_end(&mut data)).map_err(|e| Error::io("read", path, e))?;
        Ok(data)
    }

    fn file_size(&self, path: &Path) -> Result<u64> {
        Ok(fs::metadata(path).map_err(|e| Error::io("stat", path, e))?.len())
    }

    fn truncate(&self, path: &Path, len: u64) -> Result<()> {
        let file = OpenOptions::new().write(true).open(path).map_err(|e| Error::io("open", path, e))?;
        file.set_len(len).map_err(|e| Error::io("truncate", path, e))?;
        file.sync_all().map_err(|e| Error::io("sync", path, e))
    }

    fn remove_file(&self, path: &Path) -> Result<()> {
        fs::remove_file(path).map_err(|e| Error::io("remove", path, e))
    }

    fn remove_dir(&self, dir: &Path) -> Result<()> {
        fs::remove_dir(dir).map_err(|e| Error::io("remove directory", dir, e))
    }

    fn rename(&self, from: &Path, to: &Path) -> Result<()> {
        fs::rename(from, to).map_err(|e| Error::io("rename", from, e))
    }

    fn sync_dir(&self, dir: &Path) -> Result<()> {
        File::open(dir).and_then(|d| d.sync_all()).map_err(|e| Error::io("sync directory", dir, e))
    }

    fn lock(&self, path: &Path) -> Result<Box<dyn FileLock>> {
        // Two spellings of one directory must map to one entry of the in-process table.
        let key = match (path.parent(), path.file_name()) {
            (Some(dir), Some(name)) => fs::canonicalize(dir).map(|d| d.join(name)).unwrap_or_else(|_| path.to_owned()),
            _ => path.to_owned(),
        };
        {
            let mut held = held_locks().lock().unwrap_or_else(|e| e.into_inner());
            if !held.insert(key.clone()) {
                return Err(Error::Locked(path.to_owned()));
            }
        }
        let release = |err: Error| {
            held_locks().lock().unwrap_or_else(|e| e.into_inner()).remove(&key);
            err
        };
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| release(Error::io("lock", path, e)))?;
        match fcntl_lock(&file) {
            Ok(()) => Ok(Box::new(PosixLock { _file: file, key })),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::PermissionDenied) => {
                Err(release(Error::Locked(path.to_owned())))
            }
            Err(e) => Err(release(Error::io("lock", path, e))),
        }
    }

    fn io_gate(&self) -> Option<&'static IoGate> {
        Some(&DISK_GATE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("todb-posix-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    #[test]
    fn lock_is_exclusive_within_the_process_and_released_on_drop() {
        let dir = temp_dir("lock");
        let fs = PosixFs;
        let lock = fs.lock(&dir.join("LOCK")).expect("first lock");
        assert!(matches!(fs.lock(&dir.join("LOCK")), Err(Error::Locked(_))));
        // Another spelling of the same directory is the same lock.
        let other = dir.join(".").join("LOCK");
        assert!(matches!(fs.lock(&other), Err(Error::Locked(_))));
        drop(lock);
        let again = fs.lock(&dir.join("LOCK")).expect("lock after release");
        drop(again);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn read_at_nowait_serves_cached_pages() {
        let dir = temp_dir("nowait");
        let fs = PosixFs;
        let path = dir.join("f");
        let file = fs.create(&path).expect("create");
        file.append(&[7u8; 10_000]).expect("append");
        let reader = fs.open_random(&path).expect("open");
        // Just written, so in the page cache: served without waiting.
        assert_eq!(reader.read_at_nowait(4096, 100).expect("read"), Some(vec![7u8; 100]));
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn read_past_end_is_an_error() {
        let dir = temp_dir("read");
        let fs = PosixFs;
        let path = dir.join("f");
        let file = fs.create(&path).expect("create");
        file.append(b"hello").expect("append");
        let reader = fs.open_random(&path).expect("open");
        assert_eq!(reader.read_at(1, 3).expect("read"), b"ell");
        assert!(reader.read_at(3, 5).is_err());
        let _ = fs::remove_dir_all(&dir);
    }
}
