//! Bad input is refused with errors naming the element and the rule; an
//! infeasible market is not an error but a result with located, priced
//! shortfalls and a warning. Offers and bids from JSON and CSV files.

use voltex_clearing::offers::{apply_offers_csv, apply_offers_json};
use voltex_clearing::{
    BidSegment, ClearingError, ClearingInput, DemandBid, FromCaseOptions, OfferSegment, clear,
};
use voltex_formats::datadir::bundled_data_dir;
use voltex_formats::matpower::parse_case_file;

fn case5(intervals: usize) -> ClearingInput {
    let case = parse_case_file(bundled_data_dir().join("cases/pglib_opf_case5_pjm.m")).unwrap();
    ClearingInput::from_case(
        &case,
        &FromCaseOptions {
            intervals,
            ..FromCaseOptions::default()
        },
    )
}

fn refused(input: &ClearingInput) -> String {
    match clear(input) {
        Err(e @ ClearingError::InvalidInput(_)) => e.to_string(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn refuses_unit_at_unknown_bus() {
    let mut i = case5(1);
    i.units[0].bus = 42;
    assert!(refused(&i).contains("unit gen1: bus 42 does not exist"));
}

#[test]
fn refuses_negative_reactance_of_a_line() {
    let mut i = case5(1);
    i.network.branches[2].x_pu = -0.01;
    let msg = refused(&i);
    assert!(
        msg.contains("branch 2 (1->5): reactance x_pu=-0.01 is not allowed"),
        "{msg}"
    );
}

#[test]
fn refuses_pmin_above_pmax() {
    let mut i = case5(1);
    i.units[3].pmin_mw = 500.0;
    i.units[3].offer.clear();
    assert!(refused(&i).contains("unit gen4: pmin_mw 500 exceeds pmax_mw 200"));
}

#[test]
fn refuses_non_monotone_offer_and_reports_every_problem() {
    let mut i = case5(1);
    i.units[1].offer = vec![
        OfferSegment {
            quantity_mw: 50.0,
            price_per_mwh: 20.0,
        },
        OfferSegment {
            quantity_mw: 50.0,
            price_per_mwh: 12.0,
        },
    ];
    i.demand_bids.push(DemandBid {
        id: "D1".into(),
        bus: 2,
        segments: vec![
            BidSegment {
                quantity_mw: 10.0,
                price_per_mwh: 50.0,
            },
            BidSegment {
                quantity_mw: 10.0,
                price_per_mwh: 80.0,
            },
        ],
        segments_by_interval: None,
    });
    let msg = refused(&i);
    assert!(
        msg.contains(
            "unit gen2: segment 1 (set 0): price 12 after 20: offer prices must not decrease"
        ),
        "{msg}"
    );
    assert!(
        msg.contains(
            "demand bid D1: segment 1 (set 0): price 80 after 50: bid prices must not increase"
        ),
        "{msg}"
    );
}

#[test]
fn refuses_load_shape_of_wrong_length() {
    let mut i = case5(24);
    i.load_scale.pop();
    assert!(refused(&i).contains("load_scale: has 23 factors but there are 24 intervals"));
}

#[test]
fn infeasible_load_gives_located_shortfalls_priced_at_voll() {
    let mut i = case5(1);
    i.load_scale = vec![1.8]; // 1800 MW of load, 1530 MW of capacity
    let r = clear(&i).unwrap();
    let iv = &r.results[0];
    let short: f64 = iv.shortfalls.iter().map(|s| s.mw).sum();
    assert!(short > 200.0, "shortfall {short}");
    assert!(r.located_slacks);
    assert!(
        r.warnings.iter().any(|w| w.contains("not served")),
        "{:?}",
        r.warnings
    );
    let voll = i.settings.value_of_lost_load_per_mwh;
    for s in &iv.shortfalls {
        let p = iv.lmp.iter().find(|p| p.bus == s.bus).unwrap();
        assert!(
            (p.lmp_per_mwh - voll).abs() < 1e-6,
            "bus {} sheds but LMP {}",
            s.bus,
            p.lmp_per_mwh
        );
    }
}

#[test]
fn demand_bid_is_served_only_where_its_price_covers_the_lmp() {
    let mut i = case5(1);
    let json = r#"{"demand_bids": [
        {"id": "cheap", "bus": 5, "segments": [{"quantity_mw": 20, "price_per_mwh": 12}]},
        {"id": "dear", "bus": 3, "segments": [{"quantity_mw": 20, "price_per_mwh": 100}, {"quantity_mw": 20, "price_per_mwh": 5}]}
    ]}"#;
    apply_offers_json(&mut i, json).unwrap();
    let r = clear(&i).unwrap();
    let iv = &r.results[0];
    let lmp = |bus: u32| iv.lmp.iter().find(|p| p.bus == bus).unwrap().lmp_per_mwh;
    for (bid, award) in i.demand_bids.iter().zip(&iv.bids) {
        for (seg, q) in bid.segments.iter().zip(&award.segments_mw) {
            if seg.price_per_mwh > lmp(bid.bus) + 1e-6 {
                assert!(
                    (q - seg.quantity_mw).abs() < 1e-6,
                    "{} segment at {} not served at LMP {}",
                    bid.id,
                    seg.price_per_mwh,
                    lmp(bid.bus)
                );
            }
            if seg.price_per_mwh < lmp(bid.bus) - 1e-6 {
                assert!(q.abs() < 1e-6);
            }
        }
    }
}

#[test]
fn csv_offers_replace_a_case_unit_offer_and_add_units() {
    let mut i = case5(2);
    let csv = "kind,id,bus,interval,quantity_mw,price_per_mwh\noffer,gen5,5,,300,10\noffer,gen5,5,,300,50\noffer,peaker,2,2,100,90\nbid,D1,3,,25,200\n";
    apply_offers_csv(&mut i, csv).unwrap();
    let g5 = i.units.iter().find(|u| u.id == "gen5").unwrap();
    assert_eq!(g5.offer.len(), 2);
    let peaker = i.units.iter().find(|u| u.id == "peaker").unwrap();
    assert_eq!(peaker.offer_by_interval.as_ref().unwrap()[0].len(), 0);
    assert_eq!(peaker.pmax_mw, 100.0);
    assert_eq!(i.demand_bids[0].segments[0].price_per_mwh, 200.0);
    clear(&i).unwrap();
    let bad = "kind,id,bus,interval,quantity_mw,price_per_mwh\noffer,x,2,7,10,abc\n";
    let e = apply_offers_csv(&mut case5(2), bad)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("offers CSV line 2: interval = \"7\" must be empty or 1..2"),
        "{e}"
    );
}

