//! The audit trail of the API: every state-changing request (POST, PUT,
//! PATCH, DELETE) and every scheduler action becomes a row of the store's
//! audit hash chain — who, what, when, from where, and how it ended.
//!
//! The chain's rules (hashing, linking, verification) live in
//! `voltex_security::audit` (`link` makes a link, `check_link` and
//! `verify_chain` check them); the store only keeps rows. This module is the
//! one place that converts between the two ([`audit_row`], [`audit_record`])
//! and appends ([`append_audit_entry`]); `voltex audit verify` uses it too.
//!
//! What a request row holds: the acting user, its role and member (as the
//! authentication layer established them from the session token; for a
//! request refused before that layer — rate-limited, timed out, to no
//! route — the user whose live session the token is; `anonymous`
//! otherwise), the method and the *route template* as action, the concrete
//! path as target, the client address, and `{"status": code}` as detail. It
//! never holds request or response bodies, query strings or header values:
//! the log is read by auditors and must not collect secrets.
//!
//! Rate-limited refusals (429) are summarised rather than logged one by one:
//! at most one row per client address per [`REFUSAL_SUMMARY_WINDOW`], whose
//! detail counts the refusals from that address left unrecorded since the
//! previous such row (`refused_unrecorded`). A flood is refused without
//! touching the database, and must not fill the disk with its own audit
//! trail either. (The count of a flood's last window is written only if that
//! address is refused again.)
//!
//! The row is written after the handler has answered, and before the answer
//! is handed back to the connection: the outcome is known and a client that
//! sees its answer can rely on its row being in the log. If the append
//! fails, the error is logged and the answer is returned unchanged — the
//! action itself has already been committed (or refused), and turning a
//! committed action into an error would make clients retry it.
use crate::AppState;
use crate::auth::{Caller, SignedInAs};
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use chrono::Utc;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use voltex_market::OPERATOR_ID;
use voltex_market::gate::ScheduledAction;
use voltex_security::SecurityError;
use voltex_security::audit::{
    AuditEntry, AuditOutcome, AuditRecord, ChainStart, ChainSummary, ChainTip, link, verify_chain,
};
use voltex_store::{AuditRow, Store, StoreError};

/// Actor of requests that name no (real) member.
pub const ANONYMOUS: &str = "anonymous";
/// Actor of the scheduler's actions.
pub const SYSTEM: &str = "system";

/// What can go wrong writing or reading the audit chain.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("audit log storage: {0}")]
    Store(#[from] StoreError),
    /// Hashing failed, or the stored chain is broken
    /// ([`SecurityError::AuditChainBroken`] names the first bad row).
    #[error(transparent)]
    Security(#[from] SecurityError),
    #[error("audit sequence number {0} is out of range")]
    SeqOutOfRange(i128),
    #[error("audit record cannot be serialised: {0}")]
    Serialise(#[from] serde_json::Error),
}

/// The stored name of an outcome (`success`, `denied`, `failed`).
pub fn outcome_name(o: AuditOutcome) -> &'static str {
    match o {
        AuditOutcome::Success => "success",
        AuditOutcome::Denied => "denied",
        AuditOutcome::Failed => "failed",
    }
}

/// The stored form of a chained record (what appenders hand to
/// [`Store::append_audit`]).
pub fn audit_row(r: &AuditRecord) -> Result<AuditRow, AuditError> {
    Ok(AuditRow {
        seq: i64::try_from(r.seq).map_err(|_| AuditError::SeqOutOfRange(r.seq.into()))?,
        at: r.at,
        actor: r.actor.clone(),
        action: r.action.clone(),
        target: r.target.clone(),
        outcome: outcome_name(r.outcome).to_owned(),
        prev_hash: r.prev_hash.clone(),
        hash: r.hash.clone(),
        body: serde_json::to_string(r)?,
    })
}

/// The record a stored row holds, after checking that the row's columns (what
/// listings and queries show) agree with its hashed body.
pub fn audit_record(row: &AuditRow) -> voltex_security::Result<AuditRecord> {
    let seq = u64::try_from(row.seq).unwrap_or(0);
    let broken = |rule: String| SecurityError::AuditChainBroken { seq, rule };
    let r: AuditRecord = serde_json::from_str(&row.body)
        .map_err(|e| broken(format!("body is not an audit record: {e}")))?;
    let differing: Vec<&str> = [
        ("seq", u64::try_from(row.seq) != Ok(r.seq)),
        ("at", row.at != r.at),
        ("actor", row.actor != r.actor),
        ("action", row.action != r.action),
        ("target", row.target != r.target),
        ("outcome", row.outcome != outcome_name(r.outcome)),
        ("prev_hash", row.prev_hash != r.prev_hash),
        ("hash", row.hash != r.hash),
    ]
    .into_iter()
    .filter_map(|(name, differs)| differs.then_some(name))
    .collect();
    if !differing.is_empty() {
        return Err(broken(format!(
            "column(s) {} of stored seq {} disagree with the hashed body (which says seq {}; row edited, renumbered or reordered)",
            differing.join(", "),
            row.seq,
            r.seq
        )));
    }
    Ok(r)
}

/// Appends `entry` to the stored chain: the record that follows the stored
/// tip, linked and hashed by [`voltex_security::audit::link`], by the
/// store's one writer (many rows share a commit under load).
pub async fn append_audit_entry(
    store: &Store,
    entry: AuditEntry,
) -> Result<AuditRecord, AuditError> {
    let row = store
        .append_audit(move |tip| -> Result<AuditRow, AuditError> {
            let tip = tip
                .map(|t| {
                    Ok::<_, AuditError>(ChainTip {
                        seq: u64::try_from(t.seq)
                            .map_err(|_| AuditError::SeqOutOfRange(t.seq.into()))?,
                        hash: t.hash,
                    })
                })
                .transpose()?;
            audit_row(&link(tip.as_ref(), entry)?)
        })
        .await?;
    Ok(audit_record(&row)?)
}

/// Reads the whole stored chain in `seq` order and verifies it. A broken
/// chain is [`AuditError::Security`] holding
/// [`SecurityError::AuditChainBroken`], naming the first row where it breaks.
pub async fn verify_stored_chain(
    store: &Store,
    expected_head: Option<(u64, &str)>,
) -> Result<ChainSummary, AuditError> {
    const PAGE: i64 = 1000;
    let mut records = Vec::new();
    let mut mismatch = None;
    let mut from = i64::MIN;
    'read: loop {
        let page = store.audit_rows(from, PAGE).await?;
        let Some(last) = page.last() else { break };
        from = last.seq + 1;
        for row in &page {
            match audit_record(row) {
                Ok(r) => records.push(r),
                Err(e) => {
                    mismatch = Some(e);
                    break 'read;
                }
            }
        }
    }
    // The chain before a row that contradicts itself may already break earlier.
    let head = if mismatch.is_some() {
        None
    } else {
        expected_head
    };
    let summary = verify_chain(&records, &ChainStart::Genesis, head)?;
    match mismatch {
        Some(e) => Err(e.into()),
        None => Ok(summary),
    }
}

