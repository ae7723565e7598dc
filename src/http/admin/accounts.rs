//! Moderator accounts: logging in and out, who a token is, and creating
//! accounts (admins only).

use super::*;
use crate::http::api::SitePath;
use crate::http::extract::{ApiJson, ClientIp, RequestBody};
use crate::http::openapi::tags;
use crate::http::problem::{self, ApiResult};
use crate::http::AppState;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A login.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    /// The account's name.
    name: String,
    /// Its password.
    password: String,
}

impl RequestBody for LoginBody {}

/// A session: send `token` as `Authorization: Bearer` to the site's admin
/// endpoints until `expires`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionResponse {
    token: String,
    #[schema(format = DateTime)]
    expires: String,
    /// `moderator` or `admin`.
    role: String,
    /// What the role may do.
    permissions: Vec<&'static str>,
}

/// Log in with a moderator account of the site (no token needed)
#[utoipa::path(
    post,
    path = "/api/v1/admin/sites/{site}/login",
    tag = tags::ADMIN,
    params(SitePath),
    request_body = LoginBody,
    responses(
        (status = 201, description = "Logged in", body = SessionResponse),
        problem::Unauthorized, problem::NotFound, problem::BadBody, problem::RateLimited,
        problem::Busy,
    ),
)]
pub async fn login(
    State(app): State<AppState>,
    ApiPath(SitePath { site }): ApiPath<SitePath>,
    ClientIp(ip): ClientIp,
    ApiJson(b): ApiJson<LoginBody>,
) -> ApiResult<(StatusCode, Json<SessionResponse>)> {
    let site = site_id(&site)?;
    let s = app.colloquy.login(&site, &b.name, &b.password, ip).await?;
    Ok((
        StatusCode::CREATED,
        Json(SessionResponse {
            token: s.token,
            expires: rfc3339(s.expires),
            role: s.role.as_str().to_owned(),
            permissions: s.role.permissions().iter().map(|p| p.as_str()).collect(),
        }),
    ))
}

/// End the session whose token is sent as bearer
#[utoipa::path(
    post,
    path = "/api/v1/admin/sites/{site}/logout",
    tag = tags::ADMIN,
    params(SitePath),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Logged out"),
        problem::Unauthorized, problem::Forbidden, problem::NotFound,
    ),
)]
pub async fn logout(
    State(app): State<AppState>,
    ApiPath(SitePath { site }): ApiPath<SitePath>,
    bearer: Bearer,
) -> ApiResult<StatusCode> {
    site_id(&site)?;
    let ended = match &bearer.0 {
        Some(t) => app.colloquy.logout(t).await?,
        None => false,
    };
    if ended {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send the session token from login as `Authorization: Bearer`",
        ))
    }
}

/// Who a token is on a site.
#[derive(Debug, Serialize, ToSchema)]
pub struct WhoamiResponse {
    /// As the audit log names them: `token:…`, `account:NAME`, `sso:USERNAME`.
    actor: String,
    /// `moderator`, `admin`, or `token` (an admin token: everything).
    role: String,
    permissions: Vec<&'static str>,
}

/// Who the bearer token is, and what it may do on the site
#[utoipa::path(
    get,
    path = "/api/v1/admin/sites/{site}/me",
    tag = tags::ADMIN,
    params(SitePath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Who", body = WhoamiResponse),
        problem::Admin,
    ),
)]
pub async fn whoami(
    State(app): State<AppState>,
    ApiPath(SitePath { site }): ApiPath<SitePath>,
    bearer: Bearer,
) -> ApiResult<Json<WhoamiResponse>> {
    let site = site_id(&site)?;
    app.colloquy.site(&site).await?;
    let who = principal(&app, &bearer, &site).await?;
    Ok(Json(WhoamiResponse {
        actor: who.actor.label(),
        role: who.role.map_or("token", StaffRole::as_str).to_owned(),
        permissions: Permission::ALL
            .into_iter()
            .filter(|p| who.may(*p))
            .map(Permission::as_str)
            .collect(),
    }))
}

/// An account as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountResponse {
    name: String,
    /// `moderator` or `admin`.
    role: String,
}

/// A site's accounts.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountsResponse {
    accounts: Vec<AccountResponse>,
}

/// A site's moderator and admin accounts (edit_settings)
#[utoipa::path(
    get,
    path = "/api/v1/admin/sites/{site}/accounts",
    tag = tags::ADMIN,
    params(SitePath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Accounts", body = AccountsResponse),
        problem::Admin,
    ),
)]
pub async fn list_accounts(
    State(app): State<AppState>,
    SettingsSite(site): SettingsSite,
) -> ApiResult<Json<AccountsResponse>> {
    let accounts = app
        .colloquy
        .accounts(&site)
        .await?
        .into_iter()
        .map(|(name, role)| AccountResponse { name, role })
        .collect();
    Ok(Json(AccountsResponse { accounts }))
}

/// `{site}` and an account's `{name}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AccountPath {
    /// The site's id.
    #[param(inline, value_type = SiteId)]
    #[allow(dead_code)] // read by `SettingsSite`
    site: String,
    /// The account's name (1-64 letters, digits, `.`, `_`, `-`, `@`).
    name: String,
}

/// An account's role and password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountBody {
    /// `moderator` or `admin`.
    #[schema(value_type = String, example = "moderator")]
    role: String,
    /// 12 characters or more; stored as an argon2 hash.
    #[schema(min_length = 12, max_length = 1024)]
    password: String,
}

impl RequestBody for AccountBody {}

/// Remove an account; its sessions end at once (edit_settings)
#[utoipa::path(
    delete,
    path = "/api/v1/admin/sites/{site}/accounts/{name}",
    tag = tags::ADMIN,
    params(AccountPath),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed"),
        problem::Admin,
    ),
)]
pub async fn delete_account(
    State(app): State<AppState>,
    SettingsSite(site): SettingsSite,
    Moderator(actor): Moderator,
    ApiPath(AccountPath { name, .. }): ApiPath<AccountPath>,
) -> ApiResult<StatusCode> {
    app.colloquy.delete_account(&site, &name, &actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Create an account, or change its role and password (its sessions end; edit_settings)
#[utoipa::path(
    put,
    path = "/api/v1/admin/sites/{site}/accounts/{name}",
    tag = tags::ADMIN,
    params(AccountPath),
    security(("bearer" = [])),
    request_body = AccountBody,
    responses(
        (status = 201, description = "Created", body = AccountResponse),
        (status = 200, description = "Changed", body = AccountResponse),
        problem::Admin, problem::BadBody,
    ),
)]
pub async fn put_account(
    State(app): State<AppState>,
    SettingsSite(site): SettingsSite,
    Moderator(actor): Moderator,
    ApiPath(AccountPath { name, .. }): ApiPath<AccountPath>,
    ApiJson(b): ApiJson<AccountBody>,
) -> ApiResult<(StatusCode, Json<AccountResponse>)> {
    let created = app
        .colloquy
        .put_account(&site, &name, &b.role, &b.password, &actor)
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(AccountResponse { name, role: b.role })))
}
