//! The notification outbox's records: events to notify about, deliveries
//! (a webhook POST, an e-mail) and their states, reply subscriptions, and
//! what a one-click link did. The store keeps them; the notifier and the
//! moderators' API read them.

use crate::comment::Status;

/// Whether an address wants reply e-mails from a site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subscription {
    /// It followed the link of a confirmation e-mail.
    Confirmed,
    /// It unsubscribed: no e-mail at all, whatever later posts ask.
    Suppressed,
}

/// What using a one-click moderation link did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkOutcome {
    /// The comment moved to the link's status.
    Done,
    /// This link, or another one of the same e-mail, was used before.
    AlreadyUsed,
    /// The comment no longer has the status the e-mail was about; it has
    /// this one.
    Moved(Status),
    /// The comment is gone.
    Gone,
}

/// An audit event whose notifications are still to be queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyEvent {
    /// Audit row id.
    pub id: i64,
    /// Site.
    pub site: String,
    /// The comment concerned.
    pub comment_id: Option<i64>,
    /// `rules` or `token:…`.
    pub actor: String,
    /// `post`, `approve`, `restore`, …
    pub action: String,
    /// The comment's status after the event.
    pub status: Option<String>,
    /// The rules' reasons, a JSON array of strings.
    pub reasons: Option<String>,
    /// When it happened (ms).
    pub created: i64,
}

/// A delivery to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    /// Fresh id.
    pub id: i64,
    /// The comment concerned.
    pub comment_id: Option<i64>,
    /// `webhook`, `moderator_email` or `reply_email`.
    pub kind: String,
    /// URL or e-mail address.
    pub target: String,
    /// What to send (JSON).
    pub payload: String,
    /// At most one delivery per key.
    pub dedupe_key: String,
    /// E-mails: the recipient's address, normalized.
    pub recipient: Option<String>,
}

/// A queued delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Id.
    pub id: i64,
    /// The audit event that caused it.
    pub event_id: i64,
    /// Site.
    pub site: String,
    /// The comment concerned.
    pub comment_id: Option<i64>,
    /// `webhook`, `moderator_email` or `reply_email`.
    pub kind: String,
    /// URL or e-mail address.
    pub target: String,
    /// What to send (JSON).
    pub payload: String,
    /// `pending`, `sent` or `failed`.
    pub state: String,
    /// Attempts made so far.
    pub attempts: i64,
    /// When it is due (pending) (ms).
    pub next_attempt_at: i64,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// E-mails: the recipient's address, normalized.
    pub recipient: Option<String>,
}

impl Subscription {
    pub(crate) fn parse(s: &str) -> Option<Subscription> {
        match s {
            "confirmed" => Some(Subscription::Confirmed),
            "suppressed" => Some(Subscription::Suppressed),
            _ => None,
        }
    }
}
