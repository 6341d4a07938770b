//! The retailer's wholesale side and its profit: medium/long-term purchase
//! contracts as 24-point volume curves with prices, the monthly trading
//! plan (expected customer demand minus contracted purchases by TOU
//! period), the month's purchase settlement (contracts plus the spot
//! balance of the actual load), the allocation of that cost to customers
//! by their interval load × the interval's purchase price, and profit per
//! customer, per package and for the company. Formulas: docs/retail.md.
//!
//! Must not: touch the store or price a customer's bill.
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::money::{Fen, PricePerKwh, Wh, div_round};
use crate::month::{Month, SLOTS_PER_DAY};
use crate::package::{Period, TouTable};
use crate::rating::Invoice;

/// How a medium/long-term purchase was traded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PurchaseKind {
    Bilateral,
    MonthlyCentralised,
    Listing,
}

/// A purchase contract for one month: kW per hour of the day (24 points),
/// the same every day, at one price.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PurchaseContract {
    pub id: String,
    pub kind: PurchaseKind,
    pub month: Month,
    pub curve_kw: Vec<i64>,
    pub price: PricePerKwh,
}

impl PurchaseContract {
    /// Energy per 15-minute interval of the month: kW × 0.25 h.
    pub fn energy(&self) -> Vec<Wh> {
        (0..self.month.slots())
            .map(|i| self.curve_kw[(i % SLOTS_PER_DAY) / 4] * 250)
            .collect()
    }
}

/// The month's purchase cost, reconciled: contracts plus the spot balance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PurchaseSettlement {
    pub month: Month,
    pub load_wh: Wh,
    pub contracted_wh: Wh,
    /// Load minus contracts, bought (> 0) or sold (< 0) at spot.
    pub spot_wh: Wh,
    pub contract_cost: Fen,
    pub spot_cost: Fen,
    pub total_cost: Fen,
    pub average_price: PricePerKwh,
    /// Cost of each interval in 10⁻⁵ fen (Wh × 0.01 fen/kWh), for allocation.
    #[serde(skip)]
    pub interval_cost: Vec<i128>,
    #[serde(skip)]
    pub interval_load: Vec<Wh>,
}

/// Settles a month: for each interval t, cost_t = Σ_c q_ct·p_c + (L_t −
/// Σ_c q_ct)·λ_t.
pub fn settle(
    month: Month,
    load: &[Wh],
    contracts: &[PurchaseContract],
    spot: &[PricePerKwh],
) -> PurchaseSettlement {
    let n = month.slots();
    let mut contracted = vec![0i64; n];
    let mut contract_raw = vec![0i128; n];
    for c in contracts.iter().filter(|c| c.month == month) {
        for (t, q) in c.energy().into_iter().enumerate() {
            contracted[t] += q;
            contract_raw[t] += q as i128 * c.price.0 as i128;
        }
    }
    let mut interval_cost = vec![0i128; n];
    let (mut craw, mut sraw) = (0i128, 0i128);
    for t in 0..n {
        let s = (load[t] - contracted[t]) as i128 * spot[t].0 as i128;
        interval_cost[t] = contract_raw[t] + s;
        craw += contract_raw[t];
        sraw += s;
    }
    let load_wh: Wh = load.iter().sum();
    let contracted_wh: Wh = contracted.iter().sum();
    let contract_cost = Fen(div_round(craw, 100_000) as i64);
    let spot_cost = Fen(div_round(sraw, 100_000) as i64);
    let average_price = if load_wh > 0 {
        PricePerKwh(div_round(craw + sraw, load_wh as i128) as i64)
    } else {
        PricePerKwh(0)
    };
    PurchaseSettlement {
        month,
        load_wh,
        contracted_wh,
        spot_wh: load_wh - contracted_wh,
        contract_cost,
        spot_cost,
        total_cost: Fen(div_round(craw + sraw, 100_000) as i64),
        average_price,
        interval_cost,
        interval_load: load.to_vec(),
    }
}

impl PurchaseSettlement {
    /// A customer's share of the purchase cost: Σ_t e_ct × cost_t / L_t
    /// (each term rounded to 10⁻⁵ fen, the sum to the fen).
    pub fn allocate(&self, customer_wh: &[Wh]) -> Fen {
        let mut raw = 0i128;
        for (t, e) in customer_wh.iter().enumerate() {
            let l = self.interval_load[t];
            if l > 0 && *e != 0 {
                raw += div_round(*e as i128 * self.interval_cost[t], l as i128);
            }
        }
        Fen(div_round(raw, 100_000) as i64)
    }
}

/// One row of the trading plan.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct PlanRow {
    pub expected_wh: Wh,
    pub contracted_wh: Wh,
    /// Expected minus contracted: to buy (> 0) or to sell (< 0).
    pub to_trade_wh: Wh,
}

