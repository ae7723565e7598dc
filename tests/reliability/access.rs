//! Access control: admin tokens, edit tokens, CSRF on cross-site writes,
//! and CORS limited to each site's configured origins.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{expect_problem, spawn, spawn_with, Db, TestApp, ADMIN, OTHER_ADMIN};

both_backends!(
    every_admin_endpoint_refuses_missing_wrong_and_other_site_tokens,
    cross_site_writes_are_refused,
    cors_answers_only_a_sites_own_origins,
    edit_tokens_work_for_their_own_comment_and_window_only,
);

/// Every admin endpoint for site `default`, with a body where it takes one.
fn admin_routes(id: i64) -> Vec<(Method, String, Option<Value>)> {
    let a = "/api/v1/admin/sites/default";
    let mut routes = vec![
        (Method::GET, "/api/v1/admin/sites".to_owned(), None),
        (Method::GET, a.to_owned(), None),
        (
            Method::PATCH,
            a.to_owned(),
            Some(json!({"moderation": "publish"})),
        ),
        (Method::GET, format!("{a}/comments?status=all"), None),
        (
            Method::POST,
            format!("{a}/comments/bulk"),
            Some(json!({"action": "approve", "ids": [id]})),
        ),
        (Method::GET, format!("{a}/comments/{id}"), None),
        (Method::DELETE, format!("{a}/comments/{id}"), None),
        (
            Method::PUT,
            format!("{a}/threads/t"),
            Some(json!({"state": "hidden"})),
        ),
        (Method::POST, format!("{a}/rerender"), None),
    ];
    for action in ["approve", "spam", "trash", "restore", "unpublish", "delete"] {
        routes.push((Method::POST, format!("{a}/comments/{id}/{action}"), None));
    }
    routes
}

async fn admin_state(app: &TestApp) -> Value {
    let (_, comments) = app
        .admin(
            Method::GET,
            "/api/v1/admin/sites/default/comments?status=all",
            None,
        )
        .await;
    let (_, site) = app
        .admin(Method::GET, "/api/v1/admin/sites/default", None)
        .await;
    let (_, thread) = app.get_json("/api/v1/sites/default/threads/t").await;
    json!({"comments": comments, "site": site, "thread": thread})
}

