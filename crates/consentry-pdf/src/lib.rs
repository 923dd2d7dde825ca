//! Readable one-page PDFs of a consent **proof** and of an anchored **certificate**, for a
//! person or a court to read, in French or English.
//!
//! The sealed JSON documents are what anyone verifies; these pages are their readable
//! copies, so they say in words what the JSON says in fields, carry every value a verifier
//! would compare (proof ID, log index, seal key fingerprint, leaf hash, checkpoint, anchors),
//! and point to the ways of checking them (`consentry verify`, the verify page, a QR code).
//!
//! The caller turns its own types into the plain [`ProofSummary`] and
//! [`CertificateSummary`] (times already formatted, the local time in the sender's zone),
//! so this crate depends on no other Consentry crate and knows nothing of storage or time
//! zones: it only lays out a page.
//!
//! Choices that shape the output, each explained in its module:
//! - `font`: the DejaVu fonts are embedded, subset per document, as CID fonts with a
//!   `ToUnicode` map, so names and purposes in Latin, Greek or Cyrillic script render (a
//!   character DejaVu lacks, CJK for one, shows as "�"), the file is self-contained (no
//!   reliance on a viewer's font substitution, as archiving asks) and `pdftotext` or a
//!   screen reader gets the exact text back, accents included;
//! - `canvas`: text is measured with the font's own advances and wrapped at spaces, a word
//!   wider than its column is broken between characters, so nothing overflows the page;
//! - `qr`: the QR code is drawn as vector squares, sharp at any zoom and printable;
//! - `page`: the layout itself; a page too full is laid out again in a compact density,
//!   and one that still needs a second page is an error ([`PdfError::DoesNotFit`]) rather
//!   than a silently cut value; `labels`: the wording in both languages.
//!
//! - `seal` and `identity`: every PDF is a **sealed PDF/A-3b** document: a PAdES baseline
//!   signature (ETSI EN 319 142-1, B-B, upgraded in place to B-T with an RFC 3161
//!   signature time-stamp, [`add_signature_timestamp`]) by the operator's seal
//!   certificate ([`SealIdentity`]), with the sealed JSON documents attached as PDF/A-3
//!   associated files, so that a lawyer's PDF reader shows the seal and a verifier
//!   extracts the JSON from the PDF itself.
//!
//! Output is deterministic: the same summary, seal, time and attachments give the same
//! bytes (fixed subset tags, RFC 6979 ECDSA signatures), so a PDF can be compared or made
//! again.
//!
//! ```
//! use consentry_pdf::{Language, ProofSummary, SealIdentity, Sealing, proof_pdf};
//!
//! let summary = ProofSummary {
//!     language: Language::Fr,
//!     sender_name: "Boulangerie Dupré".into(),
//!     subject: "sub_01JD2K3M4N5P6Q7R8S9T0V1W2X".into(),
//!     purpose: "Lettre d’information".into(),
//!     decision: "granted".into(),
//!     method: "manual".into(),
//!     recorded_at_utc: "2026-11-23T19:04:05.123Z".into(),
//!     recorded_at_local: "23/11/2026 20:04:05 (Europe/Paris)".into(),
//!     given_at_local: None,
//!     proof_id: "prf_01JD2K3M4N5P6Q7R8S9T0V1W2X".into(),
//!     log_index: 7,
//!     log_origin: "consentry.example/log".into(),
//!     seal_key_fingerprint: "3f".repeat(32),
//!     leaf_hash: "a7".repeat(32),
//!     verify_url: "https://consentry.example/verify".into(),
//! };
//! let seal = SealIdentity::self_issued("consentry.example/log", 1_796_677_200, &[7; 64])?;
//! let sealing = Sealing { identity: &seal, sealed_at_unix: 1_796_677_200, attachments: vec![] };
//! let pdf = proof_pdf(&summary, &sealing)?;
//! assert!(pdf.starts_with(b"%PDF-"));
//! assert_eq!(consentry_pdf::level(&pdf)?, consentry_pdf::Level::BB);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod canvas;
mod civil;
mod font;
mod identity;
mod labels;
mod link;
mod page;
mod qr;
mod seal;

