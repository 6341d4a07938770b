//! Price packages (零售套餐): the versioned catalogue a retailer offers. A
//! package says how the energy of a customer-month is priced (fixed,
//! time-of-use, price-difference sharing, wholesale-indexed) and which
//! pass-through components every bill carries (transmission & distribution
//! by voltage level, the capacity charge, government funds, VAT). Tariff
//! tables are data: a TOU period matrix is read from a CSV file the
//! operator loads ([`TouTable::from_csv`]).
//!
//! Formulas with units are in docs/retail.md; `rating` applies them.
//! Must not: read readings or the store.
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use voltex_model::{Violation, Violations};
use voltex_store::Entity;

use crate::customer::VoltageLevel;
use crate::money::{Bp, Fen, PricePerKwh};

/// A time-of-use period (时段).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    /// 尖峰
    Sharp,
    /// 高峰
    Peak,
    /// 平段
    Flat,
    /// 低谷
    Valley,
}

impl Period {
    pub const ALL: [Period; 4] = [Period::Sharp, Period::Peak, Period::Flat, Period::Valley];

    pub fn as_str(self) -> &'static str {
        match self {
            Period::Sharp => "sharp",
            Period::Peak => "peak",
            Period::Flat => "flat",
            Period::Valley => "valley",
        }
    }

    /// English or Chinese name.
    pub fn parse(s: &str) -> Option<Period> {
        match s.trim() {
            "sharp" | "尖" | "尖峰" => Some(Period::Sharp),
            "peak" | "峰" | "高峰" => Some(Period::Peak),
            "flat" | "平" | "平段" => Some(Period::Flat),
            "valley" | "谷" | "低谷" => Some(Period::Valley),
            _ => None,
        }
    }
}

/// A 12-month × 24-hour matrix of period names: `periods[m][h]` is the
/// period of hour `h` (local, 0..24) in month `m + 1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TouTable {
    /// Where the table comes from (the notice that sets it).
    pub source: String,
    pub periods: Vec<Vec<Period>>,
}

impl TouTable {
    /// Reads `month,h00,...,h23` with 12 rows (months 1..12), each cell a
    /// period name; `#` lines are comments (the first one is kept as the
    /// source). Every missing or unknown cell is a violation naming month
    /// and hour.
    pub fn from_csv(text: &str) -> Result<TouTable, Violations> {
        let mut v = Violations::default();
        let mut source = String::new();
        let mut rows: BTreeMap<u32, Vec<Option<Period>>> = BTreeMap::new();
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        for l in lines.by_ref() {
            if let Some(c) = l.strip_prefix('#') {
                if source.is_empty() {
                    source = c.trim().to_owned();
                }
                continue;
            }
            // the header
            break;
        }
        for l in lines {
            if l.starts_with('#') {
                continue;
            }
            let cells: Vec<&str> = l.split(',').collect();
            let Some(m) = cells[0]
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|m| (1..=12).contains(m))
            else {
                v.push(Violation::new(
                    "tou.month",
                    "month_1_to_12",
                    cells[0],
                    "each row starts with its month, 1 to 12",
                ));
                continue;
            };
            rows.insert(m, cells[1..].iter().map(|c| Period::parse(c)).collect());
        }
        let mut periods = Vec::new();
        for m in 1..=12u32 {
            let row = rows.get(&m);
            let mut out = Vec::new();
            for h in 0..24 {
                match row.and_then(|r| r.get(h).copied().flatten()) {
                    Some(p) => out.push(p),
                    None => v.push(Violation::new(
                        format!("tou.month[{m}].hour[{h}]"),
                        "every_hour_has_a_period",
                        "",
                        "the matrix names a period (sharp, peak, flat, valley) for every hour of every month",
                    )),
                }
            }
            if row.is_some_and(|r| r.len() > 24) {
                v.push(Violation::new(
                    format!("tou.month[{m}]"),
                    "twenty_four_hours",
                    row.map_or(0, Vec::len),
                    "a month has 24 hours",
                ));
            }
            periods.push(out);
        }
        v.into_result()?;
        Ok(TouTable { source, periods })
    }

    pub fn period(&self, month: u32, hour: usize) -> Period {
        self.periods[month as usize - 1][hour]
    }

    fn validate(&self, v: &mut Violations) {
        if self.periods.len() != 12 || self.periods.iter().any(|r| r.len() != 24) {
            v.push(Violation::new(
                "pricing.table",
                "every_hour_has_a_period",
                self.periods.len(),
                "a TOU matrix has 12 months of 24 hours",
            ));
        }
    }
}

