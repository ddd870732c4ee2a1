//! Rendering a licence for people: its `HR1:` QR text (SPEC §3.1) as a PNG or SVG QR code, and
//! a self-contained printable HTML page; the page of an annotated copy is in [`copy`].
//!
//! Rendering costs more than signing and compressing together (about 5 ms for a 1,600-character
//! text on these machines, nearly all of it in `qrcode`'s error correction and choice among the
//! eight masks), so it happens on request, never inside the issuance transaction; callers may
//! cache the output, which depends only on the arguments.
//!
//! The QR code is always at error-correction level M. The input must be `HR1:` text, i.e. the
//! prefix followed by digits only: the `qrcode` crate segments optimally, so the prefix goes
//! into a short alphanumeric segment (`H`, `R`, `1`, `:` are all in the QR alphanumeric set)
//! and the digits into numeric mode. Anything else, a bare JWS in particular, would silently
//! fall back to byte mode and a much larger code, so it is refused.
//!
//! Both image forms are drawn here from the module matrix rather than by `qrcode`'s own
//! renderers: the PNG buffer is filled a module row at a time (one row of pixels, then copied),
//! and the SVG merges horizontal runs of dark modules into one sub-path each, which makes it
//! less than half the size of `qrcode`'s one rectangle per module (37 KB against 84 KB for a
//! version-21 code) and lets it go inline into HTML without an XML declaration.
//!
//! The HTML page contains no scripts, no external URLs and a restrictive Content Security
//! Policy; every text taken from the licence is escaped with [`escape_html`]. The holder's
//! identifier is masked with [`mask_identifier`].

mod copy;

use std::collections::BTreeSet;
use std::fmt::Write as _;

use huren_crypto::ids::mask_identifier;
use huren_crypto::licence::LicenceClaims;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ExtendedColorType, ImageEncoder};
use qrcode::types::QrError;
use qrcode::{Color, EcLevel, QrCode};

pub use self::copy::{copy_html, purpose_band, CopyHtml, NOT_SHOWN, PAGE_CSP};

/// The prefix every rendered QR text starts with (SPEC §3.1).
pub const QR_PREFIX: &str = huren_crypto::qr::PREFIX;
/// Width of the light border around the code, in modules (ISO/IEC 18004 asks for 4).
pub const QUIET_ZONE_MODULES: u32 = 4;
/// Smallest pixel size of one module in a PNG; smaller requests are raised to it.
pub const MIN_MODULE_PX: u32 = 1;
/// Largest pixel size of one module in a PNG; larger requests are lowered to it. At 20 px a
/// version-40 code is 3,700 px square (13.7 MB of greyscale before compression).
pub const MAX_MODULE_PX: u32 = 20;
/// Most characters any QR code can hold (version 40, level L, numeric). Longer texts are refused
/// before the encoder sees them; the exact limit at level M (about 5,580 digits after the
/// prefix) is the encoder's to decide.
const MAX_ENCODABLE_CHARS: usize = 7089;

/// Why a QR code could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The text does not fit a QR code at level M (version 40 holds about 5,580 digits after the
    /// `HR1:` prefix, i.e. a token of about 2,790 characters).
    #[error("QR text of {len} characters is too long for a QR code at error-correction level M")]
    TooLong {
        /// Length of the text in bytes (= characters, as it is ASCII).
        len: usize,
    },
    /// The text is not `HR1:` followed by digits.
    #[error("not HR1 QR text: {reason}")]
    NotQrText {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The QR encoder refused the text for another reason (not expected for valid `HR1:` text).
    #[error("QR encoding failed: {0}")]
    Encode(#[source] QrError),
    /// Writing the PNG failed.
    #[error("PNG encoding failed: {0}")]
    Png(#[source] image::ImageError),
}

/// Encodes `qr_text` at level M after checking it is `HR1:` digits.
fn encode(qr_text: &str) -> Result<QrCode, RenderError> {
    let len = qr_text.len();
    let digits = qr_text
        .strip_prefix(QR_PREFIX)
        .ok_or(RenderError::NotQrText {
            reason: "it does not start with \"HR1:\"",
        })?;
    if digits.is_empty() {
        return Err(RenderError::NotQrText {
            reason: "there is nothing after the prefix",
        });
    }
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RenderError::NotQrText {
            reason: "the text after the prefix is not all digits",
        });
    }
    if len > MAX_ENCODABLE_CHARS {
        return Err(RenderError::TooLong { len });
    }
    QrCode::with_error_correction_level(qr_text, EcLevel::M).map_err(|e| match e {
        QrError::DataTooLong => RenderError::TooLong { len },
        other => RenderError::Encode(other),
    })
}

