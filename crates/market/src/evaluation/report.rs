//! What people read of an evaluation: the summary lines (`voltex evaluate`,
//! the demo), the daily report in Markdown, its SVG figures (drawn by
//! voltex-charts, the one palette), and the alerts built from it with their
//! evidence.
use std::fmt::Write;

use chrono::{DateTime, Utc};
use voltex_charts::{Colour, Figure, Panel, Series};

use super::compute::steps;
use super::records::{AlertEvidence, AlertKind, MarketAlert, OfferEvidence, ReclearEvidence};
use super::{Evaluation, MemberPortrait};
use crate::dispatch::ClearingRun;

fn mean(v: impl Iterator<Item = f64>) -> f64 {
    let (s, n) = v.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    if n > 0 { s / n as f64 } else { 0.0 }
}

/// (value, 1-based interval) of the largest value.
fn peak(v: impl Iterator<Item = (f64, usize)>) -> (f64, usize) {
    v.fold((f64::NEG_INFINITY, 0), |a, b| if b.0 > a.0 { b } else { a })
}

fn list(names: &[String], max: usize) -> String {
    if names.is_empty() {
        return "none".into();
    }
    let mut s = names
        .iter()
        .take(max)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > max {
        let _ = write!(s, " and {} more", names.len() - max);
    }
    s
}

