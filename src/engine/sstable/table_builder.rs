//! Writes a table file in LevelDB's format from entries supplied in internal-key order.
//!
//! Entries go into data blocks of about `block_size` bytes. When a block is cut, its index entry
//! is delayed until the next key is seen, so the index can hold a short separator (a user key
//! `>=` every key in the block and `<` every key after it, tagged with the maximum sequence)
//! instead of a full key. The file then ends with the filter block, the metaindex, the index
//! and the footer (layout in `format.rs`). Nothing is synced: the caller syncs the file.

use std::cmp::Ordering;
use std::sync::Arc;

use crate::engine::env::WritableFile;
use crate::engine::error::{Error, Result};
use crate::engine::key::{compare_internal, pack_tag, user_key, ValueKind, MAX_SEQUENCE};
use crate::engine::sstable::block_builder::BlockBuilder;
use crate::engine::sstable::bloom::{BloomFilterPolicy, DEFAULT_BITS_PER_KEY};
use crate::engine::sstable::filter_block::{filter_meta_key, FilterBlockBuilder, WHOLE_FILTER_META_KEY};
use crate::engine::sstable::format::{block_trailer, BlockHandle, Footer, NO_COMPRESSION, SNAPPY_COMPRESSION};

/// How tables are laid out. The defaults are LevelDB's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableOptions {
    /// Uncompressed bytes after which a data block is cut (default 4096).
    pub block_size: usize,
    /// Entries between restart points in data blocks (default 16; the index uses 1).
    pub restart_interval: usize,
    /// Snappy-compress blocks that shrink by more than 1/8 (default on).
    pub compression: bool,
    /// Bloom filter bits per key, or `None` for no filter block (default `Some(10)`).
    pub bloom_bits_per_key: Option<usize>,
    /// With a filter, also write todb's whole-table filter (`WHOLE_FILTER_META_KEY`). Off by
    /// default, which writes exactly what LevelDB writes; databases turn it on.
    pub whole_filter: bool,
}

impl Default for TableOptions {
    fn default() -> Self {
        TableOptions {
            block_size: 4096,
            restart_interval: 16,
            compression: true,
            bloom_bits_per_key: Some(DEFAULT_BITS_PER_KEY),
            whole_filter: false,
        }
    }
}

/// Bytes of blocks gathered before they go to the file in one append: a write(2) per 4 KiB block
/// cost compaction as much in system calls as in copying.
const WRITE_BUFFER: usize = 64 * 1024;

/// Bytes appended between requests to start writing them to the device: the table's sync then
/// waits for about this much rather than the whole table (2 MiB after a compaction, more after a
/// flush), and the device works while the builder compresses the next blocks.
const WRITEBACK_CHUNK: u64 = 512 * 1024;

/// Appends blocks with their trailers and tracks the file offset. Blocks are gathered in a buffer
/// and appended in `WRITE_BUFFER` runs; `flush` appends the rest.
struct BlockWriter {
    file: Arc<dyn WritableFile>,
    offset: u64,
    /// Where the range not yet handed to `start_writeback` begins.
    writeback_from: u64,
    encoder: snap::raw::Encoder,
    /// Reused for every block's compressed form.
    compressed: Vec<u8>,
    pending: Vec<u8>,
}

impl BlockWriter {
    fn new(file: Arc<dyn WritableFile>) -> BlockWriter {
        BlockWriter {
            file,
            offset: 0,
            writeback_from: 0,
            encoder: snap::raw::Encoder::new(),
            compressed: Vec::new(),
            pending: Vec::with_capacity(WRITE_BUFFER + 4096),
        }
    }

    fn write_block(&mut self, block: &mut BlockBuilder, compression: bool) -> Result<BlockHandle> {
        let raw = block.finish();
        let mut compressed_len = None;
        if compression {
            self.compressed.resize(snap::raw::max_compress_len(raw.len()), 0);
            compressed_len = self.encoder.compress(raw, &mut self.compressed).ok();
        }
        let handle = match compressed_len {
            // Compression must save at least 1/8 to be worth the decompression cost on reads.
            Some(n) if n < raw.len() - raw.len() / 8 => {
                let contents = std::mem::take(&mut self.compressed);
                let handle = self.write_raw(contents.get(..n).unwrap_or_default(), SNAPPY_COMPRESSION);
                self.compressed = contents;
                handle
            }
            _ => self.write_raw(raw, NO_COMPRESSION),
        };
        block.reset();
        handle
    }

