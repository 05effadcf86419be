//! [`Fs`] held wholly in memory: the in-memory mode and the engine's tests. Files are shared byte
//! vectors keyed by path, so a file stays readable after its writer is dropped and a "reopen" sees
//! what the last handle wrote. Nothing survives the `MemFs` value itself.
//!
//! As on POSIX, removing (or renaming over) a file unlinks its name only: handles already open
//! keep reading its data, which a read-only open relies on when its writer deletes a table.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use super::{FileLock, Fs, RandomAccessFile, WritableFile};
use crate::engine::error::{Error, Result};

type Bytes = Arc<Mutex<Vec<u8>>>;

#[derive(Default)]
struct State {
    files: BTreeMap<PathBuf, Bytes>,
    dirs: BTreeSet<PathBuf>,
}

/// An in-memory file system. Cloning shares the same files.
#[derive(Clone, Default)]
pub struct MemFs {
    state: Arc<Mutex<State>>,
    locks: Arc<Mutex<HashSet<PathBuf>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn not_found(op: &'static str, path: &Path) -> Error {
    Error::io(op, path, io::Error::new(io::ErrorKind::NotFound, "no such file"))
}

impl MemFs {
    /// An empty file system.
    pub fn new() -> MemFs {
        MemFs::default()
    }

    fn file(&self, op: &'static str, path: &Path) -> Result<Bytes> {
        lock(&self.state).files.get(path).cloned().ok_or_else(|| not_found(op, path))
    }
}

struct MemWritable(Bytes);

impl WritableFile for MemWritable {
    fn append(&self, data: &[u8]) -> Result<()> {
        lock(&self.0).extend_from_slice(data);
        Ok(())
    }

    fn sync(&self) -> Result<()> {
        Ok(())
    }
}

struct MemRandom {
    data: Bytes,
    path: PathBuf,
}

impl RandomAccessFile for MemRandom {
    fn read_at(&self, offset: u64, len: usize) -> Result<Vec<u8>> {
        let data = lock(&self.data);
        let start = usize::try_from(offset).ok();
        let range = start.and_then(|s| Some(s..s.checked_add(len)?));
        range
            .and_then(|r| data.get(r))
            .map(<[u8]>::to_vec)
            .ok_or_else(|| Error::io("read", &self.path, io::Error::from(io::ErrorKind::UnexpectedEof)))
    }

    fn size(&self) -> u64 {
        lock(&self.data).len() as u64
    }
}

struct MemLock {
    locks: Arc<Mutex<HashSet<PathBuf>>>,
    path: PathBuf,
}

impl FileLock for MemLock {}

impl Drop for MemLock {
    fn drop(&mut self) {
        lock(&self.locks).remove(&self.path);
    }
}

impl Fs for MemFs {
    fn create_dir_all(&self, dir: &Path) -> Result<()> {
        let mut state = lock(&self.state);
        for ancestor in dir.ancestors() {
            state.dirs.insert(ancestor.to_owned());
        }
        Ok(())
    }

    fn exists(&self, path: &Path) -> bool {
        let state = lock(&self.state);
        state.files.contains_key(path) || state.dirs.contains(path)
    }

    fn children(&self, dir: &Path) -> Result<Vec<String>> {
        let state = lock(&self.state);
        if !state.dirs.contains(dir) {
            return Err(not_found("list", dir));
        }
        let files = state.files.keys().chain(state.dirs.iter());
        Ok(files
            .filter(|p| p.parent() == Some(dir))
            .filter_map(|p| p.file_name()?.to_str().map(str::to_owned))
            .collect())
    }

    fn create(&self, path: &Path) -> Result<Arc<dyn WritableFile>> {
        let mut state = lock(&self.state);
        if let Some(parent) = path.parent() {
            if !state.dirs.contains(parent) {
                return Err(not_found("create", path));
            }
        }
        let bytes = Bytes::default();
        state.files.insert(path.to_owned(), bytes.clone());
        Ok(Arc::new(MemWritable(bytes)))
    }

    fn open_random(&self, path: &Path) -> Result<Arc<dyn RandomAccessFile>> {
        Ok(Arc::new(MemRandom { data: self.file("open", path)?, path: path.to_owned() }))
    }

    fn read_to_end(&self, path: &Path) -> Result<Vec<u8>> {
        let file = self.file("read", path)?;
        let data = lock(&file).clone();
        Ok(data)
    }

    fn file_size(&self, path: &Path) -> Result<u64> {
        let file = self.file("stat", path)?;
        let len = lock(&file).len() as u64;
        Ok(len)
    }

    fn truncate(&self, path: &Path, len: u64) -> Result<()> {
        let file = self.file("truncate", path)?;
        lock(&file).truncate(usize::try_from(len).unwrap_or(usize::MAX));
        Ok(())
    }

    fn remove_file(&self, path: &Path) -> Result<()> {
        lock(&self.state).files.remove(path).map(|_| ()).ok_or_else(|| not_found("remove", path))
    }

    fn remove_dir(&self, dir: &Path) -> Result<()> {
        let mut state = lock(&self.state);
        if state.files.keys().any(|p| p.parent() == Some(dir)) {
            return Err(Error::io("remove directory", dir, io::Error::other("directory not empty")));
        }
        state.dirs.remove(dir);
        Ok(())
    }

    fn rename(&self, from: &Path, to: &Path) -> Result<()> {
        let mut state = lock(&self.state);
        let bytes = state.files.remove(from).ok_or_else(|| not_found("rename", from))?;
        state.files.insert(to.to_owned(), bytes);
        Ok(())
    }

    fn sync_dir(&self, _dir: &Path) -> Result<()> {
        Ok(())
    }

    fn lock(&self, path: &Path) -> Result<Box<dyn FileLock>> {
        if !lock(&self.locks).insert(path.to_owned()) {
            return Err(Error::Locked(path.to_owned()));
        }
        if !self.exists(path) {
            if let Err(e) = self.create(path) {
                lock(&self.locks).remove(path);
                return Err(e);
            }
        }
        Ok(Box::new(MemLock { locks: self.locks.clone(), path: path.to_owned() }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_removed_file_stays_readable_through_an_open_handle() {
        let fs = MemFs::new();
        let dir = Path::new("/d");
        fs.create_dir_all(dir).unwrap();
        let path = dir.join("000007.ldb");
        fs.create(&path).unwrap().append(b"table bytes").unwrap();
        let open = fs.open_random(&path).unwrap();
        fs.remove_file(&path).unwrap();
        assert!(!fs.exists(&path));
        assert!(fs.open_random(&path).is_err(), "the name is gone");
        assert_eq!(open.read_at(6, 5).unwrap(), b"bytes", "the data is not");
        assert_eq!(open.size(), 11);

        // A new file under the same name is a different file.
        fs.create(&path).unwrap().append(b"new").unwrap();
        assert_eq!(open.read_at(0, 5).unwrap(), b"table");
        // Renaming another file over an open one unlinks the old one the same way.
        let other = dir.join("000008.ldb");
        fs.create(&other).unwrap().append(b"other").unwrap();
        let second = fs.open_random(&path).unwrap();
        fs.rename(&other, &path).unwrap();
        assert_eq!(second.read_at(0, 3).unwrap(), b"new");
        assert_eq!(fs.read_to_end(&path).unwrap(), b"other");
    }
}
