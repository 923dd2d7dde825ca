//! Anchoring end to end: the real binary against a real `anvil` node and a real RFC 3161
//! TSA (`openssl ts`), checked with `consentry verify` offline and online.

use crate::chain::{Anvil, DEV_ADDRESS, dev_key_file, free_port};
use crate::service::{add_contact, consent};
use crate::util::{BIN, Db, Env, Res, Server, get, post};
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const ADMIN: &str = "admin-token-for-the-tests-0123456789";

fn evm_args(env: &Env, anvil_url: &str, confirmations: u64) -> Vec<String> {
    vec![
        "--anchor-evm-rpc".into(),
        anvil_url.into(),
        "--anchor-evm-key-file".into(),
        dev_key_file(env.dir.path()).display().to_string(),
        "--anchor-evm-confirmations".into(),
        confirmations.to_string(),
        "--anchor-poll".into(),
        "1".into(),
        "--admin-token".into(),
        ADMIN.into(),
    ]
}

fn start(env: &Env, args: &[String]) -> Server {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Server::start(env, &args)
}

fn anchor_now(s: &Server) -> Value {
    let r = post(
        &s.url("/v1/admin/anchor"),
        Some(ADMIN),
        &serde_json::json!({}),
    );
    assert_eq!(r.status, 202, "{}", r.text());
    r.json()
}

