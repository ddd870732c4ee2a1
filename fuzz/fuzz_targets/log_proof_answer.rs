//! `InclusionProof::from_json` on arbitrary bytes (an issuer's `GET /v1/log/proof` answer, SPEC
//! §12). When it parses: the bounds hold (at most 63 hashes, entry and checkpoint within
//! theirs), and checking it as the `logged` check does — opening the checkpoint with a fixed
//! log key, parsing the entry, checking inclusion — never panics.
#![no_main]

use huren_crypto::tlog::entry::{LogEntry, MAX_ENTRY_BYTES};
use huren_crypto::tlog::note::{self, MAX_NOTE_BYTES};
use huren_crypto::tlog::tree;
use huren_crypto::tlog::vkey::VerifierKey;
use huren_crypto::tlog::Hash;
use huren_crypto::verify::InclusionProof;
use libfuzzer_sys::fuzz_target;

/// The signed-note specification's example key.
const LOG_KEY: &str = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";

fuzz_target!(|data: &[u8]| {
    let Ok(proof) = InclusionProof::from_json(data) else {
        return;
    };
    assert!(proof.proof.len() <= tree::MAX_PROOF_HASHES);
    assert!(proof.entry.len() <= MAX_ENTRY_BYTES);
    assert!(proof.checkpoint.len() <= MAX_NOTE_BYTES);
    let _ = LogEntry::parse(&proof.entry);
    if let Ok(key) = VerifierKey::parse(LOG_KEY) {
        if let Ok(opened) = note::open(proof.checkpoint.as_bytes(), &key, &[]) {
            let _ = opened.witnessed(1);
            let _ = tree::check_inclusion(
                &proof.proof,
                opened.size,
                &opened.root,
                proof.index,
                &proof.entry,
            );
        }
    }
    // Against a root the answer did not sign: must not panic, whatever the sizes claim.
    let _ = tree::check_inclusion(
        &proof.proof,
        proof.tree_size,
        &Hash([0; 32]),
        proof.index,
        &proof.entry,
    );
});