/// The QR code of `qr_text` (`HR1:` text, SPEC §3.1) at error-correction level M, as PNG bytes:
/// 8-bit greyscale, black modules on white, with a quiet zone of [`QUIET_ZONE_MODULES`] modules
/// on every side. `module_px` is the size of one module in pixels, clamped to
/// [`MIN_MODULE_PX`]`..=`[`MAX_MODULE_PX`].
///
/// Errors: [`RenderError::NotQrText`] for anything but `HR1:` and digits,
/// [`RenderError::TooLong`] when the text exceeds the capacity of a version-40 code at level M.
pub fn qr_png(qr_text: &str, module_px: u32) -> Result<Vec<u8>, RenderError> {
    let code = encode(qr_text)?;
    let module_px = module_px.clamp(MIN_MODULE_PX, MAX_MODULE_PX) as usize;
    let modules = code.width();
    let quiet = QUIET_ZONE_MODULES as usize;
    let side = (modules + 2 * quiet) * module_px;
    let mut pixels = vec![u8::MAX; side * side];
    let colors = code.to_colors();
    for (y, row_modules) in colors.chunks_exact(modules).enumerate() {
        let first_row = (quiet + y) * module_px * side;
        let row = &mut pixels[first_row..first_row + side];
        for (x, color) in row_modules.iter().enumerate() {
            if *color == Color::Dark {
                let left = (quiet + x) * module_px;
                row[left..left + module_px].fill(0);
            }
        }
        for copy in 1..module_px {
            pixels.copy_within(first_row..first_row + side, first_row + copy * side);
        }
    }
    // The largest side is (177 + 8) × 20 = 3,700 px, far inside u32.
    let side_u32 = u32::try_from(side).map_err(|_| RenderError::TooLong { len: qr_text.len() })?;
    let mut png = Vec::with_capacity(side * side / 32 + 1024);
    // Measured on a version-21 code (1,600-char text): fast compression with adaptive
    // filtering gives 10 KB in 0.08 ms at 4 px per module (42 KB, 0.8 ms at 20 px); default
    // compression saves half the bytes at 25 times the time, and a fixed Sub filter is 3 times
    // larger. Adaptive picks Up for the repeated rows of a module, which then cost nothing.
    PngEncoder::new_with_quality(&mut png, CompressionType::Fast, FilterType::Adaptive)
        .write_image(&pixels, side_u32, side_u32, ExtendedColorType::L8)
        .map_err(RenderError::Png)?;
    Ok(png)
}

/// The QR code of `qr_text` (`HR1:` text, SPEC §3.1) at error-correction level M as a
/// standalone SVG document: one `<svg>` element with a white background (quiet zone of
/// [`QUIET_ZONE_MODULES`] modules included) and one black path, one user unit per module. It
/// references nothing outside itself; the SVG namespace is its only URL.
///
/// The `width`/`height` attributes give 4 px per module; CSS may scale it freely (the
/// `viewBox` keeps the proportions and `shape-rendering="crispEdges"` keeps edges sharp).
///
/// Errors as for [`qr_png`], except that no PNG is written.
pub fn qr_svg(qr_text: &str) -> Result<String, RenderError> {
    Ok(svg_of(&encode(qr_text)?))
}

