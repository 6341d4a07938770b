//! The clearing engine: multi-interval DC-OPF with PTDF constraint
//! generation, solved by HiGHS, priced from the duals.
//!
//! Loop: build the LP with power balance (one row per island and interval),
//! unit output links and ramp rows, but no network rows; solve; compute DC
//! flows of the dispatch with the factorised network; add the rows of violated
//! (and nearly loaded) branches and sections as PTDF rows; re-solve from the
//! previous basis; stop when no flow violates its limit. A solver failure is
//! retried cold with presolve off, then with interior point. Shortfall and
//! surplus are priced slacks: first one per island (cheap, dense-free), and if
//! any is used or the LP is infeasible, one per bus (located shortfalls).
//! The formulation, sign conventions and price rules are in docs/clearing.md.
//!
//! Steps, one module each: [`layout`] (variables, balance, link and ramp
//! rows), [`network`] (flow limits, flow check, PTDF rows), [`solve`] (HiGHS
//! model and fallbacks), [`extract`] (prices, dispatch, flows); this file
//! holds the constraint-generation loop. This module must not read files or
//! print.

mod extract;
mod layout;
mod network;
mod solve;

use std::time::Instant;

use highs::{HighsModelStatus, Model, SolvedModel};

use crate::dcnet::DcNetwork;
use crate::error::ClearingError;
use crate::input::ClearingInput;
use crate::result::*;
use layout::Layout;
use network::NetworkRows;
use solve::{add_row_to_model, build_model, solve_with_fallback};

/// Run the clearing. `progress` is called after each solve round.
pub fn clear_with_progress(
    input: &ClearingInput,
    progress: &mut dyn FnMut(&RoundStats),
) -> Result<ClearingResult, ClearingError> {
    let started = Instant::now();
    input.validate()?;
    let mut warnings = Vec::new();
    let t_build = Instant::now();
    let mut network = NetworkRows::new(input, DcNetwork::new(&input.network)?);
    let factor_ms = ms(t_build);
    if let Some(sec) = &network.security
        && !sec.islanding.is_empty()
    {
        let names: Vec<String> = sec
            .islanding
            .iter()
            .take(10)
            .map(|&k| branch_name(input, k))
            .collect();
        warnings.push(format!(
            "N-1: {} studied outages would split an island and are skipped ({}{})",
            sec.islanding.len(),
            names.join(", "),
            if sec.islanding.len() > 10 {
                ", ..."
            } else {
                ""
            }
        ));
    }
    let bus_index = input.network.bus_index();

    let mut layout = Layout::build(input, &network.net, &bus_index, false, &mut warnings);
    let mut ptdf_ms = factor_ms;
    let (mut model, mut cols) = build_model(&layout, &mut network)?;
    let build_ms = ms(t_build) - factor_ms;

    let mut rounds: Vec<RoundStats> = Vec::new();
    let mut solved: Option<SolvedModel> = None;
    let mut solve_ms = 0.0;
    let max_rounds = input.settings.max_rounds.max(1);
    let mut located_switch_done = false;
    let mut converged = false;
    for round in 1..=max_rounds {
        let warm = solved.is_some();
        let (sol, strategy, took) = solve_with_fallback(model, &layout, &mut network, warm, round)?;
        solve_ms += took;
        let status = sol.status();
        let x = match status {
            HighsModelStatus::Infeasible if !layout.located_slacks => None,
            HighsModelStatus::Optimal => Some(sol.get_solution().columns().to_vec()),
            _ => {
                return Err(ClearingError::UnexpectedStatus {
                    status: format!("{status:?}"),
                    round,
                });
            }
        };
        let iterations = match x {
            Some(_) => {
                sol.simplex_iteration_count().max(0) as u64
                    + sol.ipm_iteration_count().max(0) as u64
                    + sol.qp_iteration_count().max(0) as u64
            }
            None => 0,
        };
        // system slacks are not enough: an import-limited pocket made the LP
        // infeasible, or the shortfall must be located at buses
        let relocate = match &x {
            None => Some((
                "network rows made the LP infeasible with system slacks; switched to per-bus shortfall and surplus",
                format!("{status:?}"),
            )),
            Some(x) if !layout.located_slacks && layout.slacks_used(x) => Some((
                "shortfall or surplus needed; re-solved with per-bus slacks so that it is located",
                "slacks used".to_string(),
            )),
            Some(_) => None,
        };
        if let Some((warning, status)) = relocate {
            warnings.push(warning.into());
            layout = Layout::build(input, &network.net, &bus_index, true, &mut warnings);
            located_switch_done = true;
            (model, cols) = build_model(&layout, &mut network)?;
            solved = None;
            rounds.push(RoundStats {
                round,
                added_rows: 0,
                violations: 0,
                solve_ms: took,
                strategy,
                iterations,
                status,
            });
            progress(rounds.last().expect("just pushed"));
            continue;
        }
        let x = x.expect("optimal");
        // flows and violations
        let t_ptdf = Instant::now();
        let (violations, to_add) = if input.settings.enforce_branch_limits {
            network.check_flows(&layout, &x)
        } else {
            (0, Vec::new())
        };
        ptdf_ms += ms(t_ptdf);
        rounds.push(RoundStats {
            round,
            added_rows: to_add.len(),
            violations,
            solve_ms: took,
            strategy,
            iterations,
            status: "optimal".into(),
        });
        progress(rounds.last().expect("just pushed"));
        if violations == 0 {
            solved = Some(sol);
            converged = true;
            break;
        }
        // add rows and warm start from the previous basis
        let t_add = Instant::now();
        let mut m: Model = sol.into();
        for row in to_add {
            let spec = network.row(&layout, &row);
            add_row_to_model(&mut m, &spec, &cols);
            network.activate(row);
        }
        ptdf_ms += ms(t_add);
        model = m;
        solved = None;
        if round == max_rounds {
            return Err(ClearingError::NotConverged {
                rounds: round,
                violations,
            });
        }
    }
    let Some(sol) = solved.filter(|_| converged) else {
        return Err(ClearingError::NotConverged {
            rounds: max_rounds,
            violations: usize::MAX,
        });
    };
    let t_price = Instant::now();
    let mut result = extract::extract(input, &layout, &mut network, &sol, &mut warnings);
    let pricing_ms = ms(t_price);
    result.located_slacks = layout.located_slacks || located_switch_done;
    result.stats = RunStats {
        build_ms,
        ptdf_ms,
        solve_ms,
        pricing_ms,
        total_ms: ms(started),
        columns: layout.cols.len(),
        rows: layout.base_rows.len() + network.active.len(),
        network_rows: network.active.len(),
        contingency_rows: network.contingency_rows(),
        contingencies_studied: network.security.as_ref().map_or(0, |s| s.outages.len()),
        islanding_contingencies: network
            .security
            .as_ref()
            .map_or_else(Vec::new, |s| s.islanding.clone()),
        rounds,
    };
    result.warnings = warnings;
    if let Err(e) = check_security_met(input, &result) {
        match &input.settings.security {
            Some(sec)
                if sec.allow_shortfall && matches!(e, ClearingError::SecurityInfeasible { .. }) =>
            {
                result.warnings.push(e.to_string());
            }
            _ => return Err(e),
        }
    }
    Ok(result)
}

