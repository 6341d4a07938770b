//! voltex-model
