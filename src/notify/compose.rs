//! What each event causes, composed once when it is queued: the webhook's
//! payload, the moderators' e-mails with their one-click links, a reply
//! e-mail (or the confirmation an unconfirmed address gets first).

use super::*;
use crate::clock::{now_ms, rfc3339};
use crate::comment::normalize_email;
use crate::comment::{Comment, SiteId, Status, ThreadKey};
use crate::error::{Error, Result};
use crate::outbox::{NewDelivery, NotifyEvent, Subscription};
use email::Mail;
use links::{Link, LinkAction};

impl Notifier {
    /// What one event causes. Reads only; nothing is written here.
    pub(super) async fn deliveries_for(&self, event: &NotifyEvent) -> Result<Vec<NewDelivery>> {
        let kind = match event.status.as_deref() {
            Some("pending") => Event::Held,
            Some("published") => Event::Published,
            _ => return Ok(Vec::new()),
        };
        let Some(comment_id) = event.comment_id else {
            return Ok(Vec::new());
        };
        let site = self.site_config(&event.site);
        let webhook_url = site.and_then(|s| s.webhook_url.as_deref());
        if webhook_url.is_none() && self.inner.mailer.is_none() {
            return Ok(Vec::new()); // nothing configured: no need to read
        }
        // A comment deleted since is no longer anyone's business.
        let Some(comment) = self.inner.store.comment(&event.site, comment_id).await? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        if let Some(url) = webhook_url {
            let payload = webhook_payload(event, kind, &comment);
            out.push(NewDelivery {
                id: crate::clock::new_id(now_ms()),
                comment_id: Some(comment.id),
                kind: WEBHOOK.to_owned(),
                target: url.to_owned(),
                payload: serde_json::to_string(&payload)
                    .map_err(|e| Error::internal(format!("webhook payload: {e}")))?,
                dedupe_key: format!("{WEBHOOK}:{}", event.id),
                recipient: None,
            });
        }
        if self.inner.mailer.is_none() {
            return Ok(out);
        }
        match kind {
            // Moderated before the notifier got to it: nothing to ask.
            Event::Held if comment.status != Status::Pending => {}
            Event::Held => {
                for to in site.map(|s| s.moderator_emails.as_slice()).unwrap_or(&[]) {
                    let mail = self.moderator_mail(event, &comment, to);
                    out.push(mail_delivery(
                        MODERATOR_EMAIL,
                        &comment,
                        &mail,
                        format!("{MODERATOR_EMAIL}:{}:{to}", event.id),
                    )?);
                }
            }
            Event::Published => {
                if let Some(d) = self.reply_delivery(&comment).await? {
                    out.push(d);
                }
            }
        }
        // Asking for reply e-mails sends a confirmation first.
        if event.action == "post" && comment.notify_replies {
            if let Some(d) = self.confirmation(&comment).await? {
                out.push(d);
            }
        }
        Ok(out)
    }

    /// A link about `comment`; moderation links carry the state the e-mail
    /// is about (held) and the e-mail's nonce.
    pub(super) fn link(
        &self,
        comment: &Comment,
        action: LinkAction,
        nonce: Option<&str>,
        valid_secs: i64,
    ) -> String {
        let link = Link {
            site: comment.site.to_string(),
            comment: comment.id,
            action,
            from: action.moderates().then_some(Status::Pending),
            nonce: nonce.map(str::to_owned),
            expires: now_ms() / 1000 + valid_secs,
        };
        self.inner.links.url(&self.inner.base_url, &link)
    }

    /// The keyed hash an address is subscribed or suppressed under.
    pub(super) fn address_hash(&self, email: &str) -> String {
        self.inner.keys.address_hash(&normalize_email(email))
    }

    /// A confirmation e-mail to the author of `comment`, who asked for
    /// reply e-mails, unless their address is confirmed or suppressed
    /// already, or was sent one within a day.
    pub(super) async fn confirmation(&self, comment: &Comment) -> Result<Option<NewDelivery>> {
        let Some(to) = comment.email.as_deref() else {
            return Ok(None);
        };
        if !comment.notify_replies {
            return Ok(None);
        }
        let store = &self.inner.store;
        let hash = self.address_hash(to);
        if store.subscription(&comment.site, &hash).await?.is_some() {
            return Ok(None);
        }
        let recipient = normalize_email(to);
        let now = now_ms();
        if store
            .mailed_since(
                &comment.site,
                CONFIRM_EMAIL,
                &recipient,
                now - CONFIRM_EVERY_MS,
            )
            .await?
        {
            return Ok(None);
        }
        let mail = self.confirmation_mail(comment, to);
        // Two notifiers racing still send one a day: one row per day key.
        let key = format!(
            "{CONFIRM_EMAIL}:{}:{hash}:{}",
            comment.site,
            now / CONFIRM_EVERY_MS
        );
        mail_delivery(CONFIRM_EMAIL, comment, &mail, key).map(Some)
    }

