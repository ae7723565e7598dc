//! Moderating comments: the queue, one comment, actions on one or many.

use super::*;
use crate::comment::QueueFilter;
use crate::comment::Status;
use crate::http::api::{CommentPath, SitePath};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, RequestBody};
use crate::http::openapi::tags;
use crate::http::problem::{self, ApiResult, Problem};
use crate::http::AppState;
use crate::service::Action;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Query of the moderation queue.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    /// Comma-separated statuses or `all` (default `pending`).
    #[serde(default)]
    status: Option<String>,
    /// Comments per page (default 50).
    #[serde(default)]
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// The previous page's `next_cursor`.
    #[serde(default)]
    cursor: Option<String>,
    /// Text the comment contains (case-insensitive).
    #[serde(default)]
    #[param(max_length = 200)]
    q: Option<String>,
    /// Text the author's name or e-mail contains (case-insensitive).
    #[serde(default)]
    #[param(max_length = 200)]
    author: Option<String>,
    /// Exact IP hash.
    #[serde(default)]
    ip_hash: Option<String>,
    /// Exact thread key.
    #[serde(default)]
    thread: Option<String>,
}

/// A page of the moderation queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueResponse {
    comments: Vec<AdminComment>,
    /// The `cursor` of the next page; null on the last.
    #[schema(required = true)]
    next_cursor: Option<String>,
}

pub(crate) fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// Moderation queue, newest first
#[utoipa::path(
    get,
    path = "/api/v1/admin/sites/{site}/comments",
    tag = tags::ADMIN,
    params(SitePath, QueueQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Queue", body = QueueResponse),
        problem::Admin, problem::Invalid,
    ),
)]
pub async fn queue(
    State(app): State<AppState>,
    AdminSite(site): AdminSite,
    ApiQuery(q): ApiQuery<QueueQuery>,
) -> ApiResult<Json<QueueResponse>> {
    let statuses = match &q.status {
        None => vec![Status::Pending],
        Some(s) if s == "all" => Status::ALL.to_vec(),
        Some(s) => s
            .split(',')
            .map(|x| Status::parse(x.trim()))
            .collect::<Result<Vec<_>, _>>()?,
    };
    let filter = QueueFilter {
        statuses,
        text: non_empty(q.q),
        author: non_empty(q.author),
        ip_hash: non_empty(q.ip_hash),
        thread: non_empty(q.thread),
    };
    let page = app
        .colloquy
        .queue(&site, filter, q.limit, q.cursor.as_deref())
        .await?;
    let scores = app.colloquy.spam_scores(&site, &page.comments).await?;
    Ok(Json(QueueResponse {
        comments: page
            .comments
            .iter()
            .zip(scores)
            .map(|(c, score)| AdminComment::from(c).with_score(score))
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One comment, any status
#[utoipa::path(
    get,
    path = "/api/v1/admin/sites/{site}/comments/{id}",
    tag = tags::ADMIN,
    params(CommentPath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Comment", body = AdminComment),
        problem::Admin,
    ),
)]
pub async fn get_comment(
    State(app): State<AppState>,
    AdminSite(site): AdminSite,
    ApiPath(CommentPath { id, .. }): ApiPath<CommentPath>,
) -> ApiResult<Json<AdminComment>> {
    let c = app.colloquy.comment(&site, id).await?;
    Ok(Json(AdminComment::from(&c)))
}

/// What an action leaves: the comment afterwards, or word that it is gone.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ActResponse {
    /// The comment afterwards.
    Comment(Box<AdminComment>),
    /// `delete`: the comment is gone.
    Deleted {
        /// The comment's id.
        id: i64,
        /// Always true.
        deleted: bool,
    },
}

/// approve, spam, trash, restore, unpublish or delete one comment
#[utoipa::path(
    post,
    path = "/api/v1/admin/sites/{site}/comments/{id}/{action}",
    tag = tags::ADMIN,
    params(ActionPath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The comment afterwards", body = ActResponse),
        problem::Admin,
    ),
)]
pub async fn act(
    State(app): State<AppState>,
    AdminSite(site): AdminSite,
    Moderator(actor): Moderator,
    ApiPath(ActionPath { id, action, .. }): ApiPath<ActionPath>,
) -> ApiResult<Json<ActResponse>> {
    let action = Action::parse(&action).map_err(|_| {
        Problem::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("there is no action `{action}`"),
        )
    })?;
    let after = app.colloquy.moderate(&site, id, action, &actor).await?;
    Ok(Json(match after {
        Some(c) => ActResponse::Comment(Box::new(AdminComment::from(&c))),
        None => ActResponse::Deleted { id, deleted: true },
    }))
}

/// Delete a comment for good (replies move up)
#[utoipa::path(
    delete,
    path = "/api/v1/admin/sites/{site}/comments/{id}",
    tag = tags::ADMIN,
    params(CommentPath),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        problem::Admin,
    ),
)]
pub async fn delete(
    State(app): State<AppState>,
    AdminSite(site): AdminSite,
    Moderator(actor): Moderator,
    ApiPath(CommentPath { id, .. }): ApiPath<CommentPath>,
) -> ApiResult<StatusCode> {
    app.colloquy
        .moderate(&site, id, Action::Delete, &actor)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A bulk action.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkBody {
    #[schema(inline, value_type = Action)]
    action: String,
    #[schema(min_items = 1, max_items = 200)]
    ids: Vec<i64>,
}

impl RequestBody for BulkBody {}

/// What one comment of a bulk action came to.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum BulkResult {
    /// Done.
    Moderated {
        /// The comment's id.
        id: i64,
        /// Always true.
        ok: bool,
        /// Its status now.
        status: Status,
    },
    /// Deleted.
    Deleted {
        /// The comment's id.
        id: i64,
        /// Always true.
        ok: bool,
        /// Always true.
        deleted: bool,
    },
    /// Not done.
    Failed {
        /// The comment's id.
        id: i64,
        /// Always false.
        ok: bool,
        /// Why, for a person.
        error: String,
        /// Why, as in problems (`not_found`, `conflict`, …).
        code: &'static str,
    },
}

/// A result per id, in the order given.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResponse {
    results: Vec<BulkResult>,
}

/// One action on many comments
#[utoipa::path(
    post,
    path = "/api/v1/admin/sites/{site}/comments/bulk",
    tag = tags::ADMIN,
    params(SitePath),
    security(("bearer" = [])),
    request_body = BulkBody,
    responses(
        (status = 200, description = "Per-comment results", body = BulkResponse),
        problem::Admin, problem::BadBody,
    ),
)]
pub async fn bulk(
    State(app): State<AppState>,
    AdminSite(site): AdminSite,
    Moderator(actor): Moderator,
    ApiJson(b): ApiJson<BulkBody>,
) -> ApiResult<Json<BulkResponse>> {
    let action = Action::parse(&b.action)?;
    let results = app.colloquy.bulk(&site, action, &b.ids, &actor).await?;
    let results = results
        .into_iter()
        .map(|(id, r)| match r {
            Ok(Some(c)) => BulkResult::Moderated {
                id,
                ok: true,
                status: c.status,
            },
            Ok(None) => BulkResult::Deleted {
                id,
                ok: true,
                deleted: true,
            },
            Err(e) => BulkResult::Failed {
                id,
                ok: false,
                error: e.to_string(),
                code: e.code().as_str(),
            },
        })
        .collect();
    Ok(Json(BulkResponse { results }))
}
