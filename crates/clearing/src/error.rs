//! The one error type of voltex-clearing. Infeasibility of the market itself
//! is not an error (it shows up as priced shortfalls in the result); errors
//! are refused input and solver failures that no fallback could recover.

use serde::{Deserialize, Serialize};

/// One refused piece of input: the element it concerns and the broken rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputProblem {
    pub element: String,
    pub rule: String,
}

impl InputProblem {
    pub fn new(element: &str, rule: String) -> Self {
        InputProblem {
            element: element.to_string(),
            rule,
        }
    }
}

impl std::fmt::Display for InputProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.element, self.rule)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClearingError {
    #[error("the clearing input is refused:\n{}", .0.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n"))]
    InvalidInput(Vec<InputProblem>),
    #[error(
        "the DC network matrix of island with reference bus {reference_bus} cannot be factorised: {reason}"
    )]
    SingularNetwork { reference_bus: u32, reason: String },
    #[error("every solver strategy failed on round {round}: {attempts}")]
    SolverFailed { round: usize, attempts: String },
    #[error(
        "the LP is {status} even with shortfall and surplus slacks (round {round}); this is a modelling bug"
    )]
    UnexpectedStatus { status: String, round: usize },
    #[error(
        "constraint generation did not converge in {rounds} rounds ({violations} violations left)"
    )]
    NotConverged { rounds: usize, violations: usize },
    #[error(
        "N-1 security cannot be met: it needs {shortfall_mwh:.3} MWh of unserved load or over-generation against {base_case_mwh:.3} MWh without it; binding post-contingency constraints (settings.security): {constraints}"
    )]
    SecurityInfeasible {
        shortfall_mwh: f64,
        base_case_mwh: f64,
        constraints: String,
    },
    #[error("cannot read unit-commitment case {path}: {message}")]
    UcFile { path: String, message: String },
    #[error("unit commitment: solver failed: {0}")]
    UcSolver(String),
    #[error("unit commitment is infeasible; constraint sets that cannot be met: {0}")]
    UcInfeasible(String),
    #[error("cross-check solver failed: {0}")]
    CrossCheck(String),
    #[error("cannot write results to {path}: {message}")]
    Write { path: String, message: String },
    #[error("cannot draw the price chart: {0}")]
    Chart(#[from] voltex_charts::ChartError),
    #[error("load shape: {0}")]
    LoadShape(String),
}
