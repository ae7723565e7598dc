//! The one-click links of notification e-mails:
//! `/notify/{site}/comments/{id}/{approve|spam|trash|unsubscribe|confirm}?…&exp=&sig=`.
//!
//! `GET` only shows what the link would do, with a button; the button (a
//! `POST` to the same address) does it. Mail scanners that fetch every link
//! in a message therefore change nothing. `POST` is also what RFC 8058
//! one-click unsubscribe sends (`List-Unsubscribe=One-Click`). The link's
//! signature is the authorization.
//!
//! Moderation links carry `from=pending&n=<nonce>`: they act once, and only
//! while the comment is still held. The nonce is recorded and the status
//! compared and set in one transaction (audited with actor `system`), so a
//! replayed link, or a second link of the same e-mail, is refused, and so
//! is a link to a comment a moderator has acted on since; the `GET` page
//! says so before anyone presses the button. Unsubscribe and confirmation
//! links are idempotent and work again.
//!
//! Also here, for moderators: the site's outbox (`GET …/deliveries`) and a
//! fresh set of attempts for a delivery that failed (`POST …/retry`).

use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::openapi::Object;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::admin::AdminSite;
use super::api::{site_id, SitePath};
use super::extract::{ApiPath, ApiQuery};
use super::openapi::{one_of, tags};
use super::pages::escape::filters;
use super::pages::render;
use super::problem::{self, ApiResult, Problem};
use super::AppState;
use crate::clock::{now_ms, rfc3339};
use crate::comment::{Comment, SiteId, Status};
use crate::notify::links::{Link, LinkAction, SingleUse};
use crate::outbox::{Delivery, LinkOutcome, Subscription};
use crate::service::Action;
use crate::SafeHtml;

/// The links and the outbox.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(confirm, act))
        .routes(routes!(deliveries))
        .routes(routes!(retry))
}

/// `{site}`, `{id}` and `{action}` of a link.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct LinkPath {
    /// The site's id.
    #[param(inline, value_type = crate::comment::SiteId)]
    site: String,
    /// The comment's id.
    #[param(minimum = 1)]
    id: i64,
    /// What the link does.
    #[param(inline, value_type = LinkAction)]
    action: String,
}

/// The signed part of a link. Unknown parameters (mail trackers add some)
/// are ignored.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LinkQuery {
    /// Moderation links: the status the e-mail was about (signed); the link
    /// acts only while the comment has it.
    #[serde(default)]
    #[param(inline, value_type = Option<Status>)]
    from: Option<String>,
    /// Moderation links: the e-mail's nonce (signed); the first link of an
    /// e-mail used uses it up.
    #[serde(default)]
    n: Option<String>,
    /// Expiry, Unix seconds (signed).
    exp: i64,
    /// HMAC-SHA-256 of site, comment, action, status, nonce and expiry.
    sig: String,
}

/// `{site}` and a delivery's `{id}` of a path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct DeliveryPath {
    /// The site's id.
    #[param(inline, value_type = crate::comment::SiteId)]
    #[allow(dead_code)] // read by `AdminSite`, which checks the token for it
    site: String,
    /// The delivery's id.
    #[param(minimum = 1)]
    id: i64,
}

impl LinkQuery {
    /// The query again, where the confirmation form posts.
    fn form_action(&self) -> String {
        let mut q = url::form_urlencoded::Serializer::for_suffix(String::from("?"), 1);
        if let Some(from) = &self.from {
            q.append_pair("from", from);
        }
        if let Some(n) = &self.n {
            q.append_pair("n", n);
        }
        q.append_pair("exp", &self.exp.to_string());
        q.append_pair("sig", &self.sig);
        q.finish()
    }
}

/// A link whose signature and expiry are good.
struct Checked {
    site: SiteId,
    action: LinkAction,
    /// Moderation links: what they may do, once.
    single_use: Option<SingleUse>,
}

/// Checks the link; returns what it grants.
async fn check(
    app: &AppState,
    site: &str,
    id: i64,
    action: &str,
    q: &LinkQuery,
) -> ApiResult<Checked> {
    let site = site_id(site)?;
    let action = LinkAction::parse(action).ok_or_else(|| {
        Problem::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("there is no link action `{action}`; links end in approve, spam, trash, unsubscribe or confirm"),
        )
    })?;
    let from = match q.from.as_deref() {
        // Not a status: no link of ours, whatever its signature says.
        Some(f) => Some(Status::parse(f).map_err(|_| {
            crate::error::Error::forbidden(
                crate::error::Code::Forbidden,
                "this link is not valid: it was changed; open the whole link from the e-mail",
            )
        })?),
        None => None,
    };
    let link = Link {
        site: site.as_str().to_owned(),
        comment: id,
        action,
        from,
        nonce: q.n.clone(),
        expires: q.exp,
    };
    let single_use = app
        .colloquy
        .keys()
        .link_signer()
        .verify(&link, &q.sig, now_ms())?;
    Ok(Checked {
        site,
        action,
        single_use,
    })
}

