//! A seal certificate the operator brings, issued by a CA this project did not write
//! (`openssl`), in both key types seal certificates use (RSA and ECDSA P-256): the PDF
//! sealed with it validates in pyHanko against that CA and in poppler's `pdfsig`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::disallowed_methods)] // the certificates openssl issues are valid from now

use consentry_pdf::{Language, ProofSummary, SealIdentity, Sealing, proof_pdf};
use std::path::Path;
use std::process::Command;

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl is required");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA and a seal certificate it issues, keys made by `newkey` (an `openssl req -newkey`
/// argument); returns (chain PEM, key PEM, CA path).
fn issue(dir: &Path, newkey: &[&str]) -> (String, String) {
    std::fs::write(
        dir.join("seal.ext"),
        "keyUsage=critical,digitalSignature,nonRepudiation\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    let ca: Vec<&str> = ["req", "-x509"]
        .into_iter()
        .chain(newkey.iter().copied())
        .chain([
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "30",
            "-subj",
            "/O=Seal Tests/CN=Seal Test CA",
        ])
        .collect();
    openssl(dir, &ca);
    let csr: Vec<&str> = ["req"]
        .into_iter()
        .chain(newkey.iter().copied())
        .chain([
            "-nodes",
            "-keyout",
            "seal.key",
            "-out",
            "seal.csr",
            "-utf8",
            "-subj",
            "/O=Boulangerie Dupré/CN=Boulangerie Dupré seal",
        ])
        .collect();
    openssl(dir, &csr);
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "seal.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "seal.pem",
            "-days",
            "30",
            "-extfile",
            "seal.ext",
        ],
    );
    let chain = std::fs::read_to_string(dir.join("seal.pem")).unwrap()
        + &std::fs::read_to_string(dir.join("ca.pem")).unwrap();
    let key = std::fs::read_to_string(dir.join("seal.key")).unwrap();
    (chain, key)
}

fn summary() -> ProofSummary {
    ProofSummary {
        language: Language::Fr,
        sender_name: "Boulangerie Dupré".into(),
        subject: "sub_01JD2K3M4N5P6Q7R8S9T0V1W2X".into(),
        purpose: "Lettre d’information".into(),
        decision: "granted".into(),
        method: "manual".into(),
        recorded_at_utc: "2026-11-23T19:04:05.123Z".into(),
        recorded_at_local: "23/11/2026 20:04:05 (Europe/Paris)".into(),
        given_at_local: None,
        proof_id: "prf_01JD2K3M4N5P6Q7R8S9T0V1W2X".into(),
        log_index: 7,
        log_origin: "consentry.example/log".into(),
        seal_key_fingerprint: "3f".repeat(32),
        leaf_hash: "a7".repeat(32),
        verify_url: "https://consentry.example/verify".into(),
    }
}

fn check(newkey: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let (chain, key) = issue(dir.path(), newkey);
    let identity = SealIdentity::from_pem(&chain, &key).unwrap();
    assert!(!identity.is_self_issued() && !identity.is_qualified());
    assert_eq!(identity.holder(), "Boulangerie Dupré seal");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let sealing = Sealing {
        identity: &identity,
        sealed_at_unix: i64::try_from(now).unwrap(),
        attachments: vec![],
    };
    let pdf = proof_pdf(&summary(), &sealing).unwrap();
    let path = dir.path().join("sealed.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let out = Command::new("pdfsig")
        .arg(&path)
        .output()
        .expect("pdfsig (poppler-utils) is required");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Signature is Valid."), "{text}");
    assert!(text.contains("Boulangerie Dupré seal"), "{text}");
    let python = std::env::var("CONSENTRY_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/pdf/check_sealed_pdf.py");
    let out = Command::new(python)
        .args(["-W", "ignore"])
        .arg(script)
        .arg(&path)
        .arg("--trust")
        .arg(dir.path().join("ca.pem"))
        .args(["--level", "B-B"])
        .output()
        .expect("run the pyHanko checker");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn an_rsa_seal_issued_by_openssl_validates() {
    check(&["-newkey", "rsa:2048"]);
}

#[test]
fn an_ecdsa_p256_seal_issued_by_openssl_validates() {
    check(&["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]);
}
