//! Outbound requests a tenant aims (webhooks): refused towards loopback and the other
//! special-purpose ranges unless the operator allows them (at configuration and again at
//! each delivery), one error text whatever kept the endpoint from answering, and a tenant
//! whose endpoint never answers delays only itself (not another tenant's e-mails,
//! webhooks or expiries).

use crate::delegated::{link_path, mail_body, page};
use crate::service::add_contact;
use crate::util::{Env, Server, get, post, put};
use serde_json::{Value, json};
use std::io::{BufRead as _, Read as _, Write as _};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

/// The text a tenant reads for a delivery that got no answer, whatever the reason.
const UNREACHABLE: &str = "the endpoint could not be reached or did not answer in time";

/// How long another tenant's e-mail, webhook or expiry may take while one tenant's
/// endpoint hangs: generous for a loaded machine, far below what a shared loop took
/// (each hanging delivery held every tenant's work for its whole timeout).
const BOUND: Duration = Duration::from_secs(8);

#[derive(Clone, Copy)]
enum Mode {
    /// Reads each request and answers 200.
    Answer,
    /// Accepts each connection and never answers (nor closes it).
    Hang,
}

/// A webhook endpoint on loopback: every connection it accepted, when, and the body of
/// each request it read.
struct Endpoint {
    url: String,
    port: u16,
    hits: Receiver<(Instant, String)>,
    accepted: Arc<AtomicUsize>,
}

fn endpoint(mode: Mode) -> Endpoint {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, hits) = channel();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            count.fetch_add(1, Ordering::SeqCst);
            let at = Instant::now();
            match mode {
                Mode::Hang => {
                    let _ = tx.send((at, String::new()));
                    held.push(stream);
                }
                Mode::Answer => {
                    let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
                    let mut len = 0usize;
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                            break;
                        }
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            len = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0u8; len];
                    let _ = reader.read_exact(&mut body);
                    let _ = write!(
                        stream,
                        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    );
                    let _ = tx.send((at, String::from_utf8_lossy(&body).into_owned()));
                }
            }
        }
    });
    Endpoint {
        url: format!("http://127.0.0.1:{port}/hooks/consentry"),
        port,
        hits,
        accepted,
    }
}

