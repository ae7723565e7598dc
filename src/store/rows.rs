//! Rows to domain values and back: the one place that knows how a
//! comment, a site, a thread or an audit entry is laid out in its table.

//! Storage: one set of queries and migrations for SQLite and PostgreSQL,
//! through sqlx's `AnyPool`.
//!
//! SQL here is portable: `$N` placeholders (SQLite binds them by number;
//! multi-row statements give it bare `?`, see `placeholders`),
//! `ON CONFLICT … DO NOTHING`, row-value comparisons for keyset pagination,
//! integer millisecond times, application-made ids. SQLite runs in WAL mode
//! with `synchronous = FULL` (a commit is on disk when it returns), a busy
//! timeout, and a single writer connection so writers queue in the pool
//! instead of failing with "database is locked".

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
     author, email, homepage, ip_hash, created, modified, reasons, notify_replies";

pub(super) fn site_from_row(r: &AnyRow) -> Result<SiteSettings> {
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
    })
}

pub(super) fn audit_from_row(r: &AnyRow) -> Result<AuditEntry> {
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

pub(super) fn thread_from_row(r: &AnyRow) -> Result<ThreadRow> {
    let state: String = r.try_get("state")?;
    Ok(ThreadRow {
        key: r.try_get("thread_key")?,
        state: parse_state(&state)?,
        created: r.try_get("created")?,
        version: r.try_get("version")?,
    })
}

pub(super) fn comment_from_row(r: &AnyRow) -> Result<Comment> {
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
    })
}
