//! Storage: one set of queries and migrations for SQLite and PostgreSQL,
//! through sqlx's `AnyPool`.
//!
//! SQL here is portable: `$N` placeholders (SQLite binds them by number;
//! multi-row statements give it bare `?`, see `placeholders`),
//! `ON CONFLICT … DO NOTHING`, row-value comparisons for keyset pagination,
//! integer millisecond times, application-made ids. SQLite runs in WAL mode
//! with `synchronous = FULL` (a commit is on disk when it returns), a busy
//! timeout, and a single writer connection so writers queue in the pool
//! instead of failing with "database is locked".

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor, Row};

use crate::audit::AuditEntry;
mod error;
pub use error::{Result, StoreError};

mod announce;
mod audit;
mod changes;
mod community;
mod identities;
mod insert;
mod instances;
mod limits;
mod models;
pub mod outbox;
mod privacy;
mod reads;
mod rows;
mod sites;
mod sql;
mod votes;
pub use votes::{NewStatement, StatementOwner};

pub use announce::{Change, ChangeFeed, Heard};
pub use changes::ForChange;
pub use community::{ActionRow, NewReport, ReportRow, StandingRow};
pub use identities::AccountRow;
pub use insert::{InsertComment, InsertOutcome, UsedStamp};
pub use instances::{InstanceFingerprint, Peer};
pub use models::{CommentFacts, Decision, NewModel, StoredModel};
pub use sites::ThreadRow;
// The parts' shared helpers (row mapping, SQL pieces, audit inserts) are
// visible to every part through this module.
use audit::*;
use changes::*;
use insert::*;
use rows::*;
use sql::*;

mod transfer;
pub use transfer::{ExportComment, ExportThread, ImportRow, ImportThread, RowOutcome};

/// Which database is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// The store: a pool for writes and one for reads (the same pool on
/// PostgreSQL).
#[derive(Debug, Clone)]
pub struct Store {
    write: AnyPool,
    read: AnyPool,
    /// One connection for health checks only.
    health: AnyPool,
    backend: Backend,
    /// SQLite: the group-commit writer for new comments.
    inserts: Option<tokio::sync::mpsc::Sender<InsertJob>>,
    /// PostgreSQL: the channel changes are announced on (see `announce`).
    channel: Option<String>,
    /// Where the store connected, for the change feed's own connection.
    url: DatabaseUrl,
    /// PostgreSQL: a read replica's pool (`read_database_url`).
    replica: Option<AnyPool>,
}

/// A database URL, kept out of logs (it may hold a password).
#[derive(Clone)]
struct DatabaseUrl(String);

impl std::ops::Deref for DatabaseUrl {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::config::redact_url(&self.0))
    }
}

pub use crate::comment::normalize_email;

