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
use utoipa::openapi::schema::Schema;
use utoipa::openapi::RefOr;
use utoipa::{IntoParams, PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::api::{site_id, thread_key, CommentPath, SitePath, ThreadPath};
use super::extract::{ApiJson, ApiPath, ApiQuery, Bearer, RequestBody};
use super::openapi::tags;
use super::problem::{self, ApiResult, Problem};
use super::AppState;
use crate::audit::Actor;
use crate::audit::AuditEntry;
use crate::auth::Grant;
use crate::clock::rfc3339;
use crate::comment::QueueFilter;
use crate::comment::{Comment, SiteId, Status, ThreadState};
use crate::moderation::ModerationMode;
use crate::moderation::SiteRules;
use crate::service::Action;
use crate::site::SiteChanges;

/// The moderators' API.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_sites))
        .routes(routes!(get_site, update_site))
        .routes(routes!(queue))
        .routes(routes!(bulk))
        .routes(routes!(get_comment, delete))
        .routes(routes!(act))
        .routes(routes!(set_thread))
        .routes(routes!(rerender))
        .routes(routes!(audit))
        .routes(routes!(privacy_export))
        .routes(routes!(privacy_erase))
}

/// `{site}`, a comment's `{id}` and an `{action}` of a path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ActionPath {
    /// The site's id.
    #[param(inline, value_type = SiteId)]
    #[allow(dead_code)] // read by `AdminSite`, which checks the token for it
    site: String,
    /// The comment's id.
    #[param(minimum = 1)]
    id: i64,
    /// What to do.
    #[param(inline, value_type = Action)]
    action: String,
}

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
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminComment {
    id: i64,
    site: String,
    thread: String,
    #[schema(required = true)]
    parent: Option<i64>,
    status: Status,
    format: String,
    /// The text as written.
    body: String,
    /// The rendered, sanitized HTML.
    html: String,
    policy_version: String,
    #[schema(required = true)]
    author: Option<String>,
    #[schema(required = true)]
    email: Option<String>,
    #[schema(required = true)]
    homepage: Option<String>,
    /// A keyed hash of the poster's address.
    #[schema(required = true)]
    ip_hash: Option<String>,
    #[schema(format = DateTime)]
    created: String,
    #[schema(required = true, format = DateTime)]
    modified: Option<String>,
    /// Why it was held or marked as spam.
    reasons: Vec<String>,
    /// The author asked for e-mails about replies.
    notify_replies: bool,
}

