//! Carries out parsed memcache commands against the engine and writes their replies. Synchronous:
//! the connection task calls [`execute`] (through `server::blocking` when it may wait on the disk).
//!
//! Values are stored as-is, since Redis clients and JavaScript read the same keys; nonzero flags
//! live under a side key, `FLAGS_PREFIX ++ key`, written in the same batch as the value. Every
//! read-modify-write goes through `Db::write_atomic`, so it is atomic against every writer.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::parse::{Command, Limits, StoreOp};
use crate::engine::iter::IterBounds;
use crate::engine::write_batch::WriteBatch;
use crate::engine::{Db, Error, ReadOptions, WriteOptions};

/// Prefix of the side keys holding nonzero memcache flags, as a decimal string.
pub const FLAGS_PREFIX: &[u8] = b"\xff\xfetodb:mcflags:";

/// Reply to an exptime other than 0: todb keeps items until they are deleted.
pub const NO_EXPIRY: &str = "CLIENT_ERROR todb does not expire items: exptime must be 0\r\n";
/// Reply to `flush_all` with a delay other than 0.
pub const NO_DELAY: &str = "CLIENT_ERROR todb does not delay flush_all: delay must be 0\r\n";
/// Reply to `incr`/`decr` on a value that is not a decimal u64 (memcached's words).
pub const NON_NUMERIC: &str = "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n";
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

/// The cas unique of a value: 64-bit FNV-1a over the value bytes then the flags (little-endian),
/// never 0. It is derived from content, not from a version counter, so storing the same value
/// and flags again gives the same cas: a `cas` cannot tell A→B→A from no change (ABA).
pub fn cas_of(value: &[u8], flags: u32) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let hash = value.iter().chain(&flags.to_le_bytes()).fold(OFFSET, |h, &b| (h ^ u64::from(b)).wrapping_mul(PRIME));
    hash.max(1)
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

/// Carries out `cmd`, appending its reply (nothing under `noreply`, except refusals of the
/// command line itself, such as a nonzero exptime) to `out`. An engine error is replied as
/// `SERVER_ERROR <message>` and replaces any partial reply of that command.
pub fn execute(db: &Db, config: &Config, session: &mut Session, cmd: &Command<'_>, out: &mut Vec<u8>) -> Outcome {
    if config.password.is_some() && !session.authenticated {
        return authenticate(config, session, cmd, out);
    }
    let start = out.len();
    match run(db, config, cmd, out) {
        Ok(outcome) => outcome,
        Err(e) => {
            out.truncate(start);
            out.extend_from_slice(format!("SERVER_ERROR {}\r\n", one_line(&e)).as_bytes());
            Outcome::Continue
        }
    }
}