fn svg_of(code: &QrCode) -> String {
    let modules = code.width();
    let quiet = QUIET_ZONE_MODULES as usize;
    let side = modules + 2 * quiet;
    let colors = code.to_colors();
    let dark = colors.iter().filter(|c| **c == Color::Dark).count();
    let mut svg = String::with_capacity(300 + dark * 8);
    // Writing to a String cannot fail; the results are ignored rather than unwrapped.
    let _ = write!(
        svg,
        concat!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{px}" height="{px}""#,
            r#" viewBox="0 0 {side} {side}" shape-rendering="crispEdges" role="img""#,
            r#" aria-label="二维码">"#,
            r##"<rect width="{side}" height="{side}" fill="#fff"/><path fill="#000" d=""##,
        ),
        px = side * 4,
        side = side,
    );
    for (y, row) in colors.chunks_exact(modules).enumerate() {
        let mut x = 0;
        while x < modules {
            if row[x] != Color::Dark {
                x += 1;
                continue;
            }
            let start = x;
            while x < modules && row[x] == Color::Dark {
                x += 1;
            }
            let _ = write!(
                svg,
                "M{} {}h{}v1h-{}z",
                start + quiet,
                y + quiet,
                x - start,
                x - start
            );
        }
    }
    svg.push_str(r#""/></svg>"#);
    svg
}

/// Escapes text for HTML element content and quoted attribute values: `&`, `<`, `>`, `"` and
/// `'` become character references; everything else is kept.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// What [`licence_html`] shows.
#[derive(Debug, Clone, Copy)]
pub struct LicenceHtml<'a> {
    /// The licence's claims (as signed).
    pub claims: &'a LicenceClaims,
    /// Its `HR1:` QR text (SPEC §3.1), shown as the QR code.
    pub qr_text: &'a str,
    /// Display labels of face fields, `(key, label)`, in display order (e.g. from the licence
    /// type catalogue). Face fields without a label follow, in key order, labelled by their key.
    pub face_labels: &'a [(String, String)],
    /// Name of the issuing province (e.g. `浙江省`).
    pub province_name: &'a str,
    /// Current status to print prominently (e.g. `有效`, `已撤销`), if known.
    pub status_text: Option<&'a str>,
}

const PAGE_STYLE: &str = "\
*{box-sizing:border-box}\
body{margin:0;background:#f3f3f3;color:#111;font-family:\"Noto Serif CJK SC\",\"Source Han Serif SC\",\"SimSun\",serif}\
main{max-width:210mm;margin:8mm auto;padding:12mm 14mm;background:#fff;border:1px solid #bbb}\
h1{margin:0 0 2mm;text-align:center;font-size:24pt;letter-spacing:.2em}\
.number{margin:0 0 6mm;text-align:center;font-size:12pt}\
.status{margin:0 0 6mm;padding:2mm;border:2px solid #111;text-align:center;font-size:14pt;font-weight:bold}\
.content{display:flex;gap:8mm;align-items:flex-start}\
table{flex:1;border-collapse:collapse;font-size:11pt}\
th,td{padding:1.6mm 2mm;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}\
th{width:8em;white-space:nowrap;font-weight:normal;color:#444}\
td{word-break:break-all}\
.mono{font-family:ui-monospace,\"DejaVu Sans Mono\",monospace;font-size:9pt}\
figure{margin:0;width:50mm;text-align:center;font-size:9pt;color:#444}\
figure svg{display:block;width:50mm;height:50mm}\
@page{size:A4;margin:10mm}\
@media print{body{background:#fff}main{margin:0;border:none;max-width:none}}\
@media (max-width:600px){.content{flex-direction:column}figure{width:100%}figure svg{width:100%;height:auto}}";

