//! What memcache's data commands (get, gets, the storage commands, delete, incr, decr, touch) do
//! to items, over a `store::Store`: a `Txn` when the commands run under the write lock (their
//! reads then see the writes of the commands before them in the same group), a `Direct` at one
//! snapshot when they only read.
//!
//! An item is its value, stored as-is under its key (Redis clients and JavaScript read the same
//! keys), and its flags: nonzero flags live under a side key, `FLAGS_PREFIX ++ key`, as a decimal
//! string, written beside the value; flags 0 are the absence of the side key. Each command reads
//! only what its reply or its writes depend on: a plain `set` reads no value, and no flags unless
//! it must remove a side key.

use super::parse::{parse_u64, Command, StoreOp};
use crate::engine::Result;
use crate::server::store::Store;

/// Prefix of the side keys holding nonzero memcache flags, as a decimal string.
pub const FLAGS_PREFIX: &[u8] = b"\xff\xfetodb:mcflags:";

/// Reply to `incr`/`decr` on a value that is not a decimal u64 (memcached's words).
pub const NON_NUMERIC: &str = "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n";

/// Keys `get`/`gets` found and missed, counted apart from `exec::Stats` so that a run that is
/// tried again or fails counts nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tally {
    /// Keys found.
    pub hits: u64,
    /// Keys not found.
    pub misses: u64,
}

