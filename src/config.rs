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
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
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
    /// Where comment events are POSTed as signed JSON (http or https).
    pub webhook_url: Option<String>,
    /// The key that signs webhook bodies (required with `webhook_url`).
    pub webhook_secret: Option<String>,
    /// Who is e-mailed about held comments, with one-click action links.
    pub moderator_emails: Vec<String>,
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
            webhook_url: None,
            webhook_secret: None,
            moderator_emails: Vec::new(),
        }
    }
}

/// Shortest admin token accepted anywhere (global or per site): 16
/// characters of a random token are beyond guessing over HTTP.
pub const MIN_TOKEN_CHARS: usize = 16;

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
    /// Threads that render comments (previews, posts, edits); 0: one per
    /// core.
    pub render_threads: usize,
    /// How long a render may wait for a free thread before the request is
    /// answered 503, in milliseconds.
    pub render_queue_ms: u64,
    /// Previews one address may ask for per minute (0: no limit).
    pub ip_previews_per_minute: u32,
    /// Previews one site renders per minute, for every address together
    /// (0: no limit).
    pub site_previews_per_minute: u32,
    /// Most open client connections.
    pub max_connections: usize,
    /// Most open connections from one address, an IPv6 client by its
    /// network (0: no limit; trusted proxies have none).
    pub max_connections_per_ip: usize,
    /// A new connection that sends nothing for this long is closed, in
    /// seconds.
    pub first_byte_timeout_secs: u64,
    /// A kept-alive connection idle between requests for this long is
    /// closed, in seconds.
    pub keep_alive_timeout_secs: u64,
    /// Most requests handled at once; more wait (within the request
    /// timeout) for one to finish.
    pub max_requests_in_flight: usize,
    /// Bytes the listing cache may hold (0: no cache).
    pub listing_cache_bytes: u64,
    /// Bytes the caches of site settings and comment counts may hold,
    /// together.
    pub memo_cache_bytes: u64,
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
            render_threads: 0,
            render_queue_ms: 1000,
            ip_previews_per_minute: 30,
            site_previews_per_minute: 1200,
            max_connections: 10_000,
            max_connections_per_ip: 64,
            first_byte_timeout_secs: 5,
            keep_alive_timeout_secs: 20,
            max_requests_in_flight: 1024,
            listing_cache_bytes: 64 << 20,
            memo_cache_bytes: 8 << 20,
        }
    }
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain text (a relay on localhost or a private network only).
    None,
    /// Plain connection upgraded with STARTTLS (required), usually port 587.
    Starttls,
    /// TLS from the first byte, usually port 465.
    Tls,
}

impl SmtpTls {
    fn parse(s: &str) -> Option<SmtpTls> {
        match s {
            "none" => Some(SmtpTls::None),
            "starttls" => Some(SmtpTls::Starttls),
            "tls" => Some(SmtpTls::Tls),
            _ => None,
        }
    }
}

/// The SMTP server that sends notification e-mails.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    /// Host name of the server.
    pub host: String,
    /// Port (default: 25 with `none`, 587 with `starttls`, 465 with `tls`).
    pub port: u16,
    /// The `From` address of every notification.
    pub from: String,
    /// Login, when the server wants one.
    pub username: Option<String>,
    /// Password for `username`.
    pub password: Option<String>,
    /// Transport security.
    pub tls: SmtpTls,
}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("from", &self.from)
            .field("username", &self.username)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

/// Connections to the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseConfig {
    /// Most connections this server opens (PostgreSQL; SQLite has one
    /// writer and this many readers at most 4).
    pub pool_size: u32,
    /// How long a request waits for a free connection before it is
    /// answered 503.
    pub acquire_timeout: std::time::Duration,
    /// PostgreSQL: longest a statement may run (`statement_timeout`), so a
    /// request that timed out does not leave its query running.
    pub statement_timeout_ms: u64,
    /// PostgreSQL: longest a statement waits for a row lock
    /// (`lock_timeout`): one stuck transaction cannot hold every connection.
    pub lock_timeout_ms: u64,
    /// PostgreSQL: a session idle inside a transaction this long is ended
    /// (`idle_in_transaction_session_timeout`).
    pub idle_in_transaction_ms: u64,
}

impl Default for DatabaseConfig {
    fn default() -> DatabaseConfig {
        DatabaseConfig {
            pool_size: 16,
            acquire_timeout: std::time::Duration::from_secs(5),
            statement_timeout_ms: 5_000,
            lock_timeout_ms: 2_000,
            idle_in_transaction_ms: 10_000,
        }
    }
}

