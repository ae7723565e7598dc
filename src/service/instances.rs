//! This server among the others on its database: the node number its ids
//! carry (claimed at start, renewed while it runs) and the check that every
//! live server runs with the same formats and notification settings.

use super::{Shared, NODE_LEASE_MS};
use crate::clock::now_ms;
use crate::config::{Fingerprint, MismatchPolicy};
use crate::error::{Error, Result};
use crate::store::{InstanceFingerprint, Peer, Store};
use std::sync::atomic::Ordering;
use std::time::Duration;

fn stored(fingerprint: &Fingerprint) -> InstanceFingerprint<'_> {
    InstanceFingerprint {
        policies: &fingerprint.policies,
        notifications: &fingerprint.notifications,
    }
}

/// Claims a node number for this server's ids, and makes it the process's.
pub(super) async fn claim_node(
    store: &Store,
    holder: &str,
    fingerprint: &Fingerprint,
) -> Result<u16> {
    match store
        .claim_node(holder, &stored(fingerprint), now_ms(), NODE_LEASE_MS)
        .await?
    {
        Some(node) => {
            crate::clock::set_node(node);
            tracing::debug!(node, "claimed a node number for ids");
            Ok(node)
        }
        None => Err(Error::internal(format!(
            "every one of the {} node numbers for ids is held by a running server on this database; \
             stop one, or wait a minute if some were killed",
            crate::clock::NODES
        ))),
    }
}

/// The peers that differ from this server, each with what differs.
async fn mismatches(
    store: &Store,
    holder: &str,
    fingerprint: &Fingerprint,
) -> Result<Vec<(Peer, String)>> {
    let peers = store.live_peers(holder, now_ms() - NODE_LEASE_MS).await?;
    Ok(peers
        .into_iter()
        .filter_map(|peer| {
            let theirs = Fingerprint {
                policies: peer.policies.clone(),
                notifications: peer.notifications.clone(),
            };
            let found = fingerprint.differences(&theirs);
            (!found.is_empty()).then(|| {
                let line = format!(
                    "the server holding node {}: {}",
                    peer.node,
                    found.join("; ")
                );
                (peer, line)
            })
        })
        .collect())
}

/// How long a starting server waits to see whether a differing peer still
/// renews its claim: one renewal interval and a margin. A server killed
/// without shutting down keeps its row until its lease runs out; this is
/// how a restart with new settings tells it from a running one.
const LIVENESS_WAIT: Duration = Duration::from_millis(NODE_LEASE_MS as u64 / 4 + 2_000);

/// At start: refuses to run (giving the node number back) or warns when a
/// live peer runs with other formats or notification settings, since
/// comments would render and notify differently depending on which server
/// a request reaches.
pub(super) async fn compare_with_peers(
    store: &Store,
    holder: &str,
    node: u16,
    fingerprint: &Fingerprint,
    policy: MismatchPolicy,
) -> Result<()> {
    let mut found = mismatches(store, holder, fingerprint).await?;
    if found.is_empty() {
        return Ok(());
    }
    if policy == MismatchPolicy::Refuse {
        tracing::warn!(
            "another server on this database has other settings; waiting {} s to see whether it is still running",
            LIVENESS_WAIT.as_secs()
        );
        let before: Vec<(u16, i64)> = found.iter().map(|(p, _)| (p.node, p.heartbeat)).collect();
        tokio::time::sleep(LIVENESS_WAIT).await;
        found = mismatches(store, holder, fingerprint)
            .await?
            .into_iter()
            .filter(|(p, _)| !before.contains(&(p.node, p.heartbeat)))
            .collect();
        if found.is_empty() {
            return Ok(());
        }
    }
    let what = found
        .iter()
        .map(|(_, line)| line.as_str())
        .collect::<Vec<_>>()
        .join(". ");
    match policy {
        MismatchPolicy::Refuse => {
            let _ = store.release_node(node, holder).await;
            Err(Error::invalid(
                "config_mismatch",
                format!(
                    "another server on this database runs with other settings ({what}). \
                     Give every server the same policy files and notification settings, \
                     or set config_mismatch = \"warn\" (COLLOQUY_CONFIG_MISMATCH=warn) \
                     while a change rolls out"
                ),
            ))
        }
        MismatchPolicy::Warn => {
            tracing::error!(
                "servers on this database run with different settings ({what}); \
                 comments may render or notify differently depending on the server"
            );
            Ok(())
        }
    }
}

/// Renews the node number while the service lives. A server that could
/// not renew for a whole lease (stalled, cut off) and finds its number
/// taken claims another, so two live servers never write the same node.
/// Each renewal also looks for running peers that started with other
/// settings since, and logs them once.
pub(super) async fn renew_node(shared: std::sync::Weak<Shared>, fingerprint: Fingerprint) {
    let every = Duration::from_millis(u64::try_from(NODE_LEASE_MS / 4).unwrap_or(15_000));
    let mut reported: Vec<String> = Vec::new();
    let mut seen: std::collections::HashMap<u16, i64> = std::collections::HashMap::new();
    loop {
        tokio::time::sleep(every).await;
        let Some(s) = shared.upgrade() else { return };
        if s.store.is_closed() {
            return;
        }
        let node = s.node.load(Ordering::Relaxed);
        match s.store.renew_node(node, &s.holder, now_ms()).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(
                    node,
                    "another server took this server's node number; claiming a new one"
                );
                match claim_node(&s.store, &s.holder, &fingerprint).await {
                    Ok(n) => s.node.store(n, Ordering::Relaxed),
                    Err(e) => tracing::error!(error = %e, "could not claim a node number"),
                }
            }
            Err(e) => tracing::warn!(error = %e, "renewing the node number failed; will retry"),
        }
        // A differing peer counts once it has renewed since the last look:
        // a killed server's row lingers until its lease runs out.
        if let Ok(found) = mismatches(&s.store, &s.holder, &fingerprint).await {
            let renewing: Vec<String> = found
                .iter()
                .filter(|(p, _)| seen.get(&p.node).is_some_and(|h| *h != p.heartbeat))
                .map(|(_, line)| line.clone())
                .collect();
            seen = found.iter().map(|(p, _)| (p.node, p.heartbeat)).collect();
            if renewing != reported {
                if !renewing.is_empty() {
                    tracing::error!(
                        "servers on this database run with different settings ({})",
                        renewing.join(". ")
                    );
                }
                reported = renewing;
            }
        }
    }
}
