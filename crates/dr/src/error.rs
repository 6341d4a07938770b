//! The demand-response crate's one error enum. Validation lists every broken
//! rule (field, rule, value); each refusal of an opt-in or opt-out is its own
//! variant so that a caller (and a resource owner) can tell why.
use chrono::NaiveDateTime;
use voltex_model::Violations;

#[derive(Debug, thiserror::Error)]
pub enum DrError {
    /// The input broke rules; every violation is listed, each naming the
    /// field and the rule.
    #[error("{0}")]
    Invalid(Violations),
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    #[error("{what} {id} already exists")]
    AlreadyExists { what: &'static str, id: String },
    /// Opt-in or opt-out after the event's opt deadline.
    #[error("event {event_id}: the opt deadline {deadline} has passed (now {now})")]
    AfterDeadline {
        event_id: String,
        deadline: NaiveDateTime,
        now: NaiveDateTime,
    },
    /// Opt-in or opt-out for an event that has already started.
    #[error("event {event_id} started at {start}, it is in the past (now {now})")]
    EventInPast {
        event_id: String,
        start: NaiveDateTime,
        now: NaiveDateTime,
    },
    /// The event was notified with less notice than the resource needs.
    #[error(
        "resource {resource_id}: event {event_id} gives {notice_minutes} min notice, the resource needs at least {min_notice_minutes}"
    )]
    NoticeTooShort {
        resource_id: String,
        event_id: String,
        notice_minutes: i64,
        min_notice_minutes: i64,
    },
    /// The event lasts longer than the resource can curtail.
    #[error(
        "resource {resource_id}: event {event_id} lasts {duration_minutes} min, the resource allows at most {max_duration_minutes}"
    )]
    DurationTooLong {
        resource_id: String,
        event_id: String,
        duration_minutes: i64,
        max_duration_minutes: i64,
    },
    /// The resource already takes part in its maximum of events that month.
    #[error(
        "resource {resource_id}: already in {count} events in {month}, the maximum per month is {max_events_per_month}"
    )]
    MonthlyLimit {
        resource_id: String,
        month: String,
        count: u32,
        max_events_per_month: u32,
    },
    /// A load-reducing resource cannot answer a load-increasing event, and
    /// the other way round.
    #[error("resource {resource_id} responds {resource:?}, event {event_id} asks {event:?}")]
    WrongDirection {
        resource_id: String,
        event_id: String,
        resource: crate::resource::Direction,
        event: crate::resource::Direction,
    },
    /// A baseline needs more eligible history days than there are.
    #[error("{method} baseline for {day}: needs {needed} eligible days, found {found}")]
    InsufficientHistory {
        method: String,
        day: chrono::NaiveDate,
        needed: usize,
        found: usize,
    },
    /// A data file the demo needs could not be read.
    #[error("cannot read {path}: {reason}")]
    Data { path: String, reason: String },
    /// The demo's chart could not be drawn or written.
    #[error("chart: {0}")]
    Chart(#[from] voltex_charts::ChartError),
}

impl From<Violations> for DrError {
    fn from(v: Violations) -> Self {
        DrError::Invalid(v)
    }
}

pub type Result<T> = std::result::Result<T, DrError>;
