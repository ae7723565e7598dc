//! Privacy: what is stored for an address, erasing it, and forgetting on
//! a schedule (IP hashes, used stamps).

use super::*;
use crate::audit::AuditEntry;
use crate::comment::Comment;
use sqlx::Row;

/// Rows changed per statement by the purges.
pub(super) const PURGE_BATCH: i64 = 1000;

/// Runs a purge statement (`$1`: the bound, `$2`: the batch size) until it
/// deletes less than a batch; returns how many rows went.
pub(super) async fn purge_in_batches(pool: &AnyPool, sql: &str, bound: i64) -> Result<u64> {
    let mut purged = 0;
    loop {
        let done = sqlx::query(sql)
            .bind(bound)
            .bind(PURGE_BATCH)
            .execute(pool)
            .await?;
        purged += done.rows_affected();
        if done.rows_affected() < PURGE_BATCH as u64 {
            return Ok(purged);
        }
    }
}

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
        // The usernames of signed-in readers who posted with the address go
        // with their comments.
        sqlx::query(
            "DELETE FROM site_users WHERE site = $1 AND user_id IN \
             (SELECT author_id FROM comments WHERE site = $1 AND email_norm = $2 AND author_id IS NOT NULL)",
        )
        .bind(site)
        .bind(&email)
        .execute(&mut *tx)
        .await?;
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
        let ladder = super::community::forget_email_key(&mut tx, site, &email).await?;
        if !rows.is_empty() || ladder {
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
        // A batch per statement, in id order from where the last one
        // stopped: each row is looked at once, and no statement holds many
        // row locks or much of the WAL.
        let mut purged = 0;
        let mut after = i64::MIN;
        loop {
            let rows = sqlx::query(
                "SELECT id FROM comments WHERE id > $1 AND created < $2 AND ip_hash IS NOT NULL \
                 ORDER BY id LIMIT $3",
            )
            .bind(after)
            .bind(before)
            .bind(PURGE_BATCH)
            .fetch_all(&self.write)
            .await?;
            let ids = rows
                .iter()
                .map(|r| r.try_get::<i64, _>("id"))
                .collect::<std::result::Result<Vec<i64>, _>>()?;
            let Some(&last) = ids.last() else {
                return Ok(purged);
            };
            let mut sql =
                Sql::new("UPDATE comments SET ip_hash = NULL WHERE ip_hash IS NOT NULL AND id IN ");
            sql.bind_list(ids.iter().copied());
            purged += sql.execute(&self.write).await?;
            if ids.len() < PURGE_BATCH as usize {
                return Ok(purged);
            }
            after = last;
        }
    }

    /// Forgets used form stamps that expired before `now` (ms).
    ///
    /// # Errors
    /// Database failure.
    pub async fn forget_used_stamps(&self, now: i64) -> Result<u64> {
        purge_in_batches(
            &self.write,
            "DELETE FROM used_stamps WHERE nonce IN (SELECT nonce FROM used_stamps WHERE expires < $1 LIMIT $2)",
            now,
        )
        .await
    }
}
