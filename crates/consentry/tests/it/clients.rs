//! Who the client is, end to end with the real binary: per-client limits behind a
//! trusted reverse proxy (and a forwarding header ignored from any other peer), staff
//! sign-in addresses unique per tenant with the organisation named at sign-in, and
//! `GET /` for a browser and for an API client.

use crate::util::{CookieJar, Db, Env, Server, add_staff, form_encode, get};
use serde_json::Value;

const PASSWORD: &str = "correct horse battery staple";

/// `POST /portal/login` for `email`, as sent through a proxy that adds `headers`.
fn portal_login(s: &Server, email: &str, headers: &[(&str, &str)]) -> u16 {
    let mut jar = CookieJar {
        name: "consentry_portal",
        cookie: None,
    };
    let body = form_encode(&[("email", email)]);
    jar.send(
        s,
        "POST",
        "/portal/login",
        Some("en"),
        Some(("application/x-www-form-urlencoded", body.into_bytes())),
        headers,
    )
    .status
}

/// Sends sign-in requests for fresh addresses from the client `headers` name until the
/// per-client limit answers 429; how many passed.
fn passes_before_the_limit(s: &Server, tag: &str, headers: &[(&str, &str)]) -> usize {
    for i in 0..100 {
        let status = portal_login(s, &format!("{tag}.{i}@example.org"), headers);
        if status == 429 {
            return i;
        }
        assert_eq!(status, 200, "request {i} of {tag}");
    }
    panic!("no limit reached for {tag}");
}

#[test]
fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit() {
    let env = Env::new(Db::Sqlite);
    let s = Server::start(&env, &["--trusted-proxy", "127.0.0.0/8"]);
    let per_client = consentry_server::portal::PER_IP;
    let a = [("X-Forwarded-For", "203.0.113.9, 198.51.100.1")];
    assert_eq!(passes_before_the_limit(&s, "a", &a), per_client);
    // Another client behind the same proxy (the test's loopback peer) is not held back,
    // whether its proxy writes X-Forwarded-For or Forwarded.
    let b = [("X-Forwarded-For", "198.51.100.2")];
    assert_eq!(portal_login(&s, "b.0@example.org", &b), 200);
    let c = [("Forwarded", "for=\"[2001:db8:7:7::1]:4711\";proto=https")];
    assert_eq!(portal_login(&s, "c.0@example.org", &c), 200);
    // The first client stays limited, whatever it writes to the left of its proxy's entry.
    let a_forging = [("X-Forwarded-For", "192.0.2.77, 198.51.100.1")];
    assert_eq!(portal_login(&s, "a.fresh@example.org", &a_forging), 429);
    // The same /64 is the same client, whatever address in it.
    let c_elsewhere = [("Forwarded", "for=\"[2001:db8:7:7:abcd::9]\"")];
    for i in 1..per_client {
        assert_eq!(portal_login(&s, &format!("c.{i}@example.org"), &c), 200);
    }
    assert_eq!(portal_login(&s, "c.last@example.org", &c_elsewhere), 429);
    // The logs name the client the limits counted (never the address asked for).
    let logs = s.logs();
    assert!(
        logs.contains("portal sign-in throttled") && logs.contains("198.51.100.1"),
        "{logs}"
    );
    assert!(logs.contains("2001:db8:7:7::/64"), "{logs}");
    assert!(!logs.contains("a.fresh@example.org"), "{logs}");
}

#[test]
fn an_untrusted_peers_forwarding_headers_are_ignored() {
    let env = Env::new(Db::Sqlite);
    // A proxy is trusted, but not the test's loopback peer: its headers count for nothing.
    let s = Server::start(&env, &["--trusted-proxy", "10.0.0.0/8"]);
    let mut passed = 0;
    for i in 0..100 {
        let forged = format!("198.51.100.{i}");
        let status = portal_login(
            &s,
            &format!("z.{i}@example.org"),
            &[
                ("X-Forwarded-For", forged.as_str()),
                ("Forwarded", &format!("for={forged}")),
            ],
        );
        if status == 429 {
            break;
        }
        assert_eq!(status, 200);
        passed += 1;
    }
    assert_eq!(
        passed,
        consentry_server::portal::PER_IP,
        "one bucket: the peer's"
    );
    assert!(s.logs().contains("127.0.0.1"), "the peer is the client");
}

