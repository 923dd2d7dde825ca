//! RFC 3161 anchoring: a time-stamping authority (TSA) signs SHA-256 of the checkpoint
//! body, over HTTP (RFC 3161 §3.4: POST `application/timestamp-query`, answer
//! `application/timestamp-reply`).
//!
//! The steps follow [`Anchor`]: [`TsaAnchor::prepare`] draws a fresh 64-bit nonce and
//! encodes the request, touching nothing outside; the caller stores that intent.
//! [`TsaAnchor::advance`] sends exactly the stored request and checks the answer with the
//! core's offline checker ([`consentry_core::anchor::rfc3161::check_token`]) — imprint of
//! this body, the intent's nonce (so a replayed or misrouted answer is refused), the
//! configured CA — before returning the anchor object: nothing leaves this module that a
//! verifier would reject. Sending the request again after a crash is harmless: the TSA
//! issues another token for the same imprint, and only the one returned is kept.
//!
//! Errors: connection failures, timeouts and HTTP 5xx/429 are
//! [`AnchorError::Unreachable`] (retry later); a TSA that answers with a rejection status
//! or another HTTP 4xx is [`AnchorError::Refused`] (the operator must act: wrong policy,
//! unsupported hash, missing credentials); an answer that does not check out is
//! [`AnchorError::Invalid`]. Credentials in the URL (`https://user:pass@…`, sent as HTTP
//! basic authentication) never appear in messages nor in anchor objects.

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use consentry_core::anchor::rfc3161::{
    KIND, Rfc3161Error, TsaChain, anchor_object, build_request, check_token, parse_response,
    pem_certificates,
};
use der::Decode as _;
use rand_core::{OsRng, RngCore as _};
use sha2::Digest as _;

use crate::{Anchor, AnchorError, AnchorObject, BoxFuture, Progress, Recheck};

/// How long one request to the TSA may take unless configured otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest answer read from a TSA. Tokens are a few kilobytes (certificates
/// included); the cap keeps a broken or hostile endpoint from filling memory.
const MAX_RESPONSE_BYTES: usize = 1 << 20;

/// Nonce length in bytes: 64 bits, as `openssl ts -query` uses, is plenty to tell one
/// request from another (RFC 3161 §2.4.1).
const NONCE_BYTES: usize = 8;

/// What the RFC 3161 anchor needs.
#[derive(Debug, Clone)]
pub struct TsaConfig {
    /// The TSA's HTTP(S) endpoint. Credentials may be given as userinfo
    /// (`https://user:pass@tsa.example/`); they are sent as basic authentication and
    /// stripped from everything stored or logged.
    pub url: String,
    /// The TSA's CA certificate(s), PEM (one or more `CERTIFICATE` blocks) or a single DER
    /// certificate: every token must chain to one of them. Without it, tokens are only
    /// checked against the certificate they carry, and the service logs a warning.
    pub ca_file: Option<PathBuf>,
    /// How long one request may take before the TSA counts as unreachable.
    pub timeout: Duration,
}

impl TsaConfig {
    /// A configuration with no CA file and [`DEFAULT_TIMEOUT`].
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            ca_file: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// Anchors checkpoints with an RFC 3161 TSA.
pub struct TsaAnchor {
    /// Where requests go (credentials included).
    url: reqwest::Url,
    /// The URL as stored in anchor objects and shown in messages: no userinfo, no query.
    shown_url: String,
    /// DER of the trusted CA certificates; empty if none configured.
    trusted: Vec<Vec<u8>>,
    client: reqwest::Client,
}

impl std::fmt::Debug for TsaAnchor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TsaAnchor")
            .field("url", &self.shown_url)
            .field("trusted_cas", &self.trusted.len())
            .finish_non_exhaustive()
    }
}

