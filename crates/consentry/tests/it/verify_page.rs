//! The public `/verify` page in a real browser: Debian's chromium, headless, driven
//! through chromedriver (WebDriver) with fantoccini.
//!
//! The real binary serves the page, anchoring to a real anvil node and OpenSSL's TSA; a
//! tenant records consents over HTTP; the test hands the page the proof, a certificate
//! assembled from the public log routes, the anchored certificate the server serves, two
//! tampered certificates and garbage, and reads the verdict and every check the page shows. The WebAssembly verifier runs in the browser:
//! the test also checks, from the browser's own resource timing, that the page fetched
//! nothing but its script and the module (the document is never uploaded), and saves a
//! screenshot of each state in `target/screenshots/verify-*.png`.
//!
//! chromedriver and chromium are found at `CONSENTRY_TEST_CHROMEDRIVER` and
//! `CONSENTRY_TEST_CHROMIUM` (defaults `/usr/bin/chromedriver`, `/usr/bin/chromium`,
//! Debian's `chromium-driver` and `chromium` packages). Missing, they fail the test: a
//! browser test that skips proves nothing.

use crate::chain::{Anvil, dev_key_file};
use crate::service::{add_contact, checkpoint_covering, consent, well_known};
use crate::tsa::{Alg, Pki, TsaServer};
use crate::util::{Db, Env, Server, get};
use consentry_core::certificate::Certificate;
use consentry_core::checkpoint::verify_signed_checkpoint;
use consentry_core::proof::SealedProof;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) fn tool(var: &str, default: &str, what: &str) -> PathBuf {
    let path = PathBuf::from(std::env::var(var).unwrap_or_else(|_| default.to_owned()));
    assert!(
        path.is_file(),
        "{what} not found at {} (set {var}, or install Debian's packages: \
         apt-get install -y chromium chromium-driver). The /verify browser test needs a \
         real browser; it never skips.",
        path.display()
    );
    path
}

/// A chromedriver of the test's own, on a free loopback port, with a fresh profile
/// directory for the browser; killed when dropped.
pub(crate) struct Driver {
    child: Child,
    pub(crate) url: String,
    profile: tempfile::TempDir,
    log: PathBuf,
}

impl Driver {
    pub(crate) fn start(dir: &Path) -> Driver {
        let chromedriver = tool(
            "CONSENTRY_TEST_CHROMEDRIVER",
            "/usr/bin/chromedriver",
            "chromedriver",
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = dir.join("chromedriver.log");
        let child = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display()));
        let url = format!("http://127.0.0.1:{port}");
        let mut driver = Driver {
            child,
            url,
            profile: tempfile::tempdir().unwrap(),
            log,
        };
        // Ready when its status says so.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(mut r) = ureq::get(&format!("{}/status", driver.url)).call()
                && let Ok(text) = r.body_mut().read_to_string()
                && let Ok(v) = serde_json::from_str::<Value>(&text)
                && v["value"]["ready"] == true
            {
                return driver;
            }
            if let Some(status) = driver.child.try_wait().unwrap() {
                panic!(
                    "chromedriver exited ({status}): {}",
                    std::fs::read_to_string(&driver.log).unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not become ready"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A browser session: headless chromium with its own profile.
    async fn browser(&self) -> Client {
        let chromium = tool("CONSENTRY_TEST_CHROMIUM", "/usr/bin/chromium", "chromium");
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--no-first-run",
                    "--no-default-browser-check",
                    "--disable-extensions",
                    "--disable-background-networking",
                    "--disable-sync",
                    "--lang=en-US",
                    "--window-size=1100,1500",
                    format!("--user-data-dir={}", self.profile.path().display()),
                ],
                "prefs": { "intl.accept_languages": "en-US,en" },
            },
        });
        let Value::Object(caps) = caps else {
            unreachable!()
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&self.url)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "cannot open a chromium session: {e}\nchromedriver log:\n{}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                )
            })
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A certificate for the proof, assembled here from what the server publishes: the
/// latest signed checkpoint covering it, and the inclusion proof up to that checkpoint's
/// size, with no anchor: what a verifier can build from the public routes alone, before
/// any anchor (the served, anchored certificate is checked too, see
/// [`served_certificate`]).
fn certificate_for(s: &Server, proof: &Value, log_key: &str) -> Value {
    let sealed: SealedProof = serde_json::from_value(proof.clone()).unwrap();
    let index = sealed.body.log_index;
    let note = checkpoint_covering(s, index + 1);
    let cp = verify_signed_checkpoint(&note, log_key).unwrap().checkpoint;
    let inclusion = get(
        &s.url(&format!(
            "/v1/log/proof/inclusion?index={index}&size={}",
            cp.size
        )),
        None,
    );
    assert_eq!(inclusion.status, 200, "{}", inclusion.text());
    let path = crate::util::hashes(&inclusion.json());
    let cert = Certificate::new(&sealed, &path, note, log_key.to_owned(), Vec::new()).unwrap();
    serde_json::to_value(cert).unwrap()
}

