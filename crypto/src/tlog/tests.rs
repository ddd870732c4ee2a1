//! Known-answer vectors from outside huren (RFC 6962's, signed_note's), and the rejection paths.

use aws_lc_rs::signature::Ed25519KeyPair;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::entry::LogEntry;
use super::note::{self, NoteKeyPair};
use super::tiles::{self, TilePath};
use super::tree::{self, Fetched, Frontier};
use super::vkey::{KeyType, VerifierKey};
use super::witness::{self, Refusal, WitnessView};
use super::{Hash, TlogError};

fn key_from_seed(name: &str, key_type: KeyType, seed: &[u8]) -> NoteKeyPair {
    let pkcs8 = Ed25519KeyPair::from_seed_unchecked(seed)
        .ok()
        .and_then(|k| k.to_pkcs8v1().ok())
        .map(|d| d.as_ref().to_vec())
        .unwrap_or_default();
    NoteKeyPair::from_pkcs8(name, key_type, &pkcs8).unwrap_or_else(|e| panic!("{e}"))
}

fn log_key() -> NoteKeyPair {
    key_from_seed("huren.gov.cn/log/330000", KeyType::Ed25519, &[7; 32])
}

fn witness_key(n: u8) -> NoteKeyPair {
    key_from_seed(
        &format!("huren.gov.cn/witness/3{n}0000"),
        KeyType::Cosignature,
        &[n; 32],
    )
}

