//! The comment service: the one API the HTTP layer and the CLI use.
//!
//! Each call validates its input, renders with the policy (pure), asks the
//! moderation rules (pure), and makes one store call. Comments are rendered
//! once, when written; reads serve the stored HTML.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::auth::AdminTokens;
use crate::comment::{Comment, SiteId, Status, ThreadKey, ThreadState};
use crate::config::{Config, ModerationMode};
use crate::error::{Error, Result};
use crate::memo::Memo;
use crate::moderation::{self, Decision, FormFacts, Refusal, SiteRules};
use crate::policy::{Policy, PolicySet, Rendered};
use crate::ratelimit::RateLimits;
use crate::render_pool::RenderPool;
use crate::store::{
    AuditEntry, InsertComment, InsertOutcome, Order, Position, Prior, QueueFilter, SiteRow, Store,
};

/// Ids are `(ms since 2020) << 12 | random`: time-ordered, below 2^53.
pub(crate) const ID_EPOCH_MS: i64 = 1_577_836_800_000;

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
    ip_key: Arc<Vec<u8>>,
    /// Site settings, read on every request (5 s; updated on change).
    sites: Arc<Memo<String, SiteRow>>,
    /// Published counts per (site, thread), for article lists (1 s; dropped
    /// on every change made here).
    counts: Arc<Memo<(String, String), i64>>,
    /// Per-address and per-site budgets for new comments.
    limits: Arc<RateLimits>,
    /// Where previews, posts and edits are rendered (off the async workers).
    renderer: RenderPool,
}

impl std::ops::Deref for Colloquy {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.shared
    }
}

/// Who did something, as the audit log records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// The moderation rules, deciding a new comment's status.
    Rules,
    /// The comment's author, with the edit token.
    Author,
    /// A moderator, known by a fingerprint of their token (never the token).
    Moderator(String),
    /// The service itself (scheduled purges, one-click links).
    System,
}

impl Actor {
    /// A moderator identified by their bearer token.
    pub fn moderator(token: &str) -> Actor {
        Actor::Moderator(hash_token(token)[..8].to_owned())
    }

    /// As stored: `rules`, `author`, `token:3f2a9c1b`, `system`.
    pub fn label(&self) -> String {
        match self {
            Actor::Rules => "rules".to_owned(),
            Actor::Author => "author".to_owned(),
            Actor::Moderator(f) => format!("token:{f}"),
            Actor::System => "system".to_owned(),
        }
    }
}

/// The anti-bot fields of an HTML-form post.
#[derive(Debug, Clone, Default)]
pub struct FormFields {
    /// The hidden honeypot field (people leave it empty).
    pub honeypot: Option<String>,
    /// The signed time stamp the form was served with.
    pub stamp: Option<String>,
}

/// One page of the audit log.
#[derive(Debug, Clone)]
pub struct AuditPage {
    /// Entries, newest first.
    pub entries: Vec<AuditEntry>,
    /// Cursor for the next page.
    pub next_cursor: Option<String>,
}

/// A new comment as submitted.
#[derive(Debug, Clone, Default)]
pub struct PostInput {
    /// Author name.
    pub author: Option<String>,
    /// Author e-mail (never served publicly).
    pub email: Option<String>,
    /// Author homepage.
    pub homepage: Option<String>,
    /// The raw comment text.
    pub body: String,
    /// The text format; the site's default when absent.
    pub format: Option<String>,
    /// The comment replied to.
    pub parent: Option<i64>,
    /// E-mail the author when a reply is published.
    pub notify_replies: bool,
    /// Present for HTML-form posts: the anti-bot fields.
    pub form: Option<FormFields>,
}

/// A stored new comment with its edit token and the moderation reasons.
#[derive(Debug, Clone)]
pub struct Posted {
    /// The comment as stored.
    pub comment: Comment,
    /// The secret that lets the author edit or delete it for a while.
    pub edit_token: String,
    /// Until when (ms) the edit token works.
    pub edit_until: i64,
    /// Why it was held, if it was.
    pub reasons: Vec<String>,
}

/// One page of comments.
#[derive(Debug, Clone)]
pub struct Page {
    /// The comments.
    pub comments: Vec<Comment>,
    /// Opaque cursor for the next page, if there may be one.
    pub next_cursor: Option<String>,
}

/// A thread as the public sees it.
#[derive(Debug, Clone)]
pub struct ThreadInfo {
    /// The key.
    pub key: String,
    /// Its state.
    pub state: ThreadState,
    /// Published comments.
    pub count: i64,
}

/// A moderator's action on one comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Publish.
    Approve,
    /// Mark as spam.
    Spam,
    /// Move to the trash.
    Trash,
    /// Undo spam/trash: back to the status it had before.
    Restore,
    /// Back to the queue.
    Unpublish,
    /// Delete for good.
    Delete,
}

