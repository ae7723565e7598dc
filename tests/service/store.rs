//! Storage stories run on both backends: what a comment row keeps, restarts
//! keep everything, and re-rendering after a policy change.

use std::path::PathBuf;

use colloquy::comment::Order;
use colloquy::comment::{SiteId, ThreadKey};
use colloquy::config::Config;
use colloquy::policy::PolicySet;
use colloquy::service::{Colloquy, PostInput};

use crate::both_backends;
use crate::helpers::{fresh_database, temp_dir, Db};

both_backends!(
    a_comment_row_keeps_everything_and_survives_a_restart,
    rerendering_follows_a_policy_change,
    ip_hashes_are_forgotten_after_the_retention_period
);

async fn ip_hashes_are_forgotten_after_the_retention_period(db: Db) {
    let dir = temp_dir();
    let Some(url) = fresh_database(db, &dir).await else {
        return;
    };
    let policies = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("policies");
    let service = Colloquy::open(
        Config {
            ip_retention_days: 30,
            ..config(&url, policies.clone(), &dir)
        },
        PolicySet::load_dir(&policies).unwrap(),
    )
    .await
    .unwrap();
    let site = SiteId::parse("default").unwrap();
    let thread = ThreadKey::parse("ips").unwrap();
    let ip = Some("198.51.100.4".parse().unwrap());
    let mut ids = Vec::new();
    for body in ["old", "recent"] {
        let input = PostInput {
            body: body.into(),
            ..PostInput::default()
        };
        ids.push(
            service
                .post(&site, &thread, input, ip)
                .await
                .unwrap()
                .comment
                .id,
        );
    }
    // The first comment is 31 days old.
    let then = colloquy::clock::now_ms() - 31 * 86_400_000;
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    sqlx::query("UPDATE comments SET created = $1 WHERE id = $2")
        .bind(then)
        .bind(ids[0])
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(service.purge_ip_hashes().await.unwrap(), 1);
    let old = service.comment(&site, ids[0]).await.unwrap();
    let recent = service.comment(&site, ids[1]).await.unwrap();
    assert_eq!(old.ip_hash, None);
    assert!(recent.ip_hash.is_some());
    assert_eq!(old.body, "old", "only the hash goes");
    // Purging again finds nothing more.
    assert_eq!(service.purge_ip_hashes().await.unwrap(), 0);
}

fn config(url: &str, policies: PathBuf, dir: &std::path::Path) -> Config {
    Config {
        database_url: url.to_owned(),
        policies_dir: policies,
        key_file: Some(dir.join("colloquy.keys")),
        ..Config::default()
    }
}

async fn a_comment_row_keeps_everything_and_survives_a_restart(db: Db) {
    let dir = temp_dir();
    let Some(url) = fresh_database(db, &dir).await else {
        return;
    };
    let policies = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("policies");
    let site = SiteId::parse("default").unwrap();
    let thread = ThreadKey::parse("row").unwrap();
    let id = {
        let service = Colloquy::open(
            config(&url, policies.clone(), &dir),
            PolicySet::load_dir(&policies).unwrap(),
        )
        .await
        .unwrap();
        let posted = service
            .post(
                &site,
                &thread,
                PostInput {
                    author: Some("Ann".into()),
                    email: Some("ann@example.com".into()),
                    homepage: Some("https://ann.example".into()),
                    body: "Hello <b>x</b>".into(),
                    format: Some("plain_text".into()),
                    parent: None,
                    ..PostInput::default()
                },
                Some("203.0.113.9".parse().unwrap()),
            )
            .await
            .unwrap();
        service.close().await;
        posted.comment.id
    };
    // A new process (a new pool) sees the same row.
    let service = Colloquy::open(
        config(&url, policies.clone(), &dir),
        PolicySet::load_dir(&policies).unwrap(),
    )
    .await
    .unwrap();
    let c = service.comment(&site, id).await.unwrap();
    assert_eq!(c.body, "Hello <b>x</b>");
    assert_eq!(c.format, "plain_text");
    assert_eq!(c.html, "<p>Hello &lt;b&gt;x&lt;/b&gt;</p>\n");
    assert_eq!(
        c.policy_version,
        service.policies().get("plain_text").unwrap().version()
    );
    assert_eq!(
        (
            c.author.as_deref(),
            c.email.as_deref(),
            c.homepage.as_deref()
        ),
        (
            Some("Ann"),
            Some("ann@example.com"),
            Some("https://ann.example")
        )
    );
    let hash = c.ip_hash.clone().unwrap();
    assert!(!hash.contains("203.0.113.9") && hash.len() == 32);
    // The IP key is kept, so the same address hashes the same after a restart.
    let again = service
        .post(
            &site,
            &thread,
            PostInput {
                body: "second".into(),
                ..PostInput::default()
            },
            Some("203.0.113.9".parse().unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(again.comment.ip_hash.as_deref(), Some(hash.as_str()));
    let page = service
        .list(&site, &thread, Order::Oldest, None, None)
        .await
        .unwrap();
    assert_eq!(page.comments.len(), 2);
    service.close().await;
    let _ = std::fs::remove_dir_all(dir);
}

async fn rerendering_follows_a_policy_change(db: Db) {
    let dir = temp_dir();
    let Some(url) = fresh_database(db, &dir).await else {
        return;
    };
    let bundled = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("policies");
    let mine = dir.join("policies");
    std::fs::create_dir_all(&mine).unwrap();
    for f in ["filtered_html.toml", "plain_text.toml", "markdown.toml"] {
        std::fs::copy(bundled.join(f), mine.join(f)).unwrap();
    }
    let site = SiteId::parse("default").unwrap();
    let thread = ThreadKey::parse("rr").unwrap();
    let long = format!("see https://example.com/{}", "a".repeat(80));
    let id = {
        let service = Colloquy::open(
            config(&url, mine.clone(), &dir),
            PolicySet::load_dir(&mine).unwrap(),
        )
        .await
        .unwrap();
        let p = service
            .post(
                &site,
                &thread,
                PostInput {
                    body: long.clone(),
                    ..PostInput::default()
                },
                None,
            )
            .await
            .unwrap();
        assert!(p.comment.html.contains("aaaa...</a>"));
        service.close().await;
        p.comment.id
    };
    // The site changes its policy: no more shortening of link text.
    let text = std::fs::read_to_string(mine.join("filtered_html.toml")).unwrap();
    std::fs::write(
        mine.join("filtered_html.toml"),
        text.replace("max_display_length = 72", "max_display_length = 0"),
    )
    .unwrap();
    let service = Colloquy::open(
        config(&url, mine.clone(), &dir),
        PolicySet::load_dir(&mine).unwrap(),
    )
    .await
    .unwrap();
    let seen = std::sync::atomic::AtomicU64::new(0);
    let report = service
        .rerender(&site, |n| {
            seen.store(n, std::sync::atomic::Ordering::SeqCst)
        })
        .await
        .unwrap();
    assert_eq!((report.checked, report.rerendered), (1, 1));
    assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 1);
    let c = service.comment(&site, id).await.unwrap();
    assert!(!c.html.contains("...</a>") && c.html.contains(&"a".repeat(80)));
    assert_eq!(
        c.policy_version,
        service.policies().get("filtered_html").unwrap().version()
    );
    // Running it again finds nothing to do.
    assert_eq!(service.rerender(&site, |_| {}).await.unwrap().rerendered, 0);
    service.close().await;
    let _ = std::fs::remove_dir_all(dir);
}
