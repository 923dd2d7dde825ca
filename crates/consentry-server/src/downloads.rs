//! The one download path for proofs and certificates: the sealed JSON (exactly the log
//! entry's bytes), its certificate, and their readable PDFs, for the API, the web
//! application, the portal and the recipient's answer page alike.

use crate::i18n::Lang;
use crate::i18n::{Text, t};
use crate::problem::Problem;
use crate::state::AppState;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use consentry_core::anchor::AnchorKind;
use consentry_core::anchor::evm::check_evm_anchor;
use consentry_core::anchor::rfc3161::check_rfc3161_anchor;
use consentry_core::certificate::{Certificate, CertificateWriter};
use consentry_core::checkpoint::parse_signed_checkpoint;
use consentry_core::disclosure::{Ground, SealedDisclosure};
use consentry_core::ids::{ProofId, TenantId};
use consentry_core::proof::SealedProof;
use consentry_ledger::pdf_seal::PdfSeal;
use consentry_ledger::schedule::Schedule;
use consentry_pdf::{AnchorLine, Attachment, CertificateSummary, DisclosureSummary, ProofSummary};
use consentry_store::{PdfDocument, PdfKey};

/// Which document of a proof is downloaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    /// The sealed proof.
    Proof,
    /// Its certificate (inclusion in an anchored checkpoint, and the anchors).
    Certificate,
}

/// In which form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The machine-checkable JSON (a proof: exactly the log entry's bytes).
    Json,
    /// A readable PDF.
    Pdf,
}

/// Whether the browser shows the file (`inline`: the API, the portal, the answer page) or
/// saves it (`attachment`: the web application's download buttons).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Shown.
    Inline,
    /// Saved.
    Attachment,
}

/// One download of a stored proof `entry` of `sender_name`: what, in which form, in which
/// language (the PDFs'), and how the browser treats it. A certificate not anchored yet is
/// the 409 `pending` problem.
pub struct Download<'a> {
    /// The proof's ID.
    pub id: &'a ProofId,
    /// The stored log entry.
    pub entry: &'a [u8],
    /// The sender's name, as the PDFs print it.
    pub sender_name: &'a str,
    /// Which document.
    pub document: Document,
    /// Which form.
    pub format: Format,
    /// The PDFs' language.
    pub lang: Lang,
    /// Shown or saved.
    pub disposition: Disposition,
}

impl Download<'_> {
    /// The response: the bytes with their type, a file name, and headers that keep them
    /// out of caches and content sniffing.
    pub async fn respond(self, state: &AppState) -> Result<Response, Problem> {
        // The proof JSON is the stored entry as it is: parsed only to build something else.
        let parsed = || -> Result<SealedProof, Problem> {
            serde_json::from_slice(self.entry).map_err(Problem::unavailable)
        };
        let id = self.id;
        let (bytes, filename, media) = match (self.document, self.format) {
            (Document::Proof, Format::Json) => (
                self.entry.to_vec(),
                format!("{id}.json"),
                "application/json",
            ),
            (Document::Proof, Format::Pdf) => {
                let key = pdf_key(PdfDocument::Proof, self.entry, self.lang);
                let pdf = sealed_once(state, &key, |seal| {
                    let proof = parsed()?;
                    let summary =
                        proof_summary(state, self.sender_name, self.lang, id, &proof, self.entry);
                    let name = format!("{id}.json");
                    let sealing = seal.sealing(vec![Attachment {
                        file_name: &name,
                        description: t(self.lang, Text::PdfAttachedProof),
                        media_type: "application/json",
                        bytes: self.entry,
                    }]);
                    let pdf = consentry_pdf::proof_pdf(&summary, &sealing)
                        .map_err(Problem::unavailable)?;
                    Ok((proof.body.tenant, pdf))
                })
                .await?;
                (pdf, format!("{id}.pdf"), "application/pdf")
            }
            (Document::Certificate, format) => {
                let proof = parsed()?;
                let Some(cert) = certificate_of(state, &proof).await? else {
                    return Err(pending(state, proof.body.log_index));
                };
                match format {
                    Format::Json => (
                        certificate_json(&cert, self.entry)?,
                        format!("{id}.certificate.json"),
                        "application/json",
                    ),
                    Format::Pdf => (
                        certificate_pdf(state, &self, &proof, &cert).await?,
                        format!("{id}.certificate.pdf"),
                        "application/pdf",
                    ),
                }
            }
        };
        Ok(file(
            bytes,
            HeaderValue::from_static(media),
            &filename,
            self.disposition,
        ))
    }
}

