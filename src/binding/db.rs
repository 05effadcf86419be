//! `NativeDb`, the class `index.js` drives: one per JavaScript database instance. Memory-only
//! calls run here on the JavaScript thread; disk waits go to the pool (see `mod.rs`).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::{AsyncTask, Buffer};
use napi_derive::napi;

use crate::binding::batch::decode;
use crate::binding::convert::{Bytes, MaybeOut, Out, OutList};
use crate::binding::crew::ReadJob;
use crate::binding::error::{coded, to_js, Code, NOT_OPEN};
use crate::binding::handle::Handle;
use crate::binding::iterator::{bounds, NativeIterator};
use crate::binding::options::OpenOptions;
use crate::binding::snapshot::NativeSnapshot;
use crate::binding::tasks::EngineTask;
use crate::engine::db::DbHandle;
use crate::engine::env::{FaultFs, Fs, MemFs, PosixFs};
use crate::engine::{self, Error, ReadOptions, WriteOptions};

fn posix() -> Arc<dyn Fs> {
    // TEST ONLY: `TODB_TEST_COLD_READS=1` makes every table page count as not in memory, so
    // that tests can drive reads down the path that retries them on the pool.
    if std::env::var_os("TODB_TEST_COLD_READS").is_some_and(|v| v == "1") {
        let cold = FaultFs::new(Arc::new(PosixFs));
        cold.set_cold(true);
        return Arc::new(cold);
    }
    Arc::new(PosixFs)
}

/// The native side of a database instance.
#[napi]
pub struct NativeDb {
    location: PathBuf,
    db: Arc<Mutex<Option<Handle>>>,
    /// A Buffer JavaScript lends once (`setScratch`) for `getInto`, `getBatch` and iterators'
    /// `nextv` to copy into: copying out of it with Node's pooled allocator is far cheaper than a
    /// napi Buffer per call. The `Buffer` holds a reference, so the memory lives as long as this
    /// handle and its iterators.
    scratch: Arc<Mutex<Option<Buffer>>>,
}

impl NativeDb {
    pub(crate) fn db(&self) -> napi::Result<DbHandle, Code> {
        let slot = self.db.lock().unwrap_or_else(|e| e.into_inner());
        slot.as_ref().map(Handle::db).ok_or_else(|| coded(NOT_OPEN, "Database is not open"))
    }

    fn read_options(snapshot: Option<&NativeSnapshot>, fill_cache: bool) -> napi::Result<ReadOptions, Code> {
        Ok(ReadOptions { snapshot: snapshot.map(NativeSnapshot::seq).transpose()?, fill_cache, memory_only: false })
    }
}

#[napi]
impl NativeDb {
    /// A handle for the database at `location`; nothing is opened yet.
    #[napi(constructor)]
    pub fn new(location: String) -> NativeDb {
        NativeDb {
            location: PathBuf::from(location),
            db: Arc::new(Mutex::new(None)),
            scratch: Arc::new(Mutex::new(None)),
        }
    }

