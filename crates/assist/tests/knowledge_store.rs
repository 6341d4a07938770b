//! The customer-service tables (migrations/0011) on both backends: seeding
//! is idempotent and fills a fresh store, and the unknown-question loop
//! (record, queue, operator draft, approval by a second operator, indexed at
//! once, statistics) behaves the same on SQLite and PostgreSQL.
use voltex_assist::{
    Approval, Asker, Assistant, FaqEntry, OperatorAnswer, QueueState, down_vote, ensure_seeded,
    queue, seed_entries, statistics,
};
use voltex_market::Market;
use voltex_testdb::{TestDb, on_backend};

async fn sqlite() -> TestDb {
    voltex_testdb::sqlite().await
}

async fn postgres() -> TestDb {
    voltex_testdb::postgres("assist").await
}

fn cli() -> Asker {
    Asker {
        user: "cli".into(),
        member_id: None,
        record: true,
        ..Default::default()
    }
}

async fn seeding_fills_a_fresh_store_once(db: &TestDb) {
    let s = &db.store;
    let n = seed_entries().unwrap().len();
    assert_eq!(ensure_seeded(s).await.unwrap(), n);
    assert_eq!(ensure_seeded(s).await.unwrap(), 0);
    let stored = s.list::<FaqEntry>().await.unwrap();
    assert_eq!(stored.len(), n);
    assert!(stored.iter().all(|r| r.version == 1
        && r.value.approval == Approval::Approved
        && r.value.author == voltex_assist::SEED_AUTHOR));
}

async fn an_unknown_question_becomes_an_approved_answer(db: &TestDb) {
    let assistant = Assistant::open(Market::open(db.store.clone()).await.unwrap())
        .await
        .unwrap();
    let q = "Can I pay my statement with a company credit card?";
    let first = assistant.ask(q, &cli()).await.unwrap();
    assert_eq!(first.kind, "not_known");
    let qid = first.question_id.clone().unwrap();
    let open = queue(&db.store).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].id, qid);
    assert_eq!(open[0].closest.len(), first.closest.len());

    let draft = assistant
        .answer_queued(
            &qid,
            "op1",
            &OperatorAnswer {
                topic: "statement-payment".into(),
                answer: "Statements are paid by bank transfer to the operator's settlement account; credit cards are not accepted.".into(),
                more_questions: vec!["How do I pay my statement?".into()],
                tags: vec!["payment".into()],
            },
        )
        .await
        .unwrap();
    assert_eq!(draft.approval, Approval::Draft);
    assert_eq!(draft.id, "statement-payment.en");
    assert!(queue(&db.store).await.unwrap().is_empty());
    // A draft is not answered.
    assert_eq!(assistant.ask(q, &cli()).await.unwrap().kind, "not_known");

    // Its author may not approve it; another operator may.
    let err = assistant.approve(&draft.id, "op1").await.unwrap_err();
    assert!(err.to_string().contains("not_the_author"), "{err}");
    let approved = assistant.approve(&draft.id, "op2").await.unwrap();
    assert_eq!(approved.approved_by.as_deref(), Some("op2"));
    let after = assistant.ask(q, &cli()).await.unwrap();
    assert_eq!(after.kind, "answer");
    assert_eq!(after.best.unwrap().id, "statement-payment.en");

    // History: a draft version, then the approved one.
    let history = db.store.history::<FaqEntry>(&draft.id).await.unwrap();
    let states: Vec<Approval> = history.iter().map(|r| r.value.approval).collect();
    assert_eq!(states, vec![Approval::Draft, Approval::Approved]);

    // Reopened (a restart), the approved entry is still answered.
    let reopened = Assistant::open(Market::open(db.store.clone()).await.unwrap())
        .await
        .unwrap();
    assert_eq!(reopened.ask(q, &cli()).await.unwrap().kind, "answer");

    let stats = statistics(&db.store, 5).await.unwrap();
    assert_eq!(stats.asked, 4);
    assert_eq!(stats.not_known, 2);
    assert_eq!(stats.answered, 2);
    // The same question asked again while its answer was a draft is queued again.
    assert_eq!(stats.open_in_queue, 1);
    assert_eq!(stats.top_unknown[0].1, 2);
}

async fn a_down_voted_answer_joins_the_queue_for_its_asker_only(db: &TestDb) {
    let assistant = Assistant::open(Market::open(db.store.clone()).await.unwrap())
        .await
        .unwrap();
    let asker = Asker {
        user: "trader1".into(),
        member_id: Some("gen1".into()),
        record: true,
        ..Default::default()
    };
    let a = assistant
        .ask("How is my settlement calculated?", &asker)
        .await
        .unwrap();
    assert_eq!(a.kind, "answer");
    let qid = a.question_id.unwrap();
    assert!(queue(&db.store).await.unwrap().is_empty());
    assert!(down_vote(&db.store, &qid, "trader2").await.is_err());
    let q = down_vote(&db.store, &qid, "trader1").await.unwrap();
    assert!(q.down_voted);
    assert_eq!(q.state, QueueState::Open);
    assert_eq!(queue(&db.store).await.unwrap().len(), 1);
    assert_eq!(statistics(&db.store, 5).await.unwrap().down_voted, 1);
}

on_backend!(sqlite: seeding_fills_a_fresh_store_once, an_unknown_question_becomes_an_approved_answer, a_down_voted_answer_joins_the_queue_for_its_asker_only);
on_backend!(postgres: seeding_fills_a_fresh_store_once, an_unknown_question_becomes_an_approved_answer, a_down_voted_answer_joins_the_queue_for_its_asker_only);