#[test]
fn result_writes_json_and_csv_files() {
    let r = clear(&case5(2)).unwrap();
    let dir = std::env::temp_dir().join(format!("voltex-clear-test-{}", std::process::id()));
    r.write_to_dir(&dir).unwrap();
    for f in [
        "result.json",
        "lmp.csv",
        "dispatch.csv",
        "branches.csv",
        "sections.csv",
        "bids.csv",
        "shortfalls.csv",
    ] {
        assert!(dir.join(f).exists(), "{f}");
    }
    let back: voltex_clearing::ClearingResult =
        serde_json::from_slice(&std::fs::read(dir.join("result.json")).unwrap()).unwrap();
    assert_eq!(back.results.len(), 2);
    let lmp = std::fs::read_to_string(dir.join("lmp.csv")).unwrap();
    assert_eq!(lmp.lines().count(), 1 + 2 * 5);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn price_chart_draws_min_mean_max_and_energy_price_in_palette_colours() {
    let r = clear(&case5(3)).unwrap();
    let figure = r.price_figure();
    let names: Vec<&str> = figure.panels[0]
        .series
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(names, ["min LMP", "mean LMP", "max LMP", "energy price"]);
    assert!(figure.panels[0].series.iter().all(|s| s.points.len() == 3));
    let dir = std::env::temp_dir().join(format!("voltex-clear-svg-{}", std::process::id()));
    r.write_to_dir(&dir).unwrap();
    let svg = std::fs::read_to_string(dir.join("lmp.svg")).unwrap();
    assert_eq!(svg, voltex_charts::render_svg(&figure).unwrap());
    assert!(voltex_charts::palette::foreign_colours(&svg).is_empty());
    let _ = std::fs::remove_dir_all(dir);
}
