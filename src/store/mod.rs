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

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row};

use crate::audit::AuditEntry;
use crate::comment::Order;
use crate::comment::Position;
use crate::comment::QueueFilter;
use crate::comment::{
    AuthorName, Comment, Email, Homepage, SiteId, Status, ThreadKey, ThreadState,
};
mod error;
pub use error::{Result, StoreError};

use crate::moderation::ModerationMode;
use crate::moderation::{Prior, SiteRules};
use crate::site::SiteSettings;

pub mod outbox;

mod transfer;
pub use transfer::{ExportComment, ExportThread, ImportRow, ImportThread, RowOutcome};

/// Which database is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// The store: a pool for writes and one for reads (the same pool on
/// PostgreSQL).
#[derive(Debug, Clone)]
pub struct Store {
    write: AnyPool,
    read: AnyPool,
    /// One connection for health checks only.
    health: AnyPool,
    backend: Backend,
    /// SQLite: the group-commit writer for new comments.
    inserts: Option<tokio::sync::mpsc::Sender<InsertJob>>,
}

/// A new comment waiting for the group-commit writer.
#[derive(Debug)]
struct InsertJob {
    new: InsertComment,
    reply: tokio::sync::oneshot::Sender<Result<InsertOutcome>>,
}

/// Most comments committed by one SQLite transaction.
const MAX_BATCH: usize = 64;

/// A thread's stored state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadRow {
    /// Thread key.
    pub key: String,
    /// Open, closed or hidden.
    pub state: ThreadState,
    /// Creation time (ms).
    pub created: i64,
    /// Bumped by every write that changes the thread's listing.
    pub version: i64,
}

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

/// After a change to comment `$2` of site `$1`: bump its thread's version
/// and recount its published comments.
const REFRESH_BY_COMMENT: &str = "UPDATE threads SET version = version + 1, published = (\
     SELECT COUNT(*) FROM comments c WHERE c.site = threads.site AND c.thread_key = threads.thread_key \
     AND c.status = 'published') \
     WHERE site = $1 AND thread_key = (SELECT thread_key FROM comments WHERE site = $1 AND id = $2)";

