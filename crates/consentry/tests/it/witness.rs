//! The witness: `consentry witness` as its own process on loopback, driven over HTTP with
//! the checkpoints of a test log (c2sp.org/tlog-witness v1.0.0): every status of the
//! specification, a lying log refused and its evidence served, and a witness killed with
//! SIGKILL in the middle of a stream of requests that, restarted, never cosigns a fork of
//! what it acknowledged.

use crate::util::{BIN, Res, get, post_raw};
use consentry_core::checkpoint::{Checkpoint, verify_signed_checkpoint};
use consentry_core::cosignature::CosignerVerifier;
use consentry_core::keys::LogKey;
use consentry_core::merkle::{Hash, MemoryLog, leaf_hash};
use consentry_core::witness_protocol::{AddCheckpoint, parse_size_body};
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const ORIGIN: &str = "consentry.test/witnessed-log";

fn log_key() -> LogKey {
    LogKey::from_seed(ORIGIN, &[42; 32]).unwrap()
}

/// A log of `n` leaves; another `salt` from leaf `from` on gives a fork of it.
fn tree(n: u64, fork_from: u64, salt: &str) -> MemoryLog {
    let mut log = MemoryLog::new();
    for i in 0..n {
        let s = if i >= fork_from { salt } else { "" };
        log.append(leaf_hash(format!("{s}leaf {i}").as_bytes()));
    }
    log
}

fn note(log: &MemoryLog, size: u64, key: &LogKey) -> String {
    Checkpoint {
        origin: key.origin().to_owned(),
        size,
        root: log.root(size).unwrap(),
        extensions: vec![],
    }
    .sign(key)
    .unwrap()
}

/// An add-checkpoint body for `log` at `size`, from `old` with the log's own proof.
fn request(log: &MemoryLog, old: u64, size: u64) -> Vec<u8> {
    let proof = if old == 0 {
        vec![]
    } else {
        log.consistency_proof(old, size).unwrap()
    };
    request_with(old, proof, &note(log, size, &log_key()))
}

fn request_with(old: u64, proof: Vec<Hash>, note: &str) -> Vec<u8> {
    AddCheckpoint {
        old_size: old,
        proof,
        note: note.to_owned(),
    }
    .to_text()
    .into_bytes()
}

/// A running `consentry witness`; killed when dropped.
struct WitnessProc {
    child: Child,
    base: String,
    log: PathBuf,
}

impl WitnessProc {
    fn start(dir: &Path, extra: &[&str]) -> WitnessProc {
        let log = dir.join(format!("witness-{:08x}.log", rand::random::<u32>()));
        let mut child = Command::new(BIN)
            .args([
                "witness",
                "--listen",
                "127.0.0.1:0",
                "--name",
                "witness.test",
            ])
            .arg("--data-dir")
            .arg(dir.join("data"))
            .args(["--log", &log_key().verifier_key()])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("consentry witness listening on ") {
                    let _ = tx.send(url.to_owned());
                }
            }
        });
        let base = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| {
                panic!(
                    "witness did not start: {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                )
            });
        WitnessProc { child, base, log }
    }

    fn add(&self, body: &[u8]) -> Res {
        post_raw(
            &format!("{}/add-checkpoint", self.base),
            None,
            "text/plain",
            body,
        )
    }

    fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for WitnessProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn vkey(dir: &Path) -> CosignerVerifier {
    let out = Command::new(BIN)
        .args([
            "witness",
            "--print-vkey",
            "--name",
            "witness.test",
            "--data-dir",
        ])
        .arg(dir.join("data"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    CosignerVerifier::parse(String::from_utf8(out.stdout).unwrap().trim()).unwrap()
}

/// Checks a 200 answer: one cosignature line by the witness over the checkpoint.
fn assert_cosigned(res: &Res, v: &CosignerVerifier, log: &MemoryLog, size: u64) {
    assert_eq!(res.status, 200, "{}", res.text());
    let body = Checkpoint {
        origin: ORIGIN.into(),
        size,
        root: log.root(size).unwrap(),
        extensions: vec![],
    }
    .body();
    let ts = v.verify_line(&body, &res.text()).unwrap();
    assert!(ts > 1_600_000_000, "a real timestamp: {ts}");
}

fn assert_conflict(res: &Res, latest: u64) {
    assert_eq!(res.status, 409, "{}", res.text());
    assert_eq!(res.content_type, "text/x.tlog.size");
    assert_eq!(parse_size_body(&res.text()), Some(latest));
}

fn metric(base: &str, name: &str) -> f64 {
    let text = get(&format!("{base}/metrics"), None).text();
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok()))
        .unwrap_or(0.0)
}

