//! Two real `colloquy serve` processes on one PostgreSQL database (issue
//! 14): they spend from the same rate-limit budgets, make ids that never
//! collide, and one killed under load loses no acknowledged comment.
//! PostgreSQL only: an SQLite file belongs to one process.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::json;

use crate::helpers::{fresh_database, temp_dir, Db};
use crate::process::{all_stored, start, start_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_spend_one_rate_limit_and_a_restart_does_not_refill_it() {
    let dir = temp_dir();
    let Some(url) = fresh_database(Db::Postgres, &dir).await else {
        return;
    };
    let limits_on = [("COLLOQUY_RATE_LIMIT", "on")];
    let mut a = start_with(&url, &dir, 0, &limits_on, None).await;
    let b = start_with(&url, &dir, 1, &limits_on, None).await;
    let http = reqwest::Client::new();
    let limit = 10; // the default site's comments per address and minute
    let mut accepted = 0;
    let mut refused = 0;
    for i in 0..(2 * limit) {
        let server = if i % 2 == 0 { &a } else { &b };
        let r = http
            .post(server.url("/api/v1/sites/default/threads/limits/comments"))
            .json(&json!({ "body": format!("alternating post {i}") }))
            .send()
            .await
            .unwrap();
        match r.status().as_u16() {
            201 => accepted += 1,
            429 => {
                refused += 1;
                assert!(r.headers().contains_key("retry-after"));
            }
            other => panic!("post {i}: status {other}: {}", r.text().await.unwrap()),
        }
    }
    assert_eq!(
        (accepted, refused),
        (limit, limit),
        "alternating between two servers must not double the budget"
    );
    // A restarted server has not forgotten what was spent.
    a.kill();
    let a = start_with(&url, &dir, 2, &limits_on, None).await;
    let r = http
        .post(a.url("/api/v1/sites/default/threads/limits/comments"))
        .json(&json!({ "body": "after the restart" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 429, "a restart refilled the budget");
    drop(b);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_never_make_the_same_id_and_a_killed_one_loses_nothing_acknowledged() {
    let _heavy = crate::concurrency::HEAVY.lock().await;
    let dir = temp_dir();
    let Some(url) = fresh_database(Db::Postgres, &dir).await else {
        return;
    };
    let mut a = start(&url, &dir, 0).await;
    let b = start(&url, &dir, 1).await;
    let http = reqwest::Client::new();
    // Clients post as fast as they can, each alternating between the
    // servers, into one hot thread and threads of their own; the first
    // server is killed in the middle.
    let bases = [a.base.clone(), b.base.clone()];
    let clients: Vec<_> = (0..8)
        .map(|k| {
            let http = http.clone();
            let bases = bases.clone();
            tokio::spawn(async move {
                let mut acked = Vec::new();
                for n in 0..150 {
                    let base = &bases[(k + n) % 2];
                    let thread = if n % 2 == 0 {
                        "hot".to_owned()
                    } else {
                        format!("own-{k}")
                    };
                    let text = format!("client {k} post {n}");
                    let r = http
                        .post(format!(
                            "{base}/api/v1/sites/default/threads/{thread}/comments"
                        ))
                        .json(&json!({ "body": text }))
                        .timeout(Duration::from_secs(10))
                        .send()
                        .await;
                    let Ok(r) = r else { continue };
                    let status = r.status().as_u16();
                    if status == 201 {
                        let v: serde_json::Value = r.json().await.unwrap();
                        acked.push((v["id"].as_i64().unwrap(), text));
                    } else {
                        // Only the killed server may fail a request; it
                        // never answers 5xx for a duplicate id.
                        assert_ne!(status, 500, "{}", r.text().await.unwrap_or_default());
                    }
                }
                acked
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(700)).await;
    a.kill();
    let mut acked = Vec::new();
    for c in clients {
        acked.extend(c.await.unwrap());
    }
    assert!(acked.len() > 600, "too few posts answered: {}", acked.len());

    let stored = all_stored(&http, &b.base, "default").await;
    let ids: HashSet<i64> = stored.iter().map(|c| c["id"].as_i64().unwrap()).collect();
    assert_eq!(ids.len(), stored.len(), "an id was stored twice");
    for (id, text) in &acked {
        let c = stored
            .iter()
            .find(|c| c["id"].as_i64() == Some(*id))
            .unwrap_or_else(|| panic!("acknowledged comment {id} ({text}) is gone"));
        assert_eq!(c["body"], text.as_str());
    }
    // The ids carry two node numbers: each server wrote its own.
    let nodes: HashSet<i64> = acked.iter().map(|(id, _)| (id >> 6) & 63).collect();
    assert_eq!(nodes.len(), 2, "nodes seen: {nodes:?}");
}

/// Runs `colloquy serve` expecting it to refuse to start within 40 s; its
/// stderr. A server that starts instead is stopped and fails the test.
fn refused_start(url: &str, dir: &std::path::Path, env: &[(&str, &str)]) -> String {
    let log = dir.join("refused.log");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_colloquy"))
        .args(["serve", "--listen", "127.0.0.1:0", "--database", url])
        .env("COLLOQUY_ADMIN_TOKEN", crate::helpers::ADMIN)
        .env("COLLOQUY_RATE_LIMIT", "off")
        .env("COLLOQUY_LOG", "warn")
        .envs(env.iter().copied())
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("the colloquy binary runs");
    let deadline = std::time::Instant::now() + Duration::from_secs(40);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    match status {
        Some(s) => assert!(!s.success(), "exited without an error: {text}"),
        None => panic!("the second server started and kept running: {text}"),
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_with_other_formats_or_notifications_refuses_to_join_or_warns() {
    let dir = temp_dir();
    let Some(url) = fresh_database(Db::Postgres, &dir).await else {
        return;
    };
    let a = start(&url, &dir, 0).await;
    // The same bundled formats with one setting changed.
    let other = dir.join("other-policies");
    std::fs::create_dir_all(&other).unwrap();
    for file in ["filtered_html.toml", "plain_text.toml", "markdown.toml"] {
        let text = std::fs::read_to_string(format!("policies/{file}")).unwrap();
        let text = if file == "plain_text.toml" {
            text.replace("max_display_length = 72", "max_display_length = 40")
        } else {
            text
        };
        std::fs::write(other.join(file), text).unwrap();
    }
    let other_dir = other.to_str().unwrap().to_owned();
    let url_b = url.clone();
    let dir_b = dir.clone();
    let log = tokio::task::spawn_blocking(move || {
        refused_start(&url_b, &dir_b, &[("COLLOQUY_POLICIES", &other_dir)])
    })
    .await
    .unwrap();
    assert!(
        log.contains("format `plain_text` differs") && log.contains("config_mismatch"),
        "{log}"
    );
    // Other notification settings are named too.
    let url_b = url.clone();
    let dir_b = dir.clone();
    let log = tokio::task::spawn_blocking(move || {
        refused_start(
            &url_b,
            &dir_b,
            &[("COLLOQUY_PUBLIC_URL", "https://other.example")],
        )
    })
    .await
    .unwrap();
    assert!(log.contains("notification settings differ"), "{log}");
    assert!(!log.contains("format `"), "{log}");

    // With `warn` it starts, serves, and says so loudly; the first server
    // is still answering.
    let other_dir = other.to_str().unwrap();
    let b = start_with(
        &url,
        &dir,
        1,
        &[
            ("COLLOQUY_POLICIES", other_dir),
            ("COLLOQUY_CONFIG_MISMATCH", "warn"),
        ],
        None,
    )
    .await;
    assert!(
        b.log_text().contains("different settings"),
        "{}",
        b.log_text()
    );
    let http = reqwest::Client::new();
    for base in [&a.base, &b.base] {
        let r = http.get(format!("{base}/healthz")).send().await.unwrap();
        assert!(r.status().is_success());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_with_new_settings_after_a_kill_waits_out_the_dead_claim() {
    let dir = temp_dir();
    let Some(url) = fresh_database(Db::Postgres, &dir).await else {
        return;
    };
    let mut a = start(&url, &dir, 0).await;
    // Killed: no shutdown, its claim stays in the database.
    a.kill();
    let b = start_with(
        &url,
        &dir,
        1,
        &[("COLLOQUY_PUBLIC_URL", "https://new.example")],
        None,
    )
    .await;
    let log = b.log_text();
    assert!(log.contains("waiting"), "{log}");
    assert!(!log.contains("different settings"), "{log}");
}
