//! The OpenAPI document against the server it describes: every operation it
//! lists is routed, every operation lists the errors its extractors and
//! layers can answer, and the document is whole (every `$ref` resolves).
//!
//! The reverse, a route missing from the document, cannot be built: every
//! resource's router is made with utoipa-axum's `routes!` from the handlers'
//! descriptions (`src/http/mod.rs`, `routes`).

use std::collections::{BTreeMap, BTreeSet};

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{spawn, Db, ADMIN};

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The document the server serves, as JSON.
fn document() -> Value {
    serde_json::to_value(colloquy::http::openapi::spec()).unwrap()
}

/// `(path, method, operation)` for every operation.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                out.push((path.clone(), method.to_owned(), op.clone()));
            }
        }
    }
    out
}

fn params<'a>(op: &'a Value, place: &str) -> Vec<&'a Value> {
    op["parameters"]
        .as_array()
        .map(|ps| ps.iter().filter(|p| p["in"] == place).collect())
        .unwrap_or_default()
}

fn statuses(op: &Value) -> BTreeSet<String> {
    op["responses"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

/// A value a path parameter can take, from its schema where it says.
fn example(param: &Value) -> String {
    if let Some(first) = param["schema"]["enum"].get(0) {
        return first.as_str().unwrap().to_owned();
    }
    match param["name"].as_str().unwrap() {
        "site" => "default".to_owned(),
        "thread" => "openapi-thread".to_owned(),
        "id" => "1".to_owned(),
        "name" => "embed.js".to_owned(),
        "key" => "ip:00ff".to_owned(),
        other => panic!("no example for path parameter `{other}`"),
    }
}

/// Is this the answer of no route at all (the fallback, or a method the
/// path does not take)?
async fn unrouted(r: reqwest::Response) -> Option<String> {
    let status = r.status();
    let body = r.text().await.unwrap_or_default();
    let fallback = status == StatusCode::NOT_FOUND && body.contains("there is no such endpoint");
    (fallback || status == StatusCode::METHOD_NOT_ALLOWED).then(|| format!("{status} {body}"))
}

async fn every_documented_operation_is_routed(db: Db) {
    let Some(app) = spawn(db).await else { return };
    // The oracle first: an unknown path and a wrong method are told apart
    // from a route's own 404.
    let r = app
        .client
        .get(app.url("/api/v1/nowhere"))
        .send()
        .await
        .unwrap();
    assert!(unrouted(r).await.is_some());
    let r = app
        .client
        .delete(app.url("/api/v1/sites/default/formats"))
        .send()
        .await
        .unwrap();
    assert!(unrouted(r).await.is_some());
    let r = app
        .client
        .get(app.url("/api/v1/sites/default/comments/1"))
        .send()
        .await
        .unwrap();
    assert!(unrouted(r).await.is_some(), "PATCH and DELETE only");
    let r = app
        .client
        .get(app.url("/api/v1/admin/sites/default/comments/999"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert!(unrouted(r).await.is_none(), "a route's own 404 is routed");

    let doc = document();
    let ops = operations(&doc);
    assert!(ops.len() >= 38, "{} operations", ops.len());
    for (path, method, op) in ops {
        let mut url = path.clone();
        for p in params(&op, "path") {
            let name = p["name"].as_str().unwrap();
            url = url.replace(&format!("{{{name}}}"), &example(p));
        }
        let required_query: Vec<String> = params(&op, "query")
            .into_iter()
            .filter(|p| p["required"] == true)
            .map(|p| format!("{}=1", p["name"].as_str().unwrap()))
            .collect();
        if !required_query.is_empty() {
            url = format!("{url}?{}", required_query.join("&"));
        }
        let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let mut request = app.client.request(m, app.url(&url)).bearer_auth(ADMIN);
        if let Some(content) = op["requestBody"]["content"].as_object() {
            let ct = content.keys().next().unwrap();
            let body = if ct.contains("json") { "{}" } else { "" };
            request = request.header("content-type", ct).body(body);
        }
        let r = request.send().await.unwrap();
        let status = r.status();
        if let Some(answer) = unrouted(r).await {
            panic!("{method} {path} is documented but not routed: {method} {url} → {answer}");
        }
        assert!(
            statuses(&op).contains(status.as_str()),
            "{method} {url} answered {status}, which its description does not list"
        );
    }
}

crate::both_backends!(every_documented_operation_is_routed);

/// What an operation must list, from what it takes: each extractor and
/// layer's refusals.
#[test]
fn every_operation_lists_its_error_statuses() {
    let doc = document();
    let mut missing: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for (path, method, op) in operations(&doc) {
        let listed = statuses(&op);
        let mut must: BTreeSet<&str> = BTreeSet::from(["431"]);
        let path_params: Vec<&str> = params(&op, "path")
            .into_iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        // An unknown site, comment or asset; a thread key that cannot be one.
        if !path_params.is_empty() {
            must.insert("404");
        }
        if path_params.contains(&"thread") {
            must.insert("422");
        }
        if !params(&op, "query").is_empty() {
            must.insert("422");
        }
        if op.get("requestBody").is_some() {
            must.extend(["400", "413", "415", "422"]);
        }
        let security = op["security"].to_string();
        if security.contains("\"bearer\"") {
            must.extend(["401", "403"]);
        }
        if security.contains("editToken") || security.contains("signIn") {
            must.extend(["401", "403"]);
        }
        // The cross-origin guard refuses writes to a site's API and pages.
        let guarded = path.starts_with("/api/v1/sites/") || path.starts_with("/sites/");
        if guarded && !matches!(method.as_str(), "get" | "head" | "options") {
            must.insert("403");
        }
        let lacking: BTreeSet<&str> = must.into_iter().filter(|s| !listed.contains(*s)).collect();
        if !lacking.is_empty() {
            missing.insert(format!("{method} {path}"), lacking);
        }
        assert!(
            listed
                .iter()
                .any(|s| s.starts_with('2') || s.starts_with('3')),
            "{method} {path} lists no success"
        );
        // Errors are problems (pages: an HTML page, or a problem when a
        // layer refuses first); only the HTTP server's own 431 has no body.
        let page = op["tags"][0] == "pages" || op["tags"][0] == "links";
        for (status, response) in op["responses"].as_object().unwrap() {
            if !(status.starts_with('4') || status.starts_with('5')) || status == "431" {
                continue;
            }
            let content = response["content"].as_object();
            let problem = content
                .and_then(|c| c.get("application/problem+json"))
                .map(|c| c["schema"]["$ref"].clone());
            let html = content.is_some_and(|c| c.contains_key("text/html"));
            assert!(
                problem == Some(Value::from("#/components/schemas/Problem")) || (page && html),
                "{method} {path} {status}: not a problem: {response}"
            );
        }
    }
    assert!(
        missing.is_empty(),
        "operations lacking error statuses: {missing:#?}"
    );
}

/// The document is whole: every reference resolves, every operation has a
/// unique id and a summary.
#[test]
fn the_document_is_whole() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    fn refs(v: &Value, out: &mut BTreeSet<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.insert(r.clone());
                }
                m.values().for_each(|v| refs(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut all = BTreeSet::new();
    refs(&doc, &mut all);
    for r in &all {
        let name = r.strip_prefix("#/components/schemas/").unwrap_or(r);
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "{r} does not resolve"
        );
    }
    let mut ids = BTreeSet::new();
    for (path, method, op) in operations(&doc) {
        let id = op["operationId"].as_str().unwrap_or_default().to_owned();
        assert!(ids.insert(id.clone()), "operation id `{id}` twice");
        assert!(
            op["summary"].as_str().is_some_and(|s| !s.is_empty()),
            "{method} {path} has no summary"
        );
    }
}

async fn the_served_document_is_the_derived_one(db: Db) {
    let Some(app) = spawn(db).await else { return };
    let (status, served) = app.get_json("/api/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(served, document());
}

crate::both_backends!(the_served_document_is_the_derived_one);

/// Routes come only from utoipa-axum's `routes!`, which registers each with
/// its description; axum's own routing would add a route the document does
/// not know. This fails on a new way around it in the HTTP layer.
#[test]
fn no_route_is_added_outside_the_described_list() {
    fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let mut routers = 0;
    for path in &files {
        let source = std::fs::read_to_string(path).unwrap();
        routers += source.matches("OpenApiRouter::new()").count();
        for bypass in [
            ".route(",
            ".route_service(",
            ".nest(",
            ".nest_service(",
            "Router::new()",
            "routing::get(",
            "routing::post(",
        ] {
            let found = source
                .lines()
                .filter(|l| l.contains(bypass) && !l.contains("OpenApiRouter::new()"))
                .count();
            assert_eq!(
                found,
                0,
                "{}: `{bypass}` routes outside `routes!`",
                path.display()
            );
        }
    }
    assert!(
        routers >= 6,
        "the resources' routers are built with OpenApiRouter"
    );
}
