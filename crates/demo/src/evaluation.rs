//! After the day, the market monitor's look at it: the operator registers
//! each unit's cost-based reference level (the case's cost curve in yuan,
//! without the companies' bidding markup) and evaluates the day-ahead
//! market: concentration, pivotal suppliers (also behind binding lines),
//! conduct against the references, the impact re-clear and the day's
//! statistics (`voltex_market::evaluation`).
use anyhow::Context;
use voltex_analytics::market_power::Step;
use voltex_clearing::input::steps_from_cost;
use voltex_market::Market;
use voltex_market::evaluation::{Evaluation, ReferenceLevel, Thresholds, summary_lines};

use crate::DemoOptions;
use crate::declarations::{OFFER_SEGMENTS, YUAN_PER_DOLLAR};
use crate::summary::DemoSummary;

/// Registers the units' reference levels and evaluates the demo's day.
pub async fn evaluate(
    market: &Market,
    opts: &DemoOptions,
    summary: &DemoSummary,
) -> anyhow::Result<Evaluation> {
    let case = voltex_formats::matpower::parse_case_file(&opts.case_path)
        .with_context(|| format!("demo input {}", opts.case_path.display()))?;
    let op = market.operator().await?;
    for (unit, g) in summary.units.iter().zip(&case.generators) {
        let steps = steps_from_cost(&g.cost, 0.0, unit.pmax_mw, OFFER_SEGMENTS)
            .iter()
            .map(|s| Step {
                quantity_mw: s.quantity_mw,
                price_per_mwh: s.price_per_mwh * YUAN_PER_DOLLAR,
            })
            .collect();
        market
            .register_reference_level(
                &op,
                ReferenceLevel {
                    unit_id: unit.id.clone(),
                    member_id: String::new(),
                    steps,
                    source: format!(
                        "case cost curve of {} (×{YUAN_PER_DOLLAR} yuan/$)",
                        case.network.name
                    ),
                },
            )
            .await?;
    }
    Ok(market
        .evaluate_day(&op, opts.trading_day, &Thresholds::default())
        .await?)
}

/// The evaluation summary as the demo prints it.
pub fn print(e: &Evaluation) {
    println!(
        "\nMarket evaluation of {} (docs/market-evaluation.md)",
        e.session_id
    );
    for line in summary_lines(e) {
        println!("  {line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use voltex_market::MarketError;
    use voltex_model::MarketKind;

    #[tokio::test]
    async fn the_demo_day_is_evaluated_and_members_see_only_their_own_portrait() {
        let dir = tempfile::tempdir().unwrap();
        let store = voltex_store::Store::open_sqlite_dir(dir.path())
            .await
            .unwrap();
        let market = Market::open(store).await.unwrap();
        let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 8).unwrap();
        let opts = DemoOptions::bundled(day);
        let summary = crate::run(&market, &opts).await.unwrap();
        let e = evaluate(&market, &opts, &summary).await.unwrap();

        let lines = summary_lines(&e);
        for (line, start) in lines
            .iter()
            .zip(["HHI", "RSI", "pivotal", "conduct", "impact"])
        {
            assert!(line.starts_with(start), "{line}");
        }
        // five generation companies, every unit screened against its cost
        assert_eq!(e.suppliers.len(), 5);
        assert_eq!(e.conduct.len(), 5);
        assert!(e.conduct.iter().all(|c| c.reference.is_some()));
        // offers are cost plus a 3-12 % markup: competitive, nothing fails
        assert!(
            e.conduct.iter().all(|c| c.failed_intervals.is_empty()),
            "{lines:?}"
        );
        assert_eq!(e.intervals, e.structure.len());

        let op = market.operator().await.unwrap();
        let own = &summary.units[0].member_id;
        let other = &summary.units[1].member_id;
        let member = market.actor(own).await.unwrap();
        let p = market.member_portrait(&member, own, day).await.unwrap();
        assert_eq!(p.units, vec![summary.units[0].id.clone()]);
        assert!(p.capacity_share > 0.0 && p.capacity_share < 1.0);
        assert!(p.settlement.is_some(), "the demo day is settled");
        let refused = market
            .member_portrait(&member, other, day)
            .await
            .unwrap_err();
        assert!(matches!(refused, MarketError::Forbidden(_)), "{refused}");
        assert!(matches!(
            market.alerts(&member, day).await.unwrap_err(),
            MarketError::Forbidden(_)
        ));
        assert!(market.alerts(&op, day).await.is_ok());
        assert!(matches!(
            market
                .evaluate_day(&member, day, &Thresholds::default())
                .await
                .unwrap_err(),
            MarketError::Forbidden(_)
        ));

        // A day whose session is open is not evaluated: a clear error.
        let next = day.succ_opt().unwrap();
        market
            .create_session(&op, MarketKind::DayAheadEnergy, next)
            .await
            .unwrap();
        let err = market
            .evaluate_day(&op, next, &Thresholds::default())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("not cleared yet"), "{err}");
        // A day without any session: not found.
        let none = next.succ_opt().unwrap();
        assert!(matches!(
            market
                .evaluate_day(&op, none, &Thresholds::default())
                .await
                .unwrap_err(),
            MarketError::NotFound { .. }
        ));
    }
}
