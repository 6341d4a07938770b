//! End-to-end behaviour of the platform CA, signed declarations and sealed
//! receipts, including the tamper cases the issue asks for.

use chrono::{Duration, Utc};
use serde_json::json;
use voltex_security::ca::{CRL_FILE, PlatformCa, RevokeReason};
use voltex_security::declaration::{
    DeclarationEnvelope, MemberKey, RequestToSign, verify_declaration,
};
use voltex_security::receipt::{PlatformSeal, Receipt, verify_receipt};
use voltex_security::{CaTrust, Role, SecurityError, SignedDeclaration};

struct Fixture {
    _tmp: tempfile::TempDir,
    dir: std::path::PathBuf,
    ca: PlatformCa,
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ca");
    let ca = PlatformCa::init(&dir, "test", Utc::now()).unwrap();
    Fixture { _tmp: tmp, dir, ca }
}

fn offer() -> serde_json::Value {
    json!({"unit_id": "GEN-A-U1", "trading_day": "2026-11-22",
           "segments": [{"interval": 1, "quantity_mw": 50.0, "price_per_mwh": 42.5}]})
}

#[test]
fn issued_certificate_verifies_with_member_id_and_role() {
    let mut f = fixture();
    let cred =
        f.ca.issue_member("GEN-A", Role::MemberTrader, 30, Utc::now())
            .unwrap();
    let trust = CaTrust::load(&f.dir).unwrap();
    let v = trust
        .verify_member_certificate(&cred.certificate_pem, Utc::now())
        .unwrap();
    assert_eq!(v.member_id, "GEN-A");
    assert_eq!(v.role, Role::MemberTrader);
    assert_eq!(v.serial, cred.serial);
    assert_eq!(
        v.public_key,
        MemberKey::from_pem(&cred.key_pem).unwrap().public_key()
    );
}

#[test]
fn expired_and_not_yet_valid_certificates_are_refused() {
    let mut f = fixture();
    let cred =
        f.ca.issue_member("GEN-A", Role::MemberTrader, 10, Utc::now())
            .unwrap();
    let trust = CaTrust::load(&f.dir).unwrap();
    let later = Utc::now() + Duration::days(11);
    // the CRL would be stale by then too; expiry is checked first
    let err = trust
        .verify_member_certificate(&cred.certificate_pem, later)
        .unwrap_err();
    assert!(
        matches!(err, SecurityError::CertificateExpired { .. }),
        "{err}"
    );
    let err = trust
        .verify_member_certificate(&cred.certificate_pem, Utc::now() - Duration::days(1))
        .unwrap_err();
    assert!(
        matches!(err, SecurityError::CertificateNotYetValid { .. }),
        "{err}"
    );
}

#[test]
fn revoked_certificate_is_refused_once_the_new_list_is_loaded() {
    let mut f = fixture();
    let cred =
        f.ca.issue_member("RET-B", Role::MemberTrader, 30, Utc::now())
            .unwrap();
    let other =
        f.ca.issue_member("RET-B", Role::MemberViewer, 30, Utc::now())
            .unwrap();
    let before = CaTrust::load(&f.dir).unwrap();
    f.ca.revoke(&cred.serial, RevokeReason::KeyCompromise, Utc::now())
        .unwrap();
    assert!(
        before
            .verify_member_certificate(&cred.certificate_pem, Utc::now())
            .is_ok()
    );
    let after = CaTrust::load(&f.dir).unwrap();
    let err = after
        .verify_member_certificate(&cred.certificate_pem, Utc::now())
        .unwrap_err();
    assert!(
        matches!(err, SecurityError::CertificateRevoked { .. }),
        "{err}"
    );
    assert!(
        after
            .verify_member_certificate(&other.certificate_pem, Utc::now())
            .is_ok()
    );
    assert!(matches!(
        f.ca.revoke(&cred.serial, RevokeReason::Unspecified, Utc::now()),
        Err(SecurityError::AlreadyRevoked(_))
    ));
    let reopened = PlatformCa::open(&f.dir).unwrap();
    let entry = reopened
        .register()
        .certificates
        .iter()
        .find(|c| c.serial == cred.serial)
        .unwrap();
    assert_eq!(entry.revocation_reason.as_deref(), Some("key-compromise"));
}

