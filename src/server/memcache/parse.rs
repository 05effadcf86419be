//! The incremental parser of the memcache text protocol: bytes from the socket in, one
//! [`Command`] borrowing from them out, or word that more bytes are needed. It knows the grammar
//! and the size limits, nothing of the database: see `exec.rs` for what the commands do.
//!
//! Errors come in two kinds. A bad line the connection survives (an unknown command, a bad
//! format, a bad key) is a [`Command::Error`] that consumes the line and carries the reply; the
//! stream stays in step because the line's end is known. A [`ProtoError`] means the stream cannot
//! be resynchronised (a line over the limit, a data block not followed by "\r\n"): send its reply
//! and close.

/// Size limits of one request.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Longest command line, terminator included. Default 2048, memcached's.
    pub max_line: usize,
    /// Largest value of a storage command. Default 1 MiB, memcached's item size.
    pub max_value: usize,
    /// Most keys in one `get`/`gets`. Default 1024.
    pub max_keys_per_get: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_line: 2048, max_value: 1 << 20, max_keys_per_get: 1024 }
    }
}

/// The storage commands that carry a data block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreOp {
    /// Store unconditionally.
    Set,
    /// Store only if the key is absent.
    Add,
    /// Store only if the key is present.
    Replace,
    /// Add the data after the present value.
    Append,
    /// Add the data before the present value.
    Prepend,
    /// Store only if the value's cas unique is still the one given.
    Cas,
}

/// One request. Slices borrow from the buffer given to [`parse`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command<'a> {
    /// `get`/`gets <key>+`; `cas` is true for `gets`. At least one key, each valid.
    Get {
        /// The keys, in request order (duplicates kept).
        keys: Vec<&'a [u8]>,
        /// Whether to report cas uniques (`gets`).
        cas: bool,
    },
    /// A storage command with its data block.
    Store {
        /// Which one.
        op: StoreOp,
        /// The key.
        key: &'a [u8],
        /// The client's opaque flags.
        flags: u32,
        /// The expiry asked for (todb accepts only 0).
        exptime: i64,
        /// The data block, without its "\r\n".
        data: &'a [u8],
        /// The cas unique expected (`cas` only; 0 otherwise).
        cas: u64,
        /// Suppress the reply.
        noreply: bool,
    },
    /// The one-line telnet form `set <key> <value...>`: flags 0, never expires, always answered.
    SetLine {
        /// The key.
        key: &'a [u8],
        /// The rest of the line after the key and the spaces following it.
        value: &'a [u8],
    },
    /// A storage command whose value exceeds `Limits::max_value`. Only the command line is
    /// consumed: the caller must discard the next `swallow` bytes (the data block and its
    /// "\r\n") as they arrive before parsing again, so a huge block is never buffered.
    TooLarge {
        /// Bytes to discard: the announced length plus 2.
        swallow: u64,
        /// Suppress the reply.
        noreply: bool,
    },
    /// `delete <key> [noreply]`.
    Delete {
        /// The key.
        key: &'a [u8],
        /// Suppress the reply.
        noreply: bool,
    },
    /// `incr`/`decr <key> <delta> [noreply]`.
    Arith {
        /// `incr` when true, `decr` when false.
        incr: bool,
        /// The key.
        key: &'a [u8],
        /// The amount.
        delta: u64,
        /// Suppress the reply.
        noreply: bool,
    },
    /// `touch <key> <exptime> [noreply]`.
    Touch {
        /// The key.
        key: &'a [u8],
        /// The expiry asked for (todb accepts only 0).
        exptime: i64,
        /// Suppress the reply.
        noreply: bool,
    },
    /// `flush_all [delay] [noreply]`.
    FlushAll {
        /// The delay asked for, seconds (todb accepts only 0).
        delay: i64,
        /// Suppress the reply.
        noreply: bool,
    },
    /// `version`.
    Version,
    /// `stats` (arguments are ignored).
    Stats,
    /// `verbosity <n> [noreply]`: accepted and ignored.
    Verbosity {
        /// Suppress the reply.
        noreply: bool,
    },
    /// `quit`: close without a reply.
    Quit,
    /// `watch`: todb's extension, subscribe to changes.
    Watch,
    /// `unwatch`: end a `watch`.
    Unwatch,
    /// A line the connection survives but cannot obey; `0` is the whole reply to send.
    Error(&'static str),
}

