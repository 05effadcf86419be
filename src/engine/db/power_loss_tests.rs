//! Power-loss simulation (reliability notes, part 1b, after LevelDB's fault_injection_test): in
//! cycles on one directory, write (unique keys, every tenth write synced, some deletes, sometimes
//! a full compaction), close without syncing, then drop everything not made durable: unsynced
//! file data, and in the stricter mode files whose directory entry was never synced. Reopening
//! must succeed and recover exactly a prefix of the issued writes that includes every write
//! acknowledged with `sync` (I1) and everything an earlier open had recovered (I3).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use super::*;
use crate::engine::env::{CrashMode, FaultFs, MemFs};
use crate::engine::iter::IterBounds;

#[derive(Clone)]
enum Op {
    Put(Vec<u8>, Vec<u8>),
    Delete(Vec<u8>, usize),
}

fn options() -> Options {
    Options { write_buffer_size: 8 << 10, max_file_size: 16 << 10, block_size: 1024, ..Options::default() }
}

fn rng(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

fn contents(db: &Db) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let mut it = db.iter(&ReadOptions::default(), false, IterBounds::default()).expect("iterator");
    it.seek_to_start();
    let mut out = BTreeMap::new();
    while it.valid() {
        out.insert(it.key().to_vec(), it.value().to_vec());
        it.advance();
    }
    it.status().expect("scan");
    out
}

/// The length of the prefix of `issued` that `recovered` shows, checked exactly.
fn recovered_prefix(issued: &[Op], recovered: &BTreeMap<Vec<u8>, Vec<u8>>, label: &str) -> usize {
    let mut k = 0;
    for (i, op) in issued.iter().enumerate() {
        if let Op::Put(key, _) = op {
            if recovered.contains_key(key) {
                k = i + 1;
            }
        }
    }
    for (i, op) in issued.iter().enumerate().skip(k) {
        if let Op::Delete(key, put) = op {
            if *put < k && !recovered.contains_key(key) {
                k = i + 1;
            }
        }
    }
    let mut model = BTreeMap::new();
    for op in issued.iter().take(k) {
        match op {
            Op::Put(key, value) => {
                model.insert(key.clone(), value.clone());
            }
            Op::Delete(key, _) => {
                model.remove(key);
            }
        }
    }
    assert!(model == *recovered, "{label}: the recovered state is not the prefix of {k} writes");
    k
}

/// What one run checked: (crashes, writes issued, writes that had to survive).
fn run(seed: u64, mode: CrashMode) -> (u64, u64, u64) {
    let mut totals = (0, 0, 0);
    let base = MemFs::new();
    let fault = FaultFs::new(Arc::new(base));
    let fs: Arc<dyn Fs> = Arc::new(fault.clone());
    let mut seed = seed;
    let mut issued: Vec<Op> = Vec::new();
    let mut durable = 0; // every write before this index must survive
    for cycle in 0..6 {
        let label = format!("seed {seed:x}, {mode:?}, cycle {cycle}");
        let db = Db::open(fs.clone(), Path::new("/db"), options()).unwrap_or_else(|e| panic!("{label}: open: {e}"));
        let k = recovered_prefix(&issued, &contents(&db), &label);
        assert!(k >= durable, "{label}: {} synced or recovered writes lost (prefix {k} < {durable})", durable - k);
        totals.2 += durable as u64;
        issued.truncate(k);
        // Open wrote what it recovered to a synced table and MANIFEST.
        durable = k;
        let writes = 100 + rng(&mut seed) % 400;
        for i in 0..writes {
            let sync = rng(&mut seed).is_multiple_of(10);
            let puts: Vec<usize> =
                issued.iter().enumerate().filter(|(_, op)| matches!(op, Op::Put(..))).map(|(j, _)| j).collect();
            let op = if i % 13 == 12 && !puts.is_empty() {
                let p = puts[(rng(&mut seed) % puts.len() as u64) as usize];
                let Op::Put(key, _) = &issued[p] else { unreachable!() };
                Op::Delete(key.clone(), p)
            } else {
                Op::Put(format!("c{cycle}-{i:04}").into_bytes(), vec![b'a' + (i % 26) as u8; 10 + (i % 90) as usize])
            };
            let options = WriteOptions { sync };
            match &op {
                Op::Put(key, value) => db.put(key, value, options).unwrap(),
                Op::Delete(key, _) => db.delete(key, options).unwrap(),
            }
            issued.push(op);
            totals.1 += 1;
            if sync {
                durable = issued.len();
            }
            if rng(&mut seed).is_multiple_of(300) {
                db.compact_range(None, None).unwrap();
            }
        }
        db.close().unwrap();
        fault.crash(mode).unwrap();
        totals.0 += 1;
    }
    totals
}

#[test]
fn a_power_loss_keeps_every_synced_write_and_a_prefix_of_the_rest() {
    let mut totals = (0, 0, 0);
    for seed in [0x1234_5678_9abc_def1u64, 0x0f0f_1e1e_2d2d_3c3c, 0x5555_aaaa_3333_cccc, 0x9e37_79b9_7f4a_7c15] {
        for mode in [CrashMode::DropUnsyncedData, CrashMode::DropUnsyncedFiles] {
            let (crashes, writes, checked) = run(seed, mode);
            totals = (totals.0 + crashes, totals.1 + writes, totals.2 + checked);
        }
    }
    println!(
        "power loss: {} simulated crashes (2 modes x 4 seeds x 6 cycles), {} writes issued, {} synced or recovered writes checked after reopen, 0 lost, 0 prefix violations",
        totals.0, totals.1, totals.2
    );
}
