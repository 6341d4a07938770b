//! Personal questions answered from the asker's own data on both backends:
//! a member hears of its own rejected and held declarations and its own
//! statement, never another member's; without a market identity the
//! knowledge base answers the general form.
use chrono::{Duration, TimeZone, Utc};
use voltex_assist::{Asker, Assistant};
use voltex_market::dispatch::PositionKind;
use voltex_market::review::{DeclarationReview, ReviewState};
use voltex_market::settlement::{Statement, StatementLine};
use voltex_market::{Actor, Market};
use voltex_model::{MemberKind, MemberStatus};
use voltex_testdb::{TestDb, on_backend};

async fn sqlite() -> TestDb {
    voltex_testdb::sqlite().await
}

async fn postgres() -> TestDb {
    voltex_testdb::postgres("assist_personal").await
}

fn member(id: &str) -> Asker {
    Asker {
        user: format!("{id}-trader"),
        member_id: Some(id.into()),
        actor: Some(Actor {
            member_id: id.into(),
            kind: MemberKind::Generator,
            status: MemberStatus::Active,
        }),
        record: false,
        ..Default::default()
    }
}

fn review(member: &str, key: &str, state: ReviewState, reason: Option<&str>) -> DeclarationReview {
    DeclarationReview {
        declaration_key: key.into(),
        declaration_version: 2,
        session_id: "DA-2026-07-02".into(),
        member_id: member.into(),
        state,
        finding: "mean offer price 900.00 vs 300.00 last accepted: +200 % exceeds the ±50 % band"
            .into(),
        reason: reason.map(str::to_owned),
        decided_at: (state != ReviewState::Held).then(Utc::now),
    }
}

fn statement(member: &str, day: chrono::NaiveDate) -> Statement {
    let line = |resource: &str, amount: f64| StatementLine {
        interval: 0,
        resource_id: resource.into(),
        kind: PositionKind::Generation,
        da_mw: 50.0,
        da_lmp: 300.0,
        da_amount: amount,
        rt_mw: 50.0,
        rt_lmp: 300.0,
        deviation_mw: 0.0,
        rt_amount: 0.0,
        amount,
    };
    Statement {
        trading_day: day,
        member_id: member.into(),
        member_name: member.into(),
        issued_at: Utc::now(),
        interval_minutes: 15.0,
        day_ahead_run: 1,
        real_time_run: None,
        lines: vec![line("G1", 3750.0), line("G2", 1250.0)],
        da_total: 5000.0,
        rt_total: 0.0,
        total: 5000.0,
        operator: None,
    }
}

async fn a_member_hears_of_its_own_refused_declarations_only(db: &TestDb) {
    let s = &db.store;
    s.append(
        &review(
            "gen1",
            "gen1:DA-2026-07-02:energy_offer:G1",
            ReviewState::Rejected,
            Some("price typed in the wrong unit"),
        ),
        0,
    )
    .await
    .unwrap();
    s.append(
        &review(
            "gen1",
            "gen1:DA-2026-07-02:energy_offer:G2",
            ReviewState::Held,
            None,
        ),
        0,
    )
    .await
    .unwrap();
    s.append(
        &review(
            "gen2",
            "gen2:DA-2026-07-02:energy_offer:H1",
            ReviewState::Rejected,
            Some("secret of gen2"),
        ),
        0,
    )
    .await
    .unwrap();
    let a = Assistant::open(Market::open(s.clone()).await.unwrap())
        .await
        .unwrap();

    let en = a
        .ask("Why was my offer refused?", &member("gen1"))
        .await
        .unwrap();
    assert_eq!(en.kind, "personal");
    let text = en.personal.unwrap().text;
    assert!(text.contains("price typed in the wrong unit"), "{text}");
    assert!(text.contains("energy_offer:G2 v2"), "{text}");
    assert!(text.contains("held for the operator's review"), "{text}");
    assert!(
        !text.contains("gen2"),
        "another member's review leaked: {text}"
    );

    let zh = a
        .ask("我的申报为什么被驳回了", &member("gen1"))
        .await
        .unwrap();
    let text = zh.personal.unwrap().text;
    assert!(
        text.contains("已被运营方驳回") && text.contains("price typed in the wrong unit"),
        "{text}"
    );

    let other = a
        .ask("Why was my offer refused?", &member("gen3"))
        .await
        .unwrap();
    let text = other.personal.unwrap().text;
    assert!(text.starts_with("None of your declarations"), "{text}");
    assert!(!text.contains("gen1") && !text.contains("gen2"), "{text}");

    // Without a market identity: the knowledge base's general answer.
    let cli = Asker {
        user: "cli".into(),
        ..Default::default()
    };
    let general = a.ask("Why was my offer refused?", &cli).await.unwrap();
    assert_ne!(general.kind, "personal");
}

async fn a_member_hears_its_own_statement_of_yesterday(db: &TestDb) {
    let s = &db.store;
    // Noon in Beijing: yesterday is the day before in the market's zone.
    let now = chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(2026, 7, 3, 12, 0, 0)
        .unwrap()
        .with_timezone(&Utc);
    let yesterday = chrono::NaiveDate::from_ymd_opt(2026, 7, 2).unwrap();
    s.append(&statement("gen1", yesterday), 0).await.unwrap();
    s.append(&statement("gen2", yesterday), 0).await.unwrap();
    let a = Assistant::open(Market::open(s.clone()).await.unwrap())
        .await
        .unwrap();
    let answer = |q: &'static str, who: &'static str| {
        let a = &a;
        async move {
            a.personal_answer_at(q, &member(who), now)
                .await
                .unwrap()
                .expect("a personal answer")
                .text
        }
    };
    let text = answer("What is my settlement for yesterday?", "gen1").await;
    assert!(
        text.contains("2026-07-02") && text.contains("5000.00"),
        "{text}"
    );
    assert!(text.contains("largest resource is G1: 3750.00"), "{text}");
    let text = answer("我昨天的结算是多少", "gen1").await;
    assert!(text.contains("合计 5000.00 元"), "{text}");
    // gen3 has none: told so, with the session's state, nothing of gen1's.
    let text = answer("What is my settlement for yesterday?", "gen3").await;
    assert!(
        text.starts_with("No statement of yours for 2026-07-02"),
        "{text}"
    );
    assert!(!text.contains("5000"), "{text}");
    // Not asked for yesterday: the latest statement of the last 31 days.
    let later = now + Duration::days(5);
    let text = a
        .personal_answer_at("show my latest statement", &member("gen1"), later)
        .await
        .unwrap()
        .unwrap()
        .text;
    assert!(text.contains("2026-07-02"), "{text}");
}

on_backend!(sqlite: a_member_hears_of_its_own_refused_declarations_only, a_member_hears_its_own_statement_of_yesterday);
on_backend!(postgres: a_member_hears_of_its_own_refused_declarations_only, a_member_hears_its_own_statement_of_yesterday);