/// RFC 6962's test leaves (as in Certificate Transparency's and Go's test suites).
fn rfc6962_leaves() -> Vec<Vec<u8>> {
    [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
    .iter()
    .map(|h| hex::decode(h).unwrap_or_default())
    .collect()
}

/// Every stored hash of a tree of `leaves`, as a store would hold them.
fn store(leaves: &[Vec<u8>]) -> (Frontier, Fetched) {
    let mut frontier = Frontier::empty();
    let mut stored = Fetched::new();
    for leaf in leaves {
        stored.extend(frontier.append(leaf).unwrap_or_default());
    }
    (frontier, stored)
}

#[test]
fn the_root_of_rfc_6962s_eight_leaves_is_the_published_one() {
    let (frontier, stored) = store(&rfc6962_leaves());
    let root = frontier.root().unwrap_or_default();
    assert_eq!(
        hex::encode(root.0),
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    );
    assert_eq!(tree::root(8, &stored).unwrap_or_default(), root);
    assert_eq!(stored.len() as u64, tlog_tiles::stored_hash_count(8));
}

#[test]
fn inclusion_and_consistency_proofs_verify_for_every_index_and_size() {
    let leaves: Vec<Vec<u8>> = (0..37u32).map(|i| i.to_be_bytes().to_vec()).collect();
    let (_, stored) = store(&leaves);
    for size in 1..=37u64 {
        let root = tree::root(size, &stored).unwrap_or_default();
        for index in 0..size {
            let proof = tree::inclusion_proof(size, index, &stored).unwrap_or_default();
            assert_eq!(
                tree::check_inclusion(&proof, size, &root, index, &leaves[index as usize]),
                Ok(())
            );
            // Another leaf at that index, or the leaf at another index, fails.
            assert!(tree::check_inclusion(&proof, size, &root, index, b"forged").is_err());
            if size > 1 {
                let other = (index + 1) % size;
                assert!(
                    tree::check_inclusion(&proof, size, &root, other, &leaves[index as usize])
                        .is_err()
                );
            }
        }
        for old in 0..=size {
            let old_root = tree::root(old, &stored).unwrap_or_default();
            let proof = tree::consistency_proof(size, old, &stored).unwrap_or_default();
            assert_eq!(
                tree::check_consistency(&proof, old, &old_root, size, &root),
                Ok(())
            );
            if old > 0 && old < size {
                let forked = Hash([9; 32]);
                assert!(tree::check_consistency(&proof, old, &forked, size, &root).is_err());
            }
        }
    }
    // Shrinking is never consistent.
    let r5 = tree::root(5, &stored).unwrap_or_default();
    let r4 = tree::root(4, &stored).unwrap_or_default();
    assert!(tree::check_consistency(&[], 5, &r5, 4, &r4).is_err());
}

#[test]
fn computations_name_the_stored_hash_they_were_not_given() {
    let (_, mut stored) = store(&rfc6962_leaves());
    let needed = tree::inclusion_indexes(8, 3).unwrap_or_default();
    assert!(!needed.is_empty());
    stored.remove(&needed[0]);
    assert_eq!(
        tree::inclusion_proof(8, 3, &stored),
        Err(TlogError::MissingHash(needed[0]))
    );
    assert!(tree::inclusion_indexes(8, 8).is_err());
}

#[test]
fn signed_notes_match_signed_notes_own_vector() {
    // signed_note 0.2.0's documentation: PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALV…
    let seed = STANDARD
        .decode("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")
        .unwrap_or_default();
    let key = key_from_seed("PeterNeumann", KeyType::Ed25519, &seed[1..]);
    assert_eq!(
        key.verifier_key().to_string(),
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    );
    let text = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    let mut n = signed_note::Note::new(text.as_bytes(), &[]).unwrap_or_else(|e| panic!("{e}"));
    n.add_sigs(&[&key]).unwrap_or_else(|e| panic!("{e}"));
    assert!(String::from_utf8_lossy(&n.to_bytes()).ends_with(
        "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
    ));
}

#[test]
fn verifier_keys_round_trip_and_refuse_a_wrong_id_type_or_name() {
    // The signed-note specification's example key.
    let spec = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
    let key = VerifierKey::parse(spec).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(key.to_string(), spec);
    assert_eq!(key.key_type(), KeyType::Ed25519);
    for bad in [
        "example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", // id
        "example.com/fo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",  // name
        "example.com/foo+530D903A+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", // case
        "example.com/foo+530d903a+AkyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",  // base64
        "example.com/foo+530d903a",
        "",
    ] {
        assert!(VerifierKey::parse(bad).is_err(), "{bad}");
    }
    // Type 0x02 is not one huren accepts.
    let typed = [&[0x02u8][..], &[1; 32]].concat();
    let id = signed_note::key_id("x", &typed);
    let other = format!("x+{id:08x}+{}", STANDARD.encode(typed));
    assert!(
        matches!(VerifierKey::parse(&other), Err(TlogError::VerifierKey(m)) if m.contains("0x02"))
    );
    // A witness key round-trips with its type.
    let w = witness_key(2).verifier_key().clone();
    assert_eq!(VerifierKey::parse(&w.to_string()), Ok(w.clone()));
    assert_eq!(w.key_type(), KeyType::Cosignature);
}

#[test]
fn a_checkpoint_opens_with_its_cosignatures_and_a_quorum_counts_listed_witnesses_only() {
    let log = log_key();
    let (w1, w2, outsider) = (witness_key(1), witness_key(2), witness_key(3));
    let root = Hash([1; 32]);
    let signed = note::sign_checkpoint(&log, 42, &root).unwrap_or_default();
    assert!(signed.starts_with("huren.gov.cn/log/330000\n42\nAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n\n— huren.gov.cn/log/330000 "));
    let listed = [w1.verifier_key().clone(), w2.verifier_key().clone()];
    let opened = note::open(signed.as_bytes(), log.verifier_key(), &listed)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((opened.size, opened.root), (42, root));
    assert_eq!(
        opened.witnessed(1),
        Err(TlogError::NotWitnessed {
            found: 0,
            quorum: 1
        })
    );

    let text = opened.text.as_bytes();
    let lines = [
        w1.cosign(text, 1_800_000_000).unwrap_or_default(),
        outsider.cosign(text, 1_800_000_001).unwrap_or_default(),
    ];
    let cosigned = note::add_signature_lines(&signed, &lines).unwrap_or_default();
    let opened = note::open(cosigned.as_bytes(), log.verifier_key(), &listed)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        opened.cosignatures.len(),
        1,
        "the outsider carries no weight"
    );
    assert_eq!(opened.cosignatures[0].time, 1_800_000_000);
    assert_eq!(opened.witnessed(1), Ok(()));
    assert!(opened.witnessed(2).is_err());

    // A cosignature over another checkpoint is a bad signature: the whole note is refused.
    let other = note::checkpoint_text("huren.gov.cn/log/330000", 43, &root).unwrap_or_default();
    let forged = note::add_signature_lines(
        &signed,
        &[w2.cosign(&other, 1_800_000_000).unwrap_or_default()],
    )
    .unwrap_or_default();
    assert!(
        matches!(note::open(forged.as_bytes(), log.verifier_key(), &listed), Err(TlogError::BadSignature(k)) if k.starts_with("huren.gov.cn/witness/320000"))
    );

    // Without the log's signature (only witnesses'), or by another log key: refused.
    let other_log = key_from_seed("huren.gov.cn/log/330000", KeyType::Ed25519, &[8; 32]);
    assert!(matches!(
        note::open(signed.as_bytes(), other_log.verifier_key(), &listed),
        Err(TlogError::NotSignedByLog(_))
    ));
    // A tampered size: the log signature fails.
    let tampered = signed.replacen("\n42\n", "\n43\n", 1);
    assert!(matches!(
        note::open(tampered.as_bytes(), log.verifier_key(), &listed),
        Err(TlogError::BadSignature(_))
    ));
    // A checkpoint of another origin signed with a key of that name does not open as this log's.
    let js = key_from_seed("huren.gov.cn/log/320000", KeyType::Ed25519, &[7; 32]);
    let js_signed = note::sign_checkpoint(&js, 42, &root).unwrap_or_default();
    assert!(note::open(js_signed.as_bytes(), log.verifier_key(), &listed).is_err());
    // A log key cannot cosign, a witness key cannot sign checkpoints.
    assert!(log.cosign(text, 1).is_err());
    assert!(note::sign_checkpoint(&w1, 1, &root).is_err());
}

