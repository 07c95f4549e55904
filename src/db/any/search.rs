//! The SQL of full-text search, one dialect per backend (see `migrations/*/0009_search.sql`):
//! FTS5 on SQLite, tsvector on PostgreSQL, answering the same `SearchResults` in the same order
//! (ranked by where the terms are found, not by bm25 or ts_rank): `SearchRepo` on `AnyDb`,
//! and the one place besides the feed's rows (`feed.rs`) where the SQL branches on `Backend`.
//!
//! A search runs in three steps on both backends:
//! 1. episodes: those whose title or description, whole transcript (one index row per
//!    transcript), or a discussed document's title or number holds every term; public ones only
//!    (published, not withdrawn, not scheduled), filtered, ranked, the first `limit`;
//! 2. moments: for each of those with a transcript match, the cues holding every term, found
//!    within that episode's cues only (on SQLite a rowid range of the cue index, on PostgreSQL
//!    the (episode_id, …) index with a stored tsvector), so a common word never makes the search
//!    visit every cue in the archive;
//! 3. documents: those whose title or number holds every term.

use std::collections::{HashMap, hash_map::Entry};

use chrono::{DateTime, Utc};
use sqlx::{Any, AnyPool, AssertSqlSafe, Transaction, any::AnyRow};

use super::{
    AnyDb, Writer,
    episode_files::put_file,
    rows::{
        DOCUMENT_COLUMNS, EPISODE_COLUMNS, document_from, episode_file_from, episode_from, get,
        parse,
    },
};
use crate::db::{Backend, DbError, SearchRepo};
use crate::domain::{
    EpisodeFile, EpisodeId, Lang, Slug,
    search::{
        DocumentHit, EpisodeHit, MAX_MOMENTS, MatchedIn, Moment, SearchQuery, SearchResults,
        spanning_moments,
    },
    transcript::Cue,
};

/// Cues per INSERT: 5 parameters each, well under SQLite's 32,766 and PostgreSQL's 65,535.
const CUES_PER_INSERT: usize = 200;
/// PostgreSQL refuses a tsvector over 1 MB; a transcript's text is cut before that (a two-hour
/// briefing is about 100 KB).
const MAX_INDEXED_TEXT: usize = 900_000;

