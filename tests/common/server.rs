//! A real server on a random port, against a real database (see `db`).
//!
//! SQLite: a fresh file in a temporary directory per test. PostgreSQL: a
//! fresh schema per test in the database `COLLOQUY_TEST_POSTGRES_URL` names;
//! without that variable the PostgreSQL variants say loudly that they were
//! skipped.

use std::path::PathBuf;

use colloquy::config::{Config, SiteConfig};
use colloquy::server::Application;
use reqwest::{Client, Response, StatusCode};
use serde_json::Value;

pub use super::db::*;

/// The admin token every test server accepts.
pub const ADMIN: &str = "test-admin-token-0123456789";
/// A token for site `other` only.
pub const OTHER_ADMIN: &str = "other-site-token-0123456789";

pub struct TestApp {
    pub base: String,
    pub client: Client,
    pub database_url: String,
    pub dir: PathBuf,
    /// The server's key file (in `dir` unless the test chose another).
    pub key_file: PathBuf,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// Starts a server; `tweak` may change the configuration first.
pub async fn spawn_with(db: Db, tweak: impl FnOnce(&mut Config)) -> Option<TestApp> {
    let dir = temp_dir();
    let database_url = fresh_database(db, &dir).await?;
    Some(spawn_on(database_url, dir, tweak).await)
}

/// The configuration every test server starts from: the database, the
/// repository's policies, the test admin tokens, a second site `other`,
/// and a key file of its own in `dir`.
pub fn test_config(database_url: &str, dir: &std::path::Path) -> Config {
    let mut config = Config {
        listen: "127.0.0.1:0".parse().expect("addr"),
        database_url: database_url.to_owned(),
        policies_dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("policies"),
        admin_tokens: vec![ADMIN.to_owned()],
        // Tests post quickly from one address; the rate-limit tests turn
        // limits back on.
        rate_limit: false,
        // Each server its own keys, beside its database; servers sharing a
        // database share the first one's (see `TestApp::key_file`).
        key_file: Some(dir.join("colloquy.keys")),
        ..Config::default()
    };
    // Form posts in tests carry no time stamp unless a test says so.
    for site in &mut config.sites {
        site.rules.min_submit_secs = 0;
    }
    let mut other = SiteConfig::default_site();
    other.id = "other".to_owned();
    other.formats = vec!["plain_text".to_owned(), "markdown".to_owned()];
    other.default_format = "plain_text".to_owned();
    other.admin_tokens = vec![OTHER_ADMIN.to_owned()];
    other.origins = vec!["https://news.example".to_owned()];
    other.rules.min_submit_secs = 0;
    config.sites.push(other);
    config
}

/// Starts a server on an existing database.
pub async fn spawn_on(
    database_url: String,
    dir: PathBuf,
    tweak: impl FnOnce(&mut Config),
) -> TestApp {
    let mut config = test_config(&database_url, &dir);
    tweak(&mut config);
    let key_file = config.key_file_path();
    let app = Application::build(config).await.expect("server starts");
    let addr = app.local_addr().expect("bound");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = app
            .run_until(async move {
                let _ = rx.await;
            })
            .await;
    });
    let client = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    TestApp {
        base: format!("http://{addr}"),
        client,
        database_url,
        dir,
        key_file,
        shutdown: Some(tx),
        task: Some(task),
    }
}

pub async fn spawn(db: Db) -> Option<TestApp> {
    spawn_with(db, |_| {}).await
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn comments_path(site: &str, thread: &str) -> String {
        format!("/api/v1/sites/{site}/threads/{}/comments", encode(thread))
    }

    /// Posts a JSON comment to `site`/`thread`.
    pub async fn post(&self, site: &str, thread: &str, body: Value) -> Response {
        self.client
            .post(self.url(&Self::comments_path(site, thread)))
            .json(&body)
            .send()
            .await
            .expect("request")
    }

    /// Posts and expects 201; returns the JSON answer.
    pub async fn post_ok(&self, site: &str, thread: &str, body: Value) -> Value {
        let r = self.post(site, thread, body).await;
        let status = r.status();
        let v: Value = r.json().await.expect("json");
        assert_eq!(status, StatusCode::CREATED, "{v}");
        v
    }

    pub async fn get_json(&self, path: &str) -> (StatusCode, Value) {
        let r = self
            .client
            .get(self.url(path))
            .send()
            .await
            .expect("request");
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Lists a thread's published comments (one page).
    pub async fn list(&self, site: &str, thread: &str, query: &str) -> Value {
        let (status, v) = self
            .get_json(&format!("{}{query}", Self::comments_path(site, thread)))
            .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        v
    }

    pub async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.admin_as(ADMIN, method, path, body).await
    }

    pub async fn admin_as(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.expect("request");
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

impl TestApp {
    /// Runs one statement on the server's database (to make time pass, say).
    pub async fn sql(&self, statement: &str) {
        sqlx::any::install_default_drivers();
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&self.database_url)
            .await
            .expect("connect");
        sqlx::query(statement)
            .execute(&mut conn)
            .await
            .expect("statement");
    }

    /// One number from the server's database.
    pub async fn sql_count(&self, query: &str) -> i64 {
        sqlx::any::install_default_drivers();
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&self.database_url)
            .await
            .expect("connect");
        let row = sqlx::query(query)
            .fetch_one(&mut conn)
            .await
            .expect("query");
        sqlx::Row::get::<i64, _>(&row, 0)
    }

    /// Changes settings of a site through the admin API; expects 200.
    pub async fn patch_site(&self, site: &str, changes: Value) -> Value {
        let (s, v) = self
            .admin(
                reqwest::Method::PATCH,
                &format!("/api/v1/admin/sites/{site}"),
                Some(changes),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Percent-encodes a path segment.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Asserts a problem+json answer with this status; returns its body.
pub async fn expect_problem(r: Response, status: StatusCode) -> Value {
    assert_eq!(r.status(), status, "status");
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert!(
        ct.starts_with("application/problem+json"),
        "content-type {ct}"
    );
    let v: Value = r.json().await.expect("problem body");
    assert_eq!(v["status"].as_u64(), Some(u64::from(status.as_u16())));
    assert!(
        v["detail"].as_str().is_some_and(|d| d.len() > 10),
        "a detail a person can act on: {v}"
    );
    v
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
