//! The process-wide registry behind the `multithreading` open option: database instances that
//! open the same location with it set (in one JavaScript environment or in several, such as
//! `worker_threads`, each with its own napi env) share one engine [`Db`], reference counted. The
//! first open opens the engine; each later one takes a [`Lease`] on it; the last lease released
//! closes it, which frees the directory's lock. Instances opened without the option never come
//! here: they open an engine of their own, and the engine's lock keeps the two kinds apart (a
//! location open one way fails to open the other way with `Error::Locked`), as in classic-level.
//!
//! Threads: any thread may acquire or release. The map's lock is held only to find a location's
//! slot; opening and closing the engine happen under that slot's own lock, so opens of other
//! locations never wait for them, and an open that races the last release of the same location
//! waits until the engine is closed (its lock freed) before opening it again. Lock order: the
//! map, then a slot; a slot's lock is never held while the map's is taken.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use crate::engine::{Db, Result};

/// Which engine a location names: its canonical path, and whether it lives in memory (an
/// in-memory database and an on-disk one at the same path are different databases).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    dir: PathBuf,
    in_memory: bool,
}

impl Key {
    /// The key for `location`. Two spellings of one directory (relative or absolute, through a
    /// symlink or `..`) give one key, whether or not the directory exists yet: the longest
    /// existing ancestor is resolved by the OS and the rest is appended as written.
    ///
    /// NOTE: this asks the OS about paths (metadata only, no database file is touched); it runs
    /// on the pool with the open.
    pub fn new(location: &Path, in_memory: bool) -> Key {
        Key { dir: canonical(location), in_memory }
    }
}

fn canonical(location: &Path) -> PathBuf {
    let absolute = std::path::absolute(location).unwrap_or_else(|_| location.to_owned());
    let mut missing = Vec::new();
    let mut existing = absolute.as_path();
    loop {
        if let Ok(resolved) = std::fs::canonicalize(existing) {
            return missing.iter().rev().fold(resolved, |dir, name| dir.join(name));
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                missing.push(name);
                existing = parent;
            }
            // A `..` past what exists, or a root that cannot be resolved: as written.
            _ => return absolute,
        }
    }
}

/// One location's shared engine, if open, and how many leases hold it.
#[derive(Default)]
struct Slot {
    open: Option<(Db, usize)>,
}

type Slots = Mutex<HashMap<Key, Arc<Mutex<Slot>>>>;

/// A set of shared engines by location. [`global`] is the one the binding uses; tests make their
/// own.
#[derive(Clone, Default)]
pub struct Registry {
    slots: Arc<Slots>,
}

/// The registry shared by every JavaScript environment in the process.
pub fn global() -> &'static Registry {
    static GLOBAL: OnceLock<Registry> = OnceLock::new();
    GLOBAL.get_or_init(Registry::default)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Registry {
    /// A lease on the engine at `key`: the open one after `join` accepts it, or else a new one
    /// from `open`. Nothing is held when either fails.
    ///
    /// Blocks while another thread opens or closes the engine at `key`, so call it where waiting
    /// on the disk is allowed (the pool).
    pub fn acquire(
        &self,
        key: Key,
        open: impl FnOnce() -> Result<Db>,
        join: impl FnOnce(&Db) -> Result<()>,
    ) -> Result<Lease> {
        let slot = lock(&self.slots).entry(key.clone()).or_default().clone();
        let acquired = {
            let mut guard = lock(&slot);
            match &mut guard.open {
                Some((db, leases)) => join(db).map(|()| {
                    *leases += 1;
                    db.clone()
                }),
                None => open().inspect(|db| guard.open = Some((db.clone(), 1))),
            }
        };
        match acquired {
            Ok(db) => Ok(Lease { registry: self.clone(), key, slot: Some(slot), db }),
            Err(e) => {
                self.forget_if_unused(&key, slot);
                Err(e)
            }
        }
    }

    /// Drops `key`'s entry when `slot` is it, holds no engine, and no one else is about to use it
    /// (an acquirer clones the slot under the map's lock, which is held here).
    fn forget_if_unused(&self, key: &Key, slot: Arc<Mutex<Slot>>) {
        let mut slots = lock(&self.slots);
        let ours = slots.get(key).is_some_and(|s| Arc::ptr_eq(s, &slot));
        if ours && Arc::strong_count(&slot) == 2 && lock(&slot).open.is_none() {
            slots.remove(key);
        }
    }

    /// How many leases hold the engine at `key` (0 when none is open).
    #[cfg(test)]
    fn leases(&self, key: &Key) -> usize {
        let slot = lock(&self.slots).get(key).cloned();
        slot.and_then(|s| lock(&s).open.as_ref().map(|(_, n)| *n)).unwrap_or(0)
    }
}

