//! `voltex ca ...`, `voltex verify-receipt` and the other security commands.
//!
//! Thin: parses arguments, calls `voltex-security`, prints. No key handling
//! or verification rule lives here. Secrets are written to files with
//! owner-only permissions and never printed.
//!
//! Here: `ca`, `verify-receipt`, `sign-declaration` ([`sign_declaration`]),
//! `efile encrypt|decrypt|keygen` ([`efile`]) and `bench security`
//! ([`bench`]). Beside it: [`audit`] (`audit verify|show` on the store's
//! chain or an exported JSON-lines file) and [`field_keys`]
//! (`field-keys generate|rotate|reencrypt|status|retire`).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use voltex_security::ca::{
    CertificateKind, DEFAULT_MEMBER_VALIDITY_DAYS, PlatformCa, RevokeReason,
};
use voltex_security::declaration::{DeclarationEnvelope, MemberKey};
use voltex_security::receipt::{Receipt, verify_receipt as verify_receipt_offline};
use voltex_security::{CaTrust, Role, SignedDeclaration, Utc, Zeroizing, file_crypto};

mod audit;
mod field_keys;

pub use audit::{AuditCommand, audit};
pub use field_keys::{FieldKeysCommand, field_keys};

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
    use crate::cmd::platform::StoreArgs;

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

    pub(super) fn store_args(dir: &Path) -> StoreArgs {
        StoreArgs {
            data_dir: dir.to_path_buf(),
            database_url: None,
        }
    }
}
