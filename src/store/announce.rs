//! Changes other servers on the same PostgreSQL database must hear about:
//! each is sent with `pg_notify` inside the transaction that makes it (so
//! it is delivered exactly when the change commits, and never for a change
//! that rolled back), and received by every server's [`ChangeFeed`].
//!
//! The channel is named after the schema (`colloquy_<schema>`), so two
//! deployments in one database do not hear each other. SQLite has no feed:
//! one process owns the file.
//!
//! New comments are not announced: a `NOTIFY` serializes the commits of
//! every transaction that sends one (PostgreSQL takes one lock on the
//! notification queue until the commit is flushed), which made posting
//! 3.3× slower on this machine (pgbench, 8 clients). The counts they change
//! expire within a second anyway.

use sqlx::postgres::PgListener;

use super::{Backend, Result, Store, StoreError};

/// PostgreSQL refuses payloads of 8000 bytes or more.
const MAX_PAYLOAD: usize = 7900;

/// Something another server may hold a stale copy of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A site's settings.
    Site(String),
    /// A thread's state (and so its count).
    Thread {
        /// The site.
        site: String,
        /// The thread key.
        thread: String,
    },
    /// Published counts of threads not named (moderation, erasure, imports).
    Counts,
    /// New deliveries wait in the outbox.
    Outbox,
    /// A feed's own heartbeat (the token tells whose).
    Ping(String),
}

impl Change {
    /// The payload sent: a short JSON array.
    fn payload(&self) -> String {
        let v = match self {
            Change::Site(id) => serde_json::json!(["site", id]),
            Change::Thread { site, thread } => serde_json::json!(["thread", site, thread]),
            Change::Counts => serde_json::json!(["counts"]),
            Change::Outbox => serde_json::json!(["outbox"]),
            Change::Ping(token) => serde_json::json!(["ping", token]),
        };
        let text = v.to_string();
        if text.len() > MAX_PAYLOAD {
            // A key too long to name: everything it could be is dropped.
            return serde_json::json!(["all"]).to_string();
        }
        text
    }

    /// Reads a payload; `None` for one this version does not know, which
    /// the receiver must treat as "anything may have changed".
    fn parse(payload: &str) -> Option<Change> {
        let v: Vec<String> = serde_json::from_str(payload).ok()?;
        match v.as_slice() {
            [k, id] if k == "site" => Some(Change::Site(id.clone())),
            [k, site, thread] if k == "thread" => Some(Change::Thread {
                site: site.clone(),
                thread: thread.clone(),
            }),
            [k] if k == "counts" => Some(Change::Counts),
            [k] if k == "outbox" => Some(Change::Outbox),
            [k, token] if k == "ping" => Some(Change::Ping(token.clone())),
            _ => None,
        }
    }
}

/// What a feed hands on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    /// A change another server (or this one) committed.
    Change(Change),
    /// A payload this version does not know: treat everything as changed.
    Unknown,
}

/// The channel for a schema: an identifier of at most 63 bytes.
pub(super) fn channel_for(schema: &str) -> String {
    let name = format!("colloquy_{schema}");
    if name.len() <= 63 {
        return name;
    }
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(schema.as_bytes());
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("colloquy_{hex}")
}

/// Sends `change` inside the caller's transaction (PostgreSQL only).
pub(super) async fn announce_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    channel: Option<&str>,
    change: &Change,
) -> Result<()> {
    if let Some(channel) = channel {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(channel)
            .bind(change.payload())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

impl Store {
    /// The notification channel of this database, on PostgreSQL.
    pub fn channel(&self) -> Option<&str> {
        self.channel.as_deref()
    }

    /// Sends `change` inside a write transaction of this store.
    pub(super) async fn announce(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        change: &Change,
    ) -> Result<()> {
        announce_in(tx, self.channel(), change).await
    }

    /// Sends `change` on its own (outside any transaction): for wake-ups,
    /// where nothing is lost if it comes late.
    ///
    /// # Errors
    /// Database failure.
    pub async fn announce_now(&self, change: &Change) -> Result<()> {
        if let Some(channel) = self.channel() {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(channel)
                .bind(change.payload())
                .execute(&self.write)
                .await?;
        }
        Ok(())
    }

    /// Starts listening for changes: `None` on SQLite (nothing to hear).
    ///
    /// # Errors
    /// The listening connection cannot be opened.
    pub async fn listen(&self) -> Result<Option<ChangeFeed>> {
        let (Backend::Postgres, Some(channel)) = (self.backend, self.channel.clone()) else {
            return Ok(None);
        };
        let mut listener = PgListener::connect(&self.url)
            .await
            .map_err(|e| StoreError::setup("listening for changes", e))?;
        listener
            .listen(&channel)
            .await
            .map_err(|e| StoreError::setup("listening for changes", e))?;
        Ok(Some(ChangeFeed { listener }))
    }
}

/// One server's subscription to the changes of its database.
pub struct ChangeFeed {
    listener: PgListener,
}

impl std::fmt::Debug for ChangeFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangeFeed").finish_non_exhaustive()
    }
}

impl ChangeFeed {
    /// The next change; `None` when the connection was lost (changes may
    /// have been missed: open a new feed, and treat everything as changed).
    ///
    /// # Errors
    /// The connection failed in another way (treat it as lost too).
    pub async fn next(&mut self) -> Result<Option<Heard>> {
        let got = self
            .listener
            .try_recv()
            .await
            .map_err(|e| StoreError::setup("listening for changes", e))?;
        Ok(got.map(|n| match Change::parse(n.payload()) {
            Some(c) => Heard::Change(c),
            None => Heard::Unknown,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_read_back_and_stay_within_the_limit() {
        for c in [
            Change::Site("default".into()),
            Change::Thread {
                site: "s".into(),
                thread: "a \"quoted\" / key".into(),
            },
            Change::Counts,
            Change::Outbox,
            Change::Ping("x1".into()),
        ] {
            assert_eq!(Change::parse(&c.payload()), Some(c));
        }
        let long = Change::Thread {
            site: "s".into(),
            thread: "k".repeat(10_000),
        };
        assert!(long.payload().len() <= MAX_PAYLOAD);
        assert_eq!(Change::parse(&long.payload()), None, "read as `anything`");
        assert_eq!(Change::parse("garbage"), None);
    }

    #[test]
    fn channels_are_identifiers() {
        assert_eq!(channel_for("public"), "colloquy_public");
        let long = channel_for(&"s".repeat(63));
        assert!(long.len() <= 63, "{long}");
        assert_ne!(long, channel_for(&"t".repeat(63)));
    }
}
