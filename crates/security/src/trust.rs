//! Verifying certificates against the platform CA, its expiry rules and its
//! published revocation list — with public material only.
//!
//! [`CaTrust`] holds the CA certificate and the signed CRL; it is what the
//! server and every offline verifier load. It never holds a private key and
//! never issues anything. Signature checks on certificates and CRLs are done
//! by `x509-parser` (with `ring`); the member's Ed25519 public key is handed
//! out as an `ed25519-dalek` verifying key.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeZone, Utc};
use ed25519_dalek::VerifyingKey;
use x509_parser::prelude::*;

use crate::ca::{CA_CERT_FILE, CRL_FILE, MEMBER_ORGANISATION, SEAL_UNIT, rfc3339};
use crate::error::{Result, SecurityError};
use crate::roles::Role;
use crate::secret_files::read_text;

/// A certificate that verified: who it names and the key it certifies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCertificate {
    pub serial: String,
    pub member_id: String,
    pub role: Role,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    pub public_key: VerifyingKey,
}

/// The platform seal certificate, verified for a given instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedSeal {
    pub serial: String,
    pub public_key: VerifyingKey,
}

/// Trust anchor: CA certificate plus its current revocation list.
#[derive(Debug, Clone)]
pub struct CaTrust {
    ca_der: Vec<u8>,
    /// Revoked serial (lower-case hex) → revocation time.
    revoked: HashMap<String, DateTime<Utc>>,
    crl_next_update: Option<DateTime<Utc>>,
    /// Member certificates already found issued by this CA, by SHA-256 of
    /// their DER (shared by the copies made when the revocation list
    /// changes: what a certificate says and who signed it never change).
    issued: Arc<Mutex<HashMap<[u8; 32], VerifiedCertificate>>>,
}

/// Most member certificates remembered as issued; the memory is emptied
/// when full (members re-present theirs, which are checked again).
const ISSUED_CACHE: usize = 4096;

pub(crate) fn pem_blocks(text: &str, what: &str) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    for pem in Pem::iter_from_buffer(text.as_bytes()) {
        let pem = pem.map_err(|e| SecurityError::CertificateParse {
            what: what.to_string(),
            detail: e.to_string(),
        })?;
        out.push((pem.label, pem.contents));
    }
    if out.is_empty() {
        return Err(SecurityError::CertificateParse {
            what: what.to_string(),
            detail: "no PEM block found".into(),
        });
    }
    Ok(out)
}

/// DER of the first `CERTIFICATE` block in `pem`.
pub fn certificate_der_from_pem(pem: &str, what: &str) -> Result<Vec<u8>> {
    pem_blocks(pem, what)?
        .into_iter()
        .find(|(label, _)| label == "CERTIFICATE")
        .map(|(_, der)| der)
        .ok_or_else(|| SecurityError::CertificateParse {
            what: what.to_string(),
            detail: "no CERTIFICATE block".into(),
        })
}

/// Serial (lower-case hex) of a certificate, read without verifying it
/// (a member tool uses it to label its own signatures).
pub fn certificate_serial(pem: &str) -> Result<String> {
    let der = certificate_der_from_pem(pem, "certificate")?;
    let cert = parse_cert(&der, "certificate")?;
    Ok(normalise_serial(cert.raw_serial()))
}

fn asn1_to_utc(t: ASN1Time) -> DateTime<Utc> {
    Utc.timestamp_opt(t.timestamp(), 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

fn normalise_serial(raw: &[u8]) -> String {
    let start = raw.iter().position(|b| *b != 0).unwrap_or(raw.len());
    hex::encode(&raw[start..])
}

fn parse_cert<'a>(der: &'a [u8], what: &str) -> Result<X509Certificate<'a>> {
    let (rest, cert) =
        X509Certificate::from_der(der).map_err(|e| SecurityError::CertificateParse {
            what: what.to_string(),
            detail: e.to_string(),
        })?;
    if !rest.is_empty() {
        return Err(SecurityError::CertificateParse {
            what: what.to_string(),
            detail: "trailing bytes after the certificate".into(),
        });
    }
    Ok(cert)
}

