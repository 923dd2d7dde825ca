//! Durability: kill -9 during a burst loses no acknowledged proof and the log stays
//! consistent with every checkpoint served before; two processes on one PostgreSQL keep
//! log indices unique and gap-free.

use crate::service::{add_contact, checkpoint_covering, well_known};
use crate::util::{Db, Env, Server, get};
use consentry_core::checkpoint::verify_signed_checkpoint;
use consentry_core::merkle::{leaf_hash, verify_consistency, verify_inclusion};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Posts consents from `threads` clients until `stop` (or `max` each); returns every
/// acknowledged proof body.
pub fn burst(
    bases: Vec<String>,
    key: &str,
    contacts: &[String],
    threads: usize,
    max: usize,
    stop: Arc<AtomicBool>,
) -> Vec<std::thread::JoinHandle<Vec<Vec<u8>>>> {
    (0..threads)
        .map(|t| {
            let base = bases[t % bases.len()].clone();
            let key = key.to_owned();
            let contact = contacts[t % contacts.len()].clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .timeout_global(Some(Duration::from_secs(20)))
                    .build()
                    .into();
                let mut acked = Vec::new();
                for i in 0..max {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let body = json!({"purpose": format!("p{}", i % 5), "decision": if i % 2 == 0 { "granted" } else { "refused" }});
                    let r = agent
                        .post(&format!("{base}/v1/contacts/{contact}/consents"))
                        .header("Authorization", &format!("Bearer {key}"))
                        .header("Content-Type", "application/json")
                        .send(body.to_string().as_bytes());
                    match r {
                        Ok(mut res) if res.status().as_u16() == 201 => {
                            acked.push(res.body_mut().read_to_vec().unwrap());
                        }
                        // An answered request must be a proof: under load, with the
                        // publisher and other writers committing beside the sequencer,
                        // nothing may fail (regression: SQLITE_BUSY_SNAPSHOT, code 517).
                        Ok(res) if !stop.load(Ordering::Relaxed) => {
                            panic!("request answered {} instead of a proof", res.status())
                        }
                        // Refused, reset or killed mid-request: not acknowledged.
                        _ => {}
                    }
                }
                acked
            })
        })
        .collect()
}

/// Kills per database: 2 in the suite (kill, restart, more writes, kill again, restart);
/// `CONSENTRY_KILL_LOOPS=N` raises it (`scripts/kill-loop` runs 20).
fn kill_loops() -> usize {
    match std::env::var("CONSENTRY_KILL_LOOPS") {
        Ok(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| *n >= 1)
            .unwrap_or_else(|| panic!("CONSENTRY_KILL_LOOPS={v:?}: a number of kills >= 1")),
        Err(_) => 2,
    }
}

/// Size of the checkpoint a signed note states (its second line).
fn note_size(note: &str) -> u64 {
    note.lines().nth(1).unwrap().parse().unwrap()
}

/// Writer threads of each burst: also the most requests one kill can leave committed but
/// unanswered, which bounds the log entries no client holds a proof for.
const THREADS: usize = 16;

