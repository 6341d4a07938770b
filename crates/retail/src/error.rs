//! The retail service's one error enum. Each variant maps to one kind of
//! HTTP answer in the server (422, 404, 409, 403, 500), as the market's does.
use voltex_model::{TransitionError, Violations};
use voltex_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum RetailError {
    /// The input broke rules; every violation is listed, each naming the
    /// field (or CSV row) and the rule.
    #[error("{0}")]
    Invalid(Violations),
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    #[error("{what} {id} already exists")]
    AlreadyExists { what: &'static str, id: String },
    /// The viewer may not see or change this record (another customer's
    /// bill, another retailer's book).
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error(transparent)]
    Transition(#[from] TransitionError),
    #[error("conflict: {0}")]
    Conflict(String),
    /// A data file the demo or an import needs could not be read.
    #[error("cannot read {path}: {reason}")]
    Data { path: String, reason: String },
    #[error("storage failure: {0}")]
    Store(StoreError),
}

impl From<StoreError> for RetailError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict { .. } | StoreError::UnexpectedVersion { .. } => {
                RetailError::Conflict(e.to_string())
            }
            other => RetailError::Store(other),
        }
    }
}

impl From<Violations> for RetailError {
    fn from(v: Violations) -> Self {
        RetailError::Invalid(v)
    }
}

impl RetailError {
    /// One violation: `field` broke `rule` with `value`.
    pub fn invalid(
        field: &str,
        rule: &str,
        value: impl Into<serde_json::Value>,
        message: impl Into<String>,
    ) -> Self {
        RetailError::Invalid(Violations::from(vec![voltex_model::Violation::new(
            field, rule, value, message,
        )]))
    }
}

pub type Result<T> = std::result::Result<T, RetailError>;
