//! Requests that cannot go wrong (issue 16, item 2), end to end over HTTP with a real SMTP
//! server on loopback: the purpose and its notice in one form (a notice of another
//! purpose is refused, nothing sent), only the current notice per language offered, the
//! preview (the e-mail as the mail loop renders it, the answer page, the recipients and
//! who is skipped with why), the sending of exactly the previewed list, and a result
//! page that a reload shows again. The form as a browser without script posts it: the
//! purpose switched to "photos" with the photos notice, and the e-mail received carries
//! that notice.

use crate::delegated::{Smtp, mail_body, wait_mails};
use crate::service::{add_contact, consent};
use crate::util::{Db, Env, Server, get, post};
use crate::webapp_browser::add_user;
use crate::webapp_consents::{Web, location, signed_in, sql};
use std::time::Duration;

const NEWS_V1: &str = "ACME SAS sends its newsletter every week (old text).";
const NEWS_V2: &str = "ACME SAS sends its newsletter once a month.";
const PHOTOS: &str = "ACME SAS may publish photos of you taken at its events.";

/// The rest of the tag in which `marker` is, up to its `>`.
fn attributes_of<'h>(html: &'h str, marker: &str) -> &'h str {
    let rest = &html[html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker}: {html}"))..];
    &rest[..rest.find('>').unwrap()]
}

/// The ID of the notice radio whose text follows it in the form.
fn notice_for(html: &str, text: &str) -> String {
    let end = html.find(text).unwrap_or_else(|| panic!("{text}: {html}"));
    let key = "name=\"notice\" value=\"";
    let at = html[..end].rfind(key).unwrap() + key.len();
    html[at..at + html[at..].find('"').unwrap()].to_owned()
}

fn requests_in_db(env: &Env) -> u64 {
    sql(env, "SELECT COUNT(*) FROM consent_requests")
        .trim()
        .parse()
        .unwrap()
}

