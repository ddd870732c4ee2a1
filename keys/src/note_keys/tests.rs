#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

use std::os::unix::fs::PermissionsExt;

use huren_crypto::alg::Algorithm;
use huren_crypto::time::UnixTime;

use super::*;
use crate::keypair::PrivateKey;
use crate::layout::{init_region, InitRegion};
use crate::store::PlaintextKeys;

const MADE: UnixTime = UnixTime(1_795_000_000);

fn init(dir: &Path, protection: Protection<'_>) -> RegionDir {
    init_region(
        &dir.join("zj"),
        &InitRegion {
            code: RegionCode::parse("330000").unwrap(),
            name: "浙江省".into(),
            alg: Algorithm::Es256,
            public_url: "https://issuer.zj.example".into(),
            protection,
            now: MADE,
        },
    )
    .unwrap()
}

fn keep() -> SetNoteKeys<'static> {
    SetNoteKeys {
        log: NoteKeySource::KeepOrGenerate,
        witness: NoteKeySource::KeepOrGenerate,
        source_passphrase: None,
        protection: Protection::Plaintext,
    }
}

/// A plaintext PKCS#8 PEM file at `path` holding `der`.
fn key_file(path: &Path, der: &[u8]) {
    store::write_private_key(
        path,
        der,
        Protection::Plaintext,
        false,
        &mut rand_core::OsRng,
    )
    .unwrap();
}

fn ed25519_der() -> Zeroizing<Vec<u8>> {
    generate(NoteRole::Log).unwrap()
}

#[test]
fn init_region_makes_two_distinct_keys_encrypted_at_rest_that_match_their_vkeys() {
    let dir = tempfile::tempdir().unwrap();
    let passphrase = Passphrase::new("correct horse battery staple".into()).unwrap();
    let region = init(dir.path(), Protection::Encrypted(&passphrase));
    let config = &region.config;
    let log_files = config.log.as_ref().unwrap();
    let witness_files = config.witness.as_ref().unwrap();
    assert_eq!(log_files.key, "log.key.pem");
    assert_eq!(witness_files.key, "witness.key.pem");

    let log = region.log_key(Some(&passphrase)).unwrap().unwrap();
    let witness = region.witness_key(Some(&passphrase)).unwrap().unwrap();
    assert_eq!(log.verifier_key(), &log_files.vkey);
    assert_eq!(witness.verifier_key(), &witness_files.vkey);
    assert_eq!(log.verifier_key().name(), "huren.gov.cn/log/330000");
    assert_eq!(log.verifier_key().key_type(), KeyType::Ed25519);
    assert_eq!(witness.verifier_key().name(), "huren.gov.cn/witness/330000");
    assert_eq!(witness.verifier_key().key_type(), KeyType::Cosignature);
    assert_ne!(log.verifier_key().public(), witness.verifier_key().public());

    for files in [log_files, witness_files] {
        let path = region.path.join(&files.key);
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let text = std::fs::read(&path).unwrap();
        // Neither the PKCS#8 structure nor the public key appears in the file, in any
        // encoding a reader might try: the key is encrypted, not merely wrapped.
        let der = store::read_private_key(&path, Some(&passphrase))
            .unwrap()
            .pkcs8_der;
        let (label, stored) = der::pem::decode_vec(&text).unwrap();
        assert_eq!(
            label, "ENCRYPTED PRIVATE KEY",
            "the file is an encrypted PKCS#8 PEM"
        );
        assert!(!stored.windows(der.len()).any(|w| w == der.as_slice()));
        assert!(!stored
            .windows(32)
            .any(|w| w == files.vkey.public().as_slice()));
        // And without the passphrase it does not load.
        assert!(matches!(
            region.log_key(None),
            Err(LayoutError::PassphraseRequired)
        ));
    }
    let json = std::fs::read_to_string(region.path.join(REGION_FILE)).unwrap();
    assert!(json.contains(&format!(
        "\"log\": {{\n    \"key\": \"log.key.pem\",\n    \"vkey\": \"{}\"",
        log_files.vkey
    )));
}

