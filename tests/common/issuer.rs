//! An issuer running in-process for tests: a fresh Zhejiang (ES256) PKI, a trust list, a
//! fresh database (a temporary SQLite file, or a new PostgreSQL database when
//! `TEST_POSTGRES_URL` is set), and requests sent through the router without a socket.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use huren_crypto::alg::Algorithm;
use huren_crypto::cert::Certificate;
use huren_crypto::ids::RegionCode;
use huren_crypto::status_token::VerifiedStatusList;
use huren_crypto::time::{FixedClock, UnixTime};
use huren_crypto::trust_list::TrustList;
use huren_crypto::verify::{verify_licence, Report, VerifyOptions};
use huren_issuer::app::StartError;
use huren_issuer::config::IssuerFile;
use huren_issuer::http::{router, AppState};
use huren_issuer::tokens::{self, Scope, TokenSpec};
use huren_issuer::App;
use huren_keys::layout::{self, RegionDir};
use huren_keys::store::Passphrase;
use tower::ServiceExt;

use super::pki;

/// "Now" for issuer tests: the PKI is made an hour before.
pub const ISSUER_NOW: UnixTime = UnixTime(1_795_400_000);

/// Which database a scenario runs on.
#[derive(Debug, Clone)]
pub enum Db {
    /// A temporary SQLite file.
    Sqlite,
    /// A fresh database on the server at this URL.
    Postgres(String),
}

impl Db {
    /// PostgreSQL from `TEST_POSTGRES_URL` (scripts/test sets it). Without it the variant is
    /// recorded as skipped (a failure under `CI`) and the caller returns.
    pub fn postgres() -> Option<Db> {
        postgres_url().map(Db::Postgres)
    }
}

/// `TEST_POSTGRES_URL`, or `None` after recording the calling test as skipped.
pub fn postgres_url() -> Option<String> {
    match std::env::var("TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            skips::skipped("TEST_POSTGRES_URL is not set (no PostgreSQL)");
            None
        }
    }
}

/// Creates a uniquely named database on the server and returns its URL.
pub async fn fresh_postgres(base: &str) -> String {
    use sqlx::Connection;
    let mut conn = sqlx::postgres::PgConnection::connect(base)
        .await
        .expect("TEST_POSTGRES_URL must be reachable");
    let name = format!("huren_test_{}_{}", std::process::id(), rand_suffix());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap();
    let (prefix, _) = base.rsplit_once('/').unwrap();
    format!("{prefix}/{name}")
}

fn rand_suffix() -> String {
    use rand_core::RngCore;
    format!("{:016x}", rand_core::OsRng.next_u64())
}

/// A running (in-process) issuer.
pub struct TestIssuer {
    pub dir: tempfile::TempDir,
    pub state: AppState,
    pub trust: Arc<TrustList>,
    pub admin: String,
    pub database_url: String,
    pub config: huren_issuer::IssuerConfig,
}

/// A response.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

/// Makes the PKI, trust list and database, and builds the issuer.
pub async fn spawn_issuer(db: &Db) -> TestIssuer {
    spawn_issuer_with(db, |_, _, _| None).await
}

/// Like [`spawn_issuer`], with `customise` run on the temporary directory, the region and the
/// configuration before the issuer is built (seal tests add holder keys and a CRL); it returns
/// the key passphrase to start with, if any.
pub async fn spawn_issuer_with(
    db: &Db,
    customise: impl FnOnce(&std::path::Path, &RegionDir, &mut IssuerFile) -> Option<Passphrase>,
) -> TestIssuer {
    try_spawn_issuer_with(db, customise)
        .await
        .unwrap_or_else(|e| panic!("issuer did not start: {e}"))
}

/// Like [`spawn_issuer_with`], returning why the issuer refused to start.
pub async fn try_spawn_issuer_with(
    db: &Db,
    customise: impl FnOnce(&std::path::Path, &RegionDir, &mut IssuerFile) -> Option<Passphrase>,
) -> Result<TestIssuer, StartError> {
    try_spawn_region_issuer(db, "330000", None, customise).await
}