/// Price ratios of the TOU periods to the base (flat) price.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PeriodRatios {
    pub sharp: Bp,
    pub peak: Bp,
    pub flat: Bp,
    pub valley: Bp,
}

impl PeriodRatios {
    /// Guangdong's ratios (粤发改价格〔2021〕331号): peak 1.7, flat 1, valley
    /// 0.38 of the flat price, sharp 1.25 × peak.
    pub const GUANGDONG_2021: PeriodRatios = PeriodRatios {
        sharp: Bp(21_250),
        peak: Bp(17_000),
        flat: Bp(10_000),
        valley: Bp(3_800),
    };

    pub fn of(&self, p: Period) -> Bp {
        match p {
            Period::Sharp => self.sharp,
            Period::Peak => self.peak,
            Period::Flat => self.flat,
            Period::Valley => self.valley,
        }
    }
}

/// How the energy of a customer-month is priced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Pricing {
    /// One price for every kWh.
    Fixed { price: PricePerKwh },
    /// Period price = base × the period's ratio (rounded to 0.01 fen/kWh).
    TimeOfUse {
        table: TouTable,
        base: PricePerKwh,
        ratios: PeriodRatios,
    },
    /// Price-difference sharing (价差分成): price = reference − share ×
    /// (reference − the retailer's average purchase price of the month).
    PriceDifferenceSharing { reference: PricePerKwh, share: Bp },
    /// Wholesale-indexed: price = clamp(energy-weighted spot average over
    /// the customer's own intervals + adder, floor, cap).
    WholesaleIndexed {
        adder: PricePerKwh,
        floor: PricePerKwh,
        cap: PricePerKwh,
    },
}

/// Pass-through components on every bill.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PassThroughs {
    /// Transmission & distribution tariff (输配电价) per kWh by voltage
    /// level; a level absent here pays none.
    #[serde(default)]
    pub td_by_voltage: BTreeMap<VoltageLevel, PricePerKwh>,
    /// Capacity (basic) charge per contracted kVA per month, in fen.
    #[serde(default)]
    pub capacity_fen_per_kva_month: i64,
    /// Government funds and surcharges (政府性基金及附加) per kWh.
    #[serde(default)]
    pub funds: PricePerKwh,
    /// VAT rate on the whole bill.
    pub vat: Bp,
}

/// A package of the catalogue; a change is a new version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PricePackage {
    pub id: String,
    pub retailer_id: String,
    pub name: String,
    pub pricing: Pricing,
    pub pass_throughs: PassThroughs,
    /// Whether a negative energy price may result (wholesale-indexed
    /// packages with a negative floor); otherwise prices are ≥ 0.
    #[serde(default)]
    pub allow_negative: bool,
}

impl PricePackage {
    pub fn validate(&self) -> Result<(), Violations> {
        let mut v = Violations::default();
        if self.id.is_empty() || self.id.contains(':') {
            v.push(Violation::new(
                "id",
                "package_id",
                self.id.clone(),
                "a package id is non-empty and has no ':'",
            ));
        }
        let mut price = |field: &str, p: PricePerKwh| {
            if p.0 < 0 && !self.allow_negative {
                v.push(Violation::new(
                    field,
                    "non_negative_price",
                    p.to_string(),
                    "the package forbids negative prices (allow_negative is false)",
                ));
            }
        };
        match &self.pricing {
            Pricing::Fixed { price: p } => price("pricing.price", *p),
            Pricing::TimeOfUse { base, ratios, .. } => {
                price("pricing.base", *base);
                for p in Period::ALL {
                    price(
                        &format!("pricing.ratios.{}", p.as_str()),
                        PricePerKwh(ratios.of(p).0),
                    );
                }
            }
            Pricing::PriceDifferenceSharing { reference, .. } => {
                price("pricing.reference", *reference)
            }
            Pricing::WholesaleIndexed { floor, cap, adder } => {
                price("pricing.floor", *floor);
                price("pricing.cap", *cap);
                price("pricing.adder", *adder);
            }
        }
        for (lvl, p) in &self.pass_throughs.td_by_voltage {
            price(&format!("pass_throughs.td_by_voltage.{}", lvl.as_str()), *p);
        }
        price("pass_throughs.funds", self.pass_throughs.funds);
        match &self.pricing {
            Pricing::TimeOfUse { table, .. } => table.validate(&mut v),
            Pricing::PriceDifferenceSharing { share, .. } if !(0..=10_000).contains(&share.0) => v
                .push(Violation::new(
                    "pricing.share",
                    "share_0_to_1",
                    share.0,
                    "a share is between 0 and 10000 basis points",
                )),
            Pricing::WholesaleIndexed { floor, cap, .. } if floor > cap => v.push(Violation::new(
                "pricing.floor",
                "floor_not_above_cap",
                floor.to_string(),
                "the floor is not above the cap",
            )),
            _ => {}
        }
        if self.pass_throughs.capacity_fen_per_kva_month < 0 {
            v.push(Violation::new(
                "pass_throughs.capacity_fen_per_kva_month",
                "non_negative",
                self.pass_throughs.capacity_fen_per_kva_month,
                "a capacity charge is not negative",
            ));
        }
        if !(0..=10_000).contains(&self.pass_throughs.vat.0) {
            v.push(Violation::new(
                "pass_throughs.vat",
                "rate_0_to_1",
                self.pass_throughs.vat.0,
                "VAT is between 0 and 10000 basis points",
            ));
        }
        v.into_result()
    }

