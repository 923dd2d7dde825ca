//! The `consentry` command. Parses the command line and hands each subcommand to its
//! module; errors become a message on stderr and a non-zero exit code here, and only here.

mod anchor_cmd;
mod backup_cmd;
mod check_cmd;
mod config;
mod contacts_cmd;
mod export_tiles_cmd;
mod files;
mod keys_cmd;
mod mirror_cmd;
mod pins;
mod restore_cmd;
mod serve_cmd;
mod tenant_cmd;
mod user_cmd;
mod verify_cmd;
mod witness_cmd;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Consentry: a consent ledger whose every proof anyone can verify.
#[derive(Parser)]
#[command(name = "consentry", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service (SQLite in ./consentry-data by default).
    Serve(Box<config::ServeArgs>),
    /// Manage tenants (senders).
    #[command(subcommand)]
    Tenant(tenant_cmd::TenantCommand),
    /// Manage the staff users of the web application (/app).
    #[command(subcommand)]
    User(user_cmd::UserCommand),
    /// Import and export the address book as CSV (see docs/csv.md).
    #[command(subcommand)]
    Contacts(contacts_cmd::ContactsCommand),
    /// Rotate the master, seal and log keys (see docs/operations.md, "Keys").
    #[command(subcommand)]
    Keys(keys_cmd::KeysCommand),
    /// Anchor the log's current checkpoint now, with every configured anchor.
    Anchor(anchor_cmd::AnchorCmd),
    /// Verify a proof, certificate or event file offline.
    ///
    /// Exit status: 0 valid, 1 invalid (the reason is printed), 2 unusable input.
    Verify(verify_cmd::VerifyArgs),
    /// Print a certificate's inclusion part as a C2SP tlog-proof@v1 file.
    ///
    /// The `extra` line carries the proof's canonical bytes, so generic transparency-log
    /// tooling can recompute the leaf hash and check the path against the checkpoint.
    TlogProof(TlogProofArgs),
    /// Write the log as static C2SP tlog-tiles files (checkpoint, tiles, entry bundles)
    /// into a directory, for a CDN or an object store; incremental.
    ExportTiles(export_tiles_cmd::ExportTilesArgs),
    /// Copy a log's tiles into a directory after checking them: the checkpoint against
    /// the log key given, the tiles against its root, every entry against its leaf, and
    /// consistency with the copy made before.
    Mirror(mirror_cmd::MirrorArgs),
    /// Copy the database (online and consistent, while the service runs) and the key
    /// files into a new directory (see docs/operations.md, "Backups").
    Backup(backup_cmd::BackupArgs),
    /// Restore a backup into an empty data dir, refusing one whose log is shorter than a
    /// checkpoint already published unless --accept-fork (see docs/operations.md,
    /// "Restoring").
    Restore(restore_cmd::RestoreArgs),
    /// Check the whole store: entries, tiles, published checkpoints, seals, vault rows,
    /// references.
    ///
    /// Exit status: 0 clean, 1 problems found (one line each), 2 the check could not run.
    Check(check_cmd::CheckArgs),
    /// Run a C2SP tlog-witness: cosign the checkpoints of the logs given, only when
    /// consistent with what this witness cosigned before (see docs/witnessing.md).
    Witness(witness_cmd::WitnessArgs),
}

#[derive(clap::Args)]
struct TlogProofArgs {
    /// The certificate JSON file (`-` for standard input).
    certificate: std::path::PathBuf,
}

/// Prints an error chain and maps it to exit status 1.
fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("consentry: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn tlog_proof(args: &TlogProofArgs) -> ExitCode {
    let run = || -> Result<String, String> {
        let bytes = verify_cmd::read_document(&args.certificate)?;
        let cert: consentry_core::certificate::Certificate =
            serde_json::from_slice(&bytes).map_err(|e| format!("not a certificate: {e}"))?;
        if cert.kind != consentry_core::certificate::CERTIFICATE_TYPE {
            return Err(format!("not a certificate: type {:?}", cert.kind));
        }
        consentry_core::tlog_proof::TlogProof::from_certificate(&cert)
            .map(|t| t.to_text())
            .map_err(|e| e.to_string())
    };
    match run() {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("consentry tlog-proof: {e}");
            ExitCode::from(2)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => report(serve_cmd::run(&args)),
        Command::Tenant(cmd) => report(tenant_cmd::run(&cmd)),
        Command::User(cmd) => report(user_cmd::run(&cmd)),
        Command::Contacts(cmd) => report(contacts_cmd::run(&cmd)),
        Command::Keys(cmd) => report(keys_cmd::run(&cmd)),
        Command::Anchor(cmd) => report(anchor_cmd::run(&cmd)),
        Command::Verify(args) => verify_cmd::run(&args),
        Command::TlogProof(args) => tlog_proof(&args),
        Command::ExportTiles(args) => export_tiles_cmd::run(&args),
        Command::Mirror(args) => mirror_cmd::run(&args),
        Command::Witness(args) => report(witness_cmd::run(&args)),
        Command::Backup(args) => report(backup_cmd::run(&args)),
        Command::Restore(args) => report(restore_cmd::run(&args)),
        Command::Check(args) => check_cmd::run(&args),
    }
}
