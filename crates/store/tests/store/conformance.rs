//! One conformance suite, run against both backends: SQLite in a temporary
//! directory and PostgreSQL in a fresh database per test (named after the
//! process and a counter, dropped afterwards) so runs never collide.
//!
//! PostgreSQL is found at `VOLTEX_TEST_POSTGRES_URL`, else
//! `postgres://postgres@127.0.0.1:5432/test` (the development machines and CI;
//! `scripts/test.sh` starts a throwaway server when none is running).
use chrono::NaiveDate;
use voltex_model::network::Network;
use voltex_model::*;
use voltex_store::{Companion, DeclarationWrite, Store, StoreError};

use crate::support::{TestDb, offer, sqlite};

async fn postgres() -> TestDb {
    crate::support::postgres("voltex_test").await
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
}

fn unit(id: &str, member: &str, pmax: f64) -> GeneratingUnit {
    GeneratingUnit {
        id: id.into(),
        member_id: member.into(),
        name: id.to_uppercase(),
        technology: Technology::Gas,
        bus: 1,
        pmin_mw: 10.0,
        pmax_mw: pmax,
        ramp_up_mw_per_min: 5.0,
        ramp_down_mw_per_min: 5.0,
        min_up_time_h: 2.0,
        min_down_time_h: 2.0,
        startup_cost: 1000.0,
        must_run: false,
        emergency_min_mw: None,
        heat_supply_flow_t_per_h: None,
        expected_grid_connection: None,
    }
}

