//! `voltex ca ...`, `voltex verify-receipt` and the other security commands.
//!
//! Thin: parses arguments, calls `voltex-security`, prints. No key handling
//! or verification rule lives here. Secrets are written to files with
//! owner-only permissions and never printed.
//!
//! Wired in `main.rs`: `ca` and `verify-receipt`. Also provided for wiring:
//! `sign-declaration` ([`sign_declaration`]), `efile encrypt|decrypt|keygen`
//! ([`efile`]), `audit verify|show` on the store's chain or an exported
//! JSON-lines file ([`audit`]),
//! `field-keys generate|rotate|reencrypt|status|retire` ([`field_keys`]) and
//! `bench security`
//! ([`bench`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use chrono::SecondsFormat;
use voltex_security::audit::{AuditRecord, ChainStart, ChainSummary, verify_chain};
use voltex_security::ca::{
    CertificateKind, DEFAULT_MEMBER_VALIDITY_DAYS, PlatformCa, RevokeReason,
};
use voltex_security::declaration::{DeclarationEnvelope, MemberKey};
use voltex_security::field_crypto::{FieldKeyring, KeyPolicy};
use voltex_security::receipt::{Receipt, verify_receipt as verify_receipt_offline};
use voltex_security::{CaTrust, Role, SignedDeclaration, Utc, Zeroizing, file_crypto};
use voltex_server::audit::{self as server_audit, AuditError};
use voltex_store::{AuditRow, FieldKeyUsage, Store};

use super::platform::StoreArgs;

/// Sub-commands of `voltex ca`.
#[derive(Debug, clap::Subcommand)]
pub enum CaCommand {
    /// Create the platform certificate authority (key, certificate, seal, revocation list).
    Init {
        /// Directory for the CA (created with owner-only permissions; must not hold a CA).
        #[arg(long)]
        dir: PathBuf,
        /// Name of the platform, written into the CA certificate.
        #[arg(long, default_value = "Voltex")]
        name: String,
    },
    /// Issue a member certificate and a fresh key for the member to keep.
    Issue {
        #[arg(long)]
        dir: PathBuf,
        /// Member id (letters, digits, '.', '_', '-').
        #[arg(long)]
        member: String,
        /// Role bound into the certificate.
        #[arg(long, default_value = "member-trader")]
        role: String,
        /// Validity in days (1 to 825).
        #[arg(long, default_value_t = DEFAULT_MEMBER_VALIDITY_DAYS)]
        days: u32,
        /// Where to write member.key.pem, member.cert.pem and ca.cert.pem
        /// (default DIR/issued/<member>-<serial>).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Revoke a certificate (by serial) or every active certificate of a member.
    Revoke {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long, conflicts_with = "member", required_unless_present = "member")]
        serial: Option<String>,
        #[arg(long)]
        member: Option<String>,
        /// unspecified, key-compromise, affiliation-changed, superseded,
        /// cessation-of-operation or privilege-withdrawn.
        #[arg(long, default_value = "unspecified")]
        reason: String,
    },
    /// List issued certificates and their state.
    List {
        #[arg(long)]
        dir: PathBuf,
    },
    /// Re-sign and publish the revocation list (do this at least weekly).
    PublishCrl {
        #[arg(long)]
        dir: PathBuf,
    },
    /// Verify a member certificate against the CA, expiry and revocation.
    Verify {
        /// CA directory (only the public files ca.cert.pem and crl.pem are read).
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        cert: PathBuf,
    },
}

