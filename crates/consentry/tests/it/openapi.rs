//! The OpenAPI 3.1 document at `/openapi.json`: well-formed, valid against the official
//! OpenAPI 3.1 schema, describing exactly the routes of the router (its route table, the
//! one definition the router is built from, so that a route added without documentation
//! fails here), with the security the handlers really enforce, and with schemas that real
//! responses match.

use crate::util::{Db, Env, Res, Server, get, post, post_raw};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// The HTTP methods an OpenAPI path item can hold, in its spelling.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Public routes: no API key. Every other route needs one.
fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/" | "/healthz"
            | "/favicon.ico"
            | "/favicon.svg"
            | "/metrics"
            | "/.well-known/consentry.json"
            | "/openapi.json"
            | "/verify"
            | "/checkpoint"
    ) || path.starts_with("/v1/log/")
        || path.starts_with("/tile/")
        || path.starts_with("/c/")
        || path.starts_with("/verify/")
}

/// The portal's pages and forms: public, or behind the portal's session cookie (never an
/// API key). Their errors are HTML pages for the people who see them.
fn is_portal(path: &str) -> bool {
    path == "/portal" || path.starts_with("/portal/")
}

/// The staff web application's pages and forms: public (sign-in, language, assets) or
/// behind the staff session cookie (never an API key). Its errors are HTML pages too.
fn is_webapp(path: &str) -> bool {
    path == "/app" || path.starts_with("/app/")
}