/// A framing error: send `reply`, then close the connection, since what follows cannot be
/// parsed reliably.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProtoError {
    /// The whole reply, "\r\n" included.
    pub reply: &'static str,
}

/// Reply to an unknown command.
pub const ERROR: &str = "ERROR\r\n";
/// Reply to a known command with bad arguments.
pub const BAD_FORMAT: &str = "CLIENT_ERROR bad command line format\r\n";
/// Reply to a data block not followed by "\r\n" (the connection then closes).
pub const BAD_CHUNK: &str = "CLIENT_ERROR bad data chunk\r\n";
/// Reply to a command line over `Limits::max_line` (the connection then closes).
pub const LINE_TOO_LONG: &str = "CLIENT_ERROR line too long\r\n";
/// Reply to a `get` with more than `Limits::max_keys_per_get` keys.
pub const TOO_MANY_KEYS: &str = "CLIENT_ERROR too many keys\r\n";
/// Reply to an `incr`/`decr` whose delta is not a decimal u64 (memcached's words).
pub const BAD_DELTA: &str = "CLIENT_ERROR invalid numeric delta argument\r\n";

/// Longest key, memcached's.
pub const MAX_KEY: usize = 250;

/// Parses one command from the start of `buf`. Returns the command and the bytes it used
/// (command line, and data block if any), `Ok(None)` if `buf` holds no complete command yet, or
/// a [`ProtoError`] after which the connection must close. Lines end in "\r\n" or a bare "\n";
/// a data block must be followed by "\r\n". The count returned is never more than `buf.len()`.
pub fn parse<'a>(buf: &'a [u8], limits: &Limits) -> Result<Option<(Command<'a>, usize)>, ProtoError> {
    let Some(nl) = buf.iter().take(limits.max_line.saturating_add(1)).position(|&b| b == b'\n') else {
        if buf.len() >= limits.max_line {
            return Err(ProtoError { reply: LINE_TOO_LONG });
        }
        return Ok(None);
    };
    let line_len = nl + 1;
    if line_len > limits.max_line {
        return Err(ProtoError { reply: LINE_TOO_LONG });
    }
    let line = buf.get(..nl).unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let rest = buf.get(line_len..).unwrap_or_default();
    let (cmd, data_used) = parse_line(line, rest, limits)?.map_or((None, 0), |(c, d)| (Some(c), d));
    Ok(cmd.map(|c| (c, line_len + data_used)))
}

/// Splits on spaces, skipping runs of them, as memcached's tokenizer does.
fn tokens(line: &[u8]) -> impl Iterator<Item = &[u8]> {
    line.split(|&b| b == b' ').filter(|t| !t.is_empty())
}

