//! Declaration files as a member would exchange them: every category
//! round-trips through CSV and E-file (UTF-8 and GBK, Chinese names
//! included), and malformed files are refused with the line at fault.

use chrono::{TimeZone, Utc};
use voltex_formats::declaration_io::{
    DeclarationFileError, DeclarationRecord, read_csv, read_efile, write_csv, write_efile,
};
use voltex_formats::efile::{EFileError, Encoding};
use voltex_model::declaration::{
    DailyExtras, DeclarationBody, DeclarationKind, DemandBidInterval, EnergyOfferInterval,
    OfferSegment, PeakRegulationInterval, RegulationInterval,
};

fn record(member: &str, session: &str, body: DeclarationBody) -> DeclarationRecord {
    DeclarationRecord {
        member_id: member.into(),
        session_id: session.into(),
        body,
    }
}

fn seg(quantity_mw: f64, price: f64) -> OfferSegment {
    OfferSegment { quantity_mw, price }
}

/// A few declarations of every kind, with Chinese member names, a member
/// name with a space and a comma, an interval without segments, a bid
/// without segments, a member-level bid and empty optional fields.
fn samples() -> Vec<DeclarationRecord> {
    let s1 = "DA-2026-11-22";
    let s2 = "DA-2026-11-23";
    vec![
        record(
            "华能电厂",
            s1,
            DeclarationBody::EnergyOffer {
                unit_id: "1号机".into(),
                intervals: vec![
                    EnergyOfferInterval {
                        segments: vec![seg(100.0, 280.5), seg(50.0, 0.1 + 0.2)],
                    },
                    EnergyOfferInterval { segments: vec![] },
                    EnergyOfferInterval {
                        segments: vec![seg(1e-7, -12.0)],
                    },
                ],
            },
        ),
        record(
            "gen, one",
            s2,
            DeclarationBody::EnergyOffer {
                unit_id: "u 2".into(),
                intervals: vec![EnergyOfferInterval {
                    segments: vec![seg(1.0 / 3.0, 1e21)],
                }],
            },
        ),
        record(
            "售电公司",
            s1,
            DeclarationBody::DemandBid {
                resource_id: Some("负荷A".into()),
                intervals: vec![
                    DemandBidInterval {
                        quantity_mw: 10.0,
                        segments: vec![seg(6.0, 400.0), seg(4.0, 350.25)],
                    },
                    DemandBidInterval {
                        quantity_mw: 8.5,
                        segments: vec![],
                    },
                ],
            },
        ),
        record(
            "售电公司",
            s1,
            DeclarationBody::DemandBid {
                resource_id: None,
                intervals: vec![DemandBidInterval {
                    quantity_mw: 3.0,
                    segments: vec![],
                }],
            },
        ),
        record(
            "华能电厂",
            s1,
            DeclarationBody::FrequencyRegulationOffer {
                unit_id: "1号机".into(),
                intervals: vec![
                    RegulationInterval {
                        capacity_mw: 20.0,
                        mileage_price: 12.5,
                    },
                    RegulationInterval {
                        capacity_mw: 0.0,
                        mileage_price: 0.0,
                    },
                ],
            },
        ),
        record(
            "华能电厂",
            s1,
            DeclarationBody::PeakRegulationOffer {
                unit_id: "1号机".into(),
                intervals: vec![PeakRegulationInterval {
                    capacity_mw: 30.0,
                    price: 150.0,
                }],
            },
        ),
        record(
            "华能电厂",
            s1,
            DeclarationBody::DailyExtras(DailyExtras {
                unit_id: "1号机".into(),
                expected_grid_connection: Some(
                    Utc.with_ymd_and_hms(2026, 11, 22, 8, 30, 0).unwrap(),
                ),
                max_generating_capacity_mw: 600.0,
                heat_supply_flow_t_per_h: Some(120.5),
                emergency_min_mw: None,
            }),
        ),
        record(
            "gen2",
            s1,
            DeclarationBody::DailyExtras(DailyExtras {
                unit_id: "g2".into(),
                expected_grid_connection: None,
                max_generating_capacity_mw: 300.0,
                heat_supply_flow_t_per_h: None,
                emergency_min_mw: Some(90.0),
            }),
        ),
    ]
}

fn of_kind(kind: DeclarationKind) -> Vec<DeclarationRecord> {
    samples()
        .into_iter()
        .filter(|r| r.body.kind() == kind)
        .collect()
}

#[test]
fn every_kind_round_trips_through_csv() {
    for kind in DeclarationKind::ALL {
        let text = write_csv(kind, &samples());
        assert_eq!(
            read_csv(kind, &text).unwrap(),
            of_kind(kind),
            "{kind}:\n{text}"
        );
    }
}

