//! How answers travel: compressed (br, gzip) when the client takes it, and
//! decoding to exactly the uncompressed bytes; versioned assets cached for
//! good; and the embed's one bootstrap request agreeing with the endpoints
//! it stands for.

use std::io::Read;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{encode, spawn, Db, TestApp};

both_backends!(
    every_kind_of_answer_is_compressed_and_decodes_to_the_same_bytes,
    limits_still_hold_with_compression,
    versioned_assets_are_cached_for_good,
    the_bootstrap_is_the_thread_formats_stamp_and_first_page,
);

/// An answer's status, `Content-Encoding` and raw bytes.
async fn raw(
    app: &TestApp,
    path: &str,
    accept: Option<&str>,
) -> (StatusCode, Option<String>, Vec<u8>) {
    let mut req = app.client.get(app.url(path));
    if let Some(a) = accept {
        req = req.header("accept-encoding", a);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    let encoding = r
        .headers()
        .get("content-encoding")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, encoding, r.bytes().await.unwrap().to_vec())
}

fn decode(encoding: &str, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match encoding {
        "gzip" => {
            flate2::read::GzDecoder::new(bytes)
                .read_to_end(&mut out)
                .unwrap();
        }
        "br" => {
            brotli_decompressor::Decompressor::new(bytes, 4096)
                .read_to_end(&mut out)
                .unwrap();
        }
        other => panic!("unexpected encoding {other}"),
    }
    out
}

