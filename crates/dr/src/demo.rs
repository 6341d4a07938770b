//! `voltex dr demo`: one peak-shaving event of an aggregator's portfolio of
//! 20 resources, on real public load data shipped under `data/` (see the
//! PROVENANCE.md files there), by a documented, seeded recipe
//! (docs/demand-response.md, "The demo"):
//!
//! - 14 commercial and agricultural resources from the SimBench roster
//!   (`data/retail/`: one load per G/L profile, medium-voltage first, then
//!   low-voltage scaled × 10 as in the retail demo), each the profile's
//!   15-minute values of 2016 × the load's pLoad × a seeded jitter in
//!   [0.95, 1.05] per interval (SimBench profiles are shared by many loads,
//!   the jitter makes each resource its own series);
//! - 6 households of the AER survey (`data/household/`), their own metered
//!   half-hours of 2013, re-dated by 157 weeks onto 2016 and split into
//!   15-minute halves;
//! - the event: the 2-hour block of the highest portfolio load on the
//!   summer weekday (July–August 2016) with the highest portfolio peak;
//!   notified 20 hours ahead; every resource answers, those whose rules
//!   refuse it (notice, duration) are refused; pro-rata dispatch of 90 % of
//!   the enrolled capacity;
//! - the response is **synthetic** (there are no public records of real DR
//!   responses): each dispatched resource curtails a seeded fraction in
//!   [0.5, 1.1] of its dispatched kW in every interval of the window;
//! - per resource a placebo back-test over 20 ordinary weekdays chooses the
//!   baseline, delivered energy and settlement follow, and an SVG shows the
//!   portfolio's baseline against its actual load over the event day.
//!
//! Must not: print (the CLI prints [`summary_line`]), nor touch the store.
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Weekday};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use voltex_charts::line::{Figure, Legend, Panel, Series, write_svg};
use voltex_formats::simbench::{self, RosterLoad};
use voltex_model::money::{Bp, Fen, PricePerKwh, Wh, div_round, kwh_string};

use crate::backtest::{Backtest, backtest};
use crate::baseline::{self, BaselineConfig, Exclusions, LoadHistory, Method, Window};
use crate::error::{DrError, Result};
use crate::event::{Allocation, AllocationRule, Event, EventBook, allocate};
use crate::program::{Program, ProgramKind};
use crate::resource::{Direction, Portfolio, Resource};
use crate::settlement::{self, Measured, MonthlyStatement, Performance};

/// The aggregator the demo acts as.
pub const DEMO_AGGREGATOR: &str = "AGG-DEMO";
/// Placebo days per resource in the back-test.
pub const PLACEBO_DAYS: usize = 20;
/// Event length, 15-minute intervals (2 hours).
pub const EVENT_SLOTS: usize = 8;
/// AER 2013 dates + this many days = the same weekday in 2016 (157 weeks).
pub const AER_SHIFT_DAYS: i64 = 157 * 7;

/// What the demo runs on.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    pub seed: u64,
    /// The repository's `data/` folder.
    pub data_dir: PathBuf,
    /// Where the SVG goes; `None`: no chart.
    pub out_dir: Option<PathBuf>,
    /// SimBench commercial/agricultural resources (at most 14) …
    pub commercial: usize,
    /// … and AER households (at most 24).
    pub households: usize,
}

impl DemoConfig {
    pub fn new(data_dir: PathBuf) -> Self {
        DemoConfig {
            seed: 2026,
            data_dir,
            out_dir: None,
            commercial: 14,
            households: 6,
        }
    }
}

/// One method's back-test, averaged over the portfolio's resources.
#[derive(Debug, Clone, PartialEq)]
pub struct MethodRow {
    pub method: Method,
    pub name: String,
    /// Resources in the group the row averages.
    pub resources: usize,
    pub mean_rrmse_pct: f64,
    pub mean_bias_pct: f64,
    pub mean_energy_error_pct: f64,
    /// Resources for which the back-test chose this method.
    pub chosen: usize,
}

