//! Sites' spam models and the moderator decisions they learn from.

use super::sql::Sql;
use super::{Result, Store};
use base64::Engine;
use sqlx::Row;

/// A site's stored model.
#[derive(Debug, Clone)]
pub struct StoredModel {
    /// Rises with every save.
    pub version: i64,
    /// The model's binary form.
    pub bytes: Vec<u8>,
    /// The last audit entry learned from.
    pub trained_through: i64,
    /// Examples learned, spam and ham.
    pub spam_learned: i64,
    /// Examples learned, ham.
    pub ham_learned: i64,
    /// When it was saved (ms).
    pub updated: i64,
}

/// A model to save.
#[derive(Debug, Clone, Copy)]
pub struct NewModel<'a> {
    /// The model's binary form.
    pub bytes: &'a [u8],
    /// The last audit entry learned from.
    pub trained_through: i64,
    /// Examples learned, spam.
    pub spam_learned: i64,
    /// Examples learned, ham.
    pub ham_learned: i64,
}

/// A moderator's decision on a comment that still exists, with what the
/// model reads of the comment.
#[derive(Debug, Clone)]
pub struct Decision {
    /// The audit entry.
    pub audit_id: i64,
    /// `approve`, `spam`, `trash` or `dismiss_reports`.
    pub action: String,
    /// The comment's text as typed.
    pub body: String,
    /// Its rendering.
    pub html: String,
    /// Its author's name.
    pub author: Option<String>,
    /// Its author's e-mail.
    pub email: Option<String>,
    /// Its author's homepage.
    pub homepage: Option<String>,
    /// What was known when it was posted.
    pub facts: CommentFacts,
}

/// What the spam model knew of a comment when it was posted, as the
/// database still tells it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommentFacts {
    /// The comment.
    pub id: i64,
    /// Milliseconds from its thread's first comment to it.
    pub thread_age_ms: Option<i64>,
    /// Whether its author (by e-mail) had published comments before it;
    /// `None` without an e-mail.
    pub author_known: Option<bool>,
    /// Milliseconds since the previous comment from its address on the
    /// site; `None` without one (or once IP hashes are forgotten).
    pub since_last_by_ip_ms: Option<i64>,
    /// Reports readers filed against it.
    pub reports: i64,
    /// When it was posted (ms).
    pub created: i64,
    /// How many of its link domains the site had not seen published
    /// before it (filled by the service from [`Store::seen_link_domains`]).
    pub new_link_domains: Option<u32>,
}

/// The columns of [`CommentFacts`], for a comment `c` (joined with its
/// thread `t`).
const FACTS: &str = "c.id AS facts_id, c.created - t.created AS thread_age_ms, \
     CASE WHEN c.email_norm IS NULL THEN NULL \
     WHEN EXISTS (SELECT 1 FROM comments p WHERE p.site = c.site AND p.email_norm = c.email_norm \
     AND p.status = 'published' AND p.created < c.created) THEN 1 ELSE 0 END AS author_known, \
     c.created - (SELECT MAX(q.created) FROM comments q WHERE q.site = c.site \
     AND q.ip_hash = c.ip_hash AND q.created < c.created) AS since_last_by_ip_ms, \
     (SELECT COUNT(*) FROM reports r WHERE r.site = c.site AND r.comment_id = c.id) AS reports, \
     c.created AS facts_created";

fn facts_of(r: &sqlx::any::AnyRow) -> Result<CommentFacts> {
    let known: Option<i64> = r.try_get("author_known")?;
    Ok(CommentFacts {
        id: r.try_get("facts_id")?,
        thread_age_ms: r.try_get("thread_age_ms")?,
        author_known: known.map(|k| k != 0),
        since_last_by_ip_ms: r.try_get("since_last_by_ip_ms")?,
        reports: r.try_get("reports")?,
        created: r.try_get("facts_created")?,
        new_link_domains: None,
    })
}

impl Store {
    /// Notes link domains as seen published on the site at `at` (ms);
    /// those seen before keep their first time.
    ///
    /// # Errors
    /// Database failure.
    pub async fn note_link_domains(&self, site: &str, domains: &[String], at: i64) -> Result<()> {
        if domains.is_empty() {
            return Ok(());
        }
        let mut sql = String::from("INSERT INTO link_domains (site, domain, first_seen) VALUES ");
        super::sql::push_value_rows(&mut sql, self.backend, domains.len(), 3);
        sql.push_str(" ON CONFLICT (site, domain) DO NOTHING");
        let mut q = sqlx::query(&sql);
        for d in domains {
            q = q.bind(site).bind(d.as_str()).bind(at);
        }
        q.execute(&self.write).await?;
        Ok(())
    }

    /// When each of `domains` was first seen published on the site.
    ///
    /// # Errors
    /// Database failure.
    pub async fn seen_link_domains(
        &self,
        site: &str,
        domains: &[String],
    ) -> Result<std::collections::HashMap<String, i64>> {
        if domains.is_empty() {
            return Ok(std::collections::HashMap::new());
        }
        let mut sql = Sql::new("SELECT domain, first_seen FROM link_domains WHERE site = ");
        sql.bind(site.to_owned())
            .push(" AND domain IN ")
            .bind_list(domains.to_vec());
        let rows = sql.fetch_all(&self.read).await?;
        rows.iter()
            .map(|r| Ok((r.try_get("domain")?, r.try_get("first_seen")?)))
            .collect()
    }

