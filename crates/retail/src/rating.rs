//! Rating a customer-month into an invoice (电费账单), in a fixed order:
//!
//! 1. energy charge per the package (per TOU period, or one line);
//! 2. deviation charge per the contract's clause ([`assess`]);
//! 3. pass-throughs: T&D by voltage level, capacity charge, funds;
//! 4. VAT on the sum of 1–3.
//!
//! Every line keeps its lineage (how many intervals, how many estimated or
//! corrected, which meter-month versions, which package and contract
//! version, which rule), and [`explain`] prints it. Re-rating after a
//! corrected reading or an amendment ([`rerate`]) is the same rating on
//! the new inputs plus one adjustment per line whose amount changed (the
//! credit or debit against the superseded version, which stays stored).
//! All amounts are integer fen (`money`). Formulas: docs/retail.md.
//!
//! Must not: touch the store (the service reads inputs and writes the result).
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use voltex_store::Entity;

use crate::contract::{Contract, DeviationCharge, DeviationClause};
use crate::customer::Customer;
use crate::money::{Bp, Fen, PricePerKwh, Wh, div_round, kwh_string};
use crate::month::{Month, SLOTS_PER_DAY};
use crate::package::{Period, PricePackage, Pricing, capacity_charge};
use crate::readings::QualityCounts;

/// A customer's energy per interval of a month (all its meters summed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerSeries {
    pub wh: Vec<Wh>,
    pub counts: QualityCounts,
    /// `<meter>:<month> v<version>` of every meter-month summed.
    pub sources: Vec<String>,
}

impl CustomerSeries {
    pub fn total(&self) -> Wh {
        self.wh.iter().sum()
    }
}

/// Wholesale prices of the month the rating needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarketPrices {
    /// Spot price of each 15-minute interval of the month.
    pub spot: Vec<PricePerKwh>,
    /// The retailer's average purchase price of the month (for
    /// price-difference sharing).
    pub average_purchase: PricePerKwh,
}

/// Where an invoice line's figures come from.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Lineage {
    /// Intervals that entered the line.
    pub intervals: usize,
    pub estimated: usize,
    pub corrected: usize,
    /// `<package> v<version>` and the price used.
    pub package: String,
    /// `<contract> v<version>`.
    pub contract: String,
    /// The rule, in words, with its formula.
    pub rule: String,
}

/// One line of a bill.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvoiceLine {
    /// Stable code: `energy`, `energy_peak`, `deviation`, `td`, `capacity`, `funds`, `vat`.
    pub code: String,
    pub description: String,
    pub quantity_wh: Option<Wh>,
    pub unit_price: Option<PricePerKwh>,
    pub amount: Fen,
    pub lineage: Lineage,
}

/// The deviation of a customer-month against its contract.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DeviationAssessment {
    pub contracted_wh: Wh,
    pub actual_wh: Wh,
    pub band: Bp,
    pub lower_wh: Wh,
    pub upper_wh: Wh,
    /// Energy above the upper edge (> 0) or below the lower edge (< 0).
    pub outside_wh: Wh,
    pub charge: Fen,
}

impl DeviationAssessment {
    pub fn is_outside(&self) -> bool {
        self.outside_wh != 0
    }
}

/// The band is `[Q_c·(1 − b), Q_c·(1 + b)]` (rounded to the Wh); energy
/// outside it, either way, is charged at the clause's price.
pub fn assess(contracted_wh: Wh, actual_wh: Wh, clause: &DeviationClause) -> DeviationAssessment {
    let lower = div_round(
        contracted_wh as i128 * (10_000 - clause.band.0) as i128,
        10_000,
    ) as i64;
    let upper = div_round(
        contracted_wh as i128 * (10_000 + clause.band.0) as i128,
        10_000,
    ) as i64;
    let outside = if actual_wh > upper {
        actual_wh - upper
    } else if actual_wh < lower {
        actual_wh - lower
    } else {
        0
    };
    let charge = match clause.charge {
        DeviationCharge::None => Fen(0),
        DeviationCharge::FixedPrice { price } => price.charge(outside.abs()),
    };
    DeviationAssessment {
        contracted_wh,
        actual_wh,
        band: clause.band,
        lower_wh: lower,
        upper_wh: upper,
        outside_wh: outside,
        charge,
    }
}

