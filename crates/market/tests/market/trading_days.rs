//! Trading days at the edge of the calendar and the scheduler's robustness:
//! a session can only be created for a day in the trading years; a stored
//! session outside them (written before the rule, or by hand) is skipped by
//! the scheduler with one notice to the operator while every other session
//! is still opened; reading its grid information answers an error, never a
//! panic. And a declaration for another member's unit is answered exactly
//! as one for a unit that does not exist.
use chrono::{Duration, NaiveDate, Utc};
use voltex_market::notices::NoticeCategory;
use voltex_market::{Market, MarketError, NewMember};
use voltex_model::market::TRADING_DAY_RULE;
use voltex_model::{
    DeclarationBody, EnergyOfferInterval, GeneratingUnit, MarketKind, MarketSession, MemberKind,
    MemberStatus, OfferSegment, SessionState, Technology,
};
use voltex_store::Store;

async fn market() -> (Market, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let m = Market::open(Store::open_sqlite_dir(dir.path()).await.unwrap())
        .await
        .unwrap();
    (m, dir)
}

fn edge_days() -> [NaiveDate; 4] {
    [
        NaiveDate::MIN,
        NaiveDate::MAX,
        NaiveDate::from_ymd_opt(1999, 12, 31).unwrap(),
        NaiveDate::from_ymd_opt(2201, 1, 1).unwrap(),
    ]
}

