//! The clerk's page (SPEC §9) in a real browser: `huren demo` brings up three provinces'
//! issuers and the verifier on 127.0.0.1, and headless Chromium (Debian's, driven from Node by
//! `playwright-core`, see `tests/browser/`) scans licences the way a USB scanner does — keys
//! typed into the focused input, then Enter — while the test revokes one at its issuer; and, in
//! a second scenario, checks a sealed contract (SPEC §8) the way a clerk does: the document and
//! its `.ses` chosen in the page's file inputs, then a tampered copy. The first scenario ends
//! with annotated copies (加注件, SPEC §11) of a Zhejiang licence, made with the demo's signer:
//! one for a using unit, one on-screen 亮证码.
//!
//! Needs Debian's `chromium` at `/usr/bin/chromium` (or `HUREN_CHROMIUM`), the Node.js that
//! `tests/browser/package.json` asks for (`engines.node`) and `npm ci` in `tests/browser`
//! (`scripts/test` installs all three). Without them the test is recorded as skipped: `cargo
//! test` names it in its last line, and under `CI` it fails, so the check cannot silently stop
//! running. Screenshots go to `target/browser-artifacts/`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use huren_crypto::cert::Certificate;
use huren_crypto::ids::{RegionCode, Uscc};
use huren_crypto::jws::{Limits, UnverifiedJws};
use huren_crypto::licence::LicenceClaims;
use huren_crypto::seal::{make_seal, sign_document, EsId, PictureType, SealPicture, SealSpec};
use huren_crypto::time::Clock;
use huren_keys::holder::{issue_holder, HolderRequest};
use huren_keys::layout::RegionDir;
use huren_keys::store::{Passphrase, Protection};
use huren_keys::SystemClock;
use serde_json::{json, Value};

const BUILDING_TYPE: &str = "11100000000013338W032";
const SEAL_NAME: &str = "杭州示例建设有限公司合同专用章";

struct Demo(Child);

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn script_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

fn artifacts_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
        .join("browser-artifacts")
}

/// What is missing to run the browser, as an install hint; `None` when all is there.
fn missing_prerequisite(chromium: &Path) -> Option<String> {
    if !chromium.is_file() {
        return Some(format!(
            "Chromium is not at {} (apt-get install chromium)",
            chromium.display()
        ));
    }
    let node = Command::new("node").arg("--version").output();
    let version = match node {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        _ => return Some("Node.js is not installed (apt-get install nodejs npm)".into()),
    };
    let major: u32 = version
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    let needed = oldest_node_major();
    if major < needed {
        return Some(format!(
            "Node.js {version} is too old for playwright-core (needs >= {needed}, \
             tests/browser/package.json; scripts/test installs it)"
        ));
    }
    if !script_dir()
        .join("node_modules/playwright-core/package.json")
        .is_file()
    {
        return Some("playwright-core is not installed (run `npm ci` in tests/browser)".into());
    }
    None
}

/// The oldest Node.js major version the driver runs on: `engines.node` (`">=N"`) of
/// `tests/browser/package.json`, which `scripts/test` reads too, so the two cannot disagree.
fn oldest_node_major() -> u32 {
    let manifest = std::fs::read_to_string(script_dir().join("package.json")).unwrap();
    let manifest: Value = serde_json::from_str(&manifest).unwrap();
    let engines = manifest["engines"]["node"].as_str().unwrap_or_default();
    engines
        .strip_prefix(">=")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("engines.node must read \">=N\", not {engines:?}"))
}

