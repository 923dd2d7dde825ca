//! `consentry keys …`: rotating the master, seal and log keys (docs/operations.md, "Keys").
//!
//! The master key is rotated **live**: running services keep serving throughout. The
//! command announces the new key in the database (services poll it every second and load
//! the new key beside the old), waits a grace period, makes the new key current (from
//! then on new contacts are wrapped under it), then re-wraps every existing contact in
//! batches, each its own transaction. It can be killed at any moment and run again: it
//! picks up where the database says the rotation stands. `retire-master` then destroys
//! the old key, and refuses while any contact still needs it.
//!
//! The seal and log keys are rotated by replacing their files; the old public keys stay
//! published. A running service uses a new seal or log key from its next start.

use crate::config::{self, DbArgs};
use anyhow::{Context as _, bail};
use consentry_core::ids::SubjectId;
use consentry_ledger::clock::{Clock as _, SystemClock};
use consentry_ledger::keys::{
    self as server_keys, KEYRING_POLL, MASTER_ENV, MASTER_FILE, MASTER_PREVIOUS_ENV,
    MASTER_PREVIOUS_FILE,
};
use consentry_store::{RetireOutcome, Store, VaultKeyRow, VaultKeyState};
use consentry_vault::MasterKey;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Key commands.
#[derive(clap::Subcommand)]
pub enum KeysCommand {
    /// Show the master key versions (and how many contacts each holds), the seal keys
    /// and the log keys.
    Status {
        #[command(flatten)]
        db: DbArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Rotate the vault's master key while services keep running: announce a new key,
    /// make it current, re-wrap every contact under it in batches. Run it again to resume
    /// after an interruption.
    ///
    /// The old key is kept in DATA_DIR/master.previous.key until `consentry keys
    /// retire-master`. With CONSENTRY_MASTER_KEY set, the keys come from the environment
    /// instead: set CONSENTRY_MASTER_KEY to the new key and CONSENTRY_MASTER_KEY_PREVIOUS
    /// to the current one, for this command and (restarted) services alike.
    RotateMaster {
        #[command(flatten)]
        db: DbArgs,
        /// The new master key: a file holding 32 bytes in standard base64 [default: a new
        /// random key]
        #[arg(long, alias = "new-master-key-file", value_name = "FILE")]
        new_key_file: Option<PathBuf>,
        /// Contacts re-wrapped per transaction.
        #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        batch_size: u32,
        /// Seconds between announcing the new key and making it current, for running
        /// services to load it (they check every second). 0 when no service runs.
        #[arg(long, default_value_t = 3, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(0..=3600))]
        grace: u64,
        /// Only write the key files (master.key, master.previous.key, link.key) and stop
        /// before telling the database: for services with data dirs of their own, copy
        /// the three files to each, then run the command again without this flag.
        #[arg(long)]
        install_only: bool,
    },
    /// Destroy the previous master key once no contact needs it: refused while any
    /// contact is still wrapped under it, or does not open under the current key.
    RetireMaster {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Replace the seal key. The old public key stays published in
    /// /.well-known/consentry.json; restart the services to seal with the new key.
    RotateSeal {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Replace the log key (same log origin, new signed-note key ID). The old verifier key
    /// stays published; restart the services to sign checkpoints with the new key.
    RotateLog {
        #[command(flatten)]
        db: DbArgs,
    },
}

/// Runs a key command.
pub fn run(cmd: &KeysCommand) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    match cmd {
        KeysCommand::Status { db, json } => rt.block_on(status(db, *json)),
        KeysCommand::RotateMaster {
            db,
            new_key_file,
            batch_size,
            grace,
            install_only,
        } => rt.block_on(rotate_master(
            db,
            new_key_file.as_deref(),
            *batch_size,
            Duration::from_secs(*grace),
            *install_only,
        )),
        KeysCommand::RetireMaster { db } => rt.block_on(retire_master(db)),
        KeysCommand::RotateSeal { db } => rt.block_on(rotate_seal(db)),
        KeysCommand::RotateLog { db } => rt.block_on(rotate_log(db)),
    }
}

/// The master keys from the environment, when the service takes them from there.
struct Env {
    current: Option<zeroize::Zeroizing<String>>,
    previous: Option<zeroize::Zeroizing<String>>,
}

impl Env {
    fn read() -> Env {
        let var = |name| std::env::var(name).ok().map(zeroize::Zeroizing::new);
        Env {
            current: var(MASTER_ENV),
            previous: var(MASTER_PREVIOUS_ENV),
        }
    }

    fn candidates(&self, data_dir: &Path) -> anyhow::Result<server_keys::MasterCandidates> {
        server_keys::master_candidates(
            data_dir,
            self.current.as_deref().map(String::as_str),
            self.previous.as_deref().map(String::as_str),
        )
        .context("reading the master keys")
    }
}

/// Opens the store, checking that `data_dir` holds the keys of the service using it.
async fn open(db: &DbArgs) -> anyhow::Result<(PathBuf, Store)> {
    let (data_dir, url) = config::database(db)?;
    if !data_dir.join(server_keys::SEAL_FILE).exists() {
        bail!(
            "{} holds no keys: point --data-dir at the service's data dir",
            data_dir.display()
        );
    }
    let store = Store::open(&url).await.context("opening the database")?;
    if let Some(origin) = store.meta("log_origin").await? {
        let (_, logs) = server_keys::public_keys(&data_dir, server_keys::default_origin)?;
        let ours = logs
            .first()
            .and_then(|v| v.split_once('+'))
            .map(|(o, _)| o.to_owned())
            .unwrap_or_default();
        if ours != origin {
            store.close().await;
            bail!(
                "the keys in {} are not those of the service using this database (its log is {origin:?}, these keys name {ours:?})",
                data_dir.display()
            );
        }
    }
    Ok((data_dir, store))
}

/// The database's master key versions, recording the current key as version 1 on a
/// database that has none yet (as a service's first start would).
async fn versions(
    store: &Store,
    found: &server_keys::MasterCandidates,
) -> anyhow::Result<Vec<VaultKeyRow>> {
    let versions = store.vault_keys().await?;
    if !versions.is_empty() {
        return Ok(versions);
    }
    Ok(store
        .adopt_vault_key(&found.current.check_value(), SystemClock.now_ms())
        .await?)
}

fn in_state(versions: &[VaultKeyRow], state: VaultKeyState) -> Option<&VaultKeyRow> {
    versions.iter().find(|v| v.state == state)
}

/// The candidate key that is `version`, moved out of `found`.
fn take_key(found: &mut server_keys::MasterCandidates, version: &VaultKeyRow) -> Option<MasterKey> {
    if found.current.check_value() == version.key_check {
        return Some(std::mem::replace(
            &mut found.current,
            MasterKey::from_bytes([0; 32]),
        ));
    }
    match &found.previous {
        Some(p) if p.check_value() == version.key_check => found.previous.take(),
        _ => None,
    }
}

fn read_new_key(path: &Path) -> anyhow::Result<MasterKey> {
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
    );
    MasterKey::from_base64(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

async fn rotate_master(
    db: &DbArgs,
    new_key_file: Option<&Path>,
    batch_size: u32,
    grace: Duration,
    install_only: bool,
) -> anyhow::Result<()> {
    let (data_dir, store) = open(db).await?;
    let result = rotate_master_on(
        &data_dir,
        &store,
        new_key_file,
        batch_size,
        grace,
        install_only,
    )
    .await;
    store.close().await;
    result
}

async fn rotate_master_on(
    data_dir: &Path,
    store: &Store,
    new_key_file: Option<&Path>,
    batch_size: u32,
    grace: Duration,
    install_only: bool,
) -> anyhow::Result<()> {
    let env = Env::read();
    let mut found = env.candidates(data_dir)?;
    let versions = versions(store, &found).await?;
    let current = in_state(&versions, VaultKeyState::Current)
        .context("the database records no current master key")?
        .clone();
    let requested = new_key_file.map(read_new_key).transpose()?;

    // Where does the rotation stand? Either one is under way (resume it) or a new one
    // starts from the current key.
    if install_only
        && versions
            .iter()
            .any(|v| matches!(v.state, VaultKeyState::Next | VaultKeyState::Previous))
    {
        bail!("a rotation is under way: --install-only only starts one");
    }
    let (from, old, to, new, announced) = if let Some(previous) =
        in_state(&versions, VaultKeyState::Previous).cloned()
    {
        refuse_other(requested.as_ref(), &current)?;
        let old = take_key(&mut found, &previous).with_context(|| {
            format!(
                "a rotation from master key version {} to {} is under way, but version {}'s key is not in {}",
                previous.version,
                current.version,
                previous.version,
                where_previous(&env, data_dir)
            )
        })?;
        let new = take_key(&mut found, &current)
            .with_context(|| wrong_current(&env, data_dir, &current))?;
        println!(
            "resuming the rotation from master key version {} to {}",
            previous.version, current.version
        );
        (previous.version, old, current.version, new, true)
    } else if let Some(next) = in_state(&versions, VaultKeyState::Next).cloned() {
        refuse_other(requested.as_ref(), &next)?;
        let old = take_key(&mut found, &current)
            .with_context(|| wrong_current(&env, data_dir, &current))?;
        let new = take_key(&mut found, &next).with_context(|| {
            format!(
                "master key version {} was announced, but its key is not in {}",
                next.version,
                where_current(&env, data_dir)
            )
        })?;
        println!(
            "resuming the rotation to master key version {} (announced)",
            next.version
        );
        (current.version, old, next.version, new, false)
    } else {
        let (old, new) = start_rotation(&env, data_dir, &mut found, &current, requested)?;
        // The link key is pinned first, from the key whose link tokens are in use, so that
        // no service ever derives links from the new key.
        server_keys::pin_link_key(data_dir, &old)?;
        if env.current.is_none() {
            server_keys::install_master_keys(data_dir, &old, &new)?;
        }
        if install_only {
            if env.current.is_some() {
                println!(
                    "wrote {}: copy it to every service's data dir, restart the services with {MASTER_ENV} (new key) and {MASTER_PREVIOUS_ENV} (current key), then run `consentry keys rotate-master` again",
                    server_keys::LINK_FILE
                );
            } else {
                println!(
                    "wrote {MASTER_FILE}, {MASTER_PREVIOUS_FILE} and {}: copy them to every service's data dir, then run `consentry keys rotate-master` again",
                    server_keys::LINK_FILE
                );
            }
            return Ok(());
        }
        let to = store
            .announce_vault_key(&new.check_value(), SystemClock.now_ms())
            .await?;
        println!(
            "announced master key version {to} (check value {})",
            &hex_of(&new.check_value())[..16]
        );
        (current.version, old, to, new, false)
    };

    if !announced {
        if !grace.is_zero() {
            println!(
                "waiting {}s for running services to load version {to} (they check every {}s)",
                grace.as_secs(),
                KEYRING_POLL.as_secs()
            );
            tokio::time::sleep(grace).await;
        }
        store.switch_vault_key(to).await?;
        println!("master key version {to} is current: new contacts are wrapped under it");
    }

    rewrap_all(store, (from, &old), (to, &new), batch_size).await?;
    println!(
        "all contacts are under master key version {to}; retire version {from} with `consentry keys retire-master`"
    );
    Ok(())
}

/// The old and new keys of a rotation that starts now.
fn start_rotation(
    env: &Env,
    data_dir: &Path,
    found: &mut server_keys::MasterCandidates,
    current: &VaultKeyRow,
    requested: Option<MasterKey>,
) -> anyhow::Result<(MasterKey, MasterKey)> {
    if env.current.is_some() {
        if requested.is_some() {
            bail!(
                "--new-key-file cannot be used with {MASTER_ENV}: set {MASTER_ENV} to the new key and {MASTER_PREVIOUS_ENV} to the current one"
            );
        }
        if found.current.check_value() == current.key_check {
            bail!(
                "{MASTER_ENV} is the current master key (version {}). To rotate: set {MASTER_ENV} to the new key and {MASTER_PREVIOUS_ENV} to the current one, restart the services with both, then run this command with both set",
                current.version
            );
        }
        let new = std::mem::replace(&mut found.current, MasterKey::from_bytes([0; 32]));
        let old = take_key(found, current).with_context(|| {
            format!(
                "{MASTER_PREVIOUS_ENV} must hold the current master key (version {})",
                current.version
            )
        })?;
        return Ok((old, new));
    }
    if found.current.check_value() == current.key_check {
        let old = std::mem::replace(&mut found.current, MasterKey::from_bytes([0; 32]));
        let new = match requested {
            Some(k) => k,
            None => MasterKey::generate(&mut consentry_ledger::random::rng()),
        };
        if new.check_value() == old.check_value() {
            bail!("the new master key is the current one");
        }
        return Ok((old, new));
    }
    // An earlier run installed a new master.key and stopped before announcing it: the
    // current key is in master.previous.key. Go on with the key installed.
    match &found.previous {
        Some(p) if p.check_value() == current.key_check => {
            if let Some(r) = &requested
                && r.check_value() != found.current.check_value()
            {
                bail!(
                    "an earlier rotation installed another new key in {}: run without --new-key-file to finish it",
                    data_dir.join(MASTER_FILE).display()
                );
            }
            let old = take_key(found, current).context("the current master key")?;
            let new = std::mem::replace(&mut found.current, MasterKey::from_bytes([0; 32]));
            println!("going on with the new key an interrupted run installed");
            Ok((old, new))
        }
        _ => bail!("{}", wrong_current(env, data_dir, current)),
    }
}

fn refuse_other(requested: Option<&MasterKey>, target: &VaultKeyRow) -> anyhow::Result<()> {
    if let Some(r) = requested
        && r.check_value() != target.key_check
    {
        bail!(
            "a rotation to master key version {} is under way with another key: run without --new-key-file to finish it, and `consentry keys retire-master`, before starting another",
            target.version
        );
    }
    Ok(())
}

fn where_current(env: &Env, data_dir: &Path) -> String {
    match env.current {
        Some(_) => MASTER_ENV.to_owned(),
        None => data_dir.join(MASTER_FILE).display().to_string(),
    }
}

fn where_previous(env: &Env, data_dir: &Path) -> String {
    match env.current {
        Some(_) => MASTER_PREVIOUS_ENV.to_owned(),
        None => data_dir.join(MASTER_PREVIOUS_FILE).display().to_string(),
    }
}

fn wrong_current(env: &Env, data_dir: &Path, current: &VaultKeyRow) -> String {
    format!(
        "neither {} nor {} holds master key version {}, the current one of this database: point --data-dir at the service's keys",
        where_current(env, data_dir),
        where_previous(env, data_dir),
        current.version
    )
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Re-wraps every contact under `from` to `to`, batch after batch, then again for rows
/// written or changed meanwhile, until none is left but those that cannot be moved.
async fn rewrap_all(
    store: &Store,
    (from, old): (u32, &MasterKey),
    (to, new): (u32, &MasterKey),
    batch_size: u32,
) -> anyhow::Result<()> {
    let left = |counts: Vec<(u32, u64)>| {
        counts
            .into_iter()
            .find(|(v, _)| *v == from)
            .map_or(0, |(_, n)| n)
    };
    let total = left(store.contacts_by_key_version().await?);
    let mut moved = 0u64;
    println!("re-wrapping {total} contacts from version {from} to {to}, {batch_size} per batch");
    for _pass in 0..10 {
        let mut after: Option<SubjectId> = None;
        let mut failed = Vec::new();
        let mut moved_this_pass = 0;
        loop {
            let out = server_keys::rewrap_batch(
                store,
                (from, old),
                (to, new),
                after.as_ref(),
                batch_size,
            )
            .await?;
            if out.read == 0 {
                break;
            }
            moved += out.moved;
            moved_this_pass += out.moved;
            failed.extend(out.failed);
            println!("rewrapped {moved}/{total}");
            after = out.last;
        }
        let remaining = left(store.contacts_by_key_version().await?);
        if remaining == 0 {
            return Ok(());
        }
        if moved_this_pass == 0 && remaining as usize <= failed.len() {
            for (id, reason) in &failed {
                eprintln!("contact {id}: {reason}");
            }
            bail!(
                "{remaining} contact(s) could not be re-wrapped and stay under version {from}; the previous key cannot be retired until they are resolved"
            );
        }
    }
    bail!("contacts kept changing under version {from}; run the command again")
}

async fn retire_master(db: &DbArgs) -> anyhow::Result<()> {
    let (data_dir, store) = open(db).await?;
    let result = retire_master_on(&data_dir, &store).await;
    store.close().await;
    result
}

async fn retire_master_on(data_dir: &Path, store: &Store) -> anyhow::Result<()> {
    let env = Env::read();
    let mut found = env.candidates(data_dir)?;
    let versions = versions(store, &found).await?;
    if let Some(next) = in_state(&versions, VaultKeyState::Next) {
        bail!(
            "master key version {} is announced but not current yet: run `consentry keys rotate-master` to finish the rotation",
            next.version
        );
    }
    let Some(previous) = in_state(&versions, VaultKeyState::Previous).cloned() else {
        println!("no previous master key to retire");
        return Ok(());
    };
    let current = in_state(&versions, VaultKeyState::Current)
        .context("the database records no current master key")?
        .clone();
    let key =
        take_key(&mut found, &current).with_context(|| wrong_current(&env, data_dir, &current))?;
    // Every contact of the current version must open under the current key alone.
    let mut after: Option<SubjectId> = None;
    let mut checked = 0u64;
    loop {
        let rows = store
            .contacts_to_rewrap(current.version, after.as_ref(), 1000)
            .await?;
        let Some(last) = rows.last().map(|r| r.id.clone()) else {
            break;
        };
        for r in &rows {
            if let Some(w) = &r.wrapped_key {
                key.tenant_keys(&r.tenant)
                    .unwrap_subject_key(&r.id, &consentry_vault::WrappedKey::from_bytes(w.clone()))
                    .with_context(|| {
                        format!(
                            "contact {} does not open under master key version {}: not retiring version {}",
                            r.id, current.version, previous.version
                        )
                    })?;
                checked += 1;
            }
        }
        after = Some(last);
    }
    match store
        .retire_vault_key(previous.version, SystemClock.now_ms())
        .await?
    {
        RetireOutcome::Retired => {}
        RetireOutcome::StillInUse(n) => bail!(
            "{n} contact(s) are still wrapped under master key version {}: run `consentry keys rotate-master` to finish re-wrapping them",
            previous.version
        ),
        RetireOutcome::NotPrevious(state) => bail!(
            "master key version {} is {} now; nothing retired",
            previous.version,
            state.map_or("unknown", VaultKeyState::as_str)
        ),
    }
    println!(
        "checked {checked} contact(s) under version {}; master key version {} is retired",
        current.version, previous.version
    );
    if env.current.is_some() {
        println!(
            "unset {MASTER_PREVIOUS_ENV} (and destroy every copy of that key) before the services' next restart"
        );
    } else {
        let path = data_dir.join(MASTER_PREVIOUS_FILE);
        server_keys::delete_key(&path)?;
        println!(
            "deleted {} (running services drop the key within a second; destroy any backup of it too)",
            path.display()
        );
    }
    Ok(())
}

async fn status(db: &DbArgs, json: bool) -> anyhow::Result<()> {
    let (data_dir, store) = open(db).await?;
    let result = status_on(&data_dir, &store, json).await;
    store.close().await;
    result
}

async fn status_on(data_dir: &Path, store: &Store, json: bool) -> anyhow::Result<()> {
    let found = Env::read().candidates(data_dir)?;
    let versions = versions(store, &found).await?;
    let counts = store.contacts_by_key_version().await?;
    let count = |v: u32| counts.iter().find(|c| c.0 == v).map_or(0, |c| c.1);
    let (seals, logs) = server_keys::public_keys(data_dir, server_keys::default_origin)?;
    let held: Vec<u32> = versions
        .iter()
        .filter(|v| {
            v.key_check == found.current.check_value()
                || found
                    .previous
                    .as_ref()
                    .is_some_and(|p| p.check_value() == v.key_check)
        })
        .map(|v| v.version)
        .collect();
    let link_pinned = data_dir.join(server_keys::LINK_FILE).exists();
    if json {
        let doc = serde_json::json!({
            "master": versions.iter().map(|v| serde_json::json!({
                "version": v.version,
                "state": v.state.as_str(),
                "contacts": count(v.version),
                "key_held": held.contains(&v.version),
                "created_at": v.created_at,
                "retired_at": v.retired_at,
            })).collect::<Vec<_>>(),
            "link_key_pinned": link_pinned,
            "seal_keys": seals.iter().map(|k| serde_json::json!({
                "key_id": k.key_id(),
                "public_key": k.to_base64(),
            })).collect::<Vec<_>>(),
            "log_keys": logs,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(());
    }
    println!("master keys:");
    for v in &versions {
        println!(
            "  version {}: {}, {} contact(s){}",
            v.version,
            v.state.as_str(),
            count(v.version),
            if held.contains(&v.version) {
                ", key held"
            } else {
                ""
            }
        );
    }
    println!(
        "  link key: {}",
        if link_pinned {
            "pinned (link.key)"
        } else {
            "derived from the master key"
        }
    );
    println!("seal keys (current first):");
    for k in &seals {
        println!("  {} {}", k.key_id(), k.to_base64());
    }
    println!("log keys (current first):");
    for k in &logs {
        println!("  {k}");
    }
    Ok(())
}

async fn rotate_seal(db: &DbArgs) -> anyhow::Result<()> {
    let (data_dir, store) = open(db).await?;
    store.close().await;
    let (old, new) = server_keys::rotate_seal(&data_dir)?;
    println!("seal key {} replaces {}", new.key_id(), old.key_id());
    println!("new public key: {}", new.to_base64());
    println!(
        "the old public key stays published; restart every `consentry serve` using {} to seal with the new key",
        data_dir.display()
    );
    Ok(())
}

async fn rotate_log(db: &DbArgs) -> anyhow::Result<()> {
    let (data_dir, store) = open(db).await?;
    store.close().await;
    let (old, new) = server_keys::rotate_log(&data_dir, server_keys::default_origin)?;
    println!("log key {new}");
    println!("replaces {old}");
    println!(
        "the old verifier key stays published; restart every `consentry serve` using {} to sign checkpoints with the new key",
        data_dir.display()
    );
    Ok(())
}
