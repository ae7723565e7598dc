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

mod compose;
pub mod email;
pub mod links;
pub mod webhook;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::clock::now_ms;
use crate::config::{Config, SiteConfig};
use crate::error::{Error, Result};
use crate::keys::Keys;
use crate::outbox::{Delivery, Subscription};
use crate::service::Colloquy;
use crate::store::Store;
use email::{Mail, Mailer};
use links::LinkSigner;

/// Events claimed per transaction.
const EVENT_BATCH: i64 = 100;
/// Event batches per round.
const EVENT_ROUNDS: usize = 20;
/// Most deliveries taken per round (then events are queued again).
const SEND_ROUND: usize = 4096;
/// Delivered rows recorded per statement.
const SENT_BATCH: usize = 64;
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
    /// Woken by new events here and new outbox rows on any server.
    wake: Arc<tokio::sync::Notify>,
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
                wake: colloquy.outbox_wake(),
            }),
        })
    }

    /// Runs until `stop` turns true (or its sender is dropped): queues new
    /// events and sends due deliveries, round after round while there is
    /// work, then waits for a wake-up (a new event here, new outbox rows
    /// announced by any server) or the poll interval (retries coming due).
    /// A round in progress is abandoned on stop; its leased deliveries come
    /// due again.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let poll = self.inner.config.notify.poll_interval;
        loop {
            if *stop.borrow() {
                break;
            }
            let busy = tokio::select! {
                _ = stop.changed() => break,
                busy = self.round() => busy,
            };
            if busy {
                continue;
            }
            tokio::select! {
                _ = stop.changed() => break,
                () = self.inner.wake.notified() => {}
                () = tokio::time::sleep(poll) => {}
            }
        }
    }

    /// One pass: queue what the new events cause, then send what is due.
    /// True when it found work (there may be more).
    pub async fn round(&self) -> bool {
        let queued = match self.queue_events().await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "notifier: queuing events failed; will retry");
                0
            }
        };
        let sent = match self.send_due().await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "notifier: sending failed; will retry");
                0
            }
        };
        queued > 0 || sent > 0
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

    /// Sends the due deliveries (at most [`SEND_ROUND`]), `concurrency`
    /// at a time, recording each outcome; returns how many were taken.
    /// Deliveries are claimed as slots free up (half the slots at a time),
    /// so a slow receiver holds one slot, not the round; delivered rows
    /// are recorded [`SENT_BATCH`] per statement.
    ///
    /// # Errors
    /// Database failure.
    pub async fn send_due(&self) -> Result<usize> {
        let store = &self.inner.store;
        let slots = usize::try_from(self.inner.config.notify.concurrency)
            .unwrap_or(1)
            .max(1);
        let mut attempts = tokio::task::JoinSet::new();
        let mut sent = Vec::with_capacity(SENT_BATCH);
        let mut taken = 0;
        let mut outcome = Ok(());
        while taken < SEND_ROUND {
            while attempts.len() > slots / 2 {
                self.settle(attempts.join_next().await, &mut sent).await;
            }
            let want = (slots - attempts.len()).min(SEND_ROUND - taken);
            let now = now_ms();
            let claimed = match store
                .claim_deliveries(now, now + LEASE_MS, i64::try_from(want).unwrap_or(1))
                .await
            {
                Ok(c) => c,
                Err(e) => {
                    outcome = Err(e.into());
                    break;
                }
            };
            if claimed.is_empty() {
                break;
            }
            taken += claimed.len();
            for d in claimed {
                let me = self.clone();
                attempts.spawn(async move { me.attempt(d).await });
            }
        }
        while !attempts.is_empty() {
            self.settle(attempts.join_next().await, &mut sent).await;
        }
        self.record_sent(&mut sent).await;
        outcome.map(|()| taken)
    }

    /// Takes in one finished attempt; records delivered rows a batch at a
    /// time.
    async fn settle(
        &self,
        done: Option<std::result::Result<Result<Option<i64>>, tokio::task::JoinError>>,
        sent: &mut Vec<i64>,
    ) {
        match done {
            Some(Ok(Ok(Some(id)))) => sent.push(id),
            Some(Ok(Ok(None))) | None => {}
            Some(Ok(Err(e))) => tracing::warn!(error = %e, "notifier: recording a delivery failed"),
            Some(Err(e)) => tracing::error!(error = %e, "notifier: a delivery task failed"),
        }
        if sent.len() >= SENT_BATCH {
            self.record_sent(sent).await;
        }
    }

    /// Marks delivered rows as sent. If that fails they are sent again
    /// when their lease ends (at least once, as before).
    async fn record_sent(&self, sent: &mut Vec<i64>) {
        if sent.is_empty() {
            return;
        }
        if let Err(e) = self.inner.store.deliveries_sent(sent, now_ms()).await {
            tracing::warn!(error = %e, rows = sent.len(), "notifier: recording deliveries failed");
        }
        sent.clear();
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

    /// One attempt at a leased delivery; its id when delivered (the
    /// caller records it), else the failure is recorded here.
    async fn attempt(&self, d: Delivery) -> Result<Option<i64>> {
        let store = &self.inner.store;
        if self.suppressed(&d).await? {
            store
                .delivery_failed(d.id, "not sent: the address unsubscribed", None)
                .await?;
            return Ok(None);
        }
        let outcome = self.deliver(&d).await;
        match outcome {
            Ok(()) => Ok(Some(d.id)),
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
                Ok(None)
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
