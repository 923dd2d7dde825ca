//! A contact's page: who they are under their pseudonym (category, attributes, whether
//! their data was erased), their consent status per purpose (badges the script keeps
//! current), the form to record a consent by hand with its evidence, and the timeline of
//! everything about them — decisions with their proofs and certificates, consent
//! requests with resend and cancel, reveals, amendments and the erasure.
//!
//! A consent recorded here goes through the same function as `POST
//! /v1/contacts/{id}/consents`. Its evidence is a note (committed to in the proof under
//! the contact's key, not stored) or a file: the proof carries the keyed commitment to
//! the file's bytes, and the file itself is kept sealed under the contact's data key, so
//! that erasing the contact shreds it with the rest of their data.

use crate::consents::{
    MAX_EVIDENCE_TEXT, ManualConsent, RecordError, check_purpose, new_proof_id, record_manual_as,
};
use crate::i18n::{Text, t};
use crate::route_table::Routes;
use crate::state::AppState;
use crate::web::layout::{
    Lang, Section, WebError, category_label, csrf_field, local_time, page, status_badge,
    status_label, urlencode,
};
use crate::web::proofs::{clean_media_type, pending_text};
use crate::web::session::{Role, Staff, Upload, Writer};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use consentry_core::checkpoint::parse_signed_checkpoint;
use consentry_core::consent::RequestStatus;
use consentry_core::consent::RuleError;
use consentry_core::event::ConsentState;
use consentry_core::event::SealedEvent;
use consentry_core::ids::NoticeId;
use consentry_core::ids::{ProofId, RequestId, SubjectId};
use consentry_core::merkle::Hash;
use consentry_core::proof::{Decision, Method, Notice, SealedProof};
use consentry_core::time::Timestamp;
use consentry_ledger::Evidence;
use consentry_ledger::schedule::Schedule;
use consentry_pdf::AnchorLine;
use consentry_store::{AnchoredCheckpoint, NewEvidence, NoticeRow, RequestRow, StatusRow};
use consentry_vault::WrappedKey;
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Largest evidence file: 10 MiB.
pub const MAX_EVIDENCE_FILE: usize = 10 * 1024 * 1024;
/// The consent form's body limit: the file and the other fields.
const MAX_CONSENT_BODY: usize = MAX_EVIDENCE_FILE + 256 * 1024;
/// At most this many entries of each kind (decisions, requests, events) on the timeline.
const TIMELINE_MAX: usize = 300;

/// This module's routes.
pub fn routes() -> Routes {
    Routes::new().get("/app/contacts/{id}", show).post_up_to(
        "/app/contacts/{id}/consents",
        record,
        MAX_CONSENT_BODY,
    )
}

/// What a redirect back to the page says happened.
#[derive(Deserialize, Default)]
pub struct Flash {
    #[serde(default)]
    recorded: Option<String>,
    #[serde(default)]
    resent: Option<String>,
    #[serde(default)]
    cancelled: Option<String>,
}

fn method_label(lang: Lang, m: Method) -> &'static str {
    match m {
        Method::Manual => t(lang, Text::RecordedByTheSender),
        Method::Delegated => t(lang, Text::AnsweredByThePerson),
        Method::Portal => t(lang, Text::GivenByThePerson),
    }
}

fn actor_label(lang: Lang, actor: &str) -> String {
    if actor == "portal" {
        t(lang, Text::ThePersonInThe).to_owned()
    } else if actor.starts_with("usr_") {
        format!("{} {actor}", t(lang, Text::StaffUser))
    } else {
        format!("{} {actor}", t(lang, Text::ApiKey))
    }
}

fn event_label(lang: Lang, kind: &str) -> &'static str {
    match kind {
        "data.access" => t(lang, Text::IdentityDataRevealed),
        "data.access_denied" => t(lang, Text::RevealRefused),
        "data.amended" => t(lang, Text::IdentityDataAmended),
        "data.erased" => t(lang, Text::DataErasedCryptoShredded),
        "data.disclosed" => t(lang, Text::DisclosedForADispute),
        _ => t(lang, Text::Event),
    }
}

pub(crate) fn mail_label(lang: Lang, s: &str) -> &'static str {
    match s {
        "queued" => t(lang, Text::Queued),
        "sent" => t(lang, Text::Sent),
        "failed" => t(lang, Text::DeliveryFailed),
        "cancelled" => t(lang, Text::NotSentCancelled),
        _ => t(lang, Text::Unknown),
    }
}

/// A live status badge: the script updates it from `/app/live`.
fn live_badge(lang: Lang, subject: &SubjectId, purpose: &str, status: &str) -> Markup {
    html! {
        span class={"badge s-" (status)} data-status=(status) data-contact=(subject.as_str()) data-purpose=(purpose) {
            (status_label(lang, status))
        }
    }
}