    fn write_raw(&mut self, contents: &[u8], kind: u8) -> Result<BlockHandle> {
        let handle = BlockHandle::new(self.offset, contents.len() as u64);
        self.append(contents)?;
        self.append(&block_trailer(contents, kind))?;
        Ok(handle)
    }

    fn append(&mut self, bytes: &[u8]) -> Result<()> {
        self.pending.extend_from_slice(bytes);
        self.offset += bytes.len() as u64;
        if self.pending.len() >= WRITE_BUFFER {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if !self.pending.is_empty() {
            // Emptied even on failure: the builder records the error and never finishes.
            let result = self.file.append(&self.pending);
            self.pending.clear();
            result?;
            let appended = self.offset - self.writeback_from;
            if appended >= WRITEBACK_CHUNK {
                self.file.start_writeback(self.writeback_from, appended);
                self.writeback_from = self.offset;
            }
        }
        Ok(())
    }
}

/// Builds one table. Not thread-safe; one writer drives it from `new` to `finish` or `abandon`.
pub struct TableBuilder {
    opts: TableOptions,
    writer: BlockWriter,
    data_block: BlockBuilder,
    index_block: BlockBuilder,
    filter: Option<FilterBlockBuilder>,
    filter_policy: Option<BloomFilterPolicy>,
    /// The bloom hash of each distinct user key, for the whole-table filter (with `filter`).
    key_hashes: Vec<u32>,
    last_key: Vec<u8>,
    num_entries: u64,
    /// The handle of the last cut data block, whose index entry waits for the next key.
    pending_handle: Option<BlockHandle>,
    closed: bool,
    /// The first write error; every later call returns it (a table with a hole must not finish).
    error: Option<Error>,
}

impl TableBuilder {
    /// A builder writing to `file`, which must be empty.
    pub fn new(file: Arc<dyn WritableFile>, opts: TableOptions) -> TableBuilder {
        let filter_policy = opts.bloom_bits_per_key.map(BloomFilterPolicy::new);
        let mut filter = filter_policy.map(FilterBlockBuilder::new);
        if let Some(f) = filter.as_mut() {
            f.start_block(0);
        }
        TableBuilder {
            opts,
            writer: BlockWriter::new(file),
            data_block: BlockBuilder::new(opts.restart_interval),
            index_block: BlockBuilder::new(1),
            filter,
            filter_policy,
            key_hashes: Vec::new(),
            last_key: Vec::new(),
            num_entries: 0,
            pending_handle: None,
            closed: false,
            error: None,
        }
    }

    fn check_open(&self) -> Result<()> {
        if self.closed {
            return Err(Error::InvalidArgument("table builder already finished or abandoned".into()));
        }
        self.error.as_ref().map_or(Ok(()), |e| Err(e.duplicate()))
    }

    fn record<T>(&mut self, r: Result<T>) -> Result<T> {
        if let Err(e) = &r {
            self.error.get_or_insert_with(|| e.duplicate());
        }
        r
    }

