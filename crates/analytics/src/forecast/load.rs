//! Hourly day-ahead load forecasting for retailers, per customer and in
//! aggregate, with the same model family and evaluation discipline as the
//! price forecasts: a LASSO-estimated ARX model per hour (load of days d−1,
//! d−2, d−7, optional exogenous series of day d, weekday dummies; asinh-median
//! transformation; λ by AIC), recalibrated daily on a rolling window, scored
//! against the seasonal naive forecast. Readers for the shared household,
//! AEMO NSW1 and ISO-NE demand files live here too. Forecasts of day d use no
//! load of day d or later.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use rayon::prelude::*;

use super::lear::{LearConfig, SelectionPath, fit_and_forecast};
use super::metrics::{PointMetrics, seasonal_naive};
use crate::error::AnalyticsError;

/// A daily-indexed hourly series on a contiguous calendar (missing hours are NaN).
#[derive(Debug, Clone)]
pub struct HourlySeries {
    pub name: String,
    pub unit: String,
    pub dates: Vec<NaiveDate>,
    pub values: Vec<[f64; 24]>,
    /// Exogenous series known a day ahead (e.g. temperature), same calendar.
    pub exogenous: Vec<Vec<[f64; 24]>>,
}

impl HourlySeries {
    /// Builds a contiguous calendar from a map of days (gaps become NaN days).
    pub fn from_days(name: &str, unit: &str, days: &BTreeMap<NaiveDate, [f64; 24]>) -> Self {
        let (Some(first), Some(last)) = (days.keys().next(), days.keys().next_back()) else {
            return Self {
                name: name.into(),
                unit: unit.into(),
                dates: vec![],
                values: vec![],
                exogenous: vec![],
            };
        };
        let mut dates = Vec::new();
        let mut values = Vec::new();
        let mut d = *first;
        while d <= *last {
            dates.push(d);
            values.push(days.get(&d).copied().unwrap_or([f64::NAN; 24]));
            d = d.succ_opt().expect("date in range");
        }
        Self {
            name: name.into(),
            unit: unit.into(),
            dates,
            values,
            exogenous: vec![],
        }
    }

    pub fn n_days(&self) -> usize {
        self.dates.len()
    }

    fn weekday(&self, d: usize) -> usize {
        self.dates[d].weekday().num_days_from_monday() as usize
    }

    /// Model inputs of target day t, or `None` when any needed value is missing.
    pub fn features(&self, t: usize) -> Option<Vec<f64>> {
        if t < 7 {
            return None;
        }
        let mut x = Vec::with_capacity(72 + 24 * self.exogenous.len() + 7);
        for lag in [1usize, 2, 7] {
            x.extend_from_slice(&self.values[t - lag]);
        }
        for ex in &self.exogenous {
            x.extend_from_slice(&ex[t]);
        }
        let mut dummies = [0.0; 7];
        dummies[self.weekday(t)] = 1.0;
        x.extend_from_slice(&dummies);
        x.iter().all(|v| v.is_finite()).then_some(x)
    }

    fn day_complete(&self, t: usize) -> bool {
        self.values[t].iter().all(|v| v.is_finite())
    }
}

/// Result of a rolling day-ahead load evaluation.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LoadEvaluation {
    pub name: String,
    pub unit: String,
    pub window_days: usize,
    pub test_days: usize,
    /// Days that could be forecast and scored (complete history and actuals).
    pub scored_days: usize,
    pub model: PointMetrics,
    pub naive: PointMetrics,
    #[serde(skip)]
    pub forecasts: Vec<Option<[f64; 24]>>,
}

