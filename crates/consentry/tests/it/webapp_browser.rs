//! The sender's web application in a real browser: Debian's headless chromium through
//! chromedriver (the `/verify` page test's `Driver`), against the real binary.
//!
//! One walk, as a sender's staff would do it: sign in; write a purpose and its notice;
//! import a CSV file with one bad line (the line is shown and nothing is written), then the
//! corrected file; select contacts in the address book and request their consent in bulk
//! with the notice; answer one request from the link in its e-mail (in the outbox), and
//! watch the book's badge change without reloading; open the contact's timeline and
//! download the proof PDF, whose text `pdftotext` reads. A screenshot of every page goes
//! to `target/screenshots/webapp-*.png`, on a desk-sized window and, for the book, a
//! phone-sized one; the walk ends in French, switched from the page's header.

use crate::portal::outbox;
use crate::util::{Db, Env, Server, get};
use fantoccini::{Client, Locator};
use serde_json::json;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const PASSWORD: &str = "a long staff password";

/// Adds a staff user with the CLI.
pub(crate) fn add_user(env: &Env, tenant: &str, email: &str, role: &str) -> String {
    crate::util::add_staff(env, tenant, email, role, PASSWORD)
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    std::fs::write(
        crate::verify_page::screenshot_dir().join(format!("webapp-{name}.png")),
        png,
    )
    .unwrap();
}

async fn text_of(c: &Client) -> String {
    c.execute(
        "return document.body ? document.body.innerText : '';",
        Vec::new(),
    )
    .await
    .unwrap()
    .as_str()
    .unwrap_or("")
    .to_owned()
}

