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

use super::{FileLock, Fs, RandomAccessFile, WritableFile};
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
}

struct PosixRandom {
    file: File,
    path: PathBuf,
    size: u64,
}

impl RandomAccessFile for PosixRandom {
    fn read_at(&self, offset: u64, len: usize) -> Result<Vec<u8>> {
        let mut buf = vec![0u8; len];
        self.file.read_exact_at(&mut buf, offset).map_err(|e| Error::io("read", &self.path, e))?;
        Ok(buf)
    }

    fn size(&self) -> u64 {
        self.size
    }
}

/// A table mapped into memory, as LevelDB maps its tables: a read that the page cache holds is
/// a copy, with no system call.
///
/// Tables are never modified or truncated once written (todb writes them whole and only ever
/// deletes them, which leaves an existing mapping valid). A table truncated by another program
/// while mapped would fault on access, a risk LevelDB accepts in the same way.
struct MappedFile {
    ptr: *const u8,
    len: usize,
    path: PathBuf,
}

// SAFETY: the mapping is read-only and lives until drop; concurrent reads of it are plain loads.
unsafe impl Send for MappedFile {}
// SAFETY: as above; nothing mutates the mapped memory.
unsafe impl Sync for MappedFile {}

impl MappedFile {
    fn map(file: &File, len: usize, path: &Path) -> Option<MappedFile> {
        if len == 0 {
            return None;
        }
        // SAFETY: a fresh read-only mapping of an open descriptor; the result is checked.
        let ptr =
            unsafe { libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ, libc::MAP_SHARED, file.as_raw_fd(), 0) };
        if ptr == libc::MAP_FAILED {
            return None;
        }
        Some(MappedFile { ptr: ptr.cast(), len, path: path.to_owned() })
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: `ptr` maps `len` readable bytes until `drop`, and `&self` outlives the slice.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl Drop for MappedFile {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in `map`, once.
        unsafe { libc::munmap(self.ptr as *mut libc::c_void, self.len) };
    }
}

impl RandomAccessFile for MappedFile {
    fn is_resident(&self, offset: u64, len: usize) -> bool {
        // SAFETY: sysconf has no preconditions.
        let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096).max(1);
        let Ok(start) = usize::try_from(offset) else { return true };
        let first = start / page * page;
        let end = start.saturating_add(len).min(self.len);
        if end <= first {
            return true;
        }
        let mut vec = vec![0u8; (end - first).div_ceil(page)];
        // SAFETY: the range lies within the mapping, `first` is page-aligned, and `vec` has a byte
        // for each page of the range.
        let rc = unsafe { libc::mincore(self.ptr.add(first) as *mut libc::c_void, end - first, vec.as_mut_ptr()) };
        rc != 0 || vec.iter().all(|&b| b & 1 == 1)
    }

    fn read_at(&self, offset: u64, len: usize) -> Result<Vec<u8>> {
        let start = usize::try_from(offset).ok();
        let range = start.and_then(|s| Some(s..s.checked_add(len)?));
        range
            .and_then(|r| self.bytes().get(r))
            .map(<[u8]>::to_vec)
            .ok_or_else(|| Error::io("read", &self.path, std::io::Error::from(ErrorKind::UnexpectedEof)))
    }

    fn size(&self) -> u64 {
        self.len as u64
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
        // Tables are mapped; a file too large to map (or a failed mapping) is read with pread.
        if let Some(mapped) = usize::try_from(size).ok().and_then(|len| MappedFile::map(&file, len, path)) {
            return Ok(Arc::new(mapped));
        }
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
