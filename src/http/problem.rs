//! `application/problem+json` (RFC 9457) responses: every error the HTTP
//! API returns has this shape, a status, a stable `code`, and a `detail` a
//! person can act on. Internal details are logged, never sent.

use std::collections::BTreeMap;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::openapi::{self, RefOr};
use utoipa::{PartialSchema, ToSchema};

use crate::error::Error;

/// One problem response (boxed, so `Result<T, Problem>` stays small).
#[derive(Debug, Clone)]
pub struct Problem(Box<Body>);

/// An `application/problem+json` body (RFC 9457).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Problem)]
pub(crate) struct Body {
    /// A URI naming the kind of problem (`…/problems/{code}`).
    #[serde(rename = "type")]
    kind: String,
    /// The status's reason phrase.
    title: String,
    /// The HTTP status, again.
    status: u16,
    /// What happened and what to do, for a person.
    detail: String,
    /// A stable code for programs: `invalid_field`, `not_found`, `rate_limited`, …
    code: &'static str,
    /// The invalid field (422 only).
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
    #[serde(skip)]
    retry_after: Option<u64>,
    /// For a 5xx: what failed and why, for the log (never sent).
    #[serde(skip)]
    cause: Option<std::sync::Arc<String>>,
}

/// The cause of a 5xx answer, riding in the response's extensions to the
/// one place that logs it (`http::log_server_errors`), so converting an
/// error into a response stays free of side effects.
#[derive(Debug, Clone)]
pub struct Cause(pub std::sync::Arc<String>);

impl Problem {
    /// A problem with this status, code and detail.
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Problem {
        Problem(Box::new(Body {
            kind: format!("https://colloquy.invalid/problems/{code}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            code,
            field: None,
            retry_after: None,
            cause: None,
        }))
    }

    /// 400 for a body or query that cannot be read at all.
    pub fn malformed(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, "malformed_request", detail)
    }

    /// 422 naming the field.
    pub fn invalid(field: impl Into<String>, detail: impl Into<String>) -> Problem {
        let field = field.into();
        let detail = detail.into();
        let mut p = Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            format!("{field}: {detail}"),
        );
        p.0.field = Some(field);
        p
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// What the person should know (the `detail` member).
    pub fn detail(&self) -> &str {
        &self.0.detail
    }

    /// The invalid field, for 422 problems.
    pub fn field(&self) -> Option<&str> {
        self.0.field.as_deref()
    }

    /// Seconds to wait before trying again, if the problem says.
    pub fn retry_after(&self) -> Option<u64> {
        self.0.retry_after
    }

    /// Adds a `Retry-After` header (seconds).
    pub fn with_retry_after(mut self, secs: u64) -> Problem {
        self.0.retry_after = Some(secs);
        self
    }
}

impl From<Error> for Problem {
    fn from(e: Error) -> Problem {
        let code = e.code().as_str();
        match e {
            Error::NotFound(m) => Problem::new(StatusCode::NOT_FOUND, code, m),
            Error::Invalid { field, message } => Problem::invalid(field, message),
            Error::Conflict { message, .. } => Problem::new(StatusCode::CONFLICT, code, message),
            Error::Forbidden { message, .. } => Problem::new(StatusCode::FORBIDDEN, code, message),
            Error::Unauthorized(m) => Problem::new(StatusCode::UNAUTHORIZED, code, m),
            Error::RateLimited {
                message,
                retry_after_secs,
            } => Problem::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message)
                .with_retry_after(retry_after_secs),
            Error::Busy {
                message,
                retry_after_secs,
            } => Problem::new(StatusCode::SERVICE_UNAVAILABLE, "busy", message)
                .with_retry_after(retry_after_secs),
            internal @ Error::Internal { .. } => {
                let mut p = Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    code,
                    "something went wrong on our side; the request changed nothing, try again",
                );
                p.0.cause = Some(std::sync::Arc::new(internal.chain()));
                p
            }
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = serde_json::to_vec(&*self.0).unwrap_or_default();
        let mut response = (status, body).into_response();
        if let Some(cause) = self.0.cause {
            response.extensions_mut().insert(Cause(cause));
        }
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(secs) = self.0.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                headers.insert(header::RETRY_AFTER, v);
            }
        }
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// Handler result: a response or a problem.
pub type ApiResult<T> = Result<T, Problem>;

