//! New comments: the checks made in the writing transaction (thread
//! state, duplicate, form stamp, parent) and the multi-row insert, and on
//! SQLite the group-commit writer that makes many posts durable with one
//! disk flush.

use super::*;
use crate::audit::AuditEntry;
use crate::comment::{Comment, Status, ThreadState};
use sqlx::{AnyPool, Row};

/// A new comment waiting for the group-commit writer.
#[derive(Debug)]
pub(super) struct InsertJob {
    new: InsertComment,
    reply: tokio::sync::oneshot::Sender<Result<InsertOutcome>>,
}

/// Most comments committed by one SQLite transaction.
pub(super) const MAX_BATCH: usize = 64;

/// A comment ready to insert (rendered, moderated, with hashes).
#[derive(Debug, Clone)]
pub struct InsertComment {
    /// The comment.
    pub comment: Comment,
    /// Hash of the edit token.
    pub edit_token_hash: String,
    /// Refuse the comment if the same poster sent the same text to the
    /// thread at or after this time (ms).
    pub duplicate_since: Option<i64>,
    /// The moderation decision, logged with the comment.
    pub audit: AuditEntry,
    /// The form stamp the post used: recorded with the comment, and the
    /// comment refused if it was recorded before.
    pub stamp: Option<UsedStamp>,
}

/// A single-use form stamp, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsedStamp {
    /// The stamp's nonce.
    pub nonce: String,
    /// When the stamp expires anyway (ms): the record can go then.
    pub expires: i64,
}

/// Why an insert did not happen.
#[derive(Debug)]
pub enum InsertOutcome {
    /// Stored.
    Inserted,
    /// The thread is closed or hidden.
    ThreadNotOpen(ThreadState),
    /// The parent does not exist in this thread.
    NoSuchParent,
    /// The id was taken (retry with another).
    IdTaken,
    /// The same poster sent the same text to this thread within the window:
    /// the earlier comment's id.
    Duplicate(i64),
    /// The form stamp was used for another comment already.
    StampUsed,
}

/// What one transaction of inserts has learnt and owes per thread: its
/// state (read once), and how many comments it gained (written once, by
/// [`Touched::flush`], with the version bump).
#[derive(Debug, Default)]
pub(super) struct Touched {
    pub(super) threads: Vec<TouchedThread>,
}

#[derive(Debug)]
pub(super) struct TouchedThread {
    pub(super) site: String,
    pub(super) thread: String,
    pub(super) state: ThreadState,
    pub(super) inserted: i64,
    pub(super) published: i64,
}

/// Inserts a group of new comments inside the caller's transaction. Each
/// is checked in order (duplicate, thread open, parent) before anything is
/// written; those that pass go in with one multi-row statement and their
/// audit entries with another, so a group costs a few round trips to the
/// database however many comments it holds. Thread versions and counts
/// are updated before the caller commits.
pub(super) async fn insert_group(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    backend: Backend,
    group: &[&InsertComment],
) -> Result<Vec<InsertOutcome>> {
    let mut touched = Touched::default();
    let mut outcomes: Vec<Option<InsertOutcome>> = group.iter().map(|_| None).collect();
    let mut ready: Vec<usize> = Vec::with_capacity(group.len());
    for (i, new) in group.iter().enumerate() {
        let earlier: Vec<&InsertComment> = ready.iter().map(|&j| group[j]).collect();
        match check_new(tx, backend, new, &earlier, &mut touched).await? {
            Some(refused) => outcomes[i] = Some(refused),
            None => ready.push(i),
        }
    }
    let inserted = insert_new_rows(tx, backend, group, &ready).await?;
    let mut audits = Vec::with_capacity(ready.len());
    for &i in &ready {
        let c = &group[i].comment;
        if !inserted.contains(&c.id) {
            // Tried again with another id: its stamp is not used up.
            if let Some(stamp) = &group[i].stamp {
                sqlx::query("DELETE FROM used_stamps WHERE nonce = $1")
                    .bind(&stamp.nonce)
                    .execute(&mut **tx)
                    .await?;
            }
            outcomes[i] = Some(InsertOutcome::IdTaken);
            continue;
        }
        outcomes[i] = Some(InsertOutcome::Inserted);
        audits.push(AuditEntry {
            comment_id: Some(c.id),
            ..group[i].audit.clone()
        });
        if let Some(t) = touched.find(&c.site, &c.thread) {
            t.inserted += 1;
            t.published += i64::from(c.status == Status::Published);
        }
    }
    match backend {
        // SQLite takes several statements in one call: the audit entries
        // and the thread counts cost one round trip to its thread.
        Backend::Sqlite => audits_and_counts(tx, &audits, &touched).await?,
        Backend::Postgres => {
            insert_audits(tx, backend, &audits).await?;
            touched.flush(tx).await?;
        }
    }
    Ok(outcomes
        .into_iter()
        .map(|o| o.unwrap_or(InsertOutcome::IdTaken))
        .collect())
}

