//! The names of the files in a database directory, exactly as LevelDB names them, so that a
//! directory moves between todb and LevelDB (classic-level) unchanged:
//! `NNNNNN.log` (write-ahead logs), `NNNNNN.ldb` (tables; `.sst` is read too), `MANIFEST-NNNNNN`
//! (version edits), `CURRENT` (the name of the live MANIFEST), `LOCK`, `NNNNNN.dbtmp` (a file being
//! written before its rename), and `LOG`/`LOG.old` (LevelDB's info log, which todb leaves alone).

use std::path::{Path, PathBuf};

/// What a file in the directory is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A write-ahead log.
    Log,
    /// A table (`.ldb` or `.sst`).
    Table,
    /// A MANIFEST.
    Descriptor,
    /// `CURRENT`.
    Current,
    /// `LOCK`.
    Lock,
    /// A temporary file.
    Temp,
    /// LevelDB's text info log.
    InfoLog,
}

/// `dir/NNNNNN.log`.
pub fn log_file(dir: &Path, number: u64) -> PathBuf {
    dir.join(format!("{number:06}.log"))
}

/// `dir/NNNNNN.ldb`, the name todb writes tables under.
pub fn table_file(dir: &Path, number: u64) -> PathBuf {
    dir.join(format!("{number:06}.ldb"))
}

/// `dir/NNNNNN.sst`, the older table name LevelDB still reads.
pub fn sst_table_file(dir: &Path, number: u64) -> PathBuf {
    dir.join(format!("{number:06}.sst"))
}

/// `dir/MANIFEST-NNNNNN`.
pub fn descriptor_file(dir: &Path, number: u64) -> PathBuf {
    dir.join(format!("MANIFEST-{number:06}"))
}

/// `dir/CURRENT`.
pub fn current_file(dir: &Path) -> PathBuf {
    dir.join("CURRENT")
}

/// `dir/LOCK`.
pub fn lock_file(dir: &Path) -> PathBuf {
    dir.join("LOCK")
}

/// `dir/NNNNNN.dbtmp`.
pub fn temp_file(dir: &Path, number: u64) -> PathBuf {
    dir.join(format!("{number:06}.dbtmp"))
}

/// Recognises a directory entry. Returns `None` for names that are not the database's.
pub fn parse_file_name(name: &str) -> Option<(FileKind, u64)> {
    match name {
        "CURRENT" => return Some((FileKind::Current, 0)),
        "LOCK" => return Some((FileKind::Lock, 0)),
        "LOG" | "LOG.old" => return Some((FileKind::InfoLog, 0)),
        _ => {}
    }
    if let Some(rest) = name.strip_prefix("MANIFEST-") {
        return parse_number(rest).map(|n| (FileKind::Descriptor, n));
    }
    let (stem, ext) = name.split_once('.')?;
    let number = parse_number(stem)?;
    let kind = match ext {
        "log" => FileKind::Log,
        "ldb" | "sst" => FileKind::Table,
        "dbtmp" => FileKind::Temp,
        _ => return None,
    };
    Some((kind, number))
}

fn parse_number(digits: &str) -> Option<u64> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        let dir = Path::new("/db");
        assert_eq!(log_file(dir, 7), PathBuf::from("/db/000007.log"));
        assert_eq!(table_file(dir, 1234567), PathBuf::from("/db/1234567.ldb"));
        assert_eq!(descriptor_file(dir, 2), PathBuf::from("/db/MANIFEST-000002"));
        assert_eq!(parse_file_name("000007.log"), Some((FileKind::Log, 7)));
        assert_eq!(parse_file_name("000009.ldb"), Some((FileKind::Table, 9)));
        assert_eq!(parse_file_name("000009.sst"), Some((FileKind::Table, 9)));
        assert_eq!(parse_file_name("MANIFEST-000002"), Some((FileKind::Descriptor, 2)));
        assert_eq!(parse_file_name("CURRENT"), Some((FileKind::Current, 0)));
        assert_eq!(parse_file_name("000003.dbtmp"), Some((FileKind::Temp, 3)));
    }

    #[test]
    fn foreign_names_are_ignored() {
        for name in ["", "foo", "MANIFEST-", "MANIFEST-x1", ".log", "12a.log", "000001.txt", "CURRENT.bak"] {
            assert_eq!(parse_file_name(name), None, "{name}");
        }
    }
}