    /// Opens the database on the pool (it reads the MANIFEST and replays logs); with `readOnly`,
    /// without the LOCK and beside a writer (see `refresh`).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn open(&self, options: Option<OpenOptions>) -> napi::Result<AsyncTask<EngineTask<()>>, Code> {
        let options = options.unwrap_or_default();
        let in_memory = options.in_memory.unwrap_or(false);
        let multithreading = options.multithreading.unwrap_or(false);
        let read_only = options.read_only.unwrap_or(false);
        let fs: Arc<dyn Fs> = if in_memory { Arc::new(MemFs::new()) } else { posix() };
        let options = options.to_engine()?;
        let slot = self.db.clone();
        let location = self.location.clone();
        Ok(AsyncTask::new(EngineTask::new(move || {
            let handle = Handle::open(fs, &location, options, multithreading, in_memory, read_only)?;
            *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(handle);
            Ok(())
        })))
    }

    /// Closes the database on the pool and releases its lock. Closing twice is harmless.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn close(&self) -> AsyncTask<EngineTask<()>> {
        let handle = self.db.lock().unwrap_or_else(|e| e.into_inner()).take();
        AsyncTask::new(EngineTask::new(move || handle.map_or(Ok(()), Handle::close)))
    }

    /// Catches a read-only database up with its writer, on the pool; a writer has nothing to do.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn refresh(&self) -> napi::Result<AsyncTask<EngineTask<()>>, Code> {
        let db = self.db()?;
        Ok(AsyncTask::new(EngineTask::new(move || db.refresh())))
    }

    /// The value of `key`, or `undefined`. With `memory_only`, `null` means the read would wait
    /// on the disk: the caller then asks `getAsync`, so the event loop never waits on it.
    #[napi(ts_return_type = "string | Buffer | undefined | null")]
    pub fn get(
        &self,
        key: Bytes,
        utf8: bool,
        fill_cache: bool,
        snapshot: Option<&NativeSnapshot>,
        memory_only: bool,
    ) -> napi::Result<MaybeOut, Code> {
        let db = self.db()?;
        let options = ReadOptions { memory_only, ..Self::read_options(snapshot, fill_cache)? };
        match db.get(&key, &options) {
            Ok(Some(data)) => Ok(MaybeOut::Value(Out { data, utf8 })),
            Ok(None) => Ok(MaybeOut::Missing),
            Err(Error::Incomplete) => Ok(MaybeOut::Incomplete),
            Err(e) => Err(to_js(e)),
        }
    }

    /// The value of `key`, read on the pool where it may wait on the disk.
    #[napi(ts_return_type = "Promise<string | Buffer | undefined>")]
    pub fn get_async(
        &self,
        key: Bytes,
        utf8: bool,
        fill_cache: bool,
        snapshot: Option<&NativeSnapshot>,
    ) -> napi::Result<AsyncTask<EngineTask<MaybeOut>>, Code> {
        let db = self.db()?;
        let options = Self::read_options(snapshot, fill_cache)?;
        let key = key.to_vec();
        Ok(AsyncTask::new(EngineTask::new(move || {
            Ok(db.get(&key, &options)?.map_or(MaybeOut::Missing, |data| MaybeOut::Value(Out { data, utf8 })))
        })))
    }

    /// Lends `getInto` the Buffer to copy values into.
    #[napi]
    pub fn set_scratch(&self, scratch: Buffer) {
        *self.scratch.lock().unwrap_or_else(|e| e.into_inner()) = Some(scratch);
    }

    /// Copies `key`'s value into the scratch Buffer. Returns its length, -1 if the key is
    /// missing, -2 if it does not fit (then ask `get`), or -3 if, with `memory_only`, the read
    /// would wait on the disk (then ask `getAsync`).
    #[napi]
    pub fn get_into(&self, key: Bytes, fill_cache: bool, memory_only: bool) -> napi::Result<i64, Code> {
        let db = self.db()?;
        let value = match db.get(&key, &ReadOptions { snapshot: None, fill_cache, memory_only }) {
            Ok(Some(value)) => value,
            Ok(None) => return Ok(-1),
            Err(Error::Incomplete) => return Ok(-3),
            Err(e) => return Err(to_js(e)),
        };
        let mut scratch = self.scratch.lock().unwrap_or_else(|e| e.into_inner());
        match scratch.as_mut().and_then(|s| s.get_mut(..value.len())) {
            Some(dst) => {
                dst.copy_from_slice(&value);
                Ok(value.len() as i64)
            }
            None => Ok(-2),
        }
    }

    /// Reads `count` keys, memory only, sharing the work with helper threads (`crew.rs`). The
    /// keys are back to back in `keys`, with lengths in `lengths`. Answers go into the scratch
    /// Buffer: first `count` little-endian i32s, then the values back to back. For key `i`, the
    /// i-th number is the length of its value, which follows the previous values; or -1 missing,
    /// -2 too big for what is left of the scratch Buffer (ask `get`), -3 needs the disk (ask
    /// `getAsync`), -4 failed (ask `get`, which reports the error).
    #[napi]
    pub fn get_batch(&self, keys: &[u8], lengths: &[u32], count: u32, fill_cache: bool) -> napi::Result<(), Code> {
        let db = self.db()?;
        let lengths = prefix(lengths, count)?;
        let options = ReadOptions { snapshot: None, fill_cache, memory_only: true };
        let job = ReadJob::new(db, options, keys, lengths)
            .ok_or_else(|| to_js(Error::InvalidArgument("key lengths run past the keys".into())))?;
        let mut scratch = self.scratch.lock().unwrap_or_else(|e| e.into_inner());
        let scratch: &mut [u8] = scratch.as_mut().map_or(&mut [], |s| &mut s[..]);
        let mut used = lengths.len() * 4;
        if scratch.len() < used {
            return Err(to_js(Error::InvalidArgument("too many keys for the scratch Buffer".into())));
        }
        job.run(|i, result| {
            let status = match result {
                Ok(Some(value)) => match scratch.get_mut(used..used + value.len()) {
                    Some(dst) => {
                        dst.copy_from_slice(value);
                        used += value.len();
                        value.len() as i32
                    }
                    None => -2,
                },
                Ok(None) => -1,
                Err(Error::Incomplete) => -3,
                Err(_) => -4,
            };
            if let Some(slot) = scratch.get_mut(i * 4..i * 4 + 4) {
                slot.copy_from_slice(&status.to_le_bytes());
            }
        });
        Ok(())
    }

    /// The values of `keys`, with `undefined` for missing ones, all read at one point in time.
    #[napi(ts_return_type = "Array<string | Buffer | undefined>")]
    pub fn get_many(
        &self,
        keys: Vec<Bytes>,
        utf8: bool,
        fill_cache: bool,
        snapshot: Option<&NativeSnapshot>,
    ) -> napi::Result<OutList, Code> {
        let db = self.db()?;
        let reader = db.point_reader(&Self::read_options(snapshot, fill_cache)?).map_err(to_js)?;
        let items = keys.iter().map(|k| reader.get(k)).collect::<engine::Result<Vec<_>>>().map_err(to_js)?;
        Ok(OutList { items, utf8 })
    }

    /// Whether `key` has a value.
    #[napi]
    pub fn has(&self, key: Bytes, snapshot: Option<&NativeSnapshot>) -> napi::Result<bool, Code> {
        let db = self.db()?;
        Ok(db.get(&key, &Self::read_options(snapshot, true)?).map_err(to_js)?.is_some())
    }

    /// Whether each of `keys` has a value, at one point in time.
    #[napi]
    pub fn has_many(&self, keys: Vec<Bytes>, snapshot: Option<&NativeSnapshot>) -> napi::Result<Vec<bool>, Code> {
        let db = self.db()?;
        let reader = db.point_reader(&Self::read_options(snapshot, true)?).map_err(to_js)?;
        keys.iter().map(|k| reader.get(k).map(|v| v.is_some())).collect::<engine::Result<_>>().map_err(to_js)
    }

    /// Runs a non-sync write on this thread unless it would have to wait for the background
    /// worker; then it writes nothing and returns false, and the caller sends the write to the
    /// pool with `writeAsync`, so the event loop never stalls.
    fn write_here(&self, write: impl FnOnce(&DbHandle) -> engine::Result<()>) -> napi::Result<bool, Code> {
        let db = self.db()?;
        if db.write_would_stall() {
            return Ok(false);
        }
        write(&db).map_err(to_js)?;
        Ok(true)
    }

    /// Applies the batch that `layout` describes over `data` (see `batch::decode`; only the
    /// first `data_len` bytes and `layout_len` numbers count) atomically (see `write_here`).
    #[napi]
    pub fn write(&self, data: &[u8], data_len: u32, layout: &[u32], layout_len: u32) -> napi::Result<bool, Code> {
        let batch = decode(prefix(data, data_len)?, prefix(layout, layout_len)?)?;
        self.write_here(|db| db.write(batch, WriteOptions::default()))
    }

    /// Applies the batch (as `write`) on the pool, waiting for room in the memtable if needed
    /// and, with `sync`, for an fsync of the log before settling. The bytes are copied before
    /// this returns, so JavaScript may reuse its arrays at once.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn write_async(
        &self,
        data: &[u8],
        data_len: u32,
        layout: &[u32],
        layout_len: u32,
        sync: bool,
    ) -> napi::Result<AsyncTask<EngineTask<()>>, Code> {
        let db = self.db()?;
        let batch = decode(prefix(data, data_len)?, prefix(layout, layout_len)?)?;
        Ok(AsyncTask::new(EngineTask::new(move || db.write(batch, WriteOptions { sync }))))
    }

    /// Deletes the keys in a range, at most `limit` of them (negative: no limit), on the pool.
    #[napi(ts_return_type = "Promise<void>")]
    #[allow(clippy::too_many_arguments)]
    pub fn clear(
        &self,
        reverse: bool,
        lower: Option<Bytes>,
        lower_inclusive: bool,
        upper: Option<Bytes>,
        upper_inclusive: bool,
        limit: f64,
        snapshot: Option<&NativeSnapshot>,
    ) -> napi::Result<AsyncTask<EngineTask<()>>, Code> {
        let db = self.db()?;
        let options = Self::read_options(snapshot, false)?;
        let range = bounds(lower, lower_inclusive, upper, upper_inclusive);
        let limit = (limit >= 0.0).then_some(limit as u64);
        Ok(AsyncTask::new(EngineTask::new(move || db.clear_range(&options, reverse, range, limit))))
    }

    /// An iterator over a range, at `snapshot` or now.
    #[napi]
    #[allow(clippy::too_many_arguments)]
    pub fn iterator(
        &self,
        reverse: bool,
        lower: Option<Bytes>,
        lower_inclusive: bool,
        upper: Option<Bytes>,
        upper_inclusive: bool,
        keys: bool,
        values: bool,
        fill_cache: bool,
        snapshot: Option<&NativeSnapshot>,
    ) -> napi::Result<NativeIterator, Code> {
        let db = self.db()?;
        let options = Self::read_options(snapshot, fill_cache)?;
        let it = db.iter(&options, reverse, bounds(lower, lower_inclusive, upper, upper_inclusive)).map_err(to_js)?;
        Ok(NativeIterator::new(it, keys, values, Arc::clone(&self.scratch)))
    }

    /// Holds the current state for reads through the returned snapshot.
    #[napi]
    pub fn snapshot(&self) -> napi::Result<NativeSnapshot, Code> {
        Ok(NativeSnapshot::new(self.db()?.snapshot().map_err(to_js)?))
    }

    /// Approximate bytes on disk for keys in `[start, end)`.
    #[napi(ts_return_type = "Promise<number>")]
    pub fn approximate_size(&self, start: Bytes, end: Bytes) -> napi::Result<AsyncTask<EngineTask<f64>>, Code> {
        let db = self.db()?;
        let (start, end) = (start.to_vec(), end.to_vec());
        Ok(AsyncTask::new(EngineTask::new(move || db.approximate_size(&start, &end).map(|n| n as f64))))
    }

    /// Compacts the range `[start, end]` down the levels, on the pool.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn compact_range(
        &self,
        start: Option<Bytes>,
        end: Option<Bytes>,
    ) -> napi::Result<AsyncTask<EngineTask<()>>, Code> {
        let db = self.db()?;
        let (start, end) = (start.map(|b| b.to_vec()), end.map(|b| b.to_vec()));
        Ok(AsyncTask::new(EngineTask::new(move || db.compact_range(start.as_deref(), end.as_deref()))))
    }

    /// A LevelDB property string, or `undefined` for an unknown property.
    #[napi]
    pub fn get_property(&self, name: String) -> napi::Result<Option<String>, Code> {
        self.db()?.property(&name).map_err(to_js)
    }

    /// Deletes the database at `location`.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn destroy(location: String) -> AsyncTask<EngineTask<()>> {
        AsyncTask::new(EngineTask::new(move || engine::db::destroy(&posix(), &PathBuf::from(location))))
    }

    /// Rebuilds the database's MANIFEST from what is readable at `location`.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn repair(location: String) -> AsyncTask<EngineTask<()>> {
        AsyncTask::new(EngineTask::new(move || engine::db::repair(&posix(), &PathBuf::from(location)).map(|_| ())))
    }
}

impl Drop for NativeDb {
    // A database collected without close(), or left open when its environment (a worker thread)
    // is torn down, still gives its engine back: an own one stops its background worker and frees
    // its lock; a shared one loses a lease, and the last lease closes it.
    fn drop(&mut self) {
        if let Some(handle) = self.db.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = handle.close();
        }
    }
}

/// The first `len` items of `items`, which JavaScript passes with spare capacity.
fn prefix<T>(items: &[T], len: u32) -> napi::Result<&[T], Code> {
    items.get(..len as usize).ok_or_else(|| to_js(Error::InvalidArgument("length past the end of the array".into())))
}
