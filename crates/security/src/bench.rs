//! Measurements of the declaration path's cryptographic cost, for
//! `voltex bench security` and the throughput budget.
//!
//! Builds a throw-away CA in a temporary directory, issues one trader
//! certificate, and times: canonicalisation of a realistic declaration
//! (24 intervals × 3 offer segments), member signing, platform signature
//! verification (cached certificate), certificate verification (chain,
//! expiry, revocation), receipt sealing, and the whole server-side path
//! (parse → canonicalise → verify → seal). No assertions about speed live in
//! tests; this module only measures and reports.

use std::time::Instant;

use chrono::Utc;
use serde::Serialize;
use serde_json::{Value, json};

use crate::ca::PlatformCa;
use crate::declaration::{DeclarationEnvelope, MemberKey, SignedDeclaration, verify_declaration};
use crate::error::{Result, SecurityError};
use crate::receipt::PlatformSeal;
use crate::roles::Role;
use crate::trust::CaTrust;

/// Measured costs (means over `iterations`).
#[derive(Debug, Clone, Serialize)]
pub struct SignatureBenchReport {
    pub iterations: u32,
    pub declaration_bytes: usize,
    pub canonicalize_us: f64,
    pub sign_us: f64,
    pub verify_us: f64,
    pub verifications_per_s: f64,
    pub certificate_verify_us: f64,
    pub seal_receipt_us: f64,
    /// Server side per declaration: parse JSON + canonicalise + verify + seal.
    pub declaration_path_us: f64,
    pub declaration_path_per_s: f64,
}

impl std::fmt::Display for SignatureBenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "declaration: {} canonical bytes; {} iterations",
            self.declaration_bytes, self.iterations
        )?;
        writeln!(
            f,
            "canonicalise (RFC 8785)        {:>10.1} µs",
            self.canonicalize_us
        )?;
        writeln!(
            f,
            "member sign (Ed25519)          {:>10.1} µs",
            self.sign_us
        )?;
        writeln!(
            f,
            "platform verify (Ed25519)      {:>10.1} µs  ({:.0} verifications/s)",
            self.verify_us, self.verifications_per_s
        )?;
        writeln!(
            f,
            "certificate verify (CA, CRL)   {:>10.1} µs",
            self.certificate_verify_us
        )?;
        writeln!(
            f,
            "seal receipt                   {:>10.1} µs",
            self.seal_receipt_us
        )?;
        write!(
            f,
            "whole declaration path         {:>10.1} µs  ({:.0} declarations/s on one core)",
            self.declaration_path_us, self.declaration_path_per_s
        )
    }
}

/// A day-ahead offer: 24 intervals × 3 price-quantity segments.
pub fn sample_declaration_body() -> Value {
    let intervals: Vec<Value> = (1..=24)
        .map(|h| {
            json!({
                "interval": h,
                "segments": [
                    {"quantity_mw": 50.0, "price_per_mwh": 21.5 + h as f64 * 0.25},
                    {"quantity_mw": 30.0, "price_per_mwh": 38.75 + h as f64 * 0.5},
                    {"quantity_mw": 20.0, "price_per_mwh": 95.0}
                ]
            })
        })
        .collect();
    json!({
        "kind": "offer",
        "unit_id": "GEN-A-U1",
        "trading_day": "2026-11-22",
        "intervals": intervals
    })
}

fn mean_us(total: std::time::Duration, n: u32) -> f64 {
    total.as_secs_f64() * 1e6 / f64::from(n)
}

/// Runs the measurements with `iterations` repetitions of each step.
pub fn run_signature_bench(iterations: u32) -> Result<SignatureBenchReport> {
    let n = iterations.max(1);
    let tmp = std::env::temp_dir().join(format!(
        "voltex-bench-ca-{}-{}",
        std::process::id(),
        Utc::now().timestamp_nanos_opt().unwrap_or_default()
    ));
    let result = (|| {
        let now = Utc::now();
        let mut ca = PlatformCa::init(&tmp, "bench", now)?;
        let cred = ca.issue_member("GEN-A", Role::MemberTrader, 30, now)?;
        let trust = CaTrust::load(&tmp)?;
        let seal = PlatformSeal::load(&tmp)?;
        let key = MemberKey::from_pem(&cred.key_pem)?;
        let envelope = DeclarationEnvelope::new("GEN-A", "D-1", 1, sample_declaration_body());
        let declaration_bytes = envelope.canonical_bytes()?.len();

        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(envelope.canonical_bytes()?);
        }
        let canonicalize_us = mean_us(t.elapsed(), n);

        let t = Instant::now();
        let mut signed = None;
        for _ in 0..n {
            signed = Some(key.sign(envelope.clone(), &cred.serial)?);
        }
        let sign_us = mean_us(t.elapsed(), n) - canonicalize_us;
        let signed = signed.ok_or_else(|| SecurityError::Random("no iterations".into()))?;

        let t = Instant::now();
        let mut cert = None;
        for _ in 0..n {
            cert = Some(trust.verify_member_certificate(&cred.certificate_pem, now)?);
        }
        let certificate_verify_us = mean_us(t.elapsed(), n);
        let cert = cert.ok_or_else(|| SecurityError::Random("no iterations".into()))?;

        let bytes = envelope.canonical_bytes()?;
        let sig = crate::declaration::decode_signature(&signed.signature, "declaration")?;
        let t = Instant::now();
        for _ in 0..n {
            cert.public_key
                .verify_strict(std::hint::black_box(&bytes), &sig)
                .map_err(|_| SecurityError::BadSignature { what: "bench" })?;
        }
        let verify_us = mean_us(t.elapsed(), n);

        let verified = verify_declaration(&signed, &cert, &cred.certificate_pem)?;
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(seal.seal(&verified, now)?);
        }
        let seal_receipt_us = mean_us(t.elapsed(), n);

        let wire =
            serde_json::to_string(&signed).map_err(|e| SecurityError::JsonSyntax(e.to_string()))?;
        let t = Instant::now();
        for _ in 0..n {
            let parsed = SignedDeclaration::from_json(std::hint::black_box(&wire))?;
            let v = verify_declaration(&parsed, &cert, &cred.certificate_pem)?;
            std::hint::black_box(seal.seal(&v, now)?);
        }
        let declaration_path_us = mean_us(t.elapsed(), n);

        Ok(SignatureBenchReport {
            iterations: n,
            declaration_bytes,
            canonicalize_us,
            sign_us,
            verify_us,
            verifications_per_s: 1e6 / verify_us,
            certificate_verify_us,
            seal_receipt_us,
            declaration_path_us,
            declaration_path_per_s: 1e6 / declaration_path_us,
        })
    })();
    let _ = std::fs::remove_dir_all(&tmp);
    result
}

#[cfg(test)]
mod tests {
    #[test]
    fn bench_runs_end_to_end_with_few_iterations() {
        let r = super::run_signature_bench(2).unwrap();
        assert!(r.declaration_bytes > 1000);
        assert!(r.verify_us > 0.0 && r.declaration_path_us > 0.0);
        assert!(r.to_string().contains("verifications/s"));
    }
}
