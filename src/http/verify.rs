//! Clip verification (issue 25, points 2 and 5), public, no token:
//!
//! - `POST /api/v1/verify`: the body is the clip (any content type); the answer is JSON
//!   (`exact`, `episode_id` and `url` when exact, `matches`, `unmatched`, `cuts`, `edited`, and
//!   a `summary` in the request's language);
//! - `GET /cek`: the page with its form; `POST /cek`: the form's file (`multipart/form-data`,
//!   plain HTML, no script), answered with the result, or the form again with the refusal.
//!
//! Both call `service::verify`, which owns the bounds and never keeps the clip; here a body
//! declared longer than the limit is refused before it is read. The routes sit among the
//! untimed ones (a large clip over a slow link outlasts the API's timeout: the operation bounds
//! the receiving itself), behind the per-address limit `SIARAN_RATE_VERIFY_PER_MIN`
//! (`http::limits`).

use axum::{
    Router,
    body::Body,
    extract::{Query, Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse as _, Response},
    routing::get,
};
use futures_util::TryStreamExt as _;
use serde::Serialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    Json,
    error::{AppError, UiLang},
    openapi::{ApiError, Binary},
    pages::PageQuery,
    templates::verify::{self as page, CheckPage},
};
use crate::{
    app::AppState,
    domain::{EpisodeId, Msg},
    service::verify::{CutAt, Match, Verdict},
    storage::ByteStream,
};

pub fn router() -> Router<AppState> {
    Router::from(api_routes()).route("/cek", get(form).post(posted))
}

/// The API's route and its operation in the API's document (`http::openapi`).
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(api))
}

