//! CSV import and export of contacts (docs/csv.md), over HTTP and on the command line.

use crate::service::{add_contact, consent};
use crate::util::{BIN, Db, Env, Server, get, post, post_raw};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::process::Command;

/// Line 3 is bad; line 5 is an address the book already has.
const BAD: &str = "email,name,address,category,attr.region\r\n\
ann@example.org,Ann Martin,\"12 rue de la Paix, Paris\",private,north\r\n\
not-an-address,Bob Secretname,,,\r\n\
cy@example.org,\"Cy, \"\"Junior\"\"\",,professional,south\r\n\
Old@Example.org,Olga Oldname,,,\r\n";

/// The same file with line 3 fixed.
fn good() -> String {
    BAD.replace("not-an-address", "bob@example.org")
}

const IDENTITY: [&str; 10] = [
    "@",
    "example.org",
    "Ann",
    "Martin",
    "rue de la Paix",
    "Bob",
    "Secretname",
    "Junior",
    "Olga",
    "Oldname",
];

fn contact_ids(s: &Server, key: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/contacts?limit=500&cursor={c}"),
            None => "/v1/contacts?limit=500".into(),
        };
        let page = get(&s.url(&path), Some(key));
        assert_eq!(page.status, 200, "{}", page.text());
        let page = page.json();
        for item in page["items"].as_array().unwrap() {
            ids.insert(item["id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return ids,
        }
    }
}

fn import(s: &Server, key: &str, query: &str, body: &str) -> crate::util::Res {
    post_raw(
        &s.url(&format!("/v1/contacts/import{query}")),
        Some(key),
        "text/csv; charset=utf-8",
        body.as_bytes(),
    )
}

/// Splits an export into its header and rows (no quoted line breaks in these tests).
fn parse_export(body: &str) -> (Vec<String>, Vec<Vec<String>>) {
    assert!(body.ends_with("\r\n"), "rows end with CRLF");
    let mut lines = body.split("\r\n").filter(|l| !l.is_empty());
    let header = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect();
    let rows = lines
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect();
    (header, rows)
}

