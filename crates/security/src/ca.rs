//! The platform certificate authority: its key, the member certificates it
//! issues, the register of what it issued and the signed revocation list it
//! publishes.
//!
//! On disk a CA is one directory (mode `0700`):
//!
//! | file | secret | content |
//! |---|---|---|
//! | `ca.key.pem` | yes (`0600`) | CA private key (Ed25519, PKCS#8) |
//! | `ca.cert.pem` | no | self-signed CA certificate; what verifiers trust |
//! | `seal.key.pem` | yes (`0600`) | platform seal key: signs receipts |
//! | `seal.cert.pem` | no | seal certificate issued by the CA |
//! | `crl.pem` | no | signed certificate revocation list (X.509 CRL) |
//! | `register.json` | no | every certificate issued, with revocation state |
//!
//! Member certificates bind a member id (subject CN and a
//! `urn:voltex:member:<id>` URI name) and a [`Role`] (subject OU) to an
//! Ed25519 key, with an expiry. Certificate parsing and signing are done by
//! `rcgen`, `x509-parser`, `ring` and `ed25519-dalek`; this module writes no
//! cryptography. It must not be linked into code that only verifies: the
//! server verifies with [`crate::trust::CaTrust`], which never sees the CA key.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose,
    RevocationReason, RevokedCertParams, SanType, SerialNumber,
};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{Result, SecurityError};
use crate::roles::Role;
use crate::secret_files::{
    create_private_dir, random_bytes, read_text, refuse_overwrite, write_public, write_secret,
};

pub const CA_KEY_FILE: &str = "ca.key.pem";
pub const CA_CERT_FILE: &str = "ca.cert.pem";
pub const SEAL_KEY_FILE: &str = "seal.key.pem";
pub const SEAL_CERT_FILE: &str = "seal.cert.pem";
pub const CRL_FILE: &str = "crl.pem";
pub const REGISTER_FILE: &str = "register.json";

/// Subject OU of the platform seal certificate (never a member role).
pub const SEAL_UNIT: &str = "platform-seal";
/// Subject O of member certificates.
pub const MEMBER_ORGANISATION: &str = "Voltex market member";

/// Validity of the CA certificate.
pub const CA_VALIDITY_DAYS: u32 = 3650;
/// Validity of the platform seal certificate.
pub const SEAL_VALIDITY_DAYS: u32 = 1825;
/// Longest member certificate the CA will issue.
pub const MAX_MEMBER_VALIDITY_DAYS: u32 = 825;
/// Default member certificate validity.
pub const DEFAULT_MEMBER_VALIDITY_DAYS: u32 = 365;
/// A published revocation list is valid this long; verifiers refuse a staler one.
pub const CRL_VALIDITY_DAYS: i64 = 7;

/// Checks a member id: 1–64 characters `[A-Za-z0-9._-]`, starting with a letter or digit.
pub fn validate_member_id(id: &str) -> Result<()> {
    let bad = |rule| {
        Err(SecurityError::InvalidMemberId {
            id: id.chars().take(80).collect(),
            rule,
        })
    };
    if id.is_empty() || id.len() > 64 {
        return bad("must be 1 to 64 characters long");
    }
    if !id.chars().next().is_some_and(|c| c.is_ascii_alphanumeric()) {
        return bad("must start with a letter or digit");
    }
    if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return bad("may contain only letters, digits, '.', '_' and '-'");
    }
    Ok(())
}

/// What a certificate in the register is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CertificateKind {
    Member,
    PlatformSeal,
}

/// One certificate the CA issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredCertificate {
    /// Lower-case hex of the serial number.
    pub serial: String,
    pub kind: CertificateKind,
    pub member_id: String,
    pub role: Option<Role>,
    pub issued_at: DateTime<Utc>,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revocation_reason: Option<String>,
    /// The certificate itself (public), so a lost member copy can be re-sent.
    pub certificate_pem: String,
}

impl RegisteredCertificate {
    /// Valid now: not revoked and within its validity period.
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.not_before <= now && now <= self.not_after
    }
}

/// The CA's register of issued certificates (`register.json`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaRegister {
    /// Number of the last published CRL (monotonic, RFC 5280 §5.2.3).
    pub crl_number: u64,
    pub certificates: Vec<RegisteredCertificate>,
}