impl TsaAnchor {
    /// Checks the URL, loads the CA file (a bad file is a [`AnchorError::Config`] now,
    /// not a failure at the first anchor) and builds the HTTP client.
    pub fn new(cfg: TsaConfig) -> Result<Self, AnchorError> {
        let url = reqwest::Url::parse(&cfg.url)
            .map_err(|e| AnchorError::Config(format!("RFC 3161 TSA URL is not a URL: {e}")))?;
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(AnchorError::Config(format!(
                "RFC 3161 TSA URL must be http:// or https://, not {}://",
                url.scheme()
            )));
        }
        let shown_url = shown(&url);
        let trusted = match &cfg.ca_file {
            Some(path) => load_cas(path)?,
            None => {
                tracing::warn!(
                    tsa = %shown_url,
                    "no RFC 3161 CA file configured: tokens are checked only against the certificate they carry"
                );
                Vec::new()
            }
        };
        let client = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .build()
            .map_err(|e| AnchorError::Config(format!("HTTP client: {e}")))?;
        Ok(Self {
            url,
            shown_url,
            trusted,
            client,
        })
    }

    /// The TSA URL as anchor objects carry it (no credentials, no query).
    pub fn url(&self) -> &str {
        &self.shown_url
    }

    /// Time-stamps `imprint` (a SHA-256 digest: a PDF seal's signature value) and returns
    /// the `TimeStampToken` (DER), checked as an anchor's is: the imprint and nonce
    /// echoed, the TSA's signature, and its chain when a CA file is configured.
    ///
    /// # Errors
    /// [`AnchorError::Unreachable`] when the TSA does not answer (try again later),
    /// [`AnchorError::Refused`] or [`AnchorError::Invalid`] for a refusal or a bad token.
    pub async fn stamp(&self, imprint: &[u8; 32]) -> Result<Vec<u8>, AnchorError> {
        let mut nonce = vec![0u8; NONCE_BYTES];
        OsRng.try_fill_bytes(&mut nonce).map_err(|e| {
            AnchorError::Unreachable(format!("the OS random number generator failed: {e}"))
        })?;
        let request =
            build_request(imprint, &nonce).map_err(|e| AnchorError::Invalid(e.to_string()))?;
        let answer = self.post(request).await?;
        let token = parse_response(&answer).map_err(|e| match e {
            Rfc3161Error::Rejected { .. } => {
                AnchorError::Refused(format!("TSA {}: {e}", self.shown_url))
            }
            other => AnchorError::Invalid(format!("TSA {}: {other}", self.shown_url)),
        })?;
        check_token(&token, imprint, Some(&nonce), &self.trusted)
            .map_err(|e| AnchorError::Invalid(format!("TSA {}: {e}", self.shown_url)))?;
        Ok(token)
    }

    async fn post(&self, request: Vec<u8>) -> Result<Vec<u8>, AnchorError> {
        let unreachable = |e: reqwest::Error| {
            AnchorError::Unreachable(format!(
                "TSA {}: {}",
                self.shown_url,
                describe(e.without_url())
            ))
        };
        let mut response = self
            .client
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/timestamp-query")
            .header(reqwest::header::ACCEPT, "application/timestamp-reply")
            .body(request)
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(AnchorError::Invalid(format!(
                    "TSA {} answered more than {MAX_RESPONSE_BYTES} bytes",
                    self.shown_url
                )));
            }
            body.extend_from_slice(&chunk);
        }
        if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            return Err(AnchorError::Unreachable(format!(
                "TSA {} answered HTTP {status}{}",
                self.shown_url,
                snippet(&body)
            )));
        }
        if !status.is_success() {
            return Err(AnchorError::Refused(format!(
                "TSA {} answered HTTP {status}{}",
                self.shown_url,
                snippet(&body)
            )));
        }
        Ok(body)
    }
}

/// The URL without userinfo, query or fragment: what may be stored and shown.
fn shown(url: &reqwest::Url) -> String {
    let mut clean = url.clone();
    // Both only fail for URLs that cannot have credentials; then there are none to strip.
    let _ = clean.set_username("");
    let _ = clean.set_password(None);
    clean.set_query(None);
    clean.set_fragment(None);
    clean.to_string()
}

/// A reqwest error with its causes (the URL already removed).
fn describe(error: reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The start of an error body, when it is text: TSAs explain refusals there.
fn snippet(body: &[u8]) -> String {
    match std::str::from_utf8(body) {
        Ok(text) if !text.trim().is_empty() => {
            let short: String = text.trim().chars().take(200).collect();
            format!(": {short}")
        }
        _ => String::new(),
    }
}

/// Reads a CA file: PEM with one or more certificates, or one DER certificate.
fn load_cas(path: &std::path::Path) -> Result<Vec<Vec<u8>>, AnchorError> {
    let shown = path.display();
    let bytes = std::fs::read(path)
        .map_err(|e| AnchorError::Config(format!("RFC 3161 CA file {shown}: {e}")))?;
    let bad = |e: String| AnchorError::Config(format!("RFC 3161 CA file {shown}: {e}"));
    match std::str::from_utf8(&bytes) {
        Ok(text) if text.contains("-----BEGIN") => {
            pem_certificates(text).map_err(|e| bad(e.to_string()))
        }
        _ => {
            x509_cert::Certificate::from_der(&bytes)
                .map_err(|e| bad(format!("neither PEM nor a DER certificate: {e}")))?;
            Ok(vec![bytes])
        }
    }
}

/// The intent `prepare` makes: the exact request to send, and its nonce.
struct Intent {
    request: Vec<u8>,
    nonce: Vec<u8>,
}

impl Intent {
    fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "request": B64.encode(&self.request), "nonce": hex::encode(&self.nonce) })
    }

    /// Reads a stored intent and checks that it is a request for `body`: a mix-up is
    /// caught before a (possibly paid) time-stamp is asked for.
    fn from_json(value: &serde_json::Value, body: &str) -> Result<Self, AnchorError> {
        let field = |name: &str| {
            value.get(name).and_then(|v| v.as_str()).ok_or_else(|| {
                AnchorError::Invalid(format!("RFC 3161 intent has no {name:?} string"))
            })
        };
        let request = B64
            .decode(field("request")?)
            .map_err(|_| AnchorError::Invalid("RFC 3161 intent request is not base64".into()))?;
        let nonce = hex::decode(field("nonce")?)
            .map_err(|_| AnchorError::Invalid("RFC 3161 intent nonce is not hex".into()))?;
        let expected = build_request(&imprint(body), &nonce)
            .map_err(|e| AnchorError::Invalid(e.to_string()))?;
        if expected != request {
            return Err(AnchorError::Invalid(
                "RFC 3161 intent does not match this checkpoint body and nonce".into(),
            ));
        }
        Ok(Self { request, nonce })
    }
}

