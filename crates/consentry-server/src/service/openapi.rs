//! The OpenAPI 3.1 description of every route, served at `GET /openapi.json`.
//!
//! One definition: the route table ([`super::routes`]) says which operations exist; the
//! hand-written `crates/consentry-server/openapi.json` says what each one takes and
//! answers. The served document's `paths` are assembled from the table, each operation's
//! description taken from the file — so the document cannot describe a route the service
//! does not have, and a route without a description stops the document from being served
//! (a test builds it on every run). The document is built once, on first use, with its
//! `info.version` set to this build's version.

use crate::problem::Problem;
use crate::route_table::{Method, Routes};
use axum::body::Bytes;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::sync::LazyLock;

/// The descriptions, as written.
pub const SOURCE: &str = include_str!("../../openapi.json");

/// Why the document cannot be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenApiError {
    /// The file is not JSON.
    #[error("openapi.json is not JSON: {0}")]
    NotJson(String),
    /// The file declares another OpenAPI version.
    #[error("openapi.json declares OpenAPI {0:?}, not 3.1")]
    Version(String),
    /// The file has no `info` object.
    #[error("openapi.json has no info object")]
    NoInfo,
    /// A route of the table has no description.
    #[error("{0} {1} is a route but openapi.json does not describe it")]
    Undescribed(String, String),
    /// The file describes an operation the table does not have.
    #[error("openapi.json describes {0} {1}, which is not a route")]
    NotARoute(String, String),
}

static DOCUMENT: LazyLock<Result<Bytes, OpenApiError>> =
    LazyLock::new(|| build(SOURCE, super::routes().table()));

/// The HTTP methods an OpenAPI path item may hold.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Assembles the document: the file's top level, and `paths` from `table`, each
/// operation described by the file.
fn build(source: &str, table: &BTreeSet<(Method, &'static str)>) -> Result<Bytes, OpenApiError> {
    let mut doc: Value =
        serde_json::from_str(source).map_err(|e| OpenApiError::NotJson(e.to_string()))?;
    let version = doc
        .get("openapi")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if !version.starts_with("3.1.") {
        return Err(OpenApiError::Version(version));
    }
    let info = doc
        .get_mut("info")
        .and_then(Value::as_object_mut)
        .ok_or(OpenApiError::NoInfo)?;
    info.insert("version".into(), env!("CARGO_PKG_VERSION").into());
    let mut described = match doc.get_mut("paths").map(Value::take) {
        Some(Value::Object(paths)) => paths,
        _ => Map::new(),
    };
    let mut paths = Map::new();
    for (method, path) in table {
        let m = method.as_str().to_ascii_lowercase();
        // A catch-all segment (`{*path}`) is an ordinary path parameter to OpenAPI.
        let path = &openapi_path(path);
        let item = described
            .get_mut(path.as_str())
            .and_then(Value::as_object_mut);
        let Some(operation) = item.and_then(|i| i.remove(&m)) else {
            return Err(OpenApiError::Undescribed(
                method.as_str().to_owned(),
                path.clone(),
            ));
        };
        let entry = paths
            .entry(path.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(e) = entry {
            e.insert(m, operation);
        }
    }
    // Whatever is left is an operation no route has (path-level members such as
    // `parameters` stay with their path).
    for (path, item) in described {
        let Value::Object(item) = item else { continue };
        for (key, value) in item {
            if METHODS.contains(&key.as_str()) {
                return Err(OpenApiError::NotARoute(key.to_ascii_uppercase(), path));
            }
            if let Some(Value::Object(e)) = paths.get_mut(&path) {
                e.insert(key, value);
            }
        }
    }
    doc["paths"] = Value::Object(paths);
    Ok(Bytes::from(doc.to_string()))
}

/// A route's path as OpenAPI templates it: axum's catch-all `{*name}` is `{name}`.
pub fn openapi_path(route: &str) -> String {
    route.replace("{*", "{")
}

/// The served bytes, or why the document cannot be served.
pub fn bytes() -> Result<Bytes, OpenApiError> {
    DOCUMENT.clone()
}

/// `GET /openapi.json`.
pub async fn document() -> Response {
    match bytes() {
        Ok(body) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response(),
        Err(e) => Problem::unavailable(e.to_string()).into_response(),
    }
}

/// The route serving the document.
pub(super) fn route() -> Routes {
    Routes::new().get("/openapi.json", document)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(routes: &[(Method, &'static str)]) -> BTreeSet<(Method, &'static str)> {
        routes.iter().copied().collect()
    }

    #[test]
    fn the_compiled_in_document_describes_every_route_with_this_version() {
        let body = bytes().unwrap();
        let doc: Value = serde_json::from_slice(&body).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
        assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
        let operations: usize = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .map(|item| METHODS.iter().filter(|m| item.get(**m).is_some()).count())
            .sum();
        assert_eq!(operations, super::super::routes().table().len());
    }

    #[test]
    fn paths_come_from_the_table_and_must_match_the_descriptions() {
        let source = r#"{"openapi": "3.1.0", "info": {"title": "t"},
            "paths": {"/a": {"get": {"summary": "A"}, "parameters": []},
                      "/b": {"post": {"summary": "B"}}}}"#;
        let both = table(&[(Method::Get, "/a"), (Method::Post, "/b")]);
        let doc: Value = serde_json::from_slice(&build(source, &both).unwrap()).unwrap();
        assert_eq!(doc["paths"]["/a"]["get"]["summary"], "A");
        assert_eq!(doc["paths"]["/a"]["parameters"], serde_json::json!([]));
        assert_eq!(
            build(source, &table(&[(Method::Get, "/a")])),
            Err(OpenApiError::NotARoute("POST".into(), "/b".into()))
        );
        let extra = table(&[
            (Method::Get, "/a"),
            (Method::Post, "/b"),
            (Method::Get, "/c"),
        ]);
        assert_eq!(
            build(source, &extra),
            Err(OpenApiError::Undescribed("GET".into(), "/c".into()))
        );
    }

    #[test]
    fn a_document_of_another_version_is_refused() {
        let none = BTreeSet::new();
        assert!(matches!(
            build(r#"{"openapi": "3.0.3", "info": {}}"#, &none),
            Err(OpenApiError::Version(_))
        ));
        assert!(matches!(
            build("not json", &none),
            Err(OpenApiError::NotJson(_))
        ));
        assert_eq!(
            build(r#"{"openapi": "3.1.0"}"#, &none),
            Err(OpenApiError::NoInfo)
        );
    }
}
