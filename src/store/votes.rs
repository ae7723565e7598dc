//! Votes, pins and statements of reasons: one vote per reader and comment
//! (its counts and Wilson score written in the same transaction), a
//! moderator's pin, and the statements with their appeals.

use super::*;
use crate::audit::AuditEntry;
use crate::statement::{Appeal, Counted, Decision, Statement};
use crate::vote::Standing;

/// What a statement is stored with beyond itself: how its author is known.
#[derive(Debug, Clone)]
pub struct NewStatement {
    /// The statement.
    pub statement: Statement,
    /// The comment's author as a reader key (`user:…`), when signed in.
    pub author_key: Option<String>,
}

/// Who may read a statement: the holder of the comment's edit token, or
/// the signed-in reader who wrote it.
#[derive(Debug, Clone, Default)]
pub struct StatementOwner {
    /// The comment's edit token, hashed.
    pub edit_token_hash: Option<String>,
    /// The author as a reader key (`user:…`), when they were signed in.
    pub author_key: Option<String>,
}

const STATEMENT_COLUMNS: &str =
    "id, site, comment_id, thread_key, decision, facts, ground, automated, \
     redress, actor, began, created, appeal_text, appealed, appeal_closed, appeal_outcome";

fn statement_from(r: &sqlx::any::AnyRow) -> Result<Statement> {
    let decision: String = r.try_get("decision")?;
    let appealed: Option<i64> = r.try_get("appealed")?;
    let closed: Option<i64> = r.try_get("appeal_closed")?;
    let outcome: Option<String> = r.try_get("appeal_outcome")?;
    Ok(Statement {
        id: r.try_get("id")?,
        site: r.try_get("site")?,
        comment_id: r.try_get("comment_id")?,
        thread: r.try_get("thread_key")?,
        decision: Decision::parse(&decision)
            .ok_or_else(|| StoreError::Corrupt(format!("decision `{decision}`")))?,
        facts: r.try_get("facts")?,
        ground: r.try_get("ground")?,
        automated: r.try_get::<i64, _>("automated")? != 0,
        redress: r.try_get("redress")?,
        actor: r.try_get("actor")?,
        began: r.try_get("began")?,
        created: r.try_get("created")?,
        appeal: match appealed {
            None => None,
            Some(created) => Some(Appeal {
                text: r
                    .try_get::<Option<String>, _>("appeal_text")?
                    .unwrap_or_default(),
                created,
                closed: closed.map(|at| (at, outcome.unwrap_or_default())),
            }),
        },
    })
}

/// Writes a statement in the caller's transaction, with the comment's edit
/// token hash as it is now (before a deletion takes the comment).
pub(super) async fn insert_statement_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    new: &NewStatement,
) -> Result<()> {
    let s = &new.statement;
    sqlx::query(
        "INSERT INTO statements (id, site, comment_id, thread_key, decision, facts, ground, automated, \
         redress, actor, began, created, author_key, edit_token_hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
         (SELECT edit_token_hash FROM comments WHERE site = $2 AND id = $3))",
    )
    .bind(s.id)
    .bind(&s.site)
    .bind(s.comment_id)
    .bind(&s.thread)
    .bind(s.decision.as_str())
    .bind(&s.facts)
    .bind(&s.ground)
    .bind(i64::from(s.automated))
    .bind(&s.redress)
    .bind(&s.actor)
    .bind(s.began)
    .bind(s.created)
    .bind(&new.author_key)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Bumps a thread's version (its cached listings are stale) without
