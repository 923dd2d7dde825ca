//! `POST /v1/proofs/{id}/disclosure`: the proof's commitments opened for a dispute, as a
//! sealed `consentry.disclosure/v1` document (docs/formats.md §8), recorded first as a
//! `data.disclosed` log event the person sees in the portal.

use crate::auth::TenantAuth;
use crate::problem::{ApiJson, Problem};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use consentry_core::disclosure::{
    Asserted, DISCLOSURE_TYPE, DisclosureBody, Ground, Opening, OpeningScope,
};
use consentry_core::ids::{ProofId, SubjectId, TenantId};
use consentry_core::proof::SealedProof;
use consentry_core::time::Timestamp;
use consentry_ledger::{On, SubmitError};
use consentry_vault::{Identity, SubjectKey, WrappedKey};
use serde::Deserialize;

/// Body of `POST /v1/proofs/{id}/disclosure`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisclosureRequest {
    ground: Ground,
    /// Identity fields to add as the operator's statement: `name`, `postal_address`,
    /// `phone` (no proof commits to them).
    #[serde(default)]
    fields: Vec<String>,
    /// The evidence file (standard base64) the proof's evidence commitment names, when
    /// the requester has it: the service keeps only the commitment.
    #[serde(default)]
    evidence: Option<String>,
}

const ASSERTABLE: [&str; 3] = ["name", "postal_address", "phone"];

/// The subject key and identity of a vault record.
fn open(
    state: &AppState,
    tenant: &TenantId,
    subject: &SubjectId,
    wrapped: &[u8],
    sealed: &[u8],
) -> Result<(SubjectKey, Identity), Problem> {
    let key = state
        .tenant_keys(tenant)
        .unwrap_subject_key(subject, &WrappedKey::from_bytes(wrapped.to_vec()))
        .map_err(Problem::unavailable)?;
    let identity = key
        .open(tenant, subject, sealed)
        .map_err(Problem::unavailable)?;
    Ok((key, identity))
}

fn erased() -> Problem {
    Problem::new(
        StatusCode::GONE,
        "erased",
        "Erased",
        "this contact's data was erased: nothing can be disclosed",
    )
}

/// `POST /v1/proofs/{id}/disclosure`.
pub async fn disclose(
    State(state): State<AppState>,
    auth: TenantAuth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DisclosureRequest>,
) -> Result<Response, Problem> {
    let id = ProofId::parse(&id).map_err(|_| Problem::not_found("proof"))?;
    let tenant = auth.tenant.id.clone();
    let (_, entry) = state
        .store
        .proof(&tenant, &id)
        .await?
        .ok_or_else(|| Problem::not_found("proof"))?;
    let proof: SealedProof = serde_json::from_slice(&entry).map_err(Problem::unavailable)?;
    for f in &body.fields {
        if !ASSERTABLE.contains(&f.as_str()) {
            return Err(Problem::invalid(format!(
                "fields: {f:?} is not one of name, postal_address, phone"
            )));
        }
    }
    let evidence = body
        .evidence
        .as_deref()
        .map(|b| base64::engine::general_purpose::STANDARD.decode(b))
        .transpose()
        .map_err(|_| Problem::invalid("evidence: not standard base64"))?;
    if evidence.is_some() && proof.body.evidence.is_none() {
        return Err(Problem::invalid(
            "evidence: this proof commits to no evidence file",
        ));
    }
    let subject = proof.body.subject.clone();
    // Checked before anything is logged: the contact is there, and what will be
    // disclosed opens the proof's commitments (an address amended since the proof, or
    // another evidence file, would not).
    let contact = state
        .store
        .contact(&tenant, &subject)
        .await?
        .ok_or_else(|| Problem::not_found("contact"))?;
    let (Some(wrapped), Some(sealed)) = (&contact.wrapped_key, &contact.identity) else {
        return Err(erased());
    };
    let (key, identity) = open(&state, &tenant, &subject, wrapped, sealed)?;
    check_openings(&key, &identity, &proof, evidence.as_deref())?;

    // The event names vault fields as reveals do (`address` is the postal address).
    let mut fields = vec!["email".to_owned()];
    fields.extend(body.fields.iter().map(|f| match f.as_str() {
        "postal_address" => "address".to_owned(),
        other => other.to_owned(),
    }));
    if evidence.is_some() {
        fields.push("evidence".to_owned());
    }
    let on = On {
        tenant: tenant.clone(),
        subject: subject.clone(),
        actor: auth.key_id.clone(),
    };
    let disclosed = state
        .ledger
        .disclose(
            on,
            proof.body.purpose.clone(),
            id.clone(),
            body.ground,
            fields,
        )
        .await
        .map_err(|e| match e {
            SubmitError::UnknownContact => Problem::not_found("contact"),
            SubmitError::Erased => erased(),
            other => Problem::unavailable(other),
        })?;
    // Built from the record read in the disclosure's own transaction.
    let (key, identity) = open(
        &state,
        &tenant,
        &subject,
        &disclosed.vault.wrapped_key,
        &disclosed.vault.identity,
    )?;
    check_openings(&key, &identity, &proof, evidence.as_deref())?;
    let asserted = (!body.fields.is_empty()).then(|| Asserted {
        name: body
            .fields
            .iter()
            .any(|f| f == "name")
            .then(|| identity.name.clone())
            .flatten(),
        postal_address: body
            .fields
            .iter()
            .any(|f| f == "postal_address")
            .then(|| identity.address.clone())
            .flatten(),
        phone: body
            .fields
            .iter()
            .any(|f| f == "phone")
            .then(|| identity.phone.clone())
            .flatten(),
    });
    let document = DisclosureBody {
        kind: DISCLOSURE_TYPE.to_owned(),
        log: proof.body.log.clone(),
        event: disclosed.event.event.body.id.clone(),
        proof: id.clone(),
        proof_leaf_hash: consentry_core::merkle::leaf_hash(&entry).to_hex(),
        subject,
        ground: body.ground,
        address: identity.email.clone(),
        opening: Opening {
            scope: OpeningScope::Subject,
            commitment_key: hex::encode(key.commitment_key().as_ref()),
        },
        evidence: evidence.map(|b| base64::engine::general_purpose::STANDARD.encode(b)),
        asserted,
        disclosed_at: Timestamp::from_unix_millis(state.clock.now_ms())
            .map_err(Problem::unavailable)?,
    }
    .seal(&state.keys.seal)
    .map_err(Problem::unavailable)?;
    let bytes = serde_json::to_vec(&document).map_err(Problem::unavailable)?;
    tracing::info!(proof = %id, event = %document.body.event, "proof disclosed");
    Ok((
        StatusCode::CREATED,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        bytes,
    )
        .into_response())
}

/// Whether the address (and the evidence) open the proof's commitments under `key`.
fn check_openings(
    key: &SubjectKey,
    identity: &Identity,
    proof: &SealedProof,
    evidence: Option<&[u8]>,
) -> Result<(), Problem> {
    if key.commitment("address", identity.email.as_bytes())
        != proof.body.recipient.address_commitment
    {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "address-changed",
            "Address changed",
            "the contact's address was amended since this proof: its commitment is to the earlier one, which the vault no longer holds",
        ));
    }
    if let (Some(bytes), Some(committed)) = (evidence, &proof.body.evidence)
        && key.commitment("evidence", bytes) != *committed
    {
        return Err(Problem::invalid(
            "evidence: not the file this proof's evidence commitment names",
        ));
    }
    Ok(())
}
