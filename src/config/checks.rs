//! Checks shared by the file and the environment: addresses, URLs,
//! secrets, and the table of serving limits.

use std::net::SocketAddr;

use super::*;

/// A `[limits]` setting for serving on the public internet: its key, its
/// `COLLOQUY_*` variable, the values allowed and where it goes. Files and
/// the environment share this table.
pub(super) struct ServingLimit {
    pub(super) key: &'static str,
    pub(super) env: &'static str,
    pub(super) range: std::ops::RangeInclusive<i64>,
    pub(super) set: fn(&mut Limits, i64),
}

// Every range is within the target type, so the casts below are exact.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
pub(super) const SERVING_LIMITS: [ServingLimit; 11] = [
    ServingLimit {
        key: "render_threads",
        env: "COLLOQUY_RENDER_THREADS",
        range: 0..=256,
        set: |l, n| l.render_threads = n as usize,
    },
    ServingLimit {
        key: "render_queue_ms",
        env: "COLLOQUY_RENDER_QUEUE_MS",
        range: 1..=60_000,
        set: |l, n| l.render_queue_ms = n as u64,
    },
    ServingLimit {
        key: "ip_previews_per_minute",
        env: "COLLOQUY_IP_PREVIEWS_PER_MINUTE",
        range: 0..=1_000_000,
        set: |l, n| l.ip_previews_per_minute = n as u32,
    },
    ServingLimit {
        key: "site_previews_per_minute",
        env: "COLLOQUY_SITE_PREVIEWS_PER_MINUTE",
        range: 0..=1_000_000,
        set: |l, n| l.site_previews_per_minute = n as u32,
    },
    ServingLimit {
        key: "max_connections",
        env: "COLLOQUY_MAX_CONNECTIONS",
        range: 1..=1_000_000,
        set: |l, n| l.max_connections = n as usize,
    },
    ServingLimit {
        key: "max_connections_per_ip",
        env: "COLLOQUY_MAX_CONNECTIONS_PER_IP",
        range: 0..=1_000_000,
        set: |l, n| l.max_connections_per_ip = n as usize,
    },
    ServingLimit {
        key: "first_byte_timeout_secs",
        env: "COLLOQUY_FIRST_BYTE_TIMEOUT_SECS",
        range: 1..=600,
        set: |l, n| l.first_byte_timeout_secs = n as u64,
    },
    ServingLimit {
        key: "keep_alive_timeout_secs",
        env: "COLLOQUY_KEEP_ALIVE_TIMEOUT_SECS",
        range: 1..=3600,
        set: |l, n| l.keep_alive_timeout_secs = n as u64,
    },
    ServingLimit {
        key: "max_requests_in_flight",
        env: "COLLOQUY_MAX_REQUESTS_IN_FLIGHT",
        range: 1..=1_000_000,
        set: |l, n| l.max_requests_in_flight = n as usize,
    },
    ServingLimit {
        key: "listing_cache_bytes",
        env: "COLLOQUY_LISTING_CACHE_BYTES",
        range: 0..=1 << 40,
        set: |l, n| l.listing_cache_bytes = n as u64,
    },
    ServingLimit {
        key: "memo_cache_bytes",
        env: "COLLOQUY_MEMO_CACHE_BYTES",
        range: 0..=1 << 40,
        set: |l, n| l.memo_cache_bytes = n as u64,
    },
];

impl ServingLimit {
    pub(super) fn range_text(&self) -> String {
        format!(
            "must be between {} and {}",
            self.range.start(),
            self.range.end()
        )
    }
}

pub(super) fn parse_listen(s: &str) -> Result<SocketAddr, String> {
    s.parse()
        .map_err(|_| format!("`{s}` is not an address:port such as 127.0.0.1:8080"))
}

pub(super) fn check_database_url(s: &str) -> Result<String, String> {
    if s.starts_with("sqlite:") || s.starts_with("postgres://") || s.starts_with("postgresql://") {
        Ok(s.to_owned())
    } else {
        Err(format!(
            "`{}` is neither sqlite:PATH nor postgres://…",
            redact_url(s)
        ))
    }
}

pub(super) fn check_replica_url(s: &str) -> Result<String, String> {
    if s.starts_with("postgres://") || s.starts_with("postgresql://") {
        Ok(s.to_owned())
    } else {
        Err(format!(
            "`{}` is not a postgres://… URL (a read replica needs PostgreSQL)",
            redact_url(s)
        ))
    }
}

pub(super) fn check_public_url(s: &str) -> Result<String, String> {
    let trimmed = s.trim_end_matches('/');
    match url::Url::parse(trimmed) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
            Ok(trimmed.to_owned())
        }
        _ => Err(format!(
            "`{s}` is not an http:// or https:// base address such as https://comments.example"
        )),
    }
}

/// A webhook target: an absolute http(s) URL with a host and no credentials
/// (they would end up in logs).
pub(super) fn check_webhook_url(s: &str) -> Result<String, String> {
    let u = url::Url::parse(s).map_err(|e| format!("`{s}` is not a URL: {e}"))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(format!(
            "`{s}`: a webhook URL must start with http:// or https://"
        ));
    }
    if u.host().is_none() {
        return Err(format!("`{s}`: a webhook URL needs a host"));
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err(format!(
            "`{s}`: put no credentials in a webhook URL; receivers check the signature"
        ));
    }
    Ok(u.to_string())
}

/// The master secret given in the environment: long enough that it cannot
/// be guessed (`openssl rand -base64 32` makes one).
pub(super) fn check_secret_key(s: &str) -> Result<String, String> {
    let s = s.trim();
    if s.chars().count() < 32 {
        return Err(
            "use at least 32 random characters, e.g. the output of `openssl rand -base64 32`"
                .to_owned(),
        );
    }
    Ok(s.to_owned())
}

/// One address, `local@domain.tld`, no spaces, angle brackets or line breaks.
pub fn looks_like_email(s: &str) -> bool {
    s.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
    }) && s.matches('@').count() == 1
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'))
}
