//! The retail endpoints end to end: a retail customer's user reads its own
//! bill and no other customer's, retail staff read the retailer's whole
//! book, and roles without a retail permission are refused.

use crate::common::Platform;
use reqwest::StatusCode;
use serde_json::json;
use voltex_retail::contract::{Contract, DeviationCharge, DeviationClause};
use voltex_retail::customer::{Customer, CustomerStatus, MeteringPoint, VoltageLevel};
use voltex_retail::money::{Bp, PricePerKwh};
use voltex_retail::month::Month;
use voltex_retail::package::{PassThroughs, PricePackage, Pricing};
use voltex_retail::rating::MarketPrices;
use voltex_retail::readings::ImportKind;
use voltex_retail::{Retail, Viewer};
use voltex_security::Role;

/// The member ret1, a retailer, applied over the API and activated by the
/// operator, with [`book`].
async fn retailer(s: &Platform) {
    let operator = s.operator().await;
    s.ok(
        "POST",
        "/api/v1/members",
        None,
        Some(json!({"id": "ret1", "name": "Retail One", "kind": "retailer"})),
    )
    .await;
    s.ok(
        "POST",
        "/api/v1/members/ret1/status",
        Some(&operator),
        Some(json!({"status": "active"})),
    )
    .await;
    book(s).await;
}

