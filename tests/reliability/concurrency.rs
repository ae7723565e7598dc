//! Load: 64 clients posting and reading at once against the real binary
//! for a bounded time (`COLLOQUY_LOAD_SECS`, default 10). No 5xx, no
//! "database is locked", and afterwards every acknowledged comment is
//! listed exactly once.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{encode, fresh_database, temp_dir, Db};
use crate::process::{all_published, start};

/// The heavy tests (many clients, a child server) take turns, so each gets
/// the machine's cores to itself.
pub static HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

both_backends!(sixty_four_clients_lose_and_duplicate_nothing);

const CLIENTS: usize = 64;
const THREADS: usize = 8;

#[derive(Default)]
struct Tally {
    statuses: BTreeMap<u16, u64>,
    failures: Vec<String>,
    acked: Vec<(String, i64, String)>,
    posts: u64,
    reads: u64,
}

fn load_secs() -> u64 {
    std::env::var("COLLOQUY_LOAD_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10)
}

async fn client_loop(base: String, client: usize, until: Instant) -> Tally {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let mut tally = Tally::default();
    let mut n = 0usize;
    while Instant::now() < until {
        n += 1;
        let thread = format!("load/{}", (client + n) % THREADS);
        let path = format!("/api/v1/sites/default/threads/{}/comments", encode(&thread));
        let (request, is_post, text) = match n % 4 {
            // Half the requests post, half read (listings and counts).
            0 | 2 => {
                let text = format!("load k{client} n{n}");
                let r = http
                    .post(format!("{base}{path}"))
                    .json(&json!({"body": text, "author": format!("k{client}")}));
                (r, true, text)
            }
            1 => (
                http.get(format!("{base}{path}?order=newest&limit=20")),
                false,
                String::new(),
            ),
            _ => (
                http.get(format!(
                    "{base}/api/v1/sites/default/counts?thread={}&thread=load%2F0",
                    encode(&thread)
                )),
                false,
                String::new(),
            ),
        };
        match request.send().await {
            Ok(r) => {
                let status = r.status().as_u16();
                *tally.statuses.entry(status).or_default() += 1;
                let body = r.text().await.unwrap_or_default();
                if status >= 500 || body.contains("database is locked") {
                    tally.failures.push(format!("{status}: {body:.200}"));
                }
                if is_post {
                    tally.posts += 1;
                    if status == 201 {
                        let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                        match v["id"].as_i64() {
                            Some(id) => tally.acked.push((thread, id, text)),
                            None => tally
                                .failures
                                .push(format!("201 without an id: {body:.200}")),
                        }
                    } else {
                        tally
                            .failures
                            .push(format!("post answered {status}: {body:.200}"));
                    }
                } else {
                    tally.reads += 1;
                    if status != 200 {
                        tally
                            .failures
                            .push(format!("read answered {status}: {body:.200}"));
                    }
                }
            }
            Err(e) => tally.failures.push(format!("no answer: {e}")),
        }
    }
    tally
}

async fn sixty_four_clients_lose_and_duplicate_nothing(db: Db) {
    let _heavy = HEAVY.lock().await;
    let dir = temp_dir();
    let Some(database_url) = fresh_database(db, &dir).await else {
        return;
    };
    let server = start(&database_url, &dir, 0).await;
    let secs = load_secs();
    let started = Instant::now();
    let until = started + Duration::from_secs(secs);
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|k| tokio::spawn(client_loop(server.base.clone(), k, until)))
        .collect();
    let mut total = Tally::default();
    for t in tasks {
        let t = t.await.unwrap();
        for (s, n) in t.statuses {
            *total.statuses.entry(s).or_default() += n;
        }
        total.failures.extend(t.failures);
        total.acked.extend(t.acked);
        total.posts += t.posts;
        total.reads += t.reads;
    }
    let elapsed = started.elapsed().as_secs_f64();
    assert!(
        total.failures.is_empty(),
        "{} failures, first: {:?}",
        total.failures.len(),
        &total.failures[..total.failures.len().min(5)]
    );
    let log = server.log_text();
    assert!(!log.contains("database is locked"), "server log: {log}");
    assert!(!log.contains("panicked"), "server log: {log}");

    // Count them afterwards: each thread lists exactly what was acknowledged.
    let http = reqwest::Client::new();
    let mut expected: HashMap<String, HashMap<i64, String>> = HashMap::new();
    for (thread, id, text) in &total.acked {
        let dup = expected
            .entry(thread.clone())
            .or_default()
            .insert(*id, text.clone());
        assert!(dup.is_none(), "id {id} acknowledged twice");
    }
    let mut listed_total = 0;
    for t in 0..THREADS {
        let thread = format!("load/{t}");
        let want = expected.remove(&thread).unwrap_or_default();
        let listed = all_published(&http, &server.base, "default", &thread).await;
        let mut seen = HashSet::new();
        for c in &listed {
            let id = c["id"].as_i64().unwrap();
            assert!(seen.insert(id), "{thread}: comment {id} listed twice");
            let text = want
                .get(&id)
                .unwrap_or_else(|| panic!("{thread}: comment {id} was never acknowledged"));
            assert_eq!(c["html"], format!("<p>{text}</p>\n"));
        }
        assert_eq!(seen.len(), want.len(), "{thread}: lost comments");
        let counts: Value = http
            .get(server.url(&format!(
                "/api/v1/sites/default/counts?thread={}",
                encode(&thread)
            )))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(counts["counts"][&thread], want.len() as u64);
        listed_total += listed.len();
    }
    assert_eq!(listed_total, total.acked.len());
    assert!(total.posts > 0 && total.reads > 0);
    eprintln!(
        "load ({db:?}): {CLIENTS} clients for {secs} s: {} requests ({:.0}/s; {} posts, {} reads), \
         statuses {:?}; {} comments acknowledged, {listed_total} listed, none lost or duplicated",
        total.posts + total.reads,
        (total.posts + total.reads) as f64 / elapsed,
        total.posts,
        total.reads,
        total.statuses,
        total.acked.len(),
    );
}
