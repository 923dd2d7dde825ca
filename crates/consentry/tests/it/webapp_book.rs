//! The web application's address book, end to end with the real binary: sign in, add a
//! contact (and a duplicate, and bad input), search by e-mail address and by pseudonym,
//! filter by consent status, keyset pages, edit attributes and replace the name (a
//! `data.amended` event by the staff user, then a reveal shows the new name), CSV import
//! with a bad line (nothing written) and a good file (preview, confirm, stored), the CSV
//! export, an auditor's read-only view, CSRF refusals, an erased contact, and a raw
//! database holding none of the personal data typed in.

use crate::util::{Db, Env, Server, get, post};
use base64::Engine as _;
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery staple";

/// A browser of the web application: keeps the staff session cookie, follows nothing.
struct Browser {
    cookie: Option<String>,
}

struct Page {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Page {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn location(&self) -> &str {
        self.header("location").unwrap_or("")
    }
}

impl Browser {
    fn new() -> Browser {
        Browser { cookie: None }
    }

    fn call(
        &mut self,
        s: &Server,
        method: &str,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
    ) -> Page {
        let p = crate::util::staff_send(&mut self.cookie, s, method, path, body, &[]);
        Page {
            status: p.status,
            body: p.text(),
            headers: p.headers,
        }
    }

    fn get(&mut self, s: &Server, path: &str) -> Page {
        self.call(s, "GET", path, None)
    }

    fn form(&mut self, s: &Server, path: &str, pairs: &[(&str, &str)]) -> Page {
        self.call(
            s,
            "POST",
            path,
            Some((
                "application/x-www-form-urlencoded",
                form_of(pairs).into_bytes(),
            )),
        )
    }

    /// A multipart POST: text fields, and optionally a file field `(name, bytes)`.
    fn multipart(
        &mut self,
        s: &Server,
        path: &str,
        fields: &[(&str, &str)],
        file: Option<(&str, &[u8])>,
    ) -> Page {
        let boundary = "----consentry-test-boundary-7d1f";
        let mut body = Vec::new();
        for (k, v) in fields {
            body.extend(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                )
                .into_bytes(),
            );
        }
        if let Some((name, bytes)) = file {
            body.extend(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"people.csv\"\r\nContent-Type: text/csv\r\n\r\n"
                )
                .into_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend(b"\r\n");
        }
        body.extend(format!("--{boundary}--\r\n").into_bytes());
        self.call(
            s,
            "POST",
            path,
            Some((&format!("multipart/form-data; boundary={boundary}"), body)),
        )
    }

    /// Posts the address book's search form (with the session's token from the book).
    fn search(&mut self, s: &Server, fields: &[(&str, &str)]) -> Page {
        let book = self.get(s, "/app/contacts");
        let csrf = csrf_of(&book.body);
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.form(s, "/app/contacts/search", &all)
    }

    fn sign_in(&mut self, s: &Server, email: &str) {
        let r = self.form(s, "/app/login", &[("email", email), ("password", PASSWORD)]);
        assert_eq!(r.status, 303, "{}", r.body);
        assert!(self.cookie.is_some());
    }
}

/// No link, form action or other URL of `html` holds an e-mail address.
fn assert_no_address_in_urls(html: &str) {
    for attr in ["href=\"", "action=\"", "src=\""] {
        for (i, _) in html.match_indices(attr) {
            let url = &html[i + attr.len()..];
            let url = &url[..url.find('"').unwrap_or(url.len())];
            assert!(
                !url.contains('@') && !url.to_ascii_lowercase().contains("%40"),
                "an address in a URL: {url}"
            );
        }
    }
}

fn form_of(pairs: &[(&str, &str)]) -> String {
    crate::util::form_encode(pairs)
}

fn csrf_of(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("a CSRF token in the page");
    html[at + 19..at + 19 + 64].to_owned()
}

/// The value of the hidden input `name` in a page.
fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let at = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in the page"))
        + marker.len();
    let end = html[at..].find('"').unwrap();
    html[at..at + end].to_owned()
}

fn add_user(env: &Env, email: &str, tenant: &str, role: &str) {
    crate::util::add_staff(env, tenant, email, role, PASSWORD);
}

