//! The seal picture's sanitiser: a PNG must decode within bounds; an SVG must pass a small
//! tokenizer that refuses anything that could run code or call home when a verifier or a
//! clerk's page displays it.

/// Largest picture side in pixels accepted from a PNG.
const MAX_IMAGE_SIDE_PIXELS: u32 = 8192;

/// A PNG that decodes, within bounds on its size in pixels and memory.
pub(super) fn check_png(data: &[u8]) -> Result<(), String> {
    if !data.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Err("is not a PNG image (wrong signature)".into());
    }
    let mut reader =
        image::ImageReader::with_format(std::io::Cursor::new(data), image::ImageFormat::Png);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE_PIXELS);
    limits.max_image_height = Some(MAX_IMAGE_SIDE_PIXELS);
    limits.max_alloc = Some(64 * 1024 * 1024);
    reader.limits(limits);
    reader
        .decode()
        .map(|_| ())
        .map_err(|e| format!("is not a readable PNG image: {e}"))
}

/// An SVG document checked by a small tokenizer ("parse-lite"): UTF-8; one `<svg>` root
/// element, properly nested and closed; comments, an XML declaration and CDATA allowed;
/// refused: DTDs and entity declarations (entity expansion), `script`, `foreignObject` and
/// other embedding elements, event-handler attributes, `javascript:`, and references outside
/// the image (`href`, `url(…)`, `@import`), since verifiers and clerks' pages display the
/// picture and it must neither run code nor call home.
pub(super) fn check_svg(data: &[u8]) -> Result<(), String> {
    let text = std::str::from_utf8(data).map_err(|_| "an SVG image must be UTF-8".to_owned())?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lower = text.to_ascii_lowercase();
    // Character references and CSS escapes can spell any of the words refused below
    // (`&#x6A;avascript:`, `\75 rl(`, `@\69mport`) and no seal image needs them: write the
    // characters themselves (UTF-8).
    if text.contains("&#") {
        return Err(
            "numeric character references (&#…;) are not accepted in a seal image; write the characters in UTF-8".into(),
        );
    }
    if text.contains('\\') {
        return Err("backslash escapes are not accepted in a seal image".into());
    }
    if lower.contains("image-set(") {
        return Err("image-set(…) is not accepted in a seal image".into());
    }
    if lower.contains("javascript:") {
        return Err("javascript: URLs are not accepted in a seal image".into());
    }
    if lower.contains("@import") {
        return Err("@import is not accepted in a seal image".into());
    }
    for (at, _) in lower.match_indices("url(") {
        let target = lower[at + 4..].trim_start_matches([' ', '\'', '"']);
        if !(target.starts_with('#') || target.starts_with("data:")) {
            return Err("url(…) may only point inside the image".into());
        }
    }
    let mut stack: Vec<&str> = Vec::new();
    let mut root_seen = false;
    let mut root_closed = false;
    let mut at = 0;
    while at < text.len() {
        let Some(offset) = text[at..].find('<') else {
            if !text[at..].trim().is_empty() && stack.is_empty() {
                return Err("text outside the svg element".into());
            }
            break;
        };
        let start = at + offset;
        if stack.is_empty() && !text[at..start].trim().is_empty() {
            return Err("text outside the svg element".into());
        }
        let rest = &text[start..];
        let skip_to = |end: &str, what: &str| -> Result<usize, String> {
            rest.find(end)
                .map(|i| start + i + end.len())
                .ok_or_else(|| format!("unterminated {what}"))
        };
        if rest.starts_with("<!--") {
            at = skip_to("-->", "comment")?;
        } else if rest.starts_with("<?") {
            if root_seen {
                return Err(
                    "processing instructions are accepted only before the svg element".into(),
                );
            }
            at = skip_to("?>", "XML declaration")?;
        } else if rest.starts_with("<![CDATA[") {
            if stack.is_empty() {
                return Err("CDATA outside the svg element".into());
            }
            at = skip_to("]]>", "CDATA section")?;
        } else if rest.starts_with("<!") {
            return Err("DOCTYPE and other declarations are not accepted (no entities)".into());
        } else if let Some(tail) = rest.strip_prefix("</") {
            let name = xml_name(tail);
            let after = tail[name.len()..].trim_start();
            if name.is_empty() || !after.starts_with('>') {
                return Err("malformed end tag".into());
            }
            match stack.pop() {
                Some(open) if open == name => {}
                Some(open) => return Err(format!("</{name}> closes <{open}>")),
                None => return Err(format!("</{name}> closes nothing")),
            }
            if stack.is_empty() {
                root_closed = true;
            }
            at = start + 2 + name.len() + (tail.len() - name.len() - after.len()) + 1;
        } else {
            let (name, end, self_closing) = start_tag(&rest[1..])?;
            if root_closed {
                return Err("content after the svg element".into());
            }
            if !root_seen {
                if name != "svg" {
                    return Err(format!("the root element is <{name}>, not <svg>"));
                }
                root_seen = true;
            }
            let local = name.rsplit(':').next().unwrap_or(name).to_ascii_lowercase();
            if [
                "script",
                "foreignobject",
                "iframe",
                "object",
                "embed",
                "handler",
            ]
            .contains(&local.as_str())
            {
                return Err(format!("<{name}> is not accepted in a seal image"));
            }
            if self_closing {
                if stack.is_empty() {
                    root_closed = true;
                }
            } else {
                stack.push(name);
            }
            at = start + 1 + end;
        }
    }
    if !root_seen {
        return Err("no svg element".into());
    }
    if let Some(open) = stack.last() {
        return Err(format!("<{open}> is not closed"));
    }
    Ok(())
}

