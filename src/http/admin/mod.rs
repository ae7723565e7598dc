//! `/api/v1/admin` handlers, behind `Authorization: Bearer <token>`.
//!
//! A token from `COLLOQUY_ADMIN_TOKEN` or the top-level `admin_tokens`
//! grants every site; a site's own `admin_tokens` grant that site only.
//! Tokens are kept and compared as SHA-256 digests in constant time (see
//! [`crate::auth`]).

mod comments;
mod community;
mod records;
mod scoring;
mod sites;

pub use comments::*;
pub use community::*;
pub use records::*;
pub use scoring::*;
pub use sites::*;

use super::api::site_id;
use super::extract::{ApiPath, Bearer};
use super::problem::{ApiResult, Problem};
use super::AppState;
use crate::audit::Actor;
use crate::auth::Grant;
use crate::clock::rfc3339;
use crate::comment::{Comment, SiteId, Status};
use crate::service::Action;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The moderators' API.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_sites))
        .routes(routes!(get_site, update_site))
        .routes(routes!(queue))
        .routes(routes!(bulk))
        .routes(routes!(get_comment, delete))
        .routes(routes!(act))
        .routes(routes!(set_thread))
        .routes(routes!(rerender))
        .routes(routes!(audit))
        .routes(routes!(privacy_export))
        .routes(routes!(privacy_erase))
        .routes(routes!(reported))
        .routes(routes!(dismiss_reports))
        .routes(routes!(get_commenter, set_commenter))
        .routes(routes!(scoring_model))
        .routes(routes!(scoring_train))
}

/// `{site}`, a comment's `{id}` and an `{action}` of a path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ActionPath {
    /// The site's id.
    #[param(inline, value_type = SiteId)]
    #[allow(dead_code)] // read by `AdminSite`, which checks the token for it
    site: String,
    /// The comment's id.
    #[param(minimum = 1)]
    id: i64,
    /// What to do.
    #[param(inline, value_type = Action)]
    action: String,
}

/// Checks the bearer token for `site` (or for everything when `None`).
fn authorize(app: &AppState, bearer: &Bearer, site: Option<&SiteId>) -> ApiResult<()> {
    let Some(token) = &bearer.0 else {
        return Err(Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "admin endpoints need `Authorization: Bearer <admin token>`",
        ));
    };
    let tokens = app.colloquy.admin_tokens();
    match tokens.grant(token, site.map(SiteId::as_str)) {
        Grant::Everything | Grant::Site => Ok(()),
        Grant::OtherSite => Err(Problem::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "this token does not grant admin rights on this site",
        )),
        Grant::Nothing => Err(Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "this admin token is not valid",
        )),
    }
}

/// The moderator making a request, for the audit log (known by a
/// fingerprint of their token). Only used next to [`AdminSite`], which
/// checks the token.
#[derive(Debug)]
pub struct Moderator(pub Actor);

impl axum::extract::FromRequestParts<AppState> for Moderator {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        app: &AppState,
    ) -> Result<Self, Problem> {
        let bearer = Bearer::from_request_parts(parts, app).await?;
        Ok(Moderator(match &bearer.0 {
            Some(token) => Actor::moderator(token),
            None => Actor::System,
        }))
    }
}

/// The `{site}` of an admin route, once the bearer token is checked for it:
/// a handler that takes this cannot forget the check.
#[derive(Debug)]
pub struct AdminSite(pub SiteId);

impl axum::extract::FromRequestParts<AppState> for AdminSite {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        app: &AppState,
    ) -> Result<Self, Problem> {
        let ApiPath(params) =
            ApiPath::<std::collections::HashMap<String, String>>::from_request_parts(parts, app)
                .await?;
        let site = site_id(params.get("site").map_or("", String::as_str))?;
        let bearer = Bearer::from_request_parts(parts, app).await?;
        authorize(app, &bearer, Some(&site))?;
        Ok(AdminSite(site))
    }
}

