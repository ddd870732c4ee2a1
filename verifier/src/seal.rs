//! Seal verification as a verifier does it (SPEC §8): the pure checks of
//! [`huren_crypto::seal::verify_seal_signature`], fed with the trust store's current list, the
//! seal's status list from the [`StatusCache`](crate::StatusCache) and the signer's CRL from the
//! [`CrlCache`](crate::crl_cache::CrlCache).
//!
//! What may be fetched, and when:
//! - the seal's status list, only when the seal carries a huren status reference whose URI
//!   starts with the `status_uri_prefix` the trust list gives the seal's region (the rule for
//!   licences); fetched when not held or no longer fresh. If it cannot be had, the report says
//!   `seal_status_unknown` (indeterminate), never `valid`;
//! - the CRL of the trust-list root that issued the signer certificate, from that region's
//!   `{issuer_uri}/v1/crl`; fetched when not held or past its `nextUpdate`. Without a current
//!   one the report says `signer_revocation_unknown` (indeterminate), never `valid`.
//!
//! Nothing is fetched for a file whose signature does not verify: hostile bytes cannot make
//! the verifier use the network (and a verified signature still only selects URLs the trust
//! list gives). The two fetches run side by side, each bounded by the fetcher's timeout.

use std::sync::Arc;

use huren_crypto::crl::VerifiedCrl;
use huren_crypto::seal::verify::SealCheckName;
use huren_crypto::seal::{
    verify_seal_signature, Document, SealCertificate, SealOutcome, SealReport, SealSignature,
    SealTrust, SealVerifyInput, SealVerifyOptions, SealWarning,
};
use huren_crypto::status_token::VerifiedStatusList;
use huren_crypto::time::UnixTime;
use huren_crypto::trust_list::TrustList;
use serde::Serialize;

use crate::crl_cache::CrlSource;
use crate::Verifier;

/// A seal check as the service answers it: the SPEC §8 report (its fields at the top level)
/// and what a person reading it needs besides — the seal's picture, when and against which
/// trust list it was checked, and every reason and warning in Chinese and English.
#[derive(Debug, Clone, Serialize)]
pub struct SealAnswer {
    /// The report.
    #[serde(flatten)]
    pub report: SealReport,
    /// The seal's image, only when a trusted maker's signature over it verified (see
    /// [`SealImage`]).
    pub picture: Option<SealImage>,
    /// Time of the check (RFC 3339, China time).
    pub checked_at: String,
    /// `seq` of the trust list used.
    pub trust_list_seq: u64,
    /// `reasons`, in the same order, in words.
    pub reason_texts: Vec<OutcomeText>,
    /// `warnings`, in the same order, in words.
    pub warning_texts: Vec<OutcomeText>,
}

/// The seal's picture (`SES_ESPictrueInfo`).
///
/// Shown only for a seal whose maker signature verified and whose maker was not found
/// untrusted: a picture anyone can draw must not appear beside a verdict as if it were an
/// official seal. `media_type` is decided from the bytes (PNG, JPEG, GIF signatures), or is
/// `image/svg+xml` for a picture typed `SVG` that is markup; otherwise `None` and the picture
/// is not for display. Pages must show it only through an `<img>` element, never as inline
/// markup: an `<img>` runs no script in an SVG and loads nothing from elsewhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SealImage {
    /// The type the seal states (`PNG`, `SVG`, `GIF`, `JPG`, `OFD`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// The media type to display it as, if it can be.
    pub media_type: Option<&'static str>,
    /// The image bytes, standard base64.
    pub data_b64: String,
    /// Width in millimetres, as the seal states.
    pub width_mm: i64,
    /// Height in millimetres, as the seal states.
    pub height_mm: i64,
}

/// An outcome or warning code with its text for a clerk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OutcomeText {
    /// The stable code.
    pub code: &'static str,
    /// Chinese.
    pub zh: &'static str,
    /// English.
    pub en: &'static str,
}

impl From<SealOutcome> for OutcomeText {
    fn from(outcome: SealOutcome) -> OutcomeText {
        OutcomeText {
            code: outcome.code(),
            zh: outcome.text_zh(),
            en: outcome.text_en(),
        }
    }
}

