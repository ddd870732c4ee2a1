//! The demo's electronic-seal material for one province: a seal-holder certificate for the
//! sample company, the province root's CRL (served by its issuer at `/v1/crl`), a seal made by
//! the province's seal maker, and a sample contract sealed with it — so the clerk's page can
//! verify a sealed document out of the box. Made once; a second run reuses it.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use huren_crypto::ids::Uscc;
use huren_crypto::seal::{make_seal, sign_document, EsId, PictureType, SealPicture, SealSpec};
use huren_crypto::time::UnixTime;
use huren_keys::crl::{issue_crl, CrlContents, DEFAULT_CRL_VALIDITY_DAYS};
use huren_keys::holder::{issue_holder, HolderDir, HolderRequest};
use huren_keys::layout::RegionDir;
use huren_keys::store::{self, Passphrase, Protection};
use rand_core::RngCore;

/// The sample company the demo's licences are issued to (same USCC).
const COMPANY: &str = "示例建设有限公司";
const COMPANY_USCC: &str = "91350100M000100Y43";

/// What the demo made for one province.
pub struct DemoSeal {
    /// `[[seal_holders]]` material for the issuer (server-side sealing).
    pub holder: HolderDir,
    /// The root's CRL, for the issuer's `crl` setting.
    pub crl: PathBuf,
    /// The sample contract and its detached signature.
    pub contract: PathBuf,
    /// `SES_Signature` DER over `contract`.
    pub signature: PathBuf,
}

/// Makes (or reuses) the seal material of `region` under `demo_dir`.
pub fn prepare(
    region: &RegionDir,
    demo_dir: &Path,
    passphrase: &Passphrase,
    now: UnixTime,
) -> Result<DemoSeal> {
    let code = region.config.code.as_str();
    let holder_path = demo_dir.join("holders").join(code);
    let holder = if holder_path.exists() {
        HolderDir::open(&holder_path)?
    } else {
        std::fs::create_dir_all(demo_dir.join("holders"))?;
        issue_holder(
            region,
            Some(passphrase),
            &holder_path,
            &HolderRequest {
                organization: format!("{}{COMPANY}", short_name(&region.config.name)),
                uscc: COMPANY_USCC.parse::<Uscc>()?,
                alg: region.config.alg,
                validity_days: HolderRequest::DEFAULT_VALIDITY_DAYS,
                protection: Protection::Encrypted(passphrase),
                now,
            },
        )?
    };

    let crl = region.path.join("crl.der");
    if !crl.exists() {
        let root_files = region.config.root.clone();
        let root_key = region.key(&root_files, Some(passphrase))?;
        let der = issue_crl(
            &region.root_der()?,
            &root_key,
            &CrlContents {
                number: 1,
                this_update: now,
                next_update: now.plus(DEFAULT_CRL_VALIDITY_DAYS * 86_400),
                entries: Vec::new(),
            },
        )?;
        store::write_atomic(&crl, &der, 0o644, false)?;
    }

    let samples = demo_dir.join("samples");
    std::fs::create_dir_all(&samples)?;
    let contract = samples.join(format!("{code}-contract.txt"));
    let signature = samples.join(format!("{code}-contract.ses"));
    if !signature.exists() {
        let maker_files = region
            .config
            .seal_maker
            .clone()
            .context("the demo region has no seal maker")?;
        let maker = region.key(&maker_files, Some(passphrase))?;
        let mut entropy = [0u8; 8];
        rand_core::OsRng.fill_bytes(&mut entropy);
        let holder_cert = holder.certificate()?;
        let spec = SealSpec {
            vid: "huren".into(),
            es_id: EsId::generate(&region.config.code, entropy),
            seal_type: 4,
            name: format!("{}合同专用章", holder.config.organization),
            holder_certs: vec![holder_cert.der().to_vec()],
            create_date: now,
            valid_start: now,
            valid_end: now.plus(365 * 86_400),
            picture: SealPicture {
                kind: PictureType::Png,
                data: seal_image()?,
                width_mm: 40,
                height_mm: 40,
            },
            status: None,
            uscc: Some(COMPANY_USCC.parse()?),
        };
        let seal = make_seal(&spec, &maker, &region.certificate(&maker_files)?)?;
        store::write_atomic(
            &samples.join(format!("{code}-seal.esl")),
            &seal,
            0o644,
            true,
        )?;
        let text = format!(
            "建设工程施工合同（演示）\n发包人：{}\n承包人：{}\n合同金额：人民币伍佰万元整\n",
            region.config.name, holder.config.organization
        );
        let holder_key = holder.key(Some(passphrase))?;
        let der = sign_document(
            &seal,
            text.as_bytes(),
            now,
            "contract.txt",
            &holder_key,
            holder_cert.der(),
        )?;
        store::write_atomic(&contract, text.as_bytes(), 0o644, true)?;
        store::write_atomic(&signature, &der, 0o644, true)?;
    }
    Ok(DemoSeal {
        holder,
        crl,
        contract,
        signature,
    })
}

/// 浙江省 → 浙江 (a company name reads "浙江示例建设有限公司").
fn short_name(province: &str) -> &str {
    province.strip_suffix('省').unwrap_or(province)
}

/// A red seal: a ring and a five-pointed star, 240 px square, transparent elsewhere.
fn seal_image() -> Result<Vec<u8>> {
    const SIZE: u32 = 240;
    let centre = f64::from(SIZE) / 2.0;
    let star: Vec<(f64, f64)> = (0..10)
        .map(|i| {
            let radius = if i % 2 == 0 { 48.0 } else { 19.0 };
            let angle = std::f64::consts::PI * (f64::from(i) / 5.0 - 0.5);
            (centre + radius * angle.cos(), centre + radius * angle.sin())
        })
        .collect();
    let image = image::RgbaImage::from_fn(SIZE, SIZE, |x, y| {
        let (px, py) = (f64::from(x) + 0.5, f64::from(y) + 0.5);
        let distance = ((px - centre).powi(2) + (py - centre).powi(2)).sqrt();
        let on_ring = (100.0..112.0).contains(&distance);
        if on_ring || inside(&star, px, py) {
            image::Rgba([214, 32, 32, 255])
        } else {
            image::Rgba([0, 0, 0, 0])
        }
    });
    let mut png = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .context("encoding the demo seal image")?;
    Ok(png)
}

/// Even-odd point-in-polygon test.
fn inside(polygon: &[(f64, f64)], x: f64, y: f64) -> bool {
    let mut result = false;
    let mut previous = polygon[polygon.len() - 1];
    for &point in polygon {
        let ((x1, y1), (x2, y2)) = (previous, point);
        if (y1 > y) != (y2 > y) && x < (x2 - x1) * (y - y1) / (y2 - y1) + x1 {
            result = !result;
        }
        previous = point;
    }
    result
}
