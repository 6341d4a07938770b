//! The clearing benchmark behind `voltex bench clearing`: parse a case,
//! derive step offers, clear T intervals and report where the time went,
//! the constraint-generation rounds, binding branches and peak memory.
//! Speed targets live here, never in timed tests. Reads /proc for memory.

use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use voltex_formats::matpower::parse_case_file;

use crate::error::ClearingError;
use crate::input::{ClearingInput, ClearingSettings, FromCaseOptions, SecuritySettings};
use crate::load_shape;
use crate::result::RoundStats;

/// One benchmark measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchRow {
    pub case: String,
    pub intervals: usize,
    pub parse_ms: f64,
    pub build_ms: f64,
    /// Network factorisation, flows and PTDF rows.
    pub network_ms: f64,
    pub solve_ms: f64,
    pub pricing_ms: f64,
    /// Parse + build + solve + prices, wall clock.
    pub end_to_end_ms: f64,
    pub rounds: usize,
    pub strategies: Vec<String>,
    pub binding_branches: usize,
    pub binding_branch_intervals: usize,
    pub network_rows: usize,
    pub columns: usize,
    pub rows: usize,
    /// Peak resident set size during this case (VmHWM after a reset), MiB; None off Linux.
    pub peak_rss_mib: Option<f64>,
    pub objective: f64,
    /// N-1 rows in the final LP (0 without security).
    #[serde(default)]
    pub contingency_rows: usize,
    /// Outages checked by the N-1 study (0 without security).
    #[serde(default)]
    pub contingencies_studied: usize,
    /// Unserved load plus over-generation of the run, MWh (N-1 that cannot
    /// be met shows here).
    #[serde(default)]
    pub shortfall_mwh: f64,
}

/// Peak resident memory of this process in MiB (VmHWM), then reset the peak.
pub fn peak_rss_mib_and_reset() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    Some(kb / 1024.0)
}

/// Clear `path` over `intervals` hourly intervals in step-offer mode (K = 5,
/// ISO-NE 2017-01-09 load shape; one interval = the case's own load).
pub fn bench_case(
    path: &Path,
    label: &str,
    intervals: usize,
    progress: &mut dyn FnMut(&RoundStats),
) -> Result<BenchRow, ClearingError> {
    bench_case_with(
        path,
        label,
        intervals,
        ClearingSettings::default(),
        progress,
    )
}

/// [`bench_case`] with N-1 security on every in-service branch, monitored on
/// every rated branch at its emergency rating (`rate_c`): the figure of
/// `voltex bench clearing --n-1`. Where N-1 cannot be met (PGLib's ratings
/// were set for the base case) the secure dispatch sheds load at VOLL and
/// the row reports it (`shortfall_mwh`) instead of failing.
pub fn bench_case_n1(
    path: &Path,
    label: &str,
    intervals: usize,
    progress: &mut dyn FnMut(&RoundStats),
) -> Result<BenchRow, ClearingError> {
    let settings = ClearingSettings {
        security: Some(SecuritySettings {
            allow_shortfall: true,
            ..SecuritySettings::default()
        }),
        ..ClearingSettings::default()
    };
    bench_case_with(path, label, intervals, settings, progress)
}

/// The benchmark of one case under the given settings.
pub fn bench_case_with(
    path: &Path,
    label: &str,
    intervals: usize,
    settings: ClearingSettings,
    progress: &mut dyn FnMut(&RoundStats),
) -> Result<BenchRow, ClearingError> {
    let _ = peak_rss_mib_and_reset();
    let t0 = Instant::now();
    let case = parse_case_file(path)
        .map_err(|e| ClearingError::LoadShape(format!("case {}: {e}", path.display())))?;
    let parse_ms = t0.elapsed().as_secs_f64() * 1e3;
    let options = FromCaseOptions {
        intervals,
        segments: 5,
        load_scale: if intervals == 1 {
            vec![1.0]
        } else {
            load_shape::resample(&load_shape::ISONE_2017_01_09, intervals)
        },
        default_ramp_fraction: None,
        settings,
    };
    let input = ClearingInput::from_case(&case, &options);
    let result = crate::engine::clear_with_progress(&input, progress)?;
    let end_to_end_ms = t0.elapsed().as_secs_f64() * 1e3;
    let st = &result.stats;
    let summary = result.summary();
    Ok(BenchRow {
        case: label.to_string(),
        intervals,
        parse_ms,
        build_ms: st.build_ms,
        network_ms: st.ptdf_ms,
        solve_ms: st.solve_ms,
        pricing_ms: st.pricing_ms,
        end_to_end_ms,
        rounds: st.rounds.len(),
        strategies: st
            .rounds
            .iter()
            .map(|r| format!("{:?}", r.strategy))
            .collect(),
        binding_branches: summary.binding_branches,
        binding_branch_intervals: summary.binding_branch_intervals,
        network_rows: st.network_rows,
        columns: st.columns,
        rows: st.rows,
        peak_rss_mib: peak_rss_mib_and_reset(),
        objective: result.objective,
        contingency_rows: st.contingency_rows,
        contingencies_studied: st.contingencies_studied,
        shortfall_mwh: summary.shortfall_mwh + summary.surplus_mwh,
    })
}

/// Header and row of the Markdown table the CLI prints.
pub const TABLE_HEADER: &str = "| case | T | parse ms | build ms | network ms | solve ms | prices ms | end-to-end ms | rounds | binding branches (branch-intervals) | network rows | peak RSS MiB | objective $ |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|";

impl BenchRow {
    /// The N-1 check line: `n-1 sced: case=... intervals=T contingency_rows=N objective=X seconds=S`
    /// (seconds end to end: parse, build, solve rounds, prices).
    pub fn n1_line(&self) -> String {
        format!(
            "n-1 sced: case={} intervals={} contingency_rows={} objective={:.2} seconds={:.3}",
            self.case,
            self.intervals,
            self.contingency_rows,
            self.objective,
            self.end_to_end_ms / 1e3
        )
    }

    pub fn table_row(&self) -> String {
        format!(
            "| {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {} | {} ({}) | {} | {} | {:.2} |",
            self.case,
            self.intervals,
            self.parse_ms,
            self.build_ms,
            self.network_ms,
            self.solve_ms,
            self.pricing_ms,
            self.end_to_end_ms,
            self.rounds,
            self.binding_branches,
            self.binding_branch_intervals,
            self.network_rows,
            self.peak_rss_mib
                .map_or("n/a".into(), |m| format!("{m:.0}")),
            self.objective
        )
    }
}
