//! Reader reports and the enforcement ladder: one report per reader and
//! comment (a unique index), holds written by compare-and-set, and the
//! commenters' standings with their history.

use super::*;
use crate::comment::{Comment, Status};
use sqlx::Row;

/// A report as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRow {
    /// Its id.
    pub id: i64,
    /// The comment reported.
    pub comment_id: i64,
    /// Who reported it (`user:ID`, `ip:HASH`).
    pub reader: String,
    /// `spam`, `abusive`, …
    pub reason: String,
    /// The law named by an `illegal` report.
    pub law: Option<String>,
    /// The reader's words.
    pub text: Option<String>,
    /// Weight in quarters of a reader.
    pub weight: i64,
    /// When (ms).
    pub created: i64,
    /// When a moderator dismissed it (ms).
    pub dismissed: Option<i64>,
}

/// A commenter's standing as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandingRow {
    /// `user:ID`, `email:ADDRESS`, `ip:HASH`.
    pub commenter: String,
    /// The ladder step.
    pub step: String,
    /// When it ends (ms).
    pub until: Option<i64>,
    /// The moderator's reason.
    pub reason: String,
    /// Who set it.
    pub actor: String,
    /// When it was set (ms).
    pub updated: i64,
    /// A warning was shown.
    pub warned: bool,
}

/// One ladder action as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionRow {
    /// Its id.
    pub id: i64,
    /// Whom.
    pub commenter: String,
    /// The step, or `clear`.
    pub action: String,
    /// Until when.
    pub until: Option<i64>,
    /// Why.
    pub reason: String,
    /// Who.
    pub actor: String,
    /// When (ms).
    pub created: i64,
}

const REPORT_COLUMNS: &str =
    "id, comment_id, reader, reason, law, text, weight, created, dismissed";

fn report_row(r: &sqlx::any::AnyRow) -> Result<ReportRow> {
    Ok(ReportRow {
        id: r.try_get("id")?,
        comment_id: r.try_get("comment_id")?,
        reader: r.try_get("reader")?,
        reason: r.try_get("reason")?,
        law: r.try_get("law")?,
        text: r.try_get("text")?,
        weight: r.try_get("weight")?,
        created: r.try_get("created")?,
        dismissed: r.try_get("dismissed")?,
    })
}

fn standing_row(r: &sqlx::any::AnyRow) -> Result<StandingRow> {
    Ok(StandingRow {
        commenter: r.try_get("commenter")?,
        step: r.try_get("step")?,
        until: r.try_get("until")?,
        reason: r.try_get("reason")?,
        actor: r.try_get("actor")?,
        updated: r.try_get("updated")?,
        warned: r.try_get::<i64, _>("warned")? != 0,
    })
}

/// A new report, as the service made it.
#[derive(Debug, Clone)]
pub struct NewReport<'a> {
    /// Its id.
    pub id: i64,
    /// The site.
    pub site: &'a str,
    /// The comment.
    pub comment_id: i64,
    /// The reader's key text.
    pub reader: &'a str,
    /// The reason.
    pub reason: &'a str,
    /// The law (illegal reports).
    pub law: Option<&'a str>,
    /// The reader's words.
    pub text: Option<&'a str>,
    /// Weight in quarters.
    pub weight: i64,
    /// When (ms).
    pub created: i64,
}

