//! Voltex HTTP API: axum routes that translate requests into
//! `voltex-market` calls and answers back into JSON. Thin by design: no
//! market rule lives here, only identity, body parsing, status codes,
//! metrics, the audit trail of requests, rate and time limits, sign-in and
//! the access rule of every endpoint ([`auth`], [`accounts`]), the check
//! of signed declarations ([`signing`]), and the OpenAPI document.
pub mod accounts;
pub mod audit;
pub mod auth;
pub mod error;
pub mod extract;
pub mod limits;
mod metrics;
mod openapi;
pub mod portal;
mod routes;
pub mod signing;
pub mod tls;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use limits::{RateLimit, RateLimiter, TimeLimits};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use voltex_market::Market;

pub use signing::SigningConfig;

/// The API's OpenAPI 3.1 document (served at `/openapi.json`), built from
/// the route table.
pub fn openapi_document() -> &'static utoipa::openapi::OpenApi {
    routes::document()
}

/// Largest request body accepted. A full-day 96-interval offer with ten
/// segments per interval is about 60 kB of JSON; network imports are larger.
pub const BODY_LIMIT_BYTES: usize = 4 * 1024 * 1024;

/// Shared state of every handler: one allocation behind a reference count.
/// Every request clones it several times (each middleware layer and the
/// handler take their own), so a clone is one atomic increment rather than
/// a copy of every handle inside (the store alone holds a dozen); a
/// profile of `bench load` put 4 % of the server's CPU in cloning and
/// dropping the fields one by one.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] shares.
#[derive(Debug)]
pub struct Shared {
    pub market: Market,
    /// The retail company system on the same store.
    pub retail: voltex_retail::Retail,
    /// Trust anchor and seal for signed declarations and signed requests;
    /// `None`: those answer 503.
    pub signing: Option<Arc<SigningConfig>>,
    /// Failed sign-ins per account and address (backoff and lockout).
    pub logins: accounts::LoginGuard,
    /// Nonces of signed requests within the clock-skew window.
    pub nonces: auth::NonceCache,
    /// Who may call each endpoint (from the route table).
    pub access: auth::AccessTable,
    /// The rate limits (the per-member bucket is taken once authenticated).
    pub limiter: Arc<RateLimiter>,
    pub body_limit_bytes: usize,
    /// The customer-service assistant, opened on first use (`routes::assist`).
    pub assist: tokio::sync::OnceCell<voltex_assist::Assistant>,
}

/// Limits a server applies to every request. The default rates are
/// generous: far above what a member's trading systems need (a member
/// declaring every unit of a 100-unit fleet for a day-ahead and a real-time
/// market sends a few hundred declarations around gate closure), low enough
/// that one client's flood is refused before it reaches the database.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig {
    /// Requests per session token (one trader's session).
    pub per_token: RateLimit,
    /// Requests per member, all its users and sessions together.
    pub per_member: RateLimit,
    /// Requests per client IP address, whoever they name (several members
    /// behind one gateway share it: raise it for such a gateway).
    pub per_address: RateLimit,
    /// Longest a handler may take to answer (503 `timed_out` after).
    pub request_timeout: Duration,
    /// The same for clearing, settlement and imports ([`limits::LongRoutes`]).
    pub long_request_timeout: Duration,
    /// Largest request body accepted (413 `body_too_large` above).
    pub body_limit_bytes: usize,
    /// CA trust and platform seal for signed declarations (`voltex serve
    /// --ca-dir`); `None` (the default) turns signed declarations and the
    /// certificate proof of core requests off (those answer 503).
    pub signing: Option<Arc<SigningConfig>>,
}

impl Default for ServerConfig {
    /// [`limits::DEFAULT_PER_TOKEN`] (200 requests/s, burst 400),
    /// [`limits::DEFAULT_PER_MEMBER`] (1,000/s, burst 2,000),
    /// [`limits::DEFAULT_PER_ADDRESS`] (2,000/s, burst 4,000), 30 s per
    /// request (10 min for the long routes), [`BODY_LIMIT_BYTES`] per body,
    /// no signed declarations.
    fn default() -> Self {
        Self {
            per_token: limits::DEFAULT_PER_TOKEN,
            per_member: limits::DEFAULT_PER_MEMBER,
            per_address: limits::DEFAULT_PER_ADDRESS,
            request_timeout: Duration::from_secs(30),
            long_request_timeout: Duration::from_secs(600),
            body_limit_bytes: BODY_LIMIT_BYTES,
            signing: None,
        }
    }
}

/// The whole API as a router (used by `serve` and by tests), with the
/// default [`ServerConfig`].
pub fn router(market: Market) -> Router {
    router_with(market, &ServerConfig::default())
}

