//! The corpus: well over a thousand deterministic hostile requests, each with the answer it
//! must get. One module per kind of attack; [`build_corpus`] puts them in a fixed order.

mod http;
mod json;
mod mutations;
mod photos;
mod real;
mod tokens;

use huren_crypto::{b64, qr};

use crate::client::{json_body, post};
use crate::pki::Pki;
use crate::XorShift;

/// The answer a case must get (besides what every answer must be: see [`crate::oracle`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// 200, verdict valid (an untouched real licence).
    Valid,
    /// 200, verdict invalid or indeterminate.
    Report,
    /// Exactly this 4xx status and problem `code`.
    Problem(u16, &'static str),
    /// A report that is not valid, or any 4xx problem.
    NotValid,
    /// Refused at the HTTP layer (hyper or the router): any 4xx, problem JSON not required.
    Protocol,
    /// The client itself broke the exchange: any 4xx, or the connection closed.
    ClientBroke,
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
    /// An outcome code the report must list.
    pub reason: Option<&'static str>,
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
            reason: None,
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
            reason: None,
            bomb: false,
        });
    }

    /// The last case must also list `reason`.
    fn reason(&mut self, reason: &'static str) {
        self.0.last_mut().unwrap().reason = Some(reason);
    }

    /// Sends scanned text through one of the four text transports, chosen by `n`; the oracle
    /// is the normalisation itself: only text that normalises to a real token may be valid.
    fn text(
        &mut self,
        category: &'static str,
        name: String,
        text: &[u8],
        real: &[String],
        n: usize,
    ) {
        let expect_valid = std::str::from_utf8(text)
            .ok()
            .and_then(|t| qr::normalise_input(t).ok())
            .is_some_and(|t| real.contains(&t));
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
        let expect = match (expect_valid, transport, utf8) {
            (true, _, _) => Expect::Valid,
            (false, "text" | "none", None) => Expect::Problem(400, "not_utf8"),
            (false, "json-raw", _) => Expect::Problem(400, "malformed_json"),
            (false, _, _) => Expect::Report,
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
