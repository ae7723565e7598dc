//! `GET /api/v1/sites/{site}/threads/{thread}/feed`: a thread's comments as
//! an Atom feed, newest first (`templates/feed.xml`).

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use super::render;
use crate::clock::rfc3339;
use crate::comment::Order;
use crate::http::api::{site_id, thread_key, with_etag, ThreadPath};
use crate::http::extract::ApiPath;
use crate::http::openapi::tags;
use crate::http::problem::{self, ApiResult};
use crate::http::AppState;
use crate::SafeHtml;

/// `templates/feed.xml`.
#[derive(Template)]
#[template(path = "feed.xml")]
struct Feed {
    site: String,
    /// The article's title where known, else the thread key.
    thread: String,
    /// The article's address, where known.
    article_url: Option<String>,
    /// The thread key percent-encoded, for the feed's URN.
    thread_urn: String,
    updated: String,
    self_link: String,
    entries: Vec<Entry>,
}

/// One comment of the feed.
struct Entry {
    id: i64,
    author: String,
    published: String,
    updated: String,
    /// Written escaped: Atom's `type="html"` content is text.
    html: SafeHtml,
}

/// `GET /api/v1/sites/{site}/threads/{thread}/feed` — Atom, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site}/threads/{thread}/feed",
    tag = tags::COMMENTS,
    summary = "Published comments as an Atom feed, newest first",
    params(ThreadPath),
    responses(
        (status = 200, description = "Atom", content_type = "application/atom+xml", body = String),
        (status = 304, description = "Not modified (If-None-Match)"),
        problem::NotFound, problem::Invalid,
    ),
)]
pub async fn feed(
    State(app): State<AppState>,
    ApiPath((site, thread)): ApiPath<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let site = site_id(&site)?;
    let thread = thread_key(&thread)?;
    let info = app.colloquy.thread(&site, &thread).await?;
    let page = app
        .colloquy
        .list(&site, &thread, Order::Newest, None, None)
        .await?;
    let updated = page
        .comments
        .first()
        .map_or(0, |c| c.modified.unwrap_or(c.created));
    let base = app.colloquy.config().public_url.clone().unwrap_or_default();
    let thread_urn = percent_encoded(thread.as_str());
    let feed = Feed {
        self_link: format!("{base}/api/v1/sites/{site}/threads/{thread_urn}/feed"),
        site: site.as_str().to_owned(),
        thread: info
            .meta
            .title
            .unwrap_or_else(|| thread.as_str().to_owned()),
        article_url: info.meta.url,
        thread_urn,
        updated: rfc3339(updated),
        entries: page
            .comments
            .into_iter()
            .map(|c| Entry {
                id: c.id,
                author: c
                    .author
                    .map_or_else(|| "Anonymous".to_owned(), |a| a.into_string()),
                published: rfc3339(c.created),
                updated: rfc3339(c.modified.unwrap_or(c.created)),
                html: c.html,
            })
            .collect(),
    };
    let xml = match render(&feed) {
        Ok(xml) => xml,
        Err(failed) => return Ok(failed.into_response()),
    };
    Ok(with_etag(
        &headers,
        xml.into_bytes(),
        "application/atom+xml; charset=utf-8",
    ))
}

/// A thread key as one URL segment (and a URN part): percent-encoded.
fn percent_encoded(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
