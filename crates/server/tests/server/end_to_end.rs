//! End to end over real HTTP: starts the server on a free port with a fresh
//! SQLite store and walks a member's day, its staff and the operator signed
//! in and signing their requests as in production — register, approve,
//! import a case, register a unit, open a session, declare, supersede, read
//! the history, and be refused after gate closure. Every refusal is checked
//! to leave the store exactly as it was.

use crate::common::{Platform, SignedInUser};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Rows per table, to prove that a refusal wrote nothing.
async fn counts(p: &Platform) -> Vec<(&'static str, i64)> {
    crate::common::row_counts(&p.store).await
}

fn offer(unit: &str, intervals: usize, prices: &[f64]) -> Value {
    let segments: Vec<Value> = prices
        .iter()
        .map(|p| json!({"quantity_mw": 40.0, "price": p}))
        .collect();
    json!({"kind": "energy_offer", "unit_id": unit, "intervals": vec![json!({"segments": segments}); intervals]})
}

fn assert_error(resp: &(StatusCode, Value), status: StatusCode, code: &str) {
    assert_eq!(resp.0, status, "{}", resp.1);
    assert_eq!(resp.1["error"]["code"], code, "{}", resp.1);
    assert!(
        resp.1["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
    assert!(resp.1["error"]["details"].is_array());
}

fn detail<'a>(resp: &'a (StatusCode, Value), field: &str, rule: &str) -> &'a Value {
    resp.1["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["field"] == field && d["rule"] == rule)
        .unwrap_or_else(|| panic!("no detail {field}/{rule} in {}", resp.1))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_declares_supersedes_and_is_refused_after_gate_closure() {
    let s = Platform::start().await;
    let op = s.operator().await;

    let health = s.call("GET", "/health", None, None).await;
    assert_eq!(health.0, StatusCode::OK);
    assert_eq!(health.1["store"], "ok");

    // Registration and approval.
    let reg = s
        .call(
            "POST",
            "/api/v1/members",
            None,
            Some(json!({"id": "gen1", "name": "Huaneng Demo Plant", "kind": "generator"})),
        )
        .await;
    assert_eq!(reg.0, StatusCode::CREATED, "{}", reg.1);
    assert_eq!(reg.1["value"]["status"], "pending");
    let approve = s
        .call(
            "POST",
            "/api/v1/members/gen1/status",
            Some(&op),
            Some(json!({"status": "active"})),
        )
        .await;
    assert_eq!(approve.0, StatusCode::OK, "{}", approve.1);
    assert_eq!(
        (
            approve.1["version"].as_i64(),
            approve.1["value"]["status"].as_str()
        ),
        (Some(2), Some("active"))
    );
    s.call(
        "POST",
        "/api/v1/members",
        None,
        Some(json!({"id": "gen2", "name": "Other Gen", "kind": "generator"})),
    )
    .await;
    s.call(
        "POST",
        "/api/v1/members/gen2/status",
        Some(&op),
        Some(json!({"status": "active"})),
    )
    .await;
    let (gen1, gen2) = (s.staff_of("gen1").await, s.staff_of("gen2").await);

    // A member cannot approve itself.
    let self_approve = s
        .call(
            "POST",
            "/api/v1/members/gen2/status",
            Some(&gen1.admin),
            Some(json!({"status": "suspended"})),
        )
        .await;
    assert_error(&self_approve, StatusCode::FORBIDDEN, "forbidden");

    // Network import from the bundled MATPOWER case.
    let case = std::fs::read(crate::common::pjm5_case()).unwrap();
    let net = s
        .call_raw(
            "POST",
            "/api/v1/networks/matpower?name=pjm5",
            Some(&op),
            "text/plain",
            case.clone(),
        )
        .await;
    assert_eq!(net.0, StatusCode::CREATED, "{}", net.1);
    assert_eq!(net.1["value"]["buses"].as_array().unwrap().len(), 5);
    // Not the operator's to do: refused by role, before the market is asked.
    let not_operator = s
        .call_raw(
            "POST",
            "/api/v1/networks/matpower",
            Some(&gen1.admin),
            "text/plain",
            case,
        )
        .await;
    assert_error(&not_operator, StatusCode::FORBIDDEN, "role_forbidden");

    // Unit registration, on a bus of the network.
    let unit = json!({
        "id": "alta1", "member_id": "gen1", "name": "Alta 1", "technology": "coal", "bus": 1,
        "pmin_mw": 0.0, "pmax_mw": 200.0, "ramp_up_mw_per_min": 4.0, "ramp_down_mw_per_min": 4.0,
        "min_up_time_h": 4.0, "min_down_time_h": 4.0, "startup_cost": 20000.0
    });
    let u = s
        .call(
            "POST",
            "/api/v1/units",
            Some(&gen1.admin),
            Some(unit.clone()),
        )
        .await;
    assert_eq!(u.0, StatusCode::CREATED, "{}", u.1);
    let mut off_grid = unit.clone();
    off_grid["id"] = json!("ghost");
    off_grid["bus"] = json!(99);
    let bad_bus = s
        .call("POST", "/api/v1/units", Some(&gen1.admin), Some(off_grid))
        .await;
    assert_error(
        &bad_bus,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    detail(&bad_bus, "bus", "bus_exists");
    // A parameter change is a new version; the old one stays.
    let mut changed = unit.clone();
    changed["pmax_mw"] = json!(210.0);
    assert_eq!(
        s.call(
            "PUT",
            "/api/v1/units/alta1",
            Some(&gen1.admin),
            Some(changed)
        )
        .await
        .0,
        StatusCode::OK
    );
    let unit_history = s
        .call("GET", "/api/v1/units/alta1", Some(&gen1.admin), None)
        .await;
    assert_eq!(unit_history.1.as_array().unwrap().len(), 2);
    assert_eq!(unit_history.1[0]["value"]["pmax_mw"], 200.0);

    // Session for a trading day, opened by the operator.
    let sess = s
        .call(
            "POST",
            "/api/v1/sessions",
            Some(&op),
            Some(json!({"market": "day_ahead_energy", "trading_day": "2026-11-22"})),
        )
        .await;
    assert_eq!(sess.0, StatusCode::CREATED, "{}", sess.1);
    let sid = sess.1["value"]["id"].as_str().unwrap().to_owned();
    assert_eq!(sid, "DA-2026-11-22");
    let early = s
        .call(
            "POST",
            &format!("/api/v1/sessions/{sid}/declarations"),
            Some(&gen1.trader),
            Some(offer("alta1", 96, &[300.0])),
        )
        .await;
    detail(&early, "session", "window_open");
    assert_eq!(
        s.call(
            "POST",
            &format!("/api/v1/sessions/{sid}/open"),
            Some(&op),
            None
        )
        .await
        .0,
        StatusCode::OK
    );

    // Declare, then supersede.
    let path = format!("/api/v1/sessions/{sid}/declarations");
    let d1 = s
        .call(
            "POST",
            &path,
            Some(&gen1.trader),
            Some(offer("alta1", 96, &[280.0, 320.0, 360.0])),
        )
        .await;
    assert_eq!(d1.0, StatusCode::CREATED, "{}", d1.1);
    assert_eq!(d1.1["version"], 1);
    let key = d1.1["key"].as_str().unwrap().to_owned();
    let d2 = s
        .call(
            "POST",
            &path,
            Some(&gen1.trader),
            Some(offer("alta1", 96, &[290.0, 330.0, 370.0])),
        )
        .await;
    assert_eq!(
        (d2.0, d2.1["version"].as_i64()),
        (StatusCode::CREATED, Some(2))
    );
    let history = s
        .call(
            "GET",
            &format!("/api/v1/declarations/{key}"),
            Some(&gen1.trader),
            None,
        )
        .await;
    let versions = history.1.as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(
        versions[0]["body"]["intervals"][0]["segments"][0]["price"],
        280.0
    );
    assert_eq!(
        versions[1]["body"]["intervals"][0]["segments"][0]["price"],
        290.0
    );
    let own = s.call("GET", &path, Some(&gen1.trader), None).await;
    assert_eq!(own.1.as_array().unwrap().len(), 1);
    assert_eq!(own.1[0]["version"], 2);

    // Tenant isolation: another member neither sees nor learns of the offer.
    let peek = s
        .call(
            "GET",
            &format!("/api/v1/declarations/{key}"),
            Some(&gen2.trader),
            None,
        )
        .await;
    assert_error(&peek, StatusCode::NOT_FOUND, "not_found");
    assert!(
        s.call("GET", &path, Some(&gen2.trader), None)
            .await
            .1
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Refusals: each is a clear 4xx and writes nothing.
    let before = counts(&s).await;
    let malformed = s
        .call_raw(
            "POST",
            &path,
            Some(&gen1.trader),
            "application/json",
            b"{\"kind\": \"energy_offer\", ".to_vec(),
        )
        .await;
    assert_error(&malformed, StatusCode::BAD_REQUEST, "malformed_json");
    let unknown_member = s
        .call(
            "POST",
            &path,
            Some(&SignedInUser::unknown("nobody")),
            Some(offer("alta1", 96, &[300.0])),
        )
        .await;
    assert_error(&unknown_member, StatusCode::UNAUTHORIZED, "session_invalid");
    let no_identity = s
        .call("POST", &path, None, Some(offer("alta1", 96, &[300.0])))
        .await;
    assert_error(&no_identity, StatusCode::UNAUTHORIZED, "unauthenticated");
    let non_monotone = s
        .call(
            "POST",
            &path,
            Some(&gen1.trader),
            Some(offer("alta1", 96, &[300.0, 250.0])),
        )
        .await;
    assert_error(
        &non_monotone,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert_eq!(
        detail(
            &non_monotone,
            "intervals[0].segments[1].price",
            "monotone_non_decreasing"
        )["value"],
        250.0
    );
    let above_cap = s
        .call(
            "POST",
            &path,
            Some(&gen1.trader),
            Some(offer("alta1", 96, &[1600.0])),
        )
        .await;
    assert_eq!(
        detail(
            &above_cap,
            "intervals[0].segments[0].price",
            "price_within_cap"
        )["value"],
        1600.0
    );
    let wrong_count = s
        .call(
            "POST",
            &path,
            Some(&gen1.trader),
            Some(offer("alta1", 24, &[300.0])),
        )
        .await;
    assert_eq!(
        detail(&wrong_count, "intervals", "one_entry_per_interval")["value"],
        24
    );
    let foreign_unit = s
        .call(
            "POST",
            &path,
            Some(&gen2.trader),
            Some(offer("alta1", 96, &[300.0])),
        )
        .await;
    // Answered exactly as for a unit that does not exist: the owner is not named.
    detail(&foreign_unit, "unit_id", "unit_exists");
    let mut unknown_field = offer("alta1", 96, &[300.0]);
    unknown_field["colour"] = json!("red");
    let unknown = s
        .call("POST", &path, Some(&gen1.trader), Some(unknown_field))
        .await;
    assert_error(&unknown, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    let huge = s
        .call_raw(
            "POST",
            &path,
            Some(&gen1.trader),
            "application/json",
            vec![b' '; voltex_server::BODY_LIMIT_BYTES + 1024],
        )
        .await;
    assert_error(&huge, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large");
    let no_session = s
        .call(
            "POST",
            "/api/v1/sessions/DA-2099-01-01/declarations",
            Some(&gen1.trader),
            Some(offer("alta1", 96, &[300.0])),
        )
        .await;
    assert_error(&no_session, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(
        counts(&s).await,
        before,
        "refused requests must not change the store"
    );

    // Gate closure: later submissions are refused, the locked version stays.
    assert_eq!(
        s.call(
            "POST",
            &format!("/api/v1/sessions/{sid}/close"),
            Some(&op),
            None
        )
        .await
        .0,
        StatusCode::OK
    );
    let before = counts(&s).await;
    let late = s
        .call(
            "POST",
            &path,
            Some(&gen1.trader),
            Some(offer("alta1", 96, &[300.0])),
        )
        .await;
    assert_error(&late, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(detail(&late, "session", "window_open")["value"], "closed");
    assert_eq!(counts(&s).await, before);
    let reopen = s
        .call(
            "POST",
            &format!("/api/v1/sessions/{sid}/open"),
            Some(&op),
            None,
        )
        .await;
    assert_error(&reopen, StatusCode::CONFLICT, "illegal_transition");
    assert!(
        reopen.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("from closed to open")
    );
    let locked = s
        .call(
            "GET",
            &format!("/api/v1/declarations/{key}"),
            Some(&gen1.trader),
            None,
        )
        .await;
    assert_eq!(locked.1.as_array().unwrap().len(), 2);

    // Export carries every version.
    let export = s
        .call(
            "GET",
            "/api/v1/members/gen1/export",
            Some(&gen1.trader),
            None,
        )
        .await;
    assert_eq!(export.0, StatusCode::OK);
    assert_eq!(export.1["member"].as_array().unwrap().len(), 2);
    assert_eq!(export.1["units"][0].as_array().unwrap().len(), 2);
    assert_eq!(export.1["declarations"].as_array().unwrap().len(), 2);

    // Operational endpoints.
    let metrics = s
        .client
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("http_requests_total"), "{metrics}");
    assert!(
        metrics.contains("route=\"/api/v1/sessions/{id}/declarations\""),
        "{metrics}"
    );
    assert!(
        metrics.contains("voltex_declarations_total{result=\"rejected\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("http_request_duration_seconds_bucket"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_document_is_generated_and_lists_every_route() {
    let s = Platform::start().await;
    let (status, doc) = s.call("GET", "/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/health",
        "/metrics",
        "/api/v1/members",
        "/api/v1/members/{id}/status",
        "/api/v1/units",
        "/api/v1/networks/matpower",
        "/api/v1/market-parameters/{market}",
        "/api/v1/sessions/{id}/close",
        "/api/v1/sessions/{id}/declarations",
        "/api/v1/declarations/{key}",
    ] {
        assert!(paths.contains_key(p), "missing {p}");
    }
    assert!(doc["components"]["schemas"]["DeclarationBody"].is_object());
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_changes_parameters_and_validation_reads_them() {
    let s = Platform::start().await;
    let op = s.operator().await;
    let (_, mut p) = s
        .call(
            "GET",
            "/api/v1/market-parameters/day_ahead_energy",
            None,
            None,
        )
        .await;
    assert_eq!(p["value"]["price_cap"], 1500.0);
    p["value"]["price_cap"] = json!(800.0);
    let set = s
        .call(
            "PUT",
            "/api/v1/market-parameters/day_ahead_energy",
            Some(&op),
            Some(p["value"].clone()),
        )
        .await;
    assert_eq!(
        (set.0, set.1["version"].as_i64()),
        (StatusCode::OK, Some(2))
    );
    let mut bad = p["value"].clone();
    bad["price_floor"] = json!(900.0);
    let refused = s
        .call(
            "PUT",
            "/api/v1/market-parameters/day_ahead_energy",
            Some(&op),
            Some(bad),
        )
        .await;
    detail(&refused, "price_cap", "cap_above_floor");
}
