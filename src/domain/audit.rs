//! The audit trail's records (issue 6): every change to a show, an episode, a document or a
//! user is recorded with who made it (a user by its name, a token by its id and name, or
//! `import`/`demo`/`cli` for what those commands do), when, and what changed, field by field.
//! Published records keep their history in public, so a journalist can see that a title was
//! corrected and when.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::UserId;

/// Who makes a change, as the audit trail names it: a user (signed in, or through a token it
/// owns: by its display name), a token without an owner (by its id and name, never its
/// secret), or a command acting on its own (`import`, `demo`, `cli`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub token_id: Option<uuid::Uuid>,
    pub user_id: Option<UserId>,
    pub name: String,
}

impl Actor {
    /// A change made by Siaran itself on an operator's command.
    pub fn system(name: &str) -> Actor {
        Actor {
            token_id: None,
            user_id: None,
            name: name.to_owned(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Entity {
    Show,
    Episode,
    Document,
    User,
    /// The site settings (one; its id is `site`).
    Site,
}

impl Entity {
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Show => "show",
            Entity::Episode => "episode",
            Entity::Document => "document",
            Entity::User => "user",
            Entity::Site => "site",
        }
    }
}

/// One recorded change.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: uuid::Uuid,
    pub entity: Entity,
    pub entity_id: String,
    /// `created`, `updated`, `published`, `withdrawn`, `restored`, `document-linked`,
    /// `document-unlinked`, `transcript-set`, `transcript-removed`, `chapters-set`,
    /// `chapters-removed`, `rendition-added`, `rendition-removed`, `artwork-set`, `file-set`,
    /// `file-removed`; for a user `created`, `updated`, `disabled`, `enabled`,
    /// `password-set`, `password-link-created`, `show-role-set`, `token-created`,
    /// `token-revoked`.
    pub action: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_id: Option<uuid::Uuid>,
    /// The user behind the change, signed in or owning the token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    pub by: Option<String>,
    pub at: DateTime<Utc>,
    /// `{"field": {"from": old, "to": new}}`, or for a creation the values set.
    pub changes: Value,
}

impl AuditEntry {
    pub fn new(
        entity: Entity,
        entity_id: impl std::fmt::Display + Copy,
        action: &str,
        actor: &Actor,
    ) -> Self {
        AuditEntry {
            id: uuid::Uuid::now_v7(),
            entity,
            entity_id: entity_id.to_string(),
            action: action.to_owned(),
            token_id: actor.token_id,
            user_id: actor.user_id,
            by: Some(actor.name.clone()),
            at: Utc::now(),
            changes: json!({}),
        }
    }

    pub fn with_changes(mut self, changes: Value) -> Self {
        self.changes = changes;
        self
    }
}

/// Fields that change with every write and say nothing of their own.
const IGNORED: [&str; 2] = ["updated_at", "created_at"];

/// The fields whose values differ between `before` and `after` (both serialized as JSON
/// objects), as `{"field": {"from": .., "to": ..}}`.
pub fn diff<T: Serialize>(before: &T, after: &T) -> Value {
    let (Ok(Value::Object(a)), Ok(Value::Object(b))) =
        (serde_json::to_value(before), serde_json::to_value(after))
    else {
        return json!({});
    };
    let mut out = Map::new();
    for (key, new) in &b {
        if IGNORED.contains(&key.as_str()) {
            continue;
        }
        let old = a.get(key).cloned().unwrap_or(Value::Null);
        if &old != new {
            out.insert(key.clone(), json!({"from": old, "to": new}));
        }
    }
    for (key, old) in &a {
        if !b.contains_key(key) && !IGNORED.contains(&key.as_str()) {
            out.insert(key.clone(), json!({"from": old, "to": Value::Null}));
        }
    }
    Value::Object(out)
}

/// A new record's values, for its `created` entry.
pub fn created<T: Serialize>(value: &T) -> Value {
    match serde_json::to_value(value) {
        Ok(Value::Object(mut map)) => {
            for key in IGNORED {
                map.remove(key);
            }
            Value::Object(map)
        }
        _ => json!({}),
    }
}

/// As `created`, naming where an imported record came from (`imported_from`).
pub fn created_from<T: Serialize>(value: &T, source: Option<&str>) -> Value {
    let mut changes = created(value);
    if let (Some(source), Some(map)) = (source, changes.as_object_mut()) {
        map.insert("imported_from".into(), source.into());
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Rec {
        title: String,
        n: Option<u32>,
        updated_at: u32,
    }

    #[test]
    fn only_changed_fields() {
        let a = Rec {
            title: "Lama".into(),
            n: Some(1),
            updated_at: 1,
        };
        let b = Rec {
            title: "Baru".into(),
            n: Some(1),
            updated_at: 2,
        };
        assert_eq!(
            diff(&a, &b),
            json!({"title": {"from": "Lama", "to": "Baru"}})
        );
        assert_eq!(created(&a), json!({"title": "Lama", "n": 1}));
    }
}
