//! Declarations: the one table the store writes itself rather than as an
//! [`Entity`], because it is guarded by the session (a declaration is
//! stored only while its session is still at the version the caller
//! validated against) and keyed by `<session>:<kind>:<subject>`. Also the
//! [`Companion`] record written in the same transaction, such as the
//! member's signature over the declaration. No market rule here: whether a
//! declaration is acceptable is `voltex-market`'s decision.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};
use voltex_model::{DeclarationBody, DeclarationKind};

use crate::tables::{DECLARATIONS, Registered, is_sensitive_table};
use crate::writer::DeclarationWrite;
use crate::{
    Entity, Result, Store, StoreError, WriteTx, latest_version, parse_timestamp, timestamp,
};

/// One stored version of a declaration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredDeclaration {
    /// `<session>:<kind>:<subject>`; all versions of one declaration share it.
    pub key: String,
    pub version: i64,
    pub session_id: String,
    pub member_id: String,
    pub kind: DeclarationKind,
    pub subject: String,
    pub submitted_at: DateTime<Utc>,
    pub body: DeclarationBody,
}

impl StoredDeclaration {
    /// Version `version` of `member_id`'s declaration `body` in `session_id`,
    /// as it is about to be stored.
    pub(crate) fn new_version(
        session_id: String,
        member_id: String,
        body: DeclarationBody,
        version: i64,
        submitted_at: DateTime<Utc>,
    ) -> Self {
        Self {
            key: body.key(&session_id, &member_id),
            version,
            kind: body.kind(),
            subject: body.subject(&member_id).to_owned(),
            session_id,
            member_id,
            submitted_at,
            body,
        }
    }
}

/// A record written in the same transaction as a declaration version (for
/// example the member's signature over it), so that both are stored or
/// neither. It becomes version 1 of `id` in the entity's table; an existing
/// record with that id makes the whole write a [`StoreError::Conflict`].
#[derive(Debug, Clone)]
pub struct Companion {
    table: &'static str,
    name: &'static str,
    sensitive: bool,
    /// The entity is [`Entity::CACHED`]: forgotten from the cache once written.
    cached: bool,
    id: String,
    owner: Option<String>,
    body: String,
    /// Written on top of the latest version of `id` instead of as version 1.
    next_version: bool,
}

impl Companion {
    /// Encodes `value` (encrypted, if its table is sensitive and the store
    /// has a key ring, when it is written) as version 1 of its id.
    pub fn of<T: Entity>(value: &T) -> Result<Self> {
        let () = Registered::<T>::CHECK;
        Ok(Self {
            table: T::TABLE,
            name: T::NAME,
            sensitive: T::SENSITIVE,
            cached: T::CACHED,
            id: value.entity_id(),
            owner: T::OWNED.then(|| value.owner().unwrap_or_default().to_owned()),
            body: serde_json::to_string(value).map_err(StoreError::Encode)?,
            next_version: false,
        })
    }

    /// Like [`Companion::of`], but `value` becomes the next version of its
    /// id, whatever the latest is (a running summary such as the review's
    /// reference offer). A version taken by another writer meanwhile makes
    /// the write a [`StoreError::Conflict`].
    pub fn next_version_of<T: Entity>(value: &T) -> Result<Self> {
        Ok(Self {
            next_version: true,
            ..Self::of(value)?
        })
    }
}

impl Store {
    /// Appends a declaration version, but only while the session is still at
    /// `session_version` (the version whose state the caller validated
    /// against). A session that moved on — e.g. its gate closed meanwhile —
    /// makes this fail with `SessionMoved`, so nothing slips in after gate
    /// closure. Resubmission supersedes: the new row gets the next version.
    pub async fn append_declaration(
        &self,
        session_id: &str,
        session_version: i64,
        member_id: &str,
        body: &DeclarationBody,
    ) -> Result<StoredDeclaration> {
        self.write_declaration(DeclarationWrite::new(
            session_id,
            session_version,
            member_id,
            body.clone(),
        )?)
        .await
    }

