//! `huren pki …` arguments: the operator's and the provinces' key material.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use huren_crypto::alg::Algorithm;
use huren_crypto::crl::RevocationReason;
use huren_keys::rollover::Role;

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
    /// Add or replace a province's issuance-log keys (SPEC §12): the log key (Ed25519, signs
    /// the region's checkpoints, named huren.gov.cn/log/<code>) and the witness key
    /// (cosignature/v1, cosigns other regions' checkpoints, named huren.gov.cn/witness/<code>).
    ///
    /// `pki init-region` and `pki import-region` make both; this adds them to a directory made
    /// before, imports keys made elsewhere (PKCS#8 PEM Ed25519, plaintext or encrypted, e.g.
    /// `openssl genpkey -algorithm ed25519`), or replaces them (--replace). A key that is
    /// present and neither imported nor --replace'd is kept. The two keys must differ. New keys
    /// are encrypted with HUREN_KEY_PASSPHRASE (or --passphrase-file); a replaced private key
    /// is deleted. Afterwards: rebuild the trust list and restart the issuer.
    ///
    /// Prints JSON: {"region", "log": {"key", "vkey", "source"}, "witness": {"key", "vkey",
    /// "source"}, "deleted_keys"}; source is kept, generated or imported.
    ///
    /// Example: huren pki log-keys --region-dir zj --import-log-key log-ed25519.pem
    #[command(verbatim_doc_comment)]
    LogKeys {
        /// Region directory.
        #[arg(long)]
        region_dir: PathBuf,
        /// Import this Ed25519 private key as the log key.
        #[arg(long, value_name = "FILE.pem")]
        import_log_key: Option<PathBuf>,
        /// Import this Ed25519 private key as the witness key.
        #[arg(long, value_name = "FILE.pem")]
        import_witness_key: Option<PathBuf>,
        /// Make new keys for the roles not imported, even where keys are present.
        #[arg(long)]
        replace: bool,
        /// Passphrase file for encrypted imported keys (default: the key passphrase).
        #[arg(long)]
        source_passphrase_file: Option<PathBuf>,
        #[command(flatten)]
        keys: KeyProtectionArgs,
    },
    /// Print, as JSON, the EKU OIDs a certificate made elsewhere must carry.
    Oids,
    /// Key rollover of a licence signer, status signer or seal maker.
    ///
    /// A new key and a certificate from the region root (whose key must be in --region-dir)
    /// become the ones the issuer signs with. Old licence signers stay listed. A retired status
    /// signer stays in the trust lists `huren trust build` makes for 7 days (the longest a
    /// status list lives), a retired seal maker for 10 years (the longest a seal is valid) or
    /// until --listed-until; later lists leave it out. The retired status-signer or seal-maker
    /// private key is deleted. Afterwards: rebuild the trust list, give it to the issuer and
    /// restart the issuer (it loads its keys at start).
    ///
    /// Prints JSON: {"region", "role", "cert", "key", "subject", "serial", "not_before",
    /// "not_after", "retired": {"cert", "subject", "retired_at", "listed_until",
    /// "compromised"} or null, "deleted_key"}; times are Unix seconds.
    ///
    /// Example: huren pki rollover --role status-signer --region-dir zj
    #[command(verbatim_doc_comment)]
    Rollover {
        /// licence-signer, status-signer or seal-maker.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        #[command(flatten)]
        args: RolloverArgs,
    },
    /// The same as `huren pki rollover --role licence-signer`.
    RolloverSigner {
        #[command(flatten)]
        args: RolloverArgs,
    },
    /// The same as `huren pki rollover --role status-signer`.
    RolloverStatusSigner {
        #[command(flatten)]
        args: RolloverArgs,
    },
    /// The same as `huren pki rollover --role seal-maker`.
    RolloverSealMaker {
        #[command(flatten)]
        args: RolloverArgs,
    },
    /// Issue a seal-holder (签章者) certificate for an organisation: a new key and a certificate
    /// from the region root with the seal_holder EKU, for applying that organisation's seals.
    ///
    /// The subject is C=CN, O=<org-name>, CN=<org-name>, serialNumber=<USCC>. The region's root
    /// key must be in --region-dir; it is decrypted with HUREN_KEY_PASSPHRASE (or
    /// --passphrase-file), and the new key is encrypted with the same passphrase. --out must
    /// not exist yet (or be empty); it receives holder.crt.pem, holder.key.pem (0600) and
    /// holder.json. Prints JSON: {"dir", "cert", "key", "serial", "subject", "issuer",
    /// "organization", "uscc", "region", "alg", "not_before", "not_after"}.
    ///
    /// Example: huren pki issue-holder --region-dir zj --org-name 杭州示例建设有限公司 --uscc 91350100M000100Y43 --out holders/hz-example
    #[command(verbatim_doc_comment)]
    IssueHolder {
        /// Region directory whose root issues the certificate.
        #[arg(long)]
        region_dir: PathBuf,
        /// The organisation's registered name (法定名称), as on its business licence.
        #[arg(long)]
        org_name: String,
        /// The organisation's 统一社会信用代码 (18 characters, check character included).
        #[arg(long)]
        uscc: String,
        /// Algorithm of the new key (default: the region's).
        #[arg(long, value_parser = parse_alg)]
        alg: Option<Algorithm>,
        /// Certificate lifetime in days (at most 1095; never beyond the root's).
        #[arg(long, default_value_t = huren_keys::holder::HolderRequest::DEFAULT_VALIDITY_DAYS)]
        valid_days: i64,
        /// Directory to create for the holder's key and certificate.
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        keys: KeyProtectionArgs,
    },
    /// Revoke a certificate issued by the region root: adds it to the region's CRL (X.509 v2,
    /// signed by the root), creating the CRL on first use.
    ///
    /// The CRL says from when the certificate is revoked: seals applied with a holder
    /// certificate at or after --at are invalid. Seals applied before --at stay valid only
    /// for --reason superseded, cessationOfOperation or affiliationChanged; for every other
    /// reason (the default keyCompromise included) the signing time, which the key holder
    /// writes, cannot be trusted and verifiers treat them as invalid too. For a stolen or
    /// leaked key, give the time it was (or may have been) compromised, not the time you
    /// noticed. Each run re-signs the CRL with one more entry and a CRL number one higher;
    /// publish the new file where verifiers fetch it. The root key must be in --region-dir.
    /// Prints JSON: {"crl", "crl_number", "entries", "created", "this_update", "next_update",
    /// "revoked": {"serial", "subject", "revoked_at", "reason"}}.
    ///
    /// Example: huren pki revoke-cert --region-dir zj --cert holders/hz-example/holder.crt.pem --at 2026-11-22T09:30:00+08:00 --reason keyCompromise
    #[command(verbatim_doc_comment)]
    RevokeCert {
        /// Region directory whose root issued the certificate.
        #[arg(long)]
        region_dir: PathBuf,
        /// The certificate to revoke (PEM or DER).
        #[arg(long)]
        cert: PathBuf,
        /// From when it is revoked: RFC 3339 (2026-11-22T09:30:00+08:00) or Unix seconds;
        /// not in the future, not before the certificate's start. Default: now.
        #[arg(long)]
        at: Option<String>,
        /// RFC 5280 reason: unspecified, keyCompromise, cACompromise, affiliationChanged,
        /// superseded, cessationOfOperation, certificateHold, privilegeWithdrawn, aACompromise.
        /// Default keyCompromise: fail closed (a CRL entry without a reason counts as one).
        #[arg(long, value_parser = parse_reason, default_value = "keyCompromise")]
        reason: RevocationReason,
        /// The CRL file to create or extend (default: <region-dir>/crl.der).
        #[arg(long)]
        crl: Option<PathBuf>,
        /// Days until the next CRL is due (its nextUpdate), 1 to 366.
        #[arg(long, default_value_t = huren_keys::crl::DEFAULT_CRL_VALIDITY_DAYS)]
        valid_days: i64,
    },
}