/// Why a certificate is revoked (RFC 5280 reason codes that apply here).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RevokeReason {
    Unspecified,
    KeyCompromise,
    AffiliationChanged,
    Superseded,
    CessationOfOperation,
    PrivilegeWithdrawn,
}

impl RevokeReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RevokeReason::Unspecified => "unspecified",
            RevokeReason::KeyCompromise => "key-compromise",
            RevokeReason::AffiliationChanged => "affiliation-changed",
            RevokeReason::Superseded => "superseded",
            RevokeReason::CessationOfOperation => "cessation-of-operation",
            RevokeReason::PrivilegeWithdrawn => "privilege-withdrawn",
        }
    }
    fn to_rcgen(self) -> RevocationReason {
        match self {
            RevokeReason::Unspecified => RevocationReason::Unspecified,
            RevokeReason::KeyCompromise => RevocationReason::KeyCompromise,
            RevokeReason::AffiliationChanged => RevocationReason::AffiliationChanged,
            RevokeReason::Superseded => RevocationReason::Superseded,
            RevokeReason::CessationOfOperation => RevocationReason::CessationOfOperation,
            RevokeReason::PrivilegeWithdrawn => RevocationReason::PrivilegeWithdrawn,
        }
    }
}

impl std::str::FromStr for RevokeReason {
    type Err = SecurityError;
    fn from_str(s: &str) -> Result<Self> {
        use RevokeReason as R;
        [
            R::Unspecified,
            R::KeyCompromise,
            R::AffiliationChanged,
            R::Superseded,
            R::CessationOfOperation,
            R::PrivilegeWithdrawn,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
        .ok_or_else(|| SecurityError::Malformed {
            what: format!("revocation reason `{s}`"),
            encoding: "reason",
            detail: "expected unspecified, key-compromise, affiliation-changed, superseded, \
                     cessation-of-operation or privilege-withdrawn"
                .into(),
        })
    }
}

/// A member's new key and certificate, to hand over to the member.
#[derive(Debug)]
pub struct IssuedCredential {
    pub serial: String,
    pub member_id: String,
    pub role: Role,
    pub not_after: DateTime<Utc>,
    /// PKCS#8 PEM private key. Secret: give to the member, keep no copy.
    pub key_pem: Zeroizing<String>,
    pub certificate_pem: String,
    pub ca_certificate_pem: String,
}

/// Files written by [`IssuedCredential::write_to`].
pub const MEMBER_KEY_FILE: &str = "member.key.pem";
pub const MEMBER_CERT_FILE: &str = "member.cert.pem";

impl IssuedCredential {
    /// Writes `member.key.pem` (0600), `member.cert.pem` and `ca.cert.pem` into
    /// a private directory `dir`; refuses to overwrite an existing key.
    pub fn write_to(&self, dir: &Path) -> Result<()> {
        create_private_dir(dir)?;
        let key = dir.join(MEMBER_KEY_FILE);
        refuse_overwrite(&key, "a member key")?;
        write_secret(&key, self.key_pem.as_bytes())?;
        write_public(&dir.join(MEMBER_CERT_FILE), self.certificate_pem.as_bytes())?;
        write_public(&dir.join(CA_CERT_FILE), self.ca_certificate_pem.as_bytes())
    }
}

/// The platform CA, opened with its private key (operator side only).
pub struct PlatformCa {
    dir: PathBuf,
    key: KeyPair,
    certificate_pem: String,
    register: CaRegister,
}

impl std::fmt::Debug for PlatformCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlatformCa")
            .field("dir", &self.dir)
            .field("certificates", &self.register.certificates.len())
            .finish_non_exhaustive()
    }
}

pub(crate) fn to_offset(t: DateTime<Utc>) -> Result<time::OffsetDateTime> {
    time::OffsetDateTime::from_unix_timestamp(t.timestamp())
        .map_err(|e| SecurityError::CertificateGeneration(format!("time {t} out of range: {e}")))
}

