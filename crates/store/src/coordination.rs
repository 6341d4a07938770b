//! What several server processes (replicas) on one PostgreSQL database must
//! agree on beyond the records: who runs the scheduler ([`Lease`]), a live
//! signal that something was written ([`Store::announce`], [`Announcements`]),
//! which signed-request nonces were used ([`Store::first_use_of_nonce`]) and
//! the failed sign-ins per account and address ([`StoredLoginAttempts`]).
//!
//! On SQLite there is one process: the lease is always granted and nothing
//! is announced; the nonce and sign-in tables work there too, but the server
//! keeps those in memory on SQLite.
//!
//! None of this is history. A lease is PostgreSQL session state (a
//! session-level advisory lock, released by the server when its connection
//! ends, so a dead holder's lease passes on); nonces and sign-in counters are
//! short-lived rows, updated in place and pruned once expired (migration
//! 0008). Must not: decide a rule — how failures are throttled is
//! `voltex_security::throttle`'s, how long a nonce counts is the caller's.
use sqlx::postgres::PgListener;
use sqlx::{AnyConnection, Connection, Row};
use voltex_security::signin::{AttemptKeys, LoginAttempts, Throttled};
use voltex_security::throttle::{LoginThrottle, ThrottlePolicy};

use crate::{Backend, Result, Store, StoreError};

/// First key of every lease's advisory lock (the second is the hash of the
/// lease's name). The two-key form keeps leases apart from the one-key
/// locks that serialise a session's writers.
const LEASE_LOCK_SPACE: i32 = 0x5654; // "VT"

/// Leadership of one named duty (the scheduler) among the replicas, held
/// while this value lives. On PostgreSQL it is a session-level advisory lock
/// on a connection of its own, outside the pool: dropping the lease (or the
/// process dying) closes the connection and PostgreSQL releases the lock.
#[derive(Debug)]
pub struct Lease {
    name: String,
    /// `None` on SQLite, where the one process always leads.
    conn: Option<AnyConnection>,
}

impl Lease {
    /// The duty this lease is for.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the lease still holds: its connection answers (a lost
    /// connection has lost the lock with it). Always true on SQLite.
    pub async fn is_held(&mut self) -> bool {
        match &mut self.conn {
            None => true,
            Some(conn) => conn.ping().await.is_ok(),
        }
    }

    /// Gives the lease up now, so another replica can take it at once
    /// (dropping it frees the lock only once the server has noticed the
    /// closed connection).
    pub async fn release(self) {
        if let Some(mut conn) = self.conn {
            let _ = sqlx::query(
                "SELECT CAST(pg_advisory_unlock($1, hashtext($2))::int AS BIGINT) AS released",
            )
            .bind(LEASE_LOCK_SPACE)
            .bind(self.name)
            .execute(&mut conn)
            .await;
            let _ = conn.close().await;
        }
    }
}

/// Announcements on one channel, as another replica's [`Store::announce`]
/// sent them (and this process's own, which a receiver may tell apart by
/// what it put in the payload). Announcements sent while the connection was
/// lost are not delivered: they are a signal, the rows are the truth.
#[derive(Debug)]
pub struct Announcements {
    listener: PgListener,
}

impl Announcements {
    /// The next announcement's payload (waits; reconnects after a lost
    /// connection).
    pub async fn next(&mut self) -> Result<String> {
        let n = self.listener.recv().await?;
        Ok(n.payload().to_owned())
    }
}

impl Store {
    /// Tries to become the holder of the lease `name`; `None` when another
    /// process holds it. Always granted on SQLite.
    pub async fn leader_lease(&self, name: &str) -> Result<Option<Lease>> {
        if self.backend == Backend::Sqlite {
            return Ok(Some(Lease {
                name: name.to_owned(),
                conn: None,
            }));
        }
        // Detached: returned to the pool it would keep the lock for whoever
        // borrows it next.
        let mut conn = self.pool.acquire().await?.detach();
        let row = sqlx::query(
            "SELECT CAST(pg_try_advisory_lock($1, hashtext($2))::int AS BIGINT) AS held",
        )
        .bind(LEASE_LOCK_SPACE)
        .bind(name.to_owned())
        .fetch_one(&mut conn)
        .await?;
        if row.try_get::<i64, _>("held")? == 1 {
            Ok(Some(Lease {
                name: name.to_owned(),
                conn: Some(conn),
            }))
        } else {
            let _ = conn.close().await;
            Ok(None)
        }
    }

