//! Reading the real inputs of the pricing model: household half-hourly load
//! (AER survey, general / controlled-load / PV channels) aggregated to hourly
//! household-days, and AEMO NSW1 spot prices turned into daily hourly price
//! scenarios in yuan/kWh. Also the small extracts shipped under
//! `data/household/`. Parsing only: no modelling decisions beyond unit
//! conversion live here.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate, NaiveDateTime};

use crate::upper::PriceScenarios;
use crate::{HOURS, PricingError};

/// Conversion of AEMO prices to the model's currency: yuan/kWh per AUD/MWh.
///
/// A calibration, not an exchange rate (5.2 CNY/AUD would give 0.0052): with
/// 0.01 the 2017 NSW1 hourly prices have 5th/50th/95th percentiles of
/// 0.54 / 0.85 / 1.45 yuan/kWh, inside the sellers' 0.5–2.0 band; spikes stay.
pub const YUAN_PER_KWH_PER_AUD_PER_MWH: f64 = 0.01;

/// Shared-data path of the household survey.
pub const HOUSEHOLD_SHARED_FILE: &str =
    "household_load/aer_consumption_benchmarks_halfhourly_wh.csv.gz";
/// Shared-data path of the AEMO NSW1 prices.
pub const NSW1_SHARED_FILE: &str = "aemo_nsw1/nsw1_price_demand_30min_2017_2018.csv";
/// Bundled household extract (hourly kWh), relative to the repository's `data/`.
pub const HOUSEHOLD_EXTRACT_FILE: &str = "household/household_days_hourly_extract.csv";
/// Bundled hourly NSW1 prices for 2017 (AUD/MWh), relative to `data/`.
pub const PRICE_EXTRACT_FILE: &str = "household/nsw1_2017_hourly_rrp.csv";

/// One household's day, hourly (hour h = the half-hours starting h:00 and h:30).
#[derive(Debug, Clone, PartialEq)]
pub struct HouseholdDay {
    pub household: u32,
    pub date: NaiveDate,
    pub general_kwh: [f64; HOURS],
    pub controlled_kwh: [f64; HOURS],
    pub pv_kwh: [f64; HOURS],
    pub has_controlled_channel: bool,
    pub has_pv_channel: bool,
}

impl HouseholdDay {
    /// General plus controlled load (kWh per hour).
    pub fn total_load_kwh(&self) -> [f64; HOURS] {
        let mut t = [0.0; HOURS];
        for h in 0..HOURS {
            t[h] = self.general_kwh[h] + self.controlled_kwh[h];
        }
        t
    }
    /// Share of the day's load on the controlled-load channel.
    pub fn controlled_share(&self) -> f64 {
        let total: f64 = self.total_load_kwh().iter().sum();
        if total > 0.0 {
            self.controlled_kwh.iter().sum::<f64>() / total
        } else {
            0.0
        }
    }
}

/// Where data came from.
#[derive(Debug, Clone, PartialEq)]
pub enum DataSource {
    /// The full shared data set.
    Shared(PathBuf),
    /// The small extract shipped in the repository.
    Bundled(PathBuf),
}

impl std::fmt::Display for DataSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DataSource::Shared(p) => write!(f, "shared data {}", p.display()),
            DataSource::Bundled(p) => write!(f, "bundled extract {}", p.display()),
        }
    }
}

fn open_text(path: &Path) -> Result<Box<dyn BufRead>, PricingError> {
    let file = std::fs::File::open(path).map_err(|e| PricingError::Data {
        path: path.into(),
        reason: e.to_string(),
    })?;
    if path.extension().is_some_and(|e| e == "gz") {
        Ok(Box::new(BufReader::new(flate2::read::GzDecoder::new(file))))
    } else {
        Ok(Box::new(BufReader::new(file)))
    }
}

type DayKey = (u32, NaiveDate);

fn assemble(channels: BTreeMap<DayKey, [Option<[f64; HOURS]>; 3]>) -> Vec<HouseholdDay> {
    channels
        .into_iter()
        .filter_map(|((household, date), [general, controlled, pv])| {
            general.map(|general_kwh| HouseholdDay {
                household,
                date,
                general_kwh,
                controlled_kwh: controlled.unwrap_or([0.0; HOURS]),
                pv_kwh: pv.unwrap_or([0.0; HOURS]),
                has_controlled_channel: controlled.is_some(),
                has_pv_channel: pv.is_some(),
            })
        })
        .collect()
}

