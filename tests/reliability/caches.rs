//! The listing cache under callers who make up cursors and page sizes: it
//! keeps only first pages and never holds more bytes than it may.

use base64::Engine as _;
use serde_json::json;

use crate::both_backends;
use crate::helpers::{spawn_with, Db, TestApp};

const MAX_BYTES: u64 = 256 * 1024;

async fn cache_bytes(app: &TestApp) -> u64 {
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    text.lines()
        .find_map(|l| {
            l.strip_prefix("colloquy_listing_cache_bytes ")?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no cache gauge in /metrics:\n{text}"))
}

async fn forged_cursors_and_page_sizes_leave_the_cache_within_its_bound(db: Db) {
    let Some(app) = spawn_with(db, |c| c.limits.listing_cache_bytes = MAX_BYTES).await else {
        return;
    };
    // A thread whose full pages are tens of kilobytes.
    for i in 0..40 {
        app.post_ok(
            "default",
            "big",
            json!({ "body": format!("comment {i}: {}", "words and more words ".repeat(80)) }),
        )
        .await;
    }
    let first = app.list("default", "big", "?limit=50").await;
    assert_eq!(first["comments"].as_array().map(Vec::len), Some(40));
    let cached = cache_bytes(&app).await;
    assert!(cached > 0, "the first page is cached");
    // Made-up cursors, each a different valid-looking position: every one
    // is answered, none is kept.
    for i in 0..300i64 {
        let cursor = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!(
            "{}.{}",
            1_500_000_000_000 + i * 7919,
            i
        ));
        let page = app
            .list("default", "big", &format!("?limit=50&cursor={cursor}"))
            .await;
        assert!(page["comments"].is_array());
    }
    assert_eq!(
        cache_bytes(&app).await,
        cached,
        "pages after the first are not kept"
    );
    // Every page size is a first page worth keeping, and together they are
    // far more than the cache may hold: it stays within its bytes.
    for limit in 1..=200 {
        app.list("default", "big", &format!("?limit={limit}")).await;
        app.list("default", "big", &format!("?limit={limit}&order=newest"))
            .await;
        let bytes = cache_bytes(&app).await;
        assert!(
            bytes <= MAX_BYTES,
            "{bytes} bytes cached, bound {MAX_BYTES}"
        );
    }
    assert!(cache_bytes(&app).await > MAX_BYTES / 2, "the cache is used");
}

both_backends!(forged_cursors_and_page_sizes_leave_the_cache_within_its_bound);
