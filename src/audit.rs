//! The audit log: who did what to which comment or site, when, and why.
//! Each entry is written in the same transaction as the change it records.

use crate::comment::Status;
use crate::secret::hash_token;

/// One entry of the audit log: an automatic decision or a moderator's
/// action, written in the same transaction as the change it records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Unique id (time-ordered, made by the service).
    pub id: i64,
    /// The site.
    pub site: String,
    /// The comment concerned, if any.
    pub comment_id: Option<i64>,
    /// Its thread, if any.
    pub thread: Option<String>,
    /// Who: `rules`, `author`, `token:<fingerprint>`, `system`,
    /// `account:<name>`, `sso:<username>`.
    pub actor: String,
    /// What: `post`, `approve`, `spam`, `trash`, `restore`, `unpublish`,
    /// `delete`, `edit`, `site`, `thread`, `erase`.
    pub action: String,
    /// The comment's status afterwards, if it has one.
    pub status: Option<Status>,
    /// Why, in sentences.
    pub reasons: Vec<String>,
    /// When (ms).
    pub created: i64,
    /// The event still has notifications to send (held or published).
    pub notify: bool,
}

/// Who did something, as the audit log records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// The moderation rules, deciding a new comment's status.
    Rules,
    /// The comment's author, with the edit token.
    Author,
    /// A moderator, known by a fingerprint of their token (never the token).
    Moderator(String),
    /// The service itself (scheduled purges, one-click links).
    System,
    /// A moderator account of the site, by name.
    Account(String),
    /// A reader the site signed in with a moderator or admin role, by
    /// username.
    SignedIn(String),
}

/// One page of the audit log.
#[derive(Debug, Clone)]
pub struct AuditPage {
    /// Entries, newest first.
    pub entries: Vec<AuditEntry>,
    /// Cursor for the next page.
    pub next_cursor: Option<String>,
}

impl Actor {
    /// A moderator identified by their bearer token.
    pub fn moderator(token: &str) -> Actor {
        Actor::Moderator(hash_token(token)[..8].to_owned())
    }

    /// As stored: `rules`, `author`, `token:3f2a9c1b`, `system`.
    pub fn label(&self) -> String {
        match self {
            Actor::Rules => "rules".to_owned(),
            Actor::Author => "author".to_owned(),
            Actor::Moderator(f) => format!("token:{f}"),
            Actor::System => "system".to_owned(),
            Actor::Account(name) => format!("account:{name}"),
            Actor::SignedIn(username) => format!("sso:{username}"),
        }
    }
}
