//! Signed declarations over real HTTP: a platform CA is created in a
//! temporary directory with the library calls `voltex ca init` and `voltex ca
//! issue --member` make, the server is started with it, and a member signs an
//! energy offer with its key. An accepted declaration comes back with a
//! receipt that verifies offline; a tampered body, a replayed envelope,
//! another member's certificate and a revoked certificate are refused and
//! leave every table as it was; an altered receipt fails verification.

use crate::common::{Platform, RequestSigner, SignedInUser};
use reqwest::StatusCode;
use serde_json::{Value, json};
use voltex_model::DeclarationBody;
use voltex_security::ca::PlatformCa;
use voltex_security::receipt::verify_receipt;
use voltex_security::{
    CaTrust, DeclarationEnvelope, Receipt, RevokeReason, Role, SignedDeclaration, Utc,
};
use voltex_server::signing::DeclarationSignature;

const SESSION: &str = "DA-2026-11-22";

/// The platform with its operator and the traders of `gen1` and `gen2`,
/// signed in; each trader's certificate signs its declarations.
struct Running {
    p: Platform,
    op: SignedInUser,
    gen1: SignedInUser,
    gen2: SignedInUser,
}

impl Running {
    /// A platform with both members active, unit `alta1` of gen1 registered
    /// and the day-ahead session open.
    async fn start() -> Self {
        let p = Platform::start().await;
        let op = p.operator().await;
        for id in ["gen1", "gen2"] {
            let r = p
                .call(
                    "POST",
                    "/api/v1/members",
                    None,
                    Some(json!({"id": id, "name": id, "kind": "generator"})),
                )
                .await;
            assert_eq!(r.0, StatusCode::CREATED, "{}", r.1);
            let r = p
                .call(
                    "POST",
                    &format!("/api/v1/members/{id}/status"),
                    Some(&op),
                    Some(json!({"status": "active"})),
                )
                .await;
            assert_eq!(r.0, StatusCode::OK, "{}", r.1);
        }
        p.import_pjm5(&op).await;
        let unit = json!({
            "id": "alta1", "member_id": "gen1", "name": "Alta 1", "technology": "coal", "bus": 1,
            "pmin_mw": 0.0, "pmax_mw": 200.0, "ramp_up_mw_per_min": 4.0, "ramp_down_mw_per_min": 4.0,
            "min_up_time_h": 4.0, "min_down_time_h": 4.0, "startup_cost": 20000.0
        });
        let gen1_admin = p
            .user("gen1-admin", Role::MemberAdministrator, Some("gen1"))
            .await;
        let u = p
            .call("POST", "/api/v1/units", Some(&gen1_admin), Some(unit))
            .await;
        assert_eq!(u.0, StatusCode::CREATED, "{}", u.1);
        let sess = p
            .call(
                "POST",
                "/api/v1/sessions",
                Some(&op),
                Some(json!({"market": "day_ahead_energy", "trading_day": "2026-11-22"})),
            )
            .await;
        assert_eq!(sess.1["value"]["id"], SESSION, "{}", sess.1);
        let open = p
            .call(
                "POST",
                &format!("/api/v1/sessions/{SESSION}/open"),
                Some(&op),
                None,
            )
            .await;
        assert_eq!(open.0, StatusCode::OK, "{}", open.1);
        let gen1 = p
            .user("gen1-trader", Role::MemberTrader, Some("gen1"))
            .await;
        let gen2 = p
            .user("gen2-trader", Role::MemberTrader, Some("gen2"))
            .await;
        Self { p, op, gen1, gen2 }
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        who: Option<&SignedInUser>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.p.call(method, path, who, body).await
    }

    /// Posts a signed declaration with a certificate, acting as `who`.
    async fn submit(
        &self,
        who: &SignedInUser,
        signed: &SignedDeclaration,
        certificate_pem: &str,
    ) -> (StatusCode, Value) {
        self.call(
            "POST",
            &format!("/api/v1/sessions/{SESSION}/declarations/signed"),
            Some(who),
            Some(json!({"declaration": signed, "certificate_pem": certificate_pem})),
        )
        .await
    }

    async fn counts(&self) -> Vec<(&'static str, i64)> {
        crate::common::row_counts(&self.p.store).await
    }

    fn trust(&self) -> CaTrust {
        CaTrust::load(&self.p.ca_dir).unwrap()
    }
}

fn offer(prices: &[f64]) -> Value {
    let segments: Vec<Value> = prices
        .iter()
        .map(|p| json!({"quantity_mw": 40.0, "price": p}))
        .collect();
    json!({"kind": "energy_offer", "unit_id": "alta1", "intervals": vec![json!({"segments": segments}); 96]})
}

