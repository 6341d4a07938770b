//! The market evaluation's tables (migrations/0009) on both backends: a
//! member's records of a day are read by owner and id prefix, nothing of
//! another member or another day comes back, and a re-run's new version
//! replaces the old one in the answer.

use crate::support::TestDb;
use serde::{Deserialize, Serialize};
use voltex_store::Entity;

/// A stand-in for voltex-market's `MarketAlert` (the store knows no market type).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Alert {
    day: String,
    kind: String,
    unit: String,
    member_id: String,
    finding: String,
}

impl Entity for Alert {
    const TABLE: &'static str = "market_alerts";
    const NAME: &'static str = "market alert";
    const SENSITIVE: bool = true;
    const OWNED: bool = true;
    fn entity_id(&self) -> String {
        format!("{}:{}:{}", self.day, self.kind, self.unit)
    }
    fn owner(&self) -> Option<&str> {
        Some(&self.member_id)
    }
}

fn alert(day: &str, kind: &str, unit: &str, member: &str) -> Alert {
    Alert {
        day: day.into(),
        kind: kind.into(),
        unit: unit.into(),
        member_id: member.into(),
        finding: "offers above the conduct threshold".into(),
    }
}

async fn sqlite() -> TestDb {
    crate::support::sqlite().await
}

async fn postgres() -> TestDb {
    crate::support::postgres("evaluation").await
}

async fn a_members_alerts_of_a_day_are_read_by_owner_and_prefix(db: &TestDb) {
    let s = &db.store;
    s.insert(&alert("2026-12-08", "conduct", "u1", "gen1"))
        .await
        .unwrap();
    s.insert(&alert("2026-12-08", "physical_withholding", "u1", "gen1"))
        .await
        .unwrap();
    s.insert(&alert("2026-12-08", "conduct", "u2", "gen2"))
        .await
        .unwrap();
    s.insert(&alert("2026-12-09", "conduct", "u1", "gen1"))
        .await
        .unwrap();
    let mine = s
        .list_owned_prefixed::<Alert>("gen1", "2026-12-08:")
        .await
        .unwrap();
    let ids: Vec<&str> = mine.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        vec![
            "2026-12-08:conduct:u1",
            "2026-12-08:physical_withholding:u1"
        ]
    );
    assert!(
        s.list_owned_prefixed::<Alert>("gen3", "2026-12-08:")
            .await
            .unwrap()
            .is_empty()
    );
    // a re-run appends a version; the answer holds the latest only
    let mut again = alert("2026-12-08", "conduct", "u1", "gen1");
    again.finding = "re-evaluated".into();
    s.append(&again, 1).await.unwrap();
    let mine = s
        .list_owned_prefixed::<Alert>("gen1", "2026-12-08:")
        .await
        .unwrap();
    assert_eq!(mine.len(), 2);
    assert_eq!(mine[0].version, 2);
    assert_eq!(mine[0].value.finding, "re-evaluated");
}

crate::support::on_backend!(sqlite: a_members_alerts_of_a_day_are_read_by_owner_and_prefix);
crate::support::on_backend!(postgres: a_members_alerts_of_a_day_are_read_by_owner_and_prefix);
