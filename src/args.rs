//! Command-line arguments. `--help` on every command says what it does and gives an example.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use huren_crypto::ids::Uscc;
use huren_crypto::verify::LogCheck;
use huren_issuer::tokens::Lifetime;

mod pki;

pub use pki::{PkiCommand, RolloverArgs};

/// huren (互认): cross-province e-licence issuing and verification.
///
/// Quick start (offline):
///   export HUREN_KEY_PASSPHRASE='a long passphrase'
///   huren pki init-operator --out op
///   huren pki init-region --region 330000 --name 浙江省 --out zj --public-url https://issuer.zj.example
///   huren trust build --operator op --region zj --seq 1 --out trust-list.jwt
///   huren sign --region-dir zj --licence licence.json > token.txt
///   huren verify --trust-list trust-list.jwt --operator-cert op/operator.crt.pem "$(cat token.txt)"
#[derive(Debug, Parser)]
#[command(name = "huren", version, verbatim_doc_comment)]
pub struct Cli {
    /// File holding the key passphrase (instead of HUREN_KEY_PASSPHRASE).
    #[arg(long, global = true, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Keys and certificates: the operator's and each province's PKI.
    #[command(subcommand)]
    Pki(PkiCommand),
    /// The national trust list: build it, export its keys.
    #[command(subcommand)]
    Trust(TrustCommand),
    /// Sign a licence offline with a province's active signer; prints the token.
    Sign(SignArgs),
    /// Sign a status list offline (revocation / suspension); writes the status-list token.
    StatusList(StatusListArgs),
    /// Make an annotated copy (加注件) of a licence offline: for one matter, one using unit,
    /// a limited time, showing only the fields chosen; prints the copy token.
    ///
    /// The licence must have been signed by one of the region directory's licence signers; the
    /// copy is signed by its active signer and shares the licence's status entry (revoking the
    /// licence revokes the copy). For provinces without the issuer service, and for tests; the
    /// service's `POST /v1/licences/{jti}/copies` also checks the holder's consent.
    ///
    /// Example:
    ///   huren copy --region-dir zj --licence token.txt --cause 办理异地建筑工程施工许可 \
    ///     --item-code 320105-JS-001 --item-name 建筑工程施工许可证核发 \
    ///     --aud-code 11320105MB12345623 --aud-name 南京市建邺区行政审批局 \
    ///     --disclose number,holder.name --valid-for-secs 86400 --qr
    #[command(verbatim_doc_comment)]
    Copy(CopyArgs),
    /// The issuer service and its administration (tokens, audit, bulk import).
    #[command(subcommand)]
    Issuer(IssuerCommand),
    /// The verification service and the clerk's page.
    #[command(subcommand)]
    Verifier(VerifierCommand),
    /// The provinces' issuance transparency logs (SPEC §12).
    #[command(subcommand)]
    Log(crate::commands::LogCommand),
    /// Print the licence-type catalogue as JSON (built-in types plus --catalogue FILE).
    Types {
        /// TOML file with a province's own licence types.
        #[arg(long, env = "HUREN_CATALOGUE")]
        catalogue: Option<PathBuf>,
    },
    /// One-command demo: PKI for 3 provinces, trust list, an issuer per province, sample licences.
    ///
    /// Keeps running until interrupted; a second run on the same --dir reuses its keys.
    Demo {
        /// Directory for everything the demo creates.
        #[arg(long, default_value = "huren-demo")]
        dir: PathBuf,
        /// First port (issuers use the next ones); 0 = ephemeral ports for everything.
        #[arg(long, default_value_t = 8300)]
        port: u16,
    },
    /// Verify a licence (token, HR1: QR text, QR image or stdin); prints the JSON report.
    ///
    /// Exit code 0 valid, 1 invalid, 2 indeterminate, 3 could not verify at all.
    Verify(VerifyArgs),
    /// Electronic seals (电子印章, GB/T 38540): make a seal, seal a document, verify, inspect.
    #[command(subcommand)]
    Seal(SealCommand),
}

