//! The public archive (issue 6): `GET /`, `/shows/{show}`, `/shows/{show}/{episode}` (and its
//! `cite.bib`, `cite.ris`, `cite.json`), `/documents/{id}`, `/embed/{show}/{episode}` and
//! `/oembed?url=…`. HTML in Indonesian by default, English by `Accept-Language` or `?lang=en`.
//!
//! Addresses never break: a show or episode slug that changed answers 301 to the new address;
//! drafts and scheduled briefings are not found until their time.

use axum::{
    Router,
    body::Body,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, Uri, header},
    response::{IntoResponse, Response},
    routing::get,
};
use chrono::Utc;
use futures_util::TryStreamExt as _;
use maud::Markup;
use serde::Deserialize;

use super::{
    Json,
    templates::{
        self, DocumentPage, EpisodePage, FeedPage, FeedPageItem, HomeItem, ShowPage, SiteChrome,
    },
};
use crate::{
    app::{App, AppState},
    db::DbError,
    domain::{
        DocumentId, Episode, EpisodeStatus, Show, ShowId, Slug,
        citation::{self, Cited},
        transcript,
    },
    http::{
        error::{AppError, UiLang},
        security::PagePolicy,
    },
    service::episode_files::extras_of,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/shows/{show}", get(show))
        .route("/shows/{show}/{episode}", get(episode))
        .route("/shows/{show}/{episode}/{file}", get(cite_file))
        .route("/documents/{id}", get(document))
        .route("/embed/{show}/{episode}", get(embed))
        .route("/oembed", get(oembed))
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    /// `id` or `en`: overrides `Accept-Language`.
    #[serde(default)]
    pub lang: Option<String>,
    /// A moment, in seconds, for citations of that moment.
    #[serde(default)]
    pub t: Option<f64>,
}

fn language(query: &PageQuery, headers: &HeaderMap) -> UiLang {
    match query.lang.as_deref() {
        Some("en") => UiLang::En,
        Some("id") => UiLang::Id,
        _ => UiLang::from_headers(headers),
    }
}

/// Why a page is not answered with its content.
enum PageError {
    NotFound,
    /// 410: the briefing was taken down.
    Gone(crate::domain::Withdrawal),
    /// 301 to this path.
    Moved(String),
    Other(AppError),
}

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Op(crate::service::Error::NotFound { .. }) => PageError::NotFound,
            other => PageError::Other(other),
        }
    }
}

impl From<DbError> for PageError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::NotFound => PageError::NotFound,
            other => PageError::Other(other.into()),
        }
    }
}

/// A page's answer: the HTML in the asked language, or an error page in that language, under
/// `policy`.
fn answer(
    policy: &PagePolicy,
    site: &SiteChrome,
    lang: UiLang,
    path: &str,
    result: Result<Markup, PageError>,
) -> Response {
    match result {
        Ok(markup) => html_response(policy, StatusCode::OK, lang, markup),
        Err(PageError::Moved(to)) => {
            let mut res = Response::new(Body::empty());
            *res.status_mut() = StatusCode::MOVED_PERMANENTLY;
            if let Ok(v) = HeaderValue::from_str(&to) {
                res.headers_mut().insert(header::LOCATION, v);
            }
            res
        }
        Err(PageError::NotFound) => {
            let (heading, detail) = match lang {
                UiLang::Id => (
                    "Halaman tidak ditemukan",
                    "Alamat ini tidak menunjuk ke siaran, acara atau dokumen yang ada.",
                ),
                UiLang::En => (
                    "Page not found",
                    "This address does not lead to a briefing, show or document.",
                ),
            };
            html_response(
                policy,
                StatusCode::NOT_FOUND,
                lang,
                templates::error(lang, site, path, heading, detail),
            )
        }
        Err(PageError::Gone(w)) => {
            let when = crate::domain::citation::long_date(
                match lang {
                    UiLang::Id => crate::domain::citation::CiteLang::Id,
                    UiLang::En => crate::domain::citation::CiteLang::En,
                },
                w.at.date_naive(),
            );
            let (heading, detail) = match lang {
                UiLang::Id => (
                    "Siaran ini telah ditarik".to_owned(),
                    format!("Ditarik pada {when}. Alasan: {}", w.reason),
                ),
                UiLang::En => (
                    "This briefing has been withdrawn".to_owned(),
                    format!("Withdrawn on {when}. Reason: {}", w.reason),
                ),
            };
            html_response(
                policy,
                StatusCode::GONE,
                lang,
                templates::error(lang, site, path, &heading, &detail),
            )
        }
        Err(PageError::Other(e)) => e.into_response(),
    }
}