#[test]
fn every_kind_round_trips_through_utf8_and_gbk_efiles() {
    for kind in DeclarationKind::ALL {
        for encoding in [Encoding::Utf8, Encoding::Gbk] {
            let bytes = write_efile(kind, &samples(), encoding);
            assert_eq!(
                read_efile(kind, &bytes).unwrap(),
                of_kind(kind),
                "{kind} in {encoding}"
            );
        }
    }
}

#[test]
fn gbk_efile_holds_chinese_names_as_gbk_bytes() {
    let bytes = write_efile(DeclarationKind::EnergyOffer, &samples(), Encoding::Gbk);
    let (gbk_name, _, _) = encoding_rs::GBK.encode("华能电厂");
    assert!(bytes.windows(gbk_name.len()).any(|w| w == &*gbk_name));
    assert!(std::str::from_utf8(&bytes).is_err());
    let text = encoding_rs::GBK.decode(&bytes).0;
    assert!(text.starts_with("<! System=Voltex Version=1.0 Type=energy_offer Code=GBK !>\n"));
    assert!(text.contains("<Declaration::EnergyOffer session='DA-2026-11-22'>"));
}

#[test]
fn demand_bid_csv_layout_repeats_the_quantity_on_segment_rows() {
    let text = write_csv(DeclarationKind::DemandBid, &samples());
    assert_eq!(
        text,
        "session_id,member_id,resource_id,interval,quantity_mw,segment,segment_quantity_mw,price\n\
         DA-2026-11-22,售电公司,负荷A,1,10,1,6,400\n\
         DA-2026-11-22,售电公司,负荷A,1,10,2,4,350.25\n\
         DA-2026-11-22,售电公司,负荷A,2,8.5,,,\n\
         DA-2026-11-22,售电公司,,1,3,,,\n"
    );
}

#[test]
fn declarations_without_intervals_round_trip() {
    for body in [
        DeclarationBody::EnergyOffer {
            unit_id: "u1".into(),
            intervals: vec![],
        },
        DeclarationBody::DemandBid {
            resource_id: None,
            intervals: vec![],
        },
        DeclarationBody::FrequencyRegulationOffer {
            unit_id: "u1".into(),
            intervals: vec![],
        },
    ] {
        let kind = body.kind();
        let records = vec![record("m", "s", body)];
        assert_eq!(read_csv(kind, &write_csv(kind, &records)).unwrap(), records);
        let bytes = write_efile(kind, &records, Encoding::Utf8);
        assert_eq!(read_efile(kind, &bytes).unwrap(), records);
    }
}

// ------------------------------------------------------ malformed E-files

const EFILE: &str = "<! System=Voltex Version=1.0 Type=energy_offer Code=UTF-8 !>
<Declaration::EnergyOffer session='DA'>
@\tsession_id\tmember_id\tunit_id\tinterval\tsegment\tquantity_mw\tprice
#\tDA\t华能\tu1\t1\t1\t50\t300
#\tDA\t华能\tu1\t1\t2\t30\t320
#\tDA\t华能\tu1\t2\t1\t50\t310
</Declaration::EnergyOffer>
";

fn efile_err(text: &str) -> DeclarationFileError {
    read_efile(DeclarationKind::EnergyOffer, text.as_bytes()).unwrap_err()
}

#[test]
fn the_sample_efile_reads() {
    let got = read_efile(DeclarationKind::EnergyOffer, EFILE.as_bytes()).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].member_id, "华能");
    assert_eq!(got[0].body.interval_len(), 2);
}

#[test]
fn efile_bad_number_names_line_and_column() {
    let e = efile_err(&EFILE.replace("\t320\n", "\t12,5\n"));
    assert_eq!(
        e.to_string(),
        r#"line 5, column price: "12,5" is not a number"#
    );
}

#[test]
fn efile_missing_column_names_the_column_row() {
    // Drop the last column (price) from the column row and every data row.
    let text: String = EFILE
        .lines()
        .map(|l| match l.starts_with(['@', '#']) {
            true => format!("{}\n", &l[..l.rfind('\t').unwrap()]),
            false => format!("{l}\n"),
        })
        .collect();
    let e = efile_err(&text);
    assert!(
        matches!(e, DeclarationFileError::MissingColumn { line: 3, ref column, .. } if column == "price"),
        "{e}"
    );
}

#[test]
fn efile_gap_in_intervals_names_the_line_and_missing_interval() {
    let e = efile_err(&EFILE.replace("\tu1\t2\t1\t", "\tu1\t3\t1\t"));
    assert_eq!(
        e,
        DeclarationFileError::MissingInterval {
            line: 6,
            declaration: "DA:energy_offer:u1".into(),
            interval: 2
        }
    );
}

