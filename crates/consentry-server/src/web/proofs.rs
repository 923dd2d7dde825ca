//! Proof downloads for a sender's staff: the sealed proof (JSON, the very bytes the API
//! serves, and PDF), its certificate once anchored (JSON and PDF; a page saying until
//! when it is pending otherwise), and the evidence file recorded with a manual consent.
//!
//! Any signed-in member of the tenant may download (auditors included); another tenant's
//! proof is "not found". The files come from the one download path
//! ([`crate::downloads`]), so a download from here and one from `/v1` are the same document.
//! Downloads are served as attachments, and the evidence file — whatever the uploader
//! called it — under a sandboxing policy, so that a file is never run as a page of this
//! site.

use crate::downloads::{Disposition, Document, Download, Format};
use crate::i18n::{Text, t};
use crate::problem::Problem;
use crate::route_table::Routes;
use crate::state::AppState;
use crate::web::layout::{Lang, Section, WebError, local_time, page};
use crate::web::session::{Admin, Form, Staff};
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use consentry_core::ids::ProofId;
use consentry_core::proof::SealedProof;
use consentry_ledger::{On, RevealOutcome, SubmitError};
use consentry_vault::WrappedKey;
use maud::html;

/// This module's routes.
pub fn routes() -> Routes {
    Routes::new()
        .get("/app/proofs/{id}", proof_json)
        .get("/app/proofs/{id}/pdf", proof_pdf)
        .get("/app/proofs/{id}/certificate", certificate_json)
        .get("/app/proofs/{id}/certificate.pdf", certificate_pdf)
        .get("/app/proofs/{id}/evidence", evidence)
        .post("/app/proofs/{id}/disclosure", disclose)
}

/// The disclosure form.
#[derive(serde::Deserialize)]
pub struct DiscloseForm {
    ground: consentry_core::disclosure::Ground,
    /// `pdf` for the sealed PDF (the JSON attached), else the JSON file.
    #[serde(default)]
    format: Option<String>,
}

/// `POST /app/proofs/{id}/disclosure` (admins): the proof's address opened for a
/// dispute, saved as a `consentry.disclosure/v1` file; a `data.disclosed` event is in the
/// log first and the person sees it in the portal.
pub async fn disclose(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Path(id): Path<String>,
    Form(form): Form<DiscloseForm>,
) -> Result<Response, WebError> {
    let lang = staff.lang;
    let id = ProofId::parse(&id).map_err(|_| WebError::NotFound(lang))?;
    let input = crate::disclosures::DisclosureInput {
        ground: form.ground,
        fields: Vec::new(),
        evidence: None,
    };
    let document = crate::disclosures::disclose(&state, &staff.tenant, staff.actor(), &id, input)
        .await
        .map_err(|e| from_problem(lang, &Problem::from(e)))?;
    if form.format.as_deref() == Some("pdf") {
        let (_, entry) = load(&state, &staff, id.as_str()).await?;
        let pdf =
            crate::downloads::disclosure_pdf(&state, &staff.tenant_name, lang, &document, &entry)
                .await
                .map_err(|p| from_problem(lang, &p))?;
        return Ok(crate::downloads::file(
            pdf,
            HeaderValue::from_static("application/pdf"),
            &format!("{id}.disclosure.pdf"),
            Disposition::Attachment,
        ));
    }
    let bytes =
        serde_json::to_vec_pretty(&document).map_err(|e| WebError::Unavailable(e.to_string()))?;
    Ok(crate::downloads::file(
        bytes,
        HeaderValue::from_static("application/json"),
        &format!("{id}.disclosure.json"),
        Disposition::Attachment,
    ))
}

/// An API problem met by a page: "not found" stays not found, a failure is a failure,
/// anything else is a refused input.
pub(crate) fn from_problem(lang: Lang, p: &Problem) -> WebError {
    match p.status() {
        StatusCode::NOT_FOUND => WebError::NotFound(lang),
        s if s.is_server_error() => WebError::Unavailable(format!("{s}")),
        _ => WebError::bad(lang, Text::TheRequestCouldNot),
    }
}

