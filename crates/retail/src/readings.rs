//! Interval meter data: validation, estimation and editing (VEE) as
//! utilities do it. One stored record per metering point and month
//! ([`MeterMonth`], id `<meter>:<YYYY-MM>`) holds every 15-minute interval's
//! energy, its quality flag and which import it came from; a corrected
//! reading is a new version of that record, so the superseded value remains
//! in the store's history.
//!
//! Files (layouts in docs/retail.md): the long layout
//! `meter_id,interval_start,kwh` and the wide layout `time,<meter>,<meter>…`
//! of the profiles in `../shared/data/retail_load/`. Hourly meters' readings
//! fill their four quarter-hours in equal integer parts.
//!
//! Refused (nothing is written, every refusal names its row and rule):
//! unknown meter, unreadable row, negative energy, a start off the meter's
//! interval grid, the same interval twice with different values, and a value
//! that differs from a stored actual reading outside a correction import.
//! Flagged but kept: spikes and stuck meters. Estimated: gaps between read
//! intervals (see [`estimate_gaps`]).
//!
//! Must not: touch the store (the service does) or rate anything.
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use voltex_model::{Violation, Violations};
use voltex_store::Entity;

use crate::customer::MeteringPoint;
use crate::money::{Wh, parse_kwh};
use crate::month::{Month, SLOTS_PER_DAY};

/// Quality of one interval's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quality {
    /// Read from the meter.
    Actual,
    /// Estimated by the documented rule (never billed as read).
    Estimated,
    /// A corrected reading that superseded an earlier value.
    Corrected,
    /// No value (after the last read interval of a month in progress).
    Missing,
}

impl Quality {
    pub fn code(self) -> char {
        match self {
            Quality::Actual => 'A',
            Quality::Estimated => 'E',
            Quality::Corrected => 'C',
            Quality::Missing => '-',
        }
    }

    pub fn from_code(c: char) -> Quality {
        match c {
            'A' => Quality::Actual,
            'E' => Quality::Estimated,
            'C' => Quality::Corrected,
            _ => Quality::Missing,
        }
    }

    /// Whether the value came from a meter (as read or as corrected).
    pub fn is_read(self) -> bool {
        matches!(self, Quality::Actual | Quality::Corrected)
    }
}

/// One month of a metering point's 15-minute energy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeterMonth {
    pub meter_id: String,
    pub customer_id: String,
    pub retailer_id: String,
    pub month: Month,
    /// Energy per interval, Wh (0 where `quality` is missing).
    pub wh: Vec<Wh>,
    /// One [`Quality::code`] per interval.
    pub quality: String,
    /// Per interval: index into `sources` of the import that set it
    /// (`u16::MAX`: none).
    pub source: Vec<u16>,
    /// The imports that contributed: `<file name>#<sha256 prefix>`.
    pub sources: Vec<String>,
}

impl MeterMonth {
    pub fn empty(meter: &MeteringPoint, month: Month) -> Self {
        let n = month.slots();
        MeterMonth {
            meter_id: meter.id.clone(),
            customer_id: meter.customer_id.clone(),
            retailer_id: meter.retailer_id.clone(),
            month,
            wh: vec![0; n],
            quality: "-".repeat(n),
            source: vec![u16::MAX; n],
            sources: Vec::new(),
        }
    }

    pub fn id_of(meter_id: &str, month: Month) -> String {
        format!("{meter_id}:{month}")
    }

    pub fn qualities(&self) -> Vec<Quality> {
        self.quality.chars().map(Quality::from_code).collect()
    }

    /// Counts of intervals by quality: (actual, estimated, corrected, missing).
    pub fn counts(&self) -> QualityCounts {
        let mut c = QualityCounts::default();
        for q in self.quality.chars().map(Quality::from_code) {
            match q {
                Quality::Actual => c.actual += 1,
                Quality::Estimated => c.estimated += 1,
                Quality::Corrected => c.corrected += 1,
                Quality::Missing => c.missing += 1,
            }
        }
        c
    }
}

