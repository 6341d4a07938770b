//! Declaration validation: the market's admission rules, applied to one
//! declaration against its session, market parameters, member and unit.
//! Every violation is reported (not only the first), each naming the field
//! path, the rule and the offending value. The rule codes are stable API:
//! clients and tests match on them.
use crate::declaration::{DeclarationBody, DeclarationKind};
use crate::error::{Violation, Violations};
use crate::market::{MarketKind, MarketSession, TRADING_DAY_RULE};
use crate::member::{Member, MemberStatus};
use crate::params::MarketParameters;
use crate::resource::{GeneratingUnit, LoadResource};
use curves::{Monotone, check_capacity, check_price, check_segments};

mod curves;

/// Everything a declaration is judged against. `unit` and `resource` are the
/// registered (latest) versions of what the body names, or `None` when no such
/// unit or resource exists.
#[derive(Debug, Clone, Copy)]
pub struct DeclarationContext<'a> {
    pub params: &'a MarketParameters,
    pub session: &'a MarketSession,
    pub member: &'a Member,
    pub unit: Option<&'a GeneratingUnit>,
    pub resource: Option<&'a LoadResource>,
}

/// Which markets take which declaration kinds.
pub fn kind_allowed_in(kind: DeclarationKind, market: MarketKind) -> bool {
    use DeclarationKind as K;
    use MarketKind as M;
    match kind {
        K::EnergyOffer | K::DemandBid => matches!(market, M::DayAheadEnergy | M::RealTimeEnergy),
        K::DailyExtras => market == M::DayAheadEnergy,
        K::FrequencyRegulationOffer => market == M::FrequencyRegulation,
        K::PeakRegulationOffer => market == M::PeakRegulation,
    }
}

