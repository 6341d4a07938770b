//! The audit log's hash chain: the row type, appending, and verification.
//!
//! Every state-changing action becomes an [`AuditRecord`]: who (actor, role,
//! member), what (action, target, detail), when (`at`, microseconds, UTC),
//! from where (`source`, e.g. client address), and the outcome. Each record
//! carries `prev_hash`, the hash of the record before it (64 zeros for the
//! first), and `hash` = SHA-256 over the RFC 8785 canonical JSON of all its
//! other fields. [`verify_chain`] recomputes every hash and link and checks
//! that sequence numbers are contiguous, so a modified, removed, inserted or
//! reordered row is detected. Removing rows from the *end* leaves a valid,
//! shorter chain; that is caught only against a head recorded elsewhere
//! (`expected_head`: e.g. a sealed checkpoint or the head printed in the
//! operator's daily report).
//!
//! [`link`] makes every link (the server's appender and [`append`] call it)
//! and [`check_link`] checks one ([`verify_chain`] calls it for every row):
//! there is no second copy of the rule. This module does no I/O: the store
//! appends and reads rows.

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::canonical::canonical_bytes;
use crate::error::{Result, SecurityError};

/// `prev_hash` of the first record.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// Domain tag mixed into every record hash.
pub const AUDIT_DOMAIN: &str = "voltex/audit/v1";

/// How an audited action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuditOutcome {
    Success,
    /// Refused by authentication, authorisation or rate limiting.
    Denied,
    /// Accepted but failed (validation error, internal error).
    Failed,
}

/// An action to record (what the caller knows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    /// User id, or `system` for the scheduler.
    pub actor: String,
    pub role: Option<String>,
    pub member_id: Option<String>,
    /// Verb, e.g. `declaration.submit`, `session.login`, `ca.revoke`.
    pub action: String,
    /// What it acted on, e.g. `declaration/D-17/v2`.
    pub target: String,
    /// Where from, e.g. client IP address.
    pub source: Option<String>,
    pub outcome: AuditOutcome,
    /// Further facts (never secrets): JSON.
    pub detail: Value,
}

/// A chained row, as the store keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub role: Option<String>,
    pub member_id: Option<String>,
    pub action: String,
    pub target: String,
    pub source: Option<String>,
    pub outcome: AuditOutcome,
    pub detail: Value,
    pub prev_hash: String,
    pub hash: String,
}

/// The SHA-256 (hex) a record must carry, computed from its other fields.
pub fn record_hash(r: &AuditRecord) -> Result<String> {
    let content = json!({
        "domain": AUDIT_DOMAIN,
        "seq": r.seq,
        "at": r.at.to_rfc3339_opts(SecondsFormat::Micros, true),
        "actor": r.actor,
        "role": r.role,
        "member_id": r.member_id,
        "action": r.action,
        "target": r.target,
        "source": r.source,
        "outcome": r.outcome,
        "detail": r.detail,
        "prev_hash": r.prev_hash,
    });
    Ok(hex::encode(Sha256::digest(canonical_bytes(&content)?)))
}

/// The record a new one links to: the last record's `seq` and `hash`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainTip {
    pub seq: u64,
    pub hash: String,
}

impl From<&AuditRecord> for ChainTip {
    fn from(r: &AuditRecord) -> Self {
        ChainTip {
            seq: r.seq,
            hash: r.hash.clone(),
        }
    }
}

/// Builds and hashes the record that follows `tip` (`None`: the first
/// record): the next `seq`, `prev_hash` = the tip's hash, `at` truncated to
/// the microseconds the hash covers. The one place a link is made; the store
/// appends what this returns, [`verify_chain`] checks it with [`check_link`].
pub fn link(tip: Option<&ChainTip>, entry: AuditEntry) -> Result<AuditRecord> {
    let seq = match tip {
        None => 1,
        Some(t) => t
            .seq
            .checked_add(1)
            .ok_or_else(|| SecurityError::AuditChainBroken {
                seq: t.seq,
                rule: "no sequence number follows this row".into(),
            })?,
    };
    let mut r = AuditRecord {
        seq,
        at: entry.at.trunc_subsecs(6),
        actor: entry.actor,
        role: entry.role,
        member_id: entry.member_id,
        action: entry.action,
        target: entry.target,
        source: entry.source,
        outcome: entry.outcome,
        detail: entry.detail,
        prev_hash: tip.map_or_else(|| GENESIS_HASH.to_string(), |t| t.hash.clone()),
        hash: String::new(),
    };
    r.hash = record_hash(&r)?;
    Ok(r)
}

