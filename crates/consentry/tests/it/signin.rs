//! Staff sign-in end to end (issue 16, item 7), with the real binary and a real SMTP
//! server on loopback: only failed sign-ins count toward the limits; the form keeps the
//! organisation and the address after a wrong password; a forgotten password is reset by
//! an e-mailed single-use link (same answer for unknown addresses, no e-mail for them;
//! used, replaced and expired links refused with a page saying why; the other sessions
//! ended); HTML 404 pages under `/app` and `/portal`; the favicon.

use crate::delegated::Smtp;
use crate::portal::sql;
use crate::util::{Db, Env, Page, Server, add_staff, form_encode, get, staff_send};
use std::time::{Duration, Instant};

const EMAIL: &str = "boss@acme.example";
const PASSWORD: &str = "correct horse battery staple";
const NEW_PASSWORD: &str = "a brand new long password";

fn post(cookie: &mut Option<String>, s: &Server, path: &str, pairs: &[(&str, &str)]) -> Page {
    staff_send(
        cookie,
        s,
        "POST",
        path,
        Some((
            "application/x-www-form-urlencoded",
            form_encode(pairs).into_bytes(),
        )),
        &[],
    )
}

fn sign_in(s: &Server, tenant: &str, email: &str, password: &str) -> (Option<String>, Page) {
    let mut cookie = None;
    let r = post(
        &mut cookie,
        s,
        "/app/login",
        &[("tenant", tenant), ("email", email), ("password", password)],
    );
    (cookie, r)
}

fn ask_reset(s: &Server, tenant: &str, email: &str) -> Page {
    post(
        &mut None,
        s,
        "/app/reset",
        &[("tenant", tenant), ("email", email)],
    )
}

/// Every message the SMTP server received, as text (quoted-printable undone).
fn mails(smtp: &Smtp) -> Vec<String> {
    std::fs::read_dir(smtp.maildir.join("new"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| {
            // Quoted-printable: soft line breaks and `=` itself.
            std::fs::read_to_string(e.path())
                .unwrap_or_default()
                .replace("=\r\n", "")
                .replace("=\n", "")
                .replace("=3D", "=")
        })
        .collect()
}

/// The reset links of the received messages.
fn reset_links(smtp: &Smtp) -> Vec<String> {
    mails(smtp)
        .iter()
        .filter_map(|m| {
            let at = m.find("/app/reset/")?;
            let token: String = m[at + 11..].chars().take(64).collect();
            (token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()))
                .then(|| format!("/app/reset/{token}"))
        })
        .collect()
}

