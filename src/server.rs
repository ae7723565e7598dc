//! Running the service: load policies, open the store, bind, serve, shut
//! down gracefully.

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceExt as _;

use crate::config::Config;
use crate::connections::{
    fit_to_fd_limit, AcceptBackoff, Activity, ConnectionLimits, LogEvery, Refused, Watched,
};
use crate::error::{Error, Result};
use crate::notify::Notifier;
use crate::policy::PolicySet;
use crate::service::Colloquy;

/// A bound, ready-to-serve instance.
pub struct Application {
    listener: TcpListener,
    colloquy: Colloquy,
    notifier: Notifier,
    connections: Arc<ConnectionLimits>,
}

/// Largest request head (and write buffer) of one connection: 16 KiB of
/// headers is twice what common proxies pass on, and it bounds what each
/// of up to `max_connections` connections may hold.
const MAX_CONNECTION_BUFFER: usize = 16 * 1024;

/// How often a condition that repeats (accept failing, connections refused)
/// is logged at most.
const LOG_INTERVAL: Duration = Duration::from_secs(10);

/// Loads the policies a configuration names: its directory when it exists,
/// the bundled copies when the default `policies` directory is absent.
///
/// # Errors
/// An invalid policy file, or a configured directory that does not exist.
pub fn load_policies(config: &Config) -> Result<PolicySet> {
    let dir = &config.policies_dir;
    if dir.is_dir() {
        return PolicySet::load_dir(dir).map_err(|e| Error::invalid("policies", e.to_string()));
    }
    if dir == Path::new("policies") {
        tracing::info!("no ./policies directory; using the bundled formats");
        return Ok(PolicySet::bundled());
    }
    Err(Error::invalid(
        "policies",
        format!("{}: no such directory", dir.display()),
    ))
}

impl Application {
    /// Loads policies, opens the database and binds the listener.
    ///
    /// # Errors
    /// Invalid policies, an unreachable database, or an address in use.
    pub async fn build(config: Config) -> Result<Application> {
        let policies = load_policies(&config)?;
        let listen = config.listen;
        let colloquy = Colloquy::open(config, policies).await?;
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|e| Error::internal(format!("cannot listen on {listen}: {e}")))?;
        // Links in e-mails start with the public URL, else the bound address.
        let base_url = match &colloquy.config().public_url {
            Some(url) => url.clone(),
            None => {
                let addr = listener
                    .local_addr()
                    .map_err(|e| Error::internal(format!("cannot read the bound address: {e}")))?;
                format!("http://{addr}")
            }
        };
        let notifier = Notifier::new(&colloquy, base_url).await?;
        let config = colloquy.config();
        // Behind a reverse proxy every connection comes from the proxy: its
        // address has no cap of its own (a cap would cap the whole site).
        let connections = ConnectionLimits::new(
            fit_to_fd_limit(config.limits.max_connections),
            config.limits.max_connections_per_ip,
            config.trusted_proxies.clone(),
            config.ipv6_prefix,
        );
        Ok(Application {
            listener,
            colloquy,
            notifier,
            connections,
        })
    }

    /// The address actually bound (useful with port 0).
    ///
    /// # Errors
    /// The socket has no local address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The service behind the server.
    pub fn colloquy(&self) -> &Colloquy {
        &self.colloquy
    }

    /// Serves until `shutdown` completes, then finishes requests in flight.
    ///
    /// Connections are served by hyper directly (not `axum::serve`) so that
    /// a client sending its request headers slowly (slowloris) is cut off
    /// after `limits.request_timeout_secs` instead of holding a connection
    /// and its task forever; the body is covered by the request timeout.
    /// A connection past the caps (`limits.max_connections`,
    /// `limits.max_connections_per_ip`) is closed at once; one that sends
    /// nothing (`limits.first_byte_timeout_secs`) or idles between requests
    /// (`limits.keep_alive_timeout_secs`) is closed by its watchdog.
    ///
    /// HTTP/1.1 only: HTTP/2 without TLS is for proxies, which speak 1.1 to
    /// their backends as well, and its per-connection buffers and streams
    /// would make the memory bound many times larger.
    ///
    /// # Errors
    /// The server failed.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let service = self.colloquy.clone();
        let purger = tokio::spawn(purge_expired(self.colloquy.clone()));
        let trainer = tokio::spawn(train_spam_models(self.colloquy.clone()));
        // Other servers' changes to settings, thread states and counts.
        let follower = tokio::spawn(self.colloquy.clone().follow_changes());
        let (stop_notifier, stopped) = tokio::sync::watch::channel(false);
        let notifier = tokio::spawn(self.notifier.run(stopped));
        let limits = self.colloquy.config().limits.clone();
        let timeout = Duration::from_secs(limits.request_timeout_secs);
        let first_byte = Duration::from_secs(limits.first_byte_timeout_secs);
        let keep_alive = Duration::from_secs(limits.keep_alive_timeout_secs);
        let app = crate::http::router(self.colloquy);
        let mut builder = Builder::new(TokioExecutor::new()).http1_only();
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(timeout)
            .max_buf_size(MAX_CONNECTION_BUFFER);
        let graceful = GracefulShutdown::new();
        let mut shutdown = std::pin::pin!(shutdown);
        let mut backoff = AcceptBackoff::new(LOG_INTERVAL);
        let mut refusals = LogEvery::new(LOG_INTERVAL);
        loop {
            let (stream, peer) = tokio::select! {
                accepted = self.listener.accept() => match accepted {
                    Ok(conn) => conn,
                    Err(e) => {
                        // Out of file descriptors, mostly: the connections
                        // that hold them close within the idle timeouts.
                        let (pause, report) = backoff.failed(std::time::Instant::now());
                        if let Some(failures) = report {
                            tracing::warn!(error = %e, failures, "accept failed; pausing before the next try");
                        }
                        tokio::select! {
                            () = tokio::time::sleep(pause) => continue,
                            () = &mut shutdown => break,
                        }
                    }
                },
                () = &mut shutdown => break,
            };
            backoff.succeeded();
            let slot = match self.connections.admit(peer.ip()) {
                Ok(slot) => slot,
                Err(why) => {
                    // Closed at once (dropped): a refused client is never
                    // kept waiting.
                    drop(stream);
                    if let Some(refused) = refusals.event(std::time::Instant::now()) {
                        let cap = match why {
                            Refused::Full => "max_connections",
                            Refused::AddressFull => "max_connections_per_ip",
                        };
                        tracing::warn!(%peer, refused, cap, "refusing connections: a connection cap is reached");
                    }
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let activity = Activity::new();
            let requests = Arc::clone(&activity);
            let service = app
                .clone()
                .map_request(with_peer(peer))
                .map_future(move |answer| {
                    let in_flight = requests.request();
                    async move {
                        let answer = answer.await;
                        drop(in_flight);
                        answer
                    }
                });
            let io = TokioIo::new(Watched::new(stream, Arc::clone(&activity)));
            let conn = builder
                .serve_connection_with_upgrades(io, TowerToHyperService::new(service))
                .into_owned();
            let conn = graceful.watch(conn);
            tokio::spawn(async move {
                let _slot = slot;
                tokio::select! {
                    ended = conn => if let Err(e) = ended {
                        tracing::debug!(error = %e, %peer, "connection ended with an error");
                    },
                    () = activity.idle(first_byte, keep_alive) => {
                        tracing::debug!(%peer, "closed an idle connection");
                    }
                }
            });
        }
        drop(self.listener);
        // Requests in flight finish (bounded by the request timeout).
        let _ = tokio::time::timeout(timeout + Duration::from_secs(1), graceful.shutdown()).await;
        purger.abort();
        trainer.abort();
        follower.abort();
        // Whatever the notifier was sending is leased and comes due again
        // after a restart; nothing is lost by stopping it here.
        let _ = stop_notifier.send(true);
        let _ = notifier.await;
        service.close().await;
        Ok(())
    }
}