/// Retailer ret1 with customers C1 (user c1-user) and C2 (user c2-user),
/// readings for both, and their July bills.
async fn book(s: &Platform) {
    let r = Retail::new(s.store.clone());
    let v = Viewer::Staff {
        retailer_id: "ret1".into(),
    };
    r.put_package(
        &v,
        PricePackage {
            id: "FIX".into(),
            retailer_id: "ret1".into(),
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
    for id in ["C1", "C2"] {
        r.register_customer(
            &v,
            Customer {
                id: id.into(),
                retailer_id: "ret1".into(),
                name: format!("customer {id}"),
                credit_code: "91440600MA4UJ1234X".into(),
                industry: "retail".into(),
                voltage: VoltageLevel::Kv0_4,
                contracted_kva: 100,
                status: CustomerStatus::Prospect,
                contacts: vec![],
                portal_users: vec![format!("{}-user", id.to_lowercase())],
            },
        )
        .await
        .unwrap();
        r.add_metering_point(
            &v,
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
        let mut monthly = vec![0; 12];
        monthly[6] = 4000;
        r.put_contract(
            &v,
            Contract {
                id: format!("{id}:2026"),
                customer_id: id.into(),
                retailer_id: "ret1".into(),
                package_id: "FIX".into(),
                package_version: 1,
                start: Month::parse("2026-01").unwrap(),
                annual_wh: 4000,
                monthly_wh: monthly,
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
    let csv = "meter_id,interval_start,kwh\nM-C1,2026-07-01T00:00,4\nM-C2,2026-07-01T00:00,6\n";
    r.import_readings(&v, "r.csv", csv.as_bytes(), ImportKind::Readings)
        .await
        .unwrap();
    let july = Month::parse("2026-07").unwrap();
    r.rate_all(
        &v,
        july,
        &MarketPrices {
            spot: vec![PricePerKwh(3000); july.slots()],
            average_purchase: PricePerKwh(3000),
        },
        "rated",
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retail_customer_cannot_see_another_customers_bill() {
    let s = Platform::start().await;
    retailer(&s).await;
    let c1 = s.user("c1-user", Role::RetailCustomer, Some("ret1")).await;
    let billing = s
        .user("ret1-billing", Role::RetailBilling, Some("ret1"))
        .await;
    let staff = s.staff_of("ret1").await;

    // own bill: 4 kWh × 0.50 = 2.00 yuan + 13 % VAT = 2.26 yuan = 226 fen
    let own = s
        .ok(
            "GET",
            "/api/v1/retail/customers/C1/invoices/2026-07",
            Some(&c1),
            None,
        )
        .await;
    assert_eq!(own["value"]["total"], json!(226));
    // another customer's bill, account and bill list
    for path in [
        "/api/v1/retail/customers/C2/invoices/2026-07",
        "/api/v1/retail/customers/C2",
        "/api/v1/retail/customers/C2/invoices/2026-07/versions",
    ] {
        let (status, body) = s.call("GET", path, Some(&c1), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
        assert!(!body.to_string().contains("\"total\""), "{body}");
    }
    let listed = s
        .ok(
            "GET",
            "/api/v1/retail/months/2026-07/invoices",
            Some(&c1),
            None,
        )
        .await;
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["value"]["customer_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["C1"]);
    // staff-only endpoints refuse the customer by role
    let (status, body) = s
        .call("GET", "/api/v1/retail/packages", Some(&c1), None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["code"], "role_forbidden");

    // billing staff read the whole book; the market's member staff do not
    let both = s
        .ok(
            "GET",
            "/api/v1/retail/months/2026-07/invoices",
            Some(&billing),
            None,
        )
        .await;
    assert_eq!(both.as_array().unwrap().len(), 2);
    let csv = s
        .request(
            "GET",
            "/api/v1/retail/customers/C2/invoices/2026-07?format=csv",
            Some(&billing),
            None,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(csv.text().await.unwrap().starts_with("code,description"));
    let (status, _) = s
        .call("GET", "/api/v1/retail/customers", Some(&staff.trader), None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // importing meter data: billing yes, the customer no; refused rows named
    let bad = b"meter_id,interval_start,kwh\nM-C9,2026-07-01T00:15,1\n".to_vec();
    let (status, body) = s
        .call_raw(
            "POST",
            "/api/v1/retail/meter-data",
            Some(&billing),
            "text/csv",
            bad.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["details"][0]["rule"], "known_meter");
    let (status, _) = s
        .call_raw(
            "POST",
            "/api/v1/retail/meter-data",
            Some(&c1),
            "text/csv",
            bad,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_forecast_the_portfolio_and_send_an_energy_report_from_imported_readings() {
    use crate::common::retail_book::{DAYS, first_day, kwh_of, readings_csv, tou_customer};
    use voltex_retail::decide::forecast::{LoadHistory, forecast_portfolio};

    let s = Platform::start().await;
    retailer(&s).await;
    // C3 on a Guangdong TOU package with a capacity charge
    let r = Retail::new(s.store.clone());
    let v = Viewer::Staff {
        retailer_id: "ret1".into(),
    };
    tou_customer(&r, &v, "C3", "Factory <Three> & Co", "c3-user").await;

    // 66 days of readings, imported over HTTP by billing staff
    let billing = s
        .user("ret1-billing", Role::RetailBilling, Some("ret1"))
        .await;
    for (c, meter) in ["M-C1", "M-C2", "M-C3"].iter().enumerate() {
        let csv = readings_csv(meter, c);
        let (status, body) = s
            .call_raw(
                "POST",
                &format!("/api/v1/retail/meter-data?name={meter}.csv"),
                Some(&billing),
                "text/csv",
                csv.into_bytes(),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    // the forecast of 20 August: all three customers, as the library makes it
    let got = s
        .ok(
            "GET",
            "/api/v1/retail/forecasts/2026-08-20",
            Some(&billing),
            None,
        )
        .await;
    assert_eq!(got["customers_in_book"], json!(3), "{got}");
    assert_eq!(got["left_out"], json!([]));
    let histories: Vec<LoadHistory> = (0..3)
        .map(|c| LoadHistory {
            start: first_day(),
            kwh: (0..DAYS)
                .flat_map(|d| (0..96).map(move |slot| kwh_of(c, d, slot)))
                .collect(),
        })
        .collect();
    let refs = vec![
        ("C1", &histories[0]),
        ("C2", &histories[1]),
        ("C3", &histories[2]),
    ];
    let target = chrono::NaiveDate::from_ymd_opt(2026, 8, 20).unwrap();
    let want = forecast_portfolio(&refs, target, 28);
    let next_day: Vec<f64> = got["forecast"]["next_day"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    assert_eq!(next_day.len(), 96);
    for (a, b) in next_day.iter().zip(&want.next_day) {
        assert!((a - b).abs() < 1e-9, "{a} vs {b}");
    }
    assert!(
        (got["forecast"]["portfolio"]["wape_pct"].as_f64().unwrap() - want.portfolio.wape_pct)
            .abs()
            < 1e-9
    );
    // a forecast day whose history is too short lists every customer as left out
    let early = s
        .ok(
            "GET",
            "/api/v1/retail/forecasts/2026-07-01",
            Some(&billing),
            None,
        )
        .await;
    assert_eq!(early["left_out"].as_array().unwrap().len(), 3, "{early}");
    assert_eq!(early["left_out"][0]["needed_days"], json!(35));
    let (status, body) = s
        .call(
            "GET",
            "/api/v1/retail/forecasts/20-08-2026",
            Some(&billing),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["details"][0]["field"], "day");

    // the energy report of C3: figures, and the page in both languages
    let figures = s
        .ok(
            "GET",
            "/api/v1/retail/customers/C3/energy-report?format=json&before=2026-08-20",
            Some(&billing),
            None,
        )
        .await;
    assert_eq!(figures["days"], json!(DAYS), "{figures}");
    assert!(figures["battery"]["power_kw"].as_f64().unwrap() >= 0.0);
    for (lang, title) in [
        ("en", "Energy efficiency report"),
        ("zh-CN", "能效分析报告"),
    ] {
        let page = s
            .request(
                "GET",
                &format!("/api/v1/retail/customers/C3/energy-report?lang={lang}&before=2026-08-20"),
                Some(&billing),
                None,
            )
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(html.contains(title), "{lang}");
        assert!(html.contains("<svg"));
        assert!(html.contains("Factory &lt;Three&gt; &amp; Co"));
    }
    // C1 is on a fixed price: no TOU report; another customer's report: 403
    let (status, body) = s
        .call(
            "GET",
            "/api/v1/retail/customers/C1/energy-report?format=json&before=2026-08-20",
            Some(&billing),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let c1 = s.user("c1-user", Role::RetailCustomer, Some("ret1")).await;
    let (status, _) = s
        .call(
            "GET",
            "/api/v1/retail/customers/C3/energy-report?before=2026-08-20",
            Some(&c1),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let c3 = s.user("c3-user", Role::RetailCustomer, Some("ret1")).await;
    let (status, _) = s
        .call(
            "GET",
            "/api/v1/retail/customers/C3/energy-report?format=json&before=2026-08-20",
            Some(&c3),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // the forecast is staff-only
    let (status, _) = s
        .call(
            "GET",
            "/api/v1/retail/forecasts/2026-08-20",
            Some(&c3),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
