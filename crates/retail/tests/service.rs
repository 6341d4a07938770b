//! The retail service end to end on both backends: a customer sees only
//! its own bill, corrected readings re-rate into a new invoice version
//! with the delta while the old version stays, and refused input writes
//! nothing.
use voltex_retail::contract::{Contract, DeviationCharge, DeviationClause};
use voltex_retail::customer::{Customer, CustomerStatus, MeteringPoint, VoltageLevel};
use voltex_retail::money::{Bp, Fen, PricePerKwh};
use voltex_retail::month::Month;
use voltex_retail::package::{PassThroughs, PricePackage, Pricing};
use voltex_retail::rating::MarketPrices;
use voltex_retail::readings::ImportKind;
use voltex_retail::{Retail, RetailError, Viewer};
use voltex_testdb::{TestDb, on_backend};

async fn sqlite() -> TestDb {
    voltex_testdb::sqlite().await
}

async fn postgres() -> TestDb {
    voltex_testdb::postgres("retail").await
}

fn july() -> Month {
    Month::parse("2026-07").unwrap()
}

fn staff(retailer: &str) -> Viewer {
    Viewer::Staff {
        retailer_id: retailer.into(),
    }
}

fn prices() -> MarketPrices {
    MarketPrices {
        spot: vec![PricePerKwh(3500); july().slots()],
        average_purchase: PricePerKwh(3500),
    }
}

/// RET1 with customers C1 (user u1) and C2 (user u2), one meter each, a
/// fixed-price package at 0.50 yuan/kWh without pass-throughs but VAT 13 %,
/// and contracts of 10 kWh for July.
async fn retailer(db: &TestDb) -> Retail {
    let r = Retail::new(db.store.clone());
    let s = staff("RET1");
    r.put_package(
        &s,
        PricePackage {
            id: "FIX".into(),
            retailer_id: "RET1".into(),
            name: "fixed".into(),
            pricing: Pricing::Fixed {
                price: PricePerKwh(5000),
            },
            pass_throughs: PassThroughs {
                vat: Bp(1300),
                ..Default::default()
            },
            allow_negative: false,
        },
    )
    .await
    .unwrap();
    for (id, user) in [("C1", "u1"), ("C2", "u2")] {
        r.register_customer(
            &s,
            Customer {
                id: id.into(),
                retailer_id: "RET1".into(),
                name: format!("customer {id}"),
                credit_code: "91440600MA4UJ1234X".into(),
                industry: "textiles".into(),
                voltage: VoltageLevel::Kv10,
                contracted_kva: 400,
                status: CustomerStatus::Prospect,
                contacts: vec![],
                portal_users: vec![user.into()],
            },
        )
        .await
        .unwrap();
        r.set_customer_status(&s, id, CustomerStatus::Signed)
            .await
            .unwrap();
        r.add_metering_point(
            &s,
            MeteringPoint {
                id: format!("M-{id}"),
                customer_id: id.into(),
                retailer_id: "RET1".into(),
                multiplier: 1,
                interval_minutes: 15,
            },
        )
        .await
        .unwrap();
        r.put_contract(&s, contract(id, 10_000)).await.unwrap();
    }
    r
}

fn contract(customer: &str, july_wh: i64) -> Contract {
    let mut monthly = vec![0; 12];
    monthly[6] = july_wh;
    Contract {
        id: format!("{customer}:2026"),
        customer_id: customer.into(),
        retailer_id: "RET1".into(),
        package_id: "FIX".into(),
        package_version: 1,
        start: Month::parse("2026-01").unwrap(),
        annual_wh: july_wh,
        monthly_wh: monthly,
        deviation: DeviationClause {
            band: Bp(1000),
            charge: DeviationCharge::None,
        },
        acceptance: None,
    }
}

const READINGS: &str = "meter_id,interval_start,kwh\n\
M-C1,2026-07-01T00:00,2.000\n\
M-C1,2026-07-01T00:15,3.000\n\
M-C1,2026-07-01T00:30,5.000\n\
M-C2,2026-07-01T00:00,1.000\n";

