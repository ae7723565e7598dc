//! Privacy: what is stored for an address, erasing it, and forgetting on
//! a schedule (IP hashes, used stamps).

use super::*;
use crate::audit::AuditEntry;
use crate::comment::Comment;
use sqlx::Row;

impl Store {
    /// Every comment on a site written with this e-mail address (in any
    /// letter case), oldest first (a privacy export).
    ///
    /// # Errors
    /// Database failure.
    pub async fn comments_by_email(&self, site: &str, email: &str) -> Result<Vec<Comment>> {
        let sql = format!(
            "SELECT {COMMENT_COLUMNS} FROM comments WHERE site = $1 AND email_norm = $2 ORDER BY created, id"
        );
        let rows = sqlx::query(&sql)
            .bind(site)
            .bind(normalize_email(email))
            .fetch_all(&self.write)
            .await?;
        rows.iter().map(Comment::try_from).collect()
    }

    /// Deletes everything a site keeps of an e-mail address (in any letter
    /// case), in one transaction: every comment written with it (replies
    /// move up to the deleted comment's parent), every notification about
    /// those comments or sent to the address (with the names and texts
    /// their payloads hold), and its confirmed reply subscription, named by
    /// `address_hash`. A suppression stays: it holds no address, and
    /// honours the request for no e-mail. Returns how many comments went.
    ///
    /// # Errors
    /// Database failure.
    pub async fn erase_email(
        &self,
        site: &str,
        email: &str,
        address_hash: &str,
        audit: &AuditEntry,
    ) -> Result<u64> {
        let email = normalize_email(email);
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(
            "SELECT id, parent, thread_key FROM comments WHERE site = $1 AND email_norm = $2 ORDER BY created DESC, id DESC",
        )
        .bind(site)
        .bind(&email)
        .fetch_all(&mut *tx)
        .await?;
        let mut threads: Vec<String> = Vec::new();
        for row in &rows {
            let id: i64 = row.try_get("id")?;
            let parent: Option<i64> = row.try_get("parent")?;
            let thread: String = row.try_get("thread_key")?;
            remove_in(&mut tx, site, id, parent).await?;
            outbox::forget_comment(&mut tx, site, id).await?;
            if !threads.contains(&thread) {
                threads.push(thread);
            }
        }
        for thread in &threads {
            sqlx::query(REFRESH_BY_THREAD)
                .bind(site)
                .bind(thread)
                .execute(&mut *tx)
                .await?;
        }
        outbox::forget_address(&mut tx, site, &email, address_hash).await?;
        if !rows.is_empty() {
            insert_audit(&mut tx, audit).await?;
            self.announce(&mut tx, &Change::Counts).await?;
        }
        tx.commit().await?;
        Ok(rows.len() as u64)
    }

    /// Forgets the IP hashes of comments created before `before` (ms).
    /// Returns how many comments lost theirs.
    ///
    /// # Errors
    /// Database failure.
    pub async fn purge_ip_hashes(&self, before: i64) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE comments SET ip_hash = NULL WHERE created < $1 AND ip_hash IS NOT NULL",
        )
        .bind(before)
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected())
    }

    /// Forgets used form stamps that expired before `now` (ms).
    ///
    /// # Errors
    /// Database failure.
    pub async fn forget_used_stamps(&self, now: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM used_stamps WHERE expires < $1")
            .bind(now)
            .execute(&self.write)
            .await?;
        Ok(done.rows_affected())
    }
}