fn walk(db: Db) {
    let env = Env::new(db);
    let (tenant, key) = env.tenant("ACME SAS");
    add_user(&env, &tenant, "adele.admin@acme.example", "admin");
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
    let maildir = smtp.maildir.join("new");
    let mut w: Web = signed_in(&s, &tenant, "adele.admin@acme.example");
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
            "/app/purposes",
            vec![
                ("name", "photos"),
                ("description", "Photos"),
                ("valid_days", "365"),
            ],
        ),
        (
            "/app/notices",
            vec![
                ("purpose", "newsletter"),
                ("language", "en"),
                ("text", NEWS_V1),
            ],
        ),
        (
            "/app/notices",
            vec![
                ("purpose", "newsletter"),
                ("language", "en"),
                ("text", NEWS_V2),
            ],
        ),
        (
            "/app/notices",
            vec![("purpose", "photos"), ("language", "en"), ("text", PHOTOS)],
        ),
    ] {
        let mut all = vec![("csrf", t.as_str())];
        all.extend(pairs);
        assert_eq!(w.post_form(&s, path, &all).status, 303, "{path} {all:?}");
    }
    let ann = add_contact(&s, &key, "ann.martin@example.org");
    let bob = add_contact(&s, &key, "bob.granted@example.org");
    consent(&s, &key, &bob, "photos", "granted");
    let eve = add_contact(&s, &key, "eve.erased@example.org");
    let r = post(
        &s.url(&format!("/v1/contacts/{eve}/erase")),
        Some(&key),
        &serde_json::json!({}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let selection = format!("contact={ann}&contact={bob}&contact={eve}&contact=sub_nobody");

    // --- One form: the purpose drop-down and the notices in it; only the current
    // version per language, the older one folded away; the script is a file. ---
    let p = w.get(&s, &format!("/app/requests/new?{selection}"));
    assert_eq!(p.status, 200, "{}", p.text());
    let csp = p.header("content-security-policy").unwrap().to_owned();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    let html = p.text();
    assert!(html.contains("/app/static/requests.js?v="), "{html}");
    let form = &html[html.find("id=\"request-form\"").unwrap()..];
    let form = &form[..form.find("</form>").unwrap()];
    assert!(
        form.contains("<select id=\"request-ask\" name=\"purpose\""),
        "{form}"
    );
    assert!(
        form.contains("id=\"request-terms\" data-purpose=\"newsletter\""),
        "{form}"
    );
    let details = &form[form.find("<details").expect("older versions folded")..];
    assert!(
        details.contains(NEWS_V1),
        "v1 is an older version: {details}"
    );
    assert!(!form[..form.find("<details").unwrap()].contains(NEWS_V1));
    let news_v2 = notice_for(form, NEWS_V2);
    let checked = &form[form.find(&news_v2).unwrap()..];
    assert!(
        checked[..checked.find('>').unwrap()].contains("checked"),
        "the current version is preselected: {checked}"
    );
    // The photos purpose's form (what the script fetches), with its notice.
    let photos_page = w
        .get(&s, &format!("/app/requests/new?{selection}&ask=photos"))
        .text();
    assert!(photos_page.contains("id=\"request-terms\" data-purpose=\"photos\""));
    let photos = notice_for(&photos_page, PHOTOS);
    assert!(!photos_page.contains(NEWS_V2), "only the photos notices");
    assert!(
        attributes_of(&photos_page, "id=\"request-valid\"").contains("value=\"365\""),
        "its validity"
    );

    let fields = |purpose: &str, notice: &str| -> Vec<(String, String)> {
        let mut f: Vec<(String, String)> = vec![("csrf".into(), t.clone())];
        for c in [&ann, &bob, &eve, &"sub_nobody".to_owned()] {
            f.push(("contact".into(), c.to_string()));
        }
        for (k, v) in [
            ("purpose", purpose),
            ("notice", notice),
            ("language", ""),
            ("response_days", "10"),
            ("valid_days", ""),
        ] {
            f.push((k.into(), v.into()));
        }
        f
    };
    let post_fields = |w: &mut Web, path: &str, f: &[(String, String)]| {
        let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        w.post_form(&s, path, &pairs)
    };

    // --- The old bug: the drop-down switched to photos, the newsletter's notice still
    // chosen. Refused, the form shown again for photos, nothing sent. ---
    for path in ["/app/requests/preview", "/app/requests"] {
        let r = post_fields(&mut w, path, &fields("photos", &news_v2));
        assert_eq!(r.status, 400, "{path}: {}", r.text());
        let html = r.text();
        assert!(html.contains("id=\"request-error\""), "{html}");
        assert!(
            html.contains("The notice chosen is the one of the purpose"),
            "{html}"
        );
        assert!(
            html.contains("id=\"request-terms\" data-purpose=\"photos\"") && html.contains(PHOTOS),
            "the form again, with the photos notices: {html}"
        );
    }
    assert_eq!(requests_in_db(&env), 0, "nothing was asked");

    // --- The preview of purpose=photos with the photos notice (as a browser without
    // script posts it). ---
    let r = post_fields(&mut w, "/app/requests/preview", &fields("photos", &photos));
    assert_eq!(r.status, 200, "{}", r.text());
    let preview = r.text();
    assert!(
        preview.contains("ACME SAS asks for your consent"),
        "{preview}"
    );
    let body = &preview[preview.find("id=\"preview-body\"").unwrap()..];
    let body = &body[..body.find("</pre>").unwrap()];
    assert!(body.contains(PHOTOS) && !body.contains(NEWS_V2), "{body}");
    let recipients = &preview[preview.find("id=\"preview-recipients\"").unwrap()..];
    let recipients = &recipients[..recipients.find("</section>").unwrap()];
    assert!(recipients.contains("Recipients (1)"), "{recipients}");
    assert!(recipients.contains(&ann), "{recipients}");
    let skipped = &preview[preview.find("id=\"preview-skipped\"").unwrap()..];
    let skipped = &skipped[..skipped.find("</section>").unwrap()];
    for (who, code, text) in [
        (
            bob.as_str(),
            "granted",
            "consent already granted for this purpose",
        ),
        (eve.as_str(), "erased", "data erased"),
        ("sub_nobody", "no_such_contact", "not in this address book"),
    ] {
        let row = &skipped[skipped
            .find(who)
            .unwrap_or_else(|| panic!("{who}: {skipped}"))..];
        let row = &row[..row.find("</tr>").unwrap()];
        assert!(row.contains(&format!("data-reason=\"{code}\"")), "{row}");
        assert!(row.contains(text), "{row}");
    }
    // The answer page as the recipient will see it: the real page, nothing created.
    let marker = "id=\"preview-answer-link\" href=\"";
    let answer = preview[preview.find(marker).unwrap() + marker.len()..]
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    let r = w.get(&s, &answer);
    assert_eq!(r.status, 200, "{}", r.text());
    let page = r.text();
    assert!(page.contains(PHOTOS) && page.contains("ACME SAS asks for your consent"));
    assert!(page.contains("disabled"), "its buttons do nothing: {page}");
    assert_eq!(requests_in_db(&env), 0, "a preview writes nothing");

    // --- Sent: exactly the previewed list; the result page survives a reload. ---
    let send: Vec<(String, String)> = {
        let mut f = vec![("csrf".to_owned(), t.clone())];
        for name in [
            "contact",
            "purpose",
            "notice",
            "language",
            "response_days",
            "valid_days",
            "expected",
            "expected_count",
        ] {
            let send_form = &preview[preview.find("id=\"send-form\"").unwrap()..];
            let send_form = &send_form[..send_form.find("</form>").unwrap()];
            let key = format!("name=\"{name}\" value=\"");
            let mut rest = send_form;
            while let Some(at) = rest.find(&key) {
                let v = &rest[at + key.len()..];
                let v = &v[..v.find('"').unwrap()];
                f.push((name.to_owned(), v.to_owned()));
                rest = &rest[at + key.len()..];
            }
        }
        f
    };
    let r = post_fields(&mut w, "/app/requests", &send);
    assert_eq!(r.status, 303, "{}", r.text());
    let result = location(&r);
    assert!(result.starts_with("/app/requests/batch/bat_"), "{result}");
    let first = w.get(&s, &result);
    assert_eq!(first.status, 200, "{}", first.text());
    let html = first.text();
    assert!(html.contains("1 request(s) sent for"), "{html}");
    assert!(html.contains("photos"), "{html}");
    let reload = w.get(&s, &result);
    assert_eq!(reload.status, 200);
    // The same result (each e-mail's state may have moved on meanwhile).
    let created = |h: &str| {
        let at = h.find("id=\"request-created\"").unwrap();
        h[at..].split("</p>").next().unwrap().to_owned()
    };
    assert_eq!(
        created(&reload.text()),
        created(&html),
        "a reload shows the same result"
    );
    let list = w.get(&s, "/app/requests");
    assert_eq!(list.status, 200, "{}", list.text());
    assert!(list.text().contains(&result), "{}", list.text());
    assert_eq!(requests_in_db(&env), 1);

    // The e-mail, received over SMTP, carries the photos notice.
    let mails = wait_mails(&maildir, 1);
    assert_eq!(mails.len(), 1);
    let mail = mail_body(&mails[0]);
    assert!(mails[0].contains("ann.martin@example.org"), "to Ann");
    assert!(mail.contains(PHOTOS), "{mail}");
    assert!(!mail.contains(NEWS_V2) && !mail.contains(NEWS_V1), "{mail}");
    assert!(mail.contains("photos"), "{mail}");
    let api = get(&s.url(&format!("/v1/contacts/{ann}")), Some(&key)).json();
    assert_eq!(api["consents"]["photos"]["status"], "pending", "{api}");
    assert!(api["consents"].get("newsletter").is_none(), "{api}");

    // --- The same form posted again: the list changed since its preview (Ann now
    // waits); the preview is shown again, nothing sent. ---
    let r = post_fields(&mut w, "/app/requests", &send);
    assert_eq!(r.status, 409, "{}", r.text());
    let html = r.text();
    assert!(html.contains("id=\"preview-changed\""), "{html}");
    assert!(html.contains("id=\"preview-nobody\""), "{html}");
    assert!(
        !html.contains("id=\"send-form\""),
        "nothing to send: {html}"
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(wait_mails(&maildir, 1).len(), 1, "one e-mail, not two");
    assert_eq!(requests_in_db(&env), 1);
}

#[test]
fn sqlite_requests_one_form_preview_and_result_page() {
    walk(Db::Sqlite);
}

#[test]
fn postgres_requests_one_form_preview_and_result_page() {
    walk(Db::Postgres);
}
