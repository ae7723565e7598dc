//! Harness: a fresh database per test, the service opened on it, and the
//! site's stored comments read back in full.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use colloquy::comment::SiteId;
use colloquy::config::Config;
use colloquy::service::Colloquy;
use colloquy::store::{ExportComment, ExportThread};
use colloquy::transfer::{import, ImportError, ImportOptions, ImportReport, Kind, ThreadKeyFrom};
use colloquy::PolicySet;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        colloquy::clock::now_ms() % 1_000_000
    )
}

pub fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(unique("colloquy-transfer"));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/transfer/fixtures")
        .join(name)
}

/// A database URL for a fresh, empty database; `None` (after a loud
/// notice) when PostgreSQL is not configured.
pub async fn fresh_database(db: Db, dir: &Path) -> Option<String> {
    match db {
        Db::Sqlite => Some(format!(
            "sqlite:{}",
            dir.join(format!("{}.db", unique("c"))).display()
        )),
        Db::Postgres => {
            let Some(base) = std::env::var("COLLOQUY_TEST_POSTGRES_URL")
                .ok()
                .filter(|s| !s.is_empty())
            else {
                eprintln!(
                    "\n*** SKIPPED the PostgreSQL variant: set COLLOQUY_TEST_POSTGRES_URL \
                     (e.g. postgres://postgres@127.0.0.1:5432/test) to run it ***\n"
                );
                return None;
            };
            let schema = unique("x");
            sqlx::any::install_default_drivers();
            let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&base)
                .await
                .unwrap_or_else(|e| {
                    panic!("COLLOQUY_TEST_POSTGRES_URL is set but PostgreSQL does not answer: {e}")
                });
            sqlx::query(&format!("CREATE SCHEMA {schema}"))
                .execute(&mut conn)
                .await
                .expect("create schema");
            let sep = if base.contains('?') { '&' } else { '?' };
            Some(format!("{base}{sep}options=-c%20search_path%3D{schema}"))
        }
    }
}

pub struct Env {
    pub service: Colloquy,
    pub dir: PathBuf,
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The service on a fresh database of kind `db`, with the `default` site.
pub async fn open(db: Db) -> Option<Env> {
    let dir = temp_dir();
    let url = fresh_database(db, &dir).await?;
    Some(open_on(url, dir).await)
}

pub async fn open_on(url: String, dir: PathBuf) -> Env {
    let policies_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("policies");
    let config = Config {
        database_url: url,
        policies_dir: policies_dir.clone(),
        key_file: Some(dir.join("colloquy.keys")),
        ..Config::default()
    };
    let policies = PolicySet::load_dir(&policies_dir).expect("policies");
    let service = Colloquy::open(config, policies)
        .await
        .expect("service opens");
    Env { service, dir }
}

pub fn site() -> SiteId {
    SiteId::parse("default").unwrap()
}

pub fn options(kind: Kind) -> ImportOptions {
    ImportOptions {
        kind,
        thread_key: ThreadKeyFrom::Permalink,
        format: None,
    }
}

pub async fn run(env: &Env, kind: Kind, path: &Path) -> Result<ImportReport, ImportError> {
    import(&env.service, &site(), path, &options(kind), &|_, _| {}).await
}

pub async fn run_ok(env: &Env, kind: Kind, path: &Path) -> ImportReport {
    run(env, kind, path)
        .await
        .unwrap_or_else(|e| panic!("import of {} failed: {e}", path.display()))
}

/// Every thread of the site, with every comment of each.
pub async fn everything(env: &Env) -> (Vec<ExportThread>, Vec<ExportComment>) {
    let store = env.service.store();
    let threads = store.export_threads("default", None, 10_000).await.unwrap();
    let mut comments = Vec::new();
    for t in &threads {
        comments.extend(
            store
                .export_comments("default", &t.key, None, 10_000)
                .await
                .unwrap(),
        );
    }
    (threads, comments)
}

/// Comments by source id.
pub async fn by_source(env: &Env) -> HashMap<String, ExportComment> {
    everything(env)
        .await
        .1
        .into_iter()
        .filter_map(|c| c.source.clone().map(|s| (s, c)))
        .collect()
}

/// Creates an Isso database from the SQL fixture.
pub async fn isso_db(dir: &Path) -> PathBuf {
    use sqlx::Connection;
    let path = dir.join("comments.db");
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite:{}?mode=rwc", path.display()))
        .await
        .unwrap();
    let script = std::fs::read_to_string(fixture("isso.sql")).unwrap();
    sqlx::raw_sql(&script).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    path
}

/// Runs an async story against both backends as two tests.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::helpers::Db::Sqlite).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::helpers::Db::Postgres).await;
                }
            }
        )*
    };
}
