//! Spending rate-limit budgets: in the database when servers may share it
//! (PostgreSQL), so alternating between servers or restarting one does not
//! multiply anybody's budget; in process on SQLite, whose file one process
//! owns.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use super::Colloquy;
use crate::clock::now_ms;
use crate::error::Result;
use crate::ratelimit::{self, Budget};
use crate::store::Backend;

/// Forget full buckets every this many spends (per server).
const FORGET_EVERY: u64 = 4096;

static SPENDS: AtomicU64 = AtomicU64::new(0);

impl Colloquy {
    /// Takes one unit of `budget` from the person's and from the site's
    /// allowance (a quota of 0 is no limit).
    ///
    /// # Errors
    /// [`crate::error::Error::RateLimited`] with the wait before a retry
    /// can succeed; a database failure.
    pub(super) async fn spend(
        &self,
        budget: Budget,
        site: &str,
        person: Option<IpAddr>,
        per_person: u32,
        per_site: u32,
    ) -> Result<()> {
        if !self.limits.enabled() || (per_person == 0 && per_site == 0) {
            return Ok(());
        }
        if self.store.backend() != Backend::Postgres {
            return match budget {
                Budget::Comments => self.limits.check_post(site, person, per_person, per_site),
                Budget::Previews => self
                    .limits
                    .check_preview(site, person, per_person, per_site),
                Budget::Votes => self.limits.check_vote(site, person, per_person, per_site),
                Budget::Logins => self.limits.check_login(site, person, per_person),
                Budget::Reports => self.limits.check_report(site, person, per_person, per_site),
            };
        }
        let now_us = now_ms().saturating_mul(1000);
        // A bucket is named with its quota, so a changed quota starts
        // afresh (as the in-process limiter does) instead of inheriting a
        // debt measured at another rate.
        let what = budget.what();
        if let (Some(ip), true) = (person, per_person > 0) {
            let (interval, burst) = ratelimit::cell(per_person);
            let bucket = format!("{what}|{site}|{per_person}|{ip}");
            if let Some(wait) = self
                .store
                .take_token(&bucket, now_us, interval, burst)
                .await?
            {
                return Err(ratelimit::too_many_from_address(
                    what,
                    per_person,
                    secs(wait),
                ));
            }
        }
        if per_site > 0 {
            let (interval, burst) = ratelimit::cell(per_site);
            let bucket = format!("{what}|{site}|{per_site}");
            if let Some(wait) = self
                .store
                .take_token(&bucket, now_us, interval, burst)
                .await?
            {
                return Err(ratelimit::too_many_for_site(what, per_site, secs(wait)));
            }
        }
        if SPENDS.fetch_add(1, Ordering::Relaxed) % FORGET_EVERY == FORGET_EVERY - 1 {
            let store = self.store.clone();
            tokio::spawn(async move {
                if let Err(e) = store.forget_full_buckets(now_us).await {
                    tracing::warn!(error = %e, "forgetting full rate-limit buckets failed");
                }
            });
        }
        Ok(())
    }
}

/// Whole seconds to wait, rounded up, at least one.
fn secs(wait_us: i64) -> u64 {
    u64::try_from(wait_us / 1_000_000 + 1).unwrap_or(1)
}