/// The declaration key the server expects in the envelope.
fn key_of(body: &Value, member: &str) -> String {
    serde_json::from_value::<DeclarationBody>(body.clone())
        .unwrap()
        .key(SESSION, member)
}

/// `member` signs `body` as version `version` with `signer`'s key.
fn sign(signer: &RequestSigner, member: &str, version: u32, body: Value) -> SignedDeclaration {
    let id = key_of(&body, member);
    signer
        .key
        .sign(
            DeclarationEnvelope::new(member, id, version, body),
            &signer.serial,
        )
        .unwrap()
}

fn assert_refused(resp: &(StatusCode, Value), status: StatusCode, code: &str, rule: Option<&str>) {
    assert_eq!(resp.0, status, "{}", resp.1);
    assert_eq!(resp.1["error"]["code"], code, "{}", resp.1);
    assert!(
        resp.1["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
    if let Some(rule) = rule {
        assert!(
            resp.1["error"]["details"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["rule"] == rule && d["field"].as_str().is_some_and(|f| !f.is_empty())),
            "no detail with rule {rule} in {}",
            resp.1
        );
    }
}

fn count(counts: &[(&'static str, i64)], table: &str) -> i64 {
    counts.iter().find(|(t, _)| *t == table).unwrap().1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_declaration_is_stored_with_its_signature_and_answered_with_a_verifiable_receipt() {
    let s = Running::start().await;
    let before = s.counts().await;
    let signed = sign(s.gen1.signer(), "gen1", 1, offer(&[280.0, 320.0]));
    let resp = s
        .submit(&s.gen1, &signed, &s.gen1.signer().certificate_pem)
        .await;
    assert_eq!(resp.0, StatusCode::CREATED, "{}", resp.1);
    assert_eq!(resp.1["declaration"]["version"], 1);
    let key = resp.1["declaration"]["key"].as_str().unwrap().to_owned();
    assert_eq!(key, signed.envelope.declaration_id);
    assert!(
        resp.1["declaration"].get("body").is_none(),
        "the answer names the version stored, it does not echo the signed body: {}",
        resp.1
    );

    // The receipt verifies offline, with the declaration it acknowledges.
    let receipt: Receipt = serde_json::from_value(resp.1["receipt"].clone()).unwrap();
    let check = verify_receipt(&receipt, &s.trust(), Some(&signed)).unwrap();
    assert!(check.declaration_matched);
    assert_eq!(
        check.declaration_sha256,
        signed.envelope.sha256_hex().unwrap()
    );
    assert_eq!((check.member_id.as_str(), check.version), ("gen1", 1));
    assert_eq!(check.member_certificate.serial, s.gen1.signer().serial);

    // The signature is stored with the declaration.
    let after = s.counts().await;
    assert_eq!(
        count(&after, "declarations"),
        count(&before, "declarations") + 1
    );
    assert_eq!(
        count(&after, "declaration_signatures"),
        count(&before, "declaration_signatures") + 1
    );
    let record =
        s.p.store
            .get::<DeclarationSignature>(&DeclarationSignature::record_id(&key, 1))
            .await
            .unwrap()
            .unwrap()
            .value;
    assert_eq!(record.envelope, signed.envelope);
    assert_eq!(record.signature, signed.signature);
    assert_eq!(record.envelope_sha256, check.declaration_sha256);
    assert_eq!(record.certificate_serial, s.gen1.signer().serial);
    assert_eq!(record.receipt, receipt);

    // The receipt can be fetched again by its member and the operator only.
    let path = format!("/api/v1/declarations/{key}/versions/1/receipt");
    for who in [&s.gen1, &s.op] {
        let got = s.call("GET", &path, Some(who), None).await;
        assert_eq!(got.0, StatusCode::OK, "{}", got.1);
        assert_eq!(serde_json::from_value::<Receipt>(got.1).unwrap(), receipt);
    }
    let foreign = s.call("GET", &path, Some(&s.gen2), None).await;
    assert_refused(&foreign, StatusCode::NOT_FOUND, "not_found", None);
    let missing = s
        .call(
            "GET",
            &format!("/api/v1/declarations/{key}/versions/2/receipt"),
            Some(&s.gen1),
            None,
        )
        .await;
    assert_refused(&missing, StatusCode::NOT_FOUND, "not_found", None);

    // A resubmission signed for the next version supersedes.
    let v2 = sign(s.gen1.signer(), "gen1", 2, offer(&[290.0]));
    let resp = s
        .submit(&s.gen1, &v2, &s.gen1.signer().certificate_pem)
        .await;
    assert_eq!(resp.0, StatusCode::CREATED, "{}", resp.1);
    assert_eq!(resp.1["declaration"]["version"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_replayed_misaddressed_or_foreign_declarations_are_refused_and_store_nothing() {
    let s = Running::start().await;
    let v1 = sign(s.gen1.signer(), "gen1", 1, offer(&[280.0]));
    let ok = s
        .submit(&s.gen1, &v1, &s.gen1.signer().certificate_pem)
        .await;
    assert_eq!(ok.0, StatusCode::CREATED, "{}", ok.1);
    let before = s.counts().await;

    // A price changed after signing.
    let mut tampered = sign(s.gen1.signer(), "gen1", 2, offer(&[300.0]));
    tampered.envelope.body["intervals"][0]["segments"][0]["price"] = json!(3000.0);
    let r = s
        .submit(&s.gen1, &tampered, &s.gen1.signer().certificate_pem)
        .await;
    assert_refused(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "signature_invalid",
        Some("verifies"),
    );

    // The same envelope again (version 1 is taken).
    let r = s
        .submit(&s.gen1, &v1, &s.gen1.signer().certificate_pem)
        .await;
    assert_refused(&r, StatusCode::CONFLICT, "conflict", None);
    assert!(
        r.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("next version is 2"),
        "{}",
        r.1
    );
    // A version that skips ahead.
    let ahead = sign(s.gen1.signer(), "gen1", 5, offer(&[300.0]));
    let r = s
        .submit(&s.gen1, &ahead, &s.gen1.signer().certificate_pem)
        .await;
    assert_refused(&r, StatusCode::CONFLICT, "conflict", None);

    // Signed for another declaration id than this session's key.
    let elsewhere = s
        .gen1
        .signer()
        .key
        .sign(
            DeclarationEnvelope::new(
                "gen1",
                "DA-2026-11-23:energy_offer:alta1",
                2,
                offer(&[300.0]),
            ),
            &s.gen1.signer().serial,
        )
        .unwrap();
    let r = s
        .submit(&s.gen1, &elsewhere, &s.gen1.signer().certificate_pem)
        .await;
    assert_refused(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "declaration_mismatch",
        Some("is_declaration_key"),
    );

    // gen1 acting with gen2's certificate and key.
    let with_gen2_key = sign(s.gen2.signer(), "gen1", 2, offer(&[300.0]));
    let r = s
        .submit(&s.gen1, &with_gen2_key, &s.gen2.signer().certificate_pem)
        .await;
    assert_refused(
        &r,
        StatusCode::FORBIDDEN,
        "signer_mismatch",
        Some("names_acting_member"),
    );
    // gen2 acting, signing an envelope that claims to be gen1's.
    let r = s
        .submit(&s.gen2, &with_gen2_key, &s.gen2.signer().certificate_pem)
        .await;
    assert_refused(
        &r,
        StatusCode::FORBIDDEN,
        "signer_mismatch",
        Some("matches_certificate"),
    );
    // gen1's envelope with gen1's certificate but signed by gen2's key.
    let mut wrong_key = sign(s.gen2.signer(), "gen1", 2, offer(&[300.0]));
    wrong_key.certificate_serial = s.gen1.signer().serial.clone();
    let r = s
        .submit(&s.gen1, &wrong_key, &s.gen1.signer().certificate_pem)
        .await;
    assert_refused(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "signature_invalid",
        Some("verifies"),
    );

    // A certificate from another CA.
    let other_dir = tempfile::tempdir().unwrap();
    let mut other_ca = PlatformCa::init(other_dir.path(), "other", Utc::now()).unwrap();
    let impostor = other_ca
        .issue_member("gen1", Role::MemberTrader, 30, Utc::now())
        .unwrap();
    let forged = sign(&RequestSigner::from(&impostor), "gen1", 2, offer(&[300.0]));
    let r = s.submit(&s.gen1, &forged, &impostor.certificate_pem).await;
    assert_refused(
        &r,
        StatusCode::FORBIDDEN,
        "certificate_refused",
        Some("issued_by_platform_ca"),
    );

    // Bodies that are not a signed submission.
    let r = s
        .call(
            "POST",
            &format!("/api/v1/sessions/{SESSION}/declarations/signed"),
            Some(&s.gen1),
            Some(json!({"declaration": v1, "certificate_pem": s.gen1.signer().certificate_pem, "extra": 1})),
        )
        .await;
    assert_refused(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", None);
    let dup =
        s.p.call_raw(
            "POST",
            &format!("/api/v1/sessions/{SESSION}/declarations/signed"),
            Some(&s.gen1),
            "application/json",
            br#"{"certificate_pem": "a", "certificate_pem": "b"}"#.to_vec(),
        )
        .await;
    assert_eq!(dup.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", dup.1);

    assert_eq!(s.counts().await, before, "a refusal wrote something");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_revoked_while_the_server_runs_is_refused() {
    let s = Running::start().await;
    let v1 = sign(s.gen1.signer(), "gen1", 1, offer(&[280.0]));
    let ok = s
        .submit(&s.gen1, &v1, &s.gen1.signer().certificate_pem)
        .await;
    assert_eq!(ok.0, StatusCode::CREATED, "{}", ok.1);
    let receipt: Receipt = serde_json::from_value(ok.1["receipt"].clone()).unwrap();

    // Revocation times in a CRL have one-second resolution: revoke in a later
    // second than the sealing, or the old receipt would count as sealed after it.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    // `voltex ca revoke --serial ...`: the server re-reads crl.pem.
    PlatformCa::open(&s.p.ca_dir)
        .unwrap()
        .revoke(
            &s.gen1.signer().serial,
            RevokeReason::KeyCompromise,
            Utc::now(),
        )
        .unwrap();
    let before = s.counts().await;
    let v2 = sign(s.gen1.signer(), "gen1", 2, offer(&[290.0]));
    let r = s
        .submit(&s.gen1, &v2, &s.gen1.signer().certificate_pem)
        .await;
    assert_refused(
        &r,
        StatusCode::FORBIDDEN,
        "certificate_refused",
        Some("not_revoked"),
    );
    assert_eq!(s.counts().await, before);
    // The receipt sealed before the revocation still verifies.
    verify_receipt(&receipt, &s.trust(), Some(&v1)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_altered_receipt_or_declaration_fails_offline_verification() {
    let s = Running::start().await;
    let signed = sign(s.gen1.signer(), "gen1", 1, offer(&[280.0]));
    let ok = s
        .submit(&s.gen1, &signed, &s.gen1.signer().certificate_pem)
        .await;
    assert_eq!(ok.0, StatusCode::CREATED, "{}", ok.1);
    let receipt: Receipt = serde_json::from_value(ok.1["receipt"].clone()).unwrap();
    let trust = s.trust();
    verify_receipt(&receipt, &trust, Some(&signed)).unwrap();

    // The hash in the receipt altered (to that of another declaration).
    let mut altered = receipt.clone();
    let other = sign(s.gen1.signer(), "gen1", 1, offer(&[281.0]));
    altered.body.declaration_sha256 = other.envelope.sha256_hex().unwrap();
    assert!(verify_receipt(&altered, &trust, None).is_err());
    assert!(verify_receipt(&altered, &trust, Some(&other)).is_err());
    // The sealed time moved.
    let mut backdated = receipt.clone();
    backdated.body.sealed_at = "2026-01-01T00:00:00.000000Z".into();
    assert!(verify_receipt(&backdated, &trust, None).is_err());
    // The declaration altered after the fact.
    let mut changed = signed.clone();
    changed.envelope.body["intervals"][0]["segments"][0]["price"] = json!(28.0);
    assert!(verify_receipt(&receipt, &trust, Some(&changed)).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_a_ca_refuses_signed_declarations_with_503() {
    let mut s = Running::start().await;
    // `voltex serve` without `--ca-dir`, on the same store.
    s.p.restart_without_ca().await;
    let before = s.counts().await;
    let signed = sign(s.gen1.signer(), "gen1", 1, offer(&[280.0]));
    let r = s
        .submit(&s.gen1, &signed, &s.gen1.signer().certificate_pem)
        .await;
    assert_refused(
        &r,
        StatusCode::SERVICE_UNAVAILABLE,
        "signing_not_configured",
        None,
    );
    assert!(
        r.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--ca-dir")
    );
    assert_eq!(s.counts().await, before);
    // Nor can it check the certificate proof of an unsigned declaration (a
    // core action); what needs no certificate is served as before.
    let path = format!("/api/v1/sessions/{SESSION}/declarations");
    let plain = s
        .call("POST", &path, Some(&s.gen1), Some(offer(&[280.0])))
        .await;
    assert_refused(
        &plain,
        StatusCode::SERVICE_UNAVAILABLE,
        "certificates_not_configured",
        None,
    );
    assert_eq!(s.counts().await, before);
    let own = s.call("GET", &path, Some(&s.gen1), None).await;
    assert_eq!(own.0, StatusCode::OK, "{}", own.1);
}
