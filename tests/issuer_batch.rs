//! Batch issuance written chunk by chunk (`Issuer::issue_many`: set-based collision checks,
//! multi-row `INSERT`s, the audit chain computed in memory), on SQLite and on PostgreSQL: list
//! rollovers inside a batch and across chunks, redrawing taken status indices, failing a batch
//! as a whole when a list is fuller than its counter, supersession inside and outside a batch
//! with the same rows and audit entries as single issuance, resume keys, and two processes
//! issuing batches into one database.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

#[macro_use]
mod common;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use common::issuer::{building_licence, spawn_issuer, Db, TestIssuer, ISSUER_NOW};
use huren_crypto::time::FixedClock;
use huren_crypto::tlog::entry::token_sha256;
use huren_crypto::verify::{Outcome, Verdict};
use huren_issuer::audit;
use huren_issuer::issuance::{BatchOutcome, IssueError, IssueRequest, Issuer};
use huren_issuer::tokens::{Principal, Scope};
use sqlx::Row;

on_both_databases!(
    batch_spanning_chunks_and_list_rollovers_fills_each_list_to_seven_eighths,
    batch_into_a_nearly_full_list_draws_taken_indices_again,
    batch_fails_as_a_whole_when_a_list_is_fuller_than_its_counter,
    supersession_in_a_batch_writes_what_single_issuance_writes,
    resume_keys_skip_recorded_items_and_repeats_within_a_batch,
    batches_from_two_processes_never_share_an_index,
);

/// A second issuer core on the test issuer's database (its own pool, as another process
/// would have), with status lists of `capacity` entries.
async fn core(issuer: &TestIssuer, capacity: i64) -> Issuer {
    let mut config = issuer.config.clone();
    config.status_list_capacity = capacity;
    huren_issuer::app::build_issuer(&config, None, Arc::new(FixedClock(ISSUER_NOW)))
        .await
        .unwrap()
        .0
}

fn principal(issuer: &Issuer) -> Principal {
    Principal {
        id: "batch-test".into(),
        region: issuer.keys.region.clone(),
        scopes: vec![Scope::Issue, Scope::Read, Scope::Revoke],
        types: vec!["*".into()],
    }
}

fn request() -> IssueRequest {
    serde_json::from_value(building_licence()).unwrap()
}

fn invalid_request() -> IssueRequest {
    let mut bad = building_licence();
    bad["holder"]["id"] = "91350100M000100Y44".into();
    serde_json::from_value(bad).unwrap()
}

fn superseding(old: &str) -> IssueRequest {
    let mut request = request();
    request.supersedes = Some(old.to_owned());
    request
}

/// Per status list in order: (id, allocated, licences held). Asserts that every list's
/// counter equals the licences it holds and that no list took more than 7/8 of its capacity.
async fn lists(issuer: &Issuer) -> Vec<(String, i64, i64)> {
    let rows = sqlx::query(
        "SELECT s.id AS id, s.capacity AS capacity, s.allocated AS allocated, \
         (SELECT COUNT(*) FROM licences l WHERE l.list_id = s.id) AS held \
         FROM status_lists s ORDER BY s.seq",
    )
    .fetch_all(issuer.store.pool())
    .await
    .unwrap();
    rows.iter()
        .map(|row| {
            let id: String = row.try_get("id").unwrap();
            let capacity: i64 = row.try_get("capacity").unwrap();
            let allocated: i64 = row.try_get("allocated").unwrap();
            let held: i64 = row.try_get("held").unwrap();
            assert_eq!(allocated, held, "list {id}: counter and licences agree");
            assert!(held * 8 <= capacity * 7, "list {id} over 7/8 full");
            (id, allocated, held)
        })
        .collect()
}

async fn count(issuer: &Issuer, sql: &str) -> i64 {
    sqlx::query(sql)
        .fetch_one(issuer.store.pool())
        .await
        .unwrap()
        .try_get(0)
        .unwrap()
}

/// Every result issued, with status positions that are all distinct.
fn issued(
    results: Vec<Result<huren_issuer::issuance::Issued, IssueError>>,
) -> Vec<huren_issuer::issuance::Issued> {
    let issued: Vec<_> = results.into_iter().map(|r| r.unwrap()).collect();
    let positions: HashSet<_> = issued
        .iter()
        .map(|i| (i.status.list_id.clone(), i.status.idx))
        .collect();
    assert_eq!(positions.len(), issued.len(), "no index handed out twice");
    issued
}

