//! RESP, the Redis wire protocol: an incremental request parser with size limits, and the reply
//! encoder for RESP2 and (after `HELLO 3`) RESP3.
//!
//! A request is a multibulk `*<n>\r\n` followed by `n` bulks `$<len>\r\n<bytes>\r\n`, or an
//! inline line of space-separated words ending in `\n` (what a person types in telnet). The
//! parser works on the connection's read buffer and returns the arguments as spans into it, so
//! a pipeline of commands is answered without copying a single argument.

use std::ops::Range;

/// What a client may send before it is cut off (Redis's `proto-max-bulk-len`, its multibulk
/// count limit and `PROTO_INLINE_MAX_SIZE`).
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest bulk argument, bytes. Default 512 MiB.
    pub max_bulk: usize,
    /// Most arguments in one request. Default 1,048,576.
    pub max_args: usize,
    /// Longest inline request or header line, bytes. Default 64 KiB.
    pub max_inline: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_bulk: 512 << 20, max_args: 1 << 20, max_inline: 64 << 10 }
    }
}

/// A malformed or oversized request: the connection gets this error text and is closed.
#[derive(Debug, PartialEq, Eq)]
pub struct ProtocolError(pub String);

/// The outcome of one parse.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// A request: its arguments as ranges of the buffer, and the bytes it took.
    Request(Vec<Range<usize>>, usize),
    /// More bytes are needed; at least this many in all, when known.
    Incomplete(usize),
}

fn find_line(buf: &[u8], from: usize) -> Option<usize> {
    buf.get(from..)?.iter().position(|&b| b == b'\n').map(|i| from + i)
}

/// The integer on the header line starting at `at` (after its type byte), and where the next
/// line starts.
fn header(buf: &[u8], at: usize, limits: &Limits, what: &str) -> Result<Option<(i64, usize)>, ProtocolError> {
    let Some(nl) = find_line(buf, at) else {
        if buf.len() - at > limits.max_inline {
            return Err(ProtocolError(format!("Protocol error: too big {what} count string")));
        }
        return Ok(None);
    };
    let end = if nl > at && buf.get(nl - 1) == Some(&b'\r') { nl - 1 } else { nl };
    let text = buf.get(at + 1..end).unwrap_or(&[]);
    let n = std::str::from_utf8(text)
        .ok()
        .filter(|t| !t.is_empty() && t.len() <= 20)
        .and_then(|t| t.parse::<i64>().ok())
        .ok_or_else(|| ProtocolError(format!("Protocol error: invalid {what} length")))?;
    Ok(Some((n, nl + 1)))
}

/// Parses one request from the start of `buf`.
pub fn parse(buf: &[u8], limits: &Limits) -> Result<Parsed, ProtocolError> {
    match buf.first() {
        None => Ok(Parsed::Incomplete(1)),
        Some(b'*') => parse_multibulk(buf, limits),
        Some(_) => parse_inline(buf, limits),
    }
}

fn parse_multibulk(buf: &[u8], limits: &Limits) -> Result<Parsed, ProtocolError> {
    let Some((count, mut pos)) = header(buf, 0, limits, "multibulk")? else {
        return Ok(Parsed::Incomplete(buf.len() + 1));
    };
    if count > limits.max_args as i64 {
        return Err(ProtocolError("Protocol error: invalid multibulk length".into()));
    }
    if count <= 0 {
        return Ok(Parsed::Request(Vec::new(), pos));
    }
    let mut args = Vec::with_capacity(count as usize);
    for _ in 0..count {
        match buf.get(pos) {
            None => return Ok(Parsed::Incomplete(pos + 1)),
            Some(b'$') => {}
            Some(&b) => {
                return Err(ProtocolError(format!("Protocol error: expected '$', got '{}'", b as char)));
            }
        }
        let Some((len, start)) = header(buf, pos, limits, "bulk")? else {
            return Ok(Parsed::Incomplete(buf.len() + 1));
        };
        if len < 0 || len as u64 > limits.max_bulk as u64 {
            return Err(ProtocolError("Protocol error: invalid bulk length".into()));
        }
        let end = start + len as usize;
        if buf.len() < end + 2 {
            return Ok(Parsed::Incomplete(end + 2));
        }
        if buf.get(end..end + 2) != Some(b"\r\n") {
            return Err(ProtocolError("Protocol error: bulk not followed by CRLF".into()));
        }
        args.push(start..end);
        pos = end + 2;
    }
    Ok(Parsed::Request(args, pos))
}

