//! Receipts: the platform's sealed acknowledgement of a declaration.
//!
//! A receipt body names the member, the declaration id and version, the
//! SHA-256 of the canonical signed declaration, the member's signature and
//! certificate, and the instant the platform accepted it (`sealed_at`, the
//! platform's trusted timestamp). The platform seal key signs the RFC 8785
//! canonical bytes of the body; the seal certificate (issued by the platform
//! CA) travels inside the receipt, so a receipt can be checked offline with
//! nothing but the CA certificate and revocation list ([`verify_receipt`]).
//!
//! A member holding a receipt can prove the platform acknowledged exactly
//! that declaration at that time; the platform holding the signed
//! declaration can prove the member sent it. This module does not store
//! receipts; the store does.

use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::DecodePrivateKey;
use serde::{Deserialize, Serialize};

use crate::ca::{SEAL_CERT_FILE, SEAL_KEY_FILE};
use crate::canonical::{canonical_bytes_of, parse_strict};
use crate::declaration::{MemberKey, SignedDeclaration, VerifiedDeclaration, decode_signature};
use crate::error::{Result, SecurityError};
use crate::secret_files::{random_bytes, read_text};
use crate::trust::{CaTrust, VerifiedCertificate};

/// Domain tag of receipts (changes if the format changes).
pub const RECEIPT_DOMAIN: &str = "voltex/receipt/v1";

/// What the platform seals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptBody {
    pub domain: String,
    /// Random 128-bit id of this receipt (hex).
    pub receipt_id: String,
    pub member_id: String,
    pub declaration_id: String,
    pub version: u32,
    /// SHA-256 (hex) of the canonical signed declaration envelope.
    pub declaration_sha256: String,
    /// The member's Ed25519 signature over that envelope (base64).
    pub member_signature: String,
    pub member_certificate_serial: String,
    pub member_certificate_pem: String,
    /// Platform timestamp, RFC 3339 UTC with microseconds.
    pub sealed_at: String,
}

/// The seal over a receipt body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptSeal {
    /// Ed25519 signature over the canonical body (base64).
    pub signature: String,
    /// PEM of the platform seal certificate that made it.
    pub certificate_pem: String,
}

/// A sealed receipt, as returned to the member and stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    pub body: ReceiptBody,
    pub seal: ReceiptSeal,
}

impl Receipt {
    /// Parses a receipt from JSON text (duplicate keys rejected).
    pub fn from_json(text: &str) -> Result<Self> {
        serde_json::from_value(parse_strict(text)?).map_err(|e| SecurityError::Malformed {
            what: "receipt".into(),
            encoding: "JSON",
            detail: e.to_string(),
        })
    }

    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    pub fn sealed_at(&self) -> Result<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(&self.body.sealed_at)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| SecurityError::Malformed {
                what: "receipt sealed_at".into(),
                encoding: "RFC 3339 timestamp",
                detail: e.to_string(),
            })
    }
}

/// The platform's seal key and certificate (`seal.key.pem`, `seal.cert.pem`).
pub struct PlatformSeal {
    key: SigningKey,
    certificate_pem: String,
}

impl std::fmt::Debug for PlatformSeal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PlatformSeal(<secret>)")
    }
}

impl PlatformSeal {
    /// Loads the seal from a CA directory (or a server's copy of the two files).
    pub fn load(dir: &Path) -> Result<Self> {
        let path = dir.join(SEAL_KEY_FILE);
        let pem = zeroize::Zeroizing::new(read_text(&path)?);
        let key = SigningKey::from_pkcs8_pem(&pem).map_err(|e| SecurityError::Malformed {
            what: path.display().to_string(),
            encoding: "PKCS#8 PEM Ed25519 key",
            detail: e.to_string(),
        })?;
        let certificate_pem = read_text(&dir.join(SEAL_CERT_FILE))?;
        Ok(PlatformSeal {
            key,
            certificate_pem,
        })
    }

    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    /// Signs arbitrary canonical bytes with the seal key (base64 Ed25519).
    pub(crate) fn sign_bytes(&self, message: &[u8]) -> String {
        MemberKey::from_signing_key(self.key.clone()).sign_bytes(message)
    }

