//! `bench load`: set up, start the server, sign every trader in, then
//! `connections` keep-alive connections each send signed energy offers for
//! the subjects it owns (one connection per subject, so versions stay
//! sequential) until the time is up; then the authenticated no-op
//! (`GET /api/v1/auth/me`) on the same connections; then stop the server
//! and check the store for every acknowledged receipt.
//!
//! Latency is measured from just before the request is sent to the end of
//! the answer's body, on the client; percentiles of the declaration phase
//! are over accepted declarations only (a refusal answers early).
use crate::check::check_store;
use crate::offers::{SubjectState, Submission, retry_after, sign_in_all};
use crate::platform::{Backend, BenchPlatform, Credential, Shape};
use crate::server::{ProcessUsage, ServerSpec};
use crate::{FloodReport, OnlineReport, Result};
use indicatif::ProgressBar;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use voltex_security::Receipt;

/// What `bench load` is asked to do.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// The `voltex` executable started as the server.
    pub exe: PathBuf,
    pub backend: Backend,
    pub seconds: f64,
    pub connections: usize,
    pub members: usize,
    pub units: usize,
    pub traders: usize,
    /// Push subscriptions held open during the load (0: none).
    pub online: usize,
    pub flood: bool,
    pub noop_seconds: f64,
    pub seed: u64,
}

/// A declaration version whose receipt the client received.
#[derive(Debug, Clone)]
pub struct Acknowledged {
    pub key: String,
    pub version: i64,
    pub receipt: Receipt,
}

/// Latency percentiles, milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LatencySummary {
    pub count: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl LatencySummary {
    /// From latencies in microseconds (sorted here).
    pub fn of(mut micros: Vec<u32>) -> Self {
        micros.sort_unstable();
        let at = |q: f64| -> f64 {
            if micros.is_empty() {
                return 0.0;
            }
            let i = ((micros.len() as f64 * q).ceil() as usize).clamp(1, micros.len()) - 1;
            f64::from(micros[i]) / 1000.0
        };
        Self {
            count: micros.len(),
            p50_ms: at(0.50),
            p95_ms: at(0.95),
            p99_ms: at(0.99),
            max_ms: at(1.0),
        }
    }
}

/// One measured phase.
#[derive(Debug, Clone, Default)]
pub struct PhaseReport {
    pub seconds: f64,
    /// 201 for declarations, 200 for the no-op.
    pub accepted: u64,
    /// Answered with another status, by the error body's `code`.
    pub refused: BTreeMap<String, u64>,
    /// No answer (connection refused or reset, time-out).
    pub failed: u64,
    pub latency: LatencySummary,
    /// Server CPU seconds spent during the phase.
    pub server_cpu_seconds: f64,
}

impl PhaseReport {
    pub fn accepted_per_s(&self) -> f64 {
        self.accepted as f64 / self.seconds.max(1e-9)
    }

    pub fn refused_total(&self) -> u64 {
        self.refused.values().sum()
    }
}

/// What `bench load` measured.
#[derive(Debug, Clone)]
pub struct LoadReport {
    pub backend: &'static str,
    pub shape: Shape,
    pub connections: usize,
    pub declarations: PhaseReport,
    pub noop: PhaseReport,
    /// The server's peak RSS and total CPU seconds.
    pub server: ProcessUsage,
    pub acknowledged: usize,
    pub lost: u64,
    pub online: Option<OnlineReport>,
    pub flood: Option<FloodReport>,
    /// Offers signed before the timed phase, and those signed during it.
    pub presigned: usize,
    pub signed_in_loop: u64,
}

impl LoadReport {
    /// Accepted declarations per second over no-op answers per second.
    pub fn ratio(&self) -> f64 {
        self.declarations.accepted_per_s() / self.noop.accepted_per_s().max(1e-9)
    }
}