// ---- the problems each operation documents -------------------------------

/// What a problem status means, for the OpenAPI document.
fn meaning(status: u16) -> &'static str {
    match status {
        400 => "Malformed: the body or query cannot be read (not JSON, trailing data, invalid UTF-8, nested too deep)",
        401 => "No token, or a token that is not valid (a sign-in token: expired, another site's, no key matches)",
        403 => "Not allowed: a closed thread, an expired edit window, a token for another site, a missing permission, a site for signed-in readers only, a write from another origin, or a link that was changed or has expired",
        404 => "No such site, thread, comment or action (or a hidden thread)",
        409 => "Conflict: the same text again, a form stamp used before, a signed-in reader's name, or a link used or moderated since",
        413 => "The request body is larger than this server accepts",
        415 => "The body is not sent with a content type this operation takes",
        422 => "A field or parameter is invalid (named in `field`)",
        429 => "Rate limited: try again after `Retry-After` seconds",
        503 => "Busy or unavailable: try again after `Retry-After` seconds",
        _ => "Problem",
    }
}

/// A problem response for the document: the body is a [`Problem`], or
/// for pages an HTML page (the same request refused before it reaches the
/// page, by a layer, still gets a problem).
fn documented(status: u16, page: bool) -> RefOr<openapi::Response> {
    let mut response = openapi::ResponseBuilder::new().description(meaning(status));
    if page {
        response = response.content(
            "text/html",
            openapi::ContentBuilder::new()
                .schema(Some(
                    openapi::ObjectBuilder::new().schema_type(openapi::Type::String),
                ))
                .build(),
        );
    }
    response = response.content(
        PROBLEM_JSON,
        openapi::ContentBuilder::new()
            .schema(Some(openapi::Ref::from_schema_name(Body::name())))
            .build(),
    );
    if matches!(status, 429 | 503) {
        response = response.header(
            "Retry-After",
            openapi::HeaderBuilder::new()
                .schema(openapi::ObjectBuilder::new().schema_type(openapi::Type::Integer))
                .description(Some("Seconds to wait"))
                .build(),
        );
    }
    response.into()
}

/// The content type of every error of the API.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// The schema every problem response refers to, for the document's components.
pub(crate) fn schema() -> (String, RefOr<openapi::schema::Schema>) {
    (Body::name().into_owned(), Body::schema())
}

/// Declares the types an operation lists in `responses(…)` for the problems
/// it can answer: `responses((status = 200, body = X), problem::NotFound)`.
macro_rules! problem_statuses {
    ($page:literal; $($(#[$doc:meta])* $name:ident => [$($status:literal),+];)*) => {$(
        $(#[$doc])*
        pub struct $name;

        impl utoipa::IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<openapi::Response>> {
                [$($status),+]
                    .into_iter()
                    .map(|status: u16| (status.to_string(), documented(status, $page)))
                    .collect()
            }
        }
    )*};
}

problem_statuses! {
    false;
    /// 400: the request cannot be read.
    Malformed => [400];
    /// 401: a token is needed.
    Unauthorized => [401];
    /// 403: not allowed.
    Forbidden => [403];
    /// 404: no such resource.
    NotFound => [404];
    /// 409: a conflict.
    Conflict => [409];
    /// 413: too large.
    TooLarge => [413];
    /// 422: a field or parameter is invalid.
    Invalid => [422];
    /// 429: rate limited.
    RateLimited => [429];
    /// 503: busy or unavailable.
    Busy => [503];
    /// What reading a body can answer: unreadable (400), too large (413),
    /// another content type (415), a field wrong (422).
    BadBody => [400, 413, 415, 422];
    /// What every admin operation can answer: no or a wrong token (401), a
    /// token for another site (403), no such site (404).
    Admin => [401, 403, 404];
}

/// The errors of pages for people: an HTML page saying what went wrong.
pub mod page {
    use super::*;

    problem_statuses! {
        true;
        /// 404: no such site or thread, or a hidden thread.
        NotFound => [404];
        /// 422: a thread key that cannot be one.
        Invalid => [422];
        /// What a comment form's post can meet: everything posting a
        /// comment can.
        Post => [400, 403, 404, 409, 413, 415, 422, 429, 503];
    }
}
