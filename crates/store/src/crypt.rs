//! Encryption at rest of commercially sensitive records.
//!
//! With a key ring attached ([`Store::with_field_keys`]), every row the store
//! writes to a sensitive table (one whose [`Entity`](crate::Entity) declares
//! `SENSITIVE`, listed in [`TABLES`](crate::TABLES)) has its whole `body` column (the
//! record's JSON) sealed with `voltex-security`'s
//! [`FieldKeyring`](voltex_security::field_crypto::FieldKeyring): the text
//! `vxf1.<key-id>.<base64url(nonce ‖ ciphertext ‖ tag)>`, whose associated
//! data binds it to `voltex-store/<table>/<id>/<version>` (see
//! [`row_context`]), so a ciphertext moved to another row, table or version
//! does not decrypt. The columns beside `body` (id, version, member, session,
//! kind, subject, time) stay in clear: they are what queries filter on, and no
//! query reads inside a sensitive body.
//!
//! Reads decrypt whatever starts with `vxf1.` and pass JSON through unchanged,
//! so rows written before encryption was turned on stay readable;
//! [`Store::reencrypt_sensitive`] encrypts them and moves every encrypted row
//! to the ring's active key (the rotation step between `field-keys rotate` and
//! retiring the old key). It is the one operation that updates rows in place:
//! the plaintext, and so the recorded history, does not change.
//!
//! Without a key ring the store reads and writes plaintext exactly as before,
//! and an encrypted row read without one is an error naming its key id.
use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sqlx::{AssertSqlSafe, Row};
use voltex_security::SecurityError;
use voltex_security::field_crypto::{FIELD_PREFIX, FieldKeyring};

use crate::tables::sensitive_tables;
use crate::{Result, Store, StoreError};

/// The context a row's ciphertext is bound to. Table names hold no `/` and
/// the version is a number, so the id in the middle is unambiguous.
pub fn row_context(table: &str, id: &str, version: i64) -> String {
    format!("voltex-store/{table}/{id}/{version}")
}

fn is_ciphertext(body: &str) -> bool {
    body.strip_prefix(FIELD_PREFIX)
        .is_some_and(|rest| rest.starts_with('.'))
}

/// What one table holds, by encryption state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldKeyUsage {
    pub table: String,
    /// Rows whose body is plaintext JSON.
    pub plaintext: u64,
    /// Encrypted rows by key id.
    pub by_key: BTreeMap<String, u64>,
}

/// What [`Store::reencrypt_sensitive`] did to one table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReencryptCounts {
    pub table: String,
    /// Plaintext rows now encrypted.
    pub encrypted: u64,
    /// Rows moved from an older key to the active one.
    pub rekeyed: u64,
    /// Rows already under the active key.
    pub unchanged: u64,
}

/// Rows read per page by the table scans (keyset pagination on (id, version)).
const PAGE: i64 = 500;

impl Store {
    /// The same store, encrypting sensitive rows with `keys` from now on and
    /// decrypting rows written under any key in the ring.
    pub fn with_field_keys(mut self, keys: Arc<FieldKeyring>) -> Self {
        self.keys = Some(keys);
        // The writer task seals with the keys of the store it was started
        // from: this store gets its own (sharing the write turn).
        self.writer = Default::default();
        self
    }

    /// The attached key ring, if any.
    pub fn field_keys(&self) -> Option<&FieldKeyring> {
        self.keys.as_deref()
    }

    /// The text to store in `body` for a row of `table`: encrypted if the
    /// table is `sensitive` and the store has a key ring.
    pub(crate) fn seal(
        &self,
        sensitive: bool,
        table: &str,
        id: &str,
        version: i64,
        json: String,
    ) -> Result<String> {
        match &self.keys {
            Some(keys) if sensitive => keys
                .encrypt(json.as_bytes(), &row_context(table, id, version))
                .map_err(|e| StoreError::Encrypt {
                    table: table.to_owned(),
                    id: id.to_owned(),
                    version,
                    reason: e.to_string(),
                }),
            _ => Ok(json),
        }
    }

    /// The JSON of a stored `body` (decrypted if it is a ciphertext).
    pub(crate) fn open_body(
        &self,
        table: &str,
        id: &str,
        version: i64,
        body: String,
    ) -> Result<String> {
        if !is_ciphertext(&body) {
            return Ok(body);
        }
        let key_id = FieldKeyring::key_id_of(&body).unwrap_or_default();
        let Some(keys) = &self.keys else {
            return Err(StoreError::NoFieldKeys {
                table: table.to_owned(),
                id: id.to_owned(),
                version,
                key_id,
            });
        };
        let plain = keys
            .decrypt(&body, &row_context(table, id, version))
            .map_err(|e| decrypt_error(table, id, version, key_id.clone(), e))?;
        String::from_utf8(plain.to_vec()).map_err(|_| {
            StoreError::Corrupt(format!(
                "{table} {id} version {version}: decrypted body is not UTF-8"
            ))
        })
    }

