//! Market price and demand series the aggregator trades on, and their splits.
//!
//! Reads the ISO-NE SMD hourly file (one zone, DA and RT LMP, real-time demand)
//! and the AEMO NSW1 half-hourly file (RRP and TOTALDEMAND; no day-ahead
//! market) into one [`MarketSeries`] of complete days, stamped with the
//! *start* of each interval in market-local time. It must not scale, normalise
//! or look at the agent: it only parses, checks and slices.

use std::path::{Path, PathBuf};

use chrono::{Duration, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use crate::error::{AgentError, Result};

/// The two markets of the study.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Market {
    /// ISO New England, hourly, day-ahead and real-time markets (CT zone by default).
    Isone,
    /// AEMO NEM region NSW1, half-hourly, real-time (energy-only) market.
    Aemo,
}

impl Market {
    /// Length of one interval in hours.
    pub fn interval_h(self) -> f64 {
        match self {
            Market::Isone => 1.0,
            Market::Aemo => 0.5,
        }
    }

    /// Number of intervals in one day.
    pub fn steps_per_day(self) -> usize {
        match self {
            Market::Isone => 24,
            Market::Aemo => 48,
        }
    }

    /// Whether the market has a day-ahead price the aggregator can buy at.
    pub fn has_day_ahead(self) -> bool {
        matches!(self, Market::Isone)
    }

    /// Short lowercase name (`isone`, `aemo`).
    pub fn name(self) -> &'static str {
        match self {
            Market::Isone => "isone",
            Market::Aemo => "aemo",
        }
    }

    /// Currency of the prices.
    pub fn currency(self) -> &'static str {
        match self {
            Market::Isone => "USD",
            Market::Aemo => "AUD",
        }
    }

    /// The shared-data path (relative to `shared/data`) of the study file.
    pub fn shared_file(self) -> &'static str {
        match self {
            Market::Isone => "isone/isone_smd_hourly_2017_jan_apr_all_zones.csv",
            Market::Aemo => "aemo_nsw1/nsw1_price_demand_30min_2017_2018.csv",
        }
    }

    /// Inclusive date range of a split in the study data.
    pub fn split_dates(self, split: Split) -> Option<(NaiveDate, NaiveDate)> {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).expect("valid literal date");
        match (self, split) {
            (_, Split::All) => None,
            (Market::Isone, Split::Train) => Some((d(2017, 1, 1), d(2017, 3, 31))),
            (Market::Isone, Split::Validation) => Some((d(2017, 4, 1), d(2017, 4, 15))),
            (Market::Isone, Split::Test) => Some((d(2017, 4, 16), d(2017, 4, 30))),
            (Market::Aemo, Split::Train) => Some((d(2017, 1, 1), d(2017, 12, 31))),
            (Market::Aemo, Split::Validation) => Some((d(2018, 1, 1), d(2018, 6, 30))),
            (Market::Aemo, Split::Test) => Some((d(2018, 7, 1), d(2018, 12, 31))),
        }
    }
}

impl std::str::FromStr for Market {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "isone" | "iso-ne" => Ok(Market::Isone),
            "aemo" | "nsw1" => Ok(Market::Aemo),
            other => Err(format!("unknown market `{other}` (expected isone or aemo)")),
        }
    }
}

/// A named part of the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    Train,
    Validation,
    Test,
    /// Every complete day that has a previous day in the file.
    All,
}

impl std::str::FromStr for Split {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "train" => Ok(Split::Train),
            "validation" | "val" | "valid" => Ok(Split::Validation),
            "test" => Ok(Split::Test),
            "all" => Ok(Split::All),
            other => Err(format!(
                "unknown split `{other}` (expected train, validation, test or all)"
            )),
        }
    }
}

impl std::fmt::Display for Split {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Split::Train => "train",
            Split::Validation => "validation",
            Split::Test => "test",
            Split::All => "all",
        })
    }
}

/// Complete days of prices and demand, one entry per interval.
#[derive(Debug, Clone, PartialEq)]
pub struct MarketSeries {
    pub market: Market,
    /// Start of each interval, market-local time (ISO-NE Eastern, AEMO UTC+10).
    pub interval_start: Vec<NaiveDateTime>,
    /// Day-ahead price, $/MWh (`None` where the market has none).
    pub da_price_per_mwh: Option<Vec<f64>>,
    /// Real-time price, $/MWh.
    pub rt_price_per_mwh: Vec<f64>,
    /// Demand, MW (interval average).
    pub demand_mw: Vec<f64>,
}

