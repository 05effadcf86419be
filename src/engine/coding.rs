//! Fixed-width little-endian integers and LEB128 varints, as LevelDB's `util/coding.h` lays them
//! out. Decoders take a slice and return the value with the number of bytes used, or `None` when
//! the input is short or malformed; they never read out of bounds.

/// Appends `v` as 4 little-endian bytes.
pub fn put_fixed32(dst: &mut Vec<u8>, v: u32) {
    dst.extend_from_slice(&v.to_le_bytes());
}

/// Appends `v` as 8 little-endian bytes.
pub fn put_fixed64(dst: &mut Vec<u8>, v: u64) {
    dst.extend_from_slice(&v.to_le_bytes());
}

/// Reads 4 little-endian bytes from the start of `src`.
pub fn decode_fixed32(src: &[u8]) -> Option<u32> {
    let bytes: [u8; 4] = src.get(..4)?.try_into().ok()?;
    Some(u32::from_le_bytes(bytes))
}

/// Reads 8 little-endian bytes from the start of `src`.
pub fn decode_fixed64(src: &[u8]) -> Option<u64> {
    let bytes: [u8; 8] = src.get(..8)?.try_into().ok()?;
    Some(u64::from_le_bytes(bytes))
}

/// Appends `v` as a varint (7 bits a byte, high bit set on all but the last).
pub fn put_varint64(dst: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        dst.push((v as u8) | 0x80);
        v >>= 7;
    }
    dst.push(v as u8);
}

/// Appends `v` as a varint.
pub fn put_varint32(dst: &mut Vec<u8>, v: u32) {
    put_varint64(dst, u64::from(v));
}

/// Decodes a varint of at most 10 bytes. Returns the value and its encoded length.
pub fn decode_varint64(src: &[u8]) -> Option<(u64, usize)> {
    let mut result = 0u64;
    for (i, &byte) in src.iter().enumerate().take(10) {
        let shift = 7 * i as u32;
        result |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some((result, i + 1));
        }
    }
    None
}

/// Decodes a varint that must fit in 32 bits.
pub fn decode_varint32(src: &[u8]) -> Option<(u32, usize)> {
    let (v, n) = decode_varint64(src)?;
    if n > 5 {
        return None;
    }
    Some((u32::try_from(v).ok()?, n))
}

/// Appends a varint length followed by the bytes.
pub fn put_length_prefixed(dst: &mut Vec<u8>, data: &[u8]) {
    put_varint64(dst, data.len() as u64);
    dst.extend_from_slice(data);
}

/// Decodes a length-prefixed slice. Returns the slice and the total bytes consumed.
pub fn decode_length_prefixed(src: &[u8]) -> Option<(&[u8], usize)> {
    let (len, n) = decode_varint64(src)?;
    let len = usize::try_from(len).ok()?;
    let end = n.checked_add(len)?;
    Some((src.get(n..end)?, end))
}

/// The encoded length of `v` as a varint.
pub fn varint_length(mut v: u64) -> usize {
    let mut len = 1;
    while v >= 0x80 {
        v >>= 7;
        len += 1;
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_round_trip_at_every_width() {
        let mut values = vec![0u64, 1, 127, 128, 255, 300, 16383, 16384, u32::MAX as u64, u64::MAX];
        for shift in 0..64 {
            values.push(1u64 << shift);
            values.push((1u64 << shift) - 1);
        }
        for v in values {
            let mut buf = Vec::new();
            put_varint64(&mut buf, v);
            assert_eq!(buf.len(), varint_length(v));
            assert_eq!(decode_varint64(&buf), Some((v, buf.len())));
            // Every strict prefix is incomplete and must be refused, not misread.
            for cut in 0..buf.len() {
                assert_eq!(decode_varint64(&buf[..cut]), None);
            }
        }
    }

    #[test]
    fn varint32_refuses_values_over_32_bits() {
        let mut buf = Vec::new();
        put_varint64(&mut buf, u64::from(u32::MAX) + 1);
        assert_eq!(decode_varint32(&buf), None);
        let mut ok = Vec::new();
        put_varint32(&mut ok, u32::MAX);
        assert_eq!(decode_varint32(&ok), Some((u32::MAX, 5)));
    }

    #[test]
    fn overlong_varint_is_refused() {
        assert_eq!(decode_varint64(&[0xff; 11]), None);
    }

    #[test]
    fn fixed_round_trip_and_short_input() {
        let mut buf = Vec::new();
        put_fixed32(&mut buf, 0xdead_beef);
        put_fixed64(&mut buf, 0x0123_4567_89ab_cdef);
        assert_eq!(decode_fixed32(&buf), Some(0xdead_beef));
        assert_eq!(decode_fixed64(&buf[4..]), Some(0x0123_4567_89ab_cdef));
        assert_eq!(decode_fixed32(&buf[..3]), None);
        assert_eq!(decode_fixed64(&buf[5..]), None);
    }

    #[test]
    fn length_prefixed_checks_bounds() {
        let mut buf = Vec::new();
        put_length_prefixed(&mut buf, b"hello");
        assert_eq!(decode_length_prefixed(&buf), Some((&b"hello"[..], 6)));
        assert_eq!(decode_length_prefixed(&buf[..5]), None);
        // A length far beyond the input must not overflow or panic.
        let mut huge = Vec::new();
        put_varint64(&mut huge, u64::MAX);
        assert_eq!(decode_length_prefixed(&huge), None);
    }
}
