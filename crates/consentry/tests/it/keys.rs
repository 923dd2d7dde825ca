//! Key rotation end to end: the master key rotated under a running service that keeps
//! reading and writing contacts, the rotation killed (SIGKILL) mid-way and resumed, the
//! old key retired and shown useless on the raw rows; the seal and log keys rotated with
//! proofs and certificates from before and after verifying with `consentry verify`
//! against the published keys.

use crate::service::{add_contact, consent};
use crate::util::{BIN, Db, Env, Server, get, post, put};
use consentry_core::ids::{SubjectId, TenantId};
use consentry_vault::{MasterKey, VaultError, WrappedKey};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ADMIN: &str = "admin-token-for-the-key-tests-0123";

/// An e-mail address and a contact or request ID.
type Pair = (String, String);
/// A contact row as selected.
type RawTuple = (
    String,
    String,
    Vec<u8>,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    i64,
);

fn keys_cmd(env: &Env, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("keys")
        .args(args)
        .args(env.db_args())
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn status(env: &Env) -> Value {
    serde_json::from_str(&ok(&keys_cmd(env, &["status", "--json"]))).unwrap()
}

/// `(version, state, contacts)` of every master key version.
fn versions(env: &Env) -> Vec<(u64, String, u64)> {
    status(env)["master"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["version"].as_u64().unwrap(),
                v["state"].as_str().unwrap().to_owned(),
                v["contacts"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn master_key(path: &Path) -> MasterKey {
    MasterKey::from_base64(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every e-mail file in the outbox.
fn outbox(env: &Env) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![env.data_dir().join("outbox")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if !p.file_name().unwrap().to_string_lossy().starts_with('.') {
                found.push(std::fs::read_to_string(&p).unwrap_or_default());
            }
        }
    }
    found
}

fn wait_outbox(env: &Env, pred: impl Fn(&[String]) -> bool) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mails = outbox(env);
        if pred(&mails) {
            return mails;
        }
        assert!(Instant::now() < deadline, "{} e-mails", mails.len());
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The answer link (`/c/<64 hex>`) of a request e-mail, whatever its transfer encoding.
fn answer_link(raw: &str) -> String {
    let (headers, body) = raw
        .split_once("\r\n\r\n")
        .or_else(|| raw.split_once("\n\n"))
        .unwrap();
    let body = if headers
        .to_ascii_lowercase()
        .contains("content-transfer-encoding: base64")
    {
        use base64::Engine as _;
        let clean: String = body.split_whitespace().collect();
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(clean)
                .unwrap(),
        )
        .unwrap()
    } else {
        body.replace("=\r\n", "").replace("=\n", "")
    };
    let start = body.find("/c/").expect("a link in the e-mail");
    body[start..start + 3 + 64].to_owned()
}

fn request_consent(s: &Server, key: &str, contact: &str, purpose: &str) -> String {
    let r = post(
        &s.url("/v1/consent-requests"),
        Some(key),
        &json!({"contact_id": contact, "purpose": purpose, "notice": {"text": "We send a monthly letter."}, "language": "en"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_owned()
}

/// HTTP traffic that needs the vault, run from a thread until stopped: new contacts,
/// duplicates of contacts made before the rotation (which must be recognised whichever
/// key their row is under), consents with evidence (the sequencer unwraps the subject
/// key) and consent requests (the mailer unwraps the key and opens the identity).
/// Every unexpected answer is recorded.
struct Traffic {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    problems: Arc<Mutex<Vec<String>>>,
    created: Arc<Mutex<Vec<(String, String)>>>,
    requests: Arc<Mutex<Vec<(String, String)>>>,
    rounds: Arc<std::sync::atomic::AtomicU64>,
}

impl Traffic {
    fn start(s: &Server, key: &str, existing: Vec<(String, String)>, tag: &'static str) -> Traffic {
        let stop = Arc::new(AtomicBool::new(false));
        let problems = Arc::new(Mutex::new(Vec::new()));
        let created = Arc::new(Mutex::new(Vec::new()));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let rounds = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let base = s.base.clone();
        let key = key.to_owned();
        let thread = {
            let (stop, problems, created, requests, rounds) = (
                stop.clone(),
                problems.clone(),
                created.clone(),
                requests.clone(),
                rounds.clone(),
            );
            std::thread::spawn(move || {
                let url = |p: &str| format!("{base}{p}");
                let mut i = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    let problem = |what: String| problems.lock().unwrap().push(what);
                    // A new contact.
                    let email = format!("{tag}{i}@example.net");
                    let r = post(&url("/v1/contacts"), Some(&key), &json!({"email": email}));
                    if r.status == 201 {
                        created
                            .lock()
                            .unwrap()
                            .push((email, r.json()["id"].as_str().unwrap().to_owned()));
                    } else {
                        problem(format!("new contact: {} {}", r.status, r.text()));
                    }
                    // A contact made before the rotation, again (in other letters' case).
                    let (email, id) = &existing[i % existing.len()];
                    let r = post(
                        &url("/v1/contacts"),
                        Some(&key),
                        &json!({"email": email.to_uppercase()}),
                    );
                    if r.status != 409 || r.json()["contact_id"] != id.as_str() {
                        problem(format!("duplicate of {id}: {} {}", r.status, r.text()));
                    }
                    // A consent with evidence: the subject key is unwrapped.
                    let (_, id) = &existing[(i * 7 + 3) % existing.len()];
                    let r = post(
                        &url(&format!("/v1/contacts/{id}/consents")),
                        Some(&key),
                        &json!({"purpose": format!("p{}", i % 5), "decision": "granted", "evidence": "signed form"}),
                    );
                    if r.status != 201 {
                        problem(format!("consent for {id}: {} {}", r.status, r.text()));
                    }
                    // Every fifth round, a consent request: the mailer opens the identity.
                    if i.is_multiple_of(5) {
                        let (email, id) = &existing[(i * 3 + 1) % existing.len()];
                        let r = post(
                            &url("/v1/consent-requests"),
                            Some(&key),
                            &json!({"contact_id": id, "purpose": format!("r{tag}{i}"), "notice": {"text": "We send a monthly letter."}, "language": "en"}),
                        );
                        if r.status == 201 {
                            requests
                                .lock()
                                .unwrap()
                                .push((r.json()["id"].as_str().unwrap().to_owned(), email.clone()));
                        } else {
                            problem(format!("request for {id}: {} {}", r.status, r.text()));
                        }
                    }
                    i += 1;
                    rounds.fetch_add(1, Ordering::Relaxed);
                }
            })
        };
        Traffic {
            stop,
            thread: Some(thread),
            problems,
            created,
            requests,
            rounds,
        }
    }

    /// Stops, and returns the contacts created and the requests made.
    fn finish(mut self) -> (Vec<Pair>, Vec<Pair>) {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().unwrap().join().unwrap();
        let problems = self.problems.lock().unwrap().clone();
        assert!(
            problems.is_empty(),
            "{} failures: {problems:#?}",
            problems.len()
        );
        assert!(self.rounds.load(Ordering::Relaxed) > 0);
        (
            self.created.lock().unwrap().clone(),
            self.requests.lock().unwrap().clone(),
        )
    }

    fn wait_rounds(&self, n: u64) {
        let start = self.rounds.load(Ordering::Relaxed);
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.rounds.load(Ordering::Relaxed) < start + n {
            assert!(Instant::now() < deadline, "traffic stalled");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// One contact row as stored.
struct RawContact {
    tenant: TenantId,
    id: SubjectId,
    email_index: Vec<u8>,
    wrapped_key: Option<Vec<u8>>,
    identity: Option<Vec<u8>>,
    key_version: i64,
}

fn raw_contacts(env: &Env) -> Vec<RawContact> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&env.url).await.unwrap();
        let rows: Vec<RawTuple> =
            sqlx::query_as(
                "SELECT tenant_id, id, email_index, wrapped_key, identity, key_version FROM contacts ORDER BY id",
            )
            .fetch_all(&pool)
            .await
            .unwrap();
        pool.close().await;
        rows.into_iter()
            .map(|(t, id, email_index, wrapped_key, identity, key_version)| RawContact {
                tenant: TenantId::parse(&t).unwrap(),
                id: SubjectId::parse(&id).unwrap(),
                email_index,
                wrapped_key,
                identity,
                key_version,
            })
            .collect()
    })
}

/// Starts `keys rotate-master --batch-size 1` and SIGKILLs it right after its first
/// re-wrapped batch; returns what it printed.
fn rotate_and_kill(env: &Env) -> String {
    let mut child = Command::new(BIN)
        .args(["keys", "rotate-master", "--batch-size", "1"])
        .args(env.db_args())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut printed = String::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        printed.push_str(&line);
        printed.push('\n');
        if line.starts_with("rewrapped ") {
            child.kill().unwrap();
            break;
        }
    }
    let status = child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    use std::os::unix::process::ExitStatusExt as _;
    assert_eq!(
        status.signal(),
        Some(9),
        "the rotation ended before it was killed: {printed}{err}"
    );
    printed
}

fn master_rotation(db: Db) {
    let env = Env::new(db);
    let (tenant, key) = env.tenant("ACME SAS");
    let s = env.start();
    let data = env.data_dir();
    let old_master = master_key(&data.join("master.key"));

    // Before: contacts, a webhook (its secret is derived from the link key), a request
    // whose e-mail link must keep working.
    let mut existing = Vec::new();
    for i in 0..200 {
        let email = format!("person{i}@example.org");
        let id = add_contact(&s, &key, &email);
        existing.push((email, id));
    }
    let hook = put(
        &s.url("/v1/webhook"),
        Some(&key),
        &json!({"url": "https://hooks.example.org/consentry"}),
    );
    assert_eq!(hook.status, 200, "{}", hook.text());
    let secret = hook.json()["secret"].as_str().unwrap().to_owned();
    request_consent(&s, &key, &existing[0].1, "newsletter");
    let mails = wait_outbox(&env, |m| !m.is_empty());
    assert!(mails[0].contains("person0@example.org"));
    let link = answer_link(&mails[0]);
    assert_eq!(get(&s.url(&link), None).status, 200);
    assert_eq!(versions(&env), vec![(1, "current".into(), 200)]);

    // Rotate while traffic runs; kill the rotation after its first batch.
    let traffic = Traffic::start(&s, &key, existing.clone(), "during");
    traffic.wait_rounds(3);
    let printed = rotate_and_kill(&env);
    assert!(
        printed.contains("announced master key version 2"),
        "{printed}"
    );
    assert!(
        printed.contains("master key version 2 is current"),
        "{printed}"
    );
    // Half-way: version 2 current, version 1 still holding contacts; both key files.
    let half = versions(&env);
    assert_eq!(half[0].0, 1);
    assert_eq!(half[0].1, "previous");
    assert!(half[0].2 > 0, "{half:?}");
    assert_eq!(half[1].1, "current");
    assert!(half[1].2 > 0, "{half:?}");
    assert!(data.join("master.previous.key").exists());
    assert!(data.join("link.key").exists());
    let new_master = master_key(&data.join("master.key"));
    assert_eq!(
        master_key(&data.join("master.previous.key")).check_value(),
        old_master.check_value()
    );
    assert_ne!(new_master.check_value(), old_master.check_value());
    for f in ["master.key", "master.previous.key", "link.key"] {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(data.join(f))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{f}");
    }

    // Retiring now is refused: contacts still need the old key.
    let refused = keys_cmd(&env, &["retire-master"]);
    assert_eq!(refused.status.code(), Some(1));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("still wrapped under master key version 1"),
        "{err}"
    );
    assert!(data.join("master.previous.key").exists());
    // Starting another rotation with another key is refused too.
    let other = env.dir.path().join("other.key");
    std::fs::write(&other, MasterKey::from_bytes([7; 32]).to_base64().as_str()).unwrap();
    let refused = keys_cmd(
        &env,
        &["rotate-master", "--new-key-file", other.to_str().unwrap()],
    );
    assert_eq!(refused.status.code(), Some(1));

    // Resume while traffic still runs: it finishes.
    traffic.wait_rounds(3);
    let resumed = ok(&keys_cmd(&env, &["rotate-master", "--batch-size", "7"]));
    assert!(
        resumed.contains("resuming the rotation from master key version 1 to 2"),
        "{resumed}"
    );
    assert!(
        resumed.contains("all contacts are under master key version 2"),
        "{resumed}"
    );
    traffic.wait_rounds(3);
    let (created, requests) = traffic.finish();
    assert!(!created.is_empty());

    // Retire: the old key file goes; the service drops it.
    let retired = ok(&keys_cmd(&env, &["retire-master"]));
    assert!(
        retired.contains("master key version 1 is retired"),
        "{retired}"
    );
    assert!(!data.join("master.previous.key").exists());
    let total = (200 + created.len()) as u64;
    assert_eq!(
        versions(&env),
        vec![(1, "retired".into(), 0), (2, "current".into(), total)]
    );
    assert!(wait_log(&s, "current=2 versions=[2]"), "{}", s.logs());

    // After: the same traffic still works, on contacts old and new.
    let after = Traffic::start(&s, &key, existing.clone(), "after");
    after.wait_rounds(10);
    let (created_after, requests_after) = after.finish();
    let mut new_ones = created.clone();
    new_ones.extend(created_after.iter().cloned());
    for (email, id) in new_ones.iter().step_by(7) {
        consent(&s, &key, id, "newsletter", "granted");
        let r = post(&s.url("/v1/contacts"), Some(&key), &json!({"email": email}));
        assert_eq!(r.status, 409, "{}", r.text());
        assert_eq!(r.json()["contact_id"], id.as_str());
    }
    // The link e-mailed before the rotation still opens, and the webhook secret is the
    // one handed out before.
    assert_eq!(get(&s.url(&link), None).status, 200);
    assert_eq!(
        get(&s.url("/v1/webhook"), Some(&key)).json()["secret"],
        secret.as_str()
    );
    // Every request e-mail went to the right address (the mailer opened the identity).
    let n = 1 + requests.len() + requests_after.len();
    let mails = wait_outbox(&env, |m| m.len() >= n);
    for (_, email) in requests.iter().chain(&requests_after) {
        assert!(
            mails.iter().any(|m| m.contains(email.as_str())),
            "no e-mail to {email}"
        );
    }

    // The raw rows: every one is version 2, opens under the new key and not the old one,
    // and its blind index is the new key's index of its address; one row per address.
    let rows = raw_contacts(&env);
    assert_eq!(rows.len() as u64, total + created_after.len() as u64);
    let t = TenantId::parse(&tenant).unwrap();
    let (old_keys, new_keys) = (old_master.tenant_keys(&t), new_master.tenant_keys(&t));
    let mut emails = BTreeSet::new();
    for r in &rows {
        assert_eq!(r.tenant, t);
        assert_eq!(r.key_version, 2, "{}", r.id);
        let wrapped = WrappedKey::from_bytes(r.wrapped_key.clone().unwrap());
        assert_eq!(
            old_keys.unwrap_subject_key(&r.id, &wrapped).unwrap_err(),
            VaultError::Decrypt,
            "{} still opens under the retired key",
            r.id
        );
        let dek = new_keys.unwrap_subject_key(&r.id, &wrapped).unwrap();
        let identity = dek.open(&t, &r.id, r.identity.as_ref().unwrap()).unwrap();
        assert_eq!(
            r.email_index,
            new_keys.blind_index(&identity.email).to_vec(),
            "{}",
            r.id
        );
        assert_ne!(
            r.email_index,
            old_keys.blind_index(&identity.email).to_vec()
        );
        assert!(
            emails.insert(identity.email.clone()),
            "{} twice",
            identity.email
        );
    }
    let expected: BTreeMap<&str, &str> = existing
        .iter()
        .chain(&new_ones)
        .map(|(e, i)| (e.as_str(), i.as_str()))
        .collect();
    for (email, _) in expected {
        assert!(emails.contains(email), "{email} missing");
    }
    // The old key is in no file of the data dir any more.
    let old_b64 = old_master.to_base64();
    for e in std::fs::read_dir(&data).unwrap().flatten() {
        if e.path().is_file() {
            let bytes = std::fs::read(e.path()).unwrap();
            assert!(
                !String::from_utf8_lossy(&bytes).contains(old_b64.as_str()),
                "{}",
                e.path().display()
            );
        }
    }
    // A restart holds the new key only and serves the same book.
    s.terminate();
    let s = env.start();
    assert!(wait_log(&s, "current=2 versions=[2]"), "{}", s.logs());
    consent(&s, &key, &existing[5].1, "sms", "granted");
}

/// The service's log without terminal colours.
fn plain_logs(s: &Server) -> String {
    let logs = s.logs();
    let mut out = String::with_capacity(logs.len());
    let mut rest = logs.as_str();
    while let Some(at) = rest.find('\x1b') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        rest = rest.find('m').map_or("", |end| &rest[end + 1..]);
    }
    out.push_str(rest);
    out
}

fn wait_log(s: &Server, needle: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !plain_logs(s).contains(needle) {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    true
}

#[test]
fn sqlite_master_key_rotation_under_load_survives_a_kill_and_retires_the_old_key() {
    master_rotation(Db::Sqlite);
}

#[test]
fn postgres_master_key_rotation_under_load_survives_a_kill_and_retires_the_old_key() {
    master_rotation(Db::Postgres);
}

/// Two services on one PostgreSQL database, each with a data dir of its own: the new key
/// files are written with `--install-only`, copied to the second service's dir, and the
/// rotation then runs while both serve; both keep working, and agree on link tokens.
#[test]
fn postgres_two_services_with_their_own_data_dirs_rotate_together() {
    let env = Env::new(Db::Postgres);
    let (_tenant, key) = env.tenant("ACME SAS");
    let one = env.start();
    // The second service's data dir: the same keys, copied.
    let dir2 = env.dir.path().join("data2");
    std::fs::create_dir_all(&dir2).unwrap();
    let copy = |name: &str| {
        std::fs::copy(env.data_dir().join(name), dir2.join(name)).unwrap();
    };
    for f in ["seal.key", "log.key", "master.key"] {
        copy(f);
    }
    let two = Server::start_in(&env, &dir2, &[]);
    let mut existing = Vec::new();
    for i in 0..40 {
        let email = format!("shared{i}@example.org");
        let server = if i % 2 == 0 { &one } else { &two };
        existing.push((email.clone(), add_contact(server, &key, &email)));
    }
    let hook = put(
        &two.url("/v1/webhook"),
        Some(&key),
        &json!({"url": "https://hooks.example.org/consentry"}),
    );
    let secret = hook.json()["secret"].as_str().unwrap().to_owned();

    let installed = ok(&keys_cmd(&env, &["rotate-master", "--install-only"]));
    assert!(installed.contains("copy them"), "{installed}");
    assert_eq!(versions(&env), vec![(1, "current".into(), 40)]);
    for f in ["master.key", "master.previous.key", "link.key"] {
        copy(f);
    }
    let t1 = Traffic::start(&one, &key, existing.clone(), "one");
    let t2 = Traffic::start(&two, &key, existing.clone(), "two");
    t2.wait_rounds(2);
    let out = ok(&keys_cmd(&env, &["rotate-master", "--batch-size", "5"]));
    assert!(out.contains("going on with the new key"), "{out}");
    t1.wait_rounds(2);
    t2.wait_rounds(2);
    let (c1, _) = t1.finish();
    let (c2, _) = t2.finish();
    ok(&keys_cmd(&env, &["retire-master"]));
    std::fs::remove_file(dir2.join("master.previous.key")).unwrap();
    assert!(wait_log(&two, "current=2 versions=[2]"), "{}", two.logs());
    let total = (40 + c1.len() + c2.len()) as u64;
    assert_eq!(
        versions(&env),
        vec![(1, "retired".into(), 0), (2, "current".into(), total)]
    );
    // Each service reads what the other wrote, and the webhook secret is unchanged.
    for (email, id) in c1.iter().take(5).chain(c2.iter().take(5)) {
        for s in [&one, &two] {
            consent(s, &key, id, "after", "granted");
            let r = post(&s.url("/v1/contacts"), Some(&key), &json!({"email": email}));
            assert_eq!(r.status, 409, "{}", r.text());
        }
    }
    for s in [&one, &two] {
        assert_eq!(
            get(&s.url("/v1/webhook"), Some(&key)).json()["secret"],
            secret.as_str()
        );
    }
}

/// A service that does not hold the database's current master key refuses to start.
#[test]
fn a_wrong_master_key_is_refused_at_start() {
    let env = Env::new(Db::Sqlite);
    env.tenant("ACME SAS");
    let s = env.start();
    s.terminate();
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(env.db_args())
        .env(
            "CONSENTRY_MASTER_KEY",
            MasterKey::from_bytes([3; 32]).to_base64().as_str(),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the service started with a wrong master key");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!status.success());
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(err.contains("is master key version 1"), "{err}");
}

// ---------------------------------------------------------------------------------------
// Seal and log keys.

fn tsa_args(pki: &crate::tsa::Pki, tsa: &crate::tsa::TsaServer) -> Vec<String> {
    vec![
        "--anchor-rfc3161-url".into(),
        tsa.url.clone(),
        "--anchor-rfc3161-ca".into(),
        pki.path("root.pem").display().to_string(),
        "--anchor-poll".into(),
        "1".into(),
        "--admin-token".into(),
        ADMIN.into(),
        // The service's published address, the same across the restarts (by default it is
        // the address listened on, a new port at each start here).
        "--public-url".into(),
        "https://consentry.example".into(),
    ]
}

fn start(env: &Env, args: &[String]) -> Server {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Server::start(env, &args)
}

/// Anchors now and waits for the proof's certificate.
fn certificate(s: &Server, key: &str, proof_id: &str) -> Vec<u8> {
    let r = post(&s.url("/v1/admin/anchor"), Some(ADMIN), &json!({}));
    assert_eq!(r.status, 202, "{}", r.text());
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = get(
            &s.url(&format!("/v1/proofs/{proof_id}/certificate")),
            Some(key),
        );
        if r.status == 200 {
            return r.body;
        }
        assert_eq!(r.status, 409, "{}", r.text());
        assert!(Instant::now() < deadline, "no certificate: {}", s.logs());
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn write(env: &Env, name: &str, bytes: &[u8]) -> PathBuf {
    let p = env.dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// `consentry verify FILE --json` with these keys pinned (and the test TSA's CA, the
/// root its anchors chain to): exit code and report.
fn verify(file: &Path, seal: &[String], log: &[String], tsa_ca: &Path) -> (i32, Value) {
    let mut cmd = Command::new(BIN);
    cmd.arg("verify")
        .arg(file)
        .arg("--json")
        .arg("--tsa-ca")
        .arg(tsa_ca);
    for k in seal {
        cmd.args(["--seal-key", k]);
    }
    for k in log {
        cmd.args(["--log-key", k]);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap(),
        serde_json::from_slice(&out.stdout).unwrap(),
    )
}

/// The seal and log keys published, as `--seal-key` and `--log-key` want them.
fn published(wk: &Value) -> (Vec<String>, Vec<String>) {
    let seal = wk["seal_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["public_key"].as_str().unwrap().to_owned())
        .collect();
    let mut log = vec![wk["log"]["verifier_key"].as_str().unwrap().to_owned()];
    log.extend(
        wk["previous_log_keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap().to_owned()),
    );
    (seal, log)
}

fn seal_and_log_rotation(db: Db) {
    use crate::tsa::{Alg, Pki, TsaServer};
    let env = Env::new(db);
    let pki = Pki::new(Alg::Rsa);
    let tsa = TsaServer::start(&pki.config);
    let args = tsa_args(&pki, &tsa);
    let ca = pki.path("root.pem");
    let (_t, key) = env.tenant("ACME SAS");
    let s = start(&env, &args);
    let contact = add_contact(&s, &key, "ada@example.org");

    // Before: a proof, its certificate, the published keys.
    let proof_a = consent(&s, &key, &contact, "newsletter", "granted");
    let a: Value = serde_json::from_slice(&proof_a).unwrap();
    let a_id = a["id"].as_str().unwrap().to_owned();
    let cert_a = certificate(&s, &key, &a_id);
    let before = get(&s.url("/.well-known/consentry.json"), None);
    let wk_before: Value = before.json();
    assert_eq!(wk_before["seal_keys"].as_array().unwrap().len(), 1);
    assert_eq!(wk_before["previous_log_keys"], json!([]));
    let mut members: Vec<&String> = wk_before.as_object().unwrap().keys().collect();
    members.sort();
    assert_eq!(
        members,
        [
            "anchors",
            "log",
            "pdf_seal",
            "previous_log_keys",
            "public_url",
            "rotations",
            "seal_keys",
            "witnesses"
        ]
    );
    assert_eq!(wk_before["rotations"], json!([]));
    // A verifier pins this operator's keys now, on first use of its document.
    let store = env.dir.path().join("trust");
    let saved = env.dir.path().join("well-known-before.json");
    std::fs::write(&saved, &before.body).unwrap();
    let pin_first = Command::new(BIN)
        .arg("verify")
        .arg(write(&env, "cert-a-pin.json", &cert_a))
        .args(["--trust", saved.to_str().unwrap(), "--trust-store"])
        .arg(&store)
        .arg("--tsa-ca")
        .arg(&ca)
        .output()
        .unwrap();
    assert_eq!(
        pin_first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&pin_first.stderr)
    );
    s.terminate();

    // Rotate both; the private keys stay 0600 and hold the new seeds only.
    let data = env.data_dir();
    let seal_seed = std::fs::read_to_string(data.join("seal.key")).unwrap();
    let log_seed = std::fs::read_to_string(data.join("log.key")).unwrap();
    let out = ok(&keys_cmd(&env, &["rotate-seal"]));
    assert!(out.contains("restart"), "{out}");
    let out = ok(&keys_cmd(&env, &["rotate-log"]));
    assert!(out.contains("restart"), "{out}");
    for (f, old) in [("seal.key", &seal_seed), ("log.key", &log_seed)] {
        use std::os::unix::fs::PermissionsExt as _;
        let p = data.join(f);
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_ne!(&std::fs::read_to_string(&p).unwrap(), old);
        for e in std::fs::read_dir(&data).unwrap().flatten() {
            if e.path().is_file() {
                let text = String::from_utf8_lossy(&std::fs::read(e.path()).unwrap()).into_owned();
                assert!(
                    !text.contains(old.trim()),
                    "the old {f} seed is still in {}",
                    e.path().display()
                );
            }
        }
    }

    // After the restart: both published, the existing members as they were.
    let s = start(&env, &args);
    let wk: Value = get(&s.url("/.well-known/consentry.json"), None).json();
    assert_eq!(wk["log"]["origin"], wk_before["log"]["origin"]);
    assert_ne!(wk["log"]["verifier_key"], wk_before["log"]["verifier_key"]);
    assert_eq!(
        wk["previous_log_keys"],
        json!([wk_before["log"]["verifier_key"]])
    );
    assert_eq!(wk["public_url"], wk_before["public_url"]);
    let seal_keys = wk["seal_keys"].as_array().unwrap();
    assert_eq!(seal_keys.len(), 2);
    assert_eq!(seal_keys[1], wk_before["seal_keys"][0]);
    assert_ne!(seal_keys[0], wk_before["seal_keys"][0]);
    assert_eq!(
        seal_keys[0].as_object().unwrap().keys().collect::<Vec<_>>(),
        wk_before["seal_keys"][0]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>()
    );

    // A new proof is sealed with the new key; its certificate names the new log key.
    let proof_b = consent(&s, &key, &contact, "sms", "granted");
    let b: Value = serde_json::from_slice(&proof_b).unwrap();
    assert_eq!(b["seal"]["key_id"], seal_keys[0]["key_id"]);
    let cert_b = certificate(&s, &key, b["id"].as_str().unwrap());

    // The rotations are published as statements signed by the keys they retired; the
    // verifier that pinned the old keys accepts the new ones through them (and only
    // through them), and the new certificate verifies against its pins.
    let rotations = wk["rotations"].as_array().unwrap();
    assert_eq!(rotations.len(), 2, "{wk:#}");
    assert_eq!(rotations[0]["role"], "seal");
    assert_eq!(rotations[0]["old"], wk_before["seal_keys"][0]["public_key"]);
    assert_eq!(rotations[0]["new"], seal_keys[0]["public_key"]);
    assert_eq!(rotations[1]["role"], "log");
    assert_eq!(rotations[1]["old"], wk_before["log"]["verifier_key"]);
    assert_eq!(rotations[1]["new"], wk["log"]["verifier_key"]);
    let after = Command::new(BIN)
        .arg("verify")
        .arg(write(&env, "cert-b-pin.json", &cert_b))
        .args([
            "--trust",
            &s.url("/.well-known/consentry.json"),
            "--trust-store",
        ])
        .arg(&store)
        .arg("--tsa-ca")
        .arg(&ca)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&after.stderr);
    assert_eq!(
        after.status.code(),
        Some(0),
        "{stderr}{}",
        String::from_utf8_lossy(&after.stdout)
    );
    assert!(stderr.contains("handed over by the pinned key"), "{stderr}");
    let cb: Value = serde_json::from_slice(&cert_b).unwrap();
    assert_eq!(cb["log_key"], wk["log"]["verifier_key"]);
    // The old certificate, fetched again, is the same bytes: it names the old log key.
    let cert_a_again = get(
        &s.url(&format!("/v1/proofs/{a_id}/certificate")),
        Some(&key),
    );
    assert_eq!(cert_a_again.status, 200);
    assert_eq!(cert_a_again.body, cert_a);

    // Everything verifies against the published keys.
    let (seal, log) = published(&wk);
    let files = [
        ("proof-a.json", proof_a.clone()),
        ("proof-b.json", proof_b.clone()),
        ("cert-a.json", cert_a.clone()),
        ("cert-b.json", cert_b.clone()),
    ];
    for (name, bytes) in &files {
        let file = write(&env, name, bytes);
        let (code, report) = verify(&file, &seal, &log, &ca);
        assert_eq!(code, 0, "{name}: {report:#}");
    }
    // Pinning only the new keys, the old documents fail, and the reason says so.
    let new_only = (vec![seal[0].clone()], vec![log[0].clone()]);
    let (code, report) = verify(&write(&env, "pa", &proof_a), &new_only.0, &new_only.1, &ca);
    assert_eq!(code, 1, "{report:#}");
    assert!(
        report
            .to_string()
            .contains("not among the trusted seal keys")
    );
    let (code, report) = verify(&write(&env, "ca", &cert_a), &new_only.0, &new_only.1, &ca);
    assert_eq!(code, 1, "{report:#}");
    assert!(
        report
            .to_string()
            .contains("not among the trusted log keys")
    );
    // Pinning only the old keys, the new documents fail.
    let old_only = (vec![seal[1].clone()], vec![log[1].clone()]);
    let (code, _) = verify(&write(&env, "cb", &cert_b), &old_only.0, &old_only.1, &ca);
    assert_eq!(code, 1);

    // The anchor history names the current log key; its older checkpoint is co-signed,
    // so the whole history verifies against that key alone.
    let history = get(&s.url("/v1/log/anchors"), None);
    assert_eq!(history.status, 200, "{}", history.text());
    let h: Value = history.json();
    assert_eq!(h["log_key"], wk["log"]["verifier_key"]);
    assert!(h["checkpoints"].as_array().unwrap().len() >= 2, "{h:#}");
    let (code, report) = verify(
        &write(&env, "history.json", &history.body),
        &[],
        &new_only.1,
        &ca,
    );
    assert_eq!(code, 0, "{report:#}");
    // The first checkpoint keeps its original signature too.
    let first = h["checkpoints"][0]["checkpoint"].as_str().unwrap();
    let ca: Value = serde_json::from_slice(&cert_a).unwrap();
    assert!(
        first.starts_with(ca["checkpoint"].as_str().unwrap()),
        "{first}"
    );
}

#[test]
fn sqlite_seal_and_log_rotation_keeps_old_proofs_and_certificates_verifiable() {
    seal_and_log_rotation(Db::Sqlite);
}

#[test]
fn postgres_seal_and_log_rotation_keeps_old_proofs_and_certificates_verifiable() {
    seal_and_log_rotation(Db::Postgres);
}
