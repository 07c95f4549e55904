//! Search (issue 6.4), public:
//!
//! - `GET /api/v1/search?q=&show=&from=&to=&kind=&limit=`: JSON, episodes (with the transcript
//!   moments where the words are spoken, each with its page URL at `#t=SECONDS`) and documents;
//! - `GET /cari?q=…` (and `/search`, which answers 301 to it): the same as a page.
//!
//! The query string is read leniently (bad percent-encoding is replaced, never a rejection) and
//! every parameter is checked here; the database sees only parsed terms (`search::parse_terms`).

use axum::{
    Router,
    body::Body,
    extract::{RawQuery, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use utoipa_axum::{router::OpenApiRouter, routes};

use super::templates::search::{self as page, Form, SearchPage};
use super::{
    Json,
    openapi::{ApiError, Unavailable},
};
use crate::{
    app::AppState,
    domain::{
        DocumentId, DocumentKind, EpisodeId, Slug,
        search::{
            DEFAULT_LIMIT, MAX_LIMIT, MatchedIn, SearchQuery, SearchResults, Term, parse_terms,
        },
    },
    http::error::{AppError, UiLang},
};

pub fn router() -> Router<AppState> {
    Router::from(api_routes())
        .route("/cari", get(html))
        .route("/search", get(moved))
}

/// The routes and their operations in the API's document (`http::openapi`).
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(api))
}

/// The parameters as the API's document names them; the query string is read by `params`,
/// leniently (bad percent-encoding is replaced, unknown names ignored).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct SearchParams {
    /// Words and "quoted phrases" (at most 12); all must match.
    #[param(pattern = r"[A-Za-z0-9]", max_length = 300)]
    q: String,
    /// Only this show's episodes (its slug).
    #[param(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 100)]
    show: Option<String>,
    /// Published on or after this day, `YYYY-MM-DD`.
    #[param(
        pattern = r"^((19[0-9]{2}|[2-9][0-9]{3})-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)|02-(0[1-9]|1[0-9]|2[0-8])))?$"
    )]
    from: Option<String>,
    /// Published on or before this day, `YYYY-MM-DD`.
    #[param(
        pattern = r"^((19[0-9]{2}|[2-9][0-9]{3})-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)|02-(0[1-9]|1[0-9]|2[0-8])))?$"
    )]
    to: Option<String>,
    /// Only documents of this kind.
    #[param(value_type = Option<crate::domain::DocumentKindOrEmpty>)]
    kind: Option<String>,
    /// How many results of each kind, 1 to 50 (default 20).
    #[param(minimum = 1, maximum = 50)]
    limit: Option<u32>,
}

/// The raw parameters, last value wins.
#[derive(Debug, Default)]
struct Params {
    form: Form,
    limit: Option<String>,
    lang: Option<String>,
}

fn params(raw: Option<&str>) -> Params {
    let mut p = Params::default();
    for (k, v) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        let v = v.into_owned();
        match k.as_ref() {
            "q" => p.form.q = v,
            "show" => p.form.show = v,
            "from" => p.form.from = v,
            "to" => p.form.to = v,
            "kind" => p.form.kind = v,
            "limit" => p.limit = Some(v),
            "lang" => p.lang = Some(v),
            _ => {}
        }
    }
    p
}

/// The filters, checked, in a query without terms (`query_of` adds them).
fn filters(p: &Params) -> Result<SearchQuery, AppError> {
    let show = match p.form.show.trim() {
        "" => None,
        s => Some(Slug::parse(s).map_err(|_| {
            AppError::invalid(
                "invalid-show",
                format!("show harus berupa slug acara: {s}"),
                format!("show must be a show's slug: {s}"),
            )
        })?),
    };
    let date = |raw: &str, name: &str| -> Result<Option<NaiveDate>, AppError> {
        match raw.trim() {
            "" => Ok(None),
            d => Ok(Some(crate::domain::bounds::parse_date(name, d)?)),
        }
    };
    let from = date(&p.form.from, "from")?;
    let to = date(&p.form.to, "to")?;
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(AppError::invalid(
            "invalid-date",
            "from harus sebelum atau sama dengan to",
            "from must not be after to",
        ));
    }
    let kind = match p.form.kind.trim() {
        "" => None,
        k => Some(DocumentKind::parse(k).ok_or_else(|| {
            AppError::invalid(
                "invalid-kind",
                format!("Jenis dokumen tidak dikenal: {k}"),
                format!("Unknown document kind: {k}"),
            )
        })?),
    };
    let limit = match p.limit.as_deref().map(str::trim) {
        None | Some("") => DEFAULT_LIMIT,
        Some(l) => l
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                AppError::invalid(
                    "invalid-limit",
                    format!("limit harus antara 1 dan {MAX_LIMIT}"),
                    format!("limit must be between 1 and {MAX_LIMIT}"),
                )
            })?,
    };
    Ok(SearchQuery {
        terms: Vec::new(),
        show,
        from,
        to,
        kind,
        limit,
    })
}

fn query_of(p: &Params) -> Result<SearchQuery, AppError> {
    let terms = parse_terms(&p.form.q)
        .map_err(|(code, msg)| AppError::from(crate::domain::Rejection { code, msg }))?;
    Ok(SearchQuery {
        terms,
        ..filters(p)?
    })
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = SearchResults)]
struct Answer {
    /// The terms searched for, as understood: words and "phrases".
    terms: Vec<String>,
    total: u64,
    episodes: Vec<EpisodeView>,
    documents: Vec<DocumentView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = SearchEpisode)]
