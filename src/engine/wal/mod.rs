//! The write-ahead log: every write batch is appended here, as one logical record, before it is
//! applied to the memtable, and replayed from here after a restart. The format is LevelDB's, so a
//! log written by LevelDB replays in todb and the other way round.

pub mod format;
mod reader;
mod writer;

pub use reader::{LogReader, ReadOutcome};
pub use writer::LogWriter;
