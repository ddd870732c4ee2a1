//! One module per command family.

mod copy;
mod demo;
mod demo_seals;
mod issuer;
mod log_audit;
mod log_monitor;

pub use log_monitor::LogCommand;
mod pki;
mod seal;
mod sign;
mod trust;
mod verifier;
mod verify;

use std::process::ExitCode;

use anyhow::Result;

use crate::args::{Cli, Command};

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let passphrase_file = cli.passphrase_file.as_deref();
    match cli.command {
        Command::Pki(command) => pki::run(command, passphrase_file),
        Command::Trust(command) => trust::run(command, passphrase_file),
        Command::Sign(args) => sign::sign(&args, passphrase_file),
        Command::StatusList(args) => sign::status_list(&args, passphrase_file),
        Command::Verify(args) => verify::run(&args),
        Command::Copy(args) => copy::run(&args, passphrase_file),
        Command::Issuer(command) => issuer::run(command, passphrase_file),
        Command::Verifier(command) => verifier::run(command),
        Command::Log(LogCommand::Monitor(args)) => log_monitor::monitor(&args),
        Command::Types { catalogue } => issuer::types(catalogue.as_deref()),
        Command::Demo { dir, port } => demo::run(&dir, port),
        Command::Seal(command) => seal::run(command, passphrase_file),
    }
}
