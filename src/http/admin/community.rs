//! The reported queue, dismissing reports, and the enforcement ladder.

use super::records::AuditResponse;
use super::*;
use crate::http::api::{CommentPath, SitePath};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, RequestBody};
use crate::http::openapi::tags;
use crate::http::problem::{self, ApiResult, Problem};
use crate::http::AppState;
use crate::service::LadderAction;
use crate::service::{ActionRow, ReportRow, StandingRow};
use axum::extract::State;
use axum::Json;

/// A report as moderators see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportView {
    id: i64,
    comment_id: i64,
    /// The reader (`user:ID` or `ip:HASH`): a key for the commenter page.
    reader: String,
    reason: String,
    /// The law an `illegal` report names.
    #[schema(required = true)]
    law: Option<String>,
    #[schema(required = true)]
    text: Option<String>,
    /// How many readers it counts as.
    weight: f64,
    #[schema(format = DateTime)]
    created: String,
    /// When a moderator dismissed it.
    #[schema(required = true, format = DateTime)]
    dismissed: Option<String>,
}

impl From<&ReportRow> for ReportView {
    fn from(r: &ReportRow) -> ReportView {
        ReportView {
            id: r.id,
            comment_id: r.comment_id,
            reader: r.reader.clone(),
            reason: r.reason.clone(),
            law: r.law.clone(),
            text: r.text.clone(),
            weight: crate::report::readers(u32::try_from(r.weight).unwrap_or(0)),
            created: rfc3339(r.created),
            dismissed: r.dismissed.map(rfc3339),
        }
    }
}

/// A reported comment with its open reports.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportedItem {
    comment: AdminComment,
    reports: Vec<ReportView>,
}

/// A page of the reported queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportedResponse {
    comments: Vec<ReportedItem>,
    /// The `cursor` of the next page; null on the last.
    #[schema(required = true)]
    next_cursor: Option<String>,
}

/// Query of the reported queue.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportedQuery {
    /// Comments per page (default 50).
    #[serde(default)]
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// The previous page's `next_cursor`.
    #[serde(default)]
    cursor: Option<String>,
}

/// The reported queue: comments with open reports, newest first, with the reports
#[utoipa::path(
    get,
    path = "/api/v1/admin/sites/{site}/reports",
    tag = tags::ADMIN,
    params(SitePath, ReportedQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Reported comments", body = ReportedResponse),
        problem::Admin, problem::Invalid,
    ),
)]
pub async fn reported(
    State(app): State<AppState>,
    AdminSite(site): AdminSite,
    ApiQuery(q): ApiQuery<ReportedQuery>,
) -> ApiResult<Json<ReportedResponse>> {
    let page = app
        .colloquy
        .reported(&site, q.limit, q.cursor.as_deref())
        .await?;
    Ok(Json(ReportedResponse {
        comments: page
            .comments
            .iter()
            .map(|r| ReportedItem {
                comment: AdminComment::from(&r.comment),
                reports: r.reports.iter().map(ReportView::from).collect(),
            })
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Dismissing a comment's reports.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DismissBody {
    /// Publish the comment again if it is held.
    #[serde(default)]
    republish: bool,
}

impl RequestBody for DismissBody {}

/// What dismissing did.
#[derive(Debug, Serialize, ToSchema)]
pub struct DismissResponse {
    /// Reports dismissed.
    dismissed: u64,
    /// The comment afterwards.
    comment: AdminComment,
}

/// Dismiss a comment's open reports (they count against their readers' weight), optionally publishing it again
#[utoipa::path(
    post,
    path = "/api/v1/admin/sites/{site}/comments/{id}/reports/dismiss",
    tag = tags::ADMIN,
    params(CommentPath),
    request_body = DismissBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Dismissed", body = DismissResponse),
        problem::Admin, problem::BadBody, problem::Conflict,
    ),
)]
pub async fn dismiss_reports(
    State(app): State<AppState>,
    AdminSite(site): AdminSite,
    Moderator(actor): Moderator,
    ApiPath(CommentPath { id, .. }): ApiPath<CommentPath>,
    ApiJson(b): ApiJson<DismissBody>,
) -> ApiResult<Json<DismissResponse>> {
    let (n, c) = app
        .colloquy
        .dismiss_reports(&site, id, b.republish, &actor)
        .await?;
    Ok(Json(DismissResponse {
        dismissed: n,
        comment: AdminComment::from(&c),
    }))
}

/// `{site}` and a commenter's `{key}` of a path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct CommenterPath {
    /// The site's id.
    #[param(inline, value_type = SiteId)]
    #[allow(dead_code)] // read by `AdminSite`
    site: String,
    /// `user:ID`, `email:ADDRESS` or `ip:HASH` (the queue's `ip_hash`).
    #[param(max_length = 300)]
    key: String,
}

/// A ladder action.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LadderBody {
    /// `warn`, `premoderate`, `suspend`, `shadow_ban`, `ban` or `clear`.
    #[schema(inline, value_type = String, pattern = "^(warn|premoderate|suspend|shadow_ban|ban|clear)$")]
    action: String,
    /// When it ends (RFC 3339, in the future); required for `suspend`.
    #[serde(default)]
    #[schema(format = DateTime)]
    until: Option<String>,
    /// Why (kept in the audit log and the history).
    #[schema(min_length = 1, max_length = 500)]
    reason: String,
}