#[test]
fn a_bad_trusted_proxy_range_is_refused_at_start() {
    let env = Env::new(Db::Sqlite);
    let out = std::process::Command::new(crate::util::BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--trusted-proxy",
            "10.0.0.1/8",
        ])
        .args(env.db_args())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--trusted-proxy") && err.contains("bits set after the prefix"),
        "{err}"
    );
}

/// A web-application client: the staff cookie, pages in English.
#[derive(Default)]
struct Staff {
    cookie: Option<String>,
}

impl Staff {
    fn call(
        &mut self,
        s: &Server,
        method: &str,
        path: &str,
        form: Option<&[(&str, &str)]>,
    ) -> crate::util::Page {
        let body = form.map(|f| {
            (
                "application/x-www-form-urlencoded",
                form_encode(f).into_bytes(),
            )
        });
        crate::util::staff_send(&mut self.cookie, s, method, path, body, &[])
    }

    fn sign_in(
        s: &Server,
        tenant: &str,
        email: &str,
        password: &str,
    ) -> (Staff, crate::util::Page) {
        let mut w = Staff::default();
        let r = w.call(
            s,
            "POST",
            "/app/login",
            Some(&[("tenant", tenant), ("email", email), ("password", password)]),
        );
        (w, r)
    }
}

fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a CSRF token");
    html[at + 19..at + 19 + 64].to_owned()
}

fn tenant_name_shown(w: &mut Staff, s: &Server) -> String {
    let r = w.call(s, "GET", "/app/dashboard", None);
    assert_eq!(r.status, 200, "{}", r.text());
    r.text()
}

fn one_address_is_staff_in_two_tenants(db: Db) {
    let env = Env::new(db);
    let (acme, _) = env.tenant("Acme Widgets");
    let (globex, _) = env.tenant("Globex Trading");
    let shared = "Pat.Shared@example.net";
    add_staff(&env, &acme, shared, "admin", PASSWORD);
    // The CLI adds the same address to another tenant, with another password.
    let other_password = "another long password for globex";
    add_staff(
        &env,
        &globex,
        "pat.shared@EXAMPLE.net",
        "operator",
        other_password,
    );
    add_staff(&env, &globex, "gus.admin@example.net", "admin", PASSWORD);
    let s = env.start();

    // Each sign-in names its organisation, and opens that tenant's account.
    let (mut in_acme, r) = Staff::sign_in(&s, &acme, shared, PASSWORD);
    assert_eq!(r.status, 303, "{}", r.text());
    assert!(tenant_name_shown(&mut in_acme, &s).contains("Acme Widgets"));
    assert!(
        r.headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("set-cookie")
                && v.starts_with(&format!("consentry_tenant={acme};"))),
        "the organisation is remembered for the form"
    );
    let (mut in_globex, r) = Staff::sign_in(&s, &globex, shared, other_password);
    assert_eq!(r.status, 303, "{}", r.text());
    let page = tenant_name_shown(&mut in_globex, &s);
    assert!(page.contains("Globex Trading") && !page.contains("Acme Widgets"));
    // One tenant's password does not open the other's account; nor does an unknown or
    // malformed organisation; all answer the same.
    let refused = |tenant: &str, password: &str| {
        let (_, r) = Staff::sign_in(&s, tenant, shared, password);
        assert_eq!(r.status, 401, "{tenant}: {}", r.text());
        assert!(r.text().contains("Wrong organisation, address or password"));
    };
    refused(&acme, other_password);
    refused(&globex, PASSWORD);
    refused("ten_0000000000000000", PASSWORD);
    refused("not a tenant", PASSWORD);
    // With several tenants the organisation must be named, whatever the address.
    for email in [shared, "nobody@example.net"] {
        let (_, r) = Staff::sign_in(&s, "", email, PASSWORD);
        assert_eq!(r.status, 400, "{}", r.text());
        assert!(r.text().contains("id=\"login-error\""));
    }
    // The sign-in page fills the organisation in from the link an admin passes on.
    let r = Staff::default().call(&s, "GET", &format!("/app/login?tenant={globex}"), None);
    assert!(
        r.text().contains(&format!("value=\"{globex}\"")),
        "{}",
        r.text()
    );

    // An admin of Globex adding an address that is staff at Acme: added like any other,
    // the same page as for an address nobody holds.
    let (mut gus, r) = Staff::sign_in(&s, &globex, "gus.admin@example.net", PASSWORD);
    assert_eq!(r.status, 303, "{}", r.text());
    let add = |w: &mut Staff, email: &str| {
        let users = w.call(&s, "GET", "/app/users", None);
        assert_eq!(users.status, 200, "{}", users.text());
        assert!(
            users
                .text()
                .contains(&format!("/app/login?tenant={globex}")),
            "the users page gives the sign-in link"
        );
        let csrf = csrf_of(&users.text());
        w.call(
            &s,
            "POST",
            "/app/users",
            Some(&[("csrf", &csrf), ("email", email), ("role", "auditor")]),
        )
    };
    let elsewhere = add(&mut gus, "pat.shared@example.net");
    // (Pat is already at Globex too: the tenant's own duplicate is refused.)
    assert_eq!(elsewhere.status, 400, "{}", elsewhere.text());
    assert!(
        elsewhere
            .text()
            .contains("A user of your organisation already has")
    );
    add_staff(&env, &acme, "only.acme@example.net", "operator", PASSWORD);
    let staff_elsewhere = add(&mut gus, "only.acme@example.net");
    let fresh = add(&mut gus, "nobody.yet@example.net");
    assert_eq!(staff_elsewhere.status, 201, "{}", staff_elsewhere.text());
    assert_eq!(fresh.status, 201, "{}", fresh.text());
    // The two pages differ only by the new user's ID and password (and the session's
    // token): every run of eight hex digits or more is scrubbed.
    let shape = |p: &crate::util::Page| {
        let mut out = String::new();
        let mut run = String::new();
        for ch in p.text().chars().chain(std::iter::once(' ')) {
            if ch.is_ascii_hexdigit() {
                run.push(ch);
                continue;
            }
            out.push_str(if run.len() >= 8 { "H" } else { &run });
            run.clear();
            out.push(ch);
        }
        out
    };
    assert_eq!(shape(&staff_elsewhere), shape(&fresh));
    // And the new Globex user signs in to Globex; the Acme account is untouched.
    let (_, r) = Staff::sign_in(&s, &acme, "only.acme@example.net", PASSWORD);
    assert_eq!(r.status, 303, "{}", r.text());
}