/// Why a new comment cannot go in, if it cannot: the database as it is in
/// this transaction plus `earlier`, the comments of the same group that
/// passed (they are not written yet).
pub(super) async fn check_new(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    backend: Backend,
    new: &InsertComment,
    earlier: &[&InsertComment],
    touched: &mut Touched,
) -> Result<Option<InsertOutcome>> {
    let c = &new.comment;
    // Within one transaction nothing else changes a thread's state, so it
    // is read once.
    let state = match touched.find(&c.site, &c.thread) {
        Some(t) => t.state,
        None => {
            let state = thread_state_for_insert(tx, c).await?;
            touched.threads.push(TouchedThread {
                site: c.site.to_string(),
                thread: c.thread.to_string(),
                state,
                inserted: 0,
                published: 0,
            });
            state
        }
    };
    if let Some(since) = new.duplicate_since {
        let email = c.email.as_deref().map(normalize_email);
        let hash = body_hash(&c.body);
        if backend == Backend::Postgres {
            // Two identical posts sent at once must not both find no
            // duplicate: each takes a lock named by its poster and text, so
            // only posts that could be duplicates of each other wait for one
            // another (posts by different people to a busy thread do not).
            // SQLite has one writer and needs none.
            let mut keys: Vec<i64> = [email.as_deref(), c.ip_hash.as_deref()]
                .into_iter()
                .flatten()
                .map(|poster| duplicate_lock_key(&c.site, &c.thread, poster, &hash))
                .collect();
            // Always in the same order, so two posts never wait on each other.
            keys.sort_unstable();
            for key in keys {
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(key)
                    .execute(&mut **tx)
                    .await?;
            }
        }
        let same_poster = |o: &Comment| {
            (email.is_some() && o.email.as_deref().map(normalize_email) == email)
                || (c.ip_hash.is_some() && o.ip_hash == c.ip_hash)
        };
        let in_group = earlier.iter().map(|e| &e.comment).find(|o| {
            o.site == c.site
                && o.thread == c.thread
                && o.created >= since
                && o.body == c.body
                && same_poster(o)
        });
        if let Some(o) = in_group {
            return Ok(Some(InsertOutcome::Duplicate(o.id)));
        }
        // One index range (site, thread, hash), however busy the thread.
        let stored = sqlx::query(
            "SELECT id FROM comments WHERE site = $1 AND thread_key = $2 AND body_hash = $3 \
             AND created >= $4 AND body = $5 \
             AND ((email_norm IS NOT NULL AND email_norm = $6) OR (ip_hash IS NOT NULL AND ip_hash = $7)) LIMIT 1",
        )
        .bind(c.site.as_str())
        .bind(c.thread.as_str())
        .bind(&hash)
        .bind(since)
        .bind(&c.body)
        .bind(&email)
        .bind(&c.ip_hash)
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(row) = stored {
            return Ok(Some(InsertOutcome::Duplicate(row.try_get("id")?)));
        }
    }
    if state != ThreadState::Open {
        return Ok(Some(InsertOutcome::ThreadNotOpen(state)));
    }
    if let Some(parent) = c.parent {
        // Only a published comment can be replied to: a reply to a held,
        // spam or trashed one would be published under it and give its id
        // away. Such a parent is "not there", as for readers.
        let in_group = earlier.iter().any(|e| {
            e.comment.id == parent
                && e.comment.site == c.site
                && e.comment.thread == c.thread
                && e.comment.status == Status::Published
        });
        if !in_group {
            let found = sqlx::query(
                "SELECT id FROM comments WHERE site = $1 AND id = $2 AND thread_key = $3 \
                 AND status = 'published'",
            )
            .bind(c.site.as_str())
            .bind(parent)
            .bind(c.thread.as_str())
            .fetch_optional(&mut **tx)
            .await?;
            if found.is_none() {
                return Ok(Some(InsertOutcome::NoSuchParent));
            }
        }
    }
    if let Some(stamp) = &new.stamp {
        // Last, so only a comment that would go in uses up its stamp.
        let recorded = sqlx::query(
            "INSERT INTO used_stamps (nonce, expires) VALUES ($1, $2) ON CONFLICT (nonce) DO NOTHING",
        )
        .bind(&stamp.nonce)
        .bind(stamp.expires)
        .execute(&mut **tx)
        .await?;
        if recorded.rows_affected() == 0 {
            return Ok(Some(InsertOutcome::StampUsed));
        }
    }
    Ok(None)
}

