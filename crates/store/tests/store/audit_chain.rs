//! The audit chain in the database, on both backends: rows appended through
//! [`Store::append_audit`] (hashes computed with `voltex-security`, as callers
//! do) verify; rows then modified, removed or reordered with raw SQL — what
//! someone with database access could do — fail verification, naming the
//! `seq` where it fails; concurrent appenders still build one contiguous chain.
//!
//! SQLite runs in a temporary directory, PostgreSQL in a fresh database per
//! test at `VOLTEX_TEST_POSTGRES_URL`, else
//! `postgres://postgres@127.0.0.1:5432/test` (as in `conformance.rs`).
use chrono::SubsecRound;
use serde_json::json;
use voltex_security::SecurityError;
use voltex_security::audit::{
    AuditEntry, AuditOutcome, AuditRecord, ChainStart, ChainSummary, GENESIS_HASH, record_hash,
    verify_chain,
};
use voltex_store::{AuditRow, AuditTip, Store, StoreError};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

use crate::support::{TestDb, sqlite};

async fn postgres() -> TestDb {
    crate::support::postgres("voltex_audit").await
}

// ----- the caller's side: build rows with voltex-security, verify what is stored

fn entry(i: usize) -> AuditEntry {
    AuditEntry {
        at: chrono::Utc::now(),
        actor: format!("user{}", i % 3),
        role: Some("member-trader".into()),
        member_id: Some("GEN-A".into()),
        action: "declaration.submit".into(),
        target: format!("declaration/D-{i}/v1"),
        source: Some("127.0.0.1".into()),
        outcome: AuditOutcome::Success,
        detail: json!({"segments": i, "price_per_mwh": 42.5}),
    }
}

fn outcome_name(o: AuditOutcome) -> String {
    match serde_json::to_value(o) {
        Ok(serde_json::Value::String(s)) => s,
        other => panic!("outcome serialises as a string, got {other:?}"),
    }
}

/// The record that follows `tip` (what `voltex_security::audit::append` does,
/// from the stored tip instead of the previous record).
fn next_record(tip: Option<&AuditTip>, e: AuditEntry) -> Result<AuditRecord, SecurityError> {
    let mut r = AuditRecord {
        seq: tip.map_or(1, |t| t.seq as u64 + 1),
        at: e.at.trunc_subsecs(6),
        actor: e.actor,
        role: e.role,
        member_id: e.member_id,
        action: e.action,
        target: e.target,
        source: e.source,
        outcome: e.outcome,
        detail: e.detail,
        prev_hash: tip.map_or_else(|| GENESIS_HASH.to_string(), |t| t.hash.clone()),
        hash: String::new(),
    };
    r.hash = record_hash(&r)?;
    Ok(r)
}

fn row_of(r: &AuditRecord) -> Result<AuditRow, BoxError> {
    Ok(AuditRow {
        seq: i64::try_from(r.seq)?,
        at: r.at,
        actor: r.actor.clone(),
        action: r.action.clone(),
        target: r.target.clone(),
        outcome: outcome_name(r.outcome),
        prev_hash: r.prev_hash.clone(),
        hash: r.hash.clone(),
        body: serde_json::to_string(r)?,
    })
}

async fn append(store: &Store, e: AuditEntry) -> AuditRow {
    store
        .append_audit(|tip| -> Result<AuditRow, BoxError> {
            row_of(&next_record(tip.as_ref(), e)?)
        })
        .await
        .unwrap()
}

async fn append_n(store: &Store, n: usize) -> Vec<AuditRow> {
    let mut out = Vec::new();
    for i in 0..n {
        out.push(append(store, entry(i)).await);
    }
    out
}

/// Where and why verification failed.
#[derive(Debug)]
struct Failure {
    seq: i64,
    rule: String,
}

/// The record a row holds, if its columns agree with its hashed body.
fn record_of(row: &AuditRow) -> Result<AuditRecord, Failure> {
    let fail = |rule: String| Failure { seq: row.seq, rule };
    let r: AuditRecord = serde_json::from_str(&row.body)
        .map_err(|e| fail(format!("body is not an audit record: {e}")))?;
    let columns_agree = u64::try_from(row.seq) == Ok(r.seq)
        && row.at == r.at
        && row.actor == r.actor
        && row.action == r.action
        && row.target == r.target
        && row.outcome == outcome_name(r.outcome)
        && row.prev_hash == r.prev_hash
        && row.hash == r.hash;
    if !columns_agree {
        return Err(fail(format!(
            "columns disagree with the hashed body (body says seq {})",
            r.seq
        )));
    }
    Ok(r)
}

