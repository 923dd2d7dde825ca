//! `consentry tenant create NAME`: a new tenant and its first API key, printed once.

use crate::config::{self, DbArgs};
use anyhow::{Context as _, bail};
use consentry_core::ids::TenantId;

/// Tenant commands.
#[derive(clap::Subcommand)]
pub enum TenantCommand {
    /// Create a tenant and print its API key (shown once; only its hash is stored).
    Create {
        /// The sender's name, as recipients will see it.
        name: String,
        #[command(flatten)]
        db: DbArgs,
        /// Print {"tenant": …, "api_key": …} as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a tenant command.
pub fn run(cmd: &TenantCommand) -> anyhow::Result<()> {
    match cmd {
        TenantCommand::Create { name, db, json } => {
            let name = name.trim();
            if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
                bail!("the tenant name must be 1 to 200 printable characters");
            }
            let (data_dir, url) = config::database(db)?;
            std::fs::create_dir_all(&data_dir)
                .with_context(|| format!("creating {}", data_dir.display()))?;
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let (tenant, key) = rt.block_on(async {
                let store = consentry_store::Store::open(&url)
                    .await
                    .context("opening the database")?;
                let clock = consentry_ledger::clock::SystemClock;
                let now = consentry_ledger::clock::Clock::now_ms(&clock);
                let tenant = TenantId::from_suffix(&consentry_ledger::random::id_suffix(now))?;
                store.create_tenant(&tenant, name, now).await?;
                let (key, key_id) = consentry_server::auth::new_api_key(now);
                store
                    .add_api_key(
                        &tenant,
                        &key_id,
                        &consentry_server::auth::key_hash(&key),
                        now,
                    )
                    .await?;
                store.close().await;
                anyhow::Ok((tenant, key))
            })?;
            if *json {
                println!(
                    "{}",
                    serde_json::json!({ "tenant": tenant.to_string(), "name": name, "api_key": key })
                );
            } else {
                println!("tenant: {tenant}");
                println!("name: {name}");
                println!("api_key: {key}");
                eprintln!("Keep the API key now: it is not shown again.");
            }
            Ok(())
        }
    }
}