async fn every_admin_endpoint_refuses_missing_wrong_and_other_site_tokens(db: Db) {
    let Some(app) = spawn(db).await else { return };
    let held = app
        .post_ok(
            "default",
            "t",
            json!({"body": "two links http://a.example http://b.example"}),
        )
        .await;
    assert_eq!(held["status"], "pending");
    let id = held["id"].as_i64().unwrap();
    let before = admin_state(&app).await;

    let near_misses = [
        format!("{ADMIN}x"),
        ADMIN[..ADMIN.len() - 1].to_owned(),
        ADMIN.to_uppercase(),
        format!(" {ADMIN}0"),
        "x".to_owned(),
    ];
    let mut tried = 0;
    for (method, path, body) in admin_routes(id) {
        let send = |auth: Option<String>| {
            let mut req = app.client.request(method.clone(), app.url(&path));
            if let Some(a) = auth {
                req = req.header("authorization", a);
            }
            if let Some(b) = &body {
                req = req.json(b);
            }
            req.send()
        };
        let r = send(None).await.unwrap();
        assert_eq!(
            r.headers().get("www-authenticate").map(|v| v.as_bytes()),
            Some(&b"Bearer"[..]),
            "{method} {path}"
        );
        expect_problem(r, StatusCode::UNAUTHORIZED).await;
        for wrong in &near_misses {
            let r = send(Some(format!("Bearer {wrong}"))).await.unwrap();
            expect_problem(r, StatusCode::UNAUTHORIZED).await;
        }
        // The right secret in the wrong scheme is no token at all.
        let r = send(Some(format!("Basic {ADMIN}"))).await.unwrap();
        expect_problem(r, StatusCode::UNAUTHORIZED).await;
        let r = send(Some(format!("Bearer {OTHER_ADMIN}"))).await.unwrap();
        let p = expect_problem(r, StatusCode::FORBIDDEN).await;
        assert_eq!(p["code"], "forbidden", "{method} {path}");
        tried += near_misses.len() + 3;
    }
    assert_eq!(
        admin_state(&app).await,
        before,
        "a refused admin call changed something"
    );

    // The site token works on its own site.
    let (s, _) = app
        .admin_as(
            OTHER_ADMIN,
            Method::GET,
            "/api/v1/admin/sites/other/comments",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = app
        .admin(
            Method::POST,
            &format!("/api/v1/admin/sites/default/comments/{id}/approve"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    eprintln!("access ({db:?}): {tried} refused admin calls, nothing changed");
}

fn form_post(app: &TestApp, site: &str, body: &str) -> reqwest::RequestBuilder {
    app.client
        .post(app.url(&TestApp::comments_path(site, "csrf")))
        .form(&[("body", body), ("redirect", "/article")])
}

async fn stored_bodies(app: &TestApp, site: &str) -> Vec<String> {
    let (_, v) = app
        .admin(
            Method::GET,
            &format!("/api/v1/admin/sites/{site}/comments?status=all"),
            None,
        )
        .await;
    let mut bodies: Vec<String> = v["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"].as_str().unwrap().to_owned())
        .collect();
    bodies.sort();
    bodies
}

async fn cross_site_writes_are_refused(db: Db) {
    let Some(app) = spawn(db).await else { return };
    let own_origin = app.base.clone();
    // Refused: a form on an attacker's page, a sandboxed page, a
    // cross-site request without Origin, a site's origin posting to
    // another site, and JSON from a foreign origin.
    let refused = [
        form_post(&app, "default", "evil").header("origin", "https://evil.example"),
        form_post(&app, "default", "sandboxed").header("origin", "null"),
        form_post(&app, "default", "opaque cross-site")
            .header("origin", "null")
            .header("sec-fetch-site", "cross-site"),
        form_post(&app, "default", "no origin").header("sec-fetch-site", "cross-site"),
        form_post(&app, "default", "sibling").header("sec-fetch-site", "same-site"),
        form_post(&app, "default", "wrong site").header("origin", "https://news.example"),
        form_post(&app, "other", "look-alike")
            .header("origin", "https://news.example.evil.example"),
        form_post(&app, "other", "other scheme").header("origin", "http://news.example"),
        app.client
            .post(app.url(&TestApp::comments_path("default", "csrf")))
            .header("origin", "https://evil.example")
            .json(&json!({"body": "json"})),
        app.client
            .post(app.url("/api/v1/sites/default/preview"))
            .header("origin", "https://evil.example")
            .json(&json!({"body": "preview"})),
    ];
    let n_refused = refused.len();
    for req in refused {
        let p = expect_problem(req.send().await.unwrap(), StatusCode::FORBIDDEN).await;
        assert_eq!(p["code"], "cross_origin");
    }
    assert!(stored_bodies(&app, "default").await.is_empty());
    assert!(stored_bodies(&app, "other").await.is_empty());

    // Allowed: the site's own origin, this server's own pages, requests a
    // browser marks same-origin or user-initiated, and non-browser clients.
    let r = form_post(&app, "other", "from news")
        .header("origin", "https://news.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    for (body, header, value) in [
        ("own page", "origin", own_origin.as_str()),
        ("same origin", "sec-fetch-site", "same-origin"),
        ("typed by hand", "sec-fetch-site", "none"),
    ] {
        let r = form_post(&app, "default", body)
            .header(header, value)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{body}");
    }
    // Our pages send `Referrer-Policy: no-referrer`, so their forms arrive
    // with `Origin: null`; the browser's same-origin verdict vouches.
    let r = form_post(&app, "default", "own no-referrer page")
        .header("origin", "null")
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = form_post(&app, "default", "curl").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        stored_bodies(&app, "default").await,
        [
            "curl",
            "own no-referrer page",
            "own page",
            "same origin",
            "typed by hand"
        ]
    );

    // The author's own edit and delete are writes too.
    let c = app
        .post_ok("default", "csrf", json!({"body": "mine"}))
        .await;
    let path = app.url(&format!("/api/v1/sites/default/comments/{}", c["id"]));
    let token = c["edit_token"].as_str().unwrap();
    let r = app
        .client
        .patch(&path)
        .bearer_auth(token)
        .header("origin", "https://evil.example")
        .json(&json!({"body": "defaced"}))
        .send()
        .await
        .unwrap();
    expect_problem(r, StatusCode::FORBIDDEN).await;
    let r = app
        .client
        .delete(&path)
        .bearer_auth(token)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    expect_problem(r, StatusCode::FORBIDDEN).await;
    assert!(stored_bodies(&app, "default")
        .await
        .contains(&"mine".to_owned()));
    eprintln!("csrf ({db:?}): {n_refused} cross-site writes refused, nothing stored");
}

async fn preflight(app: &TestApp, path: &str, origin: &str) -> reqwest::Response {
    app.client
        .request(Method::OPTIONS, app.url(path))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap()
}

fn header<'a>(r: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    r.headers().get(name).and_then(|v| v.to_str().ok())
}

