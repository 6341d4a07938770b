//! Windows and gate closure: the scheduler that opens and closes sessions at
//! the times their market parameters give, the lock taken at gate closure,
//! the default rule for units that declared nothing, and the grid
//! information members see with the declaration form.
//!
//! Gate closure is two steps, each safe to repeat: the session moves to
//! `closed` (after which the store refuses declarations), then a
//! [`GateClosure`] record is written once, listing the latest version of
//! every declaration (the locked input of clearing) and the defaults applied.
//! A restart between the two finds a closed session without a record and
//! completes it; nothing can have changed meanwhile because the gate was shut.
use crate::notices::NoticeCategory;
use crate::{Actor, Market, MarketError, Result, require_operator};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use voltex_model::network::Network;
use voltex_model::{
    DeclarationBody, DeclarationKind, EnergyOfferInterval, GeneratingUnit, MarketParameters,
    MarketSession, Member, MemberStatus, OfferSegment, SessionState,
};
use voltex_store::{Entity, Record};

/// One locked declaration: the latest version at gate closure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LockedDeclaration {
    pub key: String,
    pub version: i64,
    pub member_id: String,
    pub kind: DeclarationKind,
    pub subject: String,
}

/// Which default rule applied to a unit that declared no energy offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DefaultRule {
    /// The unit's last accepted offer curve from an earlier session.
    LastAcceptedCurve,
    /// No history: the unit runs at its minimum output, unpriced.
    MustRunAtPmin,
    /// No history and no minimum output: the unit is not offered (off).
    NotOffered,
}

/// A default declaration applied at gate closure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DefaultDeclaration {
    pub unit_id: String,
    pub member_id: String,
    pub rule: DefaultRule,
    /// Where the curve came from (`<key>#<version>`), for the first rule.
    #[serde(default)]
    pub source: Option<String>,
    /// The offer that stands in for the missing one (absent when not offered).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub body: Option<DeclarationBody>,
}

/// What gate closure locked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GateClosure {
    pub session_id: String,
    pub closed_at: DateTime<Utc>,
    pub locked: Vec<LockedDeclaration>,
    pub defaults: Vec<DefaultDeclaration>,
}

impl Entity for GateClosure {
    const TABLE: &'static str = "gate_closures";
    const NAME: &'static str = "gate closure";
    const SENSITIVE: bool = true; // the locked declarations and their prices
    fn entity_id(&self) -> String {
        self.session_id.clone()
    }
}

