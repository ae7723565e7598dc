//! A site's settings, its threads' states, and re-rendering.

use super::*;
use crate::comment::ThreadState;
use crate::http::api::{thread_key, SitePath, ThreadPath};
use crate::http::extract::{ApiJson, ApiPath, Bearer, RequestBody};
use crate::http::openapi::tags;
use crate::http::problem::{self, ApiResult, Problem};
use crate::http::AppState;
use crate::moderation::ModerationMode;
use crate::moderation::SiteRules;
use crate::site::SiteChanges;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::Schema;
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

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
    /// The origins whose pages may use the site's API from a browser
    /// (`scheme://host[:port]`, or `*` for any page).
    origins: Vec<String>,
    /// Where `origins` come from: `admin` (set here) or `file` (the site's
    /// `origins` in colloquy.toml, until set here).
    #[schema(value_type = String, example = "file")]
    origins_source: &'static str,
}

impl SiteResponse {
    /// A site's settings with the origins that apply to it.
    pub(crate) async fn of(
        app: &AppState,
        r: crate::site::SiteSettings,
    ) -> ApiResult<SiteResponse> {
        let id = crate::comment::SiteId::parse(&r.id)
            .map_err(|e| Problem::from(crate::error::Error::internal(e.to_string())))?;
        let (origins, admin) = app.colloquy.site_origins(&id).await?;
        Ok(SiteResponse {
            id: r.id,
            formats: r.formats,
            default_format: r.default_format,
            moderation: r.moderation,
            hold_links: r.hold_links,
            duplicate_window_secs: r.duplicate_window_secs,
            rules: r.rules,
            origins,
            origins_source: if admin { "admin" } else { "file" },
        })
    }
}

/// The rules' schema, flattened into a site's: [`SiteRules`] refuses
/// unknown fields, so its own schema forbids other properties, which would
/// forbid the site's.
pub(crate) fn rules_schema() -> RefOr<Schema> {
    let mut schema = SiteRules::schema();
    if let RefOr::T(Schema::Object(object)) = &mut schema {
        object.additional_properties = None;
    }
    schema
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
    let mut sites = Vec::new();
    for row in app.colloquy.sites().await? {
        sites.push(SiteResponse::of(&app, row).await?);
    }
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
    Ok(Json(SiteResponse::of(&app, row).await?))
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
    /// The origins whose pages may use the site's API from a browser, each
    /// `scheme://host[:port]` (or `*`); they replace the file's. `null`
    /// goes back to the site's `origins` in colloquy.toml.
    #[serde(default, deserialize_with = "set_or_null")]
    #[schema(value_type = Option<Vec<String>>, nullable)]
    origins: Option<Option<Vec<String>>>,
    #[serde(flatten)]
    #[schema(schema_with = rules_schema)]
    rules: serde_json::Map<String, serde_json::Value>,
}

impl RequestBody for SiteBody {}

/// A present field: `Some(value)`, `Some(None)` for `null` (absent is the
/// field's default, `None`).
fn set_or_null<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<Vec<String>>>, D::Error> {
    Option::<Vec<String>>::deserialize(d).map(Some)
}

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
    SettingsSite(site): SettingsSite,
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
                origins: b.origins,
            },
            &actor,
        )
        .await?;
    Ok(Json(SiteResponse::of(&app, row).await?))
}

/// A change to a thread: its state, title or address (each optional).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThreadBody {
    #[schema(value_type = Option<ThreadState>)]
    #[serde(default)]
    state: Option<String>,
    /// The article's title (at most 300 characters, one line).
    #[serde(default)]
    title: Option<String>,
    /// The article's canonical `http(s)://` address.
    #[serde(default)]
    url: Option<String>,
}

impl RequestBody for ThreadBody {}

/// A thread's state.
#[derive(Debug, Serialize, ToSchema)]
pub struct ThreadStateResponse {
    pub(crate) key: String,
    pub(crate) state: ThreadState,
    /// The article's title, where known.
    #[schema(required = true)]
    pub(crate) title: Option<String>,
    /// The article's address, where known.
    #[schema(required = true)]
    pub(crate) url: Option<String>,
}

/// Set a thread's state, title or address
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
    // Everything is checked before anything changes.
    let state = b.state.as_deref().map(ThreadState::parse).transpose()?;
    let meta = crate::comment::ThreadMeta::parse(b.title.as_deref(), b.url.as_deref(), "")?;
    if state.is_none() && meta.is_empty() {
        return Err(Problem::from(crate::error::Error::invalid(
            "state",
            "give a state, a title or a url to change",
        )));
    }
    if let Some(state) = state {
        app.colloquy
            .set_thread_state(&site, &thread, state, &actor)
            .await?;
    }
    app.colloquy
        .set_thread_meta(&site, &thread, &meta, &actor)
        .await?;
    let (state, meta) = app.colloquy.thread_admin(&site, &thread).await?;
    Ok(Json(ThreadStateResponse {
        key: thread.as_str().to_owned(),
        state,
        title: meta.title,
        url: meta.url,
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
    SettingsSite(site): SettingsSite,
) -> ApiResult<Json<RerenderResponse>> {
    let r = app.colloquy.rerender(&site, |_| {}).await?;
    Ok(Json(RerenderResponse {
        checked: r.checked,
        rerendered: r.rerendered,
        skipped: r.skipped,
    }))
}
