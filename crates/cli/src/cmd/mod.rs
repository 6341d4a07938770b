//! One module per top-level command family. Each parses its own arguments and
//! calls into a library crate; no market rule lives here.
pub mod accounts;
pub mod agent;
pub mod assist;
pub mod bench_load;
pub mod clear;
pub mod dr;
pub mod evaluate;
pub mod forecast;
pub mod platform;
pub mod pricing;
pub mod retail;
pub mod security;
pub mod uc;
