//! Operations: `consentry backup` while writes go on, `consentry restore` into a new data
//! dir (the restored service serves the backup's log, its proofs verify) and its refusal
//! to fork a log past a published checkpoint; `consentry check` clean on a healthy store
//! and exit 1 on one altered entry byte, tile or vault row; a full disk answered 503
//! problem+json, losing nothing acknowledged and recovering when space returns.

use crate::durability::burst;
use crate::service::{add_contact, checkpoint_covering, consent, well_known};
use crate::util::{BIN, Db, Env, Server, get, post};
use consentry_core::checkpoint::verify_signed_checkpoint;
use consentry_core::merkle::{leaf_hash, verify_inclusion};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

fn consentry(args: &[&str], extra: &[String]) -> Output {
    Command::new(BIN).args(args).args(extra).output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn path_str(p: &Path) -> String {
    p.display().to_string()
}

/// A served proof's inclusion in the checkpoint `note`, checked against the log key.
fn assert_included(s: &Server, body: &[u8], note: &str, log_key: &str) {
    let cp = verify_signed_checkpoint(note, log_key).unwrap().checkpoint;
    let p: Value = serde_json::from_slice(body).unwrap();
    let index = p["log_index"].as_u64().unwrap();
    let inc = get(
        &s.url(&format!(
            "/v1/log/proof/inclusion?index={index}&size={}",
            cp.size
        )),
        None,
    )
    .json();
    verify_inclusion(
        index,
        cp.size,
        &leaf_hash(body),
        &crate::util::hashes(&inc),
        &cp.root,
    )
    .unwrap_or_else(|e| panic!("proof {index} not in the checkpoint of {}: {e}", cp.size));
}

#[test]
fn sqlite_backup_under_writes_restores_the_same_log_and_refuses_a_fork() {
    let env = Env::new(Db::Sqlite);
    let (_, key) = env.tenant("ACME");
    let s = env.start();
    let (_, log_key) = well_known(&s);
    let contacts: Vec<String> = (0..3)
        .map(|i| add_contact(&s, &key, &format!("b{i}@example.com")))
        .collect();
    consent(&s, &key, &contacts[0], "news", "granted");
    // What a monitor saw published before the backup.
    let before = checkpoint_covering(&s, 1);
    let before_file = env.dir.path().join("published-before");
    std::fs::write(&before_file, &before).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let workers = burst(
        vec![s.base.clone()],
        &key,
        &contacts,
        4,
        100_000,
        stop.clone(),
    );
    std::thread::sleep(Duration::from_millis(300));
    let backup = env.dir.path().join("backup");
    let out = consentry(&["backup", &path_str(&backup)], &env.db_args());
    assert!(out.status.success(), "{}", text(&out));
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    let acked: Vec<Vec<u8>> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();

    let manifest: Value =
        serde_json::from_slice(&std::fs::read(backup.join("backup.json")).unwrap()).unwrap();
    let size = manifest["log"]["size"].as_u64().unwrap();
    let in_backup: Vec<&Vec<u8>> = acked
        .iter()
        .filter(|b| {
            serde_json::from_slice::<Value>(b).unwrap()["log_index"]
                .as_u64()
                .unwrap()
                < size
        })
        .collect();
    assert!(
        !in_backup.is_empty() && in_backup.len() < acked.len(),
        "the backup ({size} entries) should fall amid the writes ({} acknowledged)",
        acked.len()
    );
    for f in ["seal.key", "log.key", "master.key", "pdf-seal/seal-key.pem"] {
        assert!(
            manifest["files"][f].is_string(),
            "{f} not in the backup: {manifest}"
        );
    }
    let live = checkpoint_covering(&s, 1 + acked.len() as u64);
    let live_file = env.dir.path().join("published-live");
    std::fs::write(&live_file, &live).unwrap();

    // The live log went on after the backup: restoring it is a fork, refused, and
    // nothing is written.
    let forked = env.dir.path().join("forked");
    let out = consentry(
        &["restore", &path_str(&backup)],
        &[
            "--data-dir".into(),
            path_str(&forked),
            "--published-url".into(),
            s.url("/checkpoint"),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("fork"), "{}", text(&out));
    assert!(
        !forked.exists(),
        "a refused restore wrote {}",
        forked.display()
    );
    // Nothing published given: refused too (a fork cannot be ruled out).
    let out = consentry(
        &["restore", &path_str(&backup)],
        &["--data-dir".into(), path_str(&forked)],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(!forked.exists());
    // Told explicitly, it restores.
    let out = consentry(
        &["restore", &path_str(&backup)],
        &[
            "--data-dir".into(),
            path_str(&forked),
            "--published".into(),
            path_str(&live_file),
            "--accept-fork".into(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(forked.join("consentry.sqlite3").exists());

    // The checkpoint published before the backup is within it: the restore is no fork.
    let restored = env.dir.path().join("restored");
    let out = consentry(
        &["restore", &path_str(&backup)],
        &[
            "--data-dir".into(),
            path_str(&restored),
            "--published".into(),
            path_str(&before_file),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    drop(s);

    let out = consentry(&["check", "--data-dir", &path_str(&restored)], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    let restored_env = Env {
        dir: tempfile::tempdir().unwrap(),
        db: Db::Sqlite,
        url: format!("sqlite://{}", restored.join("consentry.sqlite3").display()),
        schema: None,
    };
    let r = Server::start_in(&restored_env, &restored, &[]);
    let (_, restored_log_key) = well_known(&r);
    assert_eq!(restored_log_key, log_key, "the restored service's log key");
    let note = checkpoint_covering(&r, size);
    let cp = verify_signed_checkpoint(&note, &log_key)
        .unwrap()
        .checkpoint;
    assert_eq!(
        cp.size, size,
        "the restored service serves the backup's log"
    );
    assert_eq!(
        cp.root.to_base64(),
        manifest["log"]["root"].as_str().unwrap()
    );
    for body in &in_backup {
        let p: Value = serde_json::from_slice(body).unwrap();
        let got = get(
            &r.url(&format!("/v1/proofs/{}", p["id"].as_str().unwrap())),
            Some(&key),
        );
        assert_eq!(got.status, 200, "{}", got.text());
        assert_eq!(&got.body, *body, "a proof in the backup changed");
        assert_included(&r, body, &note, &log_key);
    }
    // The restored service takes writes.
    consent(&r, &key, &contacts[1], "news", "refused");
}

/// Changes one byte of a blob column of the row `where_` names, directly in the database
/// (SQLite or PostgreSQL alike); returns the original, to put back.
fn alter_blob(env: &Env, table: &str, column: &str, where_: &str, at: usize) -> Vec<u8> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&env.url).await.unwrap();
        let (old,): (Vec<u8>,) =
            sqlx::query_as(&format!("SELECT {column} FROM {table} WHERE {where_}"))
                .fetch_one(&pool)
                .await
                .unwrap();
        let mut new = old.clone();
        new[at] = if new[at] == b'7' { b'8' } else { b'7' };
        set_blob(&pool, table, column, where_, new).await;
        pool.close().await;
        old
    })
}

fn put_back(env: &Env, table: &str, column: &str, where_: &str, old: Vec<u8>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&env.url).await.unwrap();
        set_blob(&pool, table, column, where_, old).await;
        pool.close().await;
    })
}

async fn set_blob(pool: &sqlx::AnyPool, table: &str, column: &str, where_: &str, v: Vec<u8>) {
    let done = sqlx::query(&format!("UPDATE {table} SET {column} = $1 WHERE {where_}"))
        .bind(v)
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), 1);
}

