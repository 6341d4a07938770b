//! voltex-analytics