/// Parses a command line; `rest` is what follows it in the buffer (for data blocks). Returns
/// `Ok(None)` when the data block is not all there yet, else the command and the data bytes used.
fn parse_line<'a>(line: &'a [u8], rest: &'a [u8], limits: &Limits) -> Result<Option<(Command<'a>, usize)>, ProtoError> {
    let args: Vec<&[u8]> = tokens(line).collect();
    let Some((&name, args)) = args.split_first() else {
        return Ok(Some((Command::Error(ERROR), 0)));
    };
    let cmd = match name {
        b"get" | b"gets" => parse_get(args, name == b"gets", limits),
        b"set" => return parse_store(StoreOp::Set, line, args, rest, limits),
        b"add" => return parse_store(StoreOp::Add, line, args, rest, limits),
        b"replace" => return parse_store(StoreOp::Replace, line, args, rest, limits),
        b"append" => return parse_store(StoreOp::Append, line, args, rest, limits),
        b"prepend" => return parse_store(StoreOp::Prepend, line, args, rest, limits),
        b"cas" => return parse_store(StoreOp::Cas, line, args, rest, limits),
        b"delete" => match args {
            [key] => valid_key(key).map(|key| Command::Delete { key, noreply: false }),
            [key, n] if is_noreply(n) => valid_key(key).map(|key| Command::Delete { key, noreply: true }),
            // memcached still accepts the obsolete `delete <key> 0`.
            [key, b"0"] => valid_key(key).map(|key| Command::Delete { key, noreply: false }),
            [key, b"0", n] if is_noreply(n) => valid_key(key).map(|key| Command::Delete { key, noreply: true }),
            _ => None,
        },
        b"incr" | b"decr" => {
            let (key, delta, noreply) = match args {
                [key, delta] => (key, delta, false),
                [key, delta, n] if is_noreply(n) => (key, delta, true),
                _ => return Ok(Some((Command::Error(BAD_FORMAT), 0))),
            };
            let Some(key) = valid_key(key) else { return Ok(Some((Command::Error(BAD_FORMAT), 0))) };
            let Some(delta) = parse_u64(delta) else { return Ok(Some((Command::Error(BAD_DELTA), 0))) };
            Some(Command::Arith { incr: name == b"incr", key, delta, noreply })
        }
        b"touch" => {
            let (key, exptime, noreply) = match args {
                [key, e] => (key, e, false),
                [key, e, n] if is_noreply(n) => (key, e, true),
                _ => return Ok(Some((Command::Error(BAD_FORMAT), 0))),
            };
            valid_key(key).zip(parse_i64(exptime)).map(|(key, exptime)| Command::Touch { key, exptime, noreply })
        }
        b"flush_all" => match args {
            [] => Some(Command::FlushAll { delay: 0, noreply: false }),
            [n] if is_noreply(n) => Some(Command::FlushAll { delay: 0, noreply: true }),
            [d] => parse_i64(d).map(|delay| Command::FlushAll { delay, noreply: false }),
            [d, n] if is_noreply(n) => parse_i64(d).map(|delay| Command::FlushAll { delay, noreply: true }),
            _ => None,
        },
        b"version" => args.is_empty().then_some(Command::Version),
        b"stats" => Some(Command::Stats),
        b"verbosity" => match args {
            [level] => parse_u64(level).map(|_| Command::Verbosity { noreply: false }),
            [level, n] if is_noreply(n) => parse_u64(level).map(|_| Command::Verbosity { noreply: true }),
            _ => None,
        },
        b"quit" => args.is_empty().then_some(Command::Quit),
        b"watch" => args.is_empty().then_some(Command::Watch),
        b"unwatch" => args.is_empty().then_some(Command::Unwatch),
        _ => return Ok(Some((Command::Error(ERROR), 0))),
    };
    Ok(Some((cmd.unwrap_or(Command::Error(BAD_FORMAT)), 0)))
}

fn parse_get<'a>(keys: &[&'a [u8]], cas: bool, limits: &Limits) -> Option<Command<'a>> {
    if keys.len() > limits.max_keys_per_get {
        return Some(Command::Error(TOO_MANY_KEYS));
    }
    if keys.is_empty() {
        return None;
    }
    let keys = keys.iter().map(|k| valid_key(k)).collect::<Option<Vec<_>>>()?;
    Some(Command::Get { keys, cas })
}

/// The numeric header of a storage command: flags, exptime, bytes, cas unique, noreply.
struct Header {
    flags: u32,
    exptime: i64,
    bytes: u64,
    cas: u64,
    noreply: bool,
}