/// A self-contained printable HTML page for a licence: inline CSS, the QR code as inline SVG,
/// no scripts and no external URLs (a `<meta>` Content Security Policy forbids loading
/// anything). It shows the licence type name, number, holder name, the holder identifier
/// masked with [`mask_identifier`] and its type, the issuing authority, issue date, validity
/// (`长期` when open-ended), the face fields under their labels, the 证照标识 (`jti`), the
/// issuing province and, when given, the status. Every text is escaped with [`escape_html`].
///
/// If the QR text cannot be rendered (not `HR1:` text, or too long), the page says so in
/// place of the code rather than failing: the rest of the page is still useful to a clerk.
pub fn licence_html(view: &LicenceHtml<'_>) -> String {
    let licence = &view.claims.licence;
    let e = escape_html;
    let mut html = String::with_capacity(64 * 1024);

    let _ = write!(
        html,
        concat!(
            "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n",
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; ",
            "style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'\">\n",
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
            "<meta name=\"referrer\" content=\"no-referrer\">\n",
            "<title>{type_name} {number}</title>\n<style>{style}</style>\n</head>\n<body>\n<main>\n",
            "<h1>{type_name}</h1>\n<p class=\"number\">证照编号：{number}</p>\n",
        ),
        type_name = e(&licence.type_name),
        number = e(&licence.number),
        style = PAGE_STYLE,
    );
    if let Some(status) = view.status_text {
        let _ = writeln!(html, "<p class=\"status\">证照状态：{}</p>", e(status));
    }
    html.push_str("<div class=\"content\">\n<table>\n");

    let mut row = |label: &str, value: &str, class: Option<&str>| {
        let class = class.map(|c| format!(" class=\"{c}\"")).unwrap_or_default();
        let _ = writeln!(
            html,
            "<tr><th>{}</th><td{class}>{}</td></tr>",
            e(label),
            e(value)
        );
    };
    let holder = &licence.holder;
    row("持证主体", &holder.name, None);
    row(
        "持证主体代码",
        &format!(
            "{}（{}）",
            mask_identifier(&holder.id),
            holder.id_type.label_zh()
        ),
        Some("mono"),
    );
    let mut shown = BTreeSet::new();
    for (key, label) in view.face_labels {
        if let Some(value) = licence.face.get(key) {
            if shown.insert(key.as_str()) {
                row(label, value, None);
            }
        }
    }
    for (key, value) in &licence.face {
        if !shown.contains(key.as_str()) {
            row(key, value, None);
        }
    }
    row("颁发机构", &licence.issuer.name, None);
    row("颁证日期", &licence.issued_on.to_string(), None);
    let until = licence
        .valid_until
        .map_or_else(|| "长期".to_owned(), |d| d.to_string());
    row(
        "有效期限",
        &format!("{} 至 {until}", licence.valid_from),
        None,
    );
    row("签发省份", view.province_name, None);
    row("证照标识", &view.claims.jti.to_string(), Some("mono"));

    html.push_str("</table>\n");
    push_qr_figure(&mut html, view.qr_text, "扫码核验");
    html.push_str("</div>\n</main>\n</body>\n</html>\n");
    html
}

