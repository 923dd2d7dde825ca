//! Every page people use, as they see it: Debian's Chromium (headless, through
//! chromedriver) at desk width (1280 × 900) and at phone width (390 × 844), once with a
//! French browser and once with an English one. On each page:
//!
//! - **no horizontal overflow**: `document.documentElement.scrollWidth` is at most
//!   `innerWidth` (a page that scrolls sideways on a phone is a page people give up on);
//!   the failure names the elements sticking out;
//! - **axe-core** (Deque's rules engine, the npm package pinned by `scripts/install-axe`,
//!   found at `CONSENTRY_TEST_AXE`) finds no violation of serious or critical impact;
//! - **one language**: the page's visible text holds no text of the catalogue that is only
//!   in the other language (texts of twelve characters or more, compared without case, so
//!   that short words shared by both languages do not count);
//! - a **screenshot** is saved as `target/screenshots/pages-{lang}-{width}-{page}.png`,
//!   for review.
//!
//! Every problem found is collected and the test fails once, listing them all.

use crate::service::{add_contact, consent};
use crate::util::{Db, Env, Server, post};
use crate::webapp_browser::add_user;
use consentry_server::i18n::Text;
use fantoccini::{Client, Locator};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const STAFF: &str = "claire.admin@cabinet-durand.example";
const PASSWORD: &str = "a long staff password";

/// The widths every page is checked at: (width, height, name).
const WIDTHS: [(u32, u32, &str); 2] = [(1280, 900, "desk"), (390, 844, "phone")];

#[derive(Clone, Copy, PartialEq)]
enum Lang {
    Fr,
    En,
}

impl Lang {
    fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }
}

fn axe_source() -> String {
    let path = PathBuf::from(std::env::var("CONSENTRY_TEST_AXE").unwrap_or_else(|_| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../target/tools/npm/node_modules/axe-core/axe.min.js")
            .display()
            .to_string()
    }));
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "axe-core not found at {} ({e}): run scripts/install-axe (scripts/test does) or \
             set CONSENTRY_TEST_AXE. The page test needs the real rules engine; it never skips.",
            path.display()
        )
    })
}

/// A headless Chromium whose language is `lang`'s (its Accept-Language and `navigator`).
async fn browser(driver: &crate::verify_page::Driver, profile: &Path, lang: Lang) -> Client {
    let chromium =
        crate::verify_page::tool("CONSENTRY_TEST_CHROMIUM", "/usr/bin/chromium", "chromium");
    let (arg, accept) = match lang {
        Lang::Fr => ("--lang=fr-FR", "fr-FR,fr"),
        Lang::En => ("--lang=en-GB", "en-GB,en"),
    };
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                "--disable-background-networking", "--disable-sync", "--hide-scrollbars", arg,
                "--window-size=1280,900",
                format!("--user-data-dir={}", profile.display()),
            ],
            "prefs": { "intl.accept_languages": accept },
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

/// The catalogue's texts that are only in `lang`: what must not appear on a page in the
/// other language. Each text is cut at its parameters (`{name}`) and line breaks, and the
/// pieces of twelve characters or more are kept, lower-cased.
fn only_in(lang: Lang) -> Vec<(Text, String)> {
    let mut out = Vec::new();
    for text in Text::ALL {
        let (mine, other) = match lang {
            Lang::Fr => (text.fr(), text.en()),
            Lang::En => (text.en(), text.fr()),
        };
        for piece in mine.split(['{', '}', '\n']) {
            let piece = piece.trim();
            if piece.chars().count() >= 12
                && piece.contains(' ')
                && !other.to_lowercase().contains(&piece.to_lowercase())
            {
                out.push((*text, piece.to_lowercase()));
            }
        }
    }
    out
}

/// Waits for the page to be loaded (and its scripts run).
async fn settle(c: &Client) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let state = c
            .execute("return document.readyState;", Vec::new())
            .await
            .unwrap();
        if state == json!("complete") {
            break;
        }
        assert!(Instant::now() < deadline, "the page did not finish loading");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
}