    /// Appends several declarations in one transaction: all are stored or
    /// none (a file import is all-or-nothing). Same session guard as
    /// [`Store::append_declaration`].
    pub async fn append_declarations(
        &self,
        session_id: &str,
        session_version: i64,
        items: &[(&str, &DeclarationBody)],
    ) -> Result<Vec<StoredDeclaration>> {
        let mut encoded = Vec::with_capacity(items.len());
        for (member_id, body) in items {
            let json = serde_json::to_string(body).map_err(StoreError::Encode)?;
            encoded.push((*member_id, *body, json));
        }
        let submitted_at = Utc::now();
        for _attempt in 0..5 {
            let mut tx = self.begin_write().await?;
            self.lock_session(&mut tx, session_id).await?;
            let session_now = latest_version(&mut *tx, "sessions", session_id).await?;
            if session_now != session_version {
                return Err(StoreError::SessionMoved {
                    session_id: session_id.to_owned(),
                    expected: session_version,
                    actual: session_now,
                });
            }
            let mut stored = Vec::with_capacity(items.len());
            let mut raced = false;
            for (member_id, body, json) in &encoded {
                let key = body.key(session_id, member_id);
                let version = latest_version(&mut *tx, DECLARATIONS, &key).await? + 1;
                let d = StoredDeclaration::new_version(
                    session_id.to_owned(),
                    (*member_id).to_owned(),
                    (*body).clone(),
                    version,
                    submitted_at,
                );
                match self.insert_declaration_row(&mut tx, &d, json).await {
                    Ok(()) => stored.push(d),
                    // A concurrent resubmission took this version number:
                    // roll back and retry the whole batch on top of it.
                    Err(StoreError::Conflict { .. }) => {
                        raced = true;
                        break;
                    }
                    Err(e) => return Err(e),
                }
            }
            if raced {
                continue;
            }
            tx.commit().await?;
            return Ok(stored);
        }
        Err(StoreError::Conflict {
            entity: "declaration",
            id: format!("{session_id} (batch of {})", items.len()),
            expected: -1,
            actual: -1,
        })
    }

    /// Inserts one declaration row; a version another writer took meanwhile
    /// is a [`StoreError::Conflict`] (and leaves the transaction usable).
    pub(crate) async fn insert_declaration_row(
        &self,
        tx: &mut WriteTx,
        d: &StoredDeclaration,
        json: &str,
    ) -> Result<()> {
        self.insert_declaration_rows(tx, &[(d, json)]).await
    }

    /// Inserts declaration rows (each with its body as stored), many per
    /// statement; a version another writer took meanwhile makes the whole
    /// call a [`StoreError::Conflict`] naming the first row of its statement.
    pub(crate) async fn insert_declaration_rows(
        &self,
        tx: &mut WriteTx,
        rows: &[(&StoredDeclaration, &str)],
    ) -> Result<()> {
        const COLUMNS: [&str; 8] = [
            "id",
            "version",
            "session_id",
            "member_id",
            "kind",
            "subject",
            "recorded_at",
            "body",
        ];
        let sensitive = is_sensitive_table(DECLARATIONS);
        for chunk in rows.chunks(crate::ROWS_PER_INSERT) {
            let sql = crate::insert_rows_sql(
                self.backend,
                DECLARATIONS,
                &COLUMNS,
                chunk.len(),
                "ON CONFLICT DO NOTHING",
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for (d, json) in chunk {
                let sealed = self.seal(
                    sensitive,
                    DECLARATIONS,
                    &d.key,
                    d.version,
                    (*json).to_owned(),
                )?;
                q = q
                    .bind(d.key.clone())
                    .bind(d.version)
                    .bind(d.session_id.clone())
                    .bind(d.member_id.clone())
                    .bind(d.kind.as_str().to_owned())
                    .bind(d.subject.clone())
                    .bind(timestamp(d.submitted_at))
                    .bind(sealed);
            }
            let inserted = q.execute(&mut **tx).await?;
            if inserted.rows_affected() != chunk.len() as u64 {
                let (first, _) = &chunk[0];
                return Err(StoreError::Conflict {
                    entity: "declaration",
                    id: first.key.clone(),
                    expected: first.version - 1,
                    actual: first.version,
                });
            }
        }
        Ok(())
    }

    /// Writes `companions` in one transaction, all or none (records that
    /// follow a declaration stored earlier).
    pub async fn write_companions(&self, companions: &[Companion]) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let now = Utc::now();
        for c in companions {
            insert_companion(self, &mut tx, c, now).await?;
        }
        tx.commit().await
    }

