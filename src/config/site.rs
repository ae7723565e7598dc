//! One `[[site]]` table of `colloquy.toml`: the site as first created.

use serde::Deserialize;
use toml::Spanned;

use super::*;
use crate::moderation::ModerationMode;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileSite {
    id: Spanned<String>,
    formats: Option<Spanned<Vec<String>>>,
    default_format: Option<Spanned<String>>,
    moderation: Option<Spanned<String>>,
    hold_links: Option<Spanned<i64>>,
    duplicate_window_secs: Option<Spanned<i64>>,
    moderation_keys: Option<Spanned<Vec<String>>>,
    disallowed_keys: Option<Spanned<Vec<String>>>,
    trust_approved_authors: Option<bool>,
    close_after_days: Option<Spanned<i64>>,
    max_depth: Option<Spanned<i64>>,
    max_chars: Option<Spanned<i64>>,
    form_checks: Option<Spanned<String>>,
    honeypot: Option<bool>,
    votes: Option<bool>,
    downvotes: Option<bool>,
    min_submit_secs: Option<Spanned<i64>>,
    ip_posts_per_minute: Option<Spanned<i64>>,
    site_posts_per_minute: Option<Spanned<i64>>,
    scoring: Option<bool>,
    scoring_nudge: Option<bool>,
    hold_score: Option<Spanned<f64>>,
    spam_score: Option<Spanned<f64>>,
    report_threshold: Option<Spanned<i64>>,
    #[serde(default)]
    admin_tokens: Vec<Spanned<String>>,
    #[serde(default)]
    origins: Vec<Spanned<String>>,
    webhook_url: Option<Spanned<String>>,
    webhook_secret: Option<Spanned<String>>,
    #[serde(default)]
    moderator_emails: Vec<Spanned<String>>,
    anonymous: Option<Spanned<String>>,
    #[serde(default)]
    sso_keys: Vec<Spanned<FileSsoKey>>,
    sso_jwks_file: Option<String>,
}

/// One `[[site.sso_keys]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileSsoKey {
    kid: Option<String>,
    secret: Option<String>,
    public_key: Option<String>,
    public_key_file: Option<String>,
}

/// Shortest HS256 secret accepted: 256 bits, as RFC 7518 asks.
pub(super) const MIN_SSO_SECRET_CHARS: usize = 32;

/// A site from its table, checked key by key, and where its formats were
/// written (to point at them if a format turns out not to exist).
pub(super) fn site_from_file(
    s: FileSite,
    declared: &[SiteConfig],
    err: &impl Fn(std::ops::Range<usize>, &str, String) -> ConfigError,
) -> Result<(SiteConfig, usize), ConfigError> {
    let id = s.id.get_ref().clone();
    if crate::comment::SiteId::parse(&id).is_err() {
        return Err(err(
            s.id.span(),
            "site.id",
            "1-64 characters of a-z, 0-9, _ and -".to_owned(),
        ));
    }
    if declared.iter().any(|x| x.id == id) {
        return Err(err(
            s.id.span(),
            "site.id",
            format!("site `{id}` is declared twice"),
        ));
    }
    let mut site = SiteConfig {
        id: id.clone(),
        ..SiteConfig::default_site()
    };
    site.rules = site_rules(&s, &err)?;
    let formats_at = s.formats.as_ref().map_or(s.id.span(), Spanned::span);
    if let Some(f) = s.formats {
        if f.get_ref().is_empty() {
            return Err(err(
                f.span(),
                "site.formats",
                "list at least one format".to_owned(),
            ));
        }
        site.formats = f.into_inner();
    }
    site.default_format = match s.default_format {
        Some(d) => {
            if !site.formats.contains(d.get_ref()) {
                return Err(err(
                    d.span(),
                    "site.default_format",
                    format!("`{}` is not in this site's formats", d.get_ref()),
                ));
            }
            d.into_inner()
        }
        None => site.formats.first().cloned().unwrap_or_default(),
    };
    if let Some(m) = s.moderation {
        site.moderation = ModerationMode::parse(m.get_ref()).ok_or_else(|| {
            err(
                m.span(),
                "site.moderation",
                "use \"publish\", \"hold\" or \"rules\"".to_owned(),
            )
        })?;
    }
    if let Some(n) = s.hold_links {
        if !(0..=1000).contains(n.get_ref()) {
            return Err(err(
                n.span(),
                "site.hold_links",
                "0 (never) to 1000".to_owned(),
            ));
        }
        site.hold_links = *n.get_ref() as u32;
    }
    if let Some(n) = s.duplicate_window_secs {
        if !(0..=86_400).contains(n.get_ref()) {
            return Err(err(
                n.span(),
                "site.duplicate_window_secs",
                "0 (no check) to 86400".to_owned(),
            ));
        }
        site.duplicate_window_secs = *n.get_ref() as u32;
    }
    for t in s.admin_tokens {
        // A site token is as powerful on its site as a global one.
        if t.get_ref().len() < MIN_TOKEN_CHARS {
            return Err(err(
                t.span(),
                "site.admin_tokens",
                format!("use at least {MIN_TOKEN_CHARS} characters"),
            ));
        }
        site.admin_tokens.push(t.into_inner());
    }
    for o in s.origins {
        let origin =
            crate::net::parse_origin(o.get_ref()).map_err(|m| err(o.span(), "site.origins", m))?;
        site.origins.push(origin);
    }
    if let Some(u) = s.webhook_url {
        site.webhook_url =
            Some(check_webhook_url(u.get_ref()).map_err(|m| err(u.span(), "site.webhook_url", m))?);
        match &s.webhook_secret {
            Some(k) if k.get_ref().len() < 16 => {
                return Err(err(
                    k.span(),
                    "site.webhook_secret",
                    "use at least 16 characters".to_owned(),
                ))
            }
            Some(_) => {}
            None => {
                return Err(err(
                    u.span(),
                    "site.webhook_secret",
                    "a webhook_url needs a webhook_secret (16+ characters) to sign with".to_owned(),
                ))
            }
        }
    }
    site.webhook_secret = s.webhook_secret.map(Spanned::into_inner);
    for m in s.moderator_emails {
        if !looks_like_email(m.get_ref()) {
            return Err(err(
                m.span(),
                "site.moderator_emails",
                format!(
                    "`{}` is not an e-mail address like name@example.com",
                    m.get_ref()
                ),
            ));
        }
        site.moderator_emails.push(m.into_inner());
    }
    for k in s.sso_keys {
        let span = k.span();
        let k = k.into_inner();
        let source = match (k.secret, k.public_key, k.public_key_file) {
            (Some(s), None, None) if s.len() >= MIN_SSO_SECRET_CHARS => SsoKeySource::Secret(s),
            (Some(_), None, None) => {
                return Err(err(
                    span,
                    "site.sso_keys.secret",
                    format!("use at least {MIN_SSO_SECRET_CHARS} characters"),
                ))
            }
            (None, Some(p), None) => SsoKeySource::Pem(p),
            (None, None, Some(f)) => SsoKeySource::PemFile(f.into()),
            _ => {
                return Err(err(
                    span,
                    "site.sso_keys",
                    "give exactly one of `secret` (HS256), `public_key` or `public_key_file` (PEM: RS256 or EdDSA)"
                        .to_owned(),
                ))
            }
        };
        site.sso_keys.push(SsoKeyConfig { kid: k.kid, source });
    }
    site.sso_jwks_file = s.sso_jwks_file.map(Into::into);
    Ok((site, formats_at.start))
}

