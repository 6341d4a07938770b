//! The Voltex demo: a whole trading day on the bundled PJM 5-bus case, so a
//! newcomer sees every part working: registration, the day-ahead window
//! (a refused offer, a revision, a held-and-rejected one), gate closure,
//! clearing, publication, a real-time pass with metered deviations and
//! default offers, two-settlement statements that balance, the next day's
//! signed offers and the sign-in of the demo's users.
//!
//! It is an example, not library API: an ordinary client of `voltex-market`,
//! `voltex-server` and `voltex-security`, like a framework's examples. Every
//! step goes through the same rules a member or the operator meets over the
//! API; no market rule lives here, and nothing in the libraries exists for
//! the demo's sake. As an application its errors are `anyhow`.
//!
//! Who takes part: the operator; the five generators of the case, each owned
//! by its own generation company; two retailers, a large consumer and a load
//! aggregator buying the case's bus loads. Offers come from the case's cost
//! curves (five equal-width segments between pmin and pmax priced at the
//! marginal cost of each segment's midpoint, see docs/clearing.md), converted
//! from the case's $/MWh to yuan/MWh and given a bidding markup that rises 3 %
//! per segment (the rising incremental heat rate of a thermal unit). Demand
//! follows a real daily load curve (ISO-NE, 2017-01-09, data/load_shapes),
//! resampled to the market's intervals.
//!
//! The steps, one module each, in the order the day runs:
//! [`registration`] (network, members, units, load resources),
//! [`declarations`] (offers, revisions, demand bids, operator review),
//! [`gate_and_clearing`] (gate closure, day-ahead clearing, frequency
//! regulation, the real-time pass), [`settlement`] (statements and what was
//! published), then, around the day, [`reports`] (the documents people read),
//! [`next_day`] (the next day's signed offers) and [`sign_in`] (users with
//! password and one-time code); [`evaluation`] is the market monitor's look
//! at the day. [`signing`] is how members send their
//! declarations with a signature; [`summary`] is what the day printed.
mod print;

pub mod declarations;
pub mod evaluation;
pub mod gate_and_clearing;
pub mod next_day;
pub mod registration;
pub mod reports;
pub mod settlement;
pub mod sign_in;
pub mod signing;
pub mod summary;

pub use signing::SigningChannel;
pub use summary::DemoSummary;

use anyhow::Context;
use chrono::NaiveDate;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use voltex_market::Market;
use voltex_security::field_crypto::FieldKeyring;

/// Where the demo reads its inputs and which day it trades.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub case_path: PathBuf,
    pub load_shape_path: PathBuf,
    pub trading_day: NaiveDate,
}

impl DemoOptions {
    /// The bundled PJM 5-bus case and ISO-NE load shape, trading `day`.
    pub fn bundled(day: NaiveDate) -> Self {
        let data = voltex_formats::datadir::bundled_data_dir();
        Self {
            case_path: data.join("cases/pglib_opf_case5_pjm.m"),
            load_shape_path: data.join("load_shapes/isone_2017-01-09.json"),
            trading_day: day,
        }
    }
}

/// Runs the demo's trading day against `market` (which should be empty),
/// the members calling the market directly.
pub async fn run(market: &Market, opts: &DemoOptions) -> anyhow::Result<DemoSummary> {
    trading_day(market, opts, None).await
}

/// [`run`], every member declaration signed with the member's certificate
/// and accepted through the server's signed path by `channel`.
pub async fn run_signed(
    market: &Market,
    opts: &DemoOptions,
    channel: &SigningChannel,
) -> anyhow::Result<DemoSummary> {
    trading_day(market, opts, Some(channel)).await
}

/// The day, step by step.
async fn trading_day(
    market: &Market,
    opts: &DemoOptions,
    channel: Option<&SigningChannel>,
) -> anyhow::Result<DemoSummary> {
    let registered = registration::register(market, opts).await?;
    let declared = declarations::declare_day_ahead(market, channel, &registered, opts).await?;
    let cleared = gate_and_clearing::clear_the_day(market, channel, &registered, declared).await?;
    settlement::settle(market, opts.trading_day, cleared).await
}

/// What `voltex demo` was asked for.
#[derive(Debug, Clone)]
pub struct DemoRun {
    /// Store directory of the demo market (a new one).
    pub data_dir: PathBuf,
    pub options: DemoOptions,
    /// Also write the summary as JSON to this file.
    pub json: Option<PathBuf>,
}

/// `voltex demo`: a fresh store under `run.data_dir` (sensitive rows
/// encrypted with the published demo key), a demo CA whose certificates sign
/// every declaration, the trading day, its printed summary and reports, the
/// next day's signed offers and the demo users' sign-in.
pub async fn run_demo(run: &DemoRun) -> anyhow::Result<DemoSummary> {
    let dir = &run.data_dir;
    let day = run.options.trading_day;
    // The published demo key: demo data only (`serve` refuses it unless
    // told --demo-field-key).
    let store = voltex_store::Store::open_sqlite_dir(dir)
        .await
        .with_context(|| format!("opening the SQLite store in {}", dir.display()))?
        .with_field_keys(Arc::new(FieldKeyring::demo()));
    let market = Market::open(store).await?;
    let channel = SigningChannel::for_demo(&dir.join("ca"))?;
    let summary = run_signed(&market, &run.options, &channel).await?;
    print::day(&summary, dir);
    evaluation::print(&evaluation::evaluate(&market, &run.options, &summary).await?);
    print::signatures(&channel, &dir.join("ca"));
    reports::write(&market, &summary, day, dir).await?;
    next_day::sign_next_day(&market, &summary, day, dir, &channel).await?;
    sign_in::sign_in(&market, &summary.active_participants(), dir).await?;
    if let Some(path) = &run.json {
        write_json(path, &summary)?;
    }
    Ok(summary)
}