/// N-1 that cannot be met shows as unserved load (or over-generation) the
/// base case does not need while post-contingency rows bind: refuse it,
/// naming those rows. The base case is only solved when this is suspected.
fn check_security_met(input: &ClearingInput, result: &ClearingResult) -> Result<(), ClearingError> {
    let Some(_) = &input.settings.security else {
        return Ok(());
    };
    let s = result.summary();
    let used = s.shortfall_mwh + s.surplus_mwh;
    if used <= 1e-6 || s.binding_contingency_intervals == 0 {
        return Ok(());
    }
    let mut base = input.clone();
    base.settings.security = None;
    let b = clear(&base)?.summary();
    let base_used = b.shortfall_mwh + b.surplus_mwh;
    if used <= base_used + 1e-6 * used.max(1.0) {
        return Ok(());
    }
    let mut binding: Vec<(f64, String)> = result
        .results
        .iter()
        .flat_map(|r| {
            r.contingencies.iter().map(move |c| {
                (
                    c.shadow_price_per_mwh,
                    format!(
                        "branch {} after outage of branch {} in interval {} ({:.1} MW, limit {:.1} MW)",
                        branch_name(input, c.monitored),
                        branch_name(input, c.outage),
                        r.interval,
                        c.post_flow_mw,
                        c.limit_mw
                    ),
                )
            })
        })
        .collect();
    binding.sort_by(|a, b| b.0.total_cmp(&a.0));
    let n = binding.len();
    let mut constraints: Vec<String> = binding.into_iter().take(10).map(|b| b.1).collect();
    if n > 10 {
        constraints.push(format!("and {} more", n - 10));
    }
    Err(ClearingError::SecurityInfeasible {
        shortfall_mwh: used,
        base_case_mwh: base_used,
        constraints: constraints.join("; "),
    })
}

/// "index (from-to)" of a branch, as error messages and warnings name it.
fn branch_name(input: &ClearingInput, l: usize) -> String {
    let br = &input.network.branches[l];
    format!("{l} ({}-{})", br.from_bus, br.to_bus)
}

/// Run the clearing without progress reports.
pub fn clear(input: &ClearingInput) -> Result<ClearingResult, ClearingError> {
    clear_with_progress(input, &mut |_| {})
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}