    /// One stored version of a declaration.
    pub async fn declaration_version(
        &self,
        key: &str,
        version: i64,
    ) -> Result<Option<StoredDeclaration>> {
        let row = sqlx::query(
            "SELECT id, version, session_id, member_id, kind, subject, recorded_at, body \
             FROM declarations WHERE id = $1 AND version = $2",
        )
        .bind(key.to_owned())
        .bind(version)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| self.decode_declaration(&r)).transpose()
    }

    /// Every version of every declaration of a session, oldest first.
    pub async fn session_declaration_versions(
        &self,
        session_id: &str,
    ) -> Result<Vec<StoredDeclaration>> {
        let rows = sqlx::query(
            "SELECT id, version, session_id, member_id, kind, subject, recorded_at, body \
             FROM declarations WHERE session_id = $1 ORDER BY id, version",
        )
        .bind(session_id.to_owned())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| self.decode_declaration(r)).collect()
    }

    /// The latest version of a declaration.
    pub async fn declaration(&self, key: &str) -> Result<Option<StoredDeclaration>> {
        let row = sqlx::query(
            "SELECT id, version, session_id, member_id, kind, subject, recorded_at, body \
             FROM declarations WHERE id = $1 ORDER BY version DESC LIMIT 1",
        )
        .bind(key.to_owned())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| self.decode_declaration(&r)).transpose()
    }

    /// Every version of a declaration, oldest first.
    pub async fn declaration_history(&self, key: &str) -> Result<Vec<StoredDeclaration>> {
        let rows = sqlx::query(
            "SELECT id, version, session_id, member_id, kind, subject, recorded_at, body \
             FROM declarations WHERE id = $1 ORDER BY version",
        )
        .bind(key.to_owned())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| self.decode_declaration(r)).collect()
    }

    /// The latest version of each declaration in a session, optionally only one
    /// member's; ordered by key.
    pub async fn declarations(
        &self,
        session_id: &str,
        member_id: Option<&str>,
    ) -> Result<Vec<StoredDeclaration>> {
        let filter = if member_id.is_some() {
            "AND member_id = $2"
        } else {
            ""
        };
        let sql = format!(
            "SELECT d.id, d.version, d.session_id, d.member_id, d.kind, d.subject, d.recorded_at, d.body \
             FROM declarations d JOIN (SELECT id, MAX(version) AS v FROM declarations \
             WHERE session_id = $1 {filter} GROUP BY id) l ON d.id = l.id AND d.version = l.v \
             ORDER BY d.id"
        );
        let mut q = sqlx::query(AssertSqlSafe(sql)).bind(session_id.to_owned());
        if let Some(m) = member_id {
            q = q.bind(m.to_owned());
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter().map(|r| self.decode_declaration(r)).collect()
    }

    /// Every declaration version a member ever submitted, oldest first (for export).
    pub async fn member_declarations(&self, member_id: &str) -> Result<Vec<StoredDeclaration>> {
        let rows = sqlx::query(
            "SELECT id, version, session_id, member_id, kind, subject, recorded_at, body \
             FROM declarations WHERE member_id = $1 ORDER BY recorded_at, id, version",
        )
        .bind(member_id.to_owned())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| self.decode_declaration(r)).collect()
    }

    /// A member's declaration versions of one kind and subject across all
    /// sessions, newest first, at most `limit`.
    pub async fn subject_history(
        &self,
        member_id: &str,
        kind: &str,
        subject: &str,
        limit: i64,
    ) -> Result<Vec<StoredDeclaration>> {
        let rows = sqlx::query(
            "SELECT id, version, session_id, member_id, kind, subject, recorded_at, body \
             FROM declarations WHERE member_id = $1 AND kind = $2 AND subject = $3 \
             ORDER BY recorded_at DESC, version DESC LIMIT $4",
        )
        .bind(member_id.to_owned())
        .bind(kind.to_owned())
        .bind(subject.to_owned())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| self.decode_declaration(r)).collect()
    }

    fn decode_declaration(&self, row: &AnyRow) -> Result<StoredDeclaration> {
        let key: String = row.try_get("id")?;
        let version: i64 = row.try_get("version")?;
        let body = self.open_body(DECLARATIONS, &key, version, row.try_get("body")?)?;
        let body: DeclarationBody =
            serde_json::from_str(&body).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(StoredDeclaration {
            key,
            version,
            session_id: row.try_get("session_id")?,
            member_id: row.try_get("member_id")?,
            kind: body.kind(),
            subject: row.try_get("subject")?,
            submitted_at: parse_timestamp(&row.try_get::<String, _>("recorded_at")?)?,
            body,
        })
    }
}

