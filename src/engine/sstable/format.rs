//! The fixed parts of LevelDB's table file format: block handles, the footer, and the trailer that
//! follows every block. Everything here must stay byte-for-byte what LevelDB writes, because
//! classic-level databases are opened in place.
//!
//! A table file is a run of blocks followed by a footer:
//!
//! ```text
//! [data block 0][trailer] ... [data block N][trailer]
//! [filter block][trailer]          (optional, never compressed)
//! [metaindex block][trailer]       (bytewise keys: "filter.<policy name>" -> handle)
//! [index block][trailer]           (internal keys: separator -> data block handle)
//! [footer: 48 bytes]
//! ```
//!
//! A block handle is `varint64 offset, varint64 size` (at most 20 bytes); `size` excludes the
//! trailer. A trailer is 5 bytes: one compression-type byte (0 none, 1 snappy) and a fixed32
//! masked CRC32C over the block contents followed by that type byte. The footer is the metaindex
//! handle, the index handle, zero padding up to 40 bytes, then the 8-byte magic number
//! 0xdb4775248b80fb57 stored little-endian.

use crate::engine::coding::{decode_fixed32, decode_fixed64, decode_varint64, put_fixed64, put_varint64};
use crate::engine::crc;
use crate::engine::env::{set_len_reusing, RandomAccessFile};
use crate::engine::error::{Error, Result};

/// Bytes after each block: the compression type and the masked CRC.
pub const BLOCK_TRAILER_SIZE: usize = 5;

/// The longest encoding of a [`BlockHandle`]: two 10-byte varints.
pub const MAX_BLOCK_HANDLE_LEN: usize = 20;

/// The footer's size; it always ends the file.
pub const FOOTER_LEN: usize = 2 * MAX_BLOCK_HANDLE_LEN + 8;

/// LevelDB's table magic number, the footer's last 8 bytes (little-endian).
pub const TABLE_MAGIC: u64 = 0xdb47_7524_8b80_fb57;

/// Trailer type byte: the block is stored as is.
pub const NO_COMPRESSION: u8 = 0;

/// Trailer type byte: the block is snappy's raw (unframed) format.
pub const SNAPPY_COMPRESSION: u8 = 1;

/// Where a block lives in the file: its offset and its length without the trailer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlockHandle {
    /// Offset of the block's first byte.
    pub offset: u64,
    /// Length of the block's stored contents, excluding the 5-byte trailer.
    pub size: u64,
}

impl BlockHandle {
    /// A handle for `size` stored bytes at `offset`.
    pub fn new(offset: u64, size: u64) -> BlockHandle {
        BlockHandle { offset, size }
    }

    /// Appends the handle's encoding (two varints, at most [`MAX_BLOCK_HANDLE_LEN`] bytes).
    pub fn encode_to(&self, dst: &mut Vec<u8>) {
        put_varint64(dst, self.offset);
        put_varint64(dst, self.size);
    }

    /// The handle's encoding as a fresh vector.
    pub fn encode(&self) -> Vec<u8> {
        let mut dst = Vec::with_capacity(MAX_BLOCK_HANDLE_LEN);
        self.encode_to(&mut dst);
        dst
    }

    /// Decodes a handle from the start of `src`, returning it with the bytes consumed. Trailing
    /// bytes are allowed (LevelDB reserves them for future use). `None` on a short or overlong
    /// varint.
    pub fn decode(src: &[u8]) -> Option<(BlockHandle, usize)> {
        let (offset, n1) = decode_varint64(src)?;
        let (size, n2) = decode_varint64(src.get(n1..)?)?;
        Some((BlockHandle { offset, size }, n1 + n2))
    }
}

/// The table's last 48 bytes: where to find the metaindex and index blocks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Footer {
    /// The metaindex block (names meta blocks such as the filter).
    pub metaindex: BlockHandle,
    /// The index block (one entry per data block).
    pub index: BlockHandle,
}