/// The constraints a member declares against (shown with the form).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GridInformation {
    pub session_id: String,
    pub state: SessionState,
    pub window_opens_at: DateTime<Utc>,
    pub gate_closes_at: DateTime<Utc>,
    pub intervals: usize,
    pub interval_minutes: u32,
    pub price_floor: f64,
    pub price_cap: f64,
    pub max_segments: usize,
    pub network: Option<String>,
    /// Grid security limits: transmission sections and their limits.
    pub sections: Vec<SectionLimit>,
    /// Tie-line plans: the lines and their thermal limits.
    pub tie_lines: Vec<TieLinePlan>,
    /// Maintenance: branches out of service in the network model.
    pub branches_out_of_service: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SectionLimit {
    pub name: String,
    pub limit_mw: f64,
    pub branches: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TieLinePlan {
    pub name: String,
    pub from_area: u32,
    pub to_area: u32,
    pub limit_mw: Option<f64>,
}

/// What one scheduler pass did to one session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScheduledAction {
    pub session_id: String,
    /// `opened`, `gate closed`, `gate closure completed`, or `skipped`
    /// (the session could not be handled; the operator was alerted).
    pub action: &'static str,
    /// Why the session was skipped (`skipped` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

impl ScheduledAction {
    fn done(session_id: &str, action: &'static str) -> Self {
        Self {
            session_id: session_id.to_owned(),
            action,
            problem: None,
        }
    }
}

impl Market {
    /// Gate closure (operator or scheduler): close the session and lock.
    pub async fn close_gate(&self, actor: &Actor, session_id: &str) -> Result<Record<GateClosure>> {
        let session = self.session(session_id).await?;
        if session.value.state == SessionState::Open {
            self.transition(actor, session_id, SessionState::Closed)
                .await?;
        }
        self.ensure_gate_closure(session_id).await
    }

    /// Writes the gate-closure record of a closed session if missing, and
    /// (re)sends its notifications idempotently.
    pub(crate) async fn ensure_gate_closure(
        &self,
        session_id: &str,
    ) -> Result<Record<GateClosure>> {
        let session = self.session(session_id).await?.value;
        if session.state == SessionState::Scheduled || session.state == SessionState::Open {
            return Err(MarketError::Conflict(format!(
                "session {session_id} is {}; its gate has not closed",
                session.state
            )));
        }
        let record = match self.store.get::<GateClosure>(session_id).await? {
            Some(r) => r,
            None => {
                let closure = self.build_gate_closure(&session).await?;
                self.store.insert_once(&closure).await?.0
            }
        };
        for d in &record.value.defaults {
            let what = match d.rule {
                DefaultRule::LastAcceptedCurve => format!(
                    "its last accepted offer ({}) stands in",
                    d.source.as_deref().unwrap_or("earlier session")
                ),
                DefaultRule::MustRunAtPmin => "it runs at its minimum output, unpriced".into(),
                DefaultRule::NotOffered => "it is not offered and stays off".into(),
            };
            self.notify(
                &d.member_id,
                &format!("{session_id}:default:{}", d.unit_id),
                NoticeCategory::DefaultDeclaration,
                &d.unit_id,
                format!(
                    "unit {} had no energy offer in {session_id} at gate closure: {what}",
                    d.unit_id
                ),
            )
            .await?;
        }
        Ok(record)
    }

    async fn build_gate_closure(&self, session: &MarketSession) -> Result<GateClosure> {
        let latest = self.store.declarations(&session.id, None).await?;
        let locked: Vec<LockedDeclaration> = latest
            .iter()
            .map(|d| LockedDeclaration {
                key: d.key.clone(),
                version: d.version,
                member_id: d.member_id.clone(),
                kind: d.kind,
                subject: d.subject.clone(),
            })
            .collect();
        let mut defaults = Vec::new();
        if matches!(
            session.market,
            voltex_model::MarketKind::DayAheadEnergy | voltex_model::MarketKind::RealTimeEnergy
        ) {
            for unit in self.participating_units().await? {
                let offered = locked
                    .iter()
                    .any(|l| l.kind == DeclarationKind::EnergyOffer && l.subject == unit.id);
                if !offered {
                    defaults.push(self.default_for(session, &unit).await?);
                }
            }
        }
        Ok(GateClosure {
            session_id: session.id.clone(),
            closed_at: Utc::now(),
            locked,
            defaults,
        })
    }

    /// Units of active members: the ones that take part in clearing.
    pub(crate) async fn participating_units(&self) -> Result<Vec<GeneratingUnit>> {
        let members = self.store.list::<Member>().await?;
        let active = |id: &str| {
            members
                .iter()
                .any(|m| m.value.id == id && m.value.status == MemberStatus::Active)
        };
        Ok(self
            .store
            .list::<GeneratingUnit>()
            .await?
            .into_iter()
            .map(|r| r.value)
            .filter(|u| active(&u.member_id))
            .collect())
    }

    /// The market's default rule for a unit without an offer in `session`:
    /// its last accepted curve, else must-run at pmin, else not offered.
    pub(crate) async fn default_for(
        &self,
        session: &MarketSession,
        unit: &GeneratingUnit,
    ) -> Result<DefaultDeclaration> {
        let params = self.parameters(session.market).await?.value;
        let n = params.calendar().interval_count(session.trading_day)?;
        let last = self
            .last_accepted(&unit.member_id, DeclarationKind::EnergyOffer, &unit.id)
            .await?
            .filter(|d| d.session_id != session.id);
        if let Some(d) = last
            && let DeclarationBody::EnergyOffer { intervals, .. } = &d.body
            && !intervals.is_empty()
        {
            // Curves from a day of another length (DST) are mapped by position.
            return Ok(DefaultDeclaration {
                unit_id: unit.id.clone(),
                member_id: unit.member_id.clone(),
                rule: DefaultRule::LastAcceptedCurve,
                source: Some(format!("{}#{}", d.key, d.version)),
                body: Some(crate::sessions::remap_intervals(d.body, n)),
            });
        }
        if unit.pmin_mw > 0.0 {
            let at_pmin = EnergyOfferInterval {
                segments: vec![OfferSegment {
                    quantity_mw: unit.pmin_mw,
                    price: params.price_floor,
                }],
            };
            return Ok(DefaultDeclaration {
                unit_id: unit.id.clone(),
                member_id: unit.member_id.clone(),
                rule: DefaultRule::MustRunAtPmin,
                source: None,
                body: Some(DeclarationBody::EnergyOffer {
                    unit_id: unit.id.clone(),
                    intervals: vec![at_pmin; n],
                }),
            });
        }
        Ok(DefaultDeclaration {
            unit_id: unit.id.clone(),
            member_id: unit.member_id.clone(),
            rule: DefaultRule::NotOffered,
            source: None,
            body: None,
        })
    }

    /// The gate-closure record of a session (404 until the gate closed).
    /// Operator only: it lists every member's declarations.
    pub async fn gate_closure(
        &self,
        actor: &Actor,
        session_id: &str,
    ) -> Result<Record<GateClosure>> {
        require_operator(actor, "read gate-closure records")?;
        self.get_or_404::<GateClosure>("gate closure", session_id)
            .await
    }

    /// One scheduler pass at `now`: opens sessions whose window has opened,
    /// closes those whose gate time has passed, and completes any gate
    /// closure a restart interrupted. Safe to run from several places.
    ///
    /// One session that cannot be handled (a stored trading day outside the
    /// calendar, say) never stops the pass: it is skipped, the operator gets
    /// a notice once, and the pass goes on with the other sessions. Every
    /// action taken is in the answer, including those done on a session
    /// before its next step failed, so each can be audited.
    pub async fn run_schedule(&self, now: DateTime<Utc>) -> Result<Vec<ScheduledAction>> {
        let system = self.operator().await?;
        let mut done = Vec::new();
        for s in self.sessions().await? {
            let session = s.value;
            if let Err(e) = self
                .schedule_session(&system, &session, now, &mut done)
                .await
            {
                tracing::warn!(session = %session.id, error = %e, "scheduler skipped the session");
                let first = self.alert_skipped(&session, &e).await.unwrap_or_else(|alert| {
                    tracing::error!(session = %session.id, error = %alert, "could not alert the operator");
                    true
                });
                if first {
                    done.push(ScheduledAction {
                        problem: Some(e.to_string()),
                        ..ScheduledAction::done(&session.id, "skipped")
                    });
                }
            }
        }
        Ok(done)
    }

    /// What is due for one session at `now`, each action recorded in `done`
    /// as soon as it has happened.
    async fn schedule_session(
        &self,
        system: &Actor,
        session: &MarketSession,
        now: DateTime<Utc>,
        done: &mut Vec<ScheduledAction>,
    ) -> Result<()> {
        let id = &session.id;
        match session.state {
            SessionState::Scheduled | SessionState::Open => {
                let params = self.parameters(session.market).await?.value;
                let (opens, closes) = params.window(session.trading_day)?;
                if session.state == SessionState::Scheduled {
                    if now < opens {
                        return Ok(());
                    }
                    self.transition(system, id, SessionState::Open).await?;
                    done.push(ScheduledAction::done(id, "opened"));
                }
                if now >= closes {
                    self.close_gate(system, id).await?;
                    done.push(ScheduledAction::done(id, "gate closed"));
                }
            }
            SessionState::Closed if self.store.get::<GateClosure>(id).await?.is_none() => {
                self.ensure_gate_closure(id).await?;
                done.push(ScheduledAction::done(id, "gate closure completed"));
            }
            _ => {}
        }
        Ok(())
    }

    /// Tells the operator, once per session, that the scheduler skipped it
    /// and why; `true` when this was the first time.
    async fn alert_skipped(&self, session: &MarketSession, e: &MarketError) -> Result<bool> {
        self.notify(
            crate::OPERATOR_ID,
            &format!("scheduler:{}:skipped", session.id),
            NoticeCategory::SessionState,
            &session.id,
            format!(
                "the scheduler skipped session {} (still {}): {e}",
                session.id, session.state
            ),
        )
        .await
    }

    /// Declaration period, price limits and grid constraints of a session.
    pub async fn grid_information(&self, session_id: &str) -> Result<GridInformation> {
        let session = self.session(session_id).await?.value;
        let params: MarketParameters = self.parameters(session.market).await?.value;
        let (opens, closes) = params.window(session.trading_day)?;
        let network = self.session_network(None).await.ok();
        let (sections, tie_lines, out) = match &network {
            Some(n) => grid_limits(n),
            None => (vec![], vec![], vec![]),
        };
        Ok(GridInformation {
            session_id: session.id.clone(),
            state: session.state,
            window_opens_at: opens,
            gate_closes_at: closes,
            intervals: params.calendar().interval_count(session.trading_day)?,
            interval_minutes: params.interval_minutes,
            price_floor: params.price_floor,
            price_cap: params.price_cap,
            max_segments: params.max_segments,
            network: network.map(|n| n.name),
            sections,
            tie_lines,
            branches_out_of_service: out,
        })
    }

    /// The network clearing uses: the named one, or the only/latest imported.
    pub async fn session_network(&self, name: Option<&str>) -> Result<Network> {
        if let Some(name) = name {
            return Ok(self.network(name).await?.value);
        }
        let mut all = self.store.list::<Network>().await?;
        all.sort_by_key(|r| r.recorded_at);
        all.pop().map(|r| r.value).ok_or(MarketError::NotFound {
            what: "network",
            id: "(none imported)".into(),
        })
    }
}

fn grid_limits(n: &Network) -> (Vec<SectionLimit>, Vec<TieLinePlan>, Vec<String>) {
    let sections = n
        .sections
        .iter()
        .map(|s| SectionLimit {
            name: s.name.clone(),
            limit_mw: s.limit_mw,
            branches: s.members.len(),
        })
        .collect();
    let ties = n
        .tie_lines
        .iter()
        .map(|t| TieLinePlan {
            name: t.name.clone(),
            from_area: t.from_area,
            to_area: t.to_area,
            limit_mw: n.branches.get(t.branch).and_then(|b| b.thermal_limit_mw()),
        })
        .collect();
    let out = n
        .branches
        .iter()
        .enumerate()
        .filter(|(_, b)| !b.in_service)
        .map(|(k, b)| format!("branch {k} ({}-{})", b.from_bus, b.to_bus))
        .collect();
    (sections, ties, out)
}
