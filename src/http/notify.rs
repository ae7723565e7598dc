//! The one-click links of notification e-mails:
//! `/notify/{site}/comments/{id}/{approve|spam|trash|unsubscribe}?exp=&sig=`.
//!
//! `GET` only shows what the link would do, with a button; the button (a
//! `POST` to the same address) does it. Mail scanners that fetch every link
//! in a message therefore change nothing. `POST` is also what RFC 8058
//! one-click unsubscribe sends (`List-Unsubscribe=One-Click`). The link's
//! signature is the authorization; moderation goes through the service's
//! `moderate`, audited like any moderator action (actor `system`).

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use super::api::site_id;
use super::extract::{ApiPath, ApiQuery};
use super::problem::{ApiResult, Problem};
use super::AppState;
use crate::comment::{Comment, SiteId};
use crate::notify::links::{LinkAction, LinkSigner};
use crate::service::{now_ms, Action, Actor};
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