#[test]
fn entries_are_canonical_json_and_refuse_anything_else() {
    let entry = LogEntry {
        seq: 7,
        at: 1_800_000_000,
        action: "issue".into(),
        subject: "33000020261206000001X".into(),
        token_sha256: Some("ab".repeat(32)),
    };
    let bytes = entry.to_bytes();
    assert_eq!(
        String::from_utf8_lossy(&bytes),
        format!("{{\"seq\":7,\"at\":1800000000,\"action\":\"issue\",\"subject\":\"33000020261206000001X\",\"token_sha256\":\"{}\"}}", "ab".repeat(32))
    );
    assert_eq!(LogEntry::parse(&bytes), Ok(entry.clone()));
    let no_token = LogEntry {
        token_sha256: None,
        ..entry
    };
    assert!(!String::from_utf8_lossy(&no_token.to_bytes()).contains("token_sha256"));
    for bad in [
        r#"{"at":1,"seq":1,"action":"issue","subject":"x"}"#,
        r#"{"seq":1, "at":1,"action":"issue","subject":"x"}"#,
        r#"{"seq":1,"at":1,"action":"issue","subject":"x","token_sha256":null}"#,
        r#"{"seq":1,"at":1,"action":"issue","subject":"x","holder":"张三"}"#,
        r#"{"seq":0,"at":1,"action":"issue","subject":"x"}"#,
        r#"{"seq":1,"at":1,"action":"Issue","subject":"x"}"#,
        r#"{"seq":1,"at":1,"action":"issue","subject":"x","token_sha256":"AB"}"#,
    ] {
        assert!(LogEntry::parse(bad.as_bytes()).is_err(), "{bad}");
    }
}

