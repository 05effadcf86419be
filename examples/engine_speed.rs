//! Times engine calls without JavaScript, to split a call's cost between engine and binding:
//! `cargo run --release --example engine_speed`.
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;
use todb::engine::env::{Fs, PosixFs};
use todb::engine::iter::IterBounds;
use todb::engine::{Db, Options, ReadOptions, WriteOptions};

fn main() {
    let _ = std::fs::remove_dir_all("/tmp/engine-speed");
    let fs: Arc<dyn Fs> = Arc::new(PosixFs);
    let db =
        Db::open(fs, Path::new("/tmp/engine-speed"), Options { cache_size: 64 << 20, ..Options::default() }).unwrap();
    let n = 100_000u64;
    let keys: Vec<Vec<u8>> = (0..n).map(|i| format!("{:016}", (i * 7919) % n).into_bytes()).collect();
    let value = vec![b'v'; 100];
    let t = Instant::now();
    for k in &keys {
        db.put(k, &value, WriteOptions::default()).unwrap();
    }
    println!("put (memtable + log write): {:.0} ns", t.elapsed().as_nanos() as f64 / n as f64);
    let ro = ReadOptions { fill_cache: true, ..ReadOptions::default() };
    let t = Instant::now();
    for k in &keys {
        db.get(k, &ro).unwrap();
    }
    println!("get from memtable and level 0: {:.0} ns", t.elapsed().as_nanos() as f64 / n as f64);
    db.compact_range(None, None).unwrap();
    for k in &keys {
        db.get(k, &ro).unwrap();
    }
    let t = Instant::now();
    for k in &keys {
        db.get(k, &ro).unwrap();
    }
    println!("get from one level, cached: {:.0} ns", t.elapsed().as_nanos() as f64 / n as f64);
    let t = Instant::now();
    for k in &keys {
        let mut m = k.clone();
        m.push(b'x');
        db.get(&m, &ro).unwrap();
    }
    println!("get missing: {:.0} ns", t.elapsed().as_nanos() as f64 / n as f64);
    let t = Instant::now();
    let mut it = db.iter(&ReadOptions::default(), false, IterBounds::default()).unwrap();
    for k in keys.iter().take(20_000) {
        it.seek(k);
        for _ in 0..10 {
            it.advance();
        }
    }
    println!("seek + 10: {:.0} ns", t.elapsed().as_nanos() as f64 / 20_000.0);
    db.close().unwrap();
}
