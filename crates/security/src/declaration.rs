//! Signed declarations: a member signs the canonical bytes of its bid/offer,
//! the platform verifies the signature against the member's certificate.
//!
//! What is signed is the RFC 8785 canonical form of a
//! [`DeclarationEnvelope`]: a domain tag, the member id, the declaration id,
//! its version and the declaration body (any JSON object the market crate
//! defines). Binding ids and version into the signed bytes means a signature
//! cannot be replayed onto another member, declaration or version. The
//! signature is Ed25519 (`ed25519-dalek`, strict verification).
//!
//! This module knows nothing of what a declaration means and does not check
//! gate closure, prices or quantities: `voltex-market` does.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::pkcs8::DecodePrivateKey;
use ed25519_dalek::{Signature, Signer, SigningKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::canonical::{canonical_bytes_of, canonical_bytes_of_members};
use crate::error::{Result, SecurityError};
use crate::roles::Permission;
use crate::secret_files::read_text;
use crate::trust::VerifiedCertificate;

/// Domain tag of declaration signatures (changes if the format changes).
pub const DECLARATION_DOMAIN: &str = "voltex/declaration/v1";

/// The exact content a member signs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclarationEnvelope {
    pub domain: String,
    pub member_id: String,
    pub declaration_id: String,
    pub version: u32,
    /// The declaration itself (offer segments, bids, ...), as JSON.
    pub body: Value,
}

impl DeclarationEnvelope {
    pub fn new(
        member_id: impl Into<String>,
        declaration_id: impl Into<String>,
        version: u32,
        body: Value,
    ) -> Self {
        DeclarationEnvelope {
            domain: DECLARATION_DOMAIN.to_string(),
            member_id: member_id.into(),
            declaration_id: declaration_id.into(),
            version,
            body,
        }
    }

    /// The signed bytes: RFC 8785 canonical JSON of the whole envelope.
    ///
    /// Written member by member so that the body (12 KB for a day's energy
    /// offer) is not first copied into a new `Value`; a test holds it equal
    /// to the canonical form of the serialised struct.
    pub fn canonical_bytes(&self) -> Result<Vec<u8>> {
        let DeclarationEnvelope {
            domain,
            member_id,
            declaration_id,
            version,
            body,
        } = self;
        canonical_bytes_of_members(&[
            ("domain", &Value::from(domain.as_str())),
            ("member_id", &Value::from(member_id.as_str())),
            ("declaration_id", &Value::from(declaration_id.as_str())),
            ("version", &Value::from(*version)),
            ("body", body),
        ])
    }

    /// SHA-256 of the canonical bytes, lower-case hex (what receipts carry).
    pub fn sha256_hex(&self) -> Result<String> {
        Ok(hex::encode(Sha256::digest(self.canonical_bytes()?)))
    }
}

/// A declaration with the member's signature, as submitted and stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedDeclaration {
    pub envelope: DeclarationEnvelope,
    /// Ed25519 signature over `envelope`'s canonical bytes, standard base64.
    pub signature: String,
    /// Serial (hex) of the certificate whose key made the signature.
    pub certificate_serial: String,
}

impl SignedDeclaration {
    /// Parses a signed declaration from JSON text (duplicate keys rejected).
    pub fn from_json(text: &str) -> Result<Self> {
        let value = crate::canonical::parse_strict(text)?;
        serde_json::from_value(value).map_err(|e| SecurityError::Malformed {
            what: "signed declaration".into(),
            encoding: "JSON",
            detail: e.to_string(),
        })
    }
}

/// What the platform learned from a valid signed declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedDeclaration {
    pub member_id: String,
    pub declaration_id: String,
    pub version: u32,
    /// SHA-256 (hex) of the canonical envelope.
    pub declaration_sha256: String,
    pub signature: String,
    pub certificate_serial: String,
    pub certificate_pem: String,
}

/// A member's signing key (Ed25519, PKCS#8 PEM as written by `voltex ca issue`).
pub struct MemberKey {
    key: SigningKey,
}

impl std::fmt::Debug for MemberKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MemberKey(<secret>)")
    }
}

impl MemberKey {
    pub fn from_pem(pem: &str) -> Result<Self> {
        let key = SigningKey::from_pkcs8_pem(pem).map_err(|e| SecurityError::Malformed {
            what: "member private key".into(),
            encoding: "PKCS#8 PEM Ed25519 key",
            detail: e.to_string(),
        })?;
        Ok(MemberKey { key })
    }

    pub fn load(path: &Path) -> Result<Self> {
        let pem = zeroize::Zeroizing::new(read_text(path)?);
        Self::from_pem(&pem).map_err(|e| match e {
            SecurityError::Malformed {
                encoding, detail, ..
            } => SecurityError::Malformed {
                what: path.display().to_string(),
                encoding,
                detail,
            },
            other => other,
        })
    }

    pub(crate) fn from_signing_key(key: SigningKey) -> Self {
        MemberKey { key }
    }

    /// Raw public key (to compare with a certificate's).
    pub fn public_key(&self) -> ed25519_dalek::VerifyingKey {
        self.key.verifying_key()
    }

    /// Signs raw bytes (used for declarations and signed requests).
    pub fn sign_bytes(&self, message: &[u8]) -> String {
        B64.encode(self.key.sign(message).to_bytes())
    }

    /// Signs a core request (proof of certificate possession without mTLS).
    pub fn sign_request(&self, request: &RequestToSign) -> Result<String> {
        Ok(self.sign_bytes(&canonical_bytes_of(request)?))
    }

