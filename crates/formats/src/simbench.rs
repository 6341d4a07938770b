//! The SimBench extract shipped in `data/retail/` (see its PROVENANCE.md):
//! the load roster (`simbench_load_roster.csv`) and the 15-minute per-unit
//! load profiles (`simbench_load_profiles_2016_*.csv[.gz]`). Pure parsing:
//! callers read the files (`datadir::read_text`).
//!
//! Profile values have six decimals and are kept exact as millionths.
//! Clock-change days have 92 (spring) or 100 (autumn) rows in the file;
//! [`whole_day`] makes them 96 for callers that need a fixed grid.
use chrono::NaiveDate;
use std::collections::{BTreeMap, BTreeSet};
use voltex_model::money::{div_round, parse_scaled};

/// What went wrong where in a SimBench file.
#[derive(Debug, thiserror::Error)]
#[error("SimBench {file}, record {record}: {reason}")]
pub struct SimbenchError {
    pub file: &'static str,
    pub record: u64,
    pub reason: String,
}

/// One load of the roster.
#[derive(Debug, Clone, PartialEq)]
pub struct RosterLoad {
    pub network: String,
    pub id: String,
    /// Medium voltage (`voltLvl` 5); otherwise low voltage.
    pub mv: bool,
    /// The profile column its curve is.
    pub profile: String,
    /// Rated active power `pLoad_MW`, in kW (rounded).
    pub p_load_kw: i64,
    /// Rated apparent power `sR_MVA`, in kVA (rounded).
    pub s_r_kva: i64,
    /// `annual_energy_MWh` in kWh (rounded).
    pub annual_kwh: i64,
}

/// Profile → date → per-unit values in millionths, rows as in the file.
pub type ProfileDays = BTreeMap<String, BTreeMap<NaiveDate, Vec<i64>>>;

fn err(file: &'static str, record: u64, reason: impl Into<String>) -> SimbenchError {
    SimbenchError {
        file,
        record,
        reason: reason.into(),
    }
}

/// Parses `simbench_load_roster.csv`.
pub fn parse_roster(text: &str) -> Result<Vec<RosterLoad>, SimbenchError> {
    const FILE: &str = "roster";
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let mut out = Vec::new();
    for (k, rec) in rdr.records().enumerate() {
        let line = k as u64 + 1;
        let r = rec.map_err(|e| err(FILE, line, e.to_string()))?;
        if r.len() < 11 {
            return Err(err(FILE, line, format!("{} columns, 11 expected", r.len())));
        }
        // MW and MVA with up to 9 decimals → kW, kVA
        let thousandths = |i: usize, name: &str| {
            parse_scaled(&r[i], 9)
                .map(|v| div_round(v as i128, 1_000_000) as i64)
                .ok_or_else(|| err(FILE, line, format!("{name} {:?}", &r[i])))
        };
        out.push(RosterLoad {
            network: r[0].to_owned(),
            id: r[1].to_owned(),
            mv: &r[4] == "5",
            profile: r[6].to_owned(),
            p_load_kw: thousandths(7, "pLoad_MW")?,
            s_r_kva: thousandths(9, "sR_MVA")?,
            annual_kwh: parse_scaled(&r[10], 4)
                .map(|v| div_round(v as i128, 10) as i64)
                .ok_or_else(|| err(FILE, line, format!("annual_energy_MWh {:?}", &r[10])))?,
        });
    }
    Ok(out)
}

