//! Public `/api/v1` handlers: post and list comments, counts, thread state,
//! formats, preview, the embed's bootstrap, and the author's own edit and
//! delete.
//!
//! Each handler extracts, calls one service method, and shapes the answer;
//! its `#[utoipa::path]` is its entry in the OpenAPI document, and
//! [`router`] registers both from the same list.

mod bootstrap;
mod comments;
mod forms;
mod reports;
mod threads;
mod votes;

pub use bootstrap::*;
pub use comments::*;
pub use forms::*;
pub use reports::*;
pub use threads::*;
pub use votes::*;

use super::problem::{ApiResult, Problem};
use super::AppState;
use crate::clock::rfc3339;
use crate::comment::{Comment, SiteId, ThreadKey};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The public API of a site.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(formats))
        .routes(routes!(preview))
        .routes(routes!(stamp))
        .routes(routes!(counts_get, counts_post))
        .routes(routes!(thread_info))
        .routes(routes!(bootstrap))
        .routes(routes!(list_comments, post_comment))
        .routes(routes!(edit_comment, delete_comment))
        // Votes, statements of reasons and appeals (issue 17).
        .routes(routes!(vote))
        .routes(routes!(statement))
        .routes(routes!(appeal))
        .routes(routes!(report_comment))
        .routes(routes!(own_comments))
}

/// `{site}` of a path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SitePath {
    /// The site's id.
    #[param(inline, value_type = SiteId)]
    pub site: String,
}

/// `{site}` and `{thread}` of a path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ThreadPath {
    /// The site's id.
    #[param(inline, value_type = SiteId)]
    pub site: String,
    /// The article's key, percent-encoded.
    #[param(inline, value_type = ThreadKey)]
    pub thread: String,
}

/// `{site}` and a comment's `{id}` of a path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct CommentPath {
    /// The site's id.
    #[param(inline, value_type = SiteId)]
    pub site: String,
    /// The comment's id.
    #[param(minimum = 1)]
    pub id: i64,
}

/// A published comment as readers see it (no e-mail, no IP hash, no body).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Comment)]
pub struct PublicComment {
    id: i64,
    /// The comment this one replies to.
    #[schema(required = true)]
    parent: Option<i64>,
    thread: String,
    #[schema(required = true)]
    author: Option<String>,
    /// Written by a reader the site signed in; `author` is their username.
    verified: bool,
    #[schema(required = true)]
    homepage: Option<String>,
    /// The rendered, sanitized HTML.
    html: String,
    /// The text format it was written in.
    format: String,
    #[schema(format = DateTime)]
    created: String,
    #[schema(required = true, format = DateTime)]
    modified: Option<String>,
    /// Readers voting +1.
    upvotes: i64,
    /// Readers voting −1.
    downvotes: i64,
    /// `upvotes − downvotes`.
    score: i64,
    /// A moderator pinned it: it comes first in every order.
    pinned: bool,
}

impl From<&Comment> for PublicComment {
    fn from(c: &Comment) -> PublicComment {
        PublicComment {
            id: c.id,
            parent: c.parent,
            thread: c.thread.to_string(),
            author: c.author.as_deref().map(str::to_owned),
            verified: c.verified(),
            homepage: c.homepage.as_deref().map(str::to_owned),
            html: c.html.as_str().to_owned(),
            format: c.format.clone(),
            created: rfc3339(c.created),
            modified: c.modified.map(rfc3339),
            upvotes: c.standing.upvotes,
            downvotes: c.standing.downvotes,
            score: c.standing.score(),
            pinned: c.standing.pinned,
        }
    }
}

pub(super) fn site_id(site: &str) -> ApiResult<SiteId> {
    SiteId::parse(site).map_err(|_| {
        Problem::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("there is no site `{site}`"),
        )
    })
}

pub(super) fn thread_key(thread: &str) -> ApiResult<ThreadKey> {
    Ok(ThreadKey::parse(thread)?)
}

/// Answers with `bytes`, an ETag, and 304 when the client has them already.
pub(super) fn with_etag(
    headers: &HeaderMap,
    bytes: Vec<u8>,
    content_type: &'static str,
) -> Response {
    let tag = etag_of(&bytes);
    respond_cached(headers, &tag, bytes, content_type)
}

fn etag_of(bytes: &[u8]) -> String {
    format!("\"{:016x}\"", fnv1a(bytes))
}

fn respond_cached(
    headers: &HeaderMap,
    tag: &str,
    bytes: impl IntoResponse,
    content_type: &'static str,
) -> Response {
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    let mut response = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (StatusCode::OK, bytes).into_response()
    };
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(tag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if !matches {
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    response
}

/// FNV-1a, 64 bit: a fast content hash for ETags.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
