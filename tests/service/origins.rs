//! A site's origins through the admin API: shown, set, checked, used by
//! CORS and form redirects at once, and given back to the file.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::both_backends;
use crate::helpers::{spawn, Db, TestApp};

both_backends!(origins_are_shown_set_checked_and_used_at_once,);

/// The `Access-Control-Allow-Origin` a read from `origin` gets.
async fn cors(app: &TestApp, origin: &str) -> Option<String> {
    let r = app
        .client
        .get(app.url("/api/v1/sites/default/formats"))
        .header("origin", origin)
        .send()
        .await
        .unwrap();
    r.headers()
        .get("access-control-allow-origin")
        .map(|v| v.to_str().unwrap().to_owned())
}

async fn origins_are_shown_set_checked_and_used_at_once(db: Db) {
    let Some(app) = spawn(db).await else { return };
    // From the file until set.
    let (status, other) = app
        .admin(Method::GET, "/api/v1/admin/sites/other", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{other}");
    assert_eq!(other["origins"], json!(["https://news.example"]));
    assert_eq!(other["origins_source"], "file");
    let (_, site) = app
        .admin(Method::GET, "/api/v1/admin/sites/default", None)
        .await;
    assert_eq!(site["origins"], json!([]));
    assert_eq!(cors(&app, "https://blog.example").await, None);

    // Set: normalized, effective on the next request.
    let (status, site) = app
        .admin(
            Method::PATCH,
            "/api/v1/admin/sites/default",
            Some(json!({"origins": ["https://Blog.Example/", "http://127.0.0.1:8080", "https://blog.example"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{site}");
    assert_eq!(
        site["origins"],
        json!(["https://blog.example", "http://127.0.0.1:8080"])
    );
    assert_eq!(site["origins_source"], "admin");
    let (_, listed) = app.admin(Method::GET, "/api/v1/admin/sites", None).await;
    let listed = listed["sites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "default")
        .cloned()
        .unwrap();
    assert_eq!(listed["origins"], site["origins"]);
    assert_eq!(
        cors(&app, "https://blog.example").await.as_deref(),
        Some("https://blog.example")
    );
    assert_eq!(cors(&app, "https://evil.example").await, None);
    let preflight = app
        .client
        .request(
            Method::OPTIONS,
            app.url("/api/v1/sites/default/threads/a/comments"),
        )
        .header("origin", "https://blog.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), StatusCode::NO_CONTENT);
    // A write from that origin goes through, with its redirect back there.
    let r = app
        .client
        .post(app.url("/api/v1/sites/default/threads/a/comments"))
        .header("origin", "https://blog.example")
        .form(&[
            ("body", "from the blog"),
            ("redirect", "https://blog.example/a"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("https://blog.example/a#comment-"));
    // And it is audited like every settings change.
    assert_eq!(
        app.sql_count(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'site' AND reasons LIKE '%origins%'"
        )
        .await,
        1
    );

    // An origin without a scheme never matches: refused, naming the fix.
    let (status, p) = app
        .admin(
            Method::PATCH,
            "/api/v1/admin/sites/default",
            Some(json!({"origins": ["https://ok.example", "news.example"]})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["field"], "origins[1]");
    let detail = p["detail"].as_str().unwrap();
    assert!(
        detail.contains("no scheme") && detail.contains("https://news.example"),
        "{detail}"
    );
    for bad in ["ftp://x.example", "https://x.example/path", "https://"] {
        let (status, p) = app
            .admin(
                Method::PATCH,
                "/api/v1/admin/sites/default",
                Some(json!({"origins": [bad]})),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {p}");
    }
    let (status, p) = app
        .admin(
            Method::PATCH,
            "/api/v1/admin/sites/default",
            Some(json!({"origins": "https://x.example"})),
        )
        .await;
    assert!(status.is_client_error(), "{p}");
    // Nothing changed.
    let (_, site) = app
        .admin(Method::GET, "/api/v1/admin/sites/default", None)
        .await;
    assert_eq!(
        site["origins"],
        json!(["https://blog.example", "http://127.0.0.1:8080"])
    );

    // `null` goes back to the file's; an empty list allows none.
    let (status, other) = app
        .admin(
            Method::PATCH,
            "/api/v1/admin/sites/other",
            Some(json!({"origins": []})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{other}");
    assert_eq!(other["origins"], json!([]));
    assert_eq!(other["origins_source"], "admin");
    let (_, other) = app
        .admin(
            Method::PATCH,
            "/api/v1/admin/sites/other",
            Some(json!({"origins": null})),
        )
        .await;
    assert_eq!(other["origins"], json!(["https://news.example"]));
    assert_eq!(other["origins_source"], "file");
    // Another site's token cannot change this one's.
    let (status, _) = app
        .admin_as(
            crate::helpers::OTHER_ADMIN,
            Method::PATCH,
            "/api/v1/admin/sites/default",
            Some(json!({"origins": ["*"]})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
