//! Rows to domain values and back: the one place that knows how a
//! comment, a site, a thread or an audit entry is laid out in its table.

use super::*;
use crate::audit::AuditEntry;
use crate::comment::{
    AuthorName, Comment, Email, Homepage, SiteId, Status, ThreadKey, ThreadState,
};
use crate::moderation::ModerationMode;
use crate::moderation::SiteRules;
use crate::site::SiteSettings;
use sqlx::any::AnyRow;
use sqlx::Row;

pub(super) const COMMENT_COLUMNS: &str =
    "id, site, thread_key, parent, status, format, body, html, policy_version, \
     author, email, homepage, ip_hash, created, modified, reasons, notify_replies, upvotes, downvotes, pinned, author_id";

/// The columns every new comment row is written with, whichever way it
/// comes in (a post, an import), in the order [`bind_new_comment`] binds
/// them; each way adds its own after them.
pub(super) const NEW_COMMENT_COLUMNS: &str =
    "id, site, thread_key, parent, status, format, body, html, \
     policy_version, author, email, homepage, ip_hash, created, email_norm, body_hash, author_id";

/// How many [`NEW_COMMENT_COLUMNS`] there are.
pub(super) const NEW_COMMENT_COLUMN_COUNT: usize = 17;

/// Binds a new comment's [`NEW_COMMENT_COLUMNS`], in order.
pub(super) fn bind_new_comment<'q>(q: AnyQuery<'q>, c: &'q Comment) -> AnyQuery<'q> {
    q.bind(c.id)
        .bind(c.site.as_str())
        .bind(c.thread.as_str())
        .bind(c.parent)
        .bind(c.status.as_str())
        .bind(&c.format)
        .bind(&c.body)
        .bind(c.html.as_str())
        .bind(&c.policy_version)
        .bind(c.author.as_deref())
        .bind(c.email.as_deref())
        .bind(c.homepage.as_deref())
        .bind(&c.ip_hash)
        .bind(c.created)
        .bind(c.email.as_deref().map(normalize_email))
        .bind(body_hash(&c.body))
        .bind(c.author_id.as_deref())
}

impl TryFrom<&AnyRow> for SiteSettings {
    type Error = StoreError;

    fn try_from(r: &AnyRow) -> Result<SiteSettings> {
        let formats: String = r.try_get("formats")?;
        let moderation: String = r.try_get("moderation")?;
        Ok(SiteSettings {
            id: r.try_get("id")?,
            formats: formats.split_whitespace().map(str::to_owned).collect(),
            default_format: r.try_get("default_format")?,
            moderation: ModerationMode::parse(&moderation)
                .ok_or_else(|| StoreError::Corrupt(format!("moderation mode `{moderation}`")))?,
            hold_links: u32::try_from(r.try_get::<i64, _>("hold_links")?).unwrap_or(u32::MAX),
            duplicate_window_secs: u32::try_from(r.try_get::<i64, _>("duplicate_window_secs")?)
                .unwrap_or(u32::MAX),
            rules: match r.try_get::<Option<String>, _>("rules")? {
                None => SiteRules::default(),
                Some(json) => serde_json::from_str(&json)
                    .map_err(|e| StoreError::Corrupt(format!("site rules: {e}")))?,
            },
            origins: r
                .try_get::<Option<String>, _>("origins")?
                .map(|o| o.split_whitespace().map(str::to_owned).collect()),
        })
    }
}

impl TryFrom<&AnyRow> for AuditEntry {
    type Error = StoreError;

    fn try_from(r: &AnyRow) -> Result<AuditEntry> {
        let status: Option<String> = r.try_get("status")?;
        Ok(AuditEntry {
            id: r.try_get("id")?,
            site: r.try_get("site")?,
            comment_id: r.try_get("comment_id")?,
            thread: r.try_get("thread_key")?,
            actor: r.try_get("actor")?,
            action: r.try_get("action")?,
            status: status.map(|s| Status::parse(&s)).transpose()?,
            reasons: reasons_from(r.try_get("reasons")?),
            created: r.try_get("created")?,
            notify: r.try_get::<i64, _>("notify")? != 0,
        })
    }
}

pub(super) fn rules_json(rules: &SiteRules) -> Result<String> {
    serde_json::to_string(rules).map_err(|e| StoreError::Corrupt(format!("site rules: {e}")))
}

/// Reasons as stored: a JSON array, or NULL when there are none.
pub(super) fn reasons_json(reasons: &[String]) -> Option<String> {
    (!reasons.is_empty()).then(|| serde_json::to_string(reasons).unwrap_or_default())
}

pub(super) fn reasons_from(json: Option<String>) -> Vec<String> {
    json.and_then(|j| serde_json::from_str(&j).ok())
        .unwrap_or_default()
}

pub(super) fn parse_state(s: &str) -> Result<ThreadState> {
    ThreadState::parse(s).map_err(|_| StoreError::Corrupt(format!("thread state `{s}`")))
}

impl TryFrom<&AnyRow> for ThreadRow {
    type Error = StoreError;

    fn try_from(r: &AnyRow) -> Result<ThreadRow> {
        let state: String = r.try_get("state")?;
        Ok(ThreadRow {
            key: r.try_get("thread_key")?,
            state: parse_state(&state)?,
            created: r.try_get("created")?,
            version: r.try_get("version")?,
            meta: crate::comment::ThreadMeta {
                title: r.try_get("title")?,
                url: r.try_get("url")?,
            },
        })
    }
}

impl TryFrom<&AnyRow> for Comment {
    type Error = StoreError;

    fn try_from(r: &AnyRow) -> Result<Comment> {
        let status: String = r.try_get("status")?;
        let text = |column: &str| r.try_get::<Option<String>, _>(column);
        Ok(Comment {
            id: r.try_get("id")?,
            site: SiteId::from_stored(r.try_get("site")?),
            thread: ThreadKey::from_stored(r.try_get("thread_key")?),
            parent: r.try_get("parent")?,
            status: Status::parse(&status)
                .map_err(|_| StoreError::Corrupt(format!("status `{status}`")))?,
            format: r.try_get("format")?,
            body: r.try_get("body")?,
            // Only the safety net's output is ever stored in this column.
            html: crate::SafeHtml::from_store(r.try_get("html")?),
            policy_version: r.try_get("policy_version")?,
            author: text("author")?.map(AuthorName::from_stored),
            email: text("email")?.map(Email::from_stored),
            homepage: text("homepage")?.map(Homepage::from_stored),
            ip_hash: r.try_get("ip_hash")?,
            created: r.try_get("created")?,
            modified: r.try_get("modified")?,
            reasons: reasons_from(r.try_get("reasons")?),
            notify_replies: r.try_get::<i64, _>("notify_replies")? != 0,
            standing: crate::vote::Standing {
                upvotes: r.try_get("upvotes")?,
                downvotes: r.try_get("downvotes")?,
                pinned: r.try_get::<i64, _>("pinned")? != 0,
            },
            author_id: text("author_id")?,
        })
    }
}