/// Polls the certificate until it is served (mining a block each round, so that
/// confirmations come), and returns it.
fn wait_certificate(s: &Server, key: &str, proof_id: &str, anvil: Option<&Anvil>) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = get(
            &s.url(&format!("/v1/proofs/{proof_id}/certificate")),
            Some(key),
        );
        if r.status == 200 {
            return r.json();
        }
        assert_eq!(r.status, 409, "{}", r.text());
        assert!(
            Instant::now() < deadline,
            "no certificate in time: {}\n{}",
            r.text(),
            s.logs()
        );
        if let Some(a) = anvil {
            a.mine(1);
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// `consentry verify FILE --json EXTRA…`: its exit status and JSON report.
pub(crate) fn verify(file: &Path, extra: &[&str]) -> (i32, Value) {
    let out = Command::new(BIN)
        .arg("verify")
        .arg(file)
        .arg("--json")
        .args(extra)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {} {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap(), report)
}

/// `--trust` with the service's own `/.well-known/consentry.json` (over HTTP), pinned in
/// a trust store of this test's own: the keys a verifier would pin on first use.
fn pins(env: &Env, s: &Server) -> Vec<String> {
    vec![
        "--trust".into(),
        s.url("/.well-known/consentry.json"),
        "--trust-store".into(),
        env.dir.path().join("trust").display().to_string(),
    ]
}

/// `pins` followed by `more`, as the arguments `verify` takes.
fn with<'a>(pins: &'a [String], more: &[&'a str]) -> Vec<&'a str> {
    pins.iter()
        .map(String::as_str)
        .chain(more.iter().copied())
        .collect()
}

fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {name} check in {report:#}"))
}

fn write(env: &Env, name: &str, v: &Value) -> std::path::PathBuf {
    let p = env.dir.path().join(name);
    std::fs::write(&p, serde_json::to_vec_pretty(v).unwrap()).unwrap();
    p
}

fn pending(r: &Res) {
    assert_eq!(r.status, 409, "{}", r.text());
    assert_eq!(r.content_type, "application/problem+json");
    let p = r.json();
    assert_eq!(p["type"], "urn:consentry:problem:pending");
    assert_eq!(p["status"], "pending");
}

fn evm_walk(db: Db) {
    let env = Env::new(db);
    let anvil = Anvil::start();
    let (_t, key) = env.tenant("ACME SAS");
    let s = start(&env, &evm_args(&env, &anvil.url(), 2));
    let contact = add_contact(&s, &key, "ada@example.org");
    let proof: Value =
        serde_json::from_slice(&consent(&s, &key, &contact, "newsletter", "granted")).unwrap();
    let id = proof["id"].as_str().unwrap();

    // Before any anchor: pending, as problem+json.
    pending(&get(
        &s.url(&format!("/v1/proofs/{id}/certificate")),
        Some(&key),
    ));
    pending(&get(
        &s.url(&format!("/v1/proofs/{id}/certificate.pdf")),
        Some(&key),
    ));
    // The admin route needs the operator's token.
    assert_eq!(
        post(
            &s.url("/v1/admin/anchor"),
            Some(&key),
            &serde_json::json!({})
        )
        .status,
        401
    );

    // A second proof, so that the first one's inclusion path is not empty.
    consent(&s, &key, &contact, "sms", "refused");
    let started = anchor_now(&s);
    assert_eq!(started["status"], "started", "{started}");
    let cert = wait_certificate(&s, &key, id, Some(&anvil));
    assert_eq!(cert["type"], "consentry.certificate/v1");
    assert_eq!(cert["proof"], proof);
    let anchor = &cert["anchors"][0];
    assert_eq!(anchor["kind"], "evm");
    assert_eq!(anchor["chain_id"], 31337);
    // The block it names is canonical on the node, with enough confirmations.
    let number = anchor["block_number"].as_u64().unwrap();
    assert_eq!(
        anvil.block_hash(number).as_deref(),
        anchor["block_hash"].as_str()
    );
    assert!(anvil.head() + 1 - number >= 2);
    // One transaction for the whole checkpoint, from the anchoring account, whose input is
    // the checkpoint body.
    assert_eq!(anvil.nonce(DEV_ADDRESS), 1);
    let tx = anvil.rpc(
        "eth_getTransactionByHash",
        serde_json::json!([anchor["tx_hash"]]),
    );
    let input = hex::decode(tx["input"].as_str().unwrap().trim_start_matches("0x")).unwrap();
    let note = cert["checkpoint"].as_str().unwrap();
    let body = note.split("\n\n").next().unwrap().to_owned() + "\n";
    assert_eq!(String::from_utf8(input).unwrap(), body);
    let receipt = anvil.rpc(
        "eth_getTransactionReceipt",
        serde_json::json!([anchor["tx_hash"]]),
    );
    eprintln!(
        "gas used by one anchor: {}",
        crate::chain::hex_u64(&receipt["gasUsed"])
    );

    // The published keys name the anchoring account and chain, for verifiers to pin.
    let wk = get(&s.url("/.well-known/consentry.json"), None).json();
    assert_eq!(wk["anchors"]["schedule"], "00:00 Europe/Paris");
    assert_eq!(wk["anchors"]["backends"][0]["kind"], "evm");
    assert_eq!(wk["anchors"]["backends"][0]["address"], DEV_ADDRESS);
    assert_eq!(wk["anchors"]["backends"][0]["chain_id"], 31337);
    assert_eq!(anchor["from"], DEV_ADDRESS);

    // Offline, the operator's keys pinned: the EVM anchor's proofs hold together, but
    // nothing roots its block (anyone can make a header and proofs): untrusted, exit 3,
    // and no "anchored by" date from it.
    let file = write(&env, "cert.json", &cert);
    let pins = pins(&env, &s);
    let (code, report) = verify(&file, &with(&pins, &[]));
    assert_eq!(code, 3, "{report:#}");
    assert_eq!(report["verdict"], "untrusted", "{report:#}");
    assert_eq!(check(&report, "anchor_evm")["status"], "untrusted");
    assert!(
        check(&report, "anchor_evm")["detail"]
            .as_str()
            .unwrap()
            .contains("--evm-block"),
        "{report:#}"
    );
    assert!(report.get("anchored_by").is_none(), "{report:#}");
    assert_eq!(check(&report, "seal_key")["status"], "passed");
    assert_eq!(check(&report, "log_key")["status"], "passed");
    // Nothing pinned at all: the seal and log keys are unrooted too.
    let (code, report) = verify(&file, &[]);
    assert_eq!(code, 3, "{report:#}");
    assert_eq!(check(&report, "seal_key")["status"], "untrusted");
    assert_eq!(check(&report, "log_key")["status"], "untrusted");
    // The block pinned by its hash (as compared with an explorer): valid, dated.
    let block = anchor["block_hash"].as_str().unwrap();
    let (code, report) = verify(&file, &with(&pins, &["--evm-block", block]));
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(check(&report, "anchor_evm")["status"], "passed");
    assert!(report["anchored_by"].is_string());
    // Online, against the node: the node roots the block.
    let (code, report) = verify(&file, &with(&pins, &["--rpc", &anvil.url()]));
    assert_eq!(code, 0, "{report:#}");
    assert!(report["anchored_by"].is_string());
    assert_eq!(
        check(&report, "anchor_evm_online")["status"],
        "passed",
        "{report:#}"
    );
    // Tampered: the anchor's block hash, or the checkpoint, no longer match.
    let mut bad = cert.clone();
    bad["anchors"][0]["block_hash"] = Value::String(format!("0x{}", "11".repeat(32)));
    let (code, report) = verify(&write(&env, "bad1.json", &bad), &[]);
    assert_eq!(code, 1);
    assert_eq!(check(&report, "anchor_evm")["status"], "failed");
    let mut bad = cert.clone();
    bad["anchors"][0]["evidence"]["transaction"] = Value::String("0x02".into());
    let (code, _) = verify(&write(&env, "bad2.json", &bad), &[]);
    assert_eq!(code, 1);

    // The auditor's script of docs/anchoring.md (curl, jq, sha256sum) agrees.
    let (ok, out) = audit_script(&env, &file, &anvil.url());
    assert!(ok && out.starts_with("OK"), "{out}");
    let mut bad = cert.clone();
    bad["inclusion"][0] = Value::String(consentry_core::merkle::Hash([9; 32]).to_base64());
    let (ok, out) = audit_script(&env, &write(&env, "bad3.json", &bad), &anvil.url());
    assert!(!ok && out.contains("inclusion path"), "{out}");

    // The PDF names the anchor.
    let pdf = get(
        &s.url(&format!("/v1/proofs/{id}/certificate.pdf")),
        Some(&key),
    );
    assert_eq!(pdf.status, 200);
    assert_eq!(pdf.content_type, "application/pdf");
    let text = crate::service::pdftotext(&env, &pdf.body);
    assert!(text.contains(anchor["tx_hash"].as_str().unwrap()), "{text}");
    assert!(text.contains("newsletter"), "{text}");

    // Nothing new: a second run anchors nothing.
    assert_eq!(anchor_now(&s)["status"], "nothing_new");
    assert_eq!(anvil.nonce(DEV_ADDRESS), 1);

    // A second proof goes to the next anchor; the first keeps its own.
    let proof2: Value =
        serde_json::from_slice(&consent(&s, &key, &contact, "calls", "refused")).unwrap();
    let id2 = proof2["id"].as_str().unwrap();
    pending(&get(
        &s.url(&format!("/v1/proofs/{id2}/certificate")),
        Some(&key),
    ));
    assert_eq!(anchor_now(&s)["status"], "started");
    let cert2 = wait_certificate(&s, &key, id2, Some(&anvil));
    assert_ne!(cert2["anchors"][0]["tx_hash"], anchor["tx_hash"]);
    let again = get(&s.url(&format!("/v1/proofs/{id}/certificate")), Some(&key)).json();
    assert_eq!(again["checkpoint"], cert["checkpoint"]);

    // The history links both anchored checkpoints with a consistency proof.
    let history = get(&s.url("/v1/log/anchors"), None).json();
    assert_eq!(history["type"], "consentry.anchors/v1");
    assert_eq!(history["checkpoints"].as_array().unwrap().len(), 2);
    assert!(
        !history["checkpoints"][1]["consistency"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let (code, report) = verify(
        &write(&env, "history.json", &history),
        &with(&pins, &["--rpc", &anvil.url()]),
    );
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(check(&report, "consistency")["status"], "passed");
    let mut forked = history.clone();
    forked["checkpoints"][1]["consistency"][0] =
        Value::String(consentry_core::merkle::Hash([7; 32]).to_base64());
    let (code, _) = verify(&write(&env, "forked.json", &forked), &[]);
    assert_eq!(code, 1);
    let metrics = get(&s.url("/metrics"), None).text();
    assert!(
        metrics.contains("consentry_anchors_completed_total{kind=\"evm\""),
        "{metrics}"
    );
}

#[test]
fn sqlite_evm_anchor_certificate_verifies_offline_and_online() {
    evm_walk(Db::Sqlite);
}

#[test]
fn postgres_evm_anchor_certificate_verifies_offline_and_online() {
    evm_walk(Db::Postgres);
}

/// A reorganisation removes the anchor's block: the service notices, anchors again, and
/// the certificate then names a canonical block.
#[test]
fn reorg_reanchors_and_certificate_follows_the_canonical_chain() {
    let env = Env::new(Db::Sqlite);
    let anvil = Anvil::start();
    let (_t, key) = env.tenant("ACME SAS");
    let s = start(&env, &evm_args(&env, &anvil.url(), 1));
    let contact = add_contact(&s, &key, "ada@example.org");
    let proof: Value =
        serde_json::from_slice(&consent(&s, &key, &contact, "newsletter", "granted")).unwrap();
    let id = proof["id"].as_str().unwrap();
    let snapshot = anvil.rpc("evm_snapshot", serde_json::json!([]));
    anchor_now(&s);
    let cert = wait_certificate(&s, &key, id, None);
    let old = cert["anchors"][0].clone();
    // Remove the block (and its transaction) from the chain, then let the chain grow
    // past it on another branch.
    anvil.rpc("evm_revert", serde_json::json!([snapshot]));
    anvil.mine(3);
    assert_ne!(
        anvil
            .block_hash(old["block_number"].as_u64().unwrap())
            .as_deref(),
        old["block_hash"].as_str()
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let new = loop {
        let r = get(&s.url(&format!("/v1/proofs/{id}/certificate")), Some(&key));
        if r.status == 200 {
            let a = r.json()["anchors"][0].clone();
            if a["block_hash"] != old["block_hash"] {
                break a;
            }
        }
        assert!(
            Instant::now() < deadline,
            "not re-anchored: {}\n{}",
            r.text(),
            s.logs()
        );
        anvil.mine(1);
        std::thread::sleep(Duration::from_millis(300));
    };
    let number = new["block_number"].as_u64().unwrap();
    assert_eq!(
        anvil.block_hash(number).as_deref(),
        new["block_hash"].as_str()
    );
    let metrics = get(&s.url("/metrics"), None).text();
    assert!(
        metrics.contains("consentry_anchors_reorged_total 1"),
        "{metrics}"
    );
}

/// kill -9 after the transaction was sent but before its receipt was recorded: on
/// restart the stored intent is advanced again — one transaction on chain, one anchor.
#[test]
fn crash_between_sending_and_recording_sends_once_and_anchors_once() {
    let env = Env::new(Db::Sqlite);
    let anvil = Anvil::start();
    let (_t, key) = env.tenant("ACME SAS");
    let args = evm_args(&env, &anvil.url(), 1);
    let s = start(&env, &args);
    let contact = add_contact(&s, &key, "ada@example.org");
    let proof: Value =
        serde_json::from_slice(&consent(&s, &key, &contact, "newsletter", "granted")).unwrap();
    let id = proof["id"].as_str().unwrap().to_owned();
    // Transactions now wait in the mempool until we mine.
    anvil.rpc("evm_setAutomine", serde_json::json!([false]));
    anchor_now(&s);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let pool = anvil.rpc("txpool_content", serde_json::json!([]));
        if pool["pending"].as_object().is_some_and(|p| !p.is_empty()) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the anchor transaction was never sent\n{}",
            s.logs()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    s.kill9();
    anvil.rpc("evm_mine", serde_json::json!([]));
    anvil.rpc("evm_setAutomine", serde_json::json!([true]));
    let s = start(&env, &args);
    let cert = wait_certificate(&s, &key, &id, Some(&anvil));
    assert_eq!(
        anvil.nonce(DEV_ADDRESS),
        1,
        "exactly one anchoring transaction"
    );
    let file = write(&env, "cert.json", &cert);
    let pins = pins(&env, &s);
    assert_eq!(verify(&file, &with(&pins, &["--rpc", &anvil.url()])).0, 0);
    let history = get(&s.url("/v1/log/anchors"), None).json();
    assert_eq!(history["checkpoints"].as_array().unwrap().len(), 1);
    assert_eq!(
        history["checkpoints"][0]["anchors"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

/// The node is down when anchoring starts: the failure shows in /metrics, nothing is
/// lost, and the anchor completes once the node is up.
#[test]
fn node_down_then_back() {
    let env = Env::new(Db::Sqlite);
    let port = free_port();
    let (_t, key) = env.tenant("ACME SAS");
    let s = start(
        &env,
        &evm_args(&env, &format!("http://127.0.0.1:{port}"), 1),
    );
    let contact = add_contact(&s, &key, "ada@example.org");
    let proof: Value =
        serde_json::from_slice(&consent(&s, &key, &contact, "newsletter", "granted")).unwrap();
    let id = proof["id"].as_str().unwrap();
    anchor_now(&s);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let m = get(&s.url("/metrics"), None).text();
        if m.contains("consentry_anchor_failures_total{kind=\"evm\",reason=\"unreachable\"}") {
            break;
        }
        assert!(Instant::now() < deadline, "no failure reported\n{m}");
        std::thread::sleep(Duration::from_millis(200));
    }
    pending(&get(
        &s.url(&format!("/v1/proofs/{id}/certificate")),
        Some(&key),
    ));
    let anvil = Anvil::start_on(port);
    let cert = wait_certificate(&s, &key, id, Some(&anvil));
    assert_eq!(cert["anchors"][0]["kind"], "evm");
}

/// `consentry anchor --now` from the command line, with the service stopped.
#[test]
fn cli_anchor_now() {
    let env = Env::new(Db::Sqlite);
    let anvil = Anvil::start();
    let (_t, key) = env.tenant("ACME SAS");
    let s = env.start();
    let contact = add_contact(&s, &key, "ada@example.org");
    consent(&s, &key, &contact, "newsletter", "granted");
    assert!(s.terminate().success());
    let key_file = dev_key_file(env.dir.path());
    let run = |extra: &[&str]| {
        Command::new(BIN)
            .args(["anchor", "--now", "--json", "--anchor-poll", "1"])
            .args(env.db_args())
            .args(["--anchor-evm-rpc", &anvil.url(), "--anchor-evm-key-file"])
            .arg(&key_file)
            .args(["--anchor-evm-confirmations", "1"])
            .args(extra)
            .output()
            .unwrap()
    };
    let out = run(&[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["anchors"][0]["state"], "anchored", "{v}");
    assert_eq!(v["anchors"][0]["anchor"]["kind"], "evm");
    // Again: nothing new, no second transaction.
    let out = run(&[]);
    assert!(out.status.success());
    assert_eq!(anvil.nonce(DEV_ADDRESS), 1);
    // Bad input: a clear message and exit 1, nothing anchored.
    let out = Command::new(BIN)
        .args(["anchor", "--now"])
        .args(env.db_args())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no anchor is configured"));
    let out = run(&["--anchor-at", "25:00"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--anchor-at"));
}

/// The schedule: a run missed while the service was down (here: today's slot, never
/// run) happens at start, without any manual call.
#[test]
fn missed_run_happens_at_start() {
    let env = Env::new(Db::Sqlite);
    let anvil = Anvil::start();
    let (_t, key) = env.tenant("ACME SAS");
    let s = env.start();
    let contact = add_contact(&s, &key, "ada@example.org");
    let proof: Value =
        serde_json::from_slice(&consent(&s, &key, &contact, "newsletter", "granted")).unwrap();
    assert!(s.terminate().success());
    let s = start(&env, &evm_args(&env, &anvil.url(), 1));
    let cert = wait_certificate(&s, &key, proof["id"].as_str().unwrap(), Some(&anvil));
    assert_eq!(cert["anchors"][0]["kind"], "evm");
    assert!(
        s.logs().contains("anchoring the checkpoint"),
        "{}",
        s.logs()
    );
}

/// Runs the bash block of docs/anchoring.md's auditor section.
fn audit_script(env: &Env, cert: &Path, rpc: &str) -> (bool, String) {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/anchoring.md"
    ))
    .unwrap();
    let section = doc
        .split("## An auditor with curl and sha256sum")
        .nth(1)
        .unwrap();
    let script = section
        .split("```bash\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    let path = env.dir.path().join("audit-certificate");
    std::fs::write(&path, script).unwrap();
    let out = Command::new("bash")
        .arg(&path)
        .arg(cert)
        .arg(rpc)
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Both anchors at once, against OpenSSL's TSA (test CA made by `openssl`) and anvil:
/// the certificate carries both, each checked offline, the TSA's chain to the CA given.
fn evm_and_tsa(db: Db) {
    use crate::tsa::{Alg, Pki, TsaServer};
    let env = Env::new(db);
    let anvil = Anvil::start();
    let pki = Pki::new(Alg::Rsa);
    let tsa = TsaServer::start(&pki.config);
    let (_t, key) = env.tenant("ACME SAS");
    let mut args = evm_args(&env, &anvil.url(), 1);
    args.extend([
        "--anchor-rfc3161-url".to_owned(),
        tsa.url.clone(),
        "--anchor-rfc3161-ca".to_owned(),
        pki.path("root.pem").display().to_string(),
    ]);
    let s = start(&env, &args);
    let contact = add_contact(&s, &key, "ada@example.org");
    let proof: Value =
        serde_json::from_slice(&consent(&s, &key, &contact, "newsletter", "granted")).unwrap();
    consent(&s, &key, &contact, "sms", "granted");
    anchor_now(&s);
    let id = proof["id"].as_str().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let cert = loop {
        let c = wait_certificate(&s, &key, id, Some(&anvil));
        if c["anchors"].as_array().unwrap().len() == 2 {
            break c;
        }
        assert!(
            Instant::now() < deadline,
            "one anchor missing: {c}\n{}",
            s.logs()
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    let kinds: Vec<&str> = cert["anchors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"evm") && kinds.contains(&"rfc3161"),
        "{kinds:?}"
    );
    let file = write(&env, "cert.json", &cert);
    let ca = pki.path("root.pem").display().to_string();
    let pins = pins(&env, &s);
    let (code, report) = verify(
        &file,
        &with(&pins, &["--tsa-ca", &ca, "--rpc", &anvil.url()]),
    );
    assert_eq!(code, 0, "{report:#}");
    let tsa_check = check(&report, "anchor_rfc3161");
    assert_eq!(tsa_check["status"], "passed");
    assert!(
        tsa_check["detail"].as_str().unwrap().contains("trusted CA"),
        "{tsa_check}"
    );
    assert_eq!(check(&report, "anchor_evm")["status"], "passed");
    // Without the CA the token's signature still verifies, but nothing roots the TSA:
    // untrusted, and the date comes from the EVM anchor the node rooted alone; against
    // another CA it fails.
    let (code, report) = verify(&file, &with(&pins, &["--rpc", &anvil.url()]));
    assert_eq!(code, 3, "{report:#}");
    let tsa = check(&report, "anchor_rfc3161");
    assert_eq!(tsa["status"], "untrusted");
    assert!(
        tsa["detail"].as_str().unwrap().contains("not checked"),
        "{tsa}"
    );
    assert!(report["anchored_by"].is_string(), "{report:#}");
    let other = pki.path("other-root.pem").display().to_string();
    let (code, report) = verify(&file, &["--tsa-ca", &other]);
    assert_eq!(code, 1, "{report:#}");
    // The PDF shows both.
    let pdf = get(
        &s.url(&format!("/v1/proofs/{id}/certificate.pdf")),
        Some(&key),
    );
    let text = crate::service::pdftotext(&env, &pdf.body);
    assert!(text.contains("RFC 3161"), "{text}");
    assert!(text.contains("EVM"), "{text}");
    // OpenSSL, an independent verifier, accepts the stored token over the checkpoint.
    let token = cert["anchors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "rfc3161")
        .unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    use base64::Engine as _;
    let der = base64::engine::general_purpose::STANDARD
        .decode(token)
        .unwrap();
    std::fs::write(env.dir.path().join("token.der"), der).unwrap();
    let note = cert["checkpoint"].as_str().unwrap();
    let body = note.split("\n\n").next().unwrap().to_owned() + "\n";
    std::fs::write(env.dir.path().join("body.txt"), body).unwrap();
    let (ok, out) = crate::tsa::openssl_status(
        env.dir.path(),
        &[
            "ts",
            "-verify",
            "-data",
            "body.txt",
            "-in",
            "token.der",
            "-token_in",
            "-CAfile",
            &ca,
            "-untrusted",
            &pki.path("int.pem").display().to_string(),
        ],
    );
    assert!(ok, "{out}");
}

#[test]
fn sqlite_evm_and_rfc3161_anchors_together() {
    evm_and_tsa(Db::Sqlite);
}

#[test]
fn postgres_evm_and_rfc3161_anchors_together() {
    evm_and_tsa(Db::Postgres);
}