#[tokio::test]
async fn a_session_outside_the_trading_years_is_refused_naming_the_field_and_rule() {
    let (m, _dir) = market().await;
    let op = m.operator().await.unwrap();
    for day in edge_days() {
        for kind in MarketKind::ALL {
            match m.create_session(&op, kind, day).await {
                Err(MarketError::Invalid(v)) => {
                    assert!(v.has("trading_day", TRADING_DAY_RULE), "{v}")
                }
                other => panic!("{day}: {other:?}"),
            }
        }
    }
    assert!(m.sessions().await.unwrap().is_empty(), "nothing was stored");
    // The ends of the range are ordinary days.
    for (y, mo, d) in [(2000, 1, 1), (2200, 12, 31)] {
        let day = NaiveDate::from_ymd_opt(y, mo, d).unwrap();
        m.create_session(&op, MarketKind::RealTimeEnergy, day)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn the_scheduler_skips_a_bad_stored_session_alerts_once_and_still_opens_the_next() {
    let (m, _dir) = market().await;
    let op = m.operator().await.unwrap();
    // Rows the rule would refuse, stored directly (as an older version did).
    let bad: Vec<MarketSession> = [NaiveDate::MIN, NaiveDate::MAX]
        .into_iter()
        .map(|d| MarketSession::new(MarketKind::RealTimeEnergy, d))
        .collect();
    for s in &bad {
        m.store().insert(s).await.unwrap();
    }
    // A good session; the pass runs as its window opens.
    let tomorrow = (Utc::now() + Duration::days(1)).date_naive();
    let good = m
        .create_session(&op, MarketKind::DayAheadEnergy, tomorrow)
        .await
        .unwrap()
        .value;
    let (now, _) = m
        .parameters(MarketKind::DayAheadEnergy)
        .await
        .unwrap()
        .value
        .window(tomorrow)
        .unwrap();

    let acted = m.run_schedule(now).await.unwrap();
    assert!(
        acted
            .iter()
            .any(|a| a.session_id == good.id && a.action == "opened"),
        "{acted:?}"
    );
    for s in &bad {
        let skipped = acted
            .iter()
            .find(|a| a.session_id == s.id)
            .unwrap_or_else(|| panic!("{} not reported: {acted:?}", s.id));
        assert_eq!(skipped.action, "skipped");
        assert!(
            skipped.problem.as_deref().unwrap().contains("trading day"),
            "{skipped:?}"
        );
        assert_eq!(
            m.session(&s.id).await.unwrap().value.state,
            SessionState::Scheduled,
            "a skipped session is left as it was"
        );
    }
    assert_eq!(
        m.session(&good.id).await.unwrap().value.state,
        SessionState::Open
    );
    let alerts = |notes: Vec<voltex_store::Record<voltex_market::notices::Notification>>| {
        notes
            .into_iter()
            .filter(|n| n.value.category == NoticeCategory::SessionState)
            .filter(|n| n.value.message.contains("scheduler skipped"))
            .count()
    };
    assert_eq!(alerts(m.notifications(&op, false).await.unwrap()), 2);

    // The next pass skips them again quietly: no new action, no new notice,
    // and the scheduler goes on working (it is not dead).
    let again = m.run_schedule(now + Duration::seconds(1)).await.unwrap();
    assert!(again.is_empty(), "{again:?}");
    assert_eq!(alerts(m.notifications(&op, false).await.unwrap()), 2);
    let next = m
        .create_session(&op, MarketKind::FrequencyRegulation, tomorrow)
        .await
        .unwrap()
        .value;
    let acted = m.run_schedule(now + Duration::seconds(2)).await.unwrap();
    assert!(
        acted
            .iter()
            .any(|a| a.session_id == next.id && a.action == "opened"),
        "{acted:?}"
    );
}

#[tokio::test]
async fn grid_information_of_a_bad_stored_session_is_an_error_not_a_panic() {
    let (m, _dir) = market().await;
    for day in edge_days() {
        let s = MarketSession::new(MarketKind::RealTimeEnergy, day);
        m.store().insert(&s).await.unwrap();
        match m.grid_information(&s.id).await {
            Err(MarketError::Invalid(v)) => assert!(v.has("trading_day", TRADING_DAY_RULE), "{v}"),
            other => panic!("{}: {other:?}", s.id),
        }
    }
}

#[tokio::test]
async fn declaring_for_another_members_unit_is_answered_as_for_an_unknown_unit() {
    let (m, _dir) = market().await;
    let op = m.operator().await.unwrap();
    for id in ["gena", "genb"] {
        m.register_member(NewMember {
            id: id.into(),
            name: id.into(),
            kind: MemberKind::Generator,
            registration_number: None,
            contact_email: None,
        })
        .await
        .unwrap();
        m.set_member_status(&op, id, MemberStatus::Active)
            .await
            .unwrap();
    }
    let genb = m.actor("genb").await.unwrap();
    m.register_unit(
        &genb,
        GeneratingUnit {
            id: "ub1".into(),
            member_id: "genb".into(),
            name: "ub1".into(),
            technology: Technology::Gas,
            bus: 1,
            pmin_mw: 0.0,
            pmax_mw: 100.0,
            ramp_up_mw_per_min: 5.0,
            ramp_down_mw_per_min: 5.0,
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
    let day = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    let s = m
        .create_session(&op, MarketKind::DayAheadEnergy, day)
        .await
        .unwrap()
        .value;
    m.advance_session(&op, &s.id, SessionState::Open)
        .await
        .unwrap();
    let gena = m.actor("gena").await.unwrap();
    let offer = |unit: &str| DeclarationBody::EnergyOffer {
        unit_id: unit.into(),
        intervals: vec![
            EnergyOfferInterval {
                segments: vec![OfferSegment {
                    quantity_mw: 50.0,
                    price: 300.0,
                }],
            };
            96
        ],
    };
    let refusal = |r: Result<_, MarketError>| match r {
        Err(MarketError::Invalid(v)) => v,
        other => panic!("{other:?}"),
    };
    let foreign = refusal(m.submit_declaration(&gena, &s.id, offer("ub1")).await);
    let unknown = refusal(m.submit_declaration(&gena, &s.id, offer("ub9")).await);
    let shape = |v: &voltex_model::Violations| {
        v.iter()
            .map(|x| {
                (
                    x.field.clone(),
                    x.rule.clone(),
                    x.message.replace("ub1", "ub9"),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(shape(&foreign), shape(&unknown), "nothing tells them apart");
    let text = foreign.to_string();
    assert!(!text.contains("genb"), "the owner is not named: {text}");
}
