//! The DC network behind PTDF constraint generation: bus indexing, islands
//! with their reference buses, the branch weights w = x/(r²+x²) of the DC
//! power flow (PowerModels' b = −w), the sparse LDLᵀ factorisation of the
//! reduced susceptance matrix, DC flows for given injections, and PTDF rows on
//! demand. It does no optimisation and keeps no market data.

use clarabel::algebra::CscMatrix;
use clarabel::qdldl::{QDLDLFactorisation, QDLDLSettingsBuilder};
use voltex_model::network::{BusKind, Network};

use crate::error::ClearingError;

/// Factorised DC network.
pub struct DcNetwork {
    /// Number of buses.
    pub n_bus: usize,
    /// Island id of each bus (0..n_islands).
    pub island_of_bus: Vec<usize>,
    /// Reference bus index of each island.
    pub island_reference: Vec<usize>,
    /// For each branch: Some((from index, to index, weight w in MW per rad at 1 pu)) if in service.
    pub branch_ends: Vec<Option<(usize, usize, f64)>>,
    /// Column of the reduced matrix for each bus (None for reference buses).
    reduced_index: Vec<Option<usize>>,
    factor: Option<QDLDLFactorisation<f64>>,
    work: Vec<f64>,
}

impl std::fmt::Debug for DcNetwork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DcNetwork")
            .field("n_bus", &self.n_bus)
            .field("islands", &self.island_reference.len())
            .finish()
    }
}

impl DcNetwork {
    /// Build and factorise. The network must have passed `Network::validate`.
    #[allow(clippy::needless_range_loop)] // union-find over bus indices
    pub fn new(network: &Network) -> Result<DcNetwork, ClearingError> {
        let n = network.buses.len();
        let index = network.bus_index();
        let base = network.base_mva;
        let branch_ends: Vec<Option<(usize, usize, f64)>> = network
            .branches
            .iter()
            .map(|br| {
                if !br.in_service {
                    return None;
                }
                let f = index[&br.from_bus];
                let t = index[&br.to_bus];
                // f_MW = w (θf − θt) base with w = x/(r²+x²) = −b (PowerModels DC)
                Some((f, t, -br.dc_susceptance_pu() * base))
            })
            .collect();
        // islands by union-find over in-service branches
        let mut parent: Vec<usize> = (0..n).collect();
        fn find(p: &mut [usize], mut i: usize) -> usize {
            while p[i] != i {
                p[i] = p[p[i]];
                i = p[i];
            }
            i
        }
        for &(f, t, _) in branch_ends.iter().flatten() {
            let (a, b) = (find(&mut parent, f), find(&mut parent, t));
            if a != b {
                parent[a] = b;
            }
        }
        let mut island_of_root = vec![usize::MAX; n];
        let mut island_of_bus = vec![0; n];
        let mut island_reference: Vec<usize> = Vec::new();
        for i in 0..n {
            let r = find(&mut parent, i);
            if island_of_root[r] == usize::MAX {
                island_of_root[r] = island_reference.len();
                island_reference.push(i);
            }
            island_of_bus[i] = island_of_root[r];
        }
        // prefer a bus of kind Reference as each island's reference, else the largest generator bus order
        for (i, bus) in network.buses.iter().enumerate() {
            if bus.kind == BusKind::Reference {
                let isl = island_of_bus[i];
                if network.buses[island_reference[isl]].kind != BusKind::Reference {
                    island_reference[isl] = i;
                }
            }
        }
        let mut reduced_index = vec![None; n];
        let mut m = 0;
        for i in 0..n {
            if island_reference[island_of_bus[i]] != i {
                reduced_index[i] = Some(m);
                m += 1;
            }
        }
        let factor = if m == 0 {
            None
        } else {
            // upper-triangular triplets of the reduced B matrix (per unit of MW/rad)
            let mut diag = vec![0.0; m];
            let (mut ii, mut jj, mut vv) = (Vec::new(), Vec::new(), Vec::new());
            for &(f, t, w) in branch_ends.iter().flatten() {
                let (rf, rt) = (reduced_index[f], reduced_index[t]);
                if let Some(a) = rf {
                    diag[a] += w;
                }
                if let Some(b) = rt {
                    diag[b] += w;
                }
                if let (Some(a), Some(b)) = (rf, rt) {
                    let (r, c) = if a < b { (a, b) } else { (b, a) };
                    ii.push(r);
                    jj.push(c);
                    vv.push(-w);
                }
            }
            for (k, d) in diag.iter().enumerate() {
                ii.push(k);
                jj.push(k);
                vv.push(*d);
            }
            let mat = sum_duplicates(CscMatrix::new_from_triplets(m, m, ii, jj, vv));
            let settings = QDLDLSettingsBuilder::default()
                .regularize_enable(false)
                .build()
                .expect("static settings");
            let fac = QDLDLFactorisation::new(&mat, Some(settings)).map_err(|e| {
                ClearingError::SingularNetwork {
                    reference_bus: network.buses[island_reference[0]].id,
                    reason: format!("{e:?}"),
                }
            })?;
            if fac.D.iter().any(|d| !d.is_finite() || d.abs() < 1e-12) {
                return Err(ClearingError::SingularNetwork {
                    reference_bus: network.buses[island_reference[0]].id,
                    reason: "zero pivot in the LDLᵀ factorisation (a net reactance of zero on some cut?)".into(),
                });
            }
            Some(fac)
        };
        Ok(DcNetwork {
            n_bus: n,
            island_of_bus,
            island_reference,
            branch_ends,
            reduced_index,
            factor,
            work: vec![0.0; m],
        })
    }

