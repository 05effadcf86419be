//! Times 1,000-operation batches of random keys in the engine alone (fillbatch without
//! JavaScript): `cargo run --release --example batch_speed`.
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;
use todb::engine::env::{Fs, PosixFs};
use todb::engine::write_batch::WriteBatch;
use todb::engine::{Db, Options, WriteOptions};

fn main() {
    let _ = std::fs::remove_dir_all("/tmp/batch-speed");
    let fs: Arc<dyn Fs> = Arc::new(PosixFs);
    let db = Db::open(fs, Path::new("/tmp/batch-speed"), Options::default()).unwrap();
    let n = 300_000u64;
    let value = vec![b'v'; 100];
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let keys: Vec<Vec<u8>> = (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            format!("{:016}", x % n).into_bytes()
        })
        .collect();
    let t = Instant::now();
    let mut encode = 0u128;
    for chunk in keys.chunks(1000) {
        let e = Instant::now();
        let mut batch = WriteBatch::new();
        for k in chunk {
            batch.put(k, &value);
        }
        encode += e.elapsed().as_nanos();
        db.write(batch, WriteOptions::default()).unwrap();
    }
    let total = t.elapsed().as_nanos() as f64 / n as f64;
    println!("fillbatch in the engine: {total:.0} ns per op, of which encoding {:.0} ns", encode as f64 / n as f64);
    db.close().unwrap();
}
