//! Storage for imports and exports: batched inserts keyed by where each
//! comment came from, parent linking after the fact, and paged reads of a
//! whole site in a stable order.

use std::collections::{HashMap, HashSet};

use sqlx::Row;

use super::{parse_state, placeholders, push_value_rows, Store, COMMENT_COLUMNS};
use super::{Result, StoreError};
use crate::comment::{Comment, Status, ThreadState};

/// A comment ready to import: cleaned, rendered, with its origin.
#[derive(Debug, Clone)]
pub struct ImportRow {
    /// The comment. `id` is the id to keep when `keep_id` is set, else it is
    /// allocated here; `parent` is set only for parents given by our id.
    pub comment: Comment,
    /// Keep `comment.id` (a re-import of our own export).
    pub keep_id: bool,
    /// Where it came from (`wordpress:123`); unique per site.
    pub source: Option<String>,
    /// The source id of the comment it replies to, linked by
    /// [`Store::link_imported_parents`] once every comment is in.
    pub source_parent: Option<String>,
}

/// A thread to create, if missing, before its comments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportThread {
    /// Thread key.
    pub key: String,
    /// The article's title.
    pub title: Option<String>,
    /// State of a newly created thread (an existing one keeps its own).
    pub state: ThreadState,
    /// Creation time (ms).
    pub created: i64,
}

/// What became of one row of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowOutcome {
    /// Stored now.
    Inserted,
    /// Stored by an earlier import (same source, or same kept id).
    AlreadyThere,
    /// The id to keep belongs to another comment.
    IdTaken,
}

/// A thread as exported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportThread {
    /// Thread key.
    pub key: String,
    /// Title, if known.
    pub title: Option<String>,
    /// State.
    pub state: ThreadState,
    /// Creation time (ms).
    pub created: i64,
}

/// A comment as exported: everything stored but derived data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportComment {
    /// The comment.
    pub comment: Comment,
    /// Where it was imported from, if it was.
    pub source: Option<String>,
}

/// Rows per multi-row statement: enough to amortize a statement's round
/// trip to the database; more measured no faster.
const ROWS_PER_STATEMENT: usize = 16;

/// Rounds of fresh ids tried for rows whose id turned out to be taken.
const ID_ROUNDS: usize = 32;

impl Store {
    /// Where imported comments' ids start: after the largest id older than
    /// an hour. New comments take ids from the current time, so the import
    /// never takes an id a live post is about to use; the few comments of
    /// the last hour it may run into are stepped over.
    ///
    /// # Errors
    /// Database failure.
    pub async fn import_id_start(&self, now: i64) -> Result<i64> {
        let cutoff = (now - crate::clock::ID_EPOCH_MS - 3_600_000).max(0) << 12;
        let row = sqlx::query("SELECT MAX(id) AS m FROM comments WHERE id < $1")
            .bind(cutoff)
            .fetch_one(&self.write)
            .await?;
        let max: Option<i64> = row.try_get("m")?;
        // A fresh database starts at a random place below 2^40, so exports
        // of two databases rarely share ids when imported into one.
        let fresh = || (1 << 12) + i64::try_from(rand::random::<u64>() >> 25).unwrap_or(0);
        Ok(max.map_or_else(fresh, |m| m + 1))
    }