impl From<&Comment> for AdminComment {
    fn from(c: &Comment) -> AdminComment {
        AdminComment {
            id: c.id,
            site: c.site.to_string(),
            thread: c.thread.to_string(),
            parent: c.parent,
            status: c.status,
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

fn non_empty(s: Option<String>) -> Option<String> {
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
    Ok(Json(QueueResponse {
        comments: page.comments.iter().map(AdminComment::from).collect(),
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

/// A site's settings.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Site)]
pub struct SiteResponse {
    id: String,
    /// The formats offered, in order.
    formats: Vec<String>,
    default_format: String,
    moderation: ModerationMode,
    /// Mode `rules`: a comment with this many links is held.
    hold_links: u32,
    /// The same text from the same poster within this many seconds is a
    /// duplicate (0: no check).
    duplicate_window_secs: u32,
    #[serde(flatten)]
    #[schema(schema_with = rules_schema)]
    rules: SiteRules,
}

/// The rules' schema, flattened into a site's: [`SiteRules`] refuses
/// unknown fields, so its own schema forbids other properties, which would
/// forbid the site's.
fn rules_schema() -> RefOr<Schema> {
    let mut schema = SiteRules::schema();
    if let RefOr::T(Schema::Object(object)) = &mut schema {
        object.additional_properties = None;
    }
    schema
}

impl From<crate::site::SiteSettings> for SiteResponse {
    fn from(r: crate::site::SiteSettings) -> SiteResponse {
        SiteResponse {
            id: r.id,
            formats: r.formats,
            default_format: r.default_format,
            moderation: r.moderation,
            hold_links: r.hold_links,
            duplicate_window_secs: r.duplicate_window_secs,
            rules: r.rules,
        }
    }
}

/// Every site.
#[derive(Debug, Serialize, ToSchema)]
pub struct SitesResponse {
    sites: Vec<SiteResponse>,
}

/// All sites (tokens for every site)
#[utoipa::path(
    get,
    path = "/api/v1/admin/sites",
    tag = tags::ADMIN,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Sites", body = SitesResponse),
        problem::Unauthorized, problem::Forbidden,
    ),
)]
pub async fn list_sites(
    State(app): State<AppState>,
    bearer: Bearer,
) -> ApiResult<Json<SitesResponse>> {
    authorize(&app, &bearer, None)?;
    let sites: Vec<SiteResponse> = app
        .colloquy
        .sites()
        .await?
        .into_iter()
        .map(SiteResponse::from)
        .collect();
    Ok(Json(SitesResponse { sites }))
}

/// A site's settings
#[utoipa::path(
    get,
    path = "/api/v1/admin/sites/{site}",
    tag = tags::ADMIN,
    params(SitePath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Site", body = SiteResponse),
        problem::Admin,
    ),
)]
pub async fn get_site(
    State(app): State<AppState>,
    AdminSite(site): AdminSite,
) -> ApiResult<Json<SiteResponse>> {
    let row = app.colloquy.site(&site).await?;
    Ok(Json(SiteResponse::from(row)))
}

/// Changes to a site's settings; absent fields stay as they are. Fields
/// other than these are moderation rules, checked by the service (an
/// unknown name is refused there).
#[derive(Debug, Deserialize, ToSchema)]
pub struct SiteBody {
    #[serde(default)]
    #[schema(min_items = 1)]
    formats: Option<Vec<String>>,
    #[serde(default)]
    default_format: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<ModerationMode>)]
    moderation: Option<String>,
    #[serde(default)]
    hold_links: Option<u32>,
    #[serde(default)]
    #[schema(maximum = 86400)]
    duplicate_window_secs: Option<u32>,
    #[serde(flatten)]
    #[schema(schema_with = rules_schema)]
    rules: serde_json::Map<String, serde_json::Value>,
}

impl RequestBody for SiteBody {}

/// Change a site's formats, default format or moderation (next request sees it)
#[utoipa::path(
    patch,
    path = "/api/v1/admin/sites/{site}",
    tag = tags::ADMIN,
    params(SitePath),
    security(("bearer" = [])),
    request_body = SiteBody,
    responses(
        (status = 200, description = "Site", body = SiteResponse),
        problem::Admin, problem::BadBody,
    ),
)]
pub async fn update_site(
    State(app): State<AppState>,
    AdminSite(site): AdminSite,
    Moderator(actor): Moderator,
    ApiJson(b): ApiJson<SiteBody>,
) -> ApiResult<Json<SiteResponse>> {
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
    Ok(Json(SiteResponse::from(row)))
}

/// A thread state change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThreadBody {
    #[schema(value_type = ThreadState)]
    state: String,
}

impl RequestBody for ThreadBody {}

/// A thread's state.
#[derive(Debug, Serialize, ToSchema)]
pub struct ThreadStateResponse {
    key: String,
    state: ThreadState,
}

/// Set a thread's state
#[utoipa::path(
    put,
    path = "/api/v1/admin/sites/{site}/threads/{thread}",
    tag = tags::ADMIN,
    params(ThreadPath),
    security(("bearer" = [])),
    request_body = ThreadBody,
    responses(
        (status = 200, description = "Thread", body = ThreadStateResponse),
        problem::Admin, problem::BadBody,
    ),
)]
pub async fn set_thread(
    State(app): State<AppState>,
    AdminSite(site): AdminSite,
    Moderator(actor): Moderator,
    ApiPath(ThreadPath { thread, .. }): ApiPath<ThreadPath>,
    ApiJson(b): ApiJson<ThreadBody>,
) -> ApiResult<Json<ThreadStateResponse>> {
    let thread = thread_key(&thread)?;
    let state = ThreadState::parse(&b.state)?;
    app.colloquy
        .set_thread_state(&site, &thread, state, &actor)
        .await?;
    Ok(Json(ThreadStateResponse {
        key: thread.as_str().to_owned(),
        state,
    }))
}

