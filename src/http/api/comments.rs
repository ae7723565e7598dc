//! Comments of a thread: post (JSON or a plain form), list a page at a
//! time, and the author's edit and delete.

use super::*;
use crate::auth::Grant;
use crate::clock::rfc3339;
use crate::comment::Order;
use crate::comment::Page;
use crate::comment::{SiteId, Status};
use crate::http::extract::{
    ApiBody, ApiJson, ApiPath, ApiQuery, Bearer, BodyKind, ClientIp, RequestBody,
};
use crate::http::openapi::tags;
use crate::http::problem::{self, ApiResult, Problem};
use crate::http::AppState;
use crate::service::{FormFields, PostClient, PostInput, Proof};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The body of a new comment (JSON or form fields).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = NewComment)]
#[serde(deny_unknown_fields)]
pub struct NewCommentBody {
    /// The text, in its format.
    body: String,
    #[serde(default)]
    author: Option<String>,
    /// Never served publicly.
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    homepage: Option<String>,
    /// The text format (the site's default if absent).
    #[serde(default)]
    format: Option<String>,
    /// The published comment this one replies to.
    #[serde(default, deserialize_with = "parent_id")]
    parent: Option<i64>,
    /// E-mail the author when a reply is published, once the address is
    /// confirmed by the link of a confirmation e-mail (forms: a checkbox).
    #[serde(default, deserialize_with = "flag")]
    notify_replies: bool,
    /// Form posts: the page to return to.
    #[serde(default)]
    redirect: Option<String>,
    /// Honeypot field, left empty by people (also `honeypot`).
    #[serde(default)]
    colloquy_hp: Option<String>,
    /// The single-use form stamp from `GET …/stamp` or the form (also `stamp`).
    #[serde(default)]
    colloquy_ts: Option<String>,
    /// Same as `colloquy_hp`.
    #[serde(default)]
    honeypot: Option<String>,
    /// Same as `colloquy_ts`.
    #[serde(default)]
    stamp: Option<String>,
    /// The article's title (the embed sends its page's): kept for the
    /// thread if it has none yet.
    #[serde(default)]
    thread_title: Option<String>,
    /// The article's canonical address, on one of the site's origins: kept
    /// for the thread if it has none yet.
    #[serde(default)]
    thread_url: Option<String>,
}

impl RequestBody for NewCommentBody {}

/// A boolean from JSON, or a checkbox from a form (`on`, `1`, `true`).
pub(crate) fn flag<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Bool(bool),
        Text(String),
    }
    match Option::<Raw>::deserialize(d)? {
        None => Ok(false),
        Some(Raw::Bool(b)) => Ok(b),
        Some(Raw::Text(s)) => match s.trim() {
            "on" | "1" | "true" | "yes" => Ok(true),
            "" | "off" | "0" | "false" | "no" => Ok(false),
            other => Err(serde::de::Error::custom(format!(
                "`{other}` is not true or false"
            ))),
        },
    }
}

/// `parent` may be a number, a numeric string (HTML forms), empty or null.
pub(crate) fn parent_id<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Number(i64),
        Text(String),
    }
    match Option::<Raw>::deserialize(d)? {
        None => Ok(None),
        Some(Raw::Number(n)) => Ok(Some(n)),
        Some(Raw::Text(s)) if s.trim().is_empty() => Ok(None),
        Some(Raw::Text(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("`{s}` is not a comment id"))),
    }
}

/// A comment as stored for its author: the comment, how it was moderated,
/// and the token to edit it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Posted)]
pub struct PostedResponse {
    #[serde(flatten)]
    comment: PublicComment,
    /// `published`, `pending` or `spam`.
    status: Status,
    policy_version: String,
    /// Send as `Authorization: Bearer` to edit or delete the comment.
    edit_token: String,
    /// Until when it can be edited.
    #[schema(format = DateTime)]
    edit_until: String,
    /// Why it was held or marked as spam.
    reasons: Vec<String>,
    /// The moderators' warning to the author, shown with one post.
    #[serde(skip_serializing_if = "Option::is_none")]
    notice: Option<String>,
}

