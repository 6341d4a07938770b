//! Declarations: what members submit to a session before gate closure.
//!
//! Energy offers are monotone non-decreasing step curves, one per interval of
//! the trading day, each of 1..=10 segments whose widths stack from 0 MW.
//! Demand bids give a quantity per interval, optionally split into
//! price–quantity segments (non-increasing willingness to pay). Regulation
//! offers give capacity and price per interval; daily extras carry the unit's
//! declared facts for the day.
use serde::{Deserialize, Serialize};
use std::fmt;

/// One step of a curve: `quantity_mw` wide, at `price` (yuan/MWh).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OfferSegment {
    pub quantity_mw: f64,
    pub price: f64,
}

/// An energy offer for one interval: segments in order of increasing price.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EnergyOfferInterval {
    pub segments: Vec<OfferSegment>,
}

/// A demand bid for one interval. With no segments the buyer takes
/// `quantity_mw` at any price; with segments, they split the quantity by
/// willingness to pay (prices non-increasing) and must sum to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DemandBidInterval {
    pub quantity_mw: f64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<OfferSegment>,
}

/// Frequency-regulation offer for one interval: capacity and mileage price (yuan/MW).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RegulationInterval {
    pub capacity_mw: f64,
    pub mileage_price: f64,
}

/// Peak-regulation offer for one interval: capacity below the unit's normal
/// minimum that it offers to provide, and its price (yuan/MWh).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PeakRegulationInterval {
    pub capacity_mw: f64,
    pub price: f64,
}

/// A unit's declared facts for the trading day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DailyExtras {
    pub unit_id: String,
    #[serde(default)]
    pub expected_grid_connection: Option<chrono::DateTime<chrono::Utc>>,
    pub max_generating_capacity_mw: f64,
    #[serde(default)]
    pub heat_supply_flow_t_per_h: Option<f64>,
    #[serde(default)]
    pub emergency_min_mw: Option<f64>,
}

/// What a declaration says; `kind` tags it in JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum DeclarationBody {
    EnergyOffer {
        unit_id: String,
        intervals: Vec<EnergyOfferInterval>,
    },
    DemandBid {
        /// The load resource bid for; absent for a member-level bid.
        #[serde(default)]
        resource_id: Option<String>,
        intervals: Vec<DemandBidInterval>,
    },
    FrequencyRegulationOffer {
        unit_id: String,
        intervals: Vec<RegulationInterval>,
    },
    PeakRegulationOffer {
        unit_id: String,
        intervals: Vec<PeakRegulationInterval>,
    },
    DailyExtras(DailyExtras),
}

/// The kinds of declaration, as stored and filtered on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeclarationKind {
    EnergyOffer,
    DemandBid,
    FrequencyRegulationOffer,
    PeakRegulationOffer,
    DailyExtras,
}

impl DeclarationKind {
    /// Every kind, in declaration order.
    pub const ALL: [DeclarationKind; 5] = [
        DeclarationKind::EnergyOffer,
        DeclarationKind::DemandBid,
        DeclarationKind::FrequencyRegulationOffer,
        DeclarationKind::PeakRegulationOffer,
        DeclarationKind::DailyExtras,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeclarationKind::EnergyOffer => "energy_offer",
            DeclarationKind::DemandBid => "demand_bid",
            DeclarationKind::FrequencyRegulationOffer => "frequency_regulation_offer",
            DeclarationKind::PeakRegulationOffer => "peak_regulation_offer",
            DeclarationKind::DailyExtras => "daily_extras",
        }
    }
}

impl fmt::Display for DeclarationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl DeclarationBody {
    pub fn kind(&self) -> DeclarationKind {
        match self {
            DeclarationBody::EnergyOffer { .. } => DeclarationKind::EnergyOffer,
            DeclarationBody::DemandBid { .. } => DeclarationKind::DemandBid,
            DeclarationBody::FrequencyRegulationOffer { .. } => {
                DeclarationKind::FrequencyRegulationOffer
            }
            DeclarationBody::PeakRegulationOffer { .. } => DeclarationKind::PeakRegulationOffer,
            DeclarationBody::DailyExtras(_) => DeclarationKind::DailyExtras,
        }
    }

    /// The generating unit the declaration is for, if any.
    pub fn unit_id(&self) -> Option<&str> {
        match self {
            DeclarationBody::EnergyOffer { unit_id, .. }
            | DeclarationBody::FrequencyRegulationOffer { unit_id, .. }
            | DeclarationBody::PeakRegulationOffer { unit_id, .. } => Some(unit_id),
            DeclarationBody::DailyExtras(x) => Some(&x.unit_id),
            DeclarationBody::DemandBid { .. } => None,
        }
    }

    /// The load resource a demand bid is for, if any.
    pub fn resource_id(&self) -> Option<&str> {
        match self {
            DeclarationBody::DemandBid { resource_id, .. } => resource_id.as_deref(),
            _ => None,
        }
    }

    /// What the declaration is about: a unit, a load resource, or (for a
    /// member-level bid) the member itself. A resubmission for the same
    /// session, kind and subject supersedes the earlier version.
    pub fn subject<'a>(&'a self, member_id: &'a str) -> &'a str {
        self.unit_id()
            .or_else(|| self.resource_id())
            .unwrap_or(member_id)
    }

    /// Stable key of the declaration's version history.
    pub fn key(&self, session_id: &str, member_id: &str) -> String {
        format!("{session_id}:{}:{}", self.kind(), self.subject(member_id))
    }

    /// Number of interval entries (0 for daily extras).
    pub fn interval_len(&self) -> usize {
        match self {
            DeclarationBody::EnergyOffer { intervals, .. } => intervals.len(),
            DeclarationBody::DemandBid { intervals, .. } => intervals.len(),
            DeclarationBody::FrequencyRegulationOffer { intervals, .. } => intervals.len(),
            DeclarationBody::PeakRegulationOffer { intervals, .. } => intervals.len(),
            DeclarationBody::DailyExtras(_) => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn energy_offer_json_is_tagged_by_kind() {
        let json = r#"{"kind":"energy_offer","unit_id":"u1","intervals":[{"segments":[{"quantity_mw":10,"price":300}]}]}"#;
        let body: DeclarationBody = serde_json::from_str(json).unwrap();
        assert_eq!(body.kind(), DeclarationKind::EnergyOffer);
        assert_eq!(
            body.key("DA-2026-11-22", "gen1"),
            "DA-2026-11-22:energy_offer:u1"
        );
    }

    #[test]
    fn rejects_unknown_fields_in_declarations() {
        let json = r#"{"kind":"energy_offer","unit_id":"u1","intervals":[],"colour":"red"}"#;
        assert!(serde_json::from_str::<DeclarationBody>(json).is_err());
        let json = r#"{"kind":"energy_offer","unit_id":"u1","intervals":[{"segments":[{"quantity_mw":1,"price":1,"x":2}]}]}"#;
        assert!(serde_json::from_str::<DeclarationBody>(json).is_err());
    }

    #[test]
    fn member_level_bid_is_keyed_by_member() {
        let body = DeclarationBody::DemandBid {
            resource_id: None,
            intervals: vec![],
        };
        assert_eq!(
            body.key("DA-2026-11-22", "ret1"),
            "DA-2026-11-22:demand_bid:ret1"
        );
    }
}
