//! What Siaran stores outside the object store, as one trait per aggregate (as pict-rs splits
//! its repositories: `FullRepo: UploadRepo + AliasRepo + …`), and `Db`, all of them at once.
//!
//! Callers hold `Arc<dyn Db>` and call any method on it without importing these traits; code
//! holding a concrete `AnyDb` imports `crate::db::prelude::*`. This module declares the
//! interface only: no SQL, no row mapping (those are `any/`).

use super::DbError;

mod accounts;
mod catalogue;
mod files;
mod fingerprints;
mod jobs;
mod records;
mod site;
mod uploads;

pub use accounts::*;
pub use catalogue::*;
pub use files::*;
pub use fingerprints::*;
pub use jobs::*;
pub use records::*;
pub use site::*;
pub use uploads::*;

/// Everything Siaran stores outside the object store.
#[async_trait::async_trait]
pub trait Db:
    TokenRepo
    + UserRepo
    + SessionRepo
    + LoginThrottleRepo
    + ShowRepo
    + MediaRepo
    + EpisodeRepo
    + DocumentRepo
    + EpisodeFileRepo
    + UploadRepo
    + AnalyticsRepo
    + AuditRepo
    + StoreWriteRepo
    + BackupRepo
    + SearchRepo
    + JobRepo
    + QualityRepo
    + FingerprintRepo
    + SiteRepo
    + PublicationLogRepo
    + Send
    + Sync
    + std::fmt::Debug
{
    /// A round trip to the database, for health checks.
    async fn ping(&self) -> Result<(), DbError>;

    /// The connection pool's connections, open and idle, for the metrics.
    fn pool_state(&self) -> crate::db::PoolState;
}
