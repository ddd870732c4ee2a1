//! `huren` — the command line: PKI set-up, trust-list building, offline signing and
//! verification. JSON goes to stdout; human-friendly text goes to stderr.
//!
//! Exit codes: 0 success (for `verify`: valid), 1 invalid, 2 indeterminate, 3 an operational
//! error (a file unreadable, trust material refused, …), 64 a usage error.

mod args;
mod commands;
mod common;

use std::process::ExitCode;

use clap::Parser;

/// Usage errors (EX_USAGE), distinct from every verification verdict.
const EXIT_USAGE: u8 = 64;
/// Operational errors.
const EXIT_ERROR: u8 = 3;

fn main() -> ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match commands::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
