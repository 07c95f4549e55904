//! The integration suite: one binary, the real service on a real port, each test on its own
//! database, bucket and folders. Every scenario that touches storage or the database runs on
//! both SQLite + filesystem and PostgreSQL + an S3 protocol server.

mod helpers;
mod s3server;

mod analytics;
mod artwork;
mod auth_and_validation;
mod backup;
mod browser;
mod cluster;
mod connections;
mod crash;
mod db_conformance;
mod delivery;
mod document_files;
mod documents;
mod episode_files;
mod feed;
mod feed_meta;
mod feed_serving;
mod fingerprint;
mod flow;
mod history;
mod import;
mod limits;
mod load;
mod media_errors;
mod metrics;
mod openapi;
mod pages;
mod probe_corpus;
mod quality;
mod reconcile;
mod search;
mod security_headers;
mod site_settings;
mod startup;
mod storage;
mod studio_accounts;
mod studio_editor;
mod studio_files;
mod studio_matrix;
mod studio_pages;
mod studio_review;
mod studio_stats;
mod studio_upload;
mod transparency;
mod upgrade;
mod uploads;
mod verify;

/// Generates one `#[tokio::test]` per backend for an `async fn(Backend)`.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite_fs() {
                super::$name($crate::helpers::Backend::SqliteFs).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres_s3() {
                super::$name($crate::helpers::Backend::PostgresS3).await;
            }
        }
    };
}
