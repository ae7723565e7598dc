//! HTML for people, each page an askama template in `templates/`: the thread
//! page with its comment form ([`thread`]), the moderation page
//! ([`moderation`]), a thread as a fragment ([`fragment`]) and as an Atom
//! feed ([`feed`]), and the error page. The handlers build view models (the
//! structs the templates read) from the service's results; [`escape`] says
//! how the templates write them: escaped, except the stored, safe comment
//! HTML.

mod comments;
pub(crate) mod escape;
mod feed;
mod fragment;
pub mod moderation;
pub mod thread;

use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;

pub use feed::feed;
pub use fragment::fragment;

/// The pages, and the thread's fragment and feed.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(fragment::fragment))
        .routes(routes!(feed::feed))
        .routes(routes!(thread::page, thread::submit))
        .routes(routes!(moderation::page))
}

/// What `templates/base.html` puts in a page's head.
pub(crate) struct Head {
    title: String,
    /// Stylesheets from `/assets/`.
    styles: &'static [&'static str],
    /// Scripts from `/assets/`; the page's CSP allows scripts only when
    /// there are some.
    scripts: &'static [&'static str],
}

impl Head {
    /// The versioned address of one of the assets (cached for a year).
    pub(crate) fn asset(&self, name: &str) -> String {
        super::assets::versioned(name)
    }
}

/// A page template: one that extends `base.html`.
pub(crate) trait Document: Template {
    /// Its head.
    fn head(&self) -> &Head;
}

/// A page as a response: the rendered template with its status and
/// security headers.
pub(crate) struct Page<T>(pub(crate) StatusCode, pub(crate) T);

impl<T: Document> IntoResponse for Page<T> {
    fn into_response(self) -> Response {
        let Page(status, page) = self;
        match render(&page) {
            Ok(html) => html_response(status, !page.head().scripts.is_empty(), html),
            Err(failed) => failed.into_response(),
        }
    }
}

/// Renders a template. Ours fail only if writing to a string fails (or on
/// a bug): that is logged, and answered with a bare 500.
pub(crate) fn render(template: &impl Template) -> Result<String, RenderFailed> {
    template.render().map_err(|e| {
        tracing::error!(error = %e, "a page template failed");
        RenderFailed
    })
}

/// A template that could not be rendered.
pub(crate) struct RenderFailed;

impl IntoResponse for RenderFailed {
    fn into_response(self) -> Response {
        StatusCode::INTERNAL_SERVER_ERROR.into_response()
    }
}

/// What a page may load: its own styles (and scripts, when it has any),
/// nothing inline, nothing from elsewhere; no framing.
fn content_security_policy(scripts: bool) -> &'static str {
    if scripts {
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
         connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    } else {
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
         base-uri 'none'; frame-ancestors 'none'"
    }
}

/// An HTML page response with its security policy; pages are never cached
/// by shared caches (they may show a poster's own form values).
fn html_response(status: StatusCode, scripts: bool, html: String) -> Response {
    let mut response = (status, html).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(content_security_policy(scripts)),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// `templates/error.html`: a short page for a request that cannot be
/// answered (unknown site, hidden thread, unreadable form), in HTML rather
/// than JSON: people read it.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    head: Head,
    heading: &'static str,
    message: String,
}

impl Document for ErrorPage {
    fn head(&self) -> &Head {
        &self.head
    }
}

/// The error page for `status`, saying `message`.
fn error_page(status: StatusCode, message: &str) -> Response {
    let heading = status.canonical_reason().unwrap_or("Error");
    let page = ErrorPage {
        head: Head {
            title: heading.to_owned(),
            styles: &["embed.css"],
            scripts: &[],
        },
        heading,
        message: message.to_owned(),
    };
    Page(status, page).into_response()
}
