//! Sites and threads: settings, states, versions.

use super::*;
use crate::audit::AuditEntry;
use crate::comment::ThreadState;
use crate::site::SiteSettings;

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
    /// The article's title and address.
    pub meta: crate::comment::ThreadMeta,
}

impl Store {
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
            "SELECT id, formats, default_format, moderation, hold_links, duplicate_window_secs, rules, origins \
             FROM sites WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.read)
        .await?;
        row.map(|r| SiteSettings::try_from(&r)).transpose()
    }

    /// All sites.
    ///
    /// # Errors
    /// Database failure.
    pub async fn sites(&self) -> Result<Vec<SiteSettings>> {
        let rows = sqlx::query(
            "SELECT id, formats, default_format, moderation, hold_links, duplicate_window_secs, rules, origins \
             FROM sites ORDER BY id",
        )
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(SiteSettings::try_from).collect()
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
             duplicate_window_secs = $5, rules = $6, updated = $7, origins = $9 WHERE id = $8",
        )
        .bind(site.formats.join(" "))
        .bind(&site.default_format)
        .bind(site.moderation.as_str())
        .bind(i64::from(site.hold_links))
        .bind(i64::from(site.duplicate_window_secs))
        .bind(rules_json(&site.rules)?)
        .bind(now)
        .bind(&site.id)
        .bind(site.origins.as_ref().map(|o| o.join(" ")))
        .execute(&mut *tx)
        .await?;
        let changed = done.rows_affected() > 0;
        if changed {
            insert_audit(&mut tx, audit).await?;
            self.announce(&mut tx, &Change::Site(site.id.clone()))
                .await?;
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// A thread, if it exists.
    ///
    /// # Errors
    /// Database failure.
    pub async fn thread(&self, site: &str, key: &str) -> Result<Option<ThreadRow>> {
        let row = sqlx::query(
            "SELECT thread_key, state, created, version, title, url FROM threads WHERE site = $1 AND thread_key = $2",
        )
        .bind(site)
        .bind(key)
        .fetch_optional(&self.read)
        .await?;
        row.map(|r| ThreadRow::try_from(&r)).transpose()
    }

    /// Sets a thread's title and address (each where given), creating the
    /// thread if needed. `only_unset`: keep what is there already (the
    /// embed's first word on a thread; the admin API overrides). Returns
    /// whether anything changed.
    ///
    /// # Errors
    /// Database failure.
    pub async fn set_thread_meta(
        &self,
        site: &str,
        key: &str,
        meta: &crate::comment::ThreadMeta,
        only_unset: bool,
        now: i64,
        audit: Option<&AuditEntry>,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO threads (site, thread_key, state, created) VALUES ($1, $2, 'open', $3) \
             ON CONFLICT (site, thread_key) DO NOTHING",
        )
        .bind(site)
        .bind(key)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let set = if only_unset {
            "UPDATE threads SET title = COALESCE(title, $1), url = COALESCE(url, $2), version = version + 1 \
             WHERE site = $3 AND thread_key = $4 AND ((title IS NULL AND $1 IS NOT NULL) OR (url IS NULL AND $2 IS NOT NULL))"
        } else {
            "UPDATE threads SET title = COALESCE($1, title), url = COALESCE($2, url), version = version + 1 \
             WHERE site = $3 AND thread_key = $4"
        };
        let done = sqlx::query(set)
            .bind(meta.title.as_deref())
            .bind(meta.url.as_deref())
            .bind(site)
            .bind(key)
            .execute(&mut *tx)
            .await?;
        if let Some(audit) = audit {
            insert_audit(&mut tx, audit).await?;
        }
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
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
        let change = Change::Thread {
            site: site.to_owned(),
            thread: key.to_owned(),
        };
        self.announce(&mut tx, &change).await?;
        tx.commit().await?;
        Ok(())
    }
}
