//! HTTP around the body: oversize bodies, content types, huge headers and malformed requests.

use super::{Corpus, Expect, Real};
use crate::client::{
    image_part, json_body, multipart, multipart_body, post, request, Part, BOUNDARY,
};
use crate::XorShift;

/// The server's body limit.
const MAX_BODY: usize = huren_verifier::server::MAX_BODY_BYTES;

/// Bodies over the server's limit, declared or streamed.
pub(super) fn oversize(c: &mut Corpus) {
    let cat = "oversize";
    c.lazy(
        cat,
        "text/plain 10 MiB + 1",
        || post(Some("text/plain"), &vec![b'5'; MAX_BODY + 1]),
        Expect::Problem(413, "body_too_large"),
    );
    c.lazy(
        cat,
        "json 10 MiB + 1",
        || {
            post(
                Some("application/json"),
                &json_body("token", &"A".repeat(MAX_BODY - 11)),
            )
        },
        Expect::Problem(413, "body_too_large"),
    );
    c.lazy(
        cat,
        "no content type 12 MiB",
        || post(None, &vec![b'A'; 12 << 20]),
        Expect::Problem(413, "body_too_large"),
    );
    c.lazy(
        cat,
        "application/xml 11 MiB",
        || post(Some("application/xml"), &vec![b'<'; 11 << 20]),
        Expect::Problem(413, "body_too_large"),
    );
    c.lazy(
        cat,
        "text/plain exactly 10 MiB",
        || post(Some("text/plain"), &vec![b'5'; MAX_BODY]),
        // Accepted as a body, then far too long to be a token.
        Expect::Invalid(&["malformed"]),
    );
    c.lazy(cat, "chunked 11 MiB", || {
            let mut out = b"POST /v1/verify HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
            let chunk = vec![b'7'; 1 << 20];
            for _ in 0..11 {
                out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                out.extend_from_slice(&chunk);
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b"0\r\n\r\n");
            out
        }, Expect::Problem(413, "body_too_large"));
    c.lazy(cat, "Content-Length 10 GiB, 1 KiB sent", || {
            let mut out = b"POST /v1/verify HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 10737418240\r\n\r\n".to_vec();
            out.extend_from_slice(&[b'1'; 1024]);
            out
        }, Expect::Problem(413, "body_too_large"));
    c.lazy(
        cat,
        "multipart image 11 MiB",
        || multipart(&[image_part(&vec![0u8; 11 << 20])]),
        Expect::Problem(413, "body_too_large"),
    );
    c.lazy(cat, "multipart chunked 11 MiB", || {
            let body = multipart_body(&[image_part(&vec![0u8; 11 << 20])]);
            let mut out = format!("POST /v1/verify HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\nTransfer-Encoding: chunked\r\n\r\n").into_bytes();
            for chunk in body.chunks(1 << 20) {
                out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                out.extend_from_slice(chunk);
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b"0\r\n\r\n");
            out
        }, Expect::Problem(413, "body_too_large"));
    c.lazy(
        cat,
        "multipart 11 MiB before the image",
        || {
            let filler = vec![b'x'; 11 << 20];
            multipart(&[
                Part {
                    name: "note",
                    filename: None,
                    content_type: None,
                    data: &filler,
                },
                image_part(b"\x89PNG"),
            ])
        },
        Expect::Problem(413, "body_too_large"),
    );
}