/// `huren seal …`
#[derive(Debug, Subcommand)]
pub enum SealCommand {
    /// Make a seal (.esl) for an organisation, signed by the province's seal-maker key.
    ///
    /// The seal names the holder certificates it may be applied with (`huren pki
    /// issue-holder` makes one); only those keys can seal documents with it. Prints a JSON
    /// summary (esID, validity, status reference) and writes the DER seal to --out.
    Make(SealMakeArgs),
    /// Seal a document with a holder key: writes the detached SES_Signature (.ses, DER).
    ///
    /// The document is any bytes (PDF, OFD's Signature.xml, …); its SM3 (SM2 keys) or
    /// SHA-256 hash is signed together with the seal and the signing time.
    Sign(SealSignArgs),
    /// Verify a sealed document; prints the JSON report of SPEC §8.
    ///
    /// Exit code 0 valid, 1 invalid, 2 indeterminate, 3 could not verify at all. Trust comes
    /// from the national trust list (the seal maker must be a seal maker of the seal's region)
    /// or, for seals made outside huren, from --trust-maker certificates.
    Verify(SealVerifyArgs),
    /// Print every field of an .esl or a signature (.ses / OFD SignedValue.dat) as JSON.
    ///
    /// Works on v4 (GB/T 38540) and v1 (GM/T 0031) files and needs no trust: nothing printed
    /// here says the file is genuine; use `huren seal verify` for that.
    Inspect {
        /// The .esl, .ses or SignedValue.dat file.
        file: PathBuf,
    },
}

/// `huren seal make`
#[derive(Debug, Args)]
pub struct SealMakeArgs {
    /// Region directory whose seal-maker key signs (from `huren pki init-region`).
    #[arg(long)]
    pub region_dir: PathBuf,
    /// 印章名称, e.g. 杭州示例建设有限公司合同专用章.
    #[arg(long)]
    pub name: String,
    /// The organisation's 统一社会信用代码 (written into the seal; check digit verified).
    #[arg(long)]
    pub uscc: Option<String>,
    /// 印章类型: a number, or one of 法定名称章 (1), 财务专用章 (2), 发票专用章 (3),
    /// 合同专用章 (4), 业务专用章 (5).
    #[arg(long = "type", default_value = "1")]
    pub seal_type: String,
    /// The seal image, PNG or SVG (≤ 512 KiB).
    #[arg(long)]
    pub image: PathBuf,
    /// Printed width of the image, millimetres.
    #[arg(long, default_value_t = 40)]
    pub width_mm: u32,
    /// Printed height of the image, millimetres.
    #[arg(long, default_value_t = 40)]
    pub height_mm: u32,
    /// Holder certificate(s) (PEM) the seal may be applied with; repeatable.
    #[arg(long = "holder-cert", required = true)]
    pub holder_certs: Vec<PathBuf>,
    /// Start of validity (RFC 3339 or Unix seconds; default now).
    #[arg(long)]
    pub valid_from: Option<String>,
    /// End of validity (RFC 3339 or Unix seconds).
    #[arg(long)]
    pub valid_until: String,
    /// Status list URI for revoking the seal (must lie under the region's status prefix).
    #[arg(long, requires = "status_idx")]
    pub status_uri: Option<String>,
    /// The seal's index in that status list.
    #[arg(long, requires = "status_uri")]
    pub status_idx: Option<u64>,
    /// esID to use (default: a new one starting with the region code).
    #[arg(long)]
    pub es_id: Option<String>,
    /// Where to write the seal (DER).
    #[arg(long)]
    pub out: PathBuf,
}