fn channel_index(name: &str) -> Option<usize> {
    match name.trim() {
        "general" => Some(0),
        "controlled load" | "controlled" => Some(1),
        "generation" | "pv" => Some(2),
        _ => None,
    }
}

/// Call `row` with every record of a CSV file with a header line; problems
/// are reported through `bad`, which names the file and the line.
fn for_each_record(
    path: &Path,
    mut row: impl FnMut(&csv::StringRecord, &dyn Fn(String) -> PricingError) -> Result<(), PricingError>,
) -> Result<(), PricingError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(open_text(path)?);
    for (n, record) in reader.records().enumerate() {
        let line = n + 2;
        let bad = |reason: String| PricingError::DataLine {
            path: path.into(),
            line,
            reason,
        };
        let r = record.map_err(|e| bad(e.to_string()))?;
        row(&r, &bad)?;
    }
    Ok(())
}

/// Read a CSV file of one channel of one household-day per row into
/// household-days; `row` parses a record into its day, channel index and
/// hourly kWh.
fn read_channel_rows(
    path: &Path,
    row: impl Fn(
        &csv::StringRecord,
        &dyn Fn(String) -> PricingError,
    ) -> Result<(DayKey, usize, [f64; HOURS]), PricingError>,
) -> Result<Vec<HouseholdDay>, PricingError> {
    let mut channels: BTreeMap<DayKey, [Option<[f64; HOURS]>; 3]> = BTreeMap::new();
    for_each_record(path, |r, bad| {
        let (day, channel, hourly) = row(r, bad)?;
        channels.entry(day).or_insert([None; 3])[channel] = Some(hourly);
        Ok(())
    })?;
    Ok(assemble(channels))
}

/// Read the AER survey file (wide, 48 half-hours in Wh) into hourly household-days.
/// Days without a `general` row are dropped.
pub fn read_aer_survey(path: &Path) -> Result<Vec<HouseholdDay>, PricingError> {
    read_channel_rows(path, |r, bad| {
        if r.len() != 51 {
            return Err(bad(format!(
                "expected 51 columns (respondent, date, type, 48 half-hours), found {}",
                r.len()
            )));
        }
        let household: u32 = r[0]
            .trim()
            .parse()
            .map_err(|_| bad(format!("respondent '{}' is not a number", &r[0])))?;
        let date = NaiveDate::parse_from_str(r[1].trim(), "%d/%m/%Y")
            .map_err(|_| bad(format!("OUTPUT_DATE '{}' is not d/mm/yyyy", &r[1])))?;
        let Some(channel) = channel_index(&r[2]) else {
            return Err(bad(format!(
                "TYPE '{}' is not general / controlled load / generation",
                &r[2]
            )));
        };
        let mut hourly = [0.0; HOURS];
        for half in 0..48 {
            let wh: f64 = r[3 + half]
                .trim()
                .parse()
                .map_err(|_| bad(format!("column {} is not a number", 4 + half)))?;
            if !(wh.is_finite() && wh >= 0.0) {
                return Err(bad(format!(
                    "column {} = {wh} Wh must be finite and ≥ 0",
                    4 + half
                )));
            }
            hourly[half / 2] += wh / 1000.0;
        }
        Ok(((household, date), channel, hourly))
    })
}

/// Read the bundled hourly extract (`household,date,channel,h00..h23` in kWh).
pub fn read_household_extract(path: &Path) -> Result<Vec<HouseholdDay>, PricingError> {
    read_channel_rows(path, |r, bad| {
        if r.len() != 3 + HOURS {
            return Err(bad(format!("expected 27 columns, found {}", r.len())));
        }
        let household: u32 = r[0]
            .parse()
            .map_err(|_| bad(format!("household '{}' is not a number", &r[0])))?;
        let date = NaiveDate::parse_from_str(&r[1], "%Y-%m-%d")
            .map_err(|_| bad(format!("date '{}' is not YYYY-MM-DD", &r[1])))?;
        let channel =
            channel_index(&r[2]).ok_or_else(|| bad(format!("channel '{}' unknown", &r[2])))?;
        let mut hourly = [0.0; HOURS];
        for (h, v) in hourly.iter_mut().enumerate() {
            *v = r[3 + h]
                .parse::<f64>()
                .map_err(|_| bad(format!("h{h:02} is not a number")))?;
            if !(v.is_finite() && *v >= 0.0) {
                return Err(bad(format!("h{h:02} = {v} kWh must be finite and ≥ 0")));
            }
        }
        Ok(((household, date), channel, hourly))
    })
}