impl Store {
    /// Begins a write transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`): a deferred transaction that reads first fails
    /// outright when another process (a second server, an import) wrote in
    /// between, where an immediate one waits its turn (busy timeout).
    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.write.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.write.begin().await?,
        })
    }

    /// Connects, configures and migrates the database at `url`
    /// (`sqlite:PATH` — created if missing — or `postgres://…`).
    ///
    /// # Errors
    /// The database cannot be reached, opened or migrated.
    pub async fn connect(url: &str) -> Result<Store> {
        Store::connect_with(url, &crate::config::DatabaseConfig::default()).await
    }

    /// [`Store::connect`] with pool sizes and session timeouts.
    ///
    /// # Errors
    /// The database cannot be reached, opened or migrated.
    pub async fn connect_with(
        url: &str,
        settings: &crate::config::DatabaseConfig,
    ) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        };
        let store = match backend {
            Backend::Sqlite => {
                let url = if url.contains('?') {
                    url.to_owned()
                } else {
                    format!("{url}?mode=rwc")
                };
                let options = AnyConnectOptions::from_str(&url)
                    .map_err(|e| StoreError::setup("database URL", e))?;
                let write = sqlite_pool(1, WRITER_PRAGMAS)
                    .connect_with(options.clone())
                    .await?;
                // Create the schema before readers open the file.
                migrate(&write).await?;
                let readers = settings.pool_size.clamp(1, 4);
                let read = sqlite_pool(readers, "")
                    .connect_with(options.clone())
                    .await?;
                let health = sqlite_pool(1, "").connect_with(options).await?;
                let (queue, jobs) = tokio::sync::mpsc::channel(1024);
                spawn_group_commit(write.clone(), jobs)?;
                Store {
                    write,
                    read,
                    health,
                    backend,
                    inserts: Some(queue),
                    channel: None,
                    url: DatabaseUrl(url),
                    replica: None,
                }
            }
            Backend::Postgres => {
                let options = AnyConnectOptions::from_str(url)
                    .map_err(|e| StoreError::setup("database URL", e))?;
                // Migrations wait for each other (an advisory lock per
                // database) and may take long: not under the session
                // timeouts meant for requests.
                let migrator = AnyPoolOptions::new()
                    .max_connections(1)
                    .connect_with(options.clone())
                    .await?;
                migrate(&migrator).await?;
                unlog_rate_limits(&migrator).await?;
                migrator.close().await;
                let session = postgres_session(settings);
                let pool = postgres_pool(
                    settings.pool_size,
                    settings.acquire_timeout,
                    session.clone(),
                )
                .connect_with(options.clone())
                .await?;
                // Health checks have a connection of their own: a pool full
                // of requests waiting on a lock must not fail them too.
                let health = postgres_pool(1, Duration::from_secs(2), session)
                    .connect_with(options)
                    .await?;
                let replica = match &settings.read_url {
                    Some(read_url) => {
                        let options = AnyConnectOptions::from_str(read_url)
                            .map_err(|e| StoreError::setup("read database URL", e))?;
                        let session = postgres_session(settings);
                        Some(
                            postgres_pool(settings.pool_size, settings.acquire_timeout, session)
                                .connect_with(options)
                                .await?,
                        )
                    }
                    None => None,
                };
                let schema: String = sqlx::query("SELECT current_schema()::text AS s")
                    .fetch_one(&pool)
                    .await?
                    .try_get("s")?;
                Store {
                    write: pool.clone(),
                    read: pool,
                    health,
                    backend,
                    inserts: None,
                    channel: Some(announce::channel_for(&schema)),
                    url: DatabaseUrl(url.to_owned()),
                    replica,
                }
            }
        };
        Ok(store)
    }

    /// The same store reading from its replica (writes still go to the
    /// primary); `None` without `read_database_url`. The service reads
    /// listings, counts and pages through it.
    pub fn on_replica(&self) -> Option<Store> {
        let replica = self.replica.clone()?;
        Some(Store {
            read: replica,
            replica: None,
            ..self.clone()
        })
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether [`Store::close`] has been called.
    pub fn is_closed(&self) -> bool {
        self.write.is_closed()
    }

    /// Closes every pool once the connections in use are returned.
    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
        if let Some(replica) = &self.replica {
            replica.close().await;
        }
        self.health.close().await;
    }

    /// A quick round trip, for health checks.
    ///
    /// # Errors
    /// The database does not answer.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.health).await?;
        Ok(())
    }

    // ---- settings -------------------------------------------------------

    /// A stored setting.
    ///
    /// # Errors
    /// Database failure.
    pub async fn setting(&self, name: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT value FROM settings WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.write)
            .await?;
        Ok(row.map(|r| r.try_get::<String, _>("value")).transpose()?)
    }

    /// Stores a setting unless one exists; returns the value in force.
    ///
    /// # Errors
    /// Database failure.
    pub async fn setting_or_insert(&self, name: &str, value: &str) -> Result<String> {
        sqlx::query(
            "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(value)
        .execute(&self.write)
        .await?;
        Ok(self
            .setting(name)
            .await?
            .unwrap_or_else(|| value.to_owned()))
    }

    /// Deletes settings (keys an older version kept here).
    ///
    /// # Errors
    /// Database failure.
    pub async fn delete_settings(&self, names: &[&str]) -> Result<()> {
        for name in names {
            sqlx::query("DELETE FROM settings WHERE name = $1")
                .bind(name)
                .execute(&self.write)
                .await?;
        }
        Ok(())
    }
}

/// The writer's extra settings. Its page cache holds a whole import batch
/// (the default 2 MB spilled dirty pages to the WAL mid-transaction and
/// read them back), and statement journals stay in memory.
const WRITER_PRAGMAS: &str = "PRAGMA cache_size = -8192; PRAGMA temp_store = MEMORY;";

/// The session settings every PostgreSQL connection starts with.
fn postgres_session(settings: &crate::config::DatabaseConfig) -> String {
    format!(
        "SET statement_timeout = {}; SET lock_timeout = {}; SET idle_in_transaction_session_timeout = {};",
        settings.statement_timeout_ms, settings.lock_timeout_ms, settings.idle_in_transaction_ms
    )
}

fn postgres_pool(max: u32, acquire: Duration, session: String) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(acquire)
        .after_connect(move |conn, _meta| {
            let session = session.clone();
            Box::pin(async move {
                conn.execute(session.as_str()).await?;
                Ok(())
            })
        })
}

fn sqlite_pool(max: u32, extra_pragmas: &'static str) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(30))
        // An embedded database has no connection to lose: pinging it
        // before each use was a round trip to its thread on every query.
        .test_before_acquire(false)
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                conn.execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                     PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;",
                )
                .await?;
                if !extra_pragmas.is_empty() {
                    conn.execute(extra_pragmas).await?;
                }
                Ok(())
            })
        })
}

/// PostgreSQL: the shared rate-limit buckets need no write-ahead log (a
/// crash only refills them), which makes taking a token cheaper.
async fn unlog_rate_limits(pool: &AnyPool) -> Result<()> {
    let row = sqlx::query("SELECT relpersistence::text AS p FROM pg_class WHERE relname = 'rate_limits' AND relkind = 'r' AND pg_table_is_visible(oid)")
        .fetch_optional(pool)
        .await?;
    let logged = match row {
        Some(r) => r.try_get::<String, _>("p")? == "p",
        None => false,
    };
    if logged {
        sqlx::query("ALTER TABLE rate_limits SET UNLOGGED")
            .execute(pool)
            .await?;
    }
    Ok(())
}

async fn migrate(pool: &AnyPool) -> Result<()> {
    sqlx::migrate!("src/store/migrations")
        .run(pool)
        .await
        .map_err(|e| StoreError::setup("migrating the database", e))
}
