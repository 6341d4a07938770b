//! The assistant's one error enum; the server maps each variant to one kind
//! of HTTP answer (422, 404, 409, 500).
use voltex_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AssistError {
    /// Bad input: names the field, the rule and the record.
    #[error("{field}: breaks rule {rule} (entry {id})")]
    Invalid {
        field: String,
        rule: String,
        id: String,
    },
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    #[error("conflict: {0}")]
    Conflict(String),
    /// The shipped knowledge base does not parse (a build defect).
    #[error("the shipped knowledge base is malformed: {0}")]
    Seed(String),
    /// The search index refused an operation.
    #[error("search index: {0}")]
    Index(String),
    #[error("storage failure: {0}")]
    Store(StoreError),
    /// The market service's answer to a personal intent (mapped as the API
    /// maps it).
    #[error(transparent)]
    Market(#[from] voltex_market::MarketError),
    /// The retail service's answer to a personal intent.
    #[error(transparent)]
    Retail(#[from] voltex_retail::RetailError),
}

impl From<StoreError> for AssistError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict { .. } | StoreError::UnexpectedVersion { .. } => {
                AssistError::Conflict(e.to_string())
            }
            other => AssistError::Store(other),
        }
    }
}

impl From<tantivy::TantivyError> for AssistError {
    fn from(e: tantivy::TantivyError) -> Self {
        AssistError::Index(e.to_string())
    }
}