async fn a_retail_customer_sees_only_its_own_bill(db: &TestDb) {
    let r = retailer(db).await;
    r.import_readings(
        &staff("RET1"),
        "r.csv",
        READINGS.as_bytes(),
        ImportKind::Readings,
    )
    .await
    .unwrap();
    let run = r
        .rate_all(&staff("RET1"), july(), &prices(), "rated")
        .await
        .unwrap();
    assert_eq!(run.rated, 2);
    let u1 = Viewer::Customer {
        retailer_id: "RET1".into(),
        user_id: "u1".into(),
    };
    let own = r.invoice(&u1, "C1", july()).await.unwrap();
    // 10 kWh × 0.50 = 5.00 yuan, VAT 0.65, total 5.65
    assert_eq!(own.value.total, Fen(565));
    let err = r.invoice(&u1, "C2", july()).await.unwrap_err();
    assert!(matches!(err, RetailError::Forbidden(_)), "{err}");
    let listed = r.invoices(&u1, july()).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].value.customer_id, "C1");
    assert_eq!(r.customers(&u1).await.unwrap().len(), 1);
    // another retailer's staff sees neither
    let err = r.invoice(&staff("RET2"), "C1", july()).await.unwrap_err();
    assert!(matches!(err, RetailError::Forbidden(_)), "{err}");
    // a customer may not import
    let err = r
        .import_readings(&u1, "r.csv", READINGS.as_bytes(), ImportKind::Readings)
        .await
        .unwrap_err();
    assert!(matches!(err, RetailError::Forbidden(_)), "{err}");
}

async fn corrected_readings_rerate_into_a_new_version_with_the_delta(db: &TestDb) {
    let r = retailer(db).await;
    let s = staff("RET1");
    r.import_readings(&s, "r.csv", READINGS.as_bytes(), ImportKind::Readings)
        .await
        .unwrap();
    r.rate_all(&s, july(), &prices(), "rated").await.unwrap();
    // the same file again changes nothing, and re-rating finds nothing to do
    let again = r
        .import_readings(&s, "r.csv", READINGS.as_bytes(), ImportKind::Readings)
        .await
        .unwrap();
    assert_eq!((again.changed, again.months_written), (0, 0));
    let run = r
        .rate_all(&s, july(), &prices(), "no change")
        .await
        .unwrap();
    assert_eq!((run.rerated, run.unchanged), (0, 2));
    // a correction: 00:15 was 3 kWh, truly 7 kWh (+4 kWh = +2.00 yuan + VAT)
    let fix = "meter_id,interval_start,kwh\nM-C1,2026-07-01T00:15,7.000\n";
    let refused = r
        .import_readings(&s, "fix.csv", fix.as_bytes(), ImportKind::Readings)
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, RetailError::Invalid(v) if v.has("row 2: kwh", "differs_from_stored_reading"))
    );
    r.import_readings(&s, "fix.csv", fix.as_bytes(), ImportKind::Corrections)
        .await
        .unwrap();
    let run = r
        .rate_all(&s, july(), &prices(), "corrected readings")
        .await
        .unwrap();
    assert_eq!((run.rerated, run.unchanged), (1, 1));
    let history = r.invoice_history(&s, "C1", july()).await.unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].value.total, Fen(565));
    let new = &history[1].value;
    assert_eq!(new.total, Fen(791)); // 14 kWh × 0.50 = 7.00 + 0.91
    assert_eq!(new.supersedes, Some((1, Fen(565))));
    assert_eq!(new.delta(), Fen(226));
    let energy = new.adjustments.iter().find(|a| a.code == "energy").unwrap();
    assert_eq!(energy.delta, Fen(200));
    assert_eq!(new.lines[0].lineage.corrected, 1);
    // the superseded reading remains in the meter-month's history
    let months = db
        .store
        .history::<voltex_retail::readings::MeterMonth>("M-C1:2026-07")
        .await
        .unwrap();
    assert_eq!(months.len(), 2);
    assert_eq!(months[0].value.wh[1], 3000);
    assert_eq!(months[1].value.wh[1], 7000);
}

