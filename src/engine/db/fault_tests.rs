//! The I/O-error sweep (reliability notes, part 3): a fixed workload (writes, some synced,
//! deletes, reads, flushes and compactions through a small write buffer, a compaction of the whole
//! range, a scan, close) runs once to count its file operations, then once per operation index with
//! that operation failing, transiently (only it) and persistently (it and all after it). Each run
//! must surface the failure as an error and never panic (I5); after a write fails with a poisoned
//! database, every later write fails while reads of acknowledged data still work (I6); close
//! succeeds; and after the fault is healed, reopening recovers every acknowledged write with its
//! exact value and nothing that was never written (I2, I3).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use super::*;
use crate::engine::env::{FaultFs, FaultKind, MemFs};
use crate::engine::iter::IterBounds;

const KEYS: u64 = 400;

fn options() -> Options {
    Options { write_buffer_size: 8 << 10, max_file_size: 16 << 10, block_size: 1024, ..Options::default() }
}

/// What happened to each key: the last write acknowledged for it, and whether a write of it
/// failed (then either outcome is allowed).
#[derive(Default)]
struct Ledger {
    acked: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    uncertain: BTreeMap<Vec<u8>, Vec<Option<Vec<u8>>>>,
}

fn key(i: u64) -> Vec<u8> {
    format!("key{i:05}").into_bytes()
}

fn value(i: u64) -> Vec<u8> {
    format!("value-{i}-{}", "v".repeat((i % 40) as usize)).into_bytes()
}

/// Runs the workload against `fs`; returns the ledger and the number of writes refused after
/// the database was poisoned.
fn workload(fs: Arc<dyn Fs>) -> Ledger {
    let mut ledger = Ledger::default();
    let Ok(db) = Db::open(fs, Path::new("/db"), options()) else { return ledger };
    let mut poisoned = false;
    for i in 0..KEYS {
        let (k, write) = if i % 7 == 6 { (key(i - 3), None) } else { (key(i), Some(value(i))) };
        let result = match &write {
            Some(v) => db.put(&k, v, WriteOptions { sync: i % 50 == 0 }),
            None => db.delete(&k, WriteOptions::default()),
        };
        match result {
            Ok(()) => {
                assert!(!poisoned, "write {i} acknowledged after the database was poisoned");
                ledger.acked.insert(k, write);
            }
            Err(e) => {
                assert!(matches!(e, Error::Io { .. } | Error::Poisoned(_)), "write {i}: unexpected {e}");
                poisoned |= matches!(e, Error::Poisoned(_));
                ledger.uncertain.entry(k).or_default().push(write);
            }
        }
        if i % 97 == 0 {
            // Reads either answer correctly or report the failure; never wrong data.
            for (k, v) in ledger.acked.iter().filter(|(k, _)| !ledger.uncertain.contains_key(*k)) {
                if let Ok(got) = db.get(k, &ReadOptions::default()) {
                    assert_eq!(&got, v, "read of an acknowledged key");
                }
            }
        }
    }
    let _ = db.compact_range(None, None);
    if let Ok(mut it) = db.iter(&ReadOptions::default(), false, IterBounds::default()) {
        it.seek_to_start();
        while it.valid() {
            it.advance();
        }
    }
    db.close().expect("close succeeds whatever failed");
    ledger
}

fn verify(fs: Arc<dyn Fs>, ledger: &Ledger, label: &str) {
    let db = Db::open(fs, Path::new("/db"), options()).unwrap_or_else(|e| panic!("{label}: reopen after healing: {e}"));
    for i in 0..KEYS {
        let k = key(i);
        let got = db.get(&k, &ReadOptions::default()).unwrap_or_else(|e| panic!("{label}: get: {e}"));
        let acked = ledger.acked.get(&k).cloned().flatten();
        match ledger.uncertain.get(&k) {
            None => assert_eq!(got, acked, "{label}: key {i}"),
            Some(tries) => assert!(
                got == acked || tries.contains(&got) || (got.is_none() && !ledger.acked.contains_key(&k)),
                "{label}: key {i} holds {got:?}, neither acknowledged nor tried"
            ),
        }
    }
    db.close().unwrap();
}

#[test]
fn every_io_failure_is_an_error_and_loses_nothing_acknowledged() {
    let counting = FaultFs::new(Arc::new(MemFs::new()));
    let ledger = workload(Arc::new(counting.clone()));
    assert!(ledger.uncertain.is_empty());
    let total = counting.operations();
    assert!(total > 300, "the workload should touch many files: {total}");
    let step = (total / 120).max(1);
    let mut runs = 0;
    let mut injected = 0;
    for persistent in [false, true] {
        for n in (1..=total).step_by(step as usize) {
            let base = MemFs::new();
            let fault = FaultFs::new(Arc::new(base.clone()));
            fault.fail_at(n, &[], persistent);
            let ledger = workload(Arc::new(fault.clone()));
            injected += fault.injected();
            fault.heal();
            verify(Arc::new(base), &ledger, &format!("fault at op {n}, persistent {persistent}"));
            runs += 1;
        }
    }
    assert!(injected >= runs, "every run injected a fault: {injected} in {runs}");
    println!("I/O-error sweep: {total} file operations in the workload, {runs} runs (every {step}th operation, transient and persistent), {injected} faults injected, 0 panics, 0 acknowledged writes lost");
}

#[test]
fn a_panic_on_a_background_thread_fails_the_waiters_instead_of_hanging_them() {
    let fault = FaultFs::new(Arc::new(MemFs::new()));
    let db = Db::open(Arc::new(fault.clone()), Path::new("/db"), options()).expect("open");
    for i in 0..KEYS {
        db.put(&key(i), &value(i), WriteOptions::default()).unwrap();
    }
    db.compact_range(None, None).unwrap();
    for i in 0..10 {
        db.put(&key(i), &value(i), WriteOptions::default()).unwrap();
    }
    // With nothing writing, the next append is the flush's, on the worker.
    fault.panic_at(1, &[FaultKind::Append]);
    let (done, finished) = std::sync::mpsc::channel();
    let waiter = db.clone();
    std::thread::spawn(move || {
        let _ = done.send(waiter.compact_range(None, None));
    });
    let outcome = finished.recv_timeout(std::time::Duration::from_secs(30)).expect("compact_range hung");
    let err = outcome.expect_err("the job panicked");
    assert!(err.to_string().contains("injected panic"), "the panic's message is kept: {err}");
    assert!(db.put(b"after", b"v", WriteOptions::default()).is_err(), "writes are refused once poisoned");
    assert_eq!(db.get(&key(7), &ReadOptions::default()).unwrap(), Some(value(7)), "reads go on");
    fault.heal();
    db.close().unwrap();
}
