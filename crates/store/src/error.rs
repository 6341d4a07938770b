//! The store's one error enum.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot connect to the database at {url}: {source}")]
    Connect { url: String, source: sqlx::Error },
    #[error("database URL {0} is neither sqlite: nor postgres://")]
    UnsupportedUrl(String),
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("applying database migrations failed: {0}")]
    Migrate(sqlx::migrate::MigrateError),
    #[error("{entity} {id} changed meanwhile: expected version {expected}, found {actual}")]
    Conflict {
        entity: &'static str,
        id: String,
        expected: i64,
        actual: i64,
    },
    #[error(
        "session {session_id} changed state meanwhile (version {expected} → {actual}); the declaration was not stored"
    )]
    SessionMoved {
        session_id: String,
        expected: i64,
        actual: i64,
    },
    #[error(
        "declaration {key} was submitted as version {expected}, but its next version is {next}; nothing was stored (a replay, or another submission came first)"
    )]
    UnexpectedVersion {
        key: String,
        expected: i64,
        next: i64,
    },
    #[error("stored data cannot be read back: {0}")]
    Corrupt(String),
    #[error(
        "{table} {id} version {version} is encrypted with field key `{key_id}` but the store has no key ring: set VOLTEX_FIELD_KEYS_FILE (or VOLTEX_FIELD_KEYS) to the key file"
    )]
    NoFieldKeys {
        table: String,
        id: String,
        version: i64,
        key_id: String,
    },
    #[error("cannot decrypt {table} {id} version {version} (field key `{key_id}`): {reason}")]
    Decrypt {
        table: String,
        id: String,
        version: i64,
        key_id: String,
        reason: String,
    },
    #[error("cannot encrypt {table} {id} version {version}: {reason}")]
    Encrypt {
        table: String,
        id: String,
        version: i64,
        reason: String,
    },
    #[error("cannot encode record: {0}")]
    Encode(serde_json::Error),
    /// The transaction that carried this write with others failed as a
    /// whole (nothing of it was stored); the message is the database's.
    #[error("the write was not committed: {0}")]
    NotCommitted(String),
    /// The writer task is gone (its runtime shut down); nothing was stored.
    #[error("the store's writer has stopped; nothing was stored")]
    WriterStopped,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}
