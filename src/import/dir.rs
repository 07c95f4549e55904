//! `siaran import DIR --show SLUG [--manifest FILE.csv]`: a folder of past recordings becomes
//! published episodes of an existing show.
//!
//! Each file's metadata comes from the manifest row naming it, else from its tags (title, date,
//! comment), else from its name (`2023-06-07 Rapat koordinasi.mp3`: date, then title) and its
//! modification date. Files whose SHA-256 is already the recording of one of the show's
//! episodes are skipped, so a run cut short is finished by running it again. A file that is not
//! playable media fails on its own; the others go on.

use std::{
    collections::{HashMap, HashSet},
    path::{Path, PathBuf},
};

use anyhow::{Context as _, bail};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{Progress, Report, parse_date};
use crate::{
    db::DbError,
    domain::{
        EpisodeDraft, EpisodeId, EpisodeMeta, MediaId, Slug,
        file_meta::{self, Given},
    },
    media::{Tags, probe::sha256_file},
    service::{self, Ctx, import_actor},
};

#[derive(Debug, Clone)]
pub struct DirImport {
    pub dir: PathBuf,
    pub show: String,
    pub manifest: Option<PathBuf>,
    /// Draw the progress bar (on a terminal only).
    pub progress: bool,
}

/// One manifest row. Every column but `filename` may be empty.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestRow {
    /// The file's name, or its path relative to the folder.
    pub filename: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// RFC 3339, or `YYYY-MM-DD` (published at noon WIB that day).
    #[serde(default)]
    pub publish_at: Option<String>,
    #[serde(default)]
    pub season: Option<u32>,
    #[serde(default)]
    pub episode: Option<u32>,
}

/// Reads a manifest: a header row (`filename,title,description,publish_at,season,episode`, any
/// order, only `filename` required), then one row per file.
pub fn read_manifest(path: &Path) -> anyhow::Result<HashMap<String, ManifestRow>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .with_context(|| format!("cannot read the manifest {}", path.display()))?;
    let mut rows = HashMap::new();
    for (n, row) in reader.deserialize::<ManifestRow>().enumerate() {
        // Line numbers as an editor shows them: the header is line 1.
        let line = n + 2;
        let mut row = row.with_context(|| format!("manifest {} line {line}", path.display()))?;
        for field in [&mut row.title, &mut row.description, &mut row.publish_at] {
            if field.as_deref().is_some_and(str::is_empty) {
                *field = None;
            }
        }
        if let Some(date) = &row.publish_at
            && parse_date(date).is_none()
        {
            bail!(
                "manifest {} line {line}: publish_at '{date}' is neither RFC 3339 nor YYYY-MM-DD \
                 (years 1900 to 9999)",
                path.display()
            );
        }
        let key = row.filename.replace('\\', "/");
        if key.is_empty() {
            bail!("manifest {} line {line}: filename is empty", path.display());
        }
        if rows.insert(key.clone(), row).is_some() {
            bail!(
                "manifest {} line {line}: {key} is listed twice",
                path.display()
            );
        }
    }
    Ok(rows)
}

/// Imports every file under `opts.dir` (hidden files and the manifest itself aside).
pub async fn import_dir(ctx: &Ctx, opts: &DirImport) -> anyhow::Result<Report> {
    let slug = Slug::parse(&opts.show)
        .map_err(|e| anyhow::anyhow!("--show '{}' is not a show slug: {e}", opts.show))?;
    let show = match ctx.db.show_by_slug(&slug).await {
        Ok(show) => show,
        Err(DbError::NotFound) => bail!(
            "show '{slug}' does not exist: create it first (POST /api/v1/shows), \
             or use `siaran import-feed`, which creates it from the feed"
        ),
        Err(e) => return Err(e.into()),
    };
    let mut manifest = match &opts.manifest {
        Some(path) => read_manifest(path)?,
        None => HashMap::new(),
    };
    let manifest_path = opts
        .manifest
        .as_ref()
        .and_then(|p| std::fs::canonicalize(p).ok());
    let files = list_files(&opts.dir, manifest_path.as_deref())?;

    // What the show has already: the recordings' hashes.
    let mut known: HashSet<String> = HashSet::new();
    for episode in ctx.db.show_episodes(show.id).await? {
        known.insert(ctx.db.media(episode.media_id).await?.info.sha256);
    }

    let total: u64 = files.iter().map(|(_, _, size)| size).sum();
    let mut progress = Progress::new(files.len() as u64, total, opts.progress);
    let mut report = Report::default();
    let actor = import_actor();
    for (path, relative, size) in &files {
        progress.working_on(relative);
        let row = manifest
            .remove(relative)
            .or_else(|| file_name(path).and_then(|name| manifest.remove(&name)));
        let hashed = {
            let path = path.clone();
            tokio::task::spawn_blocking(move || sha256_file(&path)).await?
        };
        let sha256 = match hashed {
            Ok(sha) => sha,
            Err(e) => {
                report.fail(relative, format!("cannot read: {e}"));
                progress.item_done(*size);
                continue;
            }
        };
        if known.contains(&sha256) {
            report.skipped.push(relative.clone());
            progress.item_done(*size);
            continue;
        }
        let media = match service::media::ingest_path(ctx, MediaId::new(), path).await {
            Ok(media) => media,
            Err(e) => {
                report.fail(relative, e);
                progress.item_done(*size);
                continue;
            }
        };
        let meta = metadata(path, row.as_ref(), &media.info.tags);
        let draft = EpisodeDraft {
            id: EpisodeId::new(),
            title: meta.title,
            description: meta.description,
            media,
            publish_at: Some(meta.publish_at),
            slug: None,
            meta: EpisodeMeta {
                season: meta.season,
                episode: meta.episode,
                ..EpisodeMeta::default()
            },
            guid: None,
        };
        let created =
            service::episodes::create(ctx, &actor, &show, draft, Utc::now(), Some(relative)).await;
        match created {
            Ok(_) => {
                known.insert(sha256);
                report.imported.push(relative.clone());
            }
            Err(e) => report.fail(relative, e),
        }
        progress.item_done(*size);
    }
    progress.finish();
    let mut unmatched: Vec<String> = manifest.into_keys().collect();
    unmatched.sort();
    for name in unmatched {
        report.fail(
            name,
            "listed in the manifest, but no such file in the folder",
        );
    }
    Ok(report)
}

