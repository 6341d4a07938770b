//! Hostile-input properties of the three readers, beyond what
//! `matpower_proptest.rs`, `efile_proptest.rs` and `declaration_proptest.rs`
//! already hold (well-formed files round-trip; arbitrary text never panics
//! the MATPOWER and E-file readers):
//!
//! - the declaration readers (CSV and E-file, every kind) never panic on
//!   arbitrary or mangled input, and whatever they accept holds only finite
//!   numbers and writes back to a file that reads the same (a fixpoint);
//! - regulation offers and daily extras round-trip like energy offers do;
//! - `efile::try_write` keeps its promise on arbitrary files, not only on
//!   well-formed ones: it either refuses or writes bytes that read back
//!   as the same file;
//! - the MATPOWER reader never panics on the shipped cases with lines
//!   dropped, repeated or given hostile numbers (`1e999`, `NaN`, `-0`,
//!   20-digit integers), and what it accepts writes back to a fixpoint.
//!
//! Mangling is seeded by proptest, so a failure prints its input and
//! reproduces.

use std::path::Path;

use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use voltex_formats::declaration_io::{
    DeclarationRecord, read_csv, read_efile, write_csv, write_efile,
};
use voltex_formats::efile::{self, EBlock, EFile, Encoding};
use voltex_formats::matpower::{parse_case, write_case};
use voltex_model::declaration::{
    DailyExtras, DeclarationBody, DeclarationKind, DemandBidInterval, EnergyOfferInterval,
    OfferSegment, PeakRegulationInterval, RegulationInterval,
};

fn kind() -> impl Strategy<Value = DeclarationKind> {
    proptest::sample::select(DeclarationKind::ALL.to_vec())
}

/// Tokens that break parsers: separators, quotes, line ends, numbers that
/// overflow or are not finite, byte-order marks, comment starts.
const HOSTILE: &[&str] = &[
    ",",
    "\"",
    "\"\"",
    "'",
    "''",
    "\n",
    "\r\n",
    "\r",
    ";",
    "[",
    "]",
    "{",
    "}",
    "%",
    "//",
    "@",
    "#",
    "<",
    ">",
    "<!",
    "!>",
    "::",
    "=",
    "\u{feff}",
    "\u{3000}",
    "\u{0}",
    "1e999",
    "-1e999",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "Inf",
    "-0",
    "0x10",
    "18446744073709551616",
    "99999999999999999999",
    "-1",
    "0",
    "1.5.3",
    "1e",
    "+",
    "",
    " ",
    "\t",
    "\u{4e00}",
    "é",
];

fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(HOSTILE).prop_map(String::from),
        1 => "\\PC{0,6}",
    ]
}

/// One edit of a text: insert a hostile token, drop a line, repeat a line,
/// or replace a line by a hostile token. Positions are fractions of the
/// text, so any generated position lands inside it.
#[derive(Debug, Clone)]
enum Edit {
    Insert(f64, String),
    DropLine(f64),
    RepeatLine(f64),
    ReplaceLine(f64, String),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        3 => (0.0..1.0f64, hostile()).prop_map(|(at, s)| Edit::Insert(at, s)),
        1 => (0.0..1.0f64).prop_map(Edit::DropLine),
        1 => (0.0..1.0f64).prop_map(Edit::RepeatLine),
        1 => (0.0..1.0f64, hostile()).prop_map(|(at, s)| Edit::ReplaceLine(at, s)),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut text = text.to_string();
    for e in edits {
        match e {
            Edit::Insert(at, s) => {
                let mut i = ((text.len() as f64) * at) as usize;
                while !text.is_char_boundary(i) {
                    i -= 1;
                }
                text.insert_str(i, s);
            }
            Edit::DropLine(at) | Edit::RepeatLine(at) | Edit::ReplaceLine(at, _) => {
                let mut lines: Vec<String> = text.split('\n').map(String::from).collect();
                let i = (((lines.len() as f64) * at) as usize).min(lines.len() - 1);
                match e {
                    Edit::DropLine(_) => {
                        lines.remove(i);
                    }
                    Edit::RepeatLine(_) => lines.insert(i, lines[i].clone()),
                    Edit::ReplaceLine(_, s) => lines[i] = s.clone(),
                    Edit::Insert(..) => unreachable!(),
                }
                text = lines.join("\n");
            }
        }
    }
    text
}

fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        prop::num::f64::NORMAL | prop::num::f64::SUBNORMAL | prop::num::f64::ZERO,
        (-1000i32..1000).prop_map(|v| f64::from(v) / 4.0),
    ]
}

/// Identifiers with the characters that need quoting in CSV and E-files.
const ID: &str = "[a-zA-Z0-9\u{4e00}-\u{9fa5}][a-zA-Z0-9 ,'\"_\u{4e00}-\u{9fa5}-]{0,8}";
const SESSION: &str = "DA-2026-11-2[0-9]";

fn regulation_offer() -> impl Strategy<Value = DeclarationRecord> {
    (
        ID,
        SESSION,
        ID,
        proptest::collection::vec(
            (number(), number()).prop_map(|(capacity_mw, mileage_price)| RegulationInterval {
                capacity_mw,
                mileage_price,
            }),
            0..5,
        ),
    )
        .prop_map(
            |(member_id, session_id, unit_id, intervals)| DeclarationRecord {
                member_id,
                session_id,
                body: DeclarationBody::FrequencyRegulationOffer { unit_id, intervals },
            },
        )
}

fn peak_regulation_offer() -> impl Strategy<Value = DeclarationRecord> {
    (
        ID,
        SESSION,
        ID,
        proptest::collection::vec(
            (number(), number())
                .prop_map(|(capacity_mw, price)| PeakRegulationInterval { capacity_mw, price }),
            0..5,
        ),
    )
        .prop_map(
            |(member_id, session_id, unit_id, intervals)| DeclarationRecord {
                member_id,
                session_id,
                body: DeclarationBody::PeakRegulationOffer { unit_id, intervals },
            },
        )
}

/// A whole-second instant within the calendar's years (the writer uses
/// RFC 3339 in UTC).
fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    (946_684_800i64..7_258_118_400).prop_map(|s| Utc.timestamp_opt(s, 0).unwrap())
}

fn daily_extras() -> impl Strategy<Value = DeclarationRecord> {
    (
        ID,
        SESSION,
        ID,
        proptest::option::of(instant()),
        number(),
        proptest::option::of(number()),
        proptest::option::of(number()),
    )
        .prop_map(
            |(member_id, session_id, unit_id, connection, max, heat, emergency)| {
                DeclarationRecord {
                    member_id,
                    session_id,
                    body: DeclarationBody::DailyExtras(DailyExtras {
                        unit_id,
                        expected_grid_connection: connection,
                        max_generating_capacity_mw: max,
                        heat_supply_flow_t_per_h: heat,
                        emergency_min_mw: emergency,
                    }),
                }
            },
        )
}

/// Keeps the first record of each (session, member, subject).
fn distinct(records: Vec<DeclarationRecord>) -> Vec<DeclarationRecord> {
    let mut seen = std::collections::HashSet::new();
    records
        .into_iter()
        .filter(|r| {
            seen.insert((
                r.session_id.clone(),
                r.member_id.clone(),
                r.body.key("", ""),
            ))
        })
        .collect()
}

/// The records grouped by session in order of first appearance, as an
/// E-file (one block per session) reads them back.
fn by_session(records: &[DeclarationRecord]) -> Vec<DeclarationRecord> {
    let mut sessions: Vec<&str> = Vec::new();
    for r in records {
        if !sessions.contains(&r.session_id.as_str()) {
            sessions.push(&r.session_id);
        }
    }
    let mut out = records.to_vec();
    out.sort_by_key(|r| sessions.iter().position(|s| *s == r.session_id));
    out
}

