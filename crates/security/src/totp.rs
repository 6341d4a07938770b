//! Time-based one-time passwords (RFC 6238) via `totp-rs`, with replay refusal.
//!
//! Secrets are 160 random bits (RFC 4226 §4), codes are 6 digits over 30 s
//! steps with SHA-1 (what authenticator apps support), and one step of clock
//! skew is tolerated either way. RFC 6238 §5.2 requires that a code be
//! accepted once: [`TotpVerifier::verify`] takes the last accepted step and
//! refuses it or any earlier one; the caller stores the returned step.
//!
//! This module keeps no state and never logs a secret or a code.

use totp_rs::{Algorithm, Builder, Secret, Totp};
use zeroize::Zeroizing;

use crate::error::{Result, SecurityError};
use crate::secret_files::random_bytes;

pub const DIGITS: u8 = 6;
pub const STEP_SECONDS: u64 = 30;
pub const SKEW_STEPS: u16 = 1;
pub const ISSUER: &str = "Voltex";

/// A user's TOTP configuration.
#[derive(Clone)]
pub struct TotpVerifier {
    totp: Totp,
}

impl std::fmt::Debug for TotpVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpVerifier(<secret>)")
    }
}

/// Generates a new random secret, returned as base32 (to store encrypted and
/// show once to the user as a QR code / otpauth URL).
pub fn generate_secret_base32() -> Result<Zeroizing<String>> {
    let bytes = random_bytes::<20>()?;
    Ok(Zeroizing::new(Secret::from(bytes.to_vec()).to_base32()))
}

impl TotpVerifier {
    /// Builds a verifier for `account` (e.g. user name) from a base32 secret.
    pub fn new(secret_base32: &str, account: &str) -> Result<Self> {
        let secret = Secret::try_from_base32(secret_base32.trim())
            .map_err(|_| SecurityError::TotpSetup("secret is not valid base32".into()))?;
        let totp = Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(DIGITS)
            .with_skew(SKEW_STEPS)
            .with_step_duration(STEP_SECONDS)
            .with_secret(secret)
            .with_account_name(account)
            .with_issuer(Some(ISSUER))
            .build()
            .map_err(|e| SecurityError::TotpSetup(e.to_string()))?;
        Ok(TotpVerifier { totp })
    }

    /// `otpauth://` URL for enrolment in an authenticator app.
    pub fn otpauth_url(&self) -> Result<Zeroizing<String>> {
        self.totp
            .to_url()
            .map(Zeroizing::new)
            .map_err(|e| SecurityError::TotpSetup(e.to_string()))
    }

    /// The code for Unix time `now_unix` (for tests and enrolment checks).
    pub fn code_at(&self, now_unix: u64) -> String {
        self.totp.generate(now_unix).to_string()
    }

    /// Accepts `code` at `now_unix` if it matches a step within the skew and
    /// that step is later than `last_accepted_step`. Returns the matched
    /// step, which the caller must store as the new `last_accepted_step`.
    pub fn verify(
        &self,
        code: &str,
        now_unix: u64,
        last_accepted_step: Option<u64>,
    ) -> Result<u64> {
        let code = code.trim();
        if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(SecurityError::TotpRejected);
        }
        let step = self
            .totp
            .check(code, now_unix)
            .ok_or(SecurityError::TotpRejected)?;
        if let Some(last) = last_accepted_step
            && step <= last
        {
            return Err(SecurityError::TotpReplayed { step });
        }
        Ok(step)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_sha1_vector_with_six_digits() {
        // RFC 6238 Appendix B, SHA-1 secret "12345678901234567890", T = 59 s → 94287082 (8 digits).
        let secret = Secret::from(b"12345678901234567890".to_vec()).to_base32();
        let v = TotpVerifier::new(&secret, "alice").unwrap();
        assert_eq!(v.code_at(59), "287082");
        assert_eq!(v.code_at(1_111_111_109), "081804");
    }

    #[test]
    fn code_is_accepted_once_and_replay_is_refused() {
        let secret = generate_secret_base32().unwrap();
        let v = TotpVerifier::new(&secret, "trader@gen-a").unwrap();
        let now = 1_800_000_000;
        let code = v.code_at(now);
        let step = v.verify(&code, now, None).unwrap();
        assert_eq!(step, now / STEP_SECONDS);
        assert!(matches!(
            v.verify(&code, now + 5, Some(step)),
            Err(SecurityError::TotpReplayed { .. })
        ));
    }

    #[test]
    fn skew_of_one_step_is_tolerated_but_not_two() {
        let secret = generate_secret_base32().unwrap();
        let v = TotpVerifier::new(&secret, "u").unwrap();
        let now = 1_800_000_000;
        assert!(v.verify(&v.code_at(now - 30), now, None).is_ok());
        assert!(v.verify(&v.code_at(now + 30), now, None).is_ok());
        assert!(v.verify(&v.code_at(now - 90), now, None).is_err());
        assert!(v.verify("12345", now, None).is_err());
        assert!(v.verify("abcdef", now, None).is_err());
    }

    #[test]
    fn otpauth_url_names_issuer_and_account() {
        let v = TotpVerifier::new(&generate_secret_base32().unwrap(), "ops").unwrap();
        let url = v.otpauth_url().unwrap();
        assert!(
            url.starts_with("otpauth://totp/Voltex:ops?"),
            "{}",
            url.as_str()
        );
    }
}
