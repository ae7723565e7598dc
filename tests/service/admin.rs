//! Admin stories: the moderation queue and actions, bulk actions, per-site
//! format switching, and who may do what.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{expect_problem, spawn, spawn_with, Db, OTHER_ADMIN};

both_backends!(
    a_held_comment_waits_until_a_moderator_approves_it,
    spam_trash_restore_and_delete,
    bulk_actions_report_each_comment,
    switching_a_sites_formats_takes_effect_on_the_next_post,
    admin_endpoints_need_the_right_token,
    hold_mode_holds_everything,
);

fn ids(v: &Value) -> Vec<i64> {
    v["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect()
}

async fn a_held_comment_waits_until_a_moderator_approves_it(db: Db) {
    let Some(app) = spawn(db).await else { return };
    let held = app
        .post_ok(
            "default",
            "q",
            json!({"body": "see http://a.example and http://b.example", "email": "x@example.com"}),
        )
        .await;
    assert_eq!(held["status"], "pending");
    assert_eq!(held["reasons"], json!(["held: 2 links, limit 2"]));
    assert!(ids(&app.list("default", "q", "").await).is_empty());

    let (s, queue) = app
        .admin(Method::GET, "/api/v1/admin/sites/default/comments", None)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(ids(&queue), [held["id"].as_i64().unwrap()]);
    let item = &queue["comments"][0];
    assert_eq!(item["email"], "x@example.com");
    assert_eq!(item["body"], "see http://a.example and http://b.example");
    assert!(
        item["ip_hash"]
            .as_str()
            .is_some_and(|h| h.len() == 32 && !h.contains('.')),
        "{item}"
    );

    let path = format!(
        "/api/v1/admin/sites/default/comments/{}/approve",
        held["id"]
    );
    let (s, after) = app.admin(Method::POST, &path, None).await;
    assert_eq!(
        (s, after["status"].as_str()),
        (StatusCode::OK, Some("published"))
    );
    assert_eq!(
        ids(&app.list("default", "q", "").await),
        [held["id"].as_i64().unwrap()]
    );
    let (_, queue) = app
        .admin(Method::GET, "/api/v1/admin/sites/default/comments", None)
        .await;
    assert!(ids(&queue).is_empty());
}

async fn spam_trash_restore_and_delete(db: Db) {
    let Some(app) = spawn(db).await else { return };
    let c = app.post_ok("default", "m", json!({"body": "hello"})).await;
    let reply = app
        .post_ok("default", "m", json!({"body": "reply", "parent": c["id"]}))
        .await;
    let act = |a: &str| format!("/api/v1/admin/sites/default/comments/{}/{a}", c["id"]);
    let (_, v) = app.admin(Method::POST, &act("spam"), None).await;
    assert_eq!(v["status"], "spam");
    assert_eq!(
        ids(&app.list("default", "m", "").await),
        [reply["id"].as_i64().unwrap()]
    );
    let (_, v) = app.admin(Method::POST, &act("trash"), None).await;
    assert_eq!(v["status"], "trash");
    let (_, q) = app
        .admin(
            Method::GET,
            "/api/v1/admin/sites/default/comments?status=spam,trash",
            None,
        )
        .await;
    assert_eq!(ids(&q), [c["id"].as_i64().unwrap()]);
    // Restore goes back to what it was before spam and trash: published.
    let (_, v) = app.admin(Method::POST, &act("restore"), None).await;
    assert_eq!(v["status"], "published");
    let (s, _) = app.admin(Method::POST, &act("frobnicate"), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Deleting keeps the reply, moved up a level.
    let (s, _) = app
        .admin(
            Method::DELETE,
            &format!("/api/v1/admin/sites/default/comments/{}", c["id"]),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let list = app.list("default", "m", "").await;
    assert_eq!(ids(&list), [reply["id"].as_i64().unwrap()]);
    assert_eq!(list["comments"][0]["parent"], Value::Null);
    let (s, p) = app
        .admin(
            Method::GET,
            &format!("/api/v1/admin/sites/default/comments/{}", c["id"]),
            None,
        )
        .await;
    assert_eq!(
        (s, p["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
}

async fn bulk_actions_report_each_comment(db: Db) {
    let Some(app) = spawn_with(db, |c| {
        c.sites[0].moderation = colloquy::moderation::ModerationMode::Hold
    })
    .await
    else {
        return;
    };
    let mut held = Vec::new();
    for i in 0..4 {
        held.push(
            app.post_ok("default", "b", json!({"body": format!("c{i}")}))
                .await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let (s, v) = app
        .admin(
            Method::POST,
            "/api/v1/admin/sites/default/comments/bulk",
            Some(json!({"action": "approve", "ids": [held[0], held[1], 999]})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let oks: Vec<bool> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ok"].as_bool().unwrap())
        .collect();
    assert_eq!(oks, [true, true, false]);
    assert_eq!(ids(&app.list("default", "b", "").await), [held[0], held[1]]);
    let (s, _) = app
        .admin(
            Method::POST,
            "/api/v1/admin/sites/default/comments/bulk",
            Some(json!({"action": "spam", "ids": []})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // Queue pagination, newest first.
    let (_, q1) = app
        .admin(
            Method::GET,
            "/api/v1/admin/sites/default/comments?limit=1",
            None,
        )
        .await;
    assert_eq!(ids(&q1), [held[3]]);
    let cursor = q1["next_cursor"].as_str().unwrap();
    let (_, q2) = app
        .admin(
            Method::GET,
            &format!("/api/v1/admin/sites/default/comments?limit=5&cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(ids(&q2), [held[2]]);
}

async fn switching_a_sites_formats_takes_effect_on_the_next_post(db: Db) {
    let Some(app) = spawn(db).await else { return };
    let (s, v) = app
        .admin(
            Method::PATCH,
            "/api/v1/admin/sites/default",
            Some(json!({"formats": ["plain_text", "markdown"], "default_format": "markdown"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["default_format"], "markdown");
    let c = app
        .post_ok("default", "s", json!({"body": "*now markdown*"}))
        .await;
    assert_eq!(
        (c["format"].as_str(), c["html"].as_str()),
        (Some("markdown"), Some("<p><em>now markdown</em></p>\n"))
    );
    let r = app
        .post(
            "default",
            "s",
            json!({"body": "x", "format": "filtered_html"}),
        )
        .await;
    let p = expect_problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(p["field"], "format");
    assert!(p["detail"]
        .as_str()
        .unwrap()
        .contains("plain_text, markdown"));
    let (_, f) = app.get_json("/api/v1/sites/default/formats").await;
    let listed: Vec<&str> = f["formats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["plain_text", "markdown"]);
    // Bad settings are refused and change nothing.
    for bad in [
        json!({"formats": ["bbcode"]}),
        json!({"default_format": "filtered_html"}),
        json!({"formats": []}),
    ] {
        let (s, p) = app
            .admin(Method::PATCH, "/api/v1/admin/sites/default", Some(bad))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    }
    let (_, site) = app
        .admin(Method::GET, "/api/v1/admin/sites/default", None)
        .await;
    assert_eq!(site["formats"], json!(["plain_text", "markdown"]));
}

async fn admin_endpoints_need_the_right_token(db: Db) {
    let Some(app) = spawn(db).await else { return };
    let queue = app.url("/api/v1/admin/sites/default/comments");
    let r = app.client.get(&queue).send().await.unwrap();
    expect_problem(r, StatusCode::UNAUTHORIZED).await;
    let r = app
        .client
        .get(&queue)
        .bearer_auth("wrong-token-0123456789")
        .send()
        .await
        .unwrap();
    expect_problem(r, StatusCode::UNAUTHORIZED).await;
    // A token for site `other` works there and nowhere else.
    let r = app
        .client
        .get(&queue)
        .bearer_auth(OTHER_ADMIN)
        .send()
        .await
        .unwrap();
    expect_problem(r, StatusCode::FORBIDDEN).await;
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
        .admin_as(OTHER_ADMIN, Method::GET, "/api/v1/admin/sites", None)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = app.admin(Method::GET, "/api/v1/admin/sites", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["sites"].as_array().unwrap().len(), 2);
}

async fn hold_mode_holds_everything(db: Db) {
    let Some(app) = spawn(db).await else { return };
    app.admin(
        Method::PATCH,
        "/api/v1/admin/sites/default",
        Some(json!({"moderation": "hold"})),
    )
    .await;
    let c = app.post_ok("default", "h", json!({"body": "plain"})).await;
    assert_eq!(c["status"], "pending");
    app.admin(
        Method::PATCH,
        "/api/v1/admin/sites/default",
        Some(json!({"moderation": "publish"})),
    )
    .await;
    let c = app
        .post_ok(
            "default",
            "h",
            json!({"body": "http://a.example http://b.example http://c.example"}),
        )
        .await;
    assert_eq!(c["status"], "published");
}