/// A contiguous run of whole days, as step indices `[start, end)` into a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn len(&self) -> usize {
        self.end - self.start
    }
    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }
}

impl MarketSeries {
    pub fn len(&self) -> usize {
        self.rt_price_per_mwh.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rt_price_per_mwh.is_empty()
    }

    pub fn steps_per_day(&self) -> usize {
        self.market.steps_per_day()
    }

    pub fn interval_h(&self) -> f64 {
        self.market.interval_h()
    }

    /// Day-ahead price at step `t` (0 where the market has none).
    pub fn da_price(&self, t: usize) -> f64 {
        self.da_price_per_mwh.as_ref().map_or(0.0, |v| v[t])
    }

    /// The span of a split: its whole days, skipping a first day of the file
    /// (the agent needs the previous day for D̂ and the observation window).
    pub fn span(&self, split: Split) -> Result<Span> {
        let k = self.steps_per_day();
        let first_allowed = k; // day 0 only provides history
        let (from, to) = match self.market.split_dates(split) {
            Some(r) => r,
            None => {
                let from = self.interval_start.first().map(|d| d.date());
                let to = self.interval_start.last().map(|d| d.date());
                match (from, to) {
                    (Some(a), Some(b)) => (a, b),
                    _ => {
                        return Err(AgentError::EmptySpan {
                            split: split.to_string(),
                            from: "-".into(),
                            to: "-".into(),
                        });
                    }
                }
            }
        };
        let mut start = None;
        let mut end = 0;
        for day in 0..self.len() / k {
            let t = day * k;
            let date = self.interval_start[t].date();
            if t >= first_allowed && date >= from && date <= to {
                start.get_or_insert(t);
                end = t + k;
            }
        }
        match start {
            Some(start) if end > start => Ok(Span { start, end }),
            _ => Err(AgentError::EmptySpan {
                split: split.to_string(),
                from: from.to_string(),
                to: to.to_string(),
            }),
        }
    }

    /// Load the study file of a market from the shared data folder.
    pub fn load_shared(market: Market) -> Result<Self> {
        let rel = market.shared_file();
        let path = voltex_formats::datadir::shared_data_file(rel)
            .ok_or_else(|| AgentError::SharedDataMissing(rel.to_string()))?;
        Self::load(market, &path)
    }

    /// Load a file in the layout of the shared ISO-NE (CT zone) or AEMO file.
    pub fn load(market: Market, path: &Path) -> Result<Self> {
        match market {
            Market::Isone => load_isone_smd(path, "CT"),
            Market::Aemo => load_aemo(path),
        }
    }
}

/// The small real extracts shipped in `data/agent/` (see its PROVENANCE.md):
/// ISO-NE CT April 2017 or AEMO NSW1 July 2018.
pub fn load_bundled(market: Market) -> Result<MarketSeries> {
    let dir = voltex_formats::datadir::bundled_data_dir().join("agent");
    let file = match market {
        Market::Isone => "isone_ct_2017_04.csv",
        Market::Aemo => "aemo_nsw1_2018_07.csv",
    };
    MarketSeries::load(market, &dir.join(file))
}

/// A synthetic series for tests and demos: `days` days from 2017-01-01 with a
/// daily sinusoidal real-time price 40 + 25·sin(2π(h − 9)/24) $/MWh (cheap at
/// night, dear in the afternoon) plus small noise, a day-ahead price
/// 40 + 15·sin(same) (so RT is above DA in the dear half of the day), and a
/// flat demand of 1000 MW with a small daily wave.
pub fn synthetic_periodic(market: Market, days: usize, seed: u64) -> MarketSeries {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let k = market.steps_per_day();
    let dt_min = (market.interval_h() * 60.0) as i64;
    let start = NaiveDate::from_ymd_opt(2017, 1, 1)
        .expect("valid date")
        .and_hms_opt(0, 0, 0)
        .expect("midnight");
    let n = days * k;
    let mut interval_start = Vec::with_capacity(n);
    let mut rt = Vec::with_capacity(n);
    let mut da = Vec::with_capacity(n);
    let mut demand = Vec::with_capacity(n);
    for i in 0..n {
        let when = start + Duration::minutes(dt_min * i as i64);
        let hour = (i % k) as f64 * market.interval_h();
        let wave = (std::f64::consts::TAU * (hour - 9.0) / 24.0).sin();
        interval_start.push(when);
        rt.push(40.0 + 25.0 * wave + rng.random_range(-2.0..2.0));
        da.push(40.0 + 15.0 * wave + rng.random_range(-1.0..1.0));
        demand.push(1000.0 + 100.0 * wave);
    }
    MarketSeries {
        market,
        interval_start,
        da_price_per_mwh: market.has_day_ahead().then_some(da),
        rt_price_per_mwh: rt,
        demand_mw: demand,
    }
}

