//! Static files compiled into the binary: the embed script and its styles,
//! and the moderation page's script and styles, loadable by pages on any
//! origin.
//!
//! Each has a version, a hash of its content. Asked for with that version
//! (`/assets/embed.css?v=…`, see [`versioned`]; the pages and the embed
//! script link their files so) a file is cached for a year as
//! `immutable`: a new release has new hashes, hence new addresses. Without
//! it, or with an old version, the answer is cached for an hour and
//! revalidated cheaply with its ETag (the same hash). `/embed.js` is the
//! documented address site owners paste, so it is the one kept short-lived;
//! the script carries its stylesheet's versioned address.

use std::sync::LazyLock;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
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

const FILES: [Asset; 4] = [
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

/// A file as served: its bytes (the embed script with its stylesheet's
/// versioned address filled in) and their hash.
struct Served {
    name: &'static str,
    content_type: &'static str,
    bytes: axum::body::Bytes,
    version: String,
}

/// Where the embed script names its stylesheet.
const CSS_PLACEHOLDER: &str = "__COLLOQUY_EMBED_CSS__";

fn hash(bytes: &[u8]) -> String {
    let h = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{h:016x}")
}

/// The files with their versions, computed once.
static ASSETS: LazyLock<Vec<Served>> = LazyLock::new(|| {
    let mut out: Vec<Served> = FILES
        .iter()
        .map(|a| Served {
            name: a.name,
            content_type: a.content_type,
            bytes: axum::body::Bytes::from_static(a.bytes),
            version: hash(a.bytes),
        })
        .collect();
    let css = out
        .iter()
        .find(|a| a.name == "embed.css")
        .map(|a| format!("/assets/embed.css?v={}", a.version))
        .unwrap_or_default();
    for a in &mut out {
        if a.name == "embed.js" {
            let text = String::from_utf8_lossy(&a.bytes).replace(CSS_PLACEHOLDER, &css);
            a.version = hash(text.as_bytes());
            a.bytes = axum::body::Bytes::from(text);
        }
    }
    out
});

/// The address of an asset that may be cached for good:
/// `/assets/{name}?v={hash}` (the bare `/assets/{name}` for unknown names).
pub fn versioned(name: &str) -> String {
    match ASSETS.iter().find(|a| a.name == name) {
        Some(a) => format!("/assets/{name}?v={}", a.version),
        None => format!("/assets/{name}"),
    }
}

/// The version asked for: `v` of the query string.
fn asked_version(uri: &Uri) -> Option<String> {
    form_urlencoded::parse(uri.query()?.as_bytes())
        .find(|(k, _)| k == "v")
        .map(|(_, v)| v.into_owned())
}

fn serve(name: &str, headers: &HeaderMap, version: Option<&str>) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.name == name) else {
        return Problem::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("there is no asset `{name}`"),
        )
        .into_response();
    };
    let etag = format!("\"{}\"", asset.version);
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .map(|t| t.trim().trim_start_matches("W/"))
                .any(|t| t == etag || t == "*")
        });
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        asset.bytes.clone().into_response()
    };
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if version == Some(asset.version.as_str()) {
            "public, max-age=31536000, immutable"
        } else {
            "public, max-age=3600"
        }),
    );
    if let Ok(v) = HeaderValue::from_str(&etag) {
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
    let names: Vec<&str> = FILES.iter().map(|a| a.name).collect();
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
pub async fn embed_js(headers: HeaderMap, uri: Uri) -> Response {
    serve("embed.js", &headers, asked_version(&uri).as_deref())
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
    uri: Uri,
) -> Response {
    serve(&name, &headers, asked_version(&uri).as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_versioned_address_is_cached_for_good_and_the_script_names_its_css() {
        let css = versioned("embed.css");
        let v = css.rsplit_once("?v=").map(|(_, v)| v.to_owned());
        let r = serve("embed.css", &HeaderMap::new(), v.as_deref());
        assert_eq!(
            r.headers()[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        let old = serve("embed.css", &HeaderMap::new(), Some("0000"));
        assert_eq!(old.headers()[header::CACHE_CONTROL], "public, max-age=3600");
        let js = ASSETS
            .iter()
            .find(|a| a.name == "embed.js")
            .map(|a| a.bytes.clone());
        let js = String::from_utf8(js.unwrap_or_default().to_vec()).unwrap_or_default();
        assert!(js.contains(&css), "embed.js links {css}");
        assert!(!js.contains(CSS_PLACEHOLDER));
    }

    #[test]
    fn assets_answer_with_type_cache_and_etag_then_304() {
        let r = serve("embed.css", &HeaderMap::new(), None);
        assert_eq!(r.status(), StatusCode::OK);
        let etag = r.headers()[header::ETAG].clone();
        assert!(r.headers()[header::CONTENT_TYPE]
            .to_str()
            .is_ok_and(|v| v.starts_with("text/css")));
        let mut again = HeaderMap::new();
        again.insert(header::IF_NONE_MATCH, etag);
        assert_eq!(
            serve("embed.css", &again, None).status(),
            StatusCode::NOT_MODIFIED
        );
        assert_eq!(
            serve("../Cargo.toml", &HeaderMap::new(), None).status(),
            StatusCode::NOT_FOUND
        );
    }
}
