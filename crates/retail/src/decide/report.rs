//! The decision-support report as text for a terminal: what `voltex retail
//! decide` prints above its summary line.
//!
//! Must not: compute anything the report does not already hold.
use std::fmt::Write as _;

use super::demo::DecideReport;

fn mwh(kwh: f64) -> f64 {
    kwh / 1000.0
}

/// The report, one indented line per fact.
pub fn text(r: &DecideReport) -> String {
    let mut o = String::new();
    let f = &r.forecast;
    let _ = writeln!(
        o,
        "  forecast, day-ahead, back-test over {} days: portfolio WAPE {:.2} %, MAPE {:.2} %, rMAE {:.3}; customers one by one WAPE {:.2} % (diversity effect {:.1} %)",
        f.window_days,
        f.portfolio.wape_pct,
        f.portfolio.mape_pct,
        f.portfolio.rmae,
        f.customers_wape_pct,
        f.diversity_pct
    );
    let chosen: Vec<String> = f
        .chosen
        .iter()
        .map(|(m, n)| format!("{} {n}", m.as_str()))
        .collect();
    let _ = writeln!(o, "  methods chosen by back-test: {}", chosen.join(", "));
    let _ = writeln!(
        o,
        "  forecast, month-ahead: {} back-test WAPE {:.2} % (daily energy); next 30 days {:.1} MWh",
        r.month_ahead.backtest_month,
        r.month_ahead.backtest_wape_pct,
        mwh(r.month_ahead.next_days_kwh.iter().sum())
    );
    let p = &r.purchase;
    let total: f64 = p.intervals.iter().map(|i| i.forecast_kwh).sum();
    let mlt: f64 = p.intervals.iter().map(|i| i.contracted_kwh).sum();
    let low: f64 = p.intervals.iter().map(|i| i.gap_low_kwh).sum();
    let high: f64 = p.intervals.iter().map(|i| i.gap_high_kwh).sum();
    let _ = writeln!(
        o,
        "  purchase gap for {}: forecast {:.1} MWh − MLT {:.1} MWh = {:.1} MWh (P10 {:.1}, P90 {:.1} MWh)",
        f.target,
        mwh(total),
        mwh(mlt),
        mwh(p.gap_kwh),
        mwh(low),
        mwh(high)
    );
    // the evening hour with the largest gap shows what a curve looks like
    if let Some((t, i)) = p
        .intervals
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.gap_kwh.total_cmp(&b.1.gap_kwh))
    {
        let steps: Vec<String> = i
            .steps
            .iter()
            .map(|s| format!("≤{:.4} yuan/kWh → {:.2} MW", s.price, s.kwh * 4.0 / 1000.0))
            .collect();
        let _ = writeln!(
            o,
            "  suggested day-ahead bid at {:02}:{:02} (largest gap): {}",
            t / 4,
            (t % 4) * 15,
            steps.join("; ")
        );
    }
    let ceiling =
        p.intervals.iter().map(|i| i.ceiling).sum::<f64>() / p.intervals.len().max(1) as f64;
    let _ = writeln!(
        o,
        "  cost over {} scenarios: suggested {:.0} yuan (CVaR95 {:.0}), buy-the-forecast {:.0} yuan (CVaR95 {:.0}); retail price ceiling {:.4} yuan/kWh on average, {} quarter-hours with P90 day-ahead price above it",
        p.scenarios,
        p.suggested.expected_yuan,
        p.suggested.cvar95_yuan,
        p.naive.expected_yuan,
        p.naive.cvar95_yuan,
        ceiling,
        p.above_ceiling
    );
    let b = &r.backtest;
    let _ = writeln!(
        o,
        "  bid back-test over {} days: suggested {:.0} yuan vs buy-the-forecast {:.0} yuan ({:+.2} % saved)",
        b.days, b.suggested_yuan, b.naive_yuan, b.saving_pct
    );
    let s = &r.segmentation;
    let _ = writeln!(
        o,
        "  segments: {} (Xie–Beni over {})",
        s.segments.len(),
        s.xie_beni
            .iter()
            .map(|(c, x)| format!("c={c}: {x:.3}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for seg in &s.segments {
        let _ = writeln!(
            o,
            "    {}: {} / {} — {} customers; peak share {:.2}, load factor {:.2}, weekend ratio {:.2}, summer/winter {:.2}; cheapest package for most: {}",
            seg.index,
            seg.name_en,
            seg.name_zh,
            seg.customers.len(),
            seg.features.peak_share,
            seg.features.load_factor,
            seg.features.weekend_ratio,
            seg.features.seasonality,
            seg.suggested_package().unwrap_or("-")
        );
    }
    let _ = writeln!(
        o,
        "  customers whose load changed segment (H1 → H2): {}",
        s.changed.len()
    );
    let e = &r.efficiency;
    let m = &e.metrics;
    let _ = writeln!(
        o,
        "  energy efficiency, {} ({} days): load factor {:.2}, peak/average {:.2}, night share {:.2}, max demand {:.0} kW on {} kVA contracted",
        e.customer_id,
        m.days,
        m.load_factor,
        m.peak_to_average,
        m.night_share,
        m.max_demand_kw,
        m.contracted_kva
    );
    let c = &m.capacity;
    let capacity = if c.annual_saving.0 >= 0 {
        format!(
            "capacity {} → {} kVA saves {} yuan/year",
            c.current_kva, c.recommended_kva, c.annual_saving
        )
    } else {
        format!(
            "capacity {} kVA is below max demand with its margin: {} kVA would cost {} yuan/year more",
            c.current_kva,
            c.recommended_kva,
            crate::money::Fen(-c.annual_saving.0)
        )
    };
    let _ = writeln!(
        o,
        "    {capacity}; shifting {:.0} % of peak energy to the valley saves {} yuan/year",
        m.peak_shift.share * 100.0,
        m.peak_shift.annual_saving
    );
    let b = &e.battery;
    let _ = writeln!(
        o,
        "    battery: {:.0} kW / {:.0} kWh, capex {} yuan, saves {} yuan/year (net of annualised capex {} yuan/year), payback {} (LP solved in {:.2} s: {} cutting-plane rounds over {} month problems)",
        b.power_kw,
        b.energy_kwh,
        b.capex,
        b.annual_saving,
        b.net_annual_benefit,
        b.payback_years
            .map_or("none: no size pays back".to_owned(), |y| format!(
                "{y:.1} years"
            )),
        b.solve_seconds,
        b.rounds,
        b.months
    );
    for path in &r.files {
        let _ = writeln!(o, "  wrote {}", path.display());
    }
    o
}

/// The summary line the check reads.
pub fn summary_line(r: &DecideReport) -> String {
    format!(
        "retail decide: customers={} forecast_wape_pct={:.2} gap_mwh={:.1} bid_backtest_saving_pct={:.2} segments={} battery_kw={:.0} battery_kwh={:.0} payback_years={}",
        r.customers,
        r.forecast.portfolio.wape_pct,
        r.purchase.gap_kwh / 1000.0,
        r.backtest.saving_pct,
        r.segmentation.segments.len(),
        r.efficiency.battery_kw,
        r.efficiency.battery_kwh,
        r.efficiency
            .payback_years
            .map_or("none".to_owned(), |y| format!("{y:.1}"))
    )
}
