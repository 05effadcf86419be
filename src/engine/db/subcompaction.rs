//! Splits one large compaction into key ranges merged at the same time on several threads, as
//! RocksDB's subcompactions do. LevelDB runs every compaction on its one background thread, and a
//! write-heavy load then waits for that thread while the other cores sit idle: a level-0
//! compaction of random keys merges all of level 0 with all of level 1, tens of megabytes, and
//! writers stall behind it at the level-0 limits.
//!
//! The ranges are cut at the boundaries of the next level's tables, which already divide the key
//! space into runs of known size, and only between user keys, so every version of a key is
//! merged by one range and the output level stays a sorted run of non-overlapping tables. Each
//! range writes tables of its own; the compaction installs them all in one edit or none.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::compaction::{self, Job};
use super::{lock, Inner};
use crate::engine::error::{Error, Result};
use crate::engine::key;
use crate::engine::version::{FileMeta, Version};

/// At most this many threads merge one job, however many cores there are.
const MAX_THREADS: usize = 4;

/// Ranges planned per thread: small enough that the worker can take over what a helper starved
/// of CPU has not begun, large enough that each range fills a few tables.
const RANGES_PER_THREAD: usize = 4;

/// A range of user keys, `[start, end)`; `None` is unbounded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct KeyRange {
    pub start: Option<Vec<u8>>,
    pub end: Option<Vec<u8>>,
}

impl KeyRange {
    /// True if `user_key` lies at or past the range's end.
    pub fn ends_before(&self, user_key: &[u8]) -> bool {
        self.end.as_deref().is_some_and(|end| user_key >= end)
    }
}

/// Cuts the job's key space into at most `parts` ranges of about equal input bytes. A job is
/// split only when the next level gives at least two tables per range and the whole job is
/// worth a thread per range (`min_bytes`).
pub(super) fn plan(
    inputs: &[Arc<FileMeta>],
    next_inputs: &[Arc<FileMeta>],
    parts: usize,
    min_bytes: u64,
) -> Vec<KeyRange> {
    let whole = vec![KeyRange::default()];
    let total: u64 = inputs.iter().chain(next_inputs).map(|f| f.size).sum();
    let parts = parts.min(next_inputs.len() / 2);
    if parts < 2 || total < min_bytes {
        return whole;
    }
    // Each next-level table stands for its own bytes plus an even share of the inputs above it,
    // which (for level 0 especially) are spread over the whole key space.
    let next_total: u64 = next_inputs.iter().map(|f| f.size).sum::<u64>().max(1);
    let mut ranges = Vec::with_capacity(parts);
    let mut start: Option<Vec<u8>> = None;
    let mut seen = 0u64;
    for (i, f) in next_inputs.iter().enumerate() {
        let cut_after = next_total * (ranges.len() as u64 + 1) / parts as u64;
        if i > 0 && seen >= cut_after && ranges.len() + 1 < parts {
            let boundary = key::user_key(&f.smallest).to_vec();
            ranges.push(KeyRange { start: start.take(), end: Some(boundary.clone()) });
            start = Some(boundary);
        }
        seen += f.size;
    }
    ranges.push(KeyRange { start, end: None });
    ranges
}

/// Merges `job` over the planned ranges on this thread and on helper threads, and returns every
/// output table in key order. `None` when the database is closing. Output numbers are recorded in
/// `outputs` as they are taken, so the caller can release them however the merge ends.
///
/// Ranges are claimed one at a time, so this thread takes over the ranges a starved helper has
/// not begun. Once none is left it waits for the helpers' last ranges, and flushes any memtable
/// that fills meanwhile: writers wait for that flush, and a helper at the lowest priority may be
/// slow to finish on a busy machine.
pub(super) fn merge(
    inner: &Inner,
    job: &Job,
    version: &Version,
    smallest_snapshot: u64,
    outputs: &Mutex<Vec<u64>>,
) -> Result<Option<Vec<FileMeta>>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(MAX_THREADS);
    let min_bytes = 4 * inner.options.max_file_size as u64;
    let ranges = plan(job.inputs(), job.next_inputs(), threads * RANGES_PER_THREAD, min_bytes);
    if ranges.len() < 2 {
        return compaction::merge(inner, job, version, &KeyRange::default(), smallest_snapshot, true, outputs);
    }
    inner.split_compactions.fetch_add(1, Ordering::Relaxed);
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<Merged>>> = ranges.iter().map(|_| Mutex::new(None)).collect();
    let claim_and_merge = |main: bool| loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let (Some(range), Some(slot)) = (ranges.get(i), results.get(i)) else { return };
        let merged = compaction::merge(inner, job, version, range, smallest_snapshot, main, outputs);
        let stop = !matches!(merged, Ok(Some(_)));
        *lock(slot) = Some(merged);
        if stop {
            // A failure or a close: nobody starts another range.
            next.store(ranges.len(), Ordering::Relaxed);
            return;
        }
    };
    std::thread::scope(|scope| -> Result<()> {
        let helpers: Vec<_> = (1..threads.min(ranges.len()))
            .filter_map(|_| {
                let spawned = std::thread::Builder::new().name("todb-subcompaction".into()).spawn_scoped(scope, || {
                    lower_priority();
                    claim_and_merge(false);
                });
                // Without a helper this thread merges every range itself.
                spawned.ok()
            })
            .collect();
        claim_and_merge(true);
        while !helpers.iter().all(|h| h.is_finished()) {
            match super::background::flush_waiting(inner) {
                Ok(true) => {}
                Ok(false) => std::thread::sleep(std::time::Duration::from_millis(1)),
                Err(e) => {
                    // The job fails with the flush: helpers finish the range in hand, no more.
                    next.store(ranges.len(), Ordering::Relaxed);
                    return Err(e);
                }
            }
        }
        Ok(())
    })?;
    let mut metas = Vec::new();
    let (mut closing, mut unfinished) = (false, false);
    for slot in results {
        match slot.into_inner().unwrap_or_else(|e| e.into_inner()) {
            Some(Err(e)) => return Err(e),
            Some(Ok(Some(part))) => metas.extend(part),
            Some(Ok(None)) => closing = true,
            // Not merged: a range after a failure or a close, or one whose helper panicked.
            None => unfinished = true,
        }
    }
    if closing {
        return Ok(None);
    }
    if unfinished {
        return Err(Error::corruption("a subcompaction thread stopped without a result"));
    }
    Ok(Some(metas))
}