#[test]
fn efile_row_of_wrong_width_names_the_line() {
    let e = efile_err(&EFILE.replace("\t30\t320\n", "\t30\n"));
    assert!(
        matches!(
            e,
            DeclarationFileError::EFile(EFileError::RowWidth {
                line: 5,
                expected: 7,
                found: 6,
                ..
            })
        ),
        "{e}"
    );
}

#[test]
fn efile_unterminated_quote_names_the_line() {
    let e = efile_err(&EFILE.replace("\t华能\tu1\t2", "\t'华能\tu1\t2"));
    assert_eq!(
        e,
        DeclarationFileError::EFile(EFileError::UnterminatedQuote { line: 6, column: 6 })
    );
}

#[test]
fn efile_block_of_another_kind_is_refused() {
    let text = EFILE
        .replace("Type=energy_offer ", "")
        .replace("EnergyOffer", "DemandBid");
    assert!(matches!(
        efile_err(&text),
        DeclarationFileError::WrongBlock { line: 2, .. }
    ));
}

#[test]
fn efile_blocks_of_other_classes_are_skipped() {
    let text = format!("{EFILE}<Meta::Info>\n@ note\n# 'exported by hand'\n</Meta::Info>\n");
    assert_eq!(
        read_efile(DeclarationKind::EnergyOffer, text.as_bytes())
            .unwrap()
            .len(),
        1
    );
}

// --------------------------------------------------------- malformed CSV

const CSV: &str = "\
session_id,member_id,resource_id,interval,quantity_mw,segment,segment_quantity_mw,price
DA,ret1,load1,1,10,1,6,400
DA,ret1,load1,1,10,2,4,300
DA,ret2,,1,5,,,
DA,ret1,load1,2,8,,,
";

fn csv_err(text: &str) -> DeclarationFileError {
    read_csv(DeclarationKind::DemandBid, text).unwrap_err()
}

#[test]
fn the_sample_csv_reads_with_interleaved_declarations() {
    let got = read_csv(DeclarationKind::DemandBid, CSV).unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].body.resource_id(), Some("load1"));
    assert_eq!(got[0].body.interval_len(), 2);
    assert_eq!(got[1].body.resource_id(), None);
}

#[test]
fn csv_bad_number_names_line_and_column() {
    let e = csv_err(&CSV.replace("DA,ret1,load1,2,8,", "DA,ret1,load1,2,8MW,"));
    assert_eq!(
        e.to_string(),
        r#"line 5, column quantity_mw: "8MW" is not a number"#
    );
}

#[test]
fn csv_missing_column_is_named() {
    let e = csv_err(&CSV.replace("segment_quantity_mw,", ""));
    assert!(
        matches!(e, DeclarationFileError::MissingColumn { line: 1, ref column, .. } if column == "segment_quantity_mw"),
        "{e}"
    );
}

#[test]
fn csv_gap_in_intervals_names_the_line_and_missing_interval() {
    let e = csv_err(&CSV.replace("DA,ret1,load1,2,8", "DA,ret1,load1,4,8"));
    assert_eq!(
        e.to_string(),
        "line 5: interval 2 of DA:demand_bid:load1 is missing (intervals run from 1 without gaps)"
    );
}

#[test]
fn csv_row_of_wrong_width_names_the_line() {
    let e = csv_err(&CSV.replace("DA,ret2,,1,5,,,", "DA,ret2,,1,5,,"));
    assert_eq!(
        e,
        DeclarationFileError::RowWidth {
            line: 4,
            expected: 8,
            found: 7
        }
    );
}

#[test]
fn csv_unterminated_quote_names_the_line() {
    let e = csv_err(&CSV.replace("DA,ret2", "DA,\"ret2"));
    assert_eq!(
        e,
        DeclarationFileError::UnterminatedQuote { line: 4, column: 4 }
    );
}

#[test]
fn csv_interval_zero_is_not_an_interval() {
    let e = csv_err(&CSV.replace("DA,ret2,,1,", "DA,ret2,,0,"));
    assert_eq!(
        e.to_string(),
        r#"line 4, column interval: "0" is not a whole number from 1 up"#
    );
}

#[test]
fn daily_extras_bad_timestamp_and_second_row_are_refused() {
    let kind = DeclarationKind::DailyExtras;
    let text = write_csv(kind, &samples());
    let bad = text.replace("2026-11-22T08:30:00Z", "22/11/2026 08:30");
    assert!(matches!(
        read_csv(kind, &bad).unwrap_err(),
        DeclarationFileError::BadTimestamp { line: 2, .. }
    ));
    let twice = format!("{text}{}", text.lines().nth(2).unwrap());
    assert!(matches!(
        read_csv(kind, &twice).unwrap_err(),
        DeclarationFileError::DuplicateRow { line: 4, .. }
    ));
}