/// A month's consumption projected from the intervals read so far:
/// `E_so_far × N / n` (pro rata by intervals).
pub fn project(wh_so_far: Wh, intervals_so_far: usize, intervals_in_month: usize) -> Wh {
    if intervals_so_far == 0 {
        return 0;
    }
    div_round(
        wh_so_far as i128 * intervals_in_month as i128,
        intervals_so_far as i128,
    ) as i64
}

/// An amount that changed between two versions of a bill.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Adjustment {
    pub code: String,
    pub previous: Fen,
    pub now: Fen,
    /// `now − previous`: a debit when positive, a credit when negative.
    pub delta: Fen,
}

/// A bill of a customer-month; a re-rating is a new version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invoice {
    pub customer_id: String,
    pub retailer_id: String,
    pub month: Month,
    pub contract: String,
    pub package: String,
    pub package_kind: String,
    pub energy_wh: Wh,
    pub deviation: DeviationAssessment,
    pub lines: Vec<InvoiceLine>,
    /// Sum of the lines before VAT.
    pub subtotal: Fen,
    pub vat: Fen,
    pub total: Fen,
    /// Energy revenue of the retailer (energy and deviation lines), the
    /// part the profit report counts.
    pub energy_revenue: Fen,
    /// The version this one supersedes, with its total.
    #[serde(default)]
    pub supersedes: Option<(i64, Fen)>,
    /// The credits and debits against the superseded version.
    #[serde(default)]
    pub adjustments: Vec<Adjustment>,
    /// Why this version exists (`rated`, `re-rated: corrected readings`).
    pub reason: String,
}

impl Invoice {
    pub fn id_of(customer_id: &str, month: Month) -> String {
        format!("{customer_id}:{month}")
    }

    pub fn delta(&self) -> Fen {
        self.supersedes
            .map_or(Fen(0), |(_, previous)| self.total - previous)
    }
}

impl Entity for Invoice {
    const TABLE: &'static str = "retail_invoices";
    const NAME: &'static str = "invoice";
    /// A customer's bill.
    const SENSITIVE: bool = true;
    const OWNED: bool = true;
    fn entity_id(&self) -> String {
        Self::id_of(&self.customer_id, self.month)
    }
    fn owner(&self) -> Option<&str> {
        Some(&self.retailer_id)
    }
}

/// The inputs of one rating: who, under which contract and package
/// versions, with which energy and prices.
#[derive(Debug, Clone, Copy)]
pub struct RatingInput<'a> {
    pub customer: &'a Customer,
    pub contract: &'a Contract,
    pub contract_version: i64,
    pub package: &'a PricePackage,
    pub package_version: i64,
    pub month: Month,
    pub series: &'a CustomerSeries,
    pub prices: &'a MarketPrices,
}

