//! The engine's one error type. Every fallible engine call returns [`Result`]; the binding maps each
//! variant to a `LEVEL_*` code in exactly one place (`src/binding/error.rs`). A missing key is not an
//! error: reads return `Ok(None)`.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

/// Everything that can go wrong inside the engine.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The operating system refused a file operation.
    Io {
        /// What the engine was doing (`"append"`, `"sync"`, `"open"`...).
        op: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// Stored bytes failed a checksum, a magic number or a bounds check. Never returned as data.
    Corruption(String),
    /// The caller passed something the engine cannot accept (an option out of range, a
    /// missing directory with `create_if_missing` off).
    InvalidArgument(String),
    /// The directory exists but the engine cannot read what is in it.
    NotSupported(String),
    /// Another handle, in this process or another, holds the directory's `LOCK`.
    Locked(PathBuf),
    /// The database was opened read-only (`ReadOnlyDb`) and the operation named would write.
    ReadOnly(&'static str),
    /// The database was closed.
    Closed,
    /// An earlier log write or sync failed; every later write is refused with this (fail-stop).
    Poisoned(Arc<Error>),
    /// A read asked to touch only memory (`ReadOptions::memory_only`) needs the disk: retry it
    /// where waiting is allowed. Never reported to users.
    Incomplete,
}

/// The engine's result type.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Wraps an OS error with the operation and path it came from.
    pub fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Error {
        Error::Io { op, path: path.into(), source }
    }

    /// A corruption error with a formatted reason.
    pub fn corruption(reason: impl Into<String>) -> Error {
        Error::Corruption(reason.into())
    }

    /// A copy of this error for a second reader (a sticky error kept by an iterator or a poisoned
    /// database). `io::Error` is not `Clone`, so an OS error keeps its kind and message only.
    pub fn duplicate(&self) -> Error {
        match self {
            Error::Io { op, path, source } => {
                Error::Io { op, path: path.clone(), source: io::Error::new(source.kind(), source.to_string()) }
            }
            Error::Corruption(r) => Error::Corruption(r.clone()),
            Error::InvalidArgument(r) => Error::InvalidArgument(r.clone()),
            Error::NotSupported(r) => Error::NotSupported(r.clone()),
            Error::Locked(p) => Error::Locked(p.clone()),
            Error::ReadOnly(op) => Error::ReadOnly(op),
            Error::Closed => Error::Closed,
            Error::Poisoned(cause) => Error::Poisoned(cause.clone()),
            Error::Incomplete => Error::Incomplete,
        }
    }

    /// True for errors that stem from damaged bytes, including a poisoned state caused by one.
    pub fn is_corruption(&self) -> bool {
        match self {
            Error::Corruption(_) => true,
            Error::Poisoned(inner) => inner.is_corruption(),
            _ => false,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // NOTE: the "IO error: " and "Corruption: " prefixes match LevelDB's Status strings,
            // which classic-level users may match on.
            Error::Io { op, path, source } => write!(f, "IO error: {op} {}: {source}", path.display()),
            Error::Corruption(reason) => write!(f, "Corruption: {reason}"),
            Error::InvalidArgument(reason) => write!(f, "Invalid argument: {reason}"),
            Error::NotSupported(reason) => write!(f, "Not implemented: {reason}"),
            Error::Locked(path) => {
                write!(f, "IO error: lock {}: already held by process", path.display())
            }
            Error::ReadOnly(op) => write!(f, "Database is read-only: cannot {op} a database opened with readOnly"),
            Error::Closed => write!(f, "Database is not open"),
            Error::Poisoned(cause) => {
                write!(f, "Database is in a failed state after an earlier write error: {cause}")
            }
            Error::Incomplete => write!(f, "Incomplete: the read needs the disk"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            Error::Poisoned(cause) => Some(cause.as_ref()),
            _ => None,
        }
    }
}
