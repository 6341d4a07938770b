//! Signed declarations on the server: the platform's trust anchor and seal,
//! the check of a member's signed declaration against its current
//! certificate, and the stored signature record.
//!
//! It lives here rather than in `voltex-market` because the market crate does
//! not depend on `voltex-security`: the market decides what a declaration may
//! say, this module decides who signed which bytes. It writes no
//! cryptography (the library verifies and seals) and holds no market rule
//! (the body goes through [`voltex_market::Market::submit_declaration_with`],
//! which applies every rule an unsigned declaration meets and stores it only
//! as the version that was signed, with its [`DeclarationSignature`] in the
//! same transaction).
//!
//! The server never sees the CA's private key: a signing configuration is
//! the CA's public files (`ca.cert.pem`, `crl.pem`) and the platform seal
//! (`seal.key.pem`, `seal.cert.pem`). The revocation list is re-read when
//! `crl.pem` changes on disk, so `voltex ca revoke` takes effect on the next
//! signed declaration without a restart. The trust is loaded once and shared:
//! a request takes a reference-counted handle to the current one (checking
//! only the file's stamp), and a changed `crl.pem` swaps in a new one.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use voltex_market::Actor;
use voltex_model::{DeclarationBody, Violation};
use voltex_security::ca::CRL_FILE;
use voltex_security::declaration::verify_declaration;
use voltex_security::{
    CaTrust, DeclarationEnvelope, PlatformSeal, Receipt, SecurityError, SignedDeclaration,
    VerifiedDeclaration,
};
use voltex_store::{Entity, StoredDeclaration};

use crate::error::ApiError;

/// What a server needs to accept signed declarations: the trust anchor
/// (CA certificate and revocation list) and the platform seal.
pub struct SigningConfig {
    /// Where `crl.pem` is re-read from when it changes (none: fixed trust).
    crl_path: Option<PathBuf>,
    trust: RwLock<TrustState>,
    seal: PlatformSeal,
}

struct TrustState {
    /// Shared with the requests that use it; replaced, never changed.
    trust: Arc<CaTrust>,
    /// Modification time and length of `crl.pem` when it was last read.
    crl_stamp: Option<(SystemTime, u64)>,
}

impl std::fmt::Debug for SigningConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningConfig")
            .field("crl_path", &self.crl_path)
            .field("seal", &self.seal)
            .finish_non_exhaustive()
    }
}

/// Two configurations are equal when they trust the same CA and seal with
/// the same certificate from the same place.
impl PartialEq for SigningConfig {
    fn eq(&self, other: &Self) -> bool {
        let ca = |c: &Self| {
            c.trust
                .read()
                .map(|t| t.trust.ca_certificate_der().to_vec())
                .unwrap_or_default()
        };
        self.crl_path == other.crl_path
            && self.seal.certificate_pem() == other.seal.certificate_pem()
            && ca(self) == ca(other)
    }
}

fn file_stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

impl SigningConfig {
    /// Loads the trust anchor and the seal from a CA directory as `voltex ca
    /// init` writes it (or a copy holding `ca.cert.pem`, `crl.pem`,
    /// `seal.key.pem` and `seal.cert.pem`), and checks that the seal
    /// certificate is the platform's and valid now.
    pub fn load(ca_dir: &Path) -> Result<Self, SecurityError> {
        let crl_path = ca_dir.join(CRL_FILE);
        let crl_stamp = file_stamp(&crl_path);
        let trust = CaTrust::load(ca_dir)?;
        let seal = PlatformSeal::load(ca_dir)?;
        let mut config = Self::new(trust, seal)?;
        config.crl_path = Some(crl_path);
        config
            .trust
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .crl_stamp = crl_stamp;
        Ok(config)
    }

    /// A configuration from already loaded parts; the revocation list stays
    /// the one in `trust`.
    pub fn new(trust: CaTrust, seal: PlatformSeal) -> Result<Self, SecurityError> {
        trust.verify_seal_certificate(seal.certificate_pem(), Utc::now())?;
        Ok(Self {
            crl_path: None,
            trust: RwLock::new(TrustState {
                trust: Arc::new(trust),
                crl_stamp: None,
            }),
            seal,
        })
    }

    pub fn seal(&self) -> &PlatformSeal {
        &self.seal
    }