/// What `voltex audit verify` does: read every row in `seq` order and verify
/// the chain, reporting the first problem.
async fn verify(store: &Store, head: Option<(u64, &str)>) -> Result<ChainSummary, Failure> {
    let mut rows = Vec::new();
    let mut from = i64::MIN;
    loop {
        let page = store.audit_rows(from, 7).await.unwrap();
        let Some(last) = page.last() else { break };
        from = last.seq + 1;
        rows.extend(page);
    }
    let mut records = Vec::new();
    let mut mismatch = None;
    for row in &rows {
        match record_of(row) {
            Ok(r) => records.push(r),
            Err(f) => {
                mismatch = Some(f);
                break;
            }
        }
    }
    // The chain up to a mismatching row may already break earlier.
    let head = if mismatch.is_some() { None } else { head };
    match verify_chain(&records, &ChainStart::Genesis, head) {
        Err(SecurityError::AuditChainBroken { seq, rule }) => Err(Failure {
            seq: seq as i64,
            rule,
        }),
        Err(e) => panic!("verification could not run: {e}"),
        Ok(summary) => match mismatch {
            Some(f) => Err(f),
            None => Ok(summary),
        },
    }
}

// ----- cases

async fn twenty_appended_rows_verify_and_read_back(db: &TestDb) {
    let s = &db.store;
    let empty = verify(s, None).await.unwrap();
    assert_eq!((empty.rows, empty.head_hash.as_str()), (0, GENESIS_HASH));

    let appended = append_n(s, 20).await;
    assert_eq!(appended[0].prev_hash, GENESIS_HASH);
    let summary = verify(s, Some((20, &appended[19].hash))).await.unwrap();
    assert_eq!((summary.rows, summary.last_seq), (20, Some(20)));
    assert_eq!(summary.head_hash, appended[19].hash);
    assert_eq!(s.audit_count().await.unwrap(), 20);

    assert_eq!(
        s.audit_rows(1, 100).await.unwrap(),
        appended,
        "rows read back as appended"
    );
    let page = s.audit_rows(6, 5).await.unwrap();
    assert_eq!(
        page.iter().map(|r| r.seq).collect::<Vec<_>>(),
        [6, 7, 8, 9, 10]
    );
    let tail = s.audit_tail(3).await.unwrap();
    assert_eq!(tail.iter().map(|r| r.seq).collect::<Vec<_>>(), [18, 19, 20]);
    assert_eq!(tail[2].actor, "user1");
    assert_eq!(tail[2].outcome, "success");
}

async fn a_failed_append_writes_nothing(db: &TestDb) {
    let s = &db.store;
    append_n(s, 2).await;
    let refused = s
        .append_audit(|_| -> Result<AuditRow, BoxError> { Err("hashing failed".into()) })
        .await
        .unwrap_err();
    assert_eq!(refused.to_string(), "hashing failed");
    assert_eq!(s.audit_count().await.unwrap(), 2);
    append(s, entry(2)).await;
    assert_eq!(verify(s, None).await.unwrap().rows, 3);
}

