//! Inserts into memtables of the default size (4 MiB, about 30,000 entries of the bench's
//! shape), 1,000 random keys per batch: the engine's share of fillbatch without the log or the
//! background worker. `cargo run --release --example memtable_speed`.
use std::time::Instant;
use todb::engine::memtable::MemTable;
use todb::engine::write_batch::WriteBatch;

fn main() {
    let value = vec![b'v'; 100];
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut seq = 1;
    for round in 0..3 {
        let mut ns = 0u128;
        let mut ops = 0u64;
        for _ in 0..20 {
            let mem = MemTable::new();
            while mem.approximate_memory_usage() < 4 << 20 {
                let mut batch = WriteBatch::new();
                for _ in 0..1000 {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    batch.put(format!("{:016}", x % 1_000_000).as_bytes(), &value);
                }
                batch.set_sequence(seq);
                seq += 1000;
                let t = Instant::now();
                mem.insert_batch(&batch).unwrap();
                ns += t.elapsed().as_nanos();
                ops += 1000;
            }
        }
        println!("round {round}: {:.0} ns per insert", ns as f64 / ops as f64);
    }
}
