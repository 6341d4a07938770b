//! Logs carry no secrets: every event of every crate, at TRACE level, is
//! captured while a member's day runs over HTTP with credentials in its
//! headers (its users' session tokens and request signatures, a cookie, an
//! invented token; refusals and a timeout along the way), and
//! while the store is pointed at a database URL with a password. None of the
//! secrets may appear in what was logged.
//!
//! One test in its own binary: the capturing subscriber is process-global.
#[path = "server/common/mod.rs"]
mod common;

use common::{Platform, SignedInUser};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use voltex_market::Market;
use voltex_server::ServerConfig;
use voltex_server::limits::RateLimit;
use voltex_store::Store;

const BEARER: &str = "tok-SECRET-bearer-5d1c";
const COOKIE: &str = "ck-SECRET-cookie-77aa";
const DB_PASSWORD: &str = "pw-SECRET-db-9f3e";

/// Secrets the test hands the server, as they would appear in a log (the
/// session tokens of its signed-in users are checked too).
const SECRETS: [&str; 3] = [BEARER, COOKIE, DB_PASSWORD];

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Sends a request as `who` (its bearer token and request signature) with
/// a cookie, as a browser-based client would add.
async fn call(
    p: &Platform,
    method: &str,
    path: &str,
    who: Option<&SignedInUser>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let req = p.request(method, path, who, body.as_ref());
    common::answer(req.header("cookie", format!("session={COOKIE}"))).await
}

