//! The demo's members sign every declaration: each gets a trader
//! certificate from the demo CA on its first declaration, signs the
//! canonical envelope with its key, and the declaration is accepted through
//! the server's signed path (certificate, signature and version checked,
//! stored with its signature, receipt sealed), exactly as over the API.
use anyhow::Context;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use voltex_market::{Actor, Market, MarketError};
use voltex_model::{DeclarationBody, Violations};
use voltex_security::ca::PlatformCa;
use voltex_security::{DeclarationEnvelope, MemberKey, Role};
use voltex_server::signing::{SignedSubmission, SigningConfig, accept_signed};
use voltex_store::StoredDeclaration;

/// A member's signing credential: key, certificate and its serial.
struct Credential {
    key: MemberKey,
    certificate_pem: String,
    serial: String,
}

/// How the demo's members send signed declarations: the demo CA issuing
/// their certificates, and the platform's trust and seal accepting them.
pub struct SigningChannel {
    ca: Mutex<PlatformCa>,
    signing: SigningConfig,
    credentials: Mutex<HashMap<String, std::sync::Arc<Credential>>>,
    /// Declarations accepted with a sealed receipt.
    receipts: AtomicUsize,
}

impl std::fmt::Debug for SigningChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningChannel")
            .field("members", &self.members())
            .field("receipts", &self.receipts())
            .finish_non_exhaustive()
    }
}

impl SigningChannel {
    /// A new demo platform CA in `ca_dir` and the channel signing with it.
    pub fn for_demo(ca_dir: &Path) -> anyhow::Result<Self> {
        let ca = PlatformCa::init(ca_dir, "Voltex demo platform", chrono::Utc::now())
            .context("creating the demo's platform CA")?;
        let signing = SigningConfig::load(ca_dir).context("loading the demo's CA")?;
        Ok(Self::new(ca, signing))
    }

    pub fn new(ca: PlatformCa, signing: SigningConfig) -> Self {
        Self {
            ca: Mutex::new(ca),
            signing,
            credentials: Mutex::default(),
            receipts: AtomicUsize::new(0),
        }
    }

    /// Members that got a certificate.
    pub fn members(&self) -> usize {
        self.credentials.lock().map(|c| c.len()).unwrap_or(0)
    }

    /// Declarations accepted with a sealed receipt.
    pub fn receipts(&self) -> usize {
        self.receipts.load(Ordering::Relaxed)
    }

    fn credential(&self, member: &str) -> Result<std::sync::Arc<Credential>, MarketError> {
        let mut creds = self
            .credentials
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(c) = creds.get(member) {
            return Ok(c.clone());
        }
        let fail = |e: voltex_security::SecurityError| MarketError::Forbidden(e.to_string());
        let issued = self
            .ca
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .issue_member(member, Role::MemberTrader, 30, chrono::Utc::now())
            .map_err(fail)?;
        let c = std::sync::Arc::new(Credential {
            key: MemberKey::from_pem(&issued.key_pem).map_err(fail)?,
            certificate_pem: issued.certificate_pem.clone(),
            serial: issued.serial.clone(),
        });
        creds.insert(member.to_owned(), c.clone());
        Ok(c)
    }

    /// The platform's trust and seal the declarations are accepted under.
    pub fn signing(&self) -> &SigningConfig {
        &self.signing
    }

    /// `member`'s signed submission of `body` as `version` of its
    /// declaration in `session_id` (the member's certificate is issued on
    /// first use).
    pub fn sign(
        &self,
        member: &str,
        session_id: &str,
        body: &DeclarationBody,
        version: i64,
    ) -> Result<SignedSubmission, MarketError> {
        let credential = self.credential(member)?;
        let key = body.key(session_id, member);
        let version = u32::try_from(version)
            .map_err(|_| MarketError::Conflict(format!("version {version} of {key}")))?;
        let value = serde_json::to_value(body)
            .map_err(|e| MarketError::Forbidden(format!("encoding the declaration: {e}")))?;
        let envelope = DeclarationEnvelope::new(member, key, version, value);
        let declaration = credential
            .key
            .sign(envelope, &credential.serial)
            .map_err(|e| MarketError::Forbidden(e.to_string()))?;
        Ok(SignedSubmission {
            declaration,
            certificate_pem: credential.certificate_pem.clone(),
        })
    }

    /// Signs `body` as `actor`'s next version and has the server's signed
    /// path accept it; the market's refusals come back as its errors.
    pub async fn sign_and_accept(
        &self,
        market: &Market,
        actor: &Actor,
        session_id: &str,
        body: DeclarationBody,
    ) -> Result<StoredDeclaration, MarketError> {
        let next = market
            .store()
            .declaration(&body.key(session_id, &actor.member_id))
            .await?
            .map_or(1, |d| d.version + 1);
        let submission = self.sign(&actor.member_id, session_id, &body, next)?;
        match accept_signed(market, &self.signing, actor, session_id, submission).await {
            Ok(accepted) => {
                self.receipts.fetch_add(1, Ordering::Relaxed);
                Ok(accepted.declaration)
            }
            // The market's refusals come back as the market's errors.
            Err(e) if !e.details.is_empty() => Err(MarketError::Invalid(Violations(e.details))),
            Err(e) => Err(MarketError::Forbidden(format!("{}: {}", e.code, e.message))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_demo_declaration_is_stored_with_its_members_signature() {
        let dir = tempfile::tempdir().unwrap();
        let ca_dir = dir.path().join("ca");
        let ca = PlatformCa::init(&ca_dir, "test", chrono::Utc::now()).unwrap();
        let channel = SigningChannel::new(ca, SigningConfig::load(&ca_dir).unwrap());
        let market = Market::open(
            voltex_store::Store::open_sqlite_dir(&dir.path().join("store"))
                .await
                .unwrap(),
        )
        .await
        .unwrap();
        let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        let summary = crate::run_signed(&market, &crate::DemoOptions::bundled(day), &channel)
            .await
            .unwrap();
        // The mistaken offer is still refused with its rules named.
        assert!(!summary.refused_example.is_empty());
        let counts: HashMap<&str, i64> = market
            .store()
            .row_counts()
            .await
            .unwrap()
            .into_iter()
            .collect();
        assert!(counts["declarations"] > 0);
        assert_eq!(counts["declarations"], counts["declaration_signatures"]);
        assert_eq!(channel.receipts() as i64, counts["declarations"]);
    }
}
