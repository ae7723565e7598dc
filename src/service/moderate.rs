//! Moderators: the queue, the audit log, actions on one comment or many,
//! and one-click links from e-mails.

use super::listing::page;
use super::Colloquy;
use super::MAX_CHANGE_ATTEMPTS;
use crate::audit::Actor;
use crate::audit::AuditPage;
use crate::clock::now_ms;
use crate::comment::decode_cursor;
use crate::comment::encode_cursor;
use crate::comment::Page;
use crate::comment::QueueFilter;
use crate::comment::{Comment, SiteId, Status};
use crate::error::{Code, Error, Result};
use crate::moderation::Action;
use crate::moderation::Transition;
use crate::moderation::{self};
use crate::statement::{Decision, Note};

impl Colloquy {
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
        self.moderate_noted(site, id, action, actor, &Note::default())
            .await
    }

    /// [`Colloquy::moderate`] with the moderator's `note` for the statement
    /// of reasons a removal or restriction writes (its reason also goes to
    /// the audit log).
    ///
    /// # Errors
    /// As [`Colloquy::moderate`].
    pub async fn moderate_noted(
        &self,
        site: &SiteId,
        id: i64,
        action: Action,
        actor: &Actor,
        note: &Note,
    ) -> Result<Option<Comment>> {
        let row = self.site(site).await?;
        let logged: Vec<String> = note.facts.iter().cloned().collect();
        let s = site.as_str();
        for _attempt in 0..MAX_CHANGE_ATTEMPTS {
            let read = self.store.comment_for_change(s, id).await?.ok_or_else(|| {
                Error::NotFound(format!("there is no comment {id} on site `{site}`"))
            })?;
            let current = &read.comment;
            // A moderator's decision against the spam score is noted in
            // the log; the model learns the decision either way.
            let feedback = match actor {
                Actor::Moderator(_) => {
                    self.score_feedback(s, &row.rules, current, action.name())
                        .await
                }
                _ => None,
            };
            let now = now_ms();
            let done = match moderation::transition(current.status, read.prior, action) {
                Transition::Stay => {
                    // Looked at again and left as it is: that closes an appeal.
                    self.close_appeal(current, action.name(), actor).await?;
                    return Ok(Some(read.comment));
                }
                Transition::Delete => {
                    let mut e = self.entry(current, actor, action.name(), now, logged.clone());
                    e.status = None;
                    let statement = self
                        .statement_for(
                            current,
                            Decision::Delete,
                            actor,
                            &[],
                            note,
                            current.created,
                            now,
                        )
                        .await?;
                    self.close_appeal(current, action.name(), actor).await?;
                    self.store
                        .delete_comment_with(s, id, &e, statement.as_ref())
                        .await?;
                    self.changed(s, &current.thread);
                    return Ok(None);
                }
                Transition::Move { to, prior } => {
                    let mut e = self.entry(
                        current,
                        actor,
                        action.name(),
                        now,
                        logged.iter().cloned().chain(feedback.clone()).collect(),
                    );
                    e.status = Some(to);
                    // Newly published and newly held comments cause
                    // notifications; a moderator's unpublish does not.
                    e.notify = action != Action::Unpublish
                        && matches!(to, Status::Published | Status::Pending)
                        && self.notifies(s);
                    let decision = match to {
                        Status::Spam => Some(Decision::Spam),
                        Status::Trash => Some(Decision::Trash),
                        Status::Pending if current.status == Status::Published => {
                            Some(Decision::Hold)
                        }
                        _ => None,
                    };
                    let statement = match decision {
                        Some(d) => {
                            self.statement_for(current, d, actor, &[], note, current.created, now)
                                .await?
                        }
                        None => None,
                    };
                    let done = self
                        .store
                        .set_status_with(
                            s,
                            id,
                            read.revision,
                            to,
                            prior,
                            now,
                            &e,
                            statement.as_ref(),
                        )
                        .await?;
                    if done {
                        self.close_appeal(current, action.name(), actor).await?;
                        if to == Status::Published && row.rules.scoring {
                            self.note_published_domains(s, current.html.as_str()).await;
                        }
                    }
                    done
                }
            };
            if done {
                // After the write: a read racing with it cannot keep the old count.
                self.changed(s, &current.thread);
                // The move may have caused notifications.
                self.outbox_wake.notify_one();
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
    ) -> Result<crate::outbox::LinkOutcome> {
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
        if outcome == crate::outbox::LinkOutcome::Done {
            // A link is a moderator's decision too: its statement (written
            // after the move, which the link's transaction made) and the
            // end of an open appeal.
            let decision = match to {
                Status::Spam => Some(Decision::Spam),
                Status::Trash => Some(Decision::Trash),
                _ => None,
            };
            let actor = Actor::System;
            if let Some(d) = decision {
                let statement = self
                    .statement_for(
                        &current,
                        d,
                        &Actor::Moderator("email-link".to_owned()),
                        &[],
                        &Note::default(),
                        current.created,
                        now,
                    )
                    .await?;
                if let Some(st) = statement {
                    self.store.add_statement(&st).await?;
                }
            }
            self.close_appeal(&current, action.name(), &actor).await?;
        }
        Ok(outcome)
    }
}