/// Delivery of notifications: polling and retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyConfig {
    /// Attempts per delivery before it is kept as `failed`.
    pub max_attempts: u32,
    /// Wait before the first retry; each further retry waits twice as long
    /// (capped at an hour).
    pub retry_initial: std::time::Duration,
    /// How often the notifier looks for new events and due deliveries.
    pub poll_interval: std::time::Duration,
    /// Delivered and failed deliveries (with the addresses and texts they
    /// hold) are deleted after this many days (0: keep them).
    pub retention_days: u32,
}

impl Default for NotifyConfig {
    fn default() -> NotifyConfig {
        NotifyConfig {
            max_attempts: 8,
            retry_initial: std::time::Duration::from_secs(30),
            poll_interval: std::time::Duration::from_secs(1),
            retention_days: 7,
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
    /// Pool sizes and PostgreSQL session timeouts.
    pub database: DatabaseConfig,
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
    /// The reverse proxies whose `X-Forwarded-For` names the client (none:
    /// the peer address is the client).
    pub trusted_proxies: crate::net::TrustedProxies,
    /// IPv6 clients are known by their network of this many bits (64: one
    /// home connection), for rate limits, duplicate checks, IP keys and
    /// IP hashes.
    pub ipv6_prefix: u8,
    /// Public base URL of this service, for links in feeds and e-mails.
    pub public_url: Option<String>,
    /// SMTP server for notification e-mails (none: no e-mails).
    pub smtp: Option<SmtpConfig>,
    /// Notification delivery settings.
    pub notify: NotifyConfig,
    /// Apply the sites' rate limits (`COLLOQUY_RATE_LIMIT=off` for load
    /// benchmarks).
    pub rate_limit: bool,
    /// Forget comments' IP hashes after this many days (0: keep them).
    pub ip_retention_days: u32,
    /// The file holding the secret keys (see [`Config::key_file_path`] for
    /// the default).
    pub key_file: Option<PathBuf>,
    /// The master secret itself (`COLLOQUY_SECRET_KEY`), instead of a file.
    pub secret_key: Option<String>,
    /// How often expired data (IP hashes, old deliveries, used links) is
    /// purged; hourly (tests make it shorter).
    pub purge_interval: std::time::Duration,
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
            .field("smtp", &self.smtp)
            .field("key_file", &self.key_file)
            .field(
                "secret_key",
                &self.secret_key.as_ref().map(|_| "[redacted]"),
            )
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
            database: DatabaseConfig::default(),
            policies_dir: PathBuf::from("policies"),
            admin_tokens: Vec::new(),
            sites: vec![SiteConfig::default_site()],
            limits: Limits::default(),
            edit_window_secs: 15 * 60,
            trusted_proxies: crate::net::TrustedProxies::none(),
            ipv6_prefix: 64,
            public_url: None,
            smtp: None,
            notify: NotifyConfig::default(),
            rate_limit: true,
            ip_retention_days: 30,
            key_file: None,
            secret_key: None,
            purge_interval: std::time::Duration::from_secs(3600),
        }
    }
}

