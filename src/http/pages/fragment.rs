//! `GET /api/v1/sites/{site}/threads/{thread}/fragment`: a thread's comments
//! as an HTML fragment, for sites that include them server-side.

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use super::comments::{nest, Step};
use super::escape::filters;
use super::render;
use crate::http::api::{parse_order, site_id, thread_key, with_etag, ListQuery, ThreadPath};
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::openapi::tags;
use crate::http::problem::{self, ApiResult};
use crate::http::AppState;

/// `templates/fragment.html`.
#[derive(Template)]
#[template(path = "fragment.html")]
struct Fragment {
    comments: Vec<Step>,
}

/// `GET /api/v1/sites/{site}/threads/{thread}/fragment`
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site}/threads/{thread}/fragment",
    tag = tags::COMMENTS,
    summary = "Published comments as an HTML fragment",
    params(ThreadPath, ListQuery),
    responses(
        (status = 200, description = "HTML", content_type = "text/html", body = String),
        (status = 304, description = "Not modified (If-None-Match)"),
        problem::NotFound, problem::Invalid,
    ),
)]
pub async fn fragment(
    State(app): State<AppState>,
    ApiPath((site, thread)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<ListQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let site = site_id(&site)?;
    let thread = thread_key(&thread)?;
    let order = parse_order(q.order.as_deref())?;
    let page = app
        .colloquy
        .list(&site, &thread, order, q.limit, q.cursor.as_deref())
        .await?;
    let html = match render(&Fragment {
        comments: nest(page.comments, None),
    }) {
        Ok(html) => html,
        Err(failed) => return Ok(failed.into_response()),
    };
    Ok(with_etag(
        &headers,
        html.into_bytes(),
        "text/html; charset=utf-8",
    ))
}
