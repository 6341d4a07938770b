//! Voltex HTTP API: axum routes that translate requests into
//! `voltex-market` calls and answers back into JSON. Thin by design: no
//! market rule lives here, only identity, body parsing, status codes,
//! metrics and the OpenAPI document.
pub mod error;
pub mod extract;
mod metrics;
mod openapi;
mod routes;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use std::net::SocketAddr;
use voltex_market::Market;

pub use openapi::ApiDoc;

/// Largest request body accepted. A full-day 96-interval offer with ten
/// segments per interval is about 60 kB of JSON; network imports are larger.
pub const BODY_LIMIT_BYTES: usize = 4 * 1024 * 1024;

/// Shared state of every handler.
#[derive(Debug, Clone)]
pub struct AppState {
    pub market: Market,
}

/// The whole API as a router (used by `serve` and by tests).
pub fn router(market: Market) -> Router {
    let state = AppState { market };
    routes::api()
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .with_state(state)
}

/// Binds `addr` and serves until ctrl-c. Returns once the listener is closed.
pub async fn serve(market: Market, addr: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    serve_on(market, listener, shutdown_signal()).await
}

/// Serves on an already-bound listener until `shutdown` resolves.
pub async fn serve_on(
    market: Market,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(market).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Runs the market's scheduler every `tick` (window opening, gate closure,
/// completing a gate closure a restart interrupted) until the task is
/// aborted. Failures are logged and retried on the next tick.
pub fn spawn_scheduler(market: Market, tick: std::time::Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(tick);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            match market.run_schedule(chrono::Utc::now()).await {
                Ok(done) => {
                    for a in done {
                        tracing::info!(session = %a.session_id, action = a.action, "scheduler");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "scheduler pass failed; retrying next tick"),
            }
        }
    })
}

async fn shutdown_signal() {
    let _ = tokio::signal::ctrl_c().await;
    tracing::info!("shutting down");
}