#[test]
fn tile_paths_follow_c2sp_and_only_the_canonical_spelling_parses() {
    let cases = [
        (
            TilePath {
                level: Some(0),
                index: 1_234_067,
                width: 256,
            },
            "tile/0/x001/x234/067",
        ),
        (
            TilePath {
                level: Some(1),
                index: 0,
                width: 17,
            },
            "tile/1/000.p/17",
        ),
        (
            TilePath {
                level: None,
                index: 273,
                width: 112,
            },
            "tile/entries/273.p/112",
        ),
        (
            TilePath {
                level: None,
                index: 1000,
                width: 256,
            },
            "tile/entries/x001/000",
        ),
    ];
    for (tile, path) in cases {
        assert_eq!(tile.to_path(), path);
        assert_eq!(TilePath::parse(path), Ok(tile));
    }
    for bad in [
        "tile/0/1",
        "tile/0/x000/001",
        "tile/0/001.p/256",
        "tile/0/001.p/0",
        "tile/0/001.p/07",
        "tile/8/000",
        "tile/00/000",
        "tile/0/001/",
        "tiles/0/000",
        "tile/data/000",
        "tile/0/-01",
    ] {
        assert!(TilePath::parse(bad).is_err(), "{bad}");
    }
    // The spec's example: 70 000 entries.
    let l0 = tiles::tiles_at(70_000, Some(0));
    assert_eq!(l0.len(), 274);
    assert_eq!(
        l0.last().map(|t| t.to_path()),
        Some("tile/0/273.p/112".into())
    );
    assert_eq!(
        tiles::tiles_at(70_000, Some(1)).last().map(|t| t.to_path()),
        Some("tile/1/001.p/17".into())
    );
    assert_eq!(
        tiles::tiles_at(70_000, Some(2)).last().map(|t| t.to_path()),
        Some("tile/2/000.p/1".into())
    );
    assert!(tiles::tiles_at(255, Some(1)).is_empty());
    assert!(
        TilePath::parse("tile/0/273.p/112").is_ok_and(|t| t.within(70_000) && !t.within(69_999))
    );
}

#[test]
fn entry_bundles_round_trip_and_refuse_truncation_or_a_wrong_count() {
    let entries = [b"a".to_vec(), Vec::new(), vec![7; 300]];
    let bundle = tiles::bundle(&entries).unwrap_or_default();
    assert_eq!(&bundle[..3], &[0, 1, b'a']);
    let back = tiles::unbundle(&bundle, 3).unwrap_or_default();
    assert_eq!(
        back,
        entries.iter().map(|e| e.as_slice()).collect::<Vec<_>>()
    );
    assert!(tiles::unbundle(&bundle, 2).is_err());
    assert!(tiles::unbundle(&bundle, 4).is_err());
    assert!(tiles::unbundle(&bundle[..bundle.len() - 1], 3).is_err());
    assert!(tiles::unbundle(&[0], 1).is_err());
}

