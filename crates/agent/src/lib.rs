//! voltex-agent
