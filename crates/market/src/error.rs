//! The market service's one error enum. Each variant maps to one kind of
//! HTTP answer in the server (422, 404, 409, 403, 401, 500).
use voltex_model::market::TRADING_DAY_RULE;
use voltex_model::{CalendarError, TransitionError, Violations};
use voltex_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum MarketError {
    /// The input broke rules; every violation is listed.
    #[error("{0}")]
    Invalid(Violations),
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    #[error("{what} {id} already exists")]
    AlreadyExists { what: &'static str, id: String },
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("unknown member {0}: no active account with this id")]
    UnknownActor(String),
    #[error(transparent)]
    Transition(#[from] TransitionError),
    #[error("conflict: {0}")]
    Conflict(String),
    /// The clearing engine refused its input or no solver strategy worked.
    #[error("clearing failed: {0}")]
    Clearing(String),
    #[error("storage failure: {0}")]
    Store(StoreError),
}

impl From<StoreError> for MarketError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict { .. }
            | StoreError::SessionMoved { .. }
            | StoreError::UnexpectedVersion { .. } => MarketError::Conflict(e.to_string()),
            other => MarketError::Store(other),
        }
    }
}

/// A calendar refusal is a rule the input broke: a trading day outside the
/// trading years (a session stored before the rule existed, say) answers
/// like a refused session creation, naming `trading_day` and the rule.
impl From<CalendarError> for MarketError {
    fn from(e: CalendarError) -> Self {
        let (field, rule, value) = match &e {
            CalendarError::DayOutOfRange(day) => ("trading_day", TRADING_DAY_RULE, day.to_string()),
            CalendarError::InstantOutOfRange(at) => ("at", TRADING_DAY_RULE, at.to_rfc3339()),
            CalendarError::IndexOutOfDay { index, .. } => {
                ("interval", "interval_in_day", index.to_string())
            }
            CalendarError::IntervalLength(m) => {
                ("interval_minutes", "valid_calendar", m.to_string())
            }
            CalendarError::UnknownZone(z) => ("time_zone", "valid_calendar", z.clone()),
        };
        MarketError::Invalid(Violations::one(field, rule, value, e.to_string()))
    }
}