/// The page's QR code as an inline SVG figure with `caption`, or the reason it cannot be made.
fn push_qr_figure(html: &mut String, qr_text: &str, caption: &str) {
    html.push_str("<figure>");
    match encode(qr_text) {
        Ok(code) => {
            html.push_str(&svg_of(&code));
            let _ = write!(html, "<figcaption>{}</figcaption>", escape_html(caption));
        }
        Err(err) => {
            let _ = write!(
                html,
                "<figcaption>二维码无法生成：{}</figcaption>",
                escape_html(&err.to_string())
            );
        }
    }
    html.push_str("</figure>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use huren_crypto::licence::LicenceClaims;
    use std::process::Command;

    const JTI: &str = "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F";
    const HOLDER_ID: &str = "91330100MA27B3C8DA";

    fn sample_claims() -> LicenceClaims {
        serde_json::from_value(serde_json::json!({
            "iss": "330000",
            "jti": JTI,
            "iat": 1_795_000_000,
            "nbf": 1_795_000_000,
            "exp": 1_952_000_000,
            "licence": {
                "type_code": "11100000000013338W032",
                "type_name": "建筑业企业资质证书",
                "number": "D233012345",
                "holder": {"name": "杭州示例建设有限公司", "id_type": "001", "id": HOLDER_ID},
                "issuer": {"name": "浙江省住房和城乡建设厅", "code": "11330105002500287C"},
                "issued_on": "2026-11-22",
                "valid_from": "2026-11-22",
                "valid_until": "2031-11-21",
                "face": {
                    "qualification": "建筑工程施工总承包壹级",
                    "legal_representative": "张三",
                    "address": "浙江省杭州市西湖区示例路1号"
                }
            },
            "status": {"status_list": {"idx": 4711, "uri": "https://issuer.example/v1/status/330000-0"}}
        }))
        .unwrap()
    }

    /// A token-shaped string of exactly `chars` JWS characters (header, claims, signature), as
    /// `HR1:` text of `2 * chars` digits.
    fn hr1_text(chars: usize) -> String {
        let header = huren_crypto::b64::encode_url(
            br#"{"alg":"ES256","typ":"licence+jwt","x5t#S256":"q3Wm0bYkQm7uFJrY5oKq0n8dUxWm2R8pQ5bW5mJ1x0A","zip":"DEF"}"#,
        );
        let claims = serde_json::to_vec(&sample_claims()).unwrap();
        let mut token = format!("{header}.{}", huren_crypto::b64::encode_url(&claims));
        while token.len() < chars {
            token.push_str(&huren_crypto::b64::encode_url(&claims));
        }
        token.truncate(chars - 87);
        token.push('.');
        token.push_str(&"Ab-_9z".repeat(15)[..86]);
        assert_eq!(token.len(), chars);
        huren_crypto::qr::encode(&token).unwrap()
    }

    fn decode_png_with_rqrr(png: &[u8]) -> Vec<String> {
        let img = image::load_from_memory(png).unwrap().to_luma8();
        let mut prepared = rqrr::PreparedImage::prepare(img);
        prepared
            .detect_grids()
            .into_iter()
            .map(|grid| grid.decode().unwrap().1)
            .collect()
    }

    fn version_of(text: &str) -> i16 {
        match QrCode::with_error_correction_level(text, EcLevel::M)
            .unwrap()
            .version()
        {
            qrcode::Version::Normal(v) => v,
            qrcode::Version::Micro(v) => panic!("micro QR version {v}"),
        }
    }

    #[test]
    fn png_decodes_to_exactly_the_input_text() {
        let text = hr1_text(600);
        assert_eq!(text.len(), 4 + 1200);
        let png = qr_png(&text, 4).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(decode_png_with_rqrr(&png), [text]);
    }

    #[test]
    fn png_has_the_quiet_zone_and_clamped_module_size() {
        let text = hr1_text(100);
        let modules = QrCode::with_error_correction_level(&text, EcLevel::M)
            .unwrap()
            .width() as u32;
        for (asked, used) in [(0, 1), (1, 1), (3, 3), (20, 20), (500, 20)] {
            let img = image::load_from_memory(&qr_png(&text, asked).unwrap())
                .unwrap()
                .to_luma8();
            let side = (modules + 2 * QUIET_ZONE_MODULES) * used;
            assert_eq!(img.dimensions(), (side, side), "module_px {asked}");
            let border = QUIET_ZONE_MODULES * used;
            for (x, y, pixel) in img.enumerate_pixels() {
                let inside =
                    (border..side - border).contains(&x) && (border..side - border).contains(&y);
                assert!(
                    inside || pixel.0 == [255],
                    "dark pixel in quiet zone at {x},{y}"
                );
            }
            // The top-left finder pattern starts right after the quiet zone.
            assert_eq!(img.get_pixel(border, border).0, [0]);
        }
        assert_eq!(decode_png_with_rqrr(&qr_png(&text, 2).unwrap()), [text]);
    }

    #[test]
    fn the_prefix_does_not_force_byte_mode() {
        for digits in [20, 200, 600, 1200, 1600, 2400, 3200, 4000, 5000, 5500] {
            let hr1 = format!("HR1:{}", "7".repeat(digits));
            let pure = "7".repeat(digits + 4);
            let (v_hr1, v_pure) = (version_of(&hr1), version_of(&pure));
            assert!(
                v_hr1 <= v_pure + 1,
                "{digits} digits: HR1 text needs version {v_hr1}, pure digits {v_pure}"
            );
        }
        // Byte mode for comparison (lower-case letters have no other mode): a realistic
        // 1,204-character HR1 text needs version 17, the same length in bytes version 29.
        let hr1 = hr1_text(600);
        assert_eq!(version_of(&hr1), 17);
        assert_eq!(version_of(&"a".repeat(hr1.len())), 29);
    }

    #[test]
    fn oversize_and_malformed_input_is_an_error_not_a_panic() {
        let capacity_m = 5596; // digits in a version-40 code at level M
        for digits in [capacity_m, capacity_m + 1, 7089, 7090, 100_000] {
            let text = format!("HR1:{}", "1".repeat(digits));
            match qr_png(&text, 4) {
                Err(RenderError::TooLong { len }) => assert_eq!(len, text.len()),
                other => panic!("{digits} digits: {other:?}"),
            }
            assert!(matches!(qr_svg(&text), Err(RenderError::TooLong { .. })));
        }
        // The largest text that fits renders (version 40).
        let mut fits = 0;
        for digits in (5500..capacity_m).rev() {
            if qr_svg(&format!("HR1:{}", "1".repeat(digits))).is_ok() {
                fits = digits;
                break;
            }
        }
        assert!(fits > 5500, "nothing near capacity fits");
        assert_eq!(version_of(&format!("HR1:{}", "1".repeat(fits))), 40);

        for bad in [
            "",
            "HR1:",
            "eyJhbGciOiJFUzI1NiJ9.e30.c2ln",
            "hr1:1234",
            "HR1:12 34",
            "HR1:１２",
        ] {
            assert!(
                matches!(qr_png(bad, 4), Err(RenderError::NotQrText { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn svg_is_standalone_and_references_nothing() {
        let text = hr1_text(600);
        let svg = qr_svg(&text).unwrap();
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.ends_with("</svg>"));
        assert_eq!(svg.matches("http").count(), 1, "only the namespace URL");
        for forbidden in [
            "href",
            "url(",
            "<image",
            "<script",
            "<use",
            "<foreignObject",
            "@import",
        ] {
            assert!(!svg.contains(forbidden), "{forbidden}");
        }
        let code = QrCode::with_error_correction_level(&text, EcLevel::M).unwrap();
        let side = code.width() + 2 * QUIET_ZONE_MODULES as usize;
        assert!(svg.contains(&format!("viewBox=\"0 0 {side} {side}\"")));
        // Every dark module is covered exactly once by the runs.
        let dark = code
            .to_colors()
            .iter()
            .filter(|c| **c == Color::Dark)
            .count();
        let path = svg.split(" d=\"").nth(1).unwrap();
        let covered: usize = path
            .split('M')
            .skip(1)
            .map(|cmd| {
                let run = cmd.split('h').nth(1).unwrap();
                run.split('v').next().unwrap().parse::<usize>().unwrap()
            })
            .sum();
        assert_eq!(covered, dark);
    }

    #[test]
    fn escape_html_neutralises_markup_and_quotes() {
        assert_eq!(
            escape_html(r#"<script>alert("x&y")</script>'"#),
            "&lt;script&gt;alert(&quot;x&amp;y&quot;)&lt;/script&gt;&#39;"
        );
        assert_eq!(escape_html("浙江省 A-1"), "浙江省 A-1");
        assert_eq!(escape_html("&amp;"), "&amp;amp;");
        assert_eq!(escape_html(""), "");
    }

    #[test]
    fn html_shows_the_licence_with_the_id_masked() {
        let claims = sample_claims();
        let text = hr1_text(600);
        let labels = vec![
            ("legal_representative".to_owned(), "法定代表人".to_owned()),
            ("qualification".to_owned(), "资质类别及等级".to_owned()),
            ("not_on_this_licence".to_owned(), "不存在".to_owned()),
        ];
        let html = licence_html(&LicenceHtml {
            claims: &claims,
            qr_text: &text,
            face_labels: &labels,
            province_name: "浙江省",
            status_text: Some("有效"),
        });
        for expected in [
            "<title>建筑业企业资质证书 D233012345</title>",
            "建筑业企业资质证书",
            "D233012345",
            "杭州示例建设有限公司",
            &mask_identifier(HOLDER_ID),
            "统一社会信用代码",
            "浙江省住房和城乡建设厅",
            "2026-11-22",
            "2026-11-22 至 2031-11-21",
            "<th>法定代表人</th><td>张三</td>",
            "<th>资质类别及等级</th><td>建筑工程施工总承包壹级</td>",
            "<th>address</th><td>浙江省杭州市西湖区示例路1号</td>",
            "<th>签发省份</th><td>浙江省</td>",
            JTI,
            "证照状态：有效",
            "<svg xmlns=",
        ] {
            assert!(html.contains(expected), "missing {expected:?}");
        }
        assert_eq!(mask_identifier(HOLDER_ID), "9133**********C8DA");
        assert!(!html.contains(HOLDER_ID), "full holder id leaked");
        assert!(!html.contains("不存在"), "label of an absent field shown");
        // Labelled fields come in label order, unlabelled ones after them.
        let pos = |s: &str| html.find(s).unwrap();
        assert!(pos("法定代表人") < pos("资质类别及等级"));
        assert!(pos("资质类别及等级") < pos("<th>address</th>"));
        // Self-contained: no scripts, nothing loaded, the SVG namespace the only URL.
        for forbidden in [
            "<script", "src=", "href=", "url(", "@import", "<link", "<iframe",
        ] {
            assert!(!html.contains(forbidden), "{forbidden}");
        }
        assert_eq!(html.matches("://").count(), 1);
        assert!(html.contains("xmlns=\"http://www.w3.org/2000/svg\""));
        // The QR code in the page is the same as qr_svg's.
        assert!(html.contains(&qr_svg(&text).unwrap()));
    }

    #[test]
    fn html_escapes_hostile_values_and_prints_long_term_validity() {
        let mut claims = sample_claims();
        let hostile = r#"<script>alert('x')</script>"&"#;
        let escaped = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;&amp;";
        claims.licence.type_name = hostile.to_owned();
        claims.licence.number = hostile.to_owned();
        claims.licence.holder.name = hostile.to_owned();
        claims.licence.issuer.name = hostile.to_owned();
        claims.licence.valid_until = None;
        claims
            .licence
            .face
            .insert(hostile.to_owned(), hostile.to_owned());
        let labels = vec![("qualification".to_owned(), format!("<b>{hostile}</b>"))];
        let html = licence_html(&LicenceHtml {
            claims: &claims,
            qr_text: "HR1:0001",
            face_labels: &labels,
            province_name: hostile,
            status_text: Some(hostile),
        });
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<b>"));
        assert!(!html.contains("alert('x')"));
        // type name ×2 (title, h1), number ×2, holder, issuer, face key, face value, province,
        // status, and the label.
        assert_eq!(html.matches(escaped).count(), 11);
        assert!(html.contains("2026-11-22 至 长期"));
    }

    #[test]
    fn html_survives_qr_text_that_cannot_be_rendered() {
        let claims = sample_claims();
        let too_long = format!("HR1:{}", "1".repeat(8000));
        let html = licence_html(&LicenceHtml {
            claims: &claims,
            qr_text: &too_long,
            face_labels: &[],
            province_name: "浙江省",
            status_text: None,
        });
        assert!(html.contains("二维码无法生成"));
        assert!(!html.contains("<svg"));
        assert!(!html.contains("证照状态"));
        assert!(html.contains("<th>qualification</th>"));
    }

    /// Decodes the PNG with ZBar's `zbarimg` (an independent decoder). Without `zbarimg` the
    /// test is recorded as skipped, which `cargo test` reports at the end and `CI` fails.
    #[test]
    fn png_decodes_with_zbarimg() {
        let present = Command::new("zbarimg").arg("--version").output().is_ok();
        if !present {
            skips::skipped("zbarimg not found (apt-get install zbar-tools)");
            return;
        }
        let text = hr1_text(600);
        let path = std::env::temp_dir().join(format!(
            "huren-render-zbar-{}-{:?}.png",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::write(&path, qr_png(&text, 4).unwrap()).unwrap();
        let output = Command::new("zbarimg")
            .args(["--quiet", "--raw", "-Sdisable", "-Sqrcode.enable"])
            .arg(&path)
            .output();
        let _ = std::fs::remove_file(&path);
        let output = output.unwrap();
        assert!(output.status.success(), "zbarimg failed: {output:?}");
        let decoded = String::from_utf8(output.stdout).unwrap();
        assert_eq!(decoded.trim_end_matches(['\r', '\n']), text);
    }
}
