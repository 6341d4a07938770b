use voltex_pricing::{classify, data, tou::TouSchedule};
fn main() {
    let dir = voltex_formats::datadir::bundled_data_dir();
    let days = data::read_household_extract(&dir.join(data::HOUSEHOLD_EXTRACT_FILE)).unwrap();
    let c = classify::classify(&days, &TouSchedule::standard(), 2..=5, 1).unwrap();
    c.write_centres_svg(std::path::Path::new("/tmp/h5/centres.svg")).unwrap();
    // a grid like the experiments write
    let p = |t: &str, k: f64| voltex_charts::Panel::new(t, "round", "yuan/kWh", vec![
        voltex_charts::Series::new("seller 0 peak", (0..10).map(|i| (i as f64, 1.0 + k * (i as f64).sqrt())).collect()),
        voltex_charts::Series::new("seller 0 valley", (0..10).map(|i| (i as f64, 0.3 + 0.01 * i as f64)).collect()),
    ]);
    voltex_charts::write_svg(std::path::Path::new("/tmp/h5/grid_pricing.svg"), &voltex_charts::Figure::grid(vec![p("seller prices", 0.1), p("transferred", 0.2), p("third", 0.05)], 3)).unwrap();
}
