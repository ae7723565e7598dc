//! Several servers on one database, and load that must not spread (issue
//! 14): each story is tried over HTTP on both backends.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::both_backends;
use crate::helpers::{spawn_with, Db, TestApp};

both_backends!(a_held_thread_lock_leaves_health_checks_and_other_threads_answering);

async fn a_held_thread_lock_leaves_health_checks_and_other_threads_answering(db: Db) {
    let Some(app) = spawn_with(db, |c| {
        c.database.pool_size = 4;
        c.database.lock_timeout_ms = 500;
        c.database.acquire_timeout = Duration::from_secs(2);
    })
    .await
    else {
        return;
    };
    app.post_ok("default", "hot", json!({"body": "first"}))
        .await;
    // Another client holds the thread's row (on SQLite: the write lock)
    // and does not let go.
    sqlx::any::install_default_drivers();
    let mut holder = <sqlx::AnyConnection as sqlx::Connection>::connect(&app.database_url)
        .await
        .unwrap();
    let hold = match db {
        Db::Sqlite => "BEGIN IMMEDIATE",
        Db::Postgres => "BEGIN",
    };
    sqlx::query(hold).execute(&mut holder).await.unwrap();
    if db == Db::Postgres {
        sqlx::query("SELECT state FROM threads WHERE thread_key = 'hot' FOR UPDATE")
            .execute(&mut holder)
            .await
            .unwrap();
    }
    // More posts to the hot thread than the pool has connections.
    let stuck: Vec<_> = (0..8)
        .map(|i| {
            let client = app.client.clone();
            let url = app.url(&TestApp::comments_path("default", "hot"));
            tokio::spawn(async move {
                client
                    .post(url)
                    .json(&json!({ "body": format!("stuck {i}") }))
                    .send()
                    .await
                    .map(|r| r.status())
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Health checks have a connection of their own.
    let (s, _) = app.get_json("/healthz").await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = app.get_json("/livez").await;
    assert_eq!(s, StatusCode::OK);
    if db == Db::Postgres {
        // Other threads go on being read and written.
        let (s, _) = app
            .get_json(&TestApp::comments_path("default", "cold"))
            .await;
        assert_eq!(s, StatusCode::OK);
        app.post_ok("default", "cold", json!({"body": "elsewhere"}))
            .await;
    }
    // The waiting posts give up (PostgreSQL: busy, 503, after the lock
    // timeout; SQLite, whose one writer waits for the file: the request
    // timeout) instead of waiting forever.
    let mut refused = 0;
    for task in stuck {
        let status = tokio::time::timeout(Duration::from_secs(30), task)
            .await
            .expect("a post waited without end")
            .unwrap()
            .unwrap();
        let want = match db {
            Db::Postgres => StatusCode::SERVICE_UNAVAILABLE,
            Db::Sqlite => StatusCode::REQUEST_TIMEOUT,
        };
        assert_eq!(status, want);
        refused += 1;
    }
    sqlx::query("ROLLBACK").execute(&mut holder).await.unwrap();
    assert_eq!(refused, 8);
    // None of the refused posts is stored later behind the client's back.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        app.sql_count("SELECT COUNT(*) FROM comments WHERE body LIKE 'stuck%'")
            .await,
        0
    );
    // Once the lock goes, the thread takes posts again.
    app.post_ok("default", "hot", json!({"body": "after"}))
        .await;
}

both_backends!(node_numbers_are_held_by_one_server_at_a_time);

async fn node_numbers_are_held_by_one_server_at_a_time(db: Db) {
    let dir = crate::helpers::temp_dir();
    let Some(url) = crate::helpers::fresh_database(db, &dir).await else {
        return;
    };
    let store = colloquy::store::Store::connect(&url).await.unwrap();
    let lease = colloquy::service::NODE_LEASE_MS;
    let now = 1_800_000_000_000;
    let a = store.claim_node("a", now, lease).await.unwrap();
    let b = store.claim_node("b", now, lease).await.unwrap();
    assert_eq!((a, b), (Some(0), Some(1)), "each claimant its own number");
    // A live holder keeps its number; one silent for a whole lease loses it.
    assert!(store.renew_node(0, "a", now + lease / 2).await.unwrap());
    let c = store.claim_node("c", now + lease + 1, lease).await.unwrap();
    assert_eq!(c, Some(1), "b stopped renewing; a did not");
    assert!(
        !store.renew_node(1, "b", now + lease + 2).await.unwrap(),
        "b learns it lost its number"
    );
    // A number given back is free at once.
    store.release_node(0, "a").await.unwrap();
    let d = store.claim_node("d", now + lease + 3, lease).await.unwrap();
    assert_eq!(d, Some(0));
    // When every number is held there is none to claim.
    for i in 0..colloquy::clock::NODES {
        let _ = store
            .claim_node(&format!("x{i}"), now + lease + 4, lease)
            .await
            .unwrap();
    }
    assert_eq!(
        store
            .claim_node("late", now + lease + 5, lease)
            .await
            .unwrap(),
        None
    );
    store.close().await;
}
