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
use crate::page;
use axum::extract::RawQuery;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use consentry_pdf::Language;
use maud::html;
use sha2::{Digest as _, Sha256};
use std::sync::LazyLock;

/// The verifier module, built by `scripts/build-wasm`.
const WASM: &[u8] = include_bytes!("../../assets/verify/consentry_verify.wasm");
/// The page's script.
const SCRIPT: &str = include_str!("../../assets/verify/verify.js");
/// The page's style sheet, inlined (allowed by its hash in the policy).
const CSS: &str = include_str!("../../assets/verify/verify.css");

/// Path of the script.
const SCRIPT_PATH: &str = "/verify/verify.js";
/// Path of the module.
const WASM_PATH: &str = "/verify/consentry_verify.wasm";

/// Content hashes, computed once: the `?h=` version of each asset's URL, the script's
/// Subresource Integrity value, and the style's CSP hash.
struct Hashes {
    wasm_version: String,
    script_version: String,
    script_integrity: String,
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
        policy: page::Policy::new(
            page::Styles::Inline(CSS),
            page::Scripts::FilesAndWasm,
            page::Forms::Nowhere,
        ),
    }
});

fn tr(lang: Language, fr: &'static str, en: &'static str) -> &'static str {
    match lang {
        Language::Fr => fr,
        Language::En => en,
    }
}

/// The words the script shows, in the page's language: one source of translations, in
/// Rust, handed to the script through a `data-` attribute (no inline script).
fn script_text(lang: Language) -> serde_json::Value {
    let t = |fr, en| serde_json::Value::from(tr(lang, fr, en));
    serde_json::json!({
        "loading": t("Chargement du vérificateur…", "Loading the verifier…"),
        "load_failed": t("Le vérificateur n'a pas pu être chargé : ", "The verifier could not be loaded: "),
        "verifying": t("Vérification…", "Verifying…"),
        "empty": t("Collez un document ou choisissez un fichier.", "Paste a document or choose a file."),
        "crashed": t("Le vérificateur s'est arrêté sur ce document : ", "The verifier stopped on this document: "),
        "file": t("Fichier : ", "File: "),
        "valid": t("Valide", "Valid"),
        "invalid": t("Non valide", "Invalid"),
        "unusable": t("Document inutilisable", "Unusable document"),
        "valid_detail": t("Aucune vérification n'a échoué.", "No check failed."),
        "invalid_detail": t("Une vérification a échoué : ", "A check failed: "),
        "unusable_detail": t("Ce n'est pas une preuve ou un certificat Consentry lisible : ", "This is not a readable Consentry proof or certificate: "),
        "kind": {
            "proof": t("preuve", "proof"),
            "certificate": t("certificat", "certificate"),
            "tlog_proof": t("preuve tlog-proof", "tlog-proof"),
            "anchor_history": t("historique des ancrages", "anchor history"),
            "event": t("événement du journal", "log event"),
        },
        "proof_id": t("Preuve ", "Proof "),
        "event_id": t("Événement ", "Event "),
        "leaf_hash": t("Empreinte dans le journal : ", "Log entry hash: "),
        "anchored_by": t("Existait au plus tard le (ancrage vérifié) : ", "Existed by (verified anchor): "),
        "status": {
            "passed": t("réussie", "passed"),
            "failed": t("échouée", "failed"),
            "not_checked": t("non vérifiée", "not checked"),
        },
        "checks": {
            "seal": t("Sceau (signature Ed25519 de la preuve)", "Seal (the proof's Ed25519 signature)"),
            "seal_key": t("Clé de scellement", "Seal key"),
            "leaf_index": t("Position dans le journal", "Position in the log"),
            "checkpoint_signature": t("Signature du point de contrôle", "Checkpoint signature"),
            "log_key": t("Clé du journal", "Log key"),
            "log_origin": t("Journal de la preuve", "The proof's log"),
            "inclusion": t("Inclusion dans le journal (RFC 9162)", "Inclusion in the log (RFC 9162)"),
            "anchors": t("Ancrages", "Anchors"),
            "anchor": t("Ancrage", "Anchor"),
            "anchor_evm": t("Ancrage dans une blockchain (EVM)", "Anchor on a blockchain (EVM)"),
            "anchor_rfc3161": t("Horodatage (RFC 3161)", "Time-stamp (RFC 3161)"),
            "consistency": t("Cohérence du journal (RFC 9162)", "Consistency of the log (RFC 9162)"),
        },
    })
}