fn imprint(body: &str) -> [u8; 32] {
    sha2::Sha256::digest(body.as_bytes()).into()
}

impl Anchor for TsaAnchor {
    fn kind(&self) -> crate::AnchorKind {
        crate::AnchorKind::Rfc3161
    }

    /// The TSA's URL (without credentials or query).
    fn public_info(&self) -> serde_json::Value {
        serde_json::json!({ "kind": KIND, "tsa": self.url() })
    }

    fn prepare<'a>(
        &'a self,
        body: &'a str,
    ) -> BoxFuture<'a, Result<serde_json::Value, AnchorError>> {
        Box::pin(async move {
            let mut nonce = vec![0u8; NONCE_BYTES];
            OsRng.try_fill_bytes(&mut nonce).map_err(|e| {
                AnchorError::Unreachable(format!("the OS random number generator failed: {e}"))
            })?;
            let request = build_request(&imprint(body), &nonce)
                .map_err(|e| AnchorError::Invalid(e.to_string()))?;
            Ok(Intent { request, nonce }.to_json())
        })
    }

    fn advance<'a>(
        &'a self,
        body: &'a str,
        intent: &'a serde_json::Value,
    ) -> BoxFuture<'a, Result<Progress, AnchorError>> {
        Box::pin(async move {
            let intent = Intent::from_json(intent, body)?;
            let answer = self.post(intent.request).await?;
            let token = parse_response(&answer).map_err(|e| match e {
                Rfc3161Error::Rejected { .. } => {
                    AnchorError::Refused(format!("TSA {}: {e}", self.shown_url))
                }
                other => AnchorError::Invalid(format!("TSA {}: {other}", self.shown_url)),
            })?;
            let facts = check_token(&token, &imprint(body), Some(&intent.nonce), &self.trusted)
                .map_err(|e| AnchorError::Invalid(format!("TSA {}: {e}", self.shown_url)))?;
            tracing::info!(
                tsa = %self.shown_url,
                gen_time = %facts.gen_time,
                serial = %facts.serial,
                signer = %facts.tsa_name,
                policy = %facts.policy,
                chain_checked = matches!(facts.chain, TsaChain::Trusted { .. }),
                token_bytes = token.len(),
                "checkpoint time-stamped"
            );
            Ok(Progress::Anchored(anchor_object(
                &self.shown_url,
                &token,
                &facts,
            )))
        })
    }

    /// A token does not change once issued: it stays valid. (Revocation of the TSA
    /// certificate after the fact is for the verifier to weigh; see docs/anchoring.md.)
    fn recheck<'a>(
        &'a self,
        _anchor: &'a AnchorObject,
    ) -> BoxFuture<'a, Result<Recheck, AnchorError>> {
        Box::pin(async move { Ok(Recheck::Valid) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_url_drops_credentials_and_query() {
        let url = reqwest::Url::parse("https://user:secret@tsa.example:8443/ts?key=abc#x").unwrap();
        assert_eq!(shown(&url), "https://tsa.example:8443/ts");
    }

    #[test]
    fn non_http_urls_are_refused() {
        let err = TsaAnchor::new(TsaConfig::new("ftp://tsa.example/")).unwrap_err();
        assert!(matches!(err, AnchorError::Config(m) if m.contains("ftp://")));
        assert!(matches!(
            TsaAnchor::new(TsaConfig::new("not a url")),
            Err(AnchorError::Config(_))
        ));
    }

    #[tokio::test]
    async fn intent_for_another_body_is_refused_before_sending() {
        // Port 9 on loopback: nothing listens; the check must fail before any connection.
        let anchor = TsaAnchor::new(TsaConfig::new("http://127.0.0.1:9/")).unwrap();
        let intent = anchor.prepare("a\n1\nAAAA\n").await.unwrap();
        let err = anchor.advance("a\n2\nAAAA\n", &intent).await.unwrap_err();
        assert!(matches!(err, AnchorError::Invalid(m) if m.contains("does not match")));
    }
}