/// The e-mail sent to `email` in the data dir's outbox, once it is there.
fn wait_mail_to(env: &Env, email: &str, within: Duration) -> Option<String> {
    let dir = env.data_dir().join("outbox");
    let deadline = Instant::now() + within;
    loop {
        let mut stack = vec![dir.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                    continue;
                }
                let text = std::fs::read_to_string(&p).unwrap_or_default();
                let complete = text.contains("\r\n\r\n") || text.contains("\n\n");
                if complete && text.contains(email) {
                    return Some(text);
                }
            }
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A new contact at `email` asked for consent: the request's ID.
fn ask(s: &Server, key: &str, email: &str) -> String {
    let contact = add_contact(s, key, email);
    let r = post(
        &s.url("/v1/consent-requests"),
        Some(key),
        &json!({"contact_id": contact, "purpose": "newsletter", "notice": "Notre lettre mensuelle."}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_owned()
}

/// Grants the request e-mailed to `email` through its link (which queues a webhook
/// event for the tenant).
fn answer(env: &Env, s: &Server, email: &str) {
    let mail = wait_mail_to(env, email, Duration::from_secs(30)).expect("the request's e-mail");
    let (status, body) = page(
        s,
        &link_path(&mail_body(&mail)),
        "fr",
        Some("decision=granted"),
    );
    assert_eq!(status, 200, "{body}");
}

fn set_hook(s: &Server, key: &str, url: &str) {
    let r = put(&s.url("/v1/webhook"), Some(key), &json!({"url": url}));
    assert_eq!(r.status, 200, "{}", r.text());
}

/// The tenant's newest delivery once an attempt at it failed: its error text.
fn wait_delivery_error(s: &Server, key: &str, within: Duration) -> String {
    let deadline = Instant::now() + within;
    loop {
        let hook = get(&s.url("/v1/webhook"), Some(key)).json();
        if let Some(d) = hook["recent_deliveries"].as_array().and_then(|d| d.first())
            && d["attempts"].as_i64().unwrap_or(0) >= 1
        {
            assert_ne!(d["status"], "delivered", "{d}");
            return d["error"].as_str().unwrap().to_owned();
        }
        assert!(Instant::now() < deadline, "no failed attempt: {hook}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn webhook_to_loopback_is_refused_unless_the_operator_allows_it() {
    let env = Env::new(crate::util::Db::Sqlite);
    let (_, key) = env.tenant("ACME SAS");
    let hook = endpoint(Mode::Answer);
    let port = hook.port;

    // Without an allowed range: every address written in the URL that is not public is
    // refused at once, naming the rule, and nothing is set.
    let s = env.start();
    for (url, rule) in [
        (hook.url.clone(), "loopback"),
        (format!("http://localhost:{port}/"), "loopback"),
        (format!("http://[::1]:{port}/"), "loopback"),
        (format!("http://[::ffff:127.0.0.1]:{port}/"), "loopback"),
        (format!("http://2130706433:{port}/"), "loopback"),
        ("http://127.0.0.1:5432/".to_owned(), "loopback"),
        (
            "http://169.254.169.254/latest/meta-data/".to_owned(),
            "link-local",
        ),
        ("http://10.1.2.3/hook".to_owned(), "private"),
        ("http://192.168.1.1/hook".to_owned(), "private"),
        ("https://[fd00::1]/hook".to_owned(), "private"),
        ("http://0.0.0.0:8080/".to_owned(), "unspecified"),
    ] {
        let r = put(&s.url("/v1/webhook"), Some(&key), &json!({"url": url}));
        assert_eq!(r.status, 422, "{url}: {}", r.text());
        assert_eq!(r.content_type, "application/problem+json");
        let p = r.json();
        assert_eq!(
            p["type"], "urn:consentry:problem:forbidden-address",
            "{url}"
        );
        assert_eq!(p["rule"], rule, "{url}");
    }
    assert_eq!(get(&s.url("/v1/webhook"), Some(&key)).status, 404);
    drop(s);

    // With the range allowed, events reach the endpoint.
    let s = Server::start(&env, &["--outbound-allow", "127.0.0.1/32"]);
    set_hook(&s, &key, &hook.url);
    ask(&s, &key, "allowed@example.org");
    answer(&env, &s, "allowed@example.org");
    let (_, body) = hook
        .hits
        .recv_timeout(Duration::from_secs(30))
        .expect("a delivery to the allowed address");
    let event: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(event["type"], "consent_request.answered");
    drop(s);

    // The operator withdraws the range: the stored webhook is checked again at each
    // delivery, and the endpoint receives nothing more.
    let accepted = hook.accepted.load(Ordering::SeqCst);
    let s = env.start();
    ask(&s, &key, "withdrawn@example.org");
    answer(&env, &s, "withdrawn@example.org");
    let error = wait_delivery_error(&s, &key, Duration::from_secs(30));
    assert!(error.contains("loopback"), "{error}");
    assert!(
        hook.hits.try_recv().is_err(),
        "the endpoint received nothing"
    );
    assert_eq!(hook.accepted.load(Ordering::SeqCst), accepted);
}

#[test]
fn a_tenant_whose_webhook_never_answers_delays_only_itself() {
    let env = Env::new(crate::util::Db::Sqlite);
    let (_, slow) = env.tenant("Slow SAS");
    let (_, prompt) = env.tenant("Prompt SAS");
    let s = Server::start(&env, &["--outbound-allow", "127.0.0.1/32"]);
    let silent = endpoint(Mode::Hang);
    let listening = endpoint(Mode::Answer);
    set_hook(&s, &slow, &silent.url);
    set_hook(&s, &prompt, &listening.url);

    // The slow tenant: three answers, so three deliveries to an endpoint that accepts
    // and never answers.
    for i in 0..3 {
        ask(&s, &slow, &format!("slow{i}@example.org"));
    }
    for i in 0..3 {
        answer(&env, &s, &format!("slow{i}@example.org"));
    }
    silent
        .hits
        .recv_timeout(Duration::from_secs(30))
        .expect("the slow tenant's endpoint accepted a delivery");

    // Meanwhile the other tenant's e-mail, webhook and expiry each happen within BOUND.
    let asked = Instant::now();
    ask(&s, &prompt, "prompt@example.org");
    let mail = wait_mail_to(&env, "prompt@example.org", BOUND);
    assert!(
        mail.is_some(),
        "the other tenant's e-mail waited more than {BOUND:?} behind a hanging webhook"
    );
    let mailed = asked.elapsed();
    let answered = Instant::now();
    answer(&env, &s, "prompt@example.org");
    let hit = listening.hits.recv_timeout(BOUND);
    let delivered = answered.elapsed();
    assert!(
        hit.is_ok(),
        "the other tenant's webhook waited more than {BOUND:?} behind a hanging one"
    );
    let rid = ask(&s, &prompt, "late@example.org");
    let db = env.dir.path().join("c.sqlite3");
    let out = std::process::Command::new("sqlite3")
        .args(["-cmd", ".timeout 10000"])
        .arg(&db)
        .arg(format!(
            "UPDATE consent_requests SET expires_at = 0 WHERE id = '{rid}'"
        ))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let closed = Instant::now();
    loop {
        let r = get(
            &s.url(&format!("/v1/consent-requests/{rid}")),
            Some(&prompt),
        )
        .json();
        if r["status"] == "expired" {
            break;
        }
        assert!(
            closed.elapsed() < BOUND,
            "the request's expiry waited more than {BOUND:?} behind a hanging webhook: {r}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!(
        "while a webhook hung, another tenant's e-mail took {mailed:?}, its webhook {delivered:?}, its expiry {:?}",
        closed.elapsed()
    );
}

#[test]
fn delivery_errors_read_the_same_for_a_closed_port_and_a_silent_one() {
    let env = Env::new(crate::util::Db::Sqlite);
    let (_, closed_key) = env.tenant("Closed SAS");
    let (_, silent_key) = env.tenant("Silent SAS");
    let s = Server::start(&env, &["--outbound-allow", "127.0.0.1/32"]);
    let closed_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let silent = endpoint(Mode::Hang);
    set_hook(
        &s,
        &closed_key,
        &format!("http://127.0.0.1:{closed_port}/hook"),
    );
    set_hook(&s, &silent_key, &silent.url);
    ask(&s, &closed_key, "closed@example.org");
    ask(&s, &silent_key, "silent@example.org");
    answer(&env, &s, "closed@example.org");
    answer(&env, &s, "silent@example.org");
    let closed = wait_delivery_error(&s, &closed_key, Duration::from_secs(40));
    let silent_error = wait_delivery_error(&s, &silent_key, Duration::from_secs(40));
    assert_eq!(silent.accepted.load(Ordering::SeqCst), 1);
    assert_eq!(closed, silent_error);
    assert_eq!(closed, UNREACHABLE);
    // The operator's trace tells them apart.
    let logs = s.logs();
    let traced: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("webhook endpoint not reached"))
        .collect();
    assert!(traced.iter().any(|l| l.contains("connect")), "{logs}");
    assert!(traced.iter().any(|l| l.contains("timeout")), "{logs}");
}