    /// The trust anchor with the current revocation list: the loaded one,
    /// or, when `crl.pem`'s modification time or length changed since it was
    /// read, one with the list re-read from disk (the old one stays with the
    /// requests that hold it). A handle, not a copy.
    pub fn trust(&self) -> Result<Arc<CaTrust>, SecurityError> {
        let current = |s: &TrustState| Arc::clone(&s.trust);
        let Some(path) = &self.crl_path else {
            return Ok(current(
                &self.trust.read().unwrap_or_else(|p| p.into_inner()),
            ));
        };
        let stamp = file_stamp(path);
        {
            let state = self.trust.read().unwrap_or_else(|p| p.into_inner());
            if state.crl_stamp == stamp {
                return Ok(current(&state));
            }
        }
        let mut state = self.trust.write().unwrap_or_else(|p| p.into_inner());
        if state.crl_stamp == stamp {
            // Another request reloaded it meanwhile.
            return Ok(current(&state));
        }
        let pem = std::fs::read_to_string(path).map_err(|source| SecurityError::Io {
            action: "read",
            path: path.clone(),
            source,
        })?;
        let mut fresh = CaTrust::clone(&state.trust);
        fresh.replace_crl(&pem)?;
        state.trust = Arc::new(fresh);
        state.crl_stamp = stamp;
        tracing::info!(crl = %path.display(), "revocation list reloaded");
        Ok(current(&state))
    }
}

/// Body of `POST /api/v1/sessions/{id}/declarations/signed`: the signed
/// declaration exactly as `voltex sign-declaration` writes it, and the
/// member's current certificate (PEM), whose key made the signature.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SignedSubmission {
    pub declaration: SignedDeclaration,
    pub certificate_pem: String,
}

/// An accepted signed declaration: the version stored and its receipt.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignedAcceptance {
    pub declaration: StoredDeclaration,
    pub receipt: Receipt,
}

/// What the API answers for an accepted signed declaration: the version
/// stored, without the body (the member holds what it signed and the
/// receipt carries its hash; echoing a day's offer back doubled the bytes
/// of every submission), and the receipt.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AcceptanceAnswer {
    pub declaration: StoredVersion,
    pub receipt: Receipt,
}

/// A stored declaration version without its body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredVersion {
    /// `<session>:<kind>:<subject>`.
    pub key: String,
    pub version: i64,
    pub session_id: String,
    pub member_id: String,
    pub kind: voltex_model::DeclarationKind,
    pub subject: String,
    pub submitted_at: DateTime<Utc>,
}

impl From<SignedAcceptance> for AcceptanceAnswer {
    fn from(a: SignedAcceptance) -> Self {
        let d = a.declaration;
        Self {
            declaration: StoredVersion {
                key: d.key,
                version: d.version,
                session_id: d.session_id,
                member_id: d.member_id,
                kind: d.kind,
                subject: d.subject,
                submitted_at: d.submitted_at,
            },
            receipt: a.receipt,
        }
    }
}

/// The signature kept with one stored declaration version (table
/// `declaration_signatures`, id `<key>#<version>`): the exact signed
/// envelope, its hash, the signature, the certificate and the sealed receipt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclarationSignature {
    pub declaration_key: String,
    pub declaration_version: i64,
    pub member_id: String,
    /// SHA-256 (hex) of the canonical signed envelope.
    pub envelope_sha256: String,
    /// The member's Ed25519 signature over the envelope (base64).
    pub signature: String,
    pub certificate_serial: String,
    /// What was signed, byte for byte once canonicalised.
    pub envelope: DeclarationEnvelope,
    pub receipt: Receipt,
}

impl DeclarationSignature {
    pub fn record_id(key: &str, version: i64) -> String {
        format!("{key}#{version}")
    }
}

impl Entity for DeclarationSignature {
    const TABLE: &'static str = "declaration_signatures";
    const NAME: &'static str = "declaration signature";
    const SENSITIVE: bool = true; // the signed envelope repeats the prices
    const OWNED: bool = true;
    fn entity_id(&self) -> String {
        Self::record_id(&self.declaration_key, self.declaration_version)
    }
    fn owner(&self) -> Option<&str> {
        Some(&self.member_id)
    }
}