/// The book's contacts through the API: (id, JSON view).
fn api_contacts(s: &Server, key: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/contacts?limit=500&cursor={c}"),
            None => "/v1/contacts?limit=500".to_owned(),
        };
        let r = get(&s.url(&path), Some(key));
        assert_eq!(r.status, 200, "{}", r.text());
        let v = r.json();
        all.extend(v["items"].as_array().unwrap().iter().cloned());
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return all,
        }
    }
}

/// The pseudonyms of the rows on a list page, in order.
fn rows_of(html: &str) -> Vec<String> {
    html.match_indices("id=\"pick-")
        .map(|(i, _)| {
            let start = i + "id=\"pick-".len();
            let end = html[start..].find('"').unwrap();
            html[start..start + end].to_owned()
        })
        .collect()
}

/// The `href` of the element with this `id`, HTML entities undone.
fn href_of(html: &str, id: &str) -> Option<String> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let tag_start = html[..at].rfind('<')?;
    let tag = &html[tag_start..tag_start + html[tag_start..].find('>')?];
    let h = tag.find("href=\"")? + 6;
    let end = tag[h..].find('"')?;
    Some(tag[h..h + end].replace("&amp;", "&"))
}

fn good_file(n: usize, also: &str) -> String {
    let mut text = String::from("email,name,category,attr.region\r\n");
    for i in 0..n {
        text.push_str(&format!(
            "imported.person{i}@example.net,Importeename{i} Plumtree,private,west\r\n"
        ));
    }
    // An address the book already has, in other letter case.
    text.push_str(&format!("{also},Someone Else,,\r\n"));
    text
}

