//! A site's spam model: what it has learned, and learning now.

use super::*;
use crate::http::api::SitePath;
use crate::http::openapi::tags;
use crate::http::problem;
use crate::service::{ModelInfo, TrainReport};
use axum::extract::State;
use axum::Json;

/// A site's spam model.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ScoringModel)]
pub struct ModelResponse {
    /// `starter` (the bundled model; nothing learned yet) or `site`.
    source: &'static str,
    /// Rises with every save (0: the starter).
    version: i64,
    /// Moderator decisions learned as spam (spam, trash).
    spam_learned: i64,
    /// Moderator decisions learned as wanted (approve).
    ham_learned: i64,
    /// The last audit entry learned from.
    trained_through: i64,
    /// Size of the model's binary form.
    bytes: usize,
    /// When it was saved.
    #[schema(required = true, format = DateTime)]
    updated: Option<String>,
}

impl From<ModelInfo> for ModelResponse {
    fn from(m: ModelInfo) -> ModelResponse {
        ModelResponse {
            source: m.source,
            version: m.version,
            spam_learned: m.spam_learned,
            ham_learned: m.ham_learned,
            trained_through: m.trained_through,
            bytes: m.bytes,
            updated: m.updated.map(rfc3339),
        }
    }
}

/// What a round of training did.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ScoringTraining)]
pub struct TrainResponse {
    /// Decisions learned in this round.
    learned: usize,
    /// The version saved; null when there was nothing new (or another
    /// server saved the same meanwhile).
    #[schema(required = true)]
    version: Option<i64>,
}

impl From<TrainReport> for TrainResponse {
    fn from(r: TrainReport) -> TrainResponse {
        TrainResponse {
            learned: r.learned,
            version: r.version,
        }
    }
}

/// The site's spam model
#[utoipa::path(
    get,
    path = "/api/v1/admin/sites/{site}/scoring",
    tag = tags::ADMIN,
    params(SitePath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The model", body = ModelResponse),
        problem::Admin,
    ),
)]
pub async fn scoring_model(
    State(app): State<AppState>,
    AdminSite(site): AdminSite,
) -> ApiResult<Json<ModelResponse>> {
    Ok(Json(app.colloquy.scoring_model(&site).await?.into()))
}

/// Learn the moderators' latest decisions now (servers also do it every minute)
#[utoipa::path(
    post,
    path = "/api/v1/admin/sites/{site}/scoring/train",
    tag = tags::ADMIN,
    params(SitePath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Learned", body = TrainResponse),
        problem::Admin,
    ),
)]
pub async fn scoring_train(
    State(app): State<AppState>,
    AdminSite(site): AdminSite,
) -> ApiResult<Json<TrainResponse>> {
    Ok(Json(app.colloquy.train_scoring(&site).await?.into()))
}
