//! voltex-security: who may do what on the platform, and proof of what they did.
//!
//! The platform CA and member certificates ([`ca`], [`trust`]), canonical JSON
//! ([`canonical`]), signed declarations and platform-sealed receipts
//! ([`declaration`], [`receipt`]), passwords, one-time passwords, login
//! throttling, the sign-in rule and sessions ([`password`], [`totp`],
//! [`throttle`], [`signin`], [`session`]), the web portal's anti-forgery
//! tokens ([`csrf`]), who may create which user
//! ([`users`]), roles and tenant isolation ([`roles`]), the audit hash chain
//! ([`audit`]),
//! and encryption of fields at rest and of exchanged files ([`field_crypto`],
//! [`file_crypto`]).
//!
//! This crate writes no cryptographic primitive: it composes `ed25519-dalek`,
//! `ring` (through `rcgen`/`x509-parser`), `argon2`, `totp-rs`,
//! `chacha20poly1305`, `age` and `sha2`. It does no network or database I/O:
//! the server and the store call it. See docs/security.md.
pub mod audit;
pub mod bench;
pub mod ca;
pub mod canonical;
pub mod csrf;
pub mod declaration;
pub mod error;
pub mod field_crypto;
pub mod file_crypto;
pub mod password;
pub mod receipt;
pub mod roles;
pub mod secret_files;
pub mod session;
pub mod signin;
pub mod throttle;
pub mod totp;
pub mod trust;
pub mod users;

/// Time types used in this crate's API (re-exported so callers need no chrono dependency).
pub use chrono::{DateTime, Utc};
/// Wrapper that wipes secrets from memory on drop.
pub use zeroize::Zeroizing;

pub use ca::{IssuedCredential, PlatformCa, RevokeReason};

pub use declaration::{DeclarationEnvelope, MemberKey, SignedDeclaration, VerifiedDeclaration};
pub use error::{Result, SecurityError};
pub use receipt::{PlatformSeal, Receipt, ReceiptCheck};

pub use roles::{AuthStrength, Permission, Principal, Role, authorize};
pub use trust::{CaTrust, VerifiedCertificate};
