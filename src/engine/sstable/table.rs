//! An open, immutable table file: point reads and a two-level iterator (index block, then data
//! blocks) over its entries.
//!
//! Opening reads the footer, the index block and the metaindex, and the filter block when the
//! metaindex names ours; those stay in memory for the table's life and their checksums are always
//! verified. Data blocks are read on demand, checksummed when the table was opened with
//! `verify_checksums`, and shared through the optional [`BlockCache`]. Every damaged byte or failed
//! read surfaces as an `Err` or an iterator `status`, never as a panic or as wrong data.

use std::sync::Arc;

use crate::engine::env::RandomAccessFile;
use crate::engine::error::{Error, Result};
use crate::engine::iter::InternalIterator;
use crate::engine::key::{compare_internal, parse_internal_key, user_key, ValueKind};
use crate::engine::sstable::block::{bytewise, Block, BlockIter};
use crate::engine::sstable::bloom::BloomFilterPolicy;
use crate::engine::sstable::cache::BlockCache;
use crate::engine::sstable::filter_block::{filter_meta_key, FilterBlockReader, WHOLE_FILTER_META_KEY};
use crate::engine::sstable::format::{read_block, read_block_ahead, read_block_into, read_footer, BlockHandle};

/// Bytes a sequential reader reads at once: 64 blocks of 4 KiB.
pub const READAHEAD: usize = 256 * 1024;

/// An open table, shared by reads on any thread.
pub struct Table {
    file: Arc<dyn RandomAccessFile>,
    file_number: u64,
    cache: Option<Arc<BlockCache>>,
    cache_id: u64,
    verify_checksums: bool,
    index: Arc<Block>,
    filter: Option<FilterBlockReader>,
    /// The whole-table filter of a table todb wrote (see `WHOLE_FILTER_META_KEY`): a key it
    /// rules out costs no index search. Tables LevelDB wrote have none.
    whole_filter: Option<Vec<u8>>,
    metaindex_handle: BlockHandle,
}

/// What a point read found in one table.
pub enum PointRead {
    /// The bloom filter ruled the key out; no data block was read.
    Filtered,
    /// The data block that could hold the key was read, and does not.
    Absent,
    /// The key's newest entry at or before the lookup's sequence.
    Found(ValueKind, Vec<u8>),
}

enum PointSeek {
    Filtered,
    Absent,
    At(BlockIter),
}

/// Names the table in a corruption message so the damaged file can be found.
fn in_table(file_number: u64) -> impl Fn(Error) -> Error {
    move |e| match e {
        Error::Corruption(reason) => Error::Corruption(format!("table {file_number:06}: {reason}")),
        other => other,
    }
}

fn read_meta_block(file: &dyn RandomAccessFile, handle: &BlockHandle) -> Result<Block> {
    Block::new(read_block(file, handle, true)?, handle.offset)
}

impl Table {
    /// Opens the table in `file`. `file_number` only names the table in error messages; `cache`,
    /// if given, holds its data blocks under an id fresh to this open. `verify_checksums` applies
    /// to data blocks; the index, metaindex and filter blocks are always verified. A filter is
    /// used only if the metaindex names "filter.leveldb.BuiltinBloomFilter2".
    pub fn open(
        file: Arc<dyn RandomAccessFile>,
        file_number: u64,
        cache: Option<Arc<BlockCache>>,
        verify_checksums: bool,
    ) -> Result<Arc<Table>> {
        let ctx = in_table(file_number);
        let footer = read_footer(&*file).map_err(&ctx)?;
        let index = Arc::new(read_meta_block(&*file, &footer.index).map_err(&ctx)?);
        let (filter, whole_filter) = Self::read_filters(&*file, &footer.metaindex).map_err(&ctx)?;
        let cache_id = cache.as_ref().map_or(0, |c| c.new_id());
        Ok(Arc::new(Table {
            file,
            file_number,
            cache,
            cache_id,
            verify_checksums,
            index,
            filter,
            whole_filter,
            metaindex_handle: footer.metaindex,
        }))
    }