impl RequestBody for LadderBody {}

/// A commenter's standing.
#[derive(Debug, Serialize, ToSchema)]
pub struct StandingView {
    /// The step: `warn`, `premoderate`, `suspend`, `shadow_ban`, `ban`.
    step: String,
    #[schema(required = true, format = DateTime)]
    until: Option<String>,
    reason: String,
    /// Who set it.
    actor: String,
    #[schema(format = DateTime)]
    updated: String,
    /// A warning was shown with a post.
    warned: bool,
    /// It applies now (its `until` has not passed).
    in_force: bool,
}

/// One ladder action of the history.
#[derive(Debug, Serialize, ToSchema)]
pub struct LadderEntry {
    action: String,
    #[schema(required = true, format = DateTime)]
    until: Option<String>,
    reason: String,
    actor: String,
    #[schema(format = DateTime)]
    created: String,
}

impl From<&ActionRow> for LadderEntry {
    fn from(a: &ActionRow) -> LadderEntry {
        LadderEntry {
            action: a.action.clone(),
            until: a.until.map(rfc3339),
            reason: a.reason.clone(),
            actor: a.actor.clone(),
            created: rfc3339(a.created),
        }
    }
}

fn standing_view(s: &StandingRow, in_force: bool) -> StandingView {
    StandingView {
        step: s.step.clone(),
        until: s.until.map(rfc3339),
        reason: s.reason.clone(),
        actor: s.actor.clone(),
        updated: rfc3339(s.updated),
        warned: s.warned,
        in_force,
    }
}

/// A commenter: standing and history.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommenterResponse {
    key: String,
    /// Null when none is set (or it was cleared).
    #[schema(required = true)]
    standing: Option<StandingView>,
    /// Ladder actions, newest first.
    actions: Vec<LadderEntry>,
    /// Their comments (by e-mail or address hash), newest first.
    comments: Vec<AdminComment>,
    /// The audit log of those comments, newest first.
    decisions: Vec<AuditResponse>,
    /// Reports they made, newest first.
    reports_made: Vec<ReportView>,
    /// Reports on their comments, newest first.
    reports_received: Vec<ReportView>,
}

async fn commenter_response(
    app: &AppState,
    site: &SiteId,
    key: &str,
) -> ApiResult<Json<CommenterResponse>> {
    let v = app.colloquy.commenter(site, key).await?;
    Ok(Json(CommenterResponse {
        key: v.key.to_string(),
        standing: v.standing.as_ref().map(|s| standing_view(s, v.in_force)),
        actions: v.actions.iter().map(LadderEntry::from).collect(),
        comments: v.comments.iter().map(AdminComment::from).collect(),
        decisions: v
            .decisions
            .iter()
            .cloned()
            .map(AuditResponse::from)
            .collect(),
        reports_made: v.reports_made.iter().map(ReportView::from).collect(),
        reports_received: v.reports_received.iter().map(ReportView::from).collect(),
    }))
}

/// A commenter's standing and history: comments, decisions, reports made and received
#[utoipa::path(
    get,
    path = "/api/v1/admin/sites/{site}/commenters/{key}",
    tag = tags::ADMIN,
    params(CommenterPath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The commenter", body = CommenterResponse),
        problem::Admin, problem::Invalid,
    ),
)]
pub async fn get_commenter(
    State(app): State<AppState>,
    AdminSite(site): AdminSite,
    ApiPath(CommenterPath { key, .. }): ApiPath<CommenterPath>,
) -> ApiResult<Json<CommenterResponse>> {
    commenter_response(&app, &site, &key).await
}

/// Put a commenter on a step of the ladder (warn, premoderate, suspend, shadow_ban, ban) or clear it
#[utoipa::path(
    put,
    path = "/api/v1/admin/sites/{site}/commenters/{key}",
    tag = tags::ADMIN,
    params(CommenterPath),
    request_body = LadderBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The commenter afterwards", body = CommenterResponse),
        problem::Admin, problem::BadBody,
    ),
)]
pub async fn set_commenter(
    State(app): State<AppState>,
    AdminSite(site): AdminSite,
    Moderator(actor): Moderator,
    ApiPath(CommenterPath { key, .. }): ApiPath<CommenterPath>,
    ApiJson(b): ApiJson<LadderBody>,
) -> ApiResult<Json<CommenterResponse>> {
    let action = LadderAction::parse(&b.action).ok_or_else(|| {
        Problem::invalid(
            "action",
            "one of warn, premoderate, suspend, shadow_ban, ban, clear",
        )
    })?;
    let until = match b.until.as_deref() {
        None => None,
        Some(t) => Some(parse_time(t).ok_or_else(|| {
            Problem::invalid("until", "an RFC 3339 time such as 2026-12-01T18:00:00Z")
        })?),
    };
    app.colloquy
        .set_commenter(&site, &key, action, until, &b.reason, &actor)
        .await?;
    commenter_response(&app, &site, &key).await
}

/// An RFC 3339 time as Unix milliseconds.
fn parse_time(t: &str) -> Option<i64> {
    let at = time::OffsetDateTime::parse(t.trim(), &time::format_description::well_known::Rfc3339)
        .ok()?;
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok()
}
