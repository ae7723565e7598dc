//! The comment service: the one API the HTTP layer and the CLI use.
//!
//! Each call validates its input, renders with the policy (pure), asks the
//! moderation rules (pure), and makes one store call. Comments are rendered
//! once, when written; reads serve the stored HTML.

mod accounts;
mod author;
mod community;
mod follow;
mod instances;
mod limits;
mod listing;
mod moderate;
mod notifications;
mod post;
mod privacy;
mod readers;
mod rerender;
mod scoring;
mod sites;
mod statements;
mod votes;

pub use crate::moderation::Action;
pub use crate::store::{ActionRow, ReportRow, StandingRow};
pub use accounts::{Session, Staff, LOGINS_PER_MINUTE, MIN_PASSWORD_CHARS, SESSION_MS};
pub use author::Proof;
pub use community::{
    CommenterView, LadderAction, Reported, ReportedComment, ReportedPage, MAX_LADDER_REASON_CHARS,
    MAX_OWN_TOKENS,
};
pub use listing::ThreadInfo;
pub use post::{FormFields, PostClient, PostInput, Posted, Preview, STAMP_LIFETIME_MS};
pub use readers::looks_like_jwt;
pub use rerender::RerenderReport;
pub use scoring::{ModelInfo, SiteEvaluation, TrainReport, MODEL_RECHECK};
pub use votes::{IP_VOTES_PER_MINUTE, SITE_VOTES_PER_MINUTE};

use crate::audit::Actor;
use crate::audit::AuditEntry;
use crate::auth::AdminTokens;
use crate::clock::{new_id, now_ms};
use crate::comment::{Comment, SiteId};
use crate::config::{Config, Fingerprint};
use crate::error::{Code, Error, Result};
use crate::keys::Keys;
use crate::memo::Memo;
use crate::moderation::Refusal;
use crate::policy::{Policy, PolicySet};
use crate::ratelimit::RateLimits;
use crate::render_pool::RenderPool;
use crate::site::SiteSettings;
use crate::store::Store;
use std::sync::Arc;
use std::time::Duration;

/// How often a change is read and decided again when the comment changed
/// under it, before giving up with a conflict.
const MAX_CHANGE_ATTEMPTS: usize = 5;

/// The service.
#[derive(Clone)]
pub struct Colloquy {
    /// One shared allocation: a request clones the service several times
    /// (router, middleware, extractors), and each clone is then a single
    /// reference count.
    shared: Arc<Shared>,
}

/// What every clone of a [`Colloquy`] shares.
pub struct Shared {
    store: Store,
    policies: Arc<PolicySet>,
    config: Arc<Config>,
    /// Admin tokens, as digests only (taken out of `config` at open).
    admin_tokens: Arc<AdminTokens>,
    /// The sites' sign-in keys (taken out of `config` at open).
    sso: Arc<crate::sso::SsoKeys>,
    /// Password checks running now (argon2 is slow on purpose).
    logins: tokio::sync::Semaphore,
    /// Secret keys (IP hashes, form stamps, links, address hashes), kept
    /// outside the database.
    keys: Arc<Keys>,
    /// Site settings, read on every request (5 s; updated on change here,
    /// forgotten on a change another server announces).
    sites: Arc<Memo<String, SiteSettings>>,
    /// Published counts per (site, thread), for article lists (1 s; dropped
    /// on every change made here, and on moderation and thread changes
    /// other servers announce).
    counts: Arc<Memo<(String, String), i64>>,
    /// Per-address and per-site budgets for new comments.
    limits: Arc<RateLimits>,
    /// Where previews, posts and edits are rendered (off the async workers).
    renderer: RenderPool,
    /// The node number this server holds in the database, and the claim's
    /// holder name (see [`NODE_LEASE_MS`]).
    node: std::sync::atomic::AtomicU16,
    holder: String,
    /// Wakes the notifier: new events here, new outbox rows anywhere.
    outbox_wake: Arc<tokio::sync::Notify>,
    /// The store reading from the replica, when there is one.
    replica: Option<Store>,
    /// The spam models this server scores with, per site.
    models: scoring::SiteModels,
}

tokio::task_local! {
    /// Set for a request whose client wrote a moment ago (see
    /// [`read_primary`]): its reads go to the primary.
    static READ_PRIMARY: bool;
}

