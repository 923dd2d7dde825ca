//! A co-managed log: the service submits its checkpoints to three `consentry witness`
//! processes on loopback (quorum 2), serves the cosigned checkpoint, anchors only
//! witnessed checkpoints (`--anchor-unwitnessed wait`), and a verifier enforces its own
//! witness policy on the certificate (`consentry verify --policy`).

use crate::anchoring::verify;
use crate::service::{add_contact, consent};
use crate::tsa::{Alg, Pki, TsaServer};
use crate::util::{BIN, Db, Env, Server, get, post};
use serde_json::Value;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ADMIN: &str = "admin-token-for-the-tests-0123456789";

/// A running `consentry witness`; killed when dropped.
struct Witness {
    child: Child,
    url: String,
    vkey: String,
}

impl Witness {
    fn start(dir: &Path, name: &str, log_vkey: &str) -> Witness {
        let data = dir.join(name);
        let out = Command::new(BIN)
            .args(["witness", "--print-vkey", "--name", name, "--data-dir"])
            .arg(&data)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let vkey = String::from_utf8(out.stdout).unwrap().trim().to_owned();
        let mut child = Command::new(BIN)
            .args([
                "witness",
                "--listen",
                "127.0.0.1:0",
                "--name",
                name,
                "--data-dir",
            ])
            .arg(&data)
            .args(["--log", log_vkey])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let url = line
            .trim()
            .strip_prefix("consentry witness listening on ")
            .unwrap_or_else(|| panic!("witness did not start: {line:?}"))
            .to_owned();
        Witness { child, url, vkey }
    }

    fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Witness {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The cosignature lines of the note `/checkpoint` serves (the log's own line excluded).
fn cosignatures(s: &Server, log_vkey: &str) -> (u64, usize) {
    let note = get(&s.url("/checkpoint"), None).text();
    let size: u64 = note.lines().nth(1).unwrap().parse().unwrap();
    let log_name = log_vkey.split('+').next().unwrap();
    let lines = note
        .rsplit_once("\n\n")
        .map(|(_, sigs)| {
            sigs.lines()
                .filter(|l| !l.starts_with(&format!("— {log_name} ")))
                .count()
        })
        .unwrap_or(0);
    (size, lines)
}

/// Waits until the served checkpoint is at least `size` with at least `n` cosignatures.
fn wait_cosigned(s: &Server, log_vkey: &str, size: u64, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (got_size, got) = cosignatures(s, log_vkey);
        if got_size >= size && got >= n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "checkpoint {got_size} has {got} cosignatures, waited for {n} on size {size}\n{}",
            s.logs()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A verifier's policy: the log, the witnesses (verifier key, URL), a quorum.
/// The independent Python check of the served checkpoint's signatures
/// (`tests/independent/verify_cosignatures.py`): its exit status and report.
fn python_check(
    dir: &Path,
    note: &str,
    log_vkey: &str,
    witnesses: &[String],
    quorum: Option<usize>,
) -> (i32, String) {
    let file = dir.join(format!("note-{:08x}.txt", rand::random::<u32>()));
    std::fs::write(&file, note).unwrap();
    let python = std::env::var("CONSENTRY_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/independent/verify_cosignatures.py");
    let mut cmd = Command::new(python);
    cmd.arg(script).arg(&file).arg(log_vkey).args(witnesses);
    if let Some(k) = quorum {
        cmd.args(["--quorum", &k.to_string()]);
    }
    let out = cmd.output().expect("run the Python cosignature check");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

fn policy(dir: &Path, log_vkey: &str, witnesses: &[(String, String)], quorum: usize) -> PathBuf {
    let mut text = format!("log {log_vkey}\n");
    for (i, (vkey, url)) in witnesses.iter().enumerate() {
        text.push_str(&format!("witness w{i} {vkey} {url}\n"));
    }
    let names: Vec<String> = (0..witnesses.len()).map(|i| format!("w{i}")).collect();
    text.push_str(&format!("group g {quorum} {}\nquorum g\n", names.join(" ")));
    let path = dir.join(format!("policy-{quorum}.txt"));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_quorum_of_witnesses_cosigns_and_anchoring_waits_without_it() {
    let env = Env::new(Db::Sqlite);
    let dir = env.dir.path().to_owned();
    // First start: the log's keys, and its verifier key for the witnesses to follow.
    let first = env.start();
    let well_known = get(&first.url("/.well-known/consentry.json"), None).json();
    let log_vkey = well_known["log"]["verifier_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let seal_key = well_known["seal_keys"][0]["public_key"]
        .as_str()
        .unwrap()
        .to_owned();
    first.terminate();

    let witnesses: Vec<Witness> = ["w1.test", "w2.test", "w3.test"]
        .iter()
        .map(|n| Witness::start(&dir, n, &log_vkey))
        .collect();
    let pki = Pki::new(Alg::Ec);
    let tsa = TsaServer::start(&pki.config);
    let root = pki.path("root.pem").display().to_string();
    let mut args: Vec<String> = vec![
        "--witness-quorum".into(),
        "2".into(),
        "--anchor-unwitnessed".into(),
        "wait".into(),
        "--anchor-rfc3161-url".into(),
        tsa.url.clone(),
        "--anchor-rfc3161-ca".into(),
        root.clone(),
        "--admin-token".into(),
        ADMIN.into(),
    ];
    for w in &witnesses {
        args.push("--witness".into());
        args.push(format!("{}={}", w.vkey, w.url));
    }
    let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let s = Server::start(&env, &arg_refs);
    let listed = get(&s.url("/.well-known/consentry.json"), None).json();
    assert_eq!(listed["witnesses"].as_array().unwrap().len(), 3, "{listed}");
    assert_eq!(
        listed["witnesses"][0]["verifier_key"],
        witnesses[0].vkey.as_str()
    );
    let (_t, key) = env.tenant("ACME SAS");
    let contact = add_contact(&s, &key, "ada@example.org");
    let proof: Value =
        serde_json::from_slice(&consent(&s, &key, &contact, "newsletter", "granted")).unwrap();
    let id = proof["id"].as_str().unwrap().to_owned();
    wait_cosigned(&s, &log_vkey, 1, 3);
    // The cosignatures, checked by code this project's Rust did not write.
    let vkeys: Vec<String> = witnesses.iter().map(|w| w.vkey.clone()).collect();
    let note = get(&s.url("/checkpoint"), None).text();
    let (code, out) = python_check(&dir, &note, &log_vkey, &vkeys, None);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.matches(": valid (time").count(), 3, "{out}");
    // One byte of one cosignature changed: that witness no longer counts.
    // (a character well inside the base64 signature, past the key ID and timestamp)
    let last = note.trim_end_matches('\n').rfind(' ').unwrap() + 40;
    let mut forged = note.clone().into_bytes();
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
    let (code, out) = python_check(
        &dir,
        &String::from_utf8(forged).unwrap(),
        &log_vkey,
        &vkeys,
        None,
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("INVALID"), "{out}");

    // One witness down: the quorum of two is still met.
    let all: Vec<(String, String)> = witnesses
        .iter()
        .map(|w| (w.vkey.clone(), w.url.clone()))
        .collect();
    let mut witnesses = witnesses;
    let w3 = witnesses.pop().unwrap();
    w3.kill9();
    consent(&s, &key, &contact, "sms", "granted");
    wait_cosigned(&s, &log_vkey, 2, 2);
    let note = get(&s.url("/checkpoint"), None).text();
    assert_eq!(python_check(&dir, &note, &log_vkey, &vkeys, Some(2)).0, 0);
    assert_eq!(python_check(&dir, &note, &log_vkey, &vkeys, None).0, 1);

    // Anchoring takes the witnessed checkpoint; the certificate carries its cosignatures.
    let r = post(
        &s.url("/v1/admin/anchor"),
        Some(ADMIN),
        &serde_json::json!({}),
    );
    assert_eq!(r.status, 202, "{}", r.text());
    let deadline = Instant::now() + Duration::from_secs(30);
    let cert = loop {
        let r = get(&s.url(&format!("/v1/proofs/{id}/certificate")), Some(&key));
        if r.status == 200 {
            break r.body;
        }
        assert!(Instant::now() < deadline, "{}", r.text());
        std::thread::sleep(Duration::from_millis(300));
    };
    // A figure for docs/benchmarks.md (printed, never asserted): the certificate's size and
    // what the cosignature lines add to it.
    let parsed: Value = serde_json::from_slice(&cert).unwrap();
    let note = parsed["checkpoint"].as_str().unwrap();
    let cosignature_bytes: usize = note
        .rsplit_once("\n\n")
        .map(|(_, sigs)| sigs.lines().skip(1).map(|l| l.len() + 1).sum())
        .unwrap_or(0);
    eprintln!(
        "certificate with a 2-of-3 cosigned checkpoint: {} bytes, of which {cosignature_bytes} bytes of cosignature lines",
        cert.len()
    );
    let cert_path = dir.join("cert.json");
    std::fs::write(&cert_path, &cert).unwrap();
    let pins = [
        "--seal-key",
        seal_key.as_str(),
        "--log-key",
        log_vkey.as_str(),
        "--tsa-ca",
        root.as_str(),
    ];
    // The verifier's own policy, two of the three: valid.
    let two = policy(&dir, &log_vkey, &all, 2).display().to_string();
    let (code, report) = verify(&cert_path, &[pins.as_slice(), &["--policy", &two]].concat());
    assert_eq!(code, 0, "{report:#}");
    let check = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "witness_policy")
        .unwrap()
        .clone();
    assert_eq!(check["status"], "passed", "{check}");
    // A verifier asking for all three, one of which was down: untrusted, not valid.
    let three = policy(&dir, &log_vkey, &all, 3).display().to_string();
    let (code, report) = verify(
        &cert_path,
        &[pins.as_slice(), &["--policy", &three]].concat(),
    );
    assert_eq!(code, 3, "{report:#}");

    // Two witnesses down: checkpoints are published unwitnessed, and anchoring waits.
    let w2 = witnesses.pop().unwrap();
    w2.kill9();
    consent(&s, &key, &contact, "post", "granted");
    let deadline = Instant::now() + Duration::from_secs(30);
    while cosignatures(&s, &log_vkey).0 < 3 {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_millis(1500));
    let (size, lines) = cosignatures(&s, &log_vkey);
    assert!(size >= 3 && lines < 2, "size {size}, {lines} cosignatures");
    let r = post(
        &s.url("/v1/admin/anchor"),
        Some(ADMIN),
        &serde_json::json!({}),
    );
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(r.text().contains("awaiting-witnesses"), "{}", r.text());
}

/// A lying operator: a copy of the log's data (same keys, same first entry) run as a second
/// process that takes other entries and shows its checkpoints to the same three witnesses.
/// Every witness refuses it and keeps the evidence; the copy's checkpoint carries no
/// cosignature; a mirror of the honest log refuses to follow the copy; the honest log goes
/// on being cosigned.
#[test]
fn a_lying_copy_of_the_log_is_refused_by_every_witness_and_by_the_mirror() {
    let env = Env::new(Db::Sqlite);
    let dir = env.dir.path().to_owned();
    let first = env.start();
    let log_vkey =
        get(&first.url("/.well-known/consentry.json"), None).json()["log"]["verifier_key"]
            .as_str()
            .unwrap()
            .to_owned();
    let (_t, key) = env.tenant("ACME SAS");
    let contact = add_contact(&first, &key, "ada@example.org");
    consent(&first, &key, &contact, "newsletter", "granted");
    crate::service::checkpoint_covering(&first, 1);
    assert!(first.terminate().success());
    let copy = Env::new(Db::Sqlite);
    crate::monitor::fork(&env, &copy);

    let witnesses: Vec<Witness> = ["w1.test", "w2.test", "w3.test"]
        .iter()
        .map(|n| Witness::start(&dir, n, &log_vkey))
        .collect();
    let mut args: Vec<String> = Vec::new();
    for w in &witnesses {
        args.push("--witness".into());
        args.push(format!("{}={}", w.vkey, w.url));
    }
    let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let s = Server::start(&env, &arg_refs);
    consent(&s, &key, &contact, "sms", "granted");
    consent(&s, &key, &contact, "offers", "granted");
    wait_cosigned(&s, &log_vkey, 3, 3);
    let mirror = |from: &Server, into: &Path| {
        Command::new(BIN)
            .args(["mirror", "--from", &from.url(""), "--log-key", &log_vkey])
            .arg(into)
            .output()
            .unwrap()
    };
    let copy_dir = dir.join("mirror");
    let out = mirror(&s, &copy_dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The lying copy: other entries after the first, more of them.
    let liar = Server::start(&copy, &arg_refs);
    let stranger = add_contact(&liar, &key, "someone.else@example.org");
    for purpose in ["newsletter", "offers", "sms", "survey"] {
        consent(&liar, &key, &stranger, purpose, "granted");
    }
    crate::service::checkpoint_covering(&liar, 5);
    // Every witness keeps evidence of it…
    let deadline = Instant::now() + Duration::from_secs(30);
    for w in &witnesses {
        loop {
            let page = get(&format!("{}/evidence", w.url), None).json();
            let items = page["evidence"].as_array().cloned().unwrap_or_default();
            if !items.is_empty() {
                for e in &items {
                    for field in ["cosigned_checkpoint", "conflicting_checkpoint"] {
                        consentry_core::checkpoint::verify_signed_checkpoint(
                            e[field].as_str().unwrap(),
                            &log_vkey,
                        )
                        .unwrap();
                    }
                }
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{} kept no evidence of the lying copy\n{}",
                w.url,
                liar.logs()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    // …and cosigned none of its checkpoints.
    let (size, cosigned) = cosignatures(&liar, &log_vkey);
    assert!(size >= 5);
    assert_eq!(cosigned, 0, "a witness cosigned the lying copy");
    // The mirror that followed the honest log refuses the copy and keeps its copy.
    let before = std::fs::read(copy_dir.join("checkpoint")).unwrap();
    let out = mirror(&liar, &copy_dir);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("split view"), "{stderr}");
    assert_eq!(std::fs::read(copy_dir.join("checkpoint")).unwrap(), before);
    // The honest log is still cosigned as it grows.
    consent(&s, &key, &contact, "survey", "granted");
    wait_cosigned(&s, &log_vkey, 4, 3);
    drop(liar);
    drop(witnesses);
}
