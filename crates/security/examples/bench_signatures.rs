//! Prints the declaration path's cryptographic costs (the same measurement as
//! `voltex bench security`). Run optimised:
//! `cargo run --release -p voltex-security --example bench_signatures -- 5000`
fn main() -> Result<(), voltex_security::SecurityError> {
    let iterations = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let report = voltex_security::bench::run_signature_bench(iterations)?;
    println!("{report}");
    Ok(())
}
