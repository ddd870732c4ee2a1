//! `huren issuer …` and `huren types`: running the issuer and administering it.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use huren_crypto::ids::RegionCode;
use huren_crypto::time::Clock;
use huren_issuer::anchor::HeadStore;
use huren_issuer::app::{self, App};
use huren_issuer::config::IssuerFile;
use huren_issuer::issuance::{BatchOutcome, IssueRequest};
use huren_issuer::store::{RegionStore, Store};
use huren_issuer::tokens::{self, Lifetime, Principal, Scope, TokenSpec};
use huren_issuer::{audit, IssuerConfig};
use huren_keys::SystemClock;
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};

use super::log_audit::LogAudit;
use crate::args::{AuditCommand, IssuerCommand, IssuerConfigArgs, TokenCommand};
use crate::common;

fn config_file(args: &IssuerConfigArgs) -> Result<IssuerFile> {
    let file = match &args.config {
        Some(path) => IssuerFile::from_toml_file(path)?,
        None => IssuerFile::default(),
    };
    Ok(file.with_env(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))?)
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

pub fn run(command: IssuerCommand, passphrase_file: Option<&Path>) -> Result<ExitCode> {
    match command {
        IssuerCommand::Serve { config } => {
            let config = config_file(&config)?.resolve()?;
            app::init_logging(config.log_format);
            let passphrase =
                common::passphrase(config.passphrase_file.as_deref().or(passphrase_file))?;
            runtime()?.block_on(async {
                let listener = tokio::net::TcpListener::bind(config.listen)
                    .await
                    .with_context(|| format!("binding {}", config.listen))?;
                let app = App::build(
                    &config,
                    listener,
                    passphrase.as_ref(),
                    Arc::new(SystemClock),
                )
                .await?;
                eprintln!(
                    "issuer for {} listening on http://{}",
                    app.state().issuer.keys.region,
                    app.local_addr()?
                );
                app.run_until(app::shutdown_signal()).await?;
                Ok::<_, anyhow::Error>(())
            })?;
        }
        IssuerCommand::Token(TokenCommand::Create {
            region,
            scopes,
            types,
            label,
            expires_in,
            config,
        }) => {
            let region =
                RegionCode::parse(&region).with_context(|| format!("--region {region:?}"))?;
            let scopes = scopes
                .iter()
                .map(|s| Scope::parse(s))
                .collect::<Result<Vec<_>, _>>()
                .map_err(anyhow::Error::msg)?;
            let url = config_file(&config)?.database_url()?;
            let token = runtime()?.block_on(async {
                let store = Store::connect(&url).await?;
                let spec = TokenSpec {
                    region: &region,
                    scopes: &scopes,
                    types: &types,
                    label: &label,
                    lifetime: expires_in.unwrap_or(Lifetime::DEFAULT),
                };
                let now = SystemClock.now();
                let (token, principal) = tokens::create(
                    &store,
                    &spec,
                    &cli_actor(),
                    now.seconds(),
                    &mut rand_core::OsRng,
                )
                .await?;
                eprintln!(
                    "created {} for {} with scopes {:?}, valid until {}; it is shown once",
                    principal.id,
                    principal.region,
                    principal.scopes,
                    now.plus(spec.lifetime.seconds()).to_rfc3339_china()
                );
                Ok::<_, anyhow::Error>(token)
            })?;
            common::emit(&token)?;
        }
        IssuerCommand::Token(TokenCommand::List { region, config }) => {
            let region = region
                .map(|r| RegionCode::parse(&r).with_context(|| format!("--region {r:?}")))
                .transpose()?;
            let url = config_file(&config)?.database_url()?;
            let tokens = runtime()?.block_on(async {
                let store = Store::connect(&url).await?;
                Ok::<_, anyhow::Error>(tokens::list(&store, region.as_ref()).await?)
            })?;
            common::emit(&serde_json::to_string_pretty(
                &serde_json::json!({ "tokens": tokens }),
            )?)?;
        }
        IssuerCommand::Token(TokenCommand::Revoke { id, config }) => {
            let url = config_file(&config)?.database_url()?;
            runtime()?.block_on(async {
                let store = Store::connect(&url).await?;
                tokens::revoke(&store, &id, &cli_actor(), SystemClock.now().seconds()).await?;
                Ok::<_, anyhow::Error>(())
            })?;
            eprintln!("revoked {id}: it is refused from its next request on");
        }
        IssuerCommand::Audit(AuditCommand::Verify { config }) => {
            return audit_verify(&config_file(&config)?);
        }
        IssuerCommand::Import {
            file,
            chunk,
            config,
        } => {
            let config = config_file(&config)?.resolve()?;
            let passphrase =
                common::passphrase(config.passphrase_file.as_deref().or(passphrase_file))?;
            return runtime()?.block_on(import(
                &config,
                passphrase.as_ref(),
                &file,
                chunk.clamp(1, 5000),
            ));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `huren issuer audit verify`: the region's chain in the database, checked link by link and
/// against every signed head in the data directory (`huren_issuer::anchor`); also the legacy
/// chain of a database several regions wrote before migration 0003, if there is one.
fn audit_verify(file: &IssuerFile) -> Result<ExitCode> {
    let url = file.database_url()?;
    let region_dir = file
        .region_dir
        .as_deref()
        .context("configuration: region_dir (HUREN_REGION_DIR) is required: it names the region and holds its root")?;
    let region = huren_keys::layout::RegionDir::open(region_dir)?;
    let code = region.config.code.clone();
    let root = huren_crypto::cert::Certificate::from_der(&region.root_der()?)
        .context("the region root certificate")?;
    let data_dir = file
        .data_dir
        .clone()
        .unwrap_or_else(|| huren_issuer::config::DEFAULT_DATA_DIR.into());
    let heads = HeadStore::open(&data_dir, &code)?;
    let signed = match heads.load_verified(&code, &root) {
        Ok(signed) => signed,
        Err(e) => {
            let problem = format!("{e} (a signed head that does not verify was forged or damaged)");
            common::emit(
                &serde_json::json!({"ok": false, "region": code.as_str(), "problem": problem})
                    .to_string(),
            )?;
            eprintln!("AUDIT CHAIN NOT VERIFIED: {problem}");
            return Ok(ExitCode::from(1));
        }
    };
    let (result, legacy, head, log) = runtime()?.block_on(async {
        let store = RegionStore::new(Store::connect(&url).await?, code.clone());
        let result = audit::verify_anchored(&store, &signed).await?;
        let legacy = audit::verify_legacy_chain(&store).await?;
        let head = store.audit_head().await?;
        let log = super::log_audit::check(file, &code, &store).await?;
        Ok::<_, anyhow::Error>((result, legacy, head, log))
    })?;
    let newest = signed.iter().map(|h| h.seq).max();
    let mut report = serde_json::json!({
        "region": code.as_str(),
        "signed_heads": signed.len(),
        "newest_signed_seq": newest,
        "heads_dir": heads.dir().display().to_string(),
    });
    let mut ok = true;
    match result {
        Ok(count) => {
            report["entries"] = count.into();
            eprintln!("audit chain of {code} intact: {count} entries");
            match newest {
                Some(seq) => eprintln!(
                    "it extends all {} signed heads (newest: entry {seq}); {} entries after it are not signed yet",
                    signed.len(),
                    head.seq - seq
                ),
                None if count > 0 => eprintln!(
                    "warning: no signed audit head in {}: nothing outside the database anchors this chain yet",
                    heads.dir().display()
                ),
                None => {}
            }
        }
        Err(problem) => {
            ok = false;
            report["problem"] = problem.to_string().into();
            eprintln!("AUDIT CHAIN OF {code} BROKEN: {problem}");
        }
    }
    if let Some(legacy) = legacy {
        match legacy {
            Ok(count) => {
                report["legacy_entries"] = count.into();
                eprintln!(
                    "legacy chain (written before regions had their own) intact: {count} entries"
                );
            }
            Err(problem) => {
                ok = false;
                report["legacy_problem"] = problem.to_string().into();
                eprintln!("LEGACY AUDIT CHAIN BROKEN: {problem}");
            }
        }
    }
    match log {
        LogAudit::Agrees { size, witnesses } => {
            eprintln!(
                "the audit log rebuilds the transparency log's witnessed checkpoint of {size} entries (cosigned by {})",
                witnesses.join(", ")
            );
            report["log"] = serde_json::json!({"checked": true, "witnessed_size": size, "witnesses": witnesses});
        }
        LogAudit::Disagrees(problem) => {
            ok = false;
            eprintln!("AUDIT LOG DISAGREES WITH THE TRANSPARENCY LOG: {problem}");
            report["log"] = serde_json::json!({"checked": true, "problem": problem});
        }
        LogAudit::NoWitnessedCheckpoint => {
            eprintln!("no witnessed checkpoint found yet: the signed heads are the anchor");
            report["log"] =
                serde_json::json!({"checked": false, "reason": "no witnessed checkpoint yet"});
        }
        LogAudit::NotChecked(reason) => {
            eprintln!("transparency log not checked ({reason}): the signed heads are the anchor");
            report["log"] = serde_json::json!({"checked": false, "reason": reason});
        }
    }
    report["ok"] = ok.into();
    common::emit(&report.to_string())?;
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Who the audit log names for a command-line action.
fn cli_actor() -> String {
    format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    )
}

pub fn types(catalogue: Option<&Path>) -> Result<ExitCode> {
    let types = common::catalogue(catalogue)?;
    common::emit(&serde_json::to_string_pretty(&types.to_json())?)?;
    Ok(ExitCode::SUCCESS)
}

/// One row of an import file: its number (1-based, as an editor shows it), resume key and request.
struct Row {
    line: usize,
    key: String,
    request: Result<IssueRequest, String>,
}

fn read_rows(path: &Path) -> Result<Vec<Row>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    // The resume key binds a row to this file's name and the row's content, so an edited row
    // is issued again and an untouched one never twice.
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let key = |line: usize, content: &str| {
        hex::encode(Sha256::digest(
            format!("{name}\n{line}\n{content}").as_bytes(),
        ))
    };
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if matches!(extension, "jsonl" | "ndjson" | "json") {
        return Ok(text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| Row {
                line: i + 1,
                key: key(i + 1, l),
                request: huren_issuer::http::parse_json::<IssueRequest>(l.as_bytes())
                    .map_err(|e| format!("{e:?}")),
            })
            .collect());
    }
    if extension != "csv" {
        bail!("{}: use a .csv or .jsonl file", path.display());
    }
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader.headers().context("reading the CSV header")?.clone();
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                rows.push(Row {
                    line,
                    key: key(line, ""),
                    request: Err(e.to_string()),
                });
                continue;
            }
        };
        let content = record.iter().collect::<Vec<_>>().join("\u{1f}");
        rows.push(Row {
            line,
            key: key(line, &content),
            request: csv_request(&headers, &record),
        });
    }
    Ok(rows)
}

