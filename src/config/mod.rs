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

use crate::moderation::ModerationMode;

mod checks;
mod env;
mod file;
mod fingerprint;
mod site;
#[cfg(test)]
mod tests;

pub use checks::looks_like_email;
use checks::*;
use env::apply_env;
use file::apply_file;
pub use fingerprint::{Fingerprint, MismatchPolicy};

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
    /// PostgreSQL: a read replica for public listings, counts, feeds and
    /// pages (`read_database_url`); `None`: everything reads the primary.
    pub read_url: Option<String>,
    /// How long after a post, edit or delete a client reads the primary
    /// (read-your-writes with a replica), seconds.
    pub read_your_writes_secs: u32,
}

impl Default for DatabaseConfig {
    fn default() -> DatabaseConfig {
        DatabaseConfig {
            pool_size: 16,
            acquire_timeout: std::time::Duration::from_secs(5),
            statement_timeout_ms: 5_000,
            lock_timeout_ms: 2_000,
            idle_in_transaction_ms: 10_000,
            read_url: None,
            read_your_writes_secs: 10,
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
    /// Deliveries this server sends at once.
    pub concurrency: u32,
}

impl Default for NotifyConfig {
    fn default() -> NotifyConfig {
        NotifyConfig {
            max_attempts: 8,
            retry_initial: std::time::Duration::from_secs(30),
            poll_interval: std::time::Duration::from_secs(1),
            retention_days: 7,
            concurrency: 16,
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
    /// What to do when another live server on the database runs with other
    /// formats or notification settings (`config_mismatch`).
    pub config_mismatch: MismatchPolicy,
    /// How often the sites' spam models learn new moderator decisions; a
    /// minute (tests make it shorter).
    pub scoring_interval: std::time::Duration,
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
            config_mismatch: MismatchPolicy::Refuse,
            scoring_interval: std::time::Duration::from_secs(60),
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
        match self.sqlite_file() {
            Some(path) => path.with_extension("keys"),
            None => PathBuf::from("colloquy.keys"),
        }
    }

    /// The file of a SQLite database (`sqlite:data/comments.db` →
    /// `data/comments.db`); `None` for PostgreSQL and in-memory databases.
    pub fn sqlite_file(&self) -> Option<PathBuf> {
        self.database_url
            .strip_prefix("sqlite:")
            .map(|rest| rest.trim_start_matches("//"))
            .map(|rest| rest.split('?').next().unwrap_or(""))
            .filter(|path| !path.is_empty() && !path.starts_with(':'))
            .map(PathBuf::from)
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
        if config.database.read_url.is_some() && config.database_url.starts_with("sqlite:") {
            return Err(ConfigError::at(
                "read_database_url",
                "read_database_url",
                "a read replica needs PostgreSQL; with SQLite every read is local already",
            ));
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
