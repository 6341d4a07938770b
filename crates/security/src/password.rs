//! Password hashing with Argon2id (RFC 9106) via the `argon2` crate.
//!
//! Parameters follow the OWASP password-storage recommendation for Argon2id:
//! 19 MiB of memory, 2 passes, 1 lane, 16-byte random salt, 32-byte output,
//! stored as a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$...`) so that the
//! parameters travel with each hash and can be raised later
//! ([`needs_rehash`]). Verification compares in constant time (inside the
//! crate). Plain-text passwords are never logged, stored or returned.
//!
//! This module does not decide lockout; see [`crate::throttle`].

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::OnceLock;

use crate::error::{Result, SecurityError};

/// Memory cost in KiB (19 MiB).
pub const MEMORY_KIB: u32 = 19_456;
/// Number of passes.
pub const ITERATIONS: u32 = 2;
/// Degree of parallelism.
pub const LANES: u32 = 1;
/// Shortest accepted password (NIST SP 800-63B allows 8; we ask for more).
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest accepted password (bounds hashing work per request).
pub const MAX_PASSWORD_CHARS: usize = 256;

fn hasher() -> Result<Argon2<'static>> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, LANES, Some(32))
        .map_err(|e| SecurityError::PasswordHash(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Checks the length rules (in characters, not bytes).
pub fn check_password_policy(password: &str) -> Result<()> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(SecurityError::PasswordLength {
            which: "short",
            min: MIN_PASSWORD_CHARS,
            max: MAX_PASSWORD_CHARS,
        });
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(SecurityError::PasswordLength {
            which: "long",
            min: MIN_PASSWORD_CHARS,
            max: MAX_PASSWORD_CHARS,
        });
    }
    Ok(())
}

/// Hashes a new password (after checking the policy) into a PHC string.
pub fn hash_password(password: &str) -> Result<String> {
    check_password_policy(password)?;
    let hash = hasher()?
        .hash_password(password.as_bytes())
        .map_err(|e| SecurityError::PasswordHash(e.to_string()))?;
    Ok(hash.to_string())
}

/// Verifies `password` against a stored PHC string. `Ok(false)` for a wrong
/// password; `Err` only for a corrupt stored hash.
pub fn verify_password(password: &str, phc: &str) -> Result<bool> {
    if password.chars().count() > MAX_PASSWORD_CHARS {
        return Ok(false);
    }
    let parsed = PasswordHash::new(phc).map_err(|e| SecurityError::Malformed {
        what: "stored password hash".into(),
        encoding: "PHC string",
        detail: e.to_string(),
    })?;
    Ok(hasher()?
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
}

/// Spends the same time as a real verification, for logins naming an unknown
/// user, so that response time does not reveal which user names exist.
pub fn verify_against_dummy(password: &str) -> bool {
    static DUMMY: OnceLock<Option<String>> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash_password("voltex-dummy-password-never-valid").ok());
    if let Some(d) = dummy {
        let _ = verify_password(password, d);
    }
    false
}

/// Whether a stored hash uses weaker parameters than the current ones, so the
/// server should re-hash the password at the next successful login.
pub fn needs_rehash(phc: &str) -> bool {
    let want = format!("$argon2id$v=19$m={MEMORY_KIB},t={ITERATIONS},p={LANES}$");
    !phc.starts_with(&want)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn right_password_verifies_and_wrong_one_does_not() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_password("correct horse battery", &h).unwrap());
        assert!(!verify_password("correct horse batterY", &h).unwrap());
        assert!(!needs_rehash(&h));
    }

    #[test]
    fn same_password_hashes_differently_each_time() {
        assert_ne!(
            hash_password("same password twice").unwrap(),
            hash_password("same password twice").unwrap()
        );
    }

    #[test]
    fn short_and_overlong_passwords_are_rejected() {
        assert!(matches!(
            hash_password("short"),
            Err(SecurityError::PasswordLength { which: "short", .. })
        ));
        assert!(hash_password(&"x".repeat(MAX_PASSWORD_CHARS + 1)).is_err());
    }

    #[test]
    fn weaker_parameters_call_for_rehash_and_corrupt_hash_is_an_error() {
        assert!(needs_rehash(
            "$argon2id$v=19$m=4096,t=3,p=1$c2FsdHNhbHQ$aGFzaA"
        ));
        assert!(verify_password("whatever password", "not-a-phc").is_err());
        assert!(!verify_against_dummy("whatever password"));
    }
}