fn parse_header(op: StoreOp, nums: &[&[u8]]) -> Option<Header> {
    let (fixed, noreply) = match (op, nums.len()) {
        (StoreOp::Cas, 4) | (_, 3) => (nums, false),
        (StoreOp::Cas, 5) | (_, 4) => (nums.get(..nums.len() - 1)?, is_noreply(nums.last()?)),
        _ => return None,
    };
    if nums.len() > fixed.len() && !noreply {
        return None;
    }
    let flags = u32::try_from(parse_u64(fixed.first()?)?).ok()?;
    let exptime = parse_i64(fixed.get(1)?)?;
    let bytes = parse_u64(fixed.get(2)?)?;
    let cas = match op {
        StoreOp::Cas => parse_u64(fixed.get(3)?)?,
        _ => 0,
    };
    Some(Header { flags, exptime, bytes, cas, noreply })
}

fn parse_store<'a>(
    op: StoreOp,
    line: &'a [u8],
    args: &[&'a [u8]],
    rest: &'a [u8],
    limits: &Limits,
) -> Result<Option<(Command<'a>, usize)>, ProtoError> {
    let Some((&key, nums)) = args.split_first() else {
        return Ok(Some((Command::Error(BAD_FORMAT), 0)));
    };
    let Some(header) = parse_header(op, nums) else {
        return Ok(Some((telnet_set(op, line, key).unwrap_or(Command::Error(BAD_FORMAT)), 0)));
    };
    if header.bytes > limits.max_value as u64 {
        return Ok(Some((Command::TooLarge { swallow: header.bytes.saturating_add(2), noreply: header.noreply }, 0)));
    }
    // Checked against max_value above, so it fits.
    let bytes = header.bytes as usize;
    let Some(block) = rest.get(..bytes + 2) else {
        return Ok(None);
    };
    let (data, end) = block.split_at(bytes);
    if end != b"\r\n" {
        return Err(ProtoError { reply: BAD_CHUNK });
    }
    // The block is consumed even when the key is bad, to stay in step with the client.
    let Some(key) = valid_key(key) else {
        return Ok(Some((Command::Error(BAD_FORMAT), bytes + 2)));
    };
    let cmd = Command::Store {
        op,
        key,
        flags: header.flags,
        exptime: header.exptime,
        data,
        cas: header.cas,
        noreply: header.noreply,
    };
    Ok(Some((cmd, bytes + 2)))
}

/// `set <key> <value...>`: the value is the line after the key and the spaces following it.
fn telnet_set<'a>(op: StoreOp, line: &'a [u8], key: &'a [u8]) -> Option<Command<'a>> {
    if op != StoreOp::Set {
        return None;
    }
    let key = valid_key(key)?;
    // The key is a subslice of the line, so its end offset locates the value.
    let key_end = (key.as_ptr() as usize - line.as_ptr() as usize) + key.len();
    let after = line.get(key_end..)?;
    let start = after.iter().position(|&b| b != b' ')?;
    Some(Command::SetLine { key, value: after.get(start..)? })
}

/// memcached's key rule: 1..=250 bytes, no spaces or control characters.
fn valid_key(key: &[u8]) -> Option<&[u8]> {
    let ok = !key.is_empty() && key.len() <= MAX_KEY && key.iter().all(|&b| b > b' ' && b != 0x7f);
    ok.then_some(key)
}

fn is_noreply(token: &[u8]) -> bool {
    token == b"noreply"
}

/// A decimal u64: digits only, no sign, no overflow.
pub(crate) fn parse_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    s.iter().try_fold(0u64, |n, &b| {
        let d = b.checked_sub(b'0').filter(|d| *d < 10)?;
        n.checked_mul(10)?.checked_add(u64::from(d))
    })
}

