//! Delegated consent requests, as both the API and the web application create them: the
//! checks, the rows, and the request as JSON.
use crate::consents::check_purpose;
use crate::problem::Problem;
use crate::state::AppState;
use consentry_core::consent;
use consentry_core::event::ConsentState;
use consentry_core::ids::{RequestId, SubjectId, TenantId};
use consentry_core::merkle::Hash;
use consentry_core::time::Timestamp;
use consentry_store::{NewRequest, RequestRow};
use serde_json::{Value, json};

const DAY_MS: i64 = 86_400_000;
/// Most contacts in one bulk request.
pub const MAX_BULK: usize = 1000;

fn ts(ms: i64) -> Value {
    Timestamp::from_unix_millis(ms)
        .map(|t| Value::String(t.to_string()))
        .unwrap_or(Value::Null)
}

/// The sender's view of a request.
pub fn view(r: &RequestRow) -> Value {
    json!({
        "id": r.id.to_string(),
        "contact_id": r.subject.to_string(),
        "purpose": r.purpose,
        "status": r.status.as_str(),
        "created_at": ts(r.created_at),
        "expires_at": ts(r.expires_at),
        "answered_at": r.answered_at.map(ts),
        "proof_id": r.proof_id.as_ref().map(|p| p.to_string()),
        "notice": {"sha256": r.notice_sha256, "version": r.notice_version, "url": r.notice_url, "language": r.language},
        "email": {"status": r.mail_status.as_str(), "attempts": r.mail_attempts, "error": r.mail_error},
    })
}

/// Requests to create, as both the API and the web application give them.
#[derive(Debug, Clone)]
pub struct RequestsInput {
    /// The recipients' pseudonyms, as given (checked one by one).
    pub contacts: Vec<String>,
    /// Purpose key.
    pub purpose: String,
    /// The exact notice text the recipient will read; its SHA-256 goes into the proof.
    pub notice_text: String,
    /// The notice's version label.
    pub notice_version: Option<String>,
    /// Where the notice is published.
    pub notice_url: Option<String>,
    /// Days the recipient has to answer: 3 to 30.
    pub response_days: u32,
    /// Validity of a granted consent, in days.
    pub valid_days: Option<u32>,
    /// `fr` or `en`: the e-mail's, the answer page's and the notice's language.
    pub language: String,
    /// Report contacts that already have a request for the purpose waiting for an answer
    /// instead of asking them again.
    pub skip_pending: bool,
    /// Report contacts whose consent for the purpose is granted now instead of asking
    /// them again (the web application; the API asks whom it is told to).
    pub skip_granted: bool,
}

/// Why a contact was not asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not a contact of the tenant's book.
    NoSuchContact,
    /// The contact's data was erased.
    Erased,
    /// A request for the purpose already waits for its answer.
    AlreadyPending,
    /// The contact's consent for the purpose is granted and still valid.
    AlreadyGranted,
}

impl Refusal {
    /// The API's reason text.
    pub fn reason(self) -> &'static str {
        match self {
            Refusal::NoSuchContact => "no such contact",
            Refusal::Erased => "the contact's data was erased",
            Refusal::AlreadyPending => "a request for this purpose is already pending",
            Refusal::AlreadyGranted => "the contact's consent for this purpose is granted",
        }
    }

    /// A stable code, as a request batch stores it.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::NoSuchContact => "no_such_contact",
            Refusal::Erased => "erased",
            Refusal::AlreadyPending => "pending",
            Refusal::AlreadyGranted => "granted",
        }
    }

    /// The refusal a [`Refusal::code`] names.
    pub fn from_code(code: &str) -> Option<Refusal> {
        [
            Refusal::NoSuchContact,
            Refusal::Erased,
            Refusal::AlreadyPending,
            Refusal::AlreadyGranted,
        ]
        .into_iter()
        .find(|r| r.code() == code)
    }
}

/// Who a request for a purpose would ask, read now: what the web application's preview
/// shows and what [`create_requests`] then does (the creating transaction checks pending
/// requests again).
#[derive(Debug, Default)]
pub struct Plan {
    /// The contacts to ask, as given, with their pseudonym.
    pub asked: Vec<(String, SubjectId)>,
    /// The contacts not to ask, as given, with why.
    pub refused: Vec<(String, Refusal)>,
}