/// The key of a comment's text in the duplicate index: 64 bits of its
/// SHA-256, in hex (the lookup compares the text itself too).
pub(crate) fn body_hash(body: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(body.as_bytes())[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The PostgreSQL advisory lock that serializes possible duplicates of one
/// another: one poster's one text in one thread.
pub(super) fn duplicate_lock_key(site: &str, thread: &str, poster: &str, hash: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("dup\n{site}\n{thread}\n{poster}\n{hash}").as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_le_bytes(first)
}

/// The state of a new comment's thread, creating the thread if it is new.
pub(super) async fn thread_state_for_insert(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    c: &Comment,
) -> Result<ThreadState> {
    let create = || {
        sqlx::query(
            "INSERT INTO threads (site, thread_key, state, created) VALUES ($1, $2, 'open', $3) \
             ON CONFLICT (site, thread_key) DO NOTHING",
        )
        .bind(c.site.as_str())
        .bind(c.thread.as_str())
        .bind(c.created)
    };
    let row = sqlx::query("SELECT state FROM threads WHERE site = $1 AND thread_key = $2")
        .bind(c.site.as_str())
        .bind(c.thread.as_str())
        .fetch_optional(&mut **tx)
        .await?;
    match row {
        Some(row) => parse_state(&row.try_get::<String, _>("state")?),
        None => {
            create().execute(&mut **tx).await?;
            Ok(ThreadState::Open)
        }
    }
}

/// One multi-row insert of `group[i]` for `i` in `which`; returns the ids
/// stored (a row whose id is taken is left out).
pub(super) async fn insert_new_rows(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    backend: Backend,
    group: &[&InsertComment],
    which: &[usize],
) -> Result<std::collections::HashSet<i64>> {
    if which.is_empty() {
        return Ok(std::collections::HashSet::new());
    }
    let mut sql = format!(
        "INSERT INTO comments ({NEW_COMMENT_COLUMNS}, edit_token_hash, reasons, notify_replies) VALUES "
    );
    push_value_rows(&mut sql, backend, which.len(), NEW_COMMENT_COLUMN_COUNT + 3);
    sql.push_str(" ON CONFLICT (id) DO NOTHING RETURNING id");
    let mut q = sqlx::query(&sql);
    for &i in which {
        let new = group[i];
        let c = &new.comment;
        q = bind_new_comment(q, c)
            .bind(&new.edit_token_hash)
            .bind(reasons_json(&c.reasons))
            .bind(i64::from(c.notify_replies));
    }
    q.fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| r.try_get::<i64, _>("id").map_err(StoreError::from))
        .collect()
}

/// Starts the group-commit writer on a thread of its own. On the server's
/// runtime, each of its round trips to the database waited behind every
/// busy request task before it was resumed (as did the task that hands its
/// connection back to the pool); alone, it is resumed at once.
pub(super) fn spawn_group_commit(
    pool: AnyPool,
    jobs: tokio::sync::mpsc::Receiver<InsertJob>,
) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| StoreError::setup("starting the database writer", e))?;
    std::thread::Builder::new()
        .name("colloquy-writer".to_owned())
        .spawn(move || runtime.block_on(group_commit(pool, jobs)))
        .map_err(|e| StoreError::setup("starting the database writer", e))?;
    Ok(())
}