async fn ok(
    p: &Platform,
    method: &str,
    path: &str,
    who: Option<&SignedInUser>,
    body: Option<Value>,
) -> Value {
    let (status, v) = call(p, method, path, who, body).await;
    assert!(status.is_success(), "{method} {path}: {status} {v}");
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_the_logs_during_a_trading_day() {
    let captured = Captured::default();
    let sink = captured.clone();
    tracing::subscriber::set_global_default(
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || sink.clone())
            .finish(),
    )
    .unwrap();

    // The store, pointed at databases with a password in the URL: whatever
    // the outcome, its errors are logged as an operator would see them.
    for url in [
        format!("postgres://voltex:{DB_PASSWORD}@127.0.0.1:1/voltex"),
        format!("mysql://voltex:{DB_PASSWORD}@127.0.0.1/voltex"),
    ] {
        match tokio::time::timeout(Duration::from_secs(3), Store::connect(&url)).await {
            Ok(Err(e)) => tracing::error!(error = %e, debug = ?e, "cannot open the store"),
            Ok(Ok(_)) => panic!("nothing listens on {url}"),
            Err(_) => tracing::warn!("store connection still retrying"),
        }
    }

    let mut p = Platform::start_with(ServerConfig {
        per_token: RateLimit::new(1e6, 1_000_000),
        per_address: RateLimit::new(1e6, 1_000_000),
        request_timeout: Duration::from_millis(500),
        ..ServerConfig::default()
    })
    .await;
    let scheduler = voltex_server::spawn_scheduler(
        Market::open(p.store.clone()).await.unwrap(),
        Duration::from_millis(50),
    );
    let operator = p.operator().await;
    let op = Some(&operator);

    // Registry: network, a generator and its unit.
    p.import_pjm5(&operator).await;
    ok(
        &p,
        "POST",
        "/api/v1/members",
        None,
        Some(json!({"id": "gen1", "name": "gen1", "kind": "generator"})),
    )
    .await;
    ok(
        &p,
        "POST",
        "/api/v1/members/gen1/status",
        op,
        Some(json!({"status": "active"})),
    )
    .await;
    let gen1 = p.staff_of("gen1").await;
    ok(
        &p,
        "POST",
        "/api/v1/units",
        Some(&gen1.admin),
        Some(json!({
        "id": "g1", "member_id": "gen1", "name": "g1", "technology": "coal", "bus": 1,
        "pmin_mw": 0.0, "pmax_mw": 400.0, "ramp_up_mw_per_min": 10.0,
        "ramp_down_mw_per_min": 10.0, "min_up_time_h": 4.0, "min_down_time_h": 4.0,
        "startup_cost": 20000.0})),
    )
    .await;

    // A session whose window is open now; the scheduler opens it.
    let day = (chrono::Utc::now() + chrono::Duration::days(1)).date_naive();
    let day_start = day.and_hms_opt(0, 0, 0).unwrap().and_utc() - chrono::Duration::hours(8);
    let now_min = (chrono::Utc::now() - day_start).num_minutes();
    let params_path = "/api/v1/market-parameters/day_ahead_energy";
    let mut params = ok(&p, "GET", params_path, None, None).await["value"].clone();
    params["window_open_offset_min"] = json!(now_min - 1);
    params["window_close_offset_min"] = json!(now_min + 120);
    ok(&p, "PUT", params_path, op, Some(params)).await;
    let sid = ok(
        &p,
        "POST",
        "/api/v1/sessions",
        op,
        Some(json!({"market": "day_ahead_energy", "trading_day": day.to_string()})),
    )
    .await["value"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut state = Value::Null;
    for _ in 0..200 {
        state =
            ok(&p, "GET", &format!("/api/v1/sessions/{sid}"), None, None).await["value"]["state"]
                .clone();
        if state == "open" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(state, "open");

    // Declarations: one accepted, one refused, one from an unknown member.
    let n = ok(
        &p,
        "GET",
        &format!("/api/v1/sessions/{sid}/grid-information"),
        None,
        None,
    )
    .await["intervals"]
        .as_u64()
        .unwrap() as usize;
    let offer = |prices: &[f64]| {
        let segs: Vec<Value> = prices
            .iter()
            .map(|p| json!({"quantity_mw": 200.0, "price": p}))
            .collect();
        json!({"kind": "energy_offer", "unit_id": "g1", "intervals": vec![json!({"segments": segs}); n]})
    };
    let decl = format!("/api/v1/sessions/{sid}/declarations");
    ok(
        &p,
        "POST",
        &decl,
        Some(&gen1.trader),
        Some(offer(&[300.0, 420.0])),
    )
    .await;
    let refused = call(
        &p,
        "POST",
        &decl,
        Some(&gen1.trader),
        Some(offer(&[300.0, 200.0])),
    )
    .await;
    assert_eq!(refused.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.1);
    let unknown = common::answer(
        p.request("POST", &decl, None, Some(&offer(&[1.0])))
            .header("authorization", format!("Bearer {BEARER}"))
            .header("cookie", format!("session={COOKIE}")),
    )
    .await;
    assert_eq!(unknown.0, StatusCode::UNAUTHORIZED, "{}", unknown.1);
    ok(&p, "GET", &decl, Some(&gen1.trader), None).await;
    ok(
        &p,
        "POST",
        &format!("/api/v1/sessions/{sid}/close"),
        op,
        None,
    )
    .await;

    // A request that trickles in and is abandoned (the timeout is logged).
    let mut conn = tokio::net::TcpStream::connect(p.addr()).await.unwrap();
    conn.write_all(
        format!(
            "POST /api/v1/members HTTP/1.1\r\nhost: voltex\r\nauthorization: Bearer {}\r\n\
             x-api-key: {BEARER}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{{",
            gen1.trader.token
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    drop(conn);

    scheduler.abort();
    p.stop().await;

    let logs = captured.text();
    assert!(logs.contains("scheduler"), "the capture works: {logs}");
    assert!(logs.contains("request timed out"), "the capture works");
    let session_tokens = [&operator.token, &gen1.admin.token, &gen1.trader.token];
    for secret in SECRETS
        .into_iter()
        .chain(session_tokens.map(String::as_str))
    {
        if let Some(at) = logs.find(secret) {
            let from = logs[..at].rfind('\n').map_or(0, |i| i + 1);
            let to = logs[at..].find('\n').map_or(logs.len(), |i| at + i);
            panic!("secret {secret} logged: {}", &logs[from..to]);
        }
    }
}