async fn batch_spanning_chunks_and_list_rollovers_fills_each_list_to_seven_eighths(db: Db) {
    let test = spawn_issuer(&db).await;
    let issuer = core(&test, 1024).await;
    let principal = principal(&issuer);
    // More than one chunk (2,047 items), and three lists of 1,024 (896 each at 7/8).
    let requests: Vec<IssueRequest> = (0..2_100).map(|_| request()).collect();
    let batch = issued(issuer.issue_batch(&principal, &requests).await.unwrap());
    assert_eq!(
        lists(&issuer).await,
        [
            ("330000-0".to_owned(), 896, 896),
            ("330000-1".to_owned(), 896, 896),
            ("330000-2".to_owned(), 308, 308)
        ]
    );
    for (list, item) in [("330000-0", 0), ("330000-1", 1_000), ("330000-2", 2_099)] {
        assert_eq!(
            batch[item].status.list_id, list,
            "items take lists in order"
        );
        let report = test.verify(&batch[item].qr_text).await;
        assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
    }
    // token_create for the test's admin token, then one entry per licence.
    assert_eq!(audit::verify_chain(&issuer.store).await.unwrap(), Ok(2_101));
    let entries = audit::page(&issuer.store, 1, 10_000).await.unwrap();
    for (entry, licence) in entries.iter().zip(&batch) {
        assert_eq!(entry.subject, licence.id, "audit entries in item order");
        assert_eq!(
            entry.detail,
            format!(
                r#"{{"idx":{},"list_id":"{}","supersedes":null,"token_sha256":"{}","type_code":"11100000000013338W032"}}"#,
                licence.status.idx,
                licence.status.list_id,
                token_sha256(licence.token.as_bytes())
            )
        );
    }
}

async fn batch_into_a_nearly_full_list_draws_taken_indices_again(db: Db) {
    let test = spawn_issuer(&db).await;
    let issuer = core(&test, 64).await;
    let principal = principal(&issuer);
    let first: Vec<IssueRequest> = (0..50).map(|_| request()).collect();
    let mut all = issued(issuer.issue_batch(&principal, &first).await.unwrap());
    // 6 more fit list 0 (56 = 7/8 of 64), each drawn where 50 of 64 indices are taken.
    for _ in 0..3 {
        let next: Vec<IssueRequest> = (0..10).map(|_| request()).collect();
        all.extend(issued(issuer.issue_batch(&principal, &next).await.unwrap()));
    }
    let positions: HashSet<_> = all
        .iter()
        .map(|i| (i.status.list_id.clone(), i.status.idx))
        .collect();
    assert_eq!(positions.len(), 80);
    assert_eq!(
        lists(&issuer).await,
        [
            ("330000-0".to_owned(), 56, 56),
            ("330000-1".to_owned(), 24, 24)
        ]
    );
    assert_eq!(audit::verify_chain(&issuer.store).await.unwrap(), Ok(81));
}

async fn batch_fails_as_a_whole_when_a_list_is_fuller_than_its_counter(db: Db) {
    let test = spawn_issuer(&db).await;
    let issuer = core(&test, 64).await;
    let principal = principal(&issuer);
    let pool = issuer.store.pool();
    // A list whose counter says empty while every index is held (rows written behind the
    // issuer's back): no index can be found.
    sqlx::query(
        "INSERT INTO status_lists (id, region, seq, capacity, allocated, version, created_at) \
         VALUES ('330000-0', '330000', 0, 64, 0, 0, $1)",
    )
    .bind(ISSUER_NOW.seconds())
    .execute(pool)
    .await
    .unwrap();
    for idx in 0..64i64 {
        sqlx::query(
            "INSERT INTO licences (jti, region, type_code, token, list_id, idx, status, issued_at, issued_by) \
             VALUES ($1, '330000', '11100000000013338W032', '-', '330000-0', $2, 0, $3, 'test')",
        )
        .bind(format!("placeholder.{idx}"))
        .bind(idx)
        .bind(ISSUER_NOW.seconds())
        .execute(pool)
        .await
        .unwrap();
    }
    let requests = vec![request(), invalid_request(), request()];
    let error = issuer.issue_batch(&principal, &requests).await.unwrap_err();
    assert!(
        matches!(&error, IssueError::Store(e) if e.to_string().contains("no free index found in 330000-0")),
        "{error:?}"
    );
    assert_eq!(count(&issuer, "SELECT COUNT(*) FROM licences").await, 64);
    assert_eq!(
        count(
            &issuer,
            "SELECT allocated FROM status_lists WHERE id = '330000-0'"
        )
        .await,
        0
    );
    assert_eq!(count(&issuer, "SELECT COUNT(*) FROM status_lists").await, 1);
    assert_eq!(
        audit::verify_chain(&issuer.store).await.unwrap(),
        Ok(1),
        "no audit entry, head unmoved"
    );
}