/// `bytes` served as a file named `filename`, kept out of caches and content sniffing:
/// every download of this service, the evidence files recorded with consents included.
pub fn file(
    bytes: Vec<u8>,
    media_type: HeaderValue,
    filename: &str,
    disposition: Disposition,
) -> Response {
    let disposition = match disposition {
        Disposition::Inline => "inline",
        Disposition::Attachment => "attachment",
    };
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, media_type);
    if let Ok(v) = HeaderValue::from_str(&format!("{disposition}; filename=\"{filename}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}

/// A proof just sealed (or asked for by its API route): the canonical sealed proof, with
/// its location.
pub fn proof_response(status: StatusCode, id: &ProofId, entry: Vec<u8>) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (header::LOCATION, format!("/v1/proofs/{id}")),
        ],
        entry,
    )
        .into_response()
}

/// The certificate JSON; its proof member is the stored entry itself, byte for byte.
fn certificate_json(cert: &Certificate, entry: &[u8]) -> Result<Vec<u8>, Problem> {
    let writer = CertificateWriter::new(&cert.checkpoint, &cert.log_key, &cert.anchors)
        .map_err(Problem::unavailable)?;
    let path = cert
        .inclusion_hashes()
        .ok_or_else(|| Problem::unavailable("stored inclusion path"))?;
    let mut body = Vec::new();
    writer.write(&mut body, entry, cert.leaf_index, &path);
    Ok(body)
}

/// The certificate as a sealed PDF, with the certificate JSON attached (which holds the
/// proof, byte for byte): kept once made, like the proof's.
async fn certificate_pdf(
    state: &AppState,
    d: &Download<'_>,
    proof: &SealedProof,
    cert: &Certificate,
) -> Result<Vec<u8>, Problem> {
    let json = certificate_json(cert, d.entry)?;
    let key = pdf_key(PdfDocument::Certificate, &json, d.lang);
    sealed_once(state, &key, |seal| {
        let (checkpoint, _) =
            parse_signed_checkpoint(&cert.checkpoint).map_err(Problem::unavailable)?;
        let summary = CertificateSummary {
            proof: proof_summary(state, d.sender_name, d.lang, d.id, proof, d.entry),
            checkpoint_size: checkpoint.size,
            checkpoint_root: checkpoint.root.to_base64(),
            anchors: anchor_lines_of(
                &cert.anchors,
                &checkpoint.body(),
                state.anchoring.schedule(),
            ),
        };
        let name = format!("{}.certificate.json", d.id);
        let sealing = seal.sealing(vec![Attachment {
            file_name: &name,
            description: t(d.lang, Text::PdfAttachedCertificate),
            media_type: "application/json",
            bytes: &json,
        }]);
        let pdf =
            consentry_pdf::certificate_pdf(&summary, &sealing).map_err(Problem::unavailable)?;
        Ok((proof.body.tenant.clone(), pdf))
    })
    .await
}

/// The PDF kept for `key`; else the one `make` seals now (with the tenant it belongs
/// to), time-stamped and kept — or the one a concurrent download kept first.
async fn sealed_once(
    state: &AppState,
    key: &PdfKey,
    make: impl FnOnce(&PdfSeal) -> Result<(TenantId, Vec<u8>), Problem>,
) -> Result<Vec<u8>, Problem> {
    let seal = state.ledger.pdf_seal();
    if let Some(kept) = seal.kept(key).await.map_err(Problem::unavailable)? {
        return Ok(kept.pdf);
    }
    let (tenant, pdf) = make(seal)?;
    seal.keep(&tenant, key, pdf)
        .await
        .map_err(Problem::unavailable)
}