/// Write household-days in the bundled extract format.
pub fn write_household_extract(days: &[HouseholdDay], path: &Path) -> Result<(), PricingError> {
    let werr = |e: std::io::Error| PricingError::Write {
        path: path.into(),
        source: e,
    };
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).map_err(werr)?);
    let header: Vec<String> = (0..HOURS).map(|h| format!("h{h:02}")).collect();
    writeln!(out, "household,date,channel,{}", header.join(",")).map_err(werr)?;
    for d in days {
        let mut rows = vec![("general", &d.general_kwh)];
        if d.has_controlled_channel {
            rows.push(("controlled", &d.controlled_kwh));
        }
        if d.has_pv_channel {
            rows.push(("pv", &d.pv_kwh));
        }
        for (name, values) in rows {
            let v: Vec<String> = values.iter().map(|x| format!("{x:.3}")).collect();
            writeln!(
                out,
                "{},{},{},{}",
                d.household,
                d.date.format("%Y-%m-%d"),
                name,
                v.join(",")
            )
            .map_err(werr)?;
        }
    }
    out.flush().map_err(werr)
}

/// Household-days from the shared data if present, else the bundled extract.
pub fn load_household_days() -> Result<(Vec<HouseholdDay>, DataSource), PricingError> {
    if let Some(path) = voltex_formats::datadir::shared_data_file(HOUSEHOLD_SHARED_FILE) {
        return Ok((read_aer_survey(&path)?, DataSource::Shared(path)));
    }
    let path = voltex_formats::datadir::bundled_data_dir().join(HOUSEHOLD_EXTRACT_FILE);
    Ok((read_household_extract(&path)?, DataSource::Bundled(path)))
}

/// Hourly NSW1 RRP (AUD/MWh) per calendar day of `year`, from the 30-minute
/// AEMO file (interval-ending stamps: hour h of day d averages the intervals
/// ending d h:30 and d (h+1):00). Incomplete days are dropped.
pub fn read_nsw1_hourly_rrp(
    path: &Path,
    year: i32,
) -> Result<Vec<(NaiveDate, [f64; HOURS])>, PricingError> {
    let mut days: BTreeMap<NaiveDate, ([f64; HOURS], [u8; HOURS])> = BTreeMap::new();
    for_each_record(path, |r, bad| {
        if r.len() < 4 {
            return Err(bad(format!(
                "expected SETTLEMENTDATE,REGION,TOTALDEMAND,RRP, found {} columns",
                r.len()
            )));
        }
        let end = NaiveDateTime::parse_from_str(&r[0], "%Y/%m/%d %H:%M:%S").map_err(|_| {
            bad(format!(
                "SETTLEMENTDATE '{}' is not YYYY/MM/DD HH:MM:SS",
                &r[0]
            ))
        })?;
        let rrp: f64 = r[3]
            .parse()
            .map_err(|_| bad(format!("RRP '{}' is not a number", &r[3])))?;
        let start = end - chrono::Duration::minutes(30);
        if start.year() != year {
            return Ok(());
        }
        let hour = chrono::Timelike::hour(&start) as usize;
        let entry = days
            .entry(start.date())
            .or_insert(([0.0; HOURS], [0; HOURS]));
        entry.0[hour] += rrp / 2.0;
        entry.1[hour] += 1;
        Ok(())
    })?;
    Ok(days
        .into_iter()
        .filter(|(_, (_, count))| count.iter().all(|&c| c == 2))
        .map(|(d, (p, _))| (d, p))
        .collect())
}

/// Read the bundled hourly price extract (`date,h00..h23` in AUD/MWh).
pub fn read_price_extract(path: &Path) -> Result<Vec<(NaiveDate, [f64; HOURS])>, PricingError> {
    let mut out = Vec::new();
    for_each_record(path, |r, bad| {
        if r.len() != 1 + HOURS {
            return Err(bad(format!("expected 25 columns, found {}", r.len())));
        }
        let date = NaiveDate::parse_from_str(&r[0], "%Y-%m-%d")
            .map_err(|_| bad(format!("date '{}' is not YYYY-MM-DD", &r[0])))?;
        let mut p = [0.0; HOURS];
        for (h, v) in p.iter_mut().enumerate() {
            *v = r[1 + h]
                .parse::<f64>()
                .map_err(|_| bad(format!("h{h:02} is not a number")))?;
        }
        out.push((date, p));
        Ok(())
    })?;
    Ok(out)
}