    /// Holds nothing the poster wrote but the address itself: no name, no
    /// text, no thread (a thread key is the poster's choice too).
    pub(super) fn confirmation_mail(&self, comment: &Comment, to: &str) -> Mail {
        let confirm = self.link(comment, LinkAction::Confirm, None, links::CONFIRM_LINK_SECS);
        let never = self.link(
            comment,
            LinkAction::Unsubscribe,
            None,
            links::UNSUBSCRIBE_LINK_SECS,
        );
        let text = format!(
            "Someone, probably you, asked to be e-mailed at this address when there \
             are replies to their comments on site \"{site}\" ({base}).\n\n\
             To get these e-mails, confirm within 7 days:\n{confirm}\n\n\
             If it was not you, ignore this e-mail: without a confirmation this \
             address gets no reply e-mails.\n\n\
             To never get any e-mail from site \"{site}\" at this address, open:\n{never}\n",
            site = comment.site,
            base = self.inner.base_url,
        );
        Mail {
            to: to.to_owned(),
            subject: format!("[{}] Confirm e-mails about replies", comment.site),
            text,
            unsubscribe: Some(never),
        }
    }

    /// The comment on the server's own thread page.
    pub(super) fn thread_url(&self, c: &Comment) -> String {
        let path = match (SiteId::parse(&c.site), ThreadKey::parse(&c.thread)) {
            (Ok(site), Ok(thread)) => crate::urls::page_path(&site, &thread),
            _ => String::new(),
        };
        format!("{}{path}#comment-{}", self.inner.base_url, c.id)
    }

    pub(super) fn moderator_mail(&self, event: &NotifyEvent, comment: &Comment, to: &str) -> Mail {
        let valid = links::MODERATION_LINK_SECS;
        // One nonce for the three links: the first one used ends them all.
        let nonce = links::fresh_nonce();
        let author = match (&comment.author, &comment.email) {
            (Some(a), Some(e)) => format!("{a} <{e}>"),
            (Some(a), None) => a.to_string(),
            (None, Some(e)) => e.to_string(),
            (None, None) => "anonymous".to_owned(),
        };
        let reasons = parse_reasons(event.reasons.as_deref());
        let why = if reasons.is_empty() {
            String::new()
        } else {
            format!("Why it was held: {}\n", reasons.join("; "))
        };
        let text = format!(
            "A comment on site \"{site}\" is waiting for moderation.\n\n\
             Thread: {thread}\nAuthor: {author}\nWritten: {created}\n{why}\n\
             ----\n{body}\n----\n\n\
             Approve (publish it):\n{approve}\n\n\
             Mark as spam:\n{spam}\n\n\
             Move to the trash:\n{trash}\n\n\
             Each link opens a page with a button that confirms the action. \
             One of them can be used, once, while the comment is still held; \
             the links work for 7 days. After that, use the moderation queue.\n",
            site = comment.site,
            thread = comment.thread,
            created = rfc3339(comment.created),
            body = quote(&comment.body),
            approve = self.link(comment, LinkAction::Approve, Some(&nonce), valid),
            spam = self.link(comment, LinkAction::Spam, Some(&nonce), valid),
            trash = self.link(comment, LinkAction::Trash, Some(&nonce), valid),
        );
        Mail {
            to: to.to_owned(),
            subject: format!(
                "[{}] Comment held for moderation: {}",
                comment.site,
                one_line(&comment.thread, 80)
            ),
            text,
            unsubscribe: None,
        }
    }

