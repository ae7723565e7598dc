//! Changing a comment: status, text, rendering, deletion, each written
//! only at the revision it was decided on.

use super::*;
use crate::audit::AuditEntry;
use crate::comment::{Comment, Status};
use crate::moderation::Prior;
use sqlx::Row;

/// A comment read for a change: what [`Store::comment_for_change`] gives.
#[derive(Debug, Clone)]
pub struct ForChange {
    /// The comment as it is.
    pub comment: Comment,
    /// Its status from before a spam or trash move, if any.
    pub prior: Option<Status>,
    /// Its revision: a change is written only while this is current.
    pub revision: i64,
}

/// After a change to comment `$2` of site `$1`: bump its thread's version
/// and recount its published comments.
pub(super) const REFRESH_BY_COMMENT: &str = "UPDATE threads SET version = version + 1, published = (\
     SELECT COUNT(*) FROM comments c WHERE c.site = threads.site AND c.thread_key = threads.thread_key \
     AND c.status = 'published') \
     WHERE site = $1 AND thread_key = (SELECT thread_key FROM comments WHERE site = $1 AND id = $2)";

/// Runs [`REFRESH_BY_COMMENT`] in the caller's transaction.
pub(super) async fn refresh_thread_of(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    site: &str,
    id: i64,
) -> Result<()> {
    sqlx::query(REFRESH_BY_COMMENT)
        .bind(site)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The same for thread `$2` of site `$1`.
pub(super) const REFRESH_BY_THREAD: &str = "UPDATE threads SET version = version + 1, published = (\
     SELECT COUNT(*) FROM comments c WHERE c.site = $1 AND c.thread_key = $2 AND c.status = 'published') \
     WHERE site = $1 AND thread_key = $2";

/// Deletes one comment inside the caller's transaction; its replies move
/// up to its own parent. The thread's count and version are the caller's.
pub(super) async fn remove_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    site: &str,
    id: i64,
    parent: Option<i64>,
) -> Result<()> {
    sqlx::query("UPDATE comments SET parent = $1 WHERE site = $2 AND parent = $3")
        .bind(parent)
        .bind(site)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM comments WHERE site = $1 AND id = $2")
        .bind(site)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM votes WHERE comment_id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    // Its reports go with it (they quote what readers said about it).
    sqlx::query("DELETE FROM reports WHERE site = $1 AND comment_id = $2")
        .bind(site)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl Store {
    /// A comment as it is now, with what a change needs to know: the
    /// status remembered from before a spam or trash move, and the revision
    /// a change must find unchanged (see [`Store::set_status`]).
    ///
    /// # Errors
    /// Database failure.
    pub async fn comment_for_change(&self, site: &str, id: i64) -> Result<Option<ForChange>> {
        let sql = format!(
            "SELECT {COMMENT_COLUMNS}, prior_status, revision FROM comments WHERE site = $1 AND id = $2"
        );
        let Some(row) = sqlx::query(&sql)
            .bind(site)
            .bind(id)
            .fetch_optional(&self.write)
            .await?
        else {
            return Ok(None);
        };
        let prior = row
            .try_get::<Option<String>, _>("prior_status")?
            .map(|s| Status::parse(&s))
            .transpose()?;
        Ok(Some(ForChange {
            comment: Comment::try_from(&row)?,
            prior,
            revision: row.try_get("revision")?,
        }))
    }

    /// Sets a comment's status, and what to do with the status it had
    /// before (kept for a later restore), if the comment is still at
    /// `revision`. Returns false when it is not (it changed or went since it
    /// was read: read it again and decide again).
    ///
    /// # Errors
    /// Database failure.
    #[allow(clippy::too_many_arguments)]
    pub async fn set_status(
        &self,
        site: &str,
        id: i64,
        revision: i64,
        status: Status,
        prior: Prior,
        now: i64,
        audit: &AuditEntry,
    ) -> Result<bool> {
        self.set_status_with(site, id, revision, status, prior, now, audit, None)
            .await
    }

    /// [`Store::set_status`], storing a statement of reasons with the change.
    ///
    /// # Errors
    /// Database failure.
    #[allow(clippy::too_many_arguments)]
    pub async fn set_status_with(
        &self,
        site: &str,
        id: i64,
        revision: i64,
        status: Status,
        prior: Prior,
        now: i64,
        audit: &AuditEntry,
        statement: Option<&super::NewStatement>,
    ) -> Result<bool> {
        let prior = match prior {
            Prior::Remember => "prior_status = status, ",
            Prior::Keep => "",
            Prior::Clear => "prior_status = NULL, ",
        };
        let sql = format!(
            "UPDATE comments SET {prior}status = $1, modified = $2, revision = revision + 1 \
             WHERE site = $3 AND id = $4 AND revision = $5"
        );
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(&sql)
            .bind(status.as_str())
            .bind(now)
            .bind(site)
            .bind(id)
            .bind(revision)
            .execute(&mut *tx)
            .await?;
        let changed = done.rows_affected() > 0;
        if changed {
            refresh_thread_of(&mut tx, site, id).await?;
            self.announce(&mut tx, &Change::Counts).await?;
            insert_audit(&mut tx, audit).await?;
            if let Some(st) = statement {
                super::votes::insert_statement_in(&mut tx, st).await?;
            }
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// Deletes a comment for good; its replies move up to its parent.
    ///
    /// # Errors
    /// Database failure.
    pub async fn delete_comment(&self, site: &str, id: i64, audit: &AuditEntry) -> Result<bool> {
        self.delete_comment_with(site, id, audit, None).await
    }

    /// [`Store::delete_comment`], storing a statement of reasons first.
    ///
    /// # Errors
    /// Database failure.
    pub async fn delete_comment_with(
        &self,
        site: &str,
        id: i64,
        audit: &AuditEntry,
        statement: Option<&super::NewStatement>,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let parent =
            sqlx::query("SELECT parent, thread_key FROM comments WHERE site = $1 AND id = $2")
                .bind(site)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(row) = parent else {
            return Ok(false);
        };
        let parent: Option<i64> = row.try_get("parent")?;
        let thread: String = row.try_get("thread_key")?;
        if let Some(st) = statement {
            super::votes::insert_statement_in(&mut tx, st).await?;
        }
        remove_in(&mut tx, site, id, parent).await?;
        sqlx::query(REFRESH_BY_THREAD)
            .bind(site)
            .bind(&thread)
            .execute(&mut *tx)
            .await?;
        let change = Change::Thread {
            site: site.to_owned(),
            thread,
        };
        self.announce(&mut tx, &change).await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Replaces a comment's text, rendering and status if it is still at
    /// `revision`; false when it is not (a moderator acted meanwhile: read
    /// it again).
    ///
    /// # Errors
    /// Database failure.
    pub async fn update_body(
        &self,
        c: &Comment,
        revision: i64,
        audit: &AuditEntry,
    ) -> Result<bool> {
        self.update_body_with(c, revision, audit, None).await
    }

    /// [`Store::update_body`], storing a statement of reasons with the
    /// change (an edit the rules held).
    ///
    /// # Errors
    /// Database failure.
    pub async fn update_body_with(
        &self,
        c: &Comment,
        revision: i64,
        audit: &AuditEntry,
        statement: Option<&super::NewStatement>,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE comments SET body = $1, format = $2, html = $3, policy_version = $4, status = $5, modified = $6, \
             revision = revision + 1 WHERE site = $7 AND id = $8 AND revision = $9",
        )
        .bind(&c.body)
        .bind(&c.format)
        .bind(c.html.as_str())
        .bind(&c.policy_version)
        .bind(c.status.as_str())
        .bind(c.modified)
        .bind(c.site.as_str())
        .bind(c.id)
        .bind(revision)
        .execute(&mut *tx)
        .await?;
        let changed = done.rows_affected() > 0;
        if changed {
            refresh_thread_of(&mut tx, &c.site, c.id).await?;
            self.announce(&mut tx, &Change::Counts).await?;
            insert_audit(&mut tx, audit).await?;
            if let Some(st) = statement {
                super::votes::insert_statement_in(&mut tx, st).await?;
            }
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// Stores a new rendering of a comment if it is still at `revision`
    /// (an author's edit meanwhile rendered the new text itself); returns
    /// whether it was stored.
    ///
    /// # Errors
    /// Database failure.
    pub async fn set_rendering(
        &self,
        site: &str,
        id: i64,
        revision: i64,
        html: &str,
        version: &str,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE comments SET html = $1, policy_version = $2, revision = revision + 1 \
             WHERE site = $3 AND id = $4 AND revision = $5",
        )
        .bind(html)
        .bind(version)
        .bind(site)
        .bind(id)
        .bind(revision)
        .execute(&mut *tx)
        .await?;
        let changed = done.rows_affected() > 0;
        if changed {
            refresh_thread_of(&mut tx, site, id).await?;
            self.announce(&mut tx, &Change::Counts).await?;
        }
        tx.commit().await?;
        Ok(changed)
    }
}
