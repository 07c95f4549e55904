//! A new or changed show, as any caller describes it (the API, the demo, an import), and the
//! rules it must keep: `NewShow::parse` is the one place they are checked.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    Lang, Rejection, Show, ShowId, ShowMeta, Urls, bounds,
    category::{CategoryName, category_is_known},
    parse_description, parse_slug, parse_title,
};

/// The Podcasting 2.0 namespace for `podcast:guid` (UUIDv5).
const PODCAST_GUID_NAMESPACE: Uuid = uuid::uuid!("ead4c236-bf58-58c6-a2c6-a6b28d128cb6");

/// Slugs whose feed address Siaran uses itself.
const RESERVED_SLUGS: [&str; 1] = ["opml"];

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewShow {
    #[schema(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 100)]
    pub slug: String,
    #[schema(pattern = r"\S", max_length = 500)]
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// A language tag (`id`, `en`, `id-ID`); `id` when absent.
    #[serde(default = "default_language")]
    #[schema(pattern = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")]
    pub language: String,
    /// The office or official; podcast directories show it.
    #[serde(default)]
    #[schema(required = true, pattern = r"\S", max_length = 500)]
    pub author: String,
    /// The owner's address, which directories write to.
    #[serde(default)]
    #[schema(
        required = true,
        pattern = r"^[!-?A-~]+@[!-?A-~]+\.[!-?A-~]+$",
        max_length = 254
    )]
    pub email: String,
    /// `Government` when absent.
    #[serde(default = "default_category")]
    #[schema(value_type = CategoryName)]
    pub category: String,
    #[serde(default)]
    pub explicit: bool,
    /// Type, medium, block, complete, funding, license, persons, location...
    #[serde(default)]
    pub meta: ShowMeta,
}

/// The fields given change, the others stay as they are. The `podcast:guid` never changes; a
/// new slug keeps the old feed URL answering 301.
#[derive(Debug, Default, Clone, Deserialize, utoipa::ToSchema)]
pub struct ShowPatch {
    #[schema(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 100)]
    pub slug: Option<String>,
    #[schema(pattern = r"\S", max_length = 500)]
    pub title: Option<String>,
    pub description: Option<String>,
    #[schema(pattern = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")]
    pub language: Option<String>,
    #[schema(pattern = r"\S", max_length = 500)]
    pub author: Option<String>,
    #[schema(pattern = r"^[!-?A-~]+@[!-?A-~]+\.[!-?A-~]+$", max_length = 254)]
    pub email: Option<String>,
    #[schema(value_type = Option<CategoryName>)]
    pub category: Option<String>,
    pub explicit: Option<bool>,
    pub meta: Option<ShowMeta>,
}

fn default_language() -> String {
    "id".into()
}

fn default_category() -> String {
    "Government".into()
}

impl ShowPatch {
    /// `old` with this patch's fields in place, as a new show to check again.
    pub fn applied_to(self, old: &Show) -> NewShow {
        NewShow {
            slug: self.slug.unwrap_or_else(|| old.slug.to_string()),
            title: self.title.unwrap_or_else(|| old.title.clone()),
            description: self.description.unwrap_or_else(|| old.description.clone()),
            language: self.language.unwrap_or_else(|| old.language.to_string()),
            author: self.author.unwrap_or_else(|| old.author.clone()),
            email: self.email.unwrap_or_else(|| old.email.clone()),
            category: self.category.unwrap_or_else(|| old.category.clone()),
            explicit: self.explicit.unwrap_or(old.explicit),
            meta: self.meta.unwrap_or_else(|| old.meta.clone()),
        }
    }
}

impl NewShow {
    /// The show these fields describe, with a new id; every problem names its field in both
    /// languages.
    pub fn parse(&self, urls: &Urls, now: DateTime<Utc>) -> Result<Show, Rejection> {
        let slug = parse_slug(&self.slug)?;
        // `/feeds/opml.xml` lists every show: no show's feed may take its address.
        if RESERVED_SLUGS.contains(&slug.as_str()) {
            return Err(Rejection::new(
                "invalid-slug",
                format!("slug '{slug}' dicadangkan untuk Siaran"),
                format!("the slug '{slug}' is reserved by Siaran"),
            ));
        }
        let title = parse_title(&self.title)?;
        let description = parse_description(&self.description)?;
        let language = Lang::parse(self.language.trim()).map_err(|en| {
            Rejection::new(
                "invalid-language",
                format!("language harus berupa kode bahasa seperti 'id' atau 'en': {en}"),
                en,
            )
        })?;
        // Podcast directories show the author and contact the owner by this address.
        let author = self.author.trim().to_owned();
        if author.is_empty() {
            return Err(Rejection::new(
                "invalid-author",
                "author tidak boleh kosong (nama instansi atau pejabat)",
                "author must not be empty (the office or official)",
            ));
        }
        bounds::check_chars("invalid-author", "author", &author, bounds::MAX_NAME_CHARS)?;
        let email = self.email.trim().to_owned();
        if !looks_like_email(&email) || email.len() > bounds::MAX_EMAIL_CHARS {
            return Err(Rejection::new(
                "invalid-email",
                "email harus alamat surel pemilik acara yang sah (paling banyak 254 karakter)",
                "email must be the show owner's valid address (at most 254 characters)",
            ));
        }
        let category = self.category.trim().to_owned();
        if !category_is_known(&category) {
            return Err(Rejection::new(
                "invalid-category",
                format!(
                    "category '{category}' tidak ada di daftar kategori Apple (contoh: 'Government', 'News > Politics')"
                ),
                format!(
                    "category '{category}' is not in Apple's category list (e.g. 'Government', 'News > Politics')"
                ),
            ));
        }
        let feed_url = urls.feed(&slug);
        let without_scheme = feed_url
            .split_once("://")
            .map_or(feed_url.as_str(), |(_, rest)| rest)
            .trim_end_matches('/');
        self.meta.validate().map_err(|e| Rejection::from(&e))?;
        Ok(Show {
            id: ShowId::new(),
            podcast_guid: Uuid::new_v5(&PODCAST_GUID_NAMESPACE, without_scheme.as_bytes()),
            slug,
            title,
            description,
            language,
            author,
            email,
            category,
            explicit: self.explicit,
            artwork: None,
            renamed_at: None,
            meta: self.meta.clone(),
            created_at: now,
            updated_at: now,
        })
    }
}

fn looks_like_email(s: &str) -> bool {
    s.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !s.contains(char::is_whitespace)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn podcast_guid_follows_the_podcasting_2_0_rule() {
        // The namespace's own example: podcastindex.org/namespace/1.0 guid section.
        let guid = Uuid::new_v5(&PODCAST_GUID_NAMESPACE, b"mp3s.nashownotes.com/pc20rss.xml");
        assert_eq!(guid.to_string(), "917393e3-1b1e-5cef-ace4-edaa54e1f810");
    }

    #[test]
    fn emails() {
        assert!(looks_like_email("ppid@kaltimprov.go.id"));
        assert!(!looks_like_email("ppid"));
        assert!(!looks_like_email("a b@c.d"));
    }
}
