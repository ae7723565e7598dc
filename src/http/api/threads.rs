//! Threads: one thread's state and count, and counts for many at once.

use super::*;
use crate::comment::{ThreadKey, ThreadState};
use crate::http::extract::{ApiJson, ApiPath, RequestBody};
use crate::http::openapi::tags;
use crate::http::problem::{self, ApiResult, Problem};
use crate::http::AppState;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// A thread's state and count.
#[derive(Debug, Serialize, ToSchema)]
pub struct ThreadResponse {
    pub(crate) key: String,
    pub(crate) state: ThreadState,
    /// Published comments.
    pub(crate) count: i64,
    /// The article's title, where known (from the embed, the admin API or
    /// an import).
    #[schema(required = true)]
    pub(crate) title: Option<String>,
    /// The article's address, where known.
    #[schema(required = true)]
    pub(crate) url: Option<String>,
}

impl From<crate::service::ThreadInfo> for ThreadResponse {
    fn from(info: crate::service::ThreadInfo) -> ThreadResponse {
        ThreadResponse {
            key: info.key,
            state: info.state,
            count: info.count,
            title: info.meta.title,
            url: info.meta.url,
        }
    }
}

/// A thread's state and published-comment count
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site}/threads/{thread}",
    tag = tags::COMMENTS,
    params(ThreadPath),
    responses(
        (status = 200, description = "Thread", body = ThreadResponse),
        problem::NotFound, problem::Invalid,
    ),
)]
pub async fn thread_info(
    State(app): State<AppState>,
    ApiPath(ThreadPath { site, thread }): ApiPath<ThreadPath>,
) -> ApiResult<Json<ThreadResponse>> {
    let info = app
        .colloquy
        .thread(&site_id(&site)?, &thread_key(&thread)?)
        .await?;
    Ok(Json(info.into()))
}

/// Threads to count: `?thread=a&thread=b` or a JSON body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum CountsBody {
    /// `["a", "b"]`
    #[schema(value_type = Vec<ThreadKey>)]
    List(Vec<String>),
    /// `{"threads": ["a", "b"]}`
    Object {
        /// The thread keys.
        #[schema(value_type = Vec<ThreadKey>)]
        threads: Vec<String>,
    },
}

/// Published-comment counts by thread key (hidden and unknown threads count 0).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Counts)]
pub struct CountsResponse {
    counts: BTreeMap<String, i64>,
}

/// `?thread=KEY`, repeated: the threads to count.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents what `counts_get` reads by hand
pub(crate) struct CountsQuery {
    /// A thread key; repeat for more.
    #[param(style = Form, explode, value_type = Option<Vec<ThreadKey>>)]
    thread: Vec<String>,
}

impl RequestBody for CountsBody {
    const TAKES_ARRAY: bool = true;
}

pub(crate) async fn counts(
    app: &AppState,
    site: &str,
    threads: Vec<String>,
) -> ApiResult<Json<CountsResponse>> {
    let site = site_id(site)?;
    let keys = threads
        .iter()
        .map(|t| ThreadKey::parse(t))
        .collect::<Result<Vec<_>, _>>()?;
    let counts = app.colloquy.counts(&site, &keys).await?;
    Ok(Json(CountsResponse {
        counts: counts.into_iter().collect(),
    }))
}

/// Published-comment counts of many threads (JSON array of keys)
#[utoipa::path(
    post,
    path = "/api/v1/sites/{site}/counts",
    tag = tags::COMMENTS,
    params(SitePath),
    request_body = CountsBody,
    responses(
        (status = 200, description = "Counts", body = CountsResponse),
        problem::BadBody, problem::Forbidden, problem::NotFound,
    ),
)]
pub async fn counts_post(
    State(app): State<AppState>,
    ApiPath(SitePath { site }): ApiPath<SitePath>,
    ApiJson(body): ApiJson<CountsBody>,
) -> ApiResult<Json<CountsResponse>> {
    let threads = match body {
        CountsBody::List(t) | CountsBody::Object { threads: t } => t,
    };
    counts(&app, &site, threads).await
}

/// Published-comment counts of many threads
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site}/counts",
    tag = tags::COMMENTS,
    params(SitePath, CountsQuery),
    responses(
        (status = 200, description = "Counts", body = CountsResponse),
        problem::Malformed, problem::NotFound, problem::Invalid,
    ),
)]
pub async fn counts_get(
    State(app): State<AppState>,
    ApiPath(SitePath { site }): ApiPath<SitePath>,
    uri: axum::http::Uri,
) -> ApiResult<Json<CountsResponse>> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(uri.query().unwrap_or(""))
        .map_err(|e| Problem::malformed(format!("the query string cannot be read: {e}")))?;
    let mut threads = Vec::new();
    for (k, v) in pairs {
        if k != "thread" {
            return Err(Problem::invalid(
                k,
                "unknown parameter; use thread=KEY, repeated",
            ));
        }
        threads.push(v);
    }
    counts(&app, &site, threads).await
}
