//! `consentry anchor --now`: anchors the log's current checkpoint with every configured
//! anchor, waiting until each is done (or the wait runs out: then the service, or the
//! next `anchor --now`, finishes it from the stored intent — nothing is sent twice).

use crate::config::{self, AnchorArgs, DbArgs};
use anyhow::{Context as _, bail};
use consentry_ledger::anchoring::{Anchoring, RunStart};
use consentry_ledger::clock::{Clock as _, SystemClock};
use consentry_store::AnchorState;
use std::sync::Arc;
use std::time::Duration;

/// Options of `consentry anchor`.
#[derive(clap::Args, Debug)]
pub struct AnchorCmd {
    /// Anchor now, without waiting for the schedule.
    #[arg(long, required = true)]
    pub now: bool,
    /// Longest wait, in seconds, for the anchors to complete [default: 300]
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub wait: u64,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub anchor: AnchorArgs,
}

/// Runs it.
pub fn run(cmd: &AnchorCmd) -> anyhow::Result<()> {
    let (data_dir, url) = config::database(&cmd.db)?;
    let settings = config::anchoring(&cmd.anchor, &cmd.db)?;
    if settings.backends.is_empty() {
        bail!("no anchor is configured: give --anchor-evm-rpc and/or --anchor-rfc3161-url");
    }
    let master = std::env::var("CONSENTRY_MASTER_KEY").ok();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        std::fs::create_dir_all(&data_dir)
            .with_context(|| format!("creating {}", data_dir.display()))?;
        let store = consentry_store::Store::open(&url)
            .await
            .context("opening the database")?;
        let keys = consentry_ledger::keys::load(
            &data_dir,
            consentry_ledger::keys::default_origin,
            master.as_deref(),
        )?;
        let stored = store.meta_init("log_origin", keys.log.origin()).await?;
        if stored != keys.log.origin() {
            bail!(
                "this database's log is {stored:?} but the keys in {} name {:?}",
                data_dir.display(),
                keys.log.origin()
            );
        }
        let clock = Arc::new(SystemClock);
        let poll = settings.poll;
        let anchoring = Anchoring::new(
            store.clone(),
            settings,
            keys.log.clone(),
            clock.clone(),
            Arc::new(consentry_ledger::metrics::Metrics::new()),
        );
        let slot = format!("manual {}", consentry_ledger::random::id_suffix(clock.now_ms()));
        let size = match anchoring.start_run(&slot).await? {
            RunStart::Started(size) => size,
            RunStart::NothingNew(size) => {
                // Nothing new to anchor, but an earlier anchor may still be under way.
                size
            }
            RunStart::AlreadyClaimed => bail!("this anchoring run was claimed by another process"),
            RunStart::AwaitingWitnesses => bail!(
                "no checkpoint newer than the last anchor has reached the witness quorum; anchoring waits for one (--anchor-unwitnessed wait)"
            ),
        };
        if size == 0 {
            println!("the log is empty: nothing to anchor");
            return Ok(());
        }
        let deadline = Duration::from_secs(cmd.wait);
        let mut waited = Duration::ZERO;
        loop {
            anchoring.advance_due().await?;
            let rows = store.anchors_of(size).await?;
            let live: Vec<_> = rows
                .iter()
                .filter(|r| r.state != AnchorState::Invalid)
                .collect();
            let done = live.iter().all(|r| r.state == AnchorState::Anchored);
            if done || waited >= deadline {
                report(size, &live, cmd.json)?;
                store.close().await;
                if !done {
                    bail!(
                        "not every anchor completed within {}s; the stored intents are finished by the service or the next `consentry anchor --now`",
                        cmd.wait
                    );
                }
                return Ok(());
            }
            tokio::time::sleep(poll.min(Duration::from_secs(1))).await;
            waited += poll.min(Duration::from_secs(1));
        }
    })
}

fn report(size: u64, rows: &[&consentry_store::AnchorRow], json: bool) -> anyhow::Result<()> {
    if json {
        let anchors: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "kind": r.kind.as_str(),
                    "state": if r.state == AnchorState::Anchored { "anchored" } else { "pending" },
                    "detail": r.detail,
                    "anchor": r.anchor.as_deref().and_then(|a| serde_json::from_str::<serde_json::Value>(a).ok()),
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({ "tree_size": size, "anchors": anchors })
        );
        return Ok(());
    }
    println!("checkpoint of size {size}:");
    for r in rows {
        let obj: Option<serde_json::Value> = r
            .anchor
            .as_deref()
            .and_then(|a| serde_json::from_str(a).ok());
        match (r.state, obj) {
            (AnchorState::Anchored, Some(o))
                if r.kind == consentry_core::anchor::AnchorKind::Evm =>
            {
                println!(
                    "  evm: anchored on chain {} in block {} ({}), transaction {}",
                    o["chain_id"],
                    o["block_number"],
                    o["block_hash"].as_str().unwrap_or(""),
                    o["tx_hash"].as_str().unwrap_or("")
                )
            }
            (AnchorState::Anchored, Some(o)) => println!(
                "  {}: time-stamped at {}",
                r.kind,
                o["gen_time"].as_str().unwrap_or("?")
            ),
            _ => println!(
                "  {}: pending ({})",
                r.kind,
                r.detail.as_deref().unwrap_or("not sent yet")
            ),
        }
    }
    Ok(())
}