/// Forecasts the last `test_days` days with daily recalibration on a window
/// of `window_days` and scores model and seasonal naive on the days where
/// both exist.
pub fn evaluate_load(
    series: &HourlySeries,
    test_days: usize,
    window_days: usize,
) -> Result<LoadEvaluation, AnalyticsError> {
    let n = series.n_days();
    if n < test_days + window_days {
        return Err(AnalyticsError::NotEnoughHistory {
            what: format!("load forecast of {}", series.name),
            needed: test_days + window_days,
            available: n,
        });
    }
    let config = LearConfig {
        calibration_windows_days: vec![window_days],
        // our model, not a reproduction: true residuals on every window
        selection_path: SelectionPath::Exact,
        ..LearConfig::benchmark()
    };
    let first = n - test_days;
    let forecasts: Vec<Option<[f64; 24]>> = (first..n)
        .into_par_iter()
        .map(|d| {
            let test_x = series.features(d)?;
            let (rows, targets): (Vec<Vec<f64>>, Vec<[f64; 24]>) = (d + 7 - window_days..d)
                .filter(|&t| series.day_complete(t))
                .filter_map(|t| series.features(t).map(|x| (x, series.values[t])))
                .unzip();
            (rows.len() >= 28).then(|| fit_and_forecast(&rows, &targets, &test_x, 7, &config))
        })
        .collect();
    let (mut actual, mut model, mut naive) = (Vec::new(), Vec::new(), Vec::new());
    let mut scored = 0;
    for (k, f) in forecasts.iter().enumerate() {
        let d = first + k;
        let Some(f) = f else { continue };
        let Some(nv) = seasonal_naive(&series.values, |t| series.weekday(t), d) else {
            continue;
        };
        if !series.day_complete(d) || nv.iter().any(|v| !v.is_finite()) {
            continue;
        }
        scored += 1;
        actual.extend_from_slice(&series.values[d]);
        model.extend_from_slice(f);
        naive.extend_from_slice(&nv);
    }
    if scored == 0 {
        return Err(AnalyticsError::NotEnoughHistory {
            what: format!("scoring {}", series.name),
            needed: 1,
            available: 0,
        });
    }
    Ok(LoadEvaluation {
        name: series.name.clone(),
        unit: series.unit.clone(),
        window_days,
        test_days,
        scored_days: scored,
        model: PointMetrics::compute(&actual, &model, &naive)?,
        naive: PointMetrics::compute(&actual, &naive, &naive)?,
        forecasts,
    })
}