/// The evaluation in five lines, beginning `HHI`, `RSI`, `pivotal`,
/// `conduct` and `impact` (plus a statistics line).
pub fn summary_lines(e: &Evaluation) -> Vec<String> {
    let n = e.intervals.max(1);
    let s = &e.structure;
    let (hc, hc_at) = peak(s.iter().map(|i| (i.hhi_capacity, i.interval)));
    let (he, he_at) = peak(s.iter().map(|i| (i.hhi_energy, i.interval)));
    let hhi = format!(
        "HHI      capacity mean {:.0} (max {:.0} at interval {hc_at}), energy mean {:.0} (max {:.0} at interval {he_at}); {} suppliers",
        mean(s.iter().map(|i| i.hhi_capacity)),
        hc,
        mean(s.iter().map(|i| i.hhi_energy)),
        he,
        e.suppliers.len()
    );
    let lowest = e
        .suppliers
        .iter()
        .min_by(|a, b| a.min_rsi.total_cmp(&b.min_rsi));
    let below = s.iter().filter(|i| i.min_rsi < 1.0).count();
    let ever: Vec<String> = e
        .suppliers
        .iter()
        .filter(|x| x.intervals_rsi_below_1 > 0)
        .map(|x| format!("{} {}/{n}", x.member_id, x.intervals_rsi_below_1))
        .collect();
    let rsi = format!(
        "RSI      lowest {} ({}); intervals with some RSI < 1: {below}/{n} ({:.1} %); suppliers below 1: {}",
        lowest.map_or("-".into(), |x| format!("{:.2}", x.min_rsi)),
        lowest.map_or("-", |x| x.member_id.as_str()),
        100.0 * below as f64 / n as f64,
        list(&ever, 4)
    );
    let tps = s.iter().filter(|i| !i.three_pivotal.is_empty()).count();
    let binding: usize = s.iter().map(|i| i.constraints.len()).sum();
    let failing_c: usize = s
        .iter()
        .map(|i| {
            i.constraints
                .iter()
                .filter(|c| !c.failing.is_empty())
                .count()
        })
        .sum();
    let mut relief: Vec<String> = e
        .suppliers
        .iter()
        .filter(|x| x.intervals_relief_pivotal > 0)
        .map(|x| x.member_id.clone())
        .collect();
    relief.sort();
    let pivotal = format!(
        "pivotal  single pivotal in {below}/{n} intervals; three-pivotal test failed in {tps}/{n}; congested sub-markets: {binding} binding constraint-intervals, {failing_c} with jointly pivotal suppliers ({})",
        list(&relief, 4)
    );
    let cost = e
        .conduct
        .iter()
        .filter(|c| c.reference_basis == Some(super::ReferenceBasis::Cost))
        .count();
    let offers = e
        .conduct
        .iter()
        .filter(|c| c.reference_basis == Some(super::ReferenceBasis::Offers))
        .count();
    let failed: Vec<String> = e
        .conduct
        .iter()
        .filter(|c| !c.failed_intervals.is_empty())
        .map(|c| {
            format!(
                "{} in {} intervals, {:.0} MWh above threshold",
                c.unit_id,
                c.failed_intervals.len(),
                c.flagged_mwh
            )
        })
        .collect();
    let econ = e
        .conduct
        .iter()
        .filter(|c| !c.economic_withholding_intervals.is_empty())
        .count();
    let phys = e.conduct.iter().filter(|c| c.physical.flagged).count();
    let change = e
        .conduct
        .iter()
        .filter(|c| c.offer_change.is_some_and(|o| o.flagged))
        .count();
    let conduct = format!(
        "conduct  {} units screened ({cost} against cost, {offers} against their competitive offers): {} failed ({}); economic withholding {econ}, physical withholding {phys}, offer-curve changes {change}",
        e.conduct.len(),
        failed.len(),
        list(&failed, 3)
    );
    let lerner: Vec<f64> = e.lerner.iter().filter_map(|l| l.mean).collect();
    let lerner_txt = if lerner.is_empty() {
        "no marginal unit with a reference".to_string()
    } else {
        format!(
            "mean {:.3} over {} marginal units (max {:.3})",
            mean(lerner.iter().copied()),
            lerner.len(),
            e.lerner
                .iter()
                .filter_map(|l| l.max)
                .fold(f64::NEG_INFINITY, f64::max)
        )
    };
    let i = &e.impact;
    let impact = if i.reclear_run {
        let pct = if i.consumer_cost_before.abs() > 0.0 {
            100.0 * i.consumer_cost_change / i.consumer_cost_before
        } else {
            0.0
        };
        let eligible: Vec<String> = i
            .eligible
            .iter()
            .map(|m| format!("{} in {} intervals", m.unit_id, m.intervals.len()))
            .collect();
        format!(
            "impact   re-clear with {} unit(s) mitigated to reference: max LMP fall {:.2}/MWh, mean change {:+.2}/MWh, consumer cost {:+.0} ({:+.2} %); mitigation-eligible: {}; Lerner {lerner_txt}",
            i.mitigated_units.len(),
            i.max_lmp_fall_per_mwh,
            i.mean_lmp_change_per_mwh,
            i.consumer_cost_change,
            pct,
            list(&eligible, 3)
        )
    } else {
        format!(
            "impact   no unit failed conduct, so no re-clear and nothing mitigation-eligible; Lerner {lerner_txt}"
        )
    };
    let st = &e.statistics;
    let stats = format!(
        "stats    {:.0} MWh served, LMP p5/p50/p95 {:.2}/{:.2}/{:.2} (load-weighted mean {:.2}), DA-RT spread {}, congestion rent {:.0}, uplift {:.0}",
        st.served_mwh,
        st.prices.p5,
        st.prices.p50,
        st.prices.p95,
        st.prices.weighted_mean,
        st.da_rt_spread_mean_per_mwh
            .map_or("n/a (no real-time run)".into(), |v| format!("{v:+.2}")),
        st.congestion_rent,
        st.uplift
    );
    vec![hhi, rsi, pivotal, conduct, impact, stats]
}