fn write_json(path: &Path, summary: &DemoSummary) -> anyhow::Result<()> {
    std::fs::write(path, serde_json::to_string_pretty(summary)?)
        .with_context(|| format!("writing {}", path.display()))
}

/// Rounds to hundredths (MW and yuan as members would type them).
pub(crate) fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use voltex_model::SessionState;

    #[tokio::test]
    async fn demo_day_runs_from_registration_to_balanced_statements() {
        let dir = tempfile::tempdir().unwrap();
        let store = voltex_store::Store::open_sqlite_dir(dir.path())
            .await
            .unwrap();
        let market = Market::open(store).await.unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        let s = run(&market, &DemoOptions::bundled(day)).await.unwrap();
        assert_eq!(s.session_state, SessionState::Settled);
        assert_eq!(s.intervals, 96);
        assert_eq!(s.units.len(), 5);
        let offers: Vec<_> = s
            .declarations
            .iter()
            .filter(|d| d.kind == "energy_offer")
            .collect();
        assert_eq!(offers.len(), 5);
        assert_eq!(
            offers.iter().map(|d| d.version).max(),
            Some(2),
            "one offer was revised"
        );
        assert_eq!(
            s.declarations
                .iter()
                .filter(|d| d.kind == "demand_bid")
                .count(),
            4
        );
        assert!(!s.refused_example.is_empty(), "the typo offer was refused");
        // Bids follow the ISO-NE curve: the case's 1000 MW at the peak hour, ~68 % at night.
        let peak = s.hours.iter().map(|h| h.bid_mw).fold(0.0, f64::max);
        let night = s.hours.iter().map(|h| h.bid_mw).fold(f64::MAX, f64::min);
        assert!((peak - 1000.0).abs() < 1.0, "peak {peak}");
        assert!((night / peak - 0.6835).abs() < 0.01, "night {night}");
        assert!(
            s.hours.iter().all(|h| h.offered_mw > h.bid_mw),
            "supply covers demand"
        );

        // The doubled offer was held, then rejected.
        assert_eq!(s.review_example.len(), 2, "{:?}", s.review_example);
        assert!(s.review_example[0].contains("exceeds"));
        // Both passes cleared; real time used the day-ahead curves of the
        // four units that did not re-offer.
        assert_eq!(s.clearing.len(), 2);
        assert_eq!(
            s.clearing[1].defaults.len(),
            4,
            "{:?}",
            s.clearing[1].defaults
        );
        assert!(
            s.clearing
                .iter()
                .all(|c| c.min_lmp > 0.0 && c.max_lmp < 15_000.0)
        );
        // Statements balance: members' totals plus the operator's residual is zero,
        // and the day-ahead residual is the congestion rent.
        let op = s
            .statements
            .iter()
            .find_map(|x| x.residual.clone())
            .unwrap();
        let members: f64 = s
            .statements
            .iter()
            .filter(|x| x.residual.is_none())
            .map(|x| x.total)
            .sum();
        assert!((members + op.total_residual).abs() < 1e-6 * members.abs().max(1.0));
        assert!(
            (op.day_ahead_residual - op.day_ahead_congestion_rent).abs()
                < 1e-4 * op.day_ahead_residual.abs().max(1.0),
            "{op:?}"
        );
        assert!(s.publications.0 >= 5 && s.publications.1 >= 5);
        assert!(s.notifications > 20);
        assert!(
            s.regulation.contains("0 interval(s) short"),
            "{}",
            s.regulation
        );
    }

    #[tokio::test]
    async fn voltex_demo_writes_reports_a_verifiable_receipt_credentials_and_the_json_summary() {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("store");
        let json = dir.path().join("summary.json");
        let day = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        let summary = run_demo(&DemoRun {
            data_dir: data_dir.clone(),
            options: DemoOptions::bundled(day),
            json: Some(json.clone()),
        })
        .await
        .unwrap();
        let reports = data_dir.join("reports");
        for member in summary.active_participants() {
            for ext in ["csv", "html"] {
                let f = reports.join(format!("statement-{member}.{ext}"));
                assert!(f.is_file(), "{}", f.display());
            }
        }
        assert!(reports.join("DA-2026-11-22-energy-offers.e").is_file());
        assert!(reports.join("receipt-example.json").is_file());
        assert!(data_dir.join("ca").join("ca.cert.pem").is_file());
        // An operator and one trader per trading member signed in.
        let creds: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(data_dir.join("demo-credentials.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(
            creds.as_array().unwrap().len(),
            1 + summary.active_participants().len()
        );
        let written: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        assert_eq!(written["session_id"], "DA-2026-11-22");
        // The next day's session took the companies' signed offers.
        let market = Market::open(
            voltex_store::Store::open_sqlite_dir(&data_dir)
                .await
                .unwrap()
                .with_field_keys(Arc::new(FieldKeyring::demo())),
        )
        .await
        .unwrap();
        let op = market.operator().await.unwrap();
        let next = market.declarations(&op, "DA-2026-11-23").await.unwrap();
        assert_eq!(next.len(), summary.units.len());
    }
}