/// `huren seal sign`
#[derive(Debug, Args)]
pub struct SealSignArgs {
    /// The seal (.esl).
    #[arg(long)]
    pub seal: PathBuf,
    /// Holder directory from `huren pki issue-holder` (key and certificate).
    #[arg(long)]
    pub holder_dir: PathBuf,
    /// The document to seal.
    #[arg(long)]
    pub document: PathBuf,
    /// What the signature says about the document (TBS_Sign.propertyInfo; default its file
    /// name). For OFD, the path of the Signature.xml.
    #[arg(long)]
    pub property_info: Option<String>,
    /// Signing time to record (RFC 3339 or Unix seconds; default now).
    #[arg(long)]
    pub at: Option<String>,
    /// Where to write the signature (.ses, DER).
    #[arg(long)]
    pub out: PathBuf,
}

/// `huren seal verify`
#[derive(Debug, Args)]
pub struct SealVerifyArgs {
    /// The sealed document (for OFD: the Signature.xml next to SignedValue.dat).
    #[arg(long)]
    pub document: PathBuf,
    /// The signature (.ses or SignedValue.dat).
    #[arg(long)]
    pub signature: PathBuf,
    /// Trust list file or http(s) URL.
    #[arg(long, env = "HUREN_TRUST_LIST", requires = "operator_certs")]
    pub trust_list: Option<String>,
    /// Pinned operator certificate(s) for the trust list (PEM).
    #[arg(long = "operator-cert", env = "HUREN_OPERATOR_CERT")]
    pub operator_certs: Vec<PathBuf>,
    /// Trust this seal-maker certificate (PEM or DER) explicitly instead of a trust list, for
    /// seals made outside the national scheme; repeatable. No region check is made.
    #[arg(long = "trust-maker", conflicts_with = "trust_list")]
    pub trust_makers: Vec<PathBuf>,
    /// CRL(s) (DER or PEM) of the CA that issued the signer certificate, to judge whether it
    /// was revoked before the signing time; checked against the trust list's province roots
    /// and any --ca-cert. Without a current one the verdict is indeterminate, never valid.
    #[arg(long = "crl")]
    pub crls: Vec<PathBuf>,
    /// CA certificate(s) that may have issued the CRLs given with --crl.
    #[arg(long = "ca-cert")]
    pub ca_certs: Vec<PathBuf>,
    /// Directory of status-list tokens (*.jwt), for seals that carry a status reference.
    #[arg(long)]
    pub status_dir: Option<PathBuf>,
    /// A status-list token file (JWS) to use offline for a seal that carries a status
    /// reference; repeatable. It must verify under the trust list (a file that does not is
    /// an error). Without the seal's list, the verdict is indeterminate.
    #[arg(long = "status-list", requires = "trust_list")]
    pub status_lists: Vec<PathBuf>,
    /// Fetch the seal's status list from its URI (only within the region's prefix, and only
    /// after the signature, the seal's signature and its maker have been verified).
    #[arg(long)]
    pub fetch_status: bool,
    /// Time of the check (RFC 3339 or Unix seconds; default now). Certificates and the seal
    /// are always judged at the signing time.
    #[arg(long)]
    pub at: Option<String>,
}

/// `huren issuer …`
#[derive(Debug, Subcommand)]
pub enum IssuerCommand {
    /// Run the issuer service (config file and/or HUREN_* environment).
    ///
    /// Example: HUREN_REGION_DIR=zj HUREN_TRUST_LIST=trust-list.jwt HUREN_OPERATOR_CERT=op/operator.crt.pem huren issuer serve
    Serve {
        #[command(flatten)]
        config: IssuerConfigArgs,
    },
    /// API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// The audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Bulk issuance from CSV or JSON lines, resumable: a re-run issues only what is missing.
    ///
    /// CSV header: type_code,number,holder_name,holder_id_type,holder_id,issuer_name,issuer_code
    /// and optionally type_name,issued_on,valid_from,valid_until (长期 = long-term), face.<key>…
    Import {
        /// The file (.csv, or .jsonl / .ndjson with one request object per line).
        #[arg(long)]
        file: PathBuf,
        /// Rows per transaction.
        #[arg(long, default_value_t = 200)]
        chunk: usize,
        #[command(flatten)]
        config: IssuerConfigArgs,
    },
}