/// A real token under every kind of content type.
pub(super) fn content_types(c: &mut Corpus, real: &Real) {
    let cat = "content_type";
    let token = real.valid[0].as_bytes();
    for (ct, expect) in [
        (
            "application/xml",
            Expect::Problem(415, "unsupported_media_type"),
        ),
        ("image/png", Expect::Problem(415, "unsupported_media_type")),
        ("text/html", Expect::Problem(415, "unsupported_media_type")),
        (
            "application/x-www-form-urlencoded",
            Expect::Problem(415, "unsupported_media_type"),
        ),
        (
            "application/octet-stream",
            Expect::Problem(415, "unsupported_media_type"),
        ),
        (
            "application/jwt",
            Expect::Problem(415, "unsupported_media_type"),
        ),
        ("*/*", Expect::Problem(415, "unsupported_media_type")),
        (";;;", Expect::Valid),
        ("text/plain; charset=iso-8859-1", Expect::Valid),
        ("  Text/Plain  ; x=y", Expect::Valid),
        ("application/json", Expect::Problem(400, "malformed_json")),
        (
            "application/json; charset=utf-16",
            Expect::Problem(400, "malformed_json"),
        ),
        ("multipart/form-data", Expect::Problem(400, "bad_multipart")),
        (
            "multipart/form-data; boundary=",
            Expect::Problem(400, "bad_multipart"),
        ),
        (
            "multipart/form-data; boundary=zzz",
            Expect::Problem(400, "bad_multipart"),
        ),
        (
            "multipart/mixed; boundary=zzz",
            Expect::Problem(415, "unsupported_media_type"),
        ),
    ] {
        c.add(
            cat,
            format!("{ct:?} with a real token"),
            post(Some(ct), token),
            expect,
        );
    }
    c.add(
        cat,
        "no content type, real token",
        post(None, token),
        Expect::Valid,
    );
    c.add(
        cat,
        "image/png with HR1 text",
        post(Some("image/png"), real.valid_qr[0].as_bytes()),
        Expect::Problem(415, "unsupported_media_type"),
    );
    c.add(
        cat,
        "application/xml document",
        post(
            Some("application/xml"),
            b"<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaa\">]><token>&a;</token>",
        ),
        Expect::Problem(415, "unsupported_media_type"),
    );
    c.add(
        cat,
        "non-ASCII content type",
        request(
            "POST",
            "/v1/verify",
            &[("Content-Type", b"text/pl\xe4in")],
            token,
        ),
        Expect::Valid,
    );
    c.add(
        cat,
        "two content types",
        request(
            "POST",
            "/v1/verify",
            &[
                ("Content-Type", b"application/xml"),
                ("Content-Type", b"text/plain"),
            ],
            token,
        ),
        // The first Content-Type decides, and application/xml is not taken.
        Expect::Problem(415, "unsupported_media_type"),
    );
    c.add(
        cat,
        "4 KiB content type",
        post(Some(&format!("text/{}", "x".repeat(4096))), token),
        Expect::Problem(415, "unsupported_media_type"),
    );
}

/// Large and many headers, and long URIs.
pub(super) fn huge_headers(c: &mut Corpus, real: &Real) {
    let cat = "huge_headers";
    let token = real.valid[0].as_bytes();
    let big = vec![b'c'; 64 * 1024];
    c.add(
        cat,
        "64 KiB X-Client-Id",
        request(
            "POST",
            "/v1/verify",
            &[("Content-Type", b"text/plain"), ("X-Client-Id", &big)],
            token,
        ),
        Expect::Valid,
    );
    c.add(
        cat,
        "64 KiB non-ASCII X-Client-Id",
        request(
            "POST",
            "/v1/verify",
            &[
                ("Content-Type", b"text/plain"),
                ("X-Client-Id", &vec![0xE4u8; 64 * 1024]),
            ],
            token,
        ),
        Expect::Valid,
    );
    c.add(
        cat,
        "X-Client-Id of multibyte UTF-8",
        request(
            "POST",
            "/v1/verify",
            &[
                ("Content-Type", b"text/plain"),
                ("X-Client-Id", "浙江".repeat(1000).as_bytes()),
            ],
            token,
        ),
        Expect::Valid,
    );
    let many: Vec<(String, Vec<u8>)> = (0..90)
        .map(|k| (format!("X-Filler-{k}"), vec![b'f'; 512]))
        .collect();
    let many_refs: Vec<(&str, &[u8])> = many
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_slice()))
        .collect();
    c.add(
        cat,
        "90 headers of 512 bytes",
        request("POST", "/v1/verify", &many_refs, token),
        Expect::Valid,
    );
    let too_many: Vec<(String, Vec<u8>)> = (0..500)
        .map(|k| (format!("X-Filler-{k}"), b"f".to_vec()))
        .collect();
    let too_many_refs: Vec<(&str, &[u8])> = too_many
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_slice()))
        .collect();
    c.add(
        cat,
        "500 headers",
        request("POST", "/v1/verify", &too_many_refs, token),
        // hyper refuses the head before any route: 431 for too many or too large headers,
        // 414 for a URI over its limit.
        Expect::Protocol(431),
    );
    c.add(
        cat,
        "1 MiB header",
        request(
            "POST",
            "/v1/verify",
            &[("X-Client-Id", &vec![b'c'; 1 << 20])],
            token,
        ),
        Expect::Protocol(431),
    );
    c.add(
        cat,
        "64 KiB URI",
        request(
            "POST",
            &format!("/v1/verify?{}", "a=b&".repeat(16 * 1024)),
            &[("Content-Type", b"text/plain")],
            token,
        ),
        Expect::Protocol(414),
    );
    c.add(
        cat,
        "8 KiB query",
        request(
            "POST",
            &format!("/v1/verify?{}", "a=b&".repeat(2 * 1024)),
            &[("Content-Type", b"text/plain")],
            token,
        ),
        Expect::Valid,
    );
}