    /// Stores a batch of imported threads and comments in one transaction.
    /// Comments already imported (same source or kept id) are left alone;
    /// allocated ids start at `next_id`, which moves past them. Threads gain
    /// their published counts and a new version in the same transaction.
    ///
    /// # Errors
    /// Database failure.
    pub async fn import_batch(
        &self,
        site: &str,
        threads: &[ImportThread],
        rows: &mut [ImportRow],
        next_id: &mut i64,
    ) -> Result<Vec<RowOutcome>> {
        let mut tx = self.begin_write().await?;
        for chunk in threads.chunks(ROWS_PER_STATEMENT) {
            let mut sql = String::from(
                "INSERT INTO threads (site, thread_key, state, created, title) VALUES ",
            );
            push_value_rows(&mut sql, self.backend, chunk.len(), 5);
            sql.push_str(
                " ON CONFLICT (site, thread_key) DO UPDATE SET title = COALESCE(threads.title, excluded.title)",
            );
            let mut q = sqlx::query(&sql);
            for t in chunk {
                q = q
                    .bind(site)
                    .bind(&t.key)
                    .bind(t.state.as_str())
                    .bind(t.created)
                    .bind(&t.title);
            }
            q.execute(&mut *tx).await?;
        }

        // Twice in one batch: the first one counts.
        let mut outcome: Vec<Option<RowOutcome>> = vec![None; rows.len()];
        let mut seen_sources = HashSet::new();
        let mut seen_ids = HashSet::new();
        for (i, r) in rows.iter().enumerate() {
            let twice = match &r.source {
                Some(s) => !seen_sources.insert(s.as_str()),
                None => r.keep_id && !seen_ids.insert(r.comment.id),
            };
            if twice {
                outcome[i] = Some(RowOutcome::AlreadyThere);
            }
        }

        // Insert first and ask why only for the rows that did not go in: a
        // first import never pays for looking its sources up.
        let mut pending: Vec<usize> = (0..rows.len()).filter(|&i| outcome[i].is_none()).collect();
        let mut rounds = 0;
        while !pending.is_empty() {
            rounds += 1;
            if rounds > ID_ROUNDS {
                return Err(StoreError::IdsExhausted("imported comments"));
            }
            for &i in &pending {
                if !rows[i].keep_id {
                    rows[i].comment.id = *next_id;
                    *next_id += 1;
                }
            }
            let mut inserted = HashSet::new();
            for chunk in pending.chunks(ROWS_PER_STATEMENT) {
                for id in self.insert_rows(&mut tx, rows, chunk).await? {
                    inserted.insert(id);
                }
            }
            let refused: Vec<usize> = pending
                .iter()
                .copied()
                .filter(|&i| {
                    let stored = inserted.contains(&rows[i].comment.id);
                    if stored {
                        outcome[i] = Some(RowOutcome::Inserted);
                    }
                    !stored
                })
                .collect();
            let (known_sources, known_ids) =
                self.find_existing(&mut tx, site, rows, &refused).await?;
            let mut retry = Vec::new();
            for i in refused {
                let r = &rows[i];
                if r.source.as_ref().is_some_and(|s| known_sources.contains(s)) {
                    outcome[i] = Some(RowOutcome::AlreadyThere);
                } else if r.keep_id {
                    // The same comment imported before, or another one.
                    let same = known_ids
                        .get(&r.comment.id)
                        .is_some_and(|(s, source, created)| {
                            s == site && *source == r.source && *created == r.comment.created
                        });
                    outcome[i] = Some(if same {
                        RowOutcome::AlreadyThere
                    } else {
                        RowOutcome::IdTaken
                    });
                } else {
                    // Its fresh id was taken: try the next one.
                    retry.push(i);
                }
            }
            pending = retry;
        }

        // Published counts and versions, once per thread.
        let mut gained: Vec<(&str, i64)> = Vec::new();
        for (i, r) in rows.iter().enumerate() {
            if outcome[i] != Some(RowOutcome::Inserted) {
                continue;
            }
            let published = i64::from(r.comment.status == Status::Published);
            match gained.iter_mut().find(|(k, _)| r.comment.thread == *k) {
                Some((_, n)) => *n += published,
                None => gained.push((&r.comment.thread, published)),
            }
        }
        for (thread, published) in gained {
            sqlx::query(
                "UPDATE threads SET version = version + 1, published = published + $1 \
                 WHERE site = $2 AND thread_key = $3",
            )
            .bind(published)
            .bind(site)
            .bind(thread)
            .execute(&mut *tx)
            .await?;
        }
        self.announce(&mut tx, &super::Change::Counts).await?;
        tx.commit().await?;
        Ok(outcome
            .into_iter()
            .map(|o| o.unwrap_or(RowOutcome::AlreadyThere))
            .collect())
    }

