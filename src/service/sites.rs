//! A site's settings and formats, and its threads' states.

use super::Colloquy;
use crate::audit::Actor;
use crate::audit::AuditEntry;
use crate::clock::{new_id, now_ms};
use crate::comment::{SiteId, ThreadKey, ThreadMeta, ThreadState};
use crate::error::{Error, Result};
use crate::moderation::SiteRules;
use crate::policy::Policy;
use crate::site::SiteChanges;
use crate::site::SiteSettings;

/// Applies named changes to a site's rules; every value is checked.
fn merge_rules(
    current: &SiteRules,
    patch: serde_json::Map<String, serde_json::Value>,
) -> Result<SiteRules> {
    let mut value =
        serde_json::to_value(current).map_err(|e| Error::internal(format!("site rules: {e}")))?;
    let first = patch.keys().next().cloned().unwrap_or_default();
    if let serde_json::Value::Object(map) = &mut value {
        for (k, v) in patch {
            if !map.contains_key(&k) {
                let known: Vec<&String> = map.keys().collect();
                return Err(Error::invalid(
                    k.clone(),
                    format!(
                        "not a site setting; known: formats, default_format, moderation, hold_links, duplicate_window_secs, origins, {}",
                        known.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
            map.insert(k, v);
        }
    }
    let rules: SiteRules = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { first } else { path };
        Error::invalid(field, e.into_inner().to_string())
    })?;
    rules
        .check()
        .map_err(|(field, message)| Error::invalid(field, message))?;
    Ok(rules)
}

/// Every origin checked and normalized, duplicates dropped.
fn normalize_origins(list: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for (i, o) in list.iter().enumerate() {
        let o =
            crate::site::parse_origin(o).map_err(|m| Error::invalid(format!("origins[{i}]"), m))?;
        if !out.contains(&o) {
            out.push(o);
        }
    }
    Ok(out)
}

impl Colloquy {
    /// The origins whose pages may call a site's API from a browser: those
    /// set through the admin API, else the configuration file's (normalized
    /// the same way); none for an unknown site. Also tells which applies
    /// (`true`: the admin API's).
    ///
    /// # Errors
    /// Database failure.
    pub async fn site_origins(&self, site: &SiteId) -> Result<(Vec<String>, bool)> {
        let row = match self.site(site).await {
            Ok(row) => row,
            Err(Error::NotFound(_)) => return Ok((Vec::new(), false)),
            Err(e) => return Err(e),
        };
        Ok(match row.origins {
            Some(list) => (list, true),
            None => (self.file_origins(site.as_str()), false),
        })
    }

    /// A site's origins in the configuration file, normalized (the file's
    /// check refuses ones that are not origins).
    fn file_origins(&self, site: &str) -> Vec<String> {
        self.config()
            .sites
            .iter()
            .filter(|s| s.id == site)
            .flat_map(|s| s.origins.iter())
            .filter_map(|o| crate::site::parse_origin(o).ok())
            .collect()
    }

    /// Every site's settings, by id.
    ///
    /// # Errors
    /// Database failure.
    pub async fn sites(&self) -> Result<Vec<SiteSettings>> {
        Ok(self.store.sites().await?)
    }

    /// The formats a site offers, in order, with the default first flagged.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown site.
    pub async fn formats(&self, site: &SiteId) -> Result<(SiteSettings, Vec<&Policy>)> {
        let row = self.site(site).await?;
        let policies = row
            .formats
            .iter()
            .filter_map(|f| self.policies.get(f))
            .collect();
        Ok((row, policies))
    }

    /// Changes a site's formats, default format and moderation; takes effect
    /// on the next request.
    ///
    /// # Errors
    /// Unknown site, unknown format, a default outside the list.
    pub async fn update_site(
        &self,
        site: &SiteId,
        changes: SiteChanges,
        actor: &Actor,
    ) -> Result<SiteSettings> {
        let SiteChanges {
            formats,
            default_format,
            moderation,
            hold_links,
            duplicate_window_secs,
            rules,
            origins,
        } = changes;
        let mut row = self.site(site).await?;
        let mut changed: Vec<String> = Vec::new();
        if formats.is_some() {
            changed.push("formats".to_owned());
        }
        if let Some(formats) = formats {
            if formats.is_empty() {
                return Err(Error::invalid("formats", "offer at least one format"));
            }
            for f in &formats {
                if self.policies.get(f).is_none() {
                    let known: Vec<&str> = self.policies.ids().collect();
                    return Err(Error::invalid(
                        "formats",
                        format!("`{f}` is not a known format; known: {}", known.join(", ")),
                    ));
                }
            }
            let mut unique = formats.clone();
            unique.dedup();
            if unique.len() != formats.len() {
                return Err(Error::invalid("formats", "a format is listed twice"));
            }
            row.formats = formats;
        }
        let default_format_given = default_format.is_some();
        match default_format {
            Some(d) => row.default_format = d,
            None if !row.formats.contains(&row.default_format) => {
                row.default_format = row.formats.first().cloned().unwrap_or_default();
            }
            None => {}
        }
        if !row.formats.contains(&row.default_format) {
            return Err(Error::invalid(
                "default_format",
                format!(
                    "`{}` is not among the site's formats: {}",
                    row.default_format,
                    row.formats.join(", ")
                ),
            ));
        }
        if let Some(m) = moderation {
            row.moderation = m;
        }
        if let Some(n) = hold_links {
            row.hold_links = n;
        }
        if let Some(n) = duplicate_window_secs {
            if n > 86_400 {
                return Err(Error::invalid(
                    "duplicate_window_secs",
                    "0 (no check) to 86400 seconds",
                ));
            }
            row.duplicate_window_secs = n;
        }
        for (name, set) in [
            ("default_format", default_format_given),
            ("moderation", moderation.is_some()),
            ("hold_links", hold_links.is_some()),
            ("duplicate_window_secs", duplicate_window_secs.is_some()),
        ] {
            if set {
                changed.push(name.to_owned());
            }
        }
        if let Some(origins) = origins {
            changed.push("origins".to_owned());
            row.origins = match origins {
                None => None,
                Some(list) => Some(normalize_origins(&list)?),
            };
        }
        if !rules.is_empty() {
            changed.extend(rules.keys().cloned());
            row.rules = merge_rules(&row.rules, rules)?;
        }
        let now = now_ms();
        let audit = AuditEntry {
            id: new_id(now),
            site: site.as_str().to_owned(),
            comment_id: None,
            thread: None,
            actor: actor.label(),
            action: "site".to_owned(),
            status: None,
            reasons: vec![format!("changed {}", changed.join(", "))],
            created: now,
            notify: false,
        };
        self.store.update_site(&row, now, &audit).await?;
        // Forget first: a reader that fetched the old settings meanwhile
        // then cannot store them over these.
        self.sites.forget(&site.as_str().to_owned());
        self.sites.put(site.as_str().to_owned(), row.clone());
        Ok(row)
    }

    /// Sets a thread's state (creating the thread if it has no comments yet).
    ///
    /// # Errors
    /// Unknown site.
    pub async fn set_thread_state(
        &self,
        site: &SiteId,
        thread: &ThreadKey,
        state: ThreadState,
        actor: &Actor,
    ) -> Result<()> {
        self.site(site).await?;
        let now = now_ms();
        let audit = AuditEntry {
            id: new_id(now),
            site: site.as_str().to_owned(),
            comment_id: None,
            thread: Some(thread.as_str().to_owned()),
            actor: actor.label(),
            action: "thread".to_owned(),
            status: None,
            reasons: vec![format!("thread set to {}", state.as_str())],
            created: now,
            notify: false,
        };
        self.store
            .set_thread_state(site.as_str(), thread.as_str(), state, now, &audit)
            .await?;
        // A hidden thread's count must not outlive the change.
        self.changed(site.as_str(), thread.as_str());
        Ok(())
    }

    /// A thread's title and address as a reader's embed sends them: checked
    /// like any field, and the address must be on one of the site's origins
    /// (when it has any other than `*`), so a thread cannot be made to point
    /// elsewhere.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming `thread_title` or `thread_url`.
    pub async fn thread_meta_from_page(
        &self,
        site: &SiteId,
        title: Option<&str>,
        url: Option<&str>,
    ) -> Result<ThreadMeta> {
        let meta = ThreadMeta::parse(title, url, "thread_")?;
        if let Some(u) = &meta.url {
            let (origins, _) = self.site_origins(site).await?;
            let strict = !origins.is_empty() && !origins.iter().any(|o| o == "*");
            let origin = url::Url::parse(u)
                .map(|p| p.origin().ascii_serialization())
                .unwrap_or_default();
            if strict && !origins.contains(&origin) {
                return Err(Error::invalid(
                    "thread_url",
                    format!(
                        "`{origin}` is not one of the site's origins ({})",
                        origins.join(", ")
                    ),
                ));
            }
        }
        Ok(meta)
    }

    /// Keeps what a page says about its thread where nothing is known yet
    /// (the first page to say wins; the admin API changes it later).
    ///
    /// # Errors
    /// Database failure.
    pub async fn note_thread_meta(
        &self,
        site: &SiteId,
        thread: &ThreadKey,
        meta: &ThreadMeta,
    ) -> Result<()> {
        if meta.is_empty() {
            return Ok(());
        }
        self.store
            .set_thread_meta(site.as_str(), thread.as_str(), meta, true, now_ms(), None)
            .await?;
        Ok(())
    }

    /// Sets a thread's title and address (each where given), in the audit
    /// log as a thread change.
    ///
    /// # Errors
    /// Unknown site, database failure.
    pub async fn set_thread_meta(
        &self,
        site: &SiteId,
        thread: &ThreadKey,
        meta: &ThreadMeta,
        actor: &Actor,
    ) -> Result<()> {
        self.site(site).await?;
        if meta.is_empty() {
            return Ok(());
        }
        let now = now_ms();
        let mut reasons = Vec::new();
        if let Some(t) = &meta.title {
            reasons.push(format!("title set to “{t}”"));
        }
        if let Some(u) = &meta.url {
            reasons.push(format!("address set to {u}"));
        }
        let audit = AuditEntry {
            id: new_id(now),
            site: site.as_str().to_owned(),
            comment_id: None,
            thread: Some(thread.as_str().to_owned()),
            actor: actor.label(),
            action: "thread".to_owned(),
            status: None,
            reasons,
            created: now,
            notify: false,
        };
        self.store
            .set_thread_meta(
                site.as_str(),
                thread.as_str(),
                meta,
                false,
                now,
                Some(&audit),
            )
            .await?;
        Ok(())
    }

    /// A thread's state and metadata as moderators see it (hidden ones
    /// too; a thread nobody wrote in is open and unnamed).
    ///
    /// # Errors
    /// Unknown site, database failure.
    pub async fn thread_admin(
        &self,
        site: &SiteId,
        thread: &ThreadKey,
    ) -> Result<(ThreadState, ThreadMeta)> {
        self.site(site).await?;
        Ok(self
            .store
            .thread(site.as_str(), thread.as_str())
            .await?
            .map_or((ThreadState::Open, ThreadMeta::default()), |t| {
                (t.state, t.meta)
            }))
    }

    /// Total comments of a site (for progress bars).
    ///
    /// # Errors
    /// Database failure.
    pub async fn count_site(&self, site: &SiteId) -> Result<i64> {
        Ok(self.store.count_site(site.as_str()).await?)
    }
}
