//! Following the changes other servers on the same database make (see
//! `store::announce`): a site's settings, a thread's state and counts are
//! forgotten here as soon as another server commits a change to them, and
//! new outbox rows wake this server's notifier.
//!
//! The memos' expiry stays as the fallback: while the feed is down (lost,
//! reconnecting, or silently dead, which the heartbeat finds out), every
//! memo is emptied when it goes and again when it is back, so nothing
//! cached is older than its expiry.

use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::Colloquy;
use crate::store::{Change, ChangeFeed, Heard};

/// How often the feed checks that it still hears its own heartbeat.
const HEARTBEAT: Duration = Duration::from_secs(2);
/// The longest wait before trying to listen again.
const MAX_RETRY: Duration = Duration::from_secs(5);

/// What the reading task passes on.
enum Event {
    Heard(Heard),
    Lost(String),
}

impl Colloquy {
    /// Applies other servers' changes until the task is aborted; returns at
    /// once on SQLite (one process owns the file).
    pub async fn follow_changes(self) {
        if self.store.channel().is_none() {
            return;
        }
        let mut retry = Duration::from_millis(100);
        loop {
            match self.store.listen().await {
                Ok(Some(feed)) => {
                    // Whatever changed while nobody listened.
                    self.forget_everything();
                    retry = Duration::from_millis(100);
                    let why = self.follow(feed).await;
                    tracing::warn!(
                        reason = %why,
                        "lost the change feed; cached settings and counts dropped, listening again"
                    );
                    self.forget_everything();
                }
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for other servers' changes; will retry");
                }
            }
            tokio::time::sleep(retry).await;
            retry = (retry * 2).min(MAX_RETRY);
        }
    }

    /// Follows one feed until it fails; returns why.
    async fn follow(&self, mut feed: ChangeFeed) -> String {
        // The feed is read in a task of its own, so that waiting for the
        // heartbeat never cancels a read half done.
        let (tx, mut rx) = mpsc::channel(1024);
        let reader = tokio::spawn(async move {
            loop {
                let event = match feed.next().await {
                    Ok(Some(heard)) => Event::Heard(heard),
                    Ok(None) => Event::Lost("the connection closed".to_owned()),
                    Err(e) => Event::Lost(e.to_string()),
                };
                let lost = matches!(event, Event::Lost(_));
                if tx.send(event).await.is_err() || lost {
                    return;
                }
            }
        });
        let mut beat = tokio::time::interval(HEARTBEAT);
        beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut awaiting: Option<(String, Instant)> = None;
        let why = loop {
            tokio::select! {
                event = rx.recv() => match event {
                    Some(Event::Heard(Heard::Change(Change::Ping(token)))) => {
                        if awaiting.as_ref().is_some_and(|(t, _)| *t == token) {
                            awaiting = None;
                        }
                    }
                    Some(Event::Heard(Heard::Change(change))) => self.apply(&change),
                    Some(Event::Heard(Heard::Unknown)) => self.forget_everything(),
                    Some(Event::Lost(why)) => break why,
                    None => break "the reader stopped".to_owned(),
                },
                _ = beat.tick() => {
                    if let Some((_, since)) = &awaiting {
                        if since.elapsed() > 2 * HEARTBEAT {
                            break "no heartbeat heard back".to_owned();
                        }
                        continue;
                    }
                    let token = crate::secret::random_token(12);
                    awaiting = Some((token.clone(), Instant::now()));
                    let store = self.store.clone();
                    // Sent on the side: a busy pool delays the heartbeat,
                    // never the changes already heard.
                    tokio::spawn(async move {
                        let _ = store.announce_now(&Change::Ping(token)).await;
                    });
                }
            }
        };
        reader.abort();
        why
    }

    /// Forgets what `change` made stale.
    fn apply(&self, change: &Change) {
        match change {
            Change::Site(id) => self.sites.forget(id),
            Change::Thread { site, thread } => self.counts.forget(&(site.clone(), thread.clone())),
            Change::Counts => self.counts.clear(),
            Change::Outbox => self.outbox_wake.notify_one(),
            Change::Ping(_) => {}
        }
    }

    /// Forgets every cached setting and count.
    fn forget_everything(&self) {
        self.sites.clear();
        self.counts.clear();
        // New outbox rows may have been announced meanwhile.
        self.outbox_wake.notify_one();
    }
}