impl Config {
    /// Where the key file is: `key_file` when set; else beside a SQLite
    /// database file (`sqlite:data/comments.db` → `data/comments.keys`,
    /// so the default `colloquy.db` gives `colloquy.keys` in the working
    /// directory); else `colloquy.keys` in the working directory.
    pub fn key_file_path(&self) -> PathBuf {
        if let Some(p) = &self.key_file {
            return p.clone();
        }
        let sqlite_file = self
            .database_url
            .strip_prefix("sqlite:")
            .map(|rest| rest.trim_start_matches("//"))
            .map(|rest| rest.split('?').next().unwrap_or(""))
            .filter(|path| !path.is_empty() && !path.starts_with(':'));
        match sqlite_file {
            Some(path) => Path::new(path).with_extension("keys"),
            None => PathBuf::from("colloquy.keys"),
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
    trust_proxy: Option<Spanned<bool>>,
    trusted_proxies: Option<Spanned<Vec<String>>>,
    ipv6_prefix: Option<Spanned<i64>>,
    public_url: Option<Spanned<String>>,
    rate_limit: Option<bool>,
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
struct FileLimits {
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

/// A `[limits]` setting for serving on the public internet: its key, its
/// `COLLOQUY_*` variable, the values allowed and where it goes. Files and
/// the environment share this table.
struct ServingLimit {
    key: &'static str,
    env: &'static str,
    range: std::ops::RangeInclusive<i64>,
    set: fn(&mut Limits, i64),
}

// Every range is within the target type, so the casts below are exact.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
const SERVING_LIMITS: [ServingLimit; 11] = [
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
    fn range_text(&self) -> String {
        format!(
            "must be between {} and {}",
            self.range.start(),
            self.range.end()
        )
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDatabase {
    pool_size: Option<Spanned<i64>>,
    acquire_timeout_secs: Option<Spanned<i64>>,
    statement_timeout_ms: Option<Spanned<i64>>,
    lock_timeout_ms: Option<Spanned<i64>>,
    idle_in_transaction_ms: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSmtp {
    host: Spanned<String>,
    port: Option<Spanned<i64>>,
    from: Spanned<String>,
    username: Option<String>,
    password: Option<String>,
    tls: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileNotify {
    max_attempts: Option<Spanned<i64>>,
    retry_initial_secs: Option<Spanned<i64>>,
    retention_days: Option<Spanned<i64>>,
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
    form_checks: Option<Spanned<String>>,
    honeypot: Option<bool>,
    min_submit_secs: Option<Spanned<i64>>,
    ip_posts_per_minute: Option<Spanned<i64>>,
    site_posts_per_minute: Option<Spanned<i64>>,
    #[serde(default)]
    admin_tokens: Vec<Spanned<String>>,
    #[serde(default)]
    origins: Vec<String>,
    webhook_url: Option<Spanned<String>>,
    webhook_secret: Option<Spanned<String>>,
    #[serde(default)]
    moderator_emails: Vec<Spanned<String>>,
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

fn check_public_url(s: &str) -> Result<String, String> {
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
fn check_webhook_url(s: &str) -> Result<String, String> {
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
fn check_secret_key(s: &str) -> Result<String, String> {
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

fn smtp_from_file(
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
        site.origins = s.origins;
        if let Some(u) = s.webhook_url {
            site.webhook_url = Some(
                check_webhook_url(u.get_ref()).map_err(|m| err(u.span(), "site.webhook_url", m))?,
            );
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
                        "a webhook_url needs a webhook_secret (16+ characters) to sign with"
                            .to_owned(),
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
    fn trusted_proxies_and_the_ipv6_prefix_load_and_bad_ones_are_named() {
        let c = load_text("trusted_proxies = [\"10.0.0.0/8\", \"::1\"]\nipv6_prefix = 56\n")
            .expect("valid");
        assert!(c.trusted_proxies.contains("10.2.3.4".parse().expect("ip")));
        assert_eq!(c.ipv6_prefix, 56);
        let e = load_text("trusted_proxies = [\"10.0.0.0/8\", \"lb.internal\"]\n")
            .expect_err("a host name");
        assert_eq!(e.key, "trusted_proxies");
        assert!(e.message.contains("lb.internal"), "{e}");
        let e = load_text("ipv6_prefix = 129\n").expect_err("too long");
        assert_eq!(e.key, "ipv6_prefix");
        // The older switch means a proxy on this host.
        let c = load_text("trust_proxy = true\n").expect("valid");
        assert!(c.trusted_proxies.contains("127.0.0.1".parse().expect("ip")));
        assert!(!c.trusted_proxies.contains("10.0.0.1".parse().expect("ip")));
        let env = |k: &str| {
            (k == "COLLOQUY_TRUSTED_PROXIES").then(|| "192.0.2.0/24, 2001:db8::/32".to_owned())
        };
        let (c, _) = Config::load(&Overrides::default(), env).expect("valid");
        assert!(c
            .trusted_proxies
            .contains("2001:db8::5".parse().expect("ip")));
    }

    #[test]
    fn database_pool_and_timeouts_load_and_bad_ones_are_named() {
        let c = load_text(
            "[database]\npool_size = 40\nlock_timeout_ms = 250\nacquire_timeout_secs = 3\n",
        )
        .expect("valid");
        assert_eq!(c.database.pool_size, 40);
        assert_eq!(c.database.lock_timeout_ms, 250);
        assert_eq!(
            c.database.acquire_timeout,
            std::time::Duration::from_secs(3)
        );
        assert_eq!(c.database.statement_timeout_ms, 5_000, "a default kept");
        let e = load_text("[database]\npool_size = 0\n").expect_err("no connections");
        assert_eq!(e.key, "database.pool_size");
        assert!(e.origin.ends_with(":2:13"), "{e}");
        let e = load_text("[database]\npool = 3\n").expect_err("unknown key");
        assert_eq!(e.key, "pool");
    }

    #[test]
    fn short_admin_tokens_are_refused_per_site_as_globally() {
        let e =
            load_text("[[site]]\nid = \"a\"\nadmin_tokens = [\"0123456789abcdef\", \"hunter2\"]\n")
                .expect_err("short site token");
        assert_eq!(e.key, "site.admin_tokens");
        assert!(e.origin.ends_with(":3:37"), "{e}");
        let e = load_text("admin_tokens = [\"short\"]\n").expect_err("short global token");
        assert_eq!(e.key, "admin_tokens");
        let c = load_text("[[site]]\nid = \"a\"\nadmin_tokens = [\"0123456789abcdef\"]\n")
            .expect("16 characters are enough");
        assert_eq!(c.sites[0].admin_tokens.len(), 1);
    }

    #[test]
    fn notification_settings_load_and_bad_ones_are_named() {
        let c = load_text(
            "public_url = \"https://c.example/\"\n[smtp]\nhost = \"mail.example\"\nfrom = \"c@example.com\"\n\
             [notifications]\nmax_attempts = 3\n[[site]]\nid = \"a\"\n\
             webhook_url = \"https://hooks.example/colloquy\"\nwebhook_secret = \"0123456789abcdef\"\n\
             moderator_emails = [\"mod@example.com\"]\n",
        )
        .expect("valid");
        assert_eq!(c.public_url.as_deref(), Some("https://c.example"));
        let smtp = c.smtp.expect("smtp");
        assert_eq!((smtp.port, smtp.tls), (587, SmtpTls::Starttls));
        assert_eq!(c.notify.max_attempts, 3);
        assert_eq!(
            c.sites[0].webhook_url.as_deref(),
            Some("https://hooks.example/colloquy")
        );
        assert_eq!(c.sites[0].moderator_emails, ["mod@example.com"]);

        let e = load_text("[[site]]\nid = \"a\"\nwebhook_url = \"ftp://x.example/\"\nwebhook_secret = \"0123456789abcdef\"\n")
            .expect_err("bad scheme");
        assert_eq!(e.key, "site.webhook_url");
        assert!(e.origin.ends_with(":3:15"), "{e}");
        let e = load_text("[[site]]\nid = \"a\"\nwebhook_url = \"not a url\"\n")
            .expect_err("not a url");
        assert_eq!(e.key, "site.webhook_url");
        let e = load_text("[[site]]\nid = \"a\"\nwebhook_url = \"https://x.example/\"\n")
            .expect_err("no secret");
        assert_eq!(e.key, "site.webhook_secret");
        let e = load_text("[[site]]\nid = \"a\"\nmoderator_emails = [\"Mod <m@x.example>\"]\n")
            .expect_err("bad address");
        assert_eq!(e.key, "site.moderator_emails");
        let e =
            load_text("[smtp]\nhost = \"m.example\"\nfrom = \"c@example.com\"\ntls = \"ssl\"\n")
                .expect_err("bad tls");
        assert_eq!(e.key, "smtp.tls");
        let e = load_text("[smtp]\nhost = \"m.example\"\n").expect_err("no from");
        assert_eq!(e.key, "from");
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
    fn the_key_file_sits_beside_a_sqlite_database_unless_set() {
        let at = |url: &str| {
            Config {
                database_url: url.to_owned(),
                ..Config::default()
            }
            .key_file_path()
        };
        assert_eq!(at("sqlite:colloquy.db"), PathBuf::from("colloquy.keys"));
        assert_eq!(
            at("sqlite:/var/lib/colloquy/comments.db?mode=rwc"),
            PathBuf::from("/var/lib/colloquy/comments.keys")
        );
        assert_eq!(at("sqlite://data/c.db"), PathBuf::from("data/c.keys"));
        assert_eq!(at("sqlite::memory:"), PathBuf::from("colloquy.keys"));
        assert_eq!(
            at("postgres://db.example/colloquy"),
            PathBuf::from("colloquy.keys")
        );
        let set = Config {
            key_file: Some(PathBuf::from("/run/secrets/colloquy.keys")),
            ..Config::default()
        };
        assert_eq!(
            set.key_file_path(),
            PathBuf::from("/run/secrets/colloquy.keys")
        );
    }

    #[test]
    fn keys_and_retention_come_from_file_and_environment() {
        let c =
            load_text("key_file = \"/etc/colloquy/keys\"\n[notifications]\nretention_days = 3\n")
                .expect("valid");
        assert_eq!(c.key_file, Some(PathBuf::from("/etc/colloquy/keys")));
        assert_eq!(c.notify.retention_days, 3);
        let e = load_text("[notifications]\nretention_days = -1\n").expect_err("negative");
        assert_eq!(e.key, "notifications.retention_days");
        let (c, _) = Config::load(&Overrides::default(), |_| None).expect("defaults");
        assert_eq!(
            (c.notify.retention_days, c.key_file, c.secret_key),
            (7, None, None)
        );

        let env = |k: &str| match k {
            "COLLOQUY_KEY_FILE" => Some("/run/keys".to_owned()),
            "COLLOQUY_SECRET_KEY" => Some("s3cr3t-0123456789-0123456789-0123456789".to_owned()),
            "COLLOQUY_NOTIFY_RETENTION_DAYS" => Some("0".to_owned()),
            _ => None,
        };
        let (c, _) = Config::load(&Overrides::default(), env).expect("valid");
        assert_eq!(c.key_file, Some(PathBuf::from("/run/keys")));
        assert_eq!(
            c.secret_key.as_deref(),
            Some("s3cr3t-0123456789-0123456789-0123456789")
        );
        assert_eq!(c.notify.retention_days, 0);
        assert!(
            !format!("{c:?}").contains("s3cr3t"),
            "the secret stays out of logs"
        );
        let e = Config::load(&Overrides::default(), |k| {
            (k == "COLLOQUY_SECRET_KEY").then(|| "short".to_owned())
        })
        .expect_err("too short");
        assert_eq!(
            (e.origin.as_str(), e.key.as_str()),
            ("COLLOQUY_SECRET_KEY", "secret_key")
        );
    }

    #[test]
    fn serving_limits_load_from_the_file_and_the_environment() {
        let c = load_text(
            "[limits]\nmax_connections = 500\nmax_connections_per_ip = 0\n\
             first_byte_timeout_secs = 3\nkeep_alive_timeout_secs = 7\nrender_threads = 2\n\
             render_queue_ms = 250\nip_previews_per_minute = 5\nlisting_cache_bytes = 1048576\n",
        )
        .expect("valid");
        let l = &c.limits;
        assert_eq!((l.max_connections, l.max_connections_per_ip), (500, 0));
        assert_eq!(
            (l.first_byte_timeout_secs, l.keep_alive_timeout_secs),
            (3, 7)
        );
        assert_eq!((l.render_threads, l.render_queue_ms), (2, 250));
        assert_eq!(l.ip_previews_per_minute, 5);
        assert_eq!(l.listing_cache_bytes, 1 << 20);
        assert_eq!(l.memo_cache_bytes, Limits::default().memo_cache_bytes);
        let e = load_text("[limits]\nmax_connections = 0\n").expect_err("zero");
        assert_eq!(e.key, "limits.max_connections");
        assert!(e.origin.ends_with(":2:19"), "{e}");
        let o = Overrides::default();
        let (c, _) = Config::load(&o, |k| {
            (k == "COLLOQUY_MAX_CONNECTIONS_PER_IP").then(|| "16".to_owned())
        })
        .expect("valid");
        assert_eq!(c.limits.max_connections_per_ip, 16);
        let e = Config::load(&o, |k| {
            (k == "COLLOQUY_FIRST_BYTE_TIMEOUT_SECS").then(|| "0".to_owned())
        })
        .expect_err("zero");
        assert_eq!(e.origin, "COLLOQUY_FIRST_BYTE_TIMEOUT_SECS");
        assert_eq!(e.key, "limits.first_byte_timeout_secs");
    }

    #[test]
    fn debug_output_hides_secrets() {
        let c = Config {
            database_url: "postgres://u:hunter2@db/x".into(),
            admin_tokens: vec!["supersecrettoken1".into()],
            smtp: Some(SmtpConfig {
                host: "m.example".into(),
                port: 587,
                from: "c@example.com".into(),
                username: Some("u".into()),
                password: Some("smtp-hunter3".into()),
                tls: SmtpTls::Starttls,
            }),
            ..Config::default()
        };
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("hunter2")
                && !shown.contains("supersecret")
                && !shown.contains("hunter3"),
            "{shown}"
        );
    }
}
