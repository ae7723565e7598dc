//! Running the service: load policies, open the store, bind, serve, shut
//! down gracefully.

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;

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
use crate::error::{Error, Result};
use crate::notify::Notifier;
use crate::policy::PolicySet;
use crate::service::Colloquy;

/// A bound, ready-to-serve instance.
pub struct Application {
    listener: TcpListener,
    colloquy: Colloquy,
    notifier: Notifier,
}

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
            .map_err(|e| Error::Internal(format!("cannot listen on {listen}: {e}")))?;
        // Links in e-mails start with the public URL, else the bound address.
        let base_url = match &colloquy.config().public_url {
            Some(url) => url.clone(),
            None => {
                let addr = listener
                    .local_addr()
                    .map_err(|e| Error::Internal(format!("cannot read the bound address: {e}")))?;
                format!("http://{addr}")
            }
        };
        let notifier = Notifier::new(&colloquy, base_url).await?;
        Ok(Application {
            listener,
            colloquy,
            notifier,
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
    ///
    /// # Errors
    /// The server failed.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let store = self.colloquy.store().clone();
        let purger = tokio::spawn(purge_expired(self.colloquy.clone()));
        let (stop_notifier, stopped) = tokio::sync::watch::channel(false);
        let notifier = tokio::spawn(self.notifier.run(stopped));
        let timeout = Duration::from_secs(self.colloquy.config().limits.request_timeout_secs);
        let app = crate::http::router(self.colloquy);
        let mut builder = Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(timeout);
        builder
            .http2()
            .timer(TokioTimer::new())
            .keep_alive_interval(Some(timeout))
            .keep_alive_timeout(timeout);
        let graceful = GracefulShutdown::new();
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let (stream, peer) = tokio::select! {
                accepted = self.listener.accept() => match accepted {
                    Ok(conn) => conn,
                    Err(e) => {
                        // Out of file descriptors and the like: wait, retry.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let _ = stream.set_nodelay(true);
            let service = TowerToHyperService::new(app.clone().map_request(with_peer(peer)));
            let conn = builder
                .serve_connection_with_upgrades(TokioIo::new(stream), service)
                .into_owned();
            let conn = graceful.watch(conn);
            tokio::spawn(async move {
                if let Err(e) = conn.await {
                    tracing::debug!(error = %e, %peer, "connection ended with an error");
                }
            });
        }
        drop(self.listener);
        // Requests in flight finish (bounded by the request timeout).
        let _ = tokio::time::timeout(timeout + Duration::from_secs(1), graceful.shutdown()).await;
        purger.abort();
        // Whatever the notifier was sending is leased and comes due again
        // after a restart; nothing is lost by stopping it here.
        let _ = stop_notifier.send(true);
        let _ = notifier.await;
        store.close().await;
        Ok(())
    }
}

/// Forgets IP hashes and notifications past their retention (and the
/// nonces of expired links): at start, then hourly (`purge_interval`). A
/// failure is logged and retried at the next round; it never stops serving.
async fn purge_expired(colloquy: Colloquy) {
    let mut every = tokio::time::interval(colloquy.config().purge_interval);
    loop {
        every.tick().await;
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