fn check(env: &Env) -> (i32, String) {
    let out = consentry(&["check"], &env.db_args());
    (out.status.code().unwrap(), text(&out))
}

fn check_finds_altered_rows(db: Db) {
    let env = Env::new(db);
    let (_, key) = env.tenant("ACME");
    let s = env.start();
    let a = add_contact(&s, &key, "c1@example.com");
    let b = add_contact(&s, &key, "c2@example.com");
    for i in 0..5 {
        consent(
            &s,
            &key,
            if i % 2 == 0 { &a } else { &b },
            "news",
            "granted",
        );
    }
    let r = post(
        &s.url(&format!("/v1/contacts/{b}/erase")),
        Some(&key),
        &json!({}),
    );
    assert!(r.status == 200 || r.status == 201, "{}", r.text());
    checkpoint_covering(&s, 6);
    drop(s);

    let (code, out) = check(&env);
    assert_eq!(code, 0, "a healthy store: {out}");
    assert!(out.contains("result: clean"), "{out}");
    assert!(out.contains("6 entries re-hashed"), "{out}");

    // One byte of an entry (inside its seal's signature, base64 letters).
    let old = alter_blob(&env, "log_entries", "entry", "idx = 2", 40);
    let (code, out) = check(&env);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("problem: log: entry 2"), "{out}");
    assert!(out.contains("the entry was altered"), "{out}");
    assert!(!out.contains("c1@example.com"), "{out}");
    put_back(&env, "log_entries", "entry", "idx = 2", old);
    assert_eq!(check(&env).0, 0);

    // One byte of a tile.
    let old = alter_blob(
        &env,
        "log_tiles",
        "hashes",
        "level = 0 AND idx = 0",
        3 * 32 + 5,
    );
    let (code, out) = check(&env);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("problem: log: entry 3"), "{out}");
    assert!(out.contains("the stored tile was altered"), "{out}");
    put_back(&env, "log_tiles", "hashes", "level = 0 AND idx = 0", old);
    assert_eq!(check(&env).0, 0);

    // One byte of a vault row (the live contact's sealed identity).
    let row = format!("id = '{a}'");
    let old = alter_blob(&env, "contacts", "identity", &row, 30);
    let (code, out) = check(&env);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("problem: vault: contact {a}")),
        "{out}"
    );
    assert!(!out.contains("c1@example.com"), "{out}");
    put_back(&env, "contacts", "identity", &row, old);
    assert_eq!(check(&env).0, 0);

    // No keys: could not check.
    let out = consentry(
        &[
            "check",
            "--data-dir",
            &path_str(&env.dir.path().join("none")),
        ],
        &["--database-url".into(), env.url.clone()],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[test]
fn sqlite_check_is_clean_on_a_healthy_store_and_finds_an_altered_entry_tile_or_vault_row() {
    check_finds_altered_rows(Db::Sqlite);
}

#[test]
fn postgres_check_is_clean_on_a_healthy_store_and_finds_an_altered_entry_tile_or_vault_row() {
    check_finds_altered_rows(Db::Postgres);
}

/// A tmpfs of `mb` MiB mounted for the test, unmounted when dropped. The tests run as
/// root; a mount that fails fails the test.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn new(mb: u32, owner: Option<(u32, u32)>) -> SmallDisk {
        let dir = tempfile::tempdir().unwrap();
        let owner = owner
            .map(|(u, g)| format!(",uid={u},gid={g}"))
            .unwrap_or_default();
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={mb}m,mode=0700{owner}"),
                "tmpfs",
            ])
            .arg(dir.path())
            .output()
            .expect("mount(8) is required for the full-disk test");
        assert!(
            out.status.success(),
            "cannot mount a small filesystem for the full-disk test (run as root): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        SmallDisk { dir }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().to_owned()
    }

    /// Fills the filesystem with a file of zeros until it refuses a byte more.
    fn fill(&self) -> PathBuf {
        use std::io::Write as _;
        let p = self.path().join("filler");
        let mut f = std::fs::File::create(&p).unwrap();
        let chunk = vec![0u8; 64 * 1024];
        loop {
            match f.write(&chunk) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(28) => break,
                Err(e) => panic!("filling the disk: {e}"),
            }
        }
        let _ = f.sync_all();
        p
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

