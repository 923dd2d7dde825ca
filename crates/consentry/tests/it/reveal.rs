//! Purpose-gated reveals, batch reveals, the sender's erasure and the access history, over
//! HTTP on SQLite and PostgreSQL: allowed with a granted consent, refused without one,
//! after a refusal, a revocation or an expiry — each outcome a sealed event on the log
//! with a verifiable inclusion proof and no personal value in its bytes; erasure leaves
//! neither the identity nor the key material nor the blind index in the raw database,
//! and the subject's old proofs and events still verify.

use crate::service::{checkpoint_covering, well_known};
use crate::util::{BIN, Db, Env, Res, Server, get, post, post_raw};
use consentry_core::checkpoint::verify_signed_checkpoint;
use consentry_core::merkle::{leaf_hash, verify_inclusion};
use serde_json::{Value, json};
use std::process::Command;
use std::time::{Duration, Instant};

const ALICE_EMAIL: &str = "alice.martin@example.org";
const ALICE_NAME: &str = "Alice Martin-Lefèvre";
const ALICE_ADDRESS: &str = "12 rue des Lilas, 69003 Lyon";
const ALICE_PHONE: &str = "+33 6 98 76 54 32";
const REASON: &str = "invoice run 2026-11, ticket #4411";

fn contact(s: &Server, key: &str, body: Value) -> String {
    let r = post(&s.url("/v1/contacts"), Some(key), &body);
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_owned()
}

fn decide(s: &Server, key: &str, id: &str, body: Value) -> Value {
    let r = post(
        &s.url(&format!("/v1/contacts/{id}/consents")),
        Some(key),
        &body,
    );
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()
}

fn reveal(s: &Server, key: &str, id: &str, body: Value) -> Res {
    post(
        &s.url(&format!("/v1/contacts/{id}/reveal")),
        Some(key),
        &body,
    )
}

/// A refused reveal: 403 `no-consent`, naming the purpose and the state found.
fn refused(r: &Res, purpose: &str, consent: &str) -> Value {
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(r.content_type, "application/problem+json");
    let p = r.json();
    assert_eq!(p["type"], "urn:consentry:problem:no-consent", "{p}");
    assert_eq!(p["purpose"], purpose, "{p}");
    assert_eq!(p["consent"], consent, "{p}");
    assert!(p["detail"].as_str().unwrap().contains(purpose), "{p}");
    assert!(p["log_index"].is_u64(), "{p}");
    assert!(p["event_id"].as_str().unwrap().starts_with("evt_"), "{p}");
    p
}

/// Checks that `entry` is the log's entry at `index` under a signed checkpoint, by its
/// RFC 9162 inclusion proof.
fn verify_in_log(s: &Server, log_key: &str, index: u64, entry: &[u8]) {
    let note = checkpoint_covering(s, index + 1);
    let cp = verify_signed_checkpoint(&note, log_key).unwrap().checkpoint;
    let r = get(
        &s.url(&format!(
            "/v1/log/proof/inclusion?index={index}&size={}",
            cp.size
        )),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    let leaf = leaf_hash(entry);
    assert_eq!(v["leaf_hash"], leaf.to_base64());
    verify_inclusion(index, cp.size, &leaf, &crate::util::hashes(&v), &cp.root).unwrap();
}

/// `consentry verify` on a document, pinned to the service's seal key: exit 0, and the
/// kind it reports.
fn cli_verify(env: &Env, seal_key: &str, doc: &[u8], kind: &str) {
    let file = env
        .dir
        .path()
        .join(format!("doc-{:08x}.json", rand::random::<u32>()));
    std::fs::write(&file, doc).unwrap();
    let out = Command::new(BIN)
        .args(["verify", "--seal-key", seal_key])
        .arg(&file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.starts_with(&format!("{kind} ")), "{text}");
}

/// The sealed event, as `GET /v1/events/{id}` serves it; it is the log entry at its
/// index, verifies offline, and holds none of `secrets`.
fn check_event(
    env: &Env,
    s: &Server,
    key: &str,
    keys: &(String, String),
    id: &str,
    secrets: &[&str],
) -> Value {
    let r = get(&s.url(&format!("/v1/events/{id}")), Some(key));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.content_type, "application/json");
    let event = r.json();
    assert_eq!(
        consentry_core::canonical::to_canonical_bytes(&event).unwrap(),
        r.body,
        "served as its canonical bytes"
    );
    verify_in_log(s, &keys.1, event["log_index"].as_u64().unwrap(), &r.body);
    cli_verify(env, &keys.0, &r.body, "event");
    let text = r.text();
    for secret in secrets {
        assert!(!text.contains(secret), "{secret:?} in the event {text}");
    }
    event
}