fn http_import_and_export(db: Db) {
    let env = Env::new(db);
    let (_tenant, key) = env.tenant("ACME SAS");
    let s = env.start();
    let old = add_contact(&s, &key, "old@example.org");
    let before = contact_ids(&s, &key);
    assert_eq!(before.len(), 1);

    // One bad line: 422 listing exactly that line, without its value; nothing written.
    let r = import(&s, &key, "", BAD);
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.content_type, "application/problem+json");
    let p = r.json();
    assert_eq!(p["type"], "urn:consentry:problem:invalid-csv");
    let errors = p["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{p}");
    assert_eq!(errors[0]["line"], 3);
    assert!(
        errors[0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("unusable e-mail address"),
        "{p}"
    );
    for value in ["not-an-address", "Bob", "Secretname"] {
        assert!(!r.text().contains(value), "{value} in {}", r.text());
    }
    assert_eq!(contact_ids(&s, &key), before, "nothing was written");

    // A dry run of the fixed file stores nothing but says what would happen.
    let r = import(&s, &key, "?dry_run=true", &good());
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["created"], 3);
    assert_eq!(v["existing"], json!([{"line": 5, "id": old}]));
    assert_eq!(v["errors"], json!([]));
    assert_eq!(v["dry_run"], true);
    assert_eq!(contact_ids(&s, &key), before);

    // The fixed file: three created, the known address reported as existing.
    let r = import(&s, &key, "", &good());
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["created"], 3, "{v}");
    assert_eq!(v["existing"], json!([{"line": 5, "id": old}]));
    assert_eq!(v["errors"], json!([]));
    let after = contact_ids(&s, &key);
    assert_eq!(after.len(), 4);

    // Imported contacts are stored as the API stores them.
    let imported: Vec<Value> = after
        .iter()
        .filter(|id| **id != old)
        .map(|id| get(&s.url(&format!("/v1/contacts/{id}")), Some(&key)).json())
        .collect();
    let mut regions: Vec<&str> = imported
        .iter()
        .filter_map(|c| c["attributes"]["region"].as_str())
        .collect();
    regions.sort_unstable();
    assert_eq!(regions, ["north", "south"]);
    let professional = imported
        .iter()
        .find(|c| c["category"] == "professional")
        .unwrap();
    assert_eq!(professional["attributes"], json!({"region": "south"}));

    // Importing it again creates nothing: every line is existing, with its pseudonym.
    let r = import(&s, &key, "", &good());
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["created"], 0);
    let existing = v["existing"].as_array().unwrap();
    assert_eq!(
        existing
            .iter()
            .map(|e| e["line"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [2, 3, 4, 5]
    );
    let ids: BTreeSet<String> = existing
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, after);
    assert_eq!(contact_ids(&s, &key), after);

    // Consent recorded on two contacts shows in the export, one column per purpose.
    let ann = imported
        .iter()
        .find(|c| c["category"] == "private")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    consent(&s, &key, &ann, "newsletter", "granted");
    consent(&s, &key, &old, "partners", "refused");
    let r = get(&s.url("/v1/contacts/export"), Some(&key));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.content_type.starts_with("text/csv"), "{}", r.content_type);
    let body = r.text();
    for value in IDENTITY {
        assert!(!body.contains(value), "{value:?} in the export:\n{body}");
    }
    let (header, rows) = parse_export(&body);
    assert_eq!(
        header,
        [
            "id",
            "category",
            "created_at",
            "erased",
            "attr.region",
            "consent.newsletter",
            "consent.partners"
        ]
    );
    assert_eq!(rows.len(), 4);
    let ids: BTreeSet<String> = rows.iter().map(|r| r[0].clone()).collect();
    assert_eq!(ids, after);
    let row = |id: &str| rows.iter().find(|r| r[0] == id).unwrap().clone();
    let a = row(&ann);
    assert_eq!(a[1], "private");
    assert!(a[2].ends_with('Z') && a[2].contains('T'), "{}", a[2]);
    assert_eq!(a[3], "false");
    assert_eq!(a[4], "north");
    assert_eq!(a[5], "granted");
    assert_eq!(a[6], "");
    let o = row(&old);
    assert_eq!((o[1].as_str(), o[4].as_str()), ("private", ""));
    assert_eq!((o[5].as_str(), o[6].as_str()), ("", "refused"));

    // Wrong content type, no key.
    let r = post_raw(
        &s.url("/v1/contacts/import"),
        Some(&key),
        "application/json",
        b"{}",
    );
    assert_eq!(r.status, 415, "{}", r.text());
    assert_eq!(
        post_raw(
            &s.url("/v1/contacts/import"),
            None,
            "text/csv",
            good().as_bytes()
        )
        .status,
        401
    );
    assert_eq!(get(&s.url("/v1/contacts/export"), None).status, 401);
}

#[test]
fn sqlite_csv_import_is_all_or_nothing_and_export_is_pseudonymous() {
    http_import_and_export(Db::Sqlite);
}

#[test]
fn postgres_csv_import_is_all_or_nothing_and_export_is_pseudonymous() {
    http_import_and_export(Db::Postgres);
}