#[test]
fn a_witness_cosigns_growth_and_refuses_a_fork_a_rollback_and_a_stale_old_size() {
    let log = log_key();
    let leaves: Vec<Vec<u8>> = (0..20u32).map(|i| i.to_be_bytes().to_vec()).collect();
    let (_, stored) = store(&leaves);
    let checkpoint = |size: u64, root: Hash| {
        let signed = note::sign_checkpoint(&log, size, &root).unwrap_or_default();
        note::open(signed.as_bytes(), log.verifier_key(), &[]).unwrap_or_else(|e| panic!("{e}"))
    };
    let root = |size| tree::root(size, &stored).unwrap_or_default();

    // First contact: old 0, no proof.
    let c10 = checkpoint(10, root(10));
    let body = witness::request_body(0, &[], &c10.note);
    let request = witness::parse_request(body.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let view = witness::decide(&request, &c10, None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        view,
        WitnessView {
            size: 10,
            root: root(10)
        }
    );

    // Growth with a proof.
    let c20 = checkpoint(20, root(20));
    let proof = tree::consistency_proof(20, 10, &stored).unwrap_or_default();
    let request = witness::parse_request(witness::request_body(10, &proof, &c20.note).as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(request.proof, proof);
    assert_eq!(
        witness::decide(&request, &c20, Some(view)).map(|v| v.size),
        Ok(20)
    );

    // A fork: a tree of 20 whose first 10 entries differ from those cosigned.
    let forked: Vec<Vec<u8>> = (100..120u32).map(|i| i.to_be_bytes().to_vec()).collect();
    let (_, fork_stored) = store(&forked);
    let fork = checkpoint(20, tree::root(20, &fork_stored).unwrap_or_default());
    let fork_proof = tree::consistency_proof(20, 10, &fork_stored).unwrap_or_default();
    let request = witness::AddCheckpoint {
        old_size: 10,
        proof: fork_proof,
        note: fork.note.clone(),
    };
    assert!(matches!(
        witness::decide(&request, &fork, Some(view)),
        Err(Refusal::Inconsistent(_))
    ));
    // Same size, another root: refused too.
    let same = checkpoint(10, Hash([5; 32]));
    let request = witness::AddCheckpoint {
        old_size: 10,
        proof: vec![],
        note: same.note.clone(),
    };
    assert_eq!(
        witness::decide(&request, &same, Some(view)).map_err(|e| e.status()),
        Err(422)
    );
    // The log thinks the witness is elsewhere: 409 with the held size.
    let request = witness::AddCheckpoint {
        old_size: 5,
        proof: vec![],
        note: c20.note.clone(),
    };
    assert_eq!(
        witness::decide(&request, &c20, Some(view)),
        Err(Refusal::Conflict(10))
    );
    // old above the checkpoint's size: 400; a proof on first contact: 422.
    let request = witness::AddCheckpoint {
        old_size: 30,
        proof: vec![],
        note: c20.note.clone(),
    };
    assert_eq!(
        witness::decide(&request, &c20, Some(view)).map_err(|e| e.status()),
        Err(400)
    );
    let request = witness::AddCheckpoint {
        old_size: 0,
        proof: vec![Hash([1; 32])],
        note: c10.note.clone(),
    };
    assert_eq!(
        witness::decide(&request, &c10, None).map_err(|e| e.status()),
        Err(422)
    );
    // Malformed requests.
    for bad in [
        "old 01\n\nx",
        "old 1\nnotbase64!\n\nx",
        "new 1\n\nx",
        "old 1\n",
    ] {
        assert!(witness::parse_request(bad.as_bytes()).is_err(), "{bad}");
    }
}

#[test]
fn consistency_is_proven_from_the_new_trees_tiles_alone() {
    let leaves: Vec<Vec<u8>> = (0..70_000u32).map(|i| i.to_be_bytes().to_vec()).collect();
    let (_, stored) = store(&leaves);
    // Tiles as a log serves them: the hashes of one tree level, from stored hashes.
    let fetch = |size: u64| {
        let stored = &stored;
        move |tile: &TilePath| -> Result<Vec<u8>, String> {
            if !tile.within(size) {
                return Err("beyond the tree".into());
            }
            let mut body = Vec::new();
            for k in 0..u64::from(tile.width) {
                let index = tree::stored_index(tile.tree_level(), tile.first() + k);
                body.extend_from_slice(&stored.get(&index).ok_or("missing")?.0);
            }
            Ok(body)
        }
    };
    let root = |size| tree::root(size, &stored).unwrap_or_default();
    for (old, new) in [
        (1, 70_000),
        (255, 256),
        (256, 70_000),
        (65_537, 69_999),
        (40_000, 40_000),
    ] {
        assert_eq!(
            tree::check_consistency_from_tiles(old, &root(old), new, &root(new), &fetch(new)),
            Ok(()),
            "{old} -> {new}"
        );
    }
    // Another history of the first 1000 entries is caught; so is a tile that lies.
    assert!(tree::check_consistency_from_tiles(
        1000,
        &Hash([3; 32]),
        70_000,
        &root(70_000),
        &fetch(70_000)
    )
    .is_err());
    let lying = |tile: &TilePath| -> Result<Vec<u8>, String> {
        let mut body = fetch(70_000)(tile)?;
        body[0] ^= 1;
        Ok(body)
    };
    assert!(matches!(
        tree::check_consistency_from_tiles(1000, &root(1000), 70_000, &root(70_000), &lying),
        Err(TlogError::Proof(_))
    ));
    let unreachable =
        |_: &TilePath| -> Result<Vec<u8>, String> { Err("connection refused".into()) };
    assert!(matches!(
        tree::check_consistency_from_tiles(1000, &root(1000), 70_000, &root(70_000), &unreachable),
        Err(TlogError::Tile(m)) if m.contains("connection refused")
    ));
}
