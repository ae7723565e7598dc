//! `colloquy.toml`: the file's shape (every unknown key refused) and how
//! each value is checked, errors pointing at file, line and column.

use std::path::PathBuf;

use serde::Deserialize;
use toml::Spanned;

use super::site::{site_from_file, FileSite};
use super::*;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileConfig {
    listen: Option<Spanned<String>>,
    database_url: Option<Spanned<String>>,
    read_database_url: Option<Spanned<String>>,
    policies: Option<Spanned<String>>,
    #[serde(default)]
    admin_tokens: Vec<Spanned<String>>,
    edit_window_secs: Option<Spanned<i64>>,
    trust_proxy: Option<Spanned<bool>>,
    trusted_proxies: Option<Spanned<Vec<String>>>,
    ipv6_prefix: Option<Spanned<i64>>,
    public_url: Option<Spanned<String>>,
    rate_limit: Option<bool>,
    config_mismatch: Option<Spanned<String>>,
    ip_retention_days: Option<Spanned<i64>>,
    key_file: Option<Spanned<String>>,
    limits: Option<FileLimits>,
    database: Option<FileDatabase>,
    smtp: Option<FileSmtp>,
    notifications: Option<FileNotify>,
    #[serde(default, rename = "site")]
    sites: Vec<FileSite>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileLimits {
    max_body_bytes: Option<Spanned<i64>>,
    max_comment_chars: Option<Spanned<i64>>,
    max_author_chars: Option<Spanned<i64>>,
    max_homepage_chars: Option<Spanned<i64>>,
    max_json_depth: Option<Spanned<i64>>,
    max_batch: Option<Spanned<i64>>,
    request_timeout_secs: Option<Spanned<i64>>,
    render_threads: Option<Spanned<i64>>,
    render_queue_ms: Option<Spanned<i64>>,
    ip_previews_per_minute: Option<Spanned<i64>>,
    site_previews_per_minute: Option<Spanned<i64>>,
    max_connections: Option<Spanned<i64>>,
    max_connections_per_ip: Option<Spanned<i64>>,
    first_byte_timeout_secs: Option<Spanned<i64>>,
    keep_alive_timeout_secs: Option<Spanned<i64>>,
    max_requests_in_flight: Option<Spanned<i64>>,
    listing_cache_bytes: Option<Spanned<i64>>,
    memo_cache_bytes: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileDatabase {
    pool_size: Option<Spanned<i64>>,
    acquire_timeout_secs: Option<Spanned<i64>>,
    statement_timeout_ms: Option<Spanned<i64>>,
    lock_timeout_ms: Option<Spanned<i64>>,
    idle_in_transaction_ms: Option<Spanned<i64>>,
    read_your_writes_secs: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileSmtp {
    host: Spanned<String>,
    port: Option<Spanned<i64>>,
    from: Spanned<String>,
    username: Option<String>,
    password: Option<String>,
    tls: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileNotify {
    max_attempts: Option<Spanned<i64>>,
    retry_initial_secs: Option<Spanned<i64>>,
    retention_days: Option<Spanned<i64>>,
    concurrency: Option<Spanned<i64>>,
}

pub(super) fn smtp_from_file(
    s: FileSmtp,
    err: &impl Fn(std::ops::Range<usize>, &str, String) -> ConfigError,
) -> Result<SmtpConfig, ConfigError> {
    let tls = match &s.tls {
        Some(t) => SmtpTls::parse(t.get_ref()).ok_or_else(|| {
            err(
                t.span(),
                "smtp.tls",
                "use \"none\", \"starttls\" or \"tls\"".to_owned(),
            )
        })?,
        None => SmtpTls::Starttls,
    };
    if s.host.get_ref().trim().is_empty() || s.host.get_ref().contains(char::is_whitespace) {
        return Err(err(
            s.host.span(),
            "smtp.host",
            "a host name such as smtp.example.com".to_owned(),
        ));
    }
    if !looks_like_email(s.from.get_ref()) {
        return Err(err(
            s.from.span(),
            "smtp.from",
            format!(
                "`{}` is not an e-mail address like comments@example.com",
                s.from.get_ref()
            ),
        ));
    }
    let port = match s.port {
        Some(p) => u16::try_from(*p.get_ref())
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| err(p.span(), "smtp.port", "1 to 65535".to_owned()))?,
        None => match tls {
            SmtpTls::None => 25,
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
        },
    };
    if s.username.is_some() && tls == SmtpTls::None && s.host.get_ref() != "localhost" {
        return Err(err(
            s.host.span(),
            "smtp.tls",
            "a password would travel in clear text; use \"starttls\" or \"tls\"".to_owned(),
        ));
    }
    Ok(SmtpConfig {
        host: s.host.into_inner(),
        port,
        from: s.from.into_inner(),
        username: s.username,
        password: s.password,
        tls,
    })
}

pub(super) fn apply_file(
    config: &mut Config,
    locations: &mut Locations,
    file: &str,
    text: &str,
) -> Result<(), ConfigError> {
    let at = |offset: usize| {
        let (line, col) = crate::text::line_col(text, offset);
        format!("{file}:{line}:{col}")
    };
    let raw: FileConfig = toml::from_str(text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        let message = e.message().trim().to_owned();
        let key = message
            .split('`')
            .nth(1)
            .filter(|_| message.contains("unknown field") || message.contains("missing field"))
            .map(str::to_owned)
            .or_else(|| {
                let line_start = text[..offset.min(text.len())]
                    .rfind('\n')
                    .map_or(0, |i| i + 1);
                let line = &text[line_start..];
                line.split_once('=').map(|(k, _)| k.trim().to_owned())
            })
            .unwrap_or_else(|| "(file)".to_owned());
        ConfigError {
            origin: at(offset),
            key,
            message,
        }
    })?;
    let err = |span: std::ops::Range<usize>, key: &str, msg: String| ConfigError {
        origin: at(span.start),
        key: key.to_owned(),
        message: msg,
    };
    if let Some(v) = raw.listen {
        config.listen = parse_listen(v.get_ref()).map_err(|m| err(v.span(), "listen", m))?;
    }
    if let Some(v) = raw.database_url {
        config.database_url =
            check_database_url(v.get_ref()).map_err(|m| err(v.span(), "database_url", m))?;
    }
    if let Some(v) = raw.read_database_url {
        config.database.read_url = Some(
            check_replica_url(v.get_ref()).map_err(|m| err(v.span(), "read_database_url", m))?,
        );
    }
    if let Some(v) = raw.policies {
        config.policies_dir = PathBuf::from(v.get_ref());
    }
    if let Some(v) = raw.rate_limit {
        config.rate_limit = v;
    }
    if let Some(v) = raw.config_mismatch {
        config.config_mismatch = super::MismatchPolicy::parse(v.get_ref())
            .ok_or_else(|| err(v.span(), "config_mismatch", "use refuse or warn".to_owned()))?;
    }
    if let Some(v) = raw.ip_retention_days {
        config.ip_retention_days = u32::try_from(*v.get_ref())
            .ok()
            .filter(|n| *n <= 36_500)
            .ok_or_else(|| {
                err(
                    v.span(),
                    "ip_retention_days",
                    "0 (keep) to 36500 days".to_owned(),
                )
            })?;
    }
    if let Some(v) = raw.key_file {
        if v.get_ref().trim().is_empty() {
            return Err(err(
                v.span(),
                "key_file",
                "give the path of the key file".to_owned(),
            ));
        }
        config.key_file = Some(PathBuf::from(v.get_ref()));
    }
    for t in raw.admin_tokens {
        if t.get_ref().len() < MIN_TOKEN_CHARS {
            return Err(err(
                t.span(),
                "admin_tokens",
                format!("use at least {MIN_TOKEN_CHARS} characters"),
            ));
        }
        config.admin_tokens.push(t.into_inner());
    }
    if let Some(v) = raw.edit_window_secs {
        let n = *v.get_ref();
        if !(0..=31_536_000).contains(&n) {
            return Err(err(
                v.span(),
                "edit_window_secs",
                "a number of seconds, 0 to 31536000".to_owned(),
            ));
        }
        config.edit_window_secs = n;
    }
    if let Some(v) = raw.trust_proxy {
        if *v.get_ref() {
            config.trusted_proxies = crate::net::TrustedProxies::loopback();
        }
    }
    if let Some(v) = raw.trusted_proxies {
        config.trusted_proxies = crate::net::TrustedProxies::parse(v.get_ref())
            .map_err(|m| err(v.span(), "trusted_proxies", m))?;
    }
    if let Some(v) = raw.ipv6_prefix {
        config.ipv6_prefix = u8::try_from(*v.get_ref())
            .ok()
            .filter(|n| (16..=128).contains(n))
            .ok_or_else(|| {
                err(
                    v.span(),
                    "ipv6_prefix",
                    "a prefix length, 16 to 128 (64: one home connection)".to_owned(),
                )
            })?;
    }
    if let Some(v) = raw.public_url {
        config.public_url =
            Some(check_public_url(v.get_ref()).map_err(|m| err(v.span(), "public_url", m))?);
    }
    if let Some(d) = raw.database {
        let number = |v: &Option<Spanned<i64>>,
                      key: &str,
                      range: std::ops::RangeInclusive<i64>|
         -> Result<Option<u64>, ConfigError> {
            match v {
                Some(v) if range.contains(v.get_ref()) => Ok(Some(*v.get_ref() as u64)),
                Some(v) => Err(err(
                    v.span(),
                    &format!("database.{key}"),
                    format!("must be between {} and {}", range.start(), range.end()),
                )),
                None => Ok(None),
            }
        };
        let db = &mut config.database;
        if let Some(n) = number(&d.pool_size, "pool_size", 1..=1000)? {
            db.pool_size = n as u32;
        }
        if let Some(n) = number(&d.acquire_timeout_secs, "acquire_timeout_secs", 1..=600)? {
            db.acquire_timeout = std::time::Duration::from_secs(n);
        }
        if let Some(n) = number(
            &d.statement_timeout_ms,
            "statement_timeout_ms",
            0..=3_600_000,
        )? {
            db.statement_timeout_ms = n;
        }
        if let Some(n) = number(&d.lock_timeout_ms, "lock_timeout_ms", 0..=3_600_000)? {
            db.lock_timeout_ms = n;
        }
        if let Some(n) = number(
            &d.idle_in_transaction_ms,
            "idle_in_transaction_ms",
            0..=3_600_000,
        )? {
            db.idle_in_transaction_ms = n;
        }
        if let Some(n) = number(&d.read_your_writes_secs, "read_your_writes_secs", 1..=3_600)? {
            db.read_your_writes_secs = u32::try_from(n).unwrap_or(10);
        }
    }
    if let Some(s) = raw.smtp {
        config.smtp = Some(smtp_from_file(s, &err)?);
    }
    if let Some(n) = raw.notifications {
        if let Some(v) = n.max_attempts {
            if !(1..=100).contains(v.get_ref()) {
                return Err(err(
                    v.span(),
                    "notifications.max_attempts",
                    "1 to 100".to_owned(),
                ));
            }
            config.notify.max_attempts = *v.get_ref() as u32;
        }
        if let Some(v) = n.retry_initial_secs {
            if !(1..=86_400).contains(v.get_ref()) {
                return Err(err(
                    v.span(),
                    "notifications.retry_initial_secs",
                    "1 to 86400 seconds".to_owned(),
                ));
            }
            config.notify.retry_initial = std::time::Duration::from_secs(*v.get_ref() as u64);
        }
        if let Some(v) = n.retention_days {
            config.notify.retention_days = u32::try_from(*v.get_ref())
                .ok()
                .filter(|n| *n <= 3650)
                .ok_or_else(|| {
                    err(
                        v.span(),
                        "notifications.retention_days",
                        "0 (keep) to 3650 days".to_owned(),
                    )
                })?;
        }
        if let Some(v) = n.concurrency {
            config.notify.concurrency = u32::try_from(*v.get_ref())
                .ok()
                .filter(|n| (1..=1024).contains(n))
                .ok_or_else(|| {
                    err(
                        v.span(),
                        "notifications.concurrency",
                        "1 to 1024 deliveries at once".to_owned(),
                    )
                })?;
        }
    }
    if let Some(l) = raw.limits {
        let set = |field: &Option<Spanned<i64>>,
                   key: &str,
                   range: std::ops::RangeInclusive<i64>,
                   target: &mut usize| {
            if let Some(v) = field {
                let n = *v.get_ref();
                if !range.contains(&n) {
                    return Err(err(
                        v.span(),
                        &format!("limits.{key}"),
                        format!("must be between {} and {}", range.start(), range.end()),
                    ));
                }
                *target = n as usize;
            }
            Ok(())
        };
        let lim = &mut config.limits;
        set(
            &l.max_body_bytes,
            "max_body_bytes",
            1024..=16 << 20,
            &mut lim.max_body_bytes,
        )?;
        set(
            &l.max_comment_chars,
            "max_comment_chars",
            1..=1_000_000,
            &mut lim.max_comment_chars,
        )?;
        set(
            &l.max_author_chars,
            "max_author_chars",
            1..=1000,
            &mut lim.max_author_chars,
        )?;
        set(
            &l.max_homepage_chars,
            "max_homepage_chars",
            10..=4096,
            &mut lim.max_homepage_chars,
        )?;
        set(
            &l.max_json_depth,
            "max_json_depth",
            2..=128,
            &mut lim.max_json_depth,
        )?;
        set(&l.max_batch, "max_batch", 1..=10_000, &mut lim.max_batch)?;
        let mut timeout = lim.request_timeout_secs as usize;
        set(
            &l.request_timeout_secs,
            "request_timeout_secs",
            1..=600,
            &mut timeout,
        )?;
        lim.request_timeout_secs = timeout as u64;
        let serving = [
            (&l.render_threads, "render_threads"),
            (&l.render_queue_ms, "render_queue_ms"),
            (&l.ip_previews_per_minute, "ip_previews_per_minute"),
            (&l.site_previews_per_minute, "site_previews_per_minute"),
            (&l.max_connections, "max_connections"),
            (&l.max_connections_per_ip, "max_connections_per_ip"),
            (&l.first_byte_timeout_secs, "first_byte_timeout_secs"),
            (&l.keep_alive_timeout_secs, "keep_alive_timeout_secs"),
            (&l.max_requests_in_flight, "max_requests_in_flight"),
            (&l.listing_cache_bytes, "listing_cache_bytes"),
            (&l.memo_cache_bytes, "memo_cache_bytes"),
        ];
        for (value, key) in serving {
            let (Some(v), Some(limit)) = (value, SERVING_LIMITS.iter().find(|s| s.key == key))
            else {
                continue;
            };
            if !limit.range.contains(v.get_ref()) {
                return Err(err(v.span(), &format!("limits.{key}"), limit.range_text()));
            }
            (limit.set)(lim, *v.get_ref());
        }
    }
    if !raw.sites.is_empty() {
        config.sites.clear();
    }
    for s in raw.sites {
        let (site, formats_at) = site_from_file(s, &config.sites, &err)?;
        locations.sites.insert(site.id.clone(), at(formats_at));
        config.sites.push(site);
    }
    Ok(())
}
