//! Reading identity data for a purpose: one contact, or a list streamed as NDJSON.
//!
//! A reveal is decided in the log's append transaction (see the sequencer): allowed only
//! when the contact's consent for the purpose is `granted`, not past its `valid_until`
//! and not revoked at the moment the entry is appended. Allowed or not, the attempt is a
//! sealed event on the log (`data.access` / `data.access_denied`), durable before the
//! answer; only the fields asked for are decrypted, after the commit, and only when
//! allowed. Requests about erased contacts, unknown contacts or contacts of another
//! tenant append nothing: there is no data to account for.

use crate::auth::TenantAuth;
use crate::problem::{ApiJson, Problem};
use crate::state::AppState;
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use consentry_core::event::{ConsentState, IDENTITY_FIELDS};
use consentry_core::ids::{EventId, SubjectId, TenantId};
use consentry_ledger::{On, RevealOutcome, RevealReply, SubmitError, VaultRecord};
use consentry_vault::WrappedKey;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::collections::{HashSet, VecDeque};

/// Most contacts in one batch reveal.
pub const MAX_BATCH_CONTACTS: usize = 100_000;
/// Largest batch body accepted: room for [`MAX_BATCH_CONTACTS`] IDs of the longest form.
pub const MAX_BATCH_BODY: usize = 8 * 1024 * 1024;
/// Longest reason, in characters.
const MAX_REASON: usize = 2000;
/// Contacts queued to the sequencer at a time by a batch; two such groups are in flight,
/// so the sequencer's batches stay full while the previous group is written out.
const BATCH_GROUP: usize = 512;

/// Body of `POST /v1/contacts/{id}/reveal`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevealBody {
    purpose: String,
    fields: Vec<String>,
    #[serde(default)]
    reason: Option<String>,
}

/// Body of `POST /v1/reveal/batch`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchBody {
    purpose: String,
    fields: Vec<String>,
    contacts: Vec<String>,
    #[serde(default)]
    reason: Option<String>,
}

/// Checks the field names: at least one, each an identity field; answers them once each,
/// in the order of [`IDENTITY_FIELDS`].
pub fn check_fields(fields: &[String]) -> Result<Vec<String>, Problem> {
    if fields.is_empty() {
        return Err(Problem::invalid("fields must name at least one field"));
    }
    if let Some(bad) = fields
        .iter()
        .find(|f| !IDENTITY_FIELDS.contains(&f.as_str()))
    {
        return Err(Problem::invalid(format!(
            "fields: {:?} is not one of {}",
            bad.chars().take(40).collect::<String>(),
            IDENTITY_FIELDS.join(", ")
        )));
    }
    Ok(IDENTITY_FIELDS
        .iter()
        .filter(|f| fields.iter().any(|g| g == *f))
        .map(|f| (*f).to_owned())
        .collect())
}

fn check_reason(reason: &Option<String>) -> Result<(), Problem> {
    match reason {
        Some(r) if r.is_empty() || r.chars().count() > MAX_REASON => Err(Problem::invalid(
            format!("reason must be 1 to {MAX_REASON} characters"),
        )),
        Some(r) if r.chars().any(|c| c.is_control() && c != '\n') => Err(Problem::invalid(
            "reason must not contain control characters",
        )),
        _ => Ok(()),
    }
}

/// Opens a revealed vault record and keeps only `fields`: absent values are `null`,
/// `attributes` is the object of free identity fields (empty when there are none).
pub fn open_fields(
    state: &AppState,
    tenant: &TenantId,
    subject: &SubjectId,
    vault: &VaultRecord,
    fields: &[String],
) -> Result<Map<String, Value>, consentry_vault::VaultError> {
    let key = state
        .tenant_keys(tenant)
        .unwrap_subject_key(subject, &WrappedKey::from_bytes(vault.wrapped_key.clone()))?;
    let identity = key.open(tenant, subject, &vault.identity)?;
    let mut out = Map::new();
    for f in fields {
        let v = match f.as_str() {
            "email" => Value::from(identity.email.as_str()),
            "name" => identity.name.as_deref().map_or(Value::Null, Value::from),
            "address" => identity.address.as_deref().map_or(Value::Null, Value::from),
            "phone" => identity.phone.as_deref().map_or(Value::Null, Value::from),
            "attributes" => Value::Object(
                identity
                    .fields
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
                    .collect(),
            ),
            _ => continue,
        };
        out.insert(f.clone(), v);
    }
    Ok(out)
}

