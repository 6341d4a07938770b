//! The HiGHS side of the engine: load a [`Layout`] and the network rows
//! into a model, append rows for a warm restart, and solve with fallbacks
//! (warm or cold simplex, then simplex without presolve, then interior
//! point with crossover; docs/clearing.md, "Solver fallbacks").
//! This module decides nothing about the market; it only talks to HiGHS.

use std::time::Instant;

use highs::{Col, HessianFormat, HighsModelStatus, Model, RowProblem, Sense, SolvedModel};

use super::layout::{Layout, RowSpec};
use super::ms;
use super::network::NetworkRows;
use crate::error::ClearingError;
use crate::result::SolverStrategy;

/// A HiGHS model of the layout and every active network row, with the
/// handles of its columns (HiGHS' `Col` cannot be made from an index; a
/// rebuilt model of the same layout has the same handles).
pub(super) fn build_model(
    layout: &Layout,
    network: &mut NetworkRows,
) -> Result<(Model, Vec<Col>), ClearingError> {
    let mut pb = RowProblem::default();
    let cols: Vec<Col> = layout
        .cols
        .iter()
        .map(|c| pb.add_column(c.cost, c.lo..=c.hi))
        .collect();
    for r in &layout.base_rows {
        pb.add_row(r.lo..=r.hi, r.entries.iter().map(|&(c, v)| (cols[c], v)));
    }
    for k in 0..network.active.len() {
        let a = network.active[k];
        let spec = network.row(layout, &a);
        pb.add_row(
            spec.lo..=spec.hi,
            spec.entries.iter().map(|&(c, v)| (cols[c], v)),
        );
    }
    let mut m = pb
        .try_optimise(Sense::Minimise)
        .map_err(|e| ClearingError::SolverFailed {
            round: 0,
            attempts: format!("model load: {e:?}"),
        })?;
    m.make_quiet();
    if layout.cols.iter().any(|c| c.q != 0.0) {
        let hessian: Vec<Vec<(i32, f64)>> = layout
            .cols
            .iter()
            .enumerate()
            .map(|(j, c)| {
                if c.q != 0.0 {
                    vec![(j as i32, c.q)]
                } else {
                    vec![]
                }
            })
            .collect();
        m.try_pass_hessian(HessianFormat::Triangular, hessian)
            .map_err(|e| ClearingError::SolverFailed {
                round: 0,
                attempts: format!("hessian: {e}"),
            })?;
    }
    Ok((m, cols))
}

/// Append one row to a model whose columns are `cols`.
pub(super) fn add_row_to_model(m: &mut Model, spec: &RowSpec, cols: &[Col]) {
    m.add_row(
        spec.lo..=spec.hi,
        spec.entries.iter().map(|&(c, v)| (cols[c], v)),
    );
}

/// Solve `model`; on an error or a status other than Optimal / Infeasible,
/// retry on a fresh model with the next strategy. Returns the solved model,
/// the strategy that solved it and the solve time in ms.
pub(super) fn solve_with_fallback(
    model: Model,
    layout: &Layout,
    network: &mut NetworkRows,
    warm: bool,
    round: usize,
) -> Result<(SolvedModel, SolverStrategy, f64), ClearingError> {
    let mut attempts = Vec::new();
    let first = if warm {
        SolverStrategy::WarmSimplex
    } else {
        SolverStrategy::Simplex
    };
    let strategies = [
        first,
        SolverStrategy::SimplexNoPresolve,
        SolverStrategy::InteriorPoint,
    ];
    let mut model = Some(model);
    let mut total = 0.0;
    for strategy in strategies {
        let mut m = match model.take() {
            Some(m) => m,
            None => build_model(layout, network)?.0,
        };
        match strategy {
            SolverStrategy::WarmSimplex | SolverStrategy::Simplex => {}
            SolverStrategy::SimplexNoPresolve => {
                m.set_option("presolve", "off");
                m.set_option("solver", "simplex");
            }
            SolverStrategy::InteriorPoint => {
                m.set_option("solver", "ipm");
                m.set_option("run_crossover", "on");
            }
        }
        let t0 = Instant::now();
        let outcome = m.try_solve();
        total += ms(t0);
        match outcome {
            Ok(sol) => {
                let st = sol.status();
                if matches!(st, HighsModelStatus::Optimal | HighsModelStatus::Infeasible) {
                    return Ok((sol, strategy, total));
                }
                attempts.push(format!("{strategy:?}: status {st:?}"));
            }
            Err(e) => attempts.push(format!("{strategy:?}: {e:?}")),
        }
    }
    Err(ClearingError::SolverFailed {
        round,
        attempts: attempts.join("; "),
    })
}