/// A page: every HTML answer is made here, with its security policy (`security`).
pub(super) fn html_response(
    policy: &PagePolicy,
    status: StatusCode,
    lang: UiLang,
    markup: Markup,
) -> Response {
    let mut res = Response::new(Body::from(markup.into_string()));
    *res.status_mut() = status;
    let h = res.headers_mut();
    policy.apply(h);
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_LANGUAGE,
        HeaderValue::from_static(match lang {
            UiLang::Id => "id",
            UiLang::En => "en",
        }),
    );
    h.insert(header::VARY, HeaderValue::from_static("Accept-Language"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    res
}

/// The path of a page on this site (pages link with paths, feeds and citations with URLs).
fn show_path(show: &Slug) -> String {
    format!("/shows/{show}")
}

fn episode_path(show: &Slug, episode: &Slug) -> String {
    format!("/shows/{show}/{episode}")
}

/// The show a page names, or where it moved.
async fn find_show(app: &App, raw: &str, rest: &str) -> Result<Show, PageError> {
    let slug = Slug::parse(raw).map_err(|_| PageError::NotFound)?;
    match app.ctx.db.show_by_slug(&slug).await {
        Ok(show) => Ok(show),
        Err(DbError::NotFound) => {
            let show = app.ctx.db.show_by_old_slug(&slug).await?;
            Err(PageError::Moved(format!("{}{rest}", show_path(&show.slug))))
        }
        Err(e) => Err(e.into()),
    }
}

/// The published episode a page names, or where it moved.
async fn find_episode(
    app: &App,
    raw_show: &str,
    raw_episode: &str,
    rest: &str,
) -> Result<(Show, Episode), PageError> {
    let tail = format!("/{raw_episode}{rest}");
    let show = find_show(app, raw_show, &tail).await?;
    let slug = Slug::parse(raw_episode).map_err(|_| PageError::NotFound)?;
    let episode = match app.ctx.db.episode_by_slug(show.id, &slug).await {
        Ok(e) => e,
        Err(DbError::NotFound) => {
            let e = app.ctx.db.episode_by_old_slug(show.id, &slug).await?;
            return Err(PageError::Moved(format!(
                "{}{rest}",
                episode_path(&show.slug, &e.slug)
            )));
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(w) = &episode.withdrawn {
        return Err(PageError::Gone(w.clone()));
    }
    if episode.status(Utc::now()) != EpisodeStatus::Published {
        return Err(PageError::NotFound);
    }
    Ok((show, episode))
}

#[tracing::instrument(skip_all)]
async fn home(
    State(state): State<AppState>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = language(&query, &headers);
    let site = super::site::chrome(&state).await;
    let result = async {
        let shows = state.ctx.db.list_shows().await?;
        let recent = state.ctx.db.recent_episodes(Utc::now(), 20).await?;
        let items: Vec<HomeItem<'_>> = recent
            .iter()
            .filter_map(|e| {
                let show = shows.iter().find(|s| s.id == e.show_id)?;
                Some(HomeItem {
                    episode: e,
                    show,
                    url: episode_path(&show.slug, &e.slug),
                })
            })
            .collect();
        let listed: Vec<(String, &Show)> = shows.iter().map(|s| (show_path(&s.slug), s)).collect();
        Ok::<_, PageError>(templates::home(lang, &site, &items, &listed))
    }
    .await;
    answer(&state.policies.page, &site, lang, "/", result)
}

#[tracing::instrument(skip_all, fields(%slug))]
async fn show(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = language(&query, &headers);
    let site = super::site::chrome(&state).await;
    let path = format!("/shows/{slug}");
    let result = async {
        let show = find_show(&state, &slug, "").await?;
        let now = Utc::now();
        let episodes = state.ctx.db.show_episodes(show.id).await?;
        let page = ShowPage {
            show: &show,
            path: show_path(&show.slug),
            feed_url: state.ctx.urls.feed(&show.slug),
            artwork_url: show
                .artwork
                .as_ref()
                .map(|a| state.ctx.urls.artwork(show.id, a)),
            episodes: episodes
                .iter()
                .filter(|e| e.status(now) == EpisodeStatus::Published)
                .map(|e| (episode_path(&show.slug, &e.slug), e))
                .collect(),
        };
        Ok::<_, PageError>(templates::show(lang, &site, &page))
    }
    .await;
    answer(&state.policies.page, &site, lang, &path, result)
}

/// A feed's address opened by a browser (its `Accept` lists HTML; `feeds` hands such requests
/// here): a page saying what a feed is, with the address to copy and the feed's episodes, in
/// place of XML that Chromium no longer styles (it is removing XSLT). Apps keep getting the feed;
/// the answer varies on `Accept`. `None` when the page cannot be made: the caller then serves
/// the feed with its stylesheet, the fallback.
pub(super) async fn feed_page(
    state: &AppState,
    show: ShowId,
    uri: &Uri,
    headers: &HeaderMap,
) -> Option<Response> {
    let query = Query::<PageQuery>::try_from_uri(uri)
        .map(|q| q.0)
        .unwrap_or_default();
    let lang = language(&query, headers);
    let site = super::site::chrome(state).await;
    let made = async {
        let show = state.ctx.db.show(show).await?;
        let items = state.ctx.db.published_episodes(show.id, Utc::now()).await?;
        Ok::<_, DbError>((show, items))
    }
    .await;
    let (show, items) = match made {
        Ok(made) => made,
        Err(e) => {
            tracing::warn!(error = %e, "the feed's page could not be made; serving the feed");
            return None;
        }
    };
    let page = FeedPage {
        show: &show,
        path: uri.path().to_owned(),
        feed_url: state.ctx.urls.feed(&show.slug),
        show_url: show_path(&show.slug),
        artwork_url: show
            .artwork
            .as_ref()
            .map(|a| state.ctx.urls.artwork(show.id, a)),
        episodes: items
            .iter()
            .map(|(episode, enclosure)| FeedPageItem {
                page_url: episode_path(&show.slug, &episode.slug),
                episode,
                enclosure,
                media_url: state.ctx.urls.media(enclosure.id, &enclosure.extension),
            })
            .collect(),
    };
    let mut res = html_response(
        &state.policies.page,
        StatusCode::OK,
        lang,
        templates::feed_page(lang, &site, &page),
    );
    res.headers_mut().insert(
        header::VARY,
        HeaderValue::from_static("Accept, Accept-Language"),
    );
    Some(res)
}

/// The citation of an episode (at a moment when `t` is given), with today as the access date.
fn cited(
    app: &App,
    show: &Show,
    episode: &Episode,
    duration_ms: u64,
    video: bool,
    t: Option<f64>,
) -> Cited {
    Cited {
        key: episode.guid.clone(),
        author: show.author.clone(),
        title: episode.title.clone(),
        show_title: show.title.clone(),
        episode_number: episode.meta.episode,
        published: episode.publish_at.unwrap_or(episode.created_at),
        duration_ms,
        url: app.ctx.urls.episode_page(&show.slug, &episode.slug),
        video,
        language: show.language.to_string(),
        at_ms: t
            .filter(|t| t.is_finite() && *t >= 0.0)
            .map(|t| ((t * 1000.0) as u64).min(duration_ms)),
        accessed: Utc::now().date_naive(),
    }
}

#[tracing::instrument(skip_all, fields(%show_slug, %episode_slug))]
async fn episode(
    State(state): State<AppState>,
    Path((show_slug, episode_slug)): Path<(String, String)>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = language(&query, &headers);
    let site = super::site::chrome(&state).await;
    let path = format!("/shows/{show_slug}/{episode_slug}");
    let result = episode_page(&state, &site, &show_slug, &episode_slug, lang, query.t).await;
    answer(&state.policies.page, &site, lang, &path, result)
}

async fn episode_page(
    app: &App,
    site: &SiteChrome,
    show_slug: &str,
    episode_slug: &str,
    lang: UiLang,
    t: Option<f64>,
) -> Result<Markup, PageError> {
    let (show, episode) = find_episode(app, show_slug, episode_slug, "").await?;
    episode_markup(app, site, &show, &episode, lang, t, false).await
}

/// The public page of `episode` before it is published, for the studio's preview
/// (`/studio/episodes/{id}/preview`, behind its session and permission check): the same page,
/// marked as a preview and not to be indexed. Nothing here makes the episode public: its public
/// address still asks `find_episode`, which finds only published episodes.
pub(crate) async fn episode_preview(
    state: &AppState,
    show: &Show,
    episode: &Episode,
    lang: UiLang,
) -> Result<Markup, AppError> {
    let site = super::site::chrome(state).await;
    episode_markup(state, &site, show, episode, lang, None, true)
        .await
        .map_err(|e| match e {
            PageError::Other(e) => e,
            PageError::NotFound | PageError::Gone(_) | PageError::Moved(_) => {
                AppError::not_found("episode")
            }
        })
}

async fn episode_markup(
    app: &App,
    site: &SiteChrome,
    show: &Show,
    episode: &Episode,
    lang: UiLang,
    t: Option<f64>,
    preview: bool,
) -> Result<Markup, PageError> {
    let media = app.ctx.db.media(episode.media_id).await?;
    let documents = app.ctx.db.episode_documents(episode.id).await?;
    let extras = extras_of(&app.ctx, episode).await.map_err(AppError::from)?;
    // The transcript in the page's language when there is one, else the first.
    let wanted = match lang {
        UiLang::Id => "id",
        UiLang::En => "en",
    };
    let chosen = extras
        .transcripts()
        .find(|f| {
            f.language
                .as_ref()
                .is_some_and(|l| l.as_str().starts_with(wanted))
        })
        .or_else(|| extras.transcripts().next());
    let cues = match chosen {
        Some(file) => read_cues(app, file).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, key = %file.key, "transcript not shown");
            Vec::new()
        }),
        None => Vec::new(),
    };
    let video = media.info.video.is_some();
    // The waveform once analysed; a page never waits for, nor fails on, the analysis.
    let waveform_url = match app.ctx.db.quality_record(media.id).await {
        Ok(record) => record.map(|_| app.ctx.urls.waveform(media.id, "waveform-overview.json")),
        Err(e) => {
            tracing::warn!(error = %e, media = %media.id, "waveform not shown");
            None
        }
    };
    let url = app.ctx.urls.episode_page(&show.slug, &episode.slug);
    // What changed once the briefing was public.
    let published = episode.publish_at.unwrap_or(episode.created_at);
    let history: Vec<_> = app
        .ctx
        .db
        .audit_trail(
            crate::domain::audit::Entity::Episode,
            &episode.id.to_string(),
        )
        .await?
        .into_iter()
        // Changes people made (by a token); what a command set up (an import's transcript, the
        // demo's documents) is not a correction, whatever its date.
        .filter(|e| {
            e.at > published
                && e.token_id.is_some()
                && e.action != "created"
                && e.action != "published"
        })
        .collect();
    let page = EpisodePage {
        show,
        episode,
        media: &media,
        path: episode_path(&show.slug, &episode.slug),
        url: url.clone(),
        show_url: show_path(&show.slug),
        feed_url: app.ctx.urls.feed(&show.slug),
        media_url: app.ctx.urls.media(media.id, &media.info.extension),
        embed_url: app.ctx.urls.embed(&show.slug, &episode.slug),
        oembed_url: app.ctx.urls.oembed(&url),
        // The episode's own cover, else its show's.
        artwork_url: match (&episode.artwork, &show.artwork) {
            (Some(a), _) => Some(app.ctx.urls.episode_artwork(episode.id, a)),
            (None, Some(a)) => Some(app.ctx.urls.artwork(show.id, a)),
            (None, None) => None,
        },
        documents: documents
            .iter()
            .map(|d| (format!("/documents/{}", d.document.id), d))
            .collect(),
        cues,
        transcripts: extras
            .transcripts()
            .filter_map(|f| {
                let (format, language) = (f.transcript_format()?, f.language.as_ref()?);
                Some((
                    app.ctx
                        .urls
                        .transcript(episode.id, language, format.extension()),
                    format!("{language} ({})", format.extension().to_uppercase()),
                ))
            })
            .collect(),
        renditions: extras
            .renditions
            .iter()
            .map(|r| (app.ctx.urls.media(r.media.id, &r.media.info.extension), r))
            .collect(),
        waveform_url,
        cited: cited(app, show, episode, media.info.duration_ms, video, t),
        history,
        preview,
        record: match app.ctx.db.last_record(episode.id).await {
            Ok(r) => r.map(|e| {
                let url = app.ctx.urls.log_entry(e.seq);
                (e, url)
            }),
            // The page without its seal rather than no page.
            Err(e) => {
                tracing::warn!(error = %e, episode = %episode.id, "publication record not shown");
                None
            }
        },
        keys_url: "/.well-known/siaran-keys.json".into(),
        base_url: app.ctx.urls.base().to_owned(),
    };
    Ok(templates::episode(lang, site, &page))
}