    /// The e-mail to the parent's author about a published reply, if they
    /// asked for one, have an address, and are not the replier: the reply
    /// itself when their address is confirmed, else a confirmation (an
    /// opt-in from before confirmations), none when it is suppressed.
    pub(super) async fn reply_delivery(&self, reply: &Comment) -> Result<Option<NewDelivery>> {
        let Some(parent_id) = reply.parent else {
            return Ok(None);
        };
        let Some(parent) = self.inner.store.comment(&reply.site, parent_id).await? else {
            return Ok(None);
        };
        let Some(to) = parent.email.as_deref() else {
            return Ok(None);
        };
        let same_person = reply
            .email
            .as_deref()
            .is_some_and(|e| normalize_email(e) == normalize_email(to));
        if !parent.notify_replies || same_person || parent.status != Status::Published {
            return Ok(None);
        }
        let hash = self.address_hash(to);
        match self.inner.store.subscription(&reply.site, &hash).await? {
            Some(Subscription::Confirmed) => {}
            Some(Subscription::Suppressed) => return Ok(None),
            None => return self.confirmation(&parent).await,
        }
        let mail = self.reply_mail(reply, &parent, to);
        // One notice per reply, however often it is republished.
        let key = format!("{REPLY_EMAIL}:{}", reply.id);
        mail_delivery(REPLY_EMAIL, reply, &mail, key).map(Some)
    }

    pub(super) fn reply_mail(&self, reply: &Comment, parent: &Comment, to: &str) -> Mail {
        let unsubscribe = self.link(
            parent,
            LinkAction::Unsubscribe,
            None,
            links::UNSUBSCRIBE_LINK_SECS,
        );
        let replier = reply.author.as_deref().unwrap_or("Someone");
        let text = format!(
            "Hello {name},\n\n{replier} replied to your comment on \"{thread}\":\n\n\
             ----\n{body}\n----\n\n\
             Your comment:\n> {yours}\n\n\
             Read the thread:\n{thread_url}\n\n\
             You get this e-mail because you asked to be told of replies.\n\
             To stop every e-mail from this site to this address, open:\n{unsubscribe}\n",
            thread_url = self.thread_url(reply),
            name = parent.author.as_deref().unwrap_or("there"),
            thread = reply.thread,
            body = quote(&reply.body),
            yours = one_line(&parent.body, 200),
        );
        Mail {
            to: to.to_owned(),
            subject: format!(
                "[{}] {} replied to your comment",
                reply.site,
                one_line(replier, 60)
            ),
            text,
            unsubscribe: Some(unsubscribe),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Event {
    Held,
    Published,
}

pub(super) fn webhook_payload(event: &NotifyEvent, kind: Event, c: &Comment) -> webhook::Payload {
    webhook::Payload {
        event: match kind {
            Event::Held => "comment.held",
            Event::Published => "comment.published",
        }
        .to_owned(),
        event_id: event.id,
        occurred: rfc3339(event.created),
        action: event.action.clone(),
        site: c.site.to_string(),
        thread: c.thread.to_string(),
        comment_id: c.id,
        parent: c.parent,
        status: c.status.as_str().to_owned(),
        author: c.author.as_deref().map(str::to_owned),
        html: c.html.as_str().to_owned(),
        reasons: parse_reasons(event.reasons.as_deref()),
        created: rfc3339(c.created),
    }
}

pub(super) fn mail_delivery(
    kind: &str,
    c: &Comment,
    mail: &Mail,
    dedupe_key: String,
) -> Result<NewDelivery> {
    Ok(NewDelivery {
        id: crate::clock::new_id(now_ms()),
        comment_id: Some(c.id),
        kind: kind.to_owned(),
        target: mail.to.clone(),
        payload: serde_json::to_string(mail)
            .map_err(|e| Error::internal(format!("e-mail payload: {e}")))?,
        dedupe_key,
        recipient: Some(normalize_email(&mail.to)),
    })
}

pub(super) fn parse_reasons(json: Option<&str>) -> Vec<String> {
    json.and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or_default()
}

/// The comment's text for a plain-text e-mail, cut to a readable length.
pub(super) fn quote(body: &str) -> String {
    let mut out: String = body.chars().take(QUOTE_CHARS).collect();
    if body.chars().count() > QUOTE_CHARS {
        out.push_str(" […]");
    }
    out
}

/// One line of at most `max` characters (for subjects and excerpts).
pub(super) fn one_line(s: &str, max: usize) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > max {
        let mut cut: String = flat.chars().take(max).collect();
        cut.push('…');
        cut
    } else {
        flat
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_one_line_and_bounded() {
        assert_eq!(one_line("a\n\nb  c", 10), "a b c");
        assert_eq!(one_line("abcdef", 3), "abc…");
        assert_eq!(
            quote(&"x".repeat(QUOTE_CHARS + 5)).chars().count(),
            QUOTE_CHARS + 4
        );
    }

    #[test]
    fn reasons_come_from_a_json_array_or_nothing() {
        assert_eq!(parse_reasons(Some("[\"a\",\"b\"]")), ["a", "b"]);
        assert!(parse_reasons(Some("not json")).is_empty());
        assert!(parse_reasons(None).is_empty());
    }
}
