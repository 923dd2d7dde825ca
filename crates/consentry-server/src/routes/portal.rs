//! The self-service portal's pages: a person signs in with a one-time link e-mailed to
//! them and, for every sender that holds them as a contact, sees the identity data held
//! (decrypted for them alone), their consents with proofs and certificates, and every
//! access to their data with its log inclusion proof; they amend their data, revoke a
//! consent, erase their data (crypto-shredding) and export everything as JSON.
//!
//! Plain, accessible HTML in French or English (`?lang=`, remembered in a cookie, else
//! `Accept-Language`), escaped by construction (maud), no external resource, and no
//! script but the log monitor on the signed-in page (`/verify/monitor.js`: the browser
//! checks the log it is shown against the one it saw last, and the person's entries in
//! it); every page works without it. The Content-Security-Policy allows only the page's
//! own style (by hash), this origin's scripts and forms posted to this origin. Every state-changing request is a POST form carrying the
//! session's synchronizer token ([`PortalAuth::check_csrf`]), checked before anything
//! else: a missing or wrong token is a 403 and changes nothing. Sessions are
//! [`crate::session`]'s; the sign-in limiter and the e-mail are in [`crate::portal`].

use crate::client::{ClientIp, foreign_origin};
use crate::downloads::{Disposition, Document, Download, Format};
use crate::i18n::accept_language;
use crate::i18n::{LANG_COOKIE, code, parse_lang};
use crate::i18n::{Text, t};
use crate::page;
use crate::portal::{LOGIN_TTL_MS, PortalAuth};
use crate::problem::{ApiForm, Problem};
use crate::session::{NewSession, Principal, secret_hash};
use crate::state::AppState;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use consentry_core::consent::RequestStatus;
use consentry_core::event::ConsentState;
use consentry_core::event::{EventType, SealedEvent};
use consentry_core::ids::{ProofId, SubjectId, TenantId};
use consentry_core::proof::{Decision, Method};
use consentry_ledger::{AmendOutcome, EraseOutcome, On, ProofDraft, SubmitError};
use consentry_pdf::Language;
use consentry_store::{LoginState, RequestRow, StatusRow, SubjectProof};
use consentry_vault::{Identity, WrappedKey, normalize_email};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::LazyLock;

/// The portal's look is the web application's: the same style sheet (served at
/// `/app/static/app.css`, addressed here by its content hash) and the same header.
const APP_CSS: &str = include_str!("../../assets/app/app.css");

/// The style sheet's URL: versioned by its content, so that it can be cached for long.
static STYLESHEET: LazyLock<String> = LazyLock::new(|| {
    use sha2::{Digest as _, Sha256};
    format!(
        "/app/static/app.css?v={}",
        hex::encode(&Sha256::digest(APP_CSS.as_bytes())[..6])
    )
});

/// The policy: this origin's style sheet (the app's), forms posted here, and
/// this origin's scripts with WebAssembly — the log monitor (`/verify/monitor.js`, with
/// Subresource Integrity), which only the signed-in page loads; every page works without.
static POLICY: LazyLock<page::Policy> = LazyLock::new(|| {
    page::Policy::new(
        page::Styles::Files,
        page::Scripts::FilesAndWasm,
        page::Forms::Here,
    )
});

/// `?lang=fr|en`.
#[derive(Deserialize, Default)]
pub struct LangQuery {
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    done: Option<String>,
}

/// The page language: `?lang=`, else the language cookie, else `Accept-Language`.
fn language(headers: &HeaderMap, query: Option<&str>) -> Language {
    query
        .and_then(parse_lang)
        .or_else(|| crate::session::cookie(headers, LANG_COOKIE).and_then(parse_lang))
        .unwrap_or_else(|| accept_language(headers))
}

fn page(
    lang: Language,
    status: StatusCode,
    title: &str,
    signed_in: bool,
    body: Markup,
) -> Response {
    page_with(lang, status, title, signed_in, html! {}, body)
}

/// [`page`], with more in the document's head (the monitor's script).
fn page_with(
    lang: Language,
    status: StatusCode,
    title: &str,
    signed_in: bool,
    head: Markup,
    body: Markup,
) -> Response {
    let body = html! {
        header.top {
            a.brand href="/portal" { "Consentry" }
            nav.lang aria-label=(t(lang, Text::Language)) {
                @if lang == Language::Fr { a href="?lang=en" lang="en" hreflang="en" { "English" } }
                @else { a href="?lang=fr" lang="fr" hreflang="fr" { "Français" } }
            }
        }
        main.portal {
            h1 { (title) }
            (body)
        }
        footer.portal-footer {
            @if !signed_in { p { a href="/portal" { (t(lang, Text::ConsentryPersonalSpace)) } } }
            p { (t(lang, Text::ConsentryYourConsentsSealed)) }
        }
    };
    page::respond(
        status,
        page::document(
            lang,
            title,
            html! { link rel="stylesheet" href=(STYLESHEET.as_str()); (head) },
            body,
        ),
        &POLICY,
        page::Caching::NoStore,
    )
}

