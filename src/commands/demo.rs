//! `huren demo`: three provinces (Zhejiang ES256, Jiangsu PS256, Anhui SM2SM3), a trust list,
//! an issuer per province on SQLite under the demo directory, sample licences, and
//! `demo.json` for scripts. Runs until interrupted; a second run reuses the keys.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use huren_crypto::alg::Algorithm;
use huren_crypto::ids::RegionCode;
use huren_crypto::time::Clock;
use huren_issuer::app::{self, App};
use huren_issuer::config::{IssuerFile, SealHolderFile};
use huren_issuer::copies::CopyRequest;
use huren_issuer::issuance::IssueRequest;
use huren_issuer::tokens::{self, Scope, TokenSpec};
use huren_keys::layout::{self, InitRegion, OperatorDir, RegionConfig, RegionDir};
use huren_keys::note_keys::{NoteKeySource, SetNoteKeys};
use huren_keys::store::{self, Passphrase, Protection};
use huren_keys::{trust_build, SystemClock};
use rand_core::RngCore;
use serde_json::json;
use tokio::net::TcpListener;

const PROVINCES: [(&str, Algorithm); 3] = [
    ("330000", Algorithm::Es256),
    ("320000", Algorithm::Ps256),
    ("340000", Algorithm::Sm2Sm3),
];

/// The demo's key passphrase: random, made once, kept in the demo directory (0600).
fn demo_passphrase(dir: &Path) -> Result<Passphrase> {
    let path = dir.join(".passphrase");
    if !path.exists() {
        let mut bytes = [0u8; 24];
        rand_core::OsRng.fill_bytes(&mut bytes);
        store::write_atomic(&path, hex::encode(bytes).as_bytes(), 0o600, false)?;
    }
    let text = String::from_utf8(store::read_bounded(&path, 1024)?)
        .context("demo passphrase is not UTF-8")?;
    Ok(Passphrase::new(text.trim().to_owned())?)
}

fn sample_requests(region: &str) -> Vec<IssueRequest> {
    let building = json!({
        "type_code": "11100000000013338W032",
        "number": format!("D{}12345", &region[..2]),
        "holder": {"name": "示例建设有限公司", "id_type": "001", "id": "91350100M000100Y43"},
        "issuer": {"name": "省住房和城乡建设厅", "code": "11220000013544541J"},
        "face": {"qualification": "建筑工程施工总承包壹级", "legal_representative": "王五", "registered_capital": "5000万元人民币",
                 "address": "示例市示例路1号", "economic_nature": "有限责任公司"}
    });
    let transport = json!({
        "type_code": "11100000000019713D008",
        "number": format!("{}0012345", &region[..2]),
        "holder": {"name": "示例运输有限公司", "id_type": "001", "id": "9144030071526726XG"},
        "issuer": {"name": "省交通运输厅", "code": "11220000013544541J"},
        "face": {"business_scope": "道路普通货物运输", "economic_type": "有限责任公司", "address": "示例市物流园2号"}
    });
    [building, transport]
        .into_iter()
        .filter_map(|v| serde_json::from_value(v).ok())
        .collect()
}

/// The sample copy each province's portal makes of its first sample licence: SPEC §11's
/// example purpose, for one unit, with the default disclosure.
fn sample_copy_request(licence: &huren_issuer::issuance::IssueRequest) -> Result<CopyRequest> {
    Ok(serde_json::from_value(json!({
        "holder": {"id_type": licence.holder.id_type.code(), "id": licence.holder.id},
        "purpose": {"cause": "办理异地建筑工程施工许可", "category": 0,
                    "item_code": "320105-JS-001", "item_name": "建筑工程施工许可证核发"},
        "aud": {"name": "南京市建邺区行政审批局", "code": "11320105MB12345623"},
    }))?)
}

pub fn run(dir: &Path, port: u16) -> Result<ExitCode> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let passphrase = demo_passphrase(dir)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run_async(dir, port, &passphrase))
}

