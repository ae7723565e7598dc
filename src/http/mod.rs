//! The HTTP layer: a thin shell over [`crate::service::Colloquy`].
//!
//! [`router`] builds every route; tower layers do the cross-cutting work
//! (body limit, timeout, security headers, metrics, cross-origin rules in
//! [`cross_origin`]), and one middleware
//! turns any error response that is not already `application/problem+json`
//! (unknown route, wrong method, timeout) into one.

pub mod admin;
pub mod api;
pub mod assets;
pub mod cache;
pub mod cross_origin;
pub mod extract;
pub mod metrics;
pub mod notify;
pub mod openapi;
pub mod pages;
pub mod problem;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use tower::limit::GlobalConcurrencyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

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
}

/// Every route of the service.
pub fn router(colloquy: Colloquy) -> Router {
    let limits = colloquy.config().limits.clone();
    let state = AppState(Arc::new(AppShared {
        colloquy,
        metrics: Arc::new(Metrics::default()),
        listings: Arc::new(cache::ListingCache::new(limits.listing_cache_bytes)),
    }));
    let site = "/api/v1/sites/{site}";
    let admin = "/api/v1/admin/sites/{site}";
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(healthz))
        .route("/livez", get(livez))
        .route("/metrics", get(metrics_text))
        .route("/api/openapi.json", get(openapi::document))
        .route(&format!("{site}/formats"), get(api::formats))
        .route(&format!("{site}/preview"), post(api::preview))
        .route(&format!("{site}/stamp"), get(api::stamp))
        .route(
            &format!("{site}/counts"),
            get(api::counts_get).post(api::counts_post),
        )
        .route(&format!("{site}/threads/{{thread}}"), get(api::thread_info))
        .route(
            &format!("{site}/threads/{{thread}}/comments"),
            get(api::list_comments).post(api::post_comment),
        )
        .route(
            &format!("{site}/threads/{{thread}}/fragment"),
            get(pages::fragment),
        )
        .route(&format!("{site}/threads/{{thread}}/feed"), get(pages::feed))
        .route(
            &format!("{site}/comments/{{id}}"),
            axum::routing::patch(api::edit_comment).delete(api::delete_comment),
        )
        .route("/api/v1/admin/sites", get(admin::list_sites))
        .route(admin, get(admin::get_site).patch(admin::update_site))
        .route(&format!("{admin}/comments"), get(admin::queue))
        .route(&format!("{admin}/comments/bulk"), post(admin::bulk))
        .route(
            &format!("{admin}/comments/{{id}}"),
            get(admin::get_comment).delete(admin::delete),
        )
        .route(
            &format!("{admin}/comments/{{id}}/{{action}}"),
            post(admin::act),
        )
        .route(
            &format!("{admin}/threads/{{thread}}"),
            put(admin::set_thread),
        )
        .route(&format!("{admin}/rerender"), post(admin::rerender))
        .route(&format!("{admin}/audit"), get(admin::audit))
        .route(
            &format!("{admin}/privacy/export"),
            post(admin::privacy_export),
        )
        .route(
            &format!("{admin}/privacy/erase"),
            post(admin::privacy_erase),
        )
        .route(&format!("{admin}/deliveries"), get(notify::deliveries))
        .route(
            &format!("{admin}/deliveries/{{id}}/retry"),
            post(notify::retry),
        )
        .route(
            "/notify/{site}/comments/{id}/{action}",
            get(notify::confirm).post(notify::act),
        )
        .route("/embed.js", get(assets::embed_js))
        .route("/assets/{name}", get(assets::asset))
        .route(
            "/sites/{site}/threads/{thread}",
            get(pages::thread::page).post(pages::thread::submit),
        )
        .route("/sites/{site}/moderation", get(pages::moderation::page))
        .fallback(not_found)
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
        .with_state(state)
}

/// Liveness: the process answers requests (nothing else is asked, so a
/// slow database never gets a live server restarted).
async fn livez() -> Response {
    Json(serde_json::json!({ "status": "ok" })).into_response()
}

/// Readiness: the database answers, on a connection kept for this check
/// alone (a pool full of requests waiting on a lock does not fail it).
async fn healthz(State(app): State<AppState>) -> Response {
    match app.colloquy.health().await {
        Ok(()) => Json(serde_json::json!({ "status": "ok" })).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the database does not answer",
            )
            .into_response()
        }
    }
}

async fn metrics_text(State(app): State<AppState>) -> Response {
    let mut text = app.metrics.render();
    capacity_gauges(&app, &mut text);
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        text,
    )
        .into_response()
}

/// How full the bounded parts are: render threads and the listing cache.
fn capacity_gauges(app: &AppState, out: &mut String) {
    use std::fmt::Write as _;
    let r = app.colloquy.render_pool().stats();
    let gauges = [
        (
            "colloquy_render_threads",
            "gauge",
            "Threads that render comments.",
            r.threads as u64,
        ),
        (
            "colloquy_renders_running",
            "gauge",
            "Renders running now.",
            r.running as u64,
        ),
        (
            "colloquy_renders_waiting",
            "gauge",
            "Renders waiting for a thread now.",
            r.waiting as u64,
        ),
        (
            "colloquy_renders_finished_total",
            "counter",
            "Renders finished.",
            r.finished,
        ),
        (
            "colloquy_renders_refused_total",
            "counter",
            "Renders refused: no thread free in time (503).",
            r.refused,
        ),
        (
            "colloquy_listing_cache_bytes",
            "gauge",
            "Bytes held by the listing cache.",
            app.listings.bytes(),
        ),
        (
            "colloquy_listing_cache_max_bytes",
            "gauge",
            "Bytes the listing cache may hold.",
            app.listings.max_bytes(),
        ),
    ];
    for (name, kind, help, value) in gauges {
        let _ = write!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
        );
    }
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