/// Rates a customer-month. Deterministic: the same inputs give the same bill.
pub fn rate(input: RatingInput<'_>) -> Invoice {
    let RatingInput {
        customer,
        contract,
        package,
        month,
        series,
        prices,
        ..
    } = input;
    let pkg = format!("{} v{}", package.id, input.package_version);
    let ctr = format!("{} v{}", contract.id, input.contract_version);
    let total_wh = series.total();
    let base_lineage = |rule: String| Lineage {
        intervals: series.wh.len(),
        estimated: series.counts.estimated,
        corrected: series.counts.corrected,
        package: pkg.clone(),
        contract: ctr.clone(),
        rule,
    };
    let mut lines = Vec::new();
    // 1. energy
    match &package.pricing {
        Pricing::Fixed { price } => lines.push(InvoiceLine {
            code: "energy".into(),
            description: "energy, fixed price".into(),
            quantity_wh: Some(total_wh),
            unit_price: Some(*price),
            amount: price.charge(total_wh),
            lineage: base_lineage("E × p_fixed".into()),
        }),
        Pricing::TimeOfUse {
            table,
            base,
            ratios,
        } => {
            let mut by_period: BTreeMap<Period, (Wh, usize)> = BTreeMap::new();
            for (i, wh) in series.wh.iter().enumerate() {
                let hour = (i % SLOTS_PER_DAY) / 4;
                let e = by_period
                    .entry(table.period(month.month, hour))
                    .or_default();
                e.0 += wh;
                e.1 += 1;
            }
            for (p, (wh, n)) in by_period {
                let price = base.scaled(ratios.of(p));
                let mut l = base_lineage(format!(
                    "E_{0} × p_base × r_{0} (r_{0} = {1}; table: {2})",
                    p.as_str(),
                    ratios.of(p).0 as f64 / 10_000.0,
                    table.source
                ));
                l.intervals = n;
                lines.push(InvoiceLine {
                    code: format!("energy_{}", p.as_str()),
                    description: format!("energy, {} period", p.as_str()),
                    quantity_wh: Some(wh),
                    unit_price: Some(price),
                    amount: price.charge(wh),
                    lineage: l,
                });
            }
        }
        Pricing::PriceDifferenceSharing { reference, share } => {
            let diff = reference.0 - prices.average_purchase.0;
            let price =
                PricePerKwh(reference.0 - div_round(diff as i128 * share.0 as i128, 10_000) as i64);
            lines.push(InvoiceLine {
                code: "energy".into(),
                description: "energy, price-difference sharing".into(),
                quantity_wh: Some(total_wh),
                unit_price: Some(price),
                amount: price.charge(total_wh),
                lineage: base_lineage(format!(
                    "E × (p_ref − s × (p_ref − p_purchase)); p_ref {reference}, s {}, p_purchase {}",
                    share.0 as f64 / 10_000.0,
                    prices.average_purchase
                )),
            });
        }
        Pricing::WholesaleIndexed { adder, floor, cap } => {
            let avg = PricePerKwh::weighted_average(
                series.wh.iter().copied().zip(prices.spot.iter().copied()),
            )
            .unwrap_or_default();
            let price = PricePerKwh((avg.0 + adder.0).clamp(floor.0, cap.0));
            lines.push(InvoiceLine {
                code: "energy".into(),
                description: "energy, wholesale-indexed".into(),
                quantity_wh: Some(total_wh),
                unit_price: Some(price),
                amount: price.charge(total_wh),
                lineage: base_lineage(format!(
                    "E × clamp(Σ e_t·λ_t / Σ e_t + adder, floor, cap); spot average {avg}, adder {adder}"
                )),
            });
        }
    }
    // 2. deviation
    let contracted = contract.volume_of(month).unwrap_or(0);
    let dev = assess(contracted, total_wh, &contract.deviation);
    if let DeviationCharge::FixedPrice { price } = contract.deviation.charge {
        lines.push(InvoiceLine {
            code: "deviation".into(),
            description: format!(
                "deviation outside ±{}% of {} kWh contracted",
                contract.deviation.band.0 / 100,
                kwh_string(contracted)
            ),
            quantity_wh: Some(dev.outside_wh.abs()),
            unit_price: Some(price),
            amount: dev.charge,
            lineage: base_lineage(format!(
                "|E − clamp(E, Q_c(1−b), Q_c(1+b))| × p_dev; band [{}, {}] kWh",
                kwh_string(dev.lower_wh),
                kwh_string(dev.upper_wh)
            )),
        });
    }
    // 3. pass-throughs
    let pt = &package.pass_throughs;
    if let Some(td) = pt.td_by_voltage.get(&customer.voltage) {
        lines.push(InvoiceLine {
            code: "td".into(),
            description: format!("transmission & distribution, {}", customer.voltage.as_str()),
            quantity_wh: Some(total_wh),
            unit_price: Some(*td),
            amount: td.charge(total_wh),
            lineage: base_lineage("E × p_td(voltage)".into()),
        });
    }
    if pt.capacity_fen_per_kva_month > 0 {
        let mut l = base_lineage(format!(
            "kVA × {} fen/kVA·month",
            pt.capacity_fen_per_kva_month
        ));
        l.intervals = 0;
        l.estimated = 0;
        l.corrected = 0;
        lines.push(InvoiceLine {
            code: "capacity".into(),
            description: format!("capacity charge, {} kVA", customer.contracted_kva),
            quantity_wh: None,
            unit_price: None,
            amount: capacity_charge(pt, customer.contracted_kva),
            lineage: l,
        });
    }
    if pt.funds.0 != 0 {
        lines.push(InvoiceLine {
            code: "funds".into(),
            description: "government funds and surcharges".into(),
            quantity_wh: Some(total_wh),
            unit_price: Some(pt.funds),
            amount: pt.funds.charge(total_wh),
            lineage: base_lineage("E × p_funds".into()),
        });
    }
    let subtotal: Fen = lines.iter().map(|l| l.amount).sum();
    let vat = subtotal.scaled(pt.vat);
    let energy_revenue: Fen = lines
        .iter()
        .filter(|l| l.code.starts_with("energy") || l.code == "deviation")
        .map(|l| l.amount)
        .sum();
    Invoice {
        customer_id: customer.id.clone(),
        retailer_id: customer.retailer_id.clone(),
        month,
        contract: ctr,
        package: pkg,
        package_kind: package.kind().to_owned(),
        energy_wh: total_wh,
        deviation: dev,
        lines,
        subtotal,
        vat,
        total: subtotal + vat,
        energy_revenue,
        supersedes: None,
        adjustments: Vec::new(),
        reason: "rated".into(),
    }
}

