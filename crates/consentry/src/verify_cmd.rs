//! `consentry verify FILE`: offline verification of a proof, certificate or event.
//!
//! The checks themselves live in the core (`consentry_core::verify`), the same code the
//! `/verify` page runs in the browser; this module reads the file, prints the report for a
//! person or as JSON, and maps the verdict to the exit status: 0 VALID (every signature
//! checks against a pinned key and every anchor present against a root the user chose),
//! 3 UNTRUSTED (the signatures and maths hold but a key or an anchor is not rooted; the
//! report names each and what to pin), 1 INVALID, 2 unusable input.

use consentry_core::anchor::AnchorKind;
use consentry_core::keys::SealPublicKey;
use consentry_core::verify::{Report, Status, TrustedKeys, Verdict, verify_document};
use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `consentry verify`.
#[derive(clap::Args)]
pub struct VerifyArgs {
    /// The proof, certificate or event JSON file, or a `c2sp.org/tlog-proof@v1` file
    /// exported from a certificate (`-` for standard input).
    file: PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Trust only this seal public key (standard base64 of the 32-byte Ed25519 key, as
    /// published at /.well-known/consentry.json). Repeatable.
    #[arg(long = "seal-key", value_name = "BASE64")]
    seal_keys: Vec<String>,
    /// Trust only this log key (signed-note verifier key `origin+hexid+base64`, as
    /// published at /.well-known/consentry.json). Repeatable.
    #[arg(long = "log-key", value_name = "VKEY")]
    log_keys: Vec<String>,
    /// Also check EVM anchors online against this JSON-RPC node of your choice: the
    /// transaction's calldata is the checkpoint, its block is canonical, and how many
    /// confirmations it has.
    #[arg(long, value_name = "URL")]
    rpc: Option<String>,
    /// PEM file of the CA certificate(s) an RFC 3161 anchor's TSA must chain to.
    #[arg(long = "tsa-ca", value_name = "FILE")]
    tsa_ca: Option<PathBuf>,
    /// The operator's `/.well-known/consentry.json`, as a URL or a saved file: its keys are
    /// pinned for its log on first use, and only pinned keys are trusted afterwards.
    /// Repeatable (one per operator).
    #[arg(long = "trust", value_name = "URL|FILE")]
    trust: Vec<String>,
    /// Where `--trust` keeps its pins [$CONSENTRY_TRUST_STORE, else
    /// ~/.local/share/consentry/trust].
    #[arg(long = "trust-store", value_name = "DIR")]
    trust_store: Option<PathBuf>,
    /// A `consentry.disclosure/v1` of the proof FILE holds (or of its certificate's
    /// proof): its seal, and that its openings recompute the proof's commitments.
    #[arg(long, value_name = "FILE")]
    disclosure: Option<PathBuf>,
    /// Trust EVM anchors in this block (its hash, `0x…`, compared with a node or an
    /// explorer of your choice). Repeatable.
    #[arg(long = "evm-block", value_name = "HASH")]
    evm_blocks: Vec<String>,
    /// A witness policy of your choosing (docs/witnessing.md): the certificate's
    /// checkpoint must carry valid cosignatures from its quorum of witnesses, else the
    /// verdict is UNTRUSTED (a cosignature that does not verify: INVALID).
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
}

const EXIT_INVALID: u8 = 1;
const EXIT_UNUSABLE: u8 = 2;
const EXIT_UNTRUSTED: u8 = 3;

/// Runs the command and returns the exit status.
pub fn run(args: &VerifyArgs) -> ExitCode {
    match verify(args) {
        Ok(report) => {
            if args.json {
                match serde_json::to_string_pretty(&report) {
                    Ok(s) => println!("{s}"),
                    Err(e) => {
                        eprintln!("consentry verify: cannot write the report: {e}");
                        return ExitCode::from(EXIT_UNUSABLE);
                    }
                }
            } else {
                print_human(&report);
            }
            match report.verdict {
                Verdict::Valid => ExitCode::SUCCESS,
                Verdict::Untrusted => ExitCode::from(EXIT_UNTRUSTED),
                Verdict::Invalid => ExitCode::from(EXIT_INVALID),
            }
        }
        Err(message) => {
            if args.json {
                println!(
                    "{}",
                    serde_json::json!({ "valid": false, "unusable": message })
                );
            }
            eprintln!("consentry verify: unusable input: {message}");
            ExitCode::from(EXIT_UNUSABLE)
        }
    }
}

fn verify(args: &VerifyArgs) -> Result<Report, String> {
    let mut trusted = TrustedKeys::default();
    for k in &args.seal_keys {
        trusted
            .seal
            .push(SealPublicKey::from_base64(k).map_err(|e| format!("--seal-key {k}: {e}"))?);
    }
    for k in &args.log_keys {
        consentry_core::checkpoint::verifier_key_label(k)
            .map_err(|e| format!("--log-key {k}: {e}"))?;
        trusted.log.push(k.clone());
    }
    if let Some(path) = &args.tsa_ca {
        let pem = std::fs::read_to_string(path)
            .map_err(|e| format!("--tsa-ca {}: {e}", path.display()))?;
        trusted.tsa_cas = consentry_core::anchor::rfc3161::pem_certificates(&pem)
            .map_err(|e| format!("--tsa-ca {}: {e}", path.display()))?;
    }
    for b in &args.evm_blocks {
        let ok =
            b.len() == 66 && b.starts_with("0x") && b[2..].bytes().all(|c| c.is_ascii_hexdigit());
        if !ok {
            return Err(format!(
                "--evm-block {b}: a block hash is 0x and 64 hex digits"
            ));
        }
        trusted.evm_blocks.push(b.to_ascii_lowercase());
    }
    if !args.trust.is_empty() {
        let store = args
            .trust_store
            .clone()
            .or_else(crate::pins::default_store)
            .ok_or("--trust: no trust store (set --trust-store or HOME)")?;
        for src in &args.trust {
            let pinned = crate::pins::pin(&store, crate::pins::load(src)?)?;
            for note in &pinned.notes {
                eprintln!("consentry verify: {note}");
            }
            for k in &pinned.keys.seal_keys {
                trusted.seal.push(
                    SealPublicKey::from_base64(k)
                        .map_err(|e| format!("pinned seal key {k}: {e}"))?,
                );
            }
            trusted.log.extend(pinned.keys.log_keys.iter().cloned());
        }
    }
    let bytes = read_input(args)?;
    // `--rpc` first: the blocks the chosen node confirms root the anchors in them.
    let online = match &args.rpc {
        Some(rpc) => check_online(rpc, &bytes, &mut trusted)?,
        None => Vec::new(),
    };
    let mut report = match &args.disclosure {
        None => verify_document(&bytes, &trusted),
        Some(path) => {
            let disclosure = read_document(path)?;
            consentry_core::verify::Verifier::new(trusted.clone())
                .verify_disclosure(&bytes, &disclosure)
        }
    }
    .map_err(|e| e.to_string())?;
    for (status, detail) in online {
        report.add_check("anchor_evm_online", status, detail);
    }
    if let Some(path) = &args.policy {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("--policy {}: {e}", path.display()))?;
        let policy = consentry_core::witness_policy::Policy::parse(&text)
            .map_err(|e| format!("--policy {}: {e}", path.display()))?;
        let (status, detail) = witness_check(&policy, &bytes);
        report.add_check("witness_policy", status, detail);
    }
    Ok(report)
}

