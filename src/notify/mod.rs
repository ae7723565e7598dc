//! Notifications: webhooks and e-mails about comment events, delivered by a
//! background task through a transactional outbox.
//!
//! The service writes an audit row with `notify = 1` in the same
//! transaction as the comment change it records; it knows nothing else
//! about notifications. The [`Notifier`] then works in two steps, both
//! safe to repeat and to run in several servers on one database:
//!
//! 1. **Queue**: for each flagged audit event (oldest first) it works out
//!    the deliveries — the site's webhook, moderator e-mails for a held
//!    comment, a reply e-mail to the parent's author for a published reply
//!    when that address confirmed it wants them, a confirmation e-mail to
//!    an address that asked for reply e-mails and has not confirmed yet —
//!    and in one transaction inserts them into the `outbox` and clears the
//!    flag. A crash before the commit leaves the flag set; one after leaves
//!    the deliveries queued.
//! 2. **Send**: due deliveries are leased (their due time moves forward, so
//!    a crashed sender's rows come back), sent, and marked `sent`, or given
//!    a later due time with exponential backoff, or after the last allowed
//!    attempt kept as `failed` with the last error.
//!
//! A failing receiver therefore never blocks or fails a comment write.
//!
//! Reply e-mails are double opt-in: anyone can type any address into a
//! comment form, so an address gets reply e-mails only after its owner
//! followed the link of a confirmation e-mail (at most one a day per
//! address and site, holding nothing the poster wrote). Unsubscribing puts
//! the address on the site's suppression list: no e-mail of any kind goes
//! to it again, whatever later posts ask.

pub mod email;
pub mod links;
pub mod webhook;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::clock::{now_ms, rfc3339};
use crate::comment::{Comment, SiteId, Status, ThreadKey};
use crate::config::{Config, SiteConfig};
use crate::error::{Error, Result};
use crate::keys::Keys;
use crate::outbox::{Delivery, NewDelivery, NotifyEvent, Subscription};
use crate::service::Colloquy;
use crate::store::{normalize_email, Store};
use email::{Mail, Mailer};
use links::{Link, LinkAction, LinkSigner};

/// Events claimed per transaction.
const EVENT_BATCH: i64 = 100;
/// Event batches per round.
const EVENT_ROUNDS: usize = 20;
/// Deliveries sent per round (concurrently).
const SEND_BATCH: i64 = 32;
/// How long a sender holds a delivery before another may retry it; longer
/// than any attempt can take.
const LEASE_MS: i64 = 120_000;
/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// Comment text quoted in e-mails is cut at this many characters.
const QUOTE_CHARS: usize = 2000;
/// At most one confirmation e-mail per address and site in this time.
const CONFIRM_EVERY_MS: i64 = 86_400_000;

/// Kinds of delivery, as stored.
const WEBHOOK: &str = "webhook";
const MODERATOR_EMAIL: &str = "moderator_email";
const REPLY_EMAIL: &str = "reply_email";
const CONFIRM_EMAIL: &str = "confirm_email";

/// The background notifier.
#[derive(Clone)]
pub struct Notifier {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    config: Arc<Config>,
    base_url: String,
    keys: Arc<Keys>,
    links: LinkSigner,
    http: reqwest::Client,
    mailer: Option<Mailer>,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("base_url", &self.inner.base_url)
            .finish_non_exhaustive()
    }
}

impl Notifier {
    /// A notifier for the service; `base_url` (no trailing slash) starts the
    /// links in e-mails.
    ///
    /// # Errors
    /// Database failure, or an SMTP configuration lettre refuses.
    pub async fn new(colloquy: &Colloquy, base_url: String) -> Result<Notifier> {
        let store = colloquy.store().clone();
        let keys = Arc::new(colloquy.keys().clone());
        let links = keys.link_signer();
        let http = webhook::client().map_err(Error::internal)?;
        let mailer = match &colloquy.config().smtp {
            Some(smtp) => Some(Mailer::new(smtp).map_err(|m| Error::invalid("smtp", m))?),
            None => None,
        };
        Ok(Notifier {
            inner: Arc::new(Inner {
                store,
                config: Arc::new(colloquy.config().clone()),
                base_url,
                keys,
                links,
                http,
                mailer,
            }),
        })
    }

