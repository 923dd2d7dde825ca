//! CSV import and export of the address book (`docs/csv.md`): `POST /v1/contacts/import`
//! and `GET /v1/contacts/export`.
//!
//! The import route has its own body limit (20 MiB), larger than the service's default,
//! set on that route only. Parsing and checking run on the blocking pool (up to 100,000
//! lines); storing runs in a task of its own, so a client that hangs up mid-import does
//! not leave it half done. The export is streamed page by page.

use crate::auth::TenantAuth;
use crate::contacts_csv::{self, LineError, MAX_BYTES};
use crate::problem::{ApiQuery, Problem};
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;

/// Query of `POST /v1/contacts/import`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// Check and look up only; store nothing.
    #[serde(default)]
    dry_run: bool,
}

fn is_csv(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("text/csv"))
}

fn line_errors(errors: &[LineError]) -> Problem {
    let n = errors.len();
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-csv",
        "Invalid CSV",
        format!(
            "{n} line{} of the file {} not acceptable; nothing was imported",
            if n == 1 { "" } else { "s" },
            if n == 1 { "is" } else { "are" }
        ),
    )
    .with(
        "errors",
        serde_json::to_value(errors).unwrap_or(Value::Array(Vec::new())),
    )
}

/// `POST /v1/contacts/import[?dry_run=true]`: a `text/csv` body of contacts.
pub async fn import(
    State(state): State<AppState>,
    auth: TenantAuth,
    ApiQuery(q): ApiQuery<ImportQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, Problem> {
    if !is_csv(&headers) {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            "send the file as Content-Type: text/csv",
        ));
    }
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Problem::too_large(format!(
                "an import file is at most {} MiB: split the file",
                MAX_BYTES / (1024 * 1024)
            ))
        } else {
            Problem::bad_request(e.body_text())
        }
    })?;
    let rows = tokio::task::spawn_blocking(move || contacts_csv::parse(&body))
        .await
        .map_err(Problem::unavailable)?
        .map_err(|errors| line_errors(&errors))?;
    let total = rows.len();
    let tenant = auth.tenant.id.clone();
    let keys = state.tenant_keys(&tenant);
    let store = state.store.clone();
    let now = state.clock.now_ms();
    let dry_run = q.dry_run;
    let outcome = tokio::spawn(async move {
        contacts_csv::import(&store, &keys, &tenant, rows, now, dry_run, || {}).await
    })
    .await
    .map_err(Problem::unavailable)?
    .map_err(|e| {
        tracing::error!(error = %e, "CSV import stopped");
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "import-interrupted",
            "Import interrupted",
            "storage failed part way; importing the same file again stores the rest \
             (lines already stored are then reported as existing)",
        )
        .with("stored", e.stored)
        .with("total", e.total)
    })?;
    tracing::info!(
        tenant = %auth.tenant.id,
        lines = total,
        created = outcome.created,
        existing = outcome.existing.len(),
        dry_run,
        "CSV import"
    );
    Ok(Json(outcome.to_json(dry_run)))
}

/// `GET /v1/contacts/export`: the book as pseudonymous CSV, streamed.
pub async fn export(State(state): State<AppState>, auth: TenantAuth) -> Result<Response, Problem> {
    contacts_csv::export_response(
        state.store.clone(),
        auth.tenant.id.clone(),
        state.clock.now_ms(),
    )
    .await
    .map_err(Problem::unavailable)
}
