//! The moderation page, `/sites/{site}/moderation`: a shell that
//! `/assets/moderation.js` fills from the admin API. The admin token is typed
//! into the page and kept in the tab's session storage; it is sent as a
//! bearer header, never as a cookie, so other sites cannot act with it.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{error_page, Document, Head, Page};
use crate::comment::SiteId;
use crate::http::api::SitePath;
use crate::http::extract::ApiPath;
use crate::http::openapi::tags;
use crate::http::problem::{self, Problem};
use crate::http::AppState;
use crate::policy::Policy;

/// `templates/moderation.html`.
#[derive(Template)]
#[template(path = "moderation.html")]
struct ModerationPage<'a> {
    head: Head,
    site: &'a str,
    /// Every loaded format, so a moderator can offer one the site lacks yet.
    formats: Vec<&'a Policy>,
}

impl Document for ModerationPage<'_> {
    fn head(&self) -> &Head {
        &self.head
    }
}

/// `GET /sites/{site}/moderation`
#[utoipa::path(
    get,
    path = "/sites/{site}/moderation",
    operation_id = "moderation_page",
    tag = tags::PAGES,
    summary = "The moderation page (the admin token is typed into it)",
    params(SitePath),
    responses(
        (status = 200, description = "The page", content_type = "text/html", body = String),
        problem::page::NotFound,
    ),
)]
pub async fn page(State(app): State<AppState>, ApiPath(site): ApiPath<String>) -> Response {
    let Ok(site) = SiteId::parse(&site) else {
        return error_page(StatusCode::NOT_FOUND, "There is no such site.");
    };
    if let Err(e) = app.colloquy.site(&site).await {
        let p = Problem::from(e);
        return error_page(p.status(), p.detail());
    }
    let page = ModerationPage {
        head: Head {
            title: format!("Moderation: {}", site.as_str()),
            styles: &["embed.css", "moderation.css"],
            scripts: &["moderation.js"],
        },
        site: site.as_str(),
        formats: app.colloquy.policies().iter().collect(),
    };
    Page(StatusCode::OK, page).into_response()
}
