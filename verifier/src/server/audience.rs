//! Who a licence request is verified for (SPEC §11): the using unit (用证单位) an annotated
//! copy must name.
//!
//! A request may name its audience (`{"audience": {"code": …}}` in a JSON body, or
//! `?audience=CODE` with any body). The service's own unit (`HUREN_VERIFIER_UNIT`), when set,
//! is authoritative: a request naming the same unit is fine, one naming another is refused
//! (`audience_conflict`) rather than silently checked for either — a window never lets a
//! client re-point it at another unit, and a client is never told "valid" for a unit it did
//! not ask about. A code that is not a valid USCC is refused (`bad_audience`), never ignored.

use std::borrow::Cow;

use huren_crypto::ids::Uscc;

use super::problem::{AudienceAgainst, AudienceField, Refusal};

fn parse(code: &str, field: AudienceField) -> Result<Uscc, Refusal> {
    Uscc::parse(code).map_err(|e| Refusal::BadAudience {
        field,
        detail: e.to_string(),
    })
}

/// The unit to verify for: the service's `unit` if configured, else what the request named
/// (`body`, `query`), else none (copies naming a unit then get `audience_not_checked`).
pub(super) fn unit_for<'a>(
    service: Option<&'a Uscc>,
    body: Option<&str>,
    query: Option<&str>,
) -> Result<Option<Cow<'a, Uscc>>, Refusal> {
    let body = body.map(|c| parse(c, AudienceField::Body)).transpose()?;
    let query = query.map(|c| parse(c, AudienceField::Query)).transpose()?;
    let named = match (body, query) {
        (Some(body), Some(query)) if body != query => {
            return Err(Refusal::AudienceConflict {
                field: AudienceField::Query,
                against: AudienceAgainst::Body,
            })
        }
        (Some(body), _) => Some((body, AudienceField::Body)),
        (None, Some(query)) => Some((query, AudienceField::Query)),
        (None, None) => None,
    };
    match (service, named) {
        (Some(unit), Some((named, field))) if *unit != named => Err(Refusal::AudienceConflict {
            field,
            against: AudienceAgainst::ServiceUnit,
        }),
        (Some(unit), _) => Ok(Some(Cow::Borrowed(unit))),
        (None, named) => Ok(named.map(|(unit, _)| Cow::Owned(unit))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "91350100M000100Y43";
    const B: &str = "11320105MB12345623";

    fn code(unit: Result<Option<Cow<'_, Uscc>>, Refusal>) -> Option<String> {
        unit.unwrap().map(|u| u.as_str().to_owned())
    }

    #[test]
    fn the_service_unit_decides_and_a_request_naming_another_is_refused() {
        let a = Uscc::parse(A).unwrap();
        assert_eq!(code(unit_for(None, None, None)), None);
        assert_eq!(code(unit_for(None, Some(A), None)), Some(A.into()));
        assert_eq!(code(unit_for(None, None, Some(B))), Some(B.into()));
        assert_eq!(code(unit_for(None, Some(A), Some(A))), Some(A.into()));
        assert_eq!(code(unit_for(Some(&a), None, None)), Some(A.into()));
        assert_eq!(code(unit_for(Some(&a), Some(A), None)), Some(A.into()));
        assert_eq!(
            unit_for(Some(&a), Some(B), None).unwrap_err(),
            Refusal::AudienceConflict {
                field: AudienceField::Body,
                against: AudienceAgainst::ServiceUnit
            }
        );
        assert_eq!(
            unit_for(Some(&a), None, Some(B)).unwrap_err(),
            Refusal::AudienceConflict {
                field: AudienceField::Query,
                against: AudienceAgainst::ServiceUnit
            }
        );
        assert_eq!(
            unit_for(None, Some(A), Some(B)).unwrap_err(),
            Refusal::AudienceConflict {
                field: AudienceField::Query,
                against: AudienceAgainst::Body
            }
        );
        // A bad code is refused even where the service's unit would decide anyway.
        for bad in ["", "91350100M000100Y44", "91350100m000100y43"] {
            let refusal = unit_for(Some(&a), Some(bad), None).unwrap_err();
            assert!(
                matches!(
                    refusal,
                    Refusal::BadAudience {
                        field: AudienceField::Body,
                        ..
                    }
                ),
                "{bad}: {refusal:?}"
            );
            assert_eq!(refusal.code(), "bad_audience");
        }
    }
}