    /// The per-block filter and the whole-table filter the metaindex names, each if it does.
    /// The whole-table filter is used only beside a per-block one: it is todb's addition to
    /// tables that LevelDB readers consult through the per-block filter.
    fn read_filters(
        file: &dyn RandomAccessFile,
        metaindex: &BlockHandle,
    ) -> Result<(Option<FilterBlockReader>, Option<Vec<u8>>)> {
        let meta = Arc::new(read_meta_block(file, metaindex)?);
        let policy = BloomFilterPolicy::default();
        let Some(data) = Self::read_named(file, &meta, metaindex, &filter_meta_key(&policy))? else {
            return Ok((None, None));
        };
        let handle_offset = data.1;
        // The probe count is read from each filter, so the reader's bits-per-key is irrelevant.
        let filter = FilterBlockReader::new(policy, data.0, handle_offset)?;
        let whole = Self::read_named(file, &meta, metaindex, WHOLE_FILTER_META_KEY)?.map(|(bytes, _)| bytes);
        Ok((Some(filter), whole))
    }

    /// The contents and offset of the meta block the metaindex names `key`, if it names it.
    fn read_named(
        file: &dyn RandomAccessFile,
        meta: &Arc<Block>,
        metaindex: &BlockHandle,
        key: &[u8],
    ) -> Result<Option<(Vec<u8>, u64)>> {
        let mut it = meta.iter(bytewise);
        it.seek(key);
        it.status()?;
        if !it.valid() || it.key() != key {
            return Ok(None);
        }
        let (handle, _) = BlockHandle::decode(it.value())
            .ok_or_else(|| Error::corruption(format!("metaindex at offset {}: bad filter handle", metaindex.offset)))?;
        Ok(Some((read_block(file, &handle, true)?, handle.offset)))
    }

    /// The file number given to `open`.
    pub fn file_number(&self) -> u64 {
        self.file_number
    }

    /// True when the table has a bloom filter that point reads consult.
    pub fn has_filter(&self) -> bool {
        self.filter.is_some()
    }

    /// Reads the data block an index entry's value points at, through the cache. A block read
    /// from the file is decoded into `spare`'s memory when it has any.
    fn read_data_block(&self, index_value: &[u8], fill_cache: bool, spare: Vec<u8>) -> Result<Arc<Block>> {
        self.read_data_block_with(index_value, fill_cache, false, spare)
    }

    /// `read_data_block`, failing with `Error::Incomplete` when `memory_only` and the block is
    /// neither cached nor in pages the OS holds.
    fn read_data_block_in(&self, index_value: &[u8], fill_cache: bool, memory_only: bool) -> Result<Arc<Block>> {
        self.read_data_block_with(index_value, fill_cache, memory_only, Vec::new())
    }

    fn read_data_block_with(
        &self,
        index_value: &[u8],
        fill_cache: bool,
        memory_only: bool,
        spare: Vec<u8>,
    ) -> Result<Arc<Block>> {
        self.data_block(index_value, fill_cache, |handle| {
            let buffer = match &self.cache {
                Some(cache) if spare.capacity() == 0 => cache.take_buffer(self.cache_id, handle.offset),
                _ => spare,
            };
            read_block_into(&*self.file, handle, self.verify_checksums, memory_only, buffer)
        })
    }

    /// The data block an index entry's value points at: the cache's if it holds it, else made of
    /// the bytes `read` returns for its handle, and cached if `fill_cache`.
    fn data_block(
        &self,
        index_value: &[u8],
        fill_cache: bool,
        read: impl FnOnce(&BlockHandle) -> Result<Vec<u8>>,
    ) -> Result<Arc<Block>> {
        let ctx = in_table(self.file_number);
        let (handle, _) = BlockHandle::decode(index_value)
            .ok_or_else(|| ctx(Error::corruption("bad block handle in index block")))?;
        if let Some(block) = self.cache.as_ref().and_then(|c| c.get(self.cache_id, handle.offset)) {
            return Ok(block);
        }
        let data = match read(&handle) {
            Err(Error::Incomplete) => return Err(Error::Incomplete),
            other => other.map_err(&ctx)?,
        };
        let block = Arc::new(Block::new(data, handle.offset).map_err(&ctx)?);
        if fill_cache {
            if let Some(cache) = &self.cache {
                cache.insert(self.cache_id, handle.offset, Arc::clone(&block));
            }
        }
        Ok(block)
    }