impl Entity for MeterMonth {
    const TABLE: &'static str = "retail_meter_months";
    const NAME: &'static str = "meter month";
    /// A customer's consumption.
    const SENSITIVE: bool = true;
    const OWNED: bool = true;
    fn entity_id(&self) -> String {
        Self::id_of(&self.meter_id, self.month)
    }
    fn owner(&self) -> Option<&str> {
        Some(&self.retailer_id)
    }
}

/// How many intervals of each quality a series has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QualityCounts {
    pub actual: usize,
    pub estimated: usize,
    pub corrected: usize,
    pub missing: usize,
}

impl std::ops::AddAssign for QualityCounts {
    fn add_assign(&mut self, o: Self) {
        self.actual += o.actual;
        self.estimated += o.estimated;
        self.corrected += o.corrected;
        self.missing += o.missing;
    }
}

/// One reading of a file, as parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadingRow {
    /// 1-based line in the file (the header is line 1).
    pub line: usize,
    pub meter_id: String,
    /// Local start of the interval.
    pub start: NaiveDateTime,
    pub wh: Wh,
}

/// Whether an import adds readings or corrects stored ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportKind {
    /// New readings; a value that differs from a stored actual is refused.
    Readings,
    /// Corrections: supersede stored values, flagged corrected.
    Corrections,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImportReport {
    pub source: String,
    pub rows: usize,
    /// Intervals whose value or flag changed.
    pub changed: usize,
    /// Rows that repeated what is stored (a re-import changes nothing).
    pub unchanged: usize,
    /// Rows repeated inside the file with the same value.
    pub duplicates: usize,
    /// Intervals estimated after the import.
    pub estimated: usize,
    /// Meter-months written (new versions).
    pub months_written: usize,
    /// Kept but suspicious (spikes, stuck meters), each naming row and rule.
    pub warnings: Vec<Violation>,
}

/// The name a file is known by in lineage: its name and a hash prefix of
/// its bytes, so that the same file imported twice is the same source.
pub fn source_name(file_name: &str, bytes: &[u8]) -> String {
    let h = Sha256::digest(bytes);
    format!("{file_name}#{}", &hex::encode(h)[..12])
}

/// Parses a readings file in either layout. Every unreadable row is a
/// violation naming its line and field.
pub fn parse_csv(text: &str) -> Result<Vec<ReadingRow>, Violations> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header: Vec<String> = match rdr.headers() {
        Ok(h) => h.iter().map(str::to_owned).collect(),
        Err(e) => return Err(Violations::one("header", "csv", "", e.to_string())),
    };
    let mut rows = Vec::new();
    let mut v = Violations::default();
    let wide = match header.first().map(String::as_str) {
        Some("meter_id")
            if header.len() == 3 && header[1] == "interval_start" && header[2] == "kwh" =>
        {
            false
        }
        Some("time") if header.len() >= 2 => true,
        _ => {
            return Err(Violations::one(
                "header",
                "known_layout",
                header.join(","),
                "the header is `meter_id,interval_start,kwh` (long layout) or `time,<meter>,...` (wide layout)",
            ));
        }
    };
    for (i, rec) in rdr.records().enumerate() {
        let line = i + 2;
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                v.push(Violation::new(
                    format!("row {line}"),
                    "csv",
                    "",
                    e.to_string(),
                ));
                continue;
            }
        };
        if rec.len() != header.len() {
            v.push(Violation::new(
                format!("row {line}"),
                "column_count",
                rec.len(),
                format!("the header has {} columns", header.len()),
            ));
            continue;
        }
        let Some(start) = parse_start(&rec[if wide { 0 } else { 1 }]) else {
            v.push(Violation::new(
                format!(
                    "row {line}: {}",
                    if wide { "time" } else { "interval_start" }
                ),
                "local_timestamp",
                rec[if wide { 0 } else { 1 }].to_owned(),
                "an interval start is YYYY-MM-DDTHH:MM local time (an offset is ignored)",
            ));
            continue;
        };
        let cells: Vec<(String, &str)> = if wide {
            header[1..]
                .iter()
                .cloned()
                .zip(rec.iter().skip(1))
                .collect()
        } else {
            vec![(rec[0].to_owned(), &rec[2])]
        };
        for (meter_id, cell) in cells {
            match parse_kwh(cell) {
                Some(wh) => rows.push(ReadingRow {
                    line,
                    meter_id,
                    start,
                    wh,
                }),
                None => v.push(Violation::new(
                    format!("row {line}: kwh"),
                    "decimal_kwh",
                    cell.to_owned(),
                    "energy is kWh written as a decimal with at most 3 decimals",
                )),
            }
        }
    }
    v.into_result().map(|()| rows)
}

