//! Rate limits on new comments and on previews: per client address and
//! per site, each a token bucket refilled evenly over a minute (GCRA, from
//! `governor`). Previews have budgets of their own, so previewing never
//! uses up the right to post.
//!
//! Comment limits come from each site's rules and may change at run time:
//! a site's buckets are rebuilt when its quota changes. Preview limits are
//! the server's (`limits.ip_previews_per_minute`,
//! `limits.site_previews_per_minute`). The whole thing can be switched off
//! (`COLLOQUY_RATE_LIMIT=off`) for load benchmarks.
//!
//! With several servers on one PostgreSQL database the budgets live in the
//! database instead (`store/limits.rs`, driven by `service/limits.rs`),
//! with the same cells ([`cell`]) and messages; this in-process limiter
//! serves SQLite, whose file one process owns.
//!
//! The table of client buckets is bounded: idle buckets are forgotten as
//! it goes, and a table that still holds [`MAX_ADDRESSES`] busy addresses
//! starts over (an entry and its share of the map's slack are at most
//! some 80 bytes, so one table stays under about 5 MiB however many
//! addresses call).

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

/// Most client addresses one site's table of one kind keeps.
pub const MAX_ADDRESSES: usize = 65_536;

/// The limiters of every site.
pub struct RateLimits {
    enabled: bool,
    posts: Budgets,
    previews: Budgets,
    votes: Budgets,
    logins: Budgets,
    reports: Budgets,
    clock: DefaultClock,
}

/// One kind of budget (comments, previews) for every site.
struct Budgets {
    /// What is counted, for messages: "comments", "previews".
    what: &'static str,
    sites: Mutex<HashMap<String, Arc<SiteLimiters>>>,
    checks: AtomicU64,
}

struct SiteLimiters {
    ip_quota: u32,
    site_quota: u32,
    per_ip: Option<DefaultKeyedRateLimiter<IpAddr>>,
    per_site: Option<Arc<DefaultDirectRateLimiter>>,
}

impl SiteLimiters {
    fn new(ip_quota: u32, site_quota: u32) -> SiteLimiters {
        SiteLimiters {
            ip_quota,
            site_quota,
            per_ip: NonZeroU32::new(ip_quota).map(|n| RateLimiter::keyed(Quota::per_minute(n))),
            per_site: NonZeroU32::new(site_quota)
                .map(|n| Arc::new(RateLimiter::direct(Quota::per_minute(n)))),
        }
    }
}