/// Why a moderation link cannot act any more, if it cannot.
async fn spent(app: &AppState, grant: &SingleUse, comment: &Comment) -> ApiResult<Option<String>> {
    if app.colloquy.link_used(&grant.nonce).await? {
        return Ok(Some(used_message(comment.status)));
    }
    if comment.status != grant.from {
        return Ok(Some(moved_message(comment.status)));
    }
    Ok(None)
}

fn used_message(now: Status) -> String {
    format!(
        "this link was already used: one link of a moderation e-mail works once. The comment is now {}.",
        now.as_str()
    )
}

fn moved_message(now: Status) -> String {
    format!(
        "this comment was moderated since this e-mail was sent: it is now {}. \
         Use the moderation queue to change it.",
        now.as_str()
    )
}

/// One-click link from a notification e-mail: a confirmation page with a button (changes nothing), or a page saying why the link no longer works
#[utoipa::path(
    get,
    path = "/notify/{site}/comments/{id}/{action}",
    operation_id = "link_confirm",
    tag = tags::LINKS,
    params(LinkPath, LinkQuery),
    responses(
        (status = 200, description = "Confirmation page", content_type = "text/html", body = String),
        (status = 409, description = "The link was used already, the comment was moderated since the e-mail, or the address unsubscribed", content_type = "text/html", body = String),
        problem::Malformed, problem::Forbidden, problem::NotFound, problem::Invalid,
    ),
)]
pub async fn confirm(
    State(app): State<AppState>,
    ApiPath(LinkPath { site, id, action }): ApiPath<LinkPath>,
    ApiQuery(q): ApiQuery<LinkQuery>,
) -> ApiResult<Response> {
    let checked = check(&app, &site, id, &action, &q).await?;
    let comment = app.colloquy.comment(&checked.site, id).await?;
    if let Some(grant) = &checked.single_use {
        if let Some(why) = spent(&app, grant, &comment).await? {
            return Ok(refused(LinkPage {
                message: Some(Message::Spent(why)),
                comment: Some(describe(comment)),
                ..LinkPage::titled("This link no longer works")
            }));
        }
    }
    let (title, button) = match checked.action {
        LinkAction::Approve => ("Publish this comment?", "Approve"),
        LinkAction::Spam => ("Mark this comment as spam?", "Mark as spam"),
        LinkAction::Trash => ("Move this comment to the trash?", "Move to trash"),
        LinkAction::Unsubscribe => ("Stop all e-mails?", "Unsubscribe"),
        LinkAction::Confirm => ("Get e-mails about replies?", "Confirm"),
    };
    let mut view = LinkPage {
        button: Some((q.form_action(), button)),
        ..LinkPage::titled(title)
    };
    match checked.action {
        LinkAction::Unsubscribe => view.message = Some(Message::Unsubscribe),
        LinkAction::Confirm => {
            if app.colloquy.subscription_of(&comment).await? == Some(Subscription::Suppressed) {
                return Ok(refused(LinkPage {
                    message: Some(Message::Suppressed),
                    ..LinkPage::titled("This address unsubscribed")
                }));
            }
            view.message = Some(Message::Confirm);
        }
        _ => view.comment = Some(describe(comment)),
    }
    Ok(view.into_response())
}