    /// Signs a declaration envelope.
    pub fn sign(
        &self,
        envelope: DeclarationEnvelope,
        certificate_serial: &str,
    ) -> Result<SignedDeclaration> {
        let signature = self.sign_bytes(&envelope.canonical_bytes()?);
        Ok(SignedDeclaration {
            envelope,
            signature,
            certificate_serial: certificate_serial.to_ascii_lowercase(),
        })
    }
}

/// Decodes a base64 Ed25519 signature.
pub(crate) fn decode_signature(b64: &str, what: &'static str) -> Result<Signature> {
    let bytes = B64
        .decode(b64.trim())
        .map_err(|_| SecurityError::BadSignature { what })?;
    let arr: [u8; 64] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| SecurityError::BadSignature { what })?;
    Ok(Signature::from_bytes(&arr))
}

/// Verifies a signed declaration against the member's (already verified)
/// current certificate: domain tag, member id, certificate serial, the
/// certificate role's right to declare, and the signature itself.
pub fn verify_declaration(
    signed: &SignedDeclaration,
    certificate: &VerifiedCertificate,
    certificate_pem: &str,
) -> Result<VerifiedDeclaration> {
    let env = &signed.envelope;
    if env.domain != DECLARATION_DOMAIN {
        return Err(SecurityError::UnsupportedFormat {
            what: "declaration",
            found: env.domain.clone(),
            expected: DECLARATION_DOMAIN,
        });
    }
    if env.member_id != certificate.member_id {
        return Err(SecurityError::SignerMismatch {
            signed_as: env.member_id.clone(),
            certified: certificate.member_id.clone(),
        });
    }
    if !signed
        .certificate_serial
        .eq_ignore_ascii_case(&certificate.serial)
    {
        return Err(SecurityError::ReceiptMismatch {
            field: "certificate_serial",
            in_receipt: certificate.serial.clone(),
            in_declaration: signed.certificate_serial.clone(),
        });
    }
    if !certificate.role.permits(Permission::SubmitDeclaration) {
        return Err(SecurityError::Forbidden {
            role: certificate.role.as_str(),
            permission: Permission::SubmitDeclaration.as_str(),
        });
    }
    let bytes = env.canonical_bytes()?;
    let sig = decode_signature(&signed.signature, "declaration")?;
    certificate
        .public_key
        .verify_strict(&bytes, &sig)
        .map_err(|_| SecurityError::BadSignature {
            what: "declaration",
        })?;
    Ok(VerifiedDeclaration {
        member_id: env.member_id.clone(),
        declaration_id: env.declaration_id.clone(),
        version: env.version,
        declaration_sha256: hex::encode(Sha256::digest(&bytes)),
        signature: signed.signature.clone(),
        certificate_serial: certificate.serial.clone(),
        certificate_pem: certificate_pem.to_string(),
    })
}

/// Domain tag of signed core requests.
pub const REQUEST_DOMAIN: &str = "voltex/request/v1";
/// How far a signed request's timestamp may be from the server clock.
pub const REQUEST_MAX_SKEW_S: i64 = 300;

/// What a member signs to prove certificate possession on a core request
/// (when no TLS client certificate is used). The server must also reject a
/// `nonce` it has seen within the skew window (replay cache: server side).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestToSign {
    pub domain: String,
    pub member_id: String,
    pub method: String,
    pub path: String,
    /// SHA-256 (hex) of the raw request body.
    pub body_sha256: String,
    /// Unix seconds.
    pub timestamp: i64,
    pub nonce: String,
}

impl RequestToSign {
    pub fn new(
        member_id: &str,
        method: &str,
        path: &str,
        body: &[u8],
        timestamp: i64,
        nonce: &str,
    ) -> Self {
        RequestToSign {
            domain: REQUEST_DOMAIN.into(),
            member_id: member_id.into(),
            method: method.to_ascii_uppercase(),
            path: path.into(),
            body_sha256: hex::encode(Sha256::digest(body)),
            timestamp,
            nonce: nonce.into(),
        }
    }

    /// Verifies a request signature and its freshness against `now_unix`.
    pub fn verify(
        &self,
        signature_b64: &str,
        certificate: &VerifiedCertificate,
        now_unix: i64,
    ) -> Result<()> {
        if self.domain != REQUEST_DOMAIN {
            return Err(SecurityError::UnsupportedFormat {
                what: "signed request",
                found: self.domain.clone(),
                expected: REQUEST_DOMAIN,
            });
        }
        if self.member_id != certificate.member_id {
            return Err(SecurityError::SignerMismatch {
                signed_as: self.member_id.clone(),
                certified: certificate.member_id.clone(),
            });
        }
        if (self.timestamp - now_unix).abs() > REQUEST_MAX_SKEW_S {
            return Err(SecurityError::BadSignature {
                what: "request (timestamp outside the allowed clock skew)",
            });
        }
        let sig = decode_signature(signature_b64, "request")?;
        certificate
            .public_key
            .verify_strict(&canonical_bytes_of(self)?, &sig)
            .map_err(|_| SecurityError::BadSignature { what: "request" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn envelope_bytes_written_member_by_member_equal_the_canonical_form_of_the_struct() {
        let envelope = DeclarationEnvelope::new(
            "GEN-A",
            "DA-20260701:energy_offer:U1",
            7,
            json!({
                "kind": "energy_offer",
                "unit_id": "U1",
                "intervals": [{"segments": [{"quantity_mw": 30.0, "price": 312.5}]}],
                "note": "\u{10000} after \u{e000}",
                "\u{10000}": 1, "\u{e000}": 2, "Z": -0.0, "a": 1e21
            }),
        );
        assert_eq!(
            envelope.canonical_bytes().unwrap(),
            canonical_bytes_of(&envelope).unwrap()
        );
    }
}