/// Checks one declaration. `Ok(())` means it may be stored.
pub fn validate_declaration(
    ctx: &DeclarationContext<'_>,
    body: &DeclarationBody,
) -> Result<(), Violations> {
    let mut v = Violations::default();
    let p = ctx.params;

    if !ctx.session.accepts_declarations() {
        v.push(Violation::new(
            "session",
            "window_open",
            ctx.session.state.as_str(),
            format!(
                "session {} is {}; declarations are accepted only while it is open",
                ctx.session.id, ctx.session.state
            ),
        ));
    }
    if ctx.member.status != MemberStatus::Active {
        v.push(Violation::new(
            "member_id",
            "member_active",
            ctx.member.status.to_string(),
            format!(
                "member {} is {}, not active",
                ctx.member.id, ctx.member.status
            ),
        ));
    }
    if !kind_allowed_in(body.kind(), ctx.session.market) {
        v.push(Violation::new(
            "kind",
            "kind_matches_market",
            body.kind().as_str(),
            format!(
                "a {} cannot be declared in the {} market",
                body.kind(),
                ctx.session.market
            ),
        ));
    }
    if let Some(unit_id) = body.unit_id() {
        check_unit_ownership(&mut v, ctx, unit_id);
    }
    if matches!(body, DeclarationBody::DemandBid { .. }) {
        if !ctx.member.kind.may_bid_demand() {
            v.push(Violation::new(
                "member_id",
                "member_may_bid_demand",
                ctx.member.id.clone(),
                "only retailers, large consumers, load aggregators and grid companies bid demand",
            ));
        }
        if let Some(rid) = body.resource_id() {
            match ctx.resource {
                None => v.push(Violation::new(
                    "resource_id",
                    "resource_exists",
                    rid,
                    format!("no load resource {rid} is registered"),
                )),
                Some(r) if r.member_id != ctx.member.id => v.push(Violation::new(
                    "resource_id",
                    "member_owns_resource",
                    rid,
                    format!("load resource {rid} belongs to another member"),
                )),
                Some(_) => {}
            }
        }
    }

    if body.kind() != DeclarationKind::DailyExtras {
        match ctx
            .params
            .calendar()
            .interval_count(ctx.session.trading_day)
        {
            Ok(expected) if body.interval_len() != expected => v.push(Violation::new(
                "intervals",
                "one_entry_per_interval",
                body.interval_len(),
                format!(
                    "trading day {} has {expected} intervals; {} were declared",
                    ctx.session.trading_day,
                    body.interval_len()
                ),
            )),
            Ok(_) => {}
            Err(e) => v.push(Violation::new(
                "trading_day",
                TRADING_DAY_RULE,
                ctx.session.trading_day.to_string(),
                e.to_string(),
            )),
        }
    }

    // A unit that failed the ownership check is still used for its limits
    // when present, so that one submission reports all its problems.
    let unit = ctx.unit;
    match body {
        DeclarationBody::EnergyOffer { intervals, .. } => {
            for (i, iv) in intervals.iter().enumerate() {
                let path = format!("intervals[{i}].segments");
                check_segments(&mut v, p, &path, &iv.segments, Monotone::NonDecreasing);
                if let Some(u) = unit {
                    let total: f64 = iv.segments.iter().map(|s| s.quantity_mw).sum();
                    if total > u.pmax_mw + 1e-9 {
                        v.push(Violation::new(
                            path.clone(),
                            "total_within_pmax",
                            total,
                            format!(
                                "segments add up to {total} MW, above the unit's pmax {} MW",
                                u.pmax_mw
                            ),
                        ));
                    }
                    if u.must_run
                        && let Some(first) = iv.segments.first()
                        && first.quantity_mw + 1e-9 < u.pmin_mw
                    {
                        v.push(Violation::new(
                            format!("{path}[0].quantity_mw"),
                            "first_segment_covers_pmin",
                            first.quantity_mw,
                            format!(
                                "must-run unit: the first segment must cover pmin {} MW",
                                u.pmin_mw
                            ),
                        ));
                    }
                }
            }
        }
        DeclarationBody::DemandBid { intervals, .. } => {
            for (i, iv) in intervals.iter().enumerate() {
                let q_path = format!("intervals[{i}].quantity_mw");
                if !(iv.quantity_mw.is_finite() && iv.quantity_mw >= 0.0) {
                    v.push(Violation::new(
                        q_path.clone(),
                        "nonnegative",
                        iv.quantity_mw,
                        "bid quantity must be ≥ 0",
                    ));
                }
                if let Some(r) = ctx.resource
                    && iv.quantity_mw > r.peak_mw + 1e-9
                {
                    v.push(Violation::new(
                        q_path.clone(),
                        "within_resource_peak",
                        iv.quantity_mw,
                        format!("bid exceeds the resource's peak {} MW", r.peak_mw),
                    ));
                }
                if !iv.segments.is_empty() {
                    let path = format!("intervals[{i}].segments");
                    check_segments(&mut v, p, &path, &iv.segments, Monotone::NonIncreasing);
                    let total: f64 = iv.segments.iter().map(|s| s.quantity_mw).sum();
                    if (total - iv.quantity_mw).abs() > 1e-6 {
                        v.push(Violation::new(
                            path,
                            "segments_sum_to_quantity",
                            total,
                            format!(
                                "segments add up to {total} MW but the bid quantity is {} MW",
                                iv.quantity_mw
                            ),
                        ));
                    }
                }
            }
        }
        DeclarationBody::FrequencyRegulationOffer { intervals, .. } => {
            for (i, iv) in intervals.iter().enumerate() {
                check_capacity(
                    &mut v,
                    unit,
                    &format!("intervals[{i}].capacity_mw"),
                    iv.capacity_mw,
                );
                check_price(
                    &mut v,
                    p,
                    &format!("intervals[{i}].mileage_price"),
                    iv.mileage_price,
                );
            }
        }
        DeclarationBody::PeakRegulationOffer { intervals, .. } => {
            for (i, iv) in intervals.iter().enumerate() {
                check_capacity(
                    &mut v,
                    unit,
                    &format!("intervals[{i}].capacity_mw"),
                    iv.capacity_mw,
                );
                check_price(&mut v, p, &format!("intervals[{i}].price"), iv.price);
            }
        }
        DeclarationBody::DailyExtras(x) => {
            let cap = x.max_generating_capacity_mw;
            if !(cap.is_finite() && cap >= 0.0) {
                v.push(Violation::new(
                    "max_generating_capacity_mw",
                    "nonnegative",
                    cap,
                    "capacity must be ≥ 0",
                ));
            }
            if let Some(u) = unit
                && cap > u.pmax_mw + 1e-9
            {
                v.push(Violation::new(
                    "max_generating_capacity_mw",
                    "not_above_registered_pmax",
                    cap,
                    format!(
                        "declared capacity exceeds the registered pmax {} MW",
                        u.pmax_mw
                    ),
                ));
            }
            if let Some(e) = x.emergency_min_mw
                && (!(e.is_finite() && e >= 0.0) || e > cap)
            {
                v.push(Violation::new(
                    "emergency_min_mw",
                    "within_0_and_capacity",
                    e,
                    "emergency minimum output must be between 0 and the declared capacity",
                ));
            }
            if let Some(h) = x.heat_supply_flow_t_per_h
                && !(h.is_finite() && h >= 0.0)
            {
                v.push(Violation::new(
                    "heat_supply_flow_t_per_h",
                    "nonnegative",
                    h,
                    "heat supply flow must be ≥ 0",
                ));
            }
        }
    }
    v.into_result()
}

