//! Readers reporting comments (the threshold that holds one, the reported
//! queue, dismissals) and the enforcement ladder (a commenter's standing,
//! history and what it does to their posts).

use super::Colloquy;
use super::MAX_CHANGE_ATTEMPTS;
use crate::audit::{Actor, AuditEntry};
use crate::clock::{new_id, now_ms};
use crate::comment::{Comment, SiteId, Status, ThreadKey};
use crate::commenter::{self, CommenterKey, Enforcement, Standing, Step};
use crate::error::{Code, Error, Result};
use crate::moderation::Action;
use crate::reader::{Reader, Role};
use crate::report::{self, Reason, Reporter};
use crate::secret::hash_token;
use crate::store::{ActionRow, NewReport, ReportRow, StandingRow};

/// What a report did.
#[derive(Debug, Clone)]
pub struct Reported {
    /// The report's id.
    pub id: i64,
    /// Its weight, in readers (0.25 to 1.5).
    pub weight: f64,
    /// The comment is held now (this report or a concurrent one reached
    /// the threshold).
    pub held: bool,
}

/// A comment in the reported queue.
#[derive(Debug, Clone)]
pub struct ReportedComment {
    /// The comment.
    pub comment: Comment,
    /// Its open reports, oldest first.
    pub reports: Vec<ReportRow>,
}

/// One page of the reported queue.
#[derive(Debug, Clone)]
pub struct ReportedPage {
    /// Comments, newest first.
    pub comments: Vec<ReportedComment>,
    /// The cursor of the next page.
    pub next_cursor: Option<String>,
}

/// A ladder action a moderator asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LadderAction {
    /// Set a step.
    Set(Step),
    /// Remove the standing.
    Clear,
}

impl LadderAction {
    /// Parses `warn`, …, `ban`, `clear`.
    pub fn parse(s: &str) -> Option<LadderAction> {
        if s == "clear" {
            Some(LadderAction::Clear)
        } else {
            Step::parse(s).map(LadderAction::Set)
        }
    }

    /// As sent and stored.
    pub fn as_str(self) -> &'static str {
        match self {
            LadderAction::Set(step) => step.as_str(),
            LadderAction::Clear => "clear",
        }
    }
}

/// A commenter's page for moderators.
#[derive(Debug, Clone)]
pub struct CommenterView {
    /// Whom.
    pub key: CommenterKey,
    /// Their standing, if one is set (expired ones say so by `until`).
    pub standing: Option<StandingRow>,
    /// Whether the standing still applies now.
    pub in_force: bool,
    /// Ladder actions, newest first.
    pub actions: Vec<ActionRow>,
    /// Their comments, newest first.
    pub comments: Vec<Comment>,
    /// Decisions on those comments (the audit log), newest first.
    pub decisions: Vec<AuditEntry>,
    /// Reports they made (address or identity keys), newest first.
    pub reports_made: Vec<ReportRow>,
    /// Reports on their comments, newest first.
    pub reports_received: Vec<ReportRow>,
}

/// Longest moderator reason for a ladder action.
pub const MAX_LADDER_REASON_CHARS: usize = 500;
/// Most edit tokens one own-view request may carry.
pub const MAX_OWN_TOKENS: usize = 100;
/// How much of a commenter's history the page shows.
const HISTORY: i64 = 100;

fn standing(row: &StandingRow) -> Option<Standing> {
    Some(Standing {
        key: CommenterKey::parse(&row.commenter).ok()?,
        step: Step::parse(&row.step)?,
        until: row.until,
        reason: row.reason.clone(),
        warned: row.warned,
    })
}