    /// Links imported replies to their parents by source id (the parent
    /// must be in the same thread), bumps the versions of the threads that
    /// changed, and returns the replies whose parent is still missing, as
    /// `(id, source, parent source)`.
    ///
    /// # Errors
    /// Database failure.
    pub async fn link_imported_parents(
        &self,
        site: &str,
    ) -> Result<Vec<(i64, Option<String>, String)>> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE threads SET version = version + 1 WHERE site = $1 AND thread_key IN (\
             SELECT c.thread_key FROM comments c WHERE c.site = $1 AND c.parent IS NULL \
             AND c.source_parent IS NOT NULL)",
        )
        .bind(site)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE comments SET parent = (SELECT p.id FROM comments p WHERE p.site = comments.site \
             AND p.source = comments.source_parent AND p.thread_key = comments.thread_key) \
             WHERE site = $1 AND parent IS NULL AND source_parent IS NOT NULL",
        )
        .bind(site)
        .execute(&mut *tx)
        .await?;
        let rows = sqlx::query(
            "SELECT id, source, source_parent FROM comments WHERE site = $1 AND parent IS NULL \
             AND source_parent IS NOT NULL ORDER BY id",
        )
        .bind(site)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("id")?,
                    r.try_get("source")?,
                    r.try_get("source_parent")?,
                ))
            })
            .collect()
    }

    /// Detaches comments of a site whose parent (given by id) is not a
    /// comment of the same thread: they become top-level comments. Returns
    /// `(id, missing parent id)` for each.
    ///
    /// # Errors
    /// Database failure.
    pub async fn detach_orphans(&self, site: &str) -> Result<Vec<(i64, i64)>> {
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(
            "SELECT c.id, c.parent FROM comments c WHERE c.site = $1 AND c.parent IS NOT NULL \
             AND NOT EXISTS (SELECT 1 FROM comments p WHERE p.id = c.parent AND p.site = c.site \
             AND p.thread_key = c.thread_key) ORDER BY c.id",
        )
        .bind(site)
        .fetch_all(&mut *tx)
        .await?;
        let mut orphans = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: i64 = r.try_get("id")?;
            let parent: i64 = r.try_get("parent")?;
            sqlx::query("UPDATE comments SET parent = NULL WHERE site = $1 AND id = $2")
                .bind(site)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            super::refresh_thread_of(&mut tx, site, id).await?;
            orphans.push((id, parent));
        }
        tx.commit().await?;
        Ok(orphans)
    }

    /// Threads of a site in key order, a page at a time after `after`.
    ///
    /// # Errors
    /// Database failure.
    pub async fn export_threads(
        &self,
        site: &str,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<ExportThread>> {
        let rows = match after {
            None => {
                sqlx::query(
                    "SELECT thread_key, title, state, created FROM threads WHERE site = $1 \
                     ORDER BY thread_key LIMIT $2",
                )
                .bind(site)
                .bind(limit)
                .fetch_all(&self.read)
                .await?
            }
            Some(key) => {
                sqlx::query(
                    "SELECT thread_key, title, state, created FROM threads WHERE site = $1 \
                     AND thread_key > $2 ORDER BY thread_key LIMIT $3",
                )
                .bind(site)
                .bind(key)
                .bind(limit)
                .fetch_all(&self.read)
                .await?
            }
        };
        rows.iter()
            .map(|r| {
                Ok(ExportThread {
                    key: r.try_get("thread_key")?,
                    title: r.try_get("title")?,
                    state: parse_state(&r.try_get::<String, _>("state")?)?,
                    created: r.try_get("created")?,
                })
            })
            .collect()
    }

    /// Comments of one thread, every status, in the order of the thread
    /// index (status, created, id), a page at a time after `after`.
    ///
    /// # Errors
    /// Database failure.
    pub async fn export_comments(
        &self,
        site: &str,
        thread: &str,
        after: Option<(Status, i64, i64)>,
        limit: i64,
    ) -> Result<Vec<ExportComment>> {
        let rows = match after {
            None => {
                let sql = format!(
                    "SELECT {COMMENT_COLUMNS}, source FROM comments WHERE site = $1 AND thread_key = $2 \
                     ORDER BY status, created, id LIMIT $3"
                );
                sqlx::query(&sql)
                    .bind(site)
                    .bind(thread)
                    .bind(limit)
                    .fetch_all(&self.read)
                    .await?
            }
            Some((status, created, id)) => {
                let sql = format!(
                    "SELECT {COMMENT_COLUMNS}, source FROM comments WHERE site = $1 AND thread_key = $2 \
                     AND (status, created, id) > ($3, $4, $5) ORDER BY status, created, id LIMIT $6"
                );
                sqlx::query(&sql)
                    .bind(site)
                    .bind(thread)
                    .bind(status.as_str())
                    .bind(created)
                    .bind(id)
                    .bind(limit)
                    .fetch_all(&self.read)
                    .await?
            }
        };
        rows.iter()
            .map(|r| {
                Ok(ExportComment {
                    comment: Comment::try_from(r)?,
                    source: r.try_get("source")?,
                })
            })
            .collect()
    }
}

