//! voltex-clearing
