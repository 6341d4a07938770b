//! voltex-pricing