/// Requests that are not quite HTTP, or not for this route.
pub(super) fn malformed_http(c: &mut Corpus, real: &Real) {
    let cat = "malformed_http";
    let token = real.valid[0].as_bytes();
    c.add(
        cat,
        "garbage request line",
        b"GARBAGE\r\n\r\n".to_vec(),
        // Everything hyper cannot parse as HTTP/1.x is 400 from hyper, before any route.
        Expect::Protocol(400),
    );
    c.add(
        cat,
        "binary request",
        XorShift(77).bytes(4000),
        Expect::Protocol(400),
    );
    c.add(
        cat,
        "bad method token",
        b"P@ST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".to_vec(),
        Expect::Protocol(400),
    );
    c.add(
        cat,
        "Content-Length not a number",
        b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n".to_vec(),
        Expect::Protocol(400),
    );
    c.add(
        cat,
        "negative Content-Length",
        b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n".to_vec(),
        Expect::Protocol(400),
    );
    c.add(cat, "two different Content-Lengths", b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd".to_vec(), Expect::Protocol(400));
    c.add(
        cat,
        "header without colon",
        b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nNoColonHere\r\nContent-Length: 0\r\n\r\n".to_vec(),
        Expect::Protocol(400),
    );
    c.add(
        cat,
        "NUL in a header value",
        b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nX-Client-Id: a\x00b\r\nContent-Length: 0\r\n\r\n"
            .to_vec(),
        Expect::Protocol(400),
    );
    c.add(
        cat,
        "HTTP/9.9",
        b"POST /v1/verify HTTP/9.9\r\nHost: x\r\nContent-Length: 0\r\n\r\n".to_vec(),
        Expect::Protocol(400),
    );
    c.add(cat, "bad chunk size", b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n".to_vec(), Expect::ClientBroke(400, "unreadable_body"));
    c.add(cat, "chunked and Content-Length", {
            let mut r = b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n".to_vec();
            r.extend_from_slice(format!("{:x}\r\n", token.len()).as_bytes());
            r.extend_from_slice(token);
            r.extend_from_slice(b"\r\n0\r\n\r\n");
            r
        }, Expect::Valid); // hyper gives Transfer-Encoding precedence (RFC 9112 §6.3) and closes.
    c.add(
        cat,
        "GET /v1/verify",
        request("GET", "/v1/verify", &[], b""),
        Expect::Problem(405, "method_not_allowed"),
    );
    c.add(
        cat,
        "PUT /v1/verify",
        request(
            "PUT",
            "/v1/verify",
            &[("Content-Type", b"text/plain")],
            token,
        ),
        Expect::Problem(405, "method_not_allowed"),
    );
    c.add(
        cat,
        "POST /v1/verify/",
        request(
            "POST",
            "/v1/verify/",
            &[("Content-Type", b"text/plain")],
            token,
        ),
        Expect::Problem(404, "not_found"),
    );
    c.add(
        cat,
        "GET /v1/no-such-route",
        request("GET", "/v1/no-such-route", &[], b""),
        Expect::Problem(404, "not_found"),
    );
    c.add(
        cat,
        "DELETE /v1/trust",
        request("DELETE", "/v1/trust", &[], b""),
        Expect::Problem(405, "method_not_allowed"),
    );
    c.add(
        cat,
        "fresh=maybe",
        request(
            "POST",
            "/v1/verify?fresh=maybe",
            &[("Content-Type", b"text/plain")],
            token,
        ),
        Expect::Problem(400, "bad_query"),
    );
    c.add(
        cat,
        "fresh=true (offline)",
        request(
            "POST",
            "/v1/verify?fresh=true",
            &[("Content-Type", b"text/plain")],
            token,
        ),
        Expect::Valid,
    );
    c.add(
        cat,
        "unknown query parameter",
        request(
            "POST",
            "/v1/verify?x=%ff%fe",
            &[("Content-Type", b"text/plain")],
            token,
        ),
        Expect::Valid,
    );
    c.add(
        cat,
        "HTTP/1.0 without Host",
        [
            b"POST /v1/verify HTTP/1.0\r\nContent-Type: text/plain\r\nContent-Length: ".as_slice(),
            token.len().to_string().as_bytes(),
            b"\r\n\r\n",
            token,
        ]
        .concat(),
        Expect::Valid,
    );
    c.add(cat, "bare LF line ends", [b"POST /v1/verify HTTP/1.1\nHost: x\nConnection: close\nContent-Type: text/plain\nContent-Length: ".as_slice(), token.len().to_string().as_bytes(), b"\n\n", token].concat(), Expect::Valid);
    c.add(
        cat,
        "Expect: 100-continue",
        request(
            "POST",
            "/v1/verify",
            &[("Content-Type", b"text/plain"), ("Expect", b"100-continue")],
            token,
        ),
        Expect::Valid,
    );
    c.add(
        cat,
        "Content-Length shorter than body",
        {
            let mut r = request(
                "POST",
                "/v1/verify",
                &[("Content-Type", b"text/plain")],
                &token[..10],
            );
            r.extend_from_slice(&token[10..]);
            r
        },
        // The body is the token's first ten characters (one part, no dots); the rest is
        // left on the connection as the next request.
        Expect::Invalid(&["malformed"]),
    );
}
