//! The answer to text made from a real token, or to random text: the one outcome code
//! [`crate::common::token_model`] decides from where the change lands, or valid for text that
//! still stands for one of the real tokens.

use crate::common::token_model;
use crate::corpus::Expect;

pub const MALFORMED: Expect = Expect::Invalid(&["malformed"]);
pub const BAD_SIGNATURE: Expect = Expect::Invalid(&["bad_signature"]);
pub const UNKNOWN_SIGNER: Expect = Expect::Invalid(&["unknown_signer"]);
pub const UNSUPPORTED_ALGORITHM: Expect = Expect::Invalid(&["unsupported_algorithm"]);

/// The answer to scanned `text` made from the real token `original`; `real` are all the real
/// tokens (text that stands for one of them is valid).
pub fn judge(text: &str, original: &str, real: &[String]) -> Expect {
    if token_model::normalise(text).is_some_and(|token| real.contains(&token)) {
        return Expect::Valid;
    }
    match token_model::refusal(text, original) {
        Some("malformed") => MALFORMED,
        Some("bad_signature") => BAD_SIGNATURE,
        Some("unknown_signer") => UNKNOWN_SIGNER,
        Some("unsupported_algorithm") => UNSUPPORTED_ALGORITHM,
        other => panic!("the model answered {other:?} for text that is no real token"),
    }
}
