//! The one-click links of notification e-mails:
//! `/notify/{site}/comments/{id}/{approve|spam|trash|unsubscribe}?exp=&sig=`.
//!
//! `GET` only shows what the link would do, with a button; the button (a
//! `POST` to the same address) does it. Mail scanners that fetch every link
//! in a message therefore change nothing. `POST` is also what RFC 8058
//! one-click unsubscribe sends (`List-Unsubscribe=One-Click`). The link's
//! signature is the authorization; moderation goes through the service's
//! `moderate`, audited like any moderator action (actor `system`).
//!
//! Also here, for moderators: the site's outbox (`GET …/deliveries`) and a
//! fresh set of attempts for a delivery that failed (`POST …/retry`).

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use super::admin::AdminSite;
use super::api::site_id;
use super::extract::{ApiPath, ApiQuery};
use super::problem::{ApiResult, Problem};
use super::AppState;
use crate::comment::{Comment, SiteId};
use crate::notify::links::{LinkAction, LinkSigner};
use crate::service::{now_ms, rfc3339, Action, Actor};
use crate::store::outbox::Delivery;
use crate::text::{escape_attr_into, escape_into};

/// The signature part of a link. Unknown parameters (mail trackers add
/// some) are ignored.
#[derive(Debug, Deserialize)]
pub struct LinkQuery {
    /// Expiry, Unix seconds.
    exp: i64,
    /// Signature.
    sig: String,
}

/// Checks the link; returns the site and action it grants.
async fn check(
    app: &AppState,
    site: &str,
    id: i64,
    action: &str,
    q: &LinkQuery,
) -> ApiResult<(SiteId, LinkAction)> {
    let site = site_id(site)?;
    let action = LinkAction::parse(action).ok_or_else(|| {
        Problem::new(
            axum::http::StatusCode::NOT_FOUND,
            "not_found",
            format!("there is no link action `{action}`; links end in approve, spam, trash or unsubscribe"),
        )
    })?;
    let signer = LinkSigner::load(app.colloquy.store()).await?;
    signer.verify(site.as_str(), id, action, q.exp, &q.sig, now_ms())?;
    Ok((site, action))
}

/// `GET /notify/{site}/comments/{id}/{action}?exp=&sig=`: a confirmation page.
pub async fn confirm(
    State(app): State<AppState>,
    ApiPath((site, id, action)): ApiPath<(String, i64, String)>,
    ApiQuery(q): ApiQuery<LinkQuery>,
) -> ApiResult<Response> {
    let (site, action) = check(&app, &site, id, &action, &q).await?;
    let comment = app.colloquy.comment(&site, id).await?;
    let mut body = String::new();
    let (title, button) = match action {
        LinkAction::Approve => ("Publish this comment?", "Approve"),
        LinkAction::Spam => ("Mark this comment as spam?", "Mark as spam"),
        LinkAction::Trash => ("Move this comment to the trash?", "Move to trash"),
        LinkAction::Unsubscribe => ("Stop reply e-mails?", "Unsubscribe"),
    };
    if action == LinkAction::Unsubscribe {
        body.push_str(
            "<p>You will no longer be e-mailed when someone replies to the comments you wrote on this site with this address.</p>\n",
        );
    } else {
        describe(&mut body, &comment);
    }
    body.push_str("<form method=\"post\" action=\"?exp=");
    body.push_str(&q.exp.to_string());
    body.push_str("&amp;sig=");
    escape_attr_into(&mut body, &q.sig);
    body.push_str("\"><button type=\"submit\">");
    body.push_str(button);
    body.push_str("</button></form>\n");
    Ok(page(title, &body))
}

/// `POST /notify/{site}/comments/{id}/{action}?exp=&sig=`: does it.
pub async fn act(
    State(app): State<AppState>,
    ApiPath((site, id, action)): ApiPath<(String, i64, String)>,
    ApiQuery(q): ApiQuery<LinkQuery>,
) -> ApiResult<Response> {
    let (site, action) = check(&app, &site, id, &action, &q).await?;
    let moderation = match action {
        LinkAction::Approve => Action::Approve,
        LinkAction::Spam => Action::Spam,
        LinkAction::Trash => Action::Trash,
        LinkAction::Unsubscribe => {
            // The comment must exist; then every comment of its address stops.
            app.colloquy.comment(&site, id).await?;
            app.colloquy
                .store()
                .unsubscribe_replies(site.as_str(), id)
                .await?;
            return Ok(page(
                "Unsubscribed",
                "<p>Done: you will get no more e-mails about replies to your comments on this site.</p>\n",
            ));
        }
    };
    let after = app
        .colloquy
        .moderate(&site, id, moderation, &Actor::System)
        .await?;
    let status = after.map_or("deleted", |c| c.status.as_str());
    Ok(page(
        "Done",
        &format!("<p>Done: comment {id} is now <strong>{status}</strong>.</p>\n"),
    ))
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
            axum::http::StatusCode::NOT_FOUND,
            "not_found",
            format!("site `{site}` has no failed delivery {id}; list them with GET …/deliveries?state=failed"),
        ));
    }
    Ok(axum::Json(
        serde_json::json!({ "id": id, "state": "pending", "attempts": 0 }),
    ))
}
