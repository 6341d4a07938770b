//! `voltex audit verify|show`: the audit log's hash chain, read from the
//! store (or an exported JSON-lines file) and checked with the one link rule
//! of `voltex-security`. Refuses a missing store rather than creating an
//! empty one that would verify.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::SecondsFormat;
use voltex_security::audit::{AuditRecord, ChainStart, ChainSummary, verify_chain};
use voltex_server::audit::{self as server_audit, AuditError};
use voltex_store::{AuditRow, Store};

use super::read;
use crate::cmd::platform::StoreArgs;

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

pub(super) fn audit_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
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
pub(super) fn refuse_missing_store(args: &StoreArgs) -> anyhow::Result<()> {
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

#[cfg(test)]
mod tests {
    use super::super::tests::store_args;
    use super::*;
    use voltex_security::audit::{AuditEntry, AuditOutcome};
    use voltex_security::{SecurityError, Utc};
    use voltex_server::audit::append_audit_entry;

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
}
