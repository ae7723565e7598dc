//! Node numbers for the servers sharing one database: each live server
//! holds one (renewed while it runs), so the ids it makes cannot be made
//! by another.

use super::{Result, Store};
use crate::clock::NODES;

/// What a server stores of its settings beside its node number.
#[derive(Debug, Clone, Copy)]
pub struct InstanceFingerprint<'a> {
    /// The formats and their versions.
    pub policies: &'a str,
    /// The hash of the notification settings.
    pub notifications: &'a str,
}

/// Another live server on the database.
#[derive(Debug, Clone)]
pub struct Peer {
    /// Its node number.
    pub node: u16,
    /// When it last renewed its claim (ms since the epoch).
    pub heartbeat: i64,
    /// Its formats and their versions (empty: not stored).
    pub policies: String,
    /// Its notification settings' hash (empty: not stored).
    pub notifications: String,
}

impl Store {
    /// Claims the lowest node number nobody holds, or whose holder has not
    /// renewed it for `lease_ms`, and stores the claimant's fingerprint
    /// with it. `None` when every number is held.
    ///
    /// # Errors
    /// Database failure.
    pub async fn claim_node(
        &self,
        holder: &str,
        fingerprint: &InstanceFingerprint<'_>,
        now: i64,
        lease_ms: i64,
    ) -> Result<Option<u16>> {
        for node in 0..NODES {
            // One statement: a number is taken by exactly one claimant even
            // when servers start together.
            let done = sqlx::query(
                "INSERT INTO instances (node, holder, heartbeat, policies, notifications) \
                 VALUES ($1, $2, $3, $5, $6) \
                 ON CONFLICT (node) DO UPDATE SET holder = excluded.holder, heartbeat = excluded.heartbeat, \
                 policies = excluded.policies, notifications = excluded.notifications \
                 WHERE instances.heartbeat < $4",
            )
            .bind(i32::from(node))
            .bind(holder)
            .bind(now)
            .bind(now - lease_ms)
            .bind(fingerprint.policies)
            .bind(fingerprint.notifications)
            .execute(&self.write)
            .await?;
            if done.rows_affected() == 1 {
                return Ok(Some(node));
            }
        }
        Ok(None)
    }

    /// The other servers holding a node number renewed since `since`:
    /// their node and fingerprint.
    ///
    /// # Errors
    /// Database failure.
    pub async fn live_peers(&self, holder: &str, since: i64) -> Result<Vec<Peer>> {
        let rows: Vec<(i32, i64, String, String)> = sqlx::query_as(
            "SELECT node, heartbeat, policies, notifications FROM instances \
             WHERE holder <> $1 AND heartbeat >= $2 ORDER BY node",
        )
        .bind(holder)
        .bind(since)
        .fetch_all(&self.write)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(node, heartbeat, policies, notifications)| Peer {
                node: u16::try_from(node).unwrap_or(u16::MAX),
                heartbeat,
                policies,
                notifications,
            })
            .collect())
    }

    /// Renews a claim; false when the number has passed to another holder
    /// (this one stopped renewing for longer than the lease).
    ///
    /// # Errors
    /// Database failure.
    pub async fn renew_node(&self, node: u16, holder: &str, now: i64) -> Result<bool> {
        let done =
            sqlx::query("UPDATE instances SET heartbeat = $1 WHERE node = $2 AND holder = $3")
                .bind(now)
                .bind(i32::from(node))
                .bind(holder)
                .execute(&self.write)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives a number back (at shutdown), so a restart can take it at once.
    ///
    /// # Errors
    /// Database failure.
    pub async fn release_node(&self, node: u16, holder: &str) -> Result<()> {
        sqlx::query("DELETE FROM instances WHERE node = $1 AND holder = $2")
            .bind(i32::from(node))
            .bind(holder)
            .execute(&self.write)
            .await?;
        Ok(())
    }
}