/// Write hourly prices in the bundled extract format.
pub fn write_price_extract(
    days: &[(NaiveDate, [f64; HOURS])],
    path: &Path,
) -> Result<(), PricingError> {
    let werr = |e: std::io::Error| PricingError::Write {
        path: path.into(),
        source: e,
    };
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).map_err(werr)?);
    let header: Vec<String> = (0..HOURS).map(|h| format!("h{h:02}")).collect();
    writeln!(out, "date,{}", header.join(",")).map_err(werr)?;
    for (d, p) in days {
        let v: Vec<String> = p.iter().map(|x| format!("{x:.3}")).collect();
        writeln!(out, "{},{}", d.format("%Y-%m-%d"), v.join(",")).map_err(werr)?;
    }
    out.flush().map_err(werr)
}

/// Convert hourly AUD/MWh days into yuan/kWh scenarios.
pub fn to_scenarios(days: &[(NaiveDate, [f64; HOURS])]) -> PriceScenarios {
    PriceScenarios {
        labels: days
            .iter()
            .map(|(d, _)| d.format("%Y-%m-%d").to_string())
            .collect(),
        spot_per_kwh: days
            .iter()
            .map(|(_, p)| p.map(|v| v * YUAN_PER_KWH_PER_AUD_PER_MWH))
            .collect(),
    }
}

/// The 2017 NSW1 daily price scenarios (365), from shared data or the bundled extract.
pub fn load_price_scenarios_2017() -> Result<(PriceScenarios, DataSource), PricingError> {
    if let Some(path) = voltex_formats::datadir::shared_data_file(NSW1_SHARED_FILE) {
        let days = read_nsw1_hourly_rrp(&path, 2017)?;
        return Ok((to_scenarios(&days), DataSource::Shared(path)));
    }
    let path = voltex_formats::datadir::bundled_data_dir().join(PRICE_EXTRACT_FILE);
    Ok((
        to_scenarios(&read_price_extract(&path)?),
        DataSource::Bundled(path),
    ))
}

/// Household-days whose calendar date (any year) lies within `window_days` of
/// `month`/`day`: the pool users of that day are drawn from.
pub fn days_near(
    days: &[HouseholdDay],
    month: u32,
    day: u32,
    window_days: i64,
) -> Vec<&HouseholdDay> {
    days.iter()
        .filter(|d| {
            // Compare on a leap year so 29 February has a place.
            let reference =
                NaiveDate::from_ymd_opt(2012, month, day.clamp(1, 28)).unwrap_or_default();
            let own =
                NaiveDate::from_ymd_opt(2012, d.date.month(), d.date.day()).unwrap_or(reference);
            let diff = (own - reference).num_days().abs();
            diff.min(366 - diff) <= window_days
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extract_round_trips() {
        let day = HouseholdDay {
            household: 7,
            date: NaiveDate::from_ymd_opt(2013, 1, 2).unwrap(),
            general_kwh: [0.5; HOURS],
            controlled_kwh: [0.25; HOURS],
            pv_kwh: [0.0; HOURS],
            has_controlled_channel: true,
            has_pv_channel: false,
        };
        let dir =
            std::env::temp_dir().join(format!("voltex-pricing-extract-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.csv");
        write_household_extract(std::slice::from_ref(&day), &path).unwrap();
        let back = read_household_extract(&path).unwrap();
        assert_eq!(back, vec![day]);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn rejects_a_negative_reading_naming_the_line() {
        let dir = std::env::temp_dir().join(format!("voltex-pricing-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bad.csv");
        let header: Vec<String> = (0..HOURS).map(|h| format!("h{h:02}")).collect();
        let mut values = vec!["1".to_string(); HOURS];
        values[5] = "-1".into();
        std::fs::write(
            &path,
            format!(
                "household,date,channel,{}\n1,2013-01-01,general,{}\n",
                header.join(","),
                values.join(",")
            ),
        )
        .unwrap();
        let err = read_household_extract(&path).unwrap_err().to_string();
        assert!(err.contains("line 2") && err.contains("h05"), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
