//! The studio's users (issue 23): who they are (an email, a display name), what they may do (a
//! role, and another role on some shows), and the rules of their values: an email is compared
//! without regard to case, a display name is one line of text, a password is long enough.

use std::{fmt, str::FromStr};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Rejection, Role, UserId, bounds};

/// An email address as Siaran keeps it: trimmed and lower-cased, so that `Ani@Example.go.id`
/// and `ani@example.go.id` are one user.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

/// The longest address SMTP carries (RFC 5321's path limit, less the brackets).
const MAX_EMAIL_BYTES: usize = 254;

impl Email {
    /// An address with one `@`, something either side of it, a dot in the domain, and no space
    /// or control character. Siaran sends no mail: this catches typing mistakes, nothing more.
    pub fn parse(raw: &str) -> Result<Email, Rejection> {
        let email = raw.trim().to_lowercase();
        let bad = || {
            Rejection::new(
                "invalid-email",
                format!("Alamat email tidak sah: '{}'", raw.trim()),
                format!("Not a valid email address: '{}'", raw.trim()),
            )
        };
        let (local, domain) = email.split_once('@').ok_or_else(bad)?;
        let well_formed = !local.is_empty()
            && !domain.is_empty()
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && email.len() <= MAX_EMAIL_BYTES
            && !email.chars().any(|c| c.is_whitespace() || c.is_control());
        if !well_formed {
            return Err(bad());
        }
        Ok(Email(email))
    }

    /// An address as the database stores it (parsed when it was stored).
    pub fn from_stored(stored: String) -> Email {
        Email(stored)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The longest display name, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// A display name: trimmed, not empty, one line, at most `MAX_NAME_CHARS` characters. It is
/// shown on pages and in the audit trail (escaped there like every other value).
pub fn parse_display_name(raw: &str) -> Result<String, Rejection> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(Rejection::new(
            "invalid-name",
            "Nama tidak boleh kosong",
            "The name must not be empty",
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(Rejection::new(
            "invalid-name",
            "Nama harus satu baris, tanpa karakter kendali",
            "The name must be one line, without control characters",
        ));
    }
    bounds::check_chars("invalid-name", "name", name, MAX_NAME_CHARS)?;
    Ok(name.to_owned())
}

/// The shortest password, in characters (NIST SP 800-63B asks for at least 8 where a second
/// factor is absent; a long passphrase is easier to type than a short complex one).
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The longest: enough for any passphrase or password manager, and a bound on hashing work.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// A password that follows the rules. Its `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// At least `MIN_PASSWORD_CHARS` characters, at most `MAX_PASSWORD_BYTES` bytes; taken as
    /// typed (spaces count: a passphrase has them).
    pub fn parse(raw: &str) -> Result<Password, Rejection> {
        if raw.chars().count() < MIN_PASSWORD_CHARS {
            return Err(Rejection::new(
                "password-too-short",
                format!("Kata sandi minimal {MIN_PASSWORD_CHARS} karakter"),
                format!("The password must have at least {MIN_PASSWORD_CHARS} characters"),
            ));
        }
        if raw.len() > MAX_PASSWORD_BYTES {
            return Err(Rejection::new(
                "password-too-long",
                format!("Kata sandi maksimal {MAX_PASSWORD_BYTES} byte"),
                format!("The password must have at most {MAX_PASSWORD_BYTES} bytes"),
            ));
        }
        Ok(Password(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// A user's role on one show, in place of its own role there. An admin's role is not replaced:
/// an admin manages every show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ShowRole {
    Editor,
    Contributor,
    /// The show is not the user's: it may not touch it.
    None,
}

impl ShowRole {
    pub fn as_str(self) -> &'static str {
        match self {
            ShowRole::Editor => "editor",
            ShowRole::Contributor => "contributor",
            ShowRole::None => "none",
        }
    }

    /// The role it gives on its show (`None`: no access).
    pub fn role(self) -> Option<Role> {
        match self {
            ShowRole::Editor => Some(Role::Editor),
            ShowRole::Contributor => Some(Role::Contributor),
            ShowRole::None => None,
        }
    }
}

impl FromStr for ShowRole {
    type Err = Rejection;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "editor" => Ok(ShowRole::Editor),
            "contributor" => Ok(ShowRole::Contributor),
            "none" => Ok(ShowRole::None),
            other => Err(Rejection::new(
                "invalid-role",
                format!("Peran acara tidak dikenal '{other}' (editor, contributor atau none)"),
                format!("Unknown show role '{other}' (editor, contributor or none)"),
            )),
        }
    }
}

/// A role given in a request.
pub fn parse_role(raw: &str) -> Result<Role, Rejection> {
    raw.trim().parse().map_err(|_| {
        Rejection::new(
            "invalid-role",
            format!(
                "Peran tidak dikenal '{}' (admin, editor atau contributor)",
                raw.trim()
            ),
            format!(
                "Unknown role '{}' (admin, editor or contributor)",
                raw.trim()
            ),
        )
    })
}

/// A person who works in the studio. Its password is not part of it: only the operations that
/// check or set one read or write it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub name: String,
    /// Its role on every show, unless another is given for a show (`ShowRole`).
    pub role: Role,
    /// A disabled user cannot sign in; its sessions are ended and its tokens refused.
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A user to create, as a command line or a form gives it.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub role: Role,
}