/// Every log entry, straight from the database.
fn raw_entries(env: &Env) -> Vec<Vec<u8>> {
    query(env, |pool| async move {
        sqlx::query_as::<_, (Vec<u8>,)>("SELECT entry FROM log_entries ORDER BY idx")
            .fetch_all(&pool)
            .await
            .unwrap()
            .into_iter()
            .map(|(e,)| e)
            .collect()
    })
}

/// A contact's stored wrapped key and blind index, straight from the database.
fn stored_secrets(env: &Env, id: &str) -> (Vec<u8>, Vec<u8>) {
    let id = id.to_owned();
    query(env, |pool| async move {
        sqlx::query_as::<_, (Vec<u8>, Vec<u8>)>(
            "SELECT wrapped_key, email_index FROM contacts WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap()
    })
}

fn query<T, F, Fut>(env: &Env, f: F) -> T
where
    F: FnOnce(sqlx::AnyPool) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        sqlx::any::install_default_drivers();
        let pool = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect(&env.url)
            .await
            .unwrap();
        let out = f(pool.clone()).await;
        pool.close().await;
        out
    })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn reveals(db: Db) {
    let env = Env::new(db);
    let (_, key) = env.tenant("ACME SAS");
    let (_, other) = env.tenant("Other SARL");
    let s = env.start();
    let keys = well_known(&s);
    let alice = contact(
        &s,
        &key,
        json!({"email": "Alice.Martin@Example.org", "name": ALICE_NAME, "address": ALICE_ADDRESS,
               "phone": ALICE_PHONE, "category": "private", "attributes": {"segment": "b2c"}}),
    );
    let bob = contact(&s, &key, json!({"email": "bob@example.org"}));
    let secrets = [
        ALICE_EMAIL,
        "Alice.Martin",
        "Martin-Lef",
        "rue des Lilas",
        "98 76 54",
        "bob@example.org",
        REASON,
    ];

    // Allowed: a granted consent for the purpose.
    let grant = decide(
        &s,
        &key,
        &alice,
        json!({"purpose": "invoicing", "decision": "granted", "valid_days": 30}),
    );
    let r = reveal(
        &s,
        &key,
        &alice,
        json!({"purpose": "invoicing", "fields": ["name", "email"], "reason": REASON}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(
        v["fields"],
        json!({"email": ALICE_EMAIL, "name": ALICE_NAME}),
        "only the fields asked, decrypted"
    );
    assert_eq!(v["proof_id"], grant["id"]);
    let granted_event = check_event(
        &env,
        &s,
        &key,
        &keys,
        v["event_id"].as_str().unwrap(),
        &secrets,
    );
    assert_eq!(granted_event["type"], "data.access");
    assert_eq!(granted_event["log_index"], v["log_index"]);
    assert_eq!(granted_event["purpose"], "invoicing");
    assert_eq!(granted_event["fields"], json!(["email", "name"]));
    assert_eq!(granted_event["consent"], "granted");
    assert_eq!(granted_event["proof"], grant["id"]);
    assert_eq!(granted_event["subject"], alice.as_str());
    assert!(granted_event["actor"].as_str().unwrap().starts_with("key_"));
    let commitment = granted_event["reason_commitment"].as_str().unwrap();
    assert_eq!(commitment.len(), 64, "a keyed commitment, not the text");

    let r = reveal(
        &s,
        &key,
        &alice,
        json!({"purpose": "invoicing", "fields": ["address", "phone", "attributes"]}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json()["fields"],
        json!({"address": ALICE_ADDRESS, "phone": ALICE_PHONE, "attributes": {}})
    );
    let r = reveal(
        &s,
        &key,
        &bob,
        json!({"purpose": "invoicing", "fields": ["name", "phone"]}),
    );
    // Bob has no consent at all.
    let p = refused(&r, "invoicing", "none");
    assert!(p.get("proof_id").is_none(), "{p}");
    let none_event = check_event(
        &env,
        &s,
        &key,
        &keys,
        p["event_id"].as_str().unwrap(),
        &secrets,
    );
    assert_eq!(none_event["type"], "data.access_denied");
    assert_eq!(none_event["consent"], "none");
    assert_eq!(none_event["fields"], json!(["name", "phone"]));
    assert!(none_event.get("proof").is_none());

    // Refused consent.
    let refusal = decide(
        &s,
        &key,
        &alice,
        json!({"purpose": "newsletter", "decision": "refused"}),
    );
    let p = refused(
        &reveal(
            &s,
            &key,
            &alice,
            json!({"purpose": "newsletter", "fields": ["email"]}),
        ),
        "newsletter",
        "refused",
    );
    assert_eq!(p["proof_id"], refusal["id"]);
    let e = check_event(
        &env,
        &s,
        &key,
        &keys,
        p["event_id"].as_str().unwrap(),
        &secrets,
    );
    assert_eq!(
        (&e["consent"], &e["proof"]),
        (&json!("refused"), &refusal["id"])
    );

    // Revoked: the next reveal is refused at once.
    let revocation = decide(
        &s,
        &key,
        &alice,
        json!({"purpose": "invoicing", "decision": "revoked"}),
    );
    let p = refused(
        &reveal(
            &s,
            &key,
            &alice,
            json!({"purpose": "invoicing", "fields": ["email"]}),
        ),
        "invoicing",
        "revoked",
    );
    assert_eq!(p["proof_id"], revocation["id"]);
    assert!(p["log_index"].as_u64() > revocation["log_index"].as_u64());
    let e = check_event(
        &env,
        &s,
        &key,
        &keys,
        p["event_id"].as_str().unwrap(),
        &secrets,
    );
    assert_eq!(e["consent"], "revoked");

    // Expired: a grant whose validity has passed (recorded with its end, as when an old
    // paper consent is imported), and the book says so.
    let lapsed = decide(
        &s,
        &key,
        &bob,
        json!({"purpose": "offers", "decision": "granted", "valid_until": "2026-01-31T23:00:00.000Z"}),
    );
    assert_eq!(lapsed["valid_until"], "2026-01-31T23:00:00.000Z");
    let book = get(&s.url(&format!("/v1/contacts/{bob}")), Some(&key)).json();
    assert_eq!(book["consents"]["offers"]["status"], "expired");
    let p = refused(
        &reveal(
            &s,
            &key,
            &bob,
            json!({"purpose": "offers", "fields": ["email"]}),
        ),
        "offers",
        "expired",
    );
    assert_eq!(p["proof_id"], lapsed["id"]);
    let e = check_event(
        &env,
        &s,
        &key,
        &keys,
        p["event_id"].as_str().unwrap(),
        &secrets,
    );
    assert_eq!(e["consent"], "expired");
    // And one still valid (the same member, a future end) allows the reveal.
    decide(
        &s,
        &key,
        &bob,
        json!({"purpose": "offers", "decision": "granted", "valid_until": "2999-01-01T00:00:00.000Z"}),
    );
    let r = reveal(
        &s,
        &key,
        &bob,
        json!({"purpose": "offers", "fields": ["email", "name"]}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json()["fields"],
        json!({"email": "bob@example.org", "name": null})
    );

    // Not the sender's, unknown, malformed: 404, nothing logged.
    let before = raw_entries(&env).len();
    for (k, id) in [
        (&other, alice.as_str()),
        (&key, "sub_nobody"),
        (&key, "nonsense"),
    ] {
        let r = reveal(
            &s,
            k,
            id,
            json!({"purpose": "invoicing", "fields": ["email"]}),
        );
        assert_eq!(r.status, 404, "{id}: {}", r.text());
        assert_eq!(r.json()["type"], "urn:consentry:problem:not-found");
    }
    // Bad requests: 422, nothing logged.
    for bad in [
        json!({"purpose": "invoicing", "fields": ["ssn"]}),
        json!({"purpose": "invoicing", "fields": []}),
        json!({"purpose": "Invoicing!", "fields": ["email"]}),
        json!({"purpose": "invoicing"}),
        json!({"purpose": "invoicing", "fields": ["email"], "reason": ""}),
        json!({"purpose": "invoicing", "fields": ["email"], "extra": 1}),
    ] {
        let r = reveal(&s, &key, &alice, bad.clone());
        assert_eq!(r.status, 422, "{bad}: {}", r.text());
    }
    assert_eq!(
        raw_entries(&env).len(),
        before,
        "refused requests append nothing"
    );
    let r = post(
        &s.url(&format!("/v1/contacts/{alice}/consents")),
        Some(&key),
        &json!({"purpose": "x", "decision": "refused", "valid_until": "2999-01-01T00:00:00.000Z"}),
    );
    assert_eq!(r.status, 422, "{}", r.text());

    // The access history: newest first, every outcome, a page at a time, with what an
    // inclusion proof needs.
    let h = get(&s.url(&format!("/v1/contacts/{alice}/events")), Some(&key)).json();
    let items = h["items"].as_array().unwrap();
    let kinds: Vec<(&str, &str)> = items
        .iter()
        .map(|i| (i["type"].as_str().unwrap(), i["consent"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("data.access_denied", "revoked"),
            ("data.access_denied", "refused"),
            ("data.access", "granted"),
            ("data.access", "granted"),
        ]
    );
    assert_eq!(items[3]["id"], granted_event["id"]);
    assert_eq!(items[3]["fields"], json!(["email", "name"]));
    assert_eq!(items[3]["actor"], granted_event["actor"]);
    assert_eq!(items[3]["proof_id"], grant["id"]);
    assert_eq!(items[3]["purpose"], "invoicing");
    assert!(h["next_cursor"].is_null());
    let event_bytes = get(
        &s.url(&format!(
            "/v1/events/{}",
            granted_event["id"].as_str().unwrap()
        )),
        Some(&key),
    )
    .body;
    assert_eq!(items[3]["leaf_hash"], leaf_hash(&event_bytes).to_base64());
    let page1 = get(
        &s.url(&format!("/v1/contacts/{alice}/events?limit=3")),
        Some(&key),
    )
    .json();
    assert_eq!(page1["items"].as_array().unwrap().len(), 3);
    let cursor = page1["next_cursor"].as_str().unwrap();
    let page2 = get(
        &s.url(&format!(
            "/v1/contacts/{alice}/events?limit=3&cursor={cursor}"
        )),
        Some(&key),
    )
    .json();
    assert_eq!(page2["items"].as_array().unwrap().len(), 1);
    assert_eq!(page2["items"][0]["id"], granted_event["id"]);
    assert_eq!(
        get(
            &s.url(&format!("/v1/contacts/{alice}/events")),
            Some(&other)
        )
        .status,
        404
    );
    let gone = get(
        &s.url(&format!(
            "/v1/events/{}",
            granted_event["id"].as_str().unwrap()
        )),
        Some(&other),
    );
    assert_eq!(gone.status, 404, "another tenant's event");
    assert_eq!(
        get(
            &s.url(&format!("/v1/contacts/{alice}/events?limit=0")),
            Some(&key)
        )
        .status,
        422
    );

    // No personal value anywhere on the log.
    for entry in raw_entries(&env) {
        for secret in secrets {
            assert!(
                !contains(&entry, secret.as_bytes()),
                "{secret:?} in a log entry: {}",
                String::from_utf8_lossy(&entry)
            );
        }
    }
    assert!(s.terminate().success());
}

#[test]
fn reveal_allowed_refused_revoked_expired_logged_sqlite() {
    reveals(Db::Sqlite);
}

#[test]
fn reveal_allowed_refused_revoked_expired_logged_postgres() {
    reveals(Db::Postgres);
}

/// The NDJSON lines of a batch answer.
fn lines(r: &Res) -> Vec<Value> {
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.content_type, "application/x-ndjson");
    r.text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn metric(s: &Server, name: &str) -> u64 {
    let text = get(&s.url("/metrics"), None).text();
    text.lines()
        .find_map(|l| {
            l.strip_prefix(name)
                .and_then(|v| v.trim().parse::<f64>().ok())
        })
        .unwrap_or(0.0) as u64
}

fn batches(db: Db) {
    let env = Env::new(db);
    let (_, key) = env.tenant("ACME SAS");
    let (_, other) = env.tenant("Other SARL");
    let s = env.start();
    let keys = well_known(&s);
    let grant = json!({"purpose": "invoicing", "decision": "granted"});
    let a = contact(&s, &key, json!({"email": "a@example.org", "name": "Ann A"}));
    let b = contact(&s, &key, json!({"email": "b@example.org"}));
    let c = contact(&s, &key, json!({"email": "c@example.org"}));
    let d = contact(&s, &key, json!({"email": "d@example.org"}));
    let theirs = contact(&s, &other, json!({"email": "t@example.org"}));
    decide(&s, &key, &a, grant.clone());
    decide(&s, &key, &b, grant.clone());
    decide(
        &s,
        &key,
        &c,
        json!({"purpose": "invoicing", "decision": "refused"}),
    );
    decide(&s, &key, &d, grant.clone());
    decide(&s, &other, &theirs, grant.clone());
    assert_eq!(
        post(
            &s.url(&format!("/v1/contacts/{d}/erase")),
            Some(&key),
            &json!({})
        )
        .status,
        200
    );

    let r = post(
        &s.url("/v1/reveal/batch"),
        Some(&key),
        &json!({"purpose": "invoicing", "fields": ["email", "name"],
                "contacts": [a, b, c, d, "sub_nobody", "garbage", theirs, a]}),
    );
    let l = lines(&r);
    assert_eq!(
        l.len(),
        8,
        "one line per contact (repeats once), then the summary: {l:?}"
    );
    assert_eq!(l[0]["id"], a.as_str());
    assert_eq!(
        l[0]["fields"],
        json!({"email": "a@example.org", "name": "Ann A"})
    );
    assert_eq!(
        l[1]["fields"],
        json!({"email": "b@example.org", "name": null})
    );
    assert_eq!(
        l[2]["refused"]["problem"],
        "urn:consentry:problem:no-consent"
    );
    assert_eq!(l[2]["refused"]["consent"], "refused");
    assert_eq!(
        l[3]["refused"],
        json!({"problem": "urn:consentry:problem:erased"})
    );
    assert_eq!(
        l[4]["refused"],
        json!({"problem": "urn:consentry:problem:not-found"})
    );
    assert_eq!(
        (&l[5]["id"], &l[5]["refused"]),
        (
            &json!("garbage"),
            &json!({"problem": "urn:consentry:problem:not-found"})
        )
    );
    assert_eq!(
        l[6]["refused"],
        json!({"problem": "urn:consentry:problem:not-found"}),
        "another tenant's contact"
    );
    assert_eq!(
        l[7],
        json!({"summary": {"contacts": 7, "revealed": 2, "refused": 5, "log_entries": 3}})
    );
    // One log entry per decided contact, each a sealed event in the log.
    let secrets = ["a@example.org", "b@example.org", "Ann A"];
    for line in [&l[0], &l[1]] {
        let e = check_event(
            &env,
            &s,
            &key,
            &keys,
            line["event_id"].as_str().unwrap(),
            &secrets,
        );
        assert_eq!(e["type"], "data.access");
        assert_eq!(e["log_index"], line["log_index"]);
    }
    let e = check_event(
        &env,
        &s,
        &key,
        &keys,
        l[2]["refused"]["event_id"].as_str().unwrap(),
        &secrets,
    );
    assert_eq!(e["type"], "data.access_denied");

    // A long list: one entry per contact, in few group commits, streamed.
    let mut ids = Vec::new();
    for n in 0..300 {
        ids.push(contact(
            &s,
            &key,
            json!({"email": format!("bulk{n}@example.org")}),
        ));
    }
    for id in ids.iter().step_by(3) {
        decide(&s, &key, id, grant.clone());
    }
    let commits0 = metric(&s, "consentry_append_batches_total");
    let events0 = metric(&s, "consentry_events_appended_total");
    let mut many: Vec<String> = Vec::new();
    for _ in 0..4 {
        many.extend(ids.iter().cloned());
    }
    many.extend((0..1000).map(|n| format!("sub_missing{n}")));
    let r = post(
        &s.url("/v1/reveal/batch"),
        Some(&key),
        &json!({"purpose": "invoicing", "fields": ["email"], "contacts": many}),
    );
    let l = lines(&r);
    assert_eq!(l.len(), 1301);
    assert_eq!(
        l[1300],
        json!({"summary": {"contacts": 1300, "revealed": 100, "refused": 1200, "log_entries": 300}})
    );
    for (n, line) in l[..300].iter().enumerate() {
        assert_eq!(line["id"], ids[n].as_str(), "in the order given");
        if n % 3 == 0 {
            assert_eq!(line["fields"]["email"], format!("bulk{n}@example.org"));
        } else {
            assert_eq!(line["refused"]["consent"], "none");
        }
    }
    assert_eq!(metric(&s, "consentry_events_appended_total") - events0, 300);
    let commits = metric(&s, "consentry_append_batches_total") - commits0;
    assert!(commits <= 20, "300 entries took {commits} commits");

    // Limits: too many contacts is a 422, too large a body a 413, nothing appended.
    let before = raw_entries(&env).len();
    let too_many: Vec<String> = (0..100_001).map(|n| format!("sub_{n:x}")).collect();
    let r = post(
        &s.url("/v1/reveal/batch"),
        Some(&key),
        &json!({"purpose": "invoicing", "fields": ["email"], "contacts": too_many}),
    );
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.json()["detail"].as_str().unwrap().contains("100000"));
    let huge = format!(
        "{{\"purpose\":\"invoicing\",\"fields\":[\"email\"],\"contacts\":[\"{}\"]}}",
        "a".repeat(9 * 1024 * 1024)
    );
    // The server refuses from the Content-Length, before reading the body: the client
    // either reads the 413 or, still writing, finds the connection closed (a reset or a
    // broken pipe) — both are the refusal; nothing may be appended either way.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    match agent
        .post(&s.url("/v1/reveal/batch"))
        .header("Authorization", &format!("Bearer {key}"))
        .header("Content-Type", "application/json")
        .send(huge.as_bytes())
    {
        Ok(mut r) => {
            assert_eq!(r.status().as_u16(), 413);
            let body: Value = serde_json::from_slice(&r.body_mut().read_to_vec().unwrap()).unwrap();
            assert_eq!(body["type"], "urn:consentry:problem:payload-too-large");
        }
        Err(ureq::Error::Io(e)) => assert!(
            matches!(
                e.kind(),
                std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
            ),
            "{e}"
        ),
        Err(e) => panic!("{e}"),
    }
    for bad in [
        json!({"purpose": "invoicing", "fields": ["email"], "contacts": []}),
        json!({"purpose": "invoicing", "fields": ["iban"], "contacts": [a]}),
        json!({"purpose": "invoicing", "fields": ["email"]}),
    ] {
        let r = post(&s.url("/v1/reveal/batch"), Some(&key), &bad);
        assert_eq!(r.status, 422, "{bad}: {}", r.text());
    }
    assert_eq!(raw_entries(&env).len(), before);
    assert!(s.terminate().success());
}

#[test]
fn reveal_batch_mixed_contacts_streamed_sqlite() {
    batches(Db::Sqlite);
}

#[test]
fn reveal_batch_mixed_contacts_streamed_postgres() {
    batches(Db::Postgres);
}

fn erasure(db: Db) {
    let env = Env::new(db);
    let (_, key) = env.tenant("ACME SAS");
    let s = env.start();
    let keys = well_known(&s);
    let id = contact(
        &s,
        &key,
        json!({"email": ALICE_EMAIL, "name": ALICE_NAME, "address": ALICE_ADDRESS, "phone": ALICE_PHONE,
               "attributes": {"loyalty_tier": "platinum-erasable"}}),
    );
    // Neighbours, so that the erased row shares pages with live ones.
    let neighbours: Vec<String> = (0..30)
        .map(|n| {
            contact(
                &s,
                &key,
                json!({"email": format!("n{n}@example.org"), "name": "Neighbour"}),
            )
        })
        .collect();
    let proof = decide(
        &s,
        &key,
        &id,
        json!({"purpose": "invoicing", "decision": "granted", "evidence": "signed paper form"}),
    );
    let proof_id = proof["id"].as_str().unwrap().to_owned();
    let proof_bytes = get(&s.url(&format!("/v1/proofs/{proof_id}")), Some(&key)).body;
    let r = reveal(
        &s,
        &key,
        &id,
        json!({"purpose": "invoicing", "fields": ["email"]}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let access_id = r.json()["event_id"].as_str().unwrap().to_owned();
    let (wrapped, blind) = stored_secrets(&env, &id);
    assert_eq!(wrapped.len(), 73, "a wrapped subject key");
    assert_eq!(blind.len(), 32);
    assert!(
        contains(&env.raw_database(), &wrapped),
        "the test can see raw key bytes"
    );

    let r = post(
        &s.url(&format!("/v1/contacts/{id}/erase")),
        Some(&key),
        &json!({}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let erased = r.json();
    assert_eq!(erased["id"], id.as_str());
    assert_eq!(erased["erased"], true);
    let erased_event = check_event(
        &env,
        &s,
        &key,
        &keys,
        erased["event_id"].as_str().unwrap(),
        &[ALICE_EMAIL, "Martin", "Lilas", "platinum"],
    );
    assert_eq!(erased_event["type"], "data.erased");
    assert_eq!(erased_event["log_index"], erased["log_index"]);
    assert_eq!(
        erased_event["fields"],
        json!(["email", "name", "address", "phone", "attributes"])
    );
    // Idempotent: the same erasure again, nothing appended.
    let entries = raw_entries(&env).len();
    let again = post_raw(
        &s.url(&format!("/v1/contacts/{id}/erase")),
        Some(&key),
        "application/json",
        b"",
    );
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(again.json(), erased);
    assert_eq!(raw_entries(&env).len(), entries);

    // Reveals are gone for good; the book shows the contact erased.
    let r = reveal(
        &s,
        &key,
        &id,
        json!({"purpose": "invoicing", "fields": ["email"]}),
    );
    assert_eq!(r.status, 410, "{}", r.text());
    assert_eq!(r.json()["type"], "urn:consentry:problem:erased");
    assert_eq!(
        raw_entries(&env).len(),
        entries,
        "a reveal of an erased contact appends nothing"
    );
    let view = get(&s.url(&format!("/v1/contacts/{id}")), Some(&key)).json();
    assert_eq!(view["erased"], true);
    assert_eq!(view["attributes"], json!({}));
    let listed = get(&s.url("/v1/contacts?limit=500"), Some(&key)).json();
    let row = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id.as_str())
        .unwrap();
    assert_eq!(row["erased"], true);
    assert_eq!(
        post(
            &s.url(&format!("/v1/contacts/{id}/consents")),
            Some(&key),
            &json!({"purpose": "x", "decision": "granted"})
        )
        .status,
        410
    );

    // Nothing of the subject is left in the raw database: no identity, no key, no blind
    // index, no attributes (SQLite: once the write-ahead log is truncated, at once or at
    // the next second's checkpoint).
    let needles: Vec<(&str, Vec<u8>)> = vec![
        ("e-mail", ALICE_EMAIL.as_bytes().to_vec()),
        ("name", ALICE_NAME.as_bytes().to_vec()),
        ("address", ALICE_ADDRESS.as_bytes().to_vec()),
        ("phone", ALICE_PHONE.as_bytes().to_vec()),
        ("attributes", b"platinum-erasable".to_vec()),
        ("wrapped key", wrapped.clone()),
        ("blind index", blind.clone()),
    ];
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let raw = env.raw_database();
        let left: Vec<&str> = needles
            .iter()
            .filter(|(_, n)| contains(&raw, n))
            .map(|(what, _)| *what)
            .collect();
        if left.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still in the raw database after erasure: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let (_, tombstone) = query(&env, {
        let id = id.clone();
        move |pool| async move {
            sqlx::query_as::<_, (Option<Vec<u8>>, Vec<u8>)>(
                "SELECT wrapped_key, email_index FROM contacts WHERE id = $1",
            )
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    });
    assert_eq!(tombstone.len(), 32);
    assert_ne!(tombstone, blind);
    assert!(
        contains(&env.raw_database(), &stored_secrets(&env, &neighbours[7]).0),
        "neighbours keep theirs"
    );

    // The subject's old proof and events still verify, offline and in the log.
    let served = get(&s.url(&format!("/v1/proofs/{proof_id}")), Some(&key));
    assert_eq!(served.body, proof_bytes);
    cli_verify(&env, &keys.0, &proof_bytes, "proof");
    verify_in_log(
        &s,
        &keys.1,
        proof["log_index"].as_u64().unwrap(),
        &proof_bytes,
    );
    check_event(&env, &s, &key, &keys, &access_id, &[ALICE_EMAIL]);
    let history = get(&s.url(&format!("/v1/contacts/{id}/events")), Some(&key)).json();
    let kinds: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["data.erased", "data.access"]);

    // The address matches nothing any more: it can be added again, as someone new.
    let again = contact(&s, &key, json!({"email": ALICE_EMAIL}));
    assert_ne!(again, id);
    // Unknown and foreign contacts: 404.
    assert_eq!(
        post(
            &s.url("/v1/contacts/sub_nobody/erase"),
            Some(&key),
            &json!({})
        )
        .status,
        404
    );
    assert!(s.terminate().success());
}

#[test]
fn erase_shreds_the_subject_and_old_entries_still_verify_sqlite() {
    erasure(Db::Sqlite);
}

#[test]
fn erase_shreds_the_subject_and_old_entries_still_verify_postgres() {
    erasure(Db::Postgres);
}
