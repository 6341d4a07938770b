//! Network rows by PTDF constraint generation (docs/clearing.md,
//! constraints 2 and 3 and "Algorithm"): flow limits of branches and
//! sections, the check of a dispatch's DC flows against them, and the PTDF
//! rows of the (branch or section, interval) pairs that are added to the LP.
//! PTDF rows are computed once per branch or section and cached.
//! With N-1 security on, the post-contingency flows of every studied outage
//! are checked too, and a violated (monitored, outage, interval) triple
//! becomes a row with the outage-adjusted PTDF, PTDF_l + LODF_lk·PTDF_k
//! (docs/clearing.md, "N-1 security").
//! This module describes rows; it does not touch the solver.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use super::layout::{Layout, RowSpec};
use crate::dcnet::DcNetwork;
use crate::input::{BranchSet, ClearingInput, SecuritySettings};

/// A network row that constraint generation can add.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum Watched {
    Branch(usize),
    Section(usize),
    /// Flow of branch `monitored` after the outage of branch `outage`.
    Contingency {
        monitored: usize,
        outage: usize,
    },
}

/// The N-1 study of a run: the outages checked, the monitored branches with
/// their emergency flow ranges, and the outages skipped because they island.
pub(super) struct Security {
    pub outages: Vec<usize>,
    pub monitored: Vec<(usize, f64, f64)>,
    /// Emergency range of every branch (None = not monitored).
    pub emergency: Vec<Option<(f64, f64)>>,
    /// Studied outages that would split an island (skipped).
    pub islanding: Vec<usize>,
}

