//! Records the database stores and the operations and edges share: tokens, documents and their
//! links, downloads.

use std::{fmt, str::FromStr};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::{DocumentId, EpisodeId, UserId};

/// What a user, or a token, may do (`access::Action` lists it, `Role::allows` decides). A user
/// may have another role on some shows (`users::ShowRole`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything an editor does, and manages shows, users and API tokens.
    Admin,
    /// Everything to episodes and documents: uploads, writes, reviews, publishes, schedules,
    /// withdraws.
    Editor,
    /// Uploads, writes drafts and submits them for review; never publishes.
    Contributor,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Editor, Role::Contributor];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Editor => "editor",
            Role::Contributor => "contributor",
        }
    }

    /// The role's name for people, in both languages.
    pub fn label(self) -> super::Msg {
        match self {
            Role::Admin => super::Msg::new("Admin", "Admin"),
            Role::Editor => super::Msg::new("Editor", "Editor"),
            Role::Contributor => super::Msg::new("Kontributor", "Contributor"),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "admin" => Ok(Role::Admin),
            "editor" => Ok(Role::Editor),
            "contributor" => Ok(Role::Contributor),
            other => Err(format!(
                "unknown role '{other}' (admin, editor or contributor)"
            )),
        }
    }
}

/// An API token. Only the SHA-256 of its secret is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: Uuid,
    pub name: String,
    /// A token without an owner acts with this role. An owned token acts with its owner's
    /// role as it is now; this is the owner's role when the token was made, for the record.
    pub role: Role,
    pub token_hash: String,
    /// The user who made it in the studio; `None` for a token of `siaran token create` (and
    /// every token made before users existed).
    pub user_id: Option<UserId>,
    pub created_at: DateTime<Utc>,
}

/// The kinds of official document briefings discuss. Stored and answered as kebab-case
/// Indonesian names; common English names are accepted on input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DocumentKind {
    UndangUndang,
    PeraturanPemerintah,
    PeraturanPresiden,
    PeraturanMenteri,
    PeraturanDaerah,
    PeraturanGubernur,
    PeraturanBupati,
    PeraturanWalikota,
    SuratKeputusan,
    SuratEdaran,
    SiaranPers,
    Laporan,
    Other,
}

/// The API contract's document kind where an empty value means none (a list's filter, a
/// document's optional kind): `""` or one of `DocumentKind::ALL`.
pub struct DocumentKindOrEmpty;

impl utoipa::PartialSchema for DocumentKindOrEmpty {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("A document kind, or empty for none"))
            .enum_values(Some(
                std::iter::once("").chain(DocumentKind::ALL.map(DocumentKind::as_str)),
            ))
            .into()
    }
}

impl utoipa::ToSchema for DocumentKindOrEmpty {}

impl DocumentKind {
    pub const ALL: [DocumentKind; 13] = [
        DocumentKind::UndangUndang,
        DocumentKind::PeraturanPemerintah,
        DocumentKind::PeraturanPresiden,
        DocumentKind::PeraturanMenteri,
        DocumentKind::PeraturanDaerah,
        DocumentKind::PeraturanGubernur,
        DocumentKind::PeraturanBupati,
        DocumentKind::PeraturanWalikota,
        DocumentKind::SuratKeputusan,
        DocumentKind::SuratEdaran,
        DocumentKind::SiaranPers,
        DocumentKind::Laporan,
        DocumentKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::UndangUndang => "undang-undang",
            DocumentKind::PeraturanPemerintah => "peraturan-pemerintah",
            DocumentKind::PeraturanPresiden => "peraturan-presiden",
            DocumentKind::PeraturanMenteri => "peraturan-menteri",
            DocumentKind::PeraturanDaerah => "peraturan-daerah",
            DocumentKind::PeraturanGubernur => "peraturan-gubernur",
            DocumentKind::PeraturanBupati => "peraturan-bupati",
            DocumentKind::PeraturanWalikota => "peraturan-walikota",
            DocumentKind::SuratKeputusan => "surat-keputusan",
            DocumentKind::SuratEdaran => "surat-edaran",
            DocumentKind::SiaranPers => "siaran-pers",
            DocumentKind::Laporan => "laporan",
            DocumentKind::Other => "other",
        }
    }

    /// Accepts the kebab-case names, the same with spaces or underscores, in any case, and
    /// English equivalents (`law`, `decree`, `press-release`...).
    pub fn parse(input: &str) -> Option<Self> {
        let norm: String = input
            .trim()
            .to_lowercase()
            .chars()
            .map(|c| if c == ' ' || c == '_' { '-' } else { c })
            .collect();
        if let Some(k) = Self::ALL.iter().find(|k| k.as_str() == norm) {
            return Some(*k);
        }
        let k = match norm.as_str() {
            "uu" | "law" | "act" => DocumentKind::UndangUndang,
            "pp" | "government-regulation" => DocumentKind::PeraturanPemerintah,
            "perpres" | "presidential-regulation" => DocumentKind::PeraturanPresiden,
            "permen" | "ministerial-regulation" => DocumentKind::PeraturanMenteri,
            "perda" | "regional-regulation" => DocumentKind::PeraturanDaerah,
            "pergub" | "governor-regulation" => DocumentKind::PeraturanGubernur,
            "perbup" | "regent-regulation" => DocumentKind::PeraturanBupati,
            "perwali" | "peraturan-wali-kota" | "mayor-regulation" => {
                DocumentKind::PeraturanWalikota
            }
            "sk" | "decree" => DocumentKind::SuratKeputusan,
            "se" | "circular" | "circular-letter" => DocumentKind::SuratEdaran,
            "press-release" => DocumentKind::SiaranPers,
            "report" => DocumentKind::Laporan,
            "lainnya" | "lain-lain" => DocumentKind::Other,
            _ => return None,
        };
        Some(k)
    }
}

