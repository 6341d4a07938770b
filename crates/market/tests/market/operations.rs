//! The operator's day as business rules: the scheduler opens and closes
//! windows by the parameters' clock, gate closure locks and applies the
//! default rules, held declarations block clearing until decided, a
//! rejected revision falls back to the previous version, and a gate closure
//! interrupted by a restart is completed.
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use voltex_market::gate::DefaultRule;
use voltex_market::notices::NoticeCategory;
use voltex_market::review::DeclarationStatus;
use voltex_market::{Market, MarketError, NewMember};
use voltex_model::{
    DeclarationBody, EnergyOfferInterval, GeneratingUnit, LoadResource, MarketKind, MarketSession,
    MemberKind, MemberStatus, OfferSegment, SessionState, Technology,
};
use voltex_store::Store;

const DAY: (i32, u32, u32) = (2026, 11, 22);

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(DAY.0, DAY.1, DAY.2).unwrap()
}

async fn market() -> (Market, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite_dir(dir.path()).await.unwrap();
    let m = Market::open(store).await.unwrap();
    let op = m.operator().await.unwrap();
    let case = std::fs::read_to_string(
        voltex_formats::datadir::bundled_data_dir().join("cases/pglib_opf_case5_pjm.m"),
    )
    .unwrap();
    m.import_matpower(&op, &case, Some("pjm5")).await.unwrap();
    for (id, kind) in [
        ("gen1", MemberKind::Generator),
        ("gen2", MemberKind::Generator),
        ("gen3", MemberKind::Generator),
        ("ret1", MemberKind::Retailer),
    ] {
        m.register_member(NewMember {
            id: id.into(),
            name: id.into(),
            kind,
            registration_number: None,
            contact_email: None,
        })
        .await
        .unwrap();
        m.set_member_status(&op, id, MemberStatus::Active)
            .await
            .unwrap();
    }
    for (id, member, bus, pmin) in [
        ("g1", "gen1", 1, 0.0),
        ("g2", "gen2", 3, 50.0),
        ("g3", "gen3", 4, 0.0),
    ] {
        let a = m.actor(member).await.unwrap();
        m.register_unit(
            &a,
            GeneratingUnit {
                id: id.into(),
                member_id: member.into(),
                name: id.into(),
                technology: Technology::Coal,
                bus,
                pmin_mw: pmin,
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
    }
    let r = m.actor("ret1").await.unwrap();
    m.register_load_resource(
        &r,
        LoadResource {
            id: "r1".into(),
            member_id: "ret1".into(),
            name: "r1".into(),
            bus: 2,
            controllable_share: 0.0,
            peak_mw: 500.0,
        },
    )
    .await
    .unwrap();
    (m, dir)
}

fn offer(unit: &str, n: usize, price: f64) -> DeclarationBody {
    DeclarationBody::EnergyOffer {
        unit_id: unit.into(),
        intervals: vec![
            EnergyOfferInterval {
                segments: vec![
                    OfferSegment {
                        quantity_mw: 200.0,
                        price,
                    },
                    OfferSegment {
                        quantity_mw: 200.0,
                        price: price + 50.0,
                    },
                ],
            };
            n
        ],
    }
}

fn bid(n: usize, mw: f64) -> DeclarationBody {
    DeclarationBody::DemandBid {
        resource_id: Some("r1".into()),
        intervals: vec![
            voltex_model::DemandBidInterval {
                quantity_mw: mw,
                segments: vec![],
            };
            n
        ],
    }
}

#[tokio::test]
async fn scheduler_opens_and_closes_by_the_parameters_clock() {
    let (m, _dir) = market().await;
    let op = m.operator().await.unwrap();
    let s = m
        .create_session(&op, MarketKind::DayAheadEnergy, day())
        .await
        .unwrap()
        .value;
    let params = m
        .parameters(MarketKind::DayAheadEnergy)
        .await
        .unwrap()
        .value;
    let (opens, closes) = params.window(day()).unwrap();
    // Beijing D-1 00:00 and 10:00.
    assert_eq!(opens, Utc.with_ymd_and_hms(2026, 11, 20, 16, 0, 0).unwrap());
    assert_eq!(closes, Utc.with_ymd_and_hms(2026, 11, 21, 2, 0, 0).unwrap());

    assert!(
        m.run_schedule(opens - Duration::seconds(1))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        m.session(&s.id).await.unwrap().value.state,
        SessionState::Scheduled
    );
    let acted = m.run_schedule(opens).await.unwrap();
    assert_eq!(acted.len(), 1);
    assert_eq!(acted[0].action, "opened");
    assert!(
        m.run_schedule(closes - Duration::seconds(1))
            .await
            .unwrap()
            .is_empty()
    );
    let acted = m.run_schedule(closes).await.unwrap();
    assert_eq!(acted[0].action, "gate closed");
    assert_eq!(
        m.session(&s.id).await.unwrap().value.state,
        SessionState::Closed
    );
    // Idempotent: nothing more to do.
    assert!(
        m.run_schedule(closes + Duration::hours(1))
            .await
            .unwrap()
            .is_empty()
    );
    // Every member heard about both state changes, once.
    let gen1 = m.actor("gen1").await.unwrap();
    let states = m
        .notifications(&gen1, false)
        .await
        .unwrap()
        .into_iter()
        .filter(|n| n.value.category == NoticeCategory::SessionState)
        .count();
    assert_eq!(states, 2);
}

#[tokio::test]
async fn gate_closure_applies_default_rules_and_the_next_day_reuses_the_last_curve() {
    let (m, _dir) = market().await;
    let op = m.operator().await.unwrap();
    let n = 96;
    let s = m
        .create_session(&op, MarketKind::DayAheadEnergy, day())
        .await
        .unwrap()
        .value;
    m.advance_session(&op, &s.id, SessionState::Open)
        .await
        .unwrap();
    let gen1 = m.actor("gen1").await.unwrap();
    m.submit_declaration(&gen1, &s.id, offer("g1", n, 200.0))
        .await
        .unwrap();
    let gate = m.close_gate(&op, &s.id).await.unwrap().value;
    assert_eq!(gate.locked.len(), 1);
    let rule = |u: &str| {
        gate.defaults
            .iter()
            .find(|d| d.unit_id == u)
            .map(|d| d.rule)
    };
    assert_eq!(rule("g1"), None, "g1 declared");
    assert_eq!(rule("g2"), Some(DefaultRule::MustRunAtPmin));
    assert_eq!(rule("g3"), Some(DefaultRule::NotOffered));
    let gen2 = m.actor("gen2").await.unwrap();
    assert!(
        m.notifications(&gen2, true)
            .await
            .unwrap()
            .iter()
            .any(|x| x.value.category == NoticeCategory::DefaultDeclaration)
    );

    // Next day, gen1 forgets: its last accepted curve stands in.
    let next = day().succ_opt().unwrap();
    let s2 = m
        .create_session(&op, MarketKind::DayAheadEnergy, next)
        .await
        .unwrap()
        .value;
    m.advance_session(&op, &s2.id, SessionState::Open)
        .await
        .unwrap();
    let gate2 = m.close_gate(&op, &s2.id).await.unwrap().value;
    let g1 = gate2.defaults.iter().find(|d| d.unit_id == "g1").unwrap();
    assert_eq!(g1.rule, DefaultRule::LastAcceptedCurve);
    assert_eq!(
        g1.source.as_deref(),
        Some(format!("{}:energy_offer:g1#1", s.id).as_str())
    );
    assert_eq!(g1.body, Some(offer("g1", n, 200.0)));
}

#[tokio::test]
async fn the_review_compares_with_the_newest_counting_offer_and_a_late_approval_does_not_displace_it()
 {
    let (m, _dir) = market().await;
    let op = m.operator().await.unwrap();
    let n = 96;
    let s = m
        .create_session(&op, MarketKind::DayAheadEnergy, day())
        .await
        .unwrap()
        .value;
    m.advance_session(&op, &s.id, SessionState::Open)
        .await
        .unwrap();
    let gen1 = m.actor("gen1").await.unwrap();
    let status = |key: &str, v: i64| {
        let (m, key) = (m.clone(), key.to_owned());
        async move { m.declaration_status(&key, v).await.unwrap() }
    };
    let v1 = m
        .submit_declaration(&gen1, &s.id, offer("g1", n, 200.0))
        .await
        .unwrap();
    // Many accepted revisions, each within the band of the one before: the
    // reference follows the newest, so a long walk is never held.
    let mut price = 200.0;
    for _ in 0..8 {
        price *= 1.2;
        let d = m
            .submit_declaration(&gen1, &s.id, offer("g1", n, price))
            .await
            .unwrap();
        assert_eq!(status(&d.key, d.version).await, DeclarationStatus::Accepted);
    }
    // Back near the first price: far from the newest, so held.
    let held = m
        .submit_declaration(&gen1, &s.id, offer("g1", n, 210.0))
        .await
        .unwrap();
    assert_eq!(
        status(&held.key, held.version).await,
        DeclarationStatus::Held
    );
    // A newer offer near the newest accepted one is accepted meanwhile …
    let newer = m
        .submit_declaration(&gen1, &s.id, offer("g1", n, price * 1.1))
        .await
        .unwrap();
    assert_eq!(
        status(&newer.key, newer.version).await,
        DeclarationStatus::Accepted
    );
    // … and approving the older held one afterwards does not make it the
    // reference: an offer near the newer price is still accepted.
    m.decide_review(&op, &held.key, held.version, true, None)
        .await
        .unwrap();
    let next = m
        .submit_declaration(&gen1, &s.id, offer("g1", n, price * 1.2))
        .await
        .unwrap();
    assert_eq!(
        status(&next.key, next.version).await,
        DeclarationStatus::Accepted
    );
    assert_eq!(v1.version, 1);
}

#[tokio::test]
async fn a_held_revision_blocks_clearing_until_rejected_then_the_previous_version_clears() {
    let (m, _dir) = market().await;
    let op = m.operator().await.unwrap();
    let n = 96;
    let s = m
        .create_session(&op, MarketKind::DayAheadEnergy, day())
        .await
        .unwrap()
        .value;
    m.advance_session(&op, &s.id, SessionState::Open)
        .await
        .unwrap();
    let gen1 = m.actor("gen1").await.unwrap();
    let gen3 = m.actor("gen3").await.unwrap();
    let ret1 = m.actor("ret1").await.unwrap();
    m.submit_declaration(&gen1, &s.id, offer("g1", n, 200.0))
        .await
        .unwrap();
    m.submit_declaration(&gen3, &s.id, offer("g3", n, 300.0))
        .await
        .unwrap();
    m.submit_declaration(&ret1, &s.id, bid(n, 300.0))
        .await
        .unwrap();
    // +20 %: within the ±50 % band.
    let v2 = m
        .submit_declaration(&gen1, &s.id, offer("g1", n, 240.0))
        .await
        .unwrap();
    assert_eq!(
        m.declaration_status(&v2.key, 2).await.unwrap(),
        DeclarationStatus::Accepted
    );
    // Tripled: held.
    let v3 = m
        .submit_declaration(&gen1, &s.id, offer("g1", n, 720.0))
        .await
        .unwrap();
    assert_eq!(
        m.declaration_status(&v3.key, 3).await.unwrap(),
        DeclarationStatus::Held
    );
    assert_eq!(m.pending_reviews(&gen1).await.unwrap().len(), 1);
    assert!(
        m.pending_reviews(&gen3).await.unwrap().is_empty(),
        "members see only their own"
    );
    m.close_gate(&op, &s.id).await.unwrap();

    let blocked = m.clear_session(&op, &s.id, &Default::default()).await;
    assert!(
        matches!(blocked, Err(MarketError::Conflict(ref msg)) if msg.contains("await review")),
        "{blocked:?}"
    );
    // A rejection needs a reason; a member cannot decide.
    assert!(matches!(
        m.decide_review(&op, &v3.key, 3, false, None).await,
        Err(MarketError::Invalid(_))
    ));
    assert!(matches!(
        m.decide_review(&gen1, &v3.key, 3, true, None).await,
        Err(MarketError::Forbidden(_))
    ));
    m.decide_review(&op, &v3.key, 3, false, Some("no fuel-cost basis".into()))
        .await
        .unwrap();
    assert!(
        m.notifications(&gen1, true)
            .await
            .unwrap()
            .iter()
            .any(|x| x.value.category == NoticeCategory::DeclarationRejected
                && x.value.message.contains("no fuel-cost basis"))
    );

    let run = m
        .clear_session(&op, &s.id, &Default::default())
        .await
        .unwrap()
        .energy()
        .value;
    let used = run.used.iter().find(|u| u.key == v3.key).unwrap();
    assert_eq!(used.version, 2, "the rejected version 3 does not count");
    // g1's cheaper curve (240) is marginal below g3's (300): it runs first.
    let g1 = run
        .positions
        .iter()
        .find(|p| p.resource_id == "g1")
        .unwrap();
    let g3 = run
        .positions
        .iter()
        .find(|p| p.resource_id == "g3")
        .unwrap();
    assert!(g1.mw[0] > g3.mw[0], "g1 {} g3 {}", g1.mw[0], g3.mw[0]);
    // g2 (no offer, pmin 50) runs at pmin; the retailer is served in full.
    let g2 = run
        .positions
        .iter()
        .find(|p| p.resource_id == "g2")
        .unwrap();
    assert!((g2.mw[0] - 50.0).abs() < 1e-6);
    let r1 = run
        .positions
        .iter()
        .find(|p| p.resource_id == "r1")
        .unwrap();
    assert!((r1.mw[0] - 300.0).abs() < 1e-6);
    assert_eq!(
        m.session(&s.id).await.unwrap().value.state,
        SessionState::Cleared
    );
    // Same locked input, same fingerprint: the run is reproducible.
    let again = m
        .clear_session(&op, &s.id, &Default::default())
        .await
        .unwrap()
        .energy();
    assert_eq!(again.version, 2);
    assert_eq!(again.value.fingerprint, run.fingerprint);
}

#[tokio::test]
async fn a_gate_closure_cut_short_by_a_restart_is_completed_by_the_scheduler() {
    let (m, dir) = market().await;
    let op = m.operator().await.unwrap();
    let s = m
        .create_session(&op, MarketKind::DayAheadEnergy, day())
        .await
        .unwrap();
    m.advance_session(&op, &s.id, SessionState::Open)
        .await
        .unwrap();
    let gen1 = m.actor("gen1").await.unwrap();
    m.submit_declaration(&gen1, &s.id, offer("g1", 96, 200.0))
        .await
        .unwrap();
    // The state change was written, then the process died before the record.
    let open = m.session(&s.id).await.unwrap();
    let mut closed: MarketSession = open.value.clone();
    closed.state = SessionState::Closed;
    m.store().append(&closed, open.version).await.unwrap();
    drop(m);

    let restarted = Market::open(Store::open_sqlite_dir(dir.path()).await.unwrap())
        .await
        .unwrap();
    let op = restarted.operator().await.unwrap();
    assert!(restarted.gate_closure(&op, &s.id).await.is_err());
    let acted = restarted.run_schedule(Utc::now()).await.unwrap();
    assert!(
        acted.iter().any(|a| a.action == "gate closure completed"),
        "{acted:?}"
    );
    let gate = restarted.gate_closure(&op, &s.id).await.unwrap().value;
    assert_eq!(gate.locked.len(), 1);
    // A second pass finds nothing to do and notifies nobody twice.
    let before = restarted.store().row_counts().await.unwrap();
    restarted.run_schedule(Utc::now()).await.unwrap();
    assert_eq!(restarted.store().row_counts().await.unwrap(), before);
}

#[tokio::test]
async fn regulation_markets_clear_by_merit_order_against_the_requirement() {
    let (m, _dir) = market().await;
    let op = m.operator().await.unwrap();
    let n = 96;
    // The day-ahead energy market first: it sets the default FR requirement.
    let da = m
        .create_session(&op, MarketKind::DayAheadEnergy, day())
        .await
        .unwrap()
        .value;
    m.advance_session(&op, &da.id, SessionState::Open)
        .await
        .unwrap();
    let (gen1, gen3, ret1) = (
        m.actor("gen1").await.unwrap(),
        m.actor("gen3").await.unwrap(),
        m.actor("ret1").await.unwrap(),
    );
    m.submit_declaration(&gen1, &da.id, offer("g1", n, 200.0))
        .await
        .unwrap();
    m.submit_declaration(&ret1, &da.id, bid(n, 300.0))
        .await
        .unwrap();
    m.close_gate(&op, &da.id).await.unwrap();
    m.clear_session(&op, &da.id, &Default::default())
        .await
        .unwrap();

    let fr = m
        .create_session(&op, MarketKind::FrequencyRegulation, day())
        .await
        .unwrap()
        .value;
    m.advance_session(&op, &fr.id, SessionState::Open)
        .await
        .unwrap();
    let fr_offer = |unit: &str, mw: f64, price: f64| DeclarationBody::FrequencyRegulationOffer {
        unit_id: unit.into(),
        intervals: vec![
            voltex_model::RegulationInterval {
                capacity_mw: mw,
                mileage_price: price,
            };
            n
        ],
    };
    m.submit_declaration(&gen1, &fr.id, fr_offer("g1", 5.0, 6.0))
        .await
        .unwrap();
    m.submit_declaration(&gen3, &fr.id, fr_offer("g3", 20.0, 9.0))
        .await
        .unwrap();
    m.close_gate(&op, &fr.id).await.unwrap();
    let run = match m
        .clear_session(&op, &fr.id, &Default::default())
        .await
        .unwrap()
    {
        voltex_market::clear::ClearingOutcome::Regulation(r) => r.value,
        other => panic!("expected a regulation run, got {other:?}"),
    };
    // 3 % of 300 MW = 9 MW: g1's 5 MW at 6, then 4 MW of g3 at 9, which sets the price.
    let i = &run.intervals[0];
    assert!((i.requirement_mw - 9.0).abs() < 1e-9, "{i:?}");
    assert_eq!(i.awards.len(), 2);
    assert!((i.awards[1].awarded_mw - 4.0).abs() < 1e-9);
    assert_eq!(i.clearing_price, 9.0);
    m.publish_session(&op, &fr.id).await.unwrap();
    let seen: Vec<String> = m
        .publications(Some(&gen1), &fr.id)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(
        seen,
        vec![
            format!("{}:frequency_regulation_clearing", fr.id),
            format!("{}:own_regulation_awards:gen1", fr.id)
        ]
    );

    // Peak regulation has no default requirement: the operator must give one.
    let pr = m
        .create_session(&op, MarketKind::PeakRegulation, day())
        .await
        .unwrap()
        .value;
    m.advance_session(&op, &pr.id, SessionState::Open)
        .await
        .unwrap();
    m.close_gate(&op, &pr.id).await.unwrap();
    assert!(matches!(
        m.clear_session(&op, &pr.id, &Default::default()).await,
        Err(MarketError::Invalid(_))
    ));
    let opts = voltex_market::dispatch::ClearOptions {
        requirement_mw: Some(vec![30.0]),
        ..Default::default()
    };
    match m.clear_session(&op, &pr.id, &opts).await.unwrap() {
        voltex_market::clear::ClearingOutcome::Regulation(r) => {
            assert_eq!(r.value.intervals[0].shortfall_mw, 30.0, "nobody offered");
            assert_eq!(
                r.value.intervals[0].clearing_price, 400.0,
                "priced at the cap"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_member_copies_its_own_past_declaration_into_a_new_session_but_not_a_foreign_one() {
    let (m, _dir) = market().await;
    let op = m.operator().await.unwrap();
    let s1 = m
        .create_session(&op, MarketKind::DayAheadEnergy, day())
        .await
        .unwrap()
        .value;
    m.advance_session(&op, &s1.id, SessionState::Open)
        .await
        .unwrap();
    let gen1 = m.actor("gen1").await.unwrap();
    let v1 = m
        .submit_declaration(&gen1, &s1.id, offer("g1", 96, 200.0))
        .await
        .unwrap();
    let s2 = m
        .create_session(&op, MarketKind::DayAheadEnergy, day().succ_opt().unwrap())
        .await
        .unwrap()
        .value;
    let draft = m.copy_declaration(&gen1, &v1.key, 1, &s2.id).await.unwrap();
    assert_eq!(draft, offer("g1", 96, 200.0));
    let gen3 = m.actor("gen3").await.unwrap();
    assert!(matches!(
        m.copy_declaration(&gen3, &v1.key, 1, &s2.id).await,
        Err(MarketError::NotFound { .. })
    ));
    // The draft is submitted like any declaration once the window opens.
    m.advance_session(&op, &s2.id, SessionState::Open)
        .await
        .unwrap();
    let copied = m.submit_declaration(&gen1, &s2.id, draft).await.unwrap();
    assert_eq!(copied.key, format!("{}:energy_offer:g1", s2.id));
}
