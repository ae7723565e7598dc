//! Readers signed in by their site: the site's backend signs a JWT for its
//! logged-in reader, and this module verifies it with the site's keys.
//!
//! Each key has one algorithm, fixed by what it is: a secret is HS256, an
//! RSA public key RS256, an Ed25519 public key EdDSA. A token is checked
//! only against keys of its header's `alg`, so `none`, a secret posing as a
//! public key (HS/RS confusion) or any other algorithm is refused. A token
//! whose header names a `kid` is checked against the key of that id (and
//! keys without one); otherwise against every key, which is how two keys
//! are valid at once while a site rotates them.
//!
//! [`SsoKeys::take_from`] moves the keys out of the configuration (secrets
//! never stay there for a log line to show), reading PEM and JWKS files.

use std::collections::HashMap;

use base64::Engine as _;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use crate::comment::{AuthorName, Email};
use crate::config::{Config, SsoKeyConfig, SsoKeySource};
use crate::error::{Error, Result};
use crate::reader::{Identity, Role};

/// Seconds of clock difference allowed between the site and this server.
pub const LEEWAY_SECS: u64 = 60;
/// Longest `user.id` accepted.
pub const MAX_USER_ID_CHARS: usize = 200;
/// Most badges kept, and the longest badge.
pub const MAX_BADGES: usize = 8;
/// The longest badge, in characters.
pub const MAX_BADGE_CHARS: usize = 32;

/// One verification key of a site.
struct Key {
    kid: Option<String>,
    alg: Algorithm,
    key: DecodingKey,
}

/// Every site's sign-in keys.
#[derive(Default)]
pub struct SsoKeys {
    sites: HashMap<String, Vec<Key>>,
}

impl std::fmt::Debug for SsoKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut m = f.debug_map();
        for (site, keys) in &self.sites {
            m.entry(site, &keys.len());
        }
        m.finish()
    }
}

fn alg_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::HS256 => "HS256",
        Algorithm::RS256 => "RS256",
        Algorithm::EdDSA => "EdDSA",
        _ => "another algorithm",
    }
}

/// A PEM public key: RSA (RS256) or Ed25519 (EdDSA).
fn pem_key(pem: &[u8]) -> Option<(Algorithm, DecodingKey)> {
    if let Ok(k) = DecodingKey::from_rsa_pem(pem) {
        return Some((Algorithm::RS256, k));
    }
    DecodingKey::from_ed_pem(pem)
        .ok()
        .map(|k| (Algorithm::EdDSA, k))
}

fn load_key(site: &str, k: &SsoKeyConfig) -> Result<Key> {
    let bad = |what: String| Error::invalid(format!("site.{site}.sso_keys"), what);
    let (alg, key) = match &k.source {
        SsoKeySource::Secret(s) => (Algorithm::HS256, DecodingKey::from_secret(s.as_bytes())),
        SsoKeySource::Pem(pem) => pem_key(pem.as_bytes())
            .ok_or_else(|| bad("`public_key` is not a PEM RSA or Ed25519 public key".to_owned()))?,
        SsoKeySource::PemFile(path) => {
            let pem = std::fs::read(path)
                .map_err(|e| bad(format!("cannot read `{}`: {e}", path.display())))?;
            pem_key(&pem).ok_or_else(|| {
                bad(format!(
                    "`{}` is not a PEM RSA or Ed25519 public key",
                    path.display()
                ))
            })?
        }
    };
    Ok(Key {
        kid: k.kid.clone(),
        alg,
        key,
    })
}

fn load_jwks(site: &str, path: &std::path::Path) -> Result<Vec<Key>> {
    let bad = |what: String| Error::invalid(format!("site.{site}.sso_jwks_file"), what);
    let text = std::fs::read_to_string(path)
        .map_err(|e| bad(format!("cannot read `{}`: {e}", path.display())))?;
    let set: JwkSet = serde_json::from_str(&text)
        .map_err(|e| bad(format!("`{}` is not a JWKS file: {e}", path.display())))?;
    let mut keys = Vec::new();
    for jwk in &set.keys {
        let alg = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => Algorithm::RS256,
            AlgorithmParameters::OctetKeyPair(_) => Algorithm::EdDSA,
            // Secrets belong in `sso_keys`, where they are one algorithm.
            _ => {
                return Err(bad(format!(
                    "`{}`: only RSA (RS256) and Ed25519 (EdDSA) keys are taken from a JWKS file",
                    path.display()
                )))
            }
        };
        let key = DecodingKey::from_jwk(jwk)
            .map_err(|e| bad(format!("`{}`: a key cannot be read: {e}", path.display())))?;
        keys.push(Key {
            kid: jwk.common.key_id.clone(),
            alg,
            key,
        });
    }
    Ok(keys)
}