async fn supersession_in_a_batch_writes_what_single_issuance_writes(db: Db) {
    let test = spawn_issuer(&db).await;
    let issuer = core(&test, 1 << 12).await;
    let principal = principal(&issuer);
    let single = |request: IssueRequest| {
        let (issuer, principal) = (&issuer, &principal);
        async move { issuer.issue(principal, &request, None).await.unwrap().0 }
    };
    // The reference: a supersession through single issuance.
    let old = single(request()).await;
    let renewed = single(superseding(&old.id)).await;
    // Two licences that a batch supersedes.
    let a = single(request()).await;
    let b = single(request()).await;
    let missing = "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F";
    let requests = vec![
        superseding(&a.id),
        request(),
        superseding(&a.id),
        superseding(missing),
        superseding(&b.id),
        invalid_request(),
        superseding(&renewed.id),
        superseding(&old.id),
    ];
    let results = issuer.issue_batch(&principal, &requests).await.unwrap();
    let ok = |i: usize| results[i].as_ref().unwrap().clone();
    assert!(
        matches!(&results[2], Err(IssueError::Conflict(m)) if m.contains("already revoked")),
        "{:?}",
        results[2]
    );
    assert!(
        matches!(&results[3], Err(IssueError::Invalid(e)) if e[0].field == "supersedes"),
        "{:?}",
        results[3]
    );
    assert!(
        matches!(&results[5], Err(IssueError::Invalid(e)) if e[0].field == "holder.id"),
        "{:?}",
        results[5]
    );
    assert!(
        matches!(&results[7], Err(IssueError::Conflict(_))),
        "{:?}",
        results[7]
    );
    let (new_a, plain, new_b, new_renewed) = (ok(0), ok(1), ok(4), ok(6));

    let record = |jti: String| {
        let pool = issuer.store.pool();
        async move {
            let row = sqlx::query(
                "SELECT status, status_reason, status_changed_at, supersedes, superseded_by \
                 FROM licences WHERE jti = $1",
            )
            .bind(&jti)
            .fetch_one(pool)
            .await
            .unwrap();
            (
                row.try_get::<i64, _>("status").unwrap(),
                row.try_get::<Option<String>, _>("status_reason").unwrap(),
                row.try_get::<Option<i64>, _>("status_changed_at").unwrap(),
                row.try_get::<Option<String>, _>("supersedes").unwrap(),
                row.try_get::<Option<String>, _>("superseded_by").unwrap(),
            )
        }
    };
    let revoked_by = |new: &str| {
        (
            1,
            Some("superseded".to_owned()),
            Some(ISSUER_NOW.seconds()),
            None,
            Some(new.to_owned()),
        )
    };
    // Single issuance and the batch leave the same rows behind.
    assert_eq!(record(old.id.clone()).await, revoked_by(&renewed.id));
    assert_eq!(record(a.id.clone()).await, revoked_by(&new_a.id));
    assert_eq!(record(b.id.clone()).await, revoked_by(&new_b.id));
    let renewed_row = record(renewed.id.clone()).await;
    assert_eq!(
        (renewed_row.0, renewed_row.3.clone(), renewed_row.4.clone()),
        (1, Some(old.id.clone()), Some(new_renewed.id.clone())),
        "a licence issued as a renewal can itself be superseded"
    );
    assert_eq!(
        record(new_a.id.clone()).await,
        (0, None, None, Some(a.id.clone()), None)
    );
    assert_eq!(record(plain.id.clone()).await, (0, None, None, None, None));
    assert_eq!(
        count(
            &issuer,
            "SELECT version FROM status_lists WHERE id = '330000-0'"
        )
        .await,
        4,
        "one version per status change: 1 single, 3 in the batch"
    );

    // The same audit entries, single or batch: revoke the old one, then issue the new one.
    let entries = audit::page(&issuer.store, 1, 100).await.unwrap();
    let shape: Vec<(String, String)> = entries
        .iter()
        .map(|e| (e.action.clone(), e.subject.clone()))
        .collect();
    let expected: Vec<(String, String)> = [
        ("issue", &old.id),
        ("revoke", &old.id),
        ("issue", &renewed.id),
        ("issue", &a.id),
        ("issue", &b.id),
        ("revoke", &a.id),
        ("issue", &new_a.id),
        ("issue", &plain.id),
        ("revoke", &b.id),
        ("issue", &new_b.id),
        ("revoke", &renewed.id),
        ("issue", &new_renewed.id),
    ]
    .into_iter()
    .map(|(action, subject)| (action.to_owned(), subject.clone()))
    .collect();
    assert_eq!(shape, expected);
    let detail = |subject: &str, action: &str| {
        entries
            .iter()
            .find(|e| e.subject == subject && e.action == action)
            .unwrap()
            .detail
            .clone()
    };
    let revoke_detail = |new: &str| format!(r#"{{"reason":"superseded","superseded_by":"{new}"}}"#);
    let issue_detail = |new: &huren_issuer::issuance::Issued, old: &str| {
        format!(
            r#"{{"idx":{},"list_id":"330000-0","supersedes":"{old}","token_sha256":"{}","type_code":"11100000000013338W032"}}"#,
            new.status.idx,
            token_sha256(new.token.as_bytes())
        )
    };
    assert_eq!(detail(&old.id, "revoke"), revoke_detail(&renewed.id));
    assert_eq!(detail(&a.id, "revoke"), revoke_detail(&new_a.id));
    assert_eq!(
        detail(&renewed.id, "issue"),
        issue_detail(&renewed, &old.id)
    );
    assert_eq!(detail(&new_a.id, "issue"), issue_detail(&new_a, &a.id));
    assert_eq!(audit::verify_chain(&issuer.store).await.unwrap(), Ok(13));

    // What windows see.
    assert_eq!(test.verify(&a.token).await.reasons, [Outcome::Revoked]);
    assert_eq!(test.verify(&new_a.token).await.verdict, Verdict::Valid);
}

async fn resume_keys_skip_recorded_items_and_repeats_within_a_batch(db: Db) {
    let test = spawn_issuer(&db).await;
    let issuer = core(&test, 1 << 12).await;
    let principal = principal(&issuer);
    let (good, bad) = (request(), invalid_request());
    let first = issuer
        .issue_many(
            &principal,
            &[
                (Some("k1"), &good),
                (Some("k2"), &bad),
                (Some("k1"), &bad),
                (Some("k3"), &good),
                (None, &good),
            ],
        )
        .await
        .unwrap();
    let id = |result: &Result<BatchOutcome, IssueError>| match result {
        Ok(BatchOutcome::Issued(issued)) => issued.id.clone(),
        other => panic!("not issued: {other:?}"),
    };
    let (k1, k3) = (id(&first[0]), id(&first[3]));
    id(&first[4]);
    assert!(matches!(&first[1], Err(IssueError::Invalid(_))));
    assert!(
        matches!(&first[2], Ok(BatchOutcome::AlreadyDone(jti)) if *jti == k1),
        "a repeated key is done, whatever the row now says: {:?}",
        first[2]
    );
    let second = issuer
        .issue_many(
            &principal,
            &[(Some("k1"), &bad), (Some("k2"), &good), (Some("k3"), &good)],
        )
        .await
        .unwrap();
    assert!(matches!(&second[0], Ok(BatchOutcome::AlreadyDone(jti)) if *jti == k1));
    let k2 = id(&second[1]);
    assert!(matches!(&second[2], Ok(BatchOutcome::AlreadyDone(jti)) if *jti == k3));
    let recorded: BTreeMap<String, String> = sqlx::query("SELECT row_key, jti FROM import_rows")
        .fetch_all(issuer.store.pool())
        .await
        .unwrap()
        .iter()
        .map(|row| (row.try_get("row_key").unwrap(), row.try_get("jti").unwrap()))
        .collect();
    assert_eq!(
        recorded,
        BTreeMap::from([
            ("k1".to_owned(), k1),
            ("k2".to_owned(), k2),
            ("k3".to_owned(), k3)
        ])
    );
    assert_eq!(count(&issuer, "SELECT COUNT(*) FROM licences").await, 4);
    assert_eq!(audit::verify_chain(&issuer.store).await.unwrap(), Ok(5));
}

async fn batches_from_two_processes_never_share_an_index(db: Db) {
    let test = spawn_issuer(&db).await;
    let cores = [
        Arc::new(core(&test, 256).await),
        Arc::new(core(&test, 256).await),
    ];
    let mut tasks = Vec::new();
    for issuer in &cores {
        let issuer = Arc::clone(issuer);
        tasks.push(tokio::spawn(async move {
            let principal = principal(&issuer);
            let mut all = Vec::new();
            for _ in 0..4 {
                let requests: Vec<IssueRequest> = (0..60).map(|_| request()).collect();
                all.extend(issued(
                    issuer.issue_batch(&principal, &requests).await.unwrap(),
                ));
            }
            all
        }));
    }
    let mut positions = HashSet::new();
    for task in tasks {
        for licence in task.await.unwrap() {
            assert!(positions.insert((licence.status.list_id, licence.status.idx)));
        }
    }
    assert_eq!(positions.len(), 480);
    let lists = lists(&cores[0]).await;
    assert_eq!(
        lists.iter().map(|(_, _, held)| held).sum::<i64>(),
        480,
        "{lists:?}"
    );
    assert_eq!(lists.len(), 3, "224 + 224 + 32: {lists:?}");
    assert_eq!(audit::verify_chain(&cores[0].store).await.unwrap(), Ok(481));
}
