//! Disclosure for a dispute, end to end: `POST /v1/proofs/{id}/disclosure` logs a
//! `data.disclosed` event and answers a sealed `consentry.disclosure/v1` document that
//! `consentry verify --disclosure` checks against the proof alone; refused requests log
//! nothing; an erased contact cannot be disclosed.

use crate::service::{add_contact, consent};
use crate::util::{BIN, Db, Env, Server, get, post};
use base64::Engine as _;
use serde_json::{Value, json};
use std::process::Command;

fn events(s: &Server, key: &str, contact: &str) -> Vec<Value> {
    let r = get(&s.url(&format!("/v1/contacts/{contact}/events")), Some(key));
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["items"].as_array().unwrap().clone()
}

fn walk(db: Db) {
    let env = Env::new(db);
    let (_t, key) = env.tenant("ACME SAS");
    let s = env.start();
    let contact = add_contact(&s, &key, "Jean.Dupont@Example.fr");
    let proof_bytes = consent(&s, &key, &contact, "newsletter", "granted");
    let proof: Value = serde_json::from_slice(&proof_bytes).unwrap();
    let id = proof["id"].as_str().unwrap();
    let url = s.url(&format!("/v1/proofs/{id}/disclosure"));

    // Refused, and nothing logged: an unknown ground, an unknown field, evidence that is
    // not the file the proof commits to, an unknown proof.
    let before = events(&s, &key, &contact).len();
    for (body, status) in [
        (json!({"ground": "curiosity"}), 422),
        (json!({"ground": "legal-claim", "fields": ["email"]}), 422),
        (
            json!({"ground": "legal-claim", "evidence": base64::engine::general_purpose::STANDARD.encode("another form")}),
            422,
        ),
    ] {
        let r = post(&url, Some(&key), &body);
        assert_eq!(r.status, status, "{body}: {}", r.text());
        assert!(r.content_type.starts_with("application/problem+json"));
        assert!(
            !r.text().contains("dupont"),
            "no personal data in errors: {}",
            r.text()
        );
    }
    let r = post(
        &s.url("/v1/proofs/prf_unknown/disclosure"),
        Some(&key),
        &json!({"ground": "legal-claim"}),
    );
    assert_eq!(r.status, 404, "{}", r.text());
    assert_eq!(
        events(&s, &key, &contact).len(),
        before,
        "a refusal logs nothing"
    );

    // Disclosed, with the evidence (the text recorded with the consent) and the name.
    let evidence = base64::engine::general_purpose::STANDARD.encode("paper form 12");
    let r = post(
        &url,
        Some(&key),
        &json!({"ground": "legal-claim", "fields": ["name"], "evidence": evidence}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let d: Value = r.json();
    assert_eq!(d["type"], "consentry.disclosure/v1");
    assert_eq!(d["address"], "jean.dupont@example.fr");
    assert_eq!(d["opening"]["scope"], "subject");
    assert_eq!(d["asserted"]["name"], "Test Person");
    assert_eq!(d["ground"], "legal-claim");

    // Logged: a data.disclosed event naming the proof and the fields, never the values.
    let after = events(&s, &key, &contact);
    assert_eq!(after.len(), before + 1);
    let e = after
        .iter()
        .find(|e| e["type"] == "data.disclosed")
        .expect("the event");
    assert_eq!(e["id"], d["event"]);
    assert_eq!(e["fields"], json!(["email", "name", "evidence"]));
    let sealed = get(
        &s.url(&format!("/v1/events/{}", d["event"].as_str().unwrap())),
        Some(&key),
    );
    assert_eq!(sealed.status, 200, "{}", sealed.text());
    let sealed: Value = sealed.json();
    assert_eq!(sealed["ground"], "legal-claim");
    assert_eq!(sealed["proof"], proof["id"]);
    assert!(!sealed.to_string().contains("dupont"), "{sealed}");

    // Checked by the CLI against the proof alone, with the operator's published keys.
    let proof_file = env.dir.path().join("proof.json");
    std::fs::write(&proof_file, &proof_bytes).unwrap();
    let d_file = env.dir.path().join("disclosure.json");
    std::fs::write(&d_file, &r.body).unwrap();
    let out = Command::new(BIN)
        .arg("verify")
        .arg(&proof_file)
        .args(["--json", "--disclosure"])
        .arg(&d_file)
        .args([
            "--trust",
            &s.url("/.well-known/consentry.json"),
            "--trust-store",
        ])
        .arg(env.dir.path().join("trust"))
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{report:#}");
    for name in [
        "disclosure_seal",
        "disclosure_seal_key",
        "disclosure_proof",
        "address_opening",
        "evidence_opening",
    ] {
        let c = report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap();
        assert_eq!(c["status"], "passed", "{name}: {report:#}");
    }

    // Erased: nothing more can be disclosed.
    let r = post(
        &s.url(&format!("/v1/contacts/{contact}/erase")),
        Some(&key),
        &json!({}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = post(&url, Some(&key), &json!({"ground": "legal-claim"}));
    assert_eq!(r.status, 410, "{}", r.text());
}

#[test]
fn sqlite_disclosure_opens_the_proof_and_is_logged() {
    walk(Db::Sqlite);
}

#[test]
fn postgres_disclosure_opens_the_proof_and_is_logged() {
    walk(Db::Postgres);
}