pub fn ca(command: CaCommand) -> anyhow::Result<()> {
    let now = Utc::now();
    match command {
        CaCommand::Init { dir, name } => {
            let ca = PlatformCa::init(&dir, &name, now)?;
            println!("created platform CA in {}", ca.dir().display());
            println!("  ca.key.pem, seal.key.pem: secret (mode 0600) — back them up offline");
            println!("  ca.cert.pem, crl.pem: public — give them to members and verifiers");
        }
        CaCommand::Issue {
            dir,
            member,
            role,
            days,
            out,
        } => {
            let role: Role = role.parse()?;
            let mut ca = PlatformCa::open(&dir)?;
            let cred = ca.issue_member(&member, role, days, now)?;
            let out = out.unwrap_or_else(|| {
                dir.join("issued")
                    .join(format!("{member}-{}", &cred.serial[..12]))
            });
            cred.write_to(&out)?;
            println!(
                "issued certificate {} to member {} as {} (expires {})",
                cred.serial,
                cred.member_id,
                cred.role,
                cred.not_after.format("%Y-%m-%d %H:%M UTC")
            );
            println!(
                "  key and certificate written to {} — hand them to the member over a secure channel and delete this copy",
                out.display()
            );
        }
        CaCommand::Revoke {
            dir,
            serial,
            member,
            reason,
        } => {
            let reason: RevokeReason = reason.parse()?;
            let mut ca = PlatformCa::open(&dir)?;
            let serials = match (serial, member) {
                (Some(s), _) => {
                    ca.revoke(&s, reason, now)?;
                    vec![s]
                }
                (None, Some(m)) => ca.revoke_member(&m, reason, now)?,
                (None, None) => bail!("give --serial or --member"),
            };
            for s in &serials {
                println!("revoked {s} ({})", reason.as_str());
            }
            println!(
                "published revocation list #{} to {}",
                ca.register().crl_number,
                dir.join(voltex_security::ca::CRL_FILE).display()
            );
        }
        CaCommand::List { dir } => {
            let ca = PlatformCa::open(&dir)?;
            print!("{}", format_register(&ca, now));
        }
        CaCommand::PublishCrl { dir } => {
            let mut ca = PlatformCa::open(&dir)?;
            ca.publish_crl(now)?;
            println!(
                "published revocation list #{} (valid {} days)",
                ca.register().crl_number,
                voltex_security::ca::CRL_VALIDITY_DAYS
            );
        }
        CaCommand::Verify { dir, cert } => {
            let trust = CaTrust::load(&dir)?;
            let pem = read(&cert)?;
            let v = trust.verify_member_certificate(&pem, now)?;
            println!(
                "valid: member {} role {} serial {} until {}",
                v.member_id,
                v.role,
                v.serial,
                v.not_after.format("%Y-%m-%d %H:%M UTC")
            );
        }
    }
    Ok(())
}

