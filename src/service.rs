//! The comment service: the one API the HTTP layer and the CLI use.
//!
//! Each call validates its input, renders with the policy (pure), asks the
//! moderation rules (pure), and makes one store call. Comments are rendered
//! once, when written; reads serve the stored HTML.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::audit::Actor;
use crate::audit::AuditEntry;
use crate::audit::AuditPage;
use crate::auth::AdminTokens;
use crate::clock::{new_id, now_ms};
use crate::comment::decode_cursor;
use crate::comment::encode_cursor;
use crate::comment::Page;
use crate::comment::{
    AuthorName, Comment, Email, Homepage, SiteId, Status, ThreadKey, ThreadState,
};
use crate::comment::{Order, QueueFilter};
use crate::config::Config;
use crate::error::{Code, Error, Result};
use crate::keys::Keys;
use crate::memo::Memo;
use crate::moderation::ModerationMode;
use crate::moderation::Transition;
use crate::moderation::{self, Decision, FormFacts, Refusal, SiteRules};
use crate::policy::{Policy, PolicySet, Rendered};
use crate::ratelimit::RateLimits;
use crate::render_pool::RenderPool;
use crate::secret::{hash_token, hex, random_token};
use crate::site::SiteChanges;
use crate::site::SiteSettings;
use crate::store::{InsertComment, InsertOutcome, Store, UsedStamp};

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
    /// Secret keys (IP hashes, form stamps, links, address hashes), kept
    /// outside the database.
    keys: Arc<Keys>,
    /// Site settings, read on every request (5 s; updated on change).
    sites: Arc<Memo<String, SiteSettings>>,
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

/// The anti-bot fields of a post (an HTML form's hidden fields, or the
/// same values sent by the embed).
#[derive(Debug, Clone, Default)]
pub struct FormFields {
    /// The hidden honeypot field (people leave it empty).
    pub honeypot: Option<String>,
    /// The signed, single-use stamp the form was served with.
    pub stamp: Option<String>,
}

/// Who sent a post, as far as the form checks are concerned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PostClient {
    /// A browser: an HTML form, or a request carrying a browser's `Origin`
    /// or `Sec-Fetch-Site` header.
    Browser,
    /// Any other client (a script, another server).
    #[default]
    Server,
    /// A client with an admin token for the site (the site's own backend):
    /// never checked.
    Trusted,
}

/// The parts of a valid form stamp.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    /// When it was issued (ms).
    issued: i64,
    /// What makes it single-use: recorded when a comment uses it.
    nonce: String,
}

/// How long a form stamp is good for: long enough to read an article and
/// write a comment, short enough that a harvested stamp soon goes stale.
pub const STAMP_LIFETIME_MS: i64 = 2 * 3600 * 1000;

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
    /// The anti-bot fields, when the client sent any.
    pub form: Option<FormFields>,
    /// Who sent it, which decides whether the form checks apply.
    pub client: PostClient,
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

pub use crate::moderation::Action;

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

