//! A site's spam model learns from its moderators (issue 18): decisions
//! become examples, a trainer saves the model, servers score with it, a
//! decision against the score is noted in the log, and the command line
//! evaluates, retrains and exports it. Over HTTP on both backends.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{spawn_with, Db, TestApp};

both_backends!(
    moderator_decisions_teach_the_site_model_and_the_queue_shows_scores,
    the_command_line_evaluates_retrains_and_exports_the_site_model,
    a_preview_nudges_the_writer_when_the_model_would_hold_the_comment,
    the_model_learns_from_what_is_known_of_the_author_not_only_the_text,
    dismissed_reports_teach_the_model_that_the_comment_was_wanted,
    the_model_learns_what_reports_say,
    the_model_learns_how_fast_an_address_posts,
    the_model_learns_that_links_to_new_domains_are_suspect,
);

const SITE: &str = "/api/v1/admin/sites/default";

/// Texts the starter model takes for spam, but that this site wants: a
/// deals forum whose readers post offers.
fn offer(n: usize) -> String {
    format!(
        "Great deal today: FREE shipping and a bonus gift on order {n}! \
         Click the shop page, limited time offer, order now and save."
    )
}

fn ordinary(n: usize) -> String {
    format!(
        "I read the article twice and I think the council's plan for the bridge \
         ({n}) misses the point about the bus lanes; the figures on page two disagree."
    )
}