/// The registered claims this module reads itself.
#[derive(Deserialize)]
struct Claims {
    user: UserClaims,
    #[serde(default)]
    aud: Option<Audience>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

/// `user`, as Coral's tokens carry it.
#[derive(Deserialize)]
struct UserClaims {
    id: serde_json::Value,
    username: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    badges: Option<Vec<String>>,
}

fn refuse(message: impl Into<String>) -> Error {
    Error::Unauthorized(message.into())
}

/// The `alg` a token's header names, read before any key is chosen, so
/// the refusal can say what it was.
fn header_alg(token: &str) -> Result<(String, Option<String>)> {
    let not_jwt = || refuse("the sign-in token is not a JWT (header.payload.signature, base64url)");
    let mut parts = token.split('.');
    let (Some(header), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(not_jwt());
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header.trim_end_matches('='))
        .map_err(|_| not_jwt())?;
    #[derive(Deserialize)]
    struct Header {
        alg: String,
        #[serde(default)]
        kid: Option<String>,
    }
    let h: Header = serde_json::from_slice(&bytes).map_err(|_| not_jwt())?;
    Ok((h.alg, h.kid))
}

impl SsoKeys {
    /// Reads every site's keys and removes them from `config`.
    ///
    /// # Errors
    /// A key or file that cannot be read, named by its site.
    pub fn take_from(config: &mut Config) -> Result<SsoKeys> {
        let mut sites = HashMap::new();
        for site in &mut config.sites {
            let mut keys = Vec::new();
            for k in site.sso_keys.drain(..) {
                keys.push(load_key(&site.id, &k)?);
            }
            if let Some(path) = site.sso_jwks_file.take() {
                keys.extend(load_jwks(&site.id, &path)?);
            }
            if !keys.is_empty() {
                sites.insert(site.id.clone(), keys);
            }
        }
        Ok(SsoKeys { sites })
    }

    /// Whether `site` signs readers in.
    pub fn configured(&self, site: &str) -> bool {
        self.sites.contains_key(site)
    }

