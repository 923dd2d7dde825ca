//! The web application's admin pages over HTTP, with the real binary: purposes and
//! versioned notices (roles, bad input, the notice hash from the form to the recipient's
//! answer page and the proof), the dashboard's figures against records made through the
//! API, staff users (add with a generated password, disable), and password changes.

use crate::portal::{Page, csrf_of, outbox};
use crate::service::{add_contact, consent};
use crate::util::{Db, Env, Server, get, post};
use consentry_core::merkle::Hash;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const PASSWORD: &str = "a long staff password";

/// Adds a staff user with the CLI; returns their ID.
fn add_user(env: &Env, tenant: &str, email: &str, role: &str) -> String {
    crate::util::add_staff(env, tenant, email, role, PASSWORD)
}

/// A browser stand-in for staff: keeps the session cookie, never follows redirects.
#[derive(Default, Clone)]
struct Web {
    cookie: Option<String>,
}

impl Web {
    fn call(&mut self, s: &Server, method: &str, path: &str, form: Option<&str>) -> Page {
        let body = form.map(|f| ("application/x-www-form-urlencoded", f.as_bytes().to_vec()));
        crate::util::staff_send(&mut self.cookie, s, method, path, body, &[])
    }

    fn get(&mut self, s: &Server, path: &str) -> Page {
        self.call(s, "GET", path, None)
    }

    /// POSTs `pairs` with the CSRF token of the page at `from`.
    fn submit(&mut self, s: &Server, from: &str, action: &str, pairs: &[(&str, &str)]) -> Page {
        let page = self.get(s, from);
        assert_eq!(page.status, 200, "{from}: {}", page.text());
        let token = csrf_of(&page.text());
        let mut all = vec![("csrf", token.as_str())];
        all.extend_from_slice(pairs);
        self.call(s, "POST", action, Some(&form(&all)))
    }
}

fn form(pairs: &[(&str, &str)]) -> String {
    crate::util::form_encode(pairs)
}

/// Signs in to `tenant` (the organisation field of the form).
fn sign_in(s: &Server, tenant: &str, email: &str, password: &str) -> (Web, u16) {
    let mut w = Web::default();
    let r = w.call(
        s,
        "POST",
        "/app/login",
        Some(&form(&[
            ("tenant", tenant),
            ("email", email),
            ("password", password),
        ])),
    );
    (w, r.status)
}

fn signed_in(s: &Server, tenant: &str, email: &str) -> Web {
    let (w, status) = sign_in(s, tenant, email, PASSWORD);
    assert_eq!(status, 303, "sign-in of {email}");
    assert!(w.cookie.is_some());
    w
}

/// Undoes maud's escaping.
fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The text of the first element after `marker` (a fragment of its start tag), up to the
/// next `</div>`.
fn div_after(html: &str, marker: &str) -> String {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {html}"));
    let start = at + html[at..].find('>').unwrap() + 1;
    let end = start + html[start..].find("</div>").unwrap();
    unescape(&html[start..end])
}