pub(crate) fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A fresh Ed25519 key: (dalek key, rcgen key pair, PKCS#8 PEM).
pub(crate) fn generate_ed25519() -> Result<(SigningKey, KeyPair, Zeroizing<String>)> {
    let seed = Zeroizing::new(random_bytes::<32>()?);
    let signing = SigningKey::from_bytes(&seed);
    let pem = signing
        .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
        .map_err(|e| SecurityError::CertificateGeneration(format!("encoding key: {e}")))?;
    let pem = Zeroizing::new(pem.to_string());
    let pair = KeyPair::from_pem(&pem)
        .map_err(|e| SecurityError::CertificateGeneration(format!("loading key: {e}")))?;
    Ok((signing, pair, pem))
}

/// A positive 127-bit serial number and its hex form.
fn fresh_serial() -> Result<(SerialNumber, String)> {
    let mut bytes = random_bytes::<16>()?;
    bytes[0] = (bytes[0] & 0x7f) | 0x01; // positive, no leading zero byte
    Ok((SerialNumber::from_slice(&bytes), hex::encode(bytes)))
}

fn gen_err(e: rcgen::Error) -> SecurityError {
    SecurityError::CertificateGeneration(e.to_string())
}

impl PlatformCa {
    /// Creates a new CA (and its platform seal) in `dir`, which must not hold one yet.
    pub fn init(dir: &Path, platform_name: &str, now: DateTime<Utc>) -> Result<PlatformCa> {
        create_private_dir(dir)?;
        refuse_overwrite(&dir.join(CA_KEY_FILE), "the CA key")?;
        let (_, key, key_pem) = generate_ed25519()?;
        let (serial, _) = fresh_serial()?;

        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(
            DnType::CommonName,
            format!("Voltex platform CA ({platform_name})"),
        );
        dn.push(DnType::OrganizationName, "Voltex");
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        params.not_before = to_offset(now - Duration::minutes(5))?;
        params.not_after = to_offset(now + Duration::days(CA_VALIDITY_DAYS.into()))?;
        params.serial_number = Some(serial);
        params.key_identifier_method = KeyIdMethod::Sha256;
        let cert = params.self_signed(&key).map_err(gen_err)?;

        write_secret(&dir.join(CA_KEY_FILE), key_pem.as_bytes())?;
        write_public(&dir.join(CA_CERT_FILE), cert.pem().as_bytes())?;
        let mut ca = PlatformCa {
            dir: dir.to_path_buf(),
            key,
            certificate_pem: cert.pem(),
            register: CaRegister::default(),
        };
        ca.issue_seal(now)?;
        ca.publish_crl(now)?;
        Ok(ca)
    }

    /// Opens an existing CA directory.
    pub fn open(dir: &Path) -> Result<PlatformCa> {
        let key_pem = Zeroizing::new(read_text(&dir.join(CA_KEY_FILE))?);
        let key = KeyPair::from_pem(&key_pem).map_err(|e| SecurityError::Malformed {
            what: dir.join(CA_KEY_FILE).display().to_string(),
            encoding: "PKCS#8 PEM private key",
            detail: e.to_string(),
        })?;
        let certificate_pem = read_text(&dir.join(CA_CERT_FILE))?;
        let register_path = dir.join(REGISTER_FILE);
        let register: CaRegister =
            serde_json::from_str(&read_text(&register_path)?).map_err(|e| {
                SecurityError::Malformed {
                    what: register_path.display().to_string(),
                    encoding: "CA register JSON",
                    detail: e.to_string(),
                }
            })?;
        Ok(PlatformCa {
            dir: dir.to_path_buf(),
            key,
            certificate_pem,
            register,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    pub fn register(&self) -> &CaRegister {
        &self.register
    }

    fn issuer(&self) -> Result<Issuer<'static, &KeyPair>> {
        Issuer::from_ca_cert_pem(&self.certificate_pem, &self.key).map_err(gen_err)
    }

    fn save_register(&self) -> Result<()> {
        let json = serde_json::to_vec_pretty(&self.register)
            .map_err(|e| SecurityError::CertificateGeneration(e.to_string()))?;
        write_public(&self.dir.join(REGISTER_FILE), &json)
    }

    fn issue_seal(&mut self, now: DateTime<Utc>) -> Result<()> {
        let (_, key, key_pem) = generate_ed25519()?;
        let (serial, serial_hex) = fresh_serial()?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "Voltex platform seal");
        dn.push(DnType::OrganizationalUnitName, SEAL_UNIT);
        dn.push(DnType::OrganizationName, "Voltex");
        params.distinguished_name = dn;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::ContentCommitment,
        ];
        let not_before = now - Duration::minutes(5);
        let not_after = now + Duration::days(SEAL_VALIDITY_DAYS.into());
        params.not_before = to_offset(not_before)?;
        params.not_after = to_offset(not_after)?;
        params.serial_number = Some(serial);
        params.use_authority_key_identifier_extension = true;
        let cert = params.signed_by(&key, &self.issuer()?).map_err(gen_err)?;
        write_secret(&self.dir.join(SEAL_KEY_FILE), key_pem.as_bytes())?;
        write_public(&self.dir.join(SEAL_CERT_FILE), cert.pem().as_bytes())?;
        self.register.certificates.push(RegisteredCertificate {
            serial: serial_hex,
            kind: CertificateKind::PlatformSeal,
            member_id: "platform".into(),
            role: None,
            issued_at: now,
            not_before,
            not_after,
            revoked_at: None,
            revocation_reason: None,
            certificate_pem: cert.pem(),
        });
        self.save_register()
    }

    /// Issues a certificate (and a fresh key) binding `member_id` and `role`,
    /// valid for `validity_days` from `now`.
    pub fn issue_member(
        &mut self,
        member_id: &str,
        role: Role,
        validity_days: u32,
        now: DateTime<Utc>,
    ) -> Result<IssuedCredential> {
        validate_member_id(member_id)?;
        if !role.is_member_staff() && role != Role::Operator {
            // Auditors only read; they never sign core requests.
            return Err(SecurityError::NotAMemberCertificate {
                serial: "-".into(),
                detail: format!(
                    "role {role} does not perform core actions and gets no certificate"
                ),
            });
        }
        if validity_days == 0 || validity_days > MAX_MEMBER_VALIDITY_DAYS {
            return Err(SecurityError::InvalidValidity {
                days: validity_days,
                max_days: MAX_MEMBER_VALIDITY_DAYS,
            });
        }
        let (_, key, key_pem) = generate_ed25519()?;
        let (serial, serial_hex) = fresh_serial()?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, member_id);
        dn.push(DnType::OrganizationalUnitName, role.as_str());
        dn.push(DnType::OrganizationName, MEMBER_ORGANISATION);
        params.distinguished_name = dn;
        params.subject_alt_names = vec![SanType::URI(
            format!("urn:voltex:member:{member_id}")
                .try_into()
                .map_err(gen_err)?,
        )];
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let not_before = now - Duration::minutes(5);
        let not_after = now + Duration::days(validity_days.into());
        params.not_before = to_offset(not_before)?;
        params.not_after = to_offset(not_after)?;
        params.serial_number = Some(serial);
        params.use_authority_key_identifier_extension = true;
        let cert = params.signed_by(&key, &self.issuer()?).map_err(gen_err)?;
        let certificate_pem = cert.pem();
        self.register.certificates.push(RegisteredCertificate {
            serial: serial_hex.clone(),
            kind: CertificateKind::Member,
            member_id: member_id.to_string(),
            role: Some(role),
            issued_at: now,
            not_before,
            not_after,
            revoked_at: None,
            revocation_reason: None,
            certificate_pem: certificate_pem.clone(),
        });
        self.save_register()?;
        Ok(IssuedCredential {
            serial: serial_hex,
            member_id: member_id.to_string(),
            role,
            not_after,
            key_pem,
            certificate_pem,
            ca_certificate_pem: self.certificate_pem.clone(),
        })
    }

    /// Revokes one certificate by serial and republishes the revocation list.
    pub fn revoke(&mut self, serial: &str, reason: RevokeReason, now: DateTime<Utc>) -> Result<()> {
        let serial = serial.trim().to_ascii_lowercase();
        let entry = self
            .register
            .certificates
            .iter_mut()
            .find(|c| c.serial == serial)
            .ok_or_else(|| SecurityError::UnknownSerial(serial.clone()))?;
        if entry.revoked_at.is_some() {
            return Err(SecurityError::AlreadyRevoked(serial));
        }
        entry.revoked_at = Some(now);
        entry.revocation_reason = Some(reason.as_str().to_string());
        self.save_register()?;
        self.publish_crl(now)
    }

    /// Revokes every active certificate of `member_id`; returns their serials.
    pub fn revoke_member(
        &mut self,
        member_id: &str,
        reason: RevokeReason,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>> {
        let serials: Vec<String> = self
            .register
            .certificates
            .iter()
            .filter(|c| {
                c.kind == CertificateKind::Member
                    && c.member_id == member_id
                    && c.revoked_at.is_none()
            })
            .map(|c| c.serial.clone())
            .collect();
        if serials.is_empty() {
            return Err(SecurityError::UnknownMember(member_id.to_string()));
        }
        for c in self
            .register
            .certificates
            .iter_mut()
            .filter(|c| serials.contains(&c.serial))
        {
            c.revoked_at = Some(now);
            c.revocation_reason = Some(reason.as_str().to_string());
        }
        self.save_register()?;
        self.publish_crl(now)?;
        Ok(serials)
    }

    /// Signs and writes a fresh revocation list (`crl.pem`), valid for
    /// [`CRL_VALIDITY_DAYS`]. Run at least that often.
    pub fn publish_crl(&mut self, now: DateTime<Utc>) -> Result<()> {
        self.register.crl_number += 1;
        let mut revoked = Vec::new();
        for c in &self.register.certificates {
            if let Some(at) = c.revoked_at {
                let reason = c
                    .revocation_reason
                    .as_deref()
                    .and_then(|r| r.parse::<RevokeReason>().ok())
                    .unwrap_or(RevokeReason::Unspecified);
                revoked.push(RevokedCertParams {
                    serial_number: SerialNumber::from_slice(&hex::decode(&c.serial).map_err(
                        |e| SecurityError::Malformed {
                            what: format!("serial `{}` in the register", c.serial),
                            encoding: "hex",
                            detail: e.to_string(),
                        },
                    )?),
                    revocation_time: to_offset(at)?,
                    reason_code: Some(reason.to_rcgen()),
                    invalidity_date: None,
                });
            }
        }
        let params = CertificateRevocationListParams {
            this_update: to_offset(now)?,
            next_update: to_offset(now + Duration::days(CRL_VALIDITY_DAYS))?,
            crl_number: SerialNumber::from(self.register.crl_number),
            issuing_distribution_point: None,
            revoked_certs: revoked,
            key_identifier_method: KeyIdMethod::Sha256,
        };
        let crl = params.signed_by(&self.issuer()?).map_err(gen_err)?;
        write_public(
            &self.dir.join(CRL_FILE),
            crl.pem().map_err(gen_err)?.as_bytes(),
        )?;
        self.save_register()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_ids_are_restricted_to_a_safe_alphabet() {
        assert!(validate_member_id("GEN-001").is_ok());
        assert!(validate_member_id("ret.north_2").is_ok());
        for bad in [
            "",
            "-lead",
            "a b",
            "x/../y",
            "é",
            &"a".repeat(65),
            "CN=evil,O=x",
        ] {
            assert!(validate_member_id(bad).is_err(), "{bad}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn init_keeps_keys_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("ca");
        PlatformCa::init(&dir, "test", Utc::now()).unwrap();
        let mode = |f: &str| std::fs::metadata(dir.join(f)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(CA_KEY_FILE), 0o600);
        assert_eq!(mode(SEAL_KEY_FILE), 0o600);
        assert_eq!(
            std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        assert!(
            PlatformCa::init(&dir, "again", Utc::now()).is_err(),
            "must not overwrite a CA"
        );
    }

    #[test]
    fn issue_rejects_out_of_range_validity_and_auditors() {
        let tmp = tempfile::tempdir().unwrap();
        let mut ca = PlatformCa::init(tmp.path(), "t", Utc::now()).unwrap();
        assert!(
            ca.issue_member("M1", Role::MemberTrader, 0, Utc::now())
                .is_err()
        );
        assert!(
            ca.issue_member("M1", Role::MemberTrader, 5000, Utc::now())
                .is_err()
        );
        assert!(
            ca.issue_member("M1", Role::Auditor, 30, Utc::now())
                .is_err()
        );
        assert!(
            ca.issue_member("M1", Role::MemberTrader, 30, Utc::now())
                .is_ok()
        );
    }
}
