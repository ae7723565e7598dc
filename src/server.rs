//! Running the service: load policies, open the store, bind, serve, shut
//! down gracefully.

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;

use tokio::net::TcpListener;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::policy::PolicySet;
use crate::service::Colloquy;

/// A bound, ready-to-serve instance.
pub struct Application {
    listener: TcpListener,
    colloquy: Colloquy,
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
        Ok(Application { listener, colloquy })
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
    /// # Errors
    /// The server failed.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let store = self.colloquy.store().clone();
        let purger = tokio::spawn(purge_ip_hashes(self.colloquy.clone()));
        let app = crate::http::router(self.colloquy);
        axum::serve(
            self.listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await?;
        purger.abort();
        store.close().await;
        Ok(())
    }
}

/// Forgets IP hashes past their retention: at start, then hourly. A
/// failure is logged and retried at the next round; it never stops serving.
async fn purge_ip_hashes(colloquy: Colloquy) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every.tick().await;
        match colloquy.purge_ip_hashes().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(comments = n, "forgot IP hashes past their retention"),
            Err(e) => tracing::warn!(error = %e, "purging old IP hashes failed; will retry"),
        }
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
