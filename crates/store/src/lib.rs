//! Voltex persistence: one API over two backends, SQLite (the embedded
//! default, a file under the data directory) and PostgreSQL (scale-out,
//! selected by a `postgres://` URL).
//!
//! History is permanent: every write inserts a new version of a record and
//! nothing is ever updated or deleted in place (the one exception,
//! re-encryption under a new field key, changes how a body is encrypted, never
//! what it says; see `crypt`). Writers name the version they
//! read (`expected_version`); if someone else wrote in between, the insert hits
//! the primary key and the caller gets [`StoreError::Conflict`] instead of a
//! lost update. This crate holds no market rule: it stores what `voltex-market`
//! decided.
//!
//! Both backends are reached through sqlx's runtime-generic `Any` driver with
//! one SQL dialect (numbered `$n` parameters, TEXT/BIGINT columns), so every
//! query exists once and the conformance suite proves it behaves the same on
//! both.
//!
//! Here: the connection, the generic versioned-entity API and the shared SQL
//! helpers. Beside it: `entity` (what a stored type declares), `tables` (the
//! registry of tables and which are encrypted), `declarations` (the
//! session-guarded declaration table), `crypt` (encryption at rest and key
//! rotation) and `audit` (the hash-chained audit log).
mod audit;
mod cache;
mod coordination;
mod crypt;
mod declarations;
mod entity;
mod error;
mod evaluation;
mod migrations;
mod tables;
mod writer;

pub use audit::{AuditRow, AuditTip};
pub use cache::CACHE_TTL;
pub use coordination::{Announcements, Lease, StoredLoginAttempts};
pub use crypt::{FieldKeyUsage, ReencryptCounts, row_context};
pub use declarations::{Companion, StoredDeclaration};
pub use entity::Entity;
pub use error::StoreError;
pub use tables::{NOT_VERSIONED, TABLES, Table, is_sensitive_table, sensitive_tables};
pub use writer::{CompanionsFor, DeclarationWrite, MAX_BATCH};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, AssertSqlSafe};
use sqlx::{Executor, Row};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;
use voltex_security::field_crypto::FieldKeyring;

use tables::Registered;

/// Which database is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// One version of a record, with when it was recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record<T> {
    pub id: String,
    pub version: i64,
    pub recorded_at: DateTime<Utc>,
    pub value: T,
}

/// The store handle; cheap to clone (it wraps a connection pool).
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Encrypts the rows of the sensitive tables when present (see `crypt`).
    keys: Option<Arc<FieldKeyring>>,
    /// The process's turn to write (SQLite): write transactions queue here,
    /// in order, instead of in SQLite's busy handler, which sleeps.
    write_turn: Arc<tokio::sync::Mutex<()>>,
    /// The group-commit writer of declarations and audit rows (`writer`).
    writer: Arc<writer::Writer>,
    /// Read-mostly records answered from memory (`cache`).
    cache: Arc<cache::RecordCache>,
}

/// A write transaction; on SQLite it also holds the process's write turn,
/// released after the transaction ends.
struct WriteTx {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
    cache: Arc<cache::RecordCache>,
    /// Cached records written in this transaction: forgotten once it commits.
    written: Vec<(&'static str, String)>,
}

impl WriteTx {
    /// The transaction's connection, to run statements on.
    fn conn(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }

    async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        for (table, id) in &self.written {
            self.cache.forget(table, id);
        }
        Ok(())
    }

    /// Notes that this transaction writes record `id` of `table`, so that a
    /// cached copy is forgotten when it commits.
    fn writes(&mut self, table: &'static str, cached: bool, id: &str) {
        if cached {
            self.written.push((table, id.to_owned()));
        }
    }
}

impl std::ops::Deref for WriteTx {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

type Result<T> = std::result::Result<T, StoreError>;

impl Store {
    /// Opens (creating if needed) the SQLite database `voltex.db` in `dir` and
    /// applies migrations.
    pub async fn open_sqlite_dir(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::DataDir {
            path: dir.display().to_string(),
            source: e,
        })?;
        let file = dir.join("voltex.db");
        Self::connect(&format!("sqlite://{}?mode=rwc", file.display())).await
    }

