//! A declaration submitted for one version is stored as that version or not
//! at all: a replay, or a submission overtaken by another one, is a conflict
//! that leaves the store unchanged. Signed declarations rely on this (the
//! version is part of the signed bytes), and on a companion record (the
//! signature) being written in the same transaction as the declaration.
use chrono::NaiveDate;
use voltex_market::{Market, MarketError, NewMember};
use voltex_model::{
    DeclarationBody, EnergyOfferInterval, GeneratingUnit, MarketKind, MemberKind, MemberStatus,
    OfferSegment, SessionState, Technology,
};
use voltex_store::{Companion, Store};

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
}

/// A market with one active generator (`gen1`, unit `g1`) and an open
/// day-ahead session; returns the session id and the day's interval count.
async fn open_market() -> (Market, String, usize, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite_dir(dir.path()).await.unwrap();
    let m = Market::open(store).await.unwrap();
    let op = m.operator().await.unwrap();
    let case = std::fs::read_to_string(
        voltex_formats::datadir::bundled_data_dir().join("cases/pglib_opf_case5_pjm.m"),
    )
    .unwrap();
    m.import_matpower(&op, &case, Some("pjm5")).await.unwrap();
    m.register_member(NewMember {
        id: "gen1".into(),
        name: "gen1".into(),
        kind: MemberKind::Generator,
        registration_number: None,
        contact_email: None,
    })
    .await
    .unwrap();
    m.set_member_status(&op, "gen1", MemberStatus::Active)
        .await
        .unwrap();
    let gen1 = m.actor("gen1").await.unwrap();
    m.register_unit(
        &gen1,
        GeneratingUnit {
            id: "g1".into(),
            member_id: "gen1".into(),
            name: "g1".into(),
            technology: Technology::Coal,
            bus: 1,
            pmin_mw: 0.0,
            pmax_mw: 400.0,
            ramp_up_mw_per_min: 10.0,
            ramp_down_mw_per_min: 10.0,
            min_up_time_h: 1.0,
            min_down_time_h: 1.0,
            startup_cost: 0.0,
            must_run: false,
            emergency_min_mw: None,
            heat_supply_flow_t_per_h: None,
            expected_grid_connection: None,
        },
    )
    .await
    .unwrap();
    let session = m
        .create_session(&op, MarketKind::DayAheadEnergy, day())
        .await
        .unwrap()
        .value
        .id;
    m.advance_session(&op, &session, SessionState::Open)
        .await
        .unwrap();
    let n = m
        .parameters(MarketKind::DayAheadEnergy)
        .await
        .unwrap()
        .value
        .calendar()
        .interval_count(day())
        .unwrap();
    (m, session, n, dir)
}

fn offer(n: usize, price: f64) -> DeclarationBody {
    DeclarationBody::EnergyOffer {
        unit_id: "g1".into(),
        intervals: vec![
            EnergyOfferInterval {
                segments: vec![OfferSegment {
                    quantity_mw: 100.0,
                    price,
                }],
            };
            n
        ],
    }
}

#[tokio::test]
async fn declaration_is_stored_as_the_expected_version() {
    let (m, session, n, _dir) = open_market().await;
    let gen1 = m.actor("gen1").await.unwrap();
    let v1 = m
        .submit_declaration_expecting(&gen1, &session, offer(n, 300.0), 1)
        .await
        .unwrap();
    assert_eq!(v1.version, 1);
    let v2 = m
        .submit_declaration_expecting(&gen1, &session, offer(n, 310.0), 2)
        .await
        .unwrap();
    assert_eq!(v2.version, 2);
}

#[tokio::test]
async fn replayed_or_overtaken_version_is_a_conflict_and_stores_nothing() {
    let (m, session, n, _dir) = open_market().await;
    let gen1 = m.actor("gen1").await.unwrap();
    m.submit_declaration_expecting(&gen1, &session, offer(n, 300.0), 1)
        .await
        .unwrap();
    // another submission (unsigned, say) takes version 2
    m.submit_declaration(&gen1, &session, offer(n, 305.0))
        .await
        .unwrap();
    let before = m.store().row_counts().await.unwrap();

    for expected in [1, 2, 4, 0] {
        let e = m
            .submit_declaration_expecting(&gen1, &session, offer(n, 999.0), expected)
            .await
            .unwrap_err();
        match &e {
            MarketError::Conflict(msg) => assert!(
                msg.contains(&format!("version {expected}")) && msg.contains("next version is 3"),
                "{msg}"
            ),
            other => panic!("expected a conflict for version {expected}, got {other:?}"),
        }
    }
    assert_eq!(m.store().row_counts().await.unwrap(), before);
    let latest = m.declarations(&gen1, &session).await.unwrap();
    assert_eq!(latest[0].version, 2);
    let DeclarationBody::EnergyOffer { intervals, .. } = &latest[0].body else {
        panic!("not an energy offer")
    };
    assert_eq!(intervals[0].segments[0].price, 305.0);
}

#[tokio::test]
async fn an_invalid_declaration_is_refused_by_its_rules_before_the_version_check() {
    let (m, session, n, _dir) = open_market().await;
    let gen1 = m.actor("gen1").await.unwrap();
    let e = m
        .submit_declaration_expecting(&gen1, &session, offer(n + 1, 300.0), 1)
        .await
        .unwrap_err();
    assert!(matches!(e, MarketError::Invalid(_)), "{e:?}");
}

#[tokio::test]
async fn a_companion_record_is_stored_with_the_declaration_or_neither_is() {
    let (m, session, n, _dir) = open_market().await;
    let gen1 = m.actor("gen1").await.unwrap();
    let op = m.operator().await.unwrap();
    let member = |id: &str| {
        let mut x = voltex_model::Member::apply(id, "companion", MemberKind::Generator);
        x.status = MemberStatus::Active;
        x
    };

    // A companion whose id is taken (member gen1 exists): nothing is stored.
    let before = m.store().row_counts().await.unwrap();
    let taken = Companion::of(&member("gen1")).unwrap();
    let e = m
        .submit_declaration_with(&gen1, &session, offer(n, 300.0), 1, &taken)
        .await
        .unwrap_err();
    assert!(matches!(e, MarketError::Conflict(_)), "{e:?}");
    assert_eq!(m.store().row_counts().await.unwrap(), before);
    assert!(m.declarations(&op, &session).await.unwrap().is_empty());

    // A fresh companion: both are stored.
    let fresh = Companion::of(&member("companion-1")).unwrap();
    let d = m
        .submit_declaration_with(&gen1, &session, offer(n, 300.0), 1, &fresh)
        .await
        .unwrap();
    assert_eq!(d.version, 1);
    assert!(
        m.store()
            .get::<voltex_model::Member>("companion-1")
            .await
            .unwrap()
            .is_some()
    );
}
