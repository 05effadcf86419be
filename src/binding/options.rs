//! classic-level's open options as JavaScript passes them, and their conversion to the engine's
//! [`Options`]. Missing fields take classic-level's defaults; numbers are checked, not wrapped.

use napi_derive::napi;

use crate::binding::error::{coded, Code};
use crate::engine::Options;

/// The open options classic-level accepts (unknown ones are ignored, as there).
#[napi(object)]
#[derive(Default)]
pub struct OpenOptions {
    /// Create the database if missing (default true).
    pub create_if_missing: Option<bool>,
    /// Fail if the database exists (default false).
    pub error_if_exists: Option<bool>,
    /// Snappy-compress table blocks (default true).
    pub compression: Option<bool>,
    /// Block cache size in bytes (default 8 MiB).
    pub cache_size: Option<f64>,
    /// Memtable size in bytes before a flush (default 4 MiB).
    pub write_buffer_size: Option<f64>,
    /// Table block size in bytes (default 4096).
    pub block_size: Option<f64>,
    /// Tables kept open (default 1000).
    pub max_open_files: Option<f64>,
    /// Keys between block restart points (default 16).
    pub block_restart_interval: Option<f64>,
    /// Target table size in bytes (default 2 MiB).
    pub max_file_size: Option<f64>,
    /// Keep the database in memory only, on the engine's in-memory file system: nothing is
    /// written to disk and everything is gone on close (default false).
    pub in_memory: Option<bool>,
    /// Share one engine with every other instance in the process (worker threads included)
    /// that opens the same location with this set; see `handle.rs` (default false).
    pub multithreading: Option<bool>,
    /// Open without taking the LOCK, beside a writer in another process: reads only, of the
    /// state as of open until `refresh()` (default false).
    pub read_only: Option<bool>,
}

fn size(value: Option<f64>, default: usize, min: usize, name: &str) -> napi::Result<usize, Code> {
    let Some(v) = value else { return Ok(default) };
    if !v.is_finite() || v < min as f64 || v > (1u64 << 40) as f64 {
        return Err(coded(
            Code("LEVEL_INVALID_ARGUMENT"),
            format!("The '{name}' option must be a number of at least {min}"),
        ));
    }
    Ok(v as usize)
}

impl OpenOptions {
    /// The engine options, or an error naming the bad field.
    pub fn to_engine(&self) -> napi::Result<Options, Code> {
        let d = Options::default();
        Ok(Options {
            create_if_missing: self.create_if_missing.unwrap_or(d.create_if_missing),
            error_if_exists: self.error_if_exists.unwrap_or(d.error_if_exists),
            compression: self.compression.unwrap_or(d.compression),
            cache_size: size(self.cache_size, d.cache_size, 0, "cacheSize")?,
            write_buffer_size: size(self.write_buffer_size, d.write_buffer_size, 1024, "writeBufferSize")?,
            block_size: size(self.block_size, d.block_size, 64, "blockSize")?,
            max_open_files: size(self.max_open_files, d.max_open_files, 10, "maxOpenFiles")?,
            block_restart_interval: size(
                self.block_restart_interval,
                d.block_restart_interval,
                1,
                "blockRestartInterval",
            )?,
            max_file_size: size(self.max_file_size, d.max_file_size, 1024, "maxFileSize")?,
        })
    }
}
