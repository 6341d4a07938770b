//! Day-ahead price datasets in the epftoolbox layout: one header line, then
//! hourly rows `timestamp,price,exogenous 1,exogenous 2` (24 rows per day,
//! DST days included as 24 rows), optionally gzip-compressed; and the
//! benchmark's forecast CSV layout. This module only parses and writes; it
//! holds no model.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};

use crate::error::AnalyticsError;

/// The five markets of the epftoolbox benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Market {
    Np,
    Pjm,
    Be,
    Fr,
    De,
}

impl Market {
    pub const ALL: [Market; 5] = [Market::Np, Market::Pjm, Market::Be, Market::Fr, Market::De];

    pub fn code(self) -> &'static str {
        match self {
            Market::Np => "NP",
            Market::Pjm => "PJM",
            Market::Be => "BE",
            Market::Fr => "FR",
            Market::De => "DE",
        }
    }

    /// Path of the dataset inside the shared data directory.
    pub fn shared_dataset(self) -> String {
        format!("epftoolbox/{}.csv.gz", self.code())
    }

    /// Path of the published DNN/LEAR ensemble forecasts inside the shared data directory.
    pub fn shared_reference_forecasts(self) -> String {
        format!(
            "epftoolbox/forecasts/Forecasts_{}_DNN_LEAR_ensembles.csv.gz",
            self.code()
        )
    }

    /// Published test-period figures (MAE, sMAPE %) of the DNN and LEAR
    /// ensembles, recomputed from the official forecast files.
    pub fn published(self) -> PublishedFigures {
        let (dm, ds, lm, ls) = match self {
            Market::Np => (1.683, 4.88, 1.738, 5.01),
            Market::Pjm => (2.862, 11.33, 3.013, 11.98),
            Market::Be => (5.870, 13.45, 6.140, 14.55),
            Market::Fr => (3.866, 10.81, 3.980, 11.57),
            Market::De => (3.413, 14.08, 3.609, 14.74),
        };
        PublishedFigures {
            dnn_mae: dm,
            dnn_smape_pct: ds,
            lear_mae: lm,
            lear_smape_pct: ls,
        }
    }
}

impl std::str::FromStr for Market {
    type Err = AnalyticsError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Market::ALL
            .into_iter()
            .find(|m| m.code().eq_ignore_ascii_case(s))
            .ok_or_else(|| AnalyticsError::UnknownMarket(s.to_string()))
    }
}

impl std::fmt::Display for Market {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// Published ensemble figures of the benchmark paper (test period).
#[derive(Debug, Clone, Copy)]
pub struct PublishedFigures {
    pub dnn_mae: f64,
    pub dnn_smape_pct: f64,
    pub lear_mae: f64,
    pub lear_smape_pct: f64,
}

/// Number of test days of the benchmark (the last two 364-day years).
pub const TEST_DAYS: usize = 728;

/// A day-ahead price dataset organised by day: `price_per_mwh[d][h]` and two
/// exogenous day-ahead forecasts `exogenous[k][d][h]` (MW).
#[derive(Debug, Clone)]
pub struct DayAheadDataset {
    pub header: Vec<String>,
    pub dates: Vec<NaiveDate>,
    pub price_per_mwh: Vec<[f64; 24]>,
    pub exogenous: [Vec<[f64; 24]>; 2],
}

impl DayAheadDataset {
    pub fn n_days(&self) -> usize {
        self.dates.len()
    }

    /// Day of week of day `d`, Monday = 0.
    pub fn weekday(&self, d: usize) -> usize {
        self.dates[d].weekday().num_days_from_monday() as usize
    }

