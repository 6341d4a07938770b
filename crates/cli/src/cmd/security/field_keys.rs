//! `voltex field-keys`: the at-rest encryption key ring (generate, rotate)
//! and the store's rows under it (status, re-encryption, retiring a key that
//! no row uses any more). The encryption itself is `voltex-store`'s and
//! `voltex-security`'s; this only sequences the steps of a rotation.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use voltex_security::field_crypto::{FieldKeyring, KeyPolicy};
use voltex_store::FieldKeyUsage;

use super::audit::{audit_runtime, refuse_missing_store};
use crate::cmd::platform::StoreArgs;

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
            let usage = stored_key_usage(&store)?;
            print!("{}", format_key_usage(&usage));
        }
        FieldKeysCommand::Retire {
            file,
            key_id,
            store,
        } => {
            let mut ring = FieldKeyring::load(&file, KeyPolicy::Production)?;
            let usage = stored_key_usage(&store)?;
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

/// Rows of each sensitive table by key id, read without a key; a missing
/// store is refused rather than created.
fn stored_key_usage(store: &StoreArgs) -> anyhow::Result<Vec<FieldKeyUsage>> {
    audit_runtime()?.block_on(async {
        refuse_missing_store(store)?;
        let s = store.open_with_keys(None).await?;
        let usage = s.field_key_usage().await;
        s.close().await;
        anyhow::Ok(usage?)
    })
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

#[cfg(test)]
mod tests {
    use super::super::tests::store_args;
    use super::*;
    use voltex_store::Store;

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
