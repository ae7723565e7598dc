//! Records of what happened and of whom: the audit log, and privacy
//! export and erasure for one address.

use super::*;
use crate::audit::AuditEntry;
use crate::clock::rfc3339;
use crate::comment::Status;
use crate::http::api::SitePath;
use crate::http::extract::{ApiJson, ApiQuery, RequestBody};
use crate::http::openapi::tags;
use crate::http::problem::{self, ApiResult};
use crate::http::AppState;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// An audit-log entry as served.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AuditEntry)]
pub struct AuditResponse {
    id: i64,
    #[schema(required = true)]
    comment_id: Option<i64>,
    #[schema(required = true)]
    thread: Option<String>,
    /// `rules`, `author`, `system` or `token:<fingerprint>`.
    actor: String,
    /// `post`, `approve`, `spam`, `trash`, `restore`, `unpublish`, `delete`,
    /// `edit`, `site`, `thread`, `erase`, …
    action: String,
    /// The comment's status afterwards.
    #[schema(required = true)]
    status: Option<Status>,
    /// Why, in sentences.
    reasons: Vec<String>,
    #[schema(format = DateTime)]
    at: String,
}

impl From<AuditEntry> for AuditResponse {
    fn from(e: AuditEntry) -> AuditResponse {
        AuditResponse {
            id: e.id,
            comment_id: e.comment_id,
            thread: e.thread,
            actor: e.actor,
            action: e.action,
            status: e.status,
            reasons: e.reasons,
            at: rfc3339(e.created),
        }
    }
}

/// Query of the audit log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only the entries of this comment.
    #[serde(default)]
    comment: Option<i64>,
    /// Entries per page (default 50).
    #[serde(default)]
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// The previous page's `next_cursor`.
    #[serde(default)]
    cursor: Option<String>,
}

/// A page of the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditLogResponse {
    entries: Vec<AuditResponse>,
    /// The `cursor` of the next page; null on the last.
    #[schema(required = true)]
    next_cursor: Option<String>,
}

/// Audit log: every automatic decision and moderator action, newest first
#[utoipa::path(
    get,
    path = "/api/v1/admin/sites/{site}/audit",
    tag = tags::ADMIN,
    params(SitePath, AuditQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Entries", body = AuditLogResponse),
        problem::Malformed, problem::Admin, problem::Invalid,
    ),
)]
pub async fn audit(
    State(app): State<AppState>,
    AdminSite(site): AdminSite,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Json<AuditLogResponse>> {
    let page = app
        .colloquy
        .audit_log(&site, q.comment, q.limit, q.cursor.as_deref())
        .await?;
    Ok(Json(AuditLogResponse {
        entries: page.entries.into_iter().map(AuditResponse::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// The person a privacy request is about.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = PrivacyRequest)]
#[serde(deny_unknown_fields)]
pub struct PrivacyBody {
    #[schema(max_length = 254)]
    email: String,
}

impl RequestBody for PrivacyBody {}

/// Everything stored on a site for an e-mail address.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportResponse {
    site: String,
    email: String,
    #[schema(format = DateTime)]
    exported_at: String,
    comments: Vec<AdminComment>,
}

/// Everything stored on the site for an e-mail address
#[utoipa::path(
    post,
    path = "/api/v1/admin/sites/{site}/privacy/export",
    tag = tags::ADMIN,
    params(SitePath),
    security(("bearer" = [])),
    request_body = PrivacyBody,
    responses(
        (status = 200, description = "Export", body = ExportResponse),
        problem::Admin, problem::BadBody,
    ),
)]
pub async fn privacy_export(
    State(app): State<AppState>,
    CommentersSite(site): CommentersSite,
    ApiJson(b): ApiJson<PrivacyBody>,
) -> ApiResult<Json<ExportResponse>> {
    let comments = app.colloquy.export_email(&site, &b.email).await?;
    Ok(Json(ExportResponse {
        site: site.as_str().to_owned(),
        email: b.email.trim().to_owned(),
        exported_at: rfc3339(crate::clock::now_ms()),
        comments: comments.iter().map(AdminComment::from).collect(),
    }))
}

/// How many comments an erasure deleted.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErasedResponse {
    erased: u64,
}

/// Delete every comment written with an e-mail address on the site
#[utoipa::path(
    post,
    path = "/api/v1/admin/sites/{site}/privacy/erase",
    tag = tags::ADMIN,
    params(SitePath),
    security(("bearer" = [])),
    request_body = PrivacyBody,
    responses(
        (status = 200, description = "Erased", body = ErasedResponse),
        problem::Admin, problem::BadBody,
    ),
)]
pub async fn privacy_erase(
    State(app): State<AppState>,
    CommentersSite(site): CommentersSite,
    Moderator(actor): Moderator,
    ApiJson(b): ApiJson<PrivacyBody>,
) -> ApiResult<Json<ErasedResponse>> {
    let erased = app.colloquy.erase_email(&site, &b.email, &actor).await?;
    Ok(Json(ErasedResponse { erased }))
}
