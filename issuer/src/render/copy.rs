//! The printable page of an annotated copy (加注件, SPEC §11): the disclosed fields, every field
//! not disclosed shown as «未出示» (never as an empty row, never with its value), the purpose
//! band both as a heading and as a diagonal watermark repeated across the page, and the QR code
//! as inline SVG. Like the licence page: no scripts, no external URLs, a Content Security
//! Policy that forbids loading anything, and every text escaped.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use huren_crypto::copy::CopyClaims;
use huren_crypto::ids::mask_identifier;
use huren_crypto::time::UnixTime;

use super::{escape_html, push_qr_figure};

/// What a field not disclosed shows.
pub const NOT_SHOWN: &str = "未出示";

/// The Content Security Policy of the printable pages: inline styles, nothing else.
pub const PAGE_CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

/// How many times the watermark repeats the band (enough to cover an A4 page, rotated).
const WATERMARK_REPEATS: usize = 36;

const COPY_STYLE: &str = "\
*{box-sizing:border-box}\
body{margin:0;background:#f3f3f3;color:#111;font-family:\"Noto Serif CJK SC\",\"Source Han Serif SC\",\"SimSun\",serif}\
main{position:relative;max-width:210mm;margin:8mm auto;padding:12mm 14mm;background:#fff;border:1px solid #bbb;overflow:hidden}\
h1{margin:0 0 2mm;text-align:center;font-size:22pt;letter-spacing:.2em}\
.band{margin:0 0 6mm;padding:2mm;border:2px solid #a00;color:#a00;text-align:center;font-size:12pt;font-weight:bold}\
.status{margin:0 0 6mm;padding:2mm;border:2px solid #111;text-align:center;font-size:14pt;font-weight:bold}\
.content{display:flex;gap:8mm;align-items:flex-start}\
table{flex:1;border-collapse:collapse;font-size:11pt}\
th,td{padding:1.6mm 2mm;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}\
th{width:8em;white-space:nowrap;font-weight:normal;color:#444}\
td{word-break:break-all}\
.withheld{color:#888;letter-spacing:.1em}\
.mono{font-family:ui-monospace,\"DejaVu Sans Mono\",monospace;font-size:9pt}\
figure{margin:0;width:50mm;text-align:center;font-size:9pt;color:#444}\
figure svg{display:block;width:50mm;height:50mm}\
.watermark{position:absolute;top:-60%;left:-60%;width:220%;height:220%;transform:rotate(-30deg);\
pointer-events:none;user-select:none;z-index:2;color:#a00;opacity:.09;font-size:13pt;line-height:3.2;\
display:flex;flex-wrap:wrap;gap:0 10mm;align-content:flex-start}\
.watermark span{white-space:nowrap}\
@page{size:A4;margin:10mm}\
@media print{body{background:#fff}main{margin:0;border:none;max-width:none}\
.watermark{-webkit-print-color-adjust:exact;print-color-adjust:exact}}\
@media (max-width:600px){.content{flex-direction:column}figure{width:100%}figure svg{width:100%;height:auto}}";

/// What [`copy_html`] shows.
#[derive(Debug, Clone, Copy)]
pub struct CopyHtml<'a> {
    /// The copy's claims (as signed).
    pub claims: &'a CopyClaims,
    /// Its `HR1:` text, shown as the QR code.
    pub qr_text: &'a str,
    /// `(key, label)` of the type's face fields, in display order.
    pub face_labels: &'a [(String, String)],
    /// The issuing province's name.
    pub province_name: &'a str,
    /// A status to print prominently (withdrawn, or the licence revoked or suspended).
    pub status_text: Option<&'a str>,
}

/// `YYYY-MM-DD HH:MM` in China time.
fn china_minute(at: i64) -> String {
    UnixTime(at).to_china_datetime().map_or_else(
        || at.to_string(),
        |t| {
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute()
            )
        },
    )
}

/// The purpose band (unescaped), worded as the clerk's page words it: «加注件 · 仅用于{cause}
/// （{item_name}） · 用证单位 {aud.name} · 有效期至 {YYYY-MM-DD HH:MM}» — the cause as the
/// holder gave it (SPEC §11's example reads 办理…); «亮证码» after 加注件 for an on-screen code;
/// without a service item no parenthesis; without an audience the unit reads 任意窗口.
pub fn purpose_band(claims: &CopyClaims) -> String {
    let mut parts = vec!["加注件".to_owned()];
    if claims.is_on_screen() {
        parts.push("亮证码".to_owned());
    }
    let item = claims
        .purpose
        .item_name
        .as_ref()
        .map_or_else(String::new, |name| format!("（{name}）"));
    parts.push(format!("仅用于{}{item}", claims.purpose.cause));
    let unit = claims
        .aud
        .as_ref()
        .map_or("任意窗口", |aud| aud.name.as_str());
    parts.push(format!("用证单位 {unit}"));
    parts.push(format!("有效期至 {}", china_minute(claims.exp)));
    parts.join(" · ")
}