/// What the demo did, for the CLI to print and the docs to quote.
#[derive(Debug, Clone)]
pub struct DemoSummary {
    pub resources: usize,
    pub events: usize,
    pub event_day: NaiveDate,
    pub event_start: NaiveDateTime,
    pub event_end: NaiveDateTime,
    pub opted_in: usize,
    /// Refused opt-ins, as the error a resource owner would see.
    pub refused: Vec<String>,
    pub allocation: Allocation,
    /// Distinct methods chosen, in the order of [`Method::ALL`].
    pub baseline_methods: Vec<String>,
    /// Resource id → its back-test.
    pub backtests: Vec<(String, Backtest)>,
    /// Per method: all resources, then SimBench ones, then households.
    pub method_table: Vec<(String, Vec<MethodRow>)>,
    pub performances: Vec<Performance>,
    pub statements: Vec<MonthlyStatement>,
    pub dispatched_wh: Wh,
    /// Σ delivered over the dispatched resources (may include negatives).
    pub delivered_wh: Wh,
    pub energy_payments: Fen,
    pub capacity_payments: Fen,
    pub penalties: Fen,
    /// Σ statement totals: energy + capacity − penalties.
    pub payments: Fen,
    pub svg: Option<PathBuf>,
}

/// `dr demo: resources=N events=N baseline_methods=M1,M2 delivered_mwh=X payments_yuan=X`
pub fn summary_line(s: &DemoSummary) -> String {
    format!(
        "dr demo: resources={} events={} baseline_methods={} delivered_mwh={} payments_yuan={}",
        s.resources,
        s.events,
        s.baseline_methods.join(","),
        kwh_string(div_round(s.delivered_wh as i128, 1000) as i64),
        s.payments
    )
}

/// The back-test table as Markdown (the docs quote it).
pub fn backtest_table(s: &DemoSummary) -> String {
    let mut out = String::from(
        "| group | method | resources | rRMSE % (mean) | bias % (mean) | window-energy error % (mean) | chosen for |\n|---|---|---|---|---|---|---|\n",
    );
    for (group, rows) in &s.method_table {
        for r in rows {
            let _ = writeln!(
                out,
                "| {group} | {} | {} | {:.2} | {:+.2} | {:.2} | {} |",
                r.name,
                r.resources,
                r.mean_rrmse_pct,
                r.mean_bias_pct,
                r.mean_energy_error_pct,
                r.chosen
            );
        }
    }
    out
}

