//! The database's versions: which tables are live at which level, and the MANIFEST that records
//! every change to that set as a [`VersionEdit`].

pub mod edit;

pub use edit::{FileMeta, VersionEdit, NUM_LEVELS};
pub mod set;
#[expect(
    clippy::module_inception,
    reason = "the module holds the Version type, named after it like every concept file"
)]
pub mod version;

pub use set::VersionSet;
pub use version::Version;
