//! The server's end-to-end tests, one test binary for all (issue 24): each
//! test binary instantiates the whole async stack it polls — server, market,
//! store — so fifteen of them compiled it fifteen times. `log_secrets.rs`
//! stays a binary of its own: its capturing log subscriber is process-global.
//!
//! Run one file's tests with `cargo test -p voltex-server --test server
//! <file>::`, e.g. `end_to_end::`.

mod common;

mod api_fuzz;
mod assist;
mod audit_and_limits;
mod authentication;
mod end_to_end;
mod error_shapes;
mod openapi_document;
mod portal;
mod portal_browser;
mod replicas;
mod retail;
mod role_table;
mod signed_declarations;
mod tls;
mod trading_day;
