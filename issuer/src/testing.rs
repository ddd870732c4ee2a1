//! A region's issuing core for the crate's own unit tests: a fresh ES256 PKI and trust list
//! (plaintext keys), the built-in catalogue, a temporary SQLite database and a fixed clock.
//! The cross-crate scenarios (`tests/`) build theirs through the HTTP app instead.

use std::sync::Arc;

use huren_crypto::alg::Algorithm;
use huren_crypto::ids::RegionCode;
use huren_crypto::time::{FixedClock, UnixTime};
use huren_crypto::trust_list::TrustList;
use huren_keys::layout::{self, InitRegion};
use huren_keys::store::{PlaintextKeys, Protection};
use huren_keys::trust_build;

use crate::anchor::HeadStore;
use crate::catalogue::Catalogue;
use crate::issuance::{IssueRequest, Issuer};
use crate::keyring::Keyring;
use crate::store::{RegionStore, Store};
use crate::tokens::{Principal, Scope};

/// "Now" of the unit tests; the PKI is made an hour before.
pub const NOW: UnixTime = UnixTime(1_795_400_000);

/// The core of a Zhejiang issuer, with its directory (kept alive as long as the core).
pub async fn issuer() -> (Issuer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let made = NOW.minus(3600);
    let operator = layout::init_operator(
        &dir.path().join("op"),
        "测试运营方",
        Algorithm::Es256,
        Protection::Plaintext,
        made,
    )
    .unwrap();
    let code = RegionCode::parse("330000").unwrap();
    let init = InitRegion {
        code: code.clone(),
        name: code.province_name().to_owned(),
        alg: Algorithm::Es256,
        public_url: "https://issuer.zj.example".to_owned(),
        protection: Protection::Plaintext,
        now: made,
    };
    let region = layout::init_region(&dir.path().join("zj"), &init).unwrap();
    let claims =
        trust_build::assemble("测试运营方", std::slice::from_ref(&region), 1, made, 86_400)
            .unwrap();
    let token = trust_build::sign(
        &claims,
        &operator.key(None).unwrap(),
        &operator.certificate().unwrap(),
    )
    .unwrap();
    let pinned =
        huren_crypto::cert::Certificate::from_der(&operator.certificate().unwrap()).unwrap();
    let trust = TrustList::verify(&token, &[pinned]).unwrap();
    let region = region.with_plaintext_keys(PlaintextKeys::Allow);
    let keys = Keyring::load(&region, None, &trust).unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("issuer.db").display()
    );
    let store = Store::connect(&url).await.unwrap();
    let issuer = Issuer {
        store: RegionStore::new(store, code.clone()),
        heads: Arc::new(HeadStore::open(&dir.path().join("data"), &code).unwrap()),
        log: None,
        witness_key: None,
        keys,
        catalogue: Catalogue::builtin(),
        trust: Arc::new(trust),
        list_capacity: 1 << 12,
        clock: Arc::new(FixedClock(NOW)),
    };
    (issuer, dir)
}

/// A token of the region that may issue, read and revoke every type.
pub fn principal(issuer: &Issuer) -> Principal {
    Principal {
        id: "unit-test".into(),
        region: issuer.keys.region.clone(),
        scopes: vec![Scope::Issue, Scope::Read, Scope::Revoke],
        types: vec!["*".into()],
    }
}

/// A valid 建筑业企业资质证书 request.
pub fn request() -> IssueRequest {
    serde_json::from_value(serde_json::json!({
        "type_code": "11100000000013338W032",
        "number": "D233012345",
        "holder": {"name": "杭州示例建设有限公司", "id_type": "001", "id": "91350100M000100Y43"},
        "issuer": {"name": "浙江省住房和城乡建设厅", "code": "11220000013544541J"},
        "face": {"qualification": "建筑工程施工总承包壹级", "legal_representative": "王五",
                 "registered_capital": "5000万元人民币", "address": "杭州市西湖区示例路1号",
                 "economic_nature": "有限责任公司"}
    }))
    .unwrap()
}
