//! Reader reports and the enforcement ladder through HTTP: the threshold
//! with distinct and repeated readers, weights, the illegal-content
//! statement, the reported queue, each ladder step and its expiry, and
//! shadow-ban visibility from the author's and another reader's view.
//!
//! Readers are told apart by address: the server trusts a proxy on this
//! host, so each request says its client in `X-Forwarded-For`.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{expect_problem, spawn_with, Db, TestApp};

both_backends!(
    reports_hold_a_comment_once_distinct_readers_reach_the_threshold,
    concurrent_reports_hold_a_comment_exactly_once,
    illegal_reports_need_a_statement_and_bad_reports_store_nothing,
    dismissed_readers_count_less_and_trusted_readers_more,
    the_reported_queue_lists_reports_and_dismissing_republishes,
    the_threshold_is_a_site_setting,
    a_warning_comes_with_the_next_post_only,
    premoderation_holds_every_post_with_its_reason,
    suspension_refuses_until_it_ends_and_ban_until_cleared,
    shadow_banned_comments_are_seen_by_their_author_only,
    a_commenters_page_has_their_history,
    reports_have_a_rate_limit_of_their_own,
);

const SITE: &str = "/api/v1/admin/sites/default";

async fn app(db: Db) -> Option<TestApp> {
    let proxies = colloquy::net::TrustedProxies::parse(&["127.0.0.1"]).unwrap();
    spawn_with(db, move |c| c.trusted_proxies = proxies).await
}

