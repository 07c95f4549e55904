//! Building a show's RSS document (placeholder; see the feed task).
