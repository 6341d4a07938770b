//! voltex-formats