impl Colloquy {
    /// A reader reports a published comment. One report per reader
    /// (`reader.key()`) and comment; when the open reports' weighted count
    /// reaches the site's `report_threshold`, the comment is held, once,
    /// however many reports arrive together.
    ///
    /// # Errors
    /// Unknown site, no published comment `id`, invalid fields, a reader
    /// that cannot be told apart, a repeat ([`Code::AlreadyReported`]).
    #[allow(clippy::too_many_arguments)]
    pub async fn report(
        &self,
        site: &SiteId,
        id: i64,
        reader: &Reader,
        ip: Option<std::net::IpAddr>,
        reason: Reason,
        law: Option<&str>,
        text: Option<&str>,
    ) -> Result<Reported> {
        let row = self.site(site).await?;
        let s = site.as_str();
        // The site's comment quotas, in a budget of their own.
        self.spend(
            crate::ratelimit::Budget::Reports,
            s,
            ip.map(|ip| crate::net::person(ip, self.config.ipv6_prefix)),
            row.rules.ip_posts_per_minute,
            row.rules.site_posts_per_minute,
        )
        .await?;
        let statement =
            report::statement(reason, law, text).map_err(|(f, m)| Error::invalid(f, m))?;
        let missing = || {
            Error::NotFound(format!(
                "there is no published comment {id} on site `{site}`"
            ))
        };
        let comment = self
            .store
            .comment(s, id)
            .await?
            .filter(|c| c.status == Status::Published)
            .ok_or_else(missing)?;
        // A hidden thread does not exist for readers, its comments included.
        let thread = self.store.thread(s, comment.thread.as_str()).await?;
        if thread.is_some_and(|t| t.state == crate::comment::ThreadState::Hidden) {
            return Err(missing());
        }
        let Some(key) = reader.key() else {
            return Err(Error::forbidden(
                Code::Forbidden,
                "this server cannot tell readers apart on this connection, so it takes no reports",
            ));
        };
        let key_text = key.as_text();
        let staff = reader
            .identity
            .as_ref()
            .is_some_and(|i| matches!(i.role, Role::Moderator | Role::Admin));
        let published = match &key {
            crate::reader::ReaderKey::Address(hash) => {
                self.store
                    .published_by_ip_hash(s, hash, report::PUBLISHED_FOR_TRUST as i64)
                    .await?
            }
            crate::reader::ReaderKey::User(_) => 0,
        };
        let reporter = Reporter {
            dismissed: self
                .store
                .dismissed_reports(s, &key_text, report::DISMISSED_FOR_QUARTER as i64)
                .await?,
            staff,
            published,
        };
        let weight = report::weight(&reporter);
        let now = now_ms();
        let report_id = new_id(now);
        let stored = self
            .store
            .insert_report(&NewReport {
                id: report_id,
                site: s,
                comment_id: id,
                reader: &key_text,
                reason: statement.reason.as_str(),
                law: statement.law.as_deref(),
                text: statement.text.as_deref(),
                weight: i64::from(weight),
                created: now,
            })
            .await?;
        if !stored {
            return Err(Error::conflict(
                Code::AlreadyReported,
                "you reported this comment already; the moderators have your report",
            ));
        }
        let held = self
            .hold_if_reported(site, id, row.rules.report_threshold)
            .await?;
        Ok(Reported {
            id: report_id,
            weight: report::readers(weight),
            held,
        })
    }

    /// Holds comment `id` if it is published and its open reports reach
    /// `threshold`: decided on the comment's current revision and written
    /// only at it, so concurrent reports hold it once. True when it is held
    /// for its reports now.
    async fn hold_if_reported(&self, site: &SiteId, id: i64, threshold: u32) -> Result<bool> {
        let s = site.as_str();
        for _attempt in 0..MAX_CHANGE_ATTEMPTS {
            let Some(read) = self.store.comment_for_change(s, id).await? else {
                return Ok(false);
            };
            if read.comment.status != Status::Published {
                // Held already (by a concurrent report or a moderator).
                return Ok(read.comment.status == Status::Pending);
            }
            let open: Vec<report::Open> = self
                .store
                .open_reports(s, id)
                .await?
                .iter()
                .filter_map(|r| {
                    Some(report::Open {
                        weight: u32::try_from(r.weight).ok()?,
                        reason: Reason::parse(&r.reason)?,
                    })
                })
                .collect();
            let Some(reason) = report::hold_reason(&open, threshold) else {
                return Ok(false);
            };
            let now = now_ms();
            let reasons = vec![reason];
            let mut e = self.entry(
                &read.comment,
                &Actor::Rules,
                "reports",
                now,
                reasons.clone(),
            );
            e.status = Some(Status::Pending);
            e.notify = self.notifies(s);
            if self
                .store
                .hold_reported(s, id, read.revision, &reasons, now, &e)
                .await?
            {
                self.changed(s, read.comment.thread.as_str());
                self.outbox_wake.notify_one();
                return Ok(true);
            }
        }
        Err(Error::conflict(
            Code::CommentChanged,
            format!("comment {id} kept changing while its reports were counted"),
        ))
    }

