//! voltex-store