/// Waits for the `n`th reset link; returns the one not in `seen`.
fn next_link(smtp: &Smtp, seen: &[String]) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(l) = reset_links(smtp).into_iter().find(|l| !seen.contains(l)) {
            return l;
        }
        assert!(
            Instant::now() < deadline,
            "no new reset e-mail: {:?}",
            mails(smtp)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn walk(db: Db) {
    let env = Env::new(db);
    let (tenant, _) = env.tenant("Acme");
    add_staff(&env, &tenant, EMAIL, "admin", PASSWORD);
    add_staff(&env, &tenant, "limit@acme.example", "operator", PASSWORD);
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

    // Good sign-ins are free: twelve in a row (before: the 11th in 15 minutes got 429).
    let per_account = consentry_server::web::session::PER_ACCOUNT;
    for i in 0..per_account + 2 {
        let (_, r) = sign_in(&s, &tenant, EMAIL, PASSWORD);
        assert_eq!(r.status, 303, "good sign-in {i}: {}", r.text());
    }

    // A wrong password: the form keeps the organisation and the address, not the password.
    let (_, r) = sign_in(&s, &tenant, "Boss@Acme.example", "not the password at all");
    assert_eq!(r.status, 401, "{}", r.text());
    let html = r.text();
    assert!(html.contains(&format!("value=\"{tenant}\"")), "{html}");
    assert!(html.contains("value=\"Boss@Acme.example\""), "{html}");
    assert!(!html.contains("not the password at all"), "{html}");
    assert!(html.contains("href=\"/app/reset?tenant="), "{html}");

    // Failures still count: exactly PER_ACCOUNT for one address, then 429 (for the right
    // password too, without checking it).
    for i in 0..per_account {
        let (_, r) = sign_in(&s, &tenant, "limit@acme.example", "wrong");
        assert_eq!(r.status, 401, "failure {i}: {}", r.text());
    }
    let (_, r) = sign_in(&s, &tenant, "limit@acme.example", PASSWORD);
    assert_eq!(r.status, 429, "{}", r.text());
    assert_eq!(r.header("retry-after"), Some("900"));
    assert!(
        r.text().contains("Too many recent attempts"),
        "{}",
        r.text()
    );

    // A forgotten password. The sign-in page links to the request form.
    let r = staff_send(&mut None, &s, "GET", "/app/login", None, &[]);
    assert!(r.text().contains("href=\"/app/reset\""), "{}", r.text());
    assert!(r.text().contains("rel=\"icon\""), "{}", r.text());
    let r = staff_send(
        &mut None,
        &s,
        "GET",
        &format!("/app/reset?tenant={tenant}"),
        None,
        &[],
    );
    assert_eq!(r.status, 200);
    assert!(r.text().contains(&format!("value=\"{tenant}\"")));
    // A session open elsewhere, to be ended by the reset.
    let (mut elsewhere, r) = sign_in(&s, &tenant, EMAIL, PASSWORD);
    assert_eq!(r.status, 303);
    // An unknown address and a known one (any letter case) get the very same page; only
    // the known one gets an e-mail.
    let unknown = ask_reset(&s, &tenant, "nobody@acme.example");
    let known = ask_reset(&s, &tenant, "BOSS@acme.example");
    assert_eq!((unknown.status, known.status), (200, 200));
    assert_eq!(unknown.text(), known.text());
    assert!(
        known.text().contains("id=\"reset-sent\""),
        "{}",
        known.text()
    );
    let link = next_link(&smtp, &[]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !s
        .logs()
        .contains("password reset asked for no enabled user")
    {
        assert!(Instant::now() < deadline, "{}", s.logs());
        std::thread::sleep(Duration::from_millis(50));
    }
    let all = mails(&smtp);
    assert_eq!(all.len(), 1, "no e-mail for the unknown address");
    assert!(all[0].contains(EMAIL), "sent to the address typed");
    let token = link.trim_start_matches("/app/reset/");
    let logs = s.logs();
    assert!(!logs.contains(token), "the token is never logged");
    assert!(!logs.contains(EMAIL) && !logs.contains("nobody@acme.example"));

    // The link: the form; mismatched or short passwords refused, the link still works.
    let r = staff_send(&mut None, &s, "GET", &link, None, &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("password-again"));
    let r = post(
        &mut None,
        &s,
        &link,
        &[("new", NEW_PASSWORD), ("again", "something else entirely")],
    );
    assert_eq!(r.status, 400, "{}", r.text());
    let r = post(
        &mut None,
        &s,
        &link,
        &[("new", "short"), ("again", "short")],
    );
    assert_eq!(r.status, 400, "{}", r.text());
    // Another site's page cannot post it.
    let r = staff_send(
        &mut None,
        &s,
        "POST",
        &link,
        Some((
            "application/x-www-form-urlencoded",
            form_encode(&[("new", NEW_PASSWORD), ("again", NEW_PASSWORD)]).into_bytes(),
        )),
        &[("Origin", "https://evil.example")],
    );
    assert_eq!(r.status, 403);
    let r = post(
        &mut None,
        &s,
        &link,
        &[("new", NEW_PASSWORD), ("again", NEW_PASSWORD)],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // Thirteen sessions were open: the twelve good sign-ins' and the one elsewhere.
    assert!(
        r.text().contains("Sessions closed on this account: 13"),
        "{}",
        r.text()
    );
    let r = staff_send(&mut elsewhere, &s, "GET", "/app/dashboard", None, &[]);
    assert_eq!(r.status, 303, "the other session ended");
    let (_, r) = sign_in(&s, &tenant, EMAIL, PASSWORD);
    assert_eq!(r.status, 401, "the old password is refused");
    let (_, r) = sign_in(&s, &tenant, EMAIL, NEW_PASSWORD);
    assert_eq!(r.status, 303, "the new one opens a session");
    // The link again: refused with a page saying it was used.
    let r = staff_send(&mut None, &s, "GET", &link, None, &[]);
    assert_eq!(r.status, 410, "{}", r.text());
    assert!(r.text().contains("already been used"), "{}", r.text());
    let r = post(
        &mut None,
        &s,
        &link,
        &[
            ("new", "yet another password"),
            ("again", "yet another password"),
        ],
    );
    assert_eq!(r.status, 410, "{}", r.text());
    let (_, r) = sign_in(&s, &tenant, EMAIL, NEW_PASSWORD);
    assert_eq!(r.status, 303, "a refused link changed nothing");

    // A newer link replaces the older one.
    assert_eq!(ask_reset(&s, &tenant, EMAIL).status, 200);
    let older = next_link(&smtp, std::slice::from_ref(&link));
    assert_eq!(ask_reset(&s, &tenant, EMAIL).status, 200);
    let newer = next_link(&smtp, &[link.clone(), older.clone()]);
    let r = staff_send(&mut None, &s, "GET", &older, None, &[]);
    assert_eq!(r.status, 410, "{}", r.text());
    assert!(
        r.text().contains("A newer link was asked for"),
        "{}",
        r.text()
    );
    // An expired link (its stored expiry moved back past now) is refused too.
    let hash =
        consentry_core::merkle::Hash::digest(newer.trim_start_matches("/app/reset/").as_bytes())
            .to_hex();
    let lit = match db {
        Db::Sqlite => format!("X'{hash}'"),
        Db::Postgres => format!("'\\x{hash}'::bytea"),
    };
    sql(
        &env,
        &format!(
            "UPDATE staff_password_resets SET expires_at = expires_at - 61 * 60 * 1000 WHERE token_hash = {lit}"
        ),
    );
    let r = staff_send(&mut None, &s, "GET", &newer, None, &[]);
    assert_eq!(r.status, 410, "{}", r.text());
    assert!(r.text().contains("has expired"), "{}", r.text());
    let r = post(
        &mut None,
        &s,
        &newer,
        &[
            ("new", "yet another password"),
            ("again", "yet another password"),
        ],
    );
    assert_eq!(r.status, 410, "{}", r.text());
    // Reset requests are limited per address like sign-ins (five so far for this one).
    let limited = (0..3)
        .map(|_| ask_reset(&s, &tenant, EMAIL))
        .find(|r| r.status == 429)
        .expect("the per-address reset limit");
    assert_eq!(limited.header("retry-after"), Some("900"));

    // Unknown addresses under /app and /portal: pages in the visitor's language with a
    // link back; the API keeps problem+json.
    let r = staff_send(&mut None, &s, "GET", "/app/no/such/page", None, &[]);
    assert_eq!(r.status, 404);
    assert!(
        r.content_type().starts_with("text/html"),
        "{}",
        r.content_type()
    );
    assert!(
        r.text().contains("There is no page at this address"),
        "{}",
        r.text()
    );
    assert!(r.text().contains("href=\"/app\""), "{}", r.text());
    let mut jar = crate::util::CookieJar {
        name: "consentry_staff",
        cookie: None,
    };
    let r = jar.send(&s, "GET", "/app/nope", Some("fr-FR,fr;q=0.9"), None, &[]);
    assert_eq!(r.status, 404);
    assert!(
        r.text().contains("Aucune page ne se trouve"),
        "{}",
        r.text()
    );
    let r = jar.send(&s, "GET", "/portal/nope", Some("fr-FR"), None, &[]);
    assert_eq!(r.status, 404);
    assert!(
        r.content_type().starts_with("text/html"),
        "{}",
        r.content_type()
    );
    assert!(
        r.text().contains("Aucune page ne se trouve"),
        "{}",
        r.text()
    );
    assert!(r.text().contains("href=\"/portal\""), "{}", r.text());
    let r = get(&s.url("/v1/no-such-thing"), None);
    assert_eq!(
        (r.status, r.content_type.as_str()),
        (404, "application/problem+json")
    );
    // GET /app/ as GET /app.
    let r = staff_send(&mut None, &s, "GET", "/app/", None, &[]);
    assert_eq!((r.status, r.header("location")), (303, Some("/app/login")));
    let (mut signed_in, _) = sign_in(&s, &tenant, EMAIL, NEW_PASSWORD);
    let r = staff_send(&mut signed_in, &s, "GET", "/app/", None, &[]);
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some("/app/dashboard"))
    );

    // The favicon: a real SVG, cacheable.
    for path in ["/favicon.ico", "/favicon.svg"] {
        let r = staff_send(&mut None, &s, "GET", path, None, &[]);
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.content_type(), "image/svg+xml");
        assert!(r.text().starts_with("<svg") && r.text().contains("</svg>"));
        assert!(r.header("cache-control").unwrap_or("").contains("max-age="));
    }
}

#[test]
fn sqlite_sign_in_limits_count_failures_reset_by_link_and_404_pages() {
    walk(Db::Sqlite);
}

#[test]
fn postgres_sign_in_limits_count_failures_reset_by_link_and_404_pages() {
    walk(Db::Postgres);
}