/// The receipt sealed for one signed declaration version, as its member or
/// the operator may read it; `None` for a version that was not signed and,
/// so that nobody learns what others declared, for another member's.
pub async fn receipt_of(
    market: &voltex_market::Market,
    actor: &Actor,
    key: &str,
    version: i64,
) -> Result<Option<Receipt>, ApiError> {
    let record = market
        .store()
        .get::<DeclarationSignature>(&DeclarationSignature::record_id(key, version))
        .await?;
    Ok(record
        .filter(|r| actor.is_operator() || actor.member_id == r.value.member_id)
        .map(|r| r.value.receipt))
}

/// A signed declaration that passed every check, ready for the market.
pub struct CheckedSubmission {
    pub verified: VerifiedDeclaration,
    pub body: DeclarationBody,
    pub envelope: DeclarationEnvelope,
}

fn refusal(
    status: StatusCode,
    code: &'static str,
    field: &str,
    rule: &str,
    value: impl Into<serde_json::Value>,
    message: String,
) -> ApiError {
    ApiError {
        status,
        code,
        message: message.clone(),
        details: vec![Violation::new(field, rule, value, message)],
    }
}

/// Checks a signed declaration for `session_id` sent by `actor` at `now`:
/// the certificate chains to the platform CA, is valid and not revoked and
/// names the acting member; the envelope names the same member, the
/// certificate's serial and the declaration's key for this session, and its
/// body is a declaration; the certificate's role may declare; the signature
/// verifies. The version is checked when the market stores it.
pub fn check_submission(
    trust: &CaTrust,
    submission: SignedSubmission,
    actor: &Actor,
    session_id: &str,
    now: DateTime<Utc>,
) -> Result<CheckedSubmission, ApiError> {
    let pem = &submission.certificate_pem;
    let certificate = trust
        .verify_member_certificate(pem, now)
        .map_err(security_refusal)?;
    if certificate.member_id != actor.member_id {
        return Err(refusal(
            StatusCode::FORBIDDEN,
            "signer_mismatch",
            "certificate_pem",
            "names_acting_member",
            certificate.member_id.clone(),
            format!(
                "the certificate belongs to member `{}`, but the request acts as `{}`",
                certificate.member_id, actor.member_id
            ),
        ));
    }
    let verified =
        verify_declaration(&submission.declaration, &certificate, pem).map_err(security_refusal)?;
    let envelope = submission.declaration.envelope;
    let body = DeclarationBody::deserialize(&envelope.body).map_err(|e| {
        refusal(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            "declaration.envelope.body",
            "is_declaration",
            serde_json::Value::Null,
            format!("the signed body is not a declaration: {e}"),
        )
    })?;
    let key = body.key(session_id, &actor.member_id);
    if envelope.declaration_id != key {
        return Err(refusal(
            StatusCode::UNPROCESSABLE_ENTITY,
            "declaration_mismatch",
            "declaration.envelope.declaration_id",
            "is_declaration_key",
            envelope.declaration_id.clone(),
            format!(
                "the signed declaration id `{}` is not this declaration's key `{key}` (session, kind and subject)",
                envelope.declaration_id
            ),
        ));
    }
    Ok(CheckedSubmission {
        verified,
        body,
        envelope,
    })
}

