//! Notifications end to end: comments posted and moderated over HTTP, the
//! notifier delivering to a real webhook receiver and a real SMTP server
//! (both on 127.0.0.1, started here), one-click links followed over HTTP.

use std::future::Future;
use std::time::Duration;

use colloquy::config::{Config, SmtpConfig, SmtpTls};
use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::Sha256;
use sqlx::Row;

use crate::both_backends;
use crate::helpers::{expect_problem, fresh_database, spawn_on, spawn_with, temp_dir, Db, TestApp};
use crate::receivers::{HookReceiver, SmtpReceiver};

both_backends!(
    webhooks_are_signed_retried_and_sent_for_held_and_published_comments,
    a_dead_receiver_never_blocks_or_loses_a_comment,
    moderators_get_held_comments_with_one_click_links,
    reply_emails_go_to_confirmed_addresses_only_and_unsubscribing_sticks,
    moderation_links_work_once_and_only_while_the_comment_is_held,
    failed_deliveries_are_listed_and_can_be_retried,
    without_webhook_or_mail_events_are_logged_but_not_queued,
);

// Several servers share one database on PostgreSQL only (SQLite has one
// writer per file; a single server on it queues and sends alone).
mod two_servers_on_one_database_send_each_event_once {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::two_servers_on_one_database_send_each_event_once(crate::helpers::Db::Postgres).await;
    }
}

pub(crate) const SECRET: &str = "webhook-secret-0123456789";
pub(crate) const MODERATOR: &str = "mod@example.com";

/// Fast polling and retries, a webhook and/or an SMTP server for `default`.
pub(crate) fn notifications(c: &mut Config, hook: Option<&str>, smtp: Option<u16>) {
    c.notify.poll_interval = Duration::from_millis(50);
    c.notify.retry_initial = Duration::from_millis(100);
    c.notify.max_attempts = 3;
    c.rate_limit = false;
    let site = c.sites.iter_mut().find(|s| s.id == "default").unwrap();
    site.webhook_url = hook.map(str::to_owned);
    site.webhook_secret = Some(SECRET.to_owned());
    site.moderator_emails = vec![MODERATOR.to_owned()];
    c.smtp = smtp.map(|port| SmtpConfig {
        host: "127.0.0.1".to_owned(),
        port,
        from: "comments@example.com".to_owned(),
        username: None,
        password: None,
        tls: SmtpTls::None,
    });
}

/// Polls `check` until it gives a value (10 s at most).
pub(crate) async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    for _ in 0..500 {
        if let Some(v) = check().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}

pub(crate) async fn connect(app: &TestApp) -> sqlx::AnyConnection {
    sqlx::any::install_default_drivers();
    <sqlx::AnyConnection as sqlx::Connection>::connect(&app.database_url)
        .await
        .expect("database")
}

pub(crate) async fn count(app: &TestApp, sql: &str) -> i64 {
    let mut conn = connect(app).await;
    sqlx::query(sql)
        .fetch_one(&mut conn)
        .await
        .expect("query")
        .try_get::<i64, _>(0)
        .expect("count")
}

/// Waits until every flagged event is queued and no delivery is pending.
pub(crate) async fn settle(app: &TestApp) {
    eventually("the notifier to finish", || async {
        let flagged = count(app, "SELECT COUNT(*) FROM audit_log WHERE notify = 1").await;
        let pending = count(app, "SELECT COUNT(*) FROM outbox WHERE state = 'pending'").await;
        (flagged == 0 && pending == 0).then_some(())
    })
    .await;
}

/// `(state, attempts, last_error)` of the deliveries of a comment, oldest first.
async fn deliveries(app: &TestApp, kind: &str, comment: i64) -> Vec<(String, i64, Option<String>)> {
    let mut conn = connect(app).await;
    sqlx::query(
        "SELECT state, attempts, last_error FROM outbox WHERE kind = $1 AND comment_id = $2 ORDER BY id",
    )
    .bind(kind)
    .bind(comment)
    .fetch_all(&mut conn)
    .await
    .expect("outbox")
    .iter()
    .map(|r| (r.get("state"), r.get("attempts"), r.get("last_error")))
    .collect()
}

pub(crate) fn held_body() -> &'static str {
    "Buy now at http://a.example and http://b.example"
}

