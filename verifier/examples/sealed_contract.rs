//! A bank's back office checks the seal on a contract a company sent in (a PDF and its detached
//! `.ses`) — the `huren-verifier` library embedded in a batch job, no server.
//!
//! ```text
//! cargo run -p huren-verifier --example sealed_contract -- \
//!     <trust list file or URL> <operator cert PEM> <document> <signature .ses>
//! ```
//!
//! Prints the verdict, the seal and the reasons; exits 0 only for `valid` (1 otherwise, 2 on
//! bad usage).

use std::process::ExitCode;

use huren_verifier::{TrustSource, Verdict, Verifier, VerifierConfig};

fn main() -> Result<ExitCode, Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [trust_list, operator_pem, document, signature] = args.as_slice() else {
        eprintln!(
            "usage: sealed_contract <trust list file or URL> <operator cert PEM> <document> <signature>"
        );
        return Ok(ExitCode::from(2));
    };
    let read = |path: &String| std::fs::read(path).map_err(|e| format!("{path}: {e}"));
    let operator_certs = huren_verifier::operator_certificates_from_pem(&read(operator_pem)?)?;
    let verifier = Verifier::open(
        VerifierConfig {
            unit: None, // seals only: no annotated copies here
            trust_source: TrustSource::parse(trust_list),
            operator_certs,
            cache_dir: None, // a long-running service would keep one, to restart offline
            online: true,    // fetch the seal's status list and the signer's CRL
            options: Default::default(),
        },
        huren_verifier::now(),
    )?;
    // The seal decoder refuses signatures over 4 MiB; a document is hashed as it is.
    let answer = verifier.check_seal(
        &read(signature)?,
        &read(document)?,
        huren_verifier::now(),
        false,
    );

    let report = &answer.report;
    let verdict = match report.verdict {
        Verdict::Valid => "valid",
        Verdict::Invalid => "invalid",
        Verdict::Indeterminate => "indeterminate",
    };
    println!("verdict: {verdict}");
    if let Some(seal) = &report.seal {
        println!(
            "seal: {} (esID {}, type {}), made by {}",
            seal.name, seal.es_id, seal.seal_type, seal.maker_subject
        );
    }
    if let (Some(signer), Some(at)) = (&report.signer_subject, &report.signed_at) {
        println!("signed by {signer} at {at}");
    }
    for text in answer.reason_texts.iter().chain(&answer.warning_texts) {
        println!("{}: {} / {}", text.code, text.en, text.zh);
    }
    Ok(if report.verdict == Verdict::Valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