/// `huren verifier …`
#[derive(Debug, Subcommand)]
pub enum VerifierCommand {
    /// Run the verification service (config file and/or HUREN_* environment).
    ///
    /// Example: HUREN_TRUST_LIST=trust-list.jwt HUREN_OPERATOR_CERT=op/operator.crt.pem huren verifier serve
    Serve {
        /// TOML configuration file (HUREN_* variables override it).
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

/// `huren issuer token …`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a bearer token; prints it alone on stdout (it is stored hashed: shown once).
    Create {
        /// Region the token may act for.
        #[arg(long)]
        region: String,
        /// Comma-separated scopes: issue, read, revoke, audit, seal, seal_sign, copy (annotated
        /// copies, for the holder-facing portal).
        #[arg(long, value_delimiter = ',', required = true)]
        scopes: Vec<String>,
        /// Comma-separated licence type codes (default: all).
        #[arg(long, value_delimiter = ',')]
        types: Vec<String>,
        /// Who or what the token is for.
        #[arg(long, default_value = "")]
        label: String,
        /// How long the token lives: 90d, 12h, 30m (1m to 365d; default 90d).
        #[arg(long, value_parser = parse_lifetime)]
        expires_in: Option<Lifetime>,
        #[command(flatten)]
        config: IssuerConfigArgs,
    },
    /// List tokens as JSON (never a secret): id, label, region, scopes, types and their times.
    List {
        /// Only this region's tokens.
        #[arg(long)]
        region: Option<String>,
        #[command(flatten)]
        config: IssuerConfigArgs,
    },
    /// Revoke a token by id: it gets 401 from its next request on.
    Revoke {
        /// The token id (`tok_…`, as `token list` shows it).
        id: String,
        #[command(flatten)]
        config: IssuerConfigArgs,
    },
}

fn parse_lifetime(text: &str) -> Result<Lifetime, String> {
    Lifetime::parse(text).map_err(|e| e.to_string())
}

/// `huren issuer audit …`
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the region's hash chain and that it extends every signed head in the data
    /// directory: detects edited, deleted or reordered entries, also when the chain and its
    /// head were rewritten consistently or truncated. Needs the region directory (the region
    /// and its root) and the data directory. Exit 0 intact, 1 broken.
    Verify {
        #[command(flatten)]
        config: IssuerConfigArgs,
    },
}

/// Where the issuer's configuration comes from.
#[derive(Debug, Args)]
pub struct IssuerConfigArgs {
    /// TOML configuration file (HUREN_* variables override it).
    #[arg(long)]
    pub config: Option<PathBuf>,
}