/// Sorts `contacts` into those a request for `purpose` asks and those it does not, with
/// why: unknown, erased, already asked and waiting (`skip_pending`, which also drops a
/// contact named twice), already granted (`skip_granted`). Every contact of the tenant
/// has an e-mail address (the book refuses one without), so none is skipped for want of
/// one; an erased contact's address is gone with its data.
pub async fn plan_requests(
    state: &AppState,
    tenant: &TenantId,
    purpose: &str,
    contacts: &[String],
    skip_pending: bool,
    skip_granted: bool,
) -> Result<Plan, Problem> {
    let now = state.clock.now_ms();
    let mut out = Plan::default();
    let mut known = Vec::new();
    for raw in contacts {
        let contact = match SubjectId::parse(raw) {
            Ok(id) => state.store.contact(tenant, &id).await?,
            Err(_) => None,
        };
        match contact {
            None => out.refused.push((raw.clone(), Refusal::NoSuchContact)),
            Some(c) if c.wrapped_key.is_none() => out.refused.push((raw.clone(), Refusal::Erased)),
            Some(c) => known.push((raw.clone(), c.id)),
        }
    }
    let ids: Vec<SubjectId> = known.iter().map(|(_, id)| id.clone()).collect();
    let pending = if skip_pending {
        state
            .store
            .pending_request_subjects(tenant, purpose, &ids, now)
            .await?
    } else {
        Default::default()
    };
    let mut granted = std::collections::HashSet::new();
    if skip_granted {
        for chunk in ids.chunks(500) {
            for s in state.store.statuses(tenant, chunk).await? {
                if s.purpose == purpose
                    && ConsentState::of_book(s.status, s.valid_until, now) == ConsentState::Granted
                {
                    granted.insert(s.subject);
                }
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    for (raw, id) in known {
        if pending.contains(&id) || (skip_pending && !seen.insert(id.clone())) {
            out.refused.push((raw, Refusal::AlreadyPending));
        } else if granted.contains(&id) {
            out.refused.push((raw, Refusal::AlreadyGranted));
        } else {
            out.asked.push((raw, id));
        }
    }
    Ok(out)
}

/// What [`create_requests`] did.
#[derive(Debug, Default)]
pub struct RequestsOutcome {
    /// The requests stored (their e-mails are queued).
    pub created: Vec<RequestRow>,
    /// The contacts not asked, as given, with why.
    pub refused: Vec<(String, Refusal)>,
}

/// Checks requests' terms; an English message for the API.
pub fn check_requests(input: &RequestsInput) -> Result<(), Problem> {
    check_purpose(&input.purpose)?;
    if input.notice_text.trim().is_empty() || input.notice_text.chars().count() > 20_000 {
        return Err(Problem::invalid(
            "notice text must be 1 to 20,000 characters",
        ));
    }
    if input.notice_version.as_ref().is_some_and(|v| v.len() > 64)
        || input.notice_url.as_ref().is_some_and(|u| u.len() > 2000)
    {
        return Err(Problem::invalid(
            "notice version (64) or url (2000) is too long",
        ));
    }
    consent::response_days(input.response_days).map_err(|e| Problem::invalid(e.to_string()))?;
    if let Some(days) = input.valid_days {
        consent::valid_days(days).map_err(|e| Problem::invalid(e.to_string()))?;
    }
    if input.language != "fr" && input.language != "en" {
        return Err(Problem::invalid("language must be fr or en"));
    }
    if input.contacts.is_empty() || input.contacts.len() > MAX_BULK {
        return Err(Problem::invalid(format!(
            "contact_ids must hold 1 to {MAX_BULK} IDs"
        )));
    }
    Ok(())
}

/// Creates consent requests for up to [`MAX_BULK`] contacts of `tenant` in one
/// transaction, each with a single-use link (only its hash is stored) whose e-mail the
/// mail loop sends; contacts that cannot be asked are reported, not fatal. The notice's
/// exact text is stored with its SHA-256, version and language: what the answer's proof
/// records.
pub async fn create_requests(
    state: &AppState,
    tenant: &TenantId,
    input: &RequestsInput,
) -> Result<RequestsOutcome, Problem> {
    check_requests(input)?;
    let notice_sha256 = Hash::digest(input.notice_text.as_bytes()).to_hex();
    let now = state.clock.now_ms();
    let plan = plan_requests(
        state,
        tenant,
        &input.purpose,
        &input.contacts,
        input.skip_pending,
        input.skip_granted,
    )
    .await?;
    let mut out = RequestsOutcome {
        created: Vec::new(),
        refused: plan.refused,
    };
    let mut requests = Vec::new();
    let mut raws = Vec::new();
    for (raw, subject) in plan.asked {
        let id = RequestId::from_suffix(&consentry_ledger::random::id_suffix(now))
            .map_err(Problem::unavailable)?;
        let (_, token_hash) = crate::mail::request_token(state, id.as_str());
        requests.push(NewRequest {
            id,
            tenant: tenant.clone(),
            subject,
            purpose: input.purpose.clone(),
            token_hash,
            notice_text: input.notice_text.clone(),
            notice_sha256: notice_sha256.clone(),
            notice_version: input.notice_version.clone(),
            notice_url: input.notice_url.clone(),
            language: input.language.clone(),
            valid_days: input.valid_days,
            created_at: now,
            expires_at: now + i64::from(input.response_days) * DAY_MS,
        });
        raws.push(raw.clone());
    }
    if requests.is_empty() {
        return Ok(out);
    }
    if input.skip_pending {
        // Checked again in the inserting transaction: a request another sender made for
        // the same contact a moment ago is not doubled.
        let skipped = state
            .store
            .insert_requests_unless_pending(&requests, now)
            .await?;
        if !skipped.is_empty() {
            let mut kept = Vec::with_capacity(requests.len());
            for (r, raw) in requests.into_iter().zip(raws) {
                if skipped.contains(&r.id) {
                    out.refused.push((raw, Refusal::AlreadyPending));
                } else {
                    kept.push(r);
                }
            }
            requests = kept;
        }
    } else {
        state.store.insert_requests(&requests).await?;
    }
    state.mail_wake.notify_one();
    for r in &requests {
        let row = state
            .store
            .request(tenant, &r.id)
            .await?
            .ok_or_else(|| Problem::unavailable("request vanished"))?;
        out.created.push(row);
    }
    Ok(out)
}

/// The proof a person's answer to request `r` is sealed as: delegated, naming the request
/// and the notice it showed, with its validity. The one draft for every way a request is
/// answered — its e-mailed link (`link`: the link's hash, checked to be the current one)
/// and the portal's "grant again" (`None`). The recipient's commitment and category are
/// taken from the contact in the append transaction, where the request is also claimed
/// (still pending, window open).
pub fn answer_draft(
    r: &RequestRow,
    id: consentry_core::ids::ProofId,
    decision: consentry_core::proof::Decision,
    link: Option<[u8; 32]>,
) -> consentry_ledger::ProofDraft {
    consentry_ledger::ProofDraft {
        id,
        tenant: r.tenant.clone(),
        subject: r.subject.clone(),
        purpose: r.purpose.clone(),
        decision,
        method: consentry_core::proof::Method::Delegated,
        recipient: None,
        notice: Some(consentry_core::proof::Notice {
            sha256: r.notice_sha256.clone(),
            version: r.notice_version.clone(),
            language: Some(r.language.clone()),
            url: r.notice_url.clone(),
        }),
        evidence: None,
        request: Some(r.id.clone()),
        link,
        valid_days: r.valid_days,
        given_at: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_codes_read_back() {
        for r in [
            Refusal::NoSuchContact,
            Refusal::Erased,
            Refusal::AlreadyPending,
            Refusal::AlreadyGranted,
        ] {
            assert_eq!(Refusal::from_code(r.code()), Some(r));
        }
        assert_eq!(Refusal::from_code("failed"), None);
    }
}