fn signature_ok(timestamp: &str, body: &[u8], header: &str) -> bool {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    header == format!("sha256={hex}")
}

async fn webhooks_are_signed_retried_and_sent_for_held_and_published_comments(db: Db) {
    // The receiver fails the first request, then accepts.
    let hooks = HookReceiver::start(&[500]).await;
    let url = hooks.url.clone();
    let Some(app) = spawn_with(db, |c| notifications(c, Some(&url), None)).await else {
        return;
    };
    let held = app
        .post_ok(
            "default",
            "news/1",
            json!({"author": "Ann", "email": "ann@example.com", "body": held_body()}),
        )
        .await;
    assert_eq!(held["status"], "pending");
    let id = held["id"].as_i64().unwrap();

    let got = eventually("a retried webhook", || async {
        let r = hooks.received();
        (r.len() >= 2).then_some(r)
    })
    .await;
    assert_eq!((got[0].answered, got[1].answered), (500, 200));
    // A retry is the same delivery with the same body, signed afresh.
    assert_eq!(got[0].body, got[1].body);
    assert_eq!(
        got[0].header("x-colloquy-delivery"),
        got[1].header("x-colloquy-delivery")
    );
    let hook = &got[1];
    assert_eq!(hook.header("content-type"), "application/json");
    assert_eq!(hook.header("x-colloquy-event"), "comment.held");
    let ts = hook.header("x-colloquy-timestamp");
    assert!(
        signature_ok(ts, &hook.body, hook.header("x-colloquy-signature")),
        "{:?}",
        hook.headers
    );
    // Changing a byte of the body or the timestamp breaks the signature.
    let mut forged = hook.body.clone();
    forged[0] = b' ';
    assert!(!signature_ok(
        ts,
        &forged,
        hook.header("x-colloquy-signature")
    ));
    assert!(!signature_ok(
        "1",
        &hook.body,
        hook.header("x-colloquy-signature")
    ));

    let p = hook.json();
    assert_eq!(p["event"], "comment.held");
    assert_eq!(p["site"], "default");
    assert_eq!(p["thread"], "news/1");
    assert_eq!(p["comment_id"], id);
    assert_eq!(p["status"], "pending");
    assert_eq!(p["author"], "Ann");
    assert_eq!(p["action"], "post");
    assert_eq!(p["html"], held["html"]);
    assert_eq!(p["reasons"], held["reasons"]);
    assert_eq!(p["created"], held["created"]);
    // The payload never carries the author's e-mail or IP hash.
    assert!(!String::from_utf8_lossy(&hook.body).contains("ann@example.com"));
    // The outbox keeps the history: one delivery, sent at the second attempt.
    let rows = eventually("the delivery to be recorded as sent", || async {
        let rows = deliveries(&app, "webhook", id).await;
        rows.iter().all(|r| r.0 == "sent").then_some(rows)
    })
    .await;
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].1, rows[0].2.as_deref()), (2, None));

    // Approval publishes it: a second event, from the moderator's action.
    let (s, _) = app
        .admin(
            Method::POST,
            &format!("/api/v1/admin/sites/default/comments/{id}/approve"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let published = eventually("comment.published", || async {
        hooks
            .received()
            .into_iter()
            .find(|h| h.header("x-colloquy-event") == "comment.published")
    })
    .await;
    let p = published.json();
    assert_eq!(
        (p["comment_id"].as_i64(), &p["status"], &p["action"]),
        (Some(id), &json!("published"), &json!("approve"))
    );

    // A comment the rules publish at once is announced as published.
    let plain = app
        .post_ok(
            "default",
            "news/1",
            json!({"author": "Bo", "body": "Nice."}),
        )
        .await;
    let p = eventually("comment.published for a new post", || async {
        hooks
            .received()
            .into_iter()
            .map(|h| h.json())
            .find(|p| p["comment_id"] == plain["id"])
    })
    .await;
    assert_eq!(
        (&p["event"], &p["action"]),
        (&json!("comment.published"), &json!("post"))
    );
    settle(&app).await;
    // Nothing is sent twice: three events, three 2xx deliveries.
    let ok: Vec<_> = hooks
        .received()
        .into_iter()
        .filter(|h| h.answered == 200)
        .collect();
    assert_eq!(ok.len(), 3, "{ok:?}");
}

async fn a_dead_receiver_never_blocks_or_loses_a_comment(db: Db) {
    // A port that nothing listens on: every attempt is refused.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/hook", l.local_addr().unwrap())
    };
    let Some(app) = spawn_with(db, |c| notifications(c, Some(&dead), None)).await else {
        return;
    };
    let c = app
        .post_ok(
            "default",
            "t",
            json!({"author": "Ann", "body": "Still here?"}),
        )
        .await;
    let id = c["id"].as_i64().unwrap();
    // Stored and listed at once, whatever the webhook does.
    let listed = app.list("default", "t", "").await;
    assert_eq!(listed["comments"][0]["id"], id);

    // Three attempts (the configured maximum), then kept as failed.
    let rows = eventually("the delivery to fail for good", || async {
        let rows = deliveries(&app, "webhook", id).await;
        rows.first()
            .is_some_and(|r| r.0 == "failed")
            .then_some(rows)
    })
    .await;
    assert_eq!(rows[0].1, 3);
    let error = rows[0].2.clone().unwrap_or_default();
    assert!(error.contains("POST http://127.0.0.1:"), "{error}");
    // Further posts are unaffected.
    let again = app
        .post_ok("default", "t", json!({"author": "Bo", "body": "And me"}))
        .await;
    assert_eq!(again["status"], "published");
    assert_eq!(
        app.list("default", "t", "").await["comments"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

async fn moderators_get_held_comments_with_one_click_links(db: Db) {
    let smtp = SmtpReceiver::start().await;
    let port = smtp.port;
    let Some(app) = spawn_with(db, |c| notifications(c, None, Some(port))).await else {
        return;
    };
    // A published comment e-mails no moderator.
    app.post_ok("default", "news/2", json!({"body": "fine"}))
        .await;
    let held = app
        .post_ok(
            "default",
            "news/2",
            json!({"author": "Ann", "email": "ann@example.com", "body": held_body()}),
        )
        .await;
    let id = held["id"].as_i64().unwrap();
    let mail = eventually("the moderator e-mail", || async {
        smtp.to(MODERATOR).pop()
    })
    .await;
    settle(&app).await;
    assert_eq!(smtp.received().len(), 1, "only the held comment is mailed");
    assert_eq!(mail.from, "comments@example.com");
    assert!(
        mail.header("subject").contains("held for moderation"),
        "{:?}",
        mail.headers
    );
    assert!(mail.header("subject").contains("news/2"));
    assert_eq!(mail.header("auto-submitted"), "auto-generated");
    assert!(mail.text.contains("Ann <ann@example.com>"), "{}", mail.text);
    assert!(mail.text.contains(held_body()));
    assert!(mail.text.contains("held: 2 links"), "{}", mail.text);

    let approve = mail.link("approve");
    assert!(
        approve.starts_with(&format!(
            "{}/notify/default/comments/{id}/approve?",
            app.base
        )),
        "{approve}"
    );
    assert!(mail.link("spam").contains("/spam?"));
    assert!(mail.link("trash").contains("/trash?"));

    // Opening the link (as a mail scanner would) only shows a button.
    let page = app.client.get(&approve).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    let html = page.text().await.unwrap();
    assert!(html.contains("<form method=\"post\""), "{html}");
    assert!(html.contains("Ann"));
    let (_, queue) = app
        .admin(Method::GET, "/api/v1/admin/sites/default/comments", None)
        .await;
    assert_eq!(queue["comments"][0]["id"], id, "still pending after GET");

    // A link signed for one action or comment does not work for another.
    let as_spam = approve.replace("/approve?", "/spam?");
    let r = app.client.post(&as_spam).send().await.unwrap();
    expect_problem(r, StatusCode::FORBIDDEN).await;
    let other = approve.replace(
        &format!("/comments/{id}/"),
        &format!("/comments/{}/", id + 1),
    );
    let r = app.client.post(&other).send().await.unwrap();
    expect_problem(r, StatusCode::FORBIDDEN).await;
    let cut = &approve[..approve.len() - 3];
    let r = app.client.post(cut).send().await.unwrap();
    expect_problem(r, StatusCode::FORBIDDEN).await;
    assert!(
        app.list("default", "news/2", "").await["comments"]
            .as_array()
            .unwrap()
            .len()
            == 1
    );

    // A correctly signed link past its expiry is refused too.
    let signer = colloquy::keys::Keys::read_file(&app.key_file)
        .unwrap()
        .link_signer();
    let now = colloquy::clock::now_ms() / 1000;
    let link = |expires: i64| colloquy::notify::links::Link {
        site: "default".to_owned(),
        comment: id,
        action: colloquy::notify::links::LinkAction::Approve,
        from: Some(colloquy::comment::Status::Pending),
        nonce: Some("test-nonce".to_owned()),
        expires,
    };
    let expired = signer.url(&app.base, &link(now - 60));
    let still_valid = signer.url(&app.base, &link(now + 60));
    let r = app.client.post(&expired).send().await.unwrap();
    let v = expect_problem(r, StatusCode::FORBIDDEN).await;
    assert!(v["detail"].as_str().unwrap().contains("expired"), "{v}");
    assert_eq!(
        app.client.get(&still_valid).send().await.unwrap().status(),
        StatusCode::OK
    );

    // The button: published, and audited like any moderator action.
    let done = app.client.post(&approve).send().await.unwrap();
    assert_eq!(done.status(), StatusCode::OK);
    assert!(done.text().await.unwrap().contains("published"));
    let listed = app.list("default", "news/2", "").await;
    assert!(listed["comments"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["id"] == id));
    let (_, log) = app
        .admin(
            Method::GET,
            &format!("/api/v1/admin/sites/default/audit?comment={id}"),
            None,
        )
        .await;
    let last = &log["entries"][0];
    assert_eq!(
        (&last["action"], &last["actor"], &last["status"]),
        (&json!("approve"), &json!("system"), &json!("published")),
        "{log}"
    );
}

async fn reply_emails_go_to_confirmed_addresses_only_and_unsubscribing_sticks(db: Db) {
    let smtp = SmtpReceiver::start().await;
    let port = smtp.port;
    let Some(app) = spawn_with(db, |c| {
        notifications(c, None, Some(port));
        // Moderator mails are tested above; keep this mailbox to replies.
        c.sites[0].moderator_emails.clear();
    })
    .await
    else {
        return;
    };
    let post = |body: Value| app.post_ok("default", "replies/r", body);
    let pat = post(json!({"author": "Pat", "email": "pat@example.com", "notify_replies": true, "body": "First!"})).await;
    let quinn =
        post(json!({"author": "Quinn", "email": "quinn@example.com", "body": "No mail for me"}))
            .await;

    // Asking for reply e-mails brings a confirmation, holding nothing the
    // poster wrote: not the name, the text or the thread.
    let confirmation = eventually("the confirmation e-mail", || async {
        smtp.to("pat@example.com").pop()
    })
    .await;
    assert!(
        confirmation.header("subject").contains("Confirm"),
        "{:?}",
        confirmation.headers
    );
    for written in ["Pat", "First!", "replies/r"] {
        assert!(
            !confirmation.text.contains(written)
                && !confirmation.header("subject").contains(written),
            "{written} in {}",
            confirmation.text
        );
    }
    let never = confirmation.link("unsubscribe");
    assert_eq!(
        confirmation.header("list-unsubscribe"),
        format!("<{never}>")
    );
    // Unconfirmed: a reply sends no reply e-mail, and asking again within
    // a day sends no second confirmation.
    post(json!({"author": "Rae", "email": "rae@example.com", "body": "Before you confirmed", "parent": pat["id"]})).await;
    post(json!({"author": "Pat", "email": "Pat@Example.com", "notify_replies": true, "body": "Again"})).await;
    settle(&app).await;
    assert_eq!(smtp.received().len(), 1, "{:?}", smtp.received());

    // Opening the link only shows a button; the button confirms.
    let confirm = confirmation.link("confirm");
    let page = app.client.get(&confirm).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("<form method=\"post\""));
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM reply_subscriptions").await,
        0
    );
    let r = app.client.post(&confirm).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    post(json!({"author": "Rae", "email": "rae@example.com", "body": "I agree with Pat", "parent": pat["id"]})).await;
    // Pat answering Pat, and a reply to someone who did not opt in: no mail.
    post(json!({"author": "Pat", "email": "PAT@example.com", "body": "Adding more", "parent": pat["id"]})).await;
    post(json!({"author": "Rae", "email": "rae@example.com", "body": "Hi Quinn", "parent": quinn["id"]})).await;
    // A held reply: no mail until it is published.
    let held = post(json!({"author": "Sam", "body": held_body(), "parent": pat["id"]})).await;
    assert_eq!(held["status"], "pending");
    settle(&app).await;

    let to_pat = smtp.to("pat@example.com");
    assert_eq!(to_pat.len(), 2, "{to_pat:?}");
    let mail = &to_pat[1];
    assert!(
        mail.header("subject").contains("Rae replied"),
        "{:?}",
        mail.headers
    );
    assert!(mail.text.contains("I agree with Pat"), "{}", mail.text);
    assert!(mail.text.contains("First!"));
    // The reply on the server's thread page.
    let thread_link = mail
        .links()
        .into_iter()
        .find(|l| l.contains("/sites/default/threads/replies%2Fr#comment-"))
        .unwrap_or_else(|| panic!("no thread link in {}", mail.text));
    let page = app.client.get(&thread_link).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("I agree with Pat"));
    let unsubscribe = mail.link("unsubscribe");
    assert_eq!(mail.header("list-unsubscribe"), format!("<{unsubscribe}>"));
    assert_eq!(
        mail.header("list-unsubscribe-post"),
        "List-Unsubscribe=One-Click"
    );

    let (s, _) = app
        .admin(
            Method::POST,
            &format!(
                "/api/v1/admin/sites/default/comments/{}/approve",
                held["id"]
            ),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    settle(&app).await;
    let to_pat = smtp.to("pat@example.com");
    assert_eq!(to_pat.len(), 3);
    assert!(to_pat[2].header("subject").contains("Sam replied"));
    // Unpublishing and approving again does not mail the same reply twice.
    for action in ["unpublish", "approve"] {
        app.admin(
            Method::POST,
            &format!(
                "/api/v1/admin/sites/default/comments/{}/{action}",
                held["id"]
            ),
            None,
        )
        .await;
    }
    settle(&app).await;
    assert_eq!(smtp.to("pat@example.com").len(), 3);

    // RFC 8058 one-click: a POST with the form body mail clients send.
    let r = app
        .client
        .post(&unsubscribe)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM comments WHERE notify_replies = 1"
        )
        .await,
        0
    );
    // The suppression list keeps a keyed hash, not the address.
    let mut conn = connect(&app).await;
    let rows = sqlx::query("SELECT address_hash, state FROM reply_subscriptions")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let hash: String = rows[0].get("address_hash");
    assert_eq!(rows[0].get::<String, _>("state"), "suppressed");
    assert!(
        hash.len() == 64 && !hash.contains('@') && !hash.contains("pat"),
        "{hash}"
    );
    post(json!({"author": "Rae", "email": "rae@example.com", "body": "Are you still there?", "parent": pat["id"]})).await;
    // Posting again and asking for reply e-mails does not undo it: no
    // confirmation (a day later either), no reply e-mail.
    app.sql("UPDATE outbox SET created = created - 90000000, dedupe_key = dedupe_key || ':aged'")
        .await;
    let back = post(json!({"author": "Pat", "email": "pat@EXAMPLE.com", "notify_replies": true, "body": "Back again"})).await;
    post(json!({"author": "Rae", "email": "rae@example.com", "body": "Welcome back", "parent": back["id"]})).await;
    settle(&app).await;
    assert_eq!(
        smtp.to("pat@example.com").len(),
        3,
        "no mail at all after unsubscribing"
    );
    // Nor can the old confirmation link subscribe the address again.
    let r = app.client.post(&confirm).send().await.unwrap();
    let v = expect_problem(r, StatusCode::CONFLICT).await;
    assert!(v["detail"].as_str().unwrap().contains("no e-mail"), "{v}");
    let r = app.client.get(&confirm).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(!r.text().await.unwrap().contains("<form"));
}

