//! Experiment 4, the 5-user community with PV, batteries and EVs, before
//! (flat price, no optimisation) and after (optimal TOU prices and answers).
//! Writes CSV and SVG into its output folder; prints nothing.

use super::*;

/// The five community users: (label, PV, battery, EV).
pub const COMMUNITY_DEVICES: [(&str, bool, bool, bool); 5] = [
    ("user 1: PV", true, false, false),
    ("user 2: PV + battery", true, true, false),
    ("user 3: EV", false, false, true),
    ("user 4: PV + battery + EV", true, true, true),
    ("user 5: no devices", false, false, false),
];

/// PV peak of the community systems (kW).
pub const COMMUNITY_PV_PEAK_KW: f64 = 7.0;

/// The source's 5-user community built from real household-days near the
/// reference date (PV users take households with a PV channel; PV is scaled
/// so that the household's largest hourly PV output in the record is 7 kWh).
pub fn community_users(inputs: &Inputs) -> Result<Vec<Consumer>, PricingError> {
    let date = reference_date();
    let pool = data::days_near(&inputs.days, date.month(), date.day(), POOL_WINDOW_DAYS);
    let mut pv_max = std::collections::BTreeMap::<u32, f64>::new();
    for d in &inputs.days {
        let m = d.pv_kwh.iter().copied().fold(0.0, f64::max);
        let e = pv_max.entry(d.household).or_insert(0.0);
        *e = e.max(m);
    }
    let with_pv: Vec<&&HouseholdDay> = pool
        .iter()
        .filter(|d| d.has_pv_channel && d.pv_kwh.iter().sum::<f64>() > 0.5)
        .collect();
    let without: Vec<&&HouseholdDay> = pool
        .iter()
        .filter(|d| d.total_load_kwh().iter().sum::<f64>() > 5.0)
        .collect();
    if with_pv.is_empty() || without.is_empty() {
        return Err(PricingError::BadMarket(
            "the data near the reference date has no PV household-day".into(),
        ));
    }
    let mut users = Vec::new();
    let (mut next_pv, mut next_other) = (0usize, 0usize);
    for (id, &(_, has_pv, has_battery, has_ev)) in COMMUNITY_DEVICES.iter().enumerate() {
        let day: &HouseholdDay = if has_pv {
            next_pv += 1;
            with_pv[(next_pv * 7) % with_pv.len()]
        } else {
            next_other += 1;
            without[(next_other * 11) % without.len()]
        };
        let load = day.total_load_kwh();
        let kappa = inputs.classification.controllable_fraction(&load);
        let mut base = [0.0; HOURS];
        let mut controllable = [0.0; HOURS];
        for h in 0..HOURS {
            controllable[h] = kappa * load[h];
            base[h] = (1.0 - kappa) * load[h];
        }
        let mut pv = [0.0; HOURS];
        if has_pv {
            let m = pv_max.get(&day.household).copied().unwrap_or(0.0);
            if m > 0.0 {
                for h in 0..HOURS {
                    pv[h] = COMMUNITY_PV_PEAK_KW * day.pv_kwh[h] / m;
                }
            }
        }
        users.push(Consumer {
            id,
            base_kwh: base,
            controllable_kwh: controllable,
            pv_kwh: pv,
            battery: has_battery.then(Battery::default),
            ev: has_ev.then(ElectricVehicle::default),
        });
    }
    Ok(users)
}

/// Grid exchange with no optimisation: x = c, battery idle, EV charging at
/// full power from arrival until the day's driving energy is back.
pub fn uncontrolled_grid(consumer: &Consumer) -> [f64; HOURS] {
    let mut y = [0.0; HOURS];
    for h in 0..HOURS {
        y[h] = consumer.base_kwh[h] + consumer.controllable_kwh[h] - consumer.pv_kwh[h];
    }
    if let Some(ev) = &consumer.ev {
        let mut need = ev.driving_kwh.iter().sum::<f64>() / ev.efficiency;
        let arrival = (0..HOURS)
            .find(|&h| h > 0 && ev.at_home[h] && !ev.at_home[h - 1])
            .unwrap_or(0);
        for step in 0..HOURS {
            let h = (arrival + step) % HOURS;
            if need <= 0.0 {
                break;
            }
            if ev.at_home[h] {
                let e = need.min(ev.power_kw);
                y[h] += e;
                need -= e;
            }
        }
    }
    y
}

