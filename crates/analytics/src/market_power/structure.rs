//! Structure indices of one interval: who could set the price.
//!
//! Suppliers are numbered `0..n`; callers sum their units' figures per
//! supplier with [`by_supplier`]. Formulas (docs/market-evaluation.md):
//!
//! - HHI = Σ_i (100 · s_i)², s_i = x_i / Σ_j x_j (0 to 10 000; US DOJ/FTC).
//! - RSI_i = (Σ_j C_j − C_i) / D (CAISO, FERC): supplier i is pivotal when
//!   RSI_i < 1, i.e. demand cannot be met without it.
//! - Three-pivotal-supplier test (PJM): supplier i fails when the supply
//!   left after removing i and the two largest other suppliers is below
//!   demand: (Σ_j C_j − C_i − C_(1) − C_(2)) / D < 1.
//! - Relief sub-market of a binding constraint (PJM's TPS on constraints):
//!   supply = Σ over units of |shift factor| × the MW the unit can move in
//!   the helpful direction; demand = the relief the constrained dispatch
//!   provides over the merit-order one.
use super::Step;

/// Sums per-unit `values` per supplier (`supplier_of[u]` in `0..n`).
pub fn by_supplier(supplier_of: &[usize], n: usize, values: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; n];
    for (s, v) in supplier_of.iter().zip(values) {
        out[*s] += v;
    }
    out
}

/// Herfindahl–Hirschman index of per-supplier quantities, 0 to 10 000; 0 when
/// nothing is there.
pub fn hhi(per_supplier: &[f64]) -> f64 {
    let total: f64 = per_supplier.iter().map(|x| x.max(0.0)).sum();
    if total <= 0.0 {
        return 0.0;
    }
    per_supplier
        .iter()
        .map(|x| {
            let s = 100.0 * x.max(0.0) / total;
            s * s
        })
        .sum()
}

/// Residual supply index of each supplier: (total − own) / demand;
/// infinite when demand is not positive.
pub fn rsi(supply: &[f64], demand_mw: f64) -> Vec<f64> {
    let total: f64 = supply.iter().sum();
    supply
        .iter()
        .map(|c| {
            if demand_mw > 0.0 {
                (total - c) / demand_mw
            } else {
                f64::INFINITY
            }
        })
        .collect()
}

/// Suppliers without whom demand cannot be met (RSI < 1).
pub fn pivotal_suppliers(supply: &[f64], demand_mw: f64) -> Vec<usize> {
    rsi(supply, demand_mw)
        .iter()
        .enumerate()
        .filter(|(_, r)| **r < 1.0)
        .map(|(i, _)| i)
        .collect()
}

/// The outcome of the three-pivotal-supplier test on one market.
#[derive(Debug, Clone, PartialEq)]
pub struct ThreePivotal {
    /// RSI with the supplier and the two largest others removed, per supplier.
    pub rsi3: Vec<f64>,
    /// Suppliers that fail (jointly pivotal with the two largest others).
    pub failing: Vec<usize>,
}

/// PJM's three-pivotal-supplier test: for each supplier, remove it and the
/// two largest other suppliers; it fails when the rest cannot meet demand.
/// With three suppliers or fewer every supplier fails whenever demand is
/// positive.
pub fn three_pivotal(supply: &[f64], demand_mw: f64) -> ThreePivotal {
    let total: f64 = supply.iter().sum();
    // the three largest, so "two largest others" is known for everyone
    let mut top: Vec<usize> = (0..supply.len()).collect();
    top.sort_by(|a, b| supply[*b].total_cmp(&supply[*a]));
    top.truncate(3);
    let rsi3: Vec<f64> = (0..supply.len())
        .map(|i| {
            let others: f64 = top
                .iter()
                .filter(|j| **j != i)
                .take(2)
                .map(|j| supply[*j])
                .sum();
            if demand_mw > 0.0 {
                (total - supply[i] - others) / demand_mw
            } else {
                f64::INFINITY
            }
        })
        .collect();
    let failing = rsi3
        .iter()
        .enumerate()
        .filter(|(_, r)| **r < 1.0)
        .map(|(i, _)| i)
        .collect();
    ThreePivotal { rsi3, failing }
}

/// One unit as the relief sub-market of a constraint sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReliefUnit<'a> {
    pub supplier: usize,
    /// MW of constraint flow per MW injected at the unit's bus (withdrawn at
    /// the reference bus).
    pub shift_factor: f64,
    pub output_mw: f64,
    /// Lowest output the unit can go down to (its pmin when on).
    pub min_mw: f64,
    /// The unit's offer above `min_mw`, stacked (what it can go up on).
    pub offer: &'a [Step],
    /// LMP at the unit's bus, for the price band on incremental capacity.
    pub lmp_per_mwh: f64,
}