fn start_demo(dir: &Path) -> (Demo, Value) {
    let manifest_path = dir.join("demo.json");
    let child = Command::new(env!("CARGO_BIN_EXE_huren"))
        .args(["demo", "--dir"])
        .arg(dir)
        .args(["--port", "0"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("demo.log")).unwrap())
        .spawn()
        .unwrap();
    let mut demo = Demo(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(text) = std::fs::read_to_string(&manifest_path) {
            if let Ok(json) = serde_json::from_str::<Value>(&text) {
                return (demo, json);
            }
        }
        if let Ok(Some(status)) = demo.0.try_wait() {
            panic!(
                "huren demo exited ({status}) before writing demo.json:\n{}",
                std::fs::read_to_string(dir.join("demo.log")).unwrap_or_default()
            );
        }
        assert!(
            Instant::now() < deadline,
            "demo.json did not appear in 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The demo's sample licences of `region`, shortest QR text first (a scanner types every
/// character, so shorter is quicker).
fn samples_of<'a>(manifest: &'a Value, region: &str) -> Vec<&'a Value> {
    let mut samples: Vec<&Value> = manifest["samples"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["region"] == region)
        .collect();
    samples.sort_by_key(|s| s["qr_text"].as_str().unwrap().len());
    assert!(
        !samples.is_empty(),
        "no demo sample of {region}: {manifest}"
    );
    samples
}

fn issuer_of<'a>(manifest: &'a Value, region: &str) -> &'a Value {
    manifest["issuers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["region"] == region)
        .unwrap()
}

fn text<'a>(step: &'a Value, key: &str) -> &'a str {
    step[key].as_str().unwrap_or("")
}

