//! Every error status with its problem body, and a failed request changes
//! nothing.

use reqwest::StatusCode;
use serde_json::json;

use crate::both_backends;
use crate::helpers::{expect_problem, spawn, Db, TestApp};

both_backends!(every_error_is_problem_json_and_stores_nothing);

async fn every_error_is_problem_json_and_stores_nothing(db: Db) {
    let Some(app) = spawn(db).await else { return };
    let url = app.url(&TestApp::comments_path("default", "err"));
    let c = &app.client;

    // 400: not JSON, and too deeply nested JSON.
    let r = c
        .post(&url)
        .header("content-type", "application/json")
        .body("{\"body\": ")
        .send()
        .await
        .unwrap();
    expect_problem(r, StatusCode::BAD_REQUEST).await;
    let deep = format!(
        "{{\"body\":\"x\",\"author\":{}{}}}",
        "[".repeat(100),
        "]".repeat(100)
    );
    let r = c
        .post(&url)
        .header("content-type", "application/json")
        .body(deep)
        .send()
        .await
        .unwrap();
    expect_problem(r, StatusCode::BAD_REQUEST).await;
    // 404: unknown site, unknown route.
    let r = c
        .post(app.url(&TestApp::comments_path("nosuchsite", "err")))
        .json(&json!({"body": "x"}))
        .send()
        .await
        .unwrap();
    expect_problem(r, StatusCode::NOT_FOUND).await;
    expect_problem(
        c.get(app.url("/api/v1/nothing/here")).send().await.unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    // 405: wrong method.
    expect_problem(
        c.delete(app.url("/api/v1/sites/default/formats"))
            .send()
            .await
            .unwrap(),
        StatusCode::METHOD_NOT_ALLOWED,
    )
    .await;
    // 413: too large.
    let huge = json!({"body": "x".repeat(200_000)});
    let r = c.post(&url).json(&huge).send().await.unwrap();
    expect_problem(r, StatusCode::PAYLOAD_TOO_LARGE).await;
    // 415: wrong content type.
    let r = c
        .post(&url)
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    expect_problem(r, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    // 422: each invalid field is named.
    for (body, field) in [
        (json!({"author": "x"}), "body"),
        (json!({"body": "   "}), "body"),
        (json!({"body": 3}), "body"),
        (json!({"body": "x", "format": "bbcode"}), "format"),
        (json!({"body": "x", "email": "not-an-address"}), "email"),
        (
            json!({"body": "x", "homepage": "javascript:alert(1)"}),
            "homepage",
        ),
        (json!({"body": "x", "author": "a".repeat(101)}), "author"),
        (json!({"body": "x", "author": "line\nbreak"}), "author"),
        (json!({"body": "x", "parent": "abc"}), "parent"),
        (json!({"body": "x", "surprise": true}), "surprise"),
        (json!({"body": "y".repeat(20_001)}), "body"),
    ] {
        let r = c.post(&url).json(&body).send().await.unwrap();
        let p = expect_problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(p["field"], field, "{body}: {p}");
        assert_eq!(p["code"], "invalid_field");
    }
    let (s, p) = app
        .get_json(&format!(
            "{}?limit=0",
            TestApp::comments_path("default", "err")
        ))
        .await;
    assert_eq!(
        (s, p["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("limit"))
    );
    let (s, p) = app
        .get_json(&format!(
            "{}?order=sideways",
            TestApp::comments_path("default", "err")
        ))
        .await;
    assert_eq!(
        (s, p["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("order"))
    );

    // Nothing above stored anything.
    let (_, queue) = app
        .admin(
            reqwest::Method::GET,
            "/api/v1/admin/sites/default/comments?status=all",
            None,
        )
        .await;
    assert_eq!(queue["comments"].as_array().unwrap().len(), 0, "{queue}");
    let (_, counts) = app
        .get_json("/api/v1/sites/default/counts?thread=err")
        .await;
    assert_eq!(counts["counts"]["err"], 0);
}
