//! What an open `NativeDb` holds: an engine of its own, or, with the `multithreading` open
//! option, a lease on the engine it shares with the other instances in the process that opened
//! the same location that way (`shared.rs`). Either way the handle is given back exactly once:
//! by `close()`, or by being dropped when the instance is collected or its JavaScript
//! environment (a worker thread, say) is torn down without a close, since napi runs the
//! finalizers of the objects left at teardown.
//!
//! Sharers' open options: the first open's options configure the engine and later sharers'
//! tuning options (`cacheSize`, `compression` and the rest) are ignored, as in classic-level.
//! Unlike classic-level, a later sharer that sets `errorIfExists` fails as for any existing
//! database, since the database plainly exists (classic-level ignores it there).

use std::path::Path;
use std::sync::Arc;

use crate::binding::shared::{self, Key, Lease};
use crate::engine::env::Fs;
use crate::engine::db::DbHandle;
use crate::engine::{Db, Error, Options, Result};

/// An instance's engine.
pub enum Handle {
    /// Opened for this instance alone.
    Own(DbHandle),
    /// Shared with the other `multithreading` instances of the location.
    Shared(Lease),
}

impl Handle {
    /// Opens the database at `location`, sharing it when `multithreading` is set. A location
    /// open in the process the other way fails with `Error::Locked` (the engine's lock).
    /// Blocks on the disk: call it on the pool.
    pub fn open(
        fs: Arc<dyn Fs>,
        location: &Path,
        options: Options,
        multithreading: bool,
        in_memory: bool,
        read_only: bool,
    ) -> Result<Handle> {
        // A read-only open takes no LOCK, so it never needs to share: each has its own view.
        if !multithreading || read_only {
            return DbHandle::open(fs, location, options, read_only).map(Handle::Own);
        }
        let error_if_exists = options.error_if_exists;
        let join = |_: &Db| {
            if !error_if_exists {
                return Ok(());
            }
            // The same words the engine uses for a database found on disk.
            Err(Error::InvalidArgument(format!("{}: exists (error_if_exists is true)", location.display())))
        };
        let open = || Db::open(fs, location, options);
        shared::global().acquire(Key::new(location, in_memory), open, join).map(Handle::Shared)
    }

    /// The engine, to clone for a call.
    pub fn db(&self) -> DbHandle {
        match self {
            Handle::Own(db) => db.clone(),
            Handle::Shared(lease) => DbHandle::Writer(lease.db().clone()),
        }
    }

    /// Gives the handle back: closes an own engine, releases a lease (the last one closes the
    /// shared engine). Waits for the engine's background work when it closes it.
    pub fn close(mut self) -> Result<()> {
        match &mut self {
            Handle::Own(db) => db.close(),
            Handle::Shared(lease) => lease.release(),
        }
    }
}

impl Drop for Handle {
    // A handle dropped without close() still stops its engine's work and frees its lock (an own
    // engine's close is idempotent; a lease releases itself when dropped).
    fn drop(&mut self) {
        if let Handle::Own(db) = self {
            let _ = db.close();
        }
    }
}
