//! Posting: preview, the checks a new comment passes (fields, rate limits,
//! form stamps, the moderation rules) and storing it.

use super::refusal_error;
use super::Colloquy;
use crate::audit::Actor;
use crate::audit::AuditEntry;
use crate::clock::{new_id, now_ms};
use crate::comment::{
    AuthorName, Comment, Email, Homepage, SiteId, Status, ThreadKey, ThreadState,
};
use crate::error::{Code, Error, Result};
use crate::moderation::ModerationMode;
use crate::moderation::{self, Decision, FormFacts, SiteRules};
use crate::policy::Rendered;
use crate::ratelimit::Budget;
use crate::secret::{hash_token, hex, random_token};
use crate::site::SiteSettings;
use crate::store::{InsertComment, InsertOutcome, UsedStamp};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::net::IpAddr;

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
    /// The reader the site signed in, if it did (see `Colloquy::reader`):
    /// the comment is theirs, under their username.
    pub identity: Option<crate::reader::Identity>,
}

/// A preview: the rendering and, where the site nudges writers, whether
/// the comment may be held for review.
#[derive(Debug, Clone)]
pub struct Preview {
    /// The rendering.
    pub rendered: Rendered,
    /// `Some` where the site scores comments and nudges writers.
    pub may_be_held: Option<bool>,
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
    /// The moderators' warning to the author (the ladder's `warn`), shown
    /// with this one post.
    pub notice: Option<String>,
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

impl Colloquy {
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
    ) -> Result<Preview> {
        let row = self.site(site).await?;
        let limits = &self.config.limits;
        // Budgets count people: an IPv6 client by its network.
        self.spend(
            Budget::Previews,
            site.as_str(),
            ip.map(|ip| crate::net::person(ip, self.config.ipv6_prefix)),
            limits.ip_previews_per_minute,
            limits.site_previews_per_minute,
        )
        .await?;
        self.check_body(body)?;
        let policy = self.pick_policy(&row, format)?;
        let rendered = self
            .renderer
            .render(&self.policies, policy.id(), body.to_owned())
            .await?;
        let rules = &row.rules;
        let may_be_held = if rules.scoring && rules.scoring_nudge {
            let score = self
                .spam_score(
                    &row.id,
                    rules,
                    crate::scoring::Facts::default(),
                    body,
                    rendered.html.as_str(),
                    None,
                    None,
                    None,
                )
                .await?;
            Some(score.is_some_and(|s| {
                rules.spam_score.reached_by(s.probability)
                    || (row.moderation == crate::moderation::ModerationMode::Rules
                        && rules.hold_score.reached_by(s.probability))
            }))
        } else {
            None
        };
        Ok(Preview {
            rendered,
            may_be_held,
        })
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
        self.spend(
            Budget::Comments,
            site.as_str(),
            person,
            row.rules.ip_posts_per_minute,
            row.rules.site_posts_per_minute,
        )
        .await?;
        self.check_body(&input.body)?;
        let policy = self.pick_policy(&row, input.format.as_deref())?;
        let limits = &self.config.limits;
        let field = |v: &Option<String>| v.as_deref().unwrap_or("").to_owned();
        let (author, email) = match &input.identity {
            // The site vouches for the name (and the address, if it gives one).
            Some(id) => (
                AuthorName::parse(&id.username, limits.max_author_chars)?,
                match &id.email {
                    Some(e) => Email::parse(e)?,
                    None => Email::parse(&field(&input.email))?,
                },
            ),
            None => {
                let author = AuthorName::parse(&field(&input.author), limits.max_author_chars)?;
                // The site's own backend (an admin token) vouches for itself.
                if input.client != PostClient::Trusted {
                    self.check_anonymous(&row, author.as_deref()).await?;
                }
                (author, Email::parse(&field(&input.email))?)
            }
        };
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
        let mut facts = facts;
        // The ladder: the author's standing by site identity, e-mail and
        // address hash.
        let ip_hash = ip.map(|ip| self.hash_ip(ip));
        // What the spam model knows beyond the text (the same facts it
        // learns decisions with: see `service/scoring.rs`).
        let since_last_by_ip = match &ip_hash {
            Some(h) if row.rules.scoring => self
                .store
                .last_post_by_ip(site.as_str(), h, facts.now)
                .await?
                .map(|t| u32::try_from((facts.now - t) / 1000).unwrap_or(u32::MAX)),
            _ => None,
        };
        let known = crate::scoring::Facts {
            author_known: email.as_ref().map(|_| facts.approved_by_author > 0),
            thread_age_secs: Some(
                facts
                    .thread_started
                    .map_or(0, |t| u64::try_from((facts.now - t) / 1000).unwrap_or(0)),
            ),
            secs_since_last_post_by_ip: since_last_by_ip,
            new_link_domains: if row.rules.scoring {
                Some(
                    self.new_link_domains(site.as_str(), rendered.html.as_str())
                        .await?,
                )
            } else {
                None
            },
            ..crate::scoring::Facts::default()
        };
        let commenter_keys = crate::commenter::CommenterKey::of_post(
            input.identity.as_ref().map(|i| i.user_id.as_str()),
            email.as_ref().map(|e| e.normalized()).as_deref(),
            ip_hash.as_deref(),
        );
        facts.commenter = self
            .enforcement(site.as_str(), &commenter_keys, created)
            .await?;
        facts.spam = self
            .spam_score(
                &row.id,
                &row.rules,
                known,
                candidate.body,
                candidate.html,
                candidate.author,
                candidate.email,
                candidate.homepage,
            )
            .await?;
        let Decision {
            mut status,
            mut reasons,
        } = moderation::decide(&candidate, row.rules_view(), &facts).map_err(refusal_error)?;
        if input.identity.is_none()
            && input.client != PostClient::Trusted
            && row.rules.anonymous == moderation::Anonymous::Held
            && status == Status::Published
        {
            status = Status::Pending;
            // What said it would be published no longer holds.
            reasons.retain(|r| !r.starts_with("published"));
            reasons.push("held: comments from readers who are not signed in wait for a moderator on this site".to_owned());
        }
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
            ip_hash,
            created,
            modified: None,
            reasons: reasons.clone(),
            notify_replies,
            standing: Default::default(),
            author_id: input.identity.as_ref().map(|i| i.user_id.clone()),
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
                    // Only where it scores: posting without links or
                    // scoring costs no extra write.
                    if comment.status == Status::Published && row.rules.scoring {
                        self.note_published_domains(site.as_str(), comment.html.as_str())
                            .await;
                    }
                    if comment.status == Status::Spam {
                        // Written after the comment (inserts are batched):
                        // the rules' spam decision and its reasons.
                        // The comment is stored: a failure here is logged,
                        // never turned into a failed post.
                        let written = match self
                            .statement_for(
                                &comment,
                                crate::statement::Decision::Spam,
                                &Actor::Rules,
                                &reasons,
                                &crate::statement::Note::default(),
                                created,
                                created,
                            )
                            .await
                        {
                            Ok(Some(st)) => {
                                self.store.add_statement(&st).await.map_err(Error::from)
                            }
                            Ok(None) => Ok(()),
                            Err(e) => Err(e),
                        };
                        if let Err(e) = written {
                            tracing::error!(comment = comment.id, error = %e, "the statement of reasons of a spam decision was not stored");
                        }
                    }
                    if let Some(id) = &input.identity {
                        self.store
                            .remember_site_user(
                                site.as_str(),
                                &id.user_id,
                                &id.username,
                                &crate::reader::name_key(&id.username),
                                created,
                            )
                            .await?;
                    }
                    if audit.notify {
                        // This server's notifier queues it now, not at its
                        // next poll.
                        self.outbox_wake.notify_one();
                    }
                    let notice = match &facts.commenter {
                        Some(crate::commenter::Enforcement::Warned { reason, keys })
                            if self.claim_warnings(site.as_str(), keys).await? =>
                        {
                            Some(format!("a warning from the moderators: {reason}"))
                        }
                        _ => None,
                    };
                    let (comment, reasons) =
                        if facts.commenter == Some(crate::commenter::Enforcement::Shadow) {
                            // Its author sees it as published; nobody else sees it.
                            let mut shown = comment;
                            shown.status = Status::Published;
                            shown.reasons = vec!["published: no rule held it".to_owned()];
                            let reasons = shown.reasons.clone();
                            (shown, reasons)
                        } else {
                            (comment, reasons)
                        };
                    return Ok(Posted {
                        comment,
                        edit_until: created + self.config.edit_window_secs * 1000,
                        edit_token,
                        reasons,
                        notice,
                    });
                }
                InsertOutcome::IdTaken => continue,
                InsertOutcome::StampUsed => return Err(Error::conflict(
                    Code::StampUsed,
                    "this form was used for a comment already; reload the page to write another",
                )),
                // Said to readers as it is: no internal id in it.
                InsertOutcome::Duplicate(_) => return Err(Error::conflict(
                    Code::DuplicateComment,
                    "you posted the same text to this thread a moment ago; it is not stored twice",
                )),
                // A hidden thread does not exist for readers, posting included.
                InsertOutcome::ThreadNotOpen(ThreadState::Hidden) => {
                    return Err(Error::NotFound(format!(
                        "there is no visible thread `{thread}`"
                    )))
                }
                InsertOutcome::ThreadNotOpen(state) => {
                    return Err(Error::forbidden(
                        Code::ThreadClosed,
                        format!(
                            "this thread is {}: it takes no new comments",
                            state.as_str()
                        ),
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

    /// Whether the site takes a comment from a reader it did not sign in,
    /// under `author`: not when it takes signed-in readers only, nor under
    /// a name a signed-in reader of the site has (compared by
    /// [`crate::reader::name_key`]).
    async fn check_anonymous(&self, row: &SiteSettings, author: Option<&str>) -> Result<()> {
        if row.rules.anonymous == moderation::Anonymous::SignedInOnly {
            return Err(Error::forbidden(
                Code::SignInRequired,
                "this site takes comments from signed-in readers only: sign in on the site and try again",
            ));
        }
        let Some(name) = author else { return Ok(()) };
        let key = crate::reader::name_key(name);
        if key.is_empty() {
            return Ok(());
        }
        if let Some(taken) = self.store.site_user_named(&row.id, &key).await? {
            return Err(Error::conflict(
                Code::NameTaken,
                format!(
                    "the name `{name}` is too close to `{taken}`, a signed-in reader of this site: \
                     sign in to post as them, or choose another name"
                ),
            ));
        }
        Ok(())
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
        // The spam model reads both too (author known, thread age).
        let approved_by_author = match email {
            Some(e)
                if rules.scoring
                    || (rules.trust_approved_authors
                        && row.moderation == ModerationMode::Rules) =>
            {
                self.store.approved_by_email(&row.id, e, 100).await?
            }
            _ => 0,
        };
        let thread_started = if rules.close_after_days > 0 || rules.scoring {
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
            spam: None,
            commenter: None,
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
