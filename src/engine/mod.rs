//! todb's storage engine: a LevelDB-style log-structured merge tree in plain synchronous Rust.
//! It never touches JavaScript; the binding in `src/binding/` calls it.
//!
//! A write is encoded as a [`write_batch::WriteBatch`], appended to the write-ahead log
//! ([`wal`]), inserted into the [`memtable::MemTable`], and then published by raising the last
//! sequence number. Reads see the memtables (and, from issue #3, the tables of each level) as of
//! one sequence number, so every read is a consistent point in time. All file access goes through
//! [`env::Fs`]. Every byte format is LevelDB's, described in docs/format.md.

#![deny(missing_docs)]

pub mod coding;
pub mod crc;
pub mod db;
pub mod env;
pub mod error;
pub mod filename;
pub mod iter;
pub mod key;
pub mod memtable;
pub mod options;
pub mod snapshot;
pub mod sstable;
pub mod table_cache;
pub mod version;
pub mod wal;
pub mod write_batch;

pub use db::{Db, OpenReport};
pub use error::{Error, Result};
pub use options::{Options, ReadOptions, WriteOptions};