/// The moderator e-mail about comment `id`.
async fn moderator_mail_about(smtp: &SmtpReceiver, id: i64) -> crate::receivers::Mail {
    eventually("the moderator e-mail", || async {
        smtp.to(MODERATOR).into_iter().find(|m| {
            m.link("approve")
                .contains(&format!("/comments/{id}/approve?"))
        })
    })
    .await
}

async fn status_of(app: &TestApp, id: i64) -> String {
    let (s, c) = app
        .admin(
            Method::GET,
            &format!("/api/v1/admin/sites/default/comments/{id}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    c["status"].as_str().unwrap().to_owned()
}

async fn moderation_links_work_once_and_only_while_the_comment_is_held(db: Db) {
    let smtp = SmtpReceiver::start().await;
    let port = smtp.port;
    let Some(app) = spawn_with(db, |c| notifications(c, None, Some(port))).await else {
        return;
    };
    // Marked as spam by a moderator after the e-mail went out: the e-mail's
    // approve link must not publish it again.
    let spam = app
        .post_ok(
            "default",
            "once",
            json!({"author": "Ann", "body": held_body()}),
        )
        .await;
    let spam_id = spam["id"].as_i64().unwrap();
    let mail = moderator_mail_about(&smtp, spam_id).await;
    let approve = mail.link("approve");
    assert!(approve.contains("?from=pending&n="), "{approve}");
    let (s, _) = app
        .admin(
            Method::POST,
            &format!("/api/v1/admin/sites/default/comments/{spam_id}/spam"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let page = app.client.get(&approve).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::CONFLICT);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("moderated since this e-mail was sent: it is now spam"),
        "{html}"
    );
    assert!(!html.contains("<form"), "no button: {html}");
    let r = app.client.post(&approve).send().await.unwrap();
    let v = expect_problem(r, StatusCode::CONFLICT).await;
    assert!(
        v["detail"].as_str().unwrap().contains("it is now spam"),
        "{v}"
    );
    assert_eq!(v["code"], "moderated_since");
    assert_eq!(status_of(&app, spam_id).await, "spam");

    // A link works once; then it, and every other link of its e-mail, is
    // refused, and the GET page says so.
    let held = app
        .post_ok(
            "default",
            "twice",
            json!({"author": "Bo", "body": held_body()}),
        )
        .await;
    let id = held["id"].as_i64().unwrap();
    let mail = moderator_mail_about(&smtp, id).await;
    let (approve, spam_link) = (mail.link("approve"), mail.link("spam"));
    let r = app.client.post(&approve).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("published"));
    for link in [&approve, &spam_link] {
        let r = app.client.post(link).send().await.unwrap();
        let v = expect_problem(r, StatusCode::CONFLICT).await;
        assert_eq!(v["code"], "link_used", "{v}");
        assert!(
            v["detail"].as_str().unwrap().contains("already used"),
            "{v}"
        );
        let page = app.client.get(link).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::CONFLICT);
        let html = page.text().await.unwrap();
        assert!(html.contains("this link was already used"), "{html}");
        assert!(!html.contains("<form"));
    }
    assert_eq!(status_of(&app, id).await, "published");
    // One action recorded, by the link.
    let (_, log) = app
        .admin(
            Method::GET,
            &format!("/api/v1/admin/sites/default/audit?comment={id}"),
            None,
        )
        .await;
    let actions: Vec<&Value> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["action"])
        .collect();
    assert_eq!(actions, [&json!("approve"), &json!("post")], "{log}");

    // A nonce the server never signed is not a way around it.
    let forged = approve.replacen("&n=", "&n=x", 1);
    let r = app.client.post(&forged).send().await.unwrap();
    expect_problem(r, StatusCode::FORBIDDEN).await;
}