/// Runs `request` with every read on the primary, even where a replica
/// would serve it: the HTTP layer wraps the requests of a client that has
/// just posted, edited or deleted, so they see their own write at once
/// (read-your-writes) while the replica may still lag.
pub async fn read_primary<F: std::future::Future>(request: F) -> F::Output {
    READ_PRIMARY.scope(true, request).await
}

/// A node number passes to another server when its holder has not renewed
/// it for this long; holders renew it every quarter of that.
pub const NODE_LEASE_MS: i64 = 60_000;

fn refusal_error(r: Refusal) -> Error {
    match r {
        Refusal::Invalid { field, message } => Error::invalid(field, message),
        Refusal::Closed(m) => Error::forbidden(Code::ThreadClosed, m),
        Refusal::Banned(reason) => Error::forbidden(
            Code::Banned,
            format!("the moderators of this site banned you from commenting: {reason}"),
        ),
        Refusal::Suspended { until, reason } => Error::forbidden(
            Code::Suspended,
            format!(
                "the moderators of this site suspended you from commenting until {}: {reason}",
                crate::clock::rfc3339(until)
            ),
        ),
    }
}

impl std::ops::Deref for Colloquy {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.shared
    }
}

impl Colloquy {
    /// Connects to the database, migrates it, creates the configured sites
    /// that do not exist yet, and checks that every site's formats exist.
    ///
    /// # Errors
    /// Database failure, or a site naming a format no policy provides.
    pub async fn open(mut config: Config, policies: PolicySet) -> Result<Colloquy> {
        let admin_tokens = AdminTokens::take_from(&mut config);
        let sso = crate::sso::SsoKeys::take_from(&mut config)?;
        let store = Store::connect_with(&config.database_url, &config.database).await?;
        let now = now_ms();
        for site in &config.sites {
            for f in &site.formats {
                if policies.get(f).is_none() {
                    let known: Vec<&str> = policies.ids().collect();
                    return Err(Error::invalid(
                        format!("site.{}.formats", site.id),
                        format!(
                            "format `{f}` has no policy; known formats: {}",
                            known.join(", ")
                        ),
                    ));
                }
            }
            store
                .ensure_site(
                    &SiteSettings {
                        id: site.id.clone(),
                        formats: site.formats.clone(),
                        default_format: site.default_format.clone(),
                        moderation: site.moderation,
                        hold_links: site.hold_links,
                        duplicate_window_secs: site.duplicate_window_secs,
                        rules: site.rules.clone(),
                        origins: None,
                    },
                    now,
                )
                .await?;
        }
        let keys = Keys::open(&config, &store).await?;
        let replica = store.on_replica();
        let holder = format!("{}-{:08x}", std::process::id(), rand::random::<u32>());
        let fingerprint = Fingerprint::of(&config, &policies);
        let node = instances::claim_node(&store, &holder, &fingerprint).await?;
        instances::compare_with_peers(&store, &holder, node, &fingerprint, config.config_mismatch)
            .await?;
        let shared = Shared {
            store,
            policies: Arc::new(policies),
            admin_tokens: Arc::new(admin_tokens),
            sso: Arc::new(sso),
            logins: tokio::sync::Semaphore::new(2),
            keys: Arc::new(keys),
            sites: Arc::new(Memo::new(
                Duration::from_secs(5),
                config.limits.memo_cache_bytes / 2,
            )),
            counts: Arc::new(Memo::new(
                Duration::from_secs(1),
                config.limits.memo_cache_bytes / 2,
            )),
            limits: Arc::new(RateLimits::new(config.rate_limit)),
            renderer: RenderPool::new(
                config.limits.render_threads,
                Duration::from_millis(config.limits.render_queue_ms),
            ),
            config: Arc::new(config),
            node: std::sync::atomic::AtomicU16::new(node),
            holder,
            outbox_wake: Arc::new(tokio::sync::Notify::new()),
            replica,
            models: scoring::SiteModels::default(),
        };
        let shared = Arc::new(shared);
        tokio::spawn(instances::renew_node(Arc::downgrade(&shared), fingerprint));
        Ok(Colloquy { shared })
    }

    /// Where public reads (listings, counts, pages) go: the replica if
    /// there is one, unless this request must read its own writes.
    pub(super) fn reads(&self) -> &Store {
        match &self.replica {
            Some(replica) if !READ_PRIMARY.try_with(|p| *p).unwrap_or(false) => replica,
            _ => &self.store,
        }
    }

