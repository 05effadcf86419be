//! The database's versions: which tables are live at which level, and the MANIFEST that records
//! every change to that set as a [`VersionEdit`].

pub mod edit;

pub use edit::{FileMeta, VersionEdit, NUM_LEVELS};
pub mod set;
pub mod version;

pub use set::VersionSet;
pub use version::Version;
