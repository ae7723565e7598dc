//! Extractors that turn every malformed request into a [`Problem`]: JSON and
//! form bodies (with content-type, size and nesting checks), path and query
//! parameters, the client address, and bearer tokens.

use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRef, FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::header;
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use super::problem::Problem;
use super::AppState;

/// Path parameters, with readable errors.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(ApiPath(v)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => Err(Problem::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no such resource: {}", e.body_text()),
            )),
            Err(e) => Err(Problem::malformed(e.body_text())),
        }
    }
}

/// Query parameters, with readable errors (422 naming the parameter).
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(ApiQuery(v)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => {
                let text = e.body_text();
                let field = text.split('`').nth(1).unwrap_or("query").to_owned();
                Err(Problem::invalid(
                    field,
                    text.trim_start_matches("Failed to deserialize query string: "),
                ))
            }
            Err(e) => Err(Problem::malformed(e.body_text())),
        }
    }
}

/// How a body was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// `application/json`.
    Json,
    /// `application/x-www-form-urlencoded` (plain HTML forms).
    Form,
}

/// A request body decoded from JSON (or, where allowed, a form), with size,
/// nesting and type errors as problems.
#[derive(Debug)]
pub struct ApiBody<T> {
    /// The decoded value.
    pub value: T,
    /// How it was sent.
    pub kind: BodyKind,
}

/// A JSON-only body.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

/// A type a request body decodes into. serde lets a struct be read from a
/// JSON array of its fields in order; a body is an object unless its type
/// says it also takes an array.
pub trait RequestBody: DeserializeOwned {
    /// Whether a top-level JSON array is a valid body.
    const TAKES_ARRAY: bool = false;
}

fn content_kind(req: &Request) -> Option<BodyKind> {
    let ct = req.headers().get(header::CONTENT_TYPE)?.to_str().ok()?;
    let essence = ct.split(';').next()?.trim().to_ascii_lowercase();
    match essence.as_str() {
        "application/json" => Some(BodyKind::Json),
        "application/x-www-form-urlencoded" => Some(BodyKind::Form),
        _ if essence.ends_with("+json") => Some(BodyKind::Json),
        _ => None,
    }
}

async fn read_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, Problem> {
    Bytes::from_request(req, state).await.map_err(|e| match e {
        BytesRejection::FailedToBufferBody(inner) => {
            let text = inner.body_text();
            if text.contains("length limit") || inner.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Problem::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "too_large",
                    "the request body is larger than this server accepts",
                )
            } else {
                Problem::malformed(format!("could not read the request body: {text}"))
            }
        }
        other => Problem::malformed(other.body_text()),
    })
}

/// Deepest nesting of `[`/`{` in a JSON text (strings skipped).
pub fn json_depth(bytes: &[u8]) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

fn decode_json<T: RequestBody>(bytes: &[u8], max_depth: usize) -> Result<T, Problem> {
    if json_depth(bytes) > max_depth {
        return Err(Problem::malformed(format!(
            "the JSON is nested deeper than {max_depth} levels"
        )));
    }
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'[') && !T::TAKES_ARRAY {
        return Err(Problem::invalid(
            "body",
            "the body is a JSON array; send a JSON object with the fields by name",
        ));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let message = inner.to_string();
                let field = if path == "." {
                    message.split('`').nth(1).unwrap_or("body").to_owned()
                } else {
                    path
                };
                let message = message
                    .split(" at line ")
                    .next()
                    .unwrap_or(&message)
                    .to_owned();
                Problem::invalid(field, message)
            }
            serde_json::error::Category::Io
            | serde_json::error::Category::Syntax
            | serde_json::error::Category::Eof => {
                Problem::malformed(format!("the body is not valid JSON: {inner}"))
            }
        }
    })?;
    // One JSON value and nothing after it: `{"body":"x"} {` is not valid.
    de.end().map_err(|e| {
        Problem::malformed(format!(
            "the body is not valid JSON: more follows the value ({e})"
        ))
    })?;
    Ok(value)
}

pub(crate) fn decode_form<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    // Form decoding would replace invalid UTF-8 with U+FFFD and store text
    // the author never wrote; refuse it as JSON bodies are refused.
    if std::str::from_utf8(&percent_decoded(bytes)).is_err() {
        return Err(Problem::malformed(
            "the form is not valid UTF-8; send it with accept-charset=\"UTF-8\"",
        ));
    }
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(bytes));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let text = e.into_inner().to_string();
        let field = if path == "." || path.is_empty() {
            text.split('`').nth(1).unwrap_or("form").to_owned()
        } else {
            path
        };
        Problem::invalid(field, text)
    })
}