#[test]
fn a_swapped_key_file_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let region = init(dir.path(), Protection::Plaintext);
    let log = region.path.join("log.key.pem");
    let witness = region.path.join("witness.key.pem");
    let log_bytes = std::fs::read(&log).unwrap();
    std::fs::write(&log, std::fs::read(&witness).unwrap()).unwrap();
    std::fs::write(&witness, log_bytes).unwrap();

    let err = region.log_key(None).unwrap_err();
    assert!(
        matches!(&err, LayoutError::NoteKeyMismatch { key, role: "log", .. } if key.ends_with("zj/log.key.pem")),
        "{err:?}"
    );
    assert!(err
        .to_string()
        .contains("log.key.pem does not hold the log key"));
    let err = region.witness_key(None).unwrap_err();
    assert!(
        err.to_string()
            .contains("witness.key.pem does not hold the witness key"),
        "{err}"
    );
}

#[test]
fn plaintext_note_keys_are_refused_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let region = init(dir.path(), Protection::Plaintext);
    assert!(region.log_key(None).unwrap().is_some());
    let refused = region.with_plaintext_keys(PlaintextKeys::Refuse);
    assert!(matches!(
        refused.log_key(None),
        Err(LayoutError::Store(StoreError::PlaintextKeyRefused { .. }))
    ));
}

#[test]
fn a_directory_without_note_keys_opens_and_gets_them_added() {
    let dir = tempfile::tempdir().unwrap();
    let region = init(dir.path(), Protection::Plaintext);
    let mut config = region.config.clone();
    config.log = None;
    config.witness = None;
    std::fs::remove_file(region.path.join(LOG_KEY_FILE)).unwrap();
    std::fs::remove_file(region.path.join(WITNESS_KEY_FILE)).unwrap();
    rewrite_region_file(&region.path, &config).unwrap();
    let text = std::fs::read_to_string(region.path.join(REGION_FILE)).unwrap();
    assert!(!text.contains("\"log\"") && !text.contains("\"witness\""));

    let old = RegionDir::open(&region.path)
        .unwrap()
        .with_plaintext_keys(PlaintextKeys::Allow);
    assert!(old.log_key(None).unwrap().is_none());
    assert!(old.witness_key(None).unwrap().is_none());

    let set = old.set_note_keys(&keep()).unwrap();
    assert_eq!(set.log, NoteKeyOutcome::Generated);
    assert_eq!(set.witness, NoteKeyOutcome::Generated);
    assert!(set.deleted_keys.is_empty());
    let log = set.region.log_key(None).unwrap().unwrap();
    let witness = set.region.witness_key(None).unwrap().unwrap();
    assert_ne!(log.verifier_key().public(), witness.verifier_key().public());
    assert_eq!(set.region.config.log.as_ref().unwrap().key, LOG_KEY_FILE);

    // Again: nothing to do, nothing changes.
    let again = set.region.set_note_keys(&keep()).unwrap();
    assert_eq!(again.log, NoteKeyOutcome::Kept);
    assert_eq!(again.witness, NoteKeyOutcome::Kept);
    assert_eq!(again.region.config, set.region.config);
}

#[test]
fn an_imported_key_replaces_the_log_key_and_the_old_file_is_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let region = init(dir.path(), Protection::Plaintext);
    let witness_before = region.config.witness.clone().unwrap();
    let passphrase = Passphrase::new("source passphrase".into()).unwrap();
    let der = ed25519_der();
    let file = dir.path().join("made-elsewhere.pem");
    store::write_private_key(
        &file,
        &der,
        Protection::Encrypted(&passphrase),
        false,
        &mut rand_core::OsRng,
    )
    .unwrap();

    let set = region
        .set_note_keys(&SetNoteKeys {
            log: NoteKeySource::Import(&file),
            source_passphrase: Some(&passphrase),
            ..keep()
        })
        .unwrap();
    assert_eq!(set.log, NoteKeyOutcome::Imported);
    assert_eq!(set.witness, NoteKeyOutcome::Kept);
    let expected = NoteKeyPair::from_pkcs8("huren.gov.cn/log/330000", KeyType::Ed25519, &der)
        .unwrap()
        .verifier_key()
        .clone();
    let log = set.region.config.log.as_ref().unwrap();
    assert_eq!(log.vkey, expected);
    assert_eq!(log.key, format!("log-{:08x}.key.pem", expected.id()));
    assert_eq!(
        set.region.log_key(None).unwrap().unwrap().verifier_key(),
        &expected
    );
    assert_eq!(set.deleted_keys, ["log.key.pem"]);
    assert!(!region.path.join("log.key.pem").exists());
    assert_eq!(set.region.config.witness.as_ref(), Some(&witness_before));

    // Generating both anew replaces both; the log key goes back to the default name.
    let set = set
        .region
        .set_note_keys(&SetNoteKeys {
            log: NoteKeySource::Generate,
            witness: NoteKeySource::Generate,
            ..keep()
        })
        .unwrap();
    assert_eq!(set.region.config.log.as_ref().unwrap().key, LOG_KEY_FILE);
    assert_ne!(set.region.config.log.as_ref().unwrap().vkey, expected);
    assert_eq!(set.deleted_keys.len(), 2, "{:?}", set.deleted_keys);
    assert!(set.region.witness_key(None).unwrap().is_some());
}