/// A stored transcript's cues. Transcripts are small (their upload is capped) and are read whole.
async fn read_cues(
    app: &App,
    file: &crate::domain::EpisodeFile,
) -> anyhow::Result<Vec<transcript::Cue>> {
    let chunks: Vec<bytes::Bytes> = app
        .ctx
        .store
        .get(&file.key, None)
        .await?
        .try_collect()
        .await?;
    let bytes = chunks.concat();
    Ok(transcript::parse(&bytes)
        .map_err(|m| anyhow::anyhow!(m.en))?
        .cues)
}

#[tracing::instrument(skip_all, fields(%show_slug, %episode_slug, %file))]
async fn cite_file(
    State(state): State<AppState>,
    Path((show_slug, episode_slug, file)): Path<(String, String, String)>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = language(&query, &headers);
    let site = super::site::chrome(&state).await;
    let path = format!("/shows/{show_slug}/{episode_slug}/{file}");
    let (content_type, ext) = match file.as_str() {
        "cite.bib" => ("application/x-bibtex; charset=utf-8", "bib"),
        "cite.ris" => ("application/x-research-info-systems; charset=utf-8", "ris"),
        "cite.json" => ("application/vnd.citationstyles.csl+json", "json"),
        _ => {
            return answer(
                &state.policies.page,
                &site,
                lang,
                &path,
                Err(PageError::NotFound),
            );
        }
    };
    let rest = format!("/{file}");
    let found = find_episode(&state, &show_slug, &episode_slug, &rest).await;
    let (show, episode) = match found {
        Ok(found) => found,
        Err(e) => return answer(&state.policies.page, &site, lang, &path, Err(e)),
    };
    let media = match state.ctx.db.media(episode.media_id).await {
        Ok(m) => m,
        Err(e) => return answer(&state.policies.page, &site, lang, &path, Err(e.into())),
    };
    let c = cited(
        &state,
        &show,
        &episode,
        media.info.duration_ms,
        media.info.video.is_some(),
        query.t,
    );
    let body = match ext {
        "bib" => citation::bibtex(&c),
        "ris" => citation::ris(&c),
        _ => serde_json::to_string_pretty(&citation::csl_json(&c)).unwrap_or_default(),
    };
    let disposition = format!("attachment; filename=\"{}.{ext}\"", episode.slug);
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response()
}