fn walk(db: Db) {
    let env = Env::new(db);
    let (tenant, key) = env.tenant("Acme");
    add_user(&env, "boss@acme.example", &tenant, "admin");
    add_user(&env, "reader@acme.example", &tenant, "auditor");
    let s = env.start();
    let mut admin = Browser::new();

    // Signed out: the book asks for a sign-in.
    let r = admin.get(&s, "/app/contacts");
    assert_eq!(r.status, 303);
    assert!(r.location().starts_with("/app/login"), "{}", r.location());
    admin.sign_in(&s, "boss@acme.example");

    // What axum would answer by itself in plain text (a repeated query field, a path
    // that is not UTF-8, a method the path lacks, a sign-in form over the body limit)
    // is the application's page, in the page language, and changes nothing.
    for (method, path, status) in [
        ("GET", "/app/contacts?q=a&q=b", 400),
        ("GET", "/app/contacts/%FF", 400),
        ("DELETE", "/app/contacts", 405),
    ] {
        let r = admin.call(&s, method, path, None);
        assert_eq!(r.status, status, "{method} {path}: {}", r.body);
        assert!(
            r.header("content-type")
                .unwrap_or("")
                .starts_with("text/html"),
            "{method} {path}"
        );
        assert!(r.body.contains("Nothing was changed."), "{}", r.body);
    }
    let big = format!("email=boss%40acme.example&password={}", "a".repeat(100_000));
    let r = Browser::new().call(
        &s,
        "POST",
        "/app/login",
        Some(("application/x-www-form-urlencoded", big.into_bytes())),
    );
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(
        r.header("content-type")
            .unwrap_or("")
            .starts_with("text/html")
    );
    assert!(
        r.body.contains("larger than the service accepts"),
        "{}",
        r.body
    );

    let r = admin.get(&s, "/app/contacts");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("id=\"book-empty\""));
    assert!(r.body.contains("No contact matches."));

    // Add a contact through the form.
    let r = admin.get(&s, "/app/contacts/new");
    assert_eq!(r.status, 200);
    assert!(r.body.contains("id=\"contact-form\""));
    let csrf = csrf_of(&r.body);
    let r = admin.form(
        &s,
        "/app/contacts",
        &[
            ("csrf", &csrf),
            ("email", "Zoe.Quartz@Example.org"),
            ("name", "Zoelle Quartzfield"),
            ("address", "7 Quaybridge Lane\r\nOxbury"),
            ("phone", "+44 20 7946 0958"),
            ("category", "private"),
            ("attributes", "region=north\r\nsource=fair"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let zoe = r
        .location()
        .strip_prefix("/app/contacts/")
        .unwrap()
        .to_owned();
    assert!(zoe.starts_with("sub_"), "{zoe}");
    let v = get(&s.url(&format!("/v1/contacts/{zoe}")), Some(&key)).json();
    assert_eq!(v["category"], "private");
    assert_eq!(
        v["attributes"],
        json!({"region": "north", "source": "fair"})
    );

    // The same address again: a page naming the existing contact; nothing added.
    let r = admin.form(
        &s,
        "/app/contacts",
        &[("csrf", &csrf), ("email", "zoe.quartz@example.org")],
    );
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("id=\"duplicate-contact\""));
    assert!(r.body.contains(&format!("href=\"/app/contacts/{zoe}\"")));
    // Bad input: a clear page, nothing added.
    for (pairs, what) in [
        (vec![("email", "not-an-address")], "email"),
        (
            vec![("email", "x@example.org"), ("attributes", "Bad Key=1")],
            "Attributes",
        ),
        (
            vec![("email", "x@example.org"), ("category", "martian")],
            "category",
        ),
    ] {
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend(pairs);
        let r = admin.form(&s, "/app/contacts", &all);
        assert_eq!(r.status, 400, "{}", r.body);
        assert!(r.body.contains("id=\"contact-error\""));
        assert!(r.body.contains(what), "{what}: {}", r.body);
    }
    assert_eq!(api_contacts(&s, &key).len(), 1);

    // Search: by exact e-mail address (any letter case), by pseudonym and by its start.
    // An address is posted by the search form and answered there: it is in no URL (no
    // redirect, no link of the page), and a query string holding one is refused.
    let r = admin.get(&s, "/app/contacts");
    assert!(
        r.body
            .contains("method=\"post\" action=\"/app/contacts/search\""),
        "the search form posts"
    );
    let r = admin.search(&s, &[("q", "ZOE.quartz@example.ORG")]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.location(), "", "no Location header");
    assert_eq!(rows_of(&r.body), vec![zoe.clone()]);
    assert!(r.body.contains("1 contact matches."));
    assert_no_address_in_urls(&r.body);
    let r = admin.search(&s, &[("q", "nobody@example.org")]);
    assert!(rows_of(&r.body).is_empty());
    assert!(r.body.contains("No contact matches."));
    assert_no_address_in_urls(&r.body);
    let r = admin.get(&s, "/app/contacts?q=ZOE.quartz%40example.ORG");
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("id=\"search-error\""));
    assert!(
        rows_of(&r.body).is_empty(),
        "nothing is searched by a URL's address"
    );
    assert!(!r.body.contains("quartz@"), "nor is it shown back");
    // Any other search is sent on to the listing it stands for, which can be bookmarked.
    let r = admin.search(&s, &[("q", &zoe[..12].to_uppercase()), ("order", "oldest")]);
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        r.location(),
        format!("/app/contacts?q={}&order=oldest", &zoe[..12].to_uppercase())
    );
    let r = admin.get(&s, &format!("/app/contacts?q={zoe}"));
    assert_eq!(rows_of(&r.body), vec![zoe.clone()]);
    let r = admin.get(
        &s,
        &format!("/app/contacts?q={}", &zoe[..12].to_uppercase()),
    );
    assert_eq!(rows_of(&r.body), vec![zoe.clone()]);
    let r = admin.get(&s, "/app/contacts?q=neither");
    assert_eq!(r.status, 400);
    assert!(r.body.contains("id=\"search-error\""));
    // Bad filters are refused with a page.
    for bad in [
        "status=granted",
        "purpose=x&status=maybe",
        "per=7",
        "after=nope",
    ] {
        let r = admin.get(&s, &format!("/app/contacts?{bad}"));
        assert_eq!(r.status, 400, "{bad}");
    }

    // Import: a file with bad lines writes nothing and lists them by number.
    let r = admin.get(&s, "/app/contacts/import");
    assert_eq!(r.status, 200);
    assert!(r.body.contains("id=\"import-form\""));
    assert!(r.body.contains("id=\"import-example\""));
    let csrf = csrf_of(&r.body);
    let example = admin.get(&s, "/app/contacts/import/example.csv");
    assert_eq!(example.status, 200);
    assert!(example.body.starts_with("email,"));
    let bad = "email,name,category\r\n\
               good.one@example.net,Goodname One,\r\n\
               secretvalue-without-at,Badname,\r\n\
               good.two@example.net,Goodname Two,martian\r\n\
               good.three@example.net,Goodname Three,\r\n";
    let before = api_contacts(&s, &key).len();
    let r = admin.multipart(
        &s,
        "/app/contacts/import",
        &[("csrf", &csrf)],
        Some(("file", bad.as_bytes())),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("id=\"import-errors\""));
    assert!(r.body.contains("id=\"import-refused\""));
    assert!(
        r.body.contains("<td>3</td>") && r.body.contains("<td>4</td>"),
        "{}",
        r.body
    );
    assert!(!r.body.contains("<td>2</td>") && !r.body.contains("<td>5</td>"));
    assert!(!r.body.contains("id=\"import-confirm\""));
    for value in ["secretvalue", "martian", "Badname", "good.one"] {
        assert!(!r.body.contains(value), "{value} echoed back");
    }
    // Posting the bad file straight to the confirmation writes nothing either.
    let encoded = base64::engine::general_purpose::STANDARD.encode(bad);
    let r = admin.multipart(
        &s,
        "/app/contacts/import/confirm",
        &[("csrf", &csrf), ("csv", &encoded)],
        None,
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(api_contacts(&s, &key).len(), before);
    // No file chosen.
    let r = admin.multipart(&s, "/app/contacts/import", &[("csrf", &csrf)], None);
    assert_eq!(r.status, 400);

    // A good file: preview (new and existing), confirm, stored.
    let file = good_file(30, "ZOE.QUARTZ@example.org");
    let r = admin.multipart(
        &s,
        "/app/contacts/import",
        &[("csrf", &csrf)],
        Some(("file", file.as_bytes())),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("30 new contacts"), "{}", r.body);
    assert!(r.body.contains("id=\"import-existing\""));
    assert!(r.body.contains(&format!("href=\"/app/contacts/{zoe}\"")));
    assert!(r.body.contains("id=\"import-confirm\""));
    assert_eq!(api_contacts(&s, &key).len(), 1, "a preview writes nothing");
    let carried = hidden(&r.body, "csv");
    let r = admin.multipart(
        &s,
        "/app/contacts/import/confirm",
        &[("csrf", &csrf), ("csv", &carried)],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("id=\"import-outcome\""));
    assert!(r.body.contains("30 contacts created"), "{}", r.body);
    assert!(r.body.contains("id=\"back-to-book\""));
    let all = api_contacts(&s, &key);
    assert_eq!(all.len(), 31);
    assert!(
        all.iter()
            .any(|c| c["attributes"] == json!({"region": "west"}))
    );

    // Pages: 31 contacts, 25 a page, newest first.
    let r = admin.get(&s, "/app/contacts?per=25");
    assert_eq!(r.status, 200);
    assert!(r.body.contains("31 contacts match."));
    let first = rows_of(&r.body);
    assert_eq!(first.len(), 25);
    assert!(!r.body.contains("id=\"page-previous\""));
    let next = href_of(&r.body, "page-next").expect("a next page");
    let r = admin.get(&s, &next);
    let second = rows_of(&r.body);
    assert_eq!(second.len(), 6);
    assert_eq!(second.last(), Some(&zoe), "the oldest comes last");
    assert!(!r.body.contains("id=\"page-next\""));
    assert!(first.iter().all(|id| !second.contains(id)));
    let both: Vec<String> = first.iter().chain(&second).cloned().collect();
    let sorted = {
        let mut v = both.clone();
        v.sort();
        v.reverse();
        v
    };
    assert_eq!(both, sorted, "newest first");
    let prev = href_of(&r.body, "page-previous").expect("a previous page");
    let r = admin.get(&s, &prev);
    assert_eq!(rows_of(&r.body), first);
    let r = admin.get(&s, "/app/contacts?order=oldest&per=25");
    assert_eq!(rows_of(&r.body).first(), Some(&zoe));

    // Consent filters, with live badges and the bulk request links.
    let r = post(
        &s.url(&format!("/v1/contacts/{zoe}/consents")),
        Some(&key),
        &json!({"purpose": "newsletter", "decision": "granted"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let r = admin.get(&s, "/app/contacts?purpose=newsletter&status=granted");
    assert_eq!(rows_of(&r.body), vec![zoe.clone()]);
    assert!(r.body.contains("1 contact matches."));
    assert!(r.body.contains(&format!(
        "data-contact=\"{zoe}\" data-purpose=\"newsletter\""
    )));
    assert_eq!(
        href_of(&r.body, "bulk-filter").as_deref(),
        Some("/app/requests/new?purpose=newsletter&status=granted")
    );
    assert!(r.body.contains("id=\"bulk-form\""));
    assert!(r.body.contains("id=\"bulk-selected\""));
    assert!(r.body.contains("data-select-all=\"contact\""));
    let r = admin.get(&s, "/app/contacts?purpose=newsletter&status=none&per=100");
    assert!(r.body.contains("30 contacts match."));
    assert!(!rows_of(&r.body).contains(&zoe));
    let r = admin.search(
        &s,
        &[
            ("q", "zoe.quartz@example.org"),
            ("purpose", "newsletter"),
            ("status", "refused"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(rows_of(&r.body).is_empty());
    assert_no_address_in_urls(&r.body);

    // Edit: attributes and category in place, the name as a logged amendment.
    let r = admin.get(&s, &format!("/app/contacts/{zoe}/edit"));
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("id=\"edit-form\""));
    assert!(r.body.contains("region=north"));
    assert!(!r.body.contains("Quartzfield"), "identity is never shown");
    let csrf = csrf_of(&r.body);
    let r = admin.form(
        &s,
        &format!("/app/contacts/{zoe}/edit"),
        &[
            ("csrf", &csrf),
            ("category", "professional"),
            ("attributes", "region=south\r\ntier=gold"),
            ("name", "Zoelle Newhartley"),
            ("address", ""),
            ("phone", ""),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let v = get(&s.url(&format!("/v1/contacts/{zoe}")), Some(&key)).json();
    assert_eq!(v["category"], "professional");
    assert_eq!(v["attributes"], json!({"region": "south", "tier": "gold"}));
    let events = get(&s.url(&format!("/v1/contacts/{zoe}/events")), Some(&key)).json();
    let amended: Vec<&Value> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "data.amended")
        .collect();
    assert_eq!(amended.len(), 1, "{events}");
    assert!(amended[0]["actor"].as_str().unwrap().starts_with("usr_"));
    assert_eq!(amended[0]["fields"], json!(["name"]));
    let r = post(
        &s.url(&format!("/v1/contacts/{zoe}/reveal")),
        Some(&key),
        &json!({"purpose": "newsletter", "fields": ["name", "address", "phone"]}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let f = &r.json()["fields"];
    assert_eq!(f["name"], "Zoelle Newhartley");
    assert_eq!(f["address"], "7 Quaybridge Lane\nOxbury", "left unchanged");
    assert_eq!(f["phone"], "+44 20 7946 0958");
    let amendments = |key: &str| {
        get(&s.url(&format!("/v1/contacts/{zoe}/events")), Some(key)).json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == "data.amended")
            .count()
    };
    // Attributes only: no new amendment.
    let r = admin.form(
        &s,
        &format!("/app/contacts/{zoe}/edit"),
        &[
            ("csrf", &csrf),
            ("category", "professional"),
            ("attributes", "region=east"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(amendments(&key), 1);
    // Bad edits change nothing.
    let r = admin.form(
        &s,
        &format!("/app/contacts/{zoe}/edit"),
        &[
            ("csrf", &csrf),
            ("category", "private"),
            ("attributes", "nope"),
        ],
    );
    assert_eq!(r.status, 400);
    assert!(r.body.contains("id=\"edit-error\""));
    let v = get(&s.url(&format!("/v1/contacts/{zoe}")), Some(&key)).json();
    assert_eq!(
        (v["category"].clone(), v["attributes"].clone()),
        (json!("professional"), json!({"region": "east"}))
    );
    assert_eq!(admin.get(&s, "/app/contacts/sub_unknown/edit").status, 404);

    // Export: the API's CSV, as an attachment.
    let r = admin.get(&s, "/app/contacts/export");
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/csv"));
    assert!(
        r.header("content-disposition")
            .unwrap()
            .starts_with("attachment")
    );
    let api = get(&s.url("/v1/contacts/export"), Some(&key));
    assert_eq!(r.body, api.text());
    assert_eq!(r.body.lines().count(), 32);
    assert!(r.body.contains(&zoe) && !r.body.contains('@'));

    // CSRF: a POST without the token, or with another, is refused and changes nothing.
    let wrong = "0".repeat(64);
    for pairs in [
        vec![("email", "csrf.less@example.org")],
        vec![
            ("csrf", wrong.as_str()),
            ("email", "csrf.wrong@example.org"),
        ],
    ] {
        let r = admin.form(&s, "/app/contacts", &pairs);
        assert_eq!(r.status, 403, "{}", r.body);
    }
    let r = admin.form(
        &s,
        &format!("/app/contacts/{zoe}/edit"),
        &[("category", "private"), ("attributes", "")],
    );
    assert_eq!(r.status, 403);
    let r = admin.multipart(
        &s,
        "/app/contacts/import/confirm",
        &[("csrf", &"1".repeat(64)), ("csv", &carried)],
        None,
    );
    assert_eq!(r.status, 403);
    assert_eq!(api_contacts(&s, &key).len(), 31);
    assert_eq!(
        get(&s.url(&format!("/v1/contacts/{zoe}")), Some(&key)).json()["category"],
        "professional"
    );

    // An auditor reads and downloads, and sees no write buttons; every write is 403.
    let mut auditor = Browser::new();
    auditor.sign_in(&s, "reader@acme.example");
    let r = auditor.get(&s, "/app/contacts?purpose=newsletter&status=granted");
    assert_eq!(r.status, 200);
    assert!(r.body.contains(&zoe));
    for id in [
        "bulk-form",
        "bulk-selected",
        "bulk-filter",
        "add-contact",
        "import-link",
    ] {
        assert!(
            !r.body.contains(&format!("id=\"{id}\"")),
            "{id} shown to an auditor"
        );
    }
    assert!(!r.body.contains("data-select-all"));
    assert!(r.body.contains("id=\"export-csv\""));
    assert_eq!(auditor.get(&s, "/app/contacts/export").status, 200);
    let csrf = csrf_of(&r.body);
    assert_eq!(auditor.get(&s, "/app/contacts/new").status, 403);
    assert_eq!(auditor.get(&s, "/app/contacts/import").status, 403);
    assert_eq!(
        auditor.get(&s, &format!("/app/contacts/{zoe}/edit")).status,
        403
    );
    let r = auditor.form(
        &s,
        "/app/contacts",
        &[("csrf", &csrf), ("email", "auditor.try@example.org")],
    );
    assert_eq!(r.status, 403);
    let r = auditor.form(
        &s,
        &format!("/app/contacts/{zoe}/edit"),
        &[("csrf", &csrf), ("category", "private"), ("attributes", "")],
    );
    assert_eq!(r.status, 403);
    let r = auditor.multipart(
        &s,
        "/app/contacts/import",
        &[("csrf", &csrf)],
        Some((
            "file",
            good_file(2, "auditor.import@example.org").as_bytes(),
        )),
    );
    assert_eq!(r.status, 403);
    let r = auditor.multipart(
        &s,
        "/app/contacts/import/confirm",
        &[("csrf", &csrf), ("csv", &carried)],
        None,
    );
    assert_eq!(r.status, 403);
    assert_eq!(api_contacts(&s, &key).len(), 31);

    // An erased contact cannot be edited.
    let victim = second[0].clone();
    let r = post(
        &s.url(&format!("/v1/contacts/{victim}/erase")),
        Some(&key),
        &json!({}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = admin.get(&s, &format!("/app/contacts/{victim}/edit"));
    assert_eq!(r.status, 410);
    assert!(r.body.contains("id=\"erased-notice\""));
    let csrf = csrf_of(&admin.get(&s, "/app/contacts/new").body);
    let r = admin.form(
        &s,
        &format!("/app/contacts/{victim}/edit"),
        &[
            ("csrf", &csrf),
            ("category", "private"),
            ("attributes", "a=b"),
            ("name", "Revived Name"),
        ],
    );
    assert_eq!(r.status, 410);
    let v = get(&s.url(&format!("/v1/contacts/{victim}")), Some(&key)).json();
    assert_eq!(v["erased"], true);
    assert_eq!(v["attributes"], json!({}));

    // Other tenants' contacts do not exist here.
    let (_other, other_key) = env.tenant("Other");
    let r = post(
        &s.url("/v1/contacts"),
        Some(&other_key),
        &json!({"email": "foreign@example.org"}),
    );
    assert_eq!(r.status, 201);
    let foreign = r.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(
        admin
            .get(&s, &format!("/app/contacts/{foreign}/edit"))
            .status,
        404
    );
    let r = admin.search(&s, &[("q", "foreign@example.org")]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(rows_of(&r.body).is_empty());

    // A file larger than the service's default body limit (64 KiB), and its base64
    // form on the confirmation: the import routes have limits of their own.
    let mut big = String::from("email,name,attr.batch\r\n");
    for i in 0..2000 {
        big.push_str(&format!(
            "bulk.person{i}@example.net,Bulkname{i} Larchmont,b7\r\n"
        ));
    }
    assert!(big.len() > 64 * 1024);
    let r = admin.multipart(
        &s,
        "/app/contacts/import",
        &[("csrf", &csrf)],
        Some(("file", big.as_bytes())),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("2000 new contacts"), "{}", r.body);
    let carried = hidden(&r.body, "csv");
    let r = admin.multipart(
        &s,
        "/app/contacts/import/confirm",
        &[("csrf", &csrf), ("csv", &carried)],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("2000 contacts created"), "{}", r.body);
    let r = admin.get(&s, "/app/contacts?per=200");
    assert!(r.body.contains("2,031 contacts match."), "{}", r.body);
    assert_eq!(rows_of(&r.body).len(), 200);

    // A French Excel file (semicolons, Windows-1252, French headers and values), on the
    // page in French: a bad value is said in French, naming the column, not the value;
    // the good file is previewed and stored.
    let before_fr = api_contacts(&s, &key).len();
    let mut fr = Browser {
        cookie: Some(format!(
            "{}; consentry_lang=fr",
            admin.cookie.clone().unwrap()
        )),
    };
    let bad_fr = crate::csv::windows_1252(
        "nom;courriel;cat\u{e9}gorie\r\nDurand;h.durand@example.org;client fid\u{e8}le\r\n",
    );
    let r = fr.multipart(
        &s,
        "/app/contacts/import",
        &[("csrf", &csrf)],
        Some(("file", bad_fr.as_slice())),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body
            .contains("Catégorie : particulier, professionnel ou non précisé"),
        "{}",
        r.body
    );
    assert!(!r.body.contains("fid") && !r.body.contains("Durand"));
    let good_fr = crate::csv::windows_1252(
        "Nom;Pr\u{e9}nom;Courriel;T\u{e9}l\u{e9}phone;Cat\u{e9}gorie\r\n\
         Durand;H\u{e9}l\u{e8}ne;helene.durand@example.org;01 23 45 67 89;particulier\r\n\
         Martin;Paul;paul.martin@example.net;;professionnel\r\n",
    );
    let r = fr.multipart(
        &s,
        "/app/contacts/import",
        &[("csrf", &csrf)],
        Some(("file", good_fr.as_slice())),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("id=\"import-confirm\""), "{}", r.body);
    let carried = hidden(&r.body, "csv");
    let r = fr.multipart(
        &s,
        "/app/contacts/import/confirm",
        &[("csrf", &csrf), ("csv", &carried)],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("2 contacts créés"), "{}", r.body);
    assert_eq!(api_contacts(&s, &key).len(), before_fr + 2);

    // The database holds none of the personal data typed in.
    drop(s);
    let raw = env.raw_database();
    let hay = String::from_utf8_lossy(&raw).to_lowercase();
    for needle in [
        "zoe.quartz",
        "quartzfield",
        "newhartley",
        "quaybridge",
        "7946 0958",
        "imported.person",
        "importeename",
        "plumtree",
        "revived name",
        "bulk.person",
        "larchmont",
        "helene.durand",
        "paul.martin",
    ] {
        assert!(!hay.contains(needle), "{needle} found in the raw database");
    }
}

#[test]
fn the_address_book_on_sqlite() {
    walk(Db::Sqlite);
}

#[test]
fn the_address_book_on_postgresql() {
    walk(Db::Postgres);
}
