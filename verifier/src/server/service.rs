//! Process plumbing of the verification service: where its logs go and when it stops.
//!
//! The service's own (the issuer has its own in `huren_issuer::app`): the verifier must not
//! depend on issuer code, and an embedder running the verifier's [`App`](super::App) in its
//! own process keeps its own subscriber (installing one here is a no-op once one is set).

use super::config::LogFormat;

/// Sets up logging to standard error in `format`, filtered by `RUST_LOG` (default `info`).
/// The usage log (用证留痕) is target `huren::usage`. Does nothing if the process already
/// has a subscriber.
pub fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Completes on Ctrl-C or SIGTERM (what `huren verifier serve` stops on).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