fn file_name(path: &Path) -> Option<String> {
    path.file_name().map(|n| n.to_string_lossy().into_owned())
}

/// Every regular file under `dir`, sorted by relative path (with `/`), with its size; hidden
/// files and folders and the manifest are left out.
fn list_files(dir: &Path, manifest: Option<&Path>) -> anyhow::Result<Vec<(PathBuf, String, u64)>> {
    let meta = std::fs::metadata(dir)
        .with_context(|| format!("cannot read the folder {}", dir.display()))?;
    if !meta.is_dir() {
        bail!("{} is not a folder", dir.display());
    }
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder)
            .with_context(|| format!("cannot read the folder {}", folder.display()))?
        {
            let entry = entry?;
            let path = entry.path();
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let kind = entry.file_type()?;
            if kind.is_dir() {
                stack.push(path);
                continue;
            }
            if manifest.is_some_and(|m| std::fs::canonicalize(&path).ok().as_deref() == Some(m)) {
                continue;
            }
            let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            let relative = path
                .strip_prefix(dir)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            out.push((path, relative, size));
        }
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(out)
}

/// An imported file's episode fields.
#[derive(Debug, Clone, PartialEq)]
pub struct FileMeta {
    pub title: String,
    pub description: String,
    pub publish_at: DateTime<Utc>,
    pub season: Option<u32>,
    pub episode: Option<u32>,
}

/// Manifest, else tags, else the file's name (`domain::file_meta::guess`, the rule the studio's
/// "new episode" page pre-fills its form with), else the file's modification date.
pub fn metadata(path: &Path, row: Option<&ManifestRow>, tags: &Tags) -> FileMeta {
    let name = file_name(path).unwrap_or_default();
    let given = row.map_or_else(Given::default, |r| Given {
        title: r.title.as_deref(),
        description: r.description.as_deref(),
        publish_at: r.publish_at.as_deref(),
    });
    let guessed = file_meta::guess(&name, given, tags);
    let publish_at = guessed
        .date
        .or_else(|| {
            let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok()?;
            Some(DateTime::<Utc>::from(modified))
        })
        .unwrap_or_else(Utc::now);
    FileMeta {
        title: guessed.title,
        description: guessed.description,
        publish_at,
        season: row.and_then(|r| r.season),
        episode: row.and_then(|r| r.episode),
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::domain::file_meta::noon_wib;

    #[test]
    fn manifest_wins_over_tags_which_win_over_the_name() {
        let path = Path::new("/nowhere/2023-06-07 Dari nama.mp3");
        let tags = Tags {
            title: Some("Dari tag".into()),
            date: Some("2022-01-02".into()),
            ..Tags::default()
        };
        let row = ManifestRow {
            filename: "2023-06-07 Dari nama.mp3".into(),
            title: Some("Dari manifest".into()),
            publish_at: Some("2021-05-06T07:00:00Z".into()),
            season: Some(2),
            ..ManifestRow::default()
        };
        let m = metadata(path, Some(&row), &tags);
        assert_eq!(m.title, "Dari manifest");
        assert_eq!(m.publish_at.to_rfc3339(), "2021-05-06T07:00:00+00:00");
        assert_eq!(m.season, Some(2));
        let m = metadata(path, None, &tags);
        assert_eq!(m.title, "Dari tag");
        assert_eq!(
            m.publish_at,
            noon_wib(NaiveDate::from_ymd_opt(2022, 1, 2).unwrap())
        );
        let m = metadata(path, None, &Tags::default());
        assert_eq!(m.title, "Dari nama");
        assert_eq!(
            m.publish_at,
            noon_wib(NaiveDate::from_ymd_opt(2023, 6, 7).unwrap())
        );
    }
}