fn csv_request(
    headers: &csv::StringRecord,
    record: &csv::StringRecord,
) -> Result<IssueRequest, String> {
    let mut licence = serde_json::Map::new();
    let mut holder = serde_json::Map::new();
    let mut issuer = serde_json::Map::new();
    let mut face = serde_json::Map::new();
    for (header, value) in headers.iter().zip(record.iter()) {
        if value.is_empty() {
            continue;
        }
        let value = serde_json::Value::String(value.to_owned());
        match header {
            "holder_name" => {
                holder.insert("name".into(), value);
            }
            "holder_id_type" => {
                holder.insert("id_type".into(), value);
            }
            "holder_id" => {
                holder.insert("id".into(), value);
            }
            "issuer_name" => {
                issuer.insert("name".into(), value);
            }
            "issuer_code" => {
                issuer.insert("code".into(), value);
            }
            "valid_until" if value == "长期" || value == "long-term" => {
                licence.insert("valid_until".into(), serde_json::Value::Null);
            }
            h if h.starts_with("face.") => {
                face.insert(h["face.".len()..].to_owned(), value);
            }
            "" => {}
            other => {
                licence.insert(other.to_owned(), value);
            }
        }
    }
    licence.insert("holder".into(), holder.into());
    licence.insert("issuer".into(), issuer.into());
    licence.insert("face".into(), face.into());
    let json = serde_json::Value::Object(licence).to_string();
    huren_issuer::http::parse_json::<IssueRequest>(json.as_bytes()).map_err(|e| match e {
        huren_issuer::http::ApiError::Invalid(errors) => errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; "),
        other => format!("{other:?}"),
    })
}