/// Parses a profile file: every column in `wanted` (all when `None`), for
/// the days `keep` accepts.
pub fn parse_profiles(
    text: &str,
    wanted: Option<&BTreeSet<String>>,
    keep: impl Fn(NaiveDate) -> bool,
) -> Result<ProfileDays, SimbenchError> {
    const FILE: &str = "profiles";
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let cols: Vec<(usize, String)> = rdr
        .headers()
        .map_err(|e| err(FILE, 0, e.to_string()))?
        .iter()
        .enumerate()
        .skip(1)
        .filter(|(_, n)| wanted.is_none_or(|w| w.contains(*n)))
        .map(|(i, n)| (i, n.to_owned()))
        .collect();
    let mut out: ProfileDays = cols
        .iter()
        .map(|(_, n)| (n.clone(), BTreeMap::new()))
        .collect();
    for (k, rec) in rdr.records().enumerate() {
        let line = k as u64 + 1;
        let r = rec.map_err(|e| err(FILE, line, e.to_string()))?;
        let time = &r[0];
        let day = time
            .get(..10)
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .ok_or_else(|| err(FILE, line, format!("time {time:?}")))?;
        if !keep(day) {
            continue;
        }
        for (i, n) in &cols {
            let v = r
                .get(*i)
                .and_then(|c| parse_scaled(c, 6))
                .ok_or_else(|| err(FILE, line, format!("{n}: {:?}", r.get(*i))))?;
            out.get_mut(n)
                .expect("every column has an entry")
                .entry(day)
                .or_default()
                .push(v);
        }
    }
    Ok(out)
}

/// Makes a clock-change day 96 quarter-hours: the spring-forward day's
/// missing hour (02:00–03:00) repeats 01:00–02:00, the fall-back day's
/// second 02:00–03:00 is dropped. `false` (and nothing changed) for a day
/// of any other length than 92, 96 or 100.
pub fn whole_day<T: Clone>(rows: &mut Vec<T>) -> bool {
    match rows.len() {
        92 => {
            let hour: Vec<T> = rows[4..8].to_vec();
            rows.splice(8..8, hour);
            true
        }
        100 => {
            rows.drain(12..16);
            true
        }
        96 => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROSTER: &str = "network,id,node,subnet,voltLvl,voltLvl_name,profile,pLoad_MW,qLoad_MVAr,sR_MVA,annual_energy_MWh\n\
1-MV-rural--0-sw,MV1.101 MV Load 1,MV1.101 Bus 15,MV1.101,5,MV,L2-M,0.35,0.1383,0.376344,991.0789\n\
1-LV-rural1--0-sw,LV1.101 Load 3,LV1.101 Bus 4,LV1.101,7,LV,H0-A,0.0031,0.0012,0.0033,2.4567\n";

    #[test]
    fn roster_rows_become_kilowatts_and_voltage_levels() {
        let r = parse_roster(ROSTER).unwrap();
        assert_eq!(r.len(), 2);
        assert!(r[0].mv && !r[1].mv);
        assert_eq!(
            (r[0].p_load_kw, r[0].s_r_kva, r[0].annual_kwh),
            (350, 376, 991_079)
        );
        assert_eq!((r[1].p_load_kw, r[1].profile.as_str()), (3, "H0-A"));
    }

    #[test]
    fn a_bad_number_names_the_column_and_record() {
        let bad = ROSTER.replace("0.35,", "x,");
        let e = parse_roster(&bad).unwrap_err().to_string();
        assert!(e.contains("pLoad_MW") && e.contains("record 1"), "{e}");
    }

    #[test]
    fn profiles_keep_the_wanted_columns_and_days_in_millionths() {
        let text = "time,A,B\n2016-01-01T00:00+01:00,0.5,0.25\n2016-01-02T00:00+01:00,0.125,1\n";
        let wanted: BTreeSet<String> = ["B".to_owned()].into();
        let p = parse_profiles(text, Some(&wanted), |d| d.to_string() == "2016-01-02").unwrap();
        assert_eq!(p.len(), 1);
        let b = &p["B"];
        assert_eq!(b.values().next().unwrap(), &vec![1_000_000]);
    }

    #[test]
    fn clock_change_days_are_made_whole() {
        let mut spring: Vec<usize> = (0..92).collect();
        assert!(whole_day(&mut spring));
        assert_eq!(spring.len(), 96);
        assert_eq!(&spring[8..12], &[4, 5, 6, 7]);
        let mut autumn: Vec<usize> = (0..100).collect();
        assert!(whole_day(&mut autumn));
        assert_eq!((autumn.len(), autumn[12]), (96, 16));
        let mut odd = vec![0; 50];
        assert!(!whole_day(&mut odd));
        assert_eq!(odd.len(), 50);
    }
}
