//! RFC 9457 problem details: the one place where errors become HTTP responses.
//!
//! Clients get a stable `type` (`urn:consentry:problem:<slug>`), a title and a safe
//! detail; the log gets the cause. A storage failure is a 503 "unavailable", never a
//! "not found": in a consent ledger, "no consent" during an outage would be a lie.

use axum::extract::rejection::{FormRejection, JsonRejection, QueryRejection};
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

/// An error answered as `application/problem+json`.
#[derive(Debug)]
pub struct Problem {
    status: StatusCode,
    slug: &'static str,
    title: &'static str,
    detail: String,
    extra: Option<serde_json::Map<String, serde_json::Value>>,
    /// Seconds for a `Retry-After` header, when the client should retry.
    retry_after: Option<u32>,
}

impl Problem {
    /// A problem with a status, a stable slug, a title and a detail for the client.
    pub fn new(
        status: StatusCode,
        slug: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Problem {
        Problem {
            status,
            slug,
            title,
            detail: detail.into(),
            extra: None,
            retry_after: None,
        }
    }

    /// Adds a member to the body (e.g. `status: "pending"`).
    pub fn with(mut self, key: &str, value: impl Into<serde_json::Value>) -> Problem {
        self.extra
            .get_or_insert_with(Default::default)
            .insert(key.to_owned(), value.into());
        self
    }

    /// 400: the request is not acceptable as sent.
    pub fn bad_request(detail: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "Bad request",
            detail,
        )
    }

    /// 413: the body is over a limit; `detail` says which.
    pub fn too_large(detail: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "Payload too large",
            detail,
        )
    }

    /// 422: well-formed, but a value is not acceptable.
    pub fn invalid(detail: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-value",
            "Invalid value",
            detail,
        )
    }

    /// 422 `invalid-email`: the address breaks the one address grammar (a bare
    /// addr-spec, see `consentry_vault::normalize_email`). `rule` names the rule broken
    /// (`angle-brackets`, `quoted`, …); the detail says it in words, never with the address.
    pub fn invalid_email(rule: consentry_vault::EmailError) -> Problem {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-email",
            "Invalid e-mail address",
            format!("email: not a usable e-mail address: {rule}"),
        )
        .with("rule", rule.rule())
    }

    /// 404.
    pub fn not_found(what: &str) -> Problem {
        Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "Not found",
            format!("no such {what}"),
        )
    }

    /// 401.
    pub fn unauthorized() -> Problem {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Unauthorized",
            "a valid API key is required: Authorization: Bearer <key>",
        )
    }

    /// 503 for a storage or internal failure; `cause` goes to the log only.
    pub fn unavailable(cause: impl std::fmt::Display) -> Problem {
        tracing::error!(%cause, "request failed");
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Service unavailable",
            "the service could not complete the request; nothing was recorded; retry later",
        )
    }

    /// 503 because the storage is full: the transaction was rolled back, nothing was
    /// recorded, and the same request succeeds once the operator frees space (the
    /// service needs no restart). `Retry-After` says when to try again.
    pub fn storage_full(cause: impl std::fmt::Display) -> Problem {
        tracing::error!(%cause, "storage full: request refused, nothing written");
        let mut p = Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage-full",
            "Storage full",
            "the service's storage is full; nothing was recorded; retry later",
        );
        p.retry_after = Some(STORAGE_FULL_RETRY_SECONDS);
        p
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

/// The `Retry-After` of a storage-full answer: long enough not to hammer a full disk,
/// short enough that clients resume soon after the operator frees space.
pub const STORAGE_FULL_RETRY_SECONDS: u32 = 30;

impl From<consentry_store::StoreError> for Problem {
    fn from(e: consentry_store::StoreError) -> Problem {
        match e {
            consentry_store::StoreError::StorageFull(_) => Problem::storage_full(e),
            e => Problem::unavailable(e),
        }
    }
}

impl From<consentry_ledger::SubmitError> for Problem {
    /// The outcomes every adapter answers alike; callers match the ones they answer
    /// their own way (an unknown contact, an erased one) before.
    fn from(e: consentry_ledger::SubmitError) -> Problem {
        match e {
            consentry_ledger::SubmitError::StorageFull => Problem::storage_full(e),
            e => Problem::unavailable(e),
        }
    }
}

impl From<crate::contacts::ContactError> for Problem {
    fn from(e: crate::contacts::ContactError) -> Problem {
        match e {
            crate::contacts::ContactError::Invalid(m) => Problem::invalid(m),
            crate::contacts::ContactError::Field(f) => Problem::invalid(f.to_string()),
            crate::contacts::ContactError::Email(rule) => Problem::invalid_email(rule),
            crate::contacts::ContactError::Store(e) => Problem::from(e),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut body = serde_json::Map::new();
        body.insert(
            "type".into(),
            format!("urn:consentry:problem:{}", self.slug).into(),
        );
        body.insert("title".into(), self.title.into());
        body.insert("status".into(), self.status.as_u16().into());
        body.insert("detail".into(), self.detail.into());
        if let Some(extra) = self.extra {
            body.extend(extra);
        }
        let mut res = (self.status, serde_json::Value::Object(body).to_string()).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(seconds) = self.retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        res
    }
}

/// `axum::Json` whose rejections are problem+json with the exact reason.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(e) => Err(json_rejection(e)),
        }
    }
}

fn json_rejection(e: JsonRejection) -> Problem {
    match e {
        JsonRejection::MissingJsonContentType(_) => Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            "send the body as Content-Type: application/json",
        ),
        JsonRejection::JsonSyntaxError(e) => {
            Problem::bad_request(format!("the body is not valid JSON: {}", e.body_text()))
        }
        JsonRejection::JsonDataError(e) => Problem::invalid(format!(
            "the JSON does not match the expected shape: {}",
            e.body_text()
        )),
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            Problem::too_large("the request body is larger than the service accepts")
        }
        other => Problem::bad_request(other.body_text()),
    }
}

/// `axum::Form` with problem+json rejections.
pub struct ApiForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiForm<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(v)) => Ok(ApiForm(v)),
            Err(FormRejection::BytesRejection(e))
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                Err(Problem::too_large(
                    "the request body is larger than the service accepts",
                ))
            }
            Err(e) => Err(Problem::bad_request(e.body_text())),
        }
    }
}

/// `axum::extract::Query` with problem+json rejections.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> axum::extract::FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(e @ QueryRejection::FailedToDeserializeQueryString(_)) => {
                Err(Problem::bad_request(e.body_text()))
            }
            Err(e) => Err(Problem::bad_request(e.body_text())),
        }
    }
}
