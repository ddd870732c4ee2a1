//! The body of `POST /v1/seals` and its checks: every field, every problem named, before
//! anything is looked up or signed.

use std::sync::Arc;

use huren_crypto::b64;
use huren_crypto::cert::Certificate;
use huren_crypto::ids::Uscc;
use huren_crypto::licence::FieldError;
use huren_crypto::oids::Purpose;
use huren_crypto::seal::build::MAX_PICTURE_SIDE_MM;
use huren_crypto::seal::{seal_type_name, PictureType, SealPicture, SEAL_TYPES};
use huren_crypto::time::UnixTime;
use serde::Deserialize;

use super::image::{check_png, check_svg};
use super::{
    field, Seals, MAX_HOLDER_CERTS, MAX_IMAGE_BYTES, MAX_NAME_CHARS, MAX_SEAL_VALIDITY_SECONDS,
};
use crate::keyring::PlatformHolder;

/// The body of `POST /v1/seals`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealRequest {
    /// 印章名称, as the seal shows it (e.g. `杭州示例建设有限公司合同专用章`).
    pub name: String,
    /// The organisation's 统一社会信用代码.
    pub uscc: String,
    /// 印章类型 ([`SEAL_TYPES`]).
    pub seal_type: i64,
    /// The seal image, standard base64.
    pub image_b64: String,
    /// `png` or `svg`.
    pub image_type: String,
    /// Printed width in millimetres.
    pub width_mm: u32,
    /// Printed height in millimetres.
    pub height_mm: u32,
    /// Start of validity: RFC 3339, or a date (the start of that day, China time); default now.
    #[serde(default)]
    pub valid_start: Option<String>,
    /// End of validity: RFC 3339, or a date (the end of that day, China time).
    pub valid_end: String,
    /// Holder certificates (PEM, one each) the seal may be applied with.
    #[serde(default)]
    pub holder_certs_pem: Vec<String>,
    /// Also list the holder certificates the platform holds for this USCC (server-side
    /// sealing).
    #[serde(default)]
    pub platform_holder: bool,
}

/// A request that passed every check.
#[derive(Debug)]
pub(super) struct Checked {
    pub(super) name: String,
    pub(super) uscc: Uscc,
    pub(super) seal_type: i64,
    pub(super) picture: SealPicture,
    pub(super) valid_start: UnixTime,
    pub(super) valid_end: UnixTime,
    pub(super) holder_certs: Vec<Certificate>,
}

