//! Privacy over HTTP: an address is one address in any letter case, erasing
//! it erases the notifications that name it, and delivered notifications
//! are not kept past their retention.

use std::path::PathBuf;
use std::time::Duration;

use colloquy::comment::{SiteId, ThreadKey};
use colloquy::policy::PolicySet;
use colloquy::service::{Colloquy, PostInput};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{spawn, spawn_with, test_config, Db, TestApp};
use crate::notify::{count, eventually, held_body, notifications, settle};
use crate::receivers::{HookReceiver, SmtpReceiver};

both_backends!(
    erasing_an_address_takes_every_letter_case_and_its_notifications,
    trust_and_duplicates_know_an_address_in_any_letter_case,
    old_deliveries_are_purged_after_their_retention,
);

const SITE: &str = "/api/v1/admin/sites/default";

async fn privacy(app: &TestApp, what: &str, email: &str) -> Value {
    let (s, v) = app
        .admin(
            Method::POST,
            &format!("{SITE}/privacy/{what}"),
            Some(json!({ "email": email })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

async fn erasing_an_address_takes_every_letter_case_and_its_notifications(db: Db) {
    let hooks = HookReceiver::start(&[]).await;
    let smtp = SmtpReceiver::start().await;
    let (url, port) = (hooks.url.clone(), smtp.port);
    let Some(app) = spawn_with(db, |c| notifications(c, Some(&url), Some(port))).await else {
        return;
    };
    // Erin writes with two spellings of her address: a held comment (a
    // webhook and a moderator e-mail quoting her name, address and text,
    // and a confirmation e-mail to her) and a published one.
    let held = app
        .post_ok(
            "default",
            "privacy/a",
            json!({"author": "Erin", "email": "Erin@Example.org", "notify_replies": true, "body": held_body()}),
        )
        .await;
    let confirmation = eventually("the confirmation to Erin", || async {
        smtp.to("Erin@Example.org").pop()
    })
    .await;
    let r = app
        .client
        .post(confirmation.link("confirm"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let published = app
        .post_ok(
            "default",
            "privacy/a",
            json!({"author": "Erin", "email": "ERIN@example.ORG", "notify_replies": true, "body": "Second thought from me"}),
        )
        .await;
    // Bob's reply: his webhook stays; the reply e-mail to Erin quotes her.
    let bob = app
        .post_ok(
            "default",
            "privacy/a",
            json!({"author": "Bob", "email": "bob@example.com", "body": "Bob answers", "parent": published["id"]}),
        )
        .await;
    settle(&app).await;
    let reply = smtp
        .received()
        .into_iter()
        .find(|m| m.header("subject").contains("Bob replied"))
        .expect("the reply e-mail to Erin");
    assert!(
        reply.text.contains("Second thought from me"),
        "{}",
        reply.text
    );
    let mentions_erin = "SELECT COUNT(*) FROM outbox WHERE LOWER(payload) LIKE '%erin%' \
                         OR LOWER(target) LIKE '%erin%' OR payload LIKE '%Second thought%'";
    assert!(count(&app, mentions_erin).await >= 4);

    // Export and erase find both spellings, whichever is asked for.
    let export = privacy(&app, "export", "erin@example.org").await;
    let ids: Vec<&Value> = export["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["id"])
        .collect();
    assert_eq!(ids, [&held["id"], &published["id"]], "{export}");
    let erased = privacy(&app, "erase", "erin@example.org").await;
    assert_eq!(erased["erased"], 2);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM comments WHERE LOWER(email) LIKE '%erin%' OR LOWER(email_norm) LIKE '%erin%'"
        )
        .await,
        0
    );
    // Nothing in the outbox names her or holds her text any more: not the
    // rows about her comments, not the e-mails to her.
    assert_eq!(count(&app, mentions_erin).await, 0);
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT COUNT(*) FROM outbox WHERE comment_id IN ({}, {})",
                held["id"], published["id"]
            )
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM reply_subscriptions WHERE state = 'confirmed'"
        )
        .await,
        0
    );
    // Bob's own notification is his, and stays.
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT COUNT(*) FROM outbox WHERE comment_id = {}",
                bob["id"]
            )
        )
        .await,
        1
    );
    let (_, list) = app
        .admin(Method::GET, &format!("{SITE}/deliveries"), None)
        .await;
    assert!(!list.to_string().to_lowercase().contains("erin"), "{list}");
}