fn format_register(ca: &PlatformCa, now: voltex_security::DateTime<Utc>) -> String {
    let mut s = format!(
        "{:<32}  {:<14}  {:<12}  {:<20}  {:<10}  {}\n",
        "serial", "member", "kind", "role", "state", "expires"
    );
    for c in &ca.register().certificates {
        let state = if c.revoked_at.is_some() {
            "revoked"
        } else if now > c.not_after {
            "expired"
        } else {
            "active"
        };
        let kind = match c.kind {
            CertificateKind::Member => "member",
            CertificateKind::PlatformSeal => "seal",
        };
        s.push_str(&format!(
            "{:<32}  {:<14}  {:<12}  {:<20}  {:<10}  {}\n",
            c.serial,
            c.member_id,
            kind,
            c.role.map(|r| r.as_str()).unwrap_or("-"),
            state,
            c.not_after.format("%Y-%m-%d")
        ));
    }
    s
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Arguments of `voltex verify-receipt`.
#[derive(Debug, clap::Args)]
pub struct VerifyReceiptArgs {
    /// Receipt JSON as returned by the platform.
    #[arg(long)]
    pub receipt: PathBuf,
    /// Directory holding the platform's public ca.cert.pem and crl.pem.
    #[arg(long)]
    pub ca: PathBuf,
    /// The signed declaration JSON, to check it is the one the receipt acknowledges.
    #[arg(long)]
    pub declaration: Option<PathBuf>,
}

pub fn verify_receipt(args: VerifyReceiptArgs) -> anyhow::Result<()> {
    let report = verify_receipt_report(&args)?;
    println!("{report}");
    Ok(())
}

/// The text `voltex verify-receipt` prints on success.
pub fn verify_receipt_report(args: &VerifyReceiptArgs) -> anyhow::Result<String> {
    let trust = CaTrust::load(&args.ca)?;
    let receipt = Receipt::from_json(&read(&args.receipt)?)
        .with_context(|| format!("reading receipt {}", args.receipt.display()))?;
    let declaration = match &args.declaration {
        Some(p) => Some(
            SignedDeclaration::from_json(&read(p)?)
                .with_context(|| format!("reading declaration {}", p.display()))?,
        ),
        None => None,
    };
    let check = verify_receipt_offline(&receipt, &trust, declaration.as_ref())
        .context("receipt verification FAILED")?;
    let mut s = format!(
        "receipt {} is valid\n  member       {}\n  declaration  {} version {}\n  sha256       {}\n  sealed at    {}\n  seal cert    {}\n  member cert  {} ({})",
        check.receipt_id,
        check.member_id,
        check.declaration_id,
        check.version,
        check.declaration_sha256,
        check.sealed_at.to_rfc3339(),
        check.seal_serial,
        check.member_certificate.serial,
        check.member_certificate.role
    );
    if check.declaration_matched {
        s.push_str("\n  declaration  matches the receipt and carries the member's valid signature");
    } else {
        s.push_str("\n  declaration  not checked (pass --declaration FILE)");
    }
    Ok(s)
}

/// Arguments of `voltex sign-declaration` (member side).
#[derive(Debug, clap::Args)]
pub struct SignDeclarationArgs {
    /// Member private key (member.key.pem).
    #[arg(long)]
    pub key: PathBuf,
    /// Member certificate (member.cert.pem); its serial is recorded.
    #[arg(long)]
    pub cert: PathBuf,
    #[arg(long)]
    pub member: String,
    #[arg(long)]
    pub id: String,
    #[arg(long, default_value_t = 1)]
    pub version: u32,
    /// The declaration body (JSON).
    #[arg(long)]
    pub body: PathBuf,
    /// Output file for the signed declaration.
    #[arg(long)]
    pub out: PathBuf,
}

pub fn sign_declaration(args: SignDeclarationArgs) -> anyhow::Result<()> {
    let key = MemberKey::load(&args.key)?;
    let cert_pem = read(&args.cert)?;
    let serial = voltex_security::trust::certificate_serial(&cert_pem)?;
    let body = voltex_security::canonical::parse_strict(&read(&args.body)?)
        .with_context(|| format!("reading {}", args.body.display()))?;
    let signed = key.sign(
        DeclarationEnvelope::new(&args.member, &args.id, args.version, body),
        &serial,
    )?;
    std::fs::write(&args.out, serde_json::to_string_pretty(&signed)?)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    println!(
        "signed declaration {} v{} for {} (sha256 {}) -> {}",
        args.id,
        args.version,
        args.member,
        signed.envelope.sha256_hex()?,
        args.out.display()
    );
    Ok(())
}

/// Sub-commands of `voltex efile`.
#[derive(Debug, clap::Subcommand)]
pub enum EfileCommand {
    /// Generate a receiver key pair: the identity file stays with the receiver,
    /// the printed public key (age1…) goes to senders.
    Keygen {
        #[arg(long)]
        out: PathBuf,
    },
    /// Encrypt a file to the receiver's public key(s).
    Encrypt {
        #[arg(long = "recipient", required = true)]
        recipients: Vec<String>,
        #[arg(long)]
        input: PathBuf,
        #[arg(long)]
        out: PathBuf,
        /// ASCII armor (PEM-like text) instead of binary.
        #[arg(long)]
        armor: bool,
    },
    /// Decrypt a file with the receiver's identity file.
    Decrypt {
        #[arg(long)]
        identity: PathBuf,
        #[arg(long)]
        input: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
}

pub fn efile(command: EfileCommand) -> anyhow::Result<()> {
    match command {
        EfileCommand::Keygen { out } => {
            voltex_security::secret_files::refuse_overwrite(&out, "an identity file")?;
            let (identity, public) = file_crypto::generate_identity(&Utc::now().to_rfc3339());
            voltex_security::secret_files::write_secret(&out, identity.as_bytes())?;
            println!("{public}");
            eprintln!("identity written to {} (mode 0600)", out.display());
        }
        EfileCommand::Encrypt {
            recipients,
            input,
            out,
            armor,
        } => {
            let plain = std::fs::read(&input)
                .with_context(|| format!("cannot read {}", input.display()))?;
            let refs: Vec<&str> = recipients.iter().map(String::as_str).collect();
            let ct = file_crypto::encrypt(&refs, &plain, armor)?;
            std::fs::write(&out, ct).with_context(|| format!("cannot write {}", out.display()))?;
            println!("encrypted {} -> {}", input.display(), out.display());
        }
        EfileCommand::Decrypt {
            identity,
            input,
            out,
        } => {
            let id = Zeroizing::new(read(&identity)?);
            let ct = std::fs::read(&input)
                .with_context(|| format!("cannot read {}", input.display()))?;
            let plain = file_crypto::decrypt(&id, &ct)?;
            std::fs::write(&out, plain.as_slice())
                .with_context(|| format!("cannot write {}", out.display()))?;
            println!("decrypted {} -> {}", input.display(), out.display());
        }
    }
    Ok(())
}

/// Sub-commands of `voltex audit`.
#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Verify the audit hash chain stored in the database (or, with --jsonl,
    /// an exported file): every hash, link and sequence number. Prints the
    /// head to record elsewhere; fails at the first modified, removed or
    /// reordered row.
    Verify {
        /// Verify an exported chain (JSON lines, one record per line, in
        /// order) instead of the store.
        #[arg(long)]
        jsonl: Option<PathBuf>,
        /// Sequence number of a head recorded earlier (detects truncation).
        #[arg(long, requires = "head_hash")]
        head_seq: Option<u64>,
        #[arg(long, requires = "head_seq")]
        head_hash: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Print the last rows of the stored audit log (not verified: run `verify`).
    Show {
        /// How many rows, newest last.
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(i64).range(1..))]
        limit: i64,
        #[command(flatten)]
        store: StoreArgs,
    },
}

