//! Sealed PDFs end to end, checked by tools this project did not write: poppler's `pdfsig`
//! (with the seal's CA imported into an NSS database), `pdfdetach`, `pdffonts`,
//! `qpdf --check`, and pyHanko (`tests/pdf/check_sealed_pdf.py`) with only the seal's CA
//! and the TSA's root as trust roots. The TSA is down when the first PDF is sealed (B-B),
//! then comes up: the kept PDF is upgraded in place to B-T.

use crate::chain::free_port;
use crate::service::{add_contact, consent};
use crate::tsa::{Alg, Pki, TsaServer};
use crate::util::{Db, Env, Server, get, post};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const ADMIN: &str = "admin-token-for-the-tests-0123456789";

fn python() -> String {
    std::env::var("CONSENTRY_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn tool(name: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(name)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{name} is required (scripts/test installs it): {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// pyHanko's verdict on `pdf`, trusting only `roots`; (exit code, JSON report).
fn pyhanko(pdf: &Path, roots: &[&Path], level: &str, extract: Option<&Path>) -> (i32, Value) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/pdf/check_sealed_pdf.py");
    let mut cmd = Command::new(python());
    cmd.arg("-W").arg("ignore").arg(&script).arg(pdf);
    for root in roots {
        cmd.arg("--trust").arg(root);
    }
    cmd.args(["--level", level]);
    if let Some(dir) = extract {
        cmd.arg("--extract").arg(dir);
    }
    let out = cmd.output().expect("run the pyHanko checker");
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "pyHanko checker printed no report ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), report)
}

/// An NSS database trusting `ca` for `pdfsig -nssdir`.
fn nss_trusting(dir: &Path, ca: &Path) -> String {
    std::fs::create_dir_all(dir).unwrap();
    let db = format!("sql:{}", dir.display());
    let (ok, out) = tool("certutil", &["-N", "-d", &db, "--empty-password"]);
    assert!(ok, "{out}");
    let ca = ca.display().to_string();
    let (ok, out) = tool(
        "certutil",
        &["-A", "-d", &db, "-n", "seal-ca", "-t", "C,C,C", "-i", &ca],
    );
    assert!(ok, "{out}");
    db
}

fn save(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// Everything a reader's tools check on a sealed PDF that does not depend on its level.
fn assert_sealed_pdf_a(pdf: &Path, nss: &str) {
    let path = pdf.display().to_string();
    let (ok, out) = tool("pdfsig", &["-nssdir", nss, &path]);
    assert!(ok, "{out}");
    assert!(out.contains("Signature is Valid."), "{out}");
    assert!(out.contains("Certificate is Trusted."), "{out}");
    assert!(out.contains("Total document signed"), "{out}");
    assert!(out.contains("ETSI.CAdES.detached"), "{out}");
    let (ok, out) = tool("qpdf", &["--check", &path]);
    assert!(ok, "{out}");
    assert!(out.contains("No syntax or stream encoding errors"), "{out}");
    let (ok, out) = tool("pdffonts", &[&path]);
    assert!(ok, "{out}");
    let fonts: Vec<&str> = out.lines().skip(2).collect();
    assert!(!fonts.is_empty(), "{out}");
    for line in fonts {
        let cols: Vec<&str> = line.split_whitespace().collect();
        // name type… encoding emb sub uni object ID: "emb" is the 5th column from the end.
        assert_eq!(cols[cols.len() - 5], "yes", "font not embedded: {line}");
    }
}

/// The attachment `pdfdetach` extracts from `pdf`.
fn detached(dir: &Path, pdf: &Path) -> Vec<u8> {
    let out = dir.join(format!("detached-{:x}", rand::random::<u32>()));
    let (ok, text) = tool(
        "pdfdetach",
        &[
            "-save",
            "1",
            "-o",
            &out.display().to_string(),
            &pdf.display().to_string(),
        ],
    );
    assert!(ok, "{text}");
    std::fs::read(out).unwrap()
}

fn sealed_pdfs(db: Db) {
    let env = Env::new(db);
    let dir = env.dir.path().to_owned();
    let pki = Pki::new(Alg::Ec);
    let tsa_port = free_port();
    let tsa_url = format!("http://127.0.0.1:{tsa_port}/");
    let root = pki.path("root.pem");
    let s = Server::start(
        &env,
        &[
            "--anchor-rfc3161-url",
            &tsa_url,
            "--anchor-rfc3161-ca",
            &root.display().to_string(),
            "--pdf-seal-upgrade",
            "1",
            "--admin-token",
            ADMIN,
        ],
    );
    let (_t, key) = env.tenant("Boulangerie Dupré");
    let contact = add_contact(&s, &key, "jean.dupont@example.fr");
    let proof: Value =
        serde_json::from_slice(&consent(&s, &key, &contact, "newsletter", "granted")).unwrap();
    let id = proof["id"].as_str().unwrap();
    let json = get(&s.url(&format!("/v1/proofs/{id}")), Some(&key)).body;

    // The seal's chain is published; a self-issued seal's CA is its last certificate.
    let well_known = get(&s.url("/.well-known/consentry.json"), None).json();
    let seal = &well_known["pdf_seal"];
    assert_eq!(seal["self_issued"], true, "{seal}");
    assert_eq!(seal["qualified"], false, "{seal}");
    let chain = seal["chain_pem"].as_str().unwrap();
    let ca_pem = format!(
        "-----BEGIN CERTIFICATE-----{}",
        chain.rsplit("-----BEGIN CERTIFICATE-----").next().unwrap()
    );
    let ca = save(&dir, "seal-ca.pem", ca_pem.as_bytes());
    let nss = nss_trusting(&dir.join("nss"), &ca);

    // The TSA is down: the PDF is sealed B-B, and kept.
    let first = get(&s.url(&format!("/v1/proofs/{id}.pdf")), Some(&key));
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(first.content_type, "application/pdf");
    let bb = save(&dir, "bb.pdf", &first.body);
    assert_sealed_pdf_a(&bb, &nss);
    assert_eq!(
        detached(&dir, &bb),
        json,
        "the attached proof is the sealed JSON"
    );
    let (code, report) = pyhanko(&bb, &[&ca], "B-B", None);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["trusted"], true);
    assert_eq!(
        report["attachments"][format!("{id}.json")]["relationship"],
        "/Source"
    );
    let text = crate::service::pdftotext(&env, &first.body);
    assert!(text.contains("self-issued seal"), "{text}");
    assert!(text.contains("not a qualified"), "{text}");

    // Untrusted roots: pyHanko says the signature holds but nothing roots the signer.
    let (code, report) = pyhanko(&bb, &[&root], "B-B", None);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["intact"], true);
    assert_eq!(report["trusted"], false);

    // One byte changed in what the seal covers: both tools refuse it.
    let mut forged = first.body.clone();
    let at = forged
        .windows(6)
        .position(|w| w == b"/Title")
        .expect("a /Title entry");
    forged[at + 8] ^= 0x01;
    let forged_path = save(&dir, "forged.pdf", &forged);
    let (_, out) = tool(
        "pdfsig",
        &["-nssdir", &nss, &forged_path.display().to_string()],
    );
    assert!(!out.contains("Signature is Valid."), "{out}");
    let (code, report) = pyhanko(&forged_path, &[&ca], "B-B", None);
    assert_eq!(code, 1, "{report:#}");

    // The TSA comes up: the kept PDF is upgraded to B-T in place, and downloads serve it.
    let _tsa = TsaServer::start_on(&pki.config, tsa_port);
    let deadline = Instant::now() + Duration::from_secs(30);
    let bt = loop {
        let again = get(&s.url(&format!("/v1/proofs/{id}.pdf")), Some(&key));
        assert_eq!(again.status, 200);
        if again.body != first.body {
            break again.body;
        }
        assert!(
            Instant::now() < deadline,
            "not upgraded to B-T in time\n{}",
            s.logs()
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    assert_eq!(bt.len(), first.body.len(), "upgraded in place");
    let bt_path = save(&dir, "bt.pdf", &bt);
    assert_sealed_pdf_a(&bt_path, &nss);
    let (code, report) = pyhanko(&bt_path, &[&ca, &root], "B-T", None);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["timestamp"]["trusted"], true, "{report:#}");
    // The time-stamp's TSA must be rooted too: with the seal's CA alone, B-T fails.
    let (code, _) = pyhanko(&bt_path, &[&ca], "B-T", None);
    assert_eq!(code, 1);
    // Made once, kept: the next download is the same file.
    let kept = get(&s.url(&format!("/v1/proofs/{id}.pdf")), Some(&key));
    assert_eq!(kept.body, bt);

    // A certificate PDF, sealed B-T at once (the TSA is up), carries the certificate JSON.
    let r = post(
        &s.url("/v1/admin/anchor"),
        Some(ADMIN),
        &serde_json::json!({}),
    );
    assert_eq!(r.status, 202, "{}", r.text());
    let deadline = Instant::now() + Duration::from_secs(30);
    let cert_json = loop {
        let r = get(&s.url(&format!("/v1/proofs/{id}/certificate")), Some(&key));
        if r.status == 200 {
            break r.body;
        }
        assert!(Instant::now() < deadline, "no certificate: {}", r.text());
        std::thread::sleep(Duration::from_millis(300));
    };
    let cert_pdf = get(
        &s.url(&format!("/v1/proofs/{id}/certificate.pdf")),
        Some(&key),
    );
    assert_eq!(cert_pdf.status, 200, "{}", cert_pdf.text());
    let cert_path = save(&dir, "cert.pdf", &cert_pdf.body);
    assert_sealed_pdf_a(&cert_path, &nss);
    assert_eq!(detached(&dir, &cert_path), cert_json);
    let (code, report) = pyhanko(&cert_path, &[&ca, &root], "B-T", None);
    assert_eq!(code, 0, "{report:#}");

    // A disclosure as a sealed PDF: the disclosure and the proof attached, never kept.
    let answer = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent()
        .post(&s.url(&format!("/v1/proofs/{id}/disclosure")))
        .header("Authorization", &format!("Bearer {key}"))
        .header("Content-Type", "application/json")
        .header("Accept", "application/pdf")
        .header("Accept-Language", "fr")
        .send(r#"{"ground":"legal-claim","fields":["name"]}"#)
        .unwrap();
    assert_eq!(answer.status(), 201);
    let disclosure_pdf = answer.into_body().read_to_vec().unwrap();
    let d_path = save(&dir, "disclosure.pdf", &disclosure_pdf);
    assert_sealed_pdf_a(&d_path, &nss);
    let extracted = dir.join("extracted");
    std::fs::create_dir_all(&extracted).unwrap();
    let (code, report) = pyhanko(&d_path, &[&ca, &root], "B-T", Some(&extracted));
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        std::fs::read(extracted.join(format!("{id}.json"))).unwrap(),
        json,
        "the proof attached to the disclosure is the sealed proof"
    );
    let disclosure: Value = serde_json::from_slice(
        &std::fs::read(extracted.join(format!("{id}.disclosure.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(disclosure["address"], "jean.dupont@example.fr");
    assert_eq!(disclosure["asserted"]["name"], "Test Person");
    let text = crate::service::pdftotext(&env, &disclosure_pdf);
    assert!(text.contains("jean.dupont@example.fr"), "{text}");
    assert!(text.contains("action en justice"), "{text}");
    assert!(text.contains("sans engagement dans la preuve"), "{text}");
}

#[test]
fn sealed_pdfs_sqlite() {
    sealed_pdfs(Db::Sqlite);
}

#[test]
fn sealed_pdfs_postgres() {
    sealed_pdfs(Db::Postgres);
}