/// What every form of `huren pki rollover` takes.
#[derive(Debug, Args)]
pub struct RolloverArgs {
    /// Region directory (its root key must be present).
    #[arg(long)]
    pub region_dir: PathBuf,
    /// Status signer or seal maker: list the retired certificate until this time (RFC 3339 or
    /// Unix seconds, not in the past) instead of the default; for a seal maker, the latest
    /// validEnd of the seals it made.
    #[arg(long)]
    pub listed_until: Option<String>,
    /// Status signer or seal maker: the old key leaked, leave it out of the next trust list
    /// (what it signed stops verifying).
    #[arg(long)]
    pub compromised: bool,
    #[command(flatten)]
    pub keys: KeyProtectionArgs,
}

/// How new private keys are protected at rest.
#[derive(Debug, Args)]
pub struct KeyProtectionArgs {
    /// Write private keys unencrypted. Only for test set-ups.
    #[arg(long)]
    pub insecure_plaintext_keys: bool,
}

fn parse_alg(text: &str) -> Result<Algorithm, String> {
    text.parse::<Algorithm>().map_err(|e| e.to_string())
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::ALL
        .into_iter()
        .find(|r| r.name() == text)
        .ok_or_else(|| {
            let names: Vec<&str> = Role::ALL.iter().map(|r| r.name()).collect();
            format!("must be one of {}", names.join(", "))
        })
}

fn parse_reason(text: &str) -> Result<RevocationReason, String> {
    text.parse::<RevocationReason>().map_err(|e| e.to_string())
}
