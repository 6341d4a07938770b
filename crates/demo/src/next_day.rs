//! The signed next day: every generation company signs yesterday's offer
//! (copied from history) as its first declaration of the next trading day,
//! with the certificate the demo CA issued it; the server's acceptance path
//! verifies and stores each with its signature and seals a receipt. One
//! receipt is verified offline, and a copy with a price changed after
//! signing is refused.
use crate::{DemoSummary, SigningChannel};
use anyhow::Context;
use std::path::Path;
use voltex_market::Market;
use voltex_model::{MarketKind, SessionState};
use voltex_server::signing::accept_signed;

/// Opens the day after `day`, has every company sign yesterday's offer into
/// it through `channel`, checks one receipt offline and prints the outcome.
pub async fn sign_next_day(
    market: &Market,
    summary: &DemoSummary,
    day: chrono::NaiveDate,
    dir: &Path,
    channel: &SigningChannel,
) -> anyhow::Result<()> {
    let signing = channel.signing();
    let op = market.operator().await?;
    let next = day.succ_opt().context("trading day out of range")?;
    let session = market
        .create_session(&op, MarketKind::DayAheadEnergy, next)
        .await?
        .value;
    market
        .advance_session(&op, &session.id, SessionState::Open)
        .await?;
    let mut receipts = Vec::new();
    let mut refused = String::new();
    for unit in &summary.units {
        let actor = market.actor(&unit.member_id).await?;
        let key = format!("{}:energy_offer:{}", summary.session_id, unit.id);
        let last = market
            .declaration_history(&actor, &key)
            .await?
            .last()
            .map(|d| d.version)
            .context("yesterday's offer")?;
        let draft = market
            .copy_declaration(&actor, &key, last, &session.id)
            .await?;
        let sign = || channel.sign(&unit.member_id, &session.id, &draft, 1);
        let mut submission = sign()?;
        if refused.is_empty() {
            // A price changed after signing: the signature no longer covers it.
            let mut tampered = submission.clone();
            if let Some(p) =
                tampered.declaration.envelope.body["intervals"][0]["segments"][0].get_mut("price")
            {
                *p = serde_json::json!(p.as_f64().unwrap_or(0.0) - 10.0);
            }
            if let Err(e) = accept_signed(market, signing, &actor, &session.id, tampered).await {
                refused = format!("{} ({})", e.message, e.code);
            }
        }
        submission = sign()?;
        let accepted = accept_signed(market, signing, &actor, &session.id, submission.clone())
            .await
            .map_err(|e| anyhow::anyhow!("{}: {}", e.code, e.message))?;
        receipts.push((submission, accepted.receipt));
    }
    let trust = signing.trust()?;
    let (first, receipt) = receipts.first().context("no unit signed")?;
    let check = voltex_security::receipt::verify_receipt(receipt, &trust, Some(&first.declaration))
        .context("verifying the first receipt offline")?;
    std::fs::write(
        dir.join("reports").join("receipt-example.json"),
        receipt.to_json_pretty(),
    )?;
    println!();
    println!(
        "Signed declarations for {}: {} companies, with the certificates the demo CA issued them,",
        session.id,
        receipts.len(),
    );
    println!(
        "  signed yesterday's offers and got receipts sealed by the platform; receipt {} verifies offline (declaration matched: {})",
        check.receipt_id, check.declaration_matched
    );
    println!("  a copy with a price changed after signing was refused: {refused}");
    Ok(())
}
