//! Review before publication (issue 23): an unpublished episode is *in review* once someone
//! submits it to its show's editors, or *returned* with an editor's comment that its author
//! reads. Publishing or scheduling it ends its review. What may move it where is the
//! operations' (`service::review`); who may is `access`.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Rejection, bounds};

/// Where an unpublished episode stands with its show's editors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewState {
    /// Submitted: in the review queue of the show's editors.
    InReview,
    /// Sent back to its author with a comment.
    Returned,
}

impl ReviewState {
    /// The value stored in the `review_state` column.
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewState::InReview => "in_review",
            ReviewState::Returned => "returned",
        }
    }

    pub fn parse(s: &str) -> Option<ReviewState> {
        match s {
            "in_review" => Some(ReviewState::InReview),
            "returned" => Some(ReviewState::Returned),
            _ => None,
        }
    }
}

/// The last step of an episode's review: what, by whom (the audit trail's name for them),
/// when, and the reviewer's comment when it was returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Review {
    pub state: ReviewState,
    pub by: String,
    pub at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// The comment of an episode sent back to its author, who reads it: not empty, at most
/// `bounds::MAX_NOTE_CHARS`.
pub fn parse_return_comment(comment: &str) -> Result<String, Rejection> {
    let comment = comment.trim();
    if comment.is_empty() {
        return Err(Rejection::new(
            "invalid-comment",
            "Tulis komentar untuk penulisnya: apa yang perlu diperbaiki",
            "Write a comment for the author: what needs to change",
        ));
    }
    bounds::check_chars(
        "invalid-comment",
        "comment",
        comment,
        bounds::MAX_NOTE_CHARS,
    )?;
    Ok(comment.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_return_needs_a_comment() {
        assert_eq!(
            parse_return_comment("  ").unwrap_err().code,
            "invalid-comment"
        );
        assert_eq!(
            parse_return_comment(" Judul salah eja ").unwrap(),
            "Judul salah eja"
        );
        let long = "x".repeat(bounds::MAX_NOTE_CHARS + 1);
        assert_eq!(
            parse_return_comment(&long).unwrap_err().code,
            "invalid-comment"
        );
        for state in [ReviewState::InReview, ReviewState::Returned] {
            assert_eq!(ReviewState::parse(state.as_str()), Some(state));
        }
    }
}
