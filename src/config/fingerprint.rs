//! What must be the same on every server sharing a database: the text
//! formats (a comment rendered on one server must render alike on the
//! next) and the notification settings (who is told what). Each server
//! stores its fingerprint beside its node number; a server whose
//! fingerprint differs from a live peer's refuses to start, or warns.

use super::Config;
use crate::policy::PolicySet;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt::Write;

/// What a server does when a live peer on its database runs with other
/// formats or notification settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MismatchPolicy {
    /// Refuse to start, naming what differs (the default).
    #[default]
    Refuse,
    /// Start, and log the difference as an error (for a rolling change).
    Warn,
}

impl MismatchPolicy {
    pub(super) fn parse(text: &str) -> Option<MismatchPolicy> {
        match text {
            "refuse" => Some(MismatchPolicy::Refuse),
            "warn" => Some(MismatchPolicy::Warn),
            _ => None,
        }
    }
}

/// One server's shared settings, in comparable form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// `id=version` of every format, ordered by id (`version` hashes the
    /// policy file), joined by `,`.
    pub policies: String,
    /// A hash of the notification settings (they hold secrets, so only
    /// the hash is stored).
    pub notifications: String,
}

impl Fingerprint {
    /// The fingerprint of a server running `config` with `policies`.
    pub fn of(config: &Config, policies: &PolicySet) -> Fingerprint {
        let policies = policies
            .iter()
            .map(|p| format!("{}={}", p.id(), p.version()))
            .collect::<Vec<_>>()
            .join(",");
        Fingerprint {
            policies,
            notifications: notification_hash(config),
        }
    }

    /// What differs between this server's fingerprint and a peer's, one
    /// sentence each; empty when they agree. A peer that stored no
    /// fingerprint (an older version) is not compared.
    pub fn differences(&self, peer: &Fingerprint) -> Vec<String> {
        let mut out = Vec::new();
        if !peer.policies.is_empty() && peer.policies != self.policies {
            let here = versions(&self.policies);
            let there = versions(&peer.policies);
            for (id, version) in &here {
                match there.get(id) {
                    None => out.push(format!("format `{id}` is only on this server")),
                    Some(v) if v != version => out.push(format!(
                        "format `{id}` differs (this server {version}, the other {v})"
                    )),
                    Some(_) => {}
                }
            }
            for id in there.keys().filter(|id| !here.contains_key(*id)) {
                out.push(format!("format `{id}` is only on the other server"));
            }
        }
        if !peer.notifications.is_empty() && peer.notifications != self.notifications {
            out.push(
                "the notification settings differ ([smtp], [notifications], public_url, \
                 the sites' webhooks or moderator e-mails)"
                    .to_owned(),
            );
        }
        out
    }
}

fn versions(list: &str) -> BTreeMap<&str, &str> {
    list.split(',')
        .filter_map(|pair| pair.split_once('='))
        .collect()
}

/// Hashes every setting that changes which notifications are sent, to
/// whom and how, but none that is one server's own (how many it sends at
/// once, how often it looks).
fn notification_hash(config: &Config) -> String {
    let mut text = String::new();
    if let Some(smtp) = &config.smtp {
        let _ = writeln!(
            text,
            "smtp {} {} {} {:?} {:?} {:?}",
            smtp.host, smtp.port, smtp.from, smtp.username, smtp.password, smtp.tls
        );
    }
    let n = &config.notify;
    let _ = writeln!(
        text,
        "notify {} {:?} {} public {:?}",
        n.max_attempts, n.retry_initial, n.retention_days, config.public_url
    );
    let mut sites: Vec<_> = config.sites.iter().collect();
    sites.sort_by(|a, b| a.id.cmp(&b.id));
    for s in sites {
        let _ = writeln!(
            text,
            "site {} {:?} {:?} {:?}",
            s.id, s.webhook_url, s.webhook_secret, s.moderator_emails
        );
    }
    let digest = Sha256::digest(text.as_bytes());
    let mut hex = String::from("sha256:");
    for b in &digest[..12] {
        let _ = write!(hex, "{b:02x}");
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fingerprint(policies: &str, notifications: &str) -> Fingerprint {
        Fingerprint {
            policies: policies.to_owned(),
            notifications: notifications.to_owned(),
        }
    }

    #[test]
    fn the_same_settings_agree_and_each_difference_is_named() {
        let here = fingerprint("filtered_html=sha256:aa,plain_text=sha256:bb", "sha256:n1");
        assert!(here.differences(&here.clone()).is_empty());
        let there = fingerprint("filtered_html=sha256:cc,markdown=sha256:dd", "sha256:n2");
        let found = here.differences(&there);
        assert_eq!(found.len(), 4, "{found:?}");
        assert!(found[0]
            .contains("`filtered_html` differs (this server sha256:aa, the other sha256:cc)"));
        assert!(found[1].contains("`plain_text` is only on this server"));
        assert!(found[2].contains("`markdown` is only on the other server"));
        assert!(found[3].contains("notification settings differ"));
    }

    #[test]
    fn a_peer_without_a_fingerprint_is_not_compared() {
        let here = fingerprint("plain_text=sha256:bb", "sha256:n1");
        assert!(here.differences(&fingerprint("", "")).is_empty());
    }

    #[test]
    fn notification_settings_but_not_a_servers_own_change_the_hash() {
        let base = Config::default();
        let policies = PolicySet::bundled();
        let a = Fingerprint::of(&base, &policies);
        let mut own = base.clone();
        own.notify.concurrency += 5;
        own.notify.poll_interval *= 2;
        assert_eq!(Fingerprint::of(&own, &policies), a);
        let mut webhook = base.clone();
        webhook.sites[0].webhook_url = Some("https://cms.example/hook".into());
        assert_ne!(
            Fingerprint::of(&webhook, &policies).notifications,
            a.notifications
        );
        let mut retention = base;
        retention.notify.retention_days += 1;
        assert_ne!(
            Fingerprint::of(&retention, &policies).notifications,
            a.notifications
        );
        assert!(
            a.policies.contains("filtered_html=sha256:"),
            "{}",
            a.policies
        );
    }
}