/// `GET /verify`: the page.
pub async fn page(headers: HeaderMap) -> Response {
    let lang = language(&headers);
    let hashes = &*HASHES;
    let title = tr(
        lang,
        "Vérifier une preuve ou un certificat",
        "Verify a proof or certificate",
    );
    let head = html! {
        // No icon: otherwise the browser fetches /favicon.ico, and the page is meant to
        // fetch nothing but its script and module.
        link rel="icon" href="data:,";
        (page::inline_style(CSS))
        script src={ (SCRIPT_PATH) "?h=" (hashes.script_version) } integrity=(hashes.script_integrity) defer {}
    };
    let body = html! {
        main #app
            data-wasm={ (WASM_PATH) "?h=" (hashes.wasm_version) }
            data-text=(script_text(lang).to_string()) {
            h1 { (title) }
            p { (tr(lang,
                "Cette page vérifie une preuve (consentry.proof/v1) ou un certificat (consentry.certificate/v1) de Consentry dans votre navigateur, avec le même code que la commande « consentry verify ». Le document n'est envoyé nulle part.",
                "This page checks a Consentry proof (consentry.proof/v1) or certificate (consentry.certificate/v1) in your browser, with the same code as the \u{201c}consentry verify\u{201d} command. The document is sent nowhere.")) }
            noscript { p.warning { (tr(lang,
                "La vérification a lieu dans votre navigateur : elle demande JavaScript et WebAssembly. Sans eux, utilisez la commande « consentry verify FICHIER ».",
                "Verification runs in your browser: it needs JavaScript and WebAssembly. Without them, use the command \u{201c}consentry verify FILE\u{201d}.")) } }
            form #form novalidate {
                div #drop.drop {
                    label for="file" { (tr(lang, "Choisir un fichier JSON", "Choose a JSON file")) }
                    input #file type="file" accept=".json,application/json,text/plain" aria-describedby="drop-hint";
                    p #drop-hint.hint { (tr(lang, "… ou déposez-le dans ce cadre. Il est lu sur place, pas envoyé.", "… or drop it in this box. It is read here, not uploaded.")) }
                }
                label for="doc" { (tr(lang, "Ou collez le document", "Or paste the document")) }
                textarea #doc rows="10" spellcheck="false" autocomplete="off" autocapitalize="off" aria-describedby="doc-hint" {}
                p #doc-hint.hint { (tr(lang, "Ctrl+Entrée vérifie aussi.", "Ctrl+Enter verifies too.")) }
                div.actions {
                    button #verify type="submit" { (tr(lang, "Vérifier", "Verify")) }
                    button #clear type="reset" { (tr(lang, "Effacer", "Clear")) }
                }
            }
            section #result aria-live="polite" aria-atomic="true" tabindex="-1" hidden {
                h2 #verdict {}
                p #summary {}
                p #meta.meta {}
                ol #checks {}
            }
            p #status.status role="status" {}
            h2 { (tr(lang, "Ce que la page vérifie", "What the page checks")) }
            ul {
                li { (tr(lang, "le sceau : la signature Ed25519 de l'opérateur sur la forme canonique (RFC 8785) de la preuve ;", "the seal: the operator's Ed25519 signature over the proof's canonical form (RFC 8785);")) }
                li { (tr(lang, "pour un certificat : la signature du point de contrôle du journal, et le chemin d'inclusion RFC 9162 de la preuve jusqu'à sa racine ;", "for a certificate: the signature of the log's checkpoint, and the proof's RFC 9162 inclusion path up to its root;")) }
                li { (tr(lang, "ses ancrages, hors ligne : le jeton d'horodatage RFC 3161 ou la transaction de blockchain qui date le point de contrôle (pour une blockchain, comparez le hash du bloc affiché avec un nœud ou un explorateur) ;", "its anchors, offline: the RFC 3161 time-stamp token or the blockchain transaction that dates the checkpoint (for a blockchain, compare the block hash shown with a node or an explorer);")) }
                li { (tr(lang, "les clés ne sont pas comparées ici : comparez les empreintes affichées avec celles que l'opérateur publie (/.well-known/consentry.json), ou utilisez « consentry verify --seal-key --log-key ».", "keys are not compared here: compare the fingerprints shown with the ones the operator publishes (/.well-known/consentry.json), or use \u{201c}consentry verify --seal-key --log-key\u{201d}.")) }
            }
        }
        footer { p { (tr(lang, "Consentry — le vérificateur est compilé depuis les sources du projet (crates/consentry-wasm).", "Consentry — the verifier is compiled from the project's sources (crates/consentry-wasm).")) } }
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
