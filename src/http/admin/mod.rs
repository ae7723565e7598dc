//! `/api/v1/admin` handlers, behind `Authorization: Bearer <token>`.
//!
//! A token from `COLLOQUY_ADMIN_TOKEN` or the top-level `admin_tokens`
//! grants every site; a site's own `admin_tokens` grant that site only;
//! both grant every permission. A moderator account's session token (from
//! `…/login`) and a signed-in reader's sign-in token with the moderator or
//! admin role grant that role's permissions on their site, which each
//! handler's site extractor checks ([`AdminSite`]: moderate,
//! [`CommentersSite`]: manage_commenters, [`SettingsSite`]: edit_settings).
//! Tokens are kept and compared as SHA-256 digests in constant time (see
//! [`crate::auth`]).

mod accounts;
mod comments;
mod community;
mod records;
mod scoring;
mod sites;

pub use accounts::*;
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
use crate::auth::{Grant, Permission, StaffRole};
use crate::clock::rfc3339;
use crate::comment::{Comment, SiteId, Status};
use crate::service::Action;
use axum::extract::FromRequestParts as _;
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
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(whoami))
        .routes(routes!(list_accounts))
        .routes(routes!(put_account, delete_account))
        .routes(routes!(reported))
        .routes(routes!(dismiss_reports))
        .routes(routes!(get_commenter, set_commenter))
        .routes(routes!(scoring_model))
        .routes(routes!(scoring_train))
        // Pins (issue 17).
        .routes(routes!(pin, unpin))
        .routes(routes!(comment_statement))
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

/// Who is making an admin request on a site, and what they may do: an
/// admin token (every permission, as always), a moderator account's
/// session, or a signed-in reader whose role claim is moderator or admin.
#[derive(Debug, Clone)]
pub struct Principal {
    /// How the audit log names them.
    pub actor: Actor,
    /// `None` for an admin token (everything).
    pub role: Option<StaffRole>,
}

impl Principal {
    /// Whether they may do `p`.
    pub fn may(&self, p: Permission) -> bool {
        self.role.is_none_or(|r| r.may(p))
    }
}

/// Who the bearer token is on `site`.
async fn principal(app: &AppState, bearer: &Bearer, site: &SiteId) -> ApiResult<Principal> {
    let Some(token) = &bearer.0 else {
        return Err(Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "admin endpoints need `Authorization: Bearer <admin token, session token or sign-in token>`",
        ));
    };
    match app
        .colloquy
        .admin_tokens()
        .grant(token, Some(site.as_str()))
    {
        Grant::Everything | Grant::Site => {
            return Ok(Principal {
                actor: Actor::moderator(token),
                role: None,
            })
        }
        Grant::OtherSite => {
            return Err(Problem::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "this token does not grant admin rights on this site",
            ))
        }
        Grant::Nothing => {}
    }
    match app.colloquy.staff(site, token).await? {
        Some(staff) => Ok(Principal {
            actor: staff.actor,
            role: Some(staff.role),
        }),
        None => Err(Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "this admin token is not valid",
        )),
    }
}

/// 403 naming the permission a principal lacks.
fn missing(p: Permission, who: &Principal) -> Problem {
    let has: Vec<&str> = who
        .role
        .map(|r| r.permissions().iter().map(|p| p.as_str()).collect())
        .unwrap_or_default();
    Problem::new(
        StatusCode::FORBIDDEN,
        "missing_permission",
        format!(
            "this needs the `{}` permission; {} has {}",
            p.as_str(),
            who.actor.label(),
            if has.is_empty() {
                "none".to_owned()
            } else {
                has.join(", ")
            }
        ),
    )
}

/// The moderator making a request, for the audit log. Only used next to
/// one of the site extractors ([`AdminSite`], …), which check the token
/// and leave who it is here.
#[derive(Debug)]
pub struct Moderator(pub Actor);

impl axum::extract::FromRequestParts<AppState> for Moderator {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        app: &AppState,
    ) -> Result<Self, Problem> {
        if let Some(p) = parts.extensions.get::<Principal>() {
            return Ok(Moderator(p.actor.clone()));
        }
        let bearer = Bearer::from_request_parts(parts, app).await?;
        Ok(Moderator(match &bearer.0 {
            Some(token) => Actor::moderator(token),
            None => Actor::System,
        }))
    }
}

/// Checks the bearer token for the `{site}` of the path and `permission`.
async fn site_for(
    parts: &mut axum::http::request::Parts,
    app: &AppState,
    permission: Permission,
) -> Result<SiteId, Problem> {
    let ApiPath(params) =
        ApiPath::<std::collections::HashMap<String, String>>::from_request_parts(parts, app)
            .await?;
    let site = site_id(params.get("site").map_or("", String::as_str))?;
    let bearer = Bearer::from_request_parts(parts, app).await?;
    let who = principal(app, &bearer, &site).await?;
    if !who.may(permission) {
        return Err(missing(permission, &who));
    }
    parts.extensions.insert(who);
    Ok(site)
}

/// The `{site}` of an admin route, once the bearer token is checked for it
/// and a permission: a handler that takes one cannot forget the check.
macro_rules! site_extractor {
    ($($(#[$doc:meta])* $name:ident => $permission:expr;)*) => {$(
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name(pub SiteId);

        impl axum::extract::FromRequestParts<AppState> for $name {
            type Rejection = Problem;

            async fn from_request_parts(
                parts: &mut axum::http::request::Parts,
                app: &AppState,
            ) -> Result<Self, Problem> {
                site_for(parts, app, $permission).await.map($name)
            }
        }
    )*};
}

site_extractor! {
    /// A site whose comments, threads and log the caller may moderate.
    AdminSite => Permission::Moderate;
    /// A site whose commenters (their data, the ladder) the caller manages.
    CommentersSite => Permission::ManageCommenters;
    /// A site whose settings and accounts the caller may change.
    SettingsSite => Permission::EditSettings;
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
    /// The site's id for the signed-in reader who wrote it.
    #[schema(required = true)]
    author_id: Option<String>,
    #[schema(format = DateTime)]
    created: String,
    #[schema(required = true, format = DateTime)]
    modified: Option<String>,
    /// Why it was held or marked as spam.
    reasons: Vec<String>,
    /// The author asked for e-mails about replies.
    notify_replies: bool,
    /// Readers voting +1.
    upvotes: i64,
    /// Readers voting −1.
    downvotes: i64,
    /// Pinned: first in every order.
    pinned: bool,
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
            author_id: c.author_id.clone(),
            created: rfc3339(c.created),
            modified: c.modified.map(rfc3339),
            reasons: c.reasons.clone(),
            notify_replies: c.notify_replies,
            score: None,
            upvotes: c.standing.upvotes,
            downvotes: c.standing.downvotes,
            pinned: c.standing.pinned,
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
                state: ThreadState::Closed,
                title: Some("A <title>".to_owned()),
                url: None,
            }),
            json!({"key": "k", "state": "closed", "title": "A <title>", "url": null})
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