/// Builds the record that follows `prev` (or the first record): [`link`]
/// after a record at hand.
pub fn append(prev: Option<&AuditRecord>, entry: AuditEntry) -> Result<AuditRecord> {
    link(prev.map(ChainTip::from).as_ref(), entry)
}

/// Checks that `r` is the record that follows `prev` (the genesis:
/// `seq` 0 and [`GENESIS_HASH`]): its `seq` is the next, its `prev_hash` is
/// `prev`'s hash, and its `hash` is that of its content. The error names
/// `r`'s `seq` and the rule broken.
pub fn check_link(prev: &ChainTip, r: &AuditRecord) -> Result<()> {
    let broken = |rule: String| SecurityError::AuditChainBroken { seq: r.seq, rule };
    if prev.seq.checked_add(1) != Some(r.seq) {
        return Err(broken(format!(
            "sequence jumps from {} to {} (row removed, inserted or reordered)",
            prev.seq, r.seq
        )));
    }
    if r.prev_hash != prev.hash {
        return Err(broken(
            "prev_hash does not match the previous row's hash (row removed or reordered)".into(),
        ));
    }
    if record_hash(r)? != r.hash {
        return Err(broken(
            "content does not match its hash (row modified)".into(),
        ));
    }
    Ok(())
}

/// Where verification starts: the genesis, or after a trusted record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainStart {
    Genesis,
    After { seq: u64, hash: String },
}

/// Result of a successful verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainSummary {
    pub rows: usize,
    pub first_seq: Option<u64>,
    pub last_seq: Option<u64>,
    pub head_hash: String,
}

/// Verifies `rows` in the order the store returned them (insertion order).
///
/// `expected_head`: a (seq, hash) recorded elsewhere earlier; the chain must
/// still contain that record unchanged (detects truncation of the tail).
pub fn verify_chain(
    rows: &[AuditRecord],
    start: &ChainStart,
    expected_head: Option<(u64, &str)>,
) -> Result<ChainSummary> {
    let mut prev = match start {
        ChainStart::Genesis => ChainTip {
            seq: 0,
            hash: GENESIS_HASH.to_string(),
        },
        ChainStart::After { seq, hash } => ChainTip {
            seq: *seq,
            hash: hash.clone(),
        },
    };
    let broken = |seq: u64, rule: String| SecurityError::AuditChainBroken { seq, rule };
    let mut head_seen = false;
    for r in rows {
        check_link(&prev, r)?;
        if let Some((seq, hash)) = expected_head
            && seq == r.seq
        {
            if hash != r.hash {
                return Err(broken(
                    r.seq,
                    "row differs from the recorded checkpoint".into(),
                ));
            }
            head_seen = true;
        }
        prev = ChainTip::from(r);
    }
    if let Some((seq, _)) = expected_head
        && !head_seen
    {
        return Err(broken(
            seq,
            format!(
                "checkpoint row {seq} is missing (chain ends at {}: rows removed from the end)",
                prev.seq
            ),
        ));
    }
    Ok(ChainSummary {
        rows: rows.len(),
        first_seq: rows.first().map(|r| r.seq),
        last_seq: rows.last().map(|r| r.seq),
        head_hash: prev.hash,
    })
}

/// Domain tag of sealed audit checkpoints.
pub const CHECKPOINT_DOMAIN: &str = "voltex/audit-checkpoint/v1";

/// The chain head at some instant, sealed by the platform, so that a later
/// truncation of the log can be proven (`verify_chain`'s `expected_head`).
/// Publish or archive checkpoints outside the database (daily report, e-mail
/// to the auditor).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditCheckpoint {
    pub domain: String,
    pub seq: u64,
    pub hash: String,
    /// RFC 3339 UTC, microseconds.
    pub sealed_at: String,
    /// Seal signature over the canonical JSON of the four fields above (base64).
    pub signature: String,
    pub certificate_pem: String,
}