/// Where the screenshots go: the workspace's `target/screenshots/` (not committed).
pub(crate) fn screenshot_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn screenshot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    std::fs::write(screenshot_dir().join(format!("verify-{name}.png")), png).unwrap();
}

pub(crate) async fn js(c: &Client, script: &str) -> Value {
    c.execute(script, Vec::new()).await.unwrap()
}

/// Waits until `script` (a JavaScript expression) is truthy.
pub(crate) async fn wait_for(c: &Client, script: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let v = js(c, &format!("return !!({script});")).await;
        if v == true {
            return;
        }
        if Instant::now() > deadline {
            let state = js(
                c,
                "return {status: document.getElementById('status').textContent, \
                 result: document.getElementById('result').outerHTML};",
            )
            .await;
            panic!("timed out waiting for {what} ({script}); page: {state}");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// What the page shows once a verification is done: outcome, verdict, summary, and
/// each check as (name, status, visible text).
#[derive(Debug)]
struct Shown {
    outcome: String,
    verdict: String,
    summary: String,
    checks: Vec<(String, String, String)>,
}

impl Shown {
    fn status(&self, name: &str) -> &str {
        self.checks
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, s, _)| s.as_str())
            .unwrap_or_else(|| panic!("the page shows no check {name}: {self:#?}"))
    }
}

async fn shown(c: &Client) -> Shown {
    wait_for(
        c,
        "document.getElementById('result').dataset.outcome",
        "a verdict",
    )
    .await;
    let v = js(
        c,
        "const r = document.getElementById('result');
         return {
           outcome: r.dataset.outcome,
           hidden: r.hidden,
           verdict: document.getElementById('verdict').innerText,
           summary: document.getElementById('summary').innerText,
           checks: [...document.querySelectorAll('#checks li')].map(li =>
             [li.dataset.check, li.dataset.status, li.innerText]),
         };",
    )
    .await;
    assert_eq!(v["hidden"], false, "the result is hidden: {v}");
    Shown {
        outcome: v["outcome"].as_str().unwrap().to_owned(),
        verdict: v["verdict"].as_str().unwrap().to_owned(),
        summary: v["summary"].as_str().unwrap().to_owned(),
        checks: v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c[0].as_str().unwrap().to_owned(),
                    c[1].as_str().unwrap().to_owned(),
                    c[2].as_str().unwrap().to_owned(),
                )
            })
            .collect(),
    }
}