#[test]
fn sqlite_full_disk_answers_503_loses_nothing_and_recovers() {
    let disk = SmallDisk::new(24, None);
    // Database and data dir on the small disk; the server's own log beside the test.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(disk.path().join("data")).unwrap();
    std::os::unix::fs::symlink(disk.path().join("data"), dir.path().join("data")).unwrap();
    let env = Env {
        dir,
        db: Db::Sqlite,
        url: format!("sqlite://{}", disk.path().join("c.sqlite3").display()),
        schema: None,
    };
    full_disk_answers_503_and_recovers(&env, &disk);
}

/// Fills `disk` under the service of `env`, checks the refusals, frees it and checks the
/// recovery and that nothing acknowledged was lost.
fn full_disk_answers_503_and_recovers(env: &Env, disk: &SmallDisk) {
    let (_, key) = env.tenant("ACME");
    let s = env.start();
    let (_, log_key) = well_known(&s);
    let contact = add_contact(&s, &key, "full@example.com");
    let mut acked = Vec::new();
    for _ in 0..5 {
        acked.push(consent(&s, &key, &contact, "news", "granted"));
    }

    let filler = disk.fill();
    let mut refused = None;
    for _ in 0..5000 {
        let r = post(
            &s.url(&format!("/v1/contacts/{contact}/consents")),
            Some(&key),
            &json!({"purpose": "news", "decision": "refused"}),
        );
        if r.status == 201 {
            acked.push(r.body);
        } else {
            refused = Some(r);
            break;
        }
    }
    let r = refused.expect("a full disk never refused a write");
    assert_eq!(r.status, 503, "{}", r.text());
    assert_eq!(r.content_type, "application/problem+json");
    assert_eq!(
        r.json()["type"],
        "urn:consentry:problem:storage-full",
        "{}",
        r.text()
    );
    // Still full: still refused, with Retry-After; reads go on.
    let res = ureq_post_with_headers(&s, &key, &contact);
    assert_eq!(res.0, 503);
    assert!(res.1.is_some(), "no Retry-After on a storage-full answer");
    assert_eq!(get(&s.url("/healthz"), None).status, 200);

    // Space returns: the same service takes writes again, without a restart.
    std::fs::remove_file(filler).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = post(
            &s.url(&format!("/v1/contacts/{contact}/consents")),
            Some(&key),
            &json!({"purpose": "news", "decision": "granted"}),
        );
        if r.status == 201 {
            acked.push(r.body);
            break;
        }
        assert_eq!(r.status, 503, "{}", r.text());
        assert!(Instant::now() < deadline, "no recovery: {}", s.logs());
        std::thread::sleep(Duration::from_millis(200));
    }
    // Nothing acknowledged was lost, and all of it is in the log.
    let note = checkpoint_covering(&s, acked.len() as u64);
    for body in &acked {
        let p: Value = serde_json::from_slice(body).unwrap();
        let got = get(
            &s.url(&format!("/v1/proofs/{}", p["id"].as_str().unwrap())),
            Some(&key),
        );
        assert_eq!(got.status, 200, "acknowledged proof lost: {}", got.text());
        assert_eq!(&got.body, body);
        assert_included(&s, body, &note, &log_key);
    }
    drop(s);
    let (code, out) = check(env);
    assert_eq!(code, 0, "{out}");
}

