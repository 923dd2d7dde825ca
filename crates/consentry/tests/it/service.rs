//! The sender's walk through the API, tenant isolation, no plaintext at rest, bad input.

use crate::util::{Db, Env, Server, get, post, post_raw};
use consentry_core::checkpoint::verify_signed_checkpoint;
use consentry_core::merkle::{leaf_hash, verify_inclusion};
use serde_json::{Value, json};
use std::process::Command;
use std::time::{Duration, Instant};

/// The published keys.
pub fn well_known(s: &Server) -> (String, String) {
    let wk = get(&s.url("/.well-known/consentry.json"), None).json();
    (
        wk["seal_keys"][0]["public_key"]
            .as_str()
            .unwrap()
            .to_owned(),
        wk["log"]["verifier_key"].as_str().unwrap().to_owned(),
    )
}

/// Polls until a checkpoint covers `size` leaves; returns the note.
pub fn checkpoint_covering(s: &Server, size: u64) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = get(&s.url("/v1/log/checkpoint"), None);
        if r.status == 200 {
            let note = r.text();
            let n: u64 = note.lines().nth(1).unwrap().parse().unwrap();
            if n >= size {
                return note;
            }
        }
        assert!(Instant::now() < deadline, "no checkpoint covering {size}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn add_contact(s: &Server, key: &str, email: &str) -> String {
    let r = post(
        &s.url("/v1/contacts"),
        Some(key),
        &json!({"email": email, "name": "Test Person", "category": "private"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_owned()
}

pub fn consent(s: &Server, key: &str, contact: &str, purpose: &str, decision: &str) -> Vec<u8> {
    let r = post(
        &s.url(&format!("/v1/contacts/{contact}/consents")),
        Some(key),
        &json!({"purpose": purpose, "decision": decision, "evidence": "paper form 12"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    r.body
}

fn walk(db: Db) {
    let env = Env::new(db);
    let (_tenant, key) = env.tenant("ACME SAS");
    let s = env.start();
    assert_eq!(get(&s.url("/healthz"), None).status, 200);
    let (seal_key, log_key) = well_known(&s);

    let contact = add_contact(&s, &key, "marie.curie@example.org");
    let proof_bytes = consent(&s, &key, &contact, "newsletter", "granted");
    let proof: Value = serde_json::from_slice(&proof_bytes).unwrap();
    assert_eq!(proof["type"], "consentry.proof/v1");
    assert_eq!(proof["subject"], contact.as_str());
    assert_eq!(proof["decision"], "granted");
    let id = proof["id"].as_str().unwrap();

    // The served proof is the acknowledged one, byte for byte, and verifies.
    let served = get(&s.url(&format!("/v1/proofs/{id}")), Some(&key));
    assert_eq!(served.status, 200);
    assert_eq!(served.body, proof_bytes);
    let file = env.dir.path().join("proof.json");
    std::fs::write(&file, &served.body).unwrap();
    let out = Command::new(crate::util::BIN)
        .args(["verify", "--seal-key", &seal_key])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // A genuine refusal with `"decision":"granted"` inserted before its real member: a
    // first-wins reader sees a grant, serde a refusal. The verifier reads it neither way:
    // unusable input (exit 2), saying why.
    let other = add_contact(&s, &key, "pierre.curie@example.org");
    let refusal = consent(&s, &key, &other, "offers", "refused");
    let text = String::from_utf8(refusal).unwrap();
    assert!(text.contains(r#""decision":"refused""#));
    let forged = text.replacen(
        r#""decision":"refused""#,
        r#""decision":"granted","decision":"refused""#,
        1,
    );
    let file = env.dir.path().join("forged.json");
    std::fs::write(&file, forged).unwrap();
    let out = Command::new(crate::util::BIN)
        .args(["verify", "--seal-key", &seal_key])
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("\"decision\" appears twice"), "{stderr}");

    // The book shows the status, pseudonymously.
    let c = get(&s.url(&format!("/v1/contacts/{contact}")), Some(&key)).json();
    assert_eq!(c["consents"]["newsletter"]["status"], "granted");
    assert_eq!(c["consents"]["newsletter"]["proof_id"], id);
    assert!(c.get("email").is_none() && c.get("name").is_none());
    let list = get(
        &s.url("/v1/contacts?purpose=newsletter&status=granted"),
        Some(&key),
    )
    .json();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let none = get(
        &s.url("/v1/contacts?purpose=newsletter&status=refused"),
        Some(&key),
    )
    .json();
    assert_eq!(none["items"].as_array().unwrap().len(), 0);

    // The PDF reads: purpose and decision are in its text.
    let pdf = get_with_lang(&s, &format!("/v1/proofs/{id}.pdf"), &key, "en");
    assert_eq!(pdf.status, 200);
    assert_eq!(pdf.content_type, "application/pdf");
    let text = pdftotext(&env, &pdf.body);
    assert!(text.contains("newsletter"), "{text}");
    assert!(text.to_lowercase().contains("granted"), "{text}");
    assert!(text.contains(id), "{text}");
    let pdf_fr = get_with_lang(&s, &format!("/v1/proofs/{id}.pdf"), &key, "fr-FR,fr;q=0.9");
    assert!(pdftotext(&env, &pdf_fr.body).contains("Accordé"));

    // The log: a signed checkpoint covering the proof, and its inclusion proof.
    let index = proof["log_index"].as_u64().unwrap();
    let note = checkpoint_covering(&s, index + 1);
    let cp = verify_signed_checkpoint(&note, &log_key)
        .unwrap()
        .checkpoint;
    let inc = get(
        &s.url(&format!(
            "/v1/log/proof/inclusion?index={index}&size={}",
            cp.size
        )),
        None,
    )
    .json();
    let path = crate::util::hashes(&inc);
    let canonical = consentry_core::canonical::to_canonical_bytes(&proof).unwrap();
    let leaf = leaf_hash(&canonical);
    assert_eq!(inc["leaf_hash"], leaf.to_base64());
    verify_inclusion(index, cp.size, &leaf, &path, &cp.root).unwrap();

    // A paper form signed earlier, with the notice it showed: the proof says when the
    // consent was given, apart from when it was recorded, and the validity counts from it.
    let day_ms = 86_400_000;
    let now_ms = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap();
    let given = consentry_core::time::Timestamp::from_unix_millis(now_ms - 40 * day_ms).unwrap();
    let paper = add_contact(&s, &key, "irene.curie@example.org");
    let r = post(
        &s.url(&format!("/v1/contacts/{paper}/consents")),
        Some(&key),
        &json!({"purpose": "newsletter", "decision": "granted", "given_at": given.to_string(),
                "valid_days": 365,
                "notice": {"text": "Notre lettre mensuelle.", "version": "3", "language": "fr"}}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let dated = r.json();
    assert_eq!(dated["given_at"], given.to_string(), "{dated:#}");
    let at = |m: &str| {
        consentry_core::time::Timestamp::parse(dated[m].as_str().unwrap())
            .unwrap()
            .unix_millis()
    };
    assert!(at("recorded_at") >= now_ms, "{dated:#}");
    assert_eq!(
        at("valid_until"),
        given.unix_millis() + 365 * day_ms,
        "{dated:#}"
    );
    assert_eq!(dated["notice"]["version"], "3");
    assert_eq!(
        dated["notice"]["sha256"],
        consentry_core::merkle::Hash::digest("Notre lettre mensuelle.".as_bytes()).to_hex()
    );
    let file = env.dir.path().join("dated.json");
    std::fs::write(&file, &r.body).unwrap();
    let out = Command::new(crate::util::BIN)
        .args(["verify", "--seal-key", &seal_key])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // A decision without a date has no `given_at` member at all.
    assert!(proof.get("given_at").is_none(), "{proof:#}");

    // A second decision changes the status; the first proof stays.
    consent(&s, &key, &contact, "newsletter", "revoked");
    let c = get(&s.url(&format!("/v1/contacts/{contact}")), Some(&key)).json();
    assert_eq!(c["consents"]["newsletter"]["status"], "revoked");
    assert_eq!(
        get(&s.url(&format!("/v1/proofs/{id}")), Some(&key)).body,
        proof_bytes
    );

    assert!(s.terminate().success(), "graceful shutdown exits 0");
}

fn get_with_lang(s: &Server, path: &str, key: &str, lang: &str) -> crate::util::Res {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut r = agent
        .get(&s.url(path))
        .header("Authorization", &format!("Bearer {key}"))
        .header("Accept-Language", lang)
        .call()
        .unwrap();
    crate::util::Res {
        status: r.status().as_u16(),
        content_type: r
            .headers()
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned(),
        body: r
            .body_mut()
            .with_config()
            .limit(10_000_000)
            .read_to_vec()
            .unwrap(),
    }
}

pub fn pdftotext(env: &Env, pdf: &[u8]) -> String {
    let p = env
        .dir
        .path()
        .join(format!("p{:x}.pdf", rand::random::<u32>()));
    std::fs::write(&p, pdf).unwrap();
    let out = Command::new("pdftotext")
        .args(["-layout"])
        .arg(&p)
        .arg("-")
        .output()
        .unwrap_or_else(|e| panic!("pdftotext (Debian poppler-utils) is required: {e}"));
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn sqlite_walk() {
    walk(Db::Sqlite);
}

#[test]
fn postgres_walk() {
    walk(Db::Postgres);
}

fn isolation(db: Db) {
    let env = Env::new(db);
    let (_, a) = env.tenant("Alpha");
    let (_, b) = env.tenant("Beta");
    let s = env.start();
    let contact = add_contact(&s, &a, "only.alpha@example.com");
    let proof: Value =
        serde_json::from_slice(&consent(&s, &a, &contact, "sms", "granted")).unwrap();
    let pid = proof["id"].as_str().unwrap();
    for path in [
        format!("/v1/contacts/{contact}"),
        format!("/v1/proofs/{pid}"),
        format!("/v1/proofs/{pid}.pdf"),
    ] {
        let r = get(&s.url(&path), Some(&b));
        assert_eq!(r.status, 404, "{path}: {}", r.text());
        assert_eq!(r.content_type, "application/problem+json");
    }
    let r = post(
        &s.url(&format!("/v1/contacts/{contact}/consents")),
        Some(&b),
        &json!({"purpose": "sms", "decision": "refused"}),
    );
    assert_eq!(r.status, 404);
    assert_eq!(
        get(&s.url("/v1/contacts"), Some(&b)).json()["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    // The same address in another book is another contact.
    let other = add_contact(&s, &b, "only.alpha@example.com");
    assert_ne!(other, contact);
    // Status unchanged for A.
    let c = get(&s.url(&format!("/v1/contacts/{contact}")), Some(&a)).json();
    assert_eq!(c["consents"]["sms"]["status"], "granted");
    assert_eq!(get(&s.url("/v1/contacts"), None).status, 401);
    assert_eq!(
        get(
            &s.url("/v1/contacts"),
            Some("csk_0000000000000000000000000000000000000000000000000000000000000000")
        )
        .status,
        401
    );
}

#[test]
fn sqlite_tenants_are_isolated() {
    isolation(Db::Sqlite);
}

#[test]
fn postgres_tenants_are_isolated() {
    isolation(Db::Postgres);
}

fn no_plaintext(db: Db) {
    let env = Env::new(db);
    let (_, key) = env.tenant("ACME");
    let s = env.start();
    let r = post(
        &s.url("/v1/contacts"),
        Some(&key),
        &json!({"email": "Zebulon.Quixote@Unlikely-Domain.example", "name": "Zebulon Quixotesque",
                "address": "17 rue des Quenouilles, 75011 Paris", "phone": "+33 6 12 34 56 78"}),
    );
    assert_eq!(r.status, 201);
    let contact = r.json()["id"].as_str().unwrap().to_owned();
    consent(&s, &key, &contact, "newsletter", "granted");
    let _ = checkpoint_covering(&s, 1);
    let logs = s.logs();
    drop(s);
    let raw = String::from_utf8_lossy(&env.raw_database()).to_lowercase();
    assert!(raw.len() > 1000, "the dump holds the tables");
    assert!(raw.contains(&contact), "the dump holds the contact's row");
    for needle in [
        "zebulon",
        "quixote",
        "unlikely-domain",
        "quenouilles",
        "12 34 56 78",
    ] {
        assert!(
            !raw.contains(needle),
            "{needle:?} found in clear in the database"
        );
        assert!(
            !logs.to_lowercase().contains(needle),
            "{needle:?} found in the service's logs"
        );
    }
}

#[test]
fn sqlite_holds_no_plaintext_identity() {
    no_plaintext(Db::Sqlite);
}

#[test]
fn postgres_holds_no_plaintext_identity() {
    no_plaintext(Db::Postgres);
}

fn bad_input(db: Db) {
    let env = Env::new(db);
    let (_, key) = env.tenant("ACME");
    let s = env.start();
    let contact = add_contact(&s, &key, "a@example.com");
    let consents = s.url(&format!("/v1/contacts/{contact}/consents"));
    let big = format!(
        "{{\"purpose\":\"x\",\"decision\":\"granted\",\"evidence\":\"{}\"}}",
        "a".repeat(200_000)
    );
    let cases: Vec<(&str, String, &str, Vec<u8>, u16)> = vec![
        (
            "not json",
            consents.clone(),
            "application/json",
            b"{nope".to_vec(),
            400,
        ),
        (
            "truncated",
            consents.clone(),
            "application/json",
            br#"{"purpose":"x","#.to_vec(),
            400,
        ),
        (
            "wrong type",
            consents.clone(),
            "application/json",
            br#"{"purpose":1,"decision":"granted"}"#.to_vec(),
            422,
        ),
        (
            "unknown field",
            consents.clone(),
            "application/json",
            br#"{"purpose":"x","decision":"granted","admin":true}"#.to_vec(),
            422,
        ),
        (
            "bad decision",
            consents.clone(),
            "application/json",
            br#"{"purpose":"x","decision":"maybe"}"#.to_vec(),
            422,
        ),
        (
            "bad purpose",
            consents.clone(),
            "application/json",
            br#"{"purpose":"Bad Purpose!","decision":"granted"}"#.to_vec(),
            422,
        ),
        (
            "not an object",
            consents.clone(),
            "application/json",
            b"[1,2,3]".to_vec(),
            422,
        ),
        (
            "wrong media type",
            consents.clone(),
            "text/plain",
            br#"{"purpose":"x","decision":"granted"}"#.to_vec(),
            415,
        ),
        (
            "oversize",
            consents.clone(),
            "application/json",
            big.into_bytes(),
            413,
        ),
        (
            "bad email",
            s.url("/v1/contacts"),
            "application/json",
            br#"{"email":"not-an-address"}"#.to_vec(),
            422,
        ),
        (
            "consent given in the future",
            consents.clone(),
            "application/json",
            br#"{"purpose":"x","decision":"granted","given_at":"2999-01-01T00:00:00.000Z"}"#
                .to_vec(),
            422,
        ),
        (
            "consent given more than ten years ago",
            consents.clone(),
            "application/json",
            br#"{"purpose":"x","decision":"granted","given_at":"1999-01-01T00:00:00.000Z"}"#
                .to_vec(),
            422,
        ),
        (
            "unknown contact",
            s.url("/v1/contacts/sub_0000/consents"),
            "application/json",
            br#"{"purpose":"x","decision":"granted"}"#.to_vec(),
            404,
        ),
        (
            "malformed contact id",
            s.url("/v1/contacts/..%2F..%2Fetc/consents"),
            "application/json",
            br#"{"purpose":"x","decision":"granted"}"#.to_vec(),
            404,
        ),
    ];
    for (name, url, ct, body, status) in cases {
        let r = post_raw(&url, Some(&key), ct, &body);
        assert_eq!(r.status, status, "{name}: {}", r.text());
        assert_eq!(r.content_type, "application/problem+json", "{name}");
        let p = r.json();
        assert!(
            p["type"]
                .as_str()
                .unwrap()
                .starts_with("urn:consentry:problem:"),
            "{name}"
        );
        assert_eq!(p["status"], status, "{name}");
        assert!(!p["detail"].as_str().unwrap().is_empty(), "{name}");
    }
    for (name, path) in [
        ("bad limit", "/v1/contacts?limit=0"),
        ("unknown query", "/v1/contacts?evil=1"),
        ("bad status", "/v1/contacts?purpose=x&status=weird"),
        ("inclusion beyond", "/v1/log/proof/inclusion?index=0&size=5"),
        (
            "inclusion not a number",
            "/v1/log/proof/inclusion?index=a&size=1",
        ),
        ("repeated query field", "/v1/contacts?limit=5&limit=6"),
        // Answered by axum before any handler, in plain text, but for the service's
        // rejection layer: a path segment that is not UTF-8.
        ("id not UTF-8", "/v1/proofs/%FF"),
    ] {
        let r = get(&s.url(path), Some(&key));
        assert!((400..500).contains(&r.status), "{name}: {}", r.status);
        assert_eq!(r.content_type, "application/problem+json", "{name}");
        assert!(
            r.json()["type"]
                .as_str()
                .unwrap()
                .starts_with("urn:consentry:problem:"),
            "{name}"
        );
    }
    // A method the path does not have: 405 as problem+json too (axum's is empty).
    let r = post_raw(
        &s.url("/v1/log/checkpoint"),
        Some(&key),
        "application/json",
        b"{}",
    );
    assert_eq!(r.status, 405, "{}", r.text());
    assert_eq!(r.content_type, "application/problem+json");
    assert_eq!(r.json()["type"], "urn:consentry:problem:method-not-allowed");
    // The same requests on the recipients' pages get a page, not JSON.
    for (name, r, status) in [
        (
            "portal, repeated field",
            get(&s.url("/portal?lang=fr&lang=en"), None),
            400,
        ),
        ("answer link not UTF-8", get(&s.url("/c/%FF"), None), 400),
        (
            "portal, no such method",
            post_raw(&s.url("/portal/me"), None, "text/plain", b"x"),
            405,
        ),
    ] {
        assert_eq!(r.status, status, "{name}: {}", r.text());
        assert!(r.content_type.starts_with("text/html"), "{name}");
        let text = r.text();
        assert!(
            text.contains("Nothing was changed.") || text.contains("Rien n'a été modifié."),
            "{name}: {text}"
        );
    }
    // Nothing was recorded: the log is empty and the contact has no consent.
    assert_eq!(
        get(&s.url("/v1/log/proof/inclusion?index=0&size=1"), None).status,
        404
    );
    let c = get(&s.url(&format!("/v1/contacts/{contact}")), Some(&key)).json();
    assert_eq!(c["consents"], json!({}));
}

#[test]
fn sqlite_bad_input_is_refused_and_changes_nothing() {
    bad_input(Db::Sqlite);
}

#[test]
fn postgres_bad_input_is_refused_and_changes_nothing() {
    bad_input(Db::Postgres);
}
