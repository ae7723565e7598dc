//! Isso's SQLite database (`comments.db`), opened read-only.
//!
//! Threads are keyed by their `uri` (the page path Isso was embedded on)
//! and keep their title. Isso stores the Markdown its commenters typed, so
//! comments go to the `markdown` format. Mode 1 is published, 2 waiting
//! for moderation, 4 deleted (kept, in the trash, so its replies keep their
//! place). Isso keeps only an anonymised IP address; it is hashed like any
//! other.

use std::collections::HashSet;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::Row;

use crate::comment::{Status, ThreadState};

use super::{
    seconds_to_ms, ImportError, Item, ParentRef, ParseContext, Place, RawComment, RawThread, Sink,
};

/// Rows read per query.
const PAGE: i64 = 1000;

/// Reads an Isso database; runs on a blocking thread inside the runtime.
pub(super) fn parse(ctx: &ParseContext, sink: &mut Sink<'_>) -> Result<(), ImportError> {
    std::fs::File::open(&ctx.path).map_err(|e| ctx.unreadable(e))?;
    let handle = tokio::runtime::Handle::current();
    let not_isso = |e: sqlx::Error| ctx.unreadable(format!("not an Isso database: {e}"));
    let pool = handle
        .block_on(
            SqlitePoolOptions::new().max_connections(1).connect_with(
                SqliteConnectOptions::new()
                    .filename(&ctx.path)
                    .read_only(true),
            ),
        )
        .map_err(not_isso)?;
    let result = read(ctx, &handle, &pool, sink);
    handle.block_on(pool.close());
    result
}

fn read(
    ctx: &ParseContext,
    handle: &tokio::runtime::Handle,
    pool: &sqlx::SqlitePool,
    sink: &mut Sink<'_>,
) -> Result<(), ImportError> {
    let not_isso = |e: sqlx::Error| ctx.unreadable(format!("not an Isso database: {e}"));
    let mut threads_sent = HashSet::new();
    let mut after = i64::MIN;
    loop {
        let rows = handle
            .block_on(
                sqlx::query(
                    "SELECT c.id, c.tid, c.parent, CAST(c.created AS REAL) AS created, \
                     CAST(c.modified AS REAL) AS modified, c.mode, c.remote_addr, c.text, c.author, \
                     c.email, c.website, t.id AS thread_id, t.uri, t.title \
                     FROM comments c LEFT JOIN threads t ON t.id = c.tid \
                     WHERE c.id > ? ORDER BY c.id LIMIT ?",
                )
                .bind(after)
                .bind(PAGE)
                .fetch_all(pool),
            )
            .map_err(not_isso)?;
        let Some(last) = rows.last() else { break };
        after = last.try_get("id").map_err(not_isso)?;
        for r in &rows {
            let id: i64 = r.try_get("id").map_err(not_isso)?;
            let place = Place::Row(format!("comments id {id}"));
            let source = Some(format!("isso:{id}"));
            let skip = |reason: String| Item::Skip {
                place: place.clone(),
                source: source.clone(),
                reason,
            };
            let thread_id: Option<i64> = r.try_get("thread_id").map_err(not_isso)?;
            let uri: Option<String> = r.try_get("uri").map_err(not_isso)?;
            let Some(thread_id) = thread_id else {
                let tid: Option<i64> = r.try_get("tid").unwrap_or(None);
                sink(skip(format!(
                    "its thread {} is not in the threads table",
                    tid.map_or("(none)".to_owned(), |t| t.to_string())
                )))
                .map_err(|_| super::wordpress::stopped())?;
                continue;
            };
            let Some(key) = ctx
                .thread_key
                .pick(uri.as_deref(), Some(&thread_id.to_string()))
            else {
                continue;
            };
            let created: Option<f64> = r.try_get("created").map_err(not_isso)?;
            let Some(created) = created.and_then(seconds_to_ms) else {
                sink(skip("no valid created time".to_owned()))
                    .map_err(|_| super::wordpress::stopped())?;
                continue;
            };
            let mode: Option<i64> = r.try_get("mode").map_err(not_isso)?;
            let status = match mode {
                Some(1) => Status::Published,
                Some(2) => Status::Pending,
                Some(4) => Status::Trash,
                other => {
                    sink(skip(format!(
                        "mode {} is not 1 (accepted), 2 (in moderation) or 4 (deleted)",
                        other.map_or("(none)".to_owned(), |m| m.to_string())
                    )))
                    .map_err(|_| super::wordpress::stopped())?;
                    continue;
                }
            };
            if threads_sent.insert(thread_id) {
                let title: Option<String> = r.try_get("title").map_err(not_isso)?;
                sink(Item::Thread(RawThread {
                    key: key.clone(),
                    title,
                    state: ThreadState::Open,
                    created: None,
                }))
                .map_err(|_| super::wordpress::stopped())?;
            }
            let parent: Option<i64> = r.try_get("parent").map_err(not_isso)?;
            let modified: Option<f64> = r.try_get("modified").map_err(not_isso)?;
            sink(Item::Comment(Box::new(RawComment {
                place,
                source,
                keep_id: None,
                thread: key,
                parent: parent.map_or(ParentRef::None, |p| ParentRef::Source(format!("isso:{p}"))),
                status,
                format: None,
                body: r
                    .try_get::<Option<String>, _>("text")
                    .map_err(not_isso)?
                    .unwrap_or_default(),
                author: r.try_get("author").map_err(not_isso)?,
                email: r.try_get("email").map_err(not_isso)?,
                homepage: r.try_get("website").map_err(not_isso)?,
                ip: r.try_get("remote_addr").map_err(not_isso)?,
                ip_hash: None,
                created,
                modified: modified.and_then(seconds_to_ms),
            })))
            .map_err(|_| super::wordpress::stopped())?;
        }
    }
    Ok(())
}
