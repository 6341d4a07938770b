//! Several `voltex serve` replicas on one PostgreSQL database, each with its
//! own store connection and market (as separate processes have), in one
//! fresh database per test.
//!
//! Rolling restarts: two replicas behind a tiny round-robin TCP proxy take
//! signed declarations while each is restarted in turn (graceful shutdown,
//! a new replica on the same port); the proxy sends a request a replica
//! refused to connect, or closed without answering, to the other one, as a
//! load balancer does. No request fails and every acknowledged declaration
//! is stored.
//!
//! Scheduler failover: two replicas run the scheduler; only the holder of the
//! lease acts, and when it dies before gate closure the other takes over and
//! closes the gate, once.
//!
//! Both need PostgreSQL (`VOLTEX_TEST_POSTGRES_URL`, else
//! `postgres://postgres@127.0.0.1:5432/test`); without a server answering
//! there they print a note and pass.

use crate::common::{SignedInUser, answer, enrol, request_as, request_with_body};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use voltex_market::Market;
use voltex_market::gate::GateClosure;
use voltex_model::{MarketKind, TradingDay};
use voltex_security::{PlatformCa, Role};
use voltex_server::{SCHEDULER_LEASE, ServerConfig, SigningConfig};
use voltex_store::Store;

/// A fresh database on the test server, dropped with the value.
struct PgDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl PgDatabase {
    /// `None` (after a printed note) when no PostgreSQL server answers.
    async fn create() -> Option<Self> {
        let admin_url = std::env::var("VOLTEX_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let admin = match admin(&admin_url).await {
            Ok(a) => a,
            Err(e) => {
                eprintln!("note: no PostgreSQL at {admin_url} ({e}); replica test skipped");
                return None;
            }
        };
        let name = format!(
            "voltex_t_{}_{:x}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
                % (1 << 40)
        );
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&admin)
            .await
            .unwrap();
        admin.close().await;
        let (base, _) = admin_url.rsplit_once('/').expect("URL has a database path");
        let url = format!("{base}/{name}");
        Some(Self {
            admin_url,
            name,
            url,
        })
    }

    async fn drop_database(self) {
        let admin = admin(&self.admin_url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )))
        .execute(&admin)
        .await
        .unwrap();
    }
}

async fn admin(url: &str) -> Result<sqlx::AnyPool, sqlx::Error> {
    sqlx::any::install_default_drivers();
    sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(3))
        .connect(url)
        .await
}

/// One replica: its own store connection, market and server (and,
/// optionally, scheduler), as a `voltex serve` process has.
struct Replica {
    addr: SocketAddr,
    market: Market,
    stop: tokio::sync::oneshot::Sender<()>,
    served: tokio::task::JoinHandle<std::io::Result<()>>,
    scheduler: Option<tokio::task::JoinHandle<()>>,
}

impl Replica {
    /// Starts on `addr` (port 0: any), retrying while the port is still
    /// held by the replica it replaces.
    async fn start(
        url: &str,
        addr: SocketAddr,
        config: &ServerConfig,
        tick: Option<Duration>,
    ) -> Self {
        let store = Store::connect(url).await.unwrap();
        let market = Market::open(store).await.unwrap();
        let mut tries = 0;
        let listener = loop {
            match TcpListener::bind(addr).await {
                Ok(l) => break l,
                Err(e) if tries < 50 => {
                    tries += 1;
                    eprintln!("rebinding {addr}: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("cannot bind {addr}: {e}"),
            }
        };
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = tokio::spawn({
            let market = market.clone();
            let config = config.clone();
            async move {
                voltex_server::serve_on_with(market, listener, &config, async move {
                    let _ = stopped.await;
                })
                .await
            }
        });
        let scheduler = tick.map(|t| voltex_server::spawn_scheduler(market.clone(), t));
        Self {
            addr,
            market,
            stop,
            served,
            scheduler,
        }
    }

    /// Graceful shutdown: answers what it accepted, then closes its store.
    async fn shut_down(self) {
        if let Some(s) = self.scheduler {
            s.abort();
            let _ = s.await;
        }
        let _ = self.stop.send(());
        self.served.await.unwrap().unwrap();
        self.market.store().close().await;
    }

    /// A crash of the process: the scheduler task and its connections are
    /// dropped mid-flight; nothing is answered any more.
    async fn kill(self) {
        if let Some(s) = self.scheduler {
            s.abort();
            let _ = s.await;
        }
        self.served.abort();
        let _ = self.stop.send(());
    }
}

/// A round-robin TCP proxy over `backends`. It reads a client's whole
/// request (one per connection) and passes it to the next backend; a
/// backend that refuses the connection, or closes it without a byte of
/// answer (a replica shutting down had not accepted it), is skipped and the
/// request goes to the next one: a request no replica has answered is safe
/// to send again.
async fn spawn_proxy(backends: Vec<SocketAddr>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let next = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        loop {
            let (client, _) = listener.accept().await.unwrap();
            let backends = backends.clone();
            let next = next.clone();
            tokio::spawn(async move {
                let _ = relay(client, &backends, &next).await;
            });
        }
    });
    addr
}