pub use identity::{IdentityError, SealIdentity};
pub use link::{MAX_LINK_BYTES, verify_link};
pub use seal::{Level, SealError, add_signature_timestamp, level, signature_timestamp_imprint};

/// A file attached to the PDF as a PDF/A-3 *associated file* (the sealed JSON documents
/// the page is a reading of), listed in the reader's attachments panel and extractable
/// byte for byte (`pdfdetach`).
#[derive(Debug, Clone, Copy)]
pub struct Attachment<'a> {
    /// The file's name, e.g. `prf_….json`.
    pub file_name: &'a str,
    /// What it is, in the page's language.
    pub description: &'a str,
    /// Its MIME type, e.g. `application/json`.
    pub media_type: &'a str,
    /// Its exact bytes.
    pub bytes: &'a [u8],
}

/// How a PDF is sealed: by whom, when (the claimed signing time, `/M`), and what it
/// carries attached.
#[derive(Debug, Clone)]
pub struct Sealing<'a> {
    /// The seal.
    pub identity: &'a SealIdentity,
    /// When, in Unix seconds: the signature's claimed time and the document's dates. A
    /// trusted time comes only with a signature time-stamp ([`add_signature_timestamp`]).
    pub sealed_at_unix: i64,
    /// The files attached.
    pub attachments: Vec<Attachment<'a>>,
}

/// The language of the page's labels and sentences (the values are shown as given).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Language {
    /// French.
    Fr,
    /// English.
    En,
}

/// What a proof page shows: plain strings the caller has already formatted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofSummary {
    /// The language of the page.
    pub language: Language,
    /// The sender (tenant) who recorded or collected the consent.
    pub sender_name: String,
    /// The recipient's pseudonym (`sub_…`); the page never names the person.
    pub subject: String,
    /// The purpose consented to, as the sender named it.
    pub purpose: String,
    /// The decision's wire spelling: `granted`, `refused` or `revoked`.
    pub decision: String,
    /// How the decision was recorded: `manual`, `delegated` or `portal`.
    pub method: String,
    /// The sealed timestamp, RFC 3339 UTC with milliseconds (`2026-11-23T19:04:05.123Z`).
    pub recorded_at_utc: String,
    /// The same instant in the sender's time zone, formatted by the caller
    /// (`23/11/2026 20:04:05 (Europe/Paris)`).
    pub recorded_at_local: String,
    /// When the person gave the decision, if the proof states it (`given_at`), in the
    /// same local form: shown apart from the recording.
    pub given_at_local: Option<String>,
    /// The proof's ID.
    pub proof_id: String,
    /// The proof's index (leaf number) in the log.
    pub log_index: u64,
    /// The log's origin line.
    pub log_origin: String,
    /// The seal key's fingerprint, 64 lowercase hex digits.
    pub seal_key_fingerprint: String,
    /// The proof's leaf hash in the log, 64 lowercase hex digits.
    pub leaf_hash: String,
    /// The public verify page for this proof, as the QR code and its link open it: it may
    /// carry the proof in its fragment ([`verify_link`]); the page prints it without the
    /// fragment.
    pub verify_url: String,
}

/// What a certificate page shows: the proof, the anchored checkpoint and its anchors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateSummary {
    /// The proof the certificate is for (its language is the page's language).
    pub proof: ProofSummary,
    /// The tree size of the anchored checkpoint that includes the proof.
    pub checkpoint_size: u64,
    /// That checkpoint's root hash, as the caller displays it.
    pub checkpoint_root: String,
    /// Each anchor of that checkpoint, in the order to show them.
    pub anchors: Vec<AnchorLine>,
}