    /// Connects to `sqlite://...` or `postgres://...` and applies migrations.
    pub async fn connect(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(StoreError::UnsupportedUrl(redact(url)));
        };
        // No ping before every checkout: it doubles the round trips of every
        // query (on SQLite each is a hand-off to the connection's thread). A
        // PostgreSQL connection that died answers its next query with an
        // error and is then dropped by the pool.
        let mut options = AnyPoolOptions::new().test_before_acquire(false);
        options = match backend {
            // One writer at a time is SQLite's model; WAL lets readers go on
            // meanwhile. Writers of this process take turns (`write_turn`);
            // the busy timeout covers another process on the same file.
            // `synchronous = FULL`: a commit is on disk (WAL fsynced) before
            // it is acknowledged, so an acknowledged declaration survives a
            // power cut, not only a crash; group commit pays one fsync per
            // batch.
            Backend::Sqlite => options.max_connections(8).after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA busy_timeout = 10000").await?;
                    conn.execute("PRAGMA synchronous = FULL").await?;
                    // A batch of signed offers is megabytes of pages: with
                    // the default 2 MB page cache the writer spilled pages to
                    // the WAL in the middle of its transaction.
                    conn.execute("PRAGMA cache_size = -32768").await?;
                    Ok(())
                })
            }),
            Backend::Postgres => options.max_connections(16),
        };
        let pool = options
            .connect(url)
            .await
            .map_err(|e| StoreError::Connect {
                url: redact(url),
                source: e,
            })?;
        migrations::migrator()
            .run(&pool)
            .await
            .map_err(StoreError::Migrate)?;
        Ok(Self {
            pool,
            backend,
            keys: None,
            write_turn: Default::default(),
            writer: Default::default(),
            cache: Default::default(),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Liveness of the database: a trivial round trip.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes the pool (waits for connections to be returned).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    // ----- versioned entities (members, units, resources, parameters, networks, sessions)

    /// Records the first version of a new entity; `Conflict` if the id exists.
    pub async fn insert<T: Entity>(&self, value: &T) -> Result<Record<T>> {
        self.append(value, 0).await
    }

    /// Records a new version on top of `expected_version`; `Conflict` if the
    /// latest version is not `expected_version` any more.
    pub async fn append<T: Entity>(&self, value: &T, expected_version: i64) -> Result<Record<T>> {
        let () = Registered::<T>::CHECK;
        let id = value.entity_id();
        let recorded_at = Utc::now();
        let version = expected_version + 1;
        let body = self.seal(
            T::SENSITIVE,
            T::TABLE,
            &id,
            version,
            serde_json::to_string(value).map_err(StoreError::Encode)?,
        )?;
        let sql = if T::OWNED {
            format!(
                "INSERT INTO {} (id, version, member_id, recorded_at, body) VALUES ($1, $2, $3, $4, $5)",
                T::TABLE
            )
        } else {
            format!(
                "INSERT INTO {} (id, version, recorded_at, body) VALUES ($1, $2, $3, $4)",
                T::TABLE
            )
        };
        let mut tx = self.begin_write().await?;
        tx.writes(T::TABLE, T::CACHED, &id);
        if T::TABLE == "sessions" {
            self.lock_session(&mut tx, &id).await?;
        }
        let current = latest_version(tx.conn(), T::TABLE, &id).await?;
        if current != expected_version {
            return Err(StoreError::Conflict {
                entity: T::NAME,
                id,
                expected: expected_version,
                actual: current,
            });
        }
        let mut q = sqlx::query(AssertSqlSafe(sql))
            .bind(id.clone())
            .bind(version);
        if T::OWNED {
            q = q.bind(value.owner().unwrap_or_default().to_owned());
        }
        q.bind(timestamp(recorded_at))
            .bind(body)
            .execute(tx.conn())
            .await
            .map_err(|e| conflict_or(e, T::NAME, &id, expected_version))?;
        tx.commit().await?;
        Ok(Record {
            id,
            version,
            recorded_at,
            value: value.clone(),
        })
    }

    /// The latest version of an entity (for a [`Entity::CACHED`] one, as
    /// read less than [`cache::CACHE_TTL`] ago; see `cache`).
    pub async fn get<T: Entity>(&self, id: &str) -> Result<Option<Record<T>>> {
        if !T::CACHED {
            return self.read_latest(id).await;
        }
        if let Some(r) = self.cache.get::<T>(id, Instant::now()) {
            return Ok(Some(r));
        }
        let generation = self.cache.generation();
        let read_at = Instant::now();
        let record = self.read_latest::<T>(id).await?;
        if let Some(r) = &record {
            self.cache.keep(r, generation, read_at);
        }
        Ok(record)
    }

    /// The latest version of an entity, read from the database.
    async fn read_latest<T: Entity>(&self, id: &str) -> Result<Option<Record<T>>> {
        let sql = format!(
            "SELECT id, version, recorded_at, body FROM {} WHERE id = $1 ORDER BY version DESC LIMIT 1",
            T::TABLE
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id.to_owned())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| self.decode_record(&r)).transpose()
    }

    /// Every version of an entity, oldest first.
    pub async fn history<T: Entity>(&self, id: &str) -> Result<Vec<Record<T>>> {
        let sql = format!(
            "SELECT id, version, recorded_at, body FROM {} WHERE id = $1 ORDER BY version",
            T::TABLE
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(id.to_owned())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| self.decode_record(r)).collect()
    }

    /// The latest version of every entity of a kind, by id.
    pub async fn list<T: Entity>(&self) -> Result<Vec<Record<T>>> {
        let sql = format!(
            "SELECT t.id, t.version, t.recorded_at, t.body FROM {0} t \
             JOIN (SELECT id, MAX(version) AS v FROM {0} GROUP BY id) l \
             ON t.id = l.id AND t.version = l.v ORDER BY t.id",
            T::TABLE
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| self.decode_record(r)).collect()
    }

    /// The latest version of every entity of a kind owned by `member_id`.
    pub async fn list_owned<T: Entity>(&self, member_id: &str) -> Result<Vec<Record<T>>> {
        assert!(T::OWNED, "{} records have no owner", T::NAME);
        // Ownership is fixed for an entity's life, so filtering any version works.
        let sql = format!(
            "SELECT t.id, t.version, t.recorded_at, t.body FROM {0} t \
             JOIN (SELECT id, MAX(version) AS v FROM {0} WHERE member_id = $1 GROUP BY id) l \
             ON t.id = l.id AND t.version = l.v ORDER BY t.id",
            T::TABLE
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(member_id.to_owned())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| self.decode_record(r)).collect()
    }

    /// The latest version of every entity whose id starts with `prefix`
    /// (ids are structured, e.g. `<session>:<item>`), by id.
    pub async fn list_prefixed<T: Entity>(&self, prefix: &str) -> Result<Vec<Record<T>>> {
        let sql = format!(
            "SELECT t.id, t.version, t.recorded_at, t.body FROM {0} t \
             JOIN (SELECT id, MAX(version) AS v FROM {0} WHERE substr(id, 1, CAST($2 AS INTEGER)) = $1 GROUP BY id) l \
             ON t.id = l.id AND t.version = l.v ORDER BY t.id",
            T::TABLE
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(prefix.to_owned())
            .bind(prefix.chars().count() as i64)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| self.decode_record(r)).collect()
    }

    /// Records the first version of an entity unless one exists already; for
    /// steps that must happen once even when retried after a restart. Returns
    /// the stored record and whether this call created it.
    pub async fn insert_once<T: Entity>(&self, value: &T) -> Result<(Record<T>, bool)> {
        match self.insert(value).await {
            Ok(r) => Ok((r, true)),
            Err(StoreError::Conflict { .. }) => {
                let id = value.entity_id();
                let existing = self.get::<T>(&id).await?.ok_or_else(|| {
                    StoreError::Corrupt(format!("{} {id} conflicted but is absent", T::NAME))
                })?;
                Ok((existing, false))
            }
            Err(e) => Err(e),
        }
    }

    /// Counts of stored rows per table (all versions), for summaries and tests
    /// that prove a refusal wrote nothing.
    pub async fn row_counts(&self) -> Result<Vec<(&'static str, i64)>> {
        let mut out = Vec::new();
        for table in TABLES.iter().map(|t| t.name) {
            let row = sqlx::query(AssertSqlSafe(format!("SELECT COUNT(*) AS n FROM {table}")))
                .fetch_one(&self.pool)
                .await?;
            out.push((table, row.try_get::<i64, _>("n")?));
        }
        Ok(out)
    }

    /// Starts a read-then-write transaction. On SQLite it takes the write lock
    /// up front (`BEGIN IMMEDIATE`): a deferred transaction that reads and then
    /// writes fails with "database is locked" when another writer committed in
    /// between, whereas an immediate one waits its turn (busy timeout).
    ///
    /// On SQLite the transaction first waits for this process's write turn,
    /// so writers of one process queue in order without ever meeting
    /// SQLite's busy handler (which sleeps up to 100 ms between retries).
    async fn begin_write(&self) -> Result<WriteTx> {
        Ok(match self.backend {
            Backend::Sqlite => {
                let turn = Arc::clone(&self.write_turn).lock_owned().await;
                WriteTx {
                    tx: self.pool.begin_with("BEGIN IMMEDIATE").await?,
                    _turn: Some(turn),
                    cache: Arc::clone(&self.cache),
                    written: Vec::new(),
                }
            }
            Backend::Postgres => WriteTx {
                tx: self.pool.begin().await?,
                _turn: None,
                cache: Arc::clone(&self.cache),
                written: Vec::new(),
            },
        })
    }

    /// Serialises writers of one session (its state changes and its
    /// declarations) on PostgreSQL, where concurrent transactions would
    /// otherwise each see the session as still open. SQLite has one writer.
    async fn lock_session(&self, tx: &mut WriteTx, session_id: &str) -> Result<()> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))::text")
                .bind(session_id.to_owned())
                .execute(tx.conn())
                .await?;
        }
        Ok(())
    }
}