/// Requests the proxy sent again to another replica (for the test's report).
static RETRIED: AtomicUsize = AtomicUsize::new(0);

async fn relay(
    mut client: TcpStream,
    backends: &[SocketAddr],
    next: &AtomicUsize,
) -> std::io::Result<()> {
    let request = read_request(&mut client).await?;
    for attempt in 0..100 {
        if attempt > 0 {
            RETRIED.fetch_add(1, Ordering::Relaxed);
        }
        if attempt > 0 && attempt % backends.len() == 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let backend = backends[next.fetch_add(1, Ordering::Relaxed) % backends.len()];
        let Ok(mut upstream) = TcpStream::connect(backend).await else {
            continue;
        };
        if upstream.write_all(&request).await.is_err() {
            continue;
        }
        let mut first = vec![0u8; 16 * 1024];
        let n = match upstream.read(&mut first).await {
            Ok(0) | Err(_) => continue,
            Ok(n) => n,
        };
        client.write_all(&first[..n]).await?;
        tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
        return Ok(());
    }
    Err(std::io::Error::other("no replica answered"))
}

/// One HTTP/1.1 request: the head and a `content-length` body.
async fn read_request(client: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .map_or(0, |v| v.trim().parse().unwrap_or(0));
        if buf.len() >= end + 4 + length {
            return Ok(buf);
        }
    }
}

fn energy_offer(unit: &str, price: f64) -> Value {
    let segments = json!([{"quantity_mw": 50.0, "price": price}, {"quantity_mw": 50.0, "price": price + 40.0}]);
    json!({"kind": "energy_offer", "unit_id": unit, "intervals": vec![json!({"segments": segments}); 96]})
}