/// What a re-render did.
#[derive(Debug, Serialize, ToSchema)]
pub struct RerenderResponse {
    /// Comments looked at.
    checked: u64,
    /// Comments rendered again.
    rerendered: u64,
    /// Comments whose format no longer exists (left as they were).
    skipped: u64,
}

/// Re-render comments whose policy changed
#[utoipa::path(
    post,
    path = "/api/v1/admin/sites/{site}/rerender",
    tag = tags::ADMIN,
    params(SitePath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Report", body = RerenderResponse),
        problem::Admin,
    ),
)]
pub async fn rerender(
    State(app): State<AppState>,
    AdminSite(site): AdminSite,
) -> ApiResult<Json<RerenderResponse>> {
    let r = app.colloquy.rerender(&site, |_| {}).await?;
    Ok(Json(RerenderResponse {
        checked: r.checked,
        rerendered: r.rerendered,
        skipped: r.skipped,
    }))
}

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
    AdminSite(site): AdminSite,
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
    AdminSite(site): AdminSite,
    Moderator(actor): Moderator,
    ApiJson(b): ApiJson<PrivacyBody>,
) -> ApiResult<Json<ErasedResponse>> {
    let erased = app.colloquy.erase_email(&site, &b.email, &actor).await?;
    Ok(Json(ErasedResponse { erased }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The answers that used to be built with `json!` keep their shapes.
    #[test]
    fn typed_answers_keep_the_wire_shapes() {
        fn wire(v: &impl Serialize) -> serde_json::Value {
            serde_json::to_value(v).unwrap_or_default()
        }
        assert_eq!(
            wire(&ActResponse::Deleted {
                id: 7,
                deleted: true
            }),
            json!({"id": 7, "deleted": true})
        );
        assert_eq!(
            wire(&BulkResult::Moderated {
                id: 1,
                ok: true,
                status: Status::Spam
            }),
            json!({"id": 1, "ok": true, "status": "spam"})
        );
        assert_eq!(
            wire(&BulkResult::Deleted {
                id: 2,
                ok: true,
                deleted: true
            }),
            json!({"id": 2, "ok": true, "deleted": true})
        );
        assert_eq!(
            wire(&BulkResult::Failed {
                id: 3,
                ok: false,
                error: "gone".to_owned(),
                code: "not_found"
            }),
            json!({"id": 3, "ok": false, "error": "gone", "code": "not_found"})
        );
        assert_eq!(
            wire(&ThreadStateResponse {
                key: "k".to_owned(),
                state: ThreadState::Closed
            }),
            json!({"key": "k", "state": "closed"})
        );
    }

    /// The ranges the document gives the rules are those the service checks.
    #[test]
    fn the_documented_ranges_of_the_rules_are_the_checked_ones() {
        use crate::moderation::settings::{MAX_DAYS, MAX_DEPTH, MAX_PER_MINUTE, MAX_SUBMIT_SECS};
        let schema = serde_json::to_value(rules_schema()).unwrap_or_default();
        for (field, max) in [
            ("close_after_days", MAX_DAYS),
            ("max_depth", MAX_DEPTH),
            ("min_submit_secs", MAX_SUBMIT_SECS),
            ("ip_posts_per_minute", MAX_PER_MINUTE),
            ("site_posts_per_minute", MAX_PER_MINUTE),
        ] {
            assert_eq!(schema["properties"][field]["maximum"], max, "{field}");
        }
        assert!(schema.get("additionalProperties").is_none());
    }
}