/// Call `row` with the line number and the comma-separated fields of every
/// line after the header.
fn for_each_row(
    path: &Path,
    mut row: impl FnMut(usize, &[&str]) -> Result<(), AnalyticsError>,
) -> Result<(), AnalyticsError> {
    for (i, line) in open_text(path)?.lines().enumerate().skip(1) {
        let line = line.map_err(|source| AnalyticsError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let f: Vec<&str> = line.split(',').collect();
        row(i + 1, &f)?;
    }
    Ok(())
}

fn open_text(path: &Path) -> Result<Box<dyn BufRead>, AnalyticsError> {
    let file = std::fs::File::open(path).map_err(|source| AnalyticsError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(if path.extension().is_some_and(|e| e == "gz") {
        Box::new(BufReader::new(flate2::read::GzDecoder::new(file)))
    } else {
        Box::new(BufReader::new(file))
    })
}

/// Household series (kWh per hour) from the AER half-hourly benchmark file
/// (`TYPE = general` rows), one per respondent, plus their aggregate on the
/// days where every household has data (named `aggregate`).
pub fn read_households(path: &Path) -> Result<(Vec<HourlySeries>, HourlySeries), AnalyticsError> {
    let bad = |line: usize, message: String| AnalyticsError::BadRow {
        path: path.to_path_buf(),
        line,
        message,
    };
    let mut per: BTreeMap<String, BTreeMap<NaiveDate, [f64; 24]>> = BTreeMap::new();
    for_each_row(path, |n, f| {
        if f.len() != 51 {
            return Err(bad(n, format!("{} fields, expected 51", f.len())));
        }
        if f[2] != "general" {
            return Ok(());
        }
        let date = NaiveDate::parse_from_str(f[1], "%d/%m/%Y")
            .map_err(|e| bad(n, format!("OUTPUT_DATE `{}`: {e}", f[1])))?;
        let mut day = [0.0; 24];
        for k in 0..48 {
            let wh: f64 = f[3 + k]
                .parse()
                .map_err(|_| bad(n, format!("half-hour {k}: `{}` is not a number", f[3 + k])))?;
            day[k / 2] += wh / 1000.0;
        }
        per.entry(f[0].to_string()).or_default().insert(date, day);
        Ok(())
    })?;
    let households: Vec<HourlySeries> = per
        .iter()
        .map(|(id, days)| HourlySeries::from_days(&format!("household {id}"), "kWh", days))
        .collect();
    let mut all_dates: BTreeMap<NaiveDate, ([f64; 24], usize)> = BTreeMap::new();
    for days in per.values() {
        for (d, v) in days {
            let e = all_dates.entry(*d).or_insert(([0.0; 24], 0));
            for (acc, x) in e.0.iter_mut().zip(v) {
                *acc += x;
            }
            e.1 += 1;
        }
    }
    let full: BTreeMap<NaiveDate, [f64; 24]> = all_dates
        .into_iter()
        .filter(|(_, (_, k))| *k == per.len())
        .map(|(d, (v, _))| (d, v))
        .collect();
    let aggregate = HourlySeries::from_days(
        &format!("aggregate of {} households", per.len()),
        "kWh",
        &full,
    );
    Ok((households, aggregate))
}

/// AEMO NSW1 operational demand (MW, hourly mean of the two half-hours;
/// timestamps mark interval ends, so 00:00 closes hour 23 of the previous day).
pub fn read_aemo_demand(path: &Path) -> Result<HourlySeries, AnalyticsError> {
    let bad = |line: usize, message: String| AnalyticsError::BadRow {
        path: path.to_path_buf(),
        line,
        message,
    };
    let mut acc: BTreeMap<NaiveDate, ([f64; 24], [u8; 24])> = BTreeMap::new();
    for_each_row(path, |n, f| {
        if f.len() < 4 {
            return Err(bad(n, format!("{} fields, expected 4", f.len())));
        }
        let end = NaiveDateTime::parse_from_str(f[0], "%Y/%m/%d %H:%M:%S")
            .map_err(|e| bad(n, format!("SETTLEMENTDATE: {e}")))?;
        let start = end - chrono::Duration::minutes(30);
        let mw: f64 = f[2]
            .parse()
            .map_err(|_| bad(n, format!("TOTALDEMAND `{}` is not a number", f[2])))?;
        let e = acc.entry(start.date()).or_insert(([0.0; 24], [0; 24]));
        e.0[start.hour() as usize] += mw;
        e.1[start.hour() as usize] += 1;
        Ok(())
    })?;
    let days: BTreeMap<NaiveDate, [f64; 24]> = acc
        .into_iter()
        .map(|(d, (s, c))| {
            (
                d,
                std::array::from_fn(|h| if c[h] == 2 { s[h] / 2.0 } else { f64::NAN }),
            )
        })
        .collect();
    Ok(HourlySeries::from_days("AEMO NSW1 demand", "MW", &days))
}

/// ISO-NE system demand (`ISO NE CA`, real-time DEMAND, MW) with the dry-bulb
/// temperature of day d as exogenous input (observed values stand in for a
/// day-ahead temperature forecast).
pub fn read_isone_demand(path: &Path) -> Result<HourlySeries, AnalyticsError> {
    let bad = |line: usize, message: String| AnalyticsError::BadRow {
        path: path.to_path_buf(),
        line,
        message,
    };
    let mut load: BTreeMap<NaiveDate, [f64; 24]> = BTreeMap::new();
    let mut temp: BTreeMap<NaiveDate, [f64; 24]> = BTreeMap::new();
    for_each_row(path, |n, f| {
        if f.len() != 15 {
            return Err(bad(n, format!("{} fields, expected 15", f.len())));
        }
        if f[2] != "ISO NE CA" {
            return Ok(());
        }
        let date = NaiveDate::parse_from_str(f[0], "%Y-%m-%d")
            .map_err(|e| bad(n, format!("Date: {e}")))?;
        let hour: usize = f[1]
            .parse()
            .map_err(|_| bad(n, format!("Hour `{}`", f[1])))?;
        if !(1..=24).contains(&hour) {
            return Err(bad(n, format!("Hour {hour} outside 1..24")));
        }
        let num = |k: usize| {
            f[k].parse::<f64>()
                .map_err(|_| bad(n, format!("column {k}: `{}` is not a number", f[k])))
        };
        load.entry(date).or_insert([f64::NAN; 24])[hour - 1] = num(4)?;
        temp.entry(date).or_insert([f64::NAN; 24])[hour - 1] = num(13)?;
        Ok(())
    })?;
    let mut s = HourlySeries::from_days("ISO-NE system demand", "MW", &load);
    let t = HourlySeries::from_days("dry bulb", "F", &temp);
    s.exogenous.push(t.values);
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_csv(name: &str, text: &str) -> std::path::PathBuf {
        let path =
            std::env::temp_dir().join(format!("voltex-load-{}-{name}.csv", std::process::id()));
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn aemo_demand_averages_the_two_half_hours_ending_in_each_hour() {
        let mut text = String::from("SETTLEMENTDATE,REGION,TOTALDEMAND,RRP\n");
        for k in 1..=48 {
            let end = NaiveDate::from_ymd_opt(2017, 1, 1)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap()
                + chrono::Duration::minutes(30 * k);
            text.push_str(&format!(
                "{},NSW1,{},50\n",
                end.format("%Y/%m/%d %H:%M:%S"),
                100 * k
            ));
        }
        let s = read_aemo_demand(&temp_csv("aemo", &text)).unwrap();
        assert_eq!(s.values[0][0], 150.0);
        assert_eq!(s.values[0][23], 4750.0);
        let err =
            read_aemo_demand(&temp_csv("aemo-bad", "h\n2017/01/01 00:30:00,NSW1\n")).unwrap_err();
        assert!(err.to_string().contains("expected 4"), "{err}");
    }

    #[test]
    fn isone_demand_reads_the_system_row_and_its_temperature_only() {
        let mut text = String::from("header\n");
        for h in 1..=24 {
            text.push_str(&format!(
                "2017-01-01,{h},ISO NE CA,x,{},x,x,x,x,x,x,x,x,{},x\n",
                1000 + h,
                h
            ));
            text.push_str(&format!("2017-01-01,{h},CT,x,1,x,x,x,x,x,x,x,x,1,x\n"));
        }
        let s = read_isone_demand(&temp_csv("isone", &text)).unwrap();
        assert_eq!(s.values[0][0], 1001.0);
        assert_eq!(s.exogenous[0][0][23], 24.0);
    }

    #[test]
    fn households_sum_half_hours_into_hourly_kwh_and_skip_other_channels() {
        let halves = |wh: f64| vec![wh.to_string(); 48].join(",");
        let text = format!(
            "h\n1,01/07/2012,general,{}\n1,01/07/2012,controlled load,{}\n2,01/07/2012,general,{}\n",
            halves(500.0),
            halves(9.0),
            halves(250.0)
        );
        let (per, aggregate) = read_households(&temp_csv("households", &text)).unwrap();
        assert_eq!(per.len(), 2);
        assert_eq!(per[0].values[0][5], 1.0);
        assert_eq!(aggregate.values[0][5], 1.5);
        let err = read_households(&temp_csv("households-bad", "h\n1,2,general\n")).unwrap_err();
        assert!(err.to_string().contains("expected 51"), "{err}");
    }

    fn synthetic(n: usize) -> HourlySeries {
        let start = NaiveDate::from_ymd_opt(2020, 1, 6).unwrap();
        let days: BTreeMap<NaiveDate, [f64; 24]> = (0..n)
            .map(|d| {
                let date = start + chrono::Duration::days(d as i64);
                let weekend = if d % 7 >= 5 { 0.8 } else { 1.0 };
                (
                    date,
                    std::array::from_fn(|h| {
                        weekend
                            * (100.0
                                + 30.0 * ((h as f64 - 6.0) / 24.0 * std::f64::consts::TAU).sin())
                            + (d % 5) as f64
                    }),
                )
            })
            .collect();
        HourlySeries::from_days("synthetic", "MW", &days)
    }

    #[test]
    fn lasso_arx_beats_naive_on_regular_load() {
        let s = synthetic(140);
        let e = evaluate_load(&s, 14, 70).unwrap();
        assert_eq!(e.scored_days, 14);
        assert!(e.model.rmae < 1.0, "{:?}", e.model);
    }

    #[test]
    fn missing_days_are_skipped_not_scored() {
        let mut s = synthetic(140);
        s.values[135] = [f64::NAN; 24];
        let e = evaluate_load(&s, 14, 70).unwrap();
        assert!(e.scored_days < 14);
        assert!(e.forecasts[14 - 5].is_none() || !s.values[135][0].is_finite());
    }
}
