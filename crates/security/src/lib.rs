//! voltex-security
