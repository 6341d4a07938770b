//! The shipped extracts and (when present) the shared data load, classify and
//! build users.
use voltex_pricing::classify;
use voltex_pricing::data;
use voltex_pricing::population::{self, PopulationRecipe};
use voltex_pricing::tou::TouSchedule;

#[test]
fn bundled_extract_classifies_and_builds_device_free_users() {
    let dir = voltex_formats::datadir::bundled_data_dir();
    let days = data::read_household_extract(&dir.join(data::HOUSEHOLD_EXTRACT_FILE)).unwrap();
    assert_eq!(days.len(), 672);
    assert!(days.iter().any(|d| d.has_controlled_channel) && days.iter().any(|d| d.has_pv_channel));
    let c = classify::classify(&days, &TouSchedule::standard(), 2..=5, 1).unwrap();
    assert!((2..=5).contains(&c.chosen_clusters));
    assert!(c.clusters.iter().any(|cl| cl.controllable));
    let pool = data::days_near(&days, 7, 12, 15);
    let users = population::build_consumers(&pool, &c, &PopulationRecipe::new(200, 3));
    assert_eq!(users.len(), 200);
    for u in &users {
        u.validate().unwrap();
        assert!(u.is_device_free());
        // κ ≥ 0.1 of the unjittered load; the ±5 % jitter on the base load
        // moves the realised share by at most a few %.
        let kappa = u.controllable_total_kwh() / u.daily_consumption_kwh();
        assert!((0.095..0.9).contains(&kappa), "κ = {kappa}");
    }
    // Deterministic by seed.
    assert_eq!(
        users,
        population::build_consumers(&pool, &c, &PopulationRecipe::new(200, 3))
    );
    let prices = data::read_price_extract(&dir.join(data::PRICE_EXTRACT_FILE)).unwrap();
    assert_eq!(prices.len(), 365);
}

#[test]
fn classification_centres_chart_has_one_line_per_cluster_in_palette_colours() {
    let dir = voltex_formats::datadir::bundled_data_dir();
    let days = data::read_household_extract(&dir.join(data::HOUSEHOLD_EXTRACT_FILE)).unwrap();
    let c = classify::classify(&days, &TouSchedule::standard(), 2..=5, 1).unwrap();
    let figure = c.centres_figure();
    assert_eq!(figure.panels[0].series.len(), c.chosen_clusters);
    assert!(figure.panels[0].series.iter().all(|s| s.points.len() == 24));
    let svg = voltex_charts::render_svg(&figure).unwrap();
    assert!(voltex_charts::palette::foreign_colours(&svg).is_empty());
}

#[test]
fn shared_household_data_labels_controllable_clusters_with_more_controlled_load() {
    let Some(path) = voltex_formats::datadir::shared_data_file(data::HOUSEHOLD_SHARED_FILE) else {
        println!(
            "skipped: shared household data {} not found",
            data::HOUSEHOLD_SHARED_FILE
        );
        return;
    };
    let days = data::read_aer_survey(&path).unwrap();
    assert_eq!(days.len(), 16_776);
    let c = classify::classify(&days, &TouSchedule::standard(), 2..=8, 1).unwrap();
    let v = &c.validation;
    assert!(
        v.controlled_share_in_controllable > 2.0 * v.controlled_share_in_other,
        "{v:?}"
    );
    assert!(v.auc > 0.7, "{v:?}");
}

#[test]
fn shared_nsw1_prices_give_365_scenarios_inside_the_band_at_the_median() {
    let Some(path) = voltex_formats::datadir::shared_data_file(data::NSW1_SHARED_FILE) else {
        println!(
            "skipped: shared NSW1 data {} not found",
            data::NSW1_SHARED_FILE
        );
        return;
    };
    let s = data::to_scenarios(&data::read_nsw1_hourly_rrp(&path, 2017).unwrap());
    assert_eq!(s.len(), 365);
    let mut all: Vec<f64> = s.spot_per_kwh.iter().flatten().copied().collect();
    all.sort_by(f64::total_cmp);
    let median = all[all.len() / 2];
    assert!((0.5..2.0).contains(&median), "median {median}");
}
