//! `/api/v1/admin` handlers, behind `Authorization: Bearer <token>`.
//!
//! A token from `COLLOQUY_ADMIN_TOKEN` or the top-level `admin_tokens`
//! grants every site; a site's own `admin_tokens` grant that site only.
//! Tokens are kept and compared as SHA-256 digests in constant time (see
//! [`crate::auth`]).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::api::{site_id, thread_key};
use super::extract::{ApiJson, ApiPath, ApiQuery, Bearer, RequestBody};
use super::problem::{ApiResult, Problem};
use super::AppState;
use crate::audit::Actor;
use crate::audit::AuditEntry;
use crate::auth::Grant;
use crate::clock::rfc3339;
use crate::comment::QueueFilter;
use crate::comment::{Comment, SiteId, Status, ThreadState};
use crate::moderation::ModerationMode;
use crate::service::Action;
use crate::site::SiteChanges;

/// Checks the bearer token for `site` (or for everything when `None`).
fn authorize(app: &AppState, bearer: &Bearer, site: Option<&SiteId>) -> ApiResult<()> {
    let Some(token) = &bearer.0 else {
        return Err(Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "admin endpoints need `Authorization: Bearer <admin token>`",
        ));
    };
    let tokens = app.colloquy.admin_tokens();
    match tokens.grant(token, site.map(SiteId::as_str)) {
        Grant::Everything | Grant::Site => Ok(()),
        Grant::OtherSite => Err(Problem::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "this token does not grant admin rights on this site",
        )),
        Grant::Nothing => Err(Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "this admin token is not valid",
        )),
    }
}

/// The moderator making a request, for the audit log (known by a
/// fingerprint of their token). Only used next to [`AdminSite`], which
/// checks the token.
#[derive(Debug)]
pub struct Moderator(pub Actor);

impl axum::extract::FromRequestParts<AppState> for Moderator {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        app: &AppState,
    ) -> Result<Self, Problem> {
        let bearer = Bearer::from_request_parts(parts, app).await?;
        Ok(Moderator(match &bearer.0 {
            Some(token) => Actor::moderator(token),
            None => Actor::System,
        }))
    }
}

/// The `{site}` of an admin route, once the bearer token is checked for it:
/// a handler that takes this cannot forget the check.
#[derive(Debug)]
pub struct AdminSite(pub SiteId);

impl axum::extract::FromRequestParts<AppState> for AdminSite {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        app: &AppState,
    ) -> Result<Self, Problem> {
        let ApiPath(params) =
            ApiPath::<std::collections::HashMap<String, String>>::from_request_parts(parts, app)
                .await?;
        let site = site_id(params.get("site").map_or("", String::as_str))?;
        let bearer = Bearer::from_request_parts(parts, app).await?;
        authorize(app, &bearer, Some(&site))?;
        Ok(AdminSite(site))
    }
}

/// A comment as moderators see it: everything, including e-mail and IP hash.
#[derive(Debug, Serialize)]
pub struct AdminComment {
    id: i64,
    site: String,
    thread: String,
    parent: Option<i64>,
    status: &'static str,
    format: String,
    body: String,
    html: String,
    policy_version: String,
    author: Option<String>,
    email: Option<String>,
    homepage: Option<String>,
    ip_hash: Option<String>,
    created: String,
    modified: Option<String>,
    reasons: Vec<String>,
    notify_replies: bool,
}

impl From<&Comment> for AdminComment {
    fn from(c: &Comment) -> AdminComment {
        AdminComment {
            id: c.id,
            site: c.site.to_string(),
            thread: c.thread.to_string(),
            parent: c.parent,
            status: c.status.as_str(),
            format: c.format.clone(),
            body: c.body.clone(),
            html: c.html.as_str().to_owned(),
            policy_version: c.policy_version.clone(),
            author: c.author.as_deref().map(str::to_owned),
            email: c.email.as_deref().map(str::to_owned),
            homepage: c.homepage.as_deref().map(str::to_owned),
            ip_hash: c.ip_hash.clone(),
            created: rfc3339(c.created),
            modified: c.modified.map(rfc3339),
            reasons: c.reasons.clone(),
            notify_replies: c.notify_replies,
        }
    }
}

/// Query of the moderation queue.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    /// Comma-separated statuses (default `pending`).
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    limit: Option<i64>,
    #[serde(default)]
    cursor: Option<String>,
    /// Text the comment contains.
    #[serde(default)]
    q: Option<String>,
    /// Text the author's name or e-mail contains.
    #[serde(default)]
    author: Option<String>,
    /// Exact IP hash.
    #[serde(default)]
    ip_hash: Option<String>,
    /// Exact thread key.
    #[serde(default)]
    thread: Option<String>,
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// `GET /api/v1/admin/sites/{site}/comments?status=pending,spam&q=&author=&ip_hash=&thread=&limit=&cursor=`
pub async fn queue(
    State(app): State<AppState>,
    AdminSite(site): AdminSite,
    ApiQuery(q): ApiQuery<QueueQuery>,
) -> ApiResult<Json<serde_json::Value>> {
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
    let comments: Vec<AdminComment> = page.comments.iter().map(AdminComment::from).collect();
    Ok(Json(
        serde_json::json!({ "comments": comments, "next_cursor": page.next_cursor }),
    ))
}

