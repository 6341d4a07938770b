//! Declarations of the day-ahead window: the operator opens tomorrow's
//! session; each company offers its unit (the first after a mistaken offer
//! that is refused with every broken rule named) with its daily extras, the
//! first company revises its offer, the buyers bid along the load curve, and
//! an implausible revision is held for review and rejected by the operator.
use crate::registration::{BuyerPlan, Registered};
use crate::{DemoOptions, SigningChannel, round2};
use voltex_clearing::input::steps_from_cost;
use voltex_clearing::load_shape::resample;
use voltex_formats::matpower::CaseGenerator;
use voltex_market::{Actor, Market, MarketError};
use voltex_model::{
    DailyExtras, DeclarationBody, DemandBidInterval, EnergyOfferInterval, GeneratingUnit,
    MarketKind, MarketSession, OfferSegment, SessionState,
};
use voltex_store::StoredDeclaration;

/// Conversion of the case's dollar costs into the market's yuan (approximate
/// 2026 exchange rate; the demo's prices are illustrative, not a forecast).
pub const YUAN_PER_DOLLAR: f64 = 7.1;
/// Segments per offer curve.
pub const OFFER_SEGMENTS: usize = 5;
/// Price markup added per segment above the first.
pub const MARKUP_PER_SEGMENT: f64 = 0.03;

/// The day-ahead session with its declarations in, gate still open.
#[derive(Debug)]
pub struct Declared {
    pub session: MarketSession,
    /// Intervals of the trading day.
    pub intervals: usize,
    /// The load curve resampled to the day's intervals.
    pub factors: Vec<f64>,
    /// The mistaken offer's refusal, one line per broken rule.
    pub refused_example: Vec<String>,
    /// The held-then-rejected revision.
    pub review_example: Vec<String>,
}

/// Sends one declaration through `channel` (signed), or straight to the market.
pub async fn send(
    market: &Market,
    channel: Option<&SigningChannel>,
    actor: &Actor,
    session_id: &str,
    body: DeclarationBody,
) -> Result<StoredDeclaration, MarketError> {
    match channel {
        Some(c) => c.sign_and_accept(market, actor, session_id, body).await,
        None => market.submit_declaration(actor, session_id, body).await,
    }
}

/// Opens the day-ahead session and has every member declare in it.
pub async fn declare_day_ahead(
    market: &Market,
    channel: Option<&SigningChannel>,
    reg: &Registered,
    opts: &DemoOptions,
) -> anyhow::Result<Declared> {
    let op = &reg.operator;
    // Tomorrow's day-ahead session, opened by the operator.
    let session = market
        .create_session(op, MarketKind::DayAheadEnergy, opts.trading_day)
        .await?
        .value;
    market
        .advance_session(op, &session.id, SessionState::Open)
        .await?;
    let params = market.parameters(MarketKind::DayAheadEnergy).await?.value;
    let n = params.calendar().interval_count(opts.trading_day)?;
    let factors = resample(&reg.load_shape, n);

    let refused_example = offer_units(market, channel, reg, &session.id, n).await?;
    revise_first_offer(market, channel, reg, &session.id, n).await?;
    bid_demand(market, channel, &reg.buyers, &factors, &session.id).await?;
    let review_example = held_and_rejected(market, channel, reg, &session.id, n).await?;
    Ok(Declared {
        session,
        intervals: n,
        factors,
        refused_example,
        review_example,
    })
}

/// Offers and daily extras of every unit; the first company's mistaken
/// submission (a typo in the top price) comes first and is refused with
/// every broken rule named; nothing of it is stored. Returns the refusal.
async fn offer_units(
    market: &Market,
    channel: Option<&SigningChannel>,
    reg: &Registered,
    session_id: &str,
    n: usize,
) -> anyhow::Result<Vec<String>> {
    let mut refused_example = Vec::new();
    for (k, (g, unit)) in reg.case.generators.iter().zip(&reg.units).enumerate() {
        let actor = market.actor(&unit.member_id).await?;
        let segments = offer_curve(g, unit);
        if k == 0 {
            let mut typo = segments.clone();
            if let Some(last) = typo.last_mut() {
                last.price *= 100.0;
            }
            let body = energy_offer(&unit.id, &typo, n);
            if let Err(MarketError::Invalid(v)) =
                send(market, channel, &actor, session_id, body).await
            {
                refused_example = refusal_lines(&v);
            }
        }
        send(
            market,
            channel,
            &actor,
            session_id,
            energy_offer(&unit.id, &segments, n),
        )
        .await?;
        send(
            market,
            channel,
            &actor,
            session_id,
            DeclarationBody::DailyExtras(DailyExtras {
                unit_id: unit.id.clone(),
                expected_grid_connection: None,
                max_generating_capacity_mw: unit.pmax_mw,
                heat_supply_flow_t_per_h: None,
                emergency_min_mw: unit.emergency_min_mw,
            }),
        )
        .await?;
    }
    Ok(refused_example)
}

