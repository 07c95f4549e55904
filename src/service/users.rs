//! Users (issue 23): create one, give it a password (Argon2id, hashed on the blocking pool) or a
//! one-time link to set one, reset it, disable it, give it another role on a show, sign it in
//! with throttling, and say what it may do (`access`). Each change is in the audit trail with
//! whoever made it; a change that must end a user's sessions (disabled, new password, reset)
//! ends them in its own transaction.
//!
//! Throttling: 10 failed logins against one account or from one address within 15 minutes, and
//! the next attempt is refused, password unchecked, until the oldest of those ten is 15 minutes
//! old. Failures are rows in the database, so every instance counts them all.

use std::sync::LazyLock;

use argon2::{
    Argon2, PasswordHash, PasswordHasher as _, PasswordVerifier as _, password_hash::SaltString,
};
use chrono::{DateTime, Duration, Utc};
use rand::RngCore as _;
use serde_json::json;

use super::{Error, audit, or_not_found};
use crate::{
    db::{Db, DbError, LoginKey},
    domain::{
        Role, Show, UserId,
        access::Access,
        audit::{Actor, AuditEntry, Entity, diff},
        users::{Email, NewUser, Password, ShowRole, User},
    },
};

/// How long a link to set a password works.
pub const LINK_VALIDITY: Duration = Duration::hours(72);
/// Failed logins against one account, or from one address, within `THROTTLE_WINDOW` that make
/// the next attempt wait.
pub const THROTTLE_LIMIT: u32 = 10;
pub const THROTTLE_WINDOW: Duration = Duration::minutes(15);

/// Who the audit trail names for a change made by `user`, signed in.
pub fn actor(user: &User) -> Actor {
    Actor {
        token_id: None,
        user_id: Some(user.id),
        name: user.name.clone(),
    }
}

/// Who the audit trail names for what `siaran user ...` does.
pub fn cli_actor() -> Actor {
    Actor::system("cli")
}

/// What `user` may do: its role, and its roles on shows.
pub async fn access(db: &dyn Db, user: &User) -> Result<Access, Error> {
    let shows = db.show_roles(user.id).await?;
    Ok(Access::new(user.role, shows))
}

pub async fn load(db: &dyn Db, id: UserId) -> Result<User, Error> {
    db.user(id).await.map_err(or_not_found("user"))
}

/// The user with this email (in any case).
pub async fn by_email(db: &dyn Db, email: &str) -> Result<User, Error> {
    let email = Email::parse(email)?;
    db.user_by_email(&email).await.map_err(or_not_found("user"))
}

/// Creates a user without a password: give it one with `set_password`, or a link with
/// `password_link`.
pub async fn create(
    db: &dyn Db,
    actor: &Actor,
    new: NewUser,
    now: DateTime<Utc>,
) -> Result<User, Error> {
    let user = new.parse(now)?;
    match db.create_user(&user).await {
        Ok(()) => {}
        Err(DbError::Conflict(_)) => {
            return Err(Error::conflict(
                "email-taken",
                format!("Sudah ada pengguna dengan email {}", user.email),
                format!("A user with the email {} exists already", user.email),
            ));
        }
        Err(e) => return Err(e.into()),
    }
    audit(
        db,
        AuditEntry::new(Entity::User, user.id, "created", actor).with_changes(json!({
            "email": user.email, "name": user.name, "role": user.role,
        })),
    )
    .await;
    Ok(user)
}

/// Sets `user`'s password; its sessions and links end.
pub async fn set_password(
    db: &dyn Db,
    actor: &Actor,
    user: &User,
    password: Password,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let hash = hash_password(password).await?;
    db.set_password_hash(user.id, Some(&hash), now)
        .await
        .map_err(or_not_found("user"))?;
    audit(
        db,
        AuditEntry::new(Entity::User, user.id, "password-set", actor),
    )
    .await;
    Ok(())
}

