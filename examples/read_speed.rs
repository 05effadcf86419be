//! Random point reads of a database on disk with the bench's shape (1,000,000 16-byte keys,
//! 100-byte values, default options), as `get()` makes them: memory only, on one thread.
//! `cargo run --release --example read_speed [n]`; with `--profile profiling`, for `perf record`.
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;
use todb::engine::env::{Fs, PosixFs};
use todb::engine::{Db, Error, Options, ReadOptions, WriteOptions};

fn main() {
    let n: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    // TODB_BLOCK_SIZE and TODB_CACHE_SIZE (bytes) override the defaults, to compare layouts.
    let knob = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<usize>().ok());
    let defaults = Options::default();
    let options = Options {
        block_size: knob("TODB_BLOCK_SIZE").unwrap_or(defaults.block_size),
        cache_size: knob("TODB_CACHE_SIZE").unwrap_or(defaults.cache_size),
        ..defaults
    };
    let dir = format!("/tmp/read-speed-{n}-{}", options.block_size);
    let fs: Arc<dyn Fs> = Arc::new(PosixFs);
    let fresh = !Path::new(&dir).exists();
    let db = Db::open(fs, Path::new(&dir), options).unwrap();
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    if fresh {
        // Half random, half repeated: about half compressible, like the bench's values.
        for i in 0..n {
            let mut value = vec![b'a'; 100];
            for b in value.iter_mut().take(50) {
                *b = b'a' + (next() % 26) as u8;
            }
            db.put(format!("{:016}", i).as_bytes(), &value, WriteOptions::default()).unwrap();
        }
        db.compact_range(None, None).unwrap();
    }
    let reads = 1_000_000;
    let options = ReadOptions { memory_only: true, ..ReadOptions::default() };
    for round in 0..3 {
        let t = Instant::now();
        let cpu = thread_cpu_ns();
        let (mut found, mut cold) = (0, 0);
        for _ in 0..reads {
            let key = format!("{:016}", next() % n);
            match db.get(key.as_bytes(), &options) {
                Ok(Some(_)) => found += 1,
                Ok(None) => {}
                // As the binding does: the pool reads it, waiting on the disk.
                Err(Error::Incomplete) => {
                    cold += 1;
                    db.get(key.as_bytes(), &ReadOptions::default()).unwrap();
                }
                Err(e) => panic!("{e}"),
            }
        }
        let ns = t.elapsed().as_nanos() as f64 / reads as f64;
        let cpu_ns = (thread_cpu_ns() - cpu) as f64 / reads as f64;
        println!("round {round}: {ns:.0} ns per get, {cpu_ns:.0} ns of this thread's CPU ({found} found, {cold} needed the disk)");
    }
    db.close().unwrap();
}

/// CPU time of the calling thread: on a shared machine, wall time counts other processes too.
fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid out-parameter for the duration of the call.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}