/// Posts to `default`/`thread` as the client `ip`.
async fn post_as(app: &TestApp, thread: &str, ip: &str, body: Value) -> reqwest::Response {
    app.client
        .post(app.url(&TestApp::comments_path("default", thread)))
        .header("x-forwarded-for", ip)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn posted(app: &TestApp, thread: &str, ip: &str, text: &str) -> Value {
    let r = post_as(app, thread, ip, json!({ "body": text })).await;
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v
}

async fn report(app: &TestApp, id: i64, ip: &str, body: Value) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/sites/default/comments/{id}/reports")))
        .header("x-forwarded-for", ip)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn reported(app: &TestApp, id: i64, ip: &str, reason: &str) -> Value {
    let r = report(app, id, ip, json!({ "reason": reason })).await;
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v
}

async fn admin_comment(app: &TestApp, id: i64) -> Value {
    let (s, v) = app
        .admin(Method::GET, &format!("{SITE}/comments/{id}"), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

async fn listed_ids(app: &TestApp, thread: &str) -> Vec<i64> {
    app.list("default", thread, "").await["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect()
}

async fn audit_of(app: &TestApp, id: i64) -> Vec<Value> {
    let (s, v) = app
        .admin(Method::GET, &format!("{SITE}/audit?comment={id}"), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["entries"].as_array().cloned().unwrap()
}

async fn ladder(app: &TestApp, key: &str, body: Value) -> (StatusCode, Value) {
    app.admin(Method::PUT, &format!("{SITE}/commenters/{key}"), Some(body))
        .await
}

async fn set_step(app: &TestApp, key: &str, body: Value) -> Value {
    let (s, v) = ladder(app, key, body).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

async fn reports_hold_a_comment_once_distinct_readers_reach_the_threshold(db: Db) {
    let Some(app) = app(db).await else { return };
    let c = posted(&app, "t", "10.0.0.1", "a comment people dislike").await;
    let id = c["id"].as_i64().unwrap();
    let first = reported(&app, id, "10.1.0.1", "spam").await;
    assert_eq!(first["weight"], 1.0);
    assert_eq!(first["held"], false);
    reported(&app, id, "10.1.0.2", "abusive").await;
    // The same reader again: refused, and it does not count.
    let again = report(&app, id, "10.1.0.2", json!({"reason": "spam"})).await;
    let p = expect_problem(again, StatusCode::CONFLICT).await;
    assert_eq!(p["code"], "already_reported");
    assert!(listed_ids(&app, "t").await.contains(&id));
    assert_eq!(admin_comment(&app, id).await["status"], "published");
    // The third distinct reader holds it.
    let third = reported(&app, id, "10.1.0.3", "spam").await;
    assert_eq!(third["held"], true);
    let held = admin_comment(&app, id).await;
    assert_eq!(held["status"], "pending");
    assert_eq!(
        held["reasons"],
        json!(["held: reported by 3 readers (abusive, spam)"])
    );
    assert!(!listed_ids(&app, "t").await.contains(&id));
    let entries = audit_of(&app, id).await;
    let holds: Vec<&Value> = entries
        .iter()
        .filter(|e| e["action"] == "reports")
        .collect();
    assert_eq!(holds.len(), 1, "{entries:?}");
    assert_eq!(holds[0]["actor"], "rules");
    assert_eq!(holds[0]["status"], "pending");
    // A held comment is not there to report.
    let late = report(&app, id, "10.1.0.4", json!({"reason": "spam"})).await;
    expect_problem(late, StatusCode::NOT_FOUND).await;
    let missing = report(&app, 12345, "10.1.0.4", json!({"reason": "spam"})).await;
    expect_problem(missing, StatusCode::NOT_FOUND).await;
}

async fn concurrent_reports_hold_a_comment_exactly_once(db: Db) {
    let Some(app) = app(db).await else { return };
    let c = posted(&app, "t", "10.0.0.1", "contested").await;
    let id = c["id"].as_i64().unwrap();
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    // Eight readers at once, each twice.
    for n in 0..16 {
        let app = std::sync::Arc::clone(&app);
        tasks.push(tokio::spawn(async move {
            let ip = format!("10.2.0.{}", n % 8);
            report(&app, id, &ip, json!({"reason": "off_topic"}))
                .await
                .status()
        }));
    }
    let mut created = 0;
    let mut repeats = 0;
    for t in tasks {
        match t.await.unwrap() {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => repeats += 1,
            // Reports after the hold find no published comment.
            StatusCode::NOT_FOUND => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert!(created >= 3, "{created}");
    assert!(created <= 8 && repeats <= 8, "{created} {repeats}");
    let stored = app
        .sql_count(&format!(
            "SELECT COUNT(*) FROM reports WHERE comment_id = {id}"
        ))
        .await;
    assert_eq!(stored, created, "one row per accepted report");
    let holds = audit_of(&app, id)
        .await
        .into_iter()
        .filter(|e| e["action"] == "reports")
        .count();
    assert_eq!(holds, 1);
    assert_eq!(admin_comment(&app, id).await["status"], "pending");
}

async fn illegal_reports_need_a_statement_and_bad_reports_store_nothing(db: Db) {
    let Some(app) = app(db).await else { return };
    let c = posted(&app, "t", "10.0.0.1", "something unlawful").await;
    let id = c["id"].as_i64().unwrap();
    let cases = [
        (json!({"reason": "illegal"}), "law"),
        (json!({"reason": "illegal", "law": "DE StGB §130"}), "text"),
        (json!({"reason": "illegal", "text": "why"}), "law"),
        (json!({"reason": "spam", "law": "DE StGB §130"}), "law"),
        (json!({"reason": "other", "text": "x".repeat(2001)}), "text"),
        (json!({"reason": "other", "law": "x".repeat(301)}), "law"),
    ];
    for (body, field) in cases {
        let r = report(&app, id, "10.1.0.1", body.clone()).await;
        let p = expect_problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(p["field"], field, "{body}");
    }
    let unknown = report(&app, id, "10.1.0.1", json!({"reason": "boring"})).await;
    expect_problem(unknown, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM reports").await, 0);
    let ok = report(
        &app,
        id,
        "10.1.0.1",
        json!({"reason": "illegal", "law": "DE StGB §130", "text": "incites hatred against a group"}),
    )
    .await;
    assert_eq!(ok.status(), StatusCode::CREATED);
    let (_, q) = app
        .admin(Method::GET, &format!("{SITE}/reports"), None)
        .await;
    let r = &q["comments"][0]["reports"][0];
    assert_eq!(r["reason"], "illegal");
    assert_eq!(r["law"], "DE StGB §130");
    assert_eq!(r["text"], "incites hatred against a group");
}

async fn dismissed_readers_count_less_and_trusted_readers_more(db: Db) {
    let Some(app) = app(db).await else { return };
    // A reader whose reports were dismissed twice.
    for n in 0..2 {
        let c = posted(&app, "t", "10.0.0.1", &format!("fine comment {n}")).await;
        let id = c["id"].as_i64().unwrap();
        reported(&app, id, "10.9.9.9", "abusive").await;
        let (s, v) = app
            .admin(
                Method::POST,
                &format!("{SITE}/comments/{id}/reports/dismiss"),
                Some(json!({})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["dismissed"], 1);
    }
    let c = posted(&app, "t", "10.0.0.1", "another fine comment").await;
    let id = c["id"].as_i64().unwrap();
    let wolf = reported(&app, id, "10.9.9.9", "abusive").await;
    assert_eq!(wolf["weight"], 0.5);
    reported(&app, id, "10.1.0.1", "abusive").await;
    // 0.5 + 1 + 1 = 2.5 < 3: still published.
    let third = reported(&app, id, "10.1.0.2", "abusive").await;
    assert_eq!(third["held"], false);
    assert_eq!(admin_comment(&app, id).await["status"], "published");
    let fourth = reported(&app, id, "10.1.0.3", "abusive").await;
    assert_eq!(fourth["held"], true);
    assert_eq!(
        admin_comment(&app, id).await["reasons"],
        json!(["held: reported by 4 readers (abusive)"])
    );
    // Readers with two published comments weigh 1.5: two of them hold.
    for reader in ["10.5.0.1", "10.5.0.2"] {
        for n in 0..2 {
            posted(&app, "other-thread", reader, &format!("{reader} says {n}")).await;
        }
    }
    let c = posted(&app, "t", "10.0.0.1", "yet another comment").await;
    let id = c["id"].as_i64().unwrap();
    let trusted = reported(&app, id, "10.5.0.1", "spam").await;
    assert_eq!(trusted["weight"], 1.5);
    assert_eq!(trusted["held"], false);
    let second = reported(&app, id, "10.5.0.2", "spam").await;
    assert_eq!(second["held"], true);
    assert_eq!(
        admin_comment(&app, id).await["reasons"],
        json!(["held: reported by 2 readers (spam)"])
    );
}

async fn the_reported_queue_lists_reports_and_dismissing_republishes(db: Db) {
    let Some(app) = app(db).await else { return };
    let quiet = posted(&app, "t", "10.0.0.1", "nobody minds this").await;
    let c = posted(&app, "t", "10.0.0.1", "many mind this").await;
    let id = c["id"].as_i64().unwrap();
    for (n, reason) in ["spam", "spam", "other"].iter().enumerate() {
        reported(&app, id, &format!("10.1.0.{n}"), reason).await;
    }
    let (s, q) = app
        .admin(Method::GET, &format!("{SITE}/reports"), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{q}");
    let items = q["comments"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{q}");
    assert_eq!(items[0]["comment"]["id"], id);
    assert_eq!(items[0]["comment"]["status"], "pending");
    assert_eq!(items[0]["reports"].as_array().unwrap().len(), 3);
    assert!(items[0]["reports"][0]["reader"]
        .as_str()
        .unwrap()
        .starts_with("ip:"));
    assert_ne!(items[0]["comment"]["id"], quiet["id"]);
    let (s, d) = app
        .admin(
            Method::POST,
            &format!("{SITE}/comments/{id}/reports/dismiss"),
            Some(json!({"republish": true})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(d["dismissed"], 3);
    assert_eq!(d["comment"]["status"], "published");
    assert!(listed_ids(&app, "t").await.contains(&id));
    let (_, q) = app
        .admin(Method::GET, &format!("{SITE}/reports"), None)
        .await;
    assert_eq!(q["comments"], json!([]));
    let entries = audit_of(&app, id).await;
    assert!(entries.iter().any(|e| e["action"] == "dismiss_reports"
        && e["actor"].as_str().unwrap().starts_with("token:")
        && e["reasons"] == json!(["dismissed 3 reports"])));
    // Dismissed reports still stop the same readers from reporting twice.
    let again = report(&app, id, "10.1.0.0", json!({"reason": "spam"})).await;
    expect_problem(again, StatusCode::CONFLICT).await;
    // Without a token: no queue.
    let (s, _) = app
        .admin_as("nope", Method::GET, &format!("{SITE}/reports"), None)
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // A deleted comment takes its reports with it.
    let (s, _) = app
        .admin(Method::DELETE, &format!("{SITE}/comments/{id}"), None)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(
        app.sql_count(&format!(
            "SELECT COUNT(*) FROM reports WHERE comment_id = {id}"
        ))
        .await,
        0
    );
    // A hidden thread's comments are not there to report.
    let qid = quiet["id"].as_i64().unwrap();
    let (s, v) = app
        .admin(
            Method::PUT,
            &format!("{SITE}/threads/t"),
            Some(json!({"state": "hidden"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let hidden = report(&app, qid, "10.1.0.1", json!({"reason": "spam"})).await;
    expect_problem(hidden, StatusCode::NOT_FOUND).await;
}

async fn the_threshold_is_a_site_setting(db: Db) {
    let Some(app) = app(db).await else { return };
    let (_, site) = app.admin(Method::GET, SITE, None).await;
    assert_eq!(site["report_threshold"], 3, "{site}");
    let (s, p) = app
        .admin(Method::PATCH, SITE, Some(json!({"report_threshold": 1001})))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    app.patch_site("default", json!({"report_threshold": 0}))
        .await;
    let c = posted(&app, "t", "10.0.0.1", "reports never hold here").await;
    let id = c["id"].as_i64().unwrap();
    for n in 0..4 {
        let r = reported(&app, id, &format!("10.1.0.{n}"), "spam").await;
        assert_eq!(r["held"], false);
    }
    assert_eq!(admin_comment(&app, id).await["status"], "published");
    // Turned on again: the next report counts the open ones.
    app.patch_site("default", json!({"report_threshold": 5}))
        .await;
    let r = reported(&app, id, "10.1.0.9", "spam").await;
    assert_eq!(r["held"], true);
}

async fn ip_hash_of(app: &TestApp, ip: &str) -> String {
    let c = posted(app, "probe", ip, &format!("probe from {ip}")).await;
    let v = admin_comment(app, c["id"].as_i64().unwrap()).await;
    v["ip_hash"].as_str().unwrap().to_owned()
}

async fn a_warning_comes_with_the_next_post_only(db: Db) {
    let Some(app) = app(db).await else { return };
    let hash = ip_hash_of(&app, "10.3.0.1").await;
    let v = set_step(
        &app,
        &format!("ip:{hash}"),
        json!({"action": "warn", "reason": "keep it civil"}),
    )
    .await;
    assert_eq!(v["standing"]["step"], "warn");
    assert_eq!(v["standing"]["warned"], false);
    let first = posted(&app, "t", "10.3.0.1", "first after warning").await;
    assert_eq!(
        first["notice"],
        "a warning from the moderators: keep it civil"
    );
    assert_eq!(first["status"], "published");
    let second = posted(&app, "t", "10.3.0.1", "second after warning").await;
    assert!(second.get("notice").is_none(), "{second}");
    // Somebody else is not warned.
    let other = posted(&app, "t", "10.3.0.2", "unrelated").await;
    assert!(other.get("notice").is_none());
    // By e-mail too, whatever the address.
    set_step(
        &app,
        "email:Erin@Example.org",
        json!({"action": "warn", "reason": "no insults"}),
    )
    .await;
    let r = post_as(
        &app,
        "t",
        "10.3.0.9",
        json!({"body": "from erin", "email": "erin@example.ORG"}),
    )
    .await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["notice"], "a warning from the moderators: no insults");
}

async fn premoderation_holds_every_post_with_its_reason(db: Db) {
    let Some(app) = app(db).await else { return };
    let hash = ip_hash_of(&app, "10.3.0.1").await;
    set_step(
        &app,
        &format!("ip:{hash}"),
        json!({"action": "premoderate", "reason": "new troll"}),
    )
    .await;
    for n in 0..2 {
        let v = posted(&app, "t", "10.3.0.1", &format!("held {n}")).await;
        assert_eq!(v["status"], "pending");
        assert_eq!(
            v["reasons"],
            json!(["held: the commenter is pre-moderated (new troll)"])
        );
    }
    let (s, v) = ladder(
        &app,
        &format!("ip:{hash}"),
        json!({"action": "clear", "reason": "behaves now"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["standing"], Value::Null);
    let v = posted(&app, "t", "10.3.0.1", "free again").await;
    assert_eq!(v["status"], "published");
}

async fn suspension_refuses_until_it_ends_and_ban_until_cleared(db: Db) {
    let Some(app) = app(db).await else { return };
    let hash = ip_hash_of(&app, "10.3.0.1").await;
    let key = format!("ip:{hash}");
    // Checked: a suspension needs an end in the future; a reason.
    for (body, field) in [
        (json!({"action": "suspend", "reason": "x"}), "until"),
        (
            json!({"action": "suspend", "reason": "x", "until": "2001-01-01T00:00:00Z"}),
            "until",
        ),
        (
            json!({"action": "suspend", "reason": "x", "until": "tomorrow"}),
            "until",
        ),
        (json!({"action": "ban", "reason": "  "}), "reason"),
        (json!({"action": "exile", "reason": "x"}), "action"),
    ] {
        let (s, p) = ladder(&app, &key, body.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body} {p}");
        assert_eq!(p["field"], field, "{body}");
    }
    let (s, p) = ladder(&app, "name:ada", json!({"action": "ban", "reason": "x"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM commenters").await, 0);

    let until = "2099-01-01T00:00:00Z";
    let v = set_step(
        &app,
        &key,
        json!({"action": "suspend", "until": until, "reason": "cooling off"}),
    )
    .await;
    assert_eq!(v["standing"]["until"], "2099-01-01T00:00:00.000Z");
    assert_eq!(v["standing"]["in_force"], true);
    let r = post_as(&app, "t", "10.3.0.1", json!({"body": "let me in"})).await;
    let p = expect_problem(r, StatusCode::FORBIDDEN).await;
    assert_eq!(p["code"], "suspended");
    let detail = p["detail"].as_str().unwrap();
    assert!(
        detail.contains("until 2099-01-01T00:00:00.000Z") && detail.contains("cooling off"),
        "{detail}"
    );
    // Time passes: the end is checked when the commenter posts.
    app.sql(&format!(
        "UPDATE commenters SET until = 1000 WHERE commenter = '{key}'"
    ))
    .await;
    let v = posted(&app, "t", "10.3.0.1", "back after the suspension").await;
    assert_eq!(v["status"], "published");
    let (_, page) = app
        .admin(Method::GET, &format!("{SITE}/commenters/{key}"), None)
        .await;
    assert_eq!(page["standing"]["in_force"], false, "{page}");

    set_step(&app, &key, json!({"action": "ban", "reason": "spam bot"})).await;
    let r = post_as(&app, "t", "10.3.0.1", json!({"body": "still here"})).await;
    let p = expect_problem(r, StatusCode::FORBIDDEN).await;
    assert_eq!(p["code"], "banned");
    assert!(p["detail"].as_str().unwrap().contains("spam bot"));
    // A ban with an end expires too.
    set_step(
        &app,
        &key,
        json!({"action": "ban", "reason": "a week", "until": "2099-01-01T00:00:00Z"}),
    )
    .await;
    let r = post_as(&app, "t", "10.3.0.1", json!({"body": "a week later?"})).await;
    expect_problem(r, StatusCode::FORBIDDEN).await;
    app.sql(&format!(
        "UPDATE commenters SET until = 1000 WHERE commenter = '{key}'"
    ))
    .await;
    posted(&app, "t", "10.3.0.1", "a week later").await;
    set_step(&app, &key, json!({"action": "ban", "reason": "again"})).await;
    set_step(
        &app,
        &key,
        json!({"action": "clear", "reason": "appeal granted"}),
    )
    .await;
    posted(&app, "t", "10.3.0.1", "after the appeal").await;
    // Every step is in the audit log with who and why.
    let (_, log) = app.admin(Method::GET, &format!("{SITE}/audit"), None).await;
    let steps: Vec<String> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "commenter")
        .map(|e| {
            assert!(e["actor"].as_str().unwrap().starts_with("token:"));
            e["reasons"][0].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(steps.len(), 5, "{steps:?}");
    assert_eq!(steps[0], format!("{key}: clear (appeal granted)"));
    assert_eq!(
        steps[4],
        format!("{key}: suspend until 2099-01-01T00:00:00.000Z (cooling off)")
    );
}

async fn shadow_banned_comments_are_seen_by_their_author_only(db: Db) {
    let Some(app) = app(db).await else { return };
    let hash = ip_hash_of(&app, "10.3.0.1").await;
    set_step(
        &app,
        &format!("ip:{hash}"),
        json!({"action": "shadow_ban", "reason": "troll"}),
    )
    .await;
    // Another reader's view is cached before and after.
    let before = listed_ids(&app, "t").await;
    let v = posted(&app, "t", "10.3.0.1", "nobody will see this").await;
    // The author is told it is published.
    assert_eq!(v["status"], "published");
    assert_eq!(v["reasons"], json!(["published: no rule held it"]));
    let id = v["id"].as_i64().unwrap();
    let token = v["edit_token"].as_str().unwrap().to_owned();
    // Everybody else: not listed, not counted.
    let after = listed_ids(&app, "t").await;
    assert!(!after.contains(&id));
    assert_eq!(before, after);
    // The author's own view (by the edit token their browser kept).
    let own = |tokens: Value| {
        let app = &app;
        async move {
            let r = app
                .client
                .post(app.url(&format!(
                    "/api/v1/sites/default/threads/{}/own",
                    crate::helpers::encode("t")
                )))
                .json(&json!({ "edit_tokens": tokens }))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            assert_eq!(
                r.headers()["cache-control"].to_str().unwrap(),
                "private, no-store"
            );
            r.json::<Value>().await.unwrap()
        }
    };
    let mine = own(json!([token])).await;
    assert_eq!(mine["comments"].as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(mine["comments"][0]["id"], id);
    assert_eq!(mine["comments"][0]["status"], "published");
    assert_eq!(mine["comments"][0]["html"], "<p>nobody will see this</p>\n");
    // Another reader's tokens show nothing of it.
    let other = posted(&app, "t", "10.3.0.2", "a normal comment").await;
    let theirs = own(json!([other["edit_token"]])).await;
    assert_eq!(theirs["comments"], json!([]));
    assert_eq!(own(json!(["made-up-token"])).await["comments"], json!([]));
    // Editing it, the author still sees it published.
    let r = app
        .client
        .patch(app.url(&format!("/api/v1/sites/default/comments/{id}")))
        .bearer_auth(&token)
        .json(&json!({"body": "nobody will see this, edited"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let edited: Value = r.json().await.unwrap();
    assert_eq!(edited["status"], "published", "{edited}");
    assert!(!listed_ids(&app, "t").await.contains(&id));
    // Moderators see it held, with why.
    let held = admin_comment(&app, id).await;
    assert_eq!(held["status"], "pending");
    assert_eq!(
        held["reasons"],
        json!(["held: shadow ban on the commenter"])
    );
    // The public listing after the author's view is still without it.
    assert!(!listed_ids(&app, "t").await.contains(&id));
    // Too many tokens: refused.
    let many: Vec<String> = (0..101).map(|n| format!("t{n}")).collect();
    let r = app
        .client
        .post(app.url("/api/v1/sites/default/threads/t/own"))
        .json(&json!({ "edit_tokens": many }))
        .send()
        .await
        .unwrap();
    expect_problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
}

async fn a_commenters_page_has_their_history(db: Db) {
    let Some(app) = app(db).await else { return };
    let mine = post_as(
        &app,
        "t",
        "10.3.0.1",
        json!({"body": "mine", "email": "kim@example.org"}),
    )
    .await;
    let mine: Value = mine.json().await.unwrap();
    let id = mine["id"].as_i64().unwrap();
    reported(&app, id, "10.1.0.1", "abusive").await;
    let key = "email:kim@example.org";
    set_step(
        &app,
        key,
        json!({"action": "warn", "reason": "first notice"}),
    )
    .await;
    set_step(
        &app,
        key,
        json!({"action": "premoderate", "reason": "second notice"}),
    )
    .await;
    let (s, v) = app
        .admin(Method::GET, &format!("{SITE}/commenters/{key}"), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["key"], key);
    assert_eq!(v["standing"]["step"], "premoderate");
    let actions: Vec<&str> = v["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["premoderate", "warn"]);
    assert_eq!(v["comments"][0]["id"], id);
    assert!(v["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["action"] == "post" && d["comment_id"] == id));
    assert_eq!(v["reports_received"][0]["reason"], "abusive");
    assert_eq!(v["reports_made"], json!([]));
    // The reporter's page shows the report they made.
    let (_, q) = app
        .admin(Method::GET, &format!("{SITE}/reports"), None)
        .await;
    let reader = q["comments"][0]["reports"][0]["reader"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, r) = app
        .admin(Method::GET, &format!("{SITE}/commenters/{reader}"), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["reports_made"][0]["comment_id"], id);
    assert_eq!(r["standing"], Value::Null);
    // Erasing the address forgets its standing and history, and the
    // address in the audit log's ladder entries.
    let (s, v) = app
        .admin(
            Method::POST,
            &format!("{SITE}/privacy/erase"),
            Some(json!({"email": "Kim@example.org"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, v) = app
        .admin(Method::GET, &format!("{SITE}/commenters/{key}"), None)
        .await;
    assert_eq!(v["standing"], Value::Null, "{v}");
    assert_eq!(v["actions"], json!([]));
    assert_eq!(v["comments"], json!([]));
    let (_, log) = app.admin(Method::GET, &format!("{SITE}/audit"), None).await;
    let text = log.to_string();
    assert!(!text.contains("kim@example.org"), "{text}");
    assert!(text.contains("email:(erased): premoderate (second notice)"));
}

async fn reports_have_a_rate_limit_of_their_own(db: Db) {
    let proxies = colloquy::net::TrustedProxies::parse(&["127.0.0.1"]).unwrap();
    let Some(app) = spawn_with(db, move |c| {
        c.trusted_proxies = proxies;
        c.rate_limit = true;
        for s in &mut c.sites {
            s.rules.ip_posts_per_minute = 2;
        }
    })
    .await
    else {
        return;
    };
    let mut ids = Vec::new();
    for n in 1..=3 {
        let c = posted(&app, "t", &format!("10.0.0.{n}"), &format!("comment {n}")).await;
        ids.push(c["id"].as_i64().unwrap());
    }
    reported(&app, ids[0], "10.1.0.1", "spam").await;
    reported(&app, ids[1], "10.1.0.1", "spam").await;
    let r = report(&app, ids[2], "10.1.0.1", json!({"reason": "spam"})).await;
    assert!(r.headers().contains_key("retry-after"));
    let p = expect_problem(r, StatusCode::TOO_MANY_REQUESTS).await;
    assert!(p["detail"].as_str().unwrap().contains("reports"), "{p}");
    // Another reader, and the same reader's comments, have budgets of their own.
    reported(&app, ids[2], "10.1.0.2", "spam").await;
    posted(&app, "t", "10.1.0.1", "my own comment").await;
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM reports").await, 3);
}