async fn latest_version<'e, E>(executor: E, table: &str, id: &str) -> Result<i64>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!("SELECT COALESCE(MAX(version), 0) AS v FROM {table} WHERE id = $1");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(id.to_owned())
        .fetch_one(executor)
        .await?;
    Ok(row.try_get::<i64, _>("v")?)
}

/// The latest version of each of `ids` in `table` (absent: none stored),
/// in one query instead of one per id.
async fn latest_versions<'e, E>(
    executor: E,
    backend: Backend,
    table: &str,
    ids: &[&str],
) -> Result<std::collections::HashMap<String, i64>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let marks: Vec<String> = (1..=ids.len()).map(|i| parameter(backend, i)).collect();
    let sql = format!(
        "SELECT id, MAX(version) AS v FROM {table} WHERE id IN ({}) GROUP BY id",
        marks.join(", ")
    );
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for id in ids {
        q = q.bind((*id).to_owned());
    }
    q.fetch_all(executor)
        .await?
        .iter()
        .map(|r| Ok((r.try_get::<String, _>("id")?, r.try_get::<i64, _>("v")?)))
        .collect()
}

/// Most rows one multi-row `INSERT` carries (well under either backend's
/// limit on bound parameters).
const ROWS_PER_INSERT: usize = 64;

/// The `i`-th (from 1) bound parameter of a statement whose parameters are
/// bound in order. PostgreSQL's are numbered (`$i`); SQLite's are anonymous
/// `?`: SQLite treats `$i` as a *named* parameter, and sqlx binds each named
/// one by looking its name up by index (`sqlite3_bind_parameter_name`, a
/// linear scan of the statement's names), which made binding the writer's
/// statements of hundreds of parameters quadratic (docs/performance.md,
/// issue 25's third round).
fn parameter(backend: Backend, i: usize) -> String {
    match backend {
        Backend::Postgres => format!("${i}"),
        Backend::Sqlite => "?".to_owned(),
    }
}