impl Budgets {
    fn new(what: &'static str) -> Budgets {
        Budgets {
            what,
            sites: Mutex::new(HashMap::new()),
            checks: AtomicU64::new(0),
        }
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

    /// Keeps a site's table of addresses under [`MAX_ADDRESSES`]: first by
    /// forgetting the idle ones; if most are busy (a flood from that many
    /// addresses), by starting the table over, which costs the flood's
    /// addresses their spent budgets, never anybody's right to be served.
    /// The site's own bucket carries over.
    fn bound(&self, site: &str, limiters: Arc<SiteLimiters>) -> Arc<SiteLimiters> {
        let Some(per_ip) = &limiters.per_ip else {
            return limiters;
        };
        if per_ip.len() < MAX_ADDRESSES {
            return limiters;
        }
        per_ip.retain_recent();
        per_ip.shrink_to_fit();
        if per_ip.len() < MAX_ADDRESSES / 2 {
            return limiters;
        }
        tracing::warn!(
            site,
            addresses = per_ip.len(),
            "the table of {} rate limits is full of busy addresses; starting it over",
            self.what
        );
        let fresh = Arc::new(SiteLimiters {
            ip_quota: limiters.ip_quota,
            site_quota: limiters.site_quota,
            per_ip: NonZeroU32::new(limiters.ip_quota)
                .map(|n| RateLimiter::keyed(Quota::per_minute(n))),
            per_site: limiters.per_site.clone(),
        });
        let mut sites = match self.sites.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        sites.insert(site.to_owned(), Arc::clone(&fresh));
        fresh
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

impl RateLimits {
    /// Limits that apply (`enabled`) or never refuse.
    pub fn new(enabled: bool) -> RateLimits {
        RateLimits {
            enabled,
            posts: Budgets::new("comments"),
            previews: Budgets::new("previews"),
            votes: Budgets::new("votes"),
            logins: Budgets::new("logins"),
            reports: Budgets::new("reports"),
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
        self.check(&self.posts, site, ip, ip_per_minute, site_per_minute)
    }

    /// Takes one preview from the client's and the site's preview budgets
    /// (separate from the comment budgets).
    ///
    /// # Errors
    /// [`Error::RateLimited`] with the wait before a retry can succeed.
    pub fn check_preview(
        &self,
        site: &str,
        ip: Option<IpAddr>,
        ip_per_minute: u32,
        site_per_minute: u32,
    ) -> Result<()> {
        self.check(&self.previews, site, ip, ip_per_minute, site_per_minute)
    }

    /// Takes one vote from the client's and the site's vote budgets.
    ///
    /// # Errors
    /// [`Error::RateLimited`] with the wait before a retry can succeed.
    pub fn check_vote(
        &self,
        site: &str,
        ip: Option<IpAddr>,
        ip_per_minute: u32,
        site_per_minute: u32,
    ) -> Result<()> {
        self.check(&self.votes, site, ip, ip_per_minute, site_per_minute)
    }

    /// Takes one login attempt from the client's budget.
    ///
    /// # Errors
    /// [`Error::RateLimited`] with the wait before a retry can succeed.
    pub fn check_login(&self, site: &str, ip: Option<IpAddr>, ip_per_minute: u32) -> Result<()> {
        self.check(&self.logins, site, ip, ip_per_minute, 0)
    }

    /// Takes one report from the client's and the site's report budgets
    /// (the site's comment quotas, counted apart from comments).
    ///
    /// # Errors
    /// [`Error::RateLimited`] with the wait before a retry can succeed.
    pub fn check_report(
        &self,
        site: &str,
        ip: Option<IpAddr>,
        ip_per_minute: u32,
        site_per_minute: u32,
    ) -> Result<()> {
        self.check(&self.reports, site, ip, ip_per_minute, site_per_minute)
    }

    /// Client addresses held in one site's table of `kind` ("comments",
    /// "previews"), for tests.
    pub fn addresses(&self, kind: &str, site: &str) -> usize {
        let budgets = if kind == self.previews.what {
            &self.previews
        } else if kind == self.reports.what {
            &self.reports
        } else {
            &self.posts
        };
        let sites = match budgets.sites.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        sites
            .get(site)
            .and_then(|l| l.per_ip.as_ref())
            .map_or(0, DefaultKeyedRateLimiter::len)
    }

    fn check(
        &self,
        budgets: &Budgets,
        site: &str,
        ip: Option<IpAddr>,
        ip_per_minute: u32,
        site_per_minute: u32,
    ) -> Result<()> {
        if !self.enabled || (ip_per_minute == 0 && site_per_minute == 0) {
            return Ok(());
        }
        let what = budgets.what;
        let limiters = budgets.limiters(site, ip_per_minute, site_per_minute);
        if budgets.checks.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            budgets.prune();
        }
        let limiters = budgets.bound(site, limiters);
        if let (Some(per_ip), Some(ip)) = (&limiters.per_ip, ip) {
            if let Err(wait) = per_ip.check_key(&ip) {
                let secs = wait.wait_time_from(self.clock.now()).as_secs() + 1;
                return Err(too_many_from_address(what, ip_per_minute, secs));
            }
        }
        if let Some(per_site) = &limiters.per_site {
            if let Err(wait) = per_site.check() {
                let secs = wait.wait_time_from(self.clock.now()).as_secs() + 1;
                return Err(too_many_for_site(what, site_per_minute, secs));
            }
        }
        Ok(())
    }
}

/// What a budget counts, as its messages name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    /// New comments.
    Comments,
    /// Previews.
    Previews,
    /// Votes.
    Votes,
    /// Login attempts of moderator accounts.
    Logins,
    /// Reader reports.
    Reports,
}

impl Budget {
    /// The plural noun of the messages, also the prefix of shared buckets.
    pub fn what(self) -> &'static str {
        match self {
            Budget::Comments => "comments",
            Budget::Previews => "previews",
            Budget::Votes => "votes",
            Budget::Logins => "logins",
            Budget::Reports => "reports",
        }
    }
}

/// The GCRA cell of a budget of `per_minute` (at least 1): one token per
/// interval, bursts of the whole minute's budget; in microseconds.
pub fn cell(per_minute: u32) -> (i64, i64) {
    let n = i64::from(per_minute.max(1));
    let interval = 60_000_000 / n;
    (interval, interval * n)
}

/// The refusal when one address has spent its budget.
pub fn too_many_from_address(what: &str, per_minute: u32, secs: u64) -> Error {
    Error::RateLimited {
        message: format!(
            "too many {what} from your address: this site takes {per_minute} a minute from one address; try again in {secs} s"
        ),
        retry_after_secs: secs,
    }
}

/// The refusal when the whole site has spent its budget.
pub fn too_many_for_site(what: &str, per_minute: u32, secs: u64) -> Error {
    Error::RateLimited {
        message: format!(
            "this site is taking too many {what} right now ({per_minute} a minute); try again in {secs} s"
        ),
        retry_after_secs: secs,
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

    #[test]
    fn previews_have_budgets_of_their_own() {
        let limits = RateLimits::new(true);
        assert!(limits.check_preview("s", ip(1), 2, 0).is_ok());
        assert!(limits.check_preview("s", ip(1), 2, 0).is_ok());
        match limits.check_preview("s", ip(1), 2, 0) {
            Err(Error::RateLimited { message, .. }) => {
                assert!(message.contains("previews"), "{message}");
            }
            other => panic!("expected a rate limit, got {other:?}"),
        }
        // Posting from the same address is untouched by previewing.
        assert!(limits.check_post("s", ip(1), 2, 0).is_ok());
        assert!(limits.check_post("s", ip(1), 2, 0).is_ok());
        assert!(limits.check_post("s", ip(1), 2, 0).is_err());
    }

    #[test]
    fn the_address_table_stays_bounded_under_a_flood_of_addresses() {
        let limits = RateLimits::new(true);
        // Busy addresses (each with one preview spent) from a whole /16
        // and more: more than the table keeps.
        let flood = MAX_ADDRESSES + MAX_ADDRESSES / 2;
        for i in 0..flood {
            let n = u32::try_from(i).unwrap_or(u32::MAX);
            let addr = IpAddr::from(std::net::Ipv6Addr::from(u128::from(n) | (1 << 100)));
            let _ = limits.check_preview("s", Some(addr), 1, 0);
            assert!(limits.addresses("previews", "s") <= MAX_ADDRESSES);
        }
        assert!(limits.addresses("previews", "s") > 0);
        // The flood cost no one else their service.
        assert!(limits.check_preview("s", ip(9), 1, 0).is_ok());
    }
}
