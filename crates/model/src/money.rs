//! Exact quantities of a bill: energy in watt-hours, prices in 0.01 fen per
//! kWh (the rounding unit of the Chinese provincial tariff notices), money
//! in fen, ratios and shares in basis points. All integers; no `f64` ever
//! reaches a bill. Products are formed in `i128` and rounded once, half away
//! from zero, at the unit of the result.
//!
//! Must not: hold any tariff rule (that is `voltex-retail`'s `package`), nor format for a
//! particular page beyond the plain decimal `Display`.
use serde::{Deserialize, Serialize};
use std::fmt;

/// Energy in watt-hours (meter readings are kWh with three decimals).
pub type Wh = i64;

/// Money in fen (0.01 yuan).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Fen(pub i64);

/// A price per kWh in units of 0.01 fen (0.0001 yuan): 0.6725 yuan/kWh is
/// `PricePerKwh(6725)`.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct PricePerKwh(pub i64);

/// A ratio or share in basis points: 1.7 is `Bp(17_000)`, 10 % is `Bp(1_000)`.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Bp(pub i64);

/// `n / d` rounded half away from zero (`d > 0`).
pub fn div_round(n: i128, d: i128) -> i128 {
    debug_assert!(d > 0);
    let q = n / d;
    let r = n % d;
    if 2 * r.abs() >= d { q + n.signum() } else { q }
}

impl PricePerKwh {
    /// The charge for `wh` at this price: `wh × price / 100 000` fen.
    pub fn charge(self, wh: Wh) -> Fen {
        Fen(div_round(wh as i128 * self.0 as i128, 100_000) as i64)
    }

    /// This price times a ratio, rounded to 0.01 fen/kWh.
    pub fn scaled(self, ratio: Bp) -> PricePerKwh {
        PricePerKwh(div_round(self.0 as i128 * ratio.0 as i128, 10_000) as i64)
    }

    /// Parses yuan/kWh written as a decimal (`0.6725`, at most 4 decimals).
    pub fn parse_yuan(s: &str) -> Option<PricePerKwh> {
        parse_scaled(s, 4).map(PricePerKwh)
    }

    /// The energy-weighted average of `(wh, price)` pairs, rounded to
    /// 0.01 fen/kWh; `None` when the energy sums to zero.
    pub fn weighted_average(pairs: impl IntoIterator<Item = (Wh, PricePerKwh)>) -> Option<Self> {
        let (mut num, mut den) = (0i128, 0i128);
        for (wh, p) in pairs {
            num += wh as i128 * p.0 as i128;
            den += wh as i128;
        }
        (den > 0).then(|| PricePerKwh(div_round(num, den) as i64))
    }
}

impl Fen {
    /// This amount times a ratio (VAT, a share), rounded to the fen.
    pub fn scaled(self, ratio: Bp) -> Fen {
        Fen(div_round(self.0 as i128 * ratio.0 as i128, 10_000) as i64)
    }

    pub fn yuan_string(self) -> String {
        self.to_string()
    }
}

impl std::ops::Add for Fen {
    type Output = Fen;
    fn add(self, o: Fen) -> Fen {
        Fen(self.0 + o.0)
    }
}

impl std::ops::Sub for Fen {
    type Output = Fen;
    fn sub(self, o: Fen) -> Fen {
        Fen(self.0 - o.0)
    }
}

impl std::ops::AddAssign for Fen {
    fn add_assign(&mut self, o: Fen) {
        self.0 += o.0;
    }
}

impl std::iter::Sum for Fen {
    fn sum<I: Iterator<Item = Fen>>(iter: I) -> Fen {
        Fen(iter.map(|f| f.0).sum())
    }
}

/// Yuan with two decimals (`-12.05`).
impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_scaled(f, self.0, 2)
    }
}

/// Yuan per kWh with four decimals (`0.6725`).
impl fmt::Display for PricePerKwh {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_scaled(f, self.0, 4)
    }
}

