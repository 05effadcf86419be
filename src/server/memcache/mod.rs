//! The memcache text protocol over the engine, as pure synchronous code: [`parse`] turns bytes
//! into commands, [`group`] answers what one read brought (consecutive data commands as one
//! atomic group), [`items`] carries out data commands over a `store::Store`, [`exec`] the rest.
//! The connection task (tokio) lives in `server::memcache_conn`; nothing here does I/O.
//!
//! Supported, with memcached's replies (lines end in "\r\n"; a bare "\n" is accepted too):
//!
//! - `get <key>+`, `gets <key>+` → `VALUE <key> <flags> <bytes>[ <cas>]` + data per hit, `END`.
//! - `set|add|replace|append|prepend <key> <flags> <exptime> <bytes> [noreply]` and
//!   `cas <key> <flags> <exptime> <bytes> <cas unique> [noreply]`, each followed by a data
//!   block and "\r\n" → `STORED`, `NOT_STORED`, `EXISTS`, `NOT_FOUND`.
//! - The telnet form `set <key> <value...>`: when what follows the key is not a valid numeric
//!   header, the rest of the line is the value (flags 0) → `STORED`.
//! - `delete <key> [noreply]` → `DELETED`/`NOT_FOUND`; `incr|decr <key> <u64> [noreply]` → the new
//!   value (incr wraps at 2^64, decr stops at 0); `touch <key> <exptime> [noreply]` →
//!   `TOUCHED`/`NOT_FOUND`; `flush_all [delay] [noreply]` → `OK`; `version`; `stats`;
//!   `verbosity <n> [noreply]` → `OK`; `quit`.
//!
//! Differences from memcached: nothing expires, so an exptime (or flush delay) other than 0 is
//! refused with a `CLIENT_ERROR`. Values are stored as-is, readable by Redis clients and
//! JavaScript; nonzero flags live under a side key (`items::FLAGS_PREFIX`). A cas unique is a hash
//! of the value and flags, so rewriting the same value gives the same cas (see `items::cas_of`).
//! With a password, a connection must first send memcached's text-auth form:
//! `set <any key> 0 0 <len>\r\n<username> <password>\r\n` (any username).
//!
//! Extension `watch`: the server replies `OK` and then sends, for every change to the database
//! by anyone, `CHANGE set <key> <bytes>\r\n<data>\r\n` or `CHANGE del <key>\r\n`, in write order.
//! Key bytes outside 0x21..=0x7e, and '%', are percent-encoded as `%XX`. `unwatch` → `OK` ends it.

pub mod exec;
pub mod group;
pub mod items;
pub mod parse;
#[cfg(test)]
mod testing;

pub use exec::{encode_change, execute, Config, Outcome, Session, Stats};
pub use group::{answer, Answered};
pub use items::{cas_of, FLAGS_PREFIX};
pub use parse::{parse, Command, Limits, ProtoError, StoreOp};