impl Footer {
    /// The footer's exact [`FOOTER_LEN`]-byte encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut dst = Vec::with_capacity(FOOTER_LEN);
        self.metaindex.encode_to(&mut dst);
        self.index.encode_to(&mut dst);
        dst.resize(2 * MAX_BLOCK_HANDLE_LEN, 0);
        put_fixed64(&mut dst, TABLE_MAGIC);
        dst
    }

    /// Decodes a footer from exactly [`FOOTER_LEN`] bytes. `file_offset` (where those bytes start
    /// in the file) only feeds error messages.
    ///
    /// Stricter than LevelDB in one way: the bytes must be exactly what `encode` produces (zero
    /// padding, shortest varints). LevelDB always writes that form, so this only turns otherwise
    /// invisible damage into a reported corruption.
    pub fn decode(src: &[u8], file_offset: u64) -> Result<Footer> {
        let bad = |what: &str| Error::corruption(format!("table footer at offset {file_offset}: {what}"));
        if src.len() != FOOTER_LEN {
            return Err(bad("wrong length"));
        }
        let magic = src.get(2 * MAX_BLOCK_HANDLE_LEN..).and_then(decode_fixed64);
        if magic != Some(TABLE_MAGIC) {
            return Err(bad("not an sstable (bad magic number)"));
        }
        let handles = src.get(..2 * MAX_BLOCK_HANDLE_LEN).unwrap_or_default();
        let (metaindex, n1) = BlockHandle::decode(handles).ok_or_else(|| bad("bad metaindex handle"))?;
        let (index, _) =
            BlockHandle::decode(handles.get(n1..).unwrap_or_default()).ok_or_else(|| bad("bad index handle"))?;
        let footer = Footer { metaindex, index };
        // Catches non-zero padding and overlong varints, which decode to the same handles and so
        // would otherwise hide damage.
        if footer.encode() != src {
            return Err(bad("non-canonical encoding"));
        }
        Ok(footer)
    }
}

/// The 5-byte trailer LevelDB writes after `contents` stored with compression `kind`.
pub fn block_trailer(contents: &[u8], kind: u8) -> [u8; BLOCK_TRAILER_SIZE] {
    let [a, b, c, d] = crc::mask(crc::extend(crc::value(contents), &[kind])).to_le_bytes();
    [kind, a, b, c, d]
}

/// Reads and decodes the footer at the end of `file`.
pub fn read_footer(file: &dyn RandomAccessFile) -> Result<Footer> {
    let size = file.size();
    let Some(offset) = size.checked_sub(FOOTER_LEN as u64) else {
        return Err(Error::corruption(format!("file is too short ({size} bytes) to be an sstable")));
    };
    Footer::decode(&file.read_at(offset, FOOTER_LEN)?, offset)
}

/// Snappy never expands a byte of input into more than this many bytes of output (a 3-byte copy
/// tag yields at most 64); a larger claimed length is damage, and refusing it early avoids a huge
/// allocation from a corrupt header.
const MAX_SNAPPY_EXPANSION: usize = 32;

/// Reads the block `handle` names, checks its trailer's CRC when `verify_checksums` is set, and
/// returns its uncompressed contents. Any damage (a handle beyond the file, a CRC mismatch, an
/// unknown type byte, bad snappy data) is `Error::Corruption` naming the file offset.
pub fn read_block(file: &dyn RandomAccessFile, handle: &BlockHandle, verify_checksums: bool) -> Result<Vec<u8>> {
    read_block_into(file, handle, verify_checksums, false, Vec::new())
}