/// One range's outcome, as `compaction::merge` returns it.
type Merged = Result<Option<Vec<FileMeta>>>;

/// Gives the calling thread the lowest CPU priority, so that a range merged beside the worker
/// takes only cores that nothing else wants: on a machine whose cores are all busy (the calling
/// thread of a write loop, the worker), a second merge at equal priority slowed the writes it was
/// meant to unblock and lengthened event-loop pauses. Linux only, where a nice value belongs to
/// one thread; elsewhere it would belong to the whole process.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: plain system calls on the calling thread; failure leaves the priority as it was.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid);
        if let Ok(tid) = libc::id_t::try_from(tid) {
            libc::setpriority(libc::PRIO_PROCESS, tid, 19);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(number: u64, smallest: &str, largest: &str, size: u64) -> Arc<FileMeta> {
        Arc::new(FileMeta {
            number,
            size,
            smallest: key::internal_key(smallest.as_bytes(), 1, key::ValueKind::Value),
            largest: key::internal_key(largest.as_bytes(), 1, key::ValueKind::Value),
        })
    }

    fn next_level(n: usize) -> Vec<Arc<FileMeta>> {
        (0..n).map(|i| table(i as u64 + 10, &format!("k{i:02}a"), &format!("k{i:02}z"), 100)).collect()
    }

    #[test]
    fn small_jobs_and_thin_next_levels_are_not_split() {
        let inputs = vec![table(1, "k00", "k99", 400)];
        assert_eq!(plan(&inputs, &next_level(8), 2, 10_000), vec![KeyRange::default()], "below min_bytes");
        assert_eq!(plan(&inputs, &next_level(3), 2, 0), vec![KeyRange::default()], "one next-level table per range");
        assert_eq!(plan(&inputs, &next_level(8), 1, 0), vec![KeyRange::default()], "one core");
    }

    #[test]
    fn ranges_cover_the_key_space_in_order_at_table_boundaries() {
        let inputs = vec![table(1, "k00", "k99", 400)];
        let next = next_level(8);
        let ranges = plan(&inputs, &next, 4, 0);
        assert_eq!(ranges.len(), 4);
        assert_eq!(ranges.first().and_then(|r| r.start.clone()), None);
        assert_eq!(ranges.last().and_then(|r| r.end.clone()), None);
        for pair in ranges.windows(2) {
            assert_eq!(pair[0].end, pair[1].start, "ranges must meet exactly");
        }
        let boundaries: Vec<_> = ranges.iter().skip(1).filter_map(|r| r.start.clone()).collect();
        assert_eq!(boundaries, vec![b"k02a".to_vec(), b"k04a".to_vec(), b"k06a".to_vec()], "even cuts at table starts");
        assert!(ranges[0].ends_before(b"k02a") && !ranges[0].ends_before(b"k01z"));
    }

    #[test]
    fn cuts_follow_the_bytes_not_the_table_count() {
        let inputs = vec![table(1, "k00", "k99", 10)];
        let mut next = next_level(6);
        // One big table first: the cut comes right after it.
        next[0] = table(10, "k00a", "k00z", 1000);
        let ranges = plan(&inputs, &next, 2, 0);
        assert_eq!(ranges.len(), 2);
        assert_eq!(ranges[0].end, Some(b"k01a".to_vec()));
    }
}
