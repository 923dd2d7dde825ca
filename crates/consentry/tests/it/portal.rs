//! The self-service portal over HTTP, on SQLite and PostgreSQL: sign-in by a one-time
//! e-mailed link (same answer for known and unknown addresses, single use, expiry), the
//! session cookie, CSRF on every form, amend, revoke, erase (crypto-shredding: nothing of
//! the subject's keys or data left in the raw database, its old log entries still verify)
//! and export; and the sign-in rate limits.

use crate::service::{checkpoint_covering, well_known};
use crate::util::{CookieJar, Db, Env, Server, get, post};
use consentry_core::checkpoint::verify_signed_checkpoint;
use consentry_core::merkle::{leaf_hash, verify_inclusion};
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};

pub use crate::util::Page;

/// A client that keeps the portal's cookie and never follows redirects.
#[derive(Default, Clone)]
pub struct Client {
    pub cookie: Option<String>,
    pub lang: Option<&'static str>,
}

impl Client {
    pub fn call(&mut self, s: &Server, method: &str, path: &str, form: Option<&str>) -> Page {
        let mut jar = CookieJar {
            name: "consentry_portal",
            cookie: self.cookie.take(),
        };
        let body = form.map(|f| ("application/x-www-form-urlencoded", f.as_bytes().to_vec()));
        let page = jar.send(
            s,
            method,
            path,
            Some(self.lang.unwrap_or("en-GB,en;q=0.8")),
            body,
            &[],
        );
        self.cookie = jar.cookie;
        page
    }
}

/// Every message file in the outbox, decoded.
pub fn outbox(env: &Env) -> Vec<String> {
    use base64::Engine as _;
    let mut out = Vec::new();
    let dir = env.data_dir().join("outbox");
    for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let raw = std::fs::read_to_string(e.path()).unwrap_or_default();
        let Some((headers, body)) = raw.split_once("\r\n\r\n").or(raw.split_once("\n\n")) else {
            continue;
        };
        let text = if headers
            .to_ascii_lowercase()
            .contains("content-transfer-encoding: base64")
        {
            let clean: String = body.split_whitespace().collect();
            String::from_utf8_lossy(
                &base64::engine::general_purpose::STANDARD
                    .decode(clean)
                    .unwrap_or_default(),
            )
            .into_owned()
        } else {
            body.replace("=\r\n", "")
                .replace("=\n", "")
                .replace("=3D", "=")
        };
        out.push(format!("{headers}\n\n{text}"));
    }
    out
}

/// The sign-in links in the outbox, oldest message first is not guaranteed: all of them.
pub fn login_links(env: &Env) -> Vec<String> {
    outbox(env)
        .iter()
        .filter_map(|m| {
            let at = m.find("/portal/session/")?;
            let token: String = m[at + 16..].chars().take(64).collect();
            (token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()))
                .then(|| format!("/portal/session/{token}"))
        })
        .collect()
}

