//! The real `colloquy serve` binary as a child process, so a test can kill
//! it with SIGKILL and start it again on the same database.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::helpers::ADMIN;

/// A running `colloquy serve`.
pub struct ChildServer {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// Where its stderr goes.
    pub log: PathBuf,
}

/// Starts `colloquy serve --listen 127.0.0.1:0 --database URL` in `dir`
/// (no policies directory there: the bundled formats) and waits until it
/// answers `/healthz`. `run` numbers the log file.
pub async fn start(database_url: &str, dir: &Path, run: usize) -> ChildServer {
    start_with(database_url, dir, run, &[], None).await
}

/// [`start`] with more environment variables and, if `open_files` is
/// given, that limit on open files (soft and hard, through `prlimit`).
pub async fn start_with(
    database_url: &str,
    dir: &Path,
    run: usize,
    env: &[(&str, &str)],
    open_files: Option<u64>,
) -> ChildServer {
    let log = dir.join(format!("server-{run}.log"));
    let binary = env!("CARGO_BIN_EXE_colloquy");
    let mut command = match open_files {
        Some(n) => {
            let mut c = Command::new("prlimit");
            c.arg(format!("--nofile={n}:{n}")).arg("--").arg(binary);
            c
        }
        None => Command::new(binary),
    };
    let mut child = command
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database",
            database_url,
        ])
        .env("COLLOQUY_ADMIN_TOKEN", ADMIN)
        // Load tests post far faster than any person; rate limits would
        // only measure themselves (a test may turn them on in `env`).
        .env("COLLOQUY_RATE_LIMIT", "off")
        .env("COLLOQUY_LOG", "warn")
        .envs(env.iter().copied())
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the colloquy binary starts");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel::<String>();
    let log_path = log.clone();
    std::thread::spawn(move || {
        let mut file = std::fs::File::create(&log_path).ok();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(addr) = line.split("listening on ").nth(1) {
                let addr = addr.split_whitespace().next().unwrap_or("").to_owned();
                let _ = tx.send(addr);
            }
            if let Some(f) = file.as_mut() {
                let _ = writeln!(f, "{line}");
            }
        }
    });
    let base = tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(30)))
        .await
        .unwrap();
    let Ok(base) = base else {
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "colloquy serve did not start: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    };
    let server = ChildServer { child, base, log };
    server.wait_healthy().await;
    server
}

impl ChildServer {
    async fn wait_healthy(&self) {
        let client = reqwest::Client::new();
        for _ in 0..200 {
            let ok = client
                .get(format!("{}/healthz", self.base))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ok {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("server at {} did not become healthy", self.base);
    }

    /// SIGKILL: no shutdown hook, no flush, no goodbye.
    pub fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }

    /// The server's log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every published comment of a thread, oldest first, all pages.
pub async fn all_published(
    client: &reqwest::Client,
    base: &str,
    site: &str,
    thread: &str,
) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!(
            "{base}/api/v1/sites/{site}/threads/{}/comments?limit=200",
            crate::helpers::encode(thread)
        );
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let r = client.get(&url).send().await.expect("list");
        assert_eq!(r.status(), 200, "listing {url}");
        let v: serde_json::Value = r.json().await.expect("json");
        out.extend(v["comments"].as_array().cloned().unwrap_or_default());
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return out,
        }
    }
}

/// Every comment of a site whatever its status (the admin queue, all pages).
pub async fn all_stored(
    client: &reqwest::Client,
    base: &str,
    site: &str,
) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{base}/api/v1/admin/sites/{site}/comments?status=all&limit=200");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let r = client
            .get(&url)
            .bearer_auth(ADMIN)
            .send()
            .await
            .expect("queue");
        assert_eq!(r.status(), 200, "queue {url}");
        let v: serde_json::Value = r.json().await.expect("json");
        out.extend(v["comments"].as_array().cloned().unwrap_or_default());
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return out,
        }
    }
}
