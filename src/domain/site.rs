//! The office's site settings (issue 23): the name every public page, the embed player and a
//! feed's browser view carry, its logo, its two colours and the footer (address, the PPID's
//! contact). `SiteForm::parse` holds the rules; `Site::default` is Siaran's look before an
//! admin changes anything.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Rejection, ShowArtwork};

pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_FOOTER_CHARS: usize = 500;
/// WCAG 2.1 AA's contrast for normal text (1.4.3): the accent is link text on the white
/// page, the header colour is the background of the header's white text.
pub const MIN_CONTRAST: f64 = 4.5;
/// The links' colour of `siaran.css`.
pub const DEFAULT_ACCENT: &str = "#0b5394";

/// A colour as `#rrggbb` (lower case).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Colour(String);

impl Colour {
    /// `raw` as `#rrggbb`, its contrast against white at least [`MIN_CONTRAST`]; `field`
    /// names it in the refusal.
    pub fn parse(field: &'static str, raw: &str) -> Result<Colour, Rejection> {
        let raw = raw.trim().to_ascii_lowercase();
        let hex = raw.strip_prefix('#').unwrap_or("");
        if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Rejection::new(
                "invalid-colour",
                format!("Warna {field} harus berbentuk #rrggbb, misalnya #0b5394"),
                format!("The {field} colour must be written #rrggbb, e.g. #0b5394"),
            ));
        }
        let colour = Colour(raw);
        let ratio = colour.contrast_with_white();
        if ratio < MIN_CONTRAST {
            return Err(Rejection::new(
                "low-contrast-colour",
                format!(
                    "Warna {field} {} terlalu terang: kontrasnya dengan putih {ratio:.1}:1, \
                     minimal {MIN_CONTRAST}:1 (WCAG 2.1 AA) agar teks terbaca",
                    colour.0
                ),
                format!(
                    "The {field} colour {} is too light: its contrast with white is \
                     {ratio:.1}:1, at least {MIN_CONTRAST}:1 is needed (WCAG 2.1 AA) for text to \
                     be readable",
                    colour.0
                ),
            ));
        }
        Ok(colour)
    }

    /// A colour as the database holds it, checked when it was saved.
    pub fn from_stored(raw: String) -> Colour {
        Colour(raw)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// WCAG 2.1's contrast ratio between this colour and white.
    pub fn contrast_with_white(&self) -> f64 {
        let channel = |i: usize| {
            let hex = self.0.get(1 + 2 * i..3 + 2 * i).unwrap_or("00");
            let c = f64::from(u8::from_str_radix(hex, 16).unwrap_or(0)) / 255.0;
            if c <= 0.039_28 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        let luminance = 0.2126 * channel(0) + 0.7152 * channel(1) + 0.0722 * channel(2);
        1.05 / (luminance + 0.05)
    }
}

/// The settings as stored (or the defaults).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Site {
    pub name: String,
    /// The office's address, as lines of plain text.
    pub address: String,
    /// How to reach the PPID (the officer for public information), plain text.
    pub ppid_contact: String,
    /// Links and accents on the white page.
    pub accent: Colour,
    /// The header bar behind the name in white; none: no bar, as before.
    pub header: Option<Colour>,
    pub logo: Option<ShowArtwork>,
    #[serde(skip)]
    pub updated_at: Option<DateTime<Utc>>,
}

impl Default for Site {
    fn default() -> Self {
        Site {
            name: "Siaran".to_owned(),
            address: String::new(),
            ppid_contact: String::new(),
            accent: Colour(DEFAULT_ACCENT.to_owned()),
            header: None,
            logo: None,
            updated_at: None,
        }
    }
}

/// The settings form (`/studio/site`): text as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SiteForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub ppid_contact: String,
    #[serde(default)]
    pub accent: String,
    /// Empty: no header bar.
    #[serde(default)]
    pub header: String,
}

impl SiteForm {
    /// The form's values of `site`.
    pub fn of(site: &Site) -> SiteForm {
        SiteForm {
            name: site.name.clone(),
            address: site.address.clone(),
            ppid_contact: site.ppid_contact.clone(),
            accent: site.accent.as_str().to_owned(),
            header: site
                .header
                .as_ref()
                .map(|c| c.as_str().to_owned())
                .unwrap_or_default(),
        }
    }

