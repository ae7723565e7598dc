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

/// What a person may do on a site's admin API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// The queue, comments, threads, the audit log.
    Moderate,
    /// People: their data (export, erase) and the enforcement ladder.
    ManageCommenters,
    /// The site's settings, re-rendering, accounts.
    EditSettings,
}

impl Permission {
    /// Every permission.
    pub const ALL: [Permission; 3] = [
        Permission::Moderate,
        Permission::ManageCommenters,
        Permission::EditSettings,
    ];

    /// As written in answers and problems.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Moderate => "moderate",
            Permission::ManageCommenters => "manage_commenters",
            Permission::EditSettings => "edit_settings",
        }
    }
}

/// The role of a moderator account (or of an SSO role claim).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffRole {
    /// Moderates comments and commenters.
    Moderator,
    /// Everything, settings and accounts included.
    Admin,
}

impl StaffRole {
    /// As stored and written.
    pub fn as_str(self) -> &'static str {
        match self {
            StaffRole::Moderator => "moderator",
            StaffRole::Admin => "admin",
        }
    }

    /// Parses a role.
    pub fn parse(s: &str) -> Option<StaffRole> {
        match s {
            "moderator" => Some(StaffRole::Moderator),
            "admin" => Some(StaffRole::Admin),
            _ => None,
        }
    }

    /// What the role may do.
    pub fn permissions(self) -> &'static [Permission] {
        match self {
            StaffRole::Moderator => &[Permission::Moderate, Permission::ManageCommenters],
            StaffRole::Admin => &Permission::ALL,
        }
    }

    /// Whether the role may do `p`.
    pub fn may(self, p: Permission) -> bool {
        self.permissions().contains(&p)
    }
}

/// Hashes a password with argon2id (a fresh salt, the crate's defaults).
///
/// # Errors
/// Only if hashing itself fails.
pub fn hash_password(password: &str) -> Result<String, String> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).map_err(|e| e.to_string())?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `password` matches a stored argon2 hash. With no hash (no such
/// account), a dummy one is checked, so both take as long.
pub fn verify_password(password: &str, stored: Option<&str>) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let (hash, real) = match stored {
        Some(h) => (h, true),
        None => (
            DUMMY
                .get_or_init(|| hash_password("no such account").unwrap_or_default())
                .as_str(),
            false,
        ),
    };
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let ok = argon2::Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    ok && real
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
    fn passwords_verify_only_against_their_own_hash() {
        let h = hash_password("correct horse battery staple").unwrap_or_default();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery staple", Some(&h)));
        assert!(!verify_password("correct horse battery stapl", Some(&h)));
        assert!(!verify_password("anything", None));
        assert!(!verify_password("anything", Some("not a hash")));
    }

    #[test]
    fn moderators_may_not_edit_settings() {
        assert!(StaffRole::Moderator.may(Permission::Moderate));
        assert!(StaffRole::Moderator.may(Permission::ManageCommenters));
        assert!(!StaffRole::Moderator.may(Permission::EditSettings));
        assert!(Permission::ALL.iter().all(|p| StaffRole::Admin.may(*p)));
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
