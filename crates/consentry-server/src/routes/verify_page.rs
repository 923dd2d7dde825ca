//! The public `/verify` page: anyone drops or pastes a proof or certificate and it is
//! verified *in their browser*, by the core's own checks compiled to WebAssembly
//! (`crates/consentry-wasm`). Nothing is uploaded: an auditor need not trust this server
//! with the document, nor trust its answer — the page only hands them the verifier.
//!
//! Three routes: the page (HTML, French or English by `Accept-Language`), its script and
//! the `.wasm`. Both assets are compiled into the binary (`assets/verify/`), so serving
//! the page needs no wasm toolchain; `scripts/build-wasm` rebuilds the `.wasm`
//! reproducibly and `scripts/build-wasm --check` tells when it is stale.
//!
//! The page is locked down by its Content-Security-Policy: scripts only from this origin
//! (and WebAssembly compilation), `connect-src 'self'` (the one fetch is the `.wasm`), no
//! inline script, the one inline style allowed by its hash, no form submission, no
//! framing. Assets are addressed by content hash (`?h=…`) so that they can be cached for
//! a year without ever serving a stale verifier after an upgrade.

use crate::i18n::accept_language as language;
use crate::i18n::{Text, t};
use crate::page;
use crate::state::AppState;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use consentry_pdf::Language;
use maud::{Markup, html};
use sha2::{Digest as _, Sha256};
use std::sync::LazyLock;

/// The verifier module, built by `scripts/build-wasm`.
const WASM: &[u8] = include_bytes!("../../assets/verify/consentry_verify.wasm");
/// The page's script.
const SCRIPT: &str = include_str!("../../assets/verify/verify.js");
/// The page's style sheet, inlined (allowed by its hash in the policy).
const CSS: &str = include_str!("../../assets/verify/verify.css");
/// The log monitor's script, shared by this page and the portal.
const MONITOR: &str = include_str!("../../assets/verify/monitor.js");

/// Path of the script.
const SCRIPT_PATH: &str = "/verify/verify.js";
/// Path of the module.
const WASM_PATH: &str = "/verify/consentry_verify.wasm";
/// Path of the monitor's script.
const MONITOR_PATH: &str = "/verify/monitor.js";