/// recounting it.
async fn bump_thread(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    site: &str,
    thread: &str,
) -> Result<()> {
    sqlx::query("UPDATE threads SET version = version + 1 WHERE site = $1 AND thread_key = $2")
        .bind(site)
        .bind(thread)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl Store {
    /// Sets `reader`'s vote on a published comment (0 takes it back) and
    /// returns the comment's standing afterwards; `None` when there is no
    /// such published comment. Votes on one comment are serialized by the
    /// comment's row (taken first), so the counts always equal the votes;
    /// the same vote again changes nothing.
    ///
    /// # Errors
    /// Database failure.
    pub async fn vote(
        &self,
        site: &str,
        id: i64,
        reader: &str,
        value: i64,
        now: i64,
    ) -> Result<Option<Standing>> {
        let mut tx = self.begin_write().await?;
        // Takes the comment's row lock (PostgreSQL; SQLite writes one at a
        // time) before the vote is read.
        let row = sqlx::query(
            "UPDATE comments SET upvotes = upvotes WHERE site = $1 AND id = $2 AND status = 'published' \
             RETURNING upvotes, downvotes, pinned, thread_key",
        )
        .bind(site)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let standing = |r: &sqlx::any::AnyRow| -> Result<Standing> {
            Ok(Standing {
                upvotes: r.try_get("upvotes")?,
                downvotes: r.try_get("downvotes")?,
                pinned: r.try_get::<i64, _>("pinned")? != 0,
            })
        };
        let thread: String = row.try_get("thread_key")?;
        let old: i64 =
            sqlx::query("SELECT value FROM votes WHERE comment_id = $1 AND reader_key = $2")
                .bind(id)
                .bind(reader)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get::<i64, _>("value"))
                .transpose()?
                .unwrap_or(0);
        if old == value {
            let before = standing(&row)?;
            tx.commit().await?;
            return Ok(Some(before));
        }
        if value == 0 {
            sqlx::query("DELETE FROM votes WHERE comment_id = $1 AND reader_key = $2")
                .bind(id)
                .bind(reader)
                .execute(&mut *tx)
                .await?;
        } else {
            sqlx::query(
                "INSERT INTO votes (comment_id, reader_key, value, created) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (comment_id, reader_key) DO UPDATE SET value = excluded.value, created = excluded.created",
            )
            .bind(id)
            .bind(reader)
            .bind(value)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        let up = i64::from(value == 1) - i64::from(old == 1);
        let down = i64::from(value == -1) - i64::from(old == -1);
        let row = sqlx::query(
            "UPDATE comments SET upvotes = upvotes + $1, downvotes = downvotes + $2 \
             WHERE site = $3 AND id = $4 RETURNING upvotes, downvotes, pinned",
        )
        .bind(up)
        .bind(down)
        .bind(site)
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        let after = standing(&row)?;
        sqlx::query("UPDATE comments SET best_rank = $1 WHERE site = $2 AND id = $3")
            .bind(-crate::vote::wilson(after.upvotes, after.downvotes))
            .bind(site)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        bump_thread(&mut tx, site, &thread).await?;
        tx.commit().await?;
        Ok(Some(after))
    }

    /// Pins or unpins a comment (a pin only while it is published) and logs
    /// it; false when nothing changed (already so, or not published).
    ///
    /// # Errors
    /// Database failure.
    pub async fn set_pinned(
        &self,
        site: &str,
        id: i64,
        pinned: bool,
        audit: &AuditEntry,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "UPDATE comments SET pinned = $1 WHERE site = $2 AND id = $3 AND pinned <> $1 \
             AND (status = 'published' OR $1 = 0) RETURNING thread_key",
        )
        .bind(i64::from(pinned))
        .bind(site)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(false);
        };
        let thread: String = row.try_get("thread_key")?;
        bump_thread(&mut tx, site, &thread).await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Stores a statement on its own (a decision made when the comment was
    /// written).
    ///
    /// # Errors
    /// Database failure.
    pub async fn add_statement(&self, new: &NewStatement) -> Result<()> {
        let mut tx = self.begin_write().await?;
        insert_statement_in(&mut tx, new).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The latest statement about a comment, with the edit token hash its
    /// comment had then.
    ///
    /// # Errors
    /// Database failure.
    pub async fn latest_statement(
        &self,
        site: &str,
        comment: i64,
    ) -> Result<Option<(Statement, StatementOwner)>> {
        let sql = format!(
            "SELECT {STATEMENT_COLUMNS}, edit_token_hash, author_key FROM statements WHERE site = $1 AND comment_id = $2 \
             ORDER BY created DESC, id DESC LIMIT 1"
        );
        let row = sqlx::query(&sql)
            .bind(site)
            .bind(comment)
            .fetch_optional(&self.write)
            .await?;
        row.map(|r| {
            Ok((
                statement_from(&r)?,
                StatementOwner {
                    edit_token_hash: r.try_get("edit_token_hash")?,
                    author_key: r.try_get("author_key")?,
                },
            ))
        })
        .transpose()
    }

    /// Records the author's appeal of a statement, once: false when it was
    /// appealed already.
    ///
    /// # Errors
    /// Database failure.
    pub async fn appeal(
        &self,
        site: &str,
        statement: i64,
        text: &str,
        now: i64,
        audit: &AuditEntry,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE statements SET appeal_text = $1, appealed = $2 \
             WHERE site = $3 AND id = $4 AND appealed IS NULL",
        )
        .bind(text)
        .bind(now)
        .bind(site)
        .bind(statement)
        .execute(&mut *tx)
        .await?;
        let changed = done.rows_affected() > 0;
        if changed {
            insert_audit(&mut tx, audit).await?;
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// Closes the open appeals about a comment with a moderator's decision;
    /// how many were closed (each logged with `audit`).
    ///
    /// # Errors
    /// Database failure.
    pub async fn close_appeals(
        &self,
        site: &str,
        comment: i64,
        outcome: &str,
        now: i64,
        audit: &AuditEntry,
    ) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE statements SET appeal_closed = $1, appeal_outcome = $2 \
             WHERE site = $3 AND comment_id = $4 AND appealed IS NOT NULL AND appeal_closed IS NULL",
        )
        .bind(now)
        .bind(outcome)
        .bind(site)
        .bind(comment)
        .execute(&mut *tx)
        .await?;
        let closed = done.rows_affected();
        if closed > 0 {
            insert_audit(&mut tx, audit).await?;
        }
        tx.commit().await?;
        Ok(closed)
    }

    /// Whether a comment has an open appeal.
    ///
    /// # Errors
    /// Database failure.
    pub async fn has_open_appeal(&self, site: &str, comment: i64) -> Result<bool> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM statements WHERE site = $1 AND comment_id = $2 \
             AND appealed IS NOT NULL AND appeal_closed IS NULL",
        )
        .bind(site)
        .bind(comment)
        .fetch_one(&self.write)
        .await?;
        Ok(row.try_get::<i64, _>("n")? > 0)
    }

    /// The decisions of a site made in `[from, to)` (ms), as a transparency
    /// report counts them.
    ///
    /// # Errors
    /// Database failure.
    pub async fn decisions_between(&self, site: &str, from: i64, to: i64) -> Result<Vec<Counted>> {
        let rows = sqlx::query(
            "SELECT decision, ground, automated, began, created, appealed FROM statements \
             WHERE site = $1 AND created >= $2 AND created < $3 ORDER BY created, id",
        )
        .bind(site)
        .bind(from)
        .bind(to)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                let decision: String = r.try_get("decision")?;
                Ok(Counted {
                    decision: Decision::parse(&decision)
                        .ok_or_else(|| StoreError::Corrupt(format!("decision `{decision}`")))?,
                    ground: r.try_get("ground")?,
                    automated: r.try_get::<i64, _>("automated")? != 0,
                    handling_ms: r.try_get::<i64, _>("created")? - r.try_get::<i64, _>("began")?,
                    appealed: r.try_get::<Option<i64>, _>("appealed")?.is_some(),
                })
            })
            .collect()
    }
}