/// A tenant's proof by the ID in the path: its ID and entry bytes, or "not found" (also
/// for a malformed ID and another tenant's proof).
async fn load(state: &AppState, staff: &Staff, id: &str) -> Result<(ProofId, Vec<u8>), WebError> {
    let id = ProofId::parse(id).map_err(|_| WebError::NotFound(staff.lang))?;
    let (_, entry) = state
        .store
        .proof(&staff.tenant, &id)
        .await?
        .ok_or(WebError::NotFound(staff.lang))?;
    Ok((id, entry))
}

/// One of the signed-in tenant's proofs as a file to save, in the page's language.
async fn save(
    state: &AppState,
    staff: &Staff,
    id: &ProofId,
    entry: &[u8],
    document: Document,
    format: Format,
) -> Result<Response, WebError> {
    Download {
        id,
        entry,
        sender_name: &staff.tenant_name,
        document,
        format,
        lang: staff.lang,
        disposition: Disposition::Attachment,
    }
    .respond(state)
    .await
    .map_err(|p| from_problem(staff.lang, &p))
}

/// `GET /app/proofs/{id}`: the sealed proof, byte for byte the log entry that
/// `GET /v1/proofs/{id}` serves.
pub async fn proof_json(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let (id, entry) = load(&state, &staff, &id).await?;
    save(&state, &staff, &id, &entry, Document::Proof, Format::Json).await
}

/// `GET /app/proofs/{id}/pdf`: the proof as a readable PDF, in the page's language.
pub async fn proof_pdf(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let (id, entry) = load(&state, &staff, &id).await?;
    save(&state, &staff, &id, &entry, Document::Proof, Format::Pdf).await
}

/// `GET /app/proofs/{id}/certificate`: the certificate JSON, or a page saying it is
/// pending until the next anchor.
pub async fn certificate_json(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    certificate(state, staff, id, false).await
}

/// `GET /app/proofs/{id}/certificate.pdf`: the certificate as a readable PDF, or the
/// pending page.
pub async fn certificate_pdf(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    certificate(state, staff, id, true).await
}

async fn certificate(
    state: AppState,
    staff: Staff,
    id: String,
    pdf: bool,
) -> Result<Response, WebError> {
    let (id, entry) = load(&state, &staff, &id).await?;
    let proof: SealedProof = serde_json::from_slice(&entry)
        .map_err(|e| WebError::Unavailable(format!("stored proof {id}: {e}")))?;
    if state
        .store
        .anchored_checkpoint_for(proof.body.log_index)
        .await?
        .is_none()
    {
        return Ok(pending_page(&state, &staff, &id, &proof));
    }
    let format = if pdf { Format::Pdf } else { Format::Json };
    save(&state, &staff, &id, &entry, Document::Certificate, format).await
}

/// The sentence a proof not anchored yet shows: until when it waits, in the page's
/// language, from the configured schedule.
pub fn pending_text(state: &AppState, lang: Lang) -> String {
    if !state.anchoring.configured() {
        return t(lang, Text::PendingAnchorNoAnchor).to_owned();
    }
    let described = state.anchoring.schedule().describe();
    let (at, zone) = described
        .split_once(' ')
        .unwrap_or((described.as_str(), ""));
    let next =
        crate::downloads::next_anchor_at(state).map(|t| local_time(state, t.as_millisecond()));
    match next {
        Some(n) => {
            Text::PendingAnchorNext.fill(lang, &[("at", &at), ("zone", &zone), ("next", &n)])
        }
        None => Text::PendingAnchor.fill(lang, &[("at", &at), ("zone", &zone)]),
    }
}

