//! `siaran import-feed URL --show SLUG`: an existing podcast moves to Siaran.
//!
//! Every item of the public RSS feed becomes an episode: its media downloaded (streamed through
//! the ingest pipeline, probed like any upload), its title, description and date kept, and its
//! `<guid>` kept exactly — value and `isPermaLink` — so podcast apps that move to the new feed
//! see the episodes they know, not duplicates. `podcast:transcript` (WebVTT, SRT) and
//! `podcast:chapters` (JSON) come along when present and valid. A show that does not exist yet
//! is created from the channel, with its cover when the cover passes Apple's rules.
//!
//! Items whose guid the show already has are skipped: running the import again after an
//! interruption brings in the rest.

use std::collections::HashSet;

use anyhow::{Context as _, bail};
use chrono::{DateTime, Utc};
use url::Url;

use super::{Progress, Report, fetch::Fetcher, html_to_text, looks_like_html};
use crate::{
    db::DbError,
    domain::{
        EpisodeDraft, EpisodeId, EpisodeMeta, EpisodeType, Lang, NewShow, Show, ShowMeta, ShowType,
        Slug, category::category_is_known,
    },
    service::{
        self, Ctx,
        episode_files::{MAX_CHAPTERS_BYTES, MAX_TRANSCRIPT_BYTES, set_chapters, set_transcript},
        import_actor,
        shows::COVER_MAX_BYTES,
    },
};

/// A feed larger than this is not a podcast feed (the largest public ones are a few MiB).
pub const MAX_FEED_BYTES: u64 = 20 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct FeedImport {
    pub url: Url,
    pub show: String,
    /// Fetch from private, loopback and link-local addresses too (a feed on the local network,
    /// a test's server).
    pub allow_private: bool,
    /// The largest media file downloaded (`SIARAN_MAX_UPLOAD_BYTES`).
    pub max_media_bytes: u64,
    /// The owner's e-mail for a show created from a feed that names none.
    pub email: Option<String>,
    pub progress: bool,
}

#[derive(Debug, Clone)]
pub struct FeedReport {
    pub report: Report,
    /// Whether the show was created from the channel.
    pub show_created: bool,
    /// The feed that was read (after redirects).
    pub old_feed_url: String,
    /// The show's feed on Siaran.
    pub new_feed_url: String,
}

impl FeedReport {
    /// How to move the old feed's subscribers: `itunes:new-feed-url` and a 301.
    pub fn instructions(&self) -> String {
        format!(
            "New feed: {new}\n\
             To move the subscribers of the old feed without duplicates:\n  \
             1. in the old feed's <channel>, add \
             <itunes:new-feed-url>{new}</itunes:new-feed-url> and keep serving it for a few \
             weeks, so that apps update their subscription;\n  \
             2. then answer every request for {old} with 301 Moved Permanently, Location: {new}, \
             for good.\n\
             The episodes keep their guids, so apps will not list them twice.",
            new = self.new_feed_url,
            old = self.old_feed_url,
        )
    }
}

/// Reads the feed at `opts.url` and imports its items into `opts.show`.
pub async fn import_feed(ctx: &Ctx, opts: &FeedImport) -> anyhow::Result<FeedReport> {
    let slug = Slug::parse(&opts.show)
        .map_err(|e| anyhow::anyhow!("--show '{}' is not a show slug: {e}", opts.show))?;
    let fetcher = Fetcher::new(opts.allow_private)?;
    let (feed_url, xml) = fetcher
        .get_bytes(&opts.url, MAX_FEED_BYTES)
        .await
        .context("cannot fetch the feed")?;
    let channel = rss::Channel::read_from(&xml[..])
        .map_err(|e| anyhow::anyhow!("{feed_url} is not an RSS feed: {e}"))?;
    drop(xml);

    let mut report = Report::default();
    let (show, show_created) = match ctx.db.show_by_slug(&slug).await {
        Ok(show) => (show, false),
        Err(DbError::NotFound) => {
            let show = create_show(
                ctx,
                &slug,
                &channel,
                &fetcher,
                &feed_url,
                opts.email.as_deref(),
                &mut report,
            )
            .await?;
            (show, true)
        }
        Err(e) => return Err(e.into()),
    };

    let known: HashSet<String> = ctx
        .db
        .show_episodes(show.id)
        .await?
        .into_iter()
        .map(|e| e.guid)
        .collect();
    // Oldest first (feeds list newest first): an interrupted run leaves the newest to do.
    let items: Vec<&rss::Item> = channel.items().iter().rev().collect();
    let total: u64 = items
        .iter()
        .filter_map(|i| i.enclosure()?.length().parse::<u64>().ok())
        .sum();
    let mut progress = Progress::new(items.len() as u64, total, opts.progress);
    let mut seen = HashSet::new();
    for (n, item) in items.iter().enumerate() {
        let label = item_label(item, items.len() - n);
        let length = item
            .enclosure()
            .and_then(|e| e.length().parse::<u64>().ok())
            .unwrap_or(0);
        progress.working_on(&label);
        let Some((guid, permalink)) = item_guid(item) else {
            report.fail(
                &label,
                "no guid and no enclosure: nothing identifies the episode",
            );
            progress.item_done(length);
            continue;
        };
        if known.contains(&guid) || !seen.insert(guid.clone()) {
            report.skipped.push(label);
            progress.item_done(length);
            continue;
        }
        if let Err(e) = import_item(
            ctx,
            opts,
            &fetcher,
            &show,
            &channel,
            item,
            (guid, permalink),
            &label,
            &mut report,
        )
        .await
        {
            report.fail(&label, format!("{e:#}"));
        }
        progress.item_done(length);
    }
    progress.finish();
    Ok(FeedReport {
        report,
        show_created,
        old_feed_url: feed_url.to_string(),
        new_feed_url: ctx.urls.feed(&show.slug),
    })
}