    /// Comments with open reports, newest first, with the reports.
    ///
    /// # Errors
    /// Unknown site, invalid cursor or limit.
    pub async fn reported(
        &self,
        site: &SiteId,
        limit: Option<i64>,
        cursor: Option<&str>,
    ) -> Result<ReportedPage> {
        self.site(site).await?;
        let limit = self.check_limit(limit)?;
        let before = match cursor {
            None => None,
            Some(c) => Some(c.parse::<i64>().map_err(|_| {
                Error::invalid("cursor", "give the `next_cursor` of the previous page")
            })?),
        };
        let rows = self.store.reported(site.as_str(), limit, before).await?;
        let full = i64::try_from(rows.len()).unwrap_or(i64::MAX) >= limit;
        let next_cursor = if full {
            rows.last().map(|(c, _)| c.id.to_string())
        } else {
            None
        };
        Ok(ReportedPage {
            comments: rows
                .into_iter()
                .map(|(comment, reports)| ReportedComment { comment, reports })
                .collect(),
            next_cursor,
        })
    }

    /// A moderator dismisses a comment's open reports (each then counts
    /// against its reader's weight) and, when asked, publishes the comment
    /// again. Returns how many were dismissed and the comment afterwards.
    ///
    /// # Errors
    /// Unknown site or comment.
    pub async fn dismiss_reports(
        &self,
        site: &SiteId,
        id: i64,
        republish: bool,
        actor: &Actor,
    ) -> Result<(u64, Comment)> {
        let comment = self.comment(site, id).await?;
        let now = now_ms();
        let e = self.entry(&comment, actor, "dismiss_reports", now, Vec::new());
        let n = self
            .store
            .dismiss_reports(site.as_str(), id, now, &e)
            .await?;
        let after = if republish && comment.status == Status::Pending {
            self.moderate(site, id, Action::Approve, actor)
                .await?
                .unwrap_or(comment)
        } else {
            comment
        };
        Ok((n, after))
    }