/// An issuer of `region` (its own PKI, trust list and data directory) on the database at
/// `shared_database` — another test issuer's, as when several provinces' issuers share one
/// database — or on a fresh one.
pub async fn spawn_region_issuer(
    db: &Db,
    region: &str,
    shared_database: Option<&str>,
    customise: impl FnOnce(&std::path::Path, &RegionDir, &mut IssuerFile) -> Option<Passphrase>,
) -> TestIssuer {
    try_spawn_region_issuer(db, region, shared_database, customise)
        .await
        .unwrap_or_else(|e| panic!("issuer of {region} did not start: {e}"))
}

async fn try_spawn_region_issuer(
    db: &Db,
    region_code: &str,
    shared_database: Option<&str>,
    customise: impl FnOnce(&std::path::Path, &RegionDir, &mut IssuerFile) -> Option<Passphrase>,
) -> Result<TestIssuer, StartError> {
    let code = RegionCode::parse(region_code).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let made = ISSUER_NOW.minus(3600);
    let operator = pki::operator(&dir.path().join("op"), "测试运营方", made);
    let public_url = match region_code {
        "330000" => "https://issuer.zj.example".to_owned(),
        other => format!("https://issuer-{other}.example"),
    };
    let region = pki::province(
        &dir.path().join("zj"),
        region_code,
        Algorithm::Es256,
        &public_url,
        made,
    );
    let token = pki::trust_list(&operator, std::slice::from_ref(&region), 1, made);
    std::fs::write(dir.path().join("trust-list.jwt"), &token).unwrap();
    let database_url = match (db, shared_database) {
        (_, Some(url)) => url.to_owned(),
        (Db::Sqlite, None) => format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("issuer.db").display()
        ),
        (Db::Postgres(base), None) => fresh_postgres(base).await,
    };
    let mut file = IssuerFile {
        region_dir: Some(dir.path().join("zj")),
        trust_list: Some(dir.path().join("trust-list.jwt")),
        operator_cert: Some(vec![dir.path().join("op/operator.crt.pem")]),
        database_url: Some(database_url.clone()),
        data_dir: Some(dir.path().join("data")),
        status_list_capacity: Some(1 << 12),
        allow_plaintext_keys: Some(true), // the test PKI is plaintext
        ..IssuerFile::default()
    };
    let passphrase = customise(dir.path(), &region, &mut file);
    let config = file.resolve().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app = App::build(
        &config,
        listener,
        passphrase.as_ref(),
        Arc::new(FixedClock(ISSUER_NOW)),
    )
    .await?;
    let state = app.state().clone();
    let pinned = Certificate::from_der(&operator.certificate().unwrap()).unwrap();
    let trust = Arc::new(TrustList::verify(&token, &[pinned]).unwrap());
    let admin = admin_token(&state.issuer.store, &code).await;
    Ok(TestIssuer {
        dir,
        state,
        trust,
        admin,
        database_url,
        config,
    })
}

