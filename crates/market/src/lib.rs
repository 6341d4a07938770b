//! voltex-market
