//! Helper threads that share a batch of memory-only reads with the JavaScript thread.
//!
//! Gets answered from memory run on the JavaScript thread (no hop to the pool), which left one of
//! the machine's cores idle while 64 reads were in flight. When JavaScript hands over several
//! reads at once, the calling thread posts them as a job, wakes the crew, and works through the
//! job itself; helpers take items from the same atomic cursor. The call returns when every item
//! is done, so it is still a synchronous, memory-only call: nothing here waits on the disk.
//!
//! Waking a parked thread costs 50-150 µs on these machines, longer than a whole batch, so a
//! helper spins for `SPIN` after each job before parking, and the caller never waits for a
//! helper to start: if none has, the caller takes every item itself. The caller waits only for
//! items a helper has already taken.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::engine::db::DbHandle;
use crate::engine::{self, ReadOptions};

/// How long a helper looks for the next job before parking.
const SPIN: Duration = Duration::from_micros(250);
/// Spins between yields of the core, for a thread waiting on another.
const YIELD_EVERY: u32 = 64;
/// At most this many helpers, however many cores there are.
const MAX_HELPERS: usize = 3;

/// A batch of point reads, owned by the job so that a helper holding it outlives no borrow.
pub struct ReadJob {
    db: DbHandle,
    options: ReadOptions,
    keys: Vec<u8>,
    /// Where each key ends in `keys`.
    ends: Vec<usize>,
    /// The cursor and the count of finished items sit on cache lines of their own: every thread
    /// writes them, and sharing a line with the job's other fields would move it between cores
    /// on every read of those too.
    next: Padded<AtomicUsize>,
    done: Padded<AtomicUsize>,
    results: Vec<OnceLock<engine::Result<Option<Vec<u8>>>>>,
}

#[repr(align(128))]
struct Padded<T>(T);

impl<T> std::ops::Deref for Padded<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl ReadJob {
    /// A job reading each key of `keys`, which holds them back to back with the given lengths.
    pub fn new(db: DbHandle, options: ReadOptions, keys: &[u8], lengths: &[u32]) -> Option<ReadJob> {
        let mut ends = Vec::with_capacity(lengths.len());
        let mut end = 0usize;
        for &len in lengths {
            end = end.checked_add(len as usize)?;
            ends.push(end);
        }
        let keys = keys.get(..end)?.to_vec();
        let results = (0..ends.len()).map(|_| OnceLock::new()).collect();
        Some(ReadJob {
            db,
            options,
            keys,
            ends,
            next: Padded(AtomicUsize::new(0)),
            done: Padded(AtomicUsize::new(0)),
            results,
        })
    }

    fn key(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.keys.get(start..self.ends[i]).unwrap_or_default()
    }

    /// Takes items from the shared cursor until none is left, a few at a time: one claim per
    /// item cost two writes to lines every thread writes. Claims shrink as the job drains (an
    /// eighth of what is left) so that no thread is left with a long tail while the other waits.
    fn work(&self) {
        let total = self.results.len();
        let reader = self.db.point_reader(&self.options);
        loop {
            let claimed = self.next.load(Ordering::Relaxed);
            if claimed >= total {
                return;
            }
            let take = ((total - claimed) / 8).max(1);
            let Ok(start) =
                self.next.compare_exchange_weak(claimed, claimed + take, Ordering::Relaxed, Ordering::Relaxed)
            else {
                continue;
            };
            for i in start..start + take {
                let result = match &reader {
                    Ok(reader) => reader.get(self.key(i)),
                    Err(e) => Err(e.duplicate()),
                };
                let _ = self.results[i].set(result);
            }
            self.done.fetch_add(take, Ordering::Release);
        }
    }

