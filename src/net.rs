//! Client addresses: who a request comes from when it passes through
//! reverse proxies, and which address stands for one person.

use std::net::{IpAddr, Ipv6Addr};

use ipnet::IpNet;

/// The reverse proxies whose `X-Forwarded-For` is believed: addresses or
/// networks (`10.0.0.0/8`, `2001:db8::/32`, `127.0.0.1`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// No proxy is trusted: the peer address is the client.
    pub fn none() -> TrustedProxies {
        TrustedProxies(Vec::new())
    }

    /// This host's loopback addresses (a proxy on the same machine), what
    /// the older `trust_proxy = true` meant in practice.
    pub fn loopback() -> TrustedProxies {
        TrustedProxies::parse(&["127.0.0.0/8", "::1"]).unwrap_or_default()
    }

    /// Parses a list of addresses and networks.
    ///
    /// # Errors
    /// The first entry that is neither, with what was expected.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<TrustedProxies, String> {
        let mut nets = Vec::with_capacity(entries.len());
        for entry in entries {
            let e = entry.as_ref().trim();
            let net = e
                .parse::<IpNet>()
                .or_else(|_| e.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    format!("`{e}` is not an address or network like 10.0.0.0/8 or 2001:db8::1")
                })?;
            nets.push(net.trunc());
        }
        Ok(TrustedProxies(nets))
    }

    /// Whether any proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `ip` is one of the trusted proxies.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|n| n.contains(&ip))
    }

    /// The client of a request that arrived from `peer` carrying these
    /// `X-Forwarded-For` values (all headers, in order).
    ///
    /// Each proxy appends the address it received the request from, so the
    /// list is read from the right: hops that are trusted proxies are
    /// skipped, and the first address that is not one is the client. What
    /// lies further left was written by the client itself and is never
    /// believed. A request that did not come from a trusted proxy is
    /// answered for its peer, whatever it claims; an entry that is not an
    /// address ends the walk at the last good hop.
    pub fn client<'a>(
        &self,
        peer: IpAddr,
        forwarded_for: impl IntoIterator<Item = &'a str>,
    ) -> IpAddr {
        let peer = canonical(peer);
        if !self.contains(peer) {
            return peer;
        }
        let hops: Vec<&str> = forwarded_for
            .into_iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            let Some(ip) = parse_hop(hop) else { break };
            client = ip;
            if !self.contains(ip) {
                break;
            }
        }
        client
    }
}

/// One `X-Forwarded-For` entry: an address, possibly with a port
/// (`203.0.113.7:4711`, `[2001:db8::1]:4711`), as some proxies write.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Ok(sock) = hop.parse::<std::net::SocketAddr>() {
        return Some(canonical(sock.ip()));
    }
    None
}

/// IPv4-mapped IPv6 (`::ffff:192.0.2.1`, what a dual-stack socket reports)
/// as the IPv4 address it is.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// The address that stands for one person: an IPv4 address as it is, an
/// IPv6 address cut to its network of `v6_prefix` bits. A home or mobile
/// connection is given a whole /64 (2^64 addresses), so per-address limits,
/// duplicate checks and keys that looked at the full address could be
/// dodged by changing its low bits.
pub fn person(ip: IpAddr, v6_prefix: u8) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => {
            let bits = u32::from(v6_prefix.min(128));
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask))
        }
        v4 => v4,
    }
}

/// How a person's address is written for moderation keys: the address, and
/// for IPv6 also its network (`2001:db8:1:2::/64`), so a key naming either
/// matches.
pub fn person_label(ip: IpAddr, v6_prefix: u8) -> (String, Option<String>) {
    let ip = canonical(ip);
    match ip {
        IpAddr::V6(_) => (
            ip.to_string(),
            Some(format!("{}/{}", person(ip, v6_prefix), v6_prefix.min(128))),
        ),
        IpAddr::V4(_) => (ip.to_string(), None),
    }
}