/// What one connection counted.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub accepted: u64,
    /// Submissions signed in the sending loop (none prepared were left).
    pub signed_in_loop: u64,
    pub refused: BTreeMap<String, u64>,
    pub failed: u64,
    pub latencies_us: Vec<u32>,
    pub acknowledged: Vec<Acknowledged>,
}

impl Tally {
    pub fn merge(&mut self, other: Tally) {
        self.accepted += other.accepted;
        self.signed_in_loop += other.signed_in_loop;
        for (code, n) in other.refused {
            *self.refused.entry(code).or_default() += n;
        }
        self.failed += other.failed;
        self.latencies_us.extend(other.latencies_us);
        self.acknowledged.extend(other.acknowledged);
    }

    pub fn phase(self, seconds: f64, server_cpu_seconds: f64) -> (PhaseReport, Vec<Acknowledged>) {
        (
            PhaseReport {
                seconds,
                accepted: self.accepted,
                refused: self.refused,
                failed: self.failed,
                latency: LatencySummary::of(self.latencies_us),
                server_cpu_seconds,
            },
            self.acknowledged,
        )
    }
}

/// Everything a connection needs to declare as its members' traders.
#[derive(Debug, Clone)]
pub(crate) struct Traders {
    pub client: reqwest::Client,
    pub base: String,
    /// Bearer tokens of each member's traders.
    pub tokens: Arc<Vec<Vec<String>>>,
    pub credentials: Arc<Vec<Arc<Credential>>>,
}

impl Traders {
    /// Signs every trader of `platform` in at `base`.
    pub async fn sign_in(platform: &BenchPlatform, base: &str, connections: usize) -> Result<Self> {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(connections.max(1) * 2)
            .timeout(Duration::from_secs(60))
            .build()?;
        let tokens = sign_in_all(&client, base, &platform.traders).await?;
        let mut by_member = vec![Vec::new(); platform.members.len()];
        for (account, token) in platform.traders.iter().zip(tokens) {
            if let Some(m) = account.member {
                by_member[m].push(token);
            }
        }
        Ok(Self {
            client,
            base: base.to_owned(),
            tokens: Arc::new(by_member),
            credentials: Arc::new(platform.members.clone()),
        })
    }

    /// Any trader's token, picked by `n`.
    pub fn any_token(&self, n: usize) -> &str {
        let member = &self.tokens[n % self.tokens.len()];
        &member[(n / self.tokens.len()) % member.len()]
    }
}

/// Splits the subjects among `connections`: connection `c` owns subjects
/// `c`, `c + connections`, ….
/// `c`'s subjects stay with it from one phase to the next.
pub(crate) fn assign(platform: &BenchPlatform, connections: usize) -> Vec<Owned> {
    let n = connections.max(1);
    let mut owned = vec![Vec::new(); n];
    for (i, s) in platform.subjects.iter().enumerate() {
        owned[i % n].push(SubjectState::new(s.clone()));
    }
    owned
        .into_iter()
        .map(|o| Arc::new(tokio::sync::Mutex::new(o)))
        .collect()
}

/// The subjects one connection owns, with their versions.
pub(crate) type Owned = Arc<tokio::sync::Mutex<Vec<SubjectState>>>;

/// Offers signed ahead per second of the timed phase, and at most in all:
/// more than the server can accept in that time on the 2-core machine, so
/// that signing in the loop (which competes with the server for the CPU)
/// only starts if the server outruns it.
pub const PRESIGN_PER_SECOND: usize = 2_000;
pub const PRESIGN_MAX: usize = 32_000;

/// How many offers `presign` prepares for a phase of `seconds`.
pub fn presign_budget(seconds: f64) -> usize {
    ((seconds.max(0.0) * PRESIGN_PER_SECOND as f64).ceil() as usize).min(PRESIGN_MAX)
}