impl Action {
    /// Parses an action name.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming `action`.
    pub fn parse(s: &str) -> Result<Action> {
        Ok(match s {
            "approve" => Action::Approve,
            "spam" => Action::Spam,
            "trash" => Action::Trash,
            "restore" => Action::Restore,
            "unpublish" => Action::Unpublish,
            "delete" => Action::Delete,
            _ => {
                return Err(Error::invalid(
                    "action",
                    format!("`{s}` is not one of approve, spam, trash, restore, unpublish, delete"),
                ))
            }
        })
    }

    /// The action's name, as parsed and as the audit log records it.
    pub fn name(self) -> &'static str {
        match self {
            Action::Approve => "approve",
            Action::Spam => "spam",
            Action::Trash => "trash",
            Action::Restore => "restore",
            Action::Unpublish => "unpublish",
            Action::Delete => "delete",
        }
    }
}

/// Changes to a site's settings; `None` leaves a setting as it is.
#[derive(Debug, Clone, Default)]
pub struct SiteChanges {
    /// Offered formats, in order.
    pub formats: Option<Vec<String>>,
    /// The default format.
    pub default_format: Option<String>,
    /// Moderation mode.
    pub moderation: Option<ModerationMode>,
    /// Link count that holds a comment.
    pub hold_links: Option<u32>,
    /// Duplicate window, seconds.
    pub duplicate_window_secs: Option<u32>,
    /// Fields of [`SiteRules`] to change, by name.
    pub rules: serde_json::Map<String, serde_json::Value>,
}

/// Result of re-rendering a site's comments.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RerenderReport {
    /// Comments looked at.
    pub checked: u64,
    /// Comments whose HTML was rendered again.
    pub rerendered: u64,
    /// Comments whose format no longer exists (left as they were).
    pub skipped: u64,
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// RFC 3339 UTC with milliseconds, e.g. `2026-11-26T15:10:00.123Z`.
pub fn rfc3339(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let f = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.format(&f).unwrap_or_default()
}