    /// Adds an entry. Requires: `ikey` is a valid internal key that sorts strictly after every key
    /// added before (checked in debug builds). Fails if a block write failed, now or earlier.
    pub fn add(&mut self, ikey: &[u8], value: &[u8]) -> Result<()> {
        self.check_open()?;
        debug_assert!(
            self.num_entries == 0 || compare_internal(ikey, &self.last_key) == Ordering::Greater,
            "table keys out of order"
        );
        if let Some(handle) = self.pending_handle.take() {
            let separator = shortest_separator(&self.last_key, ikey);
            self.index_block.add(&separator, &handle.encode());
        }
        if let Some(f) = self.filter.as_mut() {
            f.add_key(user_key(ikey));
            if self.opts.whole_filter && (self.num_entries == 0 || user_key(&self.last_key) != user_key(ikey)) {
                self.key_hashes.push(BloomFilterPolicy::key_hash(user_key(ikey)));
            }
        }
        self.last_key.clear();
        self.last_key.extend_from_slice(ikey);
        self.num_entries += 1;
        self.data_block.add(ikey, value);
        if self.data_block.current_size_estimate() >= self.opts.block_size {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if self.data_block.is_empty() {
            return Ok(());
        }
        let written = self.writer.write_block(&mut self.data_block, self.opts.compression);
        self.pending_handle = Some(self.record(written)?);
        if let Some(f) = self.filter.as_mut() {
            f.start_block(self.writer.offset);
        }
        Ok(())
    }

    /// Writes the last data block, the filter, metaindex and index blocks and the footer, and
    /// returns the file's size. The builder is closed afterwards, whatever the outcome. The
    /// file is not synced.
    pub fn finish(&mut self) -> Result<u64> {
        self.check_open()?;
        let result = self.write_tail();
        self.closed = true;
        let size = self.record(result)?;
        Ok(size)
    }

    fn write_tail(&mut self) -> Result<u64> {
        self.flush()?;
        let mut metaindex = BlockBuilder::new(self.opts.restart_interval);
        if let (Some(filter), Some(policy)) = (self.filter.take(), self.filter_policy) {
            let handle = self.writer.write_raw(&filter.finish(), NO_COMPRESSION)?;
            metaindex.add(&filter_meta_key(&policy), &handle.encode());
            if self.opts.whole_filter {
                let mut whole = Vec::new();
                let hashes = std::mem::take(&mut self.key_hashes);
                policy.create_filter_from_hashes(hashes.iter().copied(), hashes.len(), &mut whole);
                let handle = self.writer.write_raw(&whole, NO_COMPRESSION)?;
                metaindex.add(WHOLE_FILTER_META_KEY, &handle.encode());
            }
        }
        let metaindex_handle = self.writer.write_block(&mut metaindex, self.opts.compression)?;
        if let Some(handle) = self.pending_handle.take() {
            let successor = short_successor(&self.last_key);
            self.index_block.add(&successor, &handle.encode());
        }
        let index_handle = self.writer.write_block(&mut self.index_block, self.opts.compression)?;
        self.writer.append(&Footer { metaindex: metaindex_handle, index: index_handle }.encode())?;
        self.writer.flush()?;
        Ok(self.writer.offset)
    }

    /// Gives up on the table: nothing more is written. The caller deletes the file.
    pub fn abandon(&mut self) {
        self.closed = true;
    }

    /// Entries added so far.
    pub fn num_entries(&self) -> u64 {
        self.num_entries
    }

    /// Bytes written so far; after a successful `finish`, the file's size.
    pub fn file_size(&self) -> u64 {
        self.writer.offset
    }
}

/// The tag LevelDB gives a shortened index key: the earliest possible position for that user key.
fn separator_tag() -> [u8; 8] {
    pack_tag(MAX_SEQUENCE, ValueKind::Value).to_le_bytes()
}

/// A short internal key `k` with `start <= k < limit` (LevelDB's bytewise `FindShortestSeparator`
/// on the user keys, applied only when it both shortens and grows the user key).
fn shortest_separator(start: &[u8], limit: &[u8]) -> Vec<u8> {
    let (us, ul) = (user_key(start), user_key(limit));
    let common = us.iter().zip(ul).take_while(|(a, b)| a == b).count();
    if let (Some(&s), Some(&l)) = (us.get(common), ul.get(common)) {
        if s < 0xff && s + 1 < l {
            let mut key = us.get(..=common).unwrap_or_default().to_vec();
            if let Some(last) = key.last_mut() {
                *last = s + 1;
            }
            if key.len() < us.len() {
                key.extend_from_slice(&separator_tag());
                return key;
            }
        }
    }
    start.to_vec()
}

/// A short internal key `k >= key` (LevelDB's bytewise `FindShortSuccessor` on the user key).
fn short_successor(key: &[u8]) -> Vec<u8> {
    let uk = user_key(key);
    if let Some(i) = uk.iter().position(|&b| b != 0xff) {
        let mut succ = uk.get(..=i).unwrap_or_default().to_vec();
        if let Some(last) = succ.last_mut() {
            *last += 1;
        }
        if succ.len() < uk.len() {
            succ.extend_from_slice(&separator_tag());
            return succ;
        }
    }
    key.to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::key::internal_key;
    use std::sync::Mutex;

    fn ik(k: &[u8], seq: u64) -> Vec<u8> {
        internal_key(k, seq, ValueKind::Value)
    }

    #[test]
    fn separators_follow_leveldb() {
        let max = |k: &[u8]| internal_key(k, MAX_SEQUENCE, ValueKind::Value);
        // Shortened: "the quick brown fox" / "the who" -> "the r".
        assert_eq!(shortest_separator(&ik(b"the quick brown fox", 5), &ik(b"the who", 1)), max(b"the r"));
        assert_eq!(shortest_separator(&ik(b"abc1xyz", 5), &ik(b"abc3", 1)), max(b"abc2"));
        // Unchanged: same user key, prefix, adjacent bytes, 0xff.
        for (a, b) in [(&b"foo"[..], &b"foo"[..]), (b"foo", b"foobar"), (b"abc1", b"abc2"), (b"a\xff", b"b")] {
            assert_eq!(shortest_separator(&ik(a, 100), &ik(b, 50)), ik(a, 100), "{a:?} {b:?}");
        }
        // Would not shrink the key: "a" vs "c" gives "b", same length, so "a" stays.
        assert_eq!(shortest_separator(&ik(b"a", 3), &ik(b"c", 3)), ik(b"a", 3));
        assert_eq!(short_successor(&ik(b"abc", 1)), max(b"b"));
        assert_eq!(short_successor(&ik(b"\xff\xffz", 1)), ik(b"\xff\xffz", 1));
        assert_eq!(short_successor(&ik(b"\xff\x01z", 1)), max(b"\xff\x02"));
        assert_eq!(short_successor(&ik(b"\xff\xff", 1)), ik(b"\xff\xff", 1));
        assert_eq!(short_successor(&ik(b"", 1)), ik(b"", 1));
    }

    struct FailingFile(Mutex<usize>);
    impl WritableFile for FailingFile {
        fn append(&self, _data: &[u8]) -> Result<()> {
            let mut left = self.0.lock().unwrap();
            if *left == 0 {
                return Err(Error::io("append", "/x", std::io::Error::other("disk full")));
            }
            *left -= 1;
            Ok(())
        }
        fn sync(&self) -> Result<()> {
            Ok(())
        }
    }

    #[test]
    fn write_errors_are_sticky() {
        // The first append succeeds and the second fails; blocks reach the file in buffered runs,
        // so the failure surfaces at the add that fills the second run.
        let mut b = TableBuilder::new(
            Arc::new(FailingFile(Mutex::new(1))),
            TableOptions { block_size: 10, compression: false, ..Default::default() },
        );
        let value = [b'v'; 1000];
        let failed_at = (0..1000u32).find(|i| b.add(&ik(format!("{i:05}").as_bytes(), 1), &value).is_err());
        let failed_at = failed_at.expect("an add fails once the second run is appended");
        assert!(failed_at as usize > WRITE_BUFFER / 1000, "the first run was appended");
        assert!(b.add(&ik(b"zz", 1), b"x").is_err());
        assert!(b.finish().is_err());
        assert!(b.finish().is_err());
    }

    #[test]
    fn finish_closes_the_builder() {
        let fs = crate::engine::env::MemFs::new();
        use crate::engine::env::Fs;
        fs.create_dir_all(std::path::Path::new("/d")).unwrap();
        let mut b = TableBuilder::new(fs.create(std::path::Path::new("/d/t")).unwrap(), TableOptions::default());
        assert_eq!(b.num_entries(), 0);
        let size = b.finish().unwrap();
        assert_eq!(size, b.file_size());
        assert_eq!(fs.file_size(std::path::Path::new("/d/t")).unwrap(), size);
        assert!(b.add(&ik(b"a", 1), b"").is_err());
        let mut abandoned =
            TableBuilder::new(fs.create(std::path::Path::new("/d/u")).unwrap(), TableOptions::default());
        abandoned.add(&ik(b"a", 1), b"v").unwrap();
        abandoned.abandon();
        assert!(abandoned.finish().is_err());
        assert_eq!(fs.file_size(std::path::Path::new("/d/u")).unwrap(), 0);
    }
}
