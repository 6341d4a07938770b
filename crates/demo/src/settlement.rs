//! Settlement of the day: the operator settles both passes, every member
//! gets a statement and the operator the residual; the summary is completed
//! with how each session cleared, what was published and how many
//! notifications the members got.
use crate::gate_and_clearing::Cleared;
use crate::summary::{DemoSummary, StatementSummary, session_outcome};
use chrono::NaiveDate;
use voltex_market::Market;

/// Settles `day` and completes the summary.
pub async fn settle(
    market: &Market,
    day: NaiveDate,
    cleared: Cleared,
) -> anyhow::Result<DemoSummary> {
    let op = market.operator().await?;
    let session = &cleared.day_ahead;
    let statements = market.settle_day(&op, day).await?;
    let public = market.publications(None, &session.id).await?.len();
    let private = market.publications(Some(&op), &session.id).await?.len() - public;
    let notifications = market
        .store()
        .row_counts()
        .await?
        .into_iter()
        .find(|(t, _)| *t == "notifications")
        .map(|(_, n)| n)
        .unwrap_or(0);
    Ok(DemoSummary {
        regulation: cleared.regulation,
        clearing: vec![
            session_outcome(&cleared.day_ahead_run.value, cleared.day_ahead_run.version),
            session_outcome(&cleared.real_time_run.value, cleared.real_time_run.version),
        ],
        statements: statements
            .iter()
            .map(|s| StatementSummary {
                member_id: s.value.member_id.clone(),
                da_total: s.value.da_total,
                rt_total: s.value.rt_total,
                total: s.value.total,
                residual: s.value.operator.clone(),
            })
            .collect(),
        publications: (public, private),
        notifications,
        session_state: market.session(&session.id).await?.value.state,
        rows_stored: market.store().row_counts().await?,
        ..cleared.summary
    })
}