/// `GET /api/v1/admin/sites/{site}/comments/{id}`
pub async fn get_comment(
    State(app): State<AppState>,
    AdminSite(site): AdminSite,
    ApiPath((_, id)): ApiPath<(String, i64)>,
) -> ApiResult<Json<AdminComment>> {
    let c = app.colloquy.comment(&site, id).await?;
    Ok(Json(AdminComment::from(&c)))
}

/// `POST /api/v1/admin/sites/{site}/comments/{id}/{action}` — approve, spam,
/// trash, restore, unpublish, delete.
pub async fn act(
    State(app): State<AppState>,
    AdminSite(site): AdminSite,
    Moderator(actor): Moderator,
    ApiPath((_, id, action)): ApiPath<(String, i64, String)>,
) -> ApiResult<Json<serde_json::Value>> {
    let action = Action::parse(&action).map_err(|_| {
        Problem::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("there is no action `{action}`"),
        )
    })?;
    let after = app.colloquy.moderate(&site, id, action, &actor).await?;
    Ok(Json(match after {
        Some(c) => serde_json::to_value(AdminComment::from(&c)).unwrap_or_default(),
        None => serde_json::json!({ "id": id, "deleted": true }),
    }))
}

/// `DELETE /api/v1/admin/sites/{site}/comments/{id}`
pub async fn delete(
    State(app): State<AppState>,
    AdminSite(site): AdminSite,
    Moderator(actor): Moderator,
    ApiPath((_, id)): ApiPath<(String, i64)>,
) -> ApiResult<StatusCode> {
    app.colloquy
        .moderate(&site, id, Action::Delete, &actor)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A bulk action.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkBody {
    action: String,
    ids: Vec<i64>,
}

impl RequestBody for BulkBody {}

/// `POST /api/v1/admin/sites/{site}/comments/bulk` with `{"action", "ids"}`
pub async fn bulk(
    State(app): State<AppState>,
    AdminSite(site): AdminSite,
    Moderator(actor): Moderator,
    ApiJson(b): ApiJson<BulkBody>,
) -> ApiResult<Json<serde_json::Value>> {
    let action = Action::parse(&b.action)?;
    let results = app.colloquy.bulk(&site, action, &b.ids, &actor).await?;
    let list: Vec<serde_json::Value> = results
        .into_iter()
        .map(|(id, r)| match r {
            Ok(Some(c)) => serde_json::json!({ "id": id, "ok": true, "status": c.status.as_str() }),
            Ok(None) => serde_json::json!({ "id": id, "ok": true, "deleted": true }),
            Err(e) => serde_json::json!({ "id": id, "ok": false, "error": e.to_string(), "code": e.code().as_str() }),
        })
        .collect();
    Ok(Json(serde_json::json!({ "results": list })))
}

#[derive(Debug, Serialize)]
struct SiteResponse {
    id: String,
    formats: Vec<String>,
    default_format: String,
    moderation: &'static str,
    hold_links: u32,
    duplicate_window_secs: u32,
    #[serde(flatten)]
    rules: crate::moderation::SiteRules,
}

impl From<crate::site::SiteSettings> for SiteResponse {
    fn from(r: crate::site::SiteSettings) -> SiteResponse {
        SiteResponse {
            id: r.id,
            formats: r.formats,
            default_format: r.default_format,
            moderation: r.moderation.as_str(),
            hold_links: r.hold_links,
            duplicate_window_secs: r.duplicate_window_secs,
            rules: r.rules,
        }
    }
}

/// `GET /api/v1/admin/sites` (tokens for every site only)
pub async fn list_sites(
    State(app): State<AppState>,
    bearer: Bearer,
) -> ApiResult<Json<serde_json::Value>> {
    authorize(&app, &bearer, None)?;
    let sites: Vec<SiteResponse> = app
        .colloquy
        .store()
        .sites()
        .await?
        .into_iter()
        .map(SiteResponse::from)
        .collect();
    Ok(Json(serde_json::json!({ "sites": sites })))
}

/// `GET /api/v1/admin/sites/{site}`
pub async fn get_site(
    State(app): State<AppState>,
    AdminSite(site): AdminSite,
) -> ApiResult<Json<serde_json::Value>> {
    let row = app.colloquy.site(&site).await?;
    Ok(Json(
        serde_json::to_value(SiteResponse::from(row)).unwrap_or_default(),
    ))
}

/// Changes to a site's settings; absent fields stay as they are. Fields
/// other than these are moderation rules, checked by the service (an
/// unknown name is refused there).
#[derive(Debug, Deserialize)]
pub struct SiteBody {
    #[serde(default)]
    formats: Option<Vec<String>>,
    #[serde(default)]
    default_format: Option<String>,
    #[serde(default)]
    moderation: Option<String>,
    #[serde(default)]
    hold_links: Option<u32>,
    #[serde(default)]
    duplicate_window_secs: Option<u32>,
    #[serde(flatten)]
    rules: serde_json::Map<String, serde_json::Value>,
}

impl RequestBody for SiteBody {}

/// `PATCH /api/v1/admin/sites/{site}` — formats, moderation and its rules.
pub async fn update_site(
    State(app): State<AppState>,
    AdminSite(site): AdminSite,
    Moderator(actor): Moderator,
    ApiJson(b): ApiJson<SiteBody>,
) -> ApiResult<Json<serde_json::Value>> {
    let moderation = match b.moderation.as_deref() {
        None => None,
        Some(m) => Some(ModerationMode::parse(m).ok_or_else(|| {
            Problem::invalid(
                "moderation",
                format!("`{m}` is not one of publish, hold, rules"),
            )
        })?),
    };
    let row = app
        .colloquy
        .update_site(
            &site,
            SiteChanges {
                formats: b.formats,
                default_format: b.default_format,
                moderation,
                hold_links: b.hold_links,
                duplicate_window_secs: b.duplicate_window_secs,
                rules: b.rules,
            },
            &actor,
        )
        .await?;
    Ok(Json(
        serde_json::to_value(SiteResponse::from(row)).unwrap_or_default(),
    ))
}

/// A thread state change.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThreadBody {
    state: String,
}

