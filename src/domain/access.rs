//! Who may do what (issue 23): the one table of roles and actions (`Role::allows`), and what a
//! caller — a signed-in user, or a token acting for its owner or with its own role — may do on
//! each show (`Access`). Every edge asks the same question, `access.may(show, action)`, and a
//! refusal names the action in both languages (`Action::refused`).

use std::collections::HashMap;

use super::{EpisodeStatus, Msg, Role, ShowId, users::ShowRole};

/// What a caller asks to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// See drafts, scheduled and withdrawn briefings, histories, statistics.
    ReadUnpublished,
    /// Upload a recording or another file.
    Upload,
    /// Create a draft, change a draft and what it has (files, links to documents).
    EditDraft,
    /// Put a draft in the review queue of its show's editors.
    SubmitForReview,
    /// Change a briefing that is scheduled, published or withdrawn.
    EditPublished,
    /// Publish, schedule, withdraw, restore, or send a draft back from review.
    Publish,
    /// Create and change documents and their files.
    ManageDocuments,
    /// Create shows, change their settings and covers.
    ManageShows,
    /// Create, change and disable users; see every token.
    ManageUsers,
    /// Change the site settings (the office's name, logo, colours, footer).
    ManageSite,
}

impl Action {
    /// Changing an episode in `status`: a draft is a contributor's to change, anything else
    /// (scheduled, published, withdrawn) is public or about to be, and an editor's.
    pub fn edit_episode(status: EpisodeStatus) -> Action {
        match status {
            // Still unpublished while its editors look at it: its author may correct it.
            EpisodeStatus::Draft | EpisodeStatus::InReview => Action::EditDraft,
            _ => Action::EditPublished,
        }
    }

    /// Why the action was refused, for the person who asked.
    pub fn refused(self) -> Msg {
        let (id, en) = match self {
            Action::ReadUnpublished => (
                "melihat siaran yang belum terbit",
                "see unpublished briefings",
            ),
            Action::Upload => ("mengunggah berkas", "upload files"),
            Action::EditDraft => ("mengubah draf", "change drafts"),
            Action::SubmitForReview => {
                ("mengajukan draf untuk ditinjau", "submit drafts for review")
            }
            Action::EditPublished => (
                "mengubah siaran yang terjadwal atau sudah terbit",
                "change scheduled or published briefings",
            ),
            Action::Publish => (
                "menerbitkan, menjadwalkan atau menarik siaran",
                "publish, schedule or withdraw briefings",
            ),
            Action::ManageDocuments => ("mengelola dokumen", "manage documents"),
            Action::ManageShows => ("mengelola acara", "manage shows"),
            Action::ManageUsers => ("mengelola pengguna", "manage users"),
            Action::ManageSite => ("mengubah pengaturan situs", "change the site settings"),
        };
        Msg::new(
            format!("Peran Anda tidak mengizinkan {id}"),
            format!("Your role does not allow you to {en}"),
        )
    }
}

impl Role {
    /// The table: a contributor uploads, writes drafts and submits them; an editor does
    /// everything to episodes and documents; an admin also manages shows and users.
    pub fn allows(self, action: Action) -> bool {
        match self {
            Role::Admin => true,
            Role::Editor => !matches!(
                action,
                Action::ManageShows | Action::ManageUsers | Action::ManageSite
            ),
            Role::Contributor => matches!(
                action,
                Action::ReadUnpublished
                    | Action::Upload
                    | Action::EditDraft
                    | Action::SubmitForReview
            ),
        }
    }
}

/// What one caller may do: its role, and another role on some shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    role: Role,
    shows: HashMap<ShowId, ShowRole>,
}

impl Access {
    /// `role` on every show but those in `shows`, which give another (or none). An admin's
    /// role is not replaced.
    pub fn new(role: Role, shows: impl IntoIterator<Item = (ShowId, ShowRole)>) -> Access {
        Access {
            role,
            shows: if role == Role::Admin {
                HashMap::new()
            } else {
                shows.into_iter().collect()
            },
        }
    }

