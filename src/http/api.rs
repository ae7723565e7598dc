//! Public `/api/v1` handlers: post and list comments, counts, thread state,
//! formats, preview, and the author's own edit and delete.
//!
//! Each handler extracts, calls one service method, and shapes the answer;
//! its `#[utoipa::path]` is its entry in the OpenAPI document, and
//! [`router`] registers both from the same list.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{
    ApiBody, ApiJson, ApiPath, ApiQuery, Bearer, BodyKind, ClientIp, RequestBody,
};
use super::openapi::tags;
use super::problem::{self, ApiResult, Problem};
use super::AppState;
use crate::auth::Grant;
use crate::clock::rfc3339;
use crate::comment::Order;
use crate::comment::Page;
use crate::comment::{Comment, SiteId, Status, ThreadKey, ThreadState};
use crate::service::{FormFields, PostClient, PostInput};

/// The public API of a site.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(formats))
        .routes(routes!(preview))
        .routes(routes!(stamp))
        .routes(routes!(counts_get, counts_post))
        .routes(routes!(thread_info))
        .routes(routes!(list_comments, post_comment))
        .routes(routes!(edit_comment, delete_comment))
}

/// `{site}` of a path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SitePath {
    /// The site's id.
    #[param(inline, value_type = SiteId)]
    pub site: String,
}

/// `{site}` and `{thread}` of a path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ThreadPath {
    /// The site's id.
    #[param(inline, value_type = SiteId)]
    pub site: String,
    /// The article's key, percent-encoded.
    #[param(inline, value_type = ThreadKey)]
    pub thread: String,
}

/// `{site}` and a comment's `{id}` of a path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct CommentPath {
    /// The site's id.
    #[param(inline, value_type = SiteId)]
    pub site: String,
    /// The comment's id.
    #[param(minimum = 1)]
    pub id: i64,
}

/// A published comment as readers see it (no e-mail, no IP hash, no body).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Comment)]
pub struct PublicComment {
    id: i64,
    /// The comment this one replies to.
    #[schema(required = true)]
    parent: Option<i64>,
    thread: String,
    #[schema(required = true)]
    author: Option<String>,
    #[schema(required = true)]
    homepage: Option<String>,
    /// The rendered, sanitized HTML.
    html: String,
    /// The text format it was written in.
    format: String,
    #[schema(format = DateTime)]
    created: String,
    #[schema(required = true, format = DateTime)]
    modified: Option<String>,
}

impl From<&Comment> for PublicComment {
    fn from(c: &Comment) -> PublicComment {
        PublicComment {
            id: c.id,
            parent: c.parent,
            thread: c.thread.to_string(),
            author: c.author.as_deref().map(str::to_owned),
            homepage: c.homepage.as_deref().map(str::to_owned),
            html: c.html.as_str().to_owned(),
            format: c.format.clone(),
            created: rfc3339(c.created),
            modified: c.modified.map(rfc3339),
        }
    }
}

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
}

impl RequestBody for NewCommentBody {}

/// A boolean from JSON, or a checkbox from a form (`on`, `1`, `true`).
fn flag<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
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
fn parent_id<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
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
}

pub(super) fn site_id(site: &str) -> ApiResult<SiteId> {
    SiteId::parse(site).map_err(|_| {
        Problem::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("there is no site `{site}`"),
        )
    })
}

pub(super) fn thread_key(thread: &str) -> ApiResult<ThreadKey> {
    Ok(ThreadKey::parse(thread)?)
}

/// Post a comment (JSON, or a plain HTML form that redirects back)
#[utoipa::path(
    post,
    path = "/api/v1/sites/{site}/threads/{thread}/comments",
    tag = tags::COMMENTS,
    params(ThreadPath),
    request_body(content(
        (NewCommentBody = "application/json"),
        (NewCommentBody = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 201, description = "Stored", body = PostedResponse),
        (status = 303, description = "Form post stored; back to the page"),
        problem::BadBody, problem::Forbidden, problem::NotFound, problem::Conflict,
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
        Some(r) => Some(redirect_target(&app, &site, r)?),
        None => None,
    };
    let client = post_client(&app, &site, &bearer, &headers, is_form);
    let honeypot = b.colloquy_hp.or(b.honeypot);
    let stamp = b.colloquy_ts.or(b.stamp);
    let form = (honeypot.is_some() || stamp.is_some()).then_some(FormFields { honeypot, stamp });
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
            },
            ip,
        )
        .await?;
    app.metrics.comment_posted(posted.comment.status.as_str());
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
    };
    Ok((StatusCode::CREATED, Json(response)).into_response())
}

