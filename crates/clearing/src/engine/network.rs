//! Network rows by PTDF constraint generation (docs/clearing.md,
//! constraints 2 and 3 and "Algorithm"): flow limits of branches and
//! sections, the check of a dispatch's DC flows against them, and the PTDF
//! rows of the (branch or section, interval) pairs that are added to the LP.
//! PTDF rows are computed once per branch or section and cached.
//! This module describes rows; it does not touch the solver.

use std::collections::{HashMap, HashSet};

use super::layout::{Layout, RowSpec};
use crate::dcnet::DcNetwork;
use crate::input::ClearingInput;

/// A network row that constraint generation can add.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum Watched {
    Branch(usize),
    Section(usize),
}

/// A network row of one interval in the LP.
#[derive(Debug, Clone, Copy)]
pub(super) struct ActiveRow {
    pub what: Watched,
    pub t: usize,
}

/// The factorised network, the flow limits and the network rows added so far.
pub(super) struct NetworkRows<'a> {
    input: &'a ClearingInput,
    pub net: DcNetwork,
    /// Flow range of each branch; None = unlimited.
    pub limits: Vec<Option<(f64, f64)>>,
    /// Rows in the LP, in the order they were added (after the base rows).
    pub active: Vec<ActiveRow>,
    active_set: HashSet<(Watched, usize)>,
    cache: HashMap<Watched, Vec<f64>>,
}

impl<'a> NetworkRows<'a> {
    pub(super) fn new(input: &'a ClearingInput, net: DcNetwork) -> Self {
        let limits = (0..input.network.branches.len())
            .map(|l| {
                net.branch_ends[l]?;
                let (lo, hi) = flow_range(input, &net, l);
                (lo.is_finite() || hi.is_finite()).then_some((lo, hi))
            })
            .collect();
        Self {
            input,
            net,
            limits,
            active: Vec::new(),
            active_set: HashSet::new(),
            cache: HashMap::new(),
        }
    }

    /// PTDF row of a branch, or Σ d_l·PTDF_l of a section's members.
    pub(super) fn ptdf(&mut self, what: Watched) -> &Vec<f64> {
        let (net, input) = (&mut self.net, self.input);
        self.cache.entry(what).or_insert_with(|| match what {
            Watched::Branch(l) => net.ptdf_row(l),
            Watched::Section(s) => {
                let mut row = vec![0.0; net.n_bus];
                for &(l, d) in &input.network.sections[s].members {
                    let r = net.ptdf_row(l);
                    for (a, v) in row.iter_mut().zip(r) {
                        *a += f64::from(d) * v;
                    }
                }
                row
            }
        })
    }

    /// lo ≤ Σ_c PTDF_b(c)·sign·x_c + Σ_b PTDF_b·constant_b ≤ hi, with the
    /// constant moved to the bounds.
    pub(super) fn row(&mut self, layout: &Layout, row: &ActiveRow) -> RowSpec {
        let (lo, hi) = match row.what {
            Watched::Branch(l) => flow_range(self.input, &self.net, l),
            Watched::Section(s) => {
                let lim = self.input.network.sections[s].limit_mw;
                (-lim, lim)
            }
        };
        let ptdf = self.ptdf(row.what);
        let constant: f64 = ptdf
            .iter()
            .zip(&layout.const_injection[row.t])
            .map(|(p, c)| p * c)
            .sum();
        let mut entries = Vec::new();
        for &c in &layout.cols_of_interval[row.t] {
            if let Some((b, s)) = layout.cols[c].inj {
                let v = ptdf[b] * s;
                if v.abs() > 1e-10 {
                    entries.push((c, v));
                }
            }
        }
        RowSpec {
            lo: lo - constant,
            hi: hi - constant,
            entries,
        }
    }

    /// Record a row as added to the LP.
    pub(super) fn activate(&mut self, row: ActiveRow) {
        self.active_set.insert((row.what, row.t));
        self.active.push(row);
    }

    /// Check the DC flows of a dispatch against every limited branch and
    /// section not yet in the LP: the number of violations and the rows to
    /// add (violated or loaded above `add_threshold`).
    pub(super) fn check_flows(&mut self, layout: &Layout, x: &[f64]) -> (usize, Vec<ActiveRow>) {
        let mut check = Check {
            input: self.input,
            active: &self.active_set,
            violations: 0,
            to_add: Vec::new(),
        };
        for t in 0..self.input.intervals {
            let flows = self.net.flows(&layout.injections(x, t));
            for (l, lim) in self.limits.iter().enumerate() {
                let Some((lo, hi)) = lim else { continue };
                check.flow(Watched::Branch(l), t, flows[l], *lo, *hi);
            }
            for (s, sec) in self.input.network.sections.iter().enumerate() {
                check.flow(
                    Watched::Section(s),
                    t,
                    section_flow(&sec.members, &flows),
                    -sec.limit_mw,
                    sec.limit_mw,
                );
            }
        }
        (check.violations, check.to_add)
    }
}

/// Flow of a section: Σ d_l f_l over its members.
pub(super) fn section_flow(members: &[(usize, i8)], flows: &[f64]) -> f64 {
    members.iter().map(|&(l, d)| f64::from(d) * flows[l]).sum()
}

struct Check<'c> {
    input: &'c ClearingInput,
    active: &'c HashSet<(Watched, usize)>,
    violations: usize,
    to_add: Vec<ActiveRow>,
}

impl Check<'_> {
    fn flow(&mut self, what: Watched, t: usize, f: f64, lo: f64, hi: f64) {
        if self.active.contains(&(what, t)) {
            return;
        }
        let tol = self.input.settings.violation_tolerance;
        let violated = f > hi + tol * hi.abs().max(1.0) || f < lo - tol * lo.abs().max(1.0);
        if violated {
            self.violations += 1;
        }
        let thr = self.input.settings.add_threshold;
        let near = (hi.is_finite() && hi > 0.0 && f > thr * hi)
            || (lo.is_finite() && lo < 0.0 && f < thr * lo);
        if violated || near {
            self.to_add.push(ActiveRow { what, t });
        }
    }
}

/// Flow range of branch l: thermal rate_a intersected with the
/// angle-difference limits (|angle| < 360° enforced) expressed as flows.
fn flow_range(input: &ClearingInput, net: &DcNetwork, l: usize) -> (f64, f64) {
    let br = &input.network.branches[l];
    let w = net.branch_ends[l].map_or(0.0, |e| e.2);
    let (mut lo, mut hi) = (f64::NEG_INFINITY, f64::INFINITY);
    if let Some(r) = br.thermal_limit_mw() {
        lo = -r;
        hi = r;
    }
    if br.angmin_deg > -360.0 && br.angmax_deg < 360.0 {
        let a = w * br.angmin_deg.to_radians();
        let b = w * br.angmax_deg.to_radians();
        lo = lo.max(a.min(b));
        hi = hi.min(a.max(b));
    }
    (lo, hi)
}