/// A disclosure as a sealed PDF: the proof's page with the address opened, the ground and
/// any asserted data, with the disclosure JSON and the proof JSON attached. It names the
/// person, so it is sealed for this answer and never kept (time-stamped when the TSA
/// answers, else PAdES B-B).
pub async fn disclosure_pdf(
    state: &AppState,
    sender_name: &str,
    lang: Lang,
    document: &SealedDisclosure,
    entry: &[u8],
) -> Result<Vec<u8>, Problem> {
    let proof: SealedProof = serde_json::from_slice(entry).map_err(Problem::unavailable)?;
    let body = &document.body;
    let ground = match body.ground {
        Ground::LegalClaim => Text::GroundLegalClaim,
        Ground::AuthorityRequest => Text::GroundAuthorityRequest,
        Ground::SubjectRequest => Text::GroundSubjectRequest,
    };
    let mut asserted = Vec::new();
    if let Some(a) = &body.asserted {
        for (label, value) in [
            (Text::Name, &a.name),
            (Text::PostalAddress, &a.postal_address),
            (Text::Phone, &a.phone),
        ] {
            if let Some(v) = value {
                asserted.push((t(lang, label).to_owned(), v.clone()));
            }
        }
    }
    let summary = DisclosureSummary {
        proof: proof_summary(state, sender_name, lang, &body.proof, &proof, entry),
        address: body.address.clone(),
        ground: t(lang, ground).to_owned(),
        asserted,
        evidence: body.evidence.is_some(),
        disclosed_at: state
            .anchoring
            .schedule()
            .long_local(body.disclosed_at.unix_millis()),
        event: body.event.to_string(),
    };
    let json = serde_json::to_vec(document).map_err(Problem::unavailable)?;
    let disclosure_name = format!("{}.disclosure.json", body.proof);
    let proof_name = format!("{}.json", body.proof);
    let seal = state.ledger.pdf_seal();
    let sealing = seal.sealing(vec![
        Attachment {
            file_name: &disclosure_name,
            description: t(lang, Text::PdfAttachedDisclosure),
            media_type: "application/json",
            bytes: &json,
        },
        Attachment {
            file_name: &proof_name,
            description: t(lang, Text::PdfAttachedProof),
            media_type: "application/json",
            bytes: entry,
        },
    ]);
    let pdf = consentry_pdf::disclosure_pdf(&summary, &sealing).map_err(Problem::unavailable)?;
    Ok(seal.stamp(pdf).await.0)
}

/// What names the sealed PDF of a JSON document in a language.
fn pdf_key(document: PdfDocument, json: &[u8], lang: Lang) -> PdfKey {
    use sha2::Digest as _;
    PdfKey {
        document,
        document_hash: sha2::Sha256::digest(json).into(),
        language: crate::i18n::code(lang).to_owned(),
    }
}

fn proof_summary(
    state: &AppState,
    sender_name: &str,
    lang: Lang,
    id: &ProofId,
    proof: &SealedProof,
    entry: &[u8],
) -> ProofSummary {
    let leaf = consentry_core::merkle::leaf_hash(entry);
    ProofSummary {
        language: lang,
        sender_name: sender_name.to_owned(),
        subject: proof.body.subject.to_string(),
        purpose: proof.body.purpose.clone(),
        decision: proof.body.decision.as_str().to_owned(),
        method: serde_json::to_value(proof.body.method)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        recorded_at_utc: proof.body.recorded_at.to_string(),
        recorded_at_local: state
            .anchoring
            .schedule()
            .long_local(proof.body.recorded_at.unix_millis()),
        given_at_local: proof
            .body
            .given_at
            .map(|g| state.anchoring.schedule().long_local(g.unix_millis())),
        proof_id: id.to_string(),
        log_index: proof.body.log_index,
        log_origin: proof.body.log.clone(),
        // The key that sealed this proof (a rotated-away one for older proofs).
        seal_key_fingerprint: consentry_core::keys::SealPublicKey::from_base64(
            &proof.seal.public_key,
        )
        .map(|k| k.fingerprint())
        .unwrap_or_else(|_| state.keys.seal.public().fingerprint()),
        leaf_hash: leaf.to_hex(),
        // The QR code opens /verify with this proof in the fragment (consentry_pdf::link).
        verify_url: consentry_pdf::verify_link(
            &format!("{}/verify", state.config.public_url.trim_end_matches('/')),
            entry,
        ),
    }
}

/// The certificate of a stored proof: its inclusion path up to the first anchored
/// checkpoint that holds it, and that checkpoint's anchors. `None` while pending.
pub async fn certificate_of(
    state: &AppState,
    proof: &SealedProof,
) -> Result<Option<Certificate>, Problem> {
    let index = proof.body.log_index;
    let Some(anchored) = state.store.anchored_checkpoint_for(index).await? else {
        return Ok(None);
    };
    let (_, path, _) = state
        .store
        .inclusion(index, anchored.size)
        .await?
        .map_err(Problem::unavailable)?;
    let anchors = anchor_objects(&anchored.anchors)?;
    // The log key that signed this checkpoint: a rotated-away one for older anchors.
    let log_key = state.keys.log_verifier_for(&anchored.note);
    let cert = Certificate::new(proof, &path, anchored.note, log_key, anchors)
        .map_err(Problem::unavailable)?;
    Ok(Some(cert))
}

