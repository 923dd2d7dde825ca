//! `consentry user add|list|disable`: the staff accounts of the web application.
//!
//! A user's address is kept only as a keyed blind index (under the service's link key,
//! read from the data dir as `consentry serve` reads it), so the keys of the service that
//! uses the database are needed. The password is read from standard input with
//! `--password-stdin`; otherwise a strong one is generated and printed once.

use crate::config::{self, DbArgs};
use anyhow::{Context as _, bail};
use consentry_core::ids::{TenantId, UserId};
use consentry_ledger::clock::{Clock as _, SystemClock};
use consentry_server::web::session::{Role, hash_password, login_index};
use consentry_store::{Store, UserRow};
use std::io::Read as _;

/// User commands.
#[derive(clap::Subcommand)]
pub enum UserCommand {
    /// Add a staff user to a tenant and print their initial password (shown once).
    Add {
        /// The user's e-mail address (their sign-in name; stored only as a keyed index).
        email: String,
        /// The tenant (ten_…).
        #[arg(long, value_name = "TENANT")]
        tenant: String,
        /// admin (everything), operator (address book, consents, requests) or auditor
        /// (read and download only).
        #[arg(long, default_value = "operator")]
        role: String,
        /// Read the password from standard input (at least 12 characters) instead of
        /// generating one.
        #[arg(long)]
        password_stdin: bool,
        /// Print {"user": …, "tenant": …, "role": …, "password"?: …} as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DbArgs,
    },
    /// List a tenant's users (IDs, roles, state; addresses are not stored).
    List {
        /// The tenant (ten_…).
        #[arg(long, value_name = "TENANT")]
        tenant: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Disable a user: their sessions end and they can no longer sign in.
    Disable {
        /// The user (usr_…).
        user: String,
        /// The tenant (ten_…).
        #[arg(long, value_name = "TENANT")]
        tenant: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

fn tenant_id(s: &str) -> anyhow::Result<TenantId> {
    TenantId::parse(s.trim()).map_err(|_| anyhow::anyhow!("--tenant must be a tenant ID (ten_…)"))
}

async fn open(url: &str, tenant: &TenantId) -> anyhow::Result<Store> {
    let store = Store::open(url).await.context("opening the database")?;
    if store.tenant(tenant).await?.is_none() {
        store.close().await;
        bail!("this database has no tenant {tenant}");
    }
    Ok(store)
}

/// Runs a user command.
pub fn run(cmd: &UserCommand) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Add {
            email,
            tenant,
            role,
            password_stdin,
            json,
            db,
        } => add(email, tenant, role, *password_stdin, *json, db),
        UserCommand::List { tenant, db } => list(tenant, db),
        UserCommand::Disable { user, tenant, db } => disable(user, tenant, db),
    }
}

fn add(
    email: &str,
    tenant: &str,
    role: &str,
    password_stdin: bool,
    json: bool,
    db: &DbArgs,
) -> anyhow::Result<()> {
    let tenant = tenant_id(tenant)?;
    let Some(role) = Role::parse(role) else {
        bail!("--role must be admin, operator or auditor");
    };
    let normalized = consentry_vault::normalize_email(email)
        .map_err(|_| anyhow::anyhow!("{email:?} is not an e-mail address"))?;
    let (password, generated) = if password_stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading the password from standard input")?;
        (text.trim_end_matches(['\r', '\n']).to_owned(), false)
    } else {
        // 128 bits, readable: 32 hex digits in groups.
        (consentry_server::web::users::generated_password(), true)
    };
    let hash = hash_password(&password)?;
    let (data_dir, url) = config::database(db)?;
    let master = std::env::var("CONSENTRY_MASTER_KEY").ok();
    let user = runtime()?.block_on(async {
        let store = open(&url, &tenant).await?;
        let result = async {
            let keys = crate::contacts_cmd::load_keys(&store, &data_dir, master.as_deref()).await?;
            let now = SystemClock.now_ms();
            let user = UserRow {
                id: UserId::from_suffix(&consentry_ledger::random::id_suffix(now))?,
                tenant: tenant.clone(),
                role,
                password_hash: hash,
                created_at: now,
                disabled_at: None,
            };
            if !store
                .insert_user(&user, &login_index(&keys.master, &normalized))
                .await?
            {
                bail!("a user of this tenant already has this e-mail address");
            }
            anyhow::Ok(user)
        }
        .await;
        store.close().await;
        result
    })?;
    if json {
        let mut out = serde_json::json!({
            "user": user.id.to_string(),
            "tenant": tenant.to_string(),
            "role": role.as_str(),
        });
        if generated {
            out["password"] = serde_json::Value::String(password);
        }
        println!("{out}");
    } else {
        println!("user: {}", user.id);
        println!("tenant: {tenant}");
        println!("role: {}", role.as_str());
        if generated {
            println!("password: {password}");
            eprintln!("Keep the password now: it is not shown again.");
        }
    }
    Ok(())
}

fn list(tenant: &str, db: &DbArgs) -> anyhow::Result<()> {
    let tenant = tenant_id(tenant)?;
    let (_, url) = config::database(db)?;
    let users = runtime()?.block_on(async {
        let store = open(&url, &tenant).await?;
        let users = store.users(&tenant).await;
        store.close().await;
        anyhow::Ok(users?)
    })?;
    for u in users {
        let state = if u.disabled_at.is_some() {
            "disabled"
        } else {
            "active"
        };
        println!("{}\t{}\t{state}", u.id, u.role);
    }
    Ok(())
}

fn disable(user: &str, tenant: &str, db: &DbArgs) -> anyhow::Result<()> {
    let tenant = tenant_id(tenant)?;
    let user = UserId::parse(user.trim()).map_err(|_| anyhow::anyhow!("not a user ID (usr_…)"))?;
    let (_, url) = config::database(db)?;
    let done = runtime()?.block_on(async {
        let store = open(&url, &tenant).await?;
        let done = store
            .disable_user(&tenant, &user, SystemClock.now_ms())
            .await;
        store.close().await;
        anyhow::Ok(done?)
    })?;
    if !done {
        bail!("tenant {tenant} has no user {user}");
    }
    println!("disabled: {user}");
    Ok(())
}