/// The verifier's witness policy on a certificate's checkpoint.
fn witness_check(
    policy: &consentry_core::witness_policy::Policy,
    document: &[u8],
) -> (Status, String) {
    use consentry_core::witness_policy::PolicyCheckError;
    let note = serde_json::from_slice::<serde_json::Value>(document)
        .ok()
        .and_then(|v| {
            v.get("checkpoint")
                .and_then(|c| c.as_str())
                .map(str::to_owned)
        });
    let Some(note) = note else {
        return (
            Status::NotChecked,
            "this document carries no checkpoint: a witness policy applies to certificates".into(),
        );
    };
    match policy.check(&note) {
        Ok(r) if !r.invalid.is_empty() => (
            Status::Failed,
            format!(
                "cosignatures that do not verify, by {}",
                r.invalid.join(", ")
            ),
        ),
        Ok(r) => {
            let cosigned: Vec<String> = r.cosigned.iter().map(|c| c.witness.clone()).collect();
            let list = |l: &[String]| {
                if l.is_empty() {
                    "none".to_owned()
                } else {
                    l.join(", ")
                }
            };
            if r.quorum_met {
                (
                    Status::Passed,
                    format!(
                        "the policy's quorum is met: cosigned by {}",
                        list(&cosigned)
                    ),
                )
            } else {
                (
                    Status::Untrusted,
                    format!(
                        "the policy's quorum is not met: cosigned by {}, missing {}",
                        list(&cosigned),
                        list(&r.missing)
                    ),
                )
            }
        }
        Err(PolicyCheckError::NotSignedByPolicyLog) => (
            Status::Untrusted,
            "the checkpoint is not signed by a log the policy names".into(),
        ),
        Err(e) => (Status::Failed, e.to_string()),
    }
}

