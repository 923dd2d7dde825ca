//! Proof downloads: the sealed JSON (exactly the log entry's bytes) and a readable PDF.

use crate::app::AppState;
use crate::auth::TenantAuth;
use crate::problem::Problem;
use crate::routes::consents::proof_response;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use consentry_core::anchor::evm::check_evm_anchor;
use consentry_core::anchor::rfc3161::check_rfc3161_anchor;
use consentry_core::certificate::{Certificate, CertificateWriter};
use consentry_core::checkpoint::parse_signed_checkpoint;
use consentry_core::ids::ProofId;
use consentry_core::proof::SealedProof;
use consentry_ledger::schedule::Schedule;
use consentry_pdf::{AnchorLine, CertificateSummary, Language, ProofSummary};

/// The page language from `Accept-Language`: French when French is preferred, else English.
pub fn language(headers: &HeaderMap) -> Language {
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let first = accept
        .split(',')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if first.starts_with("fr") {
        Language::Fr
    } else {
        Language::En
    }
}

/// `GET /v1/proofs/{id}` (JSON) and `GET /v1/proofs/{id}.pdf`.
pub async fn show(
    State(state): State<AppState>,
    auth: TenantAuth,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let (raw, pdf) = match id.strip_suffix(".pdf") {
        Some(stem) => (stem, true),
        None => (id.strip_suffix(".json").unwrap_or(&id), false),
    };
    let id = ProofId::parse(raw).map_err(|_| Problem::not_found("proof"))?;
    let (_, entry) = state
        .store
        .proof(&auth.tenant.id, &id)
        .await?
        .ok_or_else(|| Problem::not_found("proof"))?;
    if !pdf {
        return Ok(proof_response(StatusCode::OK, &id, entry));
    }
    proof_pdf(&state, &auth.tenant.name, &headers, &id, &entry)
}

/// A stored proof as a readable PDF, naming the sender `sender_name`.
pub(crate) fn proof_pdf(
    state: &AppState,
    sender_name: &str,
    headers: &HeaderMap,
    id: &ProofId,
    entry: &[u8],
) -> Result<Response, Problem> {
    let proof: SealedProof = serde_json::from_slice(entry).map_err(Problem::unavailable)?;
    let summary = proof_summary(state, sender_name, headers, id, &proof, entry);
    let bytes = consentry_pdf::proof_pdf(&summary).map_err(Problem::unavailable)?;
    Ok(pdf_response(&format!("{id}.pdf"), bytes))
}