fn strings(step: &Value, key: &str) -> Vec<String> {
    step[key]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The newest history entry starts with the time the card shows after `label`
/// (`YYYY-MM-DD HH:MM:SS`), and that time is China's: within minutes of now at UTC+08:00,
/// whatever zone and locale the browser runs in.
fn assert_history_time_is_the_cards(step: &Value, label: &str) {
    let meta = text(step, "meta");
    let shown = meta
        .strip_prefix(label)
        .and_then(|rest| rest.split(" · ").next())
        .unwrap_or_else(|| panic!("no time after {label:?} on the card: {step}"));
    let rfc3339 = format!("{}+08:00", shown.replacen(' ', "T", 1));
    let at = time::OffsetDateTime::parse(&rfc3339, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("the card's time {shown:?} is not YYYY-MM-DD HH:MM:SS: {e}"));
    let off = (SystemClock.now().seconds() - at.unix_timestamp()).abs();
    assert!(
        off < 600,
        "the card's time {shown} is not China time ({off} s off)"
    );
    let history = strings(step, "history");
    assert!(
        history
            .first()
            .is_some_and(|newest| newest.starts_with(&format!("{shown}  "))),
        "the history's time is not the card's {shown:?}: {history:?}"
    );
}

/// Runs the Node driver `script` on `plan` (written into `dir`), with a hard limit so a hung
/// browser cannot hang the test run; asserts it succeeded and returns its observations.
fn run_driver(script: &str, dir: &Path, plan: &Value, failure_shot: &str) -> Value {
    let plan_path = dir.join(format!("{script}.plan.json"));
    std::fs::write(&plan_path, plan.to_string()).unwrap();
    let stdout_path = dir.join(format!("{script}.out"));
    let stderr_path = dir.join(format!("{script}.err"));
    let mut driver = Command::new("node")
        .arg(script_dir().join(script))
        .arg(&plan_path)
        .current_dir(script_dir())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).unwrap())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = driver.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = driver.kill();
            let _ = driver.wait();
            panic!(
                "the browser driver {script} did not finish in 120 s; stderr:\n{}",
                std::fs::read_to_string(&stderr_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = std::fs::read_to_string(&stdout_path).unwrap_or_default();
    let err = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    let obs: Value = out
        .lines()
        .rev()
        .find_map(|line| serde_json::from_str(line).ok())
        .unwrap_or_else(|| {
            panic!("the driver printed no observations ({status}); stderr:\n{err}\nstdout:\n{out}")
        });
    assert!(
        status.success(),
        "the browser driver failed ({status}): {}\nat failure: {}\nstderr:\n{err}\nscreenshot: {}",
        text(&obs, "error"),
        obs["steps"]["at_failure"],
        artifacts_dir().join(failure_shot).display()
    );
    obs
}

/// Nothing but the verifier: every request to its origin (`posts` of them to `api`), nothing
/// blocked by the CSP, no failed responses, no script errors.
fn assert_only_the_verifier(obs: &Value, verifier: &str, api: &str, posts: usize) {
    let requests = strings(obs, "requests");
    let origin = format!("{verifier}/");
    assert!(requests.iter().any(|r| r == &origin), "{requests:?}");
    assert_eq!(
        requests.iter().filter(|r| r.ends_with(api)).count(),
        posts,
        "{requests:?}"
    );
    let foreign: Vec<&String> = requests
        .iter()
        .filter(|r| !r.starts_with(&origin))
        .collect();
    assert!(
        foreign.is_empty(),
        "the page loaded external URLs: {foreign:?}"
    );
    for key in [
        "csp_violations",
        "failed_responses",
        "page_errors",
        "console_errors",
    ] {
        assert!(strings(obs, key).is_empty(), "{key}: {}", obs[key]);
    }
}

/// Chromium's location (`HUREN_CHROMIUM`, else Debian's `/usr/bin/chromium`, where
/// `scripts/test` looks too), or `None` after recording the test as skipped (a failure under
/// `CI`).
fn chromium_or_skip() -> Option<PathBuf> {
    let chromium = std::env::var_os("HUREN_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if let Some(missing) = missing_prerequisite(&chromium) {
        skips::skipped(&missing);
        return None;
    }
    Some(chromium)
}

/// Annotated copies of Zhejiang's sample licence `licence`, made by Zhejiang's issuer for its
/// holder through the province's portal token (SPEC §11), as a holder's portal would: (for a
/// using unit, showing the default fields; an on-screen 亮证码 showing only the holder's
/// name), as `HR1:` QR text. Made there, they are in the province's issuance log like any
/// real copy; one signed here with the province's key would be a copy its issuer never made,
/// which a verifier rightly flags (`not_logged`).
fn copies_of(demo_dir: &Path, manifest: &Value, licence: &Value) -> (String, String) {
    let issuer = issuer_of(manifest, "330000");
    let claims = zhejiang_claims(demo_dir, licence["token"].as_str().unwrap());
    let holder = json!({"id_type": claims.licence.holder.id_type, "id": claims.licence.holder.id});
    let url = format!(
        "{}/v1/licences/{}/copies",
        issuer["url"].as_str().unwrap(),
        licence["jti"].as_str().unwrap()
    );
    let make = |mut body: Value| {
        body["holder"] = holder.clone();
        let mut response = ureq::post(&url)
            .header(
                "Authorization",
                &format!("Bearer {}", issuer["portal_token"].as_str().unwrap()),
            )
            .header("Content-Type", "application/json")
            .send(body.to_string())
            .unwrap();
        assert_eq!(response.status().as_u16(), 201);
        let made: Value =
            serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
        made["qr_text"].as_str().unwrap().to_owned()
    };
    let for_unit = make(json!({
        "purpose": {"cause": COPY_CAUSE, "category": 0, "item_code": "320105-0001",
            "item_name": COPY_ITEM},
        "aud": {"name": COPY_UNIT, "code": "11320105MB12345623"},
        "valid_for_secs": 86_400,
    }));
    let on_screen = make(json!({
        "purpose": {"cause": "亮证", "category": 1},
        "disclose": ["holder.name"],
        "valid_for_secs": 300,
    }));
    (for_unit, on_screen)
}

/// The claims of Zhejiang's licence `token`, checked with the demo's active signer.
fn zhejiang_claims(demo_dir: &Path, token: &str) -> LicenceClaims {
    let passphrase = std::fs::read_to_string(demo_dir.join(".passphrase")).unwrap();
    let passphrase = Passphrase::new(passphrase.trim().to_owned()).unwrap();
    let region = RegionDir::open(&demo_dir.join("330000")).unwrap();
    let (_, signer_der) = region.active_signer(Some(&passphrase)).unwrap();
    let signer_cert = Certificate::from_der(&signer_der).unwrap();
    let payload = UnverifiedJws::parse(token, Limits::LICENCE)
        .unwrap()
        .verify(signer_cert.public_key())
        .unwrap()
        .payload(Limits::LICENCE.max_payload_bytes)
        .unwrap();
    serde_json::from_slice(&payload).unwrap()
}

/// The font families fontconfig lists as covering Chinese (`fc-list :lang=zh family`), each
/// line's names split at the commas (a family has a name per language).
fn cjk_font_families() -> Vec<String> {
    let output = Command::new("fc-list")
        .args([":lang=zh", "family"])
        .output()
        .expect("fc-list (Debian package fontconfig, with chromium) lists the fonts");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .flat_map(|line| line.split(','))
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .collect()
}

/// Asserts that every font Chromium drew `step[key]`'s text with covers Chinese, and that
/// they drew at least the characters of `shown`.
fn assert_drawn_with_cjk_fonts(step: &Value, key: &str, shown: &str) {
    let cjk = cjk_font_families();
    assert!(!cjk.is_empty(), "no font covering Chinese is installed");
    let fonts = step[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key}: {step}"));
    let glyphs: u64 = fonts.iter().map(|f| f["glyphs"].as_u64().unwrap()).sum();
    assert!(glyphs >= shown.chars().count() as u64, "{key}: {fonts:?}");
    for font in fonts {
        let family = font["family"].as_str().unwrap();
        assert!(
            cjk.iter().any(|c| c == family),
            "{key}: drawn with {family:?}, which has no Chinese glyphs (fonts covering Chinese: {cjk:?}): {fonts:?}"
        );
    }
}

const COPY_CAUSE: &str = "办理异地建筑工程施工许可";
const COPY_ITEM: &str = "建筑工程施工许可证核发";
const COPY_UNIT: &str = "南京市建邺区行政审批局";

#[test]
fn clerk_scans_verifies_sees_a_revocation_and_switches_language() {
    let started = Instant::now();
    let Some(chromium) = chromium_or_skip() else {
        return;
    };

    let dir = tempfile::tempdir().unwrap();
    let (_demo, manifest) = start_demo(dir.path());
    let verifier = manifest["verifier_url"].as_str().unwrap();

    // Zhejiang's building licence verifies; Jiangsu's licence is revoked before the verifier
    // has asked Jiangsu for anything, so its status list is first fetched (lazily) after the
    // revocation; Anhui's is scanned after the language switch.
    let valid = samples_of(&manifest, "330000")
        .into_iter()
        .find(|s| s["jti"].as_str().unwrap().contains(BUILDING_TYPE))
        .expect("the demo issues a building licence in Zhejiang");
    let revoked = samples_of(&manifest, "320000")[0];
    let after_switch = samples_of(&manifest, "340000")[0];
    let jiangsu = issuer_of(&manifest, "320000");
    let (copy_for_unit, copy_on_screen) = copies_of(dir.path(), &manifest, valid);

    let artifacts = artifacts_dir();
    std::fs::create_dir_all(&artifacts).unwrap();
    for old in [
        "clerk-page.png",
        "clerk-page-valid.png",
        "clerk-page-revoked.png",
        "clerk-page-failure.png",
    ] {
        let _ = std::fs::remove_file(artifacts.join(old));
    }
    let plan = json!({
        "verifier_url": verifier,
        "chromium": chromium,
        "artifacts_dir": artifacts,
        "valid": {"qr_text": valid["qr_text"]},
        "revoke": {
            "qr_text": revoked["qr_text"],
            "jti": revoked["jti"],
            "issuer_url": jiangsu["url"],
            "admin_token": jiangsu["admin_token"],
        },
        "after_switch": {"qr_text": after_switch["qr_text"]},
        "copy": {"qr_text": copy_for_unit},
        "on_screen": {"qr_text": copy_on_screen},
        // A PC in another zone and locale (12 h with AM/PM, 12 or 13 hours behind China): the
        // page's times must still be China's, 24 h.
        "locale": "en-US",
        "timezone_id": "America/New_York",
    });
    let obs = run_driver(
        "clerk-page.mjs",
        dir.path(),
        &plan,
        "clerk-page-failure.png",
    );
    let steps = &obs["steps"];

    // Loaded: Chinese first, the scanner input has the focus without a click.
    let loaded = &steps["loaded"];
    assert_eq!(text(loaded, "lang"), "zh-CN", "{loaded}");
    assert_eq!(
        text(loaded, "focused"),
        "scan",
        "the scanner input has focus on load: {loaded}"
    );
    assert!(text(loaded, "trust").contains("信任列表版本"), "{loaded}");

    // A valid licence: green 有效, the holder, a masked holder code, the time of the check.
    let step = &steps["valid"];
    assert_eq!(text(step, "verdict"), "有效", "{step}");
    assert!(
        text(step, "card_class").split(' ').any(|c| c == "valid"),
        "{step}"
    );
    assert!(text(step, "fields").contains("示例建设有限公司"), "{step}");
    assert!(
        text(step, "fields").contains(valid["jti"].as_str().unwrap()),
        "{step}"
    );
    // The masking rule itself: the first 4 and last 4 characters of the holder's code, every
    // one between hidden, and the code in full nowhere on the card.
    let holder_id = zhejiang_claims(dir.path(), valid["token"].as_str().unwrap())
        .licence
        .holder
        .id;
    let n = holder_id.chars().count();
    assert_eq!(n, 18, "a 统一社会信用代码: {holder_id}");
    let masked = format!(
        "{}{}{}",
        &holder_id[..4],
        "*".repeat(n - 8),
        &holder_id[n - 4..]
    );
    assert_eq!(text(step, "holder_id"), masked, "{step}");
    assert!(!text(step, "fields").contains(&holder_id), "{step}");
    // The Chinese on the card is drawn with a Chinese font, not as boxes.
    assert_drawn_with_cjk_fonts(step, "verdict_fonts", "有效");
    assert_drawn_with_cjk_fonts(step, "holder_fonts", "示例建设有限公司");
    assert!(text(step, "meta").contains("核验时间"), "{step}");
    assert_eq!(
        text(step, "input_value"),
        "",
        "the input is cleared for the next scan: {step}"
    );
    assert_eq!(text(step, "focused"), "scan", "{step}");
    assert_eq!(strings(step, "history").len(), 1, "{step}");
    assert_history_time_is_the_cards(step, "核验时间 ");

    // The revoked licence: red 无效 with the reason in plain words.
    assert_eq!(steps["revoke_status"], 200, "{steps}");
    let step = &steps["revoked"];
    assert_eq!(text(step, "verdict"), "无效", "{step}");
    assert!(
        text(step, "card_class").split(' ').any(|c| c == "invalid"),
        "{step}"
    );
    assert!(
        strings(step, "reasons")
            .iter()
            .any(|r| r == "证照已被吊销或注销"),
        "{step}"
    );
    assert!(
        text(step, "fields").contains(revoked["jti"].as_str().unwrap()),
        "{step}"
    );
    assert_eq!(strings(step, "history").len(), 2, "{step}");

    // English: verdict, reasons, history and labels follow; the focus returns to the input.
    let step = &steps["english"];
    assert_eq!(text(step, "lang"), "en", "{step}");
    assert_eq!(text(step, "verdict"), "INVALID", "{step}");
    assert!(
        strings(step, "reasons")
            .iter()
            .any(|r| r == "Licence revoked"),
        "{step}"
    );
    let history = strings(step, "history");
    assert!(
        history[0].contains("INVALID") && history[1].contains("VALID"),
        "{step}"
    );
    assert_eq!(
        text(step, "label"),
        "Scan or paste the licence QR code",
        "{step}"
    );
    assert!(text(step, "trust").starts_with("Trust list"), "{step}");
    assert_eq!(
        text(step, "focused"),
        "scan",
        "focus back on the input after the switch: {step}"
    );

    // Clicking the first history entry shows that check again.
    let step = &steps["history_click"];
    assert_eq!(text(step, "verdict"), "VALID", "{step}");
    assert!(
        text(step, "fields").contains(valid["jti"].as_str().unwrap()),
        "{step}"
    );

    // And the next scan, with no click on the input, still lands in it.
    let step = &steps["after_switch"];
    assert_eq!(text(step, "verdict"), "VALID", "{step}");
    assert!(
        text(step, "fields").contains(after_switch["jti"].as_str().unwrap()),
        "{step}"
    );
    assert!(text(step, "meta").starts_with("Checked at"), "{step}");
    assert_eq!(strings(step, "history").len(), 3, "{step}");
    assert_history_time_is_the_cards(step, "Checked at ");

    // Back in Chinese, an annotated copy for a using unit: under its purpose band, titled as a
    // copy, the fields it does not show said to be withheld; valid, with the note that this
    // window (no unit configured) did not check the audience.
    let step = &steps["copy"];
    assert_eq!(text(step, "lang"), "zh-CN", "{step}");
    assert_eq!(text(step, "verdict"), "有效", "{step}");
    assert!(
        text(step, "card_class").split(' ').any(|c| c == "copy"),
        "{step}"
    );
    assert_eq!(text(step, "card_title"), "加注件", "{step}");
    let band = text(step, "band");
    let expected =
        format!("加注件 · 仅用于{COPY_CAUSE}（{COPY_ITEM}） · 用证单位 {COPY_UNIT} · 有效期至 ");
    assert!(band.starts_with(&expected), "{band:?} vs {expected:?}");
    let until = band.strip_prefix(&expected).unwrap();
    assert!(
        until.len() == 16 && until.as_bytes()[10] == b' ' && until.as_bytes()[13] == b':',
        "YYYY-MM-DD HH:MM: {until:?}"
    );
    let undisclosed: Vec<String> = strings(step, "undisclosed");
    assert_eq!(undisclosed, ["holderId", "issued"], "{step}");
    assert_eq!(text(step, "holder_id"), "未出示", "{step}");
    assert!(text(step, "fields").contains("示例建设有限公司"), "{step}");
    assert!(text(step, "warnings").contains("未核对"), "{step}");
    assert_eq!(step["seconds_left"], Value::Null, "{step}");
    let history = strings(step, "history");
    assert_eq!(history.len(), 4, "{step}");
    assert!(history[0].contains("加注件 · "), "{history:?}");
    assert_eq!(strings(step, "history_kinds")[0], "copy", "{step}");

    // The on-screen 亮证码: any window, only the holder's name shown, seconds left counting.
    let step = &steps["on_screen"];
    assert_eq!(text(step, "verdict"), "有效", "{step}");
    let band = text(step, "band");
    assert!(
        band.starts_with("加注件 · 亮证码 · 仅用于亮证 · 用证单位 任意窗口 · 有效期至 "),
        "{band:?}"
    );
    assert_eq!(
        strings(step, "undisclosed"),
        ["holderId", "number", "issued"],
        "{step}"
    );
    let left: u64 = text(step, "seconds_left")
        .parse()
        .unwrap_or_else(|_| panic!("seconds left is a number: {step}"));
    assert!((1..=300).contains(&left), "{step}");
    assert!(strings(step, "warnings_list").is_empty(), "{step}");

    // In English: the title, the band and the withheld rows follow.
    let step = &steps["copy_english"];
    assert_eq!(text(step, "card_title"), "Annotated copy", "{step}");
    assert!(
        text(step, "band").starts_with("Annotated copy · on-screen code · only for: 亮证 · using unit: any window · valid until "),
        "{step}"
    );
    assert_eq!(text(step, "holder_id"), "Not shown", "{step}");

    assert_only_the_verifier(&obs, verifier, "/v1/verify", 5);

    let png = std::fs::read(artifacts.join("clerk-page.png")).unwrap();
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "clerk-page.png is a PNG"
    );
    eprintln!(
        "browser test: {:.1} s (driver {} ms); screenshots in {}",
        started.elapsed().as_secs_f64(),
        obs["elapsed_ms"],
        artifacts.display()
    );
}

