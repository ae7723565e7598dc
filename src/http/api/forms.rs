//! What a comment form needs: the site's formats and their tips, a form
//! stamp, and a preview.

use super::*;
use crate::clock::rfc3339;
use crate::http::extract::{ApiJson, ApiPath, ClientIp, RequestBody};
use crate::http::openapi::tags;
use crate::http::problem::{self, ApiResult};
use crate::http::AppState;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A text format the site offers.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Format)]
pub struct FormatResponse<'a> {
    id: &'a str,
    name: &'a str,
    /// Whether it is the site's default.
    default: bool,
    /// The version of its policy (`sha256:…`).
    version: &'a str,
    /// Short tips for the comment form.
    tips: &'a [String],
    /// Longer tips, for a help page.
    long_tips: &'a [String],
}

/// The formats of a site, and what the comment form offers.
#[derive(Debug, Serialize, ToSchema)]
pub struct FormatsResponse<'a> {
    formats: Vec<FormatResponse<'a>>,
    /// The default format's id.
    default: &'a str,
    /// Whether authors can ask for e-mails about replies (the server sends mail).
    reply_notifications: bool,
}

/// The text formats a site offers, with their tips
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site}/formats",
    tag = tags::COMMENTS,
    params(SitePath),
    responses(
        (status = 200, description = "Formats", body = FormatsResponse),
        problem::NotFound,
    ),
)]
pub async fn formats(
    State(app): State<AppState>,
    ApiPath(SitePath { site }): ApiPath<SitePath>,
) -> ApiResult<Response> {
    let site = site_id(&site)?;
    let (row, policies) = app.colloquy.formats(&site).await?;
    Ok(Json(formats_body(&app, &row, &policies)).into_response())
}

/// What `formats` answers, for the bootstrap too.
pub(crate) fn formats_body<'a>(
    app: &AppState,
    row: &'a crate::site::SiteSettings,
    policies: &[&'a crate::policy::Policy],
) -> FormatsResponse<'a> {
    let list: Vec<FormatResponse<'a>> = policies
        .iter()
        .map(|p| FormatResponse {
            id: p.id(),
            name: p.name(),
            default: p.id() == row.default_format,
            version: p.version(),
            tips: p.tips(),
            long_tips: p.long_tips(),
        })
        .collect();
    FormatsResponse {
        formats: list,
        default: &row.default_format,
        reply_notifications: app.colloquy.config().smtp.is_some(),
    }
}

/// A form stamp and how it is checked.
#[derive(Debug, Serialize, ToSchema)]
pub struct StampResponse {
    stamp: String,
    /// When it stops being accepted.
    #[schema(format = DateTime)]
    expires: String,
    /// A post sooner than this after the stamp was issued is held.
    min_submit_secs: u32,
}

/// A fresh single-use form stamp for a comment form (send it back as `stamp`)
///
/// For a comment form a script builds: the embed asks for one when it
/// shows the form, and after every post.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site}/stamp",
    tag = tags::COMMENTS,
    params(SitePath),
    responses(
        (status = 200, description = "Stamp", body = StampResponse),
        problem::NotFound,
    ),
)]
pub async fn stamp(
    State(app): State<AppState>,
    ApiPath(SitePath { site }): ApiPath<SitePath>,
) -> ApiResult<Response> {
    let site = site_id(&site)?;
    let row = app.colloquy.site(&site).await?;
    let mut response = Json(stamp_body(&app, &row)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// A fresh stamp for a site's form, for `stamp` and the bootstrap.
pub(crate) fn stamp_body(app: &AppState, row: &crate::site::SiteSettings) -> StampResponse {
    let stamp = app.colloquy.form_stamp();
    let issued: i64 = stamp
        .split('.')
        .next()
        .and_then(|ms| ms.parse().ok())
        .unwrap_or(0);
    StampResponse {
        stamp,
        expires: rfc3339(issued + crate::service::STAMP_LIFETIME_MS),
        min_submit_secs: row.rules.min_submit_secs,
    }
}

/// The body of a preview.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewBody {
    body: String,
    #[serde(default)]
    format: Option<String>,
}

impl RequestBody for PreviewBody {}

/// A rendering.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewResponse {
    html: String,
    policy_version: String,
    /// Only where the site scores comments and nudges writers
    /// (`scoring_nudge`): whether the comment may be held for review
    /// before it appears. Never the score itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    may_be_held: Option<bool>,
}

/// Render a comment without storing it
#[utoipa::path(
    post,
    path = "/api/v1/sites/{site}/preview",
    tag = tags::COMMENTS,
    params(SitePath),
    request_body = PreviewBody,
    responses(
        (status = 200, description = "Rendered", body = PreviewResponse),
        problem::BadBody, problem::Forbidden, problem::NotFound, problem::RateLimited,
        problem::Busy,
    ),
)]
pub async fn preview(
    State(app): State<AppState>,
    ApiPath(SitePath { site }): ApiPath<SitePath>,
    ClientIp(ip): ClientIp,
    ApiJson(b): ApiJson<PreviewBody>,
) -> ApiResult<Json<PreviewResponse>> {
    let site = site_id(&site)?;
    let preview = app
        .colloquy
        .preview(&site, b.format.as_deref(), &b.body, ip)
        .await?;
    Ok(Json(PreviewResponse {
        html: preview.rendered.html.as_str().to_owned(),
        policy_version: preview.rendered.policy_version,
        may_be_held: preview.may_be_held,
    }))
}
