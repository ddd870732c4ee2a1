//! The oracle: what every answer must be, whatever was sent.

use crate::client::Response;
use crate::corpus::{Case, Expect};

/// Checks one answer against the rules every answer obeys and against the case's own
/// expectation; `Ok` carries the outcome (`"200 invalid"`, `"413 body_too_large"`, …) for the
/// tally.
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
        if let Some(reason) = case.reason {
            if !reasons.contains(&reason) {
                return Err(format!("expected reason {reason}, got {reasons:?}"));
            }
        }
        format!("200 {verdict}")
    } else if (400..500).contains(&status) {
        let problem = if case.expect == Expect::Protocol || case.expect == Expect::ClientBroke {
            None
        } else {
            if ct != "application/problem+json" {
                return Err(format!(
                    "HTTP {status} with content type {ct:?}, not problem JSON: {:?}",
                    String::from_utf8_lossy(&response.body[..response.body.len().min(200)])
                ));
            }
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
            Some(code)
        };
        match &problem {
            Some(code) => format!("{status} {code}"),
            None => format!("{status} (protocol)"),
        }
    } else {
        return Err(format!("unexpected HTTP {status}"));
    };
    let ok = match case.expect {
        Expect::Valid => outcome == "200 valid",
        Expect::Report => outcome == "200 invalid" || outcome == "200 indeterminate",
        Expect::Problem(s, code) => outcome == format!("{s} {code}"),
        Expect::NotValid => outcome != "200 valid",
        Expect::Protocol | Expect::ClientBroke => (400..500).contains(&status),
    };
    if ok {
        Ok(Some(outcome))
    } else {
        Err(format!("expected {:?}, got {outcome}", case.expect))
    }
}
