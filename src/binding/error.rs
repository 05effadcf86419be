//! The one place engine errors become JavaScript errors. Each error carries its `LEVEL_*` code as
//! the error's `code` property, the way classic-level reports LevelDB's statuses.

use napi::bindgen_prelude::{Env, JsError};

use crate::engine::Error;

/// A `LEVEL_*` code, used as napi's error status so that it lands in `err.code`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Code(pub &'static str);

impl AsRef<str> for Code {
    fn as_ref(&self) -> &str {
        self.0
    }
}

/// The database is closed, or not yet open.
pub const NOT_OPEN: Code = Code("LEVEL_DATABASE_NOT_OPEN");
/// An iterator was used after close.
pub const ITERATOR_NOT_OPEN: Code = Code("LEVEL_ITERATOR_NOT_OPEN");
/// A snapshot was used after close.
pub const SNAPSHOT_NOT_OPEN: Code = Code("LEVEL_SNAPSHOT_NOT_OPEN");

/// The code for an engine error.
pub fn code_of(err: &Error) -> Code {
    match err {
        Error::Io { .. } => Code("LEVEL_IO_ERROR"),
        Error::Corruption(_) => Code("LEVEL_CORRUPTION"),
        Error::Locked(_) => Code("LEVEL_LOCKED"),
        Error::ReadOnly(_) => Code("LEVEL_READONLY"),
        Error::Closed => NOT_OPEN,
        Error::NotSupported(_) => Code("LEVEL_NOT_SUPPORTED"),
        Error::InvalidArgument(_) => Code("LEVEL_INVALID_ARGUMENT"),
        // Handled by the binding (the read is retried on the pool); never meant to reach users.
        Error::Incomplete => Code("LEVEL_IO_ERROR"),
        Error::Poisoned(cause) => match code_of(cause) {
            Code("LEVEL_CORRUPTION") => Code("LEVEL_CORRUPTION"),
            _ => Code("LEVEL_IO_ERROR"),
        },
    }
}

/// An engine error as a napi error with its code, for methods that return synchronously.
pub fn to_js(err: Error) -> napi::Error<Code> {
    napi::Error::new(code_of(&err), err.to_string())
}

/// A plain error with a code.
pub fn coded(code: Code, message: impl Into<String>) -> napi::Error<Code> {
    napi::Error::new(code, message.into())
}

/// An engine error as a rejection from a pool task. napi's task results carry only its own
/// statuses, so the JavaScript error (with its `code`) is built here and handed back by reference.
pub fn reject(env: Env, err: Error) -> napi::Error {
    let js = JsError::from(to_js(err)).into_unknown(env);
    napi::Error::from(js)
}