/// What names an item in the report: its title, else its position.
fn item_label(item: &rss::Item, position: usize) -> String {
    item.title()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map_or_else(|| format!("item {position}"), str::to_owned)
}

/// The item's guid exactly as the feed has it, and whether it is a permalink. Without a guid,
/// apps identify an item by its enclosure URL: that becomes the guid.
fn item_guid(item: &rss::Item) -> Option<(String, bool)> {
    match item.guid() {
        Some(g) if !g.value().is_empty() => Some((g.value().to_owned(), g.is_permalink())),
        _ => item.enclosure().map(|e| (e.url().to_owned(), false)),
    }
}

#[allow(clippy::too_many_arguments)]
async fn import_item(
    ctx: &Ctx,
    opts: &FeedImport,
    fetcher: &Fetcher,
    show: &Show,
    channel: &rss::Channel,
    item: &rss::Item,
    guid: (String, bool),
    label: &str,
    report: &mut Report,
) -> anyhow::Result<()> {
    let enclosure = item.enclosure().context("no enclosure (no media)")?;
    let media_url = Url::parse(enclosure.url())
        .with_context(|| format!("enclosure URL '{}' is not a URL", enclosure.url()))?;
    let fetched = fetcher.get(&media_url).await?;
    let filename = fetched
        .url
        .path_segments()
        .and_then(|mut s| s.next_back().map(str::to_owned))
        .map(|s| percent_decode(&s))
        .unwrap_or_default();
    let body = fetched.into_stream(opts.max_media_bytes)?;
    let media = service::media::upload(ctx, &filename, body, opts.max_media_bytes)
        .await
        .map_err(|e| match e {
            service::Error::TooLarge { limit } => {
                anyhow::anyhow!("media larger than {limit} bytes")
            }
            other => anyhow::anyhow!("media {media_url}: {other}"),
        })?;

    let raw_description = item
        .description()
        .or_else(|| item.itunes_ext().and_then(|i| i.summary()))
        .unwrap_or_default();
    let content_html = item
        .content()
        .filter(|c| !c.trim().is_empty())
        .or_else(|| looks_like_html(raw_description).then_some(raw_description))
        .map(str::to_owned);
    let itunes = item.itunes_ext();
    let number = |s: Option<&str>| s.and_then(|v| v.trim().parse::<u32>().ok());
    // A migration should not lose an episode over its date: without one it is published now,
    // and the summary says so.
    let publish_at = match item.pub_date().map(|d| (d, parse_pub_date(d))) {
        Some((_, Some(date))) => date,
        Some((raw, None)) => {
            report.warnings.push(format!(
                "{label}: pubDate '{raw}' unreadable or not in 1900-9999, published now"
            ));
            Utc::now()
        }
        None => {
            report
                .warnings
                .push(format!("{label}: no pubDate, published now"));
            Utc::now()
        }
    };
    let draft = EpisodeDraft {
        id: EpisodeId::new(),
        title: item_label(item, 0),
        description: html_to_text(raw_description),
        media,
        publish_at: Some(publish_at),
        slug: None,
        meta: EpisodeMeta {
            season: number(itunes.and_then(|i| i.season())),
            episode: number(itunes.and_then(|i| i.episode())),
            episode_type: match itunes.and_then(|i| i.episode_type()) {
                Some("trailer") => EpisodeType::Trailer,
                Some("bonus") => EpisodeType::Bonus,
                _ => EpisodeType::Full,
            },
            content_html,
            block: itunes
                .and_then(|i| i.block())
                .is_some_and(|b| b.eq_ignore_ascii_case("yes")),
            ..EpisodeMeta::default()
        },
        guid: Some(guid),
    };
    let actor = import_actor();
    let episode =
        service::episodes::create(ctx, &actor, show, draft, Utc::now(), Some(enclosure.url()))
            .await?;
    report.imported.push(label.to_owned());

    // Transcripts and chapters: the episode stands without them, so a bad one is a warning.
    let podcast = item.extensions().get("podcast");
    let mut languages_done = HashSet::new();
    for t in podcast
        .and_then(|p| p.get("transcript"))
        .into_iter()
        .flatten()
    {
        let attrs = t.attrs();
        let Some(url) = attrs.get("url") else {
            continue;
        };
        let kind = attrs.get("type").map(String::as_str).unwrap_or_default();
        if !matches!(
            kind,
            "text/vtt" | "application/x-subrip" | "application/srt" | "text/srt"
        ) {
            continue;
        }
        let language = attrs
            .get("language")
            .map(String::as_str)
            .or(channel.language())
            .unwrap_or("id");
        let Ok(language) = Lang::parse(language.trim()) else {
            report
                .warnings
                .push(format!("{label}: transcript language '{language}' skipped"));
            continue;
        };
        if !languages_done.insert(language.as_str().to_ascii_lowercase()) {
            continue;
        }
        let outcome = async {
            let url = Url::parse(url).with_context(|| format!("'{url}' is not a URL"))?;
            let (_, body) = fetcher.get_bytes(&url, MAX_TRANSCRIPT_BYTES as u64).await?;
            set_transcript(ctx, &actor, &episode, language, body).await?;
            anyhow::Ok(())
        }
        .await;
        if let Err(e) = outcome {
            report
                .warnings
                .push(format!("{label}: transcript not imported: {e:#}"));
        }
    }
    if let Some(c) = podcast
        .and_then(|p| p.get("chapters"))
        .and_then(|c| c.first())
        && let Some(url) = c.attrs().get("url")
    {
        let outcome = async {
            let url = Url::parse(url).with_context(|| format!("'{url}' is not a URL"))?;
            let (_, body) = fetcher.get_bytes(&url, MAX_CHAPTERS_BYTES as u64).await?;
            set_chapters(ctx, &actor, &episode, body).await?;
            anyhow::Ok(())
        }
        .await;
        if let Err(e) = outcome {
            report
                .warnings
                .push(format!("{label}: chapters not imported: {e:#}"));
        }
    }
    Ok(())
}

