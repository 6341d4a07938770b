//! Gate closure and clearing: the day-ahead gate closes (the latest versions
//! are locked), the session clears and its results are released; the
//! frequency-regulation auction runs on the same day; then the real-time
//! pass: one company re-offers, every other unit's day-ahead curve stands in
//! by the default rule, and metered load deviates from the bids.
use crate::declarations::{Declared, energy_offer, offer_curve, send};
use crate::registration::Registered;
use crate::summary::{self, DemoSummary};
use crate::{SigningChannel, round2};
use voltex_market::dispatch::{ClearOptions, ClearingRun, MeteredLoad, MeteredResource};
use voltex_market::{Market, clear::ClearingOutcome};
use voltex_model::{DeclarationBody, MarketKind, MarketSession, RegulationInterval, SessionState};
use voltex_store::Record;

/// The day cleared in every market, not yet settled.
#[derive(Debug)]
pub struct Cleared {
    /// The day-ahead session as locked at gate closure.
    pub summary: DemoSummary,
    pub day_ahead: MarketSession,
    pub day_ahead_run: Record<ClearingRun>,
    pub real_time_run: Record<ClearingRun>,
    /// The frequency-regulation auction in one line.
    pub regulation: String,
}

/// Closes the day-ahead gate, clears and publishes every market of the day.
pub async fn clear_the_day(
    market: &Market,
    channel: Option<&SigningChannel>,
    reg: &Registered,
    declared: Declared,
) -> anyhow::Result<Cleared> {
    let op = &reg.operator;
    let session = declared.session.clone();
    // Gate closure: the latest versions are locked.
    market.close_gate(op, &session.id).await?;
    let locked = summary::at_gate_closure(market, op, reg, &declared).await?;

    // Day-ahead clearing and market release.
    let day_ahead_run = market
        .clear_session(op, &session.id, &ClearOptions::default())
        .await?
        .energy();
    market.publish_session(op, &session.id).await?;

    let regulation = frequency_regulation(market, channel, reg, &declared).await?;
    let real_time_run = real_time(market, channel, reg, &declared).await?;
    Ok(Cleared {
        summary: locked,
        day_ahead: session,
        day_ahead_run,
        real_time_run,
        regulation,
    })
}

/// Frequency regulation: each company offers a tenth of its unit's
/// capacity at a mileage price rising with the unit's marginal cost; the
/// auction covers 3 % of the day-ahead load. Returns the auction in a line.
async fn frequency_regulation(
    market: &Market,
    channel: Option<&SigningChannel>,
    reg: &Registered,
    day: &Declared,
) -> anyhow::Result<String> {
    let op = &reg.operator;
    let n = day.intervals;
    let fr = market
        .create_session(op, MarketKind::FrequencyRegulation, day.session.trading_day)
        .await?
        .value;
    market
        .advance_session(op, &fr.id, SessionState::Open)
        .await?;
    for (k, unit) in reg.units.iter().enumerate() {
        let actor = market.actor(&unit.member_id).await?;
        send(
            market,
            channel,
            &actor,
            &fr.id,
            DeclarationBody::FrequencyRegulationOffer {
                unit_id: unit.id.clone(),
                intervals: vec![
                    RegulationInterval {
                        capacity_mw: round2(unit.pmax_mw * 0.1),
                        mileage_price: 6.0 + k as f64,
                    };
                    n
                ],
            },
        )
        .await?;
    }
    market.close_gate(op, &fr.id).await?;
    let regulation = match market
        .clear_session(op, &fr.id, &ClearOptions::default())
        .await?
    {
        ClearingOutcome::Regulation(r) => {
            let s = r.value.summary();
            format!(
                "{}: peak requirement {:.1} MW, mean mileage price {:.2} yuan/MW, {} interval(s) short",
                r.value.session_id, s.peak_requirement_mw, s.mean_price, s.shortfall_intervals
            )
        }
        ClearingOutcome::Energy(_) => String::new(),
    };
    market.publish_session(op, &fr.id).await?;
    Ok(regulation)
}

/// Real time: one company re-offers its unit 5 % dearer; every other
/// unit's day-ahead curve stands in by the default rule. Metered load
/// deviates from the day-ahead bids by a few per cent.
async fn real_time(
    market: &Market,
    channel: Option<&SigningChannel>,
    reg: &Registered,
    day: &Declared,
) -> anyhow::Result<Record<ClearingRun>> {
    let op = &reg.operator;
    let n = day.intervals;
    let rt = market
        .create_session(op, MarketKind::RealTimeEnergy, day.session.trading_day)
        .await?
        .value;
    market
        .advance_session(op, &rt.id, SessionState::Open)
        .await?;
    if let (Some(g), Some(unit)) = (reg.case.generators.last(), reg.units.last()) {
        let actor = market.actor(&unit.member_id).await?;
        let mut dearer = offer_curve(g, unit);
        for s in &mut dearer {
            s.price = round2(s.price * 1.05);
        }
        send(
            market,
            channel,
            &actor,
            &rt.id,
            energy_offer(&unit.id, &dearer, n),
        )
        .await?;
    }
    market.close_gate(op, &rt.id).await?;
    let metered = MeteredLoad {
        trading_day: day.session.trading_day,
        resources: reg
            .buyers
            .iter()
            .enumerate()
            .map(|(k, b)| MeteredResource {
                resource_id: b.resource_id.clone(),
                mw: day
                    .factors
                    .iter()
                    .enumerate()
                    .map(|(t, f)| round2(b.base_mw * f * metered_deviation(k, t, n)))
                    .collect(),
            })
            .collect(),
    };
    market.set_metered_load(op, metered).await?;
    let rt_run = market
        .clear_session(op, &rt.id, &ClearOptions::default())
        .await?
        .energy();
    market.publish_session(op, &rt.id).await?;
    Ok(rt_run)
}

/// Deterministic metered deviation of buyer `k` in interval `t`: ±4 % waves
/// of different phase per buyer, so real-time settlement has something to do.
fn metered_deviation(k: usize, t: usize, n: usize) -> f64 {
    let phase = k as f64 * 1.3;
    1.0 + 0.04 * (2.0 * std::f64::consts::PI * t as f64 / n as f64 * 3.0 + phase).sin()
}
