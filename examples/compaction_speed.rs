//! Measures how fast the background worker keeps up with fillbatch: 1,000,000 distinct random
//! 16-byte keys with 100-byte values (half one repeated letter, half random, as bench/workloads.js),
//! written in batches of 1,000 through `Db::write`, then a full `compact_range`. Reports the wall
//! time, the time spent in writes that found the worker behind, the worker thread's CPU time (from
//! /proc), and the tables per level.
//!
//! `cargo run --release --example compaction_speed [N]`
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;
use todb::engine::env::{Fs, PosixFs};
use todb::engine::write_batch::WriteBatch;
use todb::engine::{Db, Options, WriteOptions};

/// CPU seconds (user + system) of this process's threads named `name`, from /proc.
fn thread_cpu(name: &str) -> f64 {
    let ticks = 100.0; // sysconf(_SC_CLK_TCK) on Linux
    let mut total = 0.0;
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return 0.0 };
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else { continue };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else { continue };
        if !stat[open + 1..close].starts_with(name) {
            continue;
        }
        let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
        // Fields 14 and 15 of stat (utime, stime) are 11 and 12 after the name.
        let utime: f64 = fields.get(11).and_then(|f| f.parse().ok()).unwrap_or(0.0);
        let stime: f64 = fields.get(12).and_then(|f| f.parse().ok()).unwrap_or(0.0);
        total += (utime + stime) / ticks;
    }
    total
}

/// Bytes this process has written and read through system calls (`wchar`, `rchar` in /proc).
fn process_io() -> (u64, u64) {
    let io = std::fs::read_to_string("/proc/self/io").unwrap_or_default();
    let field =
        |name: &str| io.lines().find_map(|l| l.strip_prefix(name)).and_then(|v| v.trim().parse().ok()).unwrap_or(0);
    (field("wchar:"), field("rchar:"))
}

fn process_cpu() -> f64 {
    // SAFETY: getrusage fills the zeroed struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable rusage.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// `compact DIR`: opens the database in DIR and times one `compact_range` over everything, a
/// repeatable measure when DIR is a fresh copy of the same files each time.
fn compact_only(dir: &str) {
    let fs: Arc<dyn Fs> = Arc::new(PosixFs);
    let db = Db::open(fs, Path::new(dir), Options::default()).unwrap();
    let before = db.files_per_level();
    let bg0 = thread_cpu("todb-backgroun");
    let c = Instant::now();
    db.compact_range(None, None).unwrap();
    println!(
        "compact_range {:.3} s, worker cpu {:.2} s, levels {before:?} -> {:?}",
        c.elapsed().as_secs_f64(),
        thread_cpu("todb-backgroun") - bg0,
        db.files_per_level()
    );
    db.close().unwrap();
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let (Some("compact"), Some(dir)) = (args.get(1).map(String::as_str), args.get(2)) {
        return compact_only(dir);
    }
    // `keep DIR [N]`: fill DIR and leave it as it is, uncompacted, for `compact`.
    let keep = (args.get(1).map(String::as_str) == Some("keep")).then(|| args.get(2).cloned()).flatten();
    let n: usize = args.get(if keep.is_some() { 3 } else { 1 }).and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let dir = keep.clone().unwrap_or_else(|| format!("/tmp/compaction-speed-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut rand = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let values: Vec<Vec<u8>> = (0..1024u32)
        .map(|v| {
            let mut b = vec![b'a' + (v % 26) as u8; 100];
            for byte in b.iter_mut().skip(50) {
                *byte = rand() as u8;
            }
            b
        })
        .collect();
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = (rand() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    let keys: Vec<Vec<u8>> = order.iter().map(|k| format!("{k:016}").into_bytes()).collect();

    let fs: Arc<dyn Fs> = Arc::new(PosixFs);
    let db = Db::open(fs, Path::new(&dir), Options::default()).unwrap();
    let cpu0 = process_cpu();
    let io0 = process_io();
    let t = Instant::now();
    let (mut stalled, mut stalls, mut slow) = (0.0f64, 0u32, 0u32);
    for (b, chunk) in keys.chunks(1000).enumerate() {
        let mut batch = WriteBatch::new();
        for (i, k) in chunk.iter().enumerate() {
            batch.put(k, &values[(b * 1000 + i) & 1023]);
        }
        let would_stall = db.write_would_stall();
        let w = Instant::now();
        db.write(batch, WriteOptions::default()).unwrap();
        let took = w.elapsed().as_secs_f64();
        if would_stall {
            stalls += 1;
            stalled += took;
        } else if took > 0.002 {
            slow += 1;
            stalled += took;
        }
    }
    let fill = t.elapsed().as_secs_f64();
    let bg_fill = thread_cpu("todb-backgroun");
    let levels = db.files_per_level();
    let io1 = process_io();
    if keep.is_some() {
        println!("kept {dir}: fill {fill:.3} s, levels {levels:?}");
        db.close().unwrap();
        return;
    }
    let c = Instant::now();
    db.compact_range(None, None).unwrap();
    let compact = c.elapsed().as_secs_f64();
    let bg_total = thread_cpu("todb-backgroun");
    let cpu = process_cpu() - cpu0;
    let io2 = process_io();
    let mb = |b: u64| b as f64 / 1048576.0;
    println!(
        "fill {fill:.3} s ({:.0} ns/op), stalled {stalled:.3} s ({stalls} stalls, {slow} slow writes), \
         worker cpu {bg_fill:.2} s, levels {levels:?}, wrote {:.0} MiB, read {:.0} MiB",
        fill * 1e9 / n as f64,
        mb(io1.0 - io0.0),
        mb(io1.1 - io0.1)
    );
    println!(
        "compact_range {compact:.3} s (worker cpu {:.2} s), levels {:?}, wrote {:.0} MiB, process cpu {cpu:.2} s",
        bg_total - bg_fill,
        db.files_per_level(),
        mb(io2.0 - io1.0)
    );
    db.close().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
