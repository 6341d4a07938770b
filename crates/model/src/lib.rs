//! Voltex domain model: members, units and load resources, the power network,
//! trading days and intervals, markets and their sessions, market parameters
//! and declarations, with the invariants and validation rules that make them
//! legal. No I/O lives here: the store, the server and the CLI call into it.
//!
//! The names follow docs/glossary.md (offer, bid, interval, session, gate
//! closure, LMP, section).
pub mod calendar;
pub mod declaration;
pub mod error;
pub mod market;
pub mod member;
pub mod money;
pub mod network;
pub mod params;
pub mod resource;
pub mod validation;

pub use calendar::{CalendarError, Interval, MarketCalendar, TRADING_DAY_YEARS, TradingDay};
pub use declaration::{
    DailyExtras, DeclarationBody, DeclarationKind, DemandBidInterval, EnergyOfferInterval,
    OfferSegment, PeakRegulationInterval, RegulationInterval,
};
pub use error::{TransitionError, Violation, Violations};
pub use market::{MarketKind, MarketSession, SessionState};
pub use member::{Member, MemberKind, MemberStatus};
pub use params::MarketParameters;
pub use resource::{GeneratingUnit, LoadResource, Technology};
