//! Rendering under hostile load: renders run on a bounded pool of their
//! own, so the async workers keep answering; a render that cannot get a
//! thread in time is refused with 503; previews have a rate limit of their
//! own.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{expect_problem, spawn_with, Db, TestApp};

/// Catches a hang; never a measure of speed.
const HANG: Duration = Duration::from_secs(120);

/// 480,000 characters of links: heavy to render however fast the lexer
/// gets, and linear (20,000 characters of `x<y `, the input that made
/// rendering quadratic, would be cheap once that is fixed, and a larger
/// input of it would take this test hours until then).
fn hostile_body() -> String {
    "www.example.com ".repeat(30_000)
}

/// Room for the link bodies, and time for eight of them on two threads.
fn big_comments(config: &mut colloquy::config::Config) {
    config.limits.max_comment_chars = 1_000_000;
    config.limits.max_body_bytes = 16 << 20;
    config.limits.request_timeout_secs = 600;
}

/// One number from `/metrics`.
async fn metric(app: &TestApp, name: &str) -> u64 {
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in /metrics:\n{text}"))
}

/// Waits until `/metrics` shows `n` renders running.
async fn until_running(app: &TestApp, n: u64) {
    tokio::time::timeout(HANG, async {
        while metric(app, "colloquy_renders_running").await < n {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("renders start");
}

fn preview(app: &TestApp, site: &str, body: String) -> tokio::task::JoinHandle<StatusCode> {
    let client = app.client.clone();
    let url = app.url(&format!("/api/v1/sites/{site}/preview"));
    tokio::spawn(async move {
        client
            .post(url)
            .json(&json!({ "body": body, "format": "filtered_html" }))
            .send()
            .await
            .map_or(StatusCode::INTERNAL_SERVER_ERROR, |r| r.status())
    })
}

async fn health_answers_while_every_render_thread_is_busy(db: Db) {
    let Some(app) = spawn_with(db, |c| {
        big_comments(c);
        c.limits.render_threads = 2;
        c.limits.render_queue_ms = 60_000;
    })
    .await
    else {
        return;
    };
    let done = Arc::new(AtomicUsize::new(0));
    let mut previews = Vec::new();
    for _ in 0..8 {
        let task = preview(&app, "default", hostile_body());
        let done = Arc::clone(&done);
        previews.push(tokio::spawn(async move {
            let status = task.await.expect("preview task");
            done.fetch_add(1, Ordering::SeqCst);
            status
        }));
    }
    // Both render threads busy and renders waiting for them. (Were the
    // renders on the async workers, /metrics could not say so: the worker
    // answering it would be free, and this would time out.)
    tokio::time::timeout(HANG, async {
        while metric(&app, "colloquy_renders_running").await < 2
            || metric(&app, "colloquy_renders_waiting").await < 1
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the render pool fills up");
    let health = tokio::time::timeout(HANG, app.client.get(app.url("/healthz")).send())
        .await
        .expect("no hang")
        .expect("healthz");
    assert_eq!(health.status(), StatusCode::OK);
    // The health check was answered while the renders were still going:
    // none of them had finished, none of their clients had an answer.
    assert_eq!(metric(&app, "colloquy_renders_finished_total").await, 0);
    assert_eq!(done.load(Ordering::SeqCst), 0);
    // And every preview gets its answer in turn.
    for p in previews {
        let status = tokio::time::timeout(HANG, p)
            .await
            .expect("no hang")
            .expect("task");
        assert_eq!(status, StatusCode::OK);
    }
    assert_eq!(metric(&app, "colloquy_renders_finished_total").await, 8);
}

async fn a_render_that_finds_no_thread_in_time_is_answered_503(db: Db) {
    let Some(app) = spawn_with(db, |c| {
        big_comments(c);
        c.limits.render_threads = 1;
        c.limits.render_queue_ms = 20;
    })
    .await
    else {
        return;
    };
    let heavy = preview(&app, "default", hostile_body());
    until_running(&app, 1).await;
    // A preview and a new comment, both waiting for the one thread.
    let r = app
        .client
        .post(app.url("/api/v1/sites/default/preview"))
        .json(&json!({ "body": "hello" }))
        .send()
        .await
        .expect("preview");
    let retry = r.headers().get("retry-after").cloned();
    let v = expect_problem(r, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(v["code"], "busy", "{v}");
    assert!(retry.is_some(), "a 503 says when to come back");
    let r = app
        .post("default", "busy", json!({ "body": "a comment" }))
        .await;
    expect_problem(r, StatusCode::SERVICE_UNAVAILABLE).await;
    let listed = app.list("default", "busy", "").await;
    assert_eq!(
        listed["comments"],
        json!([]),
        "a refused comment is not stored"
    );
    assert!(metric(&app, "colloquy_renders_refused_total").await >= 2);
    // Once the thread is free, the same requests go through.
    let status = tokio::time::timeout(HANG, heavy)
        .await
        .expect("no hang")
        .expect("task");
    assert_eq!(status, StatusCode::OK);
    let posted = app
        .post_ok("default", "busy", json!({ "body": "a comment" }))
        .await;
    assert_eq!(posted["status"], "published", "{posted}");
}

async fn previews_have_a_rate_limit_of_their_own(db: Db) {
    let Some(app) = spawn_with(db, |c| {
        c.rate_limit = true;
        c.limits.ip_previews_per_minute = 3;
        c.limits.site_previews_per_minute = 0;
    })
    .await
    else {
        return;
    };
    let ask = || async {
        app.client
            .post(app.url("/api/v1/sites/default/preview"))
            .json(&json!({ "body": "*hello*" }))
            .send()
            .await
            .expect("preview")
    };
    for _ in 0..3 {
        assert_eq!(ask().await.status(), StatusCode::OK);
    }
    let r = ask().await;
    let retry: u64 = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!((1..=61).contains(&retry), "{retry}");
    let v = expect_problem(r, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(v["code"], "rate_limited", "{v}");
    assert!(
        v["detail"].as_str().is_some_and(|d| d.contains("preview")),
        "{v}"
    );
    // The posting budget is untouched by previews.
    app.post_ok("default", "t", json!({ "body": "still allowed to post" }))
        .await;
    // The HTML form's preview button counts against the same budget.
    let r = app
        .client
        .post(app.url("/sites/default/threads/t"))
        .form(&[("op", "preview"), ("body", "hello")])
        .send()
        .await
        .expect("form preview");
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
}

async fn the_site_preview_budget_is_shared_by_every_address(db: Db) {
    let Some(app) = spawn_with(db, |c| {
        c.rate_limit = true;
        c.limits.ip_previews_per_minute = 0;
        c.limits.site_previews_per_minute = 2;
    })
    .await
    else {
        return;
    };
    let from = |last: u8| {
        reqwest::Client::builder()
            .local_address(std::net::IpAddr::from([127, 0, 0, last]))
            .build()
            .expect("client")
    };
    let url = app.url("/api/v1/sites/default/preview");
    let mut statuses = Vec::new();
    for last in 1..=3 {
        let r = from(last)
            .post(&url)
            .json(&json!({ "body": "hi" }))
            .send()
            .await
            .expect("preview");
        statuses.push(r.status());
    }
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    // Another site has its own budget.
    let r = from(4)
        .post(app.url("/api/v1/sites/other/preview"))
        .json(&json!({ "body": "hi", "format": "plain_text" }))
        .send()
        .await
        .expect("preview");
    let v: Value = r.json().await.expect("json");
    assert!(v["html"].is_string(), "{v}");
}

both_backends!(
    health_answers_while_every_render_thread_is_busy,
    a_render_that_finds_no_thread_in_time_is_answered_503,
    previews_have_a_rate_limit_of_their_own,
    the_site_preview_budget_is_shared_by_every_address,
);