#[test]
fn stale_or_foreign_revocation_lists_are_refused() {
    let mut f = fixture();
    let cred =
        f.ca.issue_member("GEN-A", Role::MemberTrader, 30, Utc::now())
            .unwrap();
    let trust = CaTrust::load(&f.dir).unwrap();
    let err = trust
        .verify_member_certificate(&cred.certificate_pem, Utc::now() + Duration::days(8))
        .unwrap_err();
    assert!(
        matches!(err, SecurityError::RevocationListStale { .. }),
        "{err}"
    );

    let g = fixture();
    let ca_pem = std::fs::read_to_string(f.dir.join("ca.cert.pem")).unwrap();
    let foreign_crl = std::fs::read_to_string(g.dir.join(CRL_FILE)).unwrap();
    assert!(matches!(
        CaTrust::from_pem(&ca_pem, &foreign_crl),
        Err(SecurityError::RevocationListUntrusted)
    ));
}

#[test]
fn certificate_from_another_ca_or_tampered_is_refused() {
    let f = fixture();
    let mut g = fixture();
    let foreign =
        g.ca.issue_member("GEN-A", Role::MemberTrader, 30, Utc::now())
            .unwrap();
    let trust = CaTrust::load(&f.dir).unwrap();
    let err = trust
        .verify_member_certificate(&foreign.certificate_pem, Utc::now())
        .unwrap_err();
    assert!(
        matches!(err, SecurityError::UntrustedCertificate { .. }),
        "{err}"
    );

    // flip one bit inside the DER (in the subject area) and re-armour
    let mut h = fixture();
    let cred =
        h.ca.issue_member("GEN-A", Role::MemberTrader, 30, Utc::now())
            .unwrap();
    let trust = CaTrust::load(&h.dir).unwrap();
    let mut der =
        voltex_security::trust::certificate_der_from_pem(&cred.certificate_pem, "t").unwrap();
    let pos = der.windows(5).position(|w| w == b"GEN-A").unwrap();
    der[pos + 4] = b'B';
    let pem = pem_encode(&der);
    assert!(trust.verify_member_certificate(&pem, Utc::now()).is_err());
}