async fn trust_and_duplicates_know_an_address_in_any_letter_case(db: Db) {
    let Some(app) = spawn(db).await else { return };
    app.patch_site("default", json!({"trust_approved_authors": true}))
        .await;
    let two_links = "read http://a.example and http://b.example";
    let first = app
        .post_ok(
            "default",
            "case",
            json!({"body": two_links, "email": "Ann@Example.com"}),
        )
        .await;
    assert_eq!(first["status"], "pending");
    let (s, _) = app
        .admin(
            Method::POST,
            &format!("{SITE}/comments/{}/approve", first["id"]),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let second = app
        .post_ok(
            "default",
            "case",
            json!({"body": format!("{two_links} again"), "email": "ann@EXAMPLE.com"}),
        )
        .await;
    assert_eq!(second["status"], "published", "{second}");

    // The duplicate check, with no IP address to match on (a CLI or an
    // import posting through the service): the address alone decides.
    let policies = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("policies");
    let service = Colloquy::open(
        test_config(&app.database_url, &app.dir),
        PolicySet::load_dir(&policies).unwrap(),
    )
    .await
    .unwrap();
    let site = SiteId::parse("default").unwrap();
    let thread = ThreadKey::parse("case-dup").unwrap();
    let input = |email: &str| PostInput {
        email: Some(email.to_owned()),
        body: "The very same words".to_owned(),
        ..PostInput::default()
    };
    service
        .post(&site, &thread, input("Dup@Example.com"), None)
        .await
        .unwrap();
    let again = service
        .post(&site, &thread, input("dup@example.COM"), None)
        .await;
    assert!(
        matches!(again, Err(colloquy::error::Error::Conflict { .. })),
        "{again:?}"
    );
    service
        .post(&site, &thread, input("someone.else@example.com"), None)
        .await
        .unwrap();
}

async fn old_deliveries_are_purged_after_their_retention(db: Db) {
    let hooks = HookReceiver::start(&[]).await;
    let url = hooks.url.clone();
    let Some(app) = spawn_with(db, |c| {
        notifications(c, Some(&url), None);
        c.purge_interval = Duration::from_millis(100);
        assert_eq!(c.notify.retention_days, 7, "the documented default");
    })
    .await
    else {
        return;
    };
    let old = app
        .post_ok("default", "purge", json!({"body": "old"}))
        .await;
    let recent = app
        .post_ok("default", "purge", json!({"body": "recent"}))
        .await;
    settle(&app).await;
    let day = 86_400_000i64;
    let now = colloquy::clock::now_ms();
    // The first delivery was sent eight days ago; a failed one is as old;
    // a pending one as old is still to be sent and stays.
    app.sql(&format!(
        "UPDATE outbox SET created = created - {}, sent_at = sent_at - {} WHERE comment_id = {}",
        8 * day,
        8 * day,
        old["id"]
    ))
    .await;
    for (id, state) in [(1, "failed"), (2, "pending")] {
        app.sql(&format!(
            "INSERT INTO outbox (id, event_id, site, comment_id, kind, target, payload, dedupe_key, \
             state, attempts, next_attempt_at, created) VALUES ({id}, 0, 'default', NULL, 'webhook', \
             'http://127.0.0.1:9/', '{{}}', 'test:{id}', '{state}', 8, {}, {})",
            now + 30 * day,
            now - 8 * day
        ))
        .await;
    }
    // Used link nonces go once their link has expired.
    for (nonce, expires) in [("expired", now - 1000), ("live", now + day)] {
        app.sql(&format!(
            "INSERT INTO used_links (nonce, site, comment_id, action, used_at, expires) \
             VALUES ('{nonce}', 'default', 1, 'approve', {now}, {expires})"
        ))
        .await;
    }
    eventually("the purge", || async {
        let left = count(
            &app,
            &format!(
                "SELECT COUNT(*) FROM outbox WHERE comment_id = {} OR id = 1",
                old["id"]
            ),
        )
        .await;
        let nonces = count(
            &app,
            "SELECT COUNT(*) FROM used_links WHERE nonce = 'expired'",
        )
        .await;
        (left == 0 && nonces == 0).then_some(())
    })
    .await;
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT COUNT(*) FROM outbox WHERE comment_id = {} AND state = 'sent'",
                recent["id"]
            )
        )
        .await,
        1
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM outbox WHERE id = 2").await,
        1
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM used_links WHERE nonce = 'live'").await,
        1
    );
}