/// Content hashes, computed once: the `?h=` version of each asset's URL, the script's
/// Subresource Integrity value, and the style's CSP hash.
struct Hashes {
    wasm_version: String,
    script_version: String,
    script_integrity: String,
    monitor_version: String,
    monitor_integrity: String,
    policy: page::Policy,
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// The first 16 hex digits of SHA-256: enough to tell versions apart in a URL.
fn version(bytes: &[u8]) -> String {
    hex::encode(&sha256(bytes)[..8])
}

static HASHES: LazyLock<Hashes> = LazyLock::new(|| {
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(sha256(bytes));
    Hashes {
        wasm_version: version(WASM),
        script_version: version(SCRIPT.as_bytes()),
        script_integrity: format!("sha256-{}", b64(SCRIPT.as_bytes())),
        monitor_version: version(MONITOR.as_bytes()),
        monitor_integrity: format!("sha256-{}", b64(MONITOR.as_bytes())),
        policy: page::Policy::new(
            page::Styles::Inline(CSS),
            page::Scripts::FilesAndWasm,
            page::Forms::Nowhere,
        ),
    }
});

/// The words the script shows, in the page's language: one source of translations, in
/// Rust, handed to the script through a `data-` attribute (no inline script).
fn script_text(lang: Language) -> serde_json::Value {
    let t = |text: Text| serde_json::Value::from(text.get(lang));
    serde_json::json!({
        "loading": t(Text::LoadingTheVerifier),
        "load_failed": t(Text::TheVerifierCould),
        "verifying": t(Text::Verifying),
        "empty": t(Text::PasteADocument),
        "crashed": t(Text::TheVerifierStopped),
        "file": t(Text::File2),
        "valid": t(Text::Valid),
        "invalid": t(Text::Invalid),
        "unusable": t(Text::UnusableDocument),
        "valid_detail": t(Text::NoCheckFailed),
        "untrusted": t(Text::Untrusted),
        "untrusted_detail": t(Text::UntrustedDetail),
        "invalid_detail": t(Text::ACheckFailed),
        "unusable_detail": t(Text::ThisIsNot),
        "kind": {
            "proof": t(Text::Proof6),
            "certificate": t(Text::Certificate2),
            "tlog_proof": t(Text::TlogProof),
            "anchor_history": t(Text::AnchorHistory),
            "event": t(Text::LogEvent),
        },
        "from_link": t(Text::ProofFromTheLink),
        "bad_link": t(Text::TheLinkCarriesNo),
        "proven": {
            "sender": t(Text::ProvenSender),
            "purpose": t(Text::Purpose2),
            "decision": t(Text::Decision),
            "date": t(Text::Date),
            "valid_until": t(Text::ValidUntil),
            "decisions": {
                "granted": t(Text::ProvenGranted),
                "refused": t(Text::ProvenRefused),
                "revoked": t(Text::ProvenRevoked),
            },
        },
        "proof_id": t(Text::Proof7),
        "event_id": t(Text::Event2),
        "leaf_hash": t(Text::LogEntryHash),
        "anchored_by": t(Text::ExistedByVerified),
        "status": {
            "passed": t(Text::Passed),
            "failed": t(Text::Failed),
            "not_checked": t(Text::NotChecked),
            "untrusted": t(Text::NotRooted),
        },
        "checks": {
            "seal": t(Text::SealTheProof),
            "seal_key": t(Text::SealKey),
            "leaf_index": t(Text::PositionInThe),
            "checkpoint_signature": t(Text::CheckpointSignature),
            "log_key": t(Text::LogKey),
            "log_origin": t(Text::TheProofS),
            "inclusion": t(Text::InclusionInThe),
            "anchors": t(Text::Anchors),
            "anchor": t(Text::Anchor),
            "anchor_evm": t(Text::AnchorOnA),
            "anchor_rfc3161": t(Text::TimeStampRfc),
            "consistency": t(Text::ConsistencyOfThe),
        },
    })
}

/// The serving operator's keys, pinned by default (the page says so): the current and
/// rotated-away seal keys (base64, fingerprint), the log's current and retired verifier
/// keys, and both as the JSON the verifier reads.
fn pinned(state: &AppState) -> (Vec<(String, String)>, Vec<String>, String) {
    let seal: Vec<(String, String)> = state
        .keys
        .seal_public_keys()
        .iter()
        .map(|k| (k.to_base64(), k.fingerprint()))
        .collect();
    let mut log = vec![state.keys.log.verifier_key()];
    log.extend(state.keys.retired_log.iter().cloned());
    let pins = serde_json::json!({
        "seal": seal.iter().map(|(b64, _)| b64).collect::<Vec<_>>(),
        "log": log,
    })
    .to_string();
    (seal, log, pins)
}

/// The words the monitor's script shows, in the page's language (`{size}`, `{old}`,
/// `{date}`, `{problem}`, `{names}` are filled in by the script).
fn monitor_text(lang: Language) -> serde_json::Value {
    let t = |text: Text| serde_json::Value::from(text.get(lang));
    serde_json::json!({
        "checking": t(Text::MonitorChecking),
        "failed": t(Text::MonitorFailed),
        "first": t(Text::MonitorFirst),
        "same": t(Text::MonitorSame),
        "extends": t(Text::MonitorExtends),
        "older": t(Text::MonitorOlder),
        "inconsistent": t(Text::MonitorInconsistent),
        "invalid": t(Text::MonitorInvalid),
        "cosigned": t(Text::MonitorCosigned),
        "not_witnessed": t(Text::MonitorNotWitnessed),
        "entry_included": t(Text::MonitorEntryIncluded),
        "entry_pending": t(Text::MonitorEntryPending),
        "entry_failed": t(Text::MonitorEntryFailed),
    })
}

/// The log monitor of a page (see `assets/verify/monitor.js`): the `<script>` for the
/// page's head, and the section that shows what the browser checked. `latest`: check the
/// log's latest checkpoint as the page loads. The page's policy must be
/// `Scripts::FilesAndWasm`. Entries the page wants checked carry `data-monitor-url` or
/// `data-monitor-entry`, and a `.monitor-status` element.
pub(crate) fn monitor(state: &AppState, lang: Language, latest: bool) -> (Markup, Markup) {
    let hashes = &*HASHES;
    let (_, _, pins) = pinned(state);
    let witnesses: Vec<String> = state
        .config
        .witnesses
        .witnesses
        .iter()
        .map(|w| w.key.to_verifier_key())
        .collect();
    let head = html! {
        script src={ (MONITOR_PATH) "?h=" (hashes.monitor_version) } integrity=(hashes.monitor_integrity) defer {}
    };
    let section = html! {
        section #monitor.monitor
            aria-live="polite"
            data-wasm={ (WASM_PATH) "?h=" (hashes.wasm_version) }
            data-keys=(pins)
            data-witnesses=(serde_json::Value::from(witnesses).to_string())
            data-text=(monitor_text(lang).to_string())
            data-latest=(if latest { "true" } else { "false" }) {
            h2 { (t(lang, Text::MonitorHeading)) }
            p.monitor-line { (t(lang, Text::MonitorNoScript)) }
            p.monitor-witnesses {}
        }
    };
    (head, section)
}

/// `GET /verify`: the page.
pub async fn page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let lang = language(&headers);
    let (seal, log, pins) = pinned(&state);
    let hashes = &*HASHES;
    let (monitor_head, monitor_section) = monitor(&state, lang, true);
    let title = t(lang, Text::VerifyAProofOr);
    let head = html! {
        // No icon: otherwise the browser fetches /favicon.ico, and the page is meant to
        // fetch nothing but its script and module.
        link rel="icon" href="data:,";
        (page::inline_style(CSS))
        script src={ (SCRIPT_PATH) "?h=" (hashes.script_version) } integrity=(hashes.script_integrity) defer {}
        (monitor_head)
    };
    let body = html! {
        main #app
            data-wasm={ (WASM_PATH) "?h=" (hashes.wasm_version) }
            data-text=(script_text(lang).to_string())
            data-keys=(pins) {
            h1 { (title) }
            p { (t(lang, Text::ThisPageChecksA)) }
            noscript { p.warning { (t(lang, Text::VerificationRunsInYour)) } }
            form #form novalidate {
                div #drop.drop {
                    label for="file" { (t(lang, Text::ChooseAJsonFile)) }
                    input #file type="file" accept=".json,application/json,text/plain" aria-describedby="drop-hint";
                    p #drop-hint.hint { (t(lang, Text::OrDropItIn)) }
                }
                label for="doc" { (t(lang, Text::OrPasteTheDocument)) }
                textarea #doc rows="10" spellcheck="false" autocomplete="off" autocapitalize="off" aria-describedby="doc-hint" {}
                p #doc-hint.hint { (t(lang, Text::CtrlEnterVerifiesToo)) }
                div.actions {
                    button #verify type="submit" { (t(lang, Text::Verify)) }
                    button #clear type="reset" { (t(lang, Text::Clear)) }
                }
            }
            section #pins {
                p #pinned {
                    (t(lang, Text::KeysPinnedThisService))
                    @for (_, fpr) in &seal { " " code { (fpr) } }
                    " — " (t(lang, Text::LogKeyWord))
                    @for k in &log { " " code { (k) } }
                }
                details {
                    summary { (t(lang, Text::TrustAnotherOperator)) }
                    label for="keys" { (t(lang, Text::PasteItsWellKnown)) }
                    textarea #keys rows="4" spellcheck="false" autocomplete="off" autocapitalize="off" {}
                }
            }
            section #result aria-live="polite" aria-atomic="true" tabindex="-1" hidden {
                h2 #verdict {}
                section #proven hidden {
                    h3 { (t(lang, Text::WhatThisDocumentProves)) }
                    dl #proven-list {}
                }
                p #summary {}
                p #meta.meta {}
                ol #checks {}
            }
            p #status.status role="status" {}
            (monitor_section)
            h2 { (t(lang, Text::WhatThePageChecks)) }
            ul {
                li { (t(lang, Text::TheSealTheOperator)) }
                li { (t(lang, Text::ForACertificateThe)) }
                li { (t(lang, Text::ItsAnchorsOfflineThe)) }
                li { (t(lang, Text::KeysArePinned)) }
            }
        }
        footer { p { (t(lang, Text::ConsentryTheVerifierIs)) } }
    };
    let mut res = page::respond(
        StatusCode::OK,
        page::document(lang, title, head, body),
        &hashes.policy,
        page::Caching::Revalidate,
    );
    res.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Accept-Language"));
    res
}

