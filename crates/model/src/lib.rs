//! Voltex domain model: members, units, network, trading days and intervals,
//! declarations, market sessions and their invariants. No I/O lives here.
pub mod network;
