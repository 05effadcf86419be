//! Point reads over a database of tables, for profiling: `cargo build --profile profiling --example get_profile`, then `perf record`.
use std::path::Path;
use std::sync::Arc;
use todb::engine::env::MemFs;
use todb::engine::{Db, Options, ReadOptions, WriteOptions};

fn main() {
    let db = Db::open(Arc::new(MemFs::new()), Path::new("/m"), Options { cache_size: 64 << 20, ..Options::default() })
        .unwrap();
    let n = 200_000u64;
    for i in 0..n {
        db.put(format!("{i:016}").as_bytes(), &[b'v'; 100], WriteOptions::default()).unwrap();
    }
    for _ in 0..5 {
        for i in 0..n {
            db.get(format!("{i:016}").as_bytes(), &ReadOptions { fill_cache: true, ..ReadOptions::default() }).unwrap();
        }
    }
}