/// Effective relief each supplier can give a constraint whose flow binds in
/// direction `direction` (+1: at its upper limit, −1: at its lower): units
/// with a shift factor of the right sign can raise output on segments
/// priced within `price_band` × their bus LMP, units of the other sign can
/// lower output to their minimum; each MW counts |shift factor| MW of
/// relief. Units with |shift factor| below `min_shift_factor` do not count.
pub fn relief_supply(
    units: &[ReliefUnit<'_>],
    n_suppliers: usize,
    direction: f64,
    min_shift_factor: f64,
    price_band: f64,
) -> Vec<f64> {
    let mut out = vec![0.0; n_suppliers];
    for u in units {
        let sf = u.shift_factor * direction.signum();
        if sf.abs() < min_shift_factor {
            continue;
        }
        let movable = if sf < 0.0 {
            let limit = price_band * u.lmp_per_mwh.max(0.0);
            let mut from = u.min_mw;
            let mut up = 0.0;
            for s in u.offer {
                let to = from + s.quantity_mw;
                if s.price_per_mwh <= limit {
                    up += (to.max(u.output_mw) - from.max(u.output_mw)).max(0.0);
                }
                from = to;
            }
            up
        } else {
            (u.output_mw - u.min_mw).max(0.0)
        };
        out[u.supplier] += sf.abs() * movable;
    }
    out
}

/// Relief the constrained dispatch gives a constraint over the merit-order
/// dispatch: direction × Σ_u sf_u (merit_u − actual_u), floored at 0. Both
/// dispatches must serve the same total, so the reference bus absorbs
/// nothing and the difference of flows is exactly this sum.
pub fn relief_demand(
    shift_factor: &[f64],
    merit_mw: &[f64],
    actual_mw: &[f64],
    direction: f64,
) -> f64 {
    let d: f64 = shift_factor
        .iter()
        .zip(merit_mw.iter().zip(actual_mw))
        .map(|(sf, (m, a))| sf * (m - a))
        .sum();
    (direction.signum() * d).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hhi_of_equal_shares_is_ten_thousand_over_n() {
        assert!((hhi(&[25.0, 25.0, 25.0, 25.0]) - 2500.0).abs() < 1e-9);
        assert!((hhi(&[7.0; 5]) - 2000.0).abs() < 1e-9);
        assert!((hhi(&[100.0]) - 10_000.0).abs() < 1e-9);
        assert_eq!(hhi(&[0.0, 0.0]), 0.0);
        // 60/40: 3600 + 1600
        assert!((hhi(&[600.0, 400.0]) - 5200.0).abs() < 1e-9);
    }

    #[test]
    fn units_sum_per_supplier() {
        assert_eq!(
            by_supplier(&[0, 1, 0, 2], 3, &[1.0, 2.0, 3.0, 4.0]),
            vec![4.0, 2.0, 4.0]
        );
    }

    #[test]
    fn a_supplier_with_sixty_percent_of_capacity_is_pivotal_at_peak_demand() {
        // 1000 MW installed, supplier 0 holds 600; peak demand 800 MW.
        let supply = [600.0, 200.0, 200.0];
        let r = rsi(&supply, 800.0);
        assert!((r[0] - 0.5).abs() < 1e-12);
        assert!((r[1] - 1.0).abs() < 1e-12);
        assert_eq!(pivotal_suppliers(&supply, 800.0), vec![0]);
        // off-peak 350 MW: nobody is pivotal
        assert!(pivotal_suppliers(&supply, 350.0).is_empty());
    }

    #[test]
    fn three_pivotal_suppliers_fail_together_when_the_rest_cannot_serve() {
        // five suppliers of 100 MW, demand 250: removing any three leaves 200
        let supply = [100.0; 5];
        let t = three_pivotal(&supply, 250.0);
        assert_eq!(t.failing, vec![0, 1, 2, 3, 4]);
        assert!((t.rsi3[0] - 0.8).abs() < 1e-12);
        // demand 200: the rest (200) suffices
        assert!(three_pivotal(&supply, 200.0).failing.is_empty());
        // one big and many small: the small ones fail with the two largest
        let supply = [500.0, 100.0, 100.0, 50.0, 50.0];
        let t = three_pivotal(&supply, 200.0);
        // remove 4 (50) + 500 + 100 → 150 left < 200
        assert!(t.failing.contains(&4));
        // remove 0 (500) + two largest others (100, 100) → 100 left
        assert!(t.failing.contains(&0));
    }

    #[test]
    fn relief_counts_units_that_can_move_the_constrained_flow() {
        let offer = [
            Step {
                quantity_mw: 50.0,
                price_per_mwh: 20.0,
            },
            Step {
                quantity_mw: 50.0,
                price_per_mwh: 90.0,
            },
        ];
        let units = [
            // helps by going up (negative sf on a flow at its upper limit):
            // 50 MW within 1.5 × 40 = 60, the 90-priced step is too dear
            ReliefUnit {
                supplier: 0,
                shift_factor: -0.5,
                output_mw: 0.0,
                min_mw: 0.0,
                offer: &offer,
                lmp_per_mwh: 40.0,
            },
            // helps by going down 80 MW at sf 0.25
            ReliefUnit {
                supplier: 1,
                shift_factor: 0.25,
                output_mw: 100.0,
                min_mw: 20.0,
                offer: &offer,
                lmp_per_mwh: 10.0,
            },
            // too weak a shift factor
            ReliefUnit {
                supplier: 1,
                shift_factor: 0.01,
                output_mw: 100.0,
                min_mw: 0.0,
                offer: &offer,
                lmp_per_mwh: 10.0,
            },
        ];
        let s = relief_supply(&units, 2, 1.0, 0.05, 1.5);
        assert!((s[0] - 25.0).abs() < 1e-12, "{s:?}");
        assert!((s[1] - 20.0).abs() < 1e-12, "{s:?}");
        // flow at its lower limit: the roles swap
        let s = relief_supply(&units, 2, -1.0, 0.05, 1.5);
        assert_eq!(s[0], 0.0);
        assert_eq!(s[1], 0.0, "unit 1 is at 100 MW with nothing cheap above");
        // merit order would put 100 MW on the sf 0.25 unit instead of the
        // −0.5 one: the constraint needs 0.25·100 + 0.5·100 = 75 MW of relief
        let d = relief_demand(&[-0.5, 0.25], &[0.0, 200.0], &[100.0, 100.0], 1.0);
        assert!((d - 75.0).abs() < 1e-12);
        assert_eq!(
            relief_demand(&[-0.5, 0.25], &[0.0, 200.0], &[100.0, 100.0], -1.0),
            0.0
        );
    }
}
