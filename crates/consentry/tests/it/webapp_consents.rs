//! The web application's consent pages over HTTP, with the real binary: a contact's page
//! and timeline; a consent recorded by hand with an evidence file (the proof commits to
//! it, `consentry verify` accepts the proof, the file comes back byte for byte and is
//! never stored in clear, the erasure deletes it); proof and certificate downloads
//! (pending, then anchored by a real RFC 3161 authority); bulk requests from selected
//! contacts, answered from the e-mailed link and seen live; resend (the old link dies)
//! and cancel (the link says so and takes no answer; the book returns to what it was);
//! roles, forged forms, bad input and another tenant's proofs.

use crate::portal::{Page, csrf_of, outbox};
use crate::service::{add_contact, consent};
use crate::util::{BIN, Db, Env, Server, get, post, post_raw};
use crate::webapp_browser::add_user;
use serde_json::Value;
use std::process::Command;
use std::time::{Duration, Instant};

const PASSWORD: &str = "a long staff password";
const ADMIN: &str = "admin-token-for-the-webapp-tests-01";
const NOTICE: &str =
    "ACME SAS will e-mail you its newsletter once a month. You can withdraw at any time.";
/// A string found nowhere but in the evidence file.
const MARKER: &str = "EVIDENCE-MARKER-5e1d0c7a-signed-paper-form";

/// A browser stand-in for staff: keeps the session cookie, never follows redirects.
#[derive(Default, Clone)]
pub(crate) struct Web {
    cookie: Option<String>,
}

impl Web {
    fn call(
        &mut self,
        s: &Server,
        method: &str,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
    ) -> Page {
        crate::util::staff_send(&mut self.cookie, s, method, path, body, &[])
    }

    pub(crate) fn get(&mut self, s: &Server, path: &str) -> Page {
        self.call(s, "GET", path, None)
    }

    pub(crate) fn post_form(&mut self, s: &Server, path: &str, pairs: &[(&str, &str)]) -> Page {
        self.call(
            s,
            "POST",
            path,
            Some((
                "application/x-www-form-urlencoded",
                form(pairs).into_bytes(),
            )),
        )
    }

    /// The CSRF token of a signed-in page.
    pub(crate) fn token(&mut self, s: &Server) -> String {
        let p = self.get(s, "/app/contacts");
        csrf_of(&p.text())
    }
}

fn form(pairs: &[(&str, &str)]) -> String {
    crate::util::form_encode(pairs)
}

