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

use std::sync::{Arc, Mutex};

use super::compaction::{self, Job};
use super::Inner;
use crate::engine::error::{Error, Result};
use crate::engine::key;
use crate::engine::version::{FileMeta, Version};

/// At most this many ranges run at once, however many cores there are.
const MAX_PARTS: usize = 4;

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
pub(super) fn plan(inputs: &[Arc<FileMeta>], next_inputs: &[Arc<FileMeta>], parts: usize, min_bytes: u64) -> Vec<KeyRange> {
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

/// Merges `job` over the planned ranges, the first on this thread and the others on threads of
/// their own, and returns every output table in key order. `None` when the database is closing.
/// Output numbers are recorded in `outputs` as they are taken, so the caller can release them
/// however the merge ends.
pub(super) fn merge(
    inner: &Inner,
    job: &Job,
    version: &Version,
    smallest_snapshot: u64,
    outputs: &Mutex<Vec<u64>>,
) -> Result<Option<Vec<FileMeta>>> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let ranges = plan(job.inputs(), job.next_inputs(), cores.min(MAX_PARTS), 4 * inner.options.max_file_size as u64);
    let Some((first, rest)) = ranges.split_first() else { return Ok(Some(Vec::new())) };
    if rest.is_empty() {
        return compaction::merge(inner, job, version, first, smallest_snapshot, true, outputs);
    }
    inner.split_compactions.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    std::thread::scope(|scope| {
        let spawned: Vec<_> = rest
            .iter()
            .map(|range| {
                let handle = std::thread::Builder::new().name("todb-subcompaction".into()).spawn_scoped(scope, move || {
                    lower_priority();
                    compaction::merge(inner, job, version, range, smallest_snapshot, false, outputs)
                });
                (range, handle)
            })
            .collect();
        // The first range runs here, and is the one that flushes a full memtable in between.
        let mut results = vec![compaction::merge(inner, job, version, first, smallest_snapshot, true, outputs)];
        for (range, handle) in spawned {
            results.push(match handle {
                Ok(handle) => handle.join().unwrap_or_else(|_| Err(Error::corruption("a subcompaction thread panicked"))),
                // No thread to be had: this one merges the range too, after its own.
                Err(_) => compaction::merge(inner, job, version, range, smallest_snapshot, false, outputs),
            });
        }
        let mut metas = Vec::new();
        for result in results {
            match result? {
                Some(part) => metas.extend(part),
                None => return Ok(None),
            }
        }
        Ok(Some(metas))
    })
}

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
