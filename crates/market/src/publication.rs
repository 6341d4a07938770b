//! Market release: the items published after clearing, each with its
//! audience (everyone, all members, or one member), immutable and versioned.
//!
//! Item ids are `<session>:<item>` for shared items and
//! `<session>:<item>:<member>` for private ones. A correction is a new
//! version of the same item that names the version it corrects; both stay
//! readable. Publishing is idempotent (items that exist are left alone), so
//! a publication interrupted by a restart is completed by running it again.
use crate::dispatch::{ClearingRun, PositionKind};
use crate::notices::NoticeCategory;
use crate::regulation::RegulationRun;
use crate::{Actor, Market, MarketError, Result, require_operator};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use voltex_model::network::Network;
use voltex_model::{MarketKind, SessionState};
use voltex_store::{Entity, Record};

/// Audience keys stored in the `member_id` column.
const PUBLIC: &str = "*public";
const MEMBERS: &str = "*members";

/// Who may read a published item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "scope", content = "member_id")]
pub enum Audience {
    Public,
    AllMembers,
    Member(String),
}

impl Audience {
    fn key(&self) -> &str {
        match self {
            Audience::Public => PUBLIC,
            Audience::AllMembers => MEMBERS,
            Audience::Member(m) => m,
        }
    }
}

/// One published item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Publication {
    pub id: String,
    pub session_id: String,
    /// Item name, e.g. `nodal_prices`, `own_dispatch`.
    pub item: String,
    pub title: String,
    pub audience: Audience,
    pub published_at: DateTime<Utc>,
    /// The clearing run version it was derived from.
    pub source_run_version: i64,
    /// For a correction: the version it supersedes, and why.
    #[serde(default)]
    pub corrects: Option<i64>,
    #[serde(default)]
    pub note: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub content: Value,
}

impl Entity for Publication {
    const TABLE: &'static str = "publications";
    const NAME: &'static str = "publication";
    const SENSITIVE: bool = true; // members' own dispatch, positions and prices
    const OWNED: bool = true;
    fn entity_id(&self) -> String {
        self.id.clone()
    }
    fn owner(&self) -> Option<&str> {
        Some(self.audience.key())
    }
}

impl Market {
    /// Publishes a cleared session's results (operator) and moves it to
    /// `published`; members are notified.
    pub async fn publish_session(
        &self,
        actor: &Actor,
        session_id: &str,
    ) -> Result<Vec<Record<Publication>>> {
        require_operator(actor, "publish results")?;
        let session = self.session(session_id).await?.value;
        if !matches!(
            session.state,
            SessionState::Cleared | SessionState::Published
        ) {
            return Err(MarketError::Conflict(format!(
                "session {session_id} is {}; results are published after clearing",
                session.state
            )));
        }
        let items = match session.market {
            MarketKind::DayAheadEnergy | MarketKind::RealTimeEnergy => {
                let run = self.stored_clearing_run(session_id).await?;
                let network = self.session_network(Some(&run.value.network)).await?;
                release_items(&run.value, run.version, &network)
            }
            MarketKind::FrequencyRegulation | MarketKind::PeakRegulation => {
                let run = self.stored_regulation_run(session_id).await?;
                regulation_items(&run.value, run.version)
            }
        };
        let mut out = Vec::new();
        for p in items {
            out.push(self.store.insert_once(&p).await?.0);
        }
        if session.state == SessionState::Cleared {
            self.transition(actor, session_id, SessionState::Published)
                .await?;
        }
        self.notify_all_members(
            &format!("published:{session_id}"),
            NoticeCategory::ResultsPublished,
            session_id,
            &format!("results of {session_id} are published"),
        )
        .await?;
        Ok(out)
    }

