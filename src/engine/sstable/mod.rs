//! Sorted string tables: immutable files of internal-key-ordered entries in LevelDB's table
//! format, so that a classic-level database's `.ldb` files open unchanged and LevelDB can read the
//! tables todb writes. `format` holds the byte-level pieces (handles, footer, block trailers);
//! `block_builder` and `block` write and read the prefix-compressed blocks; `bloom` and
//! `filter_block` the per-table bloom filters; `table_builder` and `table` whole files; `cache`
//! the block cache shared by all open tables.

pub mod block;
pub mod block_builder;
pub mod bloom;
pub mod cache;
pub mod filter_block;
pub mod format;
pub mod table;
pub mod table_builder;

#[cfg(test)]
pub(crate) mod tests;

pub use block::{bytewise, Block, BlockIter, Comparator};
pub use block_builder::BlockBuilder;
pub use bloom::{BloomFilterPolicy, BLOOM_POLICY_NAME};
pub use cache::BlockCache;
pub use filter_block::{FilterBlockBuilder, FilterBlockReader};
pub use format::{read_block, BlockHandle, Footer};
pub use table::{PointRead, Table, TableIterator};
pub use table_builder::{TableBuilder, TableOptions};