/// `huren trust …`
#[derive(Debug, Subcommand)]
pub enum TrustCommand {
    /// Build and sign the trust list from the operator and region directories.
    ///
    /// Every entry is checked (chain, EKU, validity, key strength); a broken one is refused.
    Build {
        /// Operator directory (from `pki init-operator`).
        #[arg(long)]
        operator: PathBuf,
        /// Region directory (repeat for each province).
        #[arg(long = "region", required = true)]
        regions: Vec<PathBuf>,
        /// Sequence number; must exceed every earlier list's.
        #[arg(long)]
        seq: u64,
        /// Days until the next list is due (next_update).
        #[arg(long, default_value_t = 7)]
        valid_days: i64,
        /// Mark a region suspended (repeatable).
        #[arg(long = "suspend", value_name = "REGION")]
        suspend: Vec<String>,
        /// Cosignatures that make a region's checkpoint witnessed (every other region with a
        /// witness key witnesses it); refused if above a region's number of witnesses.
        /// Default 1 (0 for a region nobody can witness).
        #[arg(long, value_name = "K", conflicts_with = "no_witnesses")]
        witness_quorum: Option<usize>,
        /// List the regions' log keys without witnesses.
        #[arg(long)]
        no_witnesses: bool,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Print the trusted licence-signer keys as a JWKS for standard JOSE libraries.
    Jwks {
        #[command(flatten)]
        trust: TrustArgs,
    },
}

/// Where trust comes from.
#[derive(Debug, Args)]
pub struct TrustArgs {
    /// Trust list file or http(s) URL.
    #[arg(long, env = "HUREN_TRUST_LIST")]
    pub trust_list: String,
    /// Pinned operator certificate(s) (PEM; repeatable, or several in one file).
    #[arg(long = "operator-cert", env = "HUREN_OPERATOR_CERT", required = true)]
    pub operator_certs: Vec<PathBuf>,
}

/// `huren sign`
#[derive(Debug, Args)]
pub struct SignArgs {
    /// Region directory whose active signer signs.
    #[arg(long)]
    pub region_dir: PathBuf,
    /// Licence JSON (the `licence` object of SPEC §3).
    #[arg(long)]
    pub licence: PathBuf,
    /// Index in the status list.
    #[arg(long, requires = "status_uri")]
    pub status_idx: Option<u64>,
    /// Status list URI (must start with the region's status prefix).
    #[arg(long, requires = "status_idx")]
    pub status_uri: Option<String>,
    /// Serial part of the 证照标识 (default: random).
    #[arg(long)]
    pub serial: Option<String>,
    /// Print the HR1: QR text instead of the token.
    #[arg(long)]
    pub qr: bool,
    /// Signing time (RFC 3339 or Unix seconds; default now).
    #[arg(long)]
    pub at: Option<String>,
}

/// `huren status-list`
#[derive(Debug, Args)]
pub struct StatusListArgs {
    /// Region directory whose status signer signs.
    #[arg(long)]
    pub region_dir: PathBuf,
    /// The list's URI (must start with the region's status prefix).
    #[arg(long)]
    pub uri: String,
    /// Entries (a power of two).
    #[arg(long, default_value_t = 131_072)]
    pub size: usize,
    /// Index to mark revoked (repeatable).
    #[arg(long = "revoke")]
    pub revoke: Vec<usize>,
    /// Index to mark suspended (repeatable).
    #[arg(long = "suspend")]
    pub suspend: Vec<usize>,
    /// Caching time (ttl) in seconds; at most the list's life.
    #[arg(long, default_value_t = 300)]
    pub ttl: u64,
    /// Hours until the list expires (1 to 168: verifiers refuse lists that claim more than 7
    /// days).
    #[arg(long, default_value_t = 24)]
    pub valid_hours: i64,
    /// Signing time (RFC 3339 or Unix seconds; default now).
    #[arg(long)]
    pub at: Option<String>,
    /// Output file.
    #[arg(long)]
    pub out: PathBuf,
}

/// `huren verify`
#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub trust: TrustArgs,
    /// Directory of status-list tokens (*.jwt) to use.
    #[arg(long)]
    pub status_dir: Option<PathBuf>,
    /// Fetch the licence's status list from its URI (only within the region's prefix), and,
    /// with --log-check warn, ask the region's issuance log once its merge delay has passed.
    #[arg(long, conflicts_with = "offline")]
    pub fetch_status: bool,
    /// The token's region's issuance log (SPEC §12, asked of its issuer; README): `require`
    /// (not shown: not_logged, invalid), `warn` (a warning), `off` (not looked at).
    #[arg(long, value_name = "MODE", default_value = "warn")]
    pub log_check: LogCheck,
    /// Same as --log-check require.
    #[arg(long, conflicts_with = "log_check")]
    pub require_logged: bool,
    /// Fetch nothing (with --require-logged: log_unavailable once the merge delay has passed).
    #[arg(long)]
    pub offline: bool,
    /// A PNG/JPEG image of the QR code.
    #[arg(long, conflicts_with = "input")]
    pub qr_image: Option<PathBuf>,
    /// Time to verify at (RFC 3339 or Unix seconds; default now).
    #[arg(long)]
    pub at: Option<String>,
    /// Clock skew tolerated, seconds.
    #[arg(long, default_value_t = 300)]
    pub skew: i64,
    /// Grace after the trust list's next_update, seconds.
    #[arg(long, default_value_t = 0)]
    pub grace: i64,
    /// The using unit (用证单位) verifying, by its 统一社会信用代码: an annotated copy made for
    /// another unit is then invalid (wrong_audience). Without it, a copy naming a unit is
    /// valid with the warning audience_not_checked.
    #[arg(long, value_name = "USCC", value_parser = parse_uscc)]
    pub audience: Option<Uscc>,
    /// The token or HR1: text; `-` reads stdin.
    pub input: Option<String>,
}