/// An XML name at the start of `text` (ASCII subset: what SVG uses).
fn xml_name(text: &str) -> &str {
    let end = text
        .char_indices()
        .find(|&(i, c)| {
            !(c.is_ascii_alphabetic()
                || c == '_'
                || c == ':'
                || (i > 0 && (c.is_ascii_digit() || c == '-' || c == '.')))
        })
        .map_or(text.len(), |(i, _)| i);
    &text[..end]
}

/// A start tag after its `<`: the element name, the offset just past its `>`, and whether it
/// closes itself. Checks every attribute.
fn start_tag(text: &str) -> Result<(&str, usize, bool), String> {
    let name = xml_name(text);
    if name.is_empty() {
        return Err("malformed tag".into());
    }
    let mut at = name.len();
    loop {
        let rest = &text[at..];
        let trimmed = rest.trim_start();
        let spaced = trimmed.len() < rest.len();
        at += rest.len() - trimmed.len();
        if trimmed.starts_with('>') {
            return Ok((name, at + 1, false));
        }
        if trimmed.starts_with("/>") {
            return Ok((name, at + 2, true));
        }
        // XML separates the name and each attribute by whitespace.
        if !spaced {
            return Err(format!("malformed attributes in <{name}>"));
        }
        let attribute = xml_name(trimmed);
        if attribute.is_empty() {
            return Err(format!("malformed attributes in <{name}>"));
        }
        at += attribute.len();
        let rest = text[at..].trim_start();
        let Some(rest) = rest.strip_prefix('=') else {
            return Err(format!("attribute {attribute} of <{name}> has no value"));
        };
        let rest = rest.trim_start();
        let quote = rest
            .chars()
            .next()
            .filter(|c| *c == '"' || *c == '\'')
            .ok_or_else(|| format!("attribute {attribute} of <{name}> is not quoted"))?;
        let value_start = text.len() - rest.len() + 1;
        let value_len = text[value_start..]
            .find(quote)
            .ok_or_else(|| format!("attribute {attribute} of <{name}> is not closed"))?;
        check_attribute(attribute, &text[value_start..value_start + value_len])?;
        at = value_start + value_len + 1;
    }
}