async fn two_servers_on_one_database_send_each_event_once(db: Db) {
    let hooks = HookReceiver::start(&[]).await;
    let url = hooks.url.clone();
    let dir = temp_dir();
    let Some(database) = fresh_database(db, &dir).await else {
        return;
    };
    let a = spawn_on(database.clone(), dir.clone(), |c| {
        notifications(c, Some(&url), None)
    })
    .await;
    let keys = a.key_file.clone();
    let b = spawn_on(database, temp_dir(), |c| {
        notifications(c, Some(&url), None);
        c.key_file = Some(keys);
    })
    .await;
    let mut ids = Vec::new();
    for i in 0..12 {
        let server = if i % 2 == 0 { &a } else { &b };
        let c = server
            .post_ok("default", "busy", json!({"body": format!("comment {i}")}))
            .await;
        ids.push(c["id"].as_i64().unwrap());
    }
    settle(&a).await;
    let mut seen: Vec<i64> = hooks
        .received()
        .iter()
        .map(|h| h.json()["comment_id"].as_i64().unwrap())
        .collect();
    seen.sort_unstable();
    ids.sort_unstable();
    assert_eq!(seen, ids, "every event delivered exactly once");
}

async fn failed_deliveries_are_listed_and_can_be_retried(db: Db) {
    // Down for the three allowed attempts, back up for the retry.
    let hooks = HookReceiver::start(&[503, 503, 503]).await;
    let url = hooks.url.clone();
    let Some(app) = spawn_with(db, |c| notifications(c, Some(&url), None)).await else {
        return;
    };
    let c = app.post_ok("default", "f", json!({"body": "hello"})).await;
    let list = "/api/v1/admin/sites/default/deliveries";
    let failed = eventually("a failed delivery", || async {
        let (s, v) = app
            .admin(Method::GET, &format!("{list}?state=failed"), None)
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v["deliveries"].as_array().and_then(|d| d.first().cloned())
    })
    .await;
    assert_eq!(failed["comment_id"], c["id"]);
    assert_eq!(
        (&failed["kind"], &failed["target"], &failed["attempts"]),
        (&json!("webhook"), &json!(url), &json!(3))
    );
    assert!(
        failed["last_error"].as_str().unwrap().contains("HTTP 503"),
        "{failed}"
    );
    assert_eq!(hooks.received().len(), 3);

    let retry = format!("{list}/{}/retry", failed["id"]);
    let (s, v) = app.admin(Method::POST, &retry, None).await;
    assert_eq!((s, &v["state"]), (StatusCode::OK, &json!("pending")), "{v}");
    let sent = eventually("the retried delivery to be sent", || async {
        let (_, v) = app
            .admin(Method::GET, &format!("{list}?state=sent"), None)
            .await;
        v["deliveries"].as_array().and_then(|d| d.first().cloned())
    })
    .await;
    assert_eq!((&sent["id"], &sent["attempts"]), (&failed["id"], &json!(1)));
    let got = hooks.received();
    assert_eq!(
        got.iter().map(|h| h.answered).collect::<Vec<_>>(),
        [503, 503, 503, 200]
    );

    // Only failed deliveries can be retried; bad queries are named.
    let (s, _) = app.admin(Method::POST, &retry, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let r = app
        .client
        .get(app.url(&format!("{list}?state=lost")))
        .bearer_auth(crate::helpers::ADMIN)
        .send()
        .await
        .unwrap();
    let v = expect_problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(v["field"], "state");
    let (_, doc) = app.get_json("/api/openapi.json").await;
    for path in [
        "/api/v1/admin/sites/{site}/deliveries",
        "/api/v1/admin/sites/{site}/deliveries/{id}/retry",
        "/notify/{site}/comments/{id}/{action}",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} is documented");
    }
    // Another site's moderators see none of this.
    let (s, _) = app
        .admin_as(crate::helpers::OTHER_ADMIN, Method::GET, list, None)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

async fn without_webhook_or_mail_events_are_logged_but_not_queued(db: Db) {
    let Some(app) = spawn_with(db, |c| notifications(c, None, None)).await else {
        return;
    };
    app.post_ok("default", "quiet", json!({"body": "published"}))
        .await;
    let held = app
        .post_ok("default", "quiet", json!({"body": held_body()}))
        .await;
    assert_eq!(held["status"], "pending");
    let id = held["id"].as_i64().unwrap();
    let (status, _) = app
        .admin(
            Method::POST,
            &format!("/api/v1/admin/sites/default/comments/{id}/approve"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // Every decision is in the audit log; none waits for the notifier,
    // which has nothing to send and so nothing to write.
    assert_eq!(count(&app, "SELECT COUNT(*) FROM audit_log").await, 3);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM audit_log WHERE notify = 1").await,
        0
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(count(&app, "SELECT COUNT(*) FROM outbox").await, 0);
}