async fn a_bill_is_compared_with_the_month_before_line_by_line(db: &TestDb) {
    let r = retailer(db).await;
    let s = staff("RET1");
    let june = Month::parse("2026-06").unwrap();
    let june_prices = MarketPrices {
        spot: vec![PricePerKwh(3500); june.slots()],
        average_purchase: PricePerKwh(3500),
    };
    let u1 = Viewer::Customer {
        retailer_id: "RET1".into(),
        user_id: "u1".into(),
    };
    r.import_readings(
        &s,
        "june.csv",
        "meter_id,interval_start,kwh\nM-C1,2026-06-01T00:00,4.000\n".as_bytes(),
        ImportKind::Readings,
    )
    .await
    .unwrap();
    r.rate_all(&s, june, &june_prices, "rated").await.unwrap();
    // One billed month: nothing to compare with.
    assert_eq!(r.bill_change(&u1, "C1").await.unwrap(), None);
    r.import_readings(&s, "r.csv", READINGS.as_bytes(), ImportKind::Readings)
        .await
        .unwrap();
    r.rate_all(&s, july(), &prices(), "rated").await.unwrap();
    let change = r.bill_change(&u1, "C1").await.unwrap().expect("two months");
    assert_eq!((change.previous_month, change.month), (june, july()));
    // 4 kWh × 0.50 + 13 % = 2.26 yuan; 10 kWh × 0.50 + 13 % = 5.65 yuan.
    assert_eq!((change.previous_total, change.total), (Fen(226), Fen(565)));
    assert_eq!(change.difference(), Fen(339));
    assert_eq!(
        (change.previous_energy_wh, change.energy_wh),
        (4_000, 10_000)
    );
    // The same price both months: the energy explains most of the change.
    assert_eq!(change.average_price, change.previous_average_price);
    assert_eq!(change.lines[0].code, "energy");
    assert_eq!(change.lines[0].difference(), Fen(300));
    let explained: Fen = change.lines.iter().map(|l| l.difference()).sum();
    assert_eq!(
        explained + (change.vat - change.previous_vat),
        change.difference(),
        "the lines and VAT add up to the change"
    );
    // Another customer's user may not read it.
    let u2 = Viewer::Customer {
        retailer_id: "RET1".into(),
        user_id: "u2".into(),
    };
    let err = r.bill_change(&u2, "C1").await.unwrap_err();
    assert!(matches!(err, RetailError::Forbidden(_)), "{err}");
}

async fn refused_input_writes_nothing(db: &TestDb) {
    let r = retailer(db).await;
    let s = staff("RET1");
    let before = db.store.row_counts().await.unwrap();
    let bad = "meter_id,interval_start,kwh\nM-C1,2026-07-01T00:00,1\nM-XX,2026-07-01T00:15,1\n";
    let err = r
        .import_readings(&s, "bad.csv", bad.as_bytes(), ImportKind::Readings)
        .await
        .unwrap_err();
    assert!(matches!(&err, RetailError::Invalid(v) if v.has("row 3: meter_id", "known_meter")));
    let mut c = contract("C1", 10_000);
    c.monthly_wh[0] = 1;
    let err = r.put_contract(&s, c).await.unwrap_err();
    assert!(matches!(&err, RetailError::Invalid(v) if v.has("monthly_wh", "sums_to_annual")));
    let err = r
        .set_customer_status(&s, "C1", CustomerStatus::Prospect)
        .await
        .unwrap_err();
    assert!(matches!(err, RetailError::Transition(_)), "{err}");
    assert_eq!(db.store.row_counts().await.unwrap(), before);
}

async fn customer_history_keeps_every_lifecycle_step(db: &TestDb) {
    let r = retailer(db).await;
    let s = staff("RET1");
    r.set_customer_status(&s, "C1", CustomerStatus::Active)
        .await
        .unwrap();
    let h = r.customer_history(&s, "C1").await.unwrap();
    let steps: Vec<CustomerStatus> = h.iter().map(|x| x.value.status).collect();
    assert_eq!(
        steps,
        vec![
            CustomerStatus::Prospect,
            CustomerStatus::Signed,
            CustomerStatus::Active
        ]
    );
}

on_backend!(sqlite: a_retail_customer_sees_only_its_own_bill, corrected_readings_rerate_into_a_new_version_with_the_delta, a_bill_is_compared_with_the_month_before_line_by_line, refused_input_writes_nothing, customer_history_keeps_every_lifecycle_step);
on_backend!(postgres: a_retail_customer_sees_only_its_own_bill, corrected_readings_rerate_into_a_new_version_with_the_delta, a_bill_is_compared_with_the_month_before_line_by_line, refused_input_writes_nothing, customer_history_keeps_every_lifecycle_step);
