//! Static files compiled into the binary: the embed script and its styles,
//! and the moderation page's script and styles. They are served with a
//! one-hour cache lifetime and an ETag (a hash of the content), so browsers
//! revalidate cheaply after that, and may be loaded by pages on any origin.

use std::sync::LazyLock;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::ApiPath;
use super::openapi::tags;
use super::problem::{self, Problem};
use super::AppState;

/// The files.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(embed_js))
        .routes(routes!(asset))
}

/// One embedded file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const ASSETS: [Asset; 4] = [
    Asset {
        name: "embed.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/embed.js"),
    },
    Asset {
        name: "embed.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../assets/embed.css"),
    },
    Asset {
        name: "moderation.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/moderation.js"),
    },
    Asset {
        name: "moderation.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../assets/moderation.css"),
    },
];

/// Content hashes, computed once.
static ETAGS: LazyLock<Vec<String>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|a| {
            let h = a.bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            });
            format!("\"{h:016x}\"")
        })
        .collect()
});

fn serve(name: &str, headers: &HeaderMap) -> Response {
    let Some(i) = ASSETS.iter().position(|a| a.name == name) else {
        return Problem::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("there is no asset `{name}`"),
        )
        .into_response();
    };
    let asset = &ASSETS[i];
    let etag = &ETAGS[i];
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        asset.bytes.into_response()
    };
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, v);
    }
    // Article pages on other origins load these.
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("cross-origin"),
    );
    response
}

/// `{name}` of an asset's path.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AssetPath {
    /// The file's name.
    #[param(schema_with = asset_names)]
    name: String,
}

fn asset_names() -> utoipa::openapi::Object {
    let names: Vec<&str> = ASSETS.iter().map(|a| a.name).collect();
    super::openapi::one_of(&names)
}

/// `GET /embed.js`: the embed script at its documented address.
#[utoipa::path(
    get,
    path = "/embed.js",
    tag = tags::PAGES,
    summary = "The embed script: two tags turn an article page into a commented one",
    responses(
        (status = 200, description = "The script", content_type = "text/javascript", body = String),
        (status = 304, description = "Not modified (If-None-Match)"),
    ),
)]
pub async fn embed_js(headers: HeaderMap) -> Response {
    serve("embed.js", &headers)
}

/// `GET /assets/{name}`
#[utoipa::path(
    get,
    path = "/assets/{name}",
    tag = tags::PAGES,
    summary = "The embed's and the moderation page's scripts and styles",
    params(AssetPath),
    responses(
        (status = 200, description = "The file", content(
            (String = "text/javascript"),
            (String = "text/css"),
        )),
        (status = 304, description = "Not modified (If-None-Match)"),
        problem::NotFound,
    ),
)]
pub async fn asset(
    ApiPath(AssetPath { name }): ApiPath<AssetPath>,
    headers: HeaderMap,
) -> Response {
    serve(&name, &headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assets_answer_with_type_cache_and_etag_then_304() {
        let r = serve("embed.css", &HeaderMap::new());
        assert_eq!(r.status(), StatusCode::OK);
        let etag = r.headers()[header::ETAG].clone();
        assert!(r.headers()[header::CONTENT_TYPE]
            .to_str()
            .is_ok_and(|v| v.starts_with("text/css")));
        let mut again = HeaderMap::new();
        again.insert(header::IF_NONE_MATCH, etag);
        assert_eq!(
            serve("embed.css", &again).status(),
            StatusCode::NOT_MODIFIED
        );
        assert_eq!(
            serve("../Cargo.toml", &HeaderMap::new()).status(),
            StatusCode::NOT_FOUND
        );
    }
}