/// A site's moderation rules from its table, each error at its key.
pub(super) fn site_rules(
    s: &FileSite,
    err: &impl Fn(std::ops::Range<usize>, &str, String) -> ConfigError,
) -> Result<crate::moderation::SiteRules, ConfigError> {
    use crate::moderation::{KeyList, SiteRules};
    let mut rules = SiteRules::default();
    for (value, key, slot) in [
        (
            &s.moderation_keys,
            "site.moderation_keys",
            &mut rules.moderation_keys,
        ),
        (
            &s.disallowed_keys,
            "site.disallowed_keys",
            &mut rules.disallowed_keys,
        ),
    ] {
        if let Some(v) = value {
            *slot = KeyList::new(v.get_ref().clone()).map_err(|e| err(v.span(), key, e.message))?;
        }
    }
    if let Some(v) = s.trust_approved_authors {
        rules.trust_approved_authors = v;
    }
    if let Some(v) = s.honeypot {
        rules.honeypot = v;
    }
    if let Some(v) = s.votes {
        rules.votes = v;
    }
    if let Some(v) = s.downvotes {
        rules.downvotes = v;
    }
    if let Some(v) = s.scoring {
        rules.scoring = v;
    }
    if let Some(v) = &s.anonymous {
        rules.anonymous = crate::moderation::Anonymous::parse(v.get_ref()).ok_or_else(|| {
            err(
                v.span(),
                "site.anonymous",
                "use \"allowed\", \"held\" or \"signed_in_only\"".to_owned(),
            )
        })?;
    }
    if let Some(v) = s.scoring_nudge {
        rules.scoring_nudge = v;
    }
    if let Some(v) = &s.form_checks {
        rules.form_checks = crate::moderation::FormChecks::parse(v.get_ref()).ok_or_else(|| {
            err(
                v.span(),
                "site.form_checks",
                "use \"browsers\", \"all\" or \"off\"".to_owned(),
            )
        })?;
    }
    let numbers = [
        (
            &s.close_after_days,
            "close_after_days",
            &mut rules.close_after_days,
        ),
        (&s.max_depth, "max_depth", &mut rules.max_depth),
        (&s.max_chars, "max_chars", &mut rules.max_chars),
        (
            &s.min_submit_secs,
            "min_submit_secs",
            &mut rules.min_submit_secs,
        ),
        (
            &s.ip_posts_per_minute,
            "ip_posts_per_minute",
            &mut rules.ip_posts_per_minute,
        ),
        (
            &s.site_posts_per_minute,
            "site_posts_per_minute",
            &mut rules.site_posts_per_minute,
        ),
        (
            &s.report_threshold,
            "report_threshold",
            &mut rules.report_threshold,
        ),
    ];
    let mut spans = Vec::new();
    for (value, key, slot) in numbers {
        if let Some(v) = value {
            *slot = u32::try_from(*v.get_ref()).map_err(|_| {
                err(
                    v.span(),
                    &format!("site.{key}"),
                    "a whole number, 0 or more".to_owned(),
                )
            })?;
            spans.push((key, v.span()));
        }
    }
    for (value, key, slot) in [
        (&s.hold_score, "hold_score", &mut rules.hold_score),
        (&s.spam_score, "spam_score", &mut rules.spam_score),
    ] {
        if let Some(v) = value {
            // Checked for range below, with the other rules.
            *slot = crate::moderation::ScoreThreshold(*v.get_ref());
            spans.push((key, v.span()));
        }
    }
    rules.check().map_err(|(field, message)| {
        let span = spans
            .iter()
            .find(|(k, _)| *k == field)
            .map_or(s.id.span(), |(_, sp)| sp.clone());
        err(span, &format!("site.{field}"), message)
    })?;
    Ok(rules)
}