    /// Publishes a corrected version of an item (operator); the old version
    /// stays readable and the new one names it.
    pub async fn correct_publication(
        &self,
        actor: &Actor,
        id: &str,
        content: Value,
        note: String,
    ) -> Result<Record<Publication>> {
        require_operator(actor, "correct publications")?;
        if note.trim().is_empty() {
            return Err(MarketError::Invalid(voltex_model::Violations::one(
                "note",
                "required",
                "",
                "a correction must say what it corrects",
            )));
        }
        let current = self.get_or_404::<Publication>("publication", id).await?;
        let mut p = current.value.clone();
        p.content = content;
        p.corrects = Some(current.version);
        p.note = Some(note);
        p.published_at = Utc::now();
        Ok(self.store.append(&p, current.version).await?)
    }

    /// The items of a session the reader may see: the public ones for
    /// anyone (`None`), plus the all-members ones and its own for a member,
    /// everything for the operator.
    pub async fn publications(
        &self,
        reader: Option<&Actor>,
        session_id: &str,
    ) -> Result<Vec<Record<Publication>>> {
        self.session(session_id).await?;
        let all = self
            .store
            .list_prefixed::<Publication>(&format!("{session_id}:"))
            .await?;
        Ok(all
            .into_iter()
            .filter(|p| p.value.session_id == session_id && visible(reader, &p.value.audience))
            .collect())
    }

    /// One item with all its versions, if the reader may see it.
    pub async fn publication_history(
        &self,
        reader: Option<&Actor>,
        id: &str,
    ) -> Result<Vec<Record<Publication>>> {
        let history = self.store.history::<Publication>(id).await?;
        match history.last() {
            Some(p) if visible(reader, &p.value.audience) => Ok(history),
            _ => Err(MarketError::NotFound {
                what: "publication",
                id: id.to_owned(),
            }),
        }
    }
}

fn visible(reader: Option<&Actor>, audience: &Audience) -> bool {
    match (reader, audience) {
        (_, Audience::Public) => true,
        (Some(a), _) if a.is_operator() => true,
        (Some(_), Audience::AllMembers) => true,
        (Some(a), Audience::Member(m)) => &a.member_id == m,
        (None, _) => false,
    }
}

fn publication(
    session_id: &str,
    run_version: i64,
    name: &str,
    title: &str,
    audience: Audience,
    content: Value,
) -> Publication {
    let id = match &audience {
        Audience::Member(m) => format!("{session_id}:{name}:{m}"),
        _ => format!("{session_id}:{name}"),
    };
    Publication {
        id,
        session_id: session_id.to_owned(),
        item: name.to_owned(),
        title: title.to_owned(),
        audience,
        published_at: Utc::now(),
        source_run_version: run_version,
        corrects: None,
        note: None,
        content,
    }
}

/// The release of a regulation auction: the clearing per interval (public)
/// and each member's awards (private).
fn regulation_items(run: &RegulationRun, run_version: i64) -> Vec<Publication> {
    let (name, title) = match run.market {
        MarketKind::FrequencyRegulation => (
            "frequency_regulation_clearing",
            "Frequency regulation: requirement, awarded capacity (MW) and mileage clearing price (yuan/MW)",
        ),
        _ => (
            "peak_regulation_clearing",
            "Peak regulation: requirement, awarded capacity (MW) and clearing price (yuan/MWh)",
        ),
    };
    let public: Vec<Value> = run
        .intervals
        .iter()
        .map(|i| {
            json!({"interval": i.interval, "requirement_mw": i.requirement_mw,
                   "awarded_mw": i.awarded_mw, "shortfall_mw": i.shortfall_mw,
                   "clearing_price": i.clearing_price})
        })
        .collect();
    let mut items = vec![publication(
        &run.session_id,
        run_version,
        name,
        title,
        Audience::Public,
        json!(public),
    )];
    let mut members: Vec<&str> = run
        .intervals
        .iter()
        .flat_map(|i| i.awards.iter().map(|a| a.member_id.as_str()))
        .collect();
    members.sort();
    members.dedup();
    for m in members {
        let awards: Vec<Value> = run
            .intervals
            .iter()
            .flat_map(|i| {
                i.awards.iter().filter(|a| a.member_id == m).map(move |a| {
                    json!({"interval": i.interval, "unit_id": a.unit_id,
                           "awarded_mw": a.awarded_mw, "clearing_price": i.clearing_price})
                })
            })
            .collect();
        items.push(publication(
            &run.session_id,
            run_version,
            "own_regulation_awards",
            "Your regulation awards and their clearing prices",
            Audience::Member(m.to_owned()),
            json!(awards),
        ));
    }
    items
}