/// What a disclosure page shows: the proof, and what is opened of it for a dispute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisclosureSummary {
    /// The proof disclosed (its language is the page's language).
    pub proof: ProofSummary,
    /// The e-mail address the proof's `address_commitment` commits to.
    pub address: String,
    /// The ground, in words.
    pub ground: String,
    /// Identity data the sender states without a commitment to check it against: (label,
    /// value), shown marked as such.
    pub asserted: Vec<(String, String)>,
    /// Whether the evidence file is disclosed (attached) too.
    pub evidence: bool,
    /// When, as the caller formats it.
    pub disclosed_at: String,
    /// The `data.disclosed` log event's ID.
    pub event: String,
}

/// One anchor of a checkpoint, as a line a person reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnchorLine {
    /// What anchored it: `Ethereum (chain 1)`, `RFC 3161 TSA`.
    pub kind: String,
    /// Where to find it: a transaction hash, a TSA serial number.
    pub reference: String,
    /// When and where: block number, time.
    pub detail: String,
}

/// Why a page could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PdfError {
    /// `decision` is none of `granted`, `refused`, `revoked`: the page would have to
    /// guess the words, and a proof page must not guess.
    #[error("unknown decision {0:?}: expected granted, refused or revoked")]
    UnknownDecision(String),
    /// `method` is none of `manual`, `delegated`, `portal`.
    #[error("unknown method {0:?}: expected manual, delegated or portal")]
    UnknownMethod(String),
    /// The verify URL is too long to be encoded as a QR code.
    #[error("the verify URL cannot be encoded as a QR code")]
    QrCode(#[source] qrcode::types::QrError),
    /// The values (a very long purpose or sender name, many anchors) need more than the
    /// one page these documents have, even set in the compact density; the caller should
    /// shorten the free-text fields.
    #[error(
        "the content does not fit on one page: it needs {needed:.0} pt of height and the page has {available:.0} pt"
    )]
    DoesNotFit {
        /// Height the content needs, in points.
        needed: f32,
        /// Height the page has for it, in points.
        available: f32,
    },
    /// An attachment too large for this writer (over 2 GiB).
    #[error("attachment {name} is too large")]
    Attachment {
        /// The attachment's file name.
        name: String,
    },
    /// The PDF could not be sealed.
    #[error("seal: {0}")]
    Seal(#[from] SealError),
    /// An embedded font could not be read or subset: a defect of this crate, not of the
    /// input.
    #[error("embedded font {font}: {reason}")]
    Font {
        /// The font's PostScript name.
        font: &'static str,
        /// What went wrong.
        reason: String,
    },
}

/// Lays out the one-page PDF of a consent proof.
///
/// # Errors
/// [`PdfError::UnknownDecision`] or [`PdfError::UnknownMethod`] for a value outside the
/// proof format, [`PdfError::QrCode`] for a verify URL too long for a QR code,
/// [`PdfError::DoesNotFit`] when the free-text fields are too long for one page.
pub fn proof_pdf(p: &ProofSummary, sealing: &Sealing<'_>) -> Result<Vec<u8>, PdfError> {
    page::render(p, None, None, sealing)
}

/// Lays out the one-page PDF of an anchored certificate: the proof's page plus the
/// checkpoint that includes it and each anchor of that checkpoint.
///
/// # Errors
/// As [`proof_pdf`]; [`PdfError::DoesNotFit`] also when there are too many anchors.
pub fn certificate_pdf(c: &CertificateSummary, sealing: &Sealing<'_>) -> Result<Vec<u8>, PdfError> {
    page::render(&c.proof, Some(c), None, sealing)
}

