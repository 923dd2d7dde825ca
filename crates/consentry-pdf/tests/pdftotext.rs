//! The generated PDFs read back as text with a real, independent PDF reader: poppler's
//! `pdftotext` (and `pdfinfo` for the page count), from Debian's `poppler-utils`.
//!
//! This is what a court clerk's copy-paste, a search box or a screen reader gets, so it
//! checks what a person needs to find: the purpose, the decision in words (accents
//! included), the proof ID and the seal key fingerprint, whole. A missing poppler is a
//! failure with the command to install it, never a skipped test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use consentry_pdf::{
    AnchorLine, Attachment, CertificateSummary, Language, ProofSummary, SealIdentity, Sealing,
    certificate_pdf, proof_pdf,
};
use std::io::ErrorKind;
use std::process::Command;

const FINGERPRINT: &str = "3fa1c2d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
const LEAF_HASH: &str = "a7b8c9d0e1f20314253647586970a1b2c3d4e5f6a7b8c9d0e1f2031425364758";
const PROOF_ID: &str = "prf_01JD2K3M4N5P6Q7R8S9T0V1W2X";
const VERIFY_URL: &str = "https://consentry.example/verify?proof=prf_01JD2K3M4N5P6Q7R8S9T0V1W2X";

/// A self-issued seal (made once), sealing at a fixed time with one attachment.
fn sealing() -> Sealing<'static> {
    static ID: std::sync::OnceLock<SealIdentity> = std::sync::OnceLock::new();
    let identity = ID.get_or_init(|| {
        SealIdentity::self_issued("consentry.example/log", 1_796_677_200, &[5; 64])
            .expect("a self-issued seal")
    });
    Sealing {
        identity,
        sealed_at_unix: 1_796_677_200,
        attachments: vec![Attachment {
            file_name: "prf_01JD2K3M4N5P6Q7R8S9T0V1W2X.json",
            description: "The sealed proof",
            media_type: "application/json",
            bytes: b"{\"proof\":1}",
        }],
    }
}

fn proof(language: Language, decision: &str) -> ProofSummary {
    ProofSummary {
        language,
        sender_name: "Boulangerie Dupré & Fils".to_owned(),
        subject: "sub_01JD2K3M4N5P6Q7R8S9T0V1W2X".to_owned(),
        purpose: "Lettre d’information mensuelle et offres spéciales".to_owned(),
        decision: decision.to_owned(),
        method: "delegated".to_owned(),
        recorded_at_utc: "2026-11-23T19:04:05.123Z".to_owned(),
        recorded_at_local: "23/11/2026 20:04:05 (Europe/Paris)".to_owned(),
        given_at_local: None,
        proof_id: PROOF_ID.to_owned(),
        log_index: 4242,
        log_origin: "consentry.example/log".to_owned(),
        seal_key_fingerprint: FINGERPRINT.to_owned(),
        leaf_hash: LEAF_HASH.to_owned(),
        verify_url: VERIFY_URL.to_owned(),
    }
}

fn certificate(language: Language) -> CertificateSummary {
    CertificateSummary {
        proof: proof(language, "granted"),
        checkpoint_size: 4300,
        checkpoint_root: "Zq7Wm1t4cX0bq2yV9kQe3Jr8H5nL6pS1dF0gA2hK4jM=".to_owned(),
        anchors: vec![
            AnchorLine {
                kind: "Ethereum (chain 1)".to_owned(),
                reference: "0x5c0ffee5c0ffee5c0ffee5c0ffee5c0ffee5c0ffee5c0ffee5c0ffee5c0ffee5"
                    .to_owned(),
                detail: "block 21000123, 2026-11-24T00:00:12Z".to_owned(),
            },
            AnchorLine {
                kind: "RFC 3161 TSA".to_owned(),
                reference: "serial 0x1A2B3C4D5E6F".to_owned(),
                detail: "2026-11-24T00:00:03Z".to_owned(),
            },
        ],
    }
}