thread_local! {
    /// The bytes of a compressed block as read, before decompression; kept per thread so that a
    /// point get does not allocate it.
    static RAW: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// `read_block`, returning the contents in `out`'s memory (a buffer the block cache gave back)
/// when it is large enough, so that neither an allocation nor zeroing is paid. With
/// `memory_only`, a block whose bytes the OS does not hold in memory fails with
/// `Error::Incomplete` instead of waiting on the disk.
pub fn read_block_into(
    file: &dyn RandomAccessFile,
    handle: &BlockHandle,
    verify_checksums: bool,
    memory_only: bool,
    out: Vec<u8>,
) -> Result<Vec<u8>> {
    RAW.with_borrow_mut(|raw| {
        let result = read_with(file, handle, verify_checksums, memory_only, raw, out);
        // A huge block (one large value) must not stay pinned to the thread.
        if raw.capacity() > KEEP_RAW {
            *raw = Vec::new();
        }
        result
    })
}

/// Read buffers larger than this are freed after use rather than kept for the next read.
const KEEP_RAW: usize = 256 * 1024;

/// A corruption error naming the block `handle` points at.
fn bad_block(handle: &BlockHandle, what: &str) -> Error {
    Error::corruption(format!("block at offset {} (size {}): {what}", handle.offset, handle.size))
}

/// Where the block `handle` names ends, trailer included, checked to lie within `file` before
/// anything is read, so that a damaged handle cannot make us allocate its claimed size.
fn block_end(file: &dyn RandomAccessFile, handle: &BlockHandle) -> Result<u64> {
    let end = handle.size.checked_add(BLOCK_TRAILER_SIZE as u64).and_then(|t| t.checked_add(handle.offset));
    end.filter(|&e| e <= file.size()).ok_or_else(|| bad_block(handle, "extends beyond the end of the file"))
}

fn read_with(
    file: &dyn RandomAccessFile,
    handle: &BlockHandle,
    verify_checksums: bool,
    memory_only: bool,
    raw: &mut Vec<u8>,
    mut out: Vec<u8>,
) -> Result<Vec<u8>> {
    let at = handle.offset;
    block_end(file, handle)?;
    let n = usize::try_from(handle.size).map_err(|_| bad_block(handle, "too large"))?;
    if memory_only {
        if !file.read_into_nowait(at, n + BLOCK_TRAILER_SIZE, raw)? {
            return Err(Error::Incomplete);
        }
    } else {
        file.read_into(at, n + BLOCK_TRAILER_SIZE, raw)?;
    }
    let kind = check_trailer(raw, handle, verify_checksums)?;
    if kind == NO_COMPRESSION {
        // The read buffer becomes the block; `out`'s memory serves the next read.
        std::mem::swap(raw, &mut out);
        out.truncate(n);
        return Ok(out);
    }
    decode_contents(raw.get(..n).unwrap_or_default(), kind, handle, out)
}

/// Reads the block `handle` names out of `window`, a run of the file's bytes starting at
/// `window_at` that a sequential reader read ahead, refilling it with `readahead` bytes (or the
/// block, if larger) from the block's offset when the block is not wholly inside. Checks and
/// decodes as [`read_block_into`] does. For compactions: one read of a few hundred KiB replaces a
/// system call per 4 KiB block.
pub fn read_block_ahead(
    file: &dyn RandomAccessFile,
    handle: &BlockHandle,
    verify_checksums: bool,
    window: &mut Vec<u8>,
    window_at: &mut u64,
    readahead: usize,
    out: Vec<u8>,
) -> Result<Vec<u8>> {
    let at = handle.offset;
    let bad = |what: &str| bad_block(handle, what);
    let end = block_end(file, handle)?;
    let inside = at >= *window_at && end <= *window_at + window.len() as u64;
    if !inside {
        let len = (end - at).max(readahead as u64).min(file.size() - at);
        let len = usize::try_from(len).map_err(|_| bad("too large"))?;
        *window_at = at;
        if let Err(e) = file.read_into(at, len, window) {
            window.clear();
            return Err(e);
        }
    }
    let from = usize::try_from(at - *window_at).map_err(|_| bad("too large"))?;
    let to = usize::try_from(end - *window_at).map_err(|_| bad("too large"))?;
    decode_block(window.get(from..to).unwrap_or_default(), handle, verify_checksums, out)
}

/// Checks `raw`, a block's stored bytes with their trailer, against `handle` and (when
/// `verify_checksums`) its CRC, and returns the block's type byte.
fn check_trailer(raw: &[u8], handle: &BlockHandle, verify_checksums: bool) -> Result<u8> {
    let bad = |what: &str| bad_block(handle, what);
    let n = usize::try_from(handle.size).map_err(|_| bad("too large"))?;
    if raw.len() != n + BLOCK_TRAILER_SIZE {
        return Err(bad("truncated block read"));
    }
    if verify_checksums {
        let stored = raw.get(n + 1..).and_then(decode_fixed32).map(crc::unmask);
        let actual = raw.get(..n + 1).map(crc::value);
        if stored.is_none() || stored != actual {
            return Err(bad("block checksum mismatch"));
        }
    }
    Ok(raw.get(n).copied().unwrap_or(u8::MAX))
}

/// Checks and decodes `raw`, a block's stored bytes with their trailer, into `out`'s memory.
fn decode_block(raw: &[u8], handle: &BlockHandle, verify_checksums: bool, mut out: Vec<u8>) -> Result<Vec<u8>> {
    let kind = check_trailer(raw, handle, verify_checksums)?;
    let contents = raw.get(..raw.len().saturating_sub(BLOCK_TRAILER_SIZE)).unwrap_or_default();
    if kind == NO_COMPRESSION {
        out.clear();
        out.extend_from_slice(contents);
        return Ok(out);
    }
    decode_contents(contents, kind, handle, out)
}

/// Decodes the contents of a checked block of type `kind` (not `NO_COMPRESSION`) into `out`'s memory.
fn decode_contents(contents: &[u8], kind: u8, handle: &BlockHandle, mut out: Vec<u8>) -> Result<Vec<u8>> {
    let bad = |what: &str| bad_block(handle, what);
    match kind {
        SNAPPY_COMPRESSION => {
            let len = snap::raw::decompress_len(contents).map_err(|_| bad("corrupted compressed block contents"))?;
            if len > contents.len().saturating_mul(MAX_SNAPPY_EXPANSION) {
                return Err(bad("corrupted compressed block contents"));
            }
            set_len_reusing(&mut out, len);
            let written = snap::raw::Decoder::new()
                .decompress(contents, &mut out)
                .map_err(|_| bad("corrupted compressed block contents"))?;
            out.truncate(written);
            Ok(out)
        }
        _ => Err(bad("bad block type")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::env::{Fs, MemFs};
    use std::path::Path;
    use std::sync::Arc;

    fn file_with(bytes: &[u8]) -> Arc<dyn RandomAccessFile> {
        let fs = MemFs::new();
        fs.create_dir_all(Path::new("/t")).unwrap();
        fs.create(Path::new("/t/f")).unwrap().append(bytes).unwrap();
        fs.open_random(Path::new("/t/f")).unwrap()
    }

    #[test]
    fn handle_round_trip_and_max_length() {
        for (o, s) in [(0, 0), (1, 127), (128, 16384), (u64::MAX, u64::MAX)] {
            let h = BlockHandle::new(o, s);
            let mut enc = h.encode();
            assert!(enc.len() <= MAX_BLOCK_HANDLE_LEN);
            let len = enc.len();
            enc.extend_from_slice(b"extra");
            assert_eq!(BlockHandle::decode(&enc), Some((h, len)));
            assert_eq!(BlockHandle::decode(&enc[..len - 1]), None);
        }
        assert_eq!(BlockHandle::new(u64::MAX, u64::MAX).encode().len(), MAX_BLOCK_HANDLE_LEN);
    }

    #[test]
    fn footer_round_trip_layout() {
        let f = Footer { metaindex: BlockHandle::new(1000, 30), index: BlockHandle::new(1035, 200) };
        let enc = f.encode();
        assert_eq!(enc.len(), FOOTER_LEN);
        assert_eq!(&enc[40..], &[0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb]);
        assert_eq!(Footer::decode(&enc, 0).unwrap(), f);
        let mut bad_magic = enc.clone();
        bad_magic[47] ^= 1;
        assert!(Footer::decode(&bad_magic, 0).unwrap_err().is_corruption());
        let mut bad_pad = enc.clone();
        bad_pad[39] = 1;
        assert!(Footer::decode(&bad_pad, 0).is_err());
        // 1000 is e8 07; e8 87 00 decodes to the same value but is not what LevelDB writes.
        let mut overlong = vec![0xe8, 0x87, 0x00, 30];
        f.index.encode_to(&mut overlong);
        overlong.resize(40, 0);
        overlong.extend_from_slice(&enc[40..]);
        assert_eq!(BlockHandle::decode(&overlong), Some((f.metaindex, 4)));
        assert!(Footer::decode(&overlong, 0).is_err());
        assert!(Footer::decode(&enc[1..], 0).is_err());
    }

    #[test]
    fn read_block_checks_crc_type_and_bounds() {
        let contents = b"hello block".to_vec();
        let mut file = contents.clone();
        file.extend_from_slice(&block_trailer(&contents, NO_COMPRESSION));
        let f = file_with(&file);
        let h = BlockHandle::new(0, contents.len() as u64);
        assert_eq!(read_block(&*f, &h, true).unwrap(), contents);
        for i in 0..file.len() {
            let mut damaged = file.clone();
            damaged[i] ^= 0x80;
            let err = read_block(&*file_with(&damaged), &h, true).unwrap_err();
            assert!(err.is_corruption(), "byte {i}: {err}");
        }
        assert!(read_block(&*f, &BlockHandle::new(1, contents.len() as u64), true).is_err());
        assert!(read_block(&*f, &BlockHandle::new(u64::MAX, u64::MAX), false).is_err());
        assert!(read_block(&*f, &BlockHandle::new(0, u64::MAX - 2), false).is_err());
    }

    #[test]
    fn read_block_decompresses_snappy() {
        let raw: Vec<u8> = b"abcdefgh".iter().cycle().take(4000).copied().collect();
        let compressed = snap::raw::Encoder::new().compress_vec(&raw).unwrap();
        let mut file = compressed.clone();
        file.extend_from_slice(&block_trailer(&compressed, SNAPPY_COMPRESSION));
        let h = BlockHandle::new(0, compressed.len() as u64);
        assert_eq!(read_block(&*file_with(&file), &h, true).unwrap(), raw);
        // Garbage labelled snappy, with a valid CRC, must be refused rather than misread.
        let junk = vec![0xffu8; 16];
        let mut file = junk.clone();
        file.extend_from_slice(&block_trailer(&junk, SNAPPY_COMPRESSION));
        let err = read_block(&*file_with(&file), &BlockHandle::new(0, 16), true).unwrap_err();
        assert!(err.to_string().contains("offset 0"), "{err}");
    }

    #[test]
    fn footer_of_short_file_is_corruption() {
        assert!(read_footer(&*file_with(&[0u8; 47])).unwrap_err().is_corruption());
    }
}