fn bad(path: &Path, reason: impl Into<String>) -> DrError {
    DrError::Data {
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

/// A data file's text (`.gz` decompressed).
fn read_text(path: &Path) -> Result<String> {
    voltex_formats::datadir::read_text(path).map_err(|e| bad(path, e.to_string()))
}

/// German public holidays of 2016 (nationwide) in the months the demo reads.
fn holidays_2016() -> BTreeSet<NaiveDate> {
    [(3, 25), (3, 28), (5, 1), (5, 5), (5, 16)]
        .into_iter()
        .filter_map(|(m, d)| NaiveDate::from_ymd_opt(2016, m, d))
        .collect()
}

/// The months of 2016 the demo reads (history for the back-test and the
/// event in July–August).
fn in_range(d: NaiveDate) -> bool {
    (3..=8).contains(&d.month())
}

fn roster(path: &Path) -> Result<Vec<RosterLoad>> {
    simbench::parse_roster(&read_text(path)?).map_err(|e| bad(path, e.to_string()))
}

/// One G/L profile each: medium voltage first, then low voltage.
fn commercial_loads(all: &[RosterLoad], n: usize) -> Vec<&RosterLoad> {
    let ci = |l: &&RosterLoad| l.profile.starts_with('G') || l.profile.starts_with('L');
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for mv in [true, false] {
        for l in all.iter().filter(ci).filter(|l| l.mv == mv) {
            if out.len() < n && seen.insert(l.profile.clone()) {
                out.push(l);
            }
        }
    }
    out
}

/// Profile → date → per-unit values in millionths, for `wanted` profiles
/// and the months the demo reads.
fn profiles(path: &Path, wanted: &BTreeSet<String>) -> Result<simbench::ProfileDays> {
    simbench::parse_profiles(&read_text(path)?, Some(wanted), in_range)
        .map_err(|e| bad(path, e.to_string()))
}

/// Respondent → date (re-dated to 2016) → 96 quarter-hour Wh, `general` only.
/// Date → 96 quarter-hour Wh.
type Days = BTreeMap<NaiveDate, Vec<Wh>>;

fn households(path: &Path, n: usize) -> Result<Vec<(String, Days)>> {
    let text = read_text(path)?;
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let mut all: BTreeMap<i64, Days> = BTreeMap::new();
    for rec in rdr.records() {
        let r = rec.map_err(|e| bad(path, e.to_string()))?;
        if &r[2] != "general" {
            continue;
        }
        let date = NaiveDate::parse_from_str(&r[1], "%d/%m/%Y")
            .map_err(|e| bad(path, format!("OUTPUT_DATE {:?}: {e}", &r[1])))?;
        let day = date + Duration::days(AER_SHIFT_DAYS);
        if day.year() != 2016 || !in_range(day) {
            continue;
        }
        let id: i64 = r[0]
            .parse()
            .map_err(|_| bad(path, format!("respondent {:?}", &r[0])))?;
        let mut q = Vec::with_capacity(96);
        for cell in r.iter().skip(3).take(48) {
            let w: Wh = cell
                .parse()
                .map_err(|_| bad(path, format!("Wh {cell:?} of {id} {date}")))?;
            q.push(w / 2);
            q.push(w - w / 2);
        }
        if q.len() == 96 {
            all.entry(id).or_default().insert(day, q);
        }
    }
    // every 4th respondent by id, for variety
    let stride = (all.len() / n.max(1)).max(1);
    Ok(all
        .into_iter()
        .step_by(stride)
        .take(n)
        .map(|(id, days)| (id.to_string(), days))
        .collect())
}

struct Member {
    resource: Resource,
    household: bool,
    /// The metered series (real; the event day's window carries the
    /// synthetic response once it is applied).
    history: LoadHistory,
}

fn program() -> Program {
    Program {
        id: "PS-2016-SUMMER".into(),
        name: "summer peak shaving invitation (邀约型削峰)".into(),
        kind: ProgramKind::PeakShaving,
        notification_lead_minutes: 20 * 60,
        compensation: PricePerKwh(30_000),
        capacity_fen_per_kw_month: Fen(500),
        penalty: PricePerKwh(10_000),
        performance_threshold: Bp(8_000),
    }
}

/// The 20 resources with their metered histories (module doc, first two
/// points).
fn members(config: &DemoConfig, rng: &mut ChaCha8Rng) -> Result<Vec<Member>> {
    let retail = config.data_dir.join("retail");
    let all = roster(&retail.join("simbench_load_roster.csv"))?;
    let chosen = commercial_loads(&all, config.commercial.min(14));
    let wanted: BTreeSet<String> = chosen.iter().map(|l| l.profile.clone()).collect();
    let shapes = profiles(
        &retail.join("simbench_load_profiles_2016_15min.csv.gz"),
        &wanted,
    )?;
    let homes = households(
        &config
            .data_dir
            .join("household/aer_consumption_benchmarks_halfhourly_wh.csv.gz"),
        config.households.min(24),
    )?;

    // --- the portfolio
    let mut members: Vec<Member> = Vec::new();
    let resource = |k: usize, mp: String, capacity_kw: i64, rng: &mut ChaCha8Rng| Resource {
        id: format!("DR{:02}", k + 1),
        customer_id: format!("CUST{:02}", k + 1),
        metering_point: mp,
        capacity_kw: capacity_kw.max(1),
        direction: Direction::Down,
        // one resource in seven needs a day's notice, one in nine can hold
        // only an hour: their opt-ins to a 20-hour-notice, 2-hour event fail
        min_notice_minutes: if k % 7 == 6 { 24 * 60 } else { 4 * 60 },
        max_duration_minutes: if k % 9 == 8 { 60 } else { 4 * 60 },
        max_events_per_month: rng.random_range(2..=6),
        telemetry_interval_minutes: 15,
    };
    for l in &chosen {
        let k = members.len();
        let scale = if l.mv { 1 } else { 10 };
        let peak_w = l.p_load_kw * 1000 * scale;
        let shape = shapes
            .get(&l.profile)
            .ok_or_else(|| bad(&retail, format!("no profile {}", l.profile)))?;
        let mut h = LoadHistory::new(15);
        for (day, micro) in shape {
            if micro.len() != 96 {
                continue; // the clock-change day (2016-03-27) is not a whole day
            }
            let wh = micro
                .iter()
                .map(|m| {
                    let jitter = rng.random_range(9_500..=10_500) as i128;
                    // W × per-unit × 0.25 h × jitter
                    div_round(peak_w as i128 * *m as i128 * jitter, 4 * 1_000_000 * 10_000) as i64
                })
                .collect();
            h.insert(*day, wh)?;
        }
        let share = rng.random_range(1_500..=3_000) as i128;
        let capacity = div_round(peak_w as i128 * share, 1000 * 10_000) as i64;
        let r = resource(k, format!("{} ({})", l.id, l.profile), capacity, rng);
        members.push(Member {
            resource: r,
            household: false,
            history: h,
        });
    }
    for (id, days) in homes {
        let k = members.len();
        let mut h = LoadHistory::new(15);
        for (day, wh) in days {
            h.insert(day, wh)?;
        }
        // a household offers its air conditioner or hot water: 1–2 kW
        let capacity = rng.random_range(1..=2);
        let r = resource(k, format!("AER {id}"), capacity, rng);
        members.push(Member {
            resource: r,
            household: true,
            history: h,
        });
    }
    Ok(members)
}

/// The weekday of July–August 2016 (not a holiday) with the highest
/// 15-minute portfolio peak, and on it the 2-hour block of the most
/// portfolio energy starting at 06:00 or later, so that the day-of
/// adjustment has its 4 hours ending 1 hour before.
fn peak_day_and_window(
    members: &[Member],
    holidays: &BTreeSet<NaiveDate>,
) -> Option<(NaiveDate, Window)> {
    let portfolio_day = |d: NaiveDate| -> Option<Vec<Wh>> {
        let mut sum = vec![0; 96];
        for m in members {
            for (s, x) in sum.iter_mut().zip(m.history.day(d)?) {
                *s += x;
            }
        }
        Some(sum)
    };
    let mut best: Option<(Wh, NaiveDate)> = None;
    let mut d = NaiveDate::from_ymd_opt(2016, 7, 1).expect("a date");
    while d.month() <= 8 && d.year() == 2016 {
        let weekday = !matches!(d.weekday(), Weekday::Sat | Weekday::Sun);
        if weekday
            && !holidays.contains(&d)
            && let Some(p) = portfolio_day(d)
        {
            let peak = *p.iter().max().unwrap_or(&0);
            if best.is_none_or(|(b, _)| peak > b) {
                best = Some((peak, d));
            }
        }
        d += Duration::days(1);
    }
    let (_, event_day) = best?;
    let load = portfolio_day(event_day)?;
    let start_slot = (24..=96 - EVENT_SLOTS)
        .max_by_key(|s| {
            (
                load[*s..*s + EVENT_SLOTS].iter().sum::<Wh>(),
                std::cmp::Reverse(*s),
            )
        })
        .expect("a block");
    let window = Window {
        start_slot,
        end_slot: start_slot + EVENT_SLOTS,
    };
    Some((event_day, window))
}

/// Per method, the back-test figures averaged over all resources, the
/// SimBench ones and the households.
fn method_table(
    members: &[Member],
    backtests: &[(String, Backtest)],
    cfg: &BaselineConfig,
) -> Vec<(String, Vec<MethodRow>)> {
    // None: every resource; Some(h): households or not
    let groups: [(&str, Option<bool>); 3] = [
        ("all", None),
        ("SimBench C&I", Some(false)),
        ("AER households", Some(true)),
    ];
    groups
        .iter()
        .map(|(name, keep)| {
            let bts: Vec<&Backtest> = members
                .iter()
                .zip(backtests)
                .filter(|(m, _)| keep.is_none_or(|h| m.household == h))
                .map(|(_, (_, b))| b)
                .collect();
            let n = bts.len().max(1) as f64;
            let rows = Method::ALL
                .iter()
                .map(|m| {
                    let s = |f: fn(&crate::backtest::MethodScore) -> f64| {
                        bts.iter().filter_map(|b| b.score(*m)).map(f).sum::<f64>() / n
                    };
                    MethodRow {
                        method: *m,
                        name: m.name(cfg),
                        resources: bts.len(),
                        mean_rrmse_pct: s(|x| x.rrmse_pct),
                        mean_bias_pct: s(|x| x.bias_pct),
                        mean_energy_error_pct: s(|x| x.energy_error_pct),
                        chosen: bts.iter().filter(|b| b.chosen == *m).count(),
                    }
                })
                .collect();
            (name.to_string(), rows)
        })
        .collect()
}

/// The portfolio's baseline against its actual load over the event day, kW.
fn chart(
    dir: &Path,
    event: &Event,
    resources: usize,
    baseline_wh: &[Wh],
    actual_wh: &[Wh],
) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).map_err(|e| bad(dir, e.to_string()))?;
    let path = dir.join("dr_demo_event_day.svg");
    let kw = |v: &[Wh]| -> Vec<(f64, f64)> {
        v.iter()
            .enumerate()
            .map(|(t, w)| (t as f64 / 4.0, *w as f64 * 4.0 / 1000.0))
            .collect()
    };
    let panel = Panel::new(
        format!(
            "Portfolio of {} resources on {}: baseline vs actual (event {}–{})",
            resources,
            event.day(),
            event.start.format("%H:%M"),
            event.end.format("%H:%M")
        ),
        "hour of day",
        "kW",
        vec![
            Series::new("baseline (back-test choice per resource)", kw(baseline_wh)),
            Series::new("actual (with the synthetic response)", kw(actual_wh)),
        ],
    )
    .x_range(0.0, 24.0)
    .with_zero()
    .legend(Legend::LowerRight);
    write_svg(&path, &Figure::single(panel))?;
    Ok(path)
}