impl From<SealWarning> for OutcomeText {
    fn from(warning: SealWarning) -> OutcomeText {
        let (code, zh, en) = match warning {
            SealWarning::TimestampNotVerified => (
                "timestamp_not_verified",
                "签章附有时间戳，但未核验时间戳；以签章数据中的时间为准",
                "A time-stamp is attached but was not verified; the stated signing time was used",
            ),
            SealWarning::CrlPredatesSigning => (
                "crl_predates_signing",
                "所用证书吊销列表早于签章时间（仍在有效期内）；签章前不久的吊销要到下一期列表才会列出",
                "The revocation list used is current but older than the signing; a revocation just before signing would only show in the next list",
            ),
            SealWarning::NonstandardSignedContent => (
                "nonstandard_signed_content",
                "签名按部分厂商的非标准方式计算（签名内容与标准不同），已按兼容方式核验",
                "A signature was made over a non-standard form some producers use, and was verified in that form",
            ),
            SealWarning::SignerRevokedAfterSigning => (
                "signer_revoked_after_signing",
                "签章人证书在签章之后被吊销（不影响本次签章）",
                "The signer certificate was revoked after signing (this signature stands)",
            ),
            SealWarning::LenientCertificate => (
                "lenient_certificate",
                "证书编码不完全规范，已按兼容方式读取",
                "A certificate is not strictly encoded and was read leniently",
            ),
            SealWarning::SigningTimeAfterCheck => (
                "signing_time_after_check",
                "签章时间晚于核验时间",
                "The signing time is later than the time of the check",
            ),
            SealWarning::ZonelessSigningTime => (
                "zoneless_signing_time",
                "签章时间未标明时区，按北京时间处理",
                "The signing time has no time zone and was read as China time",
            ),
        };
        OutcomeText { code, zh, en }
    }
}

/// What a seal signature names that may have to be fetched, read before verification.
struct Needs<'t> {
    signature: Option<SealSignature>,
    /// The seal's status list URI, when inside its region's prefix.
    status_uri: Option<String>,
    /// The signer certificate's CRL.
    crl: Option<CrlSource<'t>>,
}

impl<'t> Needs<'t> {
    fn read(signature_der: &[u8], trust: &'t TrustList) -> Needs<'t> {
        let Ok(signature) = SealSignature::from_der(signature_der) else {
            return Needs {
                signature: None,
                status_uri: None,
                crl: None,
            };
        };
        let seal = signature.seal();
        // The licence rule: a verifier never fetches a URI outside the prefix the trust list
        // gives the seal's region (the seal check reports such a seal as malformed).
        let status_uri = seal
            .status_reference()
            .filter(|reference| {
                seal.region()
                    .and_then(|code| trust.region(&code))
                    .is_some_and(|region| {
                        !region.status_uri_prefix.is_empty()
                            && reference.uri.starts_with(&region.status_uri_prefix)
                    })
            })
            .map(|reference| reference.uri);
        let crl = SealCertificate::parse(signature.signer_cert())
            .ok()
            .and_then(|signer| CrlSource::for_signer(trust, &signer));
        Needs {
            signature: Some(signature),
            status_uri,
            crl,
        }
    }
}

impl Verifier {
    /// Verifies a seal signature (`SignedValue.dat` / `.ses`, DER) over `document` at `at`
    /// (SPEC §8), with the current trust list, the seal's status list and the signer's CRL.
    ///
    /// Fetches the status list or CRL the first time it is needed, or once it is stale
    /// (online mode only; bounded by the fetcher's timeout, so this may block on the
    /// network). An unreachable status list or CRL makes the answer `indeterminate`
    /// (`seal_status_unknown` / `signer_revocation_unknown`).
    ///
    /// ```no_run
    /// use huren_verifier::{TrustSource, Verifier, VerifierConfig};
    /// # #[cfg(not(feature = "fetch"))] fn main() {}
    /// # #[cfg(feature = "fetch")]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let pem = std::fs::read("operator.crt.pem")?;
    /// let verifier = Verifier::open(
    ///     VerifierConfig {
    ///         trust_source: TrustSource::parse("https://trust.example.gov.cn/trust-list.jwt"),
    ///         operator_certs: huren_verifier::operator_certificates_from_pem(&pem)?,
    ///         cache_dir: Some("/var/cache/huren".into()),
    ///         online: true,
    ///         options: Default::default(),
    ///         unit: None, // seals only
    ///     },
    ///     huren_verifier::now(),
    /// )?;
    /// let document = std::fs::read("contract.pdf")?;
    /// let signature = std::fs::read("contract.pdf.ses")?;
    /// let report = verifier.verify_seal(&signature, &document, huren_verifier::now());
    /// println!("{}", serde_json::to_string_pretty(&report)?);
    /// # Ok(()) }
    /// ```
    pub fn verify_seal(&self, signature_der: &[u8], document: &[u8], at: UnixTime) -> SealReport {
        self.check_seal(signature_der, document, at, false).report
    }

