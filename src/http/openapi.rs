//! The API described as OpenAPI 3.1, served at `/api/openapi.json`.
//!
//! Nothing here lists routes: each handler carries its description
//! (`#[utoipa::path]`: path, method, parameters, body, every status it can
//! answer), and each resource's router is built with utoipa-axum's
//! `routes!` from those handlers, which registers the route and its
//! description together (see [`super::routes`]). A route therefore cannot
//! exist without its description. This module adds what belongs to the
//! document as a whole: its header, the security schemes, the problem
//! schema, and the one status the HTTP server itself can answer anywhere.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{self, ArrayBuilder, ObjectBuilder, OpenApi, RefOr, Type};
use utoipa::{PartialSchema, ToSchema};

use super::problem;
use super::AppState;
use crate::comment::{SiteId, ThreadKey, MAX_THREAD_KEY_CHARS};
use crate::moderation::keys::{KeyList, MAX_KEYS, MAX_KEY_CHARS};
use crate::moderation::SiteRules;

/// Tags that group the operations.
pub mod tags {
    /// The public API of a site: comments, counts, formats.
    pub const COMMENTS: &str = "comments";
    /// Moderators: queue, actions, settings, audit log, privacy, outbox.
    pub const ADMIN: &str = "admin";
    /// The one-click links of notification e-mails.
    pub const LINKS: &str = "links";
    /// Pages for people, and the files they load.
    pub const PAGES: &str = "pages";
    /// Probes and metrics for operators; this document.
    pub const OPERATIONS: &str = "operations";
}

/// The document's header, before any route is added.
pub(super) fn base() -> OpenApi {
    let mut doc = openapi::OpenApiBuilder::new()
        .info(
            openapi::InfoBuilder::new()
                .title("Colloquy")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Comment engine API. Every error of the JSON API is \
                     application/problem+json; pages answer errors as HTML pages.",
                ))
                .build(),
        )
        .build();
    let components = doc.components.get_or_insert_with(Default::default);
    let bearer = |description: &str| {
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(description))
                .build(),
        )
    };
    components.add_security_scheme(
        "bearer",
        bearer(
            "Admin token, a moderator account's session token (from login), or the site's \
             sign-in token (JWT) of a reader with the moderator or admin role",
        ),
    );
    components.add_security_scheme(
        "signIn",
        bearer("The site's sign-in token (a JWT) for its signed-in reader"),
    );
    components.add_security_scheme(
        "editToken",
        bearer("The edit token returned when the comment was posted"),
    );
    let (name, schema) = problem::schema();
    components.schemas.insert(name, schema);
    // A site's rules are flattened into its schema by hand (see
    // `admin::rules_schema`), so what they refer to is added here.
    let mut referred = Vec::new();
    SiteRules::schemas(&mut referred);
    components.schemas.extend(referred);
    doc
}

/// The finished document: the routes' descriptions plus what any request
/// can meet before it reaches a route.
pub(super) fn finish(mut doc: OpenApi) -> OpenApi {
    // The HTTP server answers 431 itself, with no body, when a request's
    // line and headers exceed what it reads (a very long query string, say).
    for item in doc.paths.paths.values_mut() {
        for op in operations(item) {
            op.responses
                .responses
                .entry("431".to_owned())
                .or_insert_with(|| {
                    openapi::Response::new(
                        "The request line and headers are larger than this server reads \
                     (answered before any route, without a body)",
                    )
                    .into()
                });
        }
    }
    doc
}

/// Every operation of a path.
pub(crate) fn operations(
    item: &mut openapi::PathItem,
) -> impl Iterator<Item = &mut openapi::path::Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.options.as_mut(),
        item.head.as_mut(),
        item.patch.as_mut(),
        item.trace.as_mut(),
    ]
    .into_iter()
    .flatten()
}

/// A string schema that takes one of `values`.
pub(crate) fn one_of(values: &[&str]) -> openapi::Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.iter().copied()))
        .build()
}

/// The document, as [`super::router`] serves it.
pub fn spec() -> OpenApi {
    finish(super::routes().into_openapi())
}

/// The whole API as OpenAPI 3.1 (this document).
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = tags::OPERATIONS,
    responses((status = 200, description = "The document", content_type = "application/json", body = Object)),
)]
pub async fn document(State(app): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        app.openapi.clone(),
    )
        .into_response()
}

// A key list is served and taken as a JSON array of its keys.
impl PartialSchema for KeyList {
    fn schema() -> RefOr<openapi::schema::Schema> {
        ArrayBuilder::new()
            .items(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .max_length(Some(MAX_KEY_CHARS)),
            )
            .max_items(Some(MAX_KEYS))
            .description(Some(
                "Words (case-insensitive substrings) or /regular expressions/",
            ))
            .into()
    }
}

impl ToSchema for KeyList {}

// Ids as `SiteId::parse` and `ThreadKey::parse` take them.
impl PartialSchema for SiteId {
    fn schema() -> RefOr<openapi::schema::Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^[a-z0-9_-]{1,64}$"))
            .into()
    }
}

impl ToSchema for SiteId {}

impl PartialSchema for ThreadKey {
    fn schema() -> RefOr<openapi::schema::Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(MAX_THREAD_KEY_CHARS))
            .description(Some(format!(
                "An article's key: any text of 1-{MAX_THREAD_KEY_CHARS} characters"
            )))
            .into()
    }
}

impl ToSchema for ThreadKey {}
