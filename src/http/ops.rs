//! What operators and their probes call: liveness, readiness, metrics.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::openapi::{self, tags};
use super::problem::{self, Problem};
use super::AppState;

/// The probes, the metrics and the API's description.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(livez))
        .routes(routes!(metrics))
        .routes(routes!(openapi::document))
}

/// A probe's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    status: &'static str,
}

const OK: Health = Health { status: "ok" };

/// Liveness: the process answers (the database is not asked)
///
/// Nothing else is asked, so a slow database never gets a live server
/// restarted.
#[utoipa::path(
    get,
    path = "/livez",
    tag = tags::OPERATIONS,
    responses((status = 200, description = "Live", body = Health)),
)]
pub async fn livez() -> Json<Health> {
    Json(OK)
}

/// Readiness: the database answers (a connection of its own)
///
/// The check has a connection kept for it alone, so a pool full of
/// requests waiting on a lock does not fail it.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = tags::OPERATIONS,
    responses((status = 200, description = "Healthy", body = Health), problem::Busy),
)]
pub async fn healthz(State(app): State<AppState>) -> Response {
    ready(&app).await
}

/// Readiness (the same as /healthz)
#[utoipa::path(
    get,
    path = "/readyz",
    tag = tags::OPERATIONS,
    responses((status = 200, description = "Ready", body = Health), problem::Busy),
)]
pub async fn readyz(State(app): State<AppState>) -> Response {
    ready(&app).await
}

async fn ready(app: &AppState) -> Response {
    match app.colloquy.health().await {
        Ok(()) => Json(OK).into_response(),
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

/// Prometheus metrics
#[utoipa::path(
    get,
    path = "/metrics",
    tag = tags::OPERATIONS,
    responses((status = 200, description = "Metrics", content_type = "text/plain", body = String)),
)]
pub async fn metrics(State(app): State<AppState>) -> Response {
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
