//! Tests of declaration files through the public API: each category's
//! layout, column order and case, gaps and repeats, numbers, CSV quoting,
//! E-file blocks, kinds and encodings.

use super::*;
use crate::efile::{self, Encoding};
use voltex_model::declaration::{EnergyOfferInterval, OfferSegment};

fn offer(member: &str, unit: &str, intervals: Vec<Vec<(f64, f64)>>) -> DeclarationRecord {
    DeclarationRecord {
        member_id: member.into(),
        session_id: "DA-2026-11-22".into(),
        body: DeclarationBody::EnergyOffer {
            unit_id: unit.into(),
            intervals: intervals
                .into_iter()
                .map(|segs| EnergyOfferInterval {
                    segments: segs
                        .into_iter()
                        .map(|(quantity_mw, price)| OfferSegment { quantity_mw, price })
                        .collect(),
                })
                .collect(),
        },
    }
}

const OFFERS: &str = "\
session_id,member_id,unit_id,interval,segment,quantity_mw,price
DA,gen1,u1,2,1,50,310
DA,gen1,u1,1,2,30,320.5
DA,gen1,u1,1,1,50,300
";

#[test]
fn energy_offer_csv_is_written_one_row_per_interval_and_segment() {
    let r = offer(
        "gen1",
        "u1",
        vec![vec![(50.0, 300.0), (30.0, 320.5)], vec![]],
    );
    assert_eq!(
        write_csv(DeclarationKind::EnergyOffer, &[r]),
        "session_id,member_id,unit_id,interval,segment,quantity_mw,price\n\
             DA-2026-11-22,gen1,u1,1,1,50,300\n\
             DA-2026-11-22,gen1,u1,1,2,30,320.5\n\
             DA-2026-11-22,gen1,u1,2,,,\n"
    );
}

#[test]
fn rows_in_any_order_are_sorted_by_interval_and_segment() {
    let got = read_csv(DeclarationKind::EnergyOffer, OFFERS).unwrap();
    let mut want = offer(
        "gen1",
        "u1",
        vec![vec![(50.0, 300.0), (30.0, 320.5)], vec![(50.0, 310.0)]],
    );
    want.session_id = "DA".into();
    assert_eq!(got, [want]);
}

#[test]
fn columns_may_come_in_any_order_and_case() {
    let text = "PRICE, quantity_mw ,segment,interval,unit_id,member_id,session_id\n300,50,1,1,u1,gen1,DA\n";
    let got = read_csv(DeclarationKind::EnergyOffer, text).unwrap();
    assert_eq!(got[0].body.interval_len(), 1);
}

#[test]
fn bad_number_names_line_column_and_text() {
    let text = OFFERS.replace("320.5", "\"12,5\"");
    let e = read_csv(DeclarationKind::EnergyOffer, &text).unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"line 3, column price: "12,5" is not a number"#
    );
}

#[test]
fn non_finite_numbers_are_refused() {
    let text = OFFERS.replace("310", "inf");
    assert!(matches!(
        read_csv(DeclarationKind::EnergyOffer, &text).unwrap_err(),
        Error::NotFinite { line: 2, .. }
    ));
}

#[test]
fn missing_and_unexpected_columns_are_named() {
    let text = OFFERS.replace(",price", "");
    assert!(matches!(
        read_csv(DeclarationKind::EnergyOffer, &text).unwrap_err(),
        Error::MissingColumn { line: 1, ref column, .. } if column == "price"
    ));
    let text = OFFERS.replace(",price", ",prize");
    assert!(matches!(
        read_csv(DeclarationKind::EnergyOffer, &text).unwrap_err(),
        Error::UnexpectedColumn { line: 1, ref column, .. } if column == "prize"
    ));
    assert!(matches!(
        read_csv(DeclarationKind::EnergyOffer, "").unwrap_err(),
        Error::NoHeader { .. }
    ));
}

#[test]
fn gap_in_intervals_names_the_missing_interval_and_the_line_after_it() {
    let text = OFFERS.replace("DA,gen1,u1,2,1", "DA,gen1,u1,3,1");
    assert_eq!(
        read_csv(DeclarationKind::EnergyOffer, &text).unwrap_err(),
        Error::MissingInterval {
            line: 2,
            declaration: "DA:energy_offer:u1".into(),
            interval: 2
        }
    );
}