    /// Sends `payload` to every process listening on `channel` (PostgreSQL
    /// `NOTIFY`, delivered after the sender's commit); nothing on SQLite.
    pub async fn announce(&self, channel: &str, payload: &str) -> Result<()> {
        if self.backend == Backend::Postgres {
            // `::text`: the Any driver cannot carry `void`.
            sqlx::query("SELECT pg_notify($1, $2)::text")
                .bind(channel.to_owned())
                .bind(payload.to_owned())
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// Listens on `channel` over a connection of its own; `None` on SQLite,
    /// where there is no other process to hear from.
    pub async fn listen(&self, channel: &str) -> Result<Option<Announcements>> {
        if self.backend == Backend::Sqlite {
            return Ok(None);
        }
        let url = self.pool.connect_options().database_url.to_string();
        let mut listener = PgListener::connect(&url)
            .await
            .map_err(|e| StoreError::Connect {
                url: crate::redact(&url),
                source: e,
            })?;
        listener.listen(channel).await?;
        Ok(Some(Announcements { listener }))
    }

    /// Records the use of `nonce` by `member` until `expires_at` (Unix
    /// seconds); true when it was not in use, i.e. unseen or expired as of
    /// `now`. Concurrent uses of one nonce, on any replica, get one true.
    pub async fn first_use_of_nonce(
        &self,
        member: &str,
        nonce: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO request_nonces (member_id, nonce, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (member_id, nonce) DO UPDATE SET expires_at = excluded.expires_at \
             WHERE request_nonces.expires_at < $4",
        )
        .bind(member.to_owned())
        .bind(nonce.to_owned())
        .bind(expires_at)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Deletes the nonces expired by `now`; answers how many.
    pub async fn prune_nonces(&self, now: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM request_nonces WHERE expires_at < $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

/// Failed sign-ins counted in the database, so that every replica sees the
/// same counters: switching replicas does not reset a backoff or a lockout.
/// A database failure while checking refuses the attempt (with a short
/// wait) rather than let it through unthrottled.
#[derive(Debug, Clone)]
pub struct StoredLoginAttempts {
    store: Store,
    policy: ThrottlePolicy,
}

/// Wait answered when the counters cannot be read.
const UNREADABLE_COUNTERS_WAIT_S: u64 = 1;

impl StoredLoginAttempts {
    pub fn new(store: Store, policy: ThrottlePolicy) -> Self {
        Self { store, policy }
    }

    async fn read(&self, key: &str) -> Result<Option<LoginThrottle>> {
        let row = sqlx::query("SELECT body FROM login_attempts WHERE key = $1")
            .bind(key.to_owned())
            .fetch_optional(&self.store.pool)
            .await?;
        row.map(|r| {
            serde_json::from_str(&r.try_get::<String, _>("body")?)
                .map_err(|e| StoreError::Corrupt(format!("login_attempts {key}: {e}")))
        })
        .transpose()
    }

    async fn check_keys(
        &self,
        keys: &AttemptKeys,
        now: u64,
    ) -> Result<std::result::Result<(), Throttled>> {
        let mut wait = 0;
        for key in keys.all() {
            if let Some(mut t) = self.read(key).await?
                && let Err(voltex_security::SecurityError::LoginThrottled { retry_after_s }) =
                    t.check(&self.policy, now)
            {
                wait = wait.max(retry_after_s);
            }
        }
        Ok(if wait > 0 {
            Err(Throttled {
                retry_after_s: wait,
            })
        } else {
            Ok(())
        })
    }

    /// One failure against `key`, read and written under a lock so that
    /// concurrent failures on several replicas all count.
    async fn fail(&self, key: &str, now: u64) -> Result<()> {
        let store = &self.store;
        let mut tx = store.begin_write().await?;
        sqlx::query(
            "INSERT INTO login_attempts (key, body, expires_at) VALUES ($1, $2, 0) \
             ON CONFLICT (key) DO NOTHING",
        )
        .bind(key.to_owned())
        .bind(serde_json::to_string(&LoginThrottle::default()).map_err(StoreError::Encode)?)
        .execute(&mut *tx)
        .await?;
        let select = match store.backend {
            Backend::Postgres => "SELECT body FROM login_attempts WHERE key = $1 FOR UPDATE",
            Backend::Sqlite => "SELECT body FROM login_attempts WHERE key = $1",
        };
        let body: String = sqlx::query(select)
            .bind(key.to_owned())
            .fetch_one(&mut *tx)
            .await?
            .try_get("body")?;
        let mut t: LoginThrottle = serde_json::from_str(&body)
            .map_err(|e| StoreError::Corrupt(format!("login_attempts {key}: {e}")))?;
        t.record_failure(&self.policy, now);
        let expires_at = t
            .locked_until_unix
            .unwrap_or(0)
            .max(now + self.policy.failure_window_s);
        sqlx::query("UPDATE login_attempts SET body = $2, expires_at = $3 WHERE key = $1")
            .bind(key.to_owned())
            .bind(serde_json::to_string(&t).map_err(StoreError::Encode)?)
            .bind(i64::try_from(expires_at).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn record(&self, keys: &AttemptKeys, now: u64) -> Result<()> {
        // Failures are rare: sweeping expired counters here bounds the table.
        sqlx::query("DELETE FROM login_attempts WHERE expires_at < $1")
            .bind(i64::try_from(now).unwrap_or(i64::MAX))
            .execute(&self.store.pool)
            .await?;
        for key in keys.all() {
            self.fail(key, now).await?;
        }
        Ok(())
    }
}

impl LoginAttempts for StoredLoginAttempts {
    async fn check(&self, keys: &AttemptKeys, now_unix: u64) -> std::result::Result<(), Throttled> {
        self.check_keys(keys, now_unix).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "sign-in counters unreadable; attempt refused");
            Err(Throttled {
                retry_after_s: UNREADABLE_COUNTERS_WAIT_S,
            })
        })
    }

    async fn record_failure(&self, keys: &AttemptKeys, now_unix: u64) {
        if let Err(e) = self.record(keys, now_unix).await {
            tracing::warn!(error = %e, "failed sign-in not counted");
        }
    }

    async fn clear(&self, key: &str) {
        let done = sqlx::query("DELETE FROM login_attempts WHERE key = $1")
            .bind(key.to_owned())
            .execute(&self.store.pool)
            .await;
        if let Err(e) = done {
            tracing::warn!(error = %e, "sign-in counter not cleared");
        }
    }
}