/// A red seal ring, as a real PNG.
fn seal_png() -> Vec<u8> {
    let image = image::RgbaImage::from_fn(120, 120, |x, y| {
        let (dx, dy) = (x as f32 - 59.5, y as f32 - 59.5);
        let r = (dx * dx + dy * dy).sqrt();
        let star = dx.abs() + dy.abs() < 16.0;
        if (48.0..57.0).contains(&r) || star {
            image::Rgba([205, 25, 25, 255])
        } else {
            image::Rgba([0, 0, 0, 0])
        }
    });
    let mut png = Vec::new();
    image::DynamicImage::ImageRgba8(image)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    png
}

/// The files a clerk is handed.
struct SealedContract {
    document: PathBuf,
    signature: PathBuf,
    tampered: PathBuf,
}

/// Zhejiang's seal maker in the demo directory makes a contract seal for an organisation, which
/// seals a contract with its own holder certificate (issued by the demo's Zhejiang root).
fn seal_a_contract(demo_dir: &Path, out: &Path) -> SealedContract {
    let passphrase = std::fs::read_to_string(demo_dir.join(".passphrase")).unwrap();
    let passphrase = Passphrase::new(passphrase.trim().to_owned()).unwrap();
    let region = RegionDir::open(&demo_dir.join("330000")).unwrap();
    let maker_files = region.config.seal_maker.clone().unwrap();
    let maker_key = region.key(&maker_files, Some(&passphrase)).unwrap();
    let maker_cert = region.certificate(&maker_files).unwrap();
    // The demo made its keys moments ago: the seal and the holder certificate start no earlier
    // than the maker's certificate, and the contract is sealed now.
    let made = Certificate::from_der(&maker_cert).unwrap().not_before();
    let now = SystemClock.now();
    let holder = issue_holder(
        &region,
        Some(&passphrase),
        &out.join("holder"),
        &HolderRequest {
            organization: "杭州示例建设有限公司".into(),
            uscc: Uscc::parse("91350100M000100Y43").unwrap(),
            alg: region.config.alg,
            validity_days: 365,
            protection: Protection::Plaintext,
            now: made,
        },
    )
    .unwrap();
    let holder_cert = holder.certificate().unwrap().der().to_vec();
    let holder_key = holder.key(None).unwrap();
    let code = RegionCode::parse("330000").unwrap();
    let seal = make_seal(
        &SealSpec {
            vid: "huren".into(),
            es_id: EsId::generate(&code, now.seconds().to_be_bytes()),
            seal_type: 4,
            name: SEAL_NAME.into(),
            holder_certs: vec![holder_cert.clone()],
            create_date: made,
            valid_start: made,
            valid_end: now.plus(365 * 86_400),
            picture: SealPicture {
                kind: PictureType::Png,
                data: seal_png(),
                width_mm: 40,
                height_mm: 40,
            },
            // The demo's issuers publish no seal status lists: a seal without a status
            // reference cannot be revoked, only its holder certificate.
            status: None,
            uscc: Some(Uscc::parse("91350100M000100Y43").unwrap()),
        },
        &maker_key,
        &maker_cert,
    )
    .unwrap();
    let mut contract = b"%PDF-1.7\n".to_vec();
    contract.extend_from_slice("建设工程施工合同 — 杭州示例建设有限公司\n".as_bytes());
    contract.extend((0..2048u32).map(|i| (i % 251) as u8));
    contract.extend_from_slice(b"\n%%EOF\n");
    let signature = sign_document(
        &seal,
        &contract,
        SystemClock.now(),
        "contract.pdf",
        &holder_key,
        &holder_cert,
    )
    .unwrap();
    let mut tampered = contract.clone();
    tampered[100] ^= 0x01;
    let files = SealedContract {
        document: out.join("contract.pdf"),
        signature: out.join("contract.pdf.ses"),
        tampered: out.join("contract-copy.pdf"),
    };
    std::fs::write(&files.document, &contract).unwrap();
    std::fs::write(&files.signature, &signature).unwrap();
    std::fs::write(&files.tampered, &tampered).unwrap();
    files
}

