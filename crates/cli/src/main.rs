//! `voltex`: the one command users run. Thin: it parses, calls library crates, prints.
mod cmd;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "voltex", version, about = "Voltex electricity spot-market platform")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Market clearing: multi-interval DC-OPF with locational marginal prices.
    Clear(cmd::clear::ClearArgs),
    /// Time-of-use pricing for retailers (bilevel seller GA over consumer QPs).
    #[command(subcommand)]
    Pricing(cmd::pricing::Command),
    /// Load-aggregator trading agent (BiLSTM-DDPG and baselines).
    #[command(subcommand)]
    Agent(cmd::agent::Command),
    /// Price and load forecasting, price-direction classification.
    #[command(subcommand)]
    Forecast(cmd::forecast::Command),
    /// Platform certificate authority: initialise, issue and revoke member certificates.
    #[command(subcommand)]
    Ca(cmd::security::CaCommand),
    /// Check a declaration receipt offline against the platform certificate.
    VerifyReceipt(cmd::security::VerifyReceiptArgs),
    /// Benchmarks (speed and memory targets live here, not in tests).
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    Clearing(cmd::clear::BenchArgs),
    Pricing(cmd::pricing::BenchArgs),
    Agent(cmd::agent::BenchArgs),
    Forecast(cmd::forecast::BenchArgs),
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Clear(c) => cmd::clear::run(c),
        Command::Pricing(c) => cmd::pricing::run(c),
        Command::Agent(c) => cmd::agent::run(c),
        Command::Forecast(c) => cmd::forecast::run(c),
        Command::Ca(c) => cmd::security::ca(c),
        Command::VerifyReceipt(a) => cmd::security::verify_receipt(a),
        Command::Bench(b) => match b {
            BenchCommand::Clearing(a) => cmd::clear::bench(a),
            BenchCommand::Pricing(a) => cmd::pricing::bench(a),
            BenchCommand::Agent(a) => cmd::agent::bench(a),
            BenchCommand::Forecast(a) => cmd::forecast::bench(a),
        },
    }
}
