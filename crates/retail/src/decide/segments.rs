//! Customer segments by load shape (客户分群): each customer's normalised
//! weekday and weekend daily shape, projected on its leading principal
//! components and clustered by fuzzy c-means (`voltex_analytics::fcm`),
//! the number of clusters chosen by the Xie–Beni index; clusters named from
//! their features (peak share, load factor, weekend ratio, seasonality);
//! the package of the catalogue that suits each segment from bills
//! simulated through `rating::rate` over the customer's past months; and
//! customers whose load moved to another segment between two periods.
//!
//! Must not: change a customer's package or contract; it suggests.
use chrono::Datelike;
use serde::Serialize;
use std::collections::BTreeMap;
use voltex_analytics::fcm::{self, FcmConfig, PrincipalComponents};

use super::forecast::{LoadHistory, SLOTS, day_type};
use crate::contract::{Contract, DeviationCharge, DeviationClause};
use crate::customer::Customer;
use crate::error::{Result, RetailError};
use crate::money::{Bp, Fen, Wh};
use crate::month::Month;
use crate::package::{Period, PricePackage, TouTable};
use crate::rating::{CustomerSeries, MarketPrices, RatingInput, rate};

/// Principal components the shapes are clustered on.
pub const COMPONENTS: usize = 3;

/// What a load shape looks like, in numbers a salesperson can read.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct ShapeFeatures {
    /// Share of energy in the TOU peak and sharp periods (0..1).
    pub peak_share: f64,
    /// Mean over maximum quarter-hour demand (0..1].
    pub load_factor: f64,
    /// Mean weekend-day energy over mean working-day energy.
    pub weekend_ratio: f64,
    /// Mean daily energy in June–August over December–February (1 when
    /// either season is missing).
    pub seasonality: f64,
    /// Share of energy between 18:00 and 23:00 (0..1).
    pub evening_share: f64,
}

/// Features of the days `from..to` of `h`.
pub fn features(h: &LoadHistory, from: usize, to: usize, tou: &TouTable) -> ShapeFeatures {
    let (mut total, mut peak, mut evening, mut max) = (0.0, 0.0, 0.0, 0.0f64);
    let (mut work, mut work_n, mut weekend, mut weekend_n) = (0.0, 0, 0.0, 0);
    let (mut summer, mut summer_n, mut winter, mut winter_n) = (0.0, 0, 0.0, 0);
    for d in from..to {
        let date = h.date(d);
        let day = h.day(d);
        let e: f64 = day.iter().sum();
        for (s, v) in day.iter().enumerate() {
            let hour = s / 4;
            if matches!(tou.period(date.month(), hour), Period::Peak | Period::Sharp) {
                peak += v;
            }
            if (18..23).contains(&hour) {
                evening += v;
            }
            max = max.max(*v);
        }
        total += e;
        if day_type(date) == 0 {
            work += e;
            work_n += 1;
        } else {
            weekend += e;
            weekend_n += 1;
        }
        match date.month() {
            6..=8 => (summer, summer_n) = (summer + e, summer_n + 1),
            12 | 1 | 2 => (winter, winter_n) = (winter + e, winter_n + 1),
            _ => {}
        }
    }
    let mean = |sum: f64, n: usize| if n > 0 { sum / n as f64 } else { 0.0 };
    let share = |part: f64| if total > 0.0 { part / total } else { 0.0 };
    let intervals = ((to - from) * SLOTS) as f64;
    let ratio = |a: f64, b: f64| if a > 0.0 && b > 0.0 { a / b } else { 1.0 };
    ShapeFeatures {
        peak_share: share(peak),
        load_factor: if max > 0.0 {
            total / intervals / max
        } else {
            0.0
        },
        weekend_ratio: ratio(mean(weekend, weekend_n), mean(work, work_n)),
        seasonality: ratio(mean(summer, summer_n), mean(winter, winter_n)),
        evening_share: share(evening),
    }
}

/// The shape vector clustered: 24 hourly means of working days over their
/// mean, then 24 of weekend days over the same mean (48 values).
pub fn shape(h: &LoadHistory, from: usize, to: usize) -> Vec<f64> {
    let mut hours = [[0.0; 24]; 2];
    let mut n = [0usize; 2];
    for d in from..to {
        let k = usize::from(day_type(h.date(d)) != 0);
        n[k] += 1;
        for (s, v) in h.day(d).iter().enumerate() {
            hours[k][s / 4] += v;
        }
    }
    let work_mean = hours[0].iter().sum::<f64>() / 24.0 / n[0].max(1) as f64;
    let scale = if work_mean > 0.0 { work_mean } else { 1.0 };
    (0..2)
        .flat_map(|k| hours[k].map(|v| v / n[k].max(1) as f64 / scale))
        .collect()
}

