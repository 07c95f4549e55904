//! API tokens. A token is `siaran_` followed by 32 random bytes in hex; only its SHA-256 is
//! stored, so a leaked database does not leak working tokens.

use chrono::Utc;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

use super::{Ctx, Error};
use crate::{
    db::{Db, new_row_id},
    domain::{ApiToken, Role},
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
        created_at: Utc::now(),
    })
    .await?;
    Ok(secret)
}

/// The holder of `secret`, if it is a live token.
pub async fn holder(ctx: &Ctx, secret: &str) -> Result<Option<ApiToken>, Error> {
    if !secret.starts_with(PREFIX) {
        return Ok(None);
    }
    match ctx.db.token_by_hash(&hash(secret)).await {
        Ok(token) => Ok(Some(token)),
        Err(crate::db::DbError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
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