fn check_round_trip(
    kind: DeclarationKind,
    records: &[DeclarationRecord],
) -> Result<(), TestCaseError> {
    let text = write_csv(kind, records);
    let back = read_csv(kind, &text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
    prop_assert_eq!(&back, records, "{}", text);
    for encoding in [Encoding::Utf8, Encoding::Gbk] {
        let bytes = write_efile(kind, records, encoding);
        let back = read_efile(kind, &bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&back, &by_session(records), "{:?}", encoding);
    }
    Ok(())
}

/// Every number a declaration holds.
fn numbers(body: &DeclarationBody) -> Vec<f64> {
    let segs = |s: &[OfferSegment]| -> Vec<f64> {
        s.iter().flat_map(|s| [s.quantity_mw, s.price]).collect()
    };
    match body {
        DeclarationBody::EnergyOffer { intervals, .. } => intervals
            .iter()
            .flat_map(|i: &EnergyOfferInterval| segs(&i.segments))
            .collect(),
        DeclarationBody::DemandBid { intervals, .. } => intervals
            .iter()
            .flat_map(|i: &DemandBidInterval| {
                let mut v = vec![i.quantity_mw];
                v.extend(segs(&i.segments));
                v
            })
            .collect(),
        DeclarationBody::FrequencyRegulationOffer { intervals, .. } => intervals
            .iter()
            .flat_map(|i| [i.capacity_mw, i.mileage_price])
            .collect(),
        DeclarationBody::PeakRegulationOffer { intervals, .. } => intervals
            .iter()
            .flat_map(|i| [i.capacity_mw, i.price])
            .collect(),
        DeclarationBody::DailyExtras(d) => [
            Some(d.max_generating_capacity_mw),
            d.heat_supply_flow_t_per_h,
            d.emergency_min_mw,
        ]
        .into_iter()
        .flatten()
        .collect(),
    }
}

/// What a reader accepted: every record of `kind`, every number finite.
fn check_accepted(
    kind: DeclarationKind,
    records: &[DeclarationRecord],
) -> Result<(), TestCaseError> {
    for r in records {
        prop_assert_eq!(r.body.kind(), kind);
        prop_assert!(
            numbers(&r.body).iter().all(|v| v.is_finite()),
            "non-finite number accepted: {:?}",
            r
        );
    }
    Ok(())
}

/// A small file of `kind` to mangle: one or two declarations of each
/// layout's shape (intervals, segments, optional cells).
fn sample(kind: DeclarationKind) -> Vec<DeclarationRecord> {
    let seg = |q, p| OfferSegment {
        quantity_mw: q,
        price: p,
    };
    let record = |member: &str, body| DeclarationRecord {
        member_id: member.into(),
        session_id: "DA-2026-11-22".into(),
        body,
    };
    match kind {
        DeclarationKind::EnergyOffer => vec![
            record(
                "gen1",
                DeclarationBody::EnergyOffer {
                    unit_id: "u1".into(),
                    intervals: vec![
                        EnergyOfferInterval {
                            segments: vec![seg(40.0, 280.5), seg(60.0, 320.0)],
                        },
                        EnergyOfferInterval { segments: vec![] },
                    ],
                },
            ),
            record(
                "华电 1",
                DeclarationBody::EnergyOffer {
                    unit_id: "u2".into(),
                    intervals: vec![],
                },
            ),
        ],
        DeclarationKind::DemandBid => vec![record(
            "load1",
            DeclarationBody::DemandBid {
                resource_id: Some("r1".into()),
                intervals: vec![
                    DemandBidInterval {
                        quantity_mw: 120.0,
                        segments: vec![seg(50.0, 400.0), seg(70.0, 300.0)],
                    },
                    DemandBidInterval {
                        quantity_mw: 80.0,
                        segments: vec![],
                    },
                ],
            },
        )],
        DeclarationKind::FrequencyRegulationOffer => vec![record(
            "gen1",
            DeclarationBody::FrequencyRegulationOffer {
                unit_id: "u1".into(),
                intervals: vec![
                    RegulationInterval {
                        capacity_mw: 10.0,
                        mileage_price: 6.5,
                    };
                    3
                ],
            },
        )],
        DeclarationKind::PeakRegulationOffer => vec![record(
            "gen1",
            DeclarationBody::PeakRegulationOffer {
                unit_id: "u1".into(),
                intervals: vec![
                    PeakRegulationInterval {
                        capacity_mw: 25.0,
                        price: 150.0,
                    };
                    3
                ],
            },
        )],
        DeclarationKind::DailyExtras => vec![
            record(
                "gen1",
                DeclarationBody::DailyExtras(DailyExtras {
                    unit_id: "u1".into(),
                    expected_grid_connection: Some(
                        Utc.with_ymd_and_hms(2026, 11, 22, 8, 0, 0).unwrap(),
                    ),
                    max_generating_capacity_mw: 300.0,
                    heat_supply_flow_t_per_h: Some(12.5),
                    emergency_min_mw: None,
                }),
            ),
            record(
                "gen2",
                DeclarationBody::DailyExtras(DailyExtras {
                    unit_id: "u9".into(),
                    expected_grid_connection: None,
                    max_generating_capacity_mw: 80.0,
                    heat_supply_flow_t_per_h: None,
                    emergency_min_mw: Some(20.0),
                }),
            ),
        ],
    }
}

/// Checks what the CSV reader makes of `text`: a typed error, or records
/// that are well-formed and write back to a file that reads the same.
fn check_csv_reader(kind: DeclarationKind, text: &str) -> Result<(), TestCaseError> {
    if let Ok(records) = read_csv(kind, text) {
        check_accepted(kind, &records)?;
        let again = write_csv(kind, &records);
        let back =
            read_csv(kind, &again).map_err(|e| TestCaseError::fail(format!("{e}\n{again}")))?;
        prop_assert_eq!(back, records, "rewritten:\n{}", again);
    }
    Ok(())
}

/// The same for the E-file reader (rewritten in UTF-8, so any text it
/// accepted can be written without character references).
fn check_efile_reader(kind: DeclarationKind, bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(records) = read_efile(kind, bytes) {
        check_accepted(kind, &records)?;
        let again = write_efile(kind, &records, Encoding::Utf8);
        let back = read_efile(kind, &again).map_err(|e| {
            TestCaseError::fail(format!("{e}\n{}", String::from_utf8_lossy(&again)))
        })?;
        prop_assert_eq!(back, by_session(&records));
    }
    Ok(())
}

const EFILE_SPECIALS: &[&str] = &[
    " ", "\t", "\u{3000}", "\u{a0}", "'", "''", ">", "<", "//", "/", "!>", "<!", "::", ":", "=",
    "@", "#", "\n", "\r", "\u{0}", "\u{feff}", "华", "é", "&#8364;",
];

/// Strings with every character class the E-file writer must quote or
/// refuse: blanks of all kinds, quotes, `>`, `//`, `!>`, `::`, `=`, line
/// breaks, `@`/`#` at the start, CJK, control characters.
fn efile_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            3 => "[a-zA-Z0-9_.-]{1,4}",
            2 => proptest::sample::select(EFILE_SPECIALS).prop_map(String::from),
        ],
        0..4,
    )
    .prop_map(|parts| parts.concat())
}