    /// Sets or clears a commenter's standing; returns it afterwards.
    ///
    /// # Errors
    /// Unknown site, an invalid key, reason or end.
    pub async fn set_commenter(
        &self,
        site: &SiteId,
        key: &str,
        action: LadderAction,
        until: Option<i64>,
        reason: &str,
        actor: &Actor,
    ) -> Result<Option<StandingRow>> {
        self.site(site).await?;
        let key = CommenterKey::parse(key).map_err(|m| Error::invalid("key", m))?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(Error::invalid(
                "reason",
                "say why: the audit log and the commenter's history keep it",
            ));
        }
        let chars = reason.chars().count();
        if chars > MAX_LADDER_REASON_CHARS || reason.chars().any(char::is_control) {
            return Err(Error::invalid(
                "reason",
                format!("one line of at most {MAX_LADDER_REASON_CHARS} characters"),
            ));
        }
        let now = now_ms();
        if let Some(u) = until {
            if u <= now {
                return Err(Error::invalid("until", "the end must be in the future"));
            }
            if action == LadderAction::Clear {
                return Err(Error::invalid("until", "`clear` takes no end"));
            }
        }
        if action == LadderAction::Set(Step::Suspend) && until.is_none() {
            return Err(Error::invalid(
                "until",
                "a suspension ends: give `until` (use `ban` for no end)",
            ));
        }
        let key_text = key.to_string();
        let mut said = format!("{key_text}: {}", action.as_str());
        if let Some(u) = until {
            said.push_str(&format!(" until {}", crate::clock::rfc3339(u)));
        }
        said.push_str(&format!(" ({reason})"));
        let audit = AuditEntry {
            id: new_id(now),
            site: site.to_string(),
            comment_id: None,
            thread: None,
            actor: actor.label(),
            action: "commenter".to_owned(),
            status: None,
            reasons: vec![said],
            created: now,
            notify: false,
        };
        let record = ActionRow {
            id: new_id(now),
            commenter: key_text.clone(),
            action: action.as_str().to_owned(),
            until,
            reason: reason.to_owned(),
            actor: actor.label(),
            created: now,
        };
        let step = match action {
            LadderAction::Set(step) => Some(step.as_str()),
            LadderAction::Clear => None,
        };
        self.store
            .set_standing(site.as_str(), &record, step, &audit)
            .await?;
        Ok(self
            .store
            .standings(site.as_str(), &[key_text])
            .await?
            .into_iter()
            .next())
    }

    /// A commenter's standing and history.
    ///
    /// # Errors
    /// Unknown site, an invalid key.
    pub async fn commenter(&self, site: &SiteId, key: &str) -> Result<CommenterView> {
        self.site(site).await?;
        let s = site.as_str();
        let key = CommenterKey::parse(key).map_err(|m| Error::invalid("key", m))?;
        let key_text = key.to_string();
        let standing_row = self
            .store
            .standings(s, std::slice::from_ref(&key_text))
            .await?
            .into_iter()
            .next();
        let now = now_ms();
        let in_force = standing_row
            .as_ref()
            .and_then(standing)
            .is_some_and(|st| st.in_force(now));
        let actions = self.store.commenter_actions(s, &key_text, HISTORY).await?;
        let comments = match &key {
            CommenterKey::Email(e) => self.store.comments_of(s, Some(e), None, HISTORY).await?,
            CommenterKey::Address(h) => self.store.comments_of(s, None, Some(h), HISTORY).await?,
            // Comments carry no identity yet: none to list by it.
            CommenterKey::User(_) => Vec::new(),
        };
        let ids: Vec<i64> = comments.iter().map(|c| c.id).collect();
        let decisions = self.store.audit_of(s, &ids, HISTORY).await?;
        let reports_made = match &key {
            CommenterKey::User(_) | CommenterKey::Address(_) => {
                self.store.reports_by(s, &key_text, HISTORY).await?
            }
            CommenterKey::Email(_) => Vec::new(),
        };
        let reports_received = self.store.reports_on(s, &ids, HISTORY).await?;
        Ok(CommenterView {
            key,
            standing: standing_row,
            in_force,
            actions,
            comments,
            decisions,
            reports_made,
            reports_received,
        })
    }

    /// What the ladder does to a post by these keys at `now`.
    pub(super) async fn enforcement(
        &self,
        site: &str,
        keys: &[CommenterKey],
        now: i64,
    ) -> Result<Option<Enforcement>> {
        let texts: Vec<String> = keys.iter().map(ToString::to_string).collect();
        let rows = self.store.standings(site, &texts).await?;
        let standings: Vec<Standing> = rows.iter().filter_map(standing).collect();
        Ok(commenter::enforcement(&standings, now))
    }

    /// Marks warnings shown; true when this call did (so exactly one post
    /// carries a warning).
    pub(super) async fn claim_warnings(&self, site: &str, keys: &[CommenterKey]) -> Result<bool> {
        let texts: Vec<String> = keys.iter().map(ToString::to_string).collect();
        Ok(self.store.claim_warnings(site, &texts).await? > 0)
    }

    /// The author's own held comments of a thread, found by the edit tokens
    /// their browser kept: held ones as held, shadow-banned ones as
    /// published (their author sees them; nobody else does). Never cached.
    ///
    /// # Errors
    /// Unknown site, too many or malformed tokens.
    pub async fn own_comments(
        &self,
        site: &SiteId,
        thread: &ThreadKey,
        tokens: &[String],
        author: Option<&crate::reader::Identity>,
    ) -> Result<Vec<Comment>> {
        self.site(site).await?;
        if tokens.len() > MAX_OWN_TOKENS {
            return Err(Error::invalid(
                "edit_tokens",
                format!("at most {MAX_OWN_TOKENS} tokens"),
            ));
        }
        if tokens.iter().any(|t| t.is_empty() || t.len() > 200) {
            return Err(Error::invalid(
                "edit_tokens",
                "each token is the `edit_token` a post answered with",
            ));
        }
        let hashes: Vec<String> = tokens.iter().map(|t| hash_token(t)).collect();
        let mut comments = self
            .store
            .pending_by_tokens(site.as_str(), thread.as_str(), &hashes)
            .await?;
        // A signed-in author's too, from any device.
        if let Some(id) = author {
            for c in self
                .store
                .pending_by_author(site.as_str(), thread.as_str(), &id.user_id)
                .await?
            {
                if !comments.iter().any(|known| known.id == c.id) {
                    comments.push(c);
                }
            }
            comments.sort_by_key(|c| c.id);
        }
        for c in &mut comments {
            if c.reasons.iter().any(|r| r == commenter::SHADOW_REASON) {
                c.status = Status::Published;
                c.reasons = vec!["published: no rule held it".to_owned()];
            }
        }
        Ok(comments)
    }
}