/// Types `text` into the text area (as a person pasting would leave it) and presses the
/// Verify button.
async fn paste_and_verify(c: &Client, text: &str) -> Shown {
    c.find(Locator::Id("clear"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let area = c.find(Locator::Id("doc")).await.unwrap();
    area.send_keys(text).await.unwrap();
    assert_eq!(
        js(c, "return document.getElementById('doc').value;").await,
        text,
        "the text area holds what was typed"
    );
    c.find(Locator::Id("verify"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    shown(c).await
}

/// Chooses `file` with the file input, as a person picking it would.
async fn choose_file_and_verify(c: &Client, file: &Path) -> Shown {
    c.find(Locator::Id("clear"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Id("file"))
        .await
        .unwrap()
        .send_keys(&file.display().to_string())
        .await
        .unwrap();
    shown(c).await
}

/// One byte changed: the first character of the purpose, in the certificate's proof.
fn with_purpose_changed(cert: &Value) -> Value {
    let mut cert = cert.clone();
    let purpose = cert["proof"]["purpose"].as_str().unwrap().to_owned();
    let first = if purpose.starts_with('x') { "y" } else { "x" };
    cert["proof"]["purpose"] = format!("{first}{}", &purpose[1..]).into();
    cert
}

/// One byte changed in the first inclusion hash: still 32 bytes of base64, another hash.
fn with_inclusion_changed(cert: &Value) -> Value {
    let mut cert = cert.clone();
    let hash = cert["inclusion"][0]
        .as_str()
        .expect("the certificate's path is not empty")
        .to_owned();
    let first = if hash.starts_with('A') { "B" } else { "A" };
    cert["inclusion"][0] = format!("{first}{}", &hash[1..]).into();
    cert
}

/// The admin token the test server accepts (`POST /v1/admin/anchor`).
const ADMIN: &str = "admin-token-for-the-verify-page-0123";

/// The certificate the server serves once the proof is anchored on both anchors (a block
/// mined on each round, so that the EVM anchor gets its confirmation).
fn served_certificate(s: &Server, key: &str, proof_id: &str, anvil: &Anvil) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = get(
            &s.url(&format!("/v1/proofs/{proof_id}/certificate")),
            Some(key),
        );
        if r.status == 200 && r.json()["anchors"].as_array().is_some_and(|a| a.len() == 2) {
            return r.json();
        }
        assert!(
            r.status == 200 || r.status == 409,
            "{} {}",
            r.status,
            r.text()
        );
        assert!(
            Instant::now() < deadline,
            "no certificate with both anchors in time: {}\n{}",
            r.text(),
            s.logs()
        );
        anvil.mine(1);
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// The link in the QR code of a proof's PDF, as zbarimg (Debian's zbar-tools) reads it
/// from the page rendered at 300 dpi by pdftoppm.
fn qr_of_proof_pdf(env: &Env, s: &Server, key: &str, proof_id: &str) -> String {
    let pdf = get(&s.url(&format!("/v1/proofs/{proof_id}.pdf")), Some(key));
    assert_eq!(pdf.status, 200, "{}", pdf.text());
    let file = env.dir.path().join("qr-proof.pdf");
    std::fs::write(&file, &pdf.body).unwrap();
    let png = env.dir.path().join("qr-proof");
    let out = std::process::Command::new("pdftoppm")
        .args(["-r", "300", "-png", "-singlefile"])
        .arg(&file)
        .arg(&png)
        .output()
        .expect("pdftoppm (poppler-utils)");
    assert!(out.status.success(), "{out:?}");
    let zbarimg = tool("CONSENTRY_TEST_ZBARIMG", "/usr/bin/zbarimg", "zbarimg");
    let out = std::process::Command::new(zbarimg)
        .args(["--raw", "-q", "-Sdisable", "-Sqrcode.enable"])
        .arg(png.with_extension("png"))
        .output()
        .unwrap();
    assert!(out.status.success(), "zbarimg found no QR code: {out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 1, "one QR code: {text}");
    lines[0].to_owned()
}

#[test]
fn the_verify_page_checks_proofs_and_certificates_in_the_browser_and_uploads_nothing() {
    let env = Env::new(Db::Sqlite);
    let (_tenant, key) = env.tenant("ACME SAS");
    // Both anchors, for real: an anvil node and OpenSSL's TSA.
    let anvil = Anvil::start();
    let pki = Pki::new(Alg::Rsa);
    let tsa = TsaServer::start(&pki.config);
    let evm_key = dev_key_file(env.dir.path()).display().to_string();
    let tsa_root = pki.path("root.pem").display().to_string();
    let s = Server::start(
        &env,
        &[
            "--anchor-evm-rpc",
            &anvil.url(),
            "--anchor-evm-key-file",
            &evm_key,
            "--anchor-evm-confirmations",
            "1",
            "--anchor-rfc3161-url",
            &tsa.url,
            "--anchor-rfc3161-ca",
            &tsa_root,
            "--anchor-poll",
            "1",
            "--admin-token",
            ADMIN,
        ],
    );
    let (_seal_key, log_key) = well_known(&s);

    // Three proofs, so that the certificates' inclusion paths are not empty.
    let contact = add_contact(&s, &key, "ada.lovelace@example.org");
    let proof_bytes = consent(&s, &key, &contact, "newsletter", "granted");
    consent(&s, &key, &contact, "sms", "refused");
    consent(&s, &key, &contact, "offers", "granted");
    let proof: Value = serde_json::from_slice(&proof_bytes).unwrap();
    let proof_text = String::from_utf8(proof_bytes.clone()).unwrap();
    // A certificate assembled from the public log routes (no anchor), on a checkpoint
    // of all three (the publisher may have signed one of the first proof alone: its
    // inclusion path would be empty)…
    checkpoint_covering(&s, 3);
    let cert = certificate_for(&s, &proof, &log_key);
    assert!(!cert["inclusion"].as_array().unwrap().is_empty(), "{cert}");
    // …and the one the server serves once the log is anchored.
    let run = crate::util::post(&s.url("/v1/admin/anchor"), Some(ADMIN), &json!({}));
    assert_eq!(run.status, 202, "{}", run.text());
    let anchored = served_certificate(&s, &key, proof["id"].as_str().unwrap(), &anvil);
    assert!(
        !anchored["inclusion"].as_array().unwrap().is_empty(),
        "{anchored}"
    );
    let write = |name: &str, v: &Value| {
        let path = env.dir.path().join(name);
        std::fs::write(&path, serde_json::to_vec_pretty(v).unwrap()).unwrap();
        path
    };
    let anchored_file = write("certificate.json", &anchored);
    let purpose_file = write("tampered-purpose.json", &with_purpose_changed(&anchored));
    let inclusion_file = write(
        "tampered-inclusion.json",
        &with_inclusion_changed(&anchored),
    );

    // The page and its headers, without a browser.
    let page = get(&s.url("/verify"), None);
    assert_eq!(page.status, 200);
    assert!(
        page.content_type.starts_with("text/html"),
        "{}",
        page.content_type
    );
    let french = ureq::get(&s.url("/verify"))
        .header("Accept-Language", "fr-FR,fr;q=0.9,en;q=0.5")
        .call()
        .unwrap();
    let csp = french
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let french = french.into_body().read_to_string().unwrap();
    assert!(french.contains("lang=\"fr\"") && french.contains("Vérifier une preuve"));
    for directive in [
        "default-src 'none'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{directive} not in {csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(
        !page.text().contains("<script>")
            && page.text().contains("<script src=\"/verify/verify.js?h="),
        "no inline script"
    );
    let wasm_url = {
        let text = page.text();
        let at = text.find("/verify/consentry_verify.wasm?h=").unwrap();
        text[at..at + "/verify/consentry_verify.wasm?h=".len() + 16].to_owned()
    };
    let wasm = ureq::get(&s.url(&wasm_url)).call().unwrap();
    let header = |name: &str| {
        wasm.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(header("content-type"), "application/wasm");
    assert_eq!(
        header("cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(
        ureq::get(&s.url("/verify/consentry_verify.wasm"))
            .call()
            .unwrap()
            .headers()
            .get("cache-control")
            .unwrap(),
        "no-cache",
        "an unversioned URL is not cached for long"
    );

    // The browser.
    let driver = Driver::start(env.dir.path());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = driver.browser().await;
        c.goto(&s.url("/verify")).await.unwrap();
        wait_for(
            &c,
            "document.getElementById('app').dataset.ready === 'true'",
            "the verifier to load",
        )
        .await;
        assert_eq!(js(&c, "return document.documentElement.lang;").await, "en");
        // The inline style applied: its hash in the policy is right.
        assert_eq!(
            js(
                &c,
                "return getComputedStyle(document.querySelector('button[type=submit]')).backgroundColor;"
            )
            .await,
            "rgb(29, 79, 145)"
        );
        // Every field has a label; the controls are reachable with the keyboard.
        assert_eq!(
            js(
                &c,
                "return [...document.querySelectorAll('input, textarea')].every(e => e.labels.length > 0);"
            )
            .await,
            true
        );
        assert_eq!(
            js(
                &c,
                "return [...document.querySelectorAll('input, textarea, button')].every(e => e.tabIndex >= 0 && !e.disabled);"
            )
            .await,
            true
        );
        screenshot(&c, "empty").await;

        // The page says whose keys it pins: this service's.
        let pinned = js(&c, "return document.getElementById('pinned').innerText;").await;
        assert!(pinned.as_str().unwrap().starts_with("Keys pinned: this service's"), "{pinned}");

        // The proof, pasted: valid, the seal passed.
        let r = paste_and_verify(&c, &proof_text).await;
        assert_eq!(r.outcome, "valid", "{r:#?}");
        assert!(r.verdict.starts_with("Valid"), "{r:#?}");
        assert_eq!(r.status("seal"), "passed");
        let seal = &r.checks.iter().find(|(n, _, _)| n == "seal").unwrap().2;
        assert!(seal.contains("passed") && seal.contains("Ed25519"), "{seal}");
        assert_eq!(r.status("inclusion"), "not_checked");
        assert!(r.checks.iter().all(|(_, s, _)| s != "failed"), "{r:#?}");
        screenshot(&c, "proof-valid").await;

        // The certificate assembled from the log, pasted: valid, checkpoint and
        // inclusion passed, no anchor to check.
        let r = paste_and_verify(&c, &cert.to_string()).await;
        assert_eq!(r.outcome, "valid", "{r:#?}");
        assert!(r.verdict.contains("certificate"), "{r:#?}");
        for name in [
            "seal",
            "leaf_index",
            "checkpoint_signature",
            "log_origin",
            "inclusion",
        ] {
            assert_eq!(r.status(name), "passed", "{name}: {r:#?}");
        }
        assert_eq!(r.status("anchors"), "not_checked");
        screenshot(&c, "certificate-valid").await;

        // The served certificate, chosen as a file: the seal, checkpoint and inclusion
        // pass against this service's pinned keys, and both anchors' maths (the anvil
        // transaction's proofs, the TSA's RSA-signed token) hold in the browser — but the
        // page can root neither (no node, no TSA CA): untrusted, the page says which, and
        // it gives no "existed by" date from them.
        let r = choose_file_and_verify(&c, &anchored_file).await;
        assert_eq!(r.outcome, "untrusted", "{r:#?}");
        for name in ["seal", "seal_key", "checkpoint_signature", "log_key", "inclusion"] {
            assert_eq!(r.status(name), "passed", "{name}: {r:#?}");
        }
        for name in ["anchor_evm", "anchor_rfc3161"] {
            assert_eq!(r.status(name), "untrusted", "{name}: {r:#?}");
        }
        assert!(r.verdict.starts_with("Untrusted"), "{r:#?}");
        assert!(r.summary.contains("(anchor_evm)") && r.summary.contains("(anchor_rfc3161)"), "{r:#?}");
        let meta = js(&c, "return document.getElementById('meta').innerText;").await;
        assert!(
            !meta.as_str().unwrap().contains("Existed by"),
            "a date from an unrooted anchor: {meta}"
        );
        screenshot(&c, "certificate-anchored-untrusted").await;

        // Another operator's keys pasted: this service's proof is no longer sealed by a
        // trusted key (invalid); cleared, this service's keys are pinned again.
        let other = consentry_core::keys::SealKey::from_seed(&[0x51; 32]).public().to_base64();
        let wk = serde_json::json!({
            "log": {
                "origin": "other.example/log",
                "verifier_key": consentry_core::keys::LogKey::from_seed("other.example/log", &[0x52; 32])
                    .unwrap()
                    .verifier_key(),
            },
            "seal_keys": [{"public_key": other}],
        })
        .to_string();
        js(&c, "document.querySelector('#pins details').open = true; return true;").await;
        c.find(Locator::Id("keys")).await.unwrap().send_keys(&wk).await.unwrap();
        let r = paste_and_verify(&c, &proof_text).await;
        assert_eq!(r.outcome, "invalid", "{r:#?}");
        assert_eq!(r.status("seal_key"), "failed");
        c.find(Locator::Id("keys")).await.unwrap().clear().await.unwrap();
        let r = paste_and_verify(&c, &proof_text).await;
        assert_eq!(r.outcome, "valid", "{r:#?}");

        // One byte of the purpose changed: invalid, and the page names the seal.
        let r = choose_file_and_verify(&c, &purpose_file).await;
        assert_eq!(r.outcome, "invalid", "{r:#?}");
        assert!(r.verdict.starts_with("Invalid"), "{r:#?}");
        assert_eq!(r.status("seal"), "failed");
        assert_eq!(r.status("inclusion"), "failed");
        assert!(r.summary.contains("(seal)"), "{r:#?}");
        screenshot(&c, "certificate-tampered-purpose").await;

        // One byte of an inclusion hash changed: invalid, the page names the inclusion.
        let r = choose_file_and_verify(&c, &inclusion_file).await;
        assert_eq!(r.outcome, "invalid", "{r:#?}");
        assert_eq!(r.status("seal"), "passed");
        assert_eq!(r.status("checkpoint_signature"), "passed");
        assert_eq!(r.status("inclusion"), "failed");
        assert!(r.summary.contains("(inclusion)"), "{r:#?}");
        screenshot(&c, "certificate-tampered-inclusion").await;

        // Garbage, verified from the keyboard (Ctrl+Enter): unusable, with the reason.
        c.find(Locator::Id("clear"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let area = c.find(Locator::Id("doc")).await.unwrap();
        area.send_keys("this is not a proof {").await.unwrap();
        area.send_keys("\u{E009}\u{E007}\u{E000}").await.unwrap();
        let r = shown(&c).await;
        assert_eq!(r.outcome, "unusable", "{r:#?}");
        assert!(r.verdict.starts_with("Unusable"), "{r:#?}");
        assert!(r.summary.contains("not JSON"), "{r:#?}");
        assert!(r.checks.is_empty(), "{r:#?}");
        screenshot(&c, "garbage-unusable").await;

        // The genuine proof with a second "decision" member before the real one: the
        // page reads it neither way (the same strict parse as the CLI), with the reason.
        assert!(proof_text.contains("\"decision\":"), "{proof_text}");
        let forged = proof_text.replacen("\"decision\":", "\"decision\":\"refused\",\"decision\":", 1);
        let r = paste_and_verify(&c, &forged).await;
        assert_eq!(r.outcome, "unusable", "{r:#?}");
        assert!(r.summary.contains("appears twice"), "{r:#?}");
        screenshot(&c, "duplicate-member-unusable").await;

        // On a phone's width nothing overflows sideways.
        c.set_window_size(390, 844).await.unwrap();
        let r = paste_and_verify(&c, &proof_text).await;
        assert_eq!(r.outcome, "valid");
        let wide = js(
            &c,
            "return [...document.querySelectorAll('body *')]
               .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
               .map(e => e.tagName + '#' + e.id + '.' + e.className);",
        )
        .await;
        assert_eq!(
            js(
                &c,
                "return document.documentElement.scrollWidth <= window.innerWidth;"
            )
            .await,
            true,
            "the page is wider than a phone; too wide: {wide}"
        );
        screenshot(&c, "phone").await;

        // Nothing was sent anywhere: the page fetched its script and its module, once
        // each, and is still the page it was (no form was submitted).
        let fetched = js(
            &c,
            "return performance.getEntriesByType('resource').map(e => [e.name, e.initiatorType]);",
        )
        .await;
        let fetched: Vec<(String, String)> = fetched
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let url = e[0].as_str().unwrap();
                let path = url.strip_prefix(s.base.as_str()).unwrap_or(url);
                (
                    path.split('?').next().unwrap().to_owned(),
                    e[1].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        // Besides its scripts and module, the page's log monitor reads the log's public
        // routes (the latest checkpoint, consistency proofs); no request carries a document.
        let allowed = [
            ("/verify/verify.js", "script"),
            ("/verify/monitor.js", "script"),
            ("/verify/consentry_verify.wasm", "fetch"),
            ("/checkpoint", "fetch"),
            ("/v1/log/proof/consistency", "fetch"),
            // The site's icon (a static image, no query): the browser's own request.
            ("/favicon.svg", "other"),
        ];
        for (path, initiator) in &fetched {
            assert!(
                allowed.contains(&(path.as_str(), initiator.as_str())),
                "the page fetched {path} ({initiator}): {fetched:?}"
            );
        }
        for want in ["/verify/verify.js", "/verify/monitor.js", "/checkpoint"] {
            assert!(fetched.iter().any(|(p, _)| p == want), "{want}: {fetched:?}");
        }
        assert_eq!(c.current_url().await.unwrap().as_str(), s.url("/verify"));

        // The proof PDF's QR code, read by a real decoder, opens this page with the proof
        // in the fragment; the page verifies it on load and says what it proves first.
        let pid = proof["id"].as_str().unwrap();
        let qr = qr_of_proof_pdf(&env, &s, &key, pid);
        // The service's public URL (here the unbound listen address, port 0), then the
        // page and the proof: opened on the port the test server got.
        let (page_url, fragment) = qr.split_once('#').expect("a fragment");
        assert!(
            page_url.starts_with("http://127.0.0.1:") && page_url.ends_with("/verify"),
            "{qr}"
        );
        assert!(fragment.starts_with("proof="), "{qr}");
        c.goto("about:blank").await.unwrap();
        c.goto(&format!("{}#{fragment}", s.url("/verify"))).await.unwrap();
        let seen = shown(&c).await;
        assert_eq!(seen.outcome, "valid", "{seen:#?}");
        assert!(seen.verdict.starts_with("Valid"), "{seen:#?}");
        let summary = js(
            &c,
            "const p = document.getElementById('proven');
             const f = (n) => p.querySelector('dd[data-field=' + n + ']').textContent;
             return {hidden: p.hidden, sender: f('sender'), purpose: f('purpose'),
                     decision: f('decision'), date: f('date'),
                     first: !!(p.compareDocumentPosition(document.getElementById('checks'))
                               & Node.DOCUMENT_POSITION_FOLLOWING),
                     doc: document.getElementById('doc').value};",
        )
        .await;
        assert_eq!(summary["hidden"], false, "{summary}");
        assert_eq!(summary["purpose"], "newsletter", "{summary}");
        assert_eq!(summary["decision"], "consent given", "{summary}");
        assert!(
            summary["sender"]
                .as_str()
                .unwrap()
                .starts_with(proof["tenant"].as_str().unwrap()),
            "{summary}"
        );
        assert!(!summary["date"].as_str().unwrap().is_empty(), "{summary}");
        assert_eq!(summary["first"], true, "the summary comes before the checks");
        assert_eq!(summary["doc"].as_str().unwrap(), proof_text, "the proof, byte for byte");
        screenshot(&c, "verify-from-qr").await;
        c.close().await.unwrap();
    });
}