fn ed25519_key(cert: &X509Certificate<'_>, serial: &str) -> Result<VerifyingKey> {
    let spki = cert.public_key();
    if spki.algorithm.algorithm != x509_parser::oid_registry::OID_SIG_ED25519 {
        return Err(SecurityError::NotAMemberCertificate {
            serial: serial.to_string(),
            detail: "key is not Ed25519".into(),
        });
    }
    let bytes: [u8; 32] = spki
        .subject_public_key
        .data
        .as_ref()
        .try_into()
        .map_err(|_| SecurityError::NotAMemberCertificate {
            serial: serial.to_string(),
            detail: "Ed25519 key is not 32 bytes".into(),
        })?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| SecurityError::NotAMemberCertificate {
        serial: serial.to_string(),
        detail: "Ed25519 key is not a valid curve point".into(),
    })
}

fn single_attr<'a>(
    mut it: impl Iterator<Item = &'a AttributeTypeAndValue<'a>>,
    serial: &str,
    name: &str,
) -> Result<String> {
    let first = it
        .next()
        .ok_or_else(|| SecurityError::NotAMemberCertificate {
            serial: serial.to_string(),
            detail: format!("subject has no {name}"),
        })?;
    if it.next().is_some() {
        return Err(SecurityError::NotAMemberCertificate {
            serial: serial.to_string(),
            detail: format!("subject has more than one {name}"),
        });
    }
    first
        .as_str()
        .map(str::to_string)
        .map_err(|_| SecurityError::NotAMemberCertificate {
            serial: serial.to_string(),
            detail: format!("subject {name} is not a string"),
        })
}

impl CaTrust {
    /// Loads `ca.cert.pem` and `crl.pem` from a CA directory (or a copy of
    /// its public files).
    pub fn load(dir: &Path) -> Result<CaTrust> {
        let ca_pem = read_text(&dir.join(CA_CERT_FILE))?;
        let crl_pem = read_text(&dir.join(CRL_FILE))?;
        CaTrust::from_pem(&ca_pem, &crl_pem)
    }

    /// Builds the trust anchor from PEM text; the CRL must be signed by the CA.
    pub fn from_pem(ca_pem: &str, crl_pem: &str) -> Result<CaTrust> {
        let ca_der = certificate_der_from_pem(ca_pem, "CA certificate")?;
        let mut trust = CaTrust {
            ca_der,
            revoked: HashMap::new(),
            crl_next_update: None,
            issued: Default::default(),
        };
        {
            let ca = parse_cert(&trust.ca_der, "CA certificate")?;
            if !ca.is_ca() {
                return Err(SecurityError::CertificateParse {
                    what: "CA certificate".into(),
                    detail: "basic constraints do not mark it as a CA".into(),
                });
            }
            ca.verify_signature(None)
                .map_err(|_| SecurityError::BadSignature {
                    what: "CA self-signature",
                })?;
        }
        trust.replace_crl(crl_pem)?;
        Ok(trust)
    }

    /// Replaces the revocation list with a newer one (the server does this
    /// when the operator republishes).
    pub fn replace_crl(&mut self, crl_pem: &str) -> Result<()> {
        let der = pem_blocks(crl_pem, "revocation list")?
            .into_iter()
            .find(|(label, _)| label == "X509 CRL")
            .map(|(_, der)| der)
            .ok_or_else(|| SecurityError::CertificateParse {
                what: "revocation list".into(),
                detail: "no X509 CRL block".into(),
            })?;
        let (_, crl) = parse_x509_crl(&der).map_err(|e| SecurityError::CertificateParse {
            what: "revocation list".into(),
            detail: e.to_string(),
        })?;
        let ca = parse_cert(&self.ca_der, "CA certificate")?;
        if crl.issuer() != ca.subject() || crl.verify_signature(ca.public_key()).is_err() {
            return Err(SecurityError::RevocationListUntrusted);
        }
        self.revoked = crl
            .iter_revoked_certificates()
            .map(|r| {
                (
                    normalise_serial(r.raw_serial()),
                    asn1_to_utc(r.revocation_date),
                )
            })
            .collect();
        self.crl_next_update = crl.next_update().map(asn1_to_utc);
        Ok(())
    }

