//! Webhook delivery throughput (issue 14, point 6): `EVENTS` comments are
//! posted through the service with the notifier stopped (a backlog, as a
//! burst of posts leaves), then the notifier of one server — or of two
//! servers on one PostgreSQL database — is started and the time until a
//! real local HTTP receiver (axum, on 127.0.0.1) has answered every
//! delivery is measured. The figure is deliveries per second, end to end:
//! queuing the events into the outbox, claiming, sending and recording.
//!
//! Default settings except rate limits (all posts come from one address)
//! and the duplicate check (the bodies differ anyway).
//!
//!   cargo bench --bench deliveries                      # SQLite
//!   COLLOQUY_TEST_POSTGRES_URL=postgres://… cargo bench --bench deliveries
//!
//! env: `EVENTS` (default 5000), `CONCURRENCY` (default: the
//! `[notifications] concurrency` default), `SERVERS` (1 or 2, PostgreSQL).

#![allow(clippy::expect_used, clippy::unwrap_used)] // a benchmark that cannot set up has nothing to report

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use colloquy::comment::{SiteId, ThreadKey};
use colloquy::config::Config;
use colloquy::notify::Notifier;
use colloquy::service::{Colloquy, PostInput};
use colloquy::PolicySet;

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A receiver answering 200 to every POST, keeping the delivery ids seen.
async fn receiver() -> (String, Arc<Mutex<HashSet<String>>>) {
    let seen: Arc<Mutex<HashSet<String>>> = Arc::default();
    let keep = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap| {
            let keep = keep.clone();
            async move {
                let id = headers
                    .get("x-colloquy-delivery")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                keep.lock().unwrap().insert(id);
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/hook"), seen)
}

async fn database(dir: &std::path::Path) -> String {
    match std::env::var("COLLOQUY_TEST_POSTGRES_URL") {
        Ok(base) if !base.is_empty() => {
            sqlx::any::install_default_drivers();
            let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&base)
                .await
                .unwrap();
            let schema = format!("bench_deliveries_{}", std::process::id());
            sqlx::query(&format!("CREATE SCHEMA {schema}"))
                .execute(&mut conn)
                .await
                .unwrap();
            let sep = if base.contains('?') { '&' } else { '?' };
            format!("{base}{sep}options=-c%20search_path%3D{schema}")
        }
        _ => format!("sqlite:{}", dir.join("bench.db").display()),
    }
}

fn config(url: &str, hook: &str, dir: &std::path::Path) -> Config {
    let mut c = Config {
        database_url: url.to_owned(),
        rate_limit: false,
        key_file: Some(dir.join("bench.keys")),
        policies_dir: std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("policies"),
        ..Config::default()
    };
    if let Ok(n) = std::env::var("CONCURRENCY") {
        c.notify.concurrency = n.parse().expect("CONCURRENCY is a number");
    }
    let site = &mut c.sites[0];
    site.webhook_url = Some(hook.to_owned());
    site.webhook_secret = Some("bench-webhook-secret-0123456789".to_owned());
    site.duplicate_window_secs = 0;
    site.rules.min_submit_secs = 0;
    c
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is taken.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

async fn run() {
    let events = env_num("EVENTS", 5000);
    let servers = env_num("SERVERS", 1).clamp(1, 2);
    let dir =
        std::env::temp_dir().join(format!("colloquy-bench-deliveries-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = database(&dir).await;
    let (hook, seen) = receiver().await;
    let policies =
        PolicySet::load_dir(&std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("policies"))
            .unwrap();
    let mut colloquys = Vec::new();
    for _ in 0..servers {
        colloquys.push(
            Colloquy::open(config(&url, &hook, &dir), policies.clone())
                .await
                .unwrap(),
        );
    }
    let backend = if url.starts_with("sqlite:") {
        "SQLite"
    } else {
        "PostgreSQL"
    };
    let concurrency = colloquys[0].config().notify.concurrency;
    eprintln!("posting {events} comments ({backend}) …");
    let site = SiteId::parse("default").unwrap();
    let posting = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let per_task = events.div_ceil(16);
    for t in 0..16 {
        let c = colloquys[t % servers].clone();
        let site = site.clone();
        tasks.spawn(async move {
            for i in (t * per_task)..((t + 1) * per_task).min(events) {
                let thread = ThreadKey::parse(&format!("thread-{}", i % 50)).unwrap();
                let input = PostInput {
                    body: format!("comment number {i}"),
                    ..PostInput::default()
                };
                c.post(&site, &thread, input, None).await.unwrap();
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    eprintln!(
        "posted in {:.1} s; starting {servers} notifier(s), concurrency {concurrency} each",
        posting.elapsed().as_secs_f64()
    );

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let start = Instant::now();
    let mut running = Vec::new();
    for c in &colloquys {
        // New outbox rows wake the other server too (PostgreSQL).
        tokio::spawn(c.clone().follow_changes());
        let notifier = Notifier::new(c, "http://127.0.0.1".to_owned())
            .await
            .unwrap();
        running.push(tokio::spawn(notifier.run(stopped.clone())));
    }
    let deadline = start + Duration::from_secs(600);
    loop {
        let n = seen.lock().unwrap().len();
        if n >= events || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let took = start.elapsed().as_secs_f64();
    let delivered = seen.lock().unwrap().len();
    let _ = stop.send(true);
    for r in running {
        let _ = r.await;
    }
    println!(
        "deliveries: {delivered} of {events} in {took:.2} s = {:.0} deliveries/s \
         ({backend}, {servers} server(s), concurrency {concurrency})",
        delivered as f64 / took
    );
    for c in &colloquys {
        c.close().await;
    }
    if let Some(schema) = url.split("search_path%3D").nth(1) {
        let base = std::env::var("COLLOQUY_TEST_POSTGRES_URL").unwrap();
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&base)
            .await
            .unwrap();
        let _ = sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
            .execute(&mut conn)
            .await;
    }
    let _ = std::fs::remove_dir_all(&dir);
}