/// A new link for `user` to set its password, valid `LINK_VALIDITY`, in place of any it had;
/// answers the link's secret (shown once, stored hashed). With `reset`, the password it had
/// stops working and its sessions end at once.
pub async fn password_link(
    db: &dyn Db,
    actor: &Actor,
    user: &User,
    reset: bool,
    now: DateTime<Utc>,
) -> Result<String, Error> {
    if user.disabled {
        return Err(Error::invalid(
            "user-disabled",
            format!("Pengguna {} dinonaktifkan", user.email),
            format!("The user {} is disabled", user.email),
        ));
    }
    if reset {
        db.set_password_hash(user.id, None, now)
            .await
            .map_err(or_not_found("user"))?;
    }
    let secret = link_secret();
    db.create_password_link(user.id, &super::tokens::hash(&secret), now + LINK_VALIDITY)
        .await?;
    let action = if reset {
        "password-reset"
    } else {
        "password-link-created"
    };
    audit(db, AuditEntry::new(Entity::User, user.id, action, actor)).await;
    Ok(secret)
}

/// The user a link is for, if it is still good.
pub async fn link_user(
    db: &dyn Db,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<Option<User>, Error> {
    let Some(id) = db
        .password_link_user(&super::tokens::hash(secret), now)
        .await?
    else {
        return Ok(None);
    };
    let user = load(db, id).await?;
    Ok((!user.disabled).then_some(user))
}

/// Sets the password of the user a link is for, using the link up; that user's sessions end.
pub async fn set_password_by_link(
    db: &dyn Db,
    secret: &str,
    password: Password,
    now: DateTime<Utc>,
) -> Result<User, Error> {
    let hash = hash_password(password).await?;
    let id = db
        .set_password_by_link(&super::tokens::hash(secret), &hash, now)
        .await?
        .ok_or(Error::NotFound {
            what: "password-link",
        })?;
    let user = load(db, id).await?;
    audit(
        db,
        AuditEntry::new(Entity::User, user.id, "password-set", &actor(&user)),
    )
    .await;
    Ok(user)
}

/// Disables `user` (its sessions and links end at once, its tokens stop working) or enables it
/// again.
pub async fn set_disabled(
    db: &dyn Db,
    actor: &Actor,
    user: User,
    disabled: bool,
    now: DateTime<Utc>,
) -> Result<User, Error> {
    if user.disabled == disabled {
        return Ok(user);
    }
    let changed = User {
        disabled,
        updated_at: now,
        ..user.clone()
    };
    db.update_user(&changed)
        .await
        .map_err(or_not_found("user"))?;
    let action = if disabled { "disabled" } else { "enabled" };
    audit(db, AuditEntry::new(Entity::User, changed.id, action, actor)).await;
    Ok(changed)
}

/// Changes `user`'s name and role.
pub async fn update(
    db: &dyn Db,
    actor: &Actor,
    user: User,
    name: Option<&str>,
    role: Option<Role>,
    now: DateTime<Utc>,
) -> Result<User, Error> {
    let mut changed = user.clone();
    if let Some(name) = name {
        changed.name = crate::domain::users::parse_display_name(name)?;
    }
    if let Some(role) = role {
        changed.role = role;
    }
    if changed == user {
        return Ok(user);
    }
    changed.updated_at = now;
    db.update_user(&changed)
        .await
        .map_err(or_not_found("user"))?;
    audit(
        db,
        AuditEntry::new(Entity::User, changed.id, "updated", actor)
            .with_changes(diff(&user, &changed)),
    )
    .await;
    Ok(changed)
}

/// Gives `user` another role on `show`, or with `None` its own role there again.
pub async fn set_show_role(
    db: &dyn Db,
    actor: &Actor,
    user: &User,
    show: &Show,
    role: Option<ShowRole>,
) -> Result<(), Error> {
    db.set_show_role(user.id, show.id, role).await?;
    audit(
        db,
        AuditEntry::new(Entity::User, user.id, "show-role-set", actor).with_changes(json!({
            "show": show.slug, "role": role,
        })),
    )
    .await;
    Ok(())
}

/// Why a login did not sign anyone in.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Too many failures for the account or the address: try again after this long.
    #[error("too many failed logins; retry after {0}")]
    Throttled(Duration),
    /// No such user, a wrong password, no password yet, or a disabled user: the person is
    /// told the same for each, so that nobody learns which emails have accounts.
    #[error("wrong email or password")]
    Refused,
    #[error(transparent)]
    Failed(#[from] Error),
}

/// Signs in the user with this email and password, coming from `address`, unless failures
/// throttle the account or the address.
pub async fn login(
    db: &dyn Db,
    email: &str,
    password: &str,
    address: &str,
    now: DateTime<Utc>,
) -> Result<User, LoginError> {
    let parsed = Email::parse(email).ok();
    // An address that is not one is still an account tried, counted as typed.
    let account = parsed
        .as_ref()
        .map_or_else(|| email.trim().to_lowercase(), |e| e.as_str().to_owned());
    if let Some(wait) = throttled(db, &account, address, now).await? {
        return Err(LoginError::Throttled(wait));
    }
    let user = match &parsed {
        Some(email) => match db.user_by_email(email).await {
            Ok(user) => Some(user),
            Err(DbError::NotFound) => None,
            Err(e) => return Err(Error::from(e).into()),
        },
        None => None,
    };
    let hash = match &user {
        Some(u) => db.password_hash(u.id).await.map_err(Error::from)?,
        None => None,
    };
    // A missing user or password is checked against a hash all the same, so that the answer
    // takes as long as for a wrong password.
    let verified = verify_password(password.to_owned(), hash).await?;
    match user {
        Some(user) if verified && !user.disabled => {
            // Housekeeping where it costs nothing noticeable: one indexed delete each.
            let _ = db.delete_expired_sessions(now).await;
            let _ = db.forget_login_failures(now - THROTTLE_WINDOW).await;
            Ok(user)
        }
        _ => {
            // Failures older than the window count for nothing: the table keeps one window's.
            let _ = db.forget_login_failures(now - THROTTLE_WINDOW).await;
            db.record_login_failure(&account, address, now)
                .await
                .map_err(Error::from)?;
            Err(LoginError::Refused)
        }
    }
}

/// How long until `account` and `address` may try again, if either is throttled.
async fn throttled(
    db: &dyn Db,
    account: &str,
    address: &str,
    now: DateTime<Utc>,
) -> Result<Option<Duration>, Error> {
    let since = now - THROTTLE_WINDOW;
    let mut wait = None;
    for key in [LoginKey::Account(account), LoginKey::Address(address)] {
        // The tenth most recent failure: when it leaves the window, nine remain.
        if let Some(at) = db.nth_login_failure(key, since, THROTTLE_LIMIT).await? {
            let until = (at + THROTTLE_WINDOW - now).max(Duration::seconds(1));
            wait = Some(wait.map_or(until, |w: Duration| w.max(until)));
        }
    }
    Ok(wait)
}

/// A link's secret: 32 random bytes, URL-safe base64.
fn link_secret() -> String {
    use base64::Engine as _;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Argon2id with the crate's defaults (19 MiB, 2 passes, 1 lane: OWASP's minimum), as a PHC
/// string, on the blocking pool: a hash takes tens of milliseconds of CPU.
async fn hash_password(password: Password) -> Result<String, Error> {
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
        Argon2::default()
            .hash_password(password.expose().as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
    })
    .await
    .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))?
    .map_err(Error::Internal)
}