/// The value of attribute `attr` of the element whose start tag holds `marker`.
fn attr_of(html: &str, marker: &str, attr: &str) -> String {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {html}"));
    let tag_start = html[..at].rfind('<').unwrap();
    let tag = &html[tag_start..at + html[at..].find('>').unwrap()];
    let key = format!("{attr}=\"");
    let a = tag.find(&key).unwrap_or_else(|| panic!("{attr} in {tag}"));
    let rest = &tag[a + key.len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

/// The count in the dashboard's cell of `purpose` and `status`.
fn count_cell(html: &str, purpose: &str, status: &str) -> u64 {
    let row = html
        .find(&format!("<tr data-purpose=\"{purpose}\""))
        .unwrap_or_else(|| panic!("row {purpose} in {html}"));
    let end = row + html[row..].find("</tr>").unwrap();
    attr_of(
        &html[row..end],
        &format!("data-status=\"{status}\""),
        "data-count",
    )
    .parse()
    .unwrap()
}

fn sha256_hex(text: &str) -> String {
    Hash::digest(text.as_bytes()).to_hex()
}

fn location(p: &Page) -> String {
    p.header("location").unwrap_or("").to_owned()
}

/// Waits for a request e-mail holding a `/c/` link not in `seen`; returns the link's path.
fn answer_link(env: &Env, seen: &[String]) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        for m in outbox(env) {
            if let Some(at) = m.find("/c/") {
                let token: String = m[at + 3..].chars().take(64).collect();
                let link = format!("/c/{token}");
                if token.len() == 64
                    && token.bytes().all(|b| b.is_ascii_hexdigit())
                    && !seen.contains(&link)
                {
                    return link;
                }
            }
        }
        assert!(Instant::now() < deadline, "no request e-mail");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Purposes and notices: an admin writes, others read and are refused, bad input
/// changes nothing, and a notice's hash holds from the form to the proof.
fn catalog_walk(db: Db) {
    let env = Env::new(db);
    let (tenant, key) = env.tenant("Acme SAS");
    add_user(&env, &tenant, "admin@acme.example", "admin");
    add_user(&env, &tenant, "operator@acme.example", "operator");
    add_user(&env, &tenant, "auditor@acme.example", "auditor");
    let s = env.start();
    let mut admin = signed_in(&s, &tenant, "admin@acme.example");

    let p = admin.get(&s, "/app/purposes");
    assert_eq!(p.status, 200);
    let html = p.text();
    assert!(html.contains("id=\"purpose-form\"") && html.contains("id=\"no-purposes\""));
    assert!(
        !html.contains("id=\"notice-form\""),
        "no notice form before a purpose exists"
    );

    // A purpose, then an update of it.
    let r = admin.submit(
        &s,
        "/app/purposes",
        "/app/purposes",
        &[
            ("name", "newsletter"),
            ("description", "Monthly news"),
            ("valid_days", "365"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    assert!(location(&r).starts_with("/app/purposes?saved=newsletter"));
    let r = admin.submit(
        &s,
        "/app/purposes",
        "/app/purposes",
        &[
            ("name", "newsletter"),
            ("description", "Our monthly newsletter"),
            ("valid_days", "730"),
        ],
    );
    assert_eq!(r.status, 303);
    let html = admin.get(&s, "/app/purposes?saved=newsletter").text();
    assert!(html.contains("id=\"purpose-saved\""));
    assert!(html.contains("Our monthly newsletter") && html.contains("730 days"));
    assert!(!html.contains("Monthly news<"));
    assert!(html.contains("id=\"notice-form\""));

    // A purpose used only through the API is listed, marked as not described yet, and
    // the English description saved from the form is what the API reads back.
    let c = add_contact(&s, &key, "api.person@example.net");
    consent(&s, &key, &c, "api-only", "granted");
    let html = admin.get(&s, "/app/purposes").text();
    assert!(
        html.contains("data-purpose=\"api-only\"") && html.contains("class=\"undefined\""),
        "{html}"
    );
    assert!(!html.contains("id=\"no-purposes\""));
    let r = admin.submit(
        &s,
        "/app/purposes",
        "/app/purposes",
        &[
            ("name", "api-only"),
            ("description", ""),
            ("description_en", "Offers from our partners"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let listed = get(&s.url("/v1/purposes"), Some(&key)).json();
    let api_only = listed["purposes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "api-only")
        .unwrap()
        .clone();
    assert_eq!(api_only["defined"], true, "{listed}");
    assert_eq!(api_only["description"]["en"], "Offers from our partners");
    let html = admin.get(&s, "/app/purposes").text();
    assert!(!html.contains("class=\"undefined\""), "{html}");
    // Both descriptions empty: refused, nothing changed.
    let r = admin.submit(
        &s,
        "/app/purposes",
        "/app/purposes",
        &[
            ("name", "api-only"),
            ("description", " "),
            ("description_en", ""),
        ],
    );
    assert_eq!(r.status, 400, "{}", r.text());

    // The organisation's contact: admins only, checked, read back by the API.
    let r = admin.submit(
        &s,
        "/app/settings",
        "/app/settings",
        &[("contact", "https://acme.example/privacy")],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(
        get(&s.url("/v1/tenant"), Some(&key)).json()["contact"],
        "https://acme.example/privacy"
    );
    let r = admin.submit(
        &s,
        "/app/settings",
        "/app/settings",
        &[("contact", "not a contact")],
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(
        get(&s.url("/v1/tenant"), Some(&key)).json()["contact"],
        "https://acme.example/privacy",
        "a refused contact changes nothing"
    );
    let mut operator = signed_in(&s, &tenant, "operator@acme.example");
    assert_eq!(operator.get(&s, "/app/settings").status, 403);

    // Two versions of the French notice; the browser sends CRLF line endings.
    let v1_sent = "Nous vous écrirons une fois par mois.\r\nDésinscription : <lien> & réponse.";
    let v1 = v1_sent.replace("\r\n", "\n");
    let v2 = "Nouvelle version : \"deux\" lettres par mois.\nVous pouvez retirer votre accord.";
    let mut ids = Vec::new();
    for text in [v1_sent, v2] {
        let r = admin.submit(
            &s,
            "/app/purposes",
            "/app/notices",
            &[
                ("purpose", "newsletter"),
                ("language", "fr"),
                ("text", text),
            ],
        );
        assert_eq!(r.status, 303, "{}", r.text());
        let to = location(&r);
        assert!(to.starts_with("/app/purposes?notice=ntc_"), "{to}");
        ids.push(to["/app/purposes?notice=".len()..to.find('#').unwrap()].to_owned());
    }
    let html = admin
        .get(&s, &format!("/app/purposes?notice={}", ids[1]))
        .text();
    assert!(html.contains("id=\"notice-added\""));
    let table = &html[html.find("id=\"notices-newsletter-fr\"").unwrap()..];
    let (at1, at2) = (
        table.find(&format!("id=\"{}\"", ids[0])).unwrap(),
        table.find(&format!("id=\"{}\"", ids[1])).unwrap(),
    );
    assert!(at2 < at1, "newest version first");
    assert_eq!(
        attr_of(&html, &format!("id=\"{}\"", ids[0]), "data-version"),
        "1"
    );
    assert_eq!(
        attr_of(&html, &format!("id=\"{}\"", ids[1]), "data-version"),
        "2"
    );
    for (id, text) in [(&ids[0], v1.as_str()), (&ids[1], v2)] {
        let row = &html[html.find(&format!("id=\"{id}\"")).unwrap()..];
        let shown = div_after(row, "class=\"notice-text\"");
        assert_eq!(shown, text, "the page shows the text as stored");
        assert!(
            row.contains(&format!(
                "<code class=\"sha256\">{}</code>",
                sha256_hex(text)
            )),
            "the full SHA-256 of the stored text"
        );
    }
    let versions = |w: &mut Web| {
        w.get(&s, "/app/purposes")
            .text()
            .matches("data-version=")
            .count()
    };
    assert_eq!(versions(&mut admin), 2);

    // Bad input: a 400 page and nothing written.
    let long = "x".repeat(20_001);
    let bad_purposes: [&[(&str, &str)]; 6] = [
        &[("name", "News!"), ("description", "x"), ("valid_days", "")],
        &[("name", ""), ("description", "x"), ("valid_days", "")],
        &[("name", "promo"), ("description", "  "), ("valid_days", "")],
        &[("name", "promo"), ("description", "x"), ("valid_days", "0")],
        &[
            ("name", "promo"),
            ("description", "x"),
            ("valid_days", "3651"),
        ],
        &[
            ("name", "promo"),
            ("description", "x"),
            ("valid_days", "soon"),
        ],
    ];
    for pairs in bad_purposes {
        let r = admin.submit(&s, "/app/purposes", "/app/purposes", pairs);
        assert_eq!(r.status, 400, "{pairs:?}");
        assert!(r.text().contains("Nothing was changed"));
    }
    let bad_notices: [&[(&str, &str)]; 5] = [
        &[
            ("purpose", "newsletter"),
            ("language", "fr"),
            ("text", " \r\n "),
        ],
        &[("purpose", "newsletter"), ("language", "fr"), ("text", "")],
        &[("purpose", "unknown"), ("language", "fr"), ("text", "x")],
        &[("purpose", "newsletter"), ("language", "de"), ("text", "x")],
        &[
            ("purpose", "newsletter"),
            ("language", "en"),
            ("text", long.as_str()),
        ],
    ];
    for pairs in bad_notices {
        let r = admin.submit(&s, "/app/purposes", "/app/notices", pairs);
        assert_eq!(r.status, 400, "{:?}", &pairs[..2]);
    }
    let html = admin.get(&s, "/app/purposes").text();
    assert_eq!(html.matches("data-version=").count(), 2);
    // newsletter, and api-only described above.
    assert_eq!(html.matches("<tr data-purpose=").count(), 2);

    // A wrong or missing token is refused.
    let r = admin.call(
        &s,
        "POST",
        "/app/purposes",
        Some(&form(&[
            ("csrf", &"0".repeat(64)),
            ("name", "promo"),
            ("description", "x"),
        ])),
    );
    assert_eq!(r.status, 403);
    let r = admin.call(
        &s,
        "POST",
        "/app/notices",
        Some(&form(&[
            ("purpose", "newsletter"),
            ("language", "fr"),
            ("text", "x"),
        ])),
    );
    assert_eq!(r.status, 403);

    // Operators and auditors read the notices, without the forms, and may not write.
    for email in ["operator@acme.example", "auditor@acme.example"] {
        let mut w = signed_in(&s, &tenant, email);
        let html = w.get(&s, "/app/purposes").text();
        assert!(html.contains(&sha256_hex(v2)) && html.contains(&sha256_hex(&v1)));
        assert!(!html.contains("id=\"purpose-form\"") && !html.contains("id=\"notice-form\""));
        let r = w.submit(
            &s,
            "/app/purposes",
            "/app/purposes",
            &[("name", "promo"), ("description", "x"), ("valid_days", "")],
        );
        assert_eq!(r.status, 403, "{email}");
        let r = w.submit(
            &s,
            "/app/purposes",
            "/app/notices",
            &[("purpose", "newsletter"), ("language", "fr"), ("text", "x")],
        );
        assert_eq!(r.status, 403, "{email}");
    }
    assert_eq!(versions(&mut admin), 2);

    // The notice's hash, end to end: a request made with the text as stored shows the
    // recipient exactly that text, and the proof of the answer records its hash.
    let html = admin.get(&s, "/app/purposes").text();
    let row = &html[html.find(&format!("id=\"{}\"", ids[1])).unwrap()..];
    let stored = div_after(row, "class=\"notice-text\"");
    let open = "<code class=\"sha256\">";
    let shown_hash = &row[row.find(open).unwrap() + open.len()..][..64];
    assert_eq!(sha256_hex(&stored), shown_hash);
    let contact = add_contact(&s, &key, "claire.fontaine@example.net");
    let r = post(
        &s.url("/v1/consent-requests"),
        Some(&key),
        &json!({"contact_id": contact, "purpose": "newsletter", "notice": {"text": stored, "version": "v2"}, "language": "fr"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let request = r.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(r.json()["notice"]["sha256"], sha256_hex(v2));
    let link = answer_link(&env, &[]);
    let mut recipient = Web::default();
    let answer_page = recipient.get(&s, &link);
    assert_eq!(answer_page.status, 200);
    let shown = div_after(&answer_page.text(), "<div class=\"notice\"");
    assert_eq!(
        sha256_hex(&shown),
        sha256_hex(v2),
        "the answer page shows the stored text"
    );
    let r = recipient.call(&s, "POST", &link, Some("decision=granted"));
    assert_eq!(r.status, 200, "{}", r.text());
    let req = get(
        &s.url(&format!("/v1/consent-requests/{request}")),
        Some(&key),
    )
    .json();
    let proof = get(
        &s.url(&format!("/v1/proofs/{}", req["proof_id"].as_str().unwrap())),
        Some(&key),
    )
    .json();
    assert_eq!(proof["notice"]["sha256"], sha256_hex(v2));
    assert_eq!(proof["decision"], "granted");

    // The same through the web app's request form, with version 1 (sent with CRLF).
    let other = add_contact(&s, &key, "marc.petit@example.net");
    let r = admin.submit(
        &s,
        &format!("/app/requests/new?contact={other}"),
        "/app/requests",
        &[
            ("contact", other.as_str()),
            ("purpose", "newsletter"),
            ("notice", ids[0].as_str()),
            ("language", ""),
            ("response_days", "15"),
            ("valid_days", ""),
        ],
    );
    assert!(r.status < 400, "{} {}", r.status, r.text());
    let second = answer_link(&env, &[link]);
    let shown = div_after(&recipient.get(&s, &second).text(), "<div class=\"notice\"");
    assert_eq!(shown, v1);
    assert_eq!(sha256_hex(&shown), sha256_hex(&v1));
    let r = recipient.call(&s, "POST", &second, Some("decision=refused"));
    assert_eq!(r.status, 200, "{}", r.text());
    let c = get(&s.url(&format!("/v1/contacts/{other}")), Some(&key)).json();
    assert_eq!(c["consents"]["newsletter"]["status"], "refused");
    let proof = get(
        &s.url(&format!(
            "/v1/proofs/{}",
            c["consents"]["newsletter"]["proof_id"].as_str().unwrap()
        )),
        Some(&key),
    )
    .json();
    assert_eq!(proof["notice"]["sha256"], sha256_hex(&v1));
}

#[test]
fn purposes_and_notices_sqlite() {
    catalog_walk(Db::Sqlite);
}

#[test]
fn purposes_and_notices_postgres() {
    catalog_walk(Db::Postgres);
}

/// The dashboard's figures match what the API recorded; the anchor is pending.
#[test]
fn dashboard_counts_chart_log_and_pending_anchor() {
    let env = Env::new(Db::Sqlite);
    let (tenant, key) = env.tenant("Acme SAS");
    add_user(&env, &tenant, "auditor@acme.example", "auditor");
    let s = env.start();
    let contacts: Vec<String> = ["a@example.net", "b@example.net", "c@example.net"]
        .iter()
        .map(|e| add_contact(&s, &key, e))
        .collect();
    consent(&s, &key, &contacts[0], "newsletter", "granted");
    consent(&s, &key, &contacts[1], "newsletter", "granted");
    consent(&s, &key, &contacts[2], "newsletter", "refused");
    consent(&s, &key, &contacts[0], "ads", "granted");
    consent(&s, &key, &contacts[0], "ads", "revoked");
    // Another sender's records count for them only.
    let (_, other_key) = env.tenant("Other");
    let other = add_contact(&s, &other_key, "z@example.net");
    consent(&s, &other_key, &other, "newsletter", "granted");

    let mut w = signed_in(&s, &tenant, "auditor@acme.example");
    let p = w.get(&s, "/app/dashboard");
    assert_eq!(p.status, 200);
    let html = p.text();
    for id in ["dash-counts", "dash-chart", "dash-log", "dash-anchor"] {
        assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
    }
    assert_eq!(attr_of(&html, "id=\"dash-total\"", "data-total"), "3");
    assert_eq!(count_cell(&html, "newsletter", "granted"), 2);
    assert_eq!(count_cell(&html, "newsletter", "refused"), 1);
    assert_eq!(count_cell(&html, "newsletter", "none"), 0);
    assert_eq!(count_cell(&html, "ads", "revoked"), 1);
    assert_eq!(count_cell(&html, "ads", "granted"), 0);
    assert_eq!(count_cell(&html, "ads", "none"), 2);

    // Today's bar: 3 granted, 1 refused, 1 revoked (days in Europe/Paris, the default
    // anchoring zone).
    assert!(html.contains("Europe/Paris"));
    assert!(html.contains("role=\"img\"") && html.contains("<title id=\"dash-chart-title\">"));
    assert_eq!(attr_of(&html, "id=\"dash-today\"", "data-granted"), "3");
    assert_eq!(attr_of(&html, "id=\"dash-today\"", "data-refused"), "1");
    assert_eq!(attr_of(&html, "id=\"dash-today\"", "data-revoked"), "1");
    let today = attr_of(&html, "id=\"dash-today\"", "data-day");
    let chart = &html[html.find("id=\"dash-chart\"").unwrap()..];
    let bars = &chart[chart.find("id=\"dash-today\"").unwrap()..];
    let bars = &bars[..bars.find("</g>").unwrap()];
    assert!(bars.contains("<rect class=\"bar-granted\""));
    assert!(bars.contains("<rect class=\"bar-refused\""));
    assert!(bars.contains("<rect class=\"bar-revoked\""));
    assert_eq!(chart.matches("<g class=\"day\"").count(), 30);
    assert!(
        html[html.find("id=\"dash-chart-table\"").unwrap()..].contains(&format!(
            "<tr data-day=\"{today}\"><th scope=\"row\">{today}</th><td>3</td><td>1</td><td>1</td>"
        )),
        "the same figures in the table"
    );

    // The log: 3 + 5 of ours, 1 + 1 of the other sender's (contacts are not log entries).
    let size: u64 = attr_of(&html, "id=\"dash-log-size\"", "data-size")
        .parse()
        .unwrap();
    assert!(size >= 6, "{size}");
    let anchor = &html[html.find("id=\"dash-anchor\"").unwrap()..];
    // No anchoring configured: one status saying so, and no promise of a next anchor.
    assert!(anchor.contains("id=\"dash-anchor-none\""), "{anchor}");
    assert!(
        anchor.contains("Daily anchoring is not enabled on this service"),
        "{anchor}"
    );
    let anchor_card = &anchor[..anchor.find("</section>").unwrap()];
    assert!(
        !anchor_card.contains("dash-anchor-pending") && !anchor_card.contains("next anchor"),
        "{anchor_card}"
    );

    // The French page.
    let mut fr = w.clone();
    let r = fr.get(&s, "/app/lang/fr?back=%2Fapp%2Fdashboard");
    assert_eq!(r.status, 303);
    let cookie = r
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    fr.cookie = Some(format!("{}; {cookie}", w.cookie.clone().unwrap()));
    let html = fr.get(&s, "/app/dashboard").text();
    assert!(html.contains("L'ancrage quotidien n'est pas activé sur ce service"));
    assert!(!html.contains("prochain ancrage"));
    assert!(html.contains("Consentements par finalité"));
}

/// Once anchored, the dashboard names the latest anchors: for the chain its ID, block
/// and transaction, linked to the explorer configured; for the TSA its time.
#[test]
fn dashboard_shows_the_latest_anchors_with_an_explorer_link() {
    use crate::chain::{Anvil, dev_key_file};
    use crate::tsa::{Alg, Pki, TsaServer};
    const ADMIN: &str = "admin-token-for-the-tests-0123456789";
    let env = Env::new(Db::Sqlite);
    let anvil = Anvil::start();
    let pki = Pki::new(Alg::Rsa);
    let tsa = TsaServer::start(&pki.config);
    let (tenant, key) = env.tenant("Acme SAS");
    add_user(&env, &tenant, "auditor@acme.example", "auditor");
    let key_file = dev_key_file(env.dir.path()).display().to_string();
    let root = pki.path("root.pem").display().to_string();
    let s = Server::start(
        &env,
        &[
            "--anchor-evm-rpc",
            &anvil.url(),
            "--anchor-evm-key-file",
            &key_file,
            "--anchor-evm-confirmations",
            "1",
            "--anchor-poll",
            "1",
            "--anchor-rfc3161-url",
            &tsa.url,
            "--anchor-rfc3161-ca",
            &root,
            "--admin-token",
            ADMIN,
            "--anchor-evm-explorer",
            "https://explorer.example/tx/{tx}",
        ],
    );
    let contact = add_contact(&s, &key, "ada@example.org");
    let proof: Value =
        serde_json::from_slice(&consent(&s, &key, &contact, "newsletter", "granted")).unwrap();
    let mut w = signed_in(&s, &tenant, "auditor@acme.example");
    let html = w.get(&s, "/app/dashboard").text();
    assert!(html.contains("id=\"dash-anchor-pending\""));
    assert!(
        !html.contains("id=\"dash-anchor-none\""),
        "anchors are configured"
    );

    let r = post(&s.url("/v1/admin/anchor"), Some(ADMIN), &json!({}));
    assert_eq!(r.status, 202, "{}", r.text());
    let deadline = Instant::now() + Duration::from_secs(60);
    let cert = loop {
        let r = get(
            &s.url(&format!(
                "/v1/proofs/{}/certificate",
                proof["id"].as_str().unwrap()
            )),
            Some(&key),
        );
        if r.status == 200 && r.json()["anchors"].as_array().unwrap().len() == 2 {
            break r.json();
        }
        assert!(Instant::now() < deadline, "no anchors: {}", s.logs());
        anvil.mine(1);
        std::thread::sleep(Duration::from_millis(300));
    };
    let evm = cert["anchors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "evm")
        .unwrap();
    let html = w.get(&s, "/app/dashboard").text();
    let anchor = &html[html.find("id=\"dash-anchor\"").unwrap()..];
    let anchor = &anchor[..anchor.find("</section>").unwrap()];
    assert!(!anchor.contains("id=\"dash-anchor-pending\""), "{anchor}");
    let tx = evm["tx_hash"].as_str().unwrap();
    assert!(
        anchor.contains(&format!("href=\"https://explorer.example/tx/{tx}\"")),
        "{anchor}"
    );
    assert!(anchor.contains(&format!(
        "<span class=\"chain-id\">{}</span>",
        evm["chain_id"]
    )));
    assert!(anchor.contains(&format!(
        "<span class=\"block\">{}</span>",
        evm["block_number"]
    )));
    let li = &anchor[anchor.find("data-kind=\"rfc3161\"").unwrap()..];
    assert!(li.contains("RFC 3161 time-stamp"));
    let tsa_time = &li[li.find("<span class=\"tsa-time\">").unwrap()..];
    assert!(
        tsa_time[..tsa_time.find("</span>").unwrap()].ends_with("(Europe/Paris)"),
        "{li}"
    );
    assert_eq!(
        attr_of(anchor, "id=\"dash-anchor-size\"", "data-size"),
        cert["checkpoint"].as_str().unwrap().lines().nth(1).unwrap()
    );
}

/// Users: add one with a generated password shown once, who signs in; disable ends their
/// session; a password change ends every session and the old password stops working.
#[test]
fn users_are_added_disabled_and_change_their_password() {
    let env = Env::new(Db::Sqlite);
    let (tenant, _) = env.tenant("Acme SAS");
    let admin_id = add_user(&env, &tenant, "admin@acme.example", "admin");
    add_user(&env, &tenant, "operator@acme.example", "operator");
    let s = env.start();
    let mut admin = signed_in(&s, &tenant, "admin@acme.example");
    let mut operator = signed_in(&s, &tenant, "operator@acme.example");

    let html = admin.get(&s, "/app/users").text();
    assert!(html.contains("id=\"users-table\"") && html.contains("id=\"user-form\""));
    assert!(html.contains("id=\"users-no-address\""));
    assert!(
        !html.contains("admin@acme.example"),
        "addresses are not stored"
    );
    assert_eq!(html.matches("data-state=\"active\"").count(), 2);
    assert!(
        !html.contains(&format!("id=\"disable-{admin_id}\"")),
        "no button to disable oneself"
    );
    assert_eq!(operator.get(&s, "/app/users").status, 403);
    let r = operator.submit(
        &s,
        "/app/dashboard",
        "/app/users",
        &[("email", "x@acme.example"), ("role", "admin")],
    );
    assert_eq!(r.status, 403, "an operator cannot add users");

    // Add a user: the password is shown once, and works.
    let r = admin.submit(
        &s,
        "/app/users",
        "/app/users",
        &[("email", "New.Person@Acme.example"), ("role", "auditor")],
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let html = r.text();
    let new_id = div_code(&html, "id=\"new-user-id\"");
    let password = div_code(&html, "id=\"new-password\"");
    assert!(new_id.starts_with("usr_"));
    assert_eq!(password.len(), 35, "{password}");
    assert!(!admin.get(&s, "/app/users").text().contains(&password));
    let (mut newcomer, status) = sign_in(&s, &tenant, "new.person@acme.example", &password);
    assert_eq!(status, 303);
    assert_eq!(newcomer.get(&s, "/app/dashboard").status, 200);
    assert_eq!(newcomer.get(&s, "/app/users").status, 403, "an auditor");

    // Refusals: the same address again, a bad address, a bad role; nothing added.
    for pairs in [
        [("email", "new.person@acme.example"), ("role", "operator")],
        [("email", "not an address"), ("role", "operator")],
        [("email", "other@acme.example"), ("role", "root")],
    ] {
        let r = admin.submit(&s, "/app/users", "/app/users", &pairs);
        assert_eq!(r.status, 400, "{pairs:?}");
    }
    assert_eq!(
        admin
            .get(&s, "/app/users")
            .text()
            .matches("<tr id=\"user-")
            .count(),
        3
    );

    // Disable: the newcomer's session ends and they can no longer sign in.
    let html = admin.get(&s, "/app/users").text();
    assert!(html.contains(&format!("id=\"disable-{new_id}\"")));
    let r = admin.submit(
        &s,
        "/app/users",
        &format!("/app/users/{new_id}/disable"),
        &[],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let r = newcomer.get(&s, "/app/dashboard");
    assert_eq!(r.status, 303);
    assert!(location(&r).starts_with("/app/login"));
    assert_eq!(
        sign_in(&s, &tenant, "new.person@acme.example", &password).1,
        401,
        "a disabled user cannot sign in"
    );
    let html = admin.get(&s, "/app/users").text();
    assert_eq!(
        attr_of(&html, &format!("data-user=\"{new_id}\""), "data-state"),
        "disabled"
    );
    // Not oneself, not a stranger, not with a wrong token.
    let r = admin.submit(
        &s,
        "/app/users",
        &format!("/app/users/{admin_id}/disable"),
        &[],
    );
    assert_eq!(r.status, 400);
    let r = admin.submit(&s, "/app/users", "/app/users/usr_nobody/disable", &[]);
    assert_eq!(r.status, 404);
    let r = admin.call(
        &s,
        "POST",
        &format!("/app/users/{new_id}/disable"),
        Some(&form(&[("csrf", &"f".repeat(64))])),
    );
    assert_eq!(r.status, 403);
    assert_eq!(admin.get(&s, "/app/dashboard").status, 200);

    // Password change: wrong current, mismatch, too short — each refused, nothing changed.
    let new_password = "another long password 2";
    let page = operator.get(&s, "/app/account/password");
    assert_eq!(page.status, 200);
    assert!(page.text().contains("id=\"password-form\""));
    for (current, new, again) in [
        ("wrong password here", new_password, new_password),
        (PASSWORD, new_password, "another long password 3"),
        (PASSWORD, "short", "short"),
    ] {
        let r = operator.submit(
            &s,
            "/app/account/password",
            "/app/account/password",
            &[("current", current), ("new", new), ("again", again)],
        );
        assert_eq!(r.status, 400);
        assert!(r.text().contains("id=\"password-error\""));
    }
    let r = operator.call(
        &s,
        "POST",
        "/app/account/password",
        Some(&form(&[
            ("csrf", &"a".repeat(64)),
            ("current", PASSWORD),
            ("new", new_password),
            ("again", new_password),
        ])),
    );
    assert_eq!(r.status, 403);
    // A second session of the operator's, which the change must end too.
    let mut elsewhere = signed_in(&s, &tenant, "operator@acme.example");
    let old_cookie = operator.cookie.clone();
    let r = operator.submit(
        &s,
        "/app/account/password",
        "/app/account/password",
        &[
            ("current", PASSWORD),
            ("new", new_password),
            ("again", new_password),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(location(&r), "/app/login");
    let mut stale = Web { cookie: old_cookie };
    assert_eq!(stale.get(&s, "/app/dashboard").status, 303);
    assert_eq!(elsewhere.get(&s, "/app/dashboard").status, 303);
    assert_eq!(
        sign_in(&s, &tenant, "operator@acme.example", PASSWORD).1,
        401
    );
    let (mut again, status) = sign_in(&s, &tenant, "operator@acme.example", new_password);
    assert_eq!(status, 303);
    assert_eq!(again.get(&s, "/app/dashboard").status, 200);
}

/// The text of the `<code>` whose start tag holds `marker`.
fn div_code(html: &str, marker: &str) -> String {
    let at = html.find(marker).unwrap_or_else(|| panic!("{marker}"));
    let start = at + html[at..].find('>').unwrap() + 1;
    let end = start + html[start..].find("</code>").unwrap();
    unescape(&html[start..end])
}
