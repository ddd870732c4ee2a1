//! `huren verifier serve`.

use std::process::ExitCode;

use anyhow::{Context, Result};
use huren_verifier::server::config::{ServiceConfig, VerifierFile};
use huren_verifier::server::{service, App};

use crate::args::VerifierCommand;
use crate::common;

pub fn run(command: VerifierCommand) -> Result<ExitCode> {
    let VerifierCommand::Serve { config } = command;
    let file = match &config {
        Some(path) => VerifierFile::from_toml(
            &std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?,
        )?,
        None => VerifierFile::default(),
    };
    let config = file
        .with_env(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))?
        .resolve()?;
    let _log = service::init_logging(config.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding {}", config.listen))?;
        let app = build(&config, listener).await?;
        let addr = app.local_addr()?;
        eprintln!("verifier listening on http://{addr} (clerk's page at /)");
        app.run_until(service::shutdown_signal()).await?;
        Ok(ExitCode::SUCCESS)
    })
}

/// Builds the service `config` describes on `listener` (the pinned certificates read here:
/// PEM or DER files).
pub async fn build(config: &ServiceConfig, listener: tokio::net::TcpListener) -> Result<App> {
    let pinned = common::pinned_certificates(&config.operator_certs)?;
    Ok(App::build(config, pinned, listener).await?)
}
