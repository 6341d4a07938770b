//! The layout of each declaration category's files: its columns in the
//! order written, its subject column, whether rows carry intervals and
//! segments, and which columns hold numbers (required, per interval, per
//! segment or optional). Readers and writers take everything they know about
//! a category from here; nothing here reads or writes.

use voltex_model::declaration::DeclarationKind;

/// What one category's file looks like.
#[derive(Debug)]
pub(super) struct Layout {
    pub(super) kind: DeclarationKind,
    pub(super) columns: &'static [&'static str],
    /// `unit_id`, or `resource_id` (optional) for demand bids.
    pub(super) subject: &'static str,
    /// Whether rows carry `interval` (all but daily extras) and `segment`.
    pub(super) intervals: bool,
    pub(super) segments: bool,
    /// Required when `interval` is given, empty when it is not.
    pub(super) interval_numbers: &'static [&'static str],
    /// Required when `segment` is given, empty when it is not.
    pub(super) segment_numbers: &'static [&'static str],
    /// Required on every row (daily extras).
    pub(super) row_numbers: &'static [&'static str],
    /// Optional on every row (daily extras).
    pub(super) optional_numbers: &'static [&'static str],
}

const ENERGY_OFFER: Layout = Layout {
    kind: DeclarationKind::EnergyOffer,
    columns: &[
        "session_id",
        "member_id",
        "unit_id",
        "interval",
        "segment",
        "quantity_mw",
        "price",
    ],
    subject: "unit_id",
    intervals: true,
    segments: true,
    interval_numbers: &[],
    segment_numbers: &["quantity_mw", "price"],
    row_numbers: &[],
    optional_numbers: &[],
};

const DEMAND_BID: Layout = Layout {
    kind: DeclarationKind::DemandBid,
    columns: &[
        "session_id",
        "member_id",
        "resource_id",
        "interval",
        "quantity_mw",
        "segment",
        "segment_quantity_mw",
        "price",
    ],
    subject: "resource_id",
    intervals: true,
    segments: true,
    interval_numbers: &["quantity_mw"],
    segment_numbers: &["segment_quantity_mw", "price"],
    row_numbers: &[],
    optional_numbers: &[],
};

const FREQUENCY_REGULATION_OFFER: Layout = Layout {
    kind: DeclarationKind::FrequencyRegulationOffer,
    columns: &[
        "session_id",
        "member_id",
        "unit_id",
        "interval",
        "capacity_mw",
        "mileage_price",
    ],
    subject: "unit_id",
    intervals: true,
    segments: false,
    interval_numbers: &["capacity_mw", "mileage_price"],
    segment_numbers: &[],
    row_numbers: &[],
    optional_numbers: &[],
};

const PEAK_REGULATION_OFFER: Layout = Layout {
    kind: DeclarationKind::PeakRegulationOffer,
    columns: &[
        "session_id",
        "member_id",
        "unit_id",
        "interval",
        "capacity_mw",
        "price",
    ],
    subject: "unit_id",
    intervals: true,
    segments: false,
    interval_numbers: &["capacity_mw", "price"],
    segment_numbers: &[],
    row_numbers: &[],
    optional_numbers: &[],
};

const DAILY_EXTRAS: Layout = Layout {
    kind: DeclarationKind::DailyExtras,
    columns: &[
        "session_id",
        "member_id",
        "unit_id",
        "expected_grid_connection",
        "max_generating_capacity_mw",
        "heat_supply_flow_t_per_h",
        "emergency_min_mw",
    ],
    subject: "unit_id",
    intervals: false,
    segments: false,
    interval_numbers: &[],
    segment_numbers: &[],
    row_numbers: &["max_generating_capacity_mw"],
    optional_numbers: &["heat_supply_flow_t_per_h", "emergency_min_mw"],
};

pub(super) fn layout(kind: DeclarationKind) -> &'static Layout {
    match kind {
        DeclarationKind::EnergyOffer => &ENERGY_OFFER,
        DeclarationKind::DemandBid => &DEMAND_BID,
        DeclarationKind::FrequencyRegulationOffer => &FREQUENCY_REGULATION_OFFER,
        DeclarationKind::PeakRegulationOffer => &PEAK_REGULATION_OFFER,
        DeclarationKind::DailyExtras => &DAILY_EXTRAS,
    }
}

/// The columns of `kind`'s files, in the order they are written.
pub fn columns(kind: DeclarationKind) -> &'static [&'static str] {
    layout(kind).columns
}

/// The entity of `kind`'s E-file blocks: `<Declaration::EnergyOffer>` etc.
pub fn efile_entity(kind: DeclarationKind) -> &'static str {
    match kind {
        DeclarationKind::EnergyOffer => "EnergyOffer",
        DeclarationKind::DemandBid => "DemandBid",
        DeclarationKind::FrequencyRegulationOffer => "FrequencyRegulationOffer",
        DeclarationKind::PeakRegulationOffer => "PeakRegulationOffer",
        DeclarationKind::DailyExtras => "DailyExtras",
    }
}

/// The class of declaration blocks in E-files.
pub const EFILE_CLASS: &str = "Declaration";