/// One instance's share of an engine. Releasing it (explicitly, or by dropping it: the instance
/// was collected, or its JavaScript environment was torn down without a close) gives the share
/// back; the last one closes the engine.
pub struct Lease {
    registry: Registry,
    key: Key,
    slot: Option<Arc<Mutex<Slot>>>,
    db: Db,
}

impl Lease {
    /// The shared engine. Clones of it taken for work in flight stay usable until the last lease
    /// goes; after that they fail with `Error::Closed`, as after any close.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Gives the share back; later calls do nothing. The last share closes the engine (waiting
    /// for its background work) and returns how that went; the others return at once.
    pub fn release(&mut self) -> Result<()> {
        let Some(slot) = self.slot.take() else { return Ok(()) };
        let closed = {
            let mut guard = lock(&slot);
            match &mut guard.open {
                Some((_, leases)) if *leases > 1 => {
                    *leases -= 1;
                    None
                }
                // IMPORTANT: the engine is closed under the slot's lock, so that an open racing
                // this finds either the engine still open or its directory lock free.
                _ => guard.open.take().map(|(db, _)| db.close()),
            }
        };
        self.registry.forget_if_unused(&self.key, slot);
        closed.unwrap_or(Ok(()))
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let _ = self.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::env::{Fs, MemFs};
    use crate::engine::{Error, Options, ReadOptions, WriteOptions};

    fn opener(fs: &Arc<dyn Fs>) -> impl Fn() -> Result<Db> + Clone {
        let fs = fs.clone();
        move || Db::open(fs.clone(), Path::new("/db"), Options::default())
    }

    fn accept(_: &Db) -> Result<()> {
        Ok(())
    }

    fn key() -> Key {
        Key { dir: PathBuf::from("/db"), in_memory: true }
    }

    #[test]
    fn leases_share_one_engine_and_the_last_release_closes_it() {
        let (registry, fs): (Registry, Arc<dyn Fs>) = (Registry::default(), Arc::new(MemFs::new()));
        let open = opener(&fs);
        let mut a = registry.acquire(key(), open.clone(), accept).expect("first open");
        let mut b = registry.acquire(key(), || panic!("must not open twice"), accept).expect("share");
        assert_eq!(registry.leases(&key()), 2);
        a.db().put(b"k", b"from a", WriteOptions::default()).expect("put");
        let got = b.db().get(b"k", &ReadOptions::default()).expect("get");
        assert_eq!(got.as_deref(), Some(&b"from a"[..]));

        let kept = b.db().clone();
        a.release().expect("release a");
        assert_eq!(registry.leases(&key()), 1);
        assert!(kept.get(b"k", &ReadOptions::default()).is_ok(), "the engine stays open for b");
        // The directory lock is still held, so a private open fails.
        assert!(matches!(open(), Err(Error::Locked(_))));

        b.release().expect("release b");
        assert_eq!(registry.leases(&key()), 0);
        assert!(lock(&registry.slots).is_empty(), "the slot is forgotten");
        assert!(matches!(kept.get(b"k", &ReadOptions::default()), Err(Error::Closed)));
        // The lock is free: an open now succeeds and finds the data.
        let again = open().expect("open after the last release");
        assert_eq!(again.get(b"k", &ReadOptions::default()).expect("get").as_deref(), Some(&b"from a"[..]));
        again.close().expect("close");
    }

    #[test]
    fn a_dropped_lease_is_released() {
        let (registry, fs): (Registry, Arc<dyn Fs>) = (Registry::default(), Arc::new(MemFs::new()));
        let a = registry.acquire(key(), opener(&fs), accept).expect("open");
        let b = registry.acquire(key(), opener(&fs), accept).expect("share");
        drop(a);
        assert_eq!(registry.leases(&key()), 1);
        drop(b);
        assert_eq!(registry.leases(&key()), 0);
        opener(&fs)().expect("the lock is free").close().expect("close");
    }

    #[test]
    fn a_failed_open_or_refused_join_holds_nothing() {
        let (registry, fs): (Registry, Arc<dyn Fs>) = (Registry::default(), Arc::new(MemFs::new()));
        let failed = registry.acquire(key(), || Err(Error::InvalidArgument("no".into())), accept);
        assert!(matches!(failed, Err(Error::InvalidArgument(_))));
        assert!(lock(&registry.slots).is_empty());

        let mut a = registry.acquire(key(), opener(&fs), accept).expect("open");
        let refused = registry.acquire(key(), opener(&fs), |_| Err(Error::InvalidArgument("exists".into())));
        assert!(matches!(refused, Err(Error::InvalidArgument(_))));
        assert_eq!(registry.leases(&key()), 1);
        a.release().expect("release");
        assert!(lock(&registry.slots).is_empty());
    }

    #[test]
    fn in_memory_and_on_disk_at_one_path_are_different_engines() {
        let registry = Registry::default();
        let fs: Arc<dyn Fs> = Arc::new(MemFs::new());
        let a = registry.acquire(key(), opener(&fs), accept).expect("open");
        let on_disk = Key { in_memory: false, ..key() };
        let other_fs: Arc<dyn Fs> = Arc::new(MemFs::new());
        let b = registry.acquire(on_disk.clone(), opener(&other_fs), accept).expect("another engine");
        assert_eq!((registry.leases(&key()), registry.leases(&on_disk)), (1, 1));
        drop((a, b));
    }

    #[test]
    fn racing_acquires_and_releases_open_the_engine_once_at_a_time() {
        let (registry, fs): (Registry, Arc<dyn Fs>) = (Registry::default(), Arc::new(MemFs::new()));
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let (registry, open) = (registry.clone(), opener(&fs));
                std::thread::spawn(move || {
                    for i in 0..50 {
                        // A failure here would be an open that found the lock still held by a
                        // close in progress, or a second engine on the same directory.
                        let mut lease = registry.acquire(key(), open.clone(), accept).expect("acquire");
                        let k = format!("{t}-{i}");
                        lease.db().put(k.as_bytes(), b"v", WriteOptions::default()).expect("put");
                        lease.release().expect("release");
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
        assert!(lock(&registry.slots).is_empty());
        let db = opener(&fs)().expect("open");
        for t in 0..8 {
            for i in 0..50 {
                let k = format!("{t}-{i}");
                assert!(db.get(k.as_bytes(), &ReadOptions::default()).expect("get").is_some(), "{k}");
            }
        }
        db.close().expect("close");
    }

    #[test]
    fn spellings_of_one_directory_give_one_key() {
        let root = std::env::temp_dir().join(format!("todb-shared-{}", std::process::id()));
        std::fs::create_dir_all(root.join("a")).expect("mkdir");
        let plain = Key::new(&root.join("a").join("db"), false);
        assert_eq!(Key::new(&root.join("a").join(".").join("db"), false), plain);
        assert_eq!(Key::new(&root.join("a").join("..").join("a").join("db"), false), plain);
        // The directory appearing does not change its key.
        std::fs::create_dir_all(root.join("a").join("db")).expect("mkdir db");
        assert_eq!(Key::new(&root.join("a").join("db"), false), plain);
        assert_ne!(Key::new(&root.join("a").join("db"), true), plain);
        std::fs::remove_dir_all(&root).expect("cleanup");
    }
}