#[test]
fn witness_answers_every_status_of_the_spec() {
    let dir = tempfile::tempdir().unwrap();
    let v = vkey(dir.path());
    assert_eq!(vkey(dir.path()), v, "the key is kept");
    let w = WitnessProc::start(dir.path(), &[]);
    let log = tree(20, 20, "");

    // 200: first checkpoint from 0, then growth with a proof.
    assert_cosigned(&w.add(&request(&log, 0, 5)), &v, &log, 5);
    assert_cosigned(&w.add(&request(&log, 5, 8)), &v, &log, 8);
    // The same checkpoint again is cosigned again (a retry after a lost answer).
    assert_cosigned(&w.add(&request(&log, 8, 8)), &v, &log, 8);

    // 400: not a request; old size above the checkpoint's.
    assert_eq!(w.add(b"hello\n").status, 400);
    assert_eq!(
        w.add(&request_with(9, vec![], &note(&log, 8, &log_key())))
            .status,
        400
    );
    let no_sig = format!(
        "old 8\n\n{}",
        Checkpoint::parse_body(&format!(
            "{ORIGIN}\n9\n{}\n",
            log.root(9).unwrap().to_base64()
        ))
        .unwrap()
        .body()
    );
    assert_eq!(w.add(no_sig.as_bytes()).status, 400);

    // 404: a log this witness does not follow.
    let stranger = LogKey::from_seed("stranger.test/log", &[1; 32]).unwrap();
    assert_eq!(
        w.add(&request_with(0, vec![], &note(&log, 9, &stranger)))
            .status,
        404
    );

    // 403: the right origin signed by another key; a tampered signature.
    let impostor = LogKey::from_seed(ORIGIN, &[2; 32]).unwrap();
    let proof = log.consistency_proof(8, 9).unwrap();
    assert_eq!(
        w.add(&request_with(8, proof.clone(), &note(&log, 9, &impostor)))
            .status,
        403
    );
    let good = note(&log, 9, &log_key());
    let (text, sig) = good.rsplit_once(' ').unwrap();
    let flipped = format!(
        "{text} {}",
        sig.replacen(&sig[10..11], if &sig[10..11] == "A" { "B" } else { "A" }, 1)
    );
    assert_eq!(w.add(&request_with(8, proof.clone(), &flipped)).status, 403);

    // 409: the old size is not the latest cosigned (8), with the size as the body.
    assert_conflict(&w.add(&request(&log, 0, 9)), 8);
    assert_conflict(&w.add(&request(&log, 5, 9)), 8);

    // 422: a proof that does not verify; a proof from size 0.
    let wrong = tree(20, 20, "").consistency_proof(7, 9).unwrap();
    assert_eq!(w.add(&request_with(8, wrong, &good)).status, 422);
    let from_zero = request_with(0, proof.clone(), &note(&log, 9, &log_key()));
    let fresh_dir = tempfile::tempdir().unwrap();
    let fresh = WitnessProc::start(fresh_dir.path(), &[]);
    assert_eq!(fresh.add(&from_zero).status, 422);
    drop(fresh);

    // Nothing refused changed the state: 8 → 9 with the right proof is cosigned.
    assert_cosigned(&w.add(&request_with(8, proof, &good)), &v, &log, 9);

    // The monitoring route serves the latest cosigned checkpoint with the cosignature.
    let origin_hash = Hash::digest(ORIGIN.as_bytes()).to_hex();
    let served = get(&format!("{}/{origin_hash}/checkpoint", w.base), None);
    assert_eq!(served.status, 200);
    let verified = verify_signed_checkpoint(&served.text(), &log_key().verifier_key()).unwrap();
    assert_eq!(verified.checkpoint.size, 9);
    assert_eq!(verified.other_signers, vec![v.label()]);
    let unknown = Hash::digest(b"stranger.test/log").to_hex();
    assert_eq!(
        get(&format!("{}/{unknown}/checkpoint", w.base), None).status,
        404
    );

    assert_eq!(
        metric(&w.base, "consentry_witness_checkpoints_cosigned_total"),
        4.0
    );
    assert_eq!(
        metric(
            &w.base,
            "consentry_witness_requests_refused_total{reason=\"conflict\"}"
        ),
        2.0
    );
}