/// The import route takes bodies far over the service's default limit, and only it does;
/// exports of more than one page hold every contact once.
fn large_files(db: Db) {
    let env = Env::new(db);
    let (_tenant, key) = env.tenant("ACME SAS");
    let s = env.start();
    let n = 1200;
    let mut csv = String::from("\u{feff}email,attr.note\n");
    for i in 0..n {
        csv.push_str(&format!("person{i}@example.org,{}\n", "x".repeat(60)));
    }
    assert!(csv.len() > 64 * 1024, "over the default body limit");
    let r = import(&s, &key, "", &csv);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["created"], n);

    // Elsewhere the default limit stands.
    let big = json!({"email": "z@example.org", "name": "y".repeat(100 * 1024)});
    assert_eq!(post(&s.url("/v1/contacts"), Some(&key), &big).status, 413);

    // Over 20 MiB: refused as too large.
    let huge = format!("email\n{}", "a".repeat(20 * 1024 * 1024 + 1));
    let r = import(&s, &key, "", &huge);
    assert_eq!(r.status, 413, "{}", r.text());
    assert_eq!(r.content_type, "application/problem+json");

    let r = get(&s.url("/v1/contacts/export"), Some(&key));
    assert_eq!(r.status, 200);
    let (header, rows) = parse_export(&r.text());
    assert_eq!(
        header,
        ["id", "category", "created_at", "erased", "attr.note"]
    );
    assert_eq!(rows.len(), n);
    let ids: BTreeSet<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(ids.len(), n, "every contact once");
    let mut sorted: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        rows.iter().map(|r| r[0].as_str()).collect::<Vec<_>>(),
        "in pseudonym order"
    );
}

#[test]
fn sqlite_csv_import_takes_large_files_and_export_pages() {
    large_files(Db::Sqlite);
}

#[test]
fn postgres_csv_import_takes_large_files_and_export_pages() {
    large_files(Db::Postgres);
}

fn cli(env: &Env, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .args(env.db_args())
        .env_remove("CONSENTRY_MASTER_KEY")
        .output()
        .unwrap()
}