#[tracing::instrument(skip_all, fields(%id))]
async fn document(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = language(&query, &headers);
    let site = super::site::chrome(&state).await;
    let path = format!("/documents/{id}");
    let result = async {
        let id: DocumentId = id.parse().map_err(|_| PageError::NotFound)?;
        let document =
            super::document_files::with_url(state.ctx.db.document(id).await?, &state.ctx.urls);
        let now = Utc::now();
        let citations = state.ctx.db.document_citations(id).await?;
        let page = DocumentPage {
            document: &document,
            path: format!("/documents/{id}"),
            citations: citations
                .iter()
                .filter(|c| c.episode.status(now) == EpisodeStatus::Published)
                .map(|c| (episode_path(&c.show_slug, &c.episode.slug), c))
                .collect(),
        };
        Ok::<_, PageError>(templates::document(lang, &site, &page))
    }
    .await;
    answer(&state.policies.page, &site, lang, &path, result)
}

#[tracing::instrument(skip_all, fields(%show_slug, %episode_slug))]
async fn embed(
    State(state): State<AppState>,
    Path((show_slug, episode_slug)): Path<(String, String)>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = language(&query, &headers);
    let site = super::site::chrome(&state).await;
    let path = format!("/embed/{show_slug}/{episode_slug}");
    let result = async {
        let (show, episode) = find_episode(&state, &show_slug, &episode_slug, "").await?;
        let media = state.ctx.db.media(episode.media_id).await?;
        Ok::<_, PageError>(templates::embed(
            &site,
            &episode,
            &show,
            &state.ctx.urls.media(media.id, &media.info.extension),
            &state.ctx.urls.episode_page(&show.slug, &episode.slug),
            media.info.video.is_some(),
        ))
    }
    .await;
    // Other sites frame this page: its policy lets them (the other pages refuse framing). The
    // player is the same in every language, hence no `Vary`.
    let mut res = answer(&state.policies.embed, &site, lang, &path, result);
    res.headers_mut().remove(header::VARY);
    res
}

