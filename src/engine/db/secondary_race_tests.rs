//! A read-only open refreshing on threads while its writer, on another thread, writes batches as
//! fast as it can with tiny buffers, so that flushes and compactions replace the files under every
//! refresh, and every append is split in two so that refreshes find records half-written. After
//! each refresh the state must be a prefix of the batches that includes every one acknowledged
//! before the refresh began, each batch whole or absent; so must views held across refreshes.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::*;
use crate::engine::env::{MemFs, WatchFs};
use crate::engine::iter::IterBounds;

/// Batch `id` overwrites the keys of group `id % GROUPS`, all `KEYS` of them, with its id.
const GROUPS: u64 = 16;
const KEYS: usize = 8;

fn batch(id: u64) -> WriteBatch {
    let mut batch = WriteBatch::new();
    for j in 0..KEYS {
        batch.put(format!("g{:02}-{j}", id % GROUPS).as_bytes(), format!("{id:010}|{}", "p".repeat(100)).as_bytes());
    }
    batch
}

/// Checks a state read after batch `acked` was acknowledged; returns the newest batch it holds.
fn check(mut it: DbIterator, acked: u64, what: &str) -> u64 {
    let mut groups: Vec<Vec<u64>> = vec![Vec::new(); GROUPS as usize];
    it.seek_to_start();
    while it.valid() {
        let group: usize = std::str::from_utf8(&it.key()[1..3]).unwrap().parse().unwrap();
        groups[group].push(std::str::from_utf8(&it.value()[..10]).unwrap().parse().unwrap());
        it.advance();
    }
    it.status().unwrap_or_else(|e| panic!("{what}: {e}"));
    for (g, ids) in groups.iter().enumerate() {
        assert!(
            ids.is_empty() || (ids.len() == KEYS && ids.iter().all(|&id| id == ids[0])),
            "{what}: torn group {g}: {ids:?}"
        );
    }
    let newest = groups.iter().filter_map(|ids| ids.first().copied()).max().unwrap_or(0);
    assert!(newest >= acked, "{what}: batch {acked} was acknowledged before, the newest seen is {newest}");
    for (g, ids) in groups.iter().enumerate() {
        let g = g as u64;
        // The newest batch of this group at or before `newest`, if any: a prefix holds exactly it.
        let want = (newest >= g).then(|| newest - (newest - g) % GROUPS);
        assert_eq!(ids.first().copied(), want, "{what}: group {g} is not a prefix up to {newest}");
    }
    newest
}

#[test]
fn refreshes_racing_a_compacting_writer_see_whole_batches_and_every_acknowledged_one() {
    let mem = MemFs::new();
    let watch = WatchFs::new(Arc::new(mem.clone()));
    watch.tear_appends(true);
    let dir = Path::new("/db");
    let tiny = Options { write_buffer_size: 4 << 10, max_file_size: 4 << 10, ..Options::default() };
    let db = Db::open(Arc::new(watch.clone()), dir, tiny.clone()).unwrap();
    db.write(batch(0), WriteOptions::default()).unwrap();
    let acked = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));

    let writer = {
        let (db, acked, stop) = (db.clone(), acked.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut id = 1;
            while !stop.load(Ordering::Acquire) {
                db.write(batch(id), WriteOptions::default()).unwrap();
                acked.store(id, Ordering::Release);
                if id % 500 == 0 {
                    db.compact_range(None, None).unwrap();
                }
                id += 1;
            }
        })
    };
    let readers: Vec<_> = (0..2)
        .map(|r| {
            let (mem, acked) = (mem.clone(), acked.clone());
            let options = Options { max_open_files: 10, ..tiny.clone() };
            std::thread::spawn(move || {
                let ro = ReadOnlyDb::open(Arc::new(mem), Path::new("/db"), options).unwrap();
                let (mut refreshes, mut retries, mut held_checked, mut most) = (0u64, 0u64, 0u64, 0u32);
                let mut held: Option<(DbIterator, u64, u64)> = None;
                let deadline = Instant::now() + Duration::from_secs(3);
                while Instant::now() < deadline {
                    let before = acked.load(Ordering::Acquire);
                    let report = ro.refresh().unwrap_or_else(|e| panic!("reader {r}: refresh {refreshes}: {e}"));
                    refreshes += 1;
                    retries += u64::from(report.attempts - 1);
                    most = most.max(report.attempts);
                    let it = ro.iter(&ReadOptions::default(), false, IterBounds::default()).unwrap();
                    let newest = check(it, before, &format!("reader {r} refresh {refreshes}"));
                    match held.take() {
                        // Read a view made five refreshes ago, whose tables are long gone.
                        Some((it, acked_then, made)) if refreshes - made >= 5 => {
                            let seen = check(it, acked_then, &format!("reader {r} view from refresh {made}"));
                            assert!(seen <= newest, "an older view holds no newer batch");
                            held_checked += 1;
                        }
                        Some(kept) => held = Some(kept),
                        None => {
                            let it = ro.iter(&ReadOptions::default(), false, IterBounds::default()).unwrap();
                            held = Some((it, before, refreshes));
                        }
                    }
                    // Leave the writer most of the two cores this runs on.
                    std::thread::sleep(Duration::from_micros(200));
                }
                (refreshes, retries, held_checked, most)
            })
        })
        .collect();
    let results: Vec<(u64, u64, u64, u32)> = readers.into_iter().map(|r| r.join().unwrap()).collect();
    stop.store(true, Ordering::Release);
    writer.join().unwrap();
    let batches = acked.load(Ordering::Acquire);
    let refreshes: u64 = results.iter().map(|r| r.0).sum();
    let retries: u64 = results.iter().map(|r| r.1).sum();
    let held: u64 = results.iter().map(|r| r.2).sum();
    let most = results.iter().map(|r| r.3).max().unwrap_or(0);
    println!(
        "race: {refreshes} refreshes ({retries} retried attempts, at most {most} in one; {held} held views read \
         later) against {batches} \
         batches and {} tables deleted by flushes and compactions",
        watch.tables_removed()
    );
    assert!(refreshes > 20 && held > 2, "the readers got going");
    assert!(watch.tables_removed() > 20, "the writer compacted tables away under the readers");
}
