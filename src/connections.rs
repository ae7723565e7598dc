//! What keeps client connections from outlasting or crowding out the
//! service: caps on open connections (in all and per address), a watchdog
//! that closes connections idle too long (silent from the start, or idle
//! between requests), and a calm accept loop when file descriptors run out.

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Caps on open connections: in all, and from one address.
#[derive(Debug)]
pub struct ConnectionLimits {
    total: usize,
    per_ip: usize,
    /// Trusted proxies carry many people's connections: no per-address cap.
    proxies: crate::net::TrustedProxies,
    /// An IPv6 client is one person per network of this many bits.
    v6_prefix: u8,
    open: Mutex<Open>,
}

#[derive(Debug, Default)]
struct Open {
    total: usize,
    /// Only addresses with a connection open: at most `total` entries.
    by_ip: HashMap<IpAddr, usize>,
}

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// `total` connections are open.
    Full,
    /// That address has its share open.
    AddressFull,
}

/// One admitted connection; frees its place when dropped.
#[derive(Debug)]
pub struct Slot {
    limits: Arc<ConnectionLimits>,
    ip: IpAddr,
}

impl ConnectionLimits {
    /// At most `total` connections, `per_ip` from one address (0: no
    /// per-address cap; an IPv6 address counts by its /`v6_prefix` network,
    /// and trusted `proxies` have no per-address cap).
    pub fn new(
        total: usize,
        per_ip: usize,
        proxies: crate::net::TrustedProxies,
        v6_prefix: u8,
    ) -> Arc<ConnectionLimits> {
        Arc::new(ConnectionLimits {
            total: total.max(1),
            per_ip,
            proxies,
            v6_prefix,
            open: Mutex::new(Open::default()),
        })
    }

    /// The cap on all connections.
    pub fn total(&self) -> usize {
        self.total
    }

    /// Takes a place for a connection from `ip`, if there is one.
    ///
    /// # Errors
    /// [`Refused`] when a cap is reached.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Slot, Refused> {
        let capped = self.per_ip > 0 && !self.proxies.contains(ip);
        let ip = crate::net::person(ip, self.v6_prefix);
        let mut open = lock(&self.open);
        if open.total >= self.total {
            return Err(Refused::Full);
        }
        let mine = open.by_ip.get(&ip).copied().unwrap_or(0);
        if capped && mine >= self.per_ip {
            return Err(Refused::AddressFull);
        }
        open.total += 1;
        open.by_ip.insert(ip, mine + 1);
        Ok(Slot {
            limits: Arc::clone(self),
            ip,
        })
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        lock(&self.open).total
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = lock(&self.limits.open);
        open.total = open.total.saturating_sub(1);
        if let Some(n) = open.by_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.by_ip.remove(&self.ip);
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What a connection has been doing, for its idle watchdog: when it last
/// moved a byte, whether the client ever sent one, and how many of its
/// requests are being handled.
#[derive(Debug)]
pub struct Activity {
    started: Instant,
    /// Milliseconds after `started` of the last byte moved.
    last_ms: AtomicU64,
    heard: AtomicBool,
    in_flight: AtomicUsize,
}

impl Activity {
    /// A connection opened now.
    pub fn new() -> Arc<Activity> {
        Arc::new(Activity {
            started: Instant::now(),
            last_ms: AtomicU64::new(0),
            heard: AtomicBool::new(false),
            in_flight: AtomicUsize::new(0),
        })
    }

    fn touch(&self) {
        let ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    /// Marks a request as being handled until the guard is dropped; a
    /// connection is never idle while it has one (a long render sends no
    /// bytes).
    pub fn request(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(Arc::clone(self))
    }

    /// Resolves once the connection has been idle too long: no byte from
    /// the client within `first_byte` of opening, or, later, no byte either
    /// way and no request in hand for `keep_alive`.
    pub async fn idle(&self, first_byte: Duration, keep_alive: Duration) {
        loop {
            let limit = if self.heard.load(Ordering::Relaxed) {
                keep_alive
            } else {
                first_byte
            };
            let last = self.started + Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
            let deadline = last + limit;
            if self.in_flight.load(Ordering::Relaxed) > 0 {
                // Busy: look again after a full period.
                tokio::time::sleep(limit).await;
                continue;
            }
            if Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep_until(deadline.into()).await;
        }
    }
}

/// A request being handled (see [`Activity::request`]).
#[derive(Debug)]
pub struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
        // The idle period starts when the answer is done, not when the
        // request's last byte came in.
        self.0.touch();
    }
}

