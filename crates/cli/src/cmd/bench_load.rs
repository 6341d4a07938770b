//! `voltex bench load` and `voltex bench crash`: parse the arguments, let
//! `voltex-loadgen` set up a platform, run this very executable as the
//! server and measure it, and print the table and the one summary line.
use anyhow::Context;
use std::time::Duration;
use voltex_loadgen::{
    Backend, CrashOptions, CrashReport, LatencySummary, LoadOptions, LoadReport, PhaseReport,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendArg {
    Sqlite,
    Postgres,
}

/// Where the bench's store lives; PostgreSQL gets a fresh database on the
/// server `DATABASE_URL` names, dropped afterwards.
#[derive(Debug, clap::Args)]
pub struct BackendArgs {
    #[arg(long, value_enum, default_value = "sqlite")]
    pub backend: BackendArg,
    /// PostgreSQL server for `--backend postgres` (a fresh database is
    /// created beside the one named).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

impl BackendArgs {
    fn backend(&self) -> anyhow::Result<Backend> {
        Ok(match self.backend {
            BackendArg::Sqlite => Backend::Sqlite,
            BackendArg::Postgres => Backend::Postgres {
                admin_url: self
                    .database_url
                    .clone()
                    .filter(|u| !u.is_empty())
                    .context(
                        "--backend postgres needs DATABASE_URL (postgres://user@host:port/db)",
                    )?,
            },
        })
    }
}

/// Signed day-ahead offers over keep-alive HTTP against a server started
/// for the run; ends with `bench load: backend=… accepted_per_s=… lost=…`.
#[derive(Debug, clap::Args)]
pub struct LoadArgs {
    /// Length of the declaration phase.
    #[arg(long, default_value_t = 15.0)]
    pub seconds: f64,
    /// Keep-alive connections, each a task sending one request at a time.
    #[arg(long, default_value_t = 500)]
    pub connections: usize,
    #[command(flatten)]
    pub store: BackendArgs,
    #[arg(long, default_value_t = 4)]
    pub members: usize,
    #[arg(long, default_value_t = 100)]
    pub units: usize,
    #[arg(long, default_value_t = 128)]
    pub traders: usize,
    /// Hold this many notification streams open during the load and report
    /// how publications reach them.
    #[arg(long, default_value_t = 0)]
    pub online: usize,
    /// Measure legitimate latency with and without one flooding client
    /// (the server keeps its default rate limits).
    #[arg(long)]
    pub flood: bool,
    /// Length of the authenticated no-op phase (GET /api/v1/auth/me).
    #[arg(long, default_value_t = 5.0)]
    pub noop_seconds: f64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// The load while the server is killed (SIGKILL) and restarted; ends with
/// `bench crash: kills=… acknowledged=… lost=…` and fails when lost > 0.
#[derive(Debug, clap::Args)]
pub struct CrashArgs {
    #[arg(long, default_value_t = 5)]
    pub kills: usize,
    #[command(flatten)]
    pub store: BackendArgs,
    #[arg(long, default_value_t = 64)]
    pub connections: usize,
    #[arg(long, default_value_t = 4)]
    pub members: usize,
    #[arg(long, default_value_t = 32)]
    pub units: usize,
    #[arg(long, default_value_t = 8)]
    pub traders: usize,
    /// Seconds between kills, drawn uniformly from [min, max].
    #[arg(long, default_value_t = 0.5)]
    pub min_gap: f64,
    #[arg(long, default_value_t = 2.0)]
    pub max_gap: f64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

fn spinner() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

pub fn load(args: LoadArgs) -> anyhow::Result<()> {
    let options = LoadOptions {
        exe: std::env::current_exe().context("finding the voltex executable")?,
        backend: args.store.backend()?,
        seconds: args.seconds,
        connections: args.connections.max(1),
        members: args.members,
        units: args.units,
        traders: args.traders,
        online: args.online,
        flood: args.flood,
        noop_seconds: args.noop_seconds,
        seed: args.seed,
    };
    let bar = spinner();
    let report = super::platform::runtime()?.block_on(voltex_loadgen::run_load(&options, &bar));
    bar.finish_and_clear();
    let report = report?;
    print_load(&report);
    if report.lost > 0 {
        anyhow::bail!(
            "{} acknowledged declarations are not in the store",
            report.lost
        );
    }
    Ok(())
}

fn latency_row(name: &str, per_s: f64, l: &LatencySummary) -> String {
    format!(
        "{name:<14} {per_s:>10.0} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
        l.p50_ms, l.p95_ms, l.p99_ms, l.max_ms
    )
}

fn refusals(p: &PhaseReport) -> String {
    if p.refused.is_empty() && p.failed == 0 {
        return "none".into();
    }
    let mut parts: Vec<String> = p
        .refused
        .iter()
        .map(|(code, n)| format!("{code} {:.0}/s", *n as f64 / p.seconds.max(1e-9)))
        .collect();
    if p.failed > 0 {
        parts.push(format!("no answer {}", p.failed));
    }
    parts.join(", ")
}

fn print_load(r: &LoadReport) {
    let s = r.shape;
    println!(
        "bench load on {}: {} members, {} units × {} sessions, {} traders, {} connections",
        r.backend, s.members, s.units, s.sessions, s.traders, r.connections
    );
    println!(
        "{:<14} {:>10} {:>9} {:>9} {:>9} {:>9}",
        "phase", "answers/s", "p50 ms", "p95 ms", "p99 ms", "max ms"
    );
    println!(
        "{}",
        latency_row(
            "declarations",
            r.declarations.accepted_per_s(),
            &r.declarations.latency
        )
    );
    println!(
        "{}",
        latency_row("no-op", r.noop.accepted_per_s(), &r.noop.latency)
    );
    println!("refused (declarations): {}", refusals(&r.declarations));
    println!("refused (no-op): {}", refusals(&r.noop));
    println!(
        "server: {:.1} CPU s during declarations ({:.1} s of wall), {:.1} CPU s during no-op, peak RSS {} MB",
        r.declarations.server_cpu_seconds,
        r.declarations.seconds,
        r.noop.server_cpu_seconds,
        r.server.peak_rss_bytes / (1024 * 1024)
    );
    println!(
        "client: {} offers signed before the clock started, {} signed during the phase",
        r.presigned, r.signed_in_loop
    );
    if let Some(o) = &r.online {
        println!(
            "online: {} subscriptions, {} streaming",
            o.subscribers, o.connected
        );
        for d in &o.deliveries {
            println!(
                "  publication {}: received by {}/{}, p99 {:.1} ms, max {:.1} ms",
                d.session_id, d.received_by, o.subscribers, d.delay.p99_ms, d.delay.max_ms
            );
        }
    }
    if let Some(f) = &r.flood {
        let answers: Vec<String> = f
            .flood_answers
            .iter()
            .map(|(c, n)| format!("{c} {n}"))
            .collect();
        println!(
            "flood: legitimate p99 {:.1} ms unloaded, {:.1} ms under flood (×{:.2}); flooder sent {} ({})",
            f.unloaded.p99_ms,
            f.flooded.p99_ms,
            f.ratio(),
            f.flood_sent,
            answers.join(", ")
        );
    }
    println!(
        "bench load: backend={} accepted_per_s={:.0} noop_per_s={:.0} ratio={:.2} p50_ms={:.1} p99_ms={:.1} lost={}",
        r.backend,
        r.declarations.accepted_per_s(),
        r.noop.accepted_per_s(),
        r.ratio(),
        r.declarations.latency.p50_ms,
        r.declarations.latency.p99_ms,
        r.lost
    );
}

pub fn crash(args: CrashArgs) -> anyhow::Result<()> {
    let options = CrashOptions {
        exe: std::env::current_exe().context("finding the voltex executable")?,
        backend: args.store.backend()?,
        kills: args.kills,
        connections: args.connections.max(1),
        members: args.members,
        units: args.units,
        traders: args.traders,
        seed: args.seed,
        gap_seconds: (args.min_gap, args.max_gap),
    };
    let bar = spinner();
    let report = super::platform::runtime()?.block_on(voltex_loadgen::run_crash(&options, &bar));
    bar.finish_and_clear();
    let report = report?;
    print_crash(&report);
    if report.lost() > 0 {
        anyhow::bail!(
            "{} acknowledged declarations lost, {} half-written",
            report.check.lost,
            report.check.half_written
        );
    }
    Ok(())
}

fn print_crash(r: &CrashReport) {
    println!(
        "bench crash on {}: {} kills; {} acknowledged, {} unanswered (in flight or server down), {} refused",
        r.backend, r.kills, r.acknowledged, r.unanswered, r.refused
    );
    println!(
        "store: {} lost, {} half-written, audit chain of {} rows verifies",
        r.check.lost, r.check.half_written, r.check.audit_rows
    );
    println!(
        "bench crash: kills={} acknowledged={} lost={}",
        r.kills,
        r.acknowledged,
        r.lost()
    );
}
