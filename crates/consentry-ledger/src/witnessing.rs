//! Witnessing: each new checkpoint is submitted to the configured witnesses with
//! c2sp.org/tlog-witness v1.0.0 (`POST <url>/add-checkpoint`: the size the witness last
//! cosigned, a consistency proof from it, the signed checkpoint), and their Ed25519
//! `cosignature/v1` lines are checked and appended to the stored note, so that every place
//! that serves a checkpoint — `/checkpoint`, the certificates, the anchors — carries them.
//!
//! The size a witness last cosigned is kept in memory: after a restart the first request
//! says `old 0`, the witness answers 409 with its size (`text/x.tlog.size`), and the
//! request is made again with a proof from that size — the exchange the protocol defines.
//! A witness that fails is retried with exponential backoff (1 s to 60 s), apart from the
//! others; metrics count cosignatures and failures per witness.

use crate::clock::Clock;
use crate::metrics::{Metrics, WitnessLabels};
use consentry_core::checkpoint::parse_signed_checkpoint;
use consentry_core::cosignature::CosignerVerifier;
use consentry_core::witness_protocol::{AddCheckpoint, parse_decimal};
use consentry_store::Store;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, watch};

/// What anchoring does when no checkpoint newer than the last anchor reached the quorum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Unwitnessed {
    /// Wait: the daily anchor is taken once a checkpoint reaches the quorum (a split view
    /// shown to the witnesses is never anchored; the anchor is late while they are down).
    #[default]
    Wait,
    /// Anchor the latest checkpoint anyway (the anchor is on time; it may carry fewer
    /// cosignatures than the quorum).
    Anchor,
}

/// One witness the log submits to.
#[derive(Debug, Clone)]
pub struct WitnessEndpoint {
    /// Its cosigner verifier key (type 0x04).
    pub key: CosignerVerifier,
    /// Its submission prefix: requests go to `<url>/add-checkpoint`.
    pub url: String,
}

/// The log's witnesses.
#[derive(Debug, Clone, Default)]
pub struct WitnessSettings {
    /// The witnesses; none: checkpoints are published unwitnessed.
    pub witnesses: Vec<WitnessEndpoint>,
    /// Cosignatures a checkpoint needs to count as witnessed (for anchoring).
    pub quorum: usize,
    /// What anchoring does without a witnessed checkpoint.
    pub unwitnessed: Unwitnessed,
}

/// Per witness: what we know of it.
struct State {
    endpoint: WitnessEndpoint,
    /// The size it last cosigned, as far as we know.
    last_size: Option<u64>,
    /// When to try it again after a failure, and how many failures in a row.
    retry_at: Option<i64>,
    failures: u32,
}

/// Why a submission failed.
#[derive(Debug, thiserror::Error)]
enum SubmitFailure {
    #[error("HTTP: {0}")]
    Http(String),
    #[error("the witness answered {status}: {body}")]
    Refused { status: u16, body: String },
    #[error("the witness answered a cosignature that does not verify: {0}")]
    BadCosignature(String),
    #[error("storage: {0}")]
    Store(String),
}

/// The witnessing task.
pub(crate) struct Witnessing {
    endpoints: Vec<WitnessEndpoint>,
    states: Vec<Mutex<State>>,
    store: Store,
    metrics: Arc<Metrics>,
    clock: Arc<dyn Clock>,
    client: reqwest::Client,
}

const TIMEOUT: Duration = Duration::from_secs(10);

impl Witnessing {
    pub(crate) fn new(
        settings: &WitnessSettings,
        store: Store,
        metrics: Arc<Metrics>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        // The timeout is set per request (below), so building the client cannot fail.
        let client = reqwest::Client::new();
        Witnessing {
            endpoints: settings.witnesses.clone(),
            states: settings
                .witnesses
                .iter()
                .map(|e| {
                    Mutex::new(State {
                        endpoint: e.clone(),
                        last_size: None,
                        retry_at: None,
                        failures: 0,
                    })
                })
                .collect(),
            store,
            metrics,
            clock,
            client,
        }
    }

    /// Submits the latest checkpoint to every witness that has not cosigned it yet and
    /// stores the cosignatures collected.
    async fn round(&self) {
        let latest = match self.store.latest_checkpoint().await {
            Ok(Some(c)) if c.0 > 0 => c,
            Ok(_) => return,
            Err(e) => {
                tracing::warn!(error = %e, "witnessing: cannot read the latest checkpoint");
                return;
            }
        };
        let (size, note) = latest;
        let Ok((checkpoint, _)) = parse_signed_checkpoint(&note) else {
            return;
        };
        let body = checkpoint.body();
        let mut tasks = Vec::new();
        for state in &self.states {
            tasks.push(self.submit(state, size, &note, &body));
        }
        let lines: Vec<String> = futures_util::future::join_all(tasks)
            .await
            .into_iter()
            .flatten()
            .collect();
        if lines.is_empty() {
            return;
        }
        // Re-read: the note may have gained lines meanwhile (another round, another node).
        let current = match self.store.latest_checkpoint().await {
            Ok(Some((s, n))) if s == size => n,
            _ => note,
        };
        let mut cosigned = current.clone();
        for line in &lines {
            if !cosigned.lines().any(|l| l == line) {
                cosigned.push_str(line);
                cosigned.push('\n');
            }
        }
        let count = self.count_valid(&cosigned, &body);
        match self.store.cosign_checkpoint(size, &cosigned, count).await {
            Ok(true) => {
                tracing::info!(
                    size,
                    cosignatures = count,
                    "checkpoint cosigned by witnesses"
                )
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "witnessing: cannot store cosignatures"),
        }
    }