#[test]
fn an_import_that_is_not_ed25519_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let region = init(dir.path(), Protection::Plaintext);
    let before = std::fs::read(region.path.join(REGION_FILE)).unwrap();
    let p256 = PrivateKey::generate(Algorithm::Es256).unwrap();
    let file = dir.path().join("p256.pem");
    key_file(&file, &p256.to_pkcs8_der().unwrap());

    let err = region
        .set_note_keys(&SetNoteKeys {
            witness: NoteKeySource::Import(&file),
            ..keep()
        })
        .unwrap_err();
    assert!(
        matches!(&err, LayoutError::NoteKey { path, .. } if path.ends_with("p256.pem")),
        "{err:?}"
    );
    let source = std::error::Error::source(&err).unwrap().to_string();
    assert!(source.contains("not an Ed25519 PKCS#8 key"), "{source}");
    assert_eq!(
        std::fs::read(region.path.join(REGION_FILE)).unwrap(),
        before,
        "nothing changed"
    );
}

#[test]
fn the_same_key_for_both_roles_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let region = init(dir.path(), Protection::Plaintext);
    let before = std::fs::read(region.path.join(REGION_FILE)).unwrap();
    let file = dir.path().join("one.pem");
    key_file(&file, &ed25519_der());

    let err = region
        .set_note_keys(&SetNoteKeys {
            log: NoteKeySource::Import(&file),
            witness: NoteKeySource::Import(&file),
            ..keep()
        })
        .unwrap_err();
    assert!(matches!(err, LayoutError::SameNoteKey { .. }), "{err:?}");
    assert!(err.to_string().contains("are the same key"), "{err}");

    // Importing the present witness key as the log key is the same mistake.
    let witness_file = region.path.join(WITNESS_KEY_FILE);
    let err = region
        .set_note_keys(&SetNoteKeys {
            log: NoteKeySource::Import(&witness_file),
            ..keep()
        })
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("and the witness key (the present witness key) are the same key"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(region.path.join(REGION_FILE)).unwrap(),
        before
    );
}

#[test]
fn a_region_file_naming_one_key_for_both_roles_or_a_wrong_name_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let region = init(dir.path(), Protection::Plaintext);
    let mut config = region.config.clone();
    let log = config.log.clone().unwrap();
    config.witness = Some(NoteKeyFiles {
        key: WITNESS_KEY_FILE.into(),
        vkey: VerifierKey::new(
            "huren.gov.cn/witness/330000",
            KeyType::Cosignature,
            *log.vkey.public(),
        )
        .unwrap(),
    });
    rewrite_region_file(&region.path, &config).unwrap();
    let err = RegionDir::open(&region.path).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("region.json: log and witness must be two distinct keys"),
        "{err}"
    );

    config.witness = region.config.witness.clone();
    config.log = Some(NoteKeyFiles {
        key: LOG_KEY_FILE.into(),
        vkey: VerifierKey::new(
            "huren.gov.cn/log/320000",
            KeyType::Ed25519,
            *log.vkey.public(),
        )
        .unwrap(),
    });
    rewrite_region_file(&region.path, &config).unwrap();
    let err = RegionDir::open(&region.path).unwrap_err();
    assert!(
        err.to_string().ends_with(
            "region.json: log.vkey must be an Ed25519 (0x01) key named \"huren.gov.cn/log/330000\""
        ),
        "{err}"
    );
}