fn pem_encode(der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

struct Signed {
    f: Fixture,
    trust: CaTrust,
    cert_pem: String,
    signed: SignedDeclaration,
    receipt: Receipt,
}

fn signed_and_sealed() -> Signed {
    let mut f = fixture();
    let cred =
        f.ca.issue_member("GEN-A", Role::MemberTrader, 30, Utc::now())
            .unwrap();
    let key = MemberKey::from_pem(&cred.key_pem).unwrap();
    let signed = key
        .sign(
            DeclarationEnvelope::new("GEN-A", "D-17", 2, offer()),
            &cred.serial,
        )
        .unwrap();
    let trust = CaTrust::load(&f.dir).unwrap();
    let cert = trust
        .verify_member_certificate(&cred.certificate_pem, Utc::now())
        .unwrap();
    let verified = verify_declaration(&signed, &cert, &cred.certificate_pem).unwrap();
    let seal = PlatformSeal::load(&f.dir).unwrap();
    let receipt = seal.seal(&verified, Utc::now()).unwrap();
    Signed {
        f,
        trust,
        cert_pem: cred.certificate_pem,
        signed,
        receipt,
    }
}

#[test]
fn receipt_verifies_offline_with_and_without_the_declaration() {
    let s = signed_and_sealed();
    let text = s.receipt.to_json_pretty();
    let parsed = Receipt::from_json(&text).unwrap();
    let check = verify_receipt(&parsed, &s.trust, None).unwrap();
    assert_eq!(check.member_id, "GEN-A");
    assert_eq!((check.declaration_id.as_str(), check.version), ("D-17", 2));
    assert_eq!(
        check.declaration_sha256,
        s.signed.envelope.sha256_hex().unwrap()
    );
    assert!(!check.declaration_matched);
    let wire = serde_json::to_string(&s.signed).unwrap();
    let d = SignedDeclaration::from_json(&wire).unwrap();
    assert!(
        verify_receipt(&parsed, &s.trust, Some(&d))
            .unwrap()
            .declaration_matched
    );
}

#[test]
fn tampered_declaration_fails_signature_and_receipt_checks() {
    let s = signed_and_sealed();
    let cert = s
        .trust
        .verify_member_certificate(&s.cert_pem, Utc::now())
        .unwrap();

    let mut price = s.signed.clone();
    price.envelope.body["segments"][0]["price_per_mwh"] = json!(4.25);
    assert!(matches!(
        verify_declaration(&price, &cert, &s.cert_pem),
        Err(SecurityError::BadSignature { .. })
    ));
    assert!(matches!(
        verify_receipt(&s.receipt, &s.trust, Some(&price)),
        Err(SecurityError::ReceiptMismatch {
            field: "declaration_sha256",
            ..
        })
    ));

    let mut version = s.signed.clone();
    version.envelope.version = 3;
    assert!(verify_declaration(&version, &cert, &s.cert_pem).is_err());

    let mut member = s.signed.clone();
    member.envelope.member_id = "RET-B".into();
    assert!(matches!(
        verify_declaration(&member, &cert, &s.cert_pem),
        Err(SecurityError::SignerMismatch { .. })
    ));

    // whitespace and key order do not matter: the canonical form is signed
    let reordered = r#"{"certificate_serial":"SERIAL","signature":"SIG","envelope":
        {"body":{"segments":[{"price_per_mwh":42.50,"quantity_mw":5e1,"interval":1}],
                 "trading_day":"2026-11-22","unit_id":"GEN-A-U1"},
         "version":2,"declaration_id":"D-17","member_id":"GEN-A","domain":"voltex/declaration/v1"}}"#
        .replace("SERIAL", &s.signed.certificate_serial)
        .replace("SIG", &s.signed.signature);
    let d = SignedDeclaration::from_json(&reordered).unwrap();
    assert!(verify_declaration(&d, &cert, &s.cert_pem).is_ok());
    // a duplicate key is an ambiguous document and is refused outright
    let dup = reordered.replace("\"version\":2,", "\"version\":2,\"version\":2,");
    assert!(matches!(
        SignedDeclaration::from_json(&dup),
        Err(SecurityError::DuplicateJsonKey { .. })
    ));
}

#[test]
fn tampered_receipt_fails_verification() {
    let s = signed_and_sealed();
    let tamper = |edit: &dyn Fn(&mut Receipt)| {
        let mut r = s.receipt.clone();
        edit(&mut r);
        verify_receipt(&r, &s.trust, None)
    };
    assert!(tamper(&|r| r.body.sealed_at = "2026-01-01T00:00:00.000000Z".into()).is_err());
    assert!(tamper(&|r| r.body.version = 3).is_err());
    assert!(tamper(&|r| r.body.declaration_sha256 = "00".repeat(32)).is_err());
    assert!(tamper(&|r| r.body.member_id = "RET-B".into()).is_err());
    assert!(tamper(&|r| r.body.domain = "voltex/receipt/v0".into()).is_err());
    let err = tamper(&|r| {
        let mut sig = r.seal.signature.clone().into_bytes();
        sig[3] = if sig[3] == b'A' { b'B' } else { b'A' };
        r.seal.signature = String::from_utf8(sig).unwrap();
    })
    .unwrap_err();
    assert!(matches!(err, SecurityError::BadSignature { .. }), "{err}");
    // a receipt re-sealed by another platform's seal does not verify here
    let g = fixture();
    let other_seal = PlatformSeal::load(&g.dir).unwrap();
    assert!(
        tamper(&|r| r.seal.certificate_pem = other_seal.certificate_pem().to_string()).is_err()
    );
    // the untouched receipt still verifies
    assert!(verify_receipt(&s.receipt, &s.trust, None).is_ok());
    let _ = &s.f;
}

