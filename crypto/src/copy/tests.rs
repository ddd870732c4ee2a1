//! The holder's terms and the cut-down licence: every rule named in SPEC §11 and issue 12, each
//! refused with the field it concerns.

use super::*;
use crate::ids::LicenceId;
use crate::licence::Licence;
use crate::status_list::StatusListPointer;

fn licence_claims() -> LicenceClaims {
    let licence: Licence = serde_json::from_value(serde_json::json!({
        "type_code": "11100000000013338W032",
        "type_name": "建筑业企业资质证书",
        "number": "D233012345",
        "holder": {"name": "杭州示例建设有限公司", "id_type": "001", "id": "91350100M000100Y43"},
        "issuer": {"name": "浙江省住房和城乡建设厅", "code": "11220000013544541J"},
        "issued_on": "2026-11-22",
        "valid_from": "2026-11-22",
        "valid_until": "2031-11-21",
        "face": {"资质类别及等级": "建筑工程施工总承包壹级", "法定代表人身份证号": "11010519491231002X"}
    }))
    .unwrap();
    let jti = LicenceId::generate(
        &licence.type_code,
        &licence.issuer.code,
        "2026000001",
        "001",
    )
    .unwrap();
    let status = StatusReference {
        status_list: StatusListPointer {
            idx: 7,
            uri: "https://issuer.example/v1/status/330000-0".into(),
        },
    };
    LicenceClaims::new(
        RegionCode::parse("330000").unwrap(),
        jti,
        UnixTime(1_795_400_000),
        licence,
        Some(status),
    )
}

fn terms() -> CopyTerms {
    serde_json::from_value(serde_json::json!({
        "purpose": {"cause": "办理异地建筑工程施工许可", "category": 0,
                    "item_code": "11320105MB1234562300001", "item_name": "建筑工程施工许可证核发"},
        "aud": {"name": "南京市建邺区行政审批局", "code": "11320105MB12345623"},
    }))
    .unwrap()
}

const MADE: UnixTime = UnixTime(1_795_500_000);

fn making(face_disclosable: &dyn Fn(&str) -> bool) -> CopyMaking<'_> {
    CopyMaking {
        id: CopyId::from_random([7; 16]),
        iat: MADE,
        copier: Copier {
            name: "浙江政务服务网".into(),
        },
        copy_status: Some(StatusReference {
            status_list: StatusListPointer {
                idx: 9,
                uri: "https://issuer.example/v1/status/330000-0".into(),
            },
        }),
        face_disclosable,
    }
}

fn all_disclosable(_: &str) -> bool {
    true
}

fn fields(errors: Vec<FieldError>) -> Vec<String> {
    errors.into_iter().map(|e| e.field).collect()
}

#[test]
fn a_default_copy_shows_number_and_holder_name_only_and_lasts_a_day() {
    let licence = licence_claims();
    let copy = terms().make(&licence, making(&all_disclosable)).unwrap();
    assert_eq!(copy.disclosed, ["number", "holder.name"]);
    assert_eq!(copy.licence.number.as_deref(), Some("D233012345"));
    assert_eq!(
        copy.licence.holder.name.as_deref(),
        Some("杭州示例建设有限公司")
    );
    assert_eq!(copy.licence.holder.id, None);
    assert_eq!(copy.licence.holder.id_type, None);
    assert!(copy.licence.face.is_empty());
    assert_eq!(copy.exp - copy.iat, DEFAULT_COPY_SECONDS);
    assert_eq!(copy.copy_of, licence.jti);
    assert_eq!(copy.status, licence.status, "the licence's entry is shared");
    assert_eq!(copy.copy_status.as_ref().unwrap().status_list.idx, 9);
    copy.check_shape().unwrap();
    // Withheld fields are absent from the signed JSON, not empty or masked.
    let json = serde_json::to_string(&copy).unwrap();
    for withheld in [
        "91350100M000100Y43",
        "11010519491231002X",
        "建筑工程施工总承包壹级",
        "issued_on",
    ] {
        assert!(!json.contains(withheld), "{withheld} in {json}");
    }
}

#[test]
fn the_id_number_brings_its_type_and_face_keys_are_copied_exactly() {
    let mut terms = terms();
    terms.disclose = Some(vec![
        "face.资质类别及等级".into(),
        "holder.id".into(),
        "holder.id".into(),
    ]);
    let copy = terms
        .make(&licence_claims(), making(&all_disclosable))
        .unwrap();
    assert_eq!(copy.disclosed, ["holder.id", "face.资质类别及等级"]);
    assert_eq!(copy.licence.holder.id_type.map(|t| t.code()), Some("001"));
    assert_eq!(
        copy.licence.holder.id.as_deref(),
        Some("91350100M000100Y43")
    );
    assert_eq!(copy.licence.face.len(), 1);
    copy.check_shape().unwrap();
}

#[test]
fn every_bad_term_is_refused_naming_its_field() {
    let mut terms = terms();
    terms.purpose.cause = "因".repeat(201);
    terms.purpose.item_code = None;
    terms.aud.as_mut().unwrap().code = "11320105MB12345624".into();
    terms.valid_for_secs = Some(59);
    terms.disclose = Some(vec!["holder.birthday".into(), "face.注册资本".into()]);
    let errors = terms
        .make(&licence_claims(), making(&all_disclosable))
        .unwrap_err();
    assert_eq!(
        fields(errors.clone()),
        [
            "purpose.cause",
            "purpose.item_code",
            "aud.code",
            "valid_for_secs",
            "disclose[0]",
            "disclose[1]"
        ],
        "{errors:?}"
    );
    assert!(errors[0].message.contains("201 characters"), "{errors:?}");
}