/// A comment as moderators see it: everything, including e-mail and IP hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminComment {
    id: i64,
    site: String,
    thread: String,
    #[schema(required = true)]
    parent: Option<i64>,
    status: Status,
    format: String,
    /// The text as written.
    body: String,
    /// The rendered, sanitized HTML.
    html: String,
    policy_version: String,
    #[schema(required = true)]
    author: Option<String>,
    #[schema(required = true)]
    email: Option<String>,
    #[schema(required = true)]
    homepage: Option<String>,
    /// A keyed hash of the poster's address.
    #[schema(required = true)]
    ip_hash: Option<String>,
    #[schema(format = DateTime)]
    created: String,
    #[schema(required = true, format = DateTime)]
    modified: Option<String>,
    /// Why it was held or marked as spam.
    reasons: Vec<String>,
    /// The author asked for e-mails about replies.
    notify_replies: bool,
    /// The site's spam model on the comment, when the site scores
    /// comments (queue listings only).
    #[serde(skip_serializing_if = "Option::is_none")]
    score: Option<CommentScore>,
}

/// What the spam model says of a comment, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentScore {
    /// Spam probability, 0 to 1.
    probability: f32,
    /// The score and what pushed it: `spam score 0.94 (links to 3 new
    /// domains; words: casino, bonus, free)`.
    explained: String,
}

impl AdminComment {
    fn with_score(mut self, score: Option<crate::moderation::SpamScore>) -> AdminComment {
        self.score = score.map(|s| CommentScore {
            probability: s.probability,
            explained: s.explained,
        });
        self
    }
}

impl From<&Comment> for AdminComment {
    fn from(c: &Comment) -> AdminComment {
        AdminComment {
            id: c.id,
            site: c.site.to_string(),
            thread: c.thread.to_string(),
            parent: c.parent,
            status: c.status,
            format: c.format.clone(),
            body: c.body.clone(),
            html: c.html.as_str().to_owned(),
            policy_version: c.policy_version.clone(),
            author: c.author.as_deref().map(str::to_owned),
            email: c.email.as_deref().map(str::to_owned),
            homepage: c.homepage.as_deref().map(str::to_owned),
            ip_hash: c.ip_hash.clone(),
            created: rfc3339(c.created),
            modified: c.modified.map(rfc3339),
            reasons: c.reasons.clone(),
            notify_replies: c.notify_replies,
            score: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comment::ThreadState;
    use serde_json::json;

    /// The answers that used to be built with `json!` keep their shapes.
    #[test]
    fn typed_answers_keep_the_wire_shapes() {
        fn wire(v: &impl Serialize) -> serde_json::Value {
            serde_json::to_value(v).unwrap_or_default()
        }
        assert_eq!(
            wire(&ActResponse::Deleted {
                id: 7,
                deleted: true
            }),
            json!({"id": 7, "deleted": true})
        );
        assert_eq!(
            wire(&BulkResult::Moderated {
                id: 1,
                ok: true,
                status: Status::Spam
            }),
            json!({"id": 1, "ok": true, "status": "spam"})
        );
        assert_eq!(
            wire(&BulkResult::Deleted {
                id: 2,
                ok: true,
                deleted: true
            }),
            json!({"id": 2, "ok": true, "deleted": true})
        );
        assert_eq!(
            wire(&BulkResult::Failed {
                id: 3,
                ok: false,
                error: "gone".to_owned(),
                code: "not_found"
            }),
            json!({"id": 3, "ok": false, "error": "gone", "code": "not_found"})
        );
        assert_eq!(
            wire(&ThreadStateResponse {
                key: "k".to_owned(),
                state: ThreadState::Closed
            }),
            json!({"key": "k", "state": "closed"})
        );
    }

    /// The ranges the document gives the rules are those the service checks.
    #[test]
    fn the_documented_ranges_of_the_rules_are_the_checked_ones() {
        use crate::moderation::settings::{
            MAX_DAYS, MAX_DEPTH, MAX_PER_MINUTE, MAX_REPORT_THRESHOLD, MAX_SUBMIT_SECS,
        };
        let schema = serde_json::to_value(rules_schema()).unwrap_or_default();
        for (field, max) in [
            ("close_after_days", MAX_DAYS),
            ("max_depth", MAX_DEPTH),
            ("min_submit_secs", MAX_SUBMIT_SECS),
            ("ip_posts_per_minute", MAX_PER_MINUTE),
            ("site_posts_per_minute", MAX_PER_MINUTE),
            ("report_threshold", MAX_REPORT_THRESHOLD),
        ] {
            assert_eq!(schema["properties"][field]["maximum"], max, "{field}");
        }
        assert!(schema.get("additionalProperties").is_none());
    }
}
