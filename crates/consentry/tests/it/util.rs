//! Starting the real `consentry` binary and talking to it over HTTP.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_consentry");

/// Which database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

pub fn pg_base() -> String {
    std::env::var("CONSENTRY_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A data dir and a database URL of the test's own: a temporary directory, and for
/// PostgreSQL a fresh schema. A missing PostgreSQL fails the test, never skips it.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub db: Db,
    pub url: String,
    pub schema: Option<String>,
}

impl Env {
    pub fn new(db: Db) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let (url, schema) = match db {
            Db::Sqlite => (
                format!("sqlite://{}", dir.path().join("c.sqlite3").display()),
                None,
            ),
            Db::Postgres => {
                let schema = format!("it_{:016x}", rand::random::<u64>());
                psql(&format!("CREATE SCHEMA {schema}"));
                let base = pg_base();
                let sep = if base.contains('?') { '&' } else { '?' };
                (
                    format!("{base}{sep}options=-c%20search_path%3D{schema}"),
                    Some(schema),
                )
            }
        };
        Env {
            dir,
            db,
            url,
            schema,
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn db_args(&self) -> Vec<String> {
        vec![
            "--data-dir".into(),
            self.data_dir().display().to_string(),
            "--database-url".into(),
            self.url.clone(),
        ]
    }

    /// `consentry tenant create NAME --json` → (tenant ID, API key).
    pub fn tenant(&self, name: &str) -> (String, String) {
        let out = Command::new(BIN)
            .args(["tenant", "create", name, "--json"])
            .args(self.db_args())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (
            v["tenant"].as_str().unwrap().into(),
            v["api_key"].as_str().unwrap().into(),
        )
    }

    pub fn start(&self) -> Server {
        Server::start(self, &[])
    }

    /// Every byte the database holds for this test: the SQLite files, or a text dump of
    /// the schema's tables.
    pub fn raw_database(&self) -> Vec<u8> {
        match self.db {
            Db::Sqlite => {
                let mut all = Vec::new();
                for suffix in ["", "-wal", "-shm"] {
                    if let Ok(b) = std::fs::read(format!(
                        "{}{suffix}",
                        self.dir.path().join("c.sqlite3").display()
                    )) {
                        all.extend(b);
                    }
                }
                all
            }
            Db::Postgres => {
                let schema = self.schema.as_ref().unwrap();
                let tables = psql(&format!(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = '{schema}'"
                ));
                let mut all = Vec::new();
                for t in tables.lines().map(str::trim).filter(|t| !t.is_empty()) {
                    all.extend(psql(&format!("SELECT * FROM {schema}.{t}")).into_bytes());
                    // bytea columns come out as hex: add a decoded copy of every hex run.
                    all.extend(decode_hex_runs(&psql(&format!(
                        "SELECT * FROM {schema}.{t}"
                    ))));
                }
                all
            }
        }
    }
}

fn decode_hex_runs(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for word in text.split(|c: char| !c.is_ascii_hexdigit() && c != 'x') {
        if let Some(h) = word.strip_prefix("x") {
            let clean: String = h.chars().collect();
            if clean.len().is_multiple_of(2) {
                for i in (0..clean.len()).step_by(2) {
                    if let Ok(b) = u8::from_str_radix(&clean[i..i + 2], 16) {
                        out.push(b);
                    }
                }
            }
        }
    }
    out
}

/// Runs SQL on the test PostgreSQL with `psql`, returning unaligned tuples.
pub fn psql(sql: &str) -> String {
    let out = Command::new("psql")
        .args([
            &pg_base(),
            "-X",
            "-q",
            "-t",
            "-A",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            sql,
        ])
        .output()
        .unwrap_or_else(|e| panic!("psql is required for the PostgreSQL tests: {e}"));
    assert!(
        out.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A running `consentry serve`; killed when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
    stderr_path: PathBuf,
}

impl Server {
    pub fn start(env: &Env, extra: &[&str]) -> Server {
        Server::start_in(env, &env.data_dir(), extra)
    }

    pub fn start_in(env: &Env, data_dir: &Path, extra: &[&str]) -> Server {
        let stderr_path = env
            .dir
            .path()
            .join(format!("serve-{:08x}.log", rand::random::<u32>()));
        let mut child = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .args(["--database-url", &env.url])
            .args(extra)
            .env("CONSENTRY_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr_path).unwrap())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("consentry listening on ") {
                    let _ = tx.send(url.to_owned());
                }
            }
        });
        let base = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| {
                panic!(
                    "server did not start: {}",
                    std::fs::read_to_string(&stderr_path).unwrap_or_default()
                )
            });
        Server {
            child,
            base,
            stderr_path,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// SIGKILL: no shutdown code runs.
    pub fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, then wait for a clean exit.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A response: status, content type, body.
#[derive(Debug)]
pub struct Res {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl Res {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

fn finish(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Res {
    let mut r = r.unwrap();
    let content_type = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = r
        .body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_vec()
        .unwrap();
    Res {
        status: r.status().as_u16(),
        content_type,
        body,
    }
}

pub fn get(url: &str, key: Option<&str>) -> Res {
    let mut req = agent().get(url);
    if let Some(k) = key {
        req = req.header("Authorization", &format!("Bearer {k}"));
    }
    finish(req.call())
}

/// Bodies from this size on are sent as HTTP/1.1 says a large body should be: with
/// `Expect: 100-continue`, so that a refusal (413) reaches the client before the body is
/// written. Without it, a server that answers 413 and closes leaves the client writing into
/// a reset connection (EPIPE) on a loaded machine — the answer is then lost, not wrong.
const EXPECT_CONTINUE_FROM: usize = 64 * 1024;

pub fn post_raw(url: &str, key: Option<&str>, content_type: &str, body: &[u8]) -> Res {
    let mut req = agent().post(url).header("Content-Type", content_type);
    if body.len() >= EXPECT_CONTINUE_FROM {
        req = req.header("Expect", "100-continue");
    }
    if let Some(k) = key {
        req = req.header("Authorization", &format!("Bearer {k}"));
    }
    finish(req.send(body))
}

pub fn post(url: &str, key: Option<&str>, body: &serde_json::Value) -> Res {
    post_raw(url, key, "application/json", body.to_string().as_bytes())
}

pub fn put(url: &str, key: Option<&str>, body: &serde_json::Value) -> Res {
    let mut req = agent().put(url).header("Content-Type", "application/json");
    if let Some(k) = key {
        req = req.header("Authorization", &format!("Bearer {k}"));
    }
    finish(req.send(body.to_string().as_bytes()))
}

/// The base64 hashes of a proof route's `hashes` member.
pub fn hashes(v: &serde_json::Value) -> Vec<consentry_core::merkle::Hash> {
    v["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| consentry_core::merkle::Hash::from_base64(h.as_str().unwrap()).unwrap())
        .collect()
}

/// Adds a staff user of the web application with the CLI (`consentry user add …
/// --password-stdin --json`, the password on standard input); returns their ID.
pub fn add_staff(env: &Env, tenant: &str, email: &str, role: &str, password: &str) -> String {
    use std::io::Write as _;
    let mut child = Command::new(BIN)
        .args(["user", "add", email, "--tenant", tenant, "--role", role])
        .args(["--password-stdin", "--json"])
        .args(env.db_args())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(password.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v.get("password").is_none(),
        "a given password is not printed"
    );
    v["user"].as_str().unwrap().to_owned()
}

/// An `application/x-www-form-urlencoded` body of `pairs` (names and values
/// percent-encoded; repeated names allowed).
pub fn form_encode<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                    char::from(b).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k.as_ref()), enc(v.as_ref())))
        .collect::<Vec<_>>()
        .join("&")
}

/// A response with its headers (the HTML surfaces' tests read both).
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Page {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn content_type(&self) -> String {
        self.header("content-type").unwrap_or("").to_owned()
    }
}

/// A browser stand-in's cookie: sent with every request, replaced (or cleared) by a
/// `Set-Cookie` of the same name. The portal's and the web application's test clients
/// are this with their cookie's name.
#[derive(Debug, Clone)]
pub struct CookieJar {
    pub name: &'static str,
    pub cookie: Option<String>,
}

impl CookieJar {
    /// One request that never follows redirects: `body` as `(content type, bytes)`,
    /// `accept_language` if given, and `headers` besides.
    pub fn send(
        &mut self,
        s: &Server,
        method: &str,
        path: &str,
        accept_language: Option<&str>,
        body: Option<(&str, Vec<u8>)>,
        headers: &[(&str, &str)],
    ) -> Page {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        let mut b = ureq::http::Request::builder()
            .method(method)
            .uri(s.url(path));
        if let Some(l) = accept_language {
            b = b.header("Accept-Language", l);
        }
        if let Some(c) = &self.cookie {
            b = b.header("Cookie", c);
        }
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let r = match body {
            Some((ct, bytes)) => agent.run(b.header("Content-Type", ct).body(bytes).unwrap()),
            None => agent.run(b.body(()).unwrap()),
        };
        let mut r = r.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let headers: Vec<(String, String)> = r
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect();
        let prefix = format!("{}=", self.name);
        for (k, v) in &headers {
            if k.eq_ignore_ascii_case("set-cookie") && v.starts_with(&prefix) {
                let pair = v.split(';').next().unwrap().to_owned();
                self.cookie = (pair != prefix).then_some(pair);
            }
        }
        let body = r
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_vec()
            .unwrap();
        Page {
            status: r.status().as_u16(),
            headers,
            body,
        }
    }
}

/// One request of a web-application browser stand-in: the `consentry_staff` cookie in
/// `cookie`, pages asked for in English.
pub fn staff_send(
    cookie: &mut Option<String>,
    s: &Server,
    method: &str,
    path: &str,
    body: Option<(&str, Vec<u8>)>,
    headers: &[(&str, &str)],
) -> Page {
    let mut jar = CookieJar {
        name: "consentry_staff",
        cookie: cookie.take(),
    };
    let page = jar.send(s, method, path, Some("en-GB,en;q=0.8"), body, headers);
    *cookie = jar.cookie;
    page
}
