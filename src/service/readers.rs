//! Telling readers apart: the site's sign-in token (when it has one) or the
//! keyed hash of the client's address.

use super::Colloquy;
use crate::comment::SiteId;
use crate::error::Result;
use crate::reader::Reader;
use std::net::IpAddr;

/// Whether a bearer token has the shape of a JWT (three base64url parts),
/// not of an edit, session or admin token (one part, no dots).
pub fn looks_like_jwt(token: &str) -> bool {
    token.split('.').count() == 3
}

impl Colloquy {
    /// The reader behind a request to `site`. `token` is the bearer token a
    /// reader endpoint received, if any; `ip` the client's address.
    ///
    /// A token is the site's sign-in token (a JWT, see [`crate::sso`]): the
    /// reader is signed in when it verifies.
    ///
    /// # Errors
    /// [`crate::error::Error::Unauthorized`] for a token that does not
    /// verify (expired, another site's, a wrong key or algorithm), saying
    /// which; unknown site.
    pub async fn reader(
        &self,
        site: &SiteId,
        token: Option<&str>,
        ip: Option<IpAddr>,
    ) -> Result<Reader> {
        let identity = match token {
            None => None,
            Some(t) => {
                self.site(site).await?;
                Some(
                    self.sso
                        .verify(site.as_str(), t, self.config.limits.max_author_chars)?,
                )
            }
        };
        Ok(Reader {
            identity,
            ip_hash: ip.map(|ip| self.hash_ip(ip)),
        })
    }

    /// Whether `site` signs readers in (has sign-in keys).
    pub fn signs_in(&self, site: &SiteId) -> bool {
        self.sso.configured(site.as_str())
    }
}
