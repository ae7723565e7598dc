//! The notification outbox: audit events waiting to be turned into
//! deliveries, and the deliveries themselves with their retry state.
//!
//! Every claim is a conditional `UPDATE` whose affected-row count says who
//! won, so several servers on one PostgreSQL database never queue an event
//! twice or send a delivery at the same time.
//!
//! Also here: the reply subscriptions (confirmed or suppressed, per keyed
//! hash of an address), the single-use one-click moderation links, and
//! the purges that keep none of this longer than needed.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{insert_audit, normalize_email, refresh_thread_of, AuditEntry, Store};
use super::{Result, StoreError};
use crate::comment::Status;
use crate::outbox::Delivery;
use crate::outbox::LinkOutcome;
use crate::outbox::NewDelivery;
use crate::outbox::NotifyEvent;
use crate::outbox::Subscription;

const DELIVERY_COLUMNS: &str = "id, event_id, site, comment_id, kind, target, payload, state, \
     attempts, next_attempt_at, last_error, recipient";

impl TryFrom<&AnyRow> for Delivery {
    type Error = StoreError;

    fn try_from(r: &AnyRow) -> Result<Delivery> {
        Ok(Delivery {
            id: r.try_get("id")?,
            event_id: r.try_get("event_id")?,
            site: r.try_get("site")?,
            comment_id: r.try_get("comment_id")?,
            kind: r.try_get("kind")?,
            target: r.try_get("target")?,
            payload: r.try_get("payload")?,
            state: r.try_get("state")?,
            attempts: r.try_get("attempts")?,
            next_attempt_at: r.try_get("next_attempt_at")?,
            last_error: r.try_get("last_error")?,
            recipient: r.try_get("recipient")?,
        })
    }
}

