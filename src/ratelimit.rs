//! Rate limits on new comments: per client address and per site, each a
//! token bucket refilled evenly over a minute (GCRA, from `governor`).
//!
//! Limits come from each site's rules and may change at run time: a
//! site's buckets are rebuilt when its quota changes. The whole thing can be
//! switched off (`COLLOQUY_RATE_LIMIT=off`) for load benchmarks.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::{Error, Result};

/// Forget idle client buckets after this many checks, so the table stays
/// the size of the recent clients.
const PRUNE_EVERY: u64 = 4096;

/// The limiters of every site.
pub struct RateLimits {
    enabled: bool,
    sites: Mutex<HashMap<String, Arc<SiteLimiters>>>,
    checks: AtomicU64,
    clock: DefaultClock,
}

struct SiteLimiters {
    ip_quota: u32,
    site_quota: u32,
    per_ip: Option<DefaultKeyedRateLimiter<IpAddr>>,
    per_site: Option<DefaultDirectRateLimiter>,
}

impl SiteLimiters {
    fn new(ip_quota: u32, site_quota: u32) -> SiteLimiters {
        SiteLimiters {
            ip_quota,
            site_quota,
            per_ip: NonZeroU32::new(ip_quota).map(|n| RateLimiter::keyed(Quota::per_minute(n))),
            per_site: NonZeroU32::new(site_quota)
                .map(|n| RateLimiter::direct(Quota::per_minute(n))),
        }
    }
}

impl RateLimits {
    /// Limits that apply (`enabled`) or never refuse.
    pub fn new(enabled: bool) -> RateLimits {
        RateLimits {
            enabled,
            sites: Mutex::new(HashMap::new()),
            checks: AtomicU64::new(0),
            clock: DefaultClock::default(),
        }
    }

    /// Whether limits apply at all.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Takes one new comment from the client's and the site's budgets.
    ///
    /// # Errors
    /// [`Error::RateLimited`] with the wait before a retry can succeed.
    pub fn check_post(
        &self,
        site: &str,
        ip: Option<IpAddr>,
        ip_per_minute: u32,
        site_per_minute: u32,
    ) -> Result<()> {
        if !self.enabled || (ip_per_minute == 0 && site_per_minute == 0) {
            return Ok(());
        }
        let limiters = self.limiters(site, ip_per_minute, site_per_minute);
        if self.checks.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            self.prune();
        }
        if let (Some(per_ip), Some(ip)) = (&limiters.per_ip, ip) {
            if let Err(wait) = per_ip.check_key(&ip) {
                let secs = wait.wait_time_from(self.clock.now()).as_secs() + 1;
                return Err(Error::RateLimited {
                    message: format!(
                        "too many comments from your address: this site takes {ip_per_minute} a minute from one address; try again in {secs} s"
                    ),
                    retry_after_secs: secs,
                });
            }
        }
        if let Some(per_site) = &limiters.per_site {
            if let Err(wait) = per_site.check() {
                let secs = wait.wait_time_from(self.clock.now()).as_secs() + 1;
                return Err(Error::RateLimited {
                    message: format!(
                        "this site is taking too many comments right now ({site_per_minute} a minute); try again in {secs} s"
                    ),
                    retry_after_secs: secs,
                });
            }
        }
        Ok(())
    }

    fn limiters(&self, site: &str, ip_quota: u32, site_quota: u32) -> Arc<SiteLimiters> {
        let mut sites = match self.sites.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        match sites.get(site) {
            Some(l) if l.ip_quota == ip_quota && l.site_quota == site_quota => Arc::clone(l),
            _ => {
                let l = Arc::new(SiteLimiters::new(ip_quota, site_quota));
                sites.insert(site.to_owned(), Arc::clone(&l));
                l
            }
        }
    }

    fn prune(&self) {
        let sites: Vec<Arc<SiteLimiters>> = match self.sites.lock() {
            Ok(g) => g.values().cloned().collect(),
            Err(poisoned) => poisoned.into_inner().values().cloned().collect(),
        };
        for l in sites {
            if let Some(per_ip) = &l.per_ip {
                per_ip.retain_recent();
                per_ip.shrink_to_fit();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> Option<IpAddr> {
        Some(IpAddr::from([192, 0, 2, last]))
    }

    #[test]
    fn each_address_gets_its_own_budget() {
        let limits = RateLimits::new(true);
        for _ in 0..3 {
            assert!(limits.check_post("s", ip(1), 3, 0).is_ok());
        }
        let refused = limits.check_post("s", ip(1), 3, 0);
        match refused {
            Err(Error::RateLimited {
                retry_after_secs, ..
            }) => assert!((1..=21).contains(&retry_after_secs), "{retry_after_secs}"),
            other => panic!("expected a rate limit, got {other:?}"),
        }
        assert!(limits.check_post("s", ip(2), 3, 0).is_ok());
        // Another site has its own buckets.
        assert!(limits.check_post("t", ip(1), 3, 0).is_ok());
    }

    #[test]
    fn the_site_budget_is_shared_by_every_address() {
        let limits = RateLimits::new(true);
        assert!(limits.check_post("s", ip(1), 0, 2).is_ok());
        assert!(limits.check_post("s", ip(2), 0, 2).is_ok());
        assert!(limits.check_post("s", ip(3), 0, 2).is_err());
        assert!(limits.check_post("s", None, 0, 2).is_err());
    }

    #[test]
    fn a_changed_quota_takes_effect_and_off_means_off() {
        let limits = RateLimits::new(true);
        assert!(limits.check_post("s", ip(1), 1, 0).is_ok());
        assert!(limits.check_post("s", ip(1), 1, 0).is_err());
        assert!(limits.check_post("s", ip(1), 5, 0).is_ok());
        let off = RateLimits::new(false);
        for _ in 0..100 {
            assert!(off.check_post("s", ip(1), 1, 1).is_ok());
        }
    }
}
