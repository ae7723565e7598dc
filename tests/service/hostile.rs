//! Hostile clients (issue 12): each story is one class of abuse that once
//! worked against the service, tried over HTTP on both backends.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{encode, expect_problem, spawn, Db, TestApp};

both_backends!(
    replies_only_go_under_published_comments,
    closed_and_hidden_threads_freeze_their_comments_for_authors_too,
    redirects_are_checked_as_a_browser_reads_them_before_anything_is_stored,
    the_thread_page_form_refuses_invalid_utf8_as_the_api_does,
    names_cannot_disguise_themselves_with_invisible_characters,
);

/// Sets the state of `thread` on site `default`.
async fn set_thread(app: &TestApp, thread: &str, state: &str) {
    let path = format!("/api/v1/admin/sites/default/threads/{}", encode(thread));
    let (s, v) = app
        .admin(Method::PUT, &path, Some(json!({ "state": state })))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

/// Applies a moderator's action to comment `id` of site `default`.
async fn act(app: &TestApp, id: &Value, action: &str) {
    let (s, v) = app
        .admin(
            Method::POST,
            &format!("/api/v1/admin/sites/default/comments/{id}/{action}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

async fn replies_only_go_under_published_comments(db: Db) {
    let Some(app) = spawn(db).await else { return };
    app.patch_site("default", json!({"moderation": "hold"}))
        .await;
    let held = app.post_ok("default", "t", json!({"body": "held"})).await;
    assert_eq!(held["status"], "pending");
    let spam = app.post_ok("default", "t", json!({"body": "spam"})).await;
    act(&app, &spam["id"], "spam").await;
    let trashed = app.post_ok("default", "t", json!({"body": "trash"})).await;
    act(&app, &trashed["id"], "trash").await;
    app.patch_site("default", json!({"moderation": "publish"}))
        .await;
    for parent in [&held["id"], &spam["id"], &trashed["id"]] {
        let r = app
            .post("default", "t", json!({"body": "a reply", "parent": parent}))
            .await;
        let p = expect_problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(p["field"], "parent", "{p}");
    }
    // Nothing was stored under them, so nothing lists their ids.
    let listed = app.list("default", "t", "").await;
    assert_eq!(listed["comments"], json!([]));
    // Once published, the same comment takes replies.
    act(&app, &held["id"], "approve").await;
    let reply = app
        .post_ok("default", "t", json!({"body": "now", "parent": held["id"]}))
        .await;
    assert_eq!(reply["parent"], held["id"]);
}

async fn closed_and_hidden_threads_freeze_their_comments_for_authors_too(db: Db) {
    let Some(app) = spawn(db).await else { return };
    let mut tokens = Vec::new();
    for thread in ["closing", "hiding"] {
        let c = app
            .post_ok("default", thread, json!({"body": "mine"}))
            .await;
        tokens.push((
            thread,
            c["id"].clone(),
            c["edit_token"].as_str().unwrap().to_owned(),
        ));
    }
    set_thread(&app, "closing", "closed").await;
    set_thread(&app, "hiding", "hidden").await;
    for (thread, id, token) in &tokens {
        let want = if *thread == "closing" {
            StatusCode::FORBIDDEN
        } else {
            StatusCode::NOT_FOUND
        };
        let url = app.url(&format!("/api/v1/sites/default/comments/{id}"));
        let edit = app
            .client
            .patch(&url)
            .bearer_auth(token)
            .json(&json!({"body": "changed"}))
            .send()
            .await
            .unwrap();
        expect_problem(edit, want).await;
        let delete = app
            .client
            .delete(&url)
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        expect_problem(delete, want).await;
    }
    let n = app
        .sql_count("SELECT COUNT(*) FROM comments WHERE body = 'mine'")
        .await;
    assert_eq!(n, 2, "both comments unchanged and still there");
    // Reopened, the author may edit again (inside the window).
    set_thread(&app, "closing", "open").await;
    let (_, id, token) = &tokens[0];
    let r = app
        .client
        .patch(app.url(&format!("/api/v1/sites/default/comments/{id}")))
        .bearer_auth(token)
        .json(&json!({"body": "changed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

async fn redirects_are_checked_as_a_browser_reads_them_before_anything_is_stored(db: Db) {
    let Some(app) = spawn(db).await else { return };
    let post = |body: String, redirect: &str| {
        app.client
            .post(app.url(&TestApp::comments_path("other", "r")))
            .form(&[("body", body.as_str()), ("redirect", redirect)])
            .send()
    };
    // Each of these lands on another host (or runs script) in a browser:
    // tabs and newlines are dropped, a backslash is a slash, `//` starts a
    // host.
    for (i, target) in [
        "/\t/evil.example",
        "/\n/evil.example",
        "\t//evil.example/x",
        "/\\evil.example",
        "\\\\evil.example",
        "//evil.example",
        "https:evil.example",
        "http://news.example.evil.example/",
        "https://news.example@evil.example/",
        "javascript:alert(1)",
        "data:text/html,x",
        "https://news.example:8443/",
    ]
    .into_iter()
    .enumerate()
    {
        let r = post(format!("attempt {i}"), target).await.unwrap();
        let p = expect_problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(p["field"], "redirect", "{target:?}: {p}");
    }
    assert_eq!(
        app.sql_count("SELECT COUNT(*) FROM comments").await,
        0,
        "nothing stored for a refused redirect"
    );
    // Paths on this server and pages of the site's origin go through,
    // written back as parsed (never a header value that cannot be sent).
    for (i, (target, want)) in [
        ("/articles/1?x=1", "/articles/1?x=1#comment-"),
        ("/a b/\u{e9}\n", "/a%20b/%C3%A9#comment-"),
        (
            "https://news.example/a/1#old",
            "https://news.example/a/1#comment-",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let r = post(format!("fine {i}"), target).await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{target:?}");
        let location = r.headers()["location"].to_str().unwrap().to_owned();
        assert!(location.starts_with(want), "{target:?} -> {location}");
    }
}

async fn the_thread_page_form_refuses_invalid_utf8_as_the_api_does(db: Db) {
    let Some(app) = spawn(db).await else { return };
    for (path, body) in [
        (
            "/sites/default/threads/u".to_owned(),
            "op=post&body=caf%E9+au+lait",
        ),
        (
            TestApp::comments_path("default", "u"),
            "body=caf%E9+au+lait",
        ),
        (
            "/sites/default/threads/u".to_owned(),
            "op=post&body=ok&author=%C3%28",
        ),
    ] {
        let r = app
            .client
            .post(app.url(&path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{path} {body}");
        let text = r.text().await.unwrap();
        assert!(text.contains("UTF-8"), "the answer says why: {text}");
    }
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM comments").await, 0);
}

async fn names_cannot_disguise_themselves_with_invisible_characters(db: Db) {
    let Some(app) = spawn(db).await else { return };
    for (typed, shown) in [
        ("admin\u{202e}gnp.exe", json!("admingnp.exe")),
        ("ad\u{200d}min", json!("admin")),
        ("\u{2066}Moderator\u{2069}\u{200f}", json!("Moderator")),
        ("\u{3164}\u{200b}", Value::Null),
        (
            "Zoë \u{1f469}\u{200d}\u{1f4bb}",
            json!("Zoë \u{1f469}\u{200d}\u{1f4bb}"),
        ),
    ] {
        let c = app
            .post_ok(
                "default",
                "names",
                json!({"author": typed, "body": format!("by {typed}")}),
            )
            .await;
        assert_eq!(c["author"], shown, "{typed:?}");
    }
    let listed = app.list("default", "names", "").await;
    let names: Vec<&Value> = listed["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["author"])
        .collect();
    assert_eq!(names[0], "admingnp.exe");
    // A homepage with an invisible character is refused, not shown.
    let r = app
        .post(
            "default",
            "names",
            json!({"body": "x", "homepage": "https://exa\u{200b}mple.com/"}),
        )
        .await;
    let p = expect_problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(p["field"], "homepage");
    // Thread keys reach pages and feeds: no noncharacters or overrides.
    for key in ["a\u{fffe}b", "news\u{202e}", "x\u{ffff}"] {
        let r = app.post("default", key, json!({"body": "x"})).await;
        let p = expect_problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(p["field"], "thread", "{key:?}");
    }
}
