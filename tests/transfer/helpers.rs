//! Harness: a fresh database per test, the service opened on it, and the
//! site's stored comments read back in full.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use colloquy::comment::SiteId;
use colloquy::config::Config;
use colloquy::service::Colloquy;
use colloquy::store::{ExportComment, ExportThread};
use colloquy::transfer::{import, ImportError, ImportOptions, ImportReport, Kind, ThreadKeyFrom};
use colloquy::PolicySet;

use crate::common::db::fresh_database;
pub use crate::common::db::{temp_dir, Db};

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/transfer/fixtures")
        .join(name)
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