fn cli_import_and_export(db: Db) {
    let env = Env::new(db);
    let (tenant, key) = env.tenant("ACME SAS");
    // The service has run once on this data dir (its keys exist) and runs beside the CLI.
    let s = env.start();
    let bad = env.dir.path().join("bad.csv");
    let good_file = env.dir.path().join("good.csv");
    std::fs::write(&bad, BAD).unwrap();
    std::fs::write(&good_file, good()).unwrap();
    let bad = bad.to_str().unwrap();
    let good_file = good_file.to_str().unwrap();

    // A bad line: exit 1, that line reported without its value, nothing written.
    let out = cli(&env, &["contacts", "import", bad, "--tenant", &tenant]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("line 3: unusable e-mail address"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("line 2") && !stderr.contains("line 4"),
        "{stderr}"
    );
    assert!(!stderr.contains("not-an-address") && !stderr.contains("Bob"));
    assert!(contact_ids(&s, &key).is_empty());

    // A dry run of the good file writes nothing either.
    let out = cli(
        &env,
        &[
            "contacts",
            "import",
            good_file,
            "--tenant",
            &tenant,
            "--dry-run",
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["created"], 4);
    assert!(contact_ids(&s, &key).is_empty());

    // The good file imports; the running service sees the contacts.
    let out = cli(
        &env,
        &["contacts", "import", good_file, "--tenant", &tenant],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("4 contacts created, 0 already in the book"),
        "{stdout}"
    );
    let ids = contact_ids(&s, &key);
    assert_eq!(ids.len(), 4);

    // Sealed under the service's keys: the service can unwrap them to record a consent.
    let first = ids.iter().next().unwrap().clone();
    consent(&s, &key, &first, "newsletter", "granted");

    // Again: all existing.
    let out = cli(
        &env,
        &[
            "contacts", "import", good_file, "--tenant", &tenant, "--json",
        ],
    );
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["created"], 0);
    assert_eq!(v["existing"].as_array().unwrap().len(), 4);

    // Export to a file: the rows and the consent column, no identity.
    let file = env.dir.path().join("export.csv");
    let out = cli(
        &env,
        &[
            "contacts",
            "export",
            "--tenant",
            &tenant,
            file.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body = std::fs::read_to_string(&file).unwrap();
    for value in IDENTITY {
        assert!(!body.contains(value), "{value:?} in the export:\n{body}");
    }
    let (header, rows) = parse_export(&body);
    assert_eq!(header.last().unwrap(), "consent.newsletter");
    assert_eq!(rows.len(), 4);
    assert_eq!(
        rows.iter().find(|r| r[0] == first).unwrap().last().unwrap(),
        "granted"
    );

    // An unknown tenant, and a data dir without the service's keys, are refused.
    let out = cli(
        &env,
        &["contacts", "import", good_file, "--tenant", "ten_nosuch"],
    );
    assert_eq!(out.status.code(), Some(1));
    if db == Db::Postgres {
        let other = env.dir.path().join("other-data");
        let out = Command::new(BIN)
            .args(["contacts", "import", good_file, "--tenant", &tenant])
            .arg("--data-dir")
            .arg(&other)
            .args(["--database-url", &env.url])
            .env_remove("CONSENTRY_MASTER_KEY")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("--data-dir"), "{stderr}");
        assert!(!other.join("master.key").exists(), "no stray key is made");
    }
}

#[test]
fn sqlite_cli_csv_import_exits_1_on_a_bad_line_and_imports_a_good_file() {
    cli_import_and_export(Db::Sqlite);
}

#[test]
fn postgres_cli_csv_import_exits_1_on_a_bad_line_and_imports_a_good_file() {
    cli_import_and_export(Db::Postgres);
}

/// `text` as Windows-1252 bytes (what Excel writes on a French Windows): the test texts
/// hold ASCII and Latin-1 letters only, which are one byte each, the same code point.
pub(crate) fn windows_1252(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| {
            let u = u32::from(c);
            assert!(u < 0x80 || (0xa0..=0xff).contains(&u), "{c:?}");
            u as u8
        })
        .collect()
}

/// A spreadsheet as a French office has it: semicolons, Windows-1252, French headers
/// and values, a first name apart. Imported over the API, the names come back from the
/// vault as typed (a reveal for a purpose granted).
#[test]
fn a_french_excel_file_imports_over_the_api() {
    let env = Env::new(Db::Sqlite);
    let (_tenant, key) = env.tenant("Cabinet Durand");
    let s = env.start();
    let file = windows_1252(
        "Nom;Pr\u{e9}nom;Courriel;T\u{e9}l\u{e9}phone;Cat\u{e9}gorie\r\n\
         Durand;H\u{e9}l\u{e8}ne;helene.durand@example.org;01 23 45 67 89;particulier\r\n\
         Soci\u{e9}t\u{e9} G\u{e9}n\u{e9}rale;;contact@example.com;;professionnel\r\n",
    );
    assert!(std::str::from_utf8(&file).is_err(), "not UTF-8");
    let r = post_raw(&s.url("/v1/contacts/import"), Some(&key), "text/csv", &file);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["created"], 2, "{}", r.text());
    let mut names = Vec::new();
    for id in contact_ids(&s, &key) {
        consent(&s, &key, &id, "billing", "granted");
        let r = post(
            &s.url(&format!("/v1/contacts/{id}/reveal")),
            Some(&key),
            &json!({"purpose": "billing", "fields": ["name", "email", "phone"]}),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        names.push(r.json()["fields"].clone());
    }
    names.sort_by_key(|v| v["email"].as_str().unwrap().to_owned());
    assert_eq!(
        names,
        [
            json!({"email": "contact@example.com", "name": "Soci\u{e9}t\u{e9} G\u{e9}n\u{e9}rale", "phone": null}),
            json!({"email": "helene.durand@example.org", "name": "H\u{e9}l\u{e8}ne Durand", "phone": "01 23 45 67 89"}),
        ]
    );
    let contacts = get(&s.url("/v1/contacts?limit=10"), Some(&key)).json();
    let mut categories: Vec<&str> = contacts["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["category"].as_str().unwrap())
        .collect();
    categories.sort();
    assert_eq!(categories, ["private", "professional"]);
}
