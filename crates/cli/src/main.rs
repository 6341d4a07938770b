//! `voltex`: the one command users run. Thin: it parses, calls library crates, prints.
mod cmd;

use clap::{Parser, Subcommand};

/// A signed declaration is parsed into and written from many small JSON
/// nodes; glibc's allocator spent about a fifth of the server's CPU on them
/// under load (docs/performance.md), mimalloc a fraction of that.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "voltex",
    version,
    about = "Voltex electricity spot-market platform"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP API (embedded SQLite store by default; DATABASE_URL for PostgreSQL).
    Serve(cmd::platform::ServeArgs),
    /// Run a demo declaration day on the bundled PJM 5-bus case and print a summary.
    Demo(cmd::platform::DemoArgs),
    /// Import a MATPOWER case file as the market's network.
    ImportCase(cmd::platform::ImportCaseArgs),
    /// List or export members.
    #[command(subcommand)]
    Members(cmd::platform::MembersCommand),
    /// Users who sign in to the API (password + one-time password).
    #[command(subcommand)]
    Users(cmd::accounts::UsersCommand),
    /// Market clearing: multi-interval DC-OPF with locational marginal prices.
    Clear(cmd::clear::ClearArgs),
    /// Unit commitment (SCUC MILP, then pricing with the commitment fixed).
    #[command(subcommand)]
    Uc(cmd::uc::Command),
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
    /// Print the signature headers a core API request carries (certificate proof).
    SignRequest(cmd::accounts::SignRequestArgs),
    /// Sign a declaration with a member key (what a member's client does before submitting).
    SignDeclaration(cmd::security::SignDeclarationArgs),
    /// Encrypt or decrypt exchange files for a recipient (age, x25519).
    #[command(subcommand, name = "efile", alias = "file-crypto")]
    FileCrypto(cmd::security::EfileCommand),
    /// Audit log tools: verify the hash chain.
    #[command(subcommand)]
    Audit(cmd::security::AuditCommand),
    /// Field-encryption keys: generate and rotate.
    #[command(subcommand)]
    FieldKeys(cmd::security::FieldKeysCommand),
    /// Market evaluation of a cleared day: concentration, pivotal suppliers, conduct, impact.
    Evaluate(cmd::evaluate::EvaluateArgs),
    /// The retail company system: customers, meter data, bills, deviation, purchasing, profit.
    #[command(subcommand)]
    Retail(cmd::retail::Command),
    /// Demand response: resources, events, baselines, performance and settlement.
    #[command(subcommand)]
    Dr(cmd::dr::Command),
    /// Ask the customer-service assistant a question (Chinese or English).
    Ask(cmd::assist::AskArgs),
    /// Customer service for operators: unknown-question queue, drafts, approval, statistics.
    #[command(subcommand)]
    Assist(cmd::assist::Command),
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
    Security(cmd::security::BenchArgs),
    /// Market evaluation of a day of a large case (issue 17's figure).
    Evaluation(cmd::evaluate::BenchArgs),
    /// Customer-service retrieval latency over a large knowledge base (issue 22).
    Assist(cmd::assist::BenchArgs),
    /// Retail decision support: forecasts and segmentation of 2,000 customers.
    Decide(cmd::retail::DecideBenchArgs),
    /// Signed declarations over HTTP against a server started for the run.
    Load(cmd::bench_load::LoadArgs),
    /// The load while the server is killed and restarted; 0 lost passes.
    Crash(cmd::bench_load::CrashArgs),
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(a) => cmd::platform::serve(a),
        Command::Demo(a) => cmd::platform::demo(a),
        Command::ImportCase(a) => cmd::platform::import_case(a),
        Command::Members(c) => cmd::platform::members(c),
        Command::Users(c) => cmd::accounts::users(c),
        Command::SignRequest(a) => cmd::accounts::sign_request(a),
        Command::Clear(c) => cmd::clear::run(c),
        Command::Uc(c) => cmd::uc::run(c),
        Command::Pricing(c) => cmd::pricing::run(c),
        Command::Agent(c) => cmd::agent::run(c),
        Command::Forecast(c) => cmd::forecast::run(c),
        Command::Ca(c) => cmd::security::ca(c),
        Command::VerifyReceipt(a) => cmd::security::verify_receipt(a),
        Command::SignDeclaration(a) => cmd::security::sign_declaration(a),
        Command::FileCrypto(c) => cmd::security::efile(c),
        Command::Audit(c) => cmd::security::audit(c),
        Command::FieldKeys(c) => cmd::security::field_keys(c),
        Command::Evaluate(a) => cmd::evaluate::run(a),
        Command::Retail(c) => cmd::retail::run(c),
        Command::Dr(c) => cmd::dr::run(c),
        Command::Ask(a) => cmd::assist::ask(a),
        Command::Assist(c) => cmd::assist::run(c),
        Command::Bench(b) => match b {
            BenchCommand::Clearing(a) => cmd::clear::bench(a),
            BenchCommand::Pricing(a) => cmd::pricing::bench(a),
            BenchCommand::Agent(a) => cmd::agent::bench(a),
            BenchCommand::Forecast(a) => cmd::forecast::bench(a),
            BenchCommand::Security(a) => cmd::security::bench(a),
            BenchCommand::Evaluation(a) => cmd::evaluate::bench(a),
            BenchCommand::Assist(a) => cmd::assist::bench(a),
            BenchCommand::Decide(a) => cmd::retail::bench_decide(a),
            BenchCommand::Load(a) => cmd::bench_load::load(a),
            BenchCommand::Crash(a) => cmd::bench_load::crash(a),
        },
    }
}