/// Who sent a post, for the site's form checks: an admin token for the site
/// makes it the site's own backend; an HTML form, or a browser's `Origin`
/// or `Sec-Fetch-Site` header (every current browser sends one with a
/// cross-site `fetch` POST), a browser.
fn post_client(
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
fn redirect_target(app: &AppState, site: &SiteId, target: &str) -> ApiResult<String> {
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
    let allowed = matches!(url.scheme(), "http" | "https")
        && app.colloquy.config().sites.iter().any(|s| {
            s.id == site.as_str() && s.origins.iter().any(|o| o.trim_end_matches('/') == origin)
        });
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
    pub(super) limit: Option<i64>,
    /// The previous page's `next_cursor`.
    #[serde(default)]
    pub(super) cursor: Option<String>,
    /// `oldest` (default) or `newest` first.
    #[serde(default)]
    #[param(schema_with = order_schema)]
    pub(super) order: Option<String>,
}

fn order_schema() -> utoipa::openapi::Object {
    super::openapi::one_of(&["oldest", "newest"])
}

pub(super) fn parse_order(order: Option<&str>) -> ApiResult<Order> {
    match order {
        None | Some("oldest") | Some("asc") => Ok(Order::Oldest),
        Some("newest") | Some("desc") => Ok(Order::Newest),
        Some(other) => Err(Problem::invalid(
            "order",
            format!("`{other}` is not one of oldest, newest"),
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

/// Published comments of a thread, oldest or newest first, a page at a time
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
    let version = app.colloquy.listing_version(&site, &thread).await?;
    let key = super::cache::ListingCache::key(
        site.as_str(),
        thread.as_str(),
        &format!("{order:?}"),
        q.limit,
        q.cursor.as_deref(),
    );
    let cached = version.zip(key.as_deref());
    if let Some(entry) = cached.and_then(|(v, key)| app.listings.get(key, v)) {
        return Ok(respond_cached(
            &headers,
            &entry.etag,
            entry.body,
            "application/json",
        ));
    }
    let Page {
        comments,
        next_cursor,
    } = app
        .colloquy
        .list(&site, &thread, order, q.limit, q.cursor.as_deref())
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
        let entry = super::cache::Entry {
            version: v,
            body: bytes.clone(),
            etag: etag.clone(),
        };
        app.listings.put(key, entry);
    }
    Ok(respond_cached(&headers, &etag, bytes, "application/json"))
}

/// Answers with `bytes`, an ETag, and 304 when the client has them already.
pub(super) fn with_etag(
    headers: &HeaderMap,
    bytes: Vec<u8>,
    content_type: &'static str,
) -> Response {
    let tag = etag_of(&bytes);
    respond_cached(headers, &tag, bytes, content_type)
}

fn etag_of(bytes: &[u8]) -> String {
    format!("\"{:016x}\"", fnv1a(bytes))
}

fn respond_cached(
    headers: &HeaderMap,
    tag: &str,
    bytes: impl IntoResponse,
    content_type: &'static str,
) -> Response {
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    let mut response = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (StatusCode::OK, bytes).into_response()
    };
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(tag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if !matches {
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    response
}

/// FNV-1a, 64 bit: a fast content hash for ETags.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A thread's state and count.
#[derive(Debug, Serialize, ToSchema)]
pub struct ThreadResponse {
    key: String,
    state: ThreadState,
    /// Published comments.
    count: i64,
}

/// A thread's state and published-comment count
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site}/threads/{thread}",
    tag = tags::COMMENTS,
    params(ThreadPath),
    responses(
        (status = 200, description = "Thread", body = ThreadResponse),
        problem::NotFound, problem::Invalid,
    ),
)]
pub async fn thread_info(
    State(app): State<AppState>,
    ApiPath(ThreadPath { site, thread }): ApiPath<ThreadPath>,
) -> ApiResult<Json<ThreadResponse>> {
    let info = app
        .colloquy
        .thread(&site_id(&site)?, &thread_key(&thread)?)
        .await?;
    Ok(Json(ThreadResponse {
        key: info.key,
        state: info.state,
        count: info.count,
    }))
}

/// Threads to count: `?thread=a&thread=b` or a JSON body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum CountsBody {
    /// `["a", "b"]`
    #[schema(value_type = Vec<ThreadKey>)]
    List(Vec<String>),
    /// `{"threads": ["a", "b"]}`
    Object {
        /// The thread keys.
        #[schema(value_type = Vec<ThreadKey>)]
        threads: Vec<String>,
    },
}

