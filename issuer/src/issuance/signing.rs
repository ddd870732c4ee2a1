//! Signing a batch's licences, on two threads where the signature is the item's main cost.
//! An SM2 signature takes ~65 µs and an RSA-3072 one ~1 ms, more than the rest of an item's
//! work, and a batch is otherwise one thread plus the self-checker
//! ([`super::self_check`]): a second signing thread keeps both cores busy (SM2 batches on
//! SQLite: 4,650–5,980 → 5,910–6,540 licences/s, bench/README.md). An ES256 signature
//! (~20 µs) is not worth it: a third busy thread on two cores cost ES256 batches ~15 %, so
//! they sign on the batch's own thread. Scoped threads rather than the runtime's blocking pool: the
//! jobs borrow the issuer, and the batch waits for them anyway.

use huren_crypto::alg::Algorithm;
use huren_crypto::ids::LicenceId;
use huren_crypto::licence::Licence;
use huren_crypto::time::UnixTime;

use super::self_check::SelfChecker;
use super::{IssueError, Issuer};

/// Licences signed between two yields to the runtime (~4 ms of CPU on two threads), so the
/// worker thread running a batch still serves its other tasks.
const GROUP: usize = 128;

/// One licence to sign: its 证照标识, content and status position.
pub(super) struct SignJob {
    pub(super) id: LicenceId,
    pub(super) licence: Licence,
    pub(super) uri: String,
    pub(super) idx: i64,
}

impl Issuer {
    /// The tokens of `jobs`, in order, each handed to `checker` as soon as it is signed (so
    /// the self-check runs beside the signing).
    pub(super) async fn sign_jobs(
        &self,
        now: UnixTime,
        jobs: Vec<SignJob>,
        checker: &SelfChecker,
    ) -> Vec<Result<String, IssueError>> {
        let mut tokens = Vec::with_capacity(jobs.len());
        let mut jobs = jobs.into_iter().peekable();
        while jobs.peek().is_some() {
            let group: Vec<SignJob> = jobs.by_ref().take(GROUP).collect();
            tokens.extend(self.sign_group(now, group, checker));
            tokio::task::yield_now().await;
        }
        tokens
    }

    fn sign_group(
        &self,
        now: UnixTime,
        mut first: Vec<SignJob>,
        checker: &SelfChecker,
    ) -> Vec<Result<String, IssueError>> {
        let sign = |jobs: Vec<SignJob>| -> Vec<Result<String, IssueError>> {
            jobs.into_iter()
                .map(|job| {
                    let token = self.sign_licence(job.id, now, job.licence, &job.uri, job.idx)?;
                    checker.submit(&token);
                    Ok(token)
                })
                .collect()
        };
        if first.len() < 2 || self.keys.signer.algorithm() == Algorithm::Es256 {
            return sign(first);
        }
        let second = first.split_off(first.len() / 2);
        let second_len = second.len();
        std::thread::scope(|scope| {
            let other = scope.spawn(|| sign(second));
            let mut tokens = sign(first);
            match other.join() {
                Ok(more) => tokens.extend(more),
                // A panic while signing fails those items, and with them the batch.
                Err(_) => tokens.extend(
                    std::iter::repeat_with(|| {
                        Err(IssueError::Sign("the signing thread stopped".into()))
                    })
                    .take(second_len),
                ),
            }
            tokens
        })
    }
}