/// The printable page of a copy (see the module doc).
pub fn copy_html(view: &CopyHtml<'_>) -> String {
    let claims = view.claims;
    let licence = &claims.licence;
    let e = escape_html;
    let band = e(&purpose_band(claims));
    let mut html = String::with_capacity(64 * 1024);
    let _ = write!(
        html,
        concat!(
            "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n",
            "<meta http-equiv=\"Content-Security-Policy\" content=\"{csp}\">\n",
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
            "<meta name=\"referrer\" content=\"no-referrer\">\n",
            "<title>{type_name}（加注件）</title>\n<style>{style}</style>\n</head>\n<body>\n<main>\n",
            "<div class=\"watermark\" aria-hidden=\"true\">",
        ),
        csp = PAGE_CSP,
        type_name = e(&licence.type_name),
        style = COPY_STYLE,
    );
    for _ in 0..WATERMARK_REPEATS {
        let _ = write!(html, "<span>{band}</span>");
    }
    let _ = write!(
        html,
        "</div>\n<h1>{}</h1>\n<p class=\"band\">{band}</p>\n",
        e(&licence.type_name)
    );
    if let Some(status) = view.status_text {
        let _ = writeln!(html, "<p class=\"status\">状态：{}</p>", e(status));
    }
    html.push_str("<div class=\"content\">\n<table>\n");

    let mut row = |label: &str, value: Option<&str>, class: Option<&str>| {
        let (value, class) = match value {
            Some(value) => (e(value), class),
            None => (NOT_SHOWN.to_owned(), Some("withheld")),
        };
        let class = class.map(|c| format!(" class=\"{c}\"")).unwrap_or_default();
        let _ = writeln!(
            html,
            "<tr><th>{}</th><td{class}>{value}</td></tr>",
            e(label)
        );
    };
    row("证照编号", licence.number.as_deref(), None);
    let holder = &licence.holder;
    row("持证主体", holder.name.as_deref(), None);
    let id_text = match (&holder.id, holder.id_type) {
        (Some(id), Some(t)) => Some(format!("{}（{}）", mask_identifier(id), t.label_zh())),
        (None, Some(t)) => Some(format!("{NOT_SHOWN}（{}）", t.label_zh())),
        _ => None,
    };
    row("持证主体代码", id_text.as_deref(), Some("mono"));
    let mut shown = BTreeSet::new();
    for (key, label) in view.face_labels {
        if shown.insert(key.as_str()) {
            row(label, licence.face.get(key).map(String::as_str), None);
        }
    }
    for (key, value) in &licence.face {
        if !shown.contains(key.as_str()) {
            row(key, Some(value), None);
        }
    }
    row("颁发机构", Some(&licence.issuer.name), None);
    let until = licence
        .valid_until
        .map_or_else(|| "长期".to_owned(), |d| d.to_string());
    let validity = format!("{} 至 {until}", licence.valid_from);
    row("证照有效期限", Some(&validity), None);
    row("签发省份", Some(view.province_name), None);
    row("证照标识", Some(claims.copy_of.as_str()), Some("mono"));
    row("用证事由", Some(&claims.purpose.cause), None);
    if let (Some(name), Some(code)) = (&claims.purpose.item_name, &claims.purpose.item_code) {
        row("办理事项", Some(&format!("{name}（{code}）")), None);
    }
    let unit = claims.aud.as_ref().map_or_else(
        || "任意窗口".to_owned(),
        |a| format!("{}（{}）", a.name, a.code),
    );
    row("用证单位", Some(&unit), None);
    row("制作者", Some(&claims.copier.name), None);
    row("制作时间", Some(&china_minute(claims.iat)), None);
    row("加注件有效期至", Some(&china_minute(claims.exp)), None);
    row("加注件编号", Some(claims.jti.as_str()), Some("mono"));

    html.push_str("</table>\n");
    push_qr_figure(&mut html, view.qr_text, "扫码核验（加注件）");
    html.push_str("</div>\n</main>\n</body>\n</html>\n");
    html
}