impl Colloquy {
    /// Connects to the database, migrates it, creates the configured sites
    /// that do not exist yet, and checks that every site's formats exist.
    ///
    /// # Errors
    /// Database failure, or a site naming a format no policy provides.
    pub async fn open(mut config: Config, policies: PolicySet) -> Result<Colloquy> {
        let admin_tokens = AdminTokens::take_from(&mut config);
        let store = Store::connect(&config.database_url).await?;
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
                    &SiteRow {
                        id: site.id.clone(),
                        formats: site.formats.clone(),
                        default_format: site.default_format.clone(),
                        moderation: site.moderation,
                        hold_links: site.hold_links,
                        duplicate_window_secs: site.duplicate_window_secs,
                        rules: site.rules.clone(),
                    },
                    now,
                )
                .await?;
        }
        let fresh_key = random_token(32);
        let key = store.setting_or_insert("ip_hash_key", &fresh_key).await?;
        let shared = Shared {
            store,
            policies: Arc::new(policies),
            admin_tokens: Arc::new(admin_tokens),
            ip_key: Arc::new(key.into_bytes()),
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
        };
        Ok(Colloquy {
            shared: Arc::new(shared),
        })
    }

    /// Whether events of `site` can cause notifications: it has a webhook,
    /// or e-mail is configured. Events that cannot are not flagged for the
    /// notifier, which would only have cleared the flag again (a write per
    /// post, competing with the posts themselves).
    fn notifies(&self, site: &str) -> bool {
        let config = self.config();
        config.smtp.is_some()
            || config
                .sites
                .iter()
                .any(|s| s.id == site && s.webhook_url.is_some())
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
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

    /// The store (for health checks).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// A site's settings.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown site.
    pub async fn site(&self, site: &SiteId) -> Result<SiteRow> {
        if let Some(row) = self.sites.get(&site.as_str().to_owned()) {
            return Ok(row);
        }
        let row = self
            .store
            .site(site.as_str())
            .await?
            .ok_or_else(|| Error::NotFound(format!("there is no site `{site}`")))?;
        self.sites.put(site.as_str().to_owned(), row.clone());
        Ok(row)
    }

    /// Drops the remembered count of a thread this process just changed.
    fn changed(&self, site: &str, thread: &str) {
        self.counts.forget(&(site.to_owned(), thread.to_owned()));
    }

    /// The formats a site offers, in order, with the default first flagged.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown site.
    pub async fn formats(&self, site: &SiteId) -> Result<(SiteRow, Vec<&Policy>)> {
        let row = self.site(site).await?;
        let policies = row
            .formats
            .iter()
            .filter_map(|f| self.policies.get(f))
            .collect();
        Ok((row, policies))
    }

    fn pick_policy(&self, row: &SiteRow, format: Option<&str>) -> Result<&Policy> {
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

    /// Renders a comment without storing it (the preview button), within
    /// the preview budgets of the client's address and of the site.
    ///
    /// # Errors
    /// Unknown site, a format the site does not offer, too many previews,
    /// every render thread busy.
    pub async fn preview(
        &self,
        site: &SiteId,
        format: Option<&str>,
        body: &str,
        ip: Option<IpAddr>,
    ) -> Result<Rendered> {
        let row = self.site(site).await?;
        let limits = &self.config.limits;
        self.limits.check_preview(
            site.as_str(),
            ip,
            limits.ip_previews_per_minute,
            limits.site_previews_per_minute,
        )?;
        self.check_body(body)?;
        let policy = self.pick_policy(&row, format)?;
        self.renderer
            .render(&self.policies, policy.id(), body.to_owned())
            .await
    }

    fn check_body(&self, body: &str) -> Result<()> {
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

    /// Validates, renders, moderates and stores a new comment.
    ///
    /// # Errors
    /// Unknown site, an invalid field, a closed thread, or a parent that is
    /// not in this thread.
    pub async fn post(
        &self,
        site: &SiteId,
        thread: &ThreadKey,
        mut input: PostInput,
        ip: Option<IpAddr>,
    ) -> Result<Posted> {
        let row = self.site(site).await?;
        self.limits.check_post(
            site.as_str(),
            ip,
            row.rules.ip_posts_per_minute,
            row.rules.site_posts_per_minute,
        )?;
        self.check_body(&input.body)?;
        let policy = self.pick_policy(&row, input.format.as_deref())?;
        let limits = &self.config.limits;
        let author = clean_line("author", input.author.take(), limits.max_author_chars)?;
        let email = clean_email(input.email.take())?;
        let homepage = clean_homepage(input.homepage.take(), limits.max_homepage_chars)?;
        if let Some(p) = input.parent {
            if p <= 0 {
                return Err(Error::invalid(
                    "parent",
                    "a comment id is a positive number",
                ));
            }
        }
        let created = now_ms();
        let rendered = self
            .renderer
            .render(&self.policies, policy.id(), input.body.clone())
            .await?;
        let ip_text = ip.map(|ip| ip.to_string());
        let facts = self
            .facts(&row, thread, &input, email.as_deref(), created)
            .await?;
        let candidate = moderation::Candidate {
            body: &input.body,
            html: rendered.html.as_str(),
            author: author.as_deref(),
            email: email.as_deref(),
            homepage: homepage.as_deref(),
            ip: ip_text.as_deref(),
        };
        let Decision { status, reasons } =
            moderation::decide(&candidate, settings(&row), &facts).map_err(refusal_error)?;
        let edit_token = random_token(32);
        let notify_replies = input.notify_replies && email.is_some();
        let mut comment = Comment {
            id: 0,
            site: site.as_str().to_owned(),
            thread: thread.as_str().to_owned(),
            parent: input.parent,
            status,
            format: policy.id().to_owned(),
            body: std::mem::take(&mut input.body),
            html: rendered.html.into_string(),
            policy_version: rendered.policy_version,
            author,
            email,
            homepage,
            ip_hash: ip.map(|ip| self.hash_ip(ip)),
            created,
            modified: None,
            reasons: reasons.clone(),
            notify_replies,
        };
        let audit = AuditEntry {
            id: new_id(created),
            site: comment.site.clone(),
            comment_id: None,
            thread: Some(comment.thread.clone()),
            actor: Actor::Rules.label(),
            action: "post".to_owned(),
            status: Some(status),
            reasons: reasons.clone(),
            created,
            notify: matches!(status, Status::Published | Status::Pending)
                && self.notifies(site.as_str()),
        };
        let duplicate_since = (row.duplicate_window_secs > 0)
            .then(|| created - i64::from(row.duplicate_window_secs) * 1000);
        let insert = |comment: Comment| InsertComment {
            comment,
            edit_token_hash: hash_token(&edit_token),
            duplicate_since,
            audit: audit.clone(),
        };
        for _attempt in 0..8 {
            comment.id = new_id(created);
            let new = insert(comment.clone());
            match self.store.insert_comment(new).await? {
                InsertOutcome::Inserted => {
                    self.changed(&comment.site, &comment.thread);
                    return Ok(Posted {
                        comment,
                        edit_until: created + self.config.edit_window_secs * 1000,
                        edit_token,
                        reasons,
                    })
                }
                InsertOutcome::IdTaken => continue,
                InsertOutcome::Duplicate(earlier) => {
                    return Err(Error::Conflict(format!(
                        "you posted the same text to this thread a moment ago (comment {earlier}); it is not stored twice"
                    )))
                }
                InsertOutcome::ThreadNotOpen(state) => {
                    return Err(Error::Forbidden(format!(
                        "this thread is {}: it takes no new comments",
                        state.as_str()
                    )))
                }
                InsertOutcome::NoSuchParent => {
                    return Err(Error::invalid(
                        "parent",
                        format!(
                            "there is no comment {} in this thread to reply to",
                            input.parent.unwrap_or(0)
                        ),
                    ))
                }
            }
        }
        Err(Error::Internal(
            "could not allocate a comment id".to_owned(),
        ))
    }

    /// The keyed hash stored in place of an IP address (imports use it too).
    pub(crate) fn hash_ip(&self, ip: IpAddr) -> String {
        let mut mac = match Hmac::<Sha256>::new_from_slice(&self.ip_key) {
            Ok(m) => m,
            Err(_) => return String::new(),
        };
        mac.update(ip.to_string().as_bytes());
        hex(&mac.finalize().into_bytes()[..16])
    }

    /// What the moderation rules need to know beyond the comment itself;
    /// each lookup happens only when a rule that needs it is on.
    async fn facts(
        &self,
        row: &SiteRow,
        thread: &ThreadKey,
        input: &PostInput,
        email: Option<&str>,
        now: i64,
    ) -> Result<moderation::Facts> {
        let rules = &row.rules;
        let approved_by_author = match email {
            Some(e) if rules.trust_approved_authors && row.moderation == ModerationMode::Rules => {
                self.store.approved_by_email(&row.id, e, 100).await?
            }
            _ => 0,
        };
        let thread_started = if rules.close_after_days > 0 {
            self.store
                .thread(&row.id, thread.as_str())
                .await?
                .map(|t| t.created)
        } else {
            None
        };
        let parent_depth = match input.parent {
            Some(p) if rules.max_depth > 0 => {
                self.store
                    .depth(&row.id, p, i64::from(rules.max_depth) + 1)
                    .await?
            }
            _ => None,
        };
        let form = input.form.as_ref().map(|f| FormFacts {
            honeypot_filled: f.honeypot.as_deref().is_some_and(|h| !h.trim().is_empty()),
            age_ms: f.stamp.as_deref().and_then(|s| self.stamp_age(s, now)),
        });
        Ok(moderation::Facts {
            approved_by_author,
            thread_started,
            parent_depth,
            form,
            now,
        })
    }

    /// A signed time stamp for an HTML form, so a post can say how long
    /// after serving the form it came (bots post at once).
    pub fn form_stamp(&self) -> String {
        let now = now_ms();
        format!("{now}.{}", self.stamp_mac(now))
    }

    fn stamp_mac(&self, ms: i64) -> String {
        let mut mac = match Hmac::<Sha256>::new_from_slice(&self.ip_key) {
            Ok(m) => m,
            Err(_) => return String::new(),
        };
        mac.update(b"form-stamp:");
        mac.update(ms.to_string().as_bytes());
        hex(&mac.finalize().into_bytes()[..16])
    }

    /// Age of a stamp this service signed, if it is genuine and under a day.
    fn stamp_age(&self, stamp: &str, now: i64) -> Option<i64> {
        let (ms, mac) = stamp.split_once('.')?;
        let ms: i64 = ms.parse().ok()?;
        let expected = self.stamp_mac(ms);
        let genuine: bool =
            subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), mac.as_bytes()).into();
        let age = now - ms;
        (genuine && (0..86_400_000).contains(&age)).then_some(age)
    }

    async fn visible_thread(
        &self,
        site: &SiteId,
        thread: &ThreadKey,
    ) -> Result<Option<ThreadState>> {
        self.site(site).await?;
        let state = self
            .store
            .thread(site.as_str(), thread.as_str())
            .await?
            .map(|t| t.state);
        if state == Some(ThreadState::Hidden) {
            return Err(Error::NotFound(format!(
                "there is no visible thread `{thread}`"
            )));
        }
        Ok(state)
    }

    /// The version of a thread's listing (changes with every write that
    /// changes it); `None` when the thread has no comments yet.
    ///
    /// # Errors
    /// Unknown site, hidden thread.
    pub async fn listing_version(&self, site: &SiteId, thread: &ThreadKey) -> Result<Option<i64>> {
        self.site(site).await?;
        match self.store.thread(site.as_str(), thread.as_str()).await? {
            Some(t) if t.state == ThreadState::Hidden => Err(Error::NotFound(format!(
                "there is no visible thread `{thread}`"
            ))),
            Some(t) => Ok(Some(t.version)),
            None => Ok(None),
        }
    }

    /// Published comments of a thread, a page at a time. A thread without
    /// comments yet lists as empty.
    ///
    /// # Errors
    /// Unknown site, hidden thread, invalid cursor or limit.
    pub async fn list(
        &self,
        site: &SiteId,
        thread: &ThreadKey,
        order: Order,
        limit: Option<i64>,
        cursor: Option<&str>,
    ) -> Result<Page> {
        let limit = self.check_limit(limit)?;
        let after = cursor.map(decode_cursor).transpose()?;
        let state = self.visible_thread(site, thread).await?;
        if state.is_none() {
            return Ok(Page {
                comments: Vec::new(),
                next_cursor: None,
            });
        }
        let comments = self
            .store
            .list_published(site.as_str(), thread.as_str(), order, limit, after)
            .await?;
        Ok(page(comments, limit))
    }

    fn check_limit(&self, limit: Option<i64>) -> Result<i64> {
        let max = i64::try_from(self.config.limits.max_batch).unwrap_or(200);
        match limit {
            None => Ok(max.min(50)),
            Some(n) if (1..=max).contains(&n) => Ok(n),
            Some(n) => Err(Error::invalid(
                "limit",
                format!("{n} is out of range; use 1 to {max}"),
            )),
        }
    }

    /// The state and published-comment count of one thread.
    ///
    /// # Errors
    /// Unknown site or hidden thread.
    pub async fn thread(&self, site: &SiteId, thread: &ThreadKey) -> Result<ThreadInfo> {
        let state = self.visible_thread(site, thread).await?;
        let count = self
            .store
            .count_published(site.as_str(), &[thread.as_str().to_owned()])
            .await?;
        Ok(ThreadInfo {
            key: thread.as_str().to_owned(),
            state: state.unwrap_or(ThreadState::Open),
            count: count.first().map_or(0, |(_, n)| *n),
        })
    }

    /// Published-comment counts for many threads (0 for unknown ones), in
    /// the order asked.
    ///
    /// # Errors
    /// Unknown site, too many threads.
    pub async fn counts(&self, site: &SiteId, threads: &[ThreadKey]) -> Result<Vec<(String, i64)>> {
        self.site(site).await?;
        if threads.len() > self.config.limits.max_batch {
            return Err(Error::invalid(
                "threads",
                format!(
                    "{} threads asked; at most {} per request",
                    threads.len(),
                    self.config.limits.max_batch
                ),
            ));
        }
        let s = site.as_str().to_owned();
        let mut answer: Vec<(String, Option<i64>)> = threads
            .iter()
            .map(|t| {
                let key = t.as_str().to_owned();
                let known = self.counts.get(&(s.clone(), key.clone()));
                (key, known)
            })
            .collect();
        let missing: Vec<String> = answer
            .iter()
            .filter(|(_, n)| n.is_none())
            .map(|(k, _)| k.clone())
            .collect();
        if !missing.is_empty() {
            let found = self.store.count_published(&s, &missing).await?;
            for (key, n) in answer.iter_mut().filter(|(_, n)| n.is_none()) {
                let count = found.iter().find(|(t, _)| t == key).map_or(0, |(_, c)| *c);
                self.counts.put((s.clone(), key.clone()), count);
                *n = Some(count);
            }
        }
        Ok(answer
            .into_iter()
            .map(|(k, n)| (k, n.unwrap_or(0)))
            .collect())
    }

    async fn own_comment(&self, site: &SiteId, id: i64, token: &str) -> Result<Comment> {
        let comment = self
            .store
            .comment(site.as_str(), id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("there is no comment {id}")))?;
        let stored = self
            .store
            .edit_token_hash(site.as_str(), id)
            .await?
            .unwrap_or_default();
        let given = hash_token(token);
        if !bool::from(subtle::ConstantTimeEq::ct_eq(
            stored.as_bytes(),
            given.as_bytes(),
        )) {
            return Err(Error::Unauthorized(
                "this edit token does not belong to that comment".to_owned(),
            ));
        }
        if now_ms() > comment.created + self.config.edit_window_secs * 1000 {
            return Err(Error::Forbidden(format!(
                "the edit window of {} seconds has passed",
                self.config.edit_window_secs
            )));
        }
        Ok(comment)
    }

    /// The author edits a comment with its edit token, inside the window.
    ///
    /// # Errors
    /// Unknown comment, wrong token, closed window, invalid body or format.
    pub async fn edit(
        &self,
        site: &SiteId,
        id: i64,
        token: &str,
        body: String,
        format: Option<String>,
    ) -> Result<Comment> {
        let mut comment = self.own_comment(site, id, token).await?;
        let row = self.site(site).await?;
        self.check_body(&body)?;
        let policy = self.pick_policy(&row, Some(format.as_deref().unwrap_or(&comment.format)))?;
        let rendered = self
            .renderer
            .render(&self.policies, policy.id(), body.clone())
            .await?;
        // An edit is judged again by the content rules; it never un-holds.
        let candidate = moderation::Candidate {
            body: &body,
            html: rendered.html.as_str(),
            author: comment.author.as_deref(),
            email: comment.email.as_deref(),
            homepage: comment.homepage.as_deref(),
            ip: None,
        };
        let facts = moderation::Facts {
            now: now_ms(),
            ..moderation::Facts::default()
        };
        let decision =
            moderation::decide(&candidate, settings(&row), &facts).map_err(refusal_error)?;
        let before = comment.status;
        if comment.status == Status::Published && decision.status != Status::Published {
            comment.status = decision.status;
        }
        comment.body = body;
        comment.format = policy.id().to_owned();
        comment.html = rendered.html.into_string();
        comment.policy_version = rendered.policy_version;
        let now = now_ms();
        comment.modified = Some(now);
        let reasons = if comment.status == before {
            Vec::new()
        } else {
            decision.reasons
        };
        let audit = self.entry(&comment, &Actor::Author, "edit", now, reasons);
        self.store.update_body(&comment, &audit).await?;
        self.changed(&comment.site, &comment.thread);
        Ok(comment)
    }

    /// The author deletes a comment with its edit token, inside the window.
    ///
    /// # Errors
    /// Unknown comment, wrong token, closed window.
    pub async fn delete_own(&self, site: &SiteId, id: i64, token: &str) -> Result<()> {
        let comment = self.own_comment(site, id, token).await?;
        let mut audit = self.entry(&comment, &Actor::Author, "delete", now_ms(), Vec::new());
        audit.status = None;
        self.store.delete_comment(site.as_str(), id, &audit).await?;
        self.changed(&comment.site, &comment.thread);
        Ok(())
    }

    // ---- moderation (admin) ----------------------------------------------

    /// The moderation queue (default: pending), newest first.
    ///
    /// # Errors
    /// Unknown site, invalid cursor or limit.
    pub async fn queue(
        &self,
        site: &SiteId,
        filter: QueueFilter,
        limit: Option<i64>,
        cursor: Option<&str>,
    ) -> Result<Page> {
        self.site(site).await?;
        let limit = self.check_limit(limit)?;
        let before = cursor.map(decode_cursor).transpose()?;
        let mut filter = filter;
        if filter.statuses.is_empty() {
            filter.statuses = vec![Status::Pending];
        }
        for (field, value) in [("q", &filter.text), ("author", &filter.author)] {
            if value.as_ref().is_some_and(|v| v.chars().count() > 200) {
                return Err(Error::invalid(field, "search for at most 200 characters"));
            }
        }
        let comments = self
            .store
            .queue(site.as_str(), &filter, limit, before)
            .await?;
        Ok(page(comments, limit))
    }

    /// The audit log of a site (optionally of one comment), newest first.
    ///
    /// # Errors
    /// Unknown site, invalid cursor or limit.
    pub async fn audit_log(
        &self,
        site: &SiteId,
        comment: Option<i64>,
        limit: Option<i64>,
        cursor: Option<&str>,
    ) -> Result<AuditPage> {
        self.site(site).await?;
        let limit = self.check_limit(limit)?;
        let before = cursor.map(decode_cursor).transpose()?;
        let mut entries = self
            .store
            .audit_log(site.as_str(), comment, limit, before)
            .await?;
        let full = i64::try_from(entries.len()).unwrap_or(i64::MAX) >= limit;
        let next_cursor = if full {
            entries.last().map(|e| encode_cursor(e.created, e.id))
        } else {
            None
        };
        entries.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(AuditPage {
            entries,
            next_cursor,
        })
    }

    /// Everything stored on a site for an e-mail address (privacy export).
    ///
    /// # Errors
    /// Unknown site, an invalid address.
    pub async fn export_email(&self, site: &SiteId, email: &str) -> Result<Vec<Comment>> {
        self.site(site).await?;
        let email = clean_email(Some(email.to_owned()))?
            .ok_or_else(|| Error::invalid("email", "give the e-mail address"))?;
        self.store.comments_by_email(site.as_str(), &email).await
    }

    /// Deletes everything stored on a site for an e-mail address; returns
    /// how many comments went.
    ///
    /// # Errors
    /// Unknown site, an invalid address.
    pub async fn erase_email(&self, site: &SiteId, email: &str, actor: &Actor) -> Result<u64> {
        self.site(site).await?;
        let email = clean_email(Some(email.to_owned()))?
            .ok_or_else(|| Error::invalid("email", "give the e-mail address"))?;
        let now = now_ms();
        let audit = AuditEntry {
            id: new_id(now),
            site: site.as_str().to_owned(),
            comment_id: None,
            thread: None,
            actor: actor.label(),
            action: "erase".to_owned(),
            status: None,
            // The address itself is not kept: that is the point.
            reasons: vec!["erased every comment of one e-mail address on request".to_owned()],
            created: now,
            notify: false,
        };
        let n = self
            .store
            .erase_email(site.as_str(), &email, &audit)
            .await?;
        self.counts.clear();
        Ok(n)
    }

    /// Forgets IP hashes older than the configured retention.
    ///
    /// # Errors
    /// Database failure.
    pub async fn purge_ip_hashes(&self) -> Result<u64> {
        let days = i64::from(self.config.ip_retention_days);
        if days == 0 {
            return Ok(0);
        }
        self.store
            .purge_ip_hashes(now_ms() - days * 86_400_000)
            .await
    }

    fn entry(
        &self,
        c: &Comment,
        actor: &Actor,
        action: &str,
        now: i64,
        reasons: Vec<String>,
    ) -> AuditEntry {
        AuditEntry {
            id: new_id(now),
            site: c.site.clone(),
            comment_id: Some(c.id),
            thread: Some(c.thread.clone()),
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

    /// Applies a moderator's action; returns the comment afterwards (`None`
    /// when deleted).
    ///
    /// # Errors
    /// Unknown site or comment.
    pub async fn moderate(
        &self,
        site: &SiteId,
        id: i64,
        action: Action,
        actor: &Actor,
    ) -> Result<Option<Comment>> {
        let current = self.comment(site, id).await?;
        let result = self.apply_action(site, id, action, &current, actor).await;
        // After the write: a read racing with it cannot keep the old count.
        self.changed(&current.site, &current.thread);
        result
    }

    async fn apply_action(
        &self,
        site: &SiteId,
        id: i64,
        action: Action,
        current: &Comment,
        actor: &Actor,
    ) -> Result<Option<Comment>> {
        let now = now_ms();
        let s = site.as_str();
        let name = action.name();
        // The entry for a move to `status`; newly published and newly held
        // comments cause notifications.
        let audit = |status: Status| {
            let mut e = self.entry(current, actor, name, now, Vec::new());
            e.status = Some(status);
            e.notify = status != current.status
                && matches!(status, Status::Published | Status::Pending)
                && self.notifies(s);
            e
        };
        match action {
            Action::Delete => {
                let mut e = audit(current.status);
                e.status = None;
                self.store.delete_comment(s, id, &e).await?;
                return Ok(None);
            }
            Action::Approve => {
                self.store
                    .set_status(
                        s,
                        id,
                        Status::Published,
                        Prior::Clear,
                        now,
                        &audit(Status::Published),
                    )
                    .await?
            }
            Action::Unpublish => {
                let mut e = audit(Status::Pending);
                e.notify = false;
                self.store
                    .set_status(s, id, Status::Pending, Prior::Clear, now, &e)
                    .await?
            }
            Action::Spam | Action::Trash => {
                let target = if action == Action::Spam {
                    Status::Spam
                } else {
                    Status::Trash
                };
                // Remember the status from before the first spam/trash move.
                let prior = if matches!(current.status, Status::Spam | Status::Trash) {
                    Prior::Keep
                } else {
                    Prior::Remember
                };
                self.store
                    .set_status(s, id, target, prior, now, &audit(target))
                    .await?
            }
            Action::Restore => {
                let back = self
                    .store
                    .prior_status(s, id)
                    .await?
                    .unwrap_or(Status::Pending);
                let back = if matches!(back, Status::Spam | Status::Trash) {
                    Status::Pending
                } else {
                    back
                };
                self.store
                    .set_status(s, id, back, Prior::Clear, now, &audit(back))
                    .await?
            }
        };
        Ok(Some(self.comment(site, id).await?))
    }

    /// Applies one action to many comments; each id gets its own result.
    ///
    /// # Errors
    /// Unknown site, too many ids.
    pub async fn bulk(
        &self,
        site: &SiteId,
        action: Action,
        ids: &[i64],
        actor: &Actor,
    ) -> Result<Vec<(i64, Result<Option<Comment>>)>> {
        self.site(site).await?;
        if ids.is_empty() || ids.len() > self.config.limits.max_batch {
            return Err(Error::invalid(
                "ids",
                format!(
                    "give 1 to {} comment ids (got {})",
                    self.config.limits.max_batch,
                    ids.len()
                ),
            ));
        }
        let mut results = Vec::with_capacity(ids.len());
        for &id in ids {
            results.push((id, self.moderate(site, id, action, actor).await));
        }
        Ok(results)
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
    ) -> Result<SiteRow> {
        let SiteChanges {
            formats,
            default_format,
            moderation,
            hold_links,
            duplicate_window_secs,
            rules,
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
            .await
    }

    /// Re-renders every comment of a site whose stored HTML came from another
    /// version of its policy; `progress(done)` is called as it goes.
    ///
    /// # Errors
    /// Unknown site, database failure.
    pub async fn rerender(&self, site: &SiteId, progress: impl Fn(u64)) -> Result<RerenderReport> {
        self.site(site).await?;
        let mut report = RerenderReport::default();
        let mut after = 0i64;
        loop {
            let batch = self
                .store
                .stale_renderings(site.as_str(), after, 500)
                .await?;
            let Some(last) = batch.last() else { break };
            after = last.id;
            for c in &batch {
                report.checked += 1;
                match self.policies.get(&c.format) {
                    None => report.skipped += 1,
                    Some(p) if p.version() != c.policy_version => {
                        let r = p.render(&c.body);
                        self.store
                            .set_rendering(site.as_str(), c.id, r.html.as_str(), &r.policy_version)
                            .await?;
                        report.rerendered += 1;
                    }
                    Some(_) => {}
                }
                progress(report.checked);
            }
        }
        Ok(report)
    }

    /// Total comments of a site (for progress bars).
    ///
    /// # Errors
    /// Database failure.
    pub async fn count_site(&self, site: &SiteId) -> Result<i64> {
        self.store.count_site(site.as_str()).await
    }
}

/// The settings the moderation rules read, from a site's row.
fn settings(row: &SiteRow) -> moderation::Settings<'_> {
    moderation::Settings {
        mode: row.moderation,
        hold_links: row.hold_links,
        rules: &row.rules,
    }
}

fn refusal_error(r: Refusal) -> Error {
    match r {
        Refusal::Invalid { field, message } => Error::invalid(field, message),
        Refusal::Closed(m) => Error::Forbidden(m),
    }
}

/// Applies named changes to a site's rules; every value is checked.
fn merge_rules(
    current: &SiteRules,
    patch: serde_json::Map<String, serde_json::Value>,
) -> Result<SiteRules> {
    let mut value =
        serde_json::to_value(current).map_err(|e| Error::Internal(format!("site rules: {e}")))?;
    let first = patch.keys().next().cloned().unwrap_or_default();
    if let serde_json::Value::Object(map) = &mut value {
        for (k, v) in patch {
            if !map.contains_key(&k) {
                let known: Vec<&String> = map.keys().collect();
                return Err(Error::invalid(
                    k.clone(),
                    format!(
                        "not a site setting; known: formats, default_format, moderation, hold_links, duplicate_window_secs, {}",
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

fn page(mut comments: Vec<Comment>, limit: i64) -> Page {
    let full = i64::try_from(comments.len()).unwrap_or(i64::MAX) >= limit;
    let next_cursor = if full {
        comments.last().map(|c| encode_cursor(c.created, c.id))
    } else {
        None
    };
    comments.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Page {
        comments,
        next_cursor,
    }
}

fn encode_cursor(created: i64, id: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{created}.{id}"))
}

fn decode_cursor(s: &str) -> Result<Position> {
    let bad = || {
        Error::invalid(
            "cursor",
            "this cursor is not one the service gave out; start again without it",
        )
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (created, id) = text.split_once('.').ok_or_else(bad)?;
    Ok(Position {
        created: created.parse().map_err(|_| bad())?,
        id: id.parse().map_err(|_| bad())?,
    })
}

/// A fresh time-ordered id below 2^53 (comments, audit and outbox rows).
pub(crate) fn new_id(created: i64) -> i64 {
    // The low 12 bits count up from a random start, so one process never
    // repeats an id within a millisecond; across processes the random start
    // makes clashes rare, and the store refuses a taken id (we retry).
    static NEXT: std::sync::LazyLock<std::sync::atomic::AtomicU64> =
        std::sync::LazyLock::new(|| {
            std::sync::atomic::AtomicU64::new(u64::from(rand::random::<u16>()))
        });
    let low = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) & 0x0fff;
    let ms = (created - ID_EPOCH_MS).clamp(0, (1 << 41) - 1);
    (ms << 12) | i64::try_from(low).unwrap_or(0)
}

fn random_token(bytes: usize) -> String {
    let raw: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

/// SHA-256 of a secret token, hex (what the database keeps).
pub fn hash_token(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Trims a one-line field; empty means absent.
fn clean_line(field: &str, value: Option<String>, max: usize) -> Result<Option<String>> {
    let Some(v) = value else { return Ok(None) };
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    if v.chars().any(char::is_control) {
        return Err(Error::invalid(
            field,
            "may not contain control characters or line breaks",
        ));
    }
    let n = v.chars().count();
    if n > max {
        return Err(Error::invalid(
            field,
            format!("has {n} characters; the limit is {max}"),
        ));
    }
    Ok(Some(v.to_owned()))
}

pub(crate) fn clean_email(value: Option<String>) -> Result<Option<String>> {
    let Some(v) = clean_line("email", value, 254)? else {
        return Ok(None);
    };
    let valid = v.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
    }) && !v.contains(char::is_whitespace)
        && v.matches('@').count() == 1;
    if !valid {
        return Err(Error::invalid(
            "email",
            "is not an e-mail address like name@example.com",
        ));
    }
    Ok(Some(v))
}

pub(crate) fn clean_homepage(value: Option<String>, max: usize) -> Result<Option<String>> {
    let Some(v) = clean_line("homepage", value, max)? else {
        return Ok(None);
    };
    let ok = url::Url::parse(&v)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
    if !ok {
        return Err(Error::invalid(
            "homepage",
            "must be an http:// or https:// address",
        ));
    }
    Ok(Some(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_rejected() {
        let c = encode_cursor(1_700_000_000_000, 42);
        assert_eq!(
            decode_cursor(&c).ok(),
            Some(Position {
                created: 1_700_000_000_000,
                id: 42
            })
        );
        assert!(decode_cursor("not a cursor!").is_err());
        assert!(
            decode_cursor(&base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("1.x")).is_err()
        );
    }

    #[test]
    fn ids_fit_in_a_javascript_number_and_grow_with_time() {
        let a = new_id(now_ms());
        let b = new_id(now_ms() + 1000);
        assert!(a > 0 && a < (1 << 53));
        assert!(b > a);
    }

    #[test]
    fn field_checks_explain_themselves() {
        assert!(clean_email(Some("a@b".into())).is_err());
        assert_eq!(
            clean_email(Some(" a@b.cd ".into()))
                .ok()
                .flatten()
                .as_deref(),
            Some("a@b.cd")
        );
        assert!(clean_homepage(Some("javascript:alert(1)".into()), 100).is_err());
        assert!(clean_line("author", Some("a\nb".into()), 10).is_err());
        assert_eq!(
            clean_line("author", Some("   ".into()), 10).ok().flatten(),
            None
        );
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(rfc3339(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
    }
}