/// Sets the viewport to `width` × `height` CSS pixels (the window is resized until the
/// page's `innerWidth` is exactly `width`: the window's frame differs by platform).
async fn viewport(c: &Client, width: u32, height: u32) {
    let mut w = i64::from(width);
    for _ in 0..4 {
        c.set_window_size(w as u32, height).await.unwrap();
        let inner = c
            .execute("return window.innerWidth;", Vec::new())
            .await
            .unwrap()
            .as_i64()
            .unwrap();
        if inner == i64::from(width) {
            return;
        }
        w += i64::from(width) - inner;
    }
    panic!("cannot make the viewport {width} px wide");
}

/// Checks the page open in `c`: overflow, axe-core, language; saves its screenshot.
async fn check(c: &Client, axe: &str, lang: Lang, width: &str, name: &str) -> Vec<String> {
    settle(c).await;
    let mut problems = Vec::new();
    let at = format!("{} {width} {name}", lang.code());
    let url = c.current_url().await.unwrap().to_string();

    // Sideways scrolling, and what sticks out.
    let overflow = c
        .execute(
            "const w = window.innerWidth, d = document.documentElement;
             if (d.scrollWidth <= w) return null;
             const out = [];
             for (const e of document.body.querySelectorAll('*')) {
               const r = e.getBoundingClientRect();
               if (r.right > w + 1 && r.width > 0) {
                 out.push(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
                   (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\\s+/).join('.') : '') +
                   ' (right ' + Math.round(r.right) + ')');
               }
               if (out.length >= 6) break;
             }
             return {scroll: d.scrollWidth, inner: w, out};",
            Vec::new(),
        )
        .await
        .unwrap();
    if !overflow.is_null() {
        problems.push(format!("{at}: scrolls sideways ({url}): {overflow}"));
    }

    // axe-core: serious and critical violations.
    let loaded = c
        .execute(
            &format!("{axe}\n;return typeof window.axe === 'object';"),
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(loaded, json!(true), "axe-core did not load in the page");
    let violations = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             window.axe.run(document, {resultTypes: ['violations']}).then(r => done(
               r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                 .map(v => v.id + ' (' + v.impact + '): ' +
                   v.nodes.slice(0, 4).map(n => n.target.join(' ')).join(', '))
             ), e => done(['axe failed: ' + e]));",
            Vec::new(),
        )
        .await
        .unwrap();
    for v in violations.as_array().unwrap() {
        problems.push(format!("{at}: axe {} ({url})", v.as_str().unwrap_or("?")));
    }

    // The other language's texts.
    let text = c
        .execute(
            "return (document.body ? document.body.innerText : '') + '\\n' + document.title;",
            Vec::new(),
        )
        .await
        .unwrap()
        .as_str()
        .unwrap_or("")
        .to_lowercase();
    let other = match lang {
        Lang::Fr => Lang::En,
        Lang::En => Lang::Fr,
    };
    for (key, piece) in only_in(other) {
        if text.contains(&piece) {
            problems.push(format!(
                "{at}: text of the other language ({key:?}: {piece:?}) on {url}"
            ));
        }
    }
    let html_lang = c
        .execute("return document.documentElement.lang;", Vec::new())
        .await
        .unwrap();
    if html_lang != json!(lang.code()) {
        problems.push(format!("{at}: <html lang={html_lang}> ({url})"));
    }

    let png = c.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    std::fs::write(
        crate::verify_page::screenshot_dir()
            .join(format!("pages-{}-{width}-{name}.png", lang.code())),
        png,
    )
    .unwrap();
    problems
}

/// The data the pages show: a contact who granted, one asked and pending, a request link.
struct Data {
    granted: String,
    proof: String,
}