/// The API's answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VerdictView {
    pub exact: bool,
    /// When exact: the episode whose published file the clip is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub episode_id: Option<EpisodeId>,
    /// When exact: that episode's page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// When exact: whether the file is one of the episode's other renditions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rendition: Option<bool>,
    pub sha256: String,
    pub size_bytes: u64,
    pub clip_ms: u64,
    pub matches: Vec<MatchView>,
    pub unmatched: Vec<SpanView>,
    pub cuts: Vec<CutView>,
    pub edited: bool,
    pub summary: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MatchView {
    pub episode_id: EpisodeId,
    pub title: String,
    pub show_title: String,
    /// The episode page at the stretch's start (`#t=SECONDS`, rounded down).
    pub url: String,
    pub episode_start_ms: u64,
    pub episode_end_ms: u64,
    pub clip_start_ms: u64,
    pub clip_end_ms: u64,
    pub score: f32,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SpanView {
    pub clip_start_ms: u64,
    pub clip_end_ms: u64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CutView {
    pub episode_id: EpisodeId,
    pub url: String,
    pub clip_at_ms: u64,
    pub episode_start_ms: u64,
    pub episode_end_ms: u64,
    /// `skipped` (the episode's range was left out) or `out-of-order` (empty range: the clip
    /// goes on from elsewhere).
    pub kind: &'static str,
}

/// `#t=SECONDS`, rounded down, as search's moment links.
pub fn at(url: &str, ms: u64) -> String {
    format!("{url}#t={}", ms / 1000)
}

impl VerdictView {
    pub fn new(v: &Verdict, lang: UiLang) -> VerdictView {
        let m = |m: &Match| MatchView {
            episode_id: m.episode.id,
            title: m.episode.title.clone(),
            show_title: m.episode.show_title.clone(),
            url: at(&m.episode.url, m.episode_start_ms),
            episode_start_ms: m.episode_start_ms,
            episode_end_ms: m.episode_end_ms,
            clip_start_ms: m.clip_start_ms,
            clip_end_ms: m.clip_end_ms,
            score: m.score,
        };
        let c = |c: &CutAt| CutView {
            episode_id: c.episode.id,
            url: at(&c.episode.url, c.episode_start_ms),
            clip_at_ms: c.clip_at_ms,
            episode_start_ms: c.episode_start_ms,
            episode_end_ms: c.episode_end_ms,
            kind: if c.out_of_order() {
                "out-of-order"
            } else {
                "skipped"
            },
        };
        VerdictView {
            exact: v.exact.is_some(),
            episode_id: v.exact.as_ref().map(|x| x.episode.id),
            url: v.exact.as_ref().map(|x| x.episode.url.clone()),
            rendition: v.exact.as_ref().map(|x| x.rendition),
            sha256: v.sha256.clone(),
            size_bytes: v.size_bytes,
            clip_ms: v.clip_ms,
            matches: v.matches.iter().map(m).collect(),
            unmatched: v
                .unmatched
                .iter()
                .map(|u| SpanView {
                    clip_start_ms: u.clip_start_ms,
                    clip_end_ms: u.clip_end_ms,
                })
                .collect(),
            cuts: v.cuts.iter().map(c).collect(),
            edited: v.edited,
            summary: text(lang, &v.summary).to_owned(),
        }
    }
}

fn text(lang: UiLang, msg: &Msg) -> &str {
    match lang {
        UiLang::Id => &msg.id,
        UiLang::En => &msg.en,
    }
}

/// An answer about one clip: never cached, and its summary in the request's language.
fn private(mut res: Response, lang: UiLang) -> Response {
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::VARY, HeaderValue::from_static("Accept-Language"));
    h.insert(
        header::CONTENT_LANGUAGE,
        HeaderValue::from_static(match lang {
            UiLang::Id => "id",
            UiLang::En => "en",
        }),
    );
    res
}

#[utoipa::path(
    post,
    path = "/api/v1/verify",
    tag = "verify",
    request_body(content = Binary, content_type = "application/octet-stream", description = "The clip (audio or video, any container Siaran reads), at most `SIARAN_VERIFY_MAX_BYTES`; never stored"),
    responses(
        (status = 200, description = "Where the clip comes from in the archive, if anywhere: the exact file, the matching stretches, what matches nothing, the edits, and a summary in the request's language", body = VerdictView),
        (status = 400, description = "The clip was cut short", body = ApiError),
        (status = 413, description = "The clip is over the size limit", body = ApiError),
        (status = 415, description = "Not an audio or video file", body = ApiError),
        (status = 422, description = "No audio that decodes, or longer than `SIARAN_VERIFY_MAX_SECONDS`", body = ApiError),
        (status = 429, description = "Over the rate limit (`Retry-After`)", body = ApiError),
        (status = 503, description = "Every verification slot is busy (`Retry-After`), or the service is unavailable", body = ApiError),
    ),
)]
#[tracing::instrument(skip_all)]
async fn api(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    super::refuse_declared_over(&headers, state.verifier.max_bytes())?;
    let stream: ByteStream = Box::pin(body.into_data_stream().map_err(std::io::Error::other));
    let verdict = state.verifier.verify(&state.ctx, stream).await?;
    let lang = UiLang::from_headers(&headers);
    Ok(private(
        Json(VerdictView::new(&verdict, lang)).into_response(),
        lang,
    ))
}

fn language(query: &PageQuery, headers: &HeaderMap) -> UiLang {
    match query.lang.as_deref() {
        Some("en") => UiLang::En,
        Some("id") => UiLang::Id,
        _ => UiLang::from_headers(headers),
    }
}

#[tracing::instrument(skip_all)]
async fn form(
    State(state): State<AppState>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = language(&query, &headers);
    render(&state, lang, StatusCode::OK, None, None).await
}

async fn render(
    state: &AppState,
    lang: UiLang,
    status: StatusCode,
    verdict: Option<&Verdict>,
    error: Option<String>,
) -> Response {
    let site = super::site::chrome(state).await;
    let markup = page::render(
        lang,
        &site,
        &CheckPage {
            verdict,
            error,
            max_bytes: state.verifier.max_bytes(),
            max_seconds: state.verifier.max_seconds(),
        },
    );
    let res = super::pages::html_response(&state.policies.page, status, lang, markup);
    private(res, lang)
}