/// Everything released for one energy clearing run (the source's §4.2
/// list, as far as a DC energy market produces it).
fn release_items(run: &ClearingRun, run_version: i64, network: &Network) -> Vec<Publication> {
    let r = &run.result;
    let item = |name: &str, title: &str, audience: Audience, content: Value| {
        publication(&run.session_id, run_version, name, title, audience, content)
    };
    let mut items = Vec::new();

    // Public: prices, system load, binding constraints, security check.
    let prices: Vec<Value> = r
        .results
        .iter()
        .map(|i| {
            json!({
                "interval": i.interval,
                "buses": i.lmp.iter().map(|p| json!({
                    "bus": p.bus, "lmp": p.lmp_per_mwh, "energy": p.energy_per_mwh,
                    "congestion": p.congestion_per_mwh, "loss": p.loss_per_mwh,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    items.push(item(
        "nodal_prices",
        "Locational marginal prices (yuan/MWh) with energy, congestion and loss components",
        Audience::Public,
        json!({ "market": run.market, "intervals": prices }),
    ));
    let system_load: Vec<Value> = r
        .results
        .iter()
        .map(|i| {
            let bids: f64 = i.bids.iter().map(|b| b.served_mw).sum();
            let gen_mw: f64 = i.units.iter().map(|u| u.output_mw).sum();
            json!({"interval": i.interval, "fixed_load_mw": i.fixed_load_mw,
                   "bid_load_mw": bids, "generation_mw": gen_mw})
        })
        .collect();
    items.push(item(
        "system_load",
        "System load and total generation per interval (MW)",
        Audience::Public,
        json!(system_load),
    ));
    let binding: Vec<Value> = r
        .results
        .iter()
        .flat_map(|i| {
            let branches = i.branches.iter().filter(|b| b.binding).map(move |b| {
                json!({"interval": i.interval, "type": "branch",
                       "name": format!("{}-{}", b.from_bus, b.to_bus),
                       "flow_mw": b.flow_mw, "shadow_price": b.shadow_price_per_mwh})
            });
            let sections = i.sections.iter().filter(|s| s.binding).map(move |s| {
                json!({"interval": i.interval, "type": "section", "name": s.name,
                       "flow_mw": s.flow_mw, "shadow_price": s.shadow_price_per_mwh})
            });
            branches.chain(sections).collect::<Vec<_>>()
        })
        .collect();
    items.push(item(
        "binding_constraints",
        "Binding transmission constraints and their shadow prices",
        Audience::Public,
        json!(binding),
    ));
    let shortfall_mwh: f64 = r
        .results
        .iter()
        .flat_map(|i| i.shortfalls.iter().map(|s| s.mw))
        .sum::<f64>()
        * run.input.interval_minutes
        / 60.0;
    items.push(item(
        "security_check",
        "Security check of the dispatch",
        Audience::Public,
        json!({
            "status": r.status,
            "flow_limits_enforced": run.input.settings.enforce_branch_limits,
            "binding_branch_intervals": r.summary().binding_branch_intervals,
            "unserved_energy_mwh": shortfall_mwh,
            "warnings": run.warnings,
            "input_fingerprint": run.fingerprint,
        }),
    ));
    items.push(item(
        "maintenance_plans",
        "Equipment out of service and units not offered",
        Audience::Public,
        json!({
            "branches_out_of_service": network.branches.iter().enumerate()
                .filter(|(_, b)| !b.in_service)
                .map(|(k, b)| json!({"branch": k, "from_bus": b.from_bus, "to_bus": b.to_bus}))
                .collect::<Vec<_>>(),
            "units_off": run.input.units.iter()
                .filter(|u| !u.status.is_empty() && u.status.iter().all(|s| !s))
                .map(|u| u.id.clone()).collect::<Vec<_>>(),
        }),
    ));

    // All members: grid operation detail and security limits.
    let bus_load: Vec<Value> = run
        .input
        .bus_load_mw
        .iter()
        .flatten()
        .enumerate()
        .map(|(t, row)| {
            json!({"interval": t + 1, "buses": network.buses.iter().zip(row)
                .filter(|(_, mw)| **mw > 0.0)
                .map(|(b, mw)| json!({"bus": b.id, "mw": mw})).collect::<Vec<_>>()})
        })
        .collect();
    items.push(item(
        "bus_load",
        "Load per bus and interval (MW)",
        Audience::AllMembers,
        json!(bus_load),
    ));
    let unit_output: Vec<Value> = r
        .results
        .iter()
        .map(|i| {
            json!({"interval": i.interval, "units": i.units.iter()
                .map(|u| json!({"unit": u.unit, "bus": u.bus, "mw": u.output_mw}))
                .collect::<Vec<_>>()})
        })
        .collect();
    items.push(item(
        "unit_output",
        "Cleared output of every unit (MW)",
        Audience::AllMembers,
        json!(unit_output),
    ));
    let section_loads: Vec<Value> = r
        .results
        .iter()
        .map(|i| {
            json!({"interval": i.interval, "sections": i.sections.iter()
                .map(|s| json!({"name": s.name, "flow_mw": s.flow_mw, "limit_mw": s.limit_mw}))
                .collect::<Vec<_>>(),
                "tie_lines": network.tie_lines.iter().filter_map(|tl| {
                    i.branches.iter().find(|b| b.index == tl.branch)
                        .map(|b| json!({"name": tl.name, "flow_mw": b.flow_mw}))
                }).collect::<Vec<_>>()})
        })
        .collect();
    items.push(item(
        "section_and_tie_line_flows",
        "Important section loads and tie-line exchange (MW)",
        Audience::AllMembers,
        json!(section_loads),
    ));
    items.push(item(
        "security_limits",
        "Grid security constraints: section and equipment limits (MW)",
        Audience::AllMembers,
        json!({
            "sections": network.sections.iter()
                .map(|s| json!({"name": s.name, "limit_mw": s.limit_mw})).collect::<Vec<_>>(),
            "branches": network.branches.iter().enumerate()
                .filter_map(|(k, b)| b.thermal_limit_mw().map(|l| json!({
                    "branch": k, "from_bus": b.from_bus, "to_bus": b.to_bus, "limit_mw": l})))
                .collect::<Vec<_>>(),
        }),
    ));

    // Each member: its own dispatch and positions.
    let mut members: Vec<&str> = run.positions.iter().map(|p| p.member_id.as_str()).collect();
    members.sort();
    members.dedup();
    let hours = run.input.interval_minutes / 60.0;
    for m in members {
        let own: Vec<Value> = run
            .positions
            .iter()
            .filter(|p| p.member_id == m)
            .map(|p| {
                let sign = if p.kind == PositionKind::Generation {
                    1.0
                } else {
                    -1.0
                };
                let amount: f64 =
                    p.mw.iter()
                        .zip(&p.lmp)
                        .map(|(q, l)| sign * q * l * hours)
                        .sum();
                json!({"resource_id": p.resource_id, "kind": p.kind, "bus": p.bus,
                       "mw": p.mw, "lmp": p.lmp, "indicative_amount": amount})
            })
            .collect();
        items.push(item(
            "own_positions",
            "Your cleared dispatch and positions with their nodal prices",
            Audience::Member(m.to_owned()),
            json!(own),
        ));
    }
    items
}