impl Colloquy {
    /// Connects to the database, migrates it, creates the configured sites
    /// that do not exist yet, and checks that every site's formats exist.
    ///
    /// # Errors
    /// Database failure, or a site naming a format no policy provides.
    pub async fn open(mut config: Config, policies: PolicySet) -> Result<Colloquy> {
        let admin_tokens = AdminTokens::take_from(&mut config);
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
                    },
                    now,
                )
                .await?;
        }
        let keys = Keys::open(&config, &store).await?;
        let shared = Shared {
            store,
            policies: Arc::new(policies),
            admin_tokens: Arc::new(admin_tokens),
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
    fn changed(&self, site: &str, thread: &str) {
        self.counts.forget(&(site.to_owned(), thread.to_owned()));
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

    fn pick_policy(&self, row: &SiteSettings, format: Option<&str>) -> Result<&Policy> {
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
        // Budgets count people: an IPv6 client by its network.
        self.limits.check_preview(
            site.as_str(),
            ip.map(|ip| crate::net::person(ip, self.config.ipv6_prefix)),
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
        // Limits count people: an IPv6 client by its network.
        let person = ip.map(|ip| crate::net::person(ip, self.config.ipv6_prefix));
        self.limits.check_post(
            site.as_str(),
            person,
            row.rules.ip_posts_per_minute,
            row.rules.site_posts_per_minute,
        )?;
        self.check_body(&input.body)?;
        let policy = self.pick_policy(&row, input.format.as_deref())?;
        let limits = &self.config.limits;
        let field = |v: &Option<String>| v.as_deref().unwrap_or("").to_owned();
        let author = AuthorName::parse(&field(&input.author), limits.max_author_chars)?;
        let email = Email::parse(&field(&input.email))?;
        let homepage = Homepage::parse(&field(&input.homepage), limits.max_homepage_chars)?;
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
        let ip_label = ip.map(|ip| crate::net::person_label(ip, self.config.ipv6_prefix));
        // The form checks: a checked post's stamp must be genuine, unexpired
        // and (once the comment goes in) unused.
        let checks = checked(&row.rules, input.client);
        let stamp = if checks && row.rules.min_submit_secs > 0 {
            input
                .form
                .as_ref()
                .and_then(|f| f.stamp.as_deref())
                .and_then(|s| self.valid_stamp(s, created))
        } else {
            None
        };
        let facts = self
            .facts(
                &row,
                thread,
                &input,
                email.as_deref(),
                checks.then_some(stamp.as_ref()),
                created,
            )
            .await?;
        let candidate = moderation::Candidate {
            body: &input.body,
            html: rendered.html.as_str(),
            author: author.as_deref(),
            email: email.as_deref(),
            homepage: homepage.as_deref(),
            ip: ip_label.as_ref().map(|(ip, _)| ip.as_str()),
            ip_network: ip_label.as_ref().and_then(|(_, net)| net.as_deref()),
        };
        let Decision { status, reasons } =
            moderation::decide(&candidate, row.rules_view(), &facts).map_err(refusal_error)?;
        let edit_token = random_token(32);
        let notify_replies = input.notify_replies && email.is_some();
        let mut comment = Comment {
            id: 0,
            site: site.clone(),
            thread: thread.clone(),
            parent: input.parent,
            status,
            format: policy.id().to_owned(),
            body: std::mem::take(&mut input.body),
            html: rendered.html,
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
            site: comment.site.to_string(),
            comment_id: None,
            thread: Some(comment.thread.to_string()),
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
            stamp: stamp.as_ref().map(|st| UsedStamp {
                nonce: st.nonce.clone(),
                expires: st.issued + STAMP_LIFETIME_MS,
            }),
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
                InsertOutcome::StampUsed => {
                    return Err(Error::conflict(
                        Code::StampUsed,
                        "this form was used for a comment already; reload the page to write another",
                    ))
                }
                InsertOutcome::Duplicate(earlier) => {
                    return Err(Error::conflict(
                        Code::DuplicateComment,
                        format!(
                            "you posted the same text to this thread a moment ago (comment {earlier}); it is not stored twice"
                        ),
                    ))
                }
                // A hidden thread does not exist for readers, posting included.
                InsertOutcome::ThreadNotOpen(ThreadState::Hidden) => {
                    return Err(Error::NotFound(format!(
                        "there is no visible thread `{thread}`"
                    )))
                }
                InsertOutcome::ThreadNotOpen(state) => {
                    return Err(Error::forbidden(
                        Code::ThreadClosed,
                        format!("this thread is {}: it takes no new comments", state.as_str()),
                    ))
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
        Err(Error::internal(
            "could not allocate a comment id".to_owned(),
        ))
    }

    /// The keyed hash stored in place of an IP address (imports use it
    /// too). It hashes the person's address, so an IPv6 client has one hash
    /// for their whole network, and the duplicate check and the queue's IP
    /// search see one person.
    pub(crate) fn hash_ip(&self, ip: IpAddr) -> String {
        let mut mac = match Hmac::<Sha256>::new_from_slice(self.keys.ip_hash_key()) {
            Ok(m) => m,
            Err(_) => return String::new(),
        };
        let person = crate::net::person(ip, self.config.ipv6_prefix);
        mac.update(person.to_string().as_bytes());
        hex(&mac.finalize().into_bytes()[..16])
    }

    /// What the moderation rules need to know beyond the comment itself;
    /// each lookup happens only when a rule that needs it is on.
    /// `checked` is `Some` (with the post's valid stamp, if any) when the
    /// form checks apply to it.
    async fn facts(
        &self,
        row: &SiteSettings,
        thread: &ThreadKey,
        input: &PostInput,
        email: Option<&str>,
        checked: Option<Option<&Stamp>>,
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
        let form = checked.map(|stamp| FormFacts {
            honeypot_filled: input
                .form
                .as_ref()
                .and_then(|f| f.honeypot.as_deref())
                .is_some_and(|h| !h.trim().is_empty()),
            age_ms: stamp.map(|st| now - st.issued),
        });
        Ok(moderation::Facts {
            approved_by_author,
            thread_started,
            parent_depth,
            form,
            now,
        })
    }

    /// A signed, single-use stamp for a comment form (the thread page's,
    /// or the embed's through the API), so a post can say how long after
    /// the form was shown it came (bots post at once) and a stamp cannot be
    /// used for a second comment. It is good for [`STAMP_LIFETIME_MS`].
    pub fn form_stamp(&self) -> String {
        issue_stamp(self.keys.form_stamp_key(), now_ms(), &random_token(12))
    }

    /// A stamp this service signed and that has not expired (whether it
    /// was used already is the store's to say, when the comment goes in).
    fn valid_stamp(&self, stamp: &str, now: i64) -> Option<Stamp> {
        check_stamp(self.keys.form_stamp_key(), stamp, now)
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
            let since = self.counts.generation();
            let found: std::collections::HashMap<String, i64> = self
                .store
                .count_published(&s, &missing)
                .await?
                .into_iter()
                .collect();
            for (key, n) in answer.iter_mut().filter(|(_, n)| n.is_none()) {
                let count = found.get(key).copied().unwrap_or(0);
                self.counts
                    .put_since(since, (s.clone(), key.clone()), count);
                *n = Some(count);
            }
        }
        Ok(answer
            .into_iter()
            .map(|(k, n)| (k, n.unwrap_or(0)))
            .collect())
    }

    /// The author's comment (checked against the edit token, the thread's
    /// state and the edit window) and the revision it was read at.
    async fn own_comment(&self, site: &SiteId, id: i64, token: &str) -> Result<(Comment, i64)> {
        let read = self
            .store
            .comment_for_change(site.as_str(), id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("there is no comment {id}")))?;
        let comment = read.comment;
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
        // Closing a thread freezes its comments, their authors' too; a
        // hidden thread is not there for them at all.
        match self
            .store
            .thread(site.as_str(), &comment.thread)
            .await?
            .map(|t| t.state)
        {
            Some(ThreadState::Hidden) => {
                return Err(Error::NotFound(format!("there is no comment {id}")))
            }
            Some(ThreadState::Closed) => {
                return Err(Error::forbidden(
                    Code::ThreadClosed,
                    "this thread is closed: its comments can no longer be changed",
                ))
            }
            _ => {}
        }
        if now_ms() > comment.created + self.config.edit_window_secs * 1000 {
            return Err(Error::forbidden(
                Code::EditWindowOver,
                format!(
                    "the edit window of {} seconds has passed",
                    self.config.edit_window_secs
                ),
            ));
        }
        Ok((comment, read.revision))
    }

    /// The author edits a comment with its edit token, inside the window.
    ///
    /// The new text is judged again by the content rules; an edit can hold
    /// a published comment but never publishes a held one, and never undoes
    /// a moderator's decision made while it was being written (the status
    /// is written only if the comment is still at the revision read;
    /// otherwise it is read and decided again).
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
        let row = self.site(site).await?;
        self.check_body(&body)?;
        for _attempt in 0..MAX_CHANGE_ATTEMPTS {
            let (mut comment, revision) = self.own_comment(site, id, token).await?;
            let policy =
                self.pick_policy(&row, Some(format.as_deref().unwrap_or(&comment.format)))?;
            let rendered = self
                .renderer
                .render(&self.policies, policy.id(), body.clone())
                .await?;
            let candidate = moderation::Candidate {
                body: &body,
                html: rendered.html.as_str(),
                author: comment.author.as_deref(),
                email: comment.email.as_deref(),
                homepage: comment.homepage.as_deref(),
                ip: None,
                ip_network: None,
            };
            let facts = moderation::Facts {
                now: now_ms(),
                ..moderation::Facts::default()
            };
            let decision =
                moderation::decide(&candidate, row.rules_view(), &facts).map_err(refusal_error)?;
            let before = comment.status;
            if comment.status == Status::Published && decision.status != Status::Published {
                comment.status = decision.status;
            }
            comment.body = body.clone();
            comment.format = policy.id().to_owned();
            comment.html = rendered.html;
            comment.policy_version = rendered.policy_version;
            let now = now_ms();
            comment.modified = Some(now);
            let reasons = if comment.status == before {
                Vec::new()
            } else {
                decision.reasons
            };
            let audit = self.entry(&comment, &Actor::Author, "edit", now, reasons);
            if self.store.update_body(&comment, revision, &audit).await? {
                self.changed(&comment.site, &comment.thread);
                return Ok(comment);
            }
        }
        Err(Error::conflict(
            Code::CommentChanged,
            format!("comment {id} kept changing while it was edited; try again"),
        ))
    }

    /// The author deletes a comment with its edit token, inside the window.
    ///
    /// # Errors
    /// Unknown comment, wrong token, closed window.
    pub async fn delete_own(&self, site: &SiteId, id: i64, token: &str) -> Result<()> {
        let (comment, _) = self.own_comment(site, id, token).await?;
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

    /// Everything stored on a site for an e-mail address, in any letter
    /// case (privacy export).
    ///
    /// # Errors
    /// Unknown site, an invalid address.
    pub async fn export_email(&self, site: &SiteId, email: &str) -> Result<Vec<Comment>> {
        self.site(site).await?;
        let email = Email::parse(email)?
            .ok_or_else(|| Error::invalid("email", "give the e-mail address"))?;
        Ok(self.store.comments_by_email(site.as_str(), &email).await?)
    }

    /// Deletes everything stored on a site for an e-mail address, in any
    /// letter case: comments, the notifications about them or to it, its
    /// reply subscription. Returns how many comments went.
    ///
    /// # Errors
    /// Unknown site, an invalid address.
    pub async fn erase_email(&self, site: &SiteId, email: &str, actor: &Actor) -> Result<u64> {
        self.site(site).await?;
        let email = Email::parse(email)?
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
        let address_hash = self
            .keys
            .address_hash(&crate::store::normalize_email(&email));
        let n = self
            .store
            .erase_email(site.as_str(), &email, &address_hash, &audit)
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
        Ok(self
            .store
            .purge_ip_hashes(now_ms() - days * 86_400_000)
            .await?)
    }

    /// Forgets the used form stamps that have expired anyway (they can no
    /// longer be replayed: an expired stamp is refused for its age).
    ///
    /// # Errors
    /// Database failure.
    pub async fn forget_expired_stamps(&self) -> Result<u64> {
        Ok(self.store.forget_used_stamps(now_ms()).await?)
    }

    /// Deletes delivered and failed notifications older than their
    /// retention (their payloads hold names, addresses and texts), and the
    /// nonces of expired links. Returns how many deliveries went.
    ///
    /// # Errors
    /// Database failure.
    pub async fn purge_notifications(&self) -> Result<u64> {
        let now = now_ms();
        self.store.purge_used_links(now).await?;
        let days = i64::from(self.config.notify.retention_days);
        if days == 0 {
            return Ok(0);
        }
        Ok(self.store.purge_deliveries(now - days * 86_400_000).await?)
    }

    /// Applies a one-click moderation link (approve, spam, trash), once and
    /// only while the comment still has the status the e-mail was about:
    /// the nonce is recorded and the status compared and set in one
    /// transaction. `expires` (Unix s) is the link's expiry.
    ///
    /// # Errors
    /// Unknown site, an action a link cannot do, database failure.
    pub async fn moderate_by_link(
        &self,
        site: &SiteId,
        id: i64,
        action: Action,
        grant: &crate::notify::links::SingleUse,
        expires: i64,
    ) -> Result<crate::store::outbox::LinkOutcome> {
        let current = self.comment(site, id).await?;
        let to = match action {
            Action::Approve => Status::Published,
            Action::Spam => Status::Spam,
            Action::Trash => Status::Trash,
            _ => {
                return Err(Error::invalid(
                    "action",
                    "links approve, mark as spam or trash",
                ))
            }
        };
        let now = now_ms();
        let mut audit = self.entry(&current, &Actor::System, action.name(), now, Vec::new());
        audit.status = Some(to);
        audit.notify = to == Status::Published && self.notifies(site.as_str());
        let outcome = self
            .store
            .act_on_link(
                site.as_str(),
                id,
                &grant.nonce,
                expires.saturating_mul(1000),
                grant.from,
                to,
                now,
                &audit,
            )
            .await?;
        self.changed(&current.site, &current.thread);
        Ok(outcome)
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

    /// Applies a moderator's action; returns the comment afterwards (`None`
    /// when deleted). An action that would change nothing (a repeated
    /// click, a replayed request) writes and logs nothing.
    ///
    /// The status is read, the move decided ([`moderation::transition`]),
    /// and the move written only if the comment is still at the revision
    /// read; if something changed it meanwhile (another moderator, the
    /// author's edit), it is read and decided again, so no decision is
    /// ever made on a stale status.
    ///
    /// # Errors
    /// Unknown site or comment; a comment that keeps changing under the
    /// action ([`Error::Conflict`]).
    pub async fn moderate(
        &self,
        site: &SiteId,
        id: i64,
        action: Action,
        actor: &Actor,
    ) -> Result<Option<Comment>> {
        self.site(site).await?;
        let s = site.as_str();
        for _attempt in 0..MAX_CHANGE_ATTEMPTS {
            let read = self.store.comment_for_change(s, id).await?.ok_or_else(|| {
                Error::NotFound(format!("there is no comment {id} on site `{site}`"))
            })?;
            let current = &read.comment;
            let now = now_ms();
            let done = match moderation::transition(current.status, read.prior, action) {
                Transition::Stay => return Ok(Some(read.comment)),
                Transition::Delete => {
                    let mut e = self.entry(current, actor, action.name(), now, Vec::new());
                    e.status = None;
                    self.store.delete_comment(s, id, &e).await?;
                    self.changed(s, &current.thread);
                    return Ok(None);
                }
                Transition::Move { to, prior } => {
                    let mut e = self.entry(current, actor, action.name(), now, Vec::new());
                    e.status = Some(to);
                    // Newly published and newly held comments cause
                    // notifications; a moderator's unpublish does not.
                    e.notify = action != Action::Unpublish
                        && matches!(to, Status::Published | Status::Pending)
                        && self.notifies(s);
                    self.store
                        .set_status(s, id, read.revision, to, prior, now, &e)
                        .await?
                }
            };
            if done {
                // After the write: a read racing with it cannot keep the old count.
                self.changed(s, &current.thread);
                return Ok(Some(self.comment(site, id).await?));
            }
        }
        Err(Error::conflict(
            Code::CommentChanged,
            format!("comment {id} kept changing while this action was applied; look at it again and retry"),
        ))
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
    ) -> Result<SiteSettings> {
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
            let Some((last, _)) = batch.last() else { break };
            after = last.id;
            for (c, revision) in &batch {
                report.checked += 1;
                match self.policies.get(&c.format) {
                    None => report.skipped += 1,
                    Some(p) if p.version() != c.policy_version => {
                        let r = p.render(&c.body);
                        // An edit meanwhile rendered the new text itself.
                        if self
                            .store
                            .set_rendering(
                                site.as_str(),
                                c.id,
                                *revision,
                                r.html.as_str(),
                                &r.policy_version,
                            )
                            .await?
                        {
                            report.rerendered += 1;
                        }
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
        Ok(self.store.count_site(site.as_str()).await?)
    }
}

/// `issued.nonce.mac`: the time and a random nonce, signed.
fn issue_stamp(key: &[u8], issued: i64, nonce: &str) -> String {
    format!("{issued}.{nonce}.{}", stamp_mac(key, issued, nonce))
}

fn stamp_mac(key: &[u8], issued: i64, nonce: &str) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(b"form-stamp-v2:");
    mac.update(issued.to_string().as_bytes());
    mac.update(b":");
    mac.update(nonce.as_bytes());
    hex(&mac.finalize().into_bytes()[..16])
}

/// The stamp's parts if `key` signed it and it is under
/// [`STAMP_LIFETIME_MS`] old at `now`.
fn check_stamp(key: &[u8], stamp: &str, now: i64) -> Option<Stamp> {
    let mut parts = stamp.splitn(3, '.');
    let (ms, nonce, mac) = (parts.next()?, parts.next()?, parts.next()?);
    let issued: i64 = ms.parse().ok()?;
    if nonce.is_empty() || nonce.len() > 64 {
        return None;
    }
    let expected = stamp_mac(key, issued, nonce);
    let genuine: bool = subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), mac.as_bytes()).into();
    let age = now - issued;
    (genuine && (0..STAMP_LIFETIME_MS).contains(&age)).then(|| Stamp {
        issued,
        nonce: nonce.to_owned(),
    })
}

/// Whether the form checks (honeypot, stamp) apply to a post from `client`.
fn checked(rules: &SiteRules, client: PostClient) -> bool {
    match (rules.form_checks, client) {
        (_, PostClient::Trusted) | (moderation::FormChecks::Off, _) => false,
        (moderation::FormChecks::Browsers, client) => client == PostClient::Browser,
        (moderation::FormChecks::All, _) => true,
    }
}

fn refusal_error(r: Refusal) -> Error {
    match r {
        Refusal::Invalid { field, message } => Error::invalid(field, message),
        Refusal::Closed(m) => Error::forbidden(Code::ThreadClosed, m),
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_are_genuine_only_unchanged_and_only_for_two_hours() {
        let key = b"stamp key";
        let issued = 1_800_000_000_000;
        let stamp = issue_stamp(key, issued, "n0nce");
        let ok = check_stamp(key, &stamp, issued + 5_000);
        assert_eq!(
            ok.map(|s| (s.issued, s.nonce)),
            Some((issued, "n0nce".to_owned()))
        );
        assert!(
            check_stamp(key, &stamp, issued + STAMP_LIFETIME_MS).is_none(),
            "expired"
        );
        assert!(
            check_stamp(key, &stamp, issued - 1).is_none(),
            "from the future"
        );
        assert!(check_stamp(b"other key", &stamp, issued + 5_000).is_none());
        let other_nonce = stamp.replacen("n0nce", "n1nce", 1);
        assert!(check_stamp(key, &other_nonce, issued + 5_000).is_none());
        let earlier = stamp.replacen("1800000000000", "1799999999000", 1);
        assert!(check_stamp(key, &earlier, issued + 5_000).is_none());
        // The first version (time and signature only) is not accepted.
        assert!(check_stamp(
            key,
            "1800000000000.00112233445566778899aabbccddeeff",
            issued
        )
        .is_none());
    }
}