    /// The same role on every show (a token without an owner, a command).
    pub fn everywhere(role: Role) -> Access {
        Access::new(role, [])
    }

    /// The caller's own role, on shows that give it no other.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The caller's role on `show`; `None` if the show is not its.
    pub fn role_on(&self, show: ShowId) -> Option<Role> {
        match self.shows.get(&show) {
            Some(other) => other.role(),
            None => Some(self.role),
        }
    }

    /// May the caller do `action` on `show`?
    pub fn may(&self, show: ShowId, action: Action) -> bool {
        self.role_on(show).is_some_and(|r| r.allows(action))
    }

    /// May the caller do `action` on some show? For what belongs to no show yet (an upload) or
    /// to every show (documents).
    pub fn may_somewhere(&self, action: Action) -> bool {
        self.role.allows(action)
            || self
                .shows
                .values()
                .filter_map(|r| r.role())
                .any(|r| r.allows(action))
    }

    /// May the caller do `action` as its own role says, whatever the shows? For what is above
    /// shows (users).
    pub fn may_globally(&self, action: Action) -> bool {
        self.role.allows(action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Action; 10] = [
        Action::ReadUnpublished,
        Action::Upload,
        Action::EditDraft,
        Action::SubmitForReview,
        Action::EditPublished,
        Action::Publish,
        Action::ManageDocuments,
        Action::ManageShows,
        Action::ManageUsers,
        Action::ManageSite,
    ];

    #[test]
    fn contributors_never_publish() {
        for action in ALL {
            assert!(Role::Admin.allows(action));
        }
        assert!(Role::Editor.allows(Action::Publish));
        assert!(Role::Editor.allows(Action::ManageDocuments));
        assert!(!Role::Editor.allows(Action::ManageShows));
        assert!(!Role::Editor.allows(Action::ManageUsers));
        assert!(!Role::Editor.allows(Action::ManageSite));
        assert!(Role::Contributor.allows(Action::Upload));
        assert!(Role::Contributor.allows(Action::EditDraft));
        assert!(Role::Contributor.allows(Action::SubmitForReview));
        for action in [
            Action::Publish,
            Action::EditPublished,
            Action::ManageDocuments,
            Action::ManageShows,
            Action::ManageUsers,
            Action::ManageSite,
        ] {
            assert!(!Role::Contributor.allows(action), "{action:?}");
        }
        assert_eq!(
            Action::edit_episode(EpisodeStatus::Draft),
            Action::EditDraft
        );
        assert_eq!(
            Action::edit_episode(EpisodeStatus::InReview),
            Action::EditDraft
        );
        assert_eq!(
            Action::edit_episode(EpisodeStatus::Scheduled),
            Action::EditPublished
        );
    }

    #[test]
    fn a_role_on_a_show_replaces_the_users_own() {
        let (a, b, c) = (ShowId::new(), ShowId::new(), ShowId::new());
        let access = Access::new(
            Role::Contributor,
            [(a, ShowRole::Editor), (b, ShowRole::None)],
        );
        assert!(access.may(a, Action::Publish));
        assert!(!access.may(b, Action::EditDraft));
        assert_eq!(access.role_on(b), None);
        assert!(access.may(c, Action::EditDraft));
        assert!(!access.may(c, Action::Publish));
        // Documents belong to no show: an editor of one show manages them.
        assert!(access.may_somewhere(Action::ManageDocuments));
        assert!(!access.may_globally(Action::ManageDocuments));

        // An admin is admin on every show, whatever a row says.
        let admin = Access::new(Role::Admin, [(a, ShowRole::None)]);
        assert_eq!(admin.role_on(a), Some(Role::Admin));
        assert!(admin.may(a, Action::ManageShows));
    }

    #[test]
    fn refusals_name_the_action_in_both_languages() {
        let msg = Action::Publish.refused();
        assert!(msg.id.contains("menerbitkan"), "{}", msg.id);
        assert!(msg.en.contains("publish"), "{}", msg.en);
    }
}
