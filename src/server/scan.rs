//! SCAN and RANGE: reads of the key space in sorted order.
//!
//! A SCAN cursor is a resumable position: the server remembers, under a number, the last key a
//! call returned, and the next call starts just after it. Keys are sorted, so a key present for
//! the whole scan is returned exactly once however keys change meanwhile. Cursors live in a
//! bounded table shared by all connections (Redis cursors may move between connections); the
//! oldest are forgotten first, and a forgotten cursor is an error, never a silent restart.
//!
//! `RANGE start end [LIMIT n] [REV] [KEYSONLY]` is todb's own: `start` and `end` take
//! ZRANGEBYLEX's forms (`[a` inclusive, `(a` exclusive, `-` and `+` the open ends); the reply is
//! a flat array of keys and values (keys only with KEYSONLY), in order, or reversed with REV.

use std::collections::BTreeMap;
use std::ops::Bound;

use super::resp::Encoder;
use super::store::Store;
use super::{glob, lock, Shared};
use crate::engine::Result;

/// Cursors remembered at once.
const MAX_CURSORS: usize = 65_536;

/// The resume points of SCANs under way.
#[derive(Default)]
pub struct Cursors {
    next: u64,
    resume: BTreeMap<u64, Vec<u8>>,
}

impl Cursors {
    fn save(&mut self, after: Vec<u8>) -> u64 {
        self.next += 1;
        self.resume.insert(self.next, after);
        while self.resume.len() > MAX_CURSORS {
            self.resume.pop_first();
        }
        self.next
    }
}

fn int_arg(arg: &[u8]) -> Option<i64> {
    std::str::from_utf8(arg).ok()?.parse().ok()
}

/// `SCAN cursor [MATCH pattern] [COUNT n] [TYPE string]`.
pub fn scan(shared: &Shared, enc: &Encoder, store: &mut dyn Store, args: &[&[u8]], out: &mut Vec<u8>) -> Result<()> {
    let Some(cursor) = std::str::from_utf8(args[1]).ok().and_then(|c| c.parse::<u64>().ok()) else {
        enc.error(out, "ERR invalid cursor");
        return Ok(());
    };
    let (mut pattern, mut count, mut strings) = (None, 10usize, true);
    let mut i = 2;
    while i < args.len() {
        let opt = args[i].to_ascii_uppercase();
        let Some(value) = args.get(i + 1) else {
            enc.error(out, "ERR syntax error");
            return Ok(());
        };
        match opt.as_slice() {
            b"MATCH" => pattern = Some(*value),
            b"COUNT" => match int_arg(value) {
                Some(n) if n >= 1 => count = n as usize,
                _ => {
                    enc.error(out, "ERR syntax error");
                    return Ok(());
                }
            },
            b"TYPE" => strings = value.eq_ignore_ascii_case(b"string"),
            _ => {
                enc.error(out, "ERR syntax error");
                return Ok(());
            }
        }
        i += 2;
    }
    let lower = if cursor == 0 {
        Bound::Unbounded
    } else {
        match lock(&shared.cursors).resume.get(&cursor) {
            Some(after) => Bound::Excluded(after.clone()),
            None => {
                enc.error(out, "ERR invalid cursor: unknown or expired (todb remembers the latest 65536)");
                return Ok(());
            }
        }
    };
    // With a literal prefix in the pattern, start there and stop past it.
    let prefix = pattern.map(glob::literal_prefix).unwrap_or_default();
    let lower = match lower {
        Bound::Excluded(k) if k.as_slice() >= prefix.as_slice() => Bound::Excluded(k),
        _ if !prefix.is_empty() => Bound::Included(prefix.clone()),
        other => other,
    };
    let (mut seen, mut keys, mut last, mut more) = (0usize, Vec::new(), None, false);
    store.scan(lower, Bound::Unbounded, false, &mut |k, _| {
        if !k.starts_with(&prefix) {
            return false;
        }
        if seen == count {
            more = true;
            return false;
        }
        seen += 1;
        last = Some(k.to_vec());
        if strings && pattern.is_none_or(|p| glob::matches(p, k)) {
            keys.push(k.to_vec());
        }
        true
    })?;
    let next = match (more, last) {
        (true, Some(after)) => lock(&shared.cursors).save(after),
        _ => 0,
    };
    enc.array(out, 2);
    enc.bulk(out, next.to_string().as_bytes());
    enc.array(out, keys.len());
    for k in keys {
        enc.bulk(out, &k);
    }
    Ok(())
}

fn lex_bound(arg: &[u8], low: bool) -> Option<Bound<Vec<u8>>> {
    match arg {
        b"-" if low => Some(Bound::Unbounded),
        b"+" if !low => Some(Bound::Unbounded),
        [b'[', rest @ ..] => Some(Bound::Included(rest.to_vec())),
        [b'(', rest @ ..] => Some(Bound::Excluded(rest.to_vec())),
        _ => None,
    }
}

/// `RANGE start end [LIMIT n] [REV] [KEYSONLY]`.
pub fn range(enc: &Encoder, store: &mut dyn Store, args: &[&[u8]], out: &mut Vec<u8>) -> Result<()> {
    let (Some(lower), Some(upper)) = (lex_bound(args[1], true), lex_bound(args[2], false)) else {
        enc.error(out, "ERR min or max not valid string range item: use [key, (key, - or +");
        return Ok(());
    };
    let (mut limit, mut reverse, mut keys_only) = (usize::MAX, false, false);
    let mut i = 3;
    while i < args.len() {
        match args[i].to_ascii_uppercase().as_slice() {
            b"LIMIT" => match args.get(i + 1).and_then(|a| int_arg(a)) {
                Some(n) if n >= 0 => {
                    limit = n as usize;
                    i += 1;
                }
                _ => {
                    enc.error(out, "ERR value is not an integer or out of range");
                    return Ok(());
                }
            },
            b"REV" => reverse = true,
            b"KEYSONLY" => keys_only = true,
            _ => {
                enc.error(out, "ERR syntax error");
                return Ok(());
            }
        }
        i += 1;
    }
    let mut items: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    if limit > 0 {
        store.scan(lower, upper, reverse, &mut |k, v| {
            items.push((k.to_vec(), if keys_only { Vec::new() } else { v.to_vec() }));
            items.len() < limit
        })?;
    }
    enc.array(out, if keys_only { items.len() } else { items.len() * 2 });
    for (k, v) in items {
        enc.bulk(out, &k);
        if !keys_only {
            enc.bulk(out, &v);
        }
    }
    Ok(())
}