/// `INSERT INTO {table} ({columns}) VALUES (…), (…) {tail}` for `rows`
/// rows, parameters in row order ([`parameter`]).
fn insert_rows_sql(
    backend: Backend,
    table: &str,
    columns: &[&str],
    rows: usize,
    tail: &str,
) -> String {
    let n = columns.len();
    let values: Vec<String> = (0..rows)
        .map(|r| {
            let marks: Vec<String> = (1..=n).map(|c| parameter(backend, r * n + c)).collect();
            format!("({})", marks.join(", "))
        })
        .collect();
    format!(
        "INSERT INTO {table} ({}) VALUES {} {tail}",
        columns.join(", "),
        values.join(", ")
    )
    .trim_end()
    .to_owned()
}

fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn parse_timestamp(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("bad timestamp {s:?}: {e}")))
}

impl Store {
    fn decode_record<T: Entity>(&self, row: &AnyRow) -> Result<Record<T>> {
        let () = Registered::<T>::CHECK;
        let id: String = row.try_get("id")?;
        let version: i64 = row.try_get("version")?;
        let body = self.open_body(T::TABLE, &id, version, row.try_get("body")?)?;
        Ok(Record {
            recorded_at: parse_timestamp(&row.try_get::<String, _>("recorded_at")?)?,
            value: serde_json::from_str(&body).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            id,
            version,
        })
    }
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

fn conflict_or(e: sqlx::Error, entity: &'static str, id: &str, expected: i64) -> StoreError {
    if is_unique_violation(&e) {
        StoreError::Conflict {
            entity,
            id: id.to_owned(),
            expected,
            actual: expected + 1,
        }
    } else {
        e.into()
    }
}

/// Hides a password in a connection URL before it reaches a log or an error.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redacts_password_in_database_url() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(
            redact("postgres://postgres@127.0.0.1/test"),
            "postgres://postgres@127.0.0.1/test"
        );
    }
}
