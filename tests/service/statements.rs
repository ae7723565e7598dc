//! Statements of reasons and appeals (issue 17, point 6): a statement for
//! each kind of removal or restriction, visible only with the comment's
//! edit token; one appeal, which puts the comment in the `appealed` view
//! until a moderator decides again.

use crate::both_backends;
use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

struct Posted {
    id: i64,
    token: String,
}

async fn post(app: &TestApp, body: &str) -> Posted {
    let v = app
        .post_ok(
            "default",
            "t",
            json!({ "body": body, "author": "Ann", "email": "ann@example.org" }),
        )
        .await;
    Posted {
        id: v["id"].as_i64().unwrap(),
        token: v["edit_token"].as_str().unwrap().to_owned(),
    }
}

async fn statement(app: &TestApp, id: i64, token: Option<&str>) -> (StatusCode, Value) {
    let mut req = app
        .client
        .get(app.url(&format!("/api/v1/sites/default/comments/{id}/statement")));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    (r.status(), r.json().await.unwrap_or(Value::Null))
}

async fn appeal(app: &TestApp, c: &Posted, text: &str) -> (StatusCode, Value) {
    let r = app
        .client
        .post(app.url(&format!("/api/v1/sites/default/comments/{}/appeal", c.id)))
        .bearer_auth(&c.token)
        .json(&json!({ "text": text }))
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap_or(Value::Null))
}