/// SQLite's writer for new comments: takes whatever inserts are waiting (up
/// to [`MAX_BATCH`]), runs them in one transaction and answers each after
/// the commit, so one disk flush makes a whole group durable. If the
/// commit fails, every comment of the group gets the error and none is
/// stored.
pub(super) async fn group_commit(pool: AnyPool, mut queue: tokio::sync::mpsc::Receiver<InsertJob>) {
    while let Some(first) = queue.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        match insert_batch(&pool, &mut jobs).await {
            Ok(outcomes) => {
                for (job, outcome) in jobs.into_iter().zip(outcomes) {
                    let _ = job.reply.send(Ok(outcome));
                }
            }
            Err(e) => {
                let shared = std::sync::Arc::new(e);
                for job in jobs {
                    let _ = job
                        .reply
                        .send(Err(StoreError::Group(std::sync::Arc::clone(&shared))));
                }
            }
        }
    }
}

/// Inserts the jobs whose requests still wait for an answer (`jobs` keeps
/// only those), in one transaction.
pub(super) async fn insert_batch(
    pool: &AnyPool,
    jobs: &mut Vec<InsertJob>,
) -> Result<Vec<InsertOutcome>> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    // Taking the write lock may have waited (another process writing): a
    // request that gave up meanwhile, its client answered by the timeout,
    // must not have its comment stored afterwards, unacknowledged.
    jobs.retain(|job| !job.reply.is_closed());
    let group: Vec<&InsertComment> = jobs.iter().map(|j| &j.new).collect();
    let outcomes = insert_group(&mut tx, Backend::Sqlite, &group).await?;
    tx.commit().await?;
    Ok(outcomes)
}

impl Touched {
    pub(super) fn find(&mut self, site: &str, thread: &str) -> Option<&mut TouchedThread> {
        self.threads
            .iter_mut()
            .find(|t| t.site == site && t.thread == thread)
    }

    /// Bumps the version and adds the published count of every thread that
    /// gained comments, in the same transaction.
    pub(super) async fn flush(&self, tx: &mut sqlx::Transaction<'_, sqlx::Any>) -> Result<()> {
        for t in self.threads.iter().filter(|t| t.inserted > 0) {
            sqlx::query(
                "UPDATE threads SET version = version + 1, published = published + $1 \
                 WHERE site = $2 AND thread_key = $3",
            )
            .bind(t.published)
            .bind(t.site.as_str())
            .bind(t.thread.as_str())
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }
}

impl Store {
    /// Stores a new comment: creates the thread on its first comment,
    /// refuses closed threads, parents from elsewhere and duplicates. On
    /// SQLite, comments arriving together are committed by one transaction
    /// (one disk flush for all); the call returns once its comment is durable.
    ///
    /// # Errors
    /// Database failure.
    pub async fn insert_comment(&self, new: InsertComment) -> Result<InsertOutcome> {
        match &self.inserts {
            Some(queue) => {
                let (reply, answer) = tokio::sync::oneshot::channel();
                queue
                    .send(InsertJob { new, reply })
                    .await
                    .map_err(|_| StoreError::WriterGone)?;
                answer.await.map_err(|_| StoreError::WriterGone)?
            }
            None => {
                let mut tx = self.begin_write().await?;
                let outcome = insert_group(&mut tx, self.backend, &[&new]).await?;
                tx.commit().await?;
                Ok(outcome.into_iter().next().unwrap_or(InsertOutcome::IdTaken))
            }
        }
    }
}
