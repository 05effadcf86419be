//! A version: the set of live tables at each level at one moment. Versions are immutable and
//! shared; a reader (a get, an iterator) holds the `Arc<Version>` it started with, so tables it
//! reads stay listed for it while flushes and compactions install newer versions.
//!
//! Level 0 tables come straight from memtables and may overlap each other: newer tables (higher
//! file numbers) shadow older ones. Every deeper level is a sorted run of non-overlapping tables.

use std::sync::Arc;

use super::edit::{FileMeta, NUM_LEVELS};
use crate::engine::error::Result;
use crate::engine::iter::{InternalIterator, LevelIterator};
use crate::engine::key::{self, compare_internal, SequenceNumber, ValueKind};
use crate::engine::memtable::Lookup;
use crate::engine::sstable::PointRead;
use crate::engine::table_cache::TableCache;

/// The first table a point read consulted in vain, with its level (see [`Version::get`]).
pub type WastedRead = Option<(usize, Arc<FileMeta>)>;

/// The live tables, per level.
#[derive(Clone, Default)]
pub struct Version {
    /// Level 0 newest first; deeper levels sorted by smallest key.
    pub files: [Vec<Arc<FileMeta>>; NUM_LEVELS],
}

fn contains_user_key(f: &FileMeta, user_key: &[u8]) -> bool {
    key::user_key(&f.smallest) <= user_key && user_key <= key::user_key(&f.largest)
}

impl Version {
    /// A version of `levels`, put in the order readers rely on.
    pub fn new(mut files: [Vec<Arc<FileMeta>>; NUM_LEVELS]) -> Version {
        files[0].sort_by_key(|f| std::cmp::Reverse(f.number));
        for level in files.iter_mut().skip(1) {
            level.sort_by(|a, b| compare_internal(&a.smallest, &b.smallest));
        }
        Version { files }
    }

    /// The newest version of `user_key` visible at `seq` held in the tables, and, when more than
    /// one table had to read a data block, the first of them with its level: a read that table
    /// cost in vain, which LevelDB charges against the table's seek budget. Unlike LevelDB, a
    /// table whose bloom filter ruled the key out is not charged: it cost no read, and charging it
    /// made plain random reads trigger compactions that save nothing.
    pub fn get(
        &self,
        tables: &TableCache,
        user_key: &[u8],
        seq: SequenceNumber,
        fill_cache: bool,
        memory_only: bool,
    ) -> Result<(Lookup, WastedRead)> {
        let target = key::lookup_key(user_key, seq);
        let mut first_read: Option<(usize, &Arc<FileMeta>)> = None;
        let mut reads = 0;
        let wasted = |reads: usize, first: Option<(usize, &Arc<FileMeta>)>| {
            first.filter(|_| reads > 1).map(|(level, file)| (level, Arc::clone(file)))
        };
        for (level, files) in self.files.iter().enumerate() {
            // Level 0: every table whose range holds the key, newest first. Deeper levels: the one
            // table whose range could.
            let candidates: &[Arc<FileMeta>] = if level == 0 {
                files
            } else {
                let i = files.partition_point(|f| compare_internal(&f.largest, &target).is_lt());
                match files.get(i) {
                    Some(f) if key::user_key(&f.smallest) <= user_key => files.get(i..=i).unwrap_or(&[]),
                    _ => &[],
                }
            };
            for file in candidates {
                if level == 0 && !contains_user_key(file, user_key) {
                    continue;
                }
                let table = match (memory_only, tables.open_table(file.number)) {
                    (_, Some(table)) => table,
                    (true, None) => return Err(crate::engine::error::Error::Incomplete),
                    (false, None) => tables.table(file.number)?,
                };
                let found = match table.get_for_user_key(&target, fill_cache, memory_only)? {
                    PointRead::Filtered => continue,
                    PointRead::Absent => None,
                    PointRead::Found(ValueKind::Value, value) => Some(Lookup::Found(value)),
                    PointRead::Found(ValueKind::Deletion, _) => Some(Lookup::Deleted),
                };
                reads += 1;
                first_read.get_or_insert((level, file));
                if let Some(found) = found {
                    return Ok((found, wasted(reads, first_read)));
                }
            }
        }
        Ok((Lookup::Missing, wasted(reads, first_read)))
    }

    /// Appends iterators over every table: one per level-0 table, one concatenating iterator per
    /// deeper level.
    pub fn add_iterators(&self, tables: &Arc<TableCache>, fill_cache: bool, out: &mut Vec<Box<dyn InternalIterator>>) {
        for file in &self.files[0] {
            out.push(Box::new(LevelIterator::new(tables.clone(), vec![file.clone()], fill_cache)));
        }
        for files in self.files.iter().skip(1).filter(|f| !f.is_empty()) {
            out.push(Box::new(LevelIterator::new(tables.clone(), files.clone(), fill_cache)));
        }
    }

    /// Tables of `level` whose user-key range meets `[smallest, largest]` (either end open).
    /// For level 0 the range grows to cover every overlapping table, transitively, as LevelDB does.
    pub fn overlapping(&self, level: usize, smallest: Option<&[u8]>, largest: Option<&[u8]>) -> Vec<Arc<FileMeta>> {
        let mut lo = smallest.map(<[u8]>::to_vec);
        let mut hi = largest.map(<[u8]>::to_vec);
        loop {
            let mut out = Vec::new();
            let mut grew = false;
            for f in &self.files[level] {
                let (fs, fl) = (key::user_key(&f.smallest), key::user_key(&f.largest));
                if lo.as_deref().is_some_and(|l| fl < l) || hi.as_deref().is_some_and(|h| fs > h) {
                    continue;
                }
                if level == 0 {
                    if lo.as_deref().is_some_and(|l| fs < l) {
                        lo = Some(fs.to_vec());
                        grew = true;
                    }
                    if hi.as_deref().is_some_and(|h| fl > h) {
                        hi = Some(fl.to_vec());
                        grew = true;
                    }
                }
                out.push(f.clone());
            }
            if !grew {
                return out;
            }
        }
    }

    /// Approximate bytes of table data for user keys in `[start, end)`: whole tables below the
    /// range's ends, plus the offset of each end within the tables that straddle it.
    pub fn approximate_size(&self, tables: &TableCache, start: &[u8], end: &[u8]) -> Result<u64> {
        let offset = |user_key: &[u8]| -> Result<u64> {
            let target = key::lookup_key(user_key, key::MAX_SEQUENCE);
            let mut total = 0;
            for files in &self.files {
                for f in files {
                    if compare_internal(&f.largest, &target).is_le() {
                        total += f.size;
                    } else if compare_internal(&f.smallest, &target).is_lt() {
                        total += tables.table(f.number)?.approximate_offset_of(&target);
                    }
                }
            }
            Ok(total)
        };
        Ok(offset(end)?.saturating_sub(offset(start)?))
    }

    /// Total bytes of the tables at `level`.
    pub fn level_bytes(&self, level: usize) -> u64 {
        self.files[level].iter().map(|f| f.size).sum()
    }

    /// True when no table deeper than `level` may hold `user_key`: a deletion of it compacted into
    /// `level` can then be dropped.
    pub fn is_base_level_for(&self, level: usize, user_key: &[u8]) -> bool {
        self.files.iter().skip(level + 1).all(|files| !files.iter().any(|f| contains_user_key(f, user_key)))
    }
}