/// A unit that does not exist and a unit of another member get the same
/// answer, so a declaration cannot be used to learn which units exist or
/// who owns them.
fn check_unit_ownership(v: &mut Violations, ctx: &DeclarationContext<'_>, unit_id: &str) {
    let own = ctx.unit.is_some_and(|u| u.member_id == ctx.member.id);
    if !own {
        v.push(Violation::new(
            "unit_id",
            "unit_exists",
            unit_id,
            format!("no generating unit {unit_id} is registered"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::declaration::{
        DailyExtras, DemandBidInterval, EnergyOfferInterval, OfferSegment, PeakRegulationInterval,
        RegulationInterval,
    };
    use crate::market::SessionState;
    use crate::member::MemberKind;
    use crate::resource::tests::coal_unit;
    use chrono::NaiveDate;
    use proptest::prelude::*;

    struct Fixture {
        params: MarketParameters,
        session: MarketSession,
        member: Member,
        unit: GeneratingUnit,
        resource: LoadResource,
        retailer: Member,
    }

    fn fixture() -> Fixture {
        let day = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        let mut session = MarketSession::new(MarketKind::DayAheadEnergy, day);
        session.state = SessionState::Open;
        let mut member = Member::apply("gen1", "Gen One", MemberKind::Generator);
        member.status = MemberStatus::Active;
        let mut retailer = Member::apply("ret1", "Retail One", MemberKind::Retailer);
        retailer.status = MemberStatus::Active;
        Fixture {
            params: MarketParameters::default_for(MarketKind::DayAheadEnergy),
            session,
            member,
            unit: coal_unit(),
            resource: LoadResource {
                id: "load1".into(),
                member_id: "ret1".into(),
                name: "Load".into(),
                bus: 2,
                controllable_share: 0.1,
                peak_mw: 120.0,
            },
            retailer,
        }
    }

    impl Fixture {
        fn gen_ctx(&self) -> DeclarationContext<'_> {
            DeclarationContext {
                params: &self.params,
                session: &self.session,
                member: &self.member,
                unit: Some(&self.unit),
                resource: None,
            }
        }
        fn ret_ctx(&self) -> DeclarationContext<'_> {
            DeclarationContext {
                params: &self.params,
                session: &self.session,
                member: &self.retailer,
                unit: None,
                resource: Some(&self.resource),
            }
        }
    }

    fn seg(q: f64, p: f64) -> OfferSegment {
        OfferSegment {
            quantity_mw: q,
            price: p,
        }
    }

    fn offer(segments: Vec<OfferSegment>) -> DeclarationBody {
        DeclarationBody::EnergyOffer {
            unit_id: "u1".into(),
            intervals: vec![EnergyOfferInterval { segments }; 96],
        }
    }

    fn good_offer() -> DeclarationBody {
        offer(vec![
            seg(100.0, 250.0),
            seg(100.0, 320.0),
            seg(100.0, 410.0),
        ])
    }

    fn only_violation(r: Result<(), Violations>) -> Violation {
        let v = r.expect_err("must be refused");
        v.0.into_iter().next().expect("one violation")
    }

    #[test]
    fn accepts_a_good_offer() {
        let f = fixture();
        validate_declaration(&f.gen_ctx(), &good_offer()).unwrap();
    }

    #[test]
    fn rejects_offer_above_price_cap() {
        let f = fixture();
        let e = validate_declaration(&f.gen_ctx(), &offer(vec![seg(100.0, 1600.0)])).unwrap_err();
        assert_eq!(e.len(), 96, "one violation per interval");
        let first = &e.0[0];
        assert_eq!(first.field, "intervals[0].segments[0].price");
        assert_eq!(first.rule, "price_within_cap");
        assert_eq!(first.value, serde_json::json!(1600.0));
    }

    #[test]
    fn rejects_offer_below_price_floor() {
        let f = fixture();
        let e = validate_declaration(&f.gen_ctx(), &offer(vec![seg(100.0, -1.0)])).unwrap_err();
        assert!(e.has("intervals[95].segments[0].price", "price_within_floor"));
    }

    #[test]
    fn rejects_non_monotone_curve() {
        let f = fixture();
        let e = validate_declaration(
            &f.gen_ctx(),
            &offer(vec![seg(100.0, 300.0), seg(100.0, 200.0)]),
        )
        .unwrap_err();
        let v = &e.0[0];
        assert_eq!(
            (v.field.as_str(), v.rule.as_str()),
            ("intervals[0].segments[1].price", "monotone_non_decreasing")
        );
        assert_eq!(v.value, serde_json::json!(200.0));
    }

    #[test]
    fn rejects_segments_above_pmax() {
        let f = fixture();
        let e = validate_declaration(
            &f.gen_ctx(),
            &offer(vec![seg(200.0, 300.0), seg(150.0, 310.0)]),
        )
        .unwrap_err();
        assert!(e.has("intervals[0].segments", "total_within_pmax"));
        assert_eq!(e.0[0].value, serde_json::json!(350.0));
    }

    #[test]
    fn rejects_must_run_offer_whose_first_segment_is_below_pmin() {
        let mut f = fixture();
        f.unit.must_run = true;
        let e = validate_declaration(
            &f.gen_ctx(),
            &offer(vec![seg(50.0, 300.0), seg(150.0, 310.0)]),
        )
        .unwrap_err();
        assert!(e.has(
            "intervals[0].segments[0].quantity_mw",
            "first_segment_covers_pmin"
        ));
    }

    #[test]
    fn rejects_too_many_and_zero_segments() {
        let f = fixture();
        let eleven = (0..11).map(|k| seg(10.0, 100.0 + k as f64)).collect();
        let e = validate_declaration(&f.gen_ctx(), &offer(eleven)).unwrap_err();
        assert!(e.has("intervals[0].segments", "segment_count"));
        let e = validate_declaration(&f.gen_ctx(), &offer(vec![])).unwrap_err();
        assert!(e.has("intervals[0].segments", "segment_count"));
    }

    #[test]
    fn rejects_zero_width_segment() {
        let f = fixture();
        let e = validate_declaration(&f.gen_ctx(), &offer(vec![seg(0.0, 300.0)])).unwrap_err();
        assert!(e.has("intervals[0].segments[0].quantity_mw", "quantity_positive"));
    }

    #[test]
    fn rejects_wrong_interval_count() {
        let f = fixture();
        let body = DeclarationBody::EnergyOffer {
            unit_id: "u1".into(),
            intervals: vec![
                EnergyOfferInterval {
                    segments: vec![seg(10.0, 300.0)]
                };
                24
            ],
        };
        let v = only_violation(validate_declaration(&f.gen_ctx(), &body));
        assert_eq!(
            (v.field.as_str(), v.rule.as_str()),
            ("intervals", "one_entry_per_interval")
        );
        assert_eq!(v.value, serde_json::json!(24));
    }

    #[test]
    fn rejects_declaration_when_window_closed() {
        let mut f = fixture();
        f.session.state = SessionState::Closed;
        let v = only_violation(validate_declaration(&f.gen_ctx(), &good_offer()));
        assert_eq!(
            (v.field.as_str(), v.rule.as_str()),
            ("session", "window_open")
        );
        assert_eq!(v.value, serde_json::json!("closed"));
    }

    #[test]
    fn rejects_declaration_from_suspended_member() {
        let mut f = fixture();
        f.member.status = MemberStatus::Suspended;
        let v = only_violation(validate_declaration(&f.gen_ctx(), &good_offer()));
        assert_eq!(
            (v.field.as_str(), v.rule.as_str()),
            ("member_id", "member_active")
        );
        assert_eq!(v.value, serde_json::json!("suspended"));
    }

    #[test]
    fn an_offer_for_another_members_unit_is_answered_as_for_an_unknown_unit() {
        let mut f = fixture();
        let unknown = only_violation(validate_declaration(
            &DeclarationContext {
                unit: None,
                ..f.gen_ctx()
            },
            &good_offer(),
        ));
        f.unit.member_id = "gen2".into();
        let foreign = only_violation(validate_declaration(&f.gen_ctx(), &good_offer()));
        assert_eq!(
            (foreign.field.as_str(), foreign.rule.as_str()),
            ("unit_id", "unit_exists")
        );
        assert_eq!(foreign, unknown, "nothing tells the two apart");
        assert!(!foreign.message.contains("gen2"), "{}", foreign.message);
    }

    #[test]
    fn rejects_offer_for_unknown_unit() {
        let f = fixture();
        let ctx = DeclarationContext {
            unit: None,
            ..f.gen_ctx()
        };
        let v = only_violation(validate_declaration(&ctx, &good_offer()));
        assert_eq!(
            (v.field.as_str(), v.rule.as_str()),
            ("unit_id", "unit_exists")
        );
    }

    #[test]
    fn rejects_kind_that_does_not_match_market() {
        let f = fixture();
        let body = DeclarationBody::FrequencyRegulationOffer {
            unit_id: "u1".into(),
            intervals: vec![
                RegulationInterval {
                    capacity_mw: 20.0,
                    mileage_price: 8.0
                };
                96
            ],
        };
        let v = only_violation(validate_declaration(&f.gen_ctx(), &body));
        assert_eq!(
            (v.field.as_str(), v.rule.as_str()),
            ("kind", "kind_matches_market")
        );
        assert_eq!(v.value, serde_json::json!("frequency_regulation_offer"));
    }

    #[test]
    fn accepts_regulation_offers_in_their_markets_and_checks_capacity() {
        let mut f = fixture();
        f.session.market = MarketKind::FrequencyRegulation;
        f.params = MarketParameters::default_for(MarketKind::FrequencyRegulation);
        let mut ivs = vec![
            RegulationInterval {
                capacity_mw: 20.0,
                mileage_price: 8.0
            };
            96
        ];
        let body = DeclarationBody::FrequencyRegulationOffer {
            unit_id: "u1".into(),
            intervals: ivs.clone(),
        };
        validate_declaration(&f.gen_ctx(), &body).unwrap();
        ivs[5].capacity_mw = 400.0;
        ivs[6].mileage_price = 16.0;
        let body = DeclarationBody::FrequencyRegulationOffer {
            unit_id: "u1".into(),
            intervals: ivs,
        };
        let e = validate_declaration(&f.gen_ctx(), &body).unwrap_err();
        assert!(e.has("intervals[5].capacity_mw", "within_pmax"));
        assert!(e.has("intervals[6].mileage_price", "price_within_cap"));

        f.session.market = MarketKind::PeakRegulation;
        f.params = MarketParameters::default_for(MarketKind::PeakRegulation);
        let body = DeclarationBody::PeakRegulationOffer {
            unit_id: "u1".into(),
            intervals: vec![
                PeakRegulationInterval {
                    capacity_mw: 30.0,
                    price: 500.0
                };
                96
            ],
        };
        let e = validate_declaration(&f.gen_ctx(), &body).unwrap_err();
        assert!(e.has("intervals[0].price", "price_within_cap"));
    }

    #[test]
    fn demand_bid_segments_must_sum_to_quantity_and_not_increase() {
        let f = fixture();
        let mut ivs = vec![
            DemandBidInterval {
                quantity_mw: 80.0,
                segments: vec![]
            };
            96
        ];
        let body = DeclarationBody::DemandBid {
            resource_id: Some("load1".into()),
            intervals: ivs.clone(),
        };
        validate_declaration(&f.ret_ctx(), &body).unwrap();
        ivs[0].segments = vec![seg(50.0, 500.0), seg(20.0, 800.0)];
        ivs[1].quantity_mw = 130.0;
        let body = DeclarationBody::DemandBid {
            resource_id: Some("load1".into()),
            intervals: ivs,
        };
        let e = validate_declaration(&f.ret_ctx(), &body).unwrap_err();
        assert!(e.has("intervals[0].segments", "segments_sum_to_quantity"));
        assert!(e.has("intervals[0].segments[1].price", "monotone_non_increasing"));
        assert!(e.has("intervals[1].quantity_mw", "within_resource_peak"));
    }

    #[test]
    fn rejects_demand_bid_from_a_generator() {
        let f = fixture();
        let body = DeclarationBody::DemandBid {
            resource_id: None,
            intervals: vec![
                DemandBidInterval {
                    quantity_mw: 1.0,
                    segments: vec![]
                };
                96
            ],
        };
        let v = only_violation(validate_declaration(&f.gen_ctx(), &body));
        assert_eq!(
            (v.field.as_str(), v.rule.as_str()),
            ("member_id", "member_may_bid_demand")
        );
    }

    #[test]
    fn rejects_bid_for_another_members_resource() {
        let mut f = fixture();
        f.resource.member_id = "ret2".into();
        let body = DeclarationBody::DemandBid {
            resource_id: Some("load1".into()),
            intervals: vec![
                DemandBidInterval {
                    quantity_mw: 1.0,
                    segments: vec![]
                };
                96
            ],
        };
        let v = only_violation(validate_declaration(&f.ret_ctx(), &body));
        assert_eq!(
            (v.field.as_str(), v.rule.as_str()),
            ("resource_id", "member_owns_resource")
        );
    }

    #[test]
    fn rejects_daily_extras_above_registered_pmax() {
        let f = fixture();
        let body = DeclarationBody::DailyExtras(DailyExtras {
            unit_id: "u1".into(),
            expected_grid_connection: None,
            max_generating_capacity_mw: 350.0,
            heat_supply_flow_t_per_h: Some(120.0),
            emergency_min_mw: Some(400.0),
        });
        let e = validate_declaration(&f.gen_ctx(), &body).unwrap_err();
        assert!(e.has("max_generating_capacity_mw", "not_above_registered_pmax"));
        assert!(e.has("emergency_min_mw", "within_0_and_capacity"));
    }

    #[test]
    fn reports_every_violation_not_only_the_first() {
        let mut f = fixture();
        f.session.state = SessionState::Closed;
        f.member.status = MemberStatus::Pending;
        let body = DeclarationBody::EnergyOffer {
            unit_id: "u1".into(),
            intervals: vec![
                EnergyOfferInterval {
                    segments: vec![seg(400.0, 2000.0), seg(10.0, 100.0)]
                };
                3
            ],
        };
        let e = validate_declaration(&f.gen_ctx(), &body).unwrap_err();
        for (field, rule) in [
            ("session", "window_open"),
            ("member_id", "member_active"),
            ("intervals", "one_entry_per_interval"),
            ("intervals[2].segments[0].price", "price_within_cap"),
            ("intervals[2].segments[1].price", "monotone_non_decreasing"),
            ("intervals[2].segments", "total_within_pmax"),
        ] {
            assert!(e.has(field, rule), "missing {field}/{rule} in {e}");
        }
    }

    proptest! {
        /// Any non-decreasing curve within the cap and pmax is accepted; the
        /// same curve with one price dropped below its predecessor is not.
        #[test]
        fn monotone_curves_within_limits_are_accepted(
            widths in prop::collection::vec(1.0f64..30.0, 1..=10),
            steps in prop::collection::vec(0.0f64..100.0, 10),
            base in 0.0f64..500.0,
        ) {
            let f = fixture();
            let mut price = base;
            let segs: Vec<_> = widths.iter().enumerate().map(|(k, w)| { price += steps[k]; seg(*w, price) }).collect();
            prop_assert!(validate_declaration(&f.gen_ctx(), &offer(segs.clone())).is_ok());
            if segs.len() > 1 {
                let mut bad = segs;
                bad[1].price = bad[0].price - 1.0;
                let e = validate_declaration(&f.gen_ctx(), &offer(bad)).unwrap_err();
                prop_assert!(e.iter().all(|v| v.rule == "monotone_non_decreasing" || v.rule == "price_within_floor"));
            }
        }
    }
}
