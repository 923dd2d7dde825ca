//! The HTTP face of the witness (c2sp.org/tlog-witness v1.0.0): `POST /add-checkpoint`,
//! the monitoring route `GET /<sha256(origin)>/checkpoint`, and the witness's own public
//! routes, `GET /evidence` and `GET /metrics`.
//!
//! Handlers only parse, call the [`Witness`] on a blocking thread (it fsyncs) and render;
//! every status code is decided in the one [`IntoResponse`] impl of [`HttpError`], which
//! is where the specification's table lives in code.

use crate::clock::Clock;
use crate::decide::Refusal;
use crate::limiter::Limiter;
use crate::store::{Evidence, StoreError};
use crate::witness::{AddError, Witness};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequestParts, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::net::SocketAddr;
use std::sync::Arc;

/// The largest request body: 63 proof lines and a checkpoint with many signatures fit in
/// a few kilobytes.
const MAX_BODY: usize = 64 * 1024;

/// The media type of a 409 answer's body (the latest cosigned size).
pub const SIZE_CONTENT_TYPE: &str = "text/x.tlog.size";

/// Most evidence items per `/evidence` page.
const EVIDENCE_PAGE: u32 = 100;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    witness: Arc<Witness>,
    limiter: Arc<Limiter>,
    clock: Arc<dyn Clock>,
}

impl AppState {
    /// The state of a witness's routes.
    pub fn new(witness: Arc<Witness>, limiter: Limiter, clock: Arc<dyn Clock>) -> AppState {
        AppState {
            witness,
            limiter: Arc::new(limiter),
            clock,
        }
    }
}

/// The witness's routes. Serve them with
/// `into_make_service_with_connect_info::<SocketAddr>()`: the rate limit is per client IP.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .route("/{origin_hash}/checkpoint", get(checkpoint))
        .route("/evidence", get(evidence))
        .route("/metrics", get(metrics))
        .route("/", get(about))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// Every way a request fails, each with one status.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// add-checkpoint refused.
    #[error(transparent)]
    Add(#[from] AddError),
    /// The client's bucket is empty.
    #[error("too many requests")]
    RateLimited,
    /// Nothing at this path.
    #[error("not found")]
    NotFound,
    /// A bad query or path parameter.
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// The state could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The blocking task did not finish.
    #[error("internal error")]
    Join,
}

fn text(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        match self {
            HttpError::Add(e) => {
                let status = match &e {
                    AddError::Malformed(_) | AddError::MalformedCheckpoint(_) => {
                        StatusCode::BAD_REQUEST
                    }
                    AddError::UnknownLog(_) => StatusCode::NOT_FOUND,
                    AddError::BadSignature => StatusCode::FORBIDDEN,
                    AddError::Refused(Refusal::OldAboveSize) => StatusCode::BAD_REQUEST,
                    AddError::Refused(Refusal::Conflict { latest }) => {
                        return (
                            StatusCode::CONFLICT,
                            [(header::CONTENT_TYPE, SIZE_CONTENT_TYPE)],
                            format!("{latest}\n"),
                        )
                            .into_response();
                    }
                    AddError::Refused(
                        Refusal::BadProof | Refusal::UnexpectedProof | Refusal::EmptyTreeRoot,
                    ) => StatusCode::UNPROCESSABLE_ENTITY,
                    AddError::Store(_) | AddError::Cosign(_) => {
                        tracing::error!(error = %e, "add-checkpoint failed");
                        return text(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n".into());
                    }
                };
                text(status, format!("{e}\n"))
            }
            HttpError::RateLimited => {
                let mut r = text(StatusCode::TOO_MANY_REQUESTS, "too many requests\n".into());
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                r
            }
            HttpError::NotFound => text(StatusCode::NOT_FOUND, "not found\n".into()),
            HttpError::BadRequest(why) => text(StatusCode::BAD_REQUEST, format!("{why}\n")),
            HttpError::Store(e) => {
                tracing::error!(error = %e, "witness database");
                text(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n".into())
            }
            HttpError::Join => text(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n".into()),
        }
    }
}

/// A request that passed the client's rate limit: take it as an argument and the route
/// is limited.
pub struct Limited;

impl FromRequestParts<AppState> for Limited {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Limited, HttpError> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .ok_or(HttpError::Join)?;
        if state.limiter.allow(ip, state.clock.now_ms()) {
            Ok(Limited)
        } else {
            state.witness.metrics().refused("rate_limited");
            Err(HttpError::RateLimited)
        }
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, HttpError> + Send + 'static,
) -> Result<T, HttpError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| HttpError::Join)?
}

async fn add_checkpoint(
    _: Limited,
    State(s): State<AppState>,
    body: Bytes,
) -> Result<Response, HttpError> {
    let now = s.clock.now_ms();
    let w = s.witness.clone();
    let done = blocking(move || w.add_checkpoint(&body, now).map_err(HttpError::from)).await?;
    Ok(text(StatusCode::OK, done.lines))
}

async fn checkpoint(
    _: Limited,
    State(s): State<AppState>,
    Path(origin_hash): Path<String>,
) -> Result<Response, HttpError> {
    let Some(hash) = hex::decode(&origin_hash)
        .ok()
        .filter(|_| origin_hash.bytes().all(|b| !b.is_ascii_uppercase()))
        .and_then(|h| <[u8; 32]>::try_from(h).ok())
    else {
        return Err(HttpError::NotFound);
    };
    let w = s.witness.clone();
    let note = blocking(move || Ok(w.with_store(|st| st.latest_cosigned_note(&hash))?)).await?;
    let note = note.ok_or(HttpError::NotFound)?;
    Ok(text(StatusCode::OK, note))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct EvidenceQuery {
    after: Option<i64>,
}

#[derive(serde::Serialize)]
struct EvidencePage {
    witness: String,
    evidence: Vec<Evidence>,
    /// Pass as `?after=` for the next page; absent on the last one.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_after: Option<i64>,
}

async fn evidence(
    _: Limited,
    State(s): State<AppState>,
    query: Result<Query<EvidenceQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, HttpError> {
    let Query(q) = query.map_err(|_| HttpError::BadRequest("the only parameter is after=<id>"))?;
    let after = q.after.unwrap_or(0);
    let w = s.witness.clone();
    let evidence =
        blocking(move || Ok(w.with_store(|st| st.evidence(after, EVIDENCE_PAGE))?)).await?;
    let next_after = (evidence.len() == EVIDENCE_PAGE as usize)
        .then(|| evidence.last().map(|e| e.id))
        .flatten();
    Ok(axum::Json(EvidencePage {
        witness: s.witness.verifier_key(),
        evidence,
        next_after,
    })
    .into_response())
}

async fn metrics(State(s): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        s.witness.metrics().render(),
    )
        .into_response()
}

async fn about(State(s): State<AppState>) -> Response {
    let mut body = format!(
        "c2sp.org/tlog-witness v1.0.0 witness\nvkey {}\n",
        s.witness.verifier_key()
    );
    for key in s.witness.logs().keys() {
        body.push_str(&format!("log {key}\n"));
    }
    text(StatusCode::OK, body)
}

/// Serves the routes on `listener` until `shutdown` completes, with each connection's
/// peer address available to the rate limit.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