    /// A cursor at the first entry whose internal key is `>= ikey` within the one data block that
    /// could hold `ikey`'s user key; `Filtered` when the bloom filter rules the user key out (no
    /// block is read), `Absent` when that block has no such entry. `fill_cache` controls whether a
    /// block read from the file is added to the cache.
    fn point_seek(&self, ikey: &[u8], fill_cache: bool, memory_only: bool) -> Result<PointSeek> {
        if let Some(whole) = &self.whole_filter {
            // The probe count is read from the filter, as for the per-block ones.
            if !BloomFilterPolicy::default().key_may_match(user_key(ikey), whole) {
                return Ok(PointSeek::Filtered);
            }
        }
        let mut cursor = self.index.iter(compare_internal);
        cursor.seek_internal(ikey);
        if !cursor.valid() {
            cursor.status().map_err(in_table(self.file_number))?;
            return Ok(PointSeek::Absent);
        }
        let handle = cursor.value();
        if let Some(filter) = &self.filter {
            if let Some((decoded, _)) = BlockHandle::decode(handle) {
                if !filter.key_may_match(decoded.offset, user_key(ikey)) {
                    return Ok(PointSeek::Filtered);
                }
            }
        }
        let block = self.read_data_block_in(handle, fill_cache, memory_only)?;
        let mut it = block.iter(compare_internal);
        it.seek_internal(ikey);
        if it.valid() {
            return Ok(PointSeek::At(it));
        }
        it.status().map_err(in_table(self.file_number))?;
        Ok(PointSeek::Absent)
    }

    /// The first entry whose internal key is `>= ikey` within the one data block that could hold
    /// `ikey`'s user key, as `(internal key, value)` (see `point_seek`). The caller must check that
    /// the returned user key is the one it wants. Point reads use `get_for_user_key`; this form,
    /// which shows the entry found, serves the tests.
    #[cfg(test)]
    pub fn get(&self, ikey: &[u8], fill_cache: bool) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        Ok(match self.point_seek(ikey, fill_cache, false)? {
            PointSeek::At(it) => Some((it.key().to_vec(), it.value().to_vec())),
            PointSeek::Filtered | PointSeek::Absent => None,
        })
    }

    /// The entry of `ikey`'s user key at or after `ikey`: `get` with the user key checked in
    /// place, for point reads. With `memory_only`, a block that would be read from the disk fails
    /// it with `Error::Incomplete`.
    pub fn get_for_user_key(&self, ikey: &[u8], fill_cache: bool, memory_only: bool) -> Result<PointRead> {
        let it = match self.point_seek(ikey, fill_cache, memory_only)? {
            PointSeek::At(it) => it,
            PointSeek::Filtered => return Ok(PointRead::Filtered),
            PointSeek::Absent => return Ok(PointRead::Absent),
        };
        let parsed = parse_internal_key(it.key())
            .ok_or_else(|| in_table(self.file_number)(Error::corruption("bad internal key")))?;
        if parsed.user_key != user_key(ikey) {
            return Ok(PointRead::Absent);
        }
        Ok(PointRead::Found(parsed.kind, it.value().to_vec()))
    }

    /// An iterator over every entry, in internal-key order. Data blocks it reads go into the
    /// cache only if `fill_cache` (bulk scans pass false so as not to evict hot blocks).
    pub fn iter(self: &Arc<Self>, fill_cache: bool) -> TableIterator {
        TableIterator {
            table: Arc::clone(self),
            fill_cache,
            readahead: None,
            spare: Vec::new(),
            index: self.index.iter(compare_internal),
            data: None,
            data_handle: Vec::new(),
            error: None,
        }
    }

    /// An iterator for one pass over the whole table (a compaction input): blocks not in the
    /// cache are read [`READAHEAD`] bytes at a time rather than one system call each, and are
    /// not added to the cache.
    pub fn iter_sequential(self: &Arc<Self>) -> TableIterator {
        TableIterator { readahead: Some((Vec::new(), 0)), ..self.iter(false) }
    }

    /// `read_data_block` for a sequential reader: through the cache if the block is there, else
    /// out of `window` (see `format::read_block_ahead`), decoded into `spare`'s memory.
    fn read_data_block_ahead(
        &self,
        index_value: &[u8],
        window: &mut (Vec<u8>, u64),
        spare: Vec<u8>,
    ) -> Result<Arc<Block>> {
        let (bytes, at) = window;
        self.data_block(index_value, false, |handle| {
            read_block_ahead(&*self.file, handle, self.verify_checksums, bytes, at, READAHEAD, spare)
        })
    }

    /// The approximate file offset where entries for `ikey` would start: the offset of the data
    /// block that would hold it, or the metaindex offset (close to the file size) past the last key.
    pub fn approximate_offset_of(&self, ikey: &[u8]) -> u64 {
        let mut index = self.index.iter(compare_internal);
        index.seek(ikey);
        if index.valid() {
            if let Some((handle, _)) = BlockHandle::decode(index.value()) {
                return handle.offset;
            }
        }
        self.metaindex_handle.offset
    }
}