async fn queue_all(app: &TestApp) -> Vec<Value> {
    let (s, v) = app
        .admin(
            Method::GET,
            &format!("{SITE}/comments?status=all&limit=200"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["comments"].as_array().cloned().unwrap_or_default()
}

async fn score_of(app: &TestApp, id: i64) -> f64 {
    let all = queue_all(app).await;
    let c = all
        .iter()
        .find(|c| c["id"].as_i64() == Some(id))
        .unwrap_or_else(|| panic!("comment {id} not in the queue"));
    assert!(
        c["score"]["explained"]
            .as_str()
            .is_some_and(|e| e.starts_with("spam score ")),
        "{c}"
    );
    c["score"]["probability"].as_f64().expect("a score")
}

async fn moderate(app: &TestApp, id: i64, action: &str) {
    let (s, v) = app
        .admin(
            Method::POST,
            &format!("{SITE}/comments/{id}/{action}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

/// Posts with scoring on; the starter marks these offers as spam.
async fn post_offers(app: &TestApp, range: std::ops::Range<usize>) -> Vec<i64> {
    let mut ids = Vec::new();
    for n in range {
        let v = app
            .post_ok(
                "default",
                "deals",
                json!({ "body": offer(n), "author": format!("buyer{n}") }),
            )
            .await;
        assert_ne!(
            v["status"], "published",
            "the starter lets an offer through: {v}"
        );
        ids.push(v["id"].as_i64().unwrap());
    }
    ids
}

async fn moderator_decisions_teach_the_site_model_and_the_queue_shows_scores(db: Db) {
    let Some(app) = spawn_with(db, |c| {
        c.scoring_interval = Duration::from_millis(200);
    })
    .await
    else {
        return;
    };
    app.patch_site("default", json!({ "scoring": true })).await;
    let (s, model) = app
        .admin(Method::GET, &format!("{SITE}/scoring"), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{model}");
    assert_eq!(model["source"], "starter");
    assert_eq!(model["version"], 0);

    let offers = post_offers(&app, 0..12).await;
    let before = score_of(&app, offers[0]).await;
    // The moderators want these: each approval goes against the score,
    // and the log says so.
    for &id in &offers {
        moderate(&app, id, "approve").await;
    }
    let (_, log) = app
        .admin(
            Method::GET,
            &format!("{SITE}/audit?comment={}", offers[0]),
            None,
        )
        .await;
    assert!(
        log.to_string().contains("decided against the spam score"),
        "{log}"
    );
    // And some real spam is marked as such.
    for n in 0..4 {
        let v = app
            .post_ok(
                "default",
                "deals",
                json!({ "body": format!("Cheap pills casino viagra loans {n} visit http://spam{n}.example now") }),
            )
            .await;
        moderate(&app, v["id"].as_i64().unwrap(), "spam").await;
    }

    // The trainer (every 200 ms here, a minute by default) learns them all.
    let mut model = Value::Null;
    for _ in 0..100 {
        let (_, m) = app
            .admin(Method::GET, &format!("{SITE}/scoring"), None)
            .await;
        if m["ham_learned"].as_i64() == Some(12) && m["spam_learned"].as_i64() == Some(4) {
            model = m;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(model["source"], "site", "not learned in 10 s: {model}");
    assert!(model["version"].as_i64().unwrap() >= 1, "{model}");
    assert!(model["bytes"].as_u64().unwrap() > 1000, "{model}");
    // Nothing new: another round saves nothing.
    let (_, round) = app
        .admin(Method::POST, &format!("{SITE}/scoring/train"), None)
        .await;
    assert_eq!(round, json!({ "learned": 0, "version": null }));

    // Servers pick the new version up within seconds: the same kind of
    // offer now scores lower than before, for a new comment and an old one.
    tokio::time::sleep(colloquy::service::MODEL_RECHECK + Duration::from_millis(300)).await;
    let after = score_of(&app, offers[0]).await;
    assert!(after < before, "score {before} → {after}");
    let fresh = app
        .post_ok(
            "default",
            "deals",
            json!({ "body": offer(99), "author": "buyer99" }),
        )
        .await;
    let fresh_score = score_of(&app, fresh["id"].as_i64().unwrap()).await;
    assert!(fresh_score < before, "score {before} → {fresh_score}");
}

async fn the_command_line_evaluates_retrains_and_exports_the_site_model(db: Db) {
    let Some(app) = spawn_with(db, |_| {}).await else {
        return;
    };
    app.patch_site("default", json!({ "scoring": true })).await;
    for n in 0..10 {
        let v = app
            .post_ok(
                "default",
                "t",
                json!({ "body": ordinary(n), "author": format!("reader{n}") }),
            )
            .await;
        let id = v["id"].as_i64().unwrap();
        // Published comments approved again change nothing; hold first.
        if v["status"] == "published" {
            moderate(&app, id, "unpublish").await;
        }
        moderate(&app, id, "approve").await;
        let s = app
            .post_ok(
                "default",
                "t",
                json!({ "body": format!("Cheap pills casino viagra loans {n} visit http://spam{n}.example now") }),
            )
            .await;
        moderate(&app, s["id"].as_i64().unwrap(), "spam").await;
    }
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_colloquy"))
            .args(args)
            .args(["--site", "default", "--database", &app.database_url])
            .env("COLLOQUY_KEY_FILE", &app.key_file)
            .env("COLLOQUY_LOG", "error")
            .output()
            .expect("colloquy runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, table, err) = run(&["scoring", "eval"]);
    assert!(ok, "{err}");
    assert!(
        table.contains("learned 16 decisions, tested on the latest 4"),
        "{table}"
    );
    assert!(
        table.contains("| site | 0.50 |") && table.contains("| starter | 0.50 |"),
        "{table}"
    );
    let (ok, json_out, err) = run(&["scoring", "eval", "--json", "--test-share", "0.5"]);
    assert!(ok, "{err}");
    let v: Value = serde_json::from_str(&json_out).expect("JSON");
    assert_eq!(v["tested_on"], 10);
    let site = &v["results"][0];
    assert!(site["auc"].as_f64().unwrap() > 0.9, "{v}");

    let (ok, said, err) = run(&["scoring", "retrain"]);
    assert!(ok, "{err}");
    assert!(
        said.contains("model version 1 learned 20 decisions (10 spam, 10 ham)"),
        "{said}"
    );
    let (_, model) = app
        .admin(Method::GET, &format!("{SITE}/scoring"), None)
        .await;
    assert_eq!(model["version"], 1);
    // Retraining the same history gives the same model, byte for byte.
    let first = app.dir.join("first.model");
    let second = app.dir.join("second.model");
    let (ok, _, err) = run(&["scoring", "export", "--output", first.to_str().unwrap()]);
    assert!(ok, "{err}");
    let (ok, said, err) = run(&["scoring", "retrain"]);
    assert!(ok && said.contains("model version 2"), "{said}{err}");
    let (ok, _, err) = run(&["scoring", "export", "--output", second.to_str().unwrap()]);
    assert!(ok, "{err}");
    let a = std::fs::read(&first).unwrap();
    assert!(a.len() > 1000);
    assert_eq!(a, std::fs::read(&second).unwrap());
    assert!(colloquy::scoring::Model::from_bytes(&a).is_ok());

    // Too little history is an error that says so, and changes nothing.
    let (ok, _, err) = run(&["scoring", "eval", "--test-share", "1.5"]);
    assert!(!ok && err.contains("between 0 and 1"), "{err}");
}

async fn a_preview_nudges_the_writer_when_the_model_would_hold_the_comment(db: Db) {
    let Some(app) = spawn_with(db, |_| {}).await else {
        return;
    };
    let spammy = "Best online casino! Claim your free bonus and free spins now, click here";
    let preview = |body: &'static str| {
        let app = &app;
        async move {
            let r = app
                .client
                .post(app.url("/api/v1/sites/default/preview"))
                .json(&json!({ "body": body }))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            r.json::<Value>().await.unwrap()
        }
    };
    // Scoring on, nudge off (the default): the preview says nothing.
    app.patch_site("default", json!({ "scoring": true, "moderation": "rules" }))
        .await;
    assert!(preview(spammy).await.get("may_be_held").is_none());
    app.patch_site("default", json!({ "scoring_nudge": true }))
        .await;
    let nudged = preview(spammy).await;
    assert_eq!(nudged["may_be_held"], true, "{nudged}");
    // A yes or no: nothing of the score or its words.
    assert!(!nudged.to_string().contains("score"), "{nudged}");
    let plain = preview("I think the council's figures on page two disagree with the mayor.").await;
    assert_eq!(plain["may_be_held"], false, "{plain}");

    // The thread page's preview says it too, and only for such a text.
    let page = |body: &'static str| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/sites/default/threads/nudge"))
                .form(&[("body", body), ("op", "preview")])
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    assert!(page(spammy).await.contains("may be held for review"));
    assert!(!page("A calm and ordinary remark about the bridge.")
        .await
        .contains("may be held for review"));
    // Scoring off: no nudge, whatever the setting.
    app.patch_site("default", json!({ "scoring": false })).await;
    assert!(preview(spammy).await.get("may_be_held").is_none());
}

async fn the_model_learns_from_what_is_known_of_the_author_not_only_the_text(db: Db) {
    let Some(app) = spawn_with(db, |_| {}).await else {
        return;
    };
    app.patch_site("default", json!({ "scoring": true })).await;
    let first = app
        .post_ok(
            "default",
            "f",
            json!({ "body": ordinary(0), "email": "known@example.net" }),
        )
        .await;
    assert_eq!(first["status"], "published", "{first}");
    // The same kind of offer: wanted from the regular, spam from newcomers
    // (one address domain for all, so only "known or not" tells them apart).
    for n in 0..8 {
        let v = app
            .post_ok(
                "default",
                "f",
                json!({ "body": offer(n), "email": "known@example.net" }),
            )
            .await;
        moderate(&app, v["id"].as_i64().unwrap(), "approve").await;
        let v = app
            .post_ok(
                "default",
                "f",
                json!({ "body": offer(n + 100), "email": format!("new{n}@example.net") }),
            )
            .await;
        // Trash (abuse) is a decision even where the rules said spam already.
        moderate(&app, v["id"].as_i64().unwrap(), "trash").await;
    }
    let (_, round) = app
        .admin(Method::POST, &format!("{SITE}/scoring/train"), None)
        .await;
    assert_eq!(round["learned"], 16, "{round}");
    tokio::time::sleep(colloquy::service::MODEL_RECHECK + Duration::from_millis(300)).await;
    let from_known = app
        .post_ok(
            "default",
            "f",
            json!({ "body": offer(500), "email": "known@example.net" }),
        )
        .await;
    let from_new = app
        .post_ok(
            "default",
            "f",
            json!({ "body": offer(501), "email": "stranger@example.net" }),
        )
        .await;
    let known = score_of(&app, from_known["id"].as_i64().unwrap()).await;
    let new = score_of(&app, from_new["id"].as_i64().unwrap()).await;
    assert!(known < new, "known author {known}, new author {new}");
}

async fn dismissed_reports_teach_the_model_that_the_comment_was_wanted(db: Db) {
    let Some(app) = spawn_with(db, |_| {}).await else {
        return;
    };
    let v = app
        .post_ok("default", "r", json!({ "body": ordinary(7) }))
        .await;
    assert_eq!(v["status"], "published", "{v}");
    let id = v["id"].as_i64().unwrap();
    let r = app
        .client
        .post(app.url(&format!("/api/v1/sites/default/comments/{id}/reports")))
        .json(&json!({ "reason": "off_topic" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    app.patch_site("default", json!({ "scoring": true })).await;
    // Nothing decided yet: nothing to learn.
    let (_, round) = app
        .admin(Method::POST, &format!("{SITE}/scoring/train"), None)
        .await;
    assert_eq!(round["learned"], 0, "{round}");
    let (s, v) = app
        .admin(
            Method::POST,
            &format!("{SITE}/comments/{id}/reports/dismiss"),
            Some(json!({ "republish": false })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, round) = app
        .admin(Method::POST, &format!("{SITE}/scoring/train"), None)
        .await;
    assert_eq!(round["learned"], 1, "{round}");
    let (_, model) = app
        .admin(Method::GET, &format!("{SITE}/scoring"), None)
        .await;
    assert_eq!(model["ham_learned"], 1, "{model}");
    assert_eq!(model["spam_learned"], 0, "{model}");
}

async fn report(app: &TestApp, id: i64) {
    let r = app
        .client
        .post(app.url(&format!("/api/v1/sites/default/comments/{id}/reports")))
        .json(&json!({ "reason": "abusive" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
}

async fn the_model_learns_what_reports_say(db: Db) {
    let Some(app) = spawn_with(db, |_| {}).await else {
        return;
    };
    app.patch_site("default", json!({ "scoring": true })).await;
    // The same kind of comment: reported ones the moderators trash, the
    // others they approve.
    for n in 0..12 {
        let v = app
            .post_ok("default", "rep", json!({ "body": ordinary(n) }))
            .await;
        assert_eq!(v["status"], "published", "{v}");
        let id = v["id"].as_i64().unwrap();
        if n % 2 == 0 {
            report(&app, id).await;
            moderate(&app, id, "trash").await;
        } else {
            moderate(&app, id, "unpublish").await;
            moderate(&app, id, "approve").await;
        }
    }
    let (_, round) = app
        .admin(Method::POST, &format!("{SITE}/scoring/train"), None)
        .await;
    assert_eq!(round["learned"], 12, "{round}");
    tokio::time::sleep(colloquy::service::MODEL_RECHECK + Duration::from_millis(300)).await;
    // The same comment, before and after a reader reports it: only the
    // report differs.
    let a = app
        .post_ok("default", "rep", json!({ "body": ordinary(100) }))
        .await;
    let id = a["id"].as_i64().unwrap();
    let before = score_of(&app, id).await;
    report(&app, id).await;
    let after = score_of(&app, id).await;
    assert!(after > before, "before the report {before}, after {after}");
}

async fn post_from(app: &TestApp, ip: &str, body: &str) -> Value {
    let r = app
        .client
        .post(app.url("/api/v1/sites/default/threads/speed/comments"))
        .header("x-forwarded-for", ip)
        .json(&json!({ "body": body }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json().await.unwrap()
}

async fn the_model_learns_how_fast_an_address_posts(db: Db) {
    let proxies = colloquy::net::TrustedProxies::parse(&["127.0.0.1"]).unwrap();
    let Some(app) = spawn_with(db, move |c| c.trusted_proxies = proxies).await else {
        return;
    };
    app.patch_site("default", json!({ "scoring": true })).await;
    // One address posts again and again (its posts trashed); others post
    // once each (approved). The texts are alike.
    for n in 0..10 {
        let v = post_from(&app, "10.0.0.1", &ordinary(n)).await;
        moderate(&app, v["id"].as_i64().unwrap(), "trash").await;
        let v = post_from(&app, &format!("10.0.1.{n}"), &ordinary(n + 50)).await;
        let id = v["id"].as_i64().unwrap();
        moderate(&app, id, "unpublish").await;
        moderate(&app, id, "approve").await;
    }
    let (_, round) = app
        .admin(Method::POST, &format!("{SITE}/scoring/train"), None)
        .await;
    assert_eq!(round["learned"], 20, "{round}");
    tokio::time::sleep(colloquy::service::MODEL_RECHECK + Duration::from_millis(300)).await;
    // The same text from the busy address and from a new one.
    let text = ordinary(999);
    let busy = post_from(&app, "10.0.0.1", &text).await;
    let new = post_from(&app, "10.0.2.1", &text).await;
    let busy = score_of(&app, busy["id"].as_i64().unwrap()).await;
    let new = score_of(&app, new["id"].as_i64().unwrap()).await;
    assert!(busy > new, "busy address {busy}, new address {new}");
}

async fn the_model_learns_that_links_to_new_domains_are_suspect(db: Db) {
    let Some(app) = spawn_with(db, |_| {}).await else {
        return;
    };
    app.patch_site("default", json!({ "scoring": true })).await;
    let with_link = |n: usize, domain: &str| {
        format!("Interesting, thanks ({n}). There is more on this at https://{domain}/page here.")
    };
    // Approved comments link to domains the site then knows; trashed ones
    // each to a domain nobody linked before.
    for n in 0..10 {
        let v = app
            .post_ok(
                "default",
                "dom",
                json!({ "body": with_link(n, &format!("known{}.example", n % 2)) }),
            )
            .await;
        let id = v["id"].as_i64().unwrap();
        if v["status"] == "published" {
            moderate(&app, id, "unpublish").await;
        }
        moderate(&app, id, "approve").await;
        let v = app
            .post_ok(
                "default",
                "dom",
                json!({ "body": with_link(n + 50, &format!("fresh{n}.example")) }),
            )
            .await;
        moderate(&app, v["id"].as_i64().unwrap(), "trash").await;
    }
    let (_, round) = app
        .admin(Method::POST, &format!("{SITE}/scoring/train"), None)
        .await;
    assert_eq!(round["learned"], 20, "{round}");
    // A domain becomes known after the training (so the model has not
    // learned its name): approved in a comment.
    let v = app
        .post_ok(
            "default",
            "dom",
            json!({ "body": with_link(90, "qzv1.example") }),
        )
        .await;
    let id = v["id"].as_i64().unwrap();
    if v["status"] == "published" {
        moderate(&app, id, "unpublish").await;
    }
    moderate(&app, id, "approve").await;
    tokio::time::sleep(colloquy::service::MODEL_RECHECK + Duration::from_millis(300)).await;
    // The same text linking to it, and to a domain nobody linked before.
    let seen = app
        .post_ok(
            "default",
            "dom2",
            json!({ "body": with_link(99, "qzv1.example") }),
        )
        .await;
    let unseen = app
        .post_ok(
            "default",
            "dom3",
            json!({ "body": with_link(99, "qzv2.example") }),
        )
        .await;
    let seen = score_of(&app, seen["id"].as_i64().unwrap()).await;
    let unseen = score_of(&app, unseen["id"].as_i64().unwrap()).await;
    assert!(unseen > seen, "known domain {seen}, new domain {unseen}");
}
