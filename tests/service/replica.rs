//! A read replica (issue 14, point 7): public listings read from a real
//! hot standby of the local PostgreSQL (`tests/replica/setup`), and a client
//! that has just posted reads the primary, so it sees its own comment even
//! while the standby lags. The standby's replay is paused to make the lag
//! as long as the test needs. Runs when `COLLOQUY_TEST_REPLICA_URL` names
//! the standby (CI sets it up).

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::{fresh_database, spawn_on, temp_dir, Db};

fn replica_base() -> Option<String> {
    let url = std::env::var("COLLOQUY_TEST_REPLICA_URL")
        .ok()
        .filter(|u| !u.is_empty());
    if url.is_none() {
        eprintln!(
            "\n*** SKIPPED the read-replica test: run tests/replica/setup and set \
             COLLOQUY_TEST_REPLICA_URL (e.g. postgres://postgres@127.0.0.1:5433/test) ***\n"
        );
    }
    url
}

async fn sql(url: &str, query: &str) -> Option<String> {
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(url)
        .await
        .ok()?;
    let row = sqlx::query(query).fetch_optional(&mut conn).await.ok()??;
    sqlx::Row::try_get::<String, _>(&row, 0).ok()
}

/// Resumes the standby's replay when the test ends, however it ends.
struct Resume(String);

impl Drop for Resume {
    fn drop(&mut self) {
        let _ = std::process::Command::new("psql")
            .args([self.0.as_str(), "-Atc", "select pg_wal_replay_resume()"])
            .output();
    }
}

/// Waits until the standby has replayed everything the primary wrote.
async fn caught_up(primary: &str, replica: &str) {
    let target = sql(primary, "SELECT pg_current_wal_lsn()::text")
        .await
        .expect("primary lsn");
    for _ in 0..200 {
        let q = format!("SELECT (pg_last_wal_replay_lsn() >= '{target}'::pg_lsn)::text");
        if sql(replica, &q).await.as_deref() == Some("true") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the standby did not catch up within 10 s");
}

fn bodies(listing: &Value) -> Vec<String> {
    listing["comments"]
        .as_array()
        .expect("comments")
        .iter()
        .map(|c| c["html"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listings_read_the_replica_and_a_poster_reads_their_own_comment() {
    let Some(replica_base) = replica_base() else {
        return;
    };
    let dir = temp_dir();
    let Some(url) = fresh_database(Db::Postgres, &dir).await else {
        return;
    };
    // The same schema on the standby.
    let options = url.split_once('?').map(|(_, o)| o).expect("schema options");
    let replica_url = format!("{replica_base}?{options}");
    let replica_admin = replica_base.clone();
    let app = spawn_on(url.clone(), dir, |c| {
        c.database.read_url = Some(replica_url.clone());
    })
    .await;
    caught_up(&url, &replica_url).await;
    let list_path = app.url("/api/v1/sites/default/threads/lag/comments");

    let first = app
        .post("default", "lag", json!({ "body": "first comment" }))
        .await;
    assert_eq!(first.status(), 201);
    caught_up(&url, &replica_url).await;
    let seen: Value = app
        .client
        .get(&list_path)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(bodies(&seen).len(), 1, "{seen}");

    // The standby stops replaying: what the primary writes now is not
    // on the replica until it resumes.
    let _resume = Resume(replica_admin.clone());
    sql(&replica_admin, "SELECT pg_wal_replay_pause()::text").await;
    // A pause is a request; replay stops at its next record.
    for _ in 0..200 {
        let state = sql(&replica_admin, "SELECT pg_get_wal_replay_pause_state()").await;
        if state.as_deref() == Some("paused") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let posted = app
        .post("default", "lag", json!({ "body": "second comment" }))
        .await;
    assert_eq!(posted.status(), 201);
    let cookie = posted
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("colloquy_rw="))
        .expect("a read-your-writes cookie")
        .to_owned();
    assert!(
        cookie.contains("Max-Age=10") && cookie.contains("HttpOnly"),
        "{cookie}"
    );

    // Another reader is answered from the replica: one comment.
    let other: Value = app
        .client
        .get(&list_path)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(bodies(&other).len(), 1, "read from the replica: {other}");
    // The poster, with the cookie, reads the primary: both, in the API
    // and on the thread page.
    let own: Value = app
        .client
        .get(&list_path)
        .header("cookie", "colloquy_rw=1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(bodies(&own).len(), 2, "{own}");
    let page = app
        .client
        .get(app.url("/sites/default/threads/lag"))
        .header("cookie", "theme=dark; colloquy_rw=1")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("second comment"), "{page}");
    let other_page = app
        .client
        .get(app.url("/sites/default/threads/lag"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!other_page.contains("second comment"));

    // Once the standby replays again, every reader sees it.
    sql(&replica_admin, "SELECT pg_wal_replay_resume()::text").await;
    caught_up(&url, &replica_url).await;
    let after: Value = app
        .client
        .get(&list_path)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(bodies(&after).len(), 2, "{after}");
}