/// The EVM anchors of a certificate or anchor history, with the checkpoint body each
/// anchors.
fn evm_anchors(bytes: &[u8]) -> Vec<(consentry_anchor::AnchorObject, String)> {
    use consentry_core::checkpoint::parse_signed_checkpoint;
    let body = |note: &str| parse_signed_checkpoint(note).map(|(cp, _)| cp.body()).ok();
    let mut out = Vec::new();
    if let Ok(cert) = serde_json::from_slice::<consentry_core::certificate::Certificate>(bytes) {
        if let Some(b) = body(&cert.checkpoint) {
            out.extend(cert.anchors.into_iter().map(|a| (a, b.clone())));
        }
    } else if let Ok(h) = serde_json::from_slice::<consentry_core::history::AnchorHistory>(bytes) {
        for e in h.checkpoints {
            if let Some(b) = body(&e.checkpoint) {
                out.extend(e.anchors.into_iter().map(|a| (a, b.clone())));
            }
        }
    }
    out.retain(|(a, _)| AnchorKind::of(a) == Ok(AnchorKind::Evm));
    out
}

/// `--rpc`: each EVM anchor checked against the chosen node; returns the checks to
/// report, and adds each block the node confirms (calldata, chain and block hash as the
/// anchor says) to the trusted blocks. A node that cannot be reached leaves the anchor
/// unrooted.
fn check_online(
    rpc: &str,
    bytes: &[u8],
    trusted: &mut TrustedKeys,
) -> Result<Vec<(Status, String)>, String> {
    let anchors = evm_anchors(bytes);
    let mut out = Vec::new();
    if anchors.is_empty() {
        out.push((
            Status::NotChecked,
            "--rpc given but the document has no EVM anchor".to_owned(),
        ));
        return Ok(out);
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    for (anchor, body) in anchors {
        match rt.block_on(consentry_anchor::evm::check_online(rpc, &anchor, &body)) {
            Ok(c) => {
                let ok = c.chain_id_matches && c.calldata_matches && c.block_hash_matches;
                let status = if ok { Status::Passed } else { Status::Failed };
                if ok && let Some(hash) = anchor.get("block_hash").and_then(|h| h.as_str()) {
                    trusted.evm_blocks.push(hash.to_ascii_lowercase());
                }
                out.push((
                    status,
                    format!(
                        "checked online at {}: {}; {} confirmation(s)",
                        redact_url(rpc),
                        c.detail,
                        c.confirmations
                    ),
                ));
            }
            Err(e) => out.push((
                Status::Untrusted,
                format!(
                    "not checked online: the node at {} could not be used: {e}",
                    redact_url(rpc)
                ),
            )),
        }
    }
    Ok(out)
}

/// A node URL without its path and query, which often hold an API key.
fn redact_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let host = rest.split(['/', '?']).next().unwrap_or(rest);
            let host = host.rsplit('@').next().unwrap_or(host);
            format!("{scheme}://{host}")
        }
        None => "the node".to_owned(),
    }
}

fn read_input(args: &VerifyArgs) -> Result<Vec<u8>, String> {
    read_document(&args.file)
}

/// Reads a document file (`-` for standard input), at most one byte past the verifier's
/// size limit so that an oversized file is refused rather than read whole.
pub fn read_document(path: &std::path::Path) -> Result<Vec<u8>, String> {
    let limit = consentry_core::verify::MAX_DOCUMENT_BYTES as u64 + 1;
    let mut bytes = Vec::new();
    let read = if path.as_os_str() == "-" {
        std::io::stdin().take(limit).read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(limit).read_to_end(&mut bytes))
    };
    read.map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(bytes)
}

fn print_human(report: &Report) {
    let kind = match report.kind {
        consentry_core::verify::DocumentKind::Proof => "proof",
        consentry_core::verify::DocumentKind::Certificate => "certificate",
        consentry_core::verify::DocumentKind::TlogProof => "tlog-proof",
        consentry_core::verify::DocumentKind::AnchorHistory => "anchor history",
        consentry_core::verify::DocumentKind::Event => "event",
    };
    println!("{kind} {}", report.proof_id);
    if !report.leaf_hash.is_empty() {
        println!("leaf hash {}", report.leaf_hash);
    }
    if let Some(t) = &report.anchored_by {
        println!("anchored by {t}");
    }
    for check in &report.checks {
        let mark = match check.status {
            Status::Passed => "ok     ",
            Status::Failed => "FAILED ",
            Status::NotChecked => "skipped",
            Status::Untrusted => "UNROOTED",
        };
        println!("  {mark} {:<21} {}", check.name, check.detail);
    }
    match (report.verdict, report.first_failure()) {
        (Verdict::Invalid, Some(f)) => println!("INVALID: {}: {}", f.name, f.detail),
        (Verdict::Invalid, None) => println!("INVALID"),
        (Verdict::Untrusted, _) => {
            let unrooted: Vec<&str> = report
                .checks
                .iter()
                .filter(|c| c.status == Status::Untrusted)
                .map(|c| c.name)
                .collect();
            println!(
                "UNTRUSTED: the signatures and maths hold, but not rooted in what you pinned: {} (see each line above for what to pin)",
                unrooted.join(", ")
            );
        }
        (Verdict::Valid, _) => println!("VALID"),
    }
}