/// Signs `total` offers ahead, spread evenly over every owned subject, on
/// all cores (before the clock starts); answers how many were signed.
pub(crate) async fn presign(
    traders: &Traders,
    owned: &[Owned],
    total: usize,
    seed: u64,
) -> Result<usize> {
    let subjects: usize = {
        let mut n = 0;
        for o in owned {
            n += o.lock().await.len();
        }
        n
    };
    if subjects == 0 || total == 0 {
        return Ok(0);
    }
    let per_subject = total.div_ceil(subjects);
    let owned = owned.to_vec();
    let credentials = traders.credentials.clone();
    tokio::task::spawn_blocking(move || {
        let next = std::sync::atomic::AtomicUsize::new(0);
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    scope.spawn(|| -> Result<usize> {
                        let mut signed = 0;
                        loop {
                            let c = next.fetch_add(1, Ordering::Relaxed);
                            let Some(o) = owned.get(c) else {
                                return Ok(signed);
                            };
                            let mut rng = StdRng::seed_from_u64(seed ^ (c as u64) << 20);
                            for state in o.blocking_lock().iter_mut() {
                                let credential = &credentials[state.subject.member];
                                state.presign(credential, per_subject, &mut rng)?;
                                signed += per_subject;
                            }
                        }
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or(Ok(0)))
                .sum::<Result<usize>>()
        })
    })
    .await
    .map_err(|e| crate::LoadgenError::Setup(e.to_string()))?
}

/// When a connection stops, and how often it may send.
#[derive(Debug, Clone)]
pub(crate) struct Pace {
    pub stop: Arc<AtomicBool>,
    /// At least this long between two requests of one connection.
    pub interval: Option<Duration>,
    /// Accepted so far, all connections (for the progress bar).
    pub accepted: Arc<AtomicU64>,
}

/// One connection declaring its subjects in turn until told to stop.
/// One declaring task per connection, each over the subjects it owns, the
/// connection's generator seeded `seed + connection`.
pub(crate) fn declarers(
    traders: &Traders,
    owned: &[Owned],
    pace: &Pace,
    seed: u64,
) -> Vec<impl std::future::Future<Output = Tally> + Send + 'static + use<>> {
    owned
        .iter()
        .enumerate()
        .map(|(c, subjects)| {
            declare(
                traders.clone(),
                c,
                subjects.clone(),
                pace.clone(),
                seed + c as u64,
            )
        })
        .collect()
}

