//! Node numbers for the servers sharing one database: each live server
//! holds one (renewed while it runs), so the ids it makes cannot be made
//! by another.

use super::{Result, Store};
use crate::clock::NODES;

impl Store {
    /// Claims the lowest node number nobody holds, or whose holder has not
    /// renewed it for `lease_ms`. `None` when every number is held.
    ///
    /// # Errors
    /// Database failure.
    pub async fn claim_node(&self, holder: &str, now: i64, lease_ms: i64) -> Result<Option<u16>> {
        for node in 0..NODES {
            // One statement: a number is taken by exactly one claimant even
            // when servers start together.
            let done = sqlx::query(
                "INSERT INTO instances (node, holder, heartbeat) VALUES ($1, $2, $3) \
                 ON CONFLICT (node) DO UPDATE SET holder = excluded.holder, heartbeat = excluded.heartbeat \
                 WHERE instances.heartbeat < $4",
            )
            .bind(i32::from(node))
            .bind(holder)
            .bind(now)
            .bind(now - lease_ms)
            .execute(&self.write)
            .await?;
            if done.rows_affected() == 1 {
                return Ok(Some(node));
            }
        }
        Ok(None)
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