    /// Whether a read replica serves public reads.
    pub fn has_replica(&self) -> bool {
        self.replica.is_some()
    }

    /// Whether events of `site` can cause notifications: it has a webhook,
    /// or e-mail is configured. Events that cannot are not flagged for the
    /// notifier, which would only have cleared the flag again (a write per
    /// post, competing with the posts themselves).
    pub(super) fn notifies(&self, site: &str) -> bool {
        let config = self.config();
        config.smtp.is_some()
            || config
                .sites
                .iter()
                .any(|s| s.id == site && s.webhook_url.is_some())
    }

    /// What wakes the notifier before its next poll.
    pub fn outbox_wake(&self) -> Arc<tokio::sync::Notify> {
        Arc::clone(&self.outbox_wake)
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The secret keys.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// The admin tokens (digests only; the configuration keeps none).
    pub fn admin_tokens(&self) -> &AdminTokens {
        &self.admin_tokens
    }

    /// The loaded policies.
    pub fn policies(&self) -> &PolicySet {
        &self.policies
    }

    /// The render threads (for `/metrics`).
    pub fn render_pool(&self) -> &RenderPool {
        &self.renderer
    }

    /// Closes the database pools once the requests in flight are done
    /// (shutdown).
    pub async fn close(&self) {
        if let Err(e) = self
            .store
            .release_node(
                self.node.load(std::sync::atomic::Ordering::Relaxed),
                &self.holder,
            )
            .await
        {
            tracing::warn!(error = %e, "could not give the node number back; it frees itself in a minute");
        }
        self.store.close().await;
    }

    /// Whether the service can serve: its database answers, on a
    /// connection kept for this check alone.
    ///
    /// # Errors
    /// The database does not answer.
    pub async fn health(&self) -> Result<()> {
        Ok(self.store.ping().await?)
    }

    /// The store, for the parts of the service layer beside this one (the
    /// notifier, imports and exports).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// A site's settings.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown site.
    pub async fn site(&self, site: &SiteId) -> Result<SiteSettings> {
        if let Some(row) = self.sites.get(&site.as_str().to_owned()) {
            return Ok(row);
        }
        let since = self.sites.generation();
        let row = self
            .store
            .site(site.as_str())
            .await?
            .ok_or_else(|| Error::NotFound(format!("there is no site `{site}`")))?;
        self.sites
            .put_since(since, site.as_str().to_owned(), row.clone());
        Ok(row)
    }

    /// Drops the remembered count of a thread this process just changed.
    pub(super) fn changed(&self, site: &str, thread: &str) {
        self.counts.forget(&(site.to_owned(), thread.to_owned()));
    }

    pub(super) fn pick_policy(&self, row: &SiteSettings, format: Option<&str>) -> Result<&Policy> {
        let id = format.unwrap_or(&row.default_format);
        if !row.formats.iter().any(|f| f == id) {
            return Err(Error::invalid(
                "format",
                format!(
                    "`{id}` is not offered on this site; choose one of: {}",
                    row.formats.join(", ")
                ),
            ));
        }
        self.policies
            .get(id)
            .ok_or_else(|| Error::invalid("format", format!("`{id}` has no policy loaded")))
    }

    pub(super) fn check_body(&self, body: &str) -> Result<()> {
        if body.trim().is_empty() {
            return Err(Error::invalid("body", "the comment is empty"));
        }
        let chars = body.chars().count();
        let max = self.config.limits.max_comment_chars;
        if chars > max {
            return Err(Error::invalid(
                "body",
                format!("the comment has {chars} characters; the limit is {max}"),
            ));
        }
        Ok(())
    }

    pub(super) fn entry(
        &self,
        c: &Comment,
        actor: &Actor,
        action: &str,
        now: i64,
        reasons: Vec<String>,
    ) -> AuditEntry {
        AuditEntry {
            id: new_id(now),
            site: c.site.to_string(),
            comment_id: Some(c.id),
            thread: Some(c.thread.to_string()),
            actor: actor.label(),
            action: action.to_owned(),
            status: Some(c.status),
            reasons,
            created: now,
            notify: false,
        }
    }

    /// One comment, whatever its status (moderators).
    ///
    /// # Errors
    /// Unknown site or comment.
    pub async fn comment(&self, site: &SiteId, id: i64) -> Result<Comment> {
        self.site(site).await?;
        self.store
            .comment(site.as_str(), id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("there is no comment {id} on site `{site}`")))
    }
}