impl TestIssuer {
    /// Sends a request through the router.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<(&str, Vec<u8>)>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let body = match body {
            Some((content_type, bytes)) => {
                request = request.header("content-type", content_type);
                Body::from(bytes)
            }
            None => Body::empty(),
        };
        let response = router(self.state.clone())
            .oneshot(request.body(body).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = axum::body::to_bytes(response.into_body(), 64 << 20)
            .await
            .unwrap()
            .to_vec();
        Reply {
            status,
            headers,
            body,
        }
    }

    /// POSTs JSON with the admin token.
    pub async fn post(&self, path: &str, json: &serde_json::Value) -> Reply {
        self.call(
            Method::POST,
            path,
            Some(&self.admin),
            Some(("application/json", json.to_string().into_bytes())),
            &[],
        )
        .await
    }

    /// GETs `path` with the admin token.
    pub async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, Some(&self.admin), None, &[])
            .await
    }

    /// A token for `region` with `scopes` and `types` (empty = all).
    pub async fn token(&self, region: &str, scopes: &[Scope], types: &[&str]) -> String {
        let types: Vec<String> = types.iter().map(|t| (*t).to_owned()).collect();
        let region = RegionCode::parse(region).unwrap();
        let spec = TokenSpec {
            region: &region,
            scopes,
            types: &types,
            label: "test",
            lifetime: tokens::Lifetime::DEFAULT,
        };
        create_token(&self.state.issuer.store, &spec).await
    }

    /// Verifies `token` as a window would, with the status list fetched from this issuer.
    pub async fn verify(&self, input: &str) -> Report {
        let probe = verify_licence(
            input,
            &self.trust,
            &huren_crypto::verify::NoStatusLists,
            ISSUER_NOW,
            &VerifyOptions::default(),
        );
        let mut lists = std::collections::HashMap::new();
        if let Some(used) = probe.status_lists.first() {
            let list_id = used.uri.rsplit('/').next().unwrap();
            let reply = self
                .call(
                    Method::GET,
                    &format!("/v1/status/{list_id}"),
                    None,
                    None,
                    &[],
                )
                .await;
            assert_eq!(reply.status, StatusCode::OK);
            let token = String::from_utf8(reply.body).unwrap();
            let list = VerifiedStatusList::verify(&token, &used.uri, &self.trust).unwrap();
            lists.insert(used.uri.clone(), Arc::new(list));
        }
        verify_licence(
            input,
            &self.trust,
            &lists,
            ISSUER_NOW,
            &VerifyOptions::default(),
        )
    }

    /// Number of stored licences.
    pub async fn licence_count(&self) -> i64 {
        use sqlx::Row;
        sqlx::query("SELECT COUNT(*) AS n FROM licences")
            .fetch_one(self.state.issuer.store.pool())
            .await
            .unwrap()
            .try_get("n")
            .unwrap()
    }
}

/// A token of `region` for every type with the scopes issue, read, revoke and audit, made at
/// [`ISSUER_NOW`].
pub async fn admin_token(store: &huren_issuer::store::Store, region: &RegionCode) -> String {
    let spec = TokenSpec {
        region,
        scopes: &[Scope::Issue, Scope::Read, Scope::Revoke, Scope::Audit],
        types: &[],
        label: "test admin",
        lifetime: tokens::Lifetime::DEFAULT,
    };
    create_token(store, &spec).await
}

/// The bearer token `spec` describes, made by "test" at [`ISSUER_NOW`].
async fn create_token(store: &huren_issuer::store::Store, spec: &TokenSpec<'_>) -> String {
    tokens::create(
        store,
        spec,
        "test",
        ISSUER_NOW.seconds(),
        &mut rand_core::OsRng,
    )
    .await
    .unwrap()
    .0
}

/// A valid 建筑业企业资质证书 request.
pub fn building_licence() -> serde_json::Value {
    serde_json::json!({
        "type_code": "11100000000013338W032",
        "number": "D233012345",
        "holder": {"name": "杭州示例建设有限公司", "id_type": "001", "id": "91350100M000100Y43"},
        "issuer": {"name": "浙江省住房和城乡建设厅", "code": "11220000013544541J"},
        "face": {"qualification": "建筑工程施工总承包壹级", "legal_representative": "王五", "registered_capital": "5000万元人民币",
                 "address": "杭州市西湖区示例路1号", "economic_nature": "有限责任公司"}
    })
}

/// A trust list naming `region` as its files say at `at`, issued then by the operator in
/// `dir/op`: the token and the list as a verifier holds it.
pub fn trust_list_at(
    dir: &std::path::Path,
    region: &RegionDir,
    seq: u64,
    at: UnixTime,
) -> (String, TrustList) {
    let operator = layout::OperatorDir::open(&dir.join("op"))
        .unwrap()
        .with_plaintext_keys(huren_keys::store::PlaintextKeys::Allow);
    let token = pki::trust_list(&operator, std::slice::from_ref(region), seq, at);
    let pinned = Certificate::from_der(&operator.certificate().unwrap()).unwrap();
    let trust = TrustList::verify(&token, &[pinned]).unwrap();
    (token, trust)
}
