//! Admin tokens, kept only as SHA-256 digests once the configuration is
//! loaded, and checked in constant time.
//!
//! [`AdminTokens::take_from`] moves every token out of the configuration, so
//! no plain token stays in memory for a log line or a debug dump to leak.
//! A check hashes the presented token once and compares it with every
//! stored digest (no early exit), so the time taken says nothing about
//! which token, or how much of one, matched.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::Config;

type TokenDigest = [u8; 32];

/// What a presented token may touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// Every site (`COLLOQUY_ADMIN_TOKEN`, the top-level `admin_tokens`).
    Everything,
    /// The site asked about only (that site's `admin_tokens`).
    Site,
    /// A valid token, but for other sites only.
    OtherSite,
    /// Not a token this server knows.
    Nothing,
}

/// The admin tokens of a configuration, as digests.
#[derive(Clone, Default)]
pub struct AdminTokens {
    global: Vec<TokenDigest>,
    sites: Vec<(String, Vec<TokenDigest>)>,
}

impl std::fmt::Debug for AdminTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminTokens")
            .field("global", &self.global.len())
            .field("sites", &self.sites.len())
            .finish()
    }
}

fn digest(token: &str) -> TokenDigest {
    Sha256::digest(token.as_bytes()).into()
}

/// True when `given` equals any of `stored`; looks at all of them.
fn any_equal(stored: &[TokenDigest], given: &TokenDigest) -> bool {
    stored
        .iter()
        .fold(subtle::Choice::from(0), |acc, d| acc | d.ct_eq(given))
        .into()
}

impl AdminTokens {
    /// Hashes every admin token of `config` and removes the plain ones from it.
    pub fn take_from(config: &mut Config) -> AdminTokens {
        let global = config.admin_tokens.drain(..).map(|t| digest(&t)).collect();
        let sites = config
            .sites
            .iter_mut()
            .map(|s| {
                let digests = s.admin_tokens.drain(..).map(|t| digest(&t)).collect();
                (s.id.clone(), digests)
            })
            .collect();
        AdminTokens { global, sites }
    }

    /// What `token` grants on `site` (`None`: the whole server).
    pub fn grant(&self, token: &str, site: Option<&str>) -> Grant {
        let given = digest(token);
        let global = any_equal(&self.global, &given);
        // Every site's list is checked, whichever site is asked about.
        let (mut own, mut other) = (false, false);
        for (id, digests) in &self.sites {
            let hit = any_equal(digests, &given);
            let here = site == Some(id.as_str());
            own |= hit & here;
            other |= hit & !here;
        }
        if global {
            Grant::Everything
        } else if own {
            Grant::Site
        } else if other {
            Grant::OtherSite
        } else {
            Grant::Nothing
        }
    }

    /// True when no admin token is configured at all.
    pub fn is_empty(&self) -> bool {
        self.global.is_empty() && self.sites.iter().all(|(_, d)| d.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SiteConfig;

    fn config() -> Config {
        let mut site = SiteConfig::default_site();
        site.admin_tokens = vec!["site-default-token-0001".into()];
        let mut other = SiteConfig::default_site();
        other.id = "other".into();
        other.admin_tokens = vec!["site-other-token-00001".into()];
        Config {
            admin_tokens: vec!["global-admin-token-0001".into()],
            sites: vec![site, other],
            ..Config::default()
        }
    }

    #[test]
    fn plain_tokens_leave_the_configuration() {
        let mut c = config();
        let tokens = AdminTokens::take_from(&mut c);
        assert!(c.admin_tokens.is_empty());
        assert!(c.sites.iter().all(|s| s.admin_tokens.is_empty()));
        assert!(!tokens.is_empty());
        assert!(!format!("{tokens:?}").contains("token-0001"));
    }

    #[test]
    fn grants_follow_where_the_token_was_configured() {
        let tokens = AdminTokens::take_from(&mut config());
        assert_eq!(
            tokens.grant("global-admin-token-0001", Some("other")),
            Grant::Everything
        );
        assert_eq!(
            tokens.grant("global-admin-token-0001", None),
            Grant::Everything
        );
        assert_eq!(
            tokens.grant("site-other-token-00001", Some("other")),
            Grant::Site
        );
        assert_eq!(
            tokens.grant("site-other-token-00001", Some("default")),
            Grant::OtherSite
        );
        assert_eq!(
            tokens.grant("site-other-token-00001", None),
            Grant::OtherSite
        );
        assert_eq!(
            tokens.grant("site-other-token-0000", Some("other")),
            Grant::Nothing
        );
        assert_eq!(tokens.grant("", Some("default")), Grant::Nothing);
    }
}