fn check_attribute(name: &str, value: &str) -> Result<(), String> {
    let local = name.rsplit(':').next().unwrap_or(name).to_ascii_lowercase();
    if local.starts_with("on") {
        return Err(format!("event handler attribute {name} is not accepted"));
    }
    if local == "href" || local == "src" {
        let value = value.trim().to_ascii_lowercase();
        if !(value.starts_with('#') || value.starts_with("data:image/")) {
            return Err(format!("{name} may only point inside the image"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_seal_images_are_parsed_lightly_and_active_content_is_refused() {
        let ok = [
            r#"<svg xmlns="http://www.w3.org/2000/svg"/>"#,
            "\u{feff}<?xml version=\"1.0\"?>\n<!-- seal -->\n<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 10 10\"><circle cx=\"5\" cy='5' r=\"4\" fill=\"red\"/><text x=\"1\" y=\"5\">印 &amp; 章</text></svg>\n",
            r##"<svg><defs><linearGradient id="g"/></defs><rect fill="url(#g)" width="1" height="1"/><use href="#g"/></svg>"##,
            r#"<svg><image href="data:image/png;base64,AAAA" width="1" height="1"/></svg>"#,
            r#"<svg><style><![CDATA[ rect { fill: red } ]]></style></svg>"#,
        ];
        for svg in ok {
            assert_eq!(check_svg(svg.as_bytes()), Ok(()), "{svg}");
        }
        let bad = [
            "",
            "not xml",
            "<html/>",
            "<svg>",
            "<svg><g></svg>",
            "<svg></svg><svg/>",
            "<svg/>trailing",
            r#"<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg>&a;</svg>"#,
            "<svg><script>alert(1)</script></svg>",
            "<svg><foreignObject/></svg>",
            r#"<svg onload="alert(1)"/>"#,
            r#"<svg><a xlink:href="javascript:alert(1)"/></svg>"#,
            r#"<svg><image href="https://tracker.example/p.png"/></svg>"#,
            r#"<svg><rect style="fill: url(https://x.example/a)"/></svg>"#,
            "<svg><style>@import 'https://x.example/a.css';</style></svg>",
            "<svg width=1/>",
            r#"<svg width="1/>"#,
            // Spelled with references or escapes so the word checks would miss them.
            r#"<svg><a href="&#x6A;avascript:alert(1)"/></svg>"#,
            r#"<svg><set attributeName="href" to="&#106;avascript:alert(1)"/></svg>"#,
            r#"<svg><rect style="fill: \75 rl(https://x.example/a)"/></svg>"#,
            r#"<svg><style>@\69mport 'https://x.example/a.css';</style></svg>"#,
            r#"<svg><rect style="fill: image-set('https://x.example/a.png' 1x)"/></svg>"#,
        ];
        for svg in bad {
            assert!(check_svg(svg.as_bytes()).is_err(), "{svg}");
        }
        assert!(check_svg(&[0xff, 0xfe]).is_err());
    }

    #[test]
    fn svg_checks_never_panic_on_truncated_or_spliced_input() {
        let svg = "\u{feff}<?xml version=\"1.0\"?><!-- 印章 --><svg a=\"1\"\u{3000}b='印'><g><text>印 章</text></g><![CDATA[x]]><rect/></svg>";
        let bytes = svg.as_bytes();
        for end in 0..=bytes.len() {
            let _ = check_svg(&bytes[..end]);
            let _ = check_svg(&bytes[end..]);
            let mut spliced = bytes[..end].to_vec();
            spliced.extend_from_slice(b"</ <a =\"'><!");
            spliced.extend_from_slice(&bytes[end..]);
            let _ = check_svg(&spliced);
        }
    }

    #[test]
    fn png_images_must_decode() {
        let mut png = Vec::new();
        image::RgbaImage::new(4, 4)
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        assert_eq!(check_png(&png), Ok(()));
        assert!(check_png(&png[..png.len() / 2]).is_err());
        assert!(check_png(b"GIF89a").is_err());
    }
}
