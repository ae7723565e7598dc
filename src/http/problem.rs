//! `application/problem+json` (RFC 9457) responses: every error the HTTP
//! API returns has this shape, a status, a stable `code`, and a `detail` a
//! person can act on. Internal details are logged, never sent.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::Error;

/// One problem response (boxed, so `Result<T, Problem>` stays small).
#[derive(Debug, Clone)]
pub struct Problem(Box<Body>);

#[derive(Debug, Clone, Serialize)]
struct Body {
    #[serde(rename = "type")]
    kind: String,
    title: String,
    status: u16,
    detail: String,
    code: &'static str,
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

impl From<crate::store::StoreError> for Problem {
    fn from(e: crate::store::StoreError) -> Problem {
        Problem::from(Error::from(e))
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
