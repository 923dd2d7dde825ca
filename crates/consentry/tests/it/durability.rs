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

fn kill9_loses_nothing(db: Db) {
    let env = Env::new(db);
    let (_, key) = env.tenant("ACME");
    let s = env.start();
    let (_, log_key) = well_known(&s);
    let contacts: Vec<String> = (0..4)
        .map(|i| add_contact(&s, &key, &format!("k{i}@example.com")))
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let workers = burst(
        vec![s.base.clone()],
        &key,
        &contacts,
        16,
        100_000,
        stop.clone(),
    );

    // Collect checkpoints while the burst runs, then kill -9 mid-burst.
    let mut seen = Vec::new();
    for _ in 0..15 {
        std::thread::sleep(Duration::from_millis(100));
        let r = get(&s.url("/v1/log/checkpoint"), None);
        if r.status == 200 {
            seen.push(r.text());
        }
    }
    s.kill9();
    stop.store(true, Ordering::Relaxed);
    let acked: Vec<Vec<u8>> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    assert!(
        acked.len() > 50,
        "the burst acknowledged only {} proofs",
        acked.len()
    );

    let s = env.start();
    for body in &acked {
        let p: Value = serde_json::from_slice(body).unwrap();
        let r = get(
            &s.url(&format!("/v1/proofs/{}", p["id"].as_str().unwrap())),
            Some(&key),
        );
        assert_eq!(r.status, 200, "acknowledged proof {} lost", p["id"]);
        assert_eq!(&r.body, body, "acknowledged proof changed");
    }
    let max_index = acked
        .iter()
        .map(|b| {
            serde_json::from_slice::<Value>(b).unwrap()["log_index"]
                .as_u64()
                .unwrap()
        })
        .max()
        .unwrap();
    let note = checkpoint_covering(&s, max_index + 1);
    let now = verify_signed_checkpoint(&note, &log_key)
        .unwrap()
        .checkpoint;
    // Every acknowledged proof is in the log the new checkpoint signs.
    for body in acked.iter().step_by(7) {
        let p: Value = serde_json::from_slice(body).unwrap();
        let index = p["log_index"].as_u64().unwrap();
        let inc = get(
            &s.url(&format!(
                "/v1/log/proof/inclusion?index={index}&size={}",
                now.size
            )),
            None,
        )
        .json();
        let path = crate::util::hashes(&inc);
        verify_inclusion(index, now.size, &leaf_hash(body), &path, &now.root).unwrap();
    }
    // Every checkpoint served before the kill is consistent with the log after it.
    assert!(!seen.is_empty());
    for old in &seen {
        let old = verify_signed_checkpoint(old, &log_key).unwrap().checkpoint;
        let c = get(
            &s.url(&format!(
                "/v1/log/proof/consistency?old={}&new={}",
                old.size, now.size
            )),
            None,
        )
        .json();
        let proof = crate::util::hashes(&c);
        verify_consistency(old.size, now.size, &old.root, &now.root, &proof).unwrap_or_else(|e| {
            panic!("checkpoint at {} inconsistent after restart: {e}", old.size)
        });
    }
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