/// A status row as the book shows it: a grant past its validity is `expired`.
fn shown_status(s: &StatusRow, now: i64) -> &'static str {
    ConsentState::of_book(s.status, s.valid_until, now).as_str()
}

/// An entry of the timeline: when, a tiebreak (log index or creation), and its markup.
struct Item {
    at: i64,
    tiebreak: u64,
    markup: Markup,
}

/// Where a proof stands with anchoring.
enum AnchorState {
    Pending,
    Anchored { size: u64, lines: Vec<AnchorLine> },
}

/// The anchored checkpoint holding leaf `index` (the first one past it), with readable
/// lines for its anchors, computed once per checkpoint.
fn anchor_state(
    zone: &Schedule,
    anchored: &[AnchoredCheckpoint],
    cache: &mut HashMap<u64, Vec<AnchorLine>>,
    index: u64,
) -> AnchorState {
    let Some(cp) = anchored.iter().find(|c| c.size > index) else {
        return AnchorState::Pending;
    };
    let lines = cache.entry(cp.size).or_insert_with(|| {
        let body = parse_signed_checkpoint(&cp.note)
            .map(|(c, _)| c.body())
            .unwrap_or_default();
        let maps: Vec<serde_json::Map<String, serde_json::Value>> = cp
            .anchors
            .iter()
            .filter_map(|a| match serde_json::from_str(a) {
                Ok(serde_json::Value::Object(m)) => Some(m),
                _ => None,
            })
            .collect();
        crate::downloads::anchor_lines_of(&maps, &body, zone)
    });
    AnchorState::Anchored {
        size: cp.size,
        lines: lines.clone(),
    }
}

/// `GET /app/contacts/{id}`: the contact's page.
pub async fn show(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(flash): Query<Flash>,
) -> Result<Response, WebError> {
    render(
        &state,
        &staff,
        &id,
        &flash,
        &ConsentValues::default(),
        StatusCode::OK,
    )
    .await
}

/// What the consent form holds: nothing on a fresh page; what was typed, with why it was
/// refused, when it comes back (the evidence file excepted: browsers do not let a page
/// fill a file input).
#[derive(Default)]
struct ConsentValues {
    purpose: String,
    purpose_other: String,
    decision: String,
    valid_days: String,
    given_on: String,
    notice: String,
    note: String,
    had_file: bool,
    error: Option<String>,
}

impl ConsentValues {
    fn of(upload: &Upload) -> ConsentValues {
        let f = |name| upload.field(name).unwrap_or("").to_owned();
        ConsentValues {
            purpose: f("purpose"),
            purpose_other: f("purpose_other"),
            decision: f("decision"),
            valid_days: f("valid_days"),
            given_on: f("given_on"),
            notice: f("notice"),
            note: f("evidence_note"),
            had_file: upload.file("evidence_file").is_some(),
            error: None,
        }
    }
}

