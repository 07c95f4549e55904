//! Search upkeep: making transcripts stored before search existed searchable. Queries
//! themselves are `db`'s (`Db::search`) on `domain::search` values.

use super::Ctx;

/// Makes transcripts recorded before search existed searchable: each is read from the store,
/// parsed and indexed. Run in the background at start-up; a failure is logged, never fatal (the
/// transcript stays served, only not found by search), and the next start tries again.
pub async fn index_stored_transcripts(ctx: &Ctx) {
    use futures_util::TryStreamExt as _;
    let files = match ctx.db.unindexed_transcripts().await {
        Ok(files) => files,
        Err(e) => {
            tracing::warn!(error = %e, "cannot list transcripts to index for search");
            return;
        }
    };
    let mut done = 0_usize;
    for file in &files {
        let result = async {
            let chunks: Vec<bytes::Bytes> =
                ctx.store.get(&file.key, None).await?.try_collect().await?;
            let parsed = crate::domain::transcript::parse(&chunks.concat())
                .map_err(|m| anyhow::anyhow!(m.en))?;
            Ok::<_, anyhow::Error>(ctx.db.reindex_transcript(file, &parsed.cues).await?)
        }
        .await;
        match result {
            Ok(true) => done += 1,
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(episode = %file.episode_id, error = %e, "transcript not indexed for search")
            }
        }
    }
    if done > 0 {
        tracing::info!(transcripts = done, "transcripts indexed for search");
    }
}