/// The thread page carries a fresh form stamp in every answer; the rest
/// must be the same bytes.
fn without_stamp(bytes: &[u8]) -> String {
    let text = String::from_utf8(bytes.to_vec()).expect("text");
    let re = regex::Regex::new(r#"name="colloquy_ts" value="[^"]*""#).unwrap();
    re.replace_all(&text, "name=\"colloquy_ts\"").into_owned()
}

async fn many_comments(app: &TestApp, thread: &str, n: usize) {
    for i in 0..n {
        app.post_ok(
            "default",
            thread,
            json!({"author": format!("Reader {i}"), "body": format!("Comment number {i}: a sentence of ordinary length, *with* a [link](https://example.org/{i}) and some words that repeat, as comments do.")}),
        )
        .await;
    }
}

async fn every_kind_of_answer_is_compressed_and_decodes_to_the_same_bytes(db: Db) {
    let Some(app) = spawn(db).await else { return };
    many_comments(&app, "news/big", 200).await;
    let t = encode("news/big");
    let paths = [
        "/embed.js".to_owned(),
        "/assets/embed.css".to_owned(),
        "/assets/moderation.js".to_owned(),
        format!("/api/v1/sites/default/threads/{t}/comments?limit=200"),
        "/api/v1/sites/default/formats".to_owned(),
        format!("/sites/default/threads/{t}"),
        format!("/api/v1/sites/default/threads/{t}/feed"),
        format!("/api/v1/sites/default/threads/{t}/fragment"),
        "/sites/default/moderation".to_owned(),
        "/api/openapi.json".to_owned(),
    ];
    for path in &paths {
        let (status, encoding, plain) = raw(&app, path, None).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(encoding, None, "{path}: identity unless asked");
        for (accept, expected) in [("br", "br"), ("gzip", "gzip"), ("gzip, deflate, br", "br")] {
            let (status, encoding, wire) = raw(&app, path, Some(accept)).await;
            assert_eq!(status, StatusCode::OK, "{path}");
            assert_eq!(encoding.as_deref(), Some(expected), "{path} with {accept}");
            assert!(
                wire.len() < plain.len(),
                "{path}: {} >= {}",
                wire.len(),
                plain.len()
            );
            let decoded = decode(expected, &wire);
            assert!(
                without_stamp(&decoded) == without_stamp(&plain),
                "{path} decoded ({expected}) differs from the plain answer"
            );
            if accept == "gzip, deflate, br" {
                eprintln!(
                    "on the wire: {path}: {} bytes, {expected} {} bytes",
                    plain.len(),
                    wire.len()
                );
            }
        }
    }
    // A problem is compressed like anything else, and still a problem.
    let (status, encoding, wire) = raw(&app, "/api/v1/sites/nosuch/formats", Some("gzip")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    if let Some(e) = encoding {
        let v: Value = serde_json::from_slice(&decode(&e, &wire)).unwrap();
        assert_eq!(v["status"], 404);
    }
    // Conditional requests still answer 304, with no body to compress.
    let r = app.client.get(app.url("/embed.js")).send().await.unwrap();
    let etag = r.headers()["etag"].clone();
    let again = app
        .client
        .get(app.url("/embed.js"))
        .header("accept-encoding", "br")
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert!(again.bytes().await.unwrap().is_empty());
}

async fn limits_still_hold_with_compression(db: Db) {
    let Some(app) = spawn(db).await else { return };
    // The body limit counts what arrives, compressed answers or not.
    let big = "x".repeat(2 << 20);
    let r = app
        .client
        .post(app.url(&TestApp::comments_path("default", "news/a")))
        .header("accept-encoding", "gzip, br")
        .json(&json!({"body": big}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let encoding = r
        .headers()
        .get("content-encoding")
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = r.bytes().await.unwrap();
    let body = match encoding {
        Some(e) => decode(&e, &bytes),
        None => bytes.to_vec(),
    };
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["code"], "too_large", "{v}");
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM comments").await, 0);
}

async fn versioned_assets_are_cached_for_good(db: Db) {
    let Some(app) = spawn(db).await else { return };
    let page = app
        .client
        .get(app.url("/sites/default/threads/news%2Fa"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let re = regex::Regex::new(r#"href="(/assets/embed\.css\?v=[0-9a-f]{16})""#).unwrap();
    let css = re
        .captures(&page)
        .expect("the page links a versioned stylesheet")[1]
        .to_owned();
    let r = app.client.get(app.url(&css)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let v = css.rsplit_once("?v=").unwrap().1;
    assert_eq!(r.headers()["etag"].to_str().unwrap(), format!("\"{v}\""));
    // The embed script links the same stylesheet; the bare address, which
    // site owners paste, stays short-lived.
    let r = app.client.get(app.url("/embed.js")).send().await.unwrap();
    assert_eq!(r.headers()["cache-control"], "public, max-age=3600");
    let js = r.text().await.unwrap();
    assert!(js.contains(&css), "embed.js loads {css}");
    // An old version gets today's file, cached briefly.
    let r = app
        .client
        .get(app.url("/assets/embed.css?v=0123456789abcdef"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "public, max-age=3600");
    let moderation = app
        .client
        .get(app.url("/sites/default/moderation"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let re = regex::Regex::new(r#"src="(/assets/moderation\.js\?v=[0-9a-f]{16})""#).unwrap();
    let js = re.captures(&moderation).expect("versioned script")[1].to_owned();
    let r = app.client.get(app.url(&js)).send().await.unwrap();
    assert_eq!(
        r.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
}

async fn the_bootstrap_is_the_thread_formats_stamp_and_first_page(db: Db) {
    let Some(app) = spawn(db).await else { return };
    many_comments(&app, "news/b", 5).await;
    let t = encode("news/b");
    let base = format!("/api/v1/sites/default/threads/{t}");
    let (status, boot) = app
        .get_json(&format!("{base}/bootstrap?order=newest&limit=3"))
        .await;
    assert_eq!(status, StatusCode::OK, "{boot}");
    let (_, thread) = app.get_json(&base).await;
    let (_, formats) = app.get_json("/api/v1/sites/default/formats").await;
    let (_, page) = app
        .get_json(&format!("{base}/comments?order=newest&limit=3"))
        .await;
    assert_eq!(boot["thread"], thread);
    assert_eq!(boot["formats"], formats);
    assert_eq!(boot["comments"], page);
    assert_eq!(boot["comments"]["comments"].as_array().unwrap().len(), 3);
    assert_eq!(boot["comments"]["comments"][0]["author"], "Reader 4");
    assert!(boot["comments"]["next_cursor"].is_string());
    // The stamp is a real one: a post with it goes through.
    let stamp = boot["stamp"]["stamp"].as_str().unwrap().to_owned();
    assert!(boot["stamp"]["expires"].is_string());
    let posted = app
        .post_ok(
            "default",
            "news/b",
            json!({"body": "with the stamp", "stamp": stamp}),
        )
        .await;
    assert_eq!(posted["status"], "published", "{posted}");
    // It carries a stamp, so it is never cached; each answer has its own.
    let r = app
        .client
        .get(app.url(&format!("{base}/bootstrap")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["cache-control"], "no-store");
    let again: Value = r.json().await.unwrap();
    assert_ne!(again["stamp"]["stamp"], boot["stamp"]["stamp"]);
    assert_eq!(again["thread"]["count"], 6);
    // A thread without comments yet bootstraps as open and empty.
    let (status, fresh) = app
        .get_json("/api/v1/sites/default/threads/news%2Fnew/bootstrap")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fresh["thread"]["count"], 0);
    assert_eq!(fresh["comments"]["comments"], json!([]));
    // Refusals are the endpoints' own.
    let (status, p) = app
        .get_json(&format!("{base}/bootstrap?order=sideways"))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    let (status, _) = app.get_json(&format!("{base}/bootstrap?limit=0")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = app.get_json(&format!("{base}/bootstrap?what=1")).await;
    assert!(status.is_client_error());
    let (status, _) = app
        .get_json("/api/v1/sites/nosuch/threads/a/bootstrap")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, v) = app
        .admin(
            Method::PUT,
            &format!("/api/v1/admin/sites/default/threads/{t}"),
            Some(json!({"state": "hidden"})),
        )
        .await;
    assert!(status.is_success(), "{v}");
    let (status, _) = app.get_json(&format!("{base}/bootstrap")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