#[test]
fn gap_and_repeat_in_segments_are_refused() {
    let text = OFFERS.replace("1,2,30", "1,3,30");
    assert!(matches!(
        read_csv(DeclarationKind::EnergyOffer, &text).unwrap_err(),
        Error::MissingSegment {
            line: 3,
            interval: 1,
            segment: 2,
            ..
        }
    ));
    let text = OFFERS.replace("1,2,30", "1,1,30");
    assert!(matches!(
        read_csv(DeclarationKind::EnergyOffer, &text).unwrap_err(),
        Error::DuplicateRow { line: 4, .. }
    ));
}

#[test]
fn row_width_and_unterminated_quote_name_the_line() {
    let text = OFFERS.replace("DA,gen1,u1,1,2,30,320.5", "DA,gen1,u1,1,2,30");
    assert_eq!(
        read_csv(DeclarationKind::EnergyOffer, &text).unwrap_err(),
        Error::RowWidth {
            line: 3,
            expected: 7,
            found: 6
        }
    );
    let text = OFFERS.replace("DA,gen1,u1,1,2", "DA,\"gen1,u1,1,2");
    assert_eq!(
        read_csv(DeclarationKind::EnergyOffer, &text).unwrap_err(),
        Error::UnterminatedQuote { line: 3, column: 4 }
    );
}

#[test]
fn empty_segment_beside_other_segments_is_inconsistent() {
    let text = OFFERS.replace("DA,gen1,u1,1,2,30,320.5", "DA,gen1,u1,1,,,");
    assert!(matches!(
        read_csv(DeclarationKind::EnergyOffer, &text).unwrap_err(),
        Error::Inconsistent { line: 3, ref column, .. } if column == "segment"
    ));
    let text = OFFERS.replace("DA,gen1,u1,1,2,30,320.5", "DA,gen1,u1,1,,30,");
    assert!(matches!(
        read_csv(DeclarationKind::EnergyOffer, &text).unwrap_err(),
        Error::Inconsistent { line: 3, ref column, .. } if column == "quantity_mw"
    ));
}

#[test]
fn demand_bid_quantity_must_agree_across_segment_rows() {
    let text = "session_id,member_id,resource_id,interval,quantity_mw,segment,segment_quantity_mw,price\n\
                    DA,ret1,,1,10,1,6,400\n\
                    DA,ret1,,1,11,2,4,300\n";
    assert!(matches!(
        read_csv(DeclarationKind::DemandBid, text).unwrap_err(),
        Error::Inconsistent { line: 3, ref column, .. } if column == "quantity_mw"
    ));
}

#[test]
fn efile_declares_kind_and_encoding_and_groups_sessions_into_blocks() {
    let mut b = offer("华能", "u1", vec![vec![(1.0, 2.0)]]);
    b.session_id = "DA-2026-11-23".into();
    let records = [offer("华能", "u1", vec![vec![(1.0, 2.0)]]), b];
    let bytes = write_efile(DeclarationKind::EnergyOffer, &records, Encoding::Gbk);
    let file = efile::parse(&bytes).unwrap();
    assert_eq!(file.header_value("Type"), Some("energy_offer"));
    assert_eq!(file.header_value("Code"), Some("GBK"));
    assert_eq!(file.blocks.len(), 2);
    assert_eq!(file.blocks[1].tag(), "Declaration::EnergyOffer");
    assert_eq!(file.blocks[1].attribute("session"), Some("DA-2026-11-23"));
    assert_eq!(
        read_efile(DeclarationKind::EnergyOffer, &bytes).unwrap(),
        records
    );
}

#[test]
fn efile_of_another_kind_is_refused() {
    let bytes = write_efile(DeclarationKind::EnergyOffer, &[], Encoding::Utf8);
    assert!(matches!(
        read_efile(DeclarationKind::DemandBid, &bytes).unwrap_err(),
        Error::WrongKind { .. }
    ));
}

#[test]
fn efile_row_whose_session_differs_from_its_block_is_refused() {
    let text = "<! Type=energy_offer !>\n<Declaration::EnergyOffer session=DA>\n\
                    @ session_id member_id unit_id interval segment quantity_mw price\n\
                    # DB gen1 u1 1 1 10 20\n</Declaration::EnergyOffer>\n";
    assert!(matches!(
        read_efile(DeclarationKind::EnergyOffer, text.as_bytes()).unwrap_err(),
        Error::SessionMismatch { line: 4, .. }
    ));
}