/// Published-comment counts by thread key (hidden and unknown threads count 0).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Counts)]
pub struct CountsResponse {
    counts: BTreeMap<String, i64>,
}

/// `?thread=KEY`, repeated: the threads to count.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents what `counts_get` reads by hand
struct CountsQuery {
    /// A thread key; repeat for more.
    #[param(style = Form, explode, value_type = Option<Vec<ThreadKey>>)]
    thread: Vec<String>,
}

impl RequestBody for CountsBody {
    const TAKES_ARRAY: bool = true;
}

async fn counts(
    app: &AppState,
    site: &str,
    threads: Vec<String>,
) -> ApiResult<Json<CountsResponse>> {
    let site = site_id(site)?;
    let keys = threads
        .iter()
        .map(|t| ThreadKey::parse(t))
        .collect::<Result<Vec<_>, _>>()?;
    let counts = app.colloquy.counts(&site, &keys).await?;
    Ok(Json(CountsResponse {
        counts: counts.into_iter().collect(),
    }))
}

/// Published-comment counts of many threads (JSON array of keys)
#[utoipa::path(
    post,
    path = "/api/v1/sites/{site}/counts",
    tag = tags::COMMENTS,
    params(SitePath),
    request_body = CountsBody,
    responses(
        (status = 200, description = "Counts", body = CountsResponse),
        problem::BadBody, problem::Forbidden, problem::NotFound,
    ),
)]
pub async fn counts_post(
    State(app): State<AppState>,
    ApiPath(SitePath { site }): ApiPath<SitePath>,
    ApiJson(body): ApiJson<CountsBody>,
) -> ApiResult<Json<CountsResponse>> {
    let threads = match body {
        CountsBody::List(t) | CountsBody::Object { threads: t } => t,
    };
    counts(&app, &site, threads).await
}

/// Published-comment counts of many threads
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site}/counts",
    tag = tags::COMMENTS,
    params(SitePath, CountsQuery),
    responses(
        (status = 200, description = "Counts", body = CountsResponse),
        problem::Malformed, problem::NotFound, problem::Invalid,
    ),
)]
pub async fn counts_get(
    State(app): State<AppState>,
    ApiPath(SitePath { site }): ApiPath<SitePath>,
    uri: axum::http::Uri,
) -> ApiResult<Json<CountsResponse>> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(uri.query().unwrap_or(""))
        .map_err(|e| Problem::malformed(format!("the query string cannot be read: {e}")))?;
    let mut threads = Vec::new();
    for (k, v) in pairs {
        if k != "thread" {
            return Err(Problem::invalid(
                k,
                "unknown parameter; use thread=KEY, repeated",
            ));
        }
        threads.push(v);
    }
    counts(&app, &site, threads).await
}

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
    let list: Vec<FormatResponse<'_>> = policies
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
    let body = FormatsResponse {
        formats: list,
        default: &row.default_format,
        reply_notifications: app.colloquy.config().smtp.is_some(),
    };
    Ok(Json(body).into_response())
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
    let stamp = app.colloquy.form_stamp();
    let issued: i64 = stamp
        .split('.')
        .next()
        .and_then(|ms| ms.parse().ok())
        .unwrap_or(0);
    let body = StampResponse {
        stamp,
        expires: rfc3339(issued + crate::service::STAMP_LIFETIME_MS),
        min_submit_secs: row.rules.min_submit_secs,
    };
    let mut response = Json(body).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
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
    let rendered = app
        .colloquy
        .preview(&site, b.format.as_deref(), &b.body, ip)
        .await?;
    Ok(Json(PreviewResponse {
        html: rendered.html.as_str().to_owned(),
        policy_version: rendered.policy_version,
    }))
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

fn edit_token(bearer: Bearer) -> ApiResult<String> {
    bearer.0.ok_or_else(|| {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send the comment's edit token as `Authorization: Bearer TOKEN`",
        )
    })
}

/// The author edits a comment (edit token as bearer, inside the edit window)
#[utoipa::path(
    patch,
    path = "/api/v1/sites/{site}/comments/{id}",
    tag = tags::COMMENTS,
    params(CommentPath),
    security(("editToken" = [])),
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
    let c = app
        .colloquy
        .edit(&site, id, &token, b.body, b.format)
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
    security(("editToken" = [])),
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
    app.colloquy.delete_own(&site, id, &token).await?;
    Ok(StatusCode::NO_CONTENT)
}
