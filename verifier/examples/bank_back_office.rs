//! A bank's back office checks the business licence a customer handed over before opening
//! an account — the `huren-verifier` library embedded in a batch job, no server.
//!
//! ```text
//! cargo run -p huren-verifier --example bank_back_office -- \
//!     <trust list file or URL> <operator cert PEM> <token or HR1:… text> [bank's USCC]
//! ```
//!
//! Prints the verdict and the reasons; exits 0 only for `valid` (1 otherwise, 2 on bad usage).
//! An annotated copy (加注件) is accepted only when made for the bank: with the bank's own
//! 统一社会信用代码 a copy for another unit is `wrong_audience`; without it, a copy that names a
//! unit is refused here (the library would call it valid with `audience_not_checked`).

use std::process::ExitCode;

use huren_verifier::{TrustSource, Verdict, Verifier, VerifierConfig};

fn main() -> Result<ExitCode, Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (trust_list, operator_pem, token, bank) = match args.as_slice() {
        [trust_list, operator_pem, token] => (trust_list, operator_pem, token, None),
        [trust_list, operator_pem, token, bank] => (trust_list, operator_pem, token, Some(bank)),
        _ => {
            eprintln!("usage: bank_back_office <trust list file or URL> <operator cert PEM> <token> [bank's USCC]");
            return Ok(ExitCode::from(2));
        }
    };
    let unit = bank
        .map(|code| huren_verifier::Uscc::parse(code))
        .transpose()
        .map_err(|e| format!("the bank's code: {e}"))?;
    let pem = std::fs::read(operator_pem).map_err(|e| format!("{operator_pem}: {e}"))?;
    let operator_certs = huren_verifier::operator_certificates_from_pem(&pem)?;
    let verifier = Verifier::open(
        VerifierConfig {
            trust_source: TrustSource::parse(trust_list),
            operator_certs,
            cache_dir: None, // a long-running service would keep one, to restart offline
            online: true,    // fetch the licence's status list (revocation) from its issuer
            options: Default::default(),
            unit, // copies made for another unit are refused
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
    if let Some(copy) = report.copy() {
        let unit = copy
            .aud
            .as_ref()
            .map_or("any window", |aud| aud.name.as_str());
        println!(
            "annotated copy (加注件) only for: {} — using unit {unit}, until {}",
            copy.purpose.cause, copy.expires_at
        );
    }
    for warning in &report.warnings {
        println!("warning: {warning:?}");
    }
    for reason in &report.reasons {
        println!(
            "reason: {} — {} / {}",
            reason.code(),
            reason.text_en(),
            reason.text_zh()
        );
    }
    // A copy whose unit could not be checked is not good enough for an account opening.
    let unchecked = report
        .warnings
        .contains(&huren_verifier::Warning::AudienceNotChecked);
    Ok(if report.verdict == Verdict::Valid && !unchecked {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