/// The contact's page, with the consent form holding `form`.
async fn render(
    state: &AppState,
    staff: &Staff,
    id: &str,
    flash: &Flash,
    form: &ConsentValues,
    code: StatusCode,
) -> Result<Response, WebError> {
    let state = state.clone();
    let lang = staff.lang;
    let subject = SubjectId::parse(id).map_err(|_| WebError::NotFound(lang))?;
    let tenant = &staff.tenant;
    let contact = state
        .store
        .contact(tenant, &subject)
        .await?
        .ok_or(WebError::NotFound(lang))?;
    let erased = contact.wrapped_key.is_none();
    let writer = staff.role.can_write();
    let now = state.clock.now_ms();
    let statuses = state
        .store
        .statuses(tenant, std::slice::from_ref(&subject))
        .await?;
    let purposes = state.store.purposes(tenant).await?;
    let notices = if writer && !erased {
        state.store.notices(tenant, None).await?
    } else {
        Vec::new()
    };
    let proofs = state.store.subject_proofs(tenant, &subject).await?;
    let requests = state.store.subject_requests(tenant, &subject).await?;
    let events = state
        .store
        .subject_events(tenant, &subject, None, TIMELINE_MAX as u32)
        .await?;
    let with_file: HashSet<ProofId> = state
        .store
        .evidence_proofs(tenant, &subject)
        .await?
        .into_iter()
        .collect();
    let anchored = state.store.anchored_checkpoints().await?;
    let pending_sentence = pending_text(&state, lang);

    // Current status per purpose: every purpose with a record, and the catalogue's
    // others as "none" (a badge that turns pending or granted as things happen).
    let mut by_purpose: BTreeMap<String, Option<&StatusRow>> = BTreeMap::new();
    for p in &purposes {
        by_purpose.insert(p.name.clone(), None);
    }
    for s in &statuses {
        by_purpose.insert(s.purpose.clone(), Some(s));
    }

    let mut items: Vec<Item> = Vec::new();
    let mut anchor_cache = HashMap::new();
    for p in proofs.iter().rev().take(TIMELINE_MAX) {
        let Some((_, entry)) = state.store.proof(tenant, &p.id).await? else {
            continue;
        };
        let proof: SealedProof = serde_json::from_slice(&entry)
            .map_err(|e| WebError::Unavailable(format!("stored proof {}: {e}", p.id)))?;
        let anchor = anchor_state(
            state.anchoring.schedule(),
            &anchored,
            &mut anchor_cache,
            p.log_index,
        );
        items.push(Item {
            at: p.recorded_at,
            tiebreak: p.log_index,
            markup: proof_item(
                &state,
                lang,
                &proof,
                with_file.contains(&p.id),
                &anchor,
                &pending_sentence,
                (staff.role == Role::Admin && !erased).then(|| disclose_form(staff, &p.id)),
            ),
        });
    }
    for r in requests.iter().take(TIMELINE_MAX) {
        items.push(Item {
            at: r.created_at,
            tiebreak: 0,
            markup: request_item(&state, staff, r, now, writer && !erased),
        });
        let closed = match r.status.as_str() {
            "cancelled" => r
                .answered_at
                .map(|at| (at, t(lang, Text::RequestCancelled), "cancelled")),
            "expired" => Some((
                r.expires_at,
                t(lang, Text::RequestExpiredUnanswered),
                "expired",
            )),
            "pending" if r.expires_at <= now => Some((
                r.expires_at,
                t(lang, Text::RequestExpiredUnanswered),
                "expired",
            )),
            _ => None,
        };
        if let Some((at, title, status)) = closed {
            items.push(Item {
                at,
                tiebreak: 0,
                markup: html! {
                    // The title says the state ("Request cancelled"): no badge repeating it
                    // (it read "Demande annulée annulé").
                    li.request-closed data-status=(status) {
                        p {
                            time { (local_time(&state, at)) } " — "
                            strong { (title) }
                        }
                        p.muted {
                            (r.purpose) " · "
                            a href={ "#request-" (r.id.as_str()) } { (r.id.as_str()) }
                        }
                    }
                },
            });
        }
    }
    for e in &events {
        let Ok(event) = serde_json::from_slice::<SealedEvent>(&e.entry) else {
            continue;
        };
        let b = &event.body;
        items.push(Item {
            at: b.recorded_at.unix_millis(),
            tiebreak: b.log_index,
            markup: html! {
                li.event id={ "event-" (b.id.as_str()) } {
                    p {
                        time { (local_time(&state, b.recorded_at.unix_millis())) } " — "
                        strong { (event_label(lang, b.kind.as_str())) }
                        @if let Some(p) = &b.purpose { " · " (p) }
                    }
                    p.muted {
                        (t(lang, Text::By2)) (actor_label(lang, &b.actor))
                        @if !b.fields.is_empty() {
                            " · " (t(lang, Text::Fields2)) (b.fields.join(", "))
                        }
                        @if let Some(c) = b.consent {
                            " · " (t(lang, Text::ConsentFound)) (status_label(lang, c.as_str()))
                        }
                        @if let Some(p) = &b.proof {
                            " · " (t(lang, Text::Proof3)) a href={ "#proof-" (p.as_str()) } { (p.as_str()) }
                        }
                        " · " (t(lang, Text::LogEntry)) (b.log_index)
                    }
                }
            },
        });
    }
    items.sort_by(|a, b| b.at.cmp(&a.at).then(b.tiebreak.cmp(&a.tiebreak)));

    let attributes: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(&contact.attributes).unwrap_or_default();
    let flash_markup = flash_message(lang, flash);
    let title = format!("{} {}", t(lang, Text::Contact2), subject.as_str());
    let body = html! {
        (flash_markup)
        section.card #contact-summary {
            dl {
                dt { (t(lang, Text::Pseudonym)) }
                dd { code #contact-id { (subject.as_str()) } }
                dt { (t(lang, Text::Category)) }
                dd { (category_label(lang, contact.category)) }
                dt { (t(lang, Text::Added)) }
                dd { (local_time(&state, contact.created_at)) }
                @for (k, v) in &attributes {
                    dt { (k) }
                    dd { @match v { serde_json::Value::String(s) => (s), other => (other.to_string()) } }
                }
            }
            @if erased {
                p.warn #contact-erased role="status" {
                    (t(lang, Text::DataErasedThisPerson))
                }
            }
            @if writer && !erased {
                p {
                    a #edit-contact href={ "/app/contacts/" (subject.as_str()) "/edit" } { (t(lang, Text::EditContact)) }
                    " · "
                    a #request-consent href={ "/app/requests/new?contact=" (urlencode(subject.as_str())) } { (t(lang, Text::RequestConsentByE)) }
                }
            }
        }
        section.card {
            h2 { (t(lang, Text::Consents)) }
            div.table-wrap tabindex="0" {
                table #consent-status {
                    thead { tr {
                        th scope="col" { (t(lang, Text::Purpose2)) }
                        th scope="col" { (t(lang, Text::Status)) }
                        th.optional scope="col" { (t(lang, Text::Since)) }
                        th.optional scope="col" { (t(lang, Text::ValidUntil)) }
                        th scope="col" { (t(lang, Text::Proof2)) }
                    } }
                    tbody {
                        @if by_purpose.is_empty() {
                            tr { td colspan="5" { (t(lang, Text::NoConsentRecordedOr)) } }
                        }
                        @for (purpose, row) in &by_purpose {
                            tr {
                                th scope="row" { (purpose) }
                                td { (live_badge(lang, &subject, purpose, row.map_or("none", |s| shown_status(s, now)))) }
                                td.optional { @if let Some(s) = row { (local_time(&state, s.updated_at)) } }
                                td.optional { @if let Some(v) = row.and_then(|s| s.valid_until) { (local_time(&state, v)) } }
                                td { @if let Some(p) = row.and_then(|s| s.proof_id.as_ref()) {
                                    a href={ "#proof-" (p.as_str()) } { (p.as_str()) }
                                } }
                            }
                        }
                    }
                }
            }
        }
        @if writer && !erased {
            (consent_form(staff, &subject, &purposes, &notices, form))
        } @else if let Some(e) = &form.error {
            p.error #consent-error role="alert" { (t(lang, Text::ConsentNotRecorded)) (e) }
        }
        section {
            h2 { (t(lang, Text::Timeline)) }
            @if items.is_empty() {
                p.muted { (t(lang, Text::NothingYet)) }
            }
            ol.timeline #timeline {
                @for i in &items { (i.markup) }
            }
        }
    };
    Ok(page(staff, Section::Contacts, code, &title, body))
}

