//! Moderation rules through HTTP, one story per rule: what each decides,
//! the reasons it gives, the audit log, queue search, rate limits, and the
//! privacy endpoints.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{expect_problem, spawn, spawn_with, Db, TestApp, ADMIN};

both_backends!(
    settings_are_shown_changed_and_checked_without_restart,
    moderation_keys_hold_and_disallowed_keys_spam,
    trusted_authors_skip_the_queue_once_approved,
    threads_close_themselves_after_n_days,
    reply_depth_and_length_limits_refuse_with_a_field,
    honeypot_and_form_timing_judge_form_posts,
    rate_limits_answer_429_with_retry_after_and_store_nothing,
    the_audit_log_records_decisions_and_moderator_actions,
    the_queue_is_searchable_and_actions_apply_in_bulk,
    privacy_export_and_erase_by_email,
    edits_are_judged_again,
    the_local_spam_model_holds_and_marks_spam_with_its_reasons,
);

const SITE: &str = "/api/v1/admin/sites/default";

async fn queue(app: &TestApp, query: &str) -> Vec<Value> {
    let (s, v) = app
        .admin(Method::GET, &format!("{SITE}/comments{query}"), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["comments"].as_array().cloned().unwrap_or_default()
}

async fn audit(app: &TestApp, query: &str) -> Vec<Value> {
    let (s, v) = app
        .admin(Method::GET, &format!("{SITE}/audit{query}"), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["entries"].as_array().cloned().unwrap_or_default()
}

async fn settings_are_shown_changed_and_checked_without_restart(db: Db) {
    let Some(app) = spawn(db).await else { return };
    let (s, site) = app.admin(Method::GET, SITE, None).await;
    assert_eq!(s, StatusCode::OK);
    // The documented defaults of a new site.
    assert_eq!(site["moderation"], "rules");
    assert_eq!(site["hold_links"], 2);
    assert_eq!(site["moderation_keys"], json!([]));
    assert_eq!(site["disallowed_keys"], json!([]));
    assert_eq!(site["trust_approved_authors"], false);
    assert_eq!(site["honeypot"], true);
    assert_eq!(site["max_depth"], 10);
    assert!(site["ip_posts_per_minute"].as_u64().unwrap() > 0);

    let changed = app
        .patch_site(
            "default",
            json!({"moderation_keys": ["viagra", "/c[a4]sino/"], "max_chars": 500}),
        )
        .await;
    assert_eq!(changed["moderation_keys"], json!(["viagra", "/c[a4]sino/"]));
    assert_eq!(changed["max_chars"], 500);
    assert_eq!(changed["hold_links"], 2, "untouched settings stay");
    let (_, again) = app.admin(Method::GET, SITE, None).await;
    assert_eq!(again, changed);

    // Bad values: a broken expression, an unknown setting, a wrong type,
    // an out-of-range number. Each names its field and changes nothing.
    for (body, field) in [
        (
            json!({"moderation_keys": ["ok", "/(broken/"]}),
            "moderation_keys",
        ),
        (json!({"max_dept": 3}), "max_dept"),
        (json!({"honeypot": "yes please"}), "honeypot"),
        (json!({"close_after_days": 99_999_999}), "close_after_days"),
    ] {
        let r = app
            .client
            .patch(app.url(SITE))
            .bearer_auth(ADMIN)
            .json(&body)
            .send()
            .await
            .unwrap();
        let p = expect_problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(p["field"], field, "{p}");
    }
    let (_, unchanged) = app.admin(Method::GET, SITE, None).await;
    assert_eq!(unchanged, changed);
}

async fn moderation_keys_hold_and_disallowed_keys_spam(db: Db) {
    let Some(app) = spawn(db).await else { return };
    app.patch_site(
        "default",
        json!({"moderation_keys": ["bitcoin", "127.0.0."], "disallowed_keys": ["/c[a4]sino/"]}),
    )
    .await;
    let held = app
        .post_ok("default", "k", json!({"body": "I love Bitcoin"}))
        .await;
    assert_eq!(held["status"], "pending");
    assert_eq!(
        held["reasons"],
        json!(["held: matched moderation key 'bitcoin' in body"])
    );
    let spam = app
        .post_ok(
            "default",
            "k",
            json!({"body": "hello", "author": "C4sino King"}),
        )
        .await;
    assert_eq!(spam["status"], "spam");
    assert_eq!(
        spam["reasons"],
        json!(["spam: matched disallowed key '/c[a4]sino/' in name"])
    );
    // Keys can name addresses: this client is 127.0.0.1.
    let by_ip = app.post_ok("default", "k", json!({"body": "hi"})).await;
    assert_eq!(
        by_ip["reasons"],
        json!(["held: matched moderation key '127.0.0.' in IP"])
    );
    // Removing the keys takes effect on the next post.
    app.patch_site("default", json!({"moderation_keys": []}))
        .await;
    let ok = app
        .post_ok("default", "k", json!({"body": "Bitcoin again"}))
        .await;
    assert_eq!(ok["status"], "published");
    assert_eq!(ok["reasons"], json!(["published: no rule held it"]));
    // Moderators see the reasons in the queue.
    let q = queue(&app, "?status=pending,spam").await;
    assert_eq!(q.len(), 3);
    let spam_item = q.iter().find(|c| c["id"] == spam["id"]).unwrap();
    assert_eq!(spam_item["reasons"], spam["reasons"]);
    // Nothing held or spam shows in the thread.
    let listed = app.list("default", "k", "").await;
    assert_eq!(listed["comments"].as_array().unwrap().len(), 1);
}

async fn trusted_authors_skip_the_queue_once_approved(db: Db) {
    let Some(app) = spawn(db).await else { return };
    app.patch_site("default", json!({"trust_approved_authors": true}))
        .await;
    let two_links = "read http://a.example and http://b.example";
    let first = app
        .post_ok(
            "default",
            "t",
            json!({"body": two_links, "email": "ann@example.com"}),
        )
        .await;
    assert_eq!(first["status"], "pending", "a stranger is held");
    let path = format!("{SITE}/comments/{}/approve", first["id"]);
    let (s, _) = app.admin(Method::POST, &path, None).await;
    assert_eq!(s, StatusCode::OK);
    let second = app
        .post_ok(
            "default",
            "t",
            json!({"body": format!("{two_links} again"), "email": "ann@example.com"}),
        )
        .await;
    assert_eq!(second["status"], "published");
    assert_eq!(
        second["reasons"],
        json!(["published: trusted author, 1 earlier comment approved"])
    );
    // Someone else is not trusted, and the rule can be switched off.
    let other = app
        .post_ok(
            "default",
            "t",
            json!({"body": format!("{two_links}!"), "email": "bob@example.com"}),
        )
        .await;
    assert_eq!(other["status"], "pending");
    app.patch_site("default", json!({"trust_approved_authors": false}))
        .await;
    let off = app
        .post_ok(
            "default",
            "t",
            json!({"body": format!("{two_links}?"), "email": "ann@example.com"}),
        )
        .await;
    assert_eq!(off["status"], "pending");
}

async fn threads_close_themselves_after_n_days(db: Db) {
    let Some(app) = spawn(db).await else { return };
    app.patch_site("default", json!({"close_after_days": 3}))
        .await;
    app.post_ok("default", "old", json!({"body": "first"}))
        .await;
    app.post_ok("default", "new", json!({"body": "first"}))
        .await;
    // Make the thread four days old.
    let four_days_ago = colloquy::clock::now_ms() - 4 * 86_400_000;
    app.sql(&format!(
        "UPDATE threads SET created = {four_days_ago} WHERE thread_key = 'old'"
    ))
    .await;
    let before = app.sql_count("SELECT COUNT(*) FROM comments").await;
    let r = app.post("default", "old", json!({"body": "late"})).await;
    let p = expect_problem(r, StatusCode::FORBIDDEN).await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("closed automatically 3 days after its first comment"),
        "{p}"
    );
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM comments").await, before);
    app.post_ok("default", "new", json!({"body": "still open"}))
        .await;
}

async fn reply_depth_and_length_limits_refuse_with_a_field(db: Db) {
    let Some(app) = spawn(db).await else { return };
    app.patch_site("default", json!({"max_depth": 2, "max_chars": 20}))
        .await;
    let top = app.post_ok("default", "d", json!({"body": "top"})).await;
    let reply = app
        .post_ok(
            "default",
            "d",
            json!({"body": "reply", "parent": top["id"]}),
        )
        .await;
    let r = app
        .post(
            "default",
            "d",
            json!({"body": "too deep", "parent": reply["id"]}),
        )
        .await;
    let p = expect_problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(p["field"], "parent");
    assert!(
        p["detail"].as_str().unwrap().contains("at most 2 levels"),
        "{p}"
    );
    let r = app
        .post("default", "d", json!({"body": "x".repeat(21)}))
        .await;
    let p = expect_problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(p["field"], "body");
    assert!(p["detail"].as_str().unwrap().contains("at most 20"), "{p}");
    app.post_ok("default", "d", json!({"body": "x".repeat(20)}))
        .await;
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM comments").await, 3);
}

async fn form_post(app: &TestApp, fields: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .post(app.url(&TestApp::comments_path("default", "f")))
        .form(fields)
        .send()
        .await
        .unwrap()
}

async fn honeypot_and_form_timing_judge_form_posts(db: Db) {
    let Some(app) = spawn_with(db, |c| {
        for s in &mut c.sites {
            s.rules.min_submit_secs = 3;
        }
    })
    .await
    else {
        return;
    };
    // A bot fills every field, the hidden honeypot too.
    let r = form_post(
        &app,
        &[("body", "hello"), ("colloquy_hp", "http://spam.example")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "spam");
    assert_eq!(
        v["reasons"],
        json!(["spam: the hidden honeypot field was filled in"])
    );
    // No stamp, or a forged one: held, saying why.
    for stamp in [None, Some("1700000000000.00112233445566778899aabbccddeeff")] {
        let text = format!("hello there {}", stamp.is_some());
        let mut fields = vec![("body", text.as_str())];
        if let Some(s) = stamp {
            fields.push(("colloquy_ts", s));
        }
        let r = form_post(&app, &fields).await;
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["status"], "pending", "{v}");
        assert_eq!(
            v["reasons"],
            json!(["held: the form's time stamp is missing, expired or invalid"])
        );
    }
    // JSON posts from a server-side client (no browser headers) are not
    // timed; the embed's are (see tests/service/hostile.rs).
    let v = app
        .post_ok("default", "f", json!({"body": "from js"}))
        .await;
    assert_eq!(v["status"], "published");
}

async fn rate_limits_answer_429_with_retry_after_and_store_nothing(db: Db) {
    let Some(app) = spawn_with(db, |c| {
        c.rate_limit = true;
        for s in &mut c.sites {
            s.rules.ip_posts_per_minute = 2;
        }
    })
    .await
    else {
        return;
    };
    app.post_ok("default", "r", json!({"body": "one"})).await;
    app.post_ok("default", "r", json!({"body": "two"})).await;
    let r = app.post("default", "r", json!({"body": "three"})).await;
    let retry: u64 = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=31).contains(&retry), "{retry}");
    let p = expect_problem(r, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(p["code"], "rate_limited");
    assert!(p["detail"].as_str().unwrap().contains("2 a minute"), "{p}");
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM comments").await, 2);
    // The site-wide budget is separate and applies to everyone.
    app.patch_site(
        "default",
        json!({"ip_posts_per_minute": 0, "site_posts_per_minute": 1}),
    )
    .await;
    app.post_ok("default", "r", json!({"body": "four"})).await;
    let r = app.post("default", "r", json!({"body": "five"})).await;
    let p = expect_problem(r, StatusCode::TOO_MANY_REQUESTS).await;
    assert!(p["detail"].as_str().unwrap().contains("this site"), "{p}");
    // Reads are never limited.
    for _ in 0..20 {
        app.list("default", "r", "").await;
    }
}