#[derive(Debug, Deserialize)]
pub struct OembedQuery {
    pub url: String,
    #[serde(default)]
    pub format: Option<String>,
    #[serde(default)]
    pub maxwidth: Option<u32>,
    #[serde(default)]
    pub maxheight: Option<u32>,
}

/// oEmbed 1.0 (`rich`): an `<iframe>` of the embeddable player for an episode page's URL. An
/// API for programs: its errors answer the JSON error shape, as the API's do.
#[tracing::instrument(skip_all)]
async fn oembed(
    State(state): State<AppState>,
    super::query::Query(query): super::query::Query<OembedQuery>,
) -> Result<Response, AppError> {
    if let Some(format) = query.format.as_deref().filter(|f| *f != "json") {
        // The spec's status for a format the provider does not offer.
        return Err(AppError::NotImplemented {
            code: "unsupported-format",
            msg: crate::domain::Msg::new(
                format!("oEmbed hanya tersedia dalam format json, bukan '{format}'"),
                format!("oEmbed is only offered as json, not '{format}'"),
            ),
        });
    }
    let not_ours = || AppError::not_found("episode");
    let prefix = state.ctx.urls.base();
    let path = query
        .url
        .split(['#', '?'])
        .next()
        .and_then(|u| u.strip_prefix(prefix))
        .and_then(|p| p.strip_prefix("/shows/"))
        .ok_or_else(not_ours)?;
    let (show_slug, episode_slug) = path.split_once('/').ok_or_else(not_ours)?;
    let (show, episode) = match find_episode(&state, show_slug, episode_slug, "").await {
        Ok(found) => found,
        Err(PageError::Other(e)) => return Err(e),
        Err(_) => return Err(not_ours()),
    };
    let media = state.ctx.db.media(episode.media_id).await?;
    let video = media.info.video.is_some();
    let width = query.maxwidth.unwrap_or(480).clamp(200, 480);
    let height = query
        .maxheight
        .unwrap_or(if video { 320 } else { 120 })
        .clamp(80, if video { 320 } else { 120 });
    let src = state.ctx.urls.embed(&show.slug, &episode.slug);
    let html = format!(
        "<iframe src=\"{}\" width=\"{width}\" height=\"{height}\" frameborder=\"0\" \
         loading=\"lazy\" title=\"{}\" allow=\"autoplay\"></iframe>",
        attr(&src),
        attr(&episode.title)
    );
    let mut body = serde_json::json!({
        "version": "1.0",
        "type": "rich",
        "provider_name": "Siaran",
        "provider_url": prefix,
        "title": episode.title,
        "author_name": show.author,
        "author_url": state.ctx.urls.show_page(&show.slug),
        "html": html,
        "width": width,
        "height": height,
        "cache_age": 3600,
    });
    if let Some(a) = &show.artwork {
        body["thumbnail_url"] = state.ctx.urls.artwork(show.id, a).into();
        body["thumbnail_width"] = a.width.into();
        body["thumbnail_height"] = a.height.into();
    }
    Ok(Json(body).into_response())
}

/// Escapes a value for an HTML attribute in double quotes.
fn attr(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
