//! Declarations by category, to and from CSV and E-files.
//!
//! One file holds one category (`DeclarationKind`) in a long ("tidy")
//! layout: one row per declaration, interval and segment. Intervals and
//! segments count from 1 in files (index 0 of `intervals` is interval 1).
//! The columns, in the order written (a reader accepts them in any order,
//! names compared without regard to ASCII case or surrounding blanks):
//!
//! | kind | columns |
//! | --- | --- |
//! | `energy_offer` | `session_id, member_id, unit_id, interval, segment, quantity_mw, price` |
//! | `demand_bid` | `session_id, member_id, resource_id, interval, quantity_mw, segment, segment_quantity_mw, price` |
//! | `frequency_regulation_offer` | `session_id, member_id, unit_id, interval, capacity_mw, mileage_price` |
//! | `peak_regulation_offer` | `session_id, member_id, unit_id, interval, capacity_mw, price` |
//! | `daily_extras` | `session_id, member_id, unit_id, expected_grid_connection, max_generating_capacity_mw, heat_supply_flow_t_per_h, emergency_min_mw` |
//!
//! - Rows of one declaration share `session_id`, `member_id` and the subject
//!   (`unit_id`, or `resource_id` for demand bids) and may come in any order
//!   and interleave with other declarations; declarations are returned in the
//!   order of their first row, intervals and segments sorted.
//! - Intervals run 1..=N and segments 1..=K within an interval, without gaps
//!   or repeats.
//! - An empty `interval` (with every column after it empty) is a declaration
//!   with no intervals, and must be its only row. An empty `segment` (with
//!   `quantity_mw`/`price` of an offer, or `segment_quantity_mw`/`price` of a
//!   bid, empty) is an interval with no segments, and must be its interval's
//!   only row.
//! - A demand bid's `quantity_mw` is the interval's total and is repeated on
//!   each segment row of the interval; the repeats must agree. An empty
//!   `resource_id` is a member-level bid (`resource_id: None`).
//! - Daily extras: one row per unit; `expected_grid_connection` is an RFC 3339
//!   timestamp (written in UTC, e.g. `2026-11-22T08:00:00Z`);
//!   `expected_grid_connection`, `heat_supply_flow_t_per_h` and
//!   `emergency_min_mw` may be empty (`None`).
//! - Numbers are written with Rust's shortest round-trip formatting, so they
//!   read back bit for bit; a reader accepts what `f64::from_str` accepts
//!   (`12.5`, `-3`, `1e3`) and refuses `12,5`, non-finite values and blanks
//!   where a number is required.
//!
//! CSV files (RFC 4180, UTF-8) start with a header row of the column names.
//! E-files carry a header `<! System=Voltex Version=1.0 Type=<kind>
//! Code=<encoding> !>` and one `<Declaration::<Kind> session='...'>` block per
//! session (`Kind` in CamelCase, e.g. `EnergyOffer`) whose `@` row holds the
//! same columns as the CSV layout. A reader checks `Type` if present, reads
//! every `Declaration` block (each of the expected kind, and every row's
//! `session_id` equal to the block's `session` attribute when it has one), and
//! skips blocks of other classes.
//!
//! Only structure and number syntax are checked here: whether a declaration
//! obeys the market's rules is for `voltex-market` to say. A reader returns
//! every declaration or an error naming the line — never part of a file.
//! docs/declaration-files.md describes the layouts for market members.

//!
//! The module is split by concern: `layout` holds each category's columns
//! (the table above, as data), `write` and `read` turn records into rows and
//! rows into records for both file types; the record type and the error are
//! here.

mod layout;
mod read;
mod write;

pub use layout::{EFILE_CLASS, columns, efile_entity};
pub use read::{read_csv, read_efile};
pub use write::{write_csv, write_efile};

use serde::{Deserialize, Serialize};
use voltex_model::declaration::{DeclarationBody, DeclarationKind};

use crate::efile::EFileError;

/// A declaration as imported or exported: who submitted it, for which
/// session, and what it says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeclarationRecord {
    pub member_id: String,
    pub session_id: String,
    pub body: DeclarationBody,
}

/// Why a declaration file could not be read. Lines count from 1; `column`
/// names the column of the layout (or, for a quote, the character position).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DeclarationFileError {
    #[error("the file is empty: a header row naming the columns is required ({expected})")]
    NoHeader { expected: String },
    #[error("line {line}: column {column} is missing (the {kind} columns are {expected})")]
    MissingColumn {
        line: usize,
        column: String,
        kind: DeclarationKind,
        expected: String,
    },
    #[error("line {line}: unexpected column {column:?} (the {kind} columns are {expected})")]
    UnexpectedColumn {
        line: usize,
        column: String,
        kind: DeclarationKind,
        expected: String,
    },
    #[error("line {line}: column {column} appears twice in the header")]
    DuplicateColumn { line: usize, column: String },
    #[error("line {line}: the row has {found} fields but the header has {expected}")]
    RowWidth {
        line: usize,
        expected: usize,
        found: usize,
    },
    #[error("line {line}, column {column}: the quote opened here is never closed")]
    UnterminatedQuote { line: usize, column: usize },
    #[error("line {line}, column {column}: {text:?} is not a number")]
    BadNumber {
        line: usize,
        column: String,
        text: String,
    },
    #[error("line {line}, column {column}: {text:?} is not a finite number")]
    NotFinite {
        line: usize,
        column: String,
        text: String,
    },
    #[error("line {line}, column {column}: {text:?} is not a whole number from 1 up")]
    BadIndex {
        line: usize,
        column: String,
        text: String,
    },
    #[error(
        "line {line}, column {column}: {text:?} is not an RFC 3339 timestamp such as 2026-11-22T08:00:00Z"
    )]
    BadTimestamp {
        line: usize,
        column: String,
        text: String,
    },
    #[error("line {line}, column {column}: a value is required")]
    MissingValue { line: usize, column: String },
    #[error("line {line}, column {column}: {rule}")]
    Inconsistent {
        line: usize,
        column: String,
        rule: String,
    },
    #[error(
        "line {line}: interval {interval} of {declaration} is missing (intervals run from 1 without gaps)"
    )]
    MissingInterval {
        line: usize,
        declaration: String,
        interval: usize,
    },
    #[error(
        "line {line}: segment {segment} of interval {interval} of {declaration} is missing (segments run from 1 without gaps)"
    )]
    MissingSegment {
        line: usize,
        declaration: String,
        interval: usize,
        segment: usize,
    },
    #[error("line {line}: a second row for {what} of {declaration}")]
    DuplicateRow {
        line: usize,
        declaration: String,
        what: String,
    },
    #[error("the file holds {found} declarations, not {expected} (header Type={found})")]
    WrongKind {
        expected: DeclarationKind,
        found: String,
    },
    #[error("line {line}: block <{tag}> does not belong here (expected <Declaration::{expected}>)")]
    WrongBlock {
        line: usize,
        tag: String,
        expected: &'static str,
    },
    #[error(
        "line {line}, column session_id: {found:?} differs from the block's session='{attribute}'"
    )]
    SessionMismatch {
        line: usize,
        attribute: String,
        found: String,
    },
    #[error("line {line}: {message}")]
    Csv { line: usize, message: String },
    #[error(transparent)]
    EFile(#[from] EFileError),
}

type Error = DeclarationFileError;

#[cfg(test)]
mod tests;
