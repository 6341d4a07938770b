//! The audit log's hash chain, kept in the database.
//!
//! The store does not compute or check hashes: that is `voltex-security`'s
//! work (this crate uses that one only for at-rest encryption, `crypt`).
//! [`Store::append_audit`] queues the append with the store's one writer,
//! which hands the caller the chain's current tip, inserts the row the
//! caller built on it, and commits — so concurrent appenders queue up and
//! every row links to the one before it. [`Store::audit_rows`] reads the chain back in
//! `seq` order for `voltex audit verify`, which recomputes every hash from the
//! stored `body` and so detects rows modified, removed or reordered by hand.
//!
//! The table is append-only by convention (nothing here updates or deletes);
//! the migration says how a deployment enforces it.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::{Backend, Result, Store, StoreError, WriteTx, parse_timestamp, timestamp};

/// One row of the audit log, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    /// Position in the chain: 1, 2, 3, ... without gaps.
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub target: String,
    /// `success`, `denied` or `failed`.
    pub outcome: String,
    /// `hash` of the row before (the genesis value for the first row).
    pub prev_hash: String,
    pub hash: String,
    /// The whole record as JSON, as hashed. The other fields repeat parts of
    /// it for queries; a verifier must check they agree with it.
    pub body: String,
}

/// The last row of the chain: what the next row links to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditTip {
    pub seq: i64,
    pub hash: String,
}

const SELECT_ROWS: &str =
    "SELECT seq, at, actor, action, target, outcome, prev_hash, hash, body FROM audit_log";

impl Store {
    /// Appends one row to the audit chain. The store hands `make` the
    /// chain's current tip (`None` for an empty log); `make` builds the row
    /// that follows it (the caller computes the hash), and the store inserts
    /// it and commits. Appends go through the store's one writer (group
    /// commit, see `writer`), which links each row of a batch to the one
    /// before it, so concurrent appenders form one chain and many rows share
    /// one commit. `make` runs in the writer and must be quick. If `make`
    /// fails nothing is written and its error is the answer.
    ///
    /// A row from `make` that does not follow the tip (`seq` is not the
    /// tip's plus one, or `prev_hash` is not the tip's hash) is a caller bug
    /// that must not reach the permanent log: it is refused with
    /// [`StoreError::Corrupt`].
    pub async fn append_audit<E>(
        &self,
        make: impl FnOnce(Option<AuditTip>) -> std::result::Result<AuditRow, E> + Send + 'static,
    ) -> std::result::Result<AuditRow, E>
    where
        E: From<StoreError> + Send + 'static,
    {
        let (failed, why) = tokio::sync::oneshot::channel();
        let job: crate::writer::AuditJob = Box::new(move |tip| match make(tip) {
            Ok(row) => Some(row),
            Err(e) => {
                let _ = failed.send(e);
                None
            }
        });
        match self.write_audit(job).await? {
            Some(row) => Ok(row),
            None => Err(why.await.map_err(|_| StoreError::WriterStopped)?),
        }
    }