    /// Like [`Verifier::verify_seal`], but refetches the seal's status list and the signer's
    /// CRL first (online mode).
    pub fn verify_seal_fresh(
        &self,
        signature_der: &[u8],
        document: &[u8],
        at: UnixTime,
    ) -> SealReport {
        self.check_seal(signature_der, document, at, true).report
    }

    /// Verifies like [`Verifier::verify_seal`] (refetching first when `fresh`) and returns the
    /// answer the service sends: the report with the picture, the trust list `seq`, the time
    /// and the texts.
    pub fn check_seal(
        &self,
        signature_der: &[u8],
        document: &[u8],
        at: UnixTime,
        fresh: bool,
    ) -> SealAnswer {
        let loaded = self.trust.current();
        let trust = &loaded.trust;
        let options = SealVerifyOptions {
            skew_seconds: self.options.skew_seconds,
            trust_list_grace_seconds: self.options.trust_list_grace_seconds,
        };
        let needs = Needs::read(signature_der, trust);
        if self.online {
            self.fetch_for_seal(signature_der, trust, &needs, at, fresh, options);
        }
        let status: Option<Arc<VerifiedStatusList>> = needs
            .status_uri
            .as_deref()
            .and_then(|uri| self.status.get(uri));
        let crl: Option<Arc<VerifiedCrl>> =
            needs.crl.as_ref().and_then(|source| self.crls.get(source));
        let report = verify_seal_signature(&SealVerifyInput {
            signature: signature_der,
            document: Document::Bytes(document),
            trust: SealTrust::TrustList(trust),
            seal_status: status.as_deref(),
            // Only the CRL of the root that issued the signer: never one of another root that
            // happens to carry the same name.
            crls: crl.as_deref().map_or(&[], std::slice::from_ref),
            at,
            options,
        });
        let picture = needs
            .signature
            .as_ref()
            .and_then(|signature| picture(&report, signature));
        SealAnswer {
            picture,
            checked_at: at.to_rfc3339_china(),
            trust_list_seq: trust.seq(),
            reason_texts: report.reasons.iter().map(|r| (*r).into()).collect(),
            warning_texts: report.warnings.iter().map(|w| (*w).into()).collect(),
            report,
        }
    }