pub fn audit(command: AuditCommand) -> anyhow::Result<()> {
    match command {
        AuditCommand::Verify {
            jsonl,
            head_seq,
            head_hash,
            store,
        } => {
            let head = head_seq.zip(head_hash.as_deref());
            let summary = match jsonl {
                Some(jsonl) => verify_chain(&read_jsonl(&jsonl)?, &ChainStart::Genesis, head)
                    .map_err(anyhow::Error::from),
                None => audit_runtime()?.block_on(async {
                    let store = open_audit_store(&store).await?;
                    let summary = verify_stored_chain(&store, head).await;
                    store.close().await;
                    summary
                }),
            }
            .context("audit chain verification FAILED")?;
            println!(
                "audit chain OK: {} records, head {}",
                summary.rows, summary.head_hash
            );
        }
        AuditCommand::Show { limit, store } => {
            let rows = audit_runtime()?.block_on(async {
                let store = open_audit_store(&store).await?;
                let rows = store.audit_tail(limit).await;
                store.close().await;
                anyhow::Ok(rows?)
            })?;
            print!("{}", format_audit_rows(&rows));
        }
    }
    Ok(())
}

fn read_jsonl(path: &Path) -> anyhow::Result<Vec<AuditRecord>> {
    read(path)?
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str::<AuditRecord>(l)
                .with_context(|| format!("{} line {}", path.display(), i + 1))
        })
        .collect()
}

fn audit_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Opens the store the way `serve` does, but refuses to create an empty
/// SQLite store: a mistyped data directory must not verify as an empty log.
async fn open_audit_store(args: &StoreArgs) -> anyhow::Result<Store> {
    refuse_missing_store(args)?;
    args.open().await
}

/// A mistyped data directory must not be created (and then found empty).
fn refuse_missing_store(args: &StoreArgs) -> anyhow::Result<()> {
    let url_set = args.database_url.as_deref().is_some_and(|u| !u.is_empty());
    let file = args.data_dir.join("voltex.db");
    if !url_set && !file.exists() {
        bail!(
            "no store at {} (give --data-dir, or --database-url for PostgreSQL)",
            file.display()
        );
    }
    Ok(())
}

/// Reads the whole stored chain in `seq` order and verifies it (see
/// [`voltex_server::audit::verify_stored_chain`]). A broken chain is a
/// [`voltex_security::SecurityError::AuditChainBroken`] naming the first row
/// where it breaks.
pub async fn verify_stored_chain(
    store: &Store,
    expected_head: Option<(u64, &str)>,
) -> anyhow::Result<ChainSummary> {
    server_audit::verify_stored_chain(store, expected_head)
        .await
        .map_err(|e| match e {
            AuditError::Security(e) => anyhow::Error::from(e),
            other => anyhow::Error::from(other).context("reading the audit log"),
        })
}

/// The table `voltex audit show` prints.
fn format_audit_rows(rows: &[AuditRow]) -> String {
    if rows.is_empty() {
        return "audit log is empty\n".into();
    }
    let mut s = format!(
        "{:>8}  {:<27}  {:<16}  {:<24}  {:<32}  {}\n",
        "seq", "at", "actor", "action", "target", "outcome"
    );
    for r in rows {
        s.push_str(&format!(
            "{:>8}  {:<27}  {:<16}  {:<24}  {:<32}  {}\n",
            r.seq,
            r.at.to_rfc3339_opts(SecondsFormat::Micros, true),
            r.actor,
            r.action,
            r.target,
            r.outcome
        ));
    }
    s
}

