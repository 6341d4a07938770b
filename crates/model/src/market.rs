//! Markets and their sessions. One session per market per trading day, moving
//! scheduled → open → closed (gate closure) → cleared → published → settled.
use crate::calendar::TradingDay;
use crate::error::{TransitionError, Violations};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Rule code of a trading day outside the years a session may be created for.
pub const TRADING_DAY_RULE: &str = "trading_day_in_supported_years";

/// The markets a session can belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MarketKind {
    DayAheadEnergy,
    RealTimeEnergy,
    FrequencyRegulation,
    PeakRegulation,
}

impl MarketKind {
    pub const ALL: [MarketKind; 4] = [
        MarketKind::DayAheadEnergy,
        MarketKind::RealTimeEnergy,
        MarketKind::FrequencyRegulation,
        MarketKind::PeakRegulation,
    ];

    /// Short code used in session ids and file names.
    pub fn code(self) -> &'static str {
        match self {
            MarketKind::DayAheadEnergy => "DA",
            MarketKind::RealTimeEnergy => "RT",
            MarketKind::FrequencyRegulation => "FR",
            MarketKind::PeakRegulation => "PR",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.code() == code)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MarketKind::DayAheadEnergy => "day_ahead_energy",
            MarketKind::RealTimeEnergy => "real_time_energy",
            MarketKind::FrequencyRegulation => "frequency_regulation",
            MarketKind::PeakRegulation => "peak_regulation",
        }
    }
}

impl fmt::Display for MarketKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a session is in its day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    /// Created; declarations not yet accepted.
    Scheduled,
    /// Declaration window open: members submit and resubmit.
    Open,
    /// Gate closed: the latest version of each declaration is locked.
    Closed,
    /// Clearing has produced dispatch and prices.
    Cleared,
    /// Results released to members and the public.
    Published,
    /// Positions settled; terminal.
    Settled,
}

impl SessionState {
    pub const ALL: [SessionState; 6] = [
        SessionState::Scheduled,
        SessionState::Open,
        SessionState::Closed,
        SessionState::Cleared,
        SessionState::Published,
        SessionState::Settled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SessionState::Scheduled => "scheduled",
            SessionState::Open => "open",
            SessionState::Closed => "closed",
            SessionState::Cleared => "cleared",
            SessionState::Published => "published",
            SessionState::Settled => "settled",
        }
    }

    /// The only legal successor of each state (the lifecycle is a line).
    pub fn successor(self) -> Option<SessionState> {
        use SessionState::*;
        match self {
            Scheduled => Some(Open),
            Open => Some(Closed),
            Closed => Some(Cleared),
            Cleared => Some(Published),
            Published => Some(Settled),
            Settled => None,
        }
    }
}

impl fmt::Display for SessionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One market's session for one trading day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MarketSession {
    /// `<market code>-<trading day>`, e.g. `DA-2026-11-22`: one per market per day.
    pub id: String,
    pub market: MarketKind,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub trading_day: TradingDay,
    pub state: SessionState,
}

impl MarketSession {
    pub fn id_for(market: MarketKind, day: TradingDay) -> String {
        format!("{}-{}", market.code(), day.format("%Y-%m-%d"))
    }

    /// Whether a session may be created for `day`: its year must be in
    /// [`TRADING_DAY_YEARS`](crate::calendar::TRADING_DAY_YEARS). The
    /// refusal names the field `trading_day` and the rule
    /// [`TRADING_DAY_RULE`].
    pub fn check_trading_day(day: TradingDay) -> Result<(), Violations> {
        crate::calendar::check_trading_day(day).map_err(|e| {
            Violations::one(
                "trading_day",
                TRADING_DAY_RULE,
                day.to_string(),
                e.to_string(),
            )
        })
    }

    pub fn new(market: MarketKind, trading_day: TradingDay) -> Self {
        Self {
            id: Self::id_for(market, trading_day),
            market,
            trading_day,
            state: SessionState::Scheduled,
        }
    }

    pub fn transition(&mut self, to: SessionState) -> Result<(), TransitionError> {
        if self.state.successor() != Some(to) {
            return Err(TransitionError {
                entity: "session",
                from: self.state.to_string(),
                to: to.to_string(),
            });
        }
        self.state = to;
        Ok(())
    }

    pub fn accepts_declarations(&self) -> bool {
        self.state == SessionState::Open
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn a_session_day_must_lie_in_the_trading_years_and_the_refusal_names_field_and_rule() {
        let ok =
            |y, m, d| MarketSession::check_trading_day(NaiveDate::from_ymd_opt(y, m, d).unwrap());
        assert!(ok(2000, 1, 1).is_ok() && ok(2026, 11, 22).is_ok() && ok(2200, 12, 31).is_ok());
        for day in [
            NaiveDate::MIN,
            NaiveDate::MAX,
            NaiveDate::from_ymd_opt(1999, 12, 31).unwrap(),
            NaiveDate::from_ymd_opt(2201, 1, 1).unwrap(),
        ] {
            let v = MarketSession::check_trading_day(day).unwrap_err();
            assert!(v.has("trading_day", TRADING_DAY_RULE), "{v}");
            let first = v.iter().next().unwrap();
            assert!(first.message.contains("2000") && first.message.contains("2200"));
        }
    }

    #[test]
    fn every_legal_and_illegal_session_transition() {
        let legal = [
            (SessionState::Scheduled, SessionState::Open),
            (SessionState::Open, SessionState::Closed),
            (SessionState::Closed, SessionState::Cleared),
            (SessionState::Cleared, SessionState::Published),
            (SessionState::Published, SessionState::Settled),
        ];
        let day = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        for from in SessionState::ALL {
            for to in SessionState::ALL {
                let mut s = MarketSession::new(MarketKind::DayAheadEnergy, day);
                s.state = from;
                let r = s.transition(to);
                if legal.contains(&(from, to)) {
                    assert!(r.is_ok(), "{from} -> {to}");
                    assert_eq!(s.state, to);
                } else {
                    let e = r.expect_err(&format!("{from} -> {to} must be refused"));
                    assert_eq!(
                        e.to_string(),
                        format!("illegal session transition from {from} to {to}")
                    );
                    assert_eq!(s.state, from);
                }
            }
        }
    }

    #[test]
    fn session_id_names_market_and_day() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        assert_eq!(
            MarketSession::new(MarketKind::RealTimeEnergy, day).id,
            "RT-2026-11-22"
        );
        assert_eq!(
            MarketKind::from_code("FR"),
            Some(MarketKind::FrequencyRegulation)
        );
    }
}
