//! Statements of reasons and appeals (DSA arts. 17 and 20), and the
//! transparency report (art. 24).

use super::Colloquy;
use crate::audit::Actor;
use crate::clock::{new_id, now_ms, rfc3339};
use crate::comment::{Comment, SiteId};
use crate::error::{Code, Error, Result};
use crate::secret::hash_token;
use crate::statement::{Decision, Note, Statement, Transparency, MAX_APPEAL_CHARS, REDRESS};
use crate::store::NewStatement;

impl Colloquy {
    /// Whether a decision about `c` owes its author a statement: the author
    /// can be reached — through their site identity once comments carry
    /// one, and until then through the comment's edit token or e-mail
    /// (imported comments without either owe none).
    pub(super) async fn owes_statement(&self, c: &Comment) -> Result<bool> {
        if c.email.is_some() || c.author_id.is_some() {
            return Ok(true);
        }
        Ok(self
            .store
            .edit_token_hash(c.site.as_str(), c.id)
            .await?
            .is_some())
    }

    /// The statement of a decision about `c`, or `None` when none is owed.
    /// `began` is when the handling began (the post, or the first report).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn statement_for(
        &self,
        c: &Comment,
        decision: Decision,
        actor: &Actor,
        reasons: &[String],
        note: &Note,
        began: i64,
        now: i64,
    ) -> Result<Option<NewStatement>> {
        if !self.owes_statement(c).await? {
            return Ok(None);
        }
        let automated = matches!(actor, Actor::Rules | Actor::System);
        let who = if automated {
            "the site's automated moderation rules"
        } else {
            "a moderator of the site"
        };
        let stamp = rfc3339(now);
        let when = match (stamp.get(..10), stamp.get(11..16)) {
            (Some(day), Some(hm)) => format!("{day} {hm} UTC"),
            _ => stamp.clone(),
        };
        let mut facts = format!(
            "On {when}, {} decided about your comment {} on “{}”. {}",
            who,
            c.id,
            c.thread,
            decision.effect()
        );
        if !reasons.is_empty() {
            facts.push_str(" Reasons: ");
            facts.push_str(&reasons.join("; "));
            facts.push('.');
        }
        if let Some(n) = &note.facts {
            facts.push_str(" The moderator's reason: ");
            facts.push_str(n);
        }
        Ok(Some(NewStatement {
            statement: Statement {
                id: new_id(now),
                site: c.site.to_string(),
                comment_id: c.id,
                thread: c.thread.to_string(),
                decision,
                facts,
                ground: note
                    .ground
                    .clone()
                    .unwrap_or_else(|| decision.default_ground().to_owned()),
                automated,
                redress: REDRESS.to_owned(),
                actor: actor.label(),
                began,
                created: now,
                appeal: None,
            },
            // A signed-in author reads it through their identity too.
            author_key: c
                .author_id
                .as_ref()
                .map(|id| crate::reader::ReaderKey::User(id.clone()).as_text()),
        }))
    }

    /// The latest statement of reasons about a comment, for its author
    /// (the comment's edit token, which a deletion does not take away).
    ///
    /// # Errors
    /// Unknown site; no statement (404); a wrong token (401).
    pub async fn statement(&self, site: &SiteId, id: i64, token: &str) -> Result<Statement> {
        self.site(site).await?;
        let none = || {
            Error::NotFound(format!(
                "there is no statement of reasons about comment {id}"
            ))
        };
        let (statement, owner) = self
            .store
            .latest_statement(site.as_str(), id)
            .await?
            .ok_or_else(none)?;
        let given = hash_token(token);
        let stored = owner.edit_token_hash.unwrap_or_default();
        if !stored.is_empty()
            && bool::from(subtle::ConstantTimeEq::ct_eq(
                stored.as_bytes(),
                given.as_bytes(),
            ))
        {
            return Ok(statement);
        }
        // Else the site's sign-in token of the reader who wrote it.
        if let Some(author) = &owner.author_key {
            if let Ok(reader) = self.reader(site, Some(token), None).await {
                if reader.identity.is_some()
                    && reader.key().map(|k| k.as_text()).as_ref() == Some(author)
                {
                    return Ok(statement);
                }
            }
        }
        Err(Error::Unauthorized(
            "send the comment's edit token, or the sign-in token of the reader who wrote it"
                .to_owned(),
        ))
    }

    /// The latest statement about a comment, for moderators (with the
    /// author's appeal, if any).
    ///
    /// # Errors
    /// Unknown site; no statement (404).
    pub async fn latest_statement(&self, site: &SiteId, id: i64) -> Result<Statement> {
        self.site(site).await?;
        self.store
            .latest_statement(site.as_str(), id)
            .await?
            .map(|(s, _)| s)
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "there is no statement of reasons about comment {id}"
                ))
            })
    }

    /// The author appeals the latest statement about their comment, once:
    /// the comment joins the moderators' `appealed` view until a moderator
    /// decides on it again.
    ///
    /// # Errors
    /// As [`Colloquy::statement`]; an empty or too long text (422); a
    /// second appeal ([`Code::AppealedAlready`], 409).
    pub async fn appeal(
        &self,
        site: &SiteId,
        id: i64,
        token: &str,
        text: &str,
    ) -> Result<Statement> {
        let statement = self.statement(site, id, token).await?;
        let text = text.trim();
        if text.is_empty() {
            return Err(Error::invalid("text", "say why the decision should change"));
        }
        let n = text.chars().count();
        if n > MAX_APPEAL_CHARS {
            return Err(Error::invalid(
                "text",
                format!("has {n} characters; the limit is {MAX_APPEAL_CHARS}"),
            ));
        }
        let now = now_ms();
        let audit = crate::audit::AuditEntry {
            id: new_id(now),
            site: site.to_string(),
            comment_id: Some(id),
            thread: Some(statement.thread.clone()),
            actor: Actor::Author.label(),
            action: "appeal".to_owned(),
            status: None,
            reasons: vec![format!("appeal of statement {}", statement.id)],
            created: now,
            notify: false,
        };
        if !self
            .store
            .appeal(site.as_str(), statement.id, text, now, &audit)
            .await?
        {
            return Err(Error::conflict(
                Code::AppealedAlready,
                "this decision was appealed already; the moderators will look at it again",
            ));
        }
        self.statement(site, id, token).await
    }

    /// Closes a comment's open appeal with a moderator's decision (`what`:
    /// the action's name), logged as `appeal_closed`.
    pub(super) async fn close_appeal(&self, c: &Comment, what: &str, actor: &Actor) -> Result<()> {
        if !self.store.has_open_appeal(c.site.as_str(), c.id).await? {
            return Ok(());
        }
        let now = now_ms();
        let mut audit = self.entry(
            c,
            actor,
            "appeal_closed",
            now,
            vec![format!("decision: {what}")],
        );
        audit.status = None;
        self.store
            .close_appeals(c.site.as_str(), c.id, what, now, &audit)
            .await?;
        Ok(())
    }

    /// The transparency report of a site for decisions made in `[from,
    /// to)` (ms): counts by decision, ground, automated or manual, and the
    /// median handling time.
    ///
    /// # Errors
    /// Unknown site; `to` before `from`.
    pub async fn transparency(&self, site: &SiteId, from: i64, to: i64) -> Result<Transparency> {
        self.site(site).await?;
        if to < from {
            return Err(Error::invalid("to", "the period ends before it begins"));
        }
        let decisions = self
            .store
            .decisions_between(site.as_str(), from, to)
            .await?;
        Ok(Transparency::of(&decisions))
    }
}
