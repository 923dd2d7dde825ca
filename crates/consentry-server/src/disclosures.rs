//! Disclosure for a dispute, for the API and the web application alike: the proof's
//! commitments opened in a sealed `consentry.disclosure/v1` document (docs/formats.md §8),
//! recorded first as a `data.disclosed` log event the person sees in the portal.

use crate::problem::Problem;
use crate::state::AppState;
use axum::http::StatusCode;
use consentry_core::disclosure::{
    Asserted, DISCLOSURE_TYPE, DisclosureBody, Ground, Opening, OpeningScope, SealedDisclosure,
};
use consentry_core::ids::{ProofId, SubjectId, TenantId};
use consentry_core::proof::SealedProof;
use consentry_core::time::Timestamp;
use consentry_ledger::{On, SubmitError};
use consentry_vault::{Identity, SubjectKey, WrappedKey};

/// What may be asserted beside the opened address: no proof commits to these.
pub const ASSERTABLE: [&str; 3] = ["name", "postal_address", "phone"];

/// A disclosure asked for.
#[derive(Debug, Clone)]
pub struct DisclosureInput {
    /// Why.
    pub ground: Ground,
    /// Identity fields to assert, among [`ASSERTABLE`].
    pub fields: Vec<String>,
    /// The evidence file the proof's evidence commitment names, if the requester has it.
    pub evidence: Option<Vec<u8>>,
}

/// Why a disclosure was refused (nothing is logged) or failed.
#[derive(Debug, thiserror::Error)]
pub enum DisclosureError {
    /// No such proof or contact in the tenant.
    #[error("no such {0}")]
    NotFound(&'static str),
    /// The contact's data was erased.
    #[error("this contact's data was erased: nothing can be disclosed")]
    Erased,
    /// The contact's address was amended since the proof.
    #[error(
        "the contact's address was amended since this proof: its commitment is to the earlier one, which the vault no longer holds"
    )]
    AddressChanged,
    /// An input is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// Storage, the vault or the log failed.
    #[error("{0}")]
    Unavailable(String),
}

impl From<DisclosureError> for Problem {
    fn from(e: DisclosureError) -> Problem {
        match e {
            DisclosureError::NotFound(what) => Problem::not_found(what),
            DisclosureError::Erased => {
                Problem::new(StatusCode::GONE, "erased", "Erased", e.to_string())
            }
            DisclosureError::AddressChanged => Problem::new(
                StatusCode::CONFLICT,
                "address-changed",
                "Address changed",
                e.to_string(),
            ),
            DisclosureError::Invalid(m) => Problem::invalid(m),
            DisclosureError::Unavailable(m) => Problem::unavailable(m),
        }
    }
}

impl From<consentry_store::StoreError> for DisclosureError {
    fn from(e: consentry_store::StoreError) -> DisclosureError {
        DisclosureError::Unavailable(e.to_string())
    }
}

/// The subject key and identity of a vault record.
fn open(
    state: &AppState,
    tenant: &TenantId,
    subject: &SubjectId,
    wrapped: &[u8],
    sealed: &[u8],
) -> Result<(SubjectKey, Identity), DisclosureError> {
    let unavailable = |e: consentry_vault::VaultError| DisclosureError::Unavailable(e.to_string());
    let key = state
        .tenant_keys(tenant)
        .unwrap_subject_key(subject, &WrappedKey::from_bytes(wrapped.to_vec()))
        .map_err(unavailable)?;
    let identity = key.open(tenant, subject, sealed).map_err(unavailable)?;
    Ok((key, identity))
}

