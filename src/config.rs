//! Service configuration: `colloquy.toml`, `COLLOQUY_*` environment
//! variables, and command-line flags, in rising order of precedence.
//!
//! Everything has a default, so `colloquy serve` runs with no file at all:
//! 127.0.0.1:8080, SQLite `colloquy.db` in the working directory, one site
//! `default` offering `filtered_html` (default) and `plain_text`. Invalid
//! configuration fails at start with the file, line and key.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

/// A configuration problem, located where possible.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}: {key}: {message}")]
pub struct ConfigError {
    /// `colloquy.toml:12:5`, `COLLOQUY_LISTEN` or `--listen`.
    pub origin: String,
    /// The key concerned.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

/// How a site moderates new comments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModerationMode {
    /// Publish every comment at once.
    Publish,
    /// Hold every comment for a moderator.
    Hold,
    /// Hold comments that the rules flag (for now: too many links).
    Rules,
}

impl ModerationMode {
    /// The mode as written in files and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            ModerationMode::Publish => "publish",
            ModerationMode::Hold => "hold",
            ModerationMode::Rules => "rules",
        }
    }

    /// Parses a mode.
    pub fn parse(s: &str) -> Option<ModerationMode> {
        match s {
            "publish" => Some(ModerationMode::Publish),
            "hold" => Some(ModerationMode::Hold),
            "rules" => Some(ModerationMode::Rules),
            _ => None,
        }
    }
}

/// One site as declared in the configuration (the first time the service
/// sees it, it is created with these settings; afterwards the stored
/// settings, editable through the admin API, are authoritative).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteConfig {
    /// The site id.
    pub id: String,
    /// Allowed text formats, in display order.
    pub formats: Vec<String>,
    /// The format used when a post names none.
    pub default_format: String,
    /// Moderation mode for new sites.
    pub moderation: ModerationMode,
    /// Comments with this many links or more are held (mode `rules`).
    pub hold_links: u32,
    /// The same poster's same text in the same thread within this many
    /// seconds is refused as a duplicate (0: no check).
    pub duplicate_window_secs: u32,
    /// The further moderation rules (key lists, limits, form checks).
    pub rules: crate::moderation::SiteRules,
    /// Tokens granting admin rights on this site only.
    pub admin_tokens: Vec<String>,
    /// Origins allowed to call the API from a browser (CORS, form posts).
    pub origins: Vec<String>,
}

impl SiteConfig {
    /// The built-in `default` site.
    pub fn default_site() -> SiteConfig {
        SiteConfig {
            id: "default".to_owned(),
            formats: vec!["filtered_html".to_owned(), "plain_text".to_owned()],
            default_format: "filtered_html".to_owned(),
            moderation: ModerationMode::Rules,
            hold_links: 2,
            duplicate_window_secs: 600,
            rules: crate::moderation::SiteRules::default(),
            admin_tokens: Vec::new(),
            origins: Vec::new(),
        }
    }
}

/// Request and field limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Longest comment body, in characters.
    pub max_comment_chars: usize,
    /// Longest author name, in characters.
    pub max_author_chars: usize,
    /// Longest homepage URL, in characters.
    pub max_homepage_chars: usize,
    /// Deepest JSON nesting accepted in a request body.
    pub max_json_depth: usize,
    /// Most items in one list request or bulk action.
    pub max_batch: usize,
    /// Time allowed for one request, in seconds.
    pub request_timeout_secs: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_body_bytes: 64 * 1024,
            max_comment_chars: 20_000,
            max_author_chars: 100,
            max_homepage_chars: 512,
            max_json_depth: 16,
            max_batch: 200,
            request_timeout_secs: 10,
        }
    }
}

/// The whole configuration.
#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// `sqlite:PATH` or `postgres://…`.
    pub database_url: String,
    /// Directory of policy files (`policies` by default, bundled copies if absent).
    pub policies_dir: PathBuf,
    /// Tokens granting admin rights on every site.
    pub admin_tokens: Vec<String>,
    /// Declared sites.
    pub sites: Vec<SiteConfig>,
    /// Limits.
    pub limits: Limits,
    /// How long an author may edit or delete a comment, in seconds.
    pub edit_window_secs: i64,
    /// Trust `X-Forwarded-For` from a reverse proxy for the client address.
    pub trust_proxy: bool,
    /// Public base URL of this service, for links in feeds.
    pub public_url: Option<String>,
    /// Apply the sites' rate limits (`COLLOQUY_RATE_LIMIT=off` for load
    /// benchmarks).
    pub rate_limit: bool,
    /// Forget comments' IP hashes after this many days (0: keep them).
    pub ip_retention_days: u32,
}

