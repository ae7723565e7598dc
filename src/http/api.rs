//! Public `/api/v1` handlers: post and list comments, counts, thread state,
//! formats, preview, and the author's own edit and delete.
//!
//! Each handler extracts, calls one service method, and shapes the answer.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::extract::{
    ApiBody, ApiJson, ApiPath, ApiQuery, Bearer, BodyKind, ClientIp, RequestBody,
};
use super::problem::{ApiResult, Problem};
use super::AppState;
use crate::auth::Grant;
use crate::clock::rfc3339;
use crate::comment::Order;
use crate::comment::Page;
use crate::comment::{Comment, SiteId, ThreadKey};
use crate::service::{FormFields, PostClient, PostInput};

/// A published comment as readers see it (no e-mail, no IP hash, no body).
#[derive(Debug, Serialize)]
pub struct PublicComment {
    id: i64,
    parent: Option<i64>,
    thread: String,
    author: Option<String>,
    homepage: Option<String>,
    html: String,
    format: String,
    created: String,
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
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCommentBody {
    body: String,
    #[serde(default)]
    author: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    homepage: Option<String>,
    #[serde(default)]
    format: Option<String>,
    #[serde(default, deserialize_with = "parent_id")]
    parent: Option<i64>,
    /// E-mail me when a reply is published (`true`, or a checked box).
    #[serde(default, deserialize_with = "flag")]
    notify_replies: bool,
    /// Forms only: where to send the browser afterwards.
    #[serde(default)]
    redirect: Option<String>,
    /// The honeypot, which people leave empty (`honeypot` in JSON).
    #[serde(default, alias = "honeypot")]
    colloquy_hp: Option<String>,
    /// The form stamp from `GET …/stamp` or the form (`stamp` in JSON).
    #[serde(default, alias = "stamp")]
    colloquy_ts: Option<String>,
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

#[derive(Debug, Serialize)]
struct PostedResponse {
    #[serde(flatten)]
    comment: PublicComment,
    status: &'static str,
    policy_version: String,
    edit_token: String,
    edit_until: String,
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

/// `POST /api/v1/sites/{site}/threads/{thread}/comments`
pub async fn post_comment(
    State(app): State<AppState>,
    ApiPath((site, thread)): ApiPath<(String, String)>,
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
    let form = (b.colloquy_hp.is_some() || b.colloquy_ts.is_some()).then_some(FormFields {
        honeypot: b.colloquy_hp,
        stamp: b.colloquy_ts,
    });
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
        status: posted.comment.status.as_str(),
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
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[serde(default)]
    pub(super) limit: Option<i64>,
    #[serde(default)]
    pub(super) cursor: Option<String>,
    #[serde(default)]
    pub(super) order: Option<String>,
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

#[derive(Debug, Serialize)]
struct ListResponse {
    comments: Vec<PublicComment>,
    next_cursor: Option<String>,
}

/// `GET /api/v1/sites/{site}/threads/{thread}/comments`
pub async fn list_comments(
    State(app): State<AppState>,
    ApiPath((site, thread)): ApiPath<(String, String)>,
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

#[derive(Debug, Serialize)]
struct ThreadResponse {
    key: String,
    state: &'static str,
    count: i64,
}

/// `GET /api/v1/sites/{site}/threads/{thread}`
pub async fn thread_info(
    State(app): State<AppState>,
    ApiPath((site, thread)): ApiPath<(String, String)>,
) -> ApiResult<Json<serde_json::Value>> {
    let info = app
        .colloquy
        .thread(&site_id(&site)?, &thread_key(&thread)?)
        .await?;
    let r = ThreadResponse {
        key: info.key,
        state: info.state.as_str(),
        count: info.count,
    };
    Ok(Json(serde_json::to_value(r).unwrap_or_default()))
}

/// Threads to count: `?thread=a&thread=b` or a JSON body.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum CountsBody {
    /// `["a", "b"]`
    List(Vec<String>),
    /// `{"threads": ["a", "b"]}`
    Object {
        /// The thread keys.
        threads: Vec<String>,
    },
}

impl RequestBody for CountsBody {
    const TAKES_ARRAY: bool = true;
}

async fn counts(
    app: &AppState,
    site: &str,
    threads: Vec<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let site = site_id(site)?;
    let keys = threads
        .iter()
        .map(|t| ThreadKey::parse(t))
        .collect::<Result<Vec<_>, _>>()?;
    let counts = app.colloquy.counts(&site, &keys).await?;
    let map: serde_json::Map<String, serde_json::Value> = counts
        .into_iter()
        .map(|(k, n)| (k, serde_json::Value::from(n)))
        .collect();
    Ok(Json(serde_json::json!({ "counts": map })))
}

/// `POST /api/v1/sites/{site}/counts` with `["a","b"]` or `{"threads":[…]}`
pub async fn counts_post(
    State(app): State<AppState>,
    ApiPath(site): ApiPath<String>,
    ApiJson(body): ApiJson<CountsBody>,
) -> ApiResult<Json<serde_json::Value>> {
    let threads = match body {
        CountsBody::List(t) | CountsBody::Object { threads: t } => t,
    };
    counts(&app, &site, threads).await
}

/// `GET /api/v1/sites/{site}/counts?thread=a&thread=b`
pub async fn counts_get(
    State(app): State<AppState>,
    ApiPath(site): ApiPath<String>,
    uri: axum::http::Uri,
) -> ApiResult<Json<serde_json::Value>> {
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

#[derive(Debug, Serialize)]
struct FormatResponse<'a> {
    id: &'a str,
    name: &'a str,
    default: bool,
    version: &'a str,
    tips: &'a [String],
    long_tips: &'a [String],
}

/// `GET /api/v1/sites/{site}/formats`
pub async fn formats(
    State(app): State<AppState>,
    ApiPath(site): ApiPath<String>,
) -> ApiResult<Json<serde_json::Value>> {
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
    Ok(Json(serde_json::json!({
        "formats": list,
        "default": row.default_format,
        "reply_notifications": app.colloquy.config().smtp.is_some(),
    })))
}

#[derive(Debug, Serialize)]
struct StampResponse {
    stamp: String,
    expires: String,
    min_submit_secs: u32,
}

/// `GET /api/v1/sites/{site}/stamp`: a fresh single-use form stamp, for a
/// comment form a script builds (the embed asks for one when it shows the
/// form, and after every post). Send it back as `stamp` with the comment.
pub async fn stamp(
    State(app): State<AppState>,
    ApiPath(site): ApiPath<String>,
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
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviewBody {
    body: String,
    #[serde(default)]
    format: Option<String>,
}

impl RequestBody for PreviewBody {}

/// `POST /api/v1/sites/{site}/preview`
pub async fn preview(
    State(app): State<AppState>,
    ApiPath(site): ApiPath<String>,
    ClientIp(ip): ClientIp,
    ApiJson(b): ApiJson<PreviewBody>,
) -> ApiResult<Json<serde_json::Value>> {
    let site = site_id(&site)?;
    let rendered = app
        .colloquy
        .preview(&site, b.format.as_deref(), &b.body, ip)
        .await?;
    Ok(Json(
        serde_json::json!({ "html": rendered.html.as_str(), "policy_version": rendered.policy_version }),
    ))
}

/// An author's edit.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditBody {
    body: String,
    #[serde(default)]
    format: Option<String>,
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

/// `PATCH /api/v1/sites/{site}/comments/{id}` (author, with the edit token)
pub async fn edit_comment(
    State(app): State<AppState>,
    ApiPath((site, id)): ApiPath<(String, i64)>,
    bearer: Bearer,
    ApiJson(b): ApiJson<EditBody>,
) -> ApiResult<Json<serde_json::Value>> {
    let site = site_id(&site)?;
    let token = edit_token(bearer)?;
    let c = app
        .colloquy
        .edit(&site, id, &token, b.body, b.format)
        .await?;
    let mut v = serde_json::to_value(PublicComment::from(&c)).unwrap_or_default();
    v["status"] = c.status.as_str().into();
    Ok(Json(v))
}

/// `DELETE /api/v1/sites/{site}/comments/{id}` (author, with the edit token)
pub async fn delete_comment(
    State(app): State<AppState>,
    ApiPath((site, id)): ApiPath<(String, i64)>,
    bearer: Bearer,
) -> ApiResult<StatusCode> {
    let site = site_id(&site)?;
    let token = edit_token(bearer)?;
    app.colloquy.delete_own(&site, id, &token).await?;
    Ok(StatusCode::NO_CONTENT)
}
