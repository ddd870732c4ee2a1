//! The oracle: what every answer must be, whatever was sent, and whether it is the one answer
//! the case names.

use crate::client::Response;
use crate::corpus::{Case, Expect};

/// Checks one answer against the rules every answer obeys and against the case's own
/// expectation; `Ok` carries the outcome (`"200 invalid [malformed]"`, `"413 body_too_large"`,
/// …) for the tally.
///
/// Nothing here looks at a clock. A bomb is held to what bounds its work — its claims are never
/// parsed (the inflate limit, `huren_crypto::jws::MAX_LICENCE_PAYLOAD_BYTES`, stopped it) and
/// the process's resident memory stays bounded over the corpus — not to how fast it was
/// refused; the verify path's speed is measured by `crypto/benches/verify.rs` and
/// `bench/verifier-load.sh`.
pub fn check(case: &Case, response: &Response) -> Result<Option<String>, String> {
    let status = response.status;
    if status >= 500 {
        return Err(format!(
            "HTTP {status}: {}",
            String::from_utf8_lossy(&response.body)
        ));
    }
    let ct = response.header("content-type").unwrap_or("");
    let outcome = if status == 200 {
        if !ct.starts_with("application/json") {
            return Err(format!("200 with content type {ct:?}"));
        }
        let report: serde_json::Value = serde_json::from_slice(&response.body)
            .map_err(|e| format!("200 body is not JSON: {e}"))?;
        let verdict = report["verdict"].as_str().ok_or("report without verdict")?;
        let reasons: Vec<&str> = report["reasons"]
            .as_array()
            .ok_or("report without reasons")?
            .iter()
            .map(|r| r.as_str().unwrap_or("?"))
            .collect();
        match verdict {
            "valid" if !reasons.is_empty() => {
                return Err(format!("valid with reasons {reasons:?}"))
            }
            "invalid" | "indeterminate" if reasons.is_empty() => {
                return Err(format!("{verdict} without reasons"))
            }
            "valid" | "invalid" => {}
            "indeterminate" => {
                if !reasons
                    .iter()
                    .all(|r| matches!(*r, "status_unknown" | "trust_list_stale"))
                {
                    return Err(format!("indeterminate with definitive reasons {reasons:?}"));
                }
            }
            other => return Err(format!("verdict {other:?}")),
        }
        if report["checks"].as_array().map(Vec::len) != Some(11) {
            return Err("report does not list the 11 checks".into());
        }
        if verdict == "valid" && case.expect != Expect::Valid {
            return Err(format!(
                "VALID for a non-licence (expected {:?})",
                case.expect
            ));
        }
        if verdict == "valid" && report["licence"]["jti"].as_str().is_none() {
            return Err("valid without the licence".into());
        }
        if case.bomb {
            let claims = report["checks"]
                .as_array()
                .and_then(|c| c.iter().find(|c| c["check"] == "claims"))
                .ok_or("no claims check")?;
            if claims["ok"] == true {
                return Err("the bomb's claims were parsed".into());
            }
        }
        Answer::Report {
            verdict: verdict.to_owned(),
            reasons: reasons.iter().map(|r| (*r).to_owned()).collect(),
        }
    } else if (400..500).contains(&status) {
        let problem_json = ct == "application/problem+json";
        if !problem_json && !matches!(case.expect, Expect::Protocol(_)) {
            return Err(format!(
                "HTTP {status} with content type {ct:?}, not problem JSON: {:?}",
                String::from_utf8_lossy(&response.body[..response.body.len().min(200)])
            ));
        }
        if problem_json {
            let problem: serde_json::Value = serde_json::from_slice(&response.body)
                .map_err(|e| format!("problem body is not JSON: {e}"))?;
            let code = problem["code"]
                .as_str()
                .ok_or("problem without code")?
                .to_owned();
            if problem["status"] != status {
                return Err(format!(
                    "problem status {} on HTTP {status}",
                    problem["status"]
                ));
            }
            if status == 429 && response.header("retry-after").is_none() {
                return Err("429 without Retry-After".into());
            }
            // RFC 9110 §15.5.6: a 405 names the methods the route takes.
            if status == 405 && response.header("allow").is_none() {
                return Err("405 without Allow".into());
            }
            Answer::Problem { status, code }
        } else {
            Answer::Protocol { status }
        }
    } else {
        return Err(format!("unexpected HTTP {status}"));
    };
    if answers(case.expect, &outcome) {
        Ok(Some(outcome.to_string()))
    } else {
        Err(format!("expected {:?}, got {outcome}", case.expect))
    }
}

/// An answer, as far as the expectations look at it.
enum Answer {
    Report {
        verdict: String,
        reasons: Vec<String>,
    },
    Problem {
        status: u16,
        code: String,
    },
    /// A 4xx without problem JSON (from hyper, before any route).
    Protocol {
        status: u16,
    },
}

impl std::fmt::Display for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Answer::Report { verdict, reasons } if reasons.is_empty() => write!(f, "200 {verdict}"),
            Answer::Report { verdict, reasons } => {
                write!(f, "200 {verdict} [{}]", reasons.join(", "))
            }
            Answer::Problem { status, code } => write!(f, "{status} {code}"),
            Answer::Protocol { status } => write!(f, "{status} (protocol)"),
        }
    }
}

/// Whether `answer` is what `expect` asks for.
fn answers(expect: Expect, answer: &Answer) -> bool {
    let report = |want_verdict: &str, want: &[&str]| {
        matches!(answer, Answer::Report { verdict, reasons }
            if verdict == want_verdict && reasons.iter().map(String::as_str).eq(want.iter().copied()))
    };
    match expect {
        Expect::Valid => report("valid", &[]),
        Expect::Invalid(reasons) => report("invalid", reasons),
        Expect::Indeterminate(reasons) => report("indeterminate", reasons),
        Expect::Problem(want_status, want_code) | Expect::ClientBroke(want_status, want_code) => {
            matches!(answer, Answer::Problem { status, code }
                if *status == want_status && code == want_code)
        }
        Expect::Protocol(want) => matches!(answer, Answer::Protocol { status } if *status == want),
        Expect::OneOf(any) => any.iter().any(|e| answers(*e, answer)),
    }
}