impl Security {
    fn new(input: &ClearingInput, net: &DcNetwork, sec: &SecuritySettings) -> Self {
        let n = input.network.branches.len();
        let listed = |set: &BranchSet| -> Vec<usize> {
            match set {
                BranchSet::All => (0..n).filter(|&l| net.branch_ends[l].is_some()).collect(),
                BranchSet::Branches(v) => {
                    let mut v: Vec<usize> = v
                        .iter()
                        .copied()
                        .filter(|&l| net.branch_ends.get(l).is_some_and(|e| e.is_some()))
                        .collect();
                    v.sort_unstable();
                    v.dedup();
                    v
                }
            }
        };
        let emergency: Vec<Option<(f64, f64)>> = input
            .network
            .branches
            .iter()
            .map(|br| sec.emergency_limit_mw(br).map(|r| (-r, r)))
            .collect();
        let monitored = listed(&sec.monitored)
            .into_iter()
            .filter_map(|l| emergency[l].map(|(lo, hi)| (l, lo, hi)))
            .collect();
        let bridges = net.bridges();
        let (islanding, outages): (Vec<usize>, Vec<usize>) = listed(&sec.contingencies)
            .into_iter()
            .partition(|&k| bridges[k]);
        Self {
            outages,
            monitored,
            emergency,
            islanding,
        }
    }
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
    /// The N-1 study, when security is on and branch limits are enforced.
    pub security: Option<Security>,
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
        let security = input
            .settings
            .security
            .as_ref()
            .filter(|_| input.settings.enforce_branch_limits)
            .map(|sec| Security::new(input, &net, sec));
        Self {
            input,
            net,
            limits,
            active: Vec::new(),
            active_set: HashSet::new(),
            cache: HashMap::new(),
            security,
        }
    }

    /// Outage distribution factor LODF_lk: the change of flow on l per MW
    /// that flowed on k before k's outage, from the PTDF rows of l and k:
    /// (PTDF_l[from_k] − PTDF_l[to_k]) / (1 − (PTDF_k[from_k] − PTDF_k[to_k])).
    pub(super) fn lodf(&mut self, monitored: usize, outage: usize) -> f64 {
        let Some((f, t, _)) = self.net.branch_ends[outage] else {
            return 0.0;
        };
        let own = {
            let pk = self.ptdf(Watched::Branch(outage));
            pk[f] - pk[t]
        };
        let pl = self.ptdf(Watched::Branch(monitored));
        (pl[f] - pl[t]) / (1.0 - own)
    }

    /// Number of contingency rows in the LP.
    pub(super) fn contingency_rows(&self) -> usize {
        self.active
            .iter()
            .filter(|a| matches!(a.what, Watched::Contingency { .. }))
            .count()
    }

    /// PTDF row of a branch, or Σ d_l·PTDF_l of a section's members, or
    /// the outage-adjusted row PTDF_l + LODF_lk·PTDF_k of a contingency pair.
    /// Branch and section rows are cached; a pair's row is made from the
    /// cached rows of its two branches each time (it is needed twice: when
    /// added and when priced), so memory grows with branches, not pairs.
    pub(super) fn ptdf(&mut self, what: Watched) -> Cow<'_, [f64]> {
        if let Watched::Contingency { monitored, outage } = what {
            let lodf = self.lodf(monitored, outage);
            let pk = self.ptdf(Watched::Branch(outage)).into_owned();
            let pl = self.ptdf(Watched::Branch(monitored));
            return Cow::Owned(pl.iter().zip(&pk).map(|(a, b)| a + lodf * b).collect());
        }
        let (net, input) = (&mut self.net, self.input);
        Cow::Borrowed(self.cache.entry(what).or_insert_with(|| match what {
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
            Watched::Contingency { .. } => unreachable!("handled above"),
        }))
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
            Watched::Contingency { monitored, .. } => self
                .security
                .as_ref()
                .and_then(|s| s.emergency[monitored])
                .expect("monitored branches have an emergency range"),
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
        let mut all_flows = Vec::with_capacity(self.input.intervals);
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
            all_flows.push(flows);
        }
        if let Some(sec) = &self.security {
            // a cheap pre-filter: flows below this fraction of the range are
            // neither violated nor near-binding
            let floor = self.input.settings.add_threshold.min(1.0);
            // one transfer solve per outage gives its LODF column; then every
            // (monitored, interval) pair is checked against the emergency
            // range. Only the worst outage of each (monitored, interval) is
            // added per round (the others are often relieved with it), so a
            // round adds at most |M|·T rows however many triples violate.
            // (monitored, interval) -> (loading ratio, outage, post-contingency
            // flow, emergency lower and upper limit)
            type Worst = (f64, usize, f64, f64, f64);
            let mut worst: HashMap<(usize, usize), Worst> = HashMap::new();
            let mut violated = 0usize;
            let tol = self.input.settings.violation_tolerance;
            for &k in &sec.outages {
                let (f, t_bus, _) = self.net.branch_ends[k].expect("in service");
                let mut lodf = self.net.transfer_flows(f, t_bus);
                let denom = 1.0 - lodf[k];
                lodf.iter_mut().for_each(|v| *v /= denom);
                for (t, flows) in all_flows.iter().enumerate() {
                    let fk = flows[k];
                    if fk == 0.0 {
                        continue;
                    }
                    for &(l, lo, hi) in &sec.monitored {
                        let post = flows[l] + lodf[l] * fk;
                        if l == k || (post <= floor * hi && post >= floor * lo) {
                            continue;
                        }
                        let what = Watched::Contingency {
                            monitored: l,
                            outage: k,
                        };
                        if check.active.contains(&(what, t)) {
                            continue;
                        }
                        if post > hi + tol * hi.abs().max(1.0)
                            || post < lo - tol * lo.abs().max(1.0)
                        {
                            violated += 1;
                        }
                        let ratio = if post > 0.0 { post / hi } else { post / lo };
                        let e = worst
                            .entry((l, t))
                            .or_insert((f64::NEG_INFINITY, k, post, lo, hi));
                        if ratio > e.0 {
                            *e = (ratio, k, post, lo, hi);
                        }
                    }
                }
            }
            let before = check.violations;
            let mut keys: Vec<(usize, usize)> = worst.keys().copied().collect();
            keys.sort_unstable();
            for (l, t) in keys {
                let (_, k, post, lo, hi) = worst[&(l, t)];
                let what = Watched::Contingency {
                    monitored: l,
                    outage: k,
                };
                check.flow(what, t, post, lo, hi);
            }
            // count every violated triple, not only the rows added
            let counted = check.violations - before;
            check.violations += violated.saturating_sub(counted);
        }
        (check.violations, check.to_add)
    }

    /// Post-contingency flow of `monitored` after the outage of `outage`,
    /// from the base-case flows.
    pub(super) fn post_contingency_flow(
        &mut self,
        monitored: usize,
        outage: usize,
        flows: &[f64],
    ) -> f64 {
        flows[monitored] + self.lodf(monitored, outage) * flows[outage]
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