/// A consent POST's status and `Retry-After` header.
fn ureq_post_with_headers(s: &Server, key: &str, contact: &str) -> (u16, Option<String>) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let res = agent
        .post(&s.url(&format!("/v1/contacts/{contact}/consents")))
        .header("Authorization", &format!("Bearer {key}"))
        .header("Content-Type", "application/json")
        .send(
            json!({"purpose": "news", "decision": "granted"})
                .to_string()
                .as_bytes(),
        )
        .unwrap();
    (
        res.status().as_u16(),
        res.headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    )
}

#[test]
fn postgres_backup_under_writes_is_pg_dump_and_restores_the_same_log() {
    let env = Env::new(Db::Postgres);
    let schema = env.schema.clone().unwrap();
    let (_, key) = env.tenant("ACME");
    let s = env.start();
    let (_, log_key) = well_known(&s);
    let contacts: Vec<String> = (0..2)
        .map(|i| add_contact(&s, &key, &format!("p{i}@example.com")))
        .collect();
    consent(&s, &key, &contacts[0], "news", "granted");
    let before_file = env.dir.path().join("published-before");
    std::fs::write(&before_file, checkpoint_covering(&s, 1)).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let workers = burst(
        vec![s.base.clone()],
        &key,
        &contacts,
        4,
        100_000,
        stop.clone(),
    );
    std::thread::sleep(Duration::from_millis(300));
    let backup = env.dir.path().join("backup");
    let out = consentry(&["backup", &path_str(&backup)], &env.db_args());
    assert!(out.status.success(), "{}", text(&out));
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    let acked: Vec<Vec<u8>> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(backup.join("backup.json")).unwrap()).unwrap();
    assert_eq!(manifest["backend"], "postgres");
    assert!(backup.join("database.pgdump").exists());
    let size = manifest["log"]["size"].as_u64().unwrap();
    checkpoint_covering(&s, 1 + acked.len() as u64);

    // A new database; the dump brings its schema.
    let db = format!("itdb_{:016x}", rand::random::<u64>());
    crate::util::psql(&format!("CREATE DATABASE {db}"));
    let base = crate::util::pg_base();
    let server_url = base.rsplit_once('/').unwrap().0.to_owned();
    let target = format!("{server_url}/{db}?options=-c%20search_path%3D{schema}");
    let restored = env.dir.path().join("restored");
    let restore = |extra: &[&str]| {
        let mut args = vec![
            "--data-dir".to_owned(),
            path_str(&restored),
            "--database-url".into(),
            target.clone(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        consentry(&["restore", &path_str(&backup)], &args)
    };
    // Before pg_restore: the command says how.
    let out = restore(&["--published", &path_str(&before_file)]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("pg_restore"), "{}", text(&out));
    let out = Command::new("pg_restore")
        .args(["--no-owner", "--exit-on-error", "--dbname"])
        .arg(format!("{server_url}/{db}"))
        .arg(backup.join("database.pgdump"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    // The live log went on: a fork, refused, no keys installed.
    let out = restore(&["--published-url", &s.url("/checkpoint")]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("fork"), "{}", text(&out));
    assert!(!restored.exists());
    let out = restore(&["--published", &path_str(&before_file)]);
    assert!(out.status.success(), "{}", text(&out));
    drop(s);

    let restored_env = Env {
        dir: tempfile::tempdir().unwrap(),
        db: Db::Postgres,
        url: target.clone(),
        schema: None,
    };
    let out = consentry(&["check"], &restored_env_args(&restored, &target));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let r = Server::start_in(&restored_env, &restored, &[]);
    let note = checkpoint_covering(&r, size);
    let cp = verify_signed_checkpoint(&note, &log_key)
        .unwrap()
        .checkpoint;
    assert_eq!(cp.size, size);
    assert_eq!(
        cp.root.to_base64(),
        manifest["log"]["root"].as_str().unwrap()
    );
    let mut in_backup = 0;
    for body in &acked {
        let p: Value = serde_json::from_slice(body).unwrap();
        if p["log_index"].as_u64().unwrap() >= size {
            continue;
        }
        in_backup += 1;
        let got = get(
            &r.url(&format!("/v1/proofs/{}", p["id"].as_str().unwrap())),
            Some(&key),
        );
        assert_eq!(&got.body, body, "a proof in the backup changed");
        assert_included(&r, body, &note, &log_key);
    }
    assert!(
        in_backup > 0 && in_backup < acked.len(),
        "the backup fell amid the writes"
    );
    drop(r);
    crate::util::psql(&format!("DROP DATABASE {db} WITH (FORCE)"));
}

fn restored_env_args(data_dir: &Path, url: &str) -> Vec<String> {
    vec![
        "--data-dir".into(),
        path_str(data_dir),
        "--database-url".into(),
        url.to_owned(),
    ]
}

/// A PostgreSQL cluster of the test's own (`initdb` into `data`, its WAL in `wal`, on its
/// own port), started with `pg_ctl` as the `postgres` user and stopped when dropped: never
/// the machine's shared server.
struct PrivateCluster {
    data: PathBuf,
    pg_ctl: PathBuf,
    url: String,
}

impl PrivateCluster {
    fn start(data: PathBuf, wal: &Path) -> PrivateCluster {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL's server programs (/usr/lib/postgresql/*/bin) are required")
            .filter_map(Result::ok)
            .map(|e| e.path().join("bin"))
            .filter(|b| b.join("initdb").exists())
            .max()
            .expect("no initdb under /usr/lib/postgresql/*/bin");
        let as_postgres = |program: &Path| {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        };
        let out = as_postgres(&bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .arg(format!("--waldir={}", wal.join("pg_wal").display()))
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
            .output()
            .unwrap();
        assert!(out.status.success(), "initdb: {}", text(&out));
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let out = as_postgres(&bin.join("pg_ctl"))
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(wal.join("postgres.log"))
            .arg("-o")
            .arg(format!(
                "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
                wal.display()
            ))
            .args(["-w", "start"])
            .output()
            .unwrap();
        assert!(out.status.success(), "pg_ctl start: {}", text(&out));
        PrivateCluster {
            data,
            pg_ctl: bin.join("pg_ctl"),
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
        }
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(&self.pg_ctl)
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

fn postgres_ids() -> (u32, u32) {
    let id = |flag: &str| -> u32 {
        let out = Command::new("id")
            .args([flag, "postgres"])
            .output()
            .unwrap();
        assert!(out.status.success(), "no postgres user: {}", text(&out));
        String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
    };
    (id("-u"), id("-g"))
}

#[test]
fn postgres_full_disk_answers_503_loses_nothing_and_recovers() {
    let (uid, gid) = postgres_ids();
    // The private cluster's data on the small disk, its WAL beside the test: the disk
    // filling up fails data-file extensions (what a service meets when a data volume or
    // tablespace fills) rather than stopping the whole server, as a full WAL volume does.
    let disk = SmallDisk::new(64, Some((uid, gid)));
    let wal = tempfile::tempdir().unwrap();
    std::os::unix::fs::chown(wal.path(), Some(uid), Some(gid)).unwrap();
    let cluster = PrivateCluster::start(disk.path().join("pg"), wal.path());
    let env = Env {
        dir: tempfile::tempdir().unwrap(),
        db: Db::Postgres,
        url: cluster.url.clone(),
        schema: None,
    };
    full_disk_answers_503_and_recovers(&env, &disk);

    // The schema here is `public`: its backup is the whole database, and restores into a
    // new one (a `--schema=public` dump would not: it creates `public` again).
    let backup = env.dir.path().join("backup");
    let out = consentry(&["backup", &path_str(&backup)], &env.db_args());
    assert!(out.status.success(), "{}", text(&out));
    let server = cluster.url.rsplit_once('/').unwrap().0.to_owned();
    let out = Command::new("psql")
        .args([
            &format!("{server}/postgres"),
            "-X",
            "-q",
            "-c",
            "CREATE DATABASE restored",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let target = format!("{server}/restored");
    let out = Command::new("pg_restore")
        .args(["--no-owner", "--exit-on-error", "--dbname", &target])
        .arg(backup.join("database.pgdump"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let restored = env.dir.path().join("restored");
    let args = restored_env_args(&restored, &target);
    let out = consentry(&["restore", &path_str(&backup), "--accept-fork"], &args);
    assert!(out.status.success(), "{}", text(&out));
    let out = consentry(&["check"], &args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    drop(cluster);
}