/// How a response status reads in the log: refusals of identity,
/// permission or rate are `denied`; other errors `failed`.
pub fn outcome_of(status: StatusCode) -> AuditOutcome {
    match status.as_u16() {
        200..=399 => AuditOutcome::Success,
        401 | 403 | 429 => AuditOutcome::Denied,
        _ => AuditOutcome::Failed,
    }
}

fn changes_state(method: &Method) -> bool {
    matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    )
}

/// At most one rate-limited refusal per client address is recorded in this
/// window; the others are counted into the next recorded one.
pub const REFUSAL_SUMMARY_WINDOW: Duration = Duration::from_secs(1);

/// What the audit middleware needs: the market (its store, and whether a
/// named member is real) and the summary of rate-limited refusals.
#[derive(Debug, Clone)]
pub struct AuditLayer {
    app: AppState,
    refusals: Arc<Mutex<RefusalSummary>>,
}

impl AuditLayer {
    pub fn new(app: AppState) -> Self {
        Self {
            app,
            refusals: Arc::new(Mutex::new(RefusalSummary::default())),
        }
    }
}

/// Per client address: when a refusal was last recorded, and how many
/// refusals went unrecorded since.
#[derive(Debug, Default)]
struct RefusalSummary {
    by_source: HashMap<String, (Instant, u64)>,
    pruned_at: Option<Instant>,
}

impl RefusalSummary {
    /// `Some(unrecorded)` if this refusal is to be recorded (with the count
    /// of those skipped before it); `None` if it is only counted.
    fn admit(&mut self, source: &str, now: Instant) -> Option<u64> {
        if self
            .pruned_at
            .is_none_or(|t| now.saturating_duration_since(t) >= 60 * REFUSAL_SUMMARY_WINDOW)
        {
            // Entries that could not suppress anything any more, and carry no
            // count, are indistinguishable from absent ones.
            self.by_source.retain(|_, (at, n)| {
                *n > 0 || now.saturating_duration_since(*at) < REFUSAL_SUMMARY_WINDOW
            });
            self.pruned_at = Some(now);
        }
        match self.by_source.get_mut(source) {
            Some((at, n)) if now.saturating_duration_since(*at) < REFUSAL_SUMMARY_WINDOW => {
                *n += 1;
                None
            }
            Some((at, n)) => {
                let unrecorded = *n;
                *at = now;
                *n = 0;
                Some(unrecorded)
            }
            None => {
                self.by_source.insert(source.to_owned(), (now, 0));
                Some(0)
            }
        }
    }
}