/// Carry out a one-click link: approve, spam or trash a held comment, once (audited, actor `system`); stop every e-mail to the comment's address (RFC 8058 one-click unsubscribe); or confirm that address for reply e-mails
#[utoipa::path(
    post,
    path = "/notify/{site}/comments/{id}/{action}",
    operation_id = "link_act",
    tag = tags::LINKS,
    params(LinkPath, LinkQuery),
    responses(
        (status = 200, description = "Done page", content_type = "text/html", body = String),
        problem::Malformed, problem::Forbidden, problem::NotFound, problem::Conflict,
        problem::TooLarge, problem::Invalid,
    ),
)]
pub async fn act(
    State(app): State<AppState>,
    ApiPath(LinkPath { site, id, action }): ApiPath<LinkPath>,
    ApiQuery(q): ApiQuery<LinkQuery>,
) -> ApiResult<Response> {
    let checked = check(&app, &site, id, &action, &q).await?;
    let site = checked.site;
    let moderation = match checked.action {
        LinkAction::Approve => Action::Approve,
        LinkAction::Spam => Action::Spam,
        LinkAction::Trash => Action::Trash,
        LinkAction::Unsubscribe => {
            // Every comment of its address stops, and the address stays off.
            app.colloquy.unsubscribe(&site, id).await?;
            return Ok(LinkPage {
                message: Some(Message::Unsubscribed),
                ..LinkPage::titled("Unsubscribed")
            }
            .into_response());
        }
        LinkAction::Confirm => {
            let state = app.colloquy.confirm_subscription(&site, id).await?;
            if state == Subscription::Suppressed {
                return Err(Problem::new(
                    StatusCode::CONFLICT,
                    "unsubscribed",
                    "this address asked for no e-mail from this site, so it cannot be subscribed again",
                ));
            }
            return Ok(LinkPage {
                message: Some(Message::Confirmed),
                ..LinkPage::titled("Confirmed")
            }
            .into_response());
        }
    };
    let grant = checked.single_use.ok_or_else(|| {
        Problem::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "this link is not valid; open the whole link from the e-mail",
        )
    })?;
    let outcome = app
        .colloquy
        .moderate_by_link(&site, id, moderation, &grant, q.exp)
        .await?;
    match outcome {
        LinkOutcome::Done => {
            let status = app
                .colloquy
                .comment(&site, id)
                .await
                .map_or_else(|_| "deleted".to_owned(), |c| c.status.as_str().to_owned());
            Ok(LinkPage {
                message: Some(Message::Done { id, status }),
                ..LinkPage::titled("Done")
            }
            .into_response())
        }
        LinkOutcome::AlreadyUsed => {
            let now = app.colloquy.comment(&site, id).await?.status;
            Err(Problem::new(
                StatusCode::CONFLICT,
                "link_used",
                used_message(now),
            ))
        }
        LinkOutcome::Moved(now) => Err(Problem::new(
            StatusCode::CONFLICT,
            "moderated_since",
            moved_message(now),
        )),
        LinkOutcome::Gone => Err(Problem::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("there is no comment {id} on site `{site}` any more"),
        )),
    }
}

/// `templates/link.html`: the page of a one-click link.
#[derive(Template)]
#[template(path = "link.html")]
struct LinkPage {
    title: &'static str,
    message: Option<Message>,
    comment: Option<Described>,
    /// Where the confirmation form posts, and its button's label.
    button: Option<(String, &'static str)>,
}

/// What a link page says (the sentences are in the template).
enum Message {
    /// Why a moderation link no longer works.
    Spent(String),
    /// What an unsubscribe link will do.
    Unsubscribe,
    /// What a confirmation link will do.
    Confirm,
    /// The address asked for no e-mail: it cannot confirm.
    Suppressed,
    Unsubscribed,
    Confirmed,
    /// A moderation link acted: the comment's status now.
    Done {
        id: i64,
        status: String,
    },
}

/// The comment as the moderator needs to judge it: place, author, status
/// and its stored (safe) HTML.
struct Described {
    thread: String,
    author: String,
    status: &'static str,
    html: SafeHtml,
}

fn describe(c: Comment) -> Described {
    Described {
        thread: c.thread.into_string(),
        author: c
            .author
            .map_or_else(|| "anonymous".to_owned(), |a| a.into_string()),
        status: c.status.as_str(),
        html: c.html,
    }
}

impl LinkPage {
    /// A page with a title and nothing else yet.
    fn titled(title: &'static str) -> Self {
        LinkPage {
            title,
            message: None,
            comment: None,
            button: None,
        }
    }
}

impl IntoResponse for LinkPage {
    fn into_response(self) -> Response {
        let html = match render(&self) {
            Ok(html) => html,
            Err(failed) => return failed.into_response(),
        };
        let mut response = Html(html).into_response();
        let headers = response.headers_mut();
        // No scripts, no framing (a hidden frame could click the button), and
        // the form may post only here. The signed URL must not be cached.
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; form-action 'self'; frame-ancestors 'none'",
            ),
        );
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

/// A page saying why a link does nothing (409).
fn refused(page: LinkPage) -> Response {
    (StatusCode::CONFLICT, page).into_response()
}

// ---- admin: the outbox ----------------------------------------------------

/// Query of the delivery list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveriesQuery {
    /// Only deliveries in this state.
    #[serde(default)]
    #[param(schema_with = delivery_state)]
    state: Option<String>,
    /// Deliveries per page (default 50).
    #[serde(default)]
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// The previous page's `next_before`.
    #[serde(default)]
    before: Option<i64>,
}