fn parse_inline(buf: &[u8], limits: &Limits) -> Result<Parsed, ProtocolError> {
    let Some(nl) = find_line(buf, 0) else {
        if buf.len() > limits.max_inline {
            return Err(ProtocolError("Protocol error: too big inline request".into()));
        }
        return Ok(Parsed::Incomplete(buf.len() + 1));
    };
    if nl > limits.max_inline {
        return Err(ProtocolError("Protocol error: too big inline request".into()));
    }
    let line_end = if nl > 0 && buf.get(nl - 1) == Some(&b'\r') { nl - 1 } else { nl };
    let mut args = Vec::new();
    let mut i = 0;
    while i < line_end {
        while i < line_end && buf.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
            i += 1;
        }
        let start = i;
        while i < line_end && buf.get(i).is_some_and(|b| !b.is_ascii_whitespace()) {
            i += 1;
        }
        if i > start {
            if args.len() >= limits.max_args {
                return Err(ProtocolError("Protocol error: invalid multibulk length".into()));
            }
            args.push(start..i);
        }
    }
    Ok(Parsed::Request(args, nl + 1))
}

/// Writes replies in the protocol version the client chose.
pub struct Encoder {
    /// 2 or 3.
    pub version: u8,
}

impl Encoder {
    /// `+OK`-style status.
    pub fn simple(&self, out: &mut Vec<u8>, s: &str) {
        out.push(b'+');
        out.extend_from_slice(s.as_bytes());
        out.extend_from_slice(b"\r\n");
    }

