//! The audit log: entries written in the transaction of the change they
//! record, and read back newest first.

use super::*;
use crate::audit::AuditEntry;
use crate::comment::Position;
use crate::comment::Status;

/// Writes one audit entry inside the caller's transaction.
/// SQLite: the group's audit entries and its threads' new versions and
/// counts, in one call of several statements.
pub(super) async fn audits_and_counts(
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
pub(super) const AUDIT_INSERT: &str = "INSERT INTO audit_log (id, site, comment_id, thread_key, actor, action, status, reasons, created, notify) VALUES ";

pub(super) type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Binds an audit entry's values in [`AUDIT_INSERT`]'s column order.
pub(super) fn bind_audit<'q>(q: AnyQuery<'q>, a: &'q AuditEntry) -> AnyQuery<'q> {
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
pub(super) const AUDIT_COLUMNS: usize = 10;

/// Audit entries in one multi-row statement.
pub(super) async fn insert_audits(
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

pub(super) async fn insert_audit(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    a: &AuditEntry,
) -> Result<()> {
    // One row: `$N` placeholders, which both backends take.
    let sql = format!("{AUDIT_INSERT}($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)");
    bind_audit(sqlx::query(&sql), a).execute(&mut **tx).await?;
    Ok(())
}

impl Store {
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
        let mut sql = Sql::new(
            "SELECT id, site, comment_id, thread_key, actor, action, status, reasons, created, notify \
             FROM audit_log WHERE site = ",
        );
        sql.bind(site.to_owned());
        if let Some(c) = comment {
            sql.push(" AND comment_id = ").bind(c);
        }
        if let Some(p) = before {
            sql.push(" AND (created, id) < (")
                .bind(p.created)
                .push(", ")
                .bind(p.id)
                .push(")");
        }
        sql.push(" ORDER BY created DESC, id DESC LIMIT ")
            .bind(limit);
        let rows = sql.fetch_all(&self.read).await?;
        rows.iter().map(AuditEntry::try_from).collect()
    }
}