/// Experiment 4: the 5-user community before (flat p_avg, no optimisation)
/// and after (the seller's optimal TOU prices, optimal answers).
pub fn community(
    inputs: &Inputs,
    opts: &SolveOptions,
    out: &Path,
    progress: Progress,
) -> Result<ExperimentSummary, PricingError> {
    create_dir(out)?;
    let users = community_users(inputs)?;
    let settings = MarketSettings {
        lower: LowerLevelSettings {
            comfort_coefficient: opts.comfort,
            ..LowerLevelSettings::default()
        },
        rules: SellerRules {
            risk_aversion: opts.risk,
            ..SellerRules::default()
        },
        ..MarketSettings::default()
    };
    let flat = TouPrices::flat_rate(settings.rules.average_price_cap_per_kwh);
    let mut market = Market::new(
        users.clone(),
        TouSchedule::standard(),
        inputs.scenarios.clone(),
        settings,
        vec![flat],
    )?;
    progress(0, 2, "seller GA over the community");
    let response = market.best_response(0, &opts.ga, opts.seed)?;
    market.apply_prices(0, response.chosen)?;
    progress(1, 2, "answers");
    let prices = response.chosen;
    let hourly = prices.hourly(&TouSchedule::standard());
    let flat_hourly = flat.hourly(&TouSchedule::standard());
    let mut trades = CsvOut::create(
        out.join("community_trades.csv"),
        "user,devices,hour,grid_before_kwh,grid_after_kwh,preferred_kwh,shifted_kwh,pv_kwh,battery_charge_kwh,battery_discharge_kwh,ev_charge_kwh,ev_discharge_kwh,price_after",
    )?;
    let mut table = CsvOut::create(
        out.join("community_summary.csv"),
        "user,devices,bought_before_kwh,sold_before_kwh,bought_after_kwh,sold_after_kwh,bill_before_yuan,bill_after_yuan,satisfaction",
    )?;
    let mut summary = ExperimentSummary::default();
    summary.lines.push(format!(
        "seller's prices: peak {:.3}, flat {:.3}, valley {:.3} yuan/kWh (before: flat {:.3})",
        prices.peak_per_kwh, prices.flat_per_kwh, prices.valley_per_kwh, flat.peak_per_kwh
    ));
    let mut panels = Vec::new();
    for (u, consumer) in users.iter().enumerate() {
        let label = COMMUNITY_DEVICES[u].0;
        let before = uncontrolled_grid(consumer);
        let after = lower::respond(consumer, &hourly, &market.settings().lower)?;
        let f = market.settings().lower.feed_in_per_kwh;
        let bill_before: f64 = (0..HOURS)
            .map(|h| flat_hourly[h] * before[h].max(0.0) - f * (-before[h]).max(0.0))
            .sum();
        for h in 0..HOURS {
            trades.line(&format!(
                "{},{label},{h},{:.4},{:.4},{:.4},{:.4},{:.4},{:.4},{:.4},{:.4},{:.4},{:.4}",
                u + 1,
                before[h],
                after.grid_kwh[h],
                consumer.controllable_kwh[h],
                after.shifted_kwh[h],
                consumer.pv_kwh[h],
                after.battery_charge_kwh[h],
                after.battery_discharge_kwh[h],
                after.ev_charge_kwh[h],
                after.ev_discharge_kwh[h],
                hourly[h]
            ))?;
        }
        let bought_before: f64 = before.iter().map(|v| v.max(0.0)).sum();
        let sold_before: f64 = before.iter().map(|v| (-v).max(0.0)).sum();
        let bought_after: f64 = after.purchases_kwh.iter().sum();
        let sold_after: f64 = after.sales_kwh.iter().sum();
        table.line(&format!(
            "{},{label},{bought_before:.3},{sold_before:.3},{bought_after:.3},{sold_after:.3},{bill_before:.3},{:.3},{:.4}",
            u + 1,
            after.energy_cost,
            after.satisfaction
        ))?;
        summary.lines.push(format!(
            "{label:<28} bought {bought_before:6.2}→{bought_after:6.2} kWh, sold {sold_before:5.2}→{sold_after:5.2} kWh, bill {bill_before:6.2}→{:6.2} yuan, S = {:.4}",
            after.energy_cost, after.satisfaction
        ));
        panels.push(Panel::new(
            label,
            "hour",
            "grid exchange (kWh, + = purchase)",
            vec![
                Series::new(
                    "before (flat, no control)",
                    (0..HOURS).map(|h| (h as f64, before[h])).collect(),
                ),
                Series::new(
                    "after (TOU, optimal)",
                    (0..HOURS).map(|h| (h as f64, after.grid_kwh[h])).collect(),
                ),
            ],
        ));
    }
    panels.push(Panel::new(
        "seller's TOU price",
        "hour",
        "yuan/kWh",
        vec![
            Series::new("TOU", (0..HOURS).map(|h| (h as f64, hourly[h])).collect()),
            Series::new(
                "mean spot 2017",
                inputs
                    .scenarios
                    .mean_curve()
                    .iter()
                    .enumerate()
                    .map(|(h, v)| (h as f64, *v))
                    .collect(),
            ),
        ],
    ));
    summary.files.push(trades.finish()?);
    summary.files.push(table.finish()?);
    let path = out.join("community.svg");
    write_grid(&path, panels, 3)?;
    summary.files.push(path);
    progress(2, 2, "done");
    Ok(summary)
}