/// `2026-07-01T00:15`, `2026-07-01 00:15[:00]`, optionally followed by a
/// UTC offset (dropped: the wall-clock time is what is billed).
fn parse_start(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    let local = match s.get(16..) {
        Some(rest) if rest.starts_with('+') || rest.starts_with('-') || rest == "Z" => &s[..16],
        _ => s,
    };
    for fmt in [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(local, fmt) {
            return Some(t);
        }
    }
    None
}

/// Applies parsed rows to the stored months of the meters they name
/// (`stored`: meter-month id → latest record) and returns the months that
/// change, with the report. Pure: refusals leave `stored` untouched and
/// nothing is returned to write.
pub fn apply(
    rows: &[ReadingRow],
    meters: &HashMap<String, MeteringPoint>,
    stored: &HashMap<String, MeterMonth>,
    kind: ImportKind,
    source: &str,
) -> Result<(Vec<MeterMonth>, ImportReport), Violations> {
    let mut v = Violations::default();
    let mut report = ImportReport {
        source: source.to_owned(),
        rows: rows.len(),
        ..Default::default()
    };
    // (meter, month) -> slot -> (wh, line)
    let mut wanted: BTreeMap<(String, Month), BTreeMap<usize, (Wh, usize)>> = BTreeMap::new();
    for r in rows {
        let Some(meter) = meters.get(&r.meter_id) else {
            v.push(Violation::new(
                format!("row {}: meter_id", r.line),
                "known_meter",
                r.meter_id.clone(),
                "no metering point with this id belongs to the retailer",
            ));
            continue;
        };
        if r.wh < 0 {
            v.push(Violation::new(
                format!("row {}: kwh", r.line),
                "non_negative",
                crate::money::kwh_string(r.wh),
                "consumption readings are not negative",
            ));
            continue;
        }
        let month = Month::of(r.start.date());
        let Some(slot) = month.slot_of(r.start) else {
            v.push(Violation::new(
                format!("row {}: interval_start", r.line),
                "interval_grid",
                r.start.to_string(),
                "an interval starts on a quarter hour",
            ));
            continue;
        };
        let per = meter.interval_minutes as usize / 15;
        if slot % per != 0 {
            v.push(Violation::new(
                format!("row {}: interval_start", r.line),
                "interval_grid",
                r.start.to_string(),
                format!(
                    "meter {} records {}-minute intervals",
                    meter.id, meter.interval_minutes
                ),
            ));
            continue;
        }
        let total = r.wh * meter.multiplier;
        let slots = wanted.entry((meter.id.clone(), month)).or_default();
        for k in 0..per {
            // equal integer parts, the remainder on the first quarter-hours
            let part = total / per as i64 + i64::from((k as i64) < total % per as i64);
            match slots.get(&(slot + k)) {
                Some((w, _)) if *w == part => {
                    if k == 0 {
                        report.duplicates += 1;
                    }
                }
                Some((_, first)) => {
                    v.push(Violation::new(
                        format!("row {}: kwh", r.line),
                        "unique_interval",
                        crate::money::kwh_string(r.wh),
                        format!(
                            "meter {} interval {} is also in row {first} with another value",
                            meter.id, r.start
                        ),
                    ));
                    break;
                }
                None => {
                    slots.insert(slot + k, (part, r.line));
                }
            }
        }
    }
    let mut out = Vec::new();
    for ((meter_id, month), slots) in &wanted {
        let meter = &meters[meter_id];
        let id = MeterMonth::id_of(meter_id, *month);
        let before = stored
            .get(&id)
            .cloned()
            .unwrap_or_else(|| MeterMonth::empty(meter, *month));
        let mut m = before.clone();
        let mut q = m.qualities();
        let src = match m.sources.iter().position(|s| s == source) {
            Some(i) => i as u16,
            None => {
                m.sources.push(source.to_owned());
                (m.sources.len() - 1) as u16
            }
        };
        for (&slot, &(wh, line)) in slots {
            match (q[slot].is_read(), m.wh[slot] == wh, kind) {
                (true, true, _) => report.unchanged += 1,
                (true, false, ImportKind::Readings) => v.push(Violation::new(
                    format!("row {line}: kwh"),
                    "differs_from_stored_reading",
                    crate::money::kwh_string(wh),
                    format!(
                        "meter {meter_id} interval {} holds {} kWh already; import a correction to change it",
                        month.slot_start(slot),
                        crate::money::kwh_string(m.wh[slot])
                    ),
                )),
                (_, _, k) => {
                    m.wh[slot] = wh;
                    q[slot] = if k == ImportKind::Corrections {
                        Quality::Corrected
                    } else {
                        Quality::Actual
                    };
                    m.source[slot] = src;
                }
            }
        }
        for w in flag_suspicious(&m.wh, &q, slots, meter_id) {
            report.warnings.push(w);
        }
        estimate_gaps(&mut m.wh, &mut q);
        m.quality = q.iter().map(|x| x.code()).collect();
        if m.wh != before.wh || m.quality != before.quality {
            report.changed +=
                m.wh.iter()
                    .zip(&before.wh)
                    .zip(m.quality.chars().zip(before.quality.chars()))
                    .filter(|((a, b), (qa, qb))| a != b || qa != qb)
                    .count();
            report.estimated += m.quality.chars().filter(|c| *c == 'E').count();
            out.push(m);
        }
    }
    v.into_result()?;
    report.months_written = out.len();
    Ok((out, report))
}

