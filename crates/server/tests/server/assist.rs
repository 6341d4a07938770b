//! Customer service over real HTTP on loopback: a signed-in member's user
//! asks in English and Chinese and gets the FAQ entry in the question's
//! language; an unknown question is queued, which operators and auditors can
//! read and members cannot; an operator's answer becomes a draft that its
//! author cannot approve and a second operator can, after which it is the
//! answer; a personal intent answers from the store; votes and statistics.

use crate::common::{Platform, SignedInUser};
use reqwest::StatusCode;
use serde_json::json;
use voltex_security::Role;

async fn trader(s: &Platform, operator: &SignedInUser) -> SignedInUser {
    let reg = s
        .call(
            "POST",
            "/api/v1/members",
            None,
            Some(json!({"id": "gen1", "name": "Member gen1", "kind": "generator"})),
        )
        .await;
    assert_eq!(reg.0, StatusCode::CREATED, "{}", reg.1);
    s.ok(
        "POST",
        "/api/v1/members/gen1/status",
        Some(operator),
        Some(json!({"status": "active"})),
    )
    .await;
    s.staff_of("gen1").await.trader
}

/// `POST /api/v1/assist/ask` as `who`; the answer (200 expected).
async fn ask(s: &Platform, who: &SignedInUser, question: &str) -> serde_json::Value {
    s.ok(
        "POST",
        "/api/v1/assist/ask",
        Some(who),
        Some(json!({ "question": question })),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn questions_are_answered_queued_drafted_approved_and_counted_over_http() {
    let s = Platform::start().await;
    let op = s.operator().await;
    let op2 = s.user("operator2", Role::Operator, None).await;
    let auditor = s.user("auditor1", Role::Auditor, None).await;
    let t = trader(&s, &op).await;

    // Asking needs a session.
    let (status, _) = s
        .call(
            "POST",
            "/api/v1/assist/ask",
            None,
            Some(json!({"question": "What is an LMP?"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Answers in the question's language.
    let en = ask(&s, &t, "How is my settlement calculated?").await;
    assert_eq!(en["kind"], "answer", "{en}");
    assert_eq!(en["best"]["id"], "settlement-formula.en");
    let zh = ask(&s, &t, "结算金额是怎么计算的？").await;
    assert_eq!(zh["best"]["id"], "settlement-formula.zh", "{zh}");
    assert_eq!(zh["lang"], "zh-CN");

    // A personal intent: from the store's market parameters.
    let gate = ask(&s, &t, "When does today's window close?").await;
    assert_eq!(gate["kind"], "personal", "{gate}");
    assert_eq!(gate["personal"]["intent"], "gate_closure");

    // An unknown question is queued; members may not read the queue.
    let q = "Can we pay with a company credit card?";
    let unknown = ask(&s, &t, q).await;
    assert_eq!(unknown["kind"], "not_known", "{unknown}");
    let qid = unknown["question_id"].as_str().unwrap().to_owned();
    let (status, _) = s.call("GET", "/api/v1/assist/queue", Some(&t), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let queue = s
        .ok("GET", "/api/v1/assist/queue", Some(&auditor), None)
        .await;
    assert_eq!(queue.as_array().unwrap().len(), 1);
    assert_eq!(queue[0]["id"], qid.as_str());

    // Auditors read but do not answer.
    let answer = json!({
        "topic": "statement-payment",
        "answer": "Statements are paid by bank transfer to the operator's settlement account; cards are not accepted."
    });
    let (status, _) = s
        .call(
            "POST",
            &format!("/api/v1/assist/queue/{qid}/answer"),
            Some(&auditor),
            Some(answer.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let draft = s
        .ok(
            "POST",
            &format!("/api/v1/assist/queue/{qid}/answer"),
            Some(&op),
            Some(answer),
        )
        .await;
    assert_eq!(draft["approval"], "draft");
    assert_eq!(draft["author"], "operator");

    // A bad topic is refused naming the field and the rule.
    let again = ask(&s, &t, "Is there a dark mode in the portal?").await;
    let (status, body) = s
        .call(
            "POST",
            &format!(
                "/api/v1/assist/queue/{}/answer",
                again["question_id"].as_str().unwrap()
            ),
            Some(&op),
            Some(json!({"topic": "Bad Topic!", "answer": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["details"][0]["field"], "topic");

    // The author may not approve; a second operator may, and it is answered.
    let (status, body) = s
        .call(
            "POST",
            "/api/v1/assist/entries/statement-payment.en/approve",
            Some(&op),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["details"][0]["rule"], "not_the_author");
    s.ok(
        "POST",
        "/api/v1/assist/entries/statement-payment.en/approve",
        Some(&op2),
        None,
    )
    .await;
    let now = ask(&s, &t, q).await;
    assert_eq!(now["kind"], "answer", "{now}");
    assert_eq!(now["best"]["id"], "statement-payment.en");

    // Only the asker may down-vote; others get 404.
    let own = now["question_id"].as_str().unwrap();
    let (status, _) = s
        .call(
            "POST",
            &format!("/api/v1/assist/questions/{own}/down-vote"),
            Some(&op),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let voted = s
        .ok(
            "POST",
            &format!("/api/v1/assist/questions/{own}/down-vote"),
            Some(&t),
            None,
        )
        .await;
    assert_eq!(voted["state"], "open");

    let stats = s
        .ok(
            "GET",
            "/api/v1/assist/statistics?top=3",
            Some(&auditor),
            None,
        )
        .await;
    assert_eq!(stats["asked"], 6, "{stats}");
    assert_eq!(stats["not_known"], 2);
    assert_eq!(stats["down_voted"], 1);
    // The dark-mode question (still open) and the down-voted one.
    assert_eq!(stats["open_in_queue"], 2);
}

/// Personal questions are answered as the asker's own role allows: a
/// member's trader hears of its member's reviews, while a retail customer
/// of the same member (a retailer) hears nothing of the retailer's market
/// data, only of its own retail accounts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_answers_follow_the_askers_role_and_tenant() {
    let s = Platform::start().await;
    let op = s.operator().await;
    let t = trader(&s, &op).await;
    let customer = s.user("cust1", Role::RetailCustomer, Some("gen1")).await;

    let own = ask(&s, &t, "Why was my offer refused?").await;
    assert_eq!(own["personal"]["intent"], "refused_declaration", "{own}");
    let settlement = ask(&s, &t, "我昨天的结算是多少").await;
    assert_eq!(
        settlement["personal"]["intent"], "settlement",
        "{settlement}"
    );

    let not_theirs = ask(&s, &customer, "Why was my offer refused?").await;
    assert_ne!(not_theirs["kind"], "personal", "{not_theirs}");
    let bill = ask(&s, &customer, "我的账单为什么比上月高").await;
    assert_eq!(bill["personal"]["intent"], "bill_change", "{bill}");
    assert_eq!(
        bill["personal"]["text"], "没有以您为用户的售电账户。",
        "{bill}"
    );
}