impl RequestBody for ThreadBody {}

/// `PUT /api/v1/admin/sites/{site}/threads/{thread}` with `{"state": "closed"}`
pub async fn set_thread(
    State(app): State<AppState>,
    AdminSite(site): AdminSite,
    Moderator(actor): Moderator,
    ApiPath((_, thread)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<ThreadBody>,
) -> ApiResult<Json<serde_json::Value>> {
    let thread = thread_key(&thread)?;
    let state = ThreadState::parse(&b.state)?;
    app.colloquy
        .set_thread_state(&site, &thread, state, &actor)
        .await?;
    Ok(Json(
        serde_json::json!({ "key": thread.as_str(), "state": state.as_str() }),
    ))
}

/// `POST /api/v1/admin/sites/{site}/rerender`
pub async fn rerender(
    State(app): State<AppState>,
    AdminSite(site): AdminSite,
) -> ApiResult<Json<serde_json::Value>> {
    let r = app.colloquy.rerender(&site, |_| {}).await?;
    Ok(Json(
        serde_json::json!({ "checked": r.checked, "rerendered": r.rerendered, "skipped": r.skipped }),
    ))
}

/// An audit-log entry as served.
#[derive(Debug, Serialize)]
struct AuditResponse {
    id: i64,
    comment_id: Option<i64>,
    thread: Option<String>,
    actor: String,
    action: String,
    status: Option<&'static str>,
    reasons: Vec<String>,
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
            status: e.status.map(Status::as_str),
            reasons: e.reasons,
            at: rfc3339(e.created),
        }
    }
}

/// Query of the audit log.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    #[serde(default)]
    comment: Option<i64>,
    #[serde(default)]
    limit: Option<i64>,
    #[serde(default)]
    cursor: Option<String>,
}

/// `GET /api/v1/admin/sites/{site}/audit?comment=&limit=&cursor=`
pub async fn audit(
    State(app): State<AppState>,
    AdminSite(site): AdminSite,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let page = app
        .colloquy
        .audit_log(&site, q.comment, q.limit, q.cursor.as_deref())
        .await?;
    let entries: Vec<AuditResponse> = page.entries.into_iter().map(AuditResponse::from).collect();
    Ok(Json(
        serde_json::json!({ "entries": entries, "next_cursor": page.next_cursor }),
    ))
}

/// The person a privacy request is about.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacyBody {
    email: String,
}

impl RequestBody for PrivacyBody {}

/// `POST /api/v1/admin/sites/{site}/privacy/export` with `{"email"}`:
/// everything stored for that address on the site.
pub async fn privacy_export(
    State(app): State<AppState>,
    AdminSite(site): AdminSite,
    ApiJson(b): ApiJson<PrivacyBody>,
) -> ApiResult<Json<serde_json::Value>> {
    let comments = app.colloquy.export_email(&site, &b.email).await?;
    let comments: Vec<AdminComment> = comments.iter().map(AdminComment::from).collect();
    Ok(Json(serde_json::json!({
        "site": site.as_str(),
        "email": b.email.trim(),
        "exported_at": rfc3339(crate::clock::now_ms()),
        "comments": comments,
    })))
}

/// `POST /api/v1/admin/sites/{site}/privacy/erase` with `{"email"}`:
/// deletes every comment written with that address on the site.
pub async fn privacy_erase(
    State(app): State<AppState>,
    AdminSite(site): AdminSite,
    Moderator(actor): Moderator,
    ApiJson(b): ApiJson<PrivacyBody>,
) -> ApiResult<Json<serde_json::Value>> {
    let erased = app.colloquy.erase_email(&site, &b.email, &actor).await?;
    Ok(Json(serde_json::json!({ "erased": erased })))
}