    /// Runs every read, with the crew's help when there is more than one, then hands each
    /// result to `each` in key order.
    pub fn run(self, mut each: impl FnMut(usize, &engine::Result<Option<Vec<u8>>>)) {
        let job = Arc::new(self);
        if job.results.len() > 1 {
            crew().post(job.clone());
        }
        job.work();
        let mut spins = 0u32;
        while job.done.load(Ordering::Acquire) < job.results.len() {
            // A helper holding the last items may have lost its core to another thread (worker
            // threads can outnumber cores); spinning on would keep it off longer.
            spins = spins.wrapping_add(1);
            if spins.is_multiple_of(YIELD_EVERY) {
                std::thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        }
        crew().retire(&job);
        // Helpers may still hold the Arc, but every result is set and none is touched again.
        let undone = Err(engine::Error::InvalidArgument("read left undone".into()));
        for (i, slot) in job.results.iter().enumerate() {
            each(i, slot.get().unwrap_or(&undone));
        }
    }
}

struct Crew {
    /// The job on offer, and the number of helpers parked waiting for one.
    state: Mutex<(Option<Arc<ReadJob>>, usize)>,
    /// Bumped for every job posted, so that spinning helpers see new work without the lock.
    posted: AtomicU64,
    wake: Condvar,
}

fn crew() -> &'static Crew {
    static CREW: OnceLock<&'static Crew> = OnceLock::new();
    CREW.get_or_init(|| {
        let crew: &'static Crew =
            Box::leak(Box::new(Crew { state: Mutex::new((None, 0)), posted: AtomicU64::new(0), wake: Condvar::new() }));
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        for i in 0..cores.saturating_sub(1).min(MAX_HELPERS) {
            // A crew that cannot start a thread is only smaller: the caller does the work.
            let _ = std::thread::Builder::new().name(format!("todb-read-{i}")).spawn(move || crew.help());
        }
        crew
    })
}

impl Crew {
    fn lock(&self) -> std::sync::MutexGuard<'_, (Option<Arc<ReadJob>>, usize)> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn post(&self, job: Arc<ReadJob>) {
        let mut state = self.lock();
        state.0 = Some(job);
        self.posted.fetch_add(1, Ordering::Release);
        if state.1 > 0 {
            self.wake.notify_all();
        }
    }

    /// Withdraws `job` once it is done, so that no helper starts on it later.
    fn retire(&self, job: &Arc<ReadJob>) {
        let mut state = self.lock();
        if state.0.as_ref().is_some_and(|posted| Arc::ptr_eq(posted, job)) {
            state.0 = None;
        }
    }

    fn help(&self) {
        let mut seen = 0u64;
        loop {
            let mut idle_since = Instant::now();
            let mut spins = 0u32;
            loop {
                let posted = self.posted.load(Ordering::Acquire);
                if posted != seen {
                    seen = posted;
                    let job = self.lock().0.clone();
                    if let Some(job) = job {
                        job.work();
                    }
                    idle_since = Instant::now();
                    continue;
                }
                spins = spins.wrapping_add(1);
                if spins.is_multiple_of(YIELD_EVERY) {
                    if idle_since.elapsed() > SPIN {
                        break;
                    }
                    // Give the core to a runnable thread, if any: when JavaScript threads
                    // outnumber the cores, a spinning helper only delays the work it waits for.
                    std::thread::yield_now();
                } else {
                    std::hint::spin_loop();
                }
            }
            let mut state = self.lock();
            state.1 += 1;
            while self.posted.load(Ordering::Acquire) == seen {
                state = self.wake.wait(state).unwrap_or_else(|e| e.into_inner());
            }
            state.1 -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use super::ReadJob;
    use crate::engine::db::DbHandle;
    use crate::engine::env::MemFs;
    use crate::engine::{Db, Options, ReadOptions, WriteOptions};

    #[test]
    fn every_result_lands_in_its_keys_place_while_callers_share_the_crew() {
        let db = DbHandle::from(Db::open(Arc::new(MemFs::new()), Path::new("/crew"), Options::default()).unwrap());
        for i in 0..2000u32 {
            db.put(format!("{i:05}").as_bytes(), &i.to_le_bytes(), WriteOptions::default()).unwrap();
        }
        // Several callers at once: each posts its job, and a helper may take either's items.
        let callers: Vec<_> = (0..4u32)
            .map(|caller| {
                let db = db.clone();
                std::thread::spawn(move || {
                    for round in 0..50u32 {
                        let wanted: Vec<u32> = (0..64).map(|n| (n * 31 + round * 7 + caller * 13) % 2100).collect();
                        let keys: Vec<u8> = wanted.iter().flat_map(|i| format!("{i:05}").into_bytes()).collect();
                        let job = ReadJob::new(db.clone(), ReadOptions::default(), &keys, &[5; 64]).unwrap();
                        job.run(|n, result| {
                            let i = wanted[n];
                            let expected = (i < 2000).then(|| i.to_le_bytes().to_vec());
                            assert_eq!(result.as_ref().unwrap(), &expected, "key {i}");
                        });
                    }
                })
            })
            .collect();
        for caller in callers {
            caller.join().unwrap();
        }
        assert!(ReadJob::new(db.clone(), ReadOptions::default(), b"abc", &[2, 2]).is_none(), "lengths past the keys");
    }
}