fn pdf_response(filename: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{filename}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

fn proof_summary(
    state: &AppState,
    sender_name: &str,
    headers: &HeaderMap,
    id: &ProofId,
    proof: &SealedProof,
    entry: &[u8],
) -> ProofSummary {
    let leaf = consentry_core::merkle::leaf_hash(entry);
    ProofSummary {
        language: language(headers),
        sender_name: sender_name.to_owned(),
        subject: proof.body.subject.to_string(),
        purpose: proof.body.purpose.clone(),
        decision: proof.body.decision.as_str().to_owned(),
        method: serde_json::to_value(proof.body.method)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        recorded_at_utc: proof.body.recorded_at.to_string(),
        recorded_at_local: state
            .anchoring
            .schedule()
            .long_local(proof.body.recorded_at.unix_millis()),
        proof_id: id.to_string(),
        log_index: proof.body.log_index,
        log_origin: proof.body.log.clone(),
        // The key that sealed this proof (a rotated-away one for older proofs).
        seal_key_fingerprint: consentry_core::keys::SealPublicKey::from_base64(
            &proof.seal.public_key,
        )
        .map(|k| k.fingerprint())
        .unwrap_or_else(|_| state.keys.seal.public().fingerprint()),
        leaf_hash: leaf.to_hex(),
        verify_url: format!("{}/verify", state.config.public_url.trim_end_matches('/')),
    }
}

/// The certificate of a stored proof: its inclusion path up to the first anchored
/// checkpoint that holds it, and that checkpoint's anchors. `None` while pending.
pub async fn certificate_of(
    state: &AppState,
    proof: &SealedProof,
) -> Result<Option<Certificate>, Problem> {
    let index = proof.body.log_index;
    let Some(anchored) = state.store.anchored_checkpoint_for(index).await? else {
        return Ok(None);
    };
    let (_, path, _) = state
        .store
        .inclusion(index, anchored.size)
        .await?
        .map_err(Problem::unavailable)?;
    let anchors = anchored
        .anchors
        .iter()
        .map(|text| match serde_json::from_str(text) {
            Ok(serde_json::Value::Object(map)) => Ok(map),
            _ => Err(Problem::unavailable("a stored anchor is not a JSON object")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    // The log key that signed this checkpoint: a rotated-away one for older anchors.
    let log_key = state.keys.log_verifier_for(&anchored.note);
    let cert = Certificate::new(proof, &path, anchored.note, log_key, anchors)
        .map_err(Problem::unavailable)?;
    Ok(Some(cert))
}

/// The 409 answer for a proof whose checkpoint is not anchored yet.
fn pending(state: &AppState, log_index: u64) -> Problem {
    let anchoring = &state.anchoring;
    let mut p = Problem::new(
        StatusCode::CONFLICT,
        "pending",
        "Certificate pending",
        if anchoring.configured() {
            format!(
                "proof {log_index} is in the log but not anchored yet; anchoring runs daily at {}",
                anchoring.schedule().describe()
            )
        } else {
            "proof is in the log but no anchor is configured on this service yet; its certificate comes once one is".to_owned()
        },
    )
    .with("status", "pending")
    .with("log_index", log_index);
    if let Some(next) = next_anchor_at(state) {
        p = p.with("next_anchor_at", next.to_string());
    }
    p
}

/// When the next scheduled anchoring runs, if an anchor is configured.
pub fn next_anchor_at(state: &AppState) -> Option<jiff::Timestamp> {
    let anchoring = &state.anchoring;
    if !anchoring.configured() {
        return None;
    }
    let now = jiff::Timestamp::from_millisecond(state.clock.now_ms()).ok()?;
    anchoring.schedule().slot_after(now).map(|slot| slot.at)
}

/// `GET /v1/proofs/{id}/certificate`: the certificate JSON, or 409 while pending.
pub async fn certificate(
    State(state): State<AppState>,
    auth: TenantAuth,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    certificate_response(state, auth, headers, id, false).await
}

/// `GET /v1/proofs/{id}/certificate.pdf`: the certificate as a readable page.
pub async fn certificate_pdf(
    State(state): State<AppState>,
    auth: TenantAuth,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    certificate_response(state, auth, headers, id, true).await
}

async fn certificate_response(
    state: AppState,
    auth: TenantAuth,
    headers: HeaderMap,
    id: String,
    pdf: bool,
) -> Result<Response, Problem> {
    let id = ProofId::parse(&id).map_err(|_| Problem::not_found("proof"))?;
    let (_, entry) = state
        .store
        .proof(&auth.tenant.id, &id)
        .await?
        .ok_or_else(|| Problem::not_found("proof"))?;
    certificate_of_entry(&state, &auth.tenant.name, &headers, &id, &entry, pdf).await
}

/// The certificate (JSON or PDF) of a stored proof, or the 409 pending problem.
pub(crate) async fn certificate_of_entry(
    state: &AppState,
    sender_name: &str,
    headers: &HeaderMap,
    id: &ProofId,
    entry: &[u8],
    pdf: bool,
) -> Result<Response, Problem> {
    let state = state.clone();
    let entry = entry.to_vec();
    let id = id.clone();
    let proof: SealedProof = serde_json::from_slice(&entry).map_err(Problem::unavailable)?;
    let Some(cert) = certificate_of(&state, &proof).await? else {
        return Err(pending(&state, proof.body.log_index));
    };
    if !pdf {
        // The proof member is the stored entry itself, byte for byte.
        let writer = CertificateWriter::new(&cert.checkpoint, &cert.log_key, &cert.anchors)
            .map_err(Problem::unavailable)?;
        let path = cert
            .inclusion_hashes()
            .ok_or_else(|| Problem::unavailable("stored inclusion path"))?;
        let mut body = Vec::new();
        writer.write(&mut body, &entry, cert.leaf_index, &path);
        return Ok((
            [
                (header::CONTENT_TYPE, "application/json".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("inline; filename=\"{id}.certificate.json\""),
                ),
            ],
            body,
        )
            .into_response());
    }
    let (checkpoint, _) =
        parse_signed_checkpoint(&cert.checkpoint).map_err(Problem::unavailable)?;
    let summary = CertificateSummary {
        proof: proof_summary(&state, sender_name, headers, &id, &proof, &entry),
        checkpoint_size: checkpoint.size,
        checkpoint_root: checkpoint.root.to_base64(),
        anchors: anchor_lines(&state, &cert, &checkpoint.body()),
    };
    let bytes = consentry_pdf::certificate_pdf(&summary).map_err(Problem::unavailable)?;
    Ok(pdf_response(&format!("{id}.certificate.pdf"), bytes))
}

/// One readable line per anchor, from the facts its offline check establishes (the block
/// time from the embedded header, the TSA time from the signed token) rather than from
/// the object's informational members.
fn anchor_lines(state: &AppState, cert: &Certificate, body: &str) -> Vec<AnchorLine> {
    anchor_lines_of(&cert.anchors, body, state.anchoring.schedule())
}

/// One readable line per anchor object of the checkpoint whose body is `body` (see
/// `anchor_lines`): what the web application shows beside an anchored proof. Times are
/// shown in UTC and in `zone`'s local time.
pub fn anchor_lines_of(
    anchors: &[serde_json::Map<String, serde_json::Value>],
    body: &str,
    zone: &Schedule,
) -> Vec<AnchorLine> {
    anchors
        .iter()
        .map(|a| match a.get("kind").and_then(|k| k.as_str()) {
            Some("evm") => match check_evm_anchor(a, body) {
                Ok(f) => AnchorLine {
                    kind: format!("EVM (chain {})", f.chain_id),
                    reference: f.tx_hash.clone(),
                    detail: format!(
                        "block {} {} — {}",
                        f.block_number,
                        f.block_hash,
                        unix_time(f.block_time, zone)
                    ),
                },
                Err(e) => AnchorLine {
                    kind: "EVM".into(),
                    reference: "—".into(),
                    detail: format!("evidence does not verify: {e}"),
                },
            },
            Some("rfc3161") => match check_rfc3161_anchor(a, body, &[]) {
                Ok(f) => AnchorLine {
                    kind: "RFC 3161".into(),
                    reference: format!("{} #{}", f.tsa_name, f.serial),
                    detail: f.gen_time.to_string(),
                },
                Err(e) => AnchorLine {
                    kind: "RFC 3161".into(),
                    reference: "—".into(),
                    detail: format!("token does not verify: {e}"),
                },
            },
            other => AnchorLine {
                kind: other.unwrap_or("?").to_owned(),
                reference: "—".into(),
                detail: String::new(),
            },
        })
        .collect()
}

fn unix_time(secs: u64, zone: &Schedule) -> String {
    let secs = i64::try_from(secs).unwrap_or(i64::MAX);
    match jiff::Timestamp::from_second(secs) {
        Ok(t) => format!(
            "{} UTC, {}",
            t.strftime("%Y-%m-%d %H:%M:%S"),
            zone.long_local(secs.saturating_mul(1000))
        ),
        Err(_) => secs.to_string(),
    }
}