impl Store {
    /// Of the rows `which`, the sources already stored in `site` and, for
    /// rows keeping their id, the comments holding those ids (their site,
    /// source and time).
    async fn find_existing(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        site: &str,
        rows: &[ImportRow],
        which: &[usize],
    ) -> Result<(HashSet<String>, KnownIds)> {
        let sources: Vec<&str> = which
            .iter()
            .filter_map(|&i| rows[i].source.as_deref())
            .collect();
        let mut known_sources = HashSet::new();
        for chunk in sources.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "SELECT source FROM comments WHERE site = {} AND source IN ({})",
                placeholders(self.backend, 1, 1),
                placeholders(self.backend, 2, chunk.len())
            );
            let mut q = sqlx::query(&sql).bind(site);
            for s in chunk {
                q = q.bind(*s);
            }
            for r in q.fetch_all(&mut **tx).await? {
                known_sources.insert(r.try_get::<String, _>("source")?);
            }
        }
        let kept: Vec<i64> = which
            .iter()
            .filter(|&&i| rows[i].keep_id)
            .map(|&i| rows[i].comment.id)
            .collect();
        let mut known_ids = KnownIds::new();
        for chunk in kept.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "SELECT id, site, source, created FROM comments WHERE id IN ({})",
                placeholders(self.backend, 1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(&mut **tx).await? {
                known_ids.insert(
                    r.try_get("id")?,
                    (
                        r.try_get("site")?,
                        r.try_get("source")?,
                        r.try_get("created")?,
                    ),
                );
            }
        }
        Ok((known_sources, known_ids))
    }

    /// One multi-row insert of `rows[i]` for `i` in `which`; returns the ids
    /// stored (a row whose id or source is taken is left out).
    async fn insert_rows(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        rows: &[ImportRow],
        which: &[usize],
    ) -> Result<Vec<i64>> {
        let mut sql = format!(
            "INSERT INTO comments ({}, modified, source, source_parent) VALUES ",
            super::NEW_COMMENT_COLUMNS
        );
        push_value_rows(
            &mut sql,
            self.backend,
            which.len(),
            super::NEW_COMMENT_COLUMN_COUNT + 3,
        );
        sql.push_str(" ON CONFLICT DO NOTHING RETURNING id");
        let mut q = sqlx::query(&sql);
        for &i in which {
            let r = &rows[i];
            q = super::bind_new_comment(q, &r.comment)
                .bind(r.comment.modified)
                .bind(&r.source)
                .bind(&r.source_parent);
        }
        let done = q.fetch_all(&mut **tx).await?;
        done.iter()
            .map(|r| r.try_get::<i64, _>("id").map_err(StoreError::from))
            .collect()
    }
}

/// Comments by id: their site, source and creation time.
type KnownIds = HashMap<i64, (String, Option<String>, i64)>;
