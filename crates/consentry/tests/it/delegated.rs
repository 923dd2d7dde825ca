//! Delegated consent: the request e-mail (outbox file or a real SMTP server on loopback),
//! the answer page, the proof it makes, and links that are reused or forged.

use crate::service::{add_contact, well_known};
use crate::util::{Db, Env, Server, get, post, post_raw};
use consentry_core::merkle::Hash;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const NOTICE: &str =
    "Nous vous enverrons notre lettre d'information mensuelle. Désinscription à tout moment.";

/// The body of an e-mail file, its transfer encoding undone.
pub(crate) fn mail_body(raw: &str) -> String {
    let (headers, body) = raw
        .split_once("\r\n\r\n")
        .or_else(|| raw.split_once("\n\n"))
        .unwrap();
    if headers
        .to_ascii_lowercase()
        .contains("content-transfer-encoding: base64")
    {
        use base64::Engine as _;
        let clean: String = body.split_whitespace().collect();
        return String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(clean)
                .unwrap(),
        )
        .unwrap();
    }
    // quoted-printable: soft line breaks, then =XX escapes.
    let unfolded = body.replace("=\r\n", "").replace("=\n", "");
    let bytes = unfolded.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'=' && i + 2 < bytes.len())
            .then(|| {
                u8::from_str_radix(
                    std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"),
                    16,
                )
                .ok()
            })
            .flatten();
        if let Some(b) = escaped {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Waits for `n` message files in `dir` (recursively); returns their contents.
pub(crate) fn wait_mails(dir: &Path, n: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut found = Vec::new();
        let mut stack = vec![dir.to_owned()];
        while let Some(d) = stack.pop() {
            if let Ok(rd) = std::fs::read_dir(&d) {
                for e in rd.flatten() {
                    let p = e.path();
                    if p.is_dir() {
                        stack.push(p);
                    } else if !p.file_name().unwrap().to_string_lossy().starts_with('.') {
                        found.push(std::fs::read_to_string(&p).unwrap_or_default());
                    }
                }
            }
        }
        if found.len() >= n
            && found
                .iter()
                .all(|m| m.contains("\n\n") || m.contains("\r\n\r\n"))
        {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {n} e-mails in {}",
            found.len(),
            dir.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub(crate) fn link_path(body: &str) -> String {
    let start = body.find("/c/").expect("a link in the e-mail");
    body[start..start + 3 + 64].to_owned()
}

pub(crate) fn page(s: &Server, path: &str, lang: &str, form: Option<&str>) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let url = s.url(path);
    let res = match form {
        None => agent.get(&url).header("Accept-Language", lang).call(),
        Some(f) => agent
            .post(&url)
            .header("Accept-Language", lang)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .send(f.as_bytes()),
    };
    let mut r = res.unwrap();
    assert!(
        r.headers()
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    (r.status().as_u16(), r.body_mut().read_to_string().unwrap())
}

/// Requests a consent, answers it from the e-mail's link, and checks everything that follows.
fn walk(env: &Env, s: &Server, key: &str, mails: &Path) {
    let contact = add_contact(s, key, "claire.fontaine@example.net");
    let r = post(
        &s.url("/v1/consent-requests"),
        Some(key),
        &json!({"contact_id": contact, "purpose": "newsletter", "notice": {"text": NOTICE, "version": "2026-11"}, "language": "fr", "valid_days": 365}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let req = r.json();
    assert_eq!(req["status"], "pending");
    let rid = req["id"].as_str().unwrap().to_owned();
    let c = get(&s.url(&format!("/v1/contacts/{contact}")), Some(key)).json();
    assert_eq!(c["consents"]["newsletter"]["status"], "pending");

    let first_mails = wait_mails(mails, 1);
    let raw = &first_mails[0];
    assert!(
        raw.contains("claire.fontaine@example.net"),
        "the e-mail goes to the contact"
    );
    let body = mail_body(raw);
    assert!(
        body.contains("ACME SAS") && body.contains("newsletter"),
        "{body}"
    );
    assert!(body.contains("lettre d'information mensuelle"), "{body}");
    let link = link_path(&body);

    let (status, html) = page(s, &link, "fr-FR,fr;q=0.9", None);
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("ACME SAS vous demande votre consentement"),
        "{html}"
    );
    assert!(
        html.contains("lettre d&#39;information") || html.contains("lettre d'information"),
        "{html}"
    );
    assert!(html.contains("name=\"decision\" value=\"granted\""));
    let (status, html_en) = page(s, &link, "en-GB,en;q=0.8", None);
    assert_eq!(status, 200);
    assert!(html_en.contains("asks for your consent"));

    // A bad answer changes nothing.
    let (status, _) = page(s, &link, "fr", Some("decision=maybe"));
    assert_eq!(status, 400);
    assert_eq!(
        get(&s.url(&format!("/v1/consent-requests/{rid}")), Some(key)).json()["status"],
        "pending"
    );

    let (status, html) = page(s, &link, "fr", Some("decision=granted"));
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Merci"), "{html}");

    let req = get(&s.url(&format!("/v1/consent-requests/{rid}")), Some(key)).json();
    assert_eq!(req["status"], "granted");
    assert_eq!(req["email"]["status"], "sent");
    let pid = req["proof_id"].as_str().unwrap();
    let proof = get(&s.url(&format!("/v1/proofs/{pid}")), Some(key));
    let p: Value = proof.json();
    assert_eq!(p["method"], "delegated");
    assert_eq!(p["request"], rid.as_str());
    assert_eq!(p["decision"], "granted");
    assert_eq!(
        p["notice"]["sha256"],
        Hash::digest(NOTICE.as_bytes()).to_hex()
    );
    assert_eq!(p["notice"]["version"], "2026-11");
    assert_eq!(p["recipient"]["category"], "private");
    assert!(p["valid_until"].is_string());
    let c = get(&s.url(&format!("/v1/contacts/{contact}")), Some(key)).json();
    assert_eq!(
        c["consents"]["newsletter"]["status"], "granted",
        "the book updated by itself"
    );
    // The recipient can keep the proof; it verifies.
    let (seal_key, _) = well_known(s);
    let mine = get(&s.url(&format!("{link}/proof")), None);
    assert_eq!(mine.body, proof.body);
    let f = env.dir.path().join("delegated.json");
    std::fs::write(&f, &mine.body).unwrap();
    let out = Command::new(crate::util::BIN)
        .args(["verify", "--seal-key", &seal_key])
        .arg(&f)
        .output()
        .unwrap();
    assert!(out.status.success());

    // Reuse: a clear page, nothing changes.
    let (status, html) = page(s, &link, "fr", Some("decision=refused"));
    assert_eq!(status, 409, "{html}");
    assert!(html.contains("déjà"), "{html}");
    assert_eq!(
        get(&s.url(&format!("/v1/consent-requests/{rid}")), Some(key)).json()["proof_id"],
        pid
    );
    let c = get(&s.url(&format!("/v1/contacts/{contact}")), Some(key)).json();
    assert_eq!(c["consents"]["newsletter"]["status"], "granted");
    // Forged and malformed tokens.
    let forged = format!("/c/{}", "ab".repeat(32));
    assert_eq!(page(s, &forged, "en", None).0, 404);
    assert_eq!(page(s, &forged, "en", Some("decision=granted")).0, 404);
    assert_eq!(page(s, "/c/short", "en", Some("decision=granted")).0, 404);

    // A contact erased while its request is open: the erasure cancels the request in its
    // own transaction, and the link says the data was erased and records nothing.
    let erased = add_contact(s, key, "leon.marchand@example.net");
    let r = post(
        &s.url("/v1/consent-requests"),
        Some(key),
        &json!({"contact_id": erased, "purpose": "newsletter", "notice": {"text": NOTICE}, "language": "fr"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let erased_rid = r.json()["id"].as_str().unwrap().to_owned();
    let mail = wait_mails(mails, 2)
        .into_iter()
        .find(|m| m.contains("leon.marchand@example.net"))
        .expect("the second request's e-mail");
    let erased_link = link_path(&mail_body(&mail));
    let e = post(
        &s.url(&format!("/v1/contacts/{erased}/erase")),
        Some(key),
        &json!({}),
    );
    assert_eq!(e.status, 200, "{}", e.text());
    let (status, html) = page(s, &erased_link, "fr", Some("decision=granted"));
    assert_eq!(status, 410, "{html}");
    assert!(
        html.contains("effacées") && html.contains("Rien n"),
        "{html}"
    );
    let req = get(
        &s.url(&format!("/v1/consent-requests/{erased_rid}")),
        Some(key),
    )
    .json();
    assert!(req["proof_id"].is_null(), "{req}");
    assert_eq!(
        req["status"], "cancelled",
        "the erasure cancelled it: {req}"
    );
    let (status, html) = page(s, &erased_link, "en", None);
    assert_eq!(status, 410, "{html}");
    assert!(html.contains("Data erased"), "{html}");
    let c = get(&s.url(&format!("/v1/contacts/{erased}")), Some(key)).json();
    assert_ne!(c["consents"]["newsletter"]["status"], "granted", "{c}");
}

#[test]
fn sqlite_delegated_consent_through_the_outbox() {
    let env = Env::new(Db::Sqlite);
    let (_, key) = env.tenant("ACME SAS");
    let s = env.start();
    walk(&env, &s, &key, &env.data_dir().join("outbox"));
}

#[test]
fn postgres_delegated_consent_through_the_outbox() {
    let env = Env::new(Db::Postgres);
    let (_, key) = env.tenant("ACME SAS");
    let s = env.start();
    walk(&env, &s, &key, &env.data_dir().join("outbox"));
}

/// A real SMTP server on loopback: Python's aiosmtpd writing a maildir.
pub(crate) struct Smtp {
    child: Child,
    pub(crate) port: u16,
    pub(crate) maildir: PathBuf,
}

impl Smtp {
    pub(crate) fn start(dir: &Path) -> Smtp {
        let python = std::env::var("CONSENTRY_TEST_PYTHON").unwrap_or_else(|_| {
            panic!(
                "CONSENTRY_TEST_PYTHON must name a python with aiosmtpd (scripts/test sets it up)"
            )
        });
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let maildir = dir.join("maildir");
        let child = Command::new(python)
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Smtp {
            child,
            port,
            maildir,
        }
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn delegated_consent_through_a_real_smtp_server() {
    let env = Env::new(Db::Sqlite);
    let (_, key) = env.tenant("ACME SAS");
    let smtp = Smtp::start(env.dir.path());
    let s = Server::start(
        &env,
        &[
            "--smtp-url",
            &format!("smtp://127.0.0.1:{}", smtp.port),
            "--mail-from",
            "Consentry <noreply@consentry.test>",
        ],
    );
    walk(&env, &s, &key, &smtp.maildir.join("new"));
    assert!(
        !env.data_dir().join("outbox").exists()
            || std::fs::read_dir(env.data_dir().join("outbox"))
                .unwrap()
                .next()
                .is_none()
    );
}

#[test]
fn unreachable_smtp_is_retried_and_reported_not_lost() {
    let env = Env::new(Db::Sqlite);
    let (_, key) = env.tenant("ACME SAS");
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let s = Server::start(&env, &["--smtp-url", &format!("smtp://127.0.0.1:{closed}")]);
    let contact = add_contact(&s, &key, "x@example.com");
    let r = post(
        &s.url("/v1/consent-requests"),
        Some(&key),
        &json!({"contact_id": contact, "purpose": "sms", "notice": "Texte."}),
    );
    assert_eq!(r.status, 201);
    let rid = r.json()["id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let v = get(&s.url(&format!("/v1/consent-requests/{rid}")), Some(&key)).json();
        if v["email"]["attempts"].as_i64().unwrap() >= 1 {
            assert_eq!(v["email"]["status"], "queued", "still queued for a retry");
            assert!(v["email"]["error"].as_str().unwrap().len() > 3);
            assert!(
                !v["email"]["error"]
                    .as_str()
                    .unwrap()
                    .contains("x@example.com")
            );
            assert_eq!(v["status"], "pending");
            break;
        }
        assert!(Instant::now() < deadline, "no delivery attempt recorded");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn bulk_requests_report_each_contact() {
    let env = Env::new(Db::Sqlite);
    let (_, key) = env.tenant("ACME SAS");
    let s = env.start();
    let ids: Vec<String> = (0..5)
        .map(|i| add_contact(&s, &key, &format!("bulk{i}@example.com")))
        .collect();
    let mut asked = ids.clone();
    asked.push("sub_doesnotexist".into());
    let r = post(
        &s.url("/v1/consent-requests"),
        Some(&key),
        &json!({"contact_ids": asked, "purpose": "events", "notice": "Invitations.", "language": "en"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let v = r.json();
    assert_eq!(v["requests"].as_array().unwrap().len(), 5);
    assert_eq!(v["errors"].as_array().unwrap().len(), 1);
    let mails = wait_mails(&env.data_dir().join("outbox"), 5);
    assert!(mails.iter().all(|m| m.contains("asks for your consent")));
    for (name, body, status) in [
        (
            "window too short",
            json!({"contact_id": ids[0], "purpose": "x", "notice": "n", "response_days": 2}),
            422,
        ),
        (
            "window too long",
            json!({"contact_id": ids[0], "purpose": "x", "notice": "n", "response_days": 31}),
            422,
        ),
        ("no contact", json!({"purpose": "x", "notice": "n"}), 422),
        (
            "unknown contact",
            json!({"contact_id": "sub_nope", "purpose": "x", "notice": "n"}),
            404,
        ),
        (
            "empty notice",
            json!({"contact_id": ids[0], "purpose": "x", "notice": " "}),
            422,
        ),
        (
            "bad language",
            json!({"contact_id": ids[0], "purpose": "x", "notice": "n", "language": "de"}),
            422,
        ),
    ] {
        let r = post_raw(
            &s.url("/v1/consent-requests"),
            Some(&key),
            "application/json",
            body.to_string().as_bytes(),
        );
        assert_eq!(r.status, status, "{name}: {}", r.text());
    }
}

/// A webhook receiver on loopback: answers 500 to the first POST (to exercise retries),
/// then 200, and keeps every request's headers and body.
fn receiver() -> (String, std::sync::mpsc::Receiver<(String, String)>) {
    use std::io::{BufRead as _, Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hooks/consentry", listener.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { return };
            let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
                head.push_str(&line);
            }
            let mut body = vec![0u8; len];
            reader.read_exact(&mut body).unwrap();
            let status = if n == 0 {
                "500 Internal Server Error"
            } else {
                "200 OK"
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let _ = tx.send((head, String::from_utf8(body).unwrap()));
        }
    });
    (url, rx)
}

#[test]
fn answers_reach_the_sender_by_a_signed_webhook_with_retries() {
    let env = Env::new(Db::Sqlite);
    let (tenant, key) = env.tenant("ACME SAS");
    // The receiver is on loopback, which webhooks reach only when the operator allows it.
    let s = Server::start(&env, &["--outbound-allow", "127.0.0.1/32"]);
    let (url, hits) = receiver();
    let r = crate::util::put(&s.url("/v1/webhook"), Some(&key), &json!({"url": url}));
    assert_eq!(r.status, 200, "{}", r.text());
    let secret = r.json()["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));

    let contact = add_contact(&s, &key, "hook@example.com");
    let r = post(
        &s.url("/v1/consent-requests"),
        Some(&key),
        &json!({"contact_id": contact, "purpose": "newsletter", "notice": "Texte."}),
    );
    let rid = r.json()["id"].as_str().unwrap().to_owned();
    let body = mail_body(&wait_mails(&env.data_dir().join("outbox"), 1)[0]);
    let (status, _) = page(&s, &link_path(&body), "fr", Some("decision=refused"));
    assert_eq!(status, 200);

    // First attempt refused by the receiver, the retry is delivered (backoff: 10 s after
    // the first failure), with a valid signature over the exact body.
    let (_, first) = hits
        .recv_timeout(Duration::from_secs(20))
        .expect("a first delivery attempt");
    let (head, body) = hits
        .recv_timeout(Duration::from_secs(40))
        .expect("a retried delivery");
    assert_eq!(first, body, "the retry resends the same event");
    let event: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(event["type"], "consent_request.answered");
    assert_eq!(event["data"]["request_id"], rid.as_str());
    assert_eq!(event["data"]["contact_id"], contact.as_str());
    assert_eq!(event["data"]["status"], "refused");
    assert!(
        !body.contains("hook@example.com"),
        "no personal data in events"
    );
    let sig = head
        .lines()
        .find_map(|l| {
            l.strip_prefix("consentry-signature: ")
                .or_else(|| l.strip_prefix("Consentry-Signature: "))
        })
        .unwrap()
        .trim()
        .to_owned();
    let t = sig.split(',').next().unwrap().strip_prefix("t=").unwrap();
    let expected = Command::new("openssl")
        .args(["dgst", "-sha256", "-hmac", &secret])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map(|mut c| {
            use std::io::Write as _;
            c.stdin
                .take()
                .unwrap()
                .write_all(format!("{t}.{body}").as_bytes())
                .unwrap();
            String::from_utf8(c.wait_with_output().unwrap().stdout).unwrap()
        })
        .unwrap();
    let expected_hex = expected.trim().rsplit(' ').next().unwrap();
    assert_eq!(
        sig,
        format!("t={t},v1={expected_hex}"),
        "signature checked with openssl"
    );
    let _ = tenant;
    let hook = get(&s.url("/v1/webhook"), Some(&key)).json();
    let deliveries = hook["recent_deliveries"].as_array().unwrap();
    assert_eq!(deliveries[0]["status"], "delivered");
    assert_eq!(deliveries[0]["attempts"], 2);
}