/// The form's refusal, shown above the form again.
async fn refused(state: &AppState, lang: UiLang, e: AppError) -> Response {
    let status = e.status();
    if status.is_server_error() && !matches!(e, AppError::Op(crate::service::Error::Busy { .. })) {
        tracing::error!(error = ?e, "clip verification failed");
    }
    let retry_after = match &e {
        AppError::Op(crate::service::Error::Busy { retry_after, .. }) => Some(*retry_after),
        _ => None,
    };
    let msg = e.message();
    let mut res = render(state, lang, status, None, Some(text(lang, &msg).to_owned())).await;
    if let Some(after) = retry_after {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(after));
    }
    res
}

/// Text fields the form may send before its file, and the length of each.
const MAX_TEXT_FIELDS: usize = 4;
const TEXT_FIELD_LIMIT: u64 = 1024;

#[tracing::instrument(skip_all)]
async fn posted(
    State(state): State<AppState>,
    Query(query): Query<PageQuery>,
    req: Request,
) -> Response {
    let lang = language(&query, req.headers());
    let limit = state.verifier.max_bytes();
    // The form's own fields and boundaries around the file.
    let whole = limit.saturating_add(64 * 1024);
    if let Err(e) = super::refuse_declared_over(req.headers(), whole) {
        return refused(&state, lang, e).await;
    }
    let file = match file_field(req, whole).await {
        Ok(file) => file,
        Err(msg) => {
            let e = AppError::bad_request("no-file", msg.id, msg.en);
            return refused(&state, lang, e).await;
        }
    };
    match state.verifier.verify(&state.ctx, file).await {
        Ok(verdict) => render(&state, lang, StatusCode::OK, Some(&verdict), None).await,
        Err(e) => refused(&state, lang, e.into()).await,
    }
}

