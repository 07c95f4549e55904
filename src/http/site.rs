//! The site settings as public pages show them (issue 23): [`chrome`], what the pages' frame
//! takes (`templates::SiteChrome`: the name, the logo's URL, the footer, the stylesheet's
//! path); `/site.css`, the settings' colours as a stylesheet (pages allow no inline style), at
//! a path carrying its hash so that it is cached for a year and a change is a new path; and
//! `/site/logo/{file}`, the logo (a new image is a new name, like covers).

use axum::{
    Router,
    body::Body,
    extract::{Path, RawQuery, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse as _, Response},
    routing::get,
};
use sha2::{Digest as _, Sha256};

use super::{
    conditional::{ETag, none_match},
    templates::SiteChrome,
};
use crate::{app::AppState, domain::site::Site, http::error::AppError, storage::ObjectKey};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/site.css", get(stylesheet))
        .route("/site/logo/{file}", get(logo))
}

/// The settings' colours as CSS, read after `siaran.css`. With the defaults it says what
/// `siaran.css` says, so the pages look as they always did.
pub fn css(site: &Site) -> String {
    let accent = site.accent.as_str();
    let mut css = format!(
        "/* The office's colours (studio: Site settings). */\n\
         a {{ color: {accent}; }}\n\
         blockquote {{ border-left-color: {accent}; }}\n\
         header a.home img {{ height: 2rem; width: auto; vertical-align: middle; margin-right: .5rem; }}\n\
         footer .address {{ white-space: pre-line; }}\n"
    );
    if let Some(bar) = &site.header {
        let bar = bar.as_str();
        css.push_str(&format!(
            "body > header {{ background: {bar}; color: #fff; padding: .5rem 1rem; \
             border-bottom: 0; flex-wrap: wrap; }}\n\
             body > header a, body > header a.home {{ color: #fff; }}\n"
        ));
    }
    css
}

fn hash(css: &str) -> String {
    hex::encode(&Sha256::digest(css.as_bytes())[..8])
}

/// What the pages' frame needs of the settings this instance holds.
pub async fn chrome(state: &AppState) -> SiteChrome {
    let site = state.ctx.site.get(state.ctx.db.as_ref()).await;
    let css = css(&site);
    SiteChrome {
        name: site.name.clone(),
        address: site.address.clone(),
        ppid_contact: site.ppid_contact.clone(),
        css_path: format!("/site.css?v={}", hash(&css)),
        logo_url: site
            .logo
            .as_ref()
            .map(|l| format!("/site/logo/{}", l.file_name())),
    }
}

/// `/site.css?v=HASH`: for ever under the current hash; under another (a page made before a
/// change, or by an instance that has not seen it yet) the current styles, not to be kept.
#[tracing::instrument(skip_all)]
async fn stylesheet(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let site = state.ctx.site.get(state.ctx.db.as_ref()).await;
    let css = css(&site);
    let hash = hash(&css);
    let etag = ETag::strong(&hash);
    let cache = if query.as_deref() == Some(&format!("v={hash}")) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut res = if none_match(&headers, &etag) {
        let mut res = Response::new(Body::empty());
        *res.status_mut() = StatusCode::NOT_MODIFIED;
        res
    } else {
        let mut res = Response::new(Body::from(css));
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/css; charset=utf-8"),
        );
        res
    };
    let h = res.headers_mut();
    h.insert(header::ETAG, etag.header_value());
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    res
}

#[tracing::instrument(skip_all, fields(%file))]
async fn logo(
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> Result<Response, AppError> {
    let site = state.ctx.site.get(state.ctx.db.as_ref()).await;
    let logo = site
        .logo
        .as_ref()
        .filter(|l| l.file_name() == file)
        .ok_or(AppError::not_found("page"))?;
    let bytes = state
        .ctx
        .store
        .get(&ObjectKey::from_stored(logo.key.clone()), None)
        .await?;
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, logo.mime_type.clone()),
            (header::CONTENT_LENGTH, logo.size_bytes.to_string()),
            (header::ETAG, format!("\"{}\"", logo.sha256)),
            (
                header::CACHE_CONTROL,
                "public, max-age=31536000, immutable".to_owned(),
            ),
        ],
        Body::from_stream(bytes),
    )
        .into_response())
}