fn arbitrary_block() -> impl Strategy<Value = EBlock> {
    (
        efile_text(),
        efile_text(),
        proptest::collection::vec((efile_text(), efile_text()), 0..2),
        proptest::collection::vec(efile_text(), 0..3),
    )
        .prop_flat_map(|(class, entity, attributes, columns)| {
            let width = columns.len();
            let rows = proptest::collection::vec(
                proptest::collection::vec(efile_text(), width..=width),
                0..3,
            );
            (
                Just(class),
                Just(entity),
                Just(attributes),
                Just(columns),
                rows,
            )
        })
        .prop_map(|(class, entity, attributes, columns, rows)| EBlock {
            class,
            entity,
            attributes,
            columns,
            rows,
        })
}

fn arbitrary_efile() -> impl Strategy<Value = EFile> {
    (
        proptest::collection::vec((efile_text(), efile_text()), 0..3),
        proptest::collection::vec(arbitrary_block(), 0..3),
    )
        .prop_map(|(header, blocks)| EFile { header, blocks })
}

fn shipped_case(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/cases")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const SHIPPED_CASES: [&str; 3] = [
    "pglib_opf_case5_pjm.m",
    "pglib_opf_case14_ieee.m",
    "pglib_opf_case30_ieee.m",
];

/// Numbers a MATPOWER matrix cell may be replaced with.
const HOSTILE_NUMBERS: &[&str] = &[
    "1e999",
    "-1e999",
    "NaN",
    "Inf",
    "-Inf",
    "-0",
    "0",
    "-1",
    "99999999999999999999",
    "4294967296",
    "1.5e-320",
    "2.5",
    "1e",
    "--1",
    "0x1F",
    "",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn regulation_offers_and_daily_extras_round_trip_through_csv_and_efiles(
        frequency in proptest::collection::vec(regulation_offer(), 0..4),
        peak in proptest::collection::vec(peak_regulation_offer(), 0..4),
        extras in proptest::collection::vec(daily_extras(), 0..4),
    ) {
        check_round_trip(DeclarationKind::FrequencyRegulationOffer, &distinct(frequency))?;
        check_round_trip(DeclarationKind::PeakRegulationOffer, &distinct(peak))?;
        check_round_trip(DeclarationKind::DailyExtras, &distinct(extras))?;
    }

    #[test]
    fn declaration_readers_never_panic_on_arbitrary_text(kind in kind(), text in "\\PC{0,300}") {
        check_csv_reader(kind, &text)?;
        check_efile_reader(kind, text.as_bytes())?;
    }

    #[test]
    fn declaration_csv_reader_never_panics_on_csv_shaped_noise(
        kind in kind(),
        text in "[a-z_0-9,\"\n\r .eE+-]{0,300}",
    ) {
        // Headers appear in any order and case, so start from a real one.
        let header = voltex_formats::declaration_io::columns(kind).join(",");
        check_csv_reader(kind, &format!("{header}\n{text}"))?;
    }

    #[test]
    fn declaration_efile_reader_never_panics_on_arbitrary_bytes(
        kind in kind(),
        bytes in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        check_efile_reader(kind, &bytes)?;
    }

    #[test]
    fn mangled_declaration_files_are_refused_or_read_to_a_fixpoint(
        kind in kind(),
        edits in proptest::collection::vec(edit(), 1..4),
    ) {
        let records = sample(kind);
        let csv = apply(&write_csv(kind, &records), &edits);
        check_csv_reader(kind, &csv)?;
        let efile = String::from_utf8(write_efile(kind, &records, Encoding::Utf8)).unwrap();
        check_efile_reader(kind, apply(&efile, &edits).as_bytes())?;
    }

    #[test]
    fn mangled_gbk_declaration_files_are_refused_or_read_to_a_fixpoint(
        kind in kind(),
        flips in proptest::collection::vec((0.0..1.0f64, any::<u8>()), 1..4),
    ) {
        let mut bytes = write_efile(kind, &sample(kind), Encoding::Gbk);
        for (at, b) in flips {
            let i = ((bytes.len() as f64) * at) as usize;
            let last = bytes.len() - 1;
            bytes[i.min(last)] = b;
        }
        check_efile_reader(kind, &bytes)?;
    }

    #[test]
    fn efile_try_write_refuses_or_writes_what_reads_back_for_any_file(
        file in arbitrary_efile(),
        gbk in any::<bool>(),
    ) {
        let encoding = if gbk { Encoding::Gbk } else { Encoding::Utf8 };
        if let Ok(bytes) = efile::try_write(&file, encoding) {
            let back = efile::parse(&bytes).map_err(|e| {
                TestCaseError::fail(format!("{e}\n{}", String::from_utf8_lossy(&bytes)))
            })?;
            prop_assert_eq!(back, file, "written:\n{}", String::from_utf8_lossy(&bytes));
        }
    }

    #[test]
    fn mangled_efiles_that_read_write_back_to_the_same_file(
        kind in kind(),
        edits in proptest::collection::vec(edit(), 1..4),
    ) {
        let text = String::from_utf8(write_efile(kind, &sample(kind), Encoding::Utf8)).unwrap();
        if let Ok(file) = efile::parse(apply(&text, &edits).as_bytes())
            && let Ok(bytes) = efile::try_write(&file, Encoding::Utf8)
        {
            prop_assert_eq!(efile::parse(&bytes).unwrap(), file);
        }
    }

    #[test]
    fn mangled_shipped_matpower_cases_are_refused_or_read_to_a_fixpoint(
        case in proptest::sample::select(SHIPPED_CASES.to_vec()),
        edits in proptest::collection::vec(edit(), 0..3),
        numbers in proptest::collection::vec(
            (0.0..1.0f64, proptest::sample::select(HOSTILE_NUMBERS)),
            0..3,
        ),
    ) {
        let mut text = shipped_case(case);
        // Replace the number that starts after a random position.
        for (at, with) in numbers {
            let mut i = ((text.len() as f64) * at) as usize;
            while !text.is_char_boundary(i) {
                i -= 1;
            }
            if let Some(start) = text[i..].find(|c: char| c.is_ascii_digit()).map(|s| s + i) {
                let len = text[start..]
                    .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-')))
                    .unwrap_or(text.len() - start);
                text.replace_range(start..start + len, with);
            }
        }
        let text = apply(&text, &edits);
        if let Ok(parsed) = parse_case(&text) {
            // NaN != NaN, so compare what is written rather than the values.
            let written = write_case(&parsed);
            let again = parse_case(&written)
                .map_err(|e| TestCaseError::fail(format!("{e}\n{written}")))?;
            prop_assert_eq!(write_case(&again), written);
        }
    }
}