/// Discloses proof `id` of `tenant` for `actor`: checks that what will be disclosed opens
/// the proof's commitments before anything is logged, records the `data.disclosed`
/// event through the ledger, and builds and seals the document from the vault record
/// read in that event's transaction.
pub async fn disclose(
    state: &AppState,
    tenant: &TenantId,
    actor: String,
    id: &ProofId,
    input: DisclosureInput,
) -> Result<SealedDisclosure, DisclosureError> {
    let (_, entry) = state
        .store
        .proof(tenant, id)
        .await?
        .ok_or(DisclosureError::NotFound("proof"))?;
    let proof: SealedProof =
        serde_json::from_slice(&entry).map_err(|e| DisclosureError::Unavailable(e.to_string()))?;
    for f in &input.fields {
        if !ASSERTABLE.contains(&f.as_str()) {
            return Err(DisclosureError::Invalid(format!(
                "fields: {f:?} is not one of name, postal_address, phone"
            )));
        }
    }
    if input.evidence.is_some() && proof.body.evidence.is_none() {
        return Err(DisclosureError::Invalid(
            "evidence: this proof commits to no evidence file".into(),
        ));
    }
    let subject = proof.body.subject.clone();
    // Checked before anything is logged: the contact is there, and what will be
    // disclosed opens the proof's commitments (an address amended since the proof, or
    // another evidence file, would not).
    let contact = state
        .store
        .contact(tenant, &subject)
        .await?
        .ok_or(DisclosureError::NotFound("contact"))?;
    let (Some(wrapped), Some(sealed)) = (&contact.wrapped_key, &contact.identity) else {
        return Err(DisclosureError::Erased);
    };
    let (key, identity) = open(state, tenant, &subject, wrapped, sealed)?;
    check_openings(&key, &identity, &proof, input.evidence.as_deref())?;

    // The event names vault fields as reveals do (`address` is the postal address).
    let mut fields = vec!["email".to_owned()];
    fields.extend(input.fields.iter().map(|f| match f.as_str() {
        "postal_address" => "address".to_owned(),
        other => other.to_owned(),
    }));
    if input.evidence.is_some() {
        fields.push("evidence".to_owned());
    }
    let on = On {
        tenant: tenant.clone(),
        subject: subject.clone(),
        actor,
    };
    let disclosed = state
        .ledger
        .disclose(
            on,
            proof.body.purpose.clone(),
            id.clone(),
            input.ground,
            fields,
        )
        .await
        .map_err(|e| match e {
            SubmitError::UnknownContact => DisclosureError::NotFound("contact"),
            SubmitError::Erased => DisclosureError::Erased,
            other => DisclosureError::Unavailable(other.to_string()),
        })?;
    // Built from the record read in the disclosure's own transaction.
    let (key, identity) = open(
        state,
        tenant,
        &subject,
        &disclosed.vault.wrapped_key,
        &disclosed.vault.identity,
    )?;
    check_openings(&key, &identity, &proof, input.evidence.as_deref())?;
    let asked = |name: &str| input.fields.iter().any(|f| f == name);
    let asserted = (!input.fields.is_empty()).then(|| Asserted {
        name: asked("name").then(|| identity.name.clone()).flatten(),
        postal_address: asked("postal_address")
            .then(|| identity.address.clone())
            .flatten(),
        phone: asked("phone").then(|| identity.phone.clone()).flatten(),
    });
    use base64::Engine as _;
    let document = DisclosureBody {
        kind: DISCLOSURE_TYPE.to_owned(),
        log: proof.body.log.clone(),
        event: disclosed.event.event.body.id.clone(),
        proof: id.clone(),
        proof_leaf_hash: consentry_core::merkle::leaf_hash(&entry).to_hex(),
        subject,
        ground: input.ground,
        address: identity.email.clone(),
        opening: Opening {
            scope: OpeningScope::Subject,
            commitment_key: hex::encode(key.commitment_key().as_ref()),
        },
        evidence: input
            .evidence
            .map(|b| base64::engine::general_purpose::STANDARD.encode(b)),
        asserted,
        disclosed_at: Timestamp::from_unix_millis(state.clock.now_ms())
            .map_err(|e| DisclosureError::Unavailable(e.to_string()))?,
    }
    .seal(&state.keys.seal)
    .map_err(|e| DisclosureError::Unavailable(e.to_string()))?;
    tracing::info!(proof = %id, event = %document.body.event, "proof disclosed");
    Ok(document)
}

/// Whether the address (and the evidence) open the proof's commitments under `key`.
fn check_openings(
    key: &SubjectKey,
    identity: &Identity,
    proof: &SealedProof,
    evidence: Option<&[u8]>,
) -> Result<(), DisclosureError> {
    if key.commitment("address", identity.email.as_bytes())
        != proof.body.recipient.address_commitment
    {
        return Err(DisclosureError::AddressChanged);
    }
    if let (Some(bytes), Some(committed)) = (evidence, &proof.body.evidence)
        && key.commitment("evidence", bytes) != *committed
    {
        return Err(DisclosureError::Invalid(
            "evidence: not the file this proof's evidence commitment names".into(),
        ));
    }
    Ok(())
}