/// An origin as browsers send it in `Origin`: `scheme://host[:port]`,
/// lower-cased, without a default port or a trailing slash; or `*` (any
/// page).
///
/// # Errors
/// A message for a person when `text` is not one: no scheme (the usual
/// mistake, `news.example`, which never matches), a scheme other than http
/// or https, no host, or a path, query or fragment.
pub fn parse_origin(text: &str) -> Result<String, String> {
    let t = text.trim();
    if t == "*" {
        return Ok("*".to_owned());
    }
    if !t.contains("://") {
        let host = t.trim_end_matches('/');
        return Err(format!(
            "`{t}` has no scheme, so no browser's Origin can match it: write it as \
             the browser sends it, e.g. `https://{host}`"
        ));
    }
    let url = url::Url::parse(t).map_err(|e| format!("`{t}` is not an origin: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "`{t}`: the scheme must be http or https, e.g. `https://news.example`"
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("`{t}` has no host, e.g. `https://news.example`"));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "`{t}` has a path: an origin is only scheme, host and port, e.g. `{}`",
            url.origin().ascii_serialization()
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("`{t}`: an origin has no user name or password"));
    }
    Ok(url.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("address")
    }

    #[test]
    fn the_client_is_the_rightmost_address_that_is_not_a_trusted_proxy() {
        let proxies = TrustedProxies::parse(&["10.0.0.0/8", "2001:db8::/32"]).expect("valid");
        // The client wrote the first entry itself; the proxies appended.
        let xff = ["6.6.6.6, 203.0.113.7, 10.1.2.3"];
        assert_eq!(proxies.client(ip("10.0.0.1"), xff), ip("203.0.113.7"));
        // Several headers are one list.
        assert_eq!(
            proxies.client(ip("10.0.0.1"), ["6.6.6.6", "203.0.113.7", "10.9.9.9"]),
            ip("203.0.113.7")
        );
        // Not from a trusted proxy: the header is the client's own words.
        assert_eq!(proxies.client(ip("198.51.100.1"), xff), ip("198.51.100.1"));
        // Only proxies in the chain: the leftmost of them.
        assert_eq!(
            proxies.client(ip("10.0.0.1"), ["10.0.0.2, 10.0.0.3"]),
            ip("10.0.0.2")
        );
        // Garbage ends the walk at the last good hop.
        assert_eq!(
            proxies.client(ip("10.0.0.1"), ["1.2.3.4, nonsense, 10.0.0.5"]),
            ip("10.0.0.5")
        );
        assert_eq!(
            proxies.client(ip("10.0.0.1"), ["[2001:db9::7]:443"]),
            ip("2001:db9::7")
        );
        assert_eq!(
            proxies.client(ip("10.0.0.1"), Vec::<&str>::new()),
            ip("10.0.0.1")
        );
        assert_eq!(
            proxies.client(ip("::ffff:10.0.0.1"), ["203.0.113.9"]),
            ip("203.0.113.9")
        );
        assert!(TrustedProxies::parse(&["10.0.0.0/33"]).is_err());
        assert!(TrustedProxies::parse(&["proxy.local"]).is_err());
        assert!(TrustedProxies::loopback().contains(ip("127.3.4.5")));
        assert!(TrustedProxies::loopback().contains(ip("::1")));
        assert!(!TrustedProxies::loopback().contains(ip("10.0.0.1")));
    }

    #[test]
    fn an_ipv6_person_is_their_network_and_ipv4_is_one_address() {
        assert_eq!(person(ip("2001:db8:1:2:aaaa::1"), 64), ip("2001:db8:1:2::"));
        assert_eq!(person(ip("2001:db8:1:2:ffff::9"), 64), ip("2001:db8:1:2::"));
        assert_eq!(person(ip("2001:db8:1:2:ffff::9"), 48), ip("2001:db8:1::"));
        assert_eq!(person(ip("2001:db8::9"), 128), ip("2001:db8::9"));
        assert_eq!(person(ip("203.0.113.7"), 64), ip("203.0.113.7"));
        assert_eq!(person(ip("::ffff:203.0.113.7"), 64), ip("203.0.113.7"));
        assert_eq!(
            person_label(ip("2001:db8:1:2::5"), 64),
            (
                "2001:db8:1:2::5".to_owned(),
                Some("2001:db8:1:2::/64".to_owned())
            )
        );
    }
}