    /// Serialises audit appenders across processes (PostgreSQL: a
    /// transaction-scoped advisory lock; SQLite's write transaction is
    /// already exclusive) and reads the chain's tip.
    pub(crate) async fn lock_audit_tip(&self, tx: &mut WriteTx) -> Result<Option<AuditTip>> {
        if self.backend == Backend::Postgres {
            // The two-key form lives in a key space apart from lock_session's.
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext('voltex.audit_log'), 0)::text")
                .execute(&mut **tx)
                .await?;
        }
        sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut **tx)
            .await?
            .map(|r| -> Result<AuditTip> {
                Ok(AuditTip {
                    seq: r.try_get("seq")?,
                    hash: r.try_get("hash")?,
                })
            })
            .transpose()
    }

    /// Inserts `row`, which must follow `tip`.
    pub(crate) async fn insert_audit_row(
        &self,
        tx: &mut WriteTx,
        tip: Option<&AuditTip>,
        row: &AuditRow,
    ) -> Result<()> {
        self.insert_audit_rows(tx, tip, &[row]).await
    }

    /// Inserts `rows`, each following the one before it and the first
    /// following `tip`, many per statement.
    pub(crate) async fn insert_audit_rows(
        &self,
        tx: &mut WriteTx,
        tip: Option<&AuditTip>,
        rows: &[&AuditRow],
    ) -> Result<()> {
        let mut before = tip.map(|t| (t.seq, t.hash.as_str()));
        for row in rows {
            follows(before, row)?;
            before = Some((row.seq, row.hash.as_str()));
        }
        const COLUMNS: [&str; 9] = [
            "seq",
            "at",
            "actor",
            "action",
            "target",
            "outcome",
            "prev_hash",
            "hash",
            "body",
        ];
        for chunk in rows.chunks(crate::ROWS_PER_INSERT) {
            let sql = crate::insert_rows_sql(self.backend, "audit_log", &COLUMNS, chunk.len(), "");
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for row in chunk {
                q = q
                    .bind(row.seq)
                    .bind(timestamp(row.at))
                    .bind(row.actor.clone())
                    .bind(row.action.clone())
                    .bind(row.target.clone())
                    .bind(row.outcome.clone())
                    .bind(row.prev_hash.clone())
                    .bind(row.hash.clone())
                    .bind(row.body.clone());
            }
            q.execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// Up to `limit` rows with `seq >= from_seq`, in `seq` order (read a long
    /// log in pages: the next page starts after the last `seq` returned).
    pub async fn audit_rows(&self, from_seq: i64, limit: i64) -> Result<Vec<AuditRow>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "{SELECT_ROWS} WHERE seq >= $1 ORDER BY seq LIMIT $2"
        )))
        .bind(from_seq)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode_audit_row).collect()
    }

    /// The last `limit` rows, oldest first.
    pub async fn audit_tail(&self, limit: i64) -> Result<Vec<AuditRow>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "{SELECT_ROWS} ORDER BY seq DESC LIMIT $1"
        )))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut out = rows
            .iter()
            .map(decode_audit_row)
            .collect::<Result<Vec<_>>>()?;
        out.reverse();
        Ok(out)
    }

    /// Number of rows in the audit log.
    pub async fn audit_count(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM audit_log")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<i64, _>("n")?)
    }

    /// Runs arbitrary SQL on the store's pool; returns the rows affected.
    /// Only for tests that tamper with stored data behind the API's back.
    #[doc(hidden)]
    pub async fn raw_execute(&self, sql: &str) -> Result<u64> {
        let done = sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// Runs arbitrary SQL on the store's pool and returns the first column
    /// of every row as text (NULL as an empty string). Only for tests that
    /// look at stored data behind the API's back (e.g. that a body is
    /// ciphertext).
    #[doc(hidden)]
    pub async fn raw_strings(&self, sql: &str) -> Result<Vec<String>> {
        let rows = sqlx::query(AssertSqlSafe(sql.to_owned()))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<Option<String>, _>(0)?.unwrap_or_default()))
            .collect()
    }
}

fn decode_audit_row(row: &AnyRow) -> Result<AuditRow> {
    let seq: i64 = row.try_get("seq")?;
    let at: String = row.try_get("at")?;
    Ok(AuditRow {
        seq,
        at: parse_timestamp(&at).map_err(|e| match e {
            StoreError::Corrupt(m) => StoreError::Corrupt(format!("audit row {seq}: {m}")),
            other => other,
        })?,
        actor: row.try_get("actor")?,
        action: row.try_get("action")?,
        target: row.try_get("target")?,
        outcome: row.try_get("outcome")?,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
        body: row.try_get("body")?,
    })
}

/// A row follows the one before it (`seq` and hash; none: the genesis)
/// when its `seq` is the next and its `prev_hash` that row's hash; anything
/// else is a caller bug that must not reach the permanent log.
pub(crate) fn follows(before: Option<(i64, &str)>, row: &AuditRow) -> Result<()> {
    let ok = row.seq == before.map_or(1, |(seq, _)| seq + 1)
        && before.is_none_or(|(_, hash)| row.prev_hash == hash);
    if ok {
        return Ok(());
    }
    Err(StoreError::Corrupt(format!(
        "audit row {} must follow the tip ({:?}) and link to its hash; not written",
        row.seq,
        before.map(|(seq, _)| seq)
    )))
}