/// A security library refusal in the API's error shape, naming the field
/// and the rule it broke.
pub fn security_refusal(e: SecurityError) -> ApiError {
    use SecurityError as S;
    let message = e.to_string();
    let cert = |rule: &str| {
        refusal(
            StatusCode::FORBIDDEN,
            "certificate_refused",
            "certificate_pem",
            rule,
            serde_json::Value::Null,
            message.clone(),
        )
    };
    match &e {
        S::CertificateExpired { .. } => cert("not_expired"),
        S::CertificateNotYetValid { .. } => cert("already_valid"),
        S::CertificateRevoked { .. } => cert("not_revoked"),
        S::UntrustedCertificate { .. } => cert("issued_by_platform_ca"),
        S::NotAMemberCertificate { .. } | S::InvalidMemberId { .. } | S::UnknownRole(_) => {
            cert("is_member_certificate")
        }
        S::CertificateParse { .. } => refusal(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            "certificate_pem",
            "is_pem_certificate",
            serde_json::Value::Null,
            message.clone(),
        ),
        S::Forbidden { .. } => refusal(
            StatusCode::FORBIDDEN,
            "forbidden",
            "certificate_pem",
            "role_may_declare",
            serde_json::Value::Null,
            message.clone(),
        ),
        S::SignerMismatch { signed_as, .. } => refusal(
            StatusCode::FORBIDDEN,
            "signer_mismatch",
            "declaration.envelope.member_id",
            "matches_certificate",
            signed_as.clone(),
            message.clone(),
        ),
        S::ReceiptMismatch { in_declaration, .. } => refusal(
            StatusCode::UNPROCESSABLE_ENTITY,
            "declaration_mismatch",
            "declaration.certificate_serial",
            "matches_certificate",
            in_declaration.clone(),
            message.clone(),
        ),
        S::BadSignature { .. } => refusal(
            StatusCode::UNPROCESSABLE_ENTITY,
            "signature_invalid",
            "declaration.signature",
            "verifies",
            serde_json::Value::Null,
            message.clone(),
        ),
        S::UnsupportedFormat { found, .. } => refusal(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            "declaration.envelope.domain",
            "is_declaration_domain",
            found.clone(),
            message.clone(),
        ),
        S::JsonSyntax(_) => ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", message),
        S::DuplicateJsonKey { .. } | S::UnrepresentableNumber { .. } | S::Malformed { .. } => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", message)
        }
        S::RevocationListStale { .. } | S::RevocationListUntrusted | S::Io { .. } => {
            tracing::error!(error = %message, "signed declarations unavailable");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "revocation_list_unavailable",
                message,
            )
        }
        _ => {
            tracing::error!(error = %message, "signed declaration check failed");
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
        }
    }
}

/// Verifies a signed submission, seals its receipt and stores the
/// declaration as the signed version together with its signature record, in
/// one transaction; the receipt is returned only once that committed. Every
/// refusal happens before anything is written. Used by the API and by tools
/// that act in-process (the demo).
pub async fn accept_signed(
    market: &voltex_market::Market,
    signing: &SigningConfig,
    actor: &Actor,
    session_id: &str,
    submission: SignedSubmission,
) -> Result<SignedAcceptance, ApiError> {
    let trust = signing.trust().map_err(security_refusal)?;
    let checked = check_submission(&trust, submission, actor, session_id, Utc::now())?;
    let version = i64::from(checked.envelope.version);
    let receipt = signing
        .seal()
        .seal(&checked.verified, Utc::now())
        .map_err(security_refusal)?;
    let record = DeclarationSignature {
        declaration_key: checked.envelope.declaration_id.clone(),
        declaration_version: version,
        member_id: actor.member_id.clone(),
        envelope_sha256: checked.verified.declaration_sha256.clone(),
        signature: checked.verified.signature.clone(),
        certificate_serial: checked.verified.certificate_serial.clone(),
        envelope: checked.envelope,
        receipt: receipt.clone(),
    };
    let companion = voltex_store::Companion::of(&record)?;
    let stored = market
        .submit_declaration_with(actor, session_id, checked.body, version, &companion)
        .await?;
    Ok(SignedAcceptance {
        declaration: stored,
        receipt,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use voltex_security::{PlatformCa, RevokeReason, Role};

    #[test]
    fn the_trust_is_shared_until_crl_pem_changes_and_then_swapped_for_a_new_one() {
        let dir = tempfile::tempdir().unwrap();
        let mut ca = PlatformCa::init(dir.path(), "test", Utc::now()).unwrap();
        let gen1 = ca
            .issue_member("gen1", Role::MemberTrader, 30, Utc::now())
            .unwrap();
        let config = SigningConfig::load(dir.path()).unwrap();
        let first = config.trust().unwrap();
        assert!(
            Arc::ptr_eq(&first, &config.trust().unwrap()),
            "an unchanged crl.pem gives the loaded trust, not a copy"
        );

        ca.revoke(&gen1.serial, RevokeReason::KeyCompromise, Utc::now())
            .unwrap();
        let reloaded = config.trust().unwrap();
        assert!(
            !Arc::ptr_eq(&first, &reloaded),
            "a changed crl.pem is re-read"
        );
        assert!(reloaded.revoked_at(&gen1.serial).is_some());
        assert!(
            first.revoked_at(&gen1.serial).is_none(),
            "a request holding the old trust keeps it unchanged"
        );
        assert!(Arc::ptr_eq(&reloaded, &config.trust().unwrap()));
    }
}
