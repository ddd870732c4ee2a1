//! Offering the newest checkpoint to the region's witnesses (C2SP tlog-witness, log side) and
//! recording the cosigned note once a quorum answered.
//!
//! Each witness is sent the consistency proof from the size it last cosigned (0 at first); a
//! 409 names the size it holds, and the request is retried once from there. A witness that
//! holds a size *above* the log's is evidence the log was rolled back: that is logged as an
//! error and never papered over.

use huren_crypto::tlog::note::{self, add_signature_lines};
use huren_crypto::tlog::tree;
use huren_crypto::tlog::witness::request_body;
use huren_crypto::trust_list::WitnessEntry;

use super::Log;
use huren_crypto::time::Clock;

use crate::store::{log as rows, RegionStore, StoreError};

/// Largest witness answer read (a few cosignature lines).
const MAX_ANSWER_BYTES: u64 = 4096;

/// Why the newest checkpoint was not witnessed.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// Database failure.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Too few witnesses cosigned.
    #[error("{cosigned} of {quorum} cosignatures needed for size {size}")]
    NoQuorum {
        /// Tree size.
        size: u64,
        /// Cosignatures obtained.
        cosigned: usize,
        /// Needed.
        quorum: usize,
    },
    /// Our own checkpoint or proof could not be made.
    #[error("{0}")]
    Log(String),
}

/// What one witness answered.
enum Answer {
    /// Its cosignature line(s).
    Cosigned(String),
    /// It holds another size.
    Holds(u64),
    /// Anything else (logged).
    Failed(String),
}

/// Offers the newest checkpoint to every witness that has not cosigned it, unless it is
/// already witnessed.
pub async fn witness_newest(
    store: &RegionStore,
    log: &Log,
    clock: &dyn Clock,
) -> Result<(), SubmitError> {
    let mut conn = store.acquire().await?;
    let Some(newest) = rows::newest_checkpoint(&mut conn).await? else {
        return Ok(());
    };
    if newest.cosigned.is_some() {
        return Ok(());
    }
    let now = clock.now().seconds();
    if log.quorum == 0 {
        // No witnesses required: the log's own signature is all there is.
        rows::set_cosigned(&mut conn, newest.size, &newest.note, now).await?;
        log.metrics
            .witnessed_entries
            .set(i64::try_from(newest.size).unwrap_or(i64::MAX));
        return Ok(());
    }
    // Every witness is asked at once (each answer within WITNESS_TIMEOUT); one that holds
    // another size is asked once more, from there.
    let mut offers = Vec::new();
    for witness in &log.witnesses {
        let old = rows::witness_size(&mut conn, &witness.name).await?;
        let body = request(&mut conn, newest.size, old, &newest.note).await?;
        offers.push((
            witness,
            old,
            tokio::spawn(offer(log.http.clone(), witness.url.clone(), body)),
        ));
    }
    let mut lines = Vec::new();
    for (witness, old, offered) in offers {
        let mut answer = offered
            .await
            .unwrap_or_else(|e| Answer::Failed(e.to_string()));
        if let Answer::Holds(size) = answer {
            if size != old && size <= newest.size {
                let body = request(&mut conn, newest.size, size, &newest.note).await?;
                answer = offer(log.http.clone(), witness.url.clone(), body).await;
            }
        }
        match answer {
            Answer::Cosigned(line) if cosignature_verifies(log, witness, &newest.note, &line) => {
                rows::set_witness_size(&mut conn, &witness.name, newest.size).await?;
                lines.push(line);
            }
            Answer::Cosigned(_) => {
                log.metrics.witness_failures.inc();
                tracing::warn!(witness = %witness.name, "witness answered with a cosignature that does not verify");
            }
            Answer::Holds(size) if size > newest.size => {
                log.metrics.witness_failures.inc();
                tracing::error!(witness = %witness.name, witness_size = size, log_size = newest.size, "a witness holds a larger tree than this log: the log was rolled back or forked");
            }
            Answer::Holds(size) => {
                log.metrics.witness_failures.inc();
                tracing::warn!(witness = %witness.name, witness_size = size, "witness holds another size than the log offered from");
            }
            Answer::Failed(why) => {
                log.metrics.witness_failures.inc();
                tracing::warn!(witness = %witness.name, reason = %why, "witness did not cosign");
            }
        }
    }
    if lines.len() < log.quorum {
        return Err(SubmitError::NoQuorum {
            size: newest.size,
            cosigned: lines.len(),
            quorum: log.quorum,
        });
    }
    let cosigned =
        add_signature_lines(&newest.note, &lines).map_err(|e| SubmitError::Log(e.to_string()))?;
    rows::set_cosigned(&mut conn, newest.size, &cosigned, now).await?;
    log.metrics
        .witnessed_entries
        .set(i64::try_from(newest.size).unwrap_or(i64::MAX));
    Ok(())
}

/// The add-checkpoint body from `old` to the checkpoint `note` of `size`.
async fn request(
    conn: &mut crate::store::RegionConn,
    size: u64,
    old: u64,
    note: &str,
) -> Result<String, SubmitError> {
    let old = old.min(size);
    let indexes =
        tree::consistency_indexes(size, old).map_err(|e| SubmitError::Log(e.to_string()))?;
    let fetched = rows::hashes(conn, &indexes).await?;
    let proof = tree::consistency_proof(size, old, &fetched)
        .map_err(|e| SubmitError::Log(e.to_string()))?;
    Ok(request_body(old, &proof, note))
}

/// POSTs the request to the witness at `base` (blocking HTTP off the async workers).
async fn offer(agent: ureq::Agent, base: String, body: String) -> Answer {
    let url = format!("{}/add-checkpoint", base.trim_end_matches('/'));
    let sent = tokio::task::spawn_blocking(move || {
        let mut response = agent
            .post(&url)
            .header("Content-Type", "text/plain; charset=utf-8")
            .send(body.as_bytes())
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER_BYTES)
            .read_to_string()
            .map_err(|e| e.to_string())?;
        Ok::<_, String>((status, text))
    })
    .await;
    match sent {
        Ok(Ok((200, text))) => Answer::Cosigned(text),
        Ok(Ok((409, text))) => match text.trim().parse() {
            Ok(size) => Answer::Holds(size),
            Err(_) => Answer::Failed(format!(
                "409 without a size: {:?}",
                text.chars().take(40).collect::<String>()
            )),
        },
        Ok(Ok((status, text))) => Answer::Failed(format!(
            "HTTP {status}: {}",
            text.chars().take(200).collect::<String>()
        )),
        Ok(Err(e)) => Answer::Failed(e),
        Err(e) => Answer::Failed(e.to_string()),
    }
}

/// Whether `line` is `witness`'s valid cosignature of the checkpoint in `note`.
fn cosignature_verifies(log: &Log, witness: &WitnessEntry, note: &str, line: &str) -> bool {
    let Ok(with_line) = add_signature_lines(note, &[line.to_owned()]) else {
        return false;
    };
    note::open(
        with_line.as_bytes(),
        log.verifier_key(),
        std::slice::from_ref(&witness.vkey),
    )
    .is_ok_and(|opened| {
        opened
            .cosignatures
            .iter()
            .any(|c| c.name == witness.vkey.name())
    })
}
