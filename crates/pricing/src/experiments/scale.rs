//! Experiment 5, scale: 5,000 users × 10 sellers to equilibrium, then the
//! year 2017 day by day with the equilibrium prices.
//! Writes CSV and SVG into its output folder; prints nothing.

use super::*;

/// Settings of the scale experiment: the defaults (5,000 users × 10 sellers,
/// the configuration `voltex pricing solve` and `voltex bench pricing` run).
pub fn scale_options(seed: u64) -> SolveOptions {
    SolveOptions {
        seed,
        ..SolveOptions::default()
    }
}

/// Experiment 5: 5,000 users × 10 sellers to equilibrium on the reference day,
/// then the year 2017 day by day with the equilibrium prices and real prices.
pub fn scale(
    inputs: &Inputs,
    opts: &SolveOptions,
    days: usize,
    out: &Path,
    progress: Progress,
) -> Result<ExperimentSummary, PricingError> {
    create_dir(out)?;
    let t0 = Instant::now();
    let (mut market, report) = solve(inputs, opts, progress)?;
    let equilibrium_s = t0.elapsed().as_secs_f64();
    let mut summary = ExperimentSummary::default();
    summary.lines.push(format!(
        "{} users × {} sellers: {} rounds in {equilibrium_s:.2} s, converged = {} (last max price move {:.4} yuan/kWh)",
        opts.users,
        opts.sellers,
        report.rounds.len(),
        report.converged,
        report.rounds.last().map(|r| r.max_price_move).unwrap_or(f64::NAN)
    ));
    let mut eq = CsvOut::create(
        out.join("scale_equilibrium.csv"),
        "round,seller,peak,flat,valley,customers,expected_profit,cvar_loss,max_price_move",
    )?;
    for r in &report.rounds {
        for (k, (p, o)) in r
            .snapshot
            .prices
            .iter()
            .zip(&r.snapshot.outcomes)
            .enumerate()
        {
            eq.line(&format!(
                "{},{k},{:.4},{:.4},{:.4},{:.2},{:.2},{:.2},{:.5}",
                r.round,
                p.peak_per_kwh,
                p.flat_per_kwh,
                p.valley_per_kwh,
                o.book.customers,
                o.expected_profit,
                o.cvar_loss,
                r.max_price_move
            ))?;
        }
    }
    summary.files.push(eq.finish()?);
    // The year: same contracts (assignment and prices), each day new users from that date's pool.
    let t1 = Instant::now();
    let mut year = CsvOut::create(
        out.join("scale_year.csv"),
        &format!(
            "date,mean_spot_per_kwh,purchases_kwh,moved_out_of_peak_kwh,mean_satisfaction,total_profit,{}",
            (0..opts.sellers)
                .map(|k| format!("profit_seller_{k}"))
                .collect::<Vec<_>>()
                .join(",")
        ),
    )?;
    let all = inputs.scenarios.clone();
    let n_days = days.min(all.len());
    let (mut profit_points, mut spot_points) = (Vec::new(), Vec::new());
    let mut total_profit = 0.0;
    for d in 0..n_days {
        let label = &all.labels[d];
        let date =
            NaiveDate::parse_from_str(label, "%Y-%m-%d").unwrap_or_else(|_| reference_date());
        let users = users_for_date(
            inputs,
            date,
            opts.users,
            opts.seed.wrapping_add(d as u64 + 1),
        )?;
        market.replace_consumers(users)?;
        market.set_scenarios(PriceScenarios {
            labels: vec![label.clone()],
            spot_per_kwh: vec![all.spot_per_kwh[d]],
        })?;
        let snap = market.snapshot()?;
        let profits: Vec<f64> = snap.outcomes.iter().map(|o| o.expected_profit).collect();
        let day_total: f64 = profits.iter().sum();
        total_profit += day_total;
        let purchases: f64 = snap
            .outcomes
            .iter()
            .map(|o| o.book.total_purchases_kwh())
            .sum();
        let mean_spot = all.spot_per_kwh[d].iter().sum::<f64>() / HOURS as f64;
        year.line(&format!(
            "{label},{mean_spot:.4},{purchases:.1},{:.1},{:.5},{day_total:.1},{}",
            snap.moved_out_of_peak_kwh,
            snap.mean_satisfaction,
            profits
                .iter()
                .map(|p| format!("{p:.1}"))
                .collect::<Vec<_>>()
                .join(",")
        ))?;
        profit_points.push((d as f64, day_total));
        spot_points.push((d as f64, mean_spot));
        progress(d as u64 + 1, n_days as u64, "year");
    }
    let year_s = t1.elapsed().as_secs_f64();
    summary.files.push(year.finish()?);
    summary.lines.push(format!(
        "{n_days} days with real NSW1 2017 prices in {year_s:.2} s; realised profit of all sellers {total_profit:.0} yuan"
    ));
    let mut price_series = Vec::new();
    for s in 0..opts.sellers {
        price_series.push(Series::new(
            format!("seller {s} peak"),
            report
                .rounds
                .iter()
                .map(|r| (r.round as f64, r.snapshot.prices[s].peak_per_kwh))
                .collect(),
        ));
    }
    let path = out.join("scale.svg");
    write_grid(
        &path,
        vec![
            Panel::new(
                "peak price per round (10 sellers)",
                "round",
                "yuan/kWh",
                price_series,
            ),
            Panel::new(
                "realised daily profit, all sellers",
                "day of 2017",
                "yuan",
                vec![Series::new("profit", profit_points)],
            ),
            Panel::new(
                "daily mean spot price",
                "day of 2017",
                "yuan/kWh",
                vec![Series::new("NSW1 × 0.01", spot_points)],
            ),
        ],
        3,
    )?;
    summary.files.push(path);
    let mut timing = CsvOut::create(out.join("scale_timing.csv"), "stage,seconds")?;
    timing.line(&format!("equilibrium_one_day,{equilibrium_s:.3}"))?;
    timing.line(&format!("year_{n_days}_days,{year_s:.3}"))?;
    summary.files.push(timing.finish()?);
    Ok(summary)
}
