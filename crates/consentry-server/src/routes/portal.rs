//! The self-service portal's pages: a person signs in with a one-time link e-mailed to
//! them and, for every sender that holds them as a contact, sees the identity data held
//! (decrypted for them alone), their consents with proofs and certificates, and every
//! access to their data with its log inclusion proof; they amend their data, revoke a
//! consent, erase their data (crypto-shredding) and export everything as JSON.
//!
//! Plain, accessible HTML in French or English (`?lang=`, remembered in a cookie, else
//! `Accept-Language`), escaped by construction (maud), no script and no external
//! resource; the Content-Security-Policy allows only the page's own style (by hash) and
//! forms posted to this origin. Every state-changing request is a POST form carrying the
//! session's synchronizer token ([`PortalAuth::check_csrf`]), checked before anything
//! else: a missing or wrong token is a 403 and changes nothing. Sessions are
//! [`crate::session`]'s; the sign-in limiter and the e-mail are in [`crate::portal`].

use crate::client::{ClientIp, foreign_origin};
use crate::downloads::{Disposition, Document, Download, Format};
use crate::i18n::accept_language;
use crate::i18n::{LANG_COOKIE, code, parse_lang, tr};
use crate::page;
use crate::portal::{LOGIN_TTL_MS, PortalAuth};
use crate::problem::{ApiForm, Problem};
use crate::session::{NewSession, Principal, secret_hash};
use crate::state::AppState;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use consentry_core::event::{EventType, SealedEvent};
use consentry_core::ids::{EventId, ProofId, SubjectId, TenantId};
use consentry_core::proof::{Decision, Method};
use consentry_ledger::{Action, EventDraft, EventOutcome as SeqOutcome, ProofDraft, SubmitError};
use consentry_pdf::Language;
use consentry_store::{LoginState, StatusRow, SubjectProof};
use consentry_vault::{Identity, WrappedKey, normalize_email};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::LazyLock;

const CSS: &str = "body{font-family:system-ui,sans-serif;max-width:52rem;margin:1.5rem auto;padding:0 1rem;line-height:1.5;color:#1a1a1a}\
h1{font-size:1.6rem}h2{font-size:1.3rem;margin-top:2rem;border-bottom:2px solid #ddd}h3{font-size:1.1rem}\
nav.lang{text-align:right}label{display:block;margin-top:.6rem;font-weight:600}\
input[type=text],input[type=email]{font-size:1rem;padding:.4rem;width:100%;max-width:30rem;box-sizing:border-box}\
button{font-size:1rem;padding:.5rem 1.1rem;margin-top:.6rem;border-radius:.4rem;border:2px solid #1a1a1a;background:#fff;cursor:pointer}\
button.primary{background:#1d4f91;color:#fff;border-color:#1d4f91}button.danger{color:#8b1d1d;border-color:#8b1d1d}\
button:focus-visible,a:focus-visible,input:focus-visible{outline:3px solid #f5a623;outline-offset:2px}\
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}\
.notice{background:#eef6ee;border-left:4px solid #1d6b2f;padding:.5rem 1rem}.warn{background:#fbeeee;border-left:4px solid #8b1d1d;padding:.5rem 1rem}\
section.sender{border:1px solid #ccc;border-radius:.5rem;padding:0 1rem 1rem;margin-top:1.5rem}code{word-break:break-all}\
footer{margin-top:3rem;color:#555;font-size:.9rem}form.inline{display:inline}";