/// What a missing password is checked against: a hash of nothing anyone can type here.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let salt = SaltString::encode_b64(b"siaran-no-user!!").expect("16 bytes make a salt");
    Argon2::default()
        .hash_password(b"\0no password\0", &salt)
        .map(|h| h.to_string())
        .expect("hashing with the default parameters works")
});

/// Whether `password` matches `hash` (a PHC string); with no hash, false after the same work.
async fn verify_password(password: String, hash: Option<String>) -> Result<bool, Error> {
    tokio::task::spawn_blocking(move || {
        let present = hash.is_some();
        let phc = hash.unwrap_or_else(|| DUMMY_HASH.clone());
        let Ok(parsed) = PasswordHash::new(&phc) else {
            tracing::error!("a stored password hash does not parse");
            return false;
        };
        let matches = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        present && matches
    })
    .await
    .map_err(|e| Error::Internal(anyhow::anyhow!("checking a password: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn passwords_hash_with_argon2id_and_verify() {
        let hash = hash_password(Password::parse("kata sandi rahasia").unwrap())
            .await
            .unwrap();
        assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
        assert!(
            verify_password("kata sandi rahasia".into(), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(
            !verify_password("kata sandi salah!!".into(), Some(hash))
                .await
                .unwrap()
        );
        assert!(
            !verify_password("\0no password\0".into(), None)
                .await
                .unwrap(),
            "no hash never verifies, even for the dummy's own input"
        );
    }

    #[test]
    fn link_secrets_are_url_safe_and_random() {
        let (a, b) = (link_secret(), link_secret());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
    }
}
