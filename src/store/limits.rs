//! Rate-limit buckets in the database, so that every server on one
//! PostgreSQL database spends from the same budgets, and a restart does not
//! refill them.
//!
//! Each bucket is a GCRA cell: `tat_us` is the theoretical arrival time of
//! the next request. Taking a token is one upsert that moves `tat_us` on by
//! one interval only if the result stays within the burst; a refusal
//! changes nothing.

use sqlx::Row;

use super::{Result, Store};

impl Store {
    /// Takes one token from `bucket` at `now_us`, for a budget of one token
    /// per `interval_us` with bursts up to `burst_us` ahead of now. Returns
    /// `None` when taken, or the wait in microseconds until one would be.
    ///
    /// # Errors
    /// Database failure.
    pub async fn take_token(
        &self,
        bucket: &str,
        now_us: i64,
        interval_us: i64,
        burst_us: i64,
    ) -> Result<Option<i64>> {
        let taken = sqlx::query(
            "INSERT INTO rate_limits (bucket, tat_us) VALUES ($1, $2 + $3) \
             ON CONFLICT (bucket) DO UPDATE SET tat_us = \
               (CASE WHEN rate_limits.tat_us > $2 THEN rate_limits.tat_us ELSE $2 END) + $3 \
             WHERE (CASE WHEN rate_limits.tat_us > $2 THEN rate_limits.tat_us ELSE $2 END) + $3 - $2 <= $4 \
             RETURNING tat_us",
        )
        .bind(bucket)
        .bind(now_us)
        .bind(interval_us)
        .bind(burst_us)
        .fetch_optional(&self.write)
        .await?;
        if taken.is_some() {
            return Ok(None);
        }
        let row = sqlx::query("SELECT tat_us FROM rate_limits WHERE bucket = $1")
            .bind(bucket)
            .fetch_optional(&self.write)
            .await?;
        let tat: i64 = match row {
            Some(r) => r.try_get("tat_us")?,
            // Forgotten in between: the next try will be taken.
            None => return Ok(Some(0)),
        };
        Ok(Some((tat + interval_us - now_us - burst_us).max(0)))
    }

    /// Forgets buckets that are full again (nothing spent in them is still
    /// owed), so the table holds only the recent callers.
    ///
    /// # Errors
    /// Database failure.
    pub async fn forget_full_buckets(&self, now_us: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM rate_limits WHERE tat_us < $1")
            .bind(now_us)
            .execute(&self.write)
            .await?;
        Ok(done.rows_affected())
    }
}