impl fmt::Debug for Config {
    // Tokens and database passwords stay out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("database_url", &redact_url(&self.database_url))
            .field("policies_dir", &self.policies_dir)
            .field(
                "admin_tokens",
                &format_args!("[{} redacted]", self.admin_tokens.len()),
            )
            .field(
                "sites",
                &self.sites.iter().map(|s| &s.id).collect::<Vec<_>>(),
            )
            .field("limits", &self.limits)
            .field("edit_window_secs", &self.edit_window_secs)
            .finish_non_exhaustive()
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &userinfo[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

impl Default for Config {
    fn default() -> Config {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: "sqlite:colloquy.db".to_owned(),
            policies_dir: PathBuf::from("policies"),
            admin_tokens: Vec::new(),
            sites: vec![SiteConfig::default_site()],
            limits: Limits::default(),
            edit_window_secs: 15 * 60,
            trust_proxy: false,
            public_url: None,
            rate_limit: true,
            ip_retention_days: 30,
        }
    }
}

/// Values given on the command line.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--config`.
    pub config: Option<PathBuf>,
    /// `--listen`.
    pub listen: Option<String>,
    /// `--database`.
    pub database: Option<String>,
    /// `--policies`.
    pub policies: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<Spanned<String>>,
    database_url: Option<Spanned<String>>,
    policies: Option<Spanned<String>>,
    #[serde(default)]
    admin_tokens: Vec<Spanned<String>>,
    edit_window_secs: Option<Spanned<i64>>,
    trust_proxy: Option<bool>,
    public_url: Option<Spanned<String>>,
    rate_limit: Option<bool>,
    ip_retention_days: Option<Spanned<i64>>,
    limits: Option<FileLimits>,
    #[serde(default, rename = "site")]
    sites: Vec<FileSite>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLimits {
    max_body_bytes: Option<Spanned<i64>>,
    max_comment_chars: Option<Spanned<i64>>,
    max_author_chars: Option<Spanned<i64>>,
    max_homepage_chars: Option<Spanned<i64>>,
    max_json_depth: Option<Spanned<i64>>,
    max_batch: Option<Spanned<i64>>,
    request_timeout_secs: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSite {
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
    honeypot: Option<bool>,
    min_submit_secs: Option<Spanned<i64>>,
    ip_posts_per_minute: Option<Spanned<i64>>,
    site_posts_per_minute: Option<Spanned<i64>>,
    #[serde(default)]
    admin_tokens: Vec<String>,
    #[serde(default)]
    origins: Vec<String>,
}

/// Where each site's format settings were written, to point at them when a
/// format turns out not to exist once policies are loaded.
#[derive(Debug, Clone, Default)]
pub struct Locations {
    sites: HashMap<String, String>,
}

impl Locations {
    /// `file:line:col` of a site's `formats` (or `id`), if it came from a file.
    pub fn site(&self, id: &str) -> Option<&str> {
        self.sites.get(id).map(String::as_str)
    }
}

impl Config {
    /// Builds the configuration from the optional file, the environment and
    /// the command line. `env` is a lookup so tests need not touch the
    /// process environment.
    ///
    /// # Errors
    /// The first invalid value, with its origin.
    pub fn load(
        overrides: &Overrides,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<(Config, Locations), ConfigError> {
        let mut config = Config::default();
        let mut locations = Locations::default();
        let path = overrides
            .config
            .clone()
            .or_else(|| env("COLLOQUY_CONFIG").map(PathBuf::from))
            .or_else(|| {
                Path::new("colloquy.toml")
                    .is_file()
                    .then(|| PathBuf::from("colloquy.toml"))
            });
        if let Some(path) = path {
            let text = std::fs::read_to_string(&path).map_err(|e| ConfigError {
                origin: path.display().to_string(),
                key: "(file)".to_owned(),
                message: format!("cannot read the configuration file: {e}"),
            })?;
            apply_file(
                &mut config,
                &mut locations,
                &path.display().to_string(),
                &text,
            )?;
        }
        apply_env(&mut config, &env)?;
        if let Some(listen) = &overrides.listen {
            config.listen =
                parse_listen(listen).map_err(|m| ConfigError::at("--listen", "listen", m))?;
        }
        if let Some(db) = &overrides.database {
            config.database_url = check_database_url(db)
                .map_err(|m| ConfigError::at("--database", "database_url", m))?;
        }
        if let Some(p) = &overrides.policies {
            config.policies_dir = p.clone();
        }
        Ok((config, locations))
    }
}

impl ConfigError {
    fn at(origin: &str, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError {
            origin: origin.to_owned(),
            key: key.to_owned(),
            message: message.into(),
        }
    }
}

fn parse_listen(s: &str) -> Result<SocketAddr, String> {
    s.parse()
        .map_err(|_| format!("`{s}` is not an address:port such as 127.0.0.1:8080"))
}

fn check_database_url(s: &str) -> Result<String, String> {
    if s.starts_with("sqlite:") || s.starts_with("postgres://") || s.starts_with("postgresql://") {
        Ok(s.to_owned())
    } else {
        Err(format!(
            "`{}` is neither sqlite:PATH nor postgres://…",
            redact_url(s)
        ))
    }
}

fn apply_env(
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
    if let Some(v) = env("COLLOQUY_POLICIES") {
        config.policies_dir = PathBuf::from(v);
    }
    if let Some(v) = env("COLLOQUY_ADMIN_TOKEN") {
        if v.len() < 16 {
            return Err(ConfigError::at(
                "COLLOQUY_ADMIN_TOKEN",
                "admin_token",
                "use at least 16 characters",
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
    if let Some(v) = env("COLLOQUY_TRUST_PROXY") {
        config.trust_proxy = matches!(v.as_str(), "1" | "true" | "yes" | "on");
    }
    if let Some(v) = env("COLLOQUY_PUBLIC_URL") {
        config.public_url = Some(v.trim_end_matches('/').to_owned());
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

fn apply_file(
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
    if let Some(v) = raw.policies {
        config.policies_dir = PathBuf::from(v.get_ref());
    }
    if let Some(v) = raw.rate_limit {
        config.rate_limit = v;
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
    for t in raw.admin_tokens {
        if t.get_ref().len() < 16 {
            return Err(err(
                t.span(),
                "admin_tokens",
                "use at least 16 characters".to_owned(),
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
        config.trust_proxy = v;
    }
    if let Some(v) = raw.public_url {
        config.public_url = Some(v.get_ref().trim_end_matches('/').to_owned());
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
    }
    if !raw.sites.is_empty() {
        config.sites.clear();
    }
    for s in raw.sites {
        let id = s.id.get_ref().clone();
        if crate::comment::SiteId::parse(&id).is_err() {
            return Err(err(
                s.id.span(),
                "site.id",
                "1-64 characters of a-z, 0-9, _ and -".to_owned(),
            ));
        }
        if config.sites.iter().any(|x| x.id == id) {
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
        site.admin_tokens = s.admin_tokens;
        site.origins = s.origins;
        locations.sites.insert(id, at(formats_at.start));
        config.sites.push(site);
    }
    Ok(())
}

/// A site's moderation rules from its table, each error at its key.
fn site_rules(
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
    rules.check().map_err(|(field, message)| {
        let span = spans
            .iter()
            .find(|(k, _)| *k == field)
            .map_or(s.id.span(), |(_, sp)| sp.clone());
        err(span, &format!("site.{field}"), message)
    })?;
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str) -> Result<Config, ConfigError> {
        let dir = std::env::temp_dir().join(format!(
            "colloquy-config-{}-{}",
            std::process::id(),
            text.len()
        ));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("colloquy.toml");
        std::fs::write(&path, text).expect("write");
        let o = Overrides {
            config: Some(path),
            ..Overrides::default()
        };
        Config::load(&o, |_| None).map(|(c, _)| c)
    }

    #[test]
    fn defaults_need_no_file() {
        let (c, _) = Config::load(&Overrides::default(), |_| None).expect("defaults");
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.database_url, "sqlite:colloquy.db");
        assert_eq!(c.sites[0].formats, ["filtered_html", "plain_text"]);
    }

    #[test]
    fn flags_beat_environment_beats_file() {
        let o = Overrides {
            listen: Some("127.0.0.1:9000".into()),
            ..Overrides::default()
        };
        let env = |k: &str| match k {
            "COLLOQUY_LISTEN" => Some("127.0.0.1:7000".to_owned()),
            "COLLOQUY_ADMIN_TOKEN" => Some("0123456789abcdef0".to_owned()),
            _ => None,
        };
        let (c, _) = Config::load(&o, env).expect("valid");
        assert_eq!(c.listen.to_string(), "127.0.0.1:9000");
        assert_eq!(c.admin_tokens.len(), 1);
    }

    #[test]
    fn unknown_keys_and_bad_values_name_file_line_and_key() {
        let e = load_text("listen = \"127.0.0.1:1\"\nlisten_port = 3\n").expect_err("unknown key");
        assert!(e.origin.ends_with("colloquy.toml:2:1"), "{e}");
        assert_eq!(e.key, "listen_port");
        let e = load_text(
            "[[site]]\nid = \"a\"\nformats = [\"plain_text\"]\ndefault_format = \"markdown\"\n",
        )
        .expect_err("bad default");
        assert!(e.origin.ends_with(":4:18"), "{e}");
        assert_eq!(e.key, "site.default_format");
        let e = load_text("[limits]\nmax_body_bytes = 5\n").expect_err("too small");
        assert_eq!(e.key, "limits.max_body_bytes");
    }

    #[test]
    fn site_moderation_rules_load_and_errors_point_at_their_key() {
        let c = load_text(
            "ip_retention_days = 7\n[[site]]\nid = \"a\"\nmoderation_keys = [\"viagra\", \"/c[a4]sino/\"]\n\
             trust_approved_authors = true\nclose_after_days = 14\nmin_submit_secs = 0\n",
        )
        .expect("valid");
        let rules = &c.sites[0].rules;
        assert_eq!(rules.moderation_keys.keys(), ["viagra", "/c[a4]sino/"]);
        assert!(rules.trust_approved_authors);
        assert_eq!(rules.close_after_days, 14);
        assert_eq!(rules.min_submit_secs, 0);
        assert_eq!(c.ip_retention_days, 7);
        let e = load_text("[[site]]\nid = \"a\"\ndisallowed_keys = [\"/(oops/\"]\n")
            .expect_err("broken expression");
        assert!(e.origin.ends_with(":3:19"), "{e}");
        assert_eq!(e.key, "site.disallowed_keys");
        assert!(e.message.contains("`/(oops/`"), "{e}");
        let e = load_text("[[site]]\nid = \"a\"\nmax_depth = 5000\n").expect_err("too deep");
        assert!(e.origin.ends_with(":3:13"), "{e}");
        assert_eq!(e.key, "site.max_depth");
        let e = load_text("[[site]]\nid = \"a\"\nmax_chars = -1\n").expect_err("negative");
        assert_eq!(e.key, "site.max_chars");
    }

    #[test]
    fn rate_limits_can_be_switched_off_from_the_environment() {
        let o = Overrides::default();
        let (c, _) = Config::load(&o, |_| None).expect("defaults");
        assert!(c.rate_limit);
        let (c, _) = Config::load(&o, |k| {
            (k == "COLLOQUY_RATE_LIMIT").then(|| "off".to_owned())
        })
        .expect("off");
        assert!(!c.rate_limit);
        let e = Config::load(&o, |k| {
            (k == "COLLOQUY_RATE_LIMIT").then(|| "maybe".to_owned())
        })
        .expect_err("bad value");
        assert_eq!(e.origin, "COLLOQUY_RATE_LIMIT");
    }

    #[test]
    fn debug_output_hides_secrets() {
        let c = Config {
            database_url: "postgres://u:hunter2@db/x".into(),
            admin_tokens: vec!["supersecrettoken1".into()],
            ..Config::default()
        };
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("supersecret"),
            "{shown}"
        );
    }
}