/// Lays out the one-page PDF of a disclosure: the proof's page plus the address it
/// commits to, the ground, and any data the sender asserts. Such a page names the
/// person: the caller hands it to whom the disclosure is for and keeps no copy.
///
/// # Errors
/// As [`proof_pdf`].
pub fn disclosure_pdf(d: &DisclosureSummary, sealing: &Sealing<'_>) -> Result<Vec<u8>, PdfError> {
    page::render(&d.proof, None, Some(d), sealing)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> &'static SealIdentity {
        static ID: std::sync::OnceLock<SealIdentity> = std::sync::OnceLock::new();
        ID.get_or_init(|| {
            SealIdentity::self_issued("consentry.example/log", 1_796_677_200, &[5; 64]).unwrap()
        })
    }

    fn sealing() -> Sealing<'static> {
        Sealing {
            identity: identity(),
            sealed_at_unix: 1_796_677_200,
            attachments: vec![Attachment {
                file_name: "prf_01JD2K3M4N5P6Q7R8S9T0V1W2X.json",
                description: "The sealed proof",
                media_type: "application/json",
                bytes: b"{\"proof\":1}",
            }],
        }
    }

    fn proof(language: Language) -> ProofSummary {
        ProofSummary {
            language,
            sender_name: "Boulangerie Dupré & Fils".to_owned(),
            subject: "sub_01JD2K3M4N5P6Q7R8S9T0V1W2X".to_owned(),
            purpose: "Lettre d'information mensuelle".to_owned(),
            decision: "granted".to_owned(),
            method: "delegated".to_owned(),
            recorded_at_utc: "2026-11-23T19:04:05.123Z".to_owned(),
            recorded_at_local: "23/11/2026 20:04:05 (Europe/Paris)".to_owned(),
            given_at_local: None,
            proof_id: "prf_01JD2K3M4N5P6Q7R8S9T0V1W2X".to_owned(),
            log_index: 4242,
            log_origin: "consentry.example/log".to_owned(),
            seal_key_fingerprint: "3f".repeat(32),
            leaf_hash: "a7".repeat(32),
            verify_url: "https://consentry.example/verify?proof=prf_01JD2K3M4N5P6Q7R8S9T0V1W2X"
                .to_owned(),
        }
    }

    fn certificate(language: Language) -> CertificateSummary {
        CertificateSummary {
            proof: proof(language),
            checkpoint_size: 4300,
            checkpoint_root: "q1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6j7k8l9z0x1c=".to_owned(),
            anchors: vec![
                AnchorLine {
                    kind: "Ethereum (chain 1)".to_owned(),
                    reference: format!("0x{}", "5c".repeat(32)),
                    detail: "block 21 000 123, 2026-11-24T00:00:12Z".to_owned(),
                },
                AnchorLine {
                    kind: "RFC 3161 TSA".to_owned(),
                    reference: "serial 0x1A2B3C4D5E6F".to_owned(),
                    detail: "2026-11-24T00:00:03Z".to_owned(),
                },
            ],
        }
    }

    /// Page objects (`/Type /Page`, not `/Type /Pages`) in the file.
    fn page_count(pdf: &[u8]) -> usize {
        let needle = b"/Type /Page";
        pdf.windows(needle.len() + 1)
            .filter(|w| w.starts_with(needle) && w[needle.len()] != b's')
            .count()
    }

    #[test]
    fn proofs_are_one_page_pdfs_in_both_languages() {
        for language in [Language::Fr, Language::En] {
            let pdf = proof_pdf(&proof(language), &sealing()).unwrap();
            assert!(pdf.starts_with(b"%PDF-"));
            assert_eq!(page_count(&pdf), 1);
        }
    }

    #[test]
    fn certificates_are_one_page_pdfs_in_both_languages() {
        for language in [Language::Fr, Language::En] {
            let pdf = certificate_pdf(&certificate(language), &sealing()).unwrap();
            assert!(pdf.starts_with(b"%PDF-"));
            assert_eq!(page_count(&pdf), 1);
        }
    }

    #[test]
    fn every_decision_and_method_renders() {
        for decision in ["granted", "refused", "revoked"] {
            for method in ["manual", "delegated", "portal"] {
                let mut p = proof(Language::Fr);
                p.decision = decision.to_owned();
                p.method = method.to_owned();
                assert!(proof_pdf(&p, &sealing()).is_ok(), "{decision} {method}");
            }
        }
    }

    #[test]
    fn output_is_deterministic() {
        let p = proof(Language::En);
        assert_eq!(
            proof_pdf(&p, &sealing()).unwrap(),
            proof_pdf(&p, &sealing()).unwrap()
        );
    }

    #[test]
    fn fonts_are_embedded_as_subsets_not_whole() {
        let pdf = proof_pdf(&proof(Language::Fr), &sealing()).unwrap();
        // The three faces weigh 1.8 MB whole; a page's subsets, a few tens of kilobytes.
        assert!(pdf.len() < 150_000, "{} bytes", pdf.len());
        assert!(pdf.windows(10).any(|w| w == b"/FontFile2"));
        assert!(pdf.windows(10).any(|w| w == b"/ToUnicode"));
    }

    #[test]
    fn an_unknown_decision_or_method_is_refused() {
        let mut p = proof(Language::En);
        p.decision = "maybe".to_owned();
        assert!(
            matches!(proof_pdf(&p, &sealing()), Err(PdfError::UnknownDecision(d)) if d == "maybe")
        );
        let mut p = proof(Language::En);
        p.method = "carrier pigeon".to_owned();
        assert!(matches!(
            proof_pdf(&p, &sealing()),
            Err(PdfError::UnknownMethod(_))
        ));
    }

    #[test]
    fn long_values_wrap_and_still_fit() {
        let mut c = certificate(Language::Fr);
        c.proof.sender_name = "Société coopérative d'intérêt collectif ".repeat(4);
        c.proof.purpose = "Envoi d'offres commerciales personnalisées par courrier électronique, \
            SMS et téléphone "
            .repeat(3);
        c.proof.subject = "sub_".to_owned() + &"x".repeat(150);
        c.proof.log_origin = "o".repeat(200);
        if let Err(e) = certificate_pdf(&c, &sealing()) {
            panic!("{e}");
        }
    }

    #[test]
    fn content_that_needs_a_second_page_is_refused_not_cut() {
        let mut p = proof(Language::En);
        p.purpose = "a very long purpose ".repeat(400);
        assert!(matches!(
            proof_pdf(&p, &sealing()),
            Err(PdfError::DoesNotFit { .. })
        ));
        let mut c = certificate(Language::En);
        c.anchors = c.anchors.iter().cycle().take(20).cloned().collect();
        assert!(matches!(
            certificate_pdf(&c, &sealing()),
            Err(PdfError::DoesNotFit { .. })
        ));
    }

    #[test]
    fn a_verify_url_too_long_for_a_qr_code_is_refused() {
        let mut p = proof(Language::En);
        p.verify_url = format!("https://consentry.example/verify?{}", "x".repeat(4000));
        assert!(matches!(
            proof_pdf(&p, &sealing()),
            Err(PdfError::QrCode(_))
        ));
    }

    #[test]
    fn disclosures_render_in_both_languages() {
        for language in [Language::Fr, Language::En] {
            let d = DisclosureSummary {
                proof: proof(language),
                address: "jean.dupont@example.fr".into(),
                ground: "legal-claim".into(),
                asserted: vec![("Name".into(), "Jean Dupont".into())],
                evidence: true,
                disclosed_at: "07/12/2026 22:00:00 (Europe/Paris)".into(),
                event: "evt_0123".into(),
            };
            let pdf = disclosure_pdf(&d, &sealing()).unwrap();
            assert_eq!(page_count(&pdf), 1);
            assert_eq!(level(&pdf).unwrap(), Level::BB);
        }
    }

    #[test]
    fn a_certificate_without_anchors_still_renders() {
        let mut c = certificate(Language::En);
        c.anchors.clear();
        assert!(certificate_pdf(&c, &sealing()).is_ok());
    }
}