/// Forgets IP hashes and notifications past their retention (and the
/// nonces of expired links): at start, then hourly (`purge_interval`), by
/// one server of those sharing a database at a time (the others skip the
/// round). A failure is logged and retried at the next round; it never
/// stops serving.
async fn purge_expired(colloquy: Colloquy) {
    let mut every = tokio::time::interval(colloquy.config().purge_interval);
    loop {
        every.tick().await;
        match colloquy
            .store()
            .exclusively("purge", purge_once(&colloquy))
            .await
        {
            Ok(Some(())) => {}
            Ok(None) => tracing::debug!("another server is purging; skipped this round"),
            Err(e) => tracing::warn!(error = %e, "cannot coordinate the purge; will retry"),
        }
    }
}

/// Teaches each scoring site's spam model the moderators' latest
/// decisions: every `scoring_interval` (a minute), one server at a time.
async fn train_spam_models(colloquy: Colloquy) {
    let mut every = tokio::time::interval(colloquy.config().scoring_interval);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let round = colloquy
            .store()
            .exclusively("scoring", colloquy.train_scoring_everywhere())
            .await;
        match round {
            Ok(Some(Ok(0))) | Ok(None) => {}
            Ok(Some(Ok(n))) => tracing::info!(decisions = n, "spam models learned new decisions"),
            Ok(Some(Err(e))) => {
                tracing::warn!(error = %e, "training spam models failed; will retry")
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot coordinate spam-model training; will retry")
            }
        }
    }
}

async fn purge_once(colloquy: &Colloquy) {
    match colloquy.purge_ip_hashes().await {
        Ok(0) => {}
        Ok(n) => tracing::info!(comments = n, "forgot IP hashes past their retention"),
        Err(e) => tracing::warn!(error = %e, "purging old IP hashes failed; will retry"),
    }
    if let Err(e) = colloquy.forget_expired_stamps().await {
        tracing::warn!(error = %e, "forgetting expired form stamps failed; will retry");
    }
    match colloquy.purge_notifications().await {
        Ok(0) => {}
        Ok(n) => tracing::info!(deliveries = n, "deleted notifications past their retention"),
        Err(e) => tracing::warn!(error = %e, "purging old notifications failed; will retry"),
    }
}

/// Gives each request its connection's peer address, as
/// `ConnectInfo<SocketAddr>` (what `ClientIp` reads).
fn with_peer<B>(peer: SocketAddr) -> impl Fn(Request<B>) -> Request<B> + Clone {
    move |mut req: Request<B>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        req
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
