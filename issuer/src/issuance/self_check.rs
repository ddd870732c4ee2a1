//! Verifying every new token with the issuer's own certificate before it leaves: a faulty key
//! or signing device must never produce licences that fail at every window.

use super::IssueError;

/// Parses `token` and verifies its signature with `key` (the self-check before a token is
/// handed out).
pub(super) fn check_own_signature(
    key: &huren_crypto::key::PublicKey,
    token: &str,
) -> Result<(), String> {
    let jws = huren_crypto::jws::UnverifiedJws::parse(token, huren_crypto::jws::Limits::LICENCE)
        .map_err(|e| format!("self-check: {e}"))?;
    jws.verify(key)
        .map(|_| ())
        .map_err(|e| format!("self-check: {e}"))
}

/// Verifies a batch's new tokens on a blocking thread while the batch goes on with the next
/// items (signature verification is the largest CPU cost per item; on two or more cores it
/// then overlaps with signing and the database round trips). [`SelfChecker::finish`] waits for
/// all of them: a batch commits only if every token passed, so no licence that fails its
/// self-check is ever stored or handed out.
pub(super) struct SelfChecker {
    tokens: std::sync::mpsc::Sender<String>,
    done: tokio::task::JoinHandle<Result<(), String>>,
}

impl SelfChecker {
    pub(super) fn start(key: huren_crypto::key::PublicKey) -> SelfChecker {
        let (tokens, queue) = std::sync::mpsc::channel::<String>();
        let done = tokio::task::spawn_blocking(move || {
            // Checks everything submitted, until the sender is dropped; stops at the first
            // failure (later submissions then go nowhere, and `finish` reports the failure).
            for token in queue {
                check_own_signature(&key, &token)?;
            }
            Ok(())
        });
        SelfChecker { tokens, done }
    }

    pub(super) fn submit(&self, token: &str) {
        // A send fails only once the checker has stopped on a failure, which `finish` reports.
        let _ = self.tokens.send(token.to_owned());
    }

    pub(super) async fn finish(self) -> Result<(), IssueError> {
        drop(self.tokens);
        self.done
            .await
            .map_err(|e| IssueError::Sign(format!("self-check: {e}")))?
            .map_err(IssueError::Sign)
    }
}
