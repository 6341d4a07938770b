//! Experiments 2 and 3, the one-seller sweeps: comfort coefficient ω and
//! risk weight β, each solved as a monopoly at every grid point.
//! Writes CSV and SVG into its output folder; prints nothing.

use super::*;
use crate::market::MarketSnapshot;

/// One monopoly solve (one seller, GA best response applied) at every
/// value of `grid`, which `set` puts into the options; `record` receives
/// each value and the market's snapshot. Progress names the value as
/// `symbol = value`.
fn monopoly_sweep(
    inputs: &Inputs,
    opts: &SolveOptions,
    grid: &[f64],
    (symbol, set): (&str, fn(&mut SolveOptions, f64)),
    progress: Progress,
    mut record: impl FnMut(f64, &MarketSnapshot) -> Result<(), PricingError>,
) -> Result<(), PricingError> {
    for (i, &value) in grid.iter().enumerate() {
        progress(i as u64, grid.len() as u64, &format!("{symbol} = {value}"));
        let mut varied = SolveOptions {
            sellers: 1,
            ..*opts
        };
        set(&mut varied, value);
        let mut market = build_market(inputs, &varied)?;
        let response = market.best_response(0, &varied.ga, varied.seed)?;
        market.apply_prices(0, response.chosen)?;
        record(value, &market.snapshot()?)?;
    }
    progress(grid.len() as u64, grid.len() as u64, "done");
    Ok(())
}

/// The ω grid of the comfort sweep (yuan/kWh).
pub const COMFORT_GRID: [f64; 12] = [
    0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 100.0, 1000.0,
];

/// Experiment 2: ω from "the 15 % limit binds" to "nothing shifts".
pub fn comfort_sweep(
    inputs: &Inputs,
    opts: &SolveOptions,
    out: &Path,
    progress: Progress,
) -> Result<ExperimentSummary, PricingError> {
    create_dir(out)?;
    let mut csv = CsvOut::create(
        out.join("comfort_sweep.csv"),
        "omega,peak,flat,valley,peak_valley_ratio,moved_out_of_peak_kwh,moved_into_valley_kwh,transferred_kwh,share_limit_binding,mean_satisfaction,expected_profit",
    )?;
    let mut summary = ExperimentSummary::default();
    let (mut ratio, mut moved, mut binding) = (Vec::new(), Vec::new(), Vec::new());
    let omega = ("ω", (|o, v| o.comfort = v) as fn(&mut SolveOptions, f64));
    monopoly_sweep(
        inputs,
        opts,
        &COMFORT_GRID,
        omega,
        progress,
        |omega, snap| {
            let p = snap.prices[0];
            let o = &snap.outcomes[0];
            csv.line(&format!(
                "{omega},{:.4},{:.4},{:.4},{:.4},{:.2},{:.2},{:.2},{:.4},{:.5},{:.2}",
                p.peak_per_kwh,
                p.flat_per_kwh,
                p.valley_per_kwh,
                p.peak_valley_ratio(),
                snap.moved_out_of_peak_kwh,
                snap.moved_into_valley_kwh,
                snap.transferred_kwh,
                snap.share_limit_binding,
                snap.mean_satisfaction,
                o.expected_profit
            ))?;
            let x = omega.log10();
            ratio.push((x, p.peak_valley_ratio()));
            moved.push((x, snap.moved_out_of_peak_kwh));
            binding.push((x, snap.share_limit_binding));
            summary.lines.push(format!(
            "ω {omega:>7}: ratio {:.3}, out of peak {:.1} kWh, limit binds for {:.1} % of users, S̄ {:.4}",
            p.peak_valley_ratio(),
            snap.moved_out_of_peak_kwh,
            100.0 * snap.share_limit_binding,
            snap.mean_satisfaction
        ));
            Ok(())
        },
    )?;
    summary.files.push(csv.finish()?);
    let path = out.join("comfort_sweep.svg");
    write_grid(
        &path,
        vec![
            Panel::new(
                "optimal peak/valley price ratio",
                "log10 ω (yuan/kWh)",
                "ratio",
                vec![Series::new("p_peak / p_valley", ratio)],
            ),
            Panel::new(
                "energy moved out of peak hours",
                "log10 ω (yuan/kWh)",
                "kWh",
                vec![Series::new("moved out of peak", moved)],
            ),
            Panel::new(
                "users whose 15 % limit binds",
                "log10 ω (yuan/kWh)",
                "share",
                vec![Series::new("share", binding)],
            ),
        ],
        3,
    )?;
    summary.files.push(path);
    Ok(summary)
}

/// The β grid of the risk sweep.
pub const RISK_GRID: [f64; 5] = [0.0, 0.5, 1.0, 2.0, 5.0];

/// Experiment 3: β ∈ {0, 0.5, 1, 2, 5}: price ratio, expected profit, CVaR.
pub fn risk_sweep(
    inputs: &Inputs,
    opts: &SolveOptions,
    out: &Path,
    progress: Progress,
) -> Result<ExperimentSummary, PricingError> {
    create_dir(out)?;
    let mut csv = CsvOut::create(
        out.join("risk_sweep.csv"),
        "beta,peak,flat,valley,peak_valley_ratio,expected_profit,cvar95_loss,objective,moved_out_of_peak_kwh",
    )?;
    let mut summary = ExperimentSummary::default();
    let (mut ratio, mut profit, mut cvar) = (Vec::new(), Vec::new(), Vec::new());
    let beta = ("β", (|o, v| o.risk = v) as fn(&mut SolveOptions, f64));
    monopoly_sweep(inputs, opts, &RISK_GRID, beta, progress, |beta, snap| {
        let p = snap.prices[0];
        let o = &snap.outcomes[0];
        csv.line(&format!(
            "{beta},{:.4},{:.4},{:.4},{:.4},{:.2},{:.2},{:.2},{:.2}",
            p.peak_per_kwh,
            p.flat_per_kwh,
            p.valley_per_kwh,
            p.peak_valley_ratio(),
            o.expected_profit,
            o.cvar_loss,
            o.objective,
            snap.moved_out_of_peak_kwh
        ))?;
        ratio.push((beta, p.peak_valley_ratio()));
        profit.push((beta, o.expected_profit));
        cvar.push((beta, o.cvar_loss));
        summary.lines.push(format!(
            "β {beta}: prices {:.3}/{:.3}/{:.3}, ratio {:.3}, E[profit] {:.0}, CVaR95(loss) {:.0} yuan/day",
            p.peak_per_kwh, p.flat_per_kwh, p.valley_per_kwh, p.peak_valley_ratio(), o.expected_profit, o.cvar_loss
        ));
        Ok(())
    })?;
    summary.files.push(csv.finish()?);
    let path = out.join("risk_sweep.svg");
    write_grid(
        &path,
        vec![
            Panel::new(
                "peak/valley price ratio",
                "β",
                "ratio",
                vec![Series::new("ratio", ratio)],
            ),
            Panel::new(
                "expected profit and CVaR95 of loss",
                "β",
                "yuan/day",
                vec![
                    Series::new("E[profit]", profit),
                    Series::new("CVaR95(loss)", cvar),
                ],
            ),
        ],
        2,
    )?;
    summary.files.push(path);
    Ok(summary)
}
