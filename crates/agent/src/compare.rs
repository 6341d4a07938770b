//! Comparison of the four DDPG extractors with the rule baselines and the
//! perfect-foresight bound on the test span, over several seeds, and the
//! files that report it (Markdown table, JSON, SVG plots).
//!
//! It trains through `ddpg::train` and settles through `env::run_policy`; it
//! must not add rules of its own.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use burn::prelude::Device;
use serde::{Deserialize, Serialize};

use crate::baselines::{AllDayAhead, AllRealTime, PreviousDayRule};
use crate::data::{Span, Split};
use crate::ddpg::{TrainConfig, TrainProgress, train};
use crate::env::{Episode, PreparedMarket, StepRecord, run_policy};
use crate::error::{AgentError, Result};
use crate::nets::ExtractorKind;
use crate::oracle::OraclePolicy;
use crate::plots;

/// Test-span profits of one policy (one entry per seed; baselines have one).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PolicyRow {
    pub name: String,
    pub profits: Vec<f64>,
    /// Training wall time per seed, s (agents only).
    pub train_seconds: Vec<f64>,
    /// Best validation profit per seed, $ (agents only).
    pub validation_profits: Vec<f64>,
}

/// Everything `voltex agent compare` measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ComparisonReport {
    pub market: String,
    pub currency: String,
    pub test_from: String,
    pub test_to: String,
    pub test_steps: usize,
    pub seeds: Vec<u64>,
    pub updates_per_run: usize,
    pub rows: Vec<PolicyRow>,
    pub all_day_ahead_profit: f64,
    pub oracle_profit: f64,
    /// Cumulative profit minus cumulative all-day-ahead profit, per policy (agents: first seed).
    pub excess_curves: Vec<(String, Vec<f64>)>,
    /// BiLSTM-DDPG (first seed) and the oracle over the first two test days.
    pub strategy_days: Vec<(String, Vec<StepRecord>)>,
}

/// Mean and sample standard deviation.
pub fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let s = if v.len() > 1 {
        (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    (m, s)
}

impl ComparisonReport {
    /// The Markdown table: test profit, profit relative to all-day-ahead, and
    /// the captured share of the oracle gap, mean ± std over seeds.
    pub fn markdown_table(&self) -> String {
        let mut s = String::new();
        let c = &self.currency;
        let _ = writeln!(
            s,
            "| policy | test profit ({c}) | vs all-day-ahead ({c}) | vs all-day-ahead (%) | captured oracle gap (%) | best validation profit ({c}) | train time (s) |"
        );
        let _ = writeln!(s, "|---|---|---|---|---|---|---|");
        let gap = self.oracle_profit - self.all_day_ahead_profit;
        for row in &self.rows {
            let rel: Vec<f64> = row
                .profits
                .iter()
                .map(|p| p - self.all_day_ahead_profit)
                .collect();
            let pct: Vec<f64> = rel
                .iter()
                .map(|r| 100.0 * r / self.all_day_ahead_profit.abs())
                .collect();
            let share: Vec<f64> = rel.iter().map(|r| 100.0 * r / gap).collect();
            let f = |v: &[f64], d: usize| {
                let (m, sd) = mean_std(v);
                if v.len() > 1 {
                    format!("{m:.d$} ± {sd:.d$}")
                } else {
                    format!("{m:.d$}")
                }
            };
            let val = if row.validation_profits.is_empty() {
                "–".into()
            } else {
                f(&row.validation_profits, 0)
            };
            let tt = if row.train_seconds.is_empty() {
                "–".into()
            } else {
                f(&row.train_seconds, 0)
            };
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} |",
                row.name,
                f(&row.profits, 0),
                f(&rel, 0),
                f(&pct, 2),
                f(&share, 1),
                val,
                tt
            );
        }
        s
    }

    /// Write `table.md`, `report.json`, `cumulative_profit.svg` and `strategy.svg` into `dir`.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        std::fs::create_dir_all(dir).map_err(|source| AgentError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut written = Vec::new();
        let md = dir.join("table.md");
        let header = format!(
            "Test span {} .. {} ({} intervals), {} seeds ({:?}), {} updates per run. Profits in {}.\n\n",
            self.test_from,
            self.test_to,
            self.test_steps,
            self.seeds.len(),
            self.seeds,
            self.updates_per_run,
            self.currency
        );
        write_file(&md, &(header + &self.markdown_table()))?;
        written.push(md);
        let json = dir.join("report.json");
        let text = serde_json::to_string_pretty(self).map_err(|e| AgentError::Output {
            path: json.clone(),
            reason: e.to_string(),
        })?;
        write_file(&json, &text)?;
        written.push(json);
        let curves = dir.join("cumulative_profit.svg");
        plots::excess_profit_svg(
            &curves,
            &format!(
                "{}: cumulative profit over all-day-ahead, test span",
                self.market
            ),
            &self.currency,
            &self.excess_curves,
        )?;
        written.push(curves);
        let strat = dir.join("strategy.svg");
        plots::strategy_svg(&strat, &self.market, &self.currency, &self.strategy_days)?;
        written.push(strat);
        Ok(written)
    }
}

