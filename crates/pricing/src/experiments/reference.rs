//! Experiment 6, reference: one seller's best response in a small market,
//! written out whole for an independent implementation to solve
//! (`bench/pricing-reference`, Python with scipy and a plain GA, as the
//! source paper describes its method) and solved here at the same GA
//! settings. docs/pricing.md compares the two.
//! Writes JSON into its output folder; prints nothing.

use super::*;
use crate::market::AVERAGE_PRICE_PENALTY;
use crate::tou::Period;
use crate::upper::SellerOutcome;
use serde_json::{Value, json};

/// Users of the reference market: small enough that a solver written
/// without Voltex's shape groups and exact lower level finishes in minutes.
pub const REFERENCE_USERS: usize = 200;

fn prices_json(p: &TouPrices) -> Value {
    json!({"peak": p.peak_per_kwh, "flat": p.flat_per_kwh, "valley": p.valley_per_kwh})
}

fn outcome_json(o: &SellerOutcome, penalised_fitness: f64) -> Value {
    json!({
        "objective": o.objective,
        "expected_profit": o.expected_profit,
        "cvar_loss": o.cvar_loss,
        "average_price_per_kwh": o.average_price_per_kwh,
        "purchases_kwh": o.book.total_purchases_kwh(),
        "penalised_fitness": penalised_fitness,
    })
}

/// The instance: every number the model needs, in the units of
/// docs/pricing.md (kWh per hour, yuan/kWh).
fn instance_json(market: &Market, opts: &SolveOptions) -> Value {
    let settings = market.settings();
    let (lower, rules) = (&settings.lower, &settings.rules);
    let period = |p: &Period| match p {
        Period::Peak => "peak",
        Period::Flat => "flat",
        Period::Valley => "valley",
    };
    json!({
        "model": "docs/pricing.md: one seller, device-free users, exact lower level",
        "period_of_hour": market.schedule().period_of_hour.iter().map(period).collect::<Vec<_>>(),
        "users": market.consumers().iter().map(|c| json!({
            "base_kwh": c.base_kwh,
            "controllable_kwh": c.controllable_kwh,
        })).collect::<Vec<_>>(),
        "scenarios_spot_per_kwh": market.scenarios().spot_per_kwh,
        "lower": {
            "comfort_coefficient": lower.comfort_coefficient,
            "adjustment_limit": lower.adjustment_limit,
            "feed_in_per_kwh": lower.feed_in_per_kwh,
        },
        "rules": {
            "price_floor_per_kwh": rules.price_floor_per_kwh,
            "price_cap_per_kwh": rules.price_cap_per_kwh,
            "average_price_cap_per_kwh": rules.average_price_cap_per_kwh,
            "network_tariff_per_kwh": rules.network_tariff_per_kwh,
            "risk_aversion": rules.risk_aversion,
            "cvar_confidence": rules.cvar_confidence,
            "average_price_penalty": AVERAGE_PRICE_PENALTY,
        },
        "ga": {
            "population": opts.ga.population,
            "generations": opts.ga.generations,
            "elite": opts.ga.elite,
            "crossover_probability": opts.ga.crossover_probability,
            "mutation_probability": opts.ga.mutation_probability,
            "crossover_eta": opts.ga.crossover_eta,
            "mutation_eta": opts.ga.mutation_eta,
            "stall_generations": opts.ga.stall_generations,
        },
        "seed": opts.seed,
    })
}

/// Experiment 6: the monopoly of the reference day with `opts.users` users
/// (the CLI's default for it is [`REFERENCE_USERS`]), written as
/// `reference_instance.json`; Voltex's best response (GA and polish, the
/// defaults' settings) timed and written as `reference_voltex.json`.
pub fn reference(
    inputs: &Inputs,
    opts: &SolveOptions,
    out: &Path,
    progress: Progress,
) -> Result<ExperimentSummary, PricingError> {
    create_dir(out)?;
    let opts = SolveOptions {
        sellers: 1,
        ..*opts
    };
    let market = build_market(inputs, &opts)?;
    let mut summary = ExperimentSummary::default();
    let instance = out.join("reference_instance.json");
    write_json(&instance, &instance_json(&market, &opts))?;
    summary.files.push(instance);

    progress(0, 1, "Voltex best response");
    let t = Instant::now();
    let response = market.best_response(0, &opts.ga, opts.seed)?;
    let seconds = t.elapsed().as_secs_f64();
    let outcome = market.evaluate_candidate(0, &response.best)?;
    let evaluations = response.ga.evaluations + response.polish_evaluations;
    let result = json!({
        "users": market.consumers().len(),
        "shape_groups": market.shape_groups(),
        "prices": prices_json(&response.best),
        "outcome": outcome_json(&outcome, market.penalised_fitness(&outcome)),
        "evaluations": evaluations,
        "seconds": seconds,
    });
    let voltex = out.join("reference_voltex.json");
    write_json(&voltex, &result)?;
    summary.files.push(voltex);
    progress(1, 1, "done");
    summary.lines.push(format!(
        "reference: users={} prices peak/flat/valley {:.4}/{:.4}/{:.4} objective={:.2} evaluations={} seconds={:.3}",
        market.consumers().len(),
        response.best.peak_per_kwh,
        response.best.flat_per_kwh,
        response.best.valley_per_kwh,
        outcome.objective,
        evaluations,
        seconds
    ));
    Ok(summary)
}

fn write_json(path: &Path, value: &Value) -> Result<(), PricingError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| PricingError::Write {
        path: path.into(),
        source: std::io::Error::other(e),
    })?;
    std::fs::write(path, text).map_err(|e| PricingError::Write {
        path: path.into(),
        source: e,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consumer::Consumer;
    use crate::upper::PriceScenarios;

    #[test]
    fn the_instance_carries_every_user_scenario_and_setting_the_model_needs() {
        let consumers: Vec<Consumer> = (0..3)
            .map(|i| Consumer::device_free(i, [0.5; HOURS], [0.1 * (i + 1) as f64; HOURS]))
            .collect();
        let scenarios = PriceScenarios {
            labels: vec!["a".into(), "b".into()],
            spot_per_kwh: vec![[0.8; HOURS], [1.1; HOURS]],
        };
        let opts = SolveOptions {
            sellers: 1,
            ..SolveOptions::default()
        };
        let settings = market_settings(&opts);
        let prices = initial_prices(&settings.rules, 1, 1);
        let market = Market::new(
            consumers,
            TouSchedule::standard(),
            scenarios,
            settings,
            prices,
        )
        .unwrap();
        let v = instance_json(&market, &opts);
        assert_eq!(v["users"].as_array().unwrap().len(), 3);
        assert_eq!(v["users"][2]["controllable_kwh"][0], 0.30000000000000004);
        assert_eq!(v["scenarios_spot_per_kwh"].as_array().unwrap().len(), 2);
        assert_eq!(v["period_of_hour"][0], "valley");
        assert_eq!(v["period_of_hour"][9], "peak");
        assert_eq!(v["period_of_hour"][12], "flat");
        assert_eq!(v["lower"]["comfort_coefficient"], 30.0);
        assert_eq!(v["rules"]["average_price_penalty"], AVERAGE_PRICE_PENALTY);
        assert_eq!(v["ga"]["population"], opts.ga.population);
    }
}