fn open_csv(path: &Path) -> Result<(csv::Reader<std::fs::File>, csv::StringRecord)> {
    let file = std::fs::File::open(path).map_err(|source| AgentError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(file);
    let headers = reader
        .headers()
        .map_err(|source| AgentError::Csv {
            path: path.to_path_buf(),
            source,
        })?
        .clone();
    Ok((reader, headers))
}

fn column(
    headers: &csv::StringRecord,
    path: &Path,
    name: &str,
    market: &'static str,
) -> Result<usize> {
    headers
        .iter()
        .position(|h| h.eq_ignore_ascii_case(name))
        .ok_or_else(|| AgentError::MissingColumn {
            path: path.to_path_buf(),
            column: name.to_string(),
            market,
        })
}

fn parse_f64(
    rec: &csv::StringRecord,
    idx: usize,
    path: &Path,
    row: usize,
    col: &str,
) -> Result<f64> {
    let raw = rec.get(idx).unwrap_or("");
    raw.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| AgentError::BadField {
            path: path.to_path_buf(),
            row,
            column: col.to_string(),
            value: raw.to_string(),
            expected: "finite number",
        })
}

/// Read one zone of an ISO-NE SMD hourly file (`Date`, `Hour` = hour ending
/// 1..24, `Zone`, `DA_LMP`, `RT_LMP`, `DEMAND`).
pub fn load_isone_smd(path: &Path, zone: &str) -> Result<MarketSeries> {
    const M: &str = "ISO-NE SMD";
    let (mut reader, headers) = open_csv(path)?;
    let c_date = column(&headers, path, "Date", M)?;
    let c_hour = column(&headers, path, "Hour", M)?;
    let c_zone = column(&headers, path, "Zone", M)?;
    let c_da = column(&headers, path, "DA_LMP", M)?;
    let c_rt = column(&headers, path, "RT_LMP", M)?;
    let c_dem = column(&headers, path, "DEMAND", M)?;
    let mut rows: Vec<(NaiveDateTime, f64, f64, f64)> = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let row = i + 2;
        let rec = rec.map_err(|source| AgentError::Csv {
            path: path.to_path_buf(),
            source,
        })?;
        if !rec.get(c_zone).unwrap_or("").eq_ignore_ascii_case(zone) {
            continue;
        }
        let date_raw = rec.get(c_date).unwrap_or("");
        let date =
            NaiveDate::parse_from_str(date_raw, "%Y-%m-%d").map_err(|_| AgentError::BadField {
                path: path.to_path_buf(),
                row,
                column: "Date".into(),
                value: date_raw.into(),
                expected: "date YYYY-MM-DD",
            })?;
        let hour_raw = rec.get(c_hour).unwrap_or("");
        let hour: i64 = hour_raw
            .parse()
            .ok()
            .filter(|h| (1..=24).contains(h))
            .ok_or_else(|| AgentError::BadField {
                path: path.to_path_buf(),
                row,
                column: "Hour".into(),
                value: hour_raw.into(),
                expected: "hour ending 1..24",
            })?;
        let start = date.and_hms_opt(0, 0, 0).expect("midnight") + Duration::hours(hour - 1);
        rows.push((
            start,
            parse_f64(&rec, c_da, path, row, "DA_LMP")?,
            parse_f64(&rec, c_rt, path, row, "RT_LMP")?,
            parse_f64(&rec, c_dem, path, row, "DEMAND")?,
        ));
    }
    if rows.is_empty() {
        return Err(AgentError::NoRowsForZone {
            path: path.to_path_buf(),
            zone: zone.to_string(),
        });
    }
    rows.sort_by_key(|r| r.0);
    let series = MarketSeries {
        market: Market::Isone,
        interval_start: rows.iter().map(|r| r.0).collect(),
        da_price_per_mwh: Some(rows.iter().map(|r| r.1).collect()),
        rt_price_per_mwh: rows.iter().map(|r| r.2).collect(),
        demand_mw: rows.iter().map(|r| r.3).collect(),
    };
    check_complete_days(&series, path)?;
    Ok(series)
}