    /// The kind of pricing, for reports.
    pub fn kind(&self) -> &'static str {
        match self.pricing {
            Pricing::Fixed { .. } => "fixed",
            Pricing::TimeOfUse { .. } => "time_of_use",
            Pricing::PriceDifferenceSharing { .. } => "price_difference_sharing",
            Pricing::WholesaleIndexed { .. } => "wholesale_indexed",
        }
    }
}

/// The capacity charge of a customer-month: kVA × rate.
pub fn capacity_charge(p: &PassThroughs, kva: i64) -> Fen {
    Fen(p.capacity_fen_per_kva_month * kva)
}

impl Entity for PricePackage {
    const TABLE: &'static str = "retail_packages";
    const NAME: &'static str = "price package";
    /// The retailer's prices.
    const SENSITIVE: bool = true;
    const OWNED: bool = true;
    fn entity_id(&self) -> String {
        self.id.clone()
    }
    fn owner(&self) -> Option<&str> {
        Some(&self.retailer_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table_csv(skip_hour: Option<(u32, usize)>) -> String {
        let mut s = String::from("# test table\nmonth");
        for h in 0..24 {
            s.push_str(&format!(",h{h:02}"));
        }
        s.push('\n');
        for m in 1..=12u32 {
            s.push_str(&m.to_string());
            for h in 0..24 {
                let p = if h < 8 { "valley" } else { "flat" };
                if skip_hour == Some((m, h)) {
                    s.push(',');
                } else {
                    s.push_str(&format!(",{p}"));
                }
            }
            s.push('\n');
        }
        s
    }

    #[test]
    fn reads_a_full_matrix_with_its_source() {
        let t = TouTable::from_csv(&table_csv(None)).unwrap();
        assert_eq!(t.source, "test table");
        assert_eq!(t.period(7, 3), Period::Valley);
        assert_eq!(t.period(12, 23), Period::Flat);
    }

    #[test]
    fn rejects_a_matrix_that_lacks_an_hour_naming_month_and_hour() {
        let v = TouTable::from_csv(&table_csv(Some((3, 5)))).unwrap_err();
        assert!(v.has("tou.month[3].hour[5]", "every_hour_has_a_period"));
        assert_eq!(v.len(), 1);
    }

    #[test]
    fn rejects_negative_price_where_the_package_forbids_it() {
        let mut p = PricePackage {
            id: "FIX".into(),
            retailer_id: "RET1".into(),
            name: "fixed".into(),
            pricing: Pricing::Fixed {
                price: PricePerKwh(-1),
            },
            pass_throughs: PassThroughs {
                vat: Bp(1300),
                ..Default::default()
            },
            allow_negative: false,
        };
        assert!(
            p.validate()
                .unwrap_err()
                .has("pricing.price", "non_negative_price")
        );
        p.allow_negative = true;
        assert!(p.validate().is_ok());
    }

    #[test]
    fn rejects_floor_above_cap() {
        let p = PricePackage {
            id: "IDX".into(),
            retailer_id: "RET1".into(),
            name: "indexed".into(),
            pricing: Pricing::WholesaleIndexed {
                adder: PricePerKwh(100),
                floor: PricePerKwh(5000),
                cap: PricePerKwh(4000),
            },
            pass_throughs: PassThroughs::default(),
            allow_negative: false,
        };
        assert!(
            p.validate()
                .unwrap_err()
                .has("pricing.floor", "floor_not_above_cap")
        );
    }
}
