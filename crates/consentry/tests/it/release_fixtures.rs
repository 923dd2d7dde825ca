//! Upgrades from the first release: a SQLite database and a PostgreSQL database that the
//! released binary wrote, kept as SQL dumps (text, not database files), with the key files
//! of their data dirs (`tests/fixtures/release-0.1.0`, made by
//! `tests/fixtures/make-release-fixtures`; see its README) are opened by today's binary,
//! which must apply its migrations and serve them unchanged: every proof and event byte
//! for byte, the same keys and log (a consistency proof from the release's last checkpoint
//! to today's verifies), the old API key, webhook secret and staff password, the erased
//! contact still erased, the answered request still answered, the vault still readable;
//! and a new proof appends right after the release's last entry and verifies.

use crate::service::{checkpoint_covering, well_known};
use crate::util::{BIN, Db, Env, Server, get, post};
use consentry_core::checkpoint::{Checkpoint, verify_signed_checkpoint};
use consentry_core::merkle::{leaf_hash, verify_consistency, verify_inclusion};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The fixtures of release 0.1.0, one folder per backend.
const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/release-0.1.0");

/// The schema name the PostgreSQL dump uses in place of its own.
const PLACEHOLDER: &str = "consentry_fixture_schema";

fn backend_dir(db: Db) -> PathBuf {
    Path::new(FIXTURE).join(match db {
        Db::Sqlite => "sqlite",
        Db::Postgres => "postgres",
    })
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// A test environment holding the release's database and keys: the key files copied into
/// the data dir, and the dump restored — on SQLite into the database file at its default
/// place inside the data dir (`sqlite3 .dump` of the release's file: restored and dumped
/// again it gives the same text), on PostgreSQL into the test's fresh schema.
fn restore(db: Db) -> Env {
    let mut env = Env::new(db);
    let src = backend_dir(db);
    copy_dir(&src.join("keys"), &env.data_dir());
    match db {
        Db::Sqlite => {
            let file = env.data_dir().join("consentry.sqlite3");
            sqlite_script(
                &file,
                &String::from_utf8(read(&src.join("dump.sql"))).unwrap(),
            );
            env.url = format!("sqlite://{}", file.display());
        }
        Db::Postgres => {
            let dump = String::from_utf8(read(&src.join("dump.sql"))).unwrap();
            assert!(dump.contains(PLACEHOLDER), "the dump names its schema");
            let dump = dump.replace(PLACEHOLDER, env.schema.as_ref().unwrap());
            psql_script(&dump);
        }
    }
    env
}

/// Runs an SQL script (a `sqlite3 .dump`) into a new SQLite database file.
fn sqlite_script(file: &Path, sql: &str) {
    use sqlx::ConnectOptions as _;
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(file)
            .create_if_missing(true)
            .connect()
            .await
            .unwrap();
        sqlx::raw_sql(sql)
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("restoring the SQLite dump: {e}"));
        sqlx::Connection::close(conn).await.unwrap();
    });
}

/// Runs an SQL script on the test PostgreSQL with `psql`, in one transaction.
fn psql_script(sql: &str) {
    use std::io::Write as _;
    let mut child = Command::new("psql")
        .args([
            &crate::util::pg_base(),
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "--single-transaction",
            "-f",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("psql is required for the PostgreSQL tests: {e}"));
    let mut stdin = child.stdin.take().unwrap();
    let script = sql.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(script.as_bytes()));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        out.status.success(),
        "restoring the dump: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The versions of the migrations today's code ships for `db`, from their file names.
fn shipped_migrations(db: Db) -> Vec<i64> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../consentry-store/migrations")
        .join(match db {
            Db::Sqlite => "sqlite",
            Db::Postgres => "postgres",
        });
    let mut v: Vec<i64> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.split('_').next().unwrap().parse().unwrap()
        })
        .collect();
    v.sort_unstable();
    v
}

/// The migrations recorded as applied in the database.
fn applied_migrations(env: &Env) -> Vec<i64> {
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
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT version FROM _sqlx_migrations WHERE success = TRUE ORDER BY version",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        pool.close().await;
        rows.into_iter().map(|(v,)| v).collect()
    })
}

/// `consentry verify --seal-key KEY FILE`: exit 0 and the kind it names.
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

fn checkpoint(note: &str, log_key: &str) -> Checkpoint {
    verify_signed_checkpoint(note, log_key)
        .unwrap_or_else(|e| panic!("{e}: {note}"))
        .checkpoint
}

