//! The author's own comment: edit and delete with the edit token, inside
//! the window, while the thread is open.

use super::refusal_error;
use super::Colloquy;
use super::MAX_CHANGE_ATTEMPTS;
use crate::audit::Actor;
use crate::clock::now_ms;
use crate::comment::{Comment, SiteId, Status, ThreadState};
use crate::error::{Code, Error, Result};
use crate::moderation::{self};
use crate::secret::hash_token;
use crate::statement::Decision;

/// How an author shows a comment is theirs.
#[derive(Debug, Clone, Copy)]
pub enum Proof<'a> {
    /// The edit token the comment was posted with.
    EditToken(&'a str),
    /// The site's identity of the reader who posted it signed in.
    Identity(&'a crate::reader::Identity),
}

impl Colloquy {
    /// The author's comment (checked against the proof, the thread's
    /// state and the edit window) and the revision it was read at.
    async fn own_comment(
        &self,
        site: &SiteId,
        id: i64,
        proof: Proof<'_>,
    ) -> Result<(Comment, i64)> {
        let read = self
            .store
            .comment_for_change(site.as_str(), id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("there is no comment {id}")))?;
        let comment = read.comment;
        match proof {
            Proof::EditToken(token) => {
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
            }
            Proof::Identity(who) => {
                if comment.author_id.as_deref() != Some(who.user_id.as_str()) {
                    return Err(Error::forbidden(
                        Code::Forbidden,
                        "this comment was not written by the signed-in reader",
                    ));
                }
            }
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
        self.edit_by(site, id, Proof::EditToken(token), body, format)
            .await
    }

    /// [`Colloquy::edit`], with the edit token or the signed-in author.
    ///
    /// # Errors
    /// Unknown comment, wrong token or another reader, closed window,
    /// invalid body or format.
    pub async fn edit_by(
        &self,
        site: &SiteId,
        id: i64,
        proof: Proof<'_>,
        body: String,
        format: Option<String>,
    ) -> Result<Comment> {
        let row = self.site(site).await?;
        self.check_body(&body)?;
        for _attempt in 0..MAX_CHANGE_ATTEMPTS {
            let (mut comment, revision) = self.own_comment(site, id, proof).await?;
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
            let spam = self
                .spam_score(
                    &row.id,
                    &row.rules,
                    self.scoring_facts(&row.id, &row.rules, &comment).await?,
                    &body,
                    candidate.html,
                    candidate.author,
                    candidate.email,
                    candidate.homepage,
                )
                .await?;
            let facts = moderation::Facts {
                spam,
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
            let audit = self.entry(&comment, &Actor::Author, "edit", now, reasons.clone());
            // The rules took a published comment off the page: a decision
            // its author is told the reasons of.
            let decision = match comment.status {
                Status::Pending if before == Status::Published => Some(Decision::Hold),
                Status::Spam if before == Status::Published => Some(Decision::Spam),
                _ => None,
            };
            let statement = match decision {
                Some(d) => {
                    self.statement_for(
                        &comment,
                        d,
                        &Actor::Rules,
                        &reasons,
                        &Default::default(),
                        now,
                        now,
                    )
                    .await?
                }
                None => None,
            };
            if self
                .store
                .update_body_with(&comment, revision, &audit, statement.as_ref())
                .await?
            {
                self.changed(&comment.site, &comment.thread);
                // A shadow-banned author keeps seeing their comment as published.
                let shadow = comment.status == Status::Pending
                    && comment
                        .reasons
                        .iter()
                        .any(|r| r == crate::commenter::SHADOW_REASON);
                if shadow {
                    comment.status = Status::Published;
                }
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
        self.delete_by(site, id, Proof::EditToken(token)).await
    }

    /// [`Colloquy::delete_own`], with the edit token or the signed-in author.
    ///
    /// # Errors
    /// Unknown comment, wrong token or another reader, closed window.
    pub async fn delete_by(&self, site: &SiteId, id: i64, proof: Proof<'_>) -> Result<()> {
        let (comment, _) = self.own_comment(site, id, proof).await?;
        let mut audit = self.entry(&comment, &Actor::Author, "delete", now_ms(), Vec::new());
        audit.status = None;
        self.store.delete_comment(site.as_str(), id, &audit).await?;
        self.changed(&comment.site, &comment.thread);
        Ok(())
    }
}
