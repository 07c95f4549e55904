//! `BackupRepo` on `AnyDb`: a consistent copy of the embedded database while it serves
//! (`siaran backup`).

use std::path::Path;

use super::AnyDb;
use crate::db::{Backend, BackupRepo, DbError};

#[async_trait::async_trait]
impl BackupRepo for AnyDb {
    async fn snapshot_into(&self, path: &Path) -> Result<(), DbError> {
        match self.backend {
            // `VACUUM INTO` reads the database in one read transaction, so the copy is the
            // database as it was at one moment, whatever writers do meanwhile (WAL), and it is
            // a compact database of its own, with no WAL file beside it.
            Backend::Sqlite => {
                let path = path
                    .to_str()
                    .ok_or_else(|| anyhow::anyhow!("the backup path is not UTF-8"))?;
                sqlx::query("VACUUM INTO $1")
                    .bind(path)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }
            Backend::Postgres => Err(DbError::Other(anyhow::anyhow!(
                "a PostgreSQL database is backed up with pg_dump (docs/production.md#backups)"
            ))),
        }
    }
}
