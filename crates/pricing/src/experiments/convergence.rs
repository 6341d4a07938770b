//! Experiment 1, convergence: the GA's fitness per generation and the sellers'
//! prices and users' transferred energy over best-response rounds.
//! Writes CSV and SVG into its output folder; prints nothing.

use super::*;

/// Experiment 1: GA fitness per generation, prices and transferred energy per round.
pub fn convergence(
    inputs: &Inputs,
    opts: &SolveOptions,
    out: &Path,
    progress: Progress,
) -> Result<ExperimentSummary, PricingError> {
    create_dir(out)?;
    let start = build_market(inputs, opts)?;
    let initial = start.prices().to_vec();
    let initial_snapshot = start.snapshot()?;
    let (_market, report) = solve(inputs, opts, progress)?;
    let mut summary = ExperimentSummary::default();
    let mut ga = CsvOut::create(
        out.join("convergence_ga.csv"),
        "round,seller,generation,best_fitness,mean_fitness",
    )?;
    for r in &report.rounds {
        for resp in &r.responses {
            for g in &resp.ga.history {
                ga.line(&format!(
                    "{},{},{},{:.4},{:.4}",
                    r.round, resp.seller, g.generation, g.best_fitness, g.mean_fitness
                ))?;
            }
        }
    }
    summary.files.push(ga.finish()?);
    let mut rounds = CsvOut::create(
        out.join("convergence_rounds.csv"),
        "round,seller,peak,flat,valley,customers,expected_profit,cvar_loss,average_price,transferred_kwh,moved_out_of_peak_kwh,moved_into_valley_kwh,mean_satisfaction,max_price_move,max_regret,max_regret_pct",
    )?;
    let mut write_round = |round: usize,
                           snap: &crate::market::MarketSnapshot,
                           moved: f64,
                           regret: f64,
                           regret_pct: f64|
     -> Result<(), PricingError> {
        for (k, (p, o)) in snap.prices.iter().zip(&snap.outcomes).enumerate() {
            rounds.line(&format!(
                "{round},{k},{:.4},{:.4},{:.4},{:.2},{:.2},{:.2},{:.4},{:.2},{:.2},{:.2},{:.5},{:.5},{:.2},{:.4}",
                p.peak_per_kwh,
                p.flat_per_kwh,
                p.valley_per_kwh,
                o.book.customers,
                o.expected_profit,
                o.cvar_loss,
                o.average_price_per_kwh,
                snap.transferred_kwh,
                snap.moved_out_of_peak_kwh,
                snap.moved_into_valley_kwh,
                snap.mean_satisfaction,
                moved,
                regret,
                regret_pct
            ))?;
        }
        Ok(())
    };
    write_round(0, &initial_snapshot, f64::NAN, f64::NAN, f64::NAN)?;
    for r in &report.rounds {
        write_round(
            r.round,
            &r.snapshot,
            r.max_price_move,
            r.max_regret,
            r.max_regret_pct,
        )?;
    }
    summary.files.push(rounds.finish()?);

    // GA curves of the first best response of each seller in round 1.
    let mut panels = Vec::new();
    if let Some(first) = report.rounds.first() {
        for resp in first.responses.iter().take(4) {
            panels.push(Panel::new(
                format!("round 1, seller {}: GA fitness", resp.seller),
                "generation",
                "fitness (yuan)",
                vec![
                    Series::new(
                        "best",
                        resp.ga
                            .history
                            .iter()
                            .map(|g| (g.generation as f64, g.best_fitness))
                            .collect(),
                    ),
                    Series::new(
                        "mean",
                        resp.ga
                            .history
                            .iter()
                            .map(|g| (g.generation as f64, g.mean_fitness))
                            .collect(),
                    ),
                ],
            ));
        }
    }
    let path = out.join("convergence_ga.svg");
    write_grid(&path, panels, 2)?;
    summary.files.push(path);

    let k = opts.sellers;
    let mut price_series = Vec::new();
    for s in 0..k {
        let mut peak = vec![(0.0, initial[s].peak_per_kwh)];
        let mut valley = vec![(0.0, initial[s].valley_per_kwh)];
        for r in &report.rounds {
            peak.push((r.round as f64, r.snapshot.prices[s].peak_per_kwh));
            valley.push((r.round as f64, r.snapshot.prices[s].valley_per_kwh));
        }
        price_series.push(Series::new(format!("seller {s} peak"), peak));
        price_series.push(Series::new(format!("seller {s} valley"), valley));
    }
    let mut transfer = vec![(0.0, initial_snapshot.transferred_kwh)];
    let mut out_of_peak = vec![(0.0, initial_snapshot.moved_out_of_peak_kwh)];
    for r in &report.rounds {
        transfer.push((r.round as f64, r.snapshot.transferred_kwh));
        out_of_peak.push((r.round as f64, r.snapshot.moved_out_of_peak_kwh));
    }
    let path = out.join("convergence_prices.svg");
    write_grid(
        &path,
        vec![
            Panel::new(
                "seller prices over best-response rounds",
                "round",
                "yuan/kWh",
                price_series,
            ),
            Panel::new(
                "users' transferred energy",
                "round",
                "kWh",
                vec![
                    Series::new("moved in time", transfer),
                    Series::new("moved out of peak", out_of_peak),
                ],
            ),
        ],
        2,
    )?;
    summary.files.push(path);
    summary.lines.push(format!(
        "{} users, {} sellers, ω = {}, β = {}, choice {}, step {:?}: {} rounds, converged = {} (largest regret {:.3} % of profit)",
        opts.users,
        k,
        opts.comfort,
        opts.risk,
        opts.choice.name(),
        opts.step,
        report.rounds.len(),
        report.converged,
        report.certificate.max_regret_pct()
    ));
    for r in &report.rounds {
        summary.lines.push(format!(
            "round {}: largest regret {:.1} yuan/day ({:.3} % of profit), then max price move {:.4} yuan/kWh",
            r.round, r.max_regret, r.max_regret_pct, r.max_price_move
        ));
    }
    if let Some(last) = report.rounds.last() {
        for (s, (p, o)) in last
            .snapshot
            .prices
            .iter()
            .zip(&last.snapshot.outcomes)
            .enumerate()
        {
            summary.lines.push(format!(
                "seller {s}: peak {:.3} flat {:.3} valley {:.3} yuan/kWh, {:.1} customers (expected), E[profit] {:.0} yuan/day",
                p.peak_per_kwh, p.flat_per_kwh, p.valley_per_kwh, o.book.customers, o.expected_profit
            ));
        }
    }
    Ok(summary)
}