fn flash_message(lang: Lang, f: &Flash) -> Markup {
    let recorded = f.recorded.as_deref().and_then(|p| ProofId::parse(p).ok());
    let resent = f.resent.as_deref().and_then(|r| RequestId::parse(r).ok());
    let cancelled = f
        .cancelled
        .as_deref()
        .and_then(|r| RequestId::parse(r).ok());
    html! {
        @if let Some(p) = recorded {
            p.notice #flash role="status" {
                (t(lang, Text::ConsentRecordedProof))
                a href={ "#proof-" (p.as_str()) } { (p.as_str()) } "."
            }
        }
        @if let Some(r) = resent {
            p.notice #flash role="status" {
                (t(lang, Text::NewLinkEMailed))
                (r.as_str())
                (t(lang, Text::ThePreviousLinkNo))
            }
        }
        @if let Some(r) = cancelled {
            p.notice #flash role="status" {
                (t(lang, Text::Request))
                (r.as_str())
                (t(lang, Text::CancelledItsLinkTakes))
            }
        }
    }
}

/// The admins' form that discloses a proof for a dispute (`POST
/// /app/proofs/{id}/disclosure`): the ground, and the downloaded document.
fn disclose_form(staff: &Staff, id: &ProofId) -> Markup {
    let lang = staff.lang;
    html! {
        form.inline.disclose method="post" action={ "/app/proofs/" (id) "/disclosure" } {
            (csrf_field(staff))
            label for={ "ground-" (id) } { (t(lang, Text::DiscloseForADispute)) }
            " "
            select id={ "ground-" (id) } name="ground" {
                option value="legal-claim" { (t(lang, Text::GroundLegalClaim)) }
                option value="authority-request" { (t(lang, Text::GroundAuthorityRequest)) }
                option value="subject-request" { (t(lang, Text::GroundSubjectRequest)) }
            }
            " "
            label for={ "format-" (id) } { (t(lang, Text::DisclosureFormat)) }
            " "
            select id={ "format-" (id) } name="format" {
                option value="pdf" { (t(lang, Text::DisclosureFormatPdf)) }
                option value="json" { "JSON" }
            }
            " "
            button type="submit" id={ "disclose-" (id) } { (t(lang, Text::DiscloseButton)) }
        }
    }
}