async fn members_are_versioned_and_history_is_kept(db: &TestDb) {
    let s = &db.store;
    let mut m = Member::apply("gen1", "Gen One", MemberKind::Generator);
    let r1 = s.insert(&m).await.unwrap();
    assert_eq!(r1.version, 1);
    m.transition(MemberStatus::Active).unwrap();
    let r2 = s.append(&m, 1).await.unwrap();
    assert_eq!(r2.version, 2);
    m.name = "Gen One Ltd".into();
    s.append(&m, 2).await.unwrap();

    let latest = s.get::<Member>("gen1").await.unwrap().unwrap();
    assert_eq!(
        (latest.version, latest.value.name.as_str()),
        (3, "Gen One Ltd")
    );
    let history = s.history::<Member>("gen1").await.unwrap();
    assert_eq!(
        history.iter().map(|r| r.version).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(history[0].value.status, MemberStatus::Pending);
    assert_eq!(history[1].value.status, MemberStatus::Active);
    assert!(history[0].recorded_at <= history[2].recorded_at);
    assert!(s.get::<Member>("nobody").await.unwrap().is_none());
}

async fn stale_writes_conflict_and_change_nothing(db: &TestDb) {
    let s = &db.store;
    let m = Member::apply("ret1", "Retail One", MemberKind::Retailer);
    s.insert(&m).await.unwrap();
    let dup = s.insert(&m).await.unwrap_err();
    assert!(
        matches!(
            dup,
            StoreError::Conflict {
                expected: 0,
                actual: 1,
                ..
            }
        ),
        "{dup}"
    );
    s.append(&m, 1).await.unwrap();
    let stale = s.append(&m, 1).await.unwrap_err();
    assert!(
        matches!(
            stale,
            StoreError::Conflict {
                expected: 1,
                actual: 2,
                ..
            }
        ),
        "{stale}"
    );
    assert_eq!(s.history::<Member>("ret1").await.unwrap().len(), 2);
}

async fn units_are_listed_by_owner_at_their_latest_version(db: &TestDb) {
    let s = &db.store;
    s.insert(&unit("u1", "gen1", 100.0)).await.unwrap();
    s.insert(&unit("u2", "gen1", 200.0)).await.unwrap();
    s.insert(&unit("u3", "gen2", 300.0)).await.unwrap();
    s.append(&unit("u1", "gen1", 120.0), 1).await.unwrap();

    let all = s.list::<GeneratingUnit>().await.unwrap();
    assert_eq!(
        all.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["u1", "u2", "u3"]
    );
    let own = s.list_owned::<GeneratingUnit>("gen1").await.unwrap();
    assert_eq!(own.len(), 2);
    assert_eq!(own[0].value.pmax_mw, 120.0);
    assert_eq!(own[0].version, 2);
    assert!(
        s.list_owned::<GeneratingUnit>("nobody")
            .await
            .unwrap()
            .is_empty()
    );
}

async fn parameters_networks_and_sessions_round_trip(db: &TestDb) {
    let s = &db.store;
    let mut p = MarketParameters::default_for(MarketKind::DayAheadEnergy);
    s.insert(&p).await.unwrap();
    p.price_cap = 1200.0;
    s.append(&p, 1).await.unwrap();
    let got = s
        .get::<MarketParameters>("day_ahead_energy")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((got.version, got.value.price_cap), (2, 1200.0));

    let net = Network {
        name: "tiny".into(),
        base_mva: 100.0,
        buses: vec![],
        branches: vec![],
        sections: vec![],
        tie_lines: vec![],
    };
    s.insert(&net).await.unwrap();
    assert_eq!(s.get::<Network>("tiny").await.unwrap().unwrap().value, net);

    let mut session = MarketSession::new(MarketKind::DayAheadEnergy, day());
    s.insert(&session).await.unwrap();
    session.transition(SessionState::Open).unwrap();
    s.append(&session, 1).await.unwrap();
    let got = s
        .get::<MarketSession>("DA-2026-11-22")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((got.version, got.value.state), (2, SessionState::Open));
    assert_eq!(
        s.history::<MarketSession>("DA-2026-11-22")
            .await
            .unwrap()
            .len(),
        2
    );
}

/// Creates the day's day-ahead session and opens it (session version 2).
async fn open_session(s: &Store) -> MarketSession {
    let mut session = MarketSession::new(MarketKind::DayAheadEnergy, day());
    s.insert(&session).await.unwrap();
    session.transition(SessionState::Open).unwrap();
    s.append(&session, 1).await.unwrap();
    session
}

async fn resubmission_supersedes_and_every_version_stays(db: &TestDb) {
    let s = &db.store;
    open_session(s).await;
    let sid = "DA-2026-11-22";
    let first = s
        .append_declaration(sid, 2, "gen1", &offer("u1", 300.0))
        .await
        .unwrap();
    let second = s
        .append_declaration(sid, 2, "gen1", &offer("u1", 310.0))
        .await
        .unwrap();
    s.append_declaration(sid, 2, "gen1", &offer("u2", 290.0))
        .await
        .unwrap();
    s.append_declaration(sid, 2, "gen2", &offer("u3", 280.0))
        .await
        .unwrap();
    assert_eq!(first.key, "DA-2026-11-22:energy_offer:u1");
    assert_eq!((first.version, second.version), (1, 2));

    let latest = s.declaration(&first.key).await.unwrap().unwrap();
    assert_eq!(latest.body, offer("u1", 310.0));
    let history = s.declaration_history(&first.key).await.unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].body, offer("u1", 300.0));
    assert!(history[0].submitted_at <= history[1].submitted_at);

    let own = s.declarations(sid, Some("gen1")).await.unwrap();
    assert_eq!(
        own.iter()
            .map(|d| (d.subject.as_str(), d.version))
            .collect::<Vec<_>>(),
        [("u1", 2), ("u2", 1)]
    );
    assert_eq!(s.declarations(sid, None).await.unwrap().len(), 3);
    assert!(
        s.declarations("DA-2099-01-01", None)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(s.member_declarations("gen1").await.unwrap().len(), 3);
}

async fn declaration_is_refused_once_the_session_moved(db: &TestDb) {
    let s = &db.store;
    let mut session = open_session(s).await;
    s.append_declaration(&session.id, 2, "gen1", &offer("u1", 300.0))
        .await
        .unwrap();
    session.transition(SessionState::Closed).unwrap();
    s.append(&session, 2).await.unwrap();

    let before = s.row_counts().await.unwrap();
    let e = s
        .append_declaration(&session.id, 2, "gen1", &offer("u1", 999.0))
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::SessionMoved {
                expected: 2,
                actual: 3,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(
        s.row_counts().await.unwrap(),
        before,
        "a refused declaration writes nothing"
    );
}

async fn concurrent_resubmissions_all_get_distinct_versions(db: &TestDb) {
    let s = &db.store;
    open_session(s).await;
    let mut tasks = Vec::new();
    for k in 0..8 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.append_declaration("DA-2026-11-22", 2, "gen1", &offer("u1", 300.0 + k as f64))
                .await
        }));
    }
    let mut versions = Vec::new();
    for t in tasks {
        versions.push(t.await.unwrap().unwrap().version);
    }
    versions.sort();
    assert_eq!(versions, (1..=8).collect::<Vec<i64>>());
}