/// A `multipart/form-data` body: text fields, then files `(field, name, type, bytes)`.
fn multipart(fields: &[(&str, &str)], files: &[(&str, &str, &str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----consentry-test-boundary-8d1f";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .into_bytes(),
        );
    }
    for (field, name, ct, bytes) in files {
        body.extend(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\nContent-Type: {ct}\r\n\r\n"
            )
            .into_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{boundary}--\r\n").into_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Signs in to `tenant` (the organisation field of the form).
pub(crate) fn signed_in(s: &Server, tenant: &str, email: &str) -> Web {
    let mut w = Web::default();
    let r = w.post_form(
        s,
        "/app/login",
        &[("tenant", tenant), ("email", email), ("password", PASSWORD)],
    );
    assert_eq!(r.status, 303, "sign-in of {email}: {}", r.text());
    assert!(w.cookie.is_some());
    w
}

pub(crate) fn location(p: &Page) -> String {
    p.header("location").unwrap_or("").to_owned()
}

/// The `id="…"` values starting with `prefix` in a page, in order.
fn ids_with(html: &str, prefix: &str) -> Vec<String> {
    let key = format!("id=\"{prefix}");
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find(&key) {
        let start = at + 4;
        let end = start + rest[start..].find('"').unwrap();
        out.push(rest[start..end].to_owned());
        rest = &rest[end..];
    }
    out
}

/// The consent links of the e-mails to `email`.
fn links_to(env: &Env, email: &str) -> Vec<String> {
    outbox(env)
        .iter()
        .filter(|m| {
            let headers = m.split("\n\n").next().unwrap_or("");
            headers.contains(email)
        })
        .filter_map(|m| {
            let at = m.find("/c/")?;
            let token: String = m[at + 3..].chars().take(64).collect();
            (token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()))
                .then(|| format!("/c/{token}"))
        })
        .collect()
}

fn wait_links_to(env: &Env, email: &str, n: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let links = links_to(env, email);
        if links.len() >= n {
            return links;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {n} e-mails to {email}",
            links.len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn contact_json(s: &Server, key: &str, id: &str) -> Value {
    let r = get(&s.url(&format!("/v1/contacts/{id}")), Some(key));
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

/// Runs SQL against the test's database (sqlite3 or psql).
pub(crate) fn sql(env: &Env, statement: &str) -> String {
    match env.db {
        Db::Sqlite => {
            let out = Command::new("sqlite3")
                .args(["-cmd", ".timeout 10000"])
                .arg(env.dir.path().join("c.sqlite3"))
                .arg(statement)
                .output()
                .unwrap_or_else(|e| panic!("the SQLite tests need the sqlite3 command: {e}"));
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap()
        }
        Db::Postgres => crate::util::psql(&format!(
            "SET search_path = {}; {statement}",
            env.schema.as_ref().unwrap()
        )),
    }
}

fn pdf_text(env: &Env, name: &str, bytes: &[u8]) -> String {
    assert!(bytes.starts_with(b"%PDF-"), "not a PDF");
    let path = env.dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    let out = Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is needed");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `consentry verify FILE --json`: exit code and report.
fn verify(env: &Env, name: &str, bytes: &[u8], extra: &[&str]) -> (i32, Value) {
    let path = env.dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    let out = Command::new(BIN)
        .arg("verify")
        .arg(&path)
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

/// The anchor set-up of a walk: a real RFC 3161 authority (OpenSSL), or none.
struct Anchor {
    _pki: crate::tsa::Pki,
    _tsa: crate::tsa::TsaServer,
    ca: String,
    args: Vec<String>,
}

impl Anchor {
    fn start() -> Anchor {
        use crate::tsa::{Alg, Pki, TsaServer};
        let pki = Pki::new(Alg::Rsa);
        let tsa = TsaServer::start(&pki.config);
        let ca = pki.path("root.pem").display().to_string();
        let args = vec![
            "--anchor-rfc3161-url".to_owned(),
            tsa.url.clone(),
            "--anchor-rfc3161-ca".to_owned(),
            ca.clone(),
            "--anchor-poll".to_owned(),
            "1".to_owned(),
            "--admin-token".to_owned(),
            ADMIN.to_owned(),
        ];
        Anchor {
            _pki: pki,
            _tsa: tsa,
            ca,
            args,
        }
    }
}

fn walk(db: Db, anchored: bool) {
    let env = Env::new(db);
    let (tenant, key) = env.tenant("ACME SAS");
    let (other_tenant, other_key) = env.tenant("Other Ltd");
    add_user(&env, &tenant, "adele.admin@acme.example", "admin");
    add_user(&env, &tenant, "oscar.operator@acme.example", "operator");
    add_user(&env, &tenant, "aude.auditor@acme.example", "auditor");
    add_user(
        &env,
        &other_tenant,
        "olga.operator@other.example",
        "operator",
    );
    let anchor = anchored.then(Anchor::start);
    let args: Vec<&str> = anchor
        .as_ref()
        .map(|a| a.args.iter().map(String::as_str).collect())
        .unwrap_or_default();
    let s = Server::start(&env, &args);

    let ann = "ann.martin@example.org";
    let bob = "bob.martin@example.com";
    let carl = "carl.dupont@example.net";
    let c1 = add_contact(&s, &key, ann);
    let c2 = add_contact(&s, &key, bob);
    let c3 = add_contact(&s, &key, carl);
    let c4 = add_contact(&s, &key, "dora.idle@example.org");
    // Another tenant's contact and proof.
    let foreign_contact = add_contact(&s, &other_key, "zoe@example.org");
    let foreign: Value = serde_json::from_slice(&consent(
        &s,
        &other_key,
        &foreign_contact,
        "newsletter",
        "granted",
    ))
    .unwrap();
    let foreign_proof = foreign["id"].as_str().unwrap().to_owned();

    // The admin writes the purpose (365 days by default) and its notice.
    let mut admin = signed_in(&s, &tenant, "adele.admin@acme.example");
    let t = admin.token(&s);
    let r = admin.post_form(
        &s,
        "/app/purposes",
        &[
            ("csrf", &t),
            ("name", "newsletter"),
            ("description", "Our monthly newsletter"),
            ("valid_days", "365"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let r = admin.post_form(
        &s,
        "/app/notices",
        &[
            ("csrf", &t),
            ("purpose", "newsletter"),
            ("language", "en"),
            ("text", NOTICE),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.text());

    // --- The contact's page, and a consent recorded by hand with an evidence file. ---
    let mut op = signed_in(&s, &tenant, "oscar.operator@acme.example");
    let p = op.get(&s, &format!("/app/contacts/{c1}"));
    assert_eq!(p.status, 200, "{}", p.text());
    let html = p.text();
    assert!(html.contains("id=\"consent-form\""), "{html}");
    assert!(html.contains("enctype=\"multipart/form-data\""));
    assert!(html.contains(&format!("href=\"/app/contacts/{c1}/edit\"")));
    assert!(
        html.contains(&format!(
            "data-contact=\"{c1}\" data-purpose=\"newsletter\""
        )),
        "a live badge for the catalogue's purpose: {html}"
    );
    assert!(!html.contains(ann), "no identity data on the page");
    let token = csrf_of(&html);

    let mut file = b"%PDF-1.4\n% scanned paper form\n".to_vec();
    file.extend_from_slice(MARKER.as_bytes());
    file.extend((0u8..=255).cycle().take(3000));
    let consent_path = format!("/app/contacts/{c1}/consents");
    let fields_ok = |tok: &str| -> Vec<(String, String)> {
        vec![
            ("csrf".into(), tok.into()),
            ("purpose".into(), "newsletter".into()),
            ("purpose_other".into(), String::new()),
            ("decision".into(), "granted".into()),
            ("valid_days".into(), String::new()),
            ("evidence_note".into(), String::new()),
        ]
    };
    let as_refs = |v: &[(String, String)]| -> Vec<(String, String)> { v.to_vec() };

    // Bad input first: nothing is recorded.
    let proofs_before = sql(&env, "SELECT COUNT(*) FROM proofs");
    for (what, fields, files) in [
        (
            "a purpose that is not a key",
            vec![("purpose_other", "Not A Purpose!")],
            true,
        ),
        ("no decision", vec![("decision", "maybe")], true),
        ("a validity out of range", vec![("valid_days", "0")], true),
        (
            "a note and a file",
            vec![("evidence_note", "paper form 12")],
            true,
        ),
        (
            "a date of consent in the future",
            vec![("given_on", "2999-01-01")],
            false,
        ),
        (
            "a date of consent more than ten years ago",
            vec![("given_on", "1926-05-01")],
            false,
        ),
        (
            "a date that is not one",
            vec![("given_on", "2026-02-30")],
            false,
        ),
        (
            "a notice that does not exist",
            vec![("notice", "ntc_zzzz")],
            false,
        ),
    ] {
        let mut all = as_refs(&fields_ok(&token));
        for (k, v) in fields {
            all.retain(|(kk, _)| kk != k);
            all.push((k.into(), v.into()));
        }
        let pairs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let file_part: Vec<(&str, &str, &str, &[u8])> = if files {
            vec![("evidence_file", "form.pdf", "application/pdf", &file[..])]
        } else {
            Vec::new()
        };
        let (ct, body) = multipart(&pairs, &file_part);
        let r = op.call(&s, "POST", &consent_path, Some((&ct, body)));
        // The contact's page again, with its menu, the reason in the form and what was
        // typed kept.
        assert_eq!(r.status, 422, "{what}: {}", r.text());
        let page = r.text();
        assert!(page.contains("id=\"consent-error\""), "{what}: {page}");
        assert!(page.contains("Consent not recorded: "), "{what}: {page}");
        assert!(page.contains("class=\"main\""), "{what}: the menu: {page}");
        assert!(page.contains("id=\"timeline\""), "{what}: {page}");
        if let Some((_, typed)) = all.iter().find(|(k, _)| k == "given_on") {
            assert!(
                page.contains(&format!("value=\"{typed}\"")),
                "{what}: {page}"
            );
        }
        if what.starts_with("a date of consent in the future") {
            assert!(page.contains("cannot be in the future"), "{page}");
        }
        if files {
            assert!(page.contains("choose it again"), "{what}: {page}");
        }
    }
    // A forged form (wrong token) is refused before anything is read.
    let pairs: Vec<(String, String)> = fields_ok(&"0".repeat(64));
    let pairs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (ct, body) = multipart(
        &pairs,
        &[("evidence_file", "form.pdf", "application/pdf", &file[..])],
    );
    let r = op.call(&s, "POST", &consent_path, Some((&ct, body)));
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(sql(&env, "SELECT COUNT(*) FROM proofs"), proofs_before);
    assert_eq!(sql(&env, "SELECT COUNT(*) FROM evidence_files").trim(), "0");

    // The real one: the paper form was signed on 15 January 2026, after reading the
    // purpose's notice (offered and preselected).
    let notice_id = {
        let at = html
            .find("<option value=\"ntc_")
            .unwrap_or_else(|| panic!("the purpose's notice is offered: {html}"));
        let rest = &html[at + "<option value=\"".len()..];
        let id = &rest[..rest.find('"').unwrap()];
        assert!(
            rest[id.len()..].starts_with("\" selected"),
            "the current notice is preselected: {rest}"
        );
        id.to_owned()
    };
    let mut pairs: Vec<(String, String)> = fields_ok(&token);
    pairs.push(("given_on".into(), "2026-01-15".into()));
    pairs.push(("notice".into(), notice_id.clone()));
    let pairs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (ct, body) = multipart(
        &pairs,
        &[(
            "evidence_file",
            "Ann Martin signed form.pdf",
            "application/pdf",
            &file[..],
        )],
    );
    let r = op.call(&s, "POST", &consent_path, Some((&ct, body)));
    assert_eq!(r.status, 303, "{}", r.text());
    let to = location(&r);
    let prefix = format!("/app/contacts/{c1}?recorded=");
    assert!(to.starts_with(&prefix), "{to}");
    let pid = to[prefix.len()..].to_owned();
    assert!(pid.starts_with("prf_"), "{pid}");
    let page = op.get(&s, &to).text();
    assert!(page.contains("id=\"flash\""), "{page}");
    for id in [
        format!("proof-{pid}"),
        format!("proof-json-{pid}"),
        format!("proof-pdf-{pid}"),
        format!("evidence-{pid}"),
    ] {
        assert!(page.contains(&format!("id=\"{id}\"")), "{id} in {page}");
    }
    // Certificates, and the wait for one, only where anchoring is on: without it, no
    // link leads to a certificate that will never come.
    for id in [format!("cert-json-{pid}"), format!("cert-pdf-{pid}")] {
        assert_eq!(
            page.contains(&format!("id=\"{id}\"")),
            anchored,
            "{id} in {page}"
        );
    }
    assert_eq!(
        page.contains("class=\"pending-anchor\""),
        anchored,
        "{page}"
    );
    assert!(
        page.contains("class=\"muted given-at\">given on 2026-01-15 00:00"),
        "{page}"
    );
    if anchored {
        assert!(
            page.contains("Pending anchor until 00:00 Europe/Paris"),
            "the configured schedule: {page}"
        );
    } else {
        assert!(!page.contains("Pending anchor"), "no promise: {page}");
    }
    assert!(
        page.contains(&format!(
            "data-contact=\"{c1}\" data-purpose=\"newsletter\">granted"
        )) || page.contains("data-status=\"granted\""),
        "{page}"
    );

    // The proof from /app is the API's, byte for byte; it verifies and commits to the file.
    let from_app = op.get(&s, &format!("/app/proofs/{pid}"));
    assert_eq!(from_app.status, 200);
    assert!(from_app.content_type().starts_with("application/json"));
    assert!(
        from_app
            .header("content-disposition")
            .unwrap_or("")
            .starts_with("attachment")
    );
    let from_api = get(&s.url(&format!("/v1/proofs/{pid}")), Some(&key));
    assert_eq!(from_api.status, 200);
    assert_eq!(from_app.body, from_api.body, "identical bytes");
    let proof: Value = serde_json::from_slice(&from_app.body).unwrap();
    let commitment = proof["evidence"].as_str().expect("an evidence commitment");
    assert_eq!(commitment.len(), 64, "{commitment}");
    assert_eq!(proof["method"], "manual");
    assert_eq!(proof["purpose"], "newsletter");
    assert!(
        proof["valid_until"].is_string(),
        "the purpose's 365 days by default: {proof}"
    );
    // The date given (that day's start in the application's zone) and the validity from it.
    let ms = |m: &str| {
        consentry_core::time::Timestamp::parse(proof[m].as_str().unwrap())
            .unwrap()
            .unix_millis()
    };
    let given = ms("given_at");
    let jan15 = 1_768_435_200_000; // 2026-01-15T00:00:00Z
    assert!(
        (jan15 - 14 * 3_600_000..=jan15 + 14 * 3_600_000).contains(&given),
        "{proof}"
    );
    assert_eq!(ms("valid_until"), given + 365 * 86_400_000, "{proof}");
    assert!(ms("recorded_at") > given + 300 * 86_400_000, "{proof}");
    assert_eq!(proof["notice"]["version"], "1", "{proof}");
    assert_eq!(proof["notice"]["language"], "en", "{proof}");
    assert_eq!(
        proof["notice"]["sha256"],
        consentry_core::merkle::Hash::digest(NOTICE.as_bytes()).to_hex(),
        "{proof}"
    );
    // Pinned to the keys the service publishes (trust on first use, a store of the
    // test's own): valid.
    let well_known = s.url("/.well-known/consentry.json");
    let store = env.dir.path().join("trust").display().to_string();
    let pins = [
        "--trust",
        well_known.as_str(),
        "--trust-store",
        store.as_str(),
    ];
    let (code, report) = verify(&env, "proof.json", &from_app.body, &pins);
    assert_eq!(code, 0, "{report:#}");

    // The evidence comes back as it was given; the database never holds it in clear.
    let ev = op.get(&s, &format!("/app/proofs/{pid}/evidence"));
    assert_eq!(ev.status, 200, "{}", ev.text());
    assert_eq!(ev.body, file, "same bytes");
    assert_eq!(ev.content_type(), "application/pdf");
    let disposition = ev.header("content-disposition").unwrap_or("").to_owned();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    assert!(
        !disposition.contains("Ann"),
        "the given file name is not kept"
    );
    let raw = env.raw_database();
    assert!(
        !raw.windows(MARKER.len()).any(|w| w == MARKER.as_bytes()),
        "the evidence file is stored sealed, never in clear"
    );
    assert_eq!(sql(&env, "SELECT COUNT(*) FROM evidence_files").trim(), "1");
    // The download is an access on the log: a data.access event naming the field
    // `evidence`, the proof and the user, which the person sees in the portal.
    let history = crate::util::get(&s.url(&format!("/v1/contacts/{c1}/events")), Some(&key));
    assert_eq!(history.status, 200, "{}", history.text());
    let h = history.json();
    let events = h["items"].as_array().expect("a list of events");
    let read = events
        .iter()
        .find(|e| e["fields"] == serde_json::json!(["evidence"]))
        .unwrap_or_else(|| panic!("no evidence access in {h:#}"));
    assert_eq!(read["type"], "data.access", "{read:#}");
    assert_eq!(read["proof_id"], pid.as_str(), "{read:#}");
    assert!(
        read["actor"].as_str().unwrap_or("").starts_with("usr_"),
        "{read:#}"
    );

    // The proof PDF names the purpose.
    let pdf = op.get(&s, &format!("/app/proofs/{pid}/pdf"));
    assert_eq!(pdf.status, 200);
    assert_eq!(pdf.content_type(), "application/pdf");
    let text = pdf_text(&env, "proof.pdf", &pdf.body);
    assert!(text.contains("newsletter"), "{text}");
    // And the date the consent was given, apart from the recording.
    assert!(text.contains("Given on (local time)"), "{text}");
    assert!(text.contains("15/01/2026 00:00:00"), "{text}");

    // The certificate is pending: a page saying until when, for JSON and PDF alike.
    for path in [
        format!("/app/proofs/{pid}/certificate"),
        format!("/app/proofs/{pid}/certificate.pdf"),
    ] {
        let c = op.get(&s, &path);
        assert_eq!(c.status, 200, "{path}");
        assert!(c.content_type().starts_with("text/html"), "{path}");
        let html = c.text();
        assert!(html.contains("id=\"certificate-pending\""), "{html}");
        assert!(html.contains("class=\"pending-anchor\""), "{html}");
    }

    if let Some(a) = &anchor {
        let r = post(
            &s.url("/v1/admin/anchor"),
            Some(ADMIN),
            &serde_json::json!({}),
        );
        assert_eq!(r.status, 202, "{}", r.text());
        let deadline = Instant::now() + Duration::from_secs(60);
        let cert = loop {
            let c = op.get(&s, &format!("/app/proofs/{pid}/certificate"));
            if c.content_type().starts_with("application/json") {
                break c;
            }
            assert!(Instant::now() < deadline, "no certificate: {}", s.logs());
            std::thread::sleep(Duration::from_millis(300));
        };
        assert_eq!(cert.status, 200);
        let api = get(&s.url(&format!("/v1/proofs/{pid}/certificate")), Some(&key));
        assert_eq!(cert.body, api.body, "the API's certificate");
        let mut args = pins.to_vec();
        args.extend(["--tsa-ca", a.ca.as_str()]);
        let (code, report) = verify(&env, "cert.json", &cert.body, &args);
        assert_eq!(code, 0, "{report:#}");
        let cpdf = op.get(&s, &format!("/app/proofs/{pid}/certificate.pdf"));
        assert_eq!(cpdf.content_type(), "application/pdf");
        assert!(pdf_text(&env, "cert.pdf", &cpdf.body).contains("RFC 3161"));
        let page = op.get(&s, &format!("/app/contacts/{c1}")).text();
        let item = &page[page.find(&format!("id=\"proof-{pid}\"")).unwrap()..];
        let item = &item[..item.find("</li>").unwrap()];
        assert!(!item.contains("pending-anchor"), "{item}");
        assert!(item.contains("RFC 3161"), "the anchor is shown: {item}");
    }

    // --- A bulk request from two selected contacts. ---
    let p = op.get(&s, &format!("/app/requests/new?contact={c2}&contact={c3}"));
    assert_eq!(p.status, 200, "{}", p.text());
    let html = p.text();
    assert!(html.contains("id=\"request-form\""), "{html}");
    assert!(html.contains("2 selected contact"), "{html}");
    assert!(html.contains("once a month"), "the notice text is shown");
    let notice_id = {
        let at = html.find("name=\"notice\" value=\"").unwrap() + 21;
        html[at..at + html[at..].find('"').unwrap()].to_owned()
    };
    assert!(notice_id.starts_with("ntc_"), "{notice_id}");
    let token = csrf_of(&html);
    let request_form = |tok: &str, contacts: &[&str], extra: &[(&str, &str)]| -> String {
        let mut pairs: Vec<(&str, &str)> = vec![("csrf", tok)];
        for c in contacts {
            pairs.push(("contact", c));
        }
        pairs.extend_from_slice(&[
            ("purpose", "newsletter"),
            ("notice", notice_id.as_str()),
            ("language", ""),
            ("response_days", "15"),
            ("valid_days", ""),
        ]);
        for (k, v) in extra {
            pairs.retain(|(kk, _)| kk != k);
            pairs.push((k, v));
        }
        form(&pairs)
    };
    // Refused: a language other than the notice's, a bad window, a forged token.
    for (extra, status) in [
        (vec![("language", "fr")], 400),
        (vec![("response_days", "2")], 400),
        (vec![("notice", "ntc_nope")], 400),
    ] {
        let r = op.call(
            &s,
            "POST",
            "/app/requests",
            Some((
                "application/x-www-form-urlencoded",
                request_form(&token, &[&c2, &c3], &extra).into_bytes(),
            )),
        );
        assert_eq!(r.status, status, "{extra:?}: {}", r.text());
    }
    let r = op.call(
        &s,
        "POST",
        "/app/requests",
        Some((
            "application/x-www-form-urlencoded",
            request_form(&"1".repeat(64), &[&c4], &[]).into_bytes(),
        )),
    );
    assert_eq!(r.status, 403);
    assert!(
        contact_json(&s, &key, &c4)["consents"]
            .get("newsletter")
            .is_none(),
        "nothing asked with a forged token"
    );
    let r = op.call(
        &s,
        "POST",
        "/app/requests",
        Some((
            "application/x-www-form-urlencoded",
            request_form(&token, &[&c2, &c3], &[]).into_bytes(),
        )),
    );
    // Sent: a redirect to the sending's result page, which a reload shows again.
    assert_eq!(r.status, 303, "{}", r.text());
    let result = location(&r);
    assert!(result.starts_with("/app/requests/batch/bat_"), "{result}");
    let html = op.get(&s, &result).text();
    assert!(html.contains("id=\"request-result\""), "{html}");
    assert!(html.contains("2 request(s) sent"), "{html}");
    assert!(!html.contains("id=\"request-errors\""), "{html}");
    let again = op.get(&s, &result);
    assert_eq!(again.status, 200, "a reload shows the result again");
    assert!(
        again.text().contains("2 request(s) sent"),
        "{}",
        again.text()
    );
    for c in [&c2, &c3] {
        assert_eq!(
            contact_json(&s, &key, c)["consents"]["newsletter"]["status"],
            "pending"
        );
    }
    // Asking again: both already wait for their answer; an unknown ID is reported too.
    let r = op.call(
        &s,
        "POST",
        "/app/requests",
        Some((
            "application/x-www-form-urlencoded",
            request_form(&token, &[&c2, &c3, "sub_doesnotexist"], &[]).into_bytes(),
        )),
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let html = op.get(&s, &location(&r)).text();
    assert!(html.contains("id=\"request-nobody\""), "{html}");
    assert!(html.contains("Nobody was asked"), "{html}");
    assert!(!html.contains("on their way"), "{html}");
    assert!(html.contains("id=\"request-errors\""), "{html}");
    assert!(html.contains("already waits"), "{html}");
    assert!(html.contains("not in this address book"), "{html}");

    let bob_link = wait_links_to(&env, bob, 1).remove(0);
    let carl_link = wait_links_to(&env, carl, 1).remove(0);
    assert_eq!(outbox(&env).len(), 2, "two e-mails, not four");

    // Bob answers: live status and the contact page follow.
    let r = post_raw(
        &s.url(&bob_link),
        None,
        "application/x-www-form-urlencoded",
        b"decision=granted",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let live = op.get(&s, &format!("/app/live?ids={c2},{c3}"));
    assert_eq!(live.status, 200);
    let live: Value = serde_json::from_slice(&live.body).unwrap();
    assert_eq!(live[&c2]["newsletter"]["status"], "granted", "{live}");
    assert_eq!(live[&c3]["newsletter"]["status"], "pending", "{live}");
    let bob_proof = contact_json(&s, &key, &c2)["consents"]["newsletter"]["proof_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let page = op.get(&s, &format!("/app/contacts/{c2}")).text();
    assert!(
        page.contains(&format!("id=\"proof-{bob_proof}\"")),
        "{page}"
    );
    assert!(page.contains(&format!("id=\"proof-pdf-{bob_proof}\"")));
    assert!(page.contains("delegated"), "{page}");
    assert!(ids_with(&page, "resend-").is_empty(), "answered: no resend");
    let delegated: Value =
        serde_json::from_slice(&op.get(&s, &format!("/app/proofs/{bob_proof}")).body).unwrap();
    assert_eq!(
        delegated["notice"]["sha256"],
        consentry_core::merkle::Hash::digest(NOTICE.as_bytes()).to_hex(),
        "the notice's exact text is what the proof records"
    );
    assert_eq!(delegated["notice"]["language"], "en");
    assert_eq!(delegated["notice"]["version"], "1");

    // --- Resend: a new link; the old one dies. ---
    let page = op.get(&s, &format!("/app/contacts/{c3}")).text();
    let resend_ids = ids_with(&page, "resend-");
    assert_eq!(resend_ids.len(), 1, "{page}");
    let req = resend_ids[0]["resend-".len()..].to_owned();
    assert!(page.contains(&format!("id=\"cancel-{req}\"")));
    let token = csrf_of(&page);
    let r = op.post_form(
        &s,
        &format!("/app/requests/{req}/resend"),
        &[("csrf", &token)],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    assert!(location(&r).starts_with(&format!("/app/contacts/{c3}?resent={req}")));
    let links = wait_links_to(&env, carl, 2);
    let new_link = links.into_iter().find(|l| *l != carl_link).unwrap();
    let old = get(&s.url(&carl_link), None);
    assert_eq!(
        old.status,
        410,
        "the old link stops working, and says it was replaced: {}",
        old.text()
    );
    assert!(
        old.text().contains("Link replaced") && old.text().contains("newer e-mail"),
        "{}",
        old.text()
    );
    let r = post_raw(
        &s.url(&carl_link),
        None,
        "application/x-www-form-urlencoded",
        b"decision=granted",
    );
    assert_eq!(r.status, 410);
    assert!(r.text().contains("Link replaced"), "{}", r.text());
    assert_eq!(
        contact_json(&s, &key, &c3)["consents"]["newsletter"]["status"],
        "pending"
    );
    let fresh = get(&s.url(&new_link), None);
    assert_eq!(fresh.status, 200, "{}", fresh.text());
    assert!(fresh.text().contains("once a month"));

    // --- Cancel: confirmed first; then the link says so and takes no answer; the
    // book is as before. ---
    let r = op.post_form(
        &s,
        &format!("/app/requests/{req}/cancel"),
        &[("csrf", &token)],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(location(&r), format!("/app/requests/{req}/cancel"));
    assert_eq!(
        get(&s.url(&new_link), None).status,
        200,
        "not cancelled without the confirmation"
    );
    let confirm = op.get(&s, &format!("/app/requests/{req}/cancel"));
    assert_eq!(confirm.status, 200, "{}", confirm.text());
    let html = confirm.text();
    assert!(html.contains("id=\"cancel-confirm\""), "{html}");
    assert!(html.contains("name=\"confirm\" value=\"yes\""), "{html}");
    let r = op.post_form(
        &s,
        &format!("/app/requests/{req}/cancel"),
        &[("csrf", &token), ("confirm", "yes")],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    assert!(location(&r).starts_with(&format!("/app/contacts/{c3}?cancelled={req}")));
    let r = get(&s.url(&new_link), None);
    assert_eq!(r.status, 410);
    assert!(r.text().contains("Request cancelled"), "{}", r.text());
    let r = post_raw(
        &s.url(&new_link),
        None,
        "application/x-www-form-urlencoded",
        b"decision=granted",
    );
    assert_eq!(r.status, 410);
    assert!(r.text().contains("Request cancelled"));
    let c = contact_json(&s, &key, &c3);
    assert!(
        c["consents"].get("newsletter").is_none(),
        "back to no record: {c}"
    );
    let api = get(&s.url(&format!("/v1/consent-requests/{req}")), Some(&key));
    assert_eq!(api.json()["status"], "cancelled");
    let page = op.get(&s, &format!("/app/contacts/{c3}")).text();
    assert!(page.contains("Request cancelled"), "{page}");
    assert!(ids_with(&page, "resend-").is_empty());
    let r = op.post_form(
        &s,
        &format!("/app/requests/{req}/cancel"),
        &[("csrf", &token), ("confirm", "yes")],
    );
    assert_eq!(r.status, 400, "not twice");

    // --- The auditor reads and downloads, and may change nothing. ---
    let mut au = signed_in(&s, &tenant, "aude.auditor@acme.example");
    let page = au.get(&s, &format!("/app/contacts/{c1}"));
    assert_eq!(page.status, 200);
    assert!(!page.text().contains("id=\"consent-form\""));
    assert!(!page.text().contains("/edit\""));
    assert_eq!(
        au.get(&s, &format!("/app/proofs/{pid}")).body,
        from_api.body
    );
    assert_eq!(
        au.get(&s, &format!("/app/proofs/{pid}/evidence")).body,
        file
    );
    let at = au.token(&s);
    let (ct, body) = multipart(
        &[
            ("csrf", &at),
            ("purpose", "newsletter"),
            ("decision", "refused"),
        ],
        &[],
    );
    assert_eq!(
        au.call(&s, "POST", &consent_path, Some((&ct, body))).status,
        403
    );
    assert_eq!(
        au.get(&s, &format!("/app/requests/new?contact={c4}"))
            .status,
        403
    );
    let r = au.call(
        &s,
        "POST",
        "/app/requests",
        Some((
            "application/x-www-form-urlencoded",
            request_form(&at, &[&c4], &[]).into_bytes(),
        )),
    );
    assert_eq!(r.status, 403);
    for action in ["resend", "cancel"] {
        let r = au.post_form(
            &s,
            &format!("/app/requests/{req}/{action}"),
            &[("csrf", &at)],
        );
        assert_eq!(r.status, 403, "{action}");
    }
    assert_eq!(
        contact_json(&s, &key, &c1)["consents"]["newsletter"]["status"],
        "granted",
        "unchanged"
    );

    // --- Another tenant's proof and contact are not found. ---
    for path in [
        format!("/app/proofs/{foreign_proof}"),
        format!("/app/proofs/{foreign_proof}/pdf"),
        format!("/app/proofs/{foreign_proof}/certificate"),
        format!("/app/proofs/{foreign_proof}/certificate.pdf"),
        format!("/app/proofs/{foreign_proof}/evidence"),
        format!("/app/contacts/{foreign_contact}"),
        "/app/proofs/not-a-proof".to_owned(),
    ] {
        assert_eq!(op.get(&s, &path).status, 404, "{path}");
    }
    let mut olga = signed_in(&s, &other_tenant, "olga.operator@other.example");
    assert_eq!(olga.get(&s, &format!("/app/proofs/{pid}")).status, 404);
    assert_eq!(
        olga.get(&s, &format!("/app/proofs/{pid}/evidence")).status,
        404
    );
    let ot = olga.token(&s);
    assert_eq!(
        olga.post_form(&s, &format!("/app/requests/{req}/cancel"), &[("csrf", &ot)])
            .status,
        404
    );

    // --- Erasing the contact deletes the evidence file with the key. ---
    let r = post(
        &s.url(&format!("/v1/contacts/{c1}/erase")),
        Some(&key),
        &serde_json::json!({}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(sql(&env, "SELECT COUNT(*) FROM evidence_files").trim(), "0");
    assert_eq!(
        op.get(&s, &format!("/app/proofs/{pid}/evidence")).status,
        404
    );
    let page = op.get(&s, &format!("/app/contacts/{c1}")).text();
    assert!(page.contains("id=\"contact-erased\""), "{page}");
    assert!(!page.contains("id=\"consent-form\""));
    assert!(
        page.contains("Data erased"),
        "the erasure is on the timeline"
    );
    // The proof itself stays, and still verifies.
    assert_eq!(
        op.get(&s, &format!("/app/proofs/{pid}")).body,
        from_api.body
    );
}

#[test]
fn sqlite_contact_page_evidence_requests_and_downloads_with_a_tsa_anchor() {
    walk(Db::Sqlite, true);
}

#[test]
fn postgres_contact_page_evidence_requests_and_downloads() {
    walk(Db::Postgres, false);
}

/// A file over 10 MiB is refused with a page; nothing is recorded.
#[test]
fn an_oversized_evidence_file_is_refused() {
    let env = Env::new(Db::Sqlite);
    let (tenant, key) = env.tenant("ACME SAS");
    add_user(&env, &tenant, "oscar.operator@acme.example", "operator");
    let s = env.start();
    let c = add_contact(&s, &key, "ann@example.org");
    let mut op = signed_in(&s, &tenant, "oscar.operator@acme.example");
    let token = csrf_of(&op.get(&s, &format!("/app/contacts/{c}")).text());
    let big = vec![b'x'; 10 * 1024 * 1024 + 300 * 1024];
    let (ct, body) = multipart(
        &[
            ("csrf", &token),
            ("purpose", "newsletter"),
            ("decision", "granted"),
        ],
        &[("evidence_file", "big.bin", "application/octet-stream", &big)],
    );
    // The server may answer before the client has sent everything, and close: either a
    // refusal page or a closed connection.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let req = ureq::http::Request::builder()
        .method("POST")
        .uri(s.url(&format!("/app/contacts/{c}/consents")))
        .header("Cookie", op.cookie.clone().unwrap())
        .header("Content-Type", ct)
        .body(body)
        .unwrap();
    if let Ok(mut r) = agent.run(req) {
        let status = r.status().as_u16();
        let text = r.body_mut().read_to_string().unwrap_or_default();
        assert!(status == 400 || status == 413, "{status} {text}");
    }
    assert!(
        contact_json(&s, &key, &c)["consents"]
            .get("newsletter")
            .is_none()
    );
    // Just under the limit is fine.
    let ok = vec![b'y'; 9 * 1024 * 1024];
    let (ct, body) = multipart(
        &[
            ("csrf", &token),
            ("purpose", "newsletter"),
            ("decision", "refused"),
        ],
        &[("evidence_file", "ok.bin", "application/octet-stream", &ok)],
    );
    let r = op.call(
        &s,
        "POST",
        &format!("/app/contacts/{c}/consents"),
        Some((&ct, body)),
    );
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(
        contact_json(&s, &key, &c)["consents"]["newsletter"]["status"],
        "refused"
    );
}

/// A book filter with more contacts than one bulk call takes: every one is asked, in
/// chunks, once; asking the same filter again asks nobody twice.
#[test]
fn a_book_filter_larger_than_one_bulk_is_asked_in_chunks() {
    let env = Env::new(Db::Sqlite);
    let (tenant, key) = env.tenant("ACME SAS");
    add_user(&env, &tenant, "adele.admin@acme.example", "admin");
    let s = env.start();
    let n = 1003;
    let mut csv = String::from("email,category\n");
    for i in 0..n {
        csv.push_str(&format!("person{i}@example.org,private\n"));
    }
    let r = post_raw(
        &s.url("/v1/contacts/import"),
        Some(&key),
        "text/csv; charset=utf-8",
        csv.as_bytes(),
    );
    assert!(r.status < 300, "{} {}", r.status, r.text());
    // One contact already decided: the filter "no record" leaves it out.
    let decided = add_contact(&s, &key, "decided@example.org");
    consent(&s, &key, &decided, "newsletter", "refused");

    let mut w = signed_in(&s, &tenant, "adele.admin@acme.example");
    let t = w.token(&s);
    for (path, pairs) in [
        (
            "/app/purposes",
            vec![
                ("name", "newsletter"),
                ("description", "News"),
                ("valid_days", ""),
            ],
        ),
        (
            "/app/notices",
            vec![
                ("purpose", "newsletter"),
                ("language", "fr"),
                ("text", "Notre lettre mensuelle."),
            ],
        ),
    ] {
        let mut all = vec![("csrf", t.as_str())];
        all.extend(pairs);
        assert_eq!(w.post_form(&s, path, &all).status, 303, "{path}");
    }
    let p = w.get(&s, "/app/requests/new?purpose=newsletter&status=none");
    assert_eq!(p.status, 200, "{}", p.text());
    let html = p.text();
    assert!(
        html.contains(&format!("{n} contact(s) whose consent")),
        "{html}"
    );
    assert!(
        html.contains("name=\"filter_status\" value=\"none\""),
        "{html}"
    );
    let notice = {
        let at = html.find("name=\"notice\" value=\"").unwrap() + 21;
        html[at..at + html[at..].find('"').unwrap()].to_owned()
    };
    let ask = |w: &mut Web, status: &str| {
        w.post_form(
            &s,
            "/app/requests",
            &[
                ("csrf", &t),
                ("filter_purpose", "newsletter"),
                ("filter_status", status),
                ("purpose", "newsletter"),
                ("notice", &notice),
                ("language", ""),
                ("response_days", "10"),
                ("valid_days", ""),
            ],
        )
    };
    let r = ask(&mut w, "none");
    assert_eq!(r.status, 303, "{}", r.text());
    let html = w.get(&s, &location(&r)).text();
    assert!(html.contains(&format!("{n} request(s) sent")), "{html}");
    assert!(!html.contains("id=\"request-errors\""));
    assert_eq!(
        sql(
            &env,
            "SELECT COUNT(DISTINCT subject_id) FROM consent_requests"
        )
        .trim(),
        n.to_string()
    );
    assert_eq!(
        sql(
            &env,
            "SELECT COUNT(*) FROM consent_requests WHERE language = 'fr' AND notice_version = '1'"
        )
        .trim(),
        n.to_string(),
        "the notice's language and version"
    );
    // The same contacts, now pending: nobody is asked twice.
    let r = ask(&mut w, "pending");
    assert_eq!(r.status, 303, "{}", r.text());
    let html = w.get(&s, &location(&r)).text();
    assert!(html.contains("Nobody was asked"), "{html}");
    assert!(html.contains(&format!("Not asked ({n})")), "{html}");
    assert_eq!(
        sql(&env, "SELECT COUNT(*) FROM consent_requests").trim(),
        n.to_string()
    );
    // A filter that names no status is refused with a page.
    let p = w.get(&s, "/app/requests/new?purpose=newsletter&status=maybe");
    assert_eq!(p.status, 400);
}
