//! The lost check, run on the store after the server has stopped: every
//! declaration version whose receipt the client received is stored, with
//! its signature record (`<key>#<version>`) holding the identical receipt.
//! With `whole`, also that no declaration version lacks its signature record
//! and no signature record lacks its version (nothing half-written), and
//! that the audit chain verifies.
use crate::Result;
use crate::load::Acknowledged;
use std::collections::BTreeSet;
use voltex_server::signing::DeclarationSignature;
use voltex_store::Store;

/// What the store check found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreCheck {
    /// Acknowledged versions missing, or stored with another receipt.
    pub lost: u64,
    /// Declaration versions without a signature record, plus signature
    /// records without their version (only counted with `whole`).
    pub half_written: u64,
    /// Audit rows verified (only with `whole`).
    pub audit_rows: usize,
}

/// Checks `acknowledged` against `store` (see the module's description).
/// A broken audit chain is an error naming the row.
pub async fn check_store(
    store: &Store,
    acknowledged: &[Acknowledged],
    whole: bool,
) -> Result<StoreCheck> {
    let mut check = StoreCheck::default();
    for a in acknowledged {
        let stored = store.declaration_version(&a.key, a.version).await?;
        let signature = store
            .get::<DeclarationSignature>(&DeclarationSignature::record_id(&a.key, a.version))
            .await?;
        let intact = stored.is_some() && signature.is_some_and(|s| s.value.receipt == a.receipt);
        if !intact {
            check.lost += 1;
        }
    }
    if whole {
        let mut versions = BTreeSet::new();
        for session in store.list::<voltex_model::MarketSession>().await? {
            for d in store.session_declaration_versions(&session.id).await? {
                versions.insert((d.key, d.version));
            }
        }
        let signed: BTreeSet<(String, i64)> = store
            .list::<DeclarationSignature>()
            .await?
            .into_iter()
            .map(|r| (r.value.declaration_key, r.value.declaration_version))
            .collect();
        check.half_written = versions.symmetric_difference(&signed).count() as u64;
        check.audit_rows = voltex_server::audit::verify_stored_chain(store, None)
            .await?
            .rows;
    }
    Ok(check)
}