/// The two-level iterator of a [`Table`]: an index-block cursor chooses the data block, a
/// data-block cursor walks it. Follows the [`InternalIterator`] contract; the first error (a bad
/// handle, a failed read, a damaged block) is sticky and ends iteration.
pub struct TableIterator {
    table: Arc<Table>,
    fill_cache: bool,
    /// For `iter_sequential`: the bytes read ahead and the file offset they start at.
    readahead: Option<(Vec<u8>, u64)>,
    /// The memory of the last block this iterator alone held, for the next block to reuse.
    spare: Vec<u8>,
    index: BlockIter,
    data: Option<BlockIter>,
    /// The index value `data` was loaded from, to reuse it when a seek lands in the same block.
    data_handle: Vec<u8>,
    error: Option<Error>,
}

/// Lets go of a table iterator's current block (`data`), keeping its memory in `spare` when no
/// cache holds it: a block no cache holds is the iterator's alone, and a seek to a random key reads
/// one such block after another, so reusing the memory spares an allocation and a free each time.
/// (Fields rather than the iterator, so that a borrow of its index cursor may stay live.)
fn release_block(data: &mut Option<BlockIter>, spare: &mut Vec<u8>) {
    if let Some(old) = data.take() {
        if let Ok(block) = Arc::try_unwrap(old.into_block()) {
            *spare = block.into_data();
        }
    }
}

impl TableIterator {
    /// Memory for this iterator's uncached block reads: a level iterator moving to the next
    /// table hands over what the last table's iterator held (see `into_spare`).
    pub fn with_spare(mut self, spare: Vec<u8>) -> TableIterator {
        self.spare = spare;
        self
    }

    /// The memory of the block this iterator alone holds, if any, for another to reuse.
    pub fn into_spare(mut self) -> Vec<u8> {
        release_block(&mut self.data, &mut self.spare);
        self.spare
    }

    fn load_data_block(&mut self) {
        if !self.index.valid() {
            self.data = None;
            return;
        }
        let handle = self.index.value();
        if self.data.is_some() && self.data_handle == handle {
            return;
        }
        release_block(&mut self.data, &mut self.spare);
        let spare = std::mem::take(&mut self.spare);
        let read = match self.readahead.as_mut() {
            Some(window) => self.table.read_data_block_ahead(handle, window, spare),
            None => self.table.read_data_block(handle, self.fill_cache, spare),
        };
        match read {
            Ok(block) => {
                self.data_handle.clear();
                self.data_handle.extend_from_slice(handle);
                self.data = Some(block.iter(compare_internal));
            }
            Err(e) => {
                self.error = Some(e);
                self.data = None;
            }
        }
    }

    /// True when positioned, or when iteration has to stop (an error, or the index ran out).
    fn settled(&mut self) -> bool {
        if self.error.is_some() {
            return true;
        }
        let Some(data) = &self.data else { return !self.index.valid() };
        if data.valid() {
            return true;
        }
        if let Err(e) = data.status() {
            self.error = Some(e);
            return true;
        }
        if !self.index.valid() {
            self.data = None;
            return true;
        }
        false
    }

    fn skip_empty_forward(&mut self) {
        while !self.settled() {
            self.index.next();
            self.load_data_block();
            if let Some(d) = self.data.as_mut() {
                d.seek_to_first();
            }
        }
    }

    fn skip_empty_backward(&mut self) {
        while !self.settled() {
            // The index cursor moves backward from any position (see `BlockIter`).
            self.index.prev();
            self.load_data_block();
            if let Some(d) = self.data.as_mut() {
                d.seek_to_last();
            }
        }
    }

    fn position_index(&mut self, place: impl FnOnce(&mut BlockIter)) -> bool {
        if self.error.is_some() {
            return false;
        }
        place(&mut self.index);
        self.load_data_block();
        self.data.is_some()
    }
}

impl InternalIterator for TableIterator {
    fn valid(&self) -> bool {
        self.error.is_none() && self.data.as_ref().is_some_and(|d| d.valid())
    }

    fn seek_to_first(&mut self) {
        if self.position_index(|i| i.seek_to_first()) {
            if let Some(d) = self.data.as_mut() {
                d.seek_to_first();
            }
        }
        self.skip_empty_forward();
    }