/// The daily evaluation report in Markdown; `figure` names the SVG file
/// written beside it.
pub fn evaluation_markdown(e: &Evaluation, figure: Option<&str>) -> String {
    let mut md = String::new();
    let day = e.trading_day.format("%Y-%m-%d");
    let _ = writeln!(md, "# Market evaluation, trading day {day}\n");
    let _ = writeln!(
        md,
        "Session {}, {} intervals of {} minutes; clearing input {}. Formulas and thresholds: docs/market-evaluation.md.\n",
        e.session_id,
        e.intervals,
        e.interval_minutes,
        &e.run_fingerprint[..e.run_fingerprint.len().min(12)]
    );
    let _ = writeln!(md, "## Summary\n\n```");
    for l in summary_lines(e) {
        let _ = writeln!(md, "{l}");
    }
    let _ = writeln!(md, "```\n");
    if let Some(f) = figure {
        let _ = writeln!(md, "![HHI, minimum RSI and LMP by interval]({f})\n");
    }
    let _ = writeln!(md, "## Suppliers\n");
    let _ = writeln!(
        md,
        "| supplier | capacity MWh | energy MWh | min RSI | intervals RSI < 1 | three-pivotal | relief-pivotal |\n|---|---:|---:|---:|---:|---:|---:|"
    );
    for s in &e.suppliers {
        let _ = writeln!(
            md,
            "| {} | {:.1} | {:.1} | {:.3} | {} ({:.1} %) | {} | {} |",
            s.member_id,
            s.capacity_mwh,
            s.energy_mwh,
            s.min_rsi,
            s.intervals_rsi_below_1,
            100.0 * s.share_rsi_below_1,
            s.intervals_three_pivotal,
            s.intervals_relief_pivotal
        );
    }
    let _ = writeln!(
        md,
        "\n## Binding constraints and their relief sub-markets\n"
    );
    let rows: Vec<_> = e
        .structure
        .iter()
        .flat_map(|i| i.constraints.iter().map(move |c| (i.interval, c)))
        .collect();
    if rows.is_empty() {
        let _ = writeln!(md, "No line or section was binding.");
    } else {
        let _ = writeln!(
            md,
            "| interval | constraint | shadow price | relief demand MW | relief supply MW | jointly pivotal |\n|---:|---|---:|---:|---:|---|"
        );
        for (t, c) in rows {
            let _ = writeln!(
                md,
                "| {t} | {} | {:.2} | {:.1} | {:.1} | {} |",
                c.constraint,
                c.shadow_price_per_mwh,
                c.relief_demand_mw,
                c.relief_supply_mw,
                list(&c.failing, 6)
            );
        }
    }
    let _ = writeln!(md, "\n## Conduct\n");
    let _ = writeln!(
        md,
        "| unit | member | reference | failed intervals | MWh above | max excess | econ. withholding (max share) | physical (unexplained MW) | offer change |\n|---|---|---|---:|---:|---:|---:|---:|---:|"
    );
    for c in &e.conduct {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {:.1} | {:.2} | {} ({:.0} %) | {:.1}{} | {} |",
            c.unit_id,
            c.member_id,
            match c.reference_basis {
                Some(super::ReferenceBasis::Cost) => "cost",
                Some(super::ReferenceBasis::Offers) => "offers",
                None => "none",
            },
            c.failed_intervals.len(),
            c.flagged_mwh,
            c.max_excess_per_mwh,
            c.economic_withholding_intervals.len(),
            100.0 * c.economic_withholding_max_share,
            c.physical.unexplained_mw,
            if c.physical.flagged { " flagged" } else { "" },
            c.offer_change
                .map_or("-".into(), |o| format!("{:+.1} %", o.mean_change_percent))
        );
    }
    let _ = writeln!(md, "\n## Impact\n");
    let i = &e.impact;
    if i.reclear_run {
        let _ = writeln!(
            md,
            "Re-cleared with {} mitigated: consumer cost {:.0} → {:.0} ({:+.0}).\n",
            i.mitigated_units.join(", "),
            i.consumer_cost_before,
            i.consumer_cost_after,
            i.consumer_cost_change
        );
        let _ = writeln!(
            md,
            "| bus | mean LMP change | max LMP fall |\n|---:|---:|---:|"
        );
        for b in &i.bus_changes {
            let _ = writeln!(
                md,
                "| {} | {:+.2} | {:.2} |",
                b.bus, b.mean_change_per_mwh, b.max_fall_per_mwh
            );
        }
        for m in &i.eligible {
            let _ = writeln!(
                md,
                "\nMitigation-eligible: {} ({}) in intervals {:?}.",
                m.unit_id, m.member_id, m.intervals
            );
        }
    } else {
        let _ = writeln!(md, "No unit failed conduct; no re-clear was needed.");
    }
    let _ = writeln!(md, "\n## Lerner index of marginal units\n");
    let _ = writeln!(
        md,
        "| unit | intervals marginal | mean | max |\n|---|---:|---:|---:|"
    );
    for l in &e.lerner {
        let f = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.3}"));
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} |",
            l.unit_id,
            l.intervals_marginal,
            f(l.mean),
            f(l.max)
        );
    }
    let _ = writeln!(md, "\n## Alerts\n");
    if e.alerts.is_empty() {
        let _ = writeln!(md, "None.");
    }
    for a in &e.alerts {
        let _ = writeln!(md, "- {a}");
    }
    md
}

