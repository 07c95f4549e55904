//! Slugs (URL path segments) and language tags.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SlugError {
    #[error(
        "slug must be 1 to 100 characters of a-z, 0-9 and '-', not starting or ending with '-'"
    )]
    Invalid,
}

/// A URL-safe identifier: lower-case ASCII letters, digits and single hyphens.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

impl Slug {
    pub fn parse(s: &str) -> Result<Self, SlugError> {
        let ok = !s.is_empty()
            && s.len() <= 100
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-')
            && !s.ends_with('-')
            && !s.contains("--");
        if ok {
            Ok(Slug(s.to_owned()))
        } else {
            Err(SlugError::Invalid)
        }
    }

    /// Derives a slug from a free-text title: ASCII-folds common Latin letters, keeps letters and
    /// digits, joins words with '-', and cuts at 80 characters. Falls back to `fallback`.
    pub fn from_title(title: &str, fallback: &str) -> Self {
        let mut out = String::new();
        let mut pending_dash = false;
        for c in title.chars().map(fold_char) {
            if c.is_ascii_alphanumeric() {
                if pending_dash && !out.is_empty() {
                    out.push('-');
                }
                pending_dash = false;
                out.push(c.to_ascii_lowercase());
            } else {
                pending_dash = true;
            }
            if out.len() >= 80 {
                break;
            }
        }
        let out = out.trim_end_matches('-').to_owned();
        Slug::parse(&out).unwrap_or_else(|_| Slug(fallback.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn fold_char(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => 'a',
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => 'i',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' => 'o',
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => 'u',
        'ñ' | 'Ñ' => 'n',
        'ç' | 'Ç' => 'c',
        other => other,
    }
}

impl TryFrom<String> for Slug {
    type Error = SlugError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Slug::parse(&s)
    }
}

impl From<Slug> for String {
    fn from(s: Slug) -> String {
        s.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A BCP 47 language tag as podcast feeds use it (`id`, `en`, `id-ID`, `jv`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "String", into = "String")]
pub struct Lang(String);

impl Lang {
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut parts = s.split('-');
        let primary = parts.next().unwrap_or_default();
        let primary_ok =
            (2..=3).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_alphabetic());
        let rest_ok = parts
            .all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
        if primary_ok && rest_ok {
            Ok(Lang(s.to_owned()))
        } else {
            Err(format!(
                "'{s}' is not a language tag such as 'id' or 'en-US'"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Lang {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Lang::parse(&s)
    }
}

impl From<Lang> for String {
    fn from(l: Lang) -> String {
        l.0
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert!(Slug::parse("demo").is_ok());
        assert!(Slug::parse("briefing-2026").is_ok());
        for bad in ["", "-a", "a-", "a--b", "A", "a b", "../x", "é"] {
            assert_eq!(Slug::parse(bad), Err(SlugError::Invalid), "{bad:?}");
        }
        assert_eq!(
            Slug::from_title("Peraturan Gubernur No. 49/2023: Apa yang Berubah?", "x").as_str(),
            "peraturan-gubernur-no-49-2023-apa-yang-berubah"
        );
        assert_eq!(Slug::from_title("…", "fallback").as_str(), "fallback");
        assert_eq!(Slug::from_title("Café Élan", "x").as_str(), "cafe-elan");
    }

    #[test]
    fn langs() {
        assert!(Lang::parse("id").is_ok());
        assert!(Lang::parse("en-US").is_ok());
        assert!(Lang::parse("").is_err());
        assert!(Lang::parse("indonesian").is_err());
    }
}