async fn must(req: reqwest::RequestBuilder, status: StatusCode) -> Value {
    let (got, body) = answer(req).await;
    assert_eq!(got, status, "{body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_restarted_in_turn_behind_a_proxy_fail_no_request_and_lose_no_declaration() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let ca_dir = dir.path().join("ca");
    let mut ca = PlatformCa::init(&ca_dir, "test", chrono::Utc::now()).unwrap();
    let config = ServerConfig {
        signing: Some(Arc::new(SigningConfig::load(&ca_dir).unwrap())),
        ..ServerConfig::default()
    };
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let mut replicas = vec![
        Replica::start(&db.url, any, &config, None).await,
        Replica::start(&db.url, any, &config, None).await,
    ];
    let addrs: Vec<SocketAddr> = replicas.iter().map(|r| r.addr).collect();
    let base = format!("http://{}", spawn_proxy(addrs.clone()).await);
    // One request per connection: the proxy balances requests, not sessions.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let market = replicas[0].market.clone();

    // ---- a market through the proxy: two members, four units, an open session.
    let op = enrol(
        &market,
        &client,
        &base,
        "operator",
        Role::Operator,
        None,
        Some(&mut ca),
    )
    .await;
    let call = |who: Option<&SignedInUser>, method: &str, path: &str, body: Option<Value>| {
        request_as(&client, &base, who, true, method, path, body.as_ref())
    };
    let mut traders = Vec::new();
    for (member, bus) in [("gen1", 1), ("gen2", 3)] {
        must(
            call(
                None,
                "POST",
                "/api/v1/members",
                Some(json!({"id": member, "name": member, "kind": "generator"})),
            ),
            StatusCode::CREATED,
        )
        .await;
        must(
            call(
                Some(&op),
                "POST",
                &format!("/api/v1/members/{member}/status"),
                Some(json!({"status": "active"})),
            ),
            StatusCode::OK,
        )
        .await;
        if member == "gen1" {
            must(
                request_with_body(
                    &client,
                    &base,
                    Some(&op),
                    true,
                    "POST",
                    "/api/v1/networks/matpower?name=pjm5",
                    Some((
                        "text/plain",
                        std::fs::read(crate::common::pjm5_case()).unwrap(),
                    )),
                ),
                StatusCode::CREATED,
            )
            .await;
        }
        let admin = enrol(
            &market,
            &client,
            &base,
            &format!("{member}-admin"),
            Role::MemberAdministrator,
            Some(member),
            Some(&mut ca),
        )
        .await;
        for n in 1..=2 {
            let unit = json!({
                "id": format!("{member}u{n}"), "member_id": member, "name": "unit", "technology": "coal",
                "bus": bus, "pmin_mw": 0.0, "pmax_mw": 200.0, "ramp_up_mw_per_min": 4.0,
                "ramp_down_mw_per_min": 4.0, "min_up_time_h": 4.0, "min_down_time_h": 4.0,
                "startup_cost": 20000.0
            });
            must(
                call(Some(&admin), "POST", "/api/v1/units", Some(unit)),
                StatusCode::CREATED,
            )
            .await;
        }
        let trader = enrol(
            &market,
            &client,
            &base,
            &format!("{member}-trader"),
            Role::MemberTrader,
            Some(member),
            Some(&mut ca),
        )
        .await;
        traders.push((member, Arc::new(trader)));
    }
    let day = (chrono::Utc::now() + chrono::Duration::days(3)).date_naive();
    let created = must(
        call(
            Some(&op),
            "POST",
            "/api/v1/sessions",
            Some(json!({"market": "day_ahead_energy", "trading_day": day.to_string()})),
        ),
        StatusCode::CREATED,
    )
    .await;
    let sid = created["value"]["id"].as_str().unwrap().to_owned();
    must(
        call(
            Some(&op),
            "POST",
            &format!("/api/v1/sessions/{sid}/open"),
            None,
        ),
        StatusCode::OK,
    )
    .await;

    // ---- load: one submitter per unit, sequential versions, while the replicas restart.
    let running = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let mut submitters = Vec::new();
    for (member, trader) in &traders {
        for n in 1..=2 {
            let unit = format!("{member}u{n}");
            let (client, base, sid, trader, running) = (
                client.clone(),
                base.clone(),
                sid.clone(),
                trader.clone(),
                running.clone(),
            );
            submitters.push(tokio::spawn(async move {
                let mut acknowledged = Vec::new();
                let mut failed = Vec::new();
                let mut price = 200.0;
                while running.load(Ordering::Relaxed) {
                    price += 1.0;
                    let body = energy_offer(&unit, price);
                    let req = request_as(
                        &client,
                        &base,
                        Some(&trader),
                        true,
                        "POST",
                        &format!("/api/v1/sessions/{sid}/declarations"),
                        Some(&body),
                    );
                    match req.send().await {
                        Ok(resp) => {
                            let status = resp.status();
                            let text = resp.text().await.unwrap_or_default();
                            if status == StatusCode::CREATED {
                                let v: Value = serde_json::from_str(&text).unwrap();
                                acknowledged.push((
                                    v["key"].as_str().unwrap().to_owned(),
                                    v["version"].as_i64().unwrap(),
                                ));
                            } else {
                                failed.push(format!("{status} {text}"));
                            }
                        }
                        Err(e) => failed.push(format!("transport: {e}")),
                    }
                }
                (acknowledged, failed)
            }));
        }
    }
    for i in 0..2 {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let old = replicas.remove(0);
        let addr = old.addr;
        old.shut_down().await;
        replicas.push(Replica::start(&db.url, addr, &config, None).await);
        eprintln!("replica {i} restarted on {addr}");
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    running.store(false, Ordering::Relaxed);
    let mut acknowledged = BTreeSet::new();
    let mut failed = Vec::new();
    for s in submitters {
        let (a, f) = s.await.unwrap();
        acknowledged.extend(a);
        failed.extend(f);
    }
    assert!(
        failed.is_empty(),
        "{} failed requests: {failed:?}",
        failed.len()
    );
    assert!(
        acknowledged.len() >= 8,
        "only {} declarations",
        acknowledged.len()
    );

    // ---- every acknowledged declaration is stored.
    let store = replicas[0].market.store().clone();
    let stored: BTreeSet<(String, i64)> = store
        .session_declaration_versions(&sid)
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.key, d.version))
        .collect();
    let lost: Vec<_> = acknowledged.difference(&stored).collect();
    assert!(lost.is_empty(), "lost {lost:?}");
    eprintln!(
        "replicas: {} declarations acknowledged and stored, 0 failed, {} sent again by the proxy",
        acknowledged.len(),
        RETRIED.load(Ordering::Relaxed)
    );
    for r in replicas {
        r.shut_down().await;
    }
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_scheduling_replica_dies_before_gate_closure_another_closes_the_gate_once() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let config = ServerConfig::default();
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let tick = Some(Duration::from_millis(100));
    let first = Replica::start(&db.url, any, &config, tick).await;
    // The first replica's scheduler takes the lease before the second starts.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let held = first
        .market
        .store()
        .leader_lease(SCHEDULER_LEASE)
        .await
        .unwrap();
    assert!(
        held.is_none(),
        "the first replica's scheduler holds the lease"
    );
    let second = Replica::start(&db.url, any, &config, tick).await;
    let market = second.market.clone();

    // A session whose window is open and whose gate closes at the next
    // whole minute (or the one after, when that is too close).
    let operator = market.operator().await.unwrap();
    let day: TradingDay = (chrono::Utc::now() + chrono::Duration::days(1)).date_naive();
    let mut params = market
        .parameters(MarketKind::DayAheadEnergy)
        .await
        .unwrap()
        .value;
    let start = params.calendar().day_start(day).unwrap();
    let now = chrono::Utc::now();
    let since_start = (now - start).num_seconds();
    let minute = since_start.div_euclid(60);
    let close_min = minute
        + if since_start.rem_euclid(60) > 50 {
            2
        } else {
            1
        };
    params.window_open_offset_min = minute - 10;
    params.window_close_offset_min = close_min;
    market.set_parameters(&operator, params).await.unwrap();
    let sid = market
        .create_session(&operator, MarketKind::DayAheadEnergy, day)
        .await
        .unwrap()
        .value
        .id;

    // The leader opens the window; then it dies before the gate closes.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while market.session(&sid).await.unwrap().value.state == voltex_model::SessionState::Scheduled {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the window never opened"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    first.kill().await;

    // The survivor takes the lease and closes the gate when it is due.
    let closes = start + chrono::Duration::minutes(close_min);
    let wait = (closes - chrono::Utc::now()).to_std().unwrap_or_default() + Duration::from_secs(20);
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        if market
            .store()
            .get::<GateClosure>(&sid)
            .await
            .unwrap()
            .is_some()
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the gate never closed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Let a few more ticks pass: nobody closes it again.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let store = market.store();
    assert_eq!(store.history::<GateClosure>(&sid).await.unwrap().len(), 1);
    let closed_rows = store
        .audit_rows(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| {
            r.actor == "system"
                && r.target == format!("session/{sid}")
                && r.action == "scheduler.gate_closed"
        })
        .count();
    assert_eq!(closed_rows, 1, "the gate closure is audited once");
    second.shut_down().await;
    db.drop_database().await;
}
