//! The MATPOWER reader on the real PGLib-OPF v23.07 and MATPOWER cases in the
//! shared data folder (skipped with a message where that folder is absent),
//! and on the small cases shipped in `data/cases/`.

use voltex_formats::datadir::{bundled_data_dir, shared_data_dir};
use voltex_formats::matpower::{GeneratorCost, parse_case_file};

/// (file, buses, generators, branches) as listed in the data PROVENANCE.md.
const TYP: &[(&str, usize, usize, usize)] = &[
    ("pglib_opf_case5_pjm", 5, 5, 6),
    ("pglib_opf_case14_ieee", 14, 5, 20),
    ("pglib_opf_case30_ieee", 30, 6, 41),
    ("pglib_opf_case118_ieee", 118, 54, 186),
    ("pglib_opf_case300_ieee", 300, 69, 411),
    ("pglib_opf_case1354_pegase", 1354, 260, 1991),
    ("pglib_opf_case2383wp_k", 2383, 327, 2896),
    ("pglib_opf_case2869_pegase", 2869, 510, 4582),
];

#[test]
fn reads_every_pglib_typ_case_with_the_published_sizes() {
    let Some(dir) = shared_data_dir() else {
        println!("skipped: shared data folder (VOLTEX_DATA_DIR or ../shared/data) not found");
        return;
    };
    for &(name, nb, ng, nl) in TYP {
        let case = parse_case_file(dir.join(format!("pglib_opf/typ/{name}.m"))).unwrap();
        assert_eq!(case.network.name, name);
        assert_eq!(
            (
                case.network.buses.len(),
                case.generators.len(),
                case.network.branches.len()
            ),
            (nb, ng, nl),
            "{name}"
        );
        assert_eq!(case.network.base_mva, 100.0);
        assert!(
            case.generators
                .iter()
                .all(|g| matches!(g.cost, GeneratorCost::Polynomial { .. }))
        );
    }
}

#[test]
fn reads_every_api_and_sad_case_and_matpower_case9241pegase() {
    let Some(dir) = shared_data_dir() else {
        println!("skipped: shared data folder (VOLTEX_DATA_DIR or ../shared/data) not found");
        return;
    };
    let mut files = Vec::new();
    for sub in ["pglib_opf/api", "pglib_opf/sad"] {
        for e in std::fs::read_dir(dir.join(sub)).unwrap() {
            files.push(e.unwrap().path());
        }
    }
    assert!(files.len() >= 18, "expected 9 api and 9 sad cases");
    for f in &files {
        let case = parse_case_file(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert!(!case.network.buses.is_empty());
    }
    let big = parse_case_file(dir.join("pglib_opf/matpower/case9241pegase.m")).unwrap();
    assert_eq!(
        (
            big.network.buses.len(),
            big.generators.len(),
            big.network.branches.len()
        ),
        (9241, 1445, 16049)
    );
    // 21-column generator rows: the ramp columns are read as given
    assert!(big.generators.iter().all(|g| g.ramp_agc.is_some()));
}

#[test]
fn shipped_cases_read_and_match_the_shared_originals() {
    let shipped = bundled_data_dir().join("cases");
    for name in [
        "pglib_opf_case5_pjm",
        "pglib_opf_case14_ieee",
        "pglib_opf_case30_ieee",
    ] {
        let case = parse_case_file(shipped.join(format!("{name}.m"))).unwrap();
        if let Some(dir) = shared_data_dir() {
            let original = parse_case_file(dir.join(format!("pglib_opf/typ/{name}.m"))).unwrap();
            assert_eq!(case, original, "{name} differs from the shared copy");
        }
    }
}