/// Writes the search rows of a transcript just recorded in `tx` (its `episode_files` row exists;
/// rows of the transcript it replaced left with that row).
async fn index_transcript(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    episode: EpisodeId,
    language: &Lang,
    cues: &[Cue],
) -> Result<(), DbError> {
    let episode = episode.to_string();
    let texts: Vec<String> = cues
        .iter()
        .map(|c| crate::domain::transcript::plain_text(&c.text))
        .collect();
    for (chunk, texts) in cues
        .chunks(CUES_PER_INSERT)
        .zip(texts.chunks(CUES_PER_INSERT))
    {
        let mut sql = String::from(
            "INSERT INTO transcript_cues (episode_id, language, start_ms, end_ms, text) VALUES ",
        );
        for i in 0..chunk.len() {
            let n = i * 5;
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${})",
                n + 1,
                n + 2,
                n + 3,
                n + 4,
                n + 5
            ));
        }
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for (cue, text) in chunk.iter().zip(texts) {
            query = query
                .bind(episode.clone())
                .bind(language.as_str().to_owned())
                .bind(i64::try_from(cue.start_ms).unwrap_or(i64::MAX))
                .bind(i64::try_from(cue.end_ms).unwrap_or(i64::MAX))
                .bind(text.clone());
        }
        query.execute(&mut **tx).await?;
    }
    let mut whole = texts.join("\n");
    if whole.len() > MAX_INDEXED_TEXT {
        let mut cut = MAX_INDEXED_TEXT;
        while !whole.is_char_boundary(cut) {
            cut -= 1;
        }
        whole.truncate(cut);
    }
    match backend {
        Backend::Sqlite => {
            let row = sqlx::query(
                "INSERT INTO transcript_search (episode_id, language) VALUES ($1, $2) RETURNING id",
            )
            .bind(&episode)
            .bind(language.as_str())
            .fetch_all(&mut **tx)
            .await?
            .into_iter()
            .next()
            .ok_or(DbError::NotFound)?;
            sqlx::query("INSERT INTO transcripts_fts (rowid, text) VALUES ($1, $2)")
                .bind(get::<i64>(&row, "id")?)
                .bind(whole)
                .execute(&mut **tx)
                .await?;
        }
        Backend::Postgres => {
            sqlx::query(
                "INSERT INTO transcript_search (episode_id, language, search) \
                 VALUES ($1, $2, siaran_tsv($3))",
            )
            .bind(&episode)
            .bind(language.as_str())
            .bind(whole)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

#[async_trait::async_trait]
impl SearchRepo for AnyDb {
    #[tracing::instrument(skip_all, fields(episode = %file.episode_id, cues = cues.len()))]
    async fn put_transcript(
        &self,
        file: &EpisodeFile,
        cues: &[Cue],
    ) -> Result<Option<EpisodeFile>, DbError> {
        let language = file
            .language
            .as_ref()
            .ok_or_else(|| DbError::Other(anyhow::anyhow!("a transcript has no language")))?;
        let mut w = Writer::acquire(&self.pool, self.backend).await?;
        let mut tx = w.begin().await?;
        let old = put_file(&mut tx, file).await?;
        index_transcript(&mut tx, self.backend, file.episode_id, language, cues).await?;
        tx.commit().await?;
        w.committed();
        Ok(old)
    }

    /// Transcripts recorded before search existed (or whose indexing failed): they are read again
    /// from the store and indexed at start-up.
    #[tracing::instrument(skip_all)]
    async fn unindexed_transcripts(&self) -> Result<Vec<EpisodeFile>, DbError> {
        sqlx::query(
            "SELECT f.* FROM episode_files f WHERE f.kind = 'transcript' AND NOT EXISTS \
             (SELECT 1 FROM transcript_search t WHERE t.episode_id = f.episode_id \
             AND t.language = f.language)",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(episode_file_from)
        .collect()
    }

    /// Indexes `file`'s cues unless the file was replaced or indexed meanwhile; false then.
    #[tracing::instrument(skip_all, fields(episode = %file.episode_id))]
    async fn reindex_transcript(&self, file: &EpisodeFile, cues: &[Cue]) -> Result<bool, DbError> {
        let Some(language) = &file.language else {
            return Ok(false);
        };
        let backend = self.backend;
        let mut w = Writer::acquire(&self.pool, backend).await?;
        let mut tx = w.begin().await?;
        // The row is locked on PostgreSQL (SQLite has one writer): a replacement waits for this.
        let current = match backend {
            Backend::Sqlite => {
                "SELECT storage_key FROM episode_files WHERE episode_id = $1 \
                                AND kind = 'transcript' AND language = $2"
            }
            Backend::Postgres => {
                "SELECT storage_key FROM episode_files WHERE episode_id = $1 \
                                  AND kind = 'transcript' AND language = $2 FOR UPDATE"
            }
        };
        let row = sqlx::query(current)
            .bind(file.episode_id.to_string())
            .bind(language.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        let same = match row {
            Some(row) => get::<String>(&row, "storage_key")? == file.key.as_str(),
            None => false,
        };
        let indexed = sqlx::query(
            "SELECT COUNT(*) AS n FROM transcript_search WHERE episode_id = $1 AND language = $2",
        )
        .bind(file.episode_id.to_string())
        .bind(language.as_str())
        .fetch_one(&mut *tx)
        .await?;
        if !same || get::<i64>(&indexed, "n")? > 0 {
            return Ok(false);
        }
        index_transcript(&mut tx, backend, file.episode_id, language, cues).await?;
        tx.commit().await?;
        w.committed();
        Ok(true)
    }

    #[tracing::instrument(skip_all, fields(terms = query.terms.len()))]
    async fn search(
        &self,
        query: &SearchQuery,
        now: DateTime<Utc>,
    ) -> Result<SearchResults, DbError> {
        let (pool, backend) = (&self.pool, self.backend);
        let (from, until) = query.window(now);
        let show = query.show.as_ref().map_or("", Slug::as_str);
        let kind = query.kind.map_or("", |k| k.as_str());
        let limit = i64::from(query.limit);

        // Where the words are found ranks an episode: every term in the title 5, in the title
        // and description together 2, in the transcript 1, in a discussed document's title or
        // number 1, summed; then the newest first. The same integers on both backends, so both
        // give the same order (bm25 and ts_rank never agree, and scoring a common word's 10,000
        // transcripts by frequency took 80 ms on SQLite and seconds on PostgreSQL).
        let hits = match backend {
            // CROSS JOIN keeps each FTS table the outer loop: with a plain JOIN the planner may
            // scan the row table and probe the index once per row.
            Backend::Sqlite => "SELECT k.episode_id AS episode_id, 2 AS score, 1 AS in_episode, \
                 0 AS in_transcript, 0 AS in_document \
                 FROM episodes_fts CROSS JOIN episode_search_rows k ON k.n = episodes_fts.rowid \
                 WHERE episodes_fts MATCH $6 \
                 UNION ALL \
                 SELECT k.episode_id, 3, 0, 0, 0 \
                 FROM episodes_fts CROSS JOIN episode_search_rows k ON k.n = episodes_fts.rowid \
                 WHERE episodes_fts MATCH $7 \
                 UNION ALL \
                 SELECT DISTINCT t.episode_id, 0, 0, 1, 0 \
                 FROM transcripts_fts CROSS JOIN transcript_search t \
                 ON t.id = transcripts_fts.rowid \
                 WHERE transcripts_fts MATCH $6 \
                 UNION ALL \
                 SELECT DISTINCT l.episode_id, 1, 0, 0, 1 \
                 FROM documents_fts CROSS JOIN document_search_rows k \
                 ON k.n = documents_fts.rowid \
                 CROSS JOIN episode_documents l ON l.document_id = k.document_id \
                 WHERE documents_fts MATCH $6"
                .to_owned(),
            Backend::Postgres => {
                let q = pg_tsquery(query, 6);
                let terms = pg_terms(query, 6);
                format!(
                    "SELECT s.episode_id, CASE WHEN s.title @@ {q} THEN 5 ELSE 2 END AS score, \
                     1 AS in_episode, 0 AS in_transcript, 0 AS in_document \
                     FROM episode_search s WHERE s.body @@ {q} \
                     UNION ALL \
                     SELECT m.episode_id, 0, 0, 1, 0 \
                     FROM siaran_transcript_matches({q}, {terms}) m \
                     UNION ALL \
                     SELECT DISTINCT l.episode_id, 1, 0, 0, 1 \
                     FROM document_search d \
                     JOIN episode_documents l ON l.document_id = d.document_id \
                     WHERE d.body @@ {q}"
                )
            }
        };
        // Ties fall back to the newest, then the id. Ranked and counted on narrow rows (a common
        // word matches every episode: with whole episode rows the count spilled to disk on
        // PostgreSQL), then the page's episodes read in full. The episodes citing a document of
        // the asked kind are found once (IN), not once per match (EXISTS took 48 ms for a common
        // word).
        let sql = format!(
            "WITH hits AS ({hits}), \
             best AS (SELECT episode_id, SUM(score) + MAX(in_transcript) AS score, \
             MAX(in_episode) AS in_episode, \
             MAX(in_transcript) AS in_transcript, MAX(in_document) AS in_document \
             FROM hits GROUP BY episode_id), \
             page AS (SELECT b.episode_id, b.score, b.in_episode, b.in_transcript, b.in_document, \
             e.publish_at, COUNT(*) OVER () AS total \
             FROM best b JOIN episodes e ON e.id = b.episode_id JOIN shows s ON s.id = e.show_id \
             WHERE e.publish_at IS NOT NULL AND e.publish_at >= $1 AND e.publish_at <= $2 \
             AND e.withdrawn_at IS NULL AND ($3 = '' OR s.slug = $3) \
             AND ($4 = '' OR e.id IN (SELECT l.episode_id FROM episode_documents l \
             JOIN documents d ON d.id = l.document_id WHERE d.kind = $4)) \
             ORDER BY b.score DESC, e.publish_at DESC, e.id DESC LIMIT $5) \
             SELECT {EPISODE_COLUMNS}, s.slug AS s_slug, s.title AS s_title, \
             CAST(p.score AS BIGINT) AS b_score, CAST(p.in_episode AS BIGINT) AS b_in_episode, \
             CAST(p.in_transcript AS BIGINT) AS b_in_transcript, \
             CAST(p.in_document AS BIGINT) AS b_in_document, p.total AS total \
             FROM page p JOIN episodes e ON e.id = p.episode_id JOIN shows s ON s.id = e.show_id \
             ORDER BY p.score DESC, p.publish_at DESC, e.id DESC"
        );
        let q = sqlx::query(AssertSqlSafe(sql))
            .bind(from)
            .bind(until)
            .bind(show)
            .bind(kind)
            .bind(limit);
        // On PostgreSQL an unnamed statement, planned for its own values each time: the generic
        // plan of a prepared one (which sqlx's statements get after five runs) expected 50 rows per
        // match and nested the episodes join in a loop over 10,000 rows (20 s).
        let rows = bind_terms(q, backend, query)
            .persistent(backend == Backend::Sqlite)
            .fetch_all(pool)
            .await?;
        let with_transcript: Vec<EpisodeId> = rows
            .iter()
            .filter(|row| get::<i64>(row, "b_in_transcript").is_ok_and(|n| n != 0))
            .map(|row| parse("episode id", &get::<String>(row, "id")?))
            .collect::<Result<_, _>>()?;
        let mut moments = moments(pool, backend, query, &with_transcript).await?;
        let mut total = 0;
        let mut episodes = Vec::with_capacity(rows.len());
        for row in &rows {
            total = u64::try_from(get::<i64>(row, "total")?).unwrap_or_default();
            let episode = episode_from(row)?;
            let matched_in = MatchedIn {
                episode: get::<i64>(row, "b_in_episode")? != 0,
                transcript: get::<i64>(row, "b_in_transcript")? != 0,
                document: get::<i64>(row, "b_in_document")? != 0,
            };
            episodes.push(EpisodeHit {
                episode_id: episode.id,
                show_slug: Slug::parse(&get::<String>(row, "s_slug")?)
                    .map_err(|e| DbError::Other(anyhow::anyhow!("bad slug in database: {e}")))?,
                show_title: get(row, "s_title")?,
                slug: episode.slug,
                title: episode.title,
                description: episode.description,
                publish_at: episode.publish_at.unwrap_or_default(),
                score: get(row, "b_score")?,
                matched_in,
                moments: moments.remove(&episode.id).unwrap_or_default(),
            });
        }

        let documents = documents(pool, backend, query, now).await?;
        Ok(SearchResults {
            total,
            episodes,
            documents,
        })
    }
}

/// `$first`, `$first + 1` ... one per term: where `bind_terms` binds them on PostgreSQL.
fn pg_params(query: &SearchQuery, first: usize) -> impl Iterator<Item = String> {
    (0..query.terms.len()).map(move |i| format!("${}", first + i))
}

/// The tsquery of all terms on PostgreSQL, their parameters numbered from `first`:
/// `(siaran_tsq($6) && siaran_tsq($7) ...)`. Bound by `bind_terms`, after the others.
fn pg_tsquery(query: &SearchQuery, first: usize) -> String {
    let parts: Vec<String> = pg_params(query, first)
        .map(|p| format!("siaran_tsq({p})"))
        .collect();
    format!("({})", parts.join(" && "))
}

/// The terms as a text array on PostgreSQL, for `siaran_transcript_matches`
/// (`migrations/postgres/0014_search_grams.sql`): `ARRAY[$6, $7 ...]`, the same parameters as
/// `pg_tsquery`.
fn pg_terms(query: &SearchQuery, first: usize) -> String {
    format!(
        "ARRAY[{}]::text[]",
        pg_params(query, first).collect::<Vec<_>>().join(", ")
    )
}

fn bind_terms<'q>(
    mut q: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>,
    backend: Backend,
    query: &SearchQuery,
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments> {
    match backend {
        Backend::Sqlite => q.bind(query.fts5()).bind(query.fts5_title()),
        Backend::Postgres => {
            for t in &query.terms {
                q = q.bind(t.text());
            }
            q
        }
    }
}

/// For each of `episodes` (whose transcripts hold every term), the cues holding every term, in
/// time order; when none does (the words run across cues), the cue where they start. Two
/// statements on SQLite and one on PostgreSQL for all the episodes, plus one per episode whose
/// words run across cues.
async fn moments(
    pool: &AnyPool,
    backend: Backend,
    query: &SearchQuery,
    episodes: &[EpisodeId],
) -> Result<HashMap<EpisodeId, Vec<Moment>>, DbError> {
    let mut found: HashMap<EpisodeId, Vec<Moment>> = HashMap::new();
    if episodes.is_empty() {
        return Ok(found);
    }
    let ids: Vec<String> = episodes.iter().map(ToString::to_string).collect();
    let list = |first: usize| {
        (0..ids.len())
            .map(|i| format!("${}", first + i))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let rows = match backend {
        Backend::Sqlite => {
            // A transcript's cues have consecutive ids: FTS5 then reads only that slice of each
            // term's postings, one slice per episode.
            let mut ranges = sqlx::query(AssertSqlSafe(format!(
                "SELECT episode_id, MIN(id) AS lo, MAX(id) AS hi FROM transcript_cues \
                 WHERE episode_id IN ({}) GROUP BY episode_id",
                list(1)
            )));
            for id in &ids {
                ranges = ranges.bind(id.clone());
            }
            let ranges = ranges.fetch_all(pool).await?;
            if ranges.is_empty() {
                return Ok(found);
            }
            let parts: Vec<String> = (0..ranges.len())
                .map(|i| {
                    let n = 2 + i * 3;
                    format!(
                        "SELECT * FROM (SELECT c.episode_id, c.start_ms, c.end_ms, c.language, \
                         c.text FROM transcript_cues_fts f \
                         CROSS JOIN transcript_cues c ON c.id = f.rowid \
                         WHERE transcript_cues_fts MATCH $1 AND f.rowid >= ${} \
                         AND f.rowid <= ${} AND c.episode_id = ${} \
                         ORDER BY c.start_ms, c.id LIMIT {MAX_MOMENTS})",
                        n,
                        n + 1,
                        n + 2
                    )
                })
                .collect();
            let mut q = sqlx::query(AssertSqlSafe(parts.join(" UNION ALL "))).bind(query.fts5());
            for range in &ranges {
                q = q
                    .bind(get::<i64>(range, "lo")?)
                    .bind(get::<i64>(range, "hi")?)
                    .bind(get::<String>(range, "episode_id")?);
            }
            q.fetch_all(pool).await?
        }
        Backend::Postgres => {
            let sql = format!(
                "SELECT episode_id, start_ms, end_ms, language, text FROM \
                 (SELECT c.*, row_number() OVER (PARTITION BY episode_id \
                 ORDER BY start_ms, id) AS k FROM transcript_cues c \
                 WHERE episode_id IN ({}) AND search @@ {}) x \
                 WHERE k <= {MAX_MOMENTS} ORDER BY episode_id, start_ms, id",
                list(1),
                pg_tsquery(query, 1 + ids.len())
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for id in &ids {
                q = q.bind(id.clone());
            }
            bind_terms(q, backend, query).fetch_all(pool).await?
        }
    };
    for row in &rows {
        let episode = parse("episode id", &get::<String>(row, "episode_id")?)?;
        found.entry(episode).or_default().push(moment_from(row)?);
    }
    for &episode in episodes {
        if let Entry::Vacant(slot) = found.entry(episode) {
            slot.insert(spanning(pool, query, episode).await?);
        }
    }
    Ok(found)
}

/// The cues of `episode` where the words run across the end of one cue into the next.
async fn spanning(
    pool: &AnyPool,
    query: &SearchQuery,
    episode: EpisodeId,
) -> Result<Vec<Moment>, DbError> {
    let all = sqlx::query(
        "SELECT start_ms, end_ms, language, text FROM transcript_cues WHERE episode_id = $1 \
         ORDER BY language, start_ms, id",
    )
    .bind(episode.to_string())
    .fetch_all(pool)
    .await?
    .iter()
    .map(moment_from)
    .collect::<Result<Vec<_>, _>>()?;
    let mut spanning = spanning_moments(&query.terms, &all);
    spanning.sort_by_key(|m| m.start_ms);
    Ok(spanning)
}

fn moment_from(row: &AnyRow) -> Result<Moment, DbError> {
    Ok(Moment {
        start_ms: u64::try_from(get::<i64>(row, "start_ms")?).unwrap_or_default(),
        end_ms: u64::try_from(get::<i64>(row, "end_ms")?).unwrap_or_default(),
        language: get(row, "language")?,
        text: get(row, "text")?,
    })
}

/// Documents whose title or number holds every term, of the asked kind; with a show, only those
/// a public briefing of that show discusses.
async fn documents(
    pool: &AnyPool,
    backend: Backend,
    query: &SearchQuery,
    now: DateTime<Utc>,
) -> Result<Vec<DocumentHit>, DbError> {
    // Every term in the title 2, else 1 (the number, or title and number together); then by
    // title. The same on both backends.
    let (score, source) = match backend {
        Backend::Sqlite => (
            "CASE WHEN documents_fts.rowid IN (SELECT rowid FROM documents_fts \
             WHERE documents_fts MATCH $6) THEN 2 ELSE 1 END"
                .to_owned(),
            "documents_fts CROSS JOIN document_search_rows k ON k.n = documents_fts.rowid \
             CROSS JOIN documents d ON d.id = k.document_id WHERE documents_fts MATCH $5"
                .to_owned(),
        ),
        Backend::Postgres => {
            let q = pg_tsquery(query, 5);
            (
                format!("CASE WHEN siaran_tsv(d.title) @@ {q} THEN 2 ELSE 1 END"),
                format!(
                    "document_search x JOIN documents d ON d.id = x.document_id \
                     WHERE x.body @@ {q}"
                ),
            )
        }
    };
    let sql = format!(
        "SELECT {DOCUMENT_COLUMNS}, CAST({score} AS BIGINT) AS score FROM {source} \
         AND ($1 = '' OR d.kind = $1) \
         AND ($2 = '' OR EXISTS (SELECT 1 FROM episode_documents l \
         JOIN episodes e ON e.id = l.episode_id JOIN shows s ON s.id = e.show_id \
         WHERE l.document_id = d.id AND s.slug = $2 AND e.publish_at IS NOT NULL \
         AND e.publish_at <= $3 AND e.withdrawn_at IS NULL)) \
         ORDER BY score DESC, d.title, d.id LIMIT $4"
    );
    let q = sqlx::query(AssertSqlSafe(sql))
        .bind(query.kind.map_or("", |k| k.as_str()))
        .bind(query.show.as_ref().map_or("", Slug::as_str))
        .bind(now.timestamp_millis())
        .bind(i64::from(query.limit));
    bind_terms(q, backend, query)
        .fetch_all(pool)
        .await?
        .iter()
        .map(|row| {
            Ok(DocumentHit {
                document: document_from(row)?,
                score: get(row, "score")?,
            })
        })
        .collect()
}