async fn run_async(dir: &Path, port: u16, passphrase: &Passphrase) -> Result<ExitCode> {
    // One subscriber for the process: the verifier's (its usage log is what the demo's load
    // is about), through a non-blocking writer held until the demo stops.
    let _log = huren_verifier::server::service::init_logging(
        huren_verifier::server::config::LogFormat::Text,
    );
    let now = SystemClock.now();
    // Bind first, so the trust list can name the real (possibly ephemeral) ports.
    let mut listeners = Vec::new();
    for (i, _) in PROVINCES.iter().enumerate() {
        let wanted = if port == 0 { 0 } else { port + 1 + i as u16 };
        let listener = TcpListener::bind(("127.0.0.1", wanted))
            .await
            .with_context(|| format!("binding 127.0.0.1:{wanted}"))?;
        listeners.push(listener);
    }

    let operator_dir = dir.join("operator");
    if !operator_dir.join(layout::OPERATOR_FILE).exists() {
        layout::init_operator(
            &operator_dir,
            "国家政务服务平台（演示）",
            Algorithm::Es256,
            Protection::Encrypted(passphrase),
            now,
        )?;
    }
    let operator = OperatorDir::open(&operator_dir)?;
    let mut regions = Vec::new();
    for ((code, alg), listener) in PROVINCES.iter().zip(&listeners) {
        let public_url = format!("http://{}", listener.local_addr()?);
        let region_dir = dir.join(code);
        if !region_dir.join(layout::REGION_FILE).exists() {
            let code = RegionCode::parse(code)?;
            let init = InitRegion {
                name: code.province_name().to_owned(),
                code,
                alg: *alg,
                public_url: public_url.clone(),
                protection: Protection::Encrypted(passphrase),
                now,
            };
            layout::init_region(&region_dir, &init)?;
        }
        // The ports may differ from the last run: point the region at this run's issuer.
        let mut config: RegionConfig = RegionDir::open(&region_dir)?.config;
        if config.public_url != public_url {
            config.public_url = public_url;
            let text = serde_json::to_string_pretty(&config)? + "\n";
            store::write_atomic(
                &region_dir.join(layout::REGION_FILE),
                text.as_bytes(),
                0o644,
                true,
            )?;
        }
        let region = RegionDir::open(&region_dir)?;
        // A demo directory made before issuance logs existed: give it its log and witness keys,
        // so the three provinces witness each other's logs (quorum 1 of 2).
        if region.config.log.is_none() || region.config.witness.is_none() {
            region.set_note_keys(&SetNoteKeys {
                log: NoteKeySource::KeepOrGenerate,
                witness: NoteKeySource::KeepOrGenerate,
                source_passphrase: None,
                protection: Protection::Encrypted(passphrase),
            })?;
        }
        regions.push(RegionDir::open(&region_dir)?);
    }
    let claims = trust_build::assemble(
        &operator.config.name,
        &regions,
        now.seconds().unsigned_abs(),
        now,
        7 * 86_400,
    )?;
    let token = trust_build::sign(
        &claims,
        &operator.key(Some(passphrase))?,
        &operator.certificate()?,
    )?;
    let trust_path = dir.join("trust-list.jwt");
    store::write_atomic(&trust_path, format!("{token}\n").as_bytes(), 0o644, true)?;
    let operator_cert = operator_dir.join(&operator.config.files.cert);

    let mut issuers = Vec::new();
    let mut samples = Vec::new();
    let mut sealed_samples = Vec::new();
    let mut handles = Vec::new();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    for (region, listener) in regions.iter().zip(listeners) {
        let seal = super::demo_seals::prepare(region, dir, passphrase, now)?;
        sealed_samples.push(json!({
            "region": region.config.code.as_str(),
            "document": seal.contract,
            "signature": seal.signature,
        }));
        let file = IssuerFile {
            region_dir: Some(region.path.clone()),
            trust_list: Some(trust_path.clone()),
            operator_cert: Some(vec![operator_cert.clone()]),
            database_url: Some(format!(
                "sqlite://{}?mode=rwc",
                region.path.join("issuer.db").display()
            )),
            data_dir: Some(region.path.join("issuer-data")),
            seal_holders: Some(vec![SealHolderFile {
                key: seal.holder.path.join(&seal.holder.config.key),
                cert: seal.holder.path.join(&seal.holder.config.cert),
                alg: Some(seal.holder.config.alg),
            }]),
            crl: Some(seal.crl),
            ..IssuerFile::default()
        };
        let config = file.resolve()?;
        let app = App::build(&config, listener, Some(passphrase), Arc::new(SystemClock)).await?;
        let url = format!("http://{}", app.local_addr()?);
        let issuer = &app.state().issuer;
        let spec = TokenSpec {
            region: &issuer.keys.region,
            scopes: &[
                Scope::Issue,
                Scope::Read,
                Scope::Revoke,
                Scope::Audit,
                Scope::Seal,
                Scope::SealSign,
            ],
            types: &[],
            label: "demo admin",
            lifetime: tokens::Lifetime::DEFAULT,
        };
        let (admin_token, principal) = tokens::create(
            &issuer.store,
            &spec,
            "cli:demo",
            now.seconds(),
            &mut rand_core::OsRng,
        )
        .await?;
        // The province's holder-facing portal: makes annotated copies (加注件) for holders it
        // has authenticated, and reads licences; its label is the copies' copier.
        let portal_label = format!("{}政务服务网（演示）", region.config.name);
        let portal_spec = TokenSpec {
            region: &issuer.keys.region,
            scopes: &[Scope::Copy, Scope::Read],
            types: &[],
            label: &portal_label,
            lifetime: tokens::Lifetime::DEFAULT,
        };
        let (portal_token, portal) = tokens::create(
            &issuer.store,
            &portal_spec,
            "cli:demo",
            now.seconds(),
            &mut rand_core::OsRng,
        )
        .await?;
        let region_code = region.config.code.as_str();
        for (i, request) in sample_requests(region_code).into_iter().enumerate() {
            let (issued, _) = issuer.issue(&principal, &request, None).await?;
            samples.push(json!({"kind": "licence", "jti": issued.id, "token": issued.token, "qr_text": issued.qr_text, "region": region_code}));
            if i == 0 {
                let copy = issuer
                    .make_copy(&portal, &issued.id, &sample_copy_request(&request)?)
                    .await?;
                samples.push(json!({"kind": "copy", "jti": copy.id, "copy_of": issued.id, "token": copy.token, "qr_text": copy.qr_text, "region": region_code}));
            }
        }
        issuers.push(json!({"region": region_code, "name": region.config.name, "url": url, "admin_token": admin_token, "portal_token": portal_token}));
        let mut stop = stop_rx.clone();
        handles.push(tokio::spawn(app.run_until(async move {
            let _ = stop.changed().await;
        })));
    }

    // The verifier, on the first port, with the clerk's page.
    let verifier_listener = TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| format!("binding 127.0.0.1:{port}"))?;
    let verifier_url = format!("http://{}", verifier_listener.local_addr()?);
    let verifier_config = huren_verifier::server::config::VerifierFile {
        trust_list: Some(trust_path.display().to_string()),
        operator_cert: Some(vec![operator_cert.clone()]),
        cache_dir: Some(dir.join("verifier-cache")),
        rate_limit: Some(0),
        ..Default::default()
    }
    .resolve()?;
    let verifier = super::verifier::build(&verifier_config, verifier_listener).await?;
    let mut stop = stop_rx.clone();
    handles.push(tokio::spawn(verifier.run_until(async move {
        let _ = stop.changed().await;
    })));

    let manifest = json!({
        "trust_list": trust_path.canonicalize().unwrap_or(trust_path.clone()),
        "operator_cert": operator_cert.canonicalize().unwrap_or(operator_cert.clone()),
        "verifier_url": verifier_url,
        "issuers": issuers,
        "samples": samples,
        "sealed_samples": sealed_samples,
    });
    let manifest_path = dir.join("demo.json");
    store::write_atomic(
        &manifest_path,
        serde_json::to_string_pretty(&manifest)?.as_bytes(),
        0o600,
        true,
    )?;

    eprintln!(
        "\nhuren demo is running (Ctrl-C to stop). Manifest: {}",
        manifest_path.display()
    );
    eprintln!("  the clerk's page (scan or paste a sample's qr_text): {verifier_url}/");
    for issuer in manifest["issuers"].as_array().into_iter().flatten() {
        eprintln!(
            "  issuer {} {}: {}/openapi.json",
            issuer["region"].as_str().unwrap_or(""),
            issuer["name"].as_str().unwrap_or(""),
            issuer["url"].as_str().unwrap_or("")
        );
    }
    eprintln!(
        "  a sealed document to check on the page (验证电子印章文件): {}",
        dir.join("samples").display()
    );
    eprintln!("  trust list: {}", trust_path.display());
    eprintln!("  verify a sample offline:");
    eprintln!("    huren verify --trust-list {} --operator-cert {} --fetch-status \"$(jq -r '.samples[0].qr_text' {})\"", trust_path.display(), operator_cert.display(), manifest_path.display());
    eprintln!(
        "  an annotated copy (加注件) per province is among the samples (\"kind\": \"copy\"); each"
    );
    eprintln!(
        "  issuer's portal_token (scope copy, read) makes more: POST /v1/licences/{{jti}}/copies"
    );
    eprintln!("  admin and portal tokens for the issuers are in the manifest (mode 0600).");

    app::shutdown_signal().await;
    let _ = stop_tx.send(true);
    for handle in handles {
        let _ = handle.await;
    }
    Ok(ExitCode::SUCCESS)
}
