//! The corpus: well over a thousand deterministic hostile requests, each with the answer it
//! must get. One module per kind of attack; [`build_corpus`] puts them in a fixed order.

mod http;
mod json;
mod mutations;
mod photos;
mod real;
mod tokens;

use huren_crypto::b64;

use crate::client::{json_body, post};
use crate::pki::Pki;
use crate::XorShift;

/// The answer a case must get (besides what every answer must be: see [`crate::oracle`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// 200, verdict valid (an untouched real licence).
    Valid,
    /// 200, verdict invalid, with exactly these reasons in this order.
    Invalid(&'static [&'static str]),
    /// 200, verdict indeterminate, with exactly these reasons in this order.
    Indeterminate(&'static [&'static str]),
    /// Exactly this 4xx status and problem `code`.
    Problem(u16, &'static str),
    /// Refused by the HTTP layer (hyper) before any route: exactly this status; problem JSON
    /// is not required of it.
    Protocol(u16),
    /// One of these answers. Only where the answer genuinely depends on something the case
    /// cannot fix (the machine's load, which bits a random flip hit); each use says what.
    OneOf(&'static [Expect]),
    /// The client itself broke the body mid-request: this status and problem `code`, or the
    /// connection closed. Which of the two the client sees depends on timing: the server
    /// answers and closes while the rest of the broken body is still unread, and a close with
    /// unread data may reset the connection before the answer is read.
    ClientBroke(u16, &'static str),
}

/// The bytes a case sends: a whole HTTP request, as broken as the case wants.
pub enum Req {
    Bytes(Vec<u8>),
    /// Built just before sending (large bodies), so the client holds at most one at a time.
    Lazy(Box<dyn Fn() -> Vec<u8>>),
}

impl Req {
    pub fn build(&self) -> Vec<u8> {
        match self {
            Req::Bytes(b) => b.clone(),
            Req::Lazy(f) => f(),
        }
    }
}

/// One hostile request and what its answer must be.
pub struct Case {
    pub category: &'static str,
    pub name: String,
    pub req: Req,
    pub expect: Expect,
    /// A deflate bomb: it must be refused without its claims ever being parsed.
    pub bomb: bool,
}

/// The cases, in the order they are sent.
pub struct Corpus(pub Vec<Case>);

impl Corpus {
    fn add(
        &mut self,
        category: &'static str,
        name: impl Into<String>,
        req: Vec<u8>,
        expect: Expect,
    ) {
        self.0.push(Case {
            category,
            name: name.into(),
            req: Req::Bytes(req),
            expect,
            bomb: false,
        });
    }

    fn lazy(
        &mut self,
        category: &'static str,
        name: impl Into<String>,
        req: impl Fn() -> Vec<u8> + 'static,
        expect: Expect,
    ) {
        self.0.push(Case {
            category,
            name: name.into(),
            req: Req::Lazy(Box::new(req)),
            expect,
            bomb: false,
        });
    }

    /// Sends scanned text made from the real token `original` through one of the four text
    /// transports, chosen by `n`. What it must get is decided by [`crate::model::judge`]: every
    /// transport hands the same text to verification, except that text which is not UTF-8 is
    /// refused as such (as the body, or inside a JSON string).
    fn text(
        &mut self,
        category: &'static str,
        name: String,
        text: &[u8],
        original: &str,
        real: &[String],
        n: usize,
    ) {
        let utf8 = std::str::from_utf8(text).ok();
        let (transport, req) = match (n % 4, utf8) {
            (0, _) => ("text", post(Some("text/plain"), text)),
            (1, _) => ("none", post(None, text)),
            (2, Some(t)) => (
                "json-token",
                post(Some("application/json"), &json_body("token", t)),
            ),
            (_, Some(t)) => (
                "json-qr",
                post(Some("application/json"), &json_body("qr", t)),
            ),
            // Not UTF-8: put the raw bytes inside a JSON string.
            (_, None) => {
                let mut body = b"{\"token\":\"".to_vec();
                body.extend_from_slice(text);
                body.extend_from_slice(b"\"}");
                ("json-raw", post(Some("application/json"), &body))
            }
        };
        let expect = match (utf8, transport) {
            (Some(t), _) => crate::model::judge(t, original, real),
            (None, "json-raw") => Expect::Problem(400, "malformed_json"),
            (None, _) => Expect::Problem(400, "not_utf8"),
        };
        self.add(category, format!("{name} via {transport}"), req, expect);
    }
}

/// A compact JWS from parts given as bytes.
pub fn jws(header: &str, payload: &[u8], signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        b64::encode_url(header.as_bytes()),
        b64::encode_url(payload),
        b64::encode_url(signature)
    )
}

/// The real licences the cases start from.
pub struct Real {
    /// Real tokens that must verify as valid.
    pub valid: Vec<String>,
    /// Their HR1 forms.
    pub valid_qr: Vec<String>,
}

/// Every case, in a fixed order (the order matters only to the photo decoder's one slot).
pub fn build_corpus(pki: &Pki, real: &Real) -> Corpus {
    let mut c = Corpus(Vec::new());
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    real::untouched(&mut c, real);
    real::not_valid(&mut c, pki);
    mutations::truncations(&mut c, real);
    mutations::bit_flips_and_substitutions(&mut c, real, &mut rng);
    mutations::random_input(&mut c, real, &mut rng);
    mutations::invalid_utf8(&mut c, real);
    json::huge(&mut c, real);
    json::wrong_types(&mut c, real);
    tokens::deflate_bombs(&mut c, pki);
    http::oversize(&mut c);
    http::content_types(&mut c, real);
    let photos = photos::Photos::new(real);
    photos::photos(&mut c, &photos, real);
    photos::multipart_structure(&mut c, &photos);
    http::huge_headers(&mut c, real);
    mutations::hr1_oddities(&mut c, real);
    tokens::jws_algorithms(&mut c, pki, real);
    tokens::jws_parameters(&mut c, pki, real);
    tokens::jws_shapes(&mut c, real);
    http::malformed_http(&mut c, real);
    c
}