/// Post a comment (JSON, or a plain HTML form that redirects back)
#[utoipa::path(
    post,
    path = "/api/v1/sites/{site}/threads/{thread}/comments",
    tag = tags::COMMENTS,
    params(ThreadPath),
    security((), ("signIn" = [])),
    request_body(content(
        (NewCommentBody = "application/json"),
        (NewCommentBody = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 201, description = "Stored", body = PostedResponse),
        (status = 303, description = "Form post stored; back to the page"),
        problem::BadBody, problem::Unauthorized, problem::Forbidden, problem::NotFound, problem::Conflict,
        problem::RateLimited, problem::Busy,
    ),
)]
pub async fn post_comment(
    State(app): State<AppState>,
    ApiPath(ThreadPath { site, thread }): ApiPath<ThreadPath>,
    ClientIp(ip): ClientIp,
    bearer: Bearer,
    headers: HeaderMap,
    body: ApiBody<NewCommentBody>,
) -> ApiResult<Response> {
    let site = site_id(&site)?;
    let thread = thread_key(&thread)?;
    let b = body.value;
    let is_form = body.kind == BodyKind::Form;
    // Checked before the write: a bad target must refuse the post, never
    // fail the answer after the comment is stored.
    let redirect = match b
        .redirect
        .as_deref()
        .filter(|r| is_form && !r.trim().is_empty())
    {
        Some(r) => Some(redirect_target(&app, &site, r).await?),
        None => None,
    };
    let client = post_client(&app, &site, &bearer, &headers, is_form);
    let identity = match bearer.0.as_deref() {
        Some(t) if client != PostClient::Trusted && crate::service::looks_like_jwt(t) => {
            app.colloquy.reader(&site, Some(t), ip).await?.identity
        }
        _ => None,
    };
    let honeypot = b.colloquy_hp.or(b.honeypot);
    let stamp = b.colloquy_ts.or(b.stamp);
    let form = (honeypot.is_some() || stamp.is_some()).then_some(FormFields { honeypot, stamp });
    // Checked before anything is stored: a bad address changes nothing.
    let meta = app
        .colloquy
        .thread_meta_from_page(&site, b.thread_title.as_deref(), b.thread_url.as_deref())
        .await?;
    let posted = app
        .colloquy
        .post(
            &site,
            &thread,
            PostInput {
                author: b.author,
                email: b.email,
                homepage: b.homepage,
                body: b.body,
                format: b.format,
                parent: b.parent,
                notify_replies: b.notify_replies,
                form,
                client,
                identity,
            },
            ip,
        )
        .await?;
    app.metrics.comment_posted(posted.comment.status.as_str());
    if let Err(e) = app.colloquy.note_thread_meta(&site, &thread, &meta).await {
        // The comment is stored; a title can be set again later.
        tracing::warn!(error = %e, "keeping the thread's title and address failed");
    }
    if let Some(target) = redirect {
        let target = format!("{target}#comment-{}", posted.comment.id);
        return Ok(Redirect::to(&target).into_response());
    }
    let response = PostedResponse {
        status: posted.comment.status,
        policy_version: posted.comment.policy_version.clone(),
        comment: PublicComment::from(&posted.comment),
        edit_token: posted.edit_token,
        edit_until: rfc3339(posted.edit_until),
        reasons: posted.reasons,
        notice: posted.notice,
    };
    Ok((StatusCode::CREATED, Json(response)).into_response())
}

/// Who sent a post, for the site's form checks: an admin token for the site
/// makes it the site's own backend; an HTML form, or a browser's `Origin`
/// or `Sec-Fetch-Site` header (every current browser sends one with a
/// cross-site `fetch` POST), a browser.
pub(crate) fn post_client(
    app: &AppState,
    site: &SiteId,
    bearer: &Bearer,
    headers: &HeaderMap,
    is_form: bool,
) -> PostClient {
    let trusted = bearer.0.as_deref().is_some_and(|t| {
        matches!(
            app.colloquy.admin_tokens().grant(t, Some(site.as_str())),
            Grant::Everything | Grant::Site
        )
    });
    if trusted {
        PostClient::Trusted
    } else if is_form
        || headers.contains_key(header::ORIGIN)
        || headers.contains_key("sec-fetch-site")
    {
        PostClient::Browser
    } else {
        PostClient::Server
    }
}

