//! `huren verifier serve`.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use huren_crypto::verify::VerifyOptions;
use huren_verifier::server::config::{ServiceConfig, VerifierFile};
use huren_verifier::{server, TrustSource, Verifier, VerifierConfig};

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
    huren_issuer::app::init_logging(if config.json_logs {
        huren_issuer::config::LogFormat::Json
    } else {
        huren_issuer::config::LogFormat::Text
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding {}", config.listen))?;
        let state = build_state(&config)?;
        let addr = listener.local_addr()?;
        if let Some(path) = &config.addr_file {
            huren_keys::store::write_atomic(path, addr.to_string().as_bytes(), 0o644, true)?;
        }
        eprintln!("verifier listening on http://{addr} (clerk's page at /)");
        server::serve(
            listener,
            state,
            config.refresh,
            huren_issuer::app::shutdown_signal(),
        )
        .await?;
        Ok(ExitCode::SUCCESS)
    })
}

/// Opens the verifier described by `config`.
pub fn build_state(config: &ServiceConfig) -> Result<server::ServerState> {
    let pinned = common::pinned_certificates(&config.operator_certs)?;
    let verifier = Verifier::open(
        VerifierConfig {
            trust_source: TrustSource::parse(&config.trust_list),
            operator_certs: pinned,
            cache_dir: Some(config.cache_dir.clone()),
            online: config.online,
            options: VerifyOptions {
                trust_list_grace_seconds: config.grace_secs,
                ..VerifyOptions::default()
            },
        },
        huren_verifier::now(),
    )?;
    let mut state = server::state(Arc::new(verifier), config.rate_limit);
    state.trusted_proxy = config.trusted_proxy.clone().map(Arc::new);
    Ok(state)
}