#[test]
fn clerk_verifies_a_sealed_contract_and_sees_a_tampered_copy() {
    let started = Instant::now();
    let Some(chromium) = chromium_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (_demo, manifest) = start_demo(dir.path());
    let verifier = manifest["verifier_url"].as_str().unwrap();
    let files_dir = dir.path().join("files");
    std::fs::create_dir_all(&files_dir).unwrap();
    let files = seal_a_contract(dir.path(), &files_dir);

    let artifacts = artifacts_dir();
    std::fs::create_dir_all(&artifacts).unwrap();
    for old in [
        "clerk-page-seal-valid.png",
        "clerk-page-seal-tampered.png",
        "clerk-page-seal-failure.png",
    ] {
        let _ = std::fs::remove_file(artifacts.join(old));
    }
    let plan = json!({
        "verifier_url": verifier,
        "chromium": chromium,
        "artifacts_dir": artifacts,
        "document": files.document,
        "signature": files.signature,
        "tampered": files.tampered,
    });
    let obs = run_driver(
        "seal-page.mjs",
        dir.path(),
        &plan,
        "clerk-page-seal-failure.png",
    );
    let steps = &obs["steps"];
    assert_eq!(
        text(&steps["loaded"], "title"),
        "验证电子印章文件",
        "{steps}"
    );

    // The contract as sealed: green 有效, the organisation's seal with its picture, every check
    // passed.
    let step = &steps["valid"];
    assert_eq!(text(step, "verdict"), "有效", "{step}");
    assert!(
        text(step, "card_class").split(' ').any(|c| c == "valid"),
        "{step}"
    );
    assert_eq!(text(step, "seal_name"), SEAL_NAME, "{step}");
    assert_eq!(text(step, "seal_type"), "合同专用章", "{step}");
    assert!(text(step, "es_id").starts_with("330000"), "{step}");
    assert!(
        text(step, "fields").contains("电子印章制章"),
        "maker: {step}"
    );
    assert_eq!(step["picture"]["tag"], "IMG", "{step}");
    assert_eq!(
        step["picture"]["src_prefix"], "data:image/png;base64,",
        "{step}"
    );
    assert_eq!(step["picture"]["decoded"], true, "{step}");
    assert_eq!(step["foreign_elements"], 0, "{step}");
    let checks = step["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 9, "{step}");
    assert!(
        checks
            .iter()
            .all(|c| c["state"] == "ok" && text(c, "text").contains("通过")),
        "{step}"
    );
    assert!(text(step, "meta").contains("核验时间"), "{step}");
    assert_eq!(strings(step, "history").len(), 1, "{step}");

    // One byte changed: red 无效, the reason in plain words, the document check failed.
    let step = &steps["tampered"];
    assert_eq!(text(step, "verdict"), "无效", "{step}");
    assert!(
        text(step, "card_class").split(' ').any(|c| c == "invalid"),
        "{step}"
    );
    assert_eq!(
        strings(step, "reasons"),
        ["文档已被篡改（摘要不符）"],
        "{step}"
    );
    assert_eq!(text(step, "seal_name"), SEAL_NAME, "{step}");
    let document_check = step["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "document_hash")
        .unwrap();
    assert_eq!(document_check["state"], "failed", "{step}");
    assert_eq!(step["picture"]["class"], "dim", "{step}");
    assert_eq!(strings(step, "history").len(), 2, "{step}");

    // English: the verdict and the reason follow.
    let step = &steps["english"];
    assert_eq!(text(step, "verdict"), "INVALID", "{step}");
    assert_eq!(
        strings(step, "reasons"),
        ["Document altered (hash mismatch)"],
        "{step}"
    );
    assert_eq!(text(step, "title"), "Verify a sealed document", "{step}");
    assert_eq!(text(step, "seal_type"), "Contract seal", "{step}");

    // The history brings the valid check back.
    let step = &steps["history_click"];
    assert_eq!(text(step, "verdict"), "VALID", "{step}");
    assert_eq!(text(step, "seal_name"), SEAL_NAME, "{step}");

    assert_only_the_verifier(&obs, verifier, "/v1/seals/verify", 2);
    let png = std::fs::read(artifacts.join("clerk-page-seal-valid.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    eprintln!(
        "sealed-document browser test: {:.1} s (driver {} ms); screenshots in {}",
        started.elapsed().as_secs_f64(),
        obs["elapsed_ms"],
        artifacts.display()
    );
}
