//! Read-your-writes with a read replica: a client that has just written
//! (posted, edited, deleted, moderated) gets a short-lived cookie, and
//! while it lasts its requests read the primary, so it sees its own write
//! even while the replica still lags. Without a replica this layer does
//! nothing and sets no cookie.

use crate::http::AppState;
use crate::service::read_primary;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;

/// The cookie's name; its value carries no information.
pub const COOKIE: &str = "colloquy_rw";

fn wrote_lately(request: &Request) -> bool {
    request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .any(|pair| pair.trim().split('=').next() == Some(COOKIE))
}

/// The layer: see the module's documentation.
pub async fn read_your_writes(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let colloquy = &state.colloquy;
    if !colloquy.has_replica() {
        return next.run(request).await;
    }
    let writes = matches!(
        *request.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    let mut response = if wrote_lately(&request) {
        read_primary(next.run(request)).await
    } else {
        next.run(request).await
    };
    let status = response.status();
    if writes && (status.is_success() || status.is_redirection()) {
        let secure = colloquy
            .config()
            .public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"));
        let cookie = format!(
            "{COOKIE}=1; Max-Age={}; Path=/; HttpOnly; SameSite=Lax{}",
            colloquy.config().database.read_your_writes_secs,
            if secure { "; Secure" } else { "" }
        );
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}
