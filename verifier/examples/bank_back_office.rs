//! A bank's back office checks the business licence a customer handed over before opening
//! an account — the `huren-verifier` library embedded in a batch job, no server.
//!
//! ```text
//! cargo run -p huren-verifier --example bank_back_office -- \
//!     <trust list file or URL> <operator cert PEM> <token or HR1:… text>
//! ```
//!
//! Prints the verdict and the reasons; exits 0 only for `valid` (1 otherwise, 2 on bad usage).

use std::process::ExitCode;

use huren_verifier::{TrustSource, Verdict, Verifier, VerifierConfig};

fn main() -> Result<ExitCode, Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [trust_list, operator_pem, token] = args.as_slice() else {
        eprintln!("usage: bank_back_office <trust list file or URL> <operator cert PEM> <token>");
        return Ok(ExitCode::from(2));
    };
    let pem = std::fs::read(operator_pem).map_err(|e| format!("{operator_pem}: {e}"))?;
    let operator_certs = huren_verifier::operator_certificates_from_pem(&pem)?;
    let verifier = Verifier::open(
        VerifierConfig {
            trust_source: TrustSource::parse(trust_list),
            operator_certs,
            cache_dir: None, // a long-running service would keep one, to restart offline
            online: true,    // fetch the licence's status list (revocation) from its issuer
            options: Default::default(),
        },
        huren_verifier::now(),
    )?;
    let report = verifier.verify(token, huren_verifier::now());

    let verdict = match report.verdict {
        Verdict::Valid => "valid",
        Verdict::Invalid => "invalid",
        Verdict::Indeterminate => "indeterminate",
    };
    println!("verdict: {verdict}");
    if let Some(licence) = report.licence() {
        println!(
            "licence: {} {} — {} ({}), issued by {} ({})",
            licence.type_name,
            // An annotated copy shows only what its holder disclosed.
            licence.number.as_deref().unwrap_or("«未出示»"),
            licence.holder_name.as_deref().unwrap_or("«未出示»"),
            licence.holder_id_masked.as_deref().unwrap_or("«未出示»"),
            licence.issuer_name,
            licence.iss_name
        );
    }
    for reason in &report.reasons {
        println!(
            "reason: {} — {} / {}",
            reason.code(),
            reason.text_en(),
            reason.text_zh()
        );
    }
    Ok(if report.verdict == Verdict::Valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