    /// Runs until `stop` turns true (or its sender is dropped): queues new
    /// events and sends due deliveries every poll interval. A round in
    /// progress is abandoned on stop; its leased deliveries come due again.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let poll = self.inner.config.notify.poll_interval;
        loop {
            if *stop.borrow() {
                break;
            }
            tokio::select! {
                _ = stop.changed() => break,
                () = self.round() => {}
            }
            tokio::select! {
                _ = stop.changed() => break,
                () = tokio::time::sleep(poll) => {}
            }
        }
    }

    /// One pass: queue what the new events cause, then send what is due.
    pub async fn round(&self) {
        if let Err(e) = self.queue_events().await {
            tracing::warn!(error = %e, "notifier: queuing events failed; will retry");
        }
        if let Err(e) = self.send_due().await {
            tracing::warn!(error = %e, "notifier: sending failed; will retry");
        }
    }

    /// Turns flagged audit events into outbox rows, a batch per
    /// transaction (at most [`EVENT_ROUNDS`] batches, so sending is not
    /// starved by a flood of events).
    ///
    /// # Errors
    /// Database failure.
    pub async fn queue_events(&self) -> Result<usize> {
        let store = &self.inner.store;
        let mut queued = 0;
        for _ in 0..EVENT_ROUNDS {
            let events = store.events_to_notify(EVENT_BATCH).await?;
            let mut batch = Vec::with_capacity(events.len());
            for event in events {
                let deliveries = self.deliveries_for(&event).await?;
                batch.push((event, deliveries));
            }
            if batch.is_empty() {
                break;
            }
            queued += store.queue_deliveries(&batch, now_ms()).await?;
            if i64::try_from(batch.len()).unwrap_or(0) < EVENT_BATCH {
                break;
            }
        }
        Ok(queued)
    }

    fn site_config(&self, site: &str) -> Option<&SiteConfig> {
        self.inner.config.sites.iter().find(|s| s.id == site)
    }

    /// What one event causes. Reads only; nothing is written here.
    async fn deliveries_for(&self, event: &NotifyEvent) -> Result<Vec<NewDelivery>> {
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
    fn link(
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
    fn address_hash(&self, email: &str) -> String {
        self.inner.keys.address_hash(&normalize_email(email))
    }

    /// A confirmation e-mail to the author of `comment`, who asked for
    /// reply e-mails, unless their address is confirmed or suppressed
    /// already, or was sent one within a day.
    async fn confirmation(&self, comment: &Comment) -> Result<Option<NewDelivery>> {
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
    fn confirmation_mail(&self, comment: &Comment, to: &str) -> Mail {
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
    fn thread_url(&self, c: &Comment) -> String {
        let path = match (SiteId::parse(&c.site), ThreadKey::parse(&c.thread)) {
            (Ok(site), Ok(thread)) => crate::urls::page_path(&site, &thread),
            _ => String::new(),
        };
        format!("{}{path}#comment-{}", self.inner.base_url, c.id)
    }

    fn moderator_mail(&self, event: &NotifyEvent, comment: &Comment, to: &str) -> Mail {
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
    async fn reply_delivery(&self, reply: &Comment) -> Result<Option<NewDelivery>> {
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

    fn reply_mail(&self, reply: &Comment, parent: &Comment, to: &str) -> Mail {
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

    /// Sends every due delivery once (concurrently), recording the outcome.
    ///
    /// # Errors
    /// Database failure.
    pub async fn send_due(&self) -> Result<usize> {
        let now = now_ms();
        let due = self.inner.store.due_deliveries(now, SEND_BATCH).await?;
        let mut attempts = tokio::task::JoinSet::new();
        for d in due {
            if !self.inner.store.lease_delivery(&d, now + LEASE_MS).await? {
                continue; // another sender has it
            }
            let me = self.clone();
            attempts.spawn(async move { me.attempt(d).await });
        }
        let mut sent = 0;
        while let Some(done) = attempts.join_next().await {
            match done {
                Ok(Ok(true)) => sent += 1,
                Ok(Ok(false)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "notifier: recording a delivery failed"),
                Err(e) => tracing::error!(error = %e, "notifier: a delivery task failed"),
            }
        }
        Ok(sent)
    }

    /// Whether a delivery goes to an address that unsubscribed since it
    /// was queued (moderator e-mails go to the configured addresses).
    async fn suppressed(&self, d: &Delivery) -> Result<bool> {
        if !matches!(d.kind.as_str(), REPLY_EMAIL | CONFIRM_EMAIL) {
            return Ok(false);
        }
        let Some(to) = d.recipient.as_deref() else {
            return Ok(false);
        };
        let hash = self.inner.keys.address_hash(to);
        Ok(self.inner.store.subscription(&d.site, &hash).await? == Some(Subscription::Suppressed))
    }

    /// One attempt at a leased delivery; true when delivered.
    async fn attempt(&self, d: Delivery) -> Result<bool> {
        let store = &self.inner.store;
        if self.suppressed(&d).await? {
            store
                .delivery_failed(d.id, "not sent: the address unsubscribed", None)
                .await?;
            return Ok(false);
        }
        let outcome = self.deliver(&d).await;
        match outcome {
            Ok(()) => {
                store.delivery_sent(d.id, now_ms()).await?;
                Ok(true)
            }
            Err(error) => {
                let attempts = d.attempts + 1;
                let max = i64::from(self.inner.config.notify.max_attempts);
                let retry_at = (attempts < max).then(|| now_ms() + self.backoff_ms(attempts));
                tracing::warn!(
                    delivery = d.id, kind = %d.kind, attempts, error = %error,
                    "notification not delivered{}",
                    if retry_at.is_some() { "; will retry" } else { "; giving up" }
                );
                store.delivery_failed(d.id, &error, retry_at).await?;
                Ok(false)
            }
        }
    }

    /// Wait before attempt `attempts + 1`: the initial wait, doubled per
    /// attempt made, at most an hour.
    fn backoff_ms(&self, attempts: i64) -> i64 {
        let initial = self.inner.config.notify.retry_initial;
        let doublings = u32::try_from((attempts - 1).clamp(0, 30)).unwrap_or(30);
        let wait = initial
            .checked_mul(1u32 << doublings)
            .unwrap_or(MAX_BACKOFF)
            .min(MAX_BACKOFF);
        i64::try_from(wait.as_millis()).unwrap_or(i64::MAX)
    }

    async fn deliver(&self, d: &Delivery) -> std::result::Result<(), String> {
        match d.kind.as_str() {
            WEBHOOK => {
                let site = self
                    .site_config(&d.site)
                    .ok_or_else(|| format!("site `{}` is no longer configured", d.site))?;
                let secret = site
                    .webhook_secret
                    .as_deref()
                    .ok_or_else(|| "the site has no webhook_secret any more".to_owned())?;
                let event = serde_json::from_str::<serde_json::Value>(&d.payload)
                    .ok()
                    .and_then(|v| v["event"].as_str().map(str::to_owned))
                    .unwrap_or_default();
                webhook::deliver(
                    &self.inner.http,
                    &d.target,
                    secret,
                    d.id,
                    &event,
                    &d.payload,
                    now_ms(),
                )
                .await
            }
            MODERATOR_EMAIL | REPLY_EMAIL | CONFIRM_EMAIL => {
                let mailer = self
                    .inner
                    .mailer
                    .as_ref()
                    .ok_or_else(|| "no [smtp] server is configured any more".to_owned())?;
                let mail: Mail = serde_json::from_str(&d.payload)
                    .map_err(|e| format!("stored e-mail unreadable: {e}"))?;
                mailer.send(&mail).await
            }
            other => Err(format!("unknown delivery kind `{other}`")),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event {
    Held,
    Published,
}

fn webhook_payload(event: &NotifyEvent, kind: Event, c: &Comment) -> webhook::Payload {
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

fn mail_delivery(kind: &str, c: &Comment, mail: &Mail, dedupe_key: String) -> Result<NewDelivery> {
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

fn parse_reasons(json: Option<&str>) -> Vec<String> {
    json.and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or_default()
}

/// The comment's text for a plain-text e-mail, cut to a readable length.
fn quote(body: &str) -> String {
    let mut out: String = body.chars().take(QUOTE_CHARS).collect();
    if body.chars().count() > QUOTE_CHARS {
        out.push_str(" […]");
    }
    out
}

/// One line of at most `max` characters (for subjects and excerpts).
fn one_line(s: &str, max: usize) -> String {
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