/// The report's SVG figure (one palette, voltex-charts).
pub fn evaluation_svg(e: &Evaluation) -> Result<String, voltex_charts::ChartError> {
    voltex_charts::render_svg(&evaluation_figure(e))
}

/// A portrait's SVG figure.
pub fn portrait_svg(p: &MemberPortrait) -> Result<String, voltex_charts::ChartError> {
    voltex_charts::render_svg(&portrait_figure(p))
}

/// HHI (capacity and energy), minimum RSI and the price range per interval.
pub fn evaluation_figure(e: &Evaluation) -> Figure {
    let s = &e.structure;
    let hhi = Panel::new(
        "Concentration (HHI)",
        "interval",
        "HHI",
        vec![
            Series::indexed("capacity", s.iter().map(|i| i.hhi_capacity)).coloured(Colour::Blue),
            Series::indexed("energy", s.iter().map(|i| i.hhi_energy)).coloured(Colour::Orange),
        ],
    )
    .with_zero();
    let rsi = Panel::new(
        "Lowest residual supply index",
        "interval",
        "RSI",
        vec![
            Series::indexed(
                "min RSI",
                s.iter().map(|i| {
                    if i.min_rsi.is_finite() {
                        i.min_rsi
                    } else {
                        0.0
                    }
                }),
            )
            .coloured(Colour::Green),
            Series::indexed("pivotal (RSI = 1)", s.iter().map(|_| 1.0)).coloured(Colour::Ink),
        ],
    )
    .with_zero();
    let mut prices = vec![
        Series::indexed("lowest LMP", s.iter().map(|i| i.lmp_min_per_mwh)).coloured(Colour::Blue),
        Series::indexed("highest LMP", s.iter().map(|i| i.lmp_max_per_mwh)).coloured(Colour::Red),
    ];
    if e.impact.reclear_run {
        prices.push(
            Series::indexed(
                "highest LMP, mitigated",
                e.impact
                    .mitigated_lmp
                    .iter()
                    .map(|r| r.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
            )
            .coloured(Colour::Purple),
        );
    }
    let lmp = Panel::new("Prices", "interval", "LMP per MWh", prices);
    Figure::stack(vec![hhi, rsi, lmp])
}

/// A member's bidding pattern across the day against the price it met.
pub fn portrait_figure(p: &MemberPortrait) -> Figure {
    let offers = Panel::new(
        format!("{}: offers across the day", p.member_id),
        "interval",
        "per MWh",
        vec![
            Series::indexed(
                "mean offer price",
                p.mean_offer_price.iter().map(|v| v.unwrap_or(0.0)),
            )
            .coloured(Colour::Blue),
            Series::indexed("LMP at its bus", p.lmp.iter().copied()).coloured(Colour::Ink),
        ],
    );
    let mw = Panel::new(
        "Offered capacity",
        "interval",
        "MW",
        vec![Series::indexed("offered", p.offered_mw.iter().copied()).coloured(Colour::Green)],
    )
    .with_zero();
    Figure::stack(vec![offers, mw])
}

/// The alerts an evaluation raises, each with its evidence.
pub(crate) fn alerts(run: &ClearingRun, e: &Evaluation, now: DateTime<Utc>) -> Vec<MarketAlert> {
    let index = run.input.network.bus_index();
    let mut out = Vec::new();
    for (u, c) in e.conduct.iter().enumerate() {
        let unit = &run.input.units[u];
        let base = |kind: AlertKind,
                    intervals: Vec<usize>,
                    finding: String,
                    evidence: AlertEvidence| MarketAlert {
            trading_day: e.trading_day,
            session_id: e.session_id.clone(),
            kind,
            member_id: c.member_id.clone(),
            unit_id: c.unit_id.clone(),
            intervals,
            finding,
            evidence,
            raised_at: now,
        };
        let evidence_for = |intervals: &[usize]| AlertEvidence {
            reference_basis: c.reference_basis,
            reference: c.reference.clone(),
            offers: intervals
                .iter()
                .map(|t| OfferEvidence {
                    interval: *t,
                    offer: steps(run.input.offer(u, t - 1)),
                    screen: c.screens.iter().find(|s| s.0 == *t).map(|s| s.1.clone()),
                })
                .collect(),
            reclear: e.impact.reclear_run.then(|| {
                let b = index[&unit.bus];
                ReclearEvidence {
                    bus: unit.bus,
                    lmp: intervals
                        .iter()
                        .map(|t| {
                            (
                                *t,
                                run.result.results[t - 1].lmp[b].lmp_per_mwh,
                                e.impact.mitigated_lmp[t - 1][b],
                            )
                        })
                        .collect(),
                    consumer_cost_change: e.impact.consumer_cost_change,
                }
            }),
            figures: serde_json::Value::Null,
        };
        if !c.failed_intervals.is_empty() {
            out.push(base(
                AlertKind::Conduct,
                c.failed_intervals.clone(),
                format!(
                    "offers above the conduct threshold in {} intervals ({:.1} MWh, up to {:.2}/MWh above it)",
                    c.failed_intervals.len(),
                    c.flagged_mwh,
                    c.max_excess_per_mwh
                ),
                evidence_for(&c.failed_intervals),
            ));
        }
        if let Some(m) = e.impact.eligible.iter().find(|m| m.unit_id == c.unit_id) {
            out.push(base(
                AlertKind::MitigationEligible,
                m.intervals.clone(),
                format!(
                    "conduct and impact thresholds both crossed in {} intervals",
                    m.intervals.len()
                ),
                evidence_for(&m.intervals),
            ));
        }
        if !c.economic_withholding_intervals.is_empty() {
            let mut ev = evidence_for(&c.economic_withholding_intervals);
            ev.figures = serde_json::json!({
                "max_share_at_high_price": c.economic_withholding_max_share,
                "high_price_fraction_of_cap": e.thresholds.high_price_fraction_of_cap,
            });
            out.push(base(
                AlertKind::EconomicWithholding,
                c.economic_withholding_intervals.clone(),
                format!(
                    "up to {:.0} % of available capacity offered at a high price",
                    100.0 * c.economic_withholding_max_share
                ),
                ev,
            ));
        }
        if c.physical.flagged {
            let mut ev = evidence_for(&[]);
            ev.figures = serde_json::to_value(c.physical).unwrap_or_default();
            out.push(base(
                AlertKind::PhysicalWithholding,
                vec![],
                format!(
                    "declared {:.1} MW of {:.1} MW registered, {:.1} MW not explained by an outage notice",
                    c.physical.declared_mw, c.physical.registered_mw, c.physical.unexplained_mw
                ),
                ev,
            ));
        }
        if let Some(o) = c.offer_change.filter(|o| o.flagged) {
            let mut ev = evidence_for(&[]);
            ev.figures = serde_json::to_value(o).unwrap_or_default();
            out.push(base(
                AlertKind::OfferChange,
                vec![],
                format!(
                    "mean offer price moved {:+.1} % from the previous day ({:.2} → {:.2})",
                    o.mean_change_percent, o.previous_mean_per_mwh, o.mean_per_mwh
                ),
                ev,
            ));
        }
    }
    out
}
