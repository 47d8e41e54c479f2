//! Placeholder; filled in by the file-system coverage work.
