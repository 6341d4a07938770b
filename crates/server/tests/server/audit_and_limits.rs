//! The server's audit trail and its rate and time limits, over real HTTP on
//! loopback: state-changing requests land in the store's hash chain with
//! who, what, from where and how it ended (and nothing secret); reads leave
//! no row; one member's flood is refused with 429 and `Retry-After` while a
//! well-behaved member is served; anonymous callers are limited per address;
//! a request that takes too long is abandoned with 503.

use crate::common::{Platform, SignedInUser, request_as};
use reqwest::{Client, RequestBuilder, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use voltex_market::Market;
use voltex_security::Role;
use voltex_server::ServerConfig;
use voltex_server::audit::{audit_record, verify_stored_chain};
use voltex_server::limits::RateLimit;
use voltex_store::AuditRow;

async fn audit(s: &Platform) -> Vec<AuditRow> {
    s.store.audit_rows(1, 10_000).await.unwrap()
}

/// Registers `id` and has the operator approve it.
async fn active_member(s: &Platform, operator: &SignedInUser, id: &str) {
    let reg = s
        .call(
            "POST",
            "/api/v1/members",
            None,
            Some(json!({"id": id, "name": format!("Member {id}"), "kind": "generator"})),
        )
        .await;
    assert_eq!(reg.0, StatusCode::CREATED, "{}", reg.1);
    let ok = s
        .call(
            "POST",
            &format!("/api/v1/members/{id}/status"),
            Some(operator),
            Some(json!({"status": "active"})),
        )
        .await;
    assert_eq!(ok.0, StatusCode::OK, "{}", ok.1);
}

/// The administrator of member `id` (user `<id>-admin`), signed in.
async fn admin_of(s: &Platform, id: &str) -> SignedInUser {
    s.user(&format!("{id}-admin"), Role::MemberAdministrator, Some(id))
        .await
}

/// Sends one request; answers status, `Retry-After` (if any) and the JSON body.
async fn send(req: RequestBuilder) -> (StatusCode, Option<String>, Value) {
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = resp.text().await.unwrap();
    (
        status,
        retry_after,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn no_limits() -> ServerConfig {
    ServerConfig {
        per_token: RateLimit::new(1e6, 1_000_000),
        per_address: RateLimit::new(1e6, 1_000_000),
        ..ServerConfig::default()
    }
}

fn assert_rate_limited(status: StatusCode, retry_after: Option<&str>, body: &Value) {
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    assert!(body["error"]["details"].is_array(), "{body}");
    let secs: u64 = retry_after
        .expect("a 429 carries Retry-After")
        .parse()
        .expect("Retry-After is whole seconds");
    assert!(secs >= 1, "Retry-After {secs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_changing_requests_are_chained_in_the_audit_log_and_reads_are_not() {
    let s = Platform::start_with(no_limits()).await;
    let op = s.operator().await; // row 1: the sign-in

    // Reads leave no row.
    assert_eq!(s.call("GET", "/health", None, None).await.0, StatusCode::OK);
    assert_eq!(
        s.call("GET", "/api/v1/members", Some(&op), None).await.0,
        StatusCode::OK
    );
    assert_eq!(audit(&s).await.len(), 1);

    active_member(&s, &op, "gen1").await; // rows 2 (anonymous) and 3 (operator)
    active_member(&s, &op, "gen2").await; // rows 4 and 5
    let gen1 = admin_of(&s, "gen1").await; // rows 6 and 7: sign-ins
    let gen2 = admin_of(&s, "gen2").await;
    // A member may not change another's status: denied, by a real member.
    let forbidden = s
        .call(
            "POST",
            "/api/v1/members/gen2/status",
            Some(&gen1),
            Some(json!({"status": "suspended"})),
        )
        .await;
    assert_eq!(forbidden.0, StatusCode::FORBIDDEN, "{}", forbidden.1);
    // An invented session is denied and logged as anonymous.
    let ghost = s
        .call(
            "PATCH",
            "/api/v1/members/gen1",
            Some(&SignedInUser::unknown("ghost")),
            Some(json!({"name": "Taken over"})),
        )
        .await;
    assert_eq!(ghost.0, StatusCode::UNAUTHORIZED, "{}", ghost.1);
    // A body that does not parse fails; a secret in a header stays out.
    let invalid = s
        .client
        .post(format!("{}/api/v1/members", s.base))
        .header("x-api-key", "tok-SECRET-41")
        .json(&json!({"id": "gen3", "name": "Secret Plant Name", "kind": "generator", "colour": "red"}))
        .send()
        .await
        .unwrap();
    assert_eq!(invalid.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // A change to a path that is no route: failed, in the error shape, and
    // logged as the signed-in user who sent it.
    let nowhere = s.call("DELETE", "/api/v1/nowhere", Some(&gen2), None).await;
    assert_eq!(nowhere.0, StatusCode::NOT_FOUND);
    assert_eq!(nowhere.1["error"]["code"], "not_found", "{}", nowhere.1);
    // More reads in between still leave no row.
    s.call("GET", "/api/v1/members/gen1", Some(&gen1), None)
        .await;

    let rows = audit(&s).await;
    let records: Vec<_> = rows.iter().map(|r| audit_record(r).unwrap()).collect();
    let seen: Vec<(&str, Option<&str>, &str, &str, &str)> = records
        .iter()
        .map(|r| {
            (
                r.actor.as_str(),
                r.member_id.as_deref(),
                r.action.as_str(),
                r.target.as_str(),
                rows[r.seq as usize - 1].outcome.as_str(),
            )
        })
        .collect();
    let login = "POST /api/v1/auth/login";
    let (register, status) = ("POST /api/v1/members", "POST /api/v1/members/{id}/status");
    assert_eq!(
        seen,
        vec![
            ("operator", None, login, "/api/v1/auth/login", "success"),
            ("anonymous", None, register, "/api/v1/members", "success"),
            (
                "operator",
                Some("operator"),
                status,
                "/api/v1/members/gen1/status",
                "success"
            ),
            ("anonymous", None, register, "/api/v1/members", "success"),
            (
                "operator",
                Some("operator"),
                status,
                "/api/v1/members/gen2/status",
                "success"
            ),
            (
                "gen1-admin",
                Some("gen1"),
                login,
                "/api/v1/auth/login",
                "success"
            ),
            (
                "gen2-admin",
                Some("gen2"),
                login,
                "/api/v1/auth/login",
                "success"
            ),
            (
                "gen1-admin",
                Some("gen1"),
                status,
                "/api/v1/members/gen2/status",
                "denied"
            ),
            (
                "anonymous",
                None,
                "PATCH /api/v1/members/{id}",
                "/api/v1/members/gen1",
                "denied"
            ),
            ("anonymous", None, register, "/api/v1/members", "failed"),
            (
                "gen2-admin",
                Some("gen2"),
                "DELETE unmatched",
                "/api/v1/nowhere",
                "failed"
            ),
        ]
    );
    let statuses: Vec<u64> = records
        .iter()
        .map(|r| r.detail["status"].as_u64().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [200, 201, 200, 201, 200, 200, 200, 403, 401, 422, 404]
    );
    for r in &records {
        assert_eq!(r.source.as_deref(), Some("127.0.0.1"), "{r:?}");
    }
    for row in &rows {
        for secret in [
            "tok-SECRET-41",
            "Secret Plant Name",
            "Member gen1",
            "ghost",
            "Taken over",
            op.token.as_str(),
            gen1.token.as_str(),
        ] {
            assert!(!row.body.contains(secret), "{secret} in {}", row.body);
        }
    }

    let summary = verify_stored_chain(&s.store, None).await.unwrap();
    assert_eq!(summary.rows, 11);
    assert_eq!(summary.head_hash, rows[10].hash);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_member_is_refused_with_retry_after_while_a_well_behaved_member_is_served() {
    let s = Arc::new(
        Platform::start_with(ServerConfig {
            per_token: RateLimit::new(5.0, 10),
            per_address: RateLimit::new(1e6, 1_000_000),
            ..ServerConfig::default()
        })
        .await,
    );
    let op = s.operator().await;
    active_member(&s, &op, "gen1").await;
    active_member(&s, &op, "gen2").await;
    let (gen1, gen2) = (
        Arc::new(admin_of(&s, "gen1").await),
        admin_of(&s, "gen2").await,
    );

    // Member A floods from 32 concurrent connections until B is done: reads
    // and changes (each change changes its name; all are audited).
    let stop = Arc::new(AtomicBool::new(false));
    let flood: Vec<_> = (0..32)
        .map(|worker| {
            let (s, gen1, stop) = (s.clone(), gen1.clone(), stop.clone());
            tokio::spawn(async move {
                let client = Client::new();
                let (mut ok, mut limited, mut limited_changes) = (0u32, 0u32, 0u64);
                while !stop.load(Ordering::Relaxed) {
                    let change = worker % 2 == 1;
                    let (status, retry, body) = if change {
                        send_change(&client, &s.base, &gen1, "gen1").await
                    } else {
                        send(request_as(
                            &client,
                            &s.base,
                            Some(&*gen1),
                            true,
                            "GET",
                            "/api/v1/members",
                            None,
                        ))
                        .await
                    };
                    // Concurrent renames may conflict: admitted all the same.
                    if status == StatusCode::OK || status == StatusCode::CONFLICT {
                        ok += 1;
                    } else {
                        assert_rate_limited(status, retry.as_deref(), &body);
                        limited += 1;
                        limited_changes += u64::from(change);
                    }
                }
                (ok, limited, limited_changes)
            })
        })
        .collect();

    // Member B, interleaved: 4 requests a second, under its limit of 5.
    let b = Client::new();
    let mut b_statuses = Vec::new();
    tokio::time::sleep(Duration::from_millis(100)).await;
    for i in 0..8 {
        let (status, _, body) = if i % 4 == 3 {
            send_change(&b, &s.base, &gen2, "gen2").await
        } else {
            send(request_as(
                &b,
                &s.base,
                Some(&gen2),
                true,
                "GET",
                "/api/v1/members",
                None,
            ))
            .await
        };
        assert!(status.is_success(), "B refused: {status} {body}");
        b_statuses.push(status);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let (mut ok, mut limited, mut limited_changes) = (0, 0, 0);
    for t in flood {
        let (o, l, c) = t.await.unwrap();
        ok += o;
        limited += l;
        limited_changes += c;
    }
    assert_eq!(b_statuses.len(), 8);
    // A got its burst and refill (10 + 5/s over ~2.2 s), and no more.
    assert!((10..=30).contains(&ok), "A was served {ok} times");
    assert!(limited >= 100, "A was refused only {limited} times");

    // Refused changes are audited as denied, summarised: at most one row a
    // second per address, counting those left unrecorded. The next refusal
    // after a quiet second carries the rest of the count.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let mut last_status = StatusCode::OK;
    for _ in 0..50 {
        let (status, retry, body) = send_change(&s.client, &s.base, &gen1, "gen1").await;
        last_status = status;
        if status != StatusCode::OK {
            assert_rate_limited(status, retry.as_deref(), &body);
            limited_changes += 1;
            break;
        }
    }
    assert_eq!(last_status, StatusCode::TOO_MANY_REQUESTS);
    let refusals: Vec<_> = audit(&s)
        .await
        .iter()
        .map(|row| (row.clone(), audit_record(row).unwrap()))
        .filter(|(_, r)| r.detail["status"] == 429)
        .collect();
    assert!(
        (2..=5).contains(&refusals.len()),
        "{} rows for {limited_changes} refused changes",
        refusals.len()
    );
    let counted: u64 = refusals
        .iter()
        .map(|(_, r)| 1 + r.detail["refused_unrecorded"].as_u64().unwrap())
        .sum();
    assert_eq!(counted, limited_changes);
    for (row, r) in &refusals {
        assert_eq!(
            (
                row.actor.as_str(),
                row.outcome.as_str(),
                r.source.as_deref()
            ),
            ("gen1-admin", "denied", Some("127.0.0.1"))
        );
    }
    verify_stored_chain(&s.store, None).await.unwrap();
}

/// A change of `member`'s own name, by its administrator `who`.
async fn send_change(
    client: &Client,
    base: &str,
    who: &SignedInUser,
    member: &str,
) -> (StatusCode, Option<String>, Value) {
    send(request_as(
        client,
        base,
        Some(who),
        true,
        "PATCH",
        &format!("/api/v1/members/{member}"),
        Some(&json!({"name": format!("{member} renamed")})),
    ))
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_requests_are_limited_per_client_address() {
    let s = Platform::start_with(ServerConfig {
        per_token: RateLimit::new(1e6, 1_000_000),
        per_address: RateLimit::new(1.0, 3),
        ..ServerConfig::default()
    })
    .await;
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(s.call("GET", "/health", None, None).await.0);
    }
    assert_eq!(statuses, [StatusCode::OK; 3]);
    let (status, retry, body) = send(s.request("GET", "/health", None, None)).await;
    assert_rate_limited(status, retry.as_deref(), &body);
    // Presenting an invented session does not open a new allowance.
    let (status, retry, body) = send(s.request(
        "GET",
        "/api/v1/members",
        Some(&SignedInUser::unknown("someone-else")),
        None,
    ))
    .await;
    assert_rate_limited(status, retry.as_deref(), &body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_whose_body_trickles_in_is_abandoned_after_the_time_limit() {
    let s = Platform::start_with(ServerConfig {
        request_timeout: Duration::from_millis(300),
        ..no_limits()
    })
    .await;
    let mut conn = tokio::net::TcpStream::connect(s.addr()).await.unwrap();
    conn.write_all(
        b"POST /api/v1/members HTTP/1.1\r\nhost: voltex\r\ncontent-type: application/json\r\ncontent-length: 200\r\n\r\n{\"id\":",
    )
    .await
    .unwrap();
    let started = std::time::Instant::now();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&answer).contains("timed_out") {
        let n = tokio::time::timeout(Duration::from_secs(10), conn.read(&mut buf))
            .await
            .expect("the server answers within the time limit")
            .unwrap();
        assert!(
            n > 0,
            "connection closed: {}",
            String::from_utf8_lossy(&answer)
        );
        answer.extend_from_slice(&buf[..n]);
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(5));
    // ... and is audited as failed.
    let rows = audit(&s).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].action.as_str(), rows[0].outcome.as_str()),
        ("POST /api/v1/members", "failed")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schedulers_actions_are_audited_as_the_system() {
    let s = Platform::start_with(no_limits()).await;
    let op = s.operator().await;
    s.import_pjm5(&op).await;
    // A window that opened a minute ago and closes in two hours.
    let day = (chrono::Utc::now() + chrono::Duration::days(1)).date_naive();
    let day_start = day.and_hms_opt(0, 0, 0).unwrap().and_utc() - chrono::Duration::hours(8);
    let now_min = (chrono::Utc::now() - day_start).num_minutes();
    let path = "/api/v1/market-parameters/day_ahead_energy";
    let mut params = s.call("GET", path, None, None).await.1["value"].clone();
    params["window_open_offset_min"] = json!(now_min - 1);
    params["window_close_offset_min"] = json!(now_min + 120);
    let set = s.call("PUT", path, Some(&op), Some(params)).await;
    assert_eq!(set.0, StatusCode::OK, "{}", set.1);
    let created = s
        .call(
            "POST",
            "/api/v1/sessions",
            Some(&op),
            Some(json!({"market": "day_ahead_energy", "trading_day": day.to_string()})),
        )
        .await;
    assert_eq!(created.0, StatusCode::CREATED, "{}", created.1);
    let sid = created.1["value"]["id"].as_str().unwrap().to_owned();

    let market = Market::open(s.store.clone()).await.unwrap();
    let scheduler = voltex_server::spawn_scheduler(market, Duration::from_millis(50));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let row = loop {
        let rows = audit(&s).await;
        if let Some(r) = rows.iter().find(|r| r.actor == "system") {
            break r.clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no system row: {rows:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    scheduler.abort();
    assert_eq!(
        (
            row.action.as_str(),
            row.target.clone(),
            row.outcome.as_str()
        ),
        ("scheduler.opened", format!("session/{sid}"), "success")
    );
    let record = audit_record(&row).unwrap();
    assert_eq!((record.source, record.member_id), (None, None));
    verify_stored_chain(&s.store, None).await.unwrap();
}
