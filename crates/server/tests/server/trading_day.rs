//! One whole trading day over real HTTP against the real server with its
//! scheduler: the window opens by schedule, declarations are accepted and
//! refused, the gate closes by schedule and locks, clearing runs, members
//! see exactly their own private results and all public ones, statements
//! balance, notifications arrive on the push channel, declaration files
//! round-trip, and restarting the server between steps loses and
//! duplicates nothing. The operator and each member's administrator and
//! trader sign in once and sign their requests, as in production.

use crate::common::{Platform, SignedInUser};
use chrono::{DateTime, Duration, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

const TICK_MS: u64 = 50;

/// Sends a raw body (a declaration file) as `who`; answers status and the
/// raw answer (files come back as files).
async fn raw(
    s: &Platform,
    method: &str,
    path: &str,
    who: &SignedInUser,
    body: Vec<u8>,
) -> (StatusCode, Vec<u8>) {
    let resp = s
        .request_raw(method, path, Some(who), "text/plain", body)
        .send()
        .await
        .unwrap();
    (resp.status(), resp.bytes().await.unwrap().to_vec())
}

/// Polls until the session reaches `state` (the scheduler's work).
async fn wait_state(s: &Platform, session: &str, state: &str) {
    for _ in 0..200 {
        let v = s
            .ok("GET", &format!("/api/v1/sessions/{session}"), None, None)
            .await;
        if v["value"]["state"] == state {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(TICK_MS)).await;
    }
    panic!("session {session} never became {state}");
}

fn offer(unit: &str, n: usize, segments: &[(f64, f64)]) -> Value {
    let segs: Vec<Value> = segments
        .iter()
        .map(|(q, p)| json!({"quantity_mw": q, "price": p}))
        .collect();
    json!({"kind": "energy_offer", "unit_id": unit, "intervals": vec![json!({"segments": segs}); n]})
}

/// Parameters whose window opens `open_in` minutes from now and closes
/// `close_in` minutes from now (relative to the trading day's start).
fn window_params(base: &Value, day_start: DateTime<Utc>, open_in: i64, close_in: i64) -> Value {
    let now = (Utc::now() - day_start).num_minutes();
    let mut p = base.clone();
    p["window_open_offset_min"] = json!(now + open_in);
    p["window_close_offset_min"] = json!(now + close_in);
    p
}

/// Reads Server-Sent Events until `want` notifications of the member arrived
/// or the time runs out; returns the categories seen.
async fn collect_events(resp: reqwest::Response, want: usize) -> Vec<String> {
    let mut resp = resp;
    let mut buf = String::new();
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    while seen.len() < want {
        let chunk = tokio::time::timeout_at(deadline, resp.chunk()).await;
        let Ok(Ok(Some(bytes))) = chunk else { break };
        buf.push_str(&String::from_utf8_lossy(&bytes));
        while let Some(end) = buf.find("\n\n") {
            let event: String = buf.drain(..end + 2).collect();
            if let Some(data) = event.lines().find_map(|l| l.strip_prefix("data:")) {
                let v: Value = serde_json::from_str(data.trim()).unwrap();
                seen.push(v["category"].as_str().unwrap_or_default().to_owned());
            }
        }
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_trading_day_over_http_with_restarts() {
    let mut s = Platform::start_scheduled(std::time::Duration::from_millis(TICK_MS)).await;
    let operator = s.operator().await;
    let op = Some(&operator);

    // ---- registry: network, two generators, a retailer.
    s.import_pjm5(&operator).await;
    for (id, kind) in [
        ("gen1", "generator"),
        ("gen2", "generator"),
        ("ret1", "retailer"),
    ] {
        s.ok(
            "POST",
            "/api/v1/members",
            None,
            Some(json!({"id": id, "name": id, "kind": kind})),
        )
        .await;
        s.ok(
            "POST",
            &format!("/api/v1/members/{id}/status"),
            op,
            Some(json!({"status": "active"})),
        )
        .await;
    }
    let gen1 = s.staff_of("gen1").await;
    let gen2 = s.staff_of("gen2").await;
    let ret1 = s.staff_of("ret1").await;
    let unit = |id: &str, member: &str, bus: u32, pmin: f64, pmax: f64| {
        json!({"id": id, "member_id": member, "name": id, "technology": "coal", "bus": bus,
               "pmin_mw": pmin, "pmax_mw": pmax, "ramp_up_mw_per_min": 10.0, "ramp_down_mw_per_min": 10.0,
               "min_up_time_h": 4.0, "min_down_time_h": 4.0, "startup_cost": 20000.0})
    };
    s.ok(
        "POST",
        "/api/v1/units",
        Some(&gen1.admin),
        Some(unit("g1", "gen1", 1, 0.0, 400.0)),
    )
    .await;
    s.ok(
        "POST",
        "/api/v1/units",
        Some(&gen2.admin),
        Some(unit("g2", "gen2", 5, 100.0, 600.0)),
    )
    .await;
    s.ok(
        "POST",
        "/api/v1/load-resources",
        Some(&ret1.admin),
        Some(
            json!({"id": "r1", "member_id": "ret1", "name": "load at bus 3", "bus": 3,
                    "controllable_share": 0.1, "peak_mw": 500.0}),
        ),
    )
    .await;

    // ---- the day-ahead session; the window is in an hour, so it stays shut.
    // (Beijing has no daylight saving: the trading day starts at 16:00 UTC the day before.)
    let day = (Utc::now() + Duration::days(1)).date_naive();
    let day_start = day.and_hms_opt(0, 0, 0).unwrap().and_utc() - Duration::hours(8);
    for market in ["day_ahead_energy", "real_time_energy"] {
        let base = s
            .ok(
                "GET",
                &format!("/api/v1/market-parameters/{market}"),
                None,
                None,
            )
            .await["value"]
            .clone();
        s.ok(
            "PUT",
            &format!("/api/v1/market-parameters/{market}"),
            op,
            Some(window_params(&base, day_start, 60, 120)),
        )
        .await;
    }
    let base = s
        .ok(
            "GET",
            "/api/v1/market-parameters/day_ahead_energy",
            None,
            None,
        )
        .await["value"]
        .clone();
    let sid = s
        .ok(
            "POST",
            "/api/v1/sessions",
            op,
            Some(json!({"market": "day_ahead_energy", "trading_day": day.to_string()})),
        )
        .await["value"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let grid = s
        .ok(
            "GET",
            &format!("/api/v1/sessions/{sid}/grid-information"),
            None,
            None,
        )
        .await;
    let n = grid["intervals"].as_u64().unwrap() as usize;
    assert_eq!(grid["price_cap"], 1500.0);
    assert_eq!(grid["network"], "pjm5");
    let opens: DateTime<Utc> = grid["window_opens_at"].as_str().unwrap().parse().unwrap();
    assert!(opens > Utc::now() + Duration::minutes(58));
    tokio::time::sleep(std::time::Duration::from_millis(6 * TICK_MS)).await;
    wait_state(&s, &sid, "scheduled").await;
    let early = s
        .call(
            "POST",
            &format!("/api/v1/sessions/{sid}/declarations"),
            Some(&gen1.trader),
            Some(offer("g1", n, &[(200.0, 300.0), (200.0, 420.0)])),
        )
        .await;
    assert_eq!(
        early.0,
        StatusCode::UNPROCESSABLE_ENTITY,
        "before the window: {}",
        early.1
    );

    // The window opens by schedule.
    s.ok(
        "PUT",
        "/api/v1/market-parameters/day_ahead_energy",
        op,
        Some(window_params(&base, day_start, -1, 120)),
    )
    .await;
    wait_state(&s, &sid, "open").await;

    // ---- declarations: accepted, refused, and a file import.
    s.ok(
        "POST",
        &format!("/api/v1/sessions/{sid}/declarations"),
        Some(&gen1.trader),
        Some(offer("g1", n, &[(200.0, 300.0), (200.0, 420.0)])),
    )
    .await;
    let refused = s
        .call(
            "POST",
            &format!("/api/v1/sessions/{sid}/declarations"),
            Some(&gen2.trader),
            Some(offer("g2", n, &[(300.0, 250.0), (300.0, 9000.0)])),
        )
        .await;
    assert_eq!(refused.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.1);
    // gen2 declares nothing else: its unit gets the default rule at gate closure.
    // The retailer imports its bid as a CSV file: a malformed file names the line, imports nothing.
    let mut csv = String::from(
        "session_id,member_id,resource_id,interval,quantity_mw,segment,segment_quantity_mw,price\n",
    );
    for t in 1..=n {
        csv.push_str(&format!(
            "{sid},ret1,r1,{t},{},,,\n",
            300.0 + (t % 24) as f64 * 5.0
        ));
    }
    let bad = csv.replacen(",305,", ",3O5,", 1);
    let before = s
        .ok(
            "GET",
            &format!("/api/v1/sessions/{sid}/declarations"),
            op,
            None,
        )
        .await;
    let (st, body) = raw(
        &s,
        "POST",
        &format!("/api/v1/sessions/{sid}/declarations/import?kind=demand_bid&format=csv"),
        &ret1.trader,
        bad.into_bytes(),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        String::from_utf8_lossy(&body).contains("line 2"),
        "{}",
        String::from_utf8_lossy(&body)
    );
    assert_eq!(
        s.ok(
            "GET",
            &format!("/api/v1/sessions/{sid}/declarations"),
            op,
            None
        )
        .await,
        before
    );
    let (st, body) = raw(
        &s,
        "POST",
        &format!("/api/v1/sessions/{sid}/declarations/import?kind=demand_bid&format=csv"),
        &ret1.trader,
        csv.clone().into_bytes(),
    )
    .await;
    assert_eq!(
        st,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&body)
    );
    // Export round-trips: the file the retailer gets back reads as the same bid.
    let (st, exported) = raw(
        &s,
        "GET",
        &format!(
            "/api/v1/sessions/{sid}/declarations/export?kind=demand_bid&format=efile&encoding=gbk"
        ),
        &ret1.trader,
        vec![],
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let back = voltex_formats::declaration_io::read_efile(
        voltex_model::DeclarationKind::DemandBid,
        &exported,
    )
    .unwrap();
    let stored = s
        .ok(
            "GET",
            &format!("/api/v1/sessions/{sid}/declarations"),
            Some(&ret1.trader),
            None,
        )
        .await;
    assert_eq!(
        serde_json::to_value(&back[0].body).unwrap(),
        stored[0]["body"]
    );

    // ---- restart while the window is open: nothing lost, nothing doubled.
    let declared = s
        .ok(
            "GET",
            &format!("/api/v1/sessions/{sid}/declarations"),
            op,
            None,
        )
        .await;
    let inbox = s
        .ok("GET", "/api/v1/notifications", Some(&gen1.trader), None)
        .await;
    s.restart().await;
    assert_eq!(
        s.ok(
            "GET",
            &format!("/api/v1/sessions/{sid}/declarations"),
            op,
            None
        )
        .await,
        declared
    );
    assert_eq!(
        s.ok("GET", "/api/v1/notifications", Some(&gen1.trader), None)
            .await,
        inbox
    );
    assert!(
        inbox
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["value"]["category"] == "declaration_accepted")
    );

    // ---- the gate closes by schedule and locks.
    s.ok(
        "PUT",
        "/api/v1/market-parameters/day_ahead_energy",
        op,
        Some(window_params(&base, day_start, -2, -1)),
    )
    .await;
    wait_state(&s, &sid, "closed").await;
    let late = s
        .call(
            "POST",
            &format!("/api/v1/sessions/{sid}/declarations"),
            Some(&gen1.trader),
            Some(offer("g1", n, &[(400.0, 100.0)])),
        )
        .await;
    assert_eq!(late.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", late.1);
    let gate = s
        .ok("GET", &format!("/api/v1/sessions/{sid}/gate"), op, None)
        .await;
    assert_eq!(gate["value"]["locked"].as_array().unwrap().len(), 2);
    assert_eq!(gate["value"]["defaults"][0]["unit_id"], "g2");
    assert_eq!(gate["value"]["defaults"][0]["rule"], "must_run_at_pmin");
    let told = s
        .ok(
            "GET",
            "/api/v1/notifications?unread=true",
            Some(&gen2.trader),
            None,
        )
        .await;
    assert!(
        told.as_array()
            .unwrap()
            .iter()
            .any(|n| n["value"]["category"] == "default_declaration")
    );
    assert_eq!(
        s.call(
            "GET",
            &format!("/api/v1/sessions/{sid}/gate"),
            Some(&gen1.trader),
            None
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );

    // ---- live push from here on (opened after the last restart).
    let stream = s
        .request(
            "GET",
            "/api/v1/notifications/stream",
            Some(&gen1.trader),
            None,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    let events = tokio::spawn(collect_events(stream, 3));

    // ---- clearing and publication.
    let run = s
        .ok(
            "POST",
            &format!("/api/v1/sessions/{sid}/clear"),
            op,
            Some(json!({})),
        )
        .await;
    assert_eq!(run["fingerprint"].as_str().unwrap().len(), 64);
    assert_eq!(run["shortfall_mwh"], 0.0);
    s.ok("POST", &format!("/api/v1/sessions/{sid}/publish"), op, None)
        .await;
    let public = s
        .ok(
            "GET",
            &format!("/api/v1/sessions/{sid}/publications"),
            None,
            None,
        )
        .await;
    let gen1_view = s
        .ok(
            "GET",
            &format!("/api/v1/sessions/{sid}/publications"),
            Some(&gen1.trader),
            None,
        )
        .await;
    let ids = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let (public_ids, gen1_ids) = (ids(&public), ids(&gen1_view));
    assert!(public_ids.contains(&format!("{sid}:nodal_prices")));
    assert!(
        public
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["value"]["audience"]["scope"] == "public")
    );
    assert!(
        public_ids.iter().all(|id| gen1_ids.contains(id)),
        "members see every public item"
    );
    assert!(gen1_ids.contains(&format!("{sid}:own_positions:gen1")));
    assert!(gen1_ids.contains(&format!("{sid}:unit_output")));
    assert!(
        !gen1_ids
            .iter()
            .any(|id| id.ends_with(":gen2") || id.ends_with(":ret1")),
        "{gen1_ids:?}"
    );
    // Both ways: a foreign private item is not found, an own one is.
    let foreign = s
        .call(
            "GET",
            &format!("/api/v1/publications/{sid}:own_positions:gen2"),
            Some(&gen1.trader),
            None,
        )
        .await;
    assert_eq!(foreign.0, StatusCode::NOT_FOUND);
    let anonymous = s
        .call(
            "GET",
            &format!("/api/v1/publications/{sid}:own_positions:gen1"),
            None,
            None,
        )
        .await;
    assert_eq!(anonymous.0, StatusCode::NOT_FOUND);
    let own = s
        .ok(
            "GET",
            &format!("/api/v1/publications/{sid}:own_positions:gen1"),
            Some(&gen1.trader),
            None,
        )
        .await;
    assert_eq!(own[0]["value"]["content"][0]["resource_id"], "g1");
    assert_eq!(
        s.call(
            "GET",
            &format!("/api/v1/sessions/{sid}/clearing-run"),
            Some(&gen1.trader),
            None
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );

    // ---- restart after publication, then the real-time pass.
    let events = events.await.unwrap();
    assert!(
        events.contains(&"results_published".to_owned()),
        "{events:?}"
    );
    assert!(events.contains(&"session_state".to_owned()), "{events:?}");
    s.restart().await;
    assert_eq!(
        s.ok(
            "GET",
            &format!("/api/v1/sessions/{sid}/publications"),
            None,
            None
        )
        .await,
        public
    );

    let rt = s
        .ok(
            "POST",
            "/api/v1/sessions",
            op,
            Some(json!({"market": "real_time_energy", "trading_day": day.to_string()})),
        )
        .await["value"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    s.ok("POST", &format!("/api/v1/sessions/{rt}/open"), op, None)
        .await;
    s.ok("POST", &format!("/api/v1/sessions/{rt}/close"), op, None)
        .await;
    let metered: Vec<f64> = (1..=n).map(|t| 310.0 + (t % 24) as f64 * 5.0).collect();
    s.ok("PUT", "/api/v1/metered-load", op,
        Some(json!({"trading_day": day.to_string(), "resources": [{"resource_id": "r1", "mw": metered}]}))).await;
    s.ok("POST", &format!("/api/v1/sessions/{rt}/clear"), op, None)
        .await;
    s.ok("POST", &format!("/api/v1/sessions/{rt}/publish"), op, None)
        .await;

    // ---- settlement: statements balance; each member reads only its own.
    let totals = s
        .ok("POST", &format!("/api/v1/days/{day}/settle"), op, None)
        .await;
    let total_of = |m: &str| {
        totals
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["member_id"] == m)
            .unwrap()["total"]
            .as_f64()
            .unwrap()
    };
    let sum: f64 = ["gen1", "gen2", "ret1", "operator"]
        .iter()
        .map(|m| total_of(m))
        .sum();
    assert!(sum.abs() < 1e-6, "statements must balance, residual {sum}");
    assert!(total_of("ret1") < 0.0 && total_of("gen1") + total_of("gen2") > 0.0);
    // The retailer consumed 10 MW more than it bought day ahead, every interval.
    let ret = s
        .ok(
            "GET",
            &format!("/api/v1/days/{day}/statements/ret1"),
            Some(&ret1.trader),
            None,
        )
        .await;
    assert!(
        ret["value"]["lines"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| (l["deviation_mw"].as_f64().unwrap() - 10.0).abs() < 1e-6)
    );
    assert_eq!(
        s.call(
            "GET",
            &format!("/api/v1/days/{day}/statements/ret1"),
            Some(&gen1.trader),
            None
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    let (st, html) = raw(
        &s,
        "GET",
        &format!("/api/v1/days/{day}/statements/ret1?format=html"),
        &ret1.trader,
        vec![],
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert!(String::from_utf8_lossy(&html).contains("Settlement statement"));
    // Settling again after a restart duplicates nothing.
    s.restart().await;
    assert_eq!(
        s.ok("POST", &format!("/api/v1/days/{day}/settle"), op, None)
            .await,
        totals
    );
    let inbox = s
        .ok("GET", "/api/v1/notifications", Some(&ret1.trader), None)
        .await;
    let statements = inbox
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["value"]["category"] == "statement_issued")
        .count();
    assert_eq!(statements, 1);
    s.stop().await;
}
