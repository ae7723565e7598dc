//! Everything the embed needs before its first paint, in one answer: the
//! thread's state and count, the site's formats and their tips, a form
//! stamp, and the first page of comments.
//!
//! The embed asks for it as soon as its script runs, so a reader waits for
//! one round trip instead of a chain of four. Each part is what its own
//! endpoint answers (`…/threads/{thread}`, `…/formats`, `…/stamp`,
//! `…/threads/{thread}/comments`); the page comes from the listing cache
//! like the listing's.

use super::*;
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::openapi::tags;
use crate::http::problem::{self, ApiResult, Problem};
use crate::http::AppState;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use utoipa::{IntoParams, ToSchema};

/// Query of a bootstrap: how the first page is ordered and sized.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BootstrapQuery {
    /// Comments on the first page (default 50).
    #[serde(default)]
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// `oldest` (default), `newest` or `best` first (pinned comments first in each).
    #[serde(default)]
    #[param(schema_with = order_schema)]
    order: Option<String>,
}

/// What a comment widget needs to show a thread and its form.
#[derive(Debug, Serialize, ToSchema)]
pub struct BootstrapResponse<'a> {
    /// As `GET …/threads/{thread}`.
    thread: ThreadResponse,
    /// As `GET …/formats`.
    formats: FormatsResponse<'a>,
    /// As `GET …/stamp`: single use, for the first post.
    stamp: StampResponse,
    /// As `GET …/threads/{thread}/comments`: the first page.
    #[schema(value_type = ListResponse)]
    comments: Box<RawValue>,
    /// What readers may vote (the site's `votes` and `downvotes`).
    votes: VotesAllowed,
}

/// The site's vote settings, for the widget's buttons.
#[derive(Debug, Serialize, ToSchema)]
pub struct VotesAllowed {
    /// Readers may vote.
    up: bool,
    /// Readers may vote −1 too.
    down: bool,
}

/// A thread, the site's formats, a form stamp and the first page of comments, in one answer
///
/// What the embed asks for first. Not cached (it carries a fresh stamp).
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site}/threads/{thread}/bootstrap",
    tag = tags::COMMENTS,
    params(ThreadPath, BootstrapQuery),
    responses(
        (status = 200, description = "Thread, formats, stamp and first page", body = BootstrapResponse),
        problem::NotFound, problem::Invalid,
    ),
)]
pub async fn bootstrap(
    State(app): State<AppState>,
    ApiPath(ThreadPath { site, thread }): ApiPath<ThreadPath>,
    ApiQuery(q): ApiQuery<BootstrapQuery>,
) -> ApiResult<Response> {
    let site = site_id(&site)?;
    let thread = thread_key(&thread)?;
    let order = parse_order(q.order.as_deref())?;
    let info = app.colloquy.thread(&site, &thread).await?;
    let (row, policies) = app.colloquy.formats(&site).await?;
    let (page, _) = listing(&app, &site, &thread, order, q.limit, None).await?;
    let internal =
        |e: serde_json::Error| Problem::from(crate::error::Error::internal(e.to_string()));
    let page = std::str::from_utf8(&page)
        .map_err(|e| Problem::from(crate::error::Error::internal(e.to_string())))?;
    let body = BootstrapResponse {
        thread: info.into(),
        formats: formats_body(&app, &row, &policies),
        stamp: stamp_body(&app, &row),
        comments: RawValue::from_string(page.to_owned()).map_err(internal)?,
        votes: VotesAllowed {
            up: row.rules.votes,
            down: row.rules.votes && row.rules.downvotes,
        },
    };
    let bytes = serde_json::to_vec(&body).map_err(internal)?;
    let mut response = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        bytes,
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