#[derive(Serialize)]
struct CheckpointBody<'a> {
    domain: &'a str,
    seq: u64,
    hash: &'a str,
    sealed_at: &'a str,
}

impl AuditCheckpoint {
    fn body(&self) -> CheckpointBody<'_> {
        CheckpointBody {
            domain: &self.domain,
            seq: self.seq,
            hash: &self.hash,
            sealed_at: &self.sealed_at,
        }
    }

    /// Seals the head `(seq, hash)` of a verified chain at `now`.
    pub fn seal(
        seal: &crate::receipt::PlatformSeal,
        seq: u64,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Self> {
        let mut cp = AuditCheckpoint {
            domain: CHECKPOINT_DOMAIN.into(),
            seq,
            hash: hash.to_string(),
            sealed_at: now.to_rfc3339_opts(SecondsFormat::Micros, true),
            signature: String::new(),
            certificate_pem: seal.certificate_pem().to_string(),
        };
        cp.signature = seal.sign_bytes(&crate::canonical::canonical_bytes_of(&cp.body())?);
        Ok(cp)
    }

    /// Verifies the seal against the CA; returns `(seq, hash)` for `verify_chain`.
    pub fn verify(&self, trust: &crate::trust::CaTrust) -> Result<(u64, String)> {
        if self.domain != CHECKPOINT_DOMAIN {
            return Err(SecurityError::UnsupportedFormat {
                what: "audit checkpoint",
                found: self.domain.clone(),
                expected: CHECKPOINT_DOMAIN,
            });
        }
        let at = DateTime::parse_from_rfc3339(&self.sealed_at)
            .map_err(|e| SecurityError::Malformed {
                what: "audit checkpoint sealed_at".into(),
                encoding: "RFC 3339 timestamp",
                detail: e.to_string(),
            })?
            .with_timezone(&Utc);
        let seal = trust.verify_seal_certificate(&self.certificate_pem, at)?;
        let sig = crate::declaration::decode_signature(&self.signature, "audit checkpoint")?;
        seal.public_key
            .verify_strict(&crate::canonical::canonical_bytes_of(&self.body())?, &sig)
            .map_err(|_| SecurityError::BadSignature {
                what: "audit checkpoint",
            })?;
        Ok((self.seq, self.hash.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn entry(i: u64) -> AuditEntry {
        AuditEntry {
            at: DateTime::from_timestamp(1_800_000_000 + i as i64, 123_456_789).unwrap(),
            actor: format!("user{}", i % 3),
            role: Some("member-trader".into()),
            member_id: Some("GEN-A".into()),
            action: "declaration.submit".into(),
            target: format!("declaration/D-{i}/v1"),
            source: Some("127.0.0.1".into()),
            outcome: AuditOutcome::Success,
            detail: json!({"segments": i, "price_per_mwh": 42.5}),
        }
    }

    fn chain(n: u64) -> Vec<AuditRecord> {
        let mut rows: Vec<AuditRecord> = Vec::new();
        for i in 0..n {
            let r = append(rows.last(), entry(i)).unwrap();
            rows.push(r);
        }
        rows
    }

    #[test]
    fn intact_chain_verifies() {
        let rows = chain(10);
        let s = verify_chain(&rows, &ChainStart::Genesis, Some((10, &rows[9].hash))).unwrap();
        assert_eq!((s.rows, s.last_seq), (10, Some(10)));
        assert_eq!(rows[0].prev_hash, GENESIS_HASH);
        assert_eq!(
            rows[0].at.timestamp_subsec_nanos(),
            123_456_000,
            "stored at microsecond precision"
        );
    }

    #[test]
    fn modified_removed_and_reordered_rows_are_detected() {
        let rows = chain(6);
        let mut modified = rows.clone();
        modified[2].detail = json!({"segments": 2, "price_per_mwh": 4.25});
        assert!(verify_chain(&modified, &ChainStart::Genesis, None).is_err());

        let mut removed = rows.clone();
        removed.remove(3);
        assert!(verify_chain(&removed, &ChainStart::Genesis, None).is_err());

        let mut reordered = rows.clone();
        reordered.swap(1, 4);
        assert!(verify_chain(&reordered, &ChainStart::Genesis, None).is_err());

        // renumbering after a removal still breaks the prev_hash link
        let mut renumbered = rows.clone();
        renumbered.remove(3);
        for (i, r) in renumbered.iter_mut().enumerate() {
            r.seq = i as u64 + 1;
        }
        assert!(verify_chain(&renumbered, &ChainStart::Genesis, None).is_err());
    }

    #[test]
    fn a_link_made_from_the_stored_tip_is_the_one_append_makes_and_checks() {
        let rows = chain(3);
        let tip = ChainTip {
            seq: rows[2].seq,
            hash: rows[2].hash.clone(),
        };
        let from_tip = link(Some(&tip), entry(3)).unwrap();
        assert_eq!(from_tip, append(rows.last(), entry(3)).unwrap());
        assert_eq!((from_tip.seq, &from_tip.prev_hash), (4, &rows[2].hash));
        check_link(&tip, &from_tip).unwrap();
        let genesis = ChainTip {
            seq: 0,
            hash: GENESIS_HASH.into(),
        };
        check_link(&genesis, &link(None, entry(0)).unwrap()).unwrap();

        let mut edited = from_tip.clone();
        edited.target = "declaration/D-9/v1".into();
        let e = check_link(&tip, &edited).unwrap_err();
        assert!(
            matches!(&e, SecurityError::AuditChainBroken { seq: 4, rule } if rule.contains("modified")),
            "{e}"
        );
        let last = ChainTip {
            seq: u64::MAX,
            hash: tip.hash.clone(),
        };
        assert!(
            link(Some(&last), entry(4)).is_err(),
            "no seq after the last"
        );
    }

    #[test]
    fn tail_truncation_is_caught_only_against_a_checkpoint() {
        let rows = chain(6);
        let head = rows[5].hash.clone();
        let truncated = &rows[..4];
        assert!(verify_chain(truncated, &ChainStart::Genesis, None).is_ok());
        let err = verify_chain(truncated, &ChainStart::Genesis, Some((6, &head))).unwrap_err();
        assert!(err.to_string().contains("missing"), "{err}");
    }

    #[test]
    fn verification_can_resume_after_a_trusted_row() {
        let rows = chain(8);
        let start = ChainStart::After {
            seq: rows[4].seq,
            hash: rows[4].hash.clone(),
        };
        assert!(verify_chain(&rows[5..], &start, None).is_ok());
        assert!(verify_chain(&rows[6..], &start, None).is_err());
    }

    #[derive(Debug, Clone)]
    enum Tamper {
        Modify { row: usize, field: u8 },
        Remove { row: usize },
        Swap { a: usize, b: usize },
        Duplicate { row: usize },
    }

    fn arb_tamper(n: usize) -> impl Strategy<Value = Tamper> {
        prop_oneof![
            (0..n, 0u8..6).prop_map(|(row, field)| Tamper::Modify { row, field }),
            (0..n - 1).prop_map(|row| Tamper::Remove { row }),
            (0..n, 0..n)
                .prop_filter("distinct", |(a, b)| a != b)
                .prop_map(|(a, b)| Tamper::Swap { a, b }),
            (0..n).prop_map(|row| Tamper::Duplicate { row }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn any_tampering_is_detected(t in arb_tamper(12)) {
            let rows = chain(12);
            let mut bad = rows.clone();
            match t {
                Tamper::Modify { row, field } => {
                    let r = &mut bad[row];
                    match field {
                        0 => r.actor.push('x'),
                        1 => r.at += chrono::Duration::microseconds(1),
                        2 => r.outcome = AuditOutcome::Denied,
                        3 => r.source = None,
                        4 => r.detail = json!({"segments": 99}),
                        _ => r.member_id = Some("RET-B".into()),
                    }
                }
                Tamper::Remove { row } => { bad.remove(row); }
                Tamper::Swap { a, b } => bad.swap(a, b),
                Tamper::Duplicate { row } => { let r = bad[row].clone(); bad.insert(row, r); }
            }
            let head = rows.last().unwrap();
            prop_assert!(verify_chain(&bad, &ChainStart::Genesis, Some((head.seq, &head.hash))).is_err());
        }
    }
}
