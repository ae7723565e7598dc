//! Votes on comments, and what an author can see and contest of a
//! decision about their comment: its statement of reasons and the appeal.

use super::*;
use crate::clock::rfc3339;
use crate::http::extract::{ApiJson, ApiPath, Bearer, ClientIp, RequestBody};
use crate::http::openapi::tags;
use crate::http::problem::{self, ApiResult};
use crate::http::AppState;
use crate::statement::Statement;
use crate::vote::Vote;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A reader's vote.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoteBody {
    /// 1 (up), -1 (down) or 0 (take the vote back).
    #[schema(minimum = -1, maximum = 1)]
    value: i64,
}

impl RequestBody for VoteBody {}

/// A comment's votes after a vote.
#[derive(Debug, Serialize, ToSchema)]
pub struct VotedResponse {
    /// The comment.
    id: i64,
    upvotes: i64,
    downvotes: i64,
    /// `upvotes − downvotes`.
    score: i64,
    /// This reader's vote now: 1, -1 or 0.
    value: i64,
}

/// Vote on a published comment: one vote per reader (site identity, else address)
#[utoipa::path(
    post,
    path = "/api/v1/sites/{site}/comments/{id}/vote",
    tag = tags::COMMENTS,
    params(CommentPath),
    request_body = VoteBody,
    responses(
        (status = 200, description = "The comment's votes now", body = VotedResponse),
        problem::BadBody, problem::Unauthorized, problem::Forbidden, problem::NotFound, problem::RateLimited,
    ),
)]
pub async fn vote(
    State(app): State<AppState>,
    ApiPath(CommentPath { site, id }): ApiPath<CommentPath>,
    ClientIp(ip): ClientIp,
    bearer: Bearer,
    ApiJson(b): ApiJson<VoteBody>,
) -> ApiResult<Json<VotedResponse>> {
    let site = site_id(&site)?;
    let value = Vote::parse(b.value)?;
    let reader = app.colloquy.reader(&site, bearer.0.as_deref(), ip).await?;
    let standing = app.colloquy.vote(&site, id, &reader, ip, value).await?;
    Ok(Json(VotedResponse {
        id,
        upvotes: standing.upvotes,
        downvotes: standing.downvotes,
        score: standing.score(),
        value: value.value(),
    }))
}

/// An author's appeal as the statement shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppealView {
    text: String,
    #[schema(format = DateTime)]
    created: String,
    /// When a moderator's next decision closed it; null while open.
    #[schema(required = true, format = DateTime)]
    closed: Option<String>,
    /// That decision (`approve`, `trash`, …); null while open.
    #[schema(required = true)]
    outcome: Option<String>,
}

/// A statement of reasons (DSA art. 17).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = StatementOfReasons)]
pub struct StatementResponse {
    id: i64,
    /// The comment it concerns.
    comment: i64,
    /// `spam`, `trash` (rejected), `hold` (taken off the page for review) or `delete`.
    decision: String,
    /// The facts and circumstances relied on.
    facts: String,
    /// The ground: the clause of the terms (or law) applied.
    ground: String,
    /// Taken by automated means.
    automated: bool,
    /// How to seek redress.
    redress: String,
    #[schema(format = DateTime)]
    created: String,
    /// The author's appeal; null until they appeal.
    #[schema(required = true)]
    appeal: Option<AppealView>,
}

impl From<&Statement> for StatementResponse {
    fn from(s: &Statement) -> StatementResponse {
        StatementResponse {
            id: s.id,
            comment: s.comment_id,
            decision: s.decision.as_str().to_owned(),
            facts: s.facts.clone(),
            ground: s.ground.clone(),
            automated: s.automated,
            redress: s.redress.clone(),
            created: rfc3339(s.created),
            appeal: s.appeal.as_ref().map(|a| AppealView {
                text: a.text.clone(),
                created: rfc3339(a.created),
                closed: a.closed.as_ref().map(|(at, _)| rfc3339(*at)),
                outcome: a.closed.as_ref().map(|(_, what)| what.clone()),
            }),
        }
    }
}

/// The latest statement of reasons about the author's comment (edit token as bearer)
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site}/comments/{id}/statement",
    tag = tags::COMMENTS,
    params(CommentPath),
    security(("editToken" = [])),
    responses(
        (status = 200, description = "The statement", body = StatementResponse),
        problem::Unauthorized, problem::Forbidden, problem::NotFound,
    ),
)]
pub async fn statement(
    State(app): State<AppState>,
    ApiPath(CommentPath { site, id }): ApiPath<CommentPath>,
    bearer: Bearer,
) -> ApiResult<Json<StatementResponse>> {
    let site = site_id(&site)?;
    let token = edit_token(bearer)?;
    let s = app.colloquy.statement(&site, id, &token).await?;
    Ok(Json(StatementResponse::from(&s)))
}

/// An author's appeal.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppealBody {
    /// Why the decision should change (at most 5000 characters).
    #[schema(min_length = 1, max_length = 5000)]
    text: String,
}

impl RequestBody for AppealBody {}

/// The author appeals the latest decision about their comment, once (edit token as bearer)
#[utoipa::path(
    post,
    path = "/api/v1/sites/{site}/comments/{id}/appeal",
    tag = tags::COMMENTS,
    params(CommentPath),
    security(("editToken" = [])),
    request_body = AppealBody,
    responses(
        (status = 201, description = "Appealed: the statement with its appeal", body = StatementResponse),
        problem::BadBody, problem::Unauthorized, problem::Forbidden, problem::NotFound, problem::Conflict,
    ),
)]
pub async fn appeal(
    State(app): State<AppState>,
    ApiPath(CommentPath { site, id }): ApiPath<CommentPath>,
    bearer: Bearer,
    ApiJson(b): ApiJson<AppealBody>,
) -> ApiResult<(axum::http::StatusCode, Json<StatementResponse>)> {
    let site = site_id(&site)?;
    let token = edit_token(bearer)?;
    let s = app.colloquy.appeal(&site, id, &token, &b.text).await?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(StatementResponse::from(&s)),
    ))
}