/// Where a form post may send the browser afterwards: a path on this
/// server, or a page on one of the site's configured origins.
///
/// The target is parsed as a browser parses a `Location` (WHATWG URL,
/// relative to this server), and the result is checked, so what a browser
/// would make of it is what passes or fails: `/\t/evil.example` is
/// `//evil.example` to a browser (tabs and newlines are dropped, `\` is
/// `/`), which is another host. What is sent back is the parsed URL's
/// serialization, always a valid header value.
///
/// # Errors
/// A problem naming `redirect`, before anything is stored.
pub(crate) async fn redirect_target(
    app: &AppState,
    site: &SiteId,
    target: &str,
) -> ApiResult<String> {
    const THIS_SERVER: &str = "http://colloquy.invalid/";
    let refuse = || {
        Problem::invalid(
            "redirect",
            "give a path on this server (/sites/…) or a page on one of the site's origins",
        )
    };
    let server = url::Url::parse(THIS_SERVER).map_err(|_| refuse())?;
    let url = server.join(target).map_err(|_| refuse())?;
    if url.origin() == server.origin() {
        // Relative again: only the path and query, as parsed.
        let mut path = url.path().to_owned();
        if let Some(q) = url.query() {
            path.push('?');
            path.push_str(q);
        }
        return Ok(path);
    }
    let origin = url.origin().ascii_serialization();
    let (origins, _) = app.colloquy.site_origins(site).await?;
    let allowed = matches!(url.scheme(), "http" | "https") && origins.contains(&origin);
    if !allowed {
        return Err(refuse());
    }
    let mut url = url;
    url.set_fragment(None);
    Ok(url.to_string())
}

/// Query of a listing (JSON, fragment).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Comments per page (default 50).
    #[serde(default)]
    #[param(minimum = 1, maximum = 200)]
    pub(crate) limit: Option<i64>,
    /// The previous page's `next_cursor`.
    #[serde(default)]
    pub(crate) cursor: Option<String>,
    /// `oldest` (default), `newest` or `best` (Wilson score of the votes)
    /// first; pinned comments come first in each.
    #[serde(default)]
    #[param(schema_with = order_schema)]
    pub(crate) order: Option<String>,
}

pub(crate) fn order_schema() -> utoipa::openapi::Object {
    crate::http::openapi::one_of(&["oldest", "newest", "best"])
}

pub(crate) fn parse_order(order: Option<&str>) -> ApiResult<Order> {
    match order {
        None | Some("oldest") | Some("asc") => Ok(Order::Oldest),
        Some("newest") | Some("desc") => Ok(Order::Newest),
        Some("best") => Ok(Order::Best),
        Some(other) => Err(Problem::invalid(
            "order",
            format!("`{other}` is not one of oldest, newest, best"),
        )),
    }
}

/// A page of a thread's published comments.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListResponse {
    comments: Vec<PublicComment>,
    /// The `cursor` of the next page; null on the last.
    #[schema(required = true)]
    next_cursor: Option<String>,
}

/// Published comments of a thread, pinned first, then oldest, newest or best first, a page at a time
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site}/threads/{thread}/comments",
    tag = tags::COMMENTS,
    params(ThreadPath, ListQuery),
    responses(
        (status = 200, description = "A page", body = ListResponse),
        (status = 304, description = "Not modified (If-None-Match)"),
        problem::NotFound, problem::Invalid,
    ),
)]
pub async fn list_comments(
    State(app): State<AppState>,
    ApiPath(ThreadPath { site, thread }): ApiPath<ThreadPath>,
    ApiQuery(q): ApiQuery<ListQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let site = site_id(&site)?;
    let thread = thread_key(&thread)?;
    let order = parse_order(q.order.as_deref())?;
    let (bytes, etag) = listing(&app, &site, &thread, order, q.limit, q.cursor.as_deref()).await?;
    Ok(respond_cached(&headers, &etag, bytes, "application/json"))
}

