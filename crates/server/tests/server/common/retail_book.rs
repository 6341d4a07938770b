//! A retailer's book for the decision-support tests: deterministic meter
//! readings from 15 June to 19 August 2026 and a customer on a Guangdong
//! TOU package (the shipped table), so that the forecast and the energy
//! report have real inputs to work on.
use voltex_retail::contract::{Contract, DeviationCharge, DeviationClause};
use voltex_retail::customer::{Customer, CustomerStatus, MeteringPoint, VoltageLevel};
use voltex_retail::money::{Bp, PricePerKwh};
use voltex_retail::month::Month;
use voltex_retail::package::{PassThroughs, PeriodRatios, PricePackage, Pricing, TouTable};
use voltex_retail::{Retail, Viewer};

/// Days of readings: 15 June … 19 August 2026.
pub const DAYS: usize = 66;

pub fn first_day() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 6, 15).unwrap()
}

/// kWh of customer `c` (0, 1, 2) in interval `slot` of day `d` (days from
/// [`first_day`]): a base load, a weekday daytime block and a deterministic
/// ripple; every value a multiple of 0.25 kWh (exact in Wh and in binary),
/// and the first interval of a day at the base (4 and 6 kWh for customers
/// 0 and 1, as `retail.rs`'s book read them on 1 July).
pub fn kwh_of(c: usize, d: usize, slot: usize) -> f64 {
    let (base, day) = [(4.0, 6.0), (6.0, 3.0), (10.0, 20.0)][c];
    let date = first_day() + chrono::Days::new(d as u64);
    let weekday = chrono::Datelike::weekday(&date).number_from_monday() <= 5;
    let block = if weekday && (32..72).contains(&slot) {
        day
    } else {
        0.0
    };
    let ripple = if slot == 0 {
        0.0
    } else {
        ((d * 13 + slot * 7 + c) % 5) as f64 * 0.25
    };
    base + block + ripple
}

/// The meter-data CSV of `meter` carrying customer `c`'s [`DAYS`] days.
pub fn readings_csv(meter: &str, c: usize) -> String {
    let mut csv = String::from("meter_id,interval_start,kwh\n");
    for d in 0..DAYS {
        let date = first_day() + chrono::Days::new(d as u64);
        for slot in 0..96 {
            csv.push_str(&format!(
                "{meter},{date}T{:02}:{:02},{}\n",
                slot / 4,
                slot % 4 * 15,
                kwh_of(c, d, slot)
            ));
        }
    }
    csv
}

/// Registers customer `id` of retailer ret1 with meter `M-<id>` and a 2026
/// contract on the TOU package (added first if absent); `portal_user` may
/// read the account.
pub async fn tou_customer(r: &Retail, v: &Viewer, id: &str, name: &str, portal_user: &str) {
    if !r
        .packages(v)
        .await
        .unwrap()
        .iter()
        .any(|p| p.value.id == "TOU")
    {
        let table = TouTable::from_csv(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../data/retail/guangdong_tou_2021.csv"
        )))
        .unwrap();
        r.put_package(
            v,
            PricePackage {
                id: "TOU".into(),
                retailer_id: "ret1".into(),
                name: "time of use".into(),
                pricing: Pricing::TimeOfUse {
                    table,
                    base: PricePerKwh(6725),
                    ratios: PeriodRatios::GUANGDONG_2021,
                },
                pass_throughs: PassThroughs {
                    capacity_fen_per_kva_month: 2260,
                    vat: Bp(1300),
                    ..Default::default()
                },
                allow_negative: false,
            },
        )
        .await
        .unwrap();
    }
    r.register_customer(
        v,
        Customer {
            id: id.into(),
            retailer_id: "ret1".into(),
            name: name.into(),
            credit_code: "91440600MA4UJ1234X".into(),
            industry: "manufacturing".into(),
            voltage: VoltageLevel::Kv10,
            contracted_kva: 200,
            status: CustomerStatus::Prospect,
            contacts: vec![],
            portal_users: vec![portal_user.into()],
        },
    )
    .await
    .unwrap();
    r.add_metering_point(
        v,
        MeteringPoint {
            id: format!("M-{id}"),
            customer_id: id.into(),
            retailer_id: "ret1".into(),
            multiplier: 1,
            interval_minutes: 15,
        },
    )
    .await
    .unwrap();
    r.put_contract(
        v,
        Contract {
            id: format!("{id}:2026"),
            customer_id: id.into(),
            retailer_id: "ret1".into(),
            package_id: "TOU".into(),
            package_version: 1,
            start: Month::parse("2026-01").unwrap(),
            annual_wh: 12_000,
            monthly_wh: vec![1000; 12],
            deviation: DeviationClause {
                band: Bp(1000),
                charge: DeviationCharge::None,
            },
            acceptance: None,
        },
    )
    .await
    .unwrap();
}
