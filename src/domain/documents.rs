//! A new or changed document as any caller describes it, and the rules it must keep.

use chrono::{DateTime, SubsecRound as _, Utc};
use serde::Deserialize;

use super::{
    Document, DocumentId, DocumentKind, DocumentKindOrEmpty, Rejection, bounds, double_option,
    parse_title,
};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewDocument {
    #[schema(pattern = r"\S", max_length = 500)]
    pub title: String,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub number: Option<String>,
    /// `other` when absent.
    #[serde(default)]
    #[schema(value_type = Option<DocumentKindOrEmpty>)]
    pub kind: Option<String>,
    #[serde(default)]
    #[schema(max_length = 500)]
    pub issuer: Option<String>,
    /// `YYYY-MM-DD`, 1900 to 9999; empty is none.
    #[serde(default)]
    #[schema(
        pattern = r"^((19[0-9]{2}|[2-9][0-9]{3})-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)|02-(0[1-9]|1[0-9]|2[0-8])))?$"
    )]
    pub issued_on: Option<String>,
    /// An absolute http(s) address; empty is none.
    #[serde(default)]
    #[schema(
        pattern = r"^(https?://([A-Za-z0-9-]+\.)*[A-Za-z][A-Za-z0-9-]*(/[!-~]*)?)?$",
        max_length = 2048
    )]
    pub url: Option<String>,
}

/// `PATCH /api/v1/documents/{id}`: the fields given change; `null` clears an optional one.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct DocumentPatch {
    #[schema(pattern = r"\S", max_length = 500)]
    pub title: Option<String>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub number: Option<Option<String>>,
    #[schema(value_type = Option<DocumentKindOrEmpty>)]
    pub kind: Option<String>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub issuer: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>, pattern = r"^((19[0-9]{2}|[2-9][0-9]{3})-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)|02-(0[1-9]|1[0-9]|2[0-8])))?$")]
    pub issued_on: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>, pattern = r"^(https?://([A-Za-z0-9-]+\.)*[A-Za-z][A-Za-z0-9-]*(/[!-~]*)?)?$", max_length = 2048)]
    pub url: Option<Option<String>>,
}

impl DocumentPatch {
    /// `old` with this patch's fields in place, as a new document to check again.
    pub fn applied_to(self, old: &Document) -> NewDocument {
        let keep = |given: Option<Option<String>>, old: Option<String>| given.unwrap_or(old);
        NewDocument {
            title: self.title.unwrap_or_else(|| old.title.clone()),
            number: keep(self.number, old.number.clone()),
            kind: Some(self.kind.unwrap_or_else(|| old.kind.as_str().to_owned())),
            issuer: keep(self.issuer, old.issuer.clone()),
            issued_on: keep(self.issued_on, old.issued_on.map(|d| d.to_string())),
            url: keep(self.url, old.url.clone()),
        }
    }
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// An optional text field, trimmed (empty is none), at most `max` characters.
fn bounded(
    code: &'static str,
    field: &str,
    s: Option<String>,
    max: usize,
) -> Result<Option<String>, Rejection> {
    // As given, surrounding space included: the contract's `maxLength` counts it too.
    if let Some(v) = &s {
        bounds::check_chars(code, field, v, max)?;
    }
    Ok(non_empty(s))
}

/// A document kind as a request names it; absent is `Other`.
pub fn parse_kind(raw: Option<String>) -> Result<DocumentKind, Rejection> {
    Ok(match non_empty(raw) {
        None => DocumentKind::Other,
        Some(k) => DocumentKind::parse(&k).ok_or_else(|| {
            let known = DocumentKind::ALL.map(DocumentKind::as_str).join(", ");
            Rejection::new(
                "invalid-document-kind",
                format!("kind '{k}' tidak dikenal; pilih salah satu: {known}"),
                format!("unknown kind '{k}'; use one of: {known}"),
            )
        })?,
    })
}

impl NewDocument {
    /// The document these fields describe, with a new id, created at `now`.
    pub fn parse(self, now: DateTime<Utc>) -> Result<Document, Rejection> {
        // As stored (milliseconds), so the answer to a write equals what a read gives later.
        let now = now.trunc_subsecs(3);
        let title = parse_title(&self.title)?;
        let kind = parse_kind(self.kind)?;
        let number = bounded(
            "invalid-number",
            "number",
            self.number,
            bounds::MAX_NUMBER_CHARS,
        )?;
        let issuer = bounded(
            "invalid-issuer",
            "issuer",
            self.issuer,
            bounds::MAX_NAME_CHARS,
        )?;
        let issued_on = non_empty(self.issued_on)
            .map(|d| bounds::parse_date("issued_on", &d))
            .transpose()?;
        let url = bounded("invalid-url", "url", self.url, bounds::MAX_URL_CHARS)?
            .map(|u| match url::Url::parse(&u) {
                Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => Ok(parsed.to_string()),
                _ => Err(Rejection::new(
                    "invalid-url",
                    format!("url '{u}' harus berupa alamat http(s) lengkap"),
                    format!("url '{u}' must be an absolute http(s) URL"),
                )),
            })
            .transpose()?;
        Ok(Document {
            id: DocumentId::new(),
            title,
            number,
            kind,
            issuer,
            issued_on,
            url,
            file: None,
            created_at: now,
            updated_at: now,
        })
    }
}