    /// Rows of each sensitive table by encryption state (plaintext, or the
    /// key id they are encrypted with). Before retiring a key, check that no
    /// row uses it. Reads only the prefix of each body, decrypts nothing.
    pub async fn field_key_usage(&self) -> Result<Vec<FieldKeyUsage>> {
        let mut out = Vec::new();
        for table in sensitive_tables() {
            let mut usage = FieldKeyUsage {
                table: table.to_owned(),
                ..FieldKeyUsage::default()
            };
            // The key id is at most 32 characters after `vxf1.`.
            let sql = format!(
                "SELECT substr(body, 1, 40) AS head, COUNT(*) AS n FROM {table} GROUP BY substr(body, 1, 40)"
            );
            for row in sqlx::query(AssertSqlSafe(sql))
                .fetch_all(&self.pool)
                .await?
            {
                let head: String = row.try_get("head")?;
                let n = row.try_get::<i64, _>("n")? as u64;
                if is_ciphertext(&head) {
                    let id = head.split('.').nth(1).unwrap_or_default().to_owned();
                    *usage.by_key.entry(id).or_default() += n;
                } else {
                    usage.plaintext += n;
                }
            }
            out.push(usage);
        }
        Ok(out)
    }

    /// Rotation step 2: rewrites every row of every sensitive table under the
    /// key ring's active key: plaintext rows (written before encryption was
    /// on) are encrypted, rows under an older key are decrypted and encrypted
    /// again, rows already under the active key are left alone. Each row keeps
    /// its id, version, time and plaintext; only the `body` text changes, in
    /// place, and only if nobody changed it meanwhile. Safe to run while a
    /// server that holds the same key ring is up, and to run again.
    ///
    /// A row that does not decrypt (a key missing from the ring, a moved or
    /// tampered ciphertext) stops the pass with that row's error; the pages
    /// before it stay re-encrypted.
    pub async fn reencrypt_sensitive(&self) -> Result<Vec<ReencryptCounts>> {
        let Some(keys) = self.keys.clone() else {
            return Err(StoreError::Encrypt {
                table: "*".into(),
                id: "*".into(),
                version: 0,
                reason: "no field key ring is attached to the store".into(),
            });
        };
        let mut out = Vec::new();
        for table in sensitive_tables() {
            let mut counts = ReencryptCounts {
                table: table.to_owned(),
                ..ReencryptCounts::default()
            };
            let select = format!(
                "SELECT id, version, body FROM {table} WHERE id > $1 OR (id = $1 AND version > $2) \
                 ORDER BY id, version LIMIT {PAGE}"
            );
            let update = format!(
                "UPDATE {table} SET body = $1 WHERE id = $2 AND version = $3 AND body = $4"
            );
            let (mut after_id, mut after_version) = (String::new(), 0i64);
            loop {
                let rows = sqlx::query(AssertSqlSafe(select.clone()))
                    .bind(after_id.clone())
                    .bind(after_version)
                    .fetch_all(&self.pool)
                    .await?;
                if rows.is_empty() {
                    break;
                }
                let mut changes = Vec::new();
                for row in &rows {
                    let id: String = row.try_get("id")?;
                    let version: i64 = row.try_get("version")?;
                    let body: String = row.try_get("body")?;
                    let context = row_context(table, &id, version);
                    let new_body = if is_ciphertext(&body) {
                        let key_id = FieldKeyring::key_id_of(&body).unwrap_or_default();
                        if key_id == keys.active_key_id() {
                            counts.unchanged += 1;
                            None
                        } else {
                            counts.rekeyed += 1;
                            Some(
                                keys.reencrypt(&body, &context)
                                    .map_err(|e| decrypt_error(table, &id, version, key_id, e))?,
                            )
                        }
                    } else {
                        counts.encrypted += 1;
                        Some(self.seal(true, table, &id, version, body.clone())?)
                    };
                    if let Some(new_body) = new_body {
                        changes.push((id.clone(), version, body, new_body));
                    }
                    (after_id, after_version) = (id, version);
                }
                if !changes.is_empty() {
                    let mut tx = self.begin_write().await?;
                    for (id, version, old, new) in changes {
                        let done = sqlx::query(AssertSqlSafe(update.clone()))
                            .bind(new)
                            .bind(id.clone())
                            .bind(version)
                            .bind(old)
                            .execute(&mut *tx)
                            .await?;
                        if done.rows_affected() != 1 {
                            return Err(StoreError::Encrypt {
                                table: table.to_owned(),
                                id,
                                version,
                                reason: "the row changed during re-encryption (another re-encryption running?); run it again".into(),
                            });
                        }
                    }
                    tx.commit().await?;
                }
                if (rows.len() as i64) < PAGE {
                    break;
                }
            }
            out.push(counts);
        }
        Ok(out)
    }
}

fn decrypt_error(
    table: &str,
    id: &str,
    version: i64,
    key_id: String,
    e: SecurityError,
) -> StoreError {
    StoreError::Decrypt {
        table: table.to_owned(),
        id: id.to_owned(),
        version,
        key_id,
        reason: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ciphertext_is_recognised_by_its_prefix_only() {
        assert!(is_ciphertext("vxf1.k1.AAAA"));
        assert!(!is_ciphertext("{\"price\":1}"));
        assert!(!is_ciphertext("vxf1"));
        assert!(!is_ciphertext("vxf10.k1"));
    }

    #[test]
    fn contexts_differ_by_table_id_and_version() {
        let a = row_context("declarations", "S:energy_offer:G1", 2);
        assert_ne!(a, row_context("declarations", "S:energy_offer:G1", 3));
        assert_ne!(a, row_context("declarations", "S:energy_offer:G2", 2));
        assert_ne!(a, row_context("statements", "S:energy_offer:G1", 2));
    }
}
