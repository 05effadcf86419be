//! The napi-rs binding: thin classes that convert JavaScript values, call the engine and map its
//! errors to `LEVEL_*` codes. No storage logic lives here.
//!
//! Where work runs (shared performance notes): calls that only touch memory (a memtable get, a
//! non-sync write, which appends to the log's OS buffer) run on the JavaScript thread and return
//! at once; calls that wait on the disk (open, a sync write's fsync, clear, destroy, repair) run on
//! the libuv pool as [`napi::Task`]s and settle a promise.

mod batch;
mod convert;
mod crew;
mod db;
mod error;
mod handle;
mod iterator;
mod options;
mod server;
mod shared;
mod snapshot;
mod tasks;

pub use db::NativeDb;
pub use iterator::NativeIterator;
pub use server::NativeServer;
pub use snapshot::NativeSnapshot;
