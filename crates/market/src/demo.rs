//! Demo market (filled in below).