async fn cors_answers_only_a_sites_own_origins(db: Db) {
    let Some(app) = spawn(db).await else { return };
    let other = TestApp::comments_path("other", "cors");
    let default = TestApp::comments_path("default", "cors");

    let r = preflight(&app, &other, "https://news.example").await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        header(&r, "access-control-allow-origin"),
        Some("https://news.example")
    );
    assert!(header(&r, "access-control-allow-methods").is_some_and(|m| m.contains("POST")));
    assert!(header(&r, "access-control-allow-headers")
        .is_some_and(|h| h.to_ascii_lowercase().contains("content-type")));
    assert_eq!(header(&r, "access-control-allow-credentials"), None);

    for (path, origin) in [
        (other.as_str(), "https://evil.example"),
        (other.as_str(), "null"),
        (default.as_str(), "https://news.example"),
        ("/api/v1/admin/sites/other/comments", "https://news.example"),
        ("/api/v1/admin/sites", "https://news.example"),
    ] {
        let r = preflight(&app, path, origin).await;
        assert_eq!(
            header(&r, "access-control-allow-origin"),
            None,
            "{path} {origin}"
        );
        expect_problem(r, StatusCode::FORBIDDEN).await;
    }

    // Simple requests: the site's origin may read the answer, others not.
    let r = app
        .client
        .get(app.url(&other))
        .header("origin", "https://news.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        header(&r, "access-control-allow-origin"),
        Some("https://news.example")
    );
    assert!(r
        .headers()
        .get_all("vary")
        .iter()
        .any(|v| v.to_str().unwrap_or("").contains("Origin")));
    for (path, origin) in [
        (other.as_str(), "https://evil.example"),
        (default.as_str(), "https://news.example"),
    ] {
        let r = app
            .client
            .get(app.url(path))
            .header("origin", origin)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(header(&r, "access-control-allow-origin"), None);
    }
    let r = app
        .client
        .get(app.url("/api/v1/admin/sites/other/comments"))
        .bearer_auth(OTHER_ADMIN)
        .header("origin", "https://news.example")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&r, "access-control-allow-origin"), None);
}

async fn edit_tokens_work_for_their_own_comment_and_window_only(db: Db) {
    let Some(app) = spawn_with(db, |c| c.edit_window_secs = 2).await else {
        return;
    };
    let a = app.post_ok("default", "e", json!({"body": "first"})).await;
    let b = app.post_ok("default", "e", json!({"body": "second"})).await;
    let on_other = app
        .post_ok("other", "e", json!({"body": "elsewhere"}))
        .await;
    let token_a = a["edit_token"].as_str().unwrap().to_owned();
    let edit = |site: &str, c: &Value, token: &str| {
        app.client
            .patch(app.url(&format!("/api/v1/sites/{site}/comments/{}", c["id"])))
            .bearer_auth(token)
            .json(&json!({"body": "changed"}))
            .send()
    };
    // Another comment's token, the admin token, another site's path.
    expect_problem(
        edit("default", &b, &token_a).await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    expect_problem(
        edit("default", &a, ADMIN).await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    expect_problem(
        edit("default", &a, &token_a[..token_a.len() - 1])
            .await
            .unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    expect_problem(
        edit("other", &a, &token_a).await.unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    expect_problem(
        edit(
            "default",
            &on_other,
            on_other["edit_token"].as_str().unwrap(),
        )
        .await
        .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    // An edit token is not an admin token.
    let (s, _) = app
        .admin_as(
            &token_a,
            Method::GET,
            "/api/v1/admin/sites/default/comments",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let list = app.list("default", "e", "").await;
    let bodies: Vec<&str> = list["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["html"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["<p>first</p>\n", "<p>second</p>\n"]);
    // Its own comment, inside the window: yes.
    assert_eq!(
        edit("default", &a, &token_a).await.unwrap().status(),
        StatusCode::OK
    );
    // After the window: no, for edit and delete alike.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    expect_problem(
        edit("default", &a, &token_a).await.unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
    let r = app
        .client
        .delete(app.url(&format!("/api/v1/sites/default/comments/{}", a["id"])))
        .bearer_auth(&token_a)
        .send()
        .await
        .unwrap();
    expect_problem(r, StatusCode::FORBIDDEN).await;
    assert_eq!(
        app.list("default", "e", "").await["comments"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}
