//! The benchmark day (`voltex bench evaluation`): a PGLib case over
//! a day of intervals (ISO-NE 2017-01-09 load shape, step offers from the
//! case's costs), its generators shared among `suppliers` owners, cleared
//! once competitively (the costs become the registered references) and
//! again with the `withholding` units of largest peak output offering
//! `factor` times their cost: the run the evaluation reads. Only the
//! evaluation is timed; building the day is set-up.
use std::collections::HashMap;
use std::path::Path;

use voltex_analytics::market_power::Step;
use voltex_analytics::market_power::conduct::ReferenceCurve;
use voltex_clearing::load_shape::{read_load_shape, resample};
use voltex_clearing::{ClearingInput, FromCaseOptions, OfferSegment};
use voltex_model::MarketKind;

use super::DayContext;
use crate::dispatch::ClearingRun;
use crate::{MarketError, Result};

/// A day ready to evaluate.
#[derive(Debug)]
pub struct BenchDay {
    pub run: ClearingRun,
    pub context: DayContext,
    pub units: usize,
    /// The units that withheld.
    pub withheld: Vec<String>,
}

/// Builds the benchmark day (see the module).
pub fn bench_day(
    case_path: &Path,
    intervals: usize,
    suppliers: usize,
    withholding: usize,
    factor: f64,
) -> Result<BenchDay> {
    let bad = |e: String| MarketError::Clearing(e);
    let case = voltex_formats::matpower::parse_case_file(case_path)
        .map_err(|e| bad(format!("case {}: {e}", case_path.display())))?;
    let shape_path =
        voltex_formats::datadir::bundled_data_dir().join("load_shapes/isone_2017-01-09.json");
    let shape = read_load_shape(&shape_path).map_err(|e| bad(e.to_string()))?;
    let mut input = ClearingInput::from_case(
        &case,
        &FromCaseOptions {
            intervals,
            segments: 5,
            load_scale: resample(&shape, intervals),
            ..FromCaseOptions::default()
        },
    );
    input.interval_minutes = 24.0 * 60.0 / intervals.max(1) as f64;
    let competitive = voltex_clearing::clear(&input).map_err(|e| bad(e.to_string()))?;
    let peak = (0..intervals)
        .max_by(|a, b| {
            competitive.results[*a]
                .fixed_load_mw
                .total_cmp(&competitive.results[*b].fixed_load_mw)
        })
        .unwrap_or(0);
    let mut by_output: Vec<usize> = (0..input.units.len()).collect();
    by_output.sort_by(|a, b| {
        competitive.results[peak].units[*b]
            .output_mw
            .total_cmp(&competitive.results[peak].units[*a].output_mw)
    });
    let references = cost_references(&input);
    let mut market = input.clone();
    let mut withheld = Vec::new();
    for &u in by_output.iter().take(withholding) {
        let offers = (0..intervals)
            .map(|t| {
                input
                    .offer(u, t)
                    .iter()
                    .map(|s| OfferSegment {
                        quantity_mw: s.quantity_mw,
                        price_per_mwh: s.price_per_mwh * factor,
                    })
                    .collect()
            })
            .collect();
        market.units[u].offer_by_interval = Some(offers);
        withheld.push(input.units[u].id.clone());
    }
    let result = voltex_clearing::clear(&market).map_err(|e| bad(e.to_string()))?;
    let owners = market
        .units
        .iter()
        .enumerate()
        .map(|(k, u)| {
            (
                u.id.clone(),
                format!("supplier-{:03}", k % suppliers.max(1)),
            )
        })
        .collect();
    let context = DayContext {
        owners,
        registered_mw: market
            .units
            .iter()
            .map(|u| (u.id.clone(), u.pmax_mw))
            .collect(),
        references,
        price_cap: 1500.0,
        ..DayContext::default()
    };
    let units = market.units.len();
    let run = ClearingRun {
        session_id: "bench".into(),
        market: MarketKind::DayAheadEnergy,
        trading_day: chrono::NaiveDate::from_ymd_opt(2017, 1, 9).expect("a date"),
        network: market.network.name.clone(),
        cleared_at: chrono::Utc::now(),
        fingerprint: crate::dispatch::fingerprint(&market),
        used: vec![],
        defaults: vec![],
        warnings: vec![],
        positions: vec![],
        input: market,
        result,
    };
    Ok(BenchDay {
        run,
        context,
        units,
        withheld,
    })
}

/// Each unit's cost-based reference taken from its competitive offer of the
/// first interval, stacked from 0 MW (the output below pmin at the first
/// step's price): how a case without registered costs gets references.
pub fn cost_references(input: &ClearingInput) -> HashMap<String, ReferenceCurve> {
    input
        .units
        .iter()
        .enumerate()
        .map(|(u, unit)| {
            let offer = input.offer(u, 0);
            let mut steps = vec![Step {
                quantity_mw: unit.pmin_mw,
                price_per_mwh: offer.first().map_or(0.0, |s| s.price_per_mwh),
            }];
            steps.extend(offer.iter().map(|s| Step {
                quantity_mw: s.quantity_mw,
                price_per_mwh: s.price_per_mwh,
            }));
            steps.retain(|s| s.quantity_mw > 0.0);
            (unit.id.clone(), ReferenceCurve { steps })
        })
        .collect()
}
