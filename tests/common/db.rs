//! Fresh databases for tests: a SQLite file in a temporary directory, or a
//! fresh schema in the PostgreSQL database `COLLOQUY_TEST_POSTGRES_URL`
//! names; without that variable the PostgreSQL variants say loudly that
//! they were skipped.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        colloquy::clock::now_ms() % 1_000_000
    )
}

/// The PostgreSQL URL for tests, if configured.
pub fn postgres_url() -> Option<String> {
    std::env::var("COLLOQUY_TEST_POSTGRES_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

/// A database URL for a fresh, empty database of kind `db`; `None` (after a
/// loud notice) when PostgreSQL is not configured.
pub async fn fresh_database(db: Db, dir: &std::path::Path) -> Option<String> {
    match db {
        Db::Sqlite => Some(format!("sqlite:{}", dir.join("colloquy.db").display())),
        Db::Postgres => {
            let Some(base) = postgres_url() else {
                eprintln!(
                    "\n*** SKIPPED the PostgreSQL variant: set COLLOQUY_TEST_POSTGRES_URL \
                     (e.g. postgres://postgres@127.0.0.1:5432/test) to run it ***\n"
                );
                return None;
            };
            let schema = unique("t");
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

pub fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(unique("colloquy-test"));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