#[test]
fn witness_rate_limits_each_client_with_429() {
    let dir = tempfile::tempdir().unwrap();
    let w = WitnessProc::start(dir.path(), &["--rate-limit", "0.01", "--burst", "2"]);
    let log = tree(3, 3, "");
    assert_eq!(w.add(&request(&log, 0, 2)).status, 200);
    assert_eq!(w.add(&request(&log, 2, 3)).status, 200);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let res = agent
        .post(&format!("{}/add-checkpoint", w.base))
        .send(&request(&log, 3, 3)[..])
        .unwrap();
    assert_eq!(res.status().as_u16(), 429);
    assert_eq!(res.headers().get("retry-after").unwrap(), "1");
}

#[test]
fn a_lying_log_is_refused_and_its_evidence_served() {
    let dir = tempfile::tempdir().unwrap();
    let w = WitnessProc::start(dir.path(), &[]);
    let log = tree(16, 16, "");
    assert_eq!(w.add(&request(&log, 0, 4)).status, 200);
    assert_eq!(w.add(&request(&log, 4, 10)).status, 200);

    // Same size, another root: 409 (v1.0.0), a split view.
    let fork = tree(16, 7, "fork");
    assert_conflict(
        &w.add(&request_with(10, vec![], &note(&fork, 10, &log_key()))),
        10,
    );
    // A smaller tree: a fork of size 4, which the witness cosigned (a split view), and a
    // size it never cosigned (kept, not conclusive).
    let early_fork = tree(16, 2, "early");
    assert_conflict(
        &w.add(&request_with(4, vec![], &note(&early_fork, 4, &log_key()))),
        10,
    );
    assert_conflict(&w.add(&request(&log, 0, 7)), 10);
    // A bigger tree whose proof from 10 fails.
    assert_eq!(w.add(&request(&fork, 10, 14)).status, 422);
    // The same lie twice is kept once.
    assert_conflict(
        &w.add(&request_with(10, vec![], &note(&fork, 10, &log_key()))),
        10,
    );

    let page = get(&format!("{}/evidence", w.base), None).json();
    let items = page["evidence"].as_array().unwrap();
    let kinds: Vec<(&str, bool)> = items
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap(),
                e["conclusive"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("split_view", true),
            ("split_view", true),
            ("rollback", false),
            ("bad_proof", false)
        ]
    );
    // Each piece holds two checkpoints both validly signed by the log: what a third party
    // needs to see the split without trusting the witness.
    for e in items {
        for field in ["cosigned_checkpoint", "conflicting_checkpoint"] {
            verify_signed_checkpoint(e[field].as_str().unwrap(), &log_key().verifier_key())
                .unwrap();
        }
    }
    let first = &items[0];
    assert!(
        first["cosigned_checkpoint"]
            .as_str()
            .unwrap()
            .contains(&log.root(10).unwrap().to_base64())
    );
    assert!(
        first["conflicting_checkpoint"]
            .as_str()
            .unwrap()
            .contains(&fork.root(10).unwrap().to_base64())
    );
    assert_eq!(
        items[3]["proof"].as_array().unwrap().len(),
        fork.consistency_proof(10, 14).unwrap().len()
    );
    assert_eq!(
        metric(&w.base, "consentry_witness_split_views_detected_total"),
        2.0
    );
    assert_eq!(get(&format!("{}/evidence?x=1", w.base), None).status, 400);
    // The log can still go on honestly.
    assert_eq!(w.add(&request(&log, 10, 16)).status, 200);
}

