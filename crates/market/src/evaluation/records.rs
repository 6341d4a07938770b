//! What the evaluation stores: cost-based reference levels registered by
//! the operator, outage notices (which excuse declared capacity below the
//! registered one), and alerts with their evidence. Tables in
//! crates/store/migrations/0009_market_evaluation.sql.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use voltex_analytics::market_power::Step;
use voltex_analytics::market_power::conduct::{ConductScreen, ReferenceCurve};
use voltex_model::TradingDay;
use voltex_store::Entity;

/// Where a unit's reference level comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReferenceBasis {
    /// Registered by the operator from the unit's verified costs.
    Cost,
    /// The median of the unit's own offers in competitive intervals.
    Offers,
}

/// A unit's cost-based reference level: price by output, steps stacked from
/// 0 MW (¥/MWh). One record per unit; a new version replaces it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReferenceLevel {
    pub unit_id: String,
    /// The unit's owner (filled in from the registry).
    #[serde(default)]
    pub member_id: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub steps: Vec<Step>,
    /// Where the costs come from (fuel contract, heat-rate test, ...).
    #[serde(default)]
    pub source: String,
}

impl ReferenceLevel {
    pub fn curve(&self) -> ReferenceCurve {
        ReferenceCurve {
            steps: self.steps.clone(),
        }
    }
}

impl Entity for ReferenceLevel {
    const TABLE: &'static str = "reference_levels";
    const NAME: &'static str = "reference level";
    const SENSITIVE: bool = true; // a unit's costs
    const OWNED: bool = true;
    fn entity_id(&self) -> String {
        self.unit_id.clone()
    }
    fn owner(&self) -> Option<&str> {
        Some(&self.member_id)
    }
}

/// A planned or forced outage of part of a unit on a trading day: the MW
/// that may be missing from its declared availability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OutageNotice {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub trading_day: TradingDay,
    pub unit_id: String,
    #[serde(default)]
    pub member_id: String,
    pub outage_mw: f64,
    pub reason: String,
}

impl OutageNotice {
    pub fn id_for(day: TradingDay, unit_id: &str) -> String {
        format!("{}:{unit_id}", day.format("%Y-%m-%d"))
    }
}

impl Entity for OutageNotice {
    const TABLE: &'static str = "outage_notices";
    const NAME: &'static str = "outage notice";
    const SENSITIVE: bool = true; // a unit's availability is commercially sensitive
    const OWNED: bool = true;
    fn entity_id(&self) -> String {
        Self::id_for(self.trading_day, &self.unit_id)
    }
    fn owner(&self) -> Option<&str> {
        Some(&self.member_id)
    }
}

/// What an alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// Offers above reference by more than the conduct threshold.
    Conduct,
    /// Conduct and impact thresholds both crossed.
    MitigationEligible,
    EconomicWithholding,
    PhysicalWithholding,
    OfferChange,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Conduct => "conduct",
            AlertKind::MitigationEligible => "mitigation_eligible",
            AlertKind::EconomicWithholding => "economic_withholding",
            AlertKind::PhysicalWithholding => "physical_withholding",
            AlertKind::OfferChange => "offer_change",
        }
    }
}

/// An interval's offer with its screen, as evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OfferEvidence {
    pub interval: usize,
    /// The offer above pmin as cleared.
    pub offer: Vec<Step>,
    pub screen: Option<ConductScreen>,
}

/// The re-clear's prices at the unit's bus, as evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReclearEvidence {
    pub bus: u32,
    /// (interval, LMP as cleared, LMP with the flagged offers mitigated).
    pub lmp: Vec<(usize, f64, f64)>,
    pub consumer_cost_change: f64,
}

/// Everything an alert rests on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AlertEvidence {
    pub reference_basis: Option<ReferenceBasis>,
    pub reference: Option<ReferenceCurve>,
    pub offers: Vec<OfferEvidence>,
    pub reclear: Option<ReclearEvidence>,
    /// Figures of the withholding and offer-change indicators.
    #[serde(default)]
    pub figures: serde_json::Value,
}

/// One alert of the market monitor on one unit and day; visible to the
/// operator and auditors only. Id `<day>:<kind>:<unit>`; a re-run of the
/// evaluation appends a new version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarketAlert {
    pub trading_day: TradingDay,
    pub session_id: String,
    pub kind: AlertKind,
    pub member_id: String,
    pub unit_id: String,
    /// 1-based intervals concerned (empty for a day-level indicator).
    pub intervals: Vec<usize>,
    pub finding: String,
    pub evidence: AlertEvidence,
    pub raised_at: DateTime<Utc>,
}

impl MarketAlert {
    pub fn id_for(day: TradingDay, kind: AlertKind, unit_id: &str) -> String {
        format!("{}:{}:{unit_id}", day.format("%Y-%m-%d"), kind.as_str())
    }
}

impl Entity for MarketAlert {
    const TABLE: &'static str = "market_alerts";
    const NAME: &'static str = "market alert";
    const SENSITIVE: bool = true; // quotes offers and reference costs
    const OWNED: bool = true;
    fn entity_id(&self) -> String {
        Self::id_for(self.trading_day, self.kind, &self.unit_id)
    }
    fn owner(&self) -> Option<&str> {
        Some(&self.member_id)
    }
}