/// Waits until the URL contains `part` and the page's text contains `text`.
/// Waits until the browser is at `path` (exactly: the query and fragment aside) and the
/// page's text contains `text`. An exact path, not a prefix: right after a submit the
/// browser is still on the form's page (`/app/requests/new`), which must not pass for the
/// answer's (`/app/requests`).
async fn wait_page(c: &Client, path: &str, text: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let url = c.current_url().await.unwrap();
        let body = text_of(c).await;
        if url.path() == path && body.contains(text) {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "waiting for {path} / {text:?}: at {url}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until an element matching `css` is on the page (the page a submit leads to).
async fn wait_for(c: &Client, css: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while c.find(Locator::Css(css)).await.is_err() {
        assert!(Instant::now() < deadline, "waiting for {css}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn fill(c: &Client, css: &str, value: &str) {
    let e = c
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"));
    e.clear().await.ok();
    e.send_keys(value).await.unwrap();
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .click()
        .await
        .unwrap();
}

async fn select(c: &Client, css: &str, value: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .select_by_value(value)
        .await
        .unwrap_or_else(|e| panic!("{css} has no option {value}: {e}"));
}

fn contacts_in_book(s: &Server, key: &str) -> usize {
    let r = get(&s.url("/v1/contacts?limit=500"), Some(key));
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["items"].as_array().unwrap().len()
}

/// The delegated-consent links in the outbox.
fn answer_links(env: &Env) -> Vec<String> {
    outbox(env)
        .iter()
        .filter_map(|m| {
            let at = m.find("/c/")?;
            let token: String = m[at + 3..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                .collect();
            (token.len() >= 32).then(|| format!("/c/{token}"))
        })
        .collect()
}

pub(crate) fn wait_answer_links(env: &Env, n: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let links = answer_links(env);
        if links.len() >= n {
            return links;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {n} request e-mails",
            links.len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn write_csv(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn webapp_in_chromium_sign_in_import_bulk_request_answer_and_proof_pdf() {
    let env = Env::new(Db::Sqlite);
    let (tenant, key) = env.tenant("ACME SAS");
    add_user(&env, &tenant, "claire.admin@acme.example", "admin");
    let s = env.start();
    let driver = crate::verify_page::Driver::start(env.dir.path());
    let profile = tempfile::tempdir().unwrap();
    let downloads = env.dir.path().join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = crate::portal::browser(&driver, profile.path(), &downloads).await;

        // Sign in: /app sends a stranger to the sign-in page; a wrong password is refused.
        c.goto(&s.url("/app")).await.unwrap();
        wait_page(&c, "/app/login", "Sign in").await;
        shot(&c, "signin").await;
        fill(&c, "#email", "claire.admin@acme.example").await;
        fill(&c, "#password", "not the password").await;
        click(&c, "form[action='/app/login'] button").await;
        wait_page(&c, "/app/login", "Wrong organisation, address or password").await;
        shot(&c, "signin-refused").await;
        // The address typed is kept; the password is not.
        let kept = |css: &'static str| {
            let c = c.clone();
            async move {
                c.find(Locator::Css(css))
                    .await
                    .unwrap()
                    .prop("value")
                    .await
                    .unwrap()
            }
        };
        assert_eq!(
            kept("#email").await.as_deref(),
            Some("claire.admin@acme.example")
        );
        assert_eq!(kept("#password").await.as_deref(), Some(""));
        fill(&c, "#email", "Claire.Admin@acme.example").await;
        fill(&c, "#password", PASSWORD).await;
        click(&c, "form[action='/app/login'] button").await;
        wait_page(&c, "/app/dashboard", "ACME SAS").await;
        shot(&c, "dashboard-empty").await;
        // The session cookie is out of the page's reach (HttpOnly).
        let cookies = c
            .execute("return document.cookie;", Vec::new())
            .await
            .unwrap();
        assert!(!cookies.as_str().unwrap_or("").contains("consentry_staff"));

        // A purpose and its notice.
        c.goto(&s.url("/app/purposes")).await.unwrap();
        wait_page(&c, "/app/purposes", "Purposes").await;
        fill(&c, "#purpose-form [name=name]", "newsletter").await;
        fill(
            &c,
            "#purpose-form [name=description]",
            "Our monthly newsletter",
        )
        .await;
        fill(&c, "#purpose-form [name=valid_days]", "365").await;
        click(&c, "#purpose-form button[type=submit]").await;
        wait_page(&c, "/app/purposes", "Our monthly newsletter").await;
        select(&c, "#notice-form [name=purpose]", "newsletter").await;
        select(&c, "#notice-form [name=language]", "en").await;
        fill(
            &c,
            "#notice-form [name=text]",
            "ACME SAS will e-mail you its newsletter once a month. You can withdraw at any time.",
        )
        .await;
        click(&c, "#notice-form button[type=submit]").await;
        wait_page(&c, "/app/purposes", "once a month").await;
        // A second purpose, whose notice the request form must swap in.
        fill(&c, "#purpose-form [name=name]", "photos").await;
        fill(
            &c,
            "#purpose-form [name=description]",
            "Photos at our events",
        )
        .await;
        fill(&c, "#purpose-form [name=valid_days]", "730").await;
        click(&c, "#purpose-form button[type=submit]").await;
        wait_page(&c, "/app/purposes", "Photos at our events").await;
        select(&c, "#notice-form [name=purpose]", "photos").await;
        select(&c, "#notice-form [name=language]", "en").await;
        fill(
            &c,
            "#notice-form [name=text]",
            "ACME SAS may publish photos taken of you at its events.",
        )
        .await;
        click(&c, "#notice-form button[type=submit]").await;
        wait_page(&c, "/app/purposes", "photos taken of you").await;
        shot(&c, "purposes").await;

        // Import: one bad line is shown with its number, and nothing is written.
        let bad = write_csv(
            env.dir.path(),
            "bad.csv",
            "email,name,category,attr.region\n\
             ann@example.org,Ann Martin,private,north\n\
             not-an-address,Bob,private,south\n\
             carl@example.net,Carl Dupont,professional,north\n",
        );
        c.goto(&s.url("/app/contacts/import")).await.unwrap();
        wait_page(&c, "/app/contacts/import", "CSV").await;
        shot(&c, "import").await;
        c.find(Locator::Css("#import-form input[type=file]"))
            .await
            .unwrap()
            .send_keys(&bad)
            .await
            .unwrap();
        click(&c, "#import-form button[type=submit]").await;
        wait_for(&c, "#import-errors").await;
        let text = wait_page(&c, "/app/contacts/import", "e-mail address").await;
        let errors = c
            .find(Locator::Id("import-errors"))
            .await
            .expect("the bad lines are listed")
            .text()
            .await
            .unwrap();
        assert!(errors.contains('3'), "line 3 is named: {errors}");
        assert!(
            !errors.contains("not-an-address"),
            "the error report echoes no value: {errors}"
        );
        assert!(
            c.find(Locator::Id("import-confirm")).await.is_err(),
            "no confirm button while a line is bad: {text}"
        );
        shot(&c, "import-errors").await;
        assert_eq!(contacts_in_book(&s, &key), 0, "nothing half-written");

        // The corrected file: preview, then confirm.
        let good = write_csv(
            env.dir.path(),
            "good.csv",
            "email,name,category,attr.region\n\
             ann@example.org,Ann Martin,private,north\n\
             bob@example.com,Bob Martin,private,south\n\
             carl@example.net,Carl Dupont,professional,north\n",
        );
        c.goto(&s.url("/app/contacts/import")).await.unwrap();
        wait_page(&c, "/app/contacts/import", "CSV").await;
        c.find(Locator::Css("#import-form input[type=file]"))
            .await
            .unwrap()
            .send_keys(&good)
            .await
            .unwrap();
        click(&c, "#import-form button[type=submit]").await;
        wait_for(&c, "#import-preview").await;
        wait_page(&c, "/app/contacts/import", "3").await;
        shot(&c, "import-preview").await;
        assert_eq!(contacts_in_book(&s, &key), 0, "a preview writes nothing");
        click(&c, "#import-confirm button[type=submit]").await;
        wait_for(&c, "#import-outcome").await;
        wait_page(&c, "/app/contacts/import/confirm", "3").await;
        shot(&c, "import-done").await;
        assert_eq!(contacts_in_book(&s, &key), 3);

        // The book: select two contacts, request their consent with the notice.
        c.goto(&s.url("/app/contacts")).await.unwrap();
        wait_page(&c, "/app/contacts", "Address book").await;
        shot(&c, "book").await;
        let boxes = c
            .find_all(Locator::Css(
                "#bulk-form input[type=checkbox][name=contact]",
            ))
            .await
            .unwrap();
        assert_eq!(boxes.len(), 3);
        for b in &boxes[..2] {
            b.click().await.unwrap();
        }
        click(&c, "#bulk-selected").await;
        wait_page(&c, "/app/requests/new", "2").await;
        shot(&c, "request-form").await;
        // Changing the purpose swaps its notices in place (the script), and back.
        let marker = c
            .execute("window.__sameForm = true; return true;", Vec::new())
            .await
            .unwrap();
        assert_eq!(marker, json!(true));
        select(&c, "#request-ask", "photos").await;
        let terms = wait_terms(&c, "photos", "photos taken of you").await;
        assert!(!terms.contains("once a month"), "{terms}");
        assert_eq!(
            c.find(Locator::Css("#request-valid"))
                .await
                .unwrap()
                .prop("value")
                .await
                .unwrap()
                .as_deref(),
            Some("730"),
            "the photos purpose's validity"
        );
        shot(&c, "request-form-photos").await;
        select(&c, "#request-ask", "newsletter").await;
        wait_terms(&c, "newsletter", "once a month").await;
        let same = c
            .execute("return window.__sameForm === true;", Vec::new())
            .await
            .unwrap();
        assert_eq!(same, json!(true), "swapped in place, not reloaded");
        choose_notice(&c).await;
        click(&c, "#request-form button[type=submit]").await;
        // The preview: the e-mail, the recipients; nothing sent yet.
        wait_for(&c, "#preview-mail").await;
        let text = wait_page(&c, "/app/requests/preview", "Recipients (2)").await;
        assert!(text.contains("once a month"), "{text}");
        assert!(answer_links(&env).is_empty(), "a preview sends nothing");
        shot(&c, "request-preview").await;
        click(&c, "#request-send").await;
        wait_for(&c, "#request-result").await;
        let url = c.current_url().await.unwrap();
        assert!(url.path().starts_with("/app/requests/batch/bat_"), "{url}");
        let text = text_of(&c).await;
        assert!(text.contains("2 request(s) sent"), "{text}");
        shot(&c, "request-result").await;
        c.refresh().await.unwrap();
        wait_for(&c, "#request-result").await;

        // Back to the book: both are pending; answer one from its e-mail link and watch
        // its badge change without a reload.
        c.goto(&s.url("/app/contacts?purpose=newsletter"))
            .await
            .unwrap();
        wait_page(&c, "/app/contacts", "pending").await;
        let pending = c
            .find_all(Locator::Css(
                "[data-purpose=newsletter][data-status=pending]",
            ))
            .await
            .unwrap();
        assert_eq!(pending.len(), 2);
        let marker = c
            .execute("window.__notReloaded = true; return true;", Vec::new())
            .await
            .unwrap();
        assert_eq!(marker, json!(true));
        let link = wait_answer_links(&env, 2).remove(0);
        let answer_page = get(&s.url(&link), None);
        assert_eq!(answer_page.status, 200, "{}", answer_page.text());
        assert!(
            answer_page.text().contains("once a month"),
            "the e-mailed link shows the notice chosen"
        );
        let r = crate::util::post_raw(
            &s.url(&link),
            None,
            "application/x-www-form-urlencoded",
            b"decision=granted",
        );
        assert!(r.status < 400, "{} {}", r.status, r.text());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let granted = c
                .find_all(Locator::Css(
                    "[data-purpose=newsletter][data-status=granted]",
                ))
                .await
                .unwrap();
            if granted.len() == 1 {
                break;
            }
            assert!(Instant::now() < deadline, "the badge did not turn granted");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let same_page = c
            .execute("return window.__notReloaded === true;", Vec::new())
            .await
            .unwrap();
        assert_eq!(same_page, json!(true), "updated in place, not reloaded");
        shot(&c, "book-live-granted").await;

        // The granted contact's timeline, and its proof PDF.
        let granted = c
            .find(Locator::Css(
                "[data-purpose=newsletter][data-status=granted]",
            ))
            .await
            .unwrap();
        let contact = granted.attr("data-contact").await.unwrap().unwrap();
        c.goto(&s.url(&format!("/app/contacts/{contact}")))
            .await
            .unwrap();
        let text = wait_page(&c, &format!("/app/contacts/{contact}"), "newsletter").await;
        // No anchoring on this service: the proof, and no promise of a certificate.
        assert!(
            !text.contains("Pending anchor") && !text.contains("Certificate"),
            "no certificate promised: {text}"
        );
        shot(&c, "contact-timeline").await;
        let pdf_link = c
            .find(Locator::Css("a[id^='proof-pdf-']"))
            .await
            .expect("a proof PDF link");
        pdf_link.click().await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        let file = loop {
            let done: Vec<_> = std::fs::read_dir(&downloads)
                .unwrap()
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "pdf"))
                .collect();
            if let Some(f) = done.into_iter().next() {
                break f;
            }
            assert!(Instant::now() < deadline, "no PDF downloaded");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let bytes = std::fs::read(&file).unwrap();
        assert!(bytes.starts_with(b"%PDF-"));
        let out = Command::new("pdftotext")
            .arg(&file)
            .arg("-")
            .output()
            .expect("pdftotext (poppler-utils) is needed");
        let pdf_text = String::from_utf8_lossy(&out.stdout);
        assert!(pdf_text.contains("newsletter"), "{pdf_text}");
        assert!(pdf_text.to_lowercase().contains("granted"), "{pdf_text}");

        // The dashboard counts it; the phone-sized book still reads.
        c.goto(&s.url("/app/dashboard")).await.unwrap();
        wait_page(&c, "/app/dashboard", "newsletter").await;
        shot(&c, "dashboard").await;
        c.set_window_size(390, 844).await.unwrap();
        c.goto(&s.url("/app/contacts")).await.unwrap();
        wait_page(&c, "/app/contacts", "Address book").await;
        shot(&c, "book-phone").await;
        let overflow = c
            .execute(
                "return document.documentElement.scrollWidth <= window.innerWidth + 1;",
                Vec::new(),
            )
            .await
            .unwrap();
        assert_eq!(overflow, json!(true), "no sideways scrolling on a phone");

        // In French, from the header's language link, which comes back to the same page.
        click(&c, "a.lang[hreflang=fr]").await;
        let text = wait_page(&c, "/app/contacts", "Carnet d'adresses").await;
        assert!(
            text.contains("accordé") && text.contains("en attente"),
            "{text}"
        );
        shot(&c, "book-phone-fr").await;
        c.set_window_size(1100, 1500).await.unwrap();
        c.goto(&s.url("/app/dashboard")).await.unwrap();
        wait_page(&c, "/app/dashboard", "Tableau de bord").await;
        shot(&c, "dashboard-fr").await;

        // Sign out: the session ends.
        click(&c, "form[action='/app/logout'] button").await;
        wait_page(&c, "/app/login", "Connexion").await;
        c.goto(&s.url("/app/contacts")).await.unwrap();
        wait_page(&c, "/app/login", "Connexion").await;
        c.close().await.unwrap();
    });
}

/// Waits until the request form's notices are `purpose`'s and hold `text`; returns them.
async fn wait_terms(c: &Client, purpose: &str, text: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(e) = c
            .find(Locator::Css(&format!(
                "#request-terms[data-purpose='{purpose}']"
            )))
            .await
        {
            let t = e.text().await.unwrap_or_default();
            if t.contains(text) {
                return t;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the notices of {purpose} never came"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Picks the first notice offered by the request form.
async fn choose_notice(c: &Client) {
    if let Ok(radio) = c
        .find(Locator::Css("#request-form input[type=radio][name=notice]"))
        .await
    {
        radio.click().await.unwrap();
    }
}
