//! voltex-clearing: the market clearing engine. It turns a network, step
//! offers, demand bids and fixed loads for T intervals into dispatch and
//! locational marginal prices by multi-interval DC optimal power flow
//! (security-constrained economic dispatch with the unit commitment given),
//! solved with HiGHS using PTDF rows added by constraint generation.
//!
//! Entry points: build a [`ClearingInput`] (directly, from JSON, or from a
//! MATPOWER case with [`ClearingInput::from_case`]) and call [`clear`]. The
//! formulation, units and price rules are documented in docs/clearing.md.
//! With [`SecuritySettings`] the dispatch is N-1 secure (post-contingency
//! rows from PTDF and LODF, added lazily); [`uc`] commits units by MILP
//! (SCUC) and prices the fixed commitment.
//! This crate reads no files except through [`load_shape`], [`uc::pglib`] and
//! the result writers, and holds no market workflow (that is voltex-market).

pub mod bench;
pub mod crosscheck;
pub mod dcnet;
pub mod engine;
pub mod error;
pub mod input;
pub mod load_shape;
pub mod offers;
pub mod result;
pub mod uc;

pub use engine::{clear, clear_with_progress};
pub use error::{ClearingError, InputProblem};
pub use input::{
    BidSegment, BranchSet, ClearingInput, ClearingSettings, CostMode, DemandBid, EmergencyRating,
    FromCaseOptions, OfferSegment, QuadraticCost, SecuritySettings, Unit,
};
pub use result::{ClearingResult, Summary};
