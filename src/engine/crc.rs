//! CRC32C with LevelDB's masking. LevelDB stores `mask(crc)` rather than the raw CRC because
//! computing the CRC of a string that itself contains embedded CRCs is weak; the rotation and
//! constant below are LevelDB's (`util/crc32c.h`) and must not change, or files stop being
//! readable by LevelDB.

const MASK_DELTA: u32 = 0xa282_ead8;

/// CRC32C of `data`.
pub fn value(data: &[u8]) -> u32 {
    crc32c::crc32c(data)
}

/// CRC32C of the concatenation of the previous input (whose CRC is `init`) and `data`.
pub fn extend(init: u32, data: &[u8]) -> u32 {
    crc32c::crc32c_append(init, data)
}

/// The stored form of a CRC.
pub fn mask(crc: u32) -> u32 {
    crc.rotate_right(15).wrapping_add(MASK_DELTA)
}

/// Inverse of [`mask`].
pub fn unmask(masked: u32) -> u32 {
    masked.wrapping_sub(MASK_DELTA).rotate_left(15)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_published_crc32c_vectors() {
        // From RFC 3720 (iSCSI), the vectors LevelDB's crc32c_test also uses.
        assert_eq!(value(&[0u8; 32]), 0x8a91_36aa);
        assert_eq!(value(&[0xffu8; 32]), 0x62a8_ab43);
        let ascending: Vec<u8> = (0..32).collect();
        assert_eq!(value(&ascending), 0x46dd_794e);
        assert_eq!(value(b"123456789"), 0xe306_9283);
    }

    #[test]
    fn extend_equals_whole() {
        assert_eq!(extend(value(b"hello "), b"world"), value(b"hello world"));
    }

    #[test]
    fn mask_round_trips_and_changes_the_value() {
        let crc = value(b"foo");
        assert_ne!(mask(crc), crc);
        assert_ne!(mask(mask(crc)), crc);
        assert_eq!(unmask(mask(crc)), crc);
        assert_eq!(unmask(unmask(mask(mask(crc)))), crc);
    }
}
