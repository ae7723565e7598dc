//! Readers report comments; authors see their own held comments.

use super::*;
use crate::comment::Status;
use crate::http::extract::{ApiJson, ApiPath, Bearer, ClientIp, RequestBody};
use crate::http::openapi::tags;
use crate::http::problem::{self, ApiResult};
use crate::http::AppState;
use crate::report::Reason;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

/// A reader's report.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportBody {
    /// Why.
    reason: Reason,
    /// `illegal` only, and required there: the law the comment breaks
    /// (country and law, e.g. `DE StGB §130`).
    #[serde(default)]
    #[schema(max_length = 300)]
    law: Option<String>,
    /// What is wrong, in the reader's words (required for `illegal`: why
    /// the comment breaks that law).
    #[serde(default)]
    #[schema(max_length = 2000)]
    text: Option<String>,
}

impl RequestBody for ReportBody {}

/// What a report did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportResponse {
    /// The report's id.
    id: i64,
    /// How many readers it counts as (0.25 to 1.5; see the README).
    weight: f64,
    /// The comment is held for moderators now.
    held: bool,
}

/// Report a published comment (one report per reader)
#[utoipa::path(
    post,
    path = "/api/v1/sites/{site}/comments/{id}/reports",
    tag = tags::COMMENTS,
    params(CommentPath),
    request_body = ReportBody,
    responses(
        (status = 201, description = "Recorded", body = ReportResponse),
        problem::BadBody, problem::Unauthorized, problem::Forbidden, problem::NotFound, problem::Conflict,
        problem::RateLimited,
    ),
)]
pub async fn report_comment(
    State(app): State<AppState>,
    ApiPath(CommentPath { site, id }): ApiPath<CommentPath>,
    ClientIp(ip): ClientIp,
    bearer: Bearer,
    ApiJson(b): ApiJson<ReportBody>,
) -> ApiResult<(StatusCode, Json<ReportResponse>)> {
    let site = site_id(&site)?;
    let reader = app.colloquy.reader(&site, bearer.0.as_deref(), ip).await?;
    let r = app
        .colloquy
        .report(
            &site,
            id,
            &reader,
            ip,
            b.reason,
            b.law.as_deref(),
            b.text.as_deref(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(ReportResponse {
            id: r.id,
            weight: r.weight,
            held: r.held,
        }),
    ))
}

/// The edit tokens an author's browser kept.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OwnBody {
    /// The `edit_token`s posts answered with (at most 100).
    #[schema(max_items = 100)]
    edit_tokens: Vec<String>,
}

impl RequestBody for OwnBody {}

/// One of the author's own comments that the public listing leaves out.
#[derive(Debug, Serialize, ToSchema)]
pub struct OwnComment {
    #[serde(flatten)]
    comment: PublicComment,
    /// `pending` (awaiting moderation) or `published`.
    status: Status,
}

/// The author's own comments of a thread.
#[derive(Debug, Serialize, ToSchema)]
pub struct OwnResponse {
    comments: Vec<OwnComment>,
}

/// The author's own comments of a thread that the public listing leaves out (never cached)
#[utoipa::path(
    post,
    path = "/api/v1/sites/{site}/threads/{thread}/own",
    tag = tags::COMMENTS,
    params(ThreadPath),
    request_body = OwnBody,
    responses(
        (status = 200, description = "Their comments", body = OwnResponse),
        problem::BadBody, problem::Unauthorized, problem::Forbidden, problem::NotFound,
    ),
)]
pub async fn own_comments(
    State(app): State<AppState>,
    ApiPath(ThreadPath { site, thread }): ApiPath<ThreadPath>,
    bearer: Bearer,
    ApiJson(b): ApiJson<OwnBody>,
) -> ApiResult<Response> {
    let site = site_id(&site)?;
    let thread = thread_key(&thread)?;
    // A signed-in author (the site's token as bearer) sees theirs too.
    let reader = app
        .colloquy
        .reader(&site, bearer.0.as_deref(), None)
        .await?;
    let comments = app
        .colloquy
        .own_comments(&site, &thread, &b.edit_tokens, reader.identity.as_ref())
        .await?;
    let body = OwnResponse {
        comments: comments
            .iter()
            .map(|c| OwnComment {
                comment: PublicComment::from(c),
                status: c.status,
            })
            .collect(),
    };
    let mut response = Json(body).into_response();
    // One author's view: no cache may keep it for another.
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(response)
}
