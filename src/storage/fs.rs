//! Filesystem object store (placeholder; see the storage task).