#[test]
fn one_address_is_staff_in_two_tenants_sqlite() {
    one_address_is_staff_in_two_tenants(Db::Sqlite);
}

#[test]
fn one_address_is_staff_in_two_tenants_postgres() {
    one_address_is_staff_in_two_tenants(Db::Postgres);
}

#[test]
fn the_root_is_a_page_for_a_browser_and_an_index_for_an_api_client() {
    let env = Env::new(Db::Sqlite);
    let s = env.start();
    let page = |accept: &str, lang: &str| {
        CookieJar {
            name: "none",
            cookie: None,
        }
        .send(&s, "GET", "/", Some(lang), None, &[("Accept", accept)])
    };
    let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    for (lang, words) in [
        ("fr-FR,fr;q=0.9", "Connexion du personnel"),
        ("en-GB", "Staff sign-in"),
    ] {
        let r = page(browser, lang);
        assert_eq!(r.status, 200);
        assert!(
            r.content_type().starts_with("text/html"),
            "{}",
            r.content_type()
        );
        let html = r.text();
        assert!(html.contains(words), "{html}");
        for link in [
            "href=\"/app/login\"",
            "href=\"/portal\"",
            "href=\"/verify\"",
        ] {
            assert!(html.contains(link), "{link}: {html}");
        }
        let csp = r.header("content-security-policy").unwrap_or("");
        assert!(
            csp.contains("default-src 'none'") && !csp.contains("script-src"),
            "{csp}"
        );
        assert!(r.header("vary").unwrap_or("").contains("Accept"));
    }
    assert!(page(browser, "fr").text().contains("lang=\"fr\""));
    for accept in ["application/json", "*/*"] {
        let r = page(accept, "en");
        assert_eq!(r.status, 200);
        assert_eq!(r.content_type(), "application/json");
        let v: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["service"], "consentry");
        for (name, path) in [
            ("openapi", "/openapi.json"),
            ("well_known", "/.well-known/consentry.json"),
            ("checkpoint", "/checkpoint"),
            ("verify", "/verify"),
            ("portal", "/portal"),
            ("app", "/app"),
        ] {
            assert_eq!(v["links"][name], path, "{v}");
            // Every link leads somewhere.
            let status = get(&s.url(path), None).status;
            assert!(matches!(status, 200 | 303), "{path}: {status}");
        }
    }
}