fn data(env: &Env, s: &Server, key: &str) -> Data {
    let granted = add_contact(s, key, "helene.durand@example.org");
    let proof: Value =
        serde_json::from_slice(&consent(s, key, &granted, "newsletter", "granted")).unwrap();
    let pending = add_contact(s, key, "paul.martin@example.net");
    let r = post(
        &s.url("/v1/consent-requests"),
        Some(key),
        &json!({
            "contact_id": pending, "purpose": "photos",
            "notice": {"text": "Le cabinet publie des photos de ses événements.", "version": "2026-12"},
            "language": "fr", "valid_days": 365
        }),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let _ = env;
    Data {
        granted,
        proof: proof["proof_id"]
            .as_str()
            .or(proof["id"].as_str())
            .unwrap()
            .to_owned(),
    }
}

/// Signs in to the portal as `email`, whatever the page's language: the form, the newest
/// link of the outbox, the confirmation.
async fn portal_sign_in(c: &Client, s: &Server, env: &Env, email: &str) {
    let before = crate::portal::login_links(env);
    c.goto(&s.url("/portal")).await.unwrap();
    settle(c).await;
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
    // The link e-mailed now: the one the outbox did not hold before.
    let link = crate::portal::wait_links(env, before.len() + 1)
        .into_iter()
        .find(|l| !before.contains(l))
        .expect("a new sign-in link");
    c.goto(&s.url(&link)).await.unwrap();
    settle(c).await;
    c.find(Locator::Css("main form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    crate::portal::wait_page(c, "/portal/me", "").await;
}

async fn staff_sign_in(c: &Client, s: &Server, tenant: &str) {
    c.goto(&s.url(&format!("/app/login?tenant={tenant}")))
        .await
        .unwrap();
    settle(c).await;
    for (css, value) in [("#email", STAFF), ("#password", PASSWORD)] {
        let field = c.find(Locator::Css(css)).await.unwrap();
        field.clear().await.unwrap();
        field.send_keys(value).await.unwrap();
    }
    c.find(Locator::Css("form[action='/app/login'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    crate::portal::wait_page(c, "/app/dashboard", "").await;
}

#[test]
fn every_page_at_desk_and_phone_width_in_both_languages() {
    let axe = axe_source();
    let env = Env::new(Db::Sqlite);
    let (tenant, key) = env.tenant("Cabinet Durand");
    add_user(&env, &tenant, STAFF, "admin");
    let s = env.start();
    let d = data(&env, &s, &key);
    let driver = crate::verify_page::Driver::start(env.dir.path());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let answer = crate::webapp_browser::wait_answer_links(&env, 1).remove(0);
    let staff_pages: Vec<(&str, String)> = vec![
        ("dashboard", "/app/dashboard".into()),
        ("book", "/app/contacts".into()),
        ("contact", format!("/app/contacts/{}", d.granted)),
        ("contact-new", "/app/contacts/new".into()),
        ("contact-edit", format!("/app/contacts/{}/edit", d.granted)),
        ("import", "/app/contacts/import".into()),
        (
            "request-new",
            format!("/app/requests/new?contact={}", d.granted),
        ),
        ("purposes", "/app/purposes".into()),
        ("users", "/app/users".into()),
        ("password", "/app/account/password".into()),
        (
            "certificate",
            format!("/app/proofs/{}/certificate", d.proof),
        ),
        ("sendings", "/app/requests".into()),
        ("settings", "/app/settings".into()),
        ("not-found", "/app/no-such-page".into()),
    ];
    let public_pages: Vec<(&str, String)> = vec![
        ("home", "/".into()),
        ("signin", format!("/app/login?tenant={tenant}")),
        ("portal", "/portal".into()),
        ("verify", "/verify".into()),
        ("answer", answer),
        ("reset", "/app/reset".into()),
        ("portal-not-found", "/portal/no-such-page".into()),
    ];
    let mut problems = Vec::new();
    rt.block_on(async {
        for lang in [Lang::Fr, Lang::En] {
            let profile = tempfile::tempdir().unwrap();
            let c = browser(&driver, profile.path(), lang).await;
            for (w, h, width) in WIDTHS {
                viewport(&c, w, h).await;
                for (name, path) in &public_pages {
                    c.goto(&s.url(path)).await.unwrap();
                    problems.extend(check(&c, &axe, lang, width, name).await);
                }
            }
            // The person's own space, signed in from the e-mailed link.
            portal_sign_in(&c, &s, &env, "helene.durand@example.org").await;
            for (w, h, width) in WIDTHS {
                viewport(&c, w, h).await;
                c.goto(&s.url("/portal/me")).await.unwrap();
                problems.extend(check(&c, &axe, lang, width, "portal-me").await);
            }
            staff_sign_in(&c, &s, &tenant).await;
            for (w, h, width) in WIDTHS {
                viewport(&c, w, h).await;
                for (name, path) in &staff_pages {
                    c.goto(&s.url(path)).await.unwrap();
                    problems.extend(check(&c, &axe, lang, width, name).await);
                }
            }
            c.close().await.unwrap();
        }
    });
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}