/// Longest gap (intervals) filled by straight-line interpolation: 2 hours.
pub const INTERPOLATION_LIMIT: usize = 8;
/// Run of equal non-zero values that flags a stuck meter: 4 hours.
pub const STUCK_RUN: usize = 16;
/// A value above this many times the meter-month's 95th percentile of read
/// values is a spike (the median would flag the ordinary evening peak of a
/// household, which is 10-20 times its night load).
pub const SPIKE_FACTOR: i64 = 4;

/// Fills every interval between the first and the last read one that has
/// no read value, and flags it estimated:
/// - a gap of at most [`INTERPOLATION_LIMIT`] intervals: the straight line
///   between the read neighbours (rounded to the Wh);
/// - a longer gap: the same interval one week earlier if it was read, else
///   one week later, else the straight line.
///
/// Intervals after the last read one stay missing (a month in progress);
/// those before the first read one too. Deterministic.
pub fn estimate_gaps(wh: &mut [Wh], q: &mut [Quality]) {
    let n = wh.len();
    for i in 0..n {
        if q[i] == Quality::Estimated {
            q[i] = Quality::Missing;
            wh[i] = 0;
        }
    }
    let Some(first) = q.iter().position(|x| x.is_read()) else {
        return;
    };
    let last = q.iter().rposition(|x| x.is_read()).expect("one is read");
    let week = 7 * SLOTS_PER_DAY;
    let mut i = first;
    while i < last {
        if q[i].is_read() {
            i += 1;
            continue;
        }
        let start = i;
        while !q[i].is_read() {
            i += 1;
        }
        let (a, b) = (wh[start - 1], wh[i]);
        let len = i - start;
        for (k, slot) in (start..i).enumerate() {
            let line = a as i128
                + crate::money::div_round((b - a) as i128 * (k as i128 + 1), len as i128 + 1);
            wh[slot] = if len <= INTERPOLATION_LIMIT {
                line as i64
            } else if slot >= week && q[slot - week].is_read() {
                wh[slot - week]
            } else if slot + week < n && q[slot + week].is_read() {
                wh[slot + week]
            } else {
                line as i64
            };
            q[slot] = Quality::Estimated;
        }
    }
}