/// The form's `file` field as a stream, after any short text fields before it.
async fn file_field(req: Request, whole: u64) -> Result<ByteStream, Msg> {
    let unreadable = |e: &multer::Error| {
        Msg::new(
            format!("Formulir tidak terbaca: {e}"),
            format!("The form cannot be read: {e}"),
        )
    };
    let choose = || {
        Msg::new(
            "Pilih berkas audio atau video yang ingin diperiksa.",
            "Choose the audio or video file to check.",
        )
    };
    let boundary = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| multer::parse_boundary(v).ok())
        .ok_or_else(|| {
            Msg::new(
                "Kirim berkas lewat formulir halaman ini (multipart/form-data).",
                "Send the file with this page's form (multipart/form-data).",
            )
        })?;
    let constraints = multer::Constraints::new().size_limit(
        multer::SizeLimit::new()
            .per_field(TEXT_FIELD_LIMIT)
            // The file's own limit is the operation's (413 with its message).
            .for_field("file", u64::MAX)
            .whole_stream(whole),
    );
    let mut form = multer::Multipart::with_constraints(
        req.into_body().into_data_stream(),
        boundary,
        constraints,
    );
    let mut skipped = 0;
    loop {
        match form.next_field().await {
            Ok(Some(field)) if field.name() == Some("file") => {
                if field.file_name().unwrap_or_default().is_empty() {
                    return Err(choose());
                }
                return Ok(Box::pin(field.map_err(std::io::Error::other)));
            }
            Ok(Some(field)) if skipped < MAX_TEXT_FIELDS => {
                skipped += 1;
                field.text().await.map_err(|e| unreadable(&e))?;
            }
            Ok(_) => return Err(choose()),
            Err(e) => return Err(unreadable(&e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        domain::MediaId,
        service::verify::{Published, Unmatched},
    };

    fn published(title: &str) -> Published {
        Published {
            id: EpisodeId::new(),
            title: title.into(),
            show_title: "Siaran Pers".into(),
            published_at: "2026-12-03T02:00:00Z".parse().unwrap(),
            url: "https://siaran.example/shows/pers/rapat".into(),
            path: "/shows/pers/rapat".into(),
        }
    }

    /// A spliced and cut clip, as the fingerprint core reports one.
    fn edited() -> Verdict {
        let a = published("Rapat <Koordinasi>");
        Verdict {
            sha256: "ab".repeat(32),
            size_bytes: 1000,
            clip_ms: 19_000,
            exact: None,
            matches: vec![
                Match {
                    episode: a.clone(),
                    episode_start_ms: 723_400,
                    episode_end_ms: 733_000,
                    clip_start_ms: 0,
                    clip_end_ms: 10_000,
                    score: 0.874,
                },
                Match {
                    episode: published("Lain"),
                    episode_start_ms: 60_000,
                    episode_end_ms: 65_000,
                    clip_start_ms: 14_000,
                    clip_end_ms: 19_000,
                    score: 0.8,
                },
            ],
            unmatched: vec![Unmatched {
                clip_start_ms: 10_000,
                clip_end_ms: 14_000,
            }],
            cuts: vec![
                CutAt {
                    episode: a.clone(),
                    clip_at_ms: 5_000,
                    episode_start_ms: 728_000,
                    episode_end_ms: 731_000,
                },
                CutAt {
                    episode: a,
                    clip_at_ms: 8_000,
                    episode_start_ms: 100_000,
                    episode_end_ms: 100_000,
                },
            ],
            edited: true,
            summary: Msg::new("disunting", "edited"),
        }
    }

    #[test]
    fn the_answer_links_each_stretch_at_its_moment() {
        let v = serde_json::to_value(VerdictView::new(&edited(), UiLang::En)).unwrap();
        assert_eq!(v["exact"], false);
        assert!(v.get("episode_id").is_none() && v.get("url").is_none());
        assert_eq!(
            v["matches"][0]["url"],
            "https://siaran.example/shows/pers/rapat#t=723"
        );
        assert_eq!(v["matches"][1]["clip_start_ms"], 14_000);
        assert_eq!(v["unmatched"][0]["clip_end_ms"], 14_000);
        assert_eq!(v["cuts"][0]["kind"], "skipped");
        assert_eq!(v["cuts"][1]["kind"], "out-of-order");
        assert_eq!(v["edited"], true);
        assert_eq!(v["summary"], "edited");
    }

    #[test]
    fn the_page_shows_each_stretch_its_gaps_and_edits() {
        let site = crate::http::templates::SiteChrome {
            name: "Diskominfo".into(),
            address: String::new(),
            ppid_contact: String::new(),
            css_path: "/site.css".into(),
            logo_url: None,
        };
        let verdict = edited();
        let page = CheckPage {
            verdict: Some(&verdict),
            error: None,
            max_bytes: 200 << 20,
            max_seconds: 600,
        };
        let html = page::render(UiLang::Id, &site, &page).into_string();
        for expected in [
            "<a href=\"/shows/pers/rapat#t=723\">Rapat &lt;Koordinasi&gt;</a>",
            "<strong>12:03–12:13</strong>",
            "<strong>0:00–0:10</strong>",
            "<strong>87%</strong>",
            "dalam potongan 0:10–0:14",
            "<a href=\"/shows/pers/rapat#t=728\">12:08–12:11</a>",
            "Urutan diubah pada 0:08",
            "<strong>disunting</strong>",
            "name=\"robots\" content=\"noindex, nofollow\"",
        ] {
            assert!(html.contains(expected), "{expected}: {html}");
        }
        let exact = Verdict {
            exact: Some(crate::service::verify::Exact {
                episode: published("Rapat"),
                media: MediaId::new(),
                rendition: true,
                duration_ms: 60_000,
            }),
            ..edited()
        };
        let page = CheckPage {
            verdict: Some(&exact),
            ..page
        };
        let html = page::render(UiLang::En, &site, &page).into_string();
        assert!(
            html.contains(
                "a rendition of the recording of <a href=\"/shows/pers/rapat\">Rapat</a>"
            ),
            "{html}"
        );
    }
}