/// One page of a listing as JSON bytes and their ETag, from the listing
/// cache when the thread has not changed since (first pages only).
pub(crate) async fn listing(
    app: &AppState,
    site: &SiteId,
    thread: &crate::comment::ThreadKey,
    order: Order,
    limit: Option<i64>,
    cursor: Option<&str>,
) -> ApiResult<(axum::body::Bytes, String)> {
    let version = app.colloquy.listing_version(site, thread).await?;
    let key = crate::http::cache::ListingCache::key(
        site.as_str(),
        thread.as_str(),
        &format!("{order:?}"),
        limit,
        cursor,
    );
    let cached = version.zip(key.as_deref());
    if let Some(entry) = cached.and_then(|(v, key)| app.listings.get(key, v)) {
        return Ok((entry.body, entry.etag));
    }
    let Page {
        comments,
        next_cursor,
    } = app
        .colloquy
        .list(site, thread, order, limit, cursor)
        .await?;
    let body = ListResponse {
        comments: comments.iter().map(PublicComment::from).collect(),
        next_cursor,
    };
    let bytes = serde_json::to_vec(&body)
        .map_err(|e| Problem::from(crate::error::Error::internal(e.to_string())))?;
    let etag = etag_of(&bytes);
    let bytes = axum::body::Bytes::from(bytes);
    if let (Some(v), Some(key)) = (version, key) {
        let entry = crate::http::cache::Entry {
            version: v,
            body: bytes.clone(),
            etag: etag.clone(),
        };
        app.listings.put(key, entry);
    }
    Ok((bytes, etag))
}

/// An author's edit.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditBody {
    body: String,
    #[serde(default)]
    format: Option<String>,
}

/// A comment after its author's edit.
#[derive(Debug, Serialize, ToSchema)]
pub struct EditedResponse {
    #[serde(flatten)]
    comment: PublicComment,
    status: Status,
}

impl RequestBody for EditBody {}

pub(crate) fn edit_token(bearer: Bearer) -> ApiResult<String> {
    bearer.0.ok_or_else(|| {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send the comment's edit token, or the site's sign-in token, as `Authorization: Bearer TOKEN`",
        )
    })
}

/// The signed-in reader a bearer token names, when it is a sign-in token
/// (a JWT) rather than an edit token.
async fn signed_in(
    app: &AppState,
    site: &SiteId,
    token: &str,
) -> ApiResult<Option<crate::reader::Identity>> {
    if !crate::service::looks_like_jwt(token) {
        return Ok(None);
    }
    Ok(app.colloquy.reader(site, Some(token), None).await?.identity)
}

/// The author edits a comment (edit token as bearer, inside the edit window)
#[utoipa::path(
    patch,
    path = "/api/v1/sites/{site}/comments/{id}",
    tag = tags::COMMENTS,
    params(CommentPath),
    security(("editToken" = []), ("signIn" = [])),
    request_body = EditBody,
    responses(
        (status = 200, description = "Edited", body = EditedResponse),
        problem::BadBody, problem::Unauthorized, problem::Forbidden, problem::NotFound,
        problem::Busy,
    ),
)]
pub async fn edit_comment(
    State(app): State<AppState>,
    ApiPath(CommentPath { site, id }): ApiPath<CommentPath>,
    bearer: Bearer,
    ApiJson(b): ApiJson<EditBody>,
) -> ApiResult<Json<EditedResponse>> {
    let site = site_id(&site)?;
    let token = edit_token(bearer)?;
    let identity = signed_in(&app, &site, &token).await?;
    let proof = match &identity {
        Some(who) => Proof::Identity(who),
        None => Proof::EditToken(&token),
    };
    let c = app
        .colloquy
        .edit_by(&site, id, proof, b.body, b.format)
        .await?;
    Ok(Json(EditedResponse {
        comment: PublicComment::from(&c),
        status: c.status,
    }))
}

/// The author deletes a comment (edit token as bearer, inside the edit window)
#[utoipa::path(
    delete,
    path = "/api/v1/sites/{site}/comments/{id}",
    tag = tags::COMMENTS,
    params(CommentPath),
    security(("editToken" = []), ("signIn" = [])),
    responses(
        (status = 204, description = "Deleted"),
        problem::Unauthorized, problem::Forbidden, problem::NotFound,
    ),
)]
pub async fn delete_comment(
    State(app): State<AppState>,
    ApiPath(CommentPath { site, id }): ApiPath<CommentPath>,
    bearer: Bearer,
) -> ApiResult<StatusCode> {
    let site = site_id(&site)?;
    let token = edit_token(bearer)?;
    let identity = signed_in(&app, &site, &token).await?;
    let proof = match &identity {
        Some(who) => Proof::Identity(who),
        None => Proof::EditToken(&token),
    };
    app.colloquy.delete_by(&site, id, proof).await?;
    Ok(StatusCode::NO_CONTENT)
}