/// The first company revises its offer (+2 %): the new version supersedes.
async fn revise_first_offer(
    market: &Market,
    channel: Option<&SigningChannel>,
    reg: &Registered,
    session_id: &str,
    n: usize,
) -> anyhow::Result<()> {
    let revised_unit = &reg.units[0];
    let mut revised = offer_curve(&reg.case.generators[0], revised_unit);
    for s in &mut revised {
        s.price = round2(s.price * 1.02);
    }
    let first_actor = market.actor(&revised_unit.member_id).await?;
    send(
        market,
        channel,
        &first_actor,
        session_id,
        energy_offer(&revised_unit.id, &revised, n),
    )
    .await?;
    Ok(())
}

/// Demand bids following the load curve.
async fn bid_demand(
    market: &Market,
    channel: Option<&SigningChannel>,
    buyers: &[BuyerPlan],
    factors: &[f64],
    session_id: &str,
) -> anyhow::Result<()> {
    for b in buyers {
        let actor = market.actor(&b.member_id).await?;
        let intervals = factors
            .iter()
            .map(|f| demand_interval(b, b.base_mw * f))
            .collect();
        send(
            market,
            channel,
            &actor,
            session_id,
            DeclarationBody::DemandBid {
                resource_id: Some(b.resource_id.clone()),
                intervals,
            },
        )
        .await?;
    }
    Ok(())
}

/// An implausible revision: the second company doubles its prices. It is
/// stored but held; the operator rejects it with a reason, so the
/// company's previous offer stands. Returns what happened, line by line.
async fn held_and_rejected(
    market: &Market,
    channel: Option<&SigningChannel>,
    reg: &Registered,
    session_id: &str,
    n: usize,
) -> anyhow::Result<Vec<String>> {
    let op = &reg.operator;
    let mut review_example = Vec::new();
    if let (Some(g), Some(unit)) = (reg.case.generators.get(1), reg.units.get(1)) {
        let actor = market.actor(&unit.member_id).await?;
        let mut doubled = offer_curve(g, unit);
        for s in &mut doubled {
            s.price = round2(s.price * 2.0);
        }
        let held = send(
            market,
            channel,
            &actor,
            session_id,
            energy_offer(&unit.id, &doubled, n),
        )
        .await?;
        for r in market.pending_reviews(op).await? {
            review_example.push(format!("held: {} — {}", r.id, r.value.finding));
        }
        market
            .decide_review(
                op,
                &held.key,
                held.version,
                false,
                Some("price doubling not supported by fuel costs; previous offer stands".into()),
            )
            .await?;
        review_example.push(format!(
            "rejected: {}#{} (member notified)",
            held.key, held.version
        ));
    }
    Ok(review_example)
}

/// The unit's step offer in yuan/MWh.
pub fn offer_curve(g: &CaseGenerator, unit: &GeneratingUnit) -> Vec<OfferSegment> {
    let from = if unit.pmin_mw > 0.0 {
        0.0
    } else {
        unit.pmin_mw
    };
    steps_from_cost(&g.cost, from, unit.pmax_mw, OFFER_SEGMENTS)
        .iter()
        .enumerate()
        .map(|(k, s)| OfferSegment {
            quantity_mw: s.quantity_mw,
            price: round2(
                s.price_per_mwh * YUAN_PER_DOLLAR * (1.0 + MARKUP_PER_SEGMENT * k as f64),
            ),
        })
        .collect()
}

/// The same curve in every interval of a day of `n` intervals.
pub fn energy_offer(unit_id: &str, segments: &[OfferSegment], n: usize) -> DeclarationBody {
    DeclarationBody::EnergyOffer {
        unit_id: unit_id.into(),
        intervals: vec![
            EnergyOfferInterval {
                segments: segments.to_vec()
            };
            n
        ],
    }
}

fn demand_interval(b: &BuyerPlan, mw: f64) -> DemandBidInterval {
    let quantity_mw = round2(mw);
    let mut segments: Vec<OfferSegment> = b
        .tiers
        .iter()
        .map(|(share, price)| OfferSegment {
            quantity_mw: round2(quantity_mw * share),
            price: *price,
        })
        .collect();
    // Rounding must not break "segments sum to the quantity".
    if let Some(last) = segments.last_mut() {
        let others: f64 = b
            .tiers
            .iter()
            .take(b.tiers.len() - 1)
            .map(|(s, _)| round2(quantity_mw * s))
            .sum();
        last.quantity_mw = round2(quantity_mw - others);
    }
    DemandBidInterval {
        quantity_mw,
        segments,
    }
}

fn refusal_lines(v: &voltex_model::Violations) -> Vec<String> {
    let mut lines: Vec<String> = v
        .iter()
        .take(3)
        .map(|x| format!("{} [{}]: {}", x.field, x.rule, x.message))
        .collect();
    if v.len() > 3 {
        lines.push(format!("... and {} more", v.len() - 3));
    }
    lines
}