    /// When the address hashed as `ip_hash` last commented on the site
    /// before `before` (ms), if it did.
    ///
    /// # Errors
    /// Database failure.
    pub async fn last_post_by_ip(
        &self,
        site: &str,
        ip_hash: &str,
        before: i64,
    ) -> Result<Option<i64>> {
        let row: Option<(Option<i64>,)> = sqlx::query_as(
            "SELECT MAX(created) FROM comments WHERE site = $1 AND ip_hash = $2 AND created < $3",
        )
        .bind(site)
        .bind(ip_hash)
        .bind(before)
        .fetch_optional(&self.read)
        .await?;
        Ok(row.and_then(|(t,)| t))
    }

    /// What the spam model knows of these comments of the site.
    ///
    /// # Errors
    /// Database failure.
    pub async fn comment_facts(&self, site: &str, ids: &[i64]) -> Result<Vec<CommentFacts>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new(&format!(
            "SELECT {FACTS} FROM comments c JOIN threads t \
             ON t.site = c.site AND t.thread_key = c.thread_key WHERE c.site = "
        ));
        sql.bind(site.to_owned())
            .push(" AND c.id IN ")
            .bind_list(ids.to_vec());
        let rows = sql.fetch_all(&self.read).await?;
        rows.iter().map(facts_of).collect()
    }

    /// The site's model, if it has one of its own.
    ///
    /// # Errors
    /// Database failure, or a stored model that is not base64.
    pub async fn scoring_model(&self, site: &str) -> Result<Option<StoredModel>> {
        let row = sqlx::query(
            "SELECT version, model, trained_through, spam_learned, ham_learned, updated \
             FROM scoring_models WHERE site = $1",
        )
        .bind(site)
        .fetch_optional(&self.write)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let text: String = row.try_get("model")?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map_err(|e| super::StoreError::Corrupt(format!("scoring model of `{site}`: {e}")))?;
        Ok(Some(StoredModel {
            version: row.try_get("version")?,
            bytes,
            trained_through: row.try_get("trained_through")?,
            spam_learned: row.try_get("spam_learned")?,
            ham_learned: row.try_get("ham_learned")?,
            updated: row.try_get("updated")?,
        }))
    }

    /// The version of the site's model (cheap: for caches).
    ///
    /// # Errors
    /// Database failure.
    pub async fn scoring_model_version(&self, site: &str) -> Result<Option<i64>> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT version FROM scoring_models WHERE site = $1")
                .bind(site)
                .fetch_optional(&self.write)
                .await?;
        Ok(row.map(|(v,)| v))
    }

    /// Saves the site's model if the stored one is still at `read_version`
    /// (`None`: there was none). Returns the new version, or `None` when
    /// another trainer saved first.
    ///
    /// # Errors
    /// Database failure.
    pub async fn save_scoring_model(
        &self,
        site: &str,
        read_version: Option<i64>,
        model: NewModel<'_>,
        now: i64,
    ) -> Result<Option<i64>> {
        let text = base64::engine::general_purpose::STANDARD.encode(model.bytes);
        let version = read_version.unwrap_or(0) + 1;
        let done =
            match read_version {
                None => {
                    sqlx::query(
                        "INSERT INTO scoring_models \
                     (site, version, model, trained_through, spam_learned, ham_learned, updated) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (site) DO NOTHING",
                    )
                    .bind(site)
                    .bind(version)
                    .bind(&text)
                    .bind(model.trained_through)
                    .bind(model.spam_learned)
                    .bind(model.ham_learned)
                    .bind(now)
                    .execute(&self.write)
                    .await?
                }
                Some(read) => sqlx::query(
                    "UPDATE scoring_models SET version = $2, model = $3, trained_through = $4, \
                     spam_learned = $5, ham_learned = $6, updated = $7 \
                     WHERE site = $1 AND version = $8",
                )
                .bind(site)
                .bind(version)
                .bind(&text)
                .bind(model.trained_through)
                .bind(model.spam_learned)
                .bind(model.ham_learned)
                .bind(now)
                .bind(read)
                .execute(&self.write)
                .await?,
            };
        Ok((done.rows_affected() == 1).then_some(version))
    }

    /// Moderators' decisions (approve, spam, trash, reports dismissed) on the site's comments
    /// after audit entry `after`, oldest first, at most `limit`; decisions
    /// on comments deleted or erased since are left out.
    ///
    /// # Errors
    /// Database failure.
    pub async fn decisions(&self, site: &str, after: i64, limit: i64) -> Result<Vec<Decision>> {
        let rows = sqlx::query(&format!(
            "SELECT a.id AS audit_id, a.action, c.body, c.html, c.author, c.email, c.homepage, {FACTS} \
             FROM audit_log a JOIN comments c ON c.id = a.comment_id AND c.site = a.site \
             JOIN threads t ON t.site = c.site AND t.thread_key = c.thread_key \
             WHERE a.site = $1 AND a.id > $2 AND a.action IN ('approve', 'spam', 'trash', 'dismiss_reports') \
             AND a.actor NOT IN ('rules', 'author', 'system') \
             ORDER BY a.id LIMIT $3",
        ))
        .bind(site)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Decision {
                    audit_id: r.try_get("audit_id")?,
                    action: r.try_get("action")?,
                    body: r.try_get("body")?,
                    html: r.try_get("html")?,
                    author: r.try_get("author")?,
                    email: r.try_get("email")?,
                    homepage: r.try_get("homepage")?,
                    facts: facts_of(r)?,
                })
            })
            .collect()
    }
}