/// Runs the demo.
pub fn run(config: DemoConfig) -> Result<DemoSummary> {
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut members = members(&config, &mut rng)?;
    let portfolio = Portfolio {
        owner_id: DEMO_AGGREGATOR.into(),
        resources: members.iter().map(|m| m.resource.clone()).collect(),
    };
    portfolio.validate()?;
    let prog = program();
    prog.validate()?;

    // --- the event day and window from the portfolio's own load
    let holidays = holidays_2016();
    let (event_day, window) = peak_day_and_window(&members, &holidays)
        .ok_or_else(|| bad(&config.data_dir, "no summer weekday with every resource"))?;
    let midnight = event_day.and_time(Default::default());
    let start = midnight + Duration::minutes(15 * window.start_slot as i64);
    let end = start + Duration::minutes(15 * EVENT_SLOTS as i64);
    let notified = start - Duration::minutes(prog.notification_lead_minutes);
    let deadline = notified + Duration::hours(4);
    let target_kw = div_round(portfolio.capacity_kw() as i128 * 9, 10) as i64;
    let mut book = EventBook::default();
    let event_id = format!("PS-{event_day}");
    book.create(Event::new(
        event_id.clone(),
        &prog,
        start,
        end,
        notified,
        deadline,
        target_kw,
    )?)?;

    // --- opt-ins, allocation
    let mut refused = Vec::new();
    for m in &members {
        let offer = PricePerKwh(rng.random_range(15_000..=30_000));
        let at = notified + Duration::minutes(rng.random_range(10..=200));
        if let Err(e) = book.opt_in(&event_id, &m.resource, at, offer) {
            refused.push(e.to_string());
        }
    }
    let event = book.get(&event_id)?.clone();
    let allocation = allocate(&event, &portfolio.resources, AllocationRule::ProRata);

    // --- the synthetic response: the metered day is the real day less a
    // seeded share of the dispatched kW in every interval of the window
    for m in &mut members {
        let kw = allocation.of(&m.resource.id);
        if kw == 0 {
            continue;
        }
        let share = rng.random_range(5_000..=11_000) as i128;
        let cut = div_round(kw as i128 * 1000 * share, 4 * 10_000) as i64;
        let mut day = m.history.days[&event_day].clone();
        for x in &mut day[window.slots()] {
            *x -= cut.min(*x);
        }
        m.history.days.insert(event_day, day);
    }

    // --- back-test, baselines, settlement
    let cfg = BaselineConfig::default();
    // a resource's own event days are excluded from its baselines; the
    // event day itself is after every history day a baseline may use
    let mut excl = Exclusions {
        holidays,
        event_days: BTreeSet::new(),
    };
    let mut backtests = Vec::new();
    let mut performances = Vec::new();
    let mut portfolio_baseline = vec![0i64; 96];
    let mut portfolio_actual = vec![0i64; 96];
    for m in &members {
        excl.event_days = book.event_days_of(&m.resource.id);
        let bt = backtest(
            &m.history,
            event_day,
            window,
            &excl,
            &cfg,
            &Method::ALL,
            PLACEBO_DAYS,
        )?;
        let b = baseline::compute(bt.chosen, &m.history, event_day, window, &excl, &cfg)?;
        let actual = &m.history.days[&event_day];
        for t in 0..96 {
            portfolio_baseline[t] += b.wh[t];
            portfolio_actual[t] += actual[t];
        }
        let kw = allocation.of(&m.resource.id);
        if kw > 0 {
            performances.push(settlement::assess(
                &prog,
                &Measured {
                    event: &event,
                    resource: &m.resource,
                    dispatched_kw: kw,
                    baseline_wh: &b.wh[window.slots()],
                    actual_wh: &actual[window.slots()],
                    baseline_method: bt.chosen,
                    expected_error_pct: bt.expected_error_pct,
                },
            )?);
        }
        backtests.push((m.resource.id.clone(), bt));
    }
    let statements = settlement::monthly_statements(
        event_day.year(),
        event_day.month(),
        &portfolio,
        &prog,
        &performances,
    );

    let chosen_methods: BTreeSet<Method> = backtests.iter().map(|(_, b)| b.chosen).collect();
    let method_table = method_table(&members, &backtests, &cfg);

    let svg = match &config.out_dir {
        Some(dir) => Some(chart(
            dir,
            &event,
            members.len(),
            &portfolio_baseline,
            &portfolio_actual,
        )?),
        None => None,
    };

    let sum = |f: fn(&MonthlyStatement) -> Fen| statements.iter().map(f).sum::<Fen>();
    Ok(DemoSummary {
        resources: members.len(),
        events: book.events.len(),
        event_day,
        event_start: start,
        event_end: end,
        opted_in: event.opt_ins.len(),
        refused,
        baseline_methods: chosen_methods.iter().map(|m| m.name(&cfg)).collect(),
        backtests,
        method_table,
        dispatched_wh: performances.iter().map(|p| p.dispatched_wh).sum(),
        delivered_wh: performances.iter().map(|p| p.delivered_wh).sum(),
        energy_payments: sum(|s| s.energy_payments),
        capacity_payments: sum(|s| s.capacity_payments),
        penalties: sum(|s| s.penalties),
        payments: sum(|s| s.total),
        performances,
        statements,
        allocation,
        svg,
    })
}
