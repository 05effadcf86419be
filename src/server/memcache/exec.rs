//! Carries out one parsed memcache command and writes its reply: a connection's state, the
//! server's settings and counters, authentication, and the commands that are not data commands
//! (`stats`, `flush_all`, `watch`, refusals...). Data commands run through `group::run_group`,
//! alone here or with their neighbours from `group::answer`. Synchronous: the connection task
//! calls it through `group::answer` (through `server::blocking` when it may wait on the disk).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::parse::{Command, Limits, StoreOp};
use crate::engine::iter::IterBounds;
use crate::engine::{Db, Error, ReadOptions};

/// Reply to an exptime other than 0: todb keeps items until they are deleted.
pub const NO_EXPIRY: &str = "CLIENT_ERROR todb does not expire items: exptime must be 0\r\n";
/// Reply to `flush_all` with a delay other than 0.
pub const NO_DELAY: &str = "CLIENT_ERROR todb does not delay flush_all: delay must be 0\r\n";
/// Reply to a wrong text-auth `set`.
pub const AUTH_FAILURE: &str = "CLIENT_ERROR authentication failure\r\n";
/// Reply to any other command before authentication.
pub const UNAUTHENTICATED: &str = "CLIENT_ERROR unauthenticated\r\n";
/// Reply to a value over `Limits::max_value`.
pub const TOO_LARGE: &str = "SERVER_ERROR object too large for cache\r\n";

/// Counters behind `stats`, shared by a server's connections.
#[derive(Debug, Default)]
pub struct Stats {
    /// Keys asked for by `get`/`gets` (memcached counts keys, not commands).
    pub cmd_get: AtomicU64,
    /// Storage commands received.
    pub cmd_set: AtomicU64,
    /// Keys found by `get`/`gets`.
    pub get_hits: AtomicU64,
    /// Keys not found by `get`/`gets`.
    pub get_misses: AtomicU64,
}

/// How commands are carried out; one per server.
#[derive(Debug, Default)]
pub struct Config {
    /// Sync each write to disk before replying.
    pub sync: bool,
    /// Request limits (for the parser; kept here so one value configures a connection).
    pub limits: Limits,
    /// When set, each connection must authenticate first with memcached's text-auth form:
    /// `set <any key> 0 0 <len>\r\n<username> <password>\r\n` (any username).
    pub password: Option<String>,
    /// The counters.
    pub stats: Arc<Stats>,
}

/// One connection's state.
#[derive(Clone, Copy, Debug, Default)]
pub struct Session {
    /// Whether the connection has authenticated; ignored when `Config::password` is `None`.
    pub authenticated: bool,
}

/// What the connection must do after sending the reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Read the next command.
    Continue,
    /// Close the connection (`quit`; nothing was appended).
    Close,
    /// Start sending changes, after the "OK\r\n" already appended.
    Watch,
    /// Stop sending changes, after the "OK\r\n" already appended.
    Unwatch,
}

/// Appends a `watch` message for one change: `CHANGE set <key> <bytes>\r\n<data>\r\n` for a put,
/// `CHANGE del <key>\r\n` for a delete. Key bytes outside 0x21..=0x7e, and '%', are written as
/// `%XX` (uppercase hex) so the key is always one token.
pub fn encode_change(out: &mut Vec<u8>, is_put: bool, key: &[u8], value: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.extend_from_slice(if is_put { b"CHANGE set " } else { b"CHANGE del " });
    for &b in key {
        if (0x21..=0x7e).contains(&b) && b != b'%' {
            out.push(b);
        } else {
            out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        }
    }
    if is_put {
        out.extend_from_slice(format!(" {}\r\n", value.len()).as_bytes());
        out.extend_from_slice(value);
    }
    out.extend_from_slice(b"\r\n");
}

/// Carries out `cmd` alone, appending its reply (nothing under `noreply`, except refusals of the
/// command line itself, such as a nonzero exptime) to `out`. An engine error is replied as
/// `SERVER_ERROR <message>`, even under `noreply`, and replaces any partial reply of `cmd`.
pub fn execute(db: &Db, config: &Config, session: &mut Session, cmd: &Command<'_>, out: &mut Vec<u8>) -> Outcome {
    if config.password.is_some() && !session.authenticated {
        return authenticate(config, session, cmd, out);
    }
    if let Some(writes) = super::items::data_kind(cmd) {
        super::group::run_group(db, config, std::slice::from_ref(cmd), writes, out);
        return Outcome::Continue;
    }
    let start = out.len();
    match run(db, config, cmd, out) {
        Ok(outcome) => outcome,
        Err(e) => {
            out.truncate(start);
            server_error(out, &e);
            Outcome::Continue
        }
    }
}

/// Appends the reply to a command that met engine error `e`. Engine messages may hold newlines
/// (paths, nested errors); a reply line must not.
pub(super) fn server_error(out: &mut Vec<u8>, e: &Error) {
    out.extend_from_slice(format!("SERVER_ERROR {}\r\n", e.to_string().replace(['\r', '\n'], " ")).as_bytes());
}