/// Forgets an e-mail address's standing and ladder history (an erasure),
/// and the address in the audit entries of those actions; true when there
/// was any.
pub(super) async fn forget_email_key(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    site: &str,
    email: &str,
) -> Result<bool> {
    let key = format!("email:{email}");
    let mut any = false;
    for table in ["commenters", "commenter_actions"] {
        let done = sqlx::query(&format!(
            "DELETE FROM {table} WHERE site = $1 AND commenter = $2"
        ))
        .bind(site)
        .bind(&key)
        .execute(&mut **tx)
        .await?;
        any |= done.rows_affected() > 0;
    }
    let prefix = format!("{key}: ");
    let rows =
        sqlx::query("SELECT id, reasons FROM audit_log WHERE site = $1 AND action = 'commenter'")
            .bind(site)
            .fetch_all(&mut **tx)
            .await?;
    for row in rows {
        let reasons = reasons_from(row.try_get("reasons")?);
        if reasons.iter().any(|r| r.starts_with(&prefix)) {
            let kept: Vec<String> = reasons
                .iter()
                .map(|r| match r.strip_prefix(&prefix) {
                    Some(rest) => format!("email:(erased): {rest}"),
                    None => r.clone(),
                })
                .collect();
            sqlx::query("UPDATE audit_log SET reasons = $1 WHERE id = $2")
                .bind(reasons_json(&kept))
                .bind(row.try_get::<i64, _>("id")?)
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok(any)
}

impl Store {
    /// Records a report; false when this reader reported this comment
    /// before (the unique index decides, so concurrent repeats store one).
    ///
    /// # Errors
    /// Database failure.
    pub async fn insert_report(&self, r: &NewReport<'_>) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO reports (id, site, comment_id, reader, reason, law, text, weight, created) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (site, comment_id, reader) DO NOTHING",
        )
        .bind(r.id)
        .bind(r.site)
        .bind(r.comment_id)
        .bind(r.reader)
        .bind(r.reason)
        .bind(r.law)
        .bind(r.text)
        .bind(r.weight)
        .bind(r.created)
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The open (undismissed) reports on a comment, oldest first.
    ///
    /// # Errors
    /// Database failure.
    pub async fn open_reports(&self, site: &str, comment_id: i64) -> Result<Vec<ReportRow>> {
        let sql = format!(
            "SELECT {REPORT_COLUMNS} FROM reports WHERE site = $1 AND comment_id = $2 \
             AND dismissed IS NULL ORDER BY id"
        );
        let rows = sqlx::query(&sql)
            .bind(site)
            .bind(comment_id)
            .fetch_all(&self.write)
            .await?;
        rows.iter().map(report_row).collect()
    }

    /// How many of a reader's reports on a site moderators dismissed
    /// (counted up to `cap`).
    ///
    /// # Errors
    /// Database failure.
    pub async fn dismissed_reports(&self, site: &str, reader: &str, cap: i64) -> Result<u64> {
        let row = sqlx::query(
            "SELECT COUNT(*) FROM (SELECT 1 FROM reports WHERE site = $1 AND reader = $2 \
             AND dismissed IS NOT NULL LIMIT $3) d",
        )
        .bind(site)
        .bind(reader)
        .bind(cap)
        .fetch_one(&self.read)
        .await?;
        Ok(u64::try_from(row.try_get::<i64, _>(0)?).unwrap_or(0))
    }

    /// Published comments on a site from an address hash (counted up to
    /// `cap`).
    ///
    /// # Errors
    /// Database failure.
    pub async fn published_by_ip_hash(&self, site: &str, ip_hash: &str, cap: i64) -> Result<u64> {
        let row = sqlx::query(
            "SELECT COUNT(*) FROM (SELECT 1 FROM comments WHERE site = $1 AND ip_hash = $2 \
             AND status = 'published' LIMIT $3) p",
        )
        .bind(site)
        .bind(ip_hash)
        .bind(cap)
        .fetch_one(&self.read)
        .await?;
        Ok(u64::try_from(row.try_get::<i64, _>(0)?).unwrap_or(0))
    }

    /// Holds a published comment for its reports: sets it `pending` with
    /// `reasons` only if it is still published at `revision`, with its
    /// audit entry, in one transaction. False when it changed meanwhile.
    ///
    /// # Errors
    /// Database failure.
    pub async fn hold_reported(
        &self,
        site: &str,
        id: i64,
        revision: i64,
        reasons: &[String],
        now: i64,
        audit: &AuditEntry,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE comments SET status = 'pending', reasons = $1, modified = $2, \
             revision = revision + 1 \
             WHERE site = $3 AND id = $4 AND revision = $5 AND status = 'published'",
        )
        .bind(reasons_json(reasons))
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
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// Dismisses a comment's open reports, with an audit entry; returns how
    /// many.
    ///
    /// # Errors
    /// Database failure.
    pub async fn dismiss_reports(
        &self,
        site: &str,
        comment_id: i64,
        now: i64,
        audit: &AuditEntry,
    ) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE reports SET dismissed = $1 WHERE site = $2 AND comment_id = $3 \
             AND dismissed IS NULL",
        )
        .bind(now)
        .bind(site)
        .bind(comment_id)
        .execute(&mut *tx)
        .await?;
        let n = done.rows_affected();
        if n > 0 {
            let mut audit = audit.clone();
            audit.reasons = vec![format!(
                "dismissed {n} report{}",
                if n == 1 { "" } else { "s" }
            )];
            insert_audit(&mut tx, &audit).await?;
        }
        tx.commit().await?;
        Ok(n)
    }

    /// Comments of a site with open reports, newest comment first, below
    /// `before` (a comment id), with their open reports.
    ///
    /// # Errors
    /// Database failure.
    pub async fn reported(
        &self,
        site: &str,
        limit: i64,
        before: Option<i64>,
    ) -> Result<Vec<(Comment, Vec<ReportRow>)>> {
        let sql = format!(
            "SELECT {} FROM comments c WHERE c.site = $1 AND c.id < $2 AND EXISTS (\
             SELECT 1 FROM reports r WHERE r.site = c.site AND r.comment_id = c.id \
             AND r.dismissed IS NULL) ORDER BY c.id DESC LIMIT $3",
            COMMENT_COLUMNS
                .split(", ")
                .map(|c| format!("c.{}", c.trim()))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let rows = sqlx::query(&sql)
            .bind(site)
            .bind(before.unwrap_or(i64::MAX))
            .bind(limit)
            .fetch_all(&self.read)
            .await?;
        let comments: Vec<Comment> = rows.iter().map(Comment::try_from).collect::<Result<_>>()?;
        let mut out = Vec::with_capacity(comments.len());
        for c in comments {
            let reports = self.open_reports(site, c.id).await?;
            out.push((c, reports));
        }
        Ok(out)
    }

    /// Reports a reader made, newest first.
    ///
    /// # Errors
    /// Database failure.
    pub async fn reports_by(&self, site: &str, reader: &str, limit: i64) -> Result<Vec<ReportRow>> {
        let sql = format!(
            "SELECT {REPORT_COLUMNS} FROM reports WHERE site = $1 AND reader = $2 \
             ORDER BY id DESC LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(site)
            .bind(reader)
            .bind(limit)
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(report_row).collect()
    }

    /// Reports on any of `comments`, newest first.
    ///
    /// # Errors
    /// Database failure.
    pub async fn reports_on(
        &self,
        site: &str,
        comments: &[i64],
        limit: i64,
    ) -> Result<Vec<ReportRow>> {
        if comments.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new(&format!(
            "SELECT {REPORT_COLUMNS} FROM reports WHERE site = "
        ));
        sql.bind(site.to_owned())
            .push(" AND comment_id IN ")
            .bind_list(comments.to_vec())
            .push(" ORDER BY id DESC LIMIT ")
            .bind(limit);
        let rows = sql.fetch_all(&self.read).await?;
        rows.iter().map(report_row).collect()
    }

    /// Comments of a site by e-mail (normalized), address hash or (once
    /// comments carry it) identity, newest first.
    ///
    /// # Errors
    /// Database failure.
    pub async fn comments_of(
        &self,
        site: &str,
        email: Option<&str>,
        ip_hash: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Comment>> {
        let mut sql = Sql::new(&format!(
            "SELECT {COMMENT_COLUMNS} FROM comments WHERE site = "
        ));
        sql.bind(site.to_owned());
        match (email, ip_hash) {
            (Some(e), _) => sql.push(" AND email_norm = ").bind(e.to_owned()),
            (None, Some(h)) => sql.push(" AND ip_hash = ").bind(h.to_owned()),
            (None, None) => return Ok(Vec::new()),
        };
        sql.push(" ORDER BY id DESC LIMIT ").bind(limit);
        let rows = sql.fetch_all(&self.read).await?;
        rows.iter().map(Comment::try_from).collect()
    }

    /// The pending comments of a thread whose edit tokens hash to one of
    /// `hashes` (an author's own view).
    ///
    /// # Errors
    /// Database failure.
    pub async fn pending_by_tokens(
        &self,
        site: &str,
        thread: &str,
        hashes: &[String],
    ) -> Result<Vec<Comment>> {
        if hashes.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new(&format!(
            "SELECT {COMMENT_COLUMNS} FROM comments WHERE site = "
        ));
        sql.bind(site.to_owned())
            .push(" AND thread_key = ")
            .bind(thread.to_owned())
            .push(" AND status = ")
            .bind(Status::Pending.as_str().to_owned())
            .push(" AND edit_token_hash IN ")
            .bind_list(hashes.to_vec())
            .push(" ORDER BY id");
        let rows = sql.fetch_all(&self.read).await?;
        rows.iter().map(Comment::try_from).collect()
    }

    /// The held comments of a thread written by a signed-in reader.
    ///
    /// # Errors
    /// Database failure.
    pub async fn pending_by_author(
        &self,
        site: &str,
        thread: &str,
        author_id: &str,
    ) -> Result<Vec<Comment>> {
        let sql = format!(
            "SELECT {COMMENT_COLUMNS} FROM comments WHERE site = $1 AND thread_key = $2 \
             AND status = $3 AND author_id = $4 ORDER BY id LIMIT 100"
        );
        let rows = sqlx::query(&sql)
            .bind(site)
            .bind(thread)
            .bind(Status::Pending.as_str())
            .bind(author_id)
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(Comment::try_from).collect()
    }

    /// The audit entries of any of `comments`, newest first.
    ///
    /// # Errors
    /// Database failure.
    pub async fn audit_of(
        &self,
        site: &str,
        comments: &[i64],
        limit: i64,
    ) -> Result<Vec<AuditEntry>> {
        if comments.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new(
            "SELECT id, site, comment_id, thread_key, actor, action, status, reasons, created, notify \
             FROM audit_log WHERE site = ",
        );
        sql.bind(site.to_owned())
            .push(" AND comment_id IN ")
            .bind_list(comments.to_vec())
            .push(" ORDER BY created DESC, id DESC LIMIT ")
            .bind(limit);
        let rows = sql.fetch_all(&self.read).await?;
        rows.iter().map(AuditEntry::try_from).collect()
    }

    /// The standings naming any of `keys`.
    ///
    /// # Errors
    /// Database failure.
    pub async fn standings(&self, site: &str, keys: &[String]) -> Result<Vec<StandingRow>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new(
            "SELECT commenter, step, until, reason, actor, updated, warned FROM commenters \
             WHERE site = ",
        );
        sql.bind(site.to_owned())
            .push(" AND commenter IN ")
            .bind_list(keys.to_vec());
        // The read pool: every post asks, and SQLite's one writer
        // connection is for writes.
        let rows = sql.fetch_all(&self.read).await?;
        rows.iter().map(standing_row).collect()
    }

    /// Sets (`Some(step)`) or clears (`None`) a commenter's standing, with
    /// its history row and audit entry, in one transaction.
    ///
    /// # Errors
    /// Database failure.
    pub async fn set_standing(
        &self,
        site: &str,
        action: &ActionRow,
        step: Option<&str>,
        audit: &AuditEntry,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        match step {
            Some(step) => {
                sqlx::query(
                    "INSERT INTO commenters (site, commenter, step, until, reason, actor, updated, warned) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, 0) \
                     ON CONFLICT (site, commenter) DO UPDATE SET step = excluded.step, \
                     until = excluded.until, reason = excluded.reason, actor = excluded.actor, \
                     updated = excluded.updated, warned = 0",
                )
                .bind(site)
                .bind(&action.commenter)
                .bind(step)
                .bind(action.until)
                .bind(&action.reason)
                .bind(&action.actor)
                .bind(action.created)
                .execute(&mut *tx)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM commenters WHERE site = $1 AND commenter = $2")
                    .bind(site)
                    .bind(&action.commenter)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        sqlx::query(
            "INSERT INTO commenter_actions (id, site, commenter, action, until, reason, actor, created) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(action.id)
        .bind(site)
        .bind(&action.commenter)
        .bind(&action.action)
        .bind(action.until)
        .bind(&action.reason)
        .bind(&action.actor)
        .bind(action.created)
        .execute(&mut *tx)
        .await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Marks the warnings of `keys` shown, if they were not; returns how
    /// many this call marked (0: another post showed them first).
    ///
    /// # Errors
    /// Database failure.
    pub async fn claim_warnings(&self, site: &str, keys: &[String]) -> Result<u64> {
        if keys.is_empty() {
            return Ok(0);
        }
        let mut sql = Sql::new("UPDATE commenters SET warned = 1 WHERE site = ");
        sql.bind(site.to_owned())
            .push(" AND step = 'warn' AND warned = 0 AND commenter IN ")
            .bind_list(keys.to_vec());
        sql.execute(&self.write).await
    }

    /// A commenter's ladder history, newest first.
    ///
    /// # Errors
    /// Database failure.
    pub async fn commenter_actions(
        &self,
        site: &str,
        commenter: &str,
        limit: i64,
    ) -> Result<Vec<ActionRow>> {
        let rows = sqlx::query(
            "SELECT id, commenter, action, until, reason, actor, created FROM commenter_actions \
             WHERE site = $1 AND commenter = $2 ORDER BY id DESC LIMIT $3",
        )
        .bind(site)
        .bind(commenter)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ActionRow {
                    id: r.try_get("id")?,
                    commenter: r.try_get("commenter")?,
                    action: r.try_get("action")?,
                    until: r.try_get("until")?,
                    reason: r.try_get("reason")?,
                    actor: r.try_get("actor")?,
                    created: r.try_get("created")?,
                })
            })
            .collect()
    }
}