/// Middleware: records every state-changing request once it is answered.
pub async fn record_request(State(layer): State<AuditLayer>, req: Request, next: Next) -> Response {
    if !changes_state(req.method()) {
        return next.run(req).await;
    }
    let at = Utc::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_owned();
    let target = req.uri().path().to_owned();
    let source = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip().to_string());
    let presented = crate::auth::bearer(req.headers())
        .ok()
        .flatten()
        .map(str::to_owned);

    let response = next.run(req).await;
    let caller = response.extensions().get::<Caller>().cloned();
    let signed_in = response.extensions().get::<SignedInAs>().cloned();

    let status = response.status();
    let mut detail = serde_json::json!({ "status": status.as_u16() });
    if status == StatusCode::TOO_MANY_REQUESTS {
        let key = source.as_deref().unwrap_or("unknown");
        let verdict = layer
            .refusals
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .admit(key, Instant::now());
        match verdict {
            None => return response,
            Some(unrecorded) => detail["refused_unrecorded"] = unrecorded.into(),
        }
    }
    let state = &layer.app;
    // The actor is whoever the authentication layer established. A token
    // that names no live session is never logged as an actor.
    let (actor, role, member_id) = match (caller, signed_in) {
        (Some(c), _) => (
            c.principal.user_id.clone(),
            Some(c.principal.role.to_string()),
            Some(c.actor.member_id.clone()),
        ),
        // A sign-in: the user it identified acts.
        (None, Some(who)) => (who.user_id, Some(who.role.to_string()), who.member_id),
        // Refused before authentication: the session the token presents.
        (None, None) => match presented {
            Some(token) => {
                match crate::accounts::session_principal(state.market.store(), &token, at).await {
                    Ok(p) => {
                        let member = p.member_id.unwrap_or_else(|| OPERATOR_ID.to_owned());
                        (p.user_id, Some(p.role.to_string()), Some(member))
                    }
                    Err(_) => (ANONYMOUS.to_owned(), None, None),
                }
            }
            None => (ANONYMOUS.to_owned(), None, None),
        },
    };
    let entry = AuditEntry {
        at,
        actor,
        role,
        member_id,
        action: format!("{method} {route}"),
        target,
        source,
        outcome: outcome_of(status),
        detail,
    };
    if let Err(e) = append_audit_entry(state.market.store(), entry).await {
        tracing::error!(
            error = %e,
            method = %method,
            route = %route,
            status = status.as_u16(),
            "could not append the request to the audit log; the answer stands"
        );
    }
    response
}

/// Records one scheduler action (actor `system`, action `scheduler.<what>`,
/// target `session/<id>`); failures are logged, as
/// for requests: the action has happened whether or not its row was written.
pub async fn record_scheduled(store: &Store, a: &ScheduledAction) {
    let entry = AuditEntry {
        at: Utc::now(),
        actor: SYSTEM.to_owned(),
        role: None,
        member_id: None,
        // `gate closed` → `scheduler.gate_closed`: one token, like other verbs.
        action: format!("scheduler.{}", a.action.replace(' ', "_")),
        target: format!("session/{}", a.session_id),
        source: None,
        outcome: AuditOutcome::Success,
        detail: serde_json::json!({}),
    };
    if let Err(e) = append_audit_entry(store, entry).await {
        tracing::error!(
            error = %e,
            session = %a.session_id,
            action = a.action,
            "could not append the scheduler action to the audit log"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limited_refusals_are_recorded_once_a_window_per_address_with_a_count() {
        let mut s = RefusalSummary::default();
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        assert_eq!(s.admit("10.0.0.1", t0), Some(0));
        assert_eq!(s.admit("10.0.0.1", t0 + ms(10)), None);
        assert_eq!(s.admit("10.0.0.1", t0 + ms(999)), None);
        assert_eq!(s.admit("10.0.0.2", t0 + ms(999)), Some(0), "per address");
        assert_eq!(s.admit("10.0.0.1", t0 + ms(1000)), Some(2));
        assert_eq!(s.admit("10.0.0.1", t0 + ms(2500)), Some(0));
    }

    #[test]
    fn idle_refusal_summaries_without_a_count_are_pruned() {
        let mut s = RefusalSummary::default();
        let t0 = Instant::now();
        s.admit("10.0.0.1", t0);
        s.admit("10.0.0.2", t0);
        s.admit("10.0.0.2", t0);
        s.admit("10.0.0.3", t0 + 60 * REFUSAL_SUMMARY_WINDOW);
        let left: Vec<_> = s.by_source.keys().map(String::as_str).collect();
        assert_eq!(left.len(), 2, "{left:?}");
        assert!(!left.contains(&"10.0.0.1"));
        assert_eq!(
            s.admit("10.0.0.2", t0 + 61 * REFUSAL_SUMMARY_WINDOW),
            Some(1)
        );
    }

    #[test]
    fn statuses_map_to_outcomes() {
        assert_eq!(outcome_of(StatusCode::CREATED), AuditOutcome::Success);
        assert_eq!(outcome_of(StatusCode::SEE_OTHER), AuditOutcome::Success);
        for s in [401, 403, 429] {
            let s = StatusCode::from_u16(s).unwrap();
            assert_eq!(outcome_of(s), AuditOutcome::Denied, "{s}");
        }
        for s in [400, 404, 409, 422, 500, 503] {
            let s = StatusCode::from_u16(s).unwrap();
            assert_eq!(outcome_of(s), AuditOutcome::Failed, "{s}");
        }
    }
}