/// The bytes a form encodes: `%XX` decoded (`+` and separators are ASCII
/// and do not affect UTF-8 validity).
fn percent_decoded(bytes: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) => hex(h).zip(hex(l)).map(|(h, l)| (h * 16 + l) as u8),
            _ => None,
        };
        match decoded {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    out
}

impl<S, T> FromRequest<S> for ApiBody<T>
where
    T: RequestBody,
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        let app = AppState::from_ref(state);
        let kind = content_kind(&req).ok_or_else(unsupported)?;
        let bytes = read_bytes(req, state).await?;
        let value = match kind {
            BodyKind::Json => decode_json(&bytes, app.colloquy.config().limits.max_json_depth)?,
            BodyKind::Form => decode_form(&bytes)?,
        };
        Ok(ApiBody { value, kind })
    }
}

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: RequestBody,
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        let app = AppState::from_ref(state);
        if content_kind(&req) != Some(BodyKind::Json) {
            return Err(unsupported_json());
        }
        let bytes = read_bytes(req, state).await?;
        Ok(ApiJson(decode_json(
            &bytes,
            app.colloquy.config().limits.max_json_depth,
        )?))
    }
}

fn unsupported() -> Problem {
    Problem::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "send the body as application/json or application/x-www-form-urlencoded",
    )
}

fn unsupported_json() -> Problem {
    Problem::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "send the body as application/json",
    )
}

/// The client's address: the socket peer, or, for a request that came
/// through a trusted proxy, the right-most `X-Forwarded-For` hop that is not
/// one (see [`crate::net::TrustedProxies::client`]).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl<S> FromRequestParts<S> for ClientIp
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        let app = AppState::from_ref(state);
        let Some(peer) = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
        else {
            return Ok(ClientIp(None));
        };
        let proxies = &app.colloquy.config().trusted_proxies;
        if proxies.is_empty() {
            return Ok(ClientIp(Some(crate::net::canonical(peer))));
        }
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok());
        Ok(ClientIp(Some(proxies.client(peer, forwarded))))
    }
}

/// The bearer token of the request, if any.
#[derive(Debug, Clone)]
pub struct Bearer(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for Bearer {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Problem> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty());
        Ok(Bearer(token))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_with_invalid_utf8_are_refused_and_fields_are_named() {
        assert_eq!(
            percent_decoded(b"a=%C3%A9+x&b=%zz"),
            "a=\u{e9}+x&b=%zz".as_bytes()
        );
        #[derive(Debug, serde::Deserialize)]
        struct F {
            #[allow(dead_code)]
            n: i64,
        }
        assert!(decode_form::<F>(b"n=%FF").is_err_and(|p| p.status() == StatusCode::BAD_REQUEST));
        assert!(decode_form::<F>(b"n=\xff").is_err_and(|p| p.status() == StatusCode::BAD_REQUEST));
        assert!(
            decode_form::<F>(b"n=x").is_err_and(|p| p.status() == StatusCode::UNPROCESSABLE_ENTITY)
        );
        assert!(decode_form::<F>(b"n=5").is_ok());
    }

    impl RequestBody for serde_json::Value {
        const TAKES_ARRAY: bool = true;
    }

    #[derive(Debug, serde::Deserialize)]
    struct Named {
        #[allow(dead_code)]
        body: String,
    }

    impl RequestBody for Named {}

    #[test]
    fn a_struct_body_is_an_object_not_an_array() {
        assert!(decode_json::<Named>(br#"{"body":"x"}"#, 4).is_ok());
        assert!(decode_json::<Named>(br#" ["x"]"#, 4)
            .is_err_and(|p| p.status() == StatusCode::UNPROCESSABLE_ENTITY));
        assert!(decode_json::<serde_json::Value>(br#"["x"]"#, 4).is_ok());
    }

    #[test]
    fn json_with_trailing_data_is_malformed() {
        assert!(decode_json::<serde_json::Value>(b"{} {", 4)
            .is_err_and(|p| p.status() == StatusCode::BAD_REQUEST));
        assert!(decode_json::<serde_json::Value>(b" {} \n", 4).is_ok());
    }

    #[test]
    fn json_depth_ignores_brackets_in_strings() {
        assert_eq!(json_depth(br#"{"a":"[[[[{{{"}"#), 1);
        assert_eq!(json_depth(b"[[[[1]]]]"), 4);
        assert_eq!(json_depth(br#"{"a":"\"[","b":[{}]}"#), 3);
    }
}