/// The whole API as a router, with `config`'s limits.
///
/// Layers, outermost first: body limit, metrics (which so count refusals
/// too), the panic catcher (a defect answers 500 instead of dropping the
/// connection), URI length limit, audit (which so records rate-limited and
/// timed-out requests), rate limits, time limit, the error shape of axum's
/// own refusals, authentication and access rule, handler.
pub fn router_with(market: Market, config: &ServerConfig) -> Router {
    let (api, _, access, long_routes) = routes::api().into_parts();
    let limiter = Arc::new(RateLimiter::new(
        config.per_token,
        config.per_member,
        config.per_address,
    ));
    let state = AppState(Arc::new(Shared {
        logins: accounts::LoginGuard::for_store(market.store()),
        nonces: auth::NonceCache::for_store(market.store()),
        retail: voltex_retail::Retail::new(market.store().clone()),
        market,
        signing: config.signing.clone(),
        access,
        limiter: Arc::clone(&limiter),
        body_limit_bytes: config.body_limit_bytes,
        assist: Default::default(),
    }));
    let time_limits = TimeLimits {
        normal: config.request_timeout,
        long: config.long_request_timeout,
        long_routes: Arc::new(long_routes),
    };
    api.route_layer(from_fn_with_state(state.clone(), auth::authenticate))
        .fallback(no_such_endpoint)
        .layer(from_fn(error::json_refusals))
        // The portal answers HTML, also when it refuses: outside the JSON shaping.
        .merge(portal::router())
        .layer(from_fn_with_state(time_limits, limits::time_limit))
        .layer(from_fn_with_state(limiter, limits::rate_limit))
        .layer(from_fn_with_state(
            audit::AuditLayer::new(state.clone()),
            audit::record_request,
        ))
        .layer(from_fn(limits::uri_limit))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            error::panic_answer,
        ))
        .layer(from_fn(metrics::track))
        .layer(DefaultBodyLimit::max(config.body_limit_bytes))
        .layer(from_fn(tls::expose_peer))
        .with_state(state)
}

/// Unknown paths answer in the API's error shape too (and, being routed,
/// pass the rate limits and, when state-changing, the audit log).
async fn no_such_endpoint(uri: axum::http::Uri) -> error::ApiError {
    error::ApiError::new(
        axum::http::StatusCode::NOT_FOUND,
        "not_found",
        format!("no endpoint at {}", uri.path()),
    )
}

/// Binds `addr` and serves until ctrl-c. Returns once the listener is closed.
pub async fn serve(market: Market, addr: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    serve_on(market, listener, shutdown_signal()).await
}

/// Serves on an already-bound listener until `shutdown` resolves, with the
/// default [`ServerConfig`].
pub async fn serve_on(
    market: Market,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_on_with(market, listener, &ServerConfig::default(), shutdown).await
}

/// Serves on an already-bound listener with `config`'s limits until
/// `shutdown` resolves. Client addresses reach the handlers (rate limits
/// and the audit log's `source`).
pub async fn serve_on_with(
    market: Market,
    listener: tokio::net::TcpListener,
    config: &ServerConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router_with(market, config).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Serves HTTPS on an already-bound listener with `config`'s limits until
/// `shutdown` resolves: `tls` holds the server certificate and, for mTLS,
/// the platform CA that client certificates must chain to
/// ([`tls::server_config`]).
pub async fn serve_tls_on_with(
    market: Market,
    listener: tokio::net::TcpListener,
    tls: Arc<rustls::ServerConfig>,
    config: &ServerConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = tls::TlsListener::new(listener, tls)?;
    axum::serve(
        listener,
        router_with(market, config).into_make_service_with_connect_info::<tls::TlsPeer>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// The lease the scheduler runs under: one replica at a time schedules.
pub const SCHEDULER_LEASE: &str = "voltex-scheduler";

/// Runs the market's scheduler every `tick` (window opening, gate closure,
/// completing a gate closure a restart interrupted) until the task is
/// aborted. Each action done is recorded in the audit log (actor `system`).
/// Failures are logged and retried on the next tick.
///
/// Only the holder of [`SCHEDULER_LEASE`] runs a pass (on PostgreSQL an
/// advisory lock on a connection of the task's own; on SQLite always this
/// process): each tick a replica without it tries to take it, so when the
/// holder dies (its connection closes, its lock is released) another
/// replica takes over within a tick. A pass cut short by that is repeated
/// by the next holder: every step of the schedule is idempotent.
pub fn spawn_scheduler(market: Market, tick: std::time::Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(tick);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut lease: Option<voltex_store::Lease> = None;
        loop {
            interval.tick().await;
            if let Some(held) = &mut lease
                && !held.is_held().await
            {
                tracing::warn!("scheduler lease lost; trying to take it again");
                lease = None;
            }
            if lease.is_none() {
                match market.store().leader_lease(SCHEDULER_LEASE).await {
                    Ok(Some(taken)) => {
                        tracing::info!("this process now runs the scheduler");
                        lease = Some(taken);
                    }
                    Ok(None) => continue,
                    Err(e) => {
                        tracing::warn!(error = %e, "scheduler lease unavailable; retrying next tick");
                        continue;
                    }
                }
            }
            // A pass that panics (a defect) is logged; the scheduler lives on.
            let pass = futures_util::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(
                market.run_schedule(chrono::Utc::now()),
            ))
            .await;
            match pass {
                Ok(Ok(done)) => {
                    for a in done {
                        tracing::info!(session = %a.session_id, action = a.action, "scheduler");
                        audit::record_scheduled(market.store(), &a).await;
                    }
                }
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "scheduler pass failed; retrying next tick")
                }
                Err(_) => tracing::error!("scheduler pass panicked; retrying next tick"),
            }
        }
    })
}

async fn shutdown_signal() {
    let _ = tokio::signal::ctrl_c().await;
    tracing::info!("shutting down");
}
