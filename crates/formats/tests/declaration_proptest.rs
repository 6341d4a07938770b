//! Property tests of declaration files: random energy offers and demand
//! bids read back exactly (numbers bit for bit) from CSV and from E-files in
//! UTF-8 and GBK, whatever order the rows come in.

use std::collections::HashSet;

use proptest::prelude::*;
use voltex_formats::declaration_io::{
    DeclarationRecord, read_csv, read_efile, write_csv, write_efile,
};
use voltex_formats::efile::Encoding;
use voltex_model::declaration::{
    DeclarationBody, DeclarationKind, DemandBidInterval, EnergyOfferInterval, OfferSegment,
};

/// Any finite number, including subnormals, huge and tiny magnitudes.
fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        prop::num::f64::NORMAL | prop::num::f64::SUBNORMAL | prop::num::f64::ZERO,
        (-1000i32..1000).prop_map(|v| f64::from(v) / 4.0),
    ]
}

/// Identifiers GBK can encode: ASCII, CJK, and blanks and commas inside.
const ID: &str = "[a-zA-Z0-9\u{4e00}-\u{9fa5}][a-zA-Z0-9 ,_\u{4e00}-\u{9fa5}-]{0,8}";

fn segments() -> impl Strategy<Value = Vec<OfferSegment>> {
    proptest::collection::vec(
        (number(), number()).prop_map(|(quantity_mw, price)| OfferSegment { quantity_mw, price }),
        0..4,
    )
}

fn energy_offer() -> impl Strategy<Value = DeclarationRecord> {
    (
        ID,
        "DA-2026-11-2[0-9]",
        ID,
        proptest::collection::vec(
            segments().prop_map(|segments| EnergyOfferInterval { segments }),
            0..5,
        ),
    )
        .prop_map(
            |(member_id, session_id, unit_id, intervals)| DeclarationRecord {
                member_id,
                session_id,
                body: DeclarationBody::EnergyOffer { unit_id, intervals },
            },
        )
}

fn demand_bid() -> impl Strategy<Value = DeclarationRecord> {
    (
        ID,
        "DA-2026-11-2[0-9]",
        proptest::option::of(ID),
        proptest::collection::vec(
            (number(), segments()).prop_map(|(quantity_mw, segments)| DemandBidInterval {
                quantity_mw,
                segments,
            }),
            0..5,
        ),
    )
        .prop_map(
            |(member_id, session_id, resource_id, intervals)| DeclarationRecord {
                member_id,
                session_id,
                body: DeclarationBody::DemandBid {
                    resource_id,
                    intervals,
                },
            },
        )
}

/// Keeps the first record of each (session, member, subject): a file holds
/// one declaration per subject.
fn distinct(records: Vec<DeclarationRecord>) -> Vec<DeclarationRecord> {
    let mut seen = HashSet::new();
    records
        .into_iter()
        .filter(|r| seen.insert(r.body.key(&r.session_id, &r.member_id) + "/" + &r.member_id))
        .collect()
}

fn check_round_trip(
    kind: DeclarationKind,
    records: &[DeclarationRecord],
) -> Result<(), TestCaseError> {
    let text = write_csv(kind, records);
    prop_assert_eq!(&read_csv(kind, &text).unwrap(), records, "{}", text);
    // An E-file holds one block per session, so declarations come back
    // grouped by session in order of first appearance.
    let mut sessions: Vec<&str> = Vec::new();
    for r in records {
        if !sessions.contains(&r.session_id.as_str()) {
            sessions.push(&r.session_id);
        }
    }
    let mut by_session = records.to_vec();
    by_session.sort_by_key(|r| sessions.iter().position(|s| *s == r.session_id));
    for encoding in [Encoding::Utf8, Encoding::Gbk] {
        let bytes = write_efile(kind, records, encoding);
        prop_assert_eq!(&read_efile(kind, &bytes).unwrap(), &by_session);
    }
    Ok(())
}

proptest! {
    #[test]
    fn energy_offers_round_trip(records in proptest::collection::vec(energy_offer(), 0..5)) {
        check_round_trip(DeclarationKind::EnergyOffer, &distinct(records))?;
    }

    #[test]
    fn demand_bids_round_trip(records in proptest::collection::vec(demand_bid(), 0..5)) {
        check_round_trip(DeclarationKind::DemandBid, &distinct(records))?;
    }

    #[test]
    fn shuffled_csv_rows_read_back_the_same_declarations(
        records in proptest::collection::vec(energy_offer(), 1..4),
        seed in any::<u64>(),
    ) {
        let records = distinct(records);
        let text = write_csv(DeclarationKind::EnergyOffer, &records);
        let mut lines: Vec<&str> = text.lines().collect();
        let (header, body) = lines.split_at_mut(1);
        // A cheap deterministic shuffle (the order of first appearance of
        // declarations may change, so compare as sets).
        let mut s = seed;
        for i in (1..body.len()).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            body.swap(i, (s >> 33) as usize % (i + 1));
        }
        let shuffled = format!("{}\n{}\n", header[0], body.join("\n"));
        let mut got = read_csv(DeclarationKind::EnergyOffer, &shuffled).unwrap();
        let mut want = records;
        let key = |r: &DeclarationRecord| (r.session_id.clone(), r.member_id.clone(), r.body.unit_id().map(String::from));
        got.sort_by_key(key);
        want.sort_by_key(key);
        prop_assert_eq!(got, want);
    }
}