    /// How many configured witnesses have a valid cosignature line on `note`.
    fn count_valid(&self, note: &str, body: &str) -> usize {
        let lines = consentry_core::cosignature::signature_lines(note);
        self.endpoints
            .iter()
            .filter(|e| lines.iter().any(|l| e.key.verify_line(body, l).is_ok()))
            .count()
    }

    /// One witness: its cosignature line on `note` (size `size`), if it gives one now.
    async fn submit(
        &self,
        state: &Mutex<State>,
        size: u64,
        note: &str,
        body: &str,
    ) -> Option<String> {
        let mut s = state.lock().await;
        if s.last_size == Some(size) || s.retry_at.is_some_and(|t| self.clock.now_ms() < t) {
            return None;
        }
        let name = s.endpoint.key.label();
        let labels = WitnessLabels {
            witness: name.clone(),
        };
        match self.exchange(&mut s, size, note, body).await {
            Ok(line) => {
                s.last_size = Some(size);
                s.retry_at = None;
                s.failures = 0;
                if line.is_some() {
                    self.metrics
                        .witness_cosignatures
                        .get_or_create(&labels)
                        .inc();
                }
                line
            }
            Err(e) => {
                s.failures = s.failures.saturating_add(1);
                let backoff =
                    Duration::from_secs(1u64 << s.failures.min(6)).min(Duration::from_secs(60));
                s.retry_at = Some(
                    self.clock.now_ms() + i64::try_from(backoff.as_millis()).unwrap_or(60_000),
                );
                self.metrics.witness_failures.get_or_create(&labels).inc();
                tracing::warn!(witness = %name, size, error = %e, retry_in = ?backoff, "witness did not cosign");
                None
            }
        }
    }

    /// The add-checkpoint exchange, with one retry after a 409 that names the witness's
    /// size.
    async fn exchange(
        &self,
        s: &mut State,
        size: u64,
        note: &str,
        body: &str,
    ) -> Result<Option<String>, SubmitFailure> {
        for _ in 0..2 {
            let old = s.last_size.unwrap_or(0).min(size);
            let proof = if old == 0 || old == size {
                Vec::new()
            } else {
                match self.store.consistency(old, size).await {
                    Ok(Ok((_, _, proof))) => proof,
                    Ok(Err(e)) => return Err(SubmitFailure::Store(e.to_string())),
                    Err(e) => return Err(SubmitFailure::Store(e.to_string())),
                }
            };
            let request = AddCheckpoint {
                old_size: old,
                proof,
                note: note.to_owned(),
            }
            .to_text();
            let url = format!("{}/add-checkpoint", s.endpoint.url.trim_end_matches('/'));
            let started = self.clock.now_ms();
            let answer = self
                .client
                .post(&url)
                .timeout(TIMEOUT)
                .body(request)
                .send()
                .await
                .map_err(|e| SubmitFailure::Http(e.without_url().to_string()))?;
            let status = answer.status().as_u16();
            let content_type = answer
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            let text = answer
                .text()
                .await
                .map_err(|e| SubmitFailure::Http(e.without_url().to_string()))?;
            self.metrics
                .witness_seconds
                .observe((self.clock.now_ms() - started) as f64 / 1000.0);
            match status {
                200 => {
                    let mut found = None;
                    for line in text.lines() {
                        match s.endpoint.key.verify_line(body, line) {
                            Ok(_) => found = Some(line.to_owned()),
                            Err(e) => return Err(SubmitFailure::BadCosignature(e.to_string())),
                        }
                    }
                    return found.map(Some).ok_or_else(|| {
                        SubmitFailure::BadCosignature("no cosignature line in the answer".into())
                    });
                }
                409 if content_type.starts_with("text/x.tlog.size") => {
                    let Some(theirs) = parse_decimal(text.trim_end_matches('\n')) else {
                        return Err(SubmitFailure::Refused {
                            status,
                            body: text.chars().take(200).collect(),
                        });
                    };
                    if theirs > size {
                        return Err(SubmitFailure::Refused {
                            status,
                            body: format!(
                                "the witness has cosigned size {theirs}, larger than ours ({size})"
                            ),
                        });
                    }
                    s.last_size = Some(theirs);
                    if theirs == size {
                        // It cosigned this size before (we restarted): no new line, and
                        // not a failure; the next checkpoint gets its cosignature.
                        return Ok(None);
                    }
                }
                _ => {
                    return Err(SubmitFailure::Refused {
                        status,
                        body: text.chars().take(200).collect(),
                    });
                }
            }
        }
        Err(SubmitFailure::Refused {
            status: 409,
            body: "size hint did not converge".into(),
        })
    }

    /// Runs a round every `interval` until `stop`.
    pub(crate) async fn run(self: Arc<Self>, interval: Duration, mut stop: watch::Receiver<bool>) {
        if self.states.is_empty() {
            return;
        }
        loop {
            self.round().await;
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = stop.changed() => return,
            }
        }
    }
}
