//! The one error type of `voltex-security`.
//!
//! Every variant names what went wrong and, where there is one, the field,
//! file or element involved, so that an operator reading a log line knows
//! what to fix. Messages never contain secrets (keys, passwords, tokens,
//! one-time codes): only their names or identifiers.

use std::path::PathBuf;

/// Everything that can go wrong in the security library.
#[derive(Debug, thiserror::Error)]
pub enum SecurityError {
    // ---- files and encodings -------------------------------------------------
    #[error("cannot {action} `{path}`: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{path}` already exists; refusing to overwrite {what}")]
    AlreadyExists { path: PathBuf, what: &'static str },
    #[error("{what} is not valid {encoding}: {detail}")]
    Malformed {
        what: String,
        encoding: &'static str,
        detail: String,
    },

    // ---- canonical JSON --------------------------------------------------------
    #[error("JSON is not valid: {0}")]
    JsonSyntax(String),
    #[error("JSON object has the key `{key}` twice; a signed document must not be ambiguous")]
    DuplicateJsonKey { key: String },
    #[error(
        "JSON number `{number}` cannot be represented exactly as an IEEE-754 double (RFC 8785 §3.2.2.3); send it as a string"
    )]
    UnrepresentableNumber { number: String },

    // ---- identities, certificates, revocation ----------------------------------
    #[error("member id `{id}` is invalid: {rule}")]
    InvalidMemberId { id: String, rule: &'static str },
    #[error(
        "role `{0}` is unknown (expected operator, member-administrator, member-trader, member-viewer or auditor)"
    )]
    UnknownRole(String),
    #[error("certificate validity of {days} days is not allowed: must be between 1 and {max_days}")]
    InvalidValidity { days: u32, max_days: u32 },
    #[error("certificate generation failed: {0}")]
    CertificateGeneration(String),
    #[error("certificate {what} could not be parsed: {detail}")]
    CertificateParse { what: String, detail: String },
    #[error("certificate {serial} was not issued by this platform CA: {detail}")]
    UntrustedCertificate { serial: String, detail: String },
    #[error("certificate {serial} expired at {not_after}")]
    CertificateExpired { serial: String, not_after: String },
    #[error("certificate {serial} is not valid before {not_before}")]
    CertificateNotYetValid { serial: String, not_before: String },
    #[error("certificate {serial} was revoked at {revoked_at}")]
    CertificateRevoked { serial: String, revoked_at: String },
    #[error("certificate {serial} is not a member certificate: {detail}")]
    NotAMemberCertificate { serial: String, detail: String },
    #[error(
        "the revocation list is stale: its next update was due at {next_update}; run `voltex ca publish-crl`"
    )]
    RevocationListStale { next_update: String },
    #[error("the revocation list is not signed by this platform CA")]
    RevocationListUntrusted,
    #[error("no certificate with serial {0} in the CA register")]
    UnknownSerial(String),
    #[error("no active certificate for member `{0}` in the CA register")]
    UnknownMember(String),
    #[error("certificate {0} is already revoked")]
    AlreadyRevoked(String),

    // ---- signatures, declarations, receipts ----------------------------------
    #[error("{what} signature is not valid")]
    BadSignature { what: &'static str },
    #[error("declaration signer `{signed_as}` does not match certificate member `{certified}`")]
    SignerMismatch {
        signed_as: String,
        certified: String,
    },
    #[error(
        "the declaration does not match the receipt: {field} differs (receipt {in_receipt}, declaration {in_declaration})"
    )]
    ReceiptMismatch {
        field: &'static str,
        in_receipt: String,
        in_declaration: String,
    },
    #[error(
        "the receipt was sealed at {sealed_at}, outside the validity of its seal certificate ({detail})"
    )]
    SealOutsideValidity { sealed_at: String, detail: String },
    #[error("unsupported {what} format `{found}` (expected `{expected}`)")]
    UnsupportedFormat {
        what: &'static str,
        found: String,
        expected: &'static str,
    },

    // ---- authentication ------------------------------------------------------
    #[error("password is too {which}: it must be between {min} and {max} characters")]
    PasswordLength {
        which: &'static str,
        min: usize,
        max: usize,
    },
    #[error("password hashing failed: {0}")]
    PasswordHash(String),
    #[error("one-time password configuration is invalid: {0}")]
    TotpSetup(String),
    #[error("one-time password is wrong or expired")]
    TotpRejected,
    #[error("one-time password for time step {step} was already used")]
    TotpReplayed { step: u64 },
    #[error("too many failed logins; retry after {retry_after_s} s")]
    LoginThrottled { retry_after_s: u64 },
    #[error("session is unknown, revoked or expired")]
    SessionInvalid,

    // ---- authorisation -------------------------------------------------------
    #[error("role {role} may not {permission}")]
    Forbidden {
        role: &'static str,
        permission: &'static str,
    },
    #[error(
        "{role} of member `{actor_member}` may not access private data of member `{owner_member}`"
    )]
    ForeignTenant {
        role: &'static str,
        actor_member: String,
        owner_member: String,
    },

    // ---- audit chain -------------------------------------------------------------
    #[error("audit chain broken at row {seq}: {rule}")]
    AuditChainBroken { seq: u64, rule: String },

    // ---- encryption --------------------------------------------------------------
    #[error("field key `{key_id}` is unusable: {rule}")]
    WeakFieldKey { key_id: String, rule: &'static str },
    #[error("field key ring is invalid: {0}")]
    KeyRing(String),
    #[error(
        "no field key with id `{0}` in the key ring (was it removed before re-encryption finished?)"
    )]
    UnknownFieldKey(String),
    #[error(
        "encrypted field could not be decrypted: wrong key, wrong context or tampered ciphertext"
    )]
    FieldDecrypt,
    #[error("file encryption failed: {0}")]
    FileEncrypt(String),
    #[error("file decryption failed: {0}")]
    FileDecrypt(String),
    #[error("{what} is not a valid age {kind}")]
    AgeKey { what: String, kind: &'static str },

    #[error("the system random number generator failed: {0}")]
    Random(String),
}

/// Result alias used throughout the crate.
pub type Result<T, E = SecurityError> = std::result::Result<T, E>;

impl SecurityError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        SecurityError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