fn authenticate(config: &Config, session: &mut Session, cmd: &Command<'_>, out: &mut Vec<u8>) -> Outcome {
    match cmd {
        Command::Quit => return Outcome::Close,
        Command::Error(reply) => out.extend_from_slice(reply.as_bytes()),
        Command::Store { op: StoreOp::Set, data, noreply, .. } => {
            let password = data.iter().position(|&b| b == b' ').and_then(|i| data.get(i + 1..));
            let expected = config.password.as_deref().unwrap_or_default().as_bytes();
            if password.is_some_and(|p| same(p, expected)) {
                session.authenticated = true;
                reply(out, *noreply, b"STORED\r\n");
            } else {
                out.extend_from_slice(AUTH_FAILURE.as_bytes());
            }
        }
        _ => out.extend_from_slice(UNAUTHENTICATED.as_bytes()),
    }
    Outcome::Continue
}

/// Compares in time independent of where the first difference is, not to leak the password.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

fn reply(out: &mut Vec<u8>, noreply: bool, text: &[u8]) {
    if !noreply {
        out.extend_from_slice(text);
    }
}

/// The commands other than data commands (`items::data_kind` takes those first).
fn run(db: &Db, config: &Config, cmd: &Command<'_>, out: &mut Vec<u8>) -> crate::engine::Result<Outcome> {
    let stats = &config.stats;
    match cmd {
        // A storage command or touch here asked for an exptime: todb keeps items until deleted.
        Command::Store { .. } => {
            stats.cmd_set.fetch_add(1, Ordering::Relaxed);
            out.extend_from_slice(NO_EXPIRY.as_bytes());
        }
        Command::Touch { .. } => out.extend_from_slice(NO_EXPIRY.as_bytes()),
        Command::TooLarge { noreply, .. } => {
            stats.cmd_set.fetch_add(1, Ordering::Relaxed);
            reply(out, *noreply, TOO_LARGE.as_bytes());
        }
        Command::Get { .. } | Command::SetLine { .. } | Command::Delete { .. } | Command::Arith { .. } => {
            debug_assert!(false, "a data command outside a group: {cmd:?}")
        }
        Command::FlushAll { delay, noreply } => {
            if *delay != 0 {
                out.extend_from_slice(NO_DELAY.as_bytes());
                return Ok(Outcome::Continue);
            }
            db.clear_range(&ReadOptions::default(), false, IterBounds::default(), None)?;
            reply(out, *noreply, b"OK\r\n");
        }
        Command::Version => {
            out.extend_from_slice(concat!("VERSION todb-", env!("CARGO_PKG_VERSION"), "\r\n").as_bytes())
        }
        Command::Stats => {
            let lines = [
                ("pid", u64::from(std::process::id())),
                ("cmd_get", stats.cmd_get.load(Ordering::Relaxed)),
                ("cmd_set", stats.cmd_set.load(Ordering::Relaxed)),
                ("get_hits", stats.get_hits.load(Ordering::Relaxed)),
                ("get_misses", stats.get_misses.load(Ordering::Relaxed)),
            ];
            for (name, value) in lines {
                out.extend_from_slice(format!("STAT {name} {value}\r\n").as_bytes());
            }
            out.extend_from_slice(concat!("STAT version todb-", env!("CARGO_PKG_VERSION"), "\r\n").as_bytes());
            out.extend_from_slice(b"END\r\n");
        }
        Command::Verbosity { noreply } => reply(out, *noreply, b"OK\r\n"),
        Command::Quit => return Ok(Outcome::Close),
        Command::Watch => {
            out.extend_from_slice(b"OK\r\n");
            return Ok(Outcome::Watch);
        }
        Command::Unwatch => {
            out.extend_from_slice(b"OK\r\n");
            return Ok(Outcome::Unwatch);
        }
        Command::Error(text) => out.extend_from_slice(text.as_bytes()),
    }
    Ok(Outcome::Continue)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ReadOptions;
    use crate::server::memcache::items::flags_key;
    use crate::server::memcache::testing::Conn;

    #[test]
    fn expiry_is_refused_and_noreply_is_quiet() {
        let mut c = Conn::new(None);
        assert_eq!(c.send("set k 0 10 1\r\nx\r\n"), NO_EXPIRY);
        assert_eq!(c.send("set k 0 10 1 noreply\r\nx\r\n"), NO_EXPIRY);
        assert_eq!(c.send("get k\r\n"), "END\r\n");
        assert_eq!(c.send("set k 0 0 1 noreply\r\nx\r\nadd k 0 0 1 noreply\r\ny\r\n"), "");
        assert_eq!(c.send("verbosity 1 noreply\r\nflush_all noreply\r\n"), "");
        assert_eq!(c.send("get k\r\n"), "END\r\n");
        assert_eq!(c.send("flush_all 10\r\n"), NO_DELAY);
    }

    #[test]
    fn telnet_set() {
        let mut c = Conn::new(None);
        assert_eq!(c.send("set greeting hello world\r\n"), "STORED\r\n");
        assert_eq!(c.send("get greeting\n"), "VALUE greeting 0 11\r\nhello world\r\nEND\r\n");
    }

    #[test]
    fn flush_all_clears_values_and_flags() {
        let mut c = Conn::new(None);
        c.send("set a 1 0 1\r\nx\r\nset b 0 0 1\r\ny\r\n");
        assert_eq!(c.send("flush_all\r\n"), "OK\r\n");
        assert_eq!(c.send("get a b\r\n"), "END\r\n");
        assert_eq!(c.db.get(&flags_key(b"a"), &ReadOptions::default()).unwrap(), None);
    }

    #[test]
    fn misc_commands() {
        let mut c = Conn::new(None);
        assert_eq!(c.send("version\r\n"), "VERSION todb-0.1.0\r\n");
        assert_eq!(c.send("verbosity 1\r\n"), "OK\r\n");
        let stats = c.send("stats\r\n");
        assert!(stats.starts_with("STAT pid "), "{stats}");
        assert!(stats.contains("STAT cmd_get 0\r\n") && stats.contains("STAT version todb-0.1.0\r\n"));
        assert!(stats.ends_with("END\r\n"));
        assert_eq!(c.send("bogus\r\n"), "ERROR\r\n");
        assert_eq!(c.send("get\r\n"), "CLIENT_ERROR bad command line format\r\n");
        assert_eq!(c.send_all(b"watch\r\n"), ("OK\r\n".into(), Outcome::Watch));
        assert_eq!(c.send_all(b"unwatch\r\n"), ("OK\r\n".into(), Outcome::Unwatch));
        assert_eq!(c.send_all(b"quit\r\n"), (String::new(), Outcome::Close));
        assert_eq!(c.send_all(b"set k 0 0 1\r\nxy\r\n"), ("CLIENT_ERROR bad data chunk\r\n".into(), Outcome::Close));
    }

    #[test]
    fn too_large_values_are_swallowed() {
        let mut c = Conn::new(None);
        c.config.limits.max_value = 4;
        assert_eq!(c.send("set k 0 0 5\r\nhello\r\nget k\r\n"), "SERVER_ERROR object too large for cache\r\nEND\r\n");
        assert_eq!(c.send("set k 0 0 5 noreply\r\nhello\r\n"), "");
        assert_eq!(c.send("set k 0 0 4\r\nhell\r\n"), "STORED\r\n");
    }

    #[test]
    fn authentication() {
        let mut c = Conn::new(Some("s3cret"));
        assert_eq!(c.send("get k\r\n"), UNAUTHENTICATED);
        assert_eq!(c.send("set k hello\r\n"), UNAUTHENTICATED);
        assert_eq!(c.send("set auth 0 0 10\r\nuser wrong\r\n"), AUTH_FAILURE);
        assert_eq!(c.send("set auth 0 0 6\r\ns3cret\r\n"), AUTH_FAILURE);
        assert_eq!(c.send("bogus\r\n"), "ERROR\r\n");
        assert_eq!(c.send("set auth 0 0 13\r\nanyone s3cret\r\n"), "STORED\r\n");
        assert!(c.session.authenticated);
        // The credentials were not stored.
        assert_eq!(c.send("get auth\r\n"), "END\r\n");
        assert_eq!(c.send("set k 0 0 1\r\nx\r\n"), "STORED\r\n");
        let mut other = Session::default();
        let mut out = Vec::new();
        let cmd = Command::Get { keys: vec![b"k"], cas: false };
        assert_eq!(execute(&c.db, &c.config, &mut other, &cmd, &mut out), Outcome::Continue);
        assert_eq!(out, UNAUTHENTICATED.as_bytes());
        assert_eq!(execute(&c.db, &c.config, &mut other, &Command::Quit, &mut out), Outcome::Close);
    }

    #[test]
    fn engine_errors_become_server_errors() {
        let mut c = Conn::new(None);
        c.send("set k 0 0 1\r\nx\r\n");
        c.db.close().unwrap();
        let reply = c.send("get k\r\n");
        assert!(reply.starts_with("SERVER_ERROR ") && reply.ends_with("\r\n"), "{reply}");
        assert_eq!(reply.matches("\r\n").count(), 1);
        let reply = c.send("set k 0 0 1\r\ny\r\n");
        assert!(reply.starts_with("SERVER_ERROR "), "{reply}");
    }

    #[test]
    fn change_encoding() {
        let mut out = Vec::new();
        encode_change(&mut out, true, b"a b%\xff~", b"v\r\n");
        encode_change(&mut out, false, b"k", b"");
        assert_eq!(out, b"CHANGE set a%20b%25%FF~ 3\r\nv\r\n\r\nCHANGE del k\r\n");
    }
}