    /// Fetches what the seal check needs and does not hold fresh, if the signature verifies.
    fn fetch_for_seal(
        &self,
        signature_der: &[u8],
        trust: &TrustList,
        needs: &Needs<'_>,
        at: UnixTime,
        fresh: bool,
        options: SealVerifyOptions,
    ) {
        let status_due = needs.status_uri.as_deref().filter(|uri| {
            let stale = self
                .status
                .get(uri)
                .is_none_or(|list| !list.is_fresh(at, options.skew_seconds));
            fresh || (stale && self.status.may_try(uri, at))
        });
        let crl_due = needs.crl.as_ref().filter(|source| {
            fresh || (self.crls.is_due(source, at) && self.crls.may_try(&source.url, at))
        });
        if status_due.is_none() && crl_due.is_none() {
            return;
        }
        let precheck = verify_seal_signature(&SealVerifyInput {
            signature: signature_der,
            document: Document::Digest(&[]),
            trust: SealTrust::TrustList(trust),
            seal_status: None,
            crls: &[],
            at,
            options,
        });
        // Fetch only for a seal a trusted maker of the right region signed, and for a signer
        // that seal names: the status URI and the signer certificate come from the file, and
        // without these gates any caller could make the verifier fetch URLs of its choosing.
        let vouched = precheck.vouched();
        if !vouched {
            return;
        }
        // A failed fetch leaves what is held (or nothing): the check then says so.
        std::thread::scope(|scope| {
            if let Some(uri) = status_due {
                scope.spawn(move || {
                    let _ = self.status.fetch(uri, trust, at);
                });
            }
            if let Some(source) = crl_due {
                let _ = self.crls.fetch(&source.url, source.region, at);
            }
        });
    }
}

/// The picture to show with `report`, if any (see [`SealImage`]).
fn picture(report: &SealReport, signature: &SealSignature) -> Option<SealImage> {
    report.seal.as_ref()?;
    let maker_untrusted = report
        .checks
        .iter()
        .any(|c| c.check == SealCheckName::MakerTrusted && c.ok == Some(false));
    if maker_untrusted {
        return None;
    }
    let info = signature.seal().picture();
    let kind = info.kind.as_str().to_owned();
    let data = info.data.as_bytes();
    Some(SealImage {
        media_type: media_type(&kind, data),
        kind,
        data_b64: huren_crypto::b64::encode_std(data),
        width_mm: info.width,
        height_mm: info.height,
    })
}

/// The media type a picture can be displayed as, judged by its bytes.
fn media_type(kind: &str, data: &[u8]) -> Option<&'static str> {
    if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if data.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if data.starts_with(b"GIF87a") || data.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if kind.eq_ignore_ascii_case("svg") && is_markup(data) {
        Some("image/svg+xml")
    } else {
        None
    }
}

/// UTF-8 text starting (after a byte-order mark and white space) with `<`.
fn is_markup(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    text.trim_start_matches('\u{feff}')
        .trim_start()
        .starts_with('<')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pictures_are_typed_by_their_bytes() {
        assert_eq!(
            media_type("PNG", b"\x89PNG\r\n\x1a\nrest"),
            Some("image/png")
        );
        // The stated type does not decide: PNG bytes labelled JPG are shown as PNG.
        assert_eq!(
            media_type("JPG", b"\x89PNG\r\n\x1a\nrest"),
            Some("image/png")
        );
        assert_eq!(media_type("JPG", b"\xff\xd8\xff\xe0"), Some("image/jpeg"));
        assert_eq!(media_type("GIF", b"GIF89a...."), Some("image/gif"));
        assert_eq!(
            media_type(
                "SVG",
                "\u{feff} <svg xmlns=\"http://www.w3.org/2000/svg\"/>".as_bytes()
            ),
            Some("image/svg+xml")
        );
        // Markup is SVG only when the seal says so; anything else is not for display.
        assert_eq!(media_type("PNG", b"<svg/>"), None);
        assert_eq!(media_type("SVG", b"\x00\x01binary"), None);
        assert_eq!(media_type("OFD", b"PK\x03\x04"), None);
    }

    #[test]
    fn every_warning_has_words_in_both_languages() {
        for warning in [
            SealWarning::TimestampNotVerified,
            SealWarning::CrlPredatesSigning,
            SealWarning::NonstandardSignedContent,
            SealWarning::SignerRevokedAfterSigning,
            SealWarning::LenientCertificate,
            SealWarning::SigningTimeAfterCheck,
            SealWarning::ZonelessSigningTime,
        ] {
            let text = OutcomeText::from(warning);
            // The code is the one the report serializes.
            assert_eq!(
                serde_json::to_value(warning).ok(),
                Some(serde_json::Value::from(text.code))
            );
            assert!(!text.zh.is_empty() && !text.en.is_empty());
        }
    }
}
