//! The HTTP layer: a thin shell over [`crate::service::Colloquy`].
//!
//! Each resource has its router, built with utoipa-axum from its handlers,
//! whose `#[utoipa::path]` attributes describe them: [`api`] (a site's
//! public API), [`admin`] (moderators), [`notify`] (e-mail links and the
//! outbox), [`pages`] (HTML for people), [`assets`] (their files) and
//! [`ops`] (probes, metrics, the OpenAPI document). [`routes`] merges them,
//! so the router and the [`openapi`] document come from one list; [`router`]
//! adds, once, the tower layers that do the cross-cutting work (compression,
//! body limit, timeout, security headers, metrics, cross-origin rules in
//! [`cross_origin`]), and one middleware turns any error response that is
//! not already `application/problem+json` (unknown route, wrong method,
//! timeout) into one.

pub mod admin;
pub mod api;
pub mod assets;
pub mod cache;
pub mod consistency;
pub mod cross_origin;
pub mod extract;
pub mod metrics;
pub mod notify;
pub mod openapi;
pub mod ops;
pub mod pages;
pub mod problem;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use utoipa_axum::router::OpenApiRouter;

use crate::service::Colloquy;
use metrics::Metrics;
use problem::Problem;

/// Shared state of every handler: one reference count per clone (axum
/// clones it for the router, each middleware and each extractor).
#[derive(Clone)]
pub struct AppState(Arc<AppShared>);

impl std::ops::Deref for AppState {
    type Target = AppShared;

    fn deref(&self) -> &AppShared {
        &self.0
    }
}

/// What every clone of an [`AppState`] shares.
pub struct AppShared {
    /// The service.
    pub colloquy: Colloquy,
    /// Request and comment counters.
    pub metrics: Arc<Metrics>,
    /// Serialized thread listings, checked against the thread's version.
    pub listings: Arc<cache::ListingCache>,
    /// The OpenAPI document, serialized once.
    pub openapi: Bytes,
}

/// Every route with its description: the one list the router and the
/// OpenAPI document are both made from.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::base())
        .merge(ops::router())
        .merge(api::router())
        .merge(admin::router())
        .merge(notify::router())
        .merge(pages::router())
        .merge(assets::router())
}

/// The service's router: every route, and the layers around them all.
pub fn router(colloquy: Colloquy) -> Router {
    let limits = colloquy.config().limits.clone();
    let (routes, document) = routes().split_for_parts();
    let document = openapi::finish(document);
    let state = AppState(Arc::new(AppShared {
        colloquy,
        metrics: Arc::new(Metrics::default()),
        listings: Arc::new(cache::ListingCache::new(limits.listing_cache_bytes)),
        openapi: Bytes::from(serde_json::to_vec(&document).unwrap_or_default()),
    }));
    routes
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            consistency::read_your_writes,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            cross_origin::guard,
        ))
        .layer(middleware::map_response(problem_for_bare_errors))
        .layer(middleware::map_response(close_after_unread_body))
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        // Inside the timeout: a request waiting for its turn is abandoned
        // with 408 like one that runs too long. What each request may hold
        // (its body, its answer) times this bounds their memory.
        .layer(GlobalConcurrencyLimitLayer::new(
            limits.max_requests_in_flight,
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(limits.request_timeout_secs),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            count_requests,
        ))
        // Outermost: every answer with a body worth it (assets, JSON, pages,
        // feeds, problems) goes out as br or gzip when the client takes it,
        // a chunk at a time as the body is produced (nothing is buffered
        // whole). Request bodies are not touched, so the body limit still
        // counts the bytes that arrive.
        .layer(CompressionLayer::new())
        .with_state(state)
}

async fn not_found() -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "there is no such endpoint; see /api/openapi.json",
    )
}

/// Counts every answer for the metrics, and logs every server error once,
/// with the cause its problem carried (see [`problem::Cause`]).
async fn count_requests(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let response = next.run(req).await;
    let status = response.status();
    app.metrics.request(&method, status.as_u16());
    if status.is_server_error() {
        match response.extensions().get::<problem::Cause>() {
            Some(cause) => {
                tracing::error!(%method, %path, %status, cause = %cause.0, "request failed")
            }
            None if status == StatusCode::INTERNAL_SERVER_ERROR => {
                tracing::error!(%method, %path, %status, "request failed")
            }
            None => {}
        }
    }
    response
}

/// A request refused before its body was read (too large, too slow) leaves
/// the rest of the body on the connection, so the server closes it; saying
/// so keeps clients from sending their next request on a closing connection.
async fn close_after_unread_body(mut response: Response) -> Response {
    if matches!(
        response.status(),
        StatusCode::PAYLOAD_TOO_LARGE | StatusCode::REQUEST_TIMEOUT
    ) {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Error responses made by the framework or a layer (wrong method, timeout,
/// body too large) get a problem body like every other error.
async fn problem_for_bare_errors(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    // Problems, and the HTML error pages people read, stay as they are.
    let is_problem_or_page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| {
            v.as_bytes().starts_with(b"application/problem+json")
                || v.as_bytes().starts_with(b"text/html")
        });
    if is_problem_or_page {
        return response;
    }
    let (code, detail) = match status {
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "this endpoint does not take that method",
        ),
        StatusCode::REQUEST_TIMEOUT => (
            "timeout",
            "the request took too long and was abandoned; nothing was stored",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "too_large",
            "the request body is larger than this server accepts",
        ),
        StatusCode::NOT_FOUND => (
            "not_found",
            "there is no such endpoint; see /api/openapi.json",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "this content type is not accepted here",
        ),
        s if s.is_server_error() => ("internal", "something went wrong on our side; try again"),
        _ => ("bad_request", "the request could not be handled"),
    };
    let allow = response.headers().get(header::ALLOW).cloned();
    let mut out = Problem::new(status, code, detail).into_response();
    if let Some(allow) = allow {
        out.headers_mut().insert(header::ALLOW, allow);
    }
    out
}