/// Rounds of burst, kill -9 mid-burst, restart. After each restart: every proof
/// acknowledged in the round is served unchanged and is in the log a new signed
/// checkpoint covers (inclusion proof); every checkpoint served since the start is
/// consistent with it (consistency proof), so the proofs of earlier rounds, included in
/// those, still are; log indices are unique across rounds, below the checkpoint's size,
/// and the entries nobody holds a proof for are at most the requests in flight at the
/// kills (no gap, no reuse). At the end every proof ever acknowledged is fetched again.
fn kill9_loses_nothing(db: Db) {
    let started = std::time::Instant::now();
    let kills = kill_loops();
    let env = Env::new(db);
    let (_, key) = env.tenant("ACME");
    let mut s = env.start();
    let (_, log_key) = well_known(&s);
    let contacts: Vec<String> = (0..4)
        .map(|i| add_contact(&s, &key, &format!("k{i}@example.com")))
        .collect();
    let first = get(&s.url("/v1/log/checkpoint"), None);
    let base = if first.status == 200 {
        note_size(&first.text())
    } else {
        0
    };
    // Every checkpoint served since the start, each kept once.
    let mut seen: Vec<String> = Vec::new();
    let mut all_acked: Vec<Vec<u8>> = Vec::new();
    let mut indices = std::collections::BTreeSet::new();
    for round in 1..=kills {
        let stop = Arc::new(AtomicBool::new(false));
        let workers = burst(
            vec![s.base.clone()],
            &key,
            &contacts,
            THREADS,
            100_000,
            stop.clone(),
        );
        // Collect checkpoints while the burst runs, then kill -9 mid-burst.
        for _ in 0..12 {
            std::thread::sleep(Duration::from_millis(100));
            let r = get(&s.url("/v1/log/checkpoint"), None);
            if r.status == 200 {
                let note = r.text();
                if !seen.contains(&note) {
                    seen.push(note);
                }
            }
        }
        s.kill9();
        stop.store(true, Ordering::Relaxed);
        let acked: Vec<Vec<u8>> = workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect();
        assert!(
            acked.len() > 20,
            "round {round}: the burst acknowledged only {} proofs",
            acked.len()
        );

        s = env.start();
        let mut max_index = 0;
        for body in &acked {
            let p: Value = serde_json::from_slice(body).unwrap();
            let r = get(
                &s.url(&format!("/v1/proofs/{}", p["id"].as_str().unwrap())),
                Some(&key),
            );
            assert_eq!(
                r.status, 200,
                "round {round}: acknowledged proof {} lost",
                p["id"]
            );
            assert_eq!(&r.body, body, "round {round}: acknowledged proof changed");
            let index = p["log_index"].as_u64().unwrap();
            assert!(
                indices.insert(index),
                "round {round}: log index {index} given to two proofs"
            );
            max_index = max_index.max(index);
        }
        all_acked.extend(acked.iter().cloned());
        let note = checkpoint_covering(&s, max_index + 1);
        let now = verify_signed_checkpoint(&note, &log_key)
            .unwrap()
            .checkpoint;
        // Every proof acknowledged in this round is in the log the new checkpoint signs.
        for body in &acked {
            let index = serde_json::from_slice::<Value>(body).unwrap()["log_index"]
                .as_u64()
                .unwrap();
            let inc = get(
                &s.url(&format!(
                    "/v1/log/proof/inclusion?index={index}&size={}",
                    now.size
                )),
                None,
            )
            .json();
            let path = crate::util::hashes(&inc);
            verify_inclusion(index, now.size, &leaf_hash(body), &path, &now.root)
                .unwrap_or_else(|e| panic!("round {round}: proof {index} not in the log: {e}"));
        }
        // Gap-free: every index below the size is taken by an acknowledged proof, or by
        // one of the requests in flight when a server was killed.
        assert!(*indices.last().unwrap() < now.size);
        let unanswered = now.size - base - indices.len() as u64;
        assert!(
            unanswered <= (THREADS * round) as u64,
            "round {round}: {unanswered} log entries after {round} kills of {THREADS} writers"
        );
        // Every checkpoint served before is consistent with the log after the restart.
        assert!(!seen.is_empty(), "round {round}: no checkpoint served");
        for old in &seen {
            let old = verify_signed_checkpoint(old, &log_key).unwrap().checkpoint;
            assert!(old.size <= now.size, "round {round}: the log shrank");
            let c = get(
                &s.url(&format!(
                    "/v1/log/proof/consistency?old={}&new={}",
                    old.size, now.size
                )),
                None,
            )
            .json();
            let proof = crate::util::hashes(&c);
            verify_consistency(old.size, now.size, &old.root, &now.root, &proof).unwrap_or_else(
                |e| {
                    panic!(
                        "round {round}: checkpoint at {} inconsistent after restart: {e}",
                        old.size
                    )
                },
            );
        }
        if !seen.contains(&note) {
            seen.push(note);
        }
    }
    // Once more at the end: every proof ever acknowledged, served unchanged.
    for body in &all_acked {
        let p: Value = serde_json::from_slice(body).unwrap();
        let r = get(
            &s.url(&format!("/v1/proofs/{}", p["id"].as_str().unwrap())),
            Some(&key),
        );
        assert_eq!(r.status, 200, "acknowledged proof {} lost", p["id"]);
        assert_eq!(&r.body, body, "acknowledged proof changed");
    }
    // One line `scripts/kill-loop` reads (shown with --nocapture).
    println!(
        "kill-loop summary: db={} kills={kills} acknowledged={} checkpoints={} seconds={:.1}",
        match db {
            Db::Sqlite => "sqlite",
            Db::Postgres => "postgres",
        },
        all_acked.len(),
        seen.len(),
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn sqlite_kill9_during_a_burst_loses_no_acknowledged_proof() {
    kill9_loses_nothing(Db::Sqlite);
}

#[test]
fn postgres_kill9_during_a_burst_loses_no_acknowledged_proof() {
    kill9_loses_nothing(Db::Postgres);
}

#[test]
fn two_serve_processes_on_one_postgres_keep_indices_unique_and_gap_free() {
    let env = Env::new(Db::Postgres);
    let (_, key) = env.tenant("ACME");
    let a = env.start();
    let b = Server::start(&env, &[]);
    let contacts: Vec<String> = (0..4)
        .map(|i| add_contact(&a, &key, &format!("t{i}@example.com")))
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let acked: Vec<Vec<u8>> = burst(
        vec![a.base.clone(), b.base.clone()],
        &key,
        &contacts,
        16,
        40,
        stop,
    )
    .into_iter()
    .flat_map(|w| w.join().unwrap())
    .collect();
    assert_eq!(acked.len(), 16 * 40, "every request acknowledged");
    let mut indices: Vec<u64> = acked
        .iter()
        .map(|b| {
            serde_json::from_slice::<Value>(b).unwrap()["log_index"]
                .as_u64()
                .unwrap()
        })
        .collect();
    indices.sort_unstable();
    let expected: Vec<u64> = (0..indices.len() as u64).collect();
    assert_eq!(indices, expected, "indices are unique and gap-free");
    // Both processes serve the same log.
    let (_, log_key) = well_known(&a);
    let seen = Arc::new(Mutex::new(Vec::new()));
    for s in [&a, &b] {
        let note = checkpoint_covering(s, indices.len() as u64);
        seen.lock().unwrap().push(
            verify_signed_checkpoint(&note, &log_key)
                .unwrap()
                .checkpoint,
        );
    }
    let cps = seen.lock().unwrap();
    assert_eq!(cps[0].size, cps[1].size);
    assert_eq!(cps[0].root, cps[1].root);
}