impl Seals {
    /// Checks every field of a seal request at `now`; returns every problem, each naming its
    /// field.
    pub(super) fn check(
        &self,
        request: &SealRequest,
        now: UnixTime,
    ) -> Result<Checked, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = request.name.clone();
        let chars = name.chars().count();
        if chars == 0
            || chars > MAX_NAME_CHARS
            || name.trim() != name
            || name.chars().any(char::is_control)
        {
            errors.push(field(
                "name",
                format!("must be 1 to {MAX_NAME_CHARS} characters, without control characters or surrounding spaces"),
            ));
        }
        let uscc = Uscc::parse(&request.uscc)
            .map_err(|e| errors.push(field("uscc", format!("not a 统一社会信用代码: {e}"))))
            .ok();
        if seal_type_name(request.seal_type).is_none() {
            let known: Vec<String> = SEAL_TYPES
                .iter()
                .map(|(code, name)| format!("{code} {name}"))
                .collect();
            errors.push(field(
                "seal_type",
                format!("must be one of {}", known.join(", ")),
            ));
        }
        let picture = self.check_picture(request, &mut errors);
        let valid_start = match &request.valid_start {
            Some(text) => parse_time(text, false)
                .map_err(|m| errors.push(field("valid_start", m)))
                .ok(),
            None => Some(now),
        };
        let valid_end = parse_time(&request.valid_end, true)
            .map_err(|m| errors.push(field("valid_end", m)))
            .ok();
        if let (Some(start), Some(end)) = (valid_start, valid_end) {
            if end <= start {
                errors.push(field("valid_end", "must be after valid_start"));
            } else if end <= now {
                errors.push(field("valid_end", format!("is not after now ({now})")));
            } else if end.seconds() - start.seconds() > MAX_SEAL_VALIDITY_SECONDS {
                errors.push(field("valid_end", "a seal is valid for at most 10 years"));
            }
        }
        let holder_certs = self.check_holders(request, uscc.as_ref(), now, &mut errors);
        match (uscc, picture, valid_start, valid_end, errors.is_empty()) {
            (Some(uscc), Some(picture), Some(valid_start), Some(valid_end), true) => Ok(Checked {
                name,
                uscc,
                seal_type: request.seal_type,
                picture,
                valid_start,
                valid_end,
                holder_certs,
            }),
            _ => Err(errors),
        }
    }

    fn check_picture(
        &self,
        request: &SealRequest,
        errors: &mut Vec<FieldError>,
    ) -> Option<SealPicture> {
        let kind = match request.image_type.as_str() {
            "png" => Some(PictureType::Png),
            "svg" => Some(PictureType::Svg),
            _ => {
                errors.push(field("image_type", "must be png or svg"));
                None
            }
        };
        for (name, side) in [
            ("width_mm", request.width_mm),
            ("height_mm", request.height_mm),
        ] {
            if side == 0 || side > MAX_PICTURE_SIDE_MM {
                errors.push(field(name, format!("must be 1 to {MAX_PICTURE_SIDE_MM}")));
            }
        }
        // Base64 is 4 characters per 3 bytes: anything longer decodes past the limit.
        let max_chars = MAX_IMAGE_BYTES.div_ceil(3) * 4;
        let data = match b64::decode_std(request.image_b64.trim(), max_chars) {
            Ok(data) if data.is_empty() => {
                errors.push(field("image_b64", "is empty"));
                return None;
            }
            Ok(data) if data.len() > MAX_IMAGE_BYTES => {
                errors.push(field(
                    "image_b64",
                    format!("the image is larger than {MAX_IMAGE_BYTES} bytes"),
                ));
                return None;
            }
            Ok(data) => data,
            Err(b64::Base64Error::TooLong { .. }) => {
                errors.push(field(
                    "image_b64",
                    format!("the image is larger than {MAX_IMAGE_BYTES} bytes"),
                ));
                return None;
            }
            Err(_) => {
                errors.push(field(
                    "image_b64",
                    "is not standard base64 (RFC 4648 §4, padded)",
                ));
                return None;
            }
        };
        let checked = match kind? {
            PictureType::Png => check_png(&data),
            PictureType::Svg => check_svg(&data),
        };
        if let Err(message) = checked {
            errors.push(field("image_b64", message));
            return None;
        }
        Some(SealPicture {
            kind: kind?,
            data,
            width_mm: request.width_mm,
            height_mm: request.height_mm,
        })
    }

    /// The holder certificates: those given, then the platform's for this USCC if asked.
    fn check_holders(
        &self,
        request: &SealRequest,
        uscc: Option<&Uscc>,
        now: UnixTime,
        errors: &mut Vec<FieldError>,
    ) -> Vec<Certificate> {
        let mut certs: Vec<Certificate> = Vec::new();
        for (i, pem) in request.holder_certs_pem.iter().enumerate() {
            let name = format!("holder_certs_pem[{i}]");
            let cert = match pem_certificate(pem)
                .and_then(|der| Certificate::from_der(&der).map_err(|e| e.to_string()))
            {
                Ok(cert) => cert,
                Err(message) => {
                    errors.push(field(name, message));
                    continue;
                }
            };
            if let Err(e) = cert.check_leaf_profile(Purpose::SealHolder) {
                errors.push(field(name, format!("not a seal-holder certificate: {e}")));
                continue;
            }
            if cert.not_after() < now {
                errors.push(field(
                    name,
                    format!("the certificate expired at {}", cert.not_after()),
                ));
                continue;
            }
            // The certificate must name this organisation: a seal for one company applied
            // with another's key is exactly what seals exist to prevent, and verifiers trust
            // the holder certificates because the province's maker listed them. One that
            // names no USCC cannot be checked, so it is refused too.
            let named = cert
                .subject_serial_number()
                .and_then(|text| Uscc::parse(text).ok());
            match (named, uscc) {
                (Some(named), Some(uscc)) if &named != uscc => {
                    errors.push(field(
                        name,
                        format!("the certificate is for USCC {named}, not {uscc}"),
                    ));
                    continue;
                }
                (None, _) => {
                    errors.push(field(
                        name,
                        "the certificate does not name the organisation's USCC (subject \
                         serialNumber, as `huren pki issue-holder` writes it)",
                    ));
                    continue;
                }
                _ => {}
            }
            if certs.iter().any(|c| c.der() == cert.der()) {
                errors.push(field(name, "this certificate is already listed"));
                continue;
            }
            certs.push(cert);
        }
        if request.platform_holder {
            if let Some(uscc) = uscc {
                let held: Vec<&Arc<PlatformHolder>> = self
                    .keys
                    .holders
                    .iter()
                    .filter(|h| h.uscc.as_ref() == Some(uscc) && h.cert.not_after() >= now)
                    .collect();
                if held.is_empty() {
                    errors.push(field(
                        "platform_holder",
                        format!("the platform holds no valid seal-holder key for USCC {uscc}"),
                    ));
                }
                for holder in held {
                    if !certs.iter().any(|c| c.der() == holder.cert.der()) {
                        certs.push(holder.cert.clone());
                    }
                }
            }
        }
        if certs.is_empty() && request.holder_certs_pem.is_empty() && !request.platform_holder {
            errors.push(field(
                "holder_certs_pem",
                "give at least one holder certificate, or platform_holder: true",
            ));
        }
        if certs.len() > MAX_HOLDER_CERTS {
            errors.push(field(
                "holder_certs_pem",
                format!("a seal lists at most {MAX_HOLDER_CERTS} holder certificates"),
            ));
        }
        certs
    }
}

