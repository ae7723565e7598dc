//! Telling readers apart: the site's sign-in token (when it has one) or the
//! keyed hash of the client's address.

use super::Colloquy;
use crate::comment::SiteId;
use crate::error::Result;
use crate::reader::Reader;
use std::net::IpAddr;

impl Colloquy {
    /// The reader behind a request to `site`. `token` is the bearer token a
    /// reader endpoint received, if any; `ip` the client's address.
    ///
    /// Sign-in tokens are not verified yet: a token is ignored and the
    /// reader is anonymous, known by their address.
    pub async fn reader(
        &self,
        _site: &SiteId,
        _token: Option<&str>,
        ip: Option<IpAddr>,
    ) -> Result<Reader> {
        Ok(Reader {
            identity: None,
            ip_hash: ip.map(|ip| self.hash_ip(ip)),
        })
    }
}