/// Spikes and stuck runs among the slots this import set.
fn flag_suspicious(
    wh: &[Wh],
    q: &[Quality],
    set: &BTreeMap<usize, (Wh, usize)>,
    meter_id: &str,
) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut read: Vec<Wh> = wh
        .iter()
        .zip(q)
        .filter(|(w, q)| q.is_read() && **w > 0)
        .map(|(w, _)| *w)
        .collect();
    if read.is_empty() {
        return out;
    }
    read.sort_unstable();
    let p95 = read[(read.len() * 95 / 100).min(read.len() - 1)];
    for &(w, line) in set.values() {
        if w > SPIKE_FACTOR * p95 {
            out.push(Violation::new(
                format!("row {line}: kwh"),
                "spike",
                crate::money::kwh_string(w),
                format!(
                    "meter {meter_id}: more than {SPIKE_FACTOR}× the month's 95th percentile of {} kWh; kept, check the meter",
                    crate::money::kwh_string(p95)
                ),
            ));
        }
    }
    let slots: Vec<usize> = set.keys().copied().collect();
    let mut run = 1;
    for k in 1..slots.len() {
        let (a, b) = (slots[k - 1], slots[k]);
        if b == a + 1 && wh[a] == wh[b] && wh[b] != 0 {
            run += 1;
            if run == STUCK_RUN {
                out.push(Violation::new(
                    format!("row {}: kwh", set[&b].1),
                    "stuck_meter",
                    crate::money::kwh_string(wh[b]),
                    format!(
                        "meter {meter_id}: {STUCK_RUN} consecutive intervals read the same value; kept, check the meter"
                    ),
                ));
            }
        } else {
            run = 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meter(id: &str, minutes: u32) -> MeteringPoint {
        MeteringPoint {
            id: id.into(),
            customer_id: "C1".into(),
            retailer_id: "RET1".into(),
            multiplier: 1,
            interval_minutes: minutes,
        }
    }

    fn meters() -> HashMap<String, MeteringPoint> {
        [
            ("M1".to_owned(), meter("M1", 15)),
            ("H1".to_owned(), meter("H1", 60)),
        ]
        .into_iter()
        .collect()
    }

    fn csv(lines: &[&str]) -> String {
        let mut s = String::from("meter_id,interval_start,kwh\n");
        for l in lines {
            s.push_str(l);
            s.push('\n');
        }
        s
    }

    #[test]
    fn short_gap_is_interpolated_and_flagged_estimated() {
        let rows = parse_csv(&csv(&[
            "M1,2026-07-01T00:00,1.000",
            "M1,2026-07-01T00:45,4.000",
        ]))
        .unwrap();
        let (out, report) = apply(
            &rows,
            &meters(),
            &HashMap::new(),
            ImportKind::Readings,
            "f#1",
        )
        .unwrap();
        let m = &out[0];
        assert_eq!(&m.wh[..4], &[1000, 2000, 3000, 4000]);
        assert_eq!(&m.quality[..5], "AEEA-");
        assert_eq!(report.estimated, 2);
        assert_eq!(m.counts().missing, m.month.slots() - 4);
    }

    #[test]
    fn long_gap_takes_the_same_interval_a_week_earlier() {
        let mut wh = vec![0; 2 * 7 * 96];
        let mut q = vec![Quality::Actual; wh.len()];
        for (i, w) in wh.iter_mut().enumerate() {
            *w = i as i64;
        }
        let week = 7 * 96;
        for x in &mut q[week + 10..week + 30] {
            *x = Quality::Missing;
        }
        estimate_gaps(&mut wh, &mut q);
        assert_eq!(wh[week + 15], 15);
        assert_eq!(q[week + 15], Quality::Estimated);
    }

    #[test]
    fn the_same_file_twice_changes_nothing() {
        let text = csv(&["M1,2026-07-01T00:00,1.5", "M1,2026-07-01T00:15,1.25"]);
        let rows = parse_csv(&text).unwrap();
        let (out, _) = apply(
            &rows,
            &meters(),
            &HashMap::new(),
            ImportKind::Readings,
            "f#1",
        )
        .unwrap();
        let stored: HashMap<_, _> = out.into_iter().map(|m| (m.entity_id(), m)).collect();
        let (again, report) =
            apply(&rows, &meters(), &stored, ImportKind::Readings, "f#1").unwrap();
        assert!(again.is_empty());
        assert_eq!(report.unchanged, 2);
    }

    #[test]
    fn refuses_unknown_meter_negative_value_and_off_grid_start_naming_rows() {
        let rows = parse_csv(&csv(&[
            "M9,2026-07-01T00:00,1",
            "M1,2026-07-01T00:15,-1",
            "H1,2026-07-01T00:15,1",
            "M1,2026-07-01T00:30,1",
        ]))
        .unwrap();
        let v = apply(&rows, &meters(), &HashMap::new(), ImportKind::Readings, "f").unwrap_err();
        assert!(v.has("row 2: meter_id", "known_meter"));
        assert!(v.has("row 3: kwh", "non_negative"));
        assert!(v.has("row 4: interval_start", "interval_grid"));
        assert_eq!(v.len(), 3);
    }

    #[test]
    fn a_changed_value_needs_a_correction_import_and_is_flagged_corrected() {
        let rows = parse_csv(&csv(&["M1,2026-07-01T00:00,1"])).unwrap();
        let (out, _) = apply(&rows, &meters(), &HashMap::new(), ImportKind::Readings, "a").unwrap();
        let stored: HashMap<_, _> = out.into_iter().map(|m| (m.entity_id(), m)).collect();
        let fix = parse_csv(&csv(&["M1,2026-07-01T00:00,2"])).unwrap();
        let v = apply(&fix, &meters(), &stored, ImportKind::Readings, "b").unwrap_err();
        assert!(v.has("row 2: kwh", "differs_from_stored_reading"));
        let (out, _) = apply(&fix, &meters(), &stored, ImportKind::Corrections, "b").unwrap();
        assert_eq!(out[0].wh[0], 2000);
        assert_eq!(&out[0].quality[..1], "C");
        assert_eq!(out[0].sources, vec!["a", "b"]);
    }

    #[test]
    fn duplicates_with_different_values_are_refused() {
        let rows = parse_csv(&csv(&["M1,2026-07-01T00:00,1", "M1,2026-07-01T00:00,2"])).unwrap();
        let v = apply(&rows, &meters(), &HashMap::new(), ImportKind::Readings, "f").unwrap_err();
        assert!(v.has("row 3: kwh", "unique_interval"));
    }

    #[test]
    fn hourly_readings_fill_four_quarter_hours_exactly() {
        let rows = parse_csv(&csv(&["H1,2026-07-01T01:00,1.003"])).unwrap();
        let (out, _) = apply(&rows, &meters(), &HashMap::new(), ImportKind::Readings, "f").unwrap();
        assert_eq!(&out[0].wh[4..8], &[251, 251, 251, 250]);
    }

    #[test]
    fn wide_layout_with_offsets_is_read_as_local_time() {
        let text = "time,M1,H1\n2026-07-01T00:00+02:00,0.5,2\n";
        let rows = parse_csv(text).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].start.to_string(), "2026-07-01 00:00:00");
        assert_eq!((rows[1].meter_id.as_str(), rows[1].wh), ("H1", 2000));
    }

    #[test]
    fn spikes_and_stuck_meters_are_kept_and_flagged() {
        let mut lines = Vec::new();
        for i in 0..20 {
            lines.push(format!("M1,2026-07-01T{:02}:{:02},1", i / 4, (i % 4) * 15));
        }
        lines.push("M1,2026-07-01T05:00,50".into());
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let rows = parse_csv(&csv(&refs)).unwrap();
        let (out, report) =
            apply(&rows, &meters(), &HashMap::new(), ImportKind::Readings, "f").unwrap();
        assert_eq!(out[0].wh[20], 50_000);
        let rules: Vec<&str> = report.warnings.iter().map(|w| w.rule.as_str()).collect();
        assert_eq!(rules, vec!["spike", "stuck_meter"]);
    }

    #[test]
    fn unknown_layout_is_refused() {
        let v = parse_csv("a,b\n1,2\n").unwrap_err();
        assert!(v.has("header", "known_layout"));
    }
}