    fn seek_to_last(&mut self) {
        if self.position_index(|i| i.seek_to_last()) {
            if let Some(d) = self.data.as_mut() {
                d.seek_to_last();
            }
        }
        self.skip_empty_backward();
    }

    fn seek(&mut self, target: &[u8]) {
        if self.position_index(|i| i.seek(target)) {
            if let Some(d) = self.data.as_mut() {
                d.seek(target);
            }
        }
        self.skip_empty_forward();
    }

    fn seek_for_prev(&mut self, target: &[u8]) {
        // The first block whose separator is >= target is the last that can hold a key <= target:
        // every key of a later block is above that separator.
        if self.position_index(|i| i.seek(target)) {
            if let Some(d) = self.data.as_mut() {
                d.seek_for_prev(target);
            }
            self.skip_empty_backward();
        } else if self.error.is_none() && self.index.status().is_ok() {
            self.seek_to_last();
        }
    }

    fn next(&mut self) {
        if self.valid() {
            if let Some(d) = self.data.as_mut() {
                d.next();
            }
            self.skip_empty_forward();
        }
    }

    fn prev(&mut self) {
        if self.valid() {
            if let Some(d) = self.data.as_mut() {
                d.prev();
            }
            self.skip_empty_backward();
        }
    }

    fn key(&self) -> &[u8] {
        self.data.as_ref().map_or(&[], |d| d.key())
    }

    fn value(&self) -> &[u8] {
        self.data.as_ref().map_or(&[], |d| d.value())
    }