impl NewUser {
    pub fn parse(self, now: DateTime<Utc>) -> Result<User, Rejection> {
        Ok(User {
            id: UserId::new(),
            email: Email::parse(&self.email)?,
            name: parse_display_name(&self.name)?,
            role: self.role,
            disabled: false,
            created_at: now,
            updated_at: now,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_compared_without_case() {
        let a = Email::parse("  Ani.Rahma@Kaltimprov.GO.ID ").unwrap();
        assert_eq!(a.as_str(), "ani.rahma@kaltimprov.go.id");
        assert_eq!(a, Email::parse("ani.rahma@kaltimprov.go.id").unwrap());
        for bad in [
            "",
            "ani",
            "@kaltimprov.go.id",
            "ani@",
            "ani@localhost",
            "ani@@x.id",
            "a ni@x.id",
            "ani@.x.id",
        ] {
            assert_eq!(
                Email::parse(bad).unwrap_err().code,
                "invalid-email",
                "{bad:?}"
            );
        }
        // Surrounding space, a newline included, is trimmed.
        assert!(Email::parse("ani@x.id\n").is_ok());
    }

    #[test]
    fn passwords_have_a_minimum_length_and_stay_hidden() {
        let short = Password::parse("pendek123").unwrap_err();
        assert_eq!(short.code, "password-too-short");
        assert!(short.msg.id.contains("minimal 12"), "{}", short.msg.id);
        assert!(short.msg.en.contains("at least 12"), "{}", short.msg.en);
        // Characters, not bytes: twelve Javanese letters are enough.
        assert!(Password::parse(&"ꦱ".repeat(12)).is_ok());
        let p = Password::parse("kata sandi panjang").unwrap();
        assert!(!format!("{p:?}").contains("sandi"));
        assert!(Password::parse(&"x".repeat(MAX_PASSWORD_BYTES + 1)).is_err());
    }

    #[test]
    fn display_names_are_one_line() {
        assert_eq!(parse_display_name("  Ani  ").unwrap(), "Ani");
        assert!(parse_display_name(" ").is_err());
        assert!(parse_display_name("Ani\nBudi").is_err());
        assert!(parse_display_name(&"a".repeat(MAX_NAME_CHARS + 1)).is_err());
        assert_eq!(
            parse_display_name("<script>alert(1)</script>").unwrap(),
            "<script>alert(1)</script>",
            "markup is text, escaped where it is shown"
        );
    }

    #[test]
    fn roles_parse() {
        assert_eq!(parse_role("contributor").unwrap(), Role::Contributor);
        assert_eq!(parse_role("owner").unwrap_err().code, "invalid-role");
        assert_eq!("none".parse::<ShowRole>().unwrap().role(), None);
        assert_eq!(
            "editor".parse::<ShowRole>().unwrap().role(),
            Some(Role::Editor)
        );
    }
}
