//! `multipart/form-data` bodies (RFC 7578) for the services' upload routes: a photo of a QR
//! code (`image`), a document and its seal signature.

/// The boundary of every body made here.
pub const BOUNDARY: &str = "hurenHostileBoundary7MA4YWxkTrZu0gW";

/// One form field.
pub struct Part<'a> {
    pub name: &'a str,
    pub filename: Option<&'a str>,
    pub content_type: Option<&'a str>,
    pub data: &'a [u8],
}

impl<'a> Part<'a> {
    /// A file field `name` called `filename`, sent as `application/octet-stream`.
    pub fn file(name: &'a str, filename: &'a str, data: &'a [u8]) -> Part<'a> {
        Part {
            name,
            filename: Some(filename),
            content_type: Some("application/octet-stream"),
            data,
        }
    }
}

/// The `image` field of `POST /v1/verify`: a PNG photo.
pub fn image(data: &[u8]) -> Part<'_> {
    Part {
        name: "image",
        filename: Some("photo.png"),
        content_type: Some("image/png"),
        data,
    }
}

/// The body: `parts` between [`BOUNDARY`] lines, then the closing boundary.
pub fn body(parts: &[Part<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for part in parts {
        out.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        let mut disposition = format!("Content-Disposition: form-data; name=\"{}\"", part.name);
        if let Some(f) = part.filename {
            disposition.push_str(&format!("; filename=\"{f}\""));
        }
        out.extend_from_slice(disposition.as_bytes());
        out.extend_from_slice(b"\r\n");
        if let Some(ct) = part.content_type {
            out.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(part.data);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    out
}

/// The `Content-Type` of a body made by [`body`].
pub fn content_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}