/// The problem of a refused reveal: which purpose, which state, and where it is logged.
fn no_consent(
    purpose: &str,
    consent: ConsentState,
    log_index: u64,
    event_id: &EventId,
    proof: Option<String>,
) -> Problem {
    let mut p = Problem::new(
        StatusCode::FORBIDDEN,
        "no-consent",
        "No consent",
        format!(
            "no granted, unexpired, unrevoked consent for purpose {purpose:?}: the consent state is {}; the refusal is on the log at index {log_index}",
            consent.as_str()
        ),
    )
    .with("purpose", purpose)
    .with("consent", consent.as_str())
    .with("log_index", log_index)
    .with("event_id", event_id.as_str());
    if let Some(proof) = proof {
        p = p.with("proof_id", proof);
    }
    p
}

fn erased_problem() -> Problem {
    Problem::new(
        StatusCode::GONE,
        "erased",
        "Erased",
        "this contact's data was erased; it can no longer be revealed",
    )
}

/// `POST /v1/contacts/{id}/reveal`: the asked fields when the consent allows, once the
/// access is durable on the log; else 403 `no-consent`, also logged.
pub async fn reveal(
    State(state): State<AppState>,
    auth: TenantAuth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RevealBody>,
) -> Result<Response, Problem> {
    crate::consents::check_purpose(&body.purpose)?;
    let fields = check_fields(&body.fields)?;
    check_reason(&body.reason)?;
    let subject = SubjectId::parse(&id).map_err(|_| Problem::not_found("contact"))?;
    let on = On {
        tenant: auth.tenant.id.clone(),
        subject: subject.clone(),
        actor: auth.key_id.clone(),
    };
    let outcome = state
        .ledger
        .reveal(on, body.purpose.clone(), fields.clone(), body.reason)
        .await
        .map_err(|e| match e {
            SubmitError::UnknownContact => Problem::not_found("contact"),
            SubmitError::Erased => erased_problem(),
            other => Problem::from(other),
        })?;
    match outcome {
        RevealOutcome::Revealed {
            event,
            proof,
            vault,
        } => {
            let values =
                open_fields(&state, &auth.tenant.id, &subject, &vault, &fields).map_err(|e| {
                    Problem::unavailable(format!("the access is logged but the vault failed: {e}"))
                })?;
            let body = json!({
                "fields": values,
                "log_index": event.event.body.log_index,
                "event_id": event.event.body.id.as_str(),
                "proof_id": proof.as_str(),
            });
            Ok(([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response())
        }
        RevealOutcome::Denied {
            event,
            consent,
            proof,
        } => Err(no_consent(
            &body.purpose,
            consent,
            event.event.body.log_index,
            &event.event.body.id,
            proof.map(|p| p.to_string()),
        )),
    }
}

/// One contact of a batch, as queued.
enum Queued {
    /// Answered without the sequencer (a malformed ID).
    Line(Value),
    /// Waiting for the sequencer.
    Wait(SubjectId, RevealReply),
}

/// Counts for the summary line.
#[derive(Default)]
struct Tally {
    contacts: u64,
    revealed: u64,
    refused: u64,
    logged: u64,
}

fn refused_line(id: &str, problem: &str) -> Value {
    json!({"id": id, "refused": {"problem": format!("urn:consentry:problem:{problem}")}})
}

/// The NDJSON line of one answered contact.
fn line_of(
    state: &AppState,
    tenant: &TenantId,
    fields: &[String],
    subject: &SubjectId,
    outcome: Result<RevealOutcome, SubmitError>,
    tally: &mut Tally,
) -> Value {
    let id = subject.as_str();
    let line = match outcome {
        Ok(RevealOutcome::Revealed {
            event,
            proof,
            vault,
        }) => {
            tally.logged += 1;
            match open_fields(state, tenant, subject, &vault, fields) {
                Ok(values) => {
                    tally.revealed += 1;
                    return json!({
                        "id": id,
                        "fields": values,
                        "log_index": event.event.body.log_index,
                        "event_id": event.event.body.id.as_str(),
                        "proof_id": proof.as_str(),
                    });
                }
                Err(e) => {
                    tracing::error!(error = %e, "batch reveal: the access is logged but the vault failed");
                    refused_line(id, "unavailable")
                }
            }
        }
        Ok(RevealOutcome::Denied {
            event,
            consent,
            proof,
        }) => {
            tally.logged += 1;
            let mut refused = json!({
                "problem": "urn:consentry:problem:no-consent",
                "consent": consent.as_str(),
                "log_index": event.event.body.log_index,
                "event_id": event.event.body.id.as_str(),
            });
            if let Some(p) = proof {
                refused["proof_id"] = Value::from(p.as_str());
            }
            json!({"id": id, "refused": refused})
        }
        Err(SubmitError::UnknownContact) => refused_line(id, "not-found"),
        Err(SubmitError::Erased) => refused_line(id, "erased"),
        Err(e) => {
            tracing::error!(error = %e, "batch reveal: a contact could not be decided");
            refused_line(id, "unavailable")
        }
    };
    tally.refused += 1;
    line
}

fn push_line(out: &mut Vec<u8>, v: &Value) {
    // Serialising a `Value` cannot fail.
    if serde_json::to_writer(&mut *out, v).is_ok() {
        out.push(b'\n');
    }
}

/// `POST /v1/reveal/batch`: one decision, and one log entry, per contact (repeats count
/// once), answered as NDJSON — a line per contact in the order given, then a summary
/// line — streamed as the log appends them, so that no list sits whole in memory.
pub async fn batch(
    State(state): State<AppState>,
    auth: TenantAuth,
    ApiJson(body): ApiJson<BatchBody>,
) -> Result<Response, Problem> {
    crate::consents::check_purpose(&body.purpose)?;
    let fields = check_fields(&body.fields)?;
    check_reason(&body.reason)?;
    if body.contacts.is_empty() {
        return Err(Problem::invalid("contacts must name at least one contact"));
    }
    if body.contacts.len() > MAX_BATCH_CONTACTS {
        return Err(Problem::invalid(format!(
            "contacts names {} contacts; at most {MAX_BATCH_CONTACTS} per request",
            body.contacts.len()
        )));
    }
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let tenant = auth.tenant.id.clone();
    tokio::spawn(async move {
        let BatchBody {
            purpose,
            contacts,
            reason,
            ..
        } = body;
        let mut tally = Tally::default();
        let mut seen: HashSet<&str> = HashSet::with_capacity(contacts.len().min(4096));
        let mut groups: VecDeque<Vec<Queued>> = VecDeque::new();
        let mut chunks = contacts.chunks(BATCH_GROUP);
        loop {
            let next = chunks.next();
            if let Some(chunk) = next {
                let mut group = Vec::with_capacity(chunk.len());
                for raw in chunk {
                    if !seen.insert(raw.as_str()) {
                        continue;
                    }
                    tally.contacts += 1;
                    let Ok(subject) = SubjectId::parse(raw) else {
                        tally.refused += 1;
                        let shown: String = raw.chars().take(80).collect();
                        group.push(Queued::Line(refused_line(&shown, "not-found")));
                        continue;
                    };
                    let on = On {
                        tenant: tenant.clone(),
                        subject: subject.clone(),
                        actor: auth.key_id.clone(),
                    };
                    let queued = state
                        .ledger
                        .enqueue_reveal(on, purpose.clone(), fields.clone(), reason.clone())
                        .await;
                    match queued {
                        Ok(reply) => group.push(Queued::Wait(subject, reply)),
                        Err(e) => {
                            tally.refused += 1;
                            tracing::error!(error = %e, "batch reveal: not queued");
                            group.push(Queued::Line(refused_line(subject.as_str(), "unavailable")));
                        }
                    }
                }
                groups.push_back(group);
            }
            // Write out the oldest group once the next one is queued (or at the end).
            if groups.len() < 2 && next.is_some() {
                continue;
            }
            let Some(group) = groups.pop_front() else {
                break;
            };
            let mut out = Vec::with_capacity(group.len() * 160);
            for q in group {
                let line = match q {
                    Queued::Line(v) => v,
                    Queued::Wait(subject, reply) => {
                        let outcome = reply.outcome().await;
                        line_of(&state, &tenant, &fields, &subject, outcome, &mut tally)
                    }
                };
                push_line(&mut out, &line);
            }
            if tx.send(Ok(Bytes::from(out))).await.is_err() {
                // The client went away: queue nothing more. Entries already queued are
                // appended (and stay on the log as accesses).
                tracing::info!("batch reveal: client gone; stopping");
                return;
            }
        }
        let mut out = Vec::new();
        push_line(
            &mut out,
            &json!({"summary": {
                "contacts": tally.contacts,
                "revealed": tally.revealed,
                "refused": tally.refused,
                "log_entries": tally.logged,
            }}),
        );
        let _ = tx.send(Ok(Bytes::from(out))).await;
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-ndjson"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}