    /// Reads a file in the epftoolbox layout (`.gz` decompressed by name).
    pub fn read(path: &Path) -> Result<Self, AnalyticsError> {
        let file = std::fs::File::open(path).map_err(|source| AnalyticsError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let reader: Box<dyn Read> = if path.extension().is_some_and(|e| e == "gz") {
            Box::new(flate2::read::GzDecoder::new(file))
        } else {
            Box::new(file)
        };
        Self::parse(BufReader::new(reader), path)
    }

    /// Parses the epftoolbox layout from any reader (`origin` names it in errors).
    pub fn parse(reader: impl BufRead, origin: &Path) -> Result<Self, AnalyticsError> {
        let bad = |line: usize, message: String| AnalyticsError::BadRow {
            path: origin.to_path_buf(),
            line,
            message,
        };
        let mut lines = reader.lines();
        let header_line = match lines.next() {
            Some(l) => l.map_err(|source| AnalyticsError::Io {
                path: origin.to_path_buf(),
                source,
            })?,
            None => return Err(bad(1, "empty file: expected a header line".into())),
        };
        let header: Vec<String> = header_line
            .split(',')
            .map(|s| s.trim().to_string())
            .collect();
        if header.len() != 4 {
            return Err(bad(
                1,
                format!(
                    "header has {} columns, expected 4 (date, price, 2 exogenous)",
                    header.len()
                ),
            ));
        }
        let mut dates = Vec::new();
        let mut price = Vec::new();
        let mut ex = [Vec::new(), Vec::new()];
        let mut hour = 0usize;
        let mut rows = 0usize;
        let (mut p_day, mut e0_day, mut e1_day) = ([0.0; 24], [0.0; 24], [0.0; 24]);
        for (i, line) in lines.enumerate() {
            let line_no = i + 2;
            let line = line.map_err(|source| AnalyticsError::Io {
                path: origin.to_path_buf(),
                source,
            })?;
            if line.trim().is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split(',').collect();
            if fields.len() != 4 {
                return Err(bad(line_no, format!("{} fields, expected 4", fields.len())));
            }
            if hour == 0 {
                let date_text = fields[0].trim().get(..10).unwrap_or("");
                let date = NaiveDate::parse_from_str(date_text, "%Y-%m-%d")
                    .map_err(|e| bad(line_no, format!("date `{}`: {e}", fields[0])))?;
                dates.push(date);
            }
            let num = |k: usize, name: &str| -> Result<f64, AnalyticsError> {
                let v: f64 = fields[k]
                    .trim()
                    .parse()
                    .map_err(|_| bad(line_no, format!("{name} `{}` is not a number", fields[k])))?;
                if !v.is_finite() {
                    return Err(bad(line_no, format!("{name} is not finite")));
                }
                Ok(v)
            };
            p_day[hour] = num(1, &header[1])?;
            e0_day[hour] = num(2, &header[2])?;
            e1_day[hour] = num(3, &header[3])?;
            hour += 1;
            rows += 1;
            if hour == 24 {
                price.push(p_day);
                ex[0].push(e0_day);
                ex[1].push(e1_day);
                hour = 0;
            }
        }
        if hour != 0 {
            return Err(AnalyticsError::PartialDay {
                path: origin.to_path_buf(),
                rows,
            });
        }
        Ok(Self {
            header,
            dates,
            price_per_mwh: price,
            exogenous: ex,
        })
    }

    /// Loads a benchmark market from the shared data directory.
    pub fn load_market(market: Market) -> Result<Self, AnalyticsError> {
        let rel = market.shared_dataset();
        let path = voltex_formats::datadir::shared_data_file(&rel)
            .ok_or(AnalyticsError::DataNotFound(rel))?;
        Self::read(&path)
    }

    /// The first `n_days` days (for short test runs).
    pub fn truncated(&self, n_days: usize) -> Self {
        let n = n_days.min(self.n_days());
        Self {
            header: self.header.clone(),
            dates: self.dates[..n].to_vec(),
            price_per_mwh: self.price_per_mwh[..n].to_vec(),
            exogenous: [
                self.exogenous[0][..n].to_vec(),
                self.exogenous[1][..n].to_vec(),
            ],
        }
    }
}

/// Reference forecasts in the benchmark's forecast layout: a timestamp column
/// followed by named columns (e.g. `Real price`, `LEAR Ensemble`).
#[derive(Debug, Clone)]
pub struct ForecastTable {
    pub columns: Vec<String>,
    pub timestamps: Vec<String>,
    /// `values[column][row]`.
    pub values: Vec<Vec<f64>>,
}

impl ForecastTable {
    pub fn read(path: &Path) -> Result<Self, AnalyticsError> {
        let file = std::fs::File::open(path).map_err(|source| AnalyticsError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let reader: Box<dyn Read> = if path.extension().is_some_and(|e| e == "gz") {
            Box::new(flate2::read::GzDecoder::new(file))
        } else {
            Box::new(file)
        };
        let mut lines = BufReader::new(reader).lines();
        let bad = |line: usize, message: String| AnalyticsError::BadRow {
            path: path.to_path_buf(),
            line,
            message,
        };
        let header = lines
            .next()
            .ok_or_else(|| bad(1, "empty file".into()))?
            .map_err(|source| AnalyticsError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        let columns: Vec<String> = header
            .split(',')
            .skip(1)
            .map(|s| s.trim().to_string())
            .collect();
        let mut values = vec![Vec::new(); columns.len()];
        let mut timestamps = Vec::new();
        for (i, line) in lines.enumerate() {
            let line = line.map_err(|source| AnalyticsError::Io {
                path: path.to_path_buf(),
                source,
            })?;
            if line.trim().is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split(',').collect();
            if fields.len() != columns.len() + 1 {
                return Err(bad(
                    i + 2,
                    format!("{} fields, expected {}", fields.len(), columns.len() + 1),
                ));
            }
            timestamps.push(fields[0].to_string());
            for (k, f) in fields[1..].iter().enumerate() {
                let v = f.trim().parse().map_err(|_| {
                    bad(
                        i + 2,
                        format!("column `{}`: `{f}` is not a number", columns[k]),
                    )
                })?;
                values[k].push(v);
            }
        }
        Ok(Self {
            columns,
            timestamps,
            values,
        })
    }

    pub fn column(&self, name: &str) -> Option<&[f64]> {
        self.columns
            .iter()
            .position(|c| c == name)
            .map(|k| self.values[k].as_slice())
    }

    /// Writes the table (timestamps first, then each column).
    pub fn write(&self, path: &Path) -> Result<(), AnalyticsError> {
        let werr = |e: std::io::Error| AnalyticsError::Write {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        let mut out = std::io::BufWriter::new(std::fs::File::create(path).map_err(werr)?);
        writeln!(out, ",{}", self.columns.join(",")).map_err(werr)?;
        for (r, ts) in self.timestamps.iter().enumerate() {
            write!(out, "{ts}").map_err(werr)?;
            for col in &self.values {
                write!(out, ",{}", round6(col[r])).map_err(werr)?;
            }
            writeln!(out).map_err(werr)?;
        }
        out.flush().map_err(werr)
    }

    /// Builds a table for days `first_day..` of a dataset from per-day forecasts.
    pub fn from_days(
        dataset: &DayAheadDataset,
        first_day: usize,
        named: &[(String, &[[f64; 24]])],
    ) -> Self {
        let n = named.first().map_or(0, |(_, f)| f.len());
        let mut timestamps = Vec::with_capacity(n * 24);
        for d in first_day..first_day + n {
            for h in 0..24 {
                timestamps.push(format!("{} {h:02}:00:00", dataset.dates[d]));
            }
        }
        let mut columns = vec!["Real price".to_string()];
        let mut values = vec![
            (first_day..first_day + n)
                .flat_map(|d| dataset.price_per_mwh[d])
                .collect::<Vec<f64>>(),
        ];
        for (name, f) in named {
            columns.push(name.clone());
            values.push(f.iter().flatten().copied().collect());
        }
        Self {
            columns,
            timestamps,
            values,
        }
    }
}

fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

/// Resolves a user-given path or the shared dataset of a market.
pub fn dataset_path(market: Market, data: Option<&Path>) -> Result<PathBuf, AnalyticsError> {
    match data {
        Some(p) => Ok(p.to_path_buf()),
        None => {
            let rel = market.shared_dataset();
            voltex_formats::datadir::shared_data_file(&rel).ok_or(AnalyticsError::DataNotFound(rel))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_days_and_rejects_partial_day() {
        let mut text = String::from("Date, Price, A, B\n");
        for h in 0..24 {
            text.push_str(&format!("2013-01-01 {h:02}:00:00,{}.5,1,2\n", h));
        }
        let ds = DayAheadDataset::parse(text.as_bytes(), Path::new("x.csv")).unwrap();
        assert_eq!(ds.n_days(), 1);
        assert_eq!(ds.price_per_mwh[0][3], 3.5);
        assert_eq!(ds.weekday(0), 1); // 2013-01-01 was a Tuesday
        text.push_str("2013-01-02 00:00:00,1,1,1\n");
        assert!(matches!(
            DayAheadDataset::parse(text.as_bytes(), Path::new("x.csv")),
            Err(AnalyticsError::PartialDay { rows: 25, .. })
        ));
    }

    #[test]
    fn rejects_non_numeric_price_naming_line() {
        let text = "Date,Price,A,B\n2013-01-01 00:00:00,abc,1,2\n";
        let err = DayAheadDataset::parse(text.as_bytes(), Path::new("x.csv"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2") && err.contains("Price"), "{err}");
    }

    proptest::proptest! {
        #[test]
        fn parser_never_panics_on_arbitrary_text(text in "[0-9a-zA-Z:, .\n-]{0,400}") {
            let _ = DayAheadDataset::parse(text.as_bytes(), Path::new("fuzz.csv"));
        }

        #[test]
        fn parser_reads_back_generated_days(prices in proptest::collection::vec(-500.0f64..3000.0, 48)) {
            let mut text = String::from("Date,Price,A,B\n");
            for (i, p) in prices.iter().enumerate() {
                text.push_str(&format!("2020-01-{:02} {:02}:00:00,{p},1.5,2.5\n", 1 + i / 24, i % 24));
            }
            let ds = DayAheadDataset::parse(text.as_bytes(), Path::new("gen.csv")).unwrap();
            proptest::prop_assert_eq!(ds.n_days(), 2);
            for (i, p) in prices.iter().enumerate() {
                proptest::prop_assert_eq!(ds.price_per_mwh[i / 24][i % 24], *p);
            }
        }
    }
}
