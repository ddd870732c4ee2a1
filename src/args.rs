//! Command-line arguments. `--help` on every command says what it does and gives an example.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use huren_crypto::alg::Algorithm;

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
    /// The issuer service and its administration (tokens, audit, bulk import).
    #[command(subcommand)]
    Issuer(IssuerCommand),
    /// The verification service and the clerk's page.
    #[command(subcommand)]
    Verifier(VerifierCommand),
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
        /// Comma-separated scopes: issue, read, revoke, audit.
        #[arg(long, value_delimiter = ',', required = true)]
        scopes: Vec<String>,
        /// Comma-separated licence type codes (default: all).
        #[arg(long, value_delimiter = ',')]
        types: Vec<String>,
        /// Who or what the token is for.
        #[arg(long, default_value = "")]
        label: String,
        #[command(flatten)]
        config: IssuerConfigArgs,
    },
}

/// `huren issuer audit …`
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain: detects edited, deleted or reordered entries.
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

/// `huren pki …`
#[derive(Debug, Subcommand)]
pub enum PkiCommand {
    /// Create the trust-list operator's key and self-signed certificate.
    InitOperator {
        /// Directory to create.
        #[arg(long)]
        out: PathBuf,
        /// Signature algorithm.
        #[arg(long, default_value = "ES256", value_parser = parse_alg)]
        alg: Algorithm,
        /// Operator name.
        #[arg(long, default_value = "国家政务服务平台")]
        name: String,
        #[command(flatten)]
        keys: KeyProtectionArgs,
    },
    /// Create a province PKI: root CA, licence signer, status signer, seal maker.
    ///
    /// Example: huren pki init-region --region 330000 --name 浙江省 --out zj --public-url https://issuer.zj.example
    InitRegion {
        /// GB/T 2260 province code, e.g. 330000.
        #[arg(long)]
        region: String,
        /// Province name, e.g. 浙江省 (defaults to the standard name of the code).
        #[arg(long)]
        name: Option<String>,
        /// Directory to create.
        #[arg(long)]
        out: PathBuf,
        /// Signature algorithm of all its keys.
        #[arg(long, default_value = "ES256", value_parser = parse_alg)]
        alg: Algorithm,
        /// Base URL of the province's issuer; status lists are published below it.
        #[arg(long, default_value = "https://issuer.example")]
        public_url: String,
        #[command(flatten)]
        keys: KeyProtectionArgs,
    },
    /// Import a province whose root and signer were made elsewhere (e.g. with openssl).
    ///
    /// Certificates must carry the EKUs printed by `huren pki oids`.
    ImportRegion {
        /// GB/T 2260 province code.
        #[arg(long)]
        region: String,
        /// Province name (defaults to the standard name of the code).
        #[arg(long)]
        name: Option<String>,
        /// Root CA certificate (PEM or DER).
        #[arg(long)]
        root: PathBuf,
        /// Licence-signer certificate.
        #[arg(long)]
        signer_cert: PathBuf,
        /// Licence-signer private key (PKCS#8, SEC1 or PKCS#1 PEM).
        #[arg(long)]
        signer_key: PathBuf,
        /// Status-signer certificate (optional; the signer may carry both EKUs).
        #[arg(long, requires = "status_key")]
        status_cert: Option<PathBuf>,
        /// Status-signer private key.
        #[arg(long, requires = "status_cert")]
        status_key: Option<PathBuf>,
        /// Seal-maker certificate (optional).
        #[arg(long, requires = "seal_key")]
        seal_cert: Option<PathBuf>,
        /// Seal-maker private key.
        #[arg(long, requires = "seal_cert")]
        seal_key: Option<PathBuf>,
        /// Passphrase file for encrypted source keys.
        #[arg(long)]
        source_passphrase_file: Option<PathBuf>,
        /// Algorithm (must fit the keys; RSA keys may use PS256 or RS256).
        #[arg(long, default_value = "ES256", value_parser = parse_alg)]
        alg: Algorithm,
        /// Base URL of the province's issuer.
        #[arg(long, default_value = "https://issuer.example")]
        public_url: String,
        /// Directory to create.
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        keys: KeyProtectionArgs,
    },
    /// Print, as JSON, the EKU OIDs a certificate made elsewhere must carry.
    Oids,
    /// Key rollover: a new active licence signer (the old ones stay listed, so their licences
    /// keep verifying). Rebuild the trust list and restart the issuer afterwards.
    RolloverSigner {
        /// Region directory (its root key must be present).
        #[arg(long)]
        region_dir: PathBuf,
        #[command(flatten)]
        keys: KeyProtectionArgs,
    },
}

/// How new private keys are protected at rest.
#[derive(Debug, Args)]
pub struct KeyProtectionArgs {
    /// Write private keys unencrypted. Only for test set-ups.
    #[arg(long)]
    pub insecure_plaintext_keys: bool,
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
    /// Caching time (ttl) in seconds.
    #[arg(long, default_value_t = 300)]
    pub ttl: u64,
    /// Hours until the list expires.
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
    /// Fetch the licence's status list from its URI (only within the region's prefix).
    #[arg(long)]
    pub fetch_status: bool,
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
    /// The token or HR1: text; `-` reads stdin.
    pub input: Option<String>,
}

fn parse_alg(text: &str) -> Result<Algorithm, String> {
    text.parse::<Algorithm>().map_err(|e| e.to_string())
}