/// RFC 2822 as feeds write it (obsolete zone names too); some write RFC 3339, or a colon in
/// the offset, or no seconds. A year outside 1900 to 9999 is as unreadable.
fn parse_pub_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    DateTime::parse_from_rfc2822(s)
        .or_else(|_| DateTime::parse_from_rfc3339(s))
        .or_else(|_| DateTime::parse_from_str(s, "%a, %d %b %Y %H:%M:%S %:z"))
        .or_else(|_| DateTime::parse_from_str(s, "%a, %d %b %Y %H:%M %z"))
        .ok()
        .and_then(|t| crate::domain::bounds::check_time("pubDate", t.with_timezone(&Utc)).ok())
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map_or_else(|| s.to_owned(), |(_, v)| v.into_owned())
}

/// A new show from the channel's fields, with its cover if the cover passes Apple's rules.
async fn create_show(
    ctx: &Ctx,
    slug: &Slug,
    channel: &rss::Channel,
    fetcher: &Fetcher,
    feed_url: &Url,
    email: Option<&str>,
    report: &mut Report,
) -> anyhow::Result<Show> {
    let itunes = channel.itunes_ext();
    let owner_email = email.map(str::to_owned).or_else(|| {
        itunes
            .and_then(|i| i.owner())
            .and_then(|o| o.email())
            .map(str::to_owned)
            .or_else(|| {
                [channel.managing_editor(), channel.webmaster()]
                    .into_iter()
                    .flatten()
                    .find_map(email_in)
            })
    });
    let Some(email) = owner_email else {
        bail!(
            "the feed names no owner e-mail (itunes:owner, managingEditor): pass --email, or \
             create show '{slug}' first (POST /api/v1/shows)"
        );
    };
    let author = itunes
        .and_then(|i| i.author())
        .or_else(|| itunes.and_then(|i| i.owner()).and_then(|o| o.name()))
        .map(str::to_owned)
        .unwrap_or_else(|| channel.title().to_owned());
    let language = match channel.language().map(str::trim) {
        Some(l) if Lang::parse(l).is_ok() => l.to_owned(),
        other => {
            if let Some(l) = other {
                report.warnings.push(format!(
                    "channel language '{l}' is not a language tag: 'id' used"
                ));
            }
            "id".to_owned()
        }
    };
    let category = channel_category(channel, report);
    let explicit = itunes.and_then(|i| i.explicit()).is_some_and(|e| {
        matches!(
            e.trim().to_ascii_lowercase().as_str(),
            "yes" | "true" | "explicit"
        )
    });
    let serial = channel
        .extensions()
        .get("itunes")
        .and_then(|m| m.get("type"))
        .and_then(|v| v.first())
        .and_then(|e| e.value())
        .is_some_and(|v| v.trim() == "serial");
    let description = {
        let raw = channel.description();
        let raw = if raw.trim().is_empty() {
            itunes.and_then(|i| i.summary()).unwrap_or_default()
        } else {
            raw
        };
        html_to_text(raw)
    };
    let now = Utc::now();
    let show = NewShow {
        slug: slug.to_string(),
        title: channel.title().to_owned(),
        description,
        language,
        author,
        email,
        category,
        explicit,
        meta: ShowMeta {
            show_type: if serial {
                ShowType::Serial
            } else {
                ShowType::Episodic
            },
            ..ShowMeta::default()
        },
    }
    .parse(&ctx.urls, now)
    .map_err(|e| anyhow::anyhow!("cannot create show '{slug}' from the channel: {e}"))?;
    let actor = import_actor();
    let show = service::shows::create(ctx, &actor, show, Some(feed_url.as_str()))
        .await
        .with_context(|| format!("cannot create show '{slug}'"))?;

    let cover = itunes
        .and_then(|i| i.image())
        .or_else(|| channel.image().map(|i| i.url()));
    let Some(cover) = cover else {
        return Ok(show);
    };
    let outcome = async {
        let url = Url::parse(cover).with_context(|| format!("'{cover}' is not a URL"))?;
        let (_, bytes) = fetcher.get_bytes(&url, COVER_MAX_BYTES as u64).await?;
        anyhow::Ok(service::shows::set_cover(ctx, &actor, show.clone(), bytes, now).await?)
    }
    .await;
    match outcome {
        Ok(show) => Ok(show),
        Err(e) => {
            report
                .warnings
                .push(format!("show cover not imported: {e:#}"));
            Ok(show)
        }
    }
}

