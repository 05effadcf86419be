//! Read-modify-write: a batch built from reads of the latest state, written with no other write
//! in between (Redis's INCR, SET NX, MULTI/EXEC; memcache's cas and append). Atomic against every
//! writer of the database, JavaScript included, because the reads and the write happen under the
//! one write lock.
//!
//! The write lock must never wait on the disk: JavaScript's non-sync writes take it on the event
//! loop's thread. So reads under the lock are memory-only. When one would need the disk, the lock
//! is dropped, the same reads run unlocked to bring the blocks into the cache, and the build is
//! tried again. After a few such rounds (blocks evicted as fast as they are read) the build runs
//! under the lock with the disk allowed, so the call always finishes.

use std::ops::Bound;

use super::{lock, Db, PointReader};
use crate::engine::error::{Error, Result};
use crate::engine::iter::{DbIterator, IterBounds};
use crate::engine::options::{ReadOptions, WriteOptions};
use crate::engine::write_batch::WriteBatch;

/// Rounds of warming the cache before the reads may wait on the disk under the lock.
const MEMORY_ONLY_ROUNDS: usize = 3;

/// What a read-modify-write reads: the latest state, with no write able to come between the
/// reads and the batch they build.
pub struct LockedReader<'a> {
    db: &'a Db,
    point: PointReader<'a>,
}

impl LockedReader<'_> {
    /// The value of `key`. May fail with `Error::Incomplete`, which the build must pass on (with
    /// `?`): `write_atomic` then retries it.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.point.get(key)
    }

    /// An iterator over the latest state within `bounds`. Iterators may read the disk under the
    /// write lock: keep ranges read inside a build short.
    pub fn iter(&self, reverse: bool, lower: Bound<Vec<u8>>, upper: Bound<Vec<u8>>) -> Result<DbIterator> {
        let options = ReadOptions { fill_cache: true, ..ReadOptions::default() };
        self.db.iter(&options, reverse, IterBounds { lower, upper })
    }
}

impl Db {
    /// Builds a batch from reads of the latest state and writes it atomically; returns what the
    /// build returned besides the batch. `build` may run more than once (see the module doc), so
    /// it must not have effects of its own; an empty batch writes nothing. Durability is
    /// `write`'s: acknowledged once in the log, synced with `options.sync`.
    pub fn write_atomic<R>(
        &self,
        options: WriteOptions,
        mut build: impl FnMut(&LockedReader<'_>) -> Result<(WriteBatch, R)>,
    ) -> Result<R> {
        let mut round = 0;
        loop {
            let memory_only = round < MEMORY_ONLY_ROUNDS;
            let mut state = lock(&self.inner.write);
            self.check_open()?;
            let read = ReadOptions { fill_cache: true, memory_only, snapshot: None };
            let reader = LockedReader { db: self, point: self.point_reader(&read)? };
            match build(&reader) {
                Err(Error::Incomplete) if memory_only => {
                    drop(state);
                    round += 1;
                    let warm = ReadOptions { fill_cache: true, ..ReadOptions::default() };
                    let reader = LockedReader { db: self, point: self.point_reader(&warm)? };
                    // Only the cache matters here: an error will come back on the next round.
                    let _ = build(&reader);
                }
                Err(e) => return Err(e),
                Ok((batch, answer)) => {
                    if batch.is_empty() {
                        return Ok(answer);
                    }
                    let (live, end) = self.write_locked(&mut state, batch, options)?;
                    drop(state);
                    if options.sync {
                        self.sync_through(&live, end)?;
                    }
                    return Ok(answer);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use super::*;
    use crate::engine::env::MemFs;
    use crate::engine::Options;

    fn incr(db: &Db, key: &[u8]) -> i64 {
        db.write_atomic(WriteOptions::default(), |r| {
            let n: i64 = r.get(key)?.map_or(0, |v| String::from_utf8(v).unwrap().parse().unwrap()) + 1;
            let mut batch = WriteBatch::new();
            batch.put(key, n.to_string().as_bytes());
            Ok((batch, n))
        })
        .unwrap()
    }

    #[test]
    fn concurrent_increments_lose_nothing() {
        let db = Db::open(Arc::new(MemFs::new()), Path::new("/db"), Options::default()).unwrap();
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let db = db.clone();
                std::thread::spawn(move || (0..500).map(|_| incr(&db, b"n")).max().unwrap())
            })
            .collect();
        let top = threads.into_iter().map(|t| t.join().unwrap()).max().unwrap();
        assert_eq!(top, 2000);
        assert_eq!(db.get(b"n", &ReadOptions::default()).unwrap().unwrap(), b"2000");
    }

    #[test]
    fn reads_that_need_the_disk_are_retried_and_an_error_writes_nothing() {
        let db = Db::open(Arc::new(MemFs::new()), Path::new("/db"), Options::default()).unwrap();
        db.put(b"k", b"41", WriteOptions::default()).unwrap();
        // Push the key into a table, out of the memtables, so the first read cannot be answered
        // from memory if the cache is cold.
        db.compact_range(None, None).unwrap();
        let mut calls = 0;
        let got = db
            .write_atomic(WriteOptions::default(), |r| {
                calls += 1;
                let v = r.get(b"k")?;
                Ok((WriteBatch::new(), v))
            })
            .unwrap();
        assert_eq!(got.as_deref(), Some(&b"41"[..]));
        assert!(calls >= 1);

        let before = db.last_sequence();
        let err = db.write_atomic(WriteOptions::default(), |_| -> Result<(WriteBatch, ())> {
            Err(Error::InvalidArgument("no".into()))
        });
        assert!(matches!(err, Err(Error::InvalidArgument(_))));
        assert_eq!(db.last_sequence(), before);
    }
}