    /// DER of the CA certificate (e.g. for a rustls client-certificate verifier).
    pub fn ca_certificate_der(&self) -> &[u8] {
        &self.ca_der
    }

    /// Revocation time of `serial`, if the current list revokes it.
    pub fn revoked_at(&self, serial: &str) -> Option<DateTime<Utc>> {
        self.revoked.get(&serial.to_ascii_lowercase()).copied()
    }

    /// Checks a certificate's CA signature and returns (serial, parsed cert).
    fn check_issued_by_ca<'a>(&self, der: &'a [u8]) -> Result<(String, X509Certificate<'a>)> {
        let cert = parse_cert(der, "certificate")?;
        let serial = normalise_serial(cert.raw_serial());
        let ca = parse_cert(&self.ca_der, "CA certificate")?;
        if cert.issuer() != ca.subject() {
            return Err(SecurityError::UntrustedCertificate {
                serial,
                detail: "issuer is not the platform CA".into(),
            });
        }
        if cert.verify_signature(Some(ca.public_key())).is_err() {
            return Err(SecurityError::UntrustedCertificate {
                serial,
                detail: "CA signature does not verify".into(),
            });
        }
        if cert.is_ca() {
            return Err(SecurityError::NotAMemberCertificate {
                serial,
                detail: "it is a CA certificate".into(),
            });
        }
        Ok((serial, cert))
    }

    /// Verifies a member certificate at `now`: issued by this CA, within its
    /// validity, not revoked by a current (non-stale) revocation list, and
    /// naming a member id and role.
    pub fn verify_member_certificate(
        &self,
        certificate_pem: &str,
        now: DateTime<Utc>,
    ) -> Result<VerifiedCertificate> {
        let der = certificate_der_from_pem(certificate_pem, "member certificate")?;
        self.verify_member_certificate_der(&der, now)
    }

    /// [`CaTrust::verify_member_certificate`] for DER input (e.g. a TLS client certificate).
    ///
    /// The CA signature and the names are checked once per certificate and
    /// remembered; validity and revocation are checked on every call.
    pub fn verify_member_certificate_der(
        &self,
        der: &[u8],
        now: DateTime<Utc>,
    ) -> Result<VerifiedCertificate> {
        use sha2::Digest;
        let digest: [u8; 32] = sha2::Sha256::digest(der).into();
        let remembered = self
            .issued
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&digest)
            .cloned();
        let cert = match remembered {
            Some(c) => c,
            None => {
                let c = self.issued_member_certificate(der)?;
                let mut issued = self.issued.lock().unwrap_or_else(|p| p.into_inner());
                if issued.len() >= ISSUED_CACHE {
                    issued.clear();
                }
                issued.insert(digest, c.clone());
                c
            }
        };
        self.check_current(&cert, now)?;
        Ok(cert)
    }

    /// What a member certificate certifies, once its CA signature and its
    /// names are checked (not its validity period or revocation).
    fn issued_member_certificate(&self, der: &[u8]) -> Result<VerifiedCertificate> {
        let (serial, cert) = self.check_issued_by_ca(der)?;
        let subject = cert.subject();
        let org = single_attr(subject.iter_organization(), &serial, "organisation (O)")?;
        if org != MEMBER_ORGANISATION {
            return Err(SecurityError::NotAMemberCertificate {
                serial,
                detail: format!("organisation is `{org}`"),
            });
        }
        let member_id = single_attr(subject.iter_common_name(), &serial, "common name (CN)")?;
        crate::ca::validate_member_id(&member_id)?;
        let role: Role =
            single_attr(subject.iter_organizational_unit(), &serial, "role (OU)")?.parse()?;
        let public_key = ed25519_key(&cert, &serial)?;
        Ok(VerifiedCertificate {
            not_before: asn1_to_utc(cert.validity().not_before),
            not_after: asn1_to_utc(cert.validity().not_after),
            serial,
            member_id,
            role,
            public_key,
        })
    }

    /// Whether an issued certificate holds at `now`: within its validity,
    /// and not revoked by a current (non-stale) revocation list.
    fn check_current(&self, cert: &VerifiedCertificate, now: DateTime<Utc>) -> Result<()> {
        let serial = || cert.serial.clone();
        if now < cert.not_before {
            return Err(SecurityError::CertificateNotYetValid {
                serial: serial(),
                not_before: rfc3339(cert.not_before),
            });
        }
        if now > cert.not_after {
            return Err(SecurityError::CertificateExpired {
                serial: serial(),
                not_after: rfc3339(cert.not_after),
            });
        }
        if let Some(next) = self.crl_next_update
            && now > next
        {
            return Err(SecurityError::RevocationListStale {
                next_update: rfc3339(next),
            });
        }
        if let Some(at) = self.revoked_at(&cert.serial) {
            return Err(SecurityError::CertificateRevoked {
                serial: serial(),
                revoked_at: rfc3339(at),
            });
        }
        Ok(())
    }

    /// Verifies the platform seal certificate as it stood at `sealed_at`:
    /// issued by this CA, valid at that instant, and not revoked before it.
    /// The CRL's freshness is not required: a receipt stays verifiable after
    /// the list that was current when it was sealed has been superseded.
    pub fn verify_seal_certificate(
        &self,
        certificate_pem: &str,
        sealed_at: DateTime<Utc>,
    ) -> Result<VerifiedSeal> {
        let der = certificate_der_from_pem(certificate_pem, "seal certificate")?;
        let (serial, cert) = self.check_issued_by_ca(&der)?;
        let unit = single_attr(
            cert.subject().iter_organizational_unit(),
            &serial,
            "organisational unit (OU)",
        )?;
        if unit != SEAL_UNIT {
            return Err(SecurityError::UntrustedCertificate {
                serial,
                detail: format!("certificate unit `{unit}` is not the platform seal"),
            });
        }
        let not_before = asn1_to_utc(cert.validity().not_before);
        let not_after = asn1_to_utc(cert.validity().not_after);
        if sealed_at < not_before || sealed_at > not_after {
            return Err(SecurityError::SealOutsideValidity {
                sealed_at: rfc3339(sealed_at),
                detail: format!("{} to {}", rfc3339(not_before), rfc3339(not_after)),
            });
        }
        if let Some(at) = self.revoked_at(&serial)
            && at <= sealed_at
        {
            return Err(SecurityError::CertificateRevoked {
                serial,
                revoked_at: rfc3339(at),
            });
        }
        let public_key = ed25519_key(&cert, &serial)?;
        Ok(VerifiedSeal { serial, public_key })
    }

    /// Like [`CaTrust::verify_member_certificate`] but judged at a past
    /// instant `at` (when a receipt was sealed): validity at `at`, and not
    /// revoked at or before `at`. CRL freshness is not required.
    pub fn verify_member_certificate_at(
        &self,
        certificate_pem: &str,
        at: DateTime<Utc>,
    ) -> Result<VerifiedCertificate> {
        let der = certificate_der_from_pem(certificate_pem, "member certificate")?;
        let relaxed = CaTrust {
            ca_der: self.ca_der.clone(),
            revoked: self
                .revoked
                .iter()
                .filter(|(_, t)| **t <= at)
                .map(|(s, t)| (s.clone(), *t))
                .collect(),
            crl_next_update: None,
            issued: Arc::clone(&self.issued),
        };
        relaxed.verify_member_certificate_der(&der, at)
    }
}
