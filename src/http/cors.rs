//! CORS for the public API: a page on one of a site's configured `origins`
//! (or any page, when the site lists `"*"`) may call
//! `/api/v1/sites/{site}/…` from the browser — the embed does. No cookies
//! are involved, so credentials are never allowed; the admin API never
//! answers other origins.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;

/// The `{site}` of a public API path.
fn site_of_path(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/api/v1/sites/")?;
    rest.split('/').next().filter(|s| !s.is_empty())
}

/// Whether `origin` may call `site`'s public API from a browser.
pub fn origin_allowed(app: &AppState, site: &str, origin: &str) -> bool {
    app.colloquy
        .config()
        .sites
        .iter()
        .filter(|s| s.id == site)
        .flat_map(|s| &s.origins)
        .any(|o| o == "*" || o.trim_end_matches('/').eq_ignore_ascii_case(origin))
}

/// Answers preflights and marks answers readable by allowed origins.
pub async fn cors(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let Some(site) = site_of_path(req.uri().path()).map(str::to_owned) else {
        return next.run(req).await;
    };
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let allowed = origin
        .as_deref()
        .filter(|o| origin_allowed(&app, &site, o))
        .and_then(|o| HeaderValue::from_str(o).ok());
    let preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = if preflight {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(req).await
    };
    let h = response.headers_mut();
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(origin) = allowed {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        if preflight {
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
        } else {
            h.insert(
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static("ETag, Retry-After"),
            );
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::site_of_path;

    #[test]
    fn only_public_site_paths_have_a_site() {
        assert_eq!(
            site_of_path("/api/v1/sites/default/formats"),
            Some("default")
        );
        assert_eq!(site_of_path("/api/v1/admin/sites/default"), None);
        assert_eq!(site_of_path("/sites/default/threads/x"), None);
        assert_eq!(site_of_path("/api/v1/sites/"), None);
    }
}