async fn act(app: &TestApp, id: i64, action: &str) {
    let (s, v) = app
        .admin(
            Method::POST,
            &format!("/api/v1/admin/sites/default/comments/{id}/{action}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

async fn appealed_queue(app: &TestApp) -> (StatusCode, Value) {
    app.admin(
        Method::GET,
        "/api/v1/admin/sites/default/comments?view=appealed",
        None,
    )
    .await
}

async fn a_statement_for_each_kind_of_decision(db: Db) {
    let Some(app) = spawn(db).await else { return };
    // Published, then each decision a moderator can take.
    for (action, decision) in [
        ("spam", "spam"),
        ("trash", "trash"),
        ("unpublish", "hold"),
        ("delete", "delete"),
    ] {
        let c = post(&app, &format!("To be decided: {action}")).await;
        let (s, _) = statement(&app, c.id, Some(&c.token)).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "no decision yet");
        act(&app, c.id, action).await;
        let (s, v) = statement(&app, c.id, Some(&c.token)).await;
        assert_eq!(s, StatusCode::OK, "{action}: {v}");
        assert_eq!(v["decision"], decision, "{v}");
        assert_eq!(v["automated"], false);
        assert_eq!(v["comment"], c.id);
        for field in ["facts", "ground", "redress"] {
            assert!(
                v[field].as_str().is_some_and(|t| t.len() > 20),
                "{field}: {v}"
            );
        }
        assert!(v["redress"].as_str().unwrap().contains("appeal"));
        assert_eq!(v["appeal"], Value::Null);
        // Only its author sees it.
        let (s, _) = statement(&app, c.id, None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        let (s, _) = statement(&app, c.id, Some("not-the-token")).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    // Approving makes no statement.
    app.patch_site("default", json!({"moderation": "hold"}))
        .await;
    let held = post(&app, "Held at posting").await;
    act(&app, held.id, "approve").await;
    assert_eq!(
        statement(&app, held.id, Some(&held.token)).await.0,
        StatusCode::NOT_FOUND
    );
    // The rules: spam at posting, and a hold after publication (an edit).
    app.patch_site("default", json!({"moderation": "rules", "disallowed_keys": ["casino"], "moderation_keys": ["refund"]}))
        .await;
    let spam = post(&app, "Best casino here").await;
    let (s, v) = statement(&app, spam.id, Some(&spam.token)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["decision"].as_str(), v["automated"].as_bool()),
        (Some("spam"), Some(true)),
        "{v}"
    );
    let edited = post(&app, "A fine comment").await;
    let r = app
        .client
        .patch(app.url(&format!("/api/v1/sites/default/comments/{}", edited.id)))
        .bearer_auth(&edited.token)
        .json(&json!({"body": "Ask me for a refund"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let edit: Value = r.json().await.unwrap();
    assert_eq!(edit["status"], "pending", "{edit}");
    let (s, v) = statement(&app, edited.id, Some(&edited.token)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["decision"].as_str(), v["automated"].as_bool()),
        (Some("hold"), Some(true)),
        "{v}"
    );
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM statements").await, 6);
}

async fn one_appeal_puts_the_comment_back_in_a_queue(db: Db) {
    let Some(app) = spawn(db).await else { return };
    let c = post(&app, "Please reconsider").await;
    let other = post(&app, "Left alone").await;
    // Nothing to appeal before a decision.
    assert_eq!(appeal(&app, &c, "why?").await.0, StatusCode::NOT_FOUND);
    act(&app, c.id, "trash").await;
    act(&app, other.id, "trash").await;
    let (s, v) = appeal(&app, &c, "  ").await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("text"))
    );
    let r = app
        .client
        .post(app.url(&format!("/api/v1/sites/default/comments/{}/appeal", c.id)))
        .bearer_auth("wrong")
        .json(&json!({"text": "mine"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let (s, v) = appeal(&app, &c, "It was on topic").await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["appeal"]["text"], "It was on topic");
    assert_eq!(v["appeal"]["closed"], Value::Null);
    let (s, v) = appeal(&app, &c, "Again").await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("appealed_already")),
        "{v}"
    );

    let (s, q) = appealed_queue(&app).await;
    assert_eq!(s, StatusCode::OK, "{q}");
    let listed: Vec<i64> = q["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(listed, vec![c.id], "{q}");
    // The moderator's next decision closes the appeal.
    act(&app, c.id, "restore").await;
    let (_, q) = appealed_queue(&app).await;
    assert_eq!(q["comments"].as_array().unwrap().len(), 0, "{q}");
    let (_, v) = statement(&app, c.id, Some(&c.token)).await;
    assert_eq!(v["appeal"]["outcome"], "restore", "{v}");
    assert!(v["appeal"]["closed"].is_string());
    let (_, audit) = app
        .admin(
            Method::GET,
            &format!("/api/v1/admin/sites/default/audit?comment={}", c.id),
            None,
        )
        .await;
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"appeal") && actions.contains(&"appeal_closed"),
        "{actions:?}"
    );
    // A deleted comment's author still reads the statement, and appeals it.
    act(&app, other.id, "delete").await;
    let (s, v) = statement(&app, other.id, Some(&other.token)).await;
    assert_eq!(
        (s, v["decision"].as_str()),
        (StatusCode::OK, Some("delete"))
    );
    assert_eq!(
        appeal(&app, &other, "Why delete it?").await.0,
        StatusCode::CREATED
    );
    let (_, q) = app
        .admin(
            Method::GET,
            "/api/v1/admin/sites/default/comments?view=nope",
            None,
        )
        .await;
    assert_eq!(q["field"], "view");
}

/// `colloquy report transparency` on the server's database.
fn report(app: &TestApp, format: &str) -> String {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_colloquy"))
        .args([
            "report",
            "transparency",
            "--site",
            "default",
            "--from",
            "2025-11-01",
            "--to",
            "2025-11-30",
            "--format",
            format,
            "--database",
            &app.database_url,
        ])
        .current_dir(&app.dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

async fn the_transparency_report_counts_decisions_and_the_median(db: Db) {
    let Some(app) = spawn(db).await else { return };
    app.patch_site("default", json!({"disallowed_keys": ["casino"]}))
        .await;
    post(&app, "casino casino").await; // spam by the rules, automated
    let trashed = post(&app, "Rejected").await;
    act(&app, trashed.id, "trash").await;
    let deleted = post(&app, "Deleted").await;
    act(&app, deleted.id, "delete").await;
    let late = post(&app, "Outside the period").await;
    act(&app, late.id, "unpublish").await;
    // Decisions on 2025-11-10 12:00 UTC, handled in 0 s, 4 s and 10 s;
    // the hold falls in December, outside the period.
    let noon = 1_762_776_000_000_i64;
    for (decision, created, took) in [
        ("spam", noon, 0),
        ("trash", noon, 4_000),
        ("delete", noon, 10_000),
        ("hold", noon + 30 * 86_400_000, 1_000),
    ] {
        app.sql(&format!(
            "UPDATE statements SET created = {created}, began = {} WHERE decision = '{decision}'",
            created - took
        ))
        .await;
    }
    let v: Value = serde_json::from_str(&report(&app, "json")).unwrap();
    assert_eq!(v["total"], 3, "{v}");
    assert_eq!(
        v["by_decision"],
        json!({"spam": 1, "trash": 1, "delete": 1}),
        "{v}"
    );
    assert_eq!(
        (v["automated"].as_u64(), v["manual"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(v["median_handling_secs"], 4.0, "{v}");
    assert_eq!(v["site"], "default");
    let grounds: u64 = v["by_ground"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(grounds, 3);
    let csv = report(&app, "csv");
    assert!(csv.starts_with("measure,value,count\n"), "{csv}");
    assert!(
        csv.contains("decision,trash,1\n") && csv.contains("median_handling_secs,,4\n"),
        "{csv}"
    );
    assert!(
        csv.contains("automated,true,1\n") && csv.contains("automated,false,2\n"),
        "{csv}"
    );
}

async fn a_moderator_gives_the_facts_and_the_ground(db: Db) {
    let Some(app) = spawn(db).await else { return };
    let c = post(&app, "Buy my followers").await;
    let path = format!(
        "/api/v1/admin/sites/default/comments/{}/trash?reason=Advertises%20a%20paid%20service&ground=Terms%20%C2%A74.2%20(no%20advertising)",
        c.id
    );
    let (s, v) = app.admin(Method::POST, &path, None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, st) = statement(&app, c.id, Some(&c.token)).await;
    assert!(
        st["facts"]
            .as_str()
            .unwrap()
            .contains("Advertises a paid service"),
        "{st}"
    );
    assert_eq!(st["ground"], "Terms §4.2 (no advertising)");
    // A note that cannot be one changes nothing.
    let other = post(&app, "Another one").await;
    let long = "x".repeat(1001);
    let (s, v) = app
        .admin(
            Method::POST,
            &format!(
                "/api/v1/admin/sites/default/comments/{}/spam?reason={long}",
                other.id
            ),
            None,
        )
        .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("reason")),
        "{v}"
    );
    let (_, again) = app
        .admin(
            Method::GET,
            &format!("/api/v1/admin/sites/default/comments/{}", other.id),
            None,
        )
        .await;
    assert_eq!(again["status"], "published");
}

async fn a_one_click_link_writes_a_statement_too(db: Db) {
    let Some(app) = spawn(db).await else { return };
    app.patch_site("default", json!({"moderation": "hold"}))
        .await;
    let c = post(&app, "Held, then spam by e-mail").await;
    let signer = colloquy::keys::Keys::read_file(&app.key_file)
        .unwrap()
        .link_signer();
    let link = colloquy::notify::links::Link {
        site: "default".to_owned(),
        comment: c.id,
        action: colloquy::notify::links::LinkAction::Spam,
        from: Some(colloquy::comment::Status::Pending),
        nonce: Some("statement-test".to_owned()),
        expires: colloquy::clock::now_ms() / 1000 + 600,
    };
    let r = app
        .client
        .post(signer.url(&app.base, &link))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (s, v) = statement(&app, c.id, Some(&c.token)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["decision"].as_str(), v["automated"].as_bool()),
        (Some("spam"), Some(false)),
        "{v}"
    );
}

both_backends!(
    a_one_click_link_writes_a_statement_too,
    a_moderator_gives_the_facts_and_the_ground,
    a_statement_for_each_kind_of_decision,
    one_appeal_puts_the_comment_back_in_a_queue,
    the_transparency_report_counts_decisions_and_the_median,
);
