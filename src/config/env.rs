//! `COLLOQUY_*` environment variables: each overrides its file key.

use std::path::PathBuf;

use super::*;

pub(super) fn apply_env(
    config: &mut Config,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<(), ConfigError> {
    if let Some(v) = env("COLLOQUY_LISTEN") {
        config.listen =
            parse_listen(&v).map_err(|m| ConfigError::at("COLLOQUY_LISTEN", "listen", m))?;
    }
    if let Some(v) = env("COLLOQUY_DATABASE_URL").or_else(|| env("COLLOQUY_DATABASE")) {
        config.database_url = check_database_url(&v)
            .map_err(|m| ConfigError::at("COLLOQUY_DATABASE_URL", "database_url", m))?;
    }
    if let Some(v) = env("COLLOQUY_READ_DATABASE_URL") {
        config.database.read_url =
            Some(check_replica_url(&v).map_err(|m| {
                ConfigError::at("COLLOQUY_READ_DATABASE_URL", "read_database_url", m)
            })?);
    }
    if let Some(v) = env("COLLOQUY_DB_POOL_SIZE") {
        config.database.pool_size = v
            .parse()
            .ok()
            .filter(|n: &u32| (1..=1000).contains(n))
            .ok_or_else(|| {
                ConfigError::at(
                    "COLLOQUY_DB_POOL_SIZE",
                    "database.pool_size",
                    "1 to 1000 connections",
                )
            })?;
    }
    if let Some(v) = env("COLLOQUY_POLICIES") {
        config.policies_dir = PathBuf::from(v);
    }
    if let Some(v) = env("COLLOQUY_ADMIN_TOKEN") {
        if v.len() < MIN_TOKEN_CHARS {
            return Err(ConfigError::at(
                "COLLOQUY_ADMIN_TOKEN",
                "admin_token",
                format!("use at least {MIN_TOKEN_CHARS} characters"),
            ));
        }
        config.admin_tokens.push(v);
    }
    if let Some(v) = env("COLLOQUY_EDIT_WINDOW_SECS") {
        config.edit_window_secs = v
            .parse()
            .ok()
            .filter(|n: &i64| (0..=31_536_000).contains(n))
            .ok_or_else(|| {
                ConfigError::at(
                    "COLLOQUY_EDIT_WINDOW_SECS",
                    "edit_window_secs",
                    "a number of seconds, 0 to 31536000",
                )
            })?;
    }
    if let Some(v) = env("COLLOQUY_MAX_BODY_BYTES") {
        config.limits.max_body_bytes = v
            .parse()
            .ok()
            .filter(|n: &usize| (1024..=16 << 20).contains(n))
            .ok_or_else(|| {
                ConfigError::at(
                    "COLLOQUY_MAX_BODY_BYTES",
                    "limits.max_body_bytes",
                    "a number of bytes, 1024 to 16777216",
                )
            })?;
    }
    for limit in &SERVING_LIMITS {
        if let Some(v) = env(limit.env) {
            let n = v
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| limit.range.contains(n))
                .ok_or_else(|| {
                    ConfigError::at(
                        limit.env,
                        &format!("limits.{}", limit.key),
                        limit.range_text(),
                    )
                })?;
            (limit.set)(&mut config.limits, n);
        }
    }
    if let Some(v) = env("COLLOQUY_TRUST_PROXY") {
        // The older switch: a proxy on this host.
        if matches!(v.as_str(), "1" | "true" | "yes" | "on") {
            config.trusted_proxies = crate::net::TrustedProxies::loopback();
        }
    }
    if let Some(v) = env("COLLOQUY_TRUSTED_PROXIES") {
        let entries: Vec<&str> = v.split(',').filter(|e| !e.trim().is_empty()).collect();
        config.trusted_proxies = crate::net::TrustedProxies::parse(&entries)
            .map_err(|m| ConfigError::at("COLLOQUY_TRUSTED_PROXIES", "trusted_proxies", m))?;
    }
    if let Some(v) = env("COLLOQUY_IPV6_PREFIX") {
        config.ipv6_prefix = v
            .parse()
            .ok()
            .filter(|n: &u8| (16..=128).contains(n))
            .ok_or_else(|| {
                ConfigError::at(
                    "COLLOQUY_IPV6_PREFIX",
                    "ipv6_prefix",
                    "a prefix length, 16 to 128 (64: one home connection)",
                )
            })?;
    }
    if let Some(v) = env("COLLOQUY_PUBLIC_URL") {
        config.public_url = Some(
            check_public_url(&v)
                .map_err(|m| ConfigError::at("COLLOQUY_PUBLIC_URL", "public_url", m))?,
        );
    }
    if let Some(v) = env("COLLOQUY_SMTP_PASSWORD") {
        match &mut config.smtp {
            Some(smtp) => smtp.password = Some(v),
            None => {
                return Err(ConfigError::at(
                    "COLLOQUY_SMTP_PASSWORD",
                    "smtp.password",
                    "there is no [smtp] table in the configuration file to use it with",
                ))
            }
        }
    }
    if let Some(v) = env("COLLOQUY_RATE_LIMIT") {
        config.rate_limit = match v.as_str() {
            "on" | "1" | "true" | "yes" => true,
            "off" | "0" | "false" | "no" => false,
            _ => {
                return Err(ConfigError::at(
                    "COLLOQUY_RATE_LIMIT",
                    "rate_limit",
                    "use on or off",
                ))
            }
        };
    }
    if let Some(v) = env("COLLOQUY_CONFIG_MISMATCH") {
        config.config_mismatch = super::MismatchPolicy::parse(v.trim()).ok_or_else(|| {
            ConfigError::at(
                "COLLOQUY_CONFIG_MISMATCH",
                "config_mismatch",
                "use refuse or warn",
            )
        })?;
    }
    if let Some(v) = env("COLLOQUY_KEY_FILE") {
        if v.trim().is_empty() {
            return Err(ConfigError::at(
                "COLLOQUY_KEY_FILE",
                "key_file",
                "give the path of the key file",
            ));
        }
        config.key_file = Some(PathBuf::from(v));
    }
    if let Some(v) = env("COLLOQUY_SECRET_KEY") {
        config.secret_key = Some(
            check_secret_key(&v)
                .map_err(|m| ConfigError::at("COLLOQUY_SECRET_KEY", "secret_key", m))?,
        );
    }
    if let Some(v) = env("COLLOQUY_NOTIFY_RETENTION_DAYS") {
        config.notify.retention_days =
            v.parse().ok().filter(|n: &u32| *n <= 3650).ok_or_else(|| {
                ConfigError::at(
                    "COLLOQUY_NOTIFY_RETENTION_DAYS",
                    "notifications.retention_days",
                    "a number of days, 0 (keep) to 3650",
                )
            })?;
    }
    if let Some(v) = env("COLLOQUY_NOTIFY_CONCURRENCY") {
        config.notify.concurrency = v
            .parse()
            .ok()
            .filter(|n: &u32| (1..=1024).contains(n))
            .ok_or_else(|| {
                ConfigError::at(
                    "COLLOQUY_NOTIFY_CONCURRENCY",
                    "notifications.concurrency",
                    "a number of deliveries at once, 1 to 1024",
                )
            })?;
    }
    if let Some(v) = env("COLLOQUY_IP_RETENTION_DAYS") {
        config.ip_retention_days =
            v.parse()
                .ok()
                .filter(|n: &u32| *n <= 36_500)
                .ok_or_else(|| {
                    ConfigError::at(
                        "COLLOQUY_IP_RETENTION_DAYS",
                        "ip_retention_days",
                        "a number of days, 0 (keep) to 36500",
                    )
                })?;
    }
    Ok(())
}
