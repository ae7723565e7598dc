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

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use super::admin::AdminSite;
use super::api::site_id;
use super::extract::{ApiPath, ApiQuery};
use super::problem::{ApiResult, Problem};
use super::AppState;
use crate::comment::{Comment, SiteId, Status};
use crate::notify::links::{Link, LinkAction, SingleUse};
use crate::service::{now_ms, rfc3339, Action};
use crate::store::normalize_email;
use crate::store::outbox::{Delivery, LinkOutcome, Subscription};
use crate::text::{escape_attr_into, escape_into};

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
    /// The query again, for the confirmation form (attribute-escaped).
    fn push_attr(&self, out: &mut String) {
        out.push('?');
        if let Some(from) = &self.from {
            out.push_str("from=");
            escape_attr_into(out, from);
            out.push_str("&amp;");
        }
        if let Some(n) = &self.n {
            out.push_str("n=");
            escape_attr_into(out, n);
            out.push_str("&amp;");
        }
        out.push_str("exp=");
        out.push_str(&self.exp.to_string());
        out.push_str("&amp;sig=");
        escape_attr_into(out, &self.sig);
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
            crate::error::Error::Forbidden(
                "this link is not valid: it was changed; open the whole link from the e-mail"
                    .to_owned(),
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
    let mut body = String::new();
    if let Some(grant) = &checked.single_use {
        if let Some(why) = spent(&app, grant, &comment).await? {
            body.push_str("<p>");
            escape_into(&mut body, &why);
            body.push_str("</p>\n");
            describe(&mut body, &comment);
            return Ok(refused("This link no longer works", &body));
        }
    }
    let (title, button) = match checked.action {
        LinkAction::Approve => ("Publish this comment?", "Approve"),
        LinkAction::Spam => ("Mark this comment as spam?", "Mark as spam"),
        LinkAction::Trash => ("Move this comment to the trash?", "Move to trash"),
        LinkAction::Unsubscribe => ("Stop all e-mails?", "Unsubscribe"),
        LinkAction::Confirm => ("Get e-mails about replies?", "Confirm"),
    };
    match checked.action {
        LinkAction::Unsubscribe => body.push_str(
            "<p>This address will get no more e-mails from this site: none about replies to the comments written with it, and no requests to confirm them.</p>\n",
        ),
        LinkAction::Confirm => {
            let hash = address_hash(&app, &comment).unwrap_or_default();
            let store = app.colloquy.store();
            if store.subscription(checked.site.as_str(), &hash).await?
                == Some(Subscription::Suppressed)
            {
                return Ok(refused(
                    "This address unsubscribed",
                    "<p>This address asked for no e-mail from this site, so it cannot be subscribed again.</p>\n",
                ));
            }
            body.push_str(
                "<p>This address will be e-mailed when someone replies to the comments written with it on this site. Every such e-mail has a link to stop them.</p>\n",
            );
        }
        _ => describe(&mut body, &comment),
    }
    body.push_str("<form method=\"post\" action=\"");
    q.push_attr(&mut body);
    body.push_str("\"><button type=\"submit\">");
    body.push_str(button);
    body.push_str("</button></form>\n");
    Ok(page(title, &body))
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
            return Ok(page(
                "Unsubscribed",
                "<p>Done: this address will get no more e-mails from this site.</p>\n",
            ));
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
            return Ok(page(
                "Confirmed",
                "<p>Done: this address will be e-mailed about replies to its comments on this site.</p>\n",
            ));
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
            Ok(page(
                "Done",
                &format!("<p>Done: comment {id} is now <strong>{status}</strong>.</p>\n"),
            ))
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

/// The comment as the moderator needs to judge it: place, author, status
/// and its stored (safe) HTML.
fn describe(out: &mut String, c: &Comment) {
    out.push_str("<dl><dt>Thread</dt><dd>");
    escape_into(out, &c.thread);
    out.push_str("</dd><dt>Author</dt><dd>");
    escape_into(out, c.author.as_deref().unwrap_or("anonymous"));
    out.push_str("</dd><dt>Status now</dt><dd>");
    out.push_str(c.status.as_str());
    out.push_str("</dd></dl>\n<blockquote>");
    out.push_str(&c.html);
    out.push_str("</blockquote>\n");
}

/// A page saying why a link does nothing (409).
fn refused(title: &str, body: &str) -> Response {
    let mut response = page(title, body);
    *response.status_mut() = StatusCode::CONFLICT;
    response
}

fn page(title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\"><title>{title}</title></head>\n\
         <body>\n<h1>{title}</h1>\n{body}</body></html>\n"
    );
    let mut response = Html(html).into_response();
    let headers = response.headers_mut();
    // No scripts, no framing (a hidden frame could click the button), and
    // the form may post only here. The signed URL must not be cached.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; form-action 'self'; frame-ancestors 'none'"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
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
