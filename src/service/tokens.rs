//! API tokens. A token is `siaran_` followed by 32 random bytes in hex; only its SHA-256 is
//! stored, so a leaked database does not leak working tokens.
//!
//! A token made in the studio is its user's: it acts with the user's role as it is when used
//! (its roles on shows included), is named in the audit trail by the user's name, and stops
//! working when the user is disabled. A token of `siaran token create` has no owner and acts
//! with its own role.

use chrono::{DateTime, Utc};
use rand::RngCore as _;
use serde_json::json;
use sha2::{Digest as _, Sha256};

use super::{Error, users};
use crate::{
    db::{Db, DbError, new_row_id},
    domain::{
        ApiToken, Role,
        access::Access,
        audit::{Actor, AuditEntry, Entity},
        users::User,
    },
};

/// What every token starts with, so a header that cannot be one is refused without a lookup.
pub const PREFIX: &str = "siaran_";

/// A new token secret and the hash to store for it.
pub fn generate() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = format!("{PREFIX}{}", hex::encode(bytes));
    let hash = hash(&secret);
    (secret, hash)
}

pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Creates a token named `name` with `role`; answers its secret, which is shown once and never
/// stored.
pub async fn create(db: &dyn Db, name: &str, role: Role) -> Result<String, Error> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::invalid(
            "invalid-name",
            "Nama token tidak boleh kosong",
            "The token's name must not be empty",
        ));
    }
    let (secret, token_hash) = generate();
    db.create_token(&ApiToken {
        id: new_row_id(),
        name: name.to_owned(),
        role,
        token_hash,
        user_id: None,
        created_at: Utc::now(),
    })
    .await?;
    Ok(secret)
}

/// The longest token name, in characters.
pub const MAX_NAME_CHARS: usize = 100;

fn parse_name(raw: &str) -> Result<String, Error> {
    let name = raw.trim();
    if name.is_empty() || name.chars().any(char::is_control) {
        return Err(Error::invalid(
            "invalid-name",
            "Nama token harus diisi, satu baris",
            "The token's name must be given, on one line",
        ));
    }
    crate::domain::bounds::check_chars("invalid-name", "name", name, MAX_NAME_CHARS)?;
    Ok(name.to_owned())
}

/// Creates a token of `user`'s named `name`; answers it and its secret, which is shown once and
/// never stored.
pub async fn create_for(
    db: &dyn Db,
    actor: &Actor,
    user: &User,
    name: &str,
    now: DateTime<Utc>,
) -> Result<(ApiToken, String), Error> {
    let name = parse_name(name)?;
    let (secret, token_hash) = generate();
    let token = ApiToken {
        id: new_row_id(),
        name,
        role: user.role,
        token_hash,
        user_id: Some(user.id),
        created_at: now,
    };
    db.create_token(&token).await?;
    super::audit(
        db,
        AuditEntry::new(Entity::User, user.id, "token-created", actor)
            .with_changes(json!({"token_id": token.id, "name": token.name})),
    )
    .await;
    Ok((token, secret))
}

/// The tokens `user` owns, newest first.
pub async fn of_user(db: &dyn Db, user: &User) -> Result<Vec<ApiToken>, Error> {
    Ok(db.user_tokens(user.id).await?)
}

/// Deletes `user`'s token `id` (a token of someone else's is not found).
pub async fn revoke(db: &dyn Db, actor: &Actor, user: &User, id: &str) -> Result<(), Error> {
    let missing = || Error::NotFound { what: "token" };
    let id: uuid::Uuid = id.parse().map_err(|_| missing())?;
    let token = db
        .delete_user_token(user.id, id)
        .await
        .map_err(super::or_not_found("token"))?;
    super::audit(
        db,
        AuditEntry::new(Entity::User, user.id, "token-revoked", actor)
            .with_changes(json!({"token_id": token.id, "name": token.name})),
    )
    .await;
    Ok(())
}

/// Who holds a live token: the token, its owner if it has one, and what it may do.
#[derive(Debug, Clone)]
pub struct Holder {
    pub token: ApiToken,
    pub owner: Option<User>,
    pub access: Access,
}

impl Holder {
    /// Who the audit trail names: the owner by its name, else the token by its name.
    pub fn actor(&self) -> Actor {
        Actor {
            token_id: Some(self.token.id),
            user_id: self.owner.as_ref().map(|u| u.id),
            name: self
                .owner
                .as_ref()
                .map_or_else(|| self.token.name.clone(), |u| u.name.clone()),
        }
    }
}

/// The holder of `secret`, if it is a live token (one whose owner, if it has one, is not
/// disabled).
pub async fn holder(db: &dyn Db, secret: &str) -> Result<Option<Holder>, Error> {
    if !secret.starts_with(PREFIX) {
        return Ok(None);
    }
    let token = match db.token_by_hash(&hash(secret)).await {
        Ok(token) => token,
        Err(DbError::NotFound) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let Some(owner_id) = token.user_id else {
        return Ok(Some(Holder {
            access: Access::everywhere(token.role),
            token,
            owner: None,
        }));
    };
    let owner = users::load(db, owner_id).await?;
    if owner.disabled {
        return Ok(None);
    }
    let access = users::access(db, &owner).await?;
    Ok(Some(Holder {
        token,
        owner: Some(owner),
        access,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, ha) = generate();
        let (b, _) = generate();
        assert_ne!(a, b);
        assert!(a.starts_with(PREFIX) && a.len() == PREFIX.len() + 64);
        assert_eq!(hash(&a), ha);
        assert!(!ha.contains(&a[PREFIX.len()..]));
    }
}
