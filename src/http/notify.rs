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
use serde::Deserialize;

use super::admin::AdminSite;
use super::api::site_id;
use super::extract::{ApiPath, ApiQuery};
use super::pages::escape::filters;
use super::pages::render;
use super::problem::{ApiResult, Problem};
use super::AppState;
use crate::clock::{now_ms, rfc3339};
use crate::comment::{Comment, SiteId, Status};
use crate::notify::links::{Link, LinkAction, SingleUse};
use crate::service::Action;
use crate::store::normalize_email;
use crate::store::outbox::{Delivery, LinkOutcome, Subscription};
use crate::SafeHtml;

/// The signed part of a link. Unknown parameters (mail trackers add some)
/// are ignored.
#[derive(Debug, Deserialize)]
pub struct LinkQuery {
    /// Moderation links: the status the e-mail was about.
    #[serde(default)]
    from: Option<String>,
    /// Moderation links: the e-mail's nonce.
    #[serde(default)]
    n: Option<String>,
    /// Expiry, Unix seconds.
    exp: i64,
    /// Signature.
    sig: String,
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
    if app.colloquy.store().link_used(&grant.nonce).await? {
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

/// The keyed hash of the address that wrote `comment`, if it has one.
fn address_hash(app: &AppState, comment: &Comment) -> Option<String> {
    comment
        .email
        .as_deref()
        .map(|e| app.colloquy.keys().address_hash(&normalize_email(e)))
}

/// `GET /notify/{site}/comments/{id}/{action}?…`: a confirmation page, or
/// a page saying why the link no longer works (409).
pub async fn confirm(
    State(app): State<AppState>,
    ApiPath((site, id, action)): ApiPath<(String, i64, String)>,
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
            let hash = address_hash(&app, &comment).unwrap_or_default();
            let store = app.colloquy.store();
            if store.subscription(checked.site.as_str(), &hash).await?
                == Some(Subscription::Suppressed)
            {
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

/// `POST /notify/{site}/comments/{id}/{action}?…`: does it.
pub async fn act(
    State(app): State<AppState>,
    ApiPath((site, id, action)): ApiPath<(String, i64, String)>,
    ApiQuery(q): ApiQuery<LinkQuery>,
) -> ApiResult<Response> {
    let checked = check(&app, &site, id, &action, &q).await?;
    let site = checked.site;
    let moderation = match checked.action {
        LinkAction::Approve => Action::Approve,
        LinkAction::Spam => Action::Spam,
        LinkAction::Trash => Action::Trash,
        LinkAction::Unsubscribe => {
            // The comment must exist; then every comment of its address stops.
            let comment = app.colloquy.comment(&site, id).await?;
            app.colloquy
                .store()
                .unsubscribe_replies(
                    site.as_str(),
                    id,
                    address_hash(&app, &comment).as_deref(),
                    now_ms(),
                )
                .await?;
            return Ok(LinkPage {
                message: Some(Message::Unsubscribed),
                ..LinkPage::titled("Unsubscribed")
            }
            .into_response());
        }
        LinkAction::Confirm => {
            let comment = app.colloquy.comment(&site, id).await?;
            let Some(hash) = address_hash(&app, &comment) else {
                return Err(Problem::new(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    "this comment has no e-mail address to confirm",
                ));
            };
            let state = app
                .colloquy
                .store()
                .confirm_subscription(site.as_str(), &hash, now_ms())
                .await?;
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
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveriesQuery {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    limit: Option<i64>,
    #[serde(default)]
    before: Option<i64>,
}

fn delivery_json(d: &Delivery) -> serde_json::Value {
    serde_json::json!({
        "id": d.id,
        "event_id": d.event_id,
        "comment_id": d.comment_id,
        "kind": d.kind,
        "target": d.target,
        "state": d.state,
        "attempts": d.attempts,
        "next_attempt_at": (d.state == "pending").then(|| rfc3339(d.next_attempt_at)),
        "last_error": d.last_error,
    })
}

/// `GET /api/v1/admin/sites/{site}/deliveries?state=&limit=&before=`: the
/// site's notification deliveries, newest first.
pub async fn deliveries(
    State(app): State<AppState>,
    AdminSite(site): AdminSite,
    ApiQuery(q): ApiQuery<DeliveriesQuery>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    if let Some(s) = q.state.as_deref() {
        if !matches!(s, "pending" | "sent" | "failed") {
            return Err(Problem::invalid(
                "state",
                format!("`{s}` is not one of pending, sent, failed"),
            ));
        }
    }
    let max = i64::try_from(app.colloquy.config().limits.max_batch).unwrap_or(200);
    let limit = q.limit.unwrap_or(50.min(max));
    if !(1..=max).contains(&limit) {
        return Err(Problem::invalid(
            "limit",
            format!("{limit} is out of range; use 1 to {max}"),
        ));
    }
    let list = app
        .colloquy
        .store()
        .deliveries(site.as_str(), q.state.as_deref(), q.before, limit)
        .await?;
    let next = (i64::try_from(list.len()).unwrap_or(0) == limit)
        .then(|| list.last().map(|d| d.id))
        .flatten();
    let items: Vec<serde_json::Value> = list.iter().map(delivery_json).collect();
    Ok(axum::Json(
        serde_json::json!({ "deliveries": items, "next_before": next }),
    ))
}

/// `POST /api/v1/admin/sites/{site}/deliveries/{id}/retry`: a failed
/// delivery gets a fresh set of attempts.
pub async fn retry(
    State(app): State<AppState>,
    AdminSite(site): AdminSite,
    ApiPath((_, id)): ApiPath<(String, i64)>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let store = app.colloquy.store();
    if !store.retry_delivery(site.as_str(), id, now_ms()).await? {
        return Err(Problem::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("site `{site}` has no failed delivery {id}; list them with GET …/deliveries?state=failed"),
        ));
    }
    Ok(axum::Json(
        serde_json::json!({ "id": id, "state": "pending", "attempts": 0 }),
    ))
}
