//! Witness throughput: `add-checkpoint` in process (parse, log signature, consistency
//! proof, cosignature, SQLite transaction) with the state in memory and on disk (an fsync
//! per cosignature), and the HTTP round trip on loopback; one Ed25519 cosignature alone
//! as the reference. Figures are in docs/benchmarks.md.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]
#![allow(clippy::disallowed_methods)] // criterion's custom timing reads the clock

use consentry_core::checkpoint::Checkpoint;
use consentry_core::cosignature::CosignerKey;
use consentry_core::keys::LogKey;
use consentry_core::merkle::{MemoryLog, leaf_hash};
use consentry_core::witness_protocol::AddCheckpoint;
use consentry_witness::clock::SystemClock;
use consentry_witness::http::{AppState, serve};
use consentry_witness::limiter::{Limiter, Rate};
use consentry_witness::store::Store;
use consentry_witness::{LogList, Witness};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ORIGIN: &str = "bench.example/log";
/// Requests prepared: consecutive checkpoints 1..=M of a log of M leaves, each with the
/// proof from the one before; a run longer than that starts over on a fresh witness.
const M: u64 = 20_000;
/// The log is already this big before the first request, so proofs have a realistic
/// length (about 20 hashes).
const BASE: u64 = 1 << 20;

fn requests() -> Vec<Vec<u8>> {
    let key = LogKey::from_seed(ORIGIN, &[1; 32]).unwrap();
    let mut log = MemoryLog::with_capacity(usize::try_from(BASE + M).unwrap());
    for i in 0..BASE + M {
        log.append(leaf_hash(&i.to_le_bytes()));
    }
    let mut out = Vec::with_capacity(usize::try_from(M).unwrap());
    for size in BASE + 1..=BASE + M {
        let old = if size == BASE + 1 { 0 } else { size - 1 };
        let note = Checkpoint {
            origin: ORIGIN.into(),
            size,
            root: log.root(size).unwrap(),
            extensions: vec![],
        }
        .sign(&key)
        .unwrap();
        let proof = if old == 0 {
            vec![]
        } else {
            log.consistency_proof(old, size).unwrap()
        };
        out.push(
            AddCheckpoint {
                old_size: old,
                proof,
                note,
            }
            .to_text()
            .into_bytes(),
        );
    }
    out
}

fn witness(store: Store) -> Witness {
    let log = LogKey::from_seed(ORIGIN, &[1; 32]).unwrap();
    Witness::new(
        CosignerKey::from_seed("witness.bench", &[2; 32]).unwrap(),
        LogList::new(&[log.verifier_key()]).unwrap(),
        store,
    )
}

fn bench(c: &mut Criterion) {
    let reqs = requests();
    let mut g = c.benchmark_group("witness");
    g.throughput(Throughput::Elements(1));

    let key = CosignerKey::from_seed("witness.bench", &[2; 32]).unwrap();
    let body = format!("{ORIGIN}\n12345\n{}\n", leaf_hash(b"r").to_base64());
    g.bench_function("ed25519_cosign", |b| {
        b.iter(|| key.cosign(&body, 1_700_000_000).unwrap())
    });

    let mut run = |name: &str, open: &dyn Fn() -> Store| {
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                let mut done = 0u64;
                while done < iters {
                    let w = witness(open());
                    let n = (iters - done).min(M);
                    let start = Instant::now();
                    for r in &reqs[..usize::try_from(n).unwrap()] {
                        w.add_checkpoint(r, 1_700_000_000_000).unwrap();
                    }
                    total += start.elapsed();
                    done += n;
                }
                total
            })
        });
    };
    run("add_checkpoint_memory_db", &|| {
        Store::open_in_memory().unwrap()
    });
    let dir = tempfile::tempdir().unwrap();
    let counter = std::sync::atomic::AtomicU64::new(0);
    run("add_checkpoint_file_db_fsync", &|| {
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Store::open(&dir.path().join(format!("w{n}.sqlite3"))).unwrap()
    });

    // HTTP on loopback: one client, keep-alive, one request after the other.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    g.sample_size(20);
    g.bench_function("http_add_checkpoint_file_db", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut done = 0u64;
            while done < iters {
                let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let store = Store::open(&dir.path().join(format!("h{n}.sqlite3"))).unwrap();
                let state = AppState::new(
                    Arc::new(witness(store)),
                    Limiter::new(Rate {
                        per_second: 1e9,
                        burst: 1e9,
                    }),
                    Arc::new(SystemClock),
                );
                let listener = rt
                    .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
                    .unwrap();
                let url = format!("http://{}/add-checkpoint", listener.local_addr().unwrap());
                let (tx, rx) = tokio::sync::oneshot::channel::<()>();
                let server = rt.spawn(serve(listener, state, async {
                    let _ = rx.await;
                }));
                let agent: ureq::Agent = ureq::Agent::config_builder().build().into();
                let count = (iters - done).min(M);
                let start = Instant::now();
                for r in &reqs[..usize::try_from(count).unwrap()] {
                    let res = agent.post(&url).send(&r[..]).unwrap();
                    assert_eq!(res.status().as_u16(), 200);
                }
                total += start.elapsed();
                done += count;
                let _ = tx.send(());
                rt.block_on(server).unwrap().unwrap();
            }
            total
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