/// Runs [`REFRESH_BY_COMMENT`] in the caller's transaction.
async fn refresh_thread_of(
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
const REFRESH_BY_THREAD: &str = "UPDATE threads SET version = version + 1, published = (\
     SELECT COUNT(*) FROM comments c WHERE c.site = $1 AND c.thread_key = $2 AND c.status = 'published') \
     WHERE site = $1 AND thread_key = $2";

pub use crate::comment::normalize_email;

const COMMENT_COLUMNS: &str =
    "id, site, thread_key, parent, status, format, body, html, policy_version, \
     author, email, homepage, ip_hash, created, modified, reasons, notify_replies";

impl Store {
    /// Begins a write transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`): a deferred transaction that reads first fails
    /// outright when another process (a second server, an import) wrote in
    /// between, where an immediate one waits its turn (busy timeout).
    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.write.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.write.begin().await?,
        })
    }

    /// Connects, configures and migrates the database at `url`
    /// (`sqlite:PATH` — created if missing — or `postgres://…`).
    ///
    /// # Errors
    /// The database cannot be reached, opened or migrated.
    pub async fn connect(url: &str) -> Result<Store> {
        Store::connect_with(url, &crate::config::DatabaseConfig::default()).await
    }

    /// [`Store::connect`] with pool sizes and session timeouts.
    ///
    /// # Errors
    /// The database cannot be reached, opened or migrated.
    pub async fn connect_with(
        url: &str,
        settings: &crate::config::DatabaseConfig,
    ) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        };
        let store = match backend {
            Backend::Sqlite => {
                let url = if url.contains('?') {
                    url.to_owned()
                } else {
                    format!("{url}?mode=rwc")
                };
                let options = AnyConnectOptions::from_str(&url)
                    .map_err(|e| StoreError::setup("database URL", e))?;
                let write = sqlite_pool(1, WRITER_PRAGMAS)
                    .connect_with(options.clone())
                    .await?;
                // Create the schema before readers open the file.
                migrate(&write).await?;
                let readers = settings.pool_size.clamp(1, 4);
                let read = sqlite_pool(readers, "")
                    .connect_with(options.clone())
                    .await?;
                let health = sqlite_pool(1, "").connect_with(options).await?;
                let (queue, jobs) = tokio::sync::mpsc::channel(1024);
                spawn_group_commit(write.clone(), jobs)?;
                Store {
                    write,
                    read,
                    health,
                    backend,
                    inserts: Some(queue),
                }
            }
            Backend::Postgres => {
                let options = AnyConnectOptions::from_str(url)
                    .map_err(|e| StoreError::setup("database URL", e))?;
                let session = postgres_session(settings);
                let pool = postgres_pool(
                    settings.pool_size,
                    settings.acquire_timeout,
                    session.clone(),
                )
                .connect_with(options.clone())
                .await?;
                migrate(&pool).await?;
                // Health checks have a connection of their own: a pool full
                // of requests waiting on a lock must not fail them too.
                let health = postgres_pool(1, Duration::from_secs(2), session)
                    .connect_with(options)
                    .await?;
                Store {
                    write: pool.clone(),
                    read: pool,
                    health,
                    backend,
                    inserts: None,
                }
            }
        };
        Ok(store)
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes the pools (waits for connections in use).
    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
        self.health.close().await;
    }

    /// A quick round trip, for health checks.
    ///
    /// # Errors
    /// The database does not answer.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.health).await?;
        Ok(())
    }

    // ---- settings -------------------------------------------------------

    /// A stored setting.
    ///
    /// # Errors
    /// Database failure.
    pub async fn setting(&self, name: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT value FROM settings WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.write)
            .await?;
        Ok(row.map(|r| r.try_get::<String, _>("value")).transpose()?)
    }

    /// Stores a setting unless one exists; returns the value in force.
    ///
    /// # Errors
    /// Database failure.
    pub async fn setting_or_insert(&self, name: &str, value: &str) -> Result<String> {
        sqlx::query(
            "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(value)
        .execute(&self.write)
        .await?;
        Ok(self
            .setting(name)
            .await?
            .unwrap_or_else(|| value.to_owned()))
    }

    /// Deletes settings (keys an older version kept here).
    ///
    /// # Errors
    /// Database failure.
    pub async fn delete_settings(&self, names: &[&str]) -> Result<()> {
        for name in names {
            sqlx::query("DELETE FROM settings WHERE name = $1")
                .bind(name)
                .execute(&self.write)
                .await?;
        }
        Ok(())
    }

    // ---- sites ----------------------------------------------------------

    /// Creates a site unless it exists.
    ///
    /// # Errors
    /// Database failure.
    pub async fn ensure_site(&self, site: &SiteSettings, now: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO sites (id, formats, default_format, moderation, hold_links, duplicate_window_secs, \
             rules, created, updated) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&site.id)
        .bind(site.formats.join(" "))
        .bind(&site.default_format)
        .bind(site.moderation.as_str())
        .bind(i64::from(site.hold_links))
        .bind(i64::from(site.duplicate_window_secs))
        .bind(rules_json(&site.rules)?)
        .bind(now)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// A site's settings.
    ///
    /// # Errors
    /// Database failure.
    pub async fn site(&self, id: &str) -> Result<Option<SiteSettings>> {
        let row = sqlx::query(
            "SELECT id, formats, default_format, moderation, hold_links, duplicate_window_secs, rules FROM sites WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.read)
        .await?;
        row.map(|r| site_from_row(&r)).transpose()
    }

    /// All sites.
    ///
    /// # Errors
    /// Database failure.
    pub async fn sites(&self) -> Result<Vec<SiteSettings>> {
        let rows = sqlx::query(
            "SELECT id, formats, default_format, moderation, hold_links, duplicate_window_secs, rules FROM sites ORDER BY id",
        )
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(site_from_row).collect()
    }

    /// Replaces a site's settings.
    ///
    /// # Errors
    /// Database failure.
    pub async fn update_site(
        &self,
        site: &SiteSettings,
        now: i64,
        audit: &AuditEntry,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE sites SET formats = $1, default_format = $2, moderation = $3, hold_links = $4, \
             duplicate_window_secs = $5, rules = $6, updated = $7 WHERE id = $8",
        )
        .bind(site.formats.join(" "))
        .bind(&site.default_format)
        .bind(site.moderation.as_str())
        .bind(i64::from(site.hold_links))
        .bind(i64::from(site.duplicate_window_secs))
        .bind(rules_json(&site.rules)?)
        .bind(now)
        .bind(&site.id)
        .execute(&mut *tx)
        .await?;
        let changed = done.rows_affected() > 0;
        if changed {
            insert_audit(&mut tx, audit).await?;
        }
        tx.commit().await?;
        Ok(changed)
    }

    // ---- threads --------------------------------------------------------

    /// A thread, if it exists.
    ///
    /// # Errors
    /// Database failure.
    pub async fn thread(&self, site: &str, key: &str) -> Result<Option<ThreadRow>> {
        let row = sqlx::query(
            "SELECT thread_key, state, created, version FROM threads WHERE site = $1 AND thread_key = $2",
        )
        .bind(site)
        .bind(key)
        .fetch_optional(&self.read)
        .await?;
        row.map(|r| thread_from_row(&r)).transpose()
    }

    /// Sets a thread's state, creating the thread if needed.
    ///
    /// # Errors
    /// Database failure.
    pub async fn set_thread_state(
        &self,
        site: &str,
        key: &str,
        state: ThreadState,
        now: i64,
        audit: &AuditEntry,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO threads (site, thread_key, state, created) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (site, thread_key) DO NOTHING",
        )
        .bind(site)
        .bind(key)
        .bind(state.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE threads SET state = $1, version = version + 1 WHERE site = $2 AND thread_key = $3")
            .bind(state.as_str())
            .bind(site)
            .bind(key)
            .execute(&mut *tx)
            .await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    // ---- comments -------------------------------------------------------

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

    /// One comment of a site.
    ///
    /// # Errors
    /// Database failure.
    pub async fn comment(&self, site: &str, id: i64) -> Result<Option<Comment>> {
        let sql = format!("SELECT {COMMENT_COLUMNS} FROM comments WHERE site = $1 AND id = $2");
        let row = sqlx::query(&sql)
            .bind(site)
            .bind(id)
            .fetch_optional(&self.write)
            .await?;
        row.map(|r| comment_from_row(&r)).transpose()
    }

    /// The hash of a comment's edit token.
    ///
    /// # Errors
    /// Database failure.
    pub async fn edit_token_hash(&self, site: &str, id: i64) -> Result<Option<String>> {
        let row = sqlx::query("SELECT edit_token_hash FROM comments WHERE site = $1 AND id = $2")
            .bind(site)
            .bind(id)
            .fetch_optional(&self.write)
            .await?;
        Ok(row.and_then(|r| {
            r.try_get::<Option<String>, _>("edit_token_hash")
                .ok()
                .flatten()
        }))
    }

    /// Published comments of a thread, a page at a time.
    ///
    /// # Errors
    /// Database failure.
    pub async fn list_published(
        &self,
        site: &str,
        thread: &str,
        order: Order,
        limit: i64,
        after: Option<Position>,
    ) -> Result<Vec<Comment>> {
        let (cmp, dir) = match order {
            Order::Oldest => (">", "ASC"),
            Order::Newest => ("<", "DESC"),
        };
        let rows = match after {
            None => {
                let sql = format!(
                    "SELECT {COMMENT_COLUMNS} FROM comments \
                     WHERE site = $1 AND thread_key = $2 AND status = 'published' \
                     ORDER BY created {dir}, id {dir} LIMIT $3"
                );
                sqlx::query(&sql)
                    .bind(site)
                    .bind(thread)
                    .bind(limit)
                    .fetch_all(&self.read)
                    .await?
            }
            Some(p) => {
                let sql = format!(
                    "SELECT {COMMENT_COLUMNS} FROM comments \
                     WHERE site = $1 AND thread_key = $2 AND status = 'published' AND (created, id) {cmp} ($3, $4) \
                     ORDER BY created {dir}, id {dir} LIMIT $5"
                );
                sqlx::query(&sql)
                    .bind(site)
                    .bind(thread)
                    .bind(p.created)
                    .bind(p.id)
                    .bind(limit)
                    .fetch_all(&self.read)
                    .await?
            }
        };
        rows.iter().map(comment_from_row).collect()
    }

    /// Published comment counts for several threads of a site (threads
    /// without comments, and hidden ones, are left out).
    ///
    /// # Errors
    /// Database failure.
    pub async fn count_published(
        &self,
        site: &str,
        threads: &[String],
    ) -> Result<Vec<(String, i64)>> {
        if threads.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (0..threads.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT thread_key, published FROM threads WHERE site = $1 AND state <> 'hidden' \
             AND thread_key IN ({})",
            placeholders.join(", ")
        );
        let mut q = sqlx::query(&sql).bind(site);
        for t in threads {
            q = q.bind(t);
        }
        let rows = q.fetch_all(&self.read).await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get::<String, _>("thread_key")?,
                    r.try_get::<i64, _>("published")?,
                ))
            })
            .collect()
    }

    /// The moderation queue: comments of a site matching `filter`, newest
    /// first.
    ///
    /// # Errors
    /// Database failure.
    pub async fn queue(
        &self,
        site: &str,
        filter: &QueueFilter,
        limit: i64,
        before: Option<Position>,
    ) -> Result<Vec<Comment>> {
        let mut sql = format!("SELECT {COMMENT_COLUMNS} FROM comments WHERE site = $1");
        let mut n = 1;
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        let statuses: Vec<String> = filter.statuses.iter().map(|_| next()).collect();
        sql.push_str(&format!(" AND status IN ({})", statuses.join(", ")));
        // Text searches are case-insensitive substring matches; `%` and `_`
        // typed by the moderator are literal.
        if filter.text.is_some() {
            sql.push_str(&format!(" AND LOWER(body) LIKE {} ESCAPE '\\'", next()));
        }
        if filter.author.is_some() {
            let (a, b) = (next(), next());
            sql.push_str(&format!(
                " AND (LOWER(author) LIKE {a} ESCAPE '\\' OR LOWER(email) LIKE {b} ESCAPE '\\')"
            ));
        }
        if filter.ip_hash.is_some() {
            sql.push_str(&format!(" AND ip_hash = {}", next()));
        }
        if filter.thread.is_some() {
            sql.push_str(&format!(" AND thread_key = {}", next()));
        }
        if before.is_some() {
            let (c, i) = (next(), next());
            sql.push_str(&format!(" AND (created, id) < ({c}, {i})"));
        }
        sql.push_str(&format!(" ORDER BY created DESC, id DESC LIMIT {}", next()));
        let mut q = sqlx::query(&sql).bind(site);
        for s in &filter.statuses {
            q = q.bind(s.as_str());
        }
        if let Some(t) = &filter.text {
            q = q.bind(like_pattern(t));
        }
        if let Some(a) = &filter.author {
            q = q.bind(like_pattern(a)).bind(like_pattern(a));
        }
        if let Some(h) = &filter.ip_hash {
            q = q.bind(h);
        }
        if let Some(t) = &filter.thread {
            q = q.bind(t);
        }
        if let Some(p) = before {
            q = q.bind(p.created).bind(p.id);
        }
        let rows = q.bind(limit).fetch_all(&self.write).await?;
        rows.iter().map(comment_from_row).collect()
    }

    /// Published comments on a site by this e-mail address (for the
    /// trusted-author rule), counting at most `cap`.
    ///
    /// # Errors
    /// Database failure.
    pub async fn approved_by_email(&self, site: &str, email: &str, cap: i64) -> Result<u64> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM (SELECT 1 FROM comments WHERE site = $1 AND email_norm = $2 \
             AND status = 'published' LIMIT $3) AS t",
        )
        .bind(site)
        .bind(normalize_email(email))
        .bind(cap)
        .fetch_one(&self.read)
        .await?;
        Ok(u64::try_from(row.try_get::<i64, _>("n")?).unwrap_or(0))
    }

    /// Nesting level of a comment (1: top level), following parents up to
    /// `cap` levels; `None` when it does not exist.
    ///
    /// # Errors
    /// Database failure.
    pub async fn depth(&self, site: &str, id: i64, cap: i64) -> Result<Option<u32>> {
        let row = sqlx::query(
            "WITH RECURSIVE chain (id, parent, level) AS ( \
               SELECT id, parent, 1 FROM comments WHERE site = $1 AND id = $2 \
               UNION ALL \
               SELECT c.id, c.parent, chain.level + 1 FROM comments c \
               JOIN chain ON c.id = chain.parent WHERE c.site = $1 AND chain.level < $3) \
             SELECT MAX(level) AS level FROM chain",
        )
        .bind(site)
        .bind(id)
        .bind(cap)
        .fetch_one(&self.read)
        .await?;
        let level: Option<i64> = row.try_get("level")?;
        Ok(level.map(|l| u32::try_from(l).unwrap_or(u32::MAX)))
    }

    /// The audit log of a site, newest first, optionally for one comment.
    ///
    /// # Errors
    /// Database failure.
    pub async fn audit_log(
        &self,
        site: &str,
        comment: Option<i64>,
        limit: i64,
        before: Option<Position>,
    ) -> Result<Vec<AuditEntry>> {
        let mut sql = String::from(
            "SELECT id, site, comment_id, thread_key, actor, action, status, reasons, created, notify \
             FROM audit_log WHERE site = $1",
        );
        let mut n = 1;
        if comment.is_some() {
            n += 1;
            sql.push_str(&format!(" AND comment_id = ${n}"));
        }
        if before.is_some() {
            sql.push_str(&format!(" AND (created, id) < (${}, ${})", n + 1, n + 2));
            n += 2;
        }
        sql.push_str(&format!(" ORDER BY created DESC, id DESC LIMIT ${}", n + 1));
        let mut q = sqlx::query(&sql).bind(site);
        if let Some(c) = comment {
            q = q.bind(c);
        }
        if let Some(p) = before {
            q = q.bind(p.created).bind(p.id);
        }
        let rows = q.bind(limit).fetch_all(&self.read).await?;
        rows.iter().map(audit_from_row).collect()
    }

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
        rows.iter().map(comment_from_row).collect()
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
            comment: comment_from_row(&row)?,
            prior,
            revision: row.try_get("revision")?,
        }))
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
            insert_audit(&mut tx, audit).await?;
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// Deletes a comment for good; its replies move up to its parent.
    ///
    /// # Errors
    /// Database failure.
    pub async fn delete_comment(&self, site: &str, id: i64, audit: &AuditEntry) -> Result<bool> {
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
        remove_in(&mut tx, site, id, parent).await?;
        sqlx::query(REFRESH_BY_THREAD)
            .bind(site)
            .bind(&thread)
            .execute(&mut *tx)
            .await?;
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
            insert_audit(&mut tx, audit).await?;
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// Comments of a site rendered with another version of their policy than
    /// `current(format)`, a batch at a time after `after_id`.
    ///
    /// # Errors
    /// Database failure.
    pub async fn stale_renderings(
        &self,
        site: &str,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<(Comment, i64)>> {
        let sql = format!(
            "SELECT {COMMENT_COLUMNS}, revision FROM comments WHERE site = $1 AND id > $2 ORDER BY id LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(site)
            .bind(after_id)
            .bind(limit)
            .fetch_all(&self.write)
            .await?;
        rows.iter()
            .map(|r| Ok((comment_from_row(r)?, r.try_get("revision")?)))
            .collect()
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
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// Number of comments of a site (all statuses).
    ///
    /// # Errors
    /// Database failure.
    pub async fn count_site(&self, site: &str) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM comments WHERE site = $1")
            .bind(site)
            .fetch_one(&self.read)
            .await?;
        Ok(row.try_get("n")?)
    }
}

/// What one transaction of inserts has learnt and owes per thread: its
/// state (read once), and how many comments it gained (written once, by
/// [`Touched::flush`], with the version bump).
#[derive(Debug, Default)]
struct Touched {
    threads: Vec<TouchedThread>,
}

#[derive(Debug)]
struct TouchedThread {
    site: String,
    thread: String,
    state: ThreadState,
    inserted: i64,
    published: i64,
}

impl Touched {
    fn find(&mut self, site: &str, thread: &str) -> Option<&mut TouchedThread> {
        self.threads
            .iter_mut()
            .find(|t| t.site == site && t.thread == thread)
    }

    /// Bumps the version and adds the published count of every thread that
    /// gained comments, in the same transaction.
    async fn flush(&self, tx: &mut sqlx::Transaction<'_, sqlx::Any>) -> Result<()> {
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

/// Inserts a group of new comments inside the caller's transaction. Each
/// is checked in order (duplicate, thread open, parent) before anything is
/// written; those that pass go in with one multi-row statement and their
/// audit entries with another, so a group costs a few round trips to the
/// database however many comments it holds. Thread versions and counts
/// are updated before the caller commits.
async fn insert_group(
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
async fn check_new(
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
fn duplicate_lock_key(site: &str, thread: &str, poster: &str, hash: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("dup\n{site}\n{thread}\n{poster}\n{hash}").as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_le_bytes(first)
}

/// The state of a new comment's thread, creating the thread if it is new.
async fn thread_state_for_insert(
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

/// Columns of a new comment, in the order [`insert_new_rows`] binds them.
const NEW_COMMENT_COLUMNS: usize = 19;

/// One multi-row insert of `group[i]` for `i` in `which`; returns the ids
/// stored (a row whose id is taken is left out).
async fn insert_new_rows(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    backend: Backend,
    group: &[&InsertComment],
    which: &[usize],
) -> Result<std::collections::HashSet<i64>> {
    if which.is_empty() {
        return Ok(std::collections::HashSet::new());
    }
    let mut sql = String::from(
        "INSERT INTO comments (id, site, thread_key, parent, status, format, body, html, policy_version, \
         author, email, homepage, ip_hash, edit_token_hash, created, reasons, notify_replies, email_norm, \
         body_hash) VALUES ",
    );
    push_value_rows(&mut sql, backend, which.len(), NEW_COMMENT_COLUMNS);
    sql.push_str(" ON CONFLICT (id) DO NOTHING RETURNING id");
    let mut q = sqlx::query(&sql);
    for &i in which {
        let new = group[i];
        let c = &new.comment;
        q = q
            .bind(c.id)
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
            .bind(&new.edit_token_hash)
            .bind(c.created)
            .bind(reasons_json(&c.reasons))
            .bind(i64::from(c.notify_replies))
            .bind(c.email.as_deref().map(normalize_email))
            .bind(body_hash(&c.body));
    }
    q.fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| r.try_get::<i64, _>("id").map_err(StoreError::from))
        .collect()
}

/// `(…), (…)` for `rows` rows of `columns` values bound in order.
fn push_value_rows(sql: &mut String, backend: Backend, rows: usize, columns: usize) {
    for n in 0..rows {
        if n > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        sql.push_str(&placeholders(backend, n * columns + 1, columns));
        sql.push(')');
    }
}

/// Placeholders for `n` values bound in order, the first being value
/// number `first`. SQLite gets bare `?`: its driver looks each numbered
/// placeholder up by a linear scan, which on a statement of a few hundred
/// values costs more than running it.
fn placeholders(backend: Backend, first: usize, n: usize) -> String {
    match backend {
        Backend::Sqlite => vec!["?"; n].join(", "),
        Backend::Postgres => (first..first + n)
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// Starts the group-commit writer on a thread of its own. On the server's
/// runtime, each of its round trips to the database waited behind every
/// busy request task before it was resumed (as did the task that hands its
/// connection back to the pool); alone, it is resumed at once.
fn spawn_group_commit(pool: AnyPool, jobs: tokio::sync::mpsc::Receiver<InsertJob>) -> Result<()> {
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
async fn group_commit(pool: AnyPool, mut queue: tokio::sync::mpsc::Receiver<InsertJob>) {
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
async fn insert_batch(pool: &AnyPool, jobs: &mut Vec<InsertJob>) -> Result<Vec<InsertOutcome>> {
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

/// The writer's extra settings. Its page cache holds a whole import batch
/// (the default 2 MB spilled dirty pages to the WAL mid-transaction and
/// read them back), and statement journals stay in memory.
const WRITER_PRAGMAS: &str = "PRAGMA cache_size = -8192; PRAGMA temp_store = MEMORY;";

/// The session settings every PostgreSQL connection starts with.
fn postgres_session(settings: &crate::config::DatabaseConfig) -> String {
    format!(
        "SET statement_timeout = {}; SET lock_timeout = {}; SET idle_in_transaction_session_timeout = {};",
        settings.statement_timeout_ms, settings.lock_timeout_ms, settings.idle_in_transaction_ms
    )
}

fn postgres_pool(max: u32, acquire: Duration, session: String) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(acquire)
        .after_connect(move |conn, _meta| {
            let session = session.clone();
            Box::pin(async move {
                conn.execute(session.as_str()).await?;
                Ok(())
            })
        })
}

fn sqlite_pool(max: u32, extra_pragmas: &'static str) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(30))
        // An embedded database has no connection to lose: pinging it
        // before each use was a round trip to its thread on every query.
        .test_before_acquire(false)
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                conn.execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                     PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;",
                )
                .await?;
                if !extra_pragmas.is_empty() {
                    conn.execute(extra_pragmas).await?;
                }
                Ok(())
            })
        })
}

async fn migrate(pool: &AnyPool) -> Result<()> {
    sqlx::migrate!("src/store/migrations")
        .run(pool)
        .await
        .map_err(|e| StoreError::setup("migrating the database", e))
}

fn site_from_row(r: &AnyRow) -> Result<SiteSettings> {
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

/// `text` as a case-insensitive LIKE pattern for "contains".
fn like_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for ch in text.to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

fn audit_from_row(r: &AnyRow) -> Result<AuditEntry> {
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

fn rules_json(rules: &SiteRules) -> Result<String> {
    serde_json::to_string(rules).map_err(|e| StoreError::Corrupt(format!("site rules: {e}")))
}

/// Reasons as stored: a JSON array, or NULL when there are none.
fn reasons_json(reasons: &[String]) -> Option<String> {
    (!reasons.is_empty()).then(|| serde_json::to_string(reasons).unwrap_or_default())
}

fn reasons_from(json: Option<String>) -> Vec<String> {
    json.and_then(|j| serde_json::from_str(&j).ok())
        .unwrap_or_default()
}

/// Deletes one comment inside the caller's transaction; its replies move
/// up to its own parent. The thread's count and version are the caller's.
async fn remove_in(
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
    Ok(())
}

/// Writes one audit entry inside the caller's transaction.
/// SQLite: the group's audit entries and its threads' new versions and
/// counts, in one call of several statements.
async fn audits_and_counts(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    audits: &[AuditEntry],
    touched: &Touched,
) -> Result<()> {
    let threads: Vec<&TouchedThread> = touched.threads.iter().filter(|t| t.inserted > 0).collect();
    let mut sql = String::new();
    if !audits.is_empty() {
        sql.push_str(AUDIT_INSERT);
        push_value_rows(&mut sql, Backend::Sqlite, audits.len(), AUDIT_COLUMNS);
        sql.push(';');
    }
    for _ in &threads {
        sql.push_str(
            "UPDATE threads SET version = version + 1, published = published + ? \
             WHERE site = ? AND thread_key = ?;",
        );
    }
    if sql.is_empty() {
        return Ok(());
    }
    let mut q = sqlx::query(&sql);
    for a in audits {
        q = bind_audit(q, a);
    }
    for t in threads {
        q = q
            .bind(t.published)
            .bind(t.site.as_str())
            .bind(t.thread.as_str());
    }
    q.execute(&mut **tx).await?;
    Ok(())
}

/// The start of an audit insert; the value rows follow.
const AUDIT_INSERT: &str = "INSERT INTO audit_log (id, site, comment_id, thread_key, actor, action, status, reasons, created, notify) VALUES ";

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Binds an audit entry's values in [`AUDIT_INSERT`]'s column order.
fn bind_audit<'q>(q: AnyQuery<'q>, a: &'q AuditEntry) -> AnyQuery<'q> {
    q.bind(a.id)
        .bind(a.site.as_str())
        .bind(a.comment_id)
        .bind(a.thread.as_deref())
        .bind(&a.actor)
        .bind(&a.action)
        .bind(a.status.map(Status::as_str))
        .bind(reasons_json(&a.reasons))
        .bind(a.created)
        .bind(i64::from(a.notify))
}

/// Columns of an audit entry, in the order [`insert_audits`] binds them.
const AUDIT_COLUMNS: usize = 10;

/// Audit entries in one multi-row statement.
async fn insert_audits(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    backend: Backend,
    entries: &[AuditEntry],
) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let mut sql = String::from(AUDIT_INSERT);
    push_value_rows(&mut sql, backend, entries.len(), AUDIT_COLUMNS);
    let mut q = sqlx::query(&sql);
    for a in entries {
        q = bind_audit(q, a);
    }
    q.execute(&mut **tx).await?;
    Ok(())
}

async fn insert_audit(tx: &mut sqlx::Transaction<'_, sqlx::Any>, a: &AuditEntry) -> Result<()> {
    // One row: `$N` placeholders, which both backends take.
    let sql = format!("{AUDIT_INSERT}($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)");
    bind_audit(sqlx::query(&sql), a).execute(&mut **tx).await?;
    Ok(())
}

fn parse_state(s: &str) -> Result<ThreadState> {
    ThreadState::parse(s).map_err(|_| StoreError::Corrupt(format!("thread state `{s}`")))
}

fn thread_from_row(r: &AnyRow) -> Result<ThreadRow> {
    let state: String = r.try_get("state")?;
    Ok(ThreadRow {
        key: r.try_get("thread_key")?,
        state: parse_state(&state)?,
        created: r.try_get("created")?,
        version: r.try_get("version")?,
    })
}

fn comment_from_row(r: &AnyRow) -> Result<Comment> {
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