    /// The identity a token of `site` carries, if one of the site's keys
    /// signed it, it has not expired and it is for this site.
    /// `max_name` is the longest author name the server takes.
    ///
    /// # Errors
    /// [`Error::Unauthorized`] saying what is wrong with the token.
    pub fn verify(&self, site: &str, token: &str, max_name: usize) -> Result<Identity> {
        let Some(keys) = self.sites.get(site) else {
            return Err(refuse(format!(
                "site `{site}` does not sign readers in (it has no `sso_keys`); send no \
                 Authorization header"
            )));
        };
        let (alg, kid) = header_alg(token)?;
        let algs: Vec<&str> = {
            let mut a: Vec<&str> = keys.iter().map(|k| alg_name(k.alg)).collect();
            a.dedup();
            a
        };
        let matching: Vec<&Key> = keys
            .iter()
            .filter(|k| alg_name(k.alg) == alg)
            .filter(|k| match (&kid, &k.kid) {
                (Some(want), Some(have)) => want == have,
                _ => true,
            })
            .collect();
        if !keys.iter().any(|k| alg_name(k.alg) == alg) {
            return Err(refuse(format!(
                "the sign-in token is signed with `{alg}`; site `{site}` accepts only {}",
                algs.join(", ")
            )));
        }
        if matching.is_empty() {
            return Err(refuse(format!(
                "the sign-in token names key `{}`, which site `{site}` does not have (removed, \
                 or never configured)",
                kid.unwrap_or_default()
            )));
        }
        let mut signed_but: Option<ErrorKind> = None;
        for key in matching {
            let mut v = Validation::new(key.alg);
            v.leeway = LEEWAY_SECS;
            v.validate_aud = false;
            v.validate_nbf = true;
            v.set_required_spec_claims(&["exp"]);
            match jsonwebtoken::decode::<Claims>(token, &key.key, &v) {
                Ok(data) => return identity(site, data.claims, max_name),
                Err(e) if matches!(e.kind(), ErrorKind::InvalidSignature) => {}
                // The signature held (it is checked first); the claims did not.
                Err(e) => signed_but = Some(e.into_kind()),
            }
        }
        Err(refuse(match signed_but {
            None => format!("the sign-in token's signature matches none of site `{site}`'s keys"),
            Some(ErrorKind::ExpiredSignature) => {
                "the sign-in token has expired; the site must sign a new one".to_owned()
            }
            Some(ErrorKind::MissingRequiredClaim(c)) => {
                format!("the sign-in token has no `{c}` claim; it is required")
            }
            Some(ErrorKind::ImmatureSignature) => {
                "the sign-in token is not valid yet (`nbf` is in the future)".to_owned()
            }
            Some(ErrorKind::Json(e)) => format!("the sign-in token's claims are not valid: {e}"),
            Some(_) => "the sign-in token is not valid".to_owned(),
        }))
    }
}

/// The checked identity of verified claims.
fn identity(site: &str, claims: Claims, max_name: usize) -> Result<Identity> {
    match &claims.aud {
        None => {}
        Some(Audience::One(a)) if a == site => {}
        Some(Audience::Many(list)) if list.iter().any(|a| a == site) => {}
        Some(Audience::One(a)) => {
            return Err(refuse(format!(
                "the sign-in token is for site `{a}`, not `{site}`"
            )))
        }
        Some(Audience::Many(list)) => {
            return Err(refuse(format!(
                "the sign-in token is for {}, not site `{site}`",
                list.join(", ")
            )))
        }
    }
    let u = claims.user;
    let user_id = match u.id {
        serde_json::Value::String(s) => s,
        serde_json::Value::Number(n) => n.to_string(),
        _ => return Err(refuse("the sign-in token's `user.id` is not a string")),
    };
    if user_id.is_empty()
        || user_id.chars().count() > MAX_USER_ID_CHARS
        || user_id.chars().any(char::is_control)
    {
        return Err(refuse(format!(
            "the sign-in token's `user.id` must be 1-{MAX_USER_ID_CHARS} characters without \
             control characters"
        )));
    }
    let username = AuthorName::parse(&u.username, max_name)
        .map_err(|e| refuse(format!("the sign-in token's `user.username` {e}")))?
        .ok_or_else(|| refuse("the sign-in token's `user.username` is empty"))?;
    let email = match u.email.as_deref() {
        None => None,
        Some(e) => Email::parse(e)
            .map_err(|_| refuse("the sign-in token's `user.email` is not an e-mail address"))?
            .map(Email::into_string),
    };
    let role = match u.role.as_deref() {
        None | Some("commenter") => Role::Commenter,
        Some("moderator") => Role::Moderator,
        Some("admin") => Role::Admin,
        Some(other) => {
            return Err(refuse(format!(
                "the sign-in token's `user.role` `{other}` is not one of commenter, moderator, \
                 admin"
            )))
        }
    };
    let badges = u
        .badges
        .unwrap_or_default()
        .iter()
        .map(|b| crate::comment::one_visible_line(b, MAX_BADGE_CHARS))
        .filter(|b| !b.is_empty())
        .take(MAX_BADGES)
        .collect();
    Ok(Identity {
        user_id,
        username: username.into_string(),
        email,
        role,
        badges,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_is_read_for_its_algorithm_and_key_id() {
        let h = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"alg":"none","kid":"k1"}"#);
        assert_eq!(
            header_alg(&format!("{h}.e30.")).ok(),
            Some(("none".to_owned(), Some("k1".to_owned())))
        );
        assert!(header_alg("a.b").is_err());
        assert!(header_alg("a.b.c.d").is_err());
        assert!(header_alg("!!.e30.x").is_err());
    }

    #[test]
    fn debug_shows_no_key() {
        let mut config = Config::default();
        let mut site = crate::config::SiteConfig::default_site();
        site.sso_keys.push(SsoKeyConfig {
            kid: None,
            source: SsoKeySource::Secret("a-secret-of-32-characters-000000".into()),
        });
        config.sites = vec![site];
        let keys = SsoKeys::take_from(&mut config).unwrap_or_default();
        assert!(keys.configured("default"));
        assert!(config.sites[0].sso_keys.is_empty());
        assert!(!format!("{keys:?} {config:?}").contains("a-secret"));
    }
}