    /// Seals a receipt for a verified declaration at `now`.
    pub fn seal(&self, declaration: &VerifiedDeclaration, now: DateTime<Utc>) -> Result<Receipt> {
        let body = ReceiptBody {
            domain: RECEIPT_DOMAIN.into(),
            receipt_id: hex::encode(random_bytes::<16>()?),
            member_id: declaration.member_id.clone(),
            declaration_id: declaration.declaration_id.clone(),
            version: declaration.version,
            declaration_sha256: declaration.declaration_sha256.clone(),
            member_signature: declaration.signature.clone(),
            member_certificate_serial: declaration.certificate_serial.clone(),
            member_certificate_pem: declaration.certificate_pem.clone(),
            sealed_at: now.to_rfc3339_opts(SecondsFormat::Micros, true),
        };
        let signer = MemberKey::from_signing_key(self.key.clone());
        let signature = signer.sign_bytes(&canonical_bytes_of(&body)?);
        Ok(Receipt {
            body,
            seal: ReceiptSeal {
                signature,
                certificate_pem: self.certificate_pem.clone(),
            },
        })
    }
}

/// What an offline receipt check established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptCheck {
    pub receipt_id: String,
    pub member_id: String,
    pub declaration_id: String,
    pub version: u32,
    pub declaration_sha256: String,
    pub sealed_at: DateTime<Utc>,
    pub seal_serial: String,
    /// The member certificate, verified as of `sealed_at`.
    pub member_certificate: VerifiedCertificate,
    /// Whether a declaration was supplied and matched (hash, ids, member signature).
    pub declaration_matched: bool,
}

/// Verifies a receipt offline against the CA: the seal certificate chains to
/// the CA and was valid (not revoked) at `sealed_at`; the seal signature
/// covers the body; the member certificate in the body was valid at
/// `sealed_at`. With `declaration`, also checks that its canonical hash,
/// member, id, version and signature are the ones sealed, and that the
/// member's signature verifies with the member certificate.
pub fn verify_receipt(
    receipt: &Receipt,
    trust: &CaTrust,
    declaration: Option<&SignedDeclaration>,
) -> Result<ReceiptCheck> {
    let body = &receipt.body;
    if body.domain != RECEIPT_DOMAIN {
        return Err(SecurityError::UnsupportedFormat {
            what: "receipt",
            found: body.domain.clone(),
            expected: RECEIPT_DOMAIN,
        });
    }
    let sealed_at = receipt.sealed_at()?;
    let seal = trust.verify_seal_certificate(&receipt.seal.certificate_pem, sealed_at)?;
    let sig = decode_signature(&receipt.seal.signature, "receipt seal")?;
    seal.public_key
        .verify_strict(&canonical_bytes_of(body)?, &sig)
        .map_err(|_| SecurityError::BadSignature {
            what: "receipt seal",
        })?;
    let member_certificate =
        trust.verify_member_certificate_at(&body.member_certificate_pem, sealed_at)?;
    if member_certificate.member_id != body.member_id
        || !member_certificate
            .serial
            .eq_ignore_ascii_case(&body.member_certificate_serial)
    {
        return Err(SecurityError::SignerMismatch {
            signed_as: body.member_id.clone(),
            certified: member_certificate.member_id.clone(),
        });
    }
    let mut declaration_matched = false;
    if let Some(d) = declaration {
        let mismatch = |field: &'static str, r: &str, d: &str| SecurityError::ReceiptMismatch {
            field,
            in_receipt: r.to_string(),
            in_declaration: d.to_string(),
        };
        let hash = d.envelope.sha256_hex()?;
        if hash != body.declaration_sha256 {
            return Err(mismatch(
                "declaration_sha256",
                &body.declaration_sha256,
                &hash,
            ));
        }
        if d.envelope.member_id != body.member_id {
            return Err(mismatch(
                "member_id",
                &body.member_id,
                &d.envelope.member_id,
            ));
        }
        if d.envelope.declaration_id != body.declaration_id {
            return Err(mismatch(
                "declaration_id",
                &body.declaration_id,
                &d.envelope.declaration_id,
            ));
        }
        if d.envelope.version != body.version {
            return Err(mismatch(
                "version",
                &body.version.to_string(),
                &d.envelope.version.to_string(),
            ));
        }
        if d.signature.trim() != body.member_signature.trim() {
            return Err(mismatch(
                "member_signature",
                &body.member_signature,
                &d.signature,
            ));
        }
        let msig = decode_signature(&d.signature, "declaration")?;
        member_certificate
            .public_key
            .verify_strict(&d.envelope.canonical_bytes()?, &msig)
            .map_err(|_| SecurityError::BadSignature {
                what: "declaration",
            })?;
        declaration_matched = true;
    }
    Ok(ReceiptCheck {
        receipt_id: body.receipt_id.clone(),
        member_id: body.member_id.clone(),
        declaration_id: body.declaration_id.clone(),
        version: body.version,
        declaration_sha256: body.declaration_sha256.clone(),
        sealed_at,
        seal_serial: seal.serial,
        member_certificate,
        declaration_matched,
    })
}
