//! `consentry verify FILE`: offline verification of a proof or certificate.
//!
//! The checks themselves live in the core (`consentry_core::verify`), the same code the
//! `/verify` page runs in the browser; this module reads the file, prints the report for a
//! person or as JSON, and maps the outcome to the exit status: 0 valid, 1 invalid,
//! 2 unusable input.

use consentry_core::keys::SealPublicKey;
use consentry_core::verify::{Report, Status, TrustedKeys, verify_document};
use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `consentry verify`.
#[derive(clap::Args)]
pub struct VerifyArgs {
    /// The proof or certificate JSON file, or a `c2sp.org/tlog-proof@v1` file exported
    /// from a certificate (`-` for standard input).
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
}

const EXIT_INVALID: u8 = 1;
const EXIT_UNUSABLE: u8 = 2;

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
            if report.valid {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(EXIT_INVALID)
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
    let bytes = read_input(args)?;
    verify_document(&bytes, &trusted).map_err(|e| e.to_string())
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
    };
    println!("{kind} {}", report.proof_id);
    println!("leaf hash {}", report.leaf_hash);
    for check in &report.checks {
        let mark = match check.status {
            Status::Passed => "ok     ",
            Status::Failed => "FAILED ",
            Status::NotChecked => "skipped",
        };
        println!("  {mark} {:<21} {}", check.name, check.detail);
    }
    match report.first_failure() {
        None => println!("VALID"),
        Some(f) => println!("INVALID: {}: {}", f.name, f.detail),
    }
}