/// The 409 answer for a proof whose checkpoint is not anchored yet.
fn pending(state: &AppState, log_index: u64) -> Problem {
    let anchoring = &state.anchoring;
    let mut p = Problem::new(
        StatusCode::CONFLICT,
        "pending",
        "Certificate pending",
        if anchoring.configured() {
            format!(
                "proof {log_index} is in the log but not anchored yet; anchoring runs daily at {}",
                anchoring.schedule().describe()
            )
        } else {
            "proof is in the log but no anchor is configured on this service yet; its certificate comes once one is".to_owned()
        },
    )
    .with("status", "pending")
    .with("log_index", log_index);
    if let Some(next) = next_anchor_at(state) {
        p = p.with("next_anchor_at", next.to_string());
    }
    p
}

/// The stored anchors of a checkpoint (JSON text) as the objects certificates and the
/// anchor history carry.
pub fn anchor_objects(
    texts: &[String],
) -> Result<Vec<serde_json::Map<String, serde_json::Value>>, Problem> {
    texts
        .iter()
        .map(|text| match serde_json::from_str(text) {
            Ok(serde_json::Value::Object(map)) => Ok(map),
            _ => Err(Problem::unavailable("a stored anchor is not a JSON object")),
        })
        .collect()
}

/// When the next scheduled anchoring runs, if an anchor is configured.
pub fn next_anchor_at(state: &AppState) -> Option<jiff::Timestamp> {
    let anchoring = &state.anchoring;
    if !anchoring.configured() {
        return None;
    }
    let now = jiff::Timestamp::from_millisecond(state.clock.now_ms()).ok()?;
    anchoring.schedule().slot_after(now).map(|slot| slot.at)
}

/// One readable line per anchor object of the checkpoint whose body is `body`, from the
/// facts its offline check establishes (the block time from the embedded header, the TSA
/// time from the signed token) rather than from the object's informational members: what
/// the certificate PDF prints and the web application shows beside a proof. Times are
/// shown in UTC and in `zone`'s local time.
pub fn anchor_lines_of(
    anchors: &[serde_json::Map<String, serde_json::Value>],
    body: &str,
    zone: &Schedule,
) -> Vec<AnchorLine> {
    anchors
        .iter()
        .map(|a| match AnchorKind::of(a) {
            Ok(AnchorKind::Evm) => match check_evm_anchor(a, body) {
                Ok(f) => AnchorLine {
                    kind: format!("EVM (chain {})", f.chain_id),
                    reference: f.tx_hash.clone(),
                    detail: format!(
                        "block {} {} — {}",
                        f.block_number,
                        f.block_hash,
                        unix_time(f.block_time, zone)
                    ),
                },
                Err(e) => AnchorLine {
                    kind: "EVM".into(),
                    reference: "—".into(),
                    detail: format!("evidence does not verify: {e}"),
                },
            },
            Ok(AnchorKind::Rfc3161) => match check_rfc3161_anchor(a, body, &[]) {
                Ok(f) => AnchorLine {
                    kind: "RFC 3161".into(),
                    reference: format!("{} #{}", f.tsa_name, f.serial),
                    detail: f.gen_time.to_string(),
                },
                Err(e) => AnchorLine {
                    kind: "RFC 3161".into(),
                    reference: "—".into(),
                    detail: format!("token does not verify: {e}"),
                },
            },
            Err(other) => AnchorLine {
                kind: other.unwrap_or_else(|| "?".to_owned()),
                reference: "—".into(),
                detail: String::new(),
            },
        })
        .collect()
}

fn unix_time(secs: u64, zone: &Schedule) -> String {
    let secs = i64::try_from(secs).unwrap_or(i64::MAX);
    match jiff::Timestamp::from_second(secs) {
        Ok(t) => format!(
            "{} UTC, {}",
            t.strftime("%Y-%m-%d %H:%M:%S"),
            zone.long_local(secs.saturating_mul(1000))
        ),
        Err(_) => secs.to_string(),
    }
}