    /// An error line; `msg` starts with its code (`ERR`, `WRONGTYPE`, `NOAUTH`...).
    pub fn error(&self, out: &mut Vec<u8>, msg: &str) {
        out.push(b'-');
        out.extend(msg.bytes().map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }));
        out.extend_from_slice(b"\r\n");
    }

    /// An integer.
    pub fn int(&self, out: &mut Vec<u8>, n: i64) {
        out.push(b':');
        out.extend_from_slice(n.to_string().as_bytes());
        out.extend_from_slice(b"\r\n");
    }

    /// A bulk string.
    pub fn bulk(&self, out: &mut Vec<u8>, data: &[u8]) {
        out.push(b'$');
        out.extend_from_slice(data.len().to_string().as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(data);
        out.extend_from_slice(b"\r\n");
    }

    /// A bulk string, or null.
    pub fn opt_bulk(&self, out: &mut Vec<u8>, data: Option<&[u8]>) {
        match data {
            Some(d) => self.bulk(out, d),
            None => self.null(out),
        }
    }

    /// Null: `$-1` in RESP2, `_` in RESP3.
    pub fn null(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(if self.version >= 3 { b"_\r\n" } else { b"$-1\r\n" });
    }

    /// The header of an array of `n` items.
    pub fn array(&self, out: &mut Vec<u8>, n: usize) {
        out.push(b'*');
        out.extend_from_slice(n.to_string().as_bytes());
        out.extend_from_slice(b"\r\n");
    }

    /// The header of a map of `n` pairs (an array of 2n items in RESP2).
    pub fn map(&self, out: &mut Vec<u8>, n: usize) {
        if self.version >= 3 {
            out.push(b'%');
            out.extend_from_slice(n.to_string().as_bytes());
            out.extend_from_slice(b"\r\n");
        } else {
            self.array(out, n * 2);
        }
    }

    /// The header of an out-of-band message (pub/sub): a push in RESP3, an array in RESP2.
    pub fn push(&self, out: &mut Vec<u8>, n: usize) {
        if self.version >= 3 {
            out.push(b'>');
            out.extend_from_slice(n.to_string().as_bytes());
            out.extend_from_slice(b"\r\n");
        } else {
            self.array(out, n);
        }
    }

    /// A verbatim text (INFO): a bulk string in RESP2, `=txt:` in RESP3.
    pub fn verbatim(&self, out: &mut Vec<u8>, text: &str) {
        if self.version >= 3 {
            out.push(b'=');
            out.extend_from_slice((text.len() + 4).to_string().as_bytes());
            out.extend_from_slice(b"\r\ntxt:");
            out.extend_from_slice(text.as_bytes());
            out.extend_from_slice(b"\r\n");
        } else {
            self.bulk(out, text.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(buf: &[u8]) -> Vec<Vec<u8>> {
        match parse(buf, &Limits::default()).unwrap() {
            Parsed::Request(spans, used) => {
                assert!(used <= buf.len());
                spans.into_iter().map(|r| buf[r].to_vec()).collect()
            }
            Parsed::Incomplete(_) => panic!("incomplete"),
        }
    }

    #[test]
    fn multibulk_and_inline_requests() {
        assert_eq!(args(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"), vec![b"GET".to_vec(), b"k".to_vec()]);
        assert_eq!(args(b"*1\r\n$0\r\n\r\n"), vec![Vec::<u8>::new()]);
        assert_eq!(args(b"set  foo bar\r\n"), vec![b"set".to_vec(), b"foo".to_vec(), b"bar".to_vec()]);
        assert_eq!(args(b"PING\n"), vec![b"PING".to_vec()]);
        assert_eq!(args(b"\r\n"), Vec::<Vec<u8>>::new());
        // A bulk may hold CRLF and anything else.
        assert_eq!(args(b"*1\r\n$4\r\na\r\nb\r\n"), vec![b"a\r\nb".to_vec()]);
    }

    #[test]
    fn limits_and_malformed_frames_are_errors() {
        let small = Limits { max_bulk: 4, max_args: 2, max_inline: 16 };
        assert!(parse(b"*1\r\n$5\r\nhello\r\n", &small).is_err());
        assert!(parse(b"*3\r\n", &small).is_err());
        assert!(parse(&[b'a'; 17], &small).is_err());
        assert!(parse(b"*1\r\n$x\r\n", &Limits::default()).is_err());
        assert!(parse(b"*1\r\n:1\r\n", &Limits::default()).is_err());
        assert!(parse(b"*1\r\n$1\r\nab\r\n", &Limits::default()).is_err());
        assert!(parse(b"*1\r\n$-1\r\n", &Limits::default()).is_err());
        assert!(parse(b"*99999999999999999999999\r\n", &Limits::default()).is_err());
    }

    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    fn check_never_overreads(buf: &[u8], limits: &Limits) {
        match parse(buf, limits) {
            Ok(Parsed::Request(spans, used)) => {
                assert!(used <= buf.len() && used > 0);
                assert!(spans.iter().all(|r| r.start <= r.end && r.end <= used));
            }
            Ok(Parsed::Incomplete(need)) => assert!(need > buf.len()),
            Err(_) => {}
        }
    }

    #[test]
    fn every_prefix_of_valid_frames_is_incomplete_then_whole() {
        let frames: [&[u8]; 4] = [
            b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n",
            b"*1\r\n$0\r\n\r\n",
            b"PING\r\n",
            b"*2\r\n$4\r\nECHO\r\n$10\r\n0123456789\r\n",
        ];
        for frame in frames {
            for cut in 0..frame.len() {
                assert!(
                    matches!(parse(&frame[..cut], &Limits::default()), Ok(Parsed::Incomplete(_))),
                    "prefix {cut} of {frame:?}"
                );
            }
            assert!(matches!(parse(frame, &Limits::default()), Ok(Parsed::Request(_, n)) if n == frame.len()));
        }
    }

    /// Fuzzing: random frames built from protocol pieces, mutated and truncated. Counted in the
    /// issue's closing note: 300,000 inputs, no panic, no read past the input.
    #[test]
    fn random_and_mutated_frames_never_panic() {
        let pieces: [&[u8]; 12] =
            [b"*", b"$", b"\r\n", b"\n", b"2", b"-1", b"3", b"999999999999", b"SET", b" ", b"\r", b"0"];
        let limits = Limits { max_bulk: 1 << 16, max_args: 64, max_inline: 256 };
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..300_000 {
            let mut buf = Vec::new();
            let n = xorshift(&mut seed) % 12;
            for _ in 0..n {
                let r = xorshift(&mut seed);
                if r.is_multiple_of(5) {
                    buf.push((r >> 8) as u8);
                } else {
                    buf.extend_from_slice(pieces[(r >> 8) as usize % pieces.len()]);
                }
            }
            check_never_overreads(&buf, &limits);
        }
    }
}