#[test]
fn a_witness_killed_mid_stream_never_cosigns_a_fork_of_what_it_acknowledged() {
    const N: u64 = 400;
    let dir = tempfile::tempdir().unwrap();
    let w = WitnessProc::start(dir.path(), &["--rate-limit", "100000", "--burst", "100000"]);
    let log = Arc::new(tree(N, N, ""));
    let acked = Arc::new(Mutex::new(Vec::<u64>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let (log, acked, stop, base) =
                (log.clone(), acked.clone(), stop.clone(), w.base.clone());
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .timeout_global(Some(Duration::from_secs(10)))
                    .build()
                    .into();
                let mut known = 0;
                let mut step = t;
                while !stop.load(Ordering::Relaxed) {
                    step += 1;
                    let size = (known + 1 + step % 3).min(N);
                    let Ok(mut res) = agent
                        .post(&format!("{base}/add-checkpoint"))
                        .send(&request(&log, known, size)[..])
                    else {
                        break; // killed
                    };
                    let Ok(text) = res.body_mut().read_to_string() else {
                        break;
                    };
                    match res.status().as_u16() {
                        200 => {
                            acked.lock().unwrap().push(size);
                            known = size;
                        }
                        409 => known = parse_size_body(&text).unwrap(),
                        s => panic!("unexpected {s}: {text}"),
                    }
                    if known == N {
                        break;
                    }
                }
            })
        })
        .collect();
    // Kill once a stream of cosignatures is under way (polled, not slept for).
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while acked.lock().unwrap().len() < 25 {
        assert!(
            std::time::Instant::now() < deadline,
            "no cosignatures: {}",
            std::fs::read_to_string(&w.log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    w.kill9();
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let s = *acked.iter().max().unwrap();
    assert!(s < N, "killed before the end of the log");

    let w = WitnessProc::start(dir.path(), &[]);
    // The witness remembers at least the last size it acknowledged.
    let probe = w.add(&request(&log, 0, N));
    assert_eq!(probe.status, 409);
    let latest = parse_size_body(&probe.text()).unwrap();
    assert!(
        latest >= s && latest < N,
        "latest {latest}, last acknowledged {s}"
    );

    // A fork of the last acknowledged checkpoint, and of the latest, are refused: 409.
    let fork_s = tree(N, s - 1, "fork");
    assert_conflict(
        &w.add(&request_with(s, vec![], &note(&fork_s, s, &log_key()))),
        latest,
    );
    let fork_l = tree(N, latest - 1, "fork");
    assert_conflict(
        &w.add(&request_with(
            latest,
            vec![],
            &note(&fork_l, latest, &log_key()),
        )),
        latest,
    );
    // A fork that grows past it, with the fork's own proof: 422.
    assert_eq!(w.add(&request(&fork_l, latest, latest + 3)).status, 422);
    // Every one of them was kept as evidence; the honest log goes on.
    let page = get(&format!("{}/evidence", w.base), None).json();
    let kinds: Vec<&str> = page["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "split_view").count(),
        if latest == s { 1 } else { 2 }
    );
    assert!(kinds.contains(&"bad_proof"));
    assert_eq!(w.add(&request(&log, latest, N)).status, 200);
}