async fn declare(
    traders: Traders,
    connection: usize,
    subjects: Owned,
    pace: Pace,
    seed: u64,
) -> Tally {
    let mut tally = Tally::default();
    let mut subjects = subjects.lock().await;
    if subjects.is_empty() {
        return tally;
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let mut turn = 0usize;
    while !pace.stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        let owned = subjects.len();
        let state = &mut subjects[turn % owned];
        turn += 1;
        let member_tokens = &traders.tokens[state.subject.member];
        let token = &member_tokens[connection % member_tokens.len()];
        let credential = &traders.credentials[state.subject.member];
        let Ok(Submission {
            version,
            key,
            payload,
            prepared,
        }) = state.next_submission(credential, &mut rng)
        else {
            *tally.refused.entry("client_signing".into()).or_default() += 1;
            continue;
        };
        if !prepared {
            tally.signed_in_loop += 1;
        }
        let url = format!(
            "{}/api/v1/sessions/{}/declarations/signed",
            traders.base, state.subject.session_id
        );
        let sent = Instant::now();
        let resp = traders
            .client
            .post(url)
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(payload)
            .send()
            .await;
        let resp = match resp {
            Ok(r) => r,
            Err(_) => {
                // No answer: the version may or may not be stored; the
                // next try of this subject finds out (409 moves it on).
                tally.failed += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let status = resp.status();
        let wait = retry_after(&resp);
        let Ok(bytes) = resp.bytes().await else {
            tally.failed += 1;
            continue;
        };
        let latency = sent.elapsed();
        if status == reqwest::StatusCode::CREATED {
            let receipt = serde_json::from_slice::<Value>(&bytes)
                .ok()
                .and_then(|v| serde_json::from_value::<Receipt>(v["receipt"].clone()).ok());
            match receipt {
                Some(receipt) => {
                    tally.accepted += 1;
                    pace.accepted.fetch_add(1, Ordering::Relaxed);
                    tally
                        .latencies_us
                        .push(u32::try_from(latency.as_micros()).unwrap_or(u32::MAX));
                    tally.acknowledged.push(Acknowledged {
                        key,
                        version: i64::from(version),
                        receipt,
                    });
                    state.next_version += 1;
                }
                None => {
                    *tally
                        .refused
                        .entry("unreadable_receipt".into())
                        .or_default() += 1
                }
            }
        } else {
            let code = serde_json::from_slice::<Value>(&bytes)
                .ok()
                .and_then(|v| v["error"]["code"].as_str().map(str::to_owned))
                .unwrap_or_else(|| format!("http_{}", status.as_u16()));
            *tally.refused.entry(code).or_default() += 1;
            if status == reqwest::StatusCode::CONFLICT {
                // A version stored without its answer reaching us (a crash
                // between commit and reply): the next one is ours.
                state.next_version += 1;
            }
            if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
                tokio::time::sleep(wait).await;
            }
        }
        if let Some(interval) = pace.interval {
            tokio::time::sleep(interval.saturating_sub(started.elapsed())).await;
        }
    }
    tally
}

/// One connection asking the authenticated no-op until told to stop.
async fn noop(traders: Traders, token: String, pace: Pace) -> Tally {
    let mut tally = Tally::default();
    let url = format!("{}/api/v1/auth/me", traders.base);
    while !pace.stop.load(Ordering::Relaxed) {
        let sent = Instant::now();
        match traders.client.get(&url).bearer_auth(&token).send().await {
            Ok(resp) => {
                let status = resp.status();
                let wait = retry_after(&resp);
                let ok = resp.bytes().await.is_ok();
                let latency = sent.elapsed();
                if status.is_success() && ok {
                    tally.accepted += 1;
                    pace.accepted.fetch_add(1, Ordering::Relaxed);
                    tally
                        .latencies_us
                        .push(u32::try_from(latency.as_micros()).unwrap_or(u32::MAX));
                } else {
                    *tally
                        .refused
                        .entry(format!("http_{}", status.as_u16()))
                        .or_default() += 1;
                    if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
                        tokio::time::sleep(wait).await;
                    }
                }
            }
            Err(_) => tally.failed += 1,
        }
    }
    tally
}

/// Runs `tasks` for `seconds`, showing accepted answers on `progress`;
/// answers the merged tally and the elapsed seconds.
pub(crate) async fn timed<F>(
    seconds: f64,
    progress: &ProgressBar,
    label: &str,
    spawn: impl FnOnce(Pace) -> Vec<F>,
    interval: Option<Duration>,
) -> (Tally, f64)
where
    F: std::future::Future<Output = Tally> + Send + 'static,
{
    let pace = Pace {
        stop: Arc::new(AtomicBool::new(false)),
        interval,
        accepted: Arc::new(AtomicU64::new(0)),
    };
    let mut set = tokio::task::JoinSet::new();
    for f in spawn(pace.clone()) {
        set.spawn(f);
    }
    let started = Instant::now();
    let until = started + Duration::from_secs_f64(seconds);
    progress.reset();
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(200).min(until - Instant::now())).await;
        let n = pace.accepted.load(Ordering::Relaxed);
        let t = started.elapsed().as_secs_f64();
        progress.set_message(format!(
            "{label}: {t:4.1}/{seconds:.0} s, {n} answered, {:.0}/s",
            n as f64 / t.max(1e-9)
        ));
        progress.tick();
    }
    pace.stop.store(true, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    let mut tally = Tally::default();
    while let Some(done) = set.join_next().await {
        if let Ok(t) = done {
            tally.merge(t);
        }
    }
    (tally, elapsed)
}