/// Waits until the outbox holds `n` sign-in links; returns them.
pub fn wait_links(env: &Env, n: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let links = login_links(env);
        if links.len() >= n {
            return links;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {n} sign-in e-mails",
            links.len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs SQL against the test's database (sqlite3 or psql).
pub(crate) fn sql(env: &Env, statement: &str) -> String {
    match env.db {
        Db::Sqlite => {
            let out = std::process::Command::new("sqlite3")
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

/// The synchronizer token of the signed-in page.
pub fn csrf_of(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("a CSRF token in the page");
    html[at + 19..at + 19 + 64].to_owned()
}

fn form_of(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            let enc: String = v
                .bytes()
                .map(|b| match b {
                    b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                        (b as char).to_string()
                    }
                    b' ' => "+".into(),
                    _ => format!("%{b:02X}"),
                })
                .collect();
            format!("{k}={enc}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

pub(crate) fn contact(s: &Server, key: &str, body: Value) -> String {
    let r = post(&s.url("/v1/contacts"), Some(key), &body);
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_owned()
}

pub(crate) fn record(s: &Server, key: &str, id: &str, purpose: &str) -> Value {
    let r = post(
        &s.url(&format!("/v1/contacts/{id}/consents")),
        Some(key),
        &json!({"purpose": purpose, "decision": "granted", "evidence": "signed form"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()
}

fn status_of(s: &Server, key: &str, id: &str, purpose: &str) -> Value {
    get(&s.url(&format!("/v1/contacts/{id}")), Some(key)).json()["consents"][purpose]["status"]
        .clone()
}

/// Checks that `entry` is the log's entry at `index`, under a signed checkpoint.
fn verify_in_log(s: &Server, log_key: &str, index: u64, entry: &[u8]) {
    let note = checkpoint_covering(s, index + 1);
    let cp = verify_signed_checkpoint(&note, log_key).unwrap().checkpoint;
    let r = get(
        &s.url(&format!(
            "/v1/log/proof/inclusion?index={index}&size={}",
            cp.size
        )),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    let leaf = leaf_hash(entry);
    assert_eq!(v["leaf_hash"], leaf.to_base64());
    verify_inclusion(index, cp.size, &leaf, &crate::util::hashes(&v), &cp.root).unwrap();
}

fn hex_of(env: &Env, column: &str, id: &str) -> Vec<u8> {
    let expr = match env.db {
        Db::Sqlite => format!("hex({column})"),
        Db::Postgres => format!("encode({column}, 'hex')"),
    };
    let out = sql(
        env,
        &format!("SELECT {expr} FROM contacts WHERE id = '{id}'"),
    );
    hex::decode(out.trim()).unwrap()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn walk(db: Db) {
    let env = Env::new(db);
    let (_ta, key_a) = env.tenant("ACME SAS");
    let (_tb, key_b) = env.tenant("Boulangerie Martin");
    let s = env.start();
    let (_, log_key) = well_known(&s);
    let email = "claire.fontaine@example.net";
    let a = contact(
        &s,
        &key_a,
        json!({"email": email, "name": "Claire Fontaine", "address": "3 rue des Lilas, 75020 Paris", "phone": "+33 6 12 34 56 78"}),
    );
    let b = contact(
        &s,
        &key_b,
        json!({"email": "Claire.Fontaine@EXAMPLE.net", "name": "Claire Boulanger-Cliente", "address": "12 avenue Unique-Bakery, 69001 Lyon"}),
    );
    let a_proof = record(&s, &key_a, &a, "newsletter");
    let b_proof = record(&s, &key_b, &b, "invoicing");

    // 1. The sign-in page, and the same answer for a known and an unknown address.
    let mut anon = Client::default();
    let home = anon.call(&s, "GET", "/portal", None);
    assert_eq!(home.status, 200);
    assert!(home.content_type().starts_with("text/html"));
    let csp = home.header("content-security-policy").unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("form-action 'self'"),
        "{csp}"
    );
    assert!(home.text().contains("name=\"email\""));
    let fr = Client {
        cookie: None,
        lang: Some("fr-FR,fr;q=0.9"),
    }
    .call(&s, "GET", "/portal", None);
    assert!(
        fr.text().contains("Votre espace personnel"),
        "{}",
        fr.text()
    );
    let known = anon.call(
        &s,
        "POST",
        "/portal/login",
        Some(&form_of(&[("email", email)])),
    );
    let unknown = anon.call(
        &s,
        "POST",
        "/portal/login",
        Some(&form_of(&[("email", "nobody.here@example.org")])),
    );
    assert_eq!(known.status, 200, "{}", known.text());
    assert_eq!(
        (known.status, known.body.clone()),
        (unknown.status, unknown.body.clone())
    );
    // A sign-in form posted from another site's page is refused (login CSRF).
    for (name, value) in [
        ("Sec-Fetch-Site", "cross-site"),
        ("Origin", "https://evil.example"),
    ] {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let r = agent
            .post(&s.url("/portal/login"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header(name, value)
            .send(form_of(&[("email", email)]).as_bytes())
            .unwrap();
        assert_eq!(r.status().as_u16(), 403, "{name}: {value}");
    }
    let links = wait_links(&env, 1);
    // The unknown address gets no e-mail (give its task time to have sent one).
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(outbox(&env).len(), 1, "only the known address gets a link");
    assert!(outbox(&env)[0].contains(email));
    let link = links[0].clone();

    // 2. The link: a button first (GET uses nothing), then single use.
    let mut c = Client::default();
    let shown = c.call(&s, "GET", &link, None);
    assert_eq!(shown.status, 200, "{}", shown.text());
    assert!(shown.text().contains("<form method=\"post\""));
    assert_eq!(
        c.call(&s, "GET", &link, None).status,
        200,
        "a GET does not use the link"
    );
    let opened = c.call(&s, "POST", &link, Some(""));
    assert_eq!(opened.status, 303, "{}", opened.text());
    assert_eq!(opened.header("location"), Some("/portal/me"));
    let set = opened.header("set-cookie").unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    let mut other = Client::default();
    let again = other.call(&s, "POST", &link, Some(""));
    assert_eq!(again.status, 410, "a link works once: {}", again.text());
    assert!(other.cookie.is_none());
    assert_eq!(other.call(&s, "GET", &link, None).status, 410);
    assert_eq!(
        other
            .call(
                &s,
                "GET",
                &format!("/portal/session/{}", "ab".repeat(32)),
                None
            )
            .status,
        404
    );
    // No session: the page sends to sign-in.
    let r = Client::default().call(&s, "GET", "/portal/me", None);
    assert_eq!((r.status, r.header("location")), (303, Some("/portal")));

    // 3. Expiry: a second link, past its expiry in the database, opens nothing.
    let mut late = Client::default();
    late.call(
        &s,
        "POST",
        "/portal/login",
        Some(&form_of(&[("email", email)])),
    );
    let links = wait_links(&env, 2);
    let second = links.into_iter().find(|l| *l != link).unwrap();
    let hash = consentry_core::merkle::Hash::digest(
        second.trim_start_matches("/portal/session/").as_bytes(),
    );
    let hash_hex = hash.to_hex();
    let lit = match db {
        Db::Sqlite => format!("X'{hash_hex}'"),
        Db::Postgres => format!("'\\x{hash_hex}'::bytea"),
    };
    sql(
        &env,
        &format!(
            "UPDATE portal_logins SET expires_at = expires_at - 16 * 60 * 1000 WHERE token_hash = {lit}"
        ),
    );
    let r = late.call(&s, "GET", &second, None);
    assert_eq!(r.status, 410, "{}", r.text());
    assert!(r.text().contains("expired"), "{}", r.text());
    assert_eq!(late.call(&s, "POST", &second, Some("")).status, 410);
    assert!(late.cookie.is_none());

    // 4. The person's page: both senders, data decrypted for them.
    let me = c.call(&s, "GET", "/portal/me", None);
    assert_eq!(me.status, 200, "{}", me.text());
    let html = me.text();
    for want in [
        "ACME SAS",
        "Boulangerie Martin",
        "Claire Fontaine",
        "3 rue des Lilas",
        "newsletter",
        "invoicing",
        a.as_str(),
        b.as_str(),
    ] {
        assert!(html.contains(want), "{want} missing from the page");
    }
    // No anchoring on this service: no certificate link and no promise of one.
    assert!(
        html.contains("no anchoring on this service") && !html.contains("pending the daily anchor"),
        "no anchor: no certificate promised"
    );
    assert!(!html.contains("/certificate\""), "no certificate link");
    // The app's look: its style sheet (the very file /app serves) and its header.
    let sheet = &html[html
        .find("href=\"/app/static/app.css?v=")
        .expect("the app's style sheet")..];
    let sheet = &sheet[6..sheet[6..].find('"').unwrap() + 6];
    let css = get(&s.url(sheet), None);
    assert_eq!(css.status, 200);
    assert!(
        css.text().contains("section.sender"),
        "the portal's rules are in it"
    );
    assert!(html.contains("<header class=\"top\">"), "{html}");
    assert!(!html.contains("<style"), "no inline style left: {html}");
    let csrf = csrf_of(&html);

    // 5. CSRF: a missing or wrong token is a 403 and changes nothing.
    for token in [None, Some("00".repeat(32)), Some(String::new())] {
        let mut pairs = vec![
            ("tenant", _ta.as_str()),
            ("subject", a.as_str()),
            ("purpose", "newsletter"),
        ];
        if let Some(t) = &token {
            pairs.push(("csrf", t.as_str()));
        }
        let r = c.call(&s, "POST", "/portal/revoke", Some(&form_of(&pairs)));
        assert_eq!(r.status, 403, "{token:?}: {}", r.text());
        pairs.push(("confirm", "yes"));
        assert_eq!(
            c.call(&s, "POST", "/portal/erase", Some(&form_of(&pairs)))
                .status,
            403
        );
        pairs.push(("name", "Mallory"));
        assert_eq!(
            c.call(&s, "POST", "/portal/amend", Some(&form_of(&pairs)))
                .status,
            403
        );
        let t = token.clone().unwrap_or_default();
        assert_eq!(
            c.call(
                &s,
                "POST",
                "/portal/export",
                Some(&form_of(&[("csrf", &t)]))
            )
            .status,
            403
        );
        assert_eq!(
            c.call(
                &s,
                "POST",
                "/portal/logout",
                Some(&form_of(&[("csrf", &t)]))
            )
            .status,
            403
        );
    }
    // Without the session cookie, the right token is refused too.
    let r = Client::default().call(
        &s,
        "POST",
        "/portal/revoke",
        Some(&form_of(&[
            ("csrf", &csrf),
            ("tenant", &_ta),
            ("subject", &a),
            ("purpose", "newsletter"),
        ])),
    );
    assert_eq!(r.status, 403);
    // A subject the session does not reach is refused.
    let stranger = contact(&s, &key_a, json!({"email": "someone.else@example.net"}));
    record(&s, &key_a, &stranger, "newsletter");
    let r = c.call(
        &s,
        "POST",
        "/portal/revoke",
        Some(&form_of(&[
            ("csrf", &csrf),
            ("tenant", &_ta),
            ("subject", &stranger),
            ("purpose", "newsletter"),
        ])),
    );
    assert_eq!(r.status, 403);
    assert_eq!(status_of(&s, &key_a, &stranger, "newsletter"), "granted");
    assert_eq!(status_of(&s, &key_a, &a, "newsletter"), "granted");
    assert!(
        c.call(&s, "GET", "/portal/me", None)
            .text()
            .contains("Claire Fontaine")
    );

    // 6. Amend: re-encrypted, a data.amended entry naming the field only.
    let r = c.call(
        &s,
        "POST",
        "/portal/amend",
        Some(&form_of(&[
            ("csrf", &csrf),
            ("tenant", &_ta),
            ("subject", &a),
            ("name", "Claire Fontaine-Durand"),
            ("address", "3 rue des Lilas, 75020 Paris"),
            ("phone", "+33 6 12 34 56 78"),
        ])),
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let html = c.call(&s, "GET", "/portal/me?done=amended", None).text();
    assert!(
        html.contains("Claire Fontaine-Durand") && html.contains("Data amended"),
        "{html}"
    );

    // The sender reads the name for the purpose: the access is in the person's history.
    let reveal = |purpose: &str| {
        post(
            &s.url(&format!("/v1/contacts/{a}/reveal")),
            Some(&key_a),
            &json!({"purpose": purpose, "fields": ["name"]}),
        )
    };
    let r = reveal("newsletter");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(reveal("profiling").status, 403);

    // 7. Revoke: a new revoked proof, made in the portal.
    let r = c.call(
        &s,
        "POST",
        "/portal/revoke",
        Some(&form_of(&[
            ("csrf", &csrf),
            ("tenant", &_ta),
            ("subject", &a),
            ("purpose", "newsletter"),
        ])),
    );
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(status_of(&s, &key_a, &a, "newsletter"), "revoked");
    let r = c.call(
        &s,
        "POST",
        "/portal/revoke",
        Some(&form_of(&[
            ("csrf", &csrf),
            ("tenant", &_ta),
            ("subject", &a),
            ("purpose", "newsletter"),
        ])),
    );
    assert_eq!(r.status, 409, "nothing left to revoke");
    // A reveal after the withdrawal is refused, and the page shows every access — a
    // disclosure for a dispute included.
    assert_eq!(reveal("newsletter").status, 403);
    let d = post(
        &s.url(&format!(
            "/v1/proofs/{}/disclosure",
            a_proof["id"].as_str().unwrap()
        )),
        Some(&key_a),
        &json!({"ground": "legal-claim"}),
    );
    assert_eq!(d.status, 201, "{}", d.text());
    let html = c.call(&s, "GET", "/portal/me", None).text();
    assert_eq!(
        html.matches("address disclosed for a dispute").count(),
        1,
        "{html}"
    );
    assert_eq!(html.matches("Access granted").count(), 1, "{html}");
    assert_eq!(html.matches("Access refused").count(), 2, "{html}");
    assert!(html.contains("/v1/log/proof/inclusion?index="), "{html}");

    // 8. Export: everything, as JSON.
    let r = c.call(
        &s,
        "POST",
        "/portal/export",
        Some(&form_of(&[("csrf", &csrf)])),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.content_type().starts_with("application/json"));
    assert!(
        r.header("content-disposition")
            .unwrap()
            .contains("attachment")
    );
    let export: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(export["type"], "consentry.portal-export/v1");
    let senders = export["senders"].as_array().unwrap();
    assert_eq!(senders.len(), 2);
    let sa = senders.iter().find(|x| x["subject"] == a.as_str()).unwrap();
    assert_eq!(sa["sender"]["name"], "ACME SAS");
    assert_eq!(sa["identity"]["email"], email);
    assert_eq!(sa["identity"]["name"], "Claire Fontaine-Durand");
    assert_eq!(sa["consents"][0]["status"], "revoked");
    let proofs = sa["proofs"].as_array().unwrap();
    assert_eq!(proofs.len(), 2);
    let revoked = proofs.iter().find(|p| p["decision"] == "revoked").unwrap();
    assert_eq!(revoked["method"], "portal");
    let history = sa["access_history"].as_array().unwrap();
    let amended = history
        .iter()
        .find(|h| h["event"]["type"] == "data.amended")
        .unwrap();
    assert_eq!(amended["event"]["fields"], json!(["name"]));
    assert_eq!(amended["event"]["actor"], "portal");
    let kinds: Vec<&str> = history
        .iter()
        .map(|h| h["event"]["type"].as_str().unwrap())
        .collect();
    for kind in ["data.access", "data.access_denied", "data.amended"] {
        assert!(kinds.contains(&kind), "{kind} not in {kinds:?}");
    }
    for h in history {
        // Each inclusion link proves its event, as served.
        let event_bytes = consentry_core::canonical::to_canonical_bytes(&h["event"]).unwrap();
        let proof = get(&s.url(h["inclusion_proof"].as_str().unwrap()), None);
        assert_eq!(proof.status, 200, "{}", proof.text());
        assert_eq!(
            proof.json()["leaf_hash"],
            leaf_hash(&event_bytes).to_base64()
        );
        verify_in_log(
            &s,
            &log_key,
            h["event"]["log_index"].as_u64().unwrap(),
            &event_bytes,
        );
    }
    let event_bytes = consentry_core::canonical::to_canonical_bytes(&amended["event"]).unwrap();
    assert!(
        !contains(&event_bytes, b"Durand"),
        "no value in a log entry"
    );
    verify_in_log(
        &s,
        &log_key,
        amended["event"]["log_index"].as_u64().unwrap(),
        &event_bytes,
    );
    for p in proofs {
        let bytes = consentry_core::canonical::to_canonical_bytes(p).unwrap();
        verify_in_log(&s, &log_key, p["log_index"].as_u64().unwrap(), &bytes);
    }

    // 9. Downloads of one's own proofs only.
    let pid = revoked["id"].as_str().unwrap();
    let r = c.call(&s, "GET", &format!("/portal/proofs/{pid}"), None);
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body,
        get(&s.url(&format!("/v1/proofs/{pid}")), Some(&key_a)).body
    );
    let r = c.call(&s, "GET", &format!("/portal/proofs/{pid}.pdf"), None);
    assert_eq!(
        (r.status, r.content_type().as_str()),
        (200, "application/pdf")
    );
    assert!(r.body.starts_with(b"%PDF"));
    let r = c.call(
        &s,
        "GET",
        &format!("/portal/proofs/{pid}/certificate"),
        None,
    );
    assert_eq!(r.status, 409, "no anchor yet: {}", r.text());
    let r = c.call(
        &s,
        "GET",
        &format!("/portal/proofs/{pid}/certificate.pdf"),
        None,
    );
    assert_eq!(r.status, 409);
    let strangers_proof = get(&s.url(&format!("/v1/contacts/{stranger}")), Some(&key_a)).json()["consents"]["newsletter"]["proof_id"].as_str().unwrap().to_owned();
    assert_eq!(
        c.call(
            &s,
            "GET",
            &format!("/portal/proofs/{strangers_proof}"),
            None
        )
        .status,
        404
    );
    assert_eq!(
        Client::default()
            .call(&s, "GET", &format!("/portal/proofs/{pid}"), None)
            .status,
        403
    );

    // A request pending for it at that sender: the portal's erasure cancels it in its own
    // transaction (as the API's does), so its link answers 410 and records nothing.
    let r = post(
        &s.url("/v1/consent-requests"),
        Some(&key_b),
        &json!({"contact_id": b, "purpose": "offers", "notice": {"text": "Offers by e-mail."}, "language": "en"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let pending = r.json()["id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(30);
    let request_link = loop {
        let found = outbox(&env).iter().find_map(|m| {
            let at = m.find("/c/")?;
            m.get(at..at + 67).map(str::to_owned)
        });
        if let Some(link) = found {
            break link;
        }
        assert!(Instant::now() < deadline, "no e-mail for the request");
        std::thread::sleep(Duration::from_millis(50));
    };

    // 9b. Grant again where the sender asks: nothing to grant without a pending request;
    // with one, the portal answers it (a delegated answer naming the request), the
    // request closes and the proofs list the newest first.
    let grant = |c: &mut Client| {
        c.call(
            &s,
            "POST",
            "/portal/grant",
            Some(&form_of(&[
                ("csrf", &csrf),
                ("tenant", &_ta),
                ("subject", &a),
                ("purpose", "newsletter"),
            ])),
        )
    };
    let r = grant(&mut c);
    assert_eq!(r.status, 409, "the sender does not ask: {}", r.text());
    assert_eq!(status_of(&s, &key_a, &a, "newsletter"), "revoked");
    let html = c.call(&s, "GET", "/portal/me", None).text();
    assert!(!html.contains("data-grant=\"newsletter\""), "{html}");
    // The other sender's pending request (offers, just above) is offered to grant.
    assert!(html.contains("data-grant=\"offers\""), "{html}");
    let r = post(
        &s.url("/v1/consent-requests"),
        Some(&key_a),
        &json!({"contact_id": a, "purpose": "newsletter", "notice": "Our monthly letter.", "language": "en", "valid_days": 30}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let rid = r.json()["id"].as_str().unwrap().to_owned();
    let html = c.call(&s, "GET", "/portal/me", None).text();
    assert!(html.contains("data-grant=\"newsletter\""), "{html}");
    let r = grant(&mut c);
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(r.header("location"), Some("/portal/me?done=granted"));
    assert_eq!(status_of(&s, &key_a, &a, "newsletter"), "granted");
    let req = get(&s.url(&format!("/v1/consent-requests/{rid}")), Some(&key_a)).json();
    assert_eq!(req["status"], "granted", "{req}");
    let granted_id = req["proof_id"].as_str().unwrap().to_owned();
    let granted = get(&s.url(&format!("/v1/proofs/{granted_id}")), Some(&key_a)).json();
    assert_eq!(granted["method"], "delegated");
    assert_eq!(granted["request"], rid.as_str());
    assert_eq!(granted["decision"], "granted");
    assert!(granted["valid_until"].is_string(), "{granted}");
    let html = c.call(&s, "GET", "/portal/me?done=granted", None).text();
    assert!(html.contains("Your consent was recorded."), "{html}");
    let first = &html[html.find("data-monitor-url=\"/portal/proofs/").unwrap()..];
    assert!(
        first.starts_with(&format!("data-monitor-url=\"/portal/proofs/{granted_id}\"")),
        "the newest proof first: {html}"
    );
    assert_eq!(grant(&mut c).status, 409, "answered: asked no more");

    // 10. Erase at the second sender: crypto-shredding.
    let wrapped = hex_of(&env, "wrapped_key", &b);
    let sealed = hex_of(&env, "identity", &b);
    let index = hex_of(&env, "email_index", &b);
    let raw = env.raw_database();
    assert!(
        contains(&raw, &wrapped[..32]) && contains(&raw, &index),
        "the raw reader sees the row"
    );
    let r = c.call(
        &s,
        "POST",
        "/portal/erase",
        Some(&form_of(&[
            ("csrf", &csrf),
            ("tenant", &_tb),
            ("subject", &b),
        ])),
    );
    assert_eq!(r.status, 422, "erasing needs the confirmation box");
    let r = c.call(
        &s,
        "POST",
        "/portal/erase",
        Some(&form_of(&[
            ("csrf", &csrf),
            ("tenant", &_tb),
            ("subject", &b),
            ("confirm", "yes"),
        ])),
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let html = c.call(&s, "GET", "/portal/me?done=erased", None).text();
    assert!(html.contains("was erased"), "{html}");
    let answered = Client::default().call(&s, "POST", &request_link, Some("decision=granted"));
    assert_eq!(answered.status, 410, "{}", answered.text());
    let req = get(
        &s.url(&format!("/v1/consent-requests/{pending}")),
        Some(&key_b),
    )
    .json();
    assert_eq!(req["status"], "cancelled", "{req}");
    assert!(req["proof_id"].is_null(), "{req}");
    assert!(!html.contains("Claire Boulanger-Cliente"));
    assert!(
        html.contains("Claire Fontaine-Durand"),
        "the other sender's data stays"
    );
    // No consent can be recorded for it any more.
    let r = post(
        &s.url(&format!("/v1/contacts/{b}/consents")),
        Some(&key_b),
        &json!({"purpose": "invoicing", "decision": "granted"}),
    );
    assert_eq!(r.status, 410, "{}", r.text());
    let r = c.call(
        &s,
        "POST",
        "/portal/erase",
        Some(&form_of(&[
            ("csrf", &csrf),
            ("tenant", &_tb),
            ("subject", &b),
            ("confirm", "yes"),
        ])),
    );
    assert_eq!(r.status, 410, "erased once");
    // Nothing of the subject's key, sealed data or blind index is left in the database.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let raw = env.raw_database();
        let left = contains(&raw, &wrapped[wrapped.len() - 32..])
            || contains(&raw, &sealed[sealed.len() - 32..])
            || contains(&raw, &index);
        if !left {
            for plain in [
                &b"Boulanger-Cliente"[..],
                b"Unique-Bakery",
                b"claire.fontaine",
            ] {
                assert!(
                    !contains(&raw, plain),
                    "plaintext {:?} in the database",
                    String::from_utf8_lossy(plain)
                );
            }
            break;
        }
        assert!(
            Instant::now() < deadline,
            "erased key material still in the database"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Its old log entries still verify.
    let bytes = consentry_core::canonical::to_canonical_bytes(&b_proof).unwrap();
    verify_in_log(&s, &log_key, b_proof["log_index"].as_u64().unwrap(), &bytes);
    let export: Value = serde_json::from_slice(
        &c.call(
            &s,
            "POST",
            "/portal/export",
            Some(&form_of(&[("csrf", &csrf)])),
        )
        .body,
    )
    .unwrap();
    let sb = export["senders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["subject"] == b.as_str())
        .unwrap()
        .clone();
    assert_eq!(sb["erased"], true);
    assert_eq!(sb["identity"], Value::Null);
    let erased = sb["access_history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["event"]["type"] == "data.erased")
        .unwrap()
        .clone();
    let bytes = consentry_core::canonical::to_canonical_bytes(&erased["event"]).unwrap();
    verify_in_log(
        &s,
        &log_key,
        erased["event"]["log_index"].as_u64().unwrap(),
        &bytes,
    );
    for p in sb["proofs"].as_array().unwrap() {
        let bytes = consentry_core::canonical::to_canonical_bytes(p).unwrap();
        verify_in_log(&s, &log_key, p["log_index"].as_u64().unwrap(), &bytes);
    }

    // 11. Logout ends the session.
    let r = c.call(
        &s,
        "POST",
        "/portal/logout",
        Some(&form_of(&[("csrf", &csrf)])),
    );
    assert_eq!((r.status, r.header("location")), (303, Some("/portal")));
    assert!(c.cookie.is_none());
    let mut stale = Client {
        cookie: Some(set.split(';').next().unwrap().to_owned()),
        lang: None,
    };
    let r = stale.call(&s, "GET", "/portal/me", None);
    assert_eq!(r.status, 303, "the old cookie opens nothing");

    // 12. Rate limits: 5 a window per address, 30 per IP (3 sign-in requests so far).
    let mut n = 3;
    for i in 0..5 {
        let r = anon.call(
            &s,
            "POST",
            "/portal/login",
            Some(&form_of(&[("email", "limited@example.org")])),
        );
        assert_eq!(r.status, 200, "request {i}");
        n += 1;
    }
    let r = anon.call(
        &s,
        "POST",
        "/portal/login",
        Some(&form_of(&[("email", "limited@example.org")])),
    );
    assert_eq!(r.status, 429, "{}", r.text());
    assert!(r.header("retry-after").is_some());
    while n < 30 {
        let r = anon.call(
            &s,
            "POST",
            "/portal/login",
            Some(&form_of(&[("email", &format!("p{n}@example.org"))])),
        );
        assert_eq!(r.status, 200, "request {n}");
        n += 1;
    }
    let r = anon.call(
        &s,
        "POST",
        "/portal/login",
        Some(&form_of(&[("email", "fresh@example.org")])),
    );
    assert_eq!(r.status, 429, "the IP's limit");
    assert!(!s.logs().contains(email), "no address in the service's log");
}

#[test]
fn portal_sign_in_amend_revoke_erase_export_sqlite() {
    walk(Db::Sqlite);
}

#[test]
fn portal_sign_in_amend_revoke_erase_export_postgres() {
    walk(Db::Postgres);
}

// ---------------------------------------------------------------------------------------
// The portal in a real browser: Debian's headless chromium through chromedriver, as the
// /verify page's test drives it (its `Driver`).

/// A chromium session that saves downloads to `downloads` without asking.
pub(crate) async fn browser(
    driver: &crate::verify_page::Driver,
    profile: &Path,
    downloads: &Path,
) -> fantoccini::Client {
    let chromium =
        crate::verify_page::tool("CONSENTRY_TEST_CHROMIUM", "/usr/bin/chromium", "chromium");
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                "--disable-background-networking", "--disable-sync", "--lang=en-US",
                "--window-size=1100,1500",
                format!("--user-data-dir={}", profile.display()),
            ],
            "prefs": {
                "intl.accept_languages": "en-US,en",
                "download.default_directory": downloads,
                "download.prompt_for_download": false,
                "download.directory_upgrade": true,
                "safebrowsing.enabled": false,
            },
        },
    });
    let Value::Object(caps) = caps else {
        unreachable!()
    };
    fantoccini::ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .unwrap_or_else(|e| panic!("cannot open a chromium session: {e}"))
}

async fn shot(c: &fantoccini::Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    std::fs::write(
        crate::verify_page::screenshot_dir().join(format!("portal-{name}.png")),
        png,
    )
    .unwrap();
}

/// Waits until the page's URL contains `part` and its text contains `text`.
pub(crate) async fn wait_page(c: &fantoccini::Client, part: &str, text: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let url = c.current_url().await.unwrap().to_string();
        let body = c
            .execute(
                "return document.body ? document.body.innerText : '';",
                Vec::new(),
            )
            .await
            .unwrap();
        let body = body.as_str().unwrap_or("").to_owned();
        if url.contains(part) && body.contains(text) {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "waiting for {part} / {text:?}: at {url}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Signs in to the portal in the browser: the form, the e-mailed link from `env`'s
/// outbox, the confirmation; returns the text of `/portal/me`. With `shots`, screenshots
/// of each step are saved under that prefix.
pub(crate) async fn sign_in(
    c: &fantoccini::Client,
    s: &Server,
    env: &Env,
    email: &str,
    shots: Option<&str>,
) -> String {
    use fantoccini::Locator;
    let shot_as = |name: &'static str| async move {
        if let Some(prefix) = shots {
            shot(c, &format!("{prefix}{name}")).await;
        }
    };
    c.goto(&s.url("/portal")).await.unwrap();
    wait_page(c, "/portal", "Your personal space").await;
    shot_as("signin").await;
    c.find(Locator::Id("email"))
        .await
        .unwrap()
        .send_keys(email)
        .await
        .unwrap();
    c.find(Locator::Css("form[action='/portal/login'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_page(c, "/portal/login", "Check your e-mail").await;
    shot_as("link-sent").await;
    let link = wait_links(env, 1).remove(0);
    c.goto(&s.url(&link)).await.unwrap();
    wait_page(c, "/portal/session/", "Sign in to your space").await;
    shot_as("link").await;
    c.find(Locator::Css("main form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_page(c, "/portal/me", "Your data and consents").await
}

#[test]
fn portal_in_chromium_sign_in_from_the_outbox_revoke_and_export() {
    use fantoccini::Locator;
    let env = Env::new(Db::Sqlite);
    let (tenant, key) = env.tenant("ACME SAS");
    let s = env.start();
    let email = "ada.lovelace@example.org";
    let id = contact(
        &s,
        &key,
        json!({"email": email, "name": "Ada Lovelace", "address": "12 St James's Square, London"}),
    );
    record(&s, &key, &id, "newsletter");
    let driver = crate::verify_page::Driver::start(env.dir.path());
    let profile = tempfile::tempdir().unwrap();
    let downloads = env.dir.path().join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = browser(&driver, profile.path(), &downloads).await;
        // Sign in: the form, then the link from the outbox.
        let text = sign_in(&c, &s, &env, email, Some("")).await;
        for want in [
            "ACME SAS",
            "Ada Lovelace",
            "12 St James's Square, London",
            "newsletter",
            "granted",
        ] {
            assert!(text.contains(want), "{want} not shown: {text}");
        }
        // The session cookie is out of the page's reach (HttpOnly).
        let cookies = c
            .execute("return document.cookie;", Vec::new())
            .await
            .unwrap();
        assert!(
            !cookies.as_str().unwrap_or("").contains("consentry_portal"),
            "{cookies}"
        );
        shot(&c, "me").await;

        // Revoke.
        c.find(Locator::Css("button[data-purpose='newsletter']"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let text = wait_page(&c, "done=revoked", "Your consent was withdrawn").await;
        assert!(text.contains("withdrawn"), "{text}");
        assert!(
            c.find(Locator::Css("button[data-purpose='newsletter']"))
                .await
                .is_err(),
            "nothing left to revoke"
        );
        shot(&c, "revoked").await;
        assert_eq!(status_of(&s, &key, &id, "newsletter"), "revoked");

        // Export: a JSON download.
        c.find(Locator::Css("form[action='/portal/export'] button"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        let file = loop {
            let done: Vec<_> = std::fs::read_dir(&downloads)
                .unwrap()
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            if let Some(f) = done.into_iter().next() {
                break f;
            }
            assert!(Instant::now() < deadline, "no export downloaded");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let export: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        assert_eq!(export["type"], "consentry.portal-export/v1");
        let sender = &export["senders"][0];
        assert_eq!(sender["sender"]["id"], tenant.as_str());
        assert_eq!(sender["identity"]["name"], "Ada Lovelace");
        let decisions: Vec<&str> = sender["proofs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["decision"].as_str().unwrap())
            .collect();
        assert_eq!(decisions, ["granted", "revoked"]);
        shot(&c, "exported").await;
        c.close().await.unwrap();
    });
}
