//! Typed ids: UUIDv7 (time-ordered, so new rows land at the end of indexes).
//!
//! An id has one spelling, the one `Display` writes: lower-case and hyphenated. Parsing refuses
//! every other spelling `Uuid::parse_str` would take (upper case, no hyphens, braces,
//! `urn:uuid:`), so a record has exactly one URL: no second address for caches to store and
//! counters to split, and a path that is not an id is simply not found.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! typed_id {
    ($name:ident) => {
        #[derive(
            Debug,
            Clone,
            Copy,
            PartialEq,
            Eq,
            Hash,
            PartialOrd,
            Ord,
            Serialize,
            Deserialize,
            utoipa::ToSchema,
        )]
        #[serde(transparent)]
        #[schema(value_type = String, format = Uuid)]
        pub struct $name(pub Uuid);

        impl $name {
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = NotAnId;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                canonical_uuid(s).map(Self)
            }
        }
    };
}

/// Text that is not an id in its one spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not an id (a lower-case, hyphenated UUID)")]
pub struct NotAnId;

fn canonical_uuid(s: &str) -> Result<Uuid, NotAnId> {
    let uuid = Uuid::try_parse(s).map_err(|_| NotAnId)?;
    let mut canonical = [0u8; uuid::fmt::Hyphenated::LENGTH];
    if uuid.hyphenated().encode_lower(&mut canonical) == s {
        Ok(uuid)
    } else {
        Err(NotAnId)
    }
}

typed_id!(ShowId);
typed_id!(EpisodeId);
typed_id!(MediaId);
typed_id!(DocumentId);
typed_id!(UserId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_spelling_display_writes_is_an_id() {
        let id = MediaId(Uuid::from_u128(0x0190_f3a2_7c4e_7d1b_9a3f_5e6d_7c8b_9a0f));
        let canonical = id.to_string();
        assert_eq!(canonical, "0190f3a2-7c4e-7d1b-9a3f-5e6d7c8b9a0f");
        assert_eq!(canonical.parse::<MediaId>(), Ok(id));
        assert_eq!(canonical.parse::<EpisodeId>().map(|e| e.0), Ok(id.0));
        let uuid = id.0;
        for other in [
            canonical.to_uppercase(),
            uuid.simple().to_string(),
            uuid.braced().to_string(),
            uuid.urn().to_string(),
            format!(" {canonical}"),
            // One upper-case hex digit is enough to be another spelling.
            canonical.replacen('f', "F", 1),
        ] {
            assert_ne!(other, canonical);
            assert_eq!(other.parse::<MediaId>(), Err(NotAnId), "{other}");
            assert_eq!(other.parse::<ShowId>(), Err(NotAnId), "{other}");
        }
    }
}
