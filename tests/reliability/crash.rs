//! Crash safety: clients post while the server is killed with SIGKILL,
//! again and again; after a restart every comment that was answered 2xx is
//! there, intact, and nothing half-written shows.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{fresh_database, temp_dir, Db};
use crate::process::{all_published, all_stored, start};

both_backends!(acknowledged_comments_survive_sigkill);

const KILLS: usize = 4;
const CLIENTS: usize = 8;

/// One attempted post and what the client heard back.
#[derive(Debug, Clone)]
struct Attempt {
    thread: String,
    author: String,
    text: String,
    /// `Some(id)` when the server answered 201.
    acked: Option<i64>,
    /// No answer at all: the server was gone.
    cut_off: bool,
    /// When the request was sent.
    sent_at: Instant,
    /// Sent before the kill and never answered: killed mid-flight.
    in_flight: bool,
}

fn text_for(cycle: usize, client: usize, n: usize) -> String {
    // Lengths vary from a few bytes to a few kilobytes, so some writes
    // span several pages of the database.
    let words = (n * 37 + client * 11) % 600;
    let filler: Vec<String> = (0..words).map(|w| format!("w{w}")).collect();
    format!("crash c{cycle} k{client} n{n} {}", filler.join(" "))
        .trim_end()
        .to_owned()
}

async fn client_loop(base: String, cycle: usize, client: usize) -> Vec<Attempt> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let mut out = Vec::new();
    for n in 0.. {
        let thread = format!("crash/{}", client % 3);
        let author = format!("client {client}");
        let text = text_for(cycle, client, n);
        let url = format!(
            "{base}/api/v1/sites/default/threads/{}/comments",
            crate::helpers::encode(&thread)
        );
        let sent_at = Instant::now();
        let sent = http
            .post(&url)
            .json(&json!({"body": text, "author": author}))
            .send()
            .await;
        let mut attempt = Attempt {
            thread,
            author,
            text,
            acked: None,
            cut_off: false,
            sent_at,
            in_flight: false,
        };
        match sent {
            Ok(r) if r.status() == 201 => match r.json::<Value>().await {
                Ok(v) => attempt.acked = v["id"].as_i64(),
                // Headers arrived, the body did not: not acknowledged.
                Err(_) => attempt.cut_off = true,
            },
            Ok(r) => panic!("post answered {} before the kill", r.status()),
            Err(_) => attempt.cut_off = true,
        }
        let stop = attempt.cut_off;
        out.push(attempt);
        if stop {
            break;
        }
    }
    out
}

async fn acknowledged_comments_survive_sigkill(db: Db) {
    let _heavy = crate::concurrency::HEAVY.lock().await;
    let dir = temp_dir();
    let Some(database_url) = fresh_database(db, &dir).await else {
        return;
    };
    let mut attempts: Vec<Attempt> = Vec::new();
    for cycle in 0..KILLS {
        let mut server = start(&database_url, &dir, cycle).await;
        let tasks: Vec<_> = (0..CLIENTS)
            .map(|k| tokio::spawn(client_loop(server.base.clone(), cycle, k)))
            .collect();
        // A different moment in each cycle, while every client has a post
        // in flight.
        tokio::time::sleep(Duration::from_millis(400 + 230 * cycle as u64)).await;
        let killed_at = Instant::now();
        server.kill();
        for t in tasks {
            let mut done = t.await.unwrap();
            for a in &mut done {
                a.in_flight = a.cut_off && a.sent_at < killed_at;
            }
            attempts.extend(done);
        }
    }

    let server = start(&database_url, &dir, KILLS).await;
    let http = reqwest::Client::new();
    let stored = all_stored(&http, &server.base, "default").await;

    let by_text: HashMap<&str, &Attempt> = attempts.iter().map(|a| (a.text.as_str(), a)).collect();
    let mut stored_by_id: HashMap<i64, &Value> = HashMap::new();
    let mut texts_seen = HashSet::new();
    for c in &stored {
        let id = c["id"].as_i64().unwrap();
        assert!(stored_by_id.insert(id, c).is_none(), "id {id} twice");
        let body = c["body"].as_str().unwrap();
        assert!(
            texts_seen.insert(body.to_owned()),
            "stored twice: {body:.40}"
        );
        // Nothing half-written: every stored comment is exactly one that
        // was sent, whole, with its own author, thread and rendering.
        let a = by_text
            .get(body)
            .unwrap_or_else(|| panic!("a stored body no client sent: {body:.80}"));
        assert_eq!(c["author"], a.author.as_str());
        assert_eq!(c["thread"], a.thread.as_str());
        assert_eq!(c["status"], "published");
        assert_eq!(c["html"], format!("<p>{}</p>\n", a.text));
    }
    let acked: Vec<&Attempt> = attempts.iter().filter(|a| a.acked.is_some()).collect();
    for a in &acked {
        let id = a.acked.unwrap();
        let c = stored_by_id
            .get(&id)
            .unwrap_or_else(|| panic!("acknowledged comment {id} is lost"));
        assert_eq!(c["body"], a.text.as_str(), "comment {id} changed");
    }
    // Per thread: the public listing and the stored count agree with what
    // is stored.
    for t in 0..3 {
        let thread = format!("crash/{t}");
        let listed = all_published(&http, &server.base, "default", &thread).await;
        let in_store = stored.iter().filter(|c| c["thread"] == thread).count();
        assert_eq!(listed.len(), in_store, "listing of {thread}");
        let r: Value = http
            .get(server.url(&format!(
                "/api/v1/sites/default/counts?thread={}",
                crate::helpers::encode(&thread)
            )))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(r["counts"][&thread], in_store as u64, "count of {thread}");
    }
    if db == Db::Sqlite {
        sqlx::any::install_default_drivers();
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&database_url)
            .await
            .unwrap();
        let check: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(check, "ok");
    }
    let in_flight = attempts.iter().filter(|a| a.in_flight).count();
    let in_flight_stored = attempts
        .iter()
        .filter(|a| a.in_flight && texts_seen.contains(&a.text))
        .count();
    assert!(in_flight > 0, "the kills should catch posts in flight");
    eprintln!(
        "crash safety ({db:?}): {KILLS} SIGKILLs, {} posts acknowledged and all {} found intact; \
         {in_flight} posts killed mid-flight ({in_flight_stored} of them committed before the kill), \
         {} comments stored, none half-written",
        acked.len(),
        acked.len(),
        stored.len()
    );
}