async fn import(
    config: &IssuerConfig,
    passphrase: Option<&huren_keys::store::Passphrase>,
    file: &Path,
    chunk: usize,
) -> Result<ExitCode> {
    let rows = read_rows(file)?;
    let (issuer, _) = app::build_issuer(config, passphrase, Arc::new(SystemClock)).await?;
    let principal = Principal {
        id: format!(
            "cli:import:{}",
            file.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        ),
        region: issuer.keys.region.clone(),
        scopes: vec![Scope::Issue, Scope::Revoke],
        types: vec!["*".into()],
    };
    let bar = ProgressBar::new(rows.len() as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} rows ({per_sec}, eta {eta}) {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let (mut issued, mut skipped, mut failed) = (0usize, 0usize, 0usize);
    for group in rows.chunks(chunk) {
        let mut items = Vec::new();
        let mut lines = Vec::new();
        for row in group {
            match &row.request {
                Ok(request) => {
                    items.push((Some(row.key.as_str()), request));
                    lines.push(row.line);
                }
                Err(e) => {
                    failed += 1;
                    bar.suspend(|| eprintln!("row {}: {e}", row.line));
                }
            }
        }
        let results = issuer.issue_many(&principal, &items).await?;
        for (line, result) in lines.iter().zip(results) {
            match result {
                Ok(BatchOutcome::Issued(_)) => issued += 1,
                Ok(BatchOutcome::AlreadyDone(_)) => skipped += 1,
                Err(e) => {
                    failed += 1;
                    let detail = match &e {
                        huren_issuer::issuance::IssueError::Invalid(errors) => errors
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join("; "),
                        other => other.to_string(),
                    };
                    bar.suspend(|| eprintln!("row {line}: {detail}"));
                }
            }
        }
        bar.inc(group.len() as u64);
        bar.set_message(format!(
            "{issued} issued, {skipped} already done, {failed} failed"
        ));
    }
    bar.finish();
    let summary = serde_json::json!({"rows": rows.len(), "issued": issued, "already_done": skipped, "failed": failed});
    common::emit(&summary.to_string())?;
    eprintln!(
        "{} rows: {issued} issued, {skipped} already issued by an earlier run, {failed} failed",
        rows.len()
    );
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
