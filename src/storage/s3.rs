//! S3 object store (placeholder; see the storage task).