/// A new version of a bill: `fresh` (rated on corrected inputs) against
/// the stored `previous` version, with an adjustment for every line code
/// whose amount changed (VAT included).
pub fn rerate(
    previous: &Invoice,
    previous_version: i64,
    mut fresh: Invoice,
    reason: &str,
) -> Invoice {
    let amounts = |inv: &Invoice| {
        let mut m: BTreeMap<String, Fen> = BTreeMap::new();
        for l in &inv.lines {
            *m.entry(l.code.clone()).or_default() += l.amount;
        }
        m.insert("vat".into(), inv.vat);
        m
    };
    let (old, new) = (amounts(previous), amounts(&fresh));
    let codes: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    fresh.adjustments = codes
        .into_iter()
        .filter_map(|c| {
            let p = old.get(c).copied().unwrap_or_default();
            let n = new.get(c).copied().unwrap_or_default();
            (p != n).then(|| Adjustment {
                code: c.clone(),
                previous: p,
                now: n,
                delta: n - p,
            })
        })
        .collect();
    fresh.supersedes = Some((previous_version, previous.total));
    fresh.reason = format!("re-rated: {reason}");
    fresh
}

/// The bill as text a billing clerk can read a line at a time: each line
/// with its quantity, price, amount and lineage.
pub fn explain(inv: &Invoice, version: i64) -> String {
    let mut s = format!(
        "invoice {} v{version} ({}): customer {} month {}\ncontract {}, package {} ({})\n",
        Invoice::id_of(&inv.customer_id, inv.month),
        inv.reason,
        inv.customer_id,
        inv.month,
        inv.contract,
        inv.package,
        inv.package_kind
    );
    for l in &inv.lines {
        s.push_str(&format!(
            "  {:<14} {:>14} kWh x {:>8} = {:>12} yuan  [{} intervals, {} estimated, {} corrected; {}]\n",
            l.code,
            l.quantity_wh.map(kwh_string).unwrap_or_default(),
            l.unit_price.map(|p| p.to_string()).unwrap_or_default(),
            l.amount,
            l.lineage.intervals,
            l.lineage.estimated,
            l.lineage.corrected,
            l.lineage.rule
        ));
    }
    s.push_str(&format!(
        "  subtotal {} yuan, VAT {} yuan, total {} yuan\n",
        inv.subtotal, inv.vat, inv.total
    ));
    if let Some((v, prev)) = inv.supersedes {
        s.push_str(&format!(
            "  supersedes v{v} (total {prev} yuan); delta {} yuan\n",
            inv.delta()
        ));
        for a in &inv.adjustments {
            s.push_str(&format!(
                "    {} {}: {} -> {} ({} yuan)\n",
                if a.delta.0 < 0 { "credit" } else { "debit" },
                a.code,
                a.previous,
                a.now,
                a.delta
            ));
        }
    }
    s
}

