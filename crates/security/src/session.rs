//! Session tokens: random bearer tokens that are stored only as hashes.
//!
//! A token is 256 random bits, shown once to the client as
//! `vxs_<base64url>`. The store keeps a [`SessionRecord`] with the SHA-256 of
//! the token (a fast hash suffices: the token has full entropy, unlike a
//! password), the user, role, member, creation and expiry times, and a
//! revocation time set by logout. [`authenticate`] compares hashes in
//! constant time and refuses expired or revoked sessions. Sessions are short
//! (default 30 min idle, 12 h absolute).
//!
//! This module does not store sessions and does not read HTTP headers.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::error::{Result, SecurityError};
use crate::roles::{AuthStrength, Principal, Role};
use crate::secret_files::random_bytes;

pub const TOKEN_PREFIX: &str = "vxs_";
/// A session unused this long expires.
pub const DEFAULT_IDLE_TIMEOUT_MIN: i64 = 30;
/// A session expires this long after login regardless of use.
pub const DEFAULT_ABSOLUTE_TIMEOUT_H: i64 = 12;

/// What the store keeps for a session (no token, only its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// SHA-256 of the token, hex; the lookup key.
    pub token_sha256: String,
    pub user_id: String,
    pub role: Role,
    pub member_id: Option<String>,
    pub strength: AuthStrength,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A token as handed to the client once. Wiped from memory when dropped.
#[derive(Clone)]
pub struct SessionToken(Zeroizing<String>);

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(<secret>)")
    }
}

impl SessionToken {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// SHA-256 (hex) of a presented token, for the store lookup.
pub fn token_sha256(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Starts a session for an authenticated principal.
pub fn issue(principal: &Principal, now: DateTime<Utc>) -> Result<(SessionToken, SessionRecord)> {
    let raw = Zeroizing::new(random_bytes::<32>()?);
    let token = Zeroizing::new(format!("{TOKEN_PREFIX}{}", B64URL.encode(raw.as_slice())));
    let record = SessionRecord {
        token_sha256: token_sha256(&token),
        user_id: principal.user_id.clone(),
        role: principal.role,
        member_id: principal.member_id.clone(),
        strength: principal.strength,
        created_at: now,
        last_used_at: now,
        expires_at: now + Duration::hours(DEFAULT_ABSOLUTE_TIMEOUT_H),
        revoked_at: None,
    };
    Ok((SessionToken(token), record))
}

/// Checks a presented token against the stored record at `now`; on success
/// returns the principal and updates `last_used_at` (the caller saves it).
pub fn authenticate(
    presented: &str,
    record: &mut SessionRecord,
    now: DateTime<Utc>,
) -> Result<Principal> {
    let presented_hash = token_sha256(presented);
    let same: bool = presented_hash
        .as_bytes()
        .ct_eq(record.token_sha256.as_bytes())
        .into();
    let idle_expired = now - record.last_used_at > Duration::minutes(DEFAULT_IDLE_TIMEOUT_MIN);
    if !same || record.revoked_at.is_some() || now >= record.expires_at || idle_expired {
        return Err(SecurityError::SessionInvalid);
    }
    record.last_used_at = now;
    Ok(Principal {
        user_id: record.user_id.clone(),
        role: record.role,
        member_id: record.member_id.clone(),
        strength: record.strength,
    })
}

/// Logout: marks the session revoked at `now`.
pub fn revoke(record: &mut SessionRecord, now: DateTime<Utc>) {
    record.revoked_at.get_or_insert(now);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trader() -> Principal {
        Principal {
            user_id: "alice".into(),
            role: Role::MemberTrader,
            member_id: Some("GEN-A".into()),
            strength: AuthStrength::PasswordAndTotp,
        }
    }

    #[test]
    fn token_is_stored_only_as_its_hash() {
        let now = Utc::now();
        let (token, record) = issue(&trader(), now).unwrap();
        assert!(token.expose().starts_with(TOKEN_PREFIX));
        assert!(token.expose().len() >= 40);
        let stored = serde_json::to_string(&record).unwrap();
        assert!(!stored.contains(&token.expose()[TOKEN_PREFIX.len()..]));
        assert_eq!(format!("{token:?}"), "SessionToken(<secret>)");
    }

    #[test]
    fn valid_token_authenticates_and_wrong_one_does_not() {
        let now = Utc::now();
        let (token, mut record) = issue(&trader(), now).unwrap();
        let p = authenticate(token.expose(), &mut record, now + Duration::minutes(1)).unwrap();
        assert_eq!(p, trader());
        let (other, _) = issue(&trader(), now).unwrap();
        assert!(authenticate(other.expose(), &mut record, now).is_err());
    }

    #[test]
    fn logout_idle_and_absolute_expiry_end_the_session() {
        let now = Utc::now();
        let (token, mut record) = issue(&trader(), now).unwrap();
        let mut r2 = record.clone();
        revoke(&mut record, now);
        assert!(authenticate(token.expose(), &mut record, now).is_err());
        // idle timeout
        let mut r3 = r2.clone();
        assert!(authenticate(token.expose(), &mut r3, now + Duration::minutes(31)).is_err());
        // absolute timeout despite continuous use
        let mut t = now;
        while t < now + Duration::hours(12) - Duration::minutes(20) {
            t += Duration::minutes(20);
            authenticate(token.expose(), &mut r2, t).unwrap();
        }
        assert!(authenticate(token.expose(), &mut r2, now + Duration::hours(12)).is_err());
    }
}
