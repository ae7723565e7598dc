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
use super::extract::{ApiJson, ApiPath, ApiQuery, Bearer};
use super::problem::{ApiResult, Problem};
use super::AppState;
use crate::auth::Grant;
use crate::comment::{Comment, SiteId, Status, ThreadState};
use crate::config::ModerationMode;
use crate::service::{rfc3339, Action};

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
}

impl From<&Comment> for AdminComment {
    fn from(c: &Comment) -> AdminComment {
        AdminComment {
            id: c.id,
            site: c.site.clone(),
            thread: c.thread.clone(),
            parent: c.parent,
            status: c.status.as_str(),
            format: c.format.clone(),
            body: c.body.clone(),
            html: c.html.clone(),
            policy_version: c.policy_version.clone(),
            author: c.author.clone(),
            email: c.email.clone(),
            homepage: c.homepage.clone(),
            ip_hash: c.ip_hash.clone(),
            created: rfc3339(c.created),
            modified: c.modified.map(rfc3339),
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
}

/// `GET /api/v1/admin/sites/{site}/comments?status=pending,spam&limit=&cursor=`
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
    let page = app
        .colloquy
        .queue(&site, &statuses, q.limit, q.cursor.as_deref())
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
    ApiPath((_, id, action)): ApiPath<(String, i64, String)>,
) -> ApiResult<Json<serde_json::Value>> {
    let action = Action::parse(&action).map_err(|_| {
        Problem::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("there is no action `{action}`"),
        )
    })?;
    let after = app.colloquy.moderate(&site, id, action).await?;
    Ok(Json(match after {
        Some(c) => serde_json::to_value(AdminComment::from(&c)).unwrap_or_default(),
        None => serde_json::json!({ "id": id, "deleted": true }),
    }))
}

/// `DELETE /api/v1/admin/sites/{site}/comments/{id}`
pub async fn delete(
    State(app): State<AppState>,
    AdminSite(site): AdminSite,
    ApiPath((_, id)): ApiPath<(String, i64)>,
) -> ApiResult<StatusCode> {
    app.colloquy.moderate(&site, id, Action::Delete).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A bulk action.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkBody {
    action: String,
    ids: Vec<i64>,
}

/// `POST /api/v1/admin/sites/{site}/comments/bulk` with `{"action", "ids"}`
pub async fn bulk(
    State(app): State<AppState>,
    AdminSite(site): AdminSite,
    ApiJson(b): ApiJson<BulkBody>,
) -> ApiResult<Json<serde_json::Value>> {
    let action = Action::parse(&b.action)?;
    let results = app.colloquy.bulk(&site, action, &b.ids).await?;
    let list: Vec<serde_json::Value> = results
        .into_iter()
        .map(|(id, r)| match r {
            Ok(Some(c)) => serde_json::json!({ "id": id, "ok": true, "status": c.status.as_str() }),
            Ok(None) => serde_json::json!({ "id": id, "ok": true, "deleted": true }),
            Err(e) => serde_json::json!({ "id": id, "ok": false, "error": e.to_string(), "code": e.code() }),
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
}

impl From<crate::store::SiteRow> for SiteResponse {
    fn from(r: crate::store::SiteRow) -> SiteResponse {
        SiteResponse {
            id: r.id,
            formats: r.formats,
            default_format: r.default_format,
            moderation: r.moderation.as_str(),
            hold_links: r.hold_links,
            duplicate_window_secs: r.duplicate_window_secs,
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

/// Changes to a site's settings; absent fields stay as they are.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
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
}

/// `PATCH /api/v1/admin/sites/{site}` — formats, default format, moderation.
pub async fn update_site(
    State(app): State<AppState>,
    AdminSite(site): AdminSite,
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
            b.formats,
            b.default_format,
            moderation,
            b.hold_links,
            b.duplicate_window_secs,
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

/// `PUT /api/v1/admin/sites/{site}/threads/{thread}` with `{"state": "closed"}`
pub async fn set_thread(
    State(app): State<AppState>,
    AdminSite(site): AdminSite,
    ApiPath((_, thread)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<ThreadBody>,
) -> ApiResult<Json<serde_json::Value>> {
    let thread = thread_key(&thread)?;
    let state = ThreadState::parse(&b.state)?;
    app.colloquy.set_thread_state(&site, &thread, state).await?;
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