/// A named segment.
#[derive(Debug, Clone, Serialize)]
pub struct Segment {
    pub index: usize,
    pub name_en: String,
    pub name_zh: String,
    pub customers: Vec<String>,
    /// Mean features of the members.
    pub features: ShapeFeatures,
    /// Package id → members for whom it gave the lowest simulated bill.
    pub cheapest: BTreeMap<String, usize>,
    /// Package id → mean simulated bill of the members over the months.
    pub mean_bill: BTreeMap<String, Fen>,
}

impl Segment {
    /// The package most members are best off on.
    pub fn suggested_package(&self) -> Option<&str> {
        self.cheapest
            .iter()
            .max_by_key(|(id, n)| (**n, std::cmp::Reverse(id.as_str())))
            .map(|(id, _)| id.as_str())
    }
}

/// A customer whose load moved to another segment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SegmentChange {
    pub customer_id: String,
    pub from: usize,
    pub to: usize,
}

/// The segmentation of a portfolio.
#[derive(Debug, Clone, Serialize)]
pub struct Segmentation {
    /// (c, Xie–Beni index) of every candidate; the smallest is chosen.
    pub xie_beni: Vec<(usize, f64)>,
    pub segments: Vec<Segment>,
    /// Customer id → segment index.
    pub labels: BTreeMap<String, usize>,
    /// Customers whose first-period shape falls in another segment than
    /// their second-period shape.
    pub changed: Vec<SegmentChange>,
}

/// One customer to segment: its history and what its bills are simulated
/// with.
#[derive(Debug, Clone)]
pub struct SegmentInput<'a> {
    pub customer: &'a Customer,
    pub history: &'a LoadHistory,
}

/// Where and how to segment.
#[derive(Debug, Clone)]
pub struct SegmentConfig<'a> {
    /// Days of the histories used for the shapes and features.
    pub days: std::ops::Range<usize>,
    /// The split of `days` for change detection (first half / second half).
    pub split: usize,
    pub counts: std::ops::RangeInclusive<usize>,
    pub seed: u64,
    pub tou: &'a TouTable,
    /// The catalogue to simulate and the spot prices of each month.
    pub packages: &'a [PricePackage],
    pub prices: &'a BTreeMap<Month, MarketPrices>,
}