/// The channel's first Apple category Siaran knows (`Parent > Child` or `Parent`), else
/// `Government`.
fn channel_category(channel: &rss::Channel, report: &mut Report) -> String {
    let categories = channel
        .itunes_ext()
        .map(|i| i.categories().to_vec())
        .unwrap_or_default();
    for c in &categories {
        if let Some(sub) = c.subcategory() {
            let both = format!("{} > {}", c.text(), sub.text());
            if category_is_known(&both) {
                return both;
            }
        }
        if category_is_known(c.text()) {
            return c.text().to_owned();
        }
    }
    if let Some(c) = categories.first() {
        report.warnings.push(format!(
            "category '{}' is not in Apple's list: 'Government' used",
            c.text()
        ));
    }
    "Government".to_owned()
}

/// `ppid@example.go.id (PPID)` → `ppid@example.go.id`.
fn email_in(s: &str) -> Option<String> {
    s.split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | '<' | '>'))
        .find(|w| w.contains('@') && w.contains('.'))
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pub_dates_as_feeds_write_them() {
        let utc = |s: &str| parse_pub_date(s).map(|t| t.to_rfc3339());
        let want = Some("2021-03-03T02:30:00+00:00".to_owned());
        assert_eq!(utc("Wed, 03 Mar 2021 09:30:00 +0700"), want);
        assert_eq!(utc("Wed, 03 Mar 2021 02:30:00 GMT"), want);
        assert_eq!(utc("Wed, 03 Mar 2021 09:30:00 +07:00"), want);
        assert_eq!(utc("2021-03-03T09:30:00+07:00"), want);
        assert_eq!(utc("Wed, 03 Mar 2021 09:30 +0700"), want);
        assert_eq!(utc("kemarin"), None);
        // Read, but out of the years a feed writes: published now, with a warning.
        assert_eq!(utc("-0001-01-01T00:00:00Z"), None);
        assert_eq!(utc("Sat, 01 Jan 1000 00:00:00 +0000"), None);
    }

    #[test]
    fn emails_in_managing_editor() {
        assert_eq!(
            email_in("humas@example.go.id (Biro Humas)").as_deref(),
            Some("humas@example.go.id")
        );
        assert_eq!(email_in("Biro Humas"), None);
    }
}