/// `huren copy`
#[derive(Debug, Args)]
pub struct CopyArgs {
    /// Region directory whose licence signers signed the licence; its active signer signs
    /// the copy.
    #[arg(long)]
    pub region_dir: PathBuf,
    /// The licence: a file holding its token or HR1: text, or `-` for stdin.
    #[arg(long, value_name = "FILE")]
    pub licence: PathBuf,
    /// The holder's terms as JSON, as in the API body without `holder`: {"purpose": {…},
    /// "aud": {…}, "disclose": […], "valid_for_secs": N}. Instead of the options below.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["cause", "category", "item_code", "item_name", "aud_code", "aud_name", "disclose", "valid_for_secs"])]
    pub terms: Option<PathBuf>,
    /// 用证事由: why the licence is used (≤ 200 characters).
    #[arg(long, required_unless_present = "terms")]
    pub cause: Option<String>,
    /// 0: for a service item (--item-code and --item-name required); 1: not tied to one
    /// (亮证, a scan).
    #[arg(long, default_value_t = 0)]
    pub category: u8,
    /// 事项编码 of the service item.
    #[arg(long)]
    pub item_code: Option<String>,
    /// 事项名称 of the service item.
    #[arg(long)]
    pub item_name: Option<String>,
    /// The using unit's 统一社会信用代码 (omit both --aud-* for any window).
    #[arg(long, requires = "aud_name")]
    pub aud_code: Option<String>,
    /// The using unit's name.
    #[arg(long, requires = "aud_code")]
    pub aud_name: Option<String>,
    /// Fields to show, comma-separated: number, holder.name, holder.id_type, holder.id,
    /// face.<key>. Default: number,holder.name.
    #[arg(long, value_delimiter = ',')]
    pub disclose: Option<Vec<String>>,
    /// How long the copy lasts, seconds (60 … 7776000 = 90 days; default 86400). Never longer
    /// than the licence.
    #[arg(long)]
    pub valid_for_secs: Option<i64>,
    /// Who makes the copy (制作者), shown to the clerk. Default: the region's name.
    #[arg(long)]
    pub copier: Option<String>,
    /// Index of the copy's own status entry (lets it be withdrawn).
    #[arg(long, requires = "copy_status_uri")]
    pub copy_status_idx: Option<u64>,
    /// Status list URI of the copy's own entry (within the region's status prefix).
    #[arg(long, requires = "copy_status_idx")]
    pub copy_status_uri: Option<String>,
    /// TOML file with the province's own licence types (which face fields may be disclosed).
    #[arg(long, env = "HUREN_CATALOGUE")]
    pub catalogue: Option<PathBuf>,
    /// Print the HR1: QR text instead of the token.
    #[arg(long)]
    pub qr: bool,
    /// When the copy is made (RFC 3339 or Unix seconds; default now).
    #[arg(long)]
    pub at: Option<String>,
}

fn parse_uscc(text: &str) -> Result<Uscc, String> {
    Uscc::parse(text).map_err(|e| format!("not a valid 统一社会信用代码: {e}"))
}