/// A portal page (in the visitor's language, signed out) for a request refused before any
/// handler ran: see [`crate::rejections`]. `make` gives the title and body in that language.
pub(crate) fn rejection_page(
    headers: &HeaderMap,
    status: StatusCode,
    make: impl FnOnce(Language) -> (&'static str, Markup),
) -> Response {
    let lang = language(headers, None);
    let (title, body) = make(lang);
    page(lang, status, title, false, body)
}

/// Adds the language cookie when the page was asked for in a language explicitly.
fn remember_lang(mut res: Response, q: &LangQuery) -> Response {
    if let Some(l) = q.lang.as_deref().and_then(parse_lang)
        && let Ok(v) = HeaderValue::from_str(&format!(
            "{LANG_COOKIE}={}; Path=/portal; Max-Age=31536000; SameSite=Strict",
            code(l)
        ))
    {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

fn forbidden(lang: Language) -> Response {
    page(
        lang,
        StatusCode::FORBIDDEN,
        t(lang, Text::ActionRefused),
        false,
        html! {
            p { (t(lang, Text::YourSessionHasEnded)) }
            p { a href="/portal" { (t(lang, Text::SignInAgain)) } }
        },
    )
}

/// A signed-in request: the session, or a 403 page.
pub struct Session(PortalAuth, Language);

impl FromRequestParts<AppState> for Session {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Session, Response> {
        let lang = language(&parts.headers, None);
        match PortalAuth::from_headers(state, &parts.headers).await {
            Ok(Some(auth)) => Ok(Session(auth, lang)),
            Ok(None) => Err(forbidden(lang)),
            Err(e) => Err(Problem::from(e).into_response()),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Signing in.

/// `GET /portal`: the sign-in page.
pub async fn home(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Result<Response, Problem> {
    let lang = language(&headers, q.lang.as_deref());
    let signed_in = PortalAuth::from_headers(&state, &headers).await?.is_some();
    let res = page(
        lang,
        StatusCode::OK,
        t(lang, Text::YourPersonalSpace),
        false,
        html! {
            p { (t(lang, Text::SeeTheDataAnd)) }
            @if signed_in { p.notice { a href="/portal/me" { (t(lang, Text::YouAreSignedIn)) } } }
            form method="post" action="/portal/login" {
                label for="email" { (t(lang, Text::YourEMailAddress)) }
                input #email type="email" name="email" required autocomplete="email" maxlength="254";
                div { button.primary type="submit" { (t(lang, Text::SendMeASign)) } }
            }
            p { (t(lang, Text::WeWillEMail)) }
        },
    );
    Ok(remember_lang(res, &q))
}

/// The sign-in form.
#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
}

/// `POST /portal/login`: e-mails a sign-in link if the address is known; the answer is
/// the same either way.
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: ClientIp,
    ApiForm(form): ApiForm<LoginForm>,
) -> Result<Response, Problem> {
    let lang = language(&headers, None);
    if foreign_origin(&state, &headers) {
        return Ok(forbidden(lang));
    }
    let Ok(normalized) = normalize_email(&form.email) else {
        return Ok(page(
            lang,
            StatusCode::BAD_REQUEST,
            t(lang, Text::NotAValidAddress),
            false,
            html! { p { (t(lang, Text::EnterACompleteE)) } p { a href="/portal" { (t(lang, Text::Back)) } } },
        ));
    };
    let now = state.clock.now_ms();
    if !state.portal.allow_login(&normalized, client, now) {
        tracing::info!(client = ?client.limit_key(), "portal sign-in throttled");
        let mut res = page(
            lang,
            StatusCode::TOO_MANY_REQUESTS,
            t(lang, Text::TooManyRequests),
            false,
            html! { p { (t(lang, Text::TooManyLinksWere)) } },
        );
        res.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(crate::session::SIGN_IN_WINDOW_MS / 1000),
        );
        return Ok(res);
    }
    // The look-up, the link and the e-mail run after the answer: the answer and its
    // timing are the same for every address.
    tokio::spawn(crate::portal::send_login(state.clone(), normalized, lang));
    Ok(page(
        lang,
        StatusCode::OK,
        t(lang, Text::CheckYourEMail),
        false,
        html! {
            p { (t(lang, Text::IfASenderUsing)) }
            p { (t(lang, Text::NothingArrivedCheckYour)) }
        },
    ))
}

fn link_closed(lang: Language, state: Option<LoginState>) -> Response {
    let (status, title, text) = match state {
        Some(LoginState::Used) => (
            StatusCode::GONE,
            t(lang, Text::LinkAlreadyUsed),
            t(lang, Text::ThisSignInLink),
        ),
        Some(LoginState::Expired) => (
            StatusCode::GONE,
            t(lang, Text::LinkExpired),
            t(lang, Text::ThisSignInLinkHas),
        ),
        _ => (
            StatusCode::NOT_FOUND,
            t(lang, Text::InvalidLink2),
            t(lang, Text::ThisLinkMatchesNo),
        ),
    };
    page(
        lang,
        status,
        title,
        false,
        html! { p { (text) } p { a href="/portal" { (t(lang, Text::AskForANew)) } } },
    )
}

/// `GET /portal/session/{token}`: a button that signs in (the link is used only by the
/// POST, so that a mail scanner fetching the link does not use it up).
pub async fn session_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, Problem> {
    let lang = language(&headers, None);
    let Some(hash) = secret_hash(&token) else {
        return Ok(link_closed(lang, None));
    };
    let now = state.clock.now_ms();
    match state.store.portal_login_state(&hash, now).await? {
        Some(LoginState::Valid) => Ok(page(
            lang,
            StatusCode::OK,
            t(lang, Text::SignInToYour),
            false,
            html! {
                p { (t(lang, Text::ConfirmToOpenYour)) }
                form method="post" {
                    button.primary type="submit" { (t(lang, Text::SignIn)) }
                }
            },
        )),
        other => Ok(link_closed(lang, other)),
    }
}

/// `POST /portal/session/{token}`: uses the link, opens a session (cookie), and goes to
/// the person's page.
pub async fn session_open(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, Problem> {
    let lang = language(&headers, None);
    if foreign_origin(&state, &headers) {
        return Ok(forbidden(lang));
    }
    let Some(hash) = secret_hash(&token) else {
        return Ok(link_closed(lang, None));
    };
    let now = state.clock.now_ms();
    let session = NewSession::mint();
    let expires = now + Principal::Person.ttl_ms();
    match state
        .store
        .consume_portal_login(&hash, &session.id_hash, &session.csrf, now, expires)
        .await?
    {
        Ok(subjects) => {
            tracing::info!(subjects = subjects.len(), "portal session opened");
            let mut res = Redirect::to("/portal/me").into_response();
            let cookie =
                HeaderValue::from_str(&Principal::Person.set_cookie(&state, Some(&session.id)))
                    .map_err(Problem::unavailable)?;
            res.headers_mut().append(header::SET_COOKIE, cookie);
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            Ok(res)
        }
        Err(found) => Ok(link_closed(lang, found)),
    }
}

// ---------------------------------------------------------------------------------------
// The person's page.

/// Everything shown for one sender.
struct SenderView {
    /// The sender's pending requests to this person (window open).
    asking: Vec<RequestRow>,
    tenant: TenantId,
    tenant_name: String,
    subject: SubjectId,
    identity: Option<Identity>,
    attributes: Value,
    statuses: Vec<StatusRow>,
    proofs: Vec<(SubjectProof, bool)>,
    /// Each event: its log index, the event, and its entry as stored (the exact bytes the
    /// browser's monitor hashes into the log's leaf).
    events: Vec<(u64, SealedEvent, String)>,
}

async fn sender_views(state: &AppState, auth: &PortalAuth) -> Result<Vec<SenderView>, Problem> {
    let mut out = Vec::new();
    for (tenant, subject) in &auth.session.subjects {
        let tenant_name = state
            .store
            .tenant(tenant)
            .await?
            .map(|t| t.name)
            .unwrap_or_default();
        let Some(contact) = state.store.contact(tenant, subject).await? else {
            continue;
        };
        let identity = match (&contact.wrapped_key, &contact.identity) {
            (Some(w), Some(sealed)) => {
                let keys = state.tenant_keys(tenant);
                let key = keys
                    .unwrap_subject_key(subject, &WrappedKey::from_bytes(w.clone()))
                    .map_err(Problem::unavailable)?;
                Some(
                    key.open(tenant, subject, sealed)
                        .map_err(Problem::unavailable)?,
                )
            }
            _ => None,
        };
        let statuses = state
            .store
            .statuses(tenant, std::slice::from_ref(subject))
            .await?;
        let mut proofs = Vec::new();
        for p in state.store.subject_proofs(tenant, subject).await? {
            let anchored = state
                .store
                .anchored_checkpoint_for(p.log_index)
                .await?
                .is_some();
            proofs.push((p, anchored));
        }
        let mut events = Vec::new();
        for e in state
            .store
            .subject_events(tenant, subject, None, 1000)
            .await?
        {
            let sealed: SealedEvent =
                serde_json::from_slice(&e.entry).map_err(Problem::unavailable)?;
            let entry = String::from_utf8(e.entry).map_err(Problem::unavailable)?;
            events.push((e.log_index, sealed, entry));
        }
        // What the sender asks now: its pending requests, window open (the purposes the
        // person may grant again from here).
        let now = state.clock.now_ms();
        let asking: Vec<RequestRow> = state
            .store
            .subject_requests(tenant, subject)
            .await?
            .into_iter()
            .filter(|r| r.status == RequestStatus::Pending && r.expires_at > now)
            .collect();
        out.push(SenderView {
            asking,
            tenant: tenant.clone(),
            tenant_name,
            subject: subject.clone(),
            identity,
            attributes: serde_json::from_str(&contact.attributes).unwrap_or(Value::Null),
            statuses,
            proofs,
            events,
        });
    }
    Ok(out)
}

fn decision_word(lang: Language, state: ConsentState) -> &'static str {
    t(
        lang,
        match state {
            ConsentState::Granted => Text::Granted,
            ConsentState::Refused => Text::Refused,
            ConsentState::Revoked => Text::Withdrawn,
            ConsentState::Pending => Text::AwaitingYourAnswer,
            ConsentState::Expired => Text::Expired,
            ConsentState::None => Text::Unknown,
        },
    )
}

fn event_word(lang: Language, event: EventType) -> &'static str {
    match event {
        EventType::Access => t(lang, Text::AccessGranted),
        EventType::AccessDenied => t(lang, Text::AccessRefused),
        EventType::Amended => t(lang, Text::DataAmended),
        EventType::Erased => t(lang, Text::DataErased),
        EventType::Disclosed => t(lang, Text::DisclosedForADispute),
    }
}

fn hidden(auth: &PortalAuth, v: &SenderView) -> Markup {
    html! {
        input type="hidden" name="csrf" value=(auth.session.csrf);
        input type="hidden" name="tenant" value=(v.tenant.as_str());
        input type="hidden" name="subject" value=(v.subject.as_str());
    }
}

/// The log size inclusion links are asked at: the durable head.
async fn log_size(state: &AppState) -> Result<u64, Problem> {
    Ok(state.store.log_head().await?.0)
}

/// `GET /portal/me`: the signed-in person's page (or back to sign-in).
pub async fn me(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Result<Response, Problem> {
    let lang = language(&headers, q.lang.as_deref());
    let Some(auth) = PortalAuth::from_headers(&state, &headers).await? else {
        return Ok(Redirect::to("/portal").into_response());
    };
    let zone = state.anchoring.schedule().clone();
    let when = |ms: i64| zone.long_local(ms);
    let views = sender_views(&state, &auth).await?;
    let size = log_size(&state).await?;
    let done = match q.done.as_deref() {
        Some("amended") => Some(t(lang, Text::YourDataWasAmended)),
        Some("revoked") => Some(t(lang, Text::YourConsentWasWithdrawn)),
        Some("granted") => Some(t(lang, Text::YourConsentWasGranted)),
        Some("erased") => Some(t(lang, Text::YourDataWasErased)),
        _ => None,
    };
    let (monitor_head, monitor_section) = crate::routes::verify_page::monitor(&state, lang, true);
    let body = html! {
        @if let Some(d) = done { p.notice role="status" { (d) } }
        p { (t(lang, Text::SignedInUntil)) (when(auth.session.expires_at)) "." }
        div {
            form.inline method="post" action="/portal/export" {
                input type="hidden" name="csrf" value=(auth.session.csrf);
                button type="submit" { (t(lang, Text::ExportAllMyData)) }
            }
            " "
            form.inline method="post" action="/portal/logout" {
                input type="hidden" name="csrf" value=(auth.session.csrf);
                button type="submit" { (t(lang, Text::SignOut)) }
            }
        }
        @if views.is_empty() { p { (t(lang, Text::NoSenderHoldsData)) } }
        @else { (monitor_section) }
        @for v in &views {
            section.sender aria-labelledby={ "s-" (v.subject.as_str()) } {
                h2 id={ "s-" (v.subject.as_str()) } { (v.tenant_name) }
                p { (t(lang, Text::YourPseudonymAtThis)) code { (v.subject.as_str()) } }
                h3 { (t(lang, Text::IdentityDataHeld)) }
                @match &v.identity {
                    None => p.warn { (t(lang, Text::YourIdentityDataAt)) }
                    Some(id) => {
                        div.table-wrap tabindex="0" {
                            table {
                                tr { th scope="row" { (t(lang, Text::EMail)) } td { (id.email) } }
                                tr { th scope="row" { (t(lang, Text::Name)) } td { (id.name.clone().unwrap_or_default()) } }
                                tr { th scope="row" { (t(lang, Text::PostalAddress)) } td { (id.address.clone().unwrap_or_default()) } }
                                tr { th scope="row" { (t(lang, Text::Phone)) } td { (id.phone.clone().unwrap_or_default()) } }
                                @for (k, val) in &id.fields { tr { th scope="row" { (k) } td { (val) } } }
                            }
                        }
                        @if v.attributes.as_object().is_some_and(|m| !m.is_empty()) {
                            p { (t(lang, Text::OtherAttributes)) code { (v.attributes.to_string()) } }
                        }
                        details {
                            summary { (t(lang, Text::AmendMyData)) }
                            form method="post" action="/portal/amend" {
                                (hidden(&auth, v))
                                label for={ "name-" (v.subject.as_str()) } { (t(lang, Text::Name)) }
                                input id={ "name-" (v.subject.as_str()) } type="text" name="name" maxlength="200" value=(id.name.clone().unwrap_or_default());
                                label for={ "address-" (v.subject.as_str()) } { (t(lang, Text::PostalAddress)) }
                                input id={ "address-" (v.subject.as_str()) } type="text" name="address" maxlength="500" value=(id.address.clone().unwrap_or_default());
                                label for={ "phone-" (v.subject.as_str()) } { (t(lang, Text::Phone)) }
                                input id={ "phone-" (v.subject.as_str()) } type="text" name="phone" maxlength="40" value=(id.phone.clone().unwrap_or_default());
                                div { button.primary type="submit" { (t(lang, Text::Save)) } }
                            }
                        }
                    }
                }
                h3 { (t(lang, Text::Consents)) }
                @if v.statuses.is_empty() { p { (t(lang, Text::NoConsentRecorded)) } }
                @else {
                    div.table-wrap tabindex="0" {
                        table {
                            thead { tr { th scope="col" { (t(lang, Text::Purpose2)) } th scope="col" { (t(lang, Text::State)) } th scope="col" { (t(lang, Text::Since)) } th scope="col" { (t(lang, Text::Action)) } } }
                            tbody {
                                @for st in &v.statuses {
                                    tr {
                                        td { (st.purpose) }
                                        td { (decision_word(lang, st.status)) @if let Some(u) = st.valid_until { br; small { (t(lang, Text::Until)) (when(u)) } } }
                                        td { (when(st.updated_at)) }
                                        td {
                                            @if st.status != ConsentState::Granted && v.identity.is_some() {
                                                @if let Some(r) = v.asking.iter().find(|r| r.purpose == st.purpose) {
                                                    form method="post" action="/portal/grant" {
                                                        (hidden(&auth, v))
                                                        input type="hidden" name="purpose" value=(st.purpose);
                                                        p.muted { (t(lang, Text::TheSenderAsksAgain)) (zone.long_local(r.expires_at)) "." }
                                                        button.primary type="submit" data-grant=(st.purpose) { (t(lang, Text::GrantMyConsent)) }
                                                    }
                                                }
                                            }
                                            @if st.status == ConsentState::Granted && v.identity.is_some() {
                                                form method="post" action="/portal/revoke" {
                                                    (hidden(&auth, v))
                                                    input type="hidden" name="purpose" value=(st.purpose);
                                                    button.danger type="submit" data-purpose=(st.purpose) { (t(lang, Text::WithdrawMyConsent)) }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                @if !v.proofs.is_empty() {
                    h3 { (t(lang, Text::Proofs)) }
                    div.table-wrap tabindex="0" {
                        table {
                            thead { tr { th scope="col" { (t(lang, Text::Date)) } th scope="col" { (t(lang, Text::Purpose2)) } th scope="col" { (t(lang, Text::Decision)) } th scope="col" { (t(lang, Text::Proof2)) } th scope="col" { (t(lang, Text::Certificate)) } th scope="col" { (t(lang, Text::CheckedByYourBrowser)) } } }
                            tbody {
                                // Newest first: the decision that stands now at the top (the
                                // export keeps the log's order).
                                @for (p, anchored) in v.proofs.iter().rev() {
                                    tr data-monitor-url={ "/portal/proofs/" (p.id.as_str()) } {
                                        td { (when(p.recorded_at)) }
                                        td { (p.purpose) }
                                        td { (decision_word(lang, p.decision.into())) }
                                        td { a href={ "/portal/proofs/" (p.id.as_str()) } { "JSON" } " · " a href={ "/portal/proofs/" (p.id.as_str()) ".pdf" } { "PDF" } }
                                        td {
                                            @if *anchored {
                                                a href={ "/portal/proofs/" (p.id.as_str()) "/certificate" } { "JSON" } " · " a href={ "/portal/proofs/" (p.id.as_str()) "/certificate.pdf" } { "PDF" }
                                            } @else if state.anchoring.configured() {
                                                (t(lang, Text::PendingTheDailyAnchor))
                                            } @else {
                                                // No anchoring on this service: no promise of a certificate.
                                                (t(lang, Text::NoCertificateOnThisService))
                                            }
                                        }
                                        td { span.monitor-status {} }
                                    }
                                }
                            }
                        }
                    }
                }
                h3 { (t(lang, Text::AccessHistory)) }
                @if v.events.is_empty() { p { (t(lang, Text::NoAccessToYour)) } }
                @else {
                    div.table-wrap tabindex="0" {
                        table {
                            thead { tr { th scope="col" { (t(lang, Text::Date)) } th scope="col" { (t(lang, Text::Event)) } th scope="col" { (t(lang, Text::Purpose2)) } th scope="col" { (t(lang, Text::Fields)) } th scope="col" { (t(lang, Text::By)) } th scope="col" { (t(lang, Text::InclusionProof)) } th scope="col" { (t(lang, Text::CheckedByYourBrowser)) } } }
                            tbody {
                                @for (index, e, entry) in &v.events {
                                    tr data-monitor-entry=(entry) {
                                        td { (when(e.body.recorded_at.unix_millis())) }
                                        td { (event_word(lang, e.body.kind)) }
                                        td { (e.body.purpose.clone().unwrap_or_default()) }
                                        td { (e.body.fields.join(", ")) }
                                        td { @if e.body.actor == "portal" { (t(lang, Text::You)) } @else { (v.tenant_name) " (" code { (e.body.actor) } ")" } }
                                        td { a href={ "/v1/log/proof/inclusion?index=" (index) "&size=" (size) } { (t(lang, Text::LogEntry)) (index) } }
                                        td { span.monitor-status {} }
                                    }
                                }
                            }
                        }
                    }
                }
                @if v.identity.is_some() {
                    h3 { (t(lang, Text::EraseMyData)) }
                    form method="post" action="/portal/erase" {
                        (hidden(&auth, v))
                        p { (t(lang, Text::TheKeyThatEncrypts)) }
                        label { input type="checkbox" name="confirm" value="yes" required; " " (t(lang, Text::IUnderstandEraseMy)) }
                        button.danger type="submit" { (t(lang, Text::EraseForGood)) }
                    }
                }
            }
        }
    };
    let res = page_with(
        lang,
        StatusCode::OK,
        t(lang, Text::YourDataAndConsents),
        true,
        monitor_head,
        body,
    );
    Ok(remember_lang(res, &q))
}

// ---------------------------------------------------------------------------------------
// Actions.

/// A form acting on one sender's record. Every member defaults so that a missing CSRF
/// token is answered 403 (checked first), not as a malformed form.
#[derive(Deserialize, Default)]
pub struct ActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    tenant: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    address: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    confirm: String,
}

impl std::fmt::Debug for ActionForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ActionForm { .. }")
    }
}

/// Checks the token, then that the session reaches the record named; `None`: refused.
fn authorise(auth: &PortalAuth, form: &ActionForm) -> Option<(TenantId, SubjectId)> {
    if !auth.check_csrf(&form.csrf) {
        return None;
    }
    let tenant = TenantId::parse(&form.tenant).ok()?;
    let subject = SubjectId::parse(&form.subject).ok()?;
    auth.reaches(&tenant, &subject).then_some((tenant, subject))
}

fn erased_page(lang: Language) -> Response {
    page(
        lang,
        StatusCode::GONE,
        t(lang, Text::DataErased),
        true,
        html! { p { (t(lang, Text::YourDataAtThis)) } p { a href="/portal/me" { (t(lang, Text::BackToYourSpace)) } } },
    )
}

fn bad_value(lang: Language, what: String) -> Response {
    page(
        lang,
        StatusCode::UNPROCESSABLE_ENTITY,
        t(lang, Text::ValueRefused),
        true,
        html! { p { (what) } p { a href="/portal/me" { (t(lang, Text::BackToYourSpace)) } } },
    )
}

fn clean(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// `POST /portal/amend`: re-encrypts the identity with the new name, address and phone
/// under the subject's key, and logs a `data.amended` event naming the fields changed.
pub async fn amend(
    State(state): State<AppState>,
    Session(auth, lang): Session,
    ApiForm(form): ApiForm<ActionForm>,
) -> Result<Response, Problem> {
    let Some((tenant, subject)) = authorise(&auth, &form) else {
        return Ok(forbidden(lang));
    };
    let (name, address, phone) = (clean(form.name), clean(form.address), clean(form.phone));
    for (what, v, max) in [
        ("name", &name, 200),
        ("address", &address, 500),
        ("phone", &phone, 40),
    ] {
        if v.as_ref()
            .is_some_and(|s| s.chars().count() > max || s.chars().any(|c| c.is_control()))
        {
            return Ok(bad_value(
                lang,
                format!("{what}: {max} characters at most, no control characters"),
            ));
        }
    }
    let Some(contact) = state.store.contact(&tenant, &subject).await? else {
        return Ok(forbidden(lang));
    };
    let (Some(wrapped), Some(sealed)) = (contact.wrapped_key, contact.identity) else {
        return Ok(erased_page(lang));
    };
    let keys = state.tenant_keys(&tenant);
    let key = keys
        .unwrap_subject_key(&subject, &WrappedKey::from_bytes(wrapped))
        .map_err(Problem::unavailable)?;
    let old = key
        .open(&tenant, &subject, &sealed)
        .map_err(Problem::unavailable)?;
    let mut new = old.clone();
    new.name = name;
    new.address = address;
    new.phone = phone;
    let mut fields = Vec::new();
    for (f, changed) in [
        ("name", old.name != new.name),
        ("address", old.address != new.address),
        ("phone", old.phone != new.phone),
    ] {
        if changed {
            fields.push(f.to_owned());
        }
    }
    if fields.is_empty() {
        return Ok(Redirect::to("/portal/me").into_response());
    }
    let resealed = key.seal(
        &mut consentry_ledger::random::rng(),
        &tenant,
        &subject,
        &new,
    );
    // The new identity and its `data.amended` entry commit in one transaction, and only
    // if the identity is still the one read (no concurrent change lost).
    let outcome = state
        .ledger
        .amend(
            On {
                tenant: tenant.clone(),
                subject: subject.clone(),
                actor: "portal".to_owned(),
            },
            fields,
            sealed,
            resealed,
        )
        .await;
    match outcome {
        Ok(AmendOutcome::Amended { event }) => {
            let index = event.event.body.log_index;
            tracing::info!(%subject, index, "portal: data amended");
            Ok(Redirect::to("/portal/me?done=amended").into_response())
        }
        Ok(AmendOutcome::Changed) => Ok(Redirect::to("/portal/me").into_response()),
        Err(SubmitError::UnknownContact) => Ok(forbidden(lang)),
        Err(SubmitError::Erased) => Ok(erased_page(lang)),
        Err(e) => Err(Problem::unavailable(e)),
    }
}

/// `POST /portal/revoke`: withdraws a granted consent with a new `revoked` proof.
pub async fn revoke(
    State(state): State<AppState>,
    Session(auth, lang): Session,
    ApiForm(form): ApiForm<ActionForm>,
) -> Result<Response, Problem> {
    let Some((tenant, subject)) = authorise(&auth, &form) else {
        return Ok(forbidden(lang));
    };
    let statuses = state
        .store
        .statuses(&tenant, std::slice::from_ref(&subject))
        .await?;
    if !statuses
        .iter()
        .any(|s| s.purpose == form.purpose && s.status == ConsentState::Granted)
    {
        return Ok(page(
            lang,
            StatusCode::CONFLICT,
            t(lang, Text::NothingToWithdraw),
            true,
            html! { p { (t(lang, Text::ThereIsNoGranted)) } p { a href="/portal/me" { (t(lang, Text::BackToYourSpace)) } } },
        ));
    }
    let now = state.clock.now_ms();
    let id = ProofId::from_suffix(&consentry_ledger::random::id_suffix(now))
        .map_err(Problem::unavailable)?;
    let draft = ProofDraft {
        id: id.clone(),
        tenant,
        subject: subject.clone(),
        purpose: form.purpose,
        decision: Decision::Revoked,
        method: Method::Portal,
        recipient: None,
        notice: None,
        evidence: None,
        request: None,
        link: None,
        valid_days: None,
        given_at: None,
    };
    match state.ledger.record(draft).await {
        Ok(sealed) => {
            tracing::info!(%subject, proof = %id, index = sealed.proof.body.log_index, "portal: consent revoked");
            Ok(Redirect::to("/portal/me?done=revoked").into_response())
        }
        Err(SubmitError::Erased) => Ok(erased_page(lang)),
        Err(SubmitError::UnknownContact) => Ok(forbidden(lang)),
        Err(e) => Err(Problem::unavailable(e)),
    }
}

/// `POST /portal/grant`: grants a purpose the sender currently asks for — one of its
/// requests to this person is pending, its window open. The rule is the simplest sound
/// one: the person answers that request here as from the e-mail's link (a delegated
/// answer naming the request, claimed in the append transaction: still pending, window
/// open), so the request closes, the book follows and the sender's webhook fires. No
/// pending request for the purpose: 409, nothing recorded.
pub async fn grant(
    State(state): State<AppState>,
    Session(auth, lang): Session,
    ApiForm(form): ApiForm<ActionForm>,
) -> Result<Response, Problem> {
    let Some((tenant, subject)) = authorise(&auth, &form) else {
        return Ok(forbidden(lang));
    };
    let now = state.clock.now_ms();
    let asked = state
        .store
        .subject_requests(&tenant, &subject)
        .await?
        .into_iter()
        .find(|r| {
            r.purpose == form.purpose && r.status == RequestStatus::Pending && r.expires_at > now
        });
    let not_asked = || {
        page(
            lang,
            StatusCode::CONFLICT,
            t(lang, Text::NothingToGrant),
            true,
            html! { p { (t(lang, Text::TheSenderDoesNotAsk)) } p { a href="/portal/me" { (t(lang, Text::BackToYourSpace)) } } },
        )
    };
    let Some(r) = asked else {
        return Ok(not_asked());
    };
    let id = ProofId::from_suffix(&consentry_ledger::random::id_suffix(now))
        .map_err(Problem::unavailable)?;
    let draft = crate::requests::answer_draft(&r, id.clone(), Decision::Granted, None);
    match state.ledger.record(draft).await {
        Ok(sealed) => {
            tracing::info!(%subject, request = %r.id, proof = %id, index = sealed.proof.body.log_index, "portal: consent granted");
            Ok(Redirect::to("/portal/me?done=granted").into_response())
        }
        Err(SubmitError::NotPending) => Ok(not_asked()),
        Err(SubmitError::Erased) => Ok(erased_page(lang)),
        Err(SubmitError::UnknownContact) => Ok(forbidden(lang)),
        Err(e) => Err(Problem::unavailable(e)),
    }
}

/// `POST /portal/erase`: crypto-shreds the person's record at one sender (the same
/// erasure as the API's), with a `data.erased` event.
pub async fn erase(
    State(state): State<AppState>,
    Session(auth, lang): Session,
    ApiForm(form): ApiForm<ActionForm>,
) -> Result<Response, Problem> {
    let Some((tenant, subject)) = authorise(&auth, &form) else {
        return Ok(forbidden(lang));
    };
    if form.confirm != "yes" {
        return Ok(bad_value(
            lang,
            t(lang, Text::TickTheConfirmationBox).to_owned(),
        ));
    }
    // The same erasure as `POST /v1/contacts/{id}/erase`: decided and written in the
    // sequencer's append transaction, with its `data.erased` entry.
    let on = On {
        tenant,
        subject: subject.clone(),
        actor: "portal".to_owned(),
    };
    match state.ledger.erase(on).await {
        Ok(EraseOutcome::Erased { event }) => {
            if let Err(e) = state.store.flush_erasures().await {
                tracing::warn!(error = %e, "erasure: truncating the write-ahead log failed; retried every second");
            }
            tracing::info!(%subject, index = event.event.body.log_index, "portal: data erased");
            Ok(Redirect::to("/portal/me?done=erased").into_response())
        }
        Ok(EraseOutcome::AlreadyErased) => Ok(erased_page(lang)),
        Err(SubmitError::UnknownContact) => Ok(forbidden(lang)),
        Err(e) => Err(Problem::unavailable(e)),
    }
}

/// The CSRF-only form (export, logout).
#[derive(Deserialize, Default)]
pub struct TokenForm {
    #[serde(default)]
    csrf: String,
}

fn entry_json(entry: &[u8]) -> Result<Value, Problem> {
    serde_json::from_slice(entry).map_err(Problem::unavailable)
}

/// `POST /portal/export`: everything about the person, as one JSON document (GDPR
/// portability): per sender, the identity data, attributes, consent states, every proof
/// (sealed, as the log holds it) and the access history (sealed events, with their
/// inclusion proof links).
pub async fn export(
    State(state): State<AppState>,
    Session(auth, lang): Session,
    ApiForm(form): ApiForm<TokenForm>,
) -> Result<Response, Problem> {
    if !auth.check_csrf(&form.csrf) {
        return Ok(forbidden(lang));
    }
    let size = log_size(&state).await?;
    let mut senders = Vec::new();
    for v in sender_views(&state, &auth).await? {
        let mut proofs = Vec::new();
        for (p, _) in &v.proofs {
            if let Some((_, entry)) = state
                .store
                .subject_proof(&v.tenant, &v.subject, &p.id)
                .await?
            {
                proofs.push(entry_json(&entry)?);
            }
        }
        let history: Vec<Value> = v
            .events
            .iter()
            .map(|(index, e, _)| {
                json!({
                    "event": e,
                    "inclusion_proof": format!("/v1/log/proof/inclusion?index={index}&size={size}"),
                })
            })
            .collect();
        senders.push(json!({
            "sender": {"id": v.tenant.as_str(), "name": v.tenant_name},
            "subject": v.subject.as_str(),
            "erased": v.identity.is_none(),
            "identity": v.identity.as_ref().map(|i| json!({
                "email": i.email, "name": i.name, "address": i.address, "phone": i.phone, "fields": i.fields,
            })),
            "attributes": v.attributes,
            "consents": v.statuses.iter().map(|s| json!({
                "purpose": s.purpose,
                "status": s.status,
                "proof_id": s.proof_id.as_ref().map(|p| p.as_str()),
                "log_index": s.log_index,
                "updated_at": consentry_core::time::Timestamp::from_unix_millis(s.updated_at).ok(),
                "valid_until": s.valid_until.and_then(|u| consentry_core::time::Timestamp::from_unix_millis(u).ok()),
            })).collect::<Vec<_>>(),
            "proofs": proofs,
            "access_history": history,
        }));
    }
    let now = state.clock.now_ms();
    let doc = json!({
        "type": "consentry.portal-export/v1",
        "exported_at": consentry_core::time::Timestamp::from_unix_millis(now).ok(),
        "log": state.origin.as_ref(),
        "log_size": size,
        "senders": senders,
    });
    let body = serde_json::to_vec_pretty(&doc).map_err(Problem::unavailable)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"consentry-export.json\"",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response())
}

/// `POST /portal/logout`: ends the session and clears the cookie.
pub async fn logout(
    State(state): State<AppState>,
    Session(auth, lang): Session,
    ApiForm(form): ApiForm<TokenForm>,
) -> Result<Response, Problem> {
    if !auth.check_csrf(&form.csrf) {
        return Ok(forbidden(lang));
    }
    state.store.delete_portal_session(&auth.id_hash).await?;
    let mut res = Redirect::to("/portal").into_response();
    let cookie = HeaderValue::from_str(&Principal::Person.set_cookie(&state, None))
        .map_err(Problem::unavailable)?;
    res.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(res)
}

// ---------------------------------------------------------------------------------------
// Downloads.

/// The session's proof `id` (JSON, or PDF with `.pdf`), with its sender's name.
async fn own_proof(
    state: &AppState,
    auth: &PortalAuth,
    raw: &str,
) -> Result<Option<(ProofId, String, Vec<u8>)>, Problem> {
    let Ok(id) = ProofId::parse(raw) else {
        return Ok(None);
    };
    for (tenant, subject) in &auth.session.subjects {
        if let Some((_, entry)) = state.store.subject_proof(tenant, subject, &id).await? {
            let name = state
                .store
                .tenant(tenant)
                .await?
                .map(|t| t.name)
                .unwrap_or_default();
            return Ok(Some((id, name, entry)));
        }
    }
    Ok(None)
}

/// `GET /portal/proofs/{id}` (JSON) and `GET /portal/proofs/{id}.pdf`: one of the
/// person's own proofs.
pub async fn proof(
    State(state): State<AppState>,
    Session(auth, lang): Session,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let (raw, format) = match id.strip_suffix(".pdf") {
        Some(stem) => (stem, Format::Pdf),
        None => (id.strip_suffix(".json").unwrap_or(&id), Format::Json),
    };
    own_download(&state, &auth, lang, raw, Document::Proof, format).await
}

/// One of the person's own proofs (else 404), as `document` in `format`.
async fn own_download(
    state: &AppState,
    auth: &PortalAuth,
    lang: Language,
    raw_id: &str,
    document: Document,
    format: Format,
) -> Result<Response, Problem> {
    let Some((id, sender_name, entry)) = own_proof(state, auth, raw_id).await? else {
        return Err(Problem::not_found("proof"));
    };
    Download {
        id: &id,
        entry: &entry,
        sender_name: &sender_name,
        document,
        format,
        lang,
        disposition: Disposition::Inline,
    }
    .respond(state)
    .await
}

/// `GET /portal/proofs/{id}/certificate`: the certificate of one of the person's proofs
/// (409 while pending).
pub async fn certificate(
    State(state): State<AppState>,
    Session(auth, lang): Session,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    own_download(
        &state,
        &auth,
        lang,
        &id,
        Document::Certificate,
        Format::Json,
    )
    .await
}

/// `GET /portal/proofs/{id}/certificate.pdf`.
pub async fn certificate_pdf(
    State(state): State<AppState>,
    Session(auth, lang): Session,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    own_download(&state, &auth, lang, &id, Document::Certificate, Format::Pdf).await
}

/// The sign-in link's lifetime, as the pages say it (15 minutes).
const _: () = assert!(LOGIN_TTL_MS == 15 * 60 * 1000);
