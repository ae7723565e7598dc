//! Public API stories: posting in each format, listing, threading,
//! pagination, counts, thread states, formats, forms, edit tokens, pages.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{encode, expect_problem, spawn, spawn_on, spawn_with, temp_dir, Db, TestApp};

both_backends!(
    posting_in_each_format_renders_and_lists,
    formats_list_tips_and_the_default,
    replies_keep_their_parent_and_stay_in_their_thread,
    pagination_visits_every_comment_once_in_either_order,
    counts_cover_many_threads_in_one_request,
    closed_and_hidden_threads,
    a_plain_html_form_posts_and_redirects_back,
    the_edit_token_edits_and_deletes_within_the_window,
    fragment_feed_and_etags,
    health_metrics_and_openapi,
    thread_keys_are_any_string_up_to_256_characters,
    the_same_text_twice_is_a_conflict,
    two_servers_on_one_database_never_serve_a_stale_listing,
    counts_follow_moderation,
    concurrent_posts_are_all_stored_once,
);

async fn posting_in_each_format_renders_and_lists(db: Db) {
    let Some(app) = spawn(db).await else { return };
    let fh = app
        .post_ok(
            "default",
            "article-1",
            json!({"author": "Ann", "email": "ann@example.com", "homepage": "https://ann.example",
                   "body": "Hi <em>all</em> <script>x</script>\n\nsee www.example.com"}),
        )
        .await;
    assert_eq!(fh["status"], "published");
    assert_eq!(fh["format"], "filtered_html");
    assert_eq!(
        fh["html"],
        "<p>Hi <em>all</em> </p>\n<p>see <a href=\"http://www.example.com\" rel=\"nofollow ugc\">www.example.com</a></p>\n"
    );
    assert!(fh["edit_token"].as_str().is_some_and(|t| t.len() >= 40));
    assert!(fh["created"].as_str().is_some_and(|t| t.ends_with('Z')));
    assert!(fh["policy_version"]
        .as_str()
        .is_some_and(|v| v.starts_with("sha256:")));
    assert!(fh.get("email").is_none(), "e-mail is never served");

    let pt = app
        .post_ok(
            "default",
            "article-1",
            json!({"body": "<em>x</em>", "format": "plain_text"}),
        )
        .await;
    assert_eq!(pt["html"], "<p>&lt;em&gt;x&lt;/em&gt;</p>\n");

    let md = app
        .post_ok(
            "other",
            "article-1",
            json!({"body": "**bold**", "format": "markdown"}),
        )
        .await;
    assert_eq!(md["html"], "<p><strong>bold</strong></p>\n");

    let list = app.list("default", "article-1", "").await;
    let comments = list["comments"].as_array().unwrap();
    assert_eq!(comments.len(), 2);
    assert_eq!(comments[0]["id"], fh["id"]);
    assert_eq!(comments[0]["author"], "Ann");
    assert_eq!(comments[0]["homepage"], "https://ann.example");
    assert_eq!(comments[0]["html"], fh["html"]);
    assert!(comments[0].get("email").is_none() && comments[0].get("body").is_none());
    assert_eq!(list["next_cursor"], Value::Null);
    // Sites are separate: the markdown comment is only on `other`.
    assert_eq!(
        app.list("other", "article-1", "").await["comments"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

async fn formats_list_tips_and_the_default(db: Db) {
    let Some(app) = spawn(db).await else { return };
    let (status, v) = app.get_json("/api/v1/sites/default/formats").await;
    assert_eq!(status, StatusCode::OK);
    let formats = v["formats"].as_array().unwrap();
    let ids: Vec<&str> = formats.iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["filtered_html", "plain_text"]);
    assert_eq!(formats[0]["name"], "Filtered HTML");
    assert_eq!(formats[0]["default"], true);
    assert_eq!(formats[1]["default"], false);
    assert_eq!(
        formats[0]["tips"][0],
        "Allowed HTML tags: <em> <strong> <blockquote> <br> <p>"
    );
    assert_eq!(formats[1]["tips"][0], "No HTML tags allowed.");
    assert!(formats[0]["long_tips"].as_array().unwrap().len() >= 3);
    assert_eq!(v["default"], "filtered_html");
}

async fn replies_keep_their_parent_and_stay_in_their_thread(db: Db) {
    let Some(app) = spawn(db).await else { return };
    let top = app.post_ok("default", "t", json!({"body": "top"})).await;
    let reply = app
        .post_ok(
            "default",
            "t",
            json!({"body": "reply", "parent": top["id"]}),
        )
        .await;
    assert_eq!(reply["parent"], top["id"]);
    let nested = app
        .post_ok(
            "default",
            "t",
            json!({"body": "nested", "parent": reply["id"]}),
        )
        .await;
    let list = app.list("default", "t", "").await;
    let parents: Vec<&Value> = list["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["parent"])
        .collect();
    assert_eq!(parents, [&Value::Null, &top["id"], &reply["id"]]);
    // A reply into another thread is refused and stores nothing.
    let r = app
        .post(
            "default",
            "elsewhere",
            json!({"body": "x", "parent": nested["id"]}),
        )
        .await;
    let p = expect_problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(p["field"], "parent");
    let r = app
        .post("default", "t", json!({"body": "x", "parent": 424242}))
        .await;
    expect_problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        app.list("default", "elsewhere", "").await["comments"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

async fn pagination_visits_every_comment_once_in_either_order(db: Db) {
    let Some(app) = spawn(db).await else { return };
    let mut posted = Vec::new();
    for i in 0..7 {
        posted.push(
            app.post_ok("default", "paged", json!({"body": format!("comment {i}")}))
                .await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    for (order, expected) in [
        ("oldest", posted.clone()),
        ("newest", posted.iter().rev().copied().collect()),
    ] {
        let mut seen = Vec::new();
        let mut query = format!("?limit=3&order={order}");
        for _page in 0..5 {
            let v = app.list("default", "paged", &query).await;
            seen.extend(
                v["comments"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c["id"].as_i64().unwrap()),
            );
            match v["next_cursor"].as_str() {
                Some(c) => query = format!("?limit=3&order={order}&cursor={c}"),
                None => break,
            }
        }
        assert_eq!(seen, expected, "order {order}");
    }
    // A comment posted after the first page still shows up on a later page.
    let first = app.list("default", "paged", "?limit=5").await;
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let late = app
        .post_ok("default", "paged", json!({"body": "late"}))
        .await["id"]
        .as_i64()
        .unwrap();
    let rest = app
        .list("default", "paged", &format!("?limit=50&cursor={cursor}"))
        .await;
    let ids: Vec<i64> = rest["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [posted[5], posted[6], late]);
    let (status, p) = app
        .get_json(&format!(
            "{}?cursor=bogus",
            TestApp::comments_path("default", "paged")
        ))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["field"], "cursor");
}

async fn counts_cover_many_threads_in_one_request(db: Db) {
    let Some(app) = spawn(db).await else { return };
    for (thread, n) in [("a", 3), ("b/with slash", 1)] {
        for i in 0..n {
            app.post_ok("default", thread, json!({"body": format!("c{i}")}))
                .await;
        }
    }
    // A held comment does not count.
    app.post_ok(
        "default",
        "a",
        json!({"body": "http://x.example http://y.example"}),
    )
    .await;
    let (status, v) = app
        .get_json("/api/v1/sites/default/counts?thread=a&thread=b%2Fwith%20slash&thread=none")
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["counts"], json!({"a": 3, "b/with slash": 1, "none": 0}));
    let r = app
        .client
        .post(app.url("/api/v1/sites/default/counts"))
        .json(&json!(["a", "none"]))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap()["counts"],
        json!({"a": 3, "none": 0})
    );
}

async fn closed_and_hidden_threads(db: Db) {
    let Some(app) = spawn(db).await else { return };
    app.post_ok("default", "story", json!({"body": "first"}))
        .await;
    let path = format!("/api/v1/admin/sites/default/threads/{}", encode("story"));
    let (s, _) = app
        .admin(Method::PUT, &path, Some(json!({"state": "closed"})))
        .await;
    assert_eq!(s, StatusCode::OK);
    let r = app
        .post("default", "story", json!({"body": "second"}))
        .await;
    let p = expect_problem(r, StatusCode::FORBIDDEN).await;
    assert!(p["detail"].as_str().unwrap().contains("closed"));
    assert_eq!(
        app.list("default", "story", "").await["comments"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let (_, info) = app.get_json("/api/v1/sites/default/threads/story").await;
    assert_eq!(
        info,
        json!({"key": "story", "state": "closed", "count": 1, "title": null, "url": null})
    );

    app.admin(Method::PUT, &path, Some(json!({"state": "hidden"})))
        .await;
    let (s, _) = app
        .get_json(&TestApp::comments_path("default", "story"))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // To readers a hidden thread does not exist: posting says so, and its
    // count is not given away (the same answer as for an unknown thread).
    expect_problem(
        app.post("default", "story", json!({"body": "x"})).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let (s, counts) = app
        .get_json("/api/v1/sites/default/counts?thread=story&thread=never")
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(counts, json!({"counts": {"story": 0, "never": 0}}));

    app.admin(Method::PUT, &path, Some(json!({"state": "open"})))
        .await;
    app.post_ok("default", "story", json!({"body": "again"}))
        .await;
    // A thread can be closed before its first comment.
    let fresh = format!("/api/v1/admin/sites/default/threads/{}", encode("not-yet"));
    app.admin(Method::PUT, &fresh, Some(json!({"state": "closed"})))
        .await;
    expect_problem(
        app.post("default", "not-yet", json!({"body": "x"})).await,
        StatusCode::FORBIDDEN,
    )
    .await;
}

async fn a_plain_html_form_posts_and_redirects_back(db: Db) {
    let Some(app) = spawn(db).await else { return };
    let r = app
        .client
        .post(app.url(&TestApp::comments_path("default", "form-thread")))
        .form(&[
            ("author", "Bo"),
            ("body", "from a form"),
            ("format", "plain_text"),
            ("parent", ""),
            ("redirect", "/articles/1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/articles/1#comment-"), "{location}");
    let list = app.list("default", "form-thread", "").await;
    assert_eq!(list["comments"][0]["html"], "<p>from a form</p>\n");
    // Redirects only go to this server or the site's own origins.
    let r = app
        .client
        .post(app.url(&TestApp::comments_path("default", "form-thread")))
        .form(&[("body", "second"), ("redirect", "https://evil.example/")])
        .send()
        .await
        .unwrap();
    // Refused before anything is stored.
    let p = expect_problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(p["field"], "redirect");
    assert_eq!(
        app.list("default", "form-thread", "").await["comments"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let r = app
        .client
        .post(app.url(&TestApp::comments_path("other", "form-thread")))
        .form(&[("body", "third"), ("redirect", "https://news.example/a/1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

async fn the_edit_token_edits_and_deletes_within_the_window(db: Db) {
    let Some(app) = spawn(db).await else { return };
    let a = app.post_ok("default", "e", json!({"body": "typo"})).await;
    let b = app.post_ok("default", "e", json!({"body": "other"})).await;
    let path = |c: &Value| app.url(&format!("/api/v1/sites/default/comments/{}", c["id"]));
    let token = a["edit_token"].as_str().unwrap();
    let r = app
        .client
        .patch(path(&a))
        .bearer_auth(token)
        .json(&json!({"body": "fixed *now*"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let edited: Value = r.json().await.unwrap();
    assert_eq!(edited["html"], "<p>fixed *now*</p>\n");
    assert!(edited["modified"].is_string());
    assert_eq!(
        app.list("default", "e", "").await["comments"][0]["html"],
        "<p>fixed *now*</p>\n"
    );
    // The token works for its own comment only.
    let r = app
        .client
        .patch(path(&b))
        .bearer_auth(token)
        .json(&json!({"body": "hijack"}))
        .send()
        .await
        .unwrap();
    expect_problem(r, StatusCode::UNAUTHORIZED).await;
    let r = app.client.delete(path(&b)).send().await.unwrap();
    expect_problem(r, StatusCode::UNAUTHORIZED).await;
    let r = app
        .client
        .delete(path(&a))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.list("default", "e", "").await["comments"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // With a zero-second window, edits are refused.
    let Some(closed) = spawn_with(db, |c| c.edit_window_secs = 0).await else {
        return;
    };
    let c = closed.post_ok("default", "e", json!({"body": "x"})).await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let r = closed
        .client
        .patch(closed.url(&format!("/api/v1/sites/default/comments/{}", c["id"])))
        .bearer_auth(c["edit_token"].as_str().unwrap())
        .json(&json!({"body": "late"}))
        .send()
        .await
        .unwrap();
    expect_problem(r, StatusCode::FORBIDDEN).await;
}

async fn fragment_feed_and_etags(db: Db) {
    let Some(app) = spawn(db).await else { return };
    let top = app
        .post_ok(
            "default",
            "f",
            json!({"author": "<b>Eve</b>", "body": "hello <em>world</em>"}),
        )
        .await;
    app.post_ok(
        "default",
        "f",
        json!({"author": "Zed", "body": "a reply", "parent": top["id"]}),
    )
    .await;
    let r = app
        .client
        .get(app.url("/api/v1/sites/default/threads/f/fragment"))
        .send()
        .await
        .unwrap();
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = r.text().await.unwrap();
    assert!(html.contains("&lt;b&gt;Eve&lt;/b&gt;") && !html.contains("<b>Eve"));
    assert!(html.contains("<p>hello <em>world</em></p>"));
    assert!(html.find("colloquy-replies").unwrap() < html.find("a reply").unwrap());

    let r = app
        .client
        .get(app.url("/api/v1/sites/default/threads/f/feed"))
        .send()
        .await
        .unwrap();
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/atom+xml"));
    let xml = r.text().await.unwrap();
    assert!(
        xml.starts_with("<?xml") && xml.contains("<feed xmlns=\"http://www.w3.org/2005/Atom\">")
    );
    assert_eq!(xml.matches("<entry>").count(), 2);
    assert!(xml.contains("&lt;p&gt;hello &lt;em&gt;world&lt;/em&gt;&lt;/p&gt;"));

    let list_url = app.url(&TestApp::comments_path("default", "f"));
    let r = app.client.get(&list_url).send().await.unwrap();
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    let r = app
        .client
        .get(&list_url)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    app.post_ok("default", "f", json!({"body": "changes the etag"}))
        .await;
    let r = app
        .client
        .get(&list_url)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

async fn health_metrics_and_openapi(db: Db) {
    let Some(app) = spawn(db).await else { return };
    let (s, v) = app.get_json("/healthz").await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("ok")));
    app.post_ok("default", "m", json!({"body": "counted"}))
        .await;
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("colloquy_comments_posted_total{status=\"published\"} 1"),
        "{text}"
    );
    assert!(text.contains("colloquy_http_requests_total{method=\"POST\",status=\"201\"}"));
    let (s, doc) = app.get_json("/api/openapi.json").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    for path in [
        "/api/v1/sites/{site}/threads/{thread}/comments",
        "/api/v1/sites/{site}/formats",
        "/api/v1/sites/{site}/counts",
        "/api/v1/admin/sites/{site}/comments",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} is documented");
    }
}

async fn thread_keys_are_any_string_up_to_256_characters(db: Db) {
    let Some(app) = spawn(db).await else { return };
    for key in [
        "https://news.example/2026/11/a?x=1#top",
        "ünïcödé ✓ 記事",
        "../../etc/passwd",
        &"k".repeat(256),
    ] {
        app.post_ok("default", key, json!({"body": "ok"})).await;
        let list = app.list("default", key, "").await;
        assert_eq!(list["comments"][0]["thread"], key);
    }
    let r = app
        .post("default", &"k".repeat(257), json!({"body": "too long"}))
        .await;
    let p = expect_problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(p["field"], "thread");
}

async fn the_same_text_twice_is_a_conflict(db: Db) {
    let Some(app) = spawn(db).await else { return };
    let body = json!({"email": "a@example.com", "body": "double click"});
    app.post_ok("default", "d", body.clone()).await;
    let p = expect_problem(
        app.post("default", "d", body.clone()).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(p["code"], "duplicate_comment");
    // Readers see the detail: no internal id in it.
    let detail = p["detail"].as_str().unwrap();
    assert!(
        detail.contains("same text") && !detail.chars().any(|c| c.is_ascii_digit()),
        "{detail}"
    );
    // Another thread, or other text, is fine.
    app.post_ok("default", "d2", body).await;
    app.post_ok(
        "default",
        "d",
        json!({"email": "a@example.com", "body": "something else"}),
    )
    .await;
    assert_eq!(
        app.list("default", "d", "").await["comments"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

async fn two_servers_on_one_database_never_serve_a_stale_listing(db: Db) {
    let Some(a) = spawn(db).await else { return };
    let keys = a.key_file.clone();
    let b = spawn_on(a.database_url.clone(), temp_dir(), |c| {
        c.key_file = Some(keys)
    })
    .await;
    let first = a.post_ok("default", "shared", json!({"body": "one"})).await;
    // b caches the listing ...
    assert_eq!(
        b.list("default", "shared", "").await["comments"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        b.list("default", "shared", "").await["comments"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // ... a writes (post, then a moderator trashes the first comment) ...
    a.post_ok("default", "shared", json!({"body": "two"})).await;
    let listed = b.list("default", "shared", "").await;
    assert_eq!(
        listed["comments"].as_array().unwrap().len(),
        2,
        "b must see a's post"
    );
    a.admin(
        Method::POST,
        &format!("/api/v1/admin/sites/default/comments/{}/trash", first["id"]),
        None,
    )
    .await;
    let listed = b.list("default", "shared", "").await;
    let bodies: Vec<&str> = listed["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["html"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["<p>two</p>\n"], "b must see a's moderation");
}

async fn counts_follow_moderation(db: Db) {
    let Some(app) = spawn(db).await else { return };
    let a = app.post_ok("default", "cm", json!({"body": "a"})).await;
    app.post_ok("default", "cm", json!({"body": "b"})).await;
    let held = app
        .post_ok(
            "default",
            "cm",
            json!({"body": "http://x.example http://y.example"}),
        )
        .await;
    let count = || async {
        app.get_json("/api/v1/sites/default/counts?thread=cm")
            .await
            .1["counts"]["cm"]
            .as_i64()
    };
    assert_eq!(count().await, Some(2));
    let act =
        |id: &Value, action: &str| format!("/api/v1/admin/sites/default/comments/{id}/{action}");
    app.admin(Method::POST, &act(&held["id"], "approve"), None)
        .await;
    assert_eq!(count().await, Some(3));
    app.admin(Method::POST, &act(&a["id"], "spam"), None).await;
    assert_eq!(count().await, Some(2));
    app.admin(Method::POST, &act(&a["id"], "restore"), None)
        .await;
    assert_eq!(count().await, Some(3));
    app.admin(
        Method::DELETE,
        &format!("/api/v1/admin/sites/default/comments/{}", a["id"]),
        None,
    )
    .await;
    assert_eq!(count().await, Some(2));
    let (_, info) = app.get_json("/api/v1/sites/default/threads/cm").await;
    assert_eq!(info["count"], 2);
}

async fn concurrent_posts_are_all_stored_once(db: Db) {
    let Some(app) = spawn(db).await else { return };
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for i in 0..60 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let thread = if i % 2 == 0 { "even" } else { "odd" };
            app.post_ok(
                "default",
                thread,
                json!({"body": format!("concurrent {i}")}),
            )
            .await["id"]
                .as_i64()
                .unwrap()
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap());
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 60, "every acknowledged comment has its own id");
    let (_, counts) = app
        .get_json("/api/v1/sites/default/counts?thread=even&thread=odd")
        .await;
    assert_eq!(counts["counts"], json!({"even": 30, "odd": 30}));
    let listed = app.list("default", "even", "?limit=200").await;
    assert_eq!(listed["comments"].as_array().unwrap().len(), 30);
}
