//! Files built into the binary and served as they are: the pages' stylesheet and the player's
//! script under `/static/`, each at a name that carries its hash (so a year's immutable cache,
//! and a new name when it changes), and the feed stylesheet's files (`/feeds/siaran.xsl`,
//! `/feeds/siaran.css`, answered by `feeds` at fixed names that the XSL links by). Pages allow no
//! inline script or style (`security`): what they need is here.

use std::sync::LazyLock;

use axum::{
    Router,
    body::Body,
    extract::Path,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::Response,
    routing::get,
};
use sha2::{Digest as _, Sha256};

use super::conditional::{ETag, none_match};
use crate::{app::AppState, http::error::AppError};

/// A text file served from memory, with a strong `ETag` of its bytes.
#[derive(Debug)]
pub struct Asset {
    stem: &'static str,
    extension: &'static str,
    content_type: &'static str,
    body: &'static str,
    etag: ETag,
    /// `/static/{stem}-{hash}.{extension}`.
    path: String,
}

impl Asset {
    fn new(
        stem: &'static str,
        extension: &'static str,
        content_type: &'static str,
        body: &'static str,
    ) -> Asset {
        let digest = hex::encode(&Sha256::digest(body.as_bytes())[..16]);
        Asset {
            stem,
            extension,
            content_type,
            body,
            path: format!("/static/{stem}-{}.{extension}", &digest[..16]),
            etag: ETag::strong(&digest),
        }
    }

    /// The path pages link it by, which changes when its bytes do.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The answer to a GET or HEAD: the file, or 304 when the client's copy is current.
    pub fn answer(&self, headers: &HeaderMap, cache_control: &'static str) -> Response {
        let mut res = if none_match(headers, &self.etag) {
            let mut res = Response::new(Body::empty());
            *res.status_mut() = StatusCode::NOT_MODIFIED;
            res
        } else {
            let mut res = Response::new(Body::from(self.body));
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(self.content_type),
            );
            res
        };
        let h = res.headers_mut();
        h.insert(header::ETAG, self.etag.header_value());
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(cache_control),
        );
        res
    }
}

/// The archive's pages' styles, and the embeddable player's.
pub static STYLE: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        "siaran",
        "css",
        "text/css; charset=utf-8",
        include_str!("templates/siaran.css"),
    )
});

/// The studio's styles (`templates/studio.rs`).
pub static STUDIO_STYLE: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        "studio",
        "css",
        "text/css; charset=utf-8",
        include_str!("templates/studio.css"),
    )
});

/// Moment links and `#t=` addresses seek the player.
pub static PLAYER: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        "player",
        "js",
        "text/javascript; charset=utf-8",
        include_str!("templates/player.js"),
    )
});

/// tus-js-client 4.3.1 (npm `tus-js-client`, its `dist/tus.min.js` with the licence prepended;
/// `vendor/README.md`): the studio's resumable uploads.
pub static TUS: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        "tus",
        "js",
        "text/javascript; charset=utf-8",
        include_str!("templates/vendor/tus.min.js"),
    )
});

/// The studio's "new episode" page: the upload queue over `TUS`.
pub static STUDIO_UPLOAD: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        "studio-upload",
        "js",
        "text/javascript; charset=utf-8",
        include_str!("templates/studio-upload.js"),
    )
});

/// The stylesheet feeds reference (`feeds/siaran.xsl`), which browsers apply to a feed.
pub static FEED_XSL: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        "siaran",
        "xsl",
        "text/xsl; charset=utf-8",
        include_str!("../../feeds/siaran.xsl"),
    )
});

/// The styles of the page the XSL makes (`feeds/siaran.css`).
pub static FEED_CSS: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        "siaran",
        "css",
        "text/css; charset=utf-8",
        include_str!("../../feeds/siaran.css"),
    )
});

/// A name that carries the current hash never changes its bytes.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Another hash of a file we have: a page from an instance of another version, during a
/// rolling deploy. Answered with our version, which must not be kept under that name.
const REVALIDATE: &str = "no-cache";

pub fn router() -> Router<AppState> {
    Router::new().route("/static/{file}", get(serve))
}

#[tracing::instrument(skip_all, fields(%file))]
async fn serve(Path(file): Path<String>, headers: HeaderMap) -> Result<Response, AppError> {
    for asset in [&*STYLE, &*STUDIO_STYLE, &*PLAYER, &*TUS, &*STUDIO_UPLOAD] {
        if asset.path.strip_prefix("/static/") == Some(file.as_str()) {
            return Ok(asset.answer(&headers, IMMUTABLE));
        }
        let other_version = file
            .strip_prefix(asset.stem)
            .and_then(|rest| rest.strip_prefix('-'))
            .and_then(|rest| rest.strip_suffix(asset.extension))
            .is_some_and(|rest| rest.ends_with('.'));
        if other_version {
            return Ok(asset.answer(&headers, REVALIDATE));
        }
    }
    Err(AppError::not_found("page"))
}
