//! Small files git keeps (configuration, `HEAD`), parsed once and kept while their inode,
//! modification and change times and size stay the same (git replaces a file it changes,
//! so its inode changes even when the times cannot tell). Files the task cannot change (the system's
//! and the user's configuration, whose writes policy stops) may be re-checked only once
//! per a short time-to-live, which saves a `stat` per decision; the repository's own files
//! are checked every time.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Most files kept per cache.
const MAX_CACHED: usize = 256;
/// Largest file read.
const MAX_FILE: u64 = 1 << 20;

/// How often the system's and the user's configuration are checked for changes.
pub const STABLE_TTL: Duration = Duration::from_secs(1);

/// What a file looked like when it was read (inode, modification and change times in
/// nanoseconds, size), or `None` when it was missing or too large.
type Stamp = Option<(u64, i128, i128, u64)>;

struct Cached<T> {
    stamp: Stamp,
    checked: Instant,
    value: Arc<T>,
}

/// Parsed files by path.
pub struct FileCache<T> {
    files: Mutex<HashMap<PathBuf, Cached<T>>>,
}

impl<T> Default for FileCache<T> {
    fn default() -> Self {
        Self {
            files: Mutex::new(HashMap::new()),
        }
    }
}

fn stamp(path: &Path) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    let ns = |s: i64, n: i64| i128::from(s) * 1_000_000_000 + i128::from(n);
    (meta.is_file() && meta.len() <= MAX_FILE).then(|| {
        (
            meta.ino(),
            ns(meta.mtime(), meta.mtime_nsec()),
            ns(meta.ctime(), meta.ctime_nsec()),
            meta.len(),
        )
    })
}

impl<T: Default> FileCache<T> {
    /// The file at `path` parsed by `parse` (the default value when it cannot be read),
    /// from the cache when it was checked less than `ttl` ago or has not changed.
    pub fn get(&self, path: &Path, ttl: Duration, parse: impl Fn(&str) -> T) -> Arc<T> {
        let now = Instant::now();
        if let Ok(files) = self.files.lock()
            && let Some(hit) = files.get(path)
            && now.duration_since(hit.checked) < ttl
        {
            return hit.value.clone();
        }
        let stamp = stamp(path);
        if let Ok(mut files) = self.files.lock()
            && let Some(hit) = files.get_mut(path)
            && hit.stamp == stamp
        {
            hit.checked = now;
            return hit.value.clone();
        }
        let value = Arc::new(match stamp {
            Some(_) => std::fs::read_to_string(path)
                .map(|t| parse(&t))
                .unwrap_or_default(),
            None => T::default(),
        });
        if let Ok(mut files) = self.files.lock() {
            if files.len() >= MAX_CACHED {
                files.clear();
            }
            files.insert(
                path.to_path_buf(),
                Cached {
                    stamp,
                    checked: now,
                    value: value.clone(),
                },
            );
        }
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_read_again_when_it_changes_unless_its_ttl_holds() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("f");
        let cache: FileCache<String> = FileCache::default();
        let read = |ttl| cache.get(&f, ttl, str::to_owned);
        assert_eq!(*read(Duration::ZERO), "", "missing");
        std::fs::write(&f, "one").unwrap();
        assert_eq!(*read(Duration::ZERO), "one");
        std::fs::write(&f, "three").unwrap();
        assert_eq!(*read(Duration::from_secs(3600)), "one", "within the ttl");
        assert_eq!(*read(Duration::ZERO), "three");
    }
}
