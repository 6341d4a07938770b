//! The retail tables (migrations/0010) on both backends: a retailer's
//! records are read by owner and never another retailer's; a re-rated bill
//! is a new version and the old one stays in the history; a meter-month
//! is found by its `<meter>:<month>` id prefix.

use crate::support::TestDb;
use serde::{Deserialize, Serialize};
use voltex_store::{Entity, StoreError};

/// A stand-in for voltex-retail's `Invoice` (the store knows no retail type).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Bill {
    customer: String,
    month: String,
    retailer: String,
    total_fen: i64,
}

impl Entity for Bill {
    const TABLE: &'static str = "retail_invoices";
    const NAME: &'static str = "invoice";
    const SENSITIVE: bool = true;
    const OWNED: bool = true;
    fn entity_id(&self) -> String {
        format!("{}:{}", self.customer, self.month)
    }
    fn owner(&self) -> Option<&str> {
        Some(&self.retailer)
    }
}

/// A stand-in for voltex-retail's `MeterMonth`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Readings {
    meter: String,
    month: String,
    retailer: String,
    wh: Vec<i64>,
}

impl Entity for Readings {
    const TABLE: &'static str = "retail_meter_months";
    const NAME: &'static str = "meter month";
    const SENSITIVE: bool = true;
    const OWNED: bool = true;
    fn entity_id(&self) -> String {
        format!("{}:{}", self.meter, self.month)
    }
    fn owner(&self) -> Option<&str> {
        Some(&self.retailer)
    }
}

fn bill(customer: &str, retailer: &str, total_fen: i64) -> Bill {
    Bill {
        customer: customer.into(),
        month: "2026-07".into(),
        retailer: retailer.into(),
        total_fen,
    }
}

async fn sqlite() -> TestDb {
    crate::support::sqlite().await
}

async fn postgres() -> TestDb {
    crate::support::postgres("retail").await
}

async fn a_retailers_bills_are_its_own_and_rerating_keeps_history(db: &TestDb) {
    let s = &db.store;
    s.insert(&bill("C1", "RET1", 100)).await.unwrap();
    s.insert(&bill("C2", "RET1", 200)).await.unwrap();
    s.insert(&bill("D1", "RET2", 300)).await.unwrap();
    let mine = s.list_owned::<Bill>("RET1").await.unwrap();
    let ids: Vec<&str> = mine.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, vec!["C1:2026-07", "C2:2026-07"]);
    // re-rating: a new version on top of the one read; a stale writer conflicts
    s.append(&bill("C1", "RET1", 150), 1).await.unwrap();
    let stale = s.append(&bill("C1", "RET1", 175), 1).await.unwrap_err();
    assert!(matches!(stale, StoreError::Conflict { .. }), "{stale}");
    let history = s.history::<Bill>("C1:2026-07").await.unwrap();
    let totals: Vec<i64> = history.iter().map(|r| r.value.total_fen).collect();
    assert_eq!(totals, vec![100, 150]);
    assert_eq!(
        s.get::<Bill>("C1:2026-07").await.unwrap().unwrap().version,
        2
    );
}

async fn meter_months_are_found_by_meter_prefix_and_owner(db: &TestDb) {
    let s = &db.store;
    let r = |meter: &str, month: &str, retailer: &str| Readings {
        meter: meter.into(),
        month: month.into(),
        retailer: retailer.into(),
        wh: vec![250; 2976],
    };
    s.insert(&r("MP1", "2026-07", "RET1")).await.unwrap();
    s.insert(&r("MP1", "2026-08", "RET1")).await.unwrap();
    s.insert(&r("MP2", "2026-07", "RET1")).await.unwrap();
    let got = s
        .list_owned_prefixed::<Readings>("RET1", "MP1:")
        .await
        .unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].value.wh.len(), 2976);
    assert!(
        s.list_owned_prefixed::<Readings>("RET2", "MP1:")
            .await
            .unwrap()
            .is_empty()
    );
}

crate::support::on_backend!(sqlite: a_retailers_bills_are_its_own_and_rerating_keeps_history, meter_months_are_found_by_meter_prefix_and_owner);
crate::support::on_backend!(postgres: a_retailers_bills_are_its_own_and_rerating_keeps_history, meter_months_are_found_by_meter_prefix_and_owner);