impl Store {
    /// Audit events still to be turned into deliveries, oldest first.
    ///
    /// # Errors
    /// Database failure.
    pub async fn events_to_notify(&self, limit: i64) -> Result<Vec<NotifyEvent>> {
        let rows = sqlx::query(
            "SELECT id, site, comment_id, actor, action, status, reasons, created \
             FROM audit_log WHERE notify = 1 ORDER BY id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(NotifyEvent {
                    id: r.try_get("id")?,
                    site: r.try_get("site")?,
                    comment_id: r.try_get("comment_id")?,
                    actor: r.try_get("actor")?,
                    action: r.try_get("action")?,
                    status: r.try_get("status")?,
                    reasons: r.try_get("reasons")?,
                    created: r.try_get("created")?,
                })
            })
            .collect()
    }

    /// Claims events and queues their deliveries in one transaction: each
    /// event's `notify` flag is cleared only if it is still set, and only
    /// then are its deliveries inserted (keys already queued are skipped).
    /// An event another notifier claimed first queues nothing here. Events
    /// are taken in id order, so concurrent notifiers lock rows in the same
    /// order and never deadlock. Returns the number of deliveries queued.
    ///
    /// # Errors
    /// Database failure (nothing is changed).
    pub async fn queue_deliveries(
        &self,
        batch: &[(NotifyEvent, Vec<NewDelivery>)],
        now: i64,
    ) -> Result<usize> {
        let mut tx = self.begin_write().await?;
        let mut queued = 0;
        for (event, deliveries) in batch {
            let claimed =
                sqlx::query("UPDATE audit_log SET notify = 0 WHERE id = $1 AND notify = 1")
                    .bind(event.id)
                    .execute(&mut *tx)
                    .await?;
            if claimed.rows_affected() == 0 {
                continue;
            }
            for d in deliveries {
                let inserted = sqlx::query(
                    "INSERT INTO outbox (id, event_id, site, comment_id, kind, target, payload, dedupe_key, \
                     state, attempts, next_attempt_at, created, recipient) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', 0, $9, $9, $10) \
                     ON CONFLICT (dedupe_key) DO NOTHING",
                )
                .bind(d.id)
                .bind(event.id)
                .bind(event.site.as_str())
                .bind(d.comment_id)
                .bind(&d.kind)
                .bind(&d.target)
                .bind(&d.payload)
                .bind(&d.dedupe_key)
                .bind(now)
                .bind(&d.recipient)
                .execute(&mut *tx)
                .await?;
                queued += usize::try_from(inserted.rows_affected()).unwrap_or(0);
            }
        }
        if queued > 0 {
            // Every server's sender wakes for them, not only this one's.
            self.announce(&mut tx, &super::Change::Outbox).await?;
        }
        tx.commit().await?;
        Ok(queued)
    }

    /// Pending deliveries due at `now`, the longest waiting first.
    ///
    /// # Errors
    /// Database failure.
    pub async fn due_deliveries(&self, now: i64, limit: i64) -> Result<Vec<Delivery>> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM outbox WHERE state = 'pending' AND next_attempt_at <= $1 \
             ORDER BY next_attempt_at, id LIMIT $2"
        );
        let rows = sqlx::query(&sql)
            .bind(now)
            .bind(limit)
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(Delivery::try_from).collect()
    }

    /// Takes up to `limit` due deliveries for one attempt each, the longest
    /// waiting first: counts the attempt and moves each one's due time to
    /// `lease_until` (so that if this sender dies the rows come due
    /// again). Rows are returned as they were before the lease (attempts
    /// made so far). PostgreSQL: one statement whose rows are locked with
    /// `FOR UPDATE SKIP LOCKED`, so senders on several servers take
    /// disjoint rows without waiting for each other. SQLite (one writer):
    /// each row by a conditional update, in one transaction.
    ///
    /// # Errors
    /// Database failure.
    pub async fn claim_deliveries(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<Delivery>> {
        match self.backend {
            super::Backend::Postgres => {
                let sql = format!(
                    "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $1 WHERE id IN (\
                     SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= $2 \
                     ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) \
                     RETURNING {DELIVERY_COLUMNS}"
                );
                let rows = sqlx::query(&sql)
                    .bind(lease_until)
                    .bind(now)
                    .bind(limit)
                    .fetch_all(&self.write)
                    .await?;
                let mut taken = rows
                    .iter()
                    .map(|r| {
                        let mut d = Delivery::try_from(r)?;
                        d.attempts -= 1;
                        Ok(d)
                    })
                    .collect::<Result<Vec<Delivery>>>()?;
                taken.sort_by_key(|d| d.id);
                Ok(taken)
            }
            super::Backend::Sqlite => {
                let due = self.due_deliveries(now, limit).await?;
                if due.is_empty() {
                    return Ok(due);
                }
                let mut tx = self.begin_write().await?;
                let mut taken = Vec::with_capacity(due.len());
                for d in due {
                    let done = sqlx::query(
                        "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $1 \
                         WHERE id = $2 AND state = 'pending' AND next_attempt_at = $3 AND attempts = $4",
                    )
                    .bind(lease_until)
                    .bind(d.id)
                    .bind(d.next_attempt_at)
                    .bind(d.attempts)
                    .execute(&mut *tx)
                    .await?;
                    if done.rows_affected() == 1 {
                        taken.push(d);
                    }
                }
                tx.commit().await?;
                Ok(taken)
            }
        }
    }

    /// Records delivered rows, in one statement.
    ///
    /// # Errors
    /// Database failure.
    pub async fn deliveries_sent(&self, ids: &[i64], now: i64) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut sql = super::Sql::new("UPDATE outbox SET state = 'sent', sent_at = ");
        sql.bind(now)
            .push(", last_error = NULL WHERE id IN ")
            .bind_list(ids.iter().copied());
        sql.execute(&self.write).await?;
        Ok(())
    }

    /// Runs `job` if no other server runs it now: PostgreSQL holds an
    /// advisory lock named by `name` on a connection of its own for the
    /// job's length (a server that dies lets go with its connection);
    /// `None` when another server holds it. SQLite: one process owns the
    /// file, the job just runs.
    ///
    /// # Errors
    /// Database failure while taking or giving back the lock.
    pub async fn exclusively<T, F>(&self, name: &str, job: F) -> Result<Option<T>>
    where
        F: std::future::Future<Output = T>,
    {
        if self.backend != super::Backend::Postgres {
            return Ok(Some(job.await));
        }
        let key = job_lock_key(name);
        let mut conn = self.write.acquire().await?;
        let row = sqlx::query("SELECT pg_try_advisory_lock($1) AS locked")
            .bind(key)
            .fetch_one(&mut *conn)
            .await?;
        if !row.try_get::<bool, _>("locked")? {
            return Ok(None);
        }
        let done = job.await;
        let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(key)
            .execute(&mut *conn)
            .await;
        if unlocked.is_err() {
            // A connection still holding the lock must not go back to the
            // pool: closing it lets go.
            drop(conn.detach());
        }
        Ok(Some(done))
    }

    /// Records a failed attempt: due again at `retry_at`, or kept as
    /// `failed` when there is no retry left.
    ///
    /// # Errors
    /// Database failure.
    pub async fn delivery_failed(&self, id: i64, error: &str, retry_at: Option<i64>) -> Result<()> {
        let error: String = error.chars().take(1000).collect();
        match retry_at {
            Some(at) => {
                sqlx::query(
                    "UPDATE outbox SET last_error = $1, next_attempt_at = $2 WHERE id = $3",
                )
                .bind(&error)
                .bind(at)
                .bind(id)
                .execute(&self.write)
                .await?;
            }
            None => {
                sqlx::query("UPDATE outbox SET state = 'failed', last_error = $1 WHERE id = $2")
                    .bind(&error)
                    .bind(id)
                    .execute(&self.write)
                    .await?;
            }
        }
        Ok(())
    }

    /// A site's deliveries, newest first, optionally in one state, before
    /// id `before` (keyset pagination).
    ///
    /// # Errors
    /// Database failure.
    pub async fn deliveries(
        &self,
        site: &str,
        state: Option<&str>,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Delivery>> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM outbox WHERE site = $1 AND ($2 = '' OR state = $2) \
             AND id < $3 ORDER BY id DESC LIMIT $4"
        );
        let rows = sqlx::query(&sql)
            .bind(site)
            .bind(state.unwrap_or(""))
            .bind(before.unwrap_or(i64::MAX))
            .bind(limit)
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(Delivery::try_from).collect()
    }

    /// Gives a `failed` delivery a fresh set of attempts, due at once.
    /// Returns false when the site has no failed delivery with this id.
    ///
    /// # Errors
    /// Database failure.
    pub async fn retry_delivery(&self, site: &str, id: i64, now: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = $1 \
             WHERE site = $2 AND id = $3 AND state = 'failed'",
        )
        .bind(now)
        .bind(site)
        .bind(id)
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Stops every e-mail about replies to the author of a comment, for
    /// good: clears the opt-in of every comment on the site written with the
    /// same address (in any letter case), or of that comment alone when it
    /// has none, and puts the address (as `address_hash`) on the site's
    /// suppression list, in one transaction. Returns how many comments
    /// were changed.
    ///
    /// # Errors
    /// Database failure.
    pub async fn unsubscribe_replies(
        &self,
        site: &str,
        comment_id: i64,
        address_hash: Option<&str>,
        now: i64,
    ) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE comments SET notify_replies = 0 WHERE site = $1 AND notify_replies = 1 AND (id = $2 OR \
             (email_norm IS NOT NULL AND email_norm = (SELECT email_norm FROM comments WHERE site = $1 AND id = $2)))",
        )
        .bind(site)
        .bind(comment_id)
        .execute(&mut *tx)
        .await?;
        if let Some(hash) = address_hash {
            sqlx::query(
                "INSERT INTO reply_subscriptions (site, address_hash, state, changed) \
                 VALUES ($1, $2, 'suppressed', $3) \
                 ON CONFLICT (site, address_hash) DO UPDATE SET state = 'suppressed', changed = $3",
            )
            .bind(site)
            .bind(hash)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    /// Where an address (as its keyed hash) stands with a site's reply
    /// e-mails; `None`: neither confirmed nor suppressed.
    ///
    /// # Errors
    /// Database failure.
    pub async fn subscription(
        &self,
        site: &str,
        address_hash: &str,
    ) -> Result<Option<Subscription>> {
        let row = sqlx::query(
            "SELECT state FROM reply_subscriptions WHERE site = $1 AND address_hash = $2",
        )
        .bind(site)
        .bind(address_hash)
        .fetch_optional(&self.write)
        .await?;
        Ok(row
            .map(|r| r.try_get::<String, _>("state"))
            .transpose()?
            .and_then(|s| Subscription::parse(&s)))
    }

    /// Confirms an address's subscription, unless it is suppressed; returns
    /// where it stands afterwards.
    ///
    /// # Errors
    /// Database failure.
    pub async fn confirm_subscription(
        &self,
        site: &str,
        address_hash: &str,
        now: i64,
    ) -> Result<Subscription> {
        sqlx::query(
            "INSERT INTO reply_subscriptions (site, address_hash, state, changed) \
             VALUES ($1, $2, 'confirmed', $3) ON CONFLICT (site, address_hash) DO NOTHING",
        )
        .bind(site)
        .bind(address_hash)
        .bind(now)
        .execute(&self.write)
        .await?;
        Ok(self
            .subscription(site, address_hash)
            .await?
            .unwrap_or(Subscription::Confirmed))
    }

    /// Whether an e-mail of `kind` to `recipient` (normalized) was queued
    /// on the site at or after `since` (ms).
    ///
    /// # Errors
    /// Database failure.
    pub async fn mailed_since(
        &self,
        site: &str,
        kind: &str,
        recipient: &str,
        since: i64,
    ) -> Result<bool> {
        let row = sqlx::query(
            "SELECT 1 AS sent FROM outbox WHERE recipient = $1 AND site = $2 AND kind = $3 \
             AND created >= $4 LIMIT 1",
        )
        .bind(recipient)
        .bind(site)
        .bind(kind)
        .bind(since)
        .fetch_optional(&self.write)
        .await?;
        Ok(row.is_some())
    }

    /// Whether the nonce of a one-click link has been used.
    ///
    /// # Errors
    /// Database failure.
    pub async fn link_used(&self, nonce: &str) -> Result<bool> {
        let row = sqlx::query("SELECT 1 AS used FROM used_links WHERE nonce = $1")
            .bind(nonce)
            .fetch_optional(&self.write)
            .await?;
        Ok(row.is_some())
    }

    /// Uses a one-click moderation link, in one transaction: records its
    /// nonce as used (a nonce already there refuses the link), then moves
    /// the comment from status `from` to `to` only if it still has `from`
    /// (compare-and-set), with its thread's count and the audit entry.
    /// Anything refused changes nothing. `expires` (ms) is when the nonce
    /// may be forgotten.
    ///
    /// # Errors
    /// Database failure (nothing is changed).
    #[allow(clippy::too_many_arguments)]
    pub async fn act_on_link(
        &self,
        site: &str,
        id: i64,
        nonce: &str,
        expires: i64,
        from: Status,
        to: Status,
        now: i64,
        audit: &AuditEntry,
    ) -> Result<LinkOutcome> {
        let mut tx = self.begin_write().await?;
        let recorded = sqlx::query(
            "INSERT INTO used_links (nonce, site, comment_id, action, used_at, expires) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (nonce) DO NOTHING",
        )
        .bind(nonce)
        .bind(site)
        .bind(id)
        .bind(&audit.action)
        .bind(now)
        .bind(expires)
        .execute(&mut *tx)
        .await?;
        if recorded.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(LinkOutcome::AlreadyUsed);
        }
        // Spam and trash remember the status to restore; publishing forgets it.
        let prior = matches!(to, Status::Spam | Status::Trash).then(|| from.as_str());
        let moved = sqlx::query(
            "UPDATE comments SET prior_status = $1, status = $2, modified = $3, revision = revision + 1 \
             WHERE site = $4 AND id = $5 AND status = $6",
        )
        .bind(prior)
        .bind(to.as_str())
        .bind(now)
        .bind(site)
        .bind(id)
        .bind(from.as_str())
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() == 0 {
            let now_status = sqlx::query("SELECT status FROM comments WHERE site = $1 AND id = $2")
                .bind(site)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get::<String, _>("status"))
                .transpose()?;
            tx.rollback().await?;
            return Ok(match now_status {
                Some(s) => LinkOutcome::Moved(Status::parse(&s)?),
                None => LinkOutcome::Gone,
            });
        }
        refresh_thread_of(&mut tx, site, id).await?;
        self.announce(&mut tx, &super::Change::Counts).await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(LinkOutcome::Done)
    }

    /// Deletes delivered and failed deliveries created before `before`
    /// (ms), a batch per statement. Returns how many went.
    ///
    /// # Errors
    /// Database failure.
    pub async fn purge_deliveries(&self, before: i64) -> Result<u64> {
        super::privacy::purge_in_batches(
            &self.write,
            "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox \
             WHERE state <> 'pending' AND created < $1 LIMIT $2)",
            before,
        )
        .await
    }

    /// Forgets the nonces of links that have expired (ms).
    ///
    /// # Errors
    /// Database failure.
    pub async fn purge_used_links(&self, now: i64) -> Result<u64> {
        super::privacy::purge_in_batches(
            &self.write,
            "DELETE FROM used_links WHERE nonce IN (SELECT nonce FROM used_links WHERE expires < $1 LIMIT $2)",
            now,
        )
        .await
    }
}

/// The advisory lock of a background job.
fn job_lock_key(name: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("job\n{name}").as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_le_bytes(first)
}

/// Erasure, in the caller's transaction: every delivery about a comment.
pub(super) async fn forget_comment(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    site: &str,
    id: i64,
) -> Result<()> {
    sqlx::query("DELETE FROM outbox WHERE comment_id = $1 AND site = $2")
        .bind(id)
        .bind(site)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Erasure, in the caller's transaction: every e-mail to an address
/// (normalized), and its confirmed subscription.
pub(super) async fn forget_address(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    site: &str,
    email: &str,
    address_hash: &str,
) -> Result<()> {
    sqlx::query("DELETE FROM outbox WHERE recipient = $1 AND site = $2")
        .bind(normalize_email(email))
        .bind(site)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "DELETE FROM reply_subscriptions WHERE site = $1 AND address_hash = $2 AND state = 'confirmed'",
    )
    .bind(site)
    .bind(address_hash)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
