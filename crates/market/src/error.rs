//! The market service's one error enum. Each variant maps to one kind of
//! HTTP answer in the server (422, 404, 409, 403, 401, 500).
use voltex_model::{TransitionError, Violations};
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