#[test]
fn receipt_survives_later_revocation_of_the_member_certificate() {
    let mut s = signed_and_sealed();
    let serial = s.receipt.body.member_certificate_serial.clone();
    s.f.ca
        .revoke(
            &serial,
            RevokeReason::CessationOfOperation,
            Utc::now() + Duration::seconds(5),
        )
        .unwrap();
    let trust = CaTrust::load(&s.f.dir).unwrap();
    assert!(
        verify_receipt(&s.receipt, &trust, None).is_ok(),
        "revoked after sealing"
    );
    // but a certificate revoked before the sealing instant does not verify
    let mut early = s.receipt.clone();
    early.body.sealed_at =
        (Utc::now() + Duration::seconds(10)).to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    assert!(verify_receipt(&early, &trust, None).is_err());
}

#[test]
fn viewer_certificate_cannot_sign_declarations() {
    let mut f = fixture();
    let cred =
        f.ca.issue_member("GEN-A", Role::MemberViewer, 30, Utc::now())
            .unwrap();
    let key = MemberKey::from_pem(&cred.key_pem).unwrap();
    let signed = key
        .sign(
            DeclarationEnvelope::new("GEN-A", "D-1", 1, offer()),
            &cred.serial,
        )
        .unwrap();
    let trust = CaTrust::load(&f.dir).unwrap();
    let cert = trust
        .verify_member_certificate(&cred.certificate_pem, Utc::now())
        .unwrap();
    assert!(matches!(
        verify_declaration(&signed, &cert, &cred.certificate_pem),
        Err(SecurityError::Forbidden { .. })
    ));
}

#[test]
fn signed_request_proves_possession_and_expires() {
    let mut f = fixture();
    let cred =
        f.ca.issue_member("GEN-A", Role::MemberTrader, 30, Utc::now())
            .unwrap();
    let key = MemberKey::from_pem(&cred.key_pem).unwrap();
    let trust = CaTrust::load(&f.dir).unwrap();
    let cert = trust
        .verify_member_certificate(&cred.certificate_pem, Utc::now())
        .unwrap();
    let now = Utc::now().timestamp();
    let req = RequestToSign::new("GEN-A", "post", "/api/declarations", b"{}", now, "n-1");
    let sig = key.sign_request(&req).unwrap();
    assert!(req.verify(&sig, &cert, now + 10).is_ok());
    assert!(req.verify(&sig, &cert, now + 301).is_err(), "too old");
    let mut other_body = req.clone();
    other_body.body_sha256 =
        RequestToSign::new("GEN-A", "POST", "/api/declarations", b"{ }", now, "n-1").body_sha256;
    assert!(other_body.verify(&sig, &cert, now).is_err());
}

#[test]
fn sealed_audit_checkpoint_proves_truncation() {
    use voltex_security::audit::{
        AuditCheckpoint, AuditEntry, AuditOutcome, ChainStart, append, verify_chain,
    };
    let f = fixture();
    let seal = PlatformSeal::load(&f.dir).unwrap();
    let trust = CaTrust::load(&f.dir).unwrap();
    let mut rows = Vec::new();
    for i in 0..5 {
        let r = append(
            rows.last(),
            AuditEntry {
                at: Utc::now(),
                actor: "alice".into(),
                role: Some("member-trader".into()),
                member_id: Some("GEN-A".into()),
                action: "declaration.submit".into(),
                target: format!("declaration/D-{i}/v1"),
                source: Some("127.0.0.1".into()),
                outcome: AuditOutcome::Success,
                detail: json!({}),
            },
        )
        .unwrap();
        rows.push(r);
    }
    let head = rows.last().unwrap();
    let cp = AuditCheckpoint::seal(&seal, head.seq, &head.hash, Utc::now()).unwrap();
    let (seq, hash) = cp.verify(&trust).unwrap();
    assert!(verify_chain(&rows, &ChainStart::Genesis, Some((seq, &hash))).is_ok());
    assert!(verify_chain(&rows[..3], &ChainStart::Genesis, Some((seq, &hash))).is_err());
    let mut forged = cp.clone();
    forged.seq = 3;
    assert!(forged.verify(&trust).is_err());
}
