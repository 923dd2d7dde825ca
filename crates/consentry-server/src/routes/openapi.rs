//! The OpenAPI 3.1 description of the HTTP API, served at `GET /openapi.json`.
//!
//! The document is hand-written (`crates/consentry-server/openapi.json`) and compiled in.
//! It is parsed once, on first use: its `info.version` is set to this build's version and
//! the compact bytes are kept and served from then on. The end-to-end tests check that it
//! describes every route of [`crate::routes::routes`] and nothing else, that it is a valid
//! OpenAPI 3.1 document, and that real responses match the documented schemas.

use crate::problem::Problem;
use axum::body::Bytes;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use std::sync::LazyLock;

/// The document as written.
pub const SOURCE: &str = include_str!("../../openapi.json");

static DOCUMENT: LazyLock<Result<Bytes, String>> = LazyLock::new(|| build(SOURCE));

/// Parses and checks the document, stamps this build's version, and serialises it.
fn build(source: &str) -> Result<Bytes, String> {
    let mut doc: serde_json::Value =
        serde_json::from_str(source).map_err(|e| format!("openapi.json is not JSON: {e}"))?;
    let version = doc
        .get("openapi")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default();
    if !version.starts_with("3.1.") {
        return Err(format!(
            "openapi.json declares OpenAPI {version:?}, not 3.1"
        ));
    }
    let info = doc
        .get_mut("info")
        .and_then(serde_json::Value::as_object_mut)
        .ok_or("openapi.json has no info object")?;
    info.insert("version".into(), env!("CARGO_PKG_VERSION").into());
    serde_json::to_vec(&doc)
        .map(Bytes::from)
        .map_err(|e| format!("openapi.json cannot be serialised: {e}"))
}

/// The served bytes, or why the compiled-in document is unusable.
pub fn bytes() -> Result<Bytes, String> {
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
        Err(e) => Problem::unavailable(e).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compiled_in_document_is_openapi_3_1_with_this_version() {
        let body = bytes().unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
        assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
        assert!(doc["paths"].as_object().is_some_and(|p| !p.is_empty()));
    }

    #[test]
    fn a_document_of_another_version_is_refused() {
        assert!(build(r#"{"openapi": "3.0.3", "info": {}}"#).is_err());
        assert!(build("not json").is_err());
        assert!(build(r#"{"openapi": "3.1.0"}"#).is_err());
    }
}