/// Checks that `entry` is the log's entry at `index` under the checkpoint `cp`.
fn included(s: &Server, cp: &Checkpoint, index: u64, entry: &[u8]) {
    let r = get(
        &s.url(&format!(
            "/v1/log/proof/inclusion?index={index}&size={}",
            cp.size
        )),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let leaf = leaf_hash(entry);
    assert_eq!(r.json()["leaf_hash"], leaf.to_base64(), "entry {index}");
    verify_inclusion(
        index,
        cp.size,
        &leaf,
        &crate::util::hashes(&r.json()),
        &cp.root,
    )
    .unwrap_or_else(|e| panic!("entry {index}: {e}"));
}

fn consent_status(s: &Server, key: &str, contact: &str, purpose: &str) -> Value {
    get(&s.url(&format!("/v1/contacts/{contact}")), Some(key)).json()["consents"][purpose]["status"]
        .clone()
}

fn opens_migrates_and_serves(db: Db) {
    let dir = backend_dir(db);
    let expected = dir.join("expected");
    let m: Value = serde_json::from_slice(&read(&expected.join("manifest.json"))).unwrap();
    let key = m["api_key"].as_str().unwrap();
    let size = m["log_size"].as_u64().unwrap();
    let contact = |name: &str| m["contacts"][name].as_str().unwrap().to_owned();

    // It starts on the release's database, and every migration of today's is applied.
    let env = restore(db);
    let s = env.start();
    assert_eq!(get(&s.url("/healthz"), None).status, 200);
    assert_eq!(
        applied_migrations(&env),
        shipped_migrations(db),
        "every shipped migration applied, none unknown"
    );

    // The same keys: the release's seal key, log key and origin.
    let (seal_key, log_key) = well_known(&s);
    let old_wk: Value = serde_json::from_slice(&read(&expected.join("well-known.json"))).unwrap();
    let wk = get(&s.url("/.well-known/consentry.json"), None).json();
    assert_eq!(wk["seal_keys"][0], old_wk["seal_keys"][0]);
    assert_eq!(wk["log"], old_wk["log"]);

    // The log is the release's: its last checkpoint's size and root, before any write.
    let old_note = String::from_utf8(read(&expected.join("checkpoint.txt"))).unwrap();
    let old = checkpoint(&old_note, &log_key);
    assert_eq!(old.size, size);
    let note = checkpoint_covering(&s, size);
    let now = checkpoint(&note, &log_key);
    assert_eq!(
        (now.size, now.root, &now.origin),
        (old.size, old.root, &old.origin),
        "the log as the release left it"
    );

    // Every proof and event, byte for byte, in the log at its index, and verifiable
    // offline by today's `consentry verify`.
    let mut indices = Vec::new();
    for (kind, route, list) in [
        ("proof", "proofs", &m["proofs"]),
        ("event", "events", &m["events"]),
    ] {
        for id in list.as_array().unwrap() {
            let id = id.as_str().unwrap();
            let saved = read(&expected.join(route).join(format!("{id}.json")));
            let r = get(&s.url(&format!("/v1/{route}/{id}")), Some(key));
            assert_eq!(r.status, 200, "{kind} {id}: {}", r.text());
            assert!(
                r.body == saved,
                "{kind} {id} changed:\nrelease: {}\ntoday:   {}",
                String::from_utf8_lossy(&saved),
                r.text()
            );
            let index = r.json()["log_index"].as_u64().unwrap();
            included(&s, &now, index, &r.body);
            cli_verify(&env, &seal_key, &r.body, kind);
            indices.push(index);
        }
    }
    indices.sort_unstable();
    assert_eq!(
        indices,
        (0..size).collect::<Vec<_>>(),
        "every entry checked"
    );

    // The old API key works; the book reads as it did.
    let list = get(&s.url("/v1/contacts"), Some(key));
    assert_eq!(list.status, 200, "{}", list.text());
    assert_eq!(list.json()["items"].as_array().unwrap().len(), 4);
    let (alice, bob, claire, david) = (
        contact("alice"),
        contact("bob"),
        contact("claire"),
        contact("david"),
    );
    for (c, purpose, status) in [
        (&alice, "invoicing", "granted"),
        (&alice, "profiling", "refused"),
        (&alice, "partners", "revoked"),
        (&bob, "newsletter", "refused"),
        (&bob, "offers", "expired"),
        (&claire, "newsletter", "granted"),
    ] {
        assert_eq!(consent_status(&s, key, c, purpose), status, "{c} {purpose}");
    }
    // Each contact's view as the release served it; only a grant with an end may have
    // expired since (the status is the stored decision read at the time of asking).
    for c in [&alice, &bob, &claire, &david] {
        let saved: Value =
            serde_json::from_slice(&read(&expected.join("contacts").join(format!("{c}.json"))))
                .unwrap();
        let mut today = get(&s.url(&format!("/v1/contacts/{c}")), Some(key)).json();
        for (purpose, then) in saved["consents"].as_object().unwrap() {
            let now = &mut today["consents"][purpose]["status"];
            if then["status"] == "granted" && !then["valid_until"].is_null() && *now == "expired" {
                *now = then["status"].clone();
            }
        }
        assert_eq!(today, saved, "contact {c}");
    }

    // The answered request shows its status and its proof.
    let rid = m["request"]["id"].as_str().unwrap();
    let req = get(&s.url(&format!("/v1/consent-requests/{rid}")), Some(key));
    assert_eq!(req.status, 200, "{}", req.text());
    let saved_req: Value = serde_json::from_slice(&read(&expected.join("request.json"))).unwrap();
    assert_eq!(req.json()["status"], "granted");
    assert_eq!(
        req.json(),
        saved_req,
        "the request as the release served it"
    );
    assert!(
        m["proofs"]
            .as_array()
            .unwrap()
            .contains(&req.json()["proof_id"])
    );

    // The webhook and its secret (derived from the keys) are kept.
    let hook = get(&s.url("/v1/webhook"), Some(key));
    assert_eq!(hook.status, 200, "{}", hook.text());
    let saved_hook: Value = serde_json::from_slice(&read(&expected.join("webhook.json"))).unwrap();
    assert_eq!(hook.json()["url"], m["webhook_url"]);
    assert_eq!(hook.json()["secret"], saved_hook["secret"]);

    // The staff user signs in to the web application with the release's password hash.
    let mut cookie = None;
    let form = crate::util::form_encode(&[
        ("email", m["staff"]["email"].as_str().unwrap()),
        ("password", m["staff"]["password"].as_str().unwrap()),
    ]);
    let r = crate::util::staff_send(
        &mut cookie,
        &s,
        "POST",
        "/app/login",
        Some(("application/x-www-form-urlencoded", form.into_bytes())),
        &[],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    assert!(cookie.is_some());

    // The erased contact stays erased: the same erasure, nothing to reveal.
    let d = get(&s.url(&format!("/v1/contacts/{david}")), Some(key)).json();
    assert_eq!(d["erased"], true, "{d}");
    let r = post(
        &s.url(&format!("/v1/contacts/{david}/reveal")),
        Some(key),
        &json!({"purpose": "newsletter", "fields": ["email"]}),
    );
    assert_eq!(r.status, 410, "{}", r.text());
    let again = post(
        &s.url(&format!("/v1/contacts/{david}/erase")),
        Some(key),
        &json!({}),
    );
    assert_eq!(again.status, 200, "{}", again.text());
    let erasure = again.json();
    let event_id = erasure["event_id"].as_str().unwrap();
    let saved: Value = serde_json::from_slice(&read(
        &expected.join("events").join(format!("{event_id}.json")),
    ))
    .unwrap_or_else(|e| panic!("not the release's erasure: {erasure}: {e}"));
    assert_eq!(
        (&saved["type"], &saved["subject"], &saved["log_index"]),
        (&json!("data.erased"), &json!(david), &erasure["log_index"]),
        "the release's erasure event: {erasure}"
    );

    // A new manual consent appends right after the release's last entry and verifies.
    let r = post(
        &s.url(&format!("/v1/contacts/{bob}/consents")),
        Some(key),
        &json!({"purpose": "newsletter", "decision": "granted", "evidence": "paper form 14"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let proof = r.json();
    let proof_bytes = r.body.clone();
    assert_eq!(proof["log_index"], size, "appended at the old size");
    cli_verify(&env, &seal_key, &r.body, "proof");
    assert_eq!(consent_status(&s, key, &bob, "newsletter"), "granted");
    assert_eq!(
        get(
            &s.url(&format!("/v1/proofs/{}", proof["id"].as_str().unwrap())),
            Some(key)
        )
        .body,
        r.body
    );

    // The vault opens with the release's keys: the name as amended in the portal.
    let r = post(
        &s.url(&format!("/v1/contacts/{alice}/reveal")),
        Some(key),
        &json!({"purpose": "invoicing", "fields": ["email", "name"]}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json()["fields"],
        json!({"email": "alice.martin@example.org", "name": "Alice Martin-Lefèvre"})
    );
    assert_eq!(r.json()["log_index"], size + 1);

    // Today's log extends the release's: a consistency proof from its last checkpoint.
    let note = checkpoint_covering(&s, size + 2);
    let new = checkpoint(&note, &log_key);
    let c = get(
        &s.url(&format!(
            "/v1/log/proof/consistency?old={}&new={}",
            old.size, new.size
        )),
        None,
    );
    assert_eq!(c.status, 200, "{}", c.text());
    verify_consistency(
        old.size,
        new.size,
        &old.root,
        &new.root,
        &crate::util::hashes(&c.json()),
    )
    .unwrap_or_else(|e| panic!("today's log does not extend the release's: {e}"));
    included(&s, &new, size, &proof_bytes);
    assert!(s.terminate().success(), "graceful shutdown exits 0");
}

#[test]
fn sqlite_release_0_1_0_data_dir_opens_migrates_and_serves_unchanged() {
    opens_migrates_and_serves(Db::Sqlite);
}

#[test]
fn postgres_release_0_1_0_dump_opens_migrates_and_serves_unchanged() {
    opens_migrates_and_serves(Db::Postgres);
}