struct EpisodeView {
    id: EpisodeId,
    show: ShowRef,
    slug: Slug,
    title: String,
    description: String,
    publish_at: DateTime<Utc>,
    url: String,
    score: i64,
    matched_in: MatchedIn,
    moments: Vec<MomentView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct ShowRef {
    slug: Slug,
    title: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct MomentView {
    start_ms: u64,
    end_ms: u64,
    language: String,
    text: String,
    /// The episode page at this moment (`#t=SECONDS`, rounded down).
    url: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = SearchDocument)]
struct DocumentView {
    id: DocumentId,
    title: String,
    number: Option<String>,
    kind: DocumentKind,
    issuer: Option<String>,
    issued_on: Option<NaiveDate>,
    /// Where the document itself can be read.
    url: Option<String>,
    /// Its page on this site, with the briefings that discuss it.
    page_url: String,
    score: i64,
}

fn answer_of(state: &AppState, terms: &[Term], r: SearchResults) -> Answer {
    let base = state.ctx.urls.base();
    Answer {
        terms: terms
            .iter()
            .map(|t| match t {
                Term::Word(w) => w.clone(),
                Term::Phrase(_) => format!("\"{}\"", t.text()),
            })
            .collect(),
        total: r.total,
        episodes: r
            .episodes
            .into_iter()
            .map(|hit| {
                let url = state.ctx.urls.episode_page(&hit.show_slug, &hit.slug);
                EpisodeView {
                    id: hit.episode_id,
                    moments: hit
                        .moments
                        .into_iter()
                        .map(|m| MomentView {
                            url: format!("{url}{}", page::moment_fragment(m.start_ms)),
                            start_ms: m.start_ms,
                            end_ms: m.end_ms,
                            language: m.language,
                            text: m.text,
                        })
                        .collect(),
                    show: ShowRef {
                        slug: hit.show_slug,
                        title: hit.show_title,
                    },
                    slug: hit.slug,
                    title: hit.title,
                    description: hit.description,
                    publish_at: hit.publish_at,
                    url,
                    score: hit.score,
                    matched_in: hit.matched_in,
                }
            })
            .collect(),
        documents: r
            .documents
            .into_iter()
            .map(|d| {
                let doc = d.document;
                DocumentView {
                    page_url: format!("{base}/documents/{}", doc.id),
                    id: doc.id,
                    title: doc.title,
                    number: doc.number,
                    kind: doc.kind,
                    issuer: doc.issuer,
                    issued_on: doc.issued_on,
                    url: doc.url,
                    score: d.score,
                }
            })
            .collect(),
    }
}

/// Searches published episodes (titles, descriptions, transcripts, the documents they discuss) and documents. Public.
#[utoipa::path(
    get,
    path = "/api/v1/search",
    tag = "search",
    params(SearchParams),
    responses(
        (status = 200, description = "The results, best first", body = Answer),
        (status = 422, description = "A parameter is not readable (the message says which), or no terms", body = ApiError),
        (status = 429, description = "Over the rate limit (`Retry-After`)", body = ApiError),
        Unavailable,
    ),
)]
#[tracing::instrument(skip_all)]
async fn api(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Result<Response, AppError> {
    let p = params(raw.as_deref());
    let query = query_of(&p)?;
    let results = state.ctx.db.search(&query, Utc::now()).await?;
    let mut res = Json(answer_of(&state, &query.terms, results)).into_response();
    // Publication times decide what is public: a minute of caching at most.
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    Ok(res)
}

#[tracing::instrument(skip_all)]
async fn html(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let p = params(raw.as_deref());
    let lang = match p.lang.as_deref() {
        Some("en") => UiLang::En,
        Some("id") => UiLang::Id,
        _ => UiLang::from_headers(&headers),
    };
    let shows = state.ctx.db.list_shows().await?;
    let mut path = String::from("/cari");
    if !p.form.q.is_empty() {
        let q: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("q", &p.form.q)
            .finish();
        path = format!("{path}?{q}");
    }
    let (status, terms, results, error) = if p.form.q.trim().is_empty() {
        (StatusCode::OK, Vec::new(), None, None)
    } else {
        match query_of(&p) {
            Ok(query) => {
                let results = state.ctx.db.search(&query, Utc::now()).await?;
                (StatusCode::OK, query.terms, Some(results), None)
            }
            Err(e @ AppError::Op(crate::service::Error::Invalid { .. })) => {
                let msg = e.message();
                let text = match lang {
                    UiLang::Id => msg.id,
                    UiLang::En => msg.en,
                };
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Vec::new(),
                    None,
                    Some(text),
                )
            }
            Err(e) => return Err(e),
        }
    };
    let site = super::site::chrome(&state).await;
    let markup = page::render(
        lang,
        &site,
        &SearchPage {
            form: &p.form,
            path,
            shows: &shows,
            terms: &terms,
            results: results.as_ref(),
            error,
        },
    );
    Ok(super::pages::html_response(
        &state.policies.page,
        status,
        lang,
        markup,
    ))
}

/// `/search` is `/cari` in English: one address for the page, the other leads to it.
async fn moved(RawQuery(raw): RawQuery) -> Response {
    let to = match raw.filter(|q| !q.is_empty()) {
        Some(q) => format!("/cari?{q}"),
        None => "/cari".to_owned(),
    };
    let mut res = Response::new(Body::empty());
    *res.status_mut() = StatusCode::MOVED_PERMANENTLY;
    if let Ok(v) = HeaderValue::from_str(&to) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}