/// Where a delivery can be, as the outbox stores it.
const DELIVERY_STATES: [&str; 3] = ["pending", "sent", "failed"];

/// What a delivery can send, as the outbox stores it.
const DELIVERY_KINDS: [&str; 3] = ["webhook", "moderator_email", "reply_email"];

fn delivery_state() -> Object {
    one_of(&DELIVERY_STATES)
}

fn delivery_kind() -> Object {
    one_of(&DELIVERY_KINDS)
}

/// One notification delivery (a webhook call or an e-mail).
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryResponse {
    id: i64,
    /// The audit event that caused it.
    event_id: i64,
    #[schema(required = true)]
    comment_id: Option<i64>,
    #[schema(schema_with = delivery_kind)]
    kind: String,
    /// URL or e-mail address.
    target: String,
    #[schema(schema_with = delivery_state)]
    state: String,
    /// Attempts made so far.
    attempts: i64,
    /// When it is due (pending only).
    #[schema(required = true, format = DateTime)]
    next_attempt_at: Option<String>,
    /// Why the last attempt failed.
    #[schema(required = true)]
    last_error: Option<String>,
}

impl From<&Delivery> for DeliveryResponse {
    fn from(d: &Delivery) -> DeliveryResponse {
        DeliveryResponse {
            id: d.id,
            event_id: d.event_id,
            comment_id: d.comment_id,
            kind: d.kind.clone(),
            target: d.target.clone(),
            state: d.state.clone(),
            attempts: d.attempts,
            next_attempt_at: (d.state == "pending").then(|| rfc3339(d.next_attempt_at)),
            last_error: d.last_error.clone(),
        }
    }
}

/// A page of the outbox.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveriesResponse {
    deliveries: Vec<DeliveryResponse>,
    /// The `before` of the next page; null on the last.
    #[schema(required = true)]
    next_before: Option<i64>,
}

/// Notification outbox: webhook and e-mail deliveries, newest first, with attempts and the last error
#[utoipa::path(
    get,
    path = "/api/v1/admin/sites/{site}/deliveries",
    tag = tags::ADMIN,
    params(SitePath, DeliveriesQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Deliveries", body = DeliveriesResponse),
        problem::Malformed, problem::Admin, problem::Invalid,
    ),
)]
pub async fn deliveries(
    State(app): State<AppState>,
    AdminSite(site): AdminSite,
    ApiQuery(q): ApiQuery<DeliveriesQuery>,
) -> ApiResult<Json<DeliveriesResponse>> {
    if let Some(s) = q.state.as_deref() {
        if !DELIVERY_STATES.contains(&s) {
            return Err(Problem::invalid(
                "state",
                format!("`{s}` is not one of pending, sent, failed"),
            ));
        }
    }
    let limit = q.limit;
    let list = app
        .colloquy
        .deliveries(&site, q.state.as_deref(), q.before, limit)
        .await?;
    let limit = limit
        .unwrap_or(50.min(i64::try_from(app.colloquy.config().limits.max_batch).unwrap_or(200)));
    let next = (i64::try_from(list.len()).unwrap_or(0) == limit)
        .then(|| list.last().map(|d| d.id))
        .flatten();
    Ok(Json(DeliveriesResponse {
        deliveries: list.iter().map(DeliveryResponse::from).collect(),
        next_before: next,
    }))
}

/// A delivery queued again.
#[derive(Debug, Serialize, ToSchema)]
pub struct RetryResponse {
    id: i64,
    /// `pending`.
    #[schema(schema_with = delivery_state)]
    state: &'static str,
    /// 0: a fresh set.
    attempts: i64,
}

/// Give a failed delivery a fresh set of attempts
#[utoipa::path(
    post,
    path = "/api/v1/admin/sites/{site}/deliveries/{id}/retry",
    tag = tags::ADMIN,
    params(DeliveryPath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Queued again", body = RetryResponse),
        problem::Admin,
    ),
)]
pub async fn retry(
    State(app): State<AppState>,
    AdminSite(site): AdminSite,
    ApiPath(DeliveryPath { id, .. }): ApiPath<DeliveryPath>,
) -> ApiResult<Json<RetryResponse>> {
    if !app.colloquy.retry_delivery(&site, id).await? {
        return Err(Problem::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("site `{site}` has no failed delivery {id}; list them with GET …/deliveries?state=failed"),
        ));
    }
    Ok(Json(RetryResponse {
        id,
        state: "pending",
        attempts: 0,
    }))
}