fn parse_i64(s: &[u8]) -> Option<i64> {
    match s.strip_prefix(b"-") {
        Some(digits) => 0i64.checked_sub_unsigned(parse_u64(digits)?),
        None => i64::try_from(parse_u64(s)?).ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(buf: &[u8]) -> Result<Option<(Command<'_>, usize)>, ProtoError> {
        parse(buf, &Limits::default())
    }

    fn one(buf: &[u8]) -> Command<'_> {
        let (cmd, used) = p(buf).unwrap().unwrap();
        assert_eq!(used, buf.len(), "consumed all of {:?}", String::from_utf8_lossy(buf));
        cmd
    }

    #[test]
    fn retrieval() {
        assert_eq!(one(b"get a\r\n"), Command::Get { keys: vec![b"a"], cas: false });
        assert_eq!(one(b"gets a  bb c\n"), Command::Get { keys: vec![b"a", b"bb", b"c"], cas: true });
        assert_eq!(one(b"get\r\n"), Command::Error(BAD_FORMAT));
        let long = [b'k'; 251];
        let mut line = b"get ".to_vec();
        line.extend_from_slice(&long);
        line.extend_from_slice(b"\r\n");
        assert_eq!(one(&line), Command::Error(BAD_FORMAT));
        assert_eq!(one(b"get a\x01b\r\n"), Command::Error(BAD_FORMAT));
        let limits = Limits { max_keys_per_get: 2, ..Limits::default() };
        assert_eq!(parse(b"get a b c\r\n", &limits).unwrap().unwrap().0, Command::Error(TOO_MANY_KEYS));
    }

    #[test]
    fn storage() {
        let cmd = one(b"set k 5 0 3\r\nabc\r\n");
        let want =
            Command::Store { op: StoreOp::Set, key: b"k", flags: 5, exptime: 0, data: b"abc", cas: 0, noreply: false };
        assert_eq!(cmd, want);
        for (name, op) in [
            ("add", StoreOp::Add),
            ("replace", StoreOp::Replace),
            ("append", StoreOp::Append),
            ("prepend", StoreOp::Prepend),
        ] {
            let frame = format!("{name} k 0 -1 2 noreply\nhi\r\n");
            match one(frame.as_bytes()) {
                Command::Store { op: got, exptime: -1, data: b"hi", noreply: true, .. } => assert_eq!(got, op),
                other => panic!("{other:?}"),
            }
        }
        match one(b"cas k 1 0 0 77\r\n\r\n") {
            Command::Store { op: StoreOp::Cas, cas: 77, data: b"", flags: 1, .. } => {}
            other => panic!("{other:?}"),
        }
        assert_eq!(one(b"cas k 1 0 1\r\n"), Command::Error(BAD_FORMAT));
        assert_eq!(one(b"add k 1 0 x\r\n"), Command::Error(BAD_FORMAT));
        assert_eq!(one(b"set k 4294967296 0 1\r\n"), Command::SetLine { key: b"k", value: b"4294967296 0 1" });
        // Incomplete data waits; data not followed by CRLF is fatal.
        assert_eq!(p(b"set k 0 0 3\r\nab").unwrap(), None);
        assert_eq!(p(b"set k 0 0 3\r\nabc\r").unwrap(), None);
        assert_eq!(p(b"set k 0 0 3\r\nabcd\r\n"), Err(ProtoError { reply: BAD_CHUNK }));
        // A bad key still consumes its block.
        assert_eq!(one(b"set \x7f 0 0 1\r\nx\r\n"), Command::Error(BAD_FORMAT));
    }

    #[test]
    fn telnet_form() {
        assert_eq!(one(b"set k hello world\r\n"), Command::SetLine { key: b"k", value: b"hello world" });
        assert_eq!(one(b"set  k   v\n"), Command::SetLine { key: b"k", value: b"v" });
        assert_eq!(one(b"set k 0 0 abc\r\n"), Command::SetLine { key: b"k", value: b"0 0 abc" });
        assert_eq!(one(b"set k 0 0 5 extra\r\n"), Command::SetLine { key: b"k", value: b"0 0 5 extra" });
        assert_eq!(one(b"set k\r\n"), Command::Error(BAD_FORMAT));
        assert_eq!(one(b"set k   \r\n"), Command::Error(BAD_FORMAT));
        assert_eq!(one(b"add k hello\r\n"), Command::Error(BAD_FORMAT));
    }

    #[test]
    fn other_commands() {
        assert_eq!(one(b"delete k\r\n"), Command::Delete { key: b"k", noreply: false });
        assert_eq!(one(b"delete k noreply\r\n"), Command::Delete { key: b"k", noreply: true });
        assert_eq!(one(b"delete k 0\r\n"), Command::Delete { key: b"k", noreply: false });
        assert_eq!(one(b"delete k 5\r\n"), Command::Error(BAD_FORMAT));
        assert_eq!(
            one(b"incr n 18446744073709551615\r\n"),
            Command::Arith { incr: true, key: b"n", delta: u64::MAX, noreply: false }
        );
        assert_eq!(one(b"decr n 1 noreply\r\n"), Command::Arith { incr: false, key: b"n", delta: 1, noreply: true });
        assert_eq!(one(b"incr n -1\r\n"), Command::Error(BAD_DELTA));
        assert_eq!(one(b"incr n 18446744073709551616\r\n"), Command::Error(BAD_DELTA));
        assert_eq!(one(b"incr n\r\n"), Command::Error(BAD_FORMAT));
        assert_eq!(one(b"touch k 0\r\n"), Command::Touch { key: b"k", exptime: 0, noreply: false });
        assert_eq!(one(b"touch k 10 noreply\r\n"), Command::Touch { key: b"k", exptime: 10, noreply: true });
        assert_eq!(one(b"flush_all\r\n"), Command::FlushAll { delay: 0, noreply: false });
        assert_eq!(one(b"flush_all noreply\r\n"), Command::FlushAll { delay: 0, noreply: true });
        assert_eq!(one(b"flush_all 9 noreply\r\n"), Command::FlushAll { delay: 9, noreply: true });
        assert_eq!(one(b"flush_all x\r\n"), Command::Error(BAD_FORMAT));
        assert_eq!(one(b"version\r\n"), Command::Version);
        assert_eq!(one(b"stats\r\n"), Command::Stats);
        assert_eq!(one(b"stats items\r\n"), Command::Stats);
        assert_eq!(one(b"verbosity 1\r\n"), Command::Verbosity { noreply: false });
        assert_eq!(one(b"verbosity 1 noreply\r\n"), Command::Verbosity { noreply: true });
        assert_eq!(one(b"verbosity\r\n"), Command::Error(BAD_FORMAT));
        assert_eq!(one(b"quit\r\n"), Command::Quit);
        assert_eq!(one(b"watch\r\n"), Command::Watch);
        assert_eq!(one(b"unwatch\n"), Command::Unwatch);
        assert_eq!(one(b"bogus\r\n"), Command::Error(ERROR));
        assert_eq!(one(b"GET k\r\n"), Command::Error(ERROR));
        assert_eq!(one(b"\r\n"), Command::Error(ERROR));
    }

    #[test]
    fn pipelined_commands_are_taken_one_at_a_time() {
        let buf = b"set k 0 0 1\r\nx\r\nget k\r\ndel";
        let (_, n) = p(buf).unwrap().unwrap();
        assert_eq!(n, 16);
        let (cmd, m) = p(&buf[n..]).unwrap().unwrap();
        assert_eq!((cmd, m), (Command::Get { keys: vec![b"k"], cas: false }, 7));
        assert_eq!(p(&buf[n + m..]).unwrap(), None);
    }

    #[test]
    fn limits() {
        let limits = Limits { max_line: 16, max_value: 4, max_keys_per_get: 8 };
        let wide = Limits { max_line: 64, ..limits.clone() };
        assert_eq!(parse(b"get 0123456789a", &limits).unwrap(), None);
        assert_eq!(parse(b"get 0123456789ab", &limits), Err(ProtoError { reply: LINE_TOO_LONG }));
        assert_eq!(parse(b"get 0123456789a\r\n", &limits), Err(ProtoError { reply: LINE_TOO_LONG }));
        assert!(matches!(parse(b"get 0123456789\r\n", &limits), Ok(Some((Command::Get { .. }, 16)))));
        assert_eq!(parse(b"set k 0 0 4\r\n", &limits).unwrap(), None);
        assert_eq!(
            parse(b"set k 0 0 5 noreply\r\n", &wide).unwrap(),
            Some((Command::TooLarge { swallow: 7, noreply: true }, 21))
        );
        assert_eq!(
            parse(b"set k 0 0 99999999999999\r\n", &Limits::default()).unwrap(),
            Some((Command::TooLarge { swallow: 100_000_000_000_001, noreply: false }, 26))
        );
    }

    /// xorshift64*: deterministic and dependency-free.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    const FRAMES: &[&[u8]] = &[
        b"get a b c\r\n",
        b"gets k\n",
        b"set k 1 0 3\r\nabc\r\n",
        b"set k hello there\r\n",
        b"add k 0 0 0 noreply\r\n\r\n",
        b"cas k 0 0 2 99\r\nhi\r\n",
        b"append k 0 0 1\r\n.\r\n",
        b"delete k noreply\r\n",
        b"incr k 5\r\n",
        b"decr k 5 noreply\r\n",
        b"touch k 0\r\n",
        b"flush_all 0\r\n",
        b"version\r\n",
        b"stats\r\n",
        b"verbosity 1\r\n",
        b"quit\r\n",
        b"watch\r\n",
        b"unwatch\r\n",
    ];

    #[test]
    fn every_prefix_of_a_frame_waits_or_parses() {
        for frame in FRAMES {
            for end in 0..frame.len() {
                let prefix = &frame[..end];
                match p(prefix) {
                    Ok(None) => {}
                    Ok(Some((_, n))) => assert!(n <= end),
                    Err(e) => panic!("{:?}: {e:?}", String::from_utf8_lossy(prefix)),
                }
            }
            let (cmd, n) = p(frame).unwrap().unwrap();
            assert_eq!(n, frame.len());
            assert!(!matches!(cmd, Command::Error(_)), "{cmd:?}");
        }
    }

    #[test]
    fn random_input_never_panics_or_overreads() {
        const WORDS: &[&[u8]] = &[
            b"get",
            b"gets",
            b"set",
            b"add",
            b"replace",
            b"append",
            b"prepend",
            b"cas",
            b"delete",
            b"incr",
            b"decr",
            b"touch",
            b"flush_all",
            b"version",
            b"stats",
            b"verbosity",
            b"quit",
            b"watch",
            b"unwatch",
            b"noreply",
            b"0",
            b"1",
            b"3",
            b"-1",
            b"18446744073709551615",
            b"99999999999999999999",
            b"k",
            b"\r\n",
            b"\n",
            b"\r",
            b" ",
            b"  ",
            b"\x00",
            b"\xff",
        ];
        let limits = Limits { max_line: 64, max_value: 32, max_keys_per_get: 4 };
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut buf = Vec::new();
        for _ in 0..200_000 {
            buf.clear();
            let parts = rng.below(12);
            for _ in 0..parts {
                if rng.below(4) == 0 {
                    buf.push(rng.next() as u8);
                } else {
                    buf.extend_from_slice(WORDS[rng.below(WORDS.len())]);
                    if rng.below(2) == 0 {
                        buf.push(b' ');
                    }
                }
            }
            let mut at = 0;
            // Parse the buffer as a connection would, command after command.
            while let Ok(Some((cmd, n))) = parse(&buf[at..], &limits) {
                assert!(n >= 1 && n <= buf.len() - at, "{n} of {}", buf.len() - at);
                if let Command::TooLarge { swallow, .. } = cmd {
                    assert!(swallow > limits.max_value as u64 + 2);
                    break;
                }
                at += n;
            }
        }
    }
}