impl fmt::Display for DocumentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An official document: a regulation, decree, press release...
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Document {
    pub id: DocumentId,
    pub title: String,
    /// The official number, e.g. "UU No. 14 Tahun 2008".
    pub number: Option<String>,
    pub kind: DocumentKind,
    pub issuer: Option<String>,
    pub issued_on: Option<NaiveDate>,
    /// Where the document can be read, e.g. the JDIH legal database.
    pub url: Option<String>,
    /// The uploaded file (a PDF), if any.
    pub file: Option<DocumentFile>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A document's uploaded file, stored in object storage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct DocumentFile {
    /// The object's key (`documents/DOC/SHA16.pdf`); not shown.
    #[serde(skip_serializing)]
    pub key: String,
    /// The uploader's file name, offered on download.
    pub filename: String,
    pub size_bytes: u64,
    /// Lower-case hex SHA-256 of the file, for citations and checks.
    pub sha256: String,
    pub uploaded_at: DateTime<Utc>,
    /// Where it is served (filled in by the HTTP layer; never stored).
    #[serde(skip_serializing_if = "Option::is_none", skip_deserializing)]
    pub url: Option<String>,
}

impl DocumentFile {
    /// The file's name in its URL: the first 16 digits of its hash, so a new file is a new URL.
    pub fn file_name(&self) -> String {
        format!("{}.pdf", &self.sha256[..16.min(self.sha256.len())])
    }
}

/// A briefing discusses a document, optionally at a moment of the recording.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentLink {
    pub id: Uuid,
    pub episode_id: EpisodeId,
    pub document_id: DocumentId,
    pub at_ms: Option<u64>,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A document as linked from one episode.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct LinkedDocument {
    /// The link's own id (`DELETE /api/v1/episodes/{id}/documents/{link_id}`).
    pub link_id: Uuid,
    #[serde(flatten)]
    pub document: Document,
    pub at_ms: Option<u64>,
    pub note: Option<String>,
}

/// An episode that cites a document, as the document's page and API list it.
#[derive(Debug, Clone, PartialEq)]
pub struct Citation {
    pub link_id: Uuid,
    pub episode: crate::domain::Episode,
    pub show_slug: crate::domain::Slug,
    pub at_ms: Option<u64>,
    pub note: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_kinds_parse_in_both_languages() {
        for k in DocumentKind::ALL {
            assert_eq!(DocumentKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(
            DocumentKind::parse("Peraturan Gubernur"),
            Some(DocumentKind::PeraturanGubernur)
        );
        assert_eq!(DocumentKind::parse("law"), Some(DocumentKind::UndangUndang));
        assert_eq!(DocumentKind::parse("memo"), None);
    }
}

/// What one listener (a salted hash, never an address) has been sent of one media file in one
/// counting window, and whether it became a download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listen {
    pub media_id: crate::domain::MediaId,
    pub day: NaiveDate,
    pub listener: String,
    /// The byte intervals served, as JSON (`analytics::iab::Coverage`).
    pub coverage: String,
    pub counted: bool,
    /// Bumped on every write; a write based on an older version loses (compare-and-set).
    pub version: i64,
}

/// One counted download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download {
    pub id: Uuid,
    pub media_id: crate::domain::MediaId,
    pub episode_id: Option<EpisodeId>,
    pub show_id: Option<crate::domain::ShowId>,
    pub day: NaiveDate,
    pub app: Option<String>,
    pub country: Option<String>,
    pub counted_at: DateTime<Utc>,
}

/// Whose downloads a report adds up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsScope {
    Episode(EpisodeId),
    Show(crate::domain::ShowId),
}

/// Downloads in a date range, broken down three ways. Days without downloads are absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DownloadStats {
    pub total: u64,
    pub by_day: Vec<(NaiveDate, u64)>,
    /// `None` is a client the OPAWG lists do not name.
    pub by_app: Vec<(Option<String>, u64)>,
    /// ISO 3166 codes; `None` when no GeoIP database is configured or the address is unknown.
    pub by_country: Vec<(Option<String>, u64)>,
}
