//! The load generator behind `voltex bench load` and `voltex bench crash`:
//! it measures the platform end to end as an outside tester would. Before
//! the clock starts it sets up a platform in a temporary directory through
//! the same library calls the commands use ([`platform`]), starts the real
//! `voltex serve` as a child process ([`server`]) and signs every trader in
//! over HTTP with password and TOTP. Then keep-alive connections send signed
//! day-ahead energy offers ([`offers`], [`load`]), an authenticated no-op
//! is measured the same way, and afterwards the store is opened to check
//! that every receipt the client got is stored ([`check`]). [`crash`] kills
//! the server at random moments while the load runs; [`online`] holds push
//! subscriptions open; [`flood`] measures one identity flooding.
//!
//! It decides nothing about the market: offers are built to pass the rules
//! the market crates hold, and every refusal is counted by the server's own
//! error code. It prints nothing either; the CLI does.
pub mod check;
pub mod crash;
pub mod flood;
pub mod load;
pub mod offers;
pub mod online;
pub mod platform;
pub mod server;

pub use check::{StoreCheck, check_store};
pub use crash::{CrashOptions, CrashReport, run_crash};
pub use flood::FloodReport;
pub use load::{Acknowledged, LatencySummary, LoadOptions, LoadReport, PhaseReport, run_load};
pub use online::OnlineReport;
pub use platform::{Backend, BenchPlatform, Shape};
pub use server::{ProcessUsage, ServerProcess, ServerSpec};

/// Everything that can stop a bench run.
#[derive(Debug, thiserror::Error)]
pub enum LoadgenError {
    #[error("setting up the bench platform: {0}")]
    Setup(String),
    #[error("the server process: {0}")]
    Server(String),
    #[error("store: {0}")]
    Store(#[from] voltex_store::StoreError),
    #[error("market: {0}")]
    Market(#[from] voltex_market::MarketError),
    #[error("security: {0}")]
    Security(#[from] voltex_security::SecurityError),
    #[error("audit chain: {0}")]
    Audit(#[from] voltex_server::audit::AuditError),
    #[error("HTTP client: {0}")]
    Http(#[from] reqwest::Error),
    #[error("PostgreSQL administration: {0}")]
    Postgres(#[from] sqlx::Error),
    #[error("encoding: {0}")]
    Json(#[from] serde_json::Error),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

pub type Result<T, E = LoadgenError> = std::result::Result<T, E>;