    pub fn n_islands(&self) -> usize {
        self.island_reference.len()
    }

    /// Bus voltage angles (rad) for net injections (MW, per bus); reference angles are 0.
    pub fn angles(&mut self, injection_mw: &[f64]) -> Vec<f64> {
        let mut theta = vec![0.0; self.n_bus];
        let Some(fac) = self.factor.as_mut() else {
            return theta;
        };
        for (i, r) in self.reduced_index.iter().enumerate() {
            if let Some(r) = r {
                self.work[*r] = injection_mw[i];
            }
        }
        fac.solve(&mut self.work);
        for (i, r) in self.reduced_index.iter().enumerate() {
            if let Some(r) = r {
                theta[i] = self.work[*r];
            }
        }
        theta
    }

    /// DC branch flows (MW, from → to; 0 for out-of-service branches).
    pub fn flows(&mut self, injection_mw: &[f64]) -> Vec<f64> {
        let theta = self.angles(injection_mw);
        self.branch_ends
            .iter()
            .map(|e| e.map_or(0.0, |(f, t, w)| w * (theta[f] - theta[t])))
            .collect()
    }

    /// PTDF row of a branch: MW of flow per MW injected at each bus and
    /// withdrawn at its island's reference bus.
    pub fn ptdf_row(&mut self, branch: usize) -> Vec<f64> {
        let mut row = vec![0.0; self.n_bus];
        let Some((f, t, w)) = self.branch_ends[branch] else {
            return row;
        };
        let Some(fac) = self.factor.as_mut() else {
            return row;
        };
        self.work.iter_mut().for_each(|v| *v = 0.0);
        if let Some(a) = self.reduced_index[f] {
            self.work[a] += w;
        }
        if let Some(b) = self.reduced_index[t] {
            self.work[b] -= w;
        }
        fac.solve(&mut self.work);
        for (i, r) in self.reduced_index.iter().enumerate() {
            if let Some(r) = r {
                row[i] = self.work[*r];
            }
        }
        row
    }
}

