//! One clearing request, whichever the market: a closed session's locked
//! declarations, with review decisions applied, go to the DC-OPF of
//! [`dispatch`](crate::dispatch) for energy markets or to the merit-order
//! auction of [`regulation`](crate::regulation) for regulation markets; the
//! run is stored as a new version and the session moves to `cleared`.
//!
//! It sits above both so that neither depends on the other.
use crate::dispatch::{ClearOptions, ClearingRun};
use crate::gate::GateClosure;
use crate::regulation::RegulationRun;
use crate::{Actor, Market, MarketError, Result, require_operator};
use voltex_model::{MarketKind, SessionState};
use voltex_store::{Entity, Record, StoredDeclaration};

/// What a clearing run produced, by kind of market.
#[derive(Debug, Clone)]
pub enum ClearingOutcome {
    /// Boxed: an energy run carries the whole input and result.
    Energy(Box<Record<ClearingRun>>),
    Regulation(Record<RegulationRun>),
}

impl ClearingOutcome {
    /// The energy run; panics on a regulation run (for callers that cleared
    /// an energy session).
    pub fn energy(self) -> Record<ClearingRun> {
        match self {
            ClearingOutcome::Energy(r) => *r,
            ClearingOutcome::Regulation(r) => {
                panic!("session {} is a regulation market", r.value.session_id)
            }
        }
    }
}

fn is_energy(m: MarketKind) -> bool {
    matches!(m, MarketKind::DayAheadEnergy | MarketKind::RealTimeEnergy)
}

async fn store_run<T: Entity>(store: &voltex_store::Store, run: &T) -> Result<Record<T>> {
    Ok(match store.get::<T>(&run.entity_id()).await? {
        Some(prev) => store.append(run, prev.version).await?,
        None => store.insert(run).await?,
    })
}

impl Market {
    /// Runs clearing on a closed session's locked declarations (operator or
    /// scheduler) and moves it to `cleared`: the DC-OPF for energy markets,
    /// the merit-order auction for regulation markets. Running it again on a
    /// cleared session stores a new version (e.g. after a corrected network).
    pub async fn clear_session(
        &self,
        actor: &Actor,
        session_id: &str,
        options: &ClearOptions,
    ) -> Result<ClearingOutcome> {
        require_operator(actor, "run clearing")?;
        let session = self.session(session_id).await?.value;
        if !matches!(session.state, SessionState::Closed | SessionState::Cleared) {
            return Err(MarketError::Conflict(format!(
                "session {session_id} is {}; clearing runs after gate closure and before publication",
                session.state
            )));
        }
        let gate = self.ensure_gate_closure(session_id).await?.value;
        let held: Vec<String> = self
            .pending_reviews(actor)
            .await?
            .into_iter()
            .filter(|r| r.value.session_id == session_id)
            .map(|r| r.id)
            .collect();
        if !held.is_empty() {
            return Err(MarketError::Conflict(format!(
                "{} declaration(s) of {session_id} await review ({}); approve or reject them first",
                held.len(),
                held.join(", ")
            )));
        }
        let (effective, warnings) = self.counting_declarations(&gate).await?;
        let outcome = if is_energy(session.market) {
            let mut run = self.build_run(&session, &gate, effective, options).await?;
            run.warnings.splice(0..0, warnings);
            ClearingOutcome::Energy(Box::new(store_run(&self.store, &run).await?))
        } else {
            let mut run = self
                .build_regulation_run(&session, effective, options)
                .await?;
            run.warnings.splice(0..0, warnings);
            ClearingOutcome::Regulation(store_run(&self.store, &run).await?)
        };
        if session.state == SessionState::Closed {
            self.transition(actor, session_id, SessionState::Cleared)
                .await?;
        }
        Ok(outcome)
    }

    /// The counting version of every locked declaration (review applied).
    async fn counting_declarations(
        &self,
        gate: &GateClosure,
    ) -> Result<(Vec<StoredDeclaration>, Vec<String>)> {
        let (mut effective, mut warnings) = (Vec::new(), Vec::new());
        for l in &gate.locked {
            match self.counting_version(&l.key, l.version).await? {
                Some(d) => effective.push(d),
                None => warnings.push(format!(
                    "{}: no accepted version (all rejected); ignored",
                    l.key
                )),
            }
        }
        Ok((effective, warnings))
    }

    /// The newest version at or below `locked` that counts (not held or rejected).
    async fn counting_version(&self, key: &str, locked: i64) -> Result<Option<StoredDeclaration>> {
        for version in (1..=locked).rev() {
            if self.declaration_status(key, version).await?.counts() {
                return Ok(self.store.declaration_version(key, version).await?);
            }
        }
        Ok(None)
    }
}
