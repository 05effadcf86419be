//! The write batch JavaScript assembles (`lib/write-batch.js`) and hands over in one call: every
//! key and value back to back in one byte array, and three numbers per operation (kind, key
//! length, value length). Framing it into the engine's [`WriteBatch`] here costs a copy per
//! operation; a napi call per operation, with its two string conversions, cost several times more.

use crate::binding::error::{to_js, Code};
use crate::engine::key::ValueKind;
use crate::engine::write_batch::WriteBatch;
use crate::engine::Error;

/// The batch described by `layout` over `data`. Both come from our own JavaScript, so a mismatch
/// is a bug there; it is refused with an error rather than written.
pub fn decode(data: &[u8], layout: &[u32]) -> napi::Result<WriteBatch, Code> {
    let bad = |what: &str| to_js(Error::InvalidArgument(format!("malformed batch from JavaScript: {what}")));
    if !layout.len().is_multiple_of(3) {
        return Err(bad("layout is not three numbers per operation"));
    }
    // Room for the bytes plus each operation's kind and two length prefixes (at most 5 bytes each).
    let mut batch = WriteBatch::with_capacity(data.len() + layout.len() / 3 * 11);
    let mut rest = data;
    for op in layout.chunks_exact(3) {
        let key_len = op[1] as usize;
        let value_len = op[2] as usize;
        let (key, after) = rest.split_at_checked(key_len).ok_or_else(|| bad("key runs past the data"))?;
        let (value, after) = after.split_at_checked(value_len).ok_or_else(|| bad("value runs past the data"))?;
        rest = after;
        match op[0] {
            k if k == ValueKind::Value as u32 => batch.put(key, value),
            k if k == ValueKind::Deletion as u32 && value.is_empty() => batch.delete(key),
            _ => return Err(bad("unknown operation")),
        }
    }
    if !rest.is_empty() {
        return Err(bad("data left over after the last operation"));
    }
    Ok(batch)
}

#[cfg(test)]
mod tests {
    use super::decode;
    use crate::engine::key::ValueKind;

    #[test]
    fn frames_puts_and_deletes_in_order() {
        let batch = decode(b"k1v1k2", &[1, 2, 2, 0, 2, 0]).unwrap();
        let ops: Vec<_> = batch.iter().map(|op| op.unwrap()).collect();
        assert_eq!(ops.len(), 2);
        assert_eq!((ops[0].kind, ops[0].key, ops[0].value), (ValueKind::Value, &b"k1"[..], &b"v1"[..]));
        assert_eq!((ops[1].kind, ops[1].key), (ValueKind::Deletion, &b"k2"[..]));
    }

    #[test]
    fn refuses_layouts_that_do_not_match_the_data() {
        assert!(decode(b"k1v1", &[1, 2, 3]).is_err(), "value past the end");
        assert!(decode(b"k1v1x", &[1, 2, 2]).is_err(), "bytes left over");
        assert!(decode(b"k1", &[7, 2, 0]).is_err(), "unknown kind");
        assert!(decode(b"k1v1", &[0, 2, 2]).is_err(), "a del with a value");
        assert!(decode(b"k1", &[1, 2]).is_err(), "a partial operation");
    }
}