/// The policy: nothing but the inline style above (by hash), forms posted here, no script.
static POLICY: LazyLock<page::Policy> = LazyLock::new(|| {
    page::Policy::new(
        page::Styles::Inline(CSS),
        page::Scripts::None,
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
    let body = html! {
        nav.lang aria-label=(tr(lang, "Langue", "Language")) {
            @if lang == Language::Fr { a href="?lang=en" lang="en" hreflang="en" { "English" } }
            @else { a href="?lang=fr" lang="fr" hreflang="fr" { "Français" } }
        }
        main {
            h1 { (title) }
            (body)
        }
        footer {
            @if !signed_in { p { a href="/portal" { (tr(lang, "Espace personnel Consentry", "Consentry personal space")) } } }
            p { (tr(lang, "Consentry : vos consentements, scellés et vérifiables.", "Consentry: your consents, sealed and verifiable.")) }
        }
    };
    page::respond(
        status,
        page::document(lang, title, page::inline_style(CSS), body),
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
        tr(lang, "Action refusée", "Action refused"),
        false,
        html! {
            p { (tr(lang, "Votre session a pris fin ou ce formulaire n'est plus valable. Rien n'a été modifié.", "Your session has ended or this form is no longer valid. Nothing was changed.")) }
            p { a href="/portal" { (tr(lang, "Se connecter de nouveau", "Sign in again")) } }
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
        tr(lang, "Votre espace personnel", "Your personal space"),
        false,
        html! {
            p { (tr(lang, "Voyez les données et les consentements que des expéditeurs tiennent à votre sujet, chaque accès à vos données, et gérez-les : corriger, retirer un consentement, effacer, exporter.", "See the data and consents senders hold about you and every access to your data, and manage them: correct, withdraw a consent, erase, export.")) }
            @if signed_in { p.notice { a href="/portal/me" { (tr(lang, "Vous êtes connecté : ouvrir votre espace", "You are signed in: open your space")) } } }
            form method="post" action="/portal/login" {
                label for="email" { (tr(lang, "Votre adresse e-mail", "Your e-mail address")) }
                input #email type="email" name="email" required autocomplete="email" maxlength="254";
                div { button.primary type="submit" { (tr(lang, "Recevoir un lien de connexion", "Send me a sign-in link")) } }
            }
            p { (tr(lang, "Nous vous enverrons un lien valable 15 minutes, utilisable une fois.", "We will e-mail you a link that works once, for 15 minutes.")) }
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
    ClientIp(ip): ClientIp,
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
            tr(lang, "Adresse non valable", "Not a valid address"),
            false,
            html! { p { (tr(lang, "Saisissez une adresse e-mail complète, par exemple nom@exemple.fr.", "Enter a complete e-mail address, for example name@example.com.")) } p { a href="/portal" { (tr(lang, "Retour", "Back")) } } },
        ));
    };
    let now = state.clock.now_ms();
    if !state.portal.allow_login(&normalized, ip, now) {
        let mut res = page(
            lang,
            StatusCode::TOO_MANY_REQUESTS,
            tr(lang, "Trop de demandes", "Too many requests"),
            false,
            html! { p { (tr(lang, "Trop de liens ont été demandés récemment pour cette adresse ou depuis votre connexion. Réessayez dans 15 minutes.", "Too many links were asked for recently for this address or from your connection. Try again in 15 minutes.")) } },
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
        tr(lang, "Vérifiez votre messagerie", "Check your e-mail"),
        false,
        html! {
            p { (tr(lang, "Si un expéditeur utilisant Consentry connaît cette adresse, nous venons d'y envoyer un lien de connexion. Il est valable 15 minutes et ne sert qu'une fois.", "If a sender using Consentry knows this address, we have just sent a sign-in link to it. It works once, for 15 minutes.")) }
            p { (tr(lang, "Rien reçu ? Vérifiez les indésirables, ou redemandez un lien dans quelques minutes.", "Nothing arrived? Check your spam folder, or ask for a new link in a few minutes.")) }
        },
    ))
}

fn link_closed(lang: Language, state: Option<LoginState>) -> Response {
    let (status, title, text) = match state {
        Some(LoginState::Used) => (
            StatusCode::GONE,
            tr(lang, "Lien déjà utilisé", "Link already used"),
            tr(
                lang,
                "Ce lien de connexion a déjà servi ; il ne sert qu'une fois. Demandez-en un nouveau.",
                "This sign-in link was used already; it works once. Ask for a new one.",
            ),
        ),
        Some(LoginState::Expired) => (
            StatusCode::GONE,
            tr(lang, "Lien expiré", "Link expired"),
            tr(
                lang,
                "Ce lien de connexion a expiré (il vaut 15 minutes). Demandez-en un nouveau.",
                "This sign-in link has expired (it lasts 15 minutes). Ask for a new one.",
            ),
        ),
        _ => (
            StatusCode::NOT_FOUND,
            tr(lang, "Lien non valable", "Invalid link"),
            tr(
                lang,
                "Ce lien ne correspond à aucune demande de connexion. Vérifiez qu'il est complet, ou demandez-en un nouveau.",
                "This link matches no sign-in request. Check that it is complete, or ask for a new one.",
            ),
        ),
    };
    page(
        lang,
        status,
        title,
        false,
        html! { p { (text) } p { a href="/portal" { (tr(lang, "Demander un nouveau lien", "Ask for a new link")) } } },
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
            tr(lang, "Connexion à votre espace", "Sign in to your space"),
            false,
            html! {
                p { (tr(lang, "Confirmez pour ouvrir votre espace personnel sur cet appareil. La session dure une heure.", "Confirm to open your personal space on this device. The session lasts one hour.")) }
                form method="post" {
                    button.primary type="submit" { (tr(lang, "Se connecter", "Sign in")) }
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
    tenant: TenantId,
    tenant_name: String,
    subject: SubjectId,
    identity: Option<Identity>,
    attributes: Value,
    statuses: Vec<StatusRow>,
    proofs: Vec<(SubjectProof, bool)>,
    events: Vec<(u64, SealedEvent)>,
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
            events.push((e.log_index, sealed));
        }
        out.push(SenderView {
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

fn decision_word(lang: Language, d: &str) -> &'static str {
    match d {
        "granted" => tr(lang, "accordé", "granted"),
        "refused" => tr(lang, "refusé", "refused"),
        "revoked" => tr(lang, "retiré", "withdrawn"),
        "pending" => tr(lang, "en attente de votre réponse", "awaiting your answer"),
        "expired" => tr(lang, "expiré", "expired"),
        _ => tr(lang, "inconnu", "unknown"),
    }
}

fn event_word(lang: Language, t: EventType) -> &'static str {
    match t {
        EventType::Access => tr(lang, "Accès accordé", "Access granted"),
        EventType::AccessDenied => tr(lang, "Accès refusé", "Access refused"),
        EventType::Amended => tr(lang, "Données corrigées", "Data amended"),
        EventType::Erased => tr(lang, "Données effacées", "Data erased"),
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
        Some("amended") => Some(tr(
            lang,
            "Vos données ont été corrigées.",
            "Your data was amended.",
        )),
        Some("revoked") => Some(tr(
            lang,
            "Votre consentement a été retiré ; la preuve du retrait est ci-dessous.",
            "Your consent was withdrawn; the proof of withdrawal is below.",
        )),
        Some("erased") => Some(tr(
            lang,
            "Vos données ont été effacées : la clé qui les chiffrait est détruite.",
            "Your data was erased: the key that encrypted it is destroyed.",
        )),
        _ => None,
    };
    let body = html! {
        @if let Some(d) = done { p.notice role="status" { (d) } }
        p { (tr(lang, "Session ouverte jusqu'au ", "Signed in until ")) (when(auth.session.expires_at)) "." }
        div {
            form.inline method="post" action="/portal/export" {
                input type="hidden" name="csrf" value=(auth.session.csrf);
                button type="submit" { (tr(lang, "Exporter toutes mes données (JSON)", "Export all my data (JSON)")) }
            }
            " "
            form.inline method="post" action="/portal/logout" {
                input type="hidden" name="csrf" value=(auth.session.csrf);
                button type="submit" { (tr(lang, "Se déconnecter", "Sign out")) }
            }
        }
        @if views.is_empty() { p { (tr(lang, "Aucun expéditeur ne détient plus de données à votre sujet.", "No sender holds data about you any more.")) } }
        @for v in &views {
            section.sender aria-labelledby={ "s-" (v.subject.as_str()) } {
                h2 id={ "s-" (v.subject.as_str()) } { (v.tenant_name) }
                p { (tr(lang, "Votre pseudonyme chez cet expéditeur : ", "Your pseudonym at this sender: ")) code { (v.subject.as_str()) } }
                h3 { (tr(lang, "Données d'identité détenues", "Identity data held")) }
                @match &v.identity {
                    None => p.warn { (tr(lang, "Vos données d'identité chez cet expéditeur ont été effacées : la clé qui les chiffrait est détruite et elles ne peuvent plus être lues par personne. Le registre ne garde que des empreintes.", "Your identity data at this sender was erased: the key that encrypted it is destroyed and nobody can read it any more. The ledger keeps only hashes.")) }
                    Some(id) => {
                        table {
                            tr { th scope="row" { (tr(lang, "E-mail", "E-mail")) } td { (id.email) } }
                            tr { th scope="row" { (tr(lang, "Nom", "Name")) } td { (id.name.clone().unwrap_or_default()) } }
                            tr { th scope="row" { (tr(lang, "Adresse postale", "Postal address")) } td { (id.address.clone().unwrap_or_default()) } }
                            tr { th scope="row" { (tr(lang, "Téléphone", "Phone")) } td { (id.phone.clone().unwrap_or_default()) } }
                            @for (k, val) in &id.fields { tr { th scope="row" { (k) } td { (val) } } }
                        }
                        @if v.attributes.as_object().is_some_and(|m| !m.is_empty()) {
                            p { (tr(lang, "Autres attributs : ", "Other attributes: ")) code { (v.attributes.to_string()) } }
                        }
                        details {
                            summary { (tr(lang, "Corriger mes données", "Amend my data")) }
                            form method="post" action="/portal/amend" {
                                (hidden(&auth, v))
                                label for={ "name-" (v.subject.as_str()) } { (tr(lang, "Nom", "Name")) }
                                input id={ "name-" (v.subject.as_str()) } type="text" name="name" maxlength="200" value=(id.name.clone().unwrap_or_default());
                                label for={ "address-" (v.subject.as_str()) } { (tr(lang, "Adresse postale", "Postal address")) }
                                input id={ "address-" (v.subject.as_str()) } type="text" name="address" maxlength="500" value=(id.address.clone().unwrap_or_default());
                                label for={ "phone-" (v.subject.as_str()) } { (tr(lang, "Téléphone", "Phone")) }
                                input id={ "phone-" (v.subject.as_str()) } type="text" name="phone" maxlength="40" value=(id.phone.clone().unwrap_or_default());
                                div { button.primary type="submit" { (tr(lang, "Enregistrer", "Save")) } }
                            }
                        }
                    }
                }
                h3 { (tr(lang, "Consentements", "Consents")) }
                @if v.statuses.is_empty() { p { (tr(lang, "Aucun consentement enregistré.", "No consent recorded.")) } }
                @else {
                    table {
                        thead { tr { th scope="col" { (tr(lang, "Finalité", "Purpose")) } th scope="col" { (tr(lang, "État", "State")) } th scope="col" { (tr(lang, "Depuis", "Since")) } th scope="col" { (tr(lang, "Action", "Action")) } } }
                        tbody {
                            @for st in &v.statuses {
                                tr {
                                    td { (st.purpose) }
                                    td { (decision_word(lang, &st.status)) @if let Some(u) = st.valid_until { br; small { (tr(lang, "jusqu'au ", "until ")) (when(u)) } } }
                                    td { (when(st.updated_at)) }
                                    td {
                                        @if st.status == "granted" && v.identity.is_some() {
                                            form method="post" action="/portal/revoke" {
                                                (hidden(&auth, v))
                                                input type="hidden" name="purpose" value=(st.purpose);
                                                button.danger type="submit" data-purpose=(st.purpose) { (tr(lang, "Retirer mon consentement", "Withdraw my consent")) }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                @if !v.proofs.is_empty() {
                    h3 { (tr(lang, "Preuves", "Proofs")) }
                    table {
                        thead { tr { th scope="col" { (tr(lang, "Date", "Date")) } th scope="col" { (tr(lang, "Finalité", "Purpose")) } th scope="col" { (tr(lang, "Décision", "Decision")) } th scope="col" { (tr(lang, "Preuve", "Proof")) } th scope="col" { (tr(lang, "Certificat", "Certificate")) } } }
                        tbody {
                            @for (p, anchored) in &v.proofs {
                                tr {
                                    td { (when(p.recorded_at)) }
                                    td { (p.purpose) }
                                    td { (decision_word(lang, &p.decision)) }
                                    td { a href={ "/portal/proofs/" (p.id.as_str()) } { "JSON" } " · " a href={ "/portal/proofs/" (p.id.as_str()) ".pdf" } { "PDF" } }
                                    td {
                                        @if *anchored {
                                            a href={ "/portal/proofs/" (p.id.as_str()) "/certificate" } { "JSON" } " · " a href={ "/portal/proofs/" (p.id.as_str()) "/certificate.pdf" } { "PDF" }
                                        } @else { (tr(lang, "en attente de l'ancrage quotidien", "pending the daily anchor")) }
                                    }
                                }
                            }
                        }
                    }
                }
                h3 { (tr(lang, "Historique des accès à vos données", "Access history")) }
                @if v.events.is_empty() { p { (tr(lang, "Aucun accès à vos données n'a été enregistré.", "No access to your data was recorded.")) } }
                @else {
                    table {
                        thead { tr { th scope="col" { (tr(lang, "Date", "Date")) } th scope="col" { (tr(lang, "Événement", "Event")) } th scope="col" { (tr(lang, "Finalité", "Purpose")) } th scope="col" { (tr(lang, "Champs", "Fields")) } th scope="col" { (tr(lang, "Par", "By")) } th scope="col" { (tr(lang, "Preuve d'inclusion", "Inclusion proof")) } } }
                        tbody {
                            @for (index, e) in &v.events {
                                tr {
                                    td { (when(e.body.recorded_at.unix_millis())) }
                                    td { (event_word(lang, e.body.kind)) }
                                    td { (e.body.purpose.clone().unwrap_or_default()) }
                                    td { (e.body.fields.join(", ")) }
                                    td { @if e.body.actor == "portal" { (tr(lang, "vous", "you")) } @else { (v.tenant_name) " (" code { (e.body.actor) } ")" } }
                                    td { a href={ "/v1/log/proof/inclusion?index=" (index) "&size=" (size) } { (tr(lang, "entrée n° ", "log entry ")) (index) } }
                                }
                            }
                        }
                    }
                }
                @if v.identity.is_some() {
                    h3 { (tr(lang, "Effacer mes données", "Erase my data")) }
                    form method="post" action="/portal/erase" {
                        (hidden(&auth, v))
                        p { (tr(lang, "La clé qui chiffre vos données chez cet expéditeur sera détruite : ni lui ni personne ne pourra plus les lire. Les preuves déjà scellées restent vérifiables mais ne vous désignent plus. C'est irréversible.", "The key that encrypts your data at this sender will be destroyed: neither they nor anyone else can read it again. Proofs already sealed stay verifiable but no longer point to you. This cannot be undone.")) }
                        label { input type="checkbox" name="confirm" value="yes" required; " " (tr(lang, "Je comprends, effacer mes données", "I understand, erase my data")) }
                        button.danger type="submit" { (tr(lang, "Effacer définitivement", "Erase for good")) }
                    }
                }
            }
        }
    };
    let res = page(
        lang,
        StatusCode::OK,
        tr(
            lang,
            "Vos données et vos consentements",
            "Your data and consents",
        ),
        true,
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
        tr(lang, "Données effacées", "Data erased"),
        true,
        html! { p { (tr(lang, "Vos données chez cet expéditeur sont déjà effacées ; il n'y a plus rien à modifier.", "Your data at this sender is already erased; there is nothing left to change.")) } p { a href="/portal/me" { (tr(lang, "Retour à votre espace", "Back to your space")) } } },
    )
}

fn bad_value(lang: Language, what: String) -> Response {
    page(
        lang,
        StatusCode::UNPROCESSABLE_ENTITY,
        tr(lang, "Valeur refusée", "Value refused"),
        true,
        html! { p { (what) } p { a href="/portal/me" { (tr(lang, "Retour à votre espace", "Back to your space")) } } },
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
        .amend(&tenant, &subject, "portal", fields, sealed, resealed)
        .await;
    match outcome {
        Ok(SeqOutcome::Amended { event }) => {
            let index = event.event.body.log_index;
            tracing::info!(%subject, index, "portal: data amended");
            Ok(Redirect::to("/portal/me?done=amended").into_response())
        }
        Ok(SeqOutcome::Changed) => Ok(Redirect::to("/portal/me").into_response()),
        Err(SubmitError::UnknownContact) => Ok(forbidden(lang)),
        Err(SubmitError::Erased) => Ok(erased_page(lang)),
        Ok(_) => Err(Problem::unavailable(
            "an amendment answered as another event",
        )),
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
        .any(|s| s.purpose == form.purpose && s.status == "granted")
    {
        return Ok(page(
            lang,
            StatusCode::CONFLICT,
            tr(lang, "Rien à retirer", "Nothing to withdraw"),
            true,
            html! { p { (tr(lang, "Aucun consentement accordé pour cette finalité n'est en cours.", "There is no granted consent for this purpose.")) } p { a href="/portal/me" { (tr(lang, "Retour à votre espace", "Back to your space")) } } },
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
            tr(
                lang,
                "Cochez la case de confirmation pour effacer vos données.",
                "Tick the confirmation box to erase your data.",
            )
            .to_owned(),
        ));
    }
    // The same erasure as `POST /v1/contacts/{id}/erase`: decided and written in the
    // sequencer's append transaction, with its `data.erased` entry.
    let draft = EventDraft {
        id: EventId::from_suffix(&consentry_ledger::random::id_suffix(state.clock.now_ms()))
            .map_err(Problem::unavailable)?,
        tenant,
        subject: subject.clone(),
        actor: "portal".to_owned(),
        action: Action::Erase,
    };
    match state.ledger.event(draft).await {
        Ok(SeqOutcome::Erased { event }) => {
            if let Err(e) = state.store.flush_erasures().await {
                tracing::warn!(error = %e, "erasure: truncating the write-ahead log failed; retried every second");
            }
            tracing::info!(%subject, index = event.event.body.log_index, "portal: data erased");
            Ok(Redirect::to("/portal/me?done=erased").into_response())
        }
        Ok(SeqOutcome::AlreadyErased) => Ok(erased_page(lang)),
        Ok(
            SeqOutcome::Revealed { .. }
            | SeqOutcome::Denied { .. }
            | SeqOutcome::Amended { .. }
            | SeqOutcome::Changed,
        ) => Err(Problem::unavailable(
            "an erasure was answered as another event",
        )),
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
            .map(|(index, e)| {
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
    let (raw, pdf) = match id.strip_suffix(".pdf") {
        Some(stem) => (stem, true),
        None => (id.strip_suffix(".json").unwrap_or(&id), false),
    };
    let Some((id, sender, entry)) = own_proof(&state, &auth, raw).await? else {
        return Err(Problem::not_found("proof"));
    };
    let format = if pdf { Format::Pdf } else { Format::Json };
    own_download(&state, lang, &id, &sender, &entry, Document::Proof, format).await
}

async fn own_download(
    state: &AppState,
    lang: Language,
    id: &ProofId,
    sender_name: &str,
    entry: &[u8],
    document: Document,
    format: Format,
) -> Result<Response, Problem> {
    Download {
        id,
        entry,
        sender_name,
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
    let Some((id, sender, entry)) = own_proof(&state, &auth, &id).await? else {
        return Err(Problem::not_found("proof"));
    };
    own_download(
        &state,
        lang,
        &id,
        &sender,
        &entry,
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
    let Some((id, sender, entry)) = own_proof(&state, &auth, &id).await? else {
        return Err(Problem::not_found("proof"));
    };
    own_download(
        &state,
        lang,
        &id,
        &sender,
        &entry,
        Document::Certificate,
        Format::Pdf,
    )
    .await
}

/// The sign-in link's lifetime, as the pages say it (15 minutes).
const _: () = assert!(LOGIN_TTL_MS == 15 * 60 * 1000);
