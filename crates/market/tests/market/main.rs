//! The market's integration tests, one test binary for all (issue 24): each
//! test binary compiles the async market and store code it polls, so one
//! binary compiles it once. Run one file's tests with `cargo test -p
//! voltex-market --test market <file>::`, e.g. `operations::`.

mod evaluation;
mod expected_version;
mod operations;
mod trading_days;
