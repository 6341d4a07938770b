//! MATPOWER case files (owned by the clearing work; placeholder).