/// Read an AEMO price-and-demand file (`SETTLEMENTDATE` = end of the 30-min
/// interval, `TOTALDEMAND`, `RRP`).
pub fn load_aemo(path: &Path) -> Result<MarketSeries> {
    const M: &str = "AEMO price and demand";
    let (mut reader, headers) = open_csv(path)?;
    let c_date = column(&headers, path, "SETTLEMENTDATE", M)?;
    let c_dem = column(&headers, path, "TOTALDEMAND", M)?;
    let c_rrp = column(&headers, path, "RRP", M)?;
    let mut rows: Vec<(NaiveDateTime, f64, f64)> = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let row = i + 2;
        let rec = rec.map_err(|source| AgentError::Csv {
            path: path.to_path_buf(),
            source,
        })?;
        let raw = rec.get(c_date).unwrap_or("");
        let end = NaiveDateTime::parse_from_str(raw, "%Y/%m/%d %H:%M:%S")
            .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M:%S"))
            .map_err(|_| AgentError::BadField {
                path: path.to_path_buf(),
                row,
                column: "SETTLEMENTDATE".into(),
                value: raw.into(),
                expected: "timestamp YYYY/MM/DD HH:MM:SS",
            })?;
        rows.push((
            end - Duration::minutes(30),
            parse_f64(&rec, c_rrp, path, row, "RRP")?,
            parse_f64(&rec, c_dem, path, row, "TOTALDEMAND")?,
        ));
    }
    rows.sort_by_key(|r| r.0);
    let series = MarketSeries {
        market: Market::Aemo,
        interval_start: rows.iter().map(|r| r.0).collect(),
        da_price_per_mwh: None,
        rt_price_per_mwh: rows.iter().map(|r| r.1).collect(),
        demand_mw: rows.iter().map(|r| r.2).collect(),
    };
    check_complete_days(&series, path)?;
    Ok(series)
}

/// Every day must be complete and every interval must follow the previous one.
fn check_complete_days(series: &MarketSeries, path: &Path) -> Result<()> {
    let k = series.steps_per_day();
    let step = Duration::minutes((series.interval_h() * 60.0) as i64);
    let path: PathBuf = path.to_path_buf();
    if let Some(first) = series.interval_start.first()
        && first.time() != chrono::NaiveTime::MIN
    {
        return Err(AgentError::IncompleteDay {
            path,
            date: first.date().to_string(),
            found: 0,
            expected: k,
        });
    }
    for w in series.interval_start.windows(2) {
        if w[1] - w[0] != step {
            return Err(AgentError::GapInSeries {
                path,
                at: w[1].to_string(),
            });
        }
    }
    if !series.len().is_multiple_of(k) {
        let last = series.interval_start.last().expect("non-empty");
        return Err(AgentError::IncompleteDay {
            path,
            date: last.date().to_string(),
            found: series.len() % k,
            expected: k,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aemo_interval_start_is_end_minus_thirty_minutes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.csv");
        let mut s = String::from("SETTLEMENTDATE,REGION,TOTALDEMAND,RRP\n");
        let start = NaiveDate::from_ymd_opt(2018, 7, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        for i in 1..=96 {
            let end = start + Duration::minutes(30 * i);
            s.push_str(&format!(
                "{},NSW1,{}.0,{}.5\n",
                end.format("%Y/%m/%d %H:%M:%S"),
                7000 + i,
                i
            ));
        }
        std::fs::write(&p, s).unwrap();
        let series = load_aemo(&p).unwrap();
        assert_eq!(series.len(), 96);
        assert_eq!(series.interval_start[0], start);
        assert_eq!(series.rt_price_per_mwh[0], 1.5);
        let all = series.span(Split::All).unwrap();
        assert_eq!(all, Span { start: 48, end: 96 });
    }

    #[test]
    fn rejects_gap_in_series() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.csv");
        let s = "SETTLEMENTDATE,REGION,TOTALDEMAND,RRP\n2018/07/01 00:30:00,NSW1,1,1\n2018/07/01 01:30:00,NSW1,1,1\n";
        std::fs::write(&p, s).unwrap();
        assert!(matches!(load_aemo(&p), Err(AgentError::GapInSeries { .. })));
    }

    #[test]
    fn rejects_missing_column() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.csv");
        std::fs::write(&p, "Date,Hour,Zone,DA_LMP,DEMAND\n").unwrap();
        let err = load_isone_smd(&p, "CT").unwrap_err();
        assert!(err.to_string().contains("RT_LMP"), "{err}");
    }
}