/// `/app/login?next=` of a path, as the sign-in redirect writes it.
fn sign_in_to(path: &str) -> String {
    let mut out = String::from("/app/login?next=");
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The routes the real router serves, from the table it is built from.
fn router_routes() -> BTreeSet<(String, String)> {
    consentry_server::service::routes()
        .table()
        .iter()
        .map(|(m, p)| {
            (
                m.as_str().to_owned(),
                consentry_server::service::openapi::openapi_path(p),
            )
        })
        .collect()
}

/// Every `(METHOD, path)` the document describes.
fn documented_routes(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in METHODS {
            if item.get(m).is_some() {
                out.insert((m.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// HTTP helpers for the methods util.rs does not have.

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// Any method, with an optional key and an optional body (sent as `content_type`).
fn call(method: &str, url: &str, key: Option<&str>, body: Option<(&str, &[u8])>) -> Res {
    let auth = key.map(|k| format!("Bearer {k}"));
    let mut builder = ureq::http::Request::builder().method(method).uri(url);
    if let Some(a) = &auth {
        builder = builder.header("Authorization", a);
    }
    if let Some((ct, _)) = body {
        builder = builder.header("Content-Type", ct);
    }
    let sent = match body {
        Some((_, b)) => agent().run(builder.body(b.to_vec()).unwrap()),
        None => agent().run(builder.body(()).unwrap()),
    };
    let mut r = sent.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let content_type = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = r.body_mut().read_to_vec().unwrap();
    Res {
        status: r.status().as_u16(),
        content_type,
        body,
    }
}

fn served_document(s: &Server) -> Value {
    let r = get(&s.url("/openapi.json"), None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.content_type, "application/json");
    r.json()
}

fn python() -> String {
    std::env::var("CONSENTRY_TEST_PYTHON").unwrap_or_else(|_| {
        panic!(
            "CONSENTRY_TEST_PYTHON is not set: it must name a Python with the packages of \
             tests/independent/requirements.txt (openapi-spec-validator, jsonschema); \
             scripts/test builds that venv and sets it"
        )
    })
}

// ---------------------------------------------------------------------------------------
// 1 and 2: the document's structure, and the routes both ways.

#[test]
fn the_document_is_openapi_3_1_and_every_operation_is_complete() {
    let env = Env::new(Db::Sqlite);
    let s = env.start();
    let doc = served_document(&s);
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    // The served document is the file in the repository (with the build's version).
    let mut file: Value = serde_json::from_str(&read(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../consentry-server/openapi.json"),
    ))
    .unwrap();
    file["info"]["version"] = doc["info"]["version"].clone();
    assert_eq!(doc, file);
    assert_eq!(
        doc["components"]["securitySchemes"]["bearerAuth"],
        json!({"type": "http", "scheme": "bearer", "description": doc["components"]["securitySchemes"]["bearerAuth"]["description"]})
    );
    let staff = &doc["components"]["securitySchemes"]["staffSession"];
    assert_eq!(
        staff,
        &json!({"type": "apiKey", "in": "cookie", "name": "consentry_staff", "description": staff["description"]})
    );
    assert!(staff["description"].is_string());

    let mut ids = BTreeSet::new();
    for (method, path) in documented_routes(&doc) {
        let op = &doc["paths"][&path][method.to_lowercase()];
        let where_ = format!("{method} {path}");
        let id = op["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{where_} has no operationId"));
        assert!(ids.insert(id.to_owned()), "operationId {id} is used twice");
        let responses = op["responses"]
            .as_object()
            .unwrap_or_else(|| panic!("{where_} has no responses"));
        assert!(!responses.is_empty(), "{where_} has no responses");
        // The portal's and the web application's forms answer POST/redirect/GET: a 303 is
        // their success.
        assert!(
            responses
                .keys()
                .any(|k| k.starts_with('2')
                    || ((is_portal(&path) || is_webapp(&path)) && k == "303")),
            "{where_} documents no success"
        );
        // Path parameters: each {name} of the template is documented.
        let params: Vec<Value> = op["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|p| resolve(&doc, &p).clone())
            .collect();
        for segment in path.split('/').filter(|s| s.starts_with('{')) {
            let name = segment.trim_matches(|c| c == '{' || c == '}');
            assert!(
                params
                    .iter()
                    .any(|p| p["in"] == "path" && p["name"] == name && p["required"] == true),
                "{where_}: path parameter {name} is not documented"
            );
        }
        // Security: public routes none, every other route the bearer key, with its 401.
        let security = &op["security"];
        if is_webapp(&path) {
            assert_eq!(op["tags"], json!(["web app"]), "{where_}: tagged web app");
            assert!(
                responses.get("401").is_none() || security == &json!([]),
                "{where_}: no API key, no 401 (only the sign-in form answers one)"
            );
            if security == &json!([{"staffSession": []}]) {
                assert!(
                    responses.contains_key("303"),
                    "{where_}: without a session it redirects to the sign-in page (303)"
                );
                if method == "POST" {
                    // A form refused for its role, its CSRF token or its origin.
                    assert!(responses.contains_key("403"), "{where_}: 403 undocumented");
                    let body = resolve(&doc, &op["requestBody"]);
                    let content = body["content"]
                        .as_object()
                        .unwrap_or_else(|| panic!("{where_}: a form without a documented body"));
                    for (ct, media) in content {
                        assert!(
                            ct == "application/x-www-form-urlencoded"
                                || ct == "multipart/form-data",
                            "{where_}: forms only, not {ct}"
                        );
                        let schema = resolve(&doc, &media["schema"]);
                        assert!(
                            schema["required"]
                                .as_array()
                                .is_some_and(|r| r.contains(&json!("csrf"))),
                            "{where_}: the form's csrf field is undocumented"
                        );
                    }
                }
            } else {
                assert_eq!(
                    security,
                    &json!([]),
                    "{where_}: the web application is public or behind its staff session"
                );
            }
        } else if is_portal(&path) {
            assert!(
                security == &json!([]) || security == &json!([{"portalSession": []}]),
                "{where_}: the portal is public or behind its session cookie"
            );
            assert!(
                responses.get("401").is_none(),
                "{where_}: no API key, no 401"
            );
        } else if is_public(&path) {
            assert_eq!(security, &json!([]), "{where_} is public");
            assert!(responses.get("401").is_none(), "{where_} is public: no 401");
        } else if path.starts_with("/v1/admin/") {
            assert_eq!(
                security,
                &json!([{"adminAuth": []}]),
                "{where_} needs the admin token"
            );
            assert!(responses.get("401").is_some(), "{where_}: 401 undocumented");
        } else {
            assert_eq!(
                security,
                &json!([{"bearerAuth": []}]),
                "{where_} needs the API key"
            );
            assert!(responses.get("401").is_some(), "{where_}: 401 undocumented");
        }
        // Errors are problem+json (the answer pages' own HTML pages aside).
        for (status, response) in responses {
            let response = resolve(&doc, response);
            assert!(
                response["description"].is_string(),
                "{where_} {status}: no description"
            );
            if status.starts_with('4') || status.starts_with('5') {
                let content = response["content"].as_object().unwrap();
                if is_webapp(&path) {
                    // HTML pages, or the framework's own plain text (an unreadable query
                    // string, a body over the service's limit).
                    assert!(
                        !content.is_empty()
                            && content
                                .keys()
                                .all(|ct| ct == "text/html" || ct == "text/plain"),
                        "{where_} {status}: the web application's errors are pages"
                    );
                } else {
                    assert!(
                        content.contains_key("application/problem+json")
                            || ((path.starts_with("/c/") || is_portal(&path))
                                && content.contains_key("text/html")),
                        "{where_} {status}: errors are application/problem+json"
                    );
                }
            }
        }
    }
}

/// Follows `$ref`s within the document.
fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v["$ref"].as_str() {
        Some(r) => resolve(
            doc,
            doc.pointer(r.strip_prefix('#').unwrap())
                .unwrap_or_else(|| panic!("unresolved $ref {r}")),
        ),
        None => v,
    }
}

#[test]
fn every_route_is_documented_and_nothing_else() {
    let routes = router_routes();
    let doc: Value =
        serde_json::from_slice(&consentry_server::service::openapi::bytes().unwrap()).unwrap();
    let documented = documented_routes(&doc);
    let undocumented: Vec<_> = routes.difference(&documented).collect();
    let phantom: Vec<_> = documented.difference(&routes).collect();
    assert!(
        undocumented.is_empty() && phantom.is_empty(),
        "the router (crates/consentry-server/src/routes/mod.rs) and its OpenAPI document \
         (crates/consentry-server/openapi.json) differ:\n  routed but not documented: \
         {undocumented:?}\n  documented but not routed: {phantom:?}"
    );
    assert!(routes.contains(&("GET".into(), "/openapi.json".into())));
}

/// What the handlers enforce matches the documented security: without a key, every
/// tenant operation is a 401 problem, and no public one is; without a session, every
/// portal operation behind it is refused and every web application operation behind the
/// staff session redirects to the sign-in page.
#[test]
fn documented_security_is_what_the_service_enforces() {
    let env = Env::new(Db::Sqlite);
    let s = env.start();
    let doc = served_document(&s);
    for (method, path) in documented_routes(&doc) {
        let concrete = path
            .replace("{id}", "sub_0000000000")
            .replace("{token}", &"ab".repeat(32))
            .replace("{code}", "en");
        if is_webapp(&path) {
            let op = &doc["paths"][&path][method.to_lowercase()];
            let form = (method == "POST").then_some("");
            let r = crate::portal::Client::default().call(&s, &method, &concrete, form);
            let location = r.header("location").unwrap_or("").to_owned();
            if op["security"] == json!([{"staffSession": []}]) {
                // No session: to the sign-in page, and back here after it for a GET.
                let want = if method == "GET" {
                    sign_in_to(&concrete)
                } else {
                    "/app/login".to_owned()
                };
                assert_eq!(
                    (r.status, location.as_str()),
                    (303, want.as_str()),
                    "{method} {path} needs a staff session: {}",
                    r.text()
                );
            } else {
                assert!(
                    r.status != 403 && !location.starts_with("/app/login?next="),
                    "{method} {path} is documented as public: {} {location}",
                    r.status
                );
            }
            continue;
        }
        let body = matches!(method.as_str(), "POST" | "PUT" | "PATCH")
            .then_some(("application/json", b"{}".as_slice()));
        let r = call(&method, &s.url(&concrete), None, body);
        if is_portal(&path) {
            let op = &doc["paths"][&path][method.to_lowercase()];
            if op["security"] == json!([{"portalSession": []}]) {
                // No session: the page sends to sign-in, everything else is refused.
                let form = (method == "POST").then_some("");
                let r = crate::portal::Client::default().call(&s, &method, &concrete, form);
                assert!(
                    matches!(r.status, 303 | 403),
                    "{method} {path} needs a portal session: {} {}",
                    r.status,
                    r.text()
                );
            } else {
                assert_ne!(r.status, 401, "{method} {path} is public");
            }
        } else if is_public(&path) {
            assert_ne!(r.status, 401, "{method} {path} is documented as public");
        } else {
            assert_eq!(
                r.status,
                401,
                "{method} {path} is documented as needing the API key: {}",
                r.text()
            );
            assert_eq!(r.content_type, "application/problem+json");
            assert_eq!(r.json()["type"], "urn:consentry:problem:unauthorized");
        }
    }
}

// ---------------------------------------------------------------------------------------
// 3: the official OpenAPI 3.1 schema.

#[test]
fn the_document_is_valid_against_the_openapi_3_1_schema() {
    let python = python();
    let env = Env::new(Db::Sqlite);
    let s = env.start();
    let r = get(&s.url("/openapi.json"), None);
    let file = env.dir.path().join("openapi.json");
    std::fs::write(&file, &r.body).unwrap();
    let out = Command::new(&python)
        .args(["-m", "openapi_spec_validator", "--schema", "3.1"])
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "openapi-spec-validator rejects the document:\n{text}"
    );
    assert!(text.contains("OK"), "{text}");
}

// ---------------------------------------------------------------------------------------
// 4: real requests and responses against the documented schemas.

/// Checks, with Python's jsonschema (Draft 2020-12, the dialect of OpenAPI 3.1), each
/// response against the schema documented for its operation, status and content type,
/// and each request body against the documented request schema.
const CHECK: &str = r##"
import json, sys
from urllib.parse import quote
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

doc = json.load(open(sys.argv[1], encoding="utf-8"))
cases = json.load(open(sys.argv[2], encoding="utf-8"))
BASE = "urn:consentry:openapi"
registry = Registry().with_resource(BASE, Resource.from_contents(doc, default_specification=DRAFT202012))

def esc(s):
    return s.replace("~", "~0").replace("/", "~1")

def at(ptr):
    node = doc
    for part in ptr.split("/")[1:]:
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node

def follow(ptr):
    node = at(ptr)
    while isinstance(node, dict) and "$ref" in node:
        ptr = node["$ref"][1:]
        node = at(ptr)
    return ptr, node

def errors(ptr, instance):
    v = Draft202012Validator({"$ref": BASE + "#" + quote(ptr, safe="/~+")}, registry=registry,
                             format_checker=Draft202012Validator.FORMAT_CHECKER)
    return ["%s: %s" % ("/".join(map(str, e.absolute_path)) or "(root)", e.message)
            for e in v.iter_errors(instance)]

failures = []
for c in cases:
    method, path = c["method"], c["path"]
    op = doc["paths"].get(path, {}).get(method)
    where = "%s %s" % (method.upper(), path)
    if op is None:
        failures.append(where + ": not documented")
        continue
    base = "/paths/%s/%s" % (esc(path), method)
    if c["kind"] == "request":
        rptr, body = follow(base + "/requestBody")
        ptr = "%s/content/%s/schema" % (rptr, esc(c["content_type"]))
        found = errors(ptr, c["body"])
        if c["valid"] and found:
            failures.append("%s request %s: %s" % (where, json.dumps(c["body"]), found))
        if not c["valid"] and not found:
            failures.append("%s request %s: the schema accepts a body the service refuses" % (where, json.dumps(c["body"])))
        continue
    where += " -> %s (%s)" % (c["status"], c["content_type"])
    if str(c["status"]) not in op["responses"]:
        failures.append("%s: status not documented (documented: %s)" % (where, sorted(op["responses"])))
        continue
    rptr, response = follow("%s/responses/%s" % (base, c["status"]))
    content = response.get("content", {})
    essence = c["content_type"].split(";")[0].strip().lower()
    if not content:
        if c["body"] not in ("", None):
            failures.append(where + ": a body, where none is documented")
        continue
    if essence not in content and "*/*" in content:
        essence = "*/*"
    if essence not in content:
        failures.append("%s: content type not documented (documented: %s)" % (where, sorted(content)))
        continue
    if essence == "application/x-ndjson":
        for n, line in enumerate(c["body"]):
            for e in errors("%s/content/%s/schema" % (rptr, esc(essence)), line):
                failures.append("%s line %d: %s" % (where, n + 1, e))
        continue
    for e in errors("%s/content/%s/schema" % (rptr, esc(essence)), c["body"]):
        failures.append("%s: %s" % (where, e))
for f in failures:
    print(f)
print("%d cases checked, %d mismatches" % (len(cases), len(failures)))
sys.exit(1 if failures else 0)
"##;

/// Requests and responses to check against the document.
#[derive(Default)]
struct Cases(Vec<Value>);

impl Cases {
    /// A response of `METHOD path-template`.
    fn response<'r>(&mut self, method: &str, template: &str, r: &'r Res) -> &'r Res {
        let essence = r.content_type.split(';').next().unwrap_or("").trim();
        let body = if essence == "application/x-ndjson" {
            // One JSON value per line; each line is checked against the schema.
            Value::Array(
                r.text()
                    .lines()
                    .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
                    .collect(),
            )
        } else if essence.ends_with("json") {
            r.json()
        } else if essence == "application/pdf" {
            json!(format!("<{} bytes of PDF>", r.body.len()))
        } else if essence == "application/wasm" {
            json!(format!("<{} bytes of WebAssembly>", r.body.len()))
        } else {
            json!(r.text())
        };
        self.0.push(json!({
            "kind": "response",
            "method": method.to_lowercase(),
            "path": template,
            "status": r.status,
            "content_type": r.content_type,
            "body": if r.body.is_empty() { Value::Null } else { body },
        }));
        r
    }

    /// A request body the service accepted (`valid`) or refused with 422.
    fn request(&mut self, method: &str, template: &str, body: &Value, valid: bool) {
        self.typed_request(method, template, "application/json", body, valid);
    }

    /// A request body of another media type (a form's fields as a JSON object: a
    /// repeated field as an array, a file as its text).
    fn typed_request(
        &mut self,
        method: &str,
        template: &str,
        content_type: &str,
        body: &Value,
        valid: bool,
    ) {
        self.0.push(json!({
            "kind": "request",
            "method": method.to_lowercase(),
            "path": template,
            "content_type": content_type,
            "body": body,
            "valid": valid,
        }));
    }
}

/// The members of an object schema: (required, documented).
fn members(doc: &Value, schema: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let s = &doc["components"]["schemas"][schema];
    let required = s["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    let all = s["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    (required, all)
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

/// Waits for the one e-mail in the outbox and returns its link's path, `/c/<token>`.
/// The link of the e-mail whose text contains `needle` (two requests may go to one
/// address: the purpose tells them apart).
fn answer_link(env: &Env, needle: &str) -> String {
    use base64::Engine as _;
    let outbox = env.data_dir().join("outbox");
    for _ in 0..600 {
        let mut texts = Vec::new();
        let mut stack = vec![outbox.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                if e.path().is_dir() {
                    stack.push(e.path());
                } else {
                    texts.push(std::fs::read_to_string(e.path()).unwrap_or_default());
                }
            }
        }
        for raw in texts {
            // Quoted-printable soft breaks undone; base64 bodies decoded.
            let mut candidates = vec![raw.replace("=\r\n", "").replace("=\n", "")];
            if let Some((_, body)) = raw.split_once("\r\n\r\n").or(raw.split_once("\n\n")) {
                let clean: String = body.split_whitespace().collect();
                if let Ok(b) = base64::engine::general_purpose::STANDARD.decode(clean) {
                    candidates.push(String::from_utf8_lossy(&b).into_owned());
                }
            }
            for text in candidates.into_iter().filter(|t| t.contains(needle)) {
                if let Some(at) = text.find("/c/") {
                    let token: String = text[at + 3..].chars().take(64).collect();
                    if token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()) {
                        return format!("/c/{token}");
                    }
                }
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("no consent request e-mail in {}", outbox.display());
}

fn form(s: &Server, path: &str, body: &str) -> Res {
    post_raw(
        &s.url(path),
        None,
        "application/x-www-form-urlencoded",
        body.as_bytes(),
    )
}

#[test]
fn real_responses_match_the_documented_schemas() {
    let python = python();
    let env = Env::new(Db::Sqlite);
    let (tenant, key) = env.tenant("ACME SAS");
    let k = Some(key.as_str());
    // A real TSA (OpenSSL's), so that certificates and the anchor history are served.
    let pki = crate::tsa::Pki::new(crate::tsa::Alg::Ec);
    let tsa = crate::tsa::TsaServer::start(&pki.config);
    let root = pki.path("root.pem").display().to_string();
    let admin = "openapi-admin-token-0123456789";
    let s = Server::start(
        &env,
        &[
            "--anchor-rfc3161-url",
            &tsa.url,
            "--anchor-rfc3161-ca",
            &root,
            "--anchor-poll",
            "1",
            "--admin-token",
            admin,
        ],
    );
    let doc = served_document(&s);
    let mut c = Cases::default();

    // Meta and the public log.
    c.response("GET", "/healthz", &get(&s.url("/healthz"), None));
    for icon in ["/favicon.ico", "/favicon.svg"] {
        let r = get(&s.url(icon), None);
        assert_eq!((r.status, r.content_type.as_str()), (200, "image/svg+xml"));
        c.response("GET", icon, &r);
    }
    c.response("GET", "/metrics", &get(&s.url("/metrics"), None));
    c.response(
        "GET",
        "/.well-known/consentry.json",
        &get(&s.url("/.well-known/consentry.json"), None),
    );
    c.response("GET", "/openapi.json", &get(&s.url("/openapi.json"), None));
    // The root: an index for an API client, a page for a browser.
    let index = get(&s.url("/"), None);
    assert_eq!(index.content_type, "application/json", "{}", index.text());
    c.response("GET", "/", &index);
    let home = crate::util::CookieJar {
        name: "none",
        cookie: None,
    }
    .send(&s, "GET", "/", Some("fr"), None, &[("Accept", "text/html")]);
    assert!(home.content_type().starts_with("text/html"));
    c.response("GET", "/", &page_res(&home));

    // The verification page and its assets (the browser test drives them for real).
    let page = get(&s.url("/verify"), None);
    assert_eq!(page.status, 200, "{}", page.text());
    c.response("GET", "/verify", &page);
    for (path, versioned) in [
        ("/verify/verify.js", "/verify/verify.js?h="),
        ("/verify/monitor.js", "/verify/monitor.js?h="),
        (
            "/verify/consentry_verify.wasm",
            "/verify/consentry_verify.wasm?h=",
        ),
    ] {
        let at = page.text().find(versioned).expect(versioned) + versioned.len();
        let hash: String = page.text()[at..].chars().take(16).collect();
        c.response(
            "GET",
            path,
            &get(&s.url(&format!("{versioned}{hash}")), None),
        );
        c.response("GET", path, &get(&s.url(path), None));
    }

    // Contacts.
    let contact_body = json!({
        "email": "Marie.Curie@example.org", "name": "Marie Curie", "phone": null,
        "category": "private", "attributes": {"region": "north", "score": 3, "vip": true}
    });
    c.request("POST", "/v1/contacts", &contact_body, true);
    let created = post(&s.url("/v1/contacts"), k, &contact_body);
    assert_eq!(created.status, 201, "{}", created.text());
    c.response("POST", "/v1/contacts", &created);
    let contact = created.json();
    let id = contact["id"].as_str().unwrap().to_owned();
    // Without Python too: the 201 has the documented required members and no others.
    let (required, documented) = members(&doc, "Contact");
    let missing: Vec<_> = required.difference(&keys(&contact)).cloned().collect();
    let undocumented: Vec<_> = keys(&contact).difference(&documented).cloned().collect();
    assert!(
        missing.is_empty(),
        "Contact lacks required {missing:?}: {contact}"
    );
    assert!(
        undocumented.is_empty(),
        "Contact has undocumented {undocumented:?}: {contact}"
    );
    for field in ["email", "name", "address", "phone"] {
        assert!(contact.get(field).is_none(), "identity field {field} shown");
    }
    let dup = post(
        &s.url("/v1/contacts"),
        k,
        &json!({"email": "marie.curie@example.org"}),
    );
    assert_eq!(dup.status, 409);
    assert_eq!(
        c.response("POST", "/v1/contacts", &dup).json()["contact_id"],
        id
    );
    for (bad, why) in [
        (json!({"email": "not an address"}), "a bad value"),
        (
            json!({"email": "a@example.org", "nickname": "x"}),
            "an unknown member",
        ),
        (json!({"name": "No Address"}), "a missing member"),
        (
            json!({"email": "a@example.org", "category": "robot"}),
            "a value out of the enum",
        ),
        (
            json!({"email": "a@example.org", "attributes": {"Bad Name": 1}}),
            "a bad attribute name",
        ),
    ] {
        let r = post(&s.url("/v1/contacts"), k, &bad);
        assert_eq!(r.status, 422, "{why}: {}", r.text());
        c.request("POST", "/v1/contacts", &bad, false);
        c.response("POST", "/v1/contacts", &r);
        // Without Python too: the problem's members.
        assert_eq!(r.content_type, "application/problem+json");
        let p = r.json();
        let (required, _) = members(&doc, "Problem");
        let missing: Vec<_> = required.difference(&keys(&p)).cloned().collect();
        assert!(missing.is_empty(), "problem lacks {missing:?}: {p}");
        assert_eq!(p["status"], 422);
        // A bad address has its own type, naming the rule broken (docs/formats.md §9).
        let expected = if why == "a bad value" {
            "urn:consentry:problem:invalid-email"
        } else {
            "urn:consentry:problem:invalid-value"
        };
        assert_eq!(p["type"], expected, "{why}: {p}");
        assert!(p["title"].is_string() && p["detail"].is_string(), "{p}");
    }
    c.response(
        "POST",
        "/v1/contacts",
        &post_raw(&s.url("/v1/contacts"), k, "application/json", b"{not json"),
    );
    c.response(
        "POST",
        "/v1/contacts",
        &post_raw(&s.url("/v1/contacts"), k, "text/plain", b"{}"),
    );
    c.response(
        "POST",
        "/v1/contacts",
        &post(&s.url("/v1/contacts"), None, &contact_body),
    );

    // A manual consent with every optional member, then the proof.
    let consent_body = json!({
        "purpose": "newsletter", "decision": "granted", "evidence": "signed form #42",
        "notice": {"text": "Monthly news.", "version": "v3", "language": "en", "url": "https://example.org/n"},
        "valid_days": 365, "given_at": "2026-01-15T09:30:00.000Z"
    });
    c.request("POST", "/v1/contacts/{id}/consents", &consent_body, true);
    let consents = format!("/v1/contacts/{id}/consents");
    let proof = post(&s.url(&consents), k, &consent_body);
    assert_eq!(proof.status, 201, "{}", proof.text());
    c.response("POST", "/v1/contacts/{id}/consents", &proof);
    let proof = proof.json();
    let proof_id = proof["id"].as_str().unwrap().to_owned();
    let by_sha =
        json!({"purpose": "sms", "decision": "refused", "notice": {"sha256": "ab".repeat(32)}});
    c.request("POST", "/v1/contacts/{id}/consents", &by_sha, true);
    let r = post(&s.url(&consents), k, &by_sha);
    assert_eq!(r.status, 201, "{}", r.text());
    c.response("POST", "/v1/contacts/{id}/consents", &r);
    for bad in [
        json!({"purpose": "newsletter", "decision": "maybe"}),
        json!({"purpose": "News Letter", "decision": "granted"}),
        json!({"purpose": "newsletter", "decision": "granted", "notice": {"text": "t", "sha256": "ab".repeat(32)}}),
        json!({"purpose": "newsletter", "decision": "granted", "valid_days": 0}),
    ] {
        let r = post(&s.url(&consents), k, &bad);
        assert_eq!(r.status, 422, "{bad}: {}", r.text());
        c.request("POST", "/v1/contacts/{id}/consents", &bad, false);
        c.response("POST", "/v1/contacts/{id}/consents", &r);
    }
    // A date of consent in the future: well-formed (the schema cannot say "not after
    // now"), refused with a 422 problem.
    let future = json!({"purpose": "newsletter", "decision": "granted", "given_at": "2999-01-01T00:00:00.000Z"});
    let r = post(&s.url(&consents), k, &future);
    assert_eq!(r.status, 422, "{}", r.text());
    c.response("POST", "/v1/contacts/{id}/consents", &r);
    c.response(
        "POST",
        "/v1/contacts/{id}/consents",
        &post(&s.url("/v1/contacts/sub_nobody/consents"), k, &consent_body),
    );

    c.response(
        "GET",
        "/v1/contacts/{id}",
        &get(&s.url(&format!("/v1/contacts/{id}")), k),
    );
    c.response(
        "GET",
        "/v1/contacts/{id}",
        &get(&s.url("/v1/contacts/sub_nobody"), k),
    );
    c.response(
        "GET",
        "/v1/contacts/{id}",
        &get(&s.url("/v1/contacts/nonsense"), k),
    );
    for query in [
        "",
        "?limit=1",
        "?purpose=newsletter",
        "?purpose=newsletter&status=granted",
        "?purpose=newsletter&status=none",
        "?limit=0",
        "?status=granted",
        "?colour=blue",
    ] {
        c.response(
            "GET",
            "/v1/contacts",
            &get(&s.url(&format!("/v1/contacts{query}")), k),
        );
    }
    let page = get(&s.url("/v1/contacts?limit=1"), k).json();
    assert_eq!(
        page["items"][0]["consents"]["newsletter"]["proof_id"],
        proof_id
    );

    let proof_path = format!("/v1/proofs/{proof_id}");
    c.response("GET", "/v1/proofs/{id}", &get(&s.url(&proof_path), k));
    c.response(
        "GET",
        "/v1/proofs/{id}",
        &get(&s.url(&format!("{proof_path}.json")), k),
    );
    let pdf = get(&s.url(&format!("{proof_path}.pdf")), k);
    assert!(pdf.body.starts_with(b"%PDF"));
    c.response("GET", "/v1/proofs/{id}", &pdf);
    c.response(
        "GET",
        "/v1/proofs/{id}",
        &get(&s.url("/v1/proofs/prf_nothing"), k),
    );

    // The log, now that it holds entries.
    let size = proof["log_index"].as_u64().unwrap() + 1;
    for path in [
        format!("/v1/log/proof/inclusion?index=0&size={size}"),
        format!("/v1/log/proof/inclusion?index={}&size={size}", size - 1),
        "/v1/log/proof/inclusion?index=0&size=1000000".to_owned(),
        "/v1/log/proof/inclusion?index=5&size=2".to_owned(),
        "/v1/log/proof/inclusion?index=0".to_owned(),
        "/v1/log/proof/inclusion?index=0&size=1&extra=1".to_owned(),
    ] {
        c.response("GET", "/v1/log/proof/inclusion", &get(&s.url(&path), None));
    }
    for path in [
        format!("/v1/log/proof/consistency?old=1&new={size}"),
        format!("/v1/log/proof/consistency?old={size}&new={size}"),
        "/v1/log/proof/consistency?old=1&new=1000000".to_owned(),
        "/v1/log/proof/consistency?old=3&new=1".to_owned(),
        "/v1/log/proof/consistency?old=x&new=1".to_owned(),
    ] {
        c.response(
            "GET",
            "/v1/log/proof/consistency",
            &get(&s.url(&path), None),
        );
    }
    let mut checkpoint = get(&s.url("/v1/log/checkpoint"), None);
    for _ in 0..200 {
        if checkpoint.status == 200 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        checkpoint = get(&s.url("/v1/log/checkpoint"), None);
    }
    assert_eq!(checkpoint.status, 200, "{}", checkpoint.text());
    c.response("GET", "/v1/log/checkpoint", &checkpoint);
    // The same log as tlog-tiles: the checkpoint, a partial tile and bundle, refusals.
    let tiles = get(&s.url("/checkpoint"), None);
    assert_eq!(tiles.status, 200, "{}", tiles.text());
    c.response("GET", "/checkpoint", &tiles);
    for (path, status) in [
        ("/tile/0/000.p/1", 200),
        ("/tile/entries/000.p/1", 200),
        ("/tile/0/000", 404),
        ("/tile/0/1", 404),
        ("/tile/9/000.p/1", 404),
    ] {
        let r = get(&s.url(path), None);
        assert_eq!(r.status, status, "{path}: {}", r.text());
        c.response("GET", "/tile/{path}", &r);
    }

    // Delegated consent: one contact, several, then the recipient's pages.
    let single = json!({"contact_id": id, "purpose": "offers", "notice": "We send offers.", "language": "en"});
    c.request("POST", "/v1/consent-requests", &single, true);
    let r = post(&s.url("/v1/consent-requests"), k, &single);
    assert_eq!(r.status, 201, "{}", r.text());
    c.response("POST", "/v1/consent-requests", &r);
    let request_id = r.json()["id"].as_str().unwrap().to_owned();
    let bulk = json!({
        "contact_ids": [id, "sub_nobody", "garbage"], "purpose": "surveys",
        "notice": {"text": "Surveys, twice a year.", "version": "1", "url": "https://example.org/s"},
        "response_days": 3, "valid_days": 30
    });
    c.request("POST", "/v1/consent-requests", &bulk, true);
    let r = post(&s.url("/v1/consent-requests"), k, &bulk);
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        c.response("POST", "/v1/consent-requests", &r).json()["errors"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    for bad in [
        json!({"contact_id": id, "contact_ids": [id], "purpose": "offers", "notice": "n"}),
        json!({"purpose": "offers", "notice": "n"}),
        json!({"contact_id": id, "purpose": "offers", "notice": "n", "response_days": 31}),
        json!({"contact_id": id, "purpose": "offers", "notice": "n", "language": "de"}),
        json!({"contact_id": id, "purpose": "offers", "notice": ""}),
    ] {
        let r = post(&s.url("/v1/consent-requests"), k, &bad);
        assert_eq!(r.status, 422, "{bad}: {}", r.text());
        c.request("POST", "/v1/consent-requests", &bad, false);
        c.response("POST", "/v1/consent-requests", &r);
    }
    c.response(
        "POST",
        "/v1/consent-requests",
        &post(
            &s.url("/v1/consent-requests"),
            k,
            &json!({"contact_id": "sub_nobody", "purpose": "offers", "notice": "n"}),
        ),
    );
    let request_path = format!("/v1/consent-requests/{request_id}");
    c.response(
        "GET",
        "/v1/consent-requests/{id}",
        &get(&s.url(&request_path), k),
    );
    c.response(
        "GET",
        "/v1/consent-requests/{id}",
        &get(&s.url("/v1/consent-requests/req_none"), k),
    );

    let link = answer_link(&env, "for: offers");
    c.response("GET", "/c/{token}", &get(&s.url(&link), None));
    c.response(
        "GET",
        "/c/{token}",
        &get(&s.url(&format!("/c/{}", "cd".repeat(32))), None),
    );
    c.response(
        "GET",
        "/c/{token}/proof",
        &get(&s.url(&format!("{link}/proof")), None),
    );
    c.response(
        "GET",
        "/c/{token}/proof.pdf",
        &get(&s.url(&format!("{link}/proof.pdf")), None),
    );
    c.response("POST", "/c/{token}", &form(&s, &link, "decision=perhaps"));
    c.response(
        "POST",
        "/c/{token}",
        &post_raw(&s.url(&link), None, "text/plain", b"x"),
    );
    let answered = form(&s, &link, "decision=granted");
    assert_eq!(answered.status, 200, "{}", answered.text());
    c.response("POST", "/c/{token}", &answered);
    c.response("POST", "/c/{token}", &form(&s, &link, "decision=refused"));
    c.response("GET", "/c/{token}", &get(&s.url(&link), None));
    let kept = get(&s.url(&format!("{link}/proof")), None);
    assert_eq!(kept.status, 200, "{}", kept.text());
    c.response("GET", "/c/{token}/proof", &kept);
    let kept_pdf = get(&s.url(&format!("{link}/proof.pdf")), None);
    assert_eq!(kept_pdf.status, 200, "{}", kept_pdf.text());
    assert!(kept_pdf.body.starts_with(b"%PDF-"));
    c.response("GET", "/c/{token}/proof.pdf", &kept_pdf);
    let done = get(&s.url(&request_path), k);
    assert_eq!(done.json()["status"], "granted");
    c.response("GET", "/v1/consent-requests/{id}", &done);

    // The webhook.
    c.response("GET", "/v1/webhook", &get(&s.url("/v1/webhook"), k));
    let hook = json!({"url": "https://hooks.example.org/consentry"});
    c.request("PUT", "/v1/webhook", &hook, true);
    let put = |body: &Value| {
        call(
            "PUT",
            &s.url("/v1/webhook"),
            k,
            Some(("application/json", body.to_string().as_bytes())),
        )
    };
    let r = put(&hook);
    assert_eq!(r.status, 200, "{}", r.text());
    c.response("PUT", "/v1/webhook", &r);
    for bad in [
        json!({"url": "ftp://example.org"}),
        json!({"url": "http://x", "secret": "s"}),
    ] {
        let r = put(&bad);
        assert_eq!(r.status, 422, "{bad}: {}", r.text());
        c.request("PUT", "/v1/webhook", &bad, false);
        c.response("PUT", "/v1/webhook", &r);
    }
    // A well-formed URL naming an address webhooks may not reach.
    let loopback = json!({"url": "http://127.0.0.1:9/hook"});
    c.request("PUT", "/v1/webhook", &loopback, true);
    let r = put(&loopback);
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.json()["type"], "urn:consentry:problem:forbidden-address");
    c.response("PUT", "/v1/webhook", &r);
    c.response("GET", "/v1/webhook", &get(&s.url("/v1/webhook"), k));
    let deleted = call("DELETE", &s.url("/v1/webhook"), k, None);
    assert_eq!(deleted.status, 204);
    c.response("DELETE", "/v1/webhook", &deleted);
    c.response(
        "DELETE",
        "/v1/webhook",
        &call("DELETE", &s.url("/v1/webhook"), k, None),
    );

    // Purposes and the tenant's contact, as recipients are shown them.
    let set_purpose = json!({"description": {"fr": "Notre lettre mensuelle.", "en": "Our monthly letter."}, "valid_days": 365});
    c.request("PUT", "/v1/purposes/{name}", &set_purpose, true);
    let put_to = |path: &str, body: &Value| {
        call(
            "PUT",
            &s.url(path),
            k,
            Some(("application/json", body.to_string().as_bytes())),
        )
    };
    let r = put_to("/v1/purposes/newsletter", &set_purpose);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["description"]["en"], "Our monthly letter.");
    c.response("PUT", "/v1/purposes/{name}", &r);
    for (path, bad) in [
        (
            "/v1/purposes/newsletter",
            json!({"description": {"fr": " ", "en": ""}}),
        ),
        (
            "/v1/purposes/newsletter",
            json!({"description": {"de": "x"}}),
        ),
        (
            "/v1/purposes/newsletter",
            json!({"description": {"fr": "x"}, "valid_days": 0}),
        ),
        ("/v1/purposes/News", json!({"description": {"fr": "x"}})),
    ] {
        let r = put_to(path, &bad);
        assert_eq!(r.status, 422, "{path} {bad}: {}", r.text());
        c.response("PUT", "/v1/purposes/{name}", &r);
    }
    c.request(
        "PUT",
        "/v1/purposes/{name}",
        &json!({"description": {"de": "x"}}),
        false,
    );
    let listed = get(&s.url("/v1/purposes"), k);
    assert_eq!(listed.status, 200, "{}", listed.text());
    assert!(
        listed.json()["purposes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "newsletter" && p["defined"] == true),
        "{}",
        listed.text()
    );
    c.response("GET", "/v1/purposes", &listed);
    c.response("GET", "/v1/purposes", &get(&s.url("/v1/purposes"), None));
    c.response("GET", "/v1/tenant", &get(&s.url("/v1/tenant"), k));
    let contact = json!({"contact": "https://openapi.example/privacy"});
    c.request("PUT", "/v1/tenant", &contact, true);
    let r = put_to("/v1/tenant", &contact);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["contact"], "https://openapi.example/privacy");
    c.response("PUT", "/v1/tenant", &r);
    for bad in [
        json!({"contact": "javascript:alert(1)"}),
        json!({"contact": "x", "name": "y"}),
    ] {
        let r = put_to("/v1/tenant", &bad);
        assert_eq!(r.status, 422, "{bad}: {}", r.text());
        c.response("PUT", "/v1/tenant", &r);
    }
    c.request("PUT", "/v1/tenant", &json!({"contact": 3}), false);

    // CSV import and export, when the router has them.
    let routes = router_routes();
    if routes.contains(&("POST".into(), "/v1/contacts/import".into())) {
        let csv = "email,name,category,attr.region\r\nann@example.org,Ann,private,north\r\nmarie.curie@example.org,,,\r\n";
        for query in ["?dry_run=true", "", "?dry_run=perhaps"] {
            c.response(
                "POST",
                "/v1/contacts/import",
                &post_raw(
                    &s.url(&format!("/v1/contacts/import{query}")),
                    k,
                    "text/csv",
                    csv.as_bytes(),
                ),
            );
        }
        let bad = post_raw(
            &s.url("/v1/contacts/import"),
            k,
            "text/csv",
            b"email,shoe_size\r\nx@example.org,42\r\n",
        );
        assert_eq!(bad.status, 422, "{}", bad.text());
        c.response("POST", "/v1/contacts/import", &bad);
        c.response(
            "POST",
            "/v1/contacts/import",
            &post_raw(&s.url("/v1/contacts/import"), k, "application/json", b"{}"),
        );
    }
    if routes.contains(&("GET".into(), "/v1/contacts/export".into())) {
        let export = get(&s.url("/v1/contacts/export"), k);
        assert_eq!(export.status, 200, "{}", export.text());
        c.response("GET", "/v1/contacts/export", &export);
    }

    // Identity data: reveals (allowed, refused, erased, unknown, malformed), a batch
    // (NDJSON), the access history, one sealed event, and an erasure (twice).
    {
        let reveal_path = format!("/v1/contacts/{id}/reveal");
        let allowed = json!({"purpose": "newsletter", "fields": ["email", "name", "phone", "attributes"], "reason": "monthly issue"});
        c.request("POST", "/v1/contacts/{id}/reveal", &allowed, true);
        let r = post(&s.url(&reveal_path), k, &allowed);
        assert_eq!(r.status, 200, "{}", r.text());
        let event_id = c.response("POST", "/v1/contacts/{id}/reveal", &r).json()["event_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let denied = post(
            &s.url(&reveal_path),
            k,
            &json!({"purpose": "sms", "fields": ["phone"]}),
        );
        assert_eq!(denied.status, 403, "{}", denied.text());
        c.response("POST", "/v1/contacts/{id}/reveal", &denied);
        for bad in [
            json!({"purpose": "newsletter", "fields": ["ssn"]}),
            json!({"purpose": "newsletter", "fields": []}),
            json!({"purpose": "newsletter", "fields": ["email"], "reason": ""}),
            json!({"purpose": "newsletter", "fields": ["email"], "colour": "blue"}),
        ] {
            let r = post(&s.url(&reveal_path), k, &bad);
            assert_eq!(r.status, 422, "{bad}: {}", r.text());
            c.request("POST", "/v1/contacts/{id}/reveal", &bad, false);
            c.response("POST", "/v1/contacts/{id}/reveal", &r);
        }
        c.response(
            "POST",
            "/v1/contacts/{id}/reveal",
            &post(&s.url("/v1/contacts/sub_nobody/reveal"), k, &allowed),
        );
        c.response(
            "POST",
            "/v1/contacts/{id}/reveal",
            &post_raw(&s.url(&reveal_path), k, "application/json", b"{not json"),
        );
        c.response(
            "POST",
            "/v1/contacts/{id}/reveal",
            &post_raw(&s.url(&reveal_path), k, "text/plain", b"{}"),
        );

        let batch = json!({"purpose": "newsletter", "fields": ["email", "address"], "contacts": [id, "sub_nobody", "garbage"], "reason": "monthly issue"});
        c.request("POST", "/v1/reveal/batch", &batch, true);
        let r = post(&s.url("/v1/reveal/batch"), k, &batch);
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(
            c.response("POST", "/v1/reveal/batch", &r)
                .text()
                .lines()
                .count(),
            4
        );
        for bad in [
            json!({"purpose": "newsletter", "fields": ["email"], "contacts": []}),
            json!({"purpose": "newsletter", "fields": ["iban"], "contacts": [id]}),
        ] {
            let r = post(&s.url("/v1/reveal/batch"), k, &bad);
            assert_eq!(r.status, 422, "{bad}: {}", r.text());
            c.request("POST", "/v1/reveal/batch", &bad, false);
            c.response("POST", "/v1/reveal/batch", &r);
        }

        let history = format!("/v1/contacts/{id}/events");
        for query in [
            "",
            "?limit=1",
            "?limit=1&cursor=1000000",
            "?limit=0",
            "?cursor=x",
            "?colour=blue",
        ] {
            c.response(
                "GET",
                "/v1/contacts/{id}/events",
                &get(&s.url(&format!("{history}{query}")), k),
            );
        }
        c.response(
            "GET",
            "/v1/contacts/{id}/events",
            &get(&s.url("/v1/contacts/sub_nobody/events"), k),
        );
        let event = get(&s.url(&format!("/v1/events/{event_id}")), k);
        assert_eq!(event.status, 200, "{}", event.text());
        c.response("GET", "/v1/events/{id}", &event);
        c.response(
            "GET",
            "/v1/events/{id}",
            &get(&s.url("/v1/events/evt_nothing"), k),
        );

        let gone = crate::service::add_contact(&s, &key, "erase.me@example.org");
        let erase = s.url(&format!("/v1/contacts/{gone}/erase"));
        for _ in 0..2 {
            let r = call("POST", &erase, k, None);
            assert_eq!(r.status, 200, "{}", r.text());
            c.response("POST", "/v1/contacts/{id}/erase", &r);
        }
        c.response(
            "POST",
            "/v1/contacts/{id}/erase",
            &call("POST", &s.url("/v1/contacts/sub_nobody/erase"), k, None),
        );
        let r = post(&s.url(&format!("/v1/contacts/{gone}/reveal")), k, &allowed);
        assert_eq!(r.status, 410, "{}", r.text());
        c.response("POST", "/v1/contacts/{id}/reveal", &r);
    }

    // Disclosure: made, refused (bad ground, unknown proof), and after an erasure.
    {
        let contact = crate::service::add_contact(&s, &key, "disclosed@example.org");
        let proof: Value = serde_json::from_slice(&crate::service::consent(
            &s,
            &key,
            &contact,
            "newsletter",
            "granted",
        ))
        .unwrap();
        let path = format!("/v1/proofs/{}/disclosure", proof["id"].as_str().unwrap());
        let body = json!({"ground": "legal-claim", "fields": ["name"]});
        c.request("POST", "/v1/proofs/{id}/disclosure", &body, true);
        let r = post(&s.url(&path), k, &body);
        assert_eq!(r.status, 201, "{}", r.text());
        c.response("POST", "/v1/proofs/{id}/disclosure", &r);
        let bad = json!({"ground": "curiosity"});
        c.request("POST", "/v1/proofs/{id}/disclosure", &bad, false);
        c.response(
            "POST",
            "/v1/proofs/{id}/disclosure",
            &post(&s.url(&path), k, &bad),
        );
        c.response(
            "POST",
            "/v1/proofs/{id}/disclosure",
            &post(&s.url("/v1/proofs/prf_nothing/disclosure"), k, &body),
        );
        let r = call(
            "POST",
            &s.url(&format!("/v1/contacts/{contact}/erase")),
            k,
            None,
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let r = post(&s.url(&path), k, &body);
        assert_eq!(r.status, 410, "{}", r.text());
        c.response("POST", "/v1/proofs/{id}/disclosure", &r);
    }

    // Certificates: pending, then anchored (by the admin route), and the history.
    {
        let contact = crate::service::add_contact(&s, &key, "certificates@example.org");
        let proof: Value = serde_json::from_slice(&crate::service::consent(
            &s,
            &key,
            &contact,
            "newsletter",
            "granted",
        ))
        .unwrap();
        let id = proof["id"].as_str().unwrap();
        let cert_url = s.url(&format!("/v1/proofs/{id}/certificate"));
        let pending = get(&cert_url, k);
        assert_eq!(pending.status, 409, "{}", pending.text());
        c.response("GET", "/v1/proofs/{id}/certificate", &pending);
        c.response(
            "GET",
            "/v1/proofs/{id}/certificate.pdf",
            &get(&format!("{cert_url}.pdf"), k),
        );
        c.response(
            "GET",
            "/v1/proofs/{id}/certificate",
            &get(&s.url("/v1/proofs/prf_unknown0000/certificate"), k),
        );
        c.response(
            "POST",
            "/v1/admin/anchor",
            &call(
                "POST",
                &s.url("/v1/admin/anchor"),
                Some("wrong-token-0123456789"),
                None,
            ),
        );
        let run = call("POST", &s.url("/v1/admin/anchor"), Some(admin), None);
        assert_eq!(run.status, 202, "{}", run.text());
        c.response("POST", "/v1/admin/anchor", &run);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let cert = loop {
            let r = get(&cert_url, k);
            if r.status == 200 {
                break r;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{}\n{}",
                r.text(),
                s.logs()
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        };
        c.response("GET", "/v1/proofs/{id}/certificate", &cert);
        let pdf = get(&format!("{cert_url}.pdf"), k);
        assert_eq!(pdf.status, 200);
        c.response("GET", "/v1/proofs/{id}/certificate.pdf", &pdf);
        c.response(
            "GET",
            "/v1/log/anchors",
            &get(&s.url("/v1/log/anchors"), None),
        );
        webapp_cases(&mut c, &env, &s, &tenant, &key, id);
        portal_cases(&mut c, &env, &s, &key, &contact, id);
    }

    // Every operation of the document was exercised at least once.
    let seen: BTreeSet<(String, String)> =
        c.0.iter()
            .filter(|v| v["kind"] == "response")
            .map(|v| {
                (
                    v["method"].as_str().unwrap().to_uppercase(),
                    v["path"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
    let missed: Vec<_> = documented_routes(&doc).difference(&seen).cloned().collect();
    assert!(
        missed.is_empty(),
        "operations not exercised here: {missed:?}"
    );

    let doc_file = env.dir.path().join("openapi.json");
    std::fs::write(&doc_file, serde_json::to_vec(&doc).unwrap()).unwrap();
    let cases_file = env.dir.path().join("cases.json");
    std::fs::write(&cases_file, serde_json::to_vec(&Value::Array(c.0)).unwrap()).unwrap();
    let out = Command::new(&python)
        .args(["-c", CHECK])
        .arg(&doc_file)
        .arg(&cases_file)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "responses differ from the document:\n{text}"
    );
    assert!(text.contains(" 0 mismatches"), "{text}");
    eprintln!("{}", text.trim());
}

/// The portal's pages and forms, from sign-in to logout: the person of `contact`, whose
/// proof `anchored` has a certificate.
fn portal_cases(c: &mut Cases, env: &Env, s: &Server, key: &str, contact: &str, anchored: &str) {
    use crate::portal::{Client, Page, csrf_of, wait_links};
    let res = |p: Page| Res {
        status: p.status,
        content_type: p.content_type(),
        body: p.body,
    };
    let mut anon = Client::default();
    let tenant = get(&s.url(&format!("/v1/proofs/{anchored}")), Some(key)).json()["tenant"]
        .as_str()
        .unwrap()
        .to_owned();
    c.response(
        "GET",
        "/portal",
        &res(anon.call(s, "GET", "/portal?lang=fr", None)),
    );
    // A parameter given twice (found by scripts/schemathesis): an HTML page, 400.
    let twice = anon.call(s, "GET", "/portal?lang=fr&lang=en", None);
    assert_eq!(twice.status, 400, "{}", twice.text());
    c.response("GET", "/portal", &res(twice));
    let asked = anon.call(
        s,
        "POST",
        "/portal/login",
        Some("email=certificates%40example.org"),
    );
    assert_eq!(asked.status, 200, "{}", asked.text());
    c.response("POST", "/portal/login", &res(asked));
    let bad = anon.call(s, "POST", "/portal/login", Some("email=not-an-address"));
    assert_eq!(bad.status, 400);
    c.response("POST", "/portal/login", &res(bad));
    c.response(
        "POST",
        "/portal/login",
        &post_raw(&s.url("/portal/login"), None, "application/json", b"{}"),
    );
    let link = wait_links(env, 1).remove(0);
    let unknown = format!("/portal/session/{}", "ef".repeat(32));
    c.response(
        "GET",
        "/portal/session/{token}",
        &res(anon.call(s, "GET", &link, None)),
    );
    c.response(
        "GET",
        "/portal/session/{token}",
        &res(anon.call(s, "GET", &unknown, None)),
    );
    c.response(
        "POST",
        "/portal/session/{token}",
        &res(anon.call(s, "POST", &unknown, Some(""))),
    );
    let mut me = Client::default();
    let opened = me.call(s, "POST", &link, Some(""));
    assert_eq!(opened.status, 303, "{}", opened.text());
    c.response("POST", "/portal/session/{token}", &res(opened));
    c.response(
        "POST",
        "/portal/session/{token}",
        &res(anon.call(s, "POST", &link, Some(""))),
    );
    c.response(
        "GET",
        "/portal/session/{token}",
        &res(anon.call(s, "GET", &link, None)),
    );
    c.response(
        "GET",
        "/portal/me",
        &res(anon.call(s, "GET", "/portal/me", None)),
    );
    let page = me.call(s, "GET", "/portal/me", None);
    assert_eq!(page.status, 200);
    let csrf = csrf_of(&page.text());
    c.response("GET", "/portal/me", &res(page));
    let twice = me.call(s, "GET", "/portal/me?lang=fr&lang=fr", None);
    assert_eq!(twice.status, 400, "{}", twice.text());
    c.response("GET", "/portal/me", &res(twice));
    let who = format!("csrf={csrf}&tenant={tenant}&subject={contact}");
    c.response(
        "POST",
        "/portal/amend",
        &res(me.call(
            s,
            "POST",
            "/portal/amend",
            Some(&format!(
                "csrf=wrong&tenant={tenant}&subject={contact}&name=X"
            )),
        )),
    );
    c.response(
        "POST",
        "/portal/amend",
        &res(me.call(
            s,
            "POST",
            "/portal/amend",
            Some(&format!("{who}&name={}", "n".repeat(201))),
        )),
    );
    let amended = me.call(
        s,
        "POST",
        "/portal/amend",
        Some(&format!("{who}&name=Cert+Person")),
    );
    assert_eq!(amended.status, 303, "{}", amended.text());
    c.response("POST", "/portal/amend", &res(amended));
    c.response(
        "POST",
        "/portal/amend",
        &post_raw(
            &s.url("/portal/amend"),
            None,
            "application/x-www-form-urlencoded",
            b"",
        ),
    );
    for path in [
        format!("/portal/proofs/{anchored}"),
        format!("/portal/proofs/{anchored}.pdf"),
        "/portal/proofs/prf_unknown0000".to_owned(),
    ] {
        c.response(
            "GET",
            "/portal/proofs/{id}",
            &res(me.call(s, "GET", &path, None)),
        );
    }
    c.response(
        "GET",
        "/portal/proofs/{id}",
        &res(anon.call(s, "GET", &format!("/portal/proofs/{anchored}"), None)),
    );
    let cert = me.call(
        s,
        "GET",
        &format!("/portal/proofs/{anchored}/certificate"),
        None,
    );
    assert_eq!(cert.status, 200, "{}", cert.text());
    c.response("GET", "/portal/proofs/{id}/certificate", &res(cert));
    let pdf = me.call(
        s,
        "GET",
        &format!("/portal/proofs/{anchored}/certificate.pdf"),
        None,
    );
    assert_eq!(pdf.status, 200);
    c.response("GET", "/portal/proofs/{id}/certificate.pdf", &res(pdf));
    let revoked = me.call(
        s,
        "POST",
        "/portal/revoke",
        Some(&format!("{who}&purpose=newsletter")),
    );
    assert_eq!(revoked.status, 303, "{}", revoked.text());
    c.response("POST", "/portal/revoke", &res(revoked));
    // Nothing asked for this purpose: 409 (a grant is offered only where a request is pending).
    let not_asked = me.call(
        s,
        "POST",
        "/portal/grant",
        Some(&format!("{who}&purpose=newsletter")),
    );
    assert_eq!(not_asked.status, 409, "{}", not_asked.text());
    c.response("POST", "/portal/grant", &res(not_asked));
    c.response(
        "POST",
        "/portal/revoke",
        &res(me.call(
            s,
            "POST",
            "/portal/revoke",
            Some(&format!("{who}&purpose=newsletter")),
        )),
    );
    let pending =
        get(&s.url(&format!("/v1/contacts/{contact}")), Some(key)).json()["consents"]["newsletter"]
            ["proof_id"]
            .as_str()
            .unwrap()
            .to_owned();
    for (template, path) in [
        (
            "/portal/proofs/{id}/certificate",
            format!("/portal/proofs/{pending}/certificate"),
        ),
        (
            "/portal/proofs/{id}/certificate",
            "/portal/proofs/prf_unknown0000/certificate".to_owned(),
        ),
        (
            "/portal/proofs/{id}/certificate.pdf",
            format!("/portal/proofs/{pending}/certificate.pdf"),
        ),
    ] {
        c.response("GET", template, &res(me.call(s, "GET", &path, None)));
    }
    let export = me.call(s, "POST", "/portal/export", Some(&format!("csrf={csrf}")));
    assert_eq!(export.status, 200, "{}", export.text());
    c.response("POST", "/portal/export", &res(export));
    c.response(
        "POST",
        "/portal/export",
        &res(anon.call(s, "POST", "/portal/export", Some(&format!("csrf={csrf}")))),
    );
    c.response(
        "POST",
        "/portal/erase",
        &res(me.call(s, "POST", "/portal/erase", Some(&who))),
    );
    let erased = me.call(
        s,
        "POST",
        "/portal/erase",
        Some(&format!("{who}&confirm=yes")),
    );
    assert_eq!(erased.status, 303, "{}", erased.text());
    c.response("POST", "/portal/erase", &res(erased));
    c.response(
        "POST",
        "/portal/erase",
        &res(me.call(
            s,
            "POST",
            "/portal/erase",
            Some(&format!("{who}&confirm=yes")),
        )),
    );
    c.response(
        "POST",
        "/portal/amend",
        &res(me.call(
            s,
            "POST",
            "/portal/amend",
            Some(&format!("{who}&name=Again")),
        )),
    );
    let export = me.call(s, "POST", "/portal/export", Some(&format!("csrf={csrf}")));
    c.response("POST", "/portal/export", &res(export));
    c.response(
        "POST",
        "/portal/logout",
        &res(me.call(s, "POST", "/portal/logout", Some(&format!("csrf={csrf}")))),
    );
    c.response(
        "POST",
        "/portal/logout",
        &res(anon.call(s, "POST", "/portal/logout", Some(&format!("csrf={csrf}")))),
    );
    // The address's sign-in limit.
    let limited = (0..10)
        .map(|_| {
            anon.call(
                s,
                "POST",
                "/portal/login",
                Some("email=certificates%40example.org"),
            )
        })
        .find(|r| r.status == 429)
        .expect("the per-address limit");
    c.response("POST", "/portal/login", &res(limited));
}

// ---------------------------------------------------------------------------------------
// The staff web application.

/// The password of the web application's test users.
const STAFF_PASSWORD: &str = "a long staff password for openapi";

/// Adds a staff user with the CLI; returns their ID.
fn staff_user(env: &Env, tenant: &str, email: &str, role: &str) -> String {
    crate::util::add_staff(env, tenant, email, role, STAFF_PASSWORD)
}

/// A browser stand-in for staff: keeps the `consentry_staff` cookie, never follows
/// redirects.
#[derive(Default, Clone)]
struct Web {
    cookie: Option<String>,
}

impl Web {
    fn send(
        &mut self,
        s: &Server,
        method: &str,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
        headers: &[(&str, &str)],
    ) -> crate::portal::Page {
        crate::util::staff_send(&mut self.cookie, s, method, path, body, headers)
    }

    fn get(&mut self, s: &Server, path: &str) -> crate::portal::Page {
        self.send(s, "GET", path, None, &[])
    }

    /// POSTs `fields` (an object of strings, arrays for repeated fields) as a form.
    fn form(&mut self, s: &Server, path: &str, fields: &Value) -> crate::portal::Page {
        let body = urlencoded(fields).into_bytes();
        self.send(
            s,
            "POST",
            path,
            Some(("application/x-www-form-urlencoded", body)),
            &[],
        )
    }

    /// POSTs `fields` as `multipart/form-data`, with files `(field, name, type, bytes)`.
    fn upload(
        &mut self,
        s: &Server,
        path: &str,
        fields: &Value,
        files: &[(&str, &str, &str, &[u8])],
    ) -> crate::portal::Page {
        let boundary = "----consentry-openapi-boundary-3b9c";
        let mut body = Vec::new();
        for (k, v) in form_pairs(fields) {
            body.extend(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                )
                .into_bytes(),
            );
        }
        for (field, name, ct, bytes) in files {
            body.extend(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\nContent-Type: {ct}\r\n\r\n"
                )
                .into_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend(b"\r\n");
        }
        body.extend(format!("--{boundary}--\r\n").into_bytes());
        let ct = format!("multipart/form-data; boundary={boundary}");
        self.send(s, "POST", path, Some((&ct, body)), &[])
    }
}

/// The `(name, value)` pairs of a form given as a JSON object.
fn form_pairs(fields: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (k, v) in fields.as_object().unwrap() {
        match v {
            Value::Array(items) => {
                out.extend(
                    items
                        .iter()
                        .map(|i| (k.clone(), i.as_str().unwrap().to_owned())),
                );
            }
            other => out.push((k.clone(), other.as_str().unwrap().to_owned())),
        }
    }
    out
}

fn urlencoded(fields: &Value) -> String {
    crate::util::form_encode(&form_pairs(fields))
}

fn page_res(p: &crate::portal::Page) -> Res {
    Res {
        status: p.status,
        content_type: p.content_type(),
        body: p.body.clone(),
    }
}

/// The text right after `marker` up to `end` (or the end).
fn after<'h>(html: &'h str, marker: &str, end: char) -> &'h str {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} not in the page: {html}"))
        + marker.len();
    let rest = &html[at..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
}

/// The staff web application's operations, as an admin, an auditor and a visitor with no
/// session use them, with their statuses and content types: `proof` is an anchored proof
/// of tenant `tenant` (whose API key is `key`).
#[allow(clippy::too_many_lines)]
fn webapp_cases(c: &mut Cases, env: &Env, s: &Server, tenant: &str, key: &str, proof: &str) {
    let k = Some(key);
    let admin_email = "adele.admin@openapi.example";
    let admin_id = staff_user(env, tenant, admin_email, "admin");
    staff_user(env, tenant, "aude.auditor@openapi.example", "auditor");
    let mut anon = Web::default();
    let mut w = Web::default();
    let mut aud = Web::default();
    // Each response is checked against the document (`seen!`), and so is each form the
    // service took (`took`: its fields as a JSON object, a file as its text).
    macro_rules! seen {
        ($method:expr, $template:expr, $page:expr) => {{
            let p = $page;
            c.response($method, $template, &page_res(&p));
            p
        }};
    }
    let took = |c: &mut Cases, template: &str, ct: &str, fields: &Value| {
        c.typed_request("POST", template, ct, fields, true);
    };
    const FORM: &str = "application/x-www-form-urlencoded";
    const MULTIPART: &str = "multipart/form-data";

    // Signing in.
    seen!("GET", "/app", anon.get(s, "/app"));
    seen!(
        "GET",
        "/app/login",
        anon.get(s, "/app/login?next=%2Fapp%2Fcontacts")
    );
    seen!("GET", "/app/login", anon.get(s, "/app/login?next=a&next=b"));
    let wrong = json!({"email": admin_email, "password": "not the password"});
    let r = seen!("POST", "/app/login", anon.form(s, "/app/login", &wrong));
    assert_eq!(r.status, 401, "{}", r.text());
    let good = json!({"email": admin_email.to_uppercase(), "password": STAFF_PASSWORD, "next": "/app/contacts"});
    let r = seen!(
        "POST",
        "/app/login",
        anon.send(
            s,
            "POST",
            "/app/login",
            Some((FORM, urlencoded(&good).into_bytes())),
            &[("Origin", "https://evil.example")],
        )
    );
    assert_eq!(r.status, 403, "{}", r.text());
    let big = format!("email=x&password={}", "p".repeat(70 * 1024));
    let r = seen!(
        "POST",
        "/app/login",
        anon.send(s, "POST", "/app/login", Some((FORM, big.into_bytes())), &[])
    );
    assert_eq!(r.status, 413);
    seen!(
        "POST",
        "/app/login",
        anon.form(s, "/app/login", &json!({"email": ["a", "b"]}))
    );
    let r = seen!("POST", "/app/login", w.form(s, "/app/login", &good));
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some("/app/contacts")),
        "{}",
        r.text()
    );
    assert!(w.cookie.is_some());
    took(c, "/app/login", FORM, &good);
    let r = aud.form(
        s,
        "/app/login",
        &json!({"email": "aude.auditor@openapi.example", "password": STAFF_PASSWORD}),
    );
    assert_eq!(r.status, 303, "{}", r.text());
    seen!("GET", "/app", w.get(s, "/app"));
    seen!("GET", "/app/", w.get(s, "/app/"));
    seen!("GET", "/app/", anon.get(s, "/app/"));
    seen!("GET", "/app/login", w.get(s, "/app/login"));

    // A forgotten password: the request form, the same answer for any address, a link
    // that matches nothing (the whole walk is in signin.rs).
    seen!(
        "GET",
        "/app/reset",
        anon.get(s, &format!("/app/reset?tenant={tenant}"))
    );
    let ask = json!({"tenant": tenant, "email": "nobody@openapi.example"});
    let r = seen!("POST", "/app/reset", anon.form(s, "/app/reset", &ask));
    assert_eq!(r.status, 200, "{}", r.text());
    took(c, "/app/reset", FORM, &ask);
    let r = seen!(
        "POST",
        "/app/reset",
        anon.send(
            s,
            "POST",
            "/app/reset",
            Some((FORM, urlencoded(&ask).into_bytes())),
            &[("Origin", "https://evil.example")],
        )
    );
    assert_eq!(r.status, 403, "{}", r.text());
    let nowhere = format!("/app/reset/{}", "ab".repeat(32));
    let r = seen!("GET", "/app/reset/{token}", anon.get(s, &nowhere));
    assert_eq!(r.status, 404, "{}", r.text());
    let twice = json!({"new": "a new long password", "again": "a new long password"});
    let r = seen!("POST", "/app/reset/{token}", anon.form(s, &nowhere, &twice));
    assert_eq!(r.status, 404, "{}", r.text());
    let csrf = crate::portal::csrf_of(&w.get(s, "/app/dashboard").text());
    let aud_csrf = crate::portal::csrf_of(&aud.get(s, "/app/dashboard").text());

    // Language, assets, dashboard, live status.
    let r = seen!(
        "GET",
        "/app/lang/{code}",
        w.get(s, "/app/lang/fr?back=%2Fapp%2Fcontacts")
    );
    assert_eq!(r.header("location"), Some("/app/contacts"));
    seen!("GET", "/app/lang/{code}", anon.get(s, "/app/lang/xx"));
    seen!(
        "GET",
        "/app/lang/{code}",
        anon.get(s, "/app/lang/en?back=a&back=b")
    );
    for (path, ct) in [
        ("/app/static/app.css", "text/css"),
        ("/app/static/app.js", "text/javascript"),
        ("/app/static/requests.js", "text/javascript"),
    ] {
        let r = seen!("GET", path, anon.get(s, &format!("{path}?v=0123")));
        assert!(r.content_type().starts_with(ct), "{}", r.content_type());
    }
    for who in [&mut w, &mut aud, &mut anon] {
        seen!("GET", "/app/dashboard", who.get(s, "/app/dashboard"));
    }
    let certified = get(&s.url(&format!("/v1/proofs/{proof}")), k).json()["subject"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = seen!(
        "GET",
        "/app/live",
        w.get(s, &format!("/app/live?ids={certified},sub_nobody,garbage"))
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let live: Value = serde_json::from_slice(&r.body).unwrap();
    assert!(
        live[&certified]["newsletter"]["status"].is_string(),
        "{live}"
    );
    seen!("GET", "/app/live", w.get(s, "/app/live"));
    seen!("GET", "/app/live", w.get(s, "/app/live?ids=a&ids=b"));
    seen!("GET", "/app/live", anon.get(s, "/app/live?ids=sub_x"));

    // Purposes and notices (admins write, everyone reads).
    let purpose = json!({"csrf": csrf, "name": "newsletter", "description": "The monthly newsletter.", "valid_days": "365"});
    let r = seen!(
        "POST",
        "/app/purposes",
        w.form(s, "/app/purposes", &purpose)
    );
    assert_eq!(r.status, 303, "{}", r.text());
    took(c, "/app/purposes", FORM, &purpose);
    let offers = json!({"csrf": csrf, "name": "offers", "description": "", "description_en": "Offers.", "valid_days": ""});
    let r = seen!("POST", "/app/purposes", w.form(s, "/app/purposes", &offers));
    assert_eq!(r.status, 303, "{}", r.text());
    took(c, "/app/purposes", FORM, &offers);
    for (mut who, fields) in [
        (
            w.clone(),
            json!({"csrf": csrf, "name": "News Letter", "description": "x"}),
        ),
        (
            w.clone(),
            json!({"csrf": "wrong", "name": "news", "description": "x"}),
        ),
        (
            w.clone(),
            json!({"csrf": csrf, "name": "news", "description": " ", "description_en": ""}),
        ),
        (
            aud.clone(),
            json!({"csrf": aud_csrf, "name": "news", "description": "x"}),
        ),
        (
            anon.clone(),
            json!({"csrf": csrf, "name": "news", "description": "x"}),
        ),
    ] {
        seen!(
            "POST",
            "/app/purposes",
            who.form(s, "/app/purposes", &fields)
        );
    }
    let notice = json!({"csrf": csrf, "purpose": "newsletter", "language": "en", "text": "We e-mail you our newsletter once a month.\r\nWithdraw at any time."});
    let r = seen!("POST", "/app/notices", w.form(s, "/app/notices", &notice));
    assert_eq!(r.status, 303, "{}", r.text());
    took(c, "/app/notices", FORM, &notice);
    let notice_id = after(r.header("location").unwrap(), "notice=", '#').to_owned();
    for (mut who, fields) in [
        (
            w.clone(),
            json!({"csrf": csrf, "purpose": "newsletter", "language": "de", "text": "x"}),
        ),
        (
            w.clone(),
            json!({"csrf": csrf, "purpose": "nothing", "language": "en", "text": "x"}),
        ),
        (
            aud.clone(),
            json!({"csrf": aud_csrf, "purpose": "newsletter", "language": "en", "text": "x"}),
        ),
        (anon.clone(), json!({"csrf": csrf})),
    ] {
        seen!("POST", "/app/notices", who.form(s, "/app/notices", &fields));
    }
    seen!(
        "GET",
        "/app/purposes",
        w.get(s, &format!("/app/purposes?notice={notice_id}"))
    );
    seen!(
        "GET",
        "/app/purposes",
        aud.get(s, "/app/purposes?saved=newsletter")
    );
    seen!(
        "GET",
        "/app/purposes",
        aud.get(s, "/app/purposes?saved=a&saved=b")
    );
    seen!("GET", "/app/purposes", anon.get(s, "/app/purposes"));

    // The address book: add, list, search, export, edit.
    seen!("GET", "/app/contacts/new", w.get(s, "/app/contacts/new"));
    seen!("GET", "/app/contacts/new", aud.get(s, "/app/contacts/new"));
    seen!("GET", "/app/contacts/new", anon.get(s, "/app/contacts/new"));
    let person = json!({
        "csrf": csrf, "email": "Web.Person@openapi.example", "name": "Web Person",
        "address": "1 rue de la Paix\r\n75002 Paris", "phone": "+33 1 23 45 67 89",
        "category": "private", "attributes": "region=north\r\nsource=fair"
    });
    let r = seen!("POST", "/app/contacts", w.form(s, "/app/contacts", &person));
    assert_eq!(r.status, 303, "{}", r.text());
    took(c, "/app/contacts", FORM, &person);
    let sub = r
        .header("location")
        .unwrap()
        .trim_start_matches("/app/contacts/")
        .to_owned();
    assert!(sub.starts_with("sub_"), "{sub}");
    let dup = seen!("POST", "/app/contacts", w.form(s, "/app/contacts", &person));
    assert_eq!(dup.status, 409, "{}", dup.text());
    for (mut who, fields) in [
        (
            w.clone(),
            json!({"csrf": csrf, "email": "x@openapi.example", "category": "robot"}),
        ),
        (w.clone(), json!({"csrf": csrf, "email": "not an address"})),
        (w.clone(), json!({"email": "x@openapi.example"})),
        (
            aud.clone(),
            json!({"csrf": aud_csrf, "email": "x@openapi.example"}),
        ),
        (
            anon.clone(),
            json!({"csrf": csrf, "email": "x@openapi.example"}),
        ),
    ] {
        seen!(
            "POST",
            "/app/contacts",
            who.form(s, "/app/contacts", &fields)
        );
    }
    let gone = crate::service::add_contact(s, key, "web.gone@openapi.example");
    let r = call(
        "POST",
        &s.url(&format!("/v1/contacts/{gone}/erase")),
        k,
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    for query in [
        String::new(),
        "?q=sub_".to_owned(),
        "?q=WEB.PERSON%40openapi.example".to_owned(),
        "?purpose=newsletter&status=granted&order=oldest&per=25".to_owned(),
        format!("?after={sub}"),
        "?status=granted".to_owned(),
        "?q=nonsense".to_owned(),
        "?per=30".to_owned(),
        "?q=a&q=b".to_owned(),
    ] {
        seen!(
            "GET",
            "/app/contacts",
            w.get(s, &format!("/app/contacts{query}"))
        );
    }
    seen!("GET", "/app/contacts", aud.get(s, "/app/contacts"));
    seen!("GET", "/app/contacts", anon.get(s, "/app/contacts?q=x"));
    // The search form: an address is answered there, anything else sent on to the list.
    let by_address = json!({"csrf": csrf, "q": "WEB.PERSON@openapi.example"});
    let r = seen!(
        "POST",
        "/app/contacts/search",
        w.form(s, "/app/contacts/search", &by_address)
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains(&sub), "{}", r.text());
    took(c, "/app/contacts/search", FORM, &by_address);
    let other = json!({"csrf": csrf, "q": "sub_", "order": "oldest", "per": "25"});
    let r = seen!(
        "POST",
        "/app/contacts/search",
        w.form(s, "/app/contacts/search", &other)
    );
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some("/app/contacts?q=sub_&order=oldest&per=25"))
    );
    took(c, "/app/contacts/search", FORM, &other);
    let r = seen!(
        "POST",
        "/app/contacts/search",
        w.form(
            s,
            "/app/contacts/search",
            &json!({"csrf": csrf, "q": "not@an@address"})
        )
    );
    assert_eq!(r.status, 400);
    let r = seen!(
        "POST",
        "/app/contacts/search",
        w.form(
            s,
            "/app/contacts/search",
            &json!({"csrf": "wrong", "q": "x"})
        )
    );
    assert_eq!(r.status, 403);
    seen!(
        "POST",
        "/app/contacts/search",
        anon.form(s, "/app/contacts/search", &json!({"csrf": "x", "q": "x"}))
    );
    let export = seen!(
        "GET",
        "/app/contacts/export",
        aud.get(s, "/app/contacts/export")
    );
    assert_eq!(export.status, 200);
    assert!(export.text().contains(&sub), "{}", export.text());
    seen!(
        "GET",
        "/app/contacts/export",
        anon.get(s, "/app/contacts/export")
    );
    let edit = format!("/app/contacts/{sub}/edit");
    let gone_edit = format!("/app/contacts/{gone}/edit");
    seen!("GET", "/app/contacts/{id}/edit", w.get(s, &edit));
    let r = seen!("GET", "/app/contacts/{id}/edit", w.get(s, &gone_edit));
    assert_eq!(r.status, 410);
    for (mut who, path) in [
        (w.clone(), "/app/contacts/sub_nobody/edit"),
        (aud.clone(), edit.as_str()),
        (anon.clone(), edit.as_str()),
    ] {
        seen!("GET", "/app/contacts/{id}/edit", who.get(s, path));
    }
    let changes = json!({"csrf": csrf, "category": "professional", "attributes": "region=south", "name": "Web P. Person", "address": "", "phone": ""});
    let r = seen!(
        "POST",
        "/app/contacts/{id}/edit",
        w.form(s, &edit, &changes)
    );
    assert_eq!(r.status, 303, "{}", r.text());
    took(c, "/app/contacts/{id}/edit", FORM, &changes);
    for (mut who, path, fields) in [
        (
            w.clone(),
            edit.as_str(),
            json!({"csrf": csrf, "attributes": "no equals sign"}),
        ),
        (
            w.clone(),
            gone_edit.as_str(),
            json!({"csrf": csrf, "category": "private"}),
        ),
        (
            w.clone(),
            "/app/contacts/sub_nobody/edit",
            json!({"csrf": csrf}),
        ),
        (aud.clone(), edit.as_str(), json!({"csrf": aud_csrf})),
        (anon.clone(), edit.as_str(), json!({"csrf": csrf})),
    ] {
        seen!(
            "POST",
            "/app/contacts/{id}/edit",
            who.form(s, path, &fields)
        );
    }

    // CSV import: the form, a preview, a refused file, the confirmation.
    seen!(
        "GET",
        "/app/contacts/import",
        w.get(s, "/app/contacts/import")
    );
    seen!(
        "GET",
        "/app/contacts/import",
        aud.get(s, "/app/contacts/import")
    );
    seen!(
        "GET",
        "/app/contacts/import",
        anon.get(s, "/app/contacts/import")
    );
    let example = seen!(
        "GET",
        "/app/contacts/import/example.csv",
        aud.get(s, "/app/contacts/import/example.csv")
    );
    assert_eq!(example.status, 200);
    seen!(
        "GET",
        "/app/contacts/import/example.csv",
        anon.get(s, "/app/contacts/import/example.csv")
    );
    let csv = "email,name,category,attr.region\r\nimported@openapi.example,Imported,private,east\r\nweb.person@openapi.example,,,\r\n";
    let fields = json!({"csrf": csrf});
    let preview = seen!(
        "POST",
        "/app/contacts/import",
        w.upload(
            s,
            "/app/contacts/import",
            &fields,
            &[("file", "book.csv", "text/csv", csv.as_bytes())]
        )
    );
    assert_eq!(preview.status, 200, "{}", preview.text());
    took(
        c,
        "/app/contacts/import",
        MULTIPART,
        &json!({"csrf": csrf, "file": csv}),
    );
    let encoded = after(&preview.text(), "name=\"csv\" value=\"", '"').to_owned();
    let bad_csv = "email,shoe_size\r\nx@openapi.example,42\r\n";
    for (mut who, fields, files) in [
        (
            w.clone(),
            json!({"csrf": csrf}),
            vec![("file", "bad.csv", "text/csv", bad_csv.as_bytes())],
        ),
        (w.clone(), json!({"csrf": csrf}), vec![]),
        (
            aud.clone(),
            json!({"csrf": aud_csrf}),
            vec![("file", "book.csv", "text/csv", csv.as_bytes())],
        ),
        (
            anon.clone(),
            json!({"csrf": csrf}),
            vec![("file", "book.csv", "text/csv", csv.as_bytes())],
        ),
    ] {
        seen!(
            "POST",
            "/app/contacts/import",
            who.upload(s, "/app/contacts/import", &fields, &files)
        );
    }
    seen!(
        "POST",
        "/app/contacts/import",
        w.form(s, "/app/contacts/import", &json!({"csrf": csrf}))
    );
    let confirm = json!({"csrf": csrf, "csv": encoded});
    let r = seen!(
        "POST",
        "/app/contacts/import/confirm",
        w.upload(s, "/app/contacts/import/confirm", &confirm, &[])
    );
    assert_eq!(r.status, 200, "{}", r.text());
    took(c, "/app/contacts/import/confirm", MULTIPART, &confirm);
    {
        use base64::Engine as _;
        let bad = base64::engine::general_purpose::STANDARD.encode(bad_csv);
        for (mut who, fields) in [
            (w.clone(), json!({"csrf": csrf, "csv": bad})),
            (w.clone(), json!({"csrf": csrf, "csv": "not base64!"})),
            (aud.clone(), json!({"csrf": aud_csrf, "csv": encoded})),
            (anon.clone(), json!({"csrf": csrf, "csv": encoded})),
        ] {
            seen!(
                "POST",
                "/app/contacts/import/confirm",
                who.upload(s, "/app/contacts/import/confirm", &fields, &[])
            );
        }
    }

    // A contact's page and consents recorded by hand (a file, a note), then the downloads.
    let page = format!("/app/contacts/{sub}");
    let consents = format!("{page}/consents");
    let with_file = json!({"csrf": csrf, "purpose": "newsletter", "purpose_other": "", "decision": "granted", "valid_days": "", "evidence_note": ""});
    let evidence = b"Signed paper form, scanned.\n";
    let r = seen!(
        "POST",
        "/app/contacts/{id}/consents",
        w.upload(
            s,
            &consents,
            &with_file,
            &[("evidence_file", "form.txt", "text/plain", evidence)]
        )
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let mut sent = with_file.clone();
    sent["evidence_file"] = json!(String::from_utf8_lossy(evidence));
    took(c, "/app/contacts/{id}/consents", MULTIPART, &sent);
    let filed = after(r.header("location").unwrap(), "recorded=", '&').to_owned();
    let with_note = json!({"csrf": csrf, "purpose_other": "sms", "decision": "refused", "given_on": "2026-01-15", "notice": "", "evidence_note": "Said no on the phone."});
    let r = seen!(
        "POST",
        "/app/contacts/{id}/consents",
        w.upload(s, &consents, &with_note, &[])
    );
    assert_eq!(r.status, 303, "{}", r.text());
    took(c, "/app/contacts/{id}/consents", MULTIPART, &with_note);
    let noted = after(r.header("location").unwrap(), "recorded=", '&').to_owned();
    for (mut who, path, fields) in [
        (
            w.clone(),
            consents.clone(),
            json!({"csrf": csrf, "purpose": "newsletter"}),
        ),
        (
            w.clone(),
            consents.clone(),
            json!({"csrf": csrf, "purpose": "newsletter", "decision": "granted", "valid_days": "0"}),
        ),
        (
            w.clone(),
            format!("/app/contacts/{gone}/consents"),
            json!({"csrf": csrf, "purpose": "newsletter", "decision": "granted"}),
        ),
        (
            w.clone(),
            "/app/contacts/sub_nobody/consents".to_owned(),
            json!({"csrf": csrf, "purpose": "newsletter", "decision": "granted"}),
        ),
        (
            aud.clone(),
            consents.clone(),
            json!({"csrf": aud_csrf, "purpose": "newsletter", "decision": "granted"}),
        ),
        (
            anon.clone(),
            consents.clone(),
            json!({"csrf": csrf, "purpose": "newsletter", "decision": "granted"}),
        ),
    ] {
        seen!(
            "POST",
            "/app/contacts/{id}/consents",
            who.upload(s, &path, &fields, &[])
        );
    }
    seen!(
        "POST",
        "/app/contacts/{id}/consents",
        w.form(s, &consents, &json!({"csrf": csrf, "decision": "granted"}))
    );
    for (mut who, path) in [
        (w.clone(), format!("{page}?recorded={filed}")),
        (aud.clone(), page.clone()),
        (aud.clone(), format!("/app/contacts/{gone}")),
        (w.clone(), "/app/contacts/sub_nobody".to_owned()),
        (w.clone(), format!("{page}?recorded=a&recorded=b")),
        (anon.clone(), page.clone()),
    ] {
        seen!("GET", "/app/contacts/{id}", who.get(s, &path));
    }
    let downloads = [
        ("/app/proofs/{id}", ""),
        ("/app/proofs/{id}/pdf", "/pdf"),
        ("/app/proofs/{id}/certificate", "/certificate"),
        ("/app/proofs/{id}/certificate.pdf", "/certificate.pdf"),
        ("/app/proofs/{id}/evidence", "/evidence"),
    ];
    for (template, suffix) in downloads {
        // The anchored proof of the API (no evidence file), the pending one with its file.
        for (mut who, id) in [(aud.clone(), proof), (w.clone(), filed.as_str())] {
            seen!(
                "GET",
                template,
                who.get(s, &format!("/app/proofs/{id}{suffix}"))
            );
        }
        for (mut who, id) in [
            (w.clone(), "prf_nothing"),
            (w.clone(), "garbage"),
            (anon.clone(), proof),
        ] {
            seen!(
                "GET",
                template,
                who.get(s, &format!("/app/proofs/{id}{suffix}"))
            );
        }
    }
    // Disclosure (admins): the button on the contact's proofs (admins only), the file,
    // and the refusals.
    assert!(
        w.get(s, &page).text().contains("/disclosure\""),
        "an admin sees the disclosure form"
    );
    assert!(
        !aud.get(s, &page).text().contains("/disclosure\""),
        "an auditor does not"
    );
    let disclose = format!("/app/proofs/{proof}/disclosure");
    let body = json!({"csrf": csrf, "ground": "legal-claim"});
    took(c, "/app/proofs/{id}/disclosure", FORM, &body);
    let r = seen!(
        "POST",
        "/app/proofs/{id}/disclosure",
        w.form(s, &disclose, &body)
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.header("content-disposition")
            .unwrap_or("")
            .starts_with("attachment"),
        "{:?}",
        r.header("content-disposition")
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&r.body).unwrap()["type"],
        "consentry.disclosure/v1"
    );
    for (mut who, path, fields) in [
        (
            aud.clone(),
            disclose.clone(),
            json!({"csrf": aud_csrf, "ground": "legal-claim"}),
        ),
        (
            w.clone(),
            disclose.clone(),
            json!({"csrf": csrf, "ground": "curiosity"}),
        ),
        (
            w.clone(),
            "/app/proofs/prf_nothing/disclosure".to_owned(),
            body.clone(),
        ),
        (anon.clone(), disclose.clone(), body.clone()),
    ] {
        seen!(
            "POST",
            "/app/proofs/{id}/disclosure",
            who.form(s, &path, &fields)
        );
    }
    let r = w.get(s, &format!("/app/proofs/{filed}/evidence"));
    assert_eq!((r.status, r.body.as_slice()), (200, evidence.as_slice()));
    let r = w.get(s, &format!("/app/proofs/{noted}/evidence"));
    assert_eq!(r.status, 404);
    c.response("GET", "/app/proofs/{id}/evidence", &page_res(&r));
    let r = w.get(s, &format!("/app/proofs/{proof}/certificate"));
    assert_eq!(
        r.content_type(),
        "application/json",
        "anchored: {}",
        r.text()
    );
    let r = w.get(s, &format!("/app/proofs/{filed}/certificate.pdf"));
    assert!(
        r.content_type().starts_with("text/html"),
        "pending: {}",
        r.content_type()
    );

    // Consent requests: the form, the requests, resend and cancel.
    for (mut who, query) in [
        (
            w.clone(),
            format!("?contact={sub}&contact={certified}&ask=newsletter"),
        ),
        (w.clone(), "?purpose=newsletter&status=none".to_owned()),
        (w.clone(), String::new()),
        (w.clone(), "?purpose=newsletter&status=maybe".to_owned()),
        (aud.clone(), format!("?contact={sub}")),
        (anon.clone(), format!("?contact={sub}")),
    ] {
        seen!(
            "GET",
            "/app/requests/new",
            who.get(s, &format!("/app/requests/new{query}"))
        );
    }
    // The sendings before any: a page, never an error.
    for mut who in [w.clone(), aud.clone(), anon.clone()] {
        seen!("GET", "/app/requests", who.get(s, "/app/requests"));
    }
    // A contact not granted yet (`sub` is: it would be skipped).
    let asked = crate::service::add_contact(s, key, "asked.person@openapi.example");
    let ask = json!({
        "csrf": csrf, "contact": [asked, "sub_nobody"], "purpose": "newsletter", "notice": notice_id,
        "language": "", "response_days": "15", "valid_days": "30"
    });
    // The preview, then the sending of what it showed.
    let r = seen!(
        "POST",
        "/app/requests/preview",
        w.form(s, "/app/requests/preview", &ask)
    );
    assert_eq!(r.status, 200, "{}", r.text());
    took(c, "/app/requests/preview", FORM, &ask);
    let preview = r.text();
    let expected = after(&preview, "name=\"expected\" value=\"", '"').to_owned();
    let answer_preview =
        after(&preview, "id=\"preview-answer-link\" href=\"", '"').replace("&amp;", "&");
    for (mut who, path) in [
        (w.clone(), answer_preview.clone()),
        (
            w.clone(),
            "/app/requests/preview/answer?notice=ntc_nothing".to_owned(),
        ),
        (
            w.clone(),
            "/app/requests/preview/answer?response_days=x".to_owned(),
        ),
        (aud.clone(), answer_preview.clone()),
        (anon.clone(), answer_preview.clone()),
    ] {
        seen!("GET", "/app/requests/preview/answer", who.get(s, &path));
    }
    for (mut who, fields) in [
        (
            w.clone(),
            json!({"csrf": csrf, "contact": [sub], "purpose": "sms", "notice": notice_id}),
        ),
        (
            w.clone(),
            json!({"csrf": csrf, "contact": [sub], "notice": notice_id, "response_days": "99"}),
        ),
        (
            aud.clone(),
            json!({"csrf": aud_csrf, "contact": [sub], "notice": notice_id}),
        ),
        (
            anon.clone(),
            json!({"csrf": csrf, "contact": [sub], "notice": notice_id}),
        ),
    ] {
        seen!(
            "POST",
            "/app/requests/preview",
            who.form(s, "/app/requests/preview", &fields)
        );
    }
    let mut stale = ask.clone();
    stale["expected"] = json!("0".repeat(64));
    stale["expected_count"] = json!("3");
    let r = seen!("POST", "/app/requests", w.form(s, "/app/requests", &stale));
    assert_eq!(
        r.status,
        409,
        "a list other than the one previewed: {}",
        r.text()
    );
    let mut send = ask.clone();
    send["expected"] = json!(expected);
    send["expected_count"] = json!("1");
    let r = seen!("POST", "/app/requests", w.form(s, "/app/requests", &send));
    assert_eq!(r.status, 303, "{}", r.text());
    took(c, "/app/requests", FORM, &send);
    let result = r.header("location").unwrap().to_owned();
    assert!(result.starts_with("/app/requests/batch/bat_"), "{result}");
    for (mut who, path) in [
        (w.clone(), result.clone()),
        (aud.clone(), result.clone()),
        (w.clone(), "/app/requests/batch/bat_nothing0".to_owned()),
        (anon.clone(), result.clone()),
    ] {
        seen!("GET", "/app/requests/batch/{id}", who.get(s, &path));
    }
    let by_filter = json!({
        "csrf": csrf, "filter_purpose": "sms", "filter_status": "refused", "notice": notice_id,
        "response_days": ""
    });
    let r = seen!(
        "POST",
        "/app/requests",
        w.form(s, "/app/requests", &by_filter)
    );
    assert_eq!(r.status, 303, "{}", r.text());
    took(c, "/app/requests", FORM, &by_filter);
    seen!("GET", "/app/requests", w.get(s, "/app/requests"));
    for (mut who, fields) in [
        (
            w.clone(),
            json!({"csrf": csrf, "contact": [sub], "notice": "ntc_nothing"}),
        ),
        (
            w.clone(),
            json!({"csrf": csrf, "contact": [sub], "notice": notice_id, "response_days": "99"}),
        ),
        (
            w.clone(),
            json!({"csrf": csrf, "contact": [sub], "notice": notice_id, "language": "fr"}),
        ),
        (
            aud.clone(),
            json!({"csrf": aud_csrf, "contact": [sub], "notice": notice_id}),
        ),
        (
            anon.clone(),
            json!({"csrf": csrf, "contact": [sub], "notice": notice_id}),
        ),
    ] {
        seen!(
            "POST",
            "/app/requests",
            who.form(s, "/app/requests", &fields)
        );
    }
    let timeline = w.get(s, &format!("/app/contacts/{asked}")).text();
    let request = after(&timeline, "action=\"/app/requests/", '/').to_owned();
    assert!(request.starts_with("req_"), "{request}");
    let token = json!({"csrf": csrf});
    let confirmed = json!({"csrf": csrf, "confirm": "yes"});
    // Cancelling asks first: the confirmation page; a post without `confirm` changes
    // nothing and leads there.
    for (mut who, path) in [
        (w.clone(), format!("/app/requests/{request}/cancel")),
        (w.clone(), "/app/requests/req_nothing/cancel".to_owned()),
        (aud.clone(), format!("/app/requests/{request}/cancel")),
        (anon.clone(), format!("/app/requests/{request}/cancel")),
    ] {
        seen!("GET", "/app/requests/{id}/cancel", who.get(s, &path));
    }
    let r = seen!(
        "POST",
        "/app/requests/{id}/cancel",
        w.form(s, &format!("/app/requests/{request}/cancel"), &token)
    );
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(
        r.header("location"),
        Some(format!("/app/requests/{request}/cancel").as_str())
    );
    took(c, "/app/requests/{id}/cancel", FORM, &token);
    for action in ["resend", "cancel"] {
        let template = format!("/app/requests/{{id}}/{action}");
        let path = format!("/app/requests/{request}/{action}");
        let fields = if action == "cancel" {
            &confirmed
        } else {
            &token
        };
        let r = seen!("POST", &template, w.form(s, &path, fields));
        assert_eq!(r.status, 303, "{action}: {}", r.text());
        took(c, &template, FORM, fields);
        for (mut who, path, fields) in [
            (
                w.clone(),
                format!("/app/requests/req_nothing/{action}"),
                json!({"csrf": csrf}),
            ),
            (w.clone(), path.clone(), json!({"csrf": "wrong"})),
            (aud.clone(), path.clone(), json!({"csrf": aud_csrf})),
            (anon.clone(), path.clone(), json!({"csrf": csrf})),
        ] {
            seen!("POST", &template, who.form(s, &path, &fields));
        }
    }
    for action in ["resend", "cancel"] {
        // Cancelled: neither works any more.
        let fields = if action == "cancel" {
            &confirmed
        } else {
            &token
        };
        let r = seen!(
            "POST",
            &format!("/app/requests/{{id}}/{action}"),
            w.form(s, &format!("/app/requests/{request}/{action}"), fields)
        );
        assert_eq!(r.status, 400, "{action} after cancel: {}", r.text());
    }
    seen!(
        "GET",
        "/app/requests/{id}/cancel",
        w.get(s, &format!("/app/requests/{request}/cancel"))
    );

    // The organisation's settings: its contact for recipients (admins only).
    seen!("GET", "/app/settings", w.get(s, "/app/settings"));
    seen!(
        "GET",
        "/app/settings",
        w.get(s, "/app/settings?saved=a&saved=b")
    );
    seen!("GET", "/app/settings", aud.get(s, "/app/settings"));
    seen!("GET", "/app/settings", anon.get(s, "/app/settings"));
    let settings = json!({"csrf": csrf, "contact": "privacy@openapi.example"});
    let r = seen!(
        "POST",
        "/app/settings",
        w.form(s, "/app/settings", &settings)
    );
    assert_eq!(r.status, 303, "{}", r.text());
    took(c, "/app/settings", FORM, &settings);
    let r = seen!("GET", "/app/settings", w.get(s, "/app/settings?saved=1"));
    assert!(r.text().contains("privacy@openapi.example"), "{}", r.text());
    for (mut who, fields) in [
        (
            w.clone(),
            json!({"csrf": csrf, "contact": "http://openapi.example/privacy"}),
        ),
        (aud.clone(), json!({"csrf": aud_csrf, "contact": ""})),
        (anon.clone(), settings.clone()),
    ] {
        seen!(
            "POST",
            "/app/settings",
            who.form(s, "/app/settings", &fields)
        );
    }

    // Users: the list, adding, disabling; one's own password.
    seen!("GET", "/app/users", w.get(s, "/app/users"));
    seen!("GET", "/app/users", aud.get(s, "/app/users"));
    seen!("GET", "/app/users", anon.get(s, "/app/users"));
    let user = json!({"csrf": csrf, "email": "olga.operator@openapi.example", "role": "operator"});
    let r = seen!("POST", "/app/users", w.form(s, "/app/users", &user));
    assert_eq!(r.status, 201, "{}", r.text());
    took(c, "/app/users", FORM, &user);
    let added = after(&r.text(), "id=\"new-user-id\">", '<').to_owned();
    assert!(added.starts_with("usr_"), "{added}");
    for (mut who, fields) in [
        (w.clone(), user.clone()),
        (
            w.clone(),
            json!({"csrf": csrf, "email": "x@openapi.example", "role": "root"}),
        ),
        (
            aud.clone(),
            json!({"csrf": aud_csrf, "email": "x@openapi.example", "role": "admin"}),
        ),
        (anon.clone(), user.clone()),
    ] {
        seen!("POST", "/app/users", who.form(s, "/app/users", &fields));
    }
    let disable = format!("/app/users/{added}/disable");
    let r = seen!(
        "POST",
        "/app/users/{id}/disable",
        w.form(s, &disable, &token)
    );
    assert_eq!(r.status, 303, "{}", r.text());
    took(c, "/app/users/{id}/disable", FORM, &token);
    for (mut who, path, fields) in [
        (
            w.clone(),
            "/app/users/usr_nothing/disable".to_owned(),
            token.clone(),
        ),
        (
            w.clone(),
            format!("/app/users/{admin_id}/disable"),
            token.clone(),
        ),
        (aud.clone(), disable.clone(), json!({"csrf": aud_csrf})),
        (anon.clone(), disable.clone(), token.clone()),
    ] {
        seen!(
            "POST",
            "/app/users/{id}/disable",
            who.form(s, &path, &fields)
        );
    }
    seen!(
        "GET",
        "/app/account/password",
        aud.get(s, "/app/account/password")
    );
    seen!(
        "GET",
        "/app/account/password",
        anon.get(s, "/app/account/password")
    );
    for fields in [
        json!({"csrf": aud_csrf, "current": "not the password", "new": "a new long password", "again": "a new long password"}),
        json!({"csrf": aud_csrf, "current": STAFF_PASSWORD, "new": "a new long password", "again": "another one entirely"}),
        json!({"csrf": aud_csrf, "current": STAFF_PASSWORD, "new": "short", "again": "short"}),
        json!({"csrf": "wrong"}),
    ] {
        seen!(
            "POST",
            "/app/account/password",
            aud.form(s, "/app/account/password", &fields)
        );
    }
    seen!(
        "POST",
        "/app/account/password",
        anon.form(s, "/app/account/password", &json!({"csrf": aud_csrf}))
    );
    let change = json!({"csrf": aud_csrf, "current": STAFF_PASSWORD, "new": "a new long password", "again": "a new long password"});
    let r = seen!(
        "POST",
        "/app/account/password",
        aud.form(s, "/app/account/password", &change)
    );
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some("/app/login")),
        "{}",
        r.text()
    );
    took(c, "/app/account/password", FORM, &change);
    assert!(aud.cookie.is_none(), "the session ended");
    // The per-user limit: a new session, then attempts until it answers 429.
    let r = aud.form(
        s,
        "/app/login",
        &json!({"email": "aude.auditor@openapi.example", "password": "a new long password"}),
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let aud_csrf = crate::portal::csrf_of(&aud.get(s, "/app/dashboard").text());
    let wrong_current = json!({"csrf": aud_csrf, "current": "wrong", "new": "a new long password", "again": "a new long password"});
    let limited = (0..12)
        .map(|_| aud.form(s, "/app/account/password", &wrong_current))
        .find(|r| r.status == 429)
        .expect("the per-user password limit");
    assert!(limited.header("retry-after").is_some());
    c.response("POST", "/app/account/password", &page_res(&limited));

    // Signing out, and the sign-in limit per address.
    seen!(
        "POST",
        "/app/logout",
        w.form(s, "/app/logout", &json!({"csrf": "wrong"}))
    );
    let r = seen!("POST", "/app/logout", w.form(s, "/app/logout", &token));
    assert_eq!((r.status, r.header("location")), (303, Some("/app/login")));
    took(c, "/app/logout", FORM, &token);
    assert!(w.cookie.is_none());
    seen!("POST", "/app/logout", w.form(s, "/app/logout", &token));
    let limited = (0..12)
        .map(|_| {
            anon.form(
                s,
                "/app/login",
                &json!({"email": "nobody@openapi.example", "password": "wrong"}),
            )
        })
        .find(|r| r.status == 429)
        .expect("the per-address sign-in limit");
    assert!(limited.header("retry-after").is_some());
    c.response("POST", "/app/login", &page_res(&limited));
}
