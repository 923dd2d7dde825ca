//! The `consentry` command. Parses the command line and hands each subcommand to its
//! module; errors become a message on stderr and a non-zero exit code here, and only here.

mod verify_cmd;

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
    /// Verify a proof or certificate file offline.
    ///
    /// Exit status: 0 valid, 1 invalid (the reason is printed), 2 unusable input.
    Verify(verify_cmd::VerifyArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Verify(args) => verify_cmd::run(&args),
    }
}
