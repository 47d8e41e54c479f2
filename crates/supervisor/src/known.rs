//! Paths that a walk from the root verified for an object, kept by device and inode so that a
//! later check of the same object can skip the walk.

use std::collections::HashMap;
use std::sync::RwLock;

/// Canonical paths of objects, by device and inode, each entered only after a walk from the
/// root without symlinks reached the same device and inode. An entry is used only while the
/// kernel's path text for the object (`/proc/self/fd/N`, `/proc/PID/maps`) is exactly the
/// remembered path. A rename of the object or of a directory above it changes that text, so
/// a match means a new walk would reach the same object again.
/// NOTE: a mount placed over a directory above the object leaves the text unchanged, while a
/// new walk would enter the mount. Only a process outside the sandbox can mount, and the
/// object is then still named by its own path.
pub struct KnownPaths {
    paths: RwLock<Option<HashMap<(u64, u64), Vec<u8>>>>,
    /// Entries kept at most; the map is emptied when it is full.
    max: usize,
}

impl KnownPaths {
    pub const fn new(max: usize) -> KnownPaths {
        KnownPaths { paths: RwLock::new(None), max }
    }

    /// Returns whether `text` is the remembered path of the object `dev`, `ino`.
    pub fn contains(&self, dev: u64, ino: u64, text: &[u8]) -> bool {
        let paths = self.paths.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        paths.as_ref().and_then(|map| map.get(&(dev, ino))).is_some_and(|path| path == text)
    }

    /// Remembers `path` as the verified path of the object `dev`, `ino`. A path that ends in
    /// " (deleted)" is not kept, because the kernel appends that to the text of a deleted object.
    pub fn remember(&self, dev: u64, ino: u64, path: &[u8]) {
        if path.ends_with(b" (deleted)") {
            return;
        }
        let mut paths = self.paths.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        let map = paths.get_or_insert_with(HashMap::new);
        if map.len() >= self.max {
            map.clear();
        }
        map.insert((dev, ino), path.to_vec());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_path_needs_same_text() {
        let known = KnownPaths::new(2);
        known.remember(1, 10, b"/a/b");
        assert!(known.contains(1, 10, b"/a/b"));
        assert!(!known.contains(1, 10, b"/a/c"));
        assert!(!known.contains(1, 11, b"/a/b"));
        assert!(!known.contains(2, 10, b"/a/b"));
    }

    #[test]
    fn deleted_object_not_kept() {
        let known = KnownPaths::new(2);
        known.remember(1, 10, b"/a/b (deleted)");
        assert!(!known.contains(1, 10, b"/a/b (deleted)"));
    }

    #[test]
    fn full_map_starts_over() {
        let known = KnownPaths::new(2);
        known.remember(1, 10, b"/a");
        known.remember(1, 11, b"/b");
        known.remember(1, 12, b"/c");
        assert!(!known.contains(1, 10, b"/a"));
        assert!(!known.contains(1, 11, b"/b"));
        assert!(known.contains(1, 12, b"/c"));
    }
}
