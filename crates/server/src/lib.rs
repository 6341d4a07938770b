//! voltex-server