/// A socket that records its traffic in an [`Activity`].
#[derive(Debug)]
pub struct Watched<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S> Watched<S> {
    /// Watches `inner`.
    pub fn new(inner: S, activity: Arc<Activity>) -> Watched<S> {
        Watched { inner, activity }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.heard.store(true, Ordering::Relaxed);
            self.activity.touch();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// How the accept loop waits after a failed accept (out of file
/// descriptors, mostly): a short pause that doubles while failures go on,
/// and one log line per interval instead of one per failure.
#[derive(Debug)]
pub struct AcceptBackoff {
    pause: Duration,
    log: LogEvery,
}

/// Shortest and longest pause after a failed accept.
const PAUSE_MIN: Duration = Duration::from_millis(10);
const PAUSE_MAX: Duration = Duration::from_secs(1);

impl AcceptBackoff {
    /// Logs at most once per `interval`.
    pub fn new(interval: Duration) -> AcceptBackoff {
        AcceptBackoff {
            pause: PAUSE_MIN,
            log: LogEvery::new(interval),
        }
    }

    /// A failure at `now`: how long to pause, and, when a line is due, how
    /// many failures it reports (this one and those not logged before).
    pub fn failed(&mut self, now: Instant) -> (Duration, Option<u64>) {
        let pause = self.pause;
        self.pause = (self.pause * 2).min(PAUSE_MAX);
        (pause, self.log.event(now))
    }

    /// An accept succeeded: the next failure starts from a short pause.
    pub fn succeeded(&mut self) {
        self.pause = PAUSE_MIN;
    }
}

/// Counts events and says when one log line (with the count) is due: the
/// first event, then at most once per interval.
#[derive(Debug)]
pub struct LogEvery {
    interval: Duration,
    last: Option<Instant>,
    unlogged: u64,
}

impl LogEvery {
    /// At most one line per `interval`.
    pub fn new(interval: Duration) -> LogEvery {
        LogEvery {
            interval,
            last: None,
            unlogged: 0,
        }
    }

    /// An event at `now`; `Some(n)` when a line reporting `n` events is due.
    pub fn event(&mut self, now: Instant) -> Option<u64> {
        self.unlogged += 1;
        let due = self
            .last
            .is_none_or(|last| now.duration_since(last) >= self.interval);
        if !due {
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.unlogged))
    }
}

/// File descriptors kept free for everything that is not a client
/// connection: database connections, the listener, log and data files.
const FD_RESERVE: u64 = 64;

/// Raises the soft limit on open files to the hard limit, and returns how
/// many client connections fit under it with room for everything else, if
/// that is fewer than `wanted`.
pub fn fit_to_fd_limit(wanted: usize) -> usize {
    let soft = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read or raise the open-file limit");
            return wanted;
        }
    };
    // With a tiny limit, half of it still goes to clients.
    let room = soft.saturating_sub(FD_RESERVE.min(soft / 2));
    let fits = usize::try_from(room).unwrap_or(usize::MAX).max(1);
    if fits < wanted {
        tracing::warn!(
            open_files = soft,
            max_connections = fits,
            configured = wanted,
            "the open-file limit is low: serving at most {fits} connections; raise it (ulimit -n) for more"
        );
        return fits;
    }
    wanted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, last])
    }

    #[test]
    fn caps_hold_and_places_come_back() {
        let limits = ConnectionLimits::new(3, 2, crate::net::TrustedProxies::none(), 64);
        let a1 = limits.admit(ip(1)).expect("first");
        let _a2 = limits.admit(ip(1)).expect("second");
        assert_eq!(limits.admit(ip(1)).err(), Some(Refused::AddressFull));
        let _b1 = limits.admit(ip(2)).expect("other address");
        assert_eq!(limits.admit(ip(3)).err(), Some(Refused::Full));
        drop(a1);
        assert_eq!(limits.open(), 2);
        assert!(limits.admit(ip(1)).is_ok());
    }

    #[test]
    fn no_per_address_cap_when_zero() {
        let limits = ConnectionLimits::new(10, 0, crate::net::TrustedProxies::none(), 64);
        let slots: Vec<Slot> = (0..10).filter_map(|_| limits.admit(ip(1)).ok()).collect();
        assert_eq!(slots.len(), 10);
        drop(slots);
        assert!(
            lock(&limits.open).by_ip.is_empty(),
            "no address left behind"
        );
    }

    #[test]
    fn an_ipv6_network_is_one_address_and_proxies_have_no_cap() {
        let proxies = crate::net::TrustedProxies::parse(&["192.0.2.9"]).expect("valid");
        let limits = ConnectionLimits::new(100, 2, proxies, 64);
        let v6 = |s: &str| s.parse::<IpAddr>().expect("address");
        let _a = limits.admit(v6("2001:db8:1:2::1")).expect("first");
        let _b = limits.admit(v6("2001:db8:1:2:ffff::2")).expect("second");
        assert_eq!(
            limits.admit(v6("2001:db8:1:2:aaaa::3")).err(),
            Some(Refused::AddressFull),
            "the same /64"
        );
        assert!(limits.admit(v6("2001:db8:1:3::1")).is_ok(), "the next /64");
        let through_proxy: Vec<Slot> = (0..10).filter_map(|_| limits.admit(ip(9)).ok()).collect();
        assert_eq!(through_proxy.len(), 10);
    }

    #[test]
    fn accept_failures_back_off_and_log_once_per_interval() {
        let mut b = AcceptBackoff::new(Duration::from_secs(10));
        let t0 = Instant::now();
        let (p1, l1) = b.failed(t0);
        assert_eq!(l1, Some(1));
        let mut pauses = vec![p1];
        for i in 1..100u32 {
            let (p, l) = b.failed(t0 + Duration::from_millis(u64::from(i)));
            assert_eq!(l, None, "failure {i} logged");
            pauses.push(p);
        }
        assert!(pauses.windows(2).all(|w| w[1] >= w[0]));
        assert_eq!(pauses.last().copied(), Some(PAUSE_MAX));
        // The next line, an interval later, counts what was not logged.
        let (_, l) = b.failed(t0 + Duration::from_secs(11));
        assert_eq!(l, Some(100));
        b.succeeded();
        assert_eq!(b.failed(t0 + Duration::from_secs(12)).0, PAUSE_MIN);
    }
}
