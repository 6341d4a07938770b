//! What replicas share beyond records, on both backends: the scheduler's
//! lease (one holder at a time on PostgreSQL, passed on when the holder's
//! connection ends; always granted on SQLite), announcements (delivered to
//! a listener on PostgreSQL; none on SQLite), signed-request nonces and
//! sign-in failure counters (the same answers on both).
use std::time::Duration;
use voltex_security::signin::{AttemptKeys, LoginAttempts};
use voltex_security::throttle::ThrottlePolicy;
use voltex_store::{Backend, StoredLoginAttempts};

use crate::support::{TestDb, sqlite};

async fn postgres() -> TestDb {
    crate::support::postgres("voltex_coord").await
}

async fn the_lease_has_one_holder_and_passes_on_when_it_is_dropped(db: &TestDb) {
    let s = &db.store;
    let first = s
        .leader_lease("scheduler")
        .await
        .unwrap()
        .expect("free lease");
    assert_eq!(first.name(), "scheduler");
    let second = s.leader_lease("scheduler").await.unwrap();
    let other_duty = s.leader_lease("other").await.unwrap();
    assert!(
        other_duty.is_some(),
        "leases of other duties are independent"
    );
    match s.backend() {
        // One process: it always leads.
        Backend::Sqlite => assert!(second.is_some()),
        Backend::Postgres => {
            assert!(second.is_none(), "a held lease is refused");
            let mut first = first;
            assert!(first.is_held().await);
            drop(first);
            // The server notices the closed connection and frees the lock.
            let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
            loop {
                if s.leader_lease("scheduler").await.unwrap().is_some() {
                    break;
                }
                assert!(tokio::time::Instant::now() < deadline, "never passed on");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

async fn a_released_lease_is_taken_at_once(db: &TestDb) {
    let s = &db.store;
    let lease = s.leader_lease("scheduler").await.unwrap().unwrap();
    lease.release().await;
    assert!(s.leader_lease("scheduler").await.unwrap().is_some());
}

async fn announcements_reach_listeners_on_postgres_only(db: &TestDb) {
    let s = &db.store;
    let listening = s.listen("voltex_test_channel").await.unwrap();
    s.announce("voltex_test_channel", "origin-1 gen1:event")
        .await
        .unwrap();
    match (s.backend(), listening) {
        (Backend::Sqlite, l) => assert!(l.is_none()),
        (Backend::Postgres, Some(mut l)) => {
            let got = tokio::time::timeout(Duration::from_secs(5), l.next())
                .await
                .expect("announcement delivered")
                .unwrap();
            assert_eq!(got, "origin-1 gen1:event");
        }
        (Backend::Postgres, None) => panic!("PostgreSQL must listen"),
    }
}

async fn a_nonce_is_used_once_per_member_until_it_expires(db: &TestDb) {
    let s = &db.store;
    assert!(
        s.first_use_of_nonce("gen1", "n1", 1120, 1000)
            .await
            .unwrap()
    );
    assert!(
        !s.first_use_of_nonce("gen1", "n1", 1121, 1001)
            .await
            .unwrap()
    );
    assert!(
        s.first_use_of_nonce("gen2", "n1", 1121, 1001)
            .await
            .unwrap()
    );
    // Once expired the entry no longer counts (and may be pruned).
    assert!(
        s.first_use_of_nonce("gen1", "n1", 2120, 2000)
            .await
            .unwrap()
    );
    assert!(
        !s.first_use_of_nonce("gen1", "n1", 2121, 2001)
            .await
            .unwrap()
    );
    assert_eq!(s.prune_nonces(1500).await.unwrap(), 1, "gen2's n1 expired");
    assert_eq!(s.prune_nonces(1500).await.unwrap(), 0);
}

async fn concurrent_uses_of_one_nonce_get_one_acceptance(db: &TestDb) {
    let s = &db.store;
    let tries: Vec<_> = (0..8)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move { s.first_use_of_nonce("gen1", "race", 1120, 1000).await })
        })
        .collect();
    let mut accepted = 0;
    for t in tries {
        accepted += usize::from(t.await.unwrap().unwrap());
    }
    assert_eq!(accepted, 1);
}

async fn stored_sign_in_counters_throttle_and_clear_like_the_policy_says(db: &TestDb) {
    let policy = ThrottlePolicy {
        free_failures: 1,
        base_delay_s: 10,
        max_delay_s: 100,
        lockout_after_failures: 5,
        lockout_s: 900,
        failure_window_s: 3600,
    };
    let counters = StoredLoginAttempts::new(db.store.clone(), policy);
    // Another replica's view of the same table.
    let elsewhere = StoredLoginAttempts::new(db.store.clone(), policy);
    let keys = AttemptKeys::new("alice", Some("10.0.0.1".parse().unwrap()));
    assert_eq!(counters.check(&keys, 1000).await, Ok(()));
    counters.record_failure(&keys, 1000).await;
    assert_eq!(
        elsewhere.check(&keys, 1000).await,
        Ok(()),
        "one free failure"
    );
    counters.record_failure(&keys, 1000).await;
    let wait = elsewhere.check(&keys, 1001).await.unwrap_err();
    assert_eq!(wait.retry_after_s, 9);
    assert_eq!(elsewhere.check(&keys, 1010).await, Ok(()));
    // A success clears the account; the address keeps its count.
    elsewhere.clear(keys.account()).await;
    let other_user = AttemptKeys::new("bob", Some("10.0.0.1".parse().unwrap()));
    assert!(counters.check(&other_user, 1001).await.is_err());
    assert_eq!(
        counters.check(&AttemptKeys::new("alice", None), 1001).await,
        Ok(())
    );
}

async fn concurrent_failures_on_several_replicas_all_count(db: &TestDb) {
    let policy = ThrottlePolicy::default();
    let keys = AttemptKeys::new("mallory", None);
    let tries: Vec<_> = (0..10)
        .map(|_| {
            let c = StoredLoginAttempts::new(db.store.clone(), policy);
            let keys = keys.clone();
            tokio::spawn(async move { c.record_failure(&keys, 5000).await })
        })
        .collect();
    for t in tries {
        t.await.unwrap();
    }
    // Ten failures lock the account (default policy).
    let wait = StoredLoginAttempts::new(db.store.clone(), policy)
        .check(&keys, 5001)
        .await
        .unwrap_err();
    assert_eq!(wait.retry_after_s, 899);
}

crate::support::on_backend!(sqlite:
    the_lease_has_one_holder_and_passes_on_when_it_is_dropped,
    a_released_lease_is_taken_at_once,
    announcements_reach_listeners_on_postgres_only,
    a_nonce_is_used_once_per_member_until_it_expires,
    concurrent_uses_of_one_nonce_get_one_acceptance,
    stored_sign_in_counters_throttle_and_clear_like_the_policy_says,
    concurrent_failures_on_several_replicas_all_count,
);
crate::support::on_backend!(postgres:
    the_lease_has_one_holder_and_passes_on_when_it_is_dropped,
    a_released_lease_is_taken_at_once,
    announcements_reach_listeners_on_postgres_only,
    a_nonce_is_used_once_per_member_until_it_expires,
    concurrent_uses_of_one_nonce_get_one_acceptance,
    stored_sign_in_counters_throttle_and_clear_like_the_policy_says,
    concurrent_failures_on_several_replicas_all_count,
);
