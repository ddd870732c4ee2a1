//! Process plumbing of the verification service: where its logs go and when it stops.
//!
//! The service's own (the issuer has its own in `huren_issuer::app`): the verifier must not
//! depend on issuer code, and an embedder running the verifier's [`App`](super::App) in its
//! own process keeps its own subscriber (installing one here is a no-op once one is set).

use super::config::LogFormat;

/// Lines the log writer holds before a request that logs waits for it (at ~300 bytes a line,
/// about 20 MB): a burst is absorbed, a standard error that stopped draining slows the service
/// down rather than losing usage records.
const LOG_QUEUE_LINES: usize = 64 * 1024;

/// Size of the writer's buffer: lines queued while it wrote go out in one `write`.
const LOG_BUFFER_BYTES: usize = 64 * 1024;

/// Keeps the log writer running. Dropping it writes out what is queued and stops the writer:
/// hold it until the service has stopped.
#[must_use = "dropping the guard stops the log writer: hold it until the service has stopped"]
#[derive(Debug)]
pub struct LogGuard {
    _worker: tracing_appender::non_blocking::WorkerGuard,
}

/// Sets up logging to standard error in `format`, filtered by `RUST_LOG` (default `info`).
/// The usage log (用证留痕) is target `huren::usage`. Does nothing if the process already
/// has a subscriber.
///
/// Lines are formatted where they are logged and written by a thread of their own through a
/// buffer (`tracing-appender`'s non-blocking writer): a request never waits on the write, and
/// under load many lines share one system call. Lossless: when [`LOG_QUEUE_LINES`] lines wait,
/// the next one waits for room instead of being dropped — the usage log is a record, not a
/// sample.
pub fn init_logging(format: LogFormat) -> LogGuard {
    let (writer, guard) = log_writer(std::io::stderr(), LOG_QUEUE_LINES);
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
    guard
}

/// The non-blocking, buffered, lossless writer over `inner`, holding at most `queue_lines`
/// lines before a writer waits.
fn log_writer<W: std::io::Write + Send + 'static>(
    inner: W,
    queue_lines: usize,
) -> (tracing_appender::non_blocking::NonBlocking, LogGuard) {
    let (writer, worker) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .buffered_lines_limit(queue_lines)
        .thread_name("huren-log")
        .finish(std::io::BufWriter::with_capacity(LOG_BUFFER_BYTES, inner));
    (writer, LogGuard { _worker: worker })
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

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A writer into memory that is slow to write, so the queue fills.
    #[derive(Clone, Default)]
    struct Slow(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Slow {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            std::thread::sleep(std::time::Duration::from_micros(50));
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_log_writer_loses_no_line_when_its_queue_is_full_and_writes_all_out_when_dropped() {
        let out = Slow::default();
        let (writer, guard) = log_writer(out.clone(), 8);
        let subscriber = tracing_subscriber::fmt()
            .with_writer(writer)
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            for n in 0..5_000 {
                tracing::info!(target: "huren::usage", n, "licence checked");
            }
        });
        drop(guard);
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5_000);
        assert!(
            lines[4_999].ends_with("licence checked n=4999"),
            "{}",
            lines[4_999]
        );
    }
}