/// Sub-commands of `voltex field-keys` (at-rest encryption key ring).
#[derive(Debug, clap::Subcommand)]
pub enum FieldKeysCommand {
    /// Create a key file with one random active key.
    Generate {
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        key_id: String,
    },
    /// Add a new random key and make it active (old keys stay for decryption).
    Rotate {
        #[arg(long)]
        file: PathBuf,
        #[arg(long)]
        new_key_id: String,
    },
    /// Re-encrypt every sensitive row of the store under the key ring's
    /// active key; rows written before encryption was turned on are
    /// encrypted. Run after `rotate` (and after restarting the server with the
    /// rotated ring), then `retire` the old key. Safe to repeat.
    Reencrypt {
        /// Key file (default: VOLTEX_FIELD_KEYS_FILE, or the JSON in VOLTEX_FIELD_KEYS).
        #[arg(long)]
        file: Option<PathBuf>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Count the rows of each sensitive table by key id (or plaintext); needs no key.
    Status {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Remove an old key from the key file, after checking that no row of the
    /// store still uses it.
    Retire {
        #[arg(long)]
        file: PathBuf,
        #[arg(long)]
        key_id: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

pub fn field_keys(command: FieldKeysCommand) -> anyhow::Result<()> {
    match command {
        FieldKeysCommand::Generate { out, key_id } => {
            voltex_security::secret_files::refuse_overwrite(&out, "a key file")?;
            FieldKeyring::generate(&key_id)?.save(&out)?;
            println!(
                "wrote key ring with active key `{key_id}` to {} (mode 0600)",
                out.display()
            );
        }
        FieldKeysCommand::Rotate { file, new_key_id } => {
            let mut ring = FieldKeyring::load(&file, KeyPolicy::Production)?;
            ring.rotate(&new_key_id)?;
            ring.save(&file)?;
            println!(
                "active key is now `{new_key_id}`; keys in ring: {}; re-encrypt stored fields, then retire old keys",
                ring.key_ids().collect::<Vec<_>>().join(", ")
            );
        }
        FieldKeysCommand::Reencrypt { file, store } => {
            let ring = match &file {
                Some(f) => FieldKeyring::load(f, KeyPolicy::Production),
                None => FieldKeyring::from_env(KeyPolicy::Production),
            }
            .context("loading the field key ring")?;
            let active = ring.active_key_id().to_owned();
            let (counts, usage) = audit_runtime()?.block_on(async {
                refuse_missing_store(&store)?;
                let s = store.open_with_keys(Some(Arc::new(ring))).await?;
                let counts = s.reencrypt_sensitive().await;
                let usage = s.field_key_usage().await;
                s.close().await;
                anyhow::Ok((
                    counts.context("re-encryption stopped")?,
                    usage.context("counting rows by key")?,
                ))
            })?;
            for c in &counts {
                println!(
                    "{:<24} {:>8} encrypted from plaintext {:>8} re-keyed {:>8} already under `{active}`",
                    c.table, c.encrypted, c.rekeyed, c.unchanged
                );
            }
            print!("{}", format_key_usage(&usage));
            println!(
                "every sensitive row is under `{active}`; older keys can be retired: voltex field-keys retire --file FILE --key-id ID"
            );
        }
        FieldKeysCommand::Status { store } => {
            let usage = audit_runtime()?.block_on(async {
                refuse_missing_store(&store)?;
                let s = store.open_with_keys(None).await?;
                let usage = s.field_key_usage().await;
                s.close().await;
                anyhow::Ok(usage?)
            })?;
            print!("{}", format_key_usage(&usage));
        }
        FieldKeysCommand::Retire {
            file,
            key_id,
            store,
        } => {
            let mut ring = FieldKeyring::load(&file, KeyPolicy::Production)?;
            let usage = audit_runtime()?.block_on(async {
                refuse_missing_store(&store)?;
                let s = store.open_with_keys(None).await?;
                let usage = s.field_key_usage().await;
                s.close().await;
                anyhow::Ok(usage?)
            })?;
            let in_use: Vec<String> = usage
                .iter()
                .filter_map(|u| u.by_key.get(&key_id).map(|n| format!("{} {n}", u.table)))
                .collect();
            if !in_use.is_empty() {
                bail!(
                    "key `{key_id}` still encrypts stored rows ({}): run `voltex field-keys reencrypt` first",
                    in_use.join(", ")
                );
            }
            ring.retire(&key_id)?;
            ring.save(&file)?;
            println!(
                "retired key `{key_id}`; keys in ring: {} (restart the server so it drops the old key too)",
                ring.key_ids().collect::<Vec<_>>().join(", ")
            );
        }
    }
    Ok(())
}

/// The table `field-keys status` and `reencrypt` print.
fn format_key_usage(usage: &[FieldKeyUsage]) -> String {
    let mut s = String::from("rows by encryption key:\n");
    for u in usage {
        let mut parts: Vec<String> = u.by_key.iter().map(|(k, n)| format!("`{k}` {n}")).collect();
        if u.plaintext > 0 {
            parts.push(format!("plaintext {}", u.plaintext));
        }
        if parts.is_empty() {
            parts.push("empty".into());
        }
        s.push_str(&format!("  {:<24} {}\n", u.table, parts.join(", ")));
    }
    s
}

/// Arguments of `voltex bench security`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Repetitions of each measured step.
    #[arg(long, default_value_t = 2000)]
    pub iterations: u32,
    /// Also write the report as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

pub fn bench(args: BenchArgs) -> anyhow::Result<()> {
    let report = voltex_security::bench::run_signature_bench(args.iterations)?;
    println!("{report}");
    if let Some(p) = args.json {
        std::fs::write(&p, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("cannot write {}", p.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use voltex_security::SecurityError;
    use voltex_security::audit::{AuditEntry, AuditOutcome};
    use voltex_server::audit::append_audit_entry;

    fn issue(dir: &Path, member: &str, out: &Path) {
        ca(CaCommand::Issue {
            dir: dir.to_path_buf(),
            member: member.into(),
            role: "member-trader".into(),
            days: 30,
            out: Some(out.to_path_buf()),
        })
        .unwrap();
    }

    #[test]
    fn ca_init_issue_sign_seal_and_verify_receipt_from_files() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("ca");
        ca(CaCommand::Init {
            dir: dir.clone(),
            name: "test".into(),
        })
        .unwrap();
        let member_dir = tmp.path().join("gen-a");
        issue(&dir, "GEN-A", &member_dir);
        ca(CaCommand::Verify {
            dir: dir.clone(),
            cert: member_dir.join("member.cert.pem"),
        })
        .unwrap();

        let body = tmp.path().join("offer.json");
        std::fs::write(&body, r#"{"unit_id":"GEN-A-U1","price_per_mwh":42.5}"#).unwrap();
        let signed_path = tmp.path().join("signed.json");
        sign_declaration(SignDeclarationArgs {
            key: member_dir.join("member.key.pem"),
            cert: member_dir.join("member.cert.pem"),
            member: "GEN-A".into(),
            id: "D-1".into(),
            version: 1,
            body,
            out: signed_path.clone(),
        })
        .unwrap();

        // what the server does on receipt of the declaration
        let trust = CaTrust::load(&dir).unwrap();
        let cert_pem = std::fs::read_to_string(member_dir.join("member.cert.pem")).unwrap();
        let cert = trust
            .verify_member_certificate(&cert_pem, Utc::now())
            .unwrap();
        let signed =
            SignedDeclaration::from_json(&std::fs::read_to_string(&signed_path).unwrap()).unwrap();
        let verified =
            voltex_security::declaration::verify_declaration(&signed, &cert, &cert_pem).unwrap();
        let receipt = voltex_security::PlatformSeal::load(&dir)
            .unwrap()
            .seal(&verified, Utc::now())
            .unwrap();
        let receipt_path = tmp.path().join("receipt.json");
        std::fs::write(&receipt_path, receipt.to_json_pretty()).unwrap();

        let args = VerifyReceiptArgs {
            receipt: receipt_path.clone(),
            ca: dir.clone(),
            declaration: Some(signed_path.clone()),
        };
        let report = verify_receipt_report(&args).unwrap();
        assert!(
            report.contains("is valid") && report.contains("matches the receipt"),
            "{report}"
        );

        // tamper with the declaration file: verification fails
        let text = std::fs::read_to_string(&signed_path)
            .unwrap()
            .replace("42.5", "4.25");
        std::fs::write(&signed_path, text).unwrap();
        assert!(verify_receipt_report(&args).is_err());
        // tamper with the receipt file: verification fails
        let text = std::fs::read_to_string(&receipt_path)
            .unwrap()
            .replace("\"D-1\"", "\"D-2\"");
        std::fs::write(&receipt_path, text).unwrap();
        let args = VerifyReceiptArgs {
            declaration: None,
            ..args
        };
        assert!(verify_receipt_report(&args).is_err());
    }

    #[test]
    fn revoke_by_member_and_list_show_the_state() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("ca");
        ca(CaCommand::Init {
            dir: dir.clone(),
            name: "t".into(),
        })
        .unwrap();
        issue(&dir, "RET-B", &tmp.path().join("b"));
        ca(CaCommand::Revoke {
            dir: dir.clone(),
            serial: None,
            member: Some("RET-B".into()),
            reason: "key-compromise".into(),
        })
        .unwrap();
        let listing = format_register(&PlatformCa::open(&dir).unwrap(), Utc::now());
        assert!(
            listing
                .lines()
                .any(|l| l.contains("RET-B") && l.contains("revoked")),
            "{listing}"
        );
        assert!(
            listing
                .lines()
                .any(|l| l.contains("seal") && l.contains("active"))
        );
        assert!(
            ca(CaCommand::Verify {
                dir: dir.clone(),
                cert: tmp.path().join("b/member.cert.pem"),
            })
            .is_err()
        );
    }

    #[test]
    fn efile_round_trip_through_files() {
        let tmp = tempfile::tempdir().unwrap();
        let id = tmp.path().join("receiver.key");
        efile(EfileCommand::Keygen { out: id.clone() }).unwrap();
        let public = file_crypto::recipients_of(&std::fs::read_to_string(&id).unwrap())
            .unwrap()
            .remove(0);
        let input = tmp.path().join("result.e");
        std::fs::write(&input, "<Result::GEN-A>\n# 1 42.5\n</Result::GEN-A>\n").unwrap();
        let enc = tmp.path().join("result.e.age");
        efile(EfileCommand::Encrypt {
            recipients: vec![public],
            input: input.clone(),
            out: enc.clone(),
            armor: true,
        })
        .unwrap();
        let dec = tmp.path().join("result.out");
        efile(EfileCommand::Decrypt {
            identity: id,
            input: enc,
            out: dec.clone(),
        })
        .unwrap();
        assert_eq!(std::fs::read(input).unwrap(), std::fs::read(dec).unwrap());
    }

    #[test]
    fn audit_verify_reads_json_lines_and_detects_edits() {
        use voltex_security::audit::append;
        let mut rows: Vec<AuditRecord> = Vec::new();
        for i in 0..4 {
            let r = append(
                rows.last(),
                AuditEntry {
                    at: Utc::now(),
                    actor: "op".into(),
                    role: Some("operator".into()),
                    member_id: None,
                    action: "session.open".into(),
                    target: format!("session/{i}"),
                    source: Some("127.0.0.1".into()),
                    outcome: AuditOutcome::Success,
                    detail: serde_json::json!({}),
                },
            )
            .unwrap();
            rows.push(r);
        }
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("audit.jsonl");
        let lines: Vec<String> = rows
            .iter()
            .map(|r| serde_json::to_string(r).unwrap())
            .collect();
        std::fs::write(&path, lines.join("\n")).unwrap();
        let verify = || {
            audit(AuditCommand::Verify {
                jsonl: Some(path.clone()),
                head_seq: None,
                head_hash: None,
                store: store_args(tmp.path()),
            })
        };
        verify().unwrap();
        std::fs::write(&path, lines.join("\n").replace("session/2", "session/9")).unwrap();
        assert!(verify().is_err());
    }

    fn store_args(dir: &Path) -> StoreArgs {
        StoreArgs {
            data_dir: dir.to_path_buf(),
            database_url: None,
        }
    }

    fn entry(i: usize) -> AuditEntry {
        AuditEntry {
            at: Utc::now(),
            actor: format!("op{i}"),
            role: Some("operator".into()),
            member_id: None,
            action: "session.open".into(),
            target: format!("session/{i}"),
            source: Some("127.0.0.1".into()),
            outcome: AuditOutcome::Success,
            detail: serde_json::json!({"i": i}),
        }
    }

    fn broken_at(e: &anyhow::Error) -> Option<u64> {
        match e.downcast_ref::<SecurityError>() {
            Some(SecurityError::AuditChainBroken { seq, .. }) => Some(*seq),
            _ => None,
        }
    }

    #[test]
    fn audit_verify_and_show_read_the_stored_chain_and_name_the_tampered_row() {
        let tmp = tempfile::tempdir().unwrap();
        let rt = audit_runtime().unwrap();
        let store = rt.block_on(Store::open_sqlite_dir(tmp.path())).unwrap();
        let mut head = None;
        for i in 0..6 {
            head = Some(rt.block_on(append_audit_entry(&store, entry(i))).unwrap());
        }
        let head = head.unwrap();
        assert_eq!(head.seq, 6);
        let summary = rt.block_on(verify_stored_chain(&store, None)).unwrap();
        assert_eq!((summary.rows, &summary.head_hash), (6, &head.hash));
        let verify = |head_seq: Option<u64>| {
            audit(AuditCommand::Verify {
                jsonl: None,
                head_seq,
                head_hash: head_seq.map(|_| head.hash.clone()),
                store: store_args(tmp.path()),
            })
        };
        verify(Some(6)).unwrap();
        audit(AuditCommand::Show {
            limit: 3,
            store: store_args(tmp.path()),
        })
        .unwrap();
        let listing = format_audit_rows(&rt.block_on(store.audit_tail(2)).unwrap());
        assert_eq!(listing.lines().count(), 3, "{listing}");
        assert!(
            listing.lines().nth(2).unwrap().contains("op5")
                && listing.contains("session/5")
                && listing.contains("success"),
            "{listing}"
        );

        // a row edited only in its column, where `show` would display it
        rt.block_on(store.raw_execute("UPDATE audit_log SET actor = 'root' WHERE seq = 2"))
            .unwrap();
        let e = rt.block_on(verify_stored_chain(&store, None)).unwrap_err();
        assert_eq!(broken_at(&e), Some(2), "{e:#}");
        assert!(format!("{e:#}").contains("actor"), "{e:#}");
        rt.block_on(store.raw_execute("UPDATE audit_log SET actor = 'op1' WHERE seq = 2"))
            .unwrap();
        verify(None).unwrap();

        // a removed middle row, then a removed last row (against the recorded head)
        rt.block_on(store.raw_execute("DELETE FROM audit_log WHERE seq = 6"))
            .unwrap();
        verify(None).unwrap();
        let e = verify(Some(6)).unwrap_err();
        assert!(
            format!("{e:#}").contains("row 6") && format!("{e:#}").contains("missing"),
            "{e:#}"
        );
        rt.block_on(store.raw_execute("DELETE FROM audit_log WHERE seq = 3"))
            .unwrap();
        let e = rt.block_on(verify_stored_chain(&store, None)).unwrap_err();
        assert_eq!(broken_at(&e), Some(4), "{e:#}");
        assert!(verify(None).is_err());
        rt.block_on(store.close());
    }

    #[test]
    fn audit_verify_refuses_a_missing_store_instead_of_creating_one() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("typo");
        let e = audit(AuditCommand::Verify {
            jsonl: None,
            head_seq: None,
            head_hash: None,
            store: store_args(&dir),
        })
        .unwrap_err();
        assert!(format!("{e:#}").contains("no store at"), "{e:#}");
        assert!(!dir.exists());
    }

    #[test]
    fn field_keys_generate_and_rotate() {
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("keys.json");
        field_keys(FieldKeysCommand::Generate {
            out: f.clone(),
            key_id: "k1".into(),
        })
        .unwrap();
        field_keys(FieldKeysCommand::Rotate {
            file: f.clone(),
            new_key_id: "k2".into(),
        })
        .unwrap();
        let ring = FieldKeyring::load(&f, KeyPolicy::Production).unwrap();
        assert_eq!(ring.active_key_id(), "k2");
        assert_eq!(ring.key_ids().count(), 2);
    }

    #[test]
    fn field_keys_reencrypt_then_retire_on_a_store() {
        use voltex_model::*;
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("keys.json");
        let data = tmp.path().join("data");
        field_keys(FieldKeysCommand::Generate {
            out: f.clone(),
            key_id: "k1".into(),
        })
        .unwrap();
        let offer = DeclarationBody::EnergyOffer {
            unit_id: "u1".into(),
            intervals: vec![
                EnergyOfferInterval {
                    segments: vec![OfferSegment {
                        quantity_mw: 50.0,
                        price: 4321.987,
                    }],
                };
                96
            ],
        };
        let rt = audit_runtime().unwrap();
        let ring = || Arc::new(FieldKeyring::load(&f, KeyPolicy::Production).unwrap());
        let key = rt.block_on(async {
            let s = Store::open_sqlite_dir(&data).await.unwrap();
            // One row from before encryption was on, one under k1.
            let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
            let mut session = MarketSession::new(MarketKind::DayAheadEnergy, day);
            s.insert(&session).await.unwrap();
            session.transition(SessionState::Open).unwrap();
            s.append(&session, 1).await.unwrap();
            s.append_declaration(&session.id, 2, "gen1", &offer)
                .await
                .unwrap();
            let d = s
                .clone()
                .with_field_keys(ring())
                .append_declaration(&session.id, 2, "gen1", &offer)
                .await
                .unwrap();
            s.close().await;
            d.key
        });
        field_keys(FieldKeysCommand::Rotate {
            file: f.clone(),
            new_key_id: "k2".into(),
        })
        .unwrap();
        let retire = || {
            field_keys(FieldKeysCommand::Retire {
                file: f.clone(),
                key_id: "k1".into(),
                store: store_args(&data),
            })
        };
        let e = retire().unwrap_err();
        assert!(
            format!("{e:#}").contains("declarations 1") && format!("{e:#}").contains("reencrypt"),
            "{e:#}"
        );
        field_keys(FieldKeysCommand::Status {
            store: store_args(&data),
        })
        .unwrap();
        field_keys(FieldKeysCommand::Reencrypt {
            file: Some(f.clone()),
            store: store_args(&data),
        })
        .unwrap();
        retire().unwrap();
        let ring = ring();
        assert_eq!(ring.key_ids().collect::<Vec<_>>(), ["k2"]);
        rt.block_on(async {
            let s = Store::open_sqlite_dir(&data)
                .await
                .unwrap()
                .with_field_keys(ring);
            let bodies = s
                .raw_strings("SELECT body FROM declarations")
                .await
                .unwrap();
            assert_eq!(bodies.len(), 2);
            assert!(
                bodies.iter().all(|b| b.starts_with("vxf1.k2.")),
                "{bodies:?}"
            );
            let history = s.declaration_history(&key).await.unwrap();
            assert!(history.iter().all(|d| d.body == offer));
            s.close().await;
        });
        // A mistyped store is refused, not created.
        let e = field_keys(FieldKeysCommand::Status {
            store: store_args(&tmp.path().join("typo")),
        })
        .unwrap_err();
        assert!(format!("{e:#}").contains("no store at"), "{e:#}");
    }
}