/// Runs a poppler tool as `tool ARGS FILE TRAILING` on `pdf` and returns its standard output.
fn poppler(tool: &str, args: &[&str], trailing: &[&str], pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("page.pdf");
    std::fs::write(&path, pdf).unwrap();
    let output = match Command::new(tool)
        .args(args)
        .arg(&path)
        .args(trailing)
        .output()
    {
        Ok(output) => output,
        Err(e) if e.kind() == ErrorKind::NotFound => panic!(
            "`{tool}` is not installed: these tests read the PDFs with poppler. \
             Install it with `apt-get install -y poppler-utils` (Debian/Ubuntu) and run again."
        ),
        Err(e) => panic!("could not run `{tool}`: {e}"),
    };
    assert!(
        output.status.success(),
        "`{tool}` failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The text `pdftotext` extracts, with every run of whitespace (line breaks from wrapping,
/// no-break spaces) made one space, so a wrapped sentence is found whole.
fn text_of(pdf: &[u8]) -> String {
    let raw = poppler("pdftotext", &["-enc", "UTF-8"], &["-"], pdf);
    raw.split(|c: char| c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Lines of the raw `pdftotext` output, to check a value is on one line, unbroken.
fn lines_of(pdf: &[u8]) -> Vec<String> {
    poppler("pdftotext", &["-enc", "UTF-8"], &["-"], pdf)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The page count `pdfinfo` reports.
fn pages_of(pdf: &[u8]) -> String {
    poppler("pdfinfo", &[], &[], pdf)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .map(|n| n.trim().to_owned())
        .unwrap_or_default()
}

/// Checks, with `pdffonts`, that every font is embedded, subset and has a `ToUnicode` map.
fn assert_fonts_embedded(pdf: &[u8]) {
    let listing = poppler("pdffonts", &[], &[], pdf);
    let fonts: Vec<&str> = listing.lines().skip(2).collect();
    assert_eq!(fonts.len(), 3, "{listing}");
    for line in fonts {
        let columns: Vec<&str> = line.split_whitespace().collect();
        let flags = columns.len().checked_sub(5).map(|i| &columns[i..i + 3]);
        assert_eq!(
            flags,
            Some(&["yes", "yes", "yes"][..]),
            "emb sub uni: {line}"
        );
    }
}

fn assert_contains(text: &str, wanted: &str) {
    assert!(text.contains(wanted), "{wanted:?} not found in:\n{text}");
}

/// What every page must give back, whatever the language.
fn assert_common(pdf: &[u8]) {
    assert_eq!(pages_of(pdf), "1");
    assert_fonts_embedded(pdf);
    let text = text_of(pdf);
    assert_contains(&text, "Lettre d’information mensuelle et offres spéciales");
    assert_contains(&text, "Boulangerie Dupré & Fils");
    assert_contains(&text, PROOF_ID);
    assert_contains(&text, VERIFY_URL);
    assert_contains(&text, "2026-11-23T19:04:05.123Z");
    assert_contains(&text, "23/11/2026 20:04:05 (Europe/Paris)");
    assert_contains(&text, "consentry verify");
    let lines = lines_of(pdf);
    for hash in [FINGERPRINT, LEAF_HASH] {
        assert!(
            lines.iter().any(|l| l.trim() == hash),
            "{hash} is not whole on one line"
        );
    }
}

#[test]
fn french_proof_reads_back_with_its_accents() {
    let pdf = proof_pdf(&proof(Language::Fr, "granted"), &sealing()).unwrap();
    assert_common(&pdf);
    let text = text_of(&pdf);
    for wanted in [
        "Preuve de consentement",
        "Décision",
        "Accordé",
        "Consentement accordé",
        "Finalité",
        "Expéditeur",
        "Empreinte de la clé de scellement",
        "COMMENT VÉRIFIER",
        "consentry verify preuve.json",
    ] {
        assert_contains(&text, wanted);
    }
}

#[test]
fn french_refusal_and_revocation_read_back_with_their_accents() {
    let refused = text_of(&proof_pdf(&proof(Language::Fr, "refused"), &sealing()).unwrap());
    assert_contains(&refused, "Refusé");
    assert_contains(&refused, "Consentement refusé");
    let revoked = text_of(&proof_pdf(&proof(Language::Fr, "revoked"), &sealing()).unwrap());
    assert_contains(&revoked, "Révoqué");
    assert_contains(&revoked, "Consentement révoqué");
}

#[test]
fn english_proof_reads_back() {
    let pdf = proof_pdf(&proof(Language::En, "granted"), &sealing()).unwrap();
    assert_common(&pdf);
    let text = text_of(&pdf);
    for wanted in [
        "Consent proof",
        "Decision",
        "Granted",
        "Purpose",
        "Seal key fingerprint",
        "HOW TO VERIFY",
        "consentry verify proof.json",
    ] {
        assert_contains(&text, wanted);
    }
    let refused = text_of(&proof_pdf(&proof(Language::En, "refused"), &sealing()).unwrap());
    assert_contains(&refused, "Refused");
}

#[test]
fn certificates_read_back_with_checkpoint_and_anchors() {
    for (language, title, wanted) in [
        (Language::Fr, "Certificat de consentement", "Accordé"),
        (Language::En, "Consent certificate", "Granted"),
    ] {
        let pdf = certificate_pdf(&certificate(language), &sealing()).unwrap();
        assert_common(&pdf);
        let text = text_of(&pdf);
        assert_contains(&text, title);
        assert_contains(&text, wanted);
        assert_contains(&text, "4300");
        assert_contains(&text, "Zq7Wm1t4cX0bq2yV9kQe3Jr8H5nL6pS1dF0gA2hK4jM=");
        assert_contains(&text, "Ethereum (chain 1)");
        assert_contains(
            &text,
            "0x5c0ffee5c0ffee5c0ffee5c0ffee5c0ffee5c0ffee5c0ffee5c0ffee5c0ffee5",
        );
        assert_contains(&text, "block 21000123, 2026-11-24T00:00:12Z");
        assert_contains(&text, "RFC 3161 TSA");
        assert_contains(&text, "serial 0x1A2B3C4D5E6F");
    }
}

#[test]
fn names_outside_latin_1_read_back() {
    let mut p = proof(Language::Fr, "granted");
    p.sender_name = "Łódź Spółka z o.o. — Ελληνικά — Кириллица".to_owned();
    let text = text_of(&proof_pdf(&p, &sealing()).unwrap());
    assert_contains(&text, "Łódź Spółka z o.o. — Ελληνικά — Кириллица");
}

#[test]
fn a_long_purpose_is_wrapped_whole_on_one_page() {
    let purpose = "Envoi d’offres commerciales personnalisées par courrier électronique, \
        SMS et téléphone, au sujet des produits de la boulangerie et de ses partenaires. "
        .repeat(8);
    let mut c = certificate(Language::Fr);
    c.proof.purpose = purpose.clone();
    let pdf = certificate_pdf(&c, &sealing()).unwrap();
    assert_eq!(pages_of(&pdf), "1");
    let text = text_of(&pdf);
    assert_contains(&text, purpose.trim());
    assert_contains(&text, FINGERPRINT);
}