/// Many submissions at once share the writer's transactions (group
/// commit); the ones refused — a wrong expected version, a session version
/// that moved on, a companion whose id exists — are refused alone, write
/// nothing, and leave the others stored.
async fn a_batch_keeps_its_good_writes_when_some_are_refused(db: &TestDb) {
    let s = &db.store;
    open_session(s).await;
    let sid = "DA-2026-11-22";
    s.insert(&unit("taken", "gen1", 100.0)).await.unwrap();
    let taken = Companion::of(&unit("taken", "gen1", 100.0)).unwrap();
    let mut tasks = Vec::new();
    for k in 0..40 {
        let s = s.clone();
        let taken = taken.clone();
        tasks.push(tokio::spawn(async move {
            let body = offer(&format!("u{k}"), 300.0 + k as f64);
            let write = DeclarationWrite::new(sid, 2, "gen1", body).unwrap();
            let write = match k {
                7 => write.expecting(2), // the first version is 1
                13 => DeclarationWrite::new(sid, 1, "gen1", offer("u13", 1.0)).unwrap(),
                21 => write.with_companions(move |_| Ok(vec![taken])),
                _ => write.expecting(1),
            };
            (k, s.write_declaration(write).await)
        }));
    }
    for t in tasks {
        let (k, r) = t.await.unwrap();
        match (k, r) {
            (
                7,
                Err(StoreError::UnexpectedVersion {
                    expected: 2,
                    next: 1,
                    ..
                }),
            ) => {}
            (
                13,
                Err(StoreError::SessionMoved {
                    expected: 1,
                    actual: 2,
                    ..
                }),
            ) => {}
            (21, Err(StoreError::Conflict { .. })) => {}
            (7 | 13 | 21, r) => panic!("write {k} should be refused: {r:?}"),
            (_, Ok(d)) => assert_eq!(d.version, 1),
            (_, Err(e)) => panic!("write {k} refused: {e}"),
        }
    }
    let stored = s.declarations(sid, None).await.unwrap();
    assert_eq!(stored.len(), 37, "every write but the three refused");
    for refused in ["u7", "u13", "u21"] {
        assert!(
            stored.iter().all(|d| d.subject != refused),
            "{refused} left nothing behind"
        );
    }
}

async fn migrations_are_idempotent_on_reopen(db: &TestDb) {
    db.store.ping().await.unwrap();
    let counts = db.store.row_counts().await.unwrap();
    assert!(counts.iter().all(|(_, n)| *n == 0));
}

crate::support::on_backend!(sqlite:
    members_are_versioned_and_history_is_kept,
    stale_writes_conflict_and_change_nothing,
    units_are_listed_by_owner_at_their_latest_version,
    parameters_networks_and_sessions_round_trip,
    resubmission_supersedes_and_every_version_stays,
    declaration_is_refused_once_the_session_moved,
    concurrent_resubmissions_all_get_distinct_versions,
    a_batch_keeps_its_good_writes_when_some_are_refused,
    migrations_are_idempotent_on_reopen,
);

crate::support::on_backend!(postgres:
    members_are_versioned_and_history_is_kept,
    stale_writes_conflict_and_change_nothing,
    units_are_listed_by_owner_at_their_latest_version,
    parameters_networks_and_sessions_round_trip,
    resubmission_supersedes_and_every_version_stays,
    declaration_is_refused_once_the_session_moved,
    concurrent_resubmissions_all_get_distinct_versions,
    a_batch_keeps_its_good_writes_when_some_are_refused,
    migrations_are_idempotent_on_reopen,
);

#[tokio::test]
async fn sqlite_store_reopens_with_its_data() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = Store::open_sqlite_dir(dir.path()).await.unwrap();
        s.insert(&Member::apply("m1", "M", MemberKind::LargeConsumer))
            .await
            .unwrap();
        s.close().await;
    }
    let s = Store::open_sqlite_dir(dir.path()).await.unwrap();
    assert!(s.get::<Member>("m1").await.unwrap().is_some());
}

#[tokio::test]
async fn rejects_unknown_database_scheme() {
    let e = Store::connect("mysql://root@localhost/x")
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::UnsupportedUrl(_)));
}