/// A year, immutable, when the URL names this very content (`?h=` its hash); otherwise
/// revalidate, so that an old bookmark never pins an old verifier.
fn cache_control(query: Option<&str>, current: &str) -> HeaderValue {
    let named = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .any(|pair| pair.strip_prefix("h=") == Some(current));
    if named {
        HeaderValue::from_static("public, max-age=31536000, immutable")
    } else {
        HeaderValue::from_static("no-cache")
    }
}

fn asset(content_type: &'static str, cache: HeaderValue, body: &'static [u8]) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, cache),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        body,
    )
        .into_response()
}

/// `GET /verify/verify.js`: the page's script.
pub async fn script(RawQuery(query): RawQuery) -> Response {
    asset(
        "text/javascript; charset=utf-8",
        cache_control(query.as_deref(), &HASHES.script_version),
        SCRIPT.as_bytes(),
    )
}

/// `GET /verify/monitor.js`: the log monitor's script (this page's and the portal's).
pub async fn monitor_script(RawQuery(query): RawQuery) -> Response {
    asset(
        "text/javascript; charset=utf-8",
        cache_control(query.as_deref(), &HASHES.monitor_version),
        MONITOR.as_bytes(),
    )
}

/// `GET /verify/consentry_verify.wasm`: the verifier module.
pub async fn wasm(RawQuery(query): RawQuery) -> Response {
    asset(
        "application/wasm",
        cache_control(query.as_deref(), &HASHES.wasm_version),
        WASM,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_module_is_webassembly() {
        assert_eq!(&WASM[..4], b"\0asm", "assets/verify/consentry_verify.wasm");
    }

    #[test]
    fn only_the_current_hash_is_cached_for_long() {
        let v = &HASHES.wasm_version;
        let long = "public, max-age=31536000, immutable";
        assert_eq!(cache_control(Some(&format!("h={v}")), v), long);
        assert_eq!(cache_control(Some(&format!("x=1&h={v}")), v), long);
        assert_eq!(cache_control(Some("h=0000000000000000"), v), "no-cache");
        assert_eq!(cache_control(None, v), "no-cache");
    }

    #[test]
    fn the_policy_allows_the_inline_style_by_its_hash_and_no_inline_script() {
        let policy = HASHES.policy.as_str();
        let style = base64::engine::general_purpose::STANDARD.encode(sha256(CSS.as_bytes()));
        assert!(
            policy.contains(&format!("style-src 'sha256-{style}'")),
            "{policy}"
        );
        assert!(
            policy.contains("script-src 'self' 'wasm-unsafe-eval';"),
            "{policy}"
        );
        assert!(!policy.contains("unsafe-inline"), "{policy}");
    }

    #[test]
    fn every_word_the_script_shows_exists_in_both_languages() {
        fn shape(v: &serde_json::Value) -> Vec<String> {
            match v {
                serde_json::Value::Object(m) => m
                    .iter()
                    .flat_map(|(k, v)| shape(v).into_iter().map(move |s| format!("{k}.{s}")))
                    .collect(),
                serde_json::Value::String(s) => {
                    assert!(!s.is_empty());
                    vec![String::new()]
                }
                other => panic!("{other}"),
            }
        }
        assert_eq!(
            shape(&script_text(Language::Fr)),
            shape(&script_text(Language::En))
        );
    }
}
