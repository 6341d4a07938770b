//! `bench crash`: the declaration load runs while the server is killed with
//! SIGKILL at random moments (seeded; 0.5–2 s apart) and restarted on the
//! same data, `kills` times. Requests in flight at a kill get no answer and
//! count as not acknowledged. At the end every acknowledged declaration must
//! be stored with the identical receipt, no version may be half-written
//! (a declaration without its signature record or the reverse), and the
//! audit chain must verify.
use crate::check::{StoreCheck, check_store};
use crate::load::{Pace, Tally, Traders, assign, declarers};
use crate::platform::{Backend, BenchPlatform, Shape};
use crate::server::ServerSpec;
use crate::{LoadgenError, Result};
use indicatif::ProgressBar;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// What `bench crash` is asked to do.
#[derive(Debug, Clone)]
pub struct CrashOptions {
    pub exe: PathBuf,
    pub backend: Backend,
    pub kills: usize,
    pub connections: usize,
    pub members: usize,
    pub units: usize,
    pub traders: usize,
    /// Seeds the kill moments and the offers.
    pub seed: u64,
    /// Time between kills, seconds (drawn uniformly).
    pub gap_seconds: (f64, f64),
}

/// What `bench crash` found.
#[derive(Debug, Clone)]
pub struct CrashReport {
    pub backend: &'static str,
    pub kills: usize,
    pub acknowledged: usize,
    /// Requests that got no answer (in flight at a kill, or sent while the
    /// server was down).
    pub unanswered: u64,
    pub refused: u64,
    pub check: StoreCheck,
}

impl CrashReport {
    /// Lost or half-written declarations: 0 is the only pass.
    pub fn lost(&self) -> u64 {
        self.check.lost + self.check.half_written
    }
}

/// `bench crash` from set-up to the store check.
pub async fn run_crash(options: &CrashOptions, progress: &ProgressBar) -> Result<CrashReport> {
    let shape = Shape::for_connections(
        options.members,
        options.units,
        options.traders,
        options.connections,
    );
    progress.set_message("setting up");
    let platform = BenchPlatform::set_up(options.backend.clone(), shape).await?;
    let spec = ServerSpec::for_platform(options.exe.clone(), &platform, true)?;
    progress.set_message("starting voltex serve");
    let mut server = spec.start().await?;
    progress.set_message("signing in");
    let traders = Traders::sign_in(&platform, &spec.base_url(), options.connections).await?;

    let pace = Pace {
        stop: Arc::new(AtomicBool::new(false)),
        interval: None,
        accepted: Arc::new(AtomicU64::new(0)),
    };
    let mut set = tokio::task::JoinSet::new();
    let owned = assign(&platform, options.connections);
    for task in declarers(&traders, &owned, &pace, options.seed) {
        set.spawn(task);
    }
    let mut rng = StdRng::seed_from_u64(options.seed);
    let (low, high) = options.gap_seconds;
    for kill in 1..=options.kills {
        let gap = rng.random_range(low..=high.max(low));
        tokio::time::sleep(Duration::from_secs_f64(gap)).await;
        server.kill().await?;
        progress.set_message(format!(
            "kill {kill}/{}: {} acknowledged so far, restarting",
            options.kills,
            pace.accepted.load(Ordering::Relaxed)
        ));
        progress.tick();
        server = spec.start().await?;
    }
    // A last stretch on the restarted server, so the load is seen to go on.
    tokio::time::sleep(Duration::from_secs_f64(low.max(0.5))).await;
    pace.stop.store(true, Ordering::Relaxed);
    let mut tally = Tally::default();
    while let Some(done) = set.join_next().await {
        tally.merge(done.map_err(|e| LoadgenError::Server(e.to_string()))?);
    }
    progress.set_message("stopping the server, checking the store");
    server.stop().await?;

    let store = platform.open_store().await?;
    let check = check_store(&store, &tally.acknowledged, true).await;
    store.close().await;
    let report = CrashReport {
        backend: options.backend.name(),
        kills: options.kills,
        acknowledged: tally.acknowledged.len(),
        unanswered: tally.failed,
        refused: tally.refused.values().sum(),
        check: check?,
    };
    platform.finish().await?;
    Ok(report)
}
