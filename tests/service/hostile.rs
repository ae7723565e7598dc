//! Hostile clients (issue 12): each story is one class of abuse that once
//! worked against the service, tried over HTTP on both backends.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{encode, expect_problem, spawn, spawn_with, Db, TestApp, OTHER_ADMIN};

both_backends!(
    replies_only_go_under_published_comments,
    closed_and_hidden_threads_freeze_their_comments_for_authors_too,
    redirects_are_checked_as_a_browser_reads_them_before_anything_is_stored,
    the_thread_page_form_refuses_invalid_utf8_as_the_api_does,
    names_cannot_disguise_themselves_with_invisible_characters,
    behind_a_trusted_proxy_the_client_cannot_choose_its_address,
    an_untrusted_peer_cannot_claim_an_address,
    an_ipv6_home_network_counts_as_one_person,
    an_edit_racing_a_moderator_never_undoes_the_decision,
    racing_moderators_leave_the_status_the_audit_log_says,
    browser_posts_need_a_fresh_single_use_stamp,
    feeds_and_pages_stay_well_formed_whatever_was_typed,
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
        let p = expect_problem(edit, want).await;
        let code = if want == StatusCode::FORBIDDEN {
            "thread_closed"
        } else {
            "not_found"
        };
        assert_eq!(p["code"], code);
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

/// Posts `body` to `default`/`thread` with an `X-Forwarded-For` header.
async fn post_via(app: &TestApp, thread: &str, xff: &str, body: Value) -> reqwest::Response {
    app.client
        .post(app.url(&TestApp::comments_path("default", thread)))
        .header("x-forwarded-for", xff)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// A server behind a proxy on this host, taking `per_minute` posts a
/// minute from one person.
async fn behind_proxy(db: Db, proxies: &[&str], per_minute: u32) -> Option<TestApp> {
    let proxies = colloquy::net::TrustedProxies::parse(proxies).unwrap();
    spawn_with(db, move |c| {
        c.rate_limit = true;
        c.trusted_proxies = proxies;
        for s in &mut c.sites {
            s.rules.ip_posts_per_minute = per_minute;
        }
    })
    .await
}

async fn behind_a_trusted_proxy_the_client_cannot_choose_its_address(db: Db) {
    let Some(app) = behind_proxy(db, &["127.0.0.1", "10.0.0.0/8"], 2).await else {
        return;
    };
    // The client writes whatever it likes at the front; the proxies append
    // what they saw. Only the right-most hop that is not a proxy counts.
    for i in 0..2 {
        let xff = format!("198.51.100.{i}, 203.0.113.7, 10.1.1.1");
        let r = post_via(&app, "p", &xff, json!({"body": format!("post {i}")})).await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let r = post_via(
        &app,
        "p",
        "198.51.100.99, 203.0.113.7",
        json!({"body": "third"}),
    )
    .await;
    expect_problem(r, StatusCode::TOO_MANY_REQUESTS).await;
    // Another client behind the same proxies has its own budget.
    let r = post_via(&app, "p", "203.0.113.8", json!({"body": "other person"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    // Their IP hashes differ; the two posts of the first share one.
    let hashes = app
        .sql_count("SELECT COUNT(DISTINCT ip_hash) FROM comments")
        .await;
    assert_eq!(hashes, 2);
}

async fn an_untrusted_peer_cannot_claim_an_address(db: Db) {
    // The proxy list does not hold this test's address (127.0.0.1).
    let Some(app) = behind_proxy(db, &["10.0.0.0/8"], 2).await else {
        return;
    };
    for i in 0..2 {
        let r = post_via(
            &app,
            "u",
            &format!("203.0.113.{i}"),
            json!({"body": format!("p{i}")}),
        )
        .await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let r = post_via(&app, "u", "203.0.113.50", json!({"body": "third"})).await;
    expect_problem(r, StatusCode::TOO_MANY_REQUESTS).await;
}

async fn an_ipv6_home_network_counts_as_one_person(db: Db) {
    // Four a minute: the refused duplicate counts too.
    let Some(app) = behind_proxy(db, &["127.0.0.1"], 4).await else {
        return;
    };
    // The same text from two addresses of one /64 is a duplicate.
    let r = post_via(&app, "v6", "2001:db8:1:2::1", json!({"body": "same words"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = post_via(
        &app,
        "v6",
        "2001:db8:1:2:ffff::2",
        json!({"body": "same words"}),
    )
    .await;
    expect_problem(r, StatusCode::CONFLICT).await;
    // Changing the low bits does not refill the budget.
    let r = post_via(
        &app,
        "v6",
        "2001:db8:1:2:aaaa::3",
        json!({"body": "second"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = post_via(&app, "v6", "2001:db8:1:2:bbbb::4", json!({"body": "third"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = post_via(
        &app,
        "v6",
        "2001:db8:1:2:cccc::5",
        json!({"body": "fourth"}),
    )
    .await;
    expect_problem(r, StatusCode::TOO_MANY_REQUESTS).await;
    // The next /64 is someone else.
    let r = post_via(&app, "v6", "2001:db8:1:3::1", json!({"body": "neighbour"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(
        app.sql_count("SELECT COUNT(DISTINCT ip_hash) FROM comments")
            .await,
        2,
        "one hash per network"
    );
    // A key may name the network; it catches every address in it.
    app.patch_site("default", json!({"disallowed_keys": ["2001:db8:1:3::/64"]}))
        .await;
    let r = post_via(
        &app,
        "v6",
        "2001:db8:1:3:9::9",
        json!({"body": "from the blocked net"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "spam", "{v}");
}

async fn an_edit_racing_a_moderator_never_undoes_the_decision(db: Db) {
    let Some(app) = spawn(db).await else { return };
    // A long edit takes a while to render: the moderator acts meanwhile.
    let long_text = "A long and careful correction of what I wrote. ".repeat(400);
    let mut trials = Vec::new();
    for i in 0..12 {
        let c = app
            .post_ok("default", "race", json!({"body": format!("original {i}")}))
            .await;
        trials.push((
            c["id"].clone(),
            c["edit_token"].as_str().unwrap().to_owned(),
        ));
    }
    let tasks = trials.iter().enumerate().map(|(i, (id, token))| {
        let app = &app;
        let long_text = &long_text;
        async move {
            let decision = if i % 2 == 0 { "spam" } else { "trash" };
            let edit = app
                .client
                .patch(app.url(&format!("/api/v1/sites/default/comments/{id}")))
                .bearer_auth(token)
                .json(&json!({"body": format!("{long_text}{i}")}))
                .send();
            let path = format!("/api/v1/admin/sites/default/comments/{id}/{decision}");
            let moderate = app.admin(Method::POST, &path, None);
            let (edited, (moderated, _)) = tokio::join!(edit, moderate);
            assert_eq!(moderated, StatusCode::OK);
            let edited = edited.unwrap().status();
            assert!(
                edited == StatusCode::OK || edited == StatusCode::CONFLICT,
                "{edited}"
            );
            (id.clone(), decision)
        }
    });
    for (id, decision) in futures::future::join_all(tasks).await {
        let (s, c) = app
            .admin(
                Method::GET,
                &format!("/api/v1/admin/sites/default/comments/{id}"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(
            c["status"], decision,
            "the edit undid the moderator of {id}"
        );
    }
}

async fn racing_moderators_leave_the_status_the_audit_log_says(db: Db) {
    let Some(app) = spawn(db).await else { return };
    app.patch_site("default", json!({"moderation": "hold"}))
        .await;
    let mut ids = Vec::new();
    for i in 0..10 {
        let c = app
            .post_ok("default", "mods", json!({"body": format!("held {i}")}))
            .await;
        ids.push(c["id"].clone());
    }
    let tasks = ids.iter().map(|id| {
        let app = &app;
        async move {
            let path = |a: &str| format!("/api/v1/admin/sites/default/comments/{id}/{a}");
            let (approve, spam) = (path("approve"), path("spam"));
            let (a, b, c) = tokio::join!(
                app.admin(Method::POST, &approve, None),
                app.admin(Method::POST, &spam, None),
                app.admin(Method::POST, &approve, None)
            );
            for (s, v) in [a, b, c] {
                assert_eq!(s, StatusCode::OK, "{v}");
            }
        }
    });
    futures::future::join_all(tasks).await;
    for id in &ids {
        let (_, c) = app
            .admin(
                Method::GET,
                &format!("/api/v1/admin/sites/default/comments/{id}"),
                None,
            )
            .await;
        let (_, log) = app
            .admin(
                Method::GET,
                &format!("/api/v1/admin/sites/default/audit?comment={id}"),
                None,
            )
            .await;
        let entries = log["entries"].as_array().unwrap();
        // Newest first: the last change logged is the status it has.
        assert_eq!(entries[0]["status"], c["status"], "{log}");
        // A repeated approve changes nothing and logs nothing: at most one
        // entry per real change, and consecutive entries always differ.
        for pair in entries.windows(2) {
            assert_ne!(pair[0]["status"], pair[1]["status"], "{log}");
        }
    }
}

async fn browser_posts_need_a_fresh_single_use_stamp(db: Db) {
    // Site `other` allows the page origin https://news.example.
    let Some(app) = spawn_with(db, |c| {
        for s in &mut c.sites {
            s.rules.min_submit_secs = 1;
        }
    })
    .await
    else {
        return;
    };
    let comments = app.url(&TestApp::comments_path("other", "stamps"));
    let from_page = |body: Value| {
        app.client
            .post(&comments)
            .header("origin", "https://news.example")
            .json(&body)
            .send()
    };
    let status_of = |r: reqwest::Response| async move {
        assert_eq!(r.status(), StatusCode::CREATED);
        let v: Value = r.json().await.unwrap();
        (
            v["status"].as_str().unwrap().to_owned(),
            v["reasons"].to_string(),
        )
    };
    // A browser post without a stamp is held, saying why.
    let (status, why) = status_of(from_page(json!({"body": "no stamp"})).await.unwrap()).await;
    assert_eq!(status, "pending");
    assert!(why.contains("missing, expired or invalid"), "{why}");
    // The embed asks for a stamp when it shows the form.
    let (s, stamp) = app.get_json("/api/v1/sites/other/stamp").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(stamp["min_submit_secs"], 1);
    let stamp = stamp["stamp"].as_str().unwrap().to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (status, _) = status_of(
        from_page(json!({"body": "stamped", "stamp": stamp}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, "published");
    // The same stamp again: refused, nothing stored.
    let r = from_page(json!({"body": "replayed", "stamp": stamp}))
        .await
        .unwrap();
    let p = expect_problem(r, StatusCode::CONFLICT).await;
    assert!(p["detail"].as_str().unwrap().contains("reload"), "{p}");
    assert_eq!(
        app.sql_count("SELECT COUNT(*) FROM comments WHERE body = 'replayed'")
            .await,
        0
    );
    // The honeypot works for JSON posts too.
    let (s, fresh) = app.get_json("/api/v1/sites/other/stamp").await;
    assert_eq!(s, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (status, why) = status_of(
        from_page(json!({"body": "bot", "stamp": fresh["stamp"], "honeypot": "x"}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, "spam", "{why}");
    // A server-side client (no browser headers) is not checked by default...
    let v = app
        .post_ok("other", "stamps", json!({"body": "from a script"}))
        .await;
    assert_eq!(v["status"], "published");
    // ...but is with `form_checks = "all"`, unless it has the site's token.
    let (s, v) = app
        .admin(
            Method::PATCH,
            "/api/v1/admin/sites/other",
            Some(json!({"form_checks": "all"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let v = app
        .post_ok("other", "stamps", json!({"body": "script again"}))
        .await;
    assert_eq!(v["status"], "pending");
    let r = app
        .client
        .post(&comments)
        .bearer_auth(OTHER_ADMIN)
        .json(&json!({"body": "the site's backend"}))
        .send()
        .await
        .unwrap();
    let (status, _) = status_of(r).await;
    assert_eq!(status, "published");
}

async fn feeds_and_pages_stay_well_formed_whatever_was_typed(db: Db) {
    let Some(app) = spawn(db).await else { return };
    // Characters XML 1.0 forbids, in every format and every field a feed shows.
    for (format, body) in [
        (
            "plain_text",
            "page\u{c}break and \u{fffe}\u{ffff} noncharacters",
        ),
        ("markdown", "*page*\u{c}break &#12; &#xFFFF; \u{ffff}"),
        ("filtered_html", "<em>x\u{c}y</em> \u{ffff}"),
    ] {
        let site = if format == "markdown" {
            "other"
        } else {
            "default"
        };
        app.post_ok(
            site,
            "feed",
            json!({"body": body, "format": format, "author": "Ann\u{feff}"}),
        )
        .await;
    }
    for site in ["default", "other"] {
        let r = app
            .client
            .get(app.url(&format!("/api/v1/sites/{site}/threads/feed/feed")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let xml = r.text().await.unwrap();
        let mut reader = quick_xml::Reader::from_str(&xml);
        let mut entries = 0;
        loop {
            match reader.read_event() {
                Ok(quick_xml::events::Event::Eof) => break,
                Ok(quick_xml::events::Event::Start(e)) if e.name().as_ref() == b"entry" => {
                    entries += 1
                }
                Ok(quick_xml::events::Event::Text(t)) => {
                    let text = t.decode().unwrap();
                    assert!(
                        !text.chars().any(|c| matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')),
                        "a character XML forbids: {text:?}"
                    );
                }
                Ok(_) => {}
                Err(e) => panic!("the {site} feed is not well-formed XML: {e}\n{xml}"),
            }
        }
        assert!(entries >= 1, "{xml}");
        // The raw bytes too, references included.
        for bad in ["\u{c}", "\u{ffff}", "\u{fffe}", "&#12;", "&#xFFFF;"] {
            assert!(!xml.contains(bad), "{bad:?} in the {site} feed");
        }
    }
    // The JSON listing carries the same clean HTML.
    let listed = app.list("default", "feed", "").await;
    for c in listed["comments"].as_array().unwrap() {
        let html = c["html"].as_str().unwrap();
        assert!(
            !html.contains(['\u{c}', '\u{ffff}', '\u{fffe}']),
            "{html:?}"
        );
    }
}