async fn an_actor_edited_in_the_body_is_detected(db: &TestDb) {
    let s = &db.store;
    append_n(s, 20).await;
    // Rewrite both the body and the column, so the row is self-consistent.
    let n = s
        .raw_execute(
            "UPDATE audit_log SET actor = 'mallory', \
             body = REPLACE(body, '\"actor\":\"user1\"', '\"actor\":\"mallory\"') WHERE seq = 8",
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    assert!(
        s.audit_rows(8, 1).await.unwrap()[0]
            .body
            .contains("mallory")
    );
    let f = verify(s, None).await.unwrap_err();
    assert_eq!(f.seq, 8, "{f:?}");
    assert!(f.rule.contains("row modified"), "{f:?}");
}

async fn an_actor_edited_only_in_its_column_is_detected(db: &TestDb) {
    let s = &db.store;
    append_n(s, 20).await;
    s.raw_execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 13")
        .await
        .unwrap();
    let f = verify(s, None).await.unwrap_err();
    assert_eq!(f.seq, 13, "{f:?}");
    assert!(f.rule.contains("disagree"), "{f:?}");
}

async fn a_deleted_middle_row_is_detected(db: &TestDb) {
    let s = &db.store;
    append_n(s, 20).await;
    let n = s
        .raw_execute("DELETE FROM audit_log WHERE seq = 10")
        .await
        .unwrap();
    assert_eq!(n, 1);
    let f = verify(s, None).await.unwrap_err();
    assert_eq!(f.seq, 11, "{f:?}");
    assert!(f.rule.contains("sequence jumps from 9 to 11"), "{f:?}");
}

async fn two_rows_with_swapped_seq_are_detected(db: &TestDb) {
    let s = &db.store;
    append_n(s, 20).await;
    for sql in [
        "UPDATE audit_log SET seq = -1 WHERE seq = 5",
        "UPDATE audit_log SET seq = 5 WHERE seq = 12",
        "UPDATE audit_log SET seq = 12 WHERE seq = -1",
    ] {
        assert_eq!(s.raw_execute(sql).await.unwrap(), 1, "{sql}");
    }
    let f = verify(s, None).await.unwrap_err();
    assert_eq!(f.seq, 5, "{f:?}");
    assert!(f.rule.contains("body says seq 12"), "{f:?}");
}

async fn swapped_rows_renumbered_in_their_bodies_are_detected(db: &TestDb) {
    let s = &db.store;
    append_n(s, 20).await;
    // A thorough forger also rewrites the seq inside each body.
    for sql in [
        "UPDATE audit_log SET seq = -1 WHERE seq = 5",
        "UPDATE audit_log SET seq = 5, body = REPLACE(body, '\"seq\":12,', '\"seq\":5,') WHERE seq = 12",
        "UPDATE audit_log SET seq = 12, body = REPLACE(body, '\"seq\":5,', '\"seq\":12,') WHERE seq = -1",
    ] {
        assert_eq!(s.raw_execute(sql).await.unwrap(), 1, "{sql}");
    }
    let f = verify(s, None).await.unwrap_err();
    assert_eq!(f.seq, 5, "{f:?}");
    assert!(f.rule.contains("prev_hash"), "{f:?}");
}

async fn a_deleted_last_row_is_detected_against_the_recorded_head(db: &TestDb) {
    let s = &db.store;
    let rows = append_n(s, 20).await;
    let head = (20u64, rows[19].hash.clone());
    s.raw_execute("DELETE FROM audit_log WHERE seq = 20")
        .await
        .unwrap();
    // Without a head recorded elsewhere, a shorter chain is still a valid chain.
    assert_eq!(verify(s, None).await.unwrap().rows, 19);
    let f = verify(s, Some((head.0, &head.1))).await.unwrap_err();
    assert_eq!(f.seq, 20, "{f:?}");
    assert!(f.rule.contains("missing"), "{f:?}");
}

async fn concurrent_appends_form_one_contiguous_chain(db: &TestDb) {
    let s = &db.store;
    let mut tasks = Vec::new();
    for t in 0..4 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let mut seqs = Vec::new();
            for i in 0..25 {
                seqs.push(append(&s, entry(t * 100 + i)).await.seq);
            }
            seqs
        }));
    }
    let mut seqs = Vec::new();
    for t in tasks {
        seqs.extend(t.await.unwrap());
    }
    seqs.sort();
    assert_eq!(seqs, (1..=100).collect::<Vec<i64>>());
    let summary = verify(s, None).await.unwrap();
    assert_eq!((summary.rows, summary.last_seq), (100, Some(100)));
    assert_eq!(s.audit_count().await.unwrap(), 100);
}

crate::support::on_backend!(sqlite:
    twenty_appended_rows_verify_and_read_back,
    a_failed_append_writes_nothing,
    an_actor_edited_in_the_body_is_detected,
    an_actor_edited_only_in_its_column_is_detected,
    a_deleted_middle_row_is_detected,
    two_rows_with_swapped_seq_are_detected,
    swapped_rows_renumbered_in_their_bodies_are_detected,
    a_deleted_last_row_is_detected_against_the_recorded_head,
    concurrent_appends_form_one_contiguous_chain,
);

crate::support::on_backend!(postgres:
    twenty_appended_rows_verify_and_read_back,
    a_failed_append_writes_nothing,
    an_actor_edited_in_the_body_is_detected,
    an_actor_edited_only_in_its_column_is_detected,
    a_deleted_middle_row_is_detected,
    two_rows_with_swapped_seq_are_detected,
    swapped_rows_renumbered_in_their_bodies_are_detected,
    a_deleted_last_row_is_detected_against_the_recorded_head,
    concurrent_appends_form_one_contiguous_chain,
);

#[tokio::test]
async fn a_row_that_does_not_follow_the_tip_is_refused() {
    let db = sqlite().await;
    append_n(&db.store, 1).await;
    let refused = db
        .store
        .append_audit(|tip| -> Result<AuditRow, StoreError> {
            let mut row = row_of(&next_record(tip.as_ref(), entry(1)).unwrap()).unwrap();
            row.seq += 1;
            Ok(row)
        })
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("must follow the tip"),
        "{refused}"
    );
    assert_eq!(db.store.audit_count().await.unwrap(), 1);
    append(&db.store, entry(1)).await;
    assert_eq!(
        db.store.audit_count().await.unwrap(),
        2,
        "the chain goes on"
    );
}
