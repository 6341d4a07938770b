//! Numbers, days and times as a page shows them in its language: amounts
//! with thousands separators, trading days in the language's date form,
//! instants in Beijing time (UTC+8, no daylight saving) with the zone named.
use super::locale::Locale;
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Utc};

/// Beijing time: UTC+8 all year.
fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// `v` rounded to `decimals` places, digits grouped by three (`1,234.50`;
/// both languages write numbers so).
pub fn number(v: f64, decimals: usize) -> String {
    if !v.is_finite() {
        return "–".to_owned();
    }
    let text = format!("{:.*}", decimals, v.abs());
    let (int, frac) = text
        .split_once('.')
        .map_or((text.as_str(), ""), |(i, f)| (i, f));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let negative = v < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0');
    let sign = if negative { "-" } else { "" };
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{frac}")
    }
}

/// An amount of money in yuan, to the fen.
pub fn yuan(v: f64) -> String {
    number(v, 2)
}

/// A trading day: `2026年12月8日` / `8 Dec 2026`.
pub fn day(locale: Locale, d: NaiveDate) -> String {
    match locale {
        Locale::ZhCn => format!("{}年{}月{}日", d.year(), d.month(), d.day()),
        Locale::En => d.format("%-d %b %Y").to_string(),
    }
}

/// An instant in Beijing time with the zone named.
pub fn instant(locale: Locale, t: DateTime<Utc>) -> String {
    let local = t.with_timezone(&beijing()).format("%Y-%m-%d %H:%M:%S");
    format!("{local} {}", locale.messages().beijing_time)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_by_thousands_and_rounded() {
        assert_eq!(number(1234567.891, 2), "1,234,567.89");
        assert_eq!(number(-1234.5, 2), "-1,234.50");
        assert_eq!(number(999.0, 0), "999");
        assert_eq!(number(-0.001, 2), "0.00");
        assert_eq!(number(f64::NAN, 2), "–");
        assert_eq!(yuan(100000.0), "100,000.00");
    }

    #[test]
    fn days_and_instants_follow_the_language_and_name_beijing_time() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 8).unwrap();
        assert_eq!(day(Locale::ZhCn, d), "2026年12月8日");
        assert_eq!(day(Locale::En, d), "8 Dec 2026");
        let t = DateTime::parse_from_rfc3339("2026-12-07T16:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(instant(Locale::En, t), "2026-12-08 00:30:00 Beijing time");
        assert_eq!(instant(Locale::ZhCn, t), "2026-12-08 00:30:00 北京时间");
    }
}