fn proof_item(
    state: &AppState,
    lang: Lang,
    proof: &SealedProof,
    has_file: bool,
    anchor: &AnchorState,
    pending_sentence: &str,
    disclose: Option<Markup>,
) -> Markup {
    let b = &proof.body;
    let id = b.id.as_str();
    let at = b.recorded_at.unix_millis();
    let certificates =
        matches!(anchor, AnchorState::Anchored { .. }) || state.anchoring.configured();
    html! {
        li.proof id={ "proof-" (id) } {
            p {
                time { (local_time(state, at)) } " — "
                strong { (b.purpose) } " "
                (status_badge(lang, b.decision.as_str()))
            }
            p.muted {
                (method_label(lang, b.method))
                @if let Some(r) = &b.request {
                    " · " (t(lang, Text::Request2)) a href={ "#request-" (r.as_str()) } { (r.as_str()) }
                }
            }
            @if let Some(n) = &b.notice {
                p.muted {
                    (t(lang, Text::Notice))
                    @if let Some(v) = &n.version { "v" (v) " " }
                    @if let Some(l) = &n.language { "(" (l) ")" }
                }
            }
            @if let Some(given) = &b.given_at {
                p.muted.given-at { (t(lang, Text::GivenOn)) (local_time(state, given.unix_millis())) }
            }
            @if let Some(until) = &b.valid_until {
                p.muted { (t(lang, Text::ValidUntil2)) (local_time(state, until.unix_millis())) }
            }
            @if b.evidence.is_some() {
                p.muted {
                    (t(lang, Text::EvidenceKept))
                    @if has_file {
                        " · " a id={ "evidence-" (id) } href={ "/app/proofs/" (id) "/evidence" } download {
                            (t(lang, Text::DownloadTheFile))
                        }
                    }
                }
            }
            // What a verifier or an auditor reads, not the office: folded.
            details.tech {
                summary { (t(lang, Text::TechnicalDetails)) }
                p.muted {
                    (t(lang, Text::Proof4)) code { (id) }
                    " · " (t(lang, Text::LogEntry)) (b.log_index)
                }
                @if let Some(n) = &b.notice {
                    p.muted { (t(lang, Text::Notice)) "SHA-256 " code { (n.sha256.get(..16).unwrap_or(&n.sha256)) "…" } }
                }
                @if let Some(c) = &b.evidence {
                    p.muted {
                        (t(lang, Text::EvidenceCommitment))
                        code.evidence-commitment { (c.get(..16).unwrap_or(c)) "…" }
                    }
                }
            }
            p.downloads {
                a id={ "proof-json-" (id) } href={ "/app/proofs/" (id) } download { (t(lang, Text::ProofJson)) }
                " · "
                a id={ "proof-pdf-" (id) } href={ "/app/proofs/" (id) "/pdf" } download { (t(lang, Text::ProofPdf)) }
                // A certificate only where one is or will be: anchored, or anchoring on.
                @if certificates {
                    " · "
                    a id={ "cert-json-" (id) } href={ "/app/proofs/" (id) "/certificate" } { (t(lang, Text::CertificateJson)) }
                    " · "
                    a id={ "cert-pdf-" (id) } href={ "/app/proofs/" (id) "/certificate.pdf" } { (t(lang, Text::CertificatePdf)) }
                }
            }
            @if let Some(form) = disclose { (form) }
            @match anchor {
                AnchorState::Pending if !certificates => {}
                AnchorState::Pending => {
                    p.pending-anchor { (pending_sentence) }
                }
                AnchorState::Anchored { size, lines } => {
                    div.anchored {
                        p { (t(lang, Text::AnchoredCheckpointOfSize)) (size) }
                        ul {
                            @for l in lines {
                                li { strong { (l.kind) } " — " code { (l.reference) } " — " (l.detail) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn request_item(
    state: &AppState,
    staff: &Staff,
    r: &RequestRow,
    now: i64,
    can_act: bool,
) -> Markup {
    let lang = staff.lang;
    let id = r.id.as_str();
    let open = r.status == RequestStatus::Pending && r.expires_at > now;
    let mail = if r.mail_error.as_deref() == Some(consentry_store::CANCELLED_UNSENT) {
        "cancelled"
    } else {
        r.mail_status.as_str()
    };
    let status = if r.status == RequestStatus::Pending && !open {
        "expired"
    } else {
        r.status.as_str()
    };
    html! {
        li.request id={ "request-" (id) } {
            p {
                time { (local_time(state, r.created_at)) } " — "
                strong { (t(lang, Text::ConsentRequest)) } " · " (r.purpose) " "
                (status_badge(lang, status))
            }
            p.muted {
                code { (id) }
                " · " (t(lang, Text::Notice2))
                @if let Some(v) = &r.notice_version { "v" (v) " " }
                "(" (r.language) ")"
                " · " (t(lang, Text::EMail2)) (mail_label(lang, mail))
                @if r.mail_attempts > 1 { " (" (r.mail_attempts) " " (t(lang, Text::Attempts)) ")" }
                @if open {
                    " · " (t(lang, Text::AnswerExpectedUntil)) (local_time(state, r.expires_at))
                }
                @if let (Some(at), Some(p)) = (r.answered_at, &r.proof_id) {
                    " · " (t(lang, Text::Answered)) (local_time(state, at))
                    " · " a href={ "#proof-" (p.as_str()) } { (p.as_str()) }
                }
            }
            @if open && can_act {
                div.actions {
                    form.inline method="post" action={ "/app/requests/" (id) "/resend" } {
                        (csrf_field(staff))
                        button id={ "resend-" (id) } type="submit" { (t(lang, Text::ResendNewLink)) }
                    }
                    " "
                    // Cancelling is confirmed on a page of its own (no token in this GET).
                    form.inline method="get" action={ "/app/requests/" (id) "/cancel" } {
                        button.danger id={ "cancel-" (id) } type="submit" { (t(lang, Text::CancelTheRequest)) }
                    }
                }
            }
        }
    }
}

/// The notice preselected: the one typed back, else the current version (in the
/// staff's language if there is one) of the purpose chosen or first listed.
fn preselected_notice(
    lang: Lang,
    purposes: &[consentry_store::PurposeRow],
    notices: &[NoticeRow],
    form: &ConsentValues,
) -> Option<String> {
    if form.error.is_some() {
        return Some(form.notice.clone());
    }
    let purpose = purposes.first().map(|p| p.name.as_str())?;
    let of_purpose = notices.iter().filter(|n| n.purpose == purpose);
    let current = |l: Option<&str>| {
        of_purpose
            .clone()
            .filter(|n| l.is_none_or(|l| n.language == l))
            .max_by_key(|n| n.version)
    };
    current(Some(crate::i18n::code(lang)))
        .or_else(|| current(None))
        .map(|n| n.id.as_str().to_owned())
}

fn consent_form(
    staff: &Staff,
    subject: &SubjectId,
    purposes: &[consentry_store::PurposeRow],
    notices: &[NoticeRow],
    form: &ConsentValues,
) -> Markup {
    let lang = staff.lang;
    let chosen_notice = preselected_notice(lang, purposes, notices, form);
    // The newest version of each purpose and language, marked as current.
    let mut newest: HashMap<(&str, &str), u32> = HashMap::new();
    for n in notices {
        let v = newest.entry((&n.purpose, &n.language)).or_insert(n.version);
        *v = (*v).max(n.version);
    }
    let mut by_purpose: BTreeMap<&str, Vec<&NoticeRow>> = BTreeMap::new();
    for n in notices {
        by_purpose.entry(&n.purpose).or_default().push(n);
    }
    let refused = form.decision == "refused";
    html! {
        section.card #record-consent {
            h2 { (t(lang, Text::RecordAConsent)) }
            p.muted { (t(lang, Text::ForADecisionCollected)) }
            @if let Some(e) = &form.error {
                p.error #consent-error role="alert" {
                    (t(lang, Text::ConsentNotRecorded)) (e)
                    @if form.had_file { " " (t(lang, Text::ChooseTheFileAgain)) }
                }
            }
            form #consent-form method="post" action={ "/app/contacts/" (subject.as_str()) "/consents" } enctype="multipart/form-data" {
                (csrf_field(staff))
                @if !purposes.is_empty() {
                    label for="consent-purpose" { (t(lang, Text::Purpose2)) }
                    select #consent-purpose name="purpose" {
                        @for p in purposes {
                            option value=(p.name) selected[p.name == form.purpose] {
                                (p.name) " — " (p.description)
                                @if let Some(d) = p.valid_days { " (" (d) " " (t(lang, Text::Days)) ")" }
                            }
                        }
                    }
                }
                label for="consent-purpose-other" {
                    @if purposes.is_empty() { (t(lang, Text::Purpose2)) }
                    @else { (t(lang, Text::OrAnotherPurpose)) }
                }
                input #consent-purpose-other type="text" name="purpose_other" maxlength="64" required[purposes.is_empty()] aria-describedby="consent-purpose-help" value=(form.purpose_other);
                p.muted #consent-purpose-help { (t(lang, Text::AZ09)) }
                fieldset {
                    legend { (t(lang, Text::Decision)) }
                    label { input type="radio" name="decision" value="granted" checked[!refused]; " " (status_label(lang, "granted")) }
                    label { input type="radio" name="decision" value="refused" checked[refused]; " " (status_label(lang, "refused")) }
                }
                label for="consent-given-on" { (t(lang, Text::DateTheConsentWasGiven)) }
                input #consent-given-on type="date" name="given_on" value=(form.given_on) aria-describedby="consent-given-help";
                p.muted #consent-given-help { (t(lang, Text::ForExampleTheDateSigned)) }
                @if !notices.is_empty() {
                    label for="consent-notice" { (t(lang, Text::NoticeThePersonRead)) }
                    select #consent-notice name="notice" {
                        option value="" selected[chosen_notice.as_deref().is_none_or(str::is_empty)] { (t(lang, Text::NoNoticeOrNotKnown)) }
                        @for (purpose, versions) in &by_purpose {
                            optgroup label=(purpose) {
                                @for n in versions {
                                    option value=(n.id.as_str()) selected[chosen_notice.as_deref() == Some(n.id.as_str())] {
                                        (purpose) " — v" (n.version) " (" (n.language) ")"
                                        @if newest.get(&(n.purpose.as_str(), n.language.as_str())) == Some(&n.version) {
                                            " — " (t(lang, Text::CurrentVersion))
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                label for="consent-valid-days" { (t(lang, Text::ValidityInDaysIf)) }
                input #consent-valid-days type="number" name="valid_days" min=(consentry_core::consent::VALID_DAYS.start()) max=(consentry_core::consent::VALID_DAYS.end()) aria-describedby="consent-valid-help" value=(form.valid_days);
                p.muted #consent-valid-help { (t(lang, Text::EmptyThePurposeS)) }
                label for="consent-note" { (t(lang, Text::EvidenceANote)) }
                textarea #consent-note name="evidence_note" rows="3" maxlength=(MAX_EVIDENCE_TEXT) { (form.note) }
                label for="consent-file" { (t(lang, Text::OrAFile10)) }
                input #consent-file type="file" name="evidence_file";
                p.muted { (t(lang, Text::ANoteOrA)) }
                div { button.primary #consent-submit type="submit" { (t(lang, Text::RecordAndSeal)) } }
            }
        }
    }
}

fn record_error(lang: Lang, e: RecordError) -> WebError {
    match e {
        RecordError::Invalid(m) => WebError::bad_detail(lang, &m),
        RecordError::UnknownContact => WebError::NotFound(lang),
        RecordError::Erased => erased_error(lang),
        RecordError::Unavailable(m) => WebError::Unavailable(m),
        RecordError::StorageFull => WebError::Unavailable("the storage is full".into()),
    }
}

fn erased_error(lang: Lang) -> WebError {
    WebError::bad(lang, Text::ThisContactSDataWas)
}

/// `POST /app/contacts/{id}/consents` (multipart): records a decision with its evidence,
/// then back to the contact's page. Refused input shows the page again with the form as
/// typed and the reason in it (422); nothing is written.
pub async fn record(
    State(state): State<AppState>,
    Writer(staff): Writer,
    Path(id): Path<String>,
    upload: Upload,
) -> Result<Response, WebError> {
    match record_checked(&state, &staff, &id, &upload).await {
        Err(WebError::BadRequest { message, .. }) => {
            let form = ConsentValues {
                error: Some(message),
                ..ConsentValues::of(&upload)
            };
            render(
                &state,
                &staff,
                &id,
                &Flash::default(),
                &form,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        other => other,
    }
}

/// The date typed in the form (`YYYY-MM-DD`, a day in the web application's zone) as the
/// instant that day starts there: a paper form carries a day, not a time.
fn given_on(state: &AppState, lang: Lang, typed: &str) -> Result<Option<Timestamp>, WebError> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Ok(None);
    }
    let start = typed
        .parse::<jiff::civil::Date>()
        .ok()
        .and_then(|d| {
            d.to_datetime(jiff::civil::Time::midnight())
                .to_zoned_datetime(state.anchoring.schedule().zone().clone())
                .ok()
        })
        .and_then(|z| Timestamp::from_unix_millis(z.timestamp().as_millisecond()).ok())
        .ok_or_else(|| WebError::bad(lang, Text::TheDateOfConsentIsNotADate))?;
    match consentry_core::consent::given_at(start.unix_millis(), state.clock.now_ms()) {
        Ok(_) => Ok(Some(start)),
        Err(RuleError::GivenAtTooOld) => Err(WebError::bad(lang, Text::TheDateOfConsentIsTooOld)),
        Err(_) => Err(WebError::bad(lang, Text::TheDateOfConsentIsInTheFuture)),
    }
}

async fn record_checked(
    state: &AppState,
    staff: &Staff,
    id: &str,
    upload: &Upload,
) -> Result<Response, WebError> {
    let state = state.clone();
    let lang = staff.lang;
    let subject = SubjectId::parse(id).map_err(|_| WebError::NotFound(lang))?;
    let contact = state
        .store
        .contact(&staff.tenant, &subject)
        .await?
        .ok_or(WebError::NotFound(lang))?;
    let Some(wrapped) = contact.wrapped_key.clone() else {
        return Err(erased_error(lang));
    };
    let other = upload.field("purpose_other").unwrap_or("").trim();
    let purpose = if other.is_empty() {
        upload.field("purpose").unwrap_or("").trim()
    } else {
        other
    };
    if check_purpose(purpose).is_err() {
        return Err(WebError::bad(lang, Text::ChooseAPurposeOr));
    }
    let decision = match upload.field("decision") {
        Some("granted") => Decision::Granted,
        Some("refused") => Decision::Refused,
        _ => {
            return Err(WebError::bad(lang, Text::ChooseWhetherTheConsent));
        }
    };
    let given_days = upload
        .field("valid_days")
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let valid_days = match given_days {
        Some(s) => match s.parse::<u32>() {
            Ok(d) if consentry_core::consent::VALID_DAYS.contains(&d) => Some(d),
            _ => {
                return Err(WebError::bad(lang, Text::TheValidityMustBe));
            }
        },
        None => state
            .store
            .purpose(&staff.tenant, purpose)
            .await?
            .and_then(|p| p.valid_days),
    };
    let valid_days = valid_days.filter(|_| decision == Decision::Granted);
    let given_at = given_on(&state, lang, upload.field("given_on").unwrap_or(""))?;
    let notice = match upload.field("notice").map(str::trim).unwrap_or("") {
        "" => None,
        typed => {
            let row = match NoticeId::parse(typed) {
                Ok(nid) => state.store.notice(&staff.tenant, &nid).await?,
                Err(_) => None,
            };
            let Some(row) = row else {
                return Err(WebError::bad(lang, Text::TheNoticeChosenDoesNotExist));
            };
            if row.purpose != purpose {
                return Err(WebError::bad(lang, Text::TheNoticeIsOfAnotherPurpose));
            }
            if Hash::digest(row.body.as_bytes()).to_hex() != row.sha256 {
                return Err(WebError::Unavailable(format!(
                    "notice {} does not match its stored SHA-256",
                    row.id
                )));
            }
            // As a delegated request records it: the hash of the text, its version, language.
            Some(Notice {
                sha256: row.sha256,
                version: Some(row.version.to_string()),
                language: Some(row.language),
                url: None,
            })
        }
    };
    let note = upload
        .field("evidence_note")
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if note.is_some_and(|n| n.len() > MAX_EVIDENCE_TEXT) {
        return Err(WebError::bad(lang, Text::TheEvidenceNoteIs));
    }
    let file = upload.file("evidence_file");
    if note.is_some() && file.is_some() {
        return Err(WebError::bad(lang, Text::GiveAnEvidenceNote));
    }
    if file.is_some_and(|f| f.bytes.len() > MAX_EVIDENCE_FILE) {
        return Err(WebError::bad(lang, Text::TheEvidenceFileIs));
    }
    let proof_id = new_proof_id(&state).map_err(|e| record_error(lang, e))?;
    let evidence = match (note, file) {
        (Some(n), _) => Some(Evidence::Text(n.to_owned())),
        (None, Some(f)) => {
            let key = state
                .tenant_keys(&staff.tenant)
                .unwrap_subject_key(&subject, &WrappedKey::from_bytes(wrapped))
                .map_err(|e| WebError::Unavailable(format!("subject key: {e}")))?;
            let commitment = key.commitment("evidence", &f.bytes);
            let sealed = key.seal_document(
                &mut consentry_ledger::random::rng(),
                &staff.tenant,
                &subject,
                &f.bytes,
            );
            let stored = state
                .store
                .insert_evidence(&NewEvidence {
                    proof: proof_id.clone(),
                    tenant: staff.tenant.clone(),
                    subject: subject.clone(),
                    media_type: clean_media_type(&f.media_type),
                    size: f.bytes.len() as u64,
                    commitment: commitment.clone(),
                    sealed,
                    created_at: state.clock.now_ms(),
                })
                .await?;
            if !stored {
                return Err(erased_error(lang));
            }
            Some(Evidence::Commitment(commitment))
        }
        (None, None) => None,
    };
    let with_file = matches!(evidence, Some(Evidence::Commitment(_)));
    let m = ManualConsent {
        tenant: staff.tenant.clone(),
        subject: subject.clone(),
        purpose: purpose.to_owned(),
        decision,
        evidence,
        notice,
        valid_days,
        valid_until: None,
        given_at,
    };
    match record_manual_as(&state, proof_id.clone(), m).await {
        Ok(_) => {
            tracing::info!(proof = %proof_id, user = %staff.user, with_file, "consent recorded from the web application");
            Ok(Redirect::to(&format!(
                "/app/contacts/{}?recorded={}",
                subject.as_str(),
                proof_id.as_str()
            ))
            .into_response())
        }
        Err(e) => {
            if with_file && let Err(d) = state.store.delete_evidence(&staff.tenant, &proof_id).await
            {
                tracing::warn!(error = %d, proof = %proof_id, "an evidence file without its proof could not be deleted");
            }
            Err(record_error(lang, e))
        }
    }
}