/// Writes `c` inside `tx`: as version 1 of its id, or as the next version
/// for [`Companion::next_version_of`]. An id or version that exists already
/// is a [`StoreError::Conflict`] (and leaves the transaction usable).
pub(crate) async fn insert_companion(
    store: &Store,
    tx: &mut WriteTx,
    c: &Companion,
    recorded_at: DateTime<Utc>,
) -> Result<()> {
    let version = if c.next_version {
        latest_version(&mut **tx, c.table, &c.id).await? + 1
    } else {
        1
    };
    insert_companions(store, tx, &[(c, version)], recorded_at).await
}

/// The versions the companions take, in order: version 1, or for a
/// [`Companion::next_version_of`] the one after the latest stored (and
/// after any earlier one of the same id in `companions`); one query per
/// table.
pub(crate) async fn companion_versions(
    tx: &mut WriteTx,
    backend: crate::Backend,
    companions: &[&Companion],
) -> Result<Vec<i64>> {
    let mut latest: HashMap<(&str, &str), i64> = HashMap::new();
    let mut tables: Vec<&'static str> = companions
        .iter()
        .filter(|c| c.next_version)
        .map(|c| c.table)
        .collect();
    tables.sort_unstable();
    tables.dedup();
    for table in tables {
        let ids: Vec<&str> = companions
            .iter()
            .filter(|c| c.next_version && c.table == table)
            .map(|c| c.id.as_str())
            .collect();
        let found = crate::latest_versions(&mut **tx, backend, table, &ids).await?;
        for id in ids {
            latest.insert((table, id), found.get(id).copied().unwrap_or(0));
        }
    }
    Ok(companions
        .iter()
        .map(|c| {
            if !c.next_version {
                return 1;
            }
            let v = latest.entry((c.table, c.id.as_str())).or_insert(0);
            *v += 1;
            *v
        })
        .collect())
}

/// Inserts companions at the given versions, many rows per statement (one
/// statement per table and chunk); a version taken meanwhile makes the
/// call a [`StoreError::Conflict`].
pub(crate) async fn insert_companions(
    store: &Store,
    tx: &mut WriteTx,
    items: &[(&Companion, i64)],
    recorded_at: DateTime<Utc>,
) -> Result<()> {
    let at = timestamp(recorded_at);
    // Consecutive companions of one table (and shape) share a statement.
    let mut rest = items;
    while let Some(((first, first_version), _)) = rest.split_first() {
        let same = rest
            .iter()
            .take(crate::ROWS_PER_INSERT)
            .take_while(|(c, _)| {
                c.table == first.table && c.owner.is_some() == first.owner.is_some()
            })
            .count();
        let (chunk, after) = rest.split_at(same);
        rest = after;
        let columns: &[&str] = match first.owner {
            Some(_) => &["id", "version", "member_id", "recorded_at", "body"],
            None => &["id", "version", "recorded_at", "body"],
        };
        let sql = crate::insert_rows_sql(
            store.backend,
            first.table,
            columns,
            chunk.len(),
            "ON CONFLICT DO NOTHING",
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for (c, version) in chunk {
            tx.writes(c.table, c.cached, &c.id);
            q = q.bind(c.id.clone()).bind(*version);
            if let Some(owner) = &c.owner {
                q = q.bind(owner.clone());
            }
            q = q.bind(at.clone()).bind(store.seal(
                c.sensitive,
                c.table,
                &c.id,
                *version,
                c.body.clone(),
            )?);
        }
        let inserted = q.execute(&mut **tx).await?;
        if inserted.rows_affected() != chunk.len() as u64 {
            return Err(StoreError::Conflict {
                entity: first.name,
                id: first.id.clone(),
                expected: first_version - 1,
                actual: *first_version,
            });
        }
    }
    Ok(())
}