fn pending_page(state: &AppState, staff: &Staff, id: &ProofId, proof: &SealedProof) -> Response {
    let lang = staff.lang;
    let log_index = proof.body.log_index;
    let subject = proof.body.subject.as_str();
    page(
        staff,
        Section::Contacts,
        StatusCode::OK,
        t(lang, Text::CertificatePending),
        html! {
            p.pending-anchor #certificate-pending role="status" { (pending_text(state, lang)) }
            p {
                (t(lang, Text::Proof5))
                code { (id.as_str()) }
                (t(lang, Text::IsInTheLog))
                (log_index)
                (t(lang, Text::ButTheLogHas))
            }
            p {
                a href={ "/app/proofs/" (id.as_str()) } download { (t(lang, Text::DownloadTheProofJson)) }
                " · "
                a href={ "/app/proofs/" (id.as_str()) "/pdf" } download { (t(lang, Text::TheProofPdf)) }
            }
            p { a #back-to-contact href={ "/app/contacts/" (subject) "#proof-" (id.as_str()) } { (t(lang, Text::BackToTheContact2)) } }
        },
    )
}

/// A media type safe to send back: `type/subtype` of token characters, else
/// `application/octet-stream`.
pub fn clean_media_type(given: &str) -> String {
    let given = given.split(';').next().unwrap_or("").trim();
    let token = |s: &str| {
        !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
    };
    match given.split_once('/') {
        Some((t, st)) if token(t) && token(st) => given.to_ascii_lowercase(),
        _ => "application/octet-stream".to_owned(),
    }
}

/// A file name extension for a media type.
fn extension(media_type: &str) -> &'static str {
    match media_type {
        "application/pdf" => "pdf",
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "text/plain" => "txt",
        "message/rfc822" => "eml",
        "application/json" => "json",
        "audio/mpeg" => "mp3",
        "audio/wav" | "audio/x-wav" => "wav",
        _ => "bin",
    }
}

/// `GET /app/proofs/{id}/evidence`: the evidence file recorded with a manual consent,
/// opened with the contact's key and checked against the proof's commitment. Every
/// download is a `data.access` event on the log (the person sees it in the portal).
pub async fn evidence(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let lang = staff.lang;
    let (id, entry) = load(&state, &staff, &id).await?;
    let Some(row) = state.store.evidence(&staff.tenant, &id).await? else {
        return Err(WebError::NotFound(lang));
    };
    let proof: SealedProof = serde_json::from_slice(&entry)
        .map_err(|e| WebError::Unavailable(format!("stored proof {id}: {e}")))?;
    // Opening the file is an access to the person's data: a sealed `data.access` event
    // (field `evidence`, this proof, the user as actor) is durable on the log before the
    // file is opened, and the subject key comes from the same transaction.
    let on = On {
        tenant: staff.tenant.clone(),
        subject: row.subject.clone(),
        actor: staff.actor(),
    };
    let outcome = state
        .ledger
        .read_evidence(on, proof.body.purpose.clone(), id.clone())
        .await
        .map_err(|e| match e {
            // Erased: the key is gone, and so is the file (deleted with it).
            SubmitError::UnknownContact | SubmitError::Erased => WebError::NotFound(lang),
            other => WebError::Unavailable(other.to_string()),
        })?;
    let RevealOutcome::Revealed { vault, .. } = outcome else {
        return Err(WebError::Unavailable(format!(
            "evidence of {id}: the access was not recorded"
        )));
    };
    let wrapped = vault.wrapped_key;
    let key = state
        .tenant_keys(&staff.tenant)
        .unwrap_subject_key(&row.subject, &WrappedKey::from_bytes(wrapped))
        .map_err(|e| WebError::Unavailable(format!("evidence of {id}: {e}")))?;
    let bytes = key
        .open_document(&staff.tenant, &row.subject, &row.sealed)
        .map_err(|e| WebError::Unavailable(format!("evidence of {id}: {e}")))?;
    // The file is the one the signed proof commits to, not merely one sealed for this
    // contact.
    if proof.body.evidence.as_deref() != Some(key.commitment("evidence", &bytes).as_str()) {
        return Err(WebError::Unavailable(format!(
            "evidence of {id} does not match the proof's commitment"
        )));
    }
    let media_type = clean_media_type(&row.media_type);
    let name = format!("evidence-{id}.{}", extension(&media_type));
    let media_type = HeaderValue::from_str(&media_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let mut res =
        crate::downloads::file(bytes.to_vec(), media_type, &name, Disposition::Attachment);
    // Whatever the file holds, it is never run as a page of this site.
    res.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_are_cleaned_before_they_are_sent_back() {
        assert_eq!(clean_media_type("application/pdf"), "application/pdf");
        assert_eq!(clean_media_type("Text/Plain; charset=utf-8"), "text/plain");
        for bad in ["", "pdf", "text/html\r\nX-Evil: 1", "a/b/c", "/x", "x/"] {
            assert_eq!(clean_media_type(bad), "application/octet-stream", "{bad:?}");
        }
        assert_eq!(extension("image/jpeg"), "jpg");
        assert_eq!(extension("application/x-unknown"), "bin");
    }
}