/// Whether `cmd` is a data command, and if so whether it may write. Refusals of the command
/// line (an exptime other than 0, an item too large) are not data commands.
pub fn data_kind(cmd: &Command<'_>) -> Option<bool> {
    match cmd {
        Command::Get { .. } | Command::Touch { exptime: 0, .. } => Some(false),
        Command::Store { exptime: 0, .. }
        | Command::SetLine { .. }
        | Command::Delete { .. }
        | Command::Arith { .. } => Some(true),
        _ => None,
    }
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

/// The side key of `key`'s flags.
pub fn flags_key(key: &[u8]) -> Vec<u8> {
    [FLAGS_PREFIX, key].concat()
}

/// Stored flags are a decimal u32; anything else (written by another client) reads as 0.
fn decode_flags(stored: Option<Vec<u8>>) -> u32 {
    stored.and_then(|v| parse_u64(&v)).and_then(|n| u32::try_from(n).ok()).unwrap_or(0)
}

fn reply(out: &mut Vec<u8>, noreply: bool, text: &[u8]) {
    if !noreply {
        out.extend_from_slice(text);
    }
}

/// Carries out the data command `cmd` over `store`, appending its reply to `out` (nothing under
/// `noreply`, except `NON_NUMERIC`, as memcached) and its get hits and misses to `tally`. Only
/// engine errors are returned, with `out` then holding part of the reply. # Requires:
/// `data_kind(cmd)` is `Some`, and `Some(false)` when `store` is read-only.
pub fn run(store: &mut dyn Store, cmd: &Command<'_>, out: &mut Vec<u8>, tally: &mut Tally) -> Result<()> {
    match cmd {
        Command::Get { keys, cas } => {
            for key in keys {
                let Some(value) = store.get(key)? else {
                    tally.misses += 1;
                    continue;
                };
                tally.hits += 1;
                let flags = decode_flags(store.get(&flags_key(key))?);
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
        Command::Store { op, key, flags, data, cas, noreply, .. } => {
            let answer = store_item(store, *op, key, *flags, data, *cas)?;
            reply(out, *noreply, answer);
        }
        Command::SetLine { key, value } => out.extend_from_slice(store_item(store, StoreOp::Set, key, 0, value, 0)?),
        Command::Delete { key, noreply } => {
            let found = store.get(key)?.is_some();
            if found {
                store.del(key)?;
                let side = flags_key(key);
                if store.get(&side)?.is_some() {
                    store.del(&side)?;
                }
            }
            reply(out, *noreply, if found { b"DELETED\r\n" } else { b"NOT_FOUND\r\n" });
        }
        Command::Arith { incr, key, delta, noreply } => match store.get(key)? {
            None => reply(out, *noreply, b"NOT_FOUND\r\n"),
            Some(value) => match parse_u64(&value) {
                None => out.extend_from_slice(NON_NUMERIC.as_bytes()),
                Some(n) => {
                    let n = if *incr { n.wrapping_add(*delta) } else { n.saturating_sub(*delta) };
                    // The flags stay: memcached keeps an item's flags across incr and decr.
                    store.put(key, n.to_string().as_bytes())?;
                    reply(out, *noreply, format!("{n}\r\n").as_bytes());
                }
            },
        },
        Command::Touch { key, noreply, .. } => {
            // Nothing to change, since nothing expires: touching is only an existence check.
            let found = store.get(key)?.is_some();
            reply(out, *noreply, if found { b"TOUCHED\r\n" } else { b"NOT_FOUND\r\n" });
        }
        _ => debug_assert!(false, "not a data command: {cmd:?}"),
    }
    Ok(())
}

/// Writes `key`'s value and makes its side key say `flags`. `side_exists` is whether the side
/// key exists, when the caller has read it already; otherwise it is looked up only if it would
/// have to be removed, so that a set with flags 0 of an item that has none writes nothing else.
fn put_item(store: &mut dyn Store, key: &[u8], value: &[u8], flags: u32, side_exists: Option<bool>) -> Result<()> {
    store.put(key, value)?;
    let side = flags_key(key);
    if flags != 0 {
        store.put(&side, flags.to_string().as_bytes())
    } else if side_exists.map_or_else(|| Ok(store.get(&side)?.is_some()), Ok)? {
        store.del(&side)
    } else {
        Ok(())
    }
}

/// Carries out one storage command; returns its reply line.
fn store_item(
    store: &mut dyn Store,
    op: StoreOp,
    key: &[u8],
    flags: u32,
    data: &[u8],
    cas: u64,
) -> Result<&'static [u8]> {
    const STORED: &[u8] = b"STORED\r\n";
    if op == StoreOp::Set {
        put_item(store, key, data, flags, None)?;
        return Ok(STORED);
    }
    let Some(mut current) = store.get(key)? else {
        if op == StoreOp::Add {
            put_item(store, key, data, flags, None)?;
            return Ok(STORED);
        }
        return Ok(if op == StoreOp::Cas { b"NOT_FOUND\r\n" } else { b"NOT_STORED\r\n" });
    };
    match op {
        StoreOp::Set | StoreOp::Replace => put_item(store, key, data, flags, None)?,
        StoreOp::Add => return Ok(b"NOT_STORED\r\n"),
        // memcached ignores the flags of append and prepend: the item keeps its own.
        StoreOp::Append => {
            current.extend_from_slice(data);
            store.put(key, &current)?;
        }
        StoreOp::Prepend => store.put(key, &[data, &current].concat())?,
        StoreOp::Cas => {
            let side = store.get(&flags_key(key))?;
            let side_exists = side.is_some();
            if cas_of(&current, decode_flags(side)) != cas {
                return Ok(b"EXISTS\r\n");
            }
            put_item(store, key, data, flags, Some(side_exists))?;
        }
    }
    Ok(STORED)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;
    use std::sync::Arc;

    use super::*;
    use crate::engine::env::{FaultFs, FaultKind, MemFs};
    use crate::engine::ReadOptions;
    use crate::server::memcache::exec::NO_EXPIRY;
    use crate::server::memcache::testing::Conn;

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
    fn a_plain_set_reads_no_value() {
        let fs = FaultFs::new(Arc::new(MemFs::new()));
        let mut c = Conn::on(Arc::new(fs.clone()), None);
        c.send("set j 0 0 2\r\nj0\r\nset k 0 0 2\r\nk0\r\n");
        c.db.compact_range(None, None).unwrap();
        fs.fail_at(1, &[FaultKind::Read], true);
        // Reading k would fail; its side key sorts after every table's keys, so it reads nothing.
        assert_eq!(c.send("set k 0 0 2\r\nk1\r\nset k 4 0 2\r\nk2\r\n"), "STORED\r\nSTORED\r\n");
        assert!(c.send("add j 0 0 1\r\nx\r\n").starts_with("SERVER_ERROR "), "the fault is armed");
        fs.heal();
        assert_eq!(c.send("get k\r\n"), "VALUE k 4 2\r\nk2\r\nEND\r\n");
    }
}