/// The monthly trading plan by TOU period: expected customer demand minus
/// contracted purchases.
pub fn trading_plan(
    month: Month,
    expected: &[Wh],
    contracts: &[PurchaseContract],
    table: &TouTable,
) -> BTreeMap<Period, PlanRow> {
    let mut out: BTreeMap<Period, PlanRow> = BTreeMap::new();
    let mut contracted = vec![0i64; month.slots()];
    for c in contracts.iter().filter(|c| c.month == month) {
        for (t, q) in c.energy().into_iter().enumerate() {
            contracted[t] += q;
        }
    }
    for t in 0..month.slots() {
        let p = table.period(month.month, (t % SLOTS_PER_DAY) / 4);
        let row = out.entry(p).or_default();
        row.expected_wh += expected[t];
        row.contracted_wh += contracted[t];
    }
    for row in out.values_mut() {
        row.to_trade_wh = row.expected_wh - row.contracted_wh;
    }
    out
}

/// Profit of one customer-month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerProfit {
    pub customer_id: String,
    pub package_kind: String,
    pub energy_wh: Wh,
    /// Energy and deviation lines of the latest invoice version.
    pub revenue: Fen,
    pub purchase_cost: Fen,
    pub profit: Fen,
}

/// Profit per customer, per package kind and for the company.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfitReport {
    pub month: Month,
    pub customers: Vec<CustomerProfit>,
    pub by_package: BTreeMap<String, Fen>,
    pub revenue: Fen,
    pub purchase_cost: Fen,
    /// Cost not allocated to any customer (rounding, load of no customer).
    pub unallocated_cost: Fen,
    pub profit: Fen,
}

/// Profit = revenue − allocated purchase cost, per customer; the
/// company's profit also subtracts the unallocated remainder.
pub fn profit(settlement: &PurchaseSettlement, invoices: &[(&Invoice, &[Wh])]) -> ProfitReport {
    let mut customers = Vec::new();
    let mut by_package: BTreeMap<String, Fen> = BTreeMap::new();
    for (inv, wh) in invoices {
        let cost = settlement.allocate(wh);
        let p = inv.energy_revenue - cost;
        *by_package.entry(inv.package_kind.clone()).or_default() += p;
        customers.push(CustomerProfit {
            customer_id: inv.customer_id.clone(),
            package_kind: inv.package_kind.clone(),
            energy_wh: inv.energy_wh,
            revenue: inv.energy_revenue,
            purchase_cost: cost,
            profit: p,
        });
    }
    let revenue: Fen = customers.iter().map(|c| c.revenue).sum();
    let allocated: Fen = customers.iter().map(|c| c.purchase_cost).sum();
    let unallocated = settlement.total_cost - allocated;
    ProfitReport {
        month: settlement.month,
        customers,
        by_package,
        revenue,
        purchase_cost: settlement.total_cost,
        unallocated_cost: unallocated,
        profit: revenue - settlement.total_cost,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn month() -> Month {
        Month::parse("2026-02").unwrap() // 28 days
    }

    #[test]
    fn settlement_is_contracts_plus_the_spot_balance() {
        let m = month();
        let n = m.slots();
        // load 100 kWh per interval; contract 200 kW flat (50 kWh/interval) at 0.40;
        // spot 0.30: cost/interval = 50 × 0.40 + 50 × 0.30 = 35 yuan
        let load = vec![100_000; n];
        let c = PurchaseContract {
            id: "B1".into(),
            kind: PurchaseKind::Bilateral,
            month: m,
            curve_kw: vec![200; 24],
            price: PricePerKwh(4000),
        };
        let spot = vec![PricePerKwh(3000); n];
        let s = settle(m, &load, &[c], &spot);
        assert_eq!(s.contracted_wh, 50_000 * n as i64);
        assert_eq!(s.contract_cost, Fen(2000 * n as i64));
        assert_eq!(s.spot_cost, Fen(1500 * n as i64));
        assert_eq!(s.total_cost, Fen(3500 * n as i64));
        assert_eq!(s.average_price, PricePerKwh(3500));
        // a customer with a quarter of the load carries a quarter of the cost
        let share = vec![25_000; n];
        assert_eq!(s.allocate(&share), Fen(875 * n as i64));
    }

    #[test]
    fn allocation_follows_when_a_customer_consumes() {
        let m = month();
        let n = m.slots();
        let load = vec![100_000; n];
        let mut spot = vec![PricePerKwh(1000); n];
        spot[0] = PricePerKwh(50_000);
        let s = settle(m, &load, &[], &spot);
        let mut a = vec![0; n];
        a[0] = 100_000; // all of interval 0: 100 kWh × 5 yuan
        assert_eq!(s.allocate(&a), Fen(50_000));
    }

    #[test]
    fn profit_subtracts_allocated_cost_from_energy_revenue() {
        let m = month();
        let n = m.slots();
        let load = vec![1000; n];
        let s = settle(m, &load, &[], &vec![PricePerKwh(3000); n]);
        let mut inv = crate::rating::tests_support::invoice("C1", m);
        inv.energy_revenue = Fen(1_000_000);
        let r = profit(&s, &[(&inv, load.as_slice())]);
        // cost 1 kWh × 0.30 × n = 30 fen × 2688
        assert_eq!(r.customers[0].purchase_cost, Fen(30 * n as i64));
        assert_eq!(r.profit, Fen(1_000_000 - 30 * n as i64));
        assert_eq!(r.unallocated_cost, Fen(0));
    }
}