impl DcNetwork {
    /// DC flow on every branch per MW injected at bus `a` and withdrawn at
    /// bus `b` (same island): the column w_l (e_from − e_to)ᵀ B_r⁻¹ (e_a − e_b)
    /// for all l, from one triangular solve. Outage distribution factors are
    /// built from it (docs/clearing.md, "N-1 security").
    pub fn transfer_flows(&mut self, a: usize, b: usize) -> Vec<f64> {
        let mut theta = vec![0.0; self.n_bus];
        if let Some(fac) = self.factor.as_mut() {
            self.work.iter_mut().for_each(|v| *v = 0.0);
            if let Some(r) = self.reduced_index[a] {
                self.work[r] += 1.0;
            }
            if let Some(r) = self.reduced_index[b] {
                self.work[r] -= 1.0;
            }
            fac.solve(&mut self.work);
            for (i, r) in self.reduced_index.iter().enumerate() {
                if let Some(r) = r {
                    theta[i] = self.work[*r];
                }
            }
        }
        self.branch_ends
            .iter()
            .map(|e| e.map_or(0.0, |(f, t, w)| w * (theta[f] - theta[t])))
            .collect()
    }

    /// Which in-service branches are bridges: their outage splits an island
    /// (Tarjan's low-link over the branch graph; a parallel branch keeps its
    /// twin from being a bridge). Iterative, so deep radial feeders do not
    /// overflow the stack.
    pub fn bridges(&self) -> Vec<bool> {
        let n = self.n_bus;
        let mut adj: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
        for (l, e) in self.branch_ends.iter().enumerate() {
            if let Some((f, t, _)) = *e
                && f != t
            {
                adj[f].push((t, l));
                adj[t].push((f, l));
            }
        }
        let mut is_bridge = vec![false; self.branch_ends.len()];
        let mut disc = vec![usize::MAX; n];
        let mut low = vec![0usize; n];
        let mut clock = 0;
        for root in 0..n {
            if disc[root] != usize::MAX {
                continue;
            }
            // stack of (bus, branch it was entered by, next neighbour to visit)
            let mut stack: Vec<(usize, usize, usize)> = vec![(root, usize::MAX, 0)];
            disc[root] = clock;
            low[root] = clock;
            clock += 1;
            while let Some(&mut (v, via, ref mut next)) = stack.last_mut() {
                if let Some(&(w, l)) = adj[v].get(*next) {
                    *next += 1;
                    if l == via {
                        continue;
                    }
                    if disc[w] == usize::MAX {
                        disc[w] = clock;
                        low[w] = clock;
                        clock += 1;
                        stack.push((w, l, 0));
                    } else {
                        low[v] = low[v].min(disc[w]);
                    }
                } else {
                    stack.pop();
                    if let Some(&(parent, _, _)) = stack.last() {
                        low[parent] = low[parent].min(low[v]);
                        if low[v] > disc[parent] {
                            is_bridge[via] = true;
                        }
                    }
                }
            }
        }
        is_bridge
    }
}

/// `new_from_triplets` keeps duplicate entries (parallel branches); merge them.
fn sum_duplicates(m: CscMatrix<f64>) -> CscMatrix<f64> {
    let mut colptr = vec![0usize; m.n + 1];
    let mut rowval = Vec::with_capacity(m.rowval.len());
    let mut nzval = Vec::with_capacity(m.nzval.len());
    for c in 0..m.n {
        let mut entries: Vec<(usize, f64)> = (m.colptr[c]..m.colptr[c + 1])
            .map(|k| (m.rowval[k], m.nzval[k]))
            .collect();
        entries.sort_by_key(|e| e.0);
        for (r, v) in entries {
            if rowval.len() > colptr[c] && *rowval.last().unwrap() == r {
                *nzval.last_mut().unwrap() += v;
            } else {
                rowval.push(r);
                nzval.push(v);
            }
        }
        colptr[c + 1] = rowval.len();
    }
    CscMatrix::new(m.m, m.n, colptr, rowval, nzval)
}