/// Clusters, names and prices the portfolio's segments.
pub fn segment(customers: &[SegmentInput<'_>], cfg: &SegmentConfig<'_>) -> Result<Segmentation> {
    let fcm_err = |e: fcm::FcmError| {
        RetailError::invalid("customers", "segmentable", e.to_string(), e.to_string())
    };
    if customers.len() < *cfg.counts.end() + 1 {
        return Err(RetailError::invalid(
            "customers",
            "more_than_clusters",
            customers.len(),
            format!(
                "segmenting into up to {} clusters needs more customers",
                cfg.counts.end()
            ),
        ));
    }
    let (from, to) = (cfg.days.start, cfg.days.end);
    let shapes: Vec<Vec<f64>> = customers
        .iter()
        .map(|c| shape(c.history, from, to))
        .collect();
    let pca = PrincipalComponents::fit(&shapes, COMPONENTS).map_err(fcm_err)?;
    let points: Vec<Vec<f64>> = shapes.iter().map(|s| pca.project(s)).collect();
    let chosen =
        fcm::select_cluster_count(&points, cfg.counts.clone(), &FcmConfig::new(2, cfg.seed))
            .map_err(fcm_err)?;
    let labels = chosen.model.hard_labels();
    let label_of = |s: &[f64]| {
        let u = chosen.model.memberships_of(&pca.project(s));
        u.iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map_or(0, |(k, _)| k)
    };
    let changed = customers
        .iter()
        .filter_map(|c| {
            let a = label_of(&shape(c.history, from, cfg.split));
            let b = label_of(&shape(c.history, cfg.split, to));
            (a != b).then(|| SegmentChange {
                customer_id: c.customer.id.clone(),
                from: a,
                to: b,
            })
        })
        .collect();
    let months: Vec<Month> = cfg.prices.keys().copied().collect();
    let mut segments: Vec<Segment> = (0..chosen.chosen)
        .map(|index| Segment {
            index,
            name_en: String::new(),
            name_zh: String::new(),
            customers: vec![],
            features: ShapeFeatures::default(),
            cheapest: BTreeMap::new(),
            mean_bill: BTreeMap::new(),
        })
        .collect();
    let mut sums: Vec<BTreeMap<String, i64>> = vec![BTreeMap::new(); segments.len()];
    for (c, &k) in customers.iter().zip(&labels) {
        let seg = &mut segments[k];
        seg.customers.push(c.customer.id.clone());
        let f = features(c.history, from, to, cfg.tou);
        seg.features.peak_share += f.peak_share;
        seg.features.load_factor += f.load_factor;
        seg.features.weekend_ratio += f.weekend_ratio;
        seg.features.seasonality += f.seasonality;
        seg.features.evening_share += f.evening_share;
        let bills = simulate_bills(c.customer, c.history, &months, cfg.packages, cfg.prices)?;
        if let Some((best, _)) = bills.iter().min_by_key(|(id, fen)| (*fen, id.clone())) {
            *seg.cheapest.entry(best.clone()).or_insert(0) += 1;
        }
        for (id, fen) in bills {
            *sums[k].entry(id).or_insert(0) += fen.0;
        }
    }
    for (seg, sum) in segments.iter_mut().zip(sums) {
        let n = seg.customers.len().max(1) as f64;
        let f = &mut seg.features;
        for v in [
            &mut f.peak_share,
            &mut f.load_factor,
            &mut f.weekend_ratio,
            &mut f.seasonality,
            &mut f.evening_share,
        ] {
            *v /= n;
        }
        let (en, zh) = name(&seg.features);
        seg.name_en = en;
        seg.name_zh = zh;
        seg.mean_bill = sum
            .into_iter()
            .map(|(id, total)| (id, Fen(total / seg.customers.len().max(1) as i64)))
            .collect();
    }
    Ok(Segmentation {
        xie_beni: chosen.xie_beni_by_count,
        labels: customers
            .iter()
            .zip(&labels)
            .map(|(c, &k)| (c.customer.id.clone(), k))
            .collect(),
        segments,
        changed,
    })
}

/// A segment's name from its features, in English and Chinese. The
/// thresholds are documented in docs/retail-decisions.md.
pub fn name(f: &ShapeFeatures) -> (String, String) {
    let mut en: Vec<&str> = Vec::new();
    let mut zh: Vec<&str> = Vec::new();
    if f.weekend_ratio < 0.35 {
        en.push("weekdays only");
        zh.push("仅工作日型");
    } else if f.weekend_ratio < 0.75 {
        en.push("working-day");
        zh.push("工作日型");
    } else {
        en.push("seven-day");
        zh.push("全周型");
    }
    if f.load_factor >= 0.6 {
        en.push("flat base load");
        zh.push("平稳基荷");
    } else if f.evening_share >= 0.3 {
        en.push("evening peak");
        zh.push("晚高峰");
    } else if f.peak_share >= 0.45 {
        en.push("daytime peak");
        zh.push("日间高峰");
    } else {
        en.push("mixed profile");
        zh.push("混合负荷");
    }
    if f.seasonality >= 1.15 {
        en.push("summer-heavy");
        zh.push("夏季偏高");
    } else if f.seasonality <= 1.0 / 1.15 {
        en.push("winter-heavy");
        zh.push("冬季偏高");
    }
    (en.join(", "), zh.join("，"))
}

/// The customer's total bill (VAT included) under each package, summed
/// over `months`, each month rated by `rating::rate` with the month's
/// actual energy as its contracted volume (no deviation charge), so the
/// packages differ only in their prices and pass-throughs.
pub fn simulate_bills(
    customer: &Customer,
    h: &LoadHistory,
    months: &[Month],
    packages: &[PricePackage],
    prices: &BTreeMap<Month, MarketPrices>,
) -> Result<Vec<(String, Fen)>> {
    let mut series = Vec::new();
    for &m in months {
        let first = h.index_of(m.first_day()).ok_or_else(|| {
            RetailError::invalid(
                "months",
                "in_history",
                m.to_string(),
                format!("{m} is outside the history"),
            )
        })?;
        let days = m.days();
        if first + days > h.days() {
            return Err(RetailError::invalid(
                "months",
                "in_history",
                m.to_string(),
                format!("{m} runs past the history"),
            ));
        }
        let wh: Vec<Wh> = h.kwh[first * SLOTS..(first + days) * SLOTS]
            .iter()
            .map(|k| (k * 1000.0).round() as Wh)
            .collect();
        series.push((
            m,
            CustomerSeries {
                wh,
                counts: Default::default(),
                sources: vec![],
            },
        ));
    }
    let mut out = Vec::with_capacity(packages.len());
    for p in packages {
        let mut total = Fen(0);
        for (m, s) in &series {
            let Some(market) = prices.get(m) else {
                return Err(RetailError::invalid(
                    "prices",
                    "every_month",
                    m.to_string(),
                    format!("no spot prices for {m}"),
                ));
            };
            let contract = Contract {
                id: format!("SIM-{}", p.id),
                customer_id: customer.id.clone(),
                retailer_id: customer.retailer_id.clone(),
                package_id: p.id.clone(),
                package_version: 1,
                start: *m,
                annual_wh: s.total(),
                monthly_wh: vec![s.total()],
                deviation: DeviationClause {
                    band: Bp(0),
                    charge: DeviationCharge::None,
                },
                acceptance: None,
            };
            let inv = rate(RatingInput {
                customer,
                contract: &contract,
                contract_version: 1,
                package: p,
                package_version: 1,
                month: *m,
                series: s,
                prices: market,
            });
            total.0 += inv.total.0;
        }
        out.push((p.id.clone(), total));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn tou() -> TouTable {
        TouTable::from_csv(include_str!(
            "../../../../data/retail/guangdong_tou_2021.csv"
        ))
        .unwrap()
    }

    fn history(f: impl Fn(NaiveDate, usize) -> f64) -> LoadHistory {
        let start = NaiveDate::from_ymd_opt(2016, 1, 1).unwrap();
        let kwh = (0..366)
            .flat_map(|d| {
                let date = start + chrono::Days::new(d);
                (0..SLOTS).map(move |s| (date, s))
            })
            .map(|(date, s)| f(date, s))
            .collect();
        LoadHistory { start, kwh }
    }

    #[test]
    fn a_flat_load_has_load_factor_one_and_the_peak_hours_share() {
        let h = history(|_, _| 1.0);
        let f = features(&h, 0, 366, &tou());
        assert!((f.load_factor - 1.0).abs() < 1e-12);
        assert!((f.weekend_ratio - 1.0).abs() < 1e-12);
        assert!((f.seasonality - 1.0).abs() < 1e-12);
        // peak 10–12 and 14–19 (7 h) all year, sharp inside it in summer
        assert!(
            (f.peak_share - 7.0 / 24.0).abs() < 1e-12,
            "{}",
            f.peak_share
        );
        assert!((f.evening_share - 5.0 / 24.0).abs() < 1e-12);
    }

    #[test]
    fn names_follow_the_documented_thresholds() {
        let office = ShapeFeatures {
            peak_share: 0.5,
            load_factor: 0.35,
            weekend_ratio: 0.3,
            seasonality: 1.3,
            evening_share: 0.1,
        };
        assert_eq!(name(&office).0, "weekdays only, daytime peak, summer-heavy");
        assert_eq!(name(&office).1, "仅工作日型，日间高峰，夏季偏高");
        let shop = ShapeFeatures {
            weekend_ratio: 0.6,
            ..office
        };
        assert_eq!(name(&shop).0, "working-day, daytime peak, summer-heavy");
        let plant = ShapeFeatures {
            load_factor: 0.8,
            weekend_ratio: 0.95,
            seasonality: 1.0,
            ..office
        };
        assert_eq!(name(&plant).0, "seven-day, flat base load");
    }

    #[test]
    fn shape_is_normalised_by_the_working_day_mean() {
        let h = history(|date, s| {
            if day_type(date) == 0 {
                if s < 48 { 1.0 } else { 3.0 }
            } else {
                1.0
            }
        });
        let v = shape(&h, 0, 366);
        assert_eq!(v.len(), 48);
        assert!(
            (v[0] - 0.5).abs() < 1e-12
                && (v[23] - 1.5).abs() < 1e-12
                && (v[30] - 0.5).abs() < 1e-12
        );
    }
}
