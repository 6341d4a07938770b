//! The store's integration tests, one test binary for all (issue 24): each
//! test binary compiles the async store code it polls, so one binary compiles
//! it once. Run one file's tests with `cargo test -p voltex-store --test store
//! <file>::`, e.g. `conformance::`.

mod support;

mod audit_chain;
mod conformance;
mod coordination;
mod evaluation;
mod field_encryption;
mod retail;