/// Energy as kWh with three decimals.
pub fn kwh_string(wh: Wh) -> String {
    struct K(i64);
    impl fmt::Display for K {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write_scaled(f, self.0, 3)
        }
    }
    K(wh).to_string()
}

/// Parses kWh written as a decimal (`12.345`, at most 3 decimals) into Wh.
pub fn parse_kwh(s: &str) -> Option<Wh> {
    parse_scaled(s, 3)
}

fn write_scaled(f: &mut fmt::Formatter<'_>, v: i64, decimals: u32) -> fmt::Result {
    let unit = 10i64.pow(decimals);
    let sign = if v < 0 { "-" } else { "" };
    let a = v.unsigned_abs();
    write!(
        f,
        "{sign}{}.{:0width$}",
        a / unit as u64,
        a % unit as u64,
        width = decimals as usize
    )
}

/// Parses a plain decimal (`-1.5`, `12`, `0.0725`) into an integer of
/// `10^-decimals` units; `None` for anything else or more decimals.
pub fn parse_scaled(s: &str, decimals: u32) -> Option<i64> {
    let s = s.trim();
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > decimals as usize
    {
        return None;
    }
    let int: i64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let frac_val: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse::<i64>().ok()? * 10i64.pow(decimals - frac.len() as u32)
    };
    let v = int
        .checked_mul(10i64.pow(decimals))?
        .checked_add(frac_val)?;
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charge_rounds_half_away_from_zero_at_the_fen() {
        // 1 kWh at 0.6725 yuan = 67.25 fen -> 67 fen; 3 kWh = 201.75 -> 202
        assert_eq!(PricePerKwh(6725).charge(1000), Fen(67));
        assert_eq!(PricePerKwh(6725).charge(3000), Fen(202));
        assert_eq!(PricePerKwh(6725).charge(-3000), Fen(-202));
        // 0.5 fen exactly rounds away from zero
        assert_eq!(PricePerKwh(5000).charge(10), Fen(1));
    }

    #[test]
    fn guangdong_ratios_give_the_published_prices() {
        // 粤发改价格〔2021〕331号 example list: flat 67.25 fen, peak x1.7 = 114.33,
        // valley x0.38 = 25.56, sharp = peak x1.25 = 142.91 (0.01 fen rounding)
        let flat = PricePerKwh::parse_yuan("0.6725").unwrap();
        assert_eq!(flat.scaled(Bp(17_000)), PricePerKwh(11_433));
        assert_eq!(flat.scaled(Bp(3_800)), PricePerKwh(2_556));
        assert_eq!(
            flat.scaled(Bp(17_000)).scaled(Bp(12_500)),
            PricePerKwh(14_291)
        );
    }

    #[test]
    fn decimals_parse_exactly_and_refuse_excess_precision() {
        assert_eq!(parse_kwh("12.345"), Some(12_345));
        assert_eq!(parse_kwh("0.5"), Some(500));
        assert_eq!(parse_kwh("-1"), Some(-1000));
        assert_eq!(parse_kwh("1.2345"), None);
        assert_eq!(parse_kwh("abc"), None);
        assert_eq!(parse_kwh(""), None);
        assert_eq!(PricePerKwh::parse_yuan(".0725"), Some(PricePerKwh(725)));
    }

    #[test]
    fn amounts_print_as_yuan() {
        assert_eq!(Fen(-1205).to_string(), "-12.05");
        assert_eq!(Fen(7).to_string(), "0.07");
        assert_eq!(PricePerKwh(6725).to_string(), "0.6725");
        assert_eq!(kwh_string(12_345), "12.345");
    }

    #[test]
    fn weighted_average_weights_by_energy() {
        let avg =
            PricePerKwh::weighted_average([(1000, PricePerKwh(3000)), (3000, PricePerKwh(5000))]);
        assert_eq!(avg, Some(PricePerKwh(4500)));
        assert_eq!(PricePerKwh::weighted_average([]), None);
    }
}