/// `bench load` from set-up to the lost check.
pub async fn run_load(options: &LoadOptions, progress: &ProgressBar) -> Result<LoadReport> {
    let shape = Shape::for_connections(
        options.members,
        options.units,
        options.traders,
        options.connections,
    );
    progress.set_message(format!(
        "setting up {} members, {} units, {} sessions, {} traders",
        shape.members, shape.units, shape.sessions, shape.traders
    ));
    let platform = BenchPlatform::set_up(options.backend.clone(), shape).await?;
    let spec = ServerSpec::for_platform(options.exe.clone(), &platform, !options.flood)?;
    progress.set_message("starting voltex serve");
    let server = spec.start().await?;
    progress.set_message(format!("signing in {} traders", platform.traders.len()));
    let traders = Traders::sign_in(&platform, &spec.base_url(), options.connections).await?;

    let online = if options.online > 0 {
        Some(crate::online::Subscriptions::open(&platform, &traders, options.online).await?)
    } else {
        None
    };
    let owned = assign(&platform, options.connections);
    let seed = options.seed;
    let (flood, mut acknowledged) = if options.flood {
        let (report, acked) =
            crate::flood::measure(&platform, &traders, &owned, options, progress).await?;
        (Some(report), acked)
    } else {
        (None, Vec::new())
    };
    let total = presign_budget(options.seconds);
    progress.set_message(format!("signing {total} offers ahead"));
    let presigned = presign(&traders, &owned, total, seed).await?;
    let cpu_before = server.usage().cpu_seconds;
    let publisher = online
        .as_ref()
        .map(|subs| subs.publish_during(&platform, &traders, options.seconds));
    let (tally, seconds) = timed(
        options.seconds,
        progress,
        "declarations",
        |pace| declarers(&traders, &owned, &pace, seed),
        None,
    )
    .await;
    let cpu_mid = server.usage().cpu_seconds;
    let signed_in_loop = tally.signed_in_loop;
    let (declarations, acked) = tally.phase(seconds, cpu_mid - cpu_before);
    acknowledged.extend(acked);
    let online = match (online, publisher) {
        (Some(subs), Some(p)) => Some(subs.report(p.await.unwrap_or_default()).await),
        _ => None,
    };

    let (noop_tally, noop_seconds) = timed(
        options.noop_seconds,
        progress,
        "no-op",
        |pace| {
            (0..options.connections.max(1))
                .map(|c| {
                    noop(
                        traders.clone(),
                        traders.any_token(c).to_owned(),
                        pace.clone(),
                    )
                })
                .collect()
        },
        None,
    )
    .await;
    let (noop_phase, _) = noop_tally.phase(noop_seconds, server.usage().cpu_seconds - cpu_mid);
    let usage = server.usage();
    progress.set_message("stopping the server, checking the store");
    server.stop().await?;

    let store = platform.open_store().await?;
    let check = check_store(&store, &acknowledged, false).await;
    store.close().await;
    let check = check?;
    let report = LoadReport {
        backend: options.backend.name(),
        shape,
        connections: options.connections,
        declarations,
        noop: noop_phase,
        server: usage,
        acknowledged: acknowledged.len(),
        lost: check.lost,
        online,
        flood,
        presigned,
        signed_in_loop,
    };
    platform.finish().await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_the_nearest_rank_of_the_sorted_latencies() {
        let s = LatencySummary::of((1..=100).rev().map(|ms| ms * 1000).collect());
        assert_eq!(s.count, 100);
        assert_eq!(s.p50_ms, 50.0);
        assert_eq!(s.p95_ms, 95.0);
        assert_eq!(s.p99_ms, 99.0);
        assert_eq!(s.max_ms, 100.0);
        assert_eq!(LatencySummary::of(Vec::new()), LatencySummary::default());
    }
}