    /// The settings these fields give, keeping `old`'s logo.
    pub fn parse(self, old: &Site, now: DateTime<Utc>) -> Result<Site, Rejection> {
        let name = one_line(&self.name);
        if name.is_empty() {
            return Err(Rejection::new(
                "invalid-site-name",
                "Nama kantor wajib diisi",
                "The office's name is required",
            ));
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(Rejection::new(
                "invalid-site-name",
                format!("Nama kantor paling panjang {MAX_NAME_CHARS} karakter"),
                format!("The office's name is at most {MAX_NAME_CHARS} characters"),
            ));
        }
        let address = footer_text("alamat", "address", &self.address)?;
        let ppid_contact = footer_text("kontak PPID", "PPID contact", &self.ppid_contact)?;
        let accent = Colour::parse("aksen/accent", &self.accent)?;
        let header = match self.header.trim() {
            "" => None,
            raw => Some(Colour::parse("kepala/header", raw)?),
        };
        Ok(Site {
            name,
            address,
            ppid_contact,
            accent,
            header,
            logo: old.logo.clone(),
            updated_at: Some(now),
        })
    }
}

/// `raw` on one line: control characters (line breaks too) become spaces, runs of space one.
fn one_line(raw: &str) -> String {
    raw.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A footer field: plain text lines, trimmed, without control characters, bounded.
fn footer_text(id: &str, en: &str, raw: &str) -> Result<String, Rejection> {
    let text = raw
        .lines()
        .map(one_line)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    if text.chars().count() > MAX_FOOTER_CHARS {
        return Err(Rejection::new(
            "invalid-site-footer",
            format!("Isian {id} paling panjang {MAX_FOOTER_CHARS} karakter"),
            format!("The {en} is at most {MAX_FOOTER_CHARS} characters"),
        ));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(accent: &str, header: &str) -> SiteForm {
        SiteForm {
            name: " Diskominfo\n Kaltim ".into(),
            address: "Jl. Gajah Mada No. 2\r\n\r\nSamarinda\u{7}".into(),
            ppid_contact: "ppid@kaltimprov.go.id".into(),
            accent: accent.into(),
            header: header.into(),
        }
    }

    #[test]
    fn contrast_follows_wcag() {
        let c = |s: &str| Colour(s.to_owned()).contrast_with_white();
        assert!((c("#000000") - 21.0).abs() < 0.01);
        assert!((c("#ffffff") - 1.0).abs() < 0.01);
        // WebAIM's checker: #767676 on white is 4.54:1, #777777 4.48:1.
        assert!((c("#767676") - 4.54).abs() < 0.01);
        assert!(c("#777777") < MIN_CONTRAST);
        assert!(c(DEFAULT_ACCENT) > 7.0);
    }

    #[test]
    fn the_form_is_parsed() {
        let now = Utc::now();
        let site = form("#0B5394", "").parse(&Site::default(), now).unwrap();
        assert_eq!(site.name, "Diskominfo Kaltim");
        assert_eq!(site.address, "Jl. Gajah Mada No. 2\nSamarinda");
        assert_eq!(site.accent.as_str(), "#0b5394");
        assert_eq!(site.header, None);
        let site = form("#0b5394", "#1d4e89").parse(&site, now).unwrap();
        assert_eq!(site.header.unwrap().as_str(), "#1d4e89");
        for (accent, header, code) in [
            ("0b5394", "", "invalid-colour"),
            ("#0b539", "", "invalid-colour"),
            ("red", "", "invalid-colour"),
            ("#ffcc00", "", "low-contrast-colour"),
            ("#0b5394", "#87ceeb", "low-contrast-colour"),
        ] {
            let e = form(accent, header)
                .parse(&Site::default(), now)
                .unwrap_err();
            assert_eq!(e.code, code, "{accent} {header}");
        }
        let mut empty = form("#0b5394", "");
        empty.name = " \n ".into();
        assert_eq!(
            empty.parse(&Site::default(), now).unwrap_err().code,
            "invalid-site-name"
        );
    }
}
