//! LevelDB's named properties (`getProperty` in JavaScript), described from one version's tables,
//! for the writer and for a read-only open alike.

use crate::engine::key;
use crate::engine::version::Version;

/// The property `name` of `version` (`leveldb.num-files-at-levelN`, `leveldb.stats`,
/// `leveldb.sstables`), or `None` for an unknown name. `split_compactions` is the writer's count
/// for `leveldb.stats`; a read-only open runs no compactions and passes `None`.
pub(super) fn property(version: &Version, name: &str, split_compactions: Option<u64>) -> Option<String> {
    if let Some(n) = name.strip_prefix("leveldb.num-files-at-level") {
        return n.parse::<usize>().ok().and_then(|l| version.files.get(l)).map(|f| f.len().to_string());
    }
    match name {
        "leveldb.stats" => {
            let mut out = String::from("Level  Files Size(MB)\n--------------------\n");
            for (level, files) in version.files.iter().enumerate() {
                if !files.is_empty() {
                    out.push_str(&format!(
                        "{level:3} {:8} {:8.1}\n",
                        files.len(),
                        version.level_bytes(level) as f64 / 1048576.0
                    ));
                }
            }
            if let Some(split) = split_compactions {
                out.push_str(&format!("Compactions split across threads: {split}\n"));
            }
            Some(out)
        }
        "leveldb.sstables" => {
            let mut out = String::new();
            for (level, files) in version.files.iter().enumerate() {
                out.push_str(&format!("--- level {level} ---\n"));
                for f in files {
                    let (lo, hi) = (key::user_key(&f.smallest), key::user_key(&f.largest));
                    out.push_str(&format!(
                        " {}:{}[{:?} .. {:?}]\n",
                        f.number,
                        f.size,
                        String::from_utf8_lossy(lo),
                        String::from_utf8_lossy(hi)
                    ));
                }
            }
            Some(out)
        }
        _ => None,
    }
}