/// `YYYY-MM-DD` (start or end of that day, China time) or RFC 3339.
fn parse_time(text: &str, end_of_day: bool) -> Result<UnixTime, String> {
    let text = text.trim();
    let date_format = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(date) = time::Date::parse(text, &date_format) {
        return Ok(if end_of_day {
            UnixTime::end_of_china_day(date)
        } else {
            UnixTime::start_of_china_day(date)
        });
    }
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(UnixTime::from_datetime)
        .map_err(|_| "must be a date (YYYY-MM-DD) or an RFC 3339 time".to_owned())
}

/// The DER of exactly one PEM `CERTIFICATE` block.
fn pem_certificate(text: &str) -> Result<Vec<u8>, String> {
    // 16 KiB is the decoder's bound on a certificate inside a seal.
    huren_crypto::pem::decode_one(text.as_bytes(), "CERTIFICATE", 16 * 1024).map_err(|e| {
        format!(
            "must be one PEM certificate (-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----): {e}"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity_times_are_dates_or_rfc3339() {
        let start = parse_time("2026-11-22", false).unwrap();
        let end = parse_time("2026-11-22", true).unwrap();
        assert_eq!(start.to_rfc3339_china(), "2026-11-22T00:00:00+08:00");
        assert_eq!(end.to_rfc3339_china(), "2026-11-22T23:59:59+08:00");
        let at = parse_time("2026-11-22T01:30:00Z", false).unwrap();
        assert_eq!(at.to_rfc3339_china(), "2026-11-22T09:30:00+08:00");
        assert!(parse_time("22/11/2026", false).is_err());
    }

    #[test]
    fn pem_holds_exactly_one_certificate() {
        let block = "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----";
        assert_eq!(pem_certificate(block).unwrap(), vec![0x30, 0x00]);
        assert!(pem_certificate(&format!("{block}\n{block}")).is_err());
        assert!(pem_certificate("MAA=").is_err());
        assert!(
            pem_certificate("-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----").is_err()
        );
    }
}