/// Engine messages may hold newlines (paths, nested errors); a reply line must not.
fn one_line(e: &Error) -> String {
    e.to_string().replace(['\r', '\n'], " ")
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

fn flags_key(key: &[u8]) -> Vec<u8> {
    [FLAGS_PREFIX, key].concat()
}

/// Stored flags are a decimal u32; anything else (written by another client) reads as 0.
fn decode_flags(stored: Option<Vec<u8>>) -> u32 {
    stored.and_then(|v| super::parse::parse_u64(&v)).and_then(|n| u32::try_from(n).ok()).unwrap_or(0)
}

/// Adds to `batch` what makes `key`'s side key say `flags`, given whether it exists now.
fn put_flags(batch: &mut WriteBatch, key: &[u8], flags: u32, side_exists: bool) {
    if flags != 0 {
        batch.put(&flags_key(key), flags.to_string().as_bytes());
    } else if side_exists {
        batch.delete(&flags_key(key));
    }
}

fn run(db: &Db, config: &Config, cmd: &Command<'_>, out: &mut Vec<u8>) -> crate::engine::Result<Outcome> {
    let write = WriteOptions { sync: config.sync };
    let stats = &config.stats;
    match cmd {
        Command::Get { keys, cas } => {
            // One snapshot so that each value and its flags, and all the keys, agree.
            let snapshot = db.snapshot()?;
            let read = ReadOptions { snapshot: Some(snapshot.seq()), fill_cache: true, ..ReadOptions::default() };
            stats.cmd_get.fetch_add(keys.len() as u64, Ordering::Relaxed);
            for key in keys {
                let Some(value) = db.get(key, &read)? else {
                    stats.get_misses.fetch_add(1, Ordering::Relaxed);
                    continue;
                };
                stats.get_hits.fetch_add(1, Ordering::Relaxed);
                let flags = decode_flags(db.get(&flags_key(key), &read)?);
                out.extend_from_slice(b"VALUE ");
                out.extend_from_slice(key);
                let header = match cas {
                    true => format!(" {flags} {} {}\r\n", value.len(), cas_of(&value, flags)),
                    false => format!(" {flags} {}\r\n", value.len()),
                };
                out.extend_from_slice(header.as_bytes());
                out.extend_from_slice(&value);
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b"END\r\n");
        }
        Command::Store { op, key, flags, exptime, data, cas, noreply } => {
            stats.cmd_set.fetch_add(1, Ordering::Relaxed);
            if *exptime != 0 {
                out.extend_from_slice(NO_EXPIRY.as_bytes());
                return Ok(Outcome::Continue);
            }
            let answer = store(db, write, *op, key, *flags, data, *cas)?;
            reply(out, *noreply, answer);
        }
        Command::SetLine { key, value } => {
            stats.cmd_set.fetch_add(1, Ordering::Relaxed);
            let answer = store(db, write, StoreOp::Set, key, 0, value, 0)?;
            out.extend_from_slice(answer);
        }
        Command::TooLarge { noreply, .. } => {
            stats.cmd_set.fetch_add(1, Ordering::Relaxed);
            reply(out, *noreply, TOO_LARGE.as_bytes());
        }
        Command::Delete { key, noreply } => {
            let found = db.write_atomic(write, |r| {
                let mut batch = WriteBatch::new();
                if r.get(key)?.is_none() {
                    return Ok((batch, false));
                }
                batch.delete(key);
                let side = flags_key(key);
                if r.get(&side)?.is_some() {
                    batch.delete(&side);
                }
                Ok((batch, true))
            })?;
            reply(out, *noreply, if found { b"DELETED\r\n" } else { b"NOT_FOUND\r\n" });
        }
        Command::Arith { incr, key, delta, noreply } => {
            let result = db.write_atomic(write, |r| {
                let mut batch = WriteBatch::new();
                let Some(value) = r.get(key)? else { return Ok((batch, None)) };
                let Some(n) = super::parse::parse_u64(&value) else { return Ok((batch, Some(None))) };
                let n = if *incr { n.wrapping_add(*delta) } else { n.saturating_sub(*delta) };
                batch.put(key, n.to_string().as_bytes());
                Ok((batch, Some(Some(n))))
            })?;
            match result {
                None => reply(out, *noreply, b"NOT_FOUND\r\n"),
                Some(None) => out.extend_from_slice(NON_NUMERIC.as_bytes()),
                Some(Some(n)) => reply(out, *noreply, format!("{n}\r\n").as_bytes()),
            }
        }
        Command::Touch { key, exptime, noreply } => {
            if *exptime != 0 {
                out.extend_from_slice(NO_EXPIRY.as_bytes());
                return Ok(Outcome::Continue);
            }
            // Nothing to change, since nothing expires: touching is only an existence check.
            let read = ReadOptions { fill_cache: true, ..ReadOptions::default() };
            let found = db.get(key, &read)?.is_some();
            reply(out, *noreply, if found { b"TOUCHED\r\n" } else { b"NOT_FOUND\r\n" });
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

/// Runs one storage command atomically; returns its reply line.
fn store(
    db: &Db,
    write: WriteOptions,
    op: StoreOp,
    key: &[u8],
    flags: u32,
    data: &[u8],
    cas: u64,
) -> crate::engine::Result<&'static [u8]> {
    db.write_atomic(write, |r| {
        let mut batch = WriteBatch::new();
        let current = r.get(key)?;
        let side = r.get(&flags_key(key))?;
        let side_exists = side.is_some();
        let reply: &'static [u8] = match (op, current) {
            (StoreOp::Set, _) | (StoreOp::Add, None) | (StoreOp::Replace, Some(_)) => {
                batch.put(key, data);
                put_flags(&mut batch, key, flags, side_exists);
                b"STORED\r\n"
            }
            (StoreOp::Add, Some(_)) | (StoreOp::Replace | StoreOp::Append | StoreOp::Prepend, None) => {
                b"NOT_STORED\r\n"
            }
            // memcached ignores the flags of append and prepend: the item keeps its own.
            (StoreOp::Append, Some(mut v)) => {
                v.extend_from_slice(data);
                batch.put(key, &v);
                b"STORED\r\n"
            }
            (StoreOp::Prepend, Some(v)) => {
                batch.put(key, &[data, &v].concat());
                b"STORED\r\n"
            }
            (StoreOp::Cas, None) => b"NOT_FOUND\r\n",
            (StoreOp::Cas, Some(v)) => {
                if cas_of(&v, decode_flags(side)) != cas {
                    b"EXISTS\r\n"
                } else {
                    batch.put(key, data);
                    put_flags(&mut batch, key, flags, side_exists);
                    b"STORED\r\n"
                }
            }
        };
        Ok((batch, reply))
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::parse::{parse, ProtoError};
    use super::*;
    use crate::engine::env::MemFs;
    use crate::engine::Options;

    struct Conn {
        db: Db,
        config: Config,
        session: Session,
    }

    impl Conn {
        fn new(password: Option<&str>) -> Conn {
            let db = Db::open(Arc::new(MemFs::new()), Path::new("/db"), Options::default()).unwrap();
            let config = Config { password: password.map(str::to_string), ..Config::default() };
            Conn { db, config, session: Session::default() }
        }

        /// Feeds `input` as one read from the socket; returns the reply bytes and last outcome.
        fn send_all(&mut self, input: &[u8]) -> (String, Outcome) {
            let mut out = Vec::new();
            let mut at = 0;
            let mut outcome = Outcome::Continue;
            loop {
                match parse(&input[at..], &self.config.limits) {
                    Ok(Some((cmd, n))) => {
                        at += n;
                        outcome = execute(&self.db, &self.config, &mut self.session, &cmd, &mut out);
                        if let Command::TooLarge { swallow, .. } = cmd {
                            at += swallow as usize;
                        }
                    }
                    Ok(None) => break,
                    Err(ProtoError { reply }) => {
                        out.extend_from_slice(reply.as_bytes());
                        outcome = Outcome::Close;
                        break;
                    }
                }
            }
            if outcome != Outcome::Close {
                assert_eq!(at, input.len(), "left over");
            }
            (String::from_utf8(out).unwrap(), outcome)
        }

        fn send(&mut self, input: &str) -> String {
            self.send_all(input.as_bytes()).0
        }
    }

    #[test]
    fn set_get_and_flags_round_trip() {
        let mut c = Conn::new(None);
        assert_eq!(c.send("set a 0 0 3\r\nabc\r\n"), "STORED\r\n");
        assert_eq!(c.send("set b 42 0 2\r\nhi\r\n"), "STORED\r\n");
        assert_eq!(c.send("get a b missing\r\n"), "VALUE a 0 3\r\nabc\r\nVALUE b 42 2\r\nhi\r\nEND\r\n");
        // The value is stored as-is; the flags beside it.
        let read = ReadOptions::default();
        assert_eq!(c.db.get(b"b", &read).unwrap().unwrap(), b"hi");
        assert_eq!(c.db.get(&flags_key(b"b"), &read).unwrap().unwrap(), b"42");
        // Storing with flags 0 removes the side key.
        assert_eq!(c.send("set b 0 0 2\r\nho\r\n"), "STORED\r\n");
        assert_eq!(c.db.get(&flags_key(b"b"), &read).unwrap(), None);
        assert_eq!(c.send("get b\r\n"), "VALUE b 0 2\r\nho\r\nEND\r\n");
        assert_eq!(c.send("set m 4294967295 0 0\r\n\r\n"), "STORED\r\n");
        assert_eq!(c.send("get m\r\n"), "VALUE m 4294967295 0\r\n\r\nEND\r\n");
        let stats = &c.config.stats;
        assert_eq!(stats.cmd_get.load(Ordering::Relaxed), 5);
        assert_eq!(stats.get_hits.load(Ordering::Relaxed), 4);
        assert_eq!(stats.get_misses.load(Ordering::Relaxed), 1);
        assert_eq!(stats.cmd_set.load(Ordering::Relaxed), 4);
    }

    #[test]
    fn add_replace_append_prepend() {
        let mut c = Conn::new(None);
        assert_eq!(c.send("replace k 0 0 1\r\nx\r\n"), "NOT_STORED\r\n");
        assert_eq!(c.send("append k 0 0 1\r\nx\r\n"), "NOT_STORED\r\n");
        assert_eq!(c.send("prepend k 0 0 1\r\nx\r\n"), "NOT_STORED\r\n");
        assert_eq!(c.send("add k 7 0 1\r\nb\r\n"), "STORED\r\n");
        assert_eq!(c.send("add k 0 0 1\r\nz\r\n"), "NOT_STORED\r\n");
        assert_eq!(c.send("append k 9 0 2\r\ncd\r\n"), "STORED\r\n");
        assert_eq!(c.send("prepend k 9 0 1\r\na\r\n"), "STORED\r\n");
        assert_eq!(c.send("get k\r\n"), "VALUE k 7 4\r\nabcd\r\nEND\r\n");
        assert_eq!(c.send("replace k 0 0 1\r\nr\r\n"), "STORED\r\n");
        assert_eq!(c.send("get k\r\n"), "VALUE k 0 1\r\nr\r\nEND\r\n");
    }

    #[test]
    fn cas() {
        let mut c = Conn::new(None);
        assert_eq!(c.send("cas k 0 0 1 5\r\nx\r\n"), "NOT_FOUND\r\n");
        c.send("set k 3 0 2\r\nv1\r\n");
        let unique = cas_of(b"v1", 3);
        assert_eq!(c.send("gets k\r\n"), format!("VALUE k 3 2 {unique}\r\nv1\r\nEND\r\n"));
        assert_eq!(c.send(&format!("cas k 0 0 2 {}\r\nv2\r\n", unique ^ 1)), "EXISTS\r\n");
        assert_eq!(c.send(&format!("cas k 0 0 2 {unique}\r\nv2\r\n")), "STORED\r\n");
        assert_eq!(c.send(&format!("cas k 0 0 2 {unique}\r\nv3\r\n")), "EXISTS\r\n");
        assert_eq!(c.send("gets k\r\n"), format!("VALUE k 0 2 {}\r\nv2\r\nEND\r\n", cas_of(b"v2", 0)));
        assert_eq!(c.send(&format!("cas k 0 0 1 {} noreply\r\nx\r\n", cas_of(b"v2", 0))), "");
        assert_eq!(c.send("get k\r\n"), "VALUE k 0 1\r\nx\r\nEND\r\n");
        // Flags are part of the cas.
        assert_ne!(cas_of(b"v", 0), cas_of(b"v", 1));
        assert_ne!(cas_of(b"", 0), 0);
    }

    #[test]
    fn delete_and_touch() {
        let mut c = Conn::new(None);
        assert_eq!(c.send("delete k\r\n"), "NOT_FOUND\r\n");
        assert_eq!(c.send("touch k 0\r\n"), "NOT_FOUND\r\n");
        c.send("set k 5 0 1\r\nx\r\n");
        assert_eq!(c.send("touch k 0\r\n"), "TOUCHED\r\n");
        assert_eq!(c.send("touch k 60\r\n"), NO_EXPIRY);
        assert_eq!(c.send("delete k\r\n"), "DELETED\r\n");
        assert_eq!(c.db.get(&flags_key(b"k"), &ReadOptions::default()).unwrap(), None);
        assert_eq!(c.send("get k\r\n"), "END\r\n");
        c.send("set k 0 0 1\r\nx\r\n");
        assert_eq!(c.send("delete k noreply\r\ndelete k noreply\r\n"), "");
    }

    #[test]
    fn incr_decr() {
        let mut c = Conn::new(None);
        assert_eq!(c.send("incr n 1\r\n"), "NOT_FOUND\r\n");
        c.send("set n 0 0 2\r\n10\r\n");
        assert_eq!(c.send("incr n 5\r\n"), "15\r\n");
        assert_eq!(c.send("decr n 100\r\n"), "0\r\n");
        c.send("set n 0 0 20\r\n18446744073709551615\r\n");
        assert_eq!(c.send("incr n 2\r\n"), "1\r\n");
        assert_eq!(c.send("incr n 1 noreply\r\n"), "");
        assert_eq!(c.send("get n\r\n"), "VALUE n 0 1\r\n2\r\nEND\r\n");
        for bad in ["abc", "-1", "1.5", " 1", "18446744073709551616"] {
            c.send(&format!("set n 0 0 {}\r\n{bad}\r\n", bad.len()));
            assert_eq!(c.send("incr n 1\r\n"), NON_NUMERIC, "{bad}");
            assert_eq!(c.send("decr n 1 noreply\r\n"), NON_NUMERIC, "{bad}");
        }
        c.send("set n 0 0 0\r\n\r\n");
        assert_eq!(c.send("incr n 1\r\n"), NON_NUMERIC);
        assert_eq!(c.send("incr n x\r\n"), super::super::parse::BAD_DELTA);
    }

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