fn write_file(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|source| AgentError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn excess(ep: &Episode, all_da: &Episode) -> Vec<f64> {
    let mut acc = 0.0;
    ep.steps
        .iter()
        .zip(&all_da.steps)
        .map(|(a, b)| {
            acc += a.profit - b.profit;
            acc
        })
        .collect()
}

/// What to compare.
#[derive(Debug, Clone)]
pub struct CompareConfig {
    pub seeds: Vec<u64>,
    pub updates: usize,
    pub extractors: Vec<ExtractorKind>,
    /// Where to keep each run's best checkpoint (`<dir>/<extractor>-seed<S>.json`).
    pub checkpoint_dir: Option<PathBuf>,
}

/// Progress events of a comparison.
#[derive(Debug, Clone, Copy)]
pub enum CompareEvent<'a> {
    RunStarted {
        extractor: ExtractorKind,
        seed: u64,
        run: usize,
        runs: usize,
    },
    Training(&'a TrainProgress),
    RunFinished {
        extractor: ExtractorKind,
        seed: u64,
        test_profit: f64,
    },
}

/// Train every extractor with every seed, evaluate the best-on-validation
/// actor on the test span, and evaluate the baselines and the oracle there.
pub fn compare(
    market: &PreparedMarket,
    cfg: &CompareConfig,
    device: &Device,
    progress: &mut dyn FnMut(CompareEvent<'_>),
) -> Result<ComparisonReport> {
    let test: Span = market.span(Split::Test)?;
    let all_da = run_policy(market, test, &mut AllDayAhead);
    let all_rt = run_policy(market, test, &mut AllRealTime);
    let rule = run_policy(market, test, &mut PreviousDayRule);
    let mut oracle_policy = OraclePolicy::solve(market, test)?;
    let oracle = run_policy(market, test, &mut oracle_policy);
    let k = market.series.steps_per_day();
    let two_days = |ep: &Episode| ep.steps[..(2 * k).min(ep.steps.len())].to_vec();

    let mut rows = Vec::new();
    let mut excess_curves = Vec::new();
    let mut strategy_days = Vec::new();
    let runs = cfg.extractors.len() * cfg.seeds.len();
    let mut run = 0;
    for &ext in &cfg.extractors {
        let mut row = PolicyRow {
            name: ext.label().into(),
            profits: vec![],
            train_seconds: vec![],
            validation_profits: vec![],
        };
        for (i, &seed) in cfg.seeds.iter().enumerate() {
            run += 1;
            progress(CompareEvent::RunStarted {
                extractor: ext,
                seed,
                run,
                runs,
            });
            let mut tc = TrainConfig::new(market.series.market, ext);
            tc.updates = cfg.updates;
            tc.seed = seed;
            tc.net.window = market.config.window;
            let ck_path = cfg.checkpoint_dir.as_ref().map(|d| {
                d.join(format!(
                    "{}-{}-seed{seed}.json",
                    market.series.market.name(),
                    ext.name()
                ))
            });
            let outcome = train(market, &tc, device, ck_path.as_deref(), &mut |p| {
                progress(CompareEvent::Training(p))
            })?;
            let mut pol = outcome.best.policy(device, Path::new("<in memory>"))?;
            let ep = run_policy(market, test, &mut pol);
            let profit = ep.total_profit();
            progress(CompareEvent::RunFinished {
                extractor: ext,
                seed,
                test_profit: profit,
            });
            row.profits.push(profit);
            row.train_seconds.push(outcome.seconds);
            row.validation_profits.push(outcome.best.validation_profit);
            if i == 0 {
                excess_curves.push((ext.label().to_string(), excess(&ep, &all_da)));
                if ext == ExtractorKind::BiLstm {
                    strategy_days.push((ext.label().to_string(), two_days(&ep)));
                }
            }
        }
        rows.push(row);
    }
    for (name, ep) in [
        ("all-day-ahead", &all_da),
        ("all-real-time", &all_rt),
        ("previous-day rule", &rule),
        ("perfect-foresight oracle (LP)", &oracle),
    ] {
        rows.push(PolicyRow {
            name: name.into(),
            profits: vec![ep.total_profit()],
            train_seconds: vec![],
            validation_profits: vec![],
        });
        excess_curves.push((name.to_string(), excess(ep, &all_da)));
    }
    strategy_days.push(("previous-day rule".into(), two_days(&rule)));
    strategy_days.push(("perfect-foresight oracle (LP)".into(), two_days(&oracle)));
    Ok(ComparisonReport {
        market: market.series.market.name().into(),
        currency: market.series.market.currency().into(),
        test_from: market.series.interval_start[test.start].to_string(),
        test_to: market.series.interval_start[test.end - 1].to_string(),
        test_steps: test.len(),
        seeds: cfg.seeds.clone(),
        updates_per_run: cfg.updates,
        rows,
        all_day_ahead_profit: all_da.total_profit(),
        oracle_profit: oracle.total_profit(),
        excess_curves,
        strategy_days,
    })
}
