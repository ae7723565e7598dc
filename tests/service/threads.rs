//! Threads carry their article's title and address (issue 16): from the
//! embed's first post, the admin API or an import; shown in the thread API,
//! the thread page (with a link back) and the feed. Over HTTP on both
//! backends.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{expect_problem, spawn, Db, TestApp};

both_backends!(
    a_thread_keeps_the_title_and_address_its_first_page_gives,
    moderators_set_a_threads_title_and_address,
    bad_titles_and_addresses_are_refused_and_change_nothing,
);

async fn thread(app: &TestApp, site: &str, key: &str) -> Value {
    let r = app
        .client
        .get(app.url(&format!("/api/v1/sites/{site}/threads/{key}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

async fn text(app: &TestApp, path: &str) -> String {
    app.client
        .get(app.url(path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn a_thread_keeps_the_title_and_address_its_first_page_gives(db: Db) {
    let Some(app) = spawn(db).await else { return };
    let before = thread(&app, "default", "t1").await;
    assert_eq!(before["title"], Value::Null);
    assert_eq!(before["url"], Value::Null);
    app.post_ok(
        "default",
        "t1",
        json!({
            "body": "first",
            "thread_title": "  Bridge plan <approved>\u{200b}  ",
            "thread_url": "https://news.example/2026/bridge",
        }),
    )
    .await;
    let t = thread(&app, "default", "t1").await;
    assert_eq!(t["title"], "Bridge plan <approved>");
    assert_eq!(t["url"], "https://news.example/2026/bridge");
    // A later page cannot rename it.
    app.post_ok(
        "default",
        "t1",
        json!({ "body": "second", "thread_title": "Hijacked", "thread_url": "https://evil.example/" }),
    )
    .await;
    let t = thread(&app, "default", "t1").await;
    assert_eq!(t["title"], "Bridge plan <approved>");
    assert_eq!(t["url"], "https://news.example/2026/bridge");

    // The embed's bootstrap has them too.
    let boot: Value = app
        .client
        .get(app.url("/api/v1/sites/default/threads/t1/bootstrap"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(boot["thread"]["title"], "Bridge plan <approved>");

    // The thread page names the article, escaped, and links back to it.
    let page = text(&app, "/sites/default/threads/t1").await;
    assert!(
        page.contains("Comments on <q>Bridge plan &#60;approved&#62;</q>")
            || page.contains("Comments on <q>Bridge plan &lt;approved&gt;</q>"),
        "{page}"
    );
    assert!(page.contains("<a href=\"https://news.example/2026/bridge\">Back to the article</a>"));
    // The feed too, as well-formed XML with an alternate link.
    let feed = text(&app, "/api/v1/sites/default/threads/t1/feed").await;
    assert!(feed.contains("<link rel=\"alternate\" type=\"text/html\" href=\"https://news.example/2026/bridge\"/>"), "{feed}");
    assert!(!feed.contains("<approved>"), "{feed}");
    assert!(
        feed.contains("Comments on Bridge plan &#60;approved&#62;")
            || feed.contains("Comments on Bridge plan &lt;approved&gt;"),
        "{feed}"
    );
}

async fn moderators_set_a_threads_title_and_address(db: Db) {
    let Some(app) = spawn(db).await else { return };
    app.post_ok(
        "default",
        "t2",
        json!({ "body": "x", "thread_title": "Old" }),
    )
    .await;
    let (s, v) = app
        .admin(
            Method::PUT,
            "/api/v1/admin/sites/default/threads/t2",
            Some(json!({ "title": "New title", "url": "https://news.example/t2" })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        v,
        json!({ "key": "t2", "state": "open", "title": "New title", "url": "https://news.example/t2" })
    );
    let t = thread(&app, "default", "t2").await;
    assert_eq!(t["title"], "New title");
    // The state alone still works as before, and keeps the title.
    let (s, v) = app
        .admin(
            Method::PUT,
            "/api/v1/admin/sites/default/threads/t2",
            Some(json!({ "state": "closed" })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "closed");
    assert_eq!(v["title"], "New title");
    // In the audit log, with who.
    let (_, log) = app
        .admin(Method::GET, "/api/v1/admin/sites/default/audit", None)
        .await;
    assert!(
        log.to_string().contains("title set to “New title”"),
        "{log}"
    );
    // Nothing to change is an error that says what to give.
    let (s, v) = app
        .admin(
            Method::PUT,
            "/api/v1/admin/sites/default/threads/t2",
            Some(json!({})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
}

async fn bad_titles_and_addresses_are_refused_and_change_nothing(db: Db) {
    let Some(app) = spawn(db).await else { return };
    for (site, body, field) in [
        (
            "default",
            json!({ "body": "x", "thread_url": "javascript:alert(1)" }),
            "thread_url",
        ),
        (
            "default",
            json!({ "body": "x", "thread_url": "https://news.example/a b" }),
            "thread_url",
        ),
        (
            "default",
            json!({ "body": "x", "thread_title": "t".repeat(301) }),
            "thread_title",
        ),
        // The site `other` allows https://news.example only.
        (
            "other",
            json!({ "body": "x", "thread_url": "https://elsewhere.example/a" }),
            "thread_url",
        ),
    ] {
        let r = app
            .client
            .post(app.url(&format!("/api/v1/sites/{site}/threads/bad/comments")))
            .json(&body)
            .send()
            .await
            .unwrap();
        let p = expect_problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert!(p["detail"].as_str().unwrap().contains(field), "{p}");
        let t = thread(&app, site, "bad").await;
        assert_eq!(t["count"], 0, "stored after a refusal: {t}");
        assert_eq!(t["title"], Value::Null);
    }
    // On its own origin it is kept.
    let r = app
        .client
        .post(app.url("/api/v1/sites/other/threads/good/comments"))
        .json(&json!({ "body": "x", "thread_url": "https://news.example/good" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(
        thread(&app, "other", "good").await["url"],
        "https://news.example/good"
    );
    let (s, _) = app
        .admin(
            Method::PUT,
            "/api/v1/admin/sites/default/threads/t3",
            Some(json!({ "url": "ftp://files.example/x" })),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
}