/// The bill's lines as CSV (`code,description,kwh,price_yuan_per_kwh,amount_yuan,rule`).
pub fn invoice_csv(inv: &Invoice) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "code",
        "description",
        "kwh",
        "price_yuan_per_kwh",
        "amount_yuan",
        "rule",
    ])
    .expect("in memory");
    for l in &inv.lines {
        w.write_record([
            l.code.clone(),
            l.description.clone(),
            l.quantity_wh.map(kwh_string).unwrap_or_default(),
            l.unit_price.map(|p| p.to_string()).unwrap_or_default(),
            l.amount.to_string(),
            l.lineage.rule.clone(),
        ])
        .expect("in memory");
    }
    let (vat, total) = (inv.vat.to_string(), inv.total.to_string());
    w.write_record(["vat", "VAT", "", "", vat.as_str(), ""])
        .expect("in memory");
    w.write_record(["total", "total", "", "", total.as_str(), ""])
        .expect("in memory");
    String::from_utf8(w.into_inner().expect("in memory")).expect("utf-8")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::DeviationClause;
    use crate::customer::{CustomerStatus, VoltageLevel};
    use crate::package::{PassThroughs, PeriodRatios, TouTable};

    fn customer() -> Customer {
        Customer {
            id: "C1".into(),
            retailer_id: "RET1".into(),
            name: "Works".into(),
            credit_code: "91440600MA4UJ1234X".into(),
            industry: "metal".into(),
            voltage: VoltageLevel::Kv10,
            contracted_kva: 500,
            status: CustomerStatus::Active,
            contacts: vec![],
            portal_users: vec![],
        }
    }

    fn contract(monthly: Wh) -> Contract {
        Contract {
            id: "K1".into(),
            customer_id: "C1".into(),
            retailer_id: "RET1".into(),
            package_id: "P".into(),
            package_version: 1,
            start: Month::parse("2026-07").unwrap(),
            annual_wh: monthly,
            monthly_wh: vec![monthly],
            deviation: DeviationClause {
                band: Bp(1000),
                charge: DeviationCharge::FixedPrice {
                    price: PricePerKwh(500),
                },
            },
            acceptance: None,
        }
    }

    fn package(pricing: Pricing) -> PricePackage {
        PricePackage {
            id: "P".into(),
            retailer_id: "RET1".into(),
            name: "p".into(),
            pricing,
            pass_throughs: PassThroughs {
                td_by_voltage: [(VoltageLevel::Kv10, PricePerKwh(1000))].into(),
                capacity_fen_per_kva_month: 2260,
                funds: PricePerKwh(0),
                vat: Bp(1300),
            },
            allow_negative: false,
        }
    }

    /// 31 days, every interval 1 kWh except the first day's, which are 2 kWh.
    fn series() -> CustomerSeries {
        let m = Month::parse("2026-07").unwrap();
        let mut wh = vec![1000; m.slots()];
        for w in wh.iter_mut().take(96) {
            *w = 2000;
        }
        CustomerSeries {
            wh,
            counts: QualityCounts {
                actual: m.slots() - 2,
                estimated: 2,
                corrected: 0,
                missing: 0,
            },
            sources: vec!["M1:2026-07 v1".into()],
        }
    }

    fn prices(n: usize) -> MarketPrices {
        MarketPrices {
            spot: (0..n)
                .map(|i| PricePerKwh(if i < 96 { 2000 } else { 4000 }))
                .collect(),
            average_purchase: PricePerKwh(4000),
        }
    }

    fn rate_with(pricing: Pricing, monthly: Wh) -> Invoice {
        let (c, k, p, s) = (customer(), contract(monthly), package(pricing), series());
        let pr = prices(s.wh.len());
        rate(RatingInput {
            customer: &c,
            contract: &k,
            contract_version: 1,
            package: &p,
            package_version: 3,
            month: Month::parse("2026-07").unwrap(),
            series: &s,
            prices: &pr,
        })
    }

    fn line<'a>(inv: &'a Invoice, code: &str) -> &'a InvoiceLine {
        inv.lines.iter().find(|l| l.code == code).unwrap()
    }

    #[test]
    fn fixed_price_bill_matches_the_hand_computed_one() {
        // E = 96 × 2 + 2880 × 1 = 3072 kWh, contracted 3000 kWh ±10 %: inside.
        // energy 3072 × 0.6725 = 2065.92; T&D 3072 × 0.1 = 307.20;
        // capacity 500 × 22.60 = 11300.00; subtotal 13673.12;
        // VAT 13 % = 1777.5056 -> 1777.51; total 15450.63 yuan.
        let inv = rate_with(
            Pricing::Fixed {
                price: PricePerKwh(6725),
            },
            3_000_000,
        );
        assert_eq!(inv.energy_wh, 3_072_000);
        assert_eq!(line(&inv, "energy").amount, Fen(206_592));
        assert_eq!(line(&inv, "deviation").amount, Fen(0));
        assert_eq!(line(&inv, "td").amount, Fen(30_720));
        assert_eq!(line(&inv, "capacity").amount, Fen(1_130_000));
        assert_eq!(inv.subtotal, Fen(1_367_312));
        assert_eq!(inv.vat, Fen(177_751));
        assert_eq!(inv.total, Fen(1_545_063));
        assert_eq!(line(&inv, "energy").lineage.estimated, 2);
        assert_eq!(line(&inv, "energy").lineage.package, "P v3");
    }

    #[test]
    fn deviation_beyond_the_band_is_charged_either_way() {
        // contracted 2500 kWh, band [2250, 2750]; actual 3072 -> 322 kWh over
        // at 0.05 yuan = 16.10 yuan
        let inv = rate_with(
            Pricing::Fixed {
                price: PricePerKwh(6725),
            },
            2_500_000,
        );
        assert_eq!(inv.deviation.outside_wh, 322_000);
        assert_eq!(line(&inv, "deviation").amount, Fen(1610));
        // contracted 4000 kWh, lower edge 3600; 528 kWh short -> 26.40 yuan
        let inv = rate_with(
            Pricing::Fixed {
                price: PricePerKwh(6725),
            },
            4_000_000,
        );
        assert_eq!(inv.deviation.outside_wh, -528_000);
        assert_eq!(line(&inv, "deviation").amount, Fen(2640));
    }

    #[test]
    fn tou_bill_prices_each_period_from_the_base_and_ratio() {
        let mut periods = vec![vec![Period::Flat; 24]; 12];
        for p in periods[6].iter_mut().take(8) {
            *p = Period::Valley;
        }
        let table = TouTable {
            source: "t".into(),
            periods,
        };
        let inv = rate_with(
            Pricing::TimeOfUse {
                table,
                base: PricePerKwh(6725),
                ratios: PeriodRatios::GUANGDONG_2021,
            },
            3_000_000,
        );
        // valley: day 1 32 intervals × 2 kWh + 30 days × 32 × 1 kWh = 1024 kWh
        // at 0.2556 = 261.7344 -> 261.73; flat: 3072 − 1024 = 2048 kWh × 0.6725 = 1377.28
        let valley = line(&inv, "energy_valley");
        assert_eq!(valley.quantity_wh, Some(1_024_000));
        assert_eq!(valley.unit_price, Some(PricePerKwh(2556)));
        assert_eq!(valley.amount, Fen(26_173));
        assert_eq!(line(&inv, "energy_flat").amount, Fen(137_728));
    }

    #[test]
    fn wholesale_indexed_price_is_the_load_weighted_spot_plus_adder_within_floor_and_cap() {
        // Σe·λ / Σe = (192 kWh × 0.2 + 2880 kWh × 0.4) / 3072 = 0.3875
        let inv = rate_with(
            Pricing::WholesaleIndexed {
                adder: PricePerKwh(500),
                floor: PricePerKwh(0),
                cap: PricePerKwh(10_000),
            },
            3_000_000,
        );
        assert_eq!(line(&inv, "energy").unit_price, Some(PricePerKwh(4375)));
        let capped = rate_with(
            Pricing::WholesaleIndexed {
                adder: PricePerKwh(500),
                floor: PricePerKwh(0),
                cap: PricePerKwh(4000),
            },
            3_000_000,
        );
        assert_eq!(line(&capped, "energy").unit_price, Some(PricePerKwh(4000)));
    }

    #[test]
    fn price_difference_sharing_passes_the_share_of_the_spread() {
        // reference 0.50, purchase 0.40, share 30 %: 0.50 − 0.3 × 0.10 = 0.47
        let inv = rate_with(
            Pricing::PriceDifferenceSharing {
                reference: PricePerKwh(5000),
                share: Bp(3000),
            },
            3_000_000,
        );
        assert_eq!(line(&inv, "energy").unit_price, Some(PricePerKwh(4700)));
    }

    #[test]
    fn rerating_records_the_delta_per_line_against_the_old_version() {
        let old = rate_with(
            Pricing::Fixed {
                price: PricePerKwh(6725),
            },
            3_000_000,
        );
        let mut s = series();
        s.wh[100] += 10_000; // a corrected interval: +10 kWh
        let (c, k, p) = (
            customer(),
            contract(3_000_000),
            package(Pricing::Fixed {
                price: PricePerKwh(6725),
            }),
        );
        let pr = prices(s.wh.len());
        let fresh = rate(RatingInput {
            customer: &c,
            contract: &k,
            contract_version: 1,
            package: &p,
            package_version: 3,
            month: Month::parse("2026-07").unwrap(),
            series: &s,
            prices: &pr,
        });
        let new = rerate(&old, 1, fresh, "corrected readings");
        let energy = new.adjustments.iter().find(|a| a.code == "energy").unwrap();
        assert_eq!(energy.delta, Fen(673)); // 10 kWh × 0.6725
        assert_eq!(new.supersedes, Some((1, old.total)));
        assert_eq!(new.delta(), new.total - old.total);
        assert!(new.adjustments.iter().all(|a| a.code != "capacity"));
        // deterministic
        assert_eq!(
            rerate(&old, 1, new.clone(), "corrected readings").total,
            new.total
        );
        assert!(explain(&new, 2).contains("debit energy"));
        assert!(invoice_csv(&new).lines().count() >= 5);
    }

    #[test]
    fn projection_is_pro_rata_by_intervals() {
        assert_eq!(project(1000, 10, 30), 3000);
        assert_eq!(project(1000, 0, 30), 0);
    }
}

#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    /// An empty invoice of a customer-month, for other modules' tests.
    pub(crate) fn invoice(customer_id: &str, month: Month) -> Invoice {
        Invoice {
            customer_id: customer_id.into(),
            retailer_id: "RET1".into(),
            month,
            contract: "K v1".into(),
            package: "P v1".into(),
            package_kind: "fixed".into(),
            energy_wh: 0,
            deviation: assess(
                0,
                0,
                &DeviationClause {
                    band: Bp(1000),
                    charge: DeviationCharge::None,
                },
            ),
            lines: vec![],
            subtotal: Fen(0),
            vat: Fen(0),
            total: Fen(0),
            energy_revenue: Fen(0),
            supersedes: None,
            adjustments: vec![],
            reason: "rated".into(),
        }
    }
}