    fn status(&self) -> Result<()> {
        if let Some(e) = &self.error {
            return Err(e.duplicate());
        }
        let ctx = in_table(self.table.file_number);
        self.index.status().map_err(&ctx)?;
        self.data.as_ref().map_or(Ok(()), |d| d.status().map_err(&ctx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::env::{Fs, MemFs};
    use crate::engine::key::{internal_key, ValueKind};
    use crate::engine::sstable::table_builder::{TableBuilder, TableOptions};
    use crate::engine::sstable::tests::drain_forward;
    use std::path::Path;

    /// A 20-entry table with one entry per data block, written to `/t/a.ldb`; returns its bytes.
    fn tiny_table(fs: &MemFs) -> Vec<u8> {
        fs.create_dir_all(Path::new("/t")).unwrap();
        let opts = TableOptions { block_size: 1, compression: false, ..Default::default() };
        let mut b = TableBuilder::new(fs.create(Path::new("/t/a.ldb")).unwrap(), opts);
        for i in 0..20u8 {
            b.add(&internal_key(&[b'k', i], 1, ValueKind::Value), &[i; 10]).unwrap();
        }
        b.finish().unwrap();
        fs.read_to_end(Path::new("/t/a.ldb")).unwrap()
    }

    fn open(fs: &MemFs, bytes: &[u8], verify: bool) -> Result<Arc<Table>> {
        fs.create(Path::new("/t/b.ldb")).unwrap().append(bytes).unwrap();
        Table::open(fs.open_random(Path::new("/t/b.ldb")).unwrap(), 42, None, verify)
    }

    /// A table of `n` entries in about 4 KiB blocks, compressed or not; returns its bytes.
    fn big_table(fs: &MemFs, n: u32, compression: bool) -> Vec<u8> {
        fs.create_dir_all(Path::new("/t")).unwrap();
        let opts = TableOptions { compression, whole_filter: true, ..Default::default() };
        let mut b = TableBuilder::new(fs.create(Path::new("/t/big.ldb")).unwrap(), opts);
        for i in 0..n {
            let value: Vec<u8> = (0..100u32).map(|j| (i.wrapping_mul(31).wrapping_add(j * j) % 251) as u8).collect();
            b.add(&internal_key(format!("{i:016}").as_bytes(), 1, ValueKind::Value), &value).unwrap();
        }
        b.finish().unwrap();
        fs.read_to_end(Path::new("/t/big.ldb")).unwrap()
    }

    #[test]
    fn sequential_reads_see_what_block_reads_see() {
        for compression in [false, true] {
            let fs = MemFs::new();
            let bytes = big_table(&fs, 10_000, compression);
            // Several read-ahead windows, so blocks straddle a window's end.
            assert!(bytes.len() > 3 * READAHEAD, "{}", bytes.len());
            let table = open(&fs, &bytes, true).unwrap();
            let expected = drain_forward(&mut table.iter(false));
            assert_eq!(expected.len(), 10_000);
            assert_eq!(drain_forward(&mut table.iter_sequential()), expected);
            // A seek backwards in the file reads outside the window and still lands right.
            let mut it = table.iter_sequential();
            drain_forward(&mut it);
            it.seek(&internal_key(b"0000000000000007", 1, ValueKind::Value));
            assert!(it.valid());
            assert_eq!(it.key(), expected[7].0.as_slice());
        }
    }

    #[test]
    fn sequential_reads_check_checksums() {
        let fs = MemFs::new();
        let mut bytes = big_table(&fs, 10_000, true);
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x40;
        let table = open(&fs, &bytes, true).unwrap();
        let mut it = table.iter_sequential();
        let read = drain_forward(&mut it);
        assert!(read.len() < 10_000 && read.len() > 1_000, "{}", read.len());
        assert!(it.status().unwrap_err().is_corruption());
    }

    /// todb's tables carry a whole-table filter; a key it rules out is answered before the index
    /// is searched, so a damaged index cannot even be noticed for it. A present key is never
    /// ruled out. A table without the filter (as LevelDB writes them) reads as before.
    #[test]
    fn the_whole_table_filter_answers_missing_keys_without_the_index() {
        let fs = MemFs::new();
        let bytes = big_table(&fs, 5_000, true);
        let table = open(&fs, &bytes, true).unwrap();
        assert!(table.whole_filter.is_some());
        for i in 0..5_000u32 {
            let ikey = internal_key(format!("{i:016}").as_bytes(), 1, ValueKind::Value);
            assert!(matches!(table.get_for_user_key(&ikey, false, false).unwrap(), PointRead::Found(..)), "{i}");
        }
        // Keys between the table's keys: the per-block filters alone would first search the index.
        let missing: Vec<Vec<u8>> =
            (0..2_000u32).map(|i| internal_key(format!("{i:015}x").as_bytes(), 1, ValueKind::Value)).collect();
        // Without an index, only the whole-table filter can answer.
        let mut blind = open(&fs, &bytes, true).unwrap();
        Arc::get_mut(&mut blind).unwrap().index = Arc::new(Block::new(vec![0, 0, 0, 0], 0).unwrap());
        let filtered = missing.iter().filter(|k| matches!(blind.get_for_user_key(k, false, false), Ok(PointRead::Filtered))).count();
        assert!(filtered > 1_900, "{filtered} of 2000 missing keys ruled out");
        let mut plain = open(&fs, &bytes, true).unwrap();
        Arc::get_mut(&mut plain).unwrap().whole_filter = None;
        for k in &missing {
            assert!(!matches!(plain.get_for_user_key(k, false, false).unwrap(), PointRead::Found(..)));
        }
    }

    #[test]
    fn a_non_table_is_refused_with_the_file_number() {
        let fs = MemFs::new();
        let _ = tiny_table(&fs);
        let err = open(&fs, &[7u8; 100], true).err().unwrap();
        assert!(err.is_corruption() && err.to_string().contains("table 000042"), "{err}");
    }

    #[test]
    fn a_damaged_data_block_stops_iteration_and_fails_get() {
        let fs = MemFs::new();
        let mut bytes = tiny_table(&fs);
        // Entry 5's block: each block is 3 header bytes + 10 key + 10 value + 8 trailer + 5.
        let block = 3 + 10 + 10 + 8 + 5;
        bytes[5 * block + 20] ^= 1;
        let table = open(&fs, &bytes, true).unwrap();
        let mut it = table.iter(false);
        assert_eq!(drain_forward(&mut it).len(), 5);
        assert!(it.status().unwrap_err().to_string().contains(&format!("offset {}", 5 * block)));
        // Sticky: a new seek does not resume past the damage.
        it.seek_to_first();
        assert!(!it.valid() && it.status().is_err());
        assert!(table.get(&internal_key(&[b'k', 5], 1, ValueKind::Value), false).is_err());
        assert!(table.get(&internal_key(&[b'k', 6], 1, ValueKind::Value), false).unwrap().is_some());
        // Unverified, the flipped value byte is not noticed: checksums are what catch data damage.
        let unverified = open(&fs, &bytes, false).unwrap();
        assert!(unverified.get(&internal_key(&[b'k', 5], 1, ValueKind::Value), false).unwrap().is_some());
    }
}