#[test]
fn copy_length_bounds_are_60_seconds_and_90_days() {
    for (secs, ok) in [
        (59, false),
        (60, true),
        (MAX_COPY_SECONDS, true),
        (MAX_COPY_SECONDS + 1, false),
        (-1, false),
    ] {
        let mut terms = terms();
        terms.valid_for_secs = Some(secs);
        assert_eq!(terms.check().is_ok(), ok, "{secs}");
    }
}

#[test]
fn category_decides_whether_a_service_item_is_named() {
    let mut on_screen = terms();
    on_screen.purpose.category = 1;
    assert_eq!(
        fields(on_screen.check().unwrap_err()),
        ["purpose.item_code", "purpose.item_name"]
    );
    on_screen.purpose.item_code = None;
    on_screen.purpose.item_name = None;
    on_screen.check().unwrap();
    let mut bad = terms();
    bad.purpose.category = 2;
    assert_eq!(fields(bad.check().unwrap_err()), ["purpose.category"]);
    let mut no_name = terms();
    no_name.purpose.item_name = None;
    assert_eq!(fields(no_name.check().unwrap_err()), ["purpose.item_name"]);
    let mut bad_code = terms();
    bad_code.purpose.item_code = Some("11 32".into());
    assert_eq!(fields(bad_code.check().unwrap_err()), ["purpose.item_code"]);
}

#[test]
fn the_catalogue_can_forbid_a_face_field() {
    let mut terms = terms();
    terms.disclose = Some(vec!["face.法定代表人身份证号".into()]);
    let never_id = |key: &str| key != "法定代表人身份证号";
    let errors = terms
        .make(&licence_claims(), making(&never_id))
        .unwrap_err();
    assert_eq!(fields(errors.clone()), ["disclose[0]"]);
    assert!(
        errors[0].message.contains("may never be disclosed"),
        "{errors:?}"
    );
}

#[test]
fn a_copy_never_outlives_its_licence_and_an_expired_one_cannot_be_copied() {
    let mut licence = licence_claims();
    licence.exp = Some(MADE.plus(600).seconds());
    let copy = terms().make(&licence, making(&all_disclosable)).unwrap();
    assert_eq!(copy.exp, MADE.plus(600).seconds());
    for end in [MADE.minus(1), MADE.plus(MIN_COPY_SECONDS - 1)] {
        licence.exp = Some(end.seconds());
        let errors = terms()
            .make(&licence, making(&all_disclosable))
            .unwrap_err();
        assert_eq!(fields(errors), ["copy_of"]);
    }
    licence.exp = Some(MADE.plus(MIN_COPY_SECONDS).seconds());
    let shortest = terms().make(&licence, making(&all_disclosable)).unwrap();
    assert_eq!(shortest.exp - shortest.iat, MIN_COPY_SECONDS);
}

#[test]
fn a_verifier_refuses_a_copy_whose_disclosed_list_lies_or_that_lasts_too_long() {
    let copy = terms()
        .make(&licence_claims(), making(&all_disclosable))
        .unwrap();
    let mut hidden_field = copy.clone();
    hidden_field.licence.holder.id = Some("91350100M000100Y43".into());
    assert!(hidden_field
        .check_shape()
        .unwrap_err()
        .contains("disclosed"));
    let mut claims_more = copy.clone();
    claims_more.disclosed.push("holder.id".into());
    assert!(claims_more.check_shape().is_err());
    let mut too_long = copy.clone();
    too_long.exp = too_long.iat + MAX_COPY_SECONDS + 1;
    assert!(too_long.check_shape().is_err());
    let mut backwards = copy;
    backwards.exp = backwards.iat;
    assert!(backwards.check_shape().is_err());
}

#[test]
fn copy_ids_are_26_base32_characters() {
    let id = CopyId::from_random([0xA5; 16]);
    assert_eq!(id.as_str().len(), 26);
    assert_eq!(CopyId::parse(id.as_str()).unwrap(), id);
    for bad in [
        "",
        "abc",
        &id.as_str().to_lowercase(),
        &format!("{}A", id.as_str()),
        "0000000000000000000000000A",
    ] {
        assert!(CopyId::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn unknown_fields_in_a_copy_or_its_terms_are_refused() {
    let mut json = serde_json::to_value(terms()).unwrap();
    json["copier"] = serde_json::json!({"name": "x"});
    assert!(serde_json::from_value::<CopyTerms>(json).is_err());
    let copy = terms()
        .make(&licence_claims(), making(&all_disclosable))
        .unwrap();
    let mut json = serde_json::to_value(&copy).unwrap();
    json["licence"]["issued_on"] = "2026-11-22".into();
    assert!(serde_json::from_value::<CopyClaims>(json).is_err());
}

#[test]
fn item_code_characters_are_huren_s_rule_for_its_own_copies_not_for_verifying_others() {
    let mut copy = terms()
        .make(&licence_claims(), making(&all_disclosable))
        .unwrap();
    copy.purpose.item_code = Some("事项 0001".into());
    copy.check_shape().unwrap();
    let mut terms = terms();
    terms.purpose.item_code = copy.purpose.item_code.clone();
    assert_eq!(fields(terms.check().unwrap_err()), ["purpose.item_code"]);
    copy.purpose.item_code = None;
    assert!(copy
        .check_shape()
        .unwrap_err()
        .contains("purpose.item_code"));
}
