//! Cross-origin rules: CORS for each site's `origins` (set through the
//! admin API, else those of colloquy.toml), and a CSRF check on every
//! state-changing request to a site's public API. Every refusal is logged
//! (warn) with the site, the origin and the path, so a missing origin shows
//! in the log, not only in a reader's browser console.
//!
//! * A browser page on one of a site's `origins` (any page when they list
//!   `"*"`) may call that site's
//!   `/api/v1/sites/{site}/…` endpoints (CORS, no credentials); no other
//!   origin gets CORS headers, and preflights from them are refused. Admin
//!   endpoints never answer cross-origin.
//! * A `POST`/`PUT`/`PATCH`/`DELETE` to a site's endpoints that a browser
//!   sends from another origin — a plain HTML form on an attacker's page
//!   needs no preflight — is refused with 403 unless the origin is one of
//!   the site's, judged by `Origin` or, without it, `Sec-Fetch-Site`.
//!   Requests without either header (curl, server-side code) are not
//!   browser-driven and pass. The thread page's own form
//!   (`/sites/{site}/threads/…`) gets the same check, but no CORS.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::problem::Problem;
use super::AppState;

const SITE_PREFIX: &str = "/api/v1/sites/";

/// The site a public API path belongs to.
fn site_of(path: &str) -> Option<&str> {
    let rest = path.strip_prefix(SITE_PREFIX)?;
    let site = rest.split('/').next()?;
    (!site.is_empty()).then_some(site)
}

/// The site of a page path (`/sites/{site}/…`), which takes form posts.
fn page_site_of(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/sites/")?;
    let site = rest.split('/').next()?;
    (!site.is_empty()).then_some(site)
}

/// `scheme://host[:port]`, lower-cased, without a trailing slash.
fn normalize(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_ascii_lowercase()
}

/// Is `origin` one of the site's origins?
async fn site_allows(app: &AppState, site: &str, origin: &str) -> bool {
    let origin = normalize(origin);
    let Ok(site) = crate::comment::SiteId::parse(site) else {
        return false;
    };
    match app.colloquy.site_origins(&site).await {
        Ok((origins, _)) => origins.iter().any(|o| o == "*" || *o == origin),
        Err(e) => {
            tracing::error!(site = %site, error = %e, "the site's origins cannot be read");
            false
        }
    }
}

/// Is `origin` this server itself (its `Host`, or the configured public URL)?
fn same_origin(app: &AppState, headers: &HeaderMap, origin: &str) -> bool {
    let origin = normalize(origin);
    let authority = origin.split_once("://").map_or("", |(_, a)| a);
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_ascii_lowercase);
    if !authority.is_empty() && host.as_deref() == Some(authority) {
        return true;
    }
    app.colloquy
        .config()
        .public_url
        .as_deref()
        .and_then(|u| url::Url::parse(u).ok())
        .is_some_and(|u| normalize(&u.origin().ascii_serialization()) == origin)
}

fn refused(detail: String) -> Response {
    Problem::new(StatusCode::FORBIDDEN, "cross_origin", detail).into_response()
}

fn is_unsafe(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The middleware: answers preflights, refuses cross-site writes, adds CORS
/// headers for a site's own origins.
pub async fn guard(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let headers = req.headers();
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let site = site_of(req.uri().path()).map(str::to_owned);
    let preflight = req.method() == Method::OPTIONS
        && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);

    // Which origin, if any, gets CORS headers on this answer.
    let cors_origin = match (&origin, &site) {
        (Some(o), Some(s)) if o != "null" && site_allows(&app, s, o).await => Some(o.clone()),
        _ => None,
    };
    let path = req.uri().path().to_owned();

    if preflight {
        return match cors_origin {
            Some(o) => preflight_answer(&o),
            None => {
                let shown = origin.as_deref().unwrap_or("(no origin)");
                tracing::warn!(site = site.as_deref().unwrap_or("-"), origin = shown, %path,
                    "cross-origin preflight refused: the origin is not one of the site's");
                refused(format!(
                    "cross-origin requests from `{shown}` are not allowed here; a site's API \
                     answers only the origins listed in its `origins` setting"
                ))
            }
        };
    }
    // A read from a page on another origin is answered without CORS
    // headers, so the browser keeps it from the page: a refusal too.
    if let (Some(o), Some(s), None) = (&origin, &site, &cors_origin) {
        if !is_unsafe(req.method()) && o != "null" && !same_origin(&app, headers, o) {
            tracing::warn!(site = %s, origin = %o, %path,
                "cross-origin read refused: the origin is not one of the site's");
        }
    }

    let write_site = site
        .clone()
        .or_else(|| page_site_of(req.uri().path()).map(str::to_owned));
    if let Some(site) = &write_site {
        if is_unsafe(req.method()) {
            let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
            let allowed = match origin.as_deref() {
                // Browsers send `Origin: null` for a form on a page with
                // `Referrer-Policy: no-referrer` (ours) and for sandboxed or
                // opaque pages: only the browser's own same-origin verdict
                // lets such a write through.
                Some("null") => fetch_site == Some("same-origin"),
                Some(o) => cors_origin.is_some() || same_origin(&app, headers, o),
                None => fetch_site.is_none_or(|v| matches!(v, "same-origin" | "none")),
            };
            if !allowed {
                tracing::warn!(site = %site, origin = origin.as_deref().unwrap_or("-"),
                    fetch_site = fetch_site.unwrap_or("-"), %path,
                    "cross-origin write refused: the origin is not one of the site's");
                return refused(format!(
                    "this request came from a page on {} that is not one of site `{site}`'s \
                     origins; nothing was stored (add the page's origin to the site's `origins`)",
                    origin.as_deref().unwrap_or("another site")
                ));
            }
        }
    }

    let mut response = next.run(req).await;
    if site.is_some() && origin.is_some() {
        response
            .headers_mut()
            .append(header::VARY, HeaderValue::from_static("Origin"));
    }
    if let Some(o) = cors_origin {
        if let Ok(v) = HeaderValue::from_str(&o) {
            let h = response.headers_mut();
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
            h.insert(
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static("ETag, Location, Retry-After"),
            );
        }
    }
    response
}

fn preflight_answer(origin: &str) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(origin) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
    }
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, PATCH, DELETE"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("Content-Type, Authorization, If-None-Match"),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    h.insert(header::VARY, HeaderValue::from_static("Origin"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_site_paths_have_a_site() {
        assert_eq!(
            site_of("/api/v1/sites/default/threads/x/comments"),
            Some("default")
        );
        assert_eq!(site_of("/api/v1/sites/other"), Some("other"));
        assert_eq!(site_of("/api/v1/sites/"), None);
        assert_eq!(site_of("/api/v1/admin/sites/default/comments"), None);
        assert_eq!(site_of("/healthz"), None);
        assert_eq!(page_site_of("/sites/news/threads/a"), Some("news"));
        assert_eq!(page_site_of("/api/v1/sites/news"), None);
    }

    #[test]
    fn origins_compare_without_case_or_trailing_slash() {
        assert_eq!(normalize("https://News.Example/"), "https://news.example");
    }
}
