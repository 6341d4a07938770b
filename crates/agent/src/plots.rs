//! The agent study's charts: cumulative profit curves and the two-day
//! strategy plot (actions against prices), as voltex-charts figures.
//! Choosing series only; no numbers are computed here and the look is
//! voltex-charts' palette.

use std::path::Path;

use voltex_charts::{Colour, Figure, Legend, Panel, Series};

use crate::env::StepRecord;
use crate::error::Result;

/// One line per policy: cumulative profit minus cumulative all-day-ahead profit.
pub fn excess_profit_figure(title: &str, currency: &str, curves: &[(String, Vec<f64>)]) -> Figure {
    let series = curves
        .iter()
        .map(|(name, curve)| Series::indexed(name.as_str(), curve.iter().copied()))
        .collect();
    Figure::single(
        Panel::new(
            title,
            "test interval",
            format!("cumulative profit − all-day-ahead ({currency})"),
            series,
        )
        .with_zero()
        .legend(Legend::UpperLeft),
    )
}

/// Top panel: DA and RT prices; one panel per policy: a₁ (day-ahead share of
/// D̂), a₂ (shift share of the limit) and the storage level over the largest
/// |storage| of all policies. No panels when there are no policies.
pub fn strategy_figure(
    market: &str,
    currency: &str,
    policies: &[(String, Vec<StepRecord>)],
) -> Figure {
    let Some((_, first)) = policies.first() else {
        return Figure::stack(vec![]);
    };
    let has_da = first.iter().any(|s| s.da_price_per_mwh != 0.0);
    let mut prices = vec![
        Series::indexed("real-time price", first.iter().map(|s| s.rt_price_per_mwh))
            .coloured(Colour::Blue),
    ];
    if has_da {
        prices.push(
            Series::indexed("day-ahead price", first.iter().map(|s| s.da_price_per_mwh))
                .coloured(Colour::Orange),
        );
    }
    let n = first.len().max(1) as f64;
    let mut panels = vec![
        Panel::new(
            format!("{market}: prices over the first two test days"),
            "",
            format!("{currency}/MWh"),
            prices,
        )
        .x_range(0.0, n),
    ];
    let e_max = policies
        .iter()
        .flat_map(|p| p.1.iter().map(|s| s.storage_mwh.abs()))
        .fold(1e-9, f64::max);
    for (name, steps) in policies {
        let mut lines = Vec::new();
        if has_da {
            lines.push(
                Series::indexed(
                    "a1 day-ahead (share of D̂)",
                    steps.iter().map(|s| s.action.a1_day_ahead),
                )
                .coloured(Colour::Green),
            );
        }
        lines.push(
            Series::indexed(
                "a2 shift (share of limit)",
                steps.iter().map(|s| s.action.a2_shift),
            )
            .coloured(Colour::Red),
        );
        lines.push(
            Series::indexed(
                "storage / max |storage| shown",
                steps.iter().map(|s| s.storage_mwh / e_max),
            )
            .coloured(Colour::Purple),
        );
        panels.push(
            Panel::new(format!("{name}: actions"), "", "", lines)
                .x_range(0.0, n)
                .y_range(-1.1, 1.6),
        );
    }
    Figure::stack(panels)
}

/// Write [`excess_profit_figure`] to `path`.
pub fn excess_profit_svg(
    path: &Path,
    title: &str,
    currency: &str,
    curves: &[(String, Vec<f64>)],
) -> Result<()> {
    Ok(voltex_charts::write_svg(
        path,
        &excess_profit_figure(title, currency, curves),
    )?)
}

/// Write [`strategy_figure`] to `path`.
pub fn strategy_svg(
    path: &Path,
    market: &str,
    currency: &str,
    policies: &[(String, Vec<StepRecord>)],
) -> Result<()> {
    Ok(voltex_charts::write_svg(
        path,
        &strategy_figure(market, currency, policies),
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Action;
    use voltex_charts::palette::foreign_colours;
    use voltex_charts::{ChartError, render_svg};

    fn steps(n: usize, da: f64) -> Vec<StepRecord> {
        (0..n)
            .map(|t| StepRecord {
                t,
                action: Action {
                    a1_day_ahead: 0.8,
                    a2_shift: if t % 2 == 0 { 0.5 } else { -0.5 },
                },
                demand_mw: 100.0,
                demand_forecast_mw: 98.0,
                q_day_ahead_mw: 80.0,
                shift_mw: 3.0,
                storage_mwh: t as f64,
                da_price_per_mwh: da,
                rt_price_per_mwh: 20.0 + t as f64,
                profit: 1.0,
                all_real_time_profit: 0.5,
                learning_reward: 0.1,
            })
            .collect()
    }

    #[test]
    fn strategy_figure_has_a_price_panel_and_one_panel_per_policy_in_palette_colours() {
        let policies = vec![
            ("rule".to_string(), steps(48, 25.0)),
            ("lp".to_string(), steps(48, 25.0)),
        ];
        let figure = strategy_figure("isone", "USD", &policies);
        assert_eq!(figure.panels.len(), 3);
        assert_eq!(figure.panels[0].series.len(), 2, "real-time and day-ahead");
        assert_eq!(figure.panels[1].series.len(), 3, "a1, a2, storage");
        let svg = render_svg(&figure).unwrap();
        assert!(
            foreign_colours(&svg).is_empty(),
            "{:?}",
            foreign_colours(&svg)
        );
    }

    #[test]
    fn without_day_ahead_prices_the_strategy_shows_no_a1() {
        let figure = strategy_figure("aemo", "AUD", &[("rule".to_string(), steps(10, 0.0))]);
        assert_eq!(figure.panels[0].series.len(), 1);
        assert_eq!(figure.panels[1].series.len(), 2);
    }

    #[test]
    fn a_strategy_without_policies_is_refused_not_drawn_empty() {
        let figure = strategy_figure("isone", "USD", &[]);
        assert!(matches!(render_svg(&figure), Err(ChartError::NoPanels)));
    }

    #[test]
    fn excess_profit_draws_one_line_per_policy_and_shows_zero() {
        let curves = vec![
            ("a".to_string(), vec![1.0, 2.0, 3.0]),
            ("b".to_string(), vec![2.0, 4.0, 5.0]),
        ];
        let figure = excess_profit_figure("t", "USD", &curves);
        assert_eq!(figure.panels[0].series.len(), 2);
        assert!(figure.panels[0].y_with_zero);
        let svg = render_svg(&figure).unwrap();
        assert!(foreign_colours(&svg).is_empty());
    }
}