async fn the_audit_log_records_decisions_and_moderator_actions(db: Db) {
    let Some(app) = spawn(db).await else { return };
    let held = app
        .post_ok(
            "default",
            "a",
            json!({"body": "http://a.example http://b.example http://c.example"}),
        )
        .await;
    let id = held["id"].as_i64().unwrap();
    let (s, _) = app
        .admin(Method::POST, &format!("{SITE}/comments/{id}/approve"), None)
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = app
        .admin(Method::POST, &format!("{SITE}/comments/{id}/spam"), None)
        .await;
    assert_eq!(s, StatusCode::OK);
    app.patch_site("default", json!({"hold_links": 5})).await;

    let entries = audit(&app, &format!("?comment={id}")).await;
    let summary: Vec<(String, String, String)> = entries
        .iter()
        .rev()
        .map(|e| {
            (
                e["actor"].as_str().unwrap().to_owned(),
                e["action"].as_str().unwrap().to_owned(),
                e["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let token = format!("token:{}", &colloquy::secret::hash_token(ADMIN)[..8]);
    assert_eq!(
        summary,
        [
            ("rules".to_owned(), "post".to_owned(), "pending".to_owned()),
            (token.clone(), "approve".to_owned(), "published".to_owned()),
            (token.clone(), "spam".to_owned(), "spam".to_owned()),
        ]
    );
    assert_eq!(entries[2]["reasons"], json!(["held: 3 links, limit 2"]));
    assert!(entries[0]["at"].as_str().unwrap().ends_with('Z'));
    // The site-wide log also has the settings change, newest first, and
    // pages with a cursor.
    let all = audit(&app, "").await;
    assert_eq!(all[0]["action"], "site");
    assert_eq!(all[0]["reasons"], json!(["changed hold_links"]));
    let (_, first) = app
        .admin(Method::GET, &format!("{SITE}/audit?limit=2"), None)
        .await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let (_, rest) = app
        .admin(
            Method::GET,
            &format!("{SITE}/audit?limit=2&cursor={cursor}"),
            None,
        )
        .await;
    let paged: Vec<&Value> = first["entries"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rest["entries"].as_array().unwrap())
        .collect();
    assert_eq!(paged.len(), 4);
    assert_eq!(
        paged.iter().map(|e| &e["id"]).collect::<Vec<_>>(),
        all.iter().map(|e| &e["id"]).collect::<Vec<_>>()
    );
    // The log is for admins of the site only.
    let r = app
        .client
        .get(app.url(&format!("{SITE}/audit")))
        .send()
        .await
        .unwrap();
    expect_problem(r, StatusCode::UNAUTHORIZED).await;
}

async fn the_queue_is_searchable_and_actions_apply_in_bulk(db: Db) {
    let Some(app) = spawn(db).await else { return };
    app.patch_site("default", json!({"moderation": "hold"}))
        .await;
    for (body, author, email) in [
        ("Cheap watches 100% off", "Spammy", "s@spam.example"),
        (
            "A thoughtful reply about_tax",
            "Ann Example",
            "ann@example.com",
        ),
        ("Another by Ann", "Ann Example", "ann@example.com"),
    ] {
        app.post_ok(
            "default",
            "s",
            json!({"body": body, "author": author, "email": email}),
        )
        .await;
    }
    let bodies = |q: Vec<Value>| -> Vec<String> {
        q.iter()
            .map(|c| c["body"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        bodies(queue(&app, "?q=WATCHES").await),
        ["Cheap watches 100% off"]
    );
    // `%` and `_` are literal, not wildcards.
    assert_eq!(bodies(queue(&app, "?q=100%25").await).len(), 1);
    assert_eq!(
        bodies(queue(&app, "?q=about_tax").await),
        ["A thoughtful reply about_tax"]
    );
    assert!(queue(&app, "?q=about%25tax").await.is_empty());
    assert_eq!(queue(&app, "?author=ann").await.len(), 2);
    assert_eq!(queue(&app, "?author=spam.example").await.len(), 1);
    let all = queue(&app, "").await;
    let hash = all[0]["ip_hash"].as_str().unwrap().to_owned();
    assert_eq!(queue(&app, &format!("?ip_hash={hash}")).await.len(), 3);
    assert!(queue(&app, "?ip_hash=0000").await.is_empty());
    // Act in bulk on a search result.
    let ann: Vec<i64> = queue(&app, "?author=ann")
        .await
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    let (s, v) = app
        .admin(
            Method::POST,
            &format!("{SITE}/comments/bulk"),
            Some(json!({"action": "approve", "ids": ann})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(queue(&app, "?status=published&author=ann").await.len(), 2);
    assert_eq!(bodies(queue(&app, "").await), ["Cheap watches 100% off"]);
}

async fn privacy_export_and_erase_by_email(db: Db) {
    let Some(app) = spawn(db).await else { return };
    let ann = app
        .post_ok(
            "default",
            "p",
            json!({"body": "mine", "email": "Ann@Example.com", "author": "Ann"}),
        )
        .await;
    app.post_ok(
        "default",
        "p",
        json!({"body": "reply to ann", "email": "bob@example.com", "parent": ann["id"]}),
    )
    .await;
    app.post_ok(
        "default",
        "q",
        json!({"body": "also mine", "email": "Ann@Example.com"}),
    )
    .await;
    let (s, export) = app
        .admin(
            Method::POST,
            &format!("{SITE}/privacy/export"),
            Some(json!({"email": "Ann@Example.com"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{export}");
    let bodies: Vec<&str> = export["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["mine", "also mine"]);
    assert!(export["comments"][0]["ip_hash"].is_string());

    let (s, erased) = app
        .admin(
            Method::POST,
            &format!("{SITE}/privacy/erase"),
            Some(json!({"email": "Ann@Example.com"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{erased}");
    assert_eq!(erased["erased"], 2);
    assert_eq!(
        app.sql_count("SELECT COUNT(*) FROM comments WHERE email = 'Ann@Example.com'")
            .await,
        0
    );
    // Bob's reply stays, now top-level, and the counts follow.
    let listed = app.list("default", "p", "").await;
    let comments = listed["comments"].as_array().unwrap();
    assert_eq!(comments.len(), 1);
    assert!(comments[0]["parent"].is_null());
    let (_, counts) = app
        .get_json("/api/v1/sites/default/counts?thread=p&thread=q")
        .await;
    assert_eq!(counts["counts"], json!({"p": 1, "q": 0}));
    // The audit log says it happened but keeps no address.
    let log = audit(&app, "").await;
    assert_eq!(log[0]["action"], "erase");
    assert!(!log[0]
        .to_string()
        .to_lowercase()
        .contains("ann@example.com"));
    // A bad address is a clear error.
    let r = app
        .client
        .post(app.url(&format!("{SITE}/privacy/erase")))
        .bearer_auth(ADMIN)
        .json(&json!({"email": "not an address"}))
        .send()
        .await
        .unwrap();
    let p = expect_problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(p["field"], "email");
}

async fn edits_are_judged_again(db: Db) {
    let Some(app) = spawn(db).await else { return };
    let posted = app
        .post_ok("default", "e", json!({"body": "harmless"}))
        .await;
    app.patch_site("default", json!({"disallowed_keys": ["casino"]}))
        .await;
    let r = app
        .client
        .patch(app.url(&format!("/api/v1/sites/default/comments/{}", posted["id"])))
        .bearer_auth(posted["edit_token"].as_str().unwrap())
        .json(&json!({"body": "now about a casino"}))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "spam");
    let log = audit(&app, &format!("?comment={}", posted["id"])).await;
    assert_eq!(log[0]["actor"], "author");
    assert_eq!(log[0]["action"], "edit");
    assert_eq!(
        log[0]["reasons"],
        json!(["spam: matched disallowed key 'casino' in body"])
    );
}

both_backends!(
    the_same_text_from_one_address_is_a_duplicate,
    identical_posts_sent_at_once_store_one_comment,
);

async fn the_same_text_from_one_address_is_a_duplicate(db: Db) {
    let Some(app) = spawn(db).await else { return };
    app.post_ok("default", "dup", json!({"body": "no email"}))
        .await;
    let r = app
        .post("default", "dup", json!({"body": "no email"}))
        .await;
    expect_problem(r, StatusCode::CONFLICT).await;
}

/// Posts that arrive together are committed together; a duplicate of a
/// comment in the same group is caught as surely as one already stored.
async fn identical_posts_sent_at_once_store_one_comment(db: Db) {
    let Some(app) = spawn_with(db, |c| c.rate_limit = false).await else {
        return;
    };
    let body = json!({"author": "Ann", "email": "ann@example.com", "body": "Sent twice, or more"});
    let answers = all_at_once(&app, (0..24).map(|_| body.clone())).await;
    let mut created = Vec::new();
    let mut refused = Vec::new();
    for r in answers {
        match r.status() {
            StatusCode::CREATED => created.push(r.json::<Value>().await.unwrap()),
            StatusCode::CONFLICT => refused.push(expect_problem(r, StatusCode::CONFLICT).await),
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(refused.len(), 23);
    let id = created[0]["id"].as_i64().unwrap();
    // Each refusal is the duplicate of the one stored (the only one listed).
    for p in &refused {
        assert_eq!(p["code"], "duplicate_comment", "{p}");
    }
    let listed = app.list("default", "at-once", "").await;
    assert_eq!(listed["comments"].as_array().unwrap().len(), 1);

    // Replies sent together to a comment of the same group are stored too.
    let replies = all_at_once(
        &app,
        (0..8).map(|n| json!({"body": format!("reply {n}"), "parent": id})),
    )
    .await;
    for r in replies {
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let listed = app.list("default", "at-once", "").await;
    assert_eq!(listed["comments"].as_array().unwrap().len(), 9);
}

/// Posts every body to thread `at-once` concurrently; the answers in order.
async fn all_at_once(app: &TestApp, bodies: impl Iterator<Item = Value>) -> Vec<reqwest::Response> {
    let url = app.url(&TestApp::comments_path("default", "at-once"));
    let tasks: Vec<_> = bodies
        .map(|body| {
            let request = app.client.post(&url).json(&body);
            tokio::spawn(async move { request.send().await.expect("request") })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.expect("task"));
    }
    answers
}

async fn the_local_spam_model_holds_and_marks_spam_with_its_reasons(db: Db) {
    let Some(app) = spawn(db).await else { return };
    let spam_text = "Dear friend, you have been selected to receive a FREE bonus! \
        Click here to claim your prize, limited time offer, order now. \
        To be removed from our list reply REMOVE.";
    let ham_text = "I tried the patch from yesterday and the build still fails on my \
        machine; the error is in the config parser. Does anyone know if the test suite runs on Debian?";
    // Off by default: the same text is published.
    let before = app
        .post_ok("default", "s", json!({ "body": spam_text }))
        .await;
    assert_eq!(before["status"], "published");
    // Bad thresholds are refused with the field named, and change nothing.
    let (s, p) = app
        .admin(
            Method::PATCH,
            SITE,
            Some(json!({"scoring": true, "hold_score": 0.99, "spam_score": 0.5})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("hold_score"), "{p}");
    let (_, site) = app.admin(Method::GET, SITE, None).await;
    assert_eq!(site["scoring"], false);

    let site = app.patch_site("default", json!({"scoring": true})).await;
    assert_eq!(site["scoring"], true);
    let spam = app
        .post_ok(
            "default",
            "s",
            json!({ "body": format!("{spam_text} again") }),
        )
        .await;
    assert_eq!(spam["status"], "spam", "{spam}");
    let ham = app
        .post_ok("default", "s", json!({ "body": ham_text }))
        .await;
    assert_eq!(ham["status"], "published", "{ham}");
    // The queue says why, with the score and what pushed it.
    let q = queue(&app, "?status=spam").await;
    let reasons = q[0]["reasons"].to_string();
    let score: f32 = reasons
        .split("spam: spam score ")
        .nth(1)
        .and_then(|r| r.get(..4))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no score in {reasons}"));
    assert!(score >= 0.97, "{reasons}");
    assert!(
        reasons.contains("words:") || reasons.contains("parts of words:"),
        "{reasons}"
    );
    // Holding works by its own threshold: at 0 every comment the spam
    // threshold lets through is held, and says with what score.
    app.patch_site("default", json!({"hold_score": 0.0})).await;
    let held = app
        .post_ok(
            "default",
            "s",
            json!({ "body": format!("{ham_text} Thanks.") }),
        )
        .await;
    assert_eq!(held["status"], "pending", "{held}");
    assert!(
        held["reasons"][0]
            .as_str()
            .unwrap()
            .starts_with("held: spam score 0."),
        "{held}"
    );
}
